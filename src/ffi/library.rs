//! Library-wide entry points: init, versions, errors, helpers.

use libc::c_char;

use super::{bytes_arg, bytes_out, guard, guard_int};
use crate::backend;
use crate::error::{self, Code};

/// The ABI major version; it is also the SONAME suffix (libmojo_tls.so.0).
pub const MOJO_TLS_ABI_VERSION: i32 = 0;

/// Initialise the library. Optional: every entry point does it implicitly.
/// Idempotent and thread-safe. Returns 0.
#[no_mangle]
pub extern "C" fn mojo_tls_init() -> i32 {
    guard_int(|| Ok(0))
}

/// The library version, e.g. "0.1.0". Static string.
#[no_mangle]
pub extern "C" fn mojo_tls_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// The backend, e.g. "Mbed TLS 3.6.5 (bundled, ECC by AWS-LC)". Static string.
#[no_mangle]
pub extern "C" fn mojo_tls_backend() -> *const c_char {
    guard(c"unknown".as_ptr(), || {
        Ok(backend::backend_description().as_ptr() as *const c_char)
    })
}

/// The ABI major version of the loaded library (MOJO_TLS_ABI_VERSION of the
/// header it was built with).
#[no_mangle]
pub extern "C" fn mojo_tls_abi_version() -> i32 {
    MOJO_TLS_ABI_VERSION
}

/// The code (a mojo_tls_err value) of the last failure on this thread, 0 if none.
#[no_mangle]
pub extern "C" fn mojo_tls_last_error_code() -> i32 {
    error::last_error_code()
}

/// The message of the last failure on this thread (with the Mbed TLS code and
/// text, and for certificate failures the verification reason), written to
/// `buf` NUL-terminated and truncated to `cap`. Returns the full length
/// without the NUL (snprintf style); `buf` may be NULL when `cap` is 0.
/// Returns 0 and writes "" when there was no failure.
#[no_mangle]
pub extern "C" fn mojo_tls_last_error(buf: *mut c_char, cap: usize) -> usize {
    let text = error::last_error_text();
    if !buf.is_null() && cap > 0 {
        let n = text.len().min(cap - 1);
        // SAFETY: the caller provides cap writable bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf as *mut u8, n);
            *buf.add(n) = 0;
        }
    }
    text.len()
}

/// Forget the last error of this thread.
#[no_mangle]
pub extern "C" fn mojo_tls_clear_error() {
    error::clear_last_error()
}

/// A static description of an error code; never NULL ("unknown error code"
/// for values outside mojo_tls_err).
#[no_mangle]
pub extern "C" fn mojo_tls_strerror(code: i32) -> *const c_char {
    match Code::from_i32(code) {
        Some(c) => c.text().as_ptr() as *const c_char,
        None => c"unknown error code".as_ptr(),
    }
}

/// Fill `buf` with `len` cryptographically secure random bytes (CTR_DRBG;
/// PSA's RNG on Mbed TLS 4.x; reseeded after fork either way). Returns 0
/// or a negative error.
#[no_mangle]
pub extern "C" fn mojo_tls_random(buf: *mut u8, len: usize) -> i32 {
    guard_int(|| {
        let out = bytes_out(buf, len, "buf")?;
        backend::rng::random(out)?;
        Ok(0)
    })
}

/// SHA-256 of `input_len` bytes at `input` into the 32 bytes at `output`.
/// Returns 0 or a negative error.
#[no_mangle]
pub extern "C" fn mojo_tls_sha256(input: *const u8, input_len: usize, output: *mut u8) -> i32 {
    guard_int(|| {
        let data = bytes_arg(input, input_len, "input")?;
        let out = bytes_out(output, 32, "output")?;
        out.copy_from_slice(&backend::hash::sha256(data));
        Ok(0)
    })
}
