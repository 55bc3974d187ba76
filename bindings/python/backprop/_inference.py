"""Inference: the methods of Network that only read it (bp_predict, bp_evaluate), which
several threads may call at once on one network (shared holds, see _lock)."""

from __future__ import annotations

import ctypes
from ctypes import c_float

import numpy as np

from . import _arrays, _lib, _weights
from . import training as _training

__all__ = ["Inference"]


class Inference:
    """The inference methods of Network."""

    def predict(self, X, batch_size=None) -> np.ndarray:
        """The outputs for X (same shapes as forward()), for inference (bp_predict).

        Unlike forward(), nothing is kept for backward(), and several threads may
        predict with the same network at once (see the class docstring).  With
        ``batch_size``, X is run in chunks of that many rows, which keeps the library's
        working memory (allocated per call) small for large X; all chunks see the same
        parameters.
        """
        single = False
        if not _arrays.rows(X, self._layers[0]):
            X, single = self._inputs(X, require_finite=False)
        try:
            out = self._predict_unchecked(X, batch_size)
        except Exception:
            _arrays.raise_first_non_finite((X, "X"))
            raise
        return out[0] if single else out

    def _predict_unchecked(self, X: np.ndarray, batch_size) -> np.ndarray:
        n = X.shape[0]
        chunk = n if batch_size is None else _arrays.as_int(batch_size, "batch_size", minimum=1)
        out = np.empty((n, self._layers[-1]), dtype=np.float32)
        predict = _lib.lib.bp_predict
        if chunk >= n and self._fit_thread is None:
            # One call, without the chunks' loop or the hold object: a small predict's
            # common case, where each of those costs a tenth of the call.
            lock = self._lock
            lock.acquire_shared()
            try:
                status = predict(self._require_open(), _arrays.argument(X), n, _arrays.argument(out))
            finally:
                lock.release_shared()
            if status:
                _lib.check(status, "bp_predict")  # bp_last_error() is this thread's
            return out
        # C-contiguous views: no copy
        pieces = ((X[start : start + chunk], out[start : start + chunk]) for start in range(0, n, chunk))
        with self._shared() as handle:
            for rows, part in pieces:
                status = predict(handle, _arrays.argument(rows), rows.shape[0], _arrays.argument(part))
                if status:
                    _lib.check(status, "bp_predict")
        return out

    def predict_classes(self, X, batch_size=None) -> np.ndarray:
        """Predicted class labels (int64), by the rule bp_evaluate's accuracy counts with:
        with several outputs, the index of the largest (the lowest index on a tie); with a
        single output (a classifier's: sigmoid or softmax), 1 when it is ≥ 0.5, else 0.
        A 1-D X (one sample) gives a 0-d result."""
        out = self.predict(X, batch_size)
        if out.shape[-1] == 1:
            if not self.is_classifier:
                raise ValueError(
                    "predict_classes needs a classifier (a softmax or sigmoid output) to classify with a "
                    f"single output; this network has a single {self.activations[-1]} output"
                )
            return (out[..., 0] >= 0.5).astype(np.int64)
        return np.argmax(out, axis=-1).astype(np.int64)  # the first of equal maxima, as the library

    def evaluate(self, X, Y, sample_weight=None):
        """``(loss, accuracy)`` on a data set (bp_evaluate; weighted means with
        ``sample_weight``, one weight ≥ 0 per sample: bp_evaluate_weighted).

        ``loss`` is the mean loss over the samples (the network's loss function, as
        train_step() reports it).  ``accuracy`` is for classifiers: with a softmax or
        multi-unit sigmoid output, the fraction of samples whose largest output is where
        their target's largest value is; with one sigmoid unit, the fraction on the same
        side of 0.5 as their target; ``None`` for other outputs.  Y may be integer class
        labels for a classifier.  Reads the network only: thread-safe like predict().
        """
        X, _ = self._inputs(X)
        Y = self._targets(Y, X.shape[0])
        w = None if sample_weight is None else _weights.as_weights(sample_weight, X.shape[0])
        return self._evaluate_unchecked(X, Y, w)

    def _evaluate_unchecked(self, X: np.ndarray, Y: np.ndarray, w=None):
        loss = c_float()
        accuracy = c_float()
        with self._shared() as handle:
            if w is None:
                status, function = _lib.lib.bp_evaluate(
                    handle, _arrays.argument(X), _arrays.argument(Y), X.shape[0], ctypes.byref(loss),
                    ctypes.byref(accuracy)), "bp_evaluate"
            else:
                status, function = _lib.lib.bp_evaluate_weighted(
                    handle, _arrays.argument(X), _arrays.argument(Y), _arrays.argument(w), X.shape[0],
                    ctypes.byref(loss), ctypes.byref(accuracy)), "bp_evaluate_weighted"
            if status:
                _lib.check(status, function)
        acc = float(accuracy.value)
        return float(loss.value), (None if acc != acc else acc)

    def metrics(self, X, Y, sample_weight=None) -> dict:
        """Every measure of a data set in one pass (bp_evaluate_metrics): ``loss`` and
        ``accuracy`` as evaluate() reports them; for a classifier ``confusion_matrix``,
        a (k, k) float64 array of counts (sums of weights), row = true class, column =
        predicted class; for a regressor ``mean_absolute_error``,
        ``root_mean_squared_error`` and ``r2`` (scikit-learn's r2_score, the mean over
        outputs).  Measures that do not apply are None.  Weighted with ``sample_weight``.
        """
        X, _ = self._inputs(X)
        Y = self._targets(Y, X.shape[0])
        w = None if sample_weight is None else _weights.as_weights(sample_weight, X.shape[0])
        out = _lib.bp_metrics(struct_size=ctypes.sizeof(_lib.bp_metrics))
        k = max(self.output_size, 2)
        confusion = np.zeros((k, k), dtype=np.float64) if self.is_classifier else None
        with self._shared() as handle:
            status = _lib.lib.bp_evaluate_metrics(
                handle, _arrays.argument(X), _arrays.argument(Y), None if w is None else _arrays.argument(w),
                X.shape[0], ctypes.byref(out), None if confusion is None else confusion.ctypes.data_as(_lib.DOUBLE_P),
                0 if confusion is None else confusion.size)
            if status:
                _lib.check(status, "bp_evaluate_metrics")
        present = lambda v: None if v != v else float(v)  # NaN: does not apply
        return {
            "loss": float(out.loss),
            "accuracy": present(out.accuracy),
            "mean_absolute_error": present(out.mean_absolute_error),
            "root_mean_squared_error": present(out.root_mean_squared_error),
            "r2": present(out.r2),
            "confusion_matrix": confusion,
        }

    def score(self, X, y, batch_size=None, sample_weight=None) -> float:
        """Accuracy for a classifier, mean loss for a regressor: the accuracy or the loss
        of evaluate() (bp_evaluate), so the library's rule decides.

        Classifier (softmax or sigmoid output): the fraction of samples whose predicted
        class (see predict_classes) is their target's (y as integer labels, or one-hot or
        probability rows, whose largest value, or value ≥ 0.5 for a single output, is
        the class).  Regressor (any other output activation, so MSE loss): the mean over
        samples of ½‖a − y‖² (lower is better).  ``batch_size`` is accepted for
        compatibility and ignored: the library evaluates in chunks of its own.  With
        ``sample_weight``, the weighted accuracy or loss (see evaluate()).
        """
        return _training.score(self, X, y, batch_size=batch_size, sample_weight=sample_weight)
