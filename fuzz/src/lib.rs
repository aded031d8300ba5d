//! Shared helpers for the mojo-tls fuzz targets: certificates and configs
//! made once per process, a check that turns a caught panic
//! (MOJO_TLS_ERR_INTERNAL) into a fuzzer crash, and memory-mode plumbing.
//! The targets call the library through its C entry points (the `ffi`
//! module of the rlib), exactly what a host program calls.

use std::ffi::{c_char, c_void, CString};
use std::sync::OnceLock;

pub use mojo_tls::testing::ffi::*;

pub const WANT_READ: i64 = -1;
pub const INTERNAL: i64 = -20;

/// A caught panic inside the library is a bug: make the fuzzer report it.
pub fn check(rc: i64, what: &str) {
    if rc == INTERNAL || mojo_tls_last_error_code() as i64 == INTERNAL {
        panic!(
            "{what}: MOJO_TLS_ERR_INTERNAL (a panic inside mojo-tls): {}",
            last_error()
        );
    }
}

pub fn check_ptr<T>(p: *mut T, what: &str) -> *mut T {
    if p.is_null() {
        check(mojo_tls_last_error_code() as i64, what);
    }
    p
}

pub fn last_error() -> String {
    let mut buf = vec![0u8; 1024];
    let n = mojo_tls_last_error(buf.as_mut_ptr() as *mut c_char, buf.len());
    buf.truncate((n.max(0) as usize).min(1023));
    String::from_utf8_lossy(&buf).into_owned()
}

fn gencert_pem(g: *const mojo_tls_gencert, key: bool) -> Vec<u8> {
    let mut buf = vec![0u8; 8192];
    let n = if key {
        mojo_tls_gencert_key_pem(g, buf.as_mut_ptr() as *mut c_char, buf.len())
    } else {
        mojo_tls_gencert_cert_pem(g, buf.as_mut_ptr() as *mut c_char, buf.len())
    };
    assert!(n > 0 && (n as usize) < buf.len(), "gencert pem: {n}");
    buf.truncate(n as usize);
    buf
}

pub struct Pki {
    pub ca_pem: Vec<u8>,
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
    pub client_cert_pem: Vec<u8>,
    pub client_key_pem: Vec<u8>,
    pub crl_pem: Vec<u8>,
    /// client trusting the CA (verification required)
    pub ccfg: usize,
    /// client with VERIFY_NONE (reaches deeper into the handshake on junk certificates)
    pub ccfg_noverify: usize,
    /// client presenting a certificate (for mTLS servers)
    pub ccfg_mtls: usize,
    pub scfg: usize,
    /// server requiring a client certificate
    pub scfg_mtls: usize,
}

pub fn pki() -> &'static Pki {
    static P: OnceLock<Pki> = OnceLock::new();
    P.get_or_init(|| {
        let cn = CString::new("fuzz CA").unwrap();
        let ca = mojo_tls_gencert_new_ca(cn.as_ptr(), 3650, 0);
        assert!(!ca.is_null(), "gencert_ca: {}", last_error());
        let leaf_cn = CString::new("localhost").unwrap();
        let sans = CString::new("localhost,127.0.0.1").unwrap();
        let leaf = mojo_tls_gencert_new_leaf(ca, leaf_cn.as_ptr(), sans.as_ptr(), 0, 3650, 1, 0);
        let client = mojo_tls_gencert_new_leaf(ca, leaf_cn.as_ptr(), sans.as_ptr(), 0, 3650, 2, 0);
        assert!(!leaf.is_null() && !client.is_null());
        let revoked = [client as *const mojo_tls_gencert];
        let mut crl = vec![0u8; 8192];
        let n = mojo_tls_gencert_crl_pem(
            ca,
            revoked.as_ptr(),
            1,
            crl.as_mut_ptr() as *mut c_char,
            crl.len(),
        );
        assert!(n > 0 && (n as usize) < crl.len());
        crl.truncate(n as usize);
        let p = Pki {
            ca_pem: gencert_pem(ca, false),
            cert_pem: gencert_pem(leaf, false),
            key_pem: gencert_pem(leaf, true),
            client_cert_pem: gencert_pem(client, false),
            client_key_pem: gencert_pem(client, true),
            crl_pem: crl,
            ccfg: 0,
            ccfg_noverify: 0,
            ccfg_mtls: 0,
            scfg: 0,
            scfg_mtls: 0,
        };
        let client_cfg = |verify: i32, with_cert: bool| {
            let c = mojo_tls_config_new(0);
            assert_eq!(
                mojo_tls_config_add_ca_mem(c, p.ca_pem.as_ptr(), p.ca_pem.len()),
                0
            );
            assert_eq!(mojo_tls_config_insecure_verify(c, verify), 0);
            if with_cert {
                assert_eq!(
                    mojo_tls_config_add_cert_mem(
                        c,
                        p.client_cert_pem.as_ptr(),
                        p.client_cert_pem.len(),
                        p.client_key_pem.as_ptr(),
                        p.client_key_pem.len(),
                        std::ptr::null()
                    ),
                    0
                );
            }
            c as usize
        };
        let server_cfg = |mtls: bool| {
            let s = new_server_config(&p, mtls);
            assert_eq!(mojo_tls_config_set_session_tickets(s, 3600), 0);
            s as usize
        };
        let p = Pki {
            ccfg: client_cfg(2, false),
            ccfg_noverify: client_cfg(0, false),
            ccfg_mtls: client_cfg(2, true),
            scfg: server_cfg(false),
            scfg_mtls: server_cfg(true),
            ..p
        };
        mojo_tls_gencert_free(client);
        mojo_tls_gencert_free(leaf);
        mojo_tls_gencert_free(ca);
        p
    })
}

/// A server configuration with the test certificate; with `mtls`, client
/// certificates from the test CA are required. Shared by the TLS configs
/// above and the DTLS fuzz target's.
pub fn new_server_config(p: &Pki, mtls: bool) -> *mut mojo_tls_config {
    let s = mojo_tls_config_new(1);
    assert_eq!(
        mojo_tls_config_add_cert_mem(
            s,
            p.cert_pem.as_ptr(),
            p.cert_pem.len(),
            p.key_pem.as_ptr(),
            p.key_pem.len(),
            std::ptr::null()
        ),
        0
    );
    if mtls {
        assert_eq!(
            mojo_tls_config_add_ca_mem(s, p.ca_pem.as_ptr(), p.ca_pem.len()),
            0
        );
        assert_eq!(mojo_tls_config_set_client_auth(s, 2), 0);
    }
    s
}

pub fn cfg(h: usize) -> *mut mojo_tls_config {
    h as *mut mojo_tls_config
}

/// Drain everything `c` wants to send.
pub fn drain_all(c: *mut mojo_tls_conn) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 32768];
    for _ in 0..64 {
        let n = mojo_tls_conn_drain(c, buf.as_mut_ptr() as *mut c_void, buf.len());
        check(n as i64, "drain");
        if n <= 0 {
            break;
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
    out
}

/// Feed `data` to a memory-mode connection in chunks whose sizes come from
/// `sizes` (so record boundaries vary), running the handshake (or a read,
/// once it is done) after each chunk; the output is drained and dropped.
pub fn feed_and_run(c: *mut mojo_tls_conn, data: &[u8], sizes: &[u8]) {
    let mut off = 0;
    let mut i = 0;
    let mut buf = [0u8; 4096];
    while off < data.len() {
        let step = match sizes.get(i) {
            Some(&s) if s > 0 => (s as usize) * 16,
            _ => data.len() - off,
        }
        .min(data.len() - off);
        i += 1;
        let n = mojo_tls_conn_feed(c, data[off..].as_ptr() as *const c_void, step);
        check(n as i64, "feed");
        off += step;
        run_once(c, &mut buf);
    }
    check(mojo_tls_conn_feed_eof(c) as i64, "feed_eof");
    run_once(c, &mut buf);
}

fn run_once(c: *mut mojo_tls_conn, buf: &mut [u8]) {
    for _ in 0..8 {
        let rc = mojo_tls_conn_handshake(c);
        check(rc as i64, "handshake");
        drain_all(c);
        if rc != 0 {
            return;
        }
        let n = mojo_tls_conn_read(c, buf.as_mut_ptr() as *mut c_void, buf.len());
        check(n as i64, "read");
        if n <= 0 {
            return;
        }
    }
}
