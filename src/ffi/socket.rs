//! Socket helpers for servers: a listening socket for
//! mojo_tls_conn_new_accept, its port, and closing it.

use libc::c_char;

use super::{guard_int, str_arg};
use crate::error::Error;
use crate::net;

/// Open a listening TCP socket on `host`:`port` (port 0 = any free port;
/// SO_REUSEADDR; non-blocking; close-on-exec). Returns the fd (>= 0) or a
/// negative error. Close it with mojo_tls_socket_close.
#[no_mangle]
pub extern "C" fn mojo_tls_socket_listen(host: *const c_char, port: u16, backlog: i32) -> i32 {
    guard_int(|| {
        let host = str_arg(host, "host")?;
        net::listen(host, port, backlog)
    })
}

/// The local port a socket is bound to (>= 0), or a negative error.
#[no_mangle]
pub extern "C" fn mojo_tls_socket_port(listen_fd: i32) -> i32 {
    guard_int(|| net::local_port(listen_fd).map(i32::from))
}

/// Close a file descriptor returned by mojo_tls_socket_listen. Returns 0.
#[no_mangle]
pub extern "C" fn mojo_tls_socket_close(fd: i32) -> i32 {
    guard_int(|| {
        if fd < 0 {
            return Err(Error::invalid_arg("negative fd"));
        }
        net::close(fd);
        Ok(0)
    })
}
