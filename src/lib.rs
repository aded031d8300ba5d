//! mojo-tls: TLS for any language that can dlopen a C library — a flat,
//! checked C ABI over Mbed TLS. See docs/ARCHITECTURE.md for the layers.

pub mod backend;
pub mod certgen;
pub mod certs;
pub mod config;
pub mod conn;
pub mod error;
// src/ffi/ is brought under the crate's unsafe lints on its own branch
// (abi1); this allow goes when the branches merge.
#[allow(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
pub mod ffi;
pub mod net;
pub mod record;
pub mod registry;
pub mod transport;

pub use error::{Code, Error, Result};
