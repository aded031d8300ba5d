//! Mbed TLS's key-export callbacks: one place that writes the key log,
//! captures the traffic keys the fast record layer (`crate::record`) takes
//! over after the handshake, and keeps the TLS 1.2 master secret for the
//! keying material exporter (`exporter.rs`).
//!
//! The callback is set per session (`ssl_set_export_keys_cb`): the
//! session's own [`KeyExport`] is its context.

use std::cell::RefCell;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::keylog::KeyLog;
use super::sys;

/// Key material as Mbed TLS exported it.
pub enum Material {
    /// TLS 1.2: the master secret and both randoms.
    Tls12Master {
        master: Zeroizing<Vec<u8>>,
        client_random: [u8; 32],
        server_random: [u8; 32],
    },
    /// TLS 1.3: the application traffic secrets (traffic_secret_0).
    Tls13 {
        client: Option<Zeroizing<Vec<u8>>>,
        server: Option<Zeroizing<Vec<u8>>>,
    },
}

/// TLS 1.2: what RFC 5705's exporter needs, kept for the session's life.
pub struct Tls12Secret {
    pub master: Zeroizing<Vec<u8>>,
    pub client_random: [u8; 32],
    pub server_random: [u8; 32],
    /// The PRF's hash is SHA-384 (else SHA-256).
    pub sha384: bool,
}

/// Per session: the key log, the captured keys and the exporter's secret.
pub struct KeyExport {
    pub keylog: Option<Arc<KeyLog>>,
    /// Capture keys at all (the fast record layer is enabled).
    pub capture: bool,
    material: RefCell<Option<Material>>,
    tls12: RefCell<Option<Tls12Secret>>,
}

impl KeyExport {
    pub fn new(keylog: Option<Arc<KeyLog>>, capture: bool) -> KeyExport {
        KeyExport {
            keylog,
            capture,
            material: RefCell::new(None),
            tls12: RefCell::new(None),
        }
    }

    /// TLS 1.2: the master secret, randoms and PRF of the handshake.
    pub fn tls12_secret(&self) -> std::cell::Ref<'_, Option<Tls12Secret>> {
        self.tls12.borrow()
    }

    /// The captured material (taken: keys are not kept twice).
    pub fn take(&self) -> Option<Material> {
        self.material.borrow_mut().take()
    }

    fn store_tls12_master(&self, ms: &[u8], client_random: &[u8], server_random: &[u8]) {
        let (Ok(cr), Ok(sr)) = (client_random.try_into(), server_random.try_into()) else {
            return;
        };
        *self.material.borrow_mut() = Some(Material::Tls12Master {
            master: Zeroizing::new(ms.to_vec()),
            client_random: cr,
            server_random: sr,
        });
    }

    fn store_tls13(&self, server: bool, secret: &[u8]) {
        let mut m = self.material.borrow_mut();
        if !matches!(*m, Some(Material::Tls13 { .. })) {
            *m = Some(Material::Tls13 {
                client: None,
                server: None,
            });
        }
        if let Some(Material::Tls13 {
            client,
            server: srv,
        }) = m.as_mut()
        {
            let slot = if server { srv } else { client };
            *slot = Some(Zeroizing::new(secret.to_vec()));
        }
    }
}

/// Install the export callback on a session.
///
/// # Safety
/// `ssl` is set up; `export` outlives it.
pub(crate) unsafe fn install_on_session(ssl: *mut sys::ssl_context, export: &KeyExport) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        sys::ssl_set_export_keys_cb(
            ssl,
            Some(export_cb),
            export as *const KeyExport as *mut libc::c_void,
        );
    }
}

/// Key log line (the secret's type gives the NSS label) and the secrets
/// the fast layer needs.
///
/// # Safety
/// Called by Mbed TLS only, with the context pointer registered alongside the
/// callback and every other pointer valid for the length it passes.
unsafe extern "C" fn export_cb(
    p: *mut libc::c_void,
    kind: sys::ssl_key_export_type,
    secret: *const u8,
    secret_len: usize,
    client_random: *const u8,
    server_random: *const u8,
    prf: sys::tls_prf_types,
) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if p.is_null() || secret.is_null() || client_random.is_null() {
            return;
        }
        let _ = std::panic::catch_unwind(|| {
            let export = &*(p as *const KeyExport);
            let secret = std::slice::from_raw_parts(secret, secret_len);
            let client_random = std::slice::from_raw_parts(client_random, 32);
            let label = match kind {
                sys::SSL_KEY_EXPORT_TLS12_MASTER_SECRET => "CLIENT_RANDOM",
                sys::SSL_KEY_EXPORT_TLS1_3_CLIENT_HANDSHAKE_TRAFFIC_SECRET => {
                    "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
                }
                sys::SSL_KEY_EXPORT_TLS1_3_SERVER_HANDSHAKE_TRAFFIC_SECRET => {
                    "SERVER_HANDSHAKE_TRAFFIC_SECRET"
                }
                sys::SSL_KEY_EXPORT_TLS1_3_CLIENT_APPLICATION_TRAFFIC_SECRET => {
                    "CLIENT_TRAFFIC_SECRET_0"
                }
                sys::SSL_KEY_EXPORT_TLS1_3_SERVER_APPLICATION_TRAFFIC_SECRET => {
                    "SERVER_TRAFFIC_SECRET_0"
                }
                _ => return,
            };
            if let Some(log) = &export.keylog {
                log.write_line(label, client_random, secret);
            }
            if kind == sys::SSL_KEY_EXPORT_TLS12_MASTER_SECRET && !server_random.is_null() {
                if let Ok(cr) = client_random.try_into() {
                    *export.tls12.borrow_mut() = Some(Tls12Secret {
                        master: Zeroizing::new(secret.to_vec()),
                        client_random: cr,
                        server_random: *(server_random as *const [u8; 32]),
                        sha384: prf == sys::SSL_TLS_PRF_SHA384,
                    });
                }
            }
            if !export.capture {
                return;
            }
            match kind {
                sys::SSL_KEY_EXPORT_TLS12_MASTER_SECRET if !server_random.is_null() => {
                    export.store_tls12_master(
                        secret,
                        client_random,
                        std::slice::from_raw_parts(server_random, 32),
                    );
                }
                sys::SSL_KEY_EXPORT_TLS1_3_CLIENT_APPLICATION_TRAFFIC_SECRET => {
                    export.store_tls13(false, secret)
                }
                sys::SSL_KEY_EXPORT_TLS1_3_SERVER_APPLICATION_TRAFFIC_SECRET => {
                    export.store_tls13(true, secret)
                }
                _ => {}
            }
        });
    }
}
