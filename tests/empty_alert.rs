//! An empty alert record after the handshake (tlsfuzzer's
//! test-tls13-empty-alert) is answered with unexpected_message, end to end:
//! a hostile client seals the raw record with the real client's traffic
//! keys, taken from its key log (and, for TLS 1.2, the hello randoms).

mod common;
use common::*;

use mojo_tls::testing::record::{tls12_keys_from_master, Opened, RecordLayer, Secrets};

use mojo_tls::testing::Code;
use mojo_tls::testing::Conn;
use zeroize::Zeroizing;

/// unexpected_message (RFC 8446 §6), the alert the record layer must send.
const UNEXPECTED_MESSAGE: u8 = 10;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The secret logged under `label` (NSS key-log format).
fn logged(log: &str, label: &str) -> Vec<u8> {
    let line = log
        .lines()
        .find(|l| l.starts_with(&format!("{label} ")))
        .unwrap_or_else(|| panic!("no {label} in the key log:\n{log}"));
    unhex(line.split(' ').nth(2).unwrap())
}

/// The random of the hello at the front of a flight (record header 5,
/// handshake header 4, version 2).
fn hello_random(flight: &[u8]) -> Vec<u8> {
    flight[11..43].to_vec()
}

fn drain_all(c: &Conn) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = c.drain(&mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn an_empty_alert_record_gets_unexpected_message_tls13() {
    empty_alert_case("TLS_AES_128_GCM_SHA256", true);
}

#[test]
fn an_empty_alert_record_gets_unexpected_message_tls12() {
    empty_alert_case("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", false);
}

/// One AES-128-GCM suite (the leaf's key is ECDSA) picks the version.
fn empty_alert_case(suite_name: &str, tls13: bool) {
    let log_path = std::env::temp_dir().join(format!(
        "mojo-tls-empty-alert-{}-{suite_name}.log",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&log_path);
    let ca = ca("Empty alert CA");
    let server = server_config(&leaf(&ca, "localhost", "localhost", SERVER));
    let client = client_config(&ca);
    client
        .set_keylog_file(Some(log_path.to_str().unwrap()))
        .unwrap();
    client.set_ciphersuites(suite_name).unwrap();

    let c = Conn::in_memory(&client, Some("localhost")).unwrap();
    let s = Conn::in_memory(&server, None).unwrap();
    // The first flights, kept for their randoms; then the rest.
    assert_eq!(
        c.handshake().unwrap_err().code,
        Code::MOJO_TLS_ERR_WANT_READ
    );
    let client_hello = drain_all(&c);
    s.feed(&client_hello).unwrap();
    assert_eq!(
        s.handshake().unwrap_err().code,
        Code::MOJO_TLS_ERR_WANT_READ
    );
    let server_flight = drain_all(&s);
    c.feed(&server_flight).unwrap();
    handshake(&c, &s).unwrap();
    assert_eq!(
        s.record_layer().unwrap().to_str().unwrap(),
        "mojo-tls (ring)"
    );

    let log = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert_eq!(c.version().unwrap(), if tls13 { 0x0304 } else { 0x0303 });
    let (suite, secrets, seq) = if tls13 {
        let secrets = Secrets::Tls13 {
            client: Zeroizing::new(logged(&log, "CLIENT_TRAFFIC_SECRET_0")),
            server: Zeroizing::new(logged(&log, "SERVER_TRAFFIC_SECRET_0")),
        };
        (0x1301, secrets, 0)
    } else {
        let master = logged(&log, "CLIENT_RANDOM");
        let keys = tls12_keys_from_master(
            0xC02B,
            &master,
            &hello_random(&client_hello),
            &hello_random(&server_flight),
        )
        .unwrap();
        // Each side's Finished was record 0 under these keys.
        (0xC02B, Secrets::Tls12(keys), 1)
    };
    let mut hostile = RecordLayer::new(suite, false, secrets, seq, seq).unwrap();

    // Control: the keys are right (application data gets through).
    let mut wire = Vec::new();
    hostile.seal_raw_for_tests(23, b"hello", &mut wire).unwrap();
    s.feed(&wire).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"hello");

    // The empty alert record.
    let mut wire = Vec::new();
    hostile.seal_raw_for_tests(21, &[], &mut wire).unwrap();
    s.feed(&wire).unwrap();
    let e = s.read(&mut buf).unwrap_err();
    assert!(e.message.contains("empty alert"), "{e}");
    assert!(e.message.contains("unexpected_message"), "{e}");

    // What the server sent back: a fatal unexpected_message alert.
    let mut reply = drain_all(&s);
    match hostile.open(&mut reply, &mut Vec::new()) {
        Ok(Opened::Alert { desc, .. }) => assert_eq!(desc, UNEXPECTED_MESSAGE),
        other => panic!("expected an alert, got {other:?}"),
    }
}
