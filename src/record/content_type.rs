//! TLS record content types (RFC 8446 §5.1), one definition for the
//! record layer, its I/O driver and kernel TLS.

/// Record content types; associated constants so they work in patterns
/// against the raw header byte.
pub struct ContentType;

impl ContentType {
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    pub const ALERT: u8 = 21;
    pub const HANDSHAKE: u8 = 22;
    pub const APPLICATION_DATA: u8 = 23;
}
