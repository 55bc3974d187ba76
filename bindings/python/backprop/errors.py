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
=========================  ======  ===========================

Problems the binding detects itself before calling C (a wrong shape, a
non-numeric or complex dtype, NaN/Inf in an array, an empty array, an unknown
activation or loss name) raise a plain :class:`ValueError`.  Using a network
after :meth:`Network.close` raises :class:`StateError` (status 8) with the message
``"the network is closed"``.
"""

from __future__ import annotations

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
    "error_for_status",
]

BP_OK = 0
BP_ERROR_NULL_ARGUMENT = 1
BP_ERROR_INVALID_ARGUMENT = 2
BP_ERROR_UNKNOWN_ENUM = 3
BP_ERROR_INVALID_ARCHITECTURE = 4
BP_ERROR_SIZE_MISMATCH = 5
BP_ERROR_SIZE_OVERFLOW = 6
BP_ERROR_NON_FINITE = 7
BP_ERROR_STATE = 8
BP_ERROR_OUT_OF_MEMORY = 9


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
        super().__init__(f"{prefix}{text}")

    def __reduce__(self):  # keep exceptions picklable (multiprocessing etc.)
        return (type(self), (self.status, self.message, self.function))


class NullArgumentError(BackpropError, ValueError):
    """BP_ERROR_NULL_ARGUMENT: a required pointer was NULL (should not happen via Python)."""

    STATUS = BP_ERROR_NULL_ARGUMENT


class InvalidArgumentError(BackpropError, ValueError):
    """BP_ERROR_INVALID_ARGUMENT: a value out of range (a layer of size 0, a negative learning rate...)."""

    STATUS = BP_ERROR_INVALID_ARGUMENT


class UnknownEnumError(BackpropError, ValueError):
    """BP_ERROR_UNKNOWN_ENUM: an activation or loss code the library does not know."""

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
    )
}


def error_for_status(status: int, message: str, function: str | None = None) -> BackpropError:
    """Return (not raise) the exception instance for a failing ``bp_status``.

    Unknown status values give a plain :class:`BackpropError`.
    """
    cls = _BY_STATUS.get(int(status), BackpropError)
    return cls(status, message, function)
