"""Import the package from the source tree (bindings/python), with the library from
$BACKPROP_LIBRARY or else <repo>/.build/release/libbackprop.so; or, with
BACKPROP_TEST_INSTALLED=1 (scripts/test-package), the installed package and the library
it bundles."""

import os
import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parent.parent
REPO = PYTHON_DIR.parent.parent

INSTALLED = os.environ.get("BACKPROP_TEST_INSTALLED") == "1"

if not INSTALLED:
    sys.path.insert(0, str(PYTHON_DIR))

if not INSTALLED and not os.environ.get("BACKPROP_LIBRARY"):
    built = REPO / ".build" / "release" / "libbackprop.so"
    if built.is_file():
        # Pin it, so subprocesses started by the tests load the same library.
        os.environ["BACKPROP_LIBRARY"] = str(built)

import backprop  # noqa: E402  (a clear ImportError here means: no library found)

if INSTALLED and Path(backprop.__file__).resolve().is_relative_to(PYTHON_DIR):
    raise RuntimeError(f"BACKPROP_TEST_INSTALLED=1 but backprop comes from the source tree ({backprop.__file__})")


def pytest_report_header(config):
    return f"backprop library: {backprop.library_path} (version {backprop.version()}, ABI {backprop.abi_version()})"


@pytest.fixture
def subprocess_env():
    """Environment for a child Python that imports backprop from the source tree."""
    env = dict(os.environ)
    if not INSTALLED:
        env["PYTHONPATH"] = str(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    return env
