//! TLS features in memory mode: mutual TLS, SNI, ALPN, resumption, pinning,
//! key log, CRL.

mod common;
use common::*;

use mojo_tls::testing::certgen;
use mojo_tls::testing::sha256;
use mojo_tls::testing::Code;
use mojo_tls::testing::Config;
use mojo_tls::testing::Conn;

#[test]
fn mutual_tls_required_optional_and_wrong_ca() {
    let ca1 = ca("CA one");
    let server = server_config(&leaf(&ca1, "localhost", "localhost", SERVER));
    server.load_ca_mem(ca1.cert_pem.as_bytes()).unwrap();
    server.set_client_auth(2).unwrap();

    // Required, client has no certificate: both sides fail with a reason.
    let (ce, se) = connect(&client_config(&ca1), &server, "localhost")
        .err()
        .expect("must fail");
    let se = se.expect("server error");
    assert_eq!(se.code, Code::MOJO_TLS_ERR_HANDSHAKE, "{se}");
    assert!(
        se.message.contains("no certificate") || se.message.contains("certificate"),
        "{se}"
    );
    assert!(ce.is_some(), "the client sees the failure too");

    // Client certificate from the right CA: accepted, visible to the server.
    let client = client_config(&ca1);
    add_cert(&client, &leaf(&ca1, "alice", "alice.example", CLIENT));
    let (_c, s) = connect(&client, &server, "localhost").unwrap();
    assert!(s.peer_cert().unwrap().subject.contains("CN=alice"));
    assert_eq!(s.verify_flags().unwrap(), 0);

    // Client certificate from another CA: rejected.
    let ca2 = ca("CA two");
    let stranger = client_config(&ca1);
    add_cert(&stranger, &leaf(&ca2, "mallory", "mallory.example", CLIENT));
    let (_, se) = connect(&stranger, &server, "localhost")
        .err()
        .expect("must fail");
    assert_eq!(
        se.expect("server error").code,
        Code::MOJO_TLS_ERR_VERIFY_FAILED
    );

    // Optional and no client certificate: fine, and "no peer cert".
    server.set_client_auth(1).unwrap();
    let (_c, s) = connect(&client_config(&ca1), &server, "localhost").unwrap();
    assert_eq!(
        s.peer_cert().unwrap_err().code,
        Code::MOJO_TLS_ERR_NOT_AVAILABLE
    );
}

#[test]
fn sni_selects_the_certificate_and_falls_back_to_the_first() {
    let ca = ca("SNI CA");
    let server = server_config(&leaf(&ca, "one.example", "one.example", SERVER));
    add_cert(
        &server,
        &leaf(&ca, "two.example", "two.example,*.two.example", SERVER),
    );
    let client = client_config(&ca);
    for (name, expect_cn) in [
        ("one.example", "one.example"),
        ("two.example", "two.example"),
        ("www.two.example", "two.example"),
    ] {
        let (c, s) = connect(&client, &server, name).unwrap();
        assert!(c
            .peer_cert()
            .unwrap()
            .subject
            .contains(&format!("CN={expect_cn}")));
        assert_eq!(s.server_name().unwrap().as_deref(), Some(name));
    }
    // Unknown name: the first certificate (which then fails host name verification).
    client.insecure_skip_hostname_check(true).unwrap();
    let (c, s) = connect(&client, &server, "unknown.example").unwrap();
    assert!(c.peer_cert().unwrap().subject.contains("CN=one.example"));
    assert_eq!(s.server_name().unwrap().as_deref(), Some("unknown.example"));
}

#[test]
fn alpn_negotiation_and_no_overlap() {
    let ca = ca("ALPN CA");
    let server = server_config(&leaf(&ca, "localhost", "localhost", SERVER));
    server.set_alpn("h2,http/1.1").unwrap();
    let client = client_config(&ca);
    client.set_alpn("http/1.1").unwrap();
    let (c, s) = connect(&client, &server, "localhost").unwrap();
    assert_eq!(c.alpn().unwrap().as_deref(), Some("http/1.1"));
    assert_eq!(s.alpn().unwrap().as_deref(), Some("http/1.1"));

    client.set_alpn("imap").unwrap();
    let (ce, se) = connect(&client, &server, "localhost")
        .err()
        .expect("no overlap must fail");
    assert_eq!(se.unwrap().code, Code::MOJO_TLS_ERR_HANDSHAKE);
    let ce = ce.unwrap();
    assert_eq!(ce.code, Code::MOJO_TLS_ERR_HANDSHAKE);
    assert!(ce.message.contains("no_application_protocol"), "{ce}");

    // Client without ALPN: nothing negotiated.
    let (c, _s) = connect(&client_config(&ca), &server, "localhost").unwrap();
    assert_eq!(c.alpn().unwrap(), None);
}

fn resume_with(server: &Config, client: &Config) {
    let (c, s) = connect(client, server, "localhost").unwrap();
    assert!(!c.resumed().unwrap());
    settle(&c, &s);
    let blob = c.export_session().unwrap();
    let c2 = Conn::in_memory(client, Some("localhost")).unwrap();
    let s2 = Conn::in_memory(server, None).unwrap();
    c2.import_session(&blob).unwrap();
    handshake(&c2, &s2).unwrap();
    assert!(c2.resumed().unwrap(), "client resumed");
    assert!(s2.resumed().unwrap(), "server resumed");

    // A corrupted blob is rejected and the connection does a full handshake.
    let mut bad = blob.clone();
    bad.truncate(bad.len() / 2);
    let c3 = Conn::in_memory(client, Some("localhost")).unwrap();
    let s3 = Conn::in_memory(server, None).unwrap();
    assert_eq!(
        c3.import_session(&bad).unwrap_err().code,
        Code::MOJO_TLS_ERR_PARSE
    );
    assert_eq!(
        c3.import_session(b"garbage").unwrap_err().code,
        Code::MOJO_TLS_ERR_PARSE
    );
    handshake(&c3, &s3).unwrap();
    assert!(!c3.resumed().unwrap());
}

#[test]
fn resumption_with_tickets_and_with_the_cache() {
    let ca = ca("Resume CA");
    let cert = leaf(&ca, "localhost", "localhost", SERVER);
    let tickets = server_config(&cert);
    tickets.enable_session_tickets(3600).unwrap();
    resume_with(&tickets, &client_config(&ca));

    // The session-id cache is TLS 1.2's mechanism (TLS 1.3 resumes with
    // tickets only), so this server speaks TLS 1.2.
    let cache = server_config(&cert);
    cache.set_session_cache(100, 300).unwrap();
    cache.set_max_version(0x0303).unwrap();
    resume_with(&cache, &client_config(&ca));

    // Neither: no resumption.
    let plain = server_config(&cert);
    let client = client_config(&ca);
    let (c, s) = connect(&client, &plain, "localhost").unwrap();
    settle(&c, &s);
    let blob = c.export_session().unwrap();
    let c2 = Conn::in_memory(&client, Some("localhost")).unwrap();
    let s2 = Conn::in_memory(&plain, None).unwrap();
    c2.import_session(&blob).unwrap();
    handshake(&c2, &s2).unwrap();
    assert!(!c2.resumed().unwrap());
}

#[test]
fn pinning_by_certificate_and_spki() {
    let ca = ca("Pin CA");
    let cert = leaf(&ca, "localhost", "localhost", SERVER);
    let server = server_config(&cert);
    let der_pin = sha256(&cert.cert_der);

    let client = client_config(&ca);
    client.add_pin(false, &der_pin).unwrap();
    let (c, _s) = connect(&client, &server, "localhost").unwrap();
    let spki_pin = sha256(&c.peer_cert().unwrap().spki);

    let spki_client = client_config(&ca);
    spki_client.add_pin(true, &spki_pin).unwrap();
    connect(&spki_client, &server, "localhost").unwrap();

    // The chain verifies but no pin matches: rejected.
    let wrong = client_config(&ca);
    wrong.add_pin(false, &[7u8; 32]).unwrap();
    let (ce, _) = connect(&wrong, &server, "localhost")
        .err()
        .expect("must fail");
    let ce = ce.unwrap();
    assert_eq!(ce.code, Code::MOJO_TLS_ERR_VERIFY_FAILED);
    assert!(ce.message.contains("pin"), "{ce}");
    assert_eq!(
        wrong.add_pin(false, &[1u8; 31]).unwrap_err().code,
        Code::MOJO_TLS_ERR_INVALID_ARGUMENT
    );

    // Pin-only against a self-signed server: no CA, the pin is the trust.
    let selfsigned = certgen::leaf(None, "device", "device.local", 0, 10, SERVER, 0).unwrap();
    let ss_server = server_config(&selfsigned);
    let pin_only = Config::new(false);
    pin_only
        .add_pin(false, &sha256(&selfsigned.cert_der))
        .unwrap();
    pin_only.set_pin_only(true).unwrap();
    connect(&pin_only, &ss_server, "127.0.0.1").unwrap();
    let bad_pin_only = Config::new(false);
    bad_pin_only.add_pin(false, &der_pin).unwrap();
    bad_pin_only.set_pin_only(true).unwrap();
    let (ce, _) = connect(&bad_pin_only, &ss_server, "device.local")
        .err()
        .expect("must fail");
    assert_eq!(ce.unwrap().code, Code::MOJO_TLS_ERR_VERIFY_FAILED);
    // Without pin-only, a self-signed server is untrusted.
    let (ce, _) = connect(&client_config(&ca), &ss_server, "device.local")
        .err()
        .expect("must fail");
    assert_eq!(ce.unwrap().code, Code::MOJO_TLS_ERR_VERIFY_FAILED);
}

#[test]
fn crl_revokes_a_certificate() {
    let ca = ca("CRL CA");
    let good = leaf(&ca, "localhost", "localhost", SERVER);
    let revoked = leaf(&ca, "localhost", "localhost", SERVER);
    let crl = certgen::crl_pem(&ca, &[&revoked]).unwrap();
    let client = client_config(&ca);
    client.load_crl_mem(crl.as_bytes()).unwrap();
    connect(&client, &server_config(&good), "localhost").unwrap();
    let (ce, _) = connect(&client, &server_config(&revoked), "localhost")
        .err()
        .expect("must fail");
    let ce = ce.unwrap();
    assert_eq!(ce.code, Code::MOJO_TLS_ERR_VERIFY_FAILED);
    assert!(ce.message.to_lowercase().contains("revoked"), "{ce}");
    assert_eq!(
        client.load_crl_mem(b"not a crl").unwrap_err().code,
        Code::MOJO_TLS_ERR_PARSE
    );
}

#[test]
fn key_log_writes_traffic_secret_lines_tls13() {
    key_log_case(0x0304);
}

#[test]
fn key_log_writes_client_random_lines_tls12() {
    key_log_case(0x0303);
}

/// The key log of one connection at `version` (the client's maximum).
fn key_log_case(version: i32) {
    let dir = std::env::temp_dir().join(format!(
        "mojo-tls-keylog-{}-{version:04x}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keys.log");
    let ca = ca("Keylog CA");
    let server = server_config(&leaf(&ca, "localhost", "localhost", SERVER));
    let client = client_config(&ca);
    client.set_max_version(version).unwrap();
    client
        .set_keylog_file(Some(path.to_str().unwrap()))
        .unwrap();
    let (c, _s) = connect(&client, &server, "localhost").unwrap();
    assert_eq!(i32::from(c.version().unwrap()), version);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(' ').collect()).collect();
    let labels: Vec<&str> = lines.iter().map(|p| p[0]).collect();
    if version == 0x0304 {
        for want in [
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_TRAFFIC_SECRET_0",
            "SERVER_TRAFFIC_SECRET_0",
        ] {
            assert!(labels.contains(&want), "{want} missing in {labels:?}");
        }
    } else {
        assert_eq!(labels, ["CLIENT_RANDOM"]);
    }
    for parts in &lines {
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1].len(), 64, "client random");
        assert!(parts[2].len() == 64 || parts[2].len() == 96, "secret");
        assert!(
            lines.iter().all(|p| p[1] == parts[1]),
            "one connection, one client random"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_suite_list_narrows_the_versions() {
    let ca = ca("Suites CA");
    let server = server_config(&leaf(&ca, "localhost", "localhost", SERVER));
    server
        .set_ciphersuites("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256")
        .unwrap();
    let (c, _s) = connect(&client_config(&ca), &server, "localhost").unwrap();
    assert_eq!(c.version().unwrap(), 0x0303, "only TLS 1.2 suites: TLS 1.2");
    assert_eq!(
        c.cipher().unwrap().to_str().unwrap(),
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
    );
    server
        .set_ciphersuites("TLS_CHACHA20_POLY1305_SHA256")
        .unwrap();
    let (c, _s) = connect(&client_config(&ca), &server, "localhost").unwrap();
    assert_eq!(c.version().unwrap(), 0x0304, "only TLS 1.3 suites: TLS 1.3");
    assert_eq!(
        c.cipher().unwrap().to_str().unwrap(),
        "TLS_CHACHA20_POLY1305_SHA256"
    );
}
