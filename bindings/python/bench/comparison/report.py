"""The printed table: one row per workload and thread count, each implementation's
median [min..max] and the library's ratio to it, then the notes that explain the rows."""

from __future__ import annotations

import numpy as np

from .sgemm_bound import SgemmBound


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


def cell(s, mark="", once=False):
    """A figure's median [min..max]; `once`: a single measurement (DL's quarters), the
    figure alone, as bench.c prints it."""
    if s is None:
        return "-"
    if once:
        return f"{fmt(s['median'])}{mark}"
    return f"{fmt(s['median'])}{mark} [{fmt(s['lo'])}..{fmt(s['hi'])}]"


def print_table(rows, frameworks_seen):
    headers = ["workload", "threads", "unit", "backprop", "numpy", "ratio", "sgemm bound", "% of bound"]
    for name in frameworks_seen:
        headers += [name, f"ratio/{name}"]
    table = []
    for r in rows:
        latency = r["unit"] == "us/call"
        ref = r["ref"]["numpy"]

        def speed_up(lib, other):
            """How many times faster the library is; None when either figure is missing."""
            if lib is None or other is None:
                return None
            return other["median"] / lib["median"] if latency else lib["median"] / other["median"]

        def ratio(lib, other):
            v = speed_up(lib, other)
            return "-" if v is None else f"{v:.2f}"

        label = r["wid"] + (" (via ctypes)" if r["wid"] == "E1" else "")
        line = [label, str(r["threads"]), r["unit"],
                cell(r["lib"], "*" if r["lib_borrowed"] else "", r.get("once", False)), cell(ref),
                ratio(r["lib"], ref)]
        bound = r["ref"].get(SgemmBound.name)
        share = speed_up(r["lib"], bound)
        line += [cell(bound), "-" if share is None else f"{100 * share:.0f}%"]
        for name in frameworks_seen:
            other = r["ref"].get(name)
            line += [cell(other), ratio(r["lib"], other)]
        table.append(line)
    widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    for t in table:
        print("  ".join(v.ljust(w) if i < 3 else v.rjust(w) for i, (v, w) in enumerate(zip(t, widths))))


def print_notes(rows, wids, notes):
    """The notes under the table; `notes`: those of the workloads that bring their own
    (E3, DL), in order."""
    print("# ratio: backprop relative to the reference, higher is better "
          "(rate / rate; for us/call, reference time / backprop time)")
    print("# sgemm bound: numpy's BLAS doing only the step's matrix products on its shapes (forward W a; "
          "W^T delta for layers 2..L; delta a^T), same thread count; % of bound = backprop / bound")
    if any(r["lib_borrowed"] for r in rows):
        print("# * the library has no bp_set_threads(): its 1-thread figure, next to the reference at that count")
    if "E1" in wids:
        print("# E1 here is a Python call through the binding (ctypes + argument checks); "
              "the C-API latency is scripts/bench E1")
    for note in notes:
        print(f"# {note}")


def print_machine_use(wall, busy_start, busy_end, own_start, own_end):
    if busy_start is not None and busy_end is not None:
        others = max(0.0, (busy_end - busy_start) - (own_end - own_start))
        print(f"# other processes used {others:.1f} CPU-s during the {wall:.0f} s run ({others / wall:.2f} cores on "
              f"average)" + (": the figures are skewed, rerun on a quiet machine" if others / wall > 0.1 else ""))
    else:
        print(f"# total time {wall:.0f} s")
