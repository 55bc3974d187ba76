//! The binding's error type, and turning the library's statuses into it.

use std::ffi::{CStr, CString};
use std::fmt;

use crate::sys::*;

/// A failed call: the `bp_status` and the library's message (`bp_last_error()`, read on
/// the calling thread right after the call).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub status: i32,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (status {})", self.message, self.status)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn text(pointer: *const std::os::raw::c_char) -> String {
    if pointer.is_null() {
        return String::new();
    }
    // SAFETY: the library returns NUL-terminated strings that live at least until the next call on this thread.
    unsafe { CStr::from_ptr(pointer) }.to_string_lossy().into_owned()
}

/// `Ok` for BP_OK, else the error with the thread's last message.
pub(crate) fn check(status: i32) -> Result<()> {
    if status == BP_OK {
        return Ok(());
    }
    // SAFETY: plain calls without arguments.
    let mut message = text(unsafe { bp_last_error() });
    if message.is_empty() {
        message = text(unsafe { bp_status_string(status) });
    }
    Err(Error { status, message })
}

pub(crate) fn mismatch(what: &str, got: usize, want: &str) -> Error {
    Error { status: BP_ERROR_SIZE_MISMATCH, message: format!("{} holds {} floats; expected {}", what, got, want) }
}

pub(crate) fn expect_len(what: &str, got: usize, want: usize) -> Result<()> {
    if got == want { Ok(()) } else { Err(mismatch(what, got, &want.to_string())) }
}

pub(crate) fn path(value: &str) -> Result<CString> {
    CString::new(value).map_err(|_| Error { status: BP_ERROR_INVALID_ARGUMENT, message: format!("path {:?} holds a NUL byte", value) })
}
