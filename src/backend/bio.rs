//! The send/receive callbacks Mbed TLS calls; they forward to our `Transport`
//! (socket or memory) and translate its status into Mbed TLS codes.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::sys;
use crate::transport::{IoStatus, Transport};

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
/// `ctx` is the `Transport` registered with `ssl_set_bio`; Mbed TLS only calls
/// this while the owning session is borrowed mutably by our code.
pub(crate) unsafe extern "C" fn send(ctx: *mut libc::c_void, buf: *const u8, len: usize) -> i32 {
    if ctx.is_null() || (buf.is_null() && len > 0) {
        return sys::ERR_NET_SEND_FAILED;
    }
    // Unwinding across the C frames of Mbed TLS is undefined: stop it here.
    catch_unwind(AssertUnwindSafe(|| {
        let t = &mut *(ctx as *mut Transport);
        let data = if len == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(buf, len)
        };
        to_mbed(
            t.send(data),
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
        let t = &mut *(ctx as *mut Transport);
        let data = if len == 0 {
            &mut [][..]
        } else {
            std::slice::from_raw_parts_mut(buf, len)
        };
        to_mbed(
            t.recv(data),
            sys::ERR_SSL_WANT_READ,
            sys::ERR_NET_RECV_FAILED,
        )
    }))
    .unwrap_or(sys::ERR_NET_RECV_FAILED)
}
