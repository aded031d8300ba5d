//! Mbed TLS's key-export callbacks: one place that writes the key log and
//! captures the traffic keys the fast record layer (`crate::record`) takes
//! over after the handshake.
//!
//! 2.28 exports per configuration (a config is shared by connections on
//! many threads), so the session being handshaken is found through a
//! thread-local set around each handshake step ([`Capturing`]). 3.6 / 4.x
//! export per context: the session's own [`KeyExport`] is the callback's
//! context.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use zeroize::Zeroizing;

use super::keylog::KeyLog;
use super::sys;

/// Key material as Mbed TLS exported it.
pub enum Material {
    /// 2.28, TLS 1.2: the key block `client_key | server_key | client_iv |
    /// server_iv` (AEAD suites: no MAC keys) with the key and IV lengths.
    Tls12Block {
        block: Zeroizing<Vec<u8>>,
        keylen: usize,
        ivlen: usize,
    },
    /// 3.6 / 4.x, TLS 1.2: the master secret and both randoms.
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

/// Per session: the key log (3.6 / 4.x) and the captured keys.
pub struct KeyExport {
    pub keylog: Option<Arc<KeyLog>>,
    /// Capture keys at all (the fast record layer is enabled).
    pub capture: bool,
    material: RefCell<Option<Material>>,
}

impl KeyExport {
    pub fn new(keylog: Option<Arc<KeyLog>>, capture: bool) -> KeyExport {
        KeyExport {
            keylog,
            capture,
            material: RefCell::new(None),
        }
    }

    /// The captured material (taken: keys are not kept twice).
    pub fn take(&self) -> Option<Material> {
        self.material.borrow_mut().take()
    }

    /// Forget anything captured (the fast layer will not be used).
    #[cfg_attr(any(mbedtls_3, mbedtls_4), allow(dead_code))]
    pub fn discard(&self) {
        self.material.borrow_mut().take();
    }

    #[cfg_attr(any(mbedtls_3, mbedtls_4), allow(dead_code))]
    fn store_tls12_block(&self, kb: &[u8], keylen: usize, ivlen: usize) {
        *self.material.borrow_mut() = Some(Material::Tls12Block {
            block: Zeroizing::new(kb.to_vec()),
            keylen,
            ivlen,
        });
    }

    #[cfg_attr(not(any(mbedtls_3, mbedtls_4)), allow(dead_code))]
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

    #[cfg_attr(not(any(mbedtls_3, mbedtls_4)), allow(dead_code))]
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

thread_local! {
    /// 2.28: the session whose handshake step runs on this thread.
    static CURRENT: Cell<*const KeyExport> = const { Cell::new(std::ptr::null()) };
}

/// Marks `export` as the session being handshaken on this thread while it
/// lives (2.28 dispatch; harmless elsewhere).
pub struct Capturing {
    prev: *const KeyExport,
}

impl Capturing {
    pub fn new(export: &KeyExport) -> Capturing {
        let prev = CURRENT.with(|c| c.replace(export as *const KeyExport));
        Capturing { prev }
    }
}

impl Drop for Capturing {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.prev));
    }
}

/// 2.28: what the per-configuration callback context holds.
#[cfg_attr(any(mbedtls_3, mbedtls_4), allow(dead_code))]
pub struct ConfigExport {
    pub keylog: Option<Arc<KeyLog>>,
}

/// 2.28: install the export callback on a configuration.
///
/// # Safety
/// `conf` is initialised; `ctx` outlives it.
#[cfg(not(any(mbedtls_3, mbedtls_4)))]
pub(crate) unsafe fn install_on_config(conf: *mut sys::ssl_config, ctx: &ConfigExport) {
    sys::ssl_conf_export_keys_ext_cb(
        conf,
        Some(export_cb),
        ctx as *const ConfigExport as *mut libc::c_void,
    );
}

#[cfg(any(mbedtls_3, mbedtls_4))]
pub(crate) unsafe fn install_on_config(_conf: *mut sys::ssl_config, _ctx: &ConfigExport) {}

/// 3.6 / 4.x: install the export callback on a session.
///
/// # Safety
/// `ssl` is set up; `export` outlives it.
#[cfg(any(mbedtls_3, mbedtls_4))]
pub(crate) unsafe fn install_on_session(ssl: *mut sys::ssl_context, export: &KeyExport) {
    sys::ssl_set_export_keys_cb(
        ssl,
        Some(export_cb),
        export as *const KeyExport as *mut libc::c_void,
    );
}

#[cfg(not(any(mbedtls_3, mbedtls_4)))]
pub(crate) unsafe fn install_on_session(_ssl: *mut sys::ssl_context, _export: &KeyExport) {}

/// 2.28 (TLS 1.2 only): key log line, and the key block for the session
/// handshaking on this thread.
#[cfg(not(any(mbedtls_3, mbedtls_4)))]
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn export_cb(
    p: *mut libc::c_void,
    ms: *const u8,
    kb: *const u8,
    maclen: usize,
    keylen: usize,
    ivlen: usize,
    client_random: *const u8,
    _server_random: *const u8,
    _prf: sys::tls_prf_types,
) -> i32 {
    // Unwinding into Mbed TLS's C frames is undefined: stop it here.
    let _ = std::panic::catch_unwind(|| {
        if !p.is_null() && !ms.is_null() && !client_random.is_null() {
            if let Some(log) = &(*(p as *const ConfigExport)).keylog {
                log.write_line(
                    "CLIENT_RANDOM",
                    std::slice::from_raw_parts(client_random, 32),
                    std::slice::from_raw_parts(ms, 48),
                );
            }
        }
        let current = CURRENT.with(|c| c.get());
        if current.is_null() || kb.is_null() {
            return;
        }
        let export = &*current;
        // The fast layer runs AEAD suites only: no MAC keys in the block.
        if export.capture && maclen == 0 && keylen > 0 && keylen <= 32 && ivlen <= 16 {
            let kb = std::slice::from_raw_parts(kb, 2 * (keylen + ivlen));
            export.store_tls12_block(kb, keylen, ivlen);
        } else {
            export.discard();
        }
    });
    0
}

/// 3.6 / 4.x: key log line (the secret's type gives the NSS label) and the
/// secrets the fast layer needs.
#[cfg(any(mbedtls_3, mbedtls_4))]
unsafe extern "C" fn export_cb(
    p: *mut libc::c_void,
    kind: sys::ssl_key_export_type,
    secret: *const u8,
    secret_len: usize,
    client_random: *const u8,
    server_random: *const u8,
    _prf: sys::tls_prf_types,
) {
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
