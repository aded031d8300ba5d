//! The GCM entry points (src/backend/gcm.rs) against Mbed TLS's own GCM
//! (the `_soft` functions) and ring: both directions, every key size, odd
//! lengths, in place, forged tags, the fallback lengths and ciphers, and
//! the streaming API.

use std::ffi::c_int;

use super::gcm::*;
use super::sys;

type Ctx = sys::gcm_context;

fn keyed(cipher: u32, key: &[u8]) -> Ctx {
    // SAFETY: a local context, initialised then keyed.
    unsafe {
        let mut ctx: Ctx = std::mem::zeroed();
        mbedtls_gcm_init(&mut ctx);
        let rc = mbedtls_gcm_setkey(
            &mut ctx,
            cipher as sys::cipher_id_t,
            key.as_ptr(),
            (key.len() * 8) as u32,
        );
        assert_eq!(rc, 0, "setkey");
        ctx
    }
}

fn seal(ctx: &mut Ctx, iv: &[u8], aad: &[u8], plain: &[u8], tag_len: usize) -> (Vec<u8>, Vec<u8>) {
    let mut out = plain.to_vec(); // in place
    let mut tag = vec![0u8; tag_len];
    // SAFETY: buffers of the stated lengths.
    let rc = unsafe {
        mbedtls_gcm_crypt_and_tag(
            ctx,
            sys::GCM_ENCRYPT as c_int,
            out.len(),
            iv.as_ptr(),
            iv.len(),
            aad.as_ptr(),
            aad.len(),
            out.as_ptr(),
            out.as_mut_ptr(),
            tag_len,
            tag.as_mut_ptr(),
        )
    };
    assert_eq!(rc, 0, "seal");
    (out, tag)
}

fn open(ctx: &mut Ctx, iv: &[u8], aad: &[u8], ct: &[u8], tag: &[u8]) -> (c_int, Vec<u8>) {
    let mut out = vec![0x55u8; ct.len()];
    // SAFETY: buffers of the stated lengths.
    let rc = unsafe {
        mbedtls_gcm_auth_decrypt(
            ctx,
            ct.len(),
            iv.as_ptr(),
            iv.len(),
            aad.as_ptr(),
            aad.len(),
            tag.as_ptr(),
            tag.len(),
            ct.as_ptr(),
            out.as_mut_ptr(),
        )
    };
    (rc, out)
}

/// Mbed TLS's own GCM by the streaming API (always the soft code), in
/// uneven pieces.
fn seal_streaming(
    ctx: &mut Ctx,
    iv: &[u8],
    aad: &[u8],
    plain: &[u8],
    tag_len: usize,
) -> (Vec<u8>, Vec<u8>) {
    let mut out = vec![0u8; plain.len()];
    let mut tag = vec![0u8; tag_len];
    // SAFETY: buffers of the stated lengths.
    unsafe {
        assert_eq!(
            mbedtls_gcm_starts(ctx, sys::GCM_ENCRYPT as c_int, iv.as_ptr(), iv.len()),
            0
        );
        assert_eq!(mbedtls_gcm_update_ad(ctx, aad.as_ptr(), aad.len()), 0);
        let mut done = 0;
        for piece in plain.chunks(7) {
            let mut n = 0;
            let rc = mbedtls_gcm_update(
                ctx,
                piece.as_ptr(),
                piece.len(),
                out.as_mut_ptr().add(done),
                out.len() - done,
                &mut n,
            );
            assert_eq!(rc, 0);
            done += n;
        }
        let mut n = 0;
        let rc = mbedtls_gcm_finish(
            ctx,
            out.as_mut_ptr().add(done),
            out.len() - done,
            &mut n,
            tag.as_mut_ptr(),
            tag_len,
        );
        assert_eq!(rc, 0);
        assert_eq!(done + n, plain.len());
    }
    (out, tag)
}

fn free(mut ctx: Ctx) {
    // SAFETY: a keyed context, freed once.
    unsafe { mbedtls_gcm_free(&mut ctx) };
}

#[test]
fn aws_lc_path_agrees_with_mbedtls_and_ring() {
    super::platform::install();
    let mut seed = [0u8; 32];
    assert!(super::platform::os_random(&mut seed));
    for key_len in [16usize, 24, 32] {
        let key = &seed[..key_len];
        let mut ctx = keyed(sys::CIPHER_ID_AES, key);
        assert!(!ctx.aead.is_null(), "AES-{} not on AWS-LC", key_len * 8);
        assert!(
            ctx.soft.is_null(),
            "Mbed TLS's GCM keyed before it was needed"
        );
        for i in 0..120usize {
            let len = (i * 53) % 1700;
            let plain: Vec<u8> = (0..len).map(|j| (j * 13 + i) as u8).collect();
            let aad: Vec<u8> = (0..(i % 40)).map(|j| j as u8).collect();
            let iv = [i as u8 ^ 0x3c; 12];
            let (ct, tag) = seal(&mut ctx, &iv, &aad, &plain, 16);
            // Mbed TLS's own GCM (streaming) computes the same.
            let (ct2, tag2) = seal_streaming(&mut ctx, &iv, &aad, &plain, 16);
            assert_eq!((&ct, &tag), (&ct2, &tag2), "len {len}");
            assert!(!ctx.soft.is_null());
            if key_len != 24 {
                use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
                let alg = if key_len == 16 {
                    &AES_128_GCM
                } else {
                    &AES_256_GCM
                };
                let k = LessSafeKey::new(UnboundKey::new(alg, key).unwrap());
                let mut want = plain.clone();
                let t = k
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(iv),
                        Aad::from(&aad[..]),
                        &mut want,
                    )
                    .unwrap();
                assert_eq!(
                    (&ct[..], &tag[..]),
                    (&want[..], t.as_ref()),
                    "ring, len {len}"
                );
            }
            let (rc, back) = open(&mut ctx, &iv, &aad, &ct, &tag);
            assert_eq!((rc, &back), (0, &plain));
        }
        free(ctx);
    }
}

#[test]
fn forgeries_fail_and_leave_no_plaintext() {
    super::platform::install();
    let mut ctx = keyed(sys::CIPHER_ID_AES, &[7u8; 16]);
    let iv = [1u8; 12];
    let plain = vec![0x42u8; 300];
    let (ct, tag) = seal(&mut ctx, &iv, b"ad", &plain, 16);
    let auth_failed = sys::ERR_GCM_AUTH_FAILED as c_int;
    let mut bad_tag = tag.clone();
    bad_tag[15] ^= 1;
    let mut bad_ct = ct.clone();
    bad_ct[100] ^= 0x80;
    for (ad, c, t) in [
        (&b"ad"[..], &ct, &bad_tag),
        (b"ad", &bad_ct, &tag),
        (b"aD", &ct, &tag),
    ] {
        let (rc, out) = open(&mut ctx, &iv, ad, c, t);
        assert_eq!(rc, auth_failed);
        assert!(
            out.iter().all(|&b| b == 0),
            "plaintext left after a failed open"
        );
    }
    free(ctx);
}

#[test]
fn other_lengths_and_ciphers_use_mbedtls_gcm() {
    super::platform::install();
    // A 12-byte tag and a 16-byte IV: Mbed TLS's own GCM, both directions.
    let mut ctx = keyed(sys::CIPHER_ID_AES, &[9u8; 32]);
    let plain = vec![3u8; 77];
    for (iv, tag_len) in [
        (&[5u8; 12][..], 12usize),
        (&[5u8; 16][..], 16),
        (&[5u8; 8][..], 4),
    ] {
        let (ct, tag) = seal(&mut ctx, iv, b"x", &plain, tag_len);
        let (ct2, tag2) = seal_streaming(&mut ctx, iv, b"x", &plain, tag_len);
        assert_eq!((&ct, &tag), (&ct2, &tag2));
        assert_eq!(open(&mut ctx, iv, b"x", &ct, &tag), (0, plain.clone()));
    }
    free(ctx);
    // ARIA-GCM: no AWS-LC context, Mbed TLS's GCM round-trips.
    let mut ctx = keyed(sys::CIPHER_ID_ARIA, &[4u8; 16]);
    assert!(ctx.aead.is_null());
    let (ct, tag) = seal(&mut ctx, &[0u8; 12], b"", &plain, 16);
    assert_ne!(ct, plain);
    assert_eq!(
        open(&mut ctx, &[0u8; 12], b"", &ct, &tag),
        (0, plain.clone())
    );
    free(ctx);
}

#[test]
fn unkeyed_and_bad_keys_are_errors() {
    super::platform::install();
    // SAFETY: local contexts; NULL buffers with zero lengths are never read.
    unsafe {
        let mut ctx: Ctx = std::mem::zeroed();
        mbedtls_gcm_init(&mut ctx);
        let rc = mbedtls_gcm_starts(&mut ctx, 1, [0u8; 12].as_ptr(), 12);
        assert_eq!(rc, sys::ERR_GCM_BAD_INPUT as c_int);
        let rc = mbedtls_gcm_setkey(
            &mut ctx,
            sys::CIPHER_ID_AES as sys::cipher_id_t,
            [0u8; 32].as_ptr(),
            100,
        );
        assert_ne!(rc, 0);
        assert!(ctx.aead.is_null() && ctx.soft.is_null() && ctx.keybits == 0);
        // Re-keying releases the previous keys (valgrind/ASan would see a leak).
        let key = [1u8; 16];
        for _ in 0..3 {
            let rc = mbedtls_gcm_setkey(
                &mut ctx,
                sys::CIPHER_ID_AES as sys::cipher_id_t,
                key.as_ptr(),
                128,
            );
            assert_eq!(rc, 0);
        }
        assert_eq!(mbedtls_gcm_starts(&mut ctx, 1, [0u8; 12].as_ptr(), 12), 0);
        mbedtls_gcm_free(&mut ctx);
        assert!(ctx.key.iter().all(|&b| b == 0), "key not wiped");
        mbedtls_gcm_free(&mut ctx); // twice: pointers were cleared
        mbedtls_gcm_free(std::ptr::null_mut());
    }
}

#[test]
fn trailing_output_overlap_as_mbedtls_allows() {
    super::platform::install();
    let mut ctx = keyed(sys::CIPHER_ID_AES, &[2u8; 16]);
    let iv = [6u8; 12];
    let plain: Vec<u8> = (0..200u8).collect();
    let (want, want_tag) = seal(&mut ctx, &iv, b"a", &plain, 16);
    // Output 8 bytes behind the input in one buffer (gcm.h allows it).
    let mut buf = vec![0u8; 8];
    buf.extend_from_slice(&plain);
    let mut tag = [0u8; 16];
    // SAFETY: `buf` holds 8 + 200 bytes; input at 8, output at 0.
    let rc = unsafe {
        mbedtls_gcm_crypt_and_tag(
            &mut ctx,
            sys::GCM_ENCRYPT as c_int,
            plain.len(),
            iv.as_ptr(),
            12,
            b"a".as_ptr(),
            1,
            buf.as_ptr().add(8),
            buf.as_mut_ptr(),
            16,
            tag.as_mut_ptr(),
        )
    };
    assert_eq!(rc, 0);
    assert_eq!((&buf[..200], &tag[..]), (&want[..], &want_tag[..]));
    free(ctx);
}
