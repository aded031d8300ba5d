//! TLS 1.3 psk_ke on the server side. A client resuming with psk_ke alone
//! and no key share (Mbed TLS with only the PSK mode; no setting of ours
//! gives one) is the only kind an Mbed TLS 3.6 server resumes with psk_ke:
//! with a key share in the ClientHello it prefers a full ECDHE handshake.
//! The default server refuses it; one with
//! `set_resumption_without_forward_secrecy(true)` resumes without a
//! key_share in its ServerHello.

use crate::backend::pk::PrivateKey;
use crate::backend::sys;
use crate::backend::x509::CertChain;
use crate::certgen;
use crate::config::Config;
use crate::conn::Conn;
use crate::error::Code;

const EXT_PRE_SHARED_KEY: u16 = 0x0029;
const EXT_KEY_SHARE: u16 = 0x0033;

fn pump(a: &Conn, b: &Conn, server_flight: &mut Vec<u8>) -> bool {
    let mut buf = vec![0u8; 64 * 1024];
    let mut moved = false;
    for (from, to, server) in [(a, b, false), (b, a, true)] {
        loop {
            let n = from.drain(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            if server && server_flight.is_empty() {
                server_flight.extend_from_slice(&buf[..n]);
            }
            to.feed(&buf[..n]).unwrap();
            moved = true;
        }
    }
    moved
}

/// Handshake; Ok(ServerHello extension types) or the client's error code.
fn handshake(c: &Conn, s: &Conn) -> Result<Vec<u16>, Code> {
    let mut flight = Vec::new();
    for _ in 0..50 {
        let (rc, rs) = (c.handshake(), s.handshake());
        if rc.is_ok() && rs.is_ok() {
            return Ok(server_hello_extensions(&flight));
        }
        for r in [rc, rs] {
            if let Err(e) = r {
                if e.code != Code::MOJO_TLS_ERR_WANT_READ {
                    return Err(e.code);
                }
            }
        }
        if !pump(c, s, &mut flight) {
            break;
        }
    }
    panic!("handshake stalled");
}

/// Extension types of the ServerHello at the start of a server flight.
fn server_hello_extensions(flight: &[u8]) -> Vec<u16> {
    assert_eq!(flight[0], 22, "handshake record");
    let msg = &flight[5..];
    assert_eq!(msg[0], 2, "ServerHello");
    let body = &msg[4..];
    let mut p = 2 + 32;
    p += 1 + usize::from(body[p]) + 3;
    let end = p + 2 + usize::from(u16::from_be_bytes([body[p], body[p + 1]]));
    p += 2;
    let mut types = Vec::new();
    while p < end {
        types.push(u16::from_be_bytes([body[p], body[p + 1]]));
        p += 4 + usize::from(u16::from_be_bytes([body[p + 2], body[p + 3]]));
    }
    types
}

#[test]
fn server_resumes_a_client_without_key_share_only_when_opted_in() {
    let ca = certgen::ca("psk_ke CA", 10, 0).unwrap();
    let leaf = certgen::leaf(Some(&ca), "localhost", "localhost", 0, 10, 1, 0).unwrap();
    let server = |psk_ke: bool| {
        let cfg = Config::new(true);
        let mut chain = CertChain::new();
        chain.add(leaf.cert_pem.as_bytes(), false).unwrap();
        let key = PrivateKey::parse(leaf.key_pem.as_bytes(), None).unwrap();
        cfg.add_cert(chain, key).unwrap();
        cfg.enable_session_tickets(3600).unwrap();
        cfg.set_resumption_without_forward_secrecy(psk_ke).unwrap();
        cfg
    };
    // Resumes only, with psk_ke alone: no supported_groups, no key_share.
    let psk_only = Config::new(false);
    psk_only.load_ca_mem(ca.cert_pem.as_bytes()).unwrap();
    psk_only.override_kex_modes(sys::SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK as i32);

    for opted_in in [true, false] {
        let srv = server(opted_in);
        // A ticket from a full handshake of the ordinary client offering
        // psk_ke (so the ticket allows it).
        let ordinary = Config::new(false);
        ordinary.load_ca_mem(ca.cert_pem.as_bytes()).unwrap();
        ordinary
            .set_resumption_without_forward_secrecy(true)
            .unwrap();
        let c = Conn::in_memory(&ordinary, Some("localhost")).unwrap();
        let s = Conn::in_memory(&srv, None).unwrap();
        handshake(&c, &s).unwrap();
        s.write_all(b"!").unwrap();
        pump(&c, &s, &mut Vec::new());
        let mut b = [0u8; 4];
        assert_eq!(c.read(&mut b).unwrap(), 1);
        let blob = c.export_session().unwrap();

        let c = Conn::in_memory(&psk_only, Some("localhost")).unwrap();
        let s = Conn::in_memory(&srv, None).unwrap();
        c.import_session(&blob).unwrap();
        let r = handshake(&c, &s);
        if opted_in {
            let exts = r.expect("psk_ke resumption");
            assert!(exts.contains(&EXT_PRE_SHARED_KEY), "{exts:x?}");
            assert!(!exts.contains(&EXT_KEY_SHARE), "{exts:x?}");
            assert!(c.resumed().unwrap() && s.resumed().unwrap());
            c.write_all(b"ping").unwrap();
            pump(&c, &s, &mut Vec::new());
            assert_eq!(s.read(&mut b).unwrap(), 4);
        } else {
            // The default server accepts neither psk_ke nor a handshake
            // without a key share.
            assert_eq!(r.unwrap_err(), Code::MOJO_TLS_ERR_HANDSHAKE);
        }
    }
}
