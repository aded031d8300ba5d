//! Compat layer (see docs/compat.md): Mbed TLS calls behind the original shim API.
//!
//! These functions work on Mbed TLS structures living in memory the caller
//! allocated (sized by the `sizeof_*` functions) and return Mbed TLS codes.
//! They check for NULL pointers (returning the module's BAD_INPUT code, or
//! doing nothing) and otherwise trust the caller exactly as Mbed TLS does.
//!
//! # Safety (all `unsafe fn` here)
//! Every non-NULL pointer must point to memory of at least the size reported
//! by the matching `sizeof_*` function, initialised by the matching `*_init`
//! (and not yet freed), and not used concurrently from another thread; string
//! pointers must be NUL-terminated; buffers must hold `len` bytes.

use std::mem::size_of;

use libc::{c_char, c_int, c_uchar, c_uint, c_void};
use std::sync::LazyLock;

use super::rng::{Drbg, GLOBAL};
use super::{generation, net_sockets, suites, sys, x509};
use crate::error::{Error, Result};

/// Returned by int functions when a panic was caught (Mbed TLS's own
/// "internal error" code, so compat callers see only Mbed TLS codes).
pub(crate) const INTERNAL_ERROR: c_int = sys::ERR_SSL_INTERNAL_ERROR;
/// `ssl_get_verify_result` value when no result is available (as Mbed TLS).
pub(crate) const VERIFY_RESULT_UNAVAILABLE: c_uint = u32::MAX;

const SSL_BAD_INPUT: c_int = sys::ERR_SSL_BAD_INPUT_DATA;
const X509_BAD_INPUT: c_int = sys::ERR_X509_BAD_INPUT_DATA;
const PK_BAD_INPUT: c_int = sys::ERR_PK_BAD_INPUT_DATA;
const NET_BAD_INPUT: c_int = sys::ERR_NET_BAD_INPUT_DATA;

/// Groups set by `ssl_config_defaults` (the default preset): x25519,
/// secp256r1, secp384r1, ECP_DP_NONE-terminated. Mbed TLS keeps the pointer,
/// so the list lives for the whole process.
static GROUPS: LazyLock<Vec<generation::GroupId>> = LazyLock::new(suites::default_groups);

/// Cipher suites set by `ssl_config_defaults` (the default preset): the safe
/// API's forward-secret AEAD list, 0-terminated, kept for the process.
static SUITES: LazyLock<Vec<c_int>> = LazyLock::new(suites::default_suites);

// ---------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------

pub fn sizeof_ssl_context() -> usize {
    size_of::<sys::ssl_context>()
}
pub fn sizeof_ssl_config() -> usize {
    size_of::<sys::ssl_config>()
}
pub fn sizeof_ssl_session() -> usize {
    size_of::<sys::ssl_session>()
}
pub fn sizeof_entropy_context() -> usize {
    size_of::<sys::entropy_context>()
}
pub fn sizeof_ctr_drbg_context() -> usize {
    size_of::<sys::ctr_drbg_context>()
}
pub fn sizeof_x509_crt() -> usize {
    size_of::<sys::x509_crt>()
}
pub fn sizeof_pk_context() -> usize {
    size_of::<sys::pk_context>()
}
pub fn sizeof_net_context() -> usize {
    size_of::<sys::net_context>()
}

// ---------------------------------------------------------------------------
// Heap
// ---------------------------------------------------------------------------

/// Zeroed heap memory (calloc); NULL when out of memory. `size` 0 gives a
/// unique 1-byte allocation so the result can always be passed to `free`.
pub fn alloc(size: usize) -> *mut c_void {
    // SAFETY: calloc has no preconditions.
    unsafe { libc::calloc(1, size.max(1)) }
}

/// # Safety: `p` is NULL or came from `alloc` and was not freed yet.
pub(crate) unsafe fn free(p: *mut c_void) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if !p.is_null() {
            libc::free(p);
        }
    }
}

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

fn conf_ptr(conf: *mut c_void) -> *mut sys::ssl_config {
    conf as *mut sys::ssl_config
}

fn check_version(version: c_int) -> Result<u16> {
    match version {
        0x0303 | 0x0304 => Ok(version as u16),
        _ => Err(Error::invalid_arg(format!(
            "unsupported protocol version 0x{version:04x} (use 0x0303 or 0x0304); config unchanged"
        ))),
    }
}

/// Lowest version, 0x0303 or 0x0304; other values leave the config
/// unchanged and return an error for the thread's last error.
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn conf_min_version(conf: *mut c_void, version: c_int) -> Result<()> {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if conf.is_null() {
            return Ok(());
        }
        generation::compat_set_min(conf_ptr(conf), check_version(version)?);
        Ok(())
    }
}

/// Highest version; as `conf_min_version` for other values.
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn conf_max_version(conf: *mut c_void, version: c_int) -> Result<()> {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if conf.is_null() {
            return Ok(());
        }
        generation::compat_set_max(conf_ptr(conf), check_version(version)?);
        Ok(())
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_config_init(conf: *mut c_void) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if !conf.is_null() {
            sys::ssl_config_init(conf_ptr(conf));
        }
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_config_free(conf: *mut c_void) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if !conf.is_null() {
            sys::ssl_config_free(conf_ptr(conf));
        }
    }
}

/// `mbedtls_ssl_config_defaults`, then what the original shim got for free
/// from Mbed TLS 4: the RNG (our global CTR_DRBG), TLS 1.2 as the floor and,
/// for the default preset, forward-secret AEAD cipher suites, groups
/// x25519/secp256r1/secp384r1, SHA-1-free signature hashes and a SHA-1-free
/// certificate profile (RSA >= 2048).
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_config_defaults(
    conf: *mut c_void,
    endpoint: c_int,
    transport: c_int,
    preset: c_int,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if conf.is_null() {
            return SSL_BAD_INPUT;
        }
        let c = conf_ptr(conf);
        let ret = sys::ssl_config_defaults(c, endpoint, transport, preset);
        if ret != 0 {
            return ret;
        }
        generation::conf_rng(c, Some(Drbg::callback), GLOBAL.as_ptr());
        generation::conf_versions(c, 0x0303, 0x0304);
        if preset != sys::SSL_PRESET_SUITEB as c_int {
            // Suite B keeps Mbed TLS's own (P-256/P-384, SHA-256/384) settings.
            if SUITES.len() > 1 {
                sys::ssl_conf_ciphersuites(c, SUITES.as_ptr());
            }
            generation::conf_groups(c, GROUPS.as_ptr());
            generation::conf_extra(c, endpoint == sys::SSL_IS_CLIENT as c_int);
            if let Some(profile) = x509::profile() {
                sys::ssl_conf_cert_profile(c, profile);
            }
        }
        0
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_conf_authmode(conf: *mut c_void, authmode: c_int) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if !conf.is_null() {
            sys::ssl_conf_authmode(conf_ptr(conf), authmode);
        }
    }
}

/// NULL `ca_chain` clears the trust store, as in Mbed TLS.
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_conf_ca_chain(
    conf: *mut c_void,
    ca_chain: *mut c_void,
    ca_crl: *mut c_void,
) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if !conf.is_null() {
            sys::ssl_conf_ca_chain(
                conf_ptr(conf),
                ca_chain as *mut sys::x509_crt,
                ca_crl as *mut sys::x509_crl,
            );
        }
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_conf_own_cert(
    conf: *mut c_void,
    own_cert: *mut c_void,
    pk: *mut c_void,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if conf.is_null() || own_cert.is_null() || pk.is_null() {
            return SSL_BAD_INPUT;
        }
        sys::ssl_conf_own_cert(
            conf_ptr(conf),
            own_cert as *mut sys::x509_crt,
            pk as *mut sys::pk_context,
        )
    }
}

// ---------------------------------------------------------------------------
// SSL context
// ---------------------------------------------------------------------------

fn ssl_ptr(ssl: *mut c_void) -> *mut sys::ssl_context {
    ssl as *mut sys::ssl_context
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_init(ssl: *mut c_void) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if !ssl.is_null() {
            sys::ssl_init(ssl_ptr(ssl));
        }
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_free(ssl: *mut c_void) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if !ssl.is_null() {
            sys::ssl_free(ssl_ptr(ssl));
        }
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_setup(ssl: *mut c_void, conf: *const c_void) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ssl.is_null() || conf.is_null() {
            return SSL_BAD_INPUT;
        }
        sys::ssl_setup(ssl_ptr(ssl), conf as *const sys::ssl_config)
    }
}

/// NULL `hostname` clears it, as in Mbed TLS.
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_set_hostname(ssl: *mut c_void, hostname: *const c_char) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ssl.is_null() {
            return SSL_BAD_INPUT;
        }
        sys::ssl_set_hostname(ssl_ptr(ssl), hostname)
    }
}

/// The callbacks arrive as `void *` (NULL → none).
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_set_bio(
    ssl: *mut c_void,
    p_bio: *mut c_void,
    f_send: *mut c_void,
    f_recv: *mut c_void,
    f_recv_timeout: *mut c_void,
) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ssl.is_null() {
            return;
        }
        // SAFETY: Option<extern "C" fn> has the layout of a nullable function
        // pointer; the caller passes functions with the Mbed TLS signatures.
        let send = std::mem::transmute::<*mut c_void, sys::ssl_send_t>(f_send);
        let recv = std::mem::transmute::<*mut c_void, sys::ssl_recv_t>(f_recv);
        let recv_timeout =
            std::mem::transmute::<*mut c_void, sys::ssl_recv_timeout_t>(f_recv_timeout);
        sys::ssl_set_bio(ssl_ptr(ssl), p_bio, send, recv, recv_timeout);
    }
}

/// Mbed TLS returns RECEIVED_NEW_SESSION_TICKET ("a TLS 1.3 ticket
/// arrived, call again"), which callers of the compat API are not expected
/// to handle: the compat layer simply calls again (the ticket stays
/// available to mojo_tls_ssl_get_session users).
fn skip_ticket_signal(mut call: impl FnMut() -> c_int) -> c_int {
    loop {
        let ret = call();
        if ret != sys::ERR_SSL_RECEIVED_NEW_SESSION_TICKET {
            return ret;
        }
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_handshake(ssl: *mut c_void) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ssl.is_null() {
            return SSL_BAD_INPUT;
        }
        skip_ticket_signal(|| sys::ssl_handshake(ssl_ptr(ssl)))
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_read(ssl: *mut c_void, buf: *mut c_uchar, len: usize) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ssl.is_null() || (buf.is_null() && len > 0) {
            return SSL_BAD_INPUT;
        }
        skip_ticket_signal(|| sys::ssl_read(ssl_ptr(ssl), buf, len))
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_write(ssl: *mut c_void, buf: *const c_uchar, len: usize) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ssl.is_null() || (buf.is_null() && len > 0) {
            return SSL_BAD_INPUT;
        }
        skip_ticket_signal(|| sys::ssl_write(ssl_ptr(ssl), buf, len))
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_close_notify(ssl: *mut c_void) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ssl.is_null() {
            return SSL_BAD_INPUT;
        }
        sys::ssl_close_notify(ssl_ptr(ssl))
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_get_version(ssl: *const c_void) -> *const c_char {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ssl.is_null() {
            return std::ptr::null();
        }
        sys::ssl_get_version(ssl as *const sys::ssl_context)
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_get_ciphersuite(ssl: *const c_void) -> *const c_char {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ssl.is_null() {
            return std::ptr::null();
        }
        sys::ssl_get_ciphersuite(ssl as *const sys::ssl_context)
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_get_verify_result(ssl: *const c_void) -> c_uint {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ssl.is_null() {
            return VERIFY_RESULT_UNAVAILABLE;
        }
        sys::ssl_get_verify_result(ssl as *const sys::ssl_context)
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn ssl_get_peer_cert(ssl: *const c_void) -> *const c_void {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ssl.is_null() {
            return std::ptr::null();
        }
        sys::ssl_get_peer_cert(ssl as *const sys::ssl_context) as *const c_void
    }
}

// ---------------------------------------------------------------------------
// X.509 certificates and keys
// ---------------------------------------------------------------------------

fn crt_ptr(crt: *mut c_void) -> *mut sys::x509_crt {
    crt as *mut sys::x509_crt
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn x509_crt_init(crt: *mut c_void) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if !crt.is_null() {
            sys::x509_crt_init(crt_ptr(crt));
        }
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn x509_crt_free(crt: *mut c_void) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if !crt.is_null() {
            sys::x509_crt_free(crt_ptr(crt));
        }
    }
}

/// PEM input must include the terminating NUL in `buflen` (as in Mbed TLS).
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn x509_crt_parse(
    chain: *mut c_void,
    buf: *const c_uchar,
    buflen: usize,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if chain.is_null() || buf.is_null() {
            return X509_BAD_INPUT;
        }
        sys::x509_crt_parse(crt_ptr(chain), buf, buflen)
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn x509_crt_parse_file(chain: *mut c_void, path: *const c_char) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if chain.is_null() || path.is_null() {
            return X509_BAD_INPUT;
        }
        let Some(data) = super::files::load_c_path(path) else {
            return sys::ERR_X509_FILE_IO_ERROR as c_int;
        };
        sys::x509_crt_parse(crt_ptr(chain), data.as_ptr(), data.len())
    }
}

/// The DER of the first certificate in `crt` (borrowed from it).
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn x509_crt_get_raw_data(crt: *const c_void) -> *const c_uchar {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if crt.is_null() {
            return std::ptr::null();
        }
        (*(crt as *const sys::x509_crt)).raw.p
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn x509_crt_get_raw_len(crt: *const c_void) -> usize {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if crt.is_null() {
            return 0;
        }
        (*(crt as *const sys::x509_crt)).raw.len
    }
}

fn pk_ptr(pk: *mut c_void) -> *mut sys::pk_context {
    pk as *mut sys::pk_context
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn pk_init(pk: *mut c_void) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if !pk.is_null() {
            sys::pk_init(pk_ptr(pk));
        }
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn pk_free(pk: *mut c_void) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if !pk.is_null() {
            sys::pk_free(pk_ptr(pk));
        }
    }
}

/// PEM input must include the terminating NUL in `keylen`. `pwd` may be NULL
/// (no password).
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn pk_parse_key(
    pk: *mut c_void,
    key: *const c_uchar,
    keylen: usize,
    pwd: *const c_uchar,
    pwdlen: usize,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if pk.is_null() || key.is_null() {
            return PK_BAD_INPUT;
        }
        let (pwd, pwdlen) = if pwd.is_null() {
            (std::ptr::null(), 0)
        } else {
            (pwd, pwdlen)
        };
        let key = if keylen == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(key, keylen)
        };
        generation::pk_parse_key(pk_ptr(pk), key, pwd, pwdlen)
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn pk_parse_keyfile(
    pk: *mut c_void,
    path: *const c_char,
    password: *const c_char,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if pk.is_null() || path.is_null() {
            return PK_BAD_INPUT;
        }
        let Some(data) = super::files::load_c_path(path) else {
            return sys::ERR_PK_FILE_IO_ERROR as c_int;
        };
        let (pwd, pwdlen) = if password.is_null() {
            (std::ptr::null(), 0)
        } else {
            (password as *const c_uchar, libc::strlen(password))
        };
        generation::pk_parse_key(pk_ptr(pk), &data, pwd, pwdlen)
    }
}

// ---------------------------------------------------------------------------
// Sockets
// ---------------------------------------------------------------------------

fn net_ptr(ctx: *mut c_void) -> *mut sys::net_context {
    ctx as *mut sys::net_context
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn net_init(ctx: *mut c_void) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if !ctx.is_null() {
            net_sockets::init(net_ptr(ctx));
        }
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn net_free(ctx: *mut c_void) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if !ctx.is_null() {
            net_sockets::free(net_ptr(ctx));
        }
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn net_connect(
    ctx: *mut c_void,
    host: *const c_char,
    port: *const c_char,
    proto: c_int,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ctx.is_null() || host.is_null() || port.is_null() {
            return NET_BAD_INPUT;
        }
        net_sockets::connect(net_ptr(ctx), host, port, proto)
    }
}

/// NULL `bind_ip` binds every local address, as in Mbed TLS.
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn net_bind(
    ctx: *mut c_void,
    bind_ip: *const c_char,
    port: *const c_char,
    proto: c_int,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ctx.is_null() || port.is_null() {
            return NET_BAD_INPUT;
        }
        net_sockets::bind(net_ptr(ctx), bind_ip, port, proto, false)
    }
}

/// `mbedtls_net_bind` with SO_REUSEPORT as well as SO_REUSEADDR, so several
/// processes or threads can listen on one port.
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn net_bind_reuseport(
    ctx: *mut c_void,
    bind_ip: *const c_char,
    port: *const c_char,
    proto: c_int,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ctx.is_null() || port.is_null() {
            return NET_BAD_INPUT;
        }
        net_sockets::bind(net_ptr(ctx), bind_ip, port, proto, true)
    }
}

/// `client_ip` may be NULL (then `cip_len` is not written).
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn net_accept(
    bind_ctx: *mut c_void,
    client_ctx: *mut c_void,
    client_ip: *mut c_void,
    buf_size: usize,
    cip_len: *mut usize,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if bind_ctx.is_null() || client_ctx.is_null() || (!client_ip.is_null() && cip_len.is_null())
        {
            return NET_BAD_INPUT;
        }
        net_sockets::accept(
            net_ptr(bind_ctx),
            net_ptr(client_ctx),
            client_ip,
            buf_size,
            cip_len,
        )
    }
}

/// Accept into a fresh heap net_context (from `alloc`). On failure the
/// context is freed, the code stored in `*ret_code` (if non-NULL) and NULL
/// returned; on success `*ret_code` is 0.
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn net_accept_alloc(
    bind_ctx: *mut c_void,
    client_ip: *mut c_void,
    buf_size: usize,
    cip_len: *mut usize,
    ret_code: *mut c_int,
) -> *mut c_void {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let report = |ret: c_int| {
            if !ret_code.is_null() {
                *ret_code = ret;
            }
        };
        if bind_ctx.is_null() || (!client_ip.is_null() && cip_len.is_null()) {
            report(NET_BAD_INPUT);
            return std::ptr::null_mut();
        }
        let ctx = alloc(sizeof_net_context());
        if ctx.is_null() {
            report(sys::ERR_NET_ACCEPT_FAILED);
            return std::ptr::null_mut();
        }
        net_sockets::init(net_ptr(ctx));
        let ret = net_sockets::accept(
            net_ptr(bind_ctx),
            net_ptr(ctx),
            client_ip,
            buf_size,
            cip_len,
        );
        report(ret);
        if ret != 0 {
            net_sockets::free(net_ptr(ctx));
            free(ctx);
            return std::ptr::null_mut();
        }
        ctx
    }
}

/// `net_free` + `free` of a context from `net_accept_alloc` (or `alloc`).
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn net_free_context(ctx: *mut c_void) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if !ctx.is_null() {
            net_sockets::free(net_ptr(ctx));
            free(ctx);
        }
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn net_set_block(ctx: *mut c_void) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ctx.is_null() {
            return NET_BAD_INPUT;
        }
        net_sockets::set_block(net_ptr(ctx))
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn net_set_nonblock(ctx: *mut c_void) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if ctx.is_null() {
            return NET_BAD_INPUT;
        }
        net_sockets::set_nonblock(net_ptr(ctx))
    }
}

/// `mbedtls_net_send`, to pass as `f_send` to `ssl_set_bio`.
pub fn net_send_ptr() -> *mut c_void {
    net_sockets::send as *const () as *mut c_void
}

/// `mbedtls_net_recv`, to pass as `f_recv` to `ssl_set_bio`.
pub fn net_recv_ptr() -> *mut c_void {
    net_sockets::recv as *const () as *mut c_void
}

/// `mbedtls_net_recv_timeout`, to pass as `f_recv_timeout` to `ssl_set_bio`.
pub fn net_recv_timeout_ptr() -> *mut c_void {
    net_sockets::recv_timeout as *const () as *mut c_void
}
