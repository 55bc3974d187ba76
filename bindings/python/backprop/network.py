"""The Network class: one libbackprop network handle.

This module holds the class's core: construction, the description of the network (read
from the library by _architecture), threads and the training primitives (forward,
backward, update, train_step, fit).  The other methods come from one module per concern,
each a class Network derives from: _lock (holding the handle under the readers-writer
lock), _parameters, _inference (predict, evaluate, score), _options (the optimizer and
its hyperparameters), _scaling, _dropout and _persistence (files, bytes, pickle).
"""

from __future__ import annotations

import ctypes
from ctypes import c_float, c_int32, c_size_t, c_void_p

import numpy as np

from . import _arrays, _lib, _weights
from . import training as _training
from ._architecture import CLASSIFIER_OUTPUTS, architecture
from ._codes import ACTIVATIONS, INITIALIZATIONS, LOSSES, OPTIMIZERS, OPTIONS, RECOMMENDED_INITIALIZATION, normalise_name
from ._dropout import Dropout
from ._inference import Inference
from ._lock import LockedHandle, SharedLock
from ._options import OptimizerOptions
from ._parameters import Parameters, layer_offsets
from ._c_source import CSource
from ._onnx import ONNXInterop
from ._sklearn_interop import SklearnInterop
from ._torch import TorchInterop
from ._persistence import Persistence
from ._scaling import Scaling

# The tables are defined in _codes; they are exported here too, as before.
__all__ = ["Network", "ACTIVATIONS", "LOSSES", "OPTIMIZERS", "OPTIONS"]

_UINT64_MAX = (1 << 64) - 1


class Network(LockedHandle, Parameters, Inference, OptimizerOptions, Scaling, Dropout, Persistence, ONNXInterop, TorchInterop, SklearnInterop, CSource):
    """A multilayer perceptron trained by backpropagation (one libbackprop handle).

    Parameters
    ----------
    layers : sequence of int
        Layer widths, the input layer included: ``[784, 256, 10]`` is 784 inputs,
        one hidden layer of 256 units and 10 outputs.
    activations : sequence of str, or str, or None
        One activation per layer after the input (``len(layers) - 1`` names), from
        ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"``, ``"linear"``,
        ``"softmax"`` (on the output layer only), ``"gelu"`` (z Φ(z), the exact erf
        form), ``"silu"`` (z·sigmoid(z), also called swish), ``"softplus"``
        (ln(1 + e^z)) and ``"elu"`` (z, or e^z − 1 below 0).  A single string applies
        to every layer.  ``None``: ``"relu"`` hidden layers and a ``"softmax"`` output for
        cross-entropy, else a ``"linear"`` output.
    loss : str
        ``"mse"`` (½‖a−y‖² per sample), ``"cross_entropy"`` (also
        ``"cross-entropy"``; needs a softmax or sigmoid output layer), ``"huber"``
        (½ r² within ±δ, δ(|r| − ½δ) beyond, r = a − y; δ is the ``huber_delta`` option,
        1 by default) or ``"l1"`` (Σ|a − y|).
    seed : int or None
        Seeds the weight initialisation (0 ≤ seed < 2**64); the same seed gives
        bit-identical parameters.  ``None`` picks a random seed (kept in ``.seed``).
    init : str
        The initialisation scheme, one of INITIALIZATIONS (see :meth:`initialize`).
        The default, RECOMMENDED_INITIALIZATION (``"pytorch"``: W, b ~ U(±1/√fan_in)),
        trained the best models in the library's measurements (BP_INIT_RECOMMENDED in
        backprop.h says how); ``"he_glorot_uniform"`` gives what bp_create() draws,
        which is what Network drew before it had this parameter.
    dropout : float, sequence of float, or None
        Inverted dropout of the hidden layers while training: one rate for every hidden
        layer or one per hidden layer, each in [0, 1) (see the ``dropout`` property).
        ``None`` (the default) drops nothing.

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

    def __init__(self, layers, activations=None, loss="mse", seed=0, init=RECOMMENDED_INITIALIZATION, dropout=None):
        self._init_state()

        if isinstance(layers, (str, bytes)) or not hasattr(layers, "__len__"):
            raise ValueError(f"layers is {layers!r}; expected a sequence of layer widths such as [784, 256, 10]")
        sizes = [_arrays.as_int(n, f"layers[{i}]") for i, n in enumerate(layers)]
        if len(sizes) < 2:
            raise ValueError(f"layers has {len(sizes)} entries; expected at least 2 (the input and the output layer)")
        for i, n in enumerate(sizes):
            if n < 1:
                raise ValueError(f"layers[{i}] is {n}; every layer needs at least one unit")

        loss_name = normalise_name(loss, "loss", LOSSES)

        n_act = len(sizes) - 1
        if activations is None:
            output = "softmax" if loss_name == "cross_entropy" else "linear"
            acts = ["relu"] * (n_act - 1) + [output]
        elif isinstance(activations, str):
            acts = [normalise_name(activations, "activations", ACTIVATIONS)] * n_act
        else:
            if not hasattr(activations, "__len__"):
                raise ValueError(f"activations is {activations!r}; expected a list of {n_act} names")
            acts = [normalise_name(a, f"activations[{i}]", ACTIVATIONS) for i, a in enumerate(activations)]
            if len(acts) != n_act:
                raise ValueError(
                    f"activations has {len(acts)} entries; expected {n_act} (one per layer after the input)"
                )

        seed = _arrays.as_seed(seed)
        init_code = INITIALIZATIONS[normalise_name(init, "init", INITIALIZATIONS)]

        c_sizes = (c_size_t * len(sizes))(*sizes)
        c_acts = (c_int32 * n_act)(*[ACTIVATIONS[a] for a in acts])
        handle = c_void_p()
        status = _lib.lib.bp_create(c_sizes, len(sizes), c_acts, LOSSES[loss_name], seed, ctypes.byref(handle))
        _lib.check(status, "bp_create")
        if not handle:
            raise RuntimeError("bp_create returned BP_OK but no handle")  # contract violation
        try:
            if init_code != INITIALIZATIONS["he_glorot_uniform"]:  # what bp_create drew
                _lib.check(_lib.lib.bp_initialize(handle, init_code, seed), "bp_initialize")
            self._adopt(handle, seed)
        except BaseException:
            _lib.lib.bp_destroy(handle)
            raise
        if dropout is not None:
            try:
                self.dropout = dropout
            except BaseException:
                self.close()
                raise

    def _init_state(self) -> None:
        self._handle = None
        self._lock = SharedLock()
        self._fit_thread = None  # thread id while bp_fit() runs (and may call back into Python)
        self._last_batch = None

    def _adopt(self, handle, seed) -> None:
        """Own `handle`, with its architecture as the library reports it.  Nothing is
        changed if that fails: the caller keeps the handle and destroys it."""
        sizes, acts, loss_name = architecture(handle)
        self._destroy = _lib.lib.bp_destroy  # kept so __del__ works during interpreter shutdown
        self._layers = sizes
        self._activations = acts
        self._loss = loss_name
        self._seed = seed
        self._parameter_count = int(_lib.lib.bp_parameter_count(handle))
        self._offsets = layer_offsets(sizes)  # (weights start, biases start, end) per layer 1..L
        self._handle = handle

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
        """``"mse"``, ``"cross_entropy"``, ``"huber"`` or ``"l1"``."""
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
        """True when the output layer is softmax or sigmoid (of any width, with either
        loss): the networks bp_evaluate() reports an accuracy for.

        Such networks accept integer class labels as targets, and score() returns
        accuracy for them; other networks are treated as regressors.
        """
        return self._activations[-1] in CLASSIFIER_OUTPUTS

    def __len__(self) -> int:
        """The parameter count."""
        return self.parameter_count

    def __repr__(self) -> str:
        state = ", closed" if self.closed else f", parameters={self._parameter_count}"
        return (
            f"Network(layers={list(self._layers)}, activations={list(self._activations)}, "
            f"loss={self._loss!r}{state})"
        )

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

    def forward(self, X, training: bool = False) -> np.ndarray:
        """Run X through the network; return the outputs a^L (bp_forward).

        X is ``(batch, n_0)``; returns a new float32 array ``(batch, n_L)``.  A 1-D X of
        ``n_0`` values is one sample (a batch of 1) and gives a 1-D ``(n_L,)`` result.
        The activations are kept for a following backward() with the same batch; use
        predict() for inference only.  ``training=True`` makes it a training pass
        (bp_forward_train): with dropout set, units are dropped and backward() follows
        the same masks; a plain forward() never drops.
        """
        batch = _arrays.rows(X, self._layers[0])
        if batch:
            single = False
        else:
            X, single = self._inputs(X, require_finite=False)
            batch = X.shape[0]
        try:
            out = np.empty((batch, self._layers[-1]), dtype=np.float32)
            self._call("bp_forward_train" if training else "bp_forward", _arrays.argument(X), batch,
                       _arrays.argument(out))
            self._last_batch = batch
        except Exception:
            _arrays.raise_first_non_finite((X, "X"))  # keeps the batch, as the check up front did
            self._last_batch = None
            raise
        except BaseException:  # interrupted (KeyboardInterrupt): the call may have run
            self._last_batch = None
            raise
        return out[0] if single else out

    def backward(self, Y, sample_weight=None) -> float:
        """Backpropagate targets Y through the last forward(); return the mean loss.

        Y is ``(batch, n_L)`` for the batch of the last forward() (or class labels, see
        the class docstring).  Stores the gradients (see ``.gradients``); the
        parameters change only with update().  Raises StateError without a matching
        forward().  With ``sample_weight`` (one weight ≥ 0 per sample, not all 0), the
        loss and the gradients are weighted means, Σ w C / Σ w (bp_backward_weighted).
        """
        Y = self._targets(Y, self._last_batch, require_finite=False)
        loss = c_float()
        try:
            if sample_weight is None:
                self._call("bp_backward", _arrays.argument(Y), Y.shape[0], ctypes.byref(loss))
            else:
                w = _weights.as_weights(sample_weight, Y.shape[0])
                self._call("bp_backward_weighted", _arrays.argument(Y), _arrays.argument(w), Y.shape[0],
                           ctypes.byref(loss))
        except Exception:
            _arrays.raise_first_non_finite((Y, "Y"))
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

    def train_step(self, X, Y, learning_rate, sample_weight=None) -> float:
        """One mini-batch step (forward, backward, update with the network's optimizer);
        return the loss of the batch before the update (bp_train_step).  DivergedError
        if the step diverged (the parameters are those from before it).  With
        ``sample_weight``, the step takes the weighted mean (see backward())."""
        batch = _arrays.rows(X, self._layers[0])
        if (batch and sample_weight is None and type(learning_rate) is float
                and _arrays.rows(Y, self._layers[-1]) == batch):
            try:
                return self._train_step_unchecked(X, Y, learning_rate)
            except Exception:
                _arrays.raise_first_non_finite((X, "X"), (Y, "Y"))
                raise
        X, _ = self._inputs(X, require_finite=False)
        try:
            Y = self._targets(Y, X.shape[0], require_finite=False)
        except Exception:
            _arrays.raise_first_non_finite((X, "X"))
            raise
        try:
            lr = _arrays.as_real(learning_rate, "learning_rate")
            if sample_weight is None:
                return self._train_step_unchecked(X, Y, lr)
            w = _weights.as_weights(sample_weight, X.shape[0])
            loss = c_float()
            self._call("bp_train_step_weighted", _arrays.argument(X), _arrays.argument(Y), _arrays.argument(w),
                       X.shape[0], lr, ctypes.byref(loss))
            self._last_batch = None
            return float(loss.value)
        except Exception:
            _arrays.raise_first_non_finite((X, "X"), (Y, "Y"))
            raise

    def _train_step_unchecked(self, X: np.ndarray, Y: np.ndarray, lr: float) -> float:
        loss = c_float()
        self._call("bp_train_step", _arrays.argument(X), _arrays.argument(Y), X.shape[0], lr, ctypes.byref(loss))
        self._last_batch = None
        return float(loss.value)

    # ------------------------------------------------------------------ fit

    # Train with mini-batches (the library's bp_fit loop); return the history dict.  The
    # one definition is backprop.training.fit, whose first parameter (`net`) is this
    # network: same signature, defaults and documentation.
    fit = _training.fit

