//! The SHA-2 hooks (src/backend/digest.rs) through Mbed TLS's own entry
//! points: its self tests (FIPS 180 vectors), and every length 0..=300 plus
//! split updates, clones and restarts against ring's independent SHA-2.

use super::sys;

fn install() {
    super::platform::install();
}

fn hooked_updates() -> usize {
    super::digest::UPDATES.load(std::sync::atomic::Ordering::Relaxed)
}

fn ring_digest(alg: &'static ring::digest::Algorithm, data: &[u8]) -> Vec<u8> {
    ring::digest::digest(alg, data).as_ref().to_vec()
}

#[test]
fn mbedtls_self_tests_pass_through_the_hooks() {
    install();
    // SAFETY: self tests use their own contexts.
    unsafe {
        assert_eq!(sys::sha256_self_test(0), 0, "SHA-224/256 self test");
        assert_eq!(sys::sha512_self_test(0), 0, "SHA-384/512 self test");
    }
}

/// `$name(data, step, variant)`: hash `data` with Mbed TLS's streaming API
/// of one SHA-2 module in pieces of `step`, cloning the context half way and
/// finishing both copies; `variant` is SHA-224 / SHA-384 (output `$short`
/// bytes instead of `$full`).
macro_rules! stream_fn {
    ($name:ident, $ctx:ty, $init:path, $starts:path, $update:path, $clone:path,
     $finish:path, $free:path, $full:expr, $short:expr) => {
        unsafe fn $name(data: &[u8], step: usize, variant: bool) -> (Vec<u8>, Vec<u8>) {
            // SAFETY: the caller upholds this function's `# Safety` contract,
            // which is what the unsafe operations below rely on.
            unsafe {
                let mut a: $ctx = std::mem::zeroed();
                let mut b: $ctx = std::mem::zeroed();
                $init(&mut a);
                $init(&mut b);
                assert_eq!($starts(&mut a, variant as i32), 0);
                let half = data.len() / 2;
                for chunk in data[..half].chunks(step.max(1)) {
                    assert_eq!($update(&mut a, chunk.as_ptr(), chunk.len()), 0);
                }
                $clone(&mut b, &a);
                for ctx in [&mut a, &mut b] {
                    for chunk in data[half..].chunks(step.max(1)) {
                        assert_eq!($update(ctx, chunk.as_ptr(), chunk.len()), 0);
                    }
                }
                let (mut oa, mut ob) = ([0u8; $full], [0u8; $full]);
                assert_eq!($finish(&mut a, oa.as_mut_ptr()), 0);
                assert_eq!($finish(&mut b, ob.as_mut_ptr()), 0);
                $free(&mut a);
                $free(&mut b);
                let n = if variant { $short } else { $full };
                (oa[..n].to_vec(), ob[..n].to_vec())
            }
        }
    };
}

stream_fn!(
    sha256_stream,
    sys::sha256_context,
    sys::sha256_init,
    sys::sha256_starts,
    sys::sha256_update,
    sys::sha256_clone,
    sys::sha256_finish,
    sys::sha256_free,
    32,
    28
);
stream_fn!(
    sha512_stream,
    sys::sha512_context,
    sys::sha512_init,
    sys::sha512_starts,
    sys::sha512_update,
    sys::sha512_clone,
    sys::sha512_finish,
    sys::sha512_free,
    64,
    48
);

#[test]
fn streaming_clone_and_every_length_agree_with_ring() {
    install();
    let before = hooked_updates();
    let data: Vec<u8> = (0..300u32).map(|i| (i * 131 + 7) as u8).collect();
    let mut checked = 0;
    for len in 0..=data.len() {
        let msg = &data[..len];
        for step in [1, 7, 64, 200] {
            // SAFETY: local contexts, initialised before use.
            unsafe {
                let (a, b) = sha256_stream(msg, step, false);
                let want = ring_digest(&ring::digest::SHA256, msg);
                assert_eq!((&a, &b), (&want, &want), "SHA-256 len {len} step {step}");
                let (a, b) = sha512_stream(msg, step, false);
                let want = ring_digest(&ring::digest::SHA512, msg);
                assert_eq!((&a, &b), (&want, &want), "SHA-512 len {len} step {step}");
                let (a, b) = sha512_stream(msg, step, true);
                let want = ring_digest(&ring::digest::SHA384, msg);
                assert_eq!((&a, &b), (&want, &want), "SHA-384 len {len} step {step}");
                // SHA-224: ring has none; equal halves and the right length.
                let (a, b) = sha256_stream(msg, step, true);
                assert_eq!(a, b);
                assert_eq!(a.len(), 28);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 301 * 4);
    // Mbed TLS's SHA-2 entry points really ran AWS-LC's code.
    assert!(
        hooked_updates() > before + 301 * 4,
        "the SHA-2 hooks were not called"
    );
}

#[test]
fn a_context_restarts_and_switches_variant() {
    install();
    // SAFETY: one local context through init, two starts, free.
    unsafe {
        let mut ctx: sys::sha512_context = std::mem::zeroed();
        sys::sha512_init(&mut ctx);
        let mut out = [0u8; 64];
        // SHA-512 of "abc", then the same context restarted as SHA-384.
        assert_eq!(sys::sha512_starts(&mut ctx, 0), 0);
        assert_eq!(sys::sha512_update(&mut ctx, b"abc".as_ptr(), 3), 0);
        assert_eq!(sys::sha512_finish(&mut ctx, out.as_mut_ptr()), 0);
        assert_eq!(&out[..], ring_digest(&ring::digest::SHA512, b"abc"));
        assert_eq!(sys::sha512_starts(&mut ctx, 1), 0);
        assert_eq!(sys::sha512_update(&mut ctx, b"abc".as_ptr(), 3), 0);
        assert_eq!(sys::sha512_finish(&mut ctx, out.as_mut_ptr()), 0);
        assert_eq!(&out[..48], ring_digest(&ring::digest::SHA384, b"abc"));
        sys::sha512_free(&mut ctx);
    }
    // The generic md layer (what TLS and X.509 use) on a long input.
    let data = vec![0x5au8; 1 << 20];
    let mut out = [0u8; 32];
    // SAFETY: md_info for SHA-256 exists in every build; valid buffers.
    let rc = unsafe {
        sys::md(
            sys::md_info_from_type(sys::MD_SHA256),
            data.as_ptr(),
            data.len(),
            out.as_mut_ptr(),
        )
    };
    assert_eq!(rc, 0);
    assert_eq!(&out[..], ring_digest(&ring::digest::SHA256, &data));
}
