"""compare.py's command line: the options, their checks, and the one way to fail."""

from __future__ import annotations

import argparse
import sys

from .workloads import ORDER, WORKLOADS

# Sections that are not rows of the table, selected with --workloads like the workloads.
OVERHEAD = "OVERHEAD"
CHOICES = ",".join(ORDER) + ",overhead"


def die(msg: str, status: int = 1):
    print(f"compare.py: {msg}", file=sys.stderr)
    sys.exit(status)


def parse_args(argv, description):
    parser = argparse.ArgumentParser(description=description,
                                     epilog="Run with BACKPROP_LIBRARY=/path/to/libbackprop.so to pick the library.")
    parser.add_argument("--workloads", default=CHOICES, help=f"subset of {CHOICES} (default all)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per figure (default 5)")
    parser.add_argument("--threads", default="1,2", help="thread counts of the A, B, C rows (default 1,2)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="minimum time of one repeat for B-E (default 0.3, --quick 0.05)")
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke run: A's epoch 6,016 samples, C's pool 1,024, short repeats, "
                             "DL 1.8M steps, shorter overhead rows")
    parser.add_argument("--no-frameworks", action="store_true", help="skip the optional PyTorch/JAX columns")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker-kind", default="numpy", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def selection(args):
    """The workloads (in ORDER), whether the overhead section runs, the thread counts
    and the seconds of a repeat; dies (status 2) on a wrong option."""
    wids = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    for w in wids:
        if w not in WORKLOADS and w != OVERHEAD:
            die(f"unknown workload {w!r}; expected some of {CHOICES}", 2)
    overhead = OVERHEAD in wids
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
    return wids, overhead, thread_counts, seconds
