"""DL, bench.c's long run: D's network trained from fresh for about 20M steps, timed by
quarter, and the last quarter's rate over the first's. As training converges, gradients
underflow towards subnormal floats, which a library that does not flush them computes in
microcode: a q4/q1 well under 1 shows it.

The steps run in the library's own loop (Network.fit, batch 1, no shuffling), not in a
Python loop of train_step calls: through the binding each call costs some forty times
D's step, so such a loop would time the binding rather than the steps, and 20M of them
would take well over a minute. bp_fit's loop is not bench.c's either (its batch-1 step
costs more than a bare bp_train_step), so set q4/q1 beside bench.c's, not the steps/s.
One fit() pass covers POOL_COPIES copies of the pool in order, so the steps visit the
samples as a train_step loop over the pool would, and fit()'s per-pass work (its Python
progress callback, the data checks) is spread over 454,656 steps. The library only:
numpy's Python loop would take minutes."""

from __future__ import annotations

import sys
import time

import numpy as np

from .checks import check_impl
from .library_mlp import LibraryMLP
from .report import summary
from .timer import TURN_PAUSE
from .workloads import make_batches, make_data, spec_for

POOL_COPIES = 111  # 111 x 4,096 = 454,656 steps a pass
QUARTER_PASSES = 11  # 4 x 11 passes = 20,004,864 steps, bench.c's 20M in whole passes
QUICK_QUARTER_PASSES = 1  # --quick: 1,818,624 steps, too few to reach the converged phase


def measure_long_run(backprop, set_threads, quick):
    """The rows of DL (each quarter's steps/s, then q4/q1; one measurement each) and
    the note that explains them."""
    spec = spec_for("DL", quick)
    X, Y, labels = make_data(spec)
    lib_check = check_impl(LibraryMLP(backprop, spec, 1, set_threads), spec, make_batches(spec, X, Y, labels))
    print(f"check DL (1 thread): backprop loss {lib_check[0]:.4g} -> {lib_check[-1]:.4g}", file=sys.stderr)

    passes = QUICK_QUARTER_PASSES if quick else QUARTER_PASSES
    tape_X, tape_Y = np.tile(X, (POOL_COPIES, 1)), np.tile(Y, (POOL_COPIES, 1))
    steps = passes * tape_X.shape[0]
    lib = LibraryMLP(backprop, spec, 1, set_threads)  # fresh: the run starts untrained
    rates = []
    time.sleep(TURN_PAUSE)
    for _ in range(4):
        t0 = time.perf_counter()
        lib.net.fit(tape_X, tape_Y, epochs=passes, batch_size=1, learning_rate=spec["lr"], shuffle=False,
                    seed=0, verbose=0)
        rates.append(steps / (time.perf_counter() - t0))
    lib.check_finite_state()

    row = dict(threads=1, lib_borrowed=False, ref={"numpy": None}, once=True)
    rows = [dict(row, wid=f"DL q{q + 1}", unit="steps/s", lib=summary([r])) for q, r in enumerate(rates)]
    rows.append(dict(row, wid="DL", unit="q4/q1", lib=summary([rates[3] / rates[0]])))
    note = (f"DL: D's network from fresh for {4 * steps:,} steps in 4 quarters, one measurement each, through "
            f"Network.fit (bp_fit's loop, batch 1, in order; bench.c's DL loops over bp_train_step, so compare "
            f"q4/q1, not steps/s); the library only"
            + ("; --quick: too few steps to reach the converged phase" if quick else ""))
    return rows, note
