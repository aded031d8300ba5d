//! DTLS 1.2 sessions on Mbed TLS: the timer hook-up, the server's cookie
//! exchange (a session reset after each HelloVerifyRequest, so nothing of a
//! cookie-less hello is kept) and the per-session settings (the client's
//! transport id, the MTU, the Connection ID offered and negotiated, whose
//! Mbed TLS calls are in `cid.rs`). The timer is in `timer.rs`, the configuration
//! side (cookie key, anti-replay, retransmission delays) in `cookies.rs`.

use std::time::Duration;

use super::cid;
use super::session::Session;
use super::timer::{get_timer, set_timer, DtlsTimer};
use crate::backend::errors::mbed_error;
use crate::backend::sys;
use crate::error::{Code, Error, Result};

impl Session {
    /// Give a DTLS session its timer (Mbed TLS refuses a DTLS handshake
    /// without one).
    pub(super) fn dtls_setup(&mut self) {
        let state = self.dtls.get_or_insert_with(Box::default);
        let timer = &mut state.timer as *mut DtlsTimer as *mut libc::c_void;
        // SAFETY: the timer lives in a Box owned by the session, freed after
        // ssl_free (Drop), so it outlives every Mbed TLS use.
        unsafe {
            sys::ssl_set_timer_cb(&mut *self.ctx, timer, Some(set_timer), Some(get_timer));
        }
    }

    /// How long a caller may wait for a datagram before calling again (the
    /// retransmission timer's final delay); `None`: no timer runs.
    pub fn dtls_next_timeout(&self) -> Option<Duration> {
        self.dtls.as_ref()?.timer.left()
    }

    /// Server: the client's transport id (its address), which cookies are
    /// bound to.
    pub fn set_peer_id(&mut self, id: &[u8]) -> Result<()> {
        let Some(state) = self.dtls.as_mut() else {
            return Err(Error::bad_state("not a DTLS connection"));
        };
        if !self.config.server {
            return Err(Error::bad_state("the peer id is a DTLS server setting"));
        }
        state.peer_id = Some(id.to_vec());
        self.apply_peer_id()
    }

    pub fn has_peer_id(&self) -> bool {
        self.dtls.as_ref().is_some_and(|d| d.peer_id.is_some())
    }

    fn apply_peer_id(&mut self) -> Result<()> {
        let Some(id) = self.dtls.as_ref().and_then(|d| d.peer_id.clone()) else {
            return Ok(());
        };
        // SAFETY: initialised session; Mbed TLS copies the id.
        let ret =
            unsafe { sys::ssl_set_client_transport_id(&mut *self.ctx, id.as_ptr(), id.len()) };
        if ret != 0 {
            return Err(mbed_error(
                ret,
                Code::MOJO_TLS_ERR_INVALID_ARGUMENT,
                "ssl_set_client_transport_id",
            ));
        }
        Ok(())
    }

    /// Path MTU for the datagrams this session sends (0: no limit below
    /// the record size).
    pub fn set_mtu(&mut self, mtu: u16) -> Result<()> {
        if self.dtls.is_none() {
            return Err(Error::bad_state("not a DTLS connection"));
        }
        // SAFETY: initialised session.
        unsafe { sys::ssl_set_mtu(&mut *self.ctx, mtu) };
        Ok(())
    }

    /// A server answered a ClientHello without a valid cookie with a
    /// HelloVerifyRequest: start over, keeping nothing of that hello
    /// (the state RFC 6347 §4.2.1 says a server must not keep), and wait
    /// for the hello that returns the cookie. Returns the code to report.
    pub(super) fn after_hello_verify(&mut self) -> i32 {
        // SAFETY: initialised session; exclusive access.
        let ret = unsafe { sys::ssl_session_reset(&mut *self.ctx) };
        if ret != 0 {
            return ret;
        }
        if let Some(state) = self.dtls.as_mut() {
            state.timer.set(0, 0);
        }
        match self.apply_peer_id() {
            Ok(()) => sys::ERR_SSL_WANT_READ,
            Err(_) => sys::ERR_SSL_INTERNAL_ERROR,
        }
    }
}

impl Session {
    /// The most plaintext one record (one datagram) carries now: limited by
    /// the MTU and the negotiated record expansion.
    pub fn dtls_max_payload(&self) -> Option<usize> {
        // SAFETY: read-only query on an initialised session.
        let n = unsafe { sys::ssl_get_max_out_record_payload(&*self.ctx) };
        usize::try_from(n).ok()
    }
}

/// A negotiated pair of Connection IDs: `own` is what the peer writes into
/// the records it sends us (what we route by), `peer` what we write into
/// ours. Either may be empty (RFC 9146 allows one direction only).
pub struct ConnectionIds {
    pub own: Vec<u8>,
    pub peer: Vec<u8>,
}

impl Session {
    /// Offer Connection IDs with a random own CID of `len` bytes.
    pub(super) fn cid_setup(&mut self, len: u8) -> Result<()> {
        // SAFETY: initialised session, exclusive access.
        self.own_cid = Some(unsafe { cid::offer(&mut *self.ctx, len)? });
        Ok(())
    }

    /// Mbed TLS still holds received records or a result for the next
    /// read: a read now would not be about the next datagram alone.
    pub fn holds_input(&self) -> bool {
        // SAFETY: read-only query on an initialised session.
        self.deferred_read.is_some()
            || self.bytes_avail() > 0
            || unsafe { sys::ssl_check_pending(&*self.ctx) } != 0
    }

    /// The own Connection ID offered, when on.
    pub fn own_cid(&self) -> Option<&[u8]> {
        self.own_cid.as_deref()
    }

    /// The Connection IDs in use after the handshake; `None` before it is
    /// done or when none was negotiated.
    pub fn connection_ids(&self) -> Option<ConnectionIds> {
        let own = self.own_cid.clone()?;
        // SAFETY: initialised session; ssl_get_peer_cid only reads it (its
        // pointer is not const in the C API).
        let peer = unsafe {
            cid::negotiated_peer(&*self.ctx as *const sys::ssl_context as *mut sys::ssl_context)?
        };
        Some(ConnectionIds { own, peer })
    }
}
