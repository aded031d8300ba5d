# Readiness and signals from Mojo (issue 19), over 127.0.0.1:
#  - pending() counts every record the connection took in, and a
#    close_notify right behind the last bytes counts as 1 (memory mode);
#  - one poll() loop (Python's select.poll) over both ends of a connection
#    (two non-blocking TLSStreams over a 127.0.0.1 socket pair, fds from
#    Python): 4 MiB each way in random 1 B - 64 KiB writes, read once per
#    readable event and then while pending() > 0 into a 16 KiB buffer,
#    close_notify once both directions are complete; a poll that sees
#    nothing for 3 s with data missing is a stall; SHA-256 equal; fast and
#    Mbed TLS record layers;
#  - a SIGALRM (handler installed through Python's signal module, which
#    does not set SA_RESTART) interrupts a blocking read: it raises
#    MOJO_TLS_ERR_INTERRUPTED and the connection carries on. The read has a
#    5 s timeout only so that a library that retries EINTR fails the test
#    with TIMEOUT instead of hanging.
#
# Run: mojo/run_tests.sh (needs Python 3).

from std.os.path import dirname, realpath
from std.python import Python, PythonObject
from std.reflection import source_location
from std.testing import TestSuite, assert_equal, assert_true

from mojo_tls import *

comptime TIMEOUT_MS = 15000


def peers() raises -> PythonObject:
    var here = dirname(realpath(String(source_location().file_name())))
    Python.add_to_path(here)
    return Python.import_module("peers")


struct Pki(Movable):
    """A CA and a localhost certificate, also written to files for the
    Python peer (in a directory peers.cleanup() removes)."""

    var ca: GeneratedCert
    var leaf: GeneratedCert
    var dir: String

    def __init__(out self) raises:
        self.ca = generate_ca("mojo readiness CA")
        self.leaf = generate_cert(self.ca, "localhost", "localhost,127.0.0.1")
        var p = peers()
        self.dir = String(py=p.make_temp_dir())
        _ = p.write_file(self.cert_file(), self.leaf.cert_pem())
        _ = p.write_file(self.key_file(), self.leaf.key_pem())

    def cert_file(self) -> String:
        return String(self.dir, "/cert.pem")

    def key_file(self) -> String:
        return String(self.dir, "/key.pem")

    def client_config(self) raises -> TLSConfig:
        var c = TLSConfig.client()
        c.load_ca_pem(self.ca.cert_pem())
        return c^

    def server_config(self) raises -> TLSConfig:
        var c = TLSConfig.server()
        c.add_cert_pem(self.leaf.cert_pem(), self.leaf.key_pem())
        return c^


def handshake_pair(client: TLSMemoryStream, server: TLSMemoryStream) raises:
    var cdone = False
    var sdone = False
    for _ in range(50):
        if not cdone:
            cdone = client.handshake()
        server.feed(client.drain())
        if not sdone:
            sdone = server.handshake()
        client.feed(server.drain())
        if cdone and sdone:
            return
    raise Error("handshake did not finish")


def same_bytes(a: Span[UInt8, _], b: Span[UInt8, _]) -> Bool:
    if len(a) != len(b):
        return False
    for i in range(len(a)):
        if a[i] != b[i]:
            return False
    return True


def test_pending_counts_every_buffered_record() raises:
    var pki = Pki()
    var client = TLSMemoryStream(pki.client_config(), String("localhost"))
    var server = TLSMemoryStream(pki.server_config())
    handshake_pair(client, server)
    var data = random_bytes(40000)  # three records
    server.write_all(data)
    client.feed(server.drain())
    var buf = List[UInt8](length=40000, fill=0)
    assert_equal(client.read(Span(buf)[:100]), 100)
    # exact: the records behind the first one count too
    assert_equal(client.pending(), 39900)
    var got = 100
    while got < 40000:
        got += client.read(Span(buf)[got:])
    assert_equal(client.pending(), 0)
    assert_true(same_bytes(buf, data), "the data differs")
    # the close_notify right behind the last bytes counts as 1
    server.write_all("bye")
    server.close_notify()
    client.feed(server.drain())
    assert_equal(client.read(Span(buf)[:3]), 3)
    assert_equal(client.pending(), 1)
    assert_equal(client.read(Span(buf)[:3]), 0)
    assert_equal(client.pending(), 0)


struct Side(Movable):
    """One end of the bulk test: writes `data` in random pieces, keeps what
    it reads, and reads as the header says (once, then while pending() > 0).
    """

    var stream: TLSStream
    var data: List[UInt8]
    var back: List[UInt8]
    var buf: List[UInt8]
    var sent: Int
    var piece: Int
    var rng: UInt64
    var notified: Bool
    var eof: Bool

    def __init__(out self, var stream: TLSStream, var data: List[UInt8], seed: UInt64):
        self.stream = stream^
        self.back = List[UInt8](capacity=len(data))
        self.data = data^
        self.buf = List[UInt8](length=16384, fill=0)
        self.sent = 0
        self.piece = 0
        self.rng = seed | 1
        self.notified = False
        self.eof = False

    def done(self) -> Bool:
        return self.eof and self.notified

    def wants_write(self, peer_total: Int) -> Bool:
        # close_notify once both directions are complete (the library
        # refuses to write after the peer's close_notify)
        return self.sent < len(self.data) or (
            len(self.back) == peer_total and not self.notified
        )

    def on_readable(mut self) raises:
        while True:
            var n: Int
            try:
                n = self.stream.read(self.buf)
            except e:
                if e.is_want_read():
                    return
                raise Error(String(e))
            if n == 0:
                self.eof = True
                return
            for i in range(n):
                self.back.append(self.buf[i])
            if self.stream.pending() == 0:
                return

    def on_writable(mut self, peer_total: Int) raises:
        var total = len(self.data)
        while self.sent < total:
            if self.piece == 0:
                self.rng ^= self.rng << 13
                self.rng ^= self.rng >> 7
                self.rng ^= self.rng << 17
                self.piece = min(1 + Int(self.rng % 65536), total - self.sent)
            var n: Int
            try:
                n = self.stream.write(
                    Span(self.data)[self.sent : self.sent + self.piece]
                )
            except e:
                if e.code == MOJO_TLS_ERR_WANT_WRITE:
                    return  # the same bytes again when writable
                raise Error(String(e))
            self.sent += n
            self.piece -= n
        if len(self.back) == peer_total and not self.notified:
            try:
                self.stream.close_notify()
                self.notified = True
            except e:
                if e.code != MOJO_TLS_ERR_WANT_WRITE:
                    raise Error(String(e))


def drive_handshakes(c: TLSStream, s: TLSStream) raises:
    var time = Python.import_module("time")
    var cdone = False
    var sdone = False
    for _ in range(3000):
        if not cdone:
            try:
                c.handshake()
                cdone = True
            except e:
                if not (e.is_want_read() or e.code == MOJO_TLS_ERR_WANT_WRITE):
                    raise Error(String(e))
        if not sdone:
            try:
                s.handshake()
                sdone = True
            except e:
                if not (e.is_want_read() or e.code == MOJO_TLS_ERR_WANT_WRITE):
                    raise Error(String(e))
        if cdone and sdone:
            return
        _ = time.sleep(0.001)
    raise Error("the handshakes did not finish")


def bulk(fast: Bool) raises:
    var pki = Pki()
    var ccfg = pki.client_config()
    var scfg = pki.server_config()
    ccfg.set_fast_record_layer(fast)
    scfg.set_fast_record_layer(fast)
    # two connected sockets on 127.0.0.1, made by Python, used through
    # their fds (mojo_tls_conn_new_fd without ownership)
    var socket = Python.import_module("socket")
    var lst = socket.socket()
    _ = lst.bind(Python.tuple("127.0.0.1", 0))
    _ = lst.listen(1)
    var csock = socket.create_connection(lst.getsockname(), 10)
    var accepted = lst.accept()
    var ssock = accepted[0]
    _ = lst.close()
    var cfd = Int(py=csock.fileno())
    var sfd = Int(py=ssock.fileno())
    var cs = TLSStream.from_fd(ccfg, cfd, String("localhost"))
    var ss = TLSStream.from_fd(scfg, sfd)
    cs.set_timeout(0)
    ss.set_timeout(0)
    drive_handshakes(cs, ss)
    var total = 4 * 1024 * 1024
    var c = Side(cs^, random_bytes(total), 1)
    var s = Side(ss^, random_bytes(total), 2)
    var select = Python.import_module("select")
    var POLLIN = Int(py=select.POLLIN)
    var POLLOUT = Int(py=select.POLLOUT)
    var WAKE = POLLIN | Int(py=select.POLLHUP) | Int(py=select.POLLERR)
    var poller = select.poll()
    _ = poller.register(cfd, POLLIN | POLLOUT)
    _ = poller.register(sfd, POLLIN | POLLOUT)
    var stalled = False
    while not (c.done() and s.done()):
        _ = poller.modify(cfd, (0 if c.eof else POLLIN) | (POLLOUT if c.wants_write(total) else 0))
        _ = poller.modify(sfd, (0 if s.eof else POLLIN) | (POLLOUT if s.wants_write(total) else 0))
        var events = poller.poll(3000)
        var k = Int(py=events.__len__())
        if k == 0:
            stalled = True
            break
        for i in range(k):
            var fd = Int(py=events[i][0])
            var revents = Int(py=events[i][1])
            if fd == cfd:
                if revents & WAKE:
                    c.on_readable()
                if revents & POLLOUT:
                    c.on_writable(total)
            else:
                if revents & WAKE:
                    s.on_readable()
                if revents & POLLOUT:
                    s.on_writable(total)
    assert_true(
        not stalled,
        String(
            "stalled: received ", len(c.back), " and ", len(s.back), " of ",
            total, " bytes, pending() ", c.stream.pending(), " and ",
            s.stream.pending(),
        ),
    )
    assert_equal(to_hex(sha256(c.back)), to_hex(sha256(s.data)))
    assert_equal(to_hex(sha256(s.back)), to_hex(sha256(c.data)))
    c.stream.close()
    s.stream.close()
    _ = csock.close()
    _ = ssock.close()


def test_poll_loop_never_stalls_fast_record_layer() raises:
    bulk(True)


def test_poll_loop_never_stalls_mbedtls_record_layer() raises:
    bulk(False)


def test_signal_interrupts_a_blocking_read() raises:
    var pki = Pki()
    var srv = peers().python_echo_server(pki.cert_file(), pki.key_file())
    var stream = TLSStream.connect(
        pki.client_config(), "127.0.0.1", Int(py=srv.port), TIMEOUT_MS
    )
    stream.set_timeout(5000)
    var signal = Python.import_module("signal")
    var old = signal.signal(
        signal.SIGALRM, Python.evaluate("lambda sig, frame: None")
    )
    _ = signal.setitimer(signal.ITIMER_REAL, 0.1)
    var buf = List[UInt8](length=16, fill=0)
    var err = Optional[TLSError]()
    try:
        _ = stream.read(buf)  # the echo server sends nothing yet
    except e:
        err = e^
    _ = signal.setitimer(signal.ITIMER_REAL, 0)
    _ = signal.signal(signal.SIGALRM, old)
    assert_true(Bool(err), "the read returned data")
    assert_true(err.value().is_interrupted(), String(err.value()))
    # nothing was lost: the connection carries on
    stream.write_all("ping")
    var got = 0
    while got < 4:
        got += stream.read(Span(buf)[got:4])
    assert_true(same_bytes(Span(buf)[:4], "ping".as_bytes()), "echo differs")
    stream.close()
    var out = String(py=srv.finish(10))
    assert_true(out.find("DONE") >= 0, out)


def main() raises:
    TestSuite.discover_tests[__functions_in_module()]().run()
