"""Data-parallel scaling over MPI: workload A (784-256-128-10, ReLU, ReLU, softmax,
cross-entropy) with a global batch of 256, one thread per process.

    python bindings/python/bench/distributed.py [--rounds 3] [--samples 30000]

starts, in turns, the reference (1 process, fit() without MPI, batch 256), 1 process
with fit(comm=...) (the hooks' own cost) and 2 processes with fit(comm=...) (batch 128
each), each through mpirun, and prints samples/s side by side with the ratio to the
reference, the share of a step each process spends in the gradient allreduce, the
allreduce's cost per parameter on this machine's loopback, and a projection of where
more processes stop paying off. Best of the rounds; the CPU model is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
GLOBAL_BATCH = 256


def worker(mode: str, samples: int) -> None:
    """One process of a run; rank 0 prints one JSON line."""
    sys.path.insert(0, PYTHON_DIR)
    sys.path.insert(0, HERE)
    import numpy as np
    from compare import make_data, spec_for
    from mpi4py import MPI

    import backprop
    from backprop import distributed

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    spec = spec_for("A", quick=False)
    X, Y, _ = make_data(spec)
    X, Y = X[:samples], Y[:samples]
    net = backprop.Network(spec["layers"], spec["acts"], spec["loss"], seed=1)
    net.threads = 1
    in_allreduce = [0.0, 0]
    original = distributed._Hooks._reduce_gradients

    def timed(self, *args):
        start = time.perf_counter()
        status = original(self, *args)
        in_allreduce[0] += time.perf_counter() - start
        in_allreduce[1] += 1
        return status

    Xs, Ys = (np.ascontiguousarray(a) for a in distributed.shard(X, Y, comm=comm))
    # Warm-up: the first fit's memory is touched for the first time, which is not training.
    if mode == "mpi":  # also makes the replicas alike, so the timed fit adopts no model
        net.fit(Xs[:2048], Ys[:2048], epochs=1, batch_size=GLOBAL_BATCH // size, comm=comm, verbose=0)
    else:
        net.fit(Xs[:2048], Ys[:2048], epochs=1, batch_size=GLOBAL_BATCH // size, verbose=0)
    distributed._Hooks._reduce_gradients = timed
    comm.Barrier()
    start = time.perf_counter()
    if mode == "reference":
        net.fit(X, Y, epochs=1, batch_size=GLOBAL_BATCH, learning_rate=0.05, seed=0, verbose=0)
    elif mode == "independent":  # the same shards and batches, without communicating
        net.fit(Xs, Ys, epochs=1, batch_size=GLOBAL_BATCH // size, learning_rate=0.05, seed=0, verbose=0)
    else:
        net.fit(Xs, Ys, epochs=1, batch_size=GLOBAL_BATCH // size, learning_rate=0.05, seed=0, comm=comm, verbose=0)
    comm.Barrier()
    elapsed = time.perf_counter() - start
    shares = comm.gather(in_allreduce[0] / elapsed, root=0)
    costs = allreduce_costs(comm, np) if mode == "mpi" and size > 1 else None
    if rank == 0:
        print(json.dumps({"mode": mode, "size": size, "rate": samples / elapsed, "elapsed": elapsed,
                          "steps": in_allreduce[1], "share": max(shares), "parameters": net.parameter_count,
                          "costs": costs}))


def allreduce_costs(comm, np) -> list:
    """(floats, seconds) of an in-place float32 sum-allreduce, best of 20, by size (235,146:
    workload A's gradients)."""
    from mpi4py import MPI

    out = []
    for count in (1_000, 10_000, 100_000, 235_146, 1_000_000, 4_000_000):
        buffer = np.ones(count, dtype=np.float32)
        best = float("inf")
        for _ in range(20):
            comm.Barrier()
            start = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
            best = min(best, time.perf_counter() - start)
        out.append((count, comm.allreduce(best, op=MPI.MAX)))
    return out


def launch(processes: int, mode: str, samples: int) -> dict:
    command = ["mpirun", "--oversubscribe", "-np", str(processes)]
    if os.geteuid() == 0:
        command.insert(1, "--allow-run-as-root")
    env = dict(os.environ, OMPI_MCA_btl_vader_single_copy_mechanism="none",
               OMPI_MCA_hwloc_base_binding_policy="none")
    command += [sys.executable, __file__, "--worker", mode, "--samples", str(samples)]
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=30_000)
    parser.add_argument("--worker", choices=["reference", "independent", "mpi"])
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.samples)
        return
    if shutil.which("mpirun") is None:
        sys.exit("distributed.py: mpirun not found (apt-get install openmpi-bin libopenmpi-dev; pip install mpi4py)")
    sys.path.insert(0, HERE)
    from machine import cpu_description

    runs = {("reference", 1): [], ("mpi", 1): [], ("mpi", 2): [], ("independent", 2): []}
    for _ in range(args.rounds):  # in turns, so that a slow spell of the VM hits all alike
        for mode, processes in runs:
            runs[mode, processes].append(launch(processes, mode, args.samples))
    best = {key: max(results, key=lambda r: r["rate"]) for key, results in runs.items()}
    reference = best["reference", 1]["rate"]
    print(f"CPU: {cpu_description()}")
    print(f"workload A, global batch {GLOBAL_BATCH}, {args.samples} samples, 1 thread per process, "
          f"best of {args.rounds}")
    print(f"{'run':<38}{'samples/s':>12}{'vs 1 process':>14}{'in the hook':>13}")
    labels = {("reference", 1): "1 process, fit()",
              ("mpi", 1): "1 process, fit(comm=...), batch 256",
              ("mpi", 2): "2 processes, fit(comm=...), 128 each",
              ("independent", 2): "2 processes, no communication"}
    for key, label in labels.items():
        r = best[key]
        share = f"{100 * r['share']:.1f}%" if key[0] == "mpi" else "-"
        print(f"{label:<38}{r['rate']:>12,.0f}{r['rate'] / reference:>13.2f}x{share:>13}")
    print("(in the hook: the share of the run each process spends in the gradient hook: the allreduces, and "
          "waiting for the other process;\n 2 processes without communication: the same shards trained apart, "
          "what this machine gives two processes at all)")
    costs = best["mpi", 2]["costs"]
    print("\nfloat32 sum-allreduce on 2 processes (loopback, shared memory):")
    for count, seconds in costs:
        print(f"  {count:>9,} floats  {seconds * 1e6:9.1f} us  {seconds * 1e9 / count:6.2f} ns/float")
    project(best, costs)


def project(best: dict, costs: list) -> None:
    """Where more processes stop paying off: a step of B samples on N processes takes
    t·B/N of compute (t: one process's time per sample) plus the allreduce of P floats.
    The allreduce is modelled as a + P·c, fitted on 100,000 and 1,000,000 floats for
    loopback, and as a ring on a network link (2 (N−1)/N · 4 P bytes at its bandwidth,
    plus 2 (N−1) latencies of 20 us)."""
    parameters = best["mpi", 2]["parameters"]
    t = 1 / best["reference", 1]["rate"]
    (n1, s1), (n2, s2) = costs[2], costs[4]  # 100,000 and 1,000,000 floats, around A's size
    per_float = (s2 - s1) / (n2 - n1)
    fixed = max(s1 - per_float * n1, 0)
    loopback = fixed + per_float * parameters
    print(f"\nprojection for A ({parameters:,} parameters, {t * 1e6:.1f} us per sample on one process, "
          f"global batch {GLOBAL_BATCH}):")
    print(f"  loopback allreduce of A's gradients: {loopback * 1e6:.0f} us "
          f"({fixed * 1e6:.0f} us + {per_float * 1e9:.2f} ns/float)")
    links = [("loopback (measured)", None), ("10 GbE", 1.25e9), ("25 GbE", 3.125e9), ("100 Gb InfiniBand", 12.5e9)]
    print(f"  {'link':<22}" + "".join(f"{f'N={n}':>9}" for n in (2, 4, 8, 16, 32)) + "   (speed-up over 1 process)")
    for name, bandwidth in links:
        cells = []
        for n in (2, 4, 8, 16, 32):
            if bandwidth is None:
                reduce = loopback
            else:
                reduce = 2 * (n - 1) / n * 4 * parameters / bandwidth + 2 * (n - 1) * 20e-6
            step = t * GLOBAL_BATCH / n + reduce
            cells.append(f"{t * GLOBAL_BATCH / step:>8.1f}x")
        print(f"  {name:<22}" + "".join(cells))
    print("  (a larger global batch, or larger per-process batches, moves the break-even point out: the compute per "
          "step grows with the batch, the allreduce does not)")


if __name__ == "__main__":
    main()
