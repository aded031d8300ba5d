# In-process tests of the Mojo package: memory mode, verification failures,
# errors, closed objects, listener timeouts. No peer processes.
# Run: mojo run -I mojo mojo/tests/test_local.mojo (after ./build.sh)

from std.testing import (
    TestSuite,
    assert_equal,
    assert_false,
    assert_not_equal,
    assert_raises,
    assert_true,
)

from std.os import getenv, setenv, unsetenv
from std.os.path import exists

from mojo_tls import *


# ---- helpers ------------------------------------------------------------------------


struct Pki(Movable):
    """A CA, a server certificate for localhost / 127.0.0.1, a second CA."""

    var ca: GeneratedCert
    var leaf: GeneratedCert
    var other_ca: GeneratedCert

    def __init__(out self) raises:
        self.ca = generate_ca("mojo test CA")
        self.leaf = generate_cert(self.ca, "localhost", "localhost,127.0.0.1")
        self.other_ca = generate_ca("some other CA")

    def server_config(self) raises -> TLSConfig:
        var c = TLSConfig.server()
        c.add_cert_pem(self.leaf.cert_pem(), self.leaf.key_pem())
        return c^

    def client_config(self) raises -> TLSConfig:
        var c = TLSConfig.client()
        c.load_ca_pem(self.ca.cert_pem())
        return c^


def handshake_pair(client: TLSMemoryStream, server: TLSMemoryStream) raises:
    """Move ciphertext between two memory streams until both handshakes end
    (raises what either side raises)."""
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


def client_handshake_error(
    client: TLSMemoryStream, server: TLSMemoryStream
) -> Optional[TLSError]:
    """Run a handshake expected to fail on the client side; its error (None
    if the client completed). Server-side errors are ignored."""
    try:
        for _ in range(20):
            if client.handshake():
                return None
            server.feed(client.drain())
            try:
                _ = server.handshake()
            except:
                pass
            client.feed(server.drain())
    except e:
        return e^
    return None


def default_version() raises -> String:
    """The version two default configurations negotiate."""
    return "TLSv1.3"


def bytes_eq(a: Span[UInt8, _], b: Span[UInt8, _]) -> Bool:
    if len(a) != len(b):
        return False
    for i in range(len(a)):
        if a[i] != b[i]:
            return False
    return True


def expect_code(e: TLSError, code: Int, what: String) raises:
    assert_equal(e.name(), error_name(code), String(what, ": ", e))
    assert_true(e.message.byte_length() > 0, String(what, ": empty message"))


# ---- tests ---------------------------------------------------------------------------


def test_library_info() raises:
    assert_true(library_version().byte_length() > 0)
    assert_true(backend().find("Mbed TLS") >= 0, backend())
    # Every backend (Mbed TLS 3.6 / 4.x) has TLS 1.3.
    assert_true(has_tls13(), backend())
    var d = sha256("abc".as_bytes())
    assert_equal(
        to_hex(d),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    )
    assert_equal(len(random_bytes(17)), 17)
    assert_equal(to_hex(from_hex("0A:ff:10")), "0aff10")


def test_memory_round_trip() raises:
    var pki = Pki()
    var scfg = pki.server_config()
    scfg.set_alpn("h2,http/1.1")
    var ccfg = pki.client_config()
    var protos: List[String] = ["http/1.1"]
    ccfg.set_alpn(protos)
    var client = TLSMemoryStream(ccfg, String("localhost"))
    var server = TLSMemoryStream(scfg)
    handshake_pair(client, server)

    assert_equal(client.get_version(), default_version())
    assert_equal(server.get_version(), default_version())
    assert_equal(client.get_cipher(), server.get_cipher())
    assert_equal(client.get_alpn().value(), "http/1.1")
    assert_equal(server.get_alpn().value(), "http/1.1")
    assert_equal(client.peer_cert_fingerprint(), to_hex(pki.leaf.sha256(), ":"))
    assert_true(bytes_eq(client.peer_cert_sha256(), pki.leaf.sha256()))

    # client -> server, a small message
    client.write_all("hello from the client")
    server.feed(client.drain())
    assert_equal(String(from_utf8_lossy=server.read()), "hello from the client")
    # nothing more yet: WANT_READ raises, it is not EOF
    var err = Optional[TLSError]()
    try:
        _ = server.read()
    except e:
        err = e^
    assert_true(Bool(err), "read without input did not raise")
    assert_true(err.value().is_want_read(), String(err.value()))

    # server -> client, 200 KB in several records, read into a caller buffer
    var big = random_bytes(200_000)
    server.write_all(big)
    client.feed(server.drain())
    var got = List[UInt8]()
    var buf = List[UInt8](length=7000, fill=0)
    while len(got) < len(big):
        var n = client.read(buf)
        assert_true(n > 0)
        got.extend(Span(buf)[0:n])
    assert_true(bytes_eq(got, big), "200 KB came back changed")

    # close_notify: the peer reads a clean EOF (0 / empty)
    client.close_notify()
    server.feed(client.drain())
    assert_equal(server.read(buf), 0)
    assert_equal(len(server.read()), 0)


def test_record_layer() raises:
    """The fast record layer by default, the switch, KeyUpdate (TLS 1.3)."""
    var pki = Pki()
    var scfg = pki.server_config()
    var ccfg = pki.client_config()
    var client = TLSMemoryStream(ccfg, String("localhost"))
    var server = TLSMemoryStream(scfg)
    with assert_raises():
        _ = client.record_layer()  # before the handshake
    handshake_pair(client, server)
    assert_equal(client.record_layer(), "mojo-tls (ring)")
    assert_equal(server.record_layer(), "mojo-tls (ring)")
    if client.get_version() == "TLSv1.3":
        client.key_update(request_peer=True)
    else:
        with assert_raises():
            client.key_update()
    client.write_all("after the update")
    server.feed(client.drain())
    assert_equal(String(from_utf8_lossy=server.read()), "after the update")
    client.feed(server.drain())  # a requested KeyUpdate's answer
    server.write_all("back")
    client.feed(server.drain())
    assert_equal(String(from_utf8_lossy=client.read()), "back")

    var off = pki.server_config()
    off.set_fast_record_layer(False)
    var c2 = TLSMemoryStream(ccfg, String("localhost"))
    var s2 = TLSMemoryStream(off)
    handshake_pair(c2, s2)
    assert_equal(s2.record_layer(), "Mbed TLS")
    with assert_raises():
        s2.key_update()
    c2.write_all("mbed")
    s2.feed(c2.drain())
    assert_equal(String(from_utf8_lossy=s2.read()), "mbed")


def test_memory_verify_wrong_ca() raises:
    var pki = Pki()
    var ccfg = TLSConfig.client()
    ccfg.load_ca_pem(pki.other_ca.cert_pem())
    var client = TLSMemoryStream(ccfg, String("localhost"))
    var server = TLSMemoryStream(pki.server_config())
    var failed = False
    try:
        handshake_pair(client, server)
    except:
        failed = True
    assert_true(failed, "handshake with an untrusted CA succeeded")
    # The client side raises VERIFY_FAILED with the reason in the message.
    var err = Optional[TLSError]()
    try:
        _ = client.handshake()
    except e:
        err = e^
    assert_true(Bool(err), "handshake did not keep failing")
    expect_code(err.value(), MOJO_TLS_ERR_VERIFY_FAILED, "untrusted CA")


def test_memory_verify_errors_raise() raises:
    var pki = Pki()
    # Wrong host name.
    var c1 = TLSMemoryStream(
        pki.client_config(), String("not-localhost.example")
    )
    var s1 = TLSMemoryStream(pki.server_config())
    var err = client_handshake_error(c1, s1)
    assert_true(Bool(err), "wrong host name accepted")
    expect_code(err.value(), MOJO_TLS_ERR_VERIFY_FAILED, "host name")
    # The message names the host expected and the names checked.
    var msg = err.value().message
    assert_true(
        msg.find('does not match host name "not-localhost.example"') >= 0, msg
    )
    assert_true(
        msg.find(
            "(checked subjectAltName entries: DNS:localhost, IP:127.0.0.1)"
        )
        >= 0,
        msg,
    )

    # A pin that does not match, even with a trusted chain.
    var ccfg = pki.client_config()
    ccfg.add_pin(sha256("not the certificate".as_bytes()))
    var c2 = TLSMemoryStream(ccfg, String("localhost"))
    var s2 = TLSMemoryStream(pki.server_config())
    err = client_handshake_error(c2, s2)
    assert_true(Bool(err), "mismatching pin accepted")
    expect_code(err.value(), MOJO_TLS_ERR_VERIFY_FAILED, "pin")
    assert_true(err.value().message.find("pin") >= 0, err.value().message)

    # Pin-only trust: no CA, the right pin (hex form) is enough.
    var pcfg = TLSConfig.client()
    pcfg.add_pin(to_hex(pki.leaf.sha256(), ":"))
    pcfg.set_pin_only()
    var c3 = TLSMemoryStream(pcfg, String("localhost"))
    var s3 = TLSMemoryStream(pki.server_config())
    handshake_pair(c3, s3)
    assert_equal(c3.get_version(), default_version())


def test_memory_truncation_and_sessions() raises:
    """Truncation, then ticket resumption: TLS 1.2 (pinned) and TLS 1.3 (the
    default), whose tickets arrive after the handshake in a NewSessionTicket
    the client takes in on a read."""
    var versions: List[Int] = [MOJO_TLS_VERSION_TLS1_2, MOJO_TLS_VERSION_TLS1_3]
    for version in versions:
        var name = "TLSv1.3" if version == MOJO_TLS_VERSION_TLS1_3 else (
            "TLSv1.2"
        )
        var pki = Pki()
        var scfg = pki.server_config()
        scfg.enable_session_tickets()
        var ccfg = pki.client_config()
        ccfg.set_max_version(version)
        var c = TLSMemoryStream(ccfg, String("localhost"))
        var s = TLSMemoryStream(scfg)
        handshake_pair(c, s)
        assert_equal(c.get_version(), name)
        assert_equal(s.get_version(), name)
        if version == MOJO_TLS_VERSION_TLS1_3:
            # The NewSessionTicket was fed with the server's last flight;
            # a read takes it in (no application data: WANT_READ).
            var rerr = Optional[TLSError]()
            try:
                _ = c.read()
            except e:
                rerr = e^
            assert_true(Bool(rerr), "read without application data returned")
            assert_true(rerr.value().is_want_read(), String(rerr.value()))
        c.write_all("partial")
        s.feed(c.drain())
        assert_equal(String(from_utf8_lossy=s.read()), "partial")
        s.feed_eof()  # transport ended without close_notify
        var err = Optional[TLSError]()
        try:
            _ = s.read()
        except e:
            err = e^
        assert_true(Bool(err), String(name, ": truncation not reported"))
        expect_code(err.value(), MOJO_TLS_ERR_TRUNCATED, "truncated")
        assert_false(c.session_resumed())
        assert_false(s.session_resumed())

        # Resume with the exported session (ticket).
        var blob = c.export_session()
        assert_true(len(blob) > 0)
        var c2 = TLSMemoryStream(ccfg, String("localhost"))
        c2.import_session(blob)
        var s2 = TLSMemoryStream(scfg)
        handshake_pair(c2, s2)
        assert_equal(c2.get_version(), name)
        assert_true(c2.session_resumed(), String(name, ": session not resumed"))
        assert_true(
            s2.session_resumed(), String(name, ": server did not resume")
        )
        c2.write_all("resumed")
        s2.feed(c2.drain())
        assert_equal(String(from_utf8_lossy=s2.read()), "resumed")


def _visit(
    ccfg: TLSConfig, scfg: TLSConfig, blob: List[UInt8]
) raises -> Tuple[Bool, Bool, List[UInt8]]:
    """One memory-mode connection offering `blob` (if any): (client resumed,
    server resumed, the session to resume later), after data both ways."""
    var c = TLSMemoryStream(ccfg, String("localhost"))
    if len(blob) > 0:
        c.import_session(blob)
    var s = TLSMemoryStream(scfg)
    handshake_pair(c, s)
    s.write_all("ticket?")
    c.feed(s.drain())
    # (a TLS 1.3 NewSessionTicket arrives with this record)
    assert_equal(String(from_utf8_lossy=c.read()), "ticket?")
    c.write_all("ok")
    s.feed(c.drain())
    assert_equal(String(from_utf8_lossy=s.read()), "ok")
    return (c.session_resumed(), s.session_resumed(), c.export_session())


def test_memory_shared_ticket_keys() raises:
    """Two server configurations with the same ticket keys (two servers
    behind a load balancer) resume each other's tickets; other keys give a
    full handshake that still carries data."""
    var pki = Pki()
    var a = pki.server_config()
    a.set_ticket_keys("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk".as_bytes())
    var b = pki.server_config()
    b.set_ticket_keys("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk".as_bytes())
    var other = pki.server_config()
    other.set_ticket_keys("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".as_bytes())
    var ccfg = pki.client_config()
    var first = _visit(ccfg, a, List[UInt8]())
    assert_false(first[0] or first[1], "first connection resumed")
    var on_b = _visit(ccfg, b, first[2])
    assert_true(on_b[0] and on_b[1], "A's ticket not resumed on B")
    var on_other = _visit(ccfg, other, first[2])
    assert_false(on_other[0] or on_other[1], "resumed with other keys")
    var err = Optional[TLSError]()
    try:
        a.set_ticket_keys("short".as_bytes())
    except e:
        err = e^
    assert_true(Bool(err), "a 5-byte key accepted")
    expect_code(err.value(), MOJO_TLS_ERR_INVALID_ARGUMENT, "short key")


def test_memory_session_cache() raises:
    """A server with a session-id cache and no tickets: TLS 1.2 (pinned)
    resumes from the cache; TLS 1.3 has no session ids, so the exported
    session gives a full handshake that still works."""
    var versions: List[Int] = [MOJO_TLS_VERSION_TLS1_2, MOJO_TLS_VERSION_TLS1_3]
    for version in versions:
        var tls13 = version == MOJO_TLS_VERSION_TLS1_3
        var name = "TLSv1.3" if tls13 else "TLSv1.2"
        var pki = Pki()
        var scfg = pki.server_config()
        scfg.set_session_cache(10, 300)
        var ccfg = pki.client_config()
        ccfg.set_max_version(version)
        var c = TLSMemoryStream(ccfg, String("localhost"))
        var s = TLSMemoryStream(scfg)
        handshake_pair(c, s)
        assert_equal(c.get_version(), name)
        assert_false(c.session_resumed())
        var blob = c.export_session()
        assert_true(len(blob) > 0)

        var c2 = TLSMemoryStream(ccfg, String("localhost"))
        c2.import_session(blob)
        var s2 = TLSMemoryStream(scfg)
        handshake_pair(c2, s2)
        assert_equal(c2.get_version(), name)
        # TLS 1.2: resumed from the cache; TLS 1.3: the cache is not used.
        assert_equal(c2.session_resumed(), not tls13, name)
        assert_equal(s2.session_resumed(), not tls13, name)
        c2.write_all("after")
        s2.feed(c2.drain())
        assert_equal(String(from_utf8_lossy=s2.read()), "after")


def test_closed_objects_raise() raises:
    var pki = Pki()
    var c = TLSMemoryStream(pki.client_config(), String("localhost"))
    var s = TLSMemoryStream(pki.server_config())
    handshake_pair(c, s)
    c.close()
    c.close()  # idempotent
    var buf = List[UInt8](length=16, fill=0)
    var err = Optional[TLSError]()
    try:
        _ = c.read(buf)
    except e:
        err = e^
    assert_true(Bool(err), "read after close did not raise")
    assert_true(err.value().is_closed(), String(err.value()))
    err = None
    try:
        c.write_all("x")
    except e:
        err = e^
    assert_true(Bool(err), "write after close did not raise")
    assert_true(err.value().is_closed(), String(err.value()))
    err = None
    try:
        _ = c.handshake()
    except e:
        err = e^
    assert_true(Bool(err), "handshake after close did not raise")
    assert_true(err.value().is_closed(), String(err.value()))

    var listener = TLSListener.bind("127.0.0.1", 0, pki.server_config())
    listener.close()
    listener.close()
    err = None
    try:
        _ = listener.accept(100)
    except e:
        err = e^
    assert_true(Bool(err), "accept after close did not raise")
    assert_true(err.value().is_closed(), String(err.value()))


def test_config_errors() raises:
    var c = TLSConfig.client()
    var err = Optional[TLSError]()
    try:
        c.load_ca_file("/nonexistent/mojo-tls/ca.pem")
    except e:
        err = e^
    assert_true(Bool(err), "missing file accepted")
    expect_code(err.value(), MOJO_TLS_ERR_NOT_FOUND, "missing CA file")
    assert_true(err.value().message.find("ca.pem") >= 0, err.value().message)
    err = None
    try:
        c.load_ca_pem(
            "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n"
        )
    except e:
        err = e^
    assert_true(Bool(err), "garbage PEM accepted")
    expect_code(err.value(), MOJO_TLS_ERR_PARSE, "garbage PEM")
    err = None
    try:
        c.set_min_version(0x0301)
    except e:
        err = e^
    assert_true(Bool(err), "TLS 1.0 accepted")
    expect_code(err.value(), MOJO_TLS_ERR_UNSUPPORTED, "TLS 1.0")
    err = None
    try:
        c.add_pin(List[UInt8](length=5, fill=1))
    except e:
        err = e^
    assert_true(Bool(err), "5-byte pin accepted")
    expect_code(err.value(), MOJO_TLS_ERR_INVALID_ARGUMENT, "short pin")
    err = None
    try:
        c.add_pin("xyz")
    except e:
        err = e^
    assert_true(Bool(err), "bad hex accepted")
    expect_code(err.value(), MOJO_TLS_ERR_INVALID_ARGUMENT, "bad hex")
    var pki = Pki()
    var s = TLSConfig.server()
    var other = generate_cert(pki.ca, "other")
    err = None
    try:
        s.add_cert_pem(pki.leaf.cert_pem(), other.key_pem())
    except e:
        err = e^
    assert_true(Bool(err), "mismatched key accepted")
    assert_true(err.value().code < 0, String(err.value()))
    err = None
    var client_config = TLSConfig.client()
    try:
        _ = TLSListener.bind("127.0.0.1", 0, client_config)
    except e:
        err = e^
    assert_true(Bool(err), "listener with a client config")
    expect_code(
        err.value(), MOJO_TLS_ERR_INVALID_ARGUMENT, "client config listener"
    )
    # Errors keep their text when they cross a plain `raises` function.
    with assert_raises(contains="MOJO_TLS_ERR_NOT_FOUND"):
        c.load_ca_file("/nonexistent/mojo-tls/ca.pem")


def test_library_lookup() raises:
    # MOJO_TLS_LIBRARY, when set, is the only place tried.
    var saved = getenv("MOJO_TLS_LIBRARY")
    _ = setenv("MOJO_TLS_LIBRARY", "/nonexistent/libmojo_tls.so.1")
    var err = Optional[TLSError]()
    try:
        _ = TLSConfig.client()
    except e:
        err = e^
    if saved.byte_length() > 0:
        _ = setenv("MOJO_TLS_LIBRARY", saved)
    else:
        _ = unsetenv("MOJO_TLS_LIBRARY")
    assert_true(Bool(err), "a missing MOJO_TLS_LIBRARY was accepted")
    expect_code(err.value(), MOJO_TLS_ERR_NOT_FOUND, "MOJO_TLS_LIBRARY")
    assert_true(
        err.value().message.find("/nonexistent/") >= 0, err.value().message
    )
    _ = TLSConfig.client()  # and it loads again


def test_tcp_timeouts_and_refusal() raises:
    var pki = Pki()
    var listener = TLSListener.bind("127.0.0.1", 0, pki.server_config())
    var port = listener.port()
    assert_true(port > 0)
    var err = Optional[TLSError]()
    try:
        _ = listener.accept(200)
    except e:
        err = e^
    assert_true(Bool(err), "accept without a client returned")
    assert_true(err.value().is_timeout(), String(err.value()))
    listener.close()
    # Nobody listens there any more.
    err = None
    var ccfg = pki.client_config()
    try:
        _ = TLSStream.connect(ccfg, "127.0.0.1", port, 2000)
    except e:
        err = e^
    assert_true(Bool(err), "connect to a closed port succeeded")
    expect_code(err.value(), MOJO_TLS_ERR_CONNECT, "refused")
    err = None
    try:
        _ = TLSStream.connect("127.0.0.1", 70000, 1000)
    except e:
        err = e^
    assert_true(Bool(err), "port 70000 accepted")
    expect_code(err.value(), MOJO_TLS_ERR_INVALID_ARGUMENT, "bad port")


def main() raises:
    TestSuite.discover_tests[__functions_in_module()]().run()
