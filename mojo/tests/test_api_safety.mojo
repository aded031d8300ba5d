# Issue 21 items 8, 9 and 11 of the Mojo package: every size and count
# argument checked before anything is allocated or truncated, no library
# loaded from a planted place (working directory, its parents, beside the
# program), TLSError.code recovered after a plain-`raises` call, the
# memory-mode stream methods, close_notify (no TLS 1.3 half-close),
# read_all's truncation option, typed FFI handles.
#
# Run: mojo/run_tests.sh (sets MOJO_TLS_LIBRARY and MOJO_TLS_EXAMPLES_BIN;
# needs a C compiler for the decoy libraries).

from std.os import getenv, setenv, unsetenv
from std.os.path import dirname, realpath
from std.python import Python, PythonObject
from std.reflection import source_location
from std.testing import TestSuite, assert_equal, assert_false, assert_true

from mojo_tls import *
from mojo_tls._library import package_dir


def peers() raises -> PythonObject:
    var here = dirname(realpath(String(source_location().file_name())))
    Python.add_to_path(here)
    return Python.import_module("peers")


struct Pki(Movable):
    var ca: GeneratedCert
    var leaf: GeneratedCert

    def __init__(out self) raises:
        self.ca = generate_ca("mojo safety CA")
        self.leaf = generate_cert(self.ca, "localhost", "localhost,127.0.0.1")

    def server_config(self) raises -> TLSConfig:
        var c = TLSConfig.server()
        c.add_cert_pem(self.leaf.cert_pem(), self.leaf.key_pem())
        return c^

    def client_config(self) raises -> TLSConfig:
        var c = TLSConfig.client()
        c.load_ca_pem(self.ca.cert_pem())
        return c^


def handshake_pair(client: TLSMemoryStream, server: TLSMemoryStream) raises:
    for _ in range(50):
        var cdone = client.handshake()
        server.feed(client.drain())
        var sdone = server.handshake()
        client.feed(server.drain())
        if cdone and sdone:
            return
    raise Error("handshake did not finish")


def expect_invalid(err: Optional[TLSError], what: String) raises:
    assert_true(Bool(err), String(what, ": accepted"))
    assert_equal(
        err.value().name(), "MOJO_TLS_ERR_INVALID_ARGUMENT", String(err.value())
    )


def plain_raises(fail: Bool) raises:
    """A helper declared plain `raises` (raises an Error, not a TLSError)."""
    if fail:
        raise Error("plain failure")


comptime HUGE = 1 << 40
comptime OVER_I32 = 1 << 32


# ---- item 8: sizes --------------------------------------------------------------------


def test_read_exactly_negative_raises_instead_of_a_bad_list() raises:
    var pki = Pki()
    var client = TLSMemoryStream(pki.client_config(), String("localhost"))
    var server = TLSMemoryStream(pki.server_config())
    handshake_pair(client, server)
    var err = Optional[TLSError]()
    try:
        var bad = client.read_exactly(-1)
        bad.append(1)  # crashed the process before the fix
    except e:
        err = e^
    expect_invalid(err, "read_exactly(-1)")
    assert_equal(len(client.read_exactly(0)), 0)
    err = None
    try:
        _ = client.read(-5)
    except e:
        err = e^
    expect_invalid(err, "read(-5)")
    # A huge count allocates as data comes, not up front.
    server.write_all("0123456789")
    client.feed(server.drain())
    var got = client.read(HUGE)
    assert_equal(String(from_utf8_lossy=got), "0123456789")
    server.write_all("abc")
    server.close_notify()
    client.feed(server.drain())
    err = None
    try:
        _ = client.read_exactly(HUGE)
    except e:
        err = e^
    assert_true(Bool(err), "read_exactly(huge) returned")
    assert_true(err.value().is_truncated(), String(err.value()))
    assert_true(err.value().message.find("after 3 of") >= 0, String(err.value()))


def test_socket_stream_sizes_and_32_bit_arguments() raises:
    var pki = Pki()
    var listener = TLSListener.bind("127.0.0.1", 0, pki.server_config())
    var client = TLSStream.connect(
        pki.client_config(), "localhost", listener.port(), 0
    )
    var server = listener.accept_no_handshake(5000)
    var err = Optional[TLSError]()
    try:
        _ = server.read_exactly(-1)
    except e:
        err = e^
    expect_invalid(err, "TLSStream.read_exactly(-1)")
    # 2**32 ms would have been truncated to 0 (non-blocking).
    err = None
    try:
        server.set_timeout(OVER_I32)
    except e:
        err = e^
    expect_invalid(err, "set_timeout(2**32)")
    err = None
    try:
        server.handshake(OVER_I32 + 5)
    except e:
        err = e^
    expect_invalid(err, "handshake(2**32 + 5)")
    err = None
    try:
        _ = listener.accept(HUGE)
    except e:
        err = e^
    expect_invalid(err, "accept(huge)")
    err = None
    try:
        _ = listener.accept_no_handshake(-HUGE)
    except e:
        err = e^
    expect_invalid(err, "accept_no_handshake(-huge)")
    err = None
    var ccfg = pki.client_config()
    var scfg = pki.server_config()
    try:
        _ = TLSStream.connect(ccfg, "localhost", 1, OVER_I32)
    except e:
        err = e^
    expect_invalid(err, "connect(timeout 2**32)")
    err = None
    try:
        _ = TLSListener.bind("127.0.0.1", 0, scfg, OVER_I32)
    except e:
        err = e^
    expect_invalid(err, "bind(backlog 2**32)")
    _ = client^


def test_config_and_helper_sizes() raises:
    var pki = Pki()
    var s = pki.server_config()
    var err = Optional[TLSError]()
    try:
        s.enable_session_tickets(OVER_I32 + 60)
    except e:
        err = e^
    expect_invalid(err, "enable_session_tickets(2**32 + 60)")
    err = None
    try:
        s.set_session_cache(HUGE, 300)
    except e:
        err = e^
    expect_invalid(err, "set_session_cache(huge)")
    err = None
    try:
        s.set_verify(OVER_I32 + MOJO_TLS_VERIFY_NONE)
    except e:
        err = e^
    expect_invalid(err, "set_verify(2**32 + NONE)")
    err = None
    try:
        _ = random_bytes(-1)
    except e:
        err = e^
    expect_invalid(err, "random_bytes(-1)")
    assert_equal(len(random_bytes(0)), 0)
    # Refused before anything is allocated: the whole list up front used to
    # kill the process (random_bytes(2**40)).
    for n in [HUGE, RANDOM_BYTES_MAX + 1]:
        err = None
        try:
            _ = random_bytes(n)
        except e:
            err = e^
        expect_invalid(err, String("random_bytes(", n, ")"))
    assert_equal(len(random_bytes(32)), 32)
    # random_fill writes exactly the span it is given (any size is the
    # caller's allocation).
    var buf = List[UInt8](length=64, fill=0)
    random_fill(Span(buf)[16:48])
    var inside = 0
    for i in range(64):
        if i < 16 or i >= 48:
            assert_equal(buf[i], 0, String("random_fill wrote byte ", i))
        elif buf[i] != 0:
            inside += 1
    assert_true(inside > 16, "random_fill left the span (mostly) zero")
    random_fill(Span(buf)[0:0])  # empty: nothing to do, no error
    err = None
    try:
        _ = generate_ca("x", HUGE)
    except e:
        err = e^
    expect_invalid(err, "generate_ca(valid_days huge)")
    err = None
    try:
        var p = Poller()
        _ = p.add(-1)
    except e:
        err = e^
    expect_invalid(err, "Poller.add(-1)")


# ---- item 11: errors, memory mode, half-close -----------------------------------------


def test_tls_error_code_survives_a_plain_raises_call() raises:
    var code = 0
    var message = String("")
    try:
        plain_raises(False)  # this makes `e` an Error, not a TLSError
        var c = TLSConfig.client()
        c.load_ca_file("/nonexistent/mojo-tls/ca.pem")
    except e:
        var t = TLSError.from_error(e)
        assert_true(Bool(t), String("not recognised: ", e))
        code = t.value().code
        message = t.value().message
    assert_equal(code, MOJO_TLS_ERR_NOT_FOUND)
    assert_true(message.find("/nonexistent/") >= 0, message)
    # Anything else is not taken for a TLSError.
    try:
        plain_raises(True)
    except e:
        assert_false(Bool(TLSError.from_error(e)))


def test_memory_stream_has_the_stream_methods() raises:
    var pki = Pki()
    var client = TLSMemoryStream(pki.client_config(), String("localhost"))
    var server = TLSMemoryStream(pki.server_config())
    handshake_pair(client, server)
    assert_equal(client.version_number(), MOJO_TLS_VERSION_TLS1_3)
    assert_equal(server.server_name(), "localhost")
    assert_equal(client.verify_flags(), 0)
    assert_equal(client.verify_reason(), "")
    assert_equal(client.peer_cert_subject(), "CN=localhost")
    assert_true(client.peer_cert_issuer().find("mojo safety CA") >= 0)
    assert_equal(client.peer_cert_der(), pki.leaf.cert_der())
    assert_true(client.peer_cert_pem().startswith("-----BEGIN CERTIFICATE"))
    assert_equal(len(client.peer_cert_spki_sha256()), 32)
    var sans = client.peer_cert_sans()
    assert_equal(len(sans), 2)
    assert_equal(sans[0], "DNS:localhost")
    assert_equal(client.write("héllo "), 7)
    client.write_all("world")
    server.feed(client.drain())
    assert_equal(server.read_string(), "héllo world")
    server.write_all("0123456789")
    client.feed(server.drain())
    assert_equal(String(from_utf8_lossy=client.read_exactly(4)), "0123")
    # read_all: the transport's end without close_notify is refused unless
    # allowed; then what arrived is returned.
    client.feed_eof()
    var err = Optional[TLSError]()
    try:
        _ = client.read_all()
    except e:
        err = e^
    assert_true(Bool(err), "read_all accepted a truncated stream")
    assert_true(err.value().is_truncated(), String(err.value()))
    var client2 = TLSMemoryStream(pki.client_config(), String("localhost"))
    var server2 = TLSMemoryStream(pki.server_config())
    handshake_pair(client2, server2)
    server2.write_all("all of it")
    client2.feed(server2.drain())
    client2.feed_eof()
    assert_equal(
        String(from_utf8_lossy=client2.read_all(allow_truncation=True)),
        "all of it",
    )


def test_ffi_handles_are_typed() raises:
    # Item 11: each handle type of _ffi.mojo is its own struct (passing the
    # wrong one is a compile error: mojo/tests/compile_fail/). At run time a
    # NULL result is a null struct, and typed handles reach the C library as
    # the same pointers.
    var ffi = MojoTlsFFI.load()
    var bad = ffi.config_new(7)  # no such role: NULL
    assert_false(Bool(bad))
    assert_true(bad == ConfigPtr.null())
    assert_equal(Int(bad), 0)
    var cfg = ffi.config_new(MOJO_TLS_ROLE_CLIENT)
    assert_true(Bool(cfg))
    assert_true(String(cfg).startswith("ConfigPtr(0x"), String(cfg))
    var conn = ffi.conn_new_memory(cfg, String("localhost"))
    assert_true(Bool(conn))
    assert_false(conn == ConnPtr.null())
    assert_equal(ffi.conn_pending(conn), 0)
    assert_equal(ffi.conn_pending(ConnPtr.null()), MOJO_TLS_ERR_INVALID_HANDLE)
    assert_equal(ffi.conn_free(conn), 0)
    assert_equal(ffi.config_free(cfg), 0)
    assert_equal(ffi.config_free(ConfigPtr.null()), 0)  # NULL: a no-op


def test_crl_from_typed_gencert_handles() raises:
    # GeneratedCert.crl_pem takes List[GencertPtr] (handle()) and hands C an
    # array of their addresses: the revoked leaf fails, another one passes.
    var pki = Pki()
    var other = generate_cert(pki.ca, "localhost", "localhost")
    var crl = pki.ca.crl_pem([pki.leaf.handle()])
    assert_true(crl.startswith("-----BEGIN X509 CRL"), crl)
    var revoked_client = pki.client_config()
    revoked_client.load_crl_pem(crl)
    var client = TLSMemoryStream(revoked_client, String("localhost"))
    var server = TLSMemoryStream(pki.server_config())
    var err = Optional[TLSError]()
    try:
        handshake_pair(client, server)
    except e:
        err = TLSError.from_error(e)
    assert_true(Bool(err), "a revoked certificate was accepted")
    assert_true(err.value().is_verify_failed(), String(err.value()))
    var fine = TLSConfig.server()
    fine.add_cert_pem(other.cert_pem(), other.key_pem())
    var client2 = TLSMemoryStream(revoked_client, String("localhost"))
    var server2 = TLSMemoryStream(fine)
    handshake_pair(client2, server2)
    assert_equal(client2.verify_flags(), 0)


def test_close_notify_half_close_on_tls13() raises:
    # After its close_notify a side still reads what the peer sent, and on
    # TLS 1.3 (the default) the side that read the peer's close_notify may
    # still write: each direction closes on its own (RFC 8446 §6.1).
    var pki = Pki()
    var client = TLSMemoryStream(pki.client_config(), String("localhost"))
    var server = TLSMemoryStream(pki.server_config())
    handshake_pair(client, server)
    assert_equal(client.version_number(), 0x0304)
    client.write_all("request")
    client.close_notify()
    server.write_all("answer sent before seeing the end")
    client.feed(server.drain())
    assert_equal(client.read_string(), "answer sent before seeing the end")
    server.feed(client.drain())
    assert_equal(server.read_string(), "request")
    assert_equal(len(server.read()), 0)  # the client's end
    server.write_all("answer after the client's end")
    server.close_notify()
    client.feed(server.drain())
    assert_equal(client.read_string(), "answer after the client's end")
    assert_equal(len(client.read()), 0)  # the server's end
    var err = Optional[TLSError]()
    try:
        _ = client.write("after my close_notify")
    except e:
        err = e^
    assert_true(Bool(err), "write after close_notify")
    assert_true(err.value().is_closed(), String(err.value()))


# ---- item 9: library planting ---------------------------------------------------------


def test_no_library_from_the_working_directory_or_its_parents() raises:
    var p = peers()
    var root = String(py=p.make_temp_dir())
    var marker = String(root, "/loaded")
    var work = String(root, "/shared/work")
    _ = p.build_decoys(
        Python.list(
            String(work, "/dist/lib"),
            String(root, "/shared/dist/lib"),
            String(root, "/dist/lib"),
            work,
        ),
        marker,
    )
    # Only the package's own directory, and only when its path is absolute.
    for c in library_candidates():
        assert_true(c.startswith("/"), c)
        assert_true(c.startswith(package_dir().value()), c)
    var saved = getenv("MOJO_TLS_LIBRARY")
    _ = unsetenv("MOJO_TLS_LIBRARY")
    var old_cwd = String(py=p.chdir(work))
    var loaded = False
    try:
        _ = load_library()
        loaded = True
    except e:
        # Nothing else is installed here: not found, naming what it tried.
        assert_equal(e.name(), "MOJO_TLS_ERR_NOT_FOUND", String(e))
    _ = p.chdir(old_cwd)
    _ = setenv("MOJO_TLS_LIBRARY", saved)
    assert_equal(String(py=p.read_text(marker)), "", "a decoy was loaded")
    # With it set, the legitimate library loads from anywhere.
    _ = p.chdir(work)
    var c = TLSConfig.client()
    _ = p.chdir(old_cwd)
    assert_equal(String(py=p.read_text(marker)), "")
    _ = loaded
    _ = c^


def test_program_does_not_load_a_library_beside_it() raises:
    var p = peers()
    var bin_dir = getenv("MOJO_TLS_EXAMPLES_BIN")
    assert_true(bin_dir.byte_length() > 0, "MOJO_TLS_EXAMPLES_BIN is not set")
    var lib = getenv("MOJO_TLS_LIBRARY")
    var root = String(py=p.make_temp_dir())
    var marker = String(root, "/loaded")
    var prog_dir = String(root, "/app/bin")
    _ = p.build_decoys(
        Python.list(
            String(prog_dir, "/lib"),
            String(prog_dir, "/dist/lib"),
            String(root, "/app/lib"),
            String(root, "/app/dist/lib"),
        ),
        marker,
    )
    var shutil = Python.import_module("shutil")
    var prog = String(prog_dir, "/event_server")
    _ = shutil.copyfile(String(bin_dir, "/event_server"), prog)
    _ = Python.import_module("os").chmod(prog, 0o755)
    # No MOJO_TLS_LIBRARY: the legitimate library comes from the system's
    # search path (LD_LIBRARY_PATH here), the decoys beside the program and
    # in the working directory are never tried.
    var env_set = Python.dict()
    env_set["LD_LIBRARY_PATH"] = dirname(lib)
    var srv = p.spawn_in(
        Python.list(prog, "--port", "0", "--count", "1"),
        prog_dir,
        env_set,
        Python.list("MOJO_TLS_LIBRARY"),
    )
    assert_true(Int(py=srv.port) > 0)
    _ = srv.stop()
    assert_equal(String(py=p.read_text(marker)), "", "a decoy was loaded")


def main() raises:
    try:
        TestSuite.discover_tests[__functions_in_module()]().run()
    finally:
        _ = peers().cleanup()
