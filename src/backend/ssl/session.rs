//! A TLS session: an Mbed TLS `ssl_context` on a built config, and the
//! per-session state its callbacks reach. It does not own the transport:
//! every call that may do I/O borrows it (`with_wire`).

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, CString};
use std::net::IpAddr;
use std::sync::Arc;

use super::callbacks::{verify_cb, SessionHook};
use super::config::{SslConfig, VERIFY_NONE};
use super::timer::DtlsState;
use crate::backend::bio::{BioCtx, Wire};
use crate::backend::errors::{mbed_error, ssl_error, verify_reason_with};
use crate::backend::generation;
use crate::backend::keys::{self, KeyExport};
use crate::backend::resumption::SavedSession;
use crate::backend::stale_hello::HelloGuard;
use crate::backend::suites;
use crate::backend::sys;
use crate::backend::x509::CertInfo;
use crate::error::{Code, Error, Result};

/// An `ssl_context`. Its BIO context sits behind a raw pointer Mbed TLS
/// keeps (`ssl_set_bio`); the transport itself is the connection's, lent
/// per call by [`Session::with_wire`].
pub struct Session {
    pub(in crate::backend) ctx: Box<sys::ssl_context>,
    bio: *mut BioCtx,
    hook: Box<SessionHook>,
    pub(super) config: Arc<SslConfig>,
    /// DTLS only: the retransmission timer and the client's transport id.
    pub(super) dtls: Option<Box<DtlsState>>,
    resumed: bool,
    /// Kept alive while Mbed TLS may still refer to it (`ssl_set_session`
    /// copies, but be safe).
    _offered: Option<SavedSession>,
    /// The last exported session: 3.6 allows `ssl_get_session` only once
    /// per session (a new TLS 1.3 ticket makes it stale).
    pub(in crate::backend) exported: Option<Vec<u8>>,
    /// Mbed TLS's record buffers while the fast record layer runs.
    pub(in crate::backend) parked: Option<generation::Parked>,
    /// What the next `read` returns first: a close_notify or error found
    /// by `pending` while it processed buffered records.
    pub(super) deferred_read: Option<i32>,
    /// Client: resuming with psk_ke alone (no key share); a failed
    /// handshake then says why.
    psk_ke_only: bool,
    /// DTLS: the own Connection ID offered (RFC 9146), when on.
    pub(super) own_cid: Option<Vec<u8>>,
}

// SAFETY: a session is used by one thread at a time (the connection mutex).
unsafe impl Send for Session {}

impl Session {
    /// `tag` is what the server name callback is given to name this
    /// session (the connection's handle).
    pub fn new(
        config: Arc<SslConfig>,
        server_name: Option<&str>,
        check_hostname: bool,
        tag: usize,
    ) -> Result<Session> {
        let expect_ip = server_name.and_then(|n| {
            n.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .ok()
        });
        let hook = Box::new(SessionHook {
            expect_ip,
            check_hostname: check_hostname && !config.pin_only,
            pins: RefCell::new(config.pins.clone()),
            pin_only: Cell::new(config.pin_only),
            pin_matched: Cell::new(false),
            pin_failed: Cell::new(false),
            server_name: RefCell::new(None),
            expected_host: server_name
                .filter(|_| !config.server)
                .map(|n| n.trim_start_matches('[').trim_end_matches(']').to_string()),
            host_mismatch: RefCell::new(None),
            verify_called: Cell::new(false),
            offered: Cell::new(false),
            export: KeyExport::new(config._keylog.clone(), config.capture_keys),
            server_name_cb: config.server_name_cb.clone(),
            tag,
            server_name_cb_done: Cell::new(false),
            refused: RefCell::new(None),
            adopted: RefCell::new(Vec::new()),
        });
        let bio = Box::into_raw(Box::<BioCtx>::default());
        // SAFETY: ctx is initialised before use; the BIO context, hook and config
        // live as long as the session (freed in Drop after ssl_free).
        unsafe {
            let mut ctx: Box<sys::ssl_context> = Box::new(std::mem::zeroed());
            sys::ssl_init(&mut *ctx);
            let mut s = Session {
                ctx,
                bio,
                hook,
                config,
                dtls: None,
                resumed: false,
                _offered: None,
                exported: None,
                parked: None,
                deferred_read: None,
                psk_ke_only: false,
                own_cid: None,
            };
            let ret = sys::ssl_setup(&mut *s.ctx, s.config.as_ptr());
            if ret != 0 {
                return Err(mbed_error(ret, Code::MOJO_TLS_ERR_NO_MEMORY, "ssl_setup"));
            }
            if s.config.datagram {
                s.dtls_setup();
                if let Some(len) = s.config.dtls_cid {
                    s.cid_setup(len)?;
                }
                if s.config.server {
                    (*s.bio).hello_guard = Some(HelloGuard::default());
                }
            }
            sys::ssl_set_bio(
                &mut *s.ctx,
                s.bio as *mut libc::c_void,
                Some(crate::backend::bio::send),
                Some(crate::backend::bio::recv),
                None,
            );
            let hook_ptr = &*s.hook as *const SessionHook as *mut libc::c_void;
            sys::ssl_set_verify(&mut *s.ctx, Some(verify_cb), hook_ptr);
            generation::set_session_user_ptr(&mut *s.ctx, hook_ptr);
            // Always: the TLS 1.2 exporter needs the master secret.
            keys::install_on_session(&mut *s.ctx, &s.hook.export);
            // No DNS name to check (IP literal, or none given with host name
            // checking off): 3.6.3+ / 4.x must be told so explicitly.
            if !s.config.server && (s.hook.expect_ip.is_some() || server_name.is_none()) {
                generation::set_hostname_none(&mut *s.ctx);
            }
            if !s.config.server {
                // An IP literal is not sent as SNI, so it is not reported.
                if s.hook.expect_ip.is_none() {
                    *s.hook.server_name.borrow_mut() = server_name.map(str::to_string);
                }
                if let Some(name) = server_name.filter(|_| s.hook.expect_ip.is_none()) {
                    let c = CString::new(name)
                        .map_err(|_| Error::invalid_arg("server name contains NUL"))?;
                    let ret = sys::ssl_set_hostname(&mut *s.ctx, c.as_ptr());
                    if ret != 0 {
                        return Err(mbed_error(
                            ret,
                            Code::MOJO_TLS_ERR_INVALID_ARGUMENT,
                            "invalid server name",
                        ));
                    }
                }
            }
            Ok(s)
        }
    }

    pub(crate) fn bio(&mut self) -> &mut BioCtx {
        // SAFETY: owned by self (freed in Drop); Mbed TLS reaches it only
        // from inside calls made through `&mut self`, so no other
        // reference to it is live while this one is.
        unsafe { &mut *self.bio }
    }

    /// Run `f` (Mbed TLS calls that may send or receive) with `wire` lent
    /// to the BIO callbacks; taken back when `f` returns or unwinds.
    pub(in crate::backend) fn with_wire<W: Wire, R>(
        &mut self,
        wire: &mut W,
        f: impl FnOnce(&mut Session) -> R,
    ) -> R {
        struct TakeBack(*mut BioCtx);
        impl Drop for TakeBack {
            fn drop(&mut self) {
                // SAFETY: the session's BIO context, alive as long as it is;
                // no other reference to it is live when `f` has returned.
                unsafe { (*self.0).take_back() }
            }
        }
        // A DTLS server drops copies of its client's hello once the
        // handshake is over (see `stale_hello`).
        if self.bio().hello_guard.is_some() {
            let over = self.handshake_done();
            if let Some(g) = self.bio().hello_guard.as_mut() {
                g.armed = over;
            }
        }
        // SAFETY: `wire` is exclusively borrowed for this whole function
        // and not used here except through the BIO; TakeBack ends the loan
        // before the borrow ends, even on unwinding.
        unsafe { self.bio().lend(wire) };
        let _take_back = TakeBack(self.bio);
        f(self)
    }

    pub(in crate::backend) fn key_export(&self) -> &KeyExport {
        &self.hook.export
    }

    pub fn is_server(&self) -> bool {
        self.config.server
    }

    pub fn handshake_done(&self) -> bool {
        generation::handshake_over(&self.ctx)
    }

    /// Run the handshake as far as it goes: 0 when done, else a raw Mbed TLS
    /// code (WANT_* included). Steps one at a time; after each step a server
    /// checks whether its ticket or cache look-up accepted a session (Mbed
    /// TLS keeps the handshake state opaque), and whether it is about to send
    /// its certificate: then it did not resume after all (a TLS 1.3 server
    /// that opened the ticket but cannot use it, e.g. the client offered it
    /// for a key exchange mode the server refuses, runs a full handshake).
    pub fn handshake<W: Wire>(&mut self, wire: &mut W) -> i32 {
        self.with_wire(wire, Session::handshake_lent)
    }

    fn handshake_lent(&mut self) -> i32 {
        // SAFETY: initialised session; exclusive access.
        unsafe {
            while !generation::handshake_over(&self.ctx) {
                crate::backend::resumption::clear_server_resumption_mark();
                let ret = sys::ssl_handshake_step(&mut *self.ctx);
                if crate::backend::resumption::server_resumption_marked() {
                    // Server: a ticket or cached session was accepted.
                    self.resumed = true;
                }
                if self.config.server && generation::server_certificate_next(&self.ctx) {
                    self.resumed = false;
                }
                if ret == sys::ERR_SSL_RECEIVED_NEW_SESSION_TICKET {
                    continue;
                }
                if ret == sys::ERR_SSL_HELLO_VERIFY_REQUIRED {
                    return self.after_hello_verify();
                }
                if ret != 0 {
                    self.alert_on_silent_failure(ret);
                    self.alert_on_refusal();
                    return ret;
                }
            }
            self.infer_client_resumption();
            0
        }
    }

    /// Mbed TLS keeps the handshake state opaque. A client that offered a
    /// session and verified no certificate (the server sent none) resumed.
    fn infer_client_resumption(&mut self) {
        if !self.config.server && self.hook.offered.get() && self.config.authmode != VERIFY_NONE {
            self.resumed = !self.hook.verify_called.get();
        }
    }

    /// Mbed TLS's TLS 1.2 server fails a handshake without telling the peer
    /// when the client sent no certificate: send handshake_failure so the
    /// peer gets a reason instead of waiting.
    fn alert_on_silent_failure(&mut self, ret: i32) {
        if ret == sys::ERR_SSL_NO_CLIENT_CERTIFICATE {
            // SAFETY: exclusive access; best effort (the result is ignored).
            unsafe {
                sys::ssl_send_alert_message(
                    &mut *self.ctx,
                    sys::SSL_ALERT_LEVEL_FATAL as u8,
                    sys::SSL_ALERT_MSG_HANDSHAKE_FAILURE as u8,
                );
            }
        }
    }

    /// The server name callback aborted the handshake: send its alert
    /// (Mbed TLS sends none when the certificate callback fails).
    fn alert_on_refusal(&mut self) {
        let Some(alert) = self.hook.refused.borrow().as_ref().map(|r| r.0) else {
            return;
        };
        // SAFETY: exclusive access; best effort (the result is ignored).
        unsafe {
            sys::ssl_send_alert_message(&mut *self.ctx, sys::SSL_ALERT_LEVEL_FATAL as u8, alert);
        }
    }

    pub fn resumed(&self) -> bool {
        self.resumed && self.handshake_done()
    }

    /// Client: the session as an opaque blob, for a later connection.
    pub fn export_session(&mut self) -> Result<Vec<u8>> {
        if self.config.server {
            return Err(Error::bad_state("only a client can export its session"));
        }
        if let Some(blob) = &self.exported {
            return Ok(blob.clone());
        }
        let saved = SavedSession::new();
        // SAFETY: copies the current session into saved.
        let ret = unsafe { sys::ssl_get_session(&*self.ctx, &*saved.s as *const _ as *mut _) };
        if ret != 0 {
            return Err(mbed_error(
                ret,
                Code::MOJO_TLS_ERR_NOT_AVAILABLE,
                "no session to export",
            ));
        }
        let blob = saved.to_bytes()?;
        self.exported = Some(blob.clone());
        Ok(blob)
    }

    /// Client, before the handshake: offer a saved session for resumption.
    pub fn import_session(&mut self, blob: &[u8]) -> Result<()> {
        if self.config.server {
            return Err(Error::bad_state("only a client can resume a session"));
        }
        if !generation::before_handshake(&self.ctx) {
            return Err(Error::bad_state(
                "a session can only be set before the handshake starts",
            ));
        }
        let saved = SavedSession::from_bytes(blob)?;
        if let Some(psk_only) = &self.config.psk_only {
            if generation::session_allows_psk_ke(&saved.s) {
                // Opted into psk_ke: this connection resumes on the copy of
                // its config without a key share (see tls13_kex_modes).
                generation::swap_conf_before_handshake(&mut self.ctx, psk_only);
                self.psk_ke_only = true;
            }
        }
        // SAFETY: saved is a valid, loaded session; ssl_set_session copies it.
        let ret = unsafe { sys::ssl_set_session(&mut *self.ctx, &*saved.s) };
        if ret != 0 {
            return Err(mbed_error(
                ret,
                Code::MOJO_TLS_ERR_PARSE,
                "the session cannot be used",
            ));
        }
        self._offered = Some(saved);
        self.hook.offered.set(true);
        Ok(())
    }

    /// Server: the name the client asked for; client: the name it sent.
    pub fn server_name(&self) -> Option<String> {
        self.hook.server_name.borrow().clone()
    }

    /// The description byte of a fatal alert just received, if any.
    fn received_alert(&self, ret: i32) -> Option<u8> {
        let msg = generation::in_msg(&self.ctx);
        if ret != sys::ERR_SSL_FATAL_ALERT_MESSAGE || msg.is_null() {
            return None;
        }
        // SAFETY: after FATAL_ALERT_MESSAGE, in_msg holds the 2-byte alert.
        Some(unsafe { *msg.add(1) })
    }

    /// A TLS 1.3 NewSessionTicket is taken in and the call
    /// repeated: the session is then ready for export.
    ///
    /// After a post-handshake message Mbed TLS may answer WANT_READ while
    /// records are still buffered inside it; waiting on the socket then
    /// would hang, so it is asked again (bounded) while data is pending.
    pub fn read<W: Wire>(&mut self, wire: &mut W, buf: &mut [u8]) -> i32 {
        self.with_wire(wire, |s| s.read_lent(buf))
    }

    fn read_lent(&mut self, buf: &mut [u8]) -> i32 {
        if let Some(ret) = self.deferred_read.take() {
            return ret;
        }
        let mut spins = 0;
        loop {
            // SAFETY: buf valid for its length.
            let ret = unsafe { sys::ssl_read(&mut *self.ctx, buf.as_mut_ptr(), buf.len()) };
            if ret == sys::ERR_SSL_RECEIVED_NEW_SESSION_TICKET {
                self.exported = None;
                continue;
            }
            if ret == sys::ERR_SSL_WANT_READ
                && spins < 64
                // SAFETY: read-only query.
                && unsafe { sys::ssl_check_pending(&*self.ctx) } != 0
            {
                spins += 1;
                continue;
            }
            return ret;
        }
    }

    pub fn write<W: Wire>(&mut self, wire: &mut W, buf: &[u8]) -> i32 {
        self.with_wire(wire, |s| s.write_lent(buf))
    }

    fn write_lent(&mut self, buf: &[u8]) -> i32 {
        loop {
            // SAFETY: buf valid for its length.
            let ret = unsafe { sys::ssl_write(&mut *self.ctx, buf.as_ptr(), buf.len()) };
            if ret != sys::ERR_SSL_RECEIVED_NEW_SESSION_TICKET {
                return ret;
            }
        }
    }

    pub fn close_notify<W: Wire>(&mut self, wire: &mut W) -> i32 {
        self.with_wire(wire, |s| {
            // SAFETY: exclusive access.
            unsafe { sys::ssl_close_notify(&mut *s.ctx) }
        })
    }

    /// What `read` returns without receiving anything: the application
    /// bytes Mbed TLS holds (`ssl_get_bytes_avail`). Handshake messages it
    /// still holds (`ssl_check_pending`: a record with several) are
    /// processed first, with receiving switched off; if that ends in a
    /// close_notify or an error, the next `read` returns it and this
    /// counts it as 1 (a read returns at once).
    pub fn pending<W: Wire>(&mut self, wire: &mut W) -> usize {
        self.with_wire(wire, Session::pending_lent)
    }

    fn pending_lent(&mut self) -> usize {
        if self.deferred_read.is_some() {
            return 1;
        }
        let avail = self.bytes_avail();
        // SAFETY: read-only query.
        if avail > 0 || unsafe { sys::ssl_check_pending(&*self.ctx) } == 0 {
            return avail;
        }
        self.bio().offline = true;
        // Length 0: records are processed, no application byte is taken.
        let mut scratch = [0u8; 1];
        let ret = self.read_lent(&mut scratch[..0]);
        self.bio().offline = false;
        match ret {
            0 | sys::ERR_SSL_WANT_READ | sys::ERR_SSL_WANT_WRITE => self.bytes_avail(),
            ret => {
                self.deferred_read = Some(ret);
                1
            }
        }
    }

    pub fn bytes_avail(&self) -> usize {
        // SAFETY: read-only query.
        unsafe { sys::ssl_get_bytes_avail(&*self.ctx) }
    }

    pub fn version(&self) -> u16 {
        if !self.handshake_done() {
            return 0;
        }
        generation::version_number(&self.ctx)
    }

    pub fn version_name(&self) -> Option<&'static CStr> {
        if !self.handshake_done() {
            return None;
        }
        // SAFETY: returns a pointer to a static string.
        unsafe {
            let p = sys::ssl_get_version(&*self.ctx);
            (!p.is_null()).then(|| CStr::from_ptr(p))
        }
    }

    pub fn cipher_name(&self) -> Option<&'static CStr> {
        if !self.handshake_done() {
            return None;
        }
        // SAFETY: static strings from Mbed TLS.
        unsafe {
            let name = sys::ssl_get_ciphersuite(&*self.ctx);
            if name.is_null() {
                return None;
            }
            suites::iana_name_of(sys::ssl_get_ciphersuite_id(name))
        }
    }

    pub fn alpn(&self) -> Option<String> {
        // SAFETY: pointer into the config's ALPN list or NULL.
        unsafe {
            let p = sys::ssl_get_alpn_protocol(&*self.ctx);
            (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
        }
    }

    pub fn peer_cert(&self) -> Option<CertInfo> {
        // SAFETY: the peer certificate is owned by the session.
        unsafe {
            let p = sys::ssl_get_peer_cert(&*self.ctx);
            (!p.is_null() && (*p).version != 0).then(|| CertInfo::from_crt(&*p))
        }
    }

    /// X.509 verification flags of the peer's certificate (0 = verified).
    /// Verification flags, with "no result yet" and "skipped on
    /// resumption" reported as 0.
    pub fn verify_flags(&self) -> u32 {
        // SAFETY: read-only query.
        let raw = unsafe { sys::ssl_get_verify_result(&*self.ctx) };
        generation::normalize_verify_flags(raw, self.resumed)
    }

    /// Why the peer's certificate failed verification ("" if it did not).
    pub fn verify_reason(&self) -> String {
        verify_reason_with(
            self.verify_flags(),
            self.hook.host_mismatch.borrow().as_deref(),
        )
    }

    /// Turn a raw failure into an `Error`.
    pub fn error(&self, ret: i32) -> Error {
        if let Some((_, why)) = self.hook.refused.borrow().as_ref() {
            return Error::new(Code::MOJO_TLS_ERR_HANDSHAKE, why.clone());
        }
        let flags = self.verify_flags();
        let mismatch = self.hook.host_mismatch.borrow().clone();
        let mut e = ssl_error(ret, !self.handshake_done(), flags, mismatch.as_deref());
        if let Some(alert) = self.received_alert(ret) {
            e.message = format!(
                "{} ({})",
                e.message,
                crate::backend::errors::alert_name(alert)
            );
            if alert == 120 {
                e.message.push_str(": no ALPN protocol in common");
            }
        }
        if self.psk_ke_only && !self.handshake_done() {
            e.message = format!(
                "{}; the session was offered for resumption without ECDHE (psk_ke, \
                 mojo_tls_config_insecure_resumption_without_forward_secrecy) and the server \
                 did not resume it (not opted in, or the ticket expired or is unknown): \
                 connect again without the session",
                e.message
            );
        }
        if self.hook.pin_failed.get() {
            const PIN: &str = "no certificate pin matched the peer's certificate";
            e.message = format!("{PIN}; {}", e.message);
            if let Some(v) = e.verify.as_mut() {
                v.reason = if v.reason.is_empty() {
                    PIN.to_string()
                } else {
                    format!("{PIN}; {}", v.reason)
                };
            }
        }
        e
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: ssl_free first (it may not touch the transport afterwards),
        // then the BIO context we leaked into a raw pointer in new().
        unsafe {
            sys::ssl_free(&mut *self.ctx);
            drop(Box::from_raw(self.bio));
        }
    }
}
