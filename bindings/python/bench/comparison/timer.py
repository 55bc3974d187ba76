"""Timing one implementation on one workload, one repeat at a time."""

from __future__ import annotations

import math
import time

# Seconds of idle machine before each timed repeat. After a call OpenBLAS keeps its
# threads spinning for about 0.1 s, which would take a core from whatever is timed next.
TURN_PAUSE = 0.25


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
