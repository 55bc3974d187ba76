"""Loading libbackprop.so with ctypes and declaring every function of backprop.h.

Which library is loaded, first match wins:

1. ``$BACKPROP_LIBRARY`` if set (a path to a libbackprop.so; an error if it cannot be loaded);
2. ``libbackprop.so`` next to this file (the copy ``pip install`` bundles);
3. ``<repo>/.build/release/libbackprop.so`` when running from the source tree
   (this file is ``<repo>/bindings/python/backprop/_lib.py``).

Every prototype below mirrors include/backprop.h: ``bp_network *`` is ``c_void_p``,
``size_t`` is ``c_size_t``, ``bp_status``/``int32_t`` is ``c_int32``, ``float *`` is
``POINTER(c_float)``, ``void *`` buffers are ``c_void_p`` and paths ``c_char_p`` (bytes).
The two structs of bp_fit(), :class:`bp_fit_options` and :class:`bp_epoch_report`, are
``ctypes.Structure`` mirrors of the header's, and :data:`bp_progress_callback` its
function-pointer type.  At import, the size ``bp_fit_options_init_sized()`` writes into
``struct_size`` is compared with ``ctypes.sizeof(bp_fit_options)`` (and the documented
defaults with the fields they land in), so a layout mismatch is an ImportError rather
than memory corruption.  ``ctypes.CDLL`` releases the GIL for the duration of every call;
a ctypes callback (the progress callback) takes it back while it runs.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_double,
    c_float,
    c_int,
    c_int32,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path

from ._codes import BP_ABI_VERSION, BP_OK
from .errors import error_for_status

__all__ = [
    "lib",
    "library_path",
    "ABI_VERSION",
    "LIBRARY_NAME",
    "FLOAT_P",
    "bp_epoch_report",
    "bp_metrics",
    "bp_fit_options",
    "bp_progress_callback",
    "bp_gradient_hook",
    "bp_reduce_hook",
    "fit_options",
    "last_error",
    "status_string",
    "check",
]

#: The BP_ABI_VERSION this binding was written against.
ABI_VERSION = BP_ABI_VERSION
LIBRARY_NAME = "libbackprop.so"
ENV_VAR = "BACKPROP_LIBRARY"

FLOAT_P = POINTER(c_float)
SIZE_P = POINTER(c_size_t)
INT32_P = POINTER(c_int32)
HANDLE_P = POINTER(c_void_p)
DOUBLE_P = POINTER(c_double)


class bp_epoch_report(Structure):
    """One epoch of bp_fit() (``struct bp_epoch_report``)."""

    _fields_ = [
        ("epoch", c_size_t),  # 1 for the first epoch
        ("train_loss", c_float),  # mean loss over the epoch's training samples
        ("validation_loss", c_float),  # NaN without a validation set
        ("validation_accuracy", c_float),  # NaN without a validation set, or when not a classifier
        ("learning_rate", c_float),  # η of the epoch's steps, by the schedule
    ]


#: ``typedef int (*bp_progress_callback)(const bp_epoch_report *report, void *user_data)``
bp_progress_callback = CFUNCTYPE(c_int, POINTER(bp_epoch_report), c_void_p)

#: ``typedef bp_status (*bp_gradient_hook)(float *gradients, size_t count, size_t samples,
#: double weight, float loss, void *user_data)``
bp_gradient_hook = CFUNCTYPE(c_int32, FLOAT_P, c_size_t, c_size_t, c_double, c_float, c_void_p)

#: ``typedef bp_status (*bp_reduce_hook)(double *values, size_t count, int32_t operation,
#: void *user_data)``
bp_reduce_hook = CFUNCTYPE(c_int32, DOUBLE_P, c_size_t, c_int32, c_void_p)


class bp_fit_options(Structure):
    """The options of bp_fit() (``struct bp_fit_options``); fill with :func:`fit_options`."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("epochs", c_size_t),
        ("batch_size", c_size_t),
        ("learning_rate", c_float),
        ("shuffle", c_int32),
        ("seed", c_uint64),
        ("validation_inputs", FLOAT_P),
        ("validation_targets", FLOAT_P),
        ("validation_count", c_size_t),
        ("patience", c_size_t),
        ("min_delta", c_float),
        ("restore_best", c_int32),
        ("target_loss", c_float),
        ("progress", bp_progress_callback),
        ("user_data", c_void_p),
        ("sample_weights", FLOAT_P),
        ("validation_weights", FLOAT_P),
        ("gradient_hook", bp_gradient_hook),
        ("reduce_hook", bp_reduce_hook),
    ]


class bp_metrics(Structure):
    """What bp_evaluate_metrics() measures (``struct bp_metrics``)."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("loss", c_float),
        ("accuracy", c_float),
        ("mean_absolute_error", c_float),
        ("root_mean_squared_error", c_float),
        ("r2", c_float),
    ]


REPORT_P = POINTER(bp_epoch_report)
OPTIONS_P = POINTER(bp_fit_options)

# name: (restype, argtypes) -- one entry per function of backprop.h, in header order.
PROTOTYPES = {
    "bp_abi_version": (c_uint32, []),
    "bp_version": (c_char_p, []),
    "bp_kernels": (c_char_p, []),
    "bp_status_string": (c_char_p, [c_int32]),
    "bp_last_error": (c_char_p, []),
    "bp_create": (c_int32, [SIZE_P, c_size_t, INT32_P, c_int32, c_uint64, HANDLE_P]),
    "bp_destroy": (None, [c_void_p]),
    "bp_input_size": (c_size_t, [c_void_p]),
    "bp_output_size": (c_size_t, [c_void_p]),
    "bp_parameter_count": (c_size_t, [c_void_p]),
    "bp_layer_count": (c_size_t, [c_void_p]),
    "bp_layer_size": (c_size_t, [c_void_p, c_size_t]),
    "bp_layer_activation": (c_int32, [c_void_p, c_size_t]),
    "bp_loss_function": (c_int32, [c_void_p]),
    "bp_set_threads": (c_int32, [c_void_p, c_size_t]),
    "bp_thread_count": (c_size_t, [c_void_p]),
    "bp_forward": (c_int32, [c_void_p, FLOAT_P, c_size_t, FLOAT_P]),
    "bp_forward_train": (c_int32, [c_void_p, FLOAT_P, c_size_t, FLOAT_P]),
    "bp_predict": (c_int32, [c_void_p, FLOAT_P, c_size_t, FLOAT_P]),
    "bp_backward": (c_int32, [c_void_p, FLOAT_P, c_size_t, FLOAT_P]),
    "bp_update": (c_int32, [c_void_p, c_float]),
    "bp_train_step": (c_int32, [c_void_p, FLOAT_P, FLOAT_P, c_size_t, c_float, FLOAT_P]),
    "bp_backward_weighted": (c_int32, [c_void_p, FLOAT_P, FLOAT_P, c_size_t, FLOAT_P]),
    "bp_train_step_weighted": (c_int32, [c_void_p, FLOAT_P, FLOAT_P, FLOAT_P, c_size_t, c_float, FLOAT_P]),
    "bp_set_option": (c_int32, [c_void_p, c_int32, c_double]),
    "bp_get_option": (c_int32, [c_void_p, c_int32, DOUBLE_P]),
    "bp_scheduled_learning_rate": (c_int32, [c_void_p, c_float, FLOAT_P]),
    "bp_end_epoch": (c_int32, [c_void_p, c_size_t, c_float]),
    "bp_set_dropout": (c_int32, [c_void_p, FLOAT_P, c_size_t, c_uint64]),
    "bp_get_dropout": (c_int32, [c_void_p, FLOAT_P, c_size_t]),
    "bp_fit_options_init": (None, [OPTIONS_P]),
    "bp_fit_options_init_sized": (None, [OPTIONS_P, c_size_t]),
    "bp_fit": (c_int32, [c_void_p, FLOAT_P, FLOAT_P, c_size_t, OPTIONS_P, REPORT_P, c_size_t, SIZE_P]),
    "bp_evaluate": (c_int32, [c_void_p, FLOAT_P, FLOAT_P, c_size_t, FLOAT_P, FLOAT_P]),
    "bp_evaluate_weighted": (c_int32, [c_void_p, FLOAT_P, FLOAT_P, FLOAT_P, c_size_t, FLOAT_P, FLOAT_P]),
    "bp_evaluate_metrics": (c_int32, [c_void_p, FLOAT_P, FLOAT_P, FLOAT_P, c_size_t, POINTER(bp_metrics), DOUBLE_P,
                                      c_size_t]),
    "bp_set_input_scaling": (c_int32, [c_void_p, FLOAT_P, FLOAT_P, c_size_t]),
    "bp_get_input_scaling": (c_int32, [c_void_p, FLOAT_P, FLOAT_P, c_size_t]),
    "bp_standardize_inputs": (c_int32, [c_void_p, FLOAT_P, c_size_t]),
    "bp_set_target_scaling": (c_int32, [c_void_p, FLOAT_P, FLOAT_P, c_size_t]),
    "bp_get_target_scaling": (c_int32, [c_void_p, FLOAT_P, FLOAT_P, c_size_t]),
    "bp_standardize_targets": (c_int32, [c_void_p, FLOAT_P, c_size_t]),
    "bp_get_parameters": (c_int32, [c_void_p, FLOAT_P, c_size_t]),
    "bp_set_parameters": (c_int32, [c_void_p, FLOAT_P, c_size_t]),
    "bp_initialize": (c_int32, [c_void_p, c_int32, c_uint64]),
    "bp_get_gradients": (c_int32, [c_void_p, FLOAT_P, c_size_t]),
    "bp_set_gradients": (c_int32, [c_void_p, FLOAT_P, c_size_t]),
    "bp_save": (c_int32, [c_void_p, c_char_p]),
    "bp_load": (c_int32, [c_char_p, HANDLE_P]),
    "bp_save_to_buffer": (c_int32, [c_void_p, c_void_p, c_size_t, SIZE_P]),
    "bp_load_from_buffer": (c_int32, [c_void_p, c_size_t, HANDLE_P]),
    "bp_export_onnx": (c_int32, [c_void_p, c_char_p]),
    "bp_export_onnx_to_buffer": (c_int32, [c_void_p, c_void_p, c_size_t, SIZE_P]),
    "bp_import_onnx": (c_int32, [c_char_p, c_int32, HANDLE_P]),
    "bp_import_onnx_from_buffer": (c_int32, [c_void_p, c_size_t, c_int32, HANDLE_P]),
    "bp_export_c_source": (c_int32, [c_void_p, c_char_p, c_char_p, c_uint32]),
    "bp_check_cpu": (c_int32, []),
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

# Before anything else runs: a packaged library built for a newer CPU refuses every call
# on this one (loading it is safe), and the package is then unusable.
if lib.bp_check_cpu() != 0:
    raise ImportError(f"backprop: {library_path} cannot run here: {(lib.bp_last_error() or b'').decode('utf-8', 'replace')}")

_loaded_abi = lib.bp_abi_version()
if _loaded_abi != ABI_VERSION:
    raise ImportError(
        f"backprop: {library_path} has ABI version {_loaded_abi}, this binding needs {ABI_VERSION}; "
        "reinstall the package or rebuild the library"
    )


# The header's documented bp_fit_options defaults: (field, value).  Checked at import
# together with struct_size, so that fields shifted by a layout mismatch are caught too.
_FIT_DEFAULTS = (
    ("epochs", 10),
    ("batch_size", 32),
    ("shuffle", 1),
    ("seed", 0),
    ("validation_count", 0),
    ("patience", 0),
    ("restore_best", 1),
)


def _check_fit_options_layout():
    """ImportError unless bp_fit_options_init() agrees with our bp_fit_options mirror."""
    size = ctypes.sizeof(bp_fit_options)
    # Generous room, pre-filled with a marker: a library whose struct is larger than ours
    # must not write past the buffer while we find out.
    room = ctypes.create_string_buffer(b"\xa5" * (4 * size + 256))
    lib.bp_fit_options_init_sized(ctypes.cast(room, OPTIONS_P), size)
    written = bp_fit_options.from_buffer(room)
    if written.struct_size != size:
        raise ImportError(
            f"backprop: {library_path} says sizeof(bp_fit_options) is {written.struct_size} bytes, "
            f"this binding's mirror of the struct is {size}; the binding and the library disagree about "
            "backprop.h (reinstall the package or rebuild the library)"
        )
    wrong = [f"{name} = {getattr(written, name)} (expected {value})" for name, value in _FIT_DEFAULTS
             if getattr(written, name) != value]
    if abs(written.learning_rate - 0.01) > 1e-6 or written.progress or written.user_data or written.sample_weights \
            or written.validation_weights:
        wrong.append(f"learning_rate = {written.learning_rate} (expected 0.01), progress/user_data/weights not NULL")
    if wrong:
        raise ImportError(
            f"backprop: bp_fit_options_init() of {library_path} does not fill the fields where this binding "
            "expects them: " + "; ".join(wrong)
        )


_check_fit_options_layout()


def fit_options() -> bp_fit_options:
    """A new bp_fit_options filled by bp_fit_options_init_sized() (defaults and struct_size)."""
    options = bp_fit_options()
    lib.bp_fit_options_init_sized(ctypes.byref(options), ctypes.sizeof(options))
    return options


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


def kernels() -> str:
    """The matrix kernels the loaded library uses: "avx512" or "portable" (bp_kernels())."""
    return _decode(lib.bp_kernels())


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
