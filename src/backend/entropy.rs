//! The process's entropy source (3.6: Mbed TLS's entropy pool, which
//! seeds and reseeds every DRBG) and the fork generation counter that
//! tells DRBGs to reseed in a forked child.

use std::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(mbedtls_4))]
use std::sync::LazyLock;

#[cfg(not(mbedtls_4))]
use super::sys;

/// Bumped in the child after `fork()`: every DRBG compares it with the value
/// it was seeded under and reseeds, so parent and child never share output.
pub(crate) static FORK_GENERATION: AtomicUsize = AtomicUsize::new(0);

pub(crate) extern "C" fn after_fork_in_child() {
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
// SAFETY: as for Send, above.
unsafe impl Sync for Entropy {}

#[cfg(not(mbedtls_4))]
pub(crate) static ENTROPY: LazyLock<Entropy> = LazyLock::new(|| {
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
