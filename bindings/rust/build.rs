//! Finds libbackprop: $BACKPROP_LIB_DIR, else the C SDK's pkg-config file
//! (`pkg-config --libs-only-L backprop`), else the repository's release build
//! (../../.build/release). Links it and records an rpath, so tests and programs run
//! without LD_LIBRARY_PATH.
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn pkg_config_dir() -> Option<PathBuf> {
    let output = Command::new("pkg-config").args(["--libs-only-L", "backprop"]).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    text.split_whitespace().find_map(|flag| flag.strip_prefix("-L").map(PathBuf::from))
}

fn main() {
    println!("cargo:rerun-if-env-changed=BACKPROP_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    let repository = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../.build/release");
    let dir = env::var_os("BACKPROP_LIB_DIR")
        .map(PathBuf::from)
        .or_else(pkg_config_dir)
        .or_else(|| if repository.join("libbackprop.so").is_file() { Some(repository) } else { None })
        .unwrap_or_else(|| {
            panic!("libbackprop not found: set BACKPROP_LIB_DIR, install the C SDK (pkg-config backprop), or run `swift build -c release` in the repository")
        });
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=dylib=backprop");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    println!("cargo:lib_dir={}", dir.display());
}
