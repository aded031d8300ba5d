//! Fast constant-time elliptic-curve scalar multiplication under the bundled
//! Mbed TLS (issue #18). Everything Mbed TLS does on a curve (ECDHE key
//! generation and agreement, ECDSA signing and verification, PSA public-key
//! export) funnels through `ecp_mul_restartable_internal`; mbedtls-rs-sys
//! lets us replace it. For x25519, P-256, P-384 and P-521 the multiplication
//! runs in AWS-LC (aws-lc-sys): constant-time code (s2n-bignum's verified
//! assembly on x86_64 / aarch64, nistz256's table for the P-256 generator,
//! fiat-crypto C elsewhere). Mbed TLS still runs the protocol, the ECDSA arithmetic mod n and
//! every check. Other curves (brainpool, secp*k1, curve448) stay on Mbed TLS.
//!
//! The contract of the replaced function is kept exactly: the scalar and the
//! point are checked by Mbed TLS's own `mbedtls_ecp_check_privkey` /
//! `check_pubkey` rules, and any input the fast path does not take (an
//! invalid or non-affine point, an over-long number) goes to Mbed TLS's
//! software path, which returns the error it always returned. Those
//! decisions depend only on public values or on the validity of the input,
//! never on the bits of a valid secret scalar. docs/SECURITY.md has the
//! side-channel reasoning.
//!
//! `MOJO_TLS_ECC_ENGINE=mbedtls` (read once, at start-up) leaves Mbed TLS's
//! own multiplication in place: for benchmarks (`handshake_full_vs_unhooked`)
//! and for diagnosing a suspected difference. Both engines are constant-time.

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_lc_sys as awslc;
use mbedtls_rs_sys::hook::ecp::{
    ecp_mul_soft, hook_ecp_mul, MbedtlsEcpMul, MbedtlsEcpRestartCtx, MbedtlsFRng,
};
use mbedtls_rs_sys::{mbedtls_ecp_group, mbedtls_ecp_point, mbedtls_mpi, MbedtlsError};
use zeroize::Zeroize;

use super::sys;

/// The environment variable that keeps Mbed TLS's own ECC (value `mbedtls`).
pub const ENGINE_ENV: &str = "MOJO_TLS_ECC_ENGINE";

/// Largest field / scalar size handled here (P-521: 66 bytes).
const MAX_LEN: usize = 66;

#[derive(Clone, Copy)]
enum Curve {
    X25519,
    /// A short Weierstrass curve: AWS-LC's group and its byte length.
    Nist(fn() -> *const awslc::EC_GROUP, usize),
}

impl Curve {
    fn of(id: sys::ecp_group_id) -> Option<Curve> {
        match id {
            sys::ECP_DP_CURVE25519 => Some(Curve::X25519),
            sys::ECP_DP_SECP256R1 => Some(Curve::Nist(p256, 32)),
            sys::ECP_DP_SECP384R1 => Some(Curve::Nist(p384, 48)),
            sys::ECP_DP_SECP521R1 => Some(Curve::Nist(p521, 66)),
            _ => None,
        }
    }
}

fn p256() -> *const awslc::EC_GROUP {
    // SAFETY: returns a static group.
    unsafe { awslc::EC_group_p256() }
}
fn p384() -> *const awslc::EC_GROUP {
    // SAFETY: as above.
    unsafe { awslc::EC_group_p384() }
}
fn p521() -> *const awslc::EC_GROUP {
    // SAFETY: as above.
    unsafe { awslc::EC_group_p521() }
}

/// What the fast path did.
enum Outcome {
    /// R is written.
    Done,
    /// Mbed TLS's error for an invalid scalar (what its own path returns).
    Err(i32),
    /// Not taken: let Mbed TLS's software path decide (and compute or fail).
    Soft,
}

/// A secret byte buffer wiped on drop (MAX_LEN bytes for a scalar or an
/// x25519 output, 1 + 2 * MAX_LEN for an encoded Weierstrass point).
struct Secret<const N: usize>([u8; N]);

impl<const N: usize> Drop for Secret<N> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// A BIGNUM holding a secret, cleared and freed on drop.
struct SecretBn(*mut awslc::BIGNUM);

impl Drop for SecretBn {
    fn drop(&mut self) {
        // SAFETY: allocated by BN_bin2bn (or null).
        unsafe { awslc::BN_clear_free(self.0) };
    }
}

/// An EC_POINT freed on drop.
struct Point(*mut awslc::EC_POINT);

impl Drop for Point {
    fn drop(&mut self) {
        // SAFETY: allocated by EC_POINT_new (or null).
        unsafe { awslc::EC_POINT_free(self.0) };
    }
}

/// `x` is a non-negative number (Mbed TLS's sign field is ±1).
///
/// # Safety
/// `x` points to an initialised `mpi`.
unsafe fn non_negative(x: *const sys::mpi) -> bool {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe { (*x).private_s >= 0 }
}

/// R = m·P on x25519 (RFC 7748 X25519, u-coordinates little-endian).
///
/// # Safety
/// Called from Mbed TLS's ECP multiplication hook: every pointer is one of
/// its initialised contexts or points, not used elsewhere during the call.
unsafe fn mul_x25519(
    grp: *mut sys::ecp_group,
    r: *mut sys::ecp_point,
    m: *const sys::mpi,
    p: *const sys::ecp_point,
) -> Outcome {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        // Mbed TLS's own checks, both cheap for Montgomery curves: the clamping
        // bits of the scalar; affine u, its size and the low-order points.
        let rc = sys::ecp_check_privkey(grp, m);
        if rc != 0 {
            return Outcome::Err(rc);
        }
        // X25519 ignores bit 255 of u, while Mbed TLS's ladder reduces a u of
        // up to 256 bits mod p (its check allows 32 bytes): a u >= 2^255, which
        // `ecp_point_read_binary` never produces but a direct `ecp_mul` caller
        // can pass, is the software path's, or the result would differ.
        if sys::ecp_check_pubkey(grp, p) != 0
            || !non_negative(&(*p).private_X)
            || sys::mpi_bitlen(&(*p).private_X) > 255
        {
            return Outcome::Soft;
        }
        let mut k = Secret([0; MAX_LEN]);
        let mut u = [0u8; 32];
        if sys::mpi_write_binary_le(m, k.0.as_mut_ptr(), 32) != 0
            || sys::mpi_write_binary_le(&(*p).private_X, u.as_mut_ptr(), 32) != 0
        {
            return Outcome::Soft;
        }
        let mut out = Secret([0; MAX_LEN]);
        let base = sys::mpi_cmp_int(&(*p).private_X, 9) == 0;
        if base {
            awslc::X25519_public_from_private(out.0.as_mut_ptr(), k.0.as_ptr());
        } else if awslc::X25519(out.0.as_mut_ptr(), k.0.as_ptr(), u.as_ptr()) != 1 {
            // An all-zero result (a low-order point Mbed TLS's list lets
            // through): its software path decides, as before.
            return Outcome::Soft;
        }
        // R's layout as Mbed TLS's ladder leaves it: X, Z = 1, no Y.
        if sys::mpi_read_binary_le(&mut (*r).private_X, out.0.as_ptr(), 32) != 0
            || sys::mpi_lset(&mut (*r).private_Z, 1) != 0
        {
            return Outcome::Err(sys::ERR_MPI_ALLOC_FAILED as i32);
        }
        sys::mpi_free(&mut (*r).private_Y);
        Outcome::Done
    }
}

/// R = m·P on a NIST curve, affine coordinates big-endian.
///
/// # Safety
/// Called from Mbed TLS's ECP multiplication hook: every pointer is one of
/// its initialised contexts or points, not used elsewhere during the call.
unsafe fn mul_nist(
    grp: *mut sys::ecp_group,
    r: *mut sys::ecp_point,
    m: *const sys::mpi,
    p: *const sys::ecp_point,
    group: *const awslc::EC_GROUP,
    len: usize,
) -> Outcome {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        // 1 <= m < n, as Mbed TLS checks (comparisons of a valid scalar's size
        // against n, the same code its own path runs).
        let rc = sys::ecp_check_privkey(grp, m);
        if rc != 0 {
            return Outcome::Err(rc);
        }
        let g = &(*grp).G;
        let pt = &*p;
        // Affine, non-negative coordinates that fit the field; anything else is
        // the software path's to reject.
        if sys::mpi_cmp_int(&pt.private_Z, 1) != 0
            || !non_negative(&pt.private_X)
            || !non_negative(&pt.private_Y)
        {
            return Outcome::Soft;
        }
        let base = ptr::eq(pt, g)
            || (sys::mpi_cmp_mpi(&pt.private_X, &g.private_X) == 0
                && sys::mpi_cmp_mpi(&pt.private_Y, &g.private_Y) == 0);

        let mut k = Secret([0; MAX_LEN]);
        if sys::mpi_write_binary(m, k.0.as_mut_ptr(), len) != 0 {
            return Outcome::Soft;
        }
        let scalar = SecretBn(awslc::BN_bin2bn(k.0.as_ptr(), len, ptr::null_mut()));
        let out = Point(awslc::EC_POINT_new(group));
        if scalar.0.is_null() || out.0.is_null() {
            return Outcome::Err(sys::ERR_ECP_ALLOC_FAILED as i32);
        }
        let ok = if base {
            awslc::EC_POINT_mul(
                group,
                out.0,
                scalar.0,
                ptr::null(),
                ptr::null(),
                ptr::null_mut(),
            )
        } else {
            // Uncompressed encoding 04 || X || Y; oct2point rejects coordinates
            // >= p and points off the curve (then the software path decides).
            let mut enc = [0u8; 1 + 2 * MAX_LEN];
            enc[0] = 4;
            if sys::mpi_write_binary(&pt.private_X, enc[1..].as_mut_ptr(), len) != 0
                || sys::mpi_write_binary(&pt.private_Y, enc[1 + len..].as_mut_ptr(), len) != 0
            {
                return Outcome::Soft;
            }
            let input = Point(awslc::EC_POINT_new(group));
            if input.0.is_null() {
                return Outcome::Err(sys::ERR_ECP_ALLOC_FAILED as i32);
            }
            if awslc::EC_POINT_oct2point(group, input.0, enc.as_ptr(), 1 + 2 * len, ptr::null_mut())
                != 1
            {
                awslc::ERR_clear_error();
                return Outcome::Soft;
            }
            awslc::EC_POINT_mul(
                group,
                out.0,
                ptr::null(),
                input.0,
                scalar.0,
                ptr::null_mut(),
            )
        };
        // For a scalar in [1, n) and a point of the (prime-order) group the
        // result is never the point at infinity, so encoding cannot fail.
        // 04 || X || Y, secret for an ECDH shared point (wiped on drop).
        let mut res = Secret([0; 1 + 2 * MAX_LEN]);
        if ok != 1
            || awslc::EC_POINT_point2oct(
                group,
                out.0,
                awslc::point_conversion_form_t::POINT_CONVERSION_UNCOMPRESSED,
                res.0.as_mut_ptr(),
                1 + 2 * len,
                ptr::null_mut(),
            ) != 1 + 2 * len
        {
            awslc::ERR_clear_error();
            return Outcome::Err(sys::ERR_ECP_BAD_INPUT_DATA as i32);
        }
        if sys::mpi_read_binary(&mut (*r).private_X, res.0[1..].as_ptr(), len) != 0
            || sys::mpi_read_binary(&mut (*r).private_Y, res.0[1 + len..].as_ptr(), len) != 0
            || sys::mpi_lset(&mut (*r).private_Z, 1) != 0
        {
            return Outcome::Err(sys::ERR_MPI_ALLOC_FAILED as i32);
        }
        Outcome::Done
    }
}

struct AwsLcEcp;

impl MbedtlsEcpMul for AwsLcEcp {
    /// # Safety
    /// Called from Mbed TLS's ECP multiplication hook: every pointer is one
    /// of its initialised contexts or points, not used elsewhere during the
    /// call.
    unsafe fn mul(
        &self,
        grp: &mut mbedtls_ecp_group,
        r: &mut mbedtls_ecp_point,
        m: &mbedtls_mpi,
        p: &mbedtls_ecp_point,
        f_rng: MbedtlsFRng,
        p_rng: *mut c_void,
        rs_ctx: *mut MbedtlsEcpRestartCtx,
    ) -> Result<(), MbedtlsError> {
        // SAFETY: the caller upholds this function's `# Safety` contract,
        // which is what the unsafe operations below rely on.
        unsafe {
            // mbedtls-rs-sys's types and ours (build.rs's bindings of the same
            // headers) have one layout. R may alias P: every input is read
            // before R is written.
            let g = grp as *mut mbedtls_ecp_group as *mut sys::ecp_group;
            let rp = r as *mut mbedtls_ecp_point as *mut sys::ecp_point;
            let mp = m as *const mbedtls_mpi as *const sys::mpi;
            let pp = p as *const mbedtls_ecp_point as *const sys::ecp_point;
            // A panic cannot unwind through Mbed TLS's C frames (it would abort
            // the host): report it as Mbed TLS's generic ECP error instead.
            let outcome = std::panic::catch_unwind(|| match Curve::of((*g).id) {
                Some(Curve::X25519) => mul_x25519(g, rp, mp, pp),
                Some(Curve::Nist(group, len)) => mul_nist(g, rp, mp, pp, group(), len),
                None => Outcome::Soft,
            })
            .unwrap_or(Outcome::Err(sys::ERR_ECP_BAD_INPUT_DATA as i32));
            match outcome {
                Outcome::Done => Ok(()),
                Outcome::Err(code) => Err(MbedtlsError::new(code)),
                Outcome::Soft => ecp_mul_soft(grp, r, m, p, f_rng, p_rng, rs_ctx),
            }
        }
    }
}

static AWS_LC_ECP: AwsLcEcp = AwsLcEcp;

static HOOKED: AtomicBool = AtomicBool::new(false);

/// The engine doing this process's curve arithmetic (decided by `install`).
pub(crate) fn engine_name() -> &'static str {
    if HOOKED.load(Ordering::Relaxed) {
        "AWS-LC"
    } else {
        "Mbed TLS"
    }
}

/// Plug the fast multiplication in, unless `MOJO_TLS_ECC_ENGINE=mbedtls`.
/// Called once from `platform::install`, before any ECC runs.
pub(crate) fn install() {
    if std::env::var(ENGINE_ENV).map_or(true, |v| v != "mbedtls") {
        // SAFETY: before any Mbed TLS ECC use; the implementation is static.
        unsafe { hook_ecp_mul(Some(&AWS_LC_ECP)) };
        HOOKED.store(true, Ordering::Relaxed);
    }
}
