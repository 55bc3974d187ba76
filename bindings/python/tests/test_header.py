"""The binding against include/backprop.h, parsed: every BP_* constant the binding uses
has the header's value (backprop/_codes.py), and every function of the header is
declared in backprop/_lib.py with the argument and result types of its prototype."""

import ast
import re
from ctypes import POINTER, c_char_p, c_double, c_float, c_int, c_int32, c_size_t, c_uint32, c_uint64, c_void_p
from pathlib import Path

import pytest

import backprop
from backprop import _codes, _lib, errors

HEADER = Path(__file__).resolve().parent / ".." / ".." / ".." / "include" / "backprop.h"


def header_text() -> str:
    assert HEADER.is_file(), f"{HEADER} not found (the tests expect the repository's layout)"
    return HEADER.read_text()


def without_comments(text: str) -> str:
    """The header's code: block and line comments replaced by a space (a comment that
    spans lines, like BP_LOSS_MSE's, goes as a whole)."""
    return re.sub(r"//[^\n]*", " ", re.sub(r"/\*.*?\*/", " ", text, flags=re.S))


# ---------------------------------------------------------------- constants

DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(BP_[A-Z0-9_]+)[ \t]+(.+?)[ \t]*$", re.M)
C_INTEGER = re.compile(r"\b(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)[uUlL]*\b")


def c_literal(literal: str) -> int:
    """A C integer literal without its suffix: hexadecimal, octal (a leading 0) or decimal."""
    if literal[:2] in ("0x", "0X"):
        return int(literal, 16)
    return int(literal, 8) if literal.startswith("0") else int(literal)


def c_integer_expression(value: str) -> int:
    """The value of a C integer literal or parenthesised constant expression, such as
    ``(1u << 24)``: suffixes dropped, then evaluated with integer operators only."""
    python = C_INTEGER.sub(lambda m: str(c_literal(m.group(1))), value)
    tree = ast.parse(python, mode="eval")
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.LShift, ast.RShift, ast.BitOr,
               ast.BitAnd, ast.BitXor, ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.USub, ast.UAdd, ast.Invert)
    for node in ast.walk(tree):
        if not isinstance(node, allowed) or (isinstance(node, ast.Constant) and type(node.value) is not int):
            raise ValueError(f"not an integer constant expression: {value!r}")
    return eval(compile(tree, str(HEADER), "eval"), {"__builtins__": {}})


def header_constants() -> dict:
    """Every ``#define BP_<NAME> <integer or (expression)>`` of the header, by name
    (string values such as BP_VERSION_STRING are not integer codes and are left out)."""
    constants = {}
    for name, value in DEFINE.findall(without_comments(header_text())):
        if re.fullmatch(r"[0-9][0-9a-fA-FxXuUlL]*|\(.*\)", value):
            constants[name] = c_integer_expression(value)
    return constants


# Header constants the binding does not mirror: the library reports its version itself
# (bp_version()) and checks its limits itself (bp_create()).
NOT_MIRRORED = {"BP_VERSION_MAJOR", "BP_VERSION_MINOR", "BP_VERSION_PATCH", "BP_MAX_LAYER_COUNT", "BP_MAX_LAYER_SIZE"}


def family_of(name: str) -> str:
    """The _codes table a header constant belongs to.  Activations have no prefix of their
    own: every constant of no other family is one (so a new, unclassified constant shows
    up as an activation that _codes lacks)."""
    if name in NOT_MIRRORED:
        return "not mirrored"
    if name in ("BP_ABI_VERSION", "BP_ONNX_LOSS_AUTO"):
        return "single values"
    if name.startswith("BP_REDUCE_"):
        return "reductions"
    if name == "BP_OK" or name.startswith("BP_ERROR_"):
        return "statuses"
    for prefix, family in (("BP_LOSS_", "losses"), ("BP_OPTIMIZER_", "optimizers"), ("BP_OPTION_", "options"),
                           ("BP_INIT_", "initializations"), ("BP_SCHEDULE_", "schedules"),
                           ("BP_C_SOURCE_", "c source options")):
        if name.startswith(prefix):
            return family
    return "activations"


def python_table(family: str) -> dict:
    """A _codes table under the header's names: ACTIVATIONS' "leaky_relu" is BP_LEAKY_RELU,
    LOSSES' "mse" BP_LOSS_MSE...; the status values and BP_ABI_VERSION are module
    constants of _codes under their header names."""
    tables = {
        "activations": ("BP_", _codes.ACTIVATIONS),
        "losses": ("BP_LOSS_", _codes.LOSSES),
        "optimizers": ("BP_OPTIMIZER_", _codes.OPTIMIZERS),
        "options": ("BP_OPTION_", _codes.OPTIONS),
        "initializations": ("BP_INIT_", _codes.INITIALIZATIONS),
        "schedules": ("BP_SCHEDULE_", _codes.SCHEDULES),
        "c source options": ("BP_C_SOURCE_", _codes.C_SOURCE_OPTIONS),
    }
    if family in tables:
        prefix, table = tables[family]
        return {prefix + name.upper(): code for name, code in table.items()}
    if family == "reductions":
        return {k: v for k, v in vars(_codes).items() if k.startswith("BP_REDUCE_")}
    if family == "statuses":
        return {k: v for k, v in vars(_codes).items() if k == "BP_OK" or k.startswith("BP_ERROR_")}
    assert family == "single values"
    return {"BP_ABI_VERSION": _codes.BP_ABI_VERSION, "BP_ONNX_LOSS_AUTO": _codes.BP_ONNX_LOSS_AUTO}


def differences(header: dict, python: dict, where: str) -> list:
    problems = [f"{k} = {header[k]} is in backprop.h but not in {where}" for k in header if k not in python]
    problems += [f"{k} = {python[k]} is in {where} but not in backprop.h" for k in python if k not in header]
    problems += [f"{k} is {python[k]} in {where} but {header[k]} in backprop.h"
                 for k in header if k in python and header[k] != python[k]]
    return problems


FAMILIES = {
    "activations": "_codes.ACTIVATIONS",
    "losses": "_codes.LOSSES",
    "optimizers": "_codes.OPTIMIZERS",
    "options": "_codes.OPTIONS",
    "initializations": "_codes.INITIALIZATIONS",
    "schedules": "_codes.SCHEDULES",
    "c source options": "_codes.C_SOURCE_OPTIONS",
    "statuses": "_codes' BP_OK / BP_ERROR_* constants",
    "reductions": "_codes' BP_REDUCE_* constants",
    "single values": "_codes.BP_ABI_VERSION / BP_ONNX_LOSS_AUTO",
}


def test_the_header_parser_reads_literals_and_expressions():
    constants = header_constants()
    assert constants["BP_SIGMOID"] == 0 and constants["BP_LOSS_CROSS_ENTROPY"] == 1
    assert constants["BP_MAX_LAYER_SIZE"] == 1 << 24  # (1u << 24)
    assert constants["BP_ERROR_CORRUPT_MODEL"] == 17
    assert "BP_VERSION_STRING" not in constants  # a string, not a code
    assert c_integer_expression("(0x10u | 010)") == 24
    with pytest.raises(ValueError):
        c_integer_expression("(BP_SIGMOID + 1)")


@pytest.mark.parametrize("family", FAMILIES)
def test_codes_match_the_header(family):
    header = {k: v for k, v in header_constants().items() if family_of(k) == family}
    assert header, f"backprop.h has no {family} constants; has the header changed its naming?"
    problems = differences(header, python_table(family), FAMILIES[family])
    assert not problems, "backprop/_codes.py and include/backprop.h disagree:\n  " + "\n  ".join(problems)


def test_every_header_constant_is_accounted_for():
    """Every constant is in one of the families above or deliberately not mirrored; and
    nothing in NOT_MIRRORED has disappeared from the header."""
    constants = header_constants()
    assert NOT_MIRRORED <= set(constants), f"no longer in backprop.h: {sorted(NOT_MIRRORED - set(constants))}"
    mirrored = {k for k in constants if family_of(k) != "not mirrored"}
    python = set().union(*(python_table(family) for family in FAMILIES))
    assert mirrored == python, (
        f"only in backprop.h: {sorted(mirrored - python)}; only in backprop/_codes.py: {sorted(python - mirrored)}"
    )


def test_the_recommended_initialization_is_the_headers():
    aliases = dict(DEFINE.findall(without_comments(header_text())))
    assert aliases["BP_INIT_RECOMMENDED"] == "BP_INIT_" + _codes.RECOMMENDED_INITIALIZATION.upper()
    assert backprop.RECOMMENDED_INITIALIZATION == _codes.RECOMMENDED_INITIALIZATION


def test_derived_tables():
    for table, names in ((_codes.ACTIVATIONS, _codes.ACTIVATION_NAMES), (_codes.LOSSES, _codes.LOSS_NAMES),
                         (_codes.OPTIMIZERS, _codes.OPTIMIZER_NAMES), (_codes.SCHEDULES, _codes.SCHEDULE_NAMES)):
        assert names == {code: name for name, code in table.items()} and len(names) == len(table)  # distinct codes
    # every error status has its exception class, and errors exports the _codes values
    statuses = python_table("statuses")
    for name, status in statuses.items():
        assert getattr(errors, name) == status
        if status:
            assert type(errors.error_for_status(status, "m")).STATUS == status, name
    assert backprop.ACTIVATIONS is _codes.ACTIVATIONS and backprop.LOSSES is _codes.LOSSES
    assert backprop.OPTIMIZERS is _codes.OPTIMIZERS and backprop.OPTIONS is _codes.OPTIONS
    assert backprop.ABI_VERSION == _codes.BP_ABI_VERSION


# ---------------------------------------------------------------- functions

# A prototype at the start of a line: an export macro if the header ever has one
# (BP_API), the result type (any identifier, possibly const, possibly a pointer:
# uint32_t, size_t, bp_status, const char *, void...), the name and the parameters.
PROTOTYPE = re.compile(
    r"^[ \t]*(?:[A-Z][A-Z0-9_]*\s+)?"
    r"(?P<restype>(?:const[ \t]+)?(?:(?:unsigned|signed|struct|enum)[ \t]+)?[a-z_][a-z0-9_]*(?:[ \t]+const)?"
    r"(?:[ \t]*\*+[ \t]*|[ \t]+))"
    r"(?P<name>bp_[a-z0-9_]+)[ \t]*\((?P<params>[^()]*)\)[ \t]*;",
    re.M,
)

# How the binding passes each C type (see _lib.py's docstring), as ctypes spells it.
SCALARS = {
    "size_t": "c_size_t",
    "int32_t": "c_int32",
    "uint32_t": "c_uint32",
    "uint64_t": "c_uint64",
    "int": "c_int",
    "float": "c_float",
    "double": "c_double",
    "bp_status": "c_int32",
    "bp_fit_options": "bp_fit_options",
    "bp_epoch_report": "bp_epoch_report",
    "bp_progress_callback": "bp_progress_callback",
    "bp_metrics": "bp_metrics",
}
# Pointers with a ctypes type of their own: strings, untyped buffers and the opaque handle.
POINTERS = {"char": "c_char_p", "void": "c_void_p", "bp_network": "c_void_p"}
CTYPES = {
    "c_size_t": c_size_t, "c_int32": c_int32, "c_uint32": c_uint32, "c_uint64": c_uint64, "c_int": c_int,
    "c_float": c_float, "c_double": c_double, "c_char_p": c_char_p, "c_void_p": c_void_p,
    "bp_fit_options": _lib.bp_fit_options, "bp_epoch_report": _lib.bp_epoch_report,
    "bp_progress_callback": _lib.bp_progress_callback, "bp_metrics": _lib.bp_metrics,
}


def header_prototypes() -> dict:
    """name -> (result type, [parameter types]) of every function of the header, as C text."""
    code = without_comments(header_text())
    prototypes = {}
    for match in PROTOTYPE.finditer(code):
        params = " ".join(match["params"].split())
        types = [] if params in ("", "void") else [
            re.sub(r"\s*\b[a-z_][a-z0-9_]*$", "", p.strip()) for p in params.split(",")  # without the name
        ]
        prototypes[match["name"]] = (match["restype"].strip(), types)
    return prototypes


def ctypes_spelling(c_type: str) -> str:
    """How the binding must declare a C type: "const float *" is "POINTER(c_float)"."""
    words = c_type.replace("*", " * ").split()
    stars = words.count("*")
    base = [w for w in words if w not in ("*", "const", "struct", "enum")]
    assert len(base) == 1, f"cannot read the C type {c_type!r}"
    base = base[0]
    if base == "void" and not stars:
        return "None"
    if stars and base in POINTERS:
        spelling, stars = POINTERS[base], stars - 1
    else:
        assert base in SCALARS, f"backprop.h uses the type {c_type!r}; add its ctypes type to this test's SCALARS"
        spelling = SCALARS[base]
    for _ in range(stars):
        spelling = f"POINTER({spelling})"
    return spelling


def ctypes_type(spelling: str):
    """The ctypes type a spelling of ctypes_spelling() stands for (None for "None")."""
    if spelling == "None":
        return None
    if spelling.startswith("POINTER("):
        return POINTER(ctypes_type(spelling[len("POINTER(") : -1]))
    return CTYPES[spelling]


def spelled(t) -> str:
    """A declared ctypes type, spelled for a message (c_int32 is c_int, c_uint64 c_ulong...)."""
    if t is None:
        return "None"
    if t.__name__.startswith("LP_"):
        return f"POINTER({spelled(t._type_)})"
    names = [name for name, known in CTYPES.items() if known is t]
    return "|".join(names) if names else t.__name__


def test_the_prototype_pattern_finds_every_function():
    """Every ``bp_name(`` of the header's code (comments aside) is a prototype the pattern
    reads, whatever its result type (the function-pointer typedef is ``(*name)(``)."""
    code = without_comments(header_text())
    called = set(re.findall(r"\b(bp_[a-z0-9_]+)\s*\((?!\s*\*)", code))  # not "bp_status (*hook)("
    prototypes = header_prototypes()
    assert called == set(prototypes), f"not read as prototypes: {sorted(called - set(prototypes))}"
    results = {restype for restype, _ in prototypes.values()}
    assert {"uint32_t", "const char *", "bp_status", "void", "size_t", "int32_t"} <= results
    assert len(prototypes) >= 30


def test_the_prototype_pattern_reads_other_declaration_forms():
    """Forms the header does not use today: an export macro, pointer and struct results."""
    code = without_comments(
        "BP_API const char *bp_a(void);\n"
        "BP_API\nbp_status bp_b(bp_network *net, const float *x, /* n */ size_t n);\n"
        "bp_network * bp_c(const bp_network *net);\n"
        "struct bp_epoch_report *bp_d(void);\n"
        "typedef int (*bp_e)(void *user_data);\n"
    )
    found = {m["name"]: " ".join(m["restype"].split()) for m in PROTOTYPE.finditer(code)}
    assert found == {
        "bp_a": "const char *", "bp_b": "bp_status", "bp_c": "bp_network *", "bp_d": "struct bp_epoch_report *",
    }
    assert ctypes_spelling("const char *") == "c_char_p" and ctypes_spelling("bp_network **") == "POINTER(c_void_p)"
    assert ctypes_spelling("const float *") == "POINTER(c_float)" and ctypes_spelling("void") == "None"


def test_every_header_function_is_declared():
    """Each function is in _lib.PROTOTYPES, and its ctypes function has the argtypes and
    restype of the header's prototype; PROTOTYPES has nothing else."""
    prototypes = header_prototypes()
    problems = []
    for name, (restype, params) in prototypes.items():
        res, args = ctypes_spelling(restype), [ctypes_spelling(p) for p in params]
        wanted = f"({res}, [{', '.join(args)}])"
        prototype = f"{restype} {name}({', '.join(params) or 'void'})"
        if name not in _lib.PROTOTYPES:
            problems.append(f"{name}() is not declared in _lib.PROTOTYPES: add \"{name}\": {wanted},  # {prototype}")
            continue
        fn = getattr(_lib.lib, name)
        declared = fn.argtypes is not None and list(fn.argtypes) == [ctypes_type(a) for a in args]
        if not declared or fn.restype is not ctypes_type(res):
            got = f"({spelled(fn.restype)}, [{', '.join(spelled(t) for t in fn.argtypes or ())}])"
            problems.append(f"{name}() is declared as {got}, expected {wanted} for {prototype}")
    problems += [f"_lib.PROTOTYPES declares {name}(), which backprop.h does not have"
                 for name in _lib.PROTOTYPES if name not in prototypes]
    assert not problems, "backprop/_lib.py and include/backprop.h disagree:\n  " + "\n  ".join(problems)


CONFORMANCE = HEADER.parent.parent / "Sources" / "ABIConformance" / "HeaderConformance.swift"


def test_every_header_function_is_type_checked_against_its_implementation():
    """Sources/ABIConformance compares each prototype with its @_cdecl function at compile
    time, but only for the functions it lists: it must list every function of the header."""
    listed = set(re.findall(r"same\(CBackpropABI\.(bp_\w+), CBackprop\.\1\)", CONFORMANCE.read_text()))
    prototypes = set(header_prototypes())
    assert listed == prototypes, (
        f"missing from HeaderConformance.swift: {sorted(prototypes - listed)}; not in the header: {sorted(listed - prototypes)}")
