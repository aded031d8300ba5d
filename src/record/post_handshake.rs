//! What an opened record means: application data, or a control message
//! after the handshake:
//! alerts, TLS 1.3 KeyUpdate (both directions), a TLS 1.3 client's
//! NewSessionTickets (handed back re-encrypted under the key and sequence
//! number Mbed TLS still expects, so it stores the ticket and resumption
//! keeps working) and TLS 1.2 renegotiation requests (refused with a
//! no_renegotiation warning).

use std::ops::Range;

use super::alert::{self, RecordError};
use super::content_type::{ContentType, HandshakeType};
use super::layer::{rekey, RecordLayer, Unprotected};
use super::protect::MAX_PLAINTEXT;

/// Post-handshake messages are small (a ticket is < 64 KiB); refuse more.
const MAX_HANDSHAKE_MESSAGE: usize = 1 << 17;

/// What one call to [`RecordLayer::open`] found at the front of the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Opened {
    /// Not a whole record yet: at least `need` bytes are needed in all.
    Incomplete { need: usize },
    /// Application data at `input[range]` (may be empty).
    AppData {
        consumed: usize,
        range: Range<usize>,
    },
    /// The peer's close_notify.
    CloseNotify { consumed: usize },
    /// A fatal alert from the peer.
    Alert { consumed: usize, desc: u8 },
    /// Nothing to deliver (KeyUpdate, a warning alert, a refused
    /// renegotiation); see `reply`.
    Nothing { consumed: usize },
    /// TLS 1.3 client: NewSessionTicket message(s), re-encrypted as one or
    /// more records for Mbed TLS's own read path (see the module docs).
    SessionTicket { consumed: usize, record: Vec<u8> },
}

impl RecordLayer {
    /// Parse and decrypt (in place) the record at the front of `input`.
    /// Records this side must send in answer are appended to `reply`.
    pub fn open(&mut self, input: &mut [u8], reply: &mut Vec<u8>) -> Result<Opened, RecordError> {
        let (inner, range, total) = match self.unprotect(input)? {
            Unprotected::Incomplete { need } => return Ok(Opened::Incomplete { need }),
            Unprotected::Record {
                inner,
                range,
                total,
            } => (inner, range, total),
        };
        if !self.hs_buf.is_empty() && inner != ContentType::HANDSHAKE {
            return Err(RecordError::new(
                alert::UNEXPECTED_MESSAGE,
                "the peer interleaved a record within a handshake message",
            ));
        }
        match inner {
            ContentType::APPLICATION_DATA => Ok(Opened::AppData {
                consumed: total,
                range,
            }),
            ContentType::ALERT => self.on_alert(&input[range], total),
            ContentType::HANDSHAKE if !range.is_empty() => {
                self.on_handshake(&input[range], total, reply)
            }
            _ => Err(RecordError::UNEXPECTED),
        }
    }

    fn on_alert(&mut self, body: &[u8], consumed: usize) -> Result<Opened, RecordError> {
        // An empty alert record is a zero-length fragment of a type that
        // must never have one (RFC 8446 §5.1, RFC 5246 §6.2.1): the record
        // itself is out of place, not a malformed alert (tlsfuzzer's
        // test-tls13-empty-alert expects unexpected_message).
        if body.is_empty() {
            return Err(RecordError::new(
                alert::UNEXPECTED_MESSAGE,
                "the peer sent an empty alert record",
            ));
        }
        let &[level, desc] = body else {
            return Err(RecordError::new(
                alert::DECODE_ERROR,
                "the peer sent a malformed alert",
            ));
        };
        Ok(match desc {
            alert::CLOSE_NOTIFY => Opened::CloseNotify { consumed },
            alert::USER_CANCELED => Opened::Nothing { consumed },
            // TLS 1.2 warnings (e.g. no_renegotiation) do not end the
            // connection; TLS 1.3 has no other warning alerts.
            _ if level == 1 && !self.suite.tls13 => Opened::Nothing { consumed },
            _ => Opened::Alert { consumed, desc },
        })
    }

    fn on_handshake(
        &mut self,
        body: &[u8],
        consumed: usize,
        reply: &mut Vec<u8>,
    ) -> Result<Opened, RecordError> {
        if self.hs_buf.len() + body.len() > MAX_HANDSHAKE_MESSAGE + 4 {
            return Err(RecordError::new(
                alert::DECODE_ERROR,
                "the peer sent an oversized post-handshake message",
            ));
        }
        self.hs_buf.extend_from_slice(body);
        let mut tickets = Vec::new();
        let mut pos = 0;
        while self.hs_buf.len() - pos >= 4 {
            let msg_type = self.hs_buf[pos];
            let h = &self.hs_buf[pos + 1..pos + 4];
            let len = usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
            if len > MAX_HANDSHAKE_MESSAGE {
                return Err(RecordError::new(
                    alert::DECODE_ERROR,
                    "the peer sent an oversized post-handshake message",
                ));
            }
            let end = pos + 4 + len;
            if end > self.hs_buf.len() {
                break;
            }
            match (self.suite.tls13, msg_type) {
                (true, HandshakeType::NEW_SESSION_TICKET) if !self.is_server => {
                    tickets.extend_from_slice(&self.hs_buf[pos..end]);
                }
                (true, HandshakeType::KEY_UPDATE) => {
                    // RFC 8446 §5.1: a KeyUpdate must end its record.
                    if end != self.hs_buf.len() {
                        return Err(RecordError::new(
                            alert::UNEXPECTED_MESSAGE,
                            "the peer sent data after a KeyUpdate in the same record",
                        ));
                    }
                    let requested = match (len, self.hs_buf.get(pos + 4)) {
                        (1, Some(0)) => false,
                        (1, Some(1)) => true,
                        (1, _) => {
                            return Err(RecordError::new(
                                alert::ILLEGAL_PARAMETER,
                                "the peer sent a KeyUpdate with an invalid request",
                            ))
                        }
                        _ => {
                            return Err(RecordError::new(
                                alert::DECODE_ERROR,
                                "the peer sent a malformed KeyUpdate",
                            ))
                        }
                    };
                    self.update_read_key()?;
                    if requested {
                        self.seal_key_update(false, reply)?;
                    }
                }
                (false, HandshakeType::HELLO_REQUEST) if !self.is_server && len == 0 => {
                    self.seal_alert(alert::NO_RENEGOTIATION, false, reply)?;
                }
                (false, HandshakeType::CLIENT_HELLO) if self.is_server => {
                    self.seal_alert(alert::NO_RENEGOTIATION, false, reply)?;
                }
                _ => return Err(RecordError::UNEXPECTED),
            }
            pos = end;
        }
        self.hs_buf.drain(..pos);
        if self.hs_buf.is_empty() {
            self.hs_buf = Vec::new(); // idle connections hold no buffer
        }
        if tickets.is_empty() {
            return Ok(Opened::Nothing { consumed });
        }
        let mbedtls = self.mbedtls_read.as_mut().ok_or(RecordError::UNEXPECTED)?;
        let mut record = Vec::with_capacity(tickets.len() + 64);
        for chunk in tickets.chunks(MAX_PLAINTEXT) {
            mbedtls.seal(ContentType::HANDSHAKE, chunk, &mut record)?;
        }
        Ok(Opened::SessionTicket { consumed, record })
    }

    fn update_read_key(&mut self) -> Result<(), RecordError> {
        self.read = rekey(self.suite, &mut self.read_secret).ok_or(RecordError::INTERNAL)?;
        self.key_updates_received += 1;
        Ok(())
    }
}
