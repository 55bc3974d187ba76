"""Data-parallel training over MPI, with mpi4py (an optional dependency: ``pip install
backprop[mpi]``).

Every process of a communicator holds a replica of the same network and its own shard of
the data.  Each mini-batch step computes ∂C/∂θ on the process's share of the global
batch; an allreduce turns it into the global batch's mean, Σ_r w_r g_r / Σ_r w_r (w_r: the
process's samples, or their weights), and every process applies that same update, so
the replicas stay identical.  The library's bp_fit() takes the reduction as its gradient
hook and agrees on the rest through its reduce hook (steps per epoch, the epoch's
losses, stopping): see "Data-parallel training" in backprop.h.

- ``net.fit(X_local, Y_local, ..., comm=MPI.COMM_WORLD)`` does it all; ``batch_size`` is
  the per-process batch, as in Horovod and PyTorch's DistributedDataParallel.
- For hand-written loops: :func:`broadcast_parameters` once, then per step
  ``net.forward(x); net.backward(y); allreduce_gradients(net, comm); net.update(lr)``.
- :func:`shard` deals rows to the processes.

Run with ``mpirun -np 2 python train.py`` on one machine, or ``mpirun --hostfile hosts
-np 8 python train.py`` across machines (docs/distributed.md).
"""

from __future__ import annotations

import sys
import traceback

import numpy as np

from . import _lib, _weights, training
from ._codes import BP_ERROR_INVALID_ARGUMENT, BP_ERROR_PEER_FAILED, BP_OK, BP_REDUCE_MAX, BP_REDUCE_SUM
from .errors import PeerFailedError

__all__ = ["shard", "broadcast_parameters", "allreduce_gradients", "fit"]

def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "backprop.distributed needs mpi4py and an MPI library: apt-get install libopenmpi-dev "
            "openmpi-bin (or your cluster's MPI), then pip install mpi4py (or backprop[mpi])"
        ) from exc
    return MPI


def shard(*arrays, comm):
    """This process's rows of each array: rows rank, rank + size, rank + 2·size... of a
    communicator of `size` processes.  With batches of b rows on every process and no
    shuffling, step k of all processes together covers rows k·b·size ... (k+1)·b·size − 1,
    the k-th batch of b·size rows of the whole data: the same steps a single process
    takes with that batch size.  Shards differ by at most one row.  Returns one array,
    or a tuple for several (which must have the same number of rows)."""
    if not arrays:
        raise ValueError("shard() needs at least one array")
    rows = {len(a) for a in arrays}
    if len(rows) != 1:
        raise ValueError(f"the arrays have {sorted(rows)} rows; shard() needs arrays of the same length")
    rank, size = comm.Get_rank(), comm.Get_size()
    parts = tuple(a[rank::size] for a in arrays)
    return parts[0] if len(parts) == 1 else parts


def broadcast_parameters(net, comm, root=0) -> None:
    """Makes every process's network equal to the root's: parameters, optimizer and
    schedule state, options, input and target scaling, dropout (the model bytes of
    Network.to_bytes(), broadcast).  Each process keeps its thread count.  Collective:
    every process of `comm` must call it; a process whose network has another
    architecture raises ValueError, after the broadcast."""
    model = net.to_bytes() if comm.Get_rank() == root else None
    model = comm.bcast(model, root=root)
    if comm.Get_rank() != root:
        net._become(model)


def allreduce_gradients(net, comm, weight) -> float:
    """Replaces the pending gradients of the last backward() with the global batch's,
    Σ_r weight_r g_r / Σ_r weight_r over the processes (bp_set_gradients), so that the
    next update() takes the same step everywhere.  `weight` is this process's share: its
    batch's sample count (or the sum of its sample weights).  A process with no rows for
    a step still takes part, with weight 0 (its gradients, of a forward and backward on
    any row, are then ignored).  Returns the global weight.  Collective: every process of
    `comm` must call it."""
    weight = float(weight)
    if not (np.isfinite(weight) and weight >= 0):
        raise ValueError(f"weight is {weight}; expected a finite number >= 0")
    gradients = net.gradients
    total = _average(_mpi(), comm, gradients, weight, np.zeros(1, dtype=np.float64))
    net.gradients = gradients
    return total


def _average(MPI, comm, gradients: np.ndarray, weight: float, total: np.ndarray) -> float:
    """gradients ← Σ_r weight_r gradients_r / Σ_r weight_r, in place (float32): the
    processes first sum their weights (into `total`, one float64), then each scales its
    gradients by weight / Σ weight and the scaled gradients are summed in place, so no
    copy is made and the float32 sum moves half the bytes of float64.  Zeros when every
    process's weight is 0.  Returns Σ weight.  `MPI` is mpi4py's module, which the hook
    looks up once rather than at every step."""
    total[0] = weight
    comm.Allreduce(MPI.IN_PLACE, total, op=MPI.SUM)
    if total[0] > 0:
        np.multiply(gradients, np.float32(weight / total[0]), out=gradients)
    else:  # every process's batch weighs 0: nothing to learn from
        gradients[:] = 0
    comm.Allreduce(MPI.IN_PLACE, gradients, op=MPI.SUM)
    return float(total[0])


class _Hooks:
    """bp_fit()'s gradient and reduce hooks over an mpi4py communicator; the gradient
    hook averages (_average) in the library's own buffer.  A hook cannot report an MPI
    failure to the other processes, which are waiting in the same collective: it prints
    the error and aborts the job (MPI_Abort), so that none waits forever."""

    def __init__(self, comm):
        self.MPI = _mpi()
        self.comm = comm
        self.total = np.zeros(1, dtype=np.float64)
        self.gradient = _lib.bp_gradient_hook(self._reduce_gradients)
        self.reduce = _lib.bp_reduce_hook(self._reduce)

    def _reduce_gradients(self, pointer, count, _samples, weight, _loss, _user_data):
        try:
            _average(self.MPI, self.comm, np.ctypeslib.as_array(pointer, shape=(count,)), weight, self.total)
            return BP_OK
        except BaseException:  # noqa: B036 - must not propagate into C
            self._abort("the gradient hook")
            return BP_ERROR_INVALID_ARGUMENT  # not reached

    def _reduce(self, pointer, count, operation, _user_data):
        try:
            values = np.ctypeslib.as_array(pointer, shape=(count,))
            op = {BP_REDUCE_SUM: self.MPI.SUM, BP_REDUCE_MAX: self.MPI.MAX}.get(int(operation))
            if op is None:
                return BP_ERROR_INVALID_ARGUMENT
            self.comm.Allreduce(self.MPI.IN_PLACE, values, op=op)
            return BP_OK
        except BaseException:  # noqa: B036 - must not propagate into C
            self._abort("the reduce hook")
            return BP_ERROR_INVALID_ARGUMENT  # not reached

    def _abort(self, where: str) -> None:
        print(f"backprop.distributed: rank {self.comm.Get_rank()}: {where} failed; aborting the job",
              file=sys.stderr)
        traceback.print_exc()
        sys.stderr.flush()
        self.comm.Abort(1)


def _agree(comm, error, stage: str) -> None:
    """Collective: raises on every process if any process has an error.  A process raises
    its own; the others a PeerFailedError naming the first failing rank and its error."""
    summary = None if error is None else (type(error).__name__, str(error), getattr(error, "status", None))
    summaries = comm.allgather(summary)
    failed = [(rank, s) for rank, s in enumerate(summaries) if s is not None and s[2] != BP_ERROR_PEER_FAILED]
    if error is not None and getattr(error, "status", None) != BP_ERROR_PEER_FAILED:
        raise error
    if failed or error is not None:
        rank, (kind, message, _) = failed[0] if failed else (None, ("PeerFailedError", str(error), None))
        who = f"rank {rank}" if rank is not None else "another process"
        raise PeerFailedError(BP_ERROR_PEER_FAILED, f"{who} failed {stage}: {kind}: {message}", "fit") from error


def _global_standardization(comm, data: np.ndarray):
    """(shift, scale) that standardise the rows of every process's `data` together: the
    mean and 1 / standard deviation over all of them (1 for a constant column), by the
    library's rule (bp_standardize_inputs)."""
    MPI = _mpi()
    x = data.astype(np.float64)
    sums = np.concatenate([[x.shape[0]], x.sum(axis=0)])
    comm.Allreduce(MPI.IN_PLACE, sums, op=MPI.SUM)
    count, mean = sums[0], sums[1:] / sums[0]
    squares = ((x - mean) ** 2).sum(axis=0)
    comm.Allreduce(MPI.IN_PLACE, squares, op=MPI.SUM)
    deviation = np.sqrt(squares / count)
    with np.errstate(divide="ignore", over="ignore"):
        scale = (1 / deviation).astype(np.float32)
    scale[~((deviation > 0) & np.isfinite(scale))] = 1
    return mean.astype(np.float32), scale


def _balanced_class_weights(comm, run: training.FitRun) -> dict:
    """class_weight="balanced" over every process's targets: n / (k · n_c) with the
    global counts, as a {class: weight} table."""
    MPI = _mpi()
    width = max(run.Y.shape[1], 2)
    counts = np.bincount(_weights._classes_of(run.Y), minlength=width).astype(np.float64)
    comm.Allreduce(MPI.IN_PLACE, counts, op=MPI.SUM)
    present = counts > 0
    n, k = counts.sum(), present.sum()
    return {int(c): float(n / (k * counts[c])) for c in np.flatnonzero(present)}


def fit(net, X, Y, comm, arguments: dict) -> dict:
    """Network.fit(..., comm=comm): `arguments` are fit()'s own (see training.fit).

    Every process runs the same collectives in the same order whatever fails locally:
    the argument checks, then every collective of the set-up (rank 0's seed and model,
    the global statistics), then the local steps that can fail (adopting the model,
    setting the scaling); a failure in a stage is agreed on before the next (_agree),
    and bp_fit() agrees on the rest through its hooks."""
    MPI = _mpi()
    if not isinstance(comm, MPI.Comm):
        raise ValueError(f"comm is {comm!r}; expected an mpi4py communicator (e.g. MPI.COMM_WORLD)")
    run = error = model = None
    try:
        run = training.prepare(net, X, Y, arguments)
        net._check_not_in_fit("fit()")
        if comm.Get_rank() == 0:
            model = net.to_bytes()
    except BaseException as exc:  # noqa: B036 - agreed on below, then raised
        error = exc
    _agree(comm, error, "before training")
    # The collectives of the set-up, which no process skips.
    run.seed = comm.bcast(run.seed, root=0)  # one shuffling seed: each process shuffles its own shard with it
    model = comm.bcast(model, root=0)
    # The history's keys: with validation data on any process, every process reports the
    # agreed validation loss (and accuracy).
    run.reports_validation = any(comm.allgather(run.validation))
    table = _balanced_class_weights(comm, run) if arguments["class_weight"] == "balanced" else None
    inputs = _global_standardization(comm, run.X) if arguments["standardize"] else None
    targets = _global_standardization(comm, run.Y) if arguments["standardize_targets"] else None
    try:
        if comm.Get_rank() != 0 and net.to_bytes() != model:  # replicas already alike (a second fit) keep theirs
            net._become(model)
        if table is not None:
            run.W = _weights.combined(arguments["sample_weight"], table, run.Y, run.classifier)
        if inputs is not None:
            net.set_input_scaling(*inputs)
        if targets is not None:
            net.set_target_scaling(*targets)
    except BaseException as exc:  # noqa: B036 - agreed on below, then raised
        error = exc
    _agree(comm, error, "before training")
    if run.verbose and comm.Get_rank() != 0:
        run.verbose = 0  # one progress display, rank 0's: the histories are the same
    hooks = _Hooks(comm)
    history = None
    try:
        history = training.run_fit(net, run, gradient_hook=hooks.gradient, reduce_hook=hooks.reduce)
    except BaseException as exc:  # noqa: B036 - agreed on below, then raised
        error = exc
    _agree(comm, error, "during training")
    return history
