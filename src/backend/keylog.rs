//! NSS key-log output (for Wireshark and friends): opt-in per configuration,
//! or via SSLKEYLOGFILE.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::Mutex;

use super::sys;
use crate::error::{Error, Result};

pub struct KeyLog {
    file: Mutex<File>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl KeyLog {
    pub fn open(path: &str) -> Result<KeyLog> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(&format!("key log file '{path}'"), &e))?;
        Ok(KeyLog {
            file: Mutex::new(file),
        })
    }

    pub fn write_line(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = format!("{label} {} {}\n", hex(client_random), hex(secret));
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // One write per line so concurrent processes appending do not interleave.
        let _ = f.write_all(line.as_bytes());
    }

    /// 2.28: key export is configured per configuration.
    #[cfg(not(any(mbedtls_3, mbedtls_4)))]
    pub(crate) unsafe fn install_on_config(
        conf: *mut sys::ssl_config,
        log: &std::sync::Arc<KeyLog>,
    ) {
        sys::ssl_conf_export_keys_ext_cb(
            conf,
            Some(KeyLog::export_cb),
            std::sync::Arc::as_ptr(log) as *mut libc::c_void,
        );
    }

    #[cfg(any(mbedtls_3, mbedtls_4))]
    pub(crate) unsafe fn install_on_config(
        _conf: *mut sys::ssl_config,
        _log: &std::sync::Arc<KeyLog>,
    ) {
    }

    /// 3.6 / 4.x: key export is per context, with TLS 1.3 secrets.
    #[cfg(any(mbedtls_3, mbedtls_4))]
    pub(crate) unsafe fn install_on_session(
        ssl: *mut sys::ssl_context,
        log: &std::sync::Arc<KeyLog>,
    ) {
        sys::ssl_set_export_keys_cb(
            ssl,
            Some(KeyLog::export_cb),
            std::sync::Arc::as_ptr(log) as *mut libc::c_void,
        );
    }

    #[cfg(not(any(mbedtls_3, mbedtls_4)))]
    pub(crate) unsafe fn install_on_session(
        _ssl: *mut sys::ssl_context,
        _log: &std::sync::Arc<KeyLog>,
    ) {
    }

    /// 3.6 / 4.x export callback: the secret's type gives the NSS label.
    #[cfg(any(mbedtls_3, mbedtls_4))]
    pub(crate) unsafe extern "C" fn export_cb(
        p: *mut libc::c_void,
        kind: sys::ssl_key_export_type,
        secret: *const u8,
        secret_len: usize,
        client_random: *const u8,
        _server_random: *const u8,
        _prf: sys::tls_prf_types,
    ) {
        if p.is_null() || secret.is_null() || client_random.is_null() {
            return;
        }
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
        let _ = std::panic::catch_unwind(|| {
            let log = &*(p as *const KeyLog);
            log.write_line(
                label,
                std::slice::from_raw_parts(client_random, 32),
                std::slice::from_raw_parts(secret, secret_len),
            );
        });
    }

    /// TLS 1.2 export callback (2.28: per configuration).
    #[cfg(not(any(mbedtls_3, mbedtls_4)))]
    #[allow(clippy::too_many_arguments)]
    pub(crate) unsafe extern "C" fn export_cb(
        p: *mut libc::c_void,
        ms: *const u8,
        _kb: *const u8,
        _maclen: usize,
        _keylen: usize,
        _ivlen: usize,
        client_random: *const u8,
        _server_random: *const u8,
        _prf: sys::tls_prf_types,
    ) -> i32 {
        if p.is_null() || ms.is_null() || client_random.is_null() {
            return 0;
        }
        let _ = std::panic::catch_unwind(|| {
            let log = &*(p as *const KeyLog);
            log.write_line(
                "CLIENT_RANDOM",
                std::slice::from_raw_parts(client_random, 32),
                std::slice::from_raw_parts(ms, 48),
            );
        });
        0
    }
}
