"""Mini-batch training loop (fit), evaluation (score) and progress display."""

from __future__ import annotations

import sys
import time

import numpy as np

from . import _arrays

__all__ = ["fit", "score", "mean_loss"]

_EVAL_BATCH = 4096  # rows per bp_forward() when evaluating large sets


def mean_loss(outputs: np.ndarray, targets: np.ndarray, loss: str, output_activation: str) -> float:
    """Mean loss over the batch, in float64, from outputs a^L and targets y.

    MSE: ½‖a−y‖² per sample.  Cross-entropy: −Σ y ln a (softmax output) or
    −Σ [y ln a + (1−y) ln(1−a)] (sigmoid output); probabilities are clipped to
    [1e-38, 1] before the logarithm, so a saturated wrong prediction costs at most
    ~87 instead of infinity (the library's fused computation from z may differ there).
    """
    a = outputs.astype(np.float64)
    y = targets.astype(np.float64)
    if loss == "mse":
        per_sample = 0.5 * np.sum((a - y) ** 2, axis=1)
    else:
        tiny = float(np.finfo(np.float32).tiny)
        log_a = np.log(np.clip(a, tiny, 1.0))
        if output_activation == "softmax":
            per_sample = -np.sum(y * log_a, axis=1)
        else:
            log_1ma = np.log(np.clip(1.0 - a, tiny, 1.0))
            per_sample = -np.sum(y * log_a + (1.0 - y) * log_1ma, axis=1)
    return float(np.mean(per_sample))


def _true_classes(net, y, batch: int) -> np.ndarray:
    # Labels are one-hot encoded (and range-checked) by as_targets, then decoded again.
    targets = _arrays.as_targets(y, batch, net.output_size, True, net.activations[-1], "y")
    if targets.shape[1] == 1:
        return (targets[:, 0] >= 0.5).astype(np.int64)
    return np.argmax(targets, axis=1).astype(np.int64)


def _evaluate(net, X: np.ndarray, Y: np.ndarray):
    """(mean loss, accuracy or None) of prepared float32 X and targets Y."""
    outputs = net.predict(X, batch_size=_EVAL_BATCH)
    loss = mean_loss(outputs, Y, net.loss, net.activations[-1])
    if not net.is_classifier:
        return loss, None
    if outputs.shape[1] == 1:
        predicted = (outputs[:, 0] >= 0.5)
        actual = Y[:, 0] >= 0.5
    else:
        predicted = np.argmax(outputs, axis=1)
        actual = np.argmax(Y, axis=1)
    return loss, float(np.mean(predicted == actual))


def score(net, X, y, batch_size=_EVAL_BATCH) -> float:
    """Accuracy (classifier) or mean ½‖a−y‖² loss (regressor); see Network.score."""
    X, _ = _arrays.as_inputs(X, net.input_size, "X")
    batch = X.shape[0]
    if net.is_classifier:
        actual = _true_classes(net, y, batch)
        outputs = net.predict(X, batch_size=batch_size)
        if outputs.shape[1] == 1:
            predicted = (outputs[:, 0] >= 0.5).astype(np.int64)
        else:
            predicted = np.argmax(outputs, axis=1)
        return float(np.mean(predicted == actual))
    Y = _arrays.as_targets(y, batch, net.output_size, False, net.activations[-1], "y")
    outputs = net.predict(X, batch_size=batch_size)
    return mean_loss(outputs, Y, net.loss, net.activations[-1])


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
) -> dict:
    """Train `net` with mini-batch stochastic gradient descent.

    Parameters
    ----------
    X : array (n, n_0)
        Training inputs (float32 C-contiguous arrays are used without a copy; other
        inputs are converted to float32 once, up front).
    Y : array (n, n_L), or 1-D integer class labels (n,) for a classifier
        Targets; labels are one-hot encoded (0/1 for a single sigmoid output).
    epochs : int
        Passes over the data (0 trains nothing).
    batch_size : int
        Samples per bp_train_step(); the last batch of an epoch may be smaller.
        Larger than n means full-batch gradient descent.
    learning_rate : float
        η, ≥ 0 (negative: InvalidArgumentError from the library, a ValueError).
    shuffle : bool
        Visit the samples in a new random order each epoch.
    seed : int, numpy.random.Generator or None
        Seeds the shuffling (``numpy.random.default_rng(seed)``); ``None`` draws fresh
        entropy, so pass an int for a reproducible run.
    validation_data : (X_val, Y_val) or None
        Evaluated after every epoch.
    callback : callable(epoch, logs) or None
        Called after every epoch with the 0-based epoch and a dict of that epoch's
        numbers; a truthy return value stops training after that epoch.
    verbose : int
        0 silent; 1 (default) a progress display (tqdm if installed, else text lines
        on stderr) that appears only once the run has lasted 2 s; 2 a text line on
        stderr after every epoch.

    Returns
    -------
    dict with one entry per completed epoch in each list:
        ``"loss"``: mean training loss of the epoch (each batch's loss as reported by
        the library before its update, weighted by batch size);
        ``"val_loss"``: validation loss after the epoch (when validation_data is given;
        computed in numpy from the outputs, see :func:`mean_loss`);
        ``"val_accuracy"``: validation accuracy (when validation_data is given and the
        network is a classifier: softmax or sigmoid output).
    """
    X, _ = _arrays.as_inputs(X, net.input_size, "X")
    n = X.shape[0]
    Y = _arrays.as_targets(Y, n, net.output_size, net.is_classifier, net.activations[-1], "Y")
    epochs = _arrays.as_int(epochs, "epochs", minimum=0)
    batch_size = _arrays.as_int(batch_size, "batch_size", minimum=1)
    lr = _arrays.as_real(learning_rate, "learning_rate")
    if lr < 0 or not np.isfinite(lr):
        raise ValueError(f"learning_rate is {lr}; expected a finite number >= 0")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback is {callback!r}; expected a callable(epoch, logs) or None")
    if isinstance(verbose, bool):
        verbose = int(verbose)
    verbose = _arrays.as_int(verbose, "verbose", minimum=0)

    Xv = Yv = None
    if validation_data is not None:
        try:
            Xv_raw, Yv_raw = validation_data
        except (TypeError, ValueError):
            raise ValueError("validation_data must be a pair (X_val, Y_val)") from None
        Xv, _ = _arrays.as_inputs(Xv_raw, net.input_size, "validation_data[0]")
        Yv = _arrays.as_targets(
            Yv_raw, Xv.shape[0], net.output_size, net.is_classifier, net.activations[-1], "validation_data[1]"
        )

    net._require_open()
    rng = np.random.default_rng(seed)
    batch_size = min(batch_size, n)

    history = {"loss": []}
    if Xv is not None:
        history["val_loss"] = []
        if net.is_classifier:
            history["val_accuracy"] = []

    progress = _Progress(verbose, epochs)
    try:
        for epoch in range(epochs):
            order = rng.permutation(n) if shuffle else None
            total = 0.0
            for start in range(0, n, batch_size):
                if order is None:
                    xb = X[start : start + batch_size]  # contiguous row slices: no copy
                    yb = Y[start : start + batch_size]
                else:
                    idx = order[start : start + batch_size]
                    xb = np.take(X, idx, axis=0)  # new C-contiguous float32 arrays
                    yb = np.take(Y, idx, axis=0)
                total += net._train_step_unchecked(xb, yb, lr) * xb.shape[0]
            logs = {"loss": total / n}
            if Xv is not None:
                val_loss, val_acc = _evaluate(net, Xv, Yv)
                logs["val_loss"] = val_loss
                if val_acc is not None:
                    logs["val_accuracy"] = val_acc
            for key, value in logs.items():
                history[key].append(value)
            progress.update(epoch, logs)
            if callback is not None and callback(epoch, dict(logs)):
                break
    finally:
        progress.close()
    return history
