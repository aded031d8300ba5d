//! The DTLS side of a connection: datagram memory mode, the retransmission
//! timer as seen by waiting callers and event loops, the peer id a server
//! binds cookies to, and reads that return one datagram's plaintext.
//!
//! A read returns exactly one record's plaintext (one peer write). A buffer
//! too small for it is refused with MOJO_TLS_ERR_INVALID_ARGUMENT and the
//! datagram is kept (`pending` says its length), so nothing is truncated
//! silently and nothing is lost.

use std::os::unix::io::RawFd;
use std::time::{Duration, Instant};

use super::{Conn, State, Step};
use crate::backend::ssl::codes;
use crate::config::Config;
use crate::error::{Code, Error, Result};
use crate::net::{self, Deadline};
use crate::transport::{DatagramIo, Transport};

/// The largest plaintext a DTLS record carries (Mbed TLS's input buffer).
pub(super) const MAX_PLAINTEXT: usize = 16_384;

fn too_small(need: usize, cap: usize) -> Error {
    Error::invalid_arg(format!(
        "the datagram holds {need} bytes but the buffer only {cap}: read again with \
         at least {need} bytes (mojo_tls_conn_pending says it); the datagram is kept"
    ))
}

impl State {
    /// A DTLS server needs the client's transport id before its first
    /// handshake step (the cookie is bound to it).
    pub(super) fn dtls_check_ready(&self) -> Option<Error> {
        if self.session.is_server() && !self.session.has_peer_id() {
            return Some(Error::bad_state(
                "a DTLS server connection needs the client's address first \
                 (mojo_tls_conn_set_peer_id)",
            ));
        }
        None
    }

    /// One record's plaintext into `buf`, or keep it if it does not fit.
    pub(super) fn dtls_read(&mut self, buf: &mut [u8]) -> Step<usize> {
        if let Some(held) = self.held.take() {
            if held.len() > buf.len() {
                let e = too_small(held.len(), buf.len());
                self.held = Some(held);
                return Step::Fail(e);
            }
            buf[..held.len()].copy_from_slice(&held);
            return Step::Done(held.len());
        }
        let mut scratch = Vec::new();
        let direct = buf.len() >= MAX_PLAINTEXT;
        let cap = buf.len();
        let ret = if direct {
            self.session.read(&mut self.transport, buf)
        } else {
            scratch.resize(MAX_PLAINTEXT, 0);
            self.session.read(&mut self.transport, &mut scratch)
        };
        match ret {
            n if n > 0 => {
                let n = n as usize;
                if direct {
                    return Step::Done(n);
                }
                if n > cap {
                    scratch.truncate(n);
                    self.held = Some(scratch);
                    return Step::Fail(too_small(n, cap));
                }
                buf[..n].copy_from_slice(&scratch[..n]);
                Step::Done(n)
            }
            codes::PEER_CLOSE_NOTIFY => {
                self.peer_closed = true;
                Step::Done(0)
            }
            codes::WANT_READ => Step::Want { write: false },
            codes::WANT_WRITE => Step::Want { write: true },
            // An empty record: nothing for the reader (UDP has no EOF).
            0 if !self.transport.saw_eof() => Step::Want { write: false },
            0 => Step::Fail(self.fail(codes::CONN_EOF)),
            ret => Step::Fail(self.fail(ret)),
        }
    }

    /// One write is one datagram: refuse (without failing the connection)
    /// what one record cannot carry.
    pub(super) fn dtls_check_write(&self, len: usize) -> Option<Error> {
        let max = self.session.dtls_max_payload()?;
        (len > max).then(|| {
            Error::invalid_arg(format!(
                "a DTLS write is one datagram: {len} bytes is more than one record \
                 carries now ({max}; see the MTU)"
            ))
        })
    }
}

impl Conn {
    /// Wait for a datagram until the earlier of `deadline` and the
    /// retransmission timer (`left`); the timer expiring is not a timeout:
    /// the caller calls Mbed TLS again, which retransmits.
    pub(super) fn dtls_wait(&self, deadline: Deadline, left: Duration, what: &str) -> Result<()> {
        let timer_at = Instant::now() + left;
        let (until, timer_first) = match deadline {
            Deadline::At(d) if d <= timer_at => (d, false),
            _ => (timer_at, true),
        };
        match net::wait(self.fd, false, Deadline::At(until), what) {
            Err(e) if timer_first && e.code == Code::MOJO_TLS_ERR_TIMEOUT => Ok(()),
            other => other,
        }
    }

    fn with_datagrams<T>(&self, f: impl FnOnce(&mut DatagramIo) -> T) -> Result<T> {
        let mut st = self.lock();
        match &mut st.transport {
            Transport::Datagram(d) => Ok(f(d)),
            _ => Err(Error::bad_state(
                "not a DTLS memory-mode connection (a config with \
                 MOJO_TLS_TRANSPORT_DATAGRAM and mojo_tls_conn_new_memory)",
            )),
        }
    }

    /// Queue one received datagram.
    pub fn feed_datagram(&self, datagram: &[u8]) -> Result<usize> {
        if datagram.is_empty() {
            return Err(Error::invalid_arg("an empty datagram carries no record"));
        }
        self.with_datagrams(|d| {
            d.feed(datagram);
            datagram.len()
        })
    }

    /// The next datagram to send: its length (0: none); dequeued only when
    /// it fitted in `out`.
    pub fn drain_datagram(&self, out: &mut [u8]) -> Result<usize> {
        self.with_datagrams(|d| d.drain(out))
    }

    /// Milliseconds until the retransmission timer expires (0: expired,
    /// call the connection now); WANT_READ when no timer runs.
    pub fn next_timeout_ms(&self) -> Result<i32> {
        let st = self.lock();
        if !st.datagram {
            return Err(Error::not_available("not a DTLS connection"));
        }
        match st.session.dtls_next_timeout() {
            Some(left) => Ok(left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32),
            None => Err(Error::new(
                Code::MOJO_TLS_ERR_WANT_READ,
                "no DTLS timer runs: wait for datagrams only",
            )),
        }
    }

    /// Server: the client's transport id (its address), for cookies.
    pub fn set_peer_id(&self, id: &[u8]) -> Result<()> {
        if id.is_empty() {
            return Err(Error::invalid_arg("the peer id is empty"));
        }
        let mut st = self.lock();
        if let Some(e) = st.check_open() {
            return Err(e);
        }
        st.session.set_peer_id(id)
    }

    /// The path MTU (bytes of a datagram, 0 = no limit).
    pub fn set_mtu(&self, mtu: i32) -> Result<()> {
        let mtu = u16::try_from(mtu)
            .map_err(|_| Error::invalid_arg(format!("MTU {mtu} is not in 0..=65535")))?;
        if mtu != 0 && mtu < 64 {
            return Err(Error::invalid_arg(format!("MTU {mtu} is too small")));
        }
        let mut st = self.lock();
        if let Some(e) = st.check_open() {
            return Err(e);
        }
        st.session.set_mtu(mtu)
    }
}

impl Conn {
    /// A DTLS server connection over `fd`, a UDP socket connected to the
    /// client whose address is `peer_id`; `hello` (its ClientHello with a
    /// valid cookie, received by a listener) is read first. No handshake
    /// yet. The fd is closed on failure.
    pub(crate) fn dtls_accepted(
        config: &Config,
        fd: RawFd,
        hello: &[u8],
        peer_id: &[u8],
        timeout_ms: i32,
    ) -> Result<Conn> {
        let mut transport = Transport::socket(fd, true);
        if let Transport::Socket(s) = &mut transport {
            s.first = Some(hello.to_vec());
        }
        let conn = match Conn::new(config, transport, None, timeout_ms) {
            Ok(c) => c,
            Err(e) => {
                net::close(fd);
                return Err(e);
            }
        };
        if let Err(e) = conn.set_peer_id(peer_id) {
            conn.close();
            return Err(e);
        }
        Ok(conn)
    }

    /// An accepted connection's handshake until `deadline` (non-blocking:
    /// as far as it goes now, WANT_READ is not a failure).
    pub(crate) fn accept_handshake(&self, deadline: Deadline) -> Result<()> {
        match self.handshake_until(deadline) {
            Err(e)
                if matches!(deadline, Deadline::NonBlocking)
                    && e.code == Code::MOJO_TLS_ERR_WANT_READ =>
            {
                Ok(())
            }
            other => other,
        }
    }

    /// Its socket is still open (not closed by close() or free).
    pub(crate) fn socket_open(&self) -> bool {
        let st = self.lock();
        !st.closed && st.fd_open
    }
}

impl Conn {
    /// The negotiated DTLS Connection ID: ours (`peer` false: what the
    /// peer's records carry) or the peer's (what ours carry). Either may be
    /// empty; NOT_AVAILABLE when none was negotiated.
    pub fn connection_id(&self, peer: bool) -> Result<Vec<u8>> {
        if !self.lock().datagram {
            return Err(Error::not_available("not a DTLS connection"));
        }
        let st = self.established()?;
        let ids = st.session.connection_ids().ok_or_else(|| {
            Error::not_available(
                "no Connection ID was negotiated (off on this side or the peer's, \
                 or both chose an empty one)",
            )
        })?;
        Ok(if peer { ids.peer } else { ids.own })
    }
}
