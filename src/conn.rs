//! A TLS connection: the state machine over a backend session and its
//! transport. Calls on one connection are serialised by its mutex, which is
//! released while waiting for the socket, so a reader blocked in `read`
//! does not stop a writer. Whole writes are serialised by `write_lock`
//! (Mbed TLS requires a write interrupted by WANT_WRITE to be retried with
//! the same data before anything else is written).
//!
//! After the handshake the connection's record layer is chosen once
//! (`record/handover.rs`): the fast one (`record/io.rs`) or Mbed TLS's
//! own; every later read, write and close goes through the one chosen.
//!
//! The connection owns its transport and lends it, per call, to whichever
//! record layer runs: the Mbed TLS session (`backend::bio`) or the fast
//! data path (`record::io::Link`).

use std::os::unix::io::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use crate::backend::ssl::{codes, Session};
use crate::backend::x509::CertInfo;
use crate::config::Config;
use crate::error::{Code, Error, Result};
use crate::net::{self, Deadline};
use crate::record::handover::{self, Layer, Over};
use crate::record::io::{Io, Link};
use crate::registry;
use crate::transport::{IoStatus, MemoryIo, Transport};

mod dtls;
mod dtls_migrate;

enum Step<T> {
    Done(T),
    Want { write: bool },
    Fail(Error),
}

struct State {
    session: Session,
    /// What the records travel over; lent to `session` or the fast layer
    /// for each call.
    transport: Transport,
    /// `close()` was called.
    closed: bool,
    /// The peer's close_notify arrived.
    peer_closed: bool,
    notify_sent: bool,
    /// A fatal error: every later call reports it again.
    fatal: Option<Error>,
    /// Threads waiting on the fd outside the lock (the fd must outlive them).
    waiters: usize,
    fd_open: bool,
    peer_cert: Option<Arc<CertInfo>>,
    /// The record layer in use once the handshake is over.
    layer: Layer,
    /// The configuration allows the fast record layer.
    fast_enabled: bool,
    /// Our own socket (kernel TLS may be tried on it).
    own_fd: Option<RawFd>,
    /// A caller's socket (STARTTLS): never read past a record.
    caller_socket: bool,
    /// DTLS: records travel in datagrams (see `conn/dtls.rs`).
    datagram: bool,
    /// DTLS: a received datagram's plaintext that did not fit the reader's
    /// buffer, kept for the next read.
    held: Option<Vec<u8>>,
    /// The process that owns the TLS session: the one that completed the
    /// handshake (until then, the one that created the connection). A
    /// forked copy elsewhere never speaks for it (see `close`).
    owner_pid: libc::pid_t,
}

pub struct Conn {
    /// The handle value reserved for this connection (the server name
    /// callback names it by it during the first handshake).
    id: usize,
    state: Mutex<State>,
    write_lock: Mutex<()>,
    timeout_ms: AtomicI32,
    fd: RawFd,
    owned: bool,
    memory: bool,
    /// The process that created the connection (immutable; see `state_for_release`).
    created_pid: libc::pid_t,
}

fn current_pid() -> libc::pid_t {
    // SAFETY: getpid has no preconditions (and is never cached by glibc >= 2.25).
    unsafe { libc::getpid() }
}

/// The code's own text says it all (no repeated message).
fn want_error(write: bool) -> Error {
    if write {
        Error::new(Code::MOJO_TLS_ERR_WANT_WRITE, "")
    } else {
        Error::new(Code::MOJO_TLS_ERR_WANT_READ, "")
    }
}

/// The fast data path's view of a connection: its transport, and its
/// session for tickets (disjoint fields, so both can be borrowed at once).
fn link<'a>(transport: &'a mut Transport, session: &'a mut Session) -> Link<'a> {
    Link {
        wire: transport,
        tickets: session,
    }
}

impl State {
    fn check_open(&self) -> Option<Error> {
        if self.closed {
            return Some(Error::new(
                Code::MOJO_TLS_ERR_CLOSED,
                "the connection was closed",
            ));
        }
        self.fatal.clone()
    }

    fn fail(&mut self, ret: i32) -> Error {
        let mut err = self.session.error(ret);
        // An alert that arrived before the EOF is the better reason.
        if self.transport.saw_eof() && ret != codes::FATAL_ALERT {
            err = if self.session.handshake_done() {
                Error::new(
                    Code::MOJO_TLS_ERR_TRUNCATED,
                    "the peer closed the connection without close_notify",
                )
            } else {
                Error::new(
                    Code::MOJO_TLS_ERR_HANDSHAKE,
                    "the peer closed the connection during the handshake",
                )
            };
        } else if let Some(os) = self.transport.last_os_error() {
            if matches!(
                err.code,
                Code::MOJO_TLS_ERR_IO | Code::MOJO_TLS_ERR_CLOSED | Code::MOJO_TLS_ERR_RESET
            ) {
                err.message = format!("{} ({os})", err.message);
            }
        }
        self.fatal = Some(err.clone());
        err
    }

    /// No more application data may be sent: we sent close_notify, or the
    /// peer did on TLS 1.2 (which ends both directions). TLS 1.3 closes each
    /// direction on its own (RFC 8446 §6.1), so there the peer's
    /// close_notify ends only its side: we may still answer (half-close).
    fn write_side_shut(&self) -> bool {
        const TLS1_3: u16 = 0x0304;
        self.notify_sent || (self.peer_closed && self.session.version() != TLS1_3)
    }

    /// Advance the handshake; `None` once it is complete and the record
    /// layer is chosen.
    fn handshake_step<T>(&mut self) -> Option<Step<T>> {
        if !self.session.handshake_done() {
            if let Some(step) = self.flush_flight() {
                return Some(step);
            }
            if self.datagram {
                if let Some(e) = self.dtls_check_ready() {
                    return Some(Step::Fail(e));
                }
            } else {
                // A datagram socket must not merge datagrams.
                self.transport.cork(true);
            }
            let ret = self.session.handshake(&mut self.transport);
            if let Some(step) = self.end_flight(ret) {
                return Some(step);
            }
        }
        if matches!(self.layer, Layer::Undecided) {
            return self.choose_layer();
        }
        None
    }

    /// Uncork after an Mbed TLS call that ran corked and write its flight.
    /// Nothing waits for the peer while part of our flight is held back:
    /// the peer may be waiting for it.
    fn end_flight<T>(&mut self, ret: i32) -> Option<Step<T>> {
        self.transport.cork(false);
        let flushed = self.flush_flight();
        match ret {
            0 => flushed,
            codes::WANT_READ | codes::WANT_WRITE => Some(flushed.unwrap_or(Step::Want {
                write: ret == codes::WANT_WRITE,
            })),
            // Best effort for the alert Mbed TLS sent; its error is the news.
            ret => Some(Step::Fail(self.fail(ret))),
        }
    }

    /// Write what corking held back: `None` once it is all out.
    fn flush_flight<T>(&mut self) -> Option<Step<T>> {
        match self.transport.flush() {
            IoStatus::Done(_) => None,
            IoStatus::WouldBlock => Some(Step::Want { write: true }),
            IoStatus::Reset => Some(Step::Fail(self.fail(codes::CONN_RESET))),
            IoStatus::Eof | IoStatus::Failed => Some(Step::Fail(self.fail(codes::SEND_FAILED))),
        }
    }

    /// Once, after the handshake: hand the connection to the fast record
    /// layer if it can run it.
    fn choose_layer<T>(&mut self) -> Option<Step<T>> {
        if self.fast_enabled {
            // A TLS 1.3 server sends its tickets before handing over.
            self.transport.cork(true);
            let ret = self.session.finish_post_handshake(&mut self.transport);
            if let Some(step) = self.end_flight(ret) {
                return Some(step);
            }
        }
        let over = Over {
            own_fd: self.own_fd,
            caller_socket: self.caller_socket,
        };
        match handover::decide(&mut self.session, self.fast_enabled, over) {
            Ok(layer) => {
                self.layer = layer;
                self.owner_pid = current_pid();
                None
            }
            Err(e) => {
                self.fatal = Some(e.clone());
                Some(Step::Fail(e))
            }
        }
    }

    /// A result of the fast record layer as a step; failures are final.
    fn fast_step<T>(&mut self, r: Result<Io<T>>) -> Step<T> {
        match r {
            Ok(Io::Done(v)) => Step::Done(v),
            Ok(Io::Want { write }) => Step::Want { write },
            Err(e) => {
                self.fatal = Some(e.clone());
                Step::Fail(e)
            }
        }
    }
}

impl Conn {
    fn new(
        config: &Config,
        transport: Transport,
        server_name: Option<&str>,
        timeout_ms: i32,
    ) -> Result<Conn> {
        let snap = config.snapshot()?;
        if !snap.server && snap.check_hostname && server_name.is_none() {
            return Err(Error::invalid_arg(
                "a server name is needed to verify the server's certificate \
                 (or call mojo_tls_config_insecure_skip_hostname_check)",
            ));
        }
        let mut transport = transport;
        if let Transport::Socket(s) = &mut transport {
            s.datagram = snap.datagram;
        }
        let (fd, owned, memory) = match &transport {
            Transport::Socket(s) => (s.fd, s.owned, false),
            Transport::Memory(_) | Transport::Datagram(_) => (-1, false, true),
        };
        let id = registry::reserve();
        let session = Session::new(snap.ssl, server_name, snap.check_hostname, id)?;
        let fast_enabled = snap.fast_record_layer;
        Ok(Conn {
            id,
            state: Mutex::new(State {
                session,
                transport,
                closed: false,
                peer_closed: false,
                notify_sent: false,
                fatal: None,
                waiters: 0,
                fd_open: !memory,
                peer_cert: None,
                layer: Layer::Undecided,
                fast_enabled,
                own_fd: (owned && !memory).then_some(fd),
                caller_socket: !owned && !memory,
                datagram: snap.datagram,
                held: None,
                owner_pid: current_pid(),
            }),
            write_lock: Mutex::new(()),
            timeout_ms: AtomicI32::new(timeout_ms),
            fd,
            owned,
            memory,
            created_pid: current_pid(),
        })
    }

    /// Over an fd. With `owned`, the fd is closed with the connection, and
    /// also when this constructor fails.
    pub fn over_fd(
        config: &Config,
        fd: RawFd,
        owned: bool,
        server_name: Option<&str>,
        timeout_ms: i32,
    ) -> Result<Conn> {
        let r = Conn::new(
            config,
            Transport::socket(fd, owned),
            server_name,
            timeout_ms,
        );
        if r.is_err() && owned {
            net::close(fd);
        }
        r
    }

    pub fn in_memory(config: &Config, server_name: Option<&str>) -> Result<Conn> {
        let transport = if config.snapshot()?.datagram {
            Transport::datagram_memory()
        } else {
            Transport::memory()
        };
        Conn::new(config, transport, server_name, -1)
    }

    /// Resolve, connect (TCP_NODELAY) and handshake, all within `timeout_ms`.
    pub fn connect(config: &Config, host: &str, port: u16, timeout_ms: i32) -> Result<Conn> {
        if config.is_server() {
            return Err(Error::invalid_arg("connect needs a client configuration"));
        }
        // Build the config first: a bad config should not cost a TCP connection.
        let datagram = config.snapshot()?.datagram;
        let deadline = Deadline::from_timeout(timeout_ms);
        let fd = if datagram {
            // DTLS: a connected UDP socket.
            net::udp_connect(host, port)?
        } else {
            net::connect(host, port, deadline)?
        };
        let conn = Conn::over_fd(config, fd, true, Some(host), timeout_ms)?;
        if !matches!(deadline, Deadline::NonBlocking) {
            conn.handshake_until(deadline)?;
        }
        Ok(conn)
    }

    /// Accept one client and (optionally) handshake, all within `timeout_ms`.
    pub fn accept(
        config: &Config,
        listen_fd: RawFd,
        timeout_ms: i32,
        handshake: bool,
    ) -> Result<Conn> {
        if !config.is_server() {
            return Err(Error::invalid_arg("accept needs a server configuration"));
        }
        config.snapshot()?;
        let _ = net::set_nonblocking(listen_fd);
        let deadline = Deadline::from_timeout(timeout_ms);
        let fd = net::accept(listen_fd, deadline)?;
        let conn = Conn::over_fd(config, fd, true, None, timeout_ms)?;
        if handshake {
            if let Err(e) = conn.handshake_until(deadline) {
                conn.close();
                return Err(e);
            }
        }
        Ok(conn)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The handle value to register this connection under.
    pub fn id(&self) -> usize {
        self.id
    }

    pub fn set_timeout(&self, timeout_ms: i32) {
        self.timeout_ms.store(timeout_ms, Ordering::Relaxed);
    }

    fn deadline(&self) -> Deadline {
        Deadline::from_timeout(self.timeout_ms.load(Ordering::Relaxed))
    }

    /// Run `step` until it completes, waiting for the socket between tries
    /// (without holding the lock) until `deadline`.
    fn drive<T>(
        &self,
        what: &str,
        deadline: Deadline,
        mut step: impl FnMut(&mut State) -> Step<T>,
    ) -> Result<T> {
        loop {
            let mut st = self.lock();
            match step(&mut st) {
                Step::Done(v) => return Ok(v),
                Step::Fail(e) => return Err(e),
                Step::Want { write } => {
                    if self.memory || matches!(deadline, Deadline::NonBlocking) {
                        return Err(want_error(write));
                    }
                    // DTLS: wake up for the retransmission timer too.
                    let timer = st.session.dtls_next_timeout();
                    st.waiters += 1;
                    drop(st);
                    let waited = match timer {
                        Some(left) if !write => self.dtls_wait(deadline, left, what),
                        _ => net::wait(self.fd, write, deadline, what),
                    };
                    let mut st = self.lock();
                    st.waiters -= 1;
                    self.close_fd_if_idle(&mut st);
                    waited?;
                }
            }
        }
    }

    fn close_fd_if_idle(&self, st: &mut State) {
        if st.closed && st.waiters == 0 && st.fd_open && self.owned {
            net::close(self.fd);
            st.fd_open = false;
        }
    }

    fn handshake_until(&self, deadline: Deadline) -> Result<()> {
        self.drive("handshake", deadline, |st| {
            if let Some(e) = st.check_open() {
                return Step::Fail(e);
            }
            st.handshake_step().unwrap_or(Step::Done(()))
        })
    }

    pub fn handshake(&self) -> Result<()> {
        self.handshake_until(self.deadline())
    }

    /// Bytes > 0, or 0 once the peer sent close_notify.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() {
            return Err(Error::invalid_arg(
                "read needs a buffer of at least one byte",
            ));
        }
        self.drive("read", self.deadline(), |st| {
            // A local close wins over an earlier EOF: the handle is done.
            if st.closed {
                return Step::Fail(Error::new(
                    Code::MOJO_TLS_ERR_CLOSED,
                    "the connection was closed",
                ));
            }
            if st.peer_closed {
                return Step::Done(0);
            }
            if let Some(e) = st.check_open() {
                return Step::Fail(e);
            }
            if let Some(s) = st.handshake_step() {
                return s;
            }
            if st.datagram {
                return st.dtls_read(buf);
            }
            if let Layer::Fast(io, _) = &mut st.layer {
                let r = io.read(&mut link(&mut st.transport, &mut st.session), buf);
                return match st.fast_step(r) {
                    Step::Done(0) => {
                        st.peer_closed = true;
                        Step::Done(0)
                    }
                    other => other,
                };
            }
            match st.session.read(&mut st.transport, buf) {
                n if n > 0 => Step::Done(n as usize),
                codes::PEER_CLOSE_NOTIFY => {
                    st.peer_closed = true;
                    Step::Done(0)
                }
                codes::WANT_READ => Step::Want { write: false },
                codes::WANT_WRITE => Step::Want { write: true },
                // Mbed TLS reports transport EOF as a 0-byte read.
                0 => Step::Fail(st.fail(codes::CONN_EOF)),
                ret => Step::Fail(st.fail(ret)),
            }
        })
    }

    fn write_locked(&self, buf: &[u8]) -> Result<usize> {
        self.drive("write", self.deadline(), |st| {
            if let Some(e) = st.check_open() {
                return Step::Fail(e);
            }
            if st.write_side_shut() {
                return Step::Fail(Error::new(
                    Code::MOJO_TLS_ERR_CLOSED,
                    "the TLS session was shut down",
                ));
            }
            if let Some(s) = st.handshake_step() {
                return s;
            }
            if st.datagram {
                if let Some(e) = st.dtls_check_write(buf.len()) {
                    return Step::Fail(e);
                }
            }
            if let Layer::Fast(io, _) = &mut st.layer {
                let r = io.write(&mut link(&mut st.transport, &mut st.session), buf);
                return st.fast_step(r);
            }
            match st.session.write(&mut st.transport, buf) {
                n if n > 0 => Step::Done(n as usize),
                codes::WANT_READ => Step::Want { write: false },
                codes::WANT_WRITE => Step::Want { write: true },
                ret => Step::Fail(st.fail(ret)),
            }
        })
    }

    /// Write some of `buf` (at most one record with Mbed TLS's record
    /// layer, up to 256 KiB with the fast one); returns the bytes written.
    pub fn write(&self, buf: &[u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let _w = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.write_locked(buf)
    }

    /// Write all of `buf`. Concurrent `write_all` calls do not interleave.
    /// A signal after some bytes went out returns their count (as POSIX
    /// write does), so the caller knows where to resume.
    pub fn write_all(&self, buf: &[u8]) -> Result<usize> {
        let _w = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut done = 0;
        while done < buf.len() {
            match self.write_locked(&buf[done..]) {
                Ok(n) => done += n,
                Err(e) if e.code == Code::MOJO_TLS_ERR_INTERRUPTED && done > 0 => return Ok(done),
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// Plaintext bytes `read` returns without touching the transport (1
    /// when what is left is an unreported close_notify or error): decrypts
    /// every complete record already received. See `mojo_tls_conn_pending`.
    pub fn pending(&self) -> usize {
        let mut st = self.lock();
        if st.closed || st.peer_closed || st.fatal.is_some() {
            return 0;
        }
        if let Some(held) = &st.held {
            return held.len();
        }
        let State {
            layer,
            session,
            transport,
            ..
        } = &mut *st;
        match layer {
            Layer::Fast(io, _) => io.pending(&mut link(transport, session)),
            Layer::Mbed(_) => session.pending(transport),
            Layer::Undecided => session.bytes_avail(),
        }
    }

    pub fn close_notify(&self) -> Result<()> {
        let _w = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.drive("close_notify", self.deadline(), |st| {
            if let Some(e) = st.check_open() {
                return Step::Fail(e);
            }
            if st.notify_sent {
                return Step::Done(());
            }
            if !st.session.handshake_done() {
                return Step::Fail(Error::bad_state("the handshake has not completed"));
            }
            if let Layer::Fast(io, _) = &mut st.layer {
                let r = io.close_notify(&mut link(&mut st.transport, &mut st.session));
                return match st.fast_step(r) {
                    Step::Done(()) => {
                        st.notify_sent = true;
                        Step::Done(())
                    }
                    other => other,
                };
            }
            match st.session.close_notify(&mut st.transport) {
                0 => {
                    st.notify_sent = true;
                    Step::Done(())
                }
                codes::WANT_READ => Step::Want { write: false },
                codes::WANT_WRITE => Step::Want { write: true },
                ret => Step::Fail(st.fail(ret)),
            }
        })
    }

    /// The state for close / abandon. In a forked child whose parent had
    /// another thread inside a call on this connection at fork time, the
    /// mutex stays locked forever: `None` then, and nothing is sent (the
    /// fd copy is still closed when the last handle drops, in `Drop`).
    fn state_for_release(&self) -> Option<MutexGuard<'_, State>> {
        match self.state.try_lock() {
            Ok(st) => Some(st),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) if current_pid() != self.created_pid => None,
            Err(TryLockError::WouldBlock) => Some(self.lock()),
        }
    }

    /// Release without touching the peer: no close_notify, no shutdown;
    /// the owned fd is closed (in the owning process once no other thread
    /// waits on it; in a forked copy at once, the waiters counted there
    /// being the parent's threads). Idempotent; later calls report CLOSED.
    pub fn abandon(&self) {
        let Some(mut st) = self.state_for_release() else {
            return;
        };
        st.closed = true;
        if st.owner_pid != current_pid() && self.owned && st.fd_open {
            // Only this process's descriptor goes: the socket (and the
            // parent's session on it) lives on in the other process.
            net::close(self.fd);
            st.fd_open = false;
        }
        self.close_fd_if_idle(&mut st);
    }

    /// Idempotent: a best-effort close_notify, then the owned fd is closed
    /// (once no other thread is waiting on it). Later calls report CLOSED.
    /// In a process other than the session's owner (a forked child) it is
    /// `abandon`: the copy must not end the owner's session.
    pub fn close(&self) {
        let Some(mut st) = self.state_for_release() else {
            return;
        };
        if st.closed {
            return;
        }
        if st.owner_pid != current_pid() {
            drop(st);
            self.abandon();
            return;
        }
        if st.fatal.is_none() && !st.notify_sent && st.session.handshake_done() {
            // Non-blocking: never let close() hang on a stuck peer.
            let State {
                layer,
                session,
                transport,
                ..
            } = &mut *st;
            let sent = match layer {
                Layer::Fast(io, _) => {
                    matches!(
                        io.close_notify(&mut link(transport, session)),
                        Ok(Io::Done(()))
                    )
                }
                _ => !session.is_detached() && session.close_notify(transport) == 0,
            };
            if sent {
                st.notify_sent = true;
            }
        }
        st.closed = true;
        if self.owned
            && st.fd_open
            && st.waiters == 0
            && st.fatal.is_some()
            && !st.session.handshake_done()
        {
            // The handshake failed and we may have sent an alert: closing now
            // with the peer's last flight unread would reset the connection
            // and the peer would never read the alert. Linger briefly.
            net::linger_close(self.fd);
            st.fd_open = false;
            return;
        }
        if self.owned && st.fd_open && st.waiters > 0 {
            // Wake threads blocked on this fd; the last one closes it.
            net::shutdown(self.fd);
        }
        self.close_fd_if_idle(&mut st);
    }

    pub fn fd(&self) -> Result<RawFd> {
        if self.memory {
            return Err(Error::not_available(
                "a memory-mode connection has no file descriptor",
            ));
        }
        let st = self.lock();
        if !st.fd_open {
            return Err(Error::new(
                Code::MOJO_TLS_ERR_CLOSED,
                "the connection's socket is closed",
            ));
        }
        Ok(self.fd)
    }

    fn with_memory<T>(&self, f: impl FnOnce(&mut MemoryIo) -> T) -> Result<T> {
        let mut st = self.lock();
        match &mut st.transport {
            Transport::Memory(m) => Ok(f(m)),
            Transport::Socket(_) => Err(Error::bad_state("not a memory-mode connection")),
            Transport::Datagram(_) => Err(Error::bad_state(
                "a DTLS connection carries datagrams: use mojo_tls_conn_feed_datagram \
                 and mojo_tls_conn_drain_datagram",
            )),
        }
    }

    pub fn feed(&self, data: &[u8]) -> Result<usize> {
        self.with_memory(|m| {
            if m.eof {
                return Err(Error::bad_state("feed after feed_eof"));
            }
            m.feed(data);
            Ok(data.len())
        })?
    }

    pub fn feed_eof(&self) -> Result<()> {
        self.with_memory(|m| m.eof = true)
    }

    pub fn drain(&self, out: &mut [u8]) -> Result<usize> {
        let mut st = self.lock();
        let State {
            transport, layer, ..
        } = &mut *st;
        let Transport::Memory(m) = transport else {
            drop(st);
            return self.with_memory(|m| m.drain(out));
        };
        let n = m.drain(out);
        if m.pending_output() == 0 {
            // The emptied buffer goes back to the fast layer for its next
            // write (it handed it over sealed): no allocation per write,
            // and still one buffer per idle connection.
            if let Layer::Fast(io, _) = layer {
                io.recycle_output(&mut m.outgoing);
            }
        }
        Ok(n)
    }

    pub fn pending_output(&self) -> Result<usize> {
        if let Transport::Datagram(d) = &self.lock().transport {
            return Ok(d.pending_output());
        }
        self.with_memory(|m| m.pending_output())
    }

    fn established(&self) -> Result<MutexGuard<'_, State>> {
        let st = self.lock();
        if st.closed {
            return Err(Error::new(
                Code::MOJO_TLS_ERR_CLOSED,
                "the connection was closed",
            ));
        }
        if !st.session.handshake_done() {
            return Err(Error::not_available("the handshake has not completed"));
        }
        Ok(st)
    }

    pub fn version(&self) -> Result<u16> {
        Ok(self.established()?.session.version())
    }

    pub fn version_name(&self) -> Result<&'static std::ffi::CStr> {
        self.established()?
            .session
            .version_name()
            .ok_or_else(|| Error::not_available("no protocol version"))
    }

    pub fn cipher(&self) -> Result<&'static std::ffi::CStr> {
        self.established()?
            .session
            .cipher_name()
            .ok_or_else(|| Error::not_available("no cipher suite"))
    }

    pub fn alpn(&self) -> Result<Option<String>> {
        Ok(self.established()?.session.alpn())
    }

    pub fn peer_cert(&self) -> Result<Arc<CertInfo>> {
        let mut st = self.established()?;
        if st.peer_cert.is_none() {
            st.peer_cert = st.session.peer_cert().map(Arc::new);
        }
        st.peer_cert
            .clone()
            .ok_or_else(|| Error::not_available("the peer presented no certificate"))
    }

    pub fn resumed(&self) -> Result<bool> {
        Ok(self.established()?.session.resumed())
    }

    pub fn export_session(&self) -> Result<Vec<u8>> {
        self.established()?.session.export_session()
    }

    pub fn import_session(&self, blob: &[u8]) -> Result<()> {
        self.lock().session.import_session(blob)
    }

    pub fn server_name(&self) -> Result<Option<String>> {
        Ok(self.lock().session.server_name())
    }

    /// Which record layer the connection uses ("mojo-tls (ring)", "kernel
    /// TLS", "Mbed TLS"), once the handshake is over.
    pub fn record_layer(&self) -> Result<&'static std::ffi::CStr> {
        let st = self.established()?;
        if matches!(st.layer, Layer::Undecided) {
            return Err(Error::not_available("the handshake has not completed"));
        }
        Ok(st.layer.name())
    }

    /// Why that record layer: the suite, and why kernel TLS or the fast
    /// layer is not used.
    pub fn record_layer_detail(&self) -> Result<String> {
        let st = self.established()?;
        if matches!(st.layer, Layer::Undecided) {
            return Err(Error::not_available("the handshake has not completed"));
        }
        Ok(st.layer.detail().to_string())
    }

    /// TLS 1.3: send a KeyUpdate (and with `request_peer`, ask the peer to
    /// update its key too). NOT_AVAILABLE on TLS 1.2 or with Mbed TLS's
    /// record layer.
    pub fn key_update(&self, request_peer: bool) -> Result<()> {
        let _w = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut st = self.lock();
        if let Some(e) = st.check_open() {
            return Err(e);
        }
        if st.write_side_shut() {
            return Err(Error::new(
                Code::MOJO_TLS_ERR_CLOSED,
                "the TLS session was shut down",
            ));
        }
        let State {
            layer,
            session,
            transport,
            ..
        } = &mut *st;
        match layer {
            Layer::Fast(io, _) => {
                match io.key_update(&mut link(transport, session), request_peer) {
                    Ok(()) => Ok(()),
                    Err(e) if e.code == Code::MOJO_TLS_ERR_NOT_AVAILABLE => Err(e),
                    Err(e) => {
                        st.fatal = Some(e.clone());
                        Err(e)
                    }
                }
            }
            Layer::Undecided => Err(Error::not_available("the handshake has not completed")),
            Layer::Mbed(_) => Err(Error::not_available(
                "KeyUpdate needs the fast record layer (Mbed TLS's own record layer has none)",
            )),
        }
    }

    /// Keying material (RFC 5705 / RFC 8446 §7.5) into `out`.
    pub fn export_keying_material(
        &self,
        label: &[u8],
        context: Option<&[u8]>,
        out: &mut [u8],
    ) -> Result<()> {
        self.established()?
            .session
            .export_keying_material(label, context, out)
    }

    /// The tls-unique channel binding (TLS 1.2).
    pub fn tls_unique(&self) -> Result<Vec<u8>> {
        self.established()?.session.tls_unique()
    }

    /// Why verification failed, "" when it did not.
    pub fn verify_reason(&self) -> Result<String> {
        self.verify_flags()?;
        Ok(self.lock().session.verify_reason())
    }

    pub fn verify_flags(&self) -> Result<u32> {
        let st = self.lock();
        if !st.session.handshake_done() && st.fatal.is_none() {
            return Err(Error::not_available("the handshake has not completed"));
        }
        let f = st.session.verify_flags();
        Ok(if f == u32::MAX { 0 } else { f })
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        if self.owned && st.fd_open {
            net::close(self.fd);
            st.fd_open = false;
        }
    }
}
