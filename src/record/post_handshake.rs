//! Control messages after the handshake, once the record is opened:
//! alerts, TLS 1.3 KeyUpdate (both directions), a TLS 1.3 client's
//! NewSessionTickets (handed back re-encrypted under the key and sequence
//! number Mbed TLS still expects, so it stores the ticket and resumption
//! keeps working) and TLS 1.2 renegotiation requests (refused with a
//! no_renegotiation warning).

use super::alert::{self, RecordError};
use super::content_type::ContentType;
use super::layer::{rekey, RecordLayer};
use super::protect::MAX_PLAINTEXT;
use super::Opened;

pub(super) const HS_HELLO_REQUEST: u8 = 0;
const HS_CLIENT_HELLO: u8 = 1;
pub(super) const HS_NEW_SESSION_TICKET: u8 = 4;
pub(super) const HS_KEY_UPDATE: u8 = 24;
/// Post-handshake messages are small (a ticket is < 64 KiB); refuse more.
const MAX_HANDSHAKE_MESSAGE: usize = 1 << 17;

impl RecordLayer {
    pub(super) fn on_alert(&mut self, body: &[u8], consumed: usize) -> Result<Opened, RecordError> {
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

    pub(super) fn on_handshake(
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
                (true, HS_NEW_SESSION_TICKET) if !self.is_server => {
                    tickets.extend_from_slice(&self.hs_buf[pos..end]);
                }
                (true, HS_KEY_UPDATE) => {
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
                (false, HS_HELLO_REQUEST) if !self.is_server && len == 0 => {
                    self.seal_alert(alert::NO_RENEGOTIATION, false, reply)?;
                }
                (false, HS_CLIENT_HELLO) if self.is_server => {
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
