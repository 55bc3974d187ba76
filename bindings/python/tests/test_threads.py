"""Threads: the .threads property (bp_set_threads), parallel predict/evaluate on one
network, and the binding's readers-writer lock."""

import os
import pickle
import sys
import threading
import time

import numpy as np
import pytest

import backprop
from backprop._lock import SharedLock

ONLINE_CORES = os.sysconf("SC_NPROCESSORS_ONLN") if hasattr(os, "sysconf") else None


def classifier(seed=0):
    return backprop.Network([20, 64, 32, 5], ["tanh", "relu", "softmax"], loss="cross_entropy", seed=seed)


def data(n=512, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 20)).astype(np.float32)
    return X, rng.integers(0, 5, n)


def run_threads(target, count, timeout=120):
    errors = []

    def guarded(i):
        try:
            target(i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]


# ---------------------------------------------------------------- the threads property


def test_threads_property():
    net = classifier()
    default = net.threads
    assert default >= 1
    if ONLINE_CORES:
        assert default == ONLINE_CORES  # the number of online cores
    net.threads = 1
    assert net.threads == 1
    net.threads = 3
    assert net.threads == 3
    net.threads = 256
    assert net.threads == 256
    net.threads = 0  # back to the default
    assert net.threads == default
    with pytest.raises(backprop.InvalidArgumentError) as info:
        net.threads = 257
    assert info.value.message and net.threads == default
    for bad in (-1, 1.5, "2", True, None):
        with pytest.raises(ValueError, match="threads is"):
            net.threads = bad
    net.threads = 2
    assert pickle.loads(pickle.dumps(net)).threads == default  # a property of the process, not the model
    net.close()
    with pytest.raises(backprop.StateError):
        net.threads
    with pytest.raises(backprop.StateError):
        net.threads = 1


def test_thread_count_does_not_change_results():
    X, y = data()
    results = []
    for threads in (1, 2, 4):
        net = classifier(seed=3)
        net.threads = threads
        for i in range(20):
            net.train_step(X[i * 25 : i * 25 + 25], y[i * 25 : i * 25 + 25], 0.05)
        results.append(net.parameters)
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])


# ---------------------------------------------------------------- parallel inference


def test_predict_from_four_threads_equals_sequential():
    net = classifier()
    X, y = data(n=2048)
    net.fit(X, y, epochs=2, seed=0, verbose=0)
    chunks = [X[i::4] for i in range(4)]
    # (A row's outputs may differ in the last bit with the size of the batch it is
    # computed in, so the reference uses the same batch sizes.)
    sequential = [(net.predict(chunk), net.predict(chunk, batch_size=100)) for chunk in chunks]
    seq_eval = [net.evaluate(chunk, y[i::4]) for i, chunk in enumerate(chunks)]
    results = {}

    def work(i):
        for repeat in range(25):
            out = net.predict(chunks[i], batch_size=None if repeat % 2 else 100)
            ev = net.evaluate(chunks[i], y[i::4])
            results.setdefault(i, []).append((repeat, out, ev))

    run_threads(work, 4)
    for i in range(4):
        assert len(results[i]) == 25
        for repeat, out, ev in results[i]:
            np.testing.assert_array_equal(out, sequential[i][0 if repeat % 2 else 1])
            assert ev == seq_eval[i]


def test_readers_never_see_half_updated_parameters():
    """Writers swap the parameters between two sets while readers predict: every output
    is that of one set or the other, never of a mix."""
    net = classifier()
    X, _ = data(n=64)
    A = net.parameters
    B = classifier(seed=9).parameters
    expected_a = net.predict(X)
    net.parameters = B
    expected_b = net.predict(X)
    stop = threading.Event()
    readers_started = threading.Barrier(4)
    seen = {"a": 0, "b": 0}

    def reader(_):
        readers_started.wait(30)
        reads = 0
        while not stop.is_set() or reads < 50:
            out = net.predict(X)
            reads += 1
            if np.array_equal(out, expected_a):
                seen["a"] += 1
            elif np.array_equal(out, expected_b):
                seen["b"] += 1
            else:
                raise AssertionError("predict saw a mix of two parameter sets")

    def writer(_):
        readers_started.wait(30)
        try:
            for i in range(1000):
                net.parameters = A if i % 2 else B
        finally:
            stop.set()

    run_threads(lambda i: writer(i) if i == 0 else reader(i), 4)
    assert seen["a"] + seen["b"] >= 150


def test_training_and_predicting_threads_share_one_network_safely():
    net = classifier()
    X, y = data()
    baseline = classifier()
    for _ in range(50):
        baseline.train_step(X[:32], y[:32], 0.01)

    def work(i):
        if i == 0:
            for _ in range(50):
                net.train_step(X[:32], y[:32], 0.01)
        else:
            for _ in range(50):
                assert np.all(np.isfinite(net.predict(X[:16])))

    run_threads(work, 3)
    np.testing.assert_array_equal(net.parameters, baseline.parameters)  # the same 50 steps, in order


def test_fit_holds_the_network_other_threads_wait():
    net = classifier()
    X, y = data()
    in_fit = threading.Event()
    release = threading.Event()
    order = []

    def slow_callback(epoch, logs):
        if epoch == 0:
            in_fit.set()
            release.wait(30)
            time.sleep(0.05)  # give the predictor time to block on the network
        order.append(f"epoch {epoch}")

    def predictor():
        in_fit.wait(30)
        release.set()
        net.predict(X[:4])  # must wait for fit to finish
        order.append("predict")

    t = threading.Thread(target=predictor)
    t.start()
    net.fit(X, y, epochs=3, callback=slow_callback, verbose=0)
    t.join(30)
    assert order == ["epoch 0", "epoch 1", "epoch 2", "predict"]


def test_close_waits_for_running_predictions():
    net = backprop.Network([512, 1024, 1024, 10], ["relu", "relu", "softmax"], loss="cross_entropy", seed=0)
    X = np.random.default_rng(0).normal(size=(256, 512)).astype(np.float32)
    started = threading.Event()
    outputs = []

    def predict(_):
        started.set()
        for _ in range(5):
            try:
                outputs.append(net.predict(X))
            except backprop.StateError:
                return  # closed between two predictions: fine

    t = threading.Thread(target=predict, args=(0,))
    t.start()
    started.wait(30)
    net.close()  # waits for a prediction in progress, never frees the network under it
    t.join(60)
    assert net.closed and all(np.all(np.isfinite(o)) for o in outputs)


# ---------------------------------------------------------------- the lock itself


def test_shared_lock_semantics():
    lock = SharedLock()
    lock.acquire_shared()
    # a second reader enters while the first holds it
    entered = threading.Event()
    t = threading.Thread(target=lambda: (lock.acquire_shared(), entered.set(), lock.release_shared()))
    t.start()
    assert entered.wait(10)
    t.join()

    # a writer waits for the reader...
    writing = threading.Event()

    def writer():
        lock.acquire()
        writing.set()
        time.sleep(0.05)
        lock.release()

    w = threading.Thread(target=writer)
    w.start()
    time.sleep(0.05)
    assert not writing.is_set()
    # ...and, while it waits, new readers wait behind it (no writer starvation)
    late_reader = threading.Event()
    r = threading.Thread(target=lambda: (lock.acquire_shared(), late_reader.set(), lock.release_shared()))
    r.start()
    time.sleep(0.05)
    assert not late_reader.is_set()
    lock.release_shared()
    assert writing.wait(10)
    assert late_reader.wait(10)
    w.join()
    r.join()
    # free again
    lock.acquire()
    lock.release()
    lock.acquire_shared()
    lock.release_shared()


def test_shared_lock_excludes_under_contention():
    """Readers and writers hammering one lock: a writer is always alone inside."""
    lock = SharedLock()
    inside = {"readers": 0, "writers": 0}
    guard = threading.Lock()  # for the counters only
    broken = []

    def enter(kind):
        with guard:
            inside[kind] += 1
            if inside["writers"] > 1 or (inside["writers"] and inside["readers"]):
                broken.append(dict(inside))

    def leave(kind):
        with guard:
            inside[kind] -= 1

    def work(seed):
        rng = np.random.default_rng(seed)
        for _ in range(3000):
            if rng.random() < 0.2:
                lock.acquire()
                enter("writers")
                time.sleep(0)  # lets the others run while this one is inside
                leave("writers")
                lock.release()
            else:
                lock.acquire_shared()
                enter("readers")
                time.sleep(0)
                leave("readers")
                lock.release_shared()

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(6)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads between almost any two bytecodes
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        sys.setswitchinterval(interval)
    assert not any(t.is_alive() for t in threads), "a thread is stuck in the lock"
    assert not broken, broken[:3]
