//! A DTLS client that moved (NAT rebinding): its datagram reached the UDP
//! listener from a new address, carrying the Connection ID of this
//! connection. It moves only if that datagram authenticates: it is run
//! through the session alone (not the socket after it); plaintext means it
//! decrypted under this connection's keys and was not a replay, and only
//! then is the socket `connect()`ed to the new address. The plaintext is
//! kept for the next read (`pending` counts it). RFC 9146 §6.

use std::net::SocketAddr;

use super::dtls::MAX_PLAINTEXT;
use super::Conn;
use crate::backend::ssl::codes;
use crate::net;
use crate::transport::Transport;

impl Conn {
    /// Offer `datagram`, received from `from` (whose transport id, for
    /// cookies, is `from_id`); true when it authenticated and the
    /// connection now talks to `from`.
    pub(crate) fn dtls_migrate(&self, datagram: &[u8], from: &SocketAddr, from_id: &[u8]) -> bool {
        let mut guard = self.lock();
        let st = &mut *guard;
        // Only an established connection with nothing else waiting: the
        // plaintext must come from this datagram and have a place to wait.
        if st.closed
            || !st.fd_open
            || st.fatal.is_some()
            || st.peer_closed
            || st.held.is_some()
            || !st.session.handshake_done()
            || st.session.holds_input()
        {
            return false;
        }
        let fd = match &mut st.transport {
            Transport::Socket(s) if s.datagram => {
                s.first = Some(datagram.to_vec());
                s.first_only = true;
                s.fd
            }
            _ => return false,
        };
        let mut plain = vec![0u8; MAX_PLAINTEXT];
        let ret = st.session.read(&mut st.transport, &mut plain);
        if let Transport::Socket(s) = &mut st.transport {
            s.first = None;
            s.first_only = false;
        }
        // WANT_READ: not authentic or a replay (dropped, as DTLS drops
        // such records), or not application data.
        match ret {
            n if n > 0 => {
                if net::udp_reconnect(fd, from).is_err() {
                    // Still at the old address; the plaintext is the peer's.
                    plain.truncate(n as usize);
                    st.held = Some(plain);
                    return false;
                }
                plain.truncate(n as usize);
                st.held = Some(plain);
                let _ = st.session.set_peer_id(from_id);
                true
            }
            // Authentic too; the next read returns 0, as for any close_notify.
            codes::PEER_CLOSE_NOTIFY => {
                st.peer_closed = true;
                false
            }
            codes::WANT_READ | codes::WANT_WRITE | 0 => false,
            // The session failed on it: later calls report it, as a read would.
            ret => {
                st.fail(ret);
                false
            }
        }
    }

    /// The own Connection ID this connection offered (DTLS), if any.
    pub(crate) fn own_cid(&self) -> Option<Vec<u8>> {
        self.lock().session.own_cid().map(<[u8]>::to_vec)
    }
}
