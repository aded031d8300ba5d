//! Library-wide entry points: init, versions, the thread's last error.

use libc::{c_char, intptr_t, size_t};

use super::{copy_out_str, guard, guard_int};
use crate::backend;
use crate::error::{self, Code};

/// The ABI major version; it is also the SONAME suffix (libmojo_tls.so.1).
pub const MOJO_TLS_ABI_VERSION: i32 = 1;

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
/// Returns 0 and writes "" when there was no failure. Never changes the
/// last error.
#[no_mangle]
pub extern "C" fn mojo_tls_last_error(buf: *mut c_char, cap: size_t) -> intptr_t {
    let text = error::last_error_text();
    if !buf.is_null() && cap > 0 {
        let n = text.len().min(cap - 1);
        // SAFETY: the caller provides cap writable bytes at buf; n < cap.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf as *mut u8, n);
            *buf.add(n) = 0;
        }
    }
    text.len().min(isize::MAX as usize) as intptr_t
}

/// When the last failure on this thread is a certificate verification
/// failure (MOJO_TLS_ERR_VERIFY_FAILED, also from a constructor that
/// returned NULL): its X.509 verification flags (Mbed TLS
/// MBEDTLS_X509_BADCERT_* bits, >= 0; 0 when the failure was not in the
/// flags, e.g. no pin matched). Otherwise MOJO_TLS_ERR_NOT_AVAILABLE.
/// Never changes the last error.
#[no_mangle]
pub extern "C" fn mojo_tls_last_error_verify_flags() -> i32 {
    match error::last_error_verify() {
        Some((flags, _)) => flags.map_or(0, |f| i32::try_from(f).unwrap_or(i32::MAX)),
        None => Code::MOJO_TLS_ERR_NOT_AVAILABLE as i32,
    }
}

/// When the last failure on this thread is a certificate verification
/// failure: its reason ("certificate has expired", "no certificate pin
/// matched the peer's certificate", ...) into `buf` (snprintf style),
/// returning the full length. Otherwise MOJO_TLS_ERR_NOT_AVAILABLE. Never
/// changes the last error.
#[no_mangle]
pub extern "C" fn mojo_tls_last_error_verify_reason(buf: *mut c_char, cap: size_t) -> intptr_t {
    match error::last_error_verify() {
        Some((_, reason)) => match copy_out_str(&reason, buf, cap) {
            Ok(n) => n.min(isize::MAX as usize) as intptr_t,
            Err(e) => e.code as intptr_t,
        },
        None => Code::MOJO_TLS_ERR_NOT_AVAILABLE as intptr_t,
    }
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
