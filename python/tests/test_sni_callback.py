"""TLSContext.sni_callback as ssl.SSLContext.sni_callback: called with
(ssl_object, server_name, context) during the server's handshake; setting
ssl_object.context switches the certificate; an alert number aborts the
handshake with that alert; an exception aborts it with handshake_failure.
Peers: Python's ssl and the package's own client, on 127.0.0.1."""

import socket
import ssl
import threading

import pytest
from conftest import HOST, ThreadServer, memory_handshake, plain_listener

import mojo_tls


@pytest.fixture(scope="module")
def certs(pki):
    alt = mojo_tls.generate_cert(pki.ca, "alt.example", sans=["alt.example"])
    d = pki.dir
    alt.write(d / "alt.crt", d / "alt.key")
    return d / "alt.crt", d / "alt.key"


def _server(pki, cb):
    ctx = mojo_tls.TLSContext(server_side=True)
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    ctx.sni_callback = cb
    return ctx


def _alt_ctx(certs):
    alt = mojo_tls.TLSContext(server_side=True)
    alt.load_cert_chain(*certs)
    return alt


def _stdlib_client(pki, port, name, version=None):
    ctx = ssl.create_default_context(cafile=str(pki.ca_file))
    if name is None:
        ctx.check_hostname = False
    if version is not None:
        ctx.maximum_version = version
    raw = socket.create_connection((HOST, port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname=name)


def _serve_once(ctx):
    """Accept one connection with listen().accept() (the callback runs before
    the TLSSocket exists) and echo one line; returns (ThreadServer, port)."""
    lst = ctx.listen(HOST, 0)

    def accept():
        try:
            return lst.accept(timeout=10)[0]
        finally:
            lst.close()

    def handler(conn):
        with conn:
            data = conn.recv(100)
            conn.sendall(data)
            return conn.context

    return ThreadServer(accept, handler), lst.port


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_switch_certificate_for_stdlib_client(pki, certs, version) -> None:
    alt = _alt_ctx(certs)
    seen = []

    def cb(obj, name, ctx):
        seen.append((name, ctx, threading.current_thread().name, obj.server_side))
        if name == "alt.example":
            obj.context = alt
            assert obj.context is alt
        return None

    ctx = _server(pki, cb)
    assert ctx.sni_callback is cb
    srv, port = _serve_once(ctx)
    with _stdlib_client(pki, port, "alt.example", version) as c:
        assert c.getpeercert()["subject"] == ((("commonName", "alt.example"),),)
        c.sendall(b"hi")
        assert c.recv(10) == b"hi"
    srv.join()
    assert seen == [("alt.example", ctx, srv.thread.name, True)]
    assert srv.results == [alt]  # the connection reports the context it switched to

    # the name not switched: the default certificate, and the callback saw it
    srv, port = _serve_once(ctx)
    with _stdlib_client(pki, port, "localhost", version) as c:
        assert c.getpeercert()["subject"] == ((("commonName", "localhost"),),)
        c.sendall(b"x")
        c.recv(10)
    srv.join()
    assert seen[-1][0] == "localhost"
    assert srv.results == [ctx]


def test_no_sni_gives_none(pki) -> None:
    names = []
    ctx = _server(pki, lambda obj, name, c: names.append(name))
    srv, port = _serve_once(ctx)
    with _stdlib_client(pki, port, None) as c:
        c.sendall(b"x")
        c.recv(10)
    srv.join()
    assert names == [None]


@pytest.mark.parametrize("alert,needle", [
    (ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME, "UNRECOGNIZED_NAME"),
    (ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE, "HANDSHAKE_FAILURE"),
])
def test_alert_aborts_the_handshake(pki, alert, needle) -> None:
    ctx = _server(pki, lambda obj, name, c: alert)
    lst = ctx.listen(HOST, 0)
    errors = []

    def accept():
        try:
            lst.accept(timeout=10)
        except mojo_tls.TLSError as exc:
            errors.append(exc)
        finally:
            lst.close()

    t = threading.Thread(target=accept)
    t.start()
    with pytest.raises(ssl.SSLError, match=needle):
        _stdlib_client(pki, lst.port, "localhost")
    t.join(15)
    assert not t.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], ssl.SSLError)
    assert "server name callback refused" in str(errors[0])


def test_exception_aborts_with_handshake_failure(pki, capfd) -> None:
    def cb(obj, name, c):
        raise RuntimeError("boom in the callback")

    ctx = _server(pki, cb)
    lst = ctx.listen(HOST, 0)
    t = threading.Thread(target=lambda: pytest.raises(mojo_tls.TLSError, lst.accept, timeout=10))
    t.start()
    with pytest.raises(ssl.SSLError, match="HANDSHAKE_FAILURE"):
        _stdlib_client(pki, lst.port, "localhost")
    t.join(15)
    assert not t.is_alive()
    lst.close()
    err = capfd.readouterr().err
    assert "Exception ignored in sni_callback" in err and "boom in the callback" in err
    # a result that is no alert: internal_error
    ctx.sni_callback = lambda obj, name, c: "nonsense"
    lst = ctx.listen(HOST, 0)
    t = threading.Thread(target=lambda: pytest.raises(mojo_tls.TLSError, lst.accept, timeout=10))
    t.start()
    with pytest.raises(ssl.SSLError, match="INTERNAL_ERROR"):
        _stdlib_client(pki, lst.port, "localhost")
    t.join(15)
    lst.close()


def test_wrap_socket_and_memory_objects_are_passed(pki, certs, client_ctx) -> None:
    alt = _alt_ctx(certs)
    got = []

    def cb(obj, name, c):
        got.append(obj)
        obj.context = alt
        # other calls on the connection are refused inside the callback
        with pytest.raises(mojo_tls.TLSError, match="server name callback"):
            obj.get_channel_binding("tls-exporter")

    ctx = _server(pki, cb)
    # memory mode: the TLSObject itself
    server = ctx.wrap_memory(server_side=True)
    client = client_ctx.wrap_memory(server_hostname="alt.example")
    memory_handshake(client, server)
    assert got == [server]
    assert server.context is alt
    assert client.getpeercert()["subject"] == ((("commonName", "alt.example"),),)
    # wrap_socket on an accepted socket: the TLSSocket
    lsock = plain_listener()
    port = lsock.getsockname()[1]

    def accept():
        raw, _ = lsock.accept()
        return ctx.wrap_socket(raw, server_side=True)

    def handler(conn):
        with conn:
            conn.sendall(conn.recv(10))
            return conn

    srv = ThreadServer(accept, handler)
    with client_ctx.wrap_socket(socket.create_connection((HOST, port), timeout=10),
                                server_hostname="alt.example") as c:
        c.sendall(b"x")
        assert c.recv(10) == b"x"
        assert c.getpeercert()["subject"] == ((("commonName", "alt.example"),),)
    srv.join()
    lsock.close()
    assert got[-1] is srv.results[0]


def test_settings(pki, client_ctx) -> None:
    ctx = _server(pki, None)
    assert ctx.sni_callback is None
    with pytest.raises(TypeError):
        ctx.sni_callback = 42
    with pytest.raises(ValueError):
        client_ctx.sni_callback = lambda *a: None

    def cb(*a):
        return None

    ctx.set_servername_callback(cb)
    assert ctx.sni_callback is cb
    ctx.sni_callback = None
    assert ctx.sni_callback is None
    # outside the callback a connection's context cannot change
    obj = ctx.wrap_memory(server_side=True)
    other = _server(pki, None)
    with pytest.raises(ValueError):
        obj.context = other
    assert obj.context is ctx
    # ssl's adapter shows and forwards it
    adapter = ctx.as_ssl_context()
    adapter.sni_callback = cb
    assert ctx.sni_callback is cb and adapter.sni_callback is cb
