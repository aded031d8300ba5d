//! AES-GCM of the bundled Mbed TLS computed by AWS-LC: the `MBEDTLS_GCM_ALT`
//! entry points (`mbedtls_gcm_*`, declared in src/backend/include/gcm_alt.h,
//! switched on from .cargo/config.toml).
//!
//! Why: everything on Mbed TLS's record layer (DTLS records, TLS before the
//! fast record layer takes over, session tickets) seals and opens records
//! with `mbedtls_gcm_crypt_and_tag` / `mbedtls_gcm_auth_decrypt`. Mbed TLS's
//! own GCM multiplies in GF(2^128) with 4-bit tables (slow, and its memory
//! accesses depend on secret state: a cache-timing channel) and calls the AES
//! hook (src/backend/aes.rs) once per 16-byte block, each call entering
//! mbedtls-rs-sys's process-wide critical section. AWS-LC's AES-GCM (AES-NI
//! with carry-less multiplication, or its constant-time fallbacks) does the
//! whole record in one call; the DTLS echo bench went from 0.3x OpenSSL to
//! about 1x.
//!
//! No cryptography here: the one-shot AES calls with a 12-byte IV and a
//! 16-byte tag (what TLS and DTLS use) go to AWS-LC's `EVP_AEAD`, whose
//! open checks the tag itself (constant-time) and fails closed. Everything
//! else - other ciphers (ARIA, Camellia), other IV or tag lengths, the
//! streaming API - goes to Mbed TLS's own GCM, compiled next to these under
//! `mbedtls_gcm_*_soft` names (`MBEDTLS_GCM_NON_AES_CIPHER_SOFT_FALLBACK`):
//! behaviour there is unchanged. For an AES key that context is created and
//! keyed only when first needed (from the key kept in the context), so a
//! connection does not carry both (about 1 KiB each).
//!
//! The context (gcm_alt.h) holds two heap pointers and the AES key. Mbed TLS
//! never copies a GCM context (the cipher layer allocates one per cipher
//! context, PSA keeps one inside an operation it never copies);
//! `mbedtls_gcm_free` releases both and wipes the key.

use std::ffi::{c_int, c_uchar, c_uint};
use std::ptr;

use aws_lc_sys as awslc;
use zeroize::Zeroize;

use super::sys;

type Ctx = sys::gcm_context;
type Soft = sys::gcm_context_soft;

/// The tag and IV lengths AWS-LC serves; other lengths use the soft GCM.
const TAG_LEN: usize = 16;
const IV_LEN: usize = 12;

// Mbed TLS's own GCM, renamed by MBEDTLS_GCM_NON_AES_CIPHER_SOFT_FALLBACK
// (library/gcm.c); gcm.h declares it under the plain names, so the
// declarations are here.
extern "C" {
    fn mbedtls_gcm_init_soft(ctx: *mut Soft);
    fn mbedtls_gcm_free_soft(ctx: *mut Soft);
    fn mbedtls_gcm_setkey_soft(
        ctx: *mut Soft,
        cipher: sys::cipher_id_t,
        key: *const c_uchar,
        keybits: c_uint,
    ) -> c_int;
    fn mbedtls_gcm_crypt_and_tag_soft(
        ctx: *mut Soft,
        mode: c_int,
        length: usize,
        iv: *const c_uchar,
        iv_len: usize,
        add: *const c_uchar,
        add_len: usize,
        input: *const c_uchar,
        output: *mut c_uchar,
        tag_len: usize,
        tag: *mut c_uchar,
    ) -> c_int;
    fn mbedtls_gcm_auth_decrypt_soft(
        ctx: *mut Soft,
        length: usize,
        iv: *const c_uchar,
        iv_len: usize,
        add: *const c_uchar,
        add_len: usize,
        tag: *const c_uchar,
        tag_len: usize,
        input: *const c_uchar,
        output: *mut c_uchar,
    ) -> c_int;
    fn mbedtls_gcm_starts_soft(
        ctx: *mut Soft,
        mode: c_int,
        iv: *const c_uchar,
        iv_len: usize,
    ) -> c_int;
    fn mbedtls_gcm_update_ad_soft(ctx: *mut Soft, add: *const c_uchar, add_len: usize) -> c_int;
    fn mbedtls_gcm_update_soft(
        ctx: *mut Soft,
        input: *const c_uchar,
        input_length: usize,
        output: *mut c_uchar,
        output_size: usize,
        output_length: *mut usize,
    ) -> c_int;
    fn mbedtls_gcm_finish_soft(
        ctx: *mut Soft,
        output: *mut c_uchar,
        output_size: usize,
        output_length: *mut usize,
        tag: *mut c_uchar,
        tag_len: usize,
    ) -> c_int;
}

const BAD_INPUT: c_int = sys::ERR_GCM_BAD_INPUT as c_int;

/// Mbed TLS's own GCM context keyed like `ctx`: created on first use for
/// an AES key (kept in `ctx`); BAD_INPUT when the context was never keyed.
fn soft(ctx: *mut Ctx) -> Result<*mut Soft, c_int> {
    // SAFETY: Mbed TLS passes a context it initialised (mbedtls_gcm_init).
    let c = unsafe { &mut *ctx };
    if !c.soft.is_null() {
        return Ok(c.soft.cast());
    }
    if c.keybits == 0 {
        return Err(BAD_INPUT);
    }
    // SAFETY: a fresh allocation, initialised before use; `key` holds
    // `keybits / 8` bytes.
    unsafe {
        let s = new_soft()?;
        let rc = mbedtls_gcm_setkey_soft(
            s,
            sys::CIPHER_ID_AES as sys::cipher_id_t,
            c.key.as_ptr(),
            c.keybits,
        );
        if rc != 0 {
            free_soft(s);
            return Err(rc);
        }
        c.soft = s.cast();
        Ok(s)
    }
}

/// An initialised, unkeyed soft context on the heap.
fn new_soft() -> Result<*mut Soft, c_int> {
    // SAFETY: a zeroed allocation of the struct's size, then its init.
    unsafe {
        let s = libc::calloc(1, std::mem::size_of::<Soft>()).cast::<Soft>();
        if s.is_null() {
            return Err(sys::ERR_CIPHER_ALLOC_FAILED as c_int);
        }
        mbedtls_gcm_init_soft(s);
        Ok(s)
    }
}

/// # Safety
/// `s` came from `new_soft` and is not used again.
unsafe fn free_soft(s: *mut Soft) {
    // SAFETY: as the contract.
    unsafe {
        mbedtls_gcm_free_soft(s); // wipes its key schedule
        libc::free(s.cast());
    }
}

/// # Safety
/// `ctx` points to a context that is initialised or all zero.
unsafe fn release(ctx: *mut Ctx) {
    // SAFETY: the pointers are null or what `mbedtls_gcm_setkey` allocated.
    unsafe {
        let aead = (*ctx).aead.cast::<awslc::EVP_AEAD_CTX>();
        if !aead.is_null() {
            awslc::EVP_AEAD_CTX_free(aead); // wipes the key schedule
        }
        let s = (*ctx).soft.cast::<Soft>();
        if !s.is_null() {
            free_soft(s);
        }
        (*ctx).aead = ptr::null_mut();
        (*ctx).soft = ptr::null_mut();
        (*ctx).key.zeroize();
        (*ctx).keybits = 0;
    }
}

/// # Safety
/// Called by Mbed TLS with a context to initialise.
#[no_mangle]
pub(crate) unsafe extern "C" fn mbedtls_gcm_init(ctx: *mut Ctx) {
    // SAFETY: a writable context; nothing is allocated until setkey.
    unsafe {
        (*ctx).aead = ptr::null_mut();
        (*ctx).soft = ptr::null_mut();
        (*ctx).key = [0; 32];
        (*ctx).keybits = 0;
    }
}

/// # Safety
/// Called by Mbed TLS with an initialised (or all-zero) context, or NULL.
#[no_mangle]
pub(crate) unsafe extern "C" fn mbedtls_gcm_free(ctx: *mut Ctx) {
    if !ctx.is_null() {
        // SAFETY: as this function's contract.
        unsafe { release(ctx) };
    }
}

/// # Safety
/// Called by Mbed TLS with an initialised context and `keybits / 8` key bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn mbedtls_gcm_setkey(
    ctx: *mut Ctx,
    cipher: sys::cipher_id_t,
    key: *const c_uchar,
    keybits: c_uint,
) -> c_int {
    // SAFETY: as this function's contract.
    unsafe {
        release(ctx);
        if cipher == sys::CIPHER_ID_AES as sys::cipher_id_t {
            let aead = match keybits {
                128 => awslc::EVP_aead_aes_128_gcm(),
                192 => awslc::EVP_aead_aes_192_gcm(),
                256 => awslc::EVP_aead_aes_256_gcm(),
                _ => ptr::null(),
            };
            let len = keybits as usize / 8;
            if !aead.is_null() {
                let a = awslc::EVP_AEAD_CTX_new(aead, key, len, TAG_LEN);
                // NULL (out of memory): Mbed TLS's GCM below serves instead.
                if !a.is_null() {
                    (*ctx).aead = a.cast();
                    let c = &mut *ctx;
                    c.key[..len].copy_from_slice(std::slice::from_raw_parts(key, len));
                    c.keybits = keybits;
                    return 0;
                }
            }
        }
        // Other ciphers (and bad key lengths: Mbed TLS's own errors).
        let s = match new_soft() {
            Ok(s) => s,
            Err(rc) => return rc,
        };
        let rc = mbedtls_gcm_setkey_soft(s, cipher, key, keybits);
        if rc != 0 {
            free_soft(s);
            return rc;
        }
        (*ctx).soft = s.cast();
        0
    }
}

/// AWS-LC's context when it serves this call: its lengths, and input and
/// output either the same buffer or disjoint (AWS-LC's rule; Mbed TLS also
/// allows an output trailing the input by 8 bytes or more, which its own
/// GCM then serves).
fn aead(
    ctx: *mut Ctx,
    iv_len: usize,
    tag_len: usize,
    input: *const c_uchar,
    output: *const c_uchar,
    length: usize,
) -> Option<*const awslc::EVP_AEAD_CTX> {
    // SAFETY: an initialised context.
    let a = unsafe { (*ctx).aead }.cast::<awslc::EVP_AEAD_CTX>();
    let (i, o) = (input as usize, output as usize);
    let overlap = i != o && i < o.wrapping_add(length) && o < i.wrapping_add(length);
    (!a.is_null() && iv_len == IV_LEN && tag_len == TAG_LEN && !overlap).then_some(a.cast_const())
}

/// # Safety
/// Mbed TLS's contract for `mbedtls_gcm_crypt_and_tag` (gcm.h).
#[no_mangle]
pub(crate) unsafe extern "C" fn mbedtls_gcm_crypt_and_tag(
    ctx: *mut Ctx,
    mode: c_int,
    length: usize,
    iv: *const c_uchar,
    iv_len: usize,
    add: *const c_uchar,
    add_len: usize,
    input: *const c_uchar,
    output: *mut c_uchar,
    tag_len: usize,
    tag: *mut c_uchar,
) -> c_int {
    if mode == sys::GCM_ENCRYPT as c_int {
        if let Some(a) = aead(ctx, iv_len, tag_len, input, output, length) {
            let mut out_tag_len = 0usize;
            // SAFETY: the caller's buffers: `length` bytes in and out (in
            // place allowed), `tag_len` (16) tag bytes, the IV and AD.
            let ok = unsafe {
                awslc::EVP_AEAD_CTX_seal_scatter(
                    a,
                    output,
                    tag,
                    &mut out_tag_len,
                    tag_len,
                    iv,
                    iv_len,
                    input,
                    length,
                    ptr::null(),
                    0,
                    add,
                    add_len,
                )
            };
            return if ok == 1 && out_tag_len == TAG_LEN {
                0
            } else {
                BAD_INPUT
            };
        }
    }
    // Decryption through this call returns the tag without checking it
    // (gcm.h); Mbed TLS's own code does that.
    match soft(ctx) {
        // SAFETY: the caller's contract, forwarded unchanged.
        Ok(s) => unsafe {
            mbedtls_gcm_crypt_and_tag_soft(
                s, mode, length, iv, iv_len, add, add_len, input, output, tag_len, tag,
            )
        },
        Err(rc) => rc,
    }
}

/// # Safety
/// Mbed TLS's contract for `mbedtls_gcm_auth_decrypt` (gcm.h).
#[no_mangle]
pub(crate) unsafe extern "C" fn mbedtls_gcm_auth_decrypt(
    ctx: *mut Ctx,
    length: usize,
    iv: *const c_uchar,
    iv_len: usize,
    add: *const c_uchar,
    add_len: usize,
    tag: *const c_uchar,
    tag_len: usize,
    input: *const c_uchar,
    output: *mut c_uchar,
) -> c_int {
    if let Some(a) = aead(ctx, iv_len, tag_len, input, output, length) {
        // SAFETY: the caller's buffers: `length` bytes in and out (in place
        // allowed), the tag, IV and AD.
        let ok = unsafe {
            awslc::EVP_AEAD_CTX_open_gather(
                a, output, iv, iv_len, input, length, tag, tag_len, add, add_len,
            )
        };
        if ok == 1 {
            return 0;
        }
        // As Mbed TLS: no unauthenticated plaintext left behind.
        if length > 0 {
            // SAFETY: `length` writable output bytes.
            unsafe { ptr::write_bytes(output, 0, length) };
        }
        return sys::ERR_GCM_AUTH_FAILED as c_int;
    }
    match soft(ctx) {
        // SAFETY: the caller's contract, forwarded unchanged.
        Ok(s) => unsafe {
            mbedtls_gcm_auth_decrypt_soft(
                s, length, iv, iv_len, add, add_len, tag, tag_len, input, output,
            )
        },
        Err(rc) => rc,
    }
}

// The streaming API: Mbed TLS's own GCM (the cipher layer's and PSA's
// multi-part AEAD; not on the record path).

/// # Safety
/// Mbed TLS's contract for `mbedtls_gcm_starts` (gcm.h).
#[no_mangle]
pub(crate) unsafe extern "C" fn mbedtls_gcm_starts(
    ctx: *mut Ctx,
    mode: c_int,
    iv: *const c_uchar,
    iv_len: usize,
) -> c_int {
    match soft(ctx) {
        // SAFETY: the caller's contract, forwarded unchanged.
        Ok(s) => unsafe { mbedtls_gcm_starts_soft(s, mode, iv, iv_len) },
        Err(rc) => rc,
    }
}

/// # Safety
/// Mbed TLS's contract for `mbedtls_gcm_update_ad` (gcm.h).
#[no_mangle]
pub(crate) unsafe extern "C" fn mbedtls_gcm_update_ad(
    ctx: *mut Ctx,
    add: *const c_uchar,
    add_len: usize,
) -> c_int {
    match soft(ctx) {
        // SAFETY: the caller's contract, forwarded unchanged.
        Ok(s) => unsafe { mbedtls_gcm_update_ad_soft(s, add, add_len) },
        Err(rc) => rc,
    }
}

/// # Safety
/// Mbed TLS's contract for `mbedtls_gcm_update` (gcm.h).
#[no_mangle]
pub(crate) unsafe extern "C" fn mbedtls_gcm_update(
    ctx: *mut Ctx,
    input: *const c_uchar,
    input_length: usize,
    output: *mut c_uchar,
    output_size: usize,
    output_length: *mut usize,
) -> c_int {
    match soft(ctx) {
        // SAFETY: the caller's contract, forwarded unchanged.
        Ok(s) => unsafe {
            mbedtls_gcm_update_soft(s, input, input_length, output, output_size, output_length)
        },
        Err(rc) => rc,
    }
}

/// # Safety
/// Mbed TLS's contract for `mbedtls_gcm_finish` (gcm.h).
#[no_mangle]
pub(crate) unsafe extern "C" fn mbedtls_gcm_finish(
    ctx: *mut Ctx,
    output: *mut c_uchar,
    output_size: usize,
    output_length: *mut usize,
    tag: *mut c_uchar,
    tag_len: usize,
) -> c_int {
    match soft(ctx) {
        // SAFETY: the caller's contract, forwarded unchanged.
        Ok(s) => unsafe {
            mbedtls_gcm_finish_soft(s, output, output_size, output_length, tag, tag_len)
        },
        Err(rc) => rc,
    }
}
