"""The sgemm bound (../shared/benchmarks.md): the time numpy's BLAS needs for a step's
matrix products alone, on the step's shapes, at the same thread count. A dense step
cannot beat it by much without skipping work, so library rate / bound rate says how
close the library's step is to what this machine's sgemm can do."""

from __future__ import annotations

import numpy as np

from .parameters import split_parameters


class SgemmBound:
    """Only the products of the training step, one sample per row, into preallocated
    outputs: forward z^l = a^(l-1) W^l^T for every layer; backward delta^l W^l for layers
    2..L and delta^l^T a^(l-1) for every layer. The operands a^l and delta^l are fixed
    uniform values (no activations, no updates): their values do not change what sgemm
    costs, and fixed ones keep subnormals out."""

    name = "sgemm bound"
    checked = False  # its outputs are not a network's: check_impl and agree() skip it

    def __init__(self, spec, flat):
        self.layers = spec["layers"]
        self.W, _ = split_parameters(self.layers, flat)
        self.WT = [w.T for w in self.W]
        self.bufs = {}

    def _buffers(self, m):
        bufs = self.bufs.get(m)
        if bufs is None:
            L, rng = self.layers, np.random.default_rng(0)
            fixed = [rng.random((m, n), dtype=np.float32) for n in L]
            bufs = dict(
                A=fixed,
                D=[None] + [f * np.float32(1e-2) for f in fixed[1:]],
                Z=[None] + [np.empty((m, n), np.float32) for n in L[1:]],
                P=[np.empty((m, n), np.float32) for n in L[:-1]],
                dW=[None] + [np.empty((L[l], L[l - 1]), np.float32) for l in range(1, len(L))],
            )
            self.bufs[m] = bufs
        return bufs

    def _forward(self, X, bufs):
        a = X
        for l in range(1, len(self.layers)):
            np.matmul(a, self.WT[l - 1], out=bufs["Z"][l])
            a = bufs["A"][l]
        return bufs["Z"][-1]

    def forward(self, X):
        return self._forward(X, self._buffers(X.shape[0]))

    def train_step(self, X, Y, labels, lr):
        bufs = self._buffers(X.shape[0])
        self._forward(X, bufs)
        for l in range(len(self.layers) - 1, 0, -1):
            delta, a_prev = bufs["D"][l], (X if l == 1 else bufs["A"][l - 1])
            if l > 1:
                np.matmul(delta, self.W[l - 1], out=bufs["P"][l - 1])
            np.matmul(delta.T, a_prev, out=bufs["dW"][l])
        return 0.0

    def sync(self):
        pass

    def check_finite_state(self):
        pass
