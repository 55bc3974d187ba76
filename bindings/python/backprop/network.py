"""The Network class: one libbackprop network handle."""

from __future__ import annotations

import ctypes
import os
import threading
from ctypes import c_float, c_int32, c_size_t, c_void_p

import numpy as np

from . import _arrays, _lib
from .errors import BP_ERROR_STATE, StateError

__all__ = ["Network", "ACTIVATIONS", "LOSSES"]

#: Activation names and their BP_* codes (backprop.h).
ACTIVATIONS = {
    "sigmoid": 0,
    "tanh": 1,
    "relu": 2,
    "leaky_relu": 3,
    "linear": 4,
    "softmax": 5,
}

#: Loss names and their BP_LOSS_* codes (backprop.h). "cross-entropy" is accepted too.
LOSSES = {
    "mse": 0,
    "cross_entropy": 1,
}

_CLASSIFIER_OUTPUTS = ("softmax", "sigmoid")
_UINT64_MAX = (1 << 64) - 1


def _normalise_name(value, argument: str, valid: dict) -> str:
    listing = ", ".join(repr(name) for name in valid)
    if not isinstance(value, str):
        raise ValueError(f"{argument} is {value!r}; expected one of: {listing}")
    name = value.strip().lower().replace("-", "_")
    if name not in valid:
        raise ValueError(f"{argument} is {value!r}; expected one of: {listing}")
    return name


class Network:
    """A multilayer perceptron trained by backpropagation (one libbackprop handle).

    Parameters
    ----------
    layers : sequence of int
        Layer widths, the input layer included: ``[784, 256, 10]`` is 784 inputs,
        one hidden layer of 256 units and 10 outputs.
    activations : sequence of str, or str, or None
        One activation per layer after the input (``len(layers) - 1`` names), from
        ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"``, ``"linear"``,
        ``"softmax"`` (softmax on the output layer only).  A single string applies to
        every layer.  ``None``: ``"relu"`` hidden layers and a ``"softmax"`` output for
        cross-entropy, else a ``"linear"`` output.
    loss : str
        ``"mse"`` (½‖a−y‖² per sample) or ``"cross_entropy"`` (also
        ``"cross-entropy"``; needs a softmax or sigmoid output layer).
    seed : int or None
        Seeds the weight initialisation (0 ≤ seed < 2**64); the same seed gives
        bit-identical parameters.  ``None`` picks a random seed (kept in ``.seed``).

    Unknown activation or loss names raise ValueError naming the argument and listing
    the valid values; invalid architectures raise InvalidArchitectureError (a ValueError).

    Arrays
    ------
    Inputs ``X`` are ``(batch, n_0)`` arrays (a 1-D array of ``n_0`` values is one
    sample, a batch of 1), targets ``Y`` are ``(batch, n_L)``.  A C-contiguous float32
    ``numpy.ndarray`` is handed to the library without any copy; anything else
    (float64, integers, non-contiguous views, lists) is converted once with
    ``np.ascontiguousarray(x, dtype=np.float32)``.  Wrong shapes, non-numeric or
    complex dtypes, NaN/Inf and empty arrays raise ValueError before the library is
    called.  For a classifier (softmax or sigmoid output), ``Y`` may also be a 1-D
    integer array of class labels, which is one-hot encoded for you (0/1 for a single
    sigmoid output).  Output arrays are always new arrays allocated by Python.

    Lifetime and threads
    --------------------
    ``close()`` (also called by ``with Network(...) as net:`` and by garbage
    collection) releases the library handle; any later call raises
    :class:`~backprop.StateError`.  The GIL is released while the library works, so
    different networks can train in parallel threads.  A single Network must not be
    shared between threads without your own lock: the binding serialises individual
    calls, but a forward/backward/update sequence from two threads would interleave.
    """

    # ------------------------------------------------------------------ lifecycle

    def __init__(self, layers, activations=None, loss="mse", seed=0):
        self._handle = None
        self._lock = threading.Lock()
        self._last_batch = None

        if isinstance(layers, (str, bytes)) or not hasattr(layers, "__len__"):
            raise ValueError(f"layers is {layers!r}; expected a sequence of layer widths such as [784, 256, 10]")
        sizes = [_arrays.as_int(n, f"layers[{i}]") for i, n in enumerate(layers)]
        if len(sizes) < 2:
            raise ValueError(f"layers has {len(sizes)} entries; expected at least 2 (the input and the output layer)")
        for i, n in enumerate(sizes):
            if n < 1:
                raise ValueError(f"layers[{i}] is {n}; every layer needs at least one unit")

        loss_name = _normalise_name(loss, "loss", LOSSES)

        n_act = len(sizes) - 1
        if activations is None:
            output = "softmax" if loss_name == "cross_entropy" else "linear"
            acts = ["relu"] * (n_act - 1) + [output]
        elif isinstance(activations, str):
            acts = [_normalise_name(activations, "activations", ACTIVATIONS)] * n_act
        else:
            if not hasattr(activations, "__len__"):
                raise ValueError(f"activations is {activations!r}; expected a list of {n_act} names")
            acts = [_normalise_name(a, f"activations[{i}]", ACTIVATIONS) for i, a in enumerate(activations)]
            if len(acts) != n_act:
                raise ValueError(
                    f"activations has {len(acts)} entries; expected {n_act} (one per layer after the input)"
                )

        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little")
        seed = _arrays.as_int(seed, "seed", minimum=0)
        if seed > _UINT64_MAX:
            raise ValueError(f"seed is {seed}; expected an integer in [0, 2**64)")

        c_sizes = (c_size_t * len(sizes))(*sizes)
        c_acts = (c_int32 * n_act)(*[ACTIVATIONS[a] for a in acts])
        handle = c_void_p()
        status = _lib.lib.bp_create(c_sizes, len(sizes), c_acts, LOSSES[loss_name], seed, ctypes.byref(handle))
        _lib.check(status, "bp_create")
        if not handle:
            raise RuntimeError("bp_create returned BP_OK but no handle")  # contract violation

        self._handle = handle
        self._destroy = _lib.lib.bp_destroy  # kept so __del__ works during interpreter shutdown
        self._layers = tuple(sizes)
        self._activations = tuple(acts)
        self._loss = loss_name
        self._seed = seed
        self._parameter_count = int(_lib.lib.bp_parameter_count(handle))
        offsets = []
        offset = 0
        for l in range(1, len(sizes)):
            w = sizes[l] * sizes[l - 1]
            offsets.append((offset, offset + w, offset + w + sizes[l]))
            offset += w + sizes[l]
        self._offsets = tuple(offsets)  # (weights start, biases start, end) per layer 1..L

    def close(self) -> None:
        """Release the library handle. Idempotent; later calls raise StateError."""
        with self._lock:
            handle, self._handle = self._handle, None
            if handle:
                self._destroy(handle)

    @property
    def closed(self) -> bool:
        """True after close()."""
        return self._handle is None

    def __enter__(self):
        self._require_open()
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def __del__(self):
        handle = getattr(self, "_handle", None)
        if handle:
            self._handle = None
            try:
                self._destroy(handle)
            except Exception:  # pragma: no cover - interpreter shutdown
                pass

    def __getstate__(self):
        """Pickle support: architecture, seed and current parameters."""
        return {
            "layers": self._layers,
            "activations": self._activations,
            "loss": self._loss,
            "seed": self._seed,
            "parameters": self.parameters,
        }

    def __setstate__(self, state):
        self.__init__(state["layers"], state["activations"], state["loss"], state["seed"])
        self.parameters = state["parameters"]

    # ------------------------------------------------------------------ helpers

    def _closed_error(self) -> StateError:
        return StateError(BP_ERROR_STATE, "the network is closed", None)

    def _require_open(self):
        handle = self._handle
        if not handle:
            raise self._closed_error()
        return handle

    def _call(self, function: str, *args) -> None:
        """Call a status-returning C function with the handle first, under the lock."""
        fn = getattr(_lib.lib, function)
        with self._lock:
            handle = self._handle
            if not handle:
                raise self._closed_error()
            status = fn(handle, *args)
            if status:
                _lib.check(status, function)  # reads bp_last_error() on this thread, now

    def _targets(self, Y, batch, name="Y") -> np.ndarray:
        return _arrays.as_targets(Y, batch, self.output_size, self.is_classifier, self._activations[-1], name)

    def _inputs(self, X, name="X"):
        return _arrays.as_inputs(X, self.input_size, name)

    def _layer_index(self, l) -> int:
        L = len(self._layers) - 1
        l = _arrays.as_int(l, "l")
        if not 1 <= l <= L:
            raise ValueError(f"l is {l}; expected a layer index in 1..{L} (layer 0 is the input)")
        return l

    # ------------------------------------------------------------------ description

    @property
    def layers(self) -> tuple:
        """Layer widths, input layer first."""
        return self._layers

    @property
    def activations(self) -> tuple:
        """Activation names of layers 1..L."""
        return self._activations

    @property
    def loss(self) -> str:
        """``"mse"`` or ``"cross_entropy"``."""
        return self._loss

    @property
    def seed(self) -> int:
        """The initialisation seed."""
        return self._seed

    @property
    def input_size(self) -> int:
        return self._layers[0]

    @property
    def output_size(self) -> int:
        return self._layers[-1]

    @property
    def parameter_count(self) -> int:
        """Number of floats in the flat parameter layout (bp_parameter_count())."""
        self._require_open()
        return self._parameter_count

    @property
    def is_classifier(self) -> bool:
        """True when the output layer is softmax or sigmoid.

        Such networks accept integer class labels as targets, and score() returns
        accuracy for them; other networks are treated as regressors.
        """
        return self._activations[-1] in _CLASSIFIER_OUTPUTS

    def __len__(self) -> int:
        """The parameter count."""
        return self.parameter_count

    def __repr__(self) -> str:
        state = ", closed" if self.closed else f", parameters={self._parameter_count}"
        return (
            f"Network(layers={list(self._layers)}, activations={list(self._activations)}, "
            f"loss={self._loss!r}{state})"
        )

    # ------------------------------------------------------------------ training primitives

    def forward(self, X) -> np.ndarray:
        """Run X through the network; return the outputs a^L (bp_forward).

        X is ``(batch, n_0)``; returns a new float32 array ``(batch, n_L)``.  A 1-D X of
        ``n_0`` values is one sample (a batch of 1) and gives a 1-D ``(n_L,)`` result.
        The activations are kept for a following backward() with the same batch.
        """
        X, single = self._inputs(X)
        batch = X.shape[0]
        out = np.empty((batch, self.output_size), dtype=np.float32)
        self._last_batch = None
        self._call("bp_forward", _arrays.pointer(X), batch, _arrays.pointer(out))
        self._last_batch = batch
        return out[0] if single else out

    def backward(self, Y) -> float:
        """Backpropagate targets Y through the last forward(); return the mean loss.

        Y is ``(batch, n_L)`` for the batch of the last forward() (or class labels, see
        the class docstring).  Stores the gradients (see ``.gradients``); the
        parameters change only with update().  Raises StateError without a matching
        forward().
        """
        Y = self._targets(Y, self._last_batch)
        loss = c_float()
        self._call("bp_backward", _arrays.pointer(Y), Y.shape[0], ctypes.byref(loss))
        return float(loss.value)

    def update(self, learning_rate) -> None:
        """Apply the gradients of the last backward(): W ← W − η ∂C/∂W (bp_update).

        A negative learning rate raises InvalidArgumentError, NaN/Inf NonFiniteError
        (both ValueErrors); a second update() without a new backward() raises StateError.
        """
        lr = _arrays.as_real(learning_rate, "learning_rate")
        self._call("bp_update", lr)
        self._last_batch = None

    def train_step(self, X, Y, learning_rate) -> float:
        """One SGD step on a mini-batch (forward, backward, update); return the loss
        of the batch before the update (bp_train_step)."""
        X, _ = self._inputs(X)
        Y = self._targets(Y, X.shape[0])
        lr = _arrays.as_real(learning_rate, "learning_rate")
        return self._train_step_unchecked(X, Y, lr)

    def _train_step_unchecked(self, X: np.ndarray, Y: np.ndarray, lr: float) -> float:
        loss = c_float()
        self._call("bp_train_step", _arrays.pointer(X), _arrays.pointer(Y), X.shape[0], lr, ctypes.byref(loss))
        self._last_batch = None
        return float(loss.value)

    # ------------------------------------------------------------------ parameters

    @property
    def parameters(self) -> np.ndarray:
        """A float32 copy of all parameters in the flat layout of backprop.h:
        for l = 1..L, W^l row-major (n_l × n_(l-1)), then b^l.

        Assigning an array of ``parameter_count`` finite values replaces them all
        (bp_set_parameters; discards kept activations and pending gradients)."""
        self._require_open()
        out = np.empty(self._parameter_count, dtype=np.float32)
        self._call("bp_get_parameters", _arrays.pointer(out), out.size)
        return out

    @parameters.setter
    def parameters(self, value) -> None:
        self._require_open()
        arr = _arrays.as_float32(value, "parameters")
        if arr.shape != (self._parameter_count,):
            raise ValueError(f"parameters has shape {tuple(arr.shape)}; expected ({self._parameter_count},)")
        _arrays.check_finite(arr, "parameters")
        self._set_parameters_unchecked(arr)

    def _set_parameters_unchecked(self, arr: np.ndarray) -> None:
        self._call("bp_set_parameters", _arrays.pointer(arr), arr.size)
        self._last_batch = None

    @property
    def gradients(self) -> np.ndarray:
        """A float32 copy of the gradients of the last backward() (averaged over the
        batch), in the same flat layout as ``.parameters``.  Raises StateError before
        any backward()."""
        self._require_open()
        out = np.empty(self._parameter_count, dtype=np.float32)
        self._call("bp_get_gradients", _arrays.pointer(out), out.size)
        return out

    def weights(self, l) -> np.ndarray:
        """A copy of W^l, shape (n_l, n_(l-1)), for l = 1..L."""
        l = self._layer_index(l)
        start, bias, _ = self._offsets[l - 1]
        return self.parameters[start:bias].reshape(self._layers[l], self._layers[l - 1]).copy()

    def biases(self, l) -> np.ndarray:
        """A copy of b^l, shape (n_l,), for l = 1..L."""
        l = self._layer_index(l)
        _, bias, end = self._offsets[l - 1]
        return self.parameters[bias:end].copy()

    def set_weights(self, l, W) -> None:
        """Replace W^l (shape (n_l, n_(l-1))). Discards pending gradients."""
        l = self._layer_index(l)
        shape = (self._layers[l], self._layers[l - 1])
        arr = _arrays.as_float32(W, "W")
        if arr.shape != shape:
            raise ValueError(f"W has shape {tuple(arr.shape)}; expected {shape} for layer {l}")
        _arrays.check_finite(arr, "W")
        start, bias, _ = self._offsets[l - 1]
        params = self.parameters
        params[start:bias] = arr.reshape(-1)
        self._set_parameters_unchecked(params)

    def set_biases(self, l, b) -> None:
        """Replace b^l (shape (n_l,)). Discards pending gradients."""
        l = self._layer_index(l)
        shape = (self._layers[l],)
        arr = _arrays.as_float32(b, "b")
        if arr.shape != shape:
            raise ValueError(f"b has shape {tuple(arr.shape)}; expected {shape} for layer {l}")
        _arrays.check_finite(arr, "b")
        _, bias, end = self._offsets[l - 1]
        params = self.parameters
        params[bias:end] = arr
        self._set_parameters_unchecked(params)

    # ------------------------------------------------------------------ inference

    def predict(self, X, batch_size=None) -> np.ndarray:
        """The outputs for X (same shapes as forward()).

        With ``batch_size``, X is run in chunks of that many rows, which keeps the
        library's working memory small for large X.
        """
        if batch_size is None:
            return self.forward(X)
        batch_size = _arrays.as_int(batch_size, "batch_size", minimum=1)
        X, single = self._inputs(X)
        out = np.empty((X.shape[0], self.output_size), dtype=np.float32)
        for start in range(0, X.shape[0], batch_size):
            chunk = X[start : start + batch_size]  # C-contiguous view: no copy
            part = out[start : start + batch_size]
            self._last_batch = None
            self._call("bp_forward", _arrays.pointer(chunk), chunk.shape[0], _arrays.pointer(part))
            self._last_batch = chunk.shape[0]
        return out[0] if single else out

    def predict_classes(self, X, batch_size=None) -> np.ndarray:
        """Predicted class labels (int64): argmax of the outputs, or outputs ≥ 0.5 for
        a single output unit (sigmoid).  A 1-D X (one sample) gives a 0-d result."""
        out = self.predict(X, batch_size)
        return _classes(out, self)

    # ------------------------------------------------------------------ fit / score

    def fit(
        self,
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
        """Train with mini-batch SGD; return the history dict.

        See :func:`backprop.training.fit` for the details.
        """
        from .training import fit

        return fit(
            self,
            X,
            Y,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            shuffle=shuffle,
            seed=seed,
            validation_data=validation_data,
            callback=callback,
            verbose=verbose,
        )

    def score(self, X, y, batch_size=4096) -> float:
        """Accuracy for a classifier, mean loss for a regressor.

        Classifier (softmax or sigmoid output): the fraction of samples whose
        predicted class (argmax, or output ≥ 0.5 for a single output) equals the
        true class (y as integer labels, or one-hot/probability rows whose argmax,
        or value ≥ 0.5, is taken).  Regressor (any other output activation, so MSE
        loss): the mean over samples of ½‖a − y‖² (lower is better), computed in
        float64 from the outputs.
        """
        from .training import score

        return score(self, X, y, batch_size=batch_size)


def _classes(outputs: np.ndarray, net: "Network") -> np.ndarray:
    if outputs.shape[-1] == 1:
        if net.activations[-1] != "sigmoid":
            raise ValueError(
                "predict_classes needs a softmax output or a single sigmoid output; "
                f"this network has a single {net.activations[-1]} output"
            )
        return (outputs[..., 0] >= 0.5).astype(np.int64)
    return np.argmax(outputs, axis=-1).astype(np.int64)
