# Servers of many clients (issue 21 items 10 and 11): accept without the
# handshake, a handshake with its own timeout, non-blocking try_* calls with
# want_read / want_write, Poller (poll(2)), the event_server example serving
# 100 concurrent clients while a silent one waits, a peer reset told apart
# from a local close, and read_all(allow_truncation) against a Python ssl
# client that closes without close_notify. Everything on 127.0.0.1; peer
# processes through peers.py (bounded waits, stopped by PID).
#
# Run: mojo/run_tests.sh (it builds examples/mojo and sets
# MOJO_TLS_EXAMPLES_BIN and MOJO_TLS_LIBRARY).

from std.os import getenv
from std.os.path import dirname, exists, realpath
from std.python import Python, PythonObject
from std.reflection import source_location
from std.testing import TestSuite, assert_equal, assert_false, assert_true

from mojo_tls import *

comptime TIMEOUT_MS = 15000


def peers() raises -> PythonObject:
    var here = dirname(realpath(String(source_location().file_name())))
    Python.add_to_path(here)
    return Python.import_module("peers")


struct Pki(Movable):
    var ca: GeneratedCert
    var leaf: GeneratedCert
    var dir: String

    def __init__(out self) raises:
        self.ca = generate_ca("mojo event-loop CA")
        self.leaf = generate_cert(self.ca, "localhost", "localhost,127.0.0.1")
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
        var c = TLSConfig.client()
        c.load_ca_pem(self.ca.cert_pem())
        return c^

    def server_config(self) raises -> TLSConfig:
        var c = TLSConfig.server()
        c.add_cert_pem(self.leaf.cert_pem(), self.leaf.key_pem())
        return c^


def examples_bin(name: String) raises -> String:
    var d = getenv("MOJO_TLS_EXAMPLES_BIN")
    if d.byte_length() == 0:
        raise Error("MOJO_TLS_EXAMPLES_BIN is not set (run mojo/run_tests.sh)")
    var p = String(d, "/", name)
    if not exists(p):
        raise Error(String("example program missing: ", p))
    return p^


def pump(
    client: TLSStream, server: TLSStream, deadline_ms: Int
) raises -> Int:
    """Drive both non-blocking handshakes with one Poller until both are
    done; returns the number of poll rounds."""
    var cr = IOResult(0, MOJO_TLS_ERR_WANT_WRITE)
    var sr = IOResult(0, MOJO_TLS_ERR_WANT_READ)
    var rounds = 0
    var p = Poller()
    while not (cr.done() and sr.done()):
        assert_true(monotonic_ms() < deadline_ms, "handshakes did not finish")
        if not cr.done():
            cr = client.try_handshake()
        if not sr.done():
            sr = server.try_handshake()
        if cr.done() and sr.done():
            break
        p.clear()
        if not cr.done():
            _ = p.add(client.fileno(), cr)
        if not sr.done():
            _ = p.add(server.fileno(), sr)
        _ = p.wait(1000)
        rounds += 1
    return rounds


# ---- tests ---------------------------------------------------------------------------


def test_accept_no_handshake_does_not_wait_for_a_silent_client() raises:
    var pki = Pki()
    var listener = TLSListener.bind("127.0.0.1", 0, pki.server_config())
    var port = listener.port()
    # timeout 0: only the TCP connect is started; no ClientHello until a
    # handshake call, so this client is silent.
    var silent = TLSStream.connect(pki.client_config(), "localhost", port, 0)
    var t0 = monotonic_ms()
    var s = listener.accept_no_handshake(5000)
    assert_true(monotonic_ms() - t0 < 1000, "accept_no_handshake waited")
    # Its own handshake timeout: about 300 ms, not the 5 s above.
    t0 = monotonic_ms()
    var err = Optional[TLSError]()
    try:
        s.handshake(300)
    except e:
        err = e^
    var took = monotonic_ms() - t0
    assert_true(Bool(err), "handshake with a silent client succeeded")
    assert_true(err.value().is_timeout(), String(err.value()))
    assert_true(took >= 250 and took < 3000, String("took ", took, " ms"))
    # No client waiting: with timeout 0 it says want_read at once.
    err = None
    try:
        _ = listener.accept_no_handshake(0)
    except e:
        err = e^
    assert_true(Bool(err), "accept_no_handshake(0) without a client")
    assert_true(err.value().is_want_read(), String(err.value()))
    _ = silent^


def test_non_blocking_handshake_read_write_with_poller() raises:
    var pki = Pki()
    var listener = TLSListener.bind("127.0.0.1", 0, pki.server_config())
    var client = TLSStream.connect(
        pki.client_config(), "localhost", listener.port(), 0
    )
    var server = listener.accept_no_handshake(TIMEOUT_MS)
    server.set_timeout(0)
    var rounds = pump(client, server, monotonic_ms() + TIMEOUT_MS)
    assert_true(rounds > 0, "a non-blocking handshake needed no poll")
    assert_equal(client.get_cipher(), server.get_cipher())
    # Nothing sent yet: want_read, not an error and not the magic -2.
    var buf = List[UInt8](length=4096, fill=0)
    var r = server.try_read(Span(buf))
    assert_true(r.want_read(), String(r))
    assert_false(r.want_write())
    # Fill the client's socket until it says want_write (the server reads
    # nothing meanwhile), then drain both ways with the Poller.
    var chunk = List[UInt8](length=65536, fill=7)
    var sent = 0
    var w = IOResult(0, 0)
    for _ in range(10000):
        w = client.try_write(Span(chunk))
        if not w.done():
            break
        sent += w.count
    assert_true(w.want_write(), String("never want_write after ", sent))
    var got = 0
    var p = Poller()
    var deadline = monotonic_ms() + TIMEOUT_MS
    while got < sent:
        assert_true(monotonic_ms() < deadline, String(got, " of ", sent))
        var sr = server.try_read(Span(buf))
        if sr.done():
            assert_true(sr.count > 0, "EOF in the middle")
            got += sr.count
            continue
        p.clear()
        var i = p.add(server.fileno(), sr)
        assert_true(p.wait(2000) > 0, "poll: the rest never came")
        assert_true(p.ready(i))
    assert_equal(got, sent)
    # A write after want_write goes through once the peer has read.
    w = client.try_write(Span(chunk)[0:10])
    assert_true(w.done() and w.count == 10, String(w))


def test_event_server_serves_100_clients_while_one_is_silent() raises:
    var pki = Pki()
    var p = peers()
    # The silent client's handshake would hold an inline accept for 20 s.
    var srv = p.spawn(
        [
            examples_bin("event_server"),
            "--port",
            "0",
            "--cert",
            pki.cert_file(),
            "--key",
            pki.key_file(),
            "--count",
            "101",
            "--handshake-timeout-ms",
            "20000",
        ]
    )
    var port = Int(py=srv.port)
    var t0 = monotonic_ms()
    var cli = p.python_script("many-clients", port, pki.ca_file(), 100, 1)
    var out = String(py=cli.finish(60))
    var took = monotonic_ms() - t0
    assert_true(out.find("RESULT ok=100 failed=0") >= 0, out)
    # Every client was served long before the silent one's 20 s deadline.
    var m = out.find("max_s=")
    var max_s = Float64(out[byte=m + 6 :].strip())
    assert_true(max_s < 8.0, String("slowest client took ", max_s, " s"))
    assert_true(took < 15000, String("100 clients took ", took, " ms"))
    # The silent one ends when its socket closes: then the server exits.
    var sout = String(py=srv.finish(30))
    assert_true(sout.find("served 101 connections") >= 0, sout)
    assert_equal(Int(py=srv.returncode()), 0, sout)


def test_peer_reset_is_not_a_local_close() raises:
    var pki = Pki()
    var listener = TLSListener.bind("127.0.0.1", 0, pki.server_config())
    var cli = peers().python_script(
        "reset-client", listener.port(), pki.ca_file()
    )
    var s = listener.accept(TIMEOUT_MS)
    assert_equal(String(from_utf8_lossy=s.read_exactly(4)), "ping")
    var err = Optional[TLSError]()
    try:
        _ = s.read()
    except e:
        err = e^
    assert_true(Bool(err), "read after a reset succeeded")
    assert_true(err.value().is_reset(), String(err.value()))
    assert_false(err.value().is_closed(), String(err.value()))
    _ = cli.finish(10)
    # A local close is is_closed(), not is_reset().
    s.close()
    err = None
    try:
        _ = s.read()
    except e:
        err = e^
    assert_true(err.value().is_closed(), String(err.value()))
    assert_false(err.value().is_reset(), String(err.value()))


def test_read_all_allow_truncation_keeps_the_bytes() raises:
    var pki = Pki()
    var listener = TLSListener.bind("127.0.0.1", 0, pki.server_config())
    # Strict (default): the end without close_notify raises, and says how
    # much had arrived.
    var cli = peers().python_script(
        "send-and-close", listener.port(), pki.ca_file(), 50000
    )
    var s = listener.accept(TIMEOUT_MS)
    var err = Optional[TLSError]()
    try:
        _ = s.read_all()
    except e:
        err = e^
    assert_true(Bool(err), "read_all accepted a truncated stream")
    assert_true(err.value().is_truncated(), String(err.value()))
    assert_true(
        err.value().message.find("after 50000 bytes") >= 0,
        String(err.value()),
    )
    _ = cli.finish(10)
    # allow_truncation=True: the same peer's bytes come back.
    cli = peers().python_script(
        "send-and-close", listener.port(), pki.ca_file(), 50000
    )
    var s2 = listener.accept(TIMEOUT_MS)
    var data = s2.read_all(allow_truncation=True)
    assert_equal(len(data), 50000)
    assert_equal(Int(data[49999]), ord("t"))
    _ = cli.finish(10)


def main() raises:
    try:
        TestSuite.discover_tests[__functions_in_module()]().run()
    finally:
        _ = peers().cleanup()
