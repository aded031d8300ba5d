//! Utility entry points: random bytes and SHA-256.

use libc::{intptr_t, size_t};

use super::{bytes_arg, bytes_out, copy_out, guard_len};
use crate::backend;

/// Fill `buf` with `cap` cryptographically secure random bytes (CTR_DRBG;
/// PSA's RNG on Mbed TLS 4.x; reseeded after fork either way). Returns
/// `cap` or a negative error.
#[no_mangle]
pub extern "C" fn mojo_tls_random(buf: *mut u8, cap: size_t) -> intptr_t {
    guard_len(|| {
        let out = bytes_out(buf, cap, "buf")?;
        backend::rng::random(out)?;
        Ok(cap)
    })
}

/// SHA-256 of the `len` bytes at `data` into `buf` (copies what fits of the
/// 32-byte digest; `buf` may be NULL with `cap` 0). Returns 32, or a
/// negative error.
#[no_mangle]
pub extern "C" fn mojo_tls_sha256(
    data: *const u8,
    len: size_t,
    buf: *mut u8,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        let data = bytes_arg(data, len, "data")?;
        copy_out(&backend::hash::sha256(data), buf, cap)
    })
}
