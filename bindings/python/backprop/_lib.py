"""Loading libbackprop.so with ctypes and declaring every function of backprop.h.

Which library is loaded, first match wins:

1. ``$BACKPROP_LIBRARY`` if set (a path to a libbackprop.so; an error if it cannot be loaded);
2. ``libbackprop.so`` next to this file (the copy ``pip install`` bundles);
3. ``<repo>/.build/release/libbackprop.so`` when running from the source tree
   (this file is ``<repo>/bindings/python/backprop/_lib.py``).

Every prototype below mirrors include/backprop.h: ``bp_network *`` is ``c_void_p``,
``size_t`` is ``c_size_t``, ``bp_status``/``int32_t`` is ``c_int32``, ``float *`` is
``POINTER(c_float)``.  ``ctypes.CDLL`` releases the GIL for the duration of every call.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import POINTER, c_char_p, c_float, c_int32, c_size_t, c_uint32, c_uint64, c_void_p
from pathlib import Path

from .errors import BP_OK, error_for_status

__all__ = [
    "lib",
    "library_path",
    "ABI_VERSION",
    "LIBRARY_NAME",
    "FLOAT_P",
    "last_error",
    "status_string",
    "check",
]

#: The BP_ABI_VERSION this binding was written against.
ABI_VERSION = 1
LIBRARY_NAME = "libbackprop.so"
ENV_VAR = "BACKPROP_LIBRARY"

FLOAT_P = POINTER(c_float)
SIZE_P = POINTER(c_size_t)
INT32_P = POINTER(c_int32)
HANDLE_P = POINTER(c_void_p)

# name: (restype, argtypes) -- one entry per function of backprop.h, in header order.
PROTOTYPES = {
    "bp_abi_version": (c_uint32, []),
    "bp_version": (c_char_p, []),
    "bp_status_string": (c_char_p, [c_int32]),
    "bp_last_error": (c_char_p, []),
    "bp_create": (c_int32, [SIZE_P, c_size_t, INT32_P, c_int32, c_uint64, HANDLE_P]),
    "bp_destroy": (None, [c_void_p]),
    "bp_input_size": (c_size_t, [c_void_p]),
    "bp_output_size": (c_size_t, [c_void_p]),
    "bp_parameter_count": (c_size_t, [c_void_p]),
    "bp_layer_count": (c_size_t, [c_void_p]),
    "bp_layer_size": (c_size_t, [c_void_p, c_size_t]),
    "bp_forward": (c_int32, [c_void_p, FLOAT_P, c_size_t, FLOAT_P]),
    "bp_backward": (c_int32, [c_void_p, FLOAT_P, c_size_t, FLOAT_P]),
    "bp_update": (c_int32, [c_void_p, c_float]),
    "bp_train_step": (c_int32, [c_void_p, FLOAT_P, FLOAT_P, c_size_t, c_float, FLOAT_P]),
    "bp_get_parameters": (c_int32, [c_void_p, FLOAT_P, c_size_t]),
    "bp_set_parameters": (c_int32, [c_void_p, FLOAT_P, c_size_t]),
    "bp_get_gradients": (c_int32, [c_void_p, FLOAT_P, c_size_t]),
}

_PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_ROOT = _PACKAGE_DIR.parent.parent.parent


def candidate_paths():
    """The fallback locations searched when $BACKPROP_LIBRARY is not set, in order."""
    return [
        _PACKAGE_DIR / LIBRARY_NAME,
        _REPO_ROOT / ".build" / "release" / LIBRARY_NAME,
    ]


def _load():
    override = os.environ.get(ENV_VAR)
    if override:
        path = os.path.abspath(os.path.expanduser(override))
        if not os.path.isfile(path):
            raise ImportError(f"{ENV_VAR}={override!r}: no such file; point it at a libbackprop.so or unset it")
        try:
            return ctypes.CDLL(path), path
        except OSError as exc:
            raise ImportError(f"{ENV_VAR}={override!r} could not be loaded: {exc}") from exc

    tried = []
    for path in candidate_paths():
        if not path.is_file():
            tried.append(f"  {path} (not found)")
            continue
        try:
            return ctypes.CDLL(str(path)), str(path)
        except OSError as exc:
            tried.append(f"  {path} ({exc})")
    raise ImportError(
        "backprop: cannot find libbackprop.so. Tried:\n"
        + "\n".join(tried)
        + f"\nInstall the package with `pip install ./bindings/python`, build the library with "
        f"`swift build -c release --product backprop` in the repository root, or set {ENV_VAR}=/path/to/libbackprop.so."
    )


def _declare(library):
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            fn = getattr(library, name)
        except AttributeError:
            raise ImportError(f"backprop: {library_path} does not export {name}(); is it a libbackprop.so?") from None
        fn.restype = restype
        fn.argtypes = argtypes


lib, library_path = _load()
_declare(lib)

_loaded_abi = lib.bp_abi_version()
if _loaded_abi != ABI_VERSION:
    raise ImportError(
        f"backprop: {library_path} has ABI version {_loaded_abi}, this binding needs {ABI_VERSION}; "
        "reinstall the package or rebuild the library"
    )


def _decode(raw) -> str:
    if raw is None:
        return ""
    return raw.decode("utf-8", errors="replace")


def version() -> str:
    """The loaded library's version string (bp_version())."""
    return _decode(lib.bp_version())


def abi_version() -> int:
    """The loaded library's ABI version (bp_abi_version())."""
    return int(lib.bp_abi_version())


def last_error() -> str:
    """bp_last_error() of the calling thread, copied into a Python str."""
    return _decode(lib.bp_last_error())


def status_string(status: int) -> str:
    """bp_status_string(status)."""
    return _decode(lib.bp_status_string(int(status)))


def check(status: int, function: str) -> None:
    """Raise the BackpropError subclass for `status` unless it is BP_OK.

    Must be called on the thread that made the failing call, before any other
    library call on that thread, so that bp_last_error() still describes it.
    """
    if status != BP_OK:
        message = last_error() or status_string(status)
        raise error_for_status(status, message, function)
