//! SHA-256 through Mbed TLS (3.6: its own function; 4.x: PSA), for
//! certificate fingerprints, pins and the C API's helper.

use super::sys;

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    sha256_into(data, &mut out);
    out
}

#[cfg(mbedtls_3)]
fn sha256_into(data: &[u8], out: &mut [u8; 32]) {
    // SAFETY: valid input slice and 32-byte output.
    unsafe { sys::sha256(data.as_ptr(), data.len(), out.as_mut_ptr(), 0) };
}
#[cfg(mbedtls_4)]
fn sha256_into(data: &[u8], out: &mut [u8; 32]) {
    const PSA_ALG_SHA_256: sys::psa_algorithm_t = 0x0200_0009;
    let mut len = 0usize;
    // SAFETY: valid buffers; PSA is initialised by ensure_init.
    unsafe {
        sys::psa_hash_compute(
            PSA_ALG_SHA_256,
            data.as_ptr(),
            data.len(),
            out.as_mut_ptr(),
            32,
            &mut len,
        )
    };
}
