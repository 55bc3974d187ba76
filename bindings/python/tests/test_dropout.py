"""Dropout: rates set by the constructor and the property, training passes that drop
(with the expected activations of inference), passes that never drop, determinism across
seeds, threads and pickles, learning with dropout on, and bad rates."""

import pickle

import numpy as np
import pytest

import backprop

rng = np.random.default_rng(4)
X = rng.normal(size=(200, 6)).astype(np.float32)
y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.int64)


def classifier(**kwargs):
    return backprop.Network([6, 32, 16, 2], ["relu", "tanh", "softmax"], loss="cross_entropy", seed=5, **kwargs)


def test_rates_from_the_constructor_and_the_property():
    assert classifier().dropout == [0.0, 0.0]
    assert classifier(dropout=0.25).dropout == [0.25, 0.25]
    net = classifier(dropout=[0.5, 0.0])
    assert net.dropout == [0.5, 0.0]
    net.dropout = None
    assert net.dropout == [0.0, 0.0]


def test_a_training_pass_drops_with_the_expected_activations_of_inference():
    """Inverted dropout keeps E[ã] = a, so through linear layers the mean of many
    training passes is the plain output."""
    net = backprop.Network([4, 64, 1], "linear", seed=2, dropout=0.5)
    x = np.array([[0.5, -1.0, 2.0, 0.25]], dtype=np.float32)
    plain = net.forward(x)
    passes = np.array([net.forward(x, training=True) for _ in range(4000)])
    assert len({float(p) for p in passes.ravel()}) > 100, "each pass draws new masks"
    spread = passes.std() / np.sqrt(len(passes))
    assert abs(passes.mean() - plain.item()) < 5 * spread
    assert np.array_equal(net.predict(x), plain), "inference drops nothing"
    assert np.array_equal(net.forward(x), plain), "nor does a plain forward pass"


def test_training_is_deterministic_across_threads_and_pickles():
    def trained(threads, epochs=4, net=None):
        net = net or classifier(dropout=0.3)
        net.threads = threads
        net.fit(X, y, epochs=epochs, batch_size=16, learning_rate=0.05, shuffle=False, verbose=0)
        return net

    one = trained(1)
    assert np.array_equal(trained(2).parameters, one.parameters)
    half = trained(1, epochs=2)
    resumed = trained(1, epochs=2, net=pickle.loads(pickle.dumps(half)))
    assert resumed.dropout == [pytest.approx(0.3)] * 2
    assert np.array_equal(resumed.parameters, one.parameters), "a pickle resumes with the masks it would have drawn"
    assert not np.array_equal(trained(1, net=classifier()).parameters, one.parameters), "dropout changes training"


def test_a_network_learns_with_dropout():
    net = classifier(dropout=0.2)
    net.fit(X, y, epochs=60, batch_size=16, learning_rate=0.05, seed=1, verbose=0)
    assert net.score(X, y) >= 0.9


def test_bad_rates_are_refused_and_change_nothing():
    net = classifier(dropout=0.1)
    with pytest.raises(ValueError, match="one per hidden layer"):
        net.dropout = [0.1, 0.2, 0.3]
    with pytest.raises(backprop.InvalidArgumentError, match="hidden layer 2"):
        net.dropout = [0.1, 1.0]
    with pytest.raises(backprop.NonFiniteError):
        net.dropout = float("nan")
    with pytest.raises(ValueError, match="no hidden layer"):
        backprop.Network([3, 1], seed=0, dropout=0.5)
    assert net.dropout == [pytest.approx(0.1)] * 2
