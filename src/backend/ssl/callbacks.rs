//! Mbed TLS's per-handshake callbacks: certificate verification (pins, IP
//! SANs, host name reasons) and server name indication; and the
//! per-session state they reach (the application's server name callback
//! is in `server_name.rs`).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::net::IpAddr;
use std::sync::Arc;

use crate::backend::generation;
use crate::backend::hash::sha256;
use crate::backend::keys::KeyExport;
use crate::backend::sys;
use crate::backend::x509::{self, San};

/// A certificate pin: SHA-256 of the certificate DER or of its SPKI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub spki: bool,
    pub hash: [u8; 32],
}

/// Server certificates by name, for the SNI callback.
pub(super) struct SniTable {
    pub(super) entries: Vec<(Vec<String>, *mut sys::x509_crt, *mut sys::pk_context)>,
}

impl SniTable {
    /// The first certificate whose names match `name`.
    pub(super) fn pick(&self, name: &str) -> Option<(*mut sys::x509_crt, *mut sys::pk_context)> {
        self.entries
            .iter()
            .find(|(names, _, _)| names.iter().any(|p| x509::name_matches(p, name)))
            .map(|(_, chain, key)| (*chain, *key))
    }
}

/// Per-session state reached from Mbed TLS callbacks (the verify context,
/// and the session user pointer for SNI).
pub(super) struct SessionHook {
    /// Connecting to an IP literal: the IP SAN check is ours (Mbed TLS is
    /// given no host name then), and no SNI is sent, per RFC 6066.
    pub(super) expect_ip: Option<IpAddr>,
    pub(super) check_hostname: bool,
    /// Pins and pin-only trust: the session's config's, or those of the
    /// config the server name callback switched to.
    pub(super) pins: RefCell<Arc<Vec<Pin>>>,
    pub(super) pin_only: Cell<bool>,
    pub(super) pin_matched: Cell<bool>,
    pub(super) pin_failed: Cell<bool>,
    /// Server: the name the client asked for (SNI). Client: the name sent.
    pub(super) server_name: RefCell<Option<String>>,
    /// Client: the host the certificate must match (DNS name or IP literal).
    pub(super) expected_host: Option<String>,
    /// Client: why the certificate does not match `expected_host`.
    pub(super) host_mismatch: RefCell<Option<String>>,
    /// A certificate was verified in this handshake (not on resumption).
    pub(super) verify_called: Cell<bool>,
    /// The client offered a saved session.
    pub(super) offered: Cell<bool>,
    /// Key log and captured traffic keys.
    pub(super) export: KeyExport,
    /// Server: the application's server name callback and the tag (the
    /// connection's handle) it is given.
    pub(super) server_name_cb: Option<ServerNameCallback>,
    pub(super) tag: usize,
    /// The callback ran in this handshake (a ClientHello after a
    /// HelloRetryRequest does not run it again).
    pub(super) server_name_cb_done: Cell<bool>,
    /// The callback aborted the handshake: the alert to send and why.
    pub(super) refused: RefCell<Option<(u8, String)>>,
    /// Configs the handshake switched to: kept alive as long as the session,
    /// which points into them (type-erased: this file does not know them).
    pub(super) adopted: RefCell<Vec<Arc<dyn Any + Send + Sync>>>,
}

/// The application's server name callback as the core wraps it: given the
/// session's tag and the client's server name (None without SNI), it returns
/// 0 to go on or a TLS alert description (1..=255) to abort the handshake.
pub type ServerNameCallback = Arc<dyn Fn(usize, Option<&str>) -> i32 + Send + Sync>;

const TRUST_FLAGS: u32 = (sys::X509_BADCERT_NOT_TRUSTED | sys::X509_BADCERT_CN_MISMATCH) as u32;

/// Called for every certificate of the chain, root first, leaf (depth 0) last.
///
/// # Safety
/// Called by Mbed TLS only, with the context pointer registered alongside the
/// callback and every other pointer valid for the length it passes.
pub(super) unsafe extern "C" fn verify_cb(
    p: *mut libc::c_void,
    crt: *mut sys::x509_crt,
    depth: i32,
    flags: *mut u32,
) -> i32 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if p.is_null() || crt.is_null() || flags.is_null() {
            return 0;
        }
        let hook = &*(p as *const SessionHook);
        hook.verify_called.set(true);
        let crt = &*crt;
        let pins = hook.pins.borrow().clone();
        let pin_only = hook.pin_only.get();
        if !pins.is_empty() {
            let der_hash = sha256(x509::raw_der(crt));
            let spki_hash = sha256(x509::spki_der(crt));
            if pins
                .iter()
                .any(|pin| pin.hash == if pin.spki { spki_hash } else { der_hash })
            {
                hook.pin_matched.set(true);
            }
        }
        if pin_only {
            *flags &= !TRUST_FLAGS;
        }
        if depth != 0 {
            return 0;
        }
        if !pin_only {
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
        if !pins.is_empty() && !hook.pin_matched.get() {
            *flags |= sys::X509_BADCERT_OTHER as u32;
            hook.pin_failed.set(true);
        }
        0
    }
}

/// Server: pick the certificate for the client's server name (fallback: the
/// first configured) and remember the name.
///
/// # Safety
/// Called by Mbed TLS only, with the context pointer registered alongside the
/// callback and every other pointer valid for the length it passes.
pub(super) unsafe extern "C" fn sni_cb(
    p: *mut libc::c_void,
    ssl: *mut sys::ssl_context,
    name: *const u8,
    len: usize,
) -> i32 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if p.is_null() || ssl.is_null() || name.is_null() {
            return 0;
        }
        let table = &*(p as *const SniTable);
        let name = String::from_utf8_lossy(std::slice::from_raw_parts(name, len)).into_owned();
        let hook = generation::session_user_ptr(ssl) as *const SessionHook;
        if !hook.is_null() {
            *(*hook).server_name.borrow_mut() = Some(name.clone());
        }
        match table.pick(&name) {
            Some((chain, key)) => sys::ssl_set_hs_own_cert(ssl, chain, key),
            None => 0,
        }
    }
}
