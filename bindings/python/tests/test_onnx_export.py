"""ONNX export: Network.to_onnx() -- the model's frame (header, signature, metadata,
paths, the dynamic batch), the Gemm and activation nodes of each layer, the scaling
around them, and onnxruntime computing what predict() does; also that importing
backprop does not import onnx.  onnx and onnxruntime check the exports."""

import subprocess
import sys

import numpy as np
import pytest

import backprop as bp

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx_checks import (  # noqa: E402
    HIDDEN,
    assert_close,
    assert_same_network,
    attribute,
    checked,
    exported,
    initializers,
    inputs,
    layer_nodes,
    metadata,
    onnxruntime_outputs,
    ops,
    random_network,
    scale_inputs,
    scale_targets,
)

#: The ops each activation exports to, Constant nodes aside: a sorted list is exactly
#: those nodes; a set says only which ops occur (GELU's decomposition may vary).
EXPORTED_OPS = {
    "relu": ["Relu"],
    "leaky_relu": ["LeakyRelu"],
    "sigmoid": ["Sigmoid"],
    "tanh": ["Tanh"],
    "softmax": ["Softmax"],
    "linear": ["Identity"],
    "elu": ["Elu"],
    "softplus": ["Softplus"],
    "silu": ["Mul", "Sigmoid"],
    "gelu": {"Add", "Div", "Erf", "Mul"},
}


# ---------------------------------------------------------------- export: the model's frame


def test_export_header_signature_and_metadata():
    net = random_network([4, 8, 3], ["tanh", "softmax"], loss="cross_entropy")
    blob = net.to_onnx()
    assert isinstance(blob, bytes)
    model = checked(onnx.load_from_string(blob))
    assert {o.domain: o.version for o in model.opset_import} == {"": 17}
    assert model.ir_version == 8
    assert model.producer_name == "backprop"

    (x,), (y,) = model.graph.input, model.graph.output  # initializers are not inputs
    for value, name, width in ((x, "input", 4), (y, "output", 3)):
        assert value.name == name
        assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        batch, features = value.type.tensor_type.shape.dim
        assert batch.dim_param and not batch.HasField("dim_value")
        assert features.dim_value == width

    meta = metadata(model)
    assert meta["backprop.version"] == bp.version()
    assert meta["backprop.loss"] == "cross-entropy"
    assert "4-8-3" in meta["backprop.layers"]


def test_to_onnx_writes_the_bytes_to_a_path(tmp_path):
    net = random_network([3, 5, 2], ["relu", "linear"])
    blob = net.to_onnx()
    for path in (tmp_path / "a.onnx", str(tmp_path / "b.onnx")):
        assert net.to_onnx(path) is None
        with open(path, "rb") as f:
            assert f.read() == blob
    assert net.to_onnx() == blob  # deterministic
    with pytest.raises(OSError):
        net.to_onnx(tmp_path / "missing" / "c.onnx")
    net.close()
    with pytest.raises(bp.StateError):
        net.to_onnx()


def test_export_batch_is_dynamic():
    net = random_network([5, 9, 4], ["elu", "sigmoid"])
    model = exported(net)
    for n in (1, 7, 64):
        X = inputs(n, 5, seed=n)
        out = onnxruntime_outputs(model, X)
        assert out.shape == (n, 4)
        assert_close(out, net.predict(X))


# ---------------------------------------------------------------- export: the layers


@pytest.mark.parametrize("hidden", HIDDEN)
def test_export_writes_gemm_and_activation_per_layer(hidden):
    net = random_network([5, 7, 6, 3], [hidden, hidden, "softmax"])
    model = exported(net)
    prefix, layers = layer_nodes(model)
    values = initializers(model)
    assert prefix == []  # no input scaling: nothing before the first layer
    assert len(layers) == 3
    for l, (gemm, activation) in enumerate(layers, start=1):
        assert attribute(gemm, "transB", 0) == 1
        assert (attribute(gemm, "transA", 0), attribute(gemm, "alpha", 1.0), attribute(gemm, "beta", 1.0)) == (0, 1, 1)
        W, b = values[gemm.input[1]], values[gemm.input[2]]
        assert W.dtype == np.float32 and W.shape == (net.layers[l], net.layers[l - 1])
        np.testing.assert_array_equal(W, net.weights(l))
        np.testing.assert_array_equal(b, net.biases(l))
        name = net.activations[l - 1]
        expected = EXPORTED_OPS[name]
        found = ops(activation)
        assert (set(found) if isinstance(expected, set) else sorted(found)) == expected, name
        for node in activation:
            if node.op_type == "LeakyRelu":
                assert attribute(node, "alpha", 0.01) == pytest.approx(0.01)
            elif node.op_type == "Elu":
                assert attribute(node, "alpha", 1.0) == 1.0
            elif node.op_type == "Softmax":
                assert attribute(node, "axis", -1) == -1


@pytest.mark.parametrize("output", list(bp.ACTIVATIONS))
@pytest.mark.parametrize("hidden", HIDDEN)
def test_onnxruntime_computes_what_predict_does(hidden, output):
    net = random_network([5, 8, 6, 4], [hidden, hidden, output], seed=len(hidden) + len(output))
    model = exported(net)
    for n in (1, 7, 64):
        X = inputs(n, 5, seed=n)
        assert_close(onnxruntime_outputs(model, X), net.predict(X))


@pytest.mark.parametrize("input_scaling", [False, True], ids=["raw_inputs", "scaled_inputs"])
@pytest.mark.parametrize("target_scaling", [False, True], ids=["raw_targets", "scaled_targets"])
def test_export_writes_the_scaling_around_the_layers(input_scaling, target_scaling):
    net = random_network([4, 6, 2], ["silu", "linear"])
    if input_scaling:
        scale_inputs(net)
    if target_scaling:
        scale_targets(net)
    model = checked(exported(net))
    values = initializers(model)
    prefix, layers = layer_nodes(model)
    if input_scaling:
        sub, mul = prefix
        assert (sub.op_type, mul.op_type) == ("Sub", "Mul")
        assert sub.input[0] == "input" and mul.input[0] == sub.output[0]
        np.testing.assert_array_equal(values[sub.input[1]], net.input_scaling[0])
        np.testing.assert_array_equal(values[mul.input[1]], net.input_scaling[1])
    else:
        assert prefix == []
    last = layers[-1][1]
    if target_scaling:
        div, add = last[-2:]
        assert ops(last[:-2]) == ["Identity"]  # the linear output, then the scaling
        assert (div.op_type, add.op_type) == ("Div", "Add")
        assert add.input[0] == div.output[0] and add.output[0] == "output"
        np.testing.assert_array_equal(values[div.input[1]], net.target_scaling[1])
        np.testing.assert_array_equal(values[add.input[1]], net.target_scaling[0])
    else:
        assert ops(last) == ["Identity"]  # the linear output only
    X = inputs(50, 4)
    assert_close(onnxruntime_outputs(model, X), net.predict(X))
    assert_same_network(net, bp.Network.from_onnx(model.SerializeToString()))


# ---------------------------------------------------------------- packaging


def test_importing_backprop_does_not_import_onnx(subprocess_env):
    script = "import backprop, sys; print('onnx' in sys.modules, 'onnxruntime' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], env=subprocess_env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
