//! Process-wide Mbed TLS set-up: entropy, the fork generation counter and the
//! backend description. Idempotent and thread-safe; every entry point calls
//! `ensure_init`, so forgetting `mojo_tls_init` never crashes.

use std::sync::LazyLock;

static INIT: LazyLock<()> = LazyLock::new(|| {
    // PSA first (3.6 / 4.x): TLS 1.3, X.509 and 4.x's RNG depend on it. A
    // failure here is reported by the first call that needs crypto.
    let _ = super::psa::psa_init();
    #[cfg(not(mbedtls_4))]
    LazyLock::force(&super::entropy::ENTROPY);
    // SAFETY: registering a plain function with no captured state.
    unsafe {
        libc::pthread_atfork(None, None, Some(super::entropy::after_fork_in_child));
    }
    LazyLock::force(&super::rng::GLOBAL);
    LazyLock::force(&super::suites::TABLE);
});

pub fn ensure_init() {
    LazyLock::force(&INIT);
    super::psa::psa_rng_after_fork();
}

static DESCRIPTION: LazyLock<String> = LazyLock::new(|| {
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
