//! The only code that calls Mbed TLS. Everything above this module works with
//! the safe types exported here; version differences between Mbed TLS
//! generations stay inside this module.

#[cfg(feature = "bundled")]
pub(crate) use mbedtls_sys as sys;

#[cfg(not(feature = "bundled"))]
compile_error!("no backend selected: enable the `bundled` feature");

pub mod bio;
pub mod compat;
pub mod errors;
pub mod init;
pub mod keylog;
pub mod pk;
pub mod resumption;
pub mod rng;
pub mod ssl;
pub mod suites;
pub mod x509;

pub use init::{backend_description, ensure_init};

/// Highest protocol version this backend implements (TLS 1.2 on 2.28).
pub(crate) const MAX_SUPPORTED_VERSION: u16 = 0x0303;
