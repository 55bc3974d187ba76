#!/usr/bin/env python3
"""Compare libbackprop (through the ``backprop`` Python package) with a numpy reference.

Times the benchmark workloads (benchmarks.md) with the library and, in the same run, a
numpy implementation of the same training step -- the seed's equations, float32,
W <- W - (eta/m) sum_x dC/dW -- and prints one table:

    workload, threads, unit, backprop median [min..max], numpy median [min..max], ratio

ratio is the speed of backprop relative to numpy: higher is better (figure/figure for
rates, numpy time / backprop time for the E1 latency).  PyTorch and JAX columns appear
when those packages are importable (never required).  The header names the CPU.

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
figure is bench/bench.c's), E2 at 1 thread; as in bench/bench.c, E3 (E2 with
bp_predict on A's network after one epoch of training; the references forward the same
trained parameters) and DL (D's network from fresh for 20M steps through the library's
own loop, Network.fit, steps/s by quarter and q4/q1; the library only), at 1 thread.
The library has one thread unless it exports bp_set_threads(); without it the 2-thread
rows show its 1-thread figure (*).  "overhead" adds bench/overhead.py's section: each
call through the bare ctypes function and through Network.

The parts live in the comparison/ package beside this file (its __init__ lists them);
make_data and spec_for stay importable from here (bench/distributed.py uses them).

Usage (from the repository root, after the library is built):
    python3 -m pip install threadpoolctl       # needed; numpy as well
    BACKPROP_LIBRARY=$PWD/.build/release/libbackprop.so \\
        python3 bindings/python/bench/compare.py [--workloads A,B] [--repeats N] [--quick]

Options:
    --workloads LIST  comma-separated subset of A,B,C,D,E1,E2,E3,DL,overhead (default all)
    --repeats N       timed repeats per figure (default 5; overhead: best of N)
    --threads LIST    thread counts of A, B, C rows (default 1,2)
    --seconds S       minimum time of one repeat for B-E (default 0.3; --quick 0.05)
    --quick           CI smoke run: A's epoch (and E3's training) 6,016 samples, C's
                      pool 1,024, short repeats, DL 1.8M steps, overhead 10,000 calls
    --no-frameworks   skip the optional PyTorch / JAX columns
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # comparison/, machine.py and overhead.py, when imported from elsewhere
    sys.path.insert(0, HERE)

from comparison.main import main as _main  # noqa: E402
from comparison.workloads import ORDER, SEED, WORKLOADS, make_batches, make_data, spec_for, weight_count  # noqa: E402

__all__ = ["main", "make_data", "make_batches", "spec_for", "weight_count", "WORKLOADS", "ORDER", "SEED"]


def main(argv=None) -> int:
    return _main(argv, __doc__.split("\n\n")[0])


if __name__ == "__main__":
    sys.exit(main())
