//! Where trust comes from: the system CA store (per OS family), files,
//! directories and memory.

use crate::backend::x509::CertChain;
use crate::error::{Code, Error, Result};

/// CA bundle files, most common first: Debian/Ubuntu, Fedora/RHEL, openSUSE,
/// Alpine, macOS Homebrew (Apple silicon and Intel), FreeBSD.
const CA_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/opt/homebrew/etc/ca-certificates/cert.pem",
    "/usr/local/etc/ca-certificates/cert.pem",
    "/opt/homebrew/etc/openssl@3/cert.pem",
    "/usr/local/etc/openssl@3/cert.pem",
    "/usr/local/share/certs/ca-root-nss.crt",
];

const CA_DIRS: &[&str] = &["/etc/ssl/certs", "/etc/pki/tls/certs"];

/// Load the system store into `chain`. `SSL_CERT_FILE` / `SSL_CERT_DIR`
/// override the built-in locations (as with OpenSSL).
pub fn load_system_store(chain: &mut CertChain) -> Result<usize> {
    let env_file = std::env::var("SSL_CERT_FILE")
        .ok()
        .filter(|s| !s.is_empty());
    let env_dir = std::env::var("SSL_CERT_DIR").ok().filter(|s| !s.is_empty());
    if env_file.is_some() || env_dir.is_some() {
        let mut n = 0;
        if let Some(f) = &env_file {
            n += chain
                .add_file(f, true)
                .map_err(|e| e.context("SSL_CERT_FILE"))?;
        }
        if let Some(dirs) = &env_dir {
            for d in dirs.split(':').filter(|d| !d.is_empty()) {
                n += chain.add_dir(d).map_err(|e| e.context("SSL_CERT_DIR"))?;
            }
        }
        return Ok(n);
    }
    for f in CA_FILES {
        if std::path::Path::new(f).is_file() {
            if let Ok(n) = chain.add_file(f, true) {
                return Ok(n);
            }
        }
    }
    for d in CA_DIRS {
        if std::path::Path::new(d).is_dir() {
            if let Ok(n) = chain.add_dir(d) {
                return Ok(n);
            }
        }
    }
    Err(Error::new(
        Code::MOJO_TLS_ERR_NOT_FOUND,
        "no system CA store found (set SSL_CERT_FILE or SSL_CERT_DIR, or load CAs explicitly)",
    ))
}
