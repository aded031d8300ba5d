//! The send/receive callbacks Mbed TLS calls, and what they reach: the
//! connection's transport, lent to the session for the length of one call
//! (`Session::with_wire`). The backend does not know the transport's type:
//! it sees a [`Wire`], which the layer above implements.
//!
//! Once the fast record layer has taken the connection over, Mbed TLS is
//! *detached*: it never touches the transport again, and the only bytes it
//! can read are records injected for it (a TLS 1.3 client's
//! NewSessionTicket, re-encrypted by the record layer).

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::stale_hello::HelloGuard;
use super::sys;

/// Outcome of one non-blocking transfer, as Mbed TLS needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireStatus {
    Done(usize),
    WouldBlock,
    /// The peer closed its end.
    Eof,
    /// Connection reset / broken pipe.
    Reset,
    Failed,
}

/// What Mbed TLS's records travel over (the connection's transport).
/// Neither call may block.
pub trait Wire {
    fn send(&mut self, buf: &[u8]) -> WireStatus;
    fn recv(&mut self, buf: &mut [u8]) -> WireStatus;
}

/// A `Wire` lent for one call, with its type erased (Mbed TLS's context is
/// a thin `void *`, so the vtable is a pair of monomorphised functions).
#[derive(Clone, Copy)]
struct Lent {
    wire: *mut libc::c_void,
    send: unsafe fn(*mut libc::c_void, &[u8]) -> WireStatus,
    recv: unsafe fn(*mut libc::c_void, &mut [u8]) -> WireStatus,
}

/// # Safety
/// `wire` points to a live, unaliased `W` (see [`BioCtx::lend`]).
unsafe fn send_as<W: Wire>(wire: *mut libc::c_void, buf: &[u8]) -> WireStatus {
    // SAFETY: per the contract, `wire` is a `W` nobody else uses now.
    unsafe { (*(wire as *mut W)).send(buf) }
}

/// # Safety
/// As for [`send_as`].
unsafe fn recv_as<W: Wire>(wire: *mut libc::c_void, buf: &mut [u8]) -> WireStatus {
    // SAFETY: per the contract, `wire` is a `W` nobody else uses now.
    unsafe { (*(wire as *mut W)).recv(buf) }
}

/// What Mbed TLS's BIO callbacks get as their context. It lives in a
/// `Box` whose address Mbed TLS keeps (`ssl_set_bio`) for the session's
/// life.
#[derive(Default)]
pub struct BioCtx {
    /// The transport lent for the Mbed TLS call in progress; `None`
    /// between calls (then receiving says WANT_READ, sending fails).
    lent: Option<Lent>,
    inject: Vec<u8>,
    inject_pos: usize,
    detached: bool,
    /// Refuse to receive (WANT_READ) while what Mbed TLS already holds is
    /// processed: nothing new is taken from the transport.
    pub(super) offline: bool,
    /// DTLS server: drops late copies of the client's own hello once the
    /// handshake is over (see `stale_hello`).
    pub(super) hello_guard: Option<HelloGuard>,
}

impl BioCtx {
    /// Let the callbacks reach `wire` until [`BioCtx::take_back`].
    ///
    /// # Safety
    /// Until `take_back` is called, `wire` must stay valid and must not be
    /// used except through these callbacks (the caller holds its `&mut`
    /// for the whole lending and does not touch it meanwhile).
    pub(super) unsafe fn lend<W: Wire>(&mut self, wire: &mut W) {
        self.lent = Some(Lent {
            wire: wire as *mut W as *mut libc::c_void,
            send: send_as::<W>,
            recv: recv_as::<W>,
        });
    }

    pub(super) fn take_back(&mut self) {
        self.lent = None;
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

    fn recv(&mut self, buf: &mut [u8]) -> WireStatus {
        if self.offline {
            return WireStatus::WouldBlock;
        }
        if !self.detached {
            let Some(l) = self.lent else {
                return WireStatus::WouldBlock;
            };
            loop {
                // SAFETY: lent by `lend`, whose contract keeps it valid and
                // unaliased until `take_back`.
                let status = unsafe { (l.recv)(l.wire, buf) };
                // Each pass takes one datagram off the transport: bounded.
                let stale = match (status, self.hello_guard.as_mut()) {
                    (WireStatus::Done(n), Some(g)) => g.drop_stale(&buf[..n]),
                    _ => false,
                };
                if !stale {
                    return status;
                }
            }
        }
        let n = self.injected_left().min(buf.len());
        if n == 0 {
            return WireStatus::WouldBlock;
        }
        buf[..n].copy_from_slice(&self.inject[self.inject_pos..self.inject_pos + n]);
        self.inject_pos += n;
        if self.inject_pos == self.inject.len() {
            self.inject = Vec::new();
            self.inject_pos = 0;
        }
        WireStatus::Done(n)
    }

    fn send(&mut self, buf: &[u8]) -> WireStatus {
        if self.detached {
            // Its sequence numbers are stale: a record from it would break
            // the stream.
            return WireStatus::Failed;
        }
        match self.lent {
            // SAFETY: as in `recv`.
            Some(l) => unsafe { (l.send)(l.wire, buf) },
            None => WireStatus::Failed,
        }
    }
}

fn to_mbed(status: WireStatus, want: i32, failed: i32) -> i32 {
    match status {
        WireStatus::Done(n) => n.min(i32::MAX as usize) as i32,
        WireStatus::WouldBlock => want,
        // recv returning 0 is how Mbed TLS learns of EOF.
        WireStatus::Eof => 0,
        WireStatus::Reset => sys::ERR_NET_CONN_RESET,
        WireStatus::Failed => failed,
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
        // SAFETY: per the contract, `ctx` is our BioCtx and the session
        // (its only other user) is inside the Mbed TLS call that called us.
        let b = unsafe { &mut *(ctx as *mut BioCtx) };
        let data = if len == 0 {
            &[][..]
        } else {
            // SAFETY: Mbed TLS passes `len` readable bytes at `buf`.
            unsafe { std::slice::from_raw_parts(buf, len) }
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
        // SAFETY: as in `send`.
        let b = unsafe { &mut *(ctx as *mut BioCtx) };
        let data = if len == 0 {
            &mut [][..]
        } else {
            // SAFETY: Mbed TLS passes `len` writable bytes at `buf`.
            unsafe { std::slice::from_raw_parts_mut(buf, len) }
        };
        to_mbed(
            b.recv(data),
            sys::ERR_SSL_WANT_READ,
            sys::ERR_NET_RECV_FAILED,
        )
    }))
    .unwrap_or(sys::ERR_NET_RECV_FAILED)
}
