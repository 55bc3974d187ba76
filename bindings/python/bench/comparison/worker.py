"""The reference worker processes and their protocol: one JSON object per line over
the worker's stdin and stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from .checks import check_impl
from .jax_mlp import JaxMLP
from .numpy_mlp import NumpyMLP
from .sgemm_bound import SgemmBound
from .timer import Timer
from .torch_mlp import TorchMLP
from .workloads import make_batches, make_data

# The workers run the entry point again, with the hidden --worker option.
ENTRY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "compare.py")
SCRUBBED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


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

    with threadpool_limits(limits=threads, user_api="blas"):
        return serve(threads, kind, proto)


def serve(threads: int, kind: str, proto) -> int:
    """worker_main()'s loop: answers each request line of stdin with one line on `proto`."""
    impls, versions = {}, {}
    if kind == "numpy":
        impls["numpy"] = lambda spec, flat: NumpyMLP(spec, flat)
        impls[SgemmBound.name] = lambda spec, flat: SgemmBound(spec, flat)
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
                        impl = make(spec, flat)
                        check = check_impl(impl, spec, batches) if getattr(impl, "checked", True) else None
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
        args = [sys.executable, ENTRY, "--worker", str(threads), "--worker-kind", kind]
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

