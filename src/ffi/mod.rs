//! `extern "C"` glue: argument checks, the panic boundary and error mapping.
//! No TLS logic lives here.
//!
//! The modules are declared in the order of the header's sections (cbindgen
//! follows it): library → config → connection → peer info → utilities
//! (random, SHA-256; then digests, HMAC, HKDF).
//! `compat` (the original shim's `void*` API) goes to its own header,
//! `include/mojo_tls_compat.h` (tools/headergen).
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
// C entry points take raw pointers by contract (documented in the header);
// marking them `unsafe fn` would change nothing for C callers.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::cell::Cell;
use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use libc::{c_char, size_t};

use crate::error::{set_last_error, Code, Error, Result};
use crate::registry;

// The header's sections, in order (blank lines keep rustfmt from sorting them).
pub mod library;

pub mod config;

pub mod server_name;

pub mod conn;
pub mod dtls;
pub mod dtls_cid;
pub mod dtls_listener;

pub mod peer;

pub mod util;

pub mod crypto;

pub mod certgen;

pub mod socket;

/// cbindgen:ignore
pub mod compat;

/// cbindgen:ignore
#[cfg(feature = "test-hooks")]
pub mod debug;

/// Run `f` inside the panic boundary: a panic becomes MOJO_TLS_ERR_INTERNAL,
/// an error is recorded as the thread's last error. Every entry point
/// initialises the library first.
pub(crate) fn guard<T>(fail: T, f: impl FnOnce() -> Result<T>) -> T {
    match catch_unwind(AssertUnwindSafe(|| {
        crate::backend::ensure_init();
        f()
    })) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            set_last_error(e);
            fail
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(Error::new(
                Code::MOJO_TLS_ERR_INTERNAL,
                format!("panic inside mojo-tls: {what}"),
            ));
            fail
        }
    }
}

/// For functions returning an int status: error → its (negative) code.
pub(crate) fn guard_int(f: impl FnOnce() -> Result<i32>) -> i32 {
    let mut code = Code::MOJO_TLS_ERR_INTERNAL as i32;
    let r = guard(None, || f().map(Some).inspect_err(|e| code = e.code as i32));
    r.unwrap_or(code)
}

/// For functions returning a byte count.
pub(crate) fn guard_len(f: impl FnOnce() -> Result<usize>) -> isize {
    let mut code = Code::MOJO_TLS_ERR_INTERNAL as isize;
    let r = guard(None, || {
        f().map(Some).inspect_err(|e| code = e.code as isize)
    });
    r.map(|n| n.min(isize::MAX as usize) as isize)
        .unwrap_or(code)
}

/// For constructors: NULL on failure.
pub(crate) fn guard_handle<T: Send + Sync + 'static, H>(f: impl FnOnce() -> Result<T>) -> *mut H {
    guard(std::ptr::null_mut(), || {
        Ok(registry::insert(Arc::new(f()?)) as *mut H)
    })
}

thread_local! {
    /// The connection whose server name callback runs on this thread (0:
    /// none). Its handshake holds it, so calls on it there are refused
    /// (they would wait for themselves), except mojo_tls_conn_use_config.
    pub(crate) static IN_CALLBACK: Cell<usize> = const { Cell::new(0) };
}

/// BAD_STATE for the connection whose server name callback is running.
fn not_in_callback<H>(h: *const H) -> Result<()> {
    if !h.is_null() && IN_CALLBACK.with(Cell::get) == h as usize {
        return Err(Error::bad_state(
            "inside its server name callback, a connection accepts only \
             mojo_tls_conn_use_config",
        ));
    }
    Ok(())
}

/// Look up a live handle of type `T`.
pub(crate) fn handle<T: Send + Sync + 'static, H>(h: *const H, what: &str) -> Result<Arc<T>> {
    not_in_callback(h)?;
    registry::get::<T>(h as usize).ok_or_else(|| Error::invalid_handle(what))
}

/// For constructors of connections: registered under the handle value the
/// connection reserved (its server name callback already used it).
pub(crate) fn guard_conn<H>(f: impl FnOnce() -> Result<crate::conn::Conn>) -> *mut H {
    guard(std::ptr::null_mut(), || {
        let conn = f()?;
        Ok(registry::insert_reserved(conn.id(), Arc::new(conn)) as *mut H)
    })
}

/// Release a handle. NULL is accepted (like free(NULL)); a stale handle
/// reports INVALID_HANDLE and changes nothing.
pub(crate) fn release<T: Send + Sync + 'static, H>(
    h: *const H,
    what: &str,
) -> Result<Option<Arc<T>>> {
    if h.is_null() {
        return Ok(None);
    }
    not_in_callback(h)?;
    registry::remove::<T>(h as usize)
        .map(Some)
        .ok_or_else(|| Error::invalid_handle(what))
}

/// A required, UTF-8, NUL-terminated string argument.
pub(crate) fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::invalid_arg(format!("{what} is NULL")));
    }
    // SAFETY: the caller passes a NUL-terminated string (documented contract).
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| Error::invalid_arg(format!("{what} is not valid UTF-8")))
}

/// An optional string argument (NULL → None).
pub(crate) fn opt_str_arg<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        str_arg(p, what).map(Some)
    }
}

fn check_len(len: size_t, what: &str) -> Result<()> {
    if len > isize::MAX as usize {
        return Err(Error::invalid_arg(format!(
            "{what}: length {len} is too large"
        )));
    }
    Ok(())
}

/// An input buffer. `len == 0` gives an empty slice (any pointer).
pub(crate) fn bytes_arg<'a>(p: *const u8, len: size_t, what: &str) -> Result<&'a [u8]> {
    check_len(len, what)?;
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Error::invalid_arg(format!(
            "{what} is NULL but its length is {len}"
        )));
    }
    // SAFETY: the caller guarantees p points to len readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// An output buffer to fill.
pub(crate) fn bytes_out<'a>(p: *mut u8, len: size_t, what: &str) -> Result<&'a mut [u8]> {
    check_len(len, what)?;
    if len == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(Error::invalid_arg(format!(
            "{what} is NULL but its length is {len}"
        )));
    }
    // SAFETY: the caller guarantees p points to len writable bytes.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, len) })
}

/// snprintf-style binary output: copies what fits, returns the full length.
pub(crate) fn copy_out(data: &[u8], buf: *mut u8, cap: size_t) -> Result<usize> {
    let out = bytes_out(buf, cap, "output buffer")?;
    let n = data.len().min(out.len());
    out[..n].copy_from_slice(&data[..n]);
    Ok(data.len())
}

/// snprintf-style string output: NUL-terminated when cap > 0, returns the
/// full length without the NUL.
pub(crate) fn copy_out_str(s: &str, buf: *mut c_char, cap: size_t) -> Result<usize> {
    let out = bytes_out(buf as *mut u8, cap, "output buffer")?;
    if !out.is_empty() {
        let n = s.len().min(out.len() - 1);
        out[..n].copy_from_slice(&s.as_bytes()[..n]);
        out[n] = 0;
    }
    Ok(s.len())
}
