//! NSS key-log output (for Wireshark and friends): opt-in per configuration,
//! or via SSLKEYLOGFILE. Mbed TLS's export callbacks (keys.rs) write it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::Mutex;

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
}
