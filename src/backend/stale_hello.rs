//! DTLS server: recognise a late copy of the client's own ClientHello.
//!
//! Mbed TLS takes any ClientHello with a valid cookie that reaches an
//! established server session for a client reconnecting from the same port
//! (RFC 6347 §4.2.8) and resets the session. A network that duplicates and
//! delays datagrams, which DTLS must tolerate, delivers exactly that: a
//! copy of the hello that opened the session, its cookie still fresh. A new
//! handshake carries a new client random; a copy carries the old one, so
//! the server's receive path drops hellos whose random it saw during the
//! handshake, once the handshake is over. Everything else passes.

/// Record header (13) + handshake header (12) + client_version (2).
const RANDOM_AT: usize = 13 + 12 + 2;
const RANDOM_LEN: usize = 32;

/// The client random of a datagram that starts with an unencrypted
/// (epoch 0) ClientHello, first fragment; `None` for anything else.
pub fn client_random(datagram: &[u8]) -> Option<[u8; RANDOM_LEN]> {
    const HANDSHAKE: u8 = 22;
    const CLIENT_HELLO: u8 = 1;
    let d = datagram;
    if d.len() < RANDOM_AT + RANDOM_LEN || d[0] != HANDSHAKE || d[3..5] != [0, 0] {
        return None;
    }
    // msg_type, length(3), message_seq(2), fragment_offset(3) == 0
    if d[13] != CLIENT_HELLO || d[19..22] != [0, 0, 0] {
        return None;
    }
    d[RANDOM_AT..RANDOM_AT + RANDOM_LEN].try_into().ok()
}

/// The randoms of the hellos that built the current session.
#[derive(Default)]
pub struct HelloGuard {
    seen: Vec<[u8; RANDOM_LEN]>,
    /// Set while the handshake is over: then copies are dropped.
    pub armed: bool,
}

impl HelloGuard {
    /// Whether `datagram` should be dropped; remembers hellos seen while
    /// the handshake runs (a client sends one random, twice with the
    /// cookie exchange; a few are kept in case of restarts).
    pub fn drop_stale(&mut self, datagram: &[u8]) -> bool {
        let Some(random) = client_random(datagram) else {
            return false;
        };
        if self.armed {
            return self.seen.contains(&random);
        }
        if !self.seen.contains(&random) {
            if self.seen.len() == 4 {
                self.seen.remove(0);
            }
            self.seen.push(random);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(random: u8, epoch: u8, offset: u8) -> Vec<u8> {
        let mut d = vec![0u8; 120];
        d[0] = 22;
        d[1..3].copy_from_slice(&[0xfe, 0xfd]);
        d[4] = epoch;
        d[13] = 1;
        d[21] = offset;
        d[RANDOM_AT..RANDOM_AT + RANDOM_LEN].fill(random);
        d
    }

    #[test]
    fn copies_dropped_only_once_armed_and_only_of_seen_randoms() {
        let mut g = HelloGuard::default();
        assert!(!g.drop_stale(&hello(1, 0, 0))); // handshake: passes, remembered
        assert!(!g.drop_stale(&hello(1, 0, 0))); // a retransmission then still passes
        g.armed = true;
        assert!(g.drop_stale(&hello(1, 0, 0)));
        assert!(!g.drop_stale(&hello(2, 0, 0))); // a new session's hello
        assert!(!g.drop_stale(&hello(1, 1, 0))); // epoch 1: not a plaintext hello
        assert!(!g.drop_stale(&hello(1, 0, 5))); // a later fragment
        assert!(!g.drop_stale(&[22, 0xfe, 0xfd])); // short
    }

    #[test]
    fn parses_only_client_hellos() {
        let mut d = hello(7, 0, 0);
        assert_eq!(client_random(&d), Some([7; 32]));
        d[13] = 2; // ServerHello
        assert_eq!(client_random(&d), None);
        d[13] = 1;
        d[0] = 23; // application data
        assert_eq!(client_random(&d), None);
    }
}
