"""The reference processes of a run: a numpy worker per thread count and, when torch or
jax imports, a frameworks worker beside it, started on first use."""

from __future__ import annotations

import sys

from .worker import SCRUBBED_ENV, Worker


class References:
    """Starts the workers on first use (printing what each loaded) and sends each request
    to the numpy worker and, when wanted, the frameworks worker of a thread count."""

    def __init__(self, want_frameworks: bool):
        self.want_frameworks = want_frameworks
        self.workers = {}

    def worker(self, n, kind):
        key = (n, kind)
        if key not in self.workers:
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
                self.workers[key] = None
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
            self.workers[key] = w
        return self.workers[key]

    def call(self, n, **req):
        """Sends one request to the numpy worker for n threads and, when wanted, to the
        frameworks worker; returns their replies merged. A frameworks worker that fails
        is dropped, and its columns with it, from here on."""
        reply = dict(self.worker(n, "numpy").call(**req))
        if self.want_frameworks:
            fw = self.worker(n, "frameworks")
            if fw is not None:
                try:
                    reply.update(fw.call(**req))
                except RuntimeError as exc:
                    print(f"# {exc}; dropping the torch/jax columns from here on", file=sys.stderr)
                    fw.close()
                    self.workers[(n, "frameworks")] = None
        return reply

    def close(self):
        for w in self.workers.values():
            if w is not None:
                w.close()
