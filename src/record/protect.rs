//! Record protection for one direction: AEAD key, IV and sequence number,
//! nonce and additional-data construction of RFC 5246/5288/7905 (TLS 1.2)
//! and RFC 8446 §5.2–5.3 (TLS 1.3).

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};

use super::content_type::ContentType;
use super::suite::{Aead, Suite};
use super::RecordError;

pub(crate) const HEADER_LEN: usize = 5;
pub(crate) const TAG_LEN: usize = 16;
pub(crate) const MAX_PLAINTEXT: usize = 1 << 14;

pub struct Direction {
    key: LessSafeKey,
    /// TLS 1.2 GCM: the 4-byte salt; otherwise the 12-byte IV.
    iv: [u8; 12],
    pub seq: u64,
    aead: Aead,
    tls13: bool,
}

impl Direction {
    pub fn new(suite: Suite, key: &[u8], iv: &[u8], seq: u64) -> Option<Direction> {
        let key = LessSafeKey::new(UnboundKey::new(suite.aead.algorithm(), key).ok()?);
        let mut fixed = [0u8; 12];
        if iv.len() > 12 {
            return None;
        }
        fixed[..iv.len()].copy_from_slice(iv);
        Some(Direction {
            key,
            iv: fixed,
            seq,
            aead: suite.aead,
            tls13: suite.tls13,
        })
    }

    /// Bytes a record adds around its content (header, explicit nonce,
    /// inner type byte of TLS 1.3, tag).
    pub fn overhead(&self) -> usize {
        HEADER_LEN + self.explicit_len() + TAG_LEN + usize::from(self.tls13)
    }

    fn explicit_len(&self) -> usize {
        if self.tls13 {
            0
        } else {
            self.aead.tls12_explicit_nonce_len()
        }
    }

    /// The largest ciphertext length (record header's length field) allowed.
    pub fn max_ciphertext(&self) -> usize {
        if self.tls13 {
            MAX_PLAINTEXT + 256
        } else {
            MAX_PLAINTEXT + 2048
        }
    }

    fn xor_nonce(&self) -> Nonce {
        let mut n = self.iv;
        for (b, s) in n[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *b ^= s;
        }
        Nonce::assume_unique_for_key(n)
    }

    fn gcm12_nonce(&self, explicit: &[u8]) -> Nonce {
        let mut n = [0u8; 12];
        n[..4].copy_from_slice(&self.iv[..4]);
        n[4..].copy_from_slice(explicit);
        Nonce::assume_unique_for_key(n)
    }

    fn tls12_aad(&self, ctype: u8, plain_len: usize) -> [u8; 13] {
        let mut aad = [0u8; 13];
        aad[..8].copy_from_slice(&self.seq.to_be_bytes());
        aad[8] = ctype;
        aad[9] = 3;
        aad[10] = 3;
        aad[11..].copy_from_slice(&(plain_len as u16).to_be_bytes());
        aad
    }

    fn next_seq(&mut self) -> Result<(), RecordError> {
        self.seq = self.seq.checked_add(1).ok_or(RecordError::SEQ_EXHAUSTED)?;
        Ok(())
    }

    /// Append one protected record holding `content` (≤ 2^14 bytes) of
    /// type `ctype` to `out`.
    pub fn seal(
        &mut self,
        ctype: u8,
        content: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), RecordError> {
        debug_assert!(content.len() <= MAX_PLAINTEXT);
        if self.seq == u64::MAX {
            // The last sequence number is never used: the counter must not wrap.
            return Err(RecordError::SEQ_EXHAUSTED);
        }
        let start = out.len();
        let body_len = self.overhead() - HEADER_LEN + content.len();
        let outer_type = if self.tls13 {
            ContentType::APPLICATION_DATA
        } else {
            ctype
        };
        out.extend_from_slice(&[outer_type, 3, 3]);
        out.extend_from_slice(&(body_len as u16).to_be_bytes());
        let nonce = if self.tls13 || self.aead == Aead::Chacha20Poly1305 {
            self.xor_nonce()
        } else {
            // The explicit nonce is the sequence number: unique per key.
            let explicit = self.seq.to_be_bytes();
            out.extend_from_slice(&explicit);
            self.gcm12_nonce(&explicit)
        };
        let payload_at = out.len();
        out.extend_from_slice(content);
        let tag = if self.tls13 {
            out.push(ctype);
            let mut header = [0u8; HEADER_LEN];
            header.copy_from_slice(&out[start..start + HEADER_LEN]);
            self.key
                .seal_in_place_separate_tag(nonce, Aad::from(header), &mut out[payload_at..])
        } else {
            let aad = self.tls12_aad(ctype, content.len());
            self.key
                .seal_in_place_separate_tag(nonce, Aad::from(aad), &mut out[payload_at..])
        }
        .map_err(|_| RecordError::INTERNAL)?;
        out.extend_from_slice(tag.as_ref());
        self.next_seq()
    }

    /// Decrypt the record `rec` (header included) in place. Returns the
    /// content type and the plaintext's range within `rec`.
    pub fn open(&mut self, rec: &mut [u8]) -> Result<(u8, std::ops::Range<usize>), RecordError> {
        let outer_type = rec[0];
        let body_len = rec.len() - HEADER_LEN;
        let explicit = self.explicit_len();
        if body_len < explicit + TAG_LEN + usize::from(self.tls13) {
            return Err(RecordError::BAD_RECORD_MAC);
        }
        if self.seq == u64::MAX {
            return Err(RecordError::SEQ_EXHAUSTED);
        }
        let (header, body) = rec.split_at_mut(HEADER_LEN);
        let plain_len = if self.tls13 {
            let nonce = self.xor_nonce();
            let mut aad = [0u8; HEADER_LEN];
            aad.copy_from_slice(header);
            self.key
                .open_in_place(nonce, Aad::from(aad), body)
                .map_err(|_| RecordError::BAD_RECORD_MAC)?
                .len()
        } else {
            let nonce = if explicit > 0 {
                self.gcm12_nonce(&body[..explicit])
            } else {
                self.xor_nonce()
            };
            let aad = self.tls12_aad(outer_type, body_len - explicit - TAG_LEN);
            self.key
                .open_in_place(nonce, Aad::from(aad), &mut body[explicit..])
                .map_err(|_| RecordError::BAD_RECORD_MAC)?
                .len()
        };
        self.next_seq()?;
        let start = HEADER_LEN + explicit;
        if !self.tls13 {
            if plain_len > MAX_PLAINTEXT {
                return Err(RecordError::RECORD_OVERFLOW);
            }
            return Ok((outer_type, start..start + plain_len));
        }
        // TLS 1.3 inner plaintext: content, type, zero padding.
        if plain_len > MAX_PLAINTEXT + 1 {
            return Err(RecordError::RECORD_OVERFLOW);
        }
        let inner = &rec[start..start + plain_len];
        let Some(type_at) = inner.iter().rposition(|&b| b != 0) else {
            return Err(RecordError::new(
                super::alert::UNEXPECTED_MESSAGE,
                "a TLS 1.3 record without a content type (all padding)",
            ));
        };
        Ok((inner[type_at], start..start + type_at))
    }
}

/// ring's AEADs and our nonce layout agree on a 12-byte nonce.
const _: () = assert!(aead::NONCE_LEN == 12);
