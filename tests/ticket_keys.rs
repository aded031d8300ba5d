//! Session tickets under the caller's keys: separate server configurations
//! (as separate servers would be) with the same keys resume each other's
//! tickets; other keys, a rotated-out key or an expired ticket mean a full
//! handshake that still works.

mod common;
use common::*;

use mojo_tls::testing::Code;
use mojo_tls::testing::Config;
use mojo_tls::testing::Conn;

fn key(b: u8) -> Vec<u8> {
    vec![b; 32]
}

/// A ticket from `issuer` (the client's first, full handshake).
fn ticket_from(client: &Config, issuer: &Config) -> Vec<u8> {
    let (c, s) = connect(client, issuer, "localhost").unwrap();
    assert!(!c.resumed().unwrap());
    settle(&c, &s);
    c.export_session().unwrap()
}

/// Offer `blob` to `server`; (client resumed, server resumed), after
/// checking data flows both ways.
fn offer(client: &Config, server: &Config, blob: &[u8]) -> (bool, bool) {
    let c = Conn::in_memory(client, Some("localhost")).unwrap();
    let s = Conn::in_memory(server, None).unwrap();
    c.import_session(blob).unwrap();
    handshake(&c, &s).unwrap();
    c.write_all(b"ping").unwrap();
    pump(&c, &s);
    let mut buf = [0u8; 8];
    assert_eq!(s.read(&mut buf).unwrap(), 4);
    s.write_all(b"pong").unwrap();
    pump(&c, &s);
    assert_eq!(c.read(&mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], b"pong");
    (c.resumed().unwrap(), s.resumed().unwrap())
}

#[test]
fn servers_sharing_keys_resume_each_others_tickets() {
    let ca = ca("Ticket keys CA");
    let cert = leaf(&ca, "localhost", "localhost", SERVER);
    let client = client_config(&ca);
    let a = server_config(&cert);
    a.set_ticket_keys(&key(1)).unwrap();
    let b = server_config(&cert);
    b.set_ticket_keys(&key(1)).unwrap();
    let other = server_config(&cert);
    other.set_ticket_keys(&key(2)).unwrap();
    let random = server_config(&cert);
    random.enable_session_tickets(3600).unwrap();

    let blob = ticket_from(&client, &a);
    assert_eq!(offer(&client, &b, &blob), (true, true), "A's ticket on B");
    assert_eq!(offer(&client, &a, &blob), (true, true), "A's ticket on A");
    assert_eq!(offer(&client, &other, &blob), (false, false), "other keys");
    assert_eq!(
        offer(&client, &random, &blob),
        (false, false),
        "random keys"
    );
    // ... and the other way round: B's ticket on A.
    let blob = ticket_from(&client, &b);
    assert_eq!(offer(&client, &a, &blob), (true, true), "B's ticket on A");
}

#[test]
fn rotation_keeps_listed_keys_and_drops_the_others() {
    let ca = ca("Ticket rotation CA");
    let cert = leaf(&ca, "localhost", "localhost", SERVER);
    let client = client_config(&ca);
    let server = server_config(&cert);
    server.set_ticket_keys(&key(1)).unwrap();
    let old = ticket_from(&client, &server);

    // New key first, the old one still accepted.
    server.set_ticket_keys(&[key(3), key(1)].concat()).unwrap();
    assert_eq!(offer(&client, &server, &old), (true, true));
    // A ticket sealed now uses key 3: a server with only key 1 refuses it.
    let new = ticket_from(&client, &server);
    let only_old = server_config(&cert);
    only_old.set_ticket_keys(&key(1)).unwrap();
    assert_eq!(offer(&client, &only_old, &new), (false, false));
    // Key 1 retired: its tickets no longer resume.
    server.set_ticket_keys(&key(3)).unwrap();
    assert_eq!(offer(&client, &server, &old), (false, false));
    assert_eq!(offer(&client, &server, &new), (true, true));
}

#[test]
fn expired_tickets_and_bad_arguments() {
    let ca = ca("Ticket expiry CA");
    let cert = leaf(&ca, "localhost", "localhost", SERVER);
    let client = client_config(&ca);
    let server = server_config(&cert);
    server.enable_session_tickets(1).unwrap();
    server.set_ticket_keys(&key(5)).unwrap();
    let blob = ticket_from(&client, &server);
    assert_eq!(offer(&client, &server, &blob), (true, true));
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(offer(&client, &server, &blob), (false, false), "expired");

    for bad in [0, 16, 33, 32 * 9] {
        let e = server.set_ticket_keys(&vec![1; bad]).unwrap_err();
        assert_eq!(e.code, Code::MOJO_TLS_ERR_INVALID_ARGUMENT, "{bad} bytes");
    }
    let e = client.set_ticket_keys(&key(1)).unwrap_err();
    assert_eq!(e.code, Code::MOJO_TLS_ERR_BAD_STATE);
}
