//! X.509 certificate chains (trust stores, own chains, peer certificates) and
//! the certificate details the C API reports.

use std::ffi::CStr;
use std::path::Path;

use super::errors::parse_error;
use super::files::pem_aware_buffer;
use super::sys;
use crate::error::{Code, Error, Result};

pub(crate) fn check_readable(path: &str, what: &str) -> Result<()> {
    match std::fs::metadata(Path::new(path)) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::new(
            Code::MOJO_TLS_ERR_NOT_FOUND,
            format!("{what} '{path}' does not exist"),
        )),
        Err(e) => Err(Error::io(&format!("{what} '{path}'"), &e)),
    }
}

/// An owned `mbedtls_x509_crt` list (one or more certificates).
pub struct CertChain {
    crt: Box<sys::x509_crt>,
    count: usize,
}

// SAFETY: after loading, a chain is only read (verification and queries do
// not mutate it); mutation requires `&mut`.
unsafe impl Send for CertChain {}
// SAFETY: as for Send, above.
unsafe impl Sync for CertChain {}

impl Default for CertChain {
    fn default() -> Self {
        Self::new()
    }
}

impl CertChain {
    pub fn new() -> CertChain {
        // SAFETY: zeroed memory is valid input to x509_crt_init.
        unsafe {
            let mut crt: Box<sys::x509_crt> = Box::new(std::mem::zeroed());
            sys::x509_crt_init(&mut *crt);
            CertChain { crt, count: 0 }
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn recount(&mut self) {
        self.count = self.iter().count();
    }

    /// Append certificates from PEM (one or many) or DER. With `lenient`, a
    /// PEM bundle with some unparsable entries is accepted as long as one
    /// certificate was loaded (system stores contain odd certificates).
    pub fn add(&mut self, data: &[u8], lenient: bool) -> Result<usize> {
        if data.is_empty() {
            return Err(Error::invalid_arg("empty certificate data"));
        }
        let before = self.count;
        let buf = pem_aware_buffer(data);
        // SAFETY: buf is valid for its length; crt is initialised.
        let ret = unsafe { sys::x509_crt_parse(&mut *self.crt, buf.as_ptr(), buf.len()) };
        self.recount();
        let added = self.count - before;
        if ret < 0 {
            return Err(parse_error(ret, "cannot parse certificate"));
        }
        if added == 0 {
            return Err(Error::new(
                Code::MOJO_TLS_ERR_PARSE,
                "no certificate found in the data",
            ));
        }
        if ret > 0 && !lenient {
            return Err(Error::new(
                Code::MOJO_TLS_ERR_PARSE,
                format!("{ret} certificate(s) in the data could not be parsed"),
            ));
        }
        Ok(added)
    }

    pub fn add_file(&mut self, path: &str, lenient: bool) -> Result<usize> {
        check_readable(path, "certificate file")?;
        let data = std::fs::read(path).map_err(|e| Error::io(&format!("reading '{path}'"), &e))?;
        self.add(&data, lenient)
            .map_err(|e| e.context(&format!("certificate file '{path}'")))
    }

    /// Load every certificate file in a directory (unparsable files are skipped).
    pub fn add_dir(&mut self, path: &str) -> Result<usize> {
        check_readable(path, "certificate directory")?;
        let before = self.count;
        // SAFETY: crt initialised.
        let ret =
            unsafe { super::files::parse_crt_dir(&mut *self.crt, std::path::Path::new(path)) };
        self.recount();
        if ret < 0 {
            return Err(parse_error(ret, &format!("certificate directory '{path}'")));
        }
        let added = self.count - before;
        if added == 0 {
            return Err(Error::new(
                Code::MOJO_TLS_ERR_NOT_FOUND,
                format!("no certificates found in directory '{path}'"),
            ));
        }
        Ok(added)
    }

    /// A copy (re-parsed from DER) so a chain in use is never mutated.
    pub fn duplicate(&self) -> Result<CertChain> {
        let mut c = CertChain::new();
        for crt in self.iter() {
            c.add(raw_der(crt), false)?;
        }
        Ok(c)
    }

    pub fn iter(&self) -> impl Iterator<Item = &sys::x509_crt> {
        let mut cur: *const sys::x509_crt = &*self.crt;
        std::iter::from_fn(move || {
            // SAFETY: the list is owned by self and well-formed; an entry with
            // version 0 is the empty head of an empty chain.
            unsafe {
                if cur.is_null() || (*cur).version == 0 {
                    return None;
                }
                let item = &*cur;
                cur = item.next;
                Some(item)
            }
        })
    }

    pub fn first(&self) -> Option<&sys::x509_crt> {
        self.iter().next()
    }

    pub(crate) fn as_mut_ptr(&self) -> *mut sys::x509_crt {
        &*self.crt as *const sys::x509_crt as *mut sys::x509_crt
    }
}

impl Drop for CertChain {
    fn drop(&mut self) {
        // SAFETY: initialised in new(); freed once.
        unsafe { sys::x509_crt_free(&mut *self.crt) };
    }
}

pub fn raw_der(crt: &sys::x509_crt) -> &[u8] {
    // SAFETY: raw points into the certificate's own buffer of raw.len bytes.
    unsafe { std::slice::from_raw_parts(crt.raw.p, crt.raw.len) }
}

/// Subject Alternative Names we understand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum San {
    Dns(String),
    Ip(std::net::IpAddr),
    Other(u8),
}

impl std::fmt::Display for San {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            San::Dns(d) => write!(f, "DNS:{d}"),
            San::Ip(ip) => write!(f, "IP:{ip}"),
            San::Other(t) => write!(f, "OTHER:{t}"),
        }
    }
}

pub fn sans(crt: &sys::x509_crt) -> Vec<San> {
    let mut out = Vec::new();
    let mut cur: *const sys::x509_sequence = &crt.subject_alt_names;
    // SAFETY: walking the certificate's own SAN list.
    unsafe {
        while !cur.is_null() {
            let b = &(*cur).buf;
            if b.len > 0 && !b.p.is_null() {
                let bytes = std::slice::from_raw_parts(b.p, b.len);
                let tag = (b.tag & 0x1f) as u8;
                out.push(match tag {
                    2 => San::Dns(String::from_utf8_lossy(bytes).into_owned()),
                    7 if bytes.len() == 4 => {
                        San::Ip(std::net::IpAddr::from(<[u8; 4]>::try_from(bytes).unwrap()))
                    }
                    7 if bytes.len() == 16 => {
                        San::Ip(std::net::IpAddr::from(<[u8; 16]>::try_from(bytes).unwrap()))
                    }
                    t => San::Other(t),
                });
            }
            cur = (*cur).next;
        }
    }
    out
}

/// One attribute of a distinguished name, in certificate order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnEntry {
    /// Index of the RelativeDistinguishedName (the SET) holding it: the
    /// attributes of a multi-valued RDN share it.
    pub rdn: u32,
    /// The attribute's short name as Mbed TLS prints it ("CN", "O", ...),
    /// else its dotted OID.
    pub attr: String,
    /// The value as text (UTF-8; BMPString decoded).
    pub value: String,
}

/// Short names of the attributes Mbed TLS's x509_dn_gets knows (DER of the
/// OID's contents → name).
const DN_NAMES: &[(&[u8], &str)] = &[
    (&[0x55, 0x04, 0x03], "CN"),
    (&[0x55, 0x04, 0x06], "C"),
    (&[0x55, 0x04, 0x07], "L"),
    (&[0x55, 0x04, 0x08], "ST"),
    (&[0x55, 0x04, 0x0A], "O"),
    (&[0x55, 0x04, 0x0B], "OU"),
    (&[0x55, 0x04, 0x05], "serialNumber"),
    (&[0x55, 0x04, 0x10], "postalAddress"),
    (&[0x55, 0x04, 0x11], "postalCode"),
    (&[0x55, 0x04, 0x04], "SN"),
    (&[0x55, 0x04, 0x2A], "GN"),
    (&[0x55, 0x04, 0x2B], "initials"),
    (&[0x55, 0x04, 0x0C], "title"),
    (&[0x55, 0x04, 0x2C], "generationQualifier"),
    (&[0x55, 0x04, 0x2E], "dnQualifier"),
    (&[0x55, 0x04, 0x41], "pseudonym"),
    (&[0x55, 0x04, 0x2D], "uniqueIdentifier"),
    (&[0x55, 0x04, 0x09], "street"),
    (&[0x55, 0x04, 0x48], "R"),
    (
        &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x01],
        "emailAddress",
    ),
    (
        &[0x09, 0x92, 0x26, 0x89, 0x93, 0xF2, 0x2C, 0x64, 0x01, 0x19],
        "DC",
    ),
    (
        &[0x09, 0x92, 0x26, 0x89, 0x93, 0xF2, 0x2C, 0x64, 0x01, 0x01],
        "UID",
    ),
];

/// An OID's DER contents as dotted decimal ("1.2.840.113549").
fn dotted_oid(der: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut v: u64 = 0;
    for &b in der {
        v = (v << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (v / 40).min(2);
                arcs.push(first);
                arcs.push(v - first * 40);
            } else {
                arcs.push(v);
            }
            v = 0;
        }
    }
    arcs.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

fn dn_value(tag: i32, bytes: &[u8]) -> String {
    // BMPString: UTF-16BE.
    if tag == 0x1E && bytes.len() % 2 == 0 {
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    String::from_utf8_lossy(bytes).into_owned()
}

/// The attributes of a distinguished name, in certificate order.
pub fn dn_entries(name: &sys::x509_name) -> Vec<DnEntry> {
    let mut out = Vec::new();
    let mut rdn = 0u32;
    let mut cur: *const sys::x509_name = name;
    // SAFETY: walking the certificate's own name list; every buffer points
    // into the parsed certificate and holds `len` bytes.
    unsafe {
        while !cur.is_null() {
            let item = &*cur;
            if item.oid.len > 0 && !item.oid.p.is_null() {
                let oid = std::slice::from_raw_parts(item.oid.p, item.oid.len);
                let val = if item.val.len > 0 && !item.val.p.is_null() {
                    std::slice::from_raw_parts(item.val.p, item.val.len)
                } else {
                    &[]
                };
                let attr = DN_NAMES
                    .iter()
                    .find(|(der, _)| *der == oid)
                    .map_or_else(|| dotted_oid(oid), |(_, n)| (*n).to_string());
                out.push(DnEntry {
                    rdn,
                    attr,
                    value: dn_value(item.val.tag, val),
                });
            }
            if item.private_next_merged == 0 {
                rdn += 1;
            }
            cur = item.next;
        }
    }
    out
}

fn dn_string(name: &sys::x509_name) -> String {
    let mut buf = vec![0 as libc::c_char; 1024];
    // SAFETY: dn_gets writes a NUL-terminated string into buf.
    unsafe {
        let ret = sys::x509_dn_gets(buf.as_mut_ptr(), buf.len(), name);
        if ret < 0 {
            return String::new();
        }
        CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
    }
}

fn unix_time(t: &sys::x509_time) -> i64 {
    // Days from civil (Howard Hinnant's algorithm); X.509 times are UTC.
    let (y, m, d) = (t.year as i64, t.mon as i64, t.day as i64);
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    days * 86400 + t.hour as i64 * 3600 + t.min as i64 * 60 + t.sec as i64
}

/// What the C API reports about a certificate.
#[derive(Debug, Clone)]
pub struct CertInfo {
    pub der: Vec<u8>,
    /// SubjectPublicKeyInfo DER.
    pub spki: Vec<u8>,
    pub subject: String,
    pub issuer: String,
    /// The subject's attributes (structured).
    pub subject_dn: Vec<DnEntry>,
    /// The issuer's attributes (structured).
    pub issuer_dn: Vec<DnEntry>,
    pub sans: Vec<San>,
    pub not_before: i64,
    pub not_after: i64,
}

impl CertInfo {
    pub fn from_crt(crt: &sys::x509_crt) -> CertInfo {
        CertInfo {
            der: raw_der(crt).to_vec(),
            spki: spki_der(crt).to_vec(),
            subject: dn_string(&crt.subject),
            issuer: dn_string(&crt.issuer),
            subject_dn: dn_entries(&crt.subject),
            issuer_dn: dn_entries(&crt.issuer),
            sans: sans(crt),
            not_before: unix_time(&crt.valid_from),
            not_after: unix_time(&crt.valid_to),
        }
    }

    pub fn pem(&self) -> String {
        der_to_pem("CERTIFICATE", &self.der)
    }
}

pub fn der_to_pem(label: &str, der: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::with_capacity(der.len() * 4 / 3 + 4);
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(not(mbedtls_4))]
const fn id_flag(id: u32) -> u32 {
    1 << (id - 1)
}

/// The certificate profile configs use (4.x: its own default, which already
/// excludes SHA-1; its curve identifiers are PSA's).
pub(crate) fn profile() -> Option<&'static sys::x509_crt_profile> {
    #[cfg(not(mbedtls_4))]
    return Some(&PROFILE);
    #[cfg(mbedtls_4)]
    return None;
}

/// Certificate profile: SHA-256+ signatures, RSA ≥ 2048 bits, NIST P-256+
/// curves. Rejects SHA-1 and weak keys.
#[cfg(not(mbedtls_4))]
pub(crate) static PROFILE: sys::x509_crt_profile = sys::x509_crt_profile {
    allowed_mds: id_flag(sys::MD_SHA256) | id_flag(sys::MD_SHA384) | id_flag(sys::MD_SHA512),
    allowed_pks: id_flag(sys::PK_RSA)
        | id_flag(sys::PK_ECKEY)
        | id_flag(sys::PK_ECDSA)
        | id_flag(sys::PK_RSASSA_PSS),
    allowed_curves: id_flag(sys::ECP_DP_SECP256R1)
        | id_flag(sys::ECP_DP_SECP384R1)
        | id_flag(sys::ECP_DP_SECP521R1)
        | id_flag(sys::ECP_DP_BP256R1)
        | id_flag(sys::ECP_DP_BP384R1)
        | id_flag(sys::ECP_DP_BP512R1),
    rsa_min_bitlen: 2048,
};

/// SubjectPublicKeyInfo DER of a certificate (for SPKI pins).
pub fn spki_der(crt: &sys::x509_crt) -> &[u8] {
    // SAFETY: pk_raw points into the certificate's own buffer.
    unsafe { std::slice::from_raw_parts(crt.pk_raw.p, crt.pk_raw.len) }
}

/// DNS names a certificate is valid for: its DNS SANs, else its CN.
pub fn dns_names(crt: &sys::x509_crt) -> Vec<String> {
    let names: Vec<String> = sans(crt)
        .into_iter()
        .filter_map(|s| match s {
            San::Dns(d) => Some(d.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    if !names.is_empty() {
        return names;
    }
    common_names(crt)
        .iter()
        .map(|cn| cn.to_ascii_lowercase())
        .collect()
}

fn common_names(crt: &sys::x509_crt) -> Vec<String> {
    dn_string(&crt.subject)
        .split(", ")
        .filter_map(|part| part.strip_prefix("CN="))
        .map(str::to_string)
        .collect()
}

/// Why `crt` does not match `host`, naming what was checked: the
/// subjectAltName entries when there are any (RFC 6125: then the CN is
/// ignored, by Mbed TLS too), else the CN.
pub fn host_mismatch(crt: &sys::x509_crt, host: &str) -> String {
    const SHOWN: usize = 8;
    let sans = sans(crt);
    let checked = if sans.is_empty() {
        match common_names(crt).first() {
            Some(cn) => format!("no subjectAltName; checked CN \"{cn}\""),
            None => "no subjectAltName and no CN".to_string(),
        }
    } else {
        let mut list: Vec<String> = sans.iter().take(SHOWN).map(San::to_string).collect();
        if sans.len() > SHOWN {
            list.push(format!("and {} more", sans.len() - SHOWN));
        }
        format!("checked subjectAltName entries: {}", list.join(", "))
    };
    format!("certificate does not match host name \"{host}\" ({checked})")
}

/// RFC 6125 matching with a single left-most wildcard label.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if let Some(rest) = pattern.strip_prefix("*.") {
        return name
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest);
    }
    pattern == name
}

/// Certificate revocation lists.
pub struct Crl {
    crl: Box<sys::x509_crl>,
}

// SAFETY: read-only after loading, as CertChain.
unsafe impl Send for Crl {}
// SAFETY: as for Send, above.
unsafe impl Sync for Crl {}

impl Default for Crl {
    fn default() -> Self {
        Self::new()
    }
}

impl Crl {
    pub fn new() -> Crl {
        // SAFETY: zeroed memory is valid input to x509_crl_init.
        unsafe {
            let mut crl: Box<sys::x509_crl> = Box::new(std::mem::zeroed());
            sys::x509_crl_init(&mut *crl);
            Crl { crl }
        }
    }

    fn raw_list(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut cur: *const sys::x509_crl = &*self.crl;
        // SAFETY: walking our own list; version 0 marks an empty head.
        unsafe {
            while !cur.is_null() && (*cur).version != 0 {
                out.push(std::slice::from_raw_parts((*cur).raw.p, (*cur).raw.len).to_vec());
                cur = (*cur).next;
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.crl.version == 0
    }

    /// Append CRLs from PEM (one or many) or DER.
    pub fn add(&mut self, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Err(Error::invalid_arg("empty CRL data"));
        }
        let buf = pem_aware_buffer(data);
        // SAFETY: buf valid for its length; crl initialised.
        let ret = unsafe { sys::x509_crl_parse(&mut *self.crl, buf.as_ptr(), buf.len()) };
        if ret != 0 {
            return Err(parse_error(ret, "cannot parse CRL"));
        }
        Ok(())
    }

    pub fn add_file(&mut self, path: &str) -> Result<()> {
        check_readable(path, "CRL file")?;
        let data = std::fs::read(path).map_err(|e| Error::io(&format!("reading '{path}'"), &e))?;
        self.add(&data)
            .map_err(|e| e.context(&format!("CRL file '{path}'")))
    }

    pub fn duplicate(&self) -> Result<Crl> {
        let mut c = Crl::new();
        for der in self.raw_list() {
            c.add(&der)?;
        }
        Ok(c)
    }

    pub(crate) fn as_mut_ptr(&self) -> *mut sys::x509_crl {
        &*self.crl as *const sys::x509_crl as *mut sys::x509_crl
    }
}

impl Drop for Crl {
    fn drop(&mut self) {
        // SAFETY: initialised in new(); freed once.
        unsafe { sys::x509_crl_free(&mut *self.crl) };
    }
}

#[cfg(test)]
mod dn_tests {
    use super::{dn_value, dotted_oid};

    #[test]
    fn oids_in_dotted_form() {
        assert_eq!(dotted_oid(&[0x55, 0x04, 0x03]), "2.5.4.3");
        assert_eq!(
            dotted_oid(&[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x01]),
            "1.2.840.113549.1.9.1"
        );
        assert_eq!(dotted_oid(&[0x88, 0x37, 0x03]), "2.999.3");
    }

    #[test]
    fn values_as_text() {
        assert_eq!(dn_value(0x0C, "Zürich, O=x".as_bytes()), "Zürich, O=x");
        assert_eq!(dn_value(0x1E, &[0x00, 0x41, 0x00, 0xE9]), "Aé"); // BMPString
    }
}
