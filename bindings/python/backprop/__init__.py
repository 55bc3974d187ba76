"""backprop: train multilayer perceptrons with libbackprop from Python.

    >>> import numpy as np, backprop
    >>> net = backprop.Network([2, 16, 3], ["relu", "softmax"], loss="cross_entropy", seed=0)
    >>> net.set_optimizer("adam")
    >>> history = net.fit(X, labels, epochs=20, batch_size=32, learning_rate=0.01, seed=0)
    >>> net.score(X, labels)        # accuracy
    >>> net.save("model.bpm"); same = backprop.Network.load("model.bpm")

The shared library is loaded from $BACKPROP_LIBRARY if set, else the copy bundled in
this package, else <repo>/.build/release/libbackprop.so when run from the source tree.
"""

from . import _lib
from ._codes import ACTIVATIONS, INITIALIZATIONS, LOSSES, OPTIMIZERS, OPTIONS, RECOMMENDED_INITIALIZATION, SCHEDULES
from .errors import (
    BackpropError,
    BufferTooSmallError,
    ChecksumMismatchError,
    CorruptModelError,
    UnsupportedModelError,
    UnsupportedCPUError,
    PeerFailedError,
    DivergedError,
    InvalidArchitectureError,
    InvalidArgumentError,
    ModelIOError,
    NonFiniteError,
    NotAModelError,
    NullArgumentError,
    OutOfMemoryError,
    SizeMismatchError,
    SizeOverflowError,
    StateError,
    TruncatedModelError,
    UnknownEnumError,
    UnsupportedVersionError,
)
from .network import Network
from .training import fit, score

__version__ = "0.1.0"

#: Path of the loaded libbackprop.so.
library_path = _lib.library_path
#: bp_abi_version() of the loaded library.
ABI_VERSION = _lib.ABI_VERSION


def version() -> str:
    """The loaded library's version string (bp_version())."""
    return _lib.version()


def abi_version() -> int:
    """The loaded library's ABI version (bp_abi_version())."""
    return _lib.abi_version()


def kernels() -> str:
    """The matrix kernels the loaded library uses: "avx512" or "portable" (bp_kernels())."""
    return _lib.kernels()


__all__ = [
    "Network",
    "ACTIVATIONS",
    "LOSSES",
    "OPTIMIZERS",
    "OPTIONS",
    "INITIALIZATIONS",
    "RECOMMENDED_INITIALIZATION",
    "SCHEDULES",
    "fit",
    "score",
    "version",
    "abi_version",
    "kernels",
    "library_path",
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
]
