//! Not API: the internals the crate's Rust integration tests (`tests/*.rs`)
//! and fuzz targets (`fuzz/`) reach. The C ABI is the library's interface;
//! every module of the crate is `pub(crate)`, and nothing here is stable.

/// The C entry points, callable from Rust (the fuzz targets drive the
/// library exactly as a host program does).
pub mod ffi {
    pub use crate::ffi::certgen::*;
    pub use crate::ffi::compat::*;
    pub use crate::ffi::config::*;
    pub use crate::ffi::conn::*;
    pub use crate::ffi::dtls::*;
    pub use crate::ffi::dtls_listener::*;
    pub use crate::ffi::library::*;
    pub use crate::ffi::peer::*;
    pub use crate::ffi::socket::*;
    pub use crate::ffi::util::*;
}

/// The fast record layer on its own (no I/O): fuzzed and played against
/// as a hostile peer.
pub mod record {
    pub use crate::record::{tls12_keys_from_master, Opened, RecordLayer, Secrets};
}

/// A DTLS listener's stateless step on one datagram (fuzzed without
/// sockets): what it does with `datagram` from the client `peer_id`, for
/// connections made from the configuration handle `cfg`.
pub fn dtls_listener_verdict(
    cfg: *const ffi::mojo_tls_config,
    datagram: &[u8],
    peer_id: &[u8],
) -> Result<crate::listener::Verdict> {
    let config = crate::ffi::handle::<Config, _>(cfg, "config")?;
    crate::listener::verdict(&config, datagram, peer_id)
}

pub use crate::listener::Verdict;

/// Certificate generation (rcgen) for test fixtures.
pub mod certgen {
    pub use crate::certgen::{ca, crl_pem, leaf, GenCert};
}

pub use crate::backend::hash::sha256;
pub use crate::backend::pk::PrivateKey;
pub use crate::backend::x509::CertChain;
pub use crate::config::Config;
pub use crate::conn::Conn;
pub use crate::error::{Code, Error, Result};
