"""One workload of the table: checked, then timed against the references in turns."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .checks import agree, check_impl
from .cli import die
from .library_mlp import LibraryMLP, starting_parameters
from .references import References
from .report import summary
from .sgemm_bound import SgemmBound
from .timer import TURN_PAUSE, Timer
from .workloads import THREADED, make_batches, make_data, spec_for, weight_count


@dataclass
class Session:
    """What every workload of one run shares."""

    backprop: object
    set_threads: object  # bp_set_threads, or None
    references: References
    repeats: int
    seconds: float
    quick: bool
    thread_counts: list
    tmpdir: str  # the parameters handed to the workers, one .npy per workload
    frameworks_seen: list = field(default_factory=list)  # torch/jax columns, in order of appearance


def measure_workload(s: Session, wid: str) -> list:
    """The rows of workload `wid`: one per thread count (C: and its GFLOP/s)."""
    spec = spec_for(wid, s.quick)
    counts = s.thread_counts if wid in THREADED else [1]
    X, Y, labels = make_data(spec)
    batches = make_batches(spec, X, Y, labels)
    params_file = os.path.join(s.tmpdir, f"{wid}.npy")
    flat = starting_parameters(s.backprop, spec, X, Y, labels)
    np.save(params_file, flat)
    # A pretrained start (E3) is set on each library network; the others start from the seed's.
    lib_params = flat if spec.get("pretrain_batch") else None
    rows = []
    for n in counts:
        lib_check = check_impl(LibraryMLP(s.backprop, spec, n, s.set_threads, lib_params), spec, batches)
        reply = s.references.call(n, cmd="prepare", spec=spec, params=params_file, seconds=s.seconds)
        notes = []
        if spec["kind"] != "forward":
            notes.append(f"backprop loss {lib_check[0]:.4g} -> {lib_check[-1]:.4g}")
        for name, r in list(reply.items()):
            if name == SgemmBound.name:
                continue  # products only: nothing to check, not a framework column
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
            if name not in ("numpy",) and name not in s.frameworks_seen:
                s.frameworks_seen.append(name)
        print(f"check {wid} ({n} thread{'s' if n > 1 else ''}): " + "; ".join(notes), file=sys.stderr)

        # One repeat of each implementation in turn.
        lib_timer = Timer(LibraryMLP(s.backprop, spec, n, s.set_threads, lib_params), spec, batches, s.seconds)
        figures = {"backprop": []}
        figures.update({name: [] for name, r in reply.items() if "error" not in r})
        for _ in range(s.repeats):
            time.sleep(TURN_PAUSE)
            figures["backprop"].append(lib_timer.repeat())
            time.sleep(TURN_PAUSE)
            for name, r in s.references.call(n, cmd="repeat").items():
                if "figure" in r and name in figures:
                    figures[name].append(r["figure"])
        lib_timer.finish()
        s.references.call(n, cmd="finish")
        lib_figs = figures.pop("backprop")
        ref = {name: (summary(figs) if len(figs) == s.repeats else None) for name, figs in figures.items()}
        row = dict(wid=wid, threads=n, unit=spec["unit"], lib=summary(lib_figs),
                   lib_borrowed=(s.set_threads is None and n != 1), ref=ref)
        rows.append(row)
        if wid == "C":
            g = 6.0 * weight_count(spec) * 1e-9
            rows.append(dict(row, unit="GFLOP/s",
                             lib=summary([f * g for f in lib_figs]),
                             ref={name: (summary([f * g for f in figs]) if ref[name] else None)
                                  for name, figs in figures.items()}))
    return rows
