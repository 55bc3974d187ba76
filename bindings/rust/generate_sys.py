"""Writes src/sys.rs, the raw extern "C" declarations and constants of include/backprop.h,
from the header itself: run it after the header changes (bindings/tests/test_drift.py
fails until then). Structs are written by hand in src/sys_types.rs.

    python3 bindings/rust/generate_sys.py
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TYPES = {
    "void": "()", "size_t": "usize", "int32_t": "i32", "uint32_t": "u32", "uint64_t": "u64", "float": "f32",
    "double": "f64", "bp_status": "i32", "char": "c_char", "bp_network": "bp_network", "bp_fit_options": "bp_fit_options",
    "bp_epoch_report": "bp_epoch_report", "bp_metrics": "bp_metrics", "int": "c_int",
}


def rust_type(c):
    c = c.strip()
    stars = c.count("*")
    base = c.replace("*", " ").replace("const", " ").split()
    base = "c_void" if base == ["void"] and stars else TYPES[base[0]]
    if stars == 0:
        return base
    const = c.startswith("const")
    pointer = ("*const " if const else "*mut ") + base
    for _ in range(stars - 1):
        pointer = "*mut " + pointer
    return pointer


def parameters(text):
    if text.strip() == "void":
        return ""
    out = []
    for part in text.split(","):
        part = part.strip()
        name = re.findall(r"(\w+)\s*$", part)[0]
        out.append(f"{'r#' + name if name in ('in', 'type') else name}: {rust_type(part[: -len(name)])}")
    return ", ".join(out)


def constant_type(name):
    if name.startswith("BP_C_SOURCE_") or name in ("BP_ABI_VERSION", "BP_VERSION_MAJOR", "BP_VERSION_MINOR", "BP_VERSION_PATCH"):
        return "u32"
    if name.startswith("BP_MAX_"):
        return "usize"
    return "i32"


def main():
    header = re.sub(r"/\*.*?\*/", "", (ROOT / "include/backprop.h").read_text(), flags=re.S)
    lines = ["// Generated from include/backprop.h by bindings/rust/generate_sys.py: do not edit.",
             "#![allow(non_camel_case_types, dead_code, unused_parens)]", "",
             "use std::os::raw::{c_char, c_void};", "", "pub use crate::sys_types::*;", ""]
    for name, value in re.findall(r"^#define\s+(BP_[A-Z0-9_]+)\s+(.+?)\s*$", header, re.M):
        if name == "BP_VERSION_STRING":
            lines.append(f"pub const {name}: &str = {value};")
            continue
        value = value.replace("1u <<", "1 <<")
        lines.append(f"pub const {name}: {constant_type(name)} = {value};")
    lines += ["", "extern \"C\" {"]
    for result, name, args in re.findall(r"^([a-z_0-9 ]+?\s*\**)\s*(bp_\w+)\(([^;]*)\);", header, re.M):
        args = " ".join(args.split())
        ret = rust_type(result)
        lines.append(f"    pub fn {name}({parameters(args)})" + ("" if ret == "()" else f" -> {ret}") + ";")
    lines += ["}", ""]
    (Path(__file__).parent / "src" / "sys.rs").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
