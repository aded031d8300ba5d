//! mojo-tls: TLS for any language that can dlopen a C library — a flat,
//! checked C ABI over Mbed TLS. See docs/ARCHITECTURE.md for the layers.

pub mod backend;
pub mod certgen;
pub mod certs;
pub mod config;
pub mod conn;
pub mod error;
pub mod ffi;
pub mod net;
pub mod record;
pub mod registry;
pub mod transport;

pub use error::{Code, Error, Result};
