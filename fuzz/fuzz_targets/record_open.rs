//! The fast record layer's parser (src/record/): byte 0 picks the suite and
//! the role. In "raw" mode the rest is fed to `open` as received bytes; in
//! "sealed" mode it is cut into (type, content) pieces that a peer engine
//! protects first, so the fuzzer reaches the code behind authentication
//! (alerts, handshake reassembly, KeyUpdate, tickets, padding). Invariants:
//! no panic, `consumed` never exceeds the input, plaintext lies inside the
//! consumed record, and every call makes progress or asks for more.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mojo_tls::testing::record::{tls12_keys_from_master, Opened, RecordLayer, Secrets};
use zeroize::Zeroizing;

const SUITES: [(u16, bool); 6] = [
    (0xC02B, false),
    (0xC030, false),
    (0xCCA9, false),
    (0x1301, true),
    (0x1302, true),
    (0x1303, true),
];

fn secrets(suite: u16, tls13: bool) -> Secrets {
    if tls13 {
        let n = if suite == 0x1302 { 48 } else { 32 };
        Secrets::Tls13 {
            client: Zeroizing::new(vec![1; n]),
            server: Zeroizing::new(vec![2; n]),
        }
    } else {
        Secrets::Tls12(tls12_keys_from_master(suite, &[7; 48], &[1; 32], &[2; 32]).unwrap())
    }
}

fn drain(rl: &mut RecordLayer, mut input: Vec<u8>) {
    let mut at = 0;
    let mut reply = Vec::new();
    while at < input.len() {
        let len = input.len() - at;
        match rl.open(&mut input[at..], &mut reply) {
            Err(_) => return,
            Ok(Opened::Incomplete { need }) => {
                assert!(need > len, "Incomplete must ask for more than it has");
                return;
            }
            Ok(Opened::AppData { consumed, range }) => {
                assert!(consumed <= len && range.end <= consumed && range.start <= range.end);
                at += consumed;
            }
            Ok(
                Opened::CloseNotify { consumed }
                | Opened::Alert { consumed, .. }
                | Opened::Nothing { consumed }
                | Opened::SessionTicket { consumed, .. },
            ) => {
                assert!(consumed > 0 && consumed <= len);
                at += consumed;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let (suite, tls13) = SUITES[usize::from(sel & 7) % SUITES.len()];
    let server = sel & 8 != 0;
    let seq = u64::from(!tls13);
    let Some(mut rx) = RecordLayer::new(suite, server, secrets(suite, tls13), seq, seq) else {
        return;
    };
    if sel & 16 == 0 {
        drain(&mut rx, rest.to_vec());
        return;
    }
    let mut tx = RecordLayer::new(suite, !server, secrets(suite, tls13), seq, seq).unwrap();
    let mut wire = Vec::new();
    let mut it = rest;
    while let [ctype, n, tail @ ..] = it {
        let n = (usize::from(*n) * 67).min(tail.len());
        let (content, more) = tail.split_at(n);
        if tx.seal_raw_for_tests(*ctype, content, &mut wire).is_err() {
            break;
        }
        it = more;
    }
    drain(&mut rx, wire);
});
