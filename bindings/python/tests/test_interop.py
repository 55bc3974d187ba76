"""Network.from_torch / to_torch and Network.from_sklearn / to_sklearn: every supported
layer and activation converts to a model that computes the network's outputs (to 1e-5 on
random inputs), the scalings are carried or folded, and whatever the library cannot
represent is refused with an error naming it.  torch and scikit-learn are skipped when
absent (each only for its own tests), and `import backprop` imports neither."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import backprop

Network = backprop.Network
ATOL = 1e-5

#: The library's activations and the torch module that is each.
TORCH_MODULES = {
    "relu": lambda nn: nn.ReLU(),
    "tanh": lambda nn: nn.Tanh(),
    "sigmoid": lambda nn: nn.Sigmoid(),
    "leaky_relu": lambda nn: nn.LeakyReLU(0.01),
    "gelu": lambda nn: nn.GELU(),
    "silu": lambda nn: nn.SiLU(),
    "softplus": lambda nn: nn.Softplus(),
    "elu": lambda nn: nn.ELU(),
    "softmax": lambda nn: nn.Softmax(dim=-1),
}
EVERY_ACTIVATION = [*TORCH_MODULES, "linear"]
SKLEARN_NAMES = {"relu": "relu", "tanh": "tanh", "sigmoid": "logistic", "linear": "identity"}


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return torch


@pytest.fixture
def sk():
    pytest.importorskip("sklearn")
    import sklearn.exceptions
    import sklearn.linear_model
    import sklearn.neural_network
    import sklearn.pipeline
    import sklearn.preprocessing

    return sklearn


def inputs(width, rows=64, seed=1):
    return (np.random.default_rng(seed).standard_normal((rows, width)) * 2).astype(np.float32)


def default_loss(output):
    return "cross_entropy" if output in ("softmax", "sigmoid") else "mse"


def network(layers, activations, seed=0):
    return Network(layers, activations, loss=default_loss(activations[-1]), seed=seed)


def hidden_and_output(name):
    """(hidden, output) activations that put `name` wherever the library allows it."""
    return ("tanh" if name == "softmax" else name), name


def scale_inputs(net, seed=2):
    rng = np.random.default_rng(seed)
    net.set_input_scaling(rng.standard_normal(net.input_size), rng.uniform(0.5, 2, net.input_size))


def torch_outputs(torch, module, X):
    with torch.no_grad():
        return module.eval()(torch.from_numpy(X)).numpy()


def assert_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=0, atol=ATOL)


# ---------------------------------------------------------------- from_torch


@pytest.mark.parametrize("name", TORCH_MODULES)
def test_from_torch_reads_every_activation(torch, name):
    nn = torch.nn
    hidden, output = hidden_and_output(name)
    module = nn.Sequential(nn.Linear(5, 8), TORCH_MODULES[hidden](nn), nn.Linear(8, 3), TORCH_MODULES[output](nn))
    net = Network.from_torch(module)
    assert net.layers == (5, 8, 3)
    assert net.activations == (hidden, output)
    assert net.loss == default_loss(output)
    X = inputs(5)
    assert_close(net.predict(X), torch_outputs(torch, module, X))


STRUCTURES = {
    "flatten-dropout-identity": (
        lambda nn: nn.Sequential(nn.Flatten(), nn.Linear(4, 6), nn.Dropout(0.5), nn.ReLU(), nn.Identity(),
                                 nn.Linear(6, 2)),
        ("relu", "linear")),
    "nested-no-bias": (
        lambda nn: nn.Sequential(nn.Sequential(nn.Linear(4, 6), nn.SiLU()),
                                 nn.Sequential(nn.Linear(6, 5, bias=False), nn.Sequential(nn.Identity(), nn.Tanh())),
                                 nn.Linear(5, 2), nn.Sigmoid()),
        ("silu", "tanh", "sigmoid")),
    "linear-between-linears": (
        lambda nn: nn.Sequential(nn.Linear(4, 6), nn.Linear(6, 3, bias=False), nn.ELU(), nn.Linear(3, 2)),
        ("linear", "elu", "linear")),
}


@pytest.mark.parametrize("build, activations", STRUCTURES.values(), ids=STRUCTURES)
def test_from_torch_skips_no_ops_and_flattens_nesting(torch, build, activations):
    module = build(torch.nn).train()  # Dropout is skipped whatever the mode
    net = Network.from_torch(module)
    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    assert net.layers == (4, *(m.out_features for m in linears))
    assert net.activations == activations
    for l, linear in enumerate(linears, start=1):
        np.testing.assert_array_equal(net.weights(l), linear.weight.detach().numpy())
        bias = np.zeros(linear.out_features) if linear.bias is None else linear.bias.detach().numpy()
        np.testing.assert_array_equal(net.biases(l), bias)
    X = inputs(4)
    assert_close(net.predict(X), torch_outputs(torch, module, X))


@pytest.mark.parametrize("output, loss", [("softmax", "mse"), ("sigmoid", "l1"), ("tanh", "huber"), (None, "l1")])
def test_from_torch_honours_an_explicit_loss(torch, output, loss):
    nn = torch.nn
    module = nn.Sequential(nn.Linear(3, 2), *([TORCH_MODULES[output](nn)] if output else []))
    assert Network.from_torch(module, loss=loss).loss == loss


@pytest.mark.parametrize("as_numpy", [False, True], ids=["tensors", "arrays"])
def test_from_torch_reads_a_state_dict_with_activations(torch, as_numpy):
    nn = torch.nn
    module = nn.Sequential(nn.Linear(5, 7), nn.GELU(), nn.Dropout(), nn.Linear(7, 4, bias=False), nn.Softmax(-1))
    state = module.state_dict()  # 0.weight, 0.bias, 3.weight
    if as_numpy:
        state = {key: value.numpy() for key, value in state.items()}
    net = Network.from_torch(state, activations=["gelu", "softmax"])
    assert (net.layers, net.activations, net.loss) == ((5, 7, 4), ("gelu", "softmax"), "cross_entropy")
    np.testing.assert_array_equal(net.biases(2), np.zeros(4))
    X = inputs(5)
    assert_close(net.predict(X), torch_outputs(torch, module, X))


def _tensors(torch, **shapes):
    """A state_dict of ones: keys spelled with "_" for "." (w0 = "0.weight", b0 = "0.bias")."""
    names = {"w": "weight", "b": "bias"}
    return {f"{key[1:]}.{names[key[0]]}": torch.ones(*shape) for key, shape in shapes.items()}


#: (source, keyword arguments) of what the library cannot represent, and the error's naming of it.
def _ScaledLinear(*sizes):
    """An nn.Linear subclass whose forward computes something else: matched by name it
    would be read as a plain Linear."""
    from torch import nn

    class _ScaledLinear(nn.Linear):
        def forward(self, x):
            return 2 * super().forward(x)

    return _ScaledLinear(*sizes)


TORCH_REFUSALS = {
    "leaky-relu-0.2": (lambda t, nn: (nn.Sequential(nn.Linear(3, 3), nn.LeakyReLU(0.2)), {}),
                       r"LeakyReLU\(negative_slope=0\.2\)"),
    "elu-alpha-2": (lambda t, nn: (nn.Sequential(nn.Linear(3, 3), nn.ELU(alpha=2.0)), {}), r"ELU\(alpha=2\.0\)"),
    "gelu-tanh": (lambda t, nn: (nn.Sequential(nn.Linear(3, 3), nn.GELU(approximate="tanh")), {}),
                  r"GELU\(approximate='tanh'\)"),
    "softmax-dim-0": (lambda t, nn: (nn.Sequential(nn.Linear(3, 3), nn.Softmax(dim=0)), {}), r"Softmax\(dim=0\)"),
    "conv1d": (lambda t, nn: (nn.Sequential(nn.Linear(3, 3), nn.Conv1d(1, 1, 1)), {}), r"module 1 is Conv1d"),
    "activation-first": (lambda t, nn: (nn.Sequential(nn.ReLU(), nn.Linear(3, 3)), {}), r"module 0 \(ReLU\)"),
    "two-activations": (lambda t, nn: (nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Tanh()), {}),
                        r"module 2 \(Tanh\)"),
    "mid-flatten": (lambda t, nn: (nn.Sequential(nn.Linear(3, 3), nn.Flatten(), nn.Linear(3, 2)), {}),
                    r"module 1 is Flatten"),
    "module-with-activations": (lambda t, nn: (nn.Sequential(nn.Linear(3, 3)), {"activations": ["relu"]}),
                                r"activations= is for a state_dict"),
    "state-dict-without-activations": (lambda t, nn: (nn.Linear(3, 2).state_dict(), {}), r"activations=\[\.\.\.\]"),
    "wrong-activation-count": (lambda t, nn: (nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).state_dict(),
                                              {"activations": ["relu"]}), r"1 names for 2 Linear layers"),
    "mismatched-widths": (lambda t, nn: (nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2)).state_dict(),
                                         {"activations": ["relu", "linear"]}), r"Linear layer 2 takes 5 inputs"),
    "conv-state-dict": (lambda t, nn: (nn.Sequential(nn.Conv1d(1, 2, 3)).state_dict(), {"activations": ["relu"]}),
                        r"'0\.weight'"),
    "softplus-threshold": (lambda t, nn: (nn.Sequential(nn.Linear(3, 3), nn.Softplus(threshold=0.5)), {}),
                           r"threshold=20"),
    "a-subclass-of-linear": (lambda t, nn: (nn.Sequential(_ScaledLinear(3, 3)), {}), r"module 0 is _ScaledLinear"),
    "bias-too-long": (lambda t, nn: (_tensors(t, w0=(4, 3), b0=(5,), w2=(2, 4), b2=(2,)),
                                     {"activations": ["tanh", "linear"]}), r"'0\.bias'"),
    "bias-lengths-compensate": (lambda t, nn: (_tensors(t, w0=(4, 3), b0=(5,), w2=(2, 4), b2=(1,)),
                                               {"activations": ["tanh", "linear"]}), r"'0\.bias'"),
}


@pytest.mark.parametrize("build, message", TORCH_REFUSALS.values(), ids=TORCH_REFUSALS)
def test_from_torch_refuses_what_the_library_cannot_represent(torch, build, message):
    source, kwargs = build(torch, torch.nn)
    with pytest.raises(ValueError, match=message):
        Network.from_torch(source, **kwargs)


# ---------------------------------------------------------------- to_torch


@pytest.mark.parametrize("input_scaling", [False, True], ids=["raw", "input-scaling"])
@pytest.mark.parametrize("name", EVERY_ACTIVATION)
def test_to_torch_computes_predict(torch, name, input_scaling):
    hidden, output = hidden_and_output(name)
    net = network([4, 6, 5, 3], [hidden, hidden, output])
    if input_scaling:
        scale_inputs(net)
    module = net.to_torch()
    assert isinstance(module, torch.nn.Sequential) and not module.training
    assert all(p.dtype == torch.float32 for p in module.parameters())
    kinds = [type(m).__name__ for m in module]
    assert kinds.count("Linear") == 3 and len(kinds) == 3 + (hidden != "linear") * 2 + (output != "linear")
    X = inputs(4)
    assert_close(torch_outputs(torch, module, X), net.predict(X))


@pytest.mark.parametrize("input_scaling", [False, True], ids=["raw", "input-scaling"])
@pytest.mark.parametrize("output", ["linear", "tanh"])
def test_to_torch_folds_a_target_scaling(torch, output, input_scaling):
    net = network([4, 6, 2], ["relu", output])
    shift, scale = np.array([0.5, -3.0]), np.array([2.0, 0.25])
    net.set_target_scaling(shift, scale)
    if input_scaling:
        scale_inputs(net)
    module = net.to_torch()
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    if output == "linear":  # folded into the output layer
        assert len(linears) == 2
    else:  # a diagonal Linear after the tanh
        assert len(linears) == 3 and isinstance(module[-1], torch.nn.Linear)
        np.testing.assert_allclose(module[-1].weight.detach().numpy(), np.diag(1 / scale))
        np.testing.assert_allclose(module[-1].bias.detach().numpy(), shift)
    X = inputs(4)
    assert_close(torch_outputs(torch, module, X), net.predict(X))


@pytest.mark.parametrize("name", EVERY_ACTIVATION)
def test_torch_round_trip_keeps_the_network(torch, name):
    net = network([4, 6, 3], hidden_and_output(name), seed=5)
    back = Network.from_torch(net.to_torch())
    assert (back.layers, back.activations, back.loss) == (net.layers, net.activations, net.loss)
    np.testing.assert_allclose(back.parameters, net.parameters, rtol=1e-7, atol=0)
    X = inputs(4)
    assert_close(back.predict(X), net.predict(X))


# ---------------------------------------------------------------- from_sklearn


def fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the short fits do not converge
        return model.fit(X, y)


def sklearn_mlp(sk, kind, hidden_layer_sizes, **options):
    return getattr(sk.neural_network, kind)(hidden_layer_sizes=hidden_layer_sizes, max_iter=60, random_state=0,
                                            **options)


def classification_data(task, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((150, 5)) * 2
    scores = X @ rng.standard_normal((5, 3))
    y = {"multiclass": scores.argmax(1), "binary": (scores[:, 0] > 0).astype(int),
         "multilabel": (scores > 0).astype(int)}[task]
    return X, y


#: task: (output activation, output width)
CLASSIFIER_OUTPUTS = {"multiclass": ("softmax", 3), "binary": ("sigmoid", 1), "multilabel": ("sigmoid", 3)}


@pytest.mark.parametrize("task, activation", [("multiclass", "relu"), ("multiclass", "tanh"),
                                              ("multiclass", "logistic"), ("binary", "relu"), ("multilabel", "tanh")])
def test_from_sklearn_classifier_outputs_its_probabilities(sk, task, activation):
    X, y = classification_data(task)
    mlp = fit_quietly(sklearn_mlp(sk, "MLPClassifier", (7, 6), activation=activation), X, y)
    net = Network.from_sklearn(mlp)
    hidden = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid"}[activation]
    output, width = CLASSIFIER_OUTPUTS[task]
    assert (net.layers, net.activations, net.loss) == ((5, 7, 6, width), (hidden, hidden, output), "cross_entropy")
    proba = mlp.predict_proba(X)
    assert_close(net.predict(X), proba[:, 1:] if task == "binary" else proba)


@pytest.mark.parametrize("outputs, activation", [(1, "relu"), (2, "identity")])
def test_from_sklearn_regressor(sk, outputs, activation):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((120, 5))
    y = np.sin(X @ rng.standard_normal((5, outputs)))
    mlp = fit_quietly(sklearn_mlp(sk, "MLPRegressor", (8,), activation=activation), X, y.ravel() if outputs == 1 else y)
    net = Network.from_sklearn(mlp)
    hidden = {"relu": "relu", "identity": "linear"}[activation]
    assert (net.layers, net.activations, net.loss) == ((5, 8, outputs), (hidden, "linear"), "mse")
    assert_close(net.predict(X), mlp.predict(X).reshape(len(X), outputs))


@pytest.mark.parametrize("scaler_options", [{}, {"with_mean": False}], ids=["standard", "without-mean"])
def test_from_sklearn_pipeline_scaler_becomes_the_input_scaling(sk, scaler_options):
    X, y = classification_data("multiclass")
    X = X * [1, 10, 0.1, 3, 1] + [5, -2, 0, 40, 1]
    scaler = sk.preprocessing.StandardScaler(**scaler_options)
    pipe = fit_quietly(sk.pipeline.make_pipeline(scaler, sklearn_mlp(sk, "MLPClassifier", (8,))), X, y)
    net = Network.from_sklearn(pipe)
    shift, scale = net.input_scaling
    np.testing.assert_allclose(shift, scaler.mean_ if scaler.with_mean else np.zeros(5), rtol=1e-6)
    np.testing.assert_allclose(scale, 1 / scaler.scale_, rtol=1e-6)
    assert_close(net.predict(X), pipe.predict_proba(X))


OTHER_ESTIMATORS = {
    "logistic-regression": lambda sk: sk.linear_model.LogisticRegression(),
    "minmax-pipeline": lambda sk: sk.pipeline.make_pipeline(sk.preprocessing.MinMaxScaler(),
                                                            sklearn_mlp(sk, "MLPClassifier", (4,))),
    "pipeline-of-logistic-regression": lambda sk: sk.pipeline.make_pipeline(sk.preprocessing.StandardScaler(),
                                                                            sk.linear_model.LogisticRegression()),
}


@pytest.mark.parametrize("make", OTHER_ESTIMATORS.values(), ids=OTHER_ESTIMATORS)
def test_from_sklearn_refuses_other_estimators(sk, make):
    estimator = fit_quietly(make(sk), *classification_data("multiclass"))
    with pytest.raises(TypeError, match=f"estimator is {type(estimator).__name__}"):
        Network.from_sklearn(estimator)


@pytest.mark.parametrize("make", [lambda sk: sk.neural_network.MLPClassifier(),
                                  lambda sk: sk.neural_network.MLPRegressor(),
                                  lambda sk: sk.pipeline.make_pipeline(sk.preprocessing.StandardScaler(),
                                                                       sk.neural_network.MLPRegressor())],
                         ids=["classifier", "regressor", "pipeline"])
def test_from_sklearn_refuses_an_unfitted_mlp(sk, make):
    with pytest.raises(sk.exceptions.NotFittedError):
        Network.from_sklearn(make(sk))


# ---------------------------------------------------------------- to_sklearn


@pytest.mark.parametrize("hidden", SKLEARN_NAMES)
@pytest.mark.parametrize("task", CLASSIFIER_OUTPUTS)
def test_to_sklearn_classifier_predicts_the_network(sk, task, hidden):
    output, width = CLASSIFIER_OUTPUTS[task]
    net = network([4, 6, 5, width], [hidden, hidden, output])
    scale_inputs(net)
    estimator = net.to_sklearn()
    assert isinstance(estimator, sk.neural_network.MLPClassifier)
    assert (estimator.hidden_layer_sizes, estimator.activation) == ((6, 5), SKLEARN_NAMES[hidden])
    X = inputs(4)
    p = net.predict(X).astype(np.float64)
    if task == "binary":
        assert_close(estimator.predict_proba(X), np.hstack([1 - p, p]))
        labels = (p[:, 0] > 0.5).astype(int)
    else:
        assert_close(estimator.predict_proba(X), p)
        labels = (p > 0.5).astype(int) if task == "multilabel" else p.argmax(1)
    np.testing.assert_array_equal(estimator.predict(X), labels)


@pytest.mark.parametrize("outputs, hidden", [(1, "relu"), (2, "tanh"), (2, "sigmoid")])
def test_to_sklearn_regressor_folds_both_scalings(sk, outputs, hidden):
    net = network([4, 6, outputs], [hidden, "linear"])
    scale_inputs(net)
    net.set_target_scaling(np.linspace(-2, 3, outputs), np.linspace(0.5, 4, outputs))
    estimator = net.to_sklearn()
    assert isinstance(estimator, sk.neural_network.MLPRegressor)
    X = inputs(4)
    assert_close(estimator.predict(X).reshape(len(X), outputs), net.predict(X))


@pytest.mark.parametrize("width, output, classes", [(3, "softmax", ["a", "b", "c"]), (1, "sigmoid", ["neg", "pos"])],
                         ids=["softmax", "sigmoid"])
def test_to_sklearn_predicts_the_given_classes(sk, width, output, classes):
    net = network([4, 6, width], ["tanh", output])
    estimator = net.to_sklearn(classes=classes)
    assert list(estimator.classes_) == classes
    X = inputs(4)
    np.testing.assert_array_equal(estimator.predict(X), np.array(classes)[net.predict_classes(X)])


TO_SKLEARN_REFUSALS = {
    "mixed-hidden": (([4, 6, 5, 3], ["relu", "tanh", "softmax"]), {}, r"hidden activations"),
    "gelu-hidden": (([4, 6, 3], ["gelu", "softmax"]), {}, r"hidden activations are \('gelu',\)"),
    "elu-output": (([4, 6, 3], ["relu", "elu"]), {}, r"output activation is 'elu'"),
    "no-hidden-layer": (([4, 3], ["softmax"]), {}, r"no hidden layer"),
    "too-few-classes": (([4, 6, 3], ["relu", "softmax"]), {"classes": ["a", "b"]}, r"classes has 2 labels"),
    "too-many-for-binary": (([4, 6, 1], ["relu", "sigmoid"]), {"classes": [0, 1, 2]}, r"classes has 3 labels"),
}


@pytest.mark.parametrize("architecture, kwargs, message", TO_SKLEARN_REFUSALS.values(), ids=TO_SKLEARN_REFUSALS)
def test_to_sklearn_refuses_what_scikit_learn_cannot_represent(sk, architecture, kwargs, message):
    with pytest.raises(ValueError, match=message):
        network(*architecture).to_sklearn(**kwargs)


# ---------------------------------------------------------------- imports


def test_import_backprop_imports_neither_torch_nor_sklearn(subprocess_env):
    code = "import backprop, sys; print('torch' in sys.modules, 'sklearn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], env=subprocess_env, capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["False", "False"]
