//! What a connection's ciphertext flows over: a socket (ours or the caller's)
//! or memory buffers the caller feeds and drains. Never blocks: waiting is
//! done by the connection, outside its lock.

use std::io;
use std::os::unix::io::RawFd;

use crate::backend::bio::{Wire, WireStatus};
use crate::net;

mod cid;
mod datagram;
pub use cid::datagram_cid;
pub use datagram::DatagramIo;

/// Outcome of one non-blocking transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoStatus {
    Done(usize),
    WouldBlock,
    /// The peer closed its end (TCP FIN, or `feed_eof` in memory mode).
    Eof,
    /// Connection reset / broken pipe.
    Reset,
    Failed,
}

pub struct SocketIo {
    pub fd: RawFd,
    /// Close the fd when the connection is closed.
    pub owned: bool,
    pub eof: bool,
    pub last_error: Option<io::Error>,
    /// While set, sends are collected in `held` instead of written.
    corked: bool,
    /// Corking applies: Nagle is on for this socket (see `cork`).
    coalesce: bool,
    /// Bytes accepted from Mbed TLS but not yet written, oldest first.
    held: Vec<u8>,
    held_pos: usize,
    /// A datagram socket (DTLS): an empty datagram is not EOF.
    pub datagram: bool,
    /// DTLS: a datagram received before the connection existed (the
    /// ClientHello a listener checked), read before the socket.
    pub first: Option<Vec<u8>>,
    /// DTLS: read `first` alone, not the socket after it (a listener
    /// checking that a moved client's datagram authenticates).
    pub first_only: bool,
}

#[derive(Default)]
pub struct MemoryIo {
    incoming: Vec<u8>,
    in_pos: usize,
    pub(crate) outgoing: Vec<u8>,
    out_pos: usize,
    pub eof: bool,
}

pub enum Transport {
    Socket(SocketIo),
    Memory(MemoryIo),
    /// DTLS memory mode: whole datagrams in and out.
    Datagram(DatagramIo),
}

impl Transport {
    pub fn socket(fd: RawFd, owned: bool) -> Transport {
        Transport::Socket(SocketIo {
            fd,
            owned,
            eof: false,
            last_error: None,
            corked: false,
            coalesce: net::nagle_on(fd),
            held: Vec::new(),
            held_pos: 0,
            datagram: false,
            first: None,
            first_only: false,
        })
    }

    pub fn memory() -> Transport {
        Transport::Memory(MemoryIo::default())
    }

    pub fn datagram_memory() -> Transport {
        Transport::Datagram(DatagramIo::default())
    }

    pub fn saw_eof(&self) -> bool {
        match self {
            Transport::Socket(s) => s.eof,
            Transport::Memory(m) => m.eof && m.in_pos >= m.incoming.len(),
            Transport::Datagram(d) => d.eof && !d.has_input(),
        }
    }

    pub fn last_os_error(&self) -> Option<&io::Error> {
        match self {
            Transport::Socket(s) => s.last_error.as_ref(),
            Transport::Memory(_) | Transport::Datagram(_) => None,
        }
    }

    /// Collect what is sent until uncorked, so that a handshake flight
    /// (Mbed TLS writes one record at a time) leaves in one write. Written
    /// record by record, the flight's second small write waits for the
    /// peer's delayed ACK (Nagle, about 40 ms per flight) on sockets without
    /// TCP_NODELAY, which are most sockets a caller hands us. Only there:
    /// with TCP_NODELAY (our own sockets) each record leaves at once, so the
    /// peer starts on the Certificate while we still sign (pipelining that
    /// corking would lose: 0.81x raw Mbed TLS's full-handshake rate with
    /// Mbed TLS's own ECC). Uncorking does not write: [`Transport::flush`]
    /// does.
    pub fn cork(&mut self, on: bool) {
        if let Transport::Socket(s) = self {
            s.corked = on && s.coalesce;
        }
    }

    /// Write what corking held back: `Done(0)` once nothing is left,
    /// `WouldBlock` while some is (the socket's buffer is full), or the
    /// failure.
    pub fn flush(&mut self) -> IoStatus {
        let Transport::Socket(s) = self else {
            return IoStatus::Done(0);
        };
        while s.held_pos < s.held.len() {
            let st = net::send_nonblocking(s.fd, &s.held[s.held_pos..]);
            match s.send_status(st) {
                IoStatus::Done(n) if n > 0 => s.held_pos += n,
                IoStatus::Done(_) => return IoStatus::WouldBlock,
                other => return other,
            }
        }
        s.held.clear();
        s.held_pos = 0;
        IoStatus::Done(0)
    }

    pub fn send(&mut self, buf: &[u8]) -> IoStatus {
        match self {
            Transport::Socket(s) if s.corked => {
                s.held.extend_from_slice(buf);
                IoStatus::Done(buf.len())
            }
            Transport::Socket(s) if s.held_pos < s.held.len() => {
                // What was held goes first: bytes never overtake each other.
                match self.flush() {
                    IoStatus::Done(_) => self.send(buf),
                    other => other,
                }
            }
            Transport::Socket(s) => {
                let st = net::send_nonblocking(s.fd, buf);
                s.send_status(st)
            }
            Transport::Memory(m) => {
                m.outgoing.extend_from_slice(buf);
                IoStatus::Done(buf.len())
            }
            Transport::Datagram(d) => {
                if d.send(buf) {
                    IoStatus::Done(buf.len())
                } else {
                    IoStatus::WouldBlock
                }
            }
        }
    }

    /// Memory mode: queue all of `v` (left empty), taking the buffer itself
    /// when nothing else is queued, so sealed records are not copied again
    /// before `drain`. Other transports: `send`.
    pub fn send_vec(&mut self, v: &mut Vec<u8>) -> IoStatus {
        let n = v.len();
        match self {
            Transport::Memory(m) if m.pending_output() == 0 => {
                std::mem::swap(v, &mut m.outgoing);
                m.out_pos = 0;
            }
            Transport::Memory(m) => m.outgoing.extend_from_slice(v),
            _ => return self.send(v),
        }
        v.clear();
        IoStatus::Done(n)
    }

    pub fn recv(&mut self, buf: &mut [u8]) -> IoStatus {
        match self {
            Transport::Socket(s) => {
                if let Some(d) = s.first.take() {
                    let n = d.len().min(buf.len());
                    buf[..n].copy_from_slice(&d[..n]);
                    return IoStatus::Done(n);
                }
                if s.first_only {
                    return IoStatus::WouldBlock;
                }
                let st = net::recv_nonblocking(s.fd, buf);
                s.recv_status(st, buf.len())
            }
            Transport::Memory(m) => {
                m.take_incoming(buf.len(), |b| buf[..b.len()].copy_from_slice(b))
            }
            Transport::Datagram(d) => match d.take(buf) {
                Some(n) => IoStatus::Done(n),
                None if d.eof => IoStatus::Eof,
                None => IoStatus::WouldBlock,
            },
        }
    }
}

impl Transport {
    /// Receive up to `max` bytes appended to `v` (into its spare capacity:
    /// no zero-filling of large buffers).
    pub fn recv_append(&mut self, v: &mut Vec<u8>, max: usize) -> IoStatus {
        if let Transport::Memory(m) = self {
            // Everything fed so far becomes the buffer: no copy.
            if v.is_empty() && m.in_pos == 0 && !m.incoming.is_empty() {
                std::mem::swap(v, &mut m.incoming);
                m.incoming.clear();
                return IoStatus::Done(v.len());
            }
        }
        let len = v.len();
        match self {
            Transport::Socket(s) => {
                v.reserve(max);
                let spare = v.spare_capacity_mut();
                let want = spare.len().min(max);
                // SAFETY: recv writes at most `want` bytes into the spare capacity.
                let st =
                    unsafe { net::recv_nonblocking_raw(s.fd, spare.as_mut_ptr() as *mut u8, want) };
                let status = s.recv_status(st, want);
                if let IoStatus::Done(n) = status {
                    // SAFETY: the kernel initialised n bytes after len.
                    unsafe { v.set_len(len + n) };
                }
                status
            }
            Transport::Memory(m) => {
                let st = m.take_incoming(max, |b| v.extend_from_slice(b));
                if m.incoming.is_empty() {
                    if matches!(st, IoStatus::WouldBlock) && len > 0 {
                        // Park the partial record as the start of the
                        // input: the next feed appends to it and the next
                        // receive takes it whole (above), so fed bytes are
                        // copied once, not again behind the partial record.
                        std::mem::swap(v, &mut m.incoming);
                        v.clear();
                    } else {
                        // The record layer keeps idle connections buffer-free.
                        m.incoming = Vec::new();
                    }
                }
                st
            }
            Transport::Datagram(_) => {
                // Not used by DTLS (Mbed TLS's record layer reads through
                // `recv`); one datagram, for completeness.
                let mut tmp = vec![0u8; max];
                let st = self.recv(&mut tmp);
                if let IoStatus::Done(n) = st {
                    v.extend_from_slice(&tmp[..n]);
                }
                st
            }
        }
    }

    /// Socket only: like `recv_append`, but the bytes stay queued in the
    /// socket until `consume`d (MSG_PEEK). Memory mode receives normally.
    pub fn peek_append(&mut self, v: &mut Vec<u8>, max: usize) -> IoStatus {
        let Transport::Socket(s) = self else {
            return self.recv_append(v, max);
        };
        v.reserve(max);
        let len = v.len();
        let spare = v.spare_capacity_mut();
        let want = spare.len().min(max);
        // SAFETY: recv writes at most `want` bytes into the spare capacity.
        let st = unsafe {
            net::recv_raw(
                s.fd,
                spare.as_mut_ptr() as *mut u8,
                want,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        let status = s.recv_status(st, want);
        if let IoStatus::Done(n) = status {
            // SAFETY: the kernel initialised n bytes after len.
            unsafe { v.set_len(len + n) };
        }
        status
    }

    /// Socket only: take `buf.len()` bytes already seen with `peek_append`
    /// (and copied into `buf`) off the socket's queue.
    pub fn consume(&mut self, buf: &mut [u8]) -> IoStatus {
        let Transport::Socket(s) = self else {
            return IoStatus::Done(buf.len());
        };
        let mut done = 0;
        while done < buf.len() {
            // SAFETY: buf is valid for its length; the kernel writes there
            // the same bytes (or, with MSG_TRUNC on TCP, nothing).
            let st = unsafe {
                net::recv_raw(
                    s.fd,
                    buf[done..].as_mut_ptr(),
                    buf.len() - done,
                    libc::MSG_TRUNC | libc::MSG_DONTWAIT,
                )
            };
            match s.recv_status(st, buf.len() - done) {
                IoStatus::Done(n) => done += n,
                other => return other,
            }
        }
        IoStatus::Done(done)
    }
}

/// Mbed TLS's BIO callbacks reach the transport through this (lent per
/// call by the backend session).
impl Wire for Transport {
    fn send(&mut self, buf: &[u8]) -> WireStatus {
        Transport::send(self, buf).into()
    }

    fn recv(&mut self, buf: &mut [u8]) -> WireStatus {
        Transport::recv(self, buf).into()
    }
}

impl From<IoStatus> for WireStatus {
    fn from(st: IoStatus) -> WireStatus {
        match st {
            IoStatus::Done(n) => WireStatus::Done(n),
            IoStatus::WouldBlock => WireStatus::WouldBlock,
            IoStatus::Eof => WireStatus::Eof,
            IoStatus::Reset => WireStatus::Reset,
            IoStatus::Failed => WireStatus::Failed,
        }
    }
}

impl SocketIo {
    fn send_status(&mut self, st: io::Result<usize>) -> IoStatus {
        if let Err(e) = &st {
            self.last_error = Some(io::Error::from_raw_os_error(e.raw_os_error().unwrap_or(0)));
        }
        classify(st)
    }

    fn recv_status(&mut self, st: io::Result<usize>, asked: usize) -> IoStatus {
        match &st {
            // UDP has no EOF: an empty datagram carries nothing.
            Ok(0) if asked > 0 && self.datagram => return IoStatus::WouldBlock,
            Ok(0) if asked > 0 => {
                self.eof = true;
                return IoStatus::Eof;
            }
            Err(e) => {
                self.last_error = Some(io::Error::from_raw_os_error(e.raw_os_error().unwrap_or(0)))
            }
            _ => {}
        }
        classify(st)
    }
}

fn classify(r: io::Result<usize>) -> IoStatus {
    match r {
        Ok(n) => IoStatus::Done(n),
        Err(e) => match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => IoStatus::WouldBlock,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted => IoStatus::Reset,
            _ => IoStatus::Failed,
        },
    }
}

impl MemoryIo {
    /// Hand up to `max` fed bytes to `take` and forget them: EOF or
    /// WouldBlock when nothing is left.
    fn take_incoming(&mut self, max: usize, take: impl FnOnce(&[u8])) -> IoStatus {
        let avail = self.incoming.len() - self.in_pos;
        if avail == 0 {
            return if self.eof {
                IoStatus::Eof
            } else {
                IoStatus::WouldBlock
            };
        }
        let n = avail.min(max);
        take(&self.incoming[self.in_pos..self.in_pos + n]);
        self.in_pos += n;
        if self.in_pos == self.incoming.len() {
            self.incoming.clear();
            self.in_pos = 0;
        }
        IoStatus::Done(n)
    }

    pub fn feed(&mut self, data: &[u8]) {
        if self.in_pos > 0 && self.in_pos == self.incoming.len() {
            self.incoming.clear();
            self.in_pos = 0;
        }
        self.incoming.extend_from_slice(data);
    }

    pub fn pending_output(&self) -> usize {
        self.outgoing.len() - self.out_pos
    }

    pub fn drain(&mut self, out: &mut [u8]) -> usize {
        let n = self.pending_output().min(out.len());
        out[..n].copy_from_slice(&self.outgoing[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        if self.out_pos == self.outgoing.len() {
            self.outgoing.clear();
            self.out_pos = 0;
        }
        n
    }
}
