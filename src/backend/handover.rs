//! The Mbed TLS side of the hand-over to the fast record layer
//! (`crate::record::handover` is the other side): what Mbed TLS must give up (suite, traffic keys, sequence numbers), the checks that
//! it holds nothing the new layer would miss, and the one thing it still
//! does afterwards — a TLS 1.3 client storing NewSessionTickets, fed to it
//! re-encrypted through the detached BIO.

use super::bio::Wire;
use super::errors::mbed_error;
use super::generation;
use super::keys::Material;
use super::ssl::{codes, Session};
use super::sys;
use crate::error::{Code, Error, Result};

/// The largest record payload the fast layer sends (2^14).
const FULL_RECORD: i32 = 16384;

/// What the fast record layer needs from a finished handshake.
pub struct Handover {
    /// IANA id of the negotiated suite.
    pub suite: u16,
    pub tls13: bool,
    pub is_server: bool,
    /// None when Mbed TLS exported nothing usable (a suite with MAC keys).
    pub material: Option<Material>,
    /// Sequence numbers of the next record in each direction.
    pub read_seq: u64,
    pub write_seq: u64,
}

impl Session {
    /// TLS 1.3 server (3.6 / 4.x): `handshake_done` is already true while
    /// the NewSessionTicket states remain; run them (the tickets go out
    /// under the application key) so Mbed TLS's write side is finished
    /// before the record layer takes over. 0, WANT_* or an error.
    pub fn finish_post_handshake<W: Wire>(&mut self, wire: &mut W) -> i32 {
        self.with_wire(wire, |s| {
            while !generation::handshake_fully_over(&s.ctx) {
                // SAFETY: an initialised session, exclusive access.
                let ret = unsafe { sys::ssl_handshake_step(&mut *s.ctx) };
                if ret != 0 {
                    return ret;
                }
            }
            0
        })
    }

    /// Take Mbed TLS's traffic keys and sequence numbers, or say why its
    /// record layer has to stay (nothing is changed then). The captured
    /// keys are consumed either way.
    pub fn hand_over(&mut self) -> std::result::Result<Handover, String> {
        let material = self.key_export().take();
        if !generation::handshake_fully_over(&self.ctx) {
            return Err("the handshake is not over".into());
        }
        // SAFETY: read-only queries on an initialised session.
        let (pending, max_out, suite) = unsafe {
            let name = sys::ssl_get_ciphersuite(&*self.ctx);
            let id = if name.is_null() {
                0
            } else {
                sys::ssl_get_ciphersuite_id(name)
            };
            (
                sys::ssl_check_pending(&*self.ctx),
                sys::ssl_get_max_out_record_payload(&*self.ctx),
                id,
            )
        };
        let (in_left, out_left, renegotiating) = generation::record_state(&self.ctx);
        if pending != 0 || in_left != 0 {
            return Err("Mbed TLS holds received data not yet processed".into());
        }
        if out_left != 0 {
            return Err("Mbed TLS has output not yet sent".into());
        }
        if renegotiating {
            return Err("a renegotiation is in progress".into());
        }
        let tls13 = generation::version_number(&self.ctx) == 0x0304;
        // For TLS 1.3, Mbed TLS reports the payload of its own padding
        // scheme: 2^14 rounded to 16 bytes, minus the content type byte.
        let full = if tls13 { FULL_RECORD - 1 } else { FULL_RECORD };
        if max_out < full {
            return Err(format!(
                "the record size is limited to {max_out} bytes (max_fragment_length / record_size_limit)"
            ));
        }
        let Ok(suite) = u16::try_from(suite) else {
            return Err("unknown cipher suite".into());
        };
        let Some((read_seq, write_seq)) = generation::record_seqs(&self.ctx) else {
            return Err("no record counters".into());
        };
        let material = material.filter(|m| match m {
            Material::Tls13 { client, server } => tls13 && client.is_some() && server.is_some(),
            _ => !tls13,
        });
        Ok(Handover {
            suite,
            tls13,
            is_server: self.is_server(),
            material,
            read_seq,
            write_seq,
        })
    }

    /// From now on Mbed TLS never reads or writes the transport.
    pub fn detach(&mut self) {
        self.bio().detach();
    }

    pub fn is_detached(&mut self) -> bool {
        self.bio().is_detached()
    }

    /// Detached: free Mbed TLS's record buffers, about 33 KiB per idle
    /// connection (a TLS 1.3 client gets them back for a moment whenever
    /// tickets arrive). `true` if freed.
    pub fn release_record_buffers(&mut self) -> bool {
        if !self.bio().is_detached() || self.parked.is_some() {
            return false;
        }
        // SAFETY: after takeover no Mbed TLS call on this context reads or
        // writes records (reads, writes and close_notify go to the fast
        // layer; queries do not touch the buffers; ssl_free checks NULL),
        // except `deliver_tickets`, which restores them first.
        self.parked = unsafe { generation::release_record_buffers(&mut self.ctx) };
        self.parked.is_some()
    }

    /// TLS 1.3 client, detached: let Mbed TLS read NewSessionTicket
    /// record(s) re-encrypted for it, so the session it exports carries the
    /// ticket.
    pub fn deliver_tickets(&mut self, records: &[u8]) -> Result<()> {
        if !self.bio().is_detached() {
            return Err(Error::bad_state("tickets are injected only after takeover"));
        }
        let parked = self.parked.take();
        if let Some(p) = &parked {
            // SAFETY: the buffers were released by us; nothing points into them.
            if !unsafe { generation::restore_record_buffers(&mut self.ctx, p) } {
                self.parked = parked;
                return Err(Error::new(
                    Code::MOJO_TLS_ERR_INTERNAL,
                    "could not allocate Mbed TLS's record buffers for a NewSessionTicket",
                ));
            }
        }
        let result = self.read_injected_tickets(records);
        if parked.is_some() {
            self.release_record_buffers();
        }
        result
    }

    fn read_injected_tickets(&mut self, records: &[u8]) -> Result<()> {
        self.bio().inject(records);
        let mut byte = [0u8; 1];
        // Each call handles at most one ticket; a handful of records is all
        // a peer sends at once.
        for _ in 0..64 {
            // SAFETY: a valid 1-byte buffer; the BIO only serves the injected bytes.
            let ret = unsafe { sys::ssl_read(&mut *self.ctx, byte.as_mut_ptr(), 1) };
            match ret {
                sys::ERR_SSL_RECEIVED_NEW_SESSION_TICKET => {
                    self.exported = None;
                }
                codes::WANT_READ => {
                    // SAFETY: read-only query.
                    let pending = unsafe { sys::ssl_check_pending(&*self.ctx) } != 0;
                    if self.bio().injected_left() == 0 && !pending {
                        return Ok(());
                    }
                }
                r if r >= 0 => {
                    return Err(Error::new(
                        Code::MOJO_TLS_ERR_INTERNAL,
                        "Mbed TLS read application data from an injected ticket record",
                    ))
                }
                r => {
                    return Err(mbed_error(
                        r,
                        Code::MOJO_TLS_ERR_PROTOCOL,
                        "Mbed TLS rejected a NewSessionTicket",
                    ))
                }
            }
        }
        Err(Error::new(
            Code::MOJO_TLS_ERR_INTERNAL,
            "Mbed TLS did not consume the injected ticket records",
        ))
    }
}
