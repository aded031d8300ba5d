//! CTR_DRBG instances seeded from the shared entropy source, reseeded after
//! `fork()`. Each TLS configuration has its own DRBG so handshakes on
//! different configurations never contend; `GLOBAL` serves the helpers.

#[cfg(not(mbedtls_4))]
use std::sync::atomic::Ordering;
#[cfg(not(mbedtls_4))]
use std::sync::Mutex;

use std::sync::LazyLock;

#[cfg(not(mbedtls_4))]
use super::entropy::{ENTROPY, FORK_GENERATION};
use super::errors::mbed_error;
use super::sys;
use crate::error::{Code, Result};

#[cfg(not(mbedtls_4))]
struct DrbgState {
    ctx: Box<sys::ctr_drbg_context>,
    seeded_generation: usize,
}

#[cfg(not(mbedtls_4))]
pub struct Drbg {
    state: Mutex<DrbgState>,
}

/// Mbed TLS 4.x: PSA's own DRBG is the only RNG.
#[cfg(mbedtls_4)]
pub struct Drbg {
    _unit: (),
}

// SAFETY: the context is only touched under the mutex.
unsafe impl Send for Drbg {}
// SAFETY: as for Send, above.
unsafe impl Sync for Drbg {}

#[cfg(not(mbedtls_4))]
const PERSONALIZATION: &[u8] = b"mojo-tls";

#[cfg(mbedtls_4)]
impl Drbg {
    pub fn new() -> Result<Drbg> {
        // psa_generate_random needs PSA initialised (BAD_STATE otherwise);
        // GLOBAL may be reached before ensure_init.
        match super::psa::psa_init() {
            0 => Ok(Drbg { _unit: () }),
            ret => Err(mbed_error(
                ret,
                Code::MOJO_TLS_ERR_INTERNAL,
                "PSA crypto initialisation",
            )),
        }
    }

    pub fn fill(&self, out: &mut [u8]) -> i32 {
        super::psa::psa_rng_after_fork();
        // SAFETY: out is valid for its length.
        unsafe { sys::psa_generate_random(out.as_mut_ptr(), out.len()) }
    }
}

#[cfg(not(mbedtls_4))]
impl Drbg {
    pub fn new() -> Result<Drbg> {
        // SAFETY: zeroed memory is valid input to ctr_drbg_init; the entropy
        // context is 'static.
        unsafe {
            let mut ctx: Box<sys::ctr_drbg_context> = Box::new(std::mem::zeroed());
            sys::ctr_drbg_init(&mut *ctx);
            let entropy = &*ENTROPY.0 as *const sys::entropy_context as *mut libc::c_void;
            let ret = sys::ctr_drbg_seed(
                &mut *ctx,
                Some(sys::entropy_func),
                entropy,
                PERSONALIZATION.as_ptr(),
                PERSONALIZATION.len(),
            );
            if ret != 0 {
                sys::ctr_drbg_free(&mut *ctx);
                return Err(mbed_error(
                    ret,
                    Code::MOJO_TLS_ERR_INTERNAL,
                    "seeding the DRBG",
                ));
            }
            Ok(Drbg {
                state: Mutex::new(DrbgState {
                    ctx,
                    seeded_generation: FORK_GENERATION.load(Ordering::SeqCst),
                }),
            })
        }
    }

    /// Fill `out` with random bytes; returns the Mbed TLS code (0 on success).
    pub fn fill(&self, out: &mut [u8]) -> i32 {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let generation = FORK_GENERATION.load(Ordering::SeqCst);
        // SAFETY: the context is initialised and seeded; access is exclusive.
        unsafe {
            if st.seeded_generation != generation {
                let ret = sys::ctr_drbg_reseed(&mut *st.ctx, std::ptr::null(), 0);
                if ret != 0 {
                    return ret;
                }
                st.seeded_generation = generation;
            }
            // ctr_drbg_random is limited to MBEDTLS_CTR_DRBG_MAX_REQUEST per call.
            for chunk in out.chunks_mut(1024) {
                let ret = sys::ctr_drbg_random(
                    &mut *st.ctx as *mut _ as *mut libc::c_void,
                    chunk.as_mut_ptr(),
                    chunk.len(),
                );
                if ret != 0 {
                    return ret;
                }
            }
        }
        0
    }
}

impl Drbg {
    /// The `f_rng` callback handed to Mbed TLS, with `self` as `p_rng`.
    ///
    /// # Safety
    /// Called by Mbed TLS as `f_rng`: `p` is a live `Drbg` (from `as_ptr`),
    /// `out` is valid for `len` bytes.
    pub(crate) unsafe extern "C" fn callback(
        p: *mut libc::c_void,
        out: *mut u8,
        len: usize,
    ) -> i32 {
        // SAFETY: the caller upholds this function's `# Safety` contract,
        // which is what the unsafe operations below rely on.
        unsafe {
            if p.is_null() || (out.is_null() && len > 0) {
                return -1;
            }
            let drbg = &*(p as *const Drbg);
            if len == 0 {
                return 0;
            }
            drbg.fill(std::slice::from_raw_parts_mut(out, len))
        }
    }

    pub(crate) fn as_ptr(&self) -> *mut libc::c_void {
        self as *const Drbg as *mut libc::c_void
    }

    /// An `f_rng` for calls that need one but no particular context.
    ///
    /// # Safety
    /// Called by Mbed TLS as `f_rng`: `out` is valid for `len` bytes.
    #[cfg(mbedtls_3)]
    pub(crate) unsafe extern "C" fn global_callback(
        _p: *mut libc::c_void,
        out: *mut u8,
        len: usize,
    ) -> i32 {
        // SAFETY: the caller upholds this function's `# Safety` contract,
        // which is what the unsafe operations below rely on.
        unsafe { Drbg::callback(GLOBAL.as_ptr(), out, len) }
    }
}

#[cfg(not(mbedtls_4))]
impl Drop for Drbg {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        // SAFETY: initialised in new(), freed exactly once.
        unsafe { sys::ctr_drbg_free(&mut *st.ctx) };
    }
}

pub(crate) static GLOBAL: LazyLock<Drbg> =
    LazyLock::new(|| Drbg::new().expect("cannot seed the global DRBG from the OS entropy source"));

/// Cryptographically secure random bytes.
pub fn random(out: &mut [u8]) -> Result<()> {
    match GLOBAL.fill(out) {
        0 => Ok(()),
        ret => Err(mbed_error(
            ret,
            Code::MOJO_TLS_ERR_INTERNAL,
            "random generator",
        )),
    }
}
