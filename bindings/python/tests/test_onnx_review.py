"""ONNX import: the cases a review found (a crash, quadratic time, memory out of
proportion, and graphs the import once read differently from onnxruntime), each now
refused with UnsupportedModelError, or, for the quadratic case, fast."""

import time

import numpy as np
import pytest

import backprop as bp

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from onnx_checks import refusal  # noqa: E402
from onnx_graphs import model_of  # noqa: E402

W = np.random.default_rng(0).normal(size=(3, 3)).astype(np.float32)


def graph(nodes, initializers, outputs=("Y",), output_type=TensorProto.FLOAT):
    """A model of input X [N, 3] through `nodes` to `outputs`."""
    tensors = [value if isinstance(value, onnx.TensorProto) else numpy_helper.from_array(np.asarray(value, np.float32), name)
               for name, value in initializers.items()]
    return model_of(helper.make_graph(
        nodes, "review", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info(name, output_type, None) for name in outputs], initializer=tensors))


def gelu_nodes(z, divide):
    return [helper.make_node("Div", divide, ["d"]), helper.make_node("Erf", ["d"], ["e"]),
            helper.make_node("Add", ["e", "one"], ["s"]), helper.make_node("Mul", [z, "s"], ["p"]),
            helper.make_node("Mul", ["p", "half"], ["Y"])]


GELU_CONSTANTS = {"W": W, "sqrt2": np.float32(np.sqrt(2)), "one": np.float32(1), "half": np.float32(0.5)}

REFUSED = {
    # A zero dimension once sized the biases by the other dimension (2^40 floats): an abort.
    "zero_dimension_matmul": lambda: graph([helper.make_node("MatMul", ["X", "W"], ["Y"])],
                                           {"W": helper.make_tensor("W", TensorProto.FLOAT, [0, 2**40], [])}),
    "zero_dimension_gemm": lambda: graph([helper.make_node("Gemm", ["X", "W"], ["Y"], transB=1)],
                                         {"W": helper.make_tensor("W", TensorProto.FLOAT, [2**40, 0], [])}),
    "dropout_without_outputs": lambda: graph([helper.make_node("MatMul", ["X", "W"], ["Y"]),
                                              helper.make_node("Dropout", ["Y"], [])], {"W": W}),
    # GELU's form with z as the divisor is another function.
    "gelu_with_z_as_divisor": lambda: graph([helper.make_node("Gemm", ["X", "W"], ["z"])]
                                            + gelu_nodes("z", ["sqrt2", "z"]), GELU_CONSTANTS),
    # Outputs that post-processing would have hidden.
    "output_after_an_unused_argmax": lambda: graph(
        [helper.make_node("Gemm", ["X", "W"], ["y"]), helper.make_node("Sub", ["y", "c"], ["Y"]),
         helper.make_node("ArgMax", ["y"], ["label"], axis=1)], {"W": W, "c": [5, 5, 5]}),
    "a_hidden_value_as_the_output": lambda: graph(
        [helper.make_node("Gemm", ["X", "W"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("Gemm", ["r", "W2"], ["y"]), helper.make_node("ArgMax", ["y"], ["label"], axis=1)],
        {"W": W, "W2": W}, outputs=("h",)),
    "probabilities_cast_to_integers": lambda: graph(
        [helper.make_node("Gemm", ["X", "W"], ["y"]), helper.make_node("Cast", ["y"], ["Y"], to=TensorProto.INT64),
         helper.make_node("ArgMax", ["y"], ["label"], axis=1)], {"W": W}, output_type=TensorProto.INT64),
    # A C of [n, 1] broadcasts over the batch, not over the units.
    "gemm_bias_per_row": lambda: graph([helper.make_node("Gemm", ["X", "W", "C"], ["Y"])], {"W": W, "C": [[1], [2], [3]]}),
    # An attribute of the wrong type was read as 0.
    "alpha_as_an_integer": lambda: graph([helper.make_node("Gemm", ["X", "W"], ["Y"], alpha=2)], {"W": W}),
    # Caps on entries, so tiny empty ones cannot cost a hundred times the file in memory.
    "too_many_attributes": lambda: graph([helper.make_node("Relu", ["X"], ["Y"], **{f"a{i}": 1 for i in range(17)})], {}),
    "too_many_nodes": lambda: graph([helper.make_node("MatMul", ["X", "W"], ["y0"])]
                                    + [helper.make_node("Identity", [f"y{i}"], [f"y{i + 1}"]) for i in range(16_384)]
                                    + [helper.make_node("Identity", ["y16384"], ["Y"])], {"W": W}),
}


@pytest.mark.parametrize("build", REFUSED.values(), ids=REFUSED.keys())
def test_the_review_cases_are_refused(build):
    refusal(build())


def test_gelu_with_z_as_the_dividend_still_imports_like_onnxruntime():
    model = graph([helper.make_node("Gemm", ["X", "W"], ["z"])] + gelu_nodes("z", ["z", "sqrt2"]), GELU_CONSTANTS)
    X = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    expected = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"X": X})[0]
    net = bp.Network.from_onnx(model.SerializeToString())
    assert net.activations == ("gelu",)
    np.testing.assert_allclose(net.predict(X), expected, rtol=0, atol=1e-5)


def test_post_processing_over_many_readers_of_one_value_is_linear():
    """N Identity nodes that all read and write `y` once made the post-processing walk
    quadratic (25 s for 720 KB)."""
    nodes = ([helper.make_node("MatMul", ["X", "W"], ["y"])] + [helper.make_node("Identity", ["y"], ["y"]) for _ in range(10_000)]
             + [helper.make_node("ArgMax", ["y"], ["label"], axis=1)])
    model = graph(nodes, {"W": W}, outputs=("label",), output_type=TensorProto.INT64)
    start = time.perf_counter()
    net = bp.Network.from_onnx(model.SerializeToString())  # the labels dropped, the scores kept
    assert time.perf_counter() - start < 2
    assert net.layers == (3, 3)
