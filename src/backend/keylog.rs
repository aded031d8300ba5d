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

    /// TLS 1.2 export callback (2.28: per configuration).
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
