"""The optional PyTorch reference (a column only when torch imports)."""

from __future__ import annotations

import numpy as np

from .parameters import split_parameters


class TorchMLP:
    """The same step in PyTorch (no autograd; preallocated buffers, in-place ops)."""

    name = "torch"

    def __init__(self, spec, flat, threads):
        import torch

        self.torch = torch
        torch.set_num_threads(threads)
        self.layers, self.acts, self.loss = spec["layers"], spec["acts"], spec["loss"]
        Ws, bs = split_parameters(self.layers, flat)
        self.W = [torch.from_numpy(w) for w in Ws]
        self.b = [torch.from_numpy(b) for b in bs]
        self.bufs = {}

    def _t(self, x):
        return self.torch.from_numpy(x) if isinstance(x, np.ndarray) else x

    def _buffers(self, m):
        bufs = self.bufs.get(m)
        if bufs is None:
            t, L = self.torch, self.layers
            bufs = dict(
                A=[None] + [t.empty((m, n)) for n in L[1:]],
                D=[None] + [t.empty((m, n)) for n in L[1:]],
                rows=t.arange(m),
            )
            self.bufs[m] = bufs
        return bufs

    def _forward(self, X, bufs):
        t = self.torch
        a = X
        for l in range(1, len(self.layers)):
            z = bufs["A"][l]
            t.addmm(self.b[l - 1], a, self.W[l - 1].t(), out=z)
            act = self.acts[l - 1]
            if act == "relu":
                z.clamp_(min=0)
            elif act == "sigmoid":
                t.sigmoid(z, out=z)
            else:
                z.sub_(z.max(dim=1, keepdim=True).values).exp_()
                z.div_(z.sum(dim=1, keepdim=True))
            a = z
        return a

    def forward(self, X):
        X = self._t(X)
        with self.torch.no_grad():
            return self._forward(X, self._buffers(X.shape[0])).numpy().copy()

    def train_step(self, X, Y, labels, lr):
        t = self.torch
        X, Y = self._t(X), self._t(Y)
        m = X.shape[0]
        bufs = self._buffers(m)
        A, D = bufs["A"], bufs["D"]
        with t.no_grad():
            aL = self._forward(X, bufs)
            L = len(self.layers) - 1
            delta = D[L]
            t.sub(aL, Y, out=delta)
            if self.loss == "mse":
                loss = 0.5 * float(delta.pow(2).sum()) / m
                if self.acts[-1] == "sigmoid":
                    delta.mul_(aL * (1 - aL))
            else:
                loss = -float(aL[bufs["rows"], self._t(labels)].log().sum()) / m
            scale = lr / m
            for l in range(L, 0, -1):
                a_prev = X if l == 1 else A[l - 1]
                if l > 1:
                    prev = D[l - 1]
                    t.mm(delta, self.W[l - 1], out=prev)
                    if self.acts[l - 2] == "relu":
                        prev.mul_(a_prev > 0)
                    else:
                        prev.mul_(a_prev * (1 - a_prev))
                self.W[l - 1].addmm_(delta.t(), a_prev, alpha=-scale)
                self.b[l - 1].sub_(delta.sum(dim=0), alpha=scale)
                if l > 1:
                    delta = D[l - 1]
        return loss

    def sync(self):
        pass

    def check_finite_state(self):
        for w in self.W:
            if not bool(self.torch.isfinite(w).all()):
                raise RuntimeError("torch: weights became non-finite")
