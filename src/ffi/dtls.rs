//! C entry points for DTLS 1.2: the datagram transport setting of a
//! configuration, and a DTLS connection's datagram memory mode, timer,
//! peer id and MTU. A DTLS connection is a `mojo_tls_conn` like any other:
//! handshake, read, write, close_notify and close work on it (one write is
//! one datagram; one read returns one datagram's plaintext).

use libc::{c_void, intptr_t, size_t};

use super::config::mojo_tls_config;
use super::conn::mojo_tls_conn;
use super::{bytes_arg, bytes_out, guard_int, guard_len, handle};
use crate::config::Config;
use crate::conn::Conn;
use crate::error::{Error, Result};

/// Transport of a configuration: a byte stream, TLS (the default).
pub const MOJO_TLS_TRANSPORT_STREAM: i32 = 0;
/// Transport of a configuration: datagrams, DTLS 1.2.
pub const MOJO_TLS_TRANSPORT_DATAGRAM: i32 = 1;

fn conn(h: *const mojo_tls_conn) -> Result<std::sync::Arc<Conn>> {
    handle::<Conn, _>(h, "connection")
}

fn cfg(h: *const mojo_tls_config) -> Result<std::sync::Arc<Config>> {
    handle::<Config, _>(h, "config")
}

/// Choose the transport of connections made from `cfg`:
/// MOJO_TLS_TRANSPORT_STREAM (TLS, the default) or
/// MOJO_TLS_TRANSPORT_DATAGRAM (DTLS 1.2: the version range is cut to 1.2,
/// a minimum of TLS 1.3 makes connections fail with
/// MOJO_TLS_ERR_UNSUPPORTED). The security defaults are TLS's (verification
/// and host name checks for clients, AEAD suites only), plus anti-replay
/// and, for servers, HelloVerifyRequest cookies (a server keeps no state
/// for a client until it returns its cookie). Returns 0, or
/// MOJO_TLS_ERR_INVALID_ARGUMENT for an unknown transport.
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_transport(cfg: *mut mojo_tls_config, transport: i32) -> i32 {
    guard_int(|| {
        let c = self::cfg(cfg)?;
        match transport {
            MOJO_TLS_TRANSPORT_STREAM => c.set_datagram(false)?,
            MOJO_TLS_TRANSPORT_DATAGRAM => c.set_datagram(true)?,
            _ => return Err(Error::invalid_arg(format!("unknown transport {transport}"))),
        }
        Ok(0)
    })
}

/// DTLS: the handshake's retransmission timer. An unanswered flight is
/// sent again after `min_ms`, then after twice as long each time, and the
/// handshake fails with MOJO_TLS_ERR_TIMEOUT once the delay would pass
/// `max_ms` (default 1000 and 60000). Returns 0, or
/// MOJO_TLS_ERR_INVALID_ARGUMENT unless 0 < `min_ms` <= `max_ms`.
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_dtls_handshake_timeout(
    cfg: *mut mojo_tls_config,
    min_ms: i32,
    max_ms: i32,
) -> i32 {
    guard_int(|| {
        self::cfg(cfg)?.set_handshake_timeout(min_ms, max_ms)?;
        Ok(0)
    })
}

/// DTLS memory mode (a connection from mojo_tls_conn_new_memory on a
/// datagram configuration): hand over one datagram received from the peer
/// (copied; its boundaries are kept). Returns `len`;
/// MOJO_TLS_ERR_INVALID_ARGUMENT for an empty datagram,
/// MOJO_TLS_ERR_BAD_STATE on any other kind of connection. Then call
/// mojo_tls_conn_handshake / mojo_tls_conn_read as usual. At most 1024
/// datagrams wait; beyond that the oldest is dropped (as a full socket
/// buffer would), which DTLS tolerates.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_feed_datagram(
    c: *mut mojo_tls_conn,
    data: *const c_void,
    len: size_t,
) -> intptr_t {
    guard_len(|| {
        let c = conn(c)?;
        let data = bytes_arg(data as *const u8, len, "data")?;
        c.feed_datagram(data)
    })
}

/// DTLS memory mode: the next datagram to send to the peer. Returns its
/// length (0 = nothing to send); it is copied into `buf` and dequeued only
/// when it fits (length <= `cap`), else it stays queued and the return
/// value (> `cap`) is the buffer size it needs (`buf` may be NULL with
/// `cap` 0 to ask). Send each one as one datagram. Returns
/// MOJO_TLS_ERR_BAD_STATE on any other kind of connection.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_drain_datagram(
    c: *mut mojo_tls_conn,
    buf: *mut c_void,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        let c = conn(c)?;
        let out = bytes_out(buf as *mut u8, cap, "buf")?;
        c.drain_datagram(out)
    })
}

/// DTLS: milliseconds until the retransmission timer expires (0 = expired:
/// call mojo_tls_conn_handshake, or the read that returned WANT_READ, now;
/// Mbed TLS then sends its last flight again). An event loop waits for a
/// datagram at most this long. Returns MOJO_TLS_ERR_WANT_READ (-1) when no
/// timer runs (wait for datagrams only), MOJO_TLS_ERR_NOT_AVAILABLE on a
/// TLS connection. Blocking and timed connections use the timer themselves.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_next_timeout_ms(c: *const mojo_tls_conn) -> i32 {
    guard_int(|| conn(c)?.next_timeout_ms())
}

/// DTLS server in memory mode: the client's transport id (typically its
/// address and port as bytes), to which the HelloVerifyRequest cookie is
/// bound; needed before the handshake (else it fails with
/// MOJO_TLS_ERR_BAD_STATE). Set it again if the peer's address changes.
/// Returns 0; MOJO_TLS_ERR_INVALID_ARGUMENT for an empty id,
/// MOJO_TLS_ERR_BAD_STATE on a client or TLS connection.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_set_peer_id(
    c: *mut mojo_tls_conn,
    id: *const c_void,
    len: size_t,
) -> i32 {
    guard_int(|| {
        let c = conn(c)?;
        let id = bytes_arg(id as *const u8, len, "id")?;
        c.set_peer_id(id)?;
        Ok(0)
    })
}

/// DTLS: the path MTU, in bytes of a datagram (64..65535, 0 = no limit
/// below the record size). Handshake flights are fragmented to fit, and a
/// write larger than one datagram then carries fails with
/// MOJO_TLS_ERR_INVALID_ARGUMENT (the connection goes on). Returns 0;
/// MOJO_TLS_ERR_INVALID_ARGUMENT out of range, MOJO_TLS_ERR_BAD_STATE on a
/// TLS connection.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_set_mtu(c: *mut mojo_tls_conn, mtu: i32) -> i32 {
    guard_int(|| {
        conn(c)?.set_mtu(mtu)?;
        Ok(0)
    })
}
