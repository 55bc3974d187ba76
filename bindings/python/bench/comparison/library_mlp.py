"""The library side: libbackprop through the backprop package's public Network API."""

from __future__ import annotations

import numpy as np

from .workloads import SEED, make_batches


class LibraryMLP:
    """libbackprop through the backprop package's public Network API. With `params`,
    the network starts from those parameters instead of its seed's; a spec with
    "predict" runs its forward figure through predict() (bp_predict), as bench.c's E3."""

    name = "backprop"

    def __init__(self, backprop, spec, threads, set_threads, params=None):
        self.net = backprop.Network(spec["layers"], spec["acts"], loss=spec["loss"], seed=SEED)
        if params is not None:
            self.net.parameters = params
        if set_threads is not None:
            if isinstance(getattr(type(self.net), "threads", None), property):
                self.net.threads = threads  # the binding's own bp_set_threads wrapper
            else:
                status = set_threads(self.net._handle, threads)
                if status != 0:
                    raise RuntimeError(f"bp_set_threads({threads}) returned {status}")
        if spec.get("predict"):
            self.forward = self.net.predict  # E3 times bp_predict, as bench.c's E3 does

    def forward(self, X):
        return self.net.forward(X)

    def train_step(self, X, Y, labels, lr):
        return self.net.train_step(X, Y, lr)

    def sync(self):
        pass

    def check_finite_state(self):
        if not np.isfinite(self.net.parameters).all():
            raise RuntimeError("backprop: parameters became non-finite")


def starting_parameters(backprop, spec, X, Y, labels):
    """The parameters every implementation starts from: the seed's, or for a spec with
    "pretrain_batch" those after one epoch of full batches of that size at the spec's
    rate (bench.c's pretrain_one_epoch)."""
    net = LibraryMLP(backprop, spec, 1, None).net
    batch = spec.get("pretrain_batch")
    if batch:
        for x, y, _ in make_batches(dict(spec, batch=batch, kind="train"), X, Y, labels):
            net.train_step(x, y, spec["lr"])
    return net.parameters
