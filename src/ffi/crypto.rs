//! Crypto helper entry points: digests, HMAC and HKDF (ring, `crate::crypto`).
//! Output follows the ABI's rules: a digest or MAC is a `(buf, cap)` output
//! returning its full length (copy what fits); HKDF fills exactly the `len`
//! bytes asked for.

use libc::{intptr_t, size_t};

use super::{bytes_arg, bytes_out, copy_out, guard_len};
use crate::crypto::{self, Hash};
use crate::error::{Error, Result};

/// SHA-256 (32-byte output), for mojo_tls_digest, mojo_tls_hmac and the
/// HKDF functions.
pub const MOJO_TLS_HASH_SHA256: i32 = 0;
/// SHA-384 (48-byte output).
pub const MOJO_TLS_HASH_SHA384: i32 = 1;
/// SHA-512 (64-byte output).
pub const MOJO_TLS_HASH_SHA512: i32 = 2;

fn hash_arg(alg: i32) -> Result<Hash> {
    match alg {
        MOJO_TLS_HASH_SHA256 => Ok(Hash::Sha256),
        MOJO_TLS_HASH_SHA384 => Ok(Hash::Sha384),
        MOJO_TLS_HASH_SHA512 => Ok(Hash::Sha512),
        _ => Err(Error::invalid_arg(format!(
            "unknown hash algorithm {alg} (use MOJO_TLS_HASH_SHA256, _SHA384 or _SHA512)"
        ))),
    }
}

/// The digest (`alg`: MOJO_TLS_HASH_*) of the `len` bytes at `data` into
/// `buf` (copies what fits; `buf` may be NULL with `cap` 0). Returns the
/// digest's length (32, 48 or 64), or MOJO_TLS_ERR_INVALID_ARGUMENT for an
/// unknown `alg` or a NULL pointer with a nonzero length.
#[no_mangle]
pub extern "C" fn mojo_tls_digest(
    alg: i32,
    data: *const u8,
    len: size_t,
    buf: *mut u8,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        let hash = hash_arg(alg)?;
        let data = bytes_arg(data, len, "data")?;
        bytes_out(buf, cap, "buf")?;
        copy_out(&crypto::digest(hash, data), buf, cap)
    })
}

/// HMAC (RFC 2104; `alg`: MOJO_TLS_HASH_*) of the `data_len` bytes at
/// `data` under the `key_len`-byte `key` (any length, empty included) into
/// `buf` (copies what fits; `buf` may be NULL with `cap` 0). Returns the
/// MAC's length (32, 48 or 64), or MOJO_TLS_ERR_INVALID_ARGUMENT for an
/// unknown `alg` or a NULL pointer with a nonzero length. Compare MACs in
/// constant time.
#[no_mangle]
pub extern "C" fn mojo_tls_hmac(
    alg: i32,
    key: *const u8,
    key_len: size_t,
    data: *const u8,
    data_len: size_t,
    buf: *mut u8,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        let hash = hash_arg(alg)?;
        let key = bytes_arg(key, key_len, "key")?;
        let data = bytes_arg(data, data_len, "data")?;
        bytes_out(buf, cap, "buf")?;
        copy_out(
            &zeroize::Zeroizing::new(crypto::hmac(hash, key, data)),
            buf,
            cap,
        )
    })
}

/// HKDF-Extract (RFC 5869 §2.2): the pseudorandom key of the input keying
/// material `ikm` under `salt` (NULL/0: no salt, i.e. HashLen zero bytes)
/// into `buf` (copies what fits; `buf` may be NULL with `cap` 0). Returns
/// its length (the hash's: 32, 48 or 64), or MOJO_TLS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub extern "C" fn mojo_tls_hkdf_extract(
    alg: i32,
    salt: *const u8,
    salt_len: size_t,
    ikm: *const u8,
    ikm_len: size_t,
    buf: *mut u8,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        let hash = hash_arg(alg)?;
        let salt = bytes_arg(salt, salt_len, "salt")?;
        let ikm = bytes_arg(ikm, ikm_len, "ikm")?;
        bytes_out(buf, cap, "buf")?;
        let prk = zeroize::Zeroizing::new(crypto::hkdf_extract(hash, salt, ikm));
        copy_out(&prk, buf, cap)
    })
}

/// HKDF-Expand (RFC 5869 §2.3): fill the `len` bytes at `buf` (1 to 255
/// times the hash's length) from the pseudorandom key `prk` (at least the
/// hash's length) and `info` (may be NULL/0). Returns `len`, or
/// MOJO_TLS_ERR_INVALID_ARGUMENT (unknown `alg`, NULL pointer with a
/// nonzero length, `len` out of range, `prk` too short).
#[no_mangle]
pub extern "C" fn mojo_tls_hkdf_expand(
    alg: i32,
    prk: *const u8,
    prk_len: size_t,
    info: *const u8,
    info_len: size_t,
    buf: *mut u8,
    len: size_t,
) -> intptr_t {
    guard_len(|| {
        let hash = hash_arg(alg)?;
        let prk = bytes_arg(prk, prk_len, "prk")?;
        let info = bytes_arg(info, info_len, "info")?;
        let out = bytes_out(buf, len, "buf")?;
        crypto::hkdf_expand(hash, prk, info, out)?;
        Ok(out.len())
    })
}

/// HKDF (RFC 5869: extract, then expand): fill the `len` bytes at `buf` (1
/// to 255 times the hash's length) from the input keying material `ikm`,
/// `salt` (NULL/0: none) and `info` (NULL/0: none). Returns `len`, or
/// MOJO_TLS_ERR_INVALID_ARGUMENT (unknown `alg`, NULL pointer with a
/// nonzero length, `len` out of range).
#[no_mangle]
#[allow(clippy::too_many_arguments)] // RFC 5869's inputs, flat for C
pub extern "C" fn mojo_tls_hkdf(
    alg: i32,
    salt: *const u8,
    salt_len: size_t,
    ikm: *const u8,
    ikm_len: size_t,
    info: *const u8,
    info_len: size_t,
    buf: *mut u8,
    len: size_t,
) -> intptr_t {
    guard_len(|| {
        let hash = hash_arg(alg)?;
        let salt = bytes_arg(salt, salt_len, "salt")?;
        let ikm = bytes_arg(ikm, ikm_len, "ikm")?;
        let info = bytes_arg(info, info_len, "info")?;
        let out = bytes_out(buf, len, "buf")?;
        crypto::hkdf(hash, salt, ikm, info, out)?;
        Ok(out.len())
    })
}
