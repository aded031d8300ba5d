//! DTLS's retransmission timer: Mbed TLS asks for one (`ssl_set_timer_cb`)
//! and keeps none itself. It runs on our monotonic clock and is only read:
//! Mbed TLS looks at it when it is called (a handshake or read call), so
//! whoever drives the connection asks how long it may wait for a datagram
//! before calling again (then Mbed TLS retransmits).

use std::time::{Duration, Instant};

/// Mbed TLS's timer, as its `f_set_timer` / `f_get_timer` see it: an
/// intermediate and a final delay from the moment it was set.
#[derive(Default)]
pub(super) struct DtlsTimer {
    /// When it was set; `None` while cancelled.
    start: Option<Instant>,
    int_ms: u32,
    fin_ms: u32,
}

impl DtlsTimer {
    pub(super) fn set(&mut self, int_ms: u32, fin_ms: u32) {
        if fin_ms == 0 {
            self.start = None;
        } else {
            self.start = Some(Instant::now());
        }
        self.int_ms = int_ms;
        self.fin_ms = fin_ms;
    }

    /// Mbed TLS's convention: -1 cancelled, 0 no delay expired, 1 the
    /// intermediate one, 2 the final one.
    fn get(&self) -> i32 {
        let Some(start) = self.start else {
            return -1;
        };
        let elapsed = start.elapsed();
        if elapsed >= Duration::from_millis(u64::from(self.fin_ms)) {
            2
        } else if elapsed >= Duration::from_millis(u64::from(self.int_ms)) {
            1
        } else {
            0
        }
    }

    /// Time left before the final delay expires (zero once it has); `None`
    /// while no timer runs.
    pub(super) fn left(&self) -> Option<Duration> {
        let start = self.start?;
        let fin = Duration::from_millis(u64::from(self.fin_ms));
        Some(fin.saturating_sub(start.elapsed()))
    }
}

/// # Safety
/// `ctx` is the session's `DtlsTimer` (registered by `dtls_setup`), which
/// Mbed TLS only reaches from inside calls on that session.
pub(super) unsafe extern "C" fn set_timer(ctx: *mut libc::c_void, int_ms: u32, fin_ms: u32) {
    if ctx.is_null() {
        return;
    }
    // SAFETY: per the contract, a live DtlsTimer nobody else uses now.
    unsafe { (*(ctx as *mut DtlsTimer)).set(int_ms, fin_ms) }
}

/// # Safety
/// As for [`set_timer`].
pub(super) unsafe extern "C" fn get_timer(ctx: *mut libc::c_void) -> libc::c_int {
    if ctx.is_null() {
        return -1;
    }
    // SAFETY: as in `set_timer`.
    unsafe { (*(ctx as *const DtlsTimer)).get() }
}

/// A DTLS session's own state: its timer and the client's transport id
/// (server), which a cookie exchange's session reset forgets and which is
/// set again from here.
#[derive(Default)]
pub(super) struct DtlsState {
    pub(super) timer: DtlsTimer,
    pub(super) peer_id: Option<Vec<u8>>,
}
