//! C entry points for DTLS Connection IDs (RFC 9146): the configuration's
//! setting, a connection's negotiated CIDs, and reading the CID out of a
//! received datagram so a memory-mode server can route by it when a
//! client's address changes. docs/features/dtls.md, "Connection ID".

use libc::{c_void, intptr_t, size_t};

use super::config::mojo_tls_config;
use super::conn::mojo_tls_conn;
use super::{bytes_arg, copy_out, guard_int, guard_len, handle};
use crate::config::Config;
use crate::conn::Conn;
use crate::error::{Error, Result};

/// mojo_tls_config_set_dtls_connection_id: no Connection ID (the default).
pub const MOJO_TLS_DTLS_CID_OFF: i32 = -1;
/// mojo_tls_conn_dtls_connection_id: our own CID (the peer's records carry it).
pub const MOJO_TLS_DTLS_CID_OWN: i32 = 0;
/// mojo_tls_conn_dtls_connection_id: the peer's CID (our records carry it).
pub const MOJO_TLS_DTLS_CID_PEER: i32 = 1;

/// DTLS Connection ID (RFC 9146), for connections made from `cfg` (a
/// configuration with MOJO_TLS_TRANSPORT_DATAGRAM). `len`
/// MOJO_TLS_DTLS_CID_OFF (-1, the default): no CID. 1..32: offer the
/// extension with a random own CID of `len` bytes per connection (from the
/// library's RNG); when the peer agrees, its records carry that CID, so
/// they can be routed to the connection whatever address they come from.
/// 0: offer the extension with an empty own CID: this side sends the
/// peer's CID but asks for none (a client that is not itself routed by
/// CID; RFC 9146 allows one direction). Records of a peer carrying another
/// CID are dropped. Connections accepted by a mojo_tls_dtls_listener
/// follow a client whose address changed once its datagram authenticates
/// (docs/features/dtls.md); in memory mode route with
/// mojo_tls_dtls_datagram_connection_id. Returns 0; MOJO_TLS_ERR_INVALID_ARGUMENT for a length
/// out of range, MOJO_TLS_ERR_BAD_STATE on a TLS (stream) configuration,
/// MOJO_TLS_ERR_UNSUPPORTED when the Mbed TLS in use lacks
/// MBEDTLS_SSL_DTLS_CONNECTION_ID (an installed one, system backend).
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_dtls_connection_id(
    cfg: *mut mojo_tls_config,
    len: i32,
) -> i32 {
    guard_int(|| {
        let c = handle::<Config, _>(cfg, "config")?;
        if len < MOJO_TLS_DTLS_CID_OFF {
            return Err(Error::invalid_arg(format!(
                "a DTLS Connection ID length is 0..=32 or MOJO_TLS_DTLS_CID_OFF (-1), not {len}"
            )));
        }
        c.set_dtls_connection_id(len)?;
        Ok(0)
    })
}

/// DTLS: a Connection ID negotiated in the handshake, `which`
/// MOJO_TLS_DTLS_CID_OWN (ours: what the peer's records carry, what to
/// route received datagrams by) or MOJO_TLS_DTLS_CID_PEER (what ours
/// carry). Copies what fits of it into `buf` and returns its full length
/// (0: that side's CID is empty; `buf` may be NULL with `cap` 0).
/// MOJO_TLS_ERR_NOT_AVAILABLE before the handshake is done, on a TLS
/// connection, or when no CID was negotiated (off on either side, or both
/// CIDs empty: the records are then plain DTLS ones);
/// MOJO_TLS_ERR_INVALID_ARGUMENT for an unknown `which`.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_dtls_connection_id(
    c: *const mojo_tls_conn,
    which: i32,
    buf: *mut c_void,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        let peer = match which {
            MOJO_TLS_DTLS_CID_OWN => false,
            MOJO_TLS_DTLS_CID_PEER => true,
            _ => return Err(Error::invalid_arg(format!("unknown CID side {which}"))),
        };
        let cid = conn(c)?.connection_id(peer)?;
        copy_out(&cid, buf as *mut u8, cap)
    })
}

fn conn(h: *const mojo_tls_conn) -> Result<std::sync::Arc<Conn>> {
    handle::<Conn, _>(h, "connection")
}

/// The longest CID on the wire (RFC 9146: opaque cid<0..2^8-1>); the
/// datagram helper is pure parsing, independent of what this backend
/// offers (at most 32 bytes with Mbed TLS's default configuration).
const WIRE_CID_MAX: usize = 255;

/// DTLS 1.2: the Connection ID in a received datagram (`data`, `len`),
/// for routing it to its connection when the sender's address changed
/// (NAT rebinding). `cid_len` is the receiver's own CID length (the
/// configured one; 1..255, the length is not on the wire). Copies what fits
/// into `buf`, returns `cid_len`. A pure function: it touches no
/// connection and authenticates nothing: only a read on the connection
/// proves the datagram is the peer's (docs/features/dtls.md says when to
/// trust the new address). MOJO_TLS_ERR_NOT_AVAILABLE when the datagram's
/// first record carries no CID (a handshake datagram, a peer without CID:
/// route by address); MOJO_TLS_ERR_INVALID_ARGUMENT for an empty or
/// malformed one (truncated, not DTLS 1.2, a length past its end) or
/// `cid_len` out of range.
#[no_mangle]
pub extern "C" fn mojo_tls_dtls_datagram_connection_id(
    data: *const c_void,
    len: size_t,
    cid_len: size_t,
    buf: *mut c_void,
    cap: size_t,
) -> intptr_t {
    guard_len(|| {
        if cid_len == 0 || cid_len > WIRE_CID_MAX {
            return Err(Error::invalid_arg(format!(
                "cid_len {cid_len} is not in 1..=255 (the receiver's own CID length)"
            )));
        }
        let data = bytes_arg(data as *const u8, len, "data")?;
        let cid = crate::transport::datagram_cid(data, cid_len)?;
        copy_out(cid, buf as *mut u8, cap)
    })
}
