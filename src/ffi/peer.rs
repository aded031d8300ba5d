//! C entry points that report on a connection: negotiated parameters,
//! verification, and the peer's certificate.

use libc::{c_char, intptr_t, size_t};

use super::conn::mojo_tls_conn;
use super::{copy_out, copy_out_str, guard, guard_int, guard_len, handle};
use crate::backend::x509::{DnEntry, San};
use crate::conn::Conn;
use crate::error::{Error, Result};

fn conn(h: *const mojo_tls_conn) -> Result<std::sync::Arc<Conn>> {
    handle::<Conn, _>(h, "connection")
}

/// The negotiated protocol version (MOJO_TLS_VERSION_TLS1_2, ...), or
/// MOJO_TLS_ERR_NOT_AVAILABLE before the handshake completes.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_version(c: *const mojo_tls_conn) -> i32 {
    guard_int(|| conn(c)?.version().map(i32::from))
}

/// The negotiated protocol version's name ("TLSv1.2"), static; NULL before
/// the handshake or on error.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_version_name(c: *const mojo_tls_conn) -> *const c_char {
    guard(std::ptr::null(), || Ok(conn(c)?.version_name()?.as_ptr()))
}

/// The negotiated cipher suite's IANA name
/// ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"), static; NULL before the
/// handshake or on error.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_cipher(c: *const mojo_tls_conn) -> *const c_char {
    guard(std::ptr::null(), || Ok(conn(c)?.cipher()?.as_ptr()))
}

/// The negotiated ALPN protocol into `buf` (snprintf style). Returns its
/// length, 0 when none was negotiated, or an error.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_alpn(
    c: *const mojo_tls_conn,
    buf: *mut c_char,
    cap: size_t,
) -> intptr_t {
    guard_len(|| copy_out_str(&conn(c)?.alpn()?.unwrap_or_default(), buf, cap))
}

/// Server: the server name the client asked for (SNI); client: the name it
/// sent. snprintf style; returns the length, 0 when there is none.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_server_name(
    c: *const mojo_tls_conn,
    buf: *mut c_char,
    cap: size_t,
) -> intptr_t {
    guard_len(|| copy_out_str(&conn(c)?.server_name()?.unwrap_or_default(), buf, cap))
}

/// 1 if the handshake resumed a session (ticket or cache), 0 for a full
/// handshake, or an error (MOJO_TLS_ERR_NOT_AVAILABLE before the handshake).
#[no_mangle]
pub extern "C" fn mojo_tls_conn_session_resumed(c: *const mojo_tls_conn) -> i32 {
    guard_int(|| conn(c)?.resumed().map(i32::from))
}

/// The record layer protecting this connection's data, static: "mojo-tls
/// (ring)", "kernel TLS" or "Mbed TLS" (see
/// mojo_tls_config_set_record_layer). NULL before the handshake completes
/// (MOJO_TLS_ERR_NOT_AVAILABLE) or on error.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_record_layer(c: *const mojo_tls_conn) -> *const c_char {
    guard(std::ptr::null(), || Ok(conn(c)?.record_layer()?.as_ptr()))
}

/// Why the connection uses its record layer, for logs (snprintf style):
/// the suite, and why kernel TLS or the fast layer is not used, e.g.
/// "mojo-tls (ring): TLS_AES_128_GCM_SHA256; kernel TLS unavailable: …".
/// Returns the full length, or MOJO_TLS_ERR_NOT_AVAILABLE before the
/// handshake completes.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_record_layer_detail(
    c: *const mojo_tls_conn,
    buf: *mut c_char,
    cap: size_t,
) -> intptr_t {
    guard_len(|| copy_out_str(&conn(c)?.record_layer_detail()?, buf, cap))
}

/// X.509 verification flags of the peer's certificate (Mbed TLS
/// MBEDTLS_X509_BADCERT_* bits; 0 = verified), >= 0, or an error
/// (MOJO_TLS_ERR_NOT_AVAILABLE before the handshake).
#[no_mangle]
pub extern "C" fn mojo_tls_conn_verify_flags(c: *const mojo_tls_conn) -> i32 {
    guard_int(|| {
        conn(c)?
            .verify_flags()
            .map(|f| i32::try_from(f).unwrap_or(i32::MAX))
    })
}

/// Human-readable reason for the verification flags ("" when verified),
/// snprintf style. Returns the full length or an error.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_verify_reason(
    c: *const mojo_tls_conn,
    buf: *mut c_char,
    cap: size_t,
) -> intptr_t {
    guard_len(|| copy_out_str(&conn(c)?.verify_reason()?, buf, cap))
}

/// The peer's certificate in DER into `buf` (copies what fits; `buf` may be
/// NULL with `cap` 0). Returns the full length, or
/// MOJO_TLS_ERR_NOT_AVAILABLE when there is none.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_peer_cert_der(
    c: *const mojo_tls_conn,
    buf: *mut u8,
    cap: size_t,
) -> intptr_t {
    guard_len(|| copy_out(&conn(c)?.peer_cert()?.der, buf, cap))
}

/// The peer's certificate in PEM (snprintf style). Returns the full length.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_peer_cert_pem(
    c: *const mojo_tls_conn,
    buf: *mut c_char,
    cap: size_t,
) -> intptr_t {
    guard_len(|| copy_out_str(&conn(c)?.peer_cert()?.pem(), buf, cap))
}

/// SHA-256 fingerprint of the peer certificate's DER (32 bytes) into `buf`.
/// Returns 32, or an error.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_peer_cert_sha256(
    c: *const mojo_tls_conn,
    buf: *mut u8,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        let info = conn(c)?.peer_cert()?;
        copy_out(&crate::backend::hash::sha256(&info.der), buf, cap)
    })
}

/// SHA-256 of the peer certificate's SubjectPublicKeyInfo (32 bytes, the
/// value for MOJO_TLS_PIN_SPKI) into `buf`. Returns 32, or an error.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_peer_cert_spki_sha256(
    c: *const mojo_tls_conn,
    buf: *mut u8,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        let info = conn(c)?.peer_cert()?;
        copy_out(&crate::backend::hash::sha256(&info.spki), buf, cap)
    })
}

/// The peer certificate's validity as Unix times (seconds, UTC). Either
/// pointer may be NULL. Returns 0 or an error.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_peer_cert_validity(
    c: *const mojo_tls_conn,
    not_before: *mut i64,
    not_after: *mut i64,
) -> i32 {
    guard_int(|| {
        let info = conn(c)?.peer_cert()?;
        // SAFETY: non-NULL pointers are the caller's writable int64_t.
        unsafe {
            if !not_before.is_null() {
                *not_before = info.not_before;
            }
            if !not_after.is_null() {
                *not_after = info.not_after;
            }
        }
        Ok(0)
    })
}

/// The peer certificate's subject, e.g. "CN=example.com, O=Example"
/// (snprintf style). Returns the full length.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_peer_cert_subject(
    c: *const mojo_tls_conn,
    buf: *mut c_char,
    cap: size_t,
) -> intptr_t {
    guard_len(|| copy_out_str(&conn(c)?.peer_cert()?.subject, buf, cap))
}

/// The peer certificate's issuer (snprintf style). Returns the full length.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_peer_cert_issuer(
    c: *const mojo_tls_conn,
    buf: *mut c_char,
    cap: size_t,
) -> intptr_t {
    guard_len(|| copy_out_str(&conn(c)?.peer_cert()?.issuer, buf, cap))
}

/// Distinguished name of the peer certificate's subject, for
/// mojo_tls_conn_peer_cert_dn_*.
pub const MOJO_TLS_DN_SUBJECT: i32 = 0;
/// Distinguished name of the peer certificate's issuer, for
/// mojo_tls_conn_peer_cert_dn_*.
pub const MOJO_TLS_DN_ISSUER: i32 = 1;

fn dn_of(c: *const mojo_tls_conn, which: i32) -> Result<Vec<DnEntry>> {
    let info = conn(c)?.peer_cert()?;
    match which {
        MOJO_TLS_DN_SUBJECT => Ok(info.subject_dn.clone()),
        MOJO_TLS_DN_ISSUER => Ok(info.issuer_dn.clone()),
        _ => Err(Error::invalid_arg(format!(
            "which {which} (expected MOJO_TLS_DN_SUBJECT or MOJO_TLS_DN_ISSUER)"
        ))),
    }
}

fn dn_entry(c: *const mojo_tls_conn, which: i32, index: size_t) -> Result<DnEntry> {
    let dn = dn_of(c, which)?;
    let n = dn.len();
    dn.into_iter()
        .nth(index)
        .ok_or_else(|| Error::invalid_arg(format!("index {index} out of range ({n} attributes)")))
}

/// The number of attributes (>= 0) in the peer certificate's subject
/// (`which` MOJO_TLS_DN_SUBJECT) or issuer (MOJO_TLS_DN_ISSUER), for the
/// indexed getters below; MOJO_TLS_ERR_NOT_AVAILABLE without a peer
/// certificate.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_peer_cert_dn_count(
    c: *const mojo_tls_conn,
    which: i32,
) -> intptr_t {
    guard_len(|| Ok(dn_of(c, which)?.len()))
}

/// Attribute `index` (0 ..< count, certificate order) of the subject or
/// issuer: its short name ("CN", "O", "OU", "C", "emailAddress", ...; the
/// dotted OID for others) into `buf` (snprintf style). `rdn` (may be NULL)
/// receives the index of the RelativeDistinguishedName holding it:
/// attributes of one multi-valued RDN share it. Returns the full length;
/// MOJO_TLS_ERR_INVALID_ARGUMENT for an index out of range.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_peer_cert_dn_attr(
    c: *const mojo_tls_conn,
    which: i32,
    index: size_t,
    rdn: *mut i32,
    buf: *mut c_char,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        let e = dn_entry(c, which, index)?;
        let n = copy_out_str(&e.attr, buf, cap)?;
        if !rdn.is_null() {
            // SAFETY: a non-NULL `rdn` is the caller's writable int32_t.
            unsafe { *rdn = i32::try_from(e.rdn).unwrap_or(i32::MAX) };
        }
        Ok(n)
    })
}

/// The value of attribute `index` of the subject or issuer, as UTF-8 text
/// (snprintf style). Returns the full length; MOJO_TLS_ERR_INVALID_ARGUMENT
/// for an index out of range.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_peer_cert_dn_value(
    c: *const mojo_tls_conn,
    which: i32,
    index: size_t,
    buf: *mut c_char,
    cap: size_t,
) -> intptr_t {
    guard_len(|| copy_out_str(&dn_entry(c, which, index)?.value, buf, cap))
}

/// The peer certificate's subject alternative names, one per line:
/// "DNS:example.com\nIP:127.0.0.1" (snprintf style). Returns the full length.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_peer_cert_sans(
    c: *const mojo_tls_conn,
    buf: *mut c_char,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        let info = conn(c)?.peer_cert()?;
        let text: Vec<String> = info.sans.iter().map(|s| s.to_string()).collect();
        copy_out_str(&text.join("\n"), buf, cap)
    })
}

/// Subject alternative name type: another kind of name; its value is the
/// GeneralName tag number in decimal.
pub const MOJO_TLS_SAN_OTHER: i32 = 0;
/// Subject alternative name type: a DNS name.
pub const MOJO_TLS_SAN_DNS: i32 = 1;
/// Subject alternative name type: an IP address (its value in text form,
/// "127.0.0.1" or "::1").
pub const MOJO_TLS_SAN_IP: i32 = 2;

/// The number of subject alternative names (>= 0) of the peer certificate,
/// or MOJO_TLS_ERR_NOT_AVAILABLE without a peer certificate.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_peer_cert_san_count(c: *const mojo_tls_conn) -> intptr_t {
    guard_len(|| Ok(conn(c)?.peer_cert()?.sans.len()))
}

/// Subject alternative name `index` (0 ..< count, certificate order): its
/// type (MOJO_TLS_SAN_*) into `type` (may be NULL) and its value into `buf`
/// (snprintf style). Returns the value's full length;
/// MOJO_TLS_ERR_INVALID_ARGUMENT for an index out of range.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_peer_cert_san(
    c: *const mojo_tls_conn,
    index: size_t,
    r#type: *mut i32,
    buf: *mut c_char,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        let info = conn(c)?.peer_cert()?;
        let n = info.sans.len();
        let san = info
            .sans
            .get(index)
            .ok_or_else(|| Error::invalid_arg(format!("index {index} out of range ({n} names)")))?;
        let (kind, value) = match san {
            San::Dns(d) => (MOJO_TLS_SAN_DNS, d.clone()),
            San::Ip(ip) => (MOJO_TLS_SAN_IP, ip.to_string()),
            San::Other(t) => (MOJO_TLS_SAN_OTHER, t.to_string()),
        };
        let len = copy_out_str(&value, buf, cap)?;
        if !r#type.is_null() {
            // SAFETY: a non-NULL `type` is the caller's writable int32_t.
            unsafe { *r#type = kind };
        }
        Ok(len)
    })
}
