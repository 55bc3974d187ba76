"""The Python per-call overhead section: bench/overhead.py's measurement (the same call
through the bare ctypes function and through Network), with the run's repeats."""

from __future__ import annotations

CALLS = 100_000  # per repeat, as overhead.py
QUICK_CALLS = 10_000


def measure_call_overhead(repeats, quick):
    """(calls per repeat, overhead.measure()'s results)."""
    import overhead  # bench/overhead.py; it loads the library, so only the main process imports it

    calls = QUICK_CALLS if quick else CALLS
    _net, rows = overhead.call_pairs()
    return calls, overhead.measure(rows, calls, repeats)


def print_call_overhead(repeats, calls, results):
    import overhead

    print(f"# Python per-call overhead (bench/overhead.py), 1 thread, best of {repeats} repeats of {calls:,} calls:")
    for line in overhead.table_lines(results):
        print(f"#   {line}")
