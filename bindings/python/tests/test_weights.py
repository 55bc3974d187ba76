"""Sample and class weights: backward, train_step, evaluate, score and fit, against the
weighted mean computed here, duplicated samples, and bad arguments."""

import numpy as np
import pytest

import backprop

rng = np.random.default_rng(4)
X = rng.normal(size=(6, 3)).astype(np.float32)
y = np.array([0, 1, 2, 1, 0, 1])
W = np.array([2.0, 0.5, 0.0, 1.5, 1.0, 3.0], dtype=np.float32)


def net(seed=1):
    return backprop.Network([3, 5, 3], ["tanh", "softmax"], loss="cross_entropy", seed=seed)


def test_backward_takes_the_weighted_mean():
    n = net()
    per_sample, losses = [], []
    for i in range(len(X)):
        n.forward(X[i : i + 1])
        losses.append(n.backward(y[i : i + 1]))
        per_sample.append(n.gradients.astype(np.float64))
    want = np.average(per_sample, axis=0, weights=W)
    n.forward(X)
    loss = n.backward(y, sample_weight=W)
    np.testing.assert_allclose(n.gradients, want, rtol=1e-5, atol=1e-7)
    assert loss == pytest.approx(np.average(losses, weights=W), rel=1e-6)


def test_integer_weights_are_duplicated_samples():
    counts = np.array([2, 1, 0, 3, 1, 2])
    weighted, duplicated = net(), net()
    hw = weighted.fit(X, y, epochs=4, batch_size=100, learning_rate=0.3, shuffle=False, verbose=0,
                      sample_weight=counts)
    hd = duplicated.fit(np.repeat(X, counts, axis=0), np.repeat(y, counts), epochs=4, batch_size=100,
                        learning_rate=0.3, shuffle=False, verbose=0)
    np.testing.assert_allclose(weighted.parameters, duplicated.parameters, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hw["loss"], hd["loss"], rtol=1e-5)


def test_class_weights_are_sample_weights_by_class():
    balanced = backprop._weights.class_sample_weights("balanced", np.eye(3, dtype=np.float32)[y], True)
    np.testing.assert_allclose(balanced, [1.0, 2 / 3, 2.0, 2 / 3, 1.0, 2 / 3], rtol=1e-6)  # 6 / (3 · n_c)
    by_class, by_sample = net(), net()
    by_class.fit(X, y, epochs=3, batch_size=4, learning_rate=0.2, seed=5, verbose=0, class_weight={1: 3.0},
                 sample_weight=W)
    by_sample.fit(X, y, epochs=3, batch_size=4, learning_rate=0.2, seed=5, verbose=0,
                  sample_weight=W * np.where(y == 1, 3.0, 1.0))
    assert np.array_equal(by_class.parameters, by_sample.parameters)
    with pytest.raises(ValueError, match="class_weight needs a classifier"):
        backprop.Network([3, 1], "linear").fit(X, X[:, 0], epochs=1, class_weight="balanced", verbose=0)
    with pytest.raises(ValueError, match="class_weight is 'equal'"):
        net().fit(X, y, epochs=1, class_weight="equal", verbose=0)


def test_weight_one_is_no_weight_and_one_sample_cancels():
    a, b = net(), net()
    a.train_step(X, y, 0.1)
    b.train_step(X, y, 0.1, sample_weight=np.full(len(X), 0.25))
    np.testing.assert_allclose(a.parameters, b.parameters, rtol=1e-6, atol=1e-7)
    c, d = net(7), net(7)
    c.train_step(X[:1], y[:1], 0.1)
    d.train_step(X[:1], y[:1], 0.1, sample_weight=[5.0])
    assert np.array_equal(c.parameters, d.parameters)


def test_weighted_evaluation_and_score():
    n = net()
    per = [n.evaluate(X[i : i + 1], y[i : i + 1]) for i in range(len(X))]
    loss, accuracy = n.evaluate(X, y, sample_weight=W)
    assert loss == pytest.approx(np.average([p[0] for p in per], weights=W), rel=1e-6)
    assert accuracy == pytest.approx(np.average([p[1] for p in per], weights=W), rel=1e-6)
    assert n.score(X, y, sample_weight=W) == accuracy


def test_zero_weights_drop_samples_from_fit_and_validation():
    kept, all_ = net(), net()
    kept.fit(X[:3], y[:3], epochs=3, batch_size=10, learning_rate=0.5, shuffle=False, verbose=0)
    history = all_.fit(X, y, epochs=3, batch_size=10, learning_rate=0.5, shuffle=False, verbose=0,
                       sample_weight=[1, 1, 1, 0, 0, 0], validation_data=(X, y, W))
    np.testing.assert_allclose(all_.parameters, kept.parameters, rtol=1e-5, atol=1e-6)
    assert history["val_loss"][-1] == all_.evaluate(X, y, sample_weight=W)[0]


@pytest.mark.parametrize(
    "weights, error, message",
    [
        (np.ones(5), ValueError, r"sample_weight has shape \(5,\); expected \(6,\)"),
        (np.ones((6, 1)), ValueError, "expected \\(6,\\)"),
        (np.zeros(6), backprop.InvalidArgumentError, "sum to 0"),
        ([1, 1, -1, 1, 1, 1], backprop.InvalidArgumentError, r"weights\[2\] is -1.0"),
        ([1, 1, np.nan, 1, 1, 1], backprop.NonFiniteError, r"weights\[2\] is nan"),
        (["a"] * 6, ValueError, "sample_weight"),
    ],
)
def test_bad_weights_raise_and_change_nothing(weights, error, message):
    n = net()
    before = n.parameters
    for call in (lambda: n.train_step(X, y, 0.1, sample_weight=weights),
                 lambda: n.fit(X, y, epochs=1, verbose=0, sample_weight=weights),
                 lambda: n.evaluate(X, y, sample_weight=weights)):
        with pytest.raises(error, match=message):
            call()
    assert np.array_equal(n.parameters, before)
