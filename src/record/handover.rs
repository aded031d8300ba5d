//! The hand-over after the handshake: choosing a connection's record
//! layer, the ring record layer (kernel TLS first when the kernel offers
//! it), or Mbed TLS's own when the fast layer is switched off or cannot run
//! this connection (other suites, record size limits, data Mbed TLS still
//! holds). What Mbed TLS gives up comes from `backend::handover` as plain
//! data.

use super::io::{FastIo, TicketSink};
use super::{ktls, RecordLayer, Secrets};
use crate::backend::handover::Handover;
use crate::backend::keys::Material;
use crate::backend::ssl::Session;
use crate::backend::suites;
use crate::error::{Code, Error, Result};

pub enum Layer {
    /// The handshake is not over yet.
    Undecided,
    /// Mbed TLS keeps its record layer; why.
    Mbed(String),
    /// Ours (ring or kernel) took over; the detail for the query.
    Fast(Box<FastIo>, String),
}

impl Layer {
    /// The name the C API reports.
    pub fn name(&self) -> &'static std::ffi::CStr {
        match self {
            Layer::Fast(io, _) if io.is_kernel() => c"kernel TLS",
            Layer::Fast(..) => c"mojo-tls (ring)",
            _ => c"Mbed TLS",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Layer::Undecided => "undecided: the handshake has not completed",
            Layer::Mbed(why) => why,
            Layer::Fast(_, detail) => detail,
        }
    }
}

fn suite_name(id: u16) -> String {
    suites::iana_name_of(i32::from(id))
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("suite 0x{id:04X}"))
}

/// What the connection runs over.
pub struct Over {
    /// The connection's own socket, for kernel TLS (which changes the
    /// socket for good, so a caller's fd is never given to it).
    pub own_fd: Option<std::os::unix::io::RawFd>,
    /// A caller's socket: the caller may use it after TLS ends (STARTTLS),
    /// so reads never take bytes past a record.
    pub caller_socket: bool,
}

/// Decide after the handshake. `enabled` is the configuration switch.
/// `Err` only when the connection cannot continue (kernel TLS half set up).
pub fn decide(session: &mut Session, enabled: bool, over: Over) -> Result<Layer> {
    if !enabled {
        return Ok(Layer::Mbed(
            "Mbed TLS: the fast record layer is switched off in the configuration".into(),
        ));
    }
    let h = match session.hand_over() {
        Ok(h) => h,
        Err(why) => return Ok(Layer::Mbed(format!("Mbed TLS: {why}"))),
    };
    if !super::supported(h.suite, h.tls13) {
        return Ok(Layer::Mbed(format!(
            "Mbed TLS: {} is not run by the fast record layer",
            suite_name(h.suite)
        )));
    }
    let Handover {
        suite,
        is_server,
        material,
        read_seq,
        write_seq,
        ..
    } = h;
    let secrets = match material {
        None => None,
        Some(Material::Tls12Master {
            master,
            client_random,
            server_random,
        }) => super::tls12_keys_from_master(suite, &master, &client_random, &server_random)
            .map(Secrets::Tls12),
        Some(Material::Tls13 {
            client: Some(client),
            server: Some(server),
        }) => Some(Secrets::Tls13 { client, server }),
        Some(Material::Tls13 { .. }) => None,
    };
    let Some(secrets) = secrets else {
        return Ok(Layer::Mbed(format!(
            "Mbed TLS: no usable traffic keys were exported for {}",
            suite_name(suite)
        )));
    };
    // Kernel TLS: TLS 1.2 on our own socket, when the kernel has it.
    let ktls_note = match (over.own_fd, &secrets) {
        (Some(fd), Secrets::Tls12(keys)) => match ktls::probe(fd) {
            Ok(()) => match ktls::configure_tls12(fd, keys, is_server, read_seq, write_seq) {
                Ok(true) => {
                    session.detach();
                    session.release_record_buffers();
                    return Ok(Layer::Fast(
                        Box::new(FastIo::kernel(fd, is_server)),
                        format!("kernel TLS: {}", suite_name(suite)),
                    ));
                }
                Ok(false) => "kernel TLS refused the keys".to_string(),
                Err(e) => return Err(Error::new(Code::MOJO_TLS_ERR_IO, e)),
            },
            Err(why) => why,
        },
        (Some(_), Secrets::Tls13 { .. }) => {
            "kernel TLS not used for TLS 1.3 (KeyUpdate and tickets stay in user space)".into()
        }
        (None, _) => "kernel TLS not used (memory mode or a caller's socket)".into(),
    };
    let Some(layer) = RecordLayer::new(suite, is_server, secrets, read_seq, write_seq) else {
        return Ok(Layer::Mbed(format!(
            "Mbed TLS: the fast record layer could not set up {}",
            suite_name(suite)
        )));
    };
    session.detach();
    session.release_record_buffers();
    Ok(Layer::Fast(
        Box::new(FastIo::ring(layer).exact_reads(over.caller_socket)),
        format!("mojo-tls (ring): {}; {ktls_note}", suite_name(suite)),
    ))
}

/// A TLS 1.3 client's tickets go to Mbed TLS's session, re-encrypted for
/// its detached read path.
impl TicketSink for Session {
    fn deliver_tickets(&mut self, records: &[u8]) -> Result<()> {
        Session::deliver_tickets(self, records)
    }
}
