"""The numpy reference: the seed's training step in numpy, float32."""

from __future__ import annotations

import numpy as np

from .parameters import split_parameters


class NumpyMLP:
    """The training step in numpy, float32, one sample per row:

        z^l = a^(l-1) W^l^T + b^l,  a^l = sigma_l(z^l)
        delta^L = a^L - y (softmax + cross-entropy)  or  (a^L - y) * sigma'(z^L) (MSE)
        delta^(l-1) = (delta^l W^l) * sigma'(z^(l-1))
        W^l -= (eta/m) delta^l^T a^(l-1),  b^l -= (eta/m) sum_rows delta^l

    All buffers are preallocated per batch size; every operation writes in place or
    into its `out=` buffer.  delta^(l-1) is computed before W^l is updated."""

    name = "numpy"

    def __init__(self, spec, flat):
        self.layers = spec["layers"]
        self.acts = spec["acts"]
        self.loss = spec["loss"]
        self.W, self.b = split_parameters(self.layers, flat)
        self.WT = [w.T for w in self.W]  # views; matmul hands them to BLAS as transposed
        self.bufs = {}

    def _buffers(self, m):
        bufs = self.bufs.get(m)
        if bufs is None:
            L = self.layers
            bufs = dict(
                A=[None] + [np.empty((m, n), np.float32) for n in L[1:]],
                D=[None] + [np.empty((m, n), np.float32) for n in L[1:]],
                T=[None] + [np.empty((m, n), np.float32) for n in L[1:]],
                mask=[None] + [np.empty((m, n), np.bool_) for n in L[1:]],
                dW=[None] + [np.empty((L[l], L[l - 1]), np.float32) for l in range(1, len(L))],
                db=[None] + [np.empty(n, np.float32) for n in L[1:]],
                row=np.empty((m, 1), np.float32),
                rows=np.arange(m),
            )
            self.bufs[m] = bufs
        return bufs

    def _forward(self, X, bufs):
        a = X
        A = bufs["A"]
        for l in range(1, len(self.layers)):
            z = A[l]
            np.matmul(a, self.WT[l - 1], out=z)
            z += self.b[l - 1]
            act = self.acts[l - 1]
            if act == "relu":
                np.maximum(z, 0, out=z)
            elif act == "sigmoid":
                np.negative(z, out=z)
                np.exp(z, out=z)
                z += 1
                np.reciprocal(z, out=z)
            elif act == "softmax":
                row = bufs["row"]
                np.max(z, axis=1, keepdims=True, out=row)
                z -= row
                np.exp(z, out=z)
                np.sum(z, axis=1, keepdims=True, out=row)
                z /= row
            else:
                raise ValueError(act)
            a = z
        return a

    def forward(self, X):
        return self._forward(X, self._buffers(X.shape[0])).copy()

    def _sigmoid_prime_into(self, delta, a, tmp):
        np.subtract(1, a, out=tmp)
        tmp *= a
        delta *= tmp

    def train_step(self, X, Y, labels, lr):
        m = X.shape[0]
        bufs = self._buffers(m)
        A, D, T = bufs["A"], bufs["D"], bufs["T"]
        aL = self._forward(X, bufs)
        L = len(self.layers) - 1
        delta = D[L]
        np.subtract(aL, Y, out=delta)
        if self.loss == "mse":
            loss = 0.5 * float(np.vdot(delta, delta)) / m
            if self.acts[-1] == "sigmoid":
                self._sigmoid_prime_into(delta, aL, T[L])
        else:  # softmax + cross-entropy, one-hot targets: -mean log a[label]
            loss = -float(np.log(aL[bufs["rows"], labels]).sum()) / m
        scale = np.float32(lr / m)
        for l in range(L, 0, -1):
            a_prev = X if l == 1 else A[l - 1]
            if l > 1:
                prev = D[l - 1]
                np.matmul(delta, self.W[l - 1], out=prev)  # uses W^l before its update
                act = self.acts[l - 2]
                if act == "relu":
                    mask = bufs["mask"][l - 1]
                    np.greater(a_prev, 0, out=mask)
                    np.multiply(prev, mask, out=prev)
                elif act == "sigmoid":
                    self._sigmoid_prime_into(prev, a_prev, T[l - 1])
                else:
                    raise ValueError(act)
            delta *= scale
            dW = bufs["dW"][l]
            np.matmul(delta.T, a_prev, out=dW)
            self.W[l - 1] -= dW
            db = bufs["db"][l]
            np.sum(delta, axis=0, out=db)
            self.b[l - 1] -= db
            if l > 1:
                delta = D[l - 1]
        return loss

    def sync(self):
        pass

    def check_finite_state(self):
        for w in self.W:
            if not np.isfinite(w).all():
                raise RuntimeError("numpy reference: weights became non-finite")
