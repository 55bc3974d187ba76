"""fit over the library's bp_fit: history, determinism, validation, early stopping,
target loss, callbacks (stopping, exceptions, reading the network) and divergence."""

import threading

import numpy as np
import pytest

import backprop
from backprop import training


def blobs(n_per_class=100, seed=0, spread=1.0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 3.5]])
    X = np.concatenate([rng.normal(c, spread, size=(n_per_class, 2)) for c in centres])
    y = np.repeat(np.arange(3), n_per_class)
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order]


def classifier(seed=0):
    return backprop.Network([2, 16, 3], ["relu", "softmax"], loss="cross_entropy", seed=seed)


def regressor(seed=0):
    return backprop.Network([3, 16, 1], ["tanh", "linear"], loss="mse", seed=seed)


def regression_data(n=128, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 3)).astype(np.float32)
    return X, (X @ np.array([0.5, -1.0, 2.0]) + 0.3).astype(np.float32)


def test_history_length_and_keys():
    X, y = blobs()
    net = classifier()
    history = net.fit(X, y, epochs=7, batch_size=32, learning_rate=0.05, seed=0, verbose=0)
    assert set(history) == {"loss", "learning_rate"} and len(history["loss"]) == 7
    assert history["learning_rate"] == [np.float32(0.05)] * 7  # the constant schedule
    assert all(isinstance(v, float) and np.isfinite(v) for v in history["loss"])
    history = net.fit(X, y, epochs=4, seed=0, validation_data=(X[:50], y[:50]), verbose=0)
    assert set(history) == {"loss", "val_loss", "val_accuracy", "learning_rate"}
    assert all(len(v) == 4 for v in history.values())
    Xr, yr = regression_data()
    history = regressor().fit(Xr, yr, epochs=3, seed=0, validation_data=(Xr, yr), verbose=0)
    assert set(history) == {"loss", "val_loss", "learning_rate"}  # no accuracy for a regressor


def test_same_seed_same_network():
    X, y = blobs(seed=1)
    runs = []
    for threads in (1, 2, 0):
        net = classifier(seed=4)
        net.threads = threads  # results are bit-identical for any thread count
        history = net.fit(X, y, epochs=5, batch_size=10, learning_rate=0.1, seed=123, verbose=0,
                          validation_data=(X[:30], y[:30]))
        runs.append((net.parameters, history))
    for params, history in runs[1:]:
        np.testing.assert_array_equal(params, runs[0][0])
        assert history == runs[0][1]
    other = classifier(seed=4)
    other.fit(X, y, epochs=5, batch_size=10, learning_rate=0.1, seed=124, verbose=0)
    assert not np.array_equal(other.parameters, runs[0][0])  # another shuffle
    # a numpy Generator seeds it reproducibly too
    a, b = classifier(), classifier()
    a.fit(X, y, epochs=2, seed=np.random.default_rng(7), verbose=0)
    b.fit(X, y, epochs=2, seed=np.random.default_rng(7), verbose=0)
    np.testing.assert_array_equal(a.parameters, b.parameters)


def test_seed_none_differs_run_to_run():
    X, y = blobs(seed=2)
    results = []
    for _ in range(3):
        net = classifier(seed=1)
        net.fit(X, y, epochs=2, batch_size=8, verbose=0)  # seed=None: drawn from numpy's default RNG
        results.append(net.parameters)
    assert not (np.array_equal(results[0], results[1]) and np.array_equal(results[1], results[2]))


def test_data_is_converted_once_and_conversions_agree():
    X, y = blobs(seed=3, n_per_class=30)
    a, b = classifier(), classifier()
    a.fit(X, y, epochs=3, seed=0, verbose=0)
    b.fit(X.astype(np.float64).tolist(), np.eye(3)[y], epochs=3, seed=0, verbose=0)  # lists, one-hot
    np.testing.assert_array_equal(a.parameters, b.parameters)
    c = classifier()
    c.fit(np.asfortranarray(X), y.astype(np.int32), epochs=3, seed=0, verbose=0)
    np.testing.assert_array_equal(a.parameters, c.parameters)


def test_validation_history_matches_evaluate():
    X, y = blobs(seed=4)
    Xv, yv = blobs(n_per_class=40, seed=5)
    net = classifier(seed=3)
    history = net.fit(X, y, epochs=6, batch_size=16, learning_rate=0.05, seed=1, validation_data=(Xv, yv), verbose=0)
    loss, accuracy = net.evaluate(Xv, yv)
    assert history["val_loss"][-1] == loss  # after the last epoch, on the same float32 numbers
    assert history["val_accuracy"][-1] == accuracy == net.score(Xv, yv)
    assert all(0.0 <= v <= 1.0 for v in history["val_accuracy"])
    assert history["val_loss"][-1] < history["val_loss"][0]


def noisy_problem():
    """Few noisy samples and a big network: the validation loss soon turns back up."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(40, 2)).astype(np.float32)
    y = (X[:, 0] + rng.normal(0, 1.5, 40) > 0).astype(np.int64)
    Xv = rng.normal(size=(200, 2)).astype(np.float32)
    yv = (Xv[:, 0] > 0).astype(np.int64)
    return X, y, Xv, yv


def overfitter(seed=0):
    return backprop.Network([2, 64, 64, 2], ["relu", "relu", "softmax"], loss="cross_entropy", seed=seed)


def test_early_stopping_stops_and_restores_the_best_epoch():
    X, y, Xv, yv = noisy_problem()
    net = overfitter()
    history = net.fit(X, y, epochs=2000, batch_size=8, learning_rate=0.1, seed=0, validation_data=(Xv, yv),
                      patience=5, verbose=0)
    epochs = len(history["loss"])
    assert epochs < 2000
    best = int(np.argmin(history["val_loss"]))
    assert epochs == best + 1 + 5  # stopped `patience` epochs after the best one
    assert net.evaluate(Xv, yv)[0] == history["val_loss"][best]  # restore_best (the default)

    kept = overfitter()
    history = kept.fit(X, y, epochs=2000, batch_size=8, learning_rate=0.1, seed=0, validation_data=(Xv, yv),
                       patience=5, restore_best=False, verbose=0)
    assert kept.evaluate(Xv, yv)[0] == history["val_loss"][-1]  # the last epoch's parameters


def test_min_delta_and_early_stopping_on_the_training_loss():
    X, y = blobs(seed=8)
    net = classifier()
    history = net.fit(X, y, epochs=500, batch_size=len(X), learning_rate=0.01, seed=0, patience=3, min_delta=0.05,
                      verbose=0)
    # full-batch with a small rate: the training loss keeps falling, but by less than
    # 0.05 per epoch after a while, which does not count as improving
    assert len(history["loss"]) < 500


def test_target_loss():
    X, y = blobs(seed=9)
    net = classifier()
    history = net.fit(X, y, epochs=1000, batch_size=16, learning_rate=0.05, seed=0, target_loss=0.2, verbose=0)
    losses = history["loss"]
    assert len(losses) < 1000
    assert losses[-1] <= 0.2 and all(v > 0.2 for v in losses[:-1])
    Xv, yv = blobs(n_per_class=30, seed=10)
    history = classifier().fit(X, y, epochs=1000, batch_size=16, learning_rate=0.05, seed=0, target_loss=0.3,
                               validation_data=(Xv, yv), verbose=0)
    assert history["val_loss"][-1] <= 0.3 and all(v > 0.3 for v in history["val_loss"][:-1])  # monitors val


def test_callback_sees_every_epoch_and_can_stop():
    X, y = blobs(n_per_class=30, seed=11)
    seen = []

    def stop_at_three(epoch, logs):
        seen.append((epoch, logs))
        return epoch == 3

    history = classifier().fit(X, y, epochs=50, validation_data=(X, y), callback=stop_at_three, verbose=0)
    assert [e for e, _ in seen] == [0, 1, 2, 3]
    assert len(history["loss"]) == 4
    for key in history:
        assert history[key] == [logs[key] for _, logs in seen]


def test_long_runs_beyond_the_history_array(monkeypatch):
    monkeypatch.setattr(training, "_HISTORY_CAPACITY", 4)
    X, y = blobs(n_per_class=10, seed=12)
    seen = []
    history = classifier().fit(X, y, epochs=11, seed=0, validation_data=(X, y), verbose=0,
                               callback=lambda e, logs: seen.append(logs))
    assert len(history["loss"]) == 11
    assert history["val_loss"] == [logs["val_loss"] for logs in seen]


class Boom(Exception):
    pass


def test_exception_in_callback_propagates_and_network_stays_usable():
    X, y = blobs(n_per_class=30, seed=13)
    net = classifier()
    calls = []

    def explode(epoch, logs):
        calls.append(epoch)
        if epoch == 2:
            raise Boom("from the callback")

    with pytest.raises(Boom, match="from the callback"):
        net.fit(X, y, epochs=20, batch_size=8, callback=explode, seed=0, verbose=0)
    assert calls == [0, 1, 2]  # training stopped after the failing epoch
    # the network is consistent and unlocked: 3 epochs were trained
    reference = classifier()
    reference.fit(X, y, epochs=3, batch_size=8, seed=0, verbose=0)
    np.testing.assert_array_equal(net.parameters, reference.parameters)
    net.train_step(X[:8], y[:8], 0.1)
    result = {}
    t = threading.Thread(target=lambda: result.update(out=net.predict(X[:2])))  # the lock was released
    t.start()
    t.join(timeout=30)
    assert result["out"].shape == (2, 3)
    assert len(net.fit(X, y, epochs=2, verbose=0)["loss"]) == 2


def test_base_exceptions_in_callback_propagate():
    X, y = blobs(n_per_class=10, seed=14)
    net = classifier()

    def interrupt(epoch, logs):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=5, callback=interrupt, verbose=0)
    with pytest.raises(SystemExit):
        net.fit(X, y, epochs=5, callback=lambda e, logs: exit(3), verbose=0)
    net.fit(X, y, epochs=1, verbose=0)


def test_callback_may_read_but_not_change_the_network(tmp_path):
    X, y = blobs(n_per_class=20, seed=15)
    net = classifier()
    refused = []
    snapshots = []

    def inspect(epoch, logs):
        snapshots.append((net.parameters, net.predict(X[:4]), net.evaluate(X, y), net.options, net.threads))
        net.save(tmp_path / f"epoch{epoch}.bpm")  # checkpoints
        assert net.to_bytes() == (tmp_path / f"epoch{epoch}.bpm").read_bytes()
        for change in (lambda: net.train_step(X[:4], y[:4], 0.1), lambda: net.forward(X[:4]),
                       lambda: net.set_option("momentum", 0.5), lambda: net.set_optimizer("adam"),
                       lambda: setattr(net, "threads", 1), lambda: setattr(net, "parameters", net.parameters),
                       lambda: net.fit(X, y, epochs=1, verbose=0), net.close):
            try:
                change()
            except backprop.StateError as exc:
                refused.append(str(exc))

    history = net.fit(X, y, epochs=3, seed=0, validation_data=(X, y), callback=inspect, verbose=0)
    assert len(refused) == 3 * 8 and all("inside a fit() callback" in m for m in refused)
    assert not net.closed
    assert snapshots[-1][2] == (history["val_loss"][-1], history["val_accuracy"][-1])
    np.testing.assert_array_equal(snapshots[-1][0], net.parameters)
    checkpoint = backprop.Network.load(tmp_path / "epoch1.bpm")
    np.testing.assert_array_equal(checkpoint.parameters, snapshots[1][0])


def test_divergence_raises_and_keeps_finite_parameters():
    X, y = regression_data(seed=16)
    net = regressor()
    with pytest.raises(backprop.DivergedError) as info:
        net.fit(X, y * 1000, epochs=50, batch_size=16, learning_rate=10.0, seed=0, verbose=0)
    err = info.value
    assert isinstance(err, FloatingPointError) and isinstance(err, ArithmeticError)
    assert err.status == 10 and "diverged" in err.message
    assert isinstance(err.history, dict) and len(err.history["loss"]) < 50
    params = net.parameters
    assert np.all(np.isfinite(params))
    # the network is usable afterwards (its parameters, finite but huge, are those of the
    # last good step; start again from sane ones)
    assert net.predict(X[:2]).shape == (2, 1)
    net.parameters = regressor().parameters
    history = net.fit(X, y, epochs=5, learning_rate=0.01, seed=0, verbose=0)
    assert np.all(np.isfinite(history["loss"])) and np.all(np.isfinite(net.parameters))


def test_divergence_in_train_step():
    X, y = regression_data(seed=17)
    net = regressor()
    with pytest.raises(backprop.DivergedError):
        for _ in range(100):
            net.train_step(X, y * 1e6, 1e6)
    assert np.all(np.isfinite(net.parameters))


def test_epochs_zero_and_argument_errors():
    X, y = blobs(n_per_class=5)
    net = classifier()
    before = net.parameters
    assert net.fit(X, y, epochs=0, verbose=0) == {"loss": [], "learning_rate": []}
    assert net.fit(X, y, epochs=0, validation_data=(X, y), verbose=0) == {
        "loss": [], "val_loss": [], "val_accuracy": [], "learning_rate": []}
    np.testing.assert_array_equal(net.parameters, before)
    for kwargs, match in [
        (dict(patience=-1), "patience is -1"),
        (dict(patience=1.5), "patience is 1.5"),
        (dict(min_delta=-0.1), "min_delta is -0.1"),
        (dict(min_delta=float("nan")), "min_delta is nan"),
        (dict(target_loss=0), "target_loss is 0"),
        (dict(target_loss=-1.0), "target_loss is -1.0"),
        (dict(target_loss=float("inf")), "target_loss is inf"),
        (dict(target_loss="low"), "target_loss is 'low'"),
        (dict(seed=-1), "seed is -1"),
        (dict(seed=2**64), "seed is"),
        (dict(seed=1.5), "seed is 1.5"),
        (dict(epochs=2**64), "epochs is"),
        (dict(learning_rate=float("inf")), "learning_rate is inf"),
    ]:
        with pytest.raises(ValueError, match=match):
            net.fit(X, y, verbose=0, **kwargs)
    np.testing.assert_array_equal(net.parameters, before)


def test_progress_lines_come_from_the_library_loop(capsys):
    X, y = blobs(n_per_class=5)
    classifier().fit(X, y, epochs=3, batch_size=5, verbose=2, validation_data=(X, y))
    err = capsys.readouterr().err
    assert "epoch 1/3" in err and "epoch 3/3" in err and "val_loss" in err and "val_accuracy" in err
    classifier().fit(X, y, epochs=3, verbose=0)
    assert capsys.readouterr().err == ""


def test_progress_display_errors_do_not_cross_into_c(monkeypatch):
    X, y = blobs(n_per_class=5)

    def broken(self, epoch, logs):
        raise RuntimeError("display broke")

    monkeypatch.setattr(training._Progress, "update", broken)
    net = classifier()
    with pytest.raises(RuntimeError, match="display broke"):
        net.fit(X, y, epochs=3, verbose=2)
    monkeypatch.undo()
    net.fit(X, y, epochs=1, verbose=0)  # still usable


def test_fit_at_batch_1_is_the_step_by_step_loop_bit_for_bit():
    """fit() steps a tiny network's single samples through its own fast step; the result
    is the general path's, bit for bit: a loop of forward/backward/update (and of
    train_step) over the same rows, with input scaling and sample weights."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(64, 2)).astype(np.float32) * 3 + 1
    Y = ((X[:, :1] > 1) ^ (X[:, 1:] > 1)).astype(np.float32)
    w = rng.uniform(0, 2, size=64).astype(np.float32)
    w[5] = 0  # skipped, as fit skips a batch of weight 0

    def network():
        net = backprop.Network([2, 8, 1], ["sigmoid", "sigmoid"], "mse", seed=4)
        net.set_input_scaling(X.mean(axis=0), 1 / X.std(axis=0))
        return net

    fitted = network()
    fitted.fit(X, Y, epochs=3, batch_size=1, learning_rate=0.5, shuffle=False, sample_weight=w, verbose=0)
    general, stepped = network(), network()
    for _ in range(3):
        for i in range(64):
            if w[i] == 0:
                continue
            general.forward(X[i:i + 1])
            general.backward(Y[i:i + 1])
            general.update(0.5)
            stepped.train_step(X[i:i + 1], Y[i:i + 1], 0.5)
    assert np.array_equal(general.parameters, stepped.parameters)
    assert np.array_equal(fitted.parameters, general.parameters)
