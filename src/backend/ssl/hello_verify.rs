//! The stateless cookie exchange of a DTLS listener (RFC 6347 §4.2.1): a
//! received datagram is recognised as an initial ClientHello, its cookie is
//! checked against the configuration's cookie key, and a HelloVerifyRequest
//! is written for it, all without a session: a listener answers any number
//! of (possibly spoofed) hellos and keeps nothing of them.
//!
//! The HelloVerifyRequest copies the hello's record sequence number and
//! message sequence, as Mbed TLS's own stateless check does, so a client
//! cannot tell it from one written by a session.

use super::config::SslConfig;
use crate::error::{Error, Result};

const CT_HANDSHAKE: u8 = 22;
const HS_CLIENT_HELLO: u8 = 1;
const HS_HELLO_VERIFY_REQUEST: u8 = 3;
const RECORD_HEADER: usize = 13;
const HS_HEADER: usize = 12;
/// DTLS 1.0's wire version, which RFC 6347 §4.2.1 has servers put in a
/// HelloVerifyRequest whatever version they negotiate later.
const DTLS_1_0: [u8; 2] = [0xfe, 0xff];

/// An initial (epoch 0, unfragmented) ClientHello in one datagram.
pub struct ClientHello<'a> {
    /// The record's epoch and sequence number.
    record_seq: [u8; 8],
    /// The handshake message sequence.
    msg_seq: [u8; 2],
    pub cookie: &'a [u8],
}

fn be24(b: &[u8]) -> usize {
    (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2])
}

impl<'a> ClientHello<'a> {
    /// `None` when `d` is not one: other records, other messages, later
    /// epochs, fragments and anything malformed.
    pub fn parse(d: &'a [u8]) -> Option<ClientHello<'a>> {
        if d.len() < RECORD_HEADER + HS_HEADER || d[0] != CT_HANDSHAKE || d[1] != 0xfe {
            return None;
        }
        if d[3] != 0 || d[4] != 0 {
            return None; // epoch 0 only
        }
        let rec_len = usize::from(u16::from_be_bytes([d[11], d[12]]));
        let rec = d.get(RECORD_HEADER..RECORD_HEADER + rec_len)?;
        if rec.len() < HS_HEADER || rec[0] != HS_CLIENT_HELLO {
            return None;
        }
        let msg_len = be24(&rec[1..4]);
        if be24(&rec[6..9]) != 0 || be24(&rec[9..12]) != msg_len {
            return None; // a fragment
        }
        let body = rec.get(HS_HEADER..HS_HEADER + msg_len)?;
        // client_version (2), random (32), session_id<0..32>, cookie<0..255>
        let sid_len = usize::from(*body.get(34)?);
        if sid_len > 32 {
            return None;
        }
        let at = 35 + sid_len;
        let cookie_len = usize::from(*body.get(at)?);
        let cookie = body.get(at + 1..at + 1 + cookie_len)?;
        let mut record_seq = [0u8; 8];
        record_seq.copy_from_slice(&d[3..11]);
        Some(ClientHello {
            record_seq,
            msg_seq: [rec[4], rec[5]],
            cookie,
        })
    }
}

impl SslConfig {
    /// The hello carries a fresh cookie made by this configuration for
    /// `peer_id`. False for configurations without cookies.
    pub fn cookie_valid(&self, hello: &ClientHello, peer_id: &[u8]) -> bool {
        !hello.cookie.is_empty()
            && self
                .cookies
                .as_ref()
                .is_some_and(|c| c.check(hello.cookie, peer_id))
    }

    /// The HelloVerifyRequest datagram answering `hello` from `peer_id`.
    pub fn hello_verify_request(&self, hello: &ClientHello, peer_id: &[u8]) -> Result<Vec<u8>> {
        let Some(cookies) = self.cookies.as_ref() else {
            return Err(Error::bad_state("not a DTLS server configuration"));
        };
        let cookie = cookies.write(peer_id)?;
        let body_len = 2 + 1 + cookie.len();
        let rec_len = HS_HEADER + body_len;
        let mut out = Vec::with_capacity(RECORD_HEADER + rec_len);
        out.push(CT_HANDSHAKE);
        out.extend_from_slice(&DTLS_1_0);
        out.extend_from_slice(&hello.record_seq);
        out.extend_from_slice(&(rec_len as u16).to_be_bytes());
        out.push(HS_HELLO_VERIFY_REQUEST);
        out.extend_from_slice(&(body_len as u32).to_be_bytes()[1..]);
        out.extend_from_slice(&hello.msg_seq);
        out.extend_from_slice(&[0, 0, 0]);
        out.extend_from_slice(&(body_len as u32).to_be_bytes()[1..]);
        out.extend_from_slice(&DTLS_1_0);
        out.push(cookie.len() as u8);
        out.extend_from_slice(&cookie);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::ClientHello;

    fn hello(cookie: &[u8], frag_len_delta: usize) -> Vec<u8> {
        let mut body = vec![0xfe, 0xfd];
        body.extend_from_slice(&[7u8; 32]);
        body.push(0); // session id
        body.push(cookie.len() as u8);
        body.extend_from_slice(cookie);
        body.extend_from_slice(&[0, 2, 0xc0, 0x2b, 1, 0]);
        let n = body.len();
        let mut hs = vec![1, 0, (n >> 8) as u8, n as u8, 0, 1, 0, 0, 0];
        let f = n - frag_len_delta;
        hs.extend_from_slice(&[0, (f >> 8) as u8, f as u8]);
        hs.extend_from_slice(&body);
        let mut d = vec![22, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 5];
        d.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        d.extend_from_slice(&hs);
        d
    }

    #[test]
    fn parses_initial_hellos_only() {
        let d = hello(b"abc", 0);
        let h = ClientHello::parse(&d).expect("a hello");
        assert_eq!(h.cookie, b"abc");
        assert_eq!(h.msg_seq, [0, 1]);
        assert_eq!(h.record_seq[7], 5);
        assert!(ClientHello::parse(&hello(b"", 0))
            .unwrap()
            .cookie
            .is_empty());
        assert!(ClientHello::parse(&hello(b"abc", 1)).is_none(), "fragment");
        let mut e = hello(b"abc", 0);
        e[4] = 1;
        assert!(ClientHello::parse(&e).is_none(), "epoch 1");
        for n in 0..d.len() {
            assert!(ClientHello::parse(&d[..n]).is_none(), "truncated at {n}");
        }
    }
}
