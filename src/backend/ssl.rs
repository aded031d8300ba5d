//! TLS configurations and sessions: the Mbed TLS `ssl_config` and
//! `ssl_context` with everything they point to kept alive beside them.

use std::ffi::{CStr, CString};
use std::net::IpAddr;
use std::sync::Arc;

use super::errors::{mbed_error, ssl_error};
use super::pk::PrivateKey;
use super::rng::Drbg;
use super::suites;
use super::sys;
use super::x509::{self, CertChain, CertInfo, San};
use crate::error::{Code, Error, Result};
use crate::transport::Transport;

/// Verify modes (same values as Mbed TLS and the C API).
pub(crate) const VERIFY_NONE: i32 = sys::SSL_VERIFY_NONE;
pub(crate) const VERIFY_OPTIONAL: i32 = sys::SSL_VERIFY_OPTIONAL;
pub(crate) const VERIFY_REQUIRED: i32 = sys::SSL_VERIFY_REQUIRED;

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
    pub groups: Option<Vec<sys::ecp_group_id>>,
}

/// A ready `ssl_config`. Immutable once built; shared by connections.
pub struct SslConfig {
    conf: Box<sys::ssl_config>,
    _drbg: Box<Drbg>,
    _ca: Option<Arc<CertChain>>,
    _own: Vec<(Arc<CertChain>, Arc<PrivateKey>)>,
    _alpn: Vec<CString>,
    _alpn_ptrs: Vec<*const libc::c_char>,
    _suites: Vec<i32>,
    _groups: Vec<sys::ecp_group_id>,
    pub server: bool,
    pub authmode: i32,
}

// SAFETY: the config is never mutated after build(); Mbed TLS only reads it
// from sessions, and its RNG (the DRBG) locks internally.
unsafe impl Send for SslConfig {}
unsafe impl Sync for SslConfig {}

fn minor(version: u16) -> i32 {
    (version & 0xff) as i32
}

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

        // SAFETY: the config is initialised before use; every pointer handed to
        // it (DRBG, chains, keys, ALPN, suites, groups) is owned by the returned
        // SslConfig and outlives the ssl_config.
        unsafe {
            let mut conf: Box<sys::ssl_config> = Box::new(std::mem::zeroed());
            sys::ssl_config_init(&mut *conf);
            let mut cfg = SslConfig {
                conf,
                _drbg: drbg,
                _ca: spec.ca.clone(),
                _own: spec.own.clone(),
                _alpn: alpn,
                _alpn_ptrs: alpn_ptrs,
                _suites: suites,
                _groups: groups,
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
                endpoint,
                sys::SSL_TRANSPORT_STREAM,
                sys::SSL_PRESET_DEFAULT,
            );
            if ret != 0 {
                return Err(mbed_error(
                    ret,
                    Code::MOJO_TLS_ERR_INTERNAL,
                    "ssl_config_defaults",
                ));
            }
            sys::ssl_conf_rng(c, Some(Drbg::callback), cfg._drbg.as_ptr());
            sys::ssl_conf_min_version(c, sys::SSL_MAJOR_VERSION_3, minor(spec.min_version));
            sys::ssl_conf_max_version(c, sys::SSL_MAJOR_VERSION_3, minor(spec.max_version));
            sys::ssl_conf_authmode(c, spec.authmode);
            sys::ssl_conf_cert_profile(c, &x509::PROFILE);
            sys::ssl_conf_sig_hashes(c, suites::SIG_HASHES.as_ptr());
            sys::ssl_conf_ciphersuites(c, cfg._suites.as_ptr());
            sys::ssl_conf_curves(c, cfg._groups.as_ptr());
            sys::ssl_conf_renegotiation(c, sys::SSL_RENEGOTIATION_DISABLED as i32);
            if let Some(ca) = &cfg._ca {
                sys::ssl_conf_ca_chain(c, ca.as_mut_ptr(), std::ptr::null_mut());
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
            Ok(cfg)
        }
    }

    fn as_ptr(&self) -> *const sys::ssl_config {
        &*self.conf
    }
}

impl Drop for SslConfig {
    fn drop(&mut self) {
        // SAFETY: initialised in build(); no session outlives its Arc<SslConfig>.
        unsafe { sys::ssl_config_free(&mut *self.conf) };
    }
}

/// Per-session inputs to our certificate-verify callback.
struct VerifyHook {
    /// Connecting to an IP literal: Mbed TLS 2.28 only matches DNS names, so
    /// the IP SAN check is ours (and no SNI is sent, per RFC 6066).
    expect_ip: Option<IpAddr>,
    check_hostname: bool,
}

unsafe extern "C" fn verify_cb(
    p: *mut libc::c_void,
    crt: *mut sys::x509_crt,
    depth: i32,
    flags: *mut u32,
) -> i32 {
    if p.is_null() || crt.is_null() || flags.is_null() || depth != 0 {
        return 0;
    }
    let hook = &*(p as *const VerifyHook);
    if !hook.check_hostname {
        *flags &= !(sys::X509_BADCERT_CN_MISMATCH as u32);
    } else if let Some(ip) = hook.expect_ip {
        let ok = x509::sans(&*crt)
            .iter()
            .any(|s| matches!(s, San::Ip(a) if *a == ip));
        if !ok {
            *flags |= sys::X509_BADCERT_CN_MISMATCH as u32;
        }
    }
    0
}

/// An `ssl_context` bound to a transport.
pub struct Session {
    ctx: Box<sys::ssl_context>,
    transport: *mut Transport,
    _hook: Box<VerifyHook>,
    config: Arc<SslConfig>,
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
        let hook = Box::new(VerifyHook {
            expect_ip,
            check_hostname,
        });
        let transport = Box::into_raw(Box::new(transport));
        // SAFETY: ctx is initialised before use; the transport, hook and config
        // live as long as the session (freed in Drop after ssl_free).
        unsafe {
            let mut ctx: Box<sys::ssl_context> = Box::new(std::mem::zeroed());
            sys::ssl_init(&mut *ctx);
            let mut s = Session {
                ctx,
                transport,
                _hook: hook,
                config,
            };
            let ret = sys::ssl_setup(&mut *s.ctx, s.config.as_ptr());
            if ret != 0 {
                return Err(mbed_error(ret, Code::MOJO_TLS_ERR_NO_MEMORY, "ssl_setup"));
            }
            sys::ssl_set_bio(
                &mut *s.ctx,
                s.transport as *mut libc::c_void,
                Some(super::bio::send),
                Some(super::bio::recv),
                None,
            );
            sys::ssl_set_verify(
                &mut *s.ctx,
                Some(verify_cb),
                &*s._hook as *const VerifyHook as *mut libc::c_void,
            );
            if !s.config.server {
                if let Some(name) = server_name.filter(|_| s._hook.expect_ip.is_none()) {
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
        unsafe { &mut *self.transport }
    }

    pub fn transport_ref(&self) -> &Transport {
        // SAFETY: as above.
        unsafe { &*self.transport }
    }

    pub fn is_server(&self) -> bool {
        self.config.server
    }

    pub fn handshake_done(&self) -> bool {
        self.ctx.state == sys::SSL_HANDSHAKE_OVER as i32
    }

    /// One step: 0 when done, else a raw Mbed TLS code (WANT_* included).
    pub fn handshake(&mut self) -> i32 {
        // SAFETY: initialised session; exclusive access.
        unsafe { sys::ssl_handshake(&mut *self.ctx) }
    }

    pub fn read(&mut self, buf: &mut [u8]) -> i32 {
        // SAFETY: buf valid for its length.
        unsafe { sys::ssl_read(&mut *self.ctx, buf.as_mut_ptr(), buf.len()) }
    }

    pub fn write(&mut self, buf: &[u8]) -> i32 {
        // SAFETY: buf valid for its length.
        unsafe { sys::ssl_write(&mut *self.ctx, buf.as_ptr(), buf.len()) }
    }

    pub fn close_notify(&mut self) -> i32 {
        // SAFETY: exclusive access.
        unsafe { sys::ssl_close_notify(&mut *self.ctx) }
    }

    pub fn bytes_avail(&self) -> usize {
        // SAFETY: read-only query.
        unsafe { sys::ssl_get_bytes_avail(&*self.ctx) }
    }

    pub fn version(&self) -> u16 {
        if !self.handshake_done() {
            return 0;
        }
        ((self.ctx.major_ver as u16) << 8) | self.ctx.minor_ver as u16
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
    pub fn verify_flags(&self) -> u32 {
        // SAFETY: read-only query.
        unsafe { sys::ssl_get_verify_result(&*self.ctx) }
    }

    /// Turn a raw failure into an `Error`.
    pub fn error(&self, ret: i32) -> Error {
        let flags = self.verify_flags();
        ssl_error(
            ret,
            !self.handshake_done(),
            if flags == u32::MAX { 0 } else { flags },
        )
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: ssl_free first (it may not touch the transport afterwards),
        // then the transport we leaked into a raw pointer in new().
        unsafe {
            sys::ssl_free(&mut *self.ctx);
            drop(Box::from_raw(self.transport));
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
}
