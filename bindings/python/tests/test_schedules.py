"""Learning-rate schedules: set_schedule, the rate fit reports epoch by epoch against each
schedule's formula, stepping by hand, resuming from a saved model, and bad arguments."""

import math

import numpy as np
import pytest

import backprop

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y = np.array([[0], [1], [1], [0]], dtype=np.float32)
ETA0 = float(np.float32(0.5))  # the base rate as the library receives it


def net():
    return backprop.Network([2, 4, 1], ["tanh", "sigmoid"], loss="mse", seed=1)


def rates(network, epochs):
    history = network.fit(X, Y, epochs=epochs, batch_size=2, learning_rate=0.5, shuffle=False, verbose=0)
    return history["learning_rate"]


@pytest.mark.parametrize(
    "name, hyperparameters, formula",
    [
        ("constant", {}, lambda e: ETA0),
        ("step", {"gamma": 0.5, "step_epochs": 3}, lambda e: ETA0 * 0.5 ** (e // 3)),
        ("exponential", {"gamma": 0.9}, lambda e: ETA0 * 0.9**e),
        ("cosine", {"warmup_epochs": 2, "cycle_epochs": 7, "min_lr": 0.01},
         lambda e: ETA0 * (e + 1) / 2 if e < 2 else 0.01 if e >= 7
         else 0.01 + (ETA0 - 0.01) * (1 + math.cos(math.pi * (e - 2) / 5)) / 2),
        ("cosine", {}, lambda e: ETA0 * (1 + math.cos(math.pi * e / 9)) / 2),  # cycle: fit's 9 epochs
        ("invscaling", {"power_t": 0.25}, lambda e: ETA0 / (4 * e + 1) ** 0.25),
    ],
)
def test_fit_follows_the_schedule(name, hyperparameters, formula):
    n = net()
    n.set_schedule(name, **hyperparameters)
    assert n.get_option("schedule") == name
    assert rates(n, 9) == [float(np.float32(formula(e))) for e in range(9)]


def test_plateau_by_hand_and_fit_agree():
    by_hand, fitted = net(), net()
    for n in (by_hand, fitted):
        n.set_schedule("Plateau", plateau_factor=0.5, plateau_patience=0, plateau_threshold=0.5, min_lr=0.01)
    reported = fitted.fit(X, Y, epochs=8, batch_size=2, learning_rate=0.5, shuffle=False, verbose=0)
    seen = []
    for loss in reported["loss"]:
        seen.append(by_hand.scheduled_learning_rate(0.5))
        by_hand.end_epoch(4, loss)
    assert seen == reported["learning_rate"]
    assert seen[-1] < seen[0], "threshold 0.5 is never met: the rate must fall"
    assert min(seen) >= float(np.float32(0.01))


def test_training_resumes_on_schedule():
    straight, first = net(), net()
    for n in (straight, first):
        n.set_optimizer("adam")
        n.set_schedule("step", gamma=0.5, step_epochs=2)
    want = rates(straight, 6)
    got = rates(first, 3)
    resumed = backprop.Network.from_bytes(first.to_bytes())
    got += rates(resumed, 3)
    assert got == want
    assert np.array_equal(resumed.parameters, straight.parameters)
    assert resumed.options == straight.options


def test_choosing_a_schedule_starts_it_and_options_keep_it():
    n = net()
    n.set_schedule("exponential", gamma=0.5)
    for _ in range(2):
        n.end_epoch(4)
    n.set_schedule("exponential", gamma=0.25)  # the same schedule: it keeps its epochs
    assert n.scheduled_learning_rate(1.0) == 0.25**2
    n.set_schedule("step")
    assert n.scheduled_learning_rate(1.0) == 1.0


def test_bad_arguments_raise_and_change_nothing():
    n = net()
    with pytest.raises(ValueError, match="schedule is 'warm'; expected one of"):
        n.set_schedule("warm")
    with pytest.raises(backprop.InvalidArgumentError, match="step epochs is 2.5"):
        n.set_schedule("step", gamma=0.5, step_epochs=2.5)
    assert n.get_option("schedule") == "constant" and n.get_option("gamma") == 0.1  # all or nothing
    with pytest.raises(ValueError, match="not schedule="):
        n.set_schedule("step", schedule="cosine")
    with pytest.raises(backprop.UnknownEnumError):
        n.set_option("schedule", 9)
    n.set_schedule("cosine")
    with pytest.raises(backprop.InvalidArgumentError, match="cycle-epochs"):
        n.scheduled_learning_rate(0.1)
    with pytest.raises(backprop.NonFiniteError):
        n.scheduled_learning_rate(float("nan"))
    with pytest.raises(ValueError, match="samples is -1"):
        n.end_epoch(-1)
    with pytest.raises(ValueError, match="samples is"):
        n.end_epoch(2**64)
