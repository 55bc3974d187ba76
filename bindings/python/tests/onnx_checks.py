"""Shared checks for the ONNX tests (test_onnx_export.py, test_onnx_import.py,
test_onnx_malformed.py): random networks and inputs, onnxruntime as the reference, and
what to compare in a model (metadata, initializers, the nodes of each layer) or in an
import (the same network, the same outputs as onnxruntime, the refusal).  Imported by
those modules only after they have checked that onnx and onnxruntime exist."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

import backprop as bp

#: The activations a hidden layer may have: all but softmax.
HIDDEN = [name for name in bp.ACTIVATIONS if name != "softmax"]


def random_network(layers, activations, loss="mse", seed=0):
    """A network with random parameters of moderate size, N(0, 0.5²)."""
    net = bp.Network(layers, activations, loss=loss, seed=seed)
    net.parameters = (np.random.default_rng(seed + 100).normal(size=len(net)) * 0.5).astype(np.float32)
    return net


def inputs(n, width, seed=1):
    """Inputs N(0, 2²): both signs, into the activations' curved parts."""
    return (np.random.default_rng(seed).normal(size=(n, width)) * 2).astype(np.float32)


def scale_inputs(net, seed=2):
    rng = np.random.default_rng(seed)
    net.set_input_scaling(rng.normal(size=net.input_size), rng.uniform(0.5, 2, size=net.input_size))


def scale_targets(net, seed=3):
    rng = np.random.default_rng(seed)
    net.set_target_scaling(rng.normal(size=net.output_size) * 3, rng.uniform(0.2, 2, size=net.output_size))


def exported(net):
    return onnx.load_from_string(net.to_onnx())


def onnxruntime_outputs(model, X):
    """The first output of `model` (a ModelProto or its bytes) for X, by onnxruntime."""
    blob = model if isinstance(model, bytes) else model.SerializeToString()
    session = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})[0]


def assert_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5)


def metadata(model):
    return {p.key: p.value for p in model.metadata_props}


def initializers(model):
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def attribute(node, name, default):
    """A node's attribute, or ONNX's default when the node leaves it out."""
    values = [helper.get_attribute_value(a) for a in node.attribute if a.name == name]
    return values[0] if values else default


def layer_nodes(model):
    """(the nodes before the first Gemm, [(each Gemm, the nodes up to the next Gemm)])."""
    nodes = list(model.graph.node)
    starts = [i for i, node in enumerate(nodes) if node.op_type == "Gemm"]
    ends = starts[1:] + [len(nodes)]
    return nodes[: starts[0]], [(nodes[s], nodes[s + 1 : e]) for s, e in zip(starts, ends)]


def ops(nodes):
    return [node.op_type for node in nodes if node.op_type != "Constant"]


def assert_same_network(a, b):
    assert (a.layers, a.activations, a.loss) == (b.layers, b.activations, b.loss)
    np.testing.assert_array_equal(a.parameters, b.parameters)
    for side in ("input_scaling", "target_scaling"):
        for x, y in zip(getattr(a, side), getattr(b, side)):
            np.testing.assert_array_equal(x, y)
    X = inputs(16, a.input_size, seed=9)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def relu(g):
    g.apply("Relu")


def checked(model):
    """The model, after onnx's checker (shape and type inference included) passed it."""
    onnx.checker.check_model(model, full_check=True)
    return model


def assert_imports_like_onnxruntime(model):
    """Import the (valid) model and compare predict() with onnxruntime; the network."""
    checked(model)
    x = model.graph.input[0].type.tensor_type
    X = inputs(32, x.shape.dim[1].dim_value)
    expected = onnxruntime_outputs(model, X.astype(helper.tensor_dtype_to_np_dtype(x.elem_type)))
    net = bp.Network.from_onnx(model.SerializeToString())
    assert_close(net.predict(X), expected)
    return net


def refusal(model, error=None):
    """The exception from_onnx raises for `model` (its bytes), checked to be `error`."""
    with pytest.raises(error or bp.UnsupportedModelError) as info:
        bp.Network.from_onnx(model.SerializeToString())
    return info.value
