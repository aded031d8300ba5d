//! Session resumption: server ticket keys and session cache, client session
//! blobs.

use super::errors::mbed_error;
use super::rng::Drbg;
use super::sys;
use crate::error::{Code, Error, Result};

/// Server ticket keys (AES-256-GCM); Mbed TLS rotates them every `lifetime`.
pub struct TicketKeys {
    ctx: Box<sys::ssl_ticket_context>,
    _drbg: Box<Drbg>,
}

// SAFETY: the ticket context locks internally (MBEDTLS_THREADING_C).
unsafe impl Send for TicketKeys {}
// SAFETY: as for Send, above.
unsafe impl Sync for TicketKeys {}

impl TicketKeys {
    pub fn new(lifetime_s: u32) -> Result<TicketKeys> {
        let drbg = Box::new(Drbg::new()?);
        // SAFETY: zeroed memory is valid input to ssl_ticket_init; the DRBG
        // is owned alongside the context.
        unsafe {
            let mut ctx: Box<sys::ssl_ticket_context> = Box::new(std::mem::zeroed());
            sys::ssl_ticket_init(&mut *ctx);
            let ret = super::generation::ticket_setup(
                &mut *ctx,
                Some(Drbg::callback),
                drbg.as_ptr(),
                lifetime_s,
            );
            if ret != 0 {
                sys::ssl_ticket_free(&mut *ctx);
                return Err(mbed_error(
                    ret,
                    Code::MOJO_TLS_ERR_INTERNAL,
                    "session ticket setup",
                ));
            }
            Ok(TicketKeys { ctx, _drbg: drbg })
        }
    }

    pub(crate) fn install(&self, conf: *mut sys::ssl_config) {
        // SAFETY: conf is being built; self outlives it (owned by SslConfig).
        unsafe {
            sys::ssl_conf_session_tickets_cb(
                conf,
                Some(sys::ssl_ticket_write),
                Some(ticket_parse),
                &*self.ctx as *const _ as *mut libc::c_void,
            );
        }
    }
}

impl Drop for TicketKeys {
    fn drop(&mut self) {
        // SAFETY: initialised; freed once.
        unsafe { sys::ssl_ticket_free(&mut *self.ctx) };
    }
}

/// Server session-id cache.
pub struct SessionCache {
    ctx: Box<sys::ssl_cache_context>,
}

// SAFETY: the cache locks internally (MBEDTLS_THREADING_C).
unsafe impl Send for SessionCache {}
// SAFETY: as for Send, above.
unsafe impl Sync for SessionCache {}

impl SessionCache {
    pub fn new(max_entries: i32, timeout_s: i32) -> SessionCache {
        // SAFETY: zeroed memory is valid input to ssl_cache_init.
        unsafe {
            let mut ctx: Box<sys::ssl_cache_context> = Box::new(std::mem::zeroed());
            sys::ssl_cache_init(&mut *ctx);
            sys::ssl_cache_set_max_entries(&mut *ctx, max_entries);
            sys::ssl_cache_set_timeout(&mut *ctx, timeout_s);
            SessionCache { ctx }
        }
    }

    pub(crate) fn install(&self, conf: *mut sys::ssl_config) {
        // SAFETY: as for TicketKeys::install.
        unsafe {
            sys::ssl_conf_session_cache(
                conf,
                &*self.ctx as *const _ as *mut libc::c_void,
                Some(cache_get),
                Some(sys::ssl_cache_set),
            );
        }
    }
}

impl Drop for SessionCache {
    fn drop(&mut self) {
        // SAFETY: initialised; freed once.
        unsafe { sys::ssl_cache_free(&mut *self.ctx) };
    }
}

/// An owned `mbedtls_ssl_session`.
pub(crate) struct SavedSession {
    pub(crate) s: Box<sys::ssl_session>,
}

impl SavedSession {
    pub(crate) fn new() -> SavedSession {
        // SAFETY: zeroed memory is valid input to ssl_session_init.
        unsafe {
            let mut s: Box<sys::ssl_session> = Box::new(std::mem::zeroed());
            sys::ssl_session_init(&mut *s);
            SavedSession { s }
        }
    }

    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut len = 0usize;
        // SAFETY: size query with a NULL buffer, then the real call.
        unsafe {
            let ret = sys::ssl_session_save(&*self.s, std::ptr::null_mut(), 0, &mut len);
            if ret != 0 && ret != sys::ERR_SSL_BUFFER_TOO_SMALL {
                return Err(mbed_error(
                    ret,
                    Code::MOJO_TLS_ERR_INTERNAL,
                    "saving the session",
                ));
            }
            let mut buf = vec![0u8; len];
            let ret = sys::ssl_session_save(&*self.s, buf.as_mut_ptr(), buf.len(), &mut len);
            if ret != 0 {
                return Err(mbed_error(
                    ret,
                    Code::MOJO_TLS_ERR_INTERNAL,
                    "saving the session",
                ));
            }
            buf.truncate(len);
            Ok(buf)
        }
    }

    pub(crate) fn from_bytes(blob: &[u8]) -> Result<SavedSession> {
        if blob.is_empty() {
            return Err(Error::new(Code::MOJO_TLS_ERR_PARSE, "empty session data"));
        }
        let s = SavedSession::new();
        // SAFETY: blob valid for its length.
        let ret = unsafe {
            sys::ssl_session_load(&*s.s as *const _ as *mut _, blob.as_ptr(), blob.len())
        };
        if ret != 0 {
            return Err(mbed_error(
                ret,
                Code::MOJO_TLS_ERR_PARSE,
                "invalid or corrupted session data",
            ));
        }
        Ok(s)
    }
}

impl Drop for SavedSession {
    fn drop(&mut self) {
        // SAFETY: initialised; freed once (zeroizes the master secret).
        unsafe { sys::ssl_session_free(&mut *self.s) };
    }
}

// Which server handshake resumed: Mbed TLS keeps the handshake state
// opaque, so the ticket and cache look-ups mark the thread that runs
// the handshake step (our Session::handshake), which reads the mark.
thread_local! {
    static SERVER_RESUMED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

pub(crate) fn clear_server_resumption_mark() {
    SERVER_RESUMED.with(|m| m.set(false));
}

pub(crate) fn server_resumption_marked() -> bool {
    SERVER_RESUMED.with(|m| m.get())
}

pub(super) fn mark_if_ok(ret: i32) -> i32 {
    if ret == 0 {
        SERVER_RESUMED.with(|m| m.set(true));
    }
    ret
}

/// # Safety
/// Called by Mbed TLS only, with the context pointer registered alongside the
/// callback and every other pointer valid for the length it passes.
unsafe extern "C" fn ticket_parse(
    p: *mut libc::c_void,
    session: *mut sys::ssl_session,
    buf: *mut u8,
    len: usize,
) -> i32 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe { mark_if_ok(sys::ssl_ticket_parse(p, session, buf, len)) }
}

/// # Safety
/// Called by Mbed TLS only, with the context pointer registered alongside the
/// callback and every other pointer valid for the length it passes.
unsafe extern "C" fn cache_get(
    data: *mut libc::c_void,
    id: *const u8,
    id_len: usize,
    session: *mut sys::ssl_session,
) -> i32 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe { mark_if_ok(sys::ssl_cache_get(data, id, id_len, session)) }
}
