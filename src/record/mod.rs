//! The fast record layer: after Mbed TLS completes the handshake, the
//! connection's records are protected here with `ring`'s AEADs
//! (AES-128/256-GCM, ChaCha20-Poly1305; TLS 1.2 and 1.3). No I/O and no
//! Mbed TLS calls: the connection feeds received bytes to [`RecordLayer::open`]
//! and sends what [`RecordLayer::seal_app_data`] and friends append.
//!
//! Post-handshake messages: TLS 1.3 KeyUpdate is handled here (both
//! directions); a TLS 1.3 client's NewSessionTicket is handed back
//! re-encrypted under the key and sequence number Mbed TLS still expects, so
//! Mbed TLS stores the ticket and resumption keeps working; TLS 1.2
//! renegotiation requests are refused with a no_renegotiation warning.

mod keys;
mod protect;
mod suite;

use std::ops::Range;

use zeroize::Zeroizing;

pub use keys::{Secrets, Tls12Keys};
pub use suite::{Aead, Hash, Suite};

use protect::{Direction, CT_APPLICATION_DATA, HEADER_LEN, MAX_PLAINTEXT};

const CT_CHANGE_CIPHER_SPEC: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;

const HS_HELLO_REQUEST: u8 = 0;
const HS_CLIENT_HELLO: u8 = 1;
const HS_NEW_SESSION_TICKET: u8 = 4;
const HS_KEY_UPDATE: u8 = 24;
/// Post-handshake messages are small (a ticket is < 64 KiB); refuse more.
const MAX_HANDSHAKE_MESSAGE: usize = 1 << 17;

/// TLS alert descriptions (RFC 8446 §6).
pub mod alert {
    pub const CLOSE_NOTIFY: u8 = 0;
    pub const UNEXPECTED_MESSAGE: u8 = 10;
    pub const BAD_RECORD_MAC: u8 = 20;
    pub const RECORD_OVERFLOW: u8 = 22;
    pub const ILLEGAL_PARAMETER: u8 = 47;
    pub const DECODE_ERROR: u8 = 50;
    pub const PROTOCOL_VERSION: u8 = 70;
    pub const INTERNAL_ERROR: u8 = 80;
    pub const USER_CANCELED: u8 = 90;
    pub const NO_RENEGOTIATION: u8 = 100;
}

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
        alert::BAD_RECORD_MAC,
        "a record failed authentication (bad record MAC)",
    );
    pub const RECORD_OVERFLOW: RecordError = RecordError::new(
        alert::RECORD_OVERFLOW,
        "the peer sent a record larger than TLS allows",
    );
    pub const SEQ_EXHAUSTED: RecordError = RecordError::new(
        alert::INTERNAL_ERROR,
        "the record sequence number is exhausted (2^64 records)",
    );
    pub const INTERNAL: RecordError =
        RecordError::new(alert::INTERNAL_ERROR, "record encryption failed");
    const UNEXPECTED: RecordError = RecordError::new(
        alert::UNEXPECTED_MESSAGE,
        "the peer sent a message not allowed after the handshake",
    );
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message)
    }
}

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

pub struct RecordLayer {
    suite: Suite,
    is_server: bool,
    read: Direction,
    write: Direction,
    /// TLS 1.3 traffic secrets, for KeyUpdate.
    read_secret: Zeroizing<Vec<u8>>,
    write_secret: Zeroizing<Vec<u8>>,
    /// TLS 1.3 client: Mbed TLS's read state (the original key and the
    /// sequence number it expects next), to re-encrypt tickets for it.
    mbedtls_read: Option<Direction>,
    /// A handshake message split over records.
    hs_buf: Vec<u8>,
    key_updates_sent: u32,
    key_updates_received: u32,
}

impl RecordLayer {
    /// `read_seq` / `write_seq`: the sequence numbers of the next record in
    /// each direction. `None` if the suite is not supported or the secrets
    /// do not fit it.
    pub fn new(
        suite: u16,
        is_server: bool,
        secrets: Secrets,
        read_seq: u64,
        write_seq: u64,
    ) -> Option<RecordLayer> {
        let tls13 = matches!(secrets, Secrets::Tls13 { .. });
        let suite = suite::find(suite, tls13)?;
        let (read, write, read_secret, write_secret, mbedtls_read) = match secrets {
            Secrets::Tls12(k) => {
                let (rk, riv, wk, wiv) = if is_server {
                    (&k.client_key, &k.client_iv, &k.server_key, &k.server_iv)
                } else {
                    (&k.server_key, &k.server_iv, &k.client_key, &k.client_iv)
                };
                (
                    Direction::new(suite, rk, riv, read_seq)?,
                    Direction::new(suite, wk, wiv, write_seq)?,
                    Zeroizing::new(Vec::new()),
                    Zeroizing::new(Vec::new()),
                    None,
                )
            }
            Secrets::Tls13 { client, server } => {
                let (rs, ws) = if is_server {
                    (client, server)
                } else {
                    (server, client)
                };
                if rs.len() != suite.hash.output_len() || ws.len() != suite.hash.output_len() {
                    return None;
                }
                let (rk, riv) = keys::tls13_key_iv(suite, &rs);
                let (wk, wiv) = keys::tls13_key_iv(suite, &ws);
                let mbedtls_read = if is_server {
                    None
                } else {
                    Some(Direction::new(suite, &rk, &riv, read_seq)?)
                };
                (
                    Direction::new(suite, &rk, &riv, read_seq)?,
                    Direction::new(suite, &wk, &wiv, write_seq)?,
                    rs,
                    ws,
                    mbedtls_read,
                )
            }
        };
        Some(RecordLayer {
            suite,
            is_server,
            read,
            write,
            read_secret,
            write_secret,
            mbedtls_read,
            hs_buf: Vec::new(),
            key_updates_sent: 0,
            key_updates_received: 0,
        })
    }

    pub fn is_tls13(&self) -> bool {
        self.suite.tls13
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// KeyUpdates (sent, received) so far.
    pub fn key_updates(&self) -> (u32, u32) {
        (self.key_updates_sent, self.key_updates_received)
    }

    /// Ciphertext bytes needed to seal `plain_len` bytes of application data.
    pub fn sealed_len(&self, plain_len: usize) -> usize {
        let records = plain_len.div_ceil(MAX_PLAINTEXT);
        plain_len + records * self.write.overhead()
    }

    /// Encrypt all of `plain` as application-data records of at most 2^14
    /// bytes each, appending them to `out`.
    pub fn seal_app_data(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), RecordError> {
        out.reserve(self.sealed_len(plain.len()));
        for chunk in plain.chunks(MAX_PLAINTEXT) {
            self.rekey_if_due(out)?;
            self.write.seal(CT_APPLICATION_DATA, chunk, out)?;
        }
        Ok(())
    }

    /// TLS 1.3: update our write key before it protects too many records.
    fn rekey_if_due(&mut self, out: &mut Vec<u8>) -> Result<(), RecordError> {
        let limit = self.suite.aead.record_limit().min(u64::MAX - 1);
        if self.suite.tls13 && self.write.seq >= limit {
            self.seal_key_update(false, out)?;
        }
        Ok(())
    }

    /// An alert record (close_notify: desc 0, not fatal).
    pub fn seal_alert(
        &mut self,
        desc: u8,
        fatal: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), RecordError> {
        let level = if fatal { 2 } else { 1 };
        self.write.seal(CT_ALERT, &[level, desc], out)
    }

    /// TLS 1.3: send a KeyUpdate and switch to the next write key;
    /// `request_peer` asks the peer to update its key too.
    pub fn seal_key_update(
        &mut self,
        request_peer: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), RecordError> {
        if !self.suite.tls13 {
            return Err(RecordError::new(
                alert::INTERNAL_ERROR,
                "KeyUpdate exists in TLS 1.3 only",
            ));
        }
        let msg = [HS_KEY_UPDATE, 0, 0, 1, u8::from(request_peer)];
        self.write.seal(CT_HANDSHAKE, &msg, out)?;
        self.write = rekey(self.suite, &mut self.write_secret).ok_or(RecordError::INTERNAL)?;
        self.key_updates_sent += 1;
        Ok(())
    }

    /// Seal any content type as one record, bypassing the rules (size
    /// included): for the fuzz target and tests, which play a hostile peer.
    #[doc(hidden)]
    pub fn seal_raw_for_tests(
        &mut self,
        ctype: u8,
        content: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), RecordError> {
        self.write.seal(ctype, content, out)
    }

    /// Parse and decrypt (in place) the record at the front of `input`.
    /// Records this side must send in answer are appended to `reply`.
    pub fn open(&mut self, input: &mut [u8], reply: &mut Vec<u8>) -> Result<Opened, RecordError> {
        if input.len() < HEADER_LEN {
            return Ok(Opened::Incomplete { need: HEADER_LEN });
        }
        let ctype = input[0];
        let len = usize::from(u16::from_be_bytes([input[3], input[4]]));
        // TLS 1.3 ignores legacy_record_version (it is authenticated anyway).
        if !self.suite.tls13 && (input[1] != 3 || input[2] != 3) {
            return Err(RecordError::new(
                alert::PROTOCOL_VERSION,
                "the peer sent a record with the wrong protocol version",
            ));
        }
        if len > self.read.max_ciphertext() {
            return Err(RecordError::RECORD_OVERFLOW);
        }
        let total = HEADER_LEN + len;
        if input.len() < total {
            return Ok(Opened::Incomplete { need: total });
        }
        let expected = if self.suite.tls13 {
            ctype == CT_APPLICATION_DATA
        } else {
            (CT_ALERT..=CT_APPLICATION_DATA).contains(&ctype)
        };
        if !expected {
            return Err(if ctype == CT_CHANGE_CIPHER_SPEC {
                RecordError::new(
                    alert::UNEXPECTED_MESSAGE,
                    "the peer sent change_cipher_spec after the handshake",
                )
            } else {
                RecordError::new(
                    alert::UNEXPECTED_MESSAGE,
                    "the peer sent a record of an unexpected type",
                )
            });
        }
        let (inner, range) = self.read.open(&mut input[..total])?;
        if !self.hs_buf.is_empty() && inner != CT_HANDSHAKE {
            return Err(RecordError::new(
                alert::UNEXPECTED_MESSAGE,
                "the peer interleaved a record within a handshake message",
            ));
        }
        match inner {
            CT_APPLICATION_DATA => Ok(Opened::AppData {
                consumed: total,
                range,
            }),
            CT_ALERT => self.on_alert(&input[range], total),
            CT_HANDSHAKE if !range.is_empty() => self.on_handshake(&input[range], total, reply),
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
            mbedtls.seal(CT_HANDSHAKE, chunk, &mut record)?;
        }
        Ok(Opened::SessionTicket { consumed, record })
    }

    fn update_read_key(&mut self) -> Result<(), RecordError> {
        self.read = rekey(self.suite, &mut self.read_secret).ok_or(RecordError::INTERNAL)?;
        self.key_updates_received += 1;
        Ok(())
    }
}

/// TLS 1.3 KeyUpdate (RFC 8446 §7.2) of one direction: advance its traffic
/// secret, and key a fresh direction from it (sequence number 0).
fn rekey(suite: Suite, secret: &mut Zeroizing<Vec<u8>>) -> Option<Direction> {
    *secret = keys::tls13_next_secret(suite, secret);
    let (k, iv) = keys::tls13_key_iv(suite, secret);
    Direction::new(suite, &k, &iv, 0)
}

#[cfg(test)]
mod tests;
