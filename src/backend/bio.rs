//! The send/receive callbacks Mbed TLS calls; they forward to our `Transport`
//! (socket or memory) and translate its status into Mbed TLS codes.
//!
//! Once the fast record layer has taken the connection over, Mbed TLS is
//! *detached*: it never touches the transport again, and the only bytes it
//! can read are records injected for it (a TLS 1.3 client's
//! NewSessionTicket, re-encrypted by the record layer).

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::sys;
use crate::transport::{IoStatus, Transport};

/// What Mbed TLS's BIO callbacks get as their context.
pub struct BioCtx {
    pub transport: Transport,
    inject: Vec<u8>,
    inject_pos: usize,
    detached: bool,
    /// Refuse to receive (WANT_READ) while what Mbed TLS already holds is
    /// processed: nothing new is taken from the transport.
    pub(super) offline: bool,
}

impl BioCtx {
    pub fn new(transport: Transport) -> BioCtx {
        BioCtx {
            transport,
            inject: Vec::new(),
            inject_pos: 0,
            detached: false,
            offline: false,
        }
    }

    /// Mbed TLS no longer owns the transport.
    pub fn detach(&mut self) {
        self.detached = true;
    }

    pub fn is_detached(&self) -> bool {
        self.detached
    }

    /// Bytes Mbed TLS reads before anything else (detached sessions only).
    pub fn inject(&mut self, data: &[u8]) {
        self.inject.extend_from_slice(data);
    }

    pub fn injected_left(&self) -> usize {
        self.inject.len() - self.inject_pos
    }

    fn recv(&mut self, buf: &mut [u8]) -> IoStatus {
        if self.offline {
            return IoStatus::WouldBlock;
        }
        if !self.detached {
            return self.transport.recv(buf);
        }
        let n = self.injected_left().min(buf.len());
        if n == 0 {
            return IoStatus::WouldBlock;
        }
        buf[..n].copy_from_slice(&self.inject[self.inject_pos..self.inject_pos + n]);
        self.inject_pos += n;
        if self.inject_pos == self.inject.len() {
            self.inject = Vec::new();
            self.inject_pos = 0;
        }
        IoStatus::Done(n)
    }

    fn send(&mut self, buf: &[u8]) -> IoStatus {
        if self.detached {
            // Its sequence numbers are stale: a record from it would break
            // the stream.
            return IoStatus::Failed;
        }
        self.transport.send(buf)
    }
}

fn to_mbed(status: IoStatus, want: i32, failed: i32) -> i32 {
    match status {
        IoStatus::Done(n) => n.min(i32::MAX as usize) as i32,
        IoStatus::WouldBlock => want,
        // recv returning 0 is how Mbed TLS learns of EOF.
        IoStatus::Eof => 0,
        IoStatus::Reset => sys::ERR_NET_CONN_RESET,
        IoStatus::Failed => failed,
    }
}

/// # Safety
/// `ctx` is the `BioCtx` registered with `ssl_set_bio`; Mbed TLS only calls
/// this while the owning session is borrowed mutably by our code.
pub(crate) unsafe extern "C" fn send(ctx: *mut libc::c_void, buf: *const u8, len: usize) -> i32 {
    if ctx.is_null() || (buf.is_null() && len > 0) {
        return sys::ERR_NET_SEND_FAILED;
    }
    // Unwinding across the C frames of Mbed TLS is undefined: stop it here.
    catch_unwind(AssertUnwindSafe(|| {
        let b = &mut *(ctx as *mut BioCtx);
        let data = if len == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(buf, len)
        };
        to_mbed(
            b.send(data),
            sys::ERR_SSL_WANT_WRITE,
            sys::ERR_NET_SEND_FAILED,
        )
    }))
    .unwrap_or(sys::ERR_NET_SEND_FAILED)
}

/// # Safety
/// As for `send`.
pub(crate) unsafe extern "C" fn recv(ctx: *mut libc::c_void, buf: *mut u8, len: usize) -> i32 {
    if ctx.is_null() || (buf.is_null() && len > 0) {
        return sys::ERR_NET_RECV_FAILED;
    }
    catch_unwind(AssertUnwindSafe(|| {
        let b = &mut *(ctx as *mut BioCtx);
        let data = if len == 0 {
            &mut [][..]
        } else {
            std::slice::from_raw_parts_mut(buf, len)
        };
        to_mbed(
            b.recv(data),
            sys::ERR_SSL_WANT_READ,
            sys::ERR_NET_RECV_FAILED,
        )
    }))
    .unwrap_or(sys::ERR_NET_RECV_FAILED)
}
