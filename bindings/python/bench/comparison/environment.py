"""What the run runs on: the library (loaded from the repository's Python package), its
thread control, the CPU, and the environment and BLAS of this process, printed as the
report's header."""

from __future__ import annotations

import ctypes
import os
import platform
import sys

import numpy as np

from machine import cpu_description  # bench/machine.py, beside compare.py

from .cli import die
from .machine_state import load_average
from .worker import SCRUBBED_ENV, blas_info

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # bindings/python


def load_library():
    """The backprop package from bindings/python, and bp_set_threads (None when the
    library does not export it: it then runs on 1 thread)."""
    sys.path.insert(0, PYTHON_DIR)
    try:
        import backprop
    except ImportError as exc:
        die(f"cannot import the backprop package from {PYTHON_DIR}: {exc}", 2)
    from backprop import _lib

    try:
        fn = getattr(_lib.lib, "bp_set_threads")
        fn.restype, fn.argtypes = ctypes.c_int32, [ctypes.c_void_p, ctypes.c_size_t]
        set_threads = fn
    except AttributeError:
        set_threads = None
    return backprop, set_threads


def print_header(backprop, set_threads, repeats, seconds, quick, wids):
    print(f"# CPU: {cpu_description()}")
    print(f"# backprop {backprop.version()} (ABI {backprop.abi_version()}) from {backprop.library_path}")
    print(f"#   bp_set_threads: {'yes' if set_threads else 'no -- the library runs on 1 thread'}")
    if hasattr(backprop, "kernels"):
        print(f"#   matrix kernels: {backprop.kernels()}")
    print(f"# python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"load average at start {load_average()}")
    here = {k: os.environ.get(k) for k in SCRUBBED_ENV}
    print("# library process environment: "
          + ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in here.items()))
    for d in blas_info():
        print(f"# library process numpy BLAS (not timed): {d['internal_api']} {d['version']}, kernel {d['architecture']}")
    print(f"# {repeats} repeats after warm-up; median [min..max]; B-E repeats >= {seconds:g} s"
          + ("; --quick: A epoch 6,016 samples, C pool 1,024" if quick else "")
          + (", E3 trained on 6,016" if quick and "E3" in wids else ""))
    sys.stdout.flush()
