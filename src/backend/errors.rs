//! Mbed TLS return codes → `Error`s with the Mbed TLS code and text.

use std::ffi::CStr;

use super::sys;
use crate::error::{Code, Error};

/// `mbedtls_strerror`'s text for one code (no splitting of our own).
fn strerror(ret: i32) -> String {
    let mut buf = [0 as libc::c_char; 160];
    // SAFETY: strerror writes a NUL-terminated string into at most buf.len() bytes.
    unsafe {
        sys::strerror(ret, buf.as_mut_ptr(), buf.len());
        CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
    }
}

/// Text for a return code. Mbed TLS's own where it has one; ours for the
/// codes its `mbedtls_strerror` does not know: PSA status codes (-128 ..
/// -255, returned by 3.6 and 4.x, and on 4.x the value of many
/// `MBEDTLS_ERR_*_BAD_INPUT_DATA` / `_ALLOC_FAILED` codes), and on 4.x the
/// PK, PEM, ASN.1 and Base64 codes, which moved to TF-PSA-Crypto while
/// `mbedtls_strerror` stayed in Mbed TLS.
pub fn mbed_text(ret: i32) -> String {
    let abs = ret.unsigned_abs();
    if ret < 0 && (0x80..=0xFF).contains(&abs) {
        return psa_text(ret);
    }
    #[cfg(not(mbedtls_4))]
    return strerror(ret);
    #[cfg(mbedtls_4)]
    split_text(abs)
}

/// 4.x: each part of a compound code from Mbed TLS or from our table.
#[cfg(mbedtls_4)]
fn split_text(abs: u32) -> String {
    // Mbed TLS codes are a high-level part (0xFF80 bits: SSL, X.509, PK,
    // PEM, …) plus a low-level part (0x7F bits: ASN.1, Base64, …).
    let (high, low) = (abs & 0xFF80, abs & 0x7F);
    let part = |code: u32| -> String {
        let code = -(code as i32);
        match own_text(code) {
            Some(t) => t.to_string(),
            None => strerror(code),
        }
    };
    match (high, low) {
        (0, 0) => String::new(),
        (0, l) => part(l),
        (h, 0) => part(h),
        (h, l) => format!("{} : {}", part(h), part(l)),
    }
}

/// PSA Crypto status codes (psa/crypto_values.h).
fn psa_text(ret: i32) -> String {
    let what = match ret {
        -132 => "PSA_ERROR_GENERIC_ERROR - unspecified error",
        -133 => "PSA_ERROR_NOT_PERMITTED - operation not permitted by the key's policy",
        -134 => "PSA_ERROR_NOT_SUPPORTED - algorithm or parameter not supported",
        -135 => "PSA_ERROR_INVALID_ARGUMENT - bad input data",
        -136 => "PSA_ERROR_INVALID_HANDLE - invalid key identifier",
        -137 => "PSA_ERROR_BAD_STATE - bad state (is PSA crypto initialised?)",
        -138 => "PSA_ERROR_BUFFER_TOO_SMALL - output buffer too small",
        -139 => "PSA_ERROR_ALREADY_EXISTS - the key already exists",
        -140 => "PSA_ERROR_DOES_NOT_EXIST - no such key",
        -141 => "PSA_ERROR_INSUFFICIENT_MEMORY - out of memory",
        -142 => "PSA_ERROR_INSUFFICIENT_STORAGE - out of key storage",
        -143 => "PSA_ERROR_INSUFFICIENT_DATA - not enough data",
        -144 => "PSA_ERROR_SERVICE_FAILURE - crypto service failure",
        -145 => "PSA_ERROR_COMMUNICATION_FAILURE - communication failure",
        -146 => "PSA_ERROR_STORAGE_FAILURE - key storage failure",
        -147 => "PSA_ERROR_HARDWARE_FAILURE - hardware failure",
        -148 => "PSA_ERROR_INSUFFICIENT_ENTROPY - not enough entropy",
        -149 => "PSA_ERROR_INVALID_SIGNATURE - invalid signature or authentication tag",
        -150 => "PSA_ERROR_INVALID_PADDING - invalid padding",
        -151 => "PSA_ERROR_CORRUPTION_DETECTED - corruption detected",
        -152 => "PSA_ERROR_DATA_CORRUPT - stored data corrupt",
        -153 => "PSA_ERROR_DATA_INVALID - stored data invalid",
        _ => return format!("PSA error {ret}"),
    };
    what.to_string()
}

/// Codes `mbedtls_strerror` of Mbed TLS 4.x does not know (3.6 knows
/// them).
#[cfg(mbedtls_4)]
fn own_text(code: i32) -> Option<&'static str> {
    Some(match code {
        // PK
        -0x3F00 => "PK - Type mismatch, eg attempt to do ECDSA with an RSA key",
        -0x3E00 => "PK - Read/write of file failed",
        -0x3D80 => "PK - Unsupported key version",
        -0x3D00 => "PK - Invalid key tag or value",
        -0x3C80 => "PK - Key algorithm is unsupported (only RSA and EC are supported)",
        -0x3C00 => "PK - Private key password can't be empty",
        -0x3B80 => "PK - Given private key password does not allow for correct decryption",
        // Also what X.509 parsing returns on 4.x when psa_crypto_init was
        // never called.
        -0x3B00 => "PK - The pubkey tag or value is invalid (only RSA and EC are supported)",
        -0x3A80 => "PK - The algorithm tag or value is invalid",
        -0x3A00 => "PK - Elliptic curve is unsupported (only NIST curves are supported)",
        -0x3980 => "PK - Unavailable feature, e.g. RSA disabled for RSA key",
        // PEM
        -0x1080 => "PEM - No PEM header or footer found",
        -0x1100 => "PEM - PEM string is not as expected",
        -0x1200 => "PEM - RSA IV is not in hex-format",
        -0x1280 => "PEM - Unsupported key encryption algorithm",
        -0x1300 => "PEM - Private key password can't be empty",
        -0x1380 => "PEM - Given private key password does not allow for correct decryption",
        -0x1400 => "PEM - Unavailable feature, e.g. hashing/encryption combination",
        // MD
        -0x5080 => "MD - The selected feature is not available",
        -0x5200 => "MD - Opening or reading of file failed",
        // ASN.1, Base64, threading, LMS (low-level)
        -0x0060 => "ASN1 - Out of data when parsing an ASN1 data structure",
        -0x0062 => "ASN1 - ASN1 tag was of an unexpected value",
        -0x0064 => "ASN1 - Error when trying to determine the length or invalid length",
        -0x0066 => "ASN1 - Actual length differs from expected length",
        -0x0068 => "ASN1 - Data is invalid",
        -0x002C => "BASE64 - Invalid character in input",
        -0x001E => "THREADING - Mutex usage error",
        -0x0013 => "LMS - Specified LMS key has utilised all of its private keys",
        -0x0015 => "LMS - LMS signature verification failed",
        _ => return None,
    })
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
    // Not a `match`: on 4.x both ALLOC_FAILED codes are the same PSA code.
    let code = if ret == sys::ERR_PK_PASSWORD_REQUIRED || ret == sys::ERR_PK_PASSWORD_MISMATCH {
        Code::MOJO_TLS_ERR_BAD_PASSWORD
    } else if ret == sys::ERR_PK_ALLOC_FAILED || ret == sys::ERR_X509_ALLOC_FAILED {
        Code::MOJO_TLS_ERR_NO_MEMORY
    } else if ret == sys::ERR_X509_FILE_IO_ERROR || ret == sys::ERR_PK_FILE_IO_ERROR {
        Code::MOJO_TLS_ERR_NOT_FOUND
    } else {
        Code::MOJO_TLS_ERR_PARSE
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

/// `verify_reason`, with Mbed TLS's generic line for a host name mismatch
/// ("The certificate Common Name (CN) does not match with the expected
/// CN") replaced by ours, which names the host and what was checked.
pub fn verify_reason_with(flags: u32, host_mismatch: Option<&str>) -> String {
    let cn = sys::X509_BADCERT_CN_MISMATCH as u32;
    match host_mismatch {
        Some(ours) if flags & cn != 0 => match verify_reason(flags & !cn) {
            rest if rest.is_empty() => ours.to_string(),
            rest => format!("{ours}; {rest}"),
        },
        _ => verify_reason(flags),
    }
}

/// A failed handshake, read or write, classified. `verify_flags` is the
/// peer-verification result when known; `host_mismatch` our description
/// of a host name mismatch, if the verify callback made one.
pub fn ssl_error(
    ret: i32,
    during_handshake: bool,
    verify_flags: u32,
    host_mismatch: Option<&str>,
) -> Error {
    // A certificate failure Mbed TLS reports as a handshake error (wrong key
    // usage, for one) still leaves its reason in the verify flags.
    // "No certificate" and "not verified" are not verification failures.
    let not_failures = (sys::X509_BADCERT_MISSING | sys::X509_BADCERT_SKIP_VERIFY) as u32;
    let cert_failure = during_handshake
        && verify_flags & !not_failures != 0
        && ret != sys::ERR_SSL_FATAL_ALERT_MESSAGE;
    if ret == sys::ERR_X509_CERT_VERIFY_FAILED || cert_failure {
        let reason = verify_reason_with(verify_flags, host_mismatch);
        let mut e = Error::new(
            Code::MOJO_TLS_ERR_VERIFY_FAILED,
            format!(
                "peer certificate rejected: {reason} (Mbed TLS -0x{:04X}, flags 0x{:08x})",
                ret.unsigned_abs(),
                verify_flags
            ),
        )
        .with_backend(ret);
        e.verify = Some(Box::new(crate::error::VerifyFailure {
            flags: verify_flags,
            reason,
        }));
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
        sys::ERR_NET_CONN_RESET => (Code::MOJO_TLS_ERR_RESET, "connection reset by peer"),
        sys::ERR_NET_SEND_FAILED | sys::ERR_NET_RECV_FAILED => {
            (Code::MOJO_TLS_ERR_IO, "socket error")
        }
        sys::ERR_SSL_TIMEOUT => (
            Code::MOJO_TLS_ERR_TIMEOUT,
            "DTLS: the peer did not answer (retransmissions exhausted)",
        ),
        sys::ERR_SSL_CLIENT_RECONNECT => (
            Code::MOJO_TLS_ERR_CLOSED,
            "DTLS: the client started a new handshake from the same address",
        ),
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
