//! C entry points of the server name callback: registering it on a server
//! configuration, and switching a handshake to another configuration from
//! inside it. (Its own file: it names both handle types, which the config
//! and connection files each define.)

use std::sync::Arc;

use libc::{c_char, c_void};

use super::config::mojo_tls_config;
use super::conn::mojo_tls_conn;
use super::{guard_int, handle, IN_CALLBACK};
use crate::backend::ssl::ServerNameCallback;
use crate::config::Config;
use crate::conn::Conn;
use crate::error::{Error, Result};

fn cfg(h: *const mojo_tls_config) -> Result<Arc<Config>> {
    handle::<Config, _>(h, "config")
}

/// A server name callback (see mojo_tls_config_set_server_name_callback):
/// `userdata` as registered, the connection being handshaken and the name
/// the client asked for (NUL-terminated, valid during the call; NULL when
/// the client sent no SNI). Returns 0 to go on, or a TLS alert description
/// (1..255, e.g. 112 unrecognized_name, 40 handshake_failure) to abort the
/// handshake with that fatal alert.
#[allow(non_camel_case_types)]
pub type mojo_tls_server_name_cb = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        conn: *mut mojo_tls_conn,
        server_name: *const c_char,
    ) -> i32,
>;

/// Server: call `cb` once in every handshake, after the ClientHello (with
/// or without SNI), on the thread that drives the handshake (the one in
/// mojo_tls_conn_new_accept, _handshake, _read or _write; before a
/// connection made by mojo_tls_conn_new_accept has been returned, its
/// handle is already valid in the callback). The callback may call
/// mojo_tls_conn_use_config on `conn` to switch the handshake to another
/// server configuration's certificates; no other function may be called on
/// `conn` inside it (MOJO_TLS_ERR_BAD_STATE). Certificates added with
/// mojo_tls_config_add_cert_* are first chosen by the name as usual (the
/// SNI table); the callback runs after that choice and may replace it. A
/// return value outside 0..255 aborts the handshake with internal_error
/// (80), as does a failure inside the library; the handshake then fails
/// with MOJO_TLS_ERR_HANDSHAKE naming the alert. `cb` NULL removes the
/// callback. `userdata` must stay valid while connections may use the
/// configuration. MOJO_TLS_ERR_BAD_STATE on a client configuration.
#[no_mangle]
pub extern "C" fn mojo_tls_config_set_server_name_callback(
    cfg: *mut mojo_tls_config,
    cb: mojo_tls_server_name_cb,
    userdata: *mut c_void,
) -> i32 {
    guard_int(|| {
        let c = self::cfg(cfg)?;
        let wrapped = cb.map(|f| {
            // Carried as an integer: the pointer is the caller's, passed back as is.
            let userdata = userdata as usize;
            Arc::new(move |tag: usize, name: Option<&str>| {
                // A name with a NUL cannot be passed as a C string: refuse it.
                let Ok(name) = name.map(std::ffi::CString::new).transpose() else {
                    return 112;
                };
                let previous = IN_CALLBACK.with(|c| c.replace(tag));
                // SAFETY: the caller registered `f` and `userdata` for this
                // use; the name is NUL-terminated and outlives the call.
                let ret = unsafe {
                    f(
                        userdata as *mut c_void,
                        tag as *mut mojo_tls_conn,
                        name.as_ref().map_or(std::ptr::null(), |n| n.as_ptr()),
                    )
                };
                IN_CALLBACK.with(|c| c.set(previous));
                ret
            }) as ServerNameCallback
        });
        c.set_server_name_callback(wrapped).map(|_| 0)
    })
}

/// Inside the server name callback of `c` only (see
/// mojo_tls_config_set_server_name_callback): the handshake uses the server
/// configuration `other` from now on for its certificate(s) (chosen by the
/// client's name among them as for SNI, else the first that suits the
/// suite), its CA certificates and CRLs for client certificates, its
/// client-auth mode and its pins. The rest (versions, suites, ALPN,
/// tickets) stays `c`'s own configuration's. The connection keeps `other`'s
/// settings alive as they were; freeing `other` afterwards is fine.
/// Returns 0; MOJO_TLS_ERR_BAD_STATE outside the callback,
/// MOJO_TLS_ERR_INVALID_ARGUMENT for a client configuration.
#[no_mangle]
pub extern "C" fn mojo_tls_conn_use_config(
    c: *mut mojo_tls_conn,
    other: *const mojo_tls_config,
) -> i32 {
    guard_int(|| {
        let other = cfg(other)?;
        if c.is_null() || IN_CALLBACK.with(|t| t.get()) != c as usize {
            // Outside the callback: a bad handle is reported as such first.
            handle::<Conn, _>(c, "connection")?;
            return Err(Error::bad_state(
                "mojo_tls_conn_use_config is valid only inside the connection's server \
                 name callback",
            ));
        }
        // Not looked up: during mojo_tls_conn_new_accept the handle is not
        // registered yet (and the handshake holds the connection).
        other.adopt_in_handshake().map(|_| 0)
    })
}
