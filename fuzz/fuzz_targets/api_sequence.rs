//! Structured fuzzing of API call sequences: configurations, memory-mode
//! connections (client/server pairs that can talk to each other), handles
//! used after being freed, forged and wrong-type handles, timeouts, reads,
//! writes, close/free in any order. Invariants: no crash, no caught panic
//! (MOJO_TLS_ERR_INTERNAL), stale handles give INVALID_HANDLE, and data
//! sent over an established pair arrives intact and in order.
#![no_main]

use std::ffi::{c_char, c_void, CString};

use arbitrary::Arbitrary;
use fuzz_common::*;
use libfuzzer_sys::fuzz_target;

const INVALID_HANDLE: i64 = -7;

#[derive(Arbitrary, Debug)]
enum Op {
    NewConfig { server: bool, certs: bool },
    FreeConfig(u8),
    SetVersion { cfg: u8, min: bool, v: u16 },
    SetAlpn(u8, Vec<u8>),
    SetVerify(u8, i8),
    SetClientAuth(u8, i8),
    SetPin(u8, bool, [u8; 32]),
    PinOnly(u8, bool),
    Tickets(u8, i32),
    Cache(u8, i16, i16),
    NewConn { cfg: u8, name: Option<Vec<u8>> },
    NewPair { mtls: bool },
    Handshake(u8),
    Pump(u8, u8),
    Write(u8, Vec<u8>),
    Read(u8, u16),
    Feed(u8, Vec<u8>),
    FeedEof(u8),
    Drain(u8, u16),
    CloseNotify(u8),
    Close(u8),
    FreeConn(u8),
    Query(u8, u8),
    Export(u8),
    Import(u8, Vec<u8>),
    SetTimeout(u8, i32),
    Forged(u64),
    WrongType(u8),
}

#[derive(Default)]
struct State {
    cfgs: Vec<usize>,
    conns: Vec<usize>,
    freed_cfgs: Vec<usize>,
    freed_conns: Vec<usize>,
    sessions: Vec<Vec<u8>>,
}

fn pick(v: &[usize], i: u8) -> Option<usize> {
    if v.is_empty() {
        None
    } else {
        Some(v[i as usize % v.len()])
    }
}

fn conn(h: usize) -> *mut mojo_tls_conn {
    h as *mut mojo_tls_conn
}

/// Move ciphertext a -> b and b -> a a few times, running both handshakes.
fn pump(a: usize, b: usize) {
    for _ in 0..8 {
        for (x, y) in [(a, b), (b, a)] {
            let rc = mojo_tls_conn_handshake(conn(x));
            check(rc as i64, "pump handshake");
            let out = drain_all(conn(x));
            if !out.is_empty() {
                check(
                    mojo_tls_conn_feed(conn(y), out.as_ptr() as *const c_void, out.len()) as i64,
                    "pump feed",
                );
            }
        }
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let p = pki();
    let mut st = State::default();
    let mut buf = vec![0u8; 70000];
    for op in ops.into_iter().take(64) {
        match op {
            Op::NewConfig { server, certs } => {
                let c = check_ptr(mojo_tls_config_new(server as i32), "config_new");
                if certs {
                    if server {
                        mojo_tls_config_add_cert_mem(
                            c,
                            p.cert_pem.as_ptr(),
                            p.cert_pem.len(),
                            p.key_pem.as_ptr(),
                            p.key_pem.len(),
                            std::ptr::null(),
                        );
                    }
                    mojo_tls_config_add_ca_mem(c, p.ca_pem.as_ptr(), p.ca_pem.len());
                    mojo_tls_config_add_crl_mem(c, p.crl_pem.as_ptr(), p.crl_pem.len());
                }
                st.cfgs.push(c as usize);
            }
            Op::FreeConfig(i) => {
                if let Some(c) = pick(&st.cfgs, i) {
                    check(mojo_tls_config_free(cfg(c)) as i64, "config_free");
                    st.cfgs.retain(|&x| x != c);
                    st.freed_cfgs.push(c);
                }
            }
            Op::SetVersion { cfg: i, min, v } => {
                if let Some(c) = pick(&st.cfgs, i) {
                    let rc = if min {
                        mojo_tls_config_set_min_version(cfg(c), v as i32)
                    } else {
                        mojo_tls_config_set_max_version(cfg(c), v as i32)
                    };
                    check(rc as i64, "set_version");
                }
            }
            Op::SetAlpn(i, s) => {
                if let Some(c) = pick(&st.cfgs, i) {
                    let s: Vec<u8> = s.into_iter().filter(|&b| b != 0).take(600).collect();
                    let s = CString::new(s).unwrap();
                    check(
                        mojo_tls_config_set_alpn(cfg(c), s.as_ptr()) as i64,
                        "set_alpn",
                    );
                }
            }
            Op::SetVerify(i, m) => {
                if let Some(c) = pick(&st.cfgs, i) {
                    check(
                        mojo_tls_config_insecure_verify(cfg(c), m as i32) as i64,
                        "set_verify",
                    );
                }
            }
            Op::SetClientAuth(i, m) => {
                if let Some(c) = pick(&st.cfgs, i) {
                    check(
                        mojo_tls_config_set_client_auth(cfg(c), m as i32) as i64,
                        "client_auth",
                    );
                }
            }
            Op::SetPin(i, spki, h) => {
                if let Some(c) = pick(&st.cfgs, i) {
                    check(
                        mojo_tls_config_add_pin(cfg(c), spki as i32, h.as_ptr(), 32) as i64,
                        "add_pin",
                    );
                }
            }
            Op::PinOnly(i, on) => {
                if let Some(c) = pick(&st.cfgs, i) {
                    check(
                        mojo_tls_config_set_pin_only(cfg(c), on as i32) as i64,
                        "pin_only",
                    );
                }
            }
            Op::Tickets(i, s) => {
                if let Some(c) = pick(&st.cfgs, i) {
                    check(
                        mojo_tls_config_set_session_tickets(cfg(c), s) as i64,
                        "tickets",
                    );
                }
            }
            Op::Cache(i, n, t) => {
                if let Some(c) = pick(&st.cfgs, i) {
                    check(
                        mojo_tls_config_set_session_cache(cfg(c), n as i32, t as i32) as i64,
                        "cache",
                    );
                }
            }
            Op::NewConn { cfg: i, name } => {
                if let Some(c) = pick(&st.cfgs, i) {
                    let name = name.map(|n| {
                        CString::new(
                            n.into_iter()
                                .filter(|&b| b != 0)
                                .take(300)
                                .collect::<Vec<u8>>(),
                        )
                        .unwrap()
                    });
                    let k = mojo_tls_conn_new_memory(
                        cfg(c),
                        name.as_ref().map_or(std::ptr::null(), |n| n.as_ptr()),
                    );
                    if k.is_null() {
                        check(mojo_tls_last_error_code() as i64, "conn_new_memory");
                    } else {
                        st.conns.push(k as usize);
                    }
                }
            }
            Op::NewPair { mtls } => {
                let (cc, sc) = if mtls {
                    (p.ccfg_mtls, p.scfg_mtls)
                } else {
                    (p.ccfg, p.scfg)
                };
                let a = check_ptr(
                    mojo_tls_conn_new_memory(cfg(cc), c"localhost".as_ptr()),
                    "pair client",
                );
                let b = check_ptr(
                    mojo_tls_conn_new_memory(cfg(sc), std::ptr::null()),
                    "pair server",
                );
                pump(a as usize, b as usize);
                // an established pair must carry data intact
                let msg = b"integrity check across a fresh pair";
                if mojo_tls_conn_version(a) > 0 && mojo_tls_conn_version(b) > 0 {
                    let n = mojo_tls_conn_write(a, msg.as_ptr() as *const c_void, msg.len());
                    assert_eq!(
                        n,
                        msg.len() as isize,
                        "write on an established pair: {}",
                        last_error()
                    );
                    let ct = drain_all(a);
                    mojo_tls_conn_feed(b, ct.as_ptr() as *const c_void, ct.len());
                    let n = mojo_tls_conn_read(b, buf.as_mut_ptr() as *mut c_void, buf.len());
                    assert_eq!(
                        n,
                        msg.len() as isize,
                        "read on an established pair: {}",
                        last_error()
                    );
                    assert_eq!(&buf[..msg.len()], msg, "data corrupted");
                } else {
                    panic!("a fresh pair did not handshake: {}", last_error());
                }
                st.conns.push(a as usize);
                st.conns.push(b as usize);
            }
            Op::Handshake(i) => {
                if let Some(k) = pick(&st.conns, i) {
                    check(mojo_tls_conn_handshake(conn(k)) as i64, "handshake");
                }
            }
            Op::Pump(i, j) => {
                if let (Some(a), Some(b)) = (pick(&st.conns, i), pick(&st.conns, j)) {
                    if a != b {
                        pump(a, b);
                    }
                }
            }
            Op::Write(i, d) => {
                if let Some(k) = pick(&st.conns, i) {
                    check(
                        mojo_tls_conn_write(conn(k), d.as_ptr() as *const c_void, d.len()) as i64,
                        "write",
                    );
                }
            }
            Op::Read(i, n) => {
                if let Some(k) = pick(&st.conns, i) {
                    let n = (n as usize).min(buf.len());
                    check(
                        mojo_tls_conn_read(conn(k), buf.as_mut_ptr() as *mut c_void, n) as i64,
                        "read",
                    );
                }
            }
            Op::Feed(i, d) => {
                if let Some(k) = pick(&st.conns, i) {
                    check(
                        mojo_tls_conn_feed(conn(k), d.as_ptr() as *const c_void, d.len()) as i64,
                        "feed",
                    );
                }
            }
            Op::FeedEof(i) => {
                if let Some(k) = pick(&st.conns, i) {
                    check(mojo_tls_conn_feed_eof(conn(k)) as i64, "feed_eof");
                }
            }
            Op::Drain(i, n) => {
                if let Some(k) = pick(&st.conns, i) {
                    let n = (n as usize).min(buf.len());
                    check(
                        mojo_tls_conn_drain(conn(k), buf.as_mut_ptr() as *mut c_void, n) as i64,
                        "drain",
                    );
                }
            }
            Op::CloseNotify(i) => {
                if let Some(k) = pick(&st.conns, i) {
                    check(mojo_tls_conn_close_notify(conn(k)) as i64, "close_notify");
                }
            }
            Op::Close(i) => {
                if let Some(k) = pick(&st.conns, i) {
                    check(mojo_tls_conn_close(conn(k)) as i64, "close");
                }
            }
            Op::FreeConn(i) => {
                if let Some(k) = pick(&st.conns, i) {
                    check(mojo_tls_conn_free(conn(k)) as i64, "conn_free");
                    st.conns.retain(|&x| x != k);
                    st.freed_conns.push(k);
                }
            }
            Op::Query(i, what) => {
                if let Some(k) = pick(&st.conns, i) {
                    let c = conn(k);
                    let b = buf.as_mut_ptr();
                    let rc: i64 = match what % 12 {
                        0 => mojo_tls_conn_version(c) as i64,
                        1 => mojo_tls_conn_alpn(c, b as *mut c_char, 300) as i64,
                        2 => mojo_tls_conn_peer_cert_der(c, b, 8192) as i64,
                        3 => mojo_tls_conn_peer_cert_pem(c, b as *mut c_char, 8192) as i64,
                        4 => mojo_tls_conn_peer_cert_subject(c, b as *mut c_char, 1024) as i64,
                        5 => mojo_tls_conn_peer_cert_sans(c, b as *mut c_char, 1024) as i64,
                        6 => mojo_tls_conn_verify_flags(c) as i64,
                        7 => mojo_tls_conn_verify_reason(c, b as *mut c_char, 1024) as i64,
                        8 => mojo_tls_conn_server_name(c, b as *mut c_char, 300) as i64,
                        9 => mojo_tls_conn_session_resumed(c) as i64,
                        10 => mojo_tls_conn_pending(c) as i64,
                        _ => mojo_tls_conn_fd(c) as i64,
                    };
                    check(rc, "query");
                }
            }
            Op::Export(i) => {
                if let Some(k) = pick(&st.conns, i) {
                    let n = mojo_tls_conn_session_export(conn(k), buf.as_mut_ptr(), 8192);
                    check(n as i64, "session_export");
                    if n > 0 && (n as usize) <= 8192 {
                        st.sessions.push(buf[..n as usize].to_vec());
                    }
                }
            }
            Op::Import(i, d) => {
                if let Some(k) = pick(&st.conns, i) {
                    let blob = st.sessions.last().cloned().unwrap_or(d);
                    check(
                        mojo_tls_conn_session_import(conn(k), blob.as_ptr(), blob.len()) as i64,
                        "import",
                    );
                }
            }
            Op::SetTimeout(i, t) => {
                if let Some(k) = pick(&st.conns, i) {
                    check(mojo_tls_conn_set_timeout(conn(k), t) as i64, "set_timeout");
                }
            }
            Op::Forged(v) => {
                let v = v as usize;
                if !st.conns.contains(&v) && !st.cfgs.contains(&v) {
                    let rc = mojo_tls_conn_handshake(conn(v)) as i64;
                    assert_eq!(rc, INVALID_HANDLE, "forged handle {v:#x}");
                    let rc = mojo_tls_config_set_pin_only(cfg(v), 0) as i64;
                    assert_eq!(rc, INVALID_HANDLE, "forged config {v:#x}");
                }
            }
            Op::WrongType(i) => {
                // stale and wrong-type handles
                if let Some(&k) = st.freed_conns.get(i as usize % st.freed_conns.len().max(1)) {
                    assert_eq!(
                        mojo_tls_conn_read(conn(k), buf.as_mut_ptr() as *mut c_void, 16) as i64,
                        INVALID_HANDLE
                    );
                    assert_eq!(mojo_tls_conn_free(conn(k)) as i64, INVALID_HANDLE);
                }
                if let Some(&c) = st.freed_cfgs.get(i as usize % st.freed_cfgs.len().max(1)) {
                    assert!(mojo_tls_conn_new_memory(cfg(c), std::ptr::null()).is_null());
                    assert_eq!(mojo_tls_last_error_code() as i64, INVALID_HANDLE);
                }
                if let Some(c) = pick(&st.cfgs, i) {
                    assert_eq!(mojo_tls_conn_pending(conn(c)) as i64, INVALID_HANDLE);
                    assert_eq!(mojo_tls_conn_free(conn(c)) as i64, INVALID_HANDLE);
                }
                if let Some(k) = pick(&st.conns, i) {
                    assert_eq!(mojo_tls_config_free(cfg(k)) as i64, INVALID_HANDLE);
                }
            }
        }
    }
    for k in st.conns {
        check(mojo_tls_conn_free(conn(k)) as i64, "final conn_free");
    }
    for c in st.cfgs {
        check(mojo_tls_config_free(cfg(c)) as i64, "final config_free");
    }
});
