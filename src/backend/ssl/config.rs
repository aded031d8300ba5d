//! The Mbed TLS `ssl_config` built from the core's [`ConfigSpec`], with
//! everything it points to kept alive beside it.

use std::ffi::CString;
use std::sync::Arc;

use super::callbacks::{sni_cb, Pin, ServerNameCallback, SniTable};
use super::cid;
use super::cookies::{self, Cookies};
use super::server_name;
use crate::backend::errors::mbed_error;
use crate::backend::generation::{self, GroupId};
use crate::backend::keylog::KeyLog;
use crate::backend::pk::PrivateKey;
use crate::backend::resumption::{SessionCache, TicketKeys};
use crate::backend::rng::Drbg;
use crate::backend::suites;
use crate::backend::sys;
use crate::backend::ticket_keys::{OwnTickets, TicketKeyRing};
use crate::backend::x509::{self, CertChain, Crl};
use crate::error::{Code, Error, Result};

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
    /// Server: the application's server name callback.
    pub server_name_cb: Option<ServerNameCallback>,
    /// DTLS 1.2 (datagrams) instead of TLS.
    pub datagram: bool,
    /// DTLS handshake retransmission delays (min, max ms); Mbed TLS's
    /// defaults (1 s doubling to 60 s) when `None`.
    pub handshake_timeout: Option<(u32, u32)>,
    /// DTLS: offer Connection IDs, own CIDs of this length (RFC 9146).
    pub dtls_cid: Option<u8>,
}

/// A ready `ssl_config`. Immutable once built; shared by connections.
pub struct SslConfig {
    conf: Box<sys::ssl_config>,
    /// Client opted into psk_ke: a copy of `conf` with the psk_ke mode alone
    /// (so no key share), which a connection resuming a TLS 1.3 session
    /// runs on (see `import_session`). A shallow copy: it shares everything
    /// `conf` points to, so it is never passed to `ssl_config_free`.
    pub(super) psk_only: Option<Box<sys::ssl_config>>,
    _drbg: Box<Drbg>,
    _ca: Option<Arc<CertChain>>,
    _own: Vec<(Arc<CertChain>, Arc<PrivateKey>)>,
    _alpn: Vec<CString>,
    _alpn_ptrs: Vec<*const libc::c_char>,
    _suites: Vec<i32>,
    _groups: Vec<GroupId>,
    _crl: Option<Arc<Crl>>,
    pub(super) _keylog: Option<Arc<KeyLog>>,
    pub(super) capture_keys: bool,
    _tickets: Option<TicketKeys>,
    _own_tickets: Option<Box<OwnTickets>>,
    _cache: Option<SessionCache>,
    _sni: Box<SniTable>,
    /// Pin-only configs verify against an empty (but present) CA chain.
    _empty_ca: Option<CertChain>,
    pub(super) pins: Arc<Vec<Pin>>,
    pub(super) pin_only: bool,
    pub(super) server_name_cb: Option<ServerNameCallback>,
    pub server: bool,
    pub authmode: i32,
    /// DTLS: sessions get a timer and servers check cookies.
    pub datagram: bool,
    /// DTLS: each session offers a random own CID of this length.
    pub dtls_cid: Option<u8>,
    /// DTLS server: the HelloVerifyRequest cookie key (freed after the
    /// config, which points to it).
    pub(super) cookies: Option<Cookies>,
}

// SAFETY: the config is never mutated after build(); Mbed TLS only reads it
// from sessions, and its RNG (the DRBG) locks internally.
unsafe impl Send for SslConfig {}
// SAFETY: as for Send, above.
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
                server_name_cb: spec.server_name_cb.clone().filter(|_| spec.server),
                server: spec.server,
                authmode: spec.authmode,
                datagram: spec.datagram,
                dtls_cid: spec.dtls_cid.filter(|_| spec.datagram),
                cookies: None,
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
                if spec.datagram {
                    sys::SSL_TRANSPORT_DATAGRAM as i32
                } else {
                    sys::SSL_TRANSPORT_STREAM as i32
                },
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
            if cfg.server_name_cb.is_some() {
                // Runs after the SNI table (which is consulted while the
                // ClientHello's extensions are parsed).
                generation::conf_cert_cb(c, Some(server_name::cert_cb));
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
            if spec.datagram {
                cookies::conf_datagram(&mut *cfg.conf, spec.handshake_timeout);
                if let Some(len) = cfg.dtls_cid {
                    cid::conf_cid(&mut *cfg.conf, len)?;
                }
                if spec.server {
                    let cookies = Cookies::new(&cfg._drbg)?;
                    cookies.install(&mut *cfg.conf);
                    cfg.cookies = Some(cookies);
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

    pub(super) fn as_ptr(&self) -> *const sys::ssl_config {
        &*self.conf
    }

    /// Inside a server name callback: the handshake on this thread takes
    /// this (server) config's certificates (chosen by the client's name
    /// among them as its SNI table would, else all of them), CA chain and
    /// CRL, client-auth mode and pins. The session keeps the config alive.
    pub fn adopt_in_handshake(self: &Arc<Self>) -> Result<()> {
        if !self.server {
            return Err(Error::invalid_arg(
                "a connection can switch only to a server configuration",
            ));
        }
        server_name::with_active(|ssl, hook| {
            let name = hook.server_name.borrow().clone();
            let chosen: Vec<(*mut sys::x509_crt, *mut sys::pk_context)> =
                match name.as_deref().and_then(|n| self._sni.pick(n)) {
                    Some(pair) => vec![pair],
                    None => self
                        ._own
                        .iter()
                        .map(|(c, k)| (c.as_mut_ptr(), k.as_mut_ptr()))
                        .collect(),
                };
            // SAFETY: inside the certificate callback of `ssl`'s handshake,
            // where the ssl_set_hs_* calls are valid; every pointer is owned
            // by `self`, which the session keeps alive (`adopted`).
            unsafe {
                // NULL empties the handshake's list (the SNI table's pick).
                sys::ssl_set_hs_own_cert(ssl, std::ptr::null_mut(), std::ptr::null_mut());
                for (chain, key) in chosen {
                    let ret = sys::ssl_set_hs_own_cert(ssl, chain, key);
                    if ret != 0 {
                        return Err(mbed_error(
                            ret,
                            Code::MOJO_TLS_ERR_NO_MEMORY,
                            "ssl_set_hs_own_cert",
                        ));
                    }
                }
                let crl = self
                    ._crl
                    .as_ref()
                    .map_or(std::ptr::null_mut(), |c| c.as_mut_ptr());
                if let Some(empty) = &self._empty_ca {
                    sys::ssl_set_hs_ca_chain(ssl, empty.as_mut_ptr(), std::ptr::null_mut());
                } else if let Some(ca) = &self._ca {
                    sys::ssl_set_hs_ca_chain(ssl, ca.as_mut_ptr(), crl);
                }
                sys::ssl_set_hs_authmode(ssl, self.authmode);
            }
            *hook.pins.borrow_mut() = self.pins.clone();
            hook.pin_only.set(self.pin_only);
            hook.adopted.borrow_mut().push(self.clone());
            Ok(())
        })
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
