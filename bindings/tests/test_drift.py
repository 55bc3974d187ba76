"""Drift check: every bp_* function and BP_* constant of include/backprop.h must be
reachable from every binding, unless the binding lists it in its left-out.txt with a
reason ("name: why"). A binding that gets the constants from the C header itself (C++)
says so in BINDINGS."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: binding -> (the files whose text names the functions it wraps, where its constants are:
#: "python-codes" (backprop._codes' tables), "c-header" (it includes backprop.h) or a file).
BINDINGS = {
    "python": (["bindings/python/backprop/_lib.py"], "python-codes"),
    "cpp": (["bindings/cpp/include/backprop.hpp", "bindings/cpp/include/backprop/support.hpp"], "c-header"),
    "rust": (["bindings/rust/src/lib.rs", "bindings/rust/src/error.rs"], "bindings/rust/src/sys.rs"),
    "go": (["bindings/go/backprop.go", "bindings/go/calls.go", "bindings/go/settings.go"], "bindings/go/constants.go"),
}


def header_names():
    text = re.sub(r"/\*.*?\*/", "", (ROOT / "include/backprop.h").read_text(), flags=re.S)
    # Not "bp_status (*bp_gradient_hook)(": a typedef's result type, not a function.
    functions = set(re.findall(r"\b(bp_\w+)\s*\((?!\s*\*)", text)) - {"bp_progress_callback"}
    constants = set(re.findall(r"^#define\s+(BP_[A-Z0-9_]+)\s", text, re.M)) - {"BP_VERSION_STRING"}
    return functions, constants


def left_out(binding):
    path = ROOT / "bindings" / binding / "left-out.txt"
    entries = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, reason = line.partition(":")
                assert reason.strip(), f"{path}: '{name}' is left out without a reason"
                entries[name.strip()] = reason.strip()
    return entries




def test_the_header_parses():
    functions, constants = header_names()
    assert "bp_create" in functions and "bp_export_c_source" in functions and len(functions) > 50
    assert "BP_RELU" in constants and "BP_ERROR_UNSUPPORTED_CPU" in constants


@pytest.mark.parametrize("binding", BINDINGS)
def test_every_function_is_bound_or_left_out_with_a_reason(binding):
    files, _ = BINDINGS[binding]
    text = "\n".join((ROOT / f).read_text() for f in files)
    functions, _ = header_names()
    skipped = left_out(binding)
    missing = sorted(f for f in functions if f not in skipped and not re.search(rf"\b{f}\b", text))
    assert not missing, f"the {binding} binding lacks {missing}: bind them or list them in bindings/{binding}/left-out.txt"
    stale = sorted(name for name in skipped if name not in functions and not name.startswith("BP_"))
    assert not stale, f"bindings/{binding}/left-out.txt lists {stale}, which the header no longer has"


@pytest.mark.parametrize("binding", BINDINGS)
def test_every_constant_is_reachable_or_left_out_with_a_reason(binding):
    files, constants_at = BINDINGS[binding]
    _, constants = header_names()
    if constants_at == "c-header":
        text = "\n".join((ROOT / f).read_text() for f in files)
        assert '#include "backprop.h"' in text, f"{binding} says it takes the C header's constants but does not include it"
        return
    if constants_at == "python-codes":
        reachable = python_constants()
    else:
        text = (ROOT / constants_at).read_text()
        reachable = {name for name in constants if re.search(rf"\b{name}\b", text)}
    skipped = left_out(binding)
    missing = sorted(c for c in constants if c not in reachable and c not in skipped)
    assert not missing, f"the {binding} binding lacks {missing}: add them or list them in bindings/{binding}/left-out.txt"


def python_constants():
    """The header names backprop._codes holds: module constants, and its tables' entries."""
    import backprop._codes as codes

    reachable = {name for name in vars(codes) if name.startswith("BP_")}
    prefixes = {"BP_LOSS_": codes.LOSSES, "BP_OPTIMIZER_": codes.OPTIMIZERS, "BP_OPTION_": codes.OPTIONS,
                "BP_INIT_": codes.INITIALIZATIONS, "BP_SCHEDULE_": codes.SCHEDULES, "BP_C_SOURCE_": codes.C_SOURCE_OPTIONS,
                "BP_": codes.ACTIVATIONS}
    for prefix, table in prefixes.items():
        reachable |= {prefix + name.upper() for name in table}
    return reachable
