"""Network.metrics (bp_evaluate_metrics) against numpy on the network's own predictions,
and against scikit-learn's metrics when it is installed."""

import numpy as np
import pytest

import backprop

rng = np.random.default_rng(12)
X = rng.normal(size=(50, 3)).astype(np.float32)


def test_classifier_confusion_matrix_and_accuracy():
    net = backprop.Network([3, 8, 4], ["tanh", "softmax"], loss="cross_entropy", seed=2)
    y = rng.integers(0, 4, 50)
    w = rng.uniform(0, 2, 50).astype(np.float32)
    m = net.metrics(X, y, sample_weight=w)
    predicted = net.predict_classes(X)
    want = np.zeros((4, 4))
    np.add.at(want, (y, predicted), w)
    np.testing.assert_allclose(m["confusion_matrix"], want, rtol=1e-6)
    assert m["accuracy"] == pytest.approx(np.trace(want) / w.sum(), rel=1e-6)
    assert (m["loss"], m["accuracy"]) == net.evaluate(X, y, sample_weight=w)
    assert m["r2"] is None and m["mean_absolute_error"] is None and m["root_mean_squared_error"] is None
    binary = backprop.Network([3, 1], "sigmoid", loss="cross_entropy", seed=1).metrics(X, y % 2)
    assert binary["confusion_matrix"].shape == (2, 2) and binary["confusion_matrix"].sum() == 50


def test_regressor_errors_and_r2():
    net = backprop.Network([3, 6, 2], ["relu", "linear"], loss="mse", seed=4)
    Y = np.column_stack([X[:, 0] * 2 + 1000, X[:, 1] - X[:, 2]]).astype(np.float32)  # far from 0
    m = net.metrics(X, Y)
    residual = net.predict(X).astype(np.float64) - Y
    assert m["mean_absolute_error"] == pytest.approx(np.abs(residual).mean(), rel=1e-6)
    assert m["root_mean_squared_error"] == pytest.approx(np.sqrt((residual**2).mean()), rel=1e-6)
    spread = ((Y - Y.astype(np.float64).mean(axis=0)) ** 2).sum(axis=0)
    assert m["r2"] == pytest.approx(np.mean(1 - (residual**2).sum(axis=0) / spread), rel=1e-6)
    assert m["accuracy"] is None and m["confusion_matrix"] is None


def test_against_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    net = backprop.Network([3, 6, 2], ["relu", "linear"], loss="mse", seed=4)
    Y = rng.normal(size=(50, 2)).astype(np.float32)
    w = rng.uniform(0.5, 1.5, 50)
    m = net.metrics(X, Y, sample_weight=w)
    predicted = net.predict(X)
    assert m["r2"] == pytest.approx(metrics.r2_score(Y, predicted, sample_weight=w), rel=1e-5)
    assert m["mean_absolute_error"] == pytest.approx(metrics.mean_absolute_error(Y, predicted, sample_weight=w), rel=1e-5)
    clf = backprop.Network([3, 8, 3], ["tanh", "softmax"], loss="cross_entropy", seed=2)
    y = rng.integers(0, 3, 50)
    np.testing.assert_array_equal(clf.metrics(X, y)["confusion_matrix"],
                                  metrics.confusion_matrix(y, clf.predict_classes(X), labels=[0, 1, 2]))
