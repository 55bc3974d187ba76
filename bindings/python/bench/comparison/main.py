"""compare.py's run: the options, the header, every selected workload in ORDER, the
optional sections, then the table and its notes."""

from __future__ import annotations

import importlib.util
import tempfile
import time

from .call_overhead import measure_call_overhead, print_call_overhead
from .cli import die, parse_args, selection
from .environment import load_library, print_header
from .long_run import measure_long_run
from .machine_state import machine_busy_seconds, own_cpu_seconds
from .measure import Session, measure_workload
from .references import References
from .report import print_machine_use, print_notes, print_table
from .timer import TURN_PAUSE
from .worker import worker_main
from .workloads import NOTES


def main(argv=None, description=None) -> int:
    args = parse_args(argv, description)

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        die("threadpoolctl is not importable; it limits numpy's BLAS threads for a fair reference.\n"
            "    install it with:  python3 -m pip install threadpoolctl", 2)

    if args.worker is not None:
        return worker_main(args.worker, args.worker_kind)

    wids, overhead, thread_counts, seconds = selection(args)

    # numpy in this process only prepares data: one BLAS thread, so that no BLAS worker
    # spins on a core the library's threads are timed on.
    with threadpool_limits(limits=1, user_api="blas"):
        return run(args, wids, overhead, thread_counts, seconds)


def run(args, wids, overhead, thread_counts, seconds) -> int:
    backprop, set_threads = load_library()
    print_header(backprop, set_threads, args.repeats, seconds, args.quick, wids)

    want_frameworks = not args.no_frameworks and any(
        importlib.util.find_spec(m) is not None for m in ("torch", "jax"))
    references = References(want_frameworks)
    rows, notes = [], []
    tmp = tempfile.TemporaryDirectory(prefix="bp-compare-")
    session = Session(backprop, set_threads, references, args.repeats, seconds, args.quick, thread_counts, tmp.name)
    t_start = time.perf_counter()
    busy_start, own_start = machine_busy_seconds(), own_cpu_seconds()
    try:
        for wid in wids:
            if wid == "DL":
                dl_rows, note = measure_long_run(backprop, set_threads, args.quick)
                rows += dl_rows
                notes.append(note)
            else:
                rows += measure_workload(session, wid)
                if wid in NOTES:
                    notes.append(NOTES[wid])
        if overhead:
            time.sleep(TURN_PAUSE)  # as before every timed turn: let BLAS threads go idle
            calls, overhead_results = measure_call_overhead(args.repeats, args.quick)
    finally:
        references.close()
        tmp.cleanup()
    wall = time.perf_counter() - t_start
    busy_end, own_end = machine_busy_seconds(), own_cpu_seconds()

    print_table(rows, session.frameworks_seen)
    print_notes(rows, wids, notes)
    if overhead:
        print_call_overhead(args.repeats, calls, overhead_results)
    print_machine_use(wall, busy_start, busy_end, own_start, own_end)
    return 0
