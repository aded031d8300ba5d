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
