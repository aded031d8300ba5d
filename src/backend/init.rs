//! Process-wide Mbed TLS set-up: entropy, the fork generation counter and the
//! backend description. Idempotent and thread-safe; every entry point calls
//! `ensure_init`, so forgetting `mojo_tls_init` never crashes.

use std::sync::atomic::{AtomicUsize, Ordering};

use once_cell::sync::Lazy;

#[cfg(not(mbedtls_4))]
use super::sys;

/// Bumped in the child after `fork()`: every DRBG compares it with the value
/// it was seeded under and reseeds, so parent and child never share output.
pub(crate) static FORK_GENERATION: AtomicUsize = AtomicUsize::new(0);

extern "C" fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// The shared entropy source (Mbed TLS locks it internally; it is only used
/// to seed and reseed DRBGs).
#[cfg(not(mbedtls_4))]
pub(crate) struct Entropy(pub(crate) Box<sys::entropy_context>);
// SAFETY: entropy_context is guarded by its own mutex (MBEDTLS_THREADING_C).
#[cfg(not(mbedtls_4))]
unsafe impl Send for Entropy {}
#[cfg(not(mbedtls_4))]
unsafe impl Sync for Entropy {}

#[cfg(not(mbedtls_4))]
pub(crate) static ENTROPY: Lazy<Entropy> = Lazy::new(|| {
    // SAFETY: a zeroed entropy_context is valid input to entropy_init, which
    // fully initialises it; the Box keeps its address stable forever.
    unsafe {
        #[cfg(mbedtls_bundled)]
        super::platform::install();
        let mut ctx: Box<sys::entropy_context> = Box::new(std::mem::zeroed());
        sys::entropy_init(&mut *ctx);
        #[cfg(mbedtls_bundled)]
        {
            let ret = super::platform::add_entropy_source(&mut *ctx);
            assert_eq!(ret, 0, "registering the OS entropy source");
        }
        Entropy(ctx)
    }
});

static INIT: Lazy<()> = Lazy::new(|| {
    // PSA first (3.6 / 4.x): TLS 1.3, X.509 and 4.x's RNG depend on it. A
    // failure here is reported by the first call that needs crypto.
    let _ = super::generation::psa_init();
    #[cfg(not(mbedtls_4))]
    Lazy::force(&ENTROPY);
    // SAFETY: registering a plain function with no captured state.
    unsafe {
        libc::pthread_atfork(None, None, Some(after_fork_in_child));
    }
    Lazy::force(&super::rng::GLOBAL);
    Lazy::force(&super::suites::TABLE);
});

pub fn ensure_init() {
    Lazy::force(&INIT);
    super::generation::psa_rng_after_fork();
}

static DESCRIPTION: Lazy<String> = Lazy::new(|| {
    // The bundled engine names who multiplies on its curves (src/backend/ecc.rs).
    #[cfg(mbedtls_bundled)]
    let ecc = {
        super::platform::install();
        format!(", ECC by {}", super::ecc::engine_name())
    };
    #[cfg(not(mbedtls_bundled))]
    let ecc = "";
    format!(
        "Mbed TLS {} ({}{})\0",
        super::generation::version_string(),
        super::generation::GENERATION,
        ecc
    )
});

/// e.g. "Mbed TLS 3.6.5 (bundled, ECC by AWS-LC)", NUL-terminated, static.
pub fn backend_description() -> &'static str {
    &DESCRIPTION
}
