//! The application's server name callback (servers). Mbed TLS's
//! certificate-selection hook (`ssl_conf_cert_cb`) runs after every
//! ClientHello, with or without SNI, after the SNI table chose its
//! certificate; it calls the application once per handshake. Inside that
//! call the handshake may switch to another configuration's certificates
//! (`SslConfig::adopt_in_handshake`), through the thread-local below.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::callbacks::SessionHook;
use crate::backend::errors::alert_name;
use crate::backend::generation;
use crate::backend::sys;
use crate::error::{Error, Result};

/// internal_error: a callback that panicked or returned nonsense.
const ALERT_INTERNAL_ERROR: u8 = 80;

thread_local! {
    /// The handshake whose server name callback runs on this thread (the
    /// innermost one, should a callback drive another handshake).
    static ACTIVE: Cell<*mut sys::ssl_context> = const { Cell::new(std::ptr::null_mut()) };
}

/// Restores the previous ACTIVE value, also on unwinding.
struct Restore(*mut sys::ssl_context);

impl Drop for Restore {
    fn drop(&mut self) {
        ACTIVE.with(|a| a.set(self.0));
    }
}

/// Mbed TLS's certificate-selection callback: run the application's
/// callback (once per handshake) and turn its answer into go on / abort.
///
/// # Safety
/// Called by Mbed TLS only, during a handshake step of `ssl`, whose user
/// pointer is its session's `SessionHook`.
pub(super) unsafe extern "C" fn cert_cb(ssl: *mut sys::ssl_context) -> i32 {
    if ssl.is_null() {
        return 0;
    }
    // SAFETY: the session user pointer is the hook (set in Session::new),
    // alive as long as the session.
    let hook = unsafe { generation::session_user_ptr(ssl) as *const SessionHook };
    if hook.is_null() {
        return 0;
    }
    // SAFETY: see above; only shared references to the hook exist.
    let hook = unsafe { &*hook };
    let Some(cb) = hook.server_name_cb.clone() else {
        return 0;
    };
    if hook.server_name_cb_done.replace(true) {
        return 0;
    }
    let mut len = 0usize;
    // SAFETY: valid inside this callback; the name lives in the handshake's
    // ClientHello buffer until the callback returns.
    let name = unsafe {
        let p = sys::ssl_get_hs_sni(ssl, &mut len);
        (!p.is_null()).then(|| String::from_utf8_lossy(std::slice::from_raw_parts(p, len)))
    }
    .map(|n| n.into_owned());
    if let Some(n) = &name {
        *hook.server_name.borrow_mut() = Some(n.clone());
    }
    let previous = ACTIVE.with(|a| a.replace(ssl));
    let ret = {
        let _restore = Restore(previous);
        catch_unwind(AssertUnwindSafe(|| cb(hook.tag, name.as_deref())))
    };
    let refusal = match ret {
        Ok(0) => return 0,
        Ok(alert @ 1..=255) => (
            alert as u8,
            format!(
                "the server name callback refused the handshake (alert {alert}: {})",
                alert_name(alert as u8)
            ),
        ),
        Ok(other) => (
            ALERT_INTERNAL_ERROR,
            format!(
                "the server name callback returned {other} (neither 0 nor an alert 1..255): \
                 handshake aborted"
            ),
        ),
        Err(_) => (
            ALERT_INTERNAL_ERROR,
            "the server name callback panicked: handshake aborted".to_string(),
        ),
    };
    *hook.refused.borrow_mut() = Some(refusal);
    sys::ERR_SSL_HANDSHAKE_FAILURE
}

/// Inside the server name callback of a handshake on this thread: run `f`
/// on it. Elsewhere MOJO_TLS_ERR_BAD_STATE.
pub(super) fn with_active<R>(
    f: impl FnOnce(*mut sys::ssl_context, &SessionHook) -> Result<R>,
) -> Result<R> {
    let ssl = ACTIVE.with(Cell::get);
    if ssl.is_null() {
        return Err(Error::bad_state(
            "a connection can switch configurations only inside its server name callback",
        ));
    }
    // SAFETY: ACTIVE is set only while cert_cb runs on this thread, for a
    // live session whose user pointer is its hook.
    let hook = unsafe { &*(generation::session_user_ptr(ssl) as *const SessionHook) };
    f(ssl, hook)
}
