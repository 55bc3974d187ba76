"""Writes fuzz/corpus/onnx: real ONNX models for fuzz_onnx.c to start from.

    BACKPROP_LIBRARY=.build/release/libbackprop.so python3 fuzz/make_onnx_corpus.py fuzz/corpus/onnx

The seeds are the library's own exports (every activation, with and without input and
target scaling), skl2onnx's exports of fitted MLPClassifier (multi-class and binary),
MLPRegressor and a StandardScaler pipeline, and graphs in the forms torch.onnx writes
(MatMul + Add, Constant weights, Flatten, SiLU and GELU decompositions), each small enough
for libFuzzer's -max_len. Needs numpy, onnx, scikit-learn and skl2onnx.
"""

import pathlib
import sys
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "bindings" / "python"))
import backprop as bp  # noqa: E402

RNG = np.random.default_rng(7)


def own_exports():
    shapes = [([3, 4, 2], ["relu", "softmax"]), ([2, 3, 1], ["tanh", "sigmoid"]), ([3, 3, 2], ["gelu", "linear"]),
              ([2, 4, 2], ["silu", "elu"]), ([2, 2, 2], ["softplus", "leaky_relu"])]
    for index, (sizes, activations) in enumerate(shapes):
        loss = "cross_entropy" if activations[-1] in ("softmax", "sigmoid") else "huber"
        net = bp.Network(sizes, activations, loss=loss, seed=index)
        yield f"backprop-{index}", net.to_onnx()
    net = bp.Network([3, 4, 2], ["tanh", "linear"], loss="mse", seed=9)
    net.standardize(RNG.normal(size=(20, 3)).astype(np.float32))
    net.standardize_targets(RNG.normal(size=(20, 2)).astype(np.float32))
    yield "backprop-scaled", net.to_onnx()


def sklearn_exports():
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from skl2onnx import to_onnx

    x = RNG.normal(size=(40, 3)).astype(np.float32)
    estimators = {
        "skl-multiclass": (MLPClassifier((4,), max_iter=20), RNG.integers(0, 3, 40)),
        "skl-binary": (MLPClassifier((3, 2), activation="tanh", max_iter=20), RNG.integers(0, 2, 40)),
        "skl-regressor": (MLPRegressor(hidden_layer_sizes=(4,), activation="logistic", max_iter=20), RNG.normal(size=(40, 2))),
        "skl-pipeline": (make_pipeline(StandardScaler(), MLPClassifier((4,), max_iter=20)), RNG.integers(0, 3, 40)),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (estimator, y) in estimators.items():
            estimator.fit(x, y)
            yield name, to_onnx(estimator, x[:1]).SerializeToString()


def torch_like():
    """z = x W^T + b as MatMul + Add, a Flatten in front, SiLU and GELU decomposed."""
    w1, b1 = RNG.normal(size=(3, 4)).astype(np.float32), RNG.normal(size=4).astype(np.float32)
    w2, b2 = RNG.normal(size=(4, 2)).astype(np.float32), RNG.normal(size=2).astype(np.float32)
    constant = lambda name, value: helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name))
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], axis=1),
        constant("w1", w1), constant("b1", b1),
        helper.make_node("MatMul", ["f", "w1"], ["m1"]), helper.make_node("Add", ["m1", "b1"], ["z1"]),
        helper.make_node("Sigmoid", ["z1"], ["s1"]), helper.make_node("Mul", ["z1", "s1"], ["a1"]),
        helper.make_node("Gemm", ["a1", "w2", "b2"], ["z2"], alpha=0.5, beta=2.0),
        constant("sqrt2", np.array(1.4142135, np.float32)), constant("one", np.array(1, np.float32)),
        constant("half", np.array(0.5, np.float32)),
        helper.make_node("Div", ["z2", "sqrt2"], ["d"]), helper.make_node("Erf", ["d"], ["e"]),
        helper.make_node("Add", ["e", "one"], ["p"]), helper.make_node("Mul", ["z2", "p"], ["g"]),
        helper.make_node("Mul", ["g", "half"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "torch_like", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
        initializer=[numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(b2, "b2")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    yield "torch-like", model.SerializeToString()


def main(directory):
    out = pathlib.Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for source in (own_exports, sklearn_exports, torch_like):
        for name, data in source():
            assert len(data) <= 16384, f"{name} is {len(data)} bytes, beyond scripts/fuzz's -max_len"
            (out / name).write_bytes(data)
            print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/onnx")
