//! C entry points for `mojo_tls_config`.

use libc::{c_char, size_t};

use super::{bytes_arg, guard_handle, guard_int, handle, opt_str_arg, release, str_arg};
use crate::backend::pk::PrivateKey;
use crate::backend::x509::CertChain;
use crate::config::Config;
use crate::error::{Error, Result};

/// Opaque handle to a TLS configuration (client or server). Created by
/// mojo_tls_config_new, released by mojo_tls_config_free. A configuration
/// may be shared by many connections and threads; changing it affects only
/// connections created afterwards.
#[allow(non_camel_case_types)]
pub struct mojo_tls_config {
    _private: [u8; 0],
}

/// Role of a configuration: client.
pub const MOJO_TLS_ROLE_CLIENT: i32 = 0;
/// Role of a configuration: server.
pub const MOJO_TLS_ROLE_SERVER: i32 = 1;
/// Protocol version number of TLS 1.2.
pub const MOJO_TLS_VERSION_TLS1_2: i32 = 0x0303;
/// Protocol version number of TLS 1.3.
pub const MOJO_TLS_VERSION_TLS1_3: i32 = 0x0304;
/// Verify mode: no verification (insecure).
pub const MOJO_TLS_VERIFY_NONE: i32 = 0;
/// Verify mode: verify, but continue on failure and report it (insecure for clients).
pub const MOJO_TLS_VERIFY_OPTIONAL: i32 = 1;
/// Verify mode: verification must succeed (the client default).
pub const MOJO_TLS_VERIFY_REQUIRED: i32 = 2;

fn cfg(h: *const mojo_tls_config) -> Result<std::sync::Arc<Config>> {
    handle::<Config, _>(h, "config")
}

/// Create a configuration for `role` (MOJO_TLS_ROLE_CLIENT or
/// MOJO_TLS_ROLE_SERVER) with secure defaults: TLS 1.2 minimum, TLS 1.3
/// maximum, forward-secret AEAD suites, groups x25519 + secp256r1
/// (+ secp384r1), and for clients verification required with host name
/// checking. A client with no CA loaded trusts the system store. Returns
/// NULL on error (INVALID_ARGUMENT for an unknown role).
#[no_mangle]
pub extern "C" fn mojo_tls_config_new(role: i32) -> *mut mojo_tls_config {
    guard_handle(|| match role {
        MOJO_TLS_ROLE_CLIENT => Ok(Config::new(false)),
        MOJO_TLS_ROLE_SERVER => Ok(Config::new(true)),
        _ => Err(Error::invalid_arg(format!("unknown role {role}"))),
    })
}

/// Release a configuration. Connections created from it keep working.
/// NULL → 0; an already freed handle → MOJO_TLS_ERR_INVALID_HANDLE (harmless).
#[no_mangle]
pub extern "C" fn mojo_tls_config_free(cfg: *mut mojo_tls_config) -> i32 {
    guard_int(|| release::<Config, _>(cfg, "config").map(|_| 0))
}

/// Lowest protocol version to accept: MOJO_TLS_VERSION_TLS1_2 (default) or
/// MOJO_TLS_VERSION_TLS1_3. Older versions → MOJO_TLS_ERR_UNSUPPORTED.
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_min_version(cfg: *mut mojo_tls_config, version: i32) -> i32 {
    guard_int(|| self::cfg(cfg)?.set_min_version(version).map(|_| 0))
}

/// Highest protocol version to offer: MOJO_TLS_VERSION_TLS1_3 (default) or
/// MOJO_TLS_VERSION_TLS1_2.
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_max_version(cfg: *mut mojo_tls_config, version: i32) -> i32 {
    guard_int(|| self::cfg(cfg)?.set_max_version(version).map(|_| 0))
}

/// Add the system's CA certificates to the trust store (Debian/Ubuntu,
/// Fedora/RHEL, openSUSE, Alpine, macOS Homebrew locations; SSL_CERT_FILE and
/// SSL_CERT_DIR override them). MOJO_TLS_ERR_NOT_FOUND if there is none.
#[no_mangle]
pub extern "C" fn mojo_tls_config_add_ca_system(cfg: *mut mojo_tls_config) -> i32 {
    guard_int(|| self::cfg(cfg)?.load_system_ca().map(|_| 0))
}

/// Add CA certificates from a PEM file (one or many) or a DER file.
/// MOJO_TLS_ERR_NOT_FOUND, MOJO_TLS_ERR_PARSE on failure.
#[no_mangle]
pub extern "C" fn mojo_tls_config_add_ca_file(
    cfg: *mut mojo_tls_config,
    path: *const c_char,
) -> i32 {
    set_str(cfg, path, "path", Config::load_ca_file)
}

/// Add every CA certificate file found in a directory.
#[no_mangle]
pub extern "C" fn mojo_tls_config_add_ca_dir(
    cfg: *mut mojo_tls_config,
    path: *const c_char,
) -> i32 {
    set_str(cfg, path, "path", Config::load_ca_dir)
}

/// Add CA certificates from memory: PEM (one or many) or DER. The data is
/// copied. MOJO_TLS_ERR_PARSE for garbage or truncated input.
#[no_mangle]
pub extern "C" fn mojo_tls_config_add_ca_mem(
    cfg: *mut mojo_tls_config,
    data: *const u8,
    len: size_t,
) -> i32 {
    guard_int(|| {
        let data = bytes_arg(data, len, "data")?;
        self::cfg(cfg)?.load_ca_mem(data).map(|_| 0)
    })
}

/// The shape of every setter taking one string: check it, then the handle.
fn set_str(
    cfg: *mut mojo_tls_config,
    arg: *const c_char,
    what: &str,
    set: impl FnOnce(&Config, &str) -> Result<()>,
) -> i32 {
    guard_int(|| {
        let value = str_arg(arg, what)?;
        set(&*self::cfg(cfg)?, value).map(|_| 0)
    })
}

fn password(p: *const c_char) -> Result<Option<&'static [u8]>> {
    Ok(opt_str_arg(p, "password")?.map(str::as_bytes))
}

/// Add the own certificate chain (leaf first, PEM or DER file) and its
/// private key (PEM or DER file, optionally encrypted with `password`, which
/// may be NULL). The key must match the leaf. A server may add several pairs.
/// Errors: MOJO_TLS_ERR_NOT_FOUND, MOJO_TLS_ERR_PARSE,
/// MOJO_TLS_ERR_BAD_PASSWORD (missing or wrong password).
#[no_mangle]
pub extern "C" fn mojo_tls_config_add_cert_file(
    cfg: *mut mojo_tls_config,
    cert_path: *const c_char,
    key_path: *const c_char,
    password: *const c_char,
) -> i32 {
    guard_int(|| {
        let c = self::cfg(cfg)?;
        let cert_path = str_arg(cert_path, "cert_path")?;
        let key_path = str_arg(key_path, "key_path")?;
        let mut chain = CertChain::new();
        chain.add_file(cert_path, false)?;
        let key = PrivateKey::parse_file(key_path, self::password(password)?)?;
        c.add_cert(chain, key).map(|_| 0)
    })
}

/// As mojo_tls_config_add_cert_file, from memory (PEM or DER; copied).
#[no_mangle]
pub extern "C" fn mojo_tls_config_add_cert_mem(
    cfg: *mut mojo_tls_config,
    cert: *const u8,
    cert_len: size_t,
    key: *const u8,
    key_len: size_t,
    password: *const c_char,
) -> i32 {
    guard_int(|| {
        let c = self::cfg(cfg)?;
        let cert = bytes_arg(cert, cert_len, "cert")?;
        let key = bytes_arg(key, key_len, "key")?;
        let mut chain = CertChain::new();
        chain.add(cert, false)?;
        let key = PrivateKey::parse(key, self::password(password)?)?;
        c.add_cert(chain, key).map(|_| 0)
    })
}

/// ALPN protocols to offer (client) or accept (server), most preferred
/// first, comma-separated: "h2,http/1.1". The negotiated protocol is
/// reported by mojo_tls_conn_alpn.
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_alpn(
    cfg: *mut mojo_tls_config,
    protocols: *const c_char,
) -> i32 {
    set_str(cfg, protocols, "protocols", Config::set_alpn)
}

/// Cipher suites by IANA name, most preferred first, separated by ':' or ','
/// (e.g. "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"). Unknown, weak or
/// non-forward-secret suites → MOJO_TLS_ERR_INVALID_ARGUMENT naming the suite.
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_ciphersuites(
    cfg: *mut mojo_tls_config,
    names: *const c_char,
) -> i32 {
    set_str(cfg, names, "names", Config::set_ciphersuites)
}

/// Key-exchange groups, most preferred first, separated by ':' or ','
/// ("x25519", "secp256r1"/"P-256", "secp384r1"/"P-384", "secp521r1", "x448").
/// Default: "x25519,secp256r1,secp384r1".
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_groups(
    cfg: *mut mojo_tls_config,
    names: *const c_char,
) -> i32 {
    set_str(cfg, names, "names", Config::set_groups)
}

/// INSECURE for clients: weaken peer verification. MOJO_TLS_VERIFY_NONE skips
/// it, MOJO_TLS_VERIFY_OPTIONAL records failures (see
/// mojo_tls_conn_verify_flags) without failing the handshake;
/// MOJO_TLS_VERIFY_REQUIRED restores the default. On a server config this
/// sets whether client certificates are requested (default NONE).
#[no_mangle]
pub extern "C" fn mojo_tls_config_insecure_verify(cfg: *mut mojo_tls_config, mode: i32) -> i32 {
    guard_int(|| self::cfg(cfg)?.insecure_set_verify(mode).map(|_| 0))
}

/// INSECURE: with `skip` != 0, accept a valid certificate issued for another
/// host name. 0 restores host name checking (the default).
#[no_mangle]
pub extern "C" fn mojo_tls_config_insecure_skip_hostname_check(
    cfg: *mut mojo_tls_config,
    skip: i32,
) -> i32 {
    guard_int(|| {
        self::cfg(cfg)?
            .insecure_skip_hostname_check(skip != 0)
            .map(|_| 0)
    })
}

/// Client-auth mode: no client certificate requested (the default).
pub const MOJO_TLS_CLIENT_AUTH_NONE: i32 = 0;
/// Client-auth mode: a certificate is requested and verified if sent; none is fine.
pub const MOJO_TLS_CLIENT_AUTH_OPTIONAL: i32 = 1;
/// Client-auth mode: the client must present a certificate that verifies.
pub const MOJO_TLS_CLIENT_AUTH_REQUIRED: i32 = 2;
/// Pin kind: SHA-256 of the certificate's DER.
pub const MOJO_TLS_PIN_CERT: i32 = 0;
/// Pin kind: SHA-256 of the certificate's SubjectPublicKeyInfo DER.
pub const MOJO_TLS_PIN_SPKI: i32 = 1;

/// Server: mutual TLS. `mode` is MOJO_TLS_CLIENT_AUTH_NONE (default),
/// _OPTIONAL (verified if sent) or _REQUIRED (the handshake fails without a
/// valid client certificate). Client certificates are verified against this
/// configuration's CA store (mojo_tls_config_add_ca_*). The server reads
/// the result with mojo_tls_conn_peer_cert_* and mojo_tls_conn_verify_flags.
/// MOJO_TLS_ERR_BAD_STATE on a client configuration.
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_client_auth(cfg: *mut mojo_tls_config, mode: i32) -> i32 {
    guard_int(|| self::cfg(cfg)?.set_client_auth(mode).map(|_| 0))
}

/// Add certificate revocation lists (PEM, one or many, or DER) from a file
/// to the trust store: a revoked certificate then fails verification with
/// MOJO_TLS_ERR_VERIFY_FAILED and a reason naming revocation.
#[no_mangle]
pub extern "C" fn mojo_tls_config_add_crl_file(
    cfg: *mut mojo_tls_config,
    path: *const c_char,
) -> i32 {
    set_str(cfg, path, "path", Config::load_crl_file)
}

/// As mojo_tls_config_add_crl_file, from memory (copied).
#[no_mangle]
pub extern "C" fn mojo_tls_config_add_crl_mem(
    cfg: *mut mojo_tls_config,
    data: *const u8,
    len: size_t,
) -> i32 {
    guard_int(|| {
        let data = bytes_arg(data, len, "data")?;
        self::cfg(cfg)?.load_crl_mem(data).map(|_| 0)
    })
}

/// Pin the peer: `sha256` (32 bytes) is the SHA-256 of a certificate's DER
/// (MOJO_TLS_PIN_CERT) or of its SubjectPublicKeyInfo (MOJO_TLS_PIN_SPKI).
/// With pins set, the handshake fails with MOJO_TLS_ERR_VERIFY_FAILED ("no
/// certificate pin matched") unless a certificate of the peer's chain matches
/// one, even when the chain verifies. May be called several times.
#[no_mangle]
pub extern "C" fn mojo_tls_config_add_pin(
    cfg: *mut mojo_tls_config,
    kind: i32,
    sha256: *const u8,
    len: size_t,
) -> i32 {
    guard_int(|| {
        let spki = match kind {
            MOJO_TLS_PIN_CERT => false,
            MOJO_TLS_PIN_SPKI => true,
            _ => return Err(Error::invalid_arg(format!("unknown pin kind {kind}"))),
        };
        let hash = bytes_arg(sha256, len, "sha256")?;
        self::cfg(cfg)?.add_pin(spki, hash).map(|_| 0)
    })
}

/// With `on` != 0, trust is the pins alone: no CA store is needed and the
/// host name is not checked (for self-signed peers); a pin must still match.
/// Needs at least one pin (MOJO_TLS_ERR_BAD_STATE at connect otherwise).
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_pin_only(cfg: *mut mojo_tls_config, on: i32) -> i32 {
    guard_int(|| self::cfg(cfg)?.set_pin_only(on != 0).map(|_| 0))
}

/// Debugging aid (opt-in): append NSS key-log lines (CLIENT_RANDOM …) for
/// connections of this configuration to `path`, so Wireshark can decrypt
/// them. NULL turns it off. Without it, the file named by the SSLKEYLOGFILE
/// environment variable (read when the configuration is first used) is used.
/// Anyone with this file can decrypt the traffic.
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_keylog_file(
    cfg: *mut mojo_tls_config,
    path: *const c_char,
) -> i32 {
    guard_int(|| {
        let path = opt_str_arg(path, "path")?;
        self::cfg(cfg)?.set_keylog_file(path).map(|_| 0)
    })
}

/// Server: issue session tickets (RFC 5077) so clients can resume. Ticket
/// keys are random, held in memory and rotated every `lifetime_s` seconds
/// (<= 0: 86400). Clients use tickets automatically.
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_session_tickets(
    cfg: *mut mojo_tls_config,
    lifetime_s: i32,
) -> i32 {
    guard_int(|| {
        self::cfg(cfg)?
            .enable_session_tickets(lifetime_s)
            .map(|_| 0)
    })
}

/// TLS 1.3 resumption without forward secrecy (opt-in; off by default).
/// By default a resumed TLS 1.3 session always runs an ECDHE exchange as
/// well (psk_dhe_ke) and psk_ke is neither offered nor accepted, in both
/// roles. With `on` != 0 resumption uses the ticket's key alone (psk_ke):
/// no ECDHE, the cheapest resumption, but a session resumed so has no
/// forward secrecy: whoever later obtains the server's ticket key or the
/// session's resumption secret (e.g. from an exported session) can decrypt
/// it, as with TLS 1.2 tickets. Both ends must enable it.
/// Server: also accepts psk_ke (clients that offer psk_dhe_ke still get
/// it). Client: full handshakes use ECDHE as always; resuming a TLS 1.3
/// session (mojo_tls_conn_session_import) offers psk_ke alone and no key
/// share, because an Mbed TLS server prefers a full ECDHE handshake to
/// psk_ke whenever the ClientHello has one. So there is no fallback: if
/// the server does not resume (not opted in, a ticket it cannot open or
/// that expired) the handshake fails with MOJO_TLS_ERR_HANDSHAKE and a
/// message saying so; connect again without the session. Works with
/// OpenSSL servers that allow it (SSL_OP_ALLOW_NO_DHE_KEX). Sessions saved
/// by a client without this setting resume as before (psk_dhe_ke). TLS 1.2
/// is unaffected. `on` 0 restores the default. 0, or a negative
/// MOJO_TLS_ERR_* (MOJO_TLS_ERR_INVALID_HANDLE for a NULL or freed `cfg`).
#[no_mangle]
pub extern "C" fn mojo_tls_config_insecure_resumption_without_forward_secrecy(
    cfg: *mut mojo_tls_config,
    on: i32,
) -> i32 {
    guard_int(|| {
        self::cfg(cfg)?
            .set_resumption_without_forward_secrecy(on != 0)
            .map(|_| 0)
    })
}

/// Bytes of one session-ticket key for mojo_tls_config_set_ticket_keys.
pub const MOJO_TLS_TICKET_KEY_LEN: i32 = 32;
const _: () = assert!(MOJO_TLS_TICKET_KEY_LEN as usize == crate::backend::ticket_keys::KEY_LEN);

/// Server: seal session tickets under the caller's keys instead of random
/// ones, so servers sharing the keys (behind a load balancer) resume each
/// other's sessions; a server with other keys ignores such a ticket and
/// runs a full handshake. `keys` is 1 to 8 secrets of
/// MOJO_TLS_TICKET_KEY_LEN (32) random bytes each, e.g. from a secrets
/// store (`len` = 32 × n): the first seals new tickets,
/// every one opens them. Each is expanded with HKDF-SHA256 into an
/// AES-256-GCM key and a public 4-byte key id; the same on every backend
/// (Mbed TLS 3.6, 4.x). Turns tickets on (lifetime 86400 s unless
/// mojo_tls_config_set_session_tickets set one; at most 7 days; issue
/// times are wall-clock, so servers need roughly synchronised clocks).
/// Rotation: call again with the new key first and the previous one after
/// it (drop a key once its tickets have expired); it applies at once, also
/// to connections of this configuration already accepted. The library
/// keeps only the derived keys (wiped when replaced or freed), not `keys`;
/// the caller should wipe its buffer. 0, MOJO_TLS_ERR_INVALID_ARGUMENT (a length that is not
/// 32 × 1..8) or MOJO_TLS_ERR_BAD_STATE (a client configuration).
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_ticket_keys(
    cfg: *mut mojo_tls_config,
    keys: *const u8,
    len: size_t,
) -> i32 {
    guard_int(|| {
        let keys = bytes_arg(keys, len, "keys")?;
        self::cfg(cfg)?.set_ticket_keys(keys).map(|_| 0)
    })
}

/// Server: keep a session-id cache of up to `max_entries` sessions, each
/// resumable for `timeout_s` seconds. `max_entries` 0 turns it off (the default).
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_session_cache(
    cfg: *mut mojo_tls_config,
    max_entries: i32,
    timeout_s: i32,
) -> i32 {
    guard_int(|| {
        self::cfg(cfg)?
            .set_session_cache(max_entries, timeout_s)
            .map(|_| 0)
    })
}

/// Record layer mode: after the handshake, hand the connection to mojo-tls's
/// fast record layer when it runs the negotiated suite (the default).
pub const MOJO_TLS_RECORD_LAYER_AUTO: i32 = 0;
/// Record layer mode: always keep Mbed TLS's own record layer.
pub const MOJO_TLS_RECORD_LAYER_MBEDTLS: i32 = 1;
const _: () = assert!(
    MOJO_TLS_RECORD_LAYER_AUTO == crate::config::RECORD_LAYER_AUTO
        && MOJO_TLS_RECORD_LAYER_MBEDTLS == crate::config::RECORD_LAYER_MBEDTLS
);

/// Which record layer protects application data after the handshake.
/// MOJO_TLS_RECORD_LAYER_AUTO (default): Mbed TLS does the handshake, then
/// the connection's traffic keys move to mojo-tls's record layer (ring
/// AES-128/256-GCM and ChaCha20-Poly1305, TLS 1.2 and 1.3; kernel TLS for
/// TLS 1.2 on the library's own sockets where the kernel offers it), much
/// faster for bulk data. Connections it cannot run (other suites, a
/// negotiated record size limit) keep Mbed TLS's record layer.
/// MOJO_TLS_RECORD_LAYER_MBEDTLS: Mbed TLS's record layer always.
/// mojo_tls_conn_record_layer says which one a connection uses.
/// MOJO_TLS_ERR_INVALID_ARGUMENT for another mode.
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_record_layer(cfg: *mut mojo_tls_config, mode: i32) -> i32 {
    guard_int(|| self::cfg(cfg)?.set_record_layer(mode).map(|_| 0))
}
