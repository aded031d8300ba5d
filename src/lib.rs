//! mojo-tls: TLS for any language that can dlopen a C library — a flat,
//! checked C ABI over Mbed TLS. See docs/ARCHITECTURE.md for the layers.
//!
//! Every module is crate-private: the `extern "C"` functions (`src/ffi/`)
//! are the interface. `testing` is what the Rust integration tests and
//! fuzz targets reach inside.

pub(crate) mod backend;
pub(crate) mod certgen;
pub(crate) mod certs;
pub(crate) mod config;
pub(crate) mod conn;
pub(crate) mod crypto;
pub(crate) mod error;
pub(crate) mod ffi;
pub(crate) mod listener;
pub(crate) mod net;
pub(crate) mod record;
pub(crate) mod registry;
#[doc(hidden)]
pub mod testing;
pub(crate) mod transport;
