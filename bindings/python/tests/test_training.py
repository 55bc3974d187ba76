"""fit / score: reproducibility, learning, history, callbacks, progress."""

import numpy as np
import pytest

import backprop
from backprop.training import _Progress


def blobs(n_per_class=200, seed=0):
    """Three 2-D Gaussian blobs (standard deviation 1, centres 6 apart)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [3.0, 5.0]])
    X = np.concatenate([rng.normal(c, 1.0, size=(n_per_class, 2)) for c in centres])
    y = np.repeat(np.arange(3), n_per_class)
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order]


def classifier(seed=0):
    return backprop.Network([2, 16, 3], ["relu", "softmax"], loss="cross_entropy", seed=seed)


def test_classification_reaches_95_percent():
    X, y = blobs(seed=0)
    Xt, yt = blobs(n_per_class=100, seed=1)
    net = classifier()
    history = net.fit(X, y, epochs=30, batch_size=16, learning_rate=0.05, seed=0, verbose=0)
    assert history["loss"][-1] < history["loss"][0]
    accuracy = net.score(Xt, yt)
    assert accuracy >= 0.95, accuracy
    assert net.score(Xt, np.eye(3)[yt]) == accuracy  # one-hot targets give the same


def test_same_seed_same_training():
    X, y = blobs(seed=2)
    runs = []
    for _ in range(2):
        net = classifier(seed=5)
        history = net.fit(X, y, epochs=5, batch_size=10, learning_rate=0.1, seed=3, verbose=0)
        runs.append((net.parameters, history["loss"]))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]

    # and train_step by hand is deterministic too
    a, b = classifier(seed=1), classifier(seed=1)
    for i in range(20):
        assert a.train_step(X[i * 8 : i * 8 + 8], y[i * 8 : i * 8 + 8], 0.1) == b.train_step(
            X[i * 8 : i * 8 + 8], y[i * 8 : i * 8 + 8], 0.1
        )
    np.testing.assert_array_equal(a.parameters, b.parameters)

    other = classifier(seed=5)
    other.fit(X, y, epochs=5, batch_size=10, learning_rate=0.1, seed=4, verbose=0)
    assert not np.array_equal(other.parameters, runs[0][0])  # a different shuffle


def test_fit_without_shuffle_equals_manual_steps():
    X, y = blobs(n_per_class=20, seed=3)
    a, b = classifier(seed=2), classifier(seed=2)
    a.fit(X, y, epochs=2, batch_size=25, learning_rate=0.1, shuffle=False, verbose=0)
    for _ in range(2):
        for start in range(0, 60, 25):
            b.train_step(X[start : start + 25], y[start : start + 25], 0.1)
    np.testing.assert_array_equal(a.parameters, b.parameters)


def test_history_with_validation():
    X, y = blobs(seed=4)
    Xv, yv = blobs(n_per_class=50, seed=5)
    net = classifier(seed=3)
    # full-batch gradient descent with a small step: the loss must fall every epoch
    history = net.fit(X, y, epochs=12, batch_size=len(X), learning_rate=0.05, validation_data=(Xv, yv), verbose=0)
    assert set(history) == {"loss", "val_loss", "val_accuracy", "learning_rate"}
    assert all(len(v) == 12 for v in history.values())
    assert all(b < a for a, b in zip(history["loss"], history["loss"][1:])), history["loss"]
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert all(0.0 <= v <= 1.0 for v in history["val_accuracy"])
    # the val numbers describe the network after the epoch
    assert history["val_accuracy"][-1] == net.score(Xv, yv)


def test_history_without_validation_and_regression():
    rng = np.random.default_rng(6)
    X = rng.uniform(-1, 1, size=(256, 3))
    y = X @ np.array([0.5, -1.0, 2.0]) + 0.3
    net = backprop.Network([3, 16, 1], ["tanh", "linear"], loss="mse", seed=0)
    before = net.score(X, y)
    history = net.fit(X, y, epochs=40, batch_size=16, learning_rate=0.05, seed=0, validation_data=(X, y), verbose=0)
    assert set(history) == {"loss", "val_loss", "learning_rate"}  # no accuracy for a regressor
    after = net.score(X, y)
    assert after < before / 10, (before, after)
    assert after == pytest.approx(history["val_loss"][-1], rel=1e-9)
    outputs = net.predict(X)
    assert after == pytest.approx(np.mean(0.5 * (outputs[:, 0] - y) ** 2), rel=1e-4)
    assert set(net.fit(X, y, epochs=1, verbose=0)) == {"loss", "learning_rate"}


def test_callback_stops_training():
    X, y = blobs(n_per_class=30, seed=7)
    seen = []

    def stop_at_two(epoch, logs):
        seen.append((epoch, dict(logs)))
        return epoch == 2

    net = classifier()
    history = net.fit(X, y, epochs=50, batch_size=8, validation_data=(X, y), callback=stop_at_two, verbose=0)
    assert len(history["loss"]) == 3 and len(history["val_loss"]) == 3
    assert [e for e, _ in seen] == [0, 1, 2]
    assert set(seen[0][1]) == {"loss", "val_loss", "val_accuracy", "learning_rate"}
    assert seen[2][1]["loss"] == history["loss"][2]

    truthy = net.fit(X, y, epochs=10, callback=lambda e, logs: "stop" if e == 0 else None, verbose=0)
    assert len(truthy["loss"]) == 1


def test_sigmoid_binary_classification_and_score():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(400, 2)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    net = backprop.Network([2, 8, 1], ["tanh", "sigmoid"], loss="cross_entropy", seed=0)
    history = net.fit(X, y, epochs=30, batch_size=20, learning_rate=0.5, seed=1, validation_data=(X, y), verbose=0)
    assert "val_accuracy" in history
    assert net.score(X, y) >= 0.95
    assert net.score(X, y.astype(np.float32)) == net.score(X, y)  # 0/1 floats: threshold 0.5


def test_epochs_zero_and_big_batch():
    X, y = blobs(n_per_class=5)
    net = classifier()
    before = net.parameters
    assert net.fit(X, y, epochs=0, verbose=0) == {"loss": [], "learning_rate": []}
    np.testing.assert_array_equal(net.parameters, before)
    history = net.fit(X, y, epochs=2, batch_size=10_000, verbose=0)  # clipped to n
    assert len(history["loss"]) == 2


def test_progress_output(capsys):
    X, y = blobs(n_per_class=5)
    net = classifier()
    net.fit(X, y, epochs=3, batch_size=5, verbose=2)
    err = capsys.readouterr().err
    assert "epoch 1/3" in err and "epoch 3/3" in err and "loss" in err
    net.fit(X, y, epochs=3, batch_size=5, verbose=0)
    net.fit(X, y, epochs=3, batch_size=5)  # default: quiet for short runs
    assert capsys.readouterr().err == ""


def test_progress_text_fallback(capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    progress = _Progress(1, epochs=4, delay=0.0)
    for epoch in range(4):
        progress.update(epoch, {"loss": 1.0 / (epoch + 1)})
    progress.close()
    err = capsys.readouterr().err
    assert "epoch 1/4" in err and "epoch 4/4" in err
