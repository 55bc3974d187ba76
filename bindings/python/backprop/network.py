"""The Network class: one libbackprop network handle."""

from __future__ import annotations

import contextlib
import ctypes
import numbers
import os
import struct
import threading
from ctypes import c_double, c_float, c_int32, c_size_t, c_void_p

import numpy as np

from . import _arrays, _lib
from . import training as _training
from .errors import (
    BP_ERROR_STATE,
    BP_ERROR_UNSUPPORTED_VERSION,
    ModelIOError,
    StateError,
    UnsupportedVersionError,
    error_for_status,
)

__all__ = ["Network", "ACTIVATIONS", "LOSSES", "OPTIMIZERS", "OPTIONS"]

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

#: Optimizer names and their BP_OPTIMIZER_* codes (backprop.h).
OPTIMIZERS = {
    "sgd": 0,
    "momentum": 1,
    "nesterov": 2,
    "adam": 3,
    "adamw": 4,
    "rprop": 5,
}

#: Option names and their BP_OPTION_* keys (backprop.h), in the header's order.
OPTIONS = {
    "optimizer": 1,
    "momentum": 2,
    "beta1": 3,
    "beta2": 4,
    "epsilon": 5,
    "weight_decay": 6,
    "clip_norm": 7,
    "rprop_increase": 8,
    "rprop_decrease": 9,
    "rprop_min_step": 10,
    "rprop_max_step": 11,
    "rprop_initial_step": 12,
}

_ACTIVATION_NAMES = {code: name for name, code in ACTIVATIONS.items()}
_LOSS_NAMES = {code: name for name, code in LOSSES.items()}
_OPTIMIZER_NAMES = {code: name for name, code in OPTIMIZERS.items()}
_CLASSIFIER_OUTPUTS = ("softmax", "sigmoid")
_UINT64_MAX = (1 << 64) - 1
_MODEL_MAGIC = b"\x89BPM\r\n\x1a\n"
_MODEL_VERSION = 1


def _normalise_name(value, argument: str, valid: dict) -> str:
    listing = ", ".join(repr(name) for name in valid)
    if not isinstance(value, str):
        raise ValueError(f"{argument} is {value!r}; expected one of: {listing}")
    name = value.strip().lower().replace("-", "_")
    if name not in valid:
        raise ValueError(f"{argument} is {value!r}; expected one of: {listing}")
    return name


def _path_bytes(path) -> bytes:
    """A path (str, bytes or os.PathLike) as the bytes bp_save()/bp_load() take."""
    try:
        raw = os.fsencode(os.fspath(path))
    except TypeError:
        raise ValueError(f"path is {path!r}; expected a str, bytes or os.PathLike") from None
    if not raw:
        raise ValueError("path is empty")
    if b"\0" in raw:
        raise ValueError(f"path {path!r} contains a NUL character")
    return raw


def _read_architecture(model: bytes):
    """(layer sizes, activation names, loss name) from the start of a model the library
    has just accepted (docs/format.md).  The C API has no getter for the activations or
    the loss, so the binding reads them from the model's header."""
    if model[:8] != _MODEL_MAGIC:
        raise RuntimeError("the library accepted a model that does not start with the model magic")
    (version,) = struct.unpack_from("<I", model, 8)
    if version != _MODEL_VERSION:
        raise UnsupportedVersionError(
            BP_ERROR_UNSUPPORTED_VERSION,
            f"the model has format version {version}; this binding reads the architecture of version "
            f"{_MODEL_VERSION} only (update the backprop package)",
        )
    loss, count = struct.unpack_from("<II", model, 12)
    sizes = struct.unpack_from(f"<{count}Q", model, 20)
    acts = struct.unpack_from(f"<{count - 1}I", model, 20 + 8 * count)
    return tuple(int(n) for n in sizes), tuple(_ACTIVATION_NAMES[a] for a in acts), _LOSS_NAMES[loss]


class _SharedLock:
    """A readers-writer lock: any number of shared holders, or one exclusive holder.

    An exclusive holder takes ``_gate`` and then waits for the shared holders to leave;
    shared holders pass through ``_gate`` only to register, so a waiting exclusive
    holder keeps new shared holders out (no writer starvation).  Not reentrant.

    ``_readers`` and ``_waiting`` (True while the gate's holder waits for the readers to
    leave) change under ``_mutex``, the lock of the ``_idle`` condition.  Shared holders
    take ``_mutex`` itself rather than the Condition's Python-level ``with``, and notify
    only when someone waits: together that halves the lock's share of a small predict().
    """

    __slots__ = ("_gate", "_mutex", "_idle", "_readers", "_waiting")

    def __init__(self):
        self._gate = threading.Lock()
        self._mutex = threading.Lock()
        self._idle = threading.Condition(self._mutex)
        self._readers = 0
        self._waiting = False

    def acquire(self) -> None:
        self._gate.acquire()
        # With the gate held no shared holder can arrive, only leave: a plain read is
        # enough for the fast path.
        if self._readers:
            try:
                with self._mutex:
                    self._waiting = True
                    try:
                        while self._readers:
                            self._idle.wait()
                    finally:
                        self._waiting = False
            except BaseException:
                self._gate.release()
                raise

    def release(self) -> None:
        self._gate.release()

    def acquire_shared(self) -> None:
        with self._gate:
            with self._mutex:
                self._readers += 1

    def release_shared(self) -> None:
        with self._mutex:
            self._readers -= 1
            if self._waiting and not self._readers:
                self._idle.notify()


class _SharedHold:
    """The context manager of Network._shared(); a class rather than a
    contextlib.contextmanager generator, which would add about 1 µs to every predict()."""

    __slots__ = ("_net", "_lock")

    def __init__(self, net: "Network"):
        self._net = net
        self._lock = None  # the lock to release on exit, if taken

    def __enter__(self):
        net = self._net
        if net._fit_thread is not None and net._in_fit_callback():
            return net._require_open()
        lock = net._lock
        lock.acquire_shared()
        try:
            handle = net._require_open()
        except BaseException:
            lock.release_shared()
            raise
        self._lock = lock
        return handle

    def __exit__(self, *exc_info):
        if self._lock is not None:
            self._lock.release_shared()
        return False


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

    A network can also come from a model file or bytes: :meth:`load`,
    :meth:`from_bytes` (the inverse of :meth:`save` and :meth:`to_bytes`).  Pickling
    goes through the same model bytes, so it is exact: parameters, pending gradients,
    optimizer, its hyperparameters and its state (Adam's moments...).

    Arrays
    ------
    Inputs ``X`` are ``(batch, n_0)`` arrays (a 1-D array of ``n_0`` values is one
    sample, a batch of 1), targets ``Y`` are ``(batch, n_L)``.  A C-contiguous float32
    ``numpy.ndarray`` is handed to the library without any copy; anything else
    (float64, integers, non-contiguous views, lists) is converted once with
    ``np.ascontiguousarray(x, dtype=np.float32)``.  Wrong shapes, non-numeric or
    complex dtypes, NaN/Inf and empty arrays raise ValueError before the library is
    called, except NaN/Inf in forward, backward, train_step and predict: there the
    library finds them (it refuses them before changing anything), which spares small
    batches a numpy pass, and the same ValueError follows.  For a classifier (softmax
    or sigmoid output), ``Y`` may also be a 1-D integer array of class labels, which
    is one-hot encoded for you (0/1 for a single sigmoid output).  Output arrays are
    always new arrays allocated by Python.

    Lifetime and threads
    --------------------
    ``close()`` (also called by ``with Network(...) as net:`` and by garbage
    collection) releases the library handle; any later call raises
    :class:`~backprop.StateError`.  The GIL is released while the library works, so
    different networks can train in parallel threads.

    On one network, :meth:`predict`, :meth:`predict_classes`, :meth:`evaluate` and
    :meth:`score` may be called from several threads at the same time (bp_predict and
    bp_evaluate only read the network; they run truly in parallel) as long as nothing
    trains or changes it.  Every other call (training, setting parameters or options,
    reading parameters, saving) takes the network exclusively: it waits for running
    predictions to finish and holds new ones back until it is done, so a mix cannot
    crash or see half-updated parameters.  That serialises single calls only: a
    forward/backward/update sequence from two threads would still interleave, so guard
    training from several threads with your own lock.
    """

    # ------------------------------------------------------------------ lifecycle

    def __init__(self, layers, activations=None, loss="mse", seed=0):
        self._init_state()

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
        self._adopt(handle, tuple(sizes), tuple(acts), loss_name, seed)

    def _init_state(self) -> None:
        self._handle = None
        self._lock = _SharedLock()
        self._fit_thread = None  # thread id while bp_fit() runs (and may call back into Python)
        self._last_batch = None

    def _adopt(self, handle, sizes: tuple, acts: tuple, loss_name: str, seed) -> None:
        self._handle = handle
        self._destroy = _lib.lib.bp_destroy  # kept so __del__ works during interpreter shutdown
        self._layers = sizes
        self._activations = acts
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

    @classmethod
    def _from_handle(cls, handle, model=None, seed=None) -> "Network":
        """A Network owning `handle` (a fresh one from bp_load*), with its architecture
        read from `model` (the model bytes; taken from the handle when None)."""
        try:
            if model is None:
                model = _encode(handle)
            sizes, acts, loss = _read_architecture(model)
            count = int(_lib.lib.bp_layer_count(handle))
            if sizes != tuple(int(_lib.lib.bp_layer_size(handle, i)) for i in range(count)):
                raise RuntimeError("the model's layer sizes differ from the loaded network's")
        except BaseException:
            _lib.lib.bp_destroy(handle)
            raise
        net = cls.__new__(cls)
        net._init_state()
        net._adopt(handle, sizes, acts, loss, seed)
        return net

    def close(self) -> None:
        """Release the library handle. Idempotent; later calls raise StateError.

        Waits for calls running in other threads (predictions included) to finish."""
        self._check_not_in_fit("close()")
        self._lock.acquire()
        try:
            handle, self._handle = self._handle, None
            if handle:
                self._destroy(handle)
        finally:
            self._lock.release()

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
        """Pickle support: the model bytes of :meth:`to_bytes` (exact, optimizer state
        included) and the initialisation seed.  The thread count is not kept."""
        return {"model": self.to_bytes(), "seed": self._seed}

    def __setstate__(self, state):
        self._init_state()
        if "model" not in state:  # a pickle written by backprop < 0.2: architecture + parameters
            self.__init__(state["layers"], state["activations"], state["loss"], state["seed"])
            self.parameters = state["parameters"]
            return
        model = bytes(state["model"])
        other = type(self)._from_handle(_decode(model), model, state.get("seed"))
        handle, other._handle = other._handle, None  # move the handle over
        self._adopt(handle, other._layers, other._activations, other._loss, other._seed)

    # ------------------------------------------------------------------ locking

    def _closed_error(self) -> StateError:
        return StateError(BP_ERROR_STATE, "the network is closed", None)

    def _require_open(self):
        handle = self._handle
        if not handle:
            raise self._closed_error()
        return handle

    def _in_fit_callback(self) -> bool:
        """True on the thread running bp_fit() on this network (so: inside its callback)."""
        return self._fit_thread is not None and self._fit_thread == threading.get_ident()

    def _check_not_in_fit(self, what: str) -> None:
        if self._in_fit_callback():
            raise StateError(
                BP_ERROR_STATE,
                f"{what} cannot change the network from inside a fit() callback; return True from the "
                "callback to stop training, and change the network after fit() returns",
                None,
            )

    @contextlib.contextmanager
    def _exclusive(self, mutates: bool = True):
        """Hold the network exclusively; yields the handle.

        Inside a fit() callback the thread already holds it (bp_fit() is running):
        read-only calls (`mutates` False) go ahead, changes raise StateError."""
        if self._in_fit_callback():
            if mutates:
                self._check_not_in_fit("this call")
            yield self._require_open()
            return
        self._lock.acquire()
        try:
            yield self._require_open()
        finally:
            self._lock.release()

    def _shared(self) -> "_SharedHold":
        """Hold the network shared with other readers (bp_predict, bp_evaluate): a
        context manager that yields the handle.  Inside a fit() callback the thread
        already holds it exclusively (bp_fit() is running)."""
        return _SharedHold(self)

    @contextlib.contextmanager
    def _fitting(self):
        """Hold the network exclusively for bp_fit(), marking this thread so that its
        progress callback can read the network (see _exclusive)."""
        self._check_not_in_fit("fit()")
        self._lock.acquire()
        try:
            handle = self._require_open()
            self._fit_thread = threading.get_ident()
            try:
                yield handle
            finally:
                self._fit_thread = None
                self._last_batch = None
        finally:
            self._lock.release()

    def _call(self, function: str, *args, mutates: bool = True) -> None:
        """Call a status-returning C function with the handle first, holding the network
        exclusively (the fast path of _exclusive, for the per-step calls)."""
        fn = getattr(_lib.lib, function)
        if self._fit_thread is not None and self._in_fit_callback():
            if mutates:
                self._check_not_in_fit(function.replace("bp_", "", 1) + "()")
            status = fn(self._require_open(), *args)
            if status:
                _lib.check(status, function)
            return
        lock = self._lock
        lock.acquire()
        try:
            handle = self._handle
            if not handle:
                raise self._closed_error()
            status = fn(handle, *args)
            if status:
                _lib.check(status, function)  # reads bp_last_error() on this thread, now
        finally:
            lock.release()

    # ------------------------------------------------------------------ helpers

    def _targets(self, Y, batch, name="Y", require_finite=True) -> np.ndarray:
        return _arrays.as_targets(
            Y, batch, self._layers[-1], self.is_classifier, self._activations[-1], name, require_finite
        )

    def _inputs(self, X, name="X", require_finite=True):
        return _arrays.as_inputs(X, self._layers[0], name, require_finite)

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
    def seed(self):
        """The initialisation seed; None for a network read by :meth:`load` or
        :meth:`from_bytes` (model files do not record it)."""
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

    # ------------------------------------------------------------------ threads

    @property
    def threads(self) -> int:
        """How many threads (the caller's included) training calls on this network may
        use (bp_thread_count); by default the number of online cores.

        Assign an int to change it (bp_set_threads): 0 restores the default; more than
        256 raises InvalidArgumentError.  Large matrix products are split across the
        threads, small ones stay on the calling thread, and results are bit-identical
        for any count.  predict()/evaluate() always run on the calling thread (call them
        from several threads for parallel inference).  Not saved in model files or
        pickles: a loaded network starts with the default."""
        with self._exclusive(mutates=False) as handle:
            return int(_lib.lib.bp_thread_count(handle))

    @threads.setter
    def threads(self, count) -> None:
        count = _arrays.as_int(count, "threads", minimum=0)
        if count > _UINT64_MAX:
            raise ValueError(f"threads is {count}; expected an integer in 0..256")
        self._call("bp_set_threads", count)

    # ------------------------------------------------------------------ training primitives

    def forward(self, X) -> np.ndarray:
        """Run X through the network; return the outputs a^L (bp_forward).

        X is ``(batch, n_0)``; returns a new float32 array ``(batch, n_L)``.  A 1-D X of
        ``n_0`` values is one sample (a batch of 1) and gives a 1-D ``(n_L,)`` result.
        The activations are kept for a following backward() with the same batch; use
        predict() for inference only.
        """
        X, single = self._inputs(X, require_finite=False)
        batch = X.shape[0]
        try:
            out = np.empty((batch, self._layers[-1]), dtype=np.float32)
            self._call("bp_forward", _arrays.argument(X), batch, _arrays.argument(out))
            self._last_batch = batch
        except Exception:
            _raise_if_not_finite((X, "X"))  # keeps the batch, as the check up front did
            self._last_batch = None
            raise
        except BaseException:  # interrupted (KeyboardInterrupt): the call may have run
            self._last_batch = None
            raise
        return out[0] if single else out

    def backward(self, Y) -> float:
        """Backpropagate targets Y through the last forward(); return the mean loss.

        Y is ``(batch, n_L)`` for the batch of the last forward() (or class labels, see
        the class docstring).  Stores the gradients (see ``.gradients``); the
        parameters change only with update().  Raises StateError without a matching
        forward().
        """
        Y = self._targets(Y, self._last_batch, require_finite=False)
        loss = c_float()
        try:
            self._call("bp_backward", _arrays.argument(Y), Y.shape[0], ctypes.byref(loss))
        except Exception:
            _raise_if_not_finite((Y, "Y"))
            raise
        return float(loss.value)

    def update(self, learning_rate) -> None:
        """Apply the gradients of the last backward() with the network's optimizer
        (plain SGD by default: W ← W − η ∂C/∂W; see set_optimizer()) (bp_update).

        A negative learning rate raises InvalidArgumentError, NaN/Inf NonFiniteError
        (both ValueErrors); a second update() without a new backward() raises StateError;
        a NaN/infinite loss or gradient raises DivergedError and changes nothing.
        """
        lr = _arrays.as_real(learning_rate, "learning_rate")
        self._call("bp_update", lr)
        self._last_batch = None

    def train_step(self, X, Y, learning_rate) -> float:
        """One mini-batch step (forward, backward, update with the network's optimizer);
        return the loss of the batch before the update (bp_train_step).  DivergedError
        if the step diverged (the parameters are those from before it)."""
        X, _ = self._inputs(X, require_finite=False)
        try:
            Y = self._targets(Y, X.shape[0], require_finite=False)
        except Exception:
            _raise_if_not_finite((X, "X"))
            raise
        try:
            lr = _arrays.as_real(learning_rate, "learning_rate")
            return self._train_step_unchecked(X, Y, lr)
        except Exception:
            _raise_if_not_finite((X, "X"), (Y, "Y"))
            raise

    def _train_step_unchecked(self, X: np.ndarray, Y: np.ndarray, lr: float) -> float:
        loss = c_float()
        self._call("bp_train_step", _arrays.argument(X), _arrays.argument(Y), X.shape[0], lr, ctypes.byref(loss))
        self._last_batch = None
        return float(loss.value)

    # ------------------------------------------------------------------ optimizers and options

    def set_optimizer(self, name, **hyperparameters) -> None:
        """Choose the optimizer used by update(), train_step() and fit(), and optionally
        some of its hyperparameters.

        ``name``: ``"sgd"`` (the default), ``"momentum"``, ``"nesterov"``, ``"adam"``,
        ``"adamw"`` or ``"rprop"`` (iRprop−, which ignores the learning rate).
        ``hyperparameters``: any option of :attr:`options` except ``optimizer``, e.g.
        ``net.set_optimizer("adam", beta1=0.8, weight_decay=1e-4)``.  The learning rate
        is not an option: it is passed to fit()/train_step()/update().

        Choosing a different optimizer starts its state afresh (moments, step sizes);
        choosing the current one again keeps its state and only changes the given
        hyperparameters.  All or nothing: if a value is refused (ValueError,
        InvalidArgumentError, NonFiniteError), every option keeps its previous value.
        """
        code = self._optimizer_code(name)
        values = {}
        for key, value in hyperparameters.items():
            option = _normalise_name(key, "hyperparameter", OPTIONS)
            if option == "optimizer":
                raise ValueError("set_optimizer() takes the optimizer as its first argument, not as optimizer=")
            values[option] = _arrays.as_real(value, option)
        with self._exclusive() as handle:
            previous = self._read_options(handle)
            try:
                self._apply_options(handle, values)
                self._set_option_raw(handle, "optimizer", float(code))
            except BaseException:
                # Back to the previous values.  The optimizer has not changed (it is set
                # last), so its state is untouched.
                try:
                    self._apply_options(handle, {k: v for k, v in previous.items() if k != "optimizer"})
                except Exception:  # pragma: no cover - the previous values were accepted before
                    pass
                raise

    def set_option(self, name, value) -> None:
        """Set one option (bp_set_option): ``"optimizer"`` (a name as for set_optimizer(),
        or a BP_OPTIMIZER_* code) or a hyperparameter (a real number; see :attr:`options`
        for names, ranges and defaults).

        An unknown name raises ValueError; a value out of range InvalidArgumentError, NaN
        or infinity NonFiniteError, an unknown optimizer code UnknownEnumError (all
        ValueErrors).  Changing a hyperparameter keeps the optimizer's state."""
        option = _normalise_name(name, "option", OPTIONS)
        if option == "optimizer":
            number = float(self._optimizer_code(value, allow_code=True))
        else:
            number = _arrays.as_real(value, option)
        with self._exclusive() as handle:
            self._set_option_raw(handle, option, number)

    def get_option(self, name):
        """The current value of one option (bp_get_option): the optimizer's name for
        ``"optimizer"``, a float otherwise."""
        option = _normalise_name(name, "option", OPTIONS)
        with self._exclusive(mutates=False) as handle:
            return self._get_option_raw(handle, option)

    @property
    def options(self) -> dict:
        """Every option by name, in the header's order (bp_get_option)::

            optimizer           "sgd" | "momentum" | "nesterov" | "adam" | "adamw" | "rprop"  ("sgd")
            momentum            μ for momentum and Nesterov, [0, 1)          (0.9)
            beta1, beta2        Adam's β1, β2, [0, 1)                         (0.9, 0.999)
            epsilon             Adam's ε, > 0                                 (1e-8)
            weight_decay        λ ≥ 0: L2 (g += λθ), decoupled for AdamW     (0)
            clip_norm           max L2 norm of the whole gradient; 0 = off    (0)
            rprop_increase      η+ > 1                                        (1.2)
            rprop_decrease      η− in (0, 1)                                  (0.5)
            rprop_min_step      Δmin > 0                                      (1e-6)
            rprop_max_step      Δmax ≥ Δmin                                   (50)
            rprop_initial_step  Δ0 in [Δmin, Δmax]                            (0.1)

        A new dict each time; change options with set_option() or set_optimizer()."""
        with self._exclusive(mutates=False) as handle:
            return self._read_options(handle)

    @staticmethod
    def _optimizer_code(value, allow_code: bool = False) -> int:
        if allow_code and isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
            return int(value)  # unknown codes: UnknownEnumError from the library
        return OPTIMIZERS[_normalise_name(value, "optimizer", OPTIMIZERS)]

    def _get_option_raw(self, handle, option: str):
        value = c_double()
        status = _lib.lib.bp_get_option(handle, OPTIONS[option], ctypes.byref(value))
        if status:
            _lib.check(status, "bp_get_option")
        if option == "optimizer":
            return _OPTIMIZER_NAMES.get(int(value.value), int(value.value))
        return float(value.value)

    def _read_options(self, handle) -> dict:
        return {option: self._get_option_raw(handle, option) for option in OPTIONS}

    def _set_option_raw(self, handle, option: str, value: float) -> None:
        status = _lib.lib.bp_set_option(handle, OPTIONS[option], value)
        if status:
            _lib.check(status, "bp_set_option")

    def _apply_options(self, handle, values: dict) -> None:
        """Set several hyperparameters, in whatever order the library's range checks
        allow (raising rprop_min_step above the current rprop_max_step needs the maximum
        first, for example); raises the last refusal when no order works."""
        pending = dict(values)
        while pending:
            failure = None
            done = []
            for option, value in pending.items():
                try:
                    self._set_option_raw(handle, option, value)
                except ValueError as exc:  # InvalidArgumentError, NonFiniteError, UnknownEnumError
                    failure = failure or exc
                else:
                    done.append(option)
            if not done:
                raise failure
            for option in done:
                del pending[option]

    # ------------------------------------------------------------------ parameters

    @property
    def parameters(self) -> np.ndarray:
        """A float32 copy of all parameters in the flat layout of backprop.h:
        for l = 1..L, W^l row-major (n_l × n_(l-1)), then b^l.

        Assigning an array of ``parameter_count`` finite values replaces them all
        (bp_set_parameters; discards kept activations and pending gradients; the
        optimizer's state is kept)."""
        self._require_open()
        out = np.empty(self._parameter_count, dtype=np.float32)
        self._call("bp_get_parameters", _arrays.argument(out), out.size, mutates=False)
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
        self._call("bp_set_parameters", _arrays.argument(arr), arr.size)
        self._last_batch = None

    @property
    def gradients(self) -> np.ndarray:
        """A float32 copy of the gradients of the last backward() (averaged over the
        batch), in the same flat layout as ``.parameters``.  Raises StateError before
        any backward()."""
        self._require_open()
        out = np.empty(self._parameter_count, dtype=np.float32)
        self._call("bp_get_gradients", _arrays.argument(out), out.size, mutates=False)
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
        """The outputs for X (same shapes as forward()), for inference (bp_predict).

        Unlike forward(), nothing is kept for backward(), and several threads may
        predict with the same network at once (see the class docstring).  With
        ``batch_size``, X is run in chunks of that many rows, which keeps the library's
        working memory (allocated per call) small for large X; all chunks see the same
        parameters.
        """
        X, single = self._inputs(X, require_finite=False)
        try:
            out = self._predict_unchecked(X, batch_size)
        except Exception:
            _raise_if_not_finite((X, "X"))
            raise
        return out[0] if single else out

    def _predict_unchecked(self, X: np.ndarray, batch_size) -> np.ndarray:
        n = X.shape[0]
        chunk = n if batch_size is None else _arrays.as_int(batch_size, "batch_size", minimum=1)
        out = np.empty((n, self._layers[-1]), dtype=np.float32)
        if chunk >= n:
            pieces = ((X, out),)
        else:  # C-contiguous views: no copy
            pieces = ((X[start : start + chunk], out[start : start + chunk]) for start in range(0, n, chunk))
        predict = _lib.lib.bp_predict
        with self._shared() as handle:
            for rows, part in pieces:
                status = predict(handle, _arrays.argument(rows), rows.shape[0], _arrays.argument(part))
                if status:
                    _lib.check(status, "bp_predict")
        return out

    def predict_classes(self, X, batch_size=None) -> np.ndarray:
        """Predicted class labels (int64): argmax of the outputs, or outputs ≥ 0.5 for
        a single output unit (sigmoid).  A 1-D X (one sample) gives a 0-d result."""
        out = self.predict(X, batch_size)
        return _classes(out, self)

    def evaluate(self, X, Y):
        """``(loss, accuracy)`` on a data set (bp_evaluate).

        ``loss`` is the mean loss over the samples (the network's loss function, as
        train_step() reports it).  ``accuracy`` is for classifiers: with a softmax or
        multi-unit sigmoid output, the fraction of samples whose largest output is where
        their target's largest value is; with one sigmoid unit, the fraction on the same
        side of 0.5 as their target; ``None`` for other outputs.  Y may be integer class
        labels for a classifier.  Reads the network only: thread-safe like predict().
        """
        X, _ = self._inputs(X)
        Y = self._targets(Y, X.shape[0])
        return self._evaluate_unchecked(X, Y)

    def _evaluate_unchecked(self, X: np.ndarray, Y: np.ndarray):
        loss = c_float()
        accuracy = c_float()
        with self._shared() as handle:
            status = _lib.lib.bp_evaluate(
                handle, _arrays.argument(X), _arrays.argument(Y), X.shape[0], ctypes.byref(loss), ctypes.byref(accuracy)
            )
            if status:
                _lib.check(status, "bp_evaluate")
        acc = float(accuracy.value)
        return float(loss.value), (None if acc != acc else acc)

    # ------------------------------------------------------------------ model files

    def save(self, path) -> None:
        """Save the network to the model file ``path`` (bp_save; the format is
        docs/format.md): architecture, parameters, pending gradients, optimizer,
        hyperparameters and optimizer state, so that :meth:`load` gives a network with
        bit-identical outputs and continued training.  Atomic: on failure the previous
        file at ``path`` is left intact.  ModelIOError (an OSError) when the system
        refuses (a missing directory, no permission...)."""
        raw = _path_bytes(path)
        with self._exclusive(mutates=False) as handle:
            status = _lib.lib.bp_save(handle, raw)
            if status:
                _raise(status, "bp_save", path)

    @classmethod
    def load(cls, path) -> "Network":
        """A new network from the model file ``path`` (bp_load).

        Raises ModelIOError (an OSError: missing file, no permission...), or a
        ValueError subclass when the file is not a valid model: NotAModelError,
        UnsupportedVersionError, TruncatedModelError, ChecksumMismatchError,
        CorruptModelError.  ``.seed`` of the result is None (not recorded in files)."""
        raw = _path_bytes(path)
        handle = c_void_p()
        status = _lib.lib.bp_load(raw, ctypes.byref(handle))
        if status:
            _raise(status, "bp_load", path)
        if not handle:
            raise RuntimeError("bp_load returned BP_OK but no handle")  # contract violation
        return cls._from_handle(handle)

    def to_bytes(self) -> bytes:
        """The model file's bytes (bp_save_to_buffer): what save() writes."""
        with self._exclusive(mutates=False) as handle:
            return _encode(handle)

    @classmethod
    def from_bytes(cls, data) -> "Network":
        """A new network from model bytes (bytes, bytearray, memoryview...) written by
        to_bytes() or save() (bp_load_from_buffer).  Raises the errors of load() but
        ModelIOError."""
        if isinstance(data, str) or not isinstance(data, (bytes, bytearray, memoryview)):
            try:
                data = memoryview(data)
            except TypeError:
                raise ValueError(f"data is {type(data).__name__}; expected bytes-like model data") from None
        model = bytes(data)
        return cls._from_handle(_decode(model), model)

    # ------------------------------------------------------------------ fit / score

    # Train with mini-batches (the library's bp_fit loop); return the history dict.  The
    # one definition is backprop.training.fit, whose first parameter (`net`) is this
    # network: same signature, defaults and documentation.
    fit = _training.fit

    def score(self, X, y, batch_size=None) -> float:
        """Accuracy for a classifier, mean loss for a regressor (from evaluate()).

        Classifier (softmax or sigmoid output): the fraction of samples whose
        predicted class (argmax, or output ≥ 0.5 for a single output) equals the
        true class (y as integer labels, or one-hot/probability rows whose argmax,
        or value ≥ 0.5, is taken).  Regressor (any other output activation, so MSE
        loss): the mean over samples of ½‖a − y‖² (lower is better).  ``batch_size`` is
        accepted for compatibility and ignored: the library evaluates in chunks of its
        own.
        """
        return _training.score(self, X, y, batch_size=batch_size)


def _raise_if_not_finite(*arrays) -> None:
    """The ValueError naming the first NaN or infinite value of `arrays` ((array, name)
    pairs, in argument order), if there is one; for the handler of a failed call.

    forward(), backward(), train_step() and predict() leave NaN and infinity to the
    library, which refuses them before changing anything: numpy's check of every value
    would cost more than the call itself for small batches.  Running it when anything
    fails after the shapes are checked, before that failure's own error, raises exactly
    the error (message and precedence) of a check up front."""
    try:
        for arr, name in arrays:
            _arrays.check_finite(arr, name)
    except ValueError as err:
        raise err from None  # not "during handling of" the library's error


def _raise(status: int, function: str, path=None):
    """Raise the error of a failed call (on this thread, right after it); a ModelIOError
    gets the path as its ``filename``."""
    message = _lib.last_error() or _lib.status_string(status)
    err = error_for_status(status, message, function)
    if isinstance(err, ModelIOError) and path is not None:
        err.filename = os.fspath(path)
    raise err


def _encode(handle) -> bytes:
    """The model bytes of a handle (bp_save_to_buffer, sized first)."""
    size = c_size_t()
    status = _lib.lib.bp_save_to_buffer(handle, None, 0, ctypes.byref(size))
    if status:
        _raise(status, "bp_save_to_buffer")
    buffer = bytearray(size.value)
    view = (ctypes.c_char * len(buffer)).from_buffer(buffer)
    written = c_size_t()
    status = _lib.lib.bp_save_to_buffer(handle, view, len(buffer), ctypes.byref(written))
    del view  # release the export of `buffer`
    if status:
        _raise(status, "bp_save_to_buffer")
    if written.value != len(buffer):
        raise RuntimeError(f"bp_save_to_buffer wrote {written.value} bytes after announcing {len(buffer)}")
    return bytes(buffer)


def _decode(model: bytes):
    """A new handle from model bytes (bp_load_from_buffer); raises the model errors."""
    handle = c_void_p()
    status = _lib.lib.bp_load_from_buffer(model, len(model), ctypes.byref(handle))
    if status:
        _raise(status, "bp_load_from_buffer")
    if not handle:
        raise RuntimeError("bp_load_from_buffer returned BP_OK but no handle")  # contract violation
    return handle


def _classes(outputs: np.ndarray, net: "Network") -> np.ndarray:
    if outputs.shape[-1] == 1:
        if net.activations[-1] != "sigmoid":
            raise ValueError(
                "predict_classes needs a softmax output or a single sigmoid output; "
                f"this network has a single {net.activations[-1]} output"
            )
        return (outputs[..., 0] >= 0.5).astype(np.int64)
    return np.argmax(outputs, axis=-1).astype(np.int64)
