//! Memory mode for DTLS: queues of whole datagrams, so that record
//! boundaries survive (one `feed` is one datagram in, one `drain` one
//! datagram out). Pure data: the transport above maps it to `IoStatus`.

use std::collections::VecDeque;

/// At most this many datagrams wait in either direction; beyond it the
/// oldest incoming one is dropped (as a full socket buffer would) and
/// sending reports "would block".
pub const QUEUE_MAX: usize = 1024;

#[derive(Default)]
pub struct DatagramIo {
    incoming: VecDeque<Vec<u8>>,
    outgoing: VecDeque<Vec<u8>>,
    pub eof: bool,
}

impl DatagramIo {
    /// Queue one received datagram; returns false when one had to be
    /// dropped to make room.
    pub fn feed(&mut self, datagram: &[u8]) -> bool {
        let dropped = self.incoming.len() >= QUEUE_MAX;
        if dropped {
            self.incoming.pop_front();
        }
        self.incoming.push_back(datagram.to_vec());
        !dropped
    }

    /// The next received datagram into `buf` (cut to its length, as a UDP
    /// socket would); `None` when none waits.
    pub fn take(&mut self, buf: &mut [u8]) -> Option<usize> {
        let d = self.incoming.pop_front()?;
        let n = d.len().min(buf.len());
        buf[..n].copy_from_slice(&d[..n]);
        Some(n)
    }

    pub fn has_input(&self) -> bool {
        !self.incoming.is_empty()
    }

    /// Queue one datagram to send; false when the queue is full.
    pub fn send(&mut self, datagram: &[u8]) -> bool {
        if self.outgoing.len() >= QUEUE_MAX {
            return false;
        }
        self.outgoing.push_back(datagram.to_vec());
        true
    }

    /// The length of the next datagram to send, if any.
    pub fn next_len(&self) -> Option<usize> {
        self.outgoing.front().map(Vec::len)
    }

    /// Copy the next datagram to send into `out` and dequeue it when it
    /// fits; returns its length either way (0: none waits). A datagram
    /// longer than `out` stays queued, so a caller can size a buffer.
    pub fn drain(&mut self, out: &mut [u8]) -> usize {
        let Some(n) = self.next_len() else {
            return 0;
        };
        if n <= out.len() {
            let d = self.outgoing.pop_front().expect("checked above");
            out[..n].copy_from_slice(&d);
        }
        n
    }

    /// Bytes queued to send, over all datagrams.
    pub fn pending_output(&self) -> usize {
        self.outgoing.iter().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::DatagramIo;

    #[test]
    fn boundaries_survive() {
        let mut d = DatagramIo::default();
        assert!(d.send(b"abc"));
        assert!(d.send(b"defgh"));
        let mut small = [0u8; 4];
        assert_eq!(d.drain(&mut small), 3);
        assert_eq!(&small[..3], b"abc");
        assert_eq!(d.drain(&mut small), 5, "too long: reported, kept");
        let mut big = [0u8; 8];
        assert_eq!(d.drain(&mut big), 5);
        assert_eq!(&big[..5], b"defgh");
        assert_eq!(d.drain(&mut big), 0);
        d.feed(b"12");
        d.feed(b"345");
        assert_eq!(d.take(&mut big), Some(2));
        assert_eq!(d.take(&mut big), Some(3));
        assert_eq!(d.take(&mut big), None);
    }
}
