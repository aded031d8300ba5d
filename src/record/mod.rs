//! The fast record layer: after Mbed TLS completes the handshake, the
//! connection's records are protected here with `ring`'s AEADs
//! (AES-128/256-GCM, ChaCha20-Poly1305; TLS 1.2 and 1.3).
//!
//! - pure, no I/O: `suite.rs` (the suites run here), `keys.rs` (key
//!   schedule), `protect.rs` (one direction's AEAD), `layer.rs` (a
//!   connection's record protection), `post_handshake.rs` (alerts,
//!   KeyUpdate, tickets, renegotiation refusal), `alert.rs`,
//!   `content_type.rs`;
//! - `handover.rs`: the hand-over from Mbed TLS once the handshake is over
//!   (the keys come from `backend::handover`), choosing ring or kernel TLS;
//! - `io.rs`: the data path over the connection's transport;
//! - `ktls.rs`: kernel TLS (Linux `tls` ULP).

pub(crate) mod alert;
mod content_type;
pub(crate) mod handover;
pub(crate) mod io;
mod keys;
pub(crate) mod ktls;
mod layer;
mod post_handshake;
mod protect;
mod suite;

pub(crate) use alert::RecordError;
pub(crate) use content_type::ContentType;
pub use keys::{Secrets, Tls12Keys};
pub use layer::RecordLayer;
pub use post_handshake::Opened;

/// Whether the record layer runs this suite (IANA id).
pub fn supported(suite: u16, tls13: bool) -> bool {
    suite::find(suite, tls13).is_some()
}

/// TLS 1.2 keys from the master secret (what Mbed TLS exports for TLS 1.2).
pub fn tls12_keys_from_master(
    suite: u16,
    master: &[u8],
    client_random: &[u8],
    server_random: &[u8],
) -> Option<Tls12Keys> {
    keys::tls12_from_master(
        suite::find(suite, false)?,
        master,
        client_random,
        server_random,
    )
}

#[cfg(test)]
mod tests;
