# DTLS 1.2 in the Mojo package: DTLSStream against `openssl s_server
# -dtls1_2` (with and without a client certificate), `openssl s_client
# -dtls1_2` against DTLSListener, a Mojo client against the Mojo listener
# in this process (one poll loop) and against the dtls_echo example in
# another, DTLSMemory pairs (datagrams dropped on the way: the timer's
# retransmissions finish the handshake), verification failures, datagram
# boundaries (oversized write, too-small read), close_notify, a silent
# server, bad arguments and closed objects. Everything on 127.0.0.1; peer
# processes through peers.py (bounded waits, stopped by PID).
#
# Run: mojo/run_tests.sh (it builds examples/mojo and sets
# MOJO_TLS_EXAMPLES_BIN and MOJO_TLS_LIBRARY).

from std.os import getenv
from std.os.path import dirname, exists, realpath
from std.python import Python, PythonObject
from std.reflection import source_location
from std.testing import TestSuite, assert_equal, assert_false, assert_true
from std.time import sleep

from mojo_tls import *

comptime TIMEOUT_MS = 15000


# ---- helpers ------------------------------------------------------------------------


def peers() raises -> PythonObject:
    var here = dirname(realpath(String(source_location().file_name())))
    Python.add_to_path(here)
    return Python.import_module("peers")


struct Pki(Movable):
    """A CA, a server certificate for localhost / 127.0.0.1, a client
    certificate, an unrelated CA; files for the openssl peers."""

    var ca: GeneratedCert
    var leaf: GeneratedCert
    var client: GeneratedCert
    var other_ca: GeneratedCert
    var dir: String

    def __init__(out self) raises:
        self.ca = generate_ca("mojo dtls CA")
        self.leaf = generate_cert(self.ca, "localhost", "localhost,127.0.0.1")
        self.client = generate_cert(self.ca, "dtls client", "client.test")
        self.other_ca = generate_ca("unrelated CA")
        var p = peers()
        self.dir = String(py=p.make_temp_dir())
        _ = p.write_file(self.ca_file(), self.ca.cert_pem())
        _ = p.write_file(self.cert_file(), self.leaf.cert_pem())
        _ = p.write_file(self.key_file(), self.leaf.key_pem())

    def ca_file(self) -> String:
        return String(self.dir, "/ca.pem")

    def cert_file(self) -> String:
        return String(self.dir, "/cert.pem")

    def key_file(self) -> String:
        return String(self.dir, "/key.pem")

    def client_config(self) raises -> TLSConfig:
        var c = TLSConfig.dtls_client()
        c.load_ca_pem(self.ca.cert_pem())
        # Fast retransmission: the tests drop datagrams on purpose.
        c.set_dtls_handshake_timeout(50, 4000)
        return c^

    def server_config(self) raises -> TLSConfig:
        var c = TLSConfig.dtls_server()
        c.add_cert_pem(self.leaf.cert_pem(), self.leaf.key_pem())
        c.set_dtls_handshake_timeout(50, 4000)
        return c^


def examples_bin(name: String) raises -> String:
    var d = getenv("MOJO_TLS_EXAMPLES_BIN")
    if d.byte_length() == 0:
        raise Error("MOJO_TLS_EXAMPLES_BIN is not set (run mojo/run_tests.sh)")
    var p = String(d, "/", name)
    if not exists(p):
        raise Error(String("example program missing: ", p))
    return p^


def bytes_eq(a: Span[UInt8, _], b: Span[UInt8, _]) -> Bool:
    if len(a) != len(b):
        return False
    for i in range(len(a)):
        if a[i] != b[i]:
            return False
    return True


def text_datagram(i: Int) -> String:
    """Datagram `i` for the openssl peers: printable, 1..~1000 bytes."""
    var out = String("[", i, ":")
    var n = (i * 37) % 1000
    for k in range(n):
        out += String(chr(97 + (i + k) % 26))
    return out + "]"


def expect_error(e: Optional[TLSError], code: Int, what: String) raises:
    assert_true(Bool(e), String(what, ": no error raised"))
    assert_equal(e.value().name(), error_name(code), String(what, ": ", e.value()))
    assert_true(e.value().message.byte_length() > 0, what)




def pump_memory(
    client: DTLSMemory,
    server: DTLSMemory,
    drop_c2s: List[Int],
    drop_s2c: List[Int],
    mut sent_c2s: Int,
    mut sent_s2c: Int,
) raises:
    """Both handshakes to the end, moving datagrams between the two and
    dropping the ones whose index (per direction, from 0) is listed. When
    nothing moves, wait for the nearer retransmission timer: only the
    timers can make up for a dropped flight. A finished side keeps reading
    (a retransmitted flight reaches it there and it answers). Bounded."""
    var cdone = False
    var sdone = False
    var buf = List[UInt8](length=DTLS_MAX_DATAGRAM, fill=0)
    var deadline = monotonic_ms() + 10000
    while monotonic_ms() < deadline:
        if not cdone:
            cdone = client.handshake()
        else:
            assert_true(client.try_read(buf).want_read(), "unexpected data")
        var moved = False
        for d in client.drain_datagrams():
            if sent_c2s not in drop_c2s:
                server.feed_datagram(d)
                moved = True
            sent_c2s += 1
        if not sdone:
            sdone = server.handshake()
        else:
            assert_true(server.try_read(buf).want_read(), "unexpected data")
        for d in server.drain_datagrams():
            if sent_s2c not in drop_s2c:
                client.feed_datagram(d)
                moved = True
            sent_s2c += 1
        if cdone and sdone and not moved:
            return
        if not moved:
            var t = 200
            var ct = client.next_timeout_ms()
            var st = server.next_timeout_ms()
            if ct >= 0:
                t = min(t, ct)
            if st >= 0:
                t = min(t, st)
            sleep(Float64(max(t, 1)) / 1000.0)
    raise Error(
        String("DTLS handshake did not finish: client ", cdone, " server ", sdone)
    )


def memory_pair(
    pki: Pki, client_config: TLSConfig, server_config: TLSConfig
) raises -> Tuple[DTLSMemory, DTLSMemory]:
    var client = DTLSMemory(client_config, String("localhost"))
    var server = DTLSMemory(server_config)
    server.set_peer_id("127.0.0.1:40000")
    var a = 0
    var b = 0
    pump_memory(client, server, List[Int](), List[Int](), a, b)
    return (client^, server^)


def move_all(src: DTLSMemory, dst: DTLSMemory) raises -> Int:
    var n = 0
    for d in src.drain_datagrams():
        dst.feed_datagram(d)
        n += 1
    return n


# ---- memory mode ------------------------------------------------------------------


def test_memory_pair_datagrams_and_boundaries() raises:
    var pki = Pki()
    var ccfg = pki.client_config()
    var scfg = pki.server_config()
    var client = DTLSMemory(ccfg, String("localhost"))
    var server = DTLSMemory(scfg)
    server.set_peer_id("127.0.0.1:40000")
    var a = 0
    var b = 0
    pump_memory(client, server, List[Int](), List[Int](), a, b)
    assert_equal(client.get_version(), "DTLSv1.2")
    assert_equal(server.get_version(), "DTLSv1.2")
    assert_equal(client.get_cipher(), server.get_cipher())
    assert_equal(client.peer_cert_fingerprint(), to_hex(pki.leaf.sha256(), ":"))
    assert_equal(client.peer_cert_subject(), "CN=localhost")
    assert_equal(client.verify_flags(), 0)

    # Record boundaries: three writes are three datagrams, three reads.
    _ = client.write("one")
    _ = client.write("datagram two")
    _ = client.write(random_bytes(3000))
    assert_equal(move_all(client, server), 3)
    assert_equal(server.read_string(), "one")
    assert_equal(server.read_string(), "datagram two")
    # Too small a buffer: an error naming the size, the datagram kept.
    var err = Optional[TLSError]()
    try:
        _ = server.read(100)
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "read(100) of 3000")
    assert_true(err.value().message.find("3000") >= 0, err.value().message)
    assert_equal(server.pending(), 3000)
    assert_equal(len(server.read(3000)), 3000)
    # Nothing more: want_read, not the end.
    err = None
    try:
        _ = server.read()
    except e:
        err = e^
    assert_true(Bool(err) and err.value().is_want_read(), "read with no input")

    # Anti-replay: a datagram fed twice is read once.
    _ = server.write("only once")
    var d = server.drain_datagram()
    assert_true(len(d) > 0)
    assert_equal(len(server.drain_datagram()), 0)
    client.feed_datagram(d)
    client.feed_datagram(d)
    assert_equal(client.read_string(), "only once")
    var buf = List[UInt8](length=64, fill=0)
    assert_true(client.try_read(buf).want_read(), "replayed datagram read")

    # The MTU: a write larger than one datagram carries is refused, the
    # connection goes on.
    client.set_mtu(300)
    err = None
    try:
        _ = client.write(random_bytes(1000))
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "write over the MTU")
    assert_equal(len(client.drain_datagram()), 0)  # nothing went out
    _ = client.write("after the refused one")
    var small = client.drain_datagram()
    assert_true(len(small) <= 300, String(len(small)))
    server.feed_datagram(small)
    assert_equal(server.read_string(), "after the refused one")

    # close_notify: the peer's read is empty.
    client.close_notify()
    assert_equal(move_all(client, server), 1)
    assert_equal(len(server.read()), 0)
    assert_equal(server.read(buf), 0)


def test_memory_handshake_survives_dropped_datagrams() raises:
    """The ClientHello, the server's first full flight and the client's
    Finished flight are lost once each: only the retransmission timers
    can finish this handshake. Then 40 numbered datagrams, every fifth
    lost: each other one arrives exactly once."""
    var pki = Pki()
    var ccfg = pki.client_config()
    var scfg = pki.server_config()
    var client = DTLSMemory(ccfg, String("localhost"))
    var server = DTLSMemory(scfg)
    server.set_peer_id("127.0.0.1:40001")
    # Without losses: how many datagrams each side sends.
    var c0 = DTLSMemory(ccfg, String("localhost"))
    var s0 = DTLSMemory(scfg)
    s0.set_peer_id("127.0.0.1:40001")
    var base_c = 0
    var base_s = 0
    pump_memory(c0, s0, List[Int](), List[Int](), base_c, base_s)

    var sent_c = 0
    var sent_s = 0
    var t0 = monotonic_ms()
    # c2s: 0 = ClientHello, 1 = hello with cookie, 2.. = the client's
    # second flight; s2c: 0 = HelloVerifyRequest, 1.. = the ServerHello
    # flight.
    pump_memory(client, server, [0, 2], [1], sent_c, sent_s)
    var took = monotonic_ms() - t0
    # Lost flights were sent again: more datagrams than without losses,
    # and at least one timer period went by.
    assert_true(sent_c > base_c, String(sent_c, " vs ", base_c))
    assert_true(sent_s > base_s, String(sent_s, " vs ", base_s))
    assert_true(took >= 50, String(took, " ms"))
    assert_equal(client.get_version(), "DTLSv1.2")

    var received = List[Int]()
    var buf = List[UInt8](length=DTLS_MAX_DATAGRAM, fill=0)
    for i in range(40):
        _ = client.write(String("datagram ", i))
        var d = client.drain_datagram()
        if i % 5 == 0:
            continue  # lost
        server.feed_datagram(d)
        if i % 7 == 0:
            server.feed_datagram(d)  # duplicated on the way
        while True:
            var r = server.try_read(buf)
            if not r.done():
                break
            var text = String(from_utf8_lossy=Span(buf)[0 : r.count])
            received.append(Int(text[byte=9:]))
    assert_equal(len(received), 32)
    for k in range(len(received)):
        var i = received[k]
        assert_true(i % 5 != 0, String("lost datagram ", i, " arrived"))
        for m in range(k):
            assert_true(received[m] != i, String("datagram ", i, " twice"))


struct LossyLink(Movable):
    """One direction of a bad network, seeded: of the datagrams sent, 20 %
    are lost, 15 % arrive twice, 20 % are held back and arrive after the
    next one (reordered)."""

    var state: UInt64
    var held: List[List[UInt8]]
    var sent: Int

    def __init__(out self, seed: UInt64):
        self.state = seed * 6364136223846793005 + 1442695040888963407
        self.held = List[List[UInt8]]()
        self.sent = 0

    def roll(mut self) -> Int:
        self.state = self.state * 6364136223846793005 + 1442695040888963407
        return Int((self.state >> 33) % 100)

    def carry(mut self, src: DTLSMemory, dst: DTLSMemory) raises -> Bool:
        """Send what `src` has to `dst` through the link; True if anything
        arrived."""
        var arrived = False
        for d in src.drain_datagrams():
            self.sent += 1
            var r = self.roll()
            if r < 20:
                continue
            if r < 40:
                self.held.append(d.copy())
                continue
            dst.feed_datagram(d)
            if r < 55:
                dst.feed_datagram(d)
            arrived = True
            for h in self.held:
                dst.feed_datagram(h)
            self.held.clear()
        return arrived

    def flush(mut self, dst: DTLSMemory) raises -> Bool:
        var any = len(self.held) > 0
        for h in self.held:
            dst.feed_datagram(h)
        self.held.clear()
        return any


def lossy_run(seed: UInt64) raises:
    var pki = Pki()
    var ccfg = pki.client_config()
    var scfg = pki.server_config()
    var client = DTLSMemory(ccfg, String("localhost"))
    var server = DTLSMemory(scfg)
    server.set_peer_id("127.0.0.1:40002")
    var c2s = LossyLink(seed)
    var s2c = LossyLink(seed + 1000)
    var buf = List[UInt8](length=DTLS_MAX_DATAGRAM, fill=0)
    var cdone = False
    var sdone = False
    var deadline = monotonic_ms() + 20000
    while True:
        assert_true(monotonic_ms() < deadline, String("seed ", seed, ": stuck"))
        if not cdone:
            cdone = client.handshake()
        else:
            assert_true(client.try_read(buf).want_read())
        var moved = c2s.carry(client, server)
        if not sdone:
            sdone = server.handshake()
        else:
            assert_true(server.try_read(buf).want_read())
        moved = s2c.carry(server, client) or moved
        if cdone and sdone and not moved:
            break
        if not moved:
            # Held datagrams arrive late; then the timers resend.
            moved = c2s.flush(server) or s2c.flush(client)
        if not moved:
            var t = 100
            for x in [client.next_timeout_ms(), server.next_timeout_ms()]:
                if x >= 0:
                    t = min(t, x)
            sleep(Float64(max(t, 1)) / 1000.0)

    # 200 numbered, checksummed datagrams over the same link: whatever
    # arrives is intact and arrives once.
    var seen = List[Bool](length=200, fill=False)
    var got = 0
    for i in range(200):
        var body = random_bytes(1 + (i * 31) % 700)
        var d = String(i, " ", to_hex(sha256(body)), " ", to_hex(body))
        _ = client.write(d)
        _ = c2s.carry(client, server)
        if i == 199:
            _ = c2s.flush(server)
        while True:
            var r = server.try_read(buf)
            if not r.done():
                break
            var text = String(from_utf8_lossy=Span(buf)[0 : r.count])
            var parts = text.split(" ")
            assert_equal(len(parts), 3, text)
            var k = Int(parts[0])
            var b = from_hex(String(parts[2]))
            assert_equal(to_hex(sha256(b)), String(parts[1]), "damaged")
            assert_false(seen[k], String("datagram ", k, " arrived twice"))
            seen[k] = True
            got += 1
    # About 80 % arrive (the link loses 20 %); none twice.
    assert_true(got >= 120 and got < 200, String("seed ", seed, ": ", got))


def test_memory_seeded_loss_duplication_and_reordering() raises:
    for seed in [1, 2, 3, 4]:
        lossy_run(UInt64(seed))


def test_memory_verification_failures() raises:
    var pki = Pki()
    var scfg = pki.server_config()
    # An untrusted CA.
    var wrong = TLSConfig.dtls_client()
    wrong.load_ca_pem(pki.other_ca.cert_pem())
    var client = DTLSMemory(wrong, String("localhost"))
    var server = DTLSMemory(scfg)
    server.set_peer_id("p")
    var err = Optional[TLSError]()
    var a = 0
    var b = 0
    try:
        pump_memory(client, server, List[Int](), List[Int](), a, b)
    except e:
        err = TLSError.from_error(e)
    expect_error(err, MOJO_TLS_ERR_VERIFY_FAILED, "untrusted CA")
    # A trusted certificate for another name.
    var ccfg = pki.client_config()
    var c2 = DTLSMemory(ccfg, String("other.example"))
    var s2 = DTLSMemory(scfg)
    s2.set_peer_id("p")
    err = None
    try:
        pump_memory(c2, s2, List[Int](), List[Int](), a, b)
    except e:
        err = TLSError.from_error(e)
    expect_error(err, MOJO_TLS_ERR_VERIFY_FAILED, "wrong host name")
    # A server without the peer id cannot answer.
    var c3 = DTLSMemory(ccfg, String("localhost"))
    var s3 = DTLSMemory(scfg)
    _ = c3.handshake()
    _ = move_all(c3, s3)
    err = None
    try:
        _ = s3.handshake()
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_BAD_STATE, "no peer id")


# ---- over UDP, against openssl ---------------------------------------------------


def run_against_s_server(pki: Pki, mtls: Bool) raises:
    var p = peers()
    var srv: PythonObject
    var config = pki.client_config()
    if mtls:
        srv = p.openssl_server(
            pki.cert_file(),
            pki.key_file(),
            "-dtls1_2",
            "-Verify",
            "1",
            "-CAfile",
            pki.ca_file(),
        )
        config.add_cert_pem(pki.client.cert_pem(), pki.client.key_pem())
    else:
        srv = p.openssl_server(pki.cert_file(), pki.key_file(), "-dtls1_2")
    var stream = DTLSStream.connect(
        config, "localhost", Int(py=srv.port), TIMEOUT_MS
    )
    assert_equal(stream.get_version(), "DTLSv1.2")
    assert_equal(stream.peer_cert_fingerprint(), to_hex(pki.leaf.sha256(), ":"))
    # 40 datagrams; s_server prints what it receives: the concatenation
    # must appear there whole (checksummed).
    var sent = String("")
    for i in range(40):
        var d = text_datagram(i)
        assert_equal(stream.write(d), d.byte_length())
        sent += d
        sleep(0.002)  # loopback loses nothing, but do not flood s_server
    # A line typed into s_server comes back as one datagram.
    _ = srv.write(PythonObject("hello from openssl s_server\n").encode())
    assert_equal(stream.read_string(), "hello from openssl s_server\n")
    stream.close_notify()
    stream.close()
    var out = String(py=srv.finish(10))
    var at = out.find(sent)
    assert_true(at >= 0, String("s_server did not print the datagrams: ", out))
    var got = String(out[byte=at : at + sent.byte_length()])
    assert_equal(
        to_hex(sha256(got.as_bytes())), to_hex(sha256(sent.as_bytes()))
    )


def test_client_vs_openssl_s_server() raises:
    var pki = Pki()
    run_against_s_server(pki, False)


def test_client_with_certificate_vs_openssl_s_server() raises:
    var pki = Pki()
    run_against_s_server(pki, True)


def s_client_vs_listener(mtu: Int) raises:
    var pki = Pki()
    var scfg = pki.server_config()
    if mtu > 0:
        scfg.set_dtls_mtu(mtu)
    var listener = DTLSListener.bind("127.0.0.1", 0, scfg)
    assert_equal(listener.peer_count(), 0)
    var lines = String("")
    for i in range(10):
        lines += String("line ", i, " from s_client\n")
    var cli = peers().openssl_client(
        listener.port(),
        pki.ca_file(),
        "localhost",
        PythonObject(lines).encode(),
        "-dtls1_2",
    )
    var s = listener.accept(TIMEOUT_MS)
    assert_equal(listener.peer_count(), 1)
    assert_equal(s.get_version(), "DTLSv1.2")
    assert_equal(s.server_name(), "localhost")
    # s_client sends stdin as it reads it: one or more datagrams; echo each.
    var got = String("")
    while got.byte_length() < lines.byte_length():
        var d = s.read()
        assert_true(len(d) > 0, "s_client closed early")
        _ = s.write(d)
        got += String(from_utf8_lossy=Span(d))
    assert_equal(got, lines)
    if mtu > 0:
        # The blocking accept set the configuration's MTU before its
        # handshake: a datagram over it is refused, the stream goes on.
        var err = Optional[TLSError]()
        try:
            _ = s.write(random_bytes(mtu + 100))
        except e:
            err = e^
        expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "write over the MTU")
    s.close()  # close_notify: s_client (-quiet ignores stdin's end) exits
    assert_equal(listener.peer_count(), 0)
    var out = String(py=cli.finish(10))
    assert_true(out.find(lines) >= 0, out)
    assert_equal(Int(py=cli.returncode()), 0, out)


def test_openssl_s_client_vs_listener() raises:
    s_client_vs_listener(0)


def test_openssl_s_client_vs_listener_with_an_mtu() raises:
    s_client_vs_listener(500)


# ---- Mojo client, Mojo listener ---------------------------------------------------


def poll_loop_pair(
    no_handshake: Bool, server_mtu: Int, via_fd: Bool = False
) raises:
    """Both ends non-blocking in this process: the client's connect with
    timeout 0 (or from_fd on a connected UDP socket of Python's), the
    listener's accept(0) (or accept_no_handshake(0)),
    try_handshake on both, one Poller; then 20 datagrams each way,
    checksummed, and close_notify."""
    var pki = Pki()
    var scfg = pki.server_config()
    if server_mtu > 0:
        scfg.set_dtls_mtu(server_mtu)
    var listener = DTLSListener.bind("127.0.0.1", 0, scfg)
    var ccfg = pki.client_config()
    var socket = Python.import_module("socket")
    var sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    var client: DTLSStream
    if via_fd:
        _ = sock.connect(Python.tuple("127.0.0.1", listener.port()))
        client = DTLSStream.from_fd(ccfg, Int(py=sock.fileno()), String("localhost"))
        client.set_timeout(0)
    else:
        client = DTLSStream.connect(ccfg, "localhost", listener.port(), 0)
    var server = Optional[DTLSStream]()
    var cdone = False
    var sdone = False
    var deadline = monotonic_ms() + TIMEOUT_MS
    while True:
        # Every step that can go on without waiting, then poll.
        if not cdone:
            cdone = client.try_handshake().done()
        if not server:
            try:
                if no_handshake:
                    server = listener.accept_no_handshake(0)
                else:
                    server = listener.accept(0)
            except e:
                assert_true(e.is_want_read(), String(e))
        if server and not sdone:
            sdone = server.value().try_handshake().done()
        if cdone and sdone:
            break
        assert_true(monotonic_ms() < deadline, "handshake did not finish")
        var poller = Poller()
        _ = poller.add(listener.fileno())
        _ = poller.add(client.fileno())
        var wait_ms = 200
        var t = client.next_timeout_ms()
        if t >= 0:
            wait_ms = min(wait_ms, t)
        if server:
            _ = poller.add(server.value().fileno())
            t = server.value().next_timeout_ms()
            if t >= 0:
                wait_ms = min(wait_ms, t)
        _ = poller.wait(wait_ms)
    assert_equal(listener.peer_count(), 1)
    assert_equal(client.get_cipher(), server.value().get_cipher())
    assert_equal(client.peer_cert_subject(), "CN=localhost")

    var s = server.take()
    s.set_timeout(TIMEOUT_MS)
    client.set_timeout(TIMEOUT_MS)
    var sent = List[UInt8]()
    var back = List[UInt8]()
    for i in range(20):
        var d = random_bytes(1 + i * 17)
        _ = client.write(d)
        sent.extend(Span(d))
        var got = s.read()
        _ = s.write(got)
        back.extend(Span(client.read()))
    assert_equal(to_hex(sha256(back)), to_hex(sha256(sent)))
    if server_mtu > 0:
        # The configuration's MTU reached the accepted stream.
        var err = Optional[TLSError]()
        try:
            _ = s.write(random_bytes(server_mtu + 100))
        except e:
            err = e^
        expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "server write > MTU")
    client.close_notify()
    assert_equal(len(s.read()), 0)
    s.close()
    assert_equal(listener.peer_count(), 0)
    client.close()
    _ = sock.close()  # from_fd without take_ownership: the fd stayed ours


def test_mojo_client_vs_listener_one_poll_loop() raises:
    poll_loop_pair(False, 0)


def test_listener_accept_no_handshake_in_a_poll_loop() raises:
    poll_loop_pair(True, 0)


def test_listener_applies_the_configuration_mtu() raises:
    poll_loop_pair(False, 400)


def test_client_from_fd_on_a_connected_udp_socket() raises:
    poll_loop_pair(False, 0, via_fd=True)


def test_mojo_client_vs_dtls_echo_example() raises:
    """The dtls_echo example in another process; two clients of ours, the
    second with an MTU set on its configuration."""
    var pki = Pki()
    var p = peers()
    var srv = p.spawn(
        Python.list(
            examples_bin("dtls_echo"),
            "--port",
            "0",
            "--cert",
            pki.cert_file(),
            "--key",
            pki.key_file(),
            "--count",
            "2",
            "--timeout-ms",
            String(TIMEOUT_MS),
        )
    )
    var port = Int(py=srv.port)
    var config = pki.client_config()
    var stream = DTLSStream.connect(config, "localhost", port, TIMEOUT_MS)
    var sent = List[UInt8]()
    var back = List[UInt8]()
    for i in range(50):
        var d = random_bytes(1 + (i * 97) % 1200)
        assert_equal(stream.write(d), len(d))
        sent.extend(Span(d))
        var e = stream.read()
        assert_true(bytes_eq(e, d), String("echo ", i, " differs"))
        back.extend(Span(e))
    assert_equal(to_hex(sha256(back)), to_hex(sha256(sent)))
    stream.close()

    config.set_dtls_mtu(500)
    var s2 = DTLSStream.connect(config, "localhost", port, TIMEOUT_MS)
    var err = Optional[TLSError]()
    try:
        _ = s2.write(random_bytes(2000))
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "write over the MTU")
    _ = s2.write("still going")
    assert_equal(s2.read_string(), "still going")
    s2.close()

    var out = String(py=srv.finish(20))
    assert_true(
        out.find("client 1: DTLSv1.2 ") >= 0
        and out.find(", 50 datagrams echoed, close_notify") >= 0,
        out,
    )
    assert_true(out.find(", 1 datagrams echoed, close_notify") >= 0, out)


def test_dtls_echo_example_requires_client_certificates() raises:
    """The dtls_echo example with --ca: a client with a certificate from that CA is echoed,
    one without is refused (a TLSError on our side, a line on the
    server's)."""
    var pki = Pki()
    var srv = peers().spawn(
        Python.list(
            examples_bin("dtls_echo"),
            "--port",
            "0",
            "--cert",
            pki.cert_file(),
            "--key",
            pki.key_file(),
            "--ca",
            pki.ca_file(),
            "--count",
            "2",
            "--timeout-ms",
            String(TIMEOUT_MS),
        )
    )
    var port = Int(py=srv.port)
    var with_cert = pki.client_config()
    with_cert.add_cert_pem(pki.client.cert_pem(), pki.client.key_pem())
    var s = DTLSStream.connect(with_cert, "localhost", port, TIMEOUT_MS)
    _ = s.write("with a certificate")
    assert_equal(s.read_string(), "with a certificate")
    s.close()
    var without = pki.client_config()
    var err = Optional[TLSError]()
    try:
        var s2 = DTLSStream.connect(without, "localhost", port, TIMEOUT_MS)
        # A client may finish before the server's refusal reaches it.
        _ = s2.write("without")
        _ = s2.read()
    except e:
        err = e^
    assert_true(Bool(err), "a client without a certificate was served")
    var out = String(py=srv.finish(20))
    assert_true(out.find("1 datagrams echoed, close_notify") >= 0, out)
    assert_true(out.find("client 2: not handshaken") >= 0, out)


# ---- timeouts, bad input, closed objects ------------------------------------------


def test_silent_server_and_idle_listener_time_out() raises:
    var socket = Python.import_module("socket")
    var silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    _ = silent.bind(Python.tuple("127.0.0.1", 0))
    var port = Int(py=silent.getsockname()[1])
    var pki = Pki()
    var config = pki.client_config()
    var t0 = monotonic_ms()
    var err = Optional[TLSError]()
    try:
        _ = DTLSStream.connect(config, "localhost", port, 1000)
    except e:
        err = e^
    var took = monotonic_ms() - t0
    _ = silent.close()
    expect_error(err, MOJO_TLS_ERR_TIMEOUT, "silent server")
    assert_true(took >= 900 and took < 5000, String(took, " ms"))

    var scfg = pki.server_config()
    var listener = DTLSListener.bind("127.0.0.1", 0, scfg)
    t0 = monotonic_ms()
    err = None
    try:
        _ = listener.accept(300)
    except e:
        err = e^
    took = monotonic_ms() - t0
    expect_error(err, MOJO_TLS_ERR_TIMEOUT, "accept without clients")
    assert_true(took >= 250 and took < 3000, String(took, " ms"))
    err = None
    try:
        _ = listener.accept(0)
    except e:
        err = e^
    assert_true(Bool(err) and err.value().is_want_read(), "accept(0)")


def test_bad_arguments_raise() raises:
    var pki = Pki()
    var tls_client = TLSConfig.client()
    var tls_server = TLSConfig.server()
    var dclient = pki.client_config()
    var dserver = pki.server_config()
    var err = Optional[TLSError]()

    # TLS configurations where DTLS is needed, and the other way round.
    try:
        _ = DTLSStream.connect(tls_client, "localhost", 4433, 100)
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_BAD_STATE, "DTLSStream.connect(TLS config)")
    err = None
    try:
        _ = DTLSListener.bind("127.0.0.1", 0, tls_server)
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_BAD_STATE, "DTLSListener(TLS config)")
    err = None
    try:
        _ = DTLSListener.bind("127.0.0.1", 0, dclient)
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "DTLSListener(client)")
    err = None
    try:
        _ = DTLSMemory(tls_client, String("localhost"))
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_BAD_STATE, "DTLSMemory(TLS config)")
    err = None
    try:
        _ = TLSStream.connect(dclient, "localhost", 4433, 100)
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_BAD_STATE, "TLSStream.connect(DTLS config)")
    err = None
    try:
        _ = TLSListener.bind("127.0.0.1", 0, dserver)
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_BAD_STATE, "TLSListener(DTLS config)")
    err = None
    try:
        _ = TLSMemoryStream(dclient, String("localhost"))
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_BAD_STATE, "TLSMemoryStream(DTLS config)")
    assert_true(dclient.is_datagram() and not tls_client.is_datagram())
    err = None
    try:
        tls_client.set_dtls_handshake_timeout(100, 1000)
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_BAD_STATE, "handshake timeout on TLS")
    err = None
    try:
        _ = TLSConfig(MOJO_TLS_ROLE_CLIENT, 7)
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "transport 7")

    # Out-of-range numbers: refused before the C ABI (or by it).
    var bad_timeouts: List[Tuple[Int, Int]] = [
        (0, 100),
        (-1, 100),
        (200, 100),
        (1 << 40, 1 << 41),
    ]
    for t in bad_timeouts:
        err = None
        try:
            dclient.set_dtls_handshake_timeout(t[0], t[1])
        except e:
            err = e^
        expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "handshake timeout")
    for mtu in [-1, 10, 63, 65536, 1 << 40]:
        err = None
        try:
            dclient.set_dtls_mtu(mtu)
        except e:
            err = e^
        expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, String("mtu ", mtu))
    for port in [-1, 65536]:
        err = None
        try:
            _ = DTLSStream.connect(dclient, "localhost", port, 100)
        except e:
            err = e^
        expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "port")
    err = None
    try:
        _ = DTLSStream.connect(dclient, "localhost", 4433, 1 << 33)
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "timeout 2**33")
    var listener = DTLSListener.bind("127.0.0.1", 0, dserver)
    err = None
    try:
        _ = listener.accept(-(1 << 40))
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "accept timeout")

    # Negative and zero sizes, empty datagrams, a negative MTU.
    var client = DTLSMemory(dclient, String("localhost"))
    var server = DTLSMemory(dserver)
    for n in [-1, 0, -(1 << 62)]:
        err = None
        try:
            _ = client.read(n)
        except e:
            err = e^
        expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, String("read(", n, ")"))
    var empty = List[UInt8]()
    err = None
    try:
        client.feed_datagram(empty)
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "feed empty")
    err = None
    try:
        server.set_peer_id(empty)
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "empty peer id")
    err = None
    try:
        client.set_peer_id("x")
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_BAD_STATE, "peer id on a client")
    err = None
    try:
        _ = client.write(empty)
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "empty write")
    err = None
    try:
        client.set_mtu(-5)
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_INVALID_ARGUMENT, "set_mtu(-5)")
    # A huge max_bytes allocates one datagram's worth, not max_bytes.
    err = None
    try:
        _ = client.read(1 << 60)
    except e:
        err = e^
    assert_true(Bool(err) and err.value().is_want_read(), "read(2**60)")


def test_closed_objects_raise() raises:
    var pki = Pki()
    var ccfg = pki.client_config()
    var scfg = pki.server_config()
    var client = DTLSMemory(ccfg, String("localhost"))
    var server = DTLSMemory(scfg)
    server.set_peer_id("p")
    var a = 0
    var b = 0
    pump_memory(client, server, List[Int](), List[Int](), a, b)
    client.close()
    client.close()  # idempotent
    var err = Optional[TLSError]()
    try:
        _ = client.write("x")
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_CLOSED, "write after close")
    err = None
    try:
        _ = client.read()
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_CLOSED, "read after close")
    err = None
    try:
        _ = client.drain_datagram()
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_CLOSED, "drain after close")
    err = None
    try:
        _ = client.next_timeout_ms()
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_CLOSED, "next_timeout_ms after close")

    var listener = DTLSListener.bind("127.0.0.1", 0, scfg)
    _ = listener.port()
    listener.close()
    listener.close()
    err = None
    try:
        _ = listener.accept(0)
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_CLOSED, "accept after close")
    err = None
    try:
        _ = listener.peer_count()
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_CLOSED, "peer_count after close")

    # A stream: closed by close(), its socket gone.
    var l2 = DTLSListener.bind("127.0.0.1", 0, scfg)
    var s = DTLSStream.connect(ccfg, "localhost", l2.port(), 0)
    s.close()
    err = None
    try:
        _ = s.write("x")
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_CLOSED, "stream write after close")
    err = None
    try:
        _ = s.fileno()
    except e:
        err = e^
    expect_error(err, MOJO_TLS_ERR_CLOSED, "stream fileno after close")


def test_ffi_dtls_listener_handle() raises:
    """The typed DtlsListenerPtr at run time: NULL from a refused
    configuration, the C library's answers for NULL and freed handles."""
    var ffi = MojoTlsFFI.load()
    var client_cfg = ffi.config_new(MOJO_TLS_ROLE_CLIENT)
    var bad = ffi.dtls_listener_new(client_cfg, String("127.0.0.1"), 0)
    assert_false(Bool(bad))
    assert_true(bad == DtlsListenerPtr.null())
    assert_equal(ffi.last_error_code(), MOJO_TLS_ERR_INVALID_ARGUMENT)
    var pki = Pki()
    var scfg = pki.server_config()
    var l = ffi.dtls_listener_new(scfg.handle(), String("127.0.0.1"), 0)
    assert_true(Bool(l))
    assert_true(String(l).startswith("DtlsListenerPtr(0x"), String(l))
    assert_true(ffi.dtls_listener_port(l) > 0)
    assert_true(ffi.dtls_listener_fd(l) >= 0)
    assert_equal(ffi.dtls_listener_peer_count(l), 0)
    assert_equal(ffi.dtls_listener_free(l), 0)
    assert_equal(ffi.dtls_listener_port(l), MOJO_TLS_ERR_INVALID_HANDLE)
    assert_equal(ffi.dtls_listener_free(l), MOJO_TLS_ERR_INVALID_HANDLE)
    assert_equal(
        ffi.dtls_listener_port(DtlsListenerPtr.null()),
        MOJO_TLS_ERR_INVALID_HANDLE,
    )
    assert_equal(ffi.dtls_listener_free(DtlsListenerPtr.null()), 0)
    assert_equal(ffi.config_free(client_cfg), 0)
    _ = scfg.is_server()  # the configuration lives until here


def main() raises:
    try:
        TestSuite.discover_tests[__functions_in_module()]().run()
    finally:
        _ = peers().cleanup()
