//! UDP sockets for DTLS: a client's connected socket (the kernel then
//! delivers only the server's datagrams to it).

use std::net::{SocketAddr, UdpSocket};
use std::os::unix::io::{IntoRawFd, RawFd};

use crate::error::{Code, Error, Result};

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
