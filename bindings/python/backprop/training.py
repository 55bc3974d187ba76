"""Training on a data set (fit, over the library's bp_fit), evaluation (score) and the
progress display."""

from __future__ import annotations

import ctypes
import sys
import time

import numpy as np

from . import _arrays, _lib, _weights
from .errors import DivergedError, error_for_status

__all__ = ["fit", "score"]

#: Epoch reports bp_fit() writes into its history array at most; the reports of longer
#: runs come from the progress callback, which sees every epoch.
_HISTORY_CAPACITY = 1 << 16
_SIZE_MAX = (1 << 63) - 1  # the library reads size_t as a signed Swift Int


def score(net, X, y, batch_size=None, sample_weight=None) -> float:
    """Accuracy (classifier) or mean ½‖a−y‖² loss (regressor), both from
    Network.evaluate() (bp_evaluate), weighted with ``sample_weight``; see Network.score.
    ``batch_size`` is ignored."""
    X, _ = _arrays.as_inputs(X, net.input_size, "X")
    Y = _arrays.as_targets(y, X.shape[0], net.output_size, net.is_classifier, net.activations[-1], "y")
    w = None if sample_weight is None else _weights.as_weights(sample_weight, X.shape[0])
    loss, accuracy = net._evaluate_unchecked(X, Y, w)
    return loss if accuracy is None else accuracy  # bp_evaluate's accuracy is NaN (None) for regressors


class _Progress:
    """Epoch progress on stderr: a tqdm bar if tqdm is installed, else text lines.

    verbose=0: nothing.  verbose=1: nothing until the run has lasted `delay`
    seconds, then a tqdm bar (or a text line at most once a second, and one at the
    end).  verbose=2: a text line after every epoch.
    """

    def __init__(self, verbose, epochs: int, delay: float = 2.0, stream=None):
        self.verbose = int(verbose)
        self.epochs = epochs
        self.delay = delay
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.monotonic()
        self.last_line = None
        self.bar = None
        self.printed_any = False
        self.pending = None

    @staticmethod
    def _format(logs: dict) -> str:
        return "  ".join(f"{k} {v:.4f}" for k, v in logs.items())

    def _line(self, epoch: int, logs: dict) -> None:
        elapsed = time.monotonic() - self.start
        print(f"epoch {epoch + 1}/{self.epochs}  {self._format(logs)}  ({elapsed:.1f} s)", file=self.stream, flush=True)
        self.printed_any = True
        self.last_line = time.monotonic()
        self.pending = None

    def update(self, epoch: int, logs: dict) -> None:
        if self.verbose <= 0:
            return
        if self.verbose >= 2:
            self._line(epoch, logs)
            return
        now = time.monotonic()
        if self.bar is None and not self.printed_any and now - self.start < self.delay:
            return
        if self.bar is None and not self.printed_any:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=self.epochs, initial=epoch, unit="epoch", file=self.stream, leave=True)
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)
            self.bar.update(1)
            return
        if self.last_line is None or now - self.last_line >= 1.0:
            self._line(epoch, logs)
        else:
            self.pending = (epoch, logs)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.pending is not None:
            self._line(*self.pending)


def _seed(seed) -> int:
    """The uint64 seed of bp_fit's shuffling: an int as it is, a fresh draw from
    numpy's default RNG for None, a draw from a numpy Generator."""
    if seed is None:
        seed = np.random.default_rng()
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 1 << 64, dtype=np.uint64))
    return _arrays.as_seed(seed)


def _count(value, name: str, minimum: int) -> int:
    value = _arrays.as_int(value, name, minimum=minimum)
    if value > _SIZE_MAX:
        raise ValueError(f"{name} is {value}; expected at most 2**63 - 1")
    return value


def _logs(report: tuple, validation: bool, classifier: bool) -> dict:
    """The Python logs of one epoch report (epoch, train, val loss, val accuracy, rate)."""
    logs = {"loss": report[1]}
    if validation:
        logs["val_loss"] = report[2]
        if classifier:
            logs["val_accuracy"] = report[3]
    logs["learning_rate"] = report[4]
    return logs


def _history(reports, validation: bool, classifier: bool) -> dict:
    history = {"loss": []}
    if validation:
        history["val_loss"] = []
        if classifier:
            history["val_accuracy"] = []
    history["learning_rate"] = []
    for report in reports:
        for key, value in _logs(report, validation, classifier).items():
            history[key].append(value)
    return history


def _as_tuple(report) -> tuple:
    return (
        int(report.epoch),
        float(report.train_loss),
        float(report.validation_loss),
        float(report.validation_accuracy),
        float(report.learning_rate),
    )


def fit(
    net,
    X,
    Y,
    epochs=10,
    batch_size=32,
    learning_rate=0.1,
    shuffle=True,
    seed=None,
    validation_data=None,
    callback=None,
    verbose=1,
    patience=0,
    min_delta=0.0,
    restore_best=True,
    target_loss=None,
    sample_weight=None,
    class_weight=None,
    standardize=False,
    standardize_targets=False,
    comm=None,
) -> dict:
    """Train `net` on a data set with the library's training loop (bp_fit).

    Every epoch visits the samples in mini-batches, each a train_step with the network's
    optimizer (see Network.set_optimizer; plain SGD by default).  The data is
    converted to C-contiguous float32 once, up front (float32 C-contiguous arrays are
    used without a copy), and the whole run happens in one library call, which
    releases the GIL.

    Parameters
    ----------
    X : array (n, n_0)
        Training inputs.
    Y : array (n, n_L), or 1-D integer class labels (n,) for a classifier
        Targets; labels are one-hot encoded (0/1 for a single sigmoid output).
    epochs : int
        Maximum number of passes over the data (0 trains nothing).
    batch_size : int
        Samples per step; the last batch of an epoch may be smaller.  Larger than n
        means full-batch gradient descent.
    learning_rate : float
        η0, finite and ≥ 0: every epoch's rate with the constant schedule, the base of
        the others (see Network.set_schedule); ignored by the rprop optimizer.
    shuffle : bool
        Visit the samples in a new order each epoch (the library's Fisher–Yates
        shuffle driven by ``seed``); False visits them in order.
    seed : int, numpy.random.Generator or None
        Seeds the shuffling: the same int gives the same network, bit for bit, for the
        same starting network (and any thread count).  ``None`` (the default) draws a
        seed from ``numpy.random.default_rng()``, so runs differ; a Generator gives one
        draw from it.  Pass an int for a reproducible run.
    validation_data : (X_val, Y_val), (X_val, Y_val, w_val) or None
        Evaluated after every epoch (with its weights, when given); its loss becomes
        the monitored loss.
    callback : callable(epoch, logs) or None
        Called after every epoch with the 0-based epoch and a dict of that epoch's
        numbers (the keys of the history); a truthy return value stops training after
        that epoch.  It runs on the calling thread while the library holds the network:
        it may read the network (predict, evaluate, parameters, save, to_bytes...) but
        not change it (StateError).  An exception it raises stops training after that
        epoch and is raised again by fit, with the network consistent and usable.
    verbose : int
        0 silent; 1 (default) a progress display (tqdm if installed, else text lines
        on stderr) that appears only once the run has lasted 2 s; 2 a text line on
        stderr after every epoch.
    patience : int
        Early stopping: stop after this many epochs in a row without the monitored loss
        improving on its best by more than ``min_delta``; 0 (default) turns it off.
    min_delta : float
        The improvement that counts, ≥ 0.
    restore_best : bool
        With early stopping (patience > 0), end with the parameters of the epoch with
        the best monitored loss, however training ended.  The optimizer's state is that
        of the last epoch.
    target_loss : float or None
        Stop as soon as the monitored loss is ≤ this (> 0); None turns it off.
    sample_weight : array (n,) or None
        A weight ≥ 0 per sample (not all 0): each step takes its batch's weighted mean
        loss and gradient, Σ w C / Σ w; a batch of weight 0 is skipped; the reported
        training loss is the weighted mean too.
    class_weight : dict {class: weight}, "balanced" or None
        Weights by each sample's class (classifiers only; classes a dict leaves out
        weigh 1; "balanced": n / (k · n_class), as scikit-learn); multiplied with
        ``sample_weight`` when both are given.
    standardize : bool
        First set the network's input scaling to standardise X (Network.standardize):
        the model then learns on standardised inputs and still takes raw ones, in
        predict() and in model files alike.
    standardize_targets : bool
        For a regressor, first set its target scaling to standardise Y
        (Network.standardize_targets): it learns on standardised targets and predicts in
        Y's units; the losses reported are on the standardised targets.
    comm : mpi4py communicator or None
        Data-parallel training over MPI (see backprop.distributed): every process of
        `comm` calls fit with its own shard of the data (X, Y, sample_weight,
        validation_data) and the same other arguments.  ``batch_size`` is then the
        per-process batch (the global batch is the sum over the processes), rank 0's
        parameters and optimizer state are broadcast first, each step's gradients are
        averaged over the global batch (weighted by each process's samples), and the
        losses, early stopping, the target loss and the history are the global batch's,
        identical on every process; ``standardize`` and ``class_weight="balanced"`` use
        all the shards' statistics.  A failure on one process (a refused argument, an
        exception in its callback) ends fit on every process, which raises that error
        (PeerFailedError on the others, naming the rank).  Needs mpi4py.

    The monitored loss is the validation loss with ``validation_data``, the epoch's
    training loss otherwise.

    Returns
    -------
    dict with one entry per epoch trained in each list (float32 values of the library,
    as Python floats):
        ``"loss"``: mean training loss of the epoch (each batch's loss before its
        update, weighted by batch size);
        ``"val_loss"``: validation loss after the epoch (only with validation_data);
        ``"val_accuracy"``: validation accuracy (only with validation_data, and only
        for classifiers: softmax or sigmoid output; see Network.evaluate);
        ``"learning_rate"``: η of the epoch's steps, by the network's schedule (see
        Network.set_schedule; ``learning_rate`` itself with the constant schedule).

    Raises
    ------
    DivergedError
        A step's loss or gradient was NaN or infinite (a learning rate too large,
        typically).  Training stops with the parameters from before that step;
        ``.history`` holds the epochs completed before it.
    """
    if comm is not None:
        from . import distributed  # mpi4py is needed only here

        return distributed.fit(net, X, Y, comm, locals())
    run = prepare(net, X, Y, locals())
    if standardize:
        net.standardize(run.X)
    if standardize_targets:
        net.standardize_targets(run.Y)
    return run_fit(net, run)


class FitRun:
    """fit()'s arguments, checked and converted to what bp_fit() takes."""

    __slots__ = (
        "X", "Y", "W", "Xv", "Yv", "Wv", "epochs", "batch_size", "learning_rate", "shuffle", "seed", "callback",
        "verbose", "patience", "min_delta", "restore_best", "target_loss", "classifier", "reports_validation",
    )

    @property
    def validation(self) -> bool:
        """Whether this process has validation data."""
        return self.Xv is not None


def prepare(net, X, Y, arguments: dict) -> FitRun:
    """fit()'s arguments (`arguments`: its locals, by parameter name) checked against
    `net`: a ValueError (or the network's error) for the first one that is wrong."""
    a = arguments
    run = FitRun()
    run.X, _ = _arrays.as_inputs(X, net.input_size, "X")
    n = run.X.shape[0]
    run.Y = _arrays.as_targets(Y, n, net.output_size, net.is_classifier, net.activations[-1], "Y")
    run.epochs = _count(a["epochs"], "epochs", 0)
    run.batch_size = _count(a["batch_size"], "batch_size", 1)
    lr = _arrays.as_real(a["learning_rate"], "learning_rate")
    if lr < 0 or not np.isfinite(lr):
        raise ValueError(f"learning_rate is {lr}; expected a finite number >= 0")
    run.learning_rate = lr
    run.shuffle = bool(a["shuffle"])
    run.callback = a["callback"]
    if run.callback is not None and not callable(run.callback):
        raise ValueError(f"callback is {run.callback!r}; expected a callable(epoch, logs) or None")
    verbose = a["verbose"]
    if isinstance(verbose, bool):
        verbose = int(verbose)
    run.verbose = _arrays.as_int(verbose, "verbose", minimum=0)
    run.patience = _count(a["patience"], "patience", 0)
    run.min_delta = _arrays.as_real(a["min_delta"], "min_delta")
    if not (np.isfinite(run.min_delta) and run.min_delta >= 0):
        raise ValueError(f"min_delta is {run.min_delta}; expected a finite number >= 0")
    run.restore_best = bool(a["restore_best"])
    run.target_loss = a["target_loss"]
    if run.target_loss is not None:
        run.target_loss = _arrays.as_real(run.target_loss, "target_loss")
        if not (np.isfinite(run.target_loss) and run.target_loss > 0):
            raise ValueError(
                f"target_loss is {run.target_loss}; expected a finite number > 0, or None for no target"
            )
    run.seed = _seed(a["seed"])
    run.W = _weights.combined(a["sample_weight"], a["class_weight"], run.Y, net.is_classifier)
    run.Xv = run.Yv = run.Wv = None
    validation_data = a["validation_data"]
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be a pair (X_val, Y_val) or a triple (X_val, Y_val, w_val)")
        run.Xv, _ = _arrays.as_inputs(validation_data[0], net.input_size, "validation_data[0]")
        run.Yv = _arrays.as_targets(
            validation_data[1], run.Xv.shape[0], net.output_size, net.is_classifier, net.activations[-1],
            "validation_data[1]"
        )
        if len(validation_data) == 3:
            run.Wv = _weights.as_weights(validation_data[2], run.Xv.shape[0], "validation_data[2]")
    run.classifier = net.is_classifier
    run.reports_validation = run.validation  # backprop.distributed: whether any process has it
    net._require_open()
    return run


def run_fit(net, run: FitRun, gradient_hook=None, reduce_hook=None) -> dict:
    """bp_fit() with the checked arguments (and, for backprop.distributed, the ctypes
    hooks); the history, or the error, raised after bp_fit() has returned."""
    validation, classifier = run.reports_validation, run.classifier
    if run.epochs == 0:  # bp_fit() needs at least one epoch
        return _history([], validation, classifier)

    reports = []  # every epoch's report, as seen by the progress callback
    failure = []  # an exception raised by Python code during the callback
    progress = _Progress(run.verbose, run.epochs)
    callback = run.callback

    def on_epoch(report_p, _user_data):
        # Runs inside bp_fit(): nothing may propagate into C.  Any exception (the
        # user's callback, the progress display, KeyboardInterrupt...) stops training
        # after this epoch and is raised again once bp_fit() has returned.
        try:
            report = _as_tuple(report_p.contents)
            reports.append(report)
            logs = _logs(report, validation, classifier)
            progress.update(report[0] - 1, logs)
            if callback is not None and callback(report[0] - 1, dict(logs)):
                return 0
            return 1
        except BaseException as exc:  # noqa: B036 - re-raised after bp_fit() returns
            failure.append(exc)
            return 0

    c_progress = _lib.bp_progress_callback(on_epoch)  # referenced until bp_fit() returns
    options = _lib.fit_options()
    options.epochs = run.epochs
    options.batch_size = min(run.batch_size, run.X.shape[0])
    options.learning_rate = run.learning_rate
    options.shuffle = 1 if run.shuffle else 0
    options.seed = run.seed
    if run.validation:
        options.validation_inputs = _arrays.pointer(run.Xv)
        options.validation_targets = _arrays.pointer(run.Yv)
        options.validation_count = run.Xv.shape[0]
        if run.Wv is not None:
            options.validation_weights = _arrays.pointer(run.Wv)
    if run.W is not None:
        options.sample_weights = _arrays.pointer(run.W)
    options.patience = run.patience
    options.min_delta = run.min_delta
    options.restore_best = 1 if run.restore_best else 0
    options.target_loss = run.target_loss if run.target_loss is not None else 0.0
    options.progress = c_progress
    options.user_data = None
    if gradient_hook is not None:
        options.gradient_hook = gradient_hook
    if reduce_hook is not None:
        options.reduce_hook = reduce_hook

    capacity = min(run.epochs, _HISTORY_CAPACITY)
    history_array = (_lib.bp_epoch_report * capacity)()
    epochs_run = ctypes.c_size_t()
    error = None
    try:
        with net._fitting() as handle:
            status = _lib.lib.bp_fit(
                handle,
                _arrays.pointer(run.X),
                _arrays.pointer(run.Y),
                run.X.shape[0],
                ctypes.byref(options),
                history_array,
                capacity,
                ctypes.byref(epochs_run),
            )
            if status:  # read bp_last_error() now, before any other library call here
                error = error_for_status(status, _lib.last_error() or _lib.status_string(status), "bp_fit")
    finally:
        progress.close()
        del c_progress, options

    if failure:
        if error is not None:
            raise failure[0] from error
        raise failure[0]
    if error is not None:
        if isinstance(error, DivergedError):
            error.history = _history(reports, validation, classifier)
        raise error

    count = int(epochs_run.value)
    finished = [_as_tuple(history_array[i]) for i in range(min(count, capacity))]
    finished += reports[capacity:count]  # beyond the array: from the callback
    return _history(finished, validation, classifier)
