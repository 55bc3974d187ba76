"""Input scaling: set_input_scaling, standardize and fit(standardize=True) against the
same network fed inputs scaled here; model files and pickles keep it; bad arguments."""

import pickle

import numpy as np
import pytest

import backprop

rng = np.random.default_rng(9)
X = (rng.normal(size=(40, 4)) * [1, 10, 100, 0.01] + [5, -3, 200, 0]).astype(np.float32)
y = (X[:, 0] > 5).astype(np.int64)
SHIFT = np.array([5, -3, 200, 0], dtype=np.float32)
SCALE = np.array([1, 0.1, 0.01, 100], dtype=np.float32)


def pair():
    make = lambda: backprop.Network([4, 8, 2], ["relu", "softmax"], loss="cross_entropy", seed=3)
    scaled, plain = make(), make()
    scaled.set_input_scaling(SHIFT, SCALE)
    return scaled, plain


def test_every_call_sees_the_scaled_inputs():
    scaled, plain = pair()
    Xs = (X - SHIFT) * SCALE
    assert np.array_equal(scaled.predict(X), plain.predict(Xs))
    assert np.array_equal(scaled.forward(X), plain.forward(Xs))
    assert scaled.evaluate(X, y) == plain.evaluate(Xs, y)
    scaled.fit(X, y, epochs=3, batch_size=8, learning_rate=0.1, seed=1, verbose=0, validation_data=(X, y))
    plain.fit(Xs, y, epochs=3, batch_size=8, learning_rate=0.1, seed=1, verbose=0, validation_data=(Xs, y))
    assert np.array_equal(scaled.parameters, plain.parameters)
    shift, scale = scaled.input_scaling
    assert np.array_equal(shift, SHIFT) and np.array_equal(scale, SCALE)


def test_standardize_matches_a_standard_scaler_and_fit_can_do_it():
    net = backprop.Network([4, 8, 2], ["relu", "softmax"], loss="cross_entropy", seed=3)
    constant = X.copy()
    constant[:, 3] = 7.0
    net.standardize(constant)
    shift, scale = net.input_scaling
    np.testing.assert_allclose(shift, constant.astype(np.float64).mean(axis=0), rtol=1e-6)
    std = constant.astype(np.float64).std(axis=0)
    np.testing.assert_allclose(scale[:3], 1 / std[:3], rtol=1e-6)
    assert scale[3] == 1.0  # a constant feature is left as it is
    fitted = backprop.Network([4, 8, 2], ["relu", "softmax"], loss="cross_entropy", seed=3)
    fitted.fit(X, y, epochs=30, batch_size=8, learning_rate=0.05, seed=0, verbose=0, standardize=True)
    assert fitted.input_scaling[1][2] == pytest.approx(1 / X[:, 2].astype(np.float64).std(), rel=1e-5)
    assert fitted.score(X, y) > 0.9  # raw inputs, of scales 0.01 to 100


def test_model_files_and_pickles_keep_it():
    scaled, _ = pair()
    for copy in (backprop.Network.from_bytes(scaled.to_bytes()), pickle.loads(pickle.dumps(scaled))):
        assert np.array_equal(copy.input_scaling[0], SHIFT) and np.array_equal(copy.input_scaling[1], SCALE)
        assert np.array_equal(copy.predict(X), scaled.predict(X))
    assert scaled.to_bytes()[8] == 2
    scaled.set_input_scaling(None, None)
    assert scaled.to_bytes()[8] == 1
    assert np.array_equal(scaled.input_scaling[0], np.zeros(4)) and np.array_equal(scaled.input_scaling[1], np.ones(4))


def test_bad_arguments_raise_and_change_nothing():
    scaled, _ = pair()
    with pytest.raises(ValueError, match=r"shift has shape \(3,\); expected \(4,\)"):
        scaled.set_input_scaling(SHIFT[:3], SCALE)
    with pytest.raises(backprop.NonFiniteError, match=r"scale\[1\] is nan"):
        scaled.set_input_scaling(SHIFT, [1, np.nan, 1, 1])
    with pytest.raises(ValueError):
        scaled.set_input_scaling(SHIFT, None)
    with pytest.raises(ValueError, match="X"):
        scaled.standardize(X[:, :3])
    assert np.array_equal(scaled.input_scaling[1], SCALE)


def test_target_scaling_trains_on_scaled_targets_and_predicts_in_their_units():
    make = lambda: backprop.Network([4, 6, 1], ["tanh", "linear"], loss="mse", seed=5)
    scaled, plain = make(), make()
    Y = (X[:, :1] * 3 + 500).astype(np.float32)
    shift, scale = np.array([500.0], np.float32), np.array([0.05], np.float32)
    scaled.set_target_scaling(shift, scale)
    Ys = (Y - shift) * scale
    scaled.fit(X, Y, epochs=3, batch_size=8, learning_rate=0.01, seed=2, verbose=0)
    plain.fit(X, Ys, epochs=3, batch_size=8, learning_rate=0.01, seed=2, verbose=0)
    assert np.array_equal(scaled.parameters, plain.parameters)
    assert np.array_equal(scaled.predict(X), plain.predict(X) / scale + shift)
    m = scaled.metrics(X, Y)
    assert m["mean_absolute_error"] == pytest.approx(np.abs(scaled.predict(X).astype(np.float64) - Y).mean(), rel=1e-5)
    copy = backprop.Network.from_bytes(scaled.to_bytes())
    assert np.array_equal(copy.predict(X), scaled.predict(X))
    fitted = make()
    fitted.fit(X, Y, epochs=1, verbose=0, standardize_targets=True)
    assert fitted.target_scaling[0][0] == pytest.approx(Y.astype(np.float64).mean(), rel=1e-6)


def test_a_classifier_has_no_target_scaling():
    net = backprop.Network([4, 8, 2], ["relu", "softmax"], loss="cross_entropy", seed=3)
    with pytest.raises(backprop.InvalidArgumentError, match="probabilities"):
        net.set_target_scaling([0, 0], [1, 1])
