//! The server side of a handshake fed arbitrary bytes as the client's flight
//! (memory mode): ClientHello parsing, extensions, client certificates
//! (byte 0 bit 0: mutual TLS required), key exchange, records.
#![no_main]

use fuzz_common::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = pki();
    let (sel, rest) = data.split_first().unwrap_or((&0, &[]));
    let (sizes, body) = rest.split_at((*sel as usize >> 2).min(rest.len()));
    let cfgh = if sel & 1 == 1 { p.scfg_mtls } else { p.scfg };
    let c = check_ptr(
        mojo_tls_conn_new_memory(cfg(cfgh), std::ptr::null()),
        "conn_new_memory",
    );
    feed_and_run(c, body, sizes);
    let mut name = [0u8; 300];
    let _ = mojo_tls_conn_server_name(c, name.as_mut_ptr() as *mut _, name.len());
    check(mojo_tls_conn_free(c) as i64, "free");
});
