//! What the bundled engine (mbedtls-rs-sys, Mbed TLS 3.6) leaves to its host:
//! mutexes for Mbed TLS's threading layer, the OS random source for PSA and
//! the entropy pool, and the clocks. `install` runs once, before anything
//! initialises an Mbed TLS context or PSA (contexts embed mutexes, and
//! `mbedtls_threading_set_alt` must come first).

use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

use mbedtls_rs_sys::hook::timer::{hook_timer, MbedtlsTimer};
use mbedtls_rs_sys::hook::wall_clock::{hook_wall_clock, MbedtlsWallClock};

use super::sys;

// ---- Mutexes --------------------------------------------------------------
//
// threading_alt.h: the struct holds a pointer to a heap pthread mutex, so a
// context Mbed TLS copies or moves never moves the mutex itself.

/// # Safety
/// Called by Mbed TLS's threading layer, with a mutex it owns (initialised by
/// `mutex_init` except for that call).
unsafe extern "C" fn mutex_init(m: *mut sys::threading_mutex_t) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if m.is_null() {
            return;
        }
        let lock = Box::into_raw(Box::new(libc::PTHREAD_MUTEX_INITIALIZER));
        (*m).lock = lock.cast();
    }
}

/// # Safety
/// Called by Mbed TLS's threading layer, with a mutex it owns (initialised by
/// `mutex_init` except for that call).
unsafe extern "C" fn mutex_free(m: *mut sys::threading_mutex_t) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if m.is_null() || (*m).lock.is_null() {
            return;
        }
        let lock = (*m).lock as *mut libc::pthread_mutex_t;
        (*m).lock = std::ptr::null_mut();
        libc::pthread_mutex_destroy(lock);
        drop(Box::from_raw(lock));
    }
}

/// Run a pthread lock operation on the mutex behind `m`.
///
/// # Safety
/// `m` points to a mutex initialised by `mutex_init`.
unsafe fn mutex_op(
    m: *mut sys::threading_mutex_t,
    op: unsafe extern "C" fn(*mut libc::pthread_mutex_t) -> libc::c_int,
) -> libc::c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if m.is_null() || (*m).lock.is_null() {
            return sys::ERR_THREADING_BAD_INPUT_DATA as libc::c_int;
        }
        match op((*m).lock.cast()) {
            0 => 0,
            _ => sys::ERR_THREADING_MUTEX_ERROR as libc::c_int,
        }
    }
}

/// # Safety
/// Called by Mbed TLS's threading layer, with a mutex it owns (initialised by
/// `mutex_init` except for that call).
unsafe extern "C" fn mutex_lock(m: *mut sys::threading_mutex_t) -> libc::c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe { mutex_op(m, libc::pthread_mutex_lock) }
}

/// # Safety
/// Called by Mbed TLS's threading layer, with a mutex it owns (initialised by
/// `mutex_init` except for that call).
unsafe extern "C" fn mutex_unlock(m: *mut sys::threading_mutex_t) -> libc::c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe { mutex_op(m, libc::pthread_mutex_unlock) }
}

// ---- Randomness -------------------------------------------------------------

/// Fill `out` from the kernel's CSPRNG (getrandom(2), retried on EINTR and
/// short reads). Stateless, so a forked child never repeats its parent.
pub(crate) fn os_random(out: &mut [u8]) -> bool {
    let mut done = 0;
    while done < out.len() {
        // SAFETY: the pointer and length describe the unfilled tail of `out`.
        let n = unsafe { libc::getrandom(out[done..].as_mut_ptr().cast(), out.len() - done, 0) };
        if n > 0 {
            done += n as usize;
        } else if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        } else {
            return false;
        }
    }
    true
}

/// The callback form both Mbed TLS random hooks share: fill `len` bytes at
/// `output` and report the count in `*olen`; false on bad pointers or an
/// OS failure (then `*olen` is 0).
///
/// # Safety
/// `output` is valid for `len` bytes and `olen` for one write.
unsafe fn fill_os_random(output: *mut u8, len: usize, olen: *mut usize) -> bool {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if olen.is_null() || (output.is_null() && len > 0) {
            return false;
        }
        *olen = 0;
        if len > 0 && !os_random(std::slice::from_raw_parts_mut(output, len)) {
            return false;
        }
        *olen = len;
        true
    }
}

/// PSA's random source (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG): the OS directly.
///
/// # Safety
/// Called by Mbed TLS only, with the context pointer registered alongside the
/// callback and every other pointer valid for the length it passes.
#[no_mangle]
unsafe extern "C" fn mbedtls_psa_external_get_random(
    _context: *mut libc::c_void,
    output: *mut u8,
    output_size: usize,
    output_length: *mut usize,
) -> sys::psa_status_t {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        const PSA_ERROR_INSUFFICIENT_ENTROPY: sys::psa_status_t = -148;
        if fill_os_random(output, output_size, output_length) {
            0
        } else {
            PSA_ERROR_INSUFFICIENT_ENTROPY
        }
    }
}

/// The entropy pool's source (the bundled config has no platform source).
///
/// # Safety
/// Called by Mbed TLS only, with the context pointer registered alongside the
/// callback and every other pointer valid for the length it passes.
unsafe extern "C" fn entropy_source(
    _data: *mut libc::c_void,
    output: *mut u8,
    len: usize,
    olen: *mut usize,
) -> libc::c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if fill_os_random(output, len, olen) {
            0
        } else {
            sys::ERR_ENTROPY_SOURCE_FAILED as libc::c_int
        }
    }
}

/// Register the OS source with a freshly initialised entropy context.
///
/// # Safety
/// `ctx` points to an initialised `entropy_context`.
pub(crate) unsafe fn add_entropy_source(ctx: *mut sys::entropy_context) -> i32 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        sys::entropy_add_source(
            ctx,
            Some(entropy_source),
            std::ptr::null_mut(),
            32,
            sys::ENTROPY_SOURCE_STRONG as libc::c_int,
        )
    }
}

// ---- Clocks -------------------------------------------------------------------

/// `mbedtls_time` / `mbedtls_ms_time`: milliseconds since the Unix epoch
/// (ticket lifetimes, session-cache expiry, TLS 1.3 ticket ages).
struct Clock;

impl MbedtlsTimer for Clock {
    fn now(&self) -> sys::ms_time_t {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as sys::ms_time_t)
            .unwrap_or(0)
    }
}

impl MbedtlsWallClock for Clock {
    /// UTC now, for certificate validity. `None` (a clock before 1970) makes
    /// Mbed TLS treat every certificate as outside its validity: fail closed.
    fn instant(&self) -> Option<mbedtls_rs_sys::tm> {
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        let t = libc::time_t::try_from(secs).ok()?;
        // SAFETY: an all-zero `tm` is a valid value (plain integers).
        let mut out: libc::tm = unsafe { std::mem::zeroed() };
        // SAFETY: gmtime_r writes only into `out`.
        if unsafe { libc::gmtime_r(&t, &mut out) }.is_null() {
            return None;
        }
        Some(mbedtls_rs_sys::tm {
            tm_sec: out.tm_sec,
            tm_min: out.tm_min,
            tm_hour: out.tm_hour,
            tm_mday: out.tm_mday,
            tm_mon: out.tm_mon,
            tm_year: out.tm_year,
            tm_wday: out.tm_wday,
            tm_yday: out.tm_yday,
            tm_isdst: 0,
        })
    }
}

static CLOCK: Clock = Clock;
static INSTALL: Once = Once::new();

/// Idempotent and thread-safe; see the module comment for the ordering.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        // build.rs refuses to build the bundled engine without the threading
        // defines from .cargo/config.toml; this catches a C build and our
        // bindings that disagree (e.g. a stale mbedtls-rs-sys build).
        let feature = c"MBEDTLS_THREADING_ALT";
        // SAFETY: a NUL-terminated name.
        if unsafe { sys::version_check_feature(feature.as_ptr()) } != 0 {
            panic!(
                "the bundled Mbed TLS was built without its threading layer: \
                 run `cargo clean -p mbedtls-rs-sys` and build inside the repository \
                 (.cargo/config.toml switches it on)"
            );
        }
        // SAFETY: called once, before any context exists; the functions and
        // the clock live for the whole process. Never undone: the library
        // may be in use until the process exits.
        unsafe {
            sys::threading_set_alt(
                Some(mutex_init),
                Some(mutex_free),
                Some(mutex_lock),
                Some(mutex_unlock),
            );
            hook_timer(Some(&CLOCK));
            hook_wall_clock(Some(&CLOCK));
        }
        super::aes::install();
        super::digest::install();
        super::ecc::install();
    });
}
