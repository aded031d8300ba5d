//! A DTLS server's UDP listener: one socket on which every client's first
//! datagrams arrive. It answers a ClientHello without a valid cookie with a
//! HelloVerifyRequest and keeps nothing of it (stateless, RFC 6347
//! §4.2.1: a spoofed source costs the server one datagram and no memory).
//! A ClientHello whose cookie proves the client owns its address makes a
//! connection: a new UDP socket bound to the listener's address and port
//! (SO_REUSEPORT) and connected to that client, so the kernel delivers the
//! client's later datagrams to it, not to the listener; the hello is handed
//! to the connection, whose session checks the cookie again and answers.
//!
//! Connection IDs (RFC 9146): a datagram from an address with no
//! connection that carries an accepted connection's own CID is that
//! client after a NAT rebinding, if it authenticates: the connection
//! checks it (`conn/dtls_migrate.rs`) and then follows the new address.
//!
//! Caveat: a datagram the client sends between the listener receiving its
//! hello and the new socket's connect() lands on the listener, which drops
//! it (as it drops anything from a client it has a connection for); DTLS
//! retransmits. A client that starts a new session from an address that
//! still has a connection reaches that connection, not the listener.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::io::{AsRawFd, RawFd};
use std::sync::{Arc, Mutex, Weak};

use crate::backend::ssl::ClientHello;
use crate::config::Config;
use crate::conn::Conn;
use crate::error::{Code, Error, Result};
use crate::net::{self, Deadline};
use crate::transport::datagram_cid;

/// The largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;

/// The transport id a client's cookie is bound to: its address and port.
pub fn peer_id(addr: &SocketAddr) -> Vec<u8> {
    let mut id = match addr {
        SocketAddr::V4(a) => a.ip().octets().to_vec(),
        SocketAddr::V6(a) => a.ip().octets().to_vec(),
    };
    id.extend_from_slice(&addr.port().to_be_bytes());
    id
}

pub struct DtlsListener {
    config: Arc<Config>,
    sock: UdpSocket,
    local: SocketAddr,
    /// Accepted clients, while their connection lives.
    peers: Mutex<HashMap<SocketAddr, Weak<Conn>>>,
    /// Their own Connection IDs (RFC 9146), when on: a datagram from an
    /// unknown address carrying one may be that client, moved.
    cids: Mutex<HashMap<Vec<u8>, Weak<Conn>>>,
    /// One accept at a time reads the socket (into this buffer).
    accepting: Mutex<Vec<u8>>,
}

impl DtlsListener {
    pub fn new(config: Arc<Config>, host: &str, port: u16) -> Result<DtlsListener> {
        let snap = config.snapshot()?;
        if !snap.server || !snap.datagram {
            return Err(Error::invalid_arg(
                "a DTLS listener needs a server configuration with \
                 MOJO_TLS_TRANSPORT_DATAGRAM",
            ));
        }
        let sock = net::udp_listen(host, port)?;
        let local = sock
            .local_addr()
            .map_err(|e| Error::io("getsockname", &e))?;
        Ok(DtlsListener {
            config,
            sock,
            local,
            peers: Mutex::default(),
            cids: Mutex::default(),
            accepting: Mutex::new(vec![0u8; MAX_DATAGRAM]),
        })
    }

    pub fn fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    pub fn port(&self) -> u16 {
        self.local.port()
    }

    fn peers(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Weak<Conn>>> {
        self.peers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cids(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Weak<Conn>>> {
        self.cids.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A datagram from an address with no connection that carries the
    /// Connection ID of one: that client moved, if the datagram
    /// authenticates (`Conn::dtls_migrate`). True when it was such a
    /// datagram (consumed either way).
    fn follow_moved_client(&self, d: &[u8], from: SocketAddr) -> bool {
        let owner = {
            let cids = self.cids();
            let mut lens: Vec<usize> = cids.keys().map(Vec::len).collect();
            lens.sort_unstable();
            lens.dedup();
            lens.iter()
                .filter_map(|&n| datagram_cid(d, n).ok())
                .find_map(|cid| cids.get(cid).and_then(Weak::upgrade))
        };
        let Some(conn) = owner else {
            return false;
        };
        if conn.dtls_migrate(d, &from, &peer_id(&from)) {
            let mut peers = self.peers();
            peers.retain(|_, w| !std::ptr::eq(w.as_ptr(), Arc::as_ptr(&conn)));
            peers.insert(from, Arc::downgrade(&conn));
        }
        true
    }

    /// Clients with a live connection (its handle not freed, its socket
    /// open).
    pub fn peer_count(&self) -> usize {
        self.cids()
            .retain(|_, w| w.upgrade().is_some_and(|c| c.socket_open()));
        let mut peers = self.peers();
        peers.retain(|_, w| w.upgrade().is_some_and(|c| c.socket_open()));
        peers.len()
    }

    fn has_peer(&self, addr: &SocketAddr) -> bool {
        self.peers()
            .get(addr)
            .and_then(Weak::upgrade)
            .is_some_and(|c| c.socket_open())
    }

    /// Wait (until `timeout_ms`) for a ClientHello with a valid cookie and
    /// make its connection; answer cookie-less hellos on the way. The
    /// handshake runs after the listener is released: other accepts go on
    /// meanwhile.
    pub fn accept(&self, timeout_ms: i32, handshake: bool) -> Result<Arc<Conn>> {
        let deadline = Deadline::from_timeout(timeout_ms);
        let conn = self.next_client(deadline, timeout_ms)?;
        if handshake {
            if let Err(e) = conn.accept_handshake(deadline) {
                conn.close();
                return Err(e);
            }
        }
        Ok(conn)
    }

    fn next_client(&self, deadline: Deadline, timeout_ms: i32) -> Result<Arc<Conn>> {
        let mut buf = self.accepting.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            match self.sock.recv_from(&mut buf) {
                Ok((n, from)) => {
                    if let Some((fd, id)) = self.on_datagram(&buf[..n], from)? {
                        let conn =
                            Conn::dtls_accepted(&self.config, fd, &buf[..n], &id, timeout_ms)?;
                        let conn = Arc::new(conn);
                        // Before the listener is released: a hello of this
                        // client still reaching it is dropped, not accepted twice.
                        self.peers().insert(from, Arc::downgrade(&conn));
                        if let Some(cid) = conn.own_cid().filter(|c| !c.is_empty()) {
                            let mut cids = self.cids();
                            cids.retain(|_, w| w.upgrade().is_some_and(|c| c.socket_open()));
                            cids.insert(cid, Arc::downgrade(&conn));
                        }
                        return Ok(conn);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if let Deadline::NonBlocking = deadline {
                        return Err(Error::new(
                            Code::MOJO_TLS_ERR_WANT_READ,
                            "no ClientHello with a valid cookie waiting",
                        ));
                    }
                    net::wait(self.fd(), false, deadline, "DTLS accept")?;
                }
                // Interrupted, or an ICMP error some systems report on
                // unconnected sockets: not the listener's failure.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted
                            | io::ErrorKind::ConnectionRefused
                            | io::ErrorKind::ConnectionReset
                    ) => {}
                Err(e) => return Err(Error::io("recvfrom", &e)),
            }
        }
    }

    /// One datagram on the listener: drop it, answer it with a
    /// HelloVerifyRequest, or (a hello with a valid cookie) return the
    /// client's new socket and transport id.
    fn on_datagram(&self, d: &[u8], from: SocketAddr) -> Result<Option<(RawFd, Vec<u8>)>> {
        if self.has_peer(&from) || self.follow_moved_client(d, from) {
            return Ok(None);
        }
        let id = peer_id(&from);
        match verdict(&self.config, d, &id)? {
            Verdict::Drop => Ok(None),
            Verdict::Accept => net::udp_peer_socket(&self.local, &from).map(|fd| Some((fd, id))),
            Verdict::Answer(hvr) => {
                // Lost or refused: the client sends its hello again.
                let _ = self.sock.send_to(&hvr, from);
                Ok(None)
            }
        }
    }
}

/// What a listener does with a datagram from a client it has no
/// connection for.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not an initial ClientHello.
    Drop,
    /// A ClientHello with a valid cookie for this address.
    Accept,
    /// A ClientHello without one: this HelloVerifyRequest answers it.
    Answer(Vec<u8>),
}

/// The stateless step: `d` from the client whose transport id is `peer_id`.
pub fn verdict(config: &Config, d: &[u8], peer_id: &[u8]) -> Result<Verdict> {
    let Some(hello) = ClientHello::parse(d) else {
        return Ok(Verdict::Drop);
    };
    let snap = config.snapshot()?;
    if snap.ssl.cookie_valid(&hello, peer_id) {
        return Ok(Verdict::Accept);
    }
    Ok(Verdict::Answer(
        snap.ssl.hello_verify_request(&hello, peer_id)?,
    ))
}
