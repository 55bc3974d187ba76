"""Model files, model bytes and pickling: the methods of Network over bp_save, bp_load,
bp_save_to_buffer and bp_load_from_buffer.

The binding never reads the model format itself: a loaded network's layers, activations
and loss come from the library (bp_layer_count, bp_layer_size, bp_layer_activation,
bp_loss_function), like those of any other network (Network._adopt).
"""

from __future__ import annotations

import ctypes
import os
from ctypes import c_size_t, c_void_p

from . import _lib
from ._architecture import architecture
from .errors import ModelIOError, error_for_status

__all__ = ["Persistence"]


class Persistence:
    """The save, load, bytes and pickle methods of Network."""

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
            return _model_bytes(handle)

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
        return cls._from_handle(_load_from_buffer(bytes(data)))

    @classmethod
    def _from_handle(cls, handle, seed=None):
        """A Network owning `handle`, a fresh one from bp_load*; destroys it on failure."""
        net = cls.__new__(cls)
        net._init_state()
        try:
            net._adopt(handle, seed)
        except BaseException:
            _lib.lib.bp_destroy(handle)
            raise
        return net

    def _become(self, model: bytes) -> None:
        """Take the state `model` holds (bytes of to_bytes(): parameters, optimizer and
        schedule state, options, scaling, dropout), in place, keeping this network's
        thread count and seed: how backprop.distributed.broadcast_parameters() makes a
        replica equal to the root's.  The architecture must be this network's."""
        threads = self.threads
        handle = _load_from_buffer(bytes(model))
        try:
            sizes, acts, loss = architecture(handle)
            if (sizes, acts, loss) != (self._layers, self._activations, self._loss):
                raise ValueError(
                    f"the model is a {'-'.join(map(str, sizes))} network ({', '.join(acts)}; {loss}); "
                    f"this one is {'-'.join(map(str, self._layers))} ({', '.join(self._activations)}; {self._loss})"
                )
            self._check_not_in_fit("broadcast_parameters()")
            self._lock.acquire()
            try:
                old = self._require_open()
                self._adopt(handle, self._seed)
                handle = old  # destroyed below, in place of the new one
                self._last_batch = None
            finally:
                self._lock.release()
        finally:
            _lib.lib.bp_destroy(handle)
        self.threads = threads

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
        handle = _load_from_buffer(bytes(state["model"]))
        try:
            self._adopt(handle, state.get("seed"))
        except BaseException:
            _lib.lib.bp_destroy(handle)
            raise


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


def _raise(status: int, function: str, path=None):
    """Raise the error of a failed call (on this thread, right after it); a ModelIOError
    gets the path as its ``filename``."""
    message = _lib.last_error() or _lib.status_string(status)
    err = error_for_status(status, message, function)
    if isinstance(err, ModelIOError) and path is not None:
        err.filename = os.fspath(path)
    raise err


def _model_bytes(handle) -> bytes:
    """The model bytes of a handle (bp_save_to_buffer)."""
    return _buffer_bytes(_lib.lib.bp_save_to_buffer, "bp_save_to_buffer", handle)


def _buffer_bytes(function, name: str, handle) -> bytes:
    """What a `(net, buffer, capacity, written)` writer such as bp_save_to_buffer writes
    for `handle`: sized by a first call without a buffer, then written."""
    size = c_size_t()
    status = function(handle, None, 0, ctypes.byref(size))
    if status:
        _raise(status, name)
    buffer = bytearray(size.value)
    view = (ctypes.c_char * len(buffer)).from_buffer(buffer)
    written = c_size_t()
    status = function(handle, view, len(buffer), ctypes.byref(written))
    del view  # release the export of `buffer`
    if status:
        _raise(status, name)
    if written.value != len(buffer):
        raise RuntimeError(f"{name} wrote {written.value} bytes after announcing {len(buffer)}")
    return bytes(buffer)


def _load_from_buffer(model: bytes):
    """A new handle from model bytes (bp_load_from_buffer); raises the model errors."""
    handle = c_void_p()
    status = _lib.lib.bp_load_from_buffer(model, len(model), ctypes.byref(handle))
    if status:
        _raise(status, "bp_load_from_buffer")
    if not handle:
        raise RuntimeError("bp_load_from_buffer returned BP_OK but no handle")  # contract violation
    return handle
