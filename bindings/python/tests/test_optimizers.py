"""Optimizers and options: set_optimizer, set_option/get_option, .options."""

import ctypes
import math

import numpy as np
import pytest

import backprop
from backprop import _lib, errors

DEFAULTS = {
    "optimizer": "sgd",
    "momentum": 0.9,
    "beta1": 0.9,
    "beta2": 0.999,
    "epsilon": 1e-8,
    "weight_decay": 0.0,
    "clip_norm": 0.0,
    "rprop_increase": 1.2,
    "rprop_decrease": 0.5,
    "rprop_min_step": 1e-6,
    "rprop_max_step": 50.0,
    "rprop_initial_step": 0.1,
    "schedule": "constant",
    "gamma": 0.1,
    "step_epochs": 10.0,
    "warmup_epochs": 0.0,
    "cycle_epochs": 0.0,
    "min_lr": 0.0,
    "power_t": 0.5,
    "plateau_factor": 0.1,
    "plateau_patience": 10.0,
    "plateau_threshold": 1e-4,
    "huber_delta": 1.0,
}


def net(seed=0):
    return backprop.Network([4, 10, 3], ["tanh", "softmax"], loss="cross_entropy", seed=seed)


def batches(seed=0, steps=8, size=16):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(steps * size, 4)).astype(np.float32)
    y = (np.abs(X[:, 0]) + X[:, 1] > 1).astype(np.int64) + (X[:, 3] > 0.5)
    return [(X[i * size : (i + 1) * size], y[i * size : (i + 1) * size]) for i in range(steps)]


def train(network, lr=0.05, steps=8):
    for X, y in batches(steps=steps):
        network.train_step(X, y, lr)
    return network.parameters


def test_options_and_defaults():
    n = net()
    assert n.options == DEFAULTS
    assert list(n.options) == list(backprop.OPTIONS)  # the header's order
    assert backprop.OPTIONS["optimizer"] == 1 and backprop.OPTIONS["rprop_initial_step"] == 12
    assert backprop.OPTIMIZERS == {"sgd": 0, "momentum": 1, "nesterov": 2, "adam": 3, "adamw": 4, "rprop": 5}
    for name, value in DEFAULTS.items():
        assert n.get_option(name) == value
    options = n.options
    options["beta1"] = 0.1  # a copy
    assert n.get_option("beta1") == 0.9


@pytest.mark.parametrize("name", ["momentum", "nesterov", "adam", "adamw", "rprop"])
def test_each_optimizer_changes_training(name):
    sgd = train(net())
    other = net()
    other.set_optimizer(name)
    assert other.options["optimizer"] == name
    params = train(other)
    assert np.all(np.isfinite(params))
    assert not np.array_equal(params, sgd), name
    # deterministic
    again = net()
    again.set_optimizer(name)
    np.testing.assert_array_equal(train(again), params)


def test_sgd_is_the_plain_rule():
    a = net()
    a.set_optimizer("adam")
    a.set_optimizer("sgd")
    np.testing.assert_array_equal(train(a), train(net()))
    # W <- W - lr g, checked by hand
    b = net()
    X, y = batches()[0]
    before = b.parameters
    b.forward(X)
    b.backward(y)
    b.update(0.5)
    np.testing.assert_allclose(b.parameters, before - 0.5 * b.gradients, rtol=1e-6, atol=1e-7)


def test_rprop_ignores_the_learning_rate():
    a, b = net(), net()
    a.set_optimizer("rprop")
    b.set_optimizer("rprop")
    np.testing.assert_array_equal(train(a, lr=0.01), train(b, lr=0.5))


def test_weight_decay_and_clipping_change_training():
    plain = train(net())
    for option, value in [("weight_decay", 0.1), ("clip_norm", 0.01)]:
        n = net()
        n.set_option(option, value)
        assert not np.array_equal(train(n), plain), option


def test_options_round_trip():
    values = {
        "momentum": 0.5,
        "beta1": 0.75,
        "beta2": 0.9,
        "epsilon": 1e-6,
        "weight_decay": 0.01,
        "clip_norm": 2.5,
        "rprop_increase": 1.5,
        "rprop_decrease": 0.25,
        "rprop_min_step": 1e-4,
        "rprop_max_step": 10.0,
        "rprop_initial_step": 0.05,
        "gamma": 0.5,
        "step_epochs": 3.0,
        "warmup_epochs": 2.0,
        "cycle_epochs": 9.0,
        "min_lr": 1e-3,
        "power_t": 0.25,
        "plateau_factor": 0.2,
        "plateau_patience": 4.0,
        "plateau_threshold": 1e-3,
        "huber_delta": 0.5,
    }
    n = net()
    for name, value in values.items():
        n.set_option(name, value)
        assert n.get_option(name) == value  # doubles: exact
    for name in backprop.OPTIMIZERS:
        n.set_option("optimizer", name)
        assert n.get_option("optimizer") == name
    n.set_option("optimizer", backprop.OPTIMIZERS["nesterov"])  # a BP_OPTIMIZER_* code works too
    n.set_option("schedule", "plateau")
    assert n.options == {**values, "optimizer": "nesterov", "schedule": "plateau"}
    # they survive save/load
    assert backprop.Network.from_bytes(n.to_bytes()).options == n.options


def test_set_optimizer_with_hyperparameters():
    n = net()
    n.set_optimizer("AdamW", beta1=0.8, weight_decay=0.01, **{"Epsilon": 1e-7})  # names normalised
    assert n.options == {**DEFAULTS, "optimizer": "adamw", "beta1": 0.8, "weight_decay": 0.01, "epsilon": 1e-7}
    # the order of the values does not matter, even where their ranges depend on each other
    n.set_optimizer("rprop", rprop_min_step=60, rprop_initial_step=70, rprop_max_step=100)
    assert (n.get_option("rprop_min_step"), n.get_option("rprop_initial_step"), n.get_option("rprop_max_step")) == (
        60,
        70,
        100,
    )
    n.set_optimizer("rprop", rprop_max_step=1e-3, rprop_initial_step=1e-4, rprop_min_step=1e-5)
    assert n.get_option("rprop_max_step") == 1e-3


def test_set_optimizer_is_all_or_nothing():
    n = net()
    before = n.options
    with pytest.raises(backprop.InvalidArgumentError):
        n.set_optimizer("adam", beta1=0.5, beta2=1.5)  # beta2 out of [0, 1)
    assert n.options == before
    with pytest.raises(backprop.NonFiniteError):
        n.set_optimizer("momentum", momentum=0.5, epsilon=math.nan)
    assert n.options == before
    with pytest.raises(backprop.InvalidArgumentError):
        n.set_optimizer("rprop", rprop_min_step=100)  # above rprop_max_step (50)
    assert n.options == before


def test_state_kept_by_hyperparameters_reset_by_a_new_optimizer():
    def momentum_net():
        n = net()
        n.set_optimizer("momentum")
        train(n, steps=4)
        return n

    reference = momentum_net()
    train(reference)

    same = momentum_net()
    same.set_option("momentum", 0.9)  # a hyperparameter (even unchanged): the velocity is kept
    same.set_optimizer("momentum")  # the current optimizer again: kept too
    np.testing.assert_array_equal(train(same), reference.parameters)

    reset = momentum_net()
    reset.set_optimizer("sgd")
    reset.set_optimizer("momentum")  # another optimizer and back: the velocity starts at 0
    assert not np.array_equal(train(reset), reference.parameters)


def test_fit_uses_the_optimizer():
    X = np.concatenate([b[0] for b in batches()])
    y = np.concatenate([b[1] for b in batches()])
    sgd = net()
    sgd.fit(X, y, epochs=3, learning_rate=0.01, seed=0, verbose=0)
    adam = net()
    adam.set_optimizer("adam")
    history = adam.fit(X, y, epochs=3, learning_rate=0.01, seed=0, verbose=0)
    assert not np.array_equal(adam.parameters, sgd.parameters)
    assert history["loss"][-1] < history["loss"][0]


@pytest.mark.parametrize(
    "call,exception,match",
    [
        (lambda n: n.set_optimizer("adagrad"), ValueError, r"optimizer is 'adagrad'; expected one of: 'sgd'"),
        (lambda n: n.set_optimizer(3), ValueError, "optimizer is 3"),
        (lambda n: n.set_optimizer("adam", lr=0.1), ValueError, "hyperparameter is 'lr'"),
        (lambda n: n.set_optimizer("adam", optimizer="sgd"), ValueError, "first argument"),
        (lambda n: n.set_optimizer("adam", beta1="high"), ValueError, "beta1 is 'high'"),
        (lambda n: n.set_option("learning_rate", 0.1), ValueError, "option is 'learning_rate'"),
        (lambda n: n.set_option("optimizer", "adagrad"), ValueError, "optimizer is 'adagrad'"),
        (lambda n: n.set_option("optimizer", 9), backprop.UnknownEnumError, "optimizer"),
        (lambda n: n.set_option("optimizer", -1), backprop.UnknownEnumError, "optimizer"),
        (lambda n: n.set_option("optimizer", 2.5), ValueError, "optimizer is 2.5"),
        (lambda n: n.set_option("momentum", 1.0), backprop.InvalidArgumentError, None),
        (lambda n: n.set_option("momentum", True), ValueError, "momentum is True"),
        (lambda n: n.set_option("beta2", -0.1), backprop.InvalidArgumentError, None),
        (lambda n: n.set_option("epsilon", 0), backprop.InvalidArgumentError, None),
        (lambda n: n.set_option("weight_decay", -1), backprop.InvalidArgumentError, None),
        (lambda n: n.set_option("clip_norm", math.inf), backprop.NonFiniteError, None),
        (lambda n: n.set_option("beta1", math.nan), backprop.NonFiniteError, None),
        (lambda n: n.set_option("rprop_increase", 1.0), backprop.InvalidArgumentError, None),
        (lambda n: n.set_option("rprop_decrease", 1.0), backprop.InvalidArgumentError, None),
        (lambda n: n.set_option("rprop_initial_step", 51), backprop.InvalidArgumentError, None),
        (lambda n: n.get_option("nope"), ValueError, "option is 'nope'"),
    ],
)
def test_bad_names_and_values(call, exception, match):
    n = net()
    before = n.options
    with pytest.raises(exception, match=match) as info:
        call(n)
    assert isinstance(info.value, ValueError)  # every one of them is a ValueError
    if isinstance(info.value, backprop.BackpropError):
        assert info.value.message  # bp_last_error() text
    assert n.options == before  # nothing changed


def test_c_option_calls():
    n = net()
    value = ctypes.c_double()
    assert _lib.lib.bp_get_option(n._handle, 99, ctypes.byref(value)) == errors.BP_ERROR_UNKNOWN_ENUM
    assert _lib.lib.bp_set_option(n._handle, 0, 1.0) == errors.BP_ERROR_UNKNOWN_ENUM
    assert _lib.lib.bp_get_option(n._handle, 1, None) == errors.BP_ERROR_NULL_ARGUMENT
    assert _lib.lib.bp_set_option(None, 2, 0.5) == errors.BP_ERROR_NULL_ARGUMENT
    assert _lib.lib.bp_get_option(n._handle, 3, ctypes.byref(value)) == 0 and value.value == 0.9


def test_closed_network_options():
    n = net()
    n.close()
    for call in (lambda: n.options, lambda: n.set_optimizer("adam"), lambda: n.set_option("momentum", 0.5),
                 lambda: n.get_option("beta1")):
        with pytest.raises(backprop.StateError):
            call()
