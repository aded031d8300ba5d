//! DTLS Connection ID (RFC 9146) on Mbed TLS: the configuration's CID
//! length, each session's own random CID, and the negotiated pair. An
//! installed Mbed TLS built without MBEDTLS_SSL_DTLS_CONNECTION_ID has none
//! of these functions (`mbedtls_cid` unset by build.rs): the setting then
//! fails with MOJO_TLS_ERR_UNSUPPORTED.

use super::session::Session;
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

/// A negotiated pair of Connection IDs: `own` is what the peer writes into
/// the records it sends us (what we route by), `peer` what we write into
/// ours. Either may be empty (RFC 9146 allows one direction only).
pub struct ConnectionIds {
    pub own: Vec<u8>,
    pub peer: Vec<u8>,
}

impl Session {
    /// Offer the CID extension with a fresh random own CID of the
    /// configured length (empty: we accept the peer's CID but want none in
    /// the records we receive). Kept across the reset after a
    /// HelloVerifyRequest (Mbed TLS's session reset leaves it).
    pub(super) fn cid_setup(&mut self, len: u8) -> Result<()> {
        #[cfg(mbedtls_cid)]
        {
            let mut own = vec![0u8; len as usize];
            rng::random(&mut own)?;
            // SAFETY: initialised session (ssl_setup done); Mbed TLS copies
            // the CID.
            let ret = unsafe {
                sys::ssl_set_cid(
                    &mut *self.ctx,
                    sys::SSL_CID_ENABLED as i32,
                    own.as_ptr(),
                    own.len(),
                )
            };
            if ret != 0 {
                return Err(mbed_error(ret, Code::MOJO_TLS_ERR_INTERNAL, "ssl_set_cid"));
            }
            self.own_cid = Some(own);
            Ok(())
        }
        #[cfg(not(mbedtls_cid))]
        {
            let _ = len;
            Err(unsupported())
        }
    }

    /// The Connection IDs in use after the handshake; `None` before it is
    /// done or when no CID was negotiated (off on either side, or both
    /// sides chose an empty one: the records are the plain DTLS format).
    pub fn connection_ids(&self) -> Option<ConnectionIds> {
        #[cfg(mbedtls_cid)]
        {
            let own = self.own_cid.clone()?;
            let mut enabled: i32 = 0;
            let mut peer = [0u8; sys::SSL_CID_OUT_LEN_MAX as usize];
            let mut peer_len: usize = 0;
            // SAFETY: the context is initialised; `ssl_get_peer_cid` only
            // reads it (its pointer is not const in the C API) and writes at
            // most SSL_CID_OUT_LEN_MAX bytes to `peer`.
            let ret = unsafe {
                sys::ssl_get_peer_cid(
                    &*self.ctx as *const sys::ssl_context as *mut sys::ssl_context,
                    &mut enabled,
                    peer.as_mut_ptr(),
                    &mut peer_len,
                )
            };
            if ret != 0 || enabled != sys::SSL_CID_ENABLED as i32 {
                return None;
            }
            Some(ConnectionIds {
                own,
                peer: peer[..peer_len.min(peer.len())].to_vec(),
            })
        }
        #[cfg(not(mbedtls_cid))]
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
