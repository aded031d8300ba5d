//! C entry points for certificate generation.

use libc::{c_char, intptr_t, size_t};

use super::{copy_out, copy_out_str, guard_handle, guard_int, guard_len, handle, release, str_arg};
use crate::certgen::{self, GenCert};
use crate::error::Result;

/// Opaque handle to a generated certificate and its private key.
/// Released by mojo_tls_gencert_free.
#[allow(non_camel_case_types)]
pub struct mojo_tls_gencert {
    _private: [u8; 0],
}

/// Key algorithm for generated certificates: ECDSA P-256 (default).
pub const MOJO_TLS_KEY_ECDSA_P256: i32 = 0;
/// Key algorithm for generated certificates: ECDSA P-384.
pub const MOJO_TLS_KEY_ECDSA_P384: i32 = 1;
/// Generated certificate usage bit: TLS server (serverAuth).
pub const MOJO_TLS_USAGE_SERVER: i32 = 1;
/// Generated certificate usage bit: TLS client (clientAuth).
pub const MOJO_TLS_USAGE_CLIENT: i32 = 2;

fn gen(h: *const mojo_tls_gencert) -> Result<std::sync::Arc<GenCert>> {
    handle::<GenCert, _>(h, "generated certificate")
}

/// Generate a self-signed CA certificate named `common_name`, valid from now
/// for `valid_days` days, with a fresh key (MOJO_TLS_KEY_*). NULL on error.
#[no_mangle]
pub extern "C" fn mojo_tls_gencert_new_ca(
    common_name: *const c_char,
    valid_days: i32,
    key_alg: i32,
) -> *mut mojo_tls_gencert {
    guard_handle(|| certgen::ca(str_arg(common_name, "common_name")?, valid_days, key_alg))
}

/// Generate a leaf certificate signed by `issuer` (a CA from
/// mojo_tls_gencert_new_ca), or self-signed when `issuer` is NULL. `sans` is a
/// comma-separated list of DNS names and IP addresses (may be NULL).
/// Validity starts `not_before_days` from now (negative = in the past) and
/// lasts `valid_days` (so -30, 10 gives an expired certificate). `usage` is
/// MOJO_TLS_USAGE_SERVER and/or MOJO_TLS_USAGE_CLIENT. NULL on error.
#[no_mangle]
pub extern "C" fn mojo_tls_gencert_new_leaf(
    issuer: *const mojo_tls_gencert,
    common_name: *const c_char,
    sans: *const c_char,
    not_before_days: i32,
    valid_days: i32,
    usage: i32,
    key_alg: i32,
) -> *mut mojo_tls_gencert {
    guard_handle(|| {
        let issuer = if issuer.is_null() {
            None
        } else {
            Some(gen(issuer)?)
        };
        let cn = str_arg(common_name, "common_name")?;
        let sans = if sans.is_null() {
            ""
        } else {
            str_arg(sans, "sans")?
        };
        certgen::leaf(
            issuer.as_deref(),
            cn,
            sans,
            not_before_days,
            valid_days,
            usage,
            key_alg,
        )
    })
}

/// The certificate in PEM (snprintf style). Returns the full length.
#[no_mangle]
pub extern "C" fn mojo_tls_gencert_cert_pem(
    g: *const mojo_tls_gencert,
    buf: *mut c_char,
    cap: size_t,
) -> intptr_t {
    guard_len(|| copy_out_str(&gen(g)?.cert_pem, buf, cap))
}

/// The private key in PEM (PKCS#8, unencrypted; snprintf style). Returns the
/// full length.
#[no_mangle]
pub extern "C" fn mojo_tls_gencert_key_pem(
    g: *const mojo_tls_gencert,
    buf: *mut c_char,
    cap: size_t,
) -> intptr_t {
    guard_len(|| copy_out_str(&gen(g)?.key_pem, buf, cap))
}

/// Release a generated certificate. NULL → 0; stale → MOJO_TLS_ERR_INVALID_HANDLE.
#[no_mangle]
pub extern "C" fn mojo_tls_gencert_free(g: *mut mojo_tls_gencert) -> i32 {
    guard_int(|| release::<GenCert, _>(g, "generated certificate").map(|_| 0))
}

/// The certificate in DER (copies what fits). Returns the full length.
#[no_mangle]
pub extern "C" fn mojo_tls_gencert_cert_der(
    g: *const mojo_tls_gencert,
    buf: *mut u8,
    cap: size_t,
) -> intptr_t {
    guard_len(|| copy_out(&gen(g)?.cert_der, buf, cap))
}

/// A CRL signed by the CA `ca` revoking the `n` generated certificates in
/// `revoked` (valid for 30 days), in PEM (snprintf style). Returns the full
/// length. Each call signs a new CRL: size it with one call, fill with a
/// second, or pass a generous buffer.
#[no_mangle]
pub extern "C" fn mojo_tls_gencert_crl_pem(
    ca: *const mojo_tls_gencert,
    revoked: *const *const mojo_tls_gencert,
    n: size_t,
    buf: *mut c_char,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        let ca = gen(ca)?;
        if n > 0 && revoked.is_null() {
            return Err(crate::error::Error::invalid_arg(
                "revoked is NULL but n > 0",
            ));
        }
        if n > 100_000 {
            return Err(crate::error::Error::invalid_arg("too many certificates"));
        }
        let mut list = Vec::with_capacity(n);
        for i in 0..n {
            // SAFETY: the caller passes an array of n handles.
            list.push(gen(unsafe { *revoked.add(i) })?);
        }
        let refs: Vec<&GenCert> = list.iter().map(|a| &**a).collect();
        copy_out_str(&certgen::crl_pem(&ca, &refs)?, buf, cap)
    })
}
