//! DTLS configuration: the datagram settings of an `ssl_config` and the
//! server's HelloVerifyRequest cookie key.

use crate::backend::errors::mbed_error;
use crate::backend::generation;
use crate::backend::rng::Drbg;
use crate::backend::sys;
use crate::error::{Code, Result};

/// A server's HelloVerifyRequest cookie key (HMAC under a random key with a
/// time stamp), set up once per built configuration.
pub(super) struct Cookies {
    ctx: Box<sys::ssl_cookie_ctx>,
}

// SAFETY: after setup the context is only read by Mbed TLS's cookie
// callbacks, which lock its mutex (threading is on in every build).
unsafe impl Send for Cookies {}
// SAFETY: as for Send.
unsafe impl Sync for Cookies {}

impl Cookies {
    pub(super) fn new(drbg: &Drbg) -> Result<Cookies> {
        // SAFETY: zeroed then initialised by ssl_cookie_init before use;
        // the DRBG outlives the call.
        unsafe {
            let mut ctx: Box<sys::ssl_cookie_ctx> = Box::new(std::mem::zeroed());
            sys::ssl_cookie_init(&mut *ctx);
            let ret = generation::cookie_setup(&mut *ctx, Some(Drbg::callback), drbg.as_ptr());
            if ret != 0 {
                sys::ssl_cookie_free(&mut *ctx);
                return Err(mbed_error(
                    ret,
                    Code::MOJO_TLS_ERR_INTERNAL,
                    "ssl_cookie_setup",
                ));
            }
            Ok(Cookies { ctx })
        }
    }

    /// Servers verify a returning client's address by cookie before they
    /// keep any state for it.
    ///
    /// # Safety
    /// `conf` is an initialised config that does not outlive `self`.
    pub(super) unsafe fn install(&self, conf: *mut sys::ssl_config) {
        // SAFETY: per the contract; the context lives in a Box owned by self.
        unsafe {
            sys::ssl_conf_dtls_cookies(
                conf,
                Some(sys::ssl_cookie_write),
                Some(sys::ssl_cookie_check),
                &*self.ctx as *const sys::ssl_cookie_ctx as *mut libc::c_void,
            );
        }
    }

    fn ctx(&self) -> *mut libc::c_void {
        &*self.ctx as *const sys::ssl_cookie_ctx as *mut libc::c_void
    }

    /// A cookie made by `write` for `peer_id`, still fresh.
    pub(super) fn check(&self, cookie: &[u8], peer_id: &[u8]) -> bool {
        // SAFETY: the context is initialised (new) and locks its own mutex;
        // both slices are valid for their lengths.
        let ret = unsafe {
            sys::ssl_cookie_check(
                self.ctx(),
                cookie.as_ptr(),
                cookie.len(),
                peer_id.as_ptr(),
                peer_id.len(),
            )
        };
        ret == 0
    }

    /// A fresh cookie for `peer_id` (at most 255 bytes; 32 with SHA-256).
    pub(super) fn write(&self, peer_id: &[u8]) -> Result<Vec<u8>> {
        let mut out = vec![0u8; 255];
        let start = out.as_mut_ptr();
        let mut p = start;
        // SAFETY: `p`..`end` lies in `out`; ssl_cookie_write advances `p`
        // by what it writes, never past `end`.
        let ret = unsafe {
            let end = start.add(out.len());
            sys::ssl_cookie_write(self.ctx(), &mut p, end, peer_id.as_ptr(), peer_id.len())
        };
        if ret != 0 {
            return Err(mbed_error(
                ret,
                Code::MOJO_TLS_ERR_INTERNAL,
                "ssl_cookie_write",
            ));
        }
        // SAFETY: both pointers are in `out`, p >= start.
        let n = unsafe { p.offset_from(start) } as usize;
        out.truncate(n);
        Ok(out)
    }
}

impl Drop for Cookies {
    fn drop(&mut self) {
        // SAFETY: initialised in new(); the config using it is freed first
        // (the SslConfig field order).
        unsafe { sys::ssl_cookie_free(&mut *self.ctx) }
    }
}

/// Datagram transport, anti-replay on, and the handshake retransmission
/// delays (`min_ms` doubling up to `max_ms`) when given.
///
/// # Safety
/// `conf` is an initialised config nothing else uses during the call.
pub(super) unsafe fn conf_datagram(conf: *mut sys::ssl_config, timeouts: Option<(u32, u32)>) {
    // SAFETY: per the contract.
    unsafe {
        sys::ssl_conf_dtls_anti_replay(conf, sys::SSL_ANTI_REPLAY_ENABLED as libc::c_char);
        if let Some((min, max)) = timeouts {
            sys::ssl_conf_handshake_timeout(conf, min, max);
        }
    }
}
