//! TLS alerts: the descriptions the record layer sends and recognises
//! (RFC 8446 §6), and the failure type that carries the alert to send.

pub(crate) const CLOSE_NOTIFY: u8 = 0;
pub(crate) const UNEXPECTED_MESSAGE: u8 = 10;
pub(crate) const BAD_RECORD_MAC: u8 = 20;
pub(crate) const RECORD_OVERFLOW: u8 = 22;
pub(crate) const ILLEGAL_PARAMETER: u8 = 47;
pub(crate) const DECODE_ERROR: u8 = 50;
pub(crate) const PROTOCOL_VERSION: u8 = 70;
pub(crate) const INTERNAL_ERROR: u8 = 80;
pub(crate) const USER_CANCELED: u8 = 90;
pub(crate) const NO_RENEGOTIATION: u8 = 100;

/// A record-layer failure: the alert to send (best effort) before the
/// connection fails, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordError {
    pub alert: u8,
    pub message: &'static str,
}

impl RecordError {
    pub const fn new(alert: u8, message: &'static str) -> RecordError {
        RecordError { alert, message }
    }
    pub const BAD_RECORD_MAC: RecordError = RecordError::new(
        BAD_RECORD_MAC,
        "a record failed authentication (bad record MAC)",
    );
    pub const RECORD_OVERFLOW: RecordError = RecordError::new(
        RECORD_OVERFLOW,
        "the peer sent a record larger than TLS allows",
    );
    pub const SEQ_EXHAUSTED: RecordError = RecordError::new(
        INTERNAL_ERROR,
        "the record sequence number is exhausted (2^64 records)",
    );
    pub const INTERNAL: RecordError = RecordError::new(INTERNAL_ERROR, "record encryption failed");
    pub(super) const UNEXPECTED: RecordError = RecordError::new(
        UNEXPECTED_MESSAGE,
        "the peer sent a message not allowed after the handshake",
    );
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message)
    }
}
