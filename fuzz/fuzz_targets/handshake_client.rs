//! The client side of a handshake fed arbitrary bytes as the server's flight
//! (memory mode). Byte 0 picks the configuration (verifying or VERIFY_NONE,
//! which reaches past certificate checks) and, with byte 1, how the input is
//! split into feeds. Crashes, hangs and caught panics are bugs.
#![no_main]

use fuzz_common::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = pki();
    let (sel, rest) = data.split_first().unwrap_or((&0, &[]));
    let (sizes, body) = rest.split_at((*sel as usize >> 2).min(rest.len()));
    let cfgh = if sel & 1 == 1 {
        p.ccfg_noverify
    } else {
        p.ccfg
    };
    let c = check_ptr(
        mojo_tls_conn_new_memory(cfg(cfgh), c"localhost".as_ptr()),
        "conn_new_memory",
    );
    if sel & 2 == 2 {
        // offer a session first (exercises the resumption path)
        let _ = mojo_tls_conn_session_import(c, body.as_ptr(), body.len().min(300));
    }
    check(mojo_tls_conn_handshake(c) as i64, "first handshake step");
    drain_all(c);
    feed_and_run(c, body, sizes);
    let _ = mojo_tls_conn_verify_flags(c);
    check(mojo_tls_conn_free(c) as i64, "free");
});
