//! TLS configurations and sessions: the Mbed TLS `ssl_config` and
//! `ssl_context` with everything they point to kept alive beside them.

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, CString};
use std::net::IpAddr;
use std::sync::Arc;

use super::bio::BioCtx;
use super::errors::{mbed_error, ssl_error, verify_reason_with};
use super::generation::{self, GroupId};
use super::keylog::KeyLog;
use super::keys::{self, KeyExport};
use super::pk::PrivateKey;
use super::resumption::{SavedSession, SessionCache, TicketKeys};
use super::rng::{sha256, Drbg};
use super::suites;
use super::sys;
use super::ticket_keys::{OwnTickets, TicketKeyRing};
use super::x509::{self, CertChain, CertInfo, Crl, San};
use crate::error::{Code, Error, Result};
use crate::transport::Transport;

/// Verify modes (same values as Mbed TLS and the C API).
pub(crate) const VERIFY_NONE: i32 = sys::SSL_VERIFY_NONE as i32;
pub(crate) const VERIFY_OPTIONAL: i32 = sys::SSL_VERIFY_OPTIONAL as i32;
pub(crate) const VERIFY_REQUIRED: i32 = sys::SSL_VERIFY_REQUIRED as i32;

/// What the core asks of a configuration; the backend turns it into an
/// `ssl_config`.
pub struct ConfigSpec {
    pub server: bool,
    pub min_version: u16,
    pub max_version: u16,
    pub authmode: i32,
    pub ca: Option<Arc<CertChain>>,
    pub own: Vec<(Arc<CertChain>, Arc<PrivateKey>)>,
    pub alpn: Vec<String>,
    pub suites: Option<Vec<i32>>,
    pub groups: Option<Vec<GroupId>>,
    pub crl: Option<Arc<Crl>>,
    pub pins: Vec<Pin>,
    /// Trust is the pins alone: no CA chain, no host name check.
    pub pin_only: bool,
    pub keylog: Option<Arc<KeyLog>>,
    /// Server: issue session tickets with this key lifetime (seconds).
    pub tickets: Option<u32>,
    /// Server: seal tickets under the caller's keys (else random ones).
    pub ticket_keys: Option<Arc<TicketKeyRing>>,
    /// Server: session-id cache (max entries, timeout seconds).
    pub cache: Option<(i32, i32)>,
    /// TLS 1.3 resumption may use psk_ke (no ECDHE); else psk_dhe_ke only.
    pub psk_ke: bool,
    /// Capture traffic keys for the fast record layer.
    pub capture_keys: bool,
}

/// A certificate pin: SHA-256 of the certificate DER or of its SPKI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub spki: bool,
    pub hash: [u8; 32],
}

/// Server certificates by name, for the SNI callback.
struct SniTable {
    entries: Vec<(Vec<String>, *mut sys::x509_crt, *mut sys::pk_context)>,
}

/// A ready `ssl_config`. Immutable once built; shared by connections.
pub struct SslConfig {
    conf: Box<sys::ssl_config>,
    /// Client opted into psk_ke: a copy of `conf` with the psk_ke mode alone
    /// (so no key share), which a connection resuming a TLS 1.3 session
    /// runs on (see `import_session`). A shallow copy: it shares everything
    /// `conf` points to, so it is never passed to `ssl_config_free`.
    psk_only: Option<Box<sys::ssl_config>>,
    _drbg: Box<Drbg>,
    _ca: Option<Arc<CertChain>>,
    _own: Vec<(Arc<CertChain>, Arc<PrivateKey>)>,
    _alpn: Vec<CString>,
    _alpn_ptrs: Vec<*const libc::c_char>,
    _suites: Vec<i32>,
    _groups: Vec<GroupId>,
    _crl: Option<Arc<Crl>>,
    _keylog: Option<Arc<KeyLog>>,
    capture_keys: bool,
    _tickets: Option<TicketKeys>,
    _own_tickets: Option<Box<OwnTickets>>,
    _cache: Option<SessionCache>,
    _sni: Box<SniTable>,
    /// Pin-only configs verify against an empty (but present) CA chain.
    _empty_ca: Option<CertChain>,
    pins: Arc<Vec<Pin>>,
    pin_only: bool,
    pub server: bool,
    pub authmode: i32,
}

// SAFETY: the config is never mutated after build(); Mbed TLS only reads it
// from sessions, and its RNG (the DRBG) locks internally.
unsafe impl Send for SslConfig {}
unsafe impl Sync for SslConfig {}

impl SslConfig {
    pub fn build(spec: ConfigSpec) -> Result<SslConfig> {
        let drbg = Box::new(Drbg::new()?);
        let mut alpn: Vec<CString> = Vec::new();
        for p in &spec.alpn {
            alpn.push(
                CString::new(p.as_str())
                    .map_err(|_| Error::invalid_arg("ALPN protocol contains NUL"))?,
            );
        }
        let mut alpn_ptrs: Vec<*const libc::c_char> = alpn.iter().map(|c| c.as_ptr()).collect();
        alpn_ptrs.push(std::ptr::null());
        let suites = spec.suites.clone().unwrap_or_else(suites::default_suites);
        let groups = spec.groups.clone().unwrap_or_else(suites::default_groups);
        let own_tickets = spec
            .ticket_keys
            .clone()
            .map(|ring| OwnTickets::new(ring, spec.tickets.unwrap_or(86_400)));
        let tickets = match own_tickets {
            Some(_) => None,
            None => spec.tickets.map(TicketKeys::new).transpose()?,
        };
        let cache = spec.cache.map(|(n, t)| SessionCache::new(n, t));
        let sni = Box::new(SniTable {
            entries: spec
                .own
                .iter()
                .filter_map(|(chain, key)| {
                    chain
                        .first()
                        .map(|leaf| (x509::dns_names(leaf), chain.as_mut_ptr(), key.as_mut_ptr()))
                })
                .collect(),
        });

        // SAFETY: the config is initialised before use; every pointer handed to
        // it (DRBG, chains, keys, ALPN, suites, groups) is owned by the returned
        // SslConfig and outlives the ssl_config.
        unsafe {
            let mut conf: Box<sys::ssl_config> = Box::new(std::mem::zeroed());
            sys::ssl_config_init(&mut *conf);
            let mut cfg = SslConfig {
                conf,
                psk_only: None,
                _drbg: drbg,
                _ca: spec.ca.clone(),
                _own: spec.own.clone(),
                _alpn: alpn,
                _alpn_ptrs: alpn_ptrs,
                _suites: suites,
                _groups: groups,
                _crl: spec.crl.clone(),
                _keylog: spec.keylog.clone(),
                capture_keys: spec.capture_keys,
                _tickets: tickets,
                _own_tickets: own_tickets,
                _cache: cache,
                _sni: sni,
                _empty_ca: spec.pin_only.then(CertChain::new),
                pins: Arc::new(spec.pins.clone()),
                pin_only: spec.pin_only,
                server: spec.server,
                authmode: spec.authmode,
            };
            let c = &mut *cfg.conf;
            let endpoint = if spec.server {
                sys::SSL_IS_SERVER
            } else {
                sys::SSL_IS_CLIENT
            };
            let ret = sys::ssl_config_defaults(
                c,
                endpoint as i32,
                sys::SSL_TRANSPORT_STREAM as i32,
                sys::SSL_PRESET_DEFAULT as i32,
            );
            if ret != 0 {
                return Err(mbed_error(
                    ret,
                    Code::MOJO_TLS_ERR_INTERNAL,
                    "ssl_config_defaults",
                ));
            }
            generation::conf_rng(c, Some(Drbg::callback), cfg._drbg.as_ptr());
            generation::conf_versions(c, spec.min_version, spec.max_version);
            generation::conf_extra(c, !spec.server);
            sys::ssl_conf_authmode(c, spec.authmode);
            if let Some(profile) = x509::profile() {
                sys::ssl_conf_cert_profile(c, profile);
            }
            sys::ssl_conf_ciphersuites(c, cfg._suites.as_ptr());
            generation::conf_groups(c, cfg._groups.as_ptr());
            sys::ssl_conf_renegotiation(c, sys::SSL_RENEGOTIATION_DISABLED as i32);
            let kex_modes = tls13_kex_modes(spec.psk_ke);
            sys::ssl_conf_tls13_key_exchange_modes(c, kex_modes);
            let crl = cfg
                ._crl
                .as_ref()
                .map_or(std::ptr::null_mut(), |c| c.as_mut_ptr());
            if let Some(empty) = &cfg._empty_ca {
                sys::ssl_conf_ca_chain(c, empty.as_mut_ptr(), std::ptr::null_mut());
            } else if let Some(ca) = &cfg._ca {
                sys::ssl_conf_ca_chain(c, ca.as_mut_ptr(), crl);
            }
            if spec.server && !cfg._sni.entries.is_empty() {
                sys::ssl_conf_sni(
                    c,
                    Some(sni_cb),
                    &*cfg._sni as *const SniTable as *mut libc::c_void,
                );
            }
            if let Some(t) = &cfg._tickets {
                t.install(c);
            }
            if let Some(t) = &cfg._own_tickets {
                t.install(c);
            }
            if let Some(cache) = &cfg._cache {
                cache.install(c);
            }
            for (chain, key) in &cfg._own {
                let ret = sys::ssl_conf_own_cert(c, chain.as_mut_ptr(), key.as_mut_ptr());
                if ret != 0 {
                    return Err(mbed_error(
                        ret,
                        Code::MOJO_TLS_ERR_INTERNAL,
                        "ssl_conf_own_cert",
                    ));
                }
            }
            if !cfg._alpn.is_empty() {
                let ret = sys::ssl_conf_alpn_protocols(c, cfg._alpn_ptrs.as_mut_ptr());
                if ret != 0 {
                    return Err(mbed_error(
                        ret,
                        Code::MOJO_TLS_ERR_INVALID_ARGUMENT,
                        "ALPN list",
                    ));
                }
            }
            if spec.psk_ke && !spec.server {
                let mut copy: Box<sys::ssl_config> = Box::new(std::ptr::read(&*cfg.conf));
                sys::ssl_conf_tls13_key_exchange_modes(
                    &mut *copy,
                    sys::SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK as i32,
                );
                cfg.psk_only = Some(copy);
            }
            Ok(cfg)
        }
    }

    fn as_ptr(&self) -> *const sys::ssl_config {
        &*self.conf
    }
}

/// TLS 1.3 key exchange modes. Mbed TLS's default (all three) would let a
/// client offer psk_ke and a server accept it: resumed sessions without
/// ECDHE, so without forward secrecy. The default here is ECDHE always
/// (ephemeral for full handshakes, psk_dhe_ke for resumption). Opted in,
/// either end allows psk_ke too. An Mbed TLS server ranks psk_dhe_ke, then a
/// full ECDHE handshake, then psk_ke, so it resumes with psk_ke only a
/// client that sends no key share: an opted-in client's full handshakes use
/// this config, and its TLS 1.3 resumptions the `psk_only` copy (psk_ke
/// alone, no key share; a server that will not resume it fails the
/// handshake).
fn tls13_kex_modes(psk_ke: bool) -> i32 {
    let ecdhe = sys::SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL
        | sys::SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL;
    // An opted-in client enables psk_ke here too: Mbed TLS marks a ticket
    // usable with psk_ke only if its config allowed that mode when the
    // ticket arrived. Its ClientHellos from this config (full handshakes)
    // offer no PSK, so the modes change nothing on the wire.
    let modes = if psk_ke {
        ecdhe | sys::SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK
    } else {
        ecdhe
    };
    modes as i32
}

impl Drop for SslConfig {
    fn drop(&mut self) {
        // SAFETY: initialised in build(); no session outlives its Arc<SslConfig>.
        unsafe { sys::ssl_config_free(&mut *self.conf) };
    }
}

/// Per-session state reached from Mbed TLS callbacks (the verify context,
/// and the session user pointer for SNI).
struct SessionHook {
    /// Connecting to an IP literal: the IP SAN check is ours (Mbed TLS is
    /// given no host name then), and no SNI is sent, per RFC 6066.
    expect_ip: Option<IpAddr>,
    check_hostname: bool,
    pins: Arc<Vec<Pin>>,
    pin_only: bool,
    pin_matched: Cell<bool>,
    pin_failed: Cell<bool>,
    /// Server: the name the client asked for (SNI). Client: the name sent.
    server_name: RefCell<Option<String>>,
    /// Client: the host the certificate must match (DNS name or IP literal).
    expected_host: Option<String>,
    /// Client: why the certificate does not match `expected_host`.
    host_mismatch: RefCell<Option<String>>,
    /// A certificate was verified in this handshake (not on resumption).
    verify_called: Cell<bool>,
    /// The client offered a saved session.
    offered: Cell<bool>,
    /// Key log and captured traffic keys.
    export: KeyExport,
}

const TRUST_FLAGS: u32 = (sys::X509_BADCERT_NOT_TRUSTED | sys::X509_BADCERT_CN_MISMATCH) as u32;

/// Called for every certificate of the chain, root first, leaf (depth 0) last.
unsafe extern "C" fn verify_cb(
    p: *mut libc::c_void,
    crt: *mut sys::x509_crt,
    depth: i32,
    flags: *mut u32,
) -> i32 {
    if p.is_null() || crt.is_null() || flags.is_null() {
        return 0;
    }
    let hook = &*(p as *const SessionHook);
    hook.verify_called.set(true);
    let crt = &*crt;
    if !hook.pins.is_empty() {
        let der_hash = sha256(x509::raw_der(crt));
        let spki_hash = sha256(x509::spki_der(crt));
        if hook
            .pins
            .iter()
            .any(|pin| pin.hash == if pin.spki { spki_hash } else { der_hash })
        {
            hook.pin_matched.set(true);
        }
    }
    if hook.pin_only {
        *flags &= !TRUST_FLAGS;
    }
    if depth != 0 {
        return 0;
    }
    if !hook.pin_only {
        if !hook.check_hostname {
            *flags &= !(sys::X509_BADCERT_CN_MISMATCH as u32);
        } else if let Some(ip) = hook.expect_ip {
            let ok = x509::sans(crt)
                .iter()
                .any(|s| matches!(s, San::Ip(a) if *a == ip));
            if !ok {
                *flags |= sys::X509_BADCERT_CN_MISMATCH as u32;
            }
        }
    }
    if *flags & sys::X509_BADCERT_CN_MISMATCH as u32 != 0 {
        if let Some(host) = &hook.expected_host {
            *hook.host_mismatch.borrow_mut() = Some(x509::host_mismatch(crt, host));
        }
    }
    if !hook.pins.is_empty() && !hook.pin_matched.get() {
        *flags |= sys::X509_BADCERT_OTHER as u32;
        hook.pin_failed.set(true);
    }
    0
}

/// Server: pick the certificate for the client's server name (fallback: the
/// first configured) and remember the name.
unsafe extern "C" fn sni_cb(
    p: *mut libc::c_void,
    ssl: *mut sys::ssl_context,
    name: *const u8,
    len: usize,
) -> i32 {
    if p.is_null() || ssl.is_null() || name.is_null() {
        return 0;
    }
    let table = &*(p as *const SniTable);
    let name = String::from_utf8_lossy(std::slice::from_raw_parts(name, len)).into_owned();
    let hook = generation::session_user_ptr(ssl) as *const SessionHook;
    if !hook.is_null() {
        *(*hook).server_name.borrow_mut() = Some(name.clone());
    }
    for (names, chain, key) in &table.entries {
        if names
            .iter()
            .any(|pattern| x509::name_matches(pattern, &name))
        {
            return sys::ssl_set_hs_own_cert(ssl, *chain, *key);
        }
    }
    0
}

/// An `ssl_context` bound to a transport.
pub struct Session {
    pub(super) ctx: Box<sys::ssl_context>,
    bio: *mut BioCtx,
    hook: Box<SessionHook>,
    config: Arc<SslConfig>,
    resumed: bool,
    /// Kept alive while Mbed TLS may still refer to it (`ssl_set_session`
    /// copies, but be safe).
    _offered: Option<SavedSession>,
    /// The last exported session: 3.6 allows `ssl_get_session` only once
    /// per session (a new TLS 1.3 ticket makes it stale).
    pub(super) exported: Option<Vec<u8>>,
    /// Mbed TLS's record buffers while the fast record layer runs.
    pub(super) parked: Option<generation::Parked>,
    /// What the next `read` returns first: a close_notify or error found
    /// by `pending` while it processed buffered records.
    deferred_read: Option<i32>,
    /// Client: resuming with psk_ke alone (no key share); a failed
    /// handshake then says why.
    psk_ke_only: bool,
}

// SAFETY: a session is used by one thread at a time (the connection mutex).
unsafe impl Send for Session {}

impl Session {
    pub fn new(
        config: Arc<SslConfig>,
        transport: Transport,
        server_name: Option<&str>,
        check_hostname: bool,
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
            pins: config.pins.clone(),
            pin_only: config.pin_only,
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
        });
        let bio = Box::into_raw(Box::new(BioCtx::new(transport)));
        // SAFETY: ctx is initialised before use; the transport, hook and config
        // live as long as the session (freed in Drop after ssl_free).
        unsafe {
            let mut ctx: Box<sys::ssl_context> = Box::new(std::mem::zeroed());
            sys::ssl_init(&mut *ctx);
            let mut s = Session {
                ctx,
                bio,
                hook,
                config,
                resumed: false,
                _offered: None,
                exported: None,
                parked: None,
                deferred_read: None,
                psk_ke_only: false,
            };
            let ret = sys::ssl_setup(&mut *s.ctx, s.config.as_ptr());
            if ret != 0 {
                return Err(mbed_error(ret, Code::MOJO_TLS_ERR_NO_MEMORY, "ssl_setup"));
            }
            sys::ssl_set_bio(
                &mut *s.ctx,
                s.bio as *mut libc::c_void,
                Some(super::bio::send),
                Some(super::bio::recv),
                None,
            );
            let hook_ptr = &*s.hook as *const SessionHook as *mut libc::c_void;
            sys::ssl_set_verify(&mut *s.ctx, Some(verify_cb), hook_ptr);
            generation::set_session_user_ptr(&mut *s.ctx, hook_ptr);
            if s.hook.export.keylog.is_some() || s.hook.export.capture {
                keys::install_on_session(&mut *s.ctx, &s.hook.export);
            }
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

    pub fn transport(&mut self) -> &mut Transport {
        // SAFETY: owned by self; no Mbed TLS call is in progress while we hold &mut self.
        unsafe { &mut (*self.bio).transport }
    }

    pub fn transport_ref(&self) -> &Transport {
        // SAFETY: as above.
        unsafe { &(*self.bio).transport }
    }

    pub(super) fn bio(&mut self) -> &mut BioCtx {
        // SAFETY: as above.
        unsafe { &mut *self.bio }
    }

    pub(super) fn key_export(&self) -> &KeyExport {
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
    pub fn handshake(&mut self) -> i32 {
        // SAFETY: initialised session; exclusive access.
        unsafe {
            while !generation::handshake_over(&self.ctx) {
                super::resumption::clear_server_resumption_mark();
                let ret = sys::ssl_handshake_step(&mut *self.ctx);
                if super::resumption::server_resumption_marked() {
                    // Server: a ticket or cached session was accepted.
                    self.resumed = true;
                }
                if self.config.server && generation::server_certificate_next(&self.ctx) {
                    self.resumed = false;
                }
                if ret == sys::ERR_SSL_RECEIVED_NEW_SESSION_TICKET {
                    continue;
                }
                if ret != 0 {
                    self.alert_on_silent_failure(ret);
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
    pub fn read(&mut self, buf: &mut [u8]) -> i32 {
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
            // SAFETY: read-only query.
            if ret == sys::ERR_SSL_WANT_READ
                && spins < 64
                && unsafe { sys::ssl_check_pending(&*self.ctx) } != 0
            {
                spins += 1;
                continue;
            }
            return ret;
        }
    }

    pub fn write(&mut self, buf: &[u8]) -> i32 {
        loop {
            // SAFETY: buf valid for its length.
            let ret = unsafe { sys::ssl_write(&mut *self.ctx, buf.as_ptr(), buf.len()) };
            if ret != sys::ERR_SSL_RECEIVED_NEW_SESSION_TICKET {
                return ret;
            }
        }
    }

    pub fn close_notify(&mut self) -> i32 {
        // SAFETY: exclusive access.
        unsafe { sys::ssl_close_notify(&mut *self.ctx) }
    }

    /// What `read` returns without receiving anything: the application
    /// bytes Mbed TLS holds (`ssl_get_bytes_avail`). Handshake messages it
    /// still holds (`ssl_check_pending`: a record with several) are
    /// processed first, with receiving switched off; if that ends in a
    /// close_notify or an error, the next `read` returns it and this
    /// counts it as 1 (a read returns at once).
    pub fn pending(&mut self) -> usize {
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
        let ret = self.read(&mut scratch[..0]);
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
        let flags = self.verify_flags();
        let mismatch = self.hook.host_mismatch.borrow().clone();
        let mut e = ssl_error(ret, !self.handshake_done(), flags, mismatch.as_deref());
        if let Some(alert) = self.received_alert(ret) {
            e.message = format!("{} ({})", e.message, super::errors::alert_name(alert));
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

/// Raw Mbed TLS codes the core needs to recognise.
pub mod codes {
    use super::sys;
    pub(crate) const WANT_READ: i32 = sys::ERR_SSL_WANT_READ;
    pub(crate) const WANT_WRITE: i32 = sys::ERR_SSL_WANT_WRITE;
    pub(crate) const PEER_CLOSE_NOTIFY: i32 = sys::ERR_SSL_PEER_CLOSE_NOTIFY;
    pub(crate) const CONN_EOF: i32 = sys::ERR_SSL_CONN_EOF;
    pub(crate) const FATAL_ALERT: i32 = sys::ERR_SSL_FATAL_ALERT_MESSAGE;
}
