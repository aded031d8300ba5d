//! Unit tests of the record engine: known answers for the key derivations
//! (computed with `openssl kdf`), and two engines talking to each other.

use zeroize::Zeroizing;

use super::content_type::HandshakeType;
use super::layer::rekey;
use super::protect::MAX_PLAINTEXT;
use super::*;

fn hex(s: &str) -> Vec<u8> {
    s.split([':', ' '])
        .filter(|x| !x.is_empty())
        .map(|x| u8::from_str_radix(x, 16).unwrap())
        .collect()
}

#[test]
fn hkdf_expand_label_matches_openssl() {
    let secret = [0xaa; 32];
    let s = suite::find(0x1301, true).unwrap();
    let (k, iv) = keys::tls13_key_iv(s, &secret);
    assert_eq!(*k, hex("CB:0C:A6:B2:D1:77:8E:32:55:CA:5E:A7:75:66:2F:2B"));
    assert_eq!(*iv, hex("53:91:19:54:10:5B:F6:00:9C:B7:D6:C7"));
    assert_eq!(
        *keys::tls13_next_secret(s, &secret),
        hex("F8:5D:85:5A:D7:EC:61:80:40:09:25:DB:7C:0E:A4:42:D9:07:6C:D4:17:4D:B4:A4:66:54:B1:1E:A4:16:BE:DD")
    );
}

#[test]
fn tls12_key_block_matches_openssl() {
    let (master, cr, sr) = ([0xbb; 48], [0x11; 32], [0x22; 32]);
    // ECDHE-ECDSA-AES128-GCM-SHA256: 2*16 + 2*4 bytes of SHA-256 PRF output.
    let k = tls12_keys_from_master(0xC02B, &master, &cr, &sr).unwrap();
    let block = hex("04:C6:AE:5E:CB:57:C1:C1:39:0E:C3:A5:42:86:D7:EB:73:AD:FC:16:C0:49:52:65:4A:86:46:1B:68:20:63:64:DA:21:6E:6F:26:32:D5:F5");
    assert_eq!(*k.client_key, block[..16]);
    assert_eq!(*k.server_key, block[16..32]);
    assert_eq!(*k.client_iv, block[32..36]);
    assert_eq!(*k.server_iv, block[36..40]);
    // ECDHE-RSA-AES256-GCM-SHA384: 2*32 + 2*4 bytes of SHA-384 PRF output.
    let k = tls12_keys_from_master(0xC030, &master, &cr, &sr).unwrap();
    let block = hex("77:FB:0D:86:B6:6E:C7:BC:E4:59:31:1B:32:6C:3A:EB:F5:D4:35:F3:21:8A:89:97:30:F7:AE:34:89:C4:94:47:B0:C9:C3:70:F3:0F:E5:6F:EB:60:49:5E:71:65:F0:13:D2:E0:C0:2D:96:43:5D:0E:EE:51:5D:F1:D3:A3:D8:90:F6:38:2F:22:15:E5:B5:3C");
    assert_eq!(*k.client_key, block[..32]);
    assert_eq!(*k.server_iv, block[68..72]);
    // Splitting the key block directly gives the same keys.
    let s = suite::find(0xC030, false).unwrap();
    let k2 = keys::tls12_from_block(s, &block, 32, 4).unwrap();
    assert_eq!(*k2.server_key, block[32..64]);
    assert!(keys::tls12_from_block(s, &block, 16, 4).is_none());
    assert!(tls12_keys_from_master(0x1301, &master, &cr, &sr).is_none());
}

const SUITES: [(u16, bool); 6] = [
    (0xC02B, false),
    (0xC030, false),
    (0xCCA8, false),
    (0x1301, true),
    (0x1302, true),
    (0x1303, true),
];

fn secrets(suite: u16, tls13: bool) -> Secrets {
    if tls13 {
        let n = suite::find(suite, true).unwrap().hash.output_len();
        Secrets::Tls13 {
            client: Zeroizing::new(vec![1; n]),
            server: Zeroizing::new(vec![2; n]),
        }
    } else {
        tls12_keys_from_master(suite, &[7; 48], &[1; 32], &[2; 32])
            .map(Secrets::Tls12)
            .unwrap()
    }
}

/// (client, server) engines as right after a handshake.
fn pair(suite: u16, tls13: bool) -> (RecordLayer, RecordLayer) {
    let seq = u64::from(!tls13);
    (
        RecordLayer::new(suite, false, secrets(suite, tls13), seq, seq).unwrap(),
        RecordLayer::new(suite, true, secrets(suite, tls13), seq, seq).unwrap(),
    )
}

/// Open every record in `wire`; collect application data and the other events.
fn open_all(rl: &mut RecordLayer, wire: &mut [u8], reply: &mut Vec<u8>) -> (Vec<u8>, Vec<Opened>) {
    let (mut data, mut events, mut at) = (Vec::new(), Vec::new(), 0);
    while at < wire.len() {
        match rl.open(&mut wire[at..], reply).unwrap() {
            Opened::AppData { consumed, range } => {
                data.extend_from_slice(&wire[at + range.start..at + range.end]);
                at += consumed;
            }
            Opened::Incomplete { need } => panic!("incomplete, need {need}"),
            ev => {
                at += match &ev {
                    Opened::CloseNotify { consumed }
                    | Opened::Alert { consumed, .. }
                    | Opened::Nothing { consumed }
                    | Opened::SessionTicket { consumed, .. } => *consumed,
                    _ => unreachable!(),
                };
                events.push(ev);
            }
        }
    }
    (data, events)
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 + i / 7) as u8).collect()
}

#[test]
fn round_trip_every_suite_both_ways() {
    for (suite, tls13) in SUITES {
        let (mut c, mut s) = pair(suite, tls13);
        for n in [1, 100, MAX_PLAINTEXT, MAX_PLAINTEXT + 1, 100_000] {
            let data = payload(n);
            let mut wire = Vec::new();
            c.seal_app_data(&data, &mut wire).unwrap();
            assert_eq!(wire.len(), c.sealed_len(n), "{suite:04x}");
            let mut reply = Vec::new();
            let (got, ev) = open_all(&mut s, &mut wire, &mut reply);
            assert_eq!(got, data, "{suite:04x} n={n}");
            assert!(ev.is_empty() && reply.is_empty());
            let mut wire = Vec::new();
            s.seal_app_data(&data, &mut wire).unwrap();
            assert_eq!(open_all(&mut c, &mut wire, &mut reply).0, data);
        }
        // close_notify
        let mut wire = Vec::new();
        c.seal_alert(alert::CLOSE_NOTIFY, false, &mut wire).unwrap();
        let (_, ev) = open_all(&mut s, &mut wire, &mut Vec::new());
        assert_eq!(
            ev,
            [Opened::CloseNotify {
                consumed: wire.len()
            }]
        );
    }
}

#[test]
fn records_are_incomplete_until_whole() {
    let (mut c, mut s) = pair(0x1301, true);
    let mut wire = Vec::new();
    c.seal_app_data(b"hello", &mut wire).unwrap();
    let mut r = Vec::new();
    assert_eq!(
        s.open(&mut wire[..3], &mut r),
        Ok(Opened::Incomplete { need: 5 })
    );
    let total = wire.len();
    assert_eq!(
        s.open(&mut wire[..total - 1], &mut r),
        Ok(Opened::Incomplete { need: total })
    );
    assert!(
        matches!(s.open(&mut wire, &mut r), Ok(Opened::AppData { consumed, .. }) if consumed == total)
    );
}

#[test]
fn tampering_and_replay_fail_authentication() {
    for (suite, tls13) in SUITES {
        let (mut c, mut s) = pair(suite, tls13);
        let mut wire = Vec::new();
        c.seal_app_data(b"attack at dawn", &mut wire).unwrap();
        let mut copy = wire.clone();
        let last = copy.len() - 1;
        copy[last] ^= 1;
        assert_eq!(
            s.open(&mut copy, &mut Vec::new()),
            Err(RecordError::BAD_RECORD_MAC)
        );
        // Header bytes are authenticated too (length cannot change; type can).
        let (mut c, mut s) = pair(suite, tls13);
        let mut wire = Vec::new();
        c.seal_app_data(b"attack at dawn", &mut wire).unwrap();
        let mut copy = wire.clone();
        copy[0] = ContentType::ALERT;
        assert!(s.open(&mut copy, &mut Vec::new()).is_err());
        // A replayed record fails: the sequence number moved on.
        let (mut c, mut s) = pair(suite, tls13);
        let mut wire = Vec::new();
        c.seal_app_data(b"once", &mut wire).unwrap();
        let mut again = wire.clone();
        assert!(matches!(
            s.open(&mut wire, &mut Vec::new()),
            Ok(Opened::AppData { .. })
        ));
        assert_eq!(
            s.open(&mut again, &mut Vec::new()),
            Err(RecordError::BAD_RECORD_MAC)
        );
    }
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "seals an oversized record on purpose, which debug builds assert against"
)]
fn record_size_limits() {
    for (suite, tls13) in SUITES {
        let (mut c, mut s) = pair(suite, tls13);
        // A header announcing more than the limit is refused before reading it.
        let max = if tls13 {
            MAX_PLAINTEXT + 256
        } else {
            MAX_PLAINTEXT + 2048
        };
        let mut hdr = vec![23, 3, 3];
        hdr.extend_from_slice(&((max + 1) as u16).to_be_bytes());
        assert_eq!(
            s.open(&mut hdr, &mut Vec::new()),
            Err(RecordError::RECORD_OVERFLOW)
        );
        // A record that authenticates but holds more than 2^14 bytes.
        let mut wire = Vec::new();
        c.write
            .seal(
                ContentType::APPLICATION_DATA,
                &payload(MAX_PLAINTEXT + 1),
                &mut wire,
            )
            .unwrap();
        assert_eq!(
            s.open(&mut wire, &mut Vec::new()),
            Err(RecordError::RECORD_OVERFLOW)
        );
    }
}

#[test]
fn tls13_padding_and_content_type() {
    let (mut c, mut s) = pair(0x1303, true);
    // content "hi", type 23, then 100 bytes of zero padding
    let mut inner = b"hi".to_vec();
    inner.push(ContentType::APPLICATION_DATA);
    inner.extend_from_slice(&[0; 99]);
    let mut wire = Vec::new();
    c.write.seal(0, &inner, &mut wire).unwrap();
    let (got, _) = open_all(&mut s, &mut wire, &mut Vec::new());
    assert_eq!(got, b"hi");
    // all padding: no content type
    let mut wire = Vec::new();
    c.write.seal(0, &[0; 10], &mut wire).unwrap();
    assert_eq!(
        s.open(&mut wire, &mut Vec::new()).unwrap_err().alert,
        alert::UNEXPECTED_MESSAGE
    );
}

#[test]
fn alerts() {
    for (suite, tls13) in SUITES {
        let (mut c, mut s) = pair(suite, tls13);
        let mut wire = Vec::new();
        c.seal_alert(alert::NO_RENEGOTIATION, false, &mut wire)
            .unwrap();
        c.seal_alert(alert::BAD_RECORD_MAC, true, &mut wire)
            .unwrap();
        let (_, ev) = open_all(&mut s, &mut wire, &mut Vec::new());
        let warning_ignored = !tls13;
        assert_eq!(ev.len(), 2);
        assert_eq!(matches!(ev[0], Opened::Nothing { .. }), warning_ignored);
        assert!(matches!(
            ev[1],
            Opened::Alert {
                desc: alert::BAD_RECORD_MAC,
                ..
            }
        ));
        // malformed alerts: one byte, three bytes
        for body in [&[2][..], &[2, 40, 0]] {
            let mut wire = Vec::new();
            c.write.seal(ContentType::ALERT, body, &mut wire).unwrap();
            assert_eq!(
                s.open(&mut wire, &mut Vec::new()).unwrap_err().alert,
                alert::DECODE_ERROR
            );
        }
    }
}

#[test]
fn an_empty_alert_record_is_an_unexpected_message() {
    // RFC 8446 §5.1 (tlsfuzzer test-tls13-empty-alert); the same rule in TLS 1.2.
    for (suite, tls13) in SUITES {
        let (mut c, mut s) = pair(suite, tls13);
        let mut wire = Vec::new();
        c.write.seal(ContentType::ALERT, &[], &mut wire).unwrap();
        let err = s.open(&mut wire, &mut Vec::new()).unwrap_err();
        assert_eq!(err.alert, alert::UNEXPECTED_MESSAGE, "suite {suite:#06x}");
        assert!(err.message.contains("empty alert"), "{}", err.message);
    }
}

#[test]
fn key_update_both_directions() {
    for suite in [0x1301, 0x1302, 0x1303] {
        let (mut c, mut s) = pair(suite, true);
        // The client updates and asks the server to update as well.
        let mut wire = Vec::new();
        c.seal_key_update(true, &mut wire).unwrap();
        c.seal_app_data(b"after update", &mut wire).unwrap();
        let mut reply = Vec::new();
        let (got, ev) = open_all(&mut s, &mut wire, &mut reply);
        assert_eq!(got, b"after update");
        assert!(matches!(ev[..], [Opened::Nothing { .. }]));
        assert_eq!(s.key_updates(), (1, 1));
        // The server's answer (a KeyUpdate, not requesting) goes first.
        s.seal_app_data(b"server data", &mut reply).unwrap();
        let mut back = Vec::new();
        let (got, _) = open_all(&mut c, &mut reply, &mut back);
        assert_eq!(got, b"server data");
        assert!(back.is_empty(), "update_not_requested needs no answer");
        assert_eq!(c.key_updates(), (1, 1));
        // Data still flows both ways under the new keys.
        let mut wire = Vec::new();
        c.seal_app_data(b"more", &mut wire).unwrap();
        assert_eq!(open_all(&mut s, &mut wire, &mut Vec::new()).0, b"more");
    }
}

#[test]
fn key_update_rules() {
    let (mut c, mut s) = pair(0x1301, true);
    // data after a KeyUpdate in the same record
    let mut wire = Vec::new();
    c.write
        .seal(
            ContentType::HANDSHAKE,
            &[HandshakeType::KEY_UPDATE, 0, 0, 1, 0, 0],
            &mut wire,
        )
        .unwrap();
    assert_eq!(
        s.open(&mut wire, &mut Vec::new()).unwrap_err().alert,
        alert::UNEXPECTED_MESSAGE
    );
    // a bad request value
    let (mut c, mut s) = pair(0x1301, true);
    let mut wire = Vec::new();
    c.write
        .seal(
            ContentType::HANDSHAKE,
            &[HandshakeType::KEY_UPDATE, 0, 0, 1, 7],
            &mut wire,
        )
        .unwrap();
    assert_eq!(
        s.open(&mut wire, &mut Vec::new()).unwrap_err().alert,
        alert::ILLEGAL_PARAMETER
    );
    // TLS 1.2 has none
    let (mut c12, _) = pair(0xC02B, false);
    assert!(c12.seal_key_update(false, &mut Vec::new()).is_err());
}

#[test]
fn a_key_update_split_over_records_is_reassembled() {
    let (mut c, mut s) = pair(0x1301, true);
    let mut wire = Vec::new();
    c.write
        .seal(
            ContentType::HANDSHAKE,
            &[HandshakeType::KEY_UPDATE, 0],
            &mut wire,
        )
        .unwrap();
    c.write
        .seal(ContentType::HANDSHAKE, &[0, 1, 0], &mut wire)
        .unwrap();
    // switch the client's write key by hand, as the KeyUpdate says
    c.write = rekey(c.suite, &mut c.write_secret).unwrap();
    c.seal_app_data(b"x", &mut wire).unwrap();
    let (got, _) = open_all(&mut s, &mut wire, &mut Vec::new());
    assert_eq!(got, b"x");
    assert_eq!(s.key_updates(), (0, 1));
    // an application record in the middle of a handshake message
    let (mut c, mut s) = pair(0x1301, true);
    let mut wire = Vec::new();
    c.write
        .seal(
            ContentType::HANDSHAKE,
            &[HandshakeType::KEY_UPDATE, 0],
            &mut wire,
        )
        .unwrap();
    c.seal_app_data(b"x", &mut wire).unwrap();
    let first = wire.len() - c.sealed_len(1);
    assert!(matches!(
        s.open(&mut wire[..first], &mut Vec::new()),
        Ok(Opened::Nothing { .. })
    ));
    assert_eq!(
        s.open(&mut wire[first..], &mut Vec::new())
            .unwrap_err()
            .alert,
        alert::UNEXPECTED_MESSAGE
    );
}

#[test]
fn automatic_key_update_before_the_aes_gcm_limit() {
    let (mut c, mut s) = pair(0x1301, true);
    let limit = c.suite.aead.record_limit();
    c.write.seq = limit - 1;
    s.read.seq = limit - 1;
    let data = payload(3 * MAX_PLAINTEXT);
    let mut wire = Vec::new();
    c.seal_app_data(&data, &mut wire).unwrap();
    assert_eq!(c.key_updates(), (1, 0));
    let (got, _) = open_all(&mut s, &mut wire, &mut Vec::new());
    assert_eq!(got, data);
    assert_eq!(s.key_updates(), (0, 1));
}

#[test]
fn tls12_sequence_exhaustion() {
    let (mut c, mut s) = pair(0xCCA8, false);
    c.write.seq = u64::MAX - 1;
    s.read.seq = u64::MAX - 1;
    let mut wire = Vec::new();
    c.seal_app_data(b"last", &mut wire).unwrap();
    assert_eq!(open_all(&mut s, &mut wire, &mut Vec::new()).0, b"last");
    assert_eq!(
        c.seal_app_data(b"one more", &mut Vec::new()),
        Err(RecordError::SEQ_EXHAUSTED)
    );
}

#[test]
fn tls13_tickets_are_handed_back_for_mbedtls() {
    // The server already sent two records under this key before takeover.
    let sec = || secrets(0x1302, true);
    let mut c = RecordLayer::new(0x1302, false, sec(), 2, 0).unwrap();
    let mut s = RecordLayer::new(0x1302, true, sec(), 0, 2).unwrap();
    let nst = [HandshakeType::NEW_SESSION_TICKET, 0, 0, 3, 9, 9, 9];
    let mut wire = Vec::new();
    // a KeyUpdate first: the ticket is re-encrypted under the original key anyway
    s.seal_key_update(false, &mut wire).unwrap();
    s.write
        .seal(ContentType::HANDSHAKE, &nst, &mut wire)
        .unwrap();
    s.write
        .seal(ContentType::HANDSHAKE, &[nst, nst].concat(), &mut wire)
        .unwrap();
    s.seal_app_data(b"data", &mut wire).unwrap();
    let (got, ev) = open_all(&mut c, &mut wire, &mut Vec::new());
    assert_eq!(got, b"data");
    assert!(matches!(ev[0], Opened::Nothing { .. }), "the KeyUpdate");
    // What Mbed TLS gets: records under traffic_secret_0 at its sequence numbers 2, 3.
    let mut mbed = RecordLayer::new(0x1302, false, secrets(0x1302, true), 2, 0).unwrap();
    let mut expect = vec![nst.to_vec(), [nst, nst].concat()].into_iter();
    for e in ev.into_iter().skip(1) {
        let Opened::SessionTicket { mut record, .. } = e else {
            panic!("expected a ticket, got {e:?}");
        };
        let (inner, range) = mbed.read.open(&mut record).unwrap();
        assert_eq!(inner, ContentType::HANDSHAKE);
        assert_eq!(record[range].to_vec(), expect.next().unwrap());
    }
    assert!(expect.next().is_none());
    // A server never accepts a ticket.
    let (mut c, mut s) = pair(0x1301, true);
    let mut wire = Vec::new();
    c.write
        .seal(ContentType::HANDSHAKE, &nst, &mut wire)
        .unwrap();
    assert!(s.open(&mut wire, &mut Vec::new()).is_err());
}

#[test]
fn tls12_renegotiation_is_refused_politely() {
    let (mut c, mut s) = pair(0xC02B, false);
    let mut wire = Vec::new();
    s.write
        .seal(
            ContentType::HANDSHAKE,
            &[HandshakeType::HELLO_REQUEST, 0, 0, 0],
            &mut wire,
        )
        .unwrap();
    let mut reply = Vec::new();
    let (_, ev) = open_all(&mut c, &mut wire, &mut reply);
    assert!(matches!(ev[..], [Opened::Nothing { .. }]));
    // the server reads a no_renegotiation warning, which it ignores
    let (_, ev) = open_all(&mut s, &mut reply, &mut Vec::new());
    assert!(matches!(ev[..], [Opened::Nothing { .. }]));
    // other handshake messages are unexpected
    let mut wire = Vec::new();
    s.write
        .seal(
            ContentType::HANDSHAKE,
            &[HandshakeType::NEW_SESSION_TICKET, 0, 0, 0],
            &mut wire,
        )
        .unwrap();
    assert!(c.open(&mut wire, &mut Vec::new()).is_err());
}

#[test]
fn unexpected_record_types() {
    let (_, mut s) = pair(0x1301, true);
    let mut ccs = [ContentType::CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1];
    assert_eq!(
        s.open(&mut ccs, &mut Vec::new()).unwrap_err().alert,
        alert::UNEXPECTED_MESSAGE
    );
    let (_, mut s) = pair(0xC02B, false);
    let mut junk = [99, 3, 3, 0, 1, 1];
    assert_eq!(
        s.open(&mut junk, &mut Vec::new()).unwrap_err().alert,
        alert::UNEXPECTED_MESSAGE
    );
    let mut v = [23, 3, 1, 0, 1, 1];
    assert_eq!(
        s.open(&mut v, &mut Vec::new()).unwrap_err().alert,
        alert::PROTOCOL_VERSION
    );
}

#[test]
fn unsupported_suites_are_declined() {
    assert!(!supported(0xC0AC, false)); // CCM
    assert!(!supported(0xC027, false)); // CBC
    assert!(!supported(0xC02B, true));
    assert!(supported(0x1303, true));
    assert!(RecordLayer::new(0x1304, false, secrets(0x1301, true), 0, 0).is_none());
}
