//! Concurrent full handshakes on shared configurations, in one process with
//! no sockets: 8 threads each run client/server pairs over memory
//! transports against one server config (tickets on) and one client config.
//! The pairs share the configs' Mbed TLS state (ticket keys, DRBGs, PSA's
//! key store and RNG, the engine's hook table) across threads.
//!
//! `MOJO_TLS_STRESS_HANDSHAKES` sets the handshakes per thread (default 20
//! here; 300 in the ThreadSanitizer run, tests/reliability/tsan.sh, which
//! builds the standard library, this crate and the Mbed TLS C code with
//! -fsanitize=thread). tests/c/test_handshake_stress.c is the same over
//! real sockets through the C ABI.

mod common;
use common::*;

use std::sync::Arc;

use mojo_tls::testing::Conn;

#[test]
fn eight_threads_of_full_handshakes_on_shared_configs() {
    let per_thread: usize = std::env::var("MOJO_TLS_STRESS_HANDSHAKES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let ca = ca("Stress CA");
    let cert = leaf(&ca, "localhost", "localhost", SERVER);
    let server = Arc::new(server_config(&cert));
    server.enable_session_tickets(0).unwrap();
    let client = Arc::new(client_config(&ca));

    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (client, server) = (client.clone(), server.clone());
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    let c = Conn::in_memory(&client, Some("localhost")).unwrap();
                    let s = Conn::in_memory(&server, None).unwrap();
                    handshake(&c, &s).unwrap_or_else(|e| panic!("thread {t} #{i}: {e:?}"));
                    assert!(tls13(&c), "thread {t} #{i}: not TLS 1.3");
                    assert!(!c.resumed().unwrap() && !s.resumed().unwrap());
                    let msg = format!("thread {t} handshake {i}");
                    c.write_all(msg.as_bytes()).unwrap();
                    pump(&c, &s);
                    let mut buf = [0u8; 64];
                    let n = s.read(&mut buf).unwrap();
                    assert_eq!(&buf[..n], msg.as_bytes());
                }
                per_thread
            })
        })
        .collect();
    let done: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(done, 8 * per_thread);
}

/// Many established connections at once: each holds PSA keys, and with the
/// static PSA key store's default 32 slots handshakes failed with NO_MEMORY
/// long before 100 concurrent connections (the Python asyncio test's 100
/// clients did); .cargo/config.toml sets MBEDTLS_PSA_KEY_SLOT_COUNT.
#[test]
fn hundreds_of_live_connections() {
    let ca = ca("Live CA");
    let cert = leaf(&ca, "localhost", "localhost", SERVER);
    let server = server_config(&cert);
    let client = client_config(&ca);
    let mut live = Vec::new();
    for i in 0..250 {
        let c = Conn::in_memory(&client, Some("localhost")).unwrap();
        let s = Conn::in_memory(&server, None).unwrap();
        handshake(&c, &s).unwrap_or_else(|e| panic!("pair {i}: {e:?}"));
        live.push((c, s));
    }
    // All of them still carry data.
    for (i, (c, s)) in live.iter().enumerate() {
        let msg = format!("pair {i}");
        c.write_all(msg.as_bytes()).unwrap();
        pump(c, s);
        let mut buf = [0u8; 32];
        let n = s.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], msg.as_bytes());
    }
}
