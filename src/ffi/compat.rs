//! Compat layer C entry points (see docs/compat.md).
//!
//! The symbols of the original mojo-tls C shim, with its exact signatures:
//! thin wrappers over Mbed TLS working on caller-allocated memory sized by
//! the `mojo_tls_sizeof_*` queries. They return Mbed TLS codes, not
//! `mojo_tls_err` codes. Only NULL pointers are caught; like Mbed TLS itself
//! they trust everything else (sizes, initialisation, thread use).

// These are C entry points whose contract (docs/compat.md) makes the caller
// responsible for valid pointers, exactly like Mbed TLS; marking them
// `unsafe` would change nothing for C callers.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use libc::{c_char, c_int, c_uchar, c_uint, c_void, size_t};

use super::guard;
use crate::backend::compat;

/// Compat: protocol version not known / not negotiated.
pub const MOJO_TLS_VERSION_UNKNOWN: i32 = 0;
/// Compat: endpoint for mojo_tls_ssl_config_defaults — client.
pub const MOJO_TLS_IS_CLIENT: i32 = 0;
/// Compat: endpoint for mojo_tls_ssl_config_defaults — server.
pub const MOJO_TLS_IS_SERVER: i32 = 1;
// Transports (MOJO_TLS_TRANSPORT_STREAM / _DATAGRAM) are the safe header's,
// which mojo_tls_compat.h includes: the same values as Mbed TLS's.
/// Compat: preset for mojo_tls_ssl_config_defaults — the default settings.
pub const MOJO_TLS_PRESET_DEFAULT: i32 = 0;
/// Compat: preset for mojo_tls_ssl_config_defaults — NSA Suite B.
pub const MOJO_TLS_PRESET_SUITEB: i32 = 2;
/// Compat: protocol for mojo_tls_net_connect / mojo_tls_net_bind — TCP.
pub const MOJO_TLS_NET_PROTO_TCP: i32 = 0;
/// Compat: protocol for mojo_tls_net_connect / mojo_tls_net_bind — UDP.
pub const MOJO_TLS_NET_PROTO_UDP: i32 = 1;

/// Panic boundary for functions returning an Mbed TLS code.
fn ret(f: impl FnOnce() -> c_int) -> c_int {
    guard(compat::INTERNAL_ERROR, || Ok(f()))
}

/// Panic boundary for functions returning nothing.
fn void(f: impl FnOnce()) {
    guard((), || {
        f();
        Ok(())
    })
}

// --- sizes -----------------------------------------------------------------

/// Compat: size in bytes of an Mbed TLS ssl_context (for mojo_tls_alloc).
#[no_mangle]
pub extern "C" fn mojo_tls_sizeof_ssl_context() -> size_t {
    guard(0, || Ok(compat::sizeof_ssl_context()))
}

/// Compat: size in bytes of an Mbed TLS ssl_config.
#[no_mangle]
pub extern "C" fn mojo_tls_sizeof_ssl_config() -> size_t {
    guard(0, || Ok(compat::sizeof_ssl_config()))
}

/// Compat: size in bytes of an Mbed TLS ssl_session.
#[no_mangle]
pub extern "C" fn mojo_tls_sizeof_ssl_session() -> size_t {
    guard(0, || Ok(compat::sizeof_ssl_session()))
}

/// Compat: size in bytes of an Mbed TLS entropy_context (Mbed TLS 4.x:
/// its private one; nothing in the compat API takes it).
#[no_mangle]
pub extern "C" fn mojo_tls_sizeof_entropy_context() -> size_t {
    guard(0, || Ok(compat::sizeof_entropy_context()))
}

/// Compat: size in bytes of an Mbed TLS ctr_drbg_context (Mbed TLS 4.x:
/// its private one; nothing in the compat API takes it).
#[no_mangle]
pub extern "C" fn mojo_tls_sizeof_ctr_drbg_context() -> size_t {
    guard(0, || Ok(compat::sizeof_ctr_drbg_context()))
}

/// Compat: size in bytes of an Mbed TLS x509_crt (certificate chain).
#[no_mangle]
pub extern "C" fn mojo_tls_sizeof_x509_crt() -> size_t {
    guard(0, || Ok(compat::sizeof_x509_crt()))
}

/// Compat: size in bytes of an Mbed TLS pk_context (private key).
#[no_mangle]
pub extern "C" fn mojo_tls_sizeof_pk_context() -> size_t {
    guard(0, || Ok(compat::sizeof_pk_context()))
}

/// Compat: size in bytes of an Mbed TLS net_context (its first field is the
/// socket, `int fd`).
#[no_mangle]
pub extern "C" fn mojo_tls_sizeof_net_context() -> size_t {
    guard(0, || Ok(compat::sizeof_net_context()))
}

// --- heap ------------------------------------------------------------------

/// Compat: `size` bytes of zeroed heap memory (calloc), for contexts of the
/// sizes above; release with mojo_tls_free. NULL when out of memory.
#[no_mangle]
pub extern "C" fn mojo_tls_alloc(size: size_t) -> *mut c_void {
    guard(std::ptr::null_mut(), || Ok(compat::alloc(size)))
}

/// Compat: release memory from mojo_tls_alloc (free the context inside it
/// first with its *_free function). NULL is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_free(ptr: *mut c_void) {
    // SAFETY: the caller passes NULL or a pointer from mojo_tls_alloc.
    void(|| unsafe { compat::free(ptr) })
}

// --- configuration ---------------------------------------------------------

/// Compat: lowest protocol version, MOJO_TLS_VERSION_TLS1_2 (0x0303) or
/// MOJO_TLS_VERSION_TLS1_3 (0x0304). Other values leave the config unchanged
/// and set the thread's last error (MOJO_TLS_ERR_INVALID_ARGUMENT). NULL
/// `conf` is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_conf_min_version(conf: *mut c_void, version: c_int) {
    // SAFETY: conf is NULL or an initialised ssl_config (compat contract).
    guard((), || unsafe { compat::conf_min_version(conf, version) })
}

/// Compat: highest protocol version, 0x0303 or 0x0304. Other values leave the
/// config unchanged and set the thread's last error. NULL `conf` is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_conf_max_version(conf: *mut c_void, version: c_int) {
    // SAFETY: as mojo_tls_conf_min_version.
    guard((), || unsafe { compat::conf_max_version(conf, version) })
}

/// Compat: mbedtls_ssl_config_init on caller memory of
/// mojo_tls_sizeof_ssl_config() bytes. NULL is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_config_init(conf: *mut c_void) {
    // SAFETY: conf is NULL or large enough (compat contract).
    void(|| unsafe { compat::ssl_config_init(conf) })
}

/// Compat: mbedtls_ssl_config_free (the memory itself stays the caller's).
/// NULL is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_config_free(conf: *mut c_void) {
    // SAFETY: conf is NULL or an initialised ssl_config.
    void(|| unsafe { compat::ssl_config_free(conf) })
}

/// Compat: mbedtls_ssl_config_defaults(endpoint MOJO_TLS_IS_CLIENT/SERVER,
/// transport MOJO_TLS_TRANSPORT_*, preset MOJO_TLS_PRESET_*), plus what the
/// original shim's backend did implicitly: the library's RNG (a CTR_DRBG
/// reseeded after fork; PSA's own on Mbed TLS 4.x), TLS 1.2 as minimum and maximum available version,
/// and for the default preset forward-secret AEAD cipher suites (ECDHE with
/// AES-GCM or ChaCha20-Poly1305), groups x25519/secp256r1/secp384r1,
/// SHA-1-free signature hashes and a SHA-1-free certificate profile
/// (RSA >= 2048). MOJO_TLS_PRESET_SUITEB keeps Mbed TLS's Suite B settings.
/// Returns 0 or an Mbed TLS error; NULL `conf` →
/// MBEDTLS_ERR_SSL_BAD_INPUT_DATA (-0x7100; on Mbed TLS 4.x -0x87,
/// PSA_ERROR_INVALID_ARGUMENT).
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_config_defaults(
    conf: *mut c_void,
    endpoint: c_int,
    transport: c_int,
    preset: c_int,
) -> c_int {
    // SAFETY: conf is NULL or an initialised ssl_config.
    ret(|| unsafe { compat::ssl_config_defaults(conf, endpoint, transport, preset) })
}

/// Compat: mbedtls_ssl_conf_authmode (MOJO_TLS_VERIFY_NONE / OPTIONAL /
/// REQUIRED). NULL `conf` is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_conf_authmode(conf: *mut c_void, authmode: c_int) {
    // SAFETY: conf is NULL or an initialised ssl_config.
    void(|| unsafe { compat::ssl_conf_authmode(conf, authmode) })
}

/// Compat: mbedtls_ssl_conf_ca_chain. The config keeps the pointers: the CA
/// chain (x509_crt) and CRL (may be NULL) must outlive it. NULL `conf` is
/// ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_conf_ca_chain(
    conf: *mut c_void,
    ca_chain: *mut c_void,
    ca_crl: *mut c_void,
) {
    // SAFETY: pointers are NULL or initialised Mbed TLS objects.
    void(|| unsafe { compat::ssl_conf_ca_chain(conf, ca_chain, ca_crl) })
}

/// Compat: mbedtls_ssl_conf_own_cert. The config keeps the pointers: the
/// chain and key must outlive it. Returns 0 or an Mbed TLS error; a NULL
/// argument → MBEDTLS_ERR_SSL_BAD_INPUT_DATA.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_conf_own_cert(
    conf: *mut c_void,
    own_cert: *mut c_void,
    pk_ctx: *mut c_void,
) -> c_int {
    // SAFETY: pointers are NULL or initialised Mbed TLS objects.
    ret(|| unsafe { compat::ssl_conf_own_cert(conf, own_cert, pk_ctx) })
}

// --- SSL context -----------------------------------------------------------

/// Compat: mbedtls_ssl_init on caller memory of mojo_tls_sizeof_ssl_context()
/// bytes. NULL is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_init(ssl: *mut c_void) {
    // SAFETY: ssl is NULL or large enough.
    void(|| unsafe { compat::ssl_init(ssl) })
}

/// Compat: mbedtls_ssl_free (the memory stays the caller's). NULL is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_free(ssl: *mut c_void) {
    // SAFETY: ssl is NULL or an initialised ssl_context.
    void(|| unsafe { compat::ssl_free(ssl) })
}

/// Compat: mbedtls_ssl_setup. The config must outlive the context. Returns
/// 0 or an Mbed TLS error; NULL → MBEDTLS_ERR_SSL_BAD_INPUT_DATA.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_setup(ssl: *mut c_void, conf: *const c_void) -> c_int {
    // SAFETY: pointers are NULL or initialised Mbed TLS objects.
    ret(|| unsafe { compat::ssl_setup(ssl, conf) })
}

/// Compat: mbedtls_ssl_set_hostname: the name checked in the server's
/// certificate and sent as SNI (copied). NULL `hostname` clears it.
/// Returns 0 or an Mbed TLS error; NULL `ssl` → MBEDTLS_ERR_SSL_BAD_INPUT_DATA.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_set_hostname(ssl: *mut c_void, hostname: *const c_char) -> c_int {
    // SAFETY: ssl is NULL or an initialised ssl_context; hostname NULL or a C string.
    ret(|| unsafe { compat::ssl_set_hostname(ssl, hostname) })
}

/// Compat: mbedtls_ssl_set_bio. `f_send`, `f_recv`, `f_recv_timeout` are
/// function pointers with the Mbed TLS signatures (NULL = none), e.g. from
/// mojo_tls_get_net_send_ptr() with a net_context as `p_bio`. NULL `ssl` is
/// ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_set_bio(
    ssl: *mut c_void,
    p_bio: *mut c_void,
    f_send: *mut c_void,
    f_recv: *mut c_void,
    f_recv_timeout: *mut c_void,
) {
    // SAFETY: ssl is NULL or an initialised ssl_context; callbacks are NULL
    // or functions of the right type (compat contract).
    void(|| unsafe { compat::ssl_set_bio(ssl, p_bio, f_send, f_recv, f_recv_timeout) })
}

/// Compat: mbedtls_ssl_handshake. Returns 0, MBEDTLS_ERR_SSL_WANT_READ /
/// WANT_WRITE (non-blocking I/O) or another Mbed TLS error (e.g.
/// MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, see mojo_tls_ssl_get_verify_result);
/// NULL → MBEDTLS_ERR_SSL_BAD_INPUT_DATA.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_handshake(ssl: *mut c_void) -> c_int {
    // SAFETY: ssl is NULL or a set-up ssl_context.
    ret(|| unsafe { compat::ssl_handshake(ssl) })
}

/// Compat: mbedtls_ssl_read. Returns the byte count (> 0), 0 or
/// MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY at the peer's close_notify, or an Mbed
/// TLS error; NULL `ssl` (or NULL `buf` with `len` > 0) →
/// MBEDTLS_ERR_SSL_BAD_INPUT_DATA.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_read(ssl: *mut c_void, buf: *mut c_uchar, len: size_t) -> c_int {
    // SAFETY: ssl is NULL or a set-up ssl_context; buf holds len bytes.
    ret(|| unsafe { compat::ssl_read(ssl, buf, len) })
}

/// Compat: mbedtls_ssl_write (may write fewer than `len` bytes). Returns the
/// byte count or an Mbed TLS error; NULL → MBEDTLS_ERR_SSL_BAD_INPUT_DATA.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_write(ssl: *mut c_void, buf: *const c_uchar, len: size_t) -> c_int {
    // SAFETY: ssl is NULL or a set-up ssl_context; buf holds len bytes.
    ret(|| unsafe { compat::ssl_write(ssl, buf, len) })
}

/// Compat: mbedtls_ssl_close_notify. Returns 0 or an Mbed TLS error; NULL →
/// MBEDTLS_ERR_SSL_BAD_INPUT_DATA.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_close_notify(ssl: *mut c_void) -> c_int {
    // SAFETY: ssl is NULL or a set-up ssl_context.
    ret(|| unsafe { compat::ssl_close_notify(ssl) })
}

/// Compat: the negotiated protocol version's name ("TLSv1.2"), static;
/// NULL for a NULL `ssl`.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_get_version(ssl: *const c_void) -> *const c_char {
    guard(std::ptr::null(), || {
        // SAFETY: ssl is NULL or an initialised ssl_context.
        Ok(unsafe { compat::ssl_get_version(ssl) })
    })
}

/// Compat: the negotiated cipher suite's Mbed TLS name
/// ("TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"), static; NULL for a NULL `ssl`.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_get_ciphersuite(ssl: *const c_void) -> *const c_char {
    guard(std::ptr::null(), || {
        // SAFETY: ssl is NULL or an initialised ssl_context.
        Ok(unsafe { compat::ssl_get_ciphersuite(ssl) })
    })
}

/// Compat: mbedtls_ssl_get_verify_result: 0 when the peer certificate
/// verified, else MBEDTLS_X509_BADCERT_* flags; 0xFFFFFFFF when no result is
/// available (also for a NULL `ssl`).
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_get_verify_result(ssl: *const c_void) -> c_uint {
    guard(compat::VERIFY_RESULT_UNAVAILABLE, || {
        // SAFETY: ssl is NULL or an initialised ssl_context.
        Ok(unsafe { compat::ssl_get_verify_result(ssl) })
    })
}

/// Compat: the peer's certificate (an x509_crt owned by the ssl context,
/// valid until it is freed or reset); NULL if none or for a NULL `ssl`.
#[no_mangle]
pub extern "C" fn mojo_tls_ssl_get_peer_cert(ssl: *const c_void) -> *const c_void {
    guard(std::ptr::null(), || {
        // SAFETY: ssl is NULL or an initialised ssl_context.
        Ok(unsafe { compat::ssl_get_peer_cert(ssl) })
    })
}

// --- certificates and keys -------------------------------------------------

/// Compat: the DER bytes of a certificate (borrowed from `crt`; the first
/// one of a chain); NULL for a NULL `crt`.
#[no_mangle]
pub extern "C" fn mojo_tls_x509_crt_get_raw_data(crt: *const c_void) -> *const c_uchar {
    guard(std::ptr::null(), || {
        // SAFETY: crt is NULL or an initialised x509_crt.
        Ok(unsafe { compat::x509_crt_get_raw_data(crt) })
    })
}

/// Compat: the length of mojo_tls_x509_crt_get_raw_data; 0 for a NULL `crt`.
#[no_mangle]
pub extern "C" fn mojo_tls_x509_crt_get_raw_len(crt: *const c_void) -> size_t {
    // SAFETY: crt is NULL or an initialised x509_crt.
    guard(0, || Ok(unsafe { compat::x509_crt_get_raw_len(crt) }))
}

/// Compat: mbedtls_x509_crt_init on caller memory of
/// mojo_tls_sizeof_x509_crt() bytes. NULL is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_x509_crt_init(crt: *mut c_void) {
    // SAFETY: crt is NULL or large enough.
    void(|| unsafe { compat::x509_crt_init(crt) })
}

/// Compat: mbedtls_x509_crt_free (the whole chain; the memory stays the
/// caller's). NULL is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_x509_crt_free(crt: *mut c_void) {
    // SAFETY: crt is NULL or an initialised x509_crt.
    void(|| unsafe { compat::x509_crt_free(crt) })
}

/// Compat: mbedtls_x509_crt_parse: add DER or PEM certificates from memory
/// to `chain` (copied). For PEM, `buflen` must include the terminating NUL.
/// Returns 0, the number of certificates that failed to parse (> 0), or an
/// Mbed TLS error; NULL → MBEDTLS_ERR_X509_BAD_INPUT_DATA (-0x2800).
#[no_mangle]
pub extern "C" fn mojo_tls_x509_crt_parse(
    chain: *mut c_void,
    buf: *const c_uchar,
    buflen: size_t,
) -> c_int {
    // SAFETY: chain is NULL or an initialised x509_crt; buf holds buflen bytes.
    ret(|| unsafe { compat::x509_crt_parse(chain, buf, buflen) })
}

/// Compat: mbedtls_x509_crt_parse_file (DER or PEM file). Returns as
/// mojo_tls_x509_crt_parse; NULL → MBEDTLS_ERR_X509_BAD_INPUT_DATA.
#[no_mangle]
pub extern "C" fn mojo_tls_x509_crt_parse_file(chain: *mut c_void, path: *const c_char) -> c_int {
    // SAFETY: chain is NULL or an initialised x509_crt; path a C string.
    ret(|| unsafe { compat::x509_crt_parse_file(chain, path) })
}

/// Compat: mbedtls_pk_init on caller memory of mojo_tls_sizeof_pk_context()
/// bytes. NULL is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_pk_init(pk: *mut c_void) {
    // SAFETY: pk is NULL or large enough.
    void(|| unsafe { compat::pk_init(pk) })
}

/// Compat: mbedtls_pk_free (the memory stays the caller's). NULL is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_pk_free(pk: *mut c_void) {
    // SAFETY: pk is NULL or an initialised pk_context.
    void(|| unsafe { compat::pk_free(pk) })
}

/// Compat: mbedtls_pk_parse_key: a private key in DER or PEM from memory
/// (for PEM, `keylen` includes the NUL), optionally encrypted with `pwd`
/// (`pwdlen` bytes; NULL = none). Returns 0 or an Mbed TLS error (e.g.
/// MBEDTLS_ERR_PK_PASSWORD_REQUIRED); NULL `pk`/`key` →
/// MBEDTLS_ERR_PK_BAD_INPUT_DATA (-0x3E80; on Mbed TLS 4.x -0x87,
/// PSA_ERROR_INVALID_ARGUMENT).
#[no_mangle]
pub extern "C" fn mojo_tls_pk_parse_key(
    pk: *mut c_void,
    key: *const c_uchar,
    keylen: size_t,
    pwd: *const c_uchar,
    pwdlen: size_t,
) -> c_int {
    // SAFETY: pk is NULL or an initialised pk_context; buffers hold their lengths.
    ret(|| unsafe { compat::pk_parse_key(pk, key, keylen, pwd, pwdlen) })
}

/// Compat: mbedtls_pk_parse_keyfile (`password` may be NULL). Returns 0 or
/// an Mbed TLS error; NULL `pk`/`path` → MBEDTLS_ERR_PK_BAD_INPUT_DATA.
#[no_mangle]
pub extern "C" fn mojo_tls_pk_parse_keyfile(
    pk: *mut c_void,
    path: *const c_char,
    password: *const c_char,
) -> c_int {
    // SAFETY: pk is NULL or an initialised pk_context; strings are C strings.
    ret(|| unsafe { compat::pk_parse_keyfile(pk, path, password) })
}

// --- sockets ---------------------------------------------------------------

/// Compat: mbedtls_net_init on caller memory of
/// mojo_tls_sizeof_net_context() bytes. NULL is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_net_init(ctx: *mut c_void) {
    // SAFETY: ctx is NULL or large enough.
    void(|| unsafe { compat::net_init(ctx) })
}

/// Compat: mbedtls_net_free: closes the socket (the memory stays the
/// caller's). NULL is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_net_free(ctx: *mut c_void) {
    // SAFETY: ctx is NULL or an initialised net_context.
    void(|| unsafe { compat::net_free(ctx) })
}

/// Compat: mbedtls_net_connect to `host`:`port` (a service name or number)
/// over MOJO_TLS_NET_PROTO_TCP or _UDP; blocking. Returns 0 or
/// MBEDTLS_ERR_NET_UNKNOWN_HOST / SOCKET_FAILED / CONNECT_FAILED; NULL →
/// MBEDTLS_ERR_NET_BAD_INPUT_DATA (-0x0049).
#[no_mangle]
pub extern "C" fn mojo_tls_net_connect(
    ctx: *mut c_void,
    host: *const c_char,
    port: *const c_char,
    proto: c_int,
) -> c_int {
    // SAFETY: ctx is NULL or an initialised net_context; strings are C strings.
    ret(|| unsafe { compat::net_connect(ctx, host, port, proto) })
}

/// Compat: mbedtls_net_bind: a listening socket (SO_REUSEADDR, backlog 10)
/// on `bind_ip` (NULL = every address) and `port` ("0" = any free port; read
/// it back with getsockname on the context's fd). Returns 0 or
/// MBEDTLS_ERR_NET_UNKNOWN_HOST / SOCKET_FAILED / BIND_FAILED /
/// LISTEN_FAILED; NULL `ctx`/`port` → MBEDTLS_ERR_NET_BAD_INPUT_DATA.
#[no_mangle]
pub extern "C" fn mojo_tls_net_bind(
    ctx: *mut c_void,
    bind_ip: *const c_char,
    port: *const c_char,
    proto: c_int,
) -> c_int {
    // SAFETY: ctx is NULL or an initialised net_context; strings are C strings.
    ret(|| unsafe { compat::net_bind(ctx, bind_ip, port, proto) })
}

/// Compat: as mojo_tls_net_bind, with SO_REUSEPORT set as well, so several
/// processes or threads can each listen on the same port.
#[no_mangle]
pub extern "C" fn mojo_tls_net_bind_reuseport(
    ctx: *mut c_void,
    bind_ip: *const c_char,
    port: *const c_char,
    proto: c_int,
) -> c_int {
    // SAFETY: ctx is NULL or an initialised net_context; strings are C strings.
    ret(|| unsafe { compat::net_bind_reuseport(ctx, bind_ip, port, proto) })
}

/// Compat: mbedtls_net_accept: wait for a client on `bind_ctx` and put its
/// socket in `client_ctx` (an initialised net_context). If `client_ip` is
/// not NULL, the client's raw address (4 or 16 bytes) is written there (up
/// to `buf_size`) and its length to `*cip_len`. Returns 0 or an Mbed TLS
/// error; NULL contexts → MBEDTLS_ERR_NET_BAD_INPUT_DATA.
#[no_mangle]
pub extern "C" fn mojo_tls_net_accept(
    bind_ctx: *mut c_void,
    client_ctx: *mut c_void,
    client_ip: *mut c_void,
    buf_size: size_t,
    cip_len: *mut size_t,
) -> c_int {
    // SAFETY: contexts are NULL or initialised; client_ip holds buf_size bytes.
    ret(|| unsafe { compat::net_accept(bind_ctx, client_ctx, client_ip, buf_size, cip_len) })
}

/// Compat: as mojo_tls_net_accept, into a net_context the library allocates
/// (as mojo_tls_alloc). Returns it — release it with
/// mojo_tls_net_free_context — or NULL on failure. `*ret_code` (if
/// `ret_code` is not NULL) receives 0 or the Mbed TLS error.
#[no_mangle]
pub extern "C" fn mojo_tls_net_accept_alloc(
    bind_ctx: *mut c_void,
    client_ip: *mut c_void,
    buf_size: size_t,
    cip_len: *mut size_t,
    ret_code: *mut c_int,
) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        // SAFETY: bind_ctx is NULL or initialised; out pointers are NULL or writable.
        Ok(unsafe { compat::net_accept_alloc(bind_ctx, client_ip, buf_size, cip_len, ret_code) })
    })
}

/// Compat: close and release a net_context from mojo_tls_net_accept_alloc
/// (or one in mojo_tls_alloc memory): mbedtls_net_free + mojo_tls_free.
/// NULL is ignored.
#[no_mangle]
pub extern "C" fn mojo_tls_net_free_context(ctx: *mut c_void) {
    // SAFETY: ctx is NULL or a heap net_context from this library.
    void(|| unsafe { compat::net_free_context(ctx) })
}

/// Compat: mbedtls_net_set_block. Returns 0 or an Mbed TLS error; NULL →
/// MBEDTLS_ERR_NET_BAD_INPUT_DATA.
#[no_mangle]
pub extern "C" fn mojo_tls_net_set_block(ctx: *mut c_void) -> c_int {
    // SAFETY: ctx is NULL or an initialised net_context.
    ret(|| unsafe { compat::net_set_block(ctx) })
}

/// Compat: mbedtls_net_set_nonblock (reads and writes then return
/// MBEDTLS_ERR_SSL_WANT_READ / WANT_WRITE). Returns 0 or an Mbed TLS error;
/// NULL → MBEDTLS_ERR_NET_BAD_INPUT_DATA.
#[no_mangle]
pub extern "C" fn mojo_tls_net_set_nonblock(ctx: *mut c_void) -> c_int {
    // SAFETY: ctx is NULL or an initialised net_context.
    ret(|| unsafe { compat::net_set_nonblock(ctx) })
}

/// Compat: mbedtls_net_send, as a function pointer for the `f_send`
/// argument of mojo_tls_ssl_set_bio (with a net_context as `p_bio`).
#[no_mangle]
pub extern "C" fn mojo_tls_get_net_send_ptr() -> *mut c_void {
    guard(std::ptr::null_mut(), || Ok(compat::net_send_ptr()))
}

/// Compat: mbedtls_net_recv, for the `f_recv` argument of mojo_tls_ssl_set_bio.
#[no_mangle]
pub extern "C" fn mojo_tls_get_net_recv_ptr() -> *mut c_void {
    guard(std::ptr::null_mut(), || Ok(compat::net_recv_ptr()))
}

/// Compat: mbedtls_net_recv_timeout, for the `f_recv_timeout` argument of
/// mojo_tls_ssl_set_bio (used when a read timeout is configured).
#[no_mangle]
pub extern "C" fn mojo_tls_get_net_recv_timeout_ptr() -> *mut c_void {
    guard(std::ptr::null_mut(), || Ok(compat::net_recv_timeout_ptr()))
}
