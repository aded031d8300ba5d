//! Cipher suite and group names: IANA names on our side, Mbed TLS ids below.

use std::collections::HashMap;
use std::ffi::{CStr, CString};

use std::sync::LazyLock;

use super::generation::{self, GroupId};
use super::sys;
use crate::error::{Error, Result};

pub struct SuiteTable {
    /// id → IANA name, NUL-terminated (handed out as static C strings).
    by_id: HashMap<i32, CString>,
    /// IANA name (upper case) → id.
    by_name: HashMap<String, i32>,
}

/// "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256" → "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
/// "TLS1-3-AES-128-GCM-SHA256" → "TLS_AES_128_GCM_SHA256".
fn iana_name(mbed: &str) -> String {
    let s = mbed
        .strip_prefix("TLS1-3-")
        .map(|r| format!("TLS-{r}"))
        .unwrap_or_else(|| mbed.to_string());
    s.replace('-', "_")
}

pub static TABLE: LazyLock<SuiteTable> = LazyLock::new(|| {
    let mut by_id = HashMap::new();
    let mut by_name = HashMap::new();
    // SAFETY: list_ciphersuites returns a static 0-terminated array; names are static.
    unsafe {
        let mut p = sys::ssl_list_ciphersuites();
        while !p.is_null() && *p != 0 {
            let id = *p;
            let name = sys::ssl_get_ciphersuite_name(id);
            if !name.is_null() {
                let iana = iana_name(&CStr::from_ptr(name).to_string_lossy());
                by_name.insert(iana.to_ascii_uppercase(), id);
                by_id.insert(id, CString::new(iana).unwrap_or_default());
            }
            p = p.add(1);
        }
    }
    SuiteTable { by_id, by_name }
});

/// Default suites: forward-secret AEAD only, fast ones first.
const DEFAULT_SUITES: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

/// Fragments of suite names that are never allowed, even when asked for by name.
const FORBIDDEN: &[&str] = &[
    "NULL", "RC4", "3DES", "DES_", "MD5", "EXPORT", "ANON", "PSK",
];

pub fn iana_name_of(id: i32) -> Option<&'static CStr> {
    TABLE.by_id.get(&id).map(|c| c.as_c_str())
}

/// Which protocol versions a (zero-terminated) suite list can serve: (TLS 1.2, TLS 1.3).
pub fn versions_served(ids: &[i32]) -> (bool, bool) {
    let mut has12 = false;
    let mut has13 = false;
    for id in ids.iter().take_while(|id| **id != 0) {
        match iana_name_of(*id).and_then(|c| c.to_str().ok()) {
            // TLS 1.3 suite names carry no key exchange ("TLS_AES_…").
            Some(n) if !n.contains("_WITH_") => has13 = true,
            Some(_) => has12 = true,
            None => {}
        }
    }
    (has12, has13)
}

/// Zero-terminated list of default suite ids.
pub fn default_suites() -> Vec<i32> {
    let mut v: Vec<i32> = DEFAULT_SUITES
        .iter()
        .filter_map(|n| TABLE.by_name.get(*n).copied())
        .collect();
    v.push(0);
    v
}

/// Parse "A:B,C" into a zero-terminated id list.
pub fn parse_suites(names: &str) -> Result<Vec<i32>> {
    let mut out = Vec::new();
    for raw in names.split([':', ',', ' ']).filter(|s| !s.is_empty()) {
        let key = raw.trim().to_ascii_uppercase().replace('-', "_");
        let Some(id) = TABLE.by_name.get(&key).copied() else {
            return Err(Error::invalid_arg(format!(
                "unknown or unsupported cipher suite '{raw}'"
            )));
        };
        if FORBIDDEN.iter().any(|f| key.contains(f)) || key.starts_with("TLS_RSA_WITH") {
            return Err(Error::invalid_arg(format!(
                "cipher suite '{raw}' is weak or not forward-secret and is not allowed"
            )));
        }
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if out.is_empty() {
        return Err(Error::invalid_arg("empty cipher suite list"));
    }
    out.push(0);
    Ok(out)
}

/// Default groups: x25519 and P-256 first (fast); P-384 so P-384 certificates
/// verify. secp521r1 is left out: Mbed TLS's own default puts it first, which
/// makes handshakes with OpenSSL slow.
const DEFAULT_GROUPS: &[&str] = &["x25519", "secp256r1", "secp384r1"];

fn group_id(name: &str) -> Option<GroupId> {
    let canonical = match name.to_ascii_lowercase().as_str() {
        "x25519" => "x25519",
        "x448" => "x448",
        "p-256" | "prime256v1" | "secp256r1" => "secp256r1",
        "p-384" | "secp384r1" => "secp384r1",
        "p-521" | "secp521r1" => "secp521r1",
        "brainpoolp256r1" => "brainpoolP256r1",
        "brainpoolp384r1" => "brainpoolP384r1",
        "brainpoolp512r1" => "brainpoolP512r1",
        _ => return None,
    };
    generation::group_id(canonical)
}

/// A list terminated by the "none" group, as Mbed TLS wants.
pub fn parse_groups(names: &str) -> Result<Vec<GroupId>> {
    let mut out = Vec::new();
    for raw in names.split([':', ',', ' ']).filter(|s| !s.is_empty()) {
        let id = group_id(raw.trim())
            .ok_or_else(|| Error::invalid_arg(format!("unknown or unsupported group '{raw}'")))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if out.is_empty() {
        return Err(Error::invalid_arg("empty group list"));
    }
    out.push(generation::GROUP_NONE);
    Ok(out)
}

pub fn default_groups() -> Vec<GroupId> {
    parse_groups(&DEFAULT_GROUPS.join(",")).unwrap_or_else(|_| vec![generation::GROUP_NONE])
}
