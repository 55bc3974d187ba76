"""Memory (RSS from /proc/self/statm) and threads."""

import gc
import os
import threading

import numpy as np
import pytest

import backprop

MiB = 1 << 20
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_create_destroy_and_train_do_not_leak():
    def churn(n):
        for i in range(n):
            net = backprop.Network([8, 16, 4], ["relu", "softmax"], loss="cross_entropy", seed=i)
            if i % 3 == 0:
                net.close()
            elif i % 3 == 1:
                with net:
                    pass
            # else: released by garbage collection (__del__)
            del net

    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 8)).astype(np.float32)
    y = rng.integers(0, 4, 32)
    net = backprop.Network([8, 16, 4], ["relu", "softmax"], loss="cross_entropy", seed=0)

    def train(n):
        for i in range(n):
            net.train_step(X, y, 0.01)
            if i % 10 == 0:
                net.forward(X[:5])
                net.backward(y[:5])
                net.gradients
                net.parameters = net.parameters

    churn(1000)  # warm-up: allocator pools, caches
    train(1000)
    before = rss()
    churn(10_000)
    after_create = rss()
    train(10_000)
    after_train = rss()
    assert after_create - before <= 8 * MiB, f"10,000 create/destroy grew RSS by {(after_create - before) / MiB:.1f} MiB"
    assert after_train - after_create <= 8 * MiB, f"10,000 train steps grew RSS by {(after_train - after_create) / MiB:.1f} MiB"


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_newer_calls_do_not_leak(tmp_path):
    """Model bytes and files, fit with its ctypes callback, predict/evaluate, options."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 8)).astype(np.float32)
    y = rng.integers(0, 4, 64)
    net = backprop.Network([8, 16, 4], ["relu", "softmax"], loss="cross_entropy", seed=0)
    net.set_optimizer("adam")
    path = tmp_path / "m.bpm"

    def churn(n):
        for i in range(n):
            copy = backprop.Network.from_bytes(net.to_bytes())
            copy.fit(X, y, epochs=1, batch_size=16, verbose=0, callback=lambda e, logs: None, seed=i)
            copy.predict(X)
            copy.evaluate(X, y)
            copy.set_option("beta1", 0.8)
            copy.options
            if i % 30 == 0:  # (save fsyncs: slow on some disks)
                copy.save(path)
                backprop.Network.load(path).close()
                try:
                    backprop.Network.from_bytes(b"not a model")
                except backprop.NotAModelError:
                    pass
            if i % 2:
                copy.close()
            del copy

    churn(300)  # warm-up
    before = rss()
    churn(3000)
    after = rss()
    assert after - before <= 8 * MiB, f"3,000 rounds grew RSS by {(after - before) / MiB:.1f} MiB"


def _train(seed, X, Y, steps, out, key):
    net = backprop.Network([X.shape[1], 64, 32, Y.shape[1]], ["tanh", "relu", "softmax"], loss="cross_entropy", seed=seed)
    losses = []
    for i in range(steps):
        start = (i * 16) % (len(X) - 16)
        losses.append(net.train_step(X[start : start + 16], Y[start : start + 16], 0.05))
    out[key] = (net.parameters, losses)


def test_two_threads_train_two_networks():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(512, 20)).astype(np.float32)
    Y = np.eye(5, dtype=np.float32)[rng.integers(0, 5, 512)]
    steps = 1500

    sequential = {}
    _train(1, X, Y, steps, sequential, "a")
    _train(2, X, Y, steps, sequential, "b")

    threaded = {}
    threads = [
        threading.Thread(target=_train, args=(1, X, Y, steps, threaded, "a")),
        threading.Thread(target=_train, args=(2, X, Y, steps, threaded, "b")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert set(threaded) == {"a", "b"}, "a thread did not finish"
    for key in "ab":
        np.testing.assert_array_equal(threaded[key][0], sequential[key][0])
        assert threaded[key][1] == sequential[key][1]


def test_shared_network_calls_are_serialised():
    """Training one network from several threads is not a supported pattern (use your
    own lock), but must not crash; predict may run in parallel with the others."""
    net = backprop.Network([10, 32, 2], ["relu", "softmax"], loss="cross_entropy", seed=0)
    X = np.random.default_rng(2).normal(size=(64, 10)).astype(np.float32)
    y = np.arange(64) % 2
    errors = []

    def worker():
        try:
            for _ in range(300):
                net.train_step(X, y, 0.01)
                net.predict(X[:3])
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert np.all(np.isfinite(net.parameters))
