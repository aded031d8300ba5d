//! Test hooks, compiled only with the cargo feature `test-hooks` (off by
//! default, so the shipped library and the committed header never have
//! them; the module is also hidden from cbindgen). They force a panic inside
//! an exported function so the reliability suite (tests/reliability,
//! panic_hook.sh) can prove that the panic boundary turns it into
//! MOJO_TLS_ERR_INTERNAL with a last error that says "panic", and that the
//! host process, the thread and the handles involved keep working.
//!
//! cbindgen:ignore

use std::sync::Arc;

use libc::{c_void, intptr_t};

use super::conn::mojo_tls_conn;
use super::{guard, guard_handle, guard_int, guard_len, handle};
use crate::conn::Conn;
use crate::error::Result;

/// The payload kinds of a forced panic.
fn forced_panic(kind: i32) -> ! {
    match kind {
        // a `&'static str` payload (panic!("literal"))
        0 => panic!("forced by mojo_tls_debug_panic (kind 0)"),
        // a `String` payload (panic!("{}", ...))
        1 => panic!("forced by mojo_tls_debug_panic (kind {kind})"),
        // a payload that is neither &str nor String
        2 => std::panic::panic_any(0x5eed_u64),
        // a bug-shaped panic: index out of bounds
        3 => {
            let v: Vec<u8> = Vec::new();
            let i = std::hint::black_box(7usize);
            let _ = v[i];
            unreachable!()
        }
        // unwrap on None
        _ => {
            let none: Option<u8> = std::hint::black_box(None);
            none.unwrap();
            unreachable!()
        }
    }
}

/// Test hook: panic inside an int-returning entry point (`kind` 0..=4 picks
/// the payload); `kind` < 0 returns 0 without panicking (a control).
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn mojo_tls_debug_panic(kind: i32) -> i32 {
    guard_int(|| -> Result<i32> {
        if kind < 0 {
            return Ok(0);
        }
        forced_panic(kind)
    })
}

/// Test hook: panic inside a byte-count-returning entry point.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn mojo_tls_debug_panic_len(kind: i32) -> intptr_t {
    guard_len(|| -> Result<usize> {
        if kind < 0 {
            return Ok(1);
        }
        forced_panic(kind)
    })
}

/// Test hook: panic inside a constructor (returns NULL on the panic).
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn mojo_tls_debug_panic_handle(kind: i32) -> *mut c_void {
    guard_handle::<u8, c_void>(|| -> Result<u8> { forced_panic(kind) })
}

/// Test hook: panic inside a pointer-returning entry point (returns NULL).
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn mojo_tls_debug_panic_ptr(kind: i32) -> *const c_void {
    guard(std::ptr::null(), || -> Result<*const c_void> {
        forced_panic(kind)
    })
}

/// Test hook: look up the live connection `c`, touch its state, then panic
/// while holding it, so the test can check the handle survives the unwind
/// (still valid, still usable, freed once). An invalid `c` gives
/// MOJO_TLS_ERR_INVALID_HANDLE without panicking.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn mojo_tls_debug_panic_conn(c: *mut mojo_tls_conn, kind: i32) -> i32 {
    guard_int(|| -> Result<i32> {
        let conn: Arc<Conn> = handle::<Conn, _>(c, "connection")?;
        let _ = conn.pending();
        let _ = conn.pending_output();
        forced_panic(kind)
    })
}
