//! Name resolution for TCP and UDP connects.

use std::net::{SocketAddr, ToSocketAddrs};

use crate::error::{Code, Error, Result};

/// The addresses of `host` (IPv4 and IPv6; `[v6]` accepted), at least one.
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    let host_clean = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (host_clean, port)
        .to_socket_addrs()
        .map_err(|e| {
            Error::new(
                Code::MOJO_TLS_ERR_CONNECT,
                format!("cannot resolve '{host}': {e}"),
            )
        })?
        .collect();
    if addrs.is_empty() {
        return Err(Error::new(
            Code::MOJO_TLS_ERR_CONNECT,
            format!("'{host}' has no addresses"),
        ));
    }
    Ok(addrs)
}
