//! TLS record content types (RFC 8446 §5.1), one definition for the
//! record layer, its I/O driver and kernel TLS; and the handshake message
//! types that can follow the handshake.

/// Record content types; associated constants so they work in patterns
/// against the raw header byte.
pub struct ContentType;

impl ContentType {
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    pub const ALERT: u8 = 21;
    pub const HANDSHAKE: u8 = 22;
    pub const APPLICATION_DATA: u8 = 23;
}

/// Handshake message types the record layer meets after the handshake.
pub struct HandshakeType;

impl HandshakeType {
    pub const HELLO_REQUEST: u8 = 0;
    pub const CLIENT_HELLO: u8 = 1;
    pub const NEW_SESSION_TICKET: u8 = 4;
    pub const KEY_UPDATE: u8 = 24;
}
