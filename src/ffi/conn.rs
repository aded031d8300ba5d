//! C entry points for `mojo_tls_conn`: constructors, I/O, memory mode, sessions, close.

use libc::{c_char, c_void, intptr_t, size_t};

use super::config::mojo_tls_config;
use super::{
    bytes_arg, bytes_out, copy_out, guard_conn, guard_int, guard_len, handle, opt_str_arg, release,
    str_arg,
};
use crate::config::Config;
use crate::conn::Conn;
use crate::error::{Error, Result};
use crate::net;

/// Opaque handle to a TLS connection. Created by the mojo_tls_conn_new_*
/// constructors (connect, accept, accept_no_handshake, fd, memory);
/// released by mojo_tls_conn_free. Calls on one
/// connection from several threads are serialised; distinct connections run
/// in parallel.
#[allow(non_camel_case_types)]
pub struct mojo_tls_conn {
    _private: [u8; 0],
}

fn conn(h: *const mojo_tls_conn) -> Result<std::sync::Arc<Conn>> {
    handle::<Conn, _>(h, "connection")
}

fn cfg(h: *const mojo_tls_config) -> Result<std::sync::Arc<Config>> {
    handle::<Config, _>(h, "config")
}
/// Client: resolve `host` (IPv4 and IPv6), connect over TCP (TCP_NODELAY;
/// on a MOJO_TLS_TRANSPORT_DATAGRAM configuration: a connected UDP socket,
/// DTLS 1.2) and handshake, all within `timeout_ms` (< 0 blocks). `host` is also the
/// name verified in the server's certificate and sent as SNI (an IP literal
/// is checked against the certificate's IP SANs and not sent). `timeout_ms`
/// becomes the connection's timeout for later calls. With `timeout_ms` 0 the
/// TCP connect is only started and the connection is non-blocking: drive the
/// handshake with mojo_tls_conn_handshake. Returns NULL on failure
/// (MOJO_TLS_ERR_CONNECT, MOJO_TLS_ERR_TIMEOUT, MOJO_TLS_ERR_VERIFY_FAILED,
/// MOJO_TLS_ERR_HANDSHAKE, MOJO_TLS_ERR_INTERRUPTED when a signal came:
/// call again, ...).
#[no_mangle]
pub extern "C" fn mojo_tls_conn_new_connect(
    cfg: *const mojo_tls_config,
    host: *const c_char,
    port: u16,
    timeout_ms: i32,
) -> *mut mojo_tls_conn {
    guard_conn(|| {
        let c = self::cfg(cfg)?;
        let host = str_arg(host, "host")?;
        if port == 0 {
            return Err(Error::invalid_arg("port 0"));
        }
        Conn::connect(&c, host, port, timeout_ms)
    })
}

/// Server: accept one client on `listen_fd` and handshake, both within
/// `timeout_ms` (< 0 blocks); the accepted socket is closed on failure.
/// `timeout_ms` becomes the connection's timeout. Returns NULL on failure
/// (MOJO_TLS_ERR_TIMEOUT when no client came, MOJO_TLS_ERR_WANT_READ with
/// timeout 0 and no pending client, handshake errors). A signal gives
/// MOJO_TLS_ERR_INTERRUPTED: a client in mid-handshake is then dropped
/// (closed); call again for the next one.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_new_accept(
    cfg: *const mojo_tls_config,
    listen_fd: i32,
    timeout_ms: i32,
) -> *mut mojo_tls_conn {
    guard_conn(|| Conn::accept(&*self::cfg(cfg)?, listen_fd, timeout_ms, true))
}

/// Server: accept one client within `timeout_ms` without handshaking, so a
/// slow client cannot stall an accept loop; run mojo_tls_conn_handshake
/// later (another thread, or non-blocking). NULL on failure.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_new_accept_no_handshake(
    cfg: *const mojo_tls_config,
    listen_fd: i32,
    timeout_ms: i32,
) -> *mut mojo_tls_conn {
    guard_conn(|| Conn::accept(&*self::cfg(cfg)?, listen_fd, timeout_ms, false))
}

/// A connection over an fd the caller already has (STARTTLS), as client or
/// server according to the configuration's role; no handshake yet (it runs
/// on the first handshake/read/write). With `take_ownership` != 0 the
/// library closes `fd` when the connection is closed, and also if this call
/// fails; with 0 the caller keeps ownership and must keep the fd open while
/// the connection is used. The fd's flags are not changed. `server_name`
/// (clients; may be NULL only when host name checking is off) is verified
/// and sent as SNI. The timeout starts as -1 (blocking). NULL on failure.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_new_fd(
    cfg: *const mojo_tls_config,
    fd: i32,
    take_ownership: i32,
    server_name: *const c_char,
) -> *mut mojo_tls_conn {
    guard_conn(|| {
        let owned = take_ownership != 0;
        let r = (|| {
            let c = self::cfg(cfg)?;
            let name = opt_str_arg(server_name, "server_name")?;
            if fd < 0 || !net::is_socket(fd) {
                return Err(Error::invalid_arg(format!("fd {fd} is not a socket")));
            }
            Ok((c, name))
        })();
        match r {
            Ok((c, name)) => Conn::over_fd(&c, fd, owned, name, -1),
            Err(e) => {
                if owned && fd >= 0 {
                    net::close(fd);
                }
                Err(e)
            }
        }
    })
}

/// A memory-mode connection: no socket. Give it the ciphertext received
/// from the peer with mojo_tls_conn_feed (and mojo_tls_conn_feed_eof at
/// the transport's end), send what mojo_tls_conn_drain returns. Operations
/// return MOJO_TLS_ERR_WANT_READ when they need more input. `server_name`
/// as for mojo_tls_conn_new_fd. NULL on failure.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_new_memory(
    cfg: *const mojo_tls_config,
    server_name: *const c_char,
) -> *mut mojo_tls_conn {
    guard_conn(|| {
        let c = self::cfg(cfg)?;
        let name = opt_str_arg(server_name, "server_name")?;
        Conn::in_memory(&c, name)
    })
}

/// Complete the handshake (optional: read and write do it implicitly).
/// Returns 0 or an error (MOJO_TLS_ERR_WANT_READ/WANT_WRITE when
/// non-blocking, MOJO_TLS_ERR_TIMEOUT, MOJO_TLS_ERR_INTERRUPTED (call
/// again), MOJO_TLS_ERR_VERIFY_FAILED with the reason in
/// mojo_tls_last_error, MOJO_TLS_ERR_HANDSHAKE).
#[no_mangle]
pub extern "C" fn mojo_tls_conn_handshake(c: *mut mojo_tls_conn) -> i32 {
    guard_int(|| conn(c)?.handshake().map(|_| 0))
}

/// Read up to `cap` decrypted bytes into `buf`. Returns the count (> 0), 0 once the
/// peer has sent close_notify (clean EOF), or an error:
/// MOJO_TLS_ERR_TRUNCATED when the transport ended without close_notify,
/// MOJO_TLS_ERR_WANT_READ (non-blocking / memory mode), MOJO_TLS_ERR_TIMEOUT,
/// MOJO_TLS_ERR_INTERRUPTED (a signal; call again), MOJO_TLS_ERR_CLOSED
/// after close. `cap` 0 → MOJO_TLS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_read(
    c: *mut mojo_tls_conn,
    buf: *mut c_void,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        let c = conn(c)?;
        let out = bytes_out(buf as *mut u8, cap, "buf")?;
        c.read(out)
    })
}

/// Write up to `len` bytes (at most one 16 KiB record with Mbed TLS's
/// record layer, up to 256 KiB with the fast one); returns the count
/// written (> 0), 0 when `len` is 0, or an error. After
/// MOJO_TLS_ERR_WANT_WRITE or MOJO_TLS_ERR_INTERRUPTED, call again with
/// the same data.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_write(
    c: *mut mojo_tls_conn,
    buf: *const c_void,
    len: size_t,
) -> intptr_t {
    guard_len(|| {
        let c = conn(c)?;
        let data = bytes_arg(buf as *const u8, len, "buf")?;
        c.write(data)
    })
}

/// Write all `len` bytes; returns `len` or an error (after an error an
/// unknown prefix may have been sent). A signal (a handler without
/// SA_RESTART) interrupts it like POSIX write: after part of the data went
/// out it returns that count (< `len`; call again with the rest), before
/// any MOJO_TLS_ERR_INTERRUPTED. Concurrent write_all calls on one
/// connection do not interleave their data. In non-blocking mode use
/// mojo_tls_conn_write instead.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_write_all(
    c: *mut mojo_tls_conn,
    buf: *const c_void,
    len: size_t,
) -> intptr_t {
    guard_len(|| {
        let c = conn(c)?;
        let data = bytes_arg(buf as *const u8, len, "buf")?;
        c.write_all(data)
    })
}

/// The number of plaintext bytes mojo_tls_conn_read returns without
/// touching the transport (>= 0), on every record layer: every complete
/// record the library has already received is decrypted now and counted
/// (the fast record layer receives up to 256 KiB at once). When no
/// plaintext is left but the peer's close_notify or an error already
/// arrived and was not reported yet, it returns 1: the next read returns 0
/// or that error at once. 0 means the next read needs the socket.
///
/// The one correct readiness loop: never poll while pending() > 0 (those
/// bytes are already inside the library; the socket may stay silent).
///
///   for (;;) {
///       struct pollfd p = { mojo_tls_conn_fd(c), POLLIN, 0 };
///       poll(&p, 1, -1);
///       do {
///           n = mojo_tls_conn_read(c, buf, sizeof buf);
///           if (n > 0) consume(buf, n);
///       } while (n > 0 && mojo_tls_conn_pending(c) > 0);
///       if (n == 0) break;                     // the peer's close_notify
///       if (n < 0 && n != MOJO_TLS_ERR_WANT_READ
///                 && n != MOJO_TLS_ERR_INTERRUPTED) fail(n);
///   }
///
/// Event loops use timeout 0 (mojo_tls_conn_set_timeout); with a blocking
/// connection the loop works too, but a read may wait for the rest of a
/// record that poll saw only the start of.
///
/// Memory mode: what was fed but not yet read counts only once a read took
/// it in; after mojo_tls_conn_feed, read until MOJO_TLS_ERR_WANT_READ.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_pending(c: *mut mojo_tls_conn) -> intptr_t {
    guard_len(|| Ok(conn(c)?.pending()))
}

/// Timeout for later handshake, read, write and close_notify calls:
/// 0 = non-blocking (MOJO_TLS_ERR_WANT_READ / WANT_WRITE; poll the fd from
/// mojo_tls_conn_fd), > 0 = wait up to that many ms
/// (MOJO_TLS_ERR_TIMEOUT), < 0 = block. A wait a signal interrupts returns
/// MOJO_TLS_ERR_INTERRUPTED (with a timeout, call again with what is left).
/// Returns 0.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_set_timeout(c: *mut mojo_tls_conn, timeout_ms: i32) -> i32 {
    guard_int(|| {
        conn(c)?.set_timeout(timeout_ms);
        Ok(0)
    })
}

/// The socket fd to poll (>= 0), MOJO_TLS_ERR_NOT_AVAILABLE in memory mode,
/// MOJO_TLS_ERR_CLOSED once closed. Do not read or write it directly.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_fd(c: *const mojo_tls_conn) -> i32 {
    guard_int(|| conn(c)?.fd())
}

/// Memory mode: hand over `len` bytes of ciphertext received from the peer
/// (copied). Returns `len`, or MOJO_TLS_ERR_BAD_STATE on a socket connection.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_feed(
    c: *mut mojo_tls_conn,
    data: *const c_void,
    len: size_t,
) -> intptr_t {
    guard_len(|| {
        let c = conn(c)?;
        let data = bytes_arg(data as *const u8, len, "data")?;
        c.feed(data)
    })
}

/// Memory mode: the transport has ended. Reads then return 0 if the peer's
/// close_notify arrived, else MOJO_TLS_ERR_TRUNCATED. Returns 0.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_feed_eof(c: *mut mojo_tls_conn) -> i32 {
    guard_int(|| conn(c)?.feed_eof().map(|_| 0))
}

/// Memory mode: move up to `cap` bytes of ciphertext to send to the peer
/// into `buf`. Returns the count copied (0 = nothing to send).
#[no_mangle]
pub extern "C" fn mojo_tls_conn_drain(
    c: *mut mojo_tls_conn,
    buf: *mut c_void,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        let c = conn(c)?;
        let out = bytes_out(buf as *mut u8, cap, "buf")?;
        c.drain(out)
    })
}

/// Memory mode: bytes of ciphertext waiting to be drained (>= 0).
#[no_mangle]
pub extern "C" fn mojo_tls_conn_pending_output(c: *const mojo_tls_conn) -> intptr_t {
    guard_len(|| conn(c)?.pending_output())
}

/// Client, after the handshake: the session as an opaque blob (copies what
/// fits; `buf` may be NULL with `cap` 0). Returns the full length. Keep it
/// (it holds the session's secret) and give it to
/// mojo_tls_conn_session_import on a later connection to resume.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_session_export(
    c: *const mojo_tls_conn,
    buf: *mut u8,
    cap: size_t,
) -> intptr_t {
    guard_len(|| copy_out(&conn(c)?.export_session()?, buf, cap))
}

/// Client, before the handshake: offer a session saved by
/// mojo_tls_conn_session_export. A corrupted or foreign blob →
/// MOJO_TLS_ERR_PARSE and the connection stays usable (full handshake); a
/// session the server no longer accepts also gives a full handshake.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_session_import(
    c: *mut mojo_tls_conn,
    blob: *const u8,
    len: size_t,
) -> i32 {
    guard_int(|| {
        let c = conn(c)?;
        let blob = bytes_arg(blob, len, "blob")?;
        c.import_session(blob).map(|_| 0)
    })
}

/// TLS 1.3: send a KeyUpdate, switching to the next write key; with
/// `request_peer` != 0 the peer is asked to update its key too (RFC 8446
/// §4.6.3). The message is sent now if the socket takes it, else before the
/// next data. Returns 0, MOJO_TLS_ERR_NOT_AVAILABLE on TLS 1.2, before the
/// handshake or with Mbed TLS's record layer, MOJO_TLS_ERR_CLOSED after
/// close_notify.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_key_update(c: *mut mojo_tls_conn, request_peer: i32) -> i32 {
    guard_int(|| conn(c)?.key_update(request_peer != 0).map(|_| 0))
}

/// Derive `len` bytes of keying material shared with the peer (RFC 5705
/// for TLS 1.2, RFC 8446 §7.5 for TLS 1.3) into `buf`, from `label` and
/// `context` (`context` NULL with `context_len` 0 means no context; TLS 1.3
/// treats that as an empty context, TLS 1.2 does not). Works with every
/// record layer. RFC 9266's tls-exporter channel binding is label
/// "EXPORTER-Channel-Binding", no context, 32 bytes. Returns `len`;
/// MOJO_TLS_ERR_NOT_AVAILABLE before the handshake completed,
/// MOJO_TLS_ERR_INVALID_ARGUMENT for `len` 0 or above 8160, a TLS 1.3
/// label over 249 bytes, a TLS 1.2 context over 65535 bytes or a label TLS
/// reserves ("master secret", "key expansion", ...).
#[no_mangle]
pub extern "C" fn mojo_tls_conn_export_keying_material(
    c: *const mojo_tls_conn,
    label: *const c_char,
    label_len: size_t,
    context: *const u8,
    context_len: size_t,
    buf: *mut u8,
    len: size_t,
) -> intptr_t {
    guard_len(|| {
        let c = conn(c)?;
        let label = bytes_arg(label as *const u8, label_len, "label")?;
        let context = if context.is_null() && context_len == 0 {
            None
        } else {
            Some(bytes_arg(context, context_len, "context")?)
        };
        let out = bytes_out(buf, len, "buf")?;
        c.export_keying_material(label, context, out)?;
        Ok(out.len())
    })
}

/// The tls-unique channel binding (RFC 5929): the verify_data of the
/// handshake's first Finished message (12 bytes), as Python's ssl and
/// OpenSSL report it. Output (buf, cap), returns the full length.
/// MOJO_TLS_ERR_NOT_AVAILABLE on TLS 1.3 (tls-unique is not defined there,
/// RFC 9266: use mojo_tls_conn_export_keying_material) and before the
/// handshake completed.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_tls_unique(
    c: *const mojo_tls_conn,
    buf: *mut u8,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        bytes_out(buf, cap, "buf")?;
        copy_out(&conn(c)?.tls_unique()?, buf, cap)
    })
}

/// Send close_notify (the TLS-level end of the stream). The peer's reads
/// then return 0. Later writes return MOJO_TLS_ERR_CLOSED; reads go on
/// until the peer's own close_notify (read returns 0). When the peer's
/// close_notify comes first: on TLS 1.3 this side may still write (each
/// direction closes on its own, RFC 8446 §6.1: a half-close), on TLS 1.2
/// writes return MOJO_TLS_ERR_CLOSED.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_close_notify(c: *mut mojo_tls_conn) -> i32 {
    guard_int(|| conn(c)?.close_notify().map(|_| 0))
}

/// Close the connection: a best-effort, non-blocking close_notify, then the
/// fd is closed if the connection owns it. Idempotent; later operations
/// return MOJO_TLS_ERR_CLOSED. The handle stays valid until
/// mojo_tls_conn_free. Returns 0.
///
/// fork(): the connection belongs to the process that completed its
/// handshake (before the handshake, to the one that created it). In any
/// other process (a forked child) close and free send nothing: they only
/// close that process's copy of the fd, so the owner's session goes on.
/// A child that really means to end the session calls
/// mojo_tls_conn_close_notify itself.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_close(c: *mut mojo_tls_conn) -> i32 {
    guard_int(|| {
        conn(c)?.close();
        Ok(0)
    })
}

/// Close (as mojo_tls_conn_close, so nothing is sent from a process other
/// than the connection's owner) and release the handle. NULL → 0; an
/// already freed handle → MOJO_TLS_ERR_INVALID_HANDLE (harmless).
#[no_mangle]
pub extern "C" fn mojo_tls_conn_free(c: *mut mojo_tls_conn) -> i32 {
    guard_int(|| {
        if let Some(conn) = release::<Conn, _>(c, "connection")? {
            conn.close();
        }
        Ok(0)
    })
}

/// Release the handle without touching the peer, in any process: no
/// close_notify, no TCP shutdown; the fd is closed if the connection owns
/// it (in the owning process once no other thread is blocked on it). The
/// peer sees the transport end without close_notify
/// (MOJO_TLS_ERR_TRUNCATED) once every process has closed its copy of the
/// socket. For a forked child that drops its copy, or a process handing
/// the socket's session to someone else. NULL → 0; an already freed
/// handle → MOJO_TLS_ERR_INVALID_HANDLE (harmless).
#[no_mangle]
pub extern "C" fn mojo_tls_conn_abandon(c: *mut mojo_tls_conn) -> i32 {
    guard_int(|| {
        if let Some(conn) = release::<Conn, _>(c, "connection")? {
            conn.abandon();
        }
        Ok(0)
    })
}
