"""Sample and class weights: the arrays the weighted C calls take (bp_backward_weighted,
bp_train_step_weighted, bp_evaluate_weighted, bp_fit_options.sample_weights).

The library checks the values (finite, ≥ 0, not all 0) and says which one is wrong; here
the shape is checked, class weights become sample weights, and both multiply.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _arrays

__all__ = ["as_weights", "class_sample_weights", "combined"]


def as_weights(w, count: int, name: str = "sample_weight") -> np.ndarray:
    """A C-contiguous float32 vector of `count` weights, one per sample."""
    arr = _arrays.as_float32(w, name)
    if arr.ndim != 1 or arr.shape[0] != count:
        raise ValueError(f"{name} has shape {arr.shape}; expected ({count},), one weight per sample")
    return np.ascontiguousarray(arr)


def _classes_of(Y: np.ndarray) -> np.ndarray:
    """Each target row's class, by the rule bp_evaluate counts with: the largest value
    (the lowest index on a tie), or value ≥ 0.5 for a single output."""
    if Y.shape[1] == 1:
        return (Y[:, 0] >= 0.5).astype(np.int64)
    return np.argmax(Y, axis=1)


def class_sample_weights(class_weight, Y: np.ndarray, classifier: bool) -> np.ndarray:
    """Sample weights from class weights: a dict {class: weight} (classes it does not name
    weigh 1) or "balanced", n / (k · n_c) for the k classes present, as scikit-learn's
    compute_class_weight."""
    if not classifier:
        raise ValueError("class_weight needs a classifier (a softmax or sigmoid output); this network is a regressor")
    classes = _classes_of(Y)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight is {class_weight!r}; expected a dict {{class: weight}} or 'balanced'")
        present, counts = np.unique(classes, return_counts=True)
        table = dict(zip(present.tolist(), (len(classes) / (len(present) * counts)).tolist()))
    elif isinstance(class_weight, dict):
        table = {}
        for key, value in class_weight.items():
            if isinstance(key, (bool, np.bool_)) or not isinstance(key, numbers.Integral):
                raise ValueError(f"class_weight has the key {key!r}; expected integer class labels")
            table[int(key)] = _arrays.as_real(value, f"class_weight[{key!r}]")
    else:
        raise ValueError(f"class_weight is {class_weight!r}; expected a dict {{class: weight}} or 'balanced'")
    return np.array([table.get(int(c), 1.0) for c in classes], dtype=np.float32)


def combined(sample_weight, class_weight, Y: np.ndarray, classifier: bool, name: str = "sample_weight"):
    """The product of the sample weights and the class weights, or None without either."""
    weights = None if sample_weight is None else as_weights(sample_weight, Y.shape[0], name)
    if class_weight is not None:
        by_class = class_sample_weights(class_weight, Y, classifier)
        weights = by_class if weights is None else np.ascontiguousarray(weights * by_class, dtype=np.float32)
    return weights
