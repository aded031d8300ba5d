//! Mbed TLS return codes → `Error`s with the Mbed TLS code and text.

use std::ffi::CStr;

use super::sys;
use crate::error::{Code, Error};

/// Mbed TLS's own text for a return code.
pub fn mbed_text(ret: i32) -> String {
    let mut buf = [0 as libc::c_char; 160];
    // SAFETY: strerror writes a NUL-terminated string into at most buf.len() bytes.
    unsafe {
        sys::strerror(ret, buf.as_mut_ptr(), buf.len());
        CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
    }
}

/// An error with `code`, a context, and the Mbed TLS code and text.
pub fn mbed_error(ret: i32, code: Code, context: &str) -> Error {
    let neg = if ret < 0 { "-" } else { "" };
    Error::new(
        code,
        format!(
            "{context}: {} (Mbed TLS {neg}0x{:04X})",
            mbed_text(ret),
            ret.unsigned_abs()
        ),
    )
    .with_backend(ret)
}

/// Classify a failure while parsing a certificate, CRL or key.
pub fn parse_error(ret: i32, context: &str) -> Error {
    let code = match ret {
        sys::ERR_PK_PASSWORD_REQUIRED | sys::ERR_PK_PASSWORD_MISMATCH => {
            Code::MOJO_TLS_ERR_BAD_PASSWORD
        }
        sys::ERR_PK_ALLOC_FAILED | sys::ERR_X509_ALLOC_FAILED => Code::MOJO_TLS_ERR_NO_MEMORY,
        sys::ERR_X509_FILE_IO_ERROR | sys::ERR_PK_FILE_IO_ERROR => Code::MOJO_TLS_ERR_NOT_FOUND,
        _ => Code::MOJO_TLS_ERR_PARSE,
    };
    mbed_error(ret, code, context)
}

/// Human-readable reasons for X.509 verification flags (one per line joined by "; ").
pub fn verify_reason(flags: u32) -> String {
    if flags == 0 {
        return String::new();
    }
    let mut buf = vec![0 as libc::c_char; 1024];
    // SAFETY: verify_info writes a NUL-terminated string within buf.
    let text = unsafe {
        sys::x509_crt_verify_info(buf.as_mut_ptr(), buf.len(), c"".as_ptr(), flags);
        CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
    };
    let reasons: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if reasons.is_empty() {
        format!("verification flags 0x{flags:08x}")
    } else {
        reasons.join("; ")
    }
}

/// A failed handshake, read or write, classified. `verify_flags` is the
/// peer-verification result when known.
pub fn ssl_error(ret: i32, during_handshake: bool, verify_flags: u32) -> Error {
    // A certificate failure Mbed TLS reports as a handshake error (wrong key
    // usage, for one) still leaves its reason in the verify flags.
    // "No certificate" and "not verified" are not verification failures.
    let not_failures = (sys::X509_BADCERT_MISSING | sys::X509_BADCERT_SKIP_VERIFY) as u32;
    let cert_failure = during_handshake
        && verify_flags & !not_failures != 0
        && ret != sys::ERR_SSL_FATAL_ALERT_MESSAGE;
    if ret == sys::ERR_X509_CERT_VERIFY_FAILED || cert_failure {
        let mut e = Error::new(
            Code::MOJO_TLS_ERR_VERIFY_FAILED,
            format!(
                "peer certificate rejected: {} (Mbed TLS -0x{:04X}, flags 0x{:08x})",
                verify_reason(verify_flags),
                ret.unsigned_abs(),
                verify_flags
            ),
        )
        .with_backend(ret);
        e.verify_flags = Some(verify_flags);
        return e;
    }
    let (code, what) = match ret {
        sys::ERR_SSL_ALLOC_FAILED => (Code::MOJO_TLS_ERR_NO_MEMORY, "out of memory"),
        sys::ERR_SSL_FATAL_ALERT_MESSAGE if during_handshake => {
            (Code::MOJO_TLS_ERR_HANDSHAKE, "the peer sent a fatal alert")
        }
        sys::ERR_SSL_FATAL_ALERT_MESSAGE => {
            (Code::MOJO_TLS_ERR_PROTOCOL, "the peer sent a fatal alert")
        }
        sys::ERR_SSL_NO_CLIENT_CERTIFICATE => (
            Code::MOJO_TLS_ERR_HANDSHAKE,
            "the client sent no certificate",
        ),
        #[cfg(not(any(mbedtls_3, mbedtls_4)))]
        sys::ERR_SSL_PEER_VERIFY_FAILED => {
            (Code::MOJO_TLS_ERR_VERIFY_FAILED, "peer verification failed")
        }
        sys::ERR_NET_CONN_RESET => (Code::MOJO_TLS_ERR_CLOSED, "connection reset by peer"),
        sys::ERR_NET_SEND_FAILED | sys::ERR_NET_RECV_FAILED => {
            (Code::MOJO_TLS_ERR_IO, "socket error")
        }
        _ if during_handshake => (Code::MOJO_TLS_ERR_HANDSHAKE, "handshake failed"),
        _ => (Code::MOJO_TLS_ERR_PROTOCOL, "TLS error"),
    };
    mbed_error(ret, code, what)
}

/// Name of a TLS alert description (RFC 8446 §6).
pub fn alert_name(code: u8) -> String {
    let name = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => return format!("alert {code}"),
    };
    format!("alert {name}")
}
