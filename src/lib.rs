//! mojo-tls: TLS for any language that can dlopen a C library — a flat,
//! checked C ABI over Mbed TLS. See docs/ARCHITECTURE.md for the layers.

pub mod backend;
pub mod certgen;
pub mod certs;
pub mod config;
pub mod conn;
pub mod error;
pub mod ffi;
pub mod ktls;
pub mod net;
pub mod record;
pub mod record_io;
pub mod registry;
pub mod takeover;
pub mod transport;

pub use error::{Code, Error, Result};
