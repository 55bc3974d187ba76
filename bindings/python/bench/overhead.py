#!/usr/bin/env python3
"""What the Python binding adds to a call (issue 16, item 4): the same call, in one run,
through the bare ctypes function with its arguments made once, and through Network
(checks, conversions, the lock, the result), per call, best of 5 repeats of 100,000.

Rows: train_step on workload B (64-32-10 sigmoid/softmax, cross-entropy, batch 32),
forward and predict of 4 samples of the same network; then B's samples/s through
Network.train_step, to set beside `scripts/bench B` (the C harness) on the same machine.

Usage (the library built):
    BACKPROP_LIBRARY=$PWD/.build/release/libbackprop.so python3 bindings/python/bench/overhead.py
"""

import ctypes
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

import backprop  # noqa: E402
from backprop import _arrays, _lib  # noqa: E402
from machine import cpu_description  # noqa: E402


def per_call(function, calls=100_000, repeats=5) -> float:
    """Best time of one call, in µs, after a warm-up."""
    for _ in range(2000):
        function()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - start) / calls * 1e6)
    return best


def call_pairs():
    """The network (kept alive by the callers) and, for each call, its name, the bare
    ctypes call and the Network call, with their arguments made once."""
    rng = np.random.default_rng(42)
    X = rng.random((32, 64), dtype=np.float32)
    Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 32)]
    net = backprop.Network([64, 32, 10], ["sigmoid", "softmax"], loss="cross_entropy", init="he_glorot_uniform")
    net.threads = 1
    lib, handle = _lib.lib, net._handle
    loss = ctypes.c_float()
    small, out = X[:4].copy(), np.empty((4, 10), dtype=np.float32)
    x, y, x4, o = (_arrays.argument(a) for a in (X, Y, small, out))
    rows = [
        ("train_step, batch 32", lambda: lib.bp_train_step(handle, x, y, 32, 0.1, ctypes.byref(loss)),
         lambda: net.train_step(X, Y, 0.1)),
        ("forward, batch 4", lambda: lib.bp_forward(handle, x4, 4, o), lambda: net.forward(small)),
        ("predict, batch 4", lambda: lib.bp_predict(handle, x4, 4, o), lambda: net.predict(small)),
    ]
    return net, rows


def measure(rows, calls=100_000, repeats=5):
    """[(call, ctypes µs, Network µs)] for each of call_pairs()'s rows, in turn."""
    return [(name, per_call(bare, calls, repeats), per_call(binding, calls, repeats)) for name, bare, binding in rows]


def table_lines(results):
    """The table of measure()'s results, as main() prints it."""
    lines = [f"{'call':<22} {'ctypes µs':>10} {'Network µs':>11} {'added µs':>9}"]
    for name, c, p in results:
        lines.append(f"{name:<22} {c:10.2f} {p:11.2f} {p - c:9.2f}")
    return lines


def main():
    _net, rows = call_pairs()
    print(f"CPU: {cpu_description()}; backprop {backprop.version()}, 1 thread")
    for line in table_lines(measure(rows)):
        print(line)
    rate = 32 / per_call(rows[0][2]) * 1e6  # Network.train_step on B's batch of 32, as timed above
    print(f"\nB through Network.train_step: {rate:,.0f} samples/s (compare: scripts/bench --threads 1 B)")


if __name__ == "__main__":
    main()
