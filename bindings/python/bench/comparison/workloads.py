"""The workloads of benchmarks.md as compare.py runs them, and their synthetic data.

Each spec is a plain dict (it travels to the reference workers as JSON): the network,
the step's batch and learning rate, how it is timed ("kind") and the unit of its figure.
"""

from __future__ import annotations

import numpy as np

SEED = 42

A_NETWORK = dict(layers=[784, 256, 128, 10], acts=["relu", "relu", "softmax"], loss="cross_entropy")
D_NETWORK = dict(layers=[2, 8, 1], acts=["sigmoid", "sigmoid"], loss="mse")

WORKLOADS = {
    "A": dict(A_NETWORK, batch=128, lr=0.05, kind="epoch", pool=60000, unit="samples/s"),
    "B": dict(layers=[64, 32, 10], acts=["sigmoid", "softmax"], loss="cross_entropy",
              batch=32, lr=0.1, kind="train", pool=60000, unit="samples/s"),
    "C": dict(layers=[1024, 1024, 1024, 1024, 10], acts=["relu", "relu", "relu", "softmax"],
              loss="cross_entropy", batch=256, lr=0.01, kind="train", pool=4096, unit="samples/s"),
    "D": dict(D_NETWORK, batch=1, lr=0.5, kind="train", pool=4096, unit="steps/s", xor=True),
    "E1": dict(A_NETWORK, batch=1, lr=0.0, kind="forward", pool=1024, unit="us/call"),
    "E2": dict(A_NETWORK, batch=1024, lr=0.0, kind="forward", pool=8192, unit="samples/s"),
    # bench.c's E3: E2 on a network after one epoch of A's training (batch 128, A's rate),
    # which leaves most ReLU units off as in a trained network; the library predicts
    # (bp_predict), the references run the forward pass on the same trained parameters.
    "E3": dict(A_NETWORK, batch=1024, lr=0.05, kind="forward", pool=60000, unit="samples/s",
               pretrain_batch=128, predict=True),
    # bench.c's DL: D for about 20M steps from a fresh network, timed by quarter (see
    # long_run.py); the library only.
    "DL": dict(D_NETWORK, batch=1, lr=0.5, kind="long", pool=4096, unit="steps/s", xor=True),
}
# Also the order of the data streams (make_data): new workloads go at the end, so that
# the others keep their data.
ORDER = ["A", "B", "C", "D", "E1", "E2", "E3", "DL"]
# The notes under the table of the workloads that need one (DL's comes from long_run.py).
NOTES = {
    "E3": "E3: A's network after one epoch of training (batch 128), Network.predict (bp_predict) at batch 1024; "
          "the references run their forward pass on the same trained parameters",
}
THREADED = ("A", "B", "C", "E2", "E3")  # rows at every --threads count; the others at 1 thread
QUICK_POOL = {"A": 6016, "C": 1024, "E3": 6016}


def spec_for(wid: str, quick: bool) -> dict:
    spec = dict(WORKLOADS[wid])
    spec["id"] = wid
    if quick and wid in QUICK_POOL:
        spec["pool"] = QUICK_POOL[wid]
    return spec


def weight_count(spec) -> int:
    layers = spec["layers"]
    return sum(layers[i] * layers[i - 1] for i in range(1, len(layers)))


def make_data(spec, seed=SEED):
    """Synthetic data, identical in every process: inputs uniform in [0, 1), targets
    one-hot of a uniformly random class (D: XOR of x0 > 0.5 and x1 > 0.5)."""
    n_in, n_out = spec["layers"][0], spec["layers"][-1]
    rng = np.random.default_rng([seed, ORDER.index(spec["id"])])
    X = rng.random((spec["pool"], n_in), dtype=np.float32)
    if spec.get("xor"):
        Y = ((X[:, 0] > 0.5) != (X[:, 1] > 0.5)).astype(np.float32).reshape(-1, 1)
        labels = None
    else:
        labels = rng.integers(0, n_out, size=spec["pool"])
        Y = np.zeros((spec["pool"], n_out), dtype=np.float32)
        Y[np.arange(spec["pool"]), labels] = 1.0
    return X, Y, labels


def make_batches(spec, X, Y, labels):
    """Row-slice views (C-contiguous, no copies). "epoch": the whole pool once, the last
    batch smaller if the pool is not a multiple of the batch; else full batches."""
    b, pool = spec["batch"], spec["pool"]
    starts = range(0, pool, b) if spec["kind"] == "epoch" else range(0, pool - b + 1, b)
    out = []
    for s in starts:
        e = min(s + b, pool)
        out.append((X[s:e], Y[s:e], None if labels is None else labels[s:e]))
    return out
