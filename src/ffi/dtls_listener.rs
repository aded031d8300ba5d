//! C entry points for a DTLS server over UDP: a listener on one socket
//! that checks cookies statelessly and makes one connection per client
//! (src/listener.rs), and its accept functions.

use std::sync::Arc;

use libc::{c_char, intptr_t};

use super::config::mojo_tls_config;
use super::conn::mojo_tls_conn;
use super::{guard, guard_handle, guard_int, guard_len, handle, release, str_arg};
use crate::config::Config;
use crate::conn::Conn;
use crate::error::Result;
use crate::listener::DtlsListener;
use crate::registry;

/// Opaque handle to a DTLS server's UDP socket. Created by
/// mojo_tls_dtls_listener_new, released by mojo_tls_dtls_listener_free;
/// connections come from mojo_tls_conn_new_dtls_accept. The listener
/// answers a ClientHello without a valid cookie with a HelloVerifyRequest
/// and keeps nothing of it; a client that returns its cookie gets a
/// connection with its own UDP socket (same address and port, connected to
/// the client), which lives on after the listener is freed.
#[allow(non_camel_case_types)]
pub struct mojo_tls_dtls_listener {
    _private: [u8; 0],
}

fn listener(h: *const mojo_tls_dtls_listener) -> Result<Arc<DtlsListener>> {
    handle::<DtlsListener, _>(h, "DTLS listener")
}

fn accept(h: *mut mojo_tls_dtls_listener, timeout_ms: i32, handshake: bool) -> *mut mojo_tls_conn {
    guard(std::ptr::null_mut(), || {
        let conn: Arc<Conn> = listener(h)?.accept(timeout_ms, handshake)?;
        Ok(registry::insert_reserved(conn.id(), conn) as *mut mojo_tls_conn)
    })
}

/// DTLS server: listen on UDP `host`:`port` (port 0 = any free port;
/// non-blocking; close-on-exec; SO_REUSEPORT, which the per-client
/// sockets share) for connections made from `cfg`, a server configuration
/// with MOJO_TLS_TRANSPORT_DATAGRAM (later changes to `cfg` apply to later
/// connections). Returns the listener, or NULL (MOJO_TLS_ERR_INVALID_ARGUMENT
/// for another kind of configuration, MOJO_TLS_ERR_CONNECT when the address
/// cannot be bound).
#[no_mangle]
pub extern "C" fn mojo_tls_dtls_listener_new(
    cfg: *const mojo_tls_config,
    host: *const c_char,
    port: u16,
) -> *mut mojo_tls_dtls_listener {
    guard_handle(|| {
        let cfg = handle::<Config, _>(cfg, "config")?;
        let host = str_arg(host, "host")?;
        DtlsListener::new(cfg, host, port)
    })
}

/// Close the listener's socket and release the handle (once a call in
/// progress on another thread returns). Accepted connections are not
/// affected. NULL → 0; an already freed handle →
/// MOJO_TLS_ERR_INVALID_HANDLE.
#[no_mangle]
pub extern "C" fn mojo_tls_dtls_listener_free(l: *mut mojo_tls_dtls_listener) -> i32 {
    guard_int(|| {
        release::<DtlsListener, _>(l, "DTLS listener")?;
        Ok(0)
    })
}

/// The UDP port the listener is bound to, or a negative error.
#[no_mangle]
pub extern "C" fn mojo_tls_dtls_listener_port(l: *const mojo_tls_dtls_listener) -> i32 {
    guard_int(|| Ok(i32::from(listener(l)?.port())))
}

/// The listener's socket, for poll/select: readable when a datagram waits
/// (call mojo_tls_conn_new_dtls_accept with timeout 0). Owned by the
/// listener: do not read from it or close it. A negative error for a bad
/// handle.
#[no_mangle]
pub extern "C" fn mojo_tls_dtls_listener_fd(l: *const mojo_tls_dtls_listener) -> i32 {
    guard_int(|| Ok(listener(l)?.fd()))
}

/// The number of clients accepted by this listener whose connection is
/// still open (handle not freed, not closed). Returns it (>= 0) or a
/// negative error.
#[no_mangle]
pub extern "C" fn mojo_tls_dtls_listener_peer_count(l: *const mojo_tls_dtls_listener) -> intptr_t {
    guard_len(|| Ok(listener(l)?.peer_count()))
}

/// DTLS server: wait up to `timeout_ms` (-1 = forever) for a client whose
/// ClientHello returns a valid cookie, answering cookie-less hellos with a
/// HelloVerifyRequest on the way, and handshake with it within the same
/// time. Returns the connection (its own UDP socket, connected to the
/// client; its timeout is `timeout_ms`), or NULL: MOJO_TLS_ERR_TIMEOUT,
/// the handshake's error (another client may follow: call again). With
/// `timeout_ms` 0 nothing blocks: the datagrams waiting on the listener
/// are processed; NULL with MOJO_TLS_ERR_WANT_READ when none brought a
/// valid cookie, else a connection whose handshake has started (drive it
/// with mojo_tls_conn_handshake, polling its fd for at most
/// mojo_tls_conn_next_timeout_ms).
#[no_mangle]
pub extern "C" fn mojo_tls_conn_new_dtls_accept(
    l: *mut mojo_tls_dtls_listener,
    timeout_ms: i32,
) -> *mut mojo_tls_conn {
    accept(l, timeout_ms, true)
}

/// As mojo_tls_conn_new_dtls_accept, without handshaking: the connection
/// is returned once a valid cookie arrived (its hello is kept for the
/// handshake), so a slow client cannot stall an accept loop; run
/// mojo_tls_conn_handshake later.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_new_dtls_accept_no_handshake(
    l: *mut mojo_tls_dtls_listener,
    timeout_ms: i32,
) -> *mut mojo_tls_conn {
    accept(l, timeout_ms, false)
}
