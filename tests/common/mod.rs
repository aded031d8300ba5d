//! Shared helpers for the Rust integration tests: generated PKI, memory-mode
//! connection pairs and a pump that moves ciphertext between them.
#![allow(dead_code)]

use mojo_tls::testing::certgen::{self, GenCert};
use mojo_tls::testing::CertChain;
use mojo_tls::testing::Config;
use mojo_tls::testing::Conn;
use mojo_tls::testing::PrivateKey;
use mojo_tls::testing::{Code, Error};

pub const SERVER: i32 = 1;
pub const CLIENT: i32 = 2;

pub fn ca(name: &str) -> GenCert {
    certgen::ca(name, 10, 0).unwrap()
}

pub fn leaf(issuer: &GenCert, cn: &str, sans: &str, usage: i32) -> GenCert {
    certgen::leaf(Some(issuer), cn, sans, 0, 10, usage, 0).unwrap()
}

pub fn add_cert(cfg: &Config, cert: &GenCert) {
    let mut chain = CertChain::new();
    chain.add(cert.cert_pem.as_bytes(), false).unwrap();
    cfg.add_cert(
        chain,
        PrivateKey::parse(cert.key_pem.as_bytes(), None).unwrap(),
    )
    .unwrap();
}

pub fn server_config(cert: &GenCert) -> Config {
    let cfg = Config::new(true);
    add_cert(&cfg, cert);
    cfg
}

pub fn client_config(ca: &GenCert) -> Config {
    let cfg = Config::new(false);
    cfg.load_ca_mem(ca.cert_pem.as_bytes()).unwrap();
    cfg
}

/// Move ciphertext both ways; true if anything moved.
pub fn pump(a: &Conn, b: &Conn) -> bool {
    let mut buf = vec![0u8; 64 * 1024];
    let mut moved = false;
    for (from, to) in [(a, b), (b, a)] {
        loop {
            let n = from.drain(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            to.feed(&buf[..n]).unwrap();
            moved = true;
        }
    }
    moved
}

/// Handshake both sides; Ok, or the first hard error (client's, server's).
pub fn handshake(c: &Conn, s: &Conn) -> Result<(), (Option<Error>, Option<Error>)> {
    let mut errs: (Option<Error>, Option<Error>) = (None, None);
    for _ in 0..50 {
        let rc = c.handshake();
        let rs = s.handshake();
        if rc.is_ok() && rs.is_ok() {
            return Ok(());
        }
        if let Err(e) = rc {
            if e.code != Code::MOJO_TLS_ERR_WANT_READ {
                errs.0.get_or_insert(e);
            }
        }
        if let Err(e) = rs {
            if e.code != Code::MOJO_TLS_ERR_WANT_READ {
                errs.1.get_or_insert(e);
            }
        }
        if !pump(c, s) {
            break;
        }
    }
    // TLS 1.3: the client finishes before the server has checked the
    // client's certificate; the server's alert then arrives on a read.
    if errs.0.is_none() && errs.1.is_some() && c.handshake().is_ok() {
        pump(c, s);
        let mut buf = [0u8; 16];
        if let Err(e) = c.read(&mut buf) {
            if e.code != Code::MOJO_TLS_ERR_WANT_READ {
                errs.0 = Some(e);
            }
        }
    }
    Err(errs)
}

/// Let post-handshake messages (TLS 1.3 NewSessionTicket) reach the client:
/// the server sends a byte, the client reads it.
pub fn settle(c: &Conn, s: &Conn) {
    s.write_all(b"!").unwrap();
    pump(c, s);
    let mut buf = [0u8; 8];
    assert_eq!(c.read(&mut buf).unwrap(), 1);
}

pub fn tls13(c: &Conn) -> bool {
    c.version().unwrap() == 0x0304
}

/// A client and a server memory connection, handshaken.
pub fn connect(
    ccfg: &Config,
    scfg: &Config,
    name: &str,
) -> Result<(Conn, Conn), (Option<Error>, Option<Error>)> {
    let c = Conn::in_memory(ccfg, Some(name)).unwrap();
    let s = Conn::in_memory(scfg, None).unwrap();
    handshake(&c, &s)?;
    Ok((c, s))
}
