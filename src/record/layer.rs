//! Record protection of a connection, both directions: sealing application
//! data, alerts and KeyUpdates, and checking and decrypting received
//! records (what they mean is `post_handshake.rs`'s). No I/O.

use std::ops::Range;

use zeroize::Zeroizing;

use super::alert::{self, RecordError};
use super::content_type::{ContentType, HandshakeType};
use super::keys::{self, Secrets};
use super::protect::{Direction, HEADER_LEN, MAX_PLAINTEXT};
use super::suite::{self, Suite};

/// A record at the front of the input, decrypted in place.
pub(super) enum Unprotected {
    /// Not a whole record yet: at least `need` bytes are needed in all.
    Incomplete { need: usize },
    /// `total` bytes of record; its content type and plaintext range.
    Record {
        inner: u8,
        range: Range<usize>,
        total: usize,
    },
}

pub struct RecordLayer {
    pub(super) suite: Suite,
    pub(super) is_server: bool,
    pub(super) read: Direction,
    pub(super) write: Direction,
    /// TLS 1.3 traffic secrets, for KeyUpdate.
    pub(super) read_secret: Zeroizing<Vec<u8>>,
    pub(super) write_secret: Zeroizing<Vec<u8>>,
    /// TLS 1.3 client: Mbed TLS's read state (the original key and the
    /// sequence number it expects next), to re-encrypt tickets for it.
    pub(super) mbedtls_read: Option<Direction>,
    /// A handshake message split over records.
    pub(super) hs_buf: Vec<u8>,
    pub(super) key_updates_sent: u32,
    pub(super) key_updates_received: u32,
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
            self.write.seal(ContentType::APPLICATION_DATA, chunk, out)?;
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
        self.write.seal(ContentType::ALERT, &[level, desc], out)
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
        let msg = [HandshakeType::KEY_UPDATE, 0, 0, 1, u8::from(request_peer)];
        self.write.seal(ContentType::HANDSHAKE, &msg, out)?;
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

    /// Parse, check and decrypt (in place) the record at the front of
    /// `input`; what it means is decided in `post_handshake.rs`.
    pub(super) fn unprotect(&mut self, input: &mut [u8]) -> Result<Unprotected, RecordError> {
        if input.len() < HEADER_LEN {
            return Ok(Unprotected::Incomplete { need: HEADER_LEN });
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
            return Ok(Unprotected::Incomplete { need: total });
        }
        let expected = if self.suite.tls13 {
            ctype == ContentType::APPLICATION_DATA
        } else {
            (ContentType::ALERT..=ContentType::APPLICATION_DATA).contains(&ctype)
        };
        if !expected {
            return Err(if ctype == ContentType::CHANGE_CIPHER_SPEC {
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
        Ok(Unprotected::Record {
            inner,
            range,
            total,
        })
    }
}

/// TLS 1.3 KeyUpdate (RFC 8446 §7.2) of one direction: advance its traffic
/// secret, and key a fresh direction from it (sequence number 0).
pub(super) fn rekey(suite: Suite, secret: &mut Zeroizing<Vec<u8>>) -> Option<Direction> {
    *secret = keys::tls13_next_secret(suite, secret);
    let (k, iv) = keys::tls13_key_iv(suite, secret);
    Direction::new(suite, &k, &iv, 0)
}
