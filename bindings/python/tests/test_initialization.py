"""Initialisation schemes: Network(init=...) and Network.initialize (bp_initialize)."""

from pathlib import Path

import numpy as np
import pytest

import backprop
from backprop._parameters import layer_offsets

SIZES = [300, 200, 100]
ACTS = ["relu", "sigmoid"]


def layers_of(net):
    p = net.parameters.astype(np.float64)
    return [(p[w0:b0], p[b0:end]) for w0, b0, end in layer_offsets(net.layers)]


# scheme: (uniform?, per-layer scale (half-width or σ), draws biases?)
FAN_IN, FAN_SUM = np.array([300.0, 200.0]), np.array([500.0, 300.0])
EXPECTED = {
    "he_glorot_uniform": (True, np.sqrt([6 / 300, 6 / 300]), False),
    "he_uniform": (True, np.sqrt(6 / FAN_IN), False),
    "he_normal": (False, np.sqrt(2 / FAN_IN), False),
    "glorot_uniform": (True, np.sqrt(6 / FAN_SUM), False),
    "glorot_normal": (False, np.sqrt(2 / FAN_SUM), False),
    "lecun_normal": (False, np.sqrt(1 / FAN_IN), False),
    "pytorch": (True, 1 / np.sqrt(FAN_IN), True),
    "sklearn": (True, np.sqrt([6 / 500, 2 / 300]), True),
}


def test_every_scheme_is_tested():
    assert set(EXPECTED) == set(backprop.INITIALIZATIONS)


@pytest.mark.parametrize("init", sorted(EXPECTED))
def test_scheme_draws_its_distribution(init):
    uniform, scales, biases = EXPECTED[init]
    net = backprop.Network(SIZES, ACTS, seed=5, init=init)
    for (w, b), scale in zip(layers_of(net), scales):
        want_var = scale**2 / 3 if uniform else scale**2
        assert abs(w.mean()) < 5 * np.sqrt(want_var / w.size)
        assert w.var() / want_var == pytest.approx(1, abs=0.03)
        if uniform:
            assert np.abs(w).max() <= np.float32(scale) and np.abs(w).max() > 0.999 * scale
        else:  # a normal's tails reach past 3σ; a uniform's never pass √3 σ
            assert np.abs(w).max() > 3.5 * scale
        if biases:
            assert np.abs(b).max() <= np.float32(scale) and np.abs(b).max() > 0.8 * scale
        else:
            assert not b.any()


def test_default_and_initialize_agree_with_init():
    default = backprop.Network(SIZES, ACTS, seed=3)
    named = backprop.Network(SIZES, ACTS, seed=3, init="PyTorch")
    assert backprop.RECOMMENDED_INITIALIZATION == "pytorch"
    assert np.array_equal(default.parameters, named.parameters)
    for init in backprop.INITIALIZATIONS:
        made = backprop.Network(SIZES, ACTS, seed=3, init=init)
        default.initialize(init, seed=3)
        assert np.array_equal(default.parameters, made.parameters), init
        assert np.array_equal(made.parameters, backprop.Network(SIZES, ACTS, seed=3, init=init).parameters)
        assert not np.array_equal(made.parameters, backprop.Network(SIZES, ACTS, seed=4, init=init).parameters)


def test_initialize_starts_training_over():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=16)

    def trained(net):
        net.fit(X, y, epochs=3, batch_size=4, learning_rate=0.01, seed=1, verbose=0)
        return net.parameters

    reused = backprop.Network([4, 8, 3], ["relu", "softmax"], loss="cross_entropy", seed=0)
    reused.set_optimizer("adam", beta1=0.8)
    trained(reused)
    reused.initialize("pytorch", seed=7)
    with pytest.raises(backprop.StateError):
        reused.gradients
    fresh = backprop.Network([4, 8, 3], ["relu", "softmax"], loss="cross_entropy", seed=7, init="pytorch")
    fresh.set_optimizer("adam", beta1=0.8)
    assert reused.get_option("optimizer") == "adam" and reused.get_option("beta1") == pytest.approx(0.8)
    assert np.array_equal(trained(reused), trained(fresh))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(init="xavier"), r"init is 'xavier'; expected one of: 'he_glorot_uniform'"),
        (dict(init=3), r"init is 3"),
        (dict(init="pytorch", seed=-1), r"seed is -1"),
        (dict(init="pytorch", seed=2**64), r"seed is"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        backprop.Network([2, 2], "linear", **kwargs)
    net = backprop.Network([2, 2], "linear")
    before = net.parameters
    with pytest.raises(ValueError, match=message):
        net.initialize(kwargs["init"], seed=kwargs.get("seed", 0))
    assert np.array_equal(net.parameters, before)


def test_docs_list_every_scheme():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    summary = readme[readme.index("* `init`") :].split("\n* ")[0]
    for name in backprop.INITIALIZATIONS:
        assert f'"{name}"' in summary, name
        assert f'"{name}"' in backprop.Network.initialize.__doc__, name
