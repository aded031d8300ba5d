//! TLS 1.3 resumption key exchange modes, seen on the wire: memory-mode
//! pairs whose pump keeps the plaintext ClientHello and ServerHello.
//!
//! Default: clients offer psk_dhe_ke only and servers accept nothing else,
//! so a resumed session runs ECDHE (ServerHello with pre_shared_key and
//! key_share). `set_resumption_without_forward_secrecy(true)` on both
//! ends: full handshakes still run ECDHE; a resumption offers psk_ke alone
//! with no key share (an Mbed TLS 3.6 server prefers a full ECDHE
//! handshake to psk_ke whenever there is one) and the ServerHello has
//! pre_shared_key without key_share. An opted-in client meeting a server
//! that will not resume it fails with a message saying why; an opted-in
//! server resumes default clients with psk_dhe_ke. psk_ke against OpenSSL:
//! `tests/interop/tls13.py`.

mod common;
use common::*;

use mojo_tls::testing::ffi::*;
use mojo_tls::testing::Code;
use mojo_tls::testing::Config;
use mojo_tls::testing::Conn;

const EXT_PRE_SHARED_KEY: u16 = 0x0029;
const EXT_PSK_KEY_EXCHANGE_MODES: u16 = 0x002d;
const EXT_KEY_SHARE: u16 = 0x0033;
const PSK_KE: u8 = 0;
const PSK_DHE_KE: u8 = 1;

/// The first handshake message (type, body) of a flight of TLS records.
fn first_handshake(flight: &[u8]) -> (u8, Vec<u8>) {
    // Concatenate handshake records until the first message is complete.
    let mut hs = Vec::new();
    let mut p = flight;
    while p.len() >= 5 && p[0] == 22 {
        let len = usize::from(u16::from_be_bytes([p[3], p[4]]));
        hs.extend_from_slice(&p[5..5 + len]);
        p = &p[5 + len..];
        if hs.len() >= 4 {
            let mlen = (usize::from(hs[1]) << 16) | (usize::from(hs[2]) << 8) | usize::from(hs[3]);
            if hs.len() >= 4 + mlen {
                return (hs[0], hs[4..4 + mlen].to_vec());
            }
        }
    }
    panic!("no complete handshake message in {} bytes", flight.len());
}

/// Extensions (type, data) of a ClientHello or ServerHello body.
fn extensions(hello: &[u8], client: bool) -> Vec<(u16, Vec<u8>)> {
    let mut p = 2 + 32; // legacy_version, random
    p += 1 + usize::from(hello[p]); // legacy_session_id
    if client {
        p += 2 + usize::from(u16::from_be_bytes([hello[p], hello[p + 1]])); // cipher_suites
        p += 1 + usize::from(hello[p]); // compression methods
    } else {
        p += 2 + 1; // cipher_suite, compression method
    }
    let end = p + 2 + usize::from(u16::from_be_bytes([hello[p], hello[p + 1]]));
    p += 2;
    let mut out = Vec::new();
    while p + 4 <= end {
        let t = u16::from_be_bytes([hello[p], hello[p + 1]]);
        let l = usize::from(u16::from_be_bytes([hello[p + 2], hello[p + 3]]));
        out.push((t, hello[p + 4..p + 4 + l].to_vec()));
        p += 4 + l;
    }
    assert_eq!(p, end, "extensions end");
    out
}

fn has(exts: &[(u16, Vec<u8>)], t: u16) -> bool {
    exts.iter().any(|(e, _)| *e == t)
}

/// What one handshake showed on the wire.
#[derive(Debug)]
struct Wire {
    /// psk_key_exchange_modes the client offered (empty: extension absent).
    offered_modes: Vec<u8>,
    /// The client sent a key_share.
    client_key_share: bool,
    /// ServerHello: pre_shared_key (a PSK was accepted), key_share (ECDHE).
    server_psk: bool,
    server_key_share: bool,
    client_resumed: bool,
    server_resumed: bool,
    version: u16,
}

impl Wire {
    /// The key exchange the ServerHello selected.
    fn mode(&self) -> &'static str {
        match (self.server_psk, self.server_key_share) {
            (true, true) => "psk_dhe_ke",
            (true, false) => "psk_ke",
            (false, true) => "ephemeral (full handshake)",
            (false, false) => "none (TLS 1.2?)",
        }
    }
}

/// Handshake `c` with `s`, keeping the first flight each way; then data
/// both ways.
fn run(c: &Conn, s: &Conn) -> Wire {
    let mut first: [Option<Vec<u8>>; 2] = [None, None];
    let mut buf = vec![0u8; 64 * 1024];
    let mut done = false;
    for _ in 0..50 {
        let rc = c.handshake();
        let rs = s.handshake();
        if rc.is_ok() && rs.is_ok() {
            done = true;
            break;
        }
        for r in [&rc, &rs] {
            if let Err(e) = r {
                assert_eq!(e.code, Code::MOJO_TLS_ERR_WANT_READ, "handshake: {e:?}");
            }
        }
        let mut moved = false;
        for (i, (from, to)) in [(c, s), (s, c)].into_iter().enumerate() {
            let mut flight = Vec::new();
            loop {
                let n = from.drain(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                flight.extend_from_slice(&buf[..n]);
            }
            if !flight.is_empty() {
                to.feed(&flight).unwrap();
                first[i].get_or_insert(flight);
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    assert!(done, "handshake did not finish");
    c.write_all(b"ping").unwrap();
    pump(c, s);
    let mut b = [0u8; 8];
    assert_eq!(s.read(&mut b).unwrap(), 4);
    s.write_all(b"pong").unwrap();
    pump(c, s);
    assert_eq!(c.read(&mut b).unwrap(), 4);
    assert_eq!(&b[..4], b"pong");

    let (t, ch) = first_handshake(first[0].as_ref().expect("client flight"));
    assert_eq!(t, 1, "ClientHello");
    let (t, sh) = first_handshake(first[1].as_ref().expect("server flight"));
    assert_eq!(t, 2, "ServerHello");
    let cx = extensions(&ch, true);
    let sx = extensions(&sh, false);
    let offered_modes = cx
        .iter()
        .find(|(e, _)| *e == EXT_PSK_KEY_EXCHANGE_MODES)
        .map(|(_, d)| {
            assert_eq!(usize::from(d[0]), d.len() - 1);
            d[1..].to_vec()
        })
        .unwrap_or_default();
    Wire {
        offered_modes,
        client_key_share: has(&cx, EXT_KEY_SHARE),
        server_psk: has(&sx, EXT_PRE_SHARED_KEY),
        server_key_share: has(&sx, EXT_KEY_SHARE),
        client_resumed: c.resumed().unwrap(),
        server_resumed: s.resumed().unwrap(),
        version: c.version().unwrap(),
    }
}

/// A full handshake (whose wire is returned) and the ticket it left.
fn full(client: &Config, server: &Config) -> (Wire, Vec<u8>) {
    let c = Conn::in_memory(client, Some("localhost")).unwrap();
    let s = Conn::in_memory(server, None).unwrap();
    let w = run(&c, &s);
    assert!(!w.client_resumed && !w.server_resumed, "{w:?}");
    settle(&c, &s);
    (w, c.export_session().unwrap())
}

fn resume(client: &Config, server: &Config, blob: &[u8]) -> Wire {
    let c = Conn::in_memory(client, Some("localhost")).unwrap();
    let s = Conn::in_memory(server, None).unwrap();
    c.import_session(blob).unwrap();
    run(&c, &s)
}

/// Both ends resumed, the client offered psk_dhe_ke alone and got it.
fn assert_resumed_with_psk_dhe_ke(w: &Wire) {
    assert!(w.client_resumed && w.server_resumed, "{w:?}");
    assert_eq!(w.offered_modes, [PSK_DHE_KE], "{w:?}");
    assert_eq!(w.mode(), "psk_dhe_ke", "{w:?}");
}

struct Pki {
    ca: mojo_tls::testing::certgen::GenCert,
    cert: mojo_tls::testing::certgen::GenCert,
}

fn pki() -> Pki {
    let ca = ca("Resumption modes CA");
    let cert = leaf(&ca, "localhost", "localhost", SERVER);
    Pki { ca, cert }
}

fn ccfg(p: &Pki, psk_ke: bool) -> Config {
    let c = client_config(&p.ca);
    c.set_resumption_without_forward_secrecy(psk_ke).unwrap();
    c
}

fn scfg(p: &Pki, psk_ke: bool) -> Config {
    let s = server_config(&p.cert);
    s.enable_session_tickets(3600).unwrap();
    s.set_resumption_without_forward_secrecy(psk_ke).unwrap();
    s
}

#[test]
fn default_resumption_keeps_ecdhe() {
    let p = pki();
    // Configurations never told anything about the modes.
    let client = client_config(&p.ca);
    let server = server_config(&p.cert);
    server.enable_session_tickets(3600).unwrap();
    let (w, blob) = full(&client, &server);
    assert_eq!(w.version, 0x0304);
    // Mbed TLS's own default would offer psk_ke too.
    assert_eq!(w.offered_modes, [PSK_DHE_KE], "{w:?}");
    assert_eq!(w.mode(), "ephemeral (full handshake)");

    let w = resume(&client, &server, &blob);
    assert!(w.client_resumed && w.server_resumed, "{w:?}");
    assert_eq!(w.offered_modes, [PSK_DHE_KE], "{w:?}");
    assert!(w.client_key_share, "{w:?}");
    assert_eq!(w.mode(), "psk_dhe_ke", "{w:?}");
}

#[test]
fn server_opted_in_default_client_resumes_with_psk_dhe_ke() {
    let p = pki();
    let (client, server) = (ccfg(&p, false), scfg(&p, true));
    let (_, blob) = full(&client, &server);
    let w = resume(&client, &server, &blob);
    assert_resumed_with_psk_dhe_ke(&w);
}

#[test]
fn both_ends_opted_in_resume_with_psk_ke() {
    let p = pki();
    let (client, server) = (ccfg(&p, true), scfg(&p, true));
    let (w, blob) = full(&client, &server);
    // Full handshakes still run ECDHE (the modes extension offers both, but
    // no PSK goes with it).
    assert!(w.client_key_share, "{w:?}");
    assert_eq!(w.mode(), "ephemeral (full handshake)", "{w:?}");
    let w = resume(&client, &server, &blob);
    // psk_ke alone and no key share: an Mbed TLS server prefers a full
    // ECDHE handshake to psk_ke whenever the ClientHello has a key share
    // (psk_dhe_ke > ephemeral > psk_ke, ssl_tls13_server.c).
    assert_eq!(w.offered_modes, [PSK_KE], "{w:?}");
    assert!(!w.client_key_share, "{w:?}");
    assert_eq!(w.mode(), "psk_ke", "{w:?}");
    assert!(w.client_resumed && w.server_resumed, "{w:?}");
}

#[test]
fn opted_in_client_and_a_server_that_will_not_resume_fail_clearly() {
    let p = pki();
    let client = ccfg(&p, true);
    let (_, blob) = full(&client, &scfg(&p, true));
    // A default server (psk_ke not allowed), and an opted-in server that
    // cannot open the ticket (other ticket keys): no resumption is
    // possible and without a key share no full handshake either.
    for server in [scfg(&p, false), scfg(&p, true)] {
        let c = Conn::in_memory(&client, Some("localhost")).unwrap();
        let s = Conn::in_memory(&server, None).unwrap();
        c.import_session(&blob).unwrap();
        let mut failed = None;
        let mut buf = vec![0u8; 64 * 1024];
        for _ in 0..20 {
            let (rc, rs) = (c.handshake(), s.handshake());
            if let Err(e) = &rc {
                if e.code != Code::MOJO_TLS_ERR_WANT_READ {
                    failed = Some(e.clone());
                    break;
                }
            }
            assert!(rc.is_err() || rs.is_err(), "the handshake must not succeed");
            for (from, to) in [(&c, &s), (&s, &c)] {
                let n = from.drain(&mut buf).unwrap();
                if n > 0 {
                    let _ = to.feed(&buf[..n]);
                }
            }
        }
        let e = failed.expect("the client's handshake fails");
        assert_eq!(e.code, Code::MOJO_TLS_ERR_HANDSHAKE, "{e:?}");
        assert!(e.message.contains("psk_ke"), "{}", e.message);
        assert!(e.message.contains("without the session"), "{}", e.message);
        // Without the session the same configurations connect.
        let (w, _) = full(&client, &server);
        assert_eq!(w.mode(), "ephemeral (full handshake)", "{w:?}");
    }
}

#[test]
fn turning_it_off_again_restores_psk_dhe_ke() {
    let p = pki();
    let (client, server) = (ccfg(&p, true), scfg(&p, true));
    let (_, blob) = full(&client, &server);
    assert_eq!(resume(&client, &server, &blob).mode(), "psk_ke");
    // Both configurations are in use (built); setting them back rebuilds.
    client
        .set_resumption_without_forward_secrecy(false)
        .unwrap();
    server
        .set_resumption_without_forward_secrecy(false)
        .unwrap();
    let (_, blob) = full(&client, &server);
    let w = resume(&client, &server, &blob);
    assert_resumed_with_psk_dhe_ke(&w);
}

#[test]
fn tls12_resumption_is_unaffected() {
    let p = pki();
    let (client, server) = (ccfg(&p, true), scfg(&p, true));
    client.set_max_version(0x0303).unwrap();
    let (w, blob) = full(&client, &server);
    assert_eq!(w.version, 0x0303);
    let w = resume(&client, &server, &blob);
    assert_eq!(w.version, 0x0303);
    assert!(w.client_resumed && w.server_resumed, "{w:?}");
}

#[test]
fn c_entry_point() {
    let invalid = Code::MOJO_TLS_ERR_INVALID_HANDLE as i32;
    assert_eq!(
        mojo_tls_config_insecure_resumption_without_forward_secrecy(std::ptr::null_mut(), 1),
        invalid
    );
    for role in [MOJO_TLS_ROLE_CLIENT, MOJO_TLS_ROLE_SERVER] {
        let cfg = mojo_tls_config_new(role);
        assert!(!cfg.is_null());
        assert_eq!(
            mojo_tls_config_insecure_resumption_without_forward_secrecy(cfg, 1),
            0
        );
        assert_eq!(
            mojo_tls_config_insecure_resumption_without_forward_secrecy(cfg, 0),
            0
        );
        assert_eq!(
            mojo_tls_config_insecure_resumption_without_forward_secrecy(cfg, 7),
            0
        );
        assert_eq!(mojo_tls_config_free(cfg), 0);
        assert_eq!(
            mojo_tls_config_insecure_resumption_without_forward_secrecy(cfg, 1),
            invalid,
            "freed"
        );
    }
}
