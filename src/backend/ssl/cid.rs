//! DTLS Connection ID (RFC 9146) on Mbed TLS: the configuration's CID
//! length, a session's own random CID and the peer's negotiated one (the
//! Session methods using these are in `dtls.rs`). An
//! installed Mbed TLS built without MBEDTLS_SSL_DTLS_CONNECTION_ID has none
//! of these functions (`mbedtls_cid` unset by build.rs): the setting then
//! fails with MOJO_TLS_ERR_UNSUPPORTED.

use crate::backend::sys;
use crate::error::{Code, Error, Result};
#[cfg(mbedtls_cid)]
use crate::{backend::errors::mbed_error, backend::rng};

/// The longest own CID Mbed TLS accepts (MBEDTLS_SSL_CID_IN_LEN_MAX; 32 in
/// the default configuration).
#[cfg(mbedtls_cid)]
pub const CID_MAX: usize = sys::SSL_CID_IN_LEN_MAX as usize;
#[cfg(not(mbedtls_cid))]
pub const CID_MAX: usize = 0;

/// This backend can negotiate Connection IDs.
pub const CID_SUPPORTED: bool = cfg!(mbedtls_cid);

fn unsupported() -> Error {
    Error::new(
        Code::MOJO_TLS_ERR_UNSUPPORTED,
        "this Mbed TLS is built without MBEDTLS_SSL_DTLS_CONNECTION_ID (DTLS Connection ID)",
    )
}

/// The CID length every session of `conf` uses for its own CID; records
/// carrying another CID are dropped (not fatal: a misrouted datagram).
///
/// # Safety
/// `conf` is an initialised config nothing else uses during the call.
pub(super) unsafe fn conf_cid(conf: *mut sys::ssl_config, len: u8) -> Result<()> {
    #[cfg(mbedtls_cid)]
    {
        // SAFETY: per the contract.
        let ret =
            unsafe { sys::ssl_conf_cid(conf, len as usize, sys::SSL_UNEXPECTED_CID_IGNORE as i32) };
        if ret != 0 {
            return Err(mbed_error(
                ret,
                Code::MOJO_TLS_ERR_INVALID_ARGUMENT,
                "ssl_conf_cid",
            ));
        }
        Ok(())
    }
    #[cfg(not(mbedtls_cid))]
    {
        let _ = (conf, len);
        Err(unsupported())
    }
}

/// Offer the CID extension on `ctx` with a fresh random own CID of `len`
/// bytes (empty: we send the peer's CID but want none in what we
/// receive); returns that CID. Mbed TLS's session reset (after a
/// HelloVerifyRequest) keeps it.
///
/// # Safety
/// `ctx` is an initialised session (ssl_setup done) nothing else uses.
pub(super) unsafe fn offer(ctx: *mut sys::ssl_context, len: u8) -> Result<Vec<u8>> {
    #[cfg(mbedtls_cid)]
    {
        let mut own = vec![0u8; len as usize];
        rng::random(&mut own)?;
        // SAFETY: per the contract; Mbed TLS copies the CID.
        let ret =
            unsafe { sys::ssl_set_cid(ctx, sys::SSL_CID_ENABLED as i32, own.as_ptr(), own.len()) };
        if ret != 0 {
            return Err(mbed_error(ret, Code::MOJO_TLS_ERR_INTERNAL, "ssl_set_cid"));
        }
        Ok(own)
    }
    #[cfg(not(mbedtls_cid))]
    {
        let _ = (ctx, len);
        Err(unsupported())
    }
}

/// The peer's CID negotiated on `ctx`; `None` before the handshake is
/// done or when no CID is in use (off on either side, or both empty).
///
/// # Safety
/// `ctx` is an initialised session; Mbed TLS only reads it here.
pub(super) unsafe fn negotiated_peer(ctx: *mut sys::ssl_context) -> Option<Vec<u8>> {
    #[cfg(mbedtls_cid)]
    {
        let mut enabled: i32 = 0;
        let mut peer = [0u8; sys::SSL_CID_OUT_LEN_MAX as usize];
        let mut peer_len: usize = 0;
        // SAFETY: per the contract; writes at most SSL_CID_OUT_LEN_MAX
        // bytes to `peer`.
        let ret =
            unsafe { sys::ssl_get_peer_cid(ctx, &mut enabled, peer.as_mut_ptr(), &mut peer_len) };
        if ret != 0 || enabled != sys::SSL_CID_ENABLED as i32 {
            return None;
        }
        Some(peer[..peer_len.min(peer.len())].to_vec())
    }
    #[cfg(not(mbedtls_cid))]
    {
        let _ = ctx;
        None
    }
}

/// Whether `len` is a valid own CID length for this backend.
pub fn check_cid_len(len: i32) -> Result<u8> {
    if !CID_SUPPORTED {
        return Err(unsupported());
    }
    match u8::try_from(len) {
        Ok(n) if (n as usize) <= CID_MAX => Ok(n),
        _ => Err(Error::invalid_arg(format!(
            "a DTLS Connection ID is 0..={CID_MAX} bytes (got {len}; -1 turns it off)"
        ))),
    }
}
