//! Memory-mode connections driven entirely in-process: handshake, data both
//! ways, clean EOF and truncation, through the crate's Rust API.

mod common;
use common::*;

use mojo_tls::testing::certgen;
use mojo_tls::testing::Code;
use mojo_tls::testing::Config;
use mojo_tls::testing::Conn;

fn configs() -> (Config, Config) {
    let ca = ca("Test CA");
    let cert = leaf(&ca, "localhost", "localhost,127.0.0.1", SERVER);
    (client_config(&ca), server_config(&cert))
}

fn read_exact(r: &Conn, w: &Conn, len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    while out.len() < len {
        match r.read(&mut buf) {
            Ok(n) => {
                assert!(n > 0, "unexpected EOF");
                out.extend_from_slice(&buf[..n]);
            }
            Err(e) if e.code == Code::MOJO_TLS_ERR_WANT_READ => assert!(pump(r, w), "stalled"),
            Err(e) => panic!("{e}"),
        }
    }
    out
}

#[test]
fn handshake_data_and_clean_eof() {
    let (ccfg, scfg) = configs();
    let c = Conn::in_memory(&ccfg, Some("localhost")).unwrap();
    let s = Conn::in_memory(&scfg, None).unwrap();
    handshake(&c, &s).unwrap();
    // Default settings on both sides: TLS 1.3.
    assert_eq!(c.version().unwrap(), 0x0304);
    assert_eq!(s.version().unwrap(), 0x0304);
    assert_eq!(c.version_name().unwrap().to_str().unwrap(), "TLSv1.3");
    assert!(c
        .cipher()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("TLS_AES_"));
    assert_eq!(c.verify_flags().unwrap(), 0);

    let data: Vec<u8> = (0..1_100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    assert_eq!(c.write_all(&data).unwrap(), data.len());
    assert_eq!(read_exact(&s, &c, data.len()), data);
    s.write_all(&data[..300_000]).unwrap();
    assert_eq!(read_exact(&c, &s, 300_000), &data[..300_000]);

    c.close_notify().unwrap();
    pump(&c, &s);
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf).unwrap(), 0, "close_notify is a clean EOF");
    assert_eq!(s.read(&mut buf).unwrap(), 0, "EOF is sticky");
    assert_eq!(c.write(b"x").unwrap_err().code, Code::MOJO_TLS_ERR_CLOSED);
}

#[test]
fn eof_without_close_notify_is_truncation() {
    let (ccfg, scfg) = configs();
    let c = Conn::in_memory(&ccfg, Some("localhost")).unwrap();
    let s = Conn::in_memory(&scfg, None).unwrap();
    handshake(&c, &s).unwrap();
    s.write_all(b"partial").unwrap();
    pump(&c, &s);
    c.feed_eof().unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(c.read(&mut buf).unwrap(), 7);
    assert_eq!(
        c.read(&mut buf).unwrap_err().code,
        Code::MOJO_TLS_ERR_TRUNCATED
    );
    // Fatal errors are sticky.
    assert_eq!(
        c.read(&mut buf).unwrap_err().code,
        Code::MOJO_TLS_ERR_TRUNCATED
    );
}

#[test]
fn wrong_host_name_fails_verification() {
    let (ccfg, scfg) = configs();
    let (err, _) = connect(&ccfg, &scfg, "other.example")
        .err()
        .expect("handshake must fail");
    let e = err.expect("no verification error");
    assert_eq!(e.code, Code::MOJO_TLS_ERR_VERIFY_FAILED);
    // The message names the host expected and the names checked.
    assert!(
        e.message.contains("does not match host name \"other.example\" (checked subjectAltName entries: DNS:localhost, IP:127.0.0.1)"),
        "{}",
        e.message
    );
    assert!(!e.message.contains("Common Name"), "{}", e.message);

    // An IP literal; and a certificate without SANs names its CN.
    let (err, _) = connect(&ccfg, &scfg, "10.9.8.7").err().expect("must fail");
    let msg = err.expect("client error").message;
    assert!(
        msg.contains("host name \"10.9.8.7\" (checked subjectAltName"),
        "{msg}"
    );
    let ca = ca("No-SAN CA");
    let no_san = certgen::leaf(Some(&ca), "legacy.example", "", 0, 10, SERVER, 0).unwrap();
    let (err, _) = connect(&client_config(&ca), &server_config(&no_san), "new.example")
        .err()
        .expect("must fail");
    let msg = err.expect("client error").message;
    assert!(
        msg.contains(
            "host name \"new.example\" (no subjectAltName; checked CN \"legacy.example\")"
        ),
        "{msg}"
    );
}

#[test]
fn socket_only_calls_are_rejected_in_memory_mode() {
    let (ccfg, _) = configs();
    let c = Conn::in_memory(&ccfg, Some("localhost")).unwrap();
    assert_eq!(c.fd().unwrap_err().code, Code::MOJO_TLS_ERR_NOT_AVAILABLE);
    assert_eq!(
        c.version().unwrap_err().code,
        Code::MOJO_TLS_ERR_NOT_AVAILABLE
    );
}

/// Issue 19: `pending` is exactly what reads return without more input.
/// Fast layer: after the first read took every fed byte in, `pending` is
/// all the plaintext not read yet, whatever the read sizes (record
/// boundaries included); Mbed TLS's layer: reading `pending` bytes never
/// needs input. A close_notify behind the data counts as 1.
#[test]
fn pending_counts_everything_readable_without_input() {
    for mbed in [false, true] {
        let (ccfg, scfg) = configs();
        if mbed {
            ccfg.set_record_layer(1).unwrap();
            scfg.set_record_layer(1).unwrap();
        }
        let c = Conn::in_memory(&ccfg, Some("localhost")).unwrap();
        let s = Conn::in_memory(&scfg, None).unwrap();
        handshake(&c, &s).unwrap();
        let mut total = 0;
        for (i, len) in [1usize, 16384, 16385, 40000, 7, 65536, 3]
            .iter()
            .enumerate()
        {
            let data = vec![i as u8; *len];
            assert_eq!(s.write_all(&data).unwrap(), *len);
            total += len;
        }
        s.close_notify().unwrap();
        pump(&s, &c);
        let mut buf = vec![0u8; 70000];
        let mut got = 0;
        // 16384 is a record's size: reads that end on record boundaries.
        for (k, want) in [100usize, 16284, 16384, 1, 16384, 40000, 70000]
            .iter()
            .cycle()
            .enumerate()
        {
            if got == total || k > 200 {
                break;
            }
            let n = c.read(&mut buf[..*want]).unwrap();
            assert!(n > 0, "EOF before the data ({mbed})");
            got += n;
            let p = c.pending();
            if !mbed {
                // at the end: the close_notify behind the data
                let expect = if got == total { 1 } else { total - got };
                assert_eq!(p, expect, "fast layer after {got} bytes");
            } else if p > 0 && got < total {
                let n = c.read(&mut buf[..p]).unwrap();
                assert_eq!(n, p, "Mbed TLS layer: pending bytes need no input");
                got += n;
            }
        }
        assert_eq!(got, total);
        // the close_notify is inside the library (Mbed TLS: still in the
        // fed input, which counts once a read takes it)
        if !mbed {
            assert_eq!(c.pending(), 1);
        }
        assert_eq!(c.read(&mut buf).unwrap(), 0);
        assert_eq!(c.pending(), 0);
    }
}
