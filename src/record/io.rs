//! The data path once Mbed TLS has handed a connection over: records are
//! opened and sealed by the ring record layer (`layer.rs`), or by the
//! kernel (`ktls.rs`), over the connection's transport (lent per call in a
//! [`Link`]).
//!
//! Reads receive large chunks and decrypt records in place as they are
//! read; plaintext not yet handed out stays for the next read. `pending`
//! decrypts every complete record already received, so it counts all the
//! plaintext a read returns without touching the transport. Writes
//! seal up to [`WRITE_CHUNK`] bytes into one buffer sent with one syscall.
//! Like Mbed TLS, a write that could not be sent completely reports
//! WANT_WRITE and must be repeated with the same data; the repeat sends
//! the rest and reports the bytes. Buffers exist only while data is in
//! flight, so an idle connection holds none.

use std::ops::Range;
use std::os::unix::io::RawFd;

use super::{alert, ktls, ContentType, Opened, RecordError, RecordLayer};
use crate::backend::errors::alert_name;
use crate::error::{Code, Error, Result};
use crate::transport::{IoStatus, Transport};

/// Plaintext sealed per write call (one send).
pub(crate) const WRITE_CHUNK: usize = 256 * 1024;
/// Ciphertext received per recv call.
const READ_CHUNK: usize = 256 * 1024;

/// Where a TLS 1.3 client's NewSessionTickets go: Mbed TLS's session,
/// which stores them for resumption (`handover.rs` implements it).
pub(crate) trait TicketSink {
    fn deliver_tickets(&mut self, records: &[u8]) -> Result<()>;
}

/// What one call of the data path works on besides its own state: the
/// connection's transport, and where tickets go.
pub(crate) struct Link<'a> {
    pub wire: &'a mut Transport,
    pub tickets: &'a mut dyn TicketSink,
}

/// The result of one step: done, or wait for the socket.
pub enum Io<T> {
    Done(T),
    Want { write: bool },
}

enum Engine {
    Ring(Box<RecordLayer>),
    /// The kernel seals and opens (TLS 1.2); plain send/recv on `fd`.
    Kernel {
        fd: RawFd,
        is_server: bool,
    },
}

pub struct FastIo {
    engine: Engine,
    /// Received bytes: ciphertext (ring) or plaintext (kernel). The bytes
    /// before `rpos` are used up, except `plain`.
    rbuf: Vec<u8>,
    rpos: usize,
    /// Decrypted application data not yet handed out (inside `rbuf`, all
    /// before `rpos`; records decrypted ahead are appended to it).
    plain: Range<usize>,
    /// Sealed records not yet sent: `wbuf[wpos..]`.
    wbuf: Vec<u8>,
    wpos: usize,
    /// Bytes ever queued / sent, to tell when a given write is out.
    queued: u64,
    sent: u64,
    /// A write that reported WANT_WRITE: its length and the `queued` mark
    /// its records end at.
    write_pending: Option<(usize, u64)>,
    /// Our close_notify is queued up to this mark.
    notify_mark: Option<u64>,
    peer_closed: bool,
    /// A failure found after plaintext that was handed out first.
    deferred: Option<Error>,
    /// Never read past a record boundary (a caller's socket).
    exact: bool,
}

impl FastIo {
    pub fn ring(layer: RecordLayer) -> FastIo {
        FastIo::with_engine(Engine::Ring(Box::new(layer)))
    }

    pub fn kernel(fd: RawFd, is_server: bool) -> FastIo {
        FastIo::with_engine(Engine::Kernel { fd, is_server })
    }

    fn with_engine(engine: Engine) -> FastIo {
        FastIo {
            engine,
            rbuf: Vec::new(),
            rpos: 0,
            plain: 0..0,
            wbuf: Vec::new(),
            wpos: 0,
            queued: 0,
            sent: 0,
            write_pending: None,
            notify_mark: None,
            peer_closed: false,
            deferred: None,
            exact: false,
        }
    }

    /// Read whole records only from the socket (see `fill_exact`).
    pub fn exact_reads(mut self, on: bool) -> FastIo {
        self.exact = on;
        self
    }

    pub fn is_kernel(&self) -> bool {
        matches!(self.engine, Engine::Kernel { .. })
    }

    /// Plaintext bytes `read` returns without I/O. Every complete record
    /// already received is decrypted now (a caller polling the socket
    /// would otherwise wait for data we hold). With no plaintext left, an
    /// unreported close_notify or error counts as 1: `read` returns it at
    /// once.
    pub fn pending(&mut self, l: &mut Link<'_>) -> usize {
        if matches!(self.engine, Engine::Ring(_)) {
            while !self.peer_closed && self.deferred.is_none() {
                match self.open_one(l) {
                    Ok(None) => {}
                    Ok(Some(_need)) => break,
                    Err(e) => self.deferred = Some(e),
                }
            }
        }
        if self.plain.is_empty() && (self.peer_closed || self.deferred.is_some()) {
            return 1;
        }
        self.plain.len()
    }

    // ------------------------------------------------------------ output

    fn queue(&mut self, records: &[u8]) {
        self.wbuf.extend_from_slice(records);
        self.queued += records.len() as u64;
    }

    /// Send queued records until done or the transport would block.
    fn flush(&mut self, l: &mut Link<'_>) -> Result<()> {
        if self.wbuf.is_empty() {
            // Nothing queued (keep a recycled buffer, see `recycle_output`).
            return Ok(());
        }
        if self.wpos == 0 && !self.wbuf.is_empty() && matches!(l.wire, Transport::Memory(_)) {
            // All at once, handing the buffer over (memory mode never
            // blocks), instead of copying it.
            match l.wire.send_vec(&mut self.wbuf) {
                IoStatus::Done(n) => self.sent += n as u64,
                st => return Err(io_error(l, st, "send")),
            }
        }
        while self.wpos < self.wbuf.len() {
            match l.wire.send(&self.wbuf[self.wpos..]) {
                IoStatus::Done(0) | IoStatus::WouldBlock => return Ok(()),
                IoStatus::Done(n) => {
                    self.wpos += n;
                    self.sent += n as u64;
                }
                st => return Err(io_error(l, st, "send")),
            }
        }
        // Nothing left: give the buffer back (idle connections hold none;
        // memory mode's comes back through `recycle_output`).
        self.wbuf = Vec::new();
        self.wpos = 0;
        Ok(())
    }

    /// Memory mode: take back the (empty) buffer `flush` handed to the
    /// transport, when we hold none.
    pub fn recycle_output(&mut self, v: &mut Vec<u8>) {
        if self.wbuf.capacity() == 0 && v.is_empty() {
            std::mem::swap(&mut self.wbuf, v);
        }
    }

    /// Best effort: a fatal alert, then the connection is done.
    fn fail(&mut self, l: &mut Link<'_>, e: RecordError) -> Error {
        match &mut self.engine {
            Engine::Ring(rl) => {
                let mut out = Vec::new();
                if rl.seal_alert(e.alert, true, &mut out).is_ok() {
                    self.queue(&out);
                    let _ = self.flush(l);
                }
            }
            Engine::Kernel { fd, .. } => {
                let _ = ktls::send_record(*fd, ContentType::ALERT, &[2, e.alert]);
            }
        }
        Error::new(
            Code::MOJO_TLS_ERR_PROTOCOL,
            format!("{} (sent {})", e.message, alert_name(e.alert)),
        )
    }

    // ------------------------------------------------------------ reading

    /// Bytes > 0, or 0 once the peer's close_notify arrived.
    pub fn read(&mut self, l: &mut Link<'_>, out: &mut [u8]) -> Result<Io<usize>> {
        // Replies and interrupted writes go out whenever we get the chance
        // (best effort: a send failure is the writer's to report; what the
        // peer sent before it closed can still be read).
        let _ = self.flush(l);
        let mut copied = 0;
        loop {
            if !self.plain.is_empty() {
                let n = self.plain.len().min(out.len() - copied);
                out[copied..copied + n]
                    .copy_from_slice(&self.rbuf[self.plain.start..self.plain.start + n]);
                self.plain.start += n;
                copied += n;
                if copied == out.len() {
                    self.release_if_drained();
                    return Ok(Io::Done(copied));
                }
            }
            if let Some(e) = self.deferred.take() {
                if copied > 0 {
                    self.deferred = Some(e);
                    return Ok(Io::Done(copied));
                }
                return Err(e);
            }
            if self.peer_closed {
                return Ok(Io::Done(copied));
            }
            let step = match self.engine {
                Engine::Ring(_) => self.open_next(l, copied > 0),
                Engine::Kernel { .. } => self.recv_kernel(l, copied > 0),
            };
            match step {
                Ok(Next::More) => {}
                Ok(Next::Stop) => return Ok(Io::Done(copied)),
                Ok(Next::Wait) if copied > 0 => {
                    self.release_if_drained();
                    return Ok(Io::Done(copied));
                }
                Ok(Next::Wait) => return Ok(Io::Want { write: false }),
                Err(e) if copied > 0 => {
                    self.deferred = Some(e);
                    return Ok(Io::Done(copied));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Nothing buffered any more: give the receive buffer back, so a
    /// connection that stops reading holds none.
    fn release_if_drained(&mut self) {
        if self.plain.is_empty() && self.rpos == self.rbuf.len() {
            self.rbuf = Vec::new();
            self.rpos = 0;
            self.plain = 0..0;
        }
    }

    /// Ring: open the next record, receiving more input when needed (only
    /// when nothing was copied yet: a read returns what it has first).
    fn open_next(&mut self, l: &mut Link<'_>, have_data: bool) -> Result<Next> {
        match self.open_one(l)? {
            None => Ok(Next::More),
            Some(_) if have_data => Ok(Next::Stop),
            Some(need) => self.fill(l, need),
        }
    }

    /// Ring: open the record at `rpos` if it is complete, appending its
    /// plaintext to `plain`; `Some(need)` when it is not (no I/O here).
    fn open_one(&mut self, l: &mut Link<'_>) -> Result<Option<usize>> {
        let Engine::Ring(rl) = &mut self.engine else {
            unreachable!("ring engine")
        };
        let mut reply = Vec::new();
        let opened = rl.open(&mut self.rbuf[self.rpos..], &mut reply);
        if !reply.is_empty() {
            self.queue(&reply);
            let _ = self.flush(l);
        }
        let base = self.rpos;
        let consumed = match opened {
            Err(e) => return Err(self.fail(l, e)),
            Ok(Opened::Incomplete { need }) => return Ok(Some(need)),
            Ok(Opened::AppData { consumed, range }) => {
                self.append_plain(base + range.start..base + range.end);
                consumed
            }
            Ok(Opened::CloseNotify { consumed }) => {
                self.peer_closed = true;
                consumed
            }
            Ok(Opened::Alert { consumed, desc }) => {
                self.rpos += consumed;
                return Err(peer_alert(desc));
            }
            Ok(Opened::Nothing { consumed }) => consumed,
            Ok(Opened::SessionTicket { consumed, record }) => {
                self.rpos += consumed;
                l.tickets.deliver_tickets(&record)?;
                return Ok(None);
            }
        };
        self.rpos += consumed;
        Ok(None)
    }

    /// Make `rbuf[range]` (decrypted in place, after `plain`) the end of
    /// `plain`: moved down behind what is still unread, so the plaintext
    /// stays one slice. Nothing moves when `plain` is empty (plain reads).
    fn append_plain(&mut self, range: Range<usize>) {
        if self.plain.is_empty() {
            self.plain = range;
            return;
        }
        let len = range.len();
        self.rbuf.copy_within(range, self.plain.end);
        self.plain.end += len;
    }

    /// Receive until `need` bytes are buffered from `rpos`.
    fn fill(&mut self, l: &mut Link<'_>, need: usize) -> Result<Next> {
        debug_assert!(self.plain.is_empty());
        if self.rpos > 0 {
            // Keep only the partial record, at the front.
            self.rbuf.copy_within(self.rpos.., 0);
            self.rbuf.truncate(self.rbuf.len() - self.rpos);
            self.rpos = 0;
            self.plain = 0..0;
        }
        let have = self.rbuf.len();
        let max = READ_CHUNK.max(need - have.min(need));
        if self.exact {
            return self.fill_exact(l, max);
        }
        match l.wire.recv_append(&mut self.rbuf, max) {
            IoStatus::Done(0) | IoStatus::WouldBlock => {
                if self.rbuf.is_empty() {
                    // Idle: hold no buffer while waiting.
                    self.rbuf = Vec::new();
                }
                Ok(Next::Wait)
            }
            IoStatus::Done(_) => Ok(Next::More),
            IoStatus::Eof => Err(truncated(self.rbuf.len() > self.rpos)),
            st => Err(io_error(l, st, "recv")),
        }
    }

    /// A caller's socket: take whole records only (plus the start of the
    /// first one), so whatever follows the peer's close_notify stays in the
    /// socket for the caller (STARTTLS unwrap).
    fn fill_exact(&mut self, l: &mut Link<'_>, max: usize) -> Result<Next> {
        let had = self.rbuf.len();
        match l.wire.peek_append(&mut self.rbuf, max) {
            IoStatus::Done(0) | IoStatus::WouldBlock => {
                if self.rbuf.is_empty() {
                    self.rbuf = Vec::new();
                }
                return Ok(Next::Wait);
            }
            IoStatus::Done(_) => {}
            IoStatus::Eof => return Err(truncated(had > 0)),
            st => return Err(io_error(l, st, "recv")),
        }
        let keep = record_prefix(&self.rbuf).max(had);
        self.rbuf.truncate(keep);
        match l.wire.consume(&mut self.rbuf[had..]) {
            IoStatus::Done(_) => Ok(Next::More),
            IoStatus::Eof => Err(truncated(true)),
            st => Err(io_error(l, st, "recv")),
        }
    }

    /// Kernel TLS: one recvmsg of decrypted bytes of one record type.
    fn recv_kernel(&mut self, l: &mut Link<'_>, have_data: bool) -> Result<Next> {
        let Engine::Kernel { fd, is_server } = self.engine else {
            unreachable!("kernel engine")
        };
        if have_data {
            return Ok(Next::Stop);
        }
        self.rbuf.clear();
        self.rpos = 0;
        self.rbuf.reserve(READ_CHUNK);
        let spare = self.rbuf.spare_capacity_mut();
        // SAFETY: MaybeUninit<u8> and u8 share a layout; recvmsg only writes.
        let buf =
            unsafe { std::slice::from_raw_parts_mut(spare.as_mut_ptr() as *mut u8, spare.len()) };
        let (n, rtype) = match ktls::recv_record(fd, buf) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                self.rbuf = Vec::new();
                return Ok(Next::Wait);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Ok(Next::More),
            Err(e) => {
                return Err(Error::new(
                    Code::MOJO_TLS_ERR_PROTOCOL,
                    format!("kernel TLS receive failed: {e}"),
                ))
            }
        };
        // SAFETY: the kernel wrote n bytes.
        unsafe { self.rbuf.set_len(n) };
        if n == 0 {
            return Err(truncated(false));
        }
        match rtype {
            ContentType::APPLICATION_DATA => {
                self.plain = 0..n;
                Ok(Next::More)
            }
            ContentType::ALERT if n >= 2 => match (self.rbuf[0], self.rbuf[1]) {
                (_, alert::CLOSE_NOTIFY) => {
                    self.peer_closed = true;
                    Ok(Next::More)
                }
                (1, _) | (_, alert::USER_CANCELED) => Ok(Next::More),
                (_, desc) => Err(peer_alert(desc)),
            },
            // Renegotiation (a HelloRequest to a client, a ClientHello to a
            // server): refused with a warning, as the ring layer does.
            ContentType::HANDSHAKE
                if (!is_server && self.rbuf[..n] == [0, 0, 0, 0])
                    || (is_server && self.rbuf[0] == 1) =>
            {
                let _ = ktls::send_record(fd, ContentType::ALERT, &[1, alert::NO_RENEGOTIATION]);
                Ok(Next::More)
            }
            _ => Err(self.fail(
                l,
                RecordError::new(
                    alert::UNEXPECTED_MESSAGE,
                    "the peer sent a message not allowed after the handshake",
                ),
            )),
        }
    }

    // ------------------------------------------------------------ writing

    /// Write some of `buf` (up to WRITE_CHUNK bytes); see the module docs
    /// for the WANT_WRITE contract.
    pub fn write(&mut self, l: &mut Link<'_>, buf: &[u8]) -> Result<Io<usize>> {
        if let Some((n, mark)) = self.write_pending {
            self.flush(l)?;
            if self.sent < mark {
                return Ok(Io::Want { write: true });
            }
            self.write_pending = None;
            return Ok(Io::Done(n.min(buf.len())));
        }
        let n = buf.len().min(WRITE_CHUNK);
        match &mut self.engine {
            Engine::Kernel { fd, .. } => {
                let fd = *fd;
                return match crate::net::send_nonblocking(fd, &buf[..n]) {
                    Ok(0) => Ok(Io::Want { write: true }),
                    Ok(k) => Ok(Io::Done(k)),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        Ok(Io::Want { write: true })
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                        Ok(Io::Want { write: true })
                    }
                    Err(e) => Err(Error::io("send", &e)),
                };
            }
            Engine::Ring(rl) => {
                let before = self.wbuf.len();
                if self.wbuf.is_empty() {
                    self.wbuf.reserve_exact(rl.sealed_len(n));
                }
                if let Err(e) = rl.seal_app_data(&buf[..n], &mut self.wbuf) {
                    self.wbuf.truncate(before);
                    return Err(self.fail(l, e));
                }
                self.queued += (self.wbuf.len() - before) as u64;
            }
        }
        let mark = self.queued;
        self.flush(l)?;
        if self.sent < mark {
            self.write_pending = Some((n, mark));
            return Ok(Io::Want { write: true });
        }
        Ok(Io::Done(n))
    }

    /// Queue (once) and send our close_notify.
    pub fn close_notify(&mut self, l: &mut Link<'_>) -> Result<Io<()>> {
        let mark = match self.notify_mark {
            Some(m) => m,
            None => {
                match &mut self.engine {
                    Engine::Ring(rl) => {
                        let mut out = Vec::new();
                        if let Err(e) = rl.seal_alert(alert::CLOSE_NOTIFY, false, &mut out) {
                            return Err(self.fail(l, e));
                        }
                        self.queue(&out);
                    }
                    Engine::Kernel { fd, .. } => {
                        match ktls::send_record(*fd, ContentType::ALERT, &[1, alert::CLOSE_NOTIFY])
                        {
                            Ok(_) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                                return Ok(Io::Want { write: true })
                            }
                            Err(e) => return Err(Error::io("send close_notify", &e)),
                        }
                    }
                }
                self.notify_mark = Some(self.queued);
                self.queued
            }
        };
        self.flush(l)?;
        if self.sent < mark {
            return Ok(Io::Want { write: true });
        }
        Ok(Io::Done(()))
    }

    /// TLS 1.3: send a KeyUpdate (queued behind anything unsent; it goes
    /// out now if the transport takes it, else with the next read or write).
    pub fn key_update(&mut self, l: &mut Link<'_>, request_peer: bool) -> Result<()> {
        let Engine::Ring(rl) = &mut self.engine else {
            return Err(Error::not_available(
                "KeyUpdate is not available with kernel TLS (TLS 1.2)",
            ));
        };
        if !rl.is_tls13() {
            return Err(Error::not_available("KeyUpdate exists in TLS 1.3 only"));
        }
        let mut out = Vec::new();
        if let Err(e) = rl.seal_key_update(request_peer, &mut out) {
            return Err(self.fail(l, e));
        }
        self.queue(&out);
        self.flush(l)
    }
}

/// What reading should do next.
enum Next {
    /// Progress: look again.
    More,
    /// Stop here and return what was copied.
    Stop,
    /// Nothing more without waiting for input.
    Wait,
}

/// How much of `buf` (starting at a record boundary) to take: up to the
/// end of the last complete record, or all of it while the first record is
/// incomplete.
fn record_prefix(buf: &[u8]) -> usize {
    let mut pos = 0;
    while buf.len() - pos >= 5 {
        let end = pos + 5 + usize::from(u16::from_be_bytes([buf[pos + 3], buf[pos + 4]]));
        if end > buf.len() {
            break;
        }
        pos = end;
    }
    if pos == 0 {
        buf.len()
    } else {
        pos
    }
}

fn truncated(mid_record: bool) -> Error {
    Error::new(
        Code::MOJO_TLS_ERR_TRUNCATED,
        if mid_record {
            "the peer closed the connection in the middle of a record (no close_notify)"
        } else {
            "the peer closed the connection without close_notify"
        },
    )
}

fn peer_alert(desc: u8) -> Error {
    Error::new(
        Code::MOJO_TLS_ERR_PROTOCOL,
        format!("the peer sent a fatal alert ({})", alert_name(desc)),
    )
}

fn io_error(l: &Link<'_>, st: IoStatus, what: &str) -> Error {
    let os = l
        .wire
        .last_os_error()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    match st {
        IoStatus::Reset => Error::new(
            Code::MOJO_TLS_ERR_RESET,
            format!("connection reset by peer{os}"),
        ),
        _ => Error::new(Code::MOJO_TLS_ERR_IO, format!("socket error in {what}{os}")),
    }
}
