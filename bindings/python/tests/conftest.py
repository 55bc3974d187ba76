"""Import the package from the source tree (bindings/python), with the library from
$BACKPROP_LIBRARY or else <repo>/.build/release/libbackprop.so."""

import os
import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parent.parent
REPO = PYTHON_DIR.parent.parent

sys.path.insert(0, str(PYTHON_DIR))

if not os.environ.get("BACKPROP_LIBRARY"):
    built = REPO / ".build" / "release" / "libbackprop.so"
    if built.is_file():
        # Pin it, so subprocesses started by the tests load the same library.
        os.environ["BACKPROP_LIBRARY"] = str(built)

import backprop  # noqa: E402  (a clear ImportError here means: no library found)


def pytest_report_header(config):
    return f"backprop library: {backprop.library_path} (version {backprop.version()}, ABI {backprop.abi_version()})"


@pytest.fixture
def subprocess_env():
    """Environment for a child Python that imports backprop from the source tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    return env
