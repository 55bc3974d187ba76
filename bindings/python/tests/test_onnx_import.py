"""ONNX import: Network.from_onnx() -- exact round trips of exported networks, its
sources and the loss (from the metadata, an explicit one, or the output layer), the
graphs it accepts (affine forms, weight storage, activations, no-ops, scikit-learn's
MLPs) and the valid models it refuses.  onnxruntime is the reference for every
imported graph (built by onnx_graphs.py)."""

import warnings

import numpy as np
import pytest

import backprop as bp
from backprop import _codes, errors

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import helper  # noqa: E402

import onnx_graphs as graphs  # noqa: E402
from onnx_checks import (  # noqa: E402
    HIDDEN,
    assert_close,
    assert_imports_like_onnxruntime,
    assert_same_network,
    checked,
    exported,
    inputs,
    metadata,
    onnxruntime_outputs,
    random_network,
    refusal,
    relu,
    scale_inputs,
    scale_targets,
)
from onnx_graphs import Chain, two_layer  # noqa: E402

#: backprop.loss metadata: the loss's name as the C library and the CLI write it.
C_LOSS_NAMES = {"mse": "mse", "cross_entropy": "cross-entropy", "huber": "huber", "l1": "l1"}


# ---------------------------------------------------------------- round trips

ROUND_TRIPS = {
    "classifier": ([4, 8, 3], ["relu", "softmax"], "cross_entropy", True, False),
    "binary": ([3, 5, 1], ["tanh", "sigmoid"], "cross_entropy", False, False),
    "sigmoid_outputs_mse": ([3, 4, 2], ["gelu", "sigmoid"], "mse", True, False),  # metadata, not the rule
    "every_activation": ([4] + [5] * len(HIDDEN) + [2], HIDDEN + ["linear"], "mse", True, True),
    "huber": ([6, 9, 7, 2], ["leaky_relu", "silu", "linear"], "huber", False, True),
    "l1": ([2, 4, 3], ["elu", "softplus"], "l1", True, False),
}


@pytest.mark.parametrize("case", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_round_trip_is_exact(case):
    layers, activations, loss, input_scaling, target_scaling = case
    net = random_network(layers, activations, loss=loss, seed=5)
    if input_scaling:
        scale_inputs(net)
    if target_scaling:
        scale_targets(net)
    blob = net.to_onnx()
    model = onnx.load_from_string(blob)
    assert metadata(model)["backprop.loss"] == C_LOSS_NAMES[loss]
    assert "-".join(map(str, layers)) in metadata(model)["backprop.layers"]
    X = inputs(20, layers[0])
    assert_close(onnxruntime_outputs(model, X), net.predict(X))
    back = bp.Network.from_onnx(blob)
    assert_same_network(net, back)  # the loss came from the metadata
    assert back.to_onnx() == blob


def test_from_onnx_reads_paths_and_bytes_like_objects(tmp_path):
    net = random_network([3, 6, 2], ["softplus", "softmax"], loss="cross_entropy")
    blob = net.to_onnx()
    net.to_onnx(tmp_path / "m.onnx")
    sources = [tmp_path / "m.onnx", str(tmp_path / "m.onnx"), blob, bytearray(blob), memoryview(blob)]
    for source in sources:
        assert_same_network(net, bp.Network.from_onnx(source))
    with pytest.raises(OSError):
        bp.Network.from_onnx(tmp_path / "absent.onnx")


@pytest.mark.parametrize(
    "activations,exported_loss,loss,expected",
    [
        (["relu", "softmax"], "cross_entropy", "mse", "mse"),
        (["relu", "linear"], "mse", "huber", "huber"),
        (["relu", "sigmoid"], "mse", "cross-entropy", "cross_entropy"),
        (["relu", "linear"], "huber", "L1", "l1"),
    ],
)
def test_an_explicit_loss_overrides_the_metadata(activations, exported_loss, loss, expected):
    net = random_network([3, 4, 2], activations, loss=exported_loss)
    back = bp.Network.from_onnx(net.to_onnx(), loss=loss)
    assert back.loss == expected
    np.testing.assert_array_equal(back.parameters, net.parameters)


def test_an_impossible_or_unknown_loss_is_refused():
    blob = random_network([3, 4, 2], ["relu", "linear"]).to_onnx()
    with pytest.raises(bp.InvalidArchitectureError):
        bp.Network.from_onnx(blob, loss="cross_entropy")  # needs a softmax or sigmoid output
    with pytest.raises(ValueError, match="hinge"):
        bp.Network.from_onnx(blob, loss="hinge")


@pytest.mark.parametrize(
    "output,exported_loss,expected",
    [("softmax", "cross_entropy", "cross_entropy"), ("sigmoid", "mse", "cross_entropy"),
     ("linear", "huber", "mse"), ("relu", "l1", "mse")],
)
def test_without_metadata_the_loss_follows_the_output_layer(output, exported_loss, expected):
    model = exported(random_network([3, 4, 2], ["tanh", output], loss=exported_loss))
    del model.metadata_props[:]
    assert bp.Network.from_onnx(model.SerializeToString()).loss == expected


# ---------------------------------------------------------------- import: what it accepts

AFFINE_FORMS = {
    "gemm_transB": lambda g, n: g.gemm(n),
    "gemm_untransposed": lambda g, n: g.gemm(n, trans_b=0),
    "gemm_alpha_beta": lambda g, n: g.gemm(n, alpha=0.5, beta=2.0),
    "gemm_bias_row": lambda g, n: g.gemm(n, trans_b=0, bias="row"),
    "gemm_no_bias": lambda g, n: g.gemm(n, bias=None),
    "matmul": lambda g, n: g.matmul(n),
    "matmul_add": lambda g, n: g.matmul(n, add="right"),
    "matmul_add_bias_first": lambda g, n: g.matmul(n, add="left"),
    "matmul_add_row": lambda g, n: g.matmul(n, add="right", bias="row"),
}


@pytest.mark.parametrize("affine", AFFINE_FORMS.values(), ids=AFFINE_FORMS.keys())
def test_imports_the_affine_forms(affine):
    g = Chain(4)
    affine(g, 6)
    g.apply("Tanh")
    affine(g, 3)
    net = assert_imports_like_onnxruntime(g.model())
    assert (net.layers, net.activations, net.loss) == ((4, 6, 3), ("tanh", "linear"), "mse")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float", "double"])
@pytest.mark.parametrize("weights", ["raw", "float_data", "constant"])
def test_imports_every_weight_storage(weights, dtype):
    g = two_layer(relu, weights=weights, dtype=dtype)
    stored = [t for t in g.initializers] + [a.t for n in g.nodes for a in n.attribute if a.name == "value"]
    assert stored and all(bool(t.raw_data) == (weights != "float_data") for t in stored)
    net = assert_imports_like_onnxruntime(g.model())
    assert net.layers == (4, 6, 3)


def act(build, name, opset=17):
    """A case: how the Chain builds the activation, its backprop name, the opset it needs."""
    return build, name, opset


IMPORTED_ACTIVATIONS = {
    "Relu": act(relu, "relu"),
    "LeakyRelu": act(lambda g: g.apply("LeakyRelu", alpha=0.01), "leaky_relu"),
    "Sigmoid": act(lambda g: g.apply("Sigmoid"), "sigmoid"),
    "Tanh": act(lambda g: g.apply("Tanh"), "tanh"),
    "Softmax_axis1": act(lambda g: g.apply("Softmax", axis=1), "softmax"),
    "Softmax_axis-1": act(lambda g: g.apply("Softmax", axis=-1), "softmax"),
    "Identity": act(lambda g: g.apply("Identity"), "linear"),
    "Elu": act(lambda g: g.apply("Elu", alpha=1.0), "elu"),
    "Softplus": act(lambda g: g.apply("Softplus"), "softplus"),
    "Gelu": act(lambda g: g.apply("Gelu", approximate="none"), "gelu", opset=20),
    "Gelu_default": act(lambda g: g.apply("Gelu"), "gelu", opset=20),
    "SiLU": act(lambda g: g.silu(), "silu"),
    "SiLU_sigmoid_first": act(lambda g: g.silu(sigmoid_first=True), "silu"),
    "GELU_torch": act(lambda g: g.torch_gelu(), "gelu"),
}


@pytest.mark.parametrize("position", ["hidden", "output"])
@pytest.mark.parametrize("case", IMPORTED_ACTIVATIONS.values(), ids=IMPORTED_ACTIVATIONS.keys())
def test_imports_the_activations(case, position):
    build, name, opset = case
    if position == "hidden" and name == "softmax":
        pytest.skip("softmax is an output activation (refused on a hidden layer: see below)")
    if position == "hidden":
        g, expected = two_layer(build, opset=opset), (name, "linear")
    else:
        g, expected = two_layer(relu, build, opset=opset), ("relu", name)
    net = assert_imports_like_onnxruntime(g.model())
    assert net.activations == expected and net.layers == (4, 6, 3)
    assert net.loss == ("cross_entropy" if expected[-1] in ("softmax", "sigmoid") else "mse")


NO_OPS = {
    "identity_first": ("first", lambda g: g.apply("Identity")),
    "identity_between": ("between", lambda g: g.apply("Identity")),
    "cast_first": ("first", lambda g: g.apply("Cast", to=onnx.TensorProto.FLOAT)),
    "cast_between": ("between", lambda g: g.apply("Cast", to=onnx.TensorProto.FLOAT)),
    "dropout": ("between", lambda g: g.apply("Dropout")),
    "flatten_first": ("first", lambda g: g.apply("Flatten", axis=1)),
    "reshape_first": ("first", lambda g: g.reshape(-1)),
    "reshape_minus_one": ("between", lambda g: g.reshape(-1)),
    "reshape_zero": ("between", lambda g: g.reshape(0)),
}


@pytest.mark.parametrize("case", NO_OPS.values(), ids=NO_OPS.keys())
@pytest.mark.parametrize("weights", ["raw", "constant"])
def test_skips_the_no_ops(case, weights):
    where, no_op = case
    g = Chain(4, weights=weights)
    if where == "first":
        no_op(g)
    g.gemm(6)
    g.apply("Relu")
    if where == "between":
        no_op(g)
    g.gemm(3)
    net = assert_imports_like_onnxruntime(g.model())
    assert (net.layers, net.activations) == ((4, 6, 3), ("relu", "linear"))


def test_imports_initializers_listed_as_graph_inputs():
    model = graphs.with_initializers_as_inputs(two_layer(lambda g: g.apply("Sigmoid")).model())
    assert len(model.graph.input) > 1
    net = assert_imports_like_onnxruntime(model)
    assert net.activations == ("sigmoid", "linear")


# ---------------------------------------------------------------- import: scikit-learn's MLPs


def sklearn_mlp(kind, n_outputs=3, **options):
    """A fitted scikit-learn MLP, its ONNX model (skl2onnx) and float32 inputs."""
    skl2onnx = pytest.importorskip("skl2onnx")
    neural_network = pytest.importorskip("sklearn.neural_network")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5)).astype(np.float32)
    if kind == "classifier":
        est = neural_network.MLPClassifier(random_state=0, max_iter=60, **options)
        score = X[:, 0] + X[:, 1] * X[:, 2]
        y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_outputs + 1)[1:-1]))  # balanced classes
    else:
        est = neural_network.MLPRegressor(random_state=0, max_iter=60, **options)
        y = X[:, :n_outputs] @ rng.normal(size=(n_outputs, n_outputs)) + np.sin(X[:, -n_outputs:])
        y = y[:, 0] if n_outputs == 1 else y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: a few epochs are enough here
        est.fit(X.astype(np.float64), y)
    return est, skl2onnx.to_onnx(est, X[:1]), X


SKLEARN_ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid"}


@pytest.mark.parametrize("activation", SKLEARN_ACTIVATIONS)
def test_imports_a_multiclass_mlp_classifier(activation):
    est, model, X = sklearn_mlp("classifier", n_outputs=3, hidden_layer_sizes=(8, 5), activation=activation)
    net = bp.Network.from_onnx(model.SerializeToString())
    assert net.layers == (5, 8, 5, 3)
    assert net.activations == (SKLEARN_ACTIVATIONS[activation],) * 2 + ("softmax",)
    assert net.loss == "cross_entropy"
    assert_close(net.predict(X), est.predict_proba(X.astype(np.float64)))


def test_imports_a_binary_mlp_classifier_as_one_sigmoid_output():
    est, model, X = sklearn_mlp("classifier", n_outputs=2, hidden_layer_sizes=(7,))
    assert {"Sub", "Concat"} <= {node.op_type for node in model.graph.node}
    net = bp.Network.from_onnx(model.SerializeToString())
    assert (net.layers, net.activations, net.loss) == ((5, 7, 1), ("relu", "sigmoid"), "cross_entropy")
    assert_close(net.predict(X)[:, 0], est.predict_proba(X.astype(np.float64))[:, 1])


@pytest.mark.parametrize("n_outputs,activation", [(1, "relu"), (2, "tanh")])
def test_imports_an_mlp_regressor(n_outputs, activation):
    est, model, X = sklearn_mlp("regressor", n_outputs=n_outputs, hidden_layer_sizes=(9,), activation=activation)
    net = bp.Network.from_onnx(model.SerializeToString())
    assert (net.layers, net.activations, net.loss) == ((5, 9, n_outputs), (activation, "linear"), "mse")
    assert_close(net.predict(X), est.predict(X.astype(np.float64)).reshape(len(X), n_outputs))


# ---------------------------------------------------------------- import: what it refuses


def activation_before_affine():
    g = Chain(4)
    g.apply("Relu", name="pre_act")
    g.gemm(6)
    g.gemm(3)
    return g.model()


def gemm_transposed_input():
    g = Chain(4, batch=4)  # A' = xᵀ: the batch is the inner dimension, fixed to the width
    g.gemm(3, trans_a=1, name="gemm_t")
    return g.model()


def cast_through_integers():
    """Gemm -> Relu -> Cast(to=INT64) -> Cast(to=FLOAT) -> Gemm: rounds the activations
    (only a Cast to float is a no-op)."""
    def hidden(g):
        relu(g)
        g.apply("Cast", name="cast_int", to=onnx.TensorProto.INT64)
        g.apply("Cast", to=onnx.TensorProto.FLOAT)

    return two_layer(hidden).model()


def one_minus_probability(g):
    """Sigmoid -> Sub(1, p) as the output: post-processing-like nodes with no label step
    are a computation the network would drop, so they are refused."""
    g.apply("Sigmoid")
    g.apply("Sub", g.constant(np.float32(1)), None, name="complement")


UNSUPPORTED_NODES = {
    "conv": (lambda: graphs.conv_first("conv1"), "conv1", "Conv"),
    "batch_normalization": (lambda: two_layer(lambda g: g.batchnorm("bn7")).model(), "bn7", "BatchNormalization"),
    "if": (lambda: graphs.control_flow_in_chain("If", "branch3"), "branch3", "If"),
    "loop": (lambda: graphs.control_flow_in_chain("Loop", "loop4"), "loop4", "Loop"),
    "leaky_relu_alpha": (lambda: two_layer(lambda g: g.apply("LeakyRelu", name="lrelu5", alpha=0.2)).model(),
                         "lrelu5", "LeakyRelu"),
    "elu_alpha": (lambda: two_layer(lambda g: g.apply("Elu", name="elu6", alpha=2.0)).model(), "elu6", "Elu"),
    "softmax_axis0": (lambda: two_layer(relu, lambda g: g.apply("Softmax", name="softmax0", axis=0)).model(),
                      "softmax0", "Softmax"),
    "gelu_tanh": (lambda: two_layer(lambda g: g.apply("Gelu", name="gelu8", approximate="tanh"), opset=20).model(),
                  "gelu8", "Gelu"),
    "gemm_transA": (gemm_transposed_input, "gemm_t", "Gemm"),
    "cast_to_integers": (cast_through_integers, "cast_int", "Cast"),
    "two_activations": (lambda: two_layer(lambda g: (relu(g), g.apply("Sigmoid", name="second_act"))).model(),
                        "second_act", "Sigmoid"),
    "activation_first": (activation_before_affine, "pre_act", "Relu"),
    "sub_without_labels": (lambda: two_layer(relu, one_minus_probability).model(), "complement", "Sub"),
}


@pytest.mark.parametrize("case", UNSUPPORTED_NODES.values(), ids=UNSUPPORTED_NODES.keys())
def test_refuses_a_node_it_cannot_represent_and_names_it(case):
    build, name, op = case
    model = checked(build())  # a valid model...
    error = refusal(model)  # ...that the library cannot represent
    assert error.status == 18 == bp.UnsupportedModelError.STATUS
    assert name in str(error) and op in str(error), str(error)


def two_inputs():
    g = two_layer(relu)
    return g.model(extra_inputs=[helper.make_tensor_value_info("x2", onnx.TensorProto.FLOAT, ["N", 4])])


def weight_as_input():
    g = Chain(4)
    g.apply("Gemm", None, "W", g.constant(np.zeros(3, np.float32)), width=3, transB=1)
    return g.model(extra_inputs=[helper.make_tensor_value_info("W", onnx.TensorProto.FLOAT, [3, 4])])


UNREPRESENTABLE = {
    "two_graph_inputs": lambda: checked(two_inputs()),
    "weight_is_a_graph_input": lambda: checked(weight_as_input()),
    "external_data": lambda: graphs.with_external_weights(two_layer(relu).model()),
    "int8_weights": lambda: graphs.with_weight_type(two_layer(relu).model(), onnx.TensorProto.INT8),
    "float16_weights": lambda: graphs.with_weight_type(two_layer(relu).model(), onnx.TensorProto.FLOAT16),
}


@pytest.mark.parametrize("build", UNREPRESENTABLE.values(), ids=UNREPRESENTABLE.keys())
def test_refuses_models_it_cannot_represent(build):
    assert refusal(build()).status == 18


def test_refuses_softmax_on_a_hidden_layer_by_the_library_rule():
    model = checked(two_layer(lambda g: g.apply("Softmax", axis=-1)).model())
    assert refusal(model, bp.InvalidArchitectureError).status == _codes.BP_ERROR_INVALID_ARCHITECTURE


def test_unsupported_model_error():
    assert issubclass(bp.UnsupportedModelError, bp.BackpropError)
    assert issubclass(bp.UnsupportedModelError, ValueError)
    assert bp.UnsupportedModelError.STATUS == _codes.BP_ERROR_UNSUPPORTED_MODEL == 18
    assert type(errors.error_for_status(18, "m")) is bp.UnsupportedModelError
    assert "UnsupportedModelError" in bp.__all__
