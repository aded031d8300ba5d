//! The AES hook (src/backend/aes.rs) through Mbed TLS's own entry points:
//! its AES (FIPS-197 / NIST SP 800-38A), GCM, CCM and CTR_DRBG self tests,
//! and AES-GCM from Mbed TLS against ring's on random keys, nonces and
//! lengths.

use super::sys;

fn hooked_blocks() -> usize {
    super::aes::BLOCKS.load(std::sync::atomic::Ordering::Relaxed)
}

#[test]
fn mbedtls_self_tests_pass_through_the_hook() {
    super::platform::install();
    let before = hooked_blocks();
    // SAFETY: the self tests use their own contexts.
    unsafe {
        assert_eq!(sys::aes_self_test(0), 0, "AES self test");
        assert_eq!(sys::gcm_self_test(0), 0, "GCM self test");
        assert_eq!(sys::ccm_self_test(0), 0, "CCM self test");
        assert_eq!(sys::ctr_drbg_self_test(0), 0, "CTR_DRBG self test");
    }
    assert!(
        hooked_blocks() > before + 1000,
        "Mbed TLS's AES did not reach the hook"
    );
}

#[test]
fn gcm_agrees_with_ring() {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
    super::platform::install();
    let mut seed = [0u8; 64];
    assert!(super::platform::os_random(&mut seed));
    let mut checked = 0;
    for (i, key_len) in [16usize, 32].iter().cycle().take(200).enumerate() {
        let key = &seed[..*key_len];
        let nonce = [i as u8; 12];
        let len = (i * 37) % 1500;
        let plain: Vec<u8> = (0..len).map(|j| (j * 7 + i) as u8).collect();
        let aad = [0xa5u8; 13];
        // ring
        let alg = if *key_len == 16 {
            &AES_128_GCM
        } else {
            &AES_256_GCM
        };
        let k = LessSafeKey::new(UnboundKey::new(alg, key).unwrap());
        let mut want = plain.clone();
        let tag = k
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut want,
            )
            .unwrap();
        // Mbed TLS (AES through the hook)
        let mut got = vec![0u8; len];
        let mut got_tag = [0u8; 16];
        // SAFETY: a local GCM context; buffers of the stated lengths.
        unsafe {
            let mut ctx: sys::gcm_context = std::mem::zeroed();
            sys::gcm_init(&mut ctx);
            assert_eq!(
                sys::gcm_setkey(
                    &mut ctx,
                    sys::CIPHER_ID_AES,
                    key.as_ptr(),
                    (*key_len * 8) as u32
                ),
                0
            );
            let rc = sys::gcm_crypt_and_tag(
                &mut ctx,
                sys::GCM_ENCRYPT as i32,
                len,
                nonce.as_ptr(),
                12,
                aad.as_ptr(),
                aad.len(),
                plain.as_ptr(),
                got.as_mut_ptr(),
                16,
                got_tag.as_mut_ptr(),
            );
            sys::gcm_free(&mut ctx);
            assert_eq!(rc, 0);
        }
        assert_eq!(got, want, "ciphertext, case {i}");
        assert_eq!(&got_tag[..], tag.as_ref(), "tag, case {i}");
        checked += 1;
    }
    assert_eq!(checked, 200);
}
