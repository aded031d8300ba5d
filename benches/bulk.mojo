# benches/bulk.mojo — the Mojo package's throughput, one process, loopback.
#
# Echoes BYTES (default 64 MiB) through one 127.0.0.1 TCP connection twice:
# over raw sockets (libc read/write through external_call) and over TLS
# (TLSStream.from_fd on the same kind of socket pair: TLS 1.3, the
# library's defaults, fast record layer). Both ends live in this one thread
# and one loop drives them non-blocking: the client writes 64 KiB pieces,
# the server echoes what it reads (up to 256 KiB queued), the client reads
# the echo; poll(2) only when no end could move. Seconds from the first
# write to the last echoed byte; the same loop and sockets for both, so the
# ratio is the cost of TLS and the package over plain syscalls.
# Prints raw_MiBps, tls_MiBps and tls_vs_raw (tls ÷ raw MiB/s; ./build.sh
# bench reports it as METRIC mojo_bulk_vs_raw), after a "# tls:" line naming
# the version, suite and record layer measured.
# Run: MOJO_TLS_LIBRARY=<dist>/lib/libmojo_tls.so.1 mojo run -I mojo benches/bulk.mojo [BYTES]

from std.ffi import external_call
from std.memory import Pointer
from std.sys import argv
from std.time import perf_counter_ns

from mojo_tls import *

comptime CHUNK = 65536
comptime SERVER_QUEUE = 262144
comptime STALL_MS = 10000

# Linux values (x86-64 and aarch64 alike)
comptime AF_INET = 2
comptime SOCK_STREAM = 1
comptime IPPROTO_TCP = 6
comptime TCP_NODELAY = 1
comptime F_SETFL = 4
comptime O_NONBLOCK = 0x800
comptime EAGAIN = 11
comptime EINTR = 4


def errno() -> Int:
    return Int(
        external_call["__errno_location", Pointer[Int32, MutAnyOrigin]]()[]
    )


def check(rc: Int, what: String) raises -> Int:
    if rc < 0:
        raise Error(String(what, " failed: errno ", errno()))
    return rc


def socket_pair() raises -> Tuple[Int, Int]:
    """Two connected, non-blocking TCP sockets on 127.0.0.1 (client,
    server), TCP_NODELAY on both as the library's own connect sets it."""
    # struct sockaddr_in: family (host order), port (network order),
    # 127.0.0.1, 8 bytes of zeros; port 0 = any, read back below.
    var addr: List[UInt8] = [2, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    var alen: List[UInt32] = [16]
    var lst = check(
        Int(external_call["socket", Int32](Int32(AF_INET), Int32(SOCK_STREAM), Int32(0))),
        "socket",
    )
    _ = check(
        Int(external_call["bind", Int32](Int32(lst), addr.unsafe_ptr(), UInt32(16))),
        "bind",
    )
    _ = check(Int(external_call["listen", Int32](Int32(lst), Int32(1))), "listen")
    _ = check(
        Int(
            external_call["getsockname", Int32](
                Int32(lst), addr.unsafe_ptr(), alen.unsafe_ptr()
            )
        ),
        "getsockname",
    )
    var c = check(
        Int(external_call["socket", Int32](Int32(AF_INET), Int32(SOCK_STREAM), Int32(0))),
        "socket",
    )
    _ = check(
        Int(external_call["connect", Int32](Int32(c), addr.unsafe_ptr(), UInt32(16))),
        "connect",
    )
    var s = check(
        Int(external_call["accept", Int32](Int32(lst), Int(0), Int(0))), "accept"
    )
    _ = external_call["close", Int32](Int32(lst))
    var one: List[Int32] = [1]
    for fd in [c, s]:
        _ = check(
            Int(
                external_call["setsockopt", Int32](
                    Int32(fd), Int32(IPPROTO_TCP), Int32(TCP_NODELAY),
                    one.unsafe_ptr(), UInt32(4),
                )
            ),
            "setsockopt",
        )
        _ = check(
            Int(external_call["fcntl", Int32](Int32(fd), Int32(F_SETFL), Int32(O_NONBLOCK))),
            "fcntl",
        )
    return (c, s)


def close_fd(fd: Int):
    _ = external_call["close", Int32](Int32(fd))


trait EchoEnd:
    """One end of the echo: non-blocking recv / send over buf[start:end];
    both return the count, or -1 when the call would block."""

    def fd(self) raises -> Int:
        ...

    def recv(mut self, mut buf: List[UInt8], start: Int, end: Int) raises -> Int:
        ...

    def send(mut self, buf: List[UInt8], start: Int, end: Int) raises -> Int:
        ...


struct RawEnd(EchoEnd, Movable):
    var _fd: Int

    def __init__(out self, fd: Int):
        self._fd = fd

    def fd(self) raises -> Int:
        return self._fd

    def recv(mut self, mut buf: List[UInt8], start: Int, end: Int) raises -> Int:
        while True:
            var n = Int(
                external_call["read", Int](
                    Int32(self._fd), buf.unsafe_ptr().unsafe_offset(start), UInt64(end - start)
                )
            )
            if n >= 0:
                return n
            var e = errno()
            if e == EAGAIN:
                return -1
            if e != EINTR:
                raise Error(String("read failed: errno ", e))

    def send(mut self, buf: List[UInt8], start: Int, end: Int) raises -> Int:
        while True:
            var n = Int(
                external_call["write", Int](
                    Int32(self._fd), buf.unsafe_ptr().unsafe_offset(start), UInt64(end - start)
                )
            )
            if n >= 0:
                return n
            var e = errno()
            if e == EAGAIN:
                return -1
            if e != EINTR:
                raise Error(String("write failed: errno ", e))


struct TlsEnd(EchoEnd, Movable):
    var s: TLSStream

    def __init__(out self, var s: TLSStream):
        self.s = s^

    def fd(self) raises -> Int:
        return self.s.fileno()

    def recv(mut self, mut buf: List[UInt8], start: Int, end: Int) raises -> Int:
        # want_read (nothing buffered: pending() is 0) or want_write: wait
        var r = self.s.try_read(Span(buf)[start:end])
        return r.count if r.done() else -1

    def send(mut self, buf: List[UInt8], start: Int, end: Int) raises -> Int:
        var r = self.s.try_write(Span(buf)[start:end])
        return r.count if r.done() else -1


def echo[E: EchoEnd](mut client: E, mut server: E, total: Int) raises -> Float64:
    """Seconds to echo `total` bytes client -> server -> client."""
    var data = List[UInt8](length=CHUNK, fill=0x78)
    var back = List[UInt8](length=CHUNK, fill=0)
    var queue = List[UInt8](length=SERVER_QUEUE, fill=0)
    var sent = 0
    var got = 0
    var lo = 0  # queue[lo:hi] read by the server, not yet echoed
    var hi = 0
    # A write that would block is retried with the same bytes (TLS asks
    # for that): the server remembers how many it offered.
    var offered = 0
    var poller = Poller()
    var t0 = perf_counter_ns()
    while got < total:
        var progress = False
        while sent < total:
            var n = client.send(data, 0, min(CHUNK, total - sent))
            if n < 0:
                break
            sent += n
            progress = True
        var moved = True
        while moved:
            moved = False
            if hi < SERVER_QUEUE:
                var n = server.recv(queue, hi, SERVER_QUEUE)
                if n == 0:
                    raise Error("server: early end of stream")
                if n > 0:
                    hi += n
                    moved = True
            if lo < hi:
                var end = lo + offered if offered > 0 else hi
                var m = server.send(queue, lo, end)
                if m < 0:
                    offered = end - lo
                else:
                    offered = 0
                    lo += m
                    moved = True
                    if lo == hi:
                        lo = 0
                        hi = 0
            progress = progress or moved
        while got < total:
            var n = client.recv(back, 0, CHUNK)
            if n == 0:
                raise Error("client: early end of stream")
            if n < 0:
                break
            got += n
            progress = True
        if not progress:
            poller.clear()
            _ = poller.add(client.fd(), got < total, sent < total)
            _ = poller.add(server.fd(), hi < SERVER_QUEUE, lo < hi)
            if poller.wait(STALL_MS) == 0:
                raise Error(
                    String("stalled: sent ", sent, ", echoed ", got, " of ", total)
                )
    return Float64(perf_counter_ns() - t0) / 1e9


def handshake(c: TLSStream, s: TLSStream) raises:
    var cr = IOResult(0, MOJO_TLS_ERR_WANT_WRITE)
    var sr = IOResult(0, MOJO_TLS_ERR_WANT_READ)
    var poller = Poller()
    while not (cr.done() and sr.done()):
        if not cr.done():
            cr = c.try_handshake()
        if not sr.done():
            sr = s.try_handshake()
        if cr.done() and sr.done():
            return
        poller.clear()
        if not cr.done():
            _ = poller.add(c.fileno(), cr)
        if not sr.done():
            _ = poller.add(s.fileno(), sr)
        if poller.wait(STALL_MS) == 0:
            raise Error("the handshake stalled")


def main() raises:
    var total = 64 * 1024 * 1024
    var args = argv()
    if len(args) > 1:
        total = Int(args[1])
    var mib = Float64(total) / 1048576.0

    var raw_fds = socket_pair()
    var rc = RawEnd(raw_fds[0])
    var rs = RawEnd(raw_fds[1])
    var raw_s = echo(rc, rs, total)
    close_fd(raw_fds[0])
    close_fd(raw_fds[1])

    var ca = generate_ca("bench CA", 1)
    var leaf = generate_cert(ca, "localhost", "localhost,127.0.0.1")
    var ccfg = TLSConfig.client()
    ccfg.load_ca_pem(ca.cert_pem())
    var scfg = TLSConfig.server()
    scfg.add_cert_pem(leaf.cert_pem(), leaf.key_pem())
    var tls_fds = socket_pair()
    var cs = TLSStream.from_fd(ccfg, tls_fds[0], String("localhost"), True)
    var ss = TLSStream.from_fd(scfg, tls_fds[1], None, True)
    cs.set_timeout(0)
    ss.set_timeout(0)
    handshake(cs, ss)
    # what the TLS row measured (not a "key value" line run.sh records)
    var what = String(
        "# tls: ", cs.get_version(), " ", cs.get_cipher(), ", ", cs.record_layer()
    )
    var tc = TlsEnd(cs^)
    var ts = TlsEnd(ss^)
    var tls_s = echo(tc, ts, total)

    print(what)
    print("raw_MiBps", round(mib / raw_s, 1))
    print("tls_MiBps", round(mib / tls_s, 1))
    print("tls_vs_raw", round(raw_s / tls_s, 3))
