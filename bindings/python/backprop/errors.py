"""Exceptions raised by the backprop Python binding.

Every failing library call raises a subclass of :class:`BackpropError`, chosen by
the ``bp_status`` the C function returned.  ``.status`` is that number and
``.message`` the detailed text of ``bp_last_error()`` (read on the same thread,
right after the failing call).

Besides :class:`BackpropError`, each subclass also derives from the built-in
exception that fits it best, so ordinary Python code can catch it the usual way:

=========================  ======  ===========================
class                      status  also a
=========================  ======  ===========================
NullArgumentError          1       ValueError
InvalidArgumentError       2       ValueError
UnknownEnumError           3       ValueError
InvalidArchitectureError   4       ValueError
SizeMismatchError          5       ValueError
SizeOverflowError          6       ValueError
NonFiniteError             7       ValueError
StateError                 8       RuntimeError
OutOfMemoryError           9       MemoryError
DivergedError              10      FloatingPointError
BufferTooSmallError        11      ValueError
ModelIOError               12      OSError
NotAModelError             13      ValueError
UnsupportedVersionError    14      ValueError
TruncatedModelError        15      ValueError
ChecksumMismatchError      16      ValueError
CorruptModelError          17      ValueError
UnsupportedModelError      18      ValueError
UnsupportedCPUError        19      RuntimeError
PeerFailedError            20      RuntimeError
=========================  ======  ===========================

:class:`DivergedError` is a :class:`FloatingPointError` (so also an
:class:`ArithmeticError`): the loss or a gradient became NaN or infinite, typically
a learning rate that is too large.  The parameters are those from before the step
that diverged.  When raised by ``fit``, its ``.history`` holds the epochs completed
before the divergence.  The model-reading errors 14-18 and
:class:`NotAModelError` are ValueErrors (the bytes are not a valid model, or, for
:class:`UnsupportedModelError`, an ONNX model that is not a network the library has);
:class:`ModelIOError` is an :class:`OSError` (the operating system refused to read or
write the file) whose ``.filename`` is the path when known.

Problems the binding detects itself before calling C (a wrong shape, a
non-numeric or complex dtype, NaN/Inf in an array, an empty array, an unknown
activation or loss name) raise a plain :class:`ValueError`.  Using a network
after :meth:`Network.close` raises :class:`StateError` (status 8) with the message
``"the network is closed"``.
"""

from __future__ import annotations

from ._codes import (  # the status values, defined once
    BP_OK,
    BP_ERROR_NULL_ARGUMENT,
    BP_ERROR_INVALID_ARGUMENT,
    BP_ERROR_UNKNOWN_ENUM,
    BP_ERROR_INVALID_ARCHITECTURE,
    BP_ERROR_SIZE_MISMATCH,
    BP_ERROR_SIZE_OVERFLOW,
    BP_ERROR_NON_FINITE,
    BP_ERROR_STATE,
    BP_ERROR_OUT_OF_MEMORY,
    BP_ERROR_DIVERGED,
    BP_ERROR_BUFFER_TOO_SMALL,
    BP_ERROR_IO,
    BP_ERROR_NOT_A_MODEL,
    BP_ERROR_UNSUPPORTED_VERSION,
    BP_ERROR_TRUNCATED,
    BP_ERROR_CHECKSUM_MISMATCH,
    BP_ERROR_CORRUPT_MODEL,
    BP_ERROR_UNSUPPORTED_MODEL,
    BP_ERROR_UNSUPPORTED_CPU,
    BP_ERROR_PEER_FAILED,
)

__all__ = [
    "BackpropError",
    "NullArgumentError",
    "InvalidArgumentError",
    "UnknownEnumError",
    "InvalidArchitectureError",
    "SizeMismatchError",
    "SizeOverflowError",
    "NonFiniteError",
    "StateError",
    "OutOfMemoryError",
    "DivergedError",
    "BufferTooSmallError",
    "ModelIOError",
    "NotAModelError",
    "UnsupportedVersionError",
    "TruncatedModelError",
    "ChecksumMismatchError",
    "CorruptModelError",
    "UnsupportedModelError",
    "UnsupportedCPUError",
    "PeerFailedError",
    "BP_OK",
    "BP_ERROR_NULL_ARGUMENT",
    "BP_ERROR_INVALID_ARGUMENT",
    "BP_ERROR_UNKNOWN_ENUM",
    "BP_ERROR_INVALID_ARCHITECTURE",
    "BP_ERROR_SIZE_MISMATCH",
    "BP_ERROR_SIZE_OVERFLOW",
    "BP_ERROR_NON_FINITE",
    "BP_ERROR_STATE",
    "BP_ERROR_OUT_OF_MEMORY",
    "BP_ERROR_DIVERGED",
    "BP_ERROR_BUFFER_TOO_SMALL",
    "BP_ERROR_IO",
    "BP_ERROR_NOT_A_MODEL",
    "BP_ERROR_UNSUPPORTED_VERSION",
    "BP_ERROR_TRUNCATED",
    "BP_ERROR_CHECKSUM_MISMATCH",
    "BP_ERROR_CORRUPT_MODEL",
    "BP_ERROR_UNSUPPORTED_MODEL",
    "BP_ERROR_UNSUPPORTED_CPU",
    "BP_ERROR_PEER_FAILED",
    "error_for_status",
]


class BackpropError(Exception):
    """Base class of every error reported by libbackprop.

    Attributes
    ----------
    status : int
        The ``bp_status`` value (one of the ``BP_ERROR_*`` constants).
    message : str
        The detailed message (``bp_last_error()`` for library errors).
    function : str or None
        The C function that failed, when known.
    """

    #: The status this class stands for (``None`` on the base class).
    STATUS: int | None = None

    def __init__(self, status: int, message: str, function: str | None = None):
        self.status = int(status)
        self.message = str(message)
        self.function = function
        prefix = f"{function}: " if function else ""
        text = self.message or f"status {self.status}"
        self._text = f"{prefix}{text}"
        super().__init__(self._text)

    def __str__(self):
        # Explicit, so that built-in bases with a __str__ of their own (OSError's
        # "[Errno ...]" form) do not replace the message.
        return self._text

    def __reduce__(self):  # keep exceptions picklable (multiprocessing etc.)
        attributes = {k: v for k, v in self.__dict__.items() if k != "_text"}
        if isinstance(self, OSError):
            attributes["filename"] = self.filename  # a slot of OSError, not in __dict__
        return (_rebuild, (type(self), self.status, self.message, self.function, attributes))


class NullArgumentError(BackpropError, ValueError):
    """BP_ERROR_NULL_ARGUMENT: a required pointer was NULL (should not happen via Python)."""

    STATUS = BP_ERROR_NULL_ARGUMENT


class InvalidArgumentError(BackpropError, ValueError):
    """BP_ERROR_INVALID_ARGUMENT: a value out of range (a layer of size 0, a negative learning rate...)."""

    STATUS = BP_ERROR_INVALID_ARGUMENT


class UnknownEnumError(BackpropError, ValueError):
    """BP_ERROR_UNKNOWN_ENUM: an activation, loss, optimizer or option code the library does
    not know; also raised by the binding for a loaded network whose activation or loss this
    package does not know (a library newer than the package)."""

    STATUS = BP_ERROR_UNKNOWN_ENUM


class InvalidArchitectureError(BackpropError, ValueError):
    """BP_ERROR_INVALID_ARCHITECTURE: softmax on a hidden layer, cross-entropy without a sigmoid/softmax output."""

    STATUS = BP_ERROR_INVALID_ARCHITECTURE


class SizeMismatchError(BackpropError, ValueError):
    """BP_ERROR_SIZE_MISMATCH: a count does not match the network."""

    STATUS = BP_ERROR_SIZE_MISMATCH


class SizeOverflowError(BackpropError, ValueError):
    """BP_ERROR_SIZE_OVERFLOW: sizes beyond the library's limits or overflowing size_t."""

    STATUS = BP_ERROR_SIZE_OVERFLOW


class NonFiniteError(BackpropError, ValueError):
    """BP_ERROR_NON_FINITE: a NaN or infinity where a finite number is required."""

    STATUS = BP_ERROR_NON_FINITE


class StateError(BackpropError, RuntimeError):
    """BP_ERROR_STATE: the call is not valid now (backward before forward, a closed network...)."""

    STATUS = BP_ERROR_STATE


class OutOfMemoryError(BackpropError, MemoryError):
    """BP_ERROR_OUT_OF_MEMORY: memory could not be allocated."""

    STATUS = BP_ERROR_OUT_OF_MEMORY


class DivergedError(BackpropError, FloatingPointError):
    """BP_ERROR_DIVERGED: the loss or a gradient became NaN or infinite (a learning rate
    too large, typically); the parameters are those from before the step.

    ``.history`` (set by ``fit``): the history dict of the epochs completed before the
    divergence, or None."""

    STATUS = BP_ERROR_DIVERGED
    history = None


class BufferTooSmallError(BackpropError, ValueError):
    """BP_ERROR_BUFFER_TOO_SMALL: a buffer is smaller than the model (not raised by this
    binding, which sizes its buffers itself)."""

    STATUS = BP_ERROR_BUFFER_TOO_SMALL


class ModelIOError(BackpropError, OSError):
    """BP_ERROR_IO: the operating system refused a file operation of save() or load()
    (a missing file, a directory that does not exist, no permission...).  The message
    names the path and the system's reason; ``.filename`` is the path."""

    STATUS = BP_ERROR_IO


class NotAModelError(BackpropError, ValueError):
    """BP_ERROR_NOT_A_MODEL: the data does not start with the model magic (not a model file)."""

    STATUS = BP_ERROR_NOT_A_MODEL


class UnsupportedVersionError(BackpropError, ValueError):
    """BP_ERROR_UNSUPPORTED_VERSION: a model format version this library cannot read."""

    STATUS = BP_ERROR_UNSUPPORTED_VERSION


class TruncatedModelError(BackpropError, ValueError):
    """BP_ERROR_TRUNCATED: the model ends before its declared contents (a partial file)."""

    STATUS = BP_ERROR_TRUNCATED


class ChecksumMismatchError(BackpropError, ValueError):
    """BP_ERROR_CHECKSUM_MISMATCH: the model's CRC-32 does not match; the bytes were damaged."""

    STATUS = BP_ERROR_CHECKSUM_MISMATCH


class CorruptModelError(BackpropError, ValueError):
    """BP_ERROR_CORRUPT_MODEL: the checksum is valid but a field is impossible."""

    STATUS = BP_ERROR_CORRUPT_MODEL


class UnsupportedModelError(BackpropError, ValueError):
    """BP_ERROR_UNSUPPORTED_MODEL: a valid ONNX model that is not a network the library
    has (an operator, attribute or layout it lacks); the message names the node."""

    STATUS = BP_ERROR_UNSUPPORTED_MODEL


class UnsupportedCPUError(BackpropError, RuntimeError):
    """BP_ERROR_UNSUPPORTED_CPU: the CPU lacks instructions the library was built for.
    The package checks this at import (ImportError), so a call sees it only with a
    library loaded another way."""

    STATUS = BP_ERROR_UNSUPPORTED_CPU


class PeerFailedError(BackpropError, RuntimeError):
    """BP_ERROR_PEER_FAILED: another process of a distributed fit could not start
    training, so this one did not start either (``fit(comm=...)`` raises the failing
    process's own error on every process instead; see backprop.distributed)."""

    STATUS = BP_ERROR_PEER_FAILED


def _rebuild(cls, status, message, function, attributes):
    err = cls(status, message, function)
    for name, value in attributes.items():
        setattr(err, name, value)
    return err


_BY_STATUS = {
    cls.STATUS: cls
    for cls in (
        NullArgumentError,
        InvalidArgumentError,
        UnknownEnumError,
        InvalidArchitectureError,
        SizeMismatchError,
        SizeOverflowError,
        NonFiniteError,
        StateError,
        OutOfMemoryError,
        DivergedError,
        BufferTooSmallError,
        ModelIOError,
        NotAModelError,
        UnsupportedVersionError,
        TruncatedModelError,
        ChecksumMismatchError,
        CorruptModelError,
        UnsupportedModelError,
        UnsupportedCPUError,
        PeerFailedError,
    )
}


def error_for_status(status: int, message: str, function: str | None = None) -> BackpropError:
    """Return (not raise) the exception instance for a failing ``bp_status``.

    Unknown status values give a plain :class:`BackpropError`.
    """
    cls = _BY_STATUS.get(int(status), BackpropError)
    return cls(status, message, function)
