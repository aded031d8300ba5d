//! PSA crypto set-up shared by every generation: initialisation (after
//! the bundled engine's platform hooks) and, where the installed PSA does
//! not do it itself, reseeding its RNG in a forked child.

use super::sys;

pub(crate) fn psa_init() -> i32 {
    // The bundled engine's mutexes and RNG must be in place first.
    #[cfg(mbedtls_bundled)]
    super::platform::install();
    // SAFETY: idempotent, thread-safe initialisation.
    unsafe { sys::psa_crypto_init() }
}

/// After fork(), in the child, before the first use of the PSA RNG.
/// 3.6.6+ and 4.1+ (TF-PSA-Crypto 1.1) reseed PSA's RNG themselves.
/// TF-PSA-Crypto 1.0 (Mbed TLS 4.0) does not and has no reseed call
/// (CVE-2026-25835): parent and child would draw the same "random"
/// bytes (key shares, nonces). Its DRBG reseeds from the OS once its
/// reseed counter passes MBEDTLS_PSA_RNG_RESEED_INTERVAL requests, so
/// the child spends that many 1-byte requests (about 2 ms) to force a
/// reseed of its own before anything else uses it.
#[cfg(mbedtls_psa_rng_fork_unsafe)]
pub(crate) fn psa_rng_after_fork() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    static RESEEDED_FOR: AtomicUsize = AtomicUsize::new(0);
    static LOCK: Mutex<()> = Mutex::new(());
    let generation = super::entropy::FORK_GENERATION.load(Ordering::SeqCst);
    if RESEEDED_FOR.load(Ordering::SeqCst) == generation {
        return;
    }
    let _held = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if RESEEDED_FOR.load(Ordering::SeqCst) == generation {
        return;
    }
    let mut byte = [0u8; 1];
    for _ in 0..(sys::MBEDTLS_PSA_RNG_RESEED_INTERVAL as usize + 2) {
        // SAFETY: a valid 1-byte buffer; PSA is initialised.
        unsafe { sys::psa_generate_random(byte.as_mut_ptr(), 1) };
    }
    RESEEDED_FOR.store(generation, Ordering::SeqCst);
}
#[cfg(not(mbedtls_psa_rng_fork_unsafe))]
pub(crate) fn psa_rng_after_fork() {}
