//! TLS record content types (RFC 8446 §5.1), one definition for the
//! record layer, its I/O driver and kernel TLS; and the handshake message
//! types that can follow the handshake.

/// Record content types; associated constants so they work in patterns
/// against the raw header byte.
pub(crate) struct ContentType;

impl ContentType {
    pub(crate) const CHANGE_CIPHER_SPEC: u8 = 20;
    pub(crate) const ALERT: u8 = 21;
    pub(crate) const HANDSHAKE: u8 = 22;
    pub(crate) const APPLICATION_DATA: u8 = 23;
}

/// Handshake message types the record layer meets after the handshake.
pub(crate) struct HandshakeType;

impl HandshakeType {
    pub(crate) const HELLO_REQUEST: u8 = 0;
    pub(crate) const CLIENT_HELLO: u8 = 1;
    pub(crate) const NEW_SESSION_TICKET: u8 = 4;
    pub(crate) const KEY_UPDATE: u8 = 24;
}
