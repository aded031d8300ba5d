//! TLS configurations and sessions over Mbed TLS: the config builder
//! (`config.rs`), the session (`session.rs`) and the callbacks Mbed TLS
//! makes during a handshake (`callbacks.rs`, `server_name.rs`); DTLS's
//! timer (`timer.rs`), configuration and cookies (`cookies.rs`),
//! session settings (`dtls.rs`), Connection IDs (`cid.rs`), and a
//! listener's stateless cookie exchange (`hello_verify.rs`).

mod callbacks;
mod cid;
mod config;
mod cookies;
mod dtls;
mod hello_verify;
mod server_name;
mod session;
mod timer;

pub use callbacks::{Pin, ServerNameCallback};
pub use cid::check_cid_len;
pub use config::{ConfigSpec, SslConfig};
pub(crate) use config::{VERIFY_NONE, VERIFY_OPTIONAL, VERIFY_REQUIRED};
pub use hello_verify::ClientHello;
pub use session::Session;

use super::sys;

/// Raw Mbed TLS codes the core needs to recognise.
pub mod codes {
    use super::sys;
    pub(crate) const WANT_READ: i32 = sys::ERR_SSL_WANT_READ;
    pub(crate) const WANT_WRITE: i32 = sys::ERR_SSL_WANT_WRITE;
    pub(crate) const PEER_CLOSE_NOTIFY: i32 = sys::ERR_SSL_PEER_CLOSE_NOTIFY;
    pub(crate) const CONN_EOF: i32 = sys::ERR_SSL_CONN_EOF;
    pub(crate) const FATAL_ALERT: i32 = sys::ERR_SSL_FATAL_ALERT_MESSAGE;
    pub(crate) const CONN_RESET: i32 = sys::ERR_NET_CONN_RESET;
    pub(crate) const SEND_FAILED: i32 = sys::ERR_NET_SEND_FAILED;
}
