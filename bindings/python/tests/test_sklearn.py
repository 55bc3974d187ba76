"""backprop.sklearn: scikit-learn's own estimator checks, the drop-in promises (same
parameters, attributes and meanings as scikit-learn's MLPs), the ecosystem (pickle,
clone, Pipeline, GridSearchCV, cross_val_score) and the conversions both ways."""

import pickle
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn import datasets  # noqa: E402
from sklearn import neural_network as sk  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import backprop  # noqa: E402
from backprop.sklearn import EXPECTED_FAILED_CHECKS, MLPClassifier, MLPRegressor  # noqa: E402
from backprop.sklearn._base import _seed  # noqa: E402


@parametrize_with_checks([MLPClassifier(), MLPRegressor()], expected_failed_checks=lambda _: EXPECTED_FAILED_CHECKS)
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_expected_failures_are_few_and_explained():
    assert set(EXPECTED_FAILED_CHECKS) <= {
        "check_sample_weight_equivalence_on_dense_data", "check_sample_weight_equivalence_on_sparse_data",
        "check_methods_subset_invariance"}
    assert all(len(reason) > 20 for reason in EXPECTED_FAILED_CHECKS.values())


@pytest.fixture(scope="module")
def digits():
    X, y = datasets.load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def quiet_fit(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


# ---------------------------------------------------------------- the drop-in promises


def test_parameters_and_defaults_are_scikit_learns():
    for ours, theirs in ((MLPClassifier(), sk.MLPClassifier()), (MLPRegressor(), sk.MLPRegressor())):
        theirs_params = theirs.get_params()
        our_params = ours.get_params()
        assert set(theirs_params) <= set(our_params)
        assert {name: our_params[name] for name in theirs_params} == theirs_params
        assert set(our_params) - set(theirs_params) == {"dropout", "init", "threads", "standardize"}


def test_learns_digits_as_well_as_scikit_learn(digits):
    X_train, X_test, y_train, y_test = digits
    ours = quiet_fit(MLPClassifier(random_state=0), X_train, y_train)
    theirs = quiet_fit(sk.MLPClassifier(random_state=0), X_train, y_train)
    assert ours.score(X_test, y_test) >= 0.96
    assert ours.score(X_test, y_test) >= theirs.score(X_test, y_test) - 0.02
    assert ours.n_iter_ == len(ours.loss_curve_) and ours.loss_ == ours.loss_curve_[-1]
    assert ours.best_loss_ == min(ours.loss_curve_)
    assert ours.n_layers_ == 3 and ours.n_outputs_ == 10 and ours.out_activation_ == "softmax"
    assert [c.shape for c in ours.coefs_] == [(64, 100), (100, 10)]
    assert [b.shape for b in ours.intercepts_] == [(100,), (10,)]
    probabilities = ours.predict_proba(X_test)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(ours.classes_[probabilities.argmax(axis=1)], ours.predict(X_test))
    np.testing.assert_allclose(ours.predict_log_proba(X_test), np.log(probabilities))


def test_the_output_layer_is_scikit_learns_for_every_target_kind():
    X, y = datasets.make_classification(200, 6, n_informative=4, n_classes=3, random_state=0)
    binary = quiet_fit(MLPClassifier(max_iter=50, random_state=0), X, y == 1)
    assert binary.out_activation_ == "logistic" and binary.n_outputs_ == 1
    assert binary.predict_proba(X).shape == (200, 2) and binary.predict(X).dtype == bool
    Y = np.stack([y == 0, y == 1, X[:, 0] > 0], axis=1).astype(int)
    multilabel = quiet_fit(MLPClassifier(max_iter=300, random_state=0), X, Y)
    assert multilabel.out_activation_ == "logistic" and multilabel.predict(X).shape == (200, 3)
    assert (multilabel.predict(X) == Y).mean() > 0.9
    targets = np.stack([X[:, 0] + X[:, 1], X[:, 2] * 2], axis=1)
    regressor = quiet_fit(MLPRegressor(max_iter=300, random_state=0), X, targets)
    assert regressor.out_activation_ == "identity" and regressor.predict(X).shape == (200, 2)
    assert regressor.score(X, targets) > 0.9


def scikit_learn_loss(model, X, Y):
    """scikit-learn's loss of `model`'s present parameters on a full batch, from its formulas."""
    squares = sum(float((c.astype(np.float64) ** 2).sum()) for c in model.coefs_)
    penalty = 0.5 * model.alpha * squares / X.shape[0]
    if isinstance(model, MLPRegressor):
        return ((Y - model.predict(X).reshape(Y.shape)) ** 2).mean() / 2 + penalty
    p = np.clip(model.predict_proba(X), 1e-7, 1 - 1e-7)
    if model.out_activation_ == "softmax":
        return -(Y * np.log(p)).sum() / X.shape[0] + penalty
    p = p[:, 1:]
    return -(Y * np.log(p) + (1 - Y) * np.log(1 - p)).sum() / X.shape[0] + penalty


@pytest.mark.parametrize("kind", ["multiclass", "binary", "regression"])
def test_loss_is_scikit_learns_loss_with_its_l2_term(kind):
    X, y = datasets.make_classification(120, 5, n_informative=3, n_classes=3, random_state=1)
    if kind == "multiclass":
        model, targets, Y = MLPClassifier, y, np.eye(3)[y]
    elif kind == "binary":
        model, targets, Y = MLPClassifier, y == 2, (y == 2).reshape(-1, 1).astype(float)
    else:
        model, Y = MLPRegressor, np.stack([X[:, 0], X[:, 1] - X[:, 2], X[:, 3]], axis=1)
        targets = Y
    # Full batches, so an epoch's loss (taken before its one step) is the loss of the
    # parameters the epoch starts from.
    m = quiet_fit(model(hidden_layer_sizes=(8,), alpha=0.5, max_iter=3, random_state=0), X, targets)
    before = scikit_learn_loss(m, X, Y)
    m.set_params(warm_start=True, max_iter=1)
    quiet_fit(m, X, targets)
    assert m.loss_ == pytest.approx(before, rel=1e-4)
    assert len(m.loss_curve_) == 4


def test_sample_weight_is_repeating_samples_to_float32_precision():
    # scikit-learn's check_sample_weight_equivalence, with a float32 tolerance (see
    # EXPECTED_FAILED_CHECKS): over 50 epochs the two runs stay within a few ulps, while
    # over 200 Adam amplifies those roundings to 4e-4 here.
    rng = np.random.RandomState(42)
    X, y, sw = rng.rand(15, 30), rng.randint(0, 3, size=15), rng.randint(0, 5, size=15)
    for model, targets in ((MLPClassifier, y), (MLPRegressor, y.astype(float))):
        method = "predict_proba" if model is MLPClassifier else "predict"
        def fitted(inputs, outputs, **weights):
            return getattr(quiet_fit(model(random_state=0, max_iter=50), inputs, outputs, **weights), method)(X)
        weighted = fitted(X, targets, sample_weight=sw)
        repeated = fitted(X.repeat(sw, axis=0), targets.repeat(sw))
        np.testing.assert_allclose(weighted, repeated, atol=1e-5)
        assert np.abs(fitted(X, targets) - weighted).max() > 0.1  # the weights matter


@pytest.mark.parametrize("model", [MLPClassifier, MLPRegressor])
def test_a_sample_predicts_the_same_alone_and_in_a_batch(model):
    # scikit-learn's check_methods_subset_invariance, to float32 rounding (see EXPECTED_FAILED_CHECKS).
    rng = np.random.RandomState(0)
    for features in (3, 40):
        X = 3 * rng.uniform(size=(20, features))
        fitted = quiet_fit(model(random_state=0), X, (X[:, 0] > 1.5).astype(int))
        method = getattr(fitted, "predict_proba" if model is MLPClassifier else "predict")
        alone = np.concatenate([method(row.reshape(1, -1)).ravel() for row in X])
        np.testing.assert_allclose(alone, method(X).ravel(), rtol=1e-6, atol=1e-6)


def test_tol_and_n_iter_no_change_stop_as_scikit_learn():
    X, y = datasets.load_iris(return_X_y=True)
    m = quiet_fit(MLPClassifier(tol=0.5, n_iter_no_change=3, random_state=0), X, y)
    # Every epoch after the first fails to improve by 0.5: stop after 1 + (3 + 1) epochs.
    assert m.n_iter_ == 5
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(4\\) reached"):
        MLPClassifier(max_iter=4, random_state=0).fit(X, y)


def test_early_stopping_keeps_the_best_validation_score(digits):
    X_train, _, y_train, _ = digits
    m = quiet_fit(MLPClassifier(early_stopping=True, n_iter_no_change=3, random_state=0), X_train, y_train)
    assert m.best_loss_ is None and len(m.validation_scores_) == m.n_iter_
    assert m.best_validation_score_ == max(m.validation_scores_) and m.best_validation_score_ > 0.9
    # The validation split is train_test_split's, from the random state after the
    # initialisation's draw; the parameters kept are those of the best validation score.
    rng = np.random.RandomState(0)
    _seed(rng)
    _, X_val, _, y_val = train_test_split(X_train, y_train, random_state=rng, test_size=0.1)
    assert m.score(X_val, y_val) == pytest.approx(m.best_validation_score_)
    assert m.validation_scores_[-1] < m.best_validation_score_ or m.n_iter_ < 4


def test_adaptive_learning_rate_divides_by_five_as_scikit_learn(capsys):
    X, y = datasets.load_iris(return_X_y=True)
    params = dict(solver="sgd", learning_rate="adaptive", tol=10, n_iter_no_change=1, max_iter=30, verbose=True,
                  random_state=0)
    quiet_fit(sk.MLPClassifier(**params), X, y)
    theirs = capsys.readouterr().out
    m = quiet_fit(MLPClassifier(**params), X, y)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out
    # No epoch improves by 10: the count passes 1 at epoch 3, then every second epoch; 1e-3
    # is divided by 5 while above 1e-6, five times (to 3.2e-7), and epoch 13 stops.
    assert out.count("Setting learning rate to") == theirs.count("Setting learning rate to") == 5
    assert out.count("Iteration ") == theirs.count("Iteration ") == m.n_iter_ == 13
    assert out.splitlines()[-1] == theirs.splitlines()[-1]
    assert "Learning rate too small. Stopping." in out
    assert m._learning_rate == pytest.approx(1e-3 / 5 ** 5)


def test_solver_settings_become_the_libraries_optimizer():
    X, y = datasets.load_iris(return_X_y=True)
    cases = [
        (dict(), "adam"),
        (dict(solver="sgd"), "nesterov"),
        (dict(solver="sgd", nesterovs_momentum=False), "momentum"),
        (dict(solver="sgd", momentum=0), "sgd"),
    ]
    for params, optimizer in cases:
        net = quiet_fit(MLPClassifier(max_iter=2, random_state=0, **params), X, y).network
        assert net.get_option("optimizer") == optimizer
    net = quiet_fit(MLPClassifier(solver="sgd", learning_rate="invscaling", power_t=0.25, max_iter=2), X, y).network
    assert net.get_option("schedule") == "invscaling" and net.get_option("power_t") == 0.25
    assert net.get_option("weight_decay") == pytest.approx(1e-4 / 150)


def test_what_the_library_cannot_do_raises_clearly():
    X, y = datasets.load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="solver='lbfgs' is not supported.*'adam', 'sgd'"):
        MLPClassifier(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="loss='poisson' is not supported.*'squared_error'"):
        MLPRegressor(loss="poisson").fit(X, y)
    with pytest.raises(ValueError, match="'activation' parameter.*'gelu'"):
        MLPClassifier(activation="swish").fit(X, y)
    with pytest.raises(ValueError, match="'alpha' parameter"):
        MLPClassifier(alpha=-1).fit(X, y)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X)
    with pytest.raises(ValueError, match="no hidden layer"):
        MLPClassifier(hidden_layer_sizes=(), dropout=0.5).fit(X, y)


def test_the_libraries_extras():
    X, y = datasets.load_breast_cancer(return_X_y=True)  # raw features, scales up to 1e3
    raw = quiet_fit(MLPClassifier(random_state=0, max_iter=50), X, y)
    standardized = quiet_fit(MLPClassifier(random_state=0, max_iter=50, standardize=True, dropout=0.1,
                                           activation="gelu", init="pytorch", threads=1), X, y)
    assert standardized.score(X, y) > 0.97 and standardized.score(X, y) > raw.score(X, y)
    net = standardized.network
    assert net.dropout == [pytest.approx(0.1)] and net.activations[0] == "gelu" and net.threads == 1


def test_partial_fit_learns_one_epoch_at_a_time():
    X, y = datasets.load_iris(return_X_y=True)
    m = MLPClassifier(random_state=0, learning_rate_init=0.01)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        m.partial_fit(X, y)
    for _ in range(100):
        m.partial_fit(X, y, classes=[0, 1, 2])
    assert m.n_iter_ == 1 and len(m.loss_curve_) == 100 and m.score(X, y) > 0.9
    r = MLPRegressor(random_state=0)
    for _ in range(3):
        r.partial_fit(X[:, :3], X[:, 3])
    assert len(r.loss_curve_) == 3 and r.loss_curve_[2] < r.loss_curve_[0]


def test_warm_start_continues_from_the_fitted_parameters():
    X, y = datasets.load_iris(return_X_y=True)
    m = quiet_fit(MLPClassifier(max_iter=5, random_state=0, warm_start=True), X, y)
    params = m.network.parameters
    quiet_fit(m, X, y)
    assert len(m.loss_curve_) == 10 and not np.array_equal(params, m.network.parameters)
    assert m.loss_curve_[5] < m.loss_curve_[0]
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same classes"):
        m.fit(X, y == 0)


def test_each_fit_starts_a_fresh_optimizer_as_scikit_learn():
    X, y = datasets.load_iris(return_X_y=True)
    m = quiet_fit(MLPClassifier(max_iter=20, random_state=0, warm_start=True, alpha=0), X, y)
    before = m.network.parameters
    quiet_fit(m.set_params(max_iter=1), X, y)
    # Adam's first step moves every parameter by η m̂/√v̂ = η·sign(g) (one full batch):
    # exactly η = 1e-3 unless the moments of the first fit were kept.
    moved = np.abs(m.network.parameters.astype(np.float64) - before)
    assert np.mean(np.isclose(moved[moved > 0], 1e-3, rtol=1e-2)) > 0.95


def test_dataframes_and_feature_names():
    pd = pytest.importorskip("pandas")
    data = datasets.load_iris(as_frame=True)
    m = quiet_fit(MLPClassifier(max_iter=20, random_state=0), data.data, data.target)
    np.testing.assert_array_equal(m.feature_names_in_, data.data.columns)
    assert m.n_features_in_ == 4
    with pytest.warns(UserWarning, match="feature names"):
        m.predict(data.data.to_numpy())
    assert isinstance(m.predict(pd.DataFrame(data.data)), np.ndarray)


# ---------------------------------------------------------------- the ecosystem


def test_pickle_and_clone(digits, tmp_path):
    X_train, X_test, y_train, _ = digits
    m = quiet_fit(MLPClassifier(max_iter=20, random_state=0, threads=1), X_train, y_train)
    again = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(again.predict_proba(X_test), m.predict_proba(X_test))
    assert again.network.threads == 1 and again.loss_curve_ == m.loss_curve_
    fresh = clone(m)
    assert fresh.get_params() == m.get_params() and not hasattr(fresh, "classes_")
    np.testing.assert_array_equal(quiet_fit(fresh, X_train, y_train).predict_proba(X_test), m.predict_proba(X_test))


def test_pipeline_grid_search_and_cross_validation():
    X, y = datasets.load_iris(return_X_y=True)
    pipeline = make_pipeline(StandardScaler(), MLPClassifier(learning_rate_init=0.01, random_state=0))
    scores = cross_val_score(pipeline, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.9
    search = GridSearchCV(pipeline, {"mlpclassifier__hidden_layer_sizes": [(5,), (20,)],
                                     "mlpclassifier__alpha": [1e-4, 1e-2]}, cv=3, n_jobs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert search.best_score_ > 0.9 and len(search.cv_results_["params"]) == 4
    assert isinstance(search.best_estimator_[-1], MLPClassifier)


# ---------------------------------------------------------------- conversions


CONVERSIONS = [
    ("multiclass", sk.MLPClassifier, dict(hidden_layer_sizes=(7, 5), activation="tanh")),
    ("binary", sk.MLPClassifier, dict(hidden_layer_sizes=(6,), activation="logistic")),
    ("multilabel", sk.MLPClassifier, dict(hidden_layer_sizes=(6,))),
    ("regression", sk.MLPRegressor, dict(hidden_layer_sizes=(9,), activation="identity")),
    ("multioutput", sk.MLPRegressor, dict(hidden_layer_sizes=(4, 4), solver="lbfgs")),
]


def conversion_data(kind):
    X, y = datasets.make_classification(150, 5, n_informative=3, n_classes=3, random_state=3)
    targets = {
        "multiclass": y, "binary": y == 1, "multilabel": np.stack([y == 0, X[:, 0] > 0], axis=1).astype(int),
        "regression": X[:, 0] * 3 + 1, "multioutput": np.stack([X[:, 1], X[:, 2] * X[:, 3]], axis=1),
    }
    return X, targets[kind]


def assert_same_predictions(a, b, X):
    if hasattr(a, "predict_proba"):
        np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-5)
    else:
        np.testing.assert_allclose(a.predict(X), b.predict(X), atol=1e-5 * max(1, np.abs(a.predict(X)).max()))
    np.testing.assert_array_equal(a.predict(X) if hasattr(a, "classes_") else 0,
                                  b.predict(X) if hasattr(a, "classes_") else 0)


@pytest.mark.parametrize("kind, sklearn_class, params", CONVERSIONS, ids=[c[0] for c in CONVERSIONS])
def test_from_sklearn_predicts_as_scikit_learn(kind, sklearn_class, params):
    X, y = conversion_data(kind)
    theirs = quiet_fit(sklearn_class(max_iter=200, random_state=0, **params), X, y)
    ours_class = MLPClassifier if sklearn_class is sk.MLPClassifier else MLPRegressor
    ours = ours_class.from_sklearn(theirs)
    assert isinstance(ours, ours_class) and ours.get_params()["hidden_layer_sizes"] == params["hidden_layer_sizes"]
    assert ours.loss_curve_ == getattr(theirs, "loss_curve_", None) if hasattr(theirs, "loss_curve_") else True
    assert_same_predictions(ours, theirs, X)
    back = ours.to_sklearn()
    assert type(back) is sklearn_class
    assert_same_predictions(back, theirs, X)


@pytest.mark.parametrize("standardize", [False, True])
def test_to_sklearn_predicts_as_backprop(standardize):
    X, y = datasets.load_wine(return_X_y=True)
    if not standardize:  # raw wine features reach 1,680: float32 sums of them round at 1e-4
        X = StandardScaler().fit_transform(X)
    ours = quiet_fit(MLPClassifier(max_iter=100, random_state=0, standardize=standardize), X, y)
    theirs = ours.to_sklearn()
    assert type(theirs) is sk.MLPClassifier and theirs.n_iter_ == ours.n_iter_
    assert_same_predictions(ours, theirs, X)
    # scikit-learn's model keeps training from there (warm start), as any of its own.
    theirs.set_params(warm_start=True, max_iter=5)
    quiet_fit(theirs, X, y)
    assert theirs.loss_curve_[:ours.n_iter_] == ours.loss_curve_ and len(theirs.loss_curve_) > ours.n_iter_


def test_a_converted_model_trains_on_with_its_own_solver():
    X, y = datasets.load_iris(return_X_y=True)
    theirs = quiet_fit(sk.MLPClassifier(max_iter=3, random_state=0), X, y)
    ours = MLPClassifier.from_sklearn(theirs)
    ours.partial_fit(X, y)
    assert ours.network.get_option("optimizer") == "adam" and ours._learning_rate == 1e-3
    assert len(ours.loss_curve_) == 4 and ours.loss_curve_[:3] == theirs.loss_curve_


def test_a_refused_fit_changes_nothing():
    X, y = datasets.load_iris(return_X_y=True)
    m = quiet_fit(MLPClassifier(max_iter=5, random_state=0), X, y)
    with pytest.raises(ValueError, match="dropout"):
        m.set_params(dropout=1.5).fit(X[:, :3], y == 1)
    assert m.n_features_in_ == 4 and list(m.classes_) == [0, 1, 2]
    fresh = MLPClassifier(early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping"):
        fresh.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(NotFittedError):
        fresh.predict(X)


def test_conversions_refuse_what_the_other_side_lacks():
    X, y = datasets.load_iris(return_X_y=True)
    gelu = quiet_fit(MLPClassifier(activation="gelu", max_iter=5), X, y)
    with pytest.raises(ValueError, match="activation='gelu' has no scikit-learn counterpart"):
        gelu.to_sklearn()
    with pytest.raises(TypeError, match="takes a sklearn.neural_network.MLPClassifier"):
        MLPClassifier.from_sklearn(quiet_fit(sk.MLPRegressor(max_iter=5), X, y))
    with pytest.raises(NotFittedError):
        MLPClassifier.from_sklearn(sk.MLPClassifier())
    assert backprop.Network  # the package itself stays importable without touching scikit-learn
