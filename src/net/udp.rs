//! UDP sockets for DTLS: a client's connected socket (the kernel then
//! delivers only the server's datagrams to it), a server's listening socket
//! and its per-peer sockets: bound to the same address and port
//! (SO_REUSEPORT) and connected to one client, so that the kernel hands
//! that client's datagrams to them rather than to the unconnected
//! listener (a connected socket matches a datagram's source exactly, which
//! Linux's and the BSDs' lookups prefer).

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::io::{FromRawFd, IntoRawFd, RawFd};

use super::sockaddr::sockaddr_of;
use crate::error::{Code, Error, Result};

/// A non-blocking, close-on-exec UDP socket with SO_REUSEPORT, bound to
/// `local` and, with `peer`, connected to it.
fn shared_socket(local: &SocketAddr, peer: Option<&SocketAddr>) -> io::Result<UdpSocket> {
    let family = if local.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain socket creation.
    let fd = unsafe { libc::socket(family, libc::SOCK_DGRAM, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a socket we own; from here the UdpSocket closes it.
    let sock = unsafe { UdpSocket::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    let (ss, len) = sockaddr_of(local);
    // SAFETY: setsockopt with a local int, bind with a valid sockaddr of
    // length `len`, fcntl on our fd.
    unsafe {
        if libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEPORT,
            &one as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        ) != 0
        {
            return Err(io::Error::last_os_error());
        }
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        if libc::bind(fd, &ss as *const _ as *const libc::sockaddr, len) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    if let Some(peer) = peer {
        sock.connect(peer)?;
    }
    sock.set_nonblocking(true)?;
    Ok(sock)
}

/// A DTLS server's listening socket on the first address of `host` that
/// binds (port 0: any free port).
pub fn udp_listen(host: &str, port: u16) -> Result<UdpSocket> {
    let addrs = super::resolve::resolve(host, port)?;
    let mut last = None;
    for addr in &addrs {
        match shared_socket(addr, None) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(Error::new(
        Code::MOJO_TLS_ERR_CONNECT,
        match last {
            Some(e) => format!("cannot listen on UDP {host}:{port}: {e}"),
            None => format!("'{host}' has no addresses"),
        },
    ))
}

/// A socket for one client of a listener bound to `local`: same address
/// and port, connected to `peer`. Returns its fd (the caller owns it).
pub fn udp_peer_socket(local: &SocketAddr, peer: &SocketAddr) -> Result<RawFd> {
    shared_socket(local, Some(peer))
        .map(IntoRawFd::into_raw_fd)
        .map_err(|e| {
            Error::new(
                Code::MOJO_TLS_ERR_CONNECT,
                format!("cannot open a UDP socket for {peer} on {local}: {e}"),
            )
        })
}

/// A non-blocking UDP socket connected to the first address of `host` that
/// accepts it (close-on-exec).
pub fn udp_connect(host: &str, port: u16) -> Result<RawFd> {
    let addrs = super::resolve::resolve(host, port)?;
    let mut last = None;
    for addr in &addrs {
        let local: SocketAddr = if addr.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let r = UdpSocket::bind(local).and_then(|s| {
            s.connect(addr)?;
            s.set_nonblocking(true)?;
            Ok(s)
        });
        match r {
            Ok(s) => return Ok(s.into_raw_fd()),
            Err(e) => last = Some(e),
        }
    }
    Err(Error::new(
        Code::MOJO_TLS_ERR_CONNECT,
        match last {
            Some(e) => format!("cannot open a UDP socket to {host}:{port}: {e}"),
            None => format!("'{host}' has no addresses"),
        },
    ))
}

/// Connect the UDP socket `fd` to `peer` instead of its current peer (a
/// DTLS client that moved: the kernel then delivers its datagrams from
/// the new address to this socket).
pub fn udp_reconnect(fd: RawFd, peer: &SocketAddr) -> Result<()> {
    let (ss, len) = sockaddr_of(peer);
    // SAFETY: `ss` holds a valid sockaddr of `len` bytes.
    let ret = unsafe { libc::connect(fd, &ss as *const _ as *const libc::sockaddr, len) };
    if ret != 0 {
        return Err(Error::io("connect", &io::Error::last_os_error()));
    }
    Ok(())
}
