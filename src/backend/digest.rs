//! SHA-224/256/384/512 of the bundled Mbed TLS computed by AWS-LC (issue
//! #18): the bundled C is built `-Os` without SHA-NI or assembly, and its
//! hashing (handshake transcripts, HKDF, certificate signatures, the DRBG)
//! was 6% of a full handshake's CPU once the curve arithmetic was hooked.
//! AWS-LC picks SHA-NI / AVX2 / plain code at run time. mbedtls-rs-sys
//! replaces `mbedtls_sha256_*` / `mbedtls_sha512_*` with hooks that keep a
//! digest's state in a work area inside Mbed TLS's context; AWS-LC's
//! plain-data `SHA256_CTX` / `SHA512_CTX` lives there.
//!
//! Installed once by `platform::install`, before any Mbed TLS context
//! exists (a context started on one implementation must not continue on
//! the other).

use std::ffi::{c_int, c_void};
use std::mem::MaybeUninit;

use aws_lc_sys as awslc;
use mbedtls_rs_sys::hook::digest::{
    hook_sha224, hook_sha256, hook_sha384, hook_sha512, MbedtlsDigest, MbedtlsSha224,
    MbedtlsSha256, MbedtlsSha384, MbedtlsSha512,
};
use mbedtls_rs_sys::hook::{WorkArea, WorkAreaMemory};
use zeroize::Zeroize;

/// Updates run through these hooks (tests check Mbed TLS really calls them).
#[cfg(test)]
pub(crate) static UPDATES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One AWS-LC digest over its context type `C` (plain data, so it can be
/// copied and wiped as bytes).
struct Sha<C: 'static> {
    out: usize,
    init: unsafe extern "C" fn(*mut C) -> c_int,
    update: unsafe extern "C" fn(*mut C, *const c_void, usize) -> c_int,
    finish: unsafe extern "C" fn(*mut u8, *mut C) -> c_int,
}

// SAFETY: the function pointers are plain code addresses.
unsafe impl<C> Sync for Sha<C> {}
// SAFETY: as for Sync, above.
unsafe impl<C> Send for Sha<C> {}

impl<C> MbedtlsDigest for Sha<C> {
    fn output_size(&self, _memory: &WorkAreaMemory) -> usize {
        self.out
    }

    fn init(&self, memory: &mut WorkAreaMemory) {
        self.reset(memory);
    }

    fn free(&self, memory: &mut WorkAreaMemory) {
        memory.zeroize();
    }

    fn reset(&self, memory: &mut WorkAreaMemory) {
        // SAFETY: C's alignment is at most 8 and the work area fits it (the
        // crate's sizes: 208 bytes for SHA-256, 304 for SHA-512; AWS-LC's
        // contexts are 112 and 216); Init writes the whole state.
        unsafe {
            let ctx: &mut MaybeUninit<C> = memory.cast_mut_maybe();
            (self.init)(ctx.as_mut_ptr());
        }
    }

    fn update(&self, memory: &mut WorkAreaMemory, data: &[u8]) {
        #[cfg(test)]
        UPDATES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: the state was written by `reset` (Mbed TLS calls starts
        // before update); `data` is a valid slice.
        unsafe { (self.update)(memory.cast_mut::<C>(), data.as_ptr().cast(), data.len()) };
    }

    fn finish(&self, memory: &mut WorkAreaMemory, output: &mut [u8]) {
        debug_assert_eq!(output.len(), self.out);
        // SAFETY: as in `update`; `output` has `self.out` bytes.
        unsafe { (self.finish)(output.as_mut_ptr(), memory.cast_mut::<C>()) };
    }

    fn clone(&self, src: &WorkAreaMemory, dst: &mut WorkAreaMemory) {
        // A typed copy: the two work areas may place the state at different
        // offsets.
        // SAFETY: `src` holds an initialised C; C is plain data.
        unsafe {
            let from: *const C = src.cast::<C>();
            let to: &mut MaybeUninit<C> = dst.cast_mut_maybe();
            std::ptr::copy_nonoverlapping(from, to.as_mut_ptr(), 1);
        }
    }
}

impl MbedtlsSha224 for Sha<awslc::SHA256_CTX> {}
impl MbedtlsSha256 for Sha<awslc::SHA256_CTX> {}
impl MbedtlsSha384 for Sha<awslc::SHA512_CTX> {}
impl MbedtlsSha512 for Sha<awslc::SHA512_CTX> {}

static SHA224: Sha<awslc::SHA256_CTX> = Sha {
    out: 28,
    init: awslc::SHA224_Init,
    update: awslc::SHA224_Update,
    finish: awslc::SHA224_Final,
};
static SHA256: Sha<awslc::SHA256_CTX> = Sha {
    out: 32,
    init: awslc::SHA256_Init,
    update: awslc::SHA256_Update,
    finish: awslc::SHA256_Final,
};
static SHA384: Sha<awslc::SHA512_CTX> = Sha {
    out: 48,
    init: awslc::SHA384_Init,
    update: awslc::SHA384_Update,
    finish: awslc::SHA384_Final,
};
static SHA512: Sha<awslc::SHA512_CTX> = Sha {
    out: 64,
    init: awslc::SHA512_Init,
    update: awslc::SHA512_Update,
    finish: awslc::SHA512_Final,
};

/// Plug AWS-LC's SHA-2 in. Called once from `platform::install`.
pub(crate) fn install() {
    // SAFETY: before any Mbed TLS digest context exists; static impls.
    unsafe {
        hook_sha224(Some(&SHA224));
        hook_sha256(Some(&SHA256));
        hook_sha384(Some(&SHA384));
        hook_sha512(Some(&SHA512));
    }
}
