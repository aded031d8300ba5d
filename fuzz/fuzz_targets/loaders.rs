//! The PEM/DER loaders and other parsers of untrusted input, selected by
//! byte 0: CA certificates, CRLs, certificate chains and private keys (plain
//! and with a password), session blobs, the compat layer's x509/pk parsers,
//! name lists (ALPN, cipher suites, groups), SAN lists for the generator and
//! pins. Every call must return a code; a caught panic is a bug.
#![no_main]

use std::ffi::{c_char, c_void};

use fuzz_common::*;
use libfuzzer_sys::fuzz_target;

/// `data` as a NUL-terminated C string (cut at the first NUL).
fn cstr(data: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = data.iter().copied().take_while(|&b| b != 0).collect();
    v.push(0);
    v
}

fuzz_target!(|input: &[u8]| {
    let p = pki();
    let (sel, data) = input.split_first().unwrap_or((&0, &[]));
    match sel % 12 {
        0 | 1 => {
            let c = mojo_tls_config_new(0);
            let rc = if sel % 12 == 0 {
                mojo_tls_config_add_ca_mem(c, data.as_ptr(), data.len())
            } else {
                mojo_tls_config_add_crl_mem(c, data.as_ptr(), data.len())
            };
            check(rc as i64, "load_ca/crl_mem");
            mojo_tls_config_free(c);
        }
        2..=4 => {
            let c = mojo_tls_config_new(1);
            let pw = c"secret";
            let rc = match sel % 12 {
                2 => mojo_tls_config_add_cert_mem(
                    c,
                    data.as_ptr(),
                    data.len(),
                    p.key_pem.as_ptr(),
                    p.key_pem.len(),
                    std::ptr::null(),
                ),
                3 => mojo_tls_config_add_cert_mem(
                    c,
                    p.cert_pem.as_ptr(),
                    p.cert_pem.len(),
                    data.as_ptr(),
                    data.len(),
                    std::ptr::null(),
                ),
                _ => mojo_tls_config_add_cert_mem(
                    c,
                    p.cert_pem.as_ptr(),
                    p.cert_pem.len(),
                    data.as_ptr(),
                    data.len(),
                    pw.as_ptr(),
                ),
            };
            check(rc as i64, "add_cert_mem");
            mojo_tls_config_free(c);
        }
        5 => {
            let c = mojo_tls_conn_new_memory(cfg(p.ccfg), c"localhost".as_ptr());
            check(
                mojo_tls_conn_session_import(c, data.as_ptr(), data.len()) as i64,
                "session_import",
            );
            check(mojo_tls_conn_handshake(c) as i64, "handshake after import");
            mojo_tls_conn_free(c);
        }
        6 => {
            // compat: caller-allocated x509_crt, used as documented
            let crt = mojo_tls_alloc(mojo_tls_sizeof_x509_crt());
            mojo_tls_x509_crt_init(crt);
            let mut buf = data.to_vec();
            if buf.first() == Some(&b'-') {
                buf.push(0); // PEM: the length includes the NUL
            }
            let _ = mojo_tls_x509_crt_parse(crt, buf.as_ptr(), buf.len());
            let raw = mojo_tls_x509_crt_get_raw_len(crt);
            let _ = (mojo_tls_x509_crt_get_raw_data(crt), raw);
            mojo_tls_x509_crt_free(crt);
            mojo_tls_free(crt);
        }
        7 => {
            let pk = mojo_tls_alloc(mojo_tls_sizeof_pk_context());
            mojo_tls_pk_init(pk);
            let mut buf = data.to_vec();
            if buf.first() == Some(&b'-') {
                buf.push(0);
            }
            let _ = mojo_tls_pk_parse_key(pk, buf.as_ptr(), buf.len(), b"secret".as_ptr(), 6);
            mojo_tls_pk_free(pk);
            mojo_tls_free(pk);
        }
        8..=10 => {
            let c = mojo_tls_config_new(0);
            let s = cstr(data);
            let rc = match sel % 12 {
                8 => mojo_tls_config_set_alpn(c, s.as_ptr() as *const c_char),
                9 => mojo_tls_config_set_ciphersuites(c, s.as_ptr() as *const c_char),
                _ => mojo_tls_config_set_groups(c, s.as_ptr() as *const c_char),
            };
            check(rc as i64, "set_alpn/ciphersuites/groups");
            if rc == 0 {
                // the setting must also survive being used for a connection
                let k = mojo_tls_conn_new_memory(c, c"localhost".as_ptr());
                if !k.is_null() {
                    check(
                        mojo_tls_conn_handshake(k) as i64,
                        "handshake with fuzzed settings",
                    );
                    drain_all(k);
                    mojo_tls_conn_free(k);
                } else {
                    check(
                        mojo_tls_last_error_code() as i64,
                        "conn with fuzzed settings",
                    );
                }
            }
            mojo_tls_config_free(c);
        }
        _ => {
            let s = cstr(&data[..data.len().min(2048)]);
            let (nb, days) = match data.len() {
                0..=1 => (0, 1),
                _ => ((data[0] as i8) as i32, (data[1] as i32) + 1),
            };
            let ca = mojo_tls_gencert_new_ca(s.as_ptr() as *const c_char, days, 0);
            check_ptr(ca as *mut c_void, "gencert_ca");
            let leaf = mojo_tls_gencert_new_leaf(
                ca,
                c"fuzz".as_ptr(),
                s.as_ptr() as *const c_char,
                nb,
                days,
                1,
                0,
            );
            check_ptr(leaf as *mut c_void, "gencert_leaf");
            let mut pin = [0u8; 32];
            pin[..data.len().min(32)].copy_from_slice(&data[..data.len().min(32)]);
            let c = mojo_tls_config_new(0);
            check(
                mojo_tls_config_add_pin(c, nb & 1, pin.as_ptr(), 32) as i64,
                "add_pin",
            );
            mojo_tls_config_free(c);
            mojo_tls_gencert_free(leaf);
            mojo_tls_gencert_free(ca);
        }
    }
});
