//! DTLS server datagrams: the UDP listener's stateless step (is it an
//! initial ClientHello, is its cookie valid, the HelloVerifyRequest it
//! writes) and a memory-mode DTLS server fed arbitrary datagrams (record
//! parsing, reassembly of handshake fragments, the cookie exchange,
//! anti-replay, the retransmission timer). Byte 0: bit 0 selects the mTLS
//! server; the next (byte 0 >> 2) bytes are datagram sizes (x 4; 0 = the
//! rest); then the datagrams.
#![no_main]

use std::ffi::c_void;
use std::sync::OnceLock;

use fuzz_common::*;
use libfuzzer_sys::fuzz_target;
use mojo_tls::testing::{dtls_listener_verdict, Verdict};

const PEER: &[u8] = &[127, 0, 0, 1, 0x30, 0x39];

/// DTLS copies of the shared server configurations.
fn dtls_cfgs() -> &'static (usize, usize) {
    static C: OnceLock<(usize, usize)> = OnceLock::new();
    C.get_or_init(|| {
        let p = pki();
        let make = |mtls: bool| {
            let s = new_server_config(p, mtls);
            assert_eq!(mojo_tls_config_set_transport(s, 1), 0);
            s as usize
        };
        (make(false), make(true))
    })
}

/// The listener's verdict; a HelloVerifyRequest it writes is well formed.
fn listener_step(cfgh: usize, d: &[u8]) {
    match dtls_listener_verdict(cfgh as *const mojo_tls_config, d, PEER) {
        Ok(Verdict::Answer(hvr)) => {
            assert!(hvr.len() > 13 + 12 + 3, "HelloVerifyRequest too short");
            assert_eq!(hvr[0], 22, "not a handshake record");
            assert_eq!(hvr[13], 3, "not a HelloVerifyRequest");
            let rec = usize::from(u16::from_be_bytes([hvr[11], hvr[12]]));
            assert_eq!(rec, hvr.len() - 13, "record length");
            assert_eq!(
                usize::from(hvr[13 + 12 + 2]),
                hvr.len() - 13 - 12 - 3,
                "cookie length"
            );
        }
        Ok(_) => {}
        Err(e) => panic!("listener verdict failed: {e:?}"),
    }
}

fn drain_datagrams(c: *mut mojo_tls_conn) {
    let mut out = vec![0u8; 65536];
    for _ in 0..64 {
        let n = mojo_tls_conn_drain_datagram(c, out.as_mut_ptr() as *mut c_void, out.len());
        check(n as i64, "drain_datagram");
        if n <= 0 {
            break;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (mtls_cfg, plain_cfg) = (dtls_cfgs().1, dtls_cfgs().0);
    let (sel, rest) = data.split_first().unwrap_or((&0, &[]));
    let (sizes, body) = rest.split_at((*sel as usize >> 2).min(rest.len()));
    let cfgh = if sel & 1 == 1 { mtls_cfg } else { plain_cfg };
    let c = check_ptr(
        mojo_tls_conn_new_memory(cfgh as *const mojo_tls_config, std::ptr::null()),
        "conn_new_memory",
    );
    check(
        mojo_tls_conn_set_peer_id(c, PEER.as_ptr() as *const c_void, PEER.len()) as i64,
        "set_peer_id",
    );
    let mut buf = vec![0u8; 16384];
    let mut off = 0;
    let mut i = 0;
    while off < body.len() {
        let step = match sizes.get(i) {
            Some(&s) if s > 0 => (s as usize) * 4,
            _ => body.len() - off,
        }
        .min(body.len() - off);
        i += 1;
        let d = &body[off..off + step];
        off += step;
        listener_step(cfgh, d);
        check(
            mojo_tls_conn_feed_datagram(c, d.as_ptr() as *const c_void, d.len()) as i64,
            "feed_datagram",
        );
        for _ in 0..4 {
            let rc = mojo_tls_conn_handshake(c);
            check(rc as i64, "handshake");
            drain_datagrams(c);
            check(mojo_tls_conn_next_timeout_ms(c) as i64, "next_timeout_ms");
            if rc != 0 {
                break;
            }
            let n = mojo_tls_conn_read(c, buf.as_mut_ptr() as *mut c_void, buf.len());
            check(n as i64, "read");
            if n <= 0 {
                break;
            }
        }
    }
    check(mojo_tls_conn_free(c) as i64, "free");
});
