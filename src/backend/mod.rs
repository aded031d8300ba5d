//! The only code that calls Mbed TLS. Everything above this module works with
//! the safe types exported here; version differences between Mbed TLS
//! generations stay inside this module.

// Mbed TLS constants are `int` in one generation and `unsigned` in another:
// casts that are no-ops for one backend are needed for the other.
#![allow(clippy::unnecessary_cast)]

#[cfg(all(feature = "bundled", feature = "system"))]
compile_error!(
    "choose one backend: `bundled` (default) or `system` (--no-default-features --features system)"
);

#[cfg(not(any(feature = "bundled", feature = "system")))]
compile_error!("no backend selected: enable the `bundled` or the `system` feature");

#[cfg(mbedtls_bundled)]
pub(crate) mod aes;
#[cfg(all(test, mbedtls_bundled))]
mod aes_tests;
pub mod bio;
pub mod compat;
#[cfg(mbedtls_bundled)]
pub(crate) mod digest;
#[cfg(all(test, mbedtls_bundled))]
mod digest_tests;
#[cfg(mbedtls_bundled)]
pub(crate) mod ecc;
#[cfg(all(test, mbedtls_bundled))]
mod ecc_tests;
pub(crate) mod entropy;
pub mod errors;
pub mod exporter;
pub(crate) mod files;
// Mbed TLS's GCM entry points, not our C ABI:
/// cbindgen:ignore
#[cfg(all(mbedtls_bundled, mbedtls_gcm_alt))]
mod gcm;
#[cfg(all(test, mbedtls_bundled, mbedtls_gcm_alt))]
mod gcm_tests;
pub(crate) mod generation;
pub(crate) mod handover;
pub mod hash;
pub mod init;
pub mod keylog;
pub(crate) mod keys;
pub(crate) mod net_sockets;
pub mod pk;
#[cfg(mbedtls_bundled)]
pub(crate) mod platform;
pub(crate) mod psa;
pub mod resumption;
pub mod rng;
pub mod ssl;
pub(crate) mod stale_hello;
pub mod suites;
pub(crate) mod sys;
pub mod ticket_keys;
pub mod x509;

pub use init::{backend_description, ensure_init};
