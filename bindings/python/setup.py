"""Build step of the backprop Python package.

The package carries its own copy of libbackprop.so. At build time this script
copies, in order of preference:

1. $BACKPROP_BUNDLE_LIBRARY, if set (a prebuilt libbackprop.so to bundle);
2. <repo>/.build/release/libbackprop.so, if it exists (<repo> is ../../ from here);
3. else it runs `swift build -c release --product backprop` in <repo> and copies
   the result.

The wheel is tagged as platform-specific (py3-none-<platform>), since it contains
a native library.
"""

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py as _build_py

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LIBRARY_NAME = "libbackprop.so"
BUILT_LIBRARY = REPO / ".build" / "release" / LIBRARY_NAME


class LibraryNotFound(Exception):
    pass


def locate_library() -> Path:
    """Return the libbackprop.so to bundle, building it with swift if needed."""
    explicit = os.environ.get("BACKPROP_BUNDLE_LIBRARY")
    if explicit:
        path = Path(explicit).expanduser().resolve()
        if not path.is_file():
            raise LibraryNotFound(f"BACKPROP_BUNDLE_LIBRARY={explicit!r} is not a file")
        return path
    if BUILT_LIBRARY.is_file():
        return BUILT_LIBRARY
    if not (REPO / "Package.swift").is_file():
        raise LibraryNotFound(
            f"{BUILT_LIBRARY} does not exist and {REPO} is not the backprop repository "
            "(no Package.swift), so it cannot be built. Build from a clone of the repository "
            "(pip install ./bindings/python) or set BACKPROP_BUNDLE_LIBRARY=/path/to/libbackprop.so."
        )
    swift = shutil.which("swift")
    if swift is None:
        raise LibraryNotFound(
            f"{BUILT_LIBRARY} does not exist and `swift` is not on PATH to build it. Install a Swift "
            "toolchain, or run `swift build -c release --product backprop` in the repository root first, "
            "or set BACKPROP_BUNDLE_LIBRARY=/path/to/libbackprop.so."
        )
    command = [swift, "build", "-c", "release", "--product", "backprop"]
    print(f"backprop: {BUILT_LIBRARY} not found; running {' '.join(command)} in {REPO}", flush=True)
    result = subprocess.run(command, cwd=str(REPO))
    if result.returncode != 0:
        raise LibraryNotFound(f"`{' '.join(command)}` failed with exit code {result.returncode} (output above)")
    if not BUILT_LIBRARY.is_file():
        raise LibraryNotFound(f"`{' '.join(command)}` succeeded but {BUILT_LIBRARY} does not exist")
    return BUILT_LIBRARY


class build_py(_build_py):
    """build_py that also puts libbackprop.so into the package."""

    def run(self):
        super().run()
        try:
            source = locate_library()
        except LibraryNotFound as exc:
            raise SystemExit(f"error: cannot bundle libbackprop.so: {exc}") from None
        if getattr(self, "editable_mode", False):
            target_dir = HERE / "backprop"  # editable installs import from the source tree
        else:
            target_dir = Path(self.build_lib) / "backprop"
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / LIBRARY_NAME
        print(f"backprop: bundling {source} -> {target}", flush=True)
        shutil.copy2(source, target)
        self._bundled = str(target)

    def get_outputs(self, include_bytecode=True):
        outputs = list(super().get_outputs(include_bytecode))
        target = str(Path(self.build_lib) / "backprop" / LIBRARY_NAME)
        if target not in outputs:
            outputs.append(target)
        return outputs


class BinaryDistribution(Distribution):
    """The package holds a native library: never a pure (py3-none-any) wheel."""

    def has_ext_modules(self):
        return True

    def is_pure(self):
        return False


cmdclass = {"build_py": build_py}

try:  # setuptools >= 70.1 ships bdist_wheel; older setups use the wheel package
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:
    try:
        from wheel.bdist_wheel import bdist_wheel as _bdist_wheel
    except ImportError:
        _bdist_wheel = None

if _bdist_wheel is not None:

    class bdist_wheel(_bdist_wheel):
        """Tag the wheel py3-none-<platform>: it has a native library but no Python extension."""

        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            _, _, platform = super().get_tag()
            return "py3", "none", platform

    cmdclass["bdist_wheel"] = bdist_wheel


setup(cmdclass=cmdclass, distclass=BinaryDistribution)
