"""Checking and converting array arguments before they reach C.

The zero-copy rule: a C-contiguous, aligned, native-endian float32 ``numpy.ndarray``
is passed to the library as it is (its data pointer goes straight to C).  Anything
else -- float64 or integer arrays, non-contiguous views, Python lists -- is converted
once with ``np.ascontiguousarray(x, dtype=np.float32)``.

Every problem is reported as a ValueError naming the argument.  All are found before
any C call, except NaN and infinity on the per-step paths (``require_finite=False``):
there the library's own check refuses them, and the caller then raises the same
ValueError with raise_first_non_finite().
"""

from __future__ import annotations

import numbers
import os
import operator
from ctypes import POINTER, c_float

import numpy as np

_FLOAT32 = np.dtype(np.float32)
_FLOAT_P = POINTER(c_float)
_FLOAT_AT = c_float.from_buffer


def pointer(arr: np.ndarray):
    """A ``float *`` to the data of a C-contiguous float32 array (no copy)."""
    return arr.ctypes.data_as(_FLOAT_P)


def argument(arr: np.ndarray):
    """The data of a C-contiguous float32 array as the argument of a ``float *``
    parameter (argtypes ``POINTER(c_float)``), without a copy.

    A c_float laid over the array's first value, which ctypes passes by reference: about
    8 times cheaper than pointer(), whose ``arr.ctypes`` costs more than a small C call.
    Like pointer()'s, it keeps `arr` alive while it exists.  Read-only arrays cannot be
    shared that way (from_buffer wants a writable buffer) and go through pointer()."""
    try:
        return _FLOAT_AT(arr)
    except TypeError:
        return pointer(arr)


def is_zero_copy(x) -> bool:
    """True when `x` would be handed to C without a copy."""
    if not isinstance(x, np.ndarray) or x.dtype != _FLOAT32:  # also rules out byte-swapped float32
        return False
    flags = x.flags
    return flags.c_contiguous and flags.aligned


def rows(x, width: int) -> int:
    """The number of rows of `x` when the library can take it as it is and no check is
    left to Python: a writeable, aligned, C-contiguous float32 ndarray of shape
    (rows, width), found in a few attribute reads (the per-step calls' common case); 0 for
    anything else, which the full checks then take."""
    if type(x) is np.ndarray and x.dtype is _FLOAT32 and x.flags.carray:
        shape = x.shape
        if len(shape) == 2 and shape[1] == width:
            return shape[0]
    return 0


def as_numeric(x, name: str) -> np.ndarray:
    """np.asarray(x) with a ValueError for ragged, non-numeric and complex input."""
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name} cannot be read as a numeric array: {exc}") from None
    kind = arr.dtype.kind
    if kind == "c":
        raise ValueError(f"{name} has complex dtype {arr.dtype}; expected real numbers (float32)")
    if kind not in "biuf":
        raise ValueError(f"{name} has dtype {arr.dtype}; expected real numbers (float32)")
    return arr


def as_float32(x, name: str) -> np.ndarray:
    """A C-contiguous float32 array with the data of `x`: `x` itself when possible."""
    if is_zero_copy(x):
        return x
    arr = as_numeric(x, name)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(arr, dtype=np.float32, order="C")


def _describe_index(index) -> str:
    return ", ".join(str(int(i)) for i in index)


def check_finite(arr: np.ndarray, name: str) -> None:
    """ValueError naming the first NaN or infinite entry of a float32 array."""
    if arr.size and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        value = arr[tuple(bad)]
        raise ValueError(
            f"{name}[{_describe_index(bad)}] is {value}; every value must be finite "
            "(no NaN or infinity, and within float32 range, |x| < 3.4e38)"
        )


def raise_first_non_finite(*arrays) -> None:
    """The ValueError naming the first NaN or infinite value of `arrays` ((array, name)
    pairs, in argument order), if there is one; for the handler of a failed call.

    forward(), backward(), train_step() and predict() leave NaN and infinity to the
    library, which refuses them before changing anything: numpy's check of every value
    would cost more than the call itself for small batches.  Running it when anything
    fails after the shapes are checked, before that failure's own error, raises exactly
    the error (message and precedence) of a check up front."""
    try:
        for arr, name in arrays:
            check_finite(arr, name)
    except ValueError as err:
        raise err from None  # not "during handling of" the library's error


def check_not_empty(arr: np.ndarray, name: str, expected: str) -> None:
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {tuple(arr.shape)}); expected {expected} with at least one sample")


def as_inputs(x, width: int, name: str = "X", require_finite: bool = True):
    """Inputs as a (batch, width) float32 C-contiguous array.

    A 1-D array of `width` values is one sample, a batch of 1; the second result
    says whether that happened (so the caller can return 1-D outputs).  With
    `require_finite` False the values are not checked: the caller leaves that to the
    library, which refuses NaN and infinity, and runs check_finite() when a call fails.
    """
    if is_zero_copy(x) and x.ndim == 2 and x.shape[1] == width and x.shape[0]:  # the common case, in short
        if require_finite:
            check_finite(x, name)
        return x, False
    arr = as_float32(x, name)
    expected = f"(batch, {width})"
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} has shape {tuple(arr.shape)}; expected {expected}, or ({width},) for one sample")
    check_not_empty(arr, name, expected)
    single = arr.ndim == 1
    if single:
        if arr.shape[0] != width:
            raise ValueError(f"{name} has shape {tuple(arr.shape)}; expected {expected}, or ({width},) for one sample")
        arr = arr.reshape(1, width)
    elif arr.shape[1] != width:
        raise ValueError(f"{name} has shape {tuple(arr.shape)}; expected {expected}")
    if require_finite:
        check_finite(arr, name)
    return arr, single


def labels_to_targets(labels: np.ndarray, width: int, output_activation: str, name: str) -> np.ndarray:
    """Integer class labels (1-D) to float32 targets of shape (batch, width)."""
    labels = np.asarray(labels).astype(np.int64, copy=False)
    if width == 1:
        bad = np.flatnonzero((labels != 0) & (labels != 1))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"{name}[{i}] is {labels[i]}; a single {output_activation} output takes class labels 0 or 1")
        return np.ascontiguousarray(labels.reshape(-1, 1), dtype=np.float32)
    bad = np.flatnonzero((labels < 0) | (labels >= width))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name}[{i}] is {labels[i]}; class labels must be in 0..{width - 1} (one per output unit)")
    targets = np.zeros((labels.shape[0], width), dtype=np.float32)
    targets[np.arange(labels.shape[0]), labels] = 1.0
    return targets


def is_label_vector(arr: np.ndarray) -> bool:
    return arr.ndim == 1 and arr.dtype.kind in "biu"


def as_targets(
    y, batch, width: int, classifier: bool, output_activation: str, name: str = "Y", require_finite: bool = True
) -> np.ndarray:
    """Targets as a (batch, width) float32 C-contiguous array.

    `batch` is the number of samples they must match (None: take it from `y`).
    Accepted: a (batch, width) array; for a classifier (softmax or sigmoid output),
    1-D integer class labels of length batch, one-hot encoded here (0/1 for a single
    output); a 1-D array of length batch when width is 1; a 1-D array of length width
    when batch is 1.  `require_finite` as for as_inputs().
    """
    if is_zero_copy(y) and y.shape == (batch, width):  # the common case, in short
        if require_finite:
            check_finite(y, name)
        return y
    arr = as_numeric(y, name)
    rows = "batch" if batch is None else str(batch)
    expected = f"({rows}, {width})"
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} has shape {tuple(arr.shape)}; expected {expected}")
    check_not_empty(arr, name, expected)
    if classifier and is_label_vector(arr) and (batch is None or arr.shape[0] == batch):
        return labels_to_targets(arr, width, output_activation, name)
    arr = as_float32(arr, name)
    if arr.ndim == 1:
        if width == 1 and (batch is None or arr.shape[0] == batch):
            arr = arr.reshape(-1, 1)
        elif batch == 1 and arr.shape[0] == width:
            arr = arr.reshape(1, width)
        else:
            hint = f" or ({batch},) class labels" if classifier and batch is not None else ""
            raise ValueError(f"{name} has shape {tuple(arr.shape)}; expected {expected}{hint}")
    elif arr.shape[1] != width or (batch is not None and arr.shape[0] != batch):
        suffix = " (one row per sample of X)" if batch is not None else ""
        raise ValueError(f"{name} has shape {tuple(arr.shape)}; expected {expected}{suffix}")
    if require_finite:
        check_finite(arr, name)
    return arr


def as_real(value, name: str) -> float:
    """A Python float from a real number (not bool, str or complex)."""
    if type(value) is float:  # the common case, without the costly numbers.Real check
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} is {value!r}; expected a real number")
    return float(value)


def as_int(value, name: str, minimum: int | None = None) -> int:
    """An int from an integer (not bool or float), optionally >= minimum."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} is {value!r}; expected an integer")
    try:
        result = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} is {value!r}; expected an integer") from None
    if minimum is not None and result < minimum:
        raise ValueError(f"{name} is {result}; expected an integer >= {minimum}")
    return result


def as_seed(value, name: str = "seed") -> int:
    """A uint64 seed: an int in [0, 2**64) as it is; None draws one from os.urandom."""
    if value is None:
        return int.from_bytes(os.urandom(8), "little")
    seed = as_int(value, name, minimum=0)
    if seed >= 1 << 64:
        raise ValueError(f"{name} is {seed}; expected an integer in [0, 2**64)")
    return seed
