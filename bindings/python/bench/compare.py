#!/usr/bin/env python3
"""Compare libbackprop (through the ``backprop`` Python package) with a numpy reference.

Times the benchmark workloads (benchmarks.md) with the library and, in the same run, a
numpy implementation of the same training step -- the seed's equations, float32,
W <- W - (eta/m) sum_x dC/dW -- and prints one table:

    workload, threads, unit, backprop median [min..max], numpy median [min..max], ratio

ratio is the speed of backprop relative to numpy: higher is better (figure/figure for
rates, numpy time / backprop time for the E1 latency).  PyTorch and JAX columns appear
when those packages are importable (never required).

Processes.  The library runs in this process, with the environment as it is.  The
numpy reference runs in a worker subprocess, one per thread count, started with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed together (they slow numpy on some
machines and OpenBLAS reads them when it loads), with numpy's BLAS limited to the row's
thread count by threadpoolctl; the BLAS kernel it loaded is printed.  PyTorch/JAX run in
a second worker of the same kind (torch.set_num_threads; XLA single-threaded for 1, its
default pool otherwise), so a failure there only drops their columns.  Nothing runs at
the same time as anything else, but the repeats take turns: one of the library, one of
numpy, one of each framework, and again, so that a slow spell of a shared machine (a
VM's second core is the usual victim) slows every column instead of skewing a ratio.
Each turn starts after a pause on an idle machine: OpenBLAS's threads spin for about
0.1 s after a call and would otherwise take a core from the next turn.

Checks before timing, for every implementation: outputs are finite (softmax rows sum to
1), the loss goes down over 31 steps on one batch, and -- starting from the library's
initial parameters -- the reference's losses (training) or outputs (forward) agree with
the library's, so both time the same computation.

Workloads: A, B, C at threads 1 and 2; D, E1 (Python-call latency via ctypes; the C
figure is bench/bench.c's), E2 at 1 thread.  The library has one thread unless it
exports bp_set_threads(); without it the 2-thread rows show its 1-thread figure (*).

Usage (from the repository root, after the library is built):
    python3 -m pip install threadpoolctl       # needed; numpy as well
    BACKPROP_LIBRARY=$PWD/.build/release/libbackprop.so \\
        python3 bindings/python/bench/compare.py [--workloads A,B] [--repeats N] [--quick]

Options:
    --workloads LIST  comma-separated subset of A,B,C,D,E1,E2 (default all)
    --repeats N       timed repeats per figure (default 5)
    --threads LIST    thread counts of A, B, C rows (default 1,2)
    --seconds S       minimum time of one repeat for B-E (default 0.3; --quick 0.05)
    --quick           CI smoke run: A's epoch 6,016 samples, C's pool 1,024, short repeats
    --no-frameworks   skip the optional PyTorch / JAX columns
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)  # bindings/python
SCRUBBED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SEED = 42

# ----------------------------------------------------------------------------- workloads

WORKLOADS = {
    "A": dict(layers=[784, 256, 128, 10], acts=["relu", "relu", "softmax"], loss="cross_entropy",
              batch=128, lr=0.05, kind="epoch", pool=60000, unit="samples/s"),
    "B": dict(layers=[64, 32, 10], acts=["sigmoid", "softmax"], loss="cross_entropy",
              batch=32, lr=0.1, kind="train", pool=60000, unit="samples/s"),
    "C": dict(layers=[1024, 1024, 1024, 1024, 10], acts=["relu", "relu", "relu", "softmax"],
              loss="cross_entropy", batch=256, lr=0.01, kind="train", pool=4096, unit="samples/s"),
    "D": dict(layers=[2, 8, 1], acts=["sigmoid", "sigmoid"], loss="mse",
              batch=1, lr=0.5, kind="train", pool=4096, unit="steps/s", xor=True),
    "E1": dict(layers=[784, 256, 128, 10], acts=["relu", "relu", "softmax"], loss="cross_entropy",
               batch=1, lr=0.0, kind="forward", pool=1024, unit="us/call"),
    "E2": dict(layers=[784, 256, 128, 10], acts=["relu", "relu", "softmax"], loss="cross_entropy",
               batch=1024, lr=0.0, kind="forward", pool=8192, unit="samples/s"),
}
ORDER = ["A", "B", "C", "D", "E1", "E2"]
THREADED = ("A", "B", "C")  # rows at every --threads count; the others at 1 thread
QUICK_POOL = {"A": 6016, "C": 1024}
CHECK_STEPS = 31
# Seconds of idle machine before each timed repeat. After a call OpenBLAS keeps its
# threads spinning for about 0.1 s, which would take a core from whatever is timed next.
TURN_PAUSE = 0.25
AGREE_STEPS = 5


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


# ----------------------------------------------------------------------------- timing


class Timer:
    """Times one implementation on one workload. Construction warms up (doubling until
    >= min(seconds, 0.2) s, which also measures one step) and fixes the units of work
    per repeat; each `repeat()` then times one repeat and returns its figure. The caller
    interleaves the repeats of every implementation, so that a slow spell of a shared
    machine falls on all of them rather than on whichever was running."""

    def __init__(self, impl, spec, batches, seconds):
        self.impl, self.spec, self.batches = impl, spec, batches
        self.cursor = 0
        n = 1
        while True:
            t0 = time.perf_counter()
            self._run(n)
            t = time.perf_counter() - t0
            if t >= min(seconds, 0.2) or n >= 1 << 30:
                break
            n *= 2
        per_unit = t / n
        if spec["kind"] == "epoch":
            self.units, self.samples = len(batches), spec["pool"]
        else:
            self.units = max(1, int(math.ceil(seconds / per_unit)))
            self.samples = self.units * spec["batch"]

    def _run(self, n):
        c, nb = self.cursor, len(self.batches)
        if self.spec["kind"] == "forward":
            fwd = self.impl.forward
            for _ in range(n):
                fwd(self.batches[c][0])
                c = (c + 1) % nb
        else:
            train, lr = self.impl.train_step, self.spec["lr"]
            for _ in range(n):
                x, y, lab = self.batches[c]
                train(x, y, lab, lr)
                c = (c + 1) % nb
        self.cursor = c
        self.impl.sync()

    def repeat(self) -> float:
        if self.spec["kind"] == "epoch":
            self.cursor = 0
        t0 = time.perf_counter()
        self._run(self.units)
        t = time.perf_counter() - t0
        unit = self.spec["unit"]
        if unit == "us/call":
            return t / self.units * 1e6
        if unit == "steps/s":
            return self.units / t
        return self.samples / t

    def finish(self):
        """After the last repeat: the parameters are still finite."""
        self.impl.check_finite_state()


def check_impl(impl, spec, batches):
    """Before timing: the step is real. Training: outputs finite, loss falls over
    CHECK_STEPS steps on one batch; returns the losses. Forward: outputs finite, softmax
    rows sum to 1; returns the outputs of the first batch."""
    x, y, lab = batches[0]
    out = np.asarray(impl.forward(x), dtype=np.float32)
    if not np.isfinite(out).all():
        raise RuntimeError(f"{impl.name} {spec['id']}: forward outputs are not finite")
    if spec["kind"] == "forward":
        sums = out.sum(axis=1)
        if np.abs(sums - 1).max() > 1e-4:
            raise RuntimeError(f"{impl.name} {spec['id']}: softmax rows sum to {sums.min()}..{sums.max()}, not 1")
        return out.tolist()
    losses = [float(impl.train_step(x, y, lab, spec["lr"])) for _ in range(CHECK_STEPS)]
    impl.sync()
    out = np.asarray(impl.forward(x), dtype=np.float32)
    if not (np.isfinite(losses).all() and np.isfinite(out).all()):
        raise RuntimeError(f"{impl.name} {spec['id']}: non-finite loss or outputs after training: {losses[-1]}")
    if not losses[-1] < losses[0]:
        raise RuntimeError(
            f"{impl.name} {spec['id']}: the loss did not go down over {CHECK_STEPS} steps on one batch: "
            f"{losses[0]:.6g} -> {losses[-1]:.6g}")
    return losses


def split_parameters(layers, flat):
    """The flat layout of backprop.h: for each layer W (n_l x n_(l-1), row-major), then b."""
    Ws, bs, o = [], [], 0
    for l in range(1, len(layers)):
        n, k = layers[l], layers[l - 1]
        Ws.append(np.array(flat[o:o + n * k], dtype=np.float32).reshape(n, k))
        o += n * k
        bs.append(np.array(flat[o:o + n], dtype=np.float32))
        o += n
    if o != len(flat):
        raise ValueError(f"parameter vector has {len(flat)} floats, the layers need {o}")
    return Ws, bs


# ----------------------------------------------------------------------------- numpy reference


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


# ----------------------------------------------------------------------------- optional frameworks


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


class JaxMLP:
    """The same step in JAX, jit-compiled (explicit equations, no autodiff)."""

    name = "jax"

    def __init__(self, spec, flat, threads):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        layers, acts, loss_kind = spec["layers"], spec["acts"], spec["loss"]
        Ws, bs = split_parameters(layers, flat)
        self.params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in zip(Ws, bs)]
        self._pending = None

        def activate(z, act):
            if act == "relu":
                return jnp.maximum(z, 0)
            if act == "sigmoid":
                return jax.nn.sigmoid(z)
            return jax.nn.softmax(z, axis=1)

        def forward(params, X):
            a = X
            As = [X]
            for (W, b), act in zip(params, acts):
                a = activate(a @ W.T + b, act)
                As.append(a)
            return As

        def step(params, X, Y, lr):
            m = X.shape[0]
            As = forward(params, X)
            aL = As[-1]
            delta = aL - Y
            if loss_kind == "mse":
                loss = 0.5 * jnp.sum(delta * delta) / m
                if acts[-1] == "sigmoid":
                    delta = delta * aL * (1 - aL)
            else:
                loss = -jnp.sum(Y * jnp.log(jnp.maximum(aL, 1e-38))) / m
            scale = lr / m
            new = list(params)
            for l in range(len(params), 0, -1):
                W, b = params[l - 1]
                a_prev = As[l - 1]
                if l > 1:
                    prev = delta @ W
                    if acts[l - 2] == "relu":
                        prev = prev * (a_prev > 0)
                    else:
                        prev = prev * a_prev * (1 - a_prev)
                new[l - 1] = (W - scale * (delta.T @ a_prev), b - scale * jnp.sum(delta, axis=0))
                if l > 1:
                    delta = prev
            return new, loss

        self._step = jax.jit(step, donate_argnums=0)
        self._forward = jax.jit(lambda p, X: forward(p, X)[-1])

    def forward(self, X):
        return np.asarray(self._forward(self.params, X))

    def train_step(self, X, Y, labels, lr):
        self.params, loss = self._step(self.params, X, Y, np.float32(lr))
        self._pending = loss
        return loss

    def sync(self):
        self.jax.block_until_ready(self.params)

    def check_finite_state(self):
        for W, _ in self.params:
            if not bool(self.jnp.isfinite(W).all()):
                raise RuntimeError("jax: weights became non-finite")


# ----------------------------------------------------------------------------- library side


class LibraryMLP:
    """libbackprop through the backprop package's public Network API."""

    name = "backprop"

    def __init__(self, backprop, spec, threads, set_threads):
        self.net = backprop.Network(spec["layers"], spec["acts"], loss=spec["loss"], seed=SEED)
        if set_threads is not None:
            if isinstance(getattr(type(self.net), "threads", None), property):
                self.net.threads = threads  # the binding's own bp_set_threads wrapper
            else:
                status = set_threads(self.net._handle, threads)
                if status != 0:
                    raise RuntimeError(f"bp_set_threads({threads}) returned {status}")

    def forward(self, X):
        return self.net.forward(X)

    def train_step(self, X, Y, labels, lr):
        return self.net.train_step(X, Y, lr)

    def sync(self):
        pass

    def check_finite_state(self):
        if not np.isfinite(self.net.parameters).all():
            raise RuntimeError("backprop: parameters became non-finite")


# ----------------------------------------------------------------------------- worker process


def blas_info():
    from threadpoolctl import threadpool_info

    return [
        {k: d.get(k) for k in ("internal_api", "architecture", "version", "num_threads", "filepath")}
        for d in threadpool_info()
        if d.get("user_api") == "blas"
    ]


def worker_main(threads: int, kind: str) -> int:
    """Serve reference runs over stdin/stdout, one JSON object per line: "prepare" checks
    and warms up every implementation on a workload, then each "repeat" times one repeat
    of each, and "finish" checks their final state.

    kind "numpy": the numpy reference; kind "frameworks": PyTorch and/or JAX, whichever
    imports (a separate process, so neither can disturb numpy's, and a crash of theirs
    only drops their columns)."""
    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # stray prints from libraries go to stderr, not into the protocol
    sys.stdout = sys.stderr
    np.seterr(over="ignore")  # exp(-z) of sigmoid may overflow to inf: 1/(1+inf) = 0 is right
    from threadpoolctl import threadpool_limits

    limiter = threadpool_limits(limits=threads, user_api="blas")  # noqa: F841 (kept alive)

    impls, versions = {}, {}
    if kind == "numpy":
        impls["numpy"] = lambda spec, flat: NumpyMLP(spec, flat)
        versions["numpy"] = np.__version__
    else:
        try:
            import torch

            versions["torch"] = torch.__version__
            impls["torch"] = lambda spec, flat: TorchMLP(spec, flat, threads)
        except Exception:
            pass
        try:
            import jax

            jax.config.update("jax_platforms", "cpu")
            versions["jax"] = jax.__version__
            impls["jax"] = lambda spec, flat: JaxMLP(spec, flat, threads)
        except Exception:
            pass

    cache = {}
    timers = {}
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["cmd"] == "info":
                reply = dict(blas=blas_info(), versions=versions, impls=list(impls),
                             env={k: os.environ.get(k) for k in SCRUBBED_ENV})
            elif req["cmd"] == "prepare":
                spec = req["spec"]
                if cache.get("key") != (spec["id"], spec["pool"]):
                    cache.clear()
                    X, Y, labels = make_data(spec)
                    cache.update(key=(spec["id"], spec["pool"]), batches=make_batches(spec, X, Y, labels),
                                 data=(X, Y, labels))
                batches = cache["batches"]
                flat = np.load(req["params"])
                reply, timers = {}, {}
                for name, make in impls.items():
                    try:
                        check = check_impl(make(spec, flat), spec, batches)
                        timers[name] = Timer(make(spec, flat), spec, batches, req["seconds"])
                        reply[name] = dict(check=check)
                    except Exception as exc:
                        if name == "numpy":
                            raise
                        reply[name] = dict(error=f"{type(exc).__name__}: {exc}")
            elif req["cmd"] in ("repeat", "finish"):
                reply = {}
                for name, timer in list(timers.items()):
                    try:
                        reply[name] = dict(figure=timer.repeat()) if req["cmd"] == "repeat" else {}
                        if req["cmd"] == "finish":
                            timer.finish()
                    except Exception as exc:
                        if name == "numpy":
                            raise
                        del timers[name]
                        reply[name] = dict(error=f"{type(exc).__name__}: {exc}")
            else:
                raise ValueError(f"unknown command {req['cmd']!r}")
            proto.write(json.dumps(dict(ok=True, reply=reply)) + "\n")
        except Exception as exc:
            proto.write(json.dumps(dict(ok=False, error=f"{type(exc).__name__}: {exc}")) + "\n")
        proto.flush()
    return 0


class Worker:
    """A reference subprocess serving one thread count, started without
    OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (and without BACKPROP_LIBRARY: it never loads
    the library)."""

    def __init__(self, threads: int, kind: str):
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
        env.pop("BACKPROP_LIBRARY", None)
        if kind == "frameworks" and threads == 1:
            # XLA reads this at start-up; with more threads it uses its default pool (all cores).
            env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false").strip()
        args = [sys.executable, os.path.abspath(__file__), "--worker", str(threads), "--worker-kind", kind]
        self.threads, self.kind = threads, kind
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)

    def call(self, **req):
        try:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            raise RuntimeError(f"{self.kind} worker ({self.threads} thread) exited with status {self.proc.wait()}")
        msg = json.loads(line)
        if not msg["ok"]:
            raise RuntimeError(f"{self.kind} worker ({self.threads} thread): {msg['error']}")
        return msg["reply"]

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except Exception:
            self.proc.kill()


# ----------------------------------------------------------------------------- main


def machine_busy_seconds():
    """CPU seconds the whole machine spent busy (/proc/stat), or None when unknown."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def own_cpu_seconds() -> float:
    """CPU seconds of this process and its waited-for children (the reference workers)."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def die(msg: str, status: int = 1):
    print(f"compare.py: {msg}", file=sys.stderr)
    sys.exit(status)


def agree(wid, name, lib_check, ref_check, kind):
    """The reference computes what the library computes: same losses (training, from the
    same initial parameters and batch) or same outputs (forward)."""
    a, b = np.asarray(lib_check, dtype=np.float64), np.asarray(ref_check, dtype=np.float64)
    if kind == "forward":
        err = float(np.abs(a - b).max())
        if err > 1e-4:
            raise ValueError(f"{wid}: {name} forward outputs differ from the library's by up to {err:.3g}")
        return f"outputs agree (max |diff| {err:.1e})"
    a, b = a[:AGREE_STEPS], b[:AGREE_STEPS]
    rel = float((np.abs(a - b) / np.maximum(np.abs(a), 1e-6)).max())
    if rel > 2e-3:
        raise ValueError(f"{wid}: {name} losses over the first {AGREE_STEPS} steps {b.tolist()} differ from the library's "
            f"{a.tolist()} (relative {rel:.3g}): not the same training step")
    return f"losses of the first {AGREE_STEPS} steps agree (max rel diff {rel:.1e})"


def fmt(v):
    if v is None:
        return "-"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.1f}"
    if v >= 10:
        return f"{v:.2f}"
    return f"{v:.3f}"


def summary(figures):
    if not figures:
        return None
    return dict(median=float(np.median(figures)), lo=float(min(figures)), hi=float(max(figures)))


def cell(s, mark=""):
    if s is None:
        return "-"
    return f"{fmt(s['median'])}{mark} [{fmt(s['lo'])}..{fmt(s['hi'])}]"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Run with BACKPROP_LIBRARY=/path/to/libbackprop.so to pick the library.")
    parser.add_argument("--workloads", default=",".join(ORDER), help="subset of A,B,C,D,E1,E2 (default all)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per figure (default 5)")
    parser.add_argument("--threads", default="1,2", help="thread counts of the A, B, C rows (default 1,2)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="minimum time of one repeat for B-E (default 0.3, --quick 0.05)")
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke run: A's epoch 6,016 samples, C's pool 1,024, short repeats")
    parser.add_argument("--no-frameworks", action="store_true", help="skip the optional PyTorch/JAX columns")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker-kind", default="numpy", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        die("threadpoolctl is not importable; it limits numpy's BLAS threads for a fair reference.\n"
            "    install it with:  python3 -m pip install threadpoolctl", 2)

    if args.worker is not None:
        return worker_main(args.worker, args.worker_kind)

    wids = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    for w in wids:
        if w not in WORKLOADS:
            die(f"unknown workload {w!r}; expected some of {','.join(ORDER)}", 2)
    wids = [w for w in ORDER if w in wids]
    try:
        thread_counts = sorted({int(t) for t in args.threads.split(",")})
    except ValueError:
        die(f"--threads is {args.threads!r}; expected a list such as 1,2", 2)
    if not thread_counts or thread_counts[0] < 1:
        die("--threads needs counts >= 1", 2)
    if args.repeats < 1:
        die("--repeats needs at least 1", 2)
    seconds = args.seconds if args.seconds is not None else (0.05 if args.quick else 0.3)

    # numpy in this process only prepares data: one BLAS thread, so that no BLAS worker
    # spins on a core the library's threads are timed on.
    from threadpoolctl import threadpool_limits

    blas_limit = threadpool_limits(limits=1, user_api="blas")  # noqa: F841 (kept alive)

    sys.path.insert(0, PYTHON_DIR)
    try:
        import backprop
    except ImportError as exc:
        die(f"cannot import the backprop package from {PYTHON_DIR}: {exc}", 2)
    from backprop import _lib

    set_threads = None
    try:
        fn = getattr(_lib.lib, "bp_set_threads")
        import ctypes

        fn.restype, fn.argtypes = ctypes.c_int32, [ctypes.c_void_p, ctypes.c_size_t]
        set_threads = fn
    except AttributeError:
        set_threads = None

    print(f"# backprop {backprop.version()} (ABI {backprop.abi_version()}) from {backprop.library_path}")
    print(f"#   bp_set_threads: {'yes' if set_threads else 'no -- the library runs on 1 thread'}")
    if hasattr(backprop, "kernels"):
        print(f"#   matrix kernels: {backprop.kernels()}")
    print(f"# python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"load average at start {load_average()}")
    here = {k: os.environ.get(k) for k in SCRUBBED_ENV}
    print("# library process environment: "
          + ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in here.items()))
    for d in blas_info():
        print(f"# library process numpy BLAS (not timed): {d['internal_api']} {d['version']}, kernel {d['architecture']}")
    print(f"# {args.repeats} repeats after warm-up; median [min..max]; B-E repeats >= {seconds:g} s"
          + ("; --quick: A epoch 6,016 samples, C pool 1,024" if args.quick else ""))
    sys.stdout.flush()

    import importlib.util

    want_frameworks = not args.no_frameworks and any(
        importlib.util.find_spec(m) is not None for m in ("torch", "jax"))
    workers = {}

    def worker(n, kind):
        key = (n, kind)
        if key not in workers:
            w = Worker(n, kind)
            try:
                info = w.call(cmd="info")
            except RuntimeError as exc:
                if kind == "numpy":
                    raise
                print(f"# {kind} worker failed to start ({exc}); no torch/jax columns", file=sys.stderr)
                w.close()
                info = None
            if info is not None and kind == "frameworks" and not info["impls"]:
                w.close()
                info = None
            if info is None:
                workers[key] = None
                return None
            plural = "s" if n > 1 else ""
            if kind == "numpy":
                for d in info["blas"]:
                    left = [k for k, v in info["env"].items() if v is not None]
                    print(f"# numpy reference process ({n} thread{plural}): BLAS {d['internal_api']} "
                          f"{d['version']}, kernel {d['architecture']}, {d['num_threads']} BLAS thread"
                          f"{'s' if d['num_threads'] != 1 else ''}; {' and '.join(SCRUBBED_ENV)} "
                          + (f"STILL SET: {left}" if left else "removed"))
            else:
                print(f"# framework process ({n} thread{plural}): "
                      + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
                      + ("" if n == 1 else " (jax: XLA's default thread pool)"))
            sys.stdout.flush()
            workers[key] = w
        return workers[key]

    def call_references(n, **req):
        """Sends one request to the numpy worker for n threads and, when wanted, to the
        frameworks worker; returns their replies merged. A frameworks worker that fails
        is dropped, and its columns with it, from here on."""
        reply = dict(worker(n, "numpy").call(**req))
        if want_frameworks:
            fw = worker(n, "frameworks")
            if fw is not None:
                try:
                    reply.update(fw.call(**req))
                except RuntimeError as exc:
                    print(f"# {exc}; dropping the torch/jax columns from here on", file=sys.stderr)
                    fw.close()
                    workers[(n, "frameworks")] = None
        return reply

    rows = []
    frameworks_seen = []
    tmp = tempfile.TemporaryDirectory(prefix="bp-compare-")
    t_start = time.perf_counter()
    busy_start, own_start = machine_busy_seconds(), own_cpu_seconds()
    try:
        for wid in wids:
            spec = spec_for(wid, args.quick)
            counts = thread_counts if wid in THREADED else [1]
            X, Y, labels = make_data(spec)
            batches = make_batches(spec, X, Y, labels)
            params_file = os.path.join(tmp.name, f"{wid}.npy")
            np.save(params_file, LibraryMLP(backprop, spec, 1, None).net.parameters)

            for n in counts:
                lib_check = check_impl(LibraryMLP(backprop, spec, n, set_threads), spec, batches)
                reply = call_references(n, cmd="prepare", spec=spec, params=params_file, seconds=seconds)
                notes = []
                if spec["kind"] != "forward":
                    notes.append(f"backprop loss {lib_check[0]:.4g} -> {lib_check[-1]:.4g}")
                for name, r in list(reply.items()):
                    if "error" not in r:
                        try:
                            notes.append(f"{name}: {agree(wid, name, lib_check, r['check'], spec['kind'])}")
                        except ValueError as exc:
                            if name == "numpy":
                                die(str(exc))
                            r = reply[name] = dict(error=str(exc))
                    if "error" in r:
                        print(f"#   {wid}: {name} skipped: {r['error']}", file=sys.stderr)
                        continue
                    if name not in ("numpy",) and name not in frameworks_seen:
                        frameworks_seen.append(name)
                print(f"check {wid} ({n} thread{'s' if n > 1 else ''}): " + "; ".join(notes), file=sys.stderr)

                # One repeat of each implementation in turn.
                lib_timer = Timer(LibraryMLP(backprop, spec, n, set_threads), spec, batches, seconds)
                figures = {"backprop": []}
                figures.update({name: [] for name, r in reply.items() if "error" not in r})
                for _ in range(args.repeats):
                    time.sleep(TURN_PAUSE)
                    figures["backprop"].append(lib_timer.repeat())
                    time.sleep(TURN_PAUSE)
                    for name, r in call_references(n, cmd="repeat").items():
                        if "figure" in r and name in figures:
                            figures[name].append(r["figure"])
                lib_timer.finish()
                call_references(n, cmd="finish")
                lib_figs = figures.pop("backprop")
                ref = {name: (summary(figs) if len(figs) == args.repeats else None) for name, figs in figures.items()}
                row = dict(wid=wid, threads=n, unit=spec["unit"], lib=summary(lib_figs),
                           lib_borrowed=(set_threads is None and n != 1), ref=ref)
                rows.append(row)
                if wid == "C":
                    g = 6.0 * weight_count(spec) * 1e-9
                    rows.append(dict(row, unit="GFLOP/s",
                                     lib=summary([f * g for f in lib_figs]),
                                     ref={name: (summary([f * g for f in figs]) if ref[name] else None)
                                          for name, figs in figures.items()}))
            del X, Y, labels, batches
    finally:
        for w in workers.values():
            if w is not None:
                w.close()
        tmp.cleanup()
    wall = time.perf_counter() - t_start
    busy_end, own_end = machine_busy_seconds(), own_cpu_seconds()

    # ------------------------------------------------------------------ table
    headers = ["workload", "threads", "unit", "backprop", "numpy", "ratio"]
    for name in frameworks_seen:
        headers += [name, f"ratio/{name}"]
    table = []
    for r in rows:
        latency = r["unit"] == "us/call"
        ref = r["ref"]["numpy"]

        def ratio(lib, other):
            if lib is None or other is None:
                return "-"
            v = other["median"] / lib["median"] if latency else lib["median"] / other["median"]
            return f"{v:.2f}"

        label = r["wid"] + (" (via ctypes)" if r["wid"] == "E1" else "")
        line = [label, str(r["threads"]), r["unit"], cell(r["lib"], "*" if r["lib_borrowed"] else ""), cell(ref),
                ratio(r["lib"], ref)]
        for name in frameworks_seen:
            other = r["ref"].get(name)
            line += [cell(other), ratio(r["lib"], other)]
        table.append(line)
    widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    for t in table:
        print("  ".join(v.ljust(w) if i < 3 else v.rjust(w) for i, (v, w) in enumerate(zip(t, widths))))
    print("# ratio: backprop relative to the reference, higher is better "
          "(rate / rate; for us/call, reference time / backprop time)")
    if any(r["lib_borrowed"] for r in rows):
        print("# * the library has no bp_set_threads(): its 1-thread figure, next to the reference at that count")
    if "E1" in wids:
        print("# E1 here is a Python call through the binding (ctypes + argument checks); "
              "the C-API latency is scripts/bench E1")
    if busy_start is not None and busy_end is not None:
        others = max(0.0, (busy_end - busy_start) - (own_end - own_start))
        print(f"# other processes used {others:.1f} CPU-s during the {wall:.0f} s run ({others / wall:.2f} cores on "
              f"average)" + (": the figures are skewed, rerun on a quiet machine" if others / wall > 0.1 else ""))
    else:
        print(f"# total time {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
