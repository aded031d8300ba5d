"""The socket-like API: timeouts, non-blocking mode, makefile, recv_into,
shutdown, EOF and truncation."""

import select
import socket
import time

import pytest
from conftest import HOST, ThreadServer

import mojo_tls


@pytest.fixture
def echo(server_ctx):
    """A mojo_tls echo server in a thread (one connection)."""
    lst = server_ctx.listen(HOST, 0)

    def handler(conn):
        with conn:
            conn.settimeout(10)
            # clients may just close() (no close_notify, as with ssl)
            conn.suppress_ragged_eofs = True
            while True:
                data = conn.recv(65536)
                if not data:
                    try:  # answer a close_notify (close() sends none)
                        conn.unwrap().close()
                    except OSError:
                        pass  # the client just left
                    return
                conn.sendall(data)

    srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler)
    yield lst.port
    srv.join()
    lst.close()


def test_large_transfer_and_makefile(echo, client_ctx) -> None:
    import threading

    with mojo_tls.connect("localhost", echo, context=client_ctx, timeout=10) as s:
        payload = bytes(range(256)) * 4096  # 1 MiB
        # send from another thread so the echo cannot deadlock on full buffers
        t = threading.Thread(target=s.sendall, args=(payload,))
        t.start()
        f = s.makefile("rb")
        got = f.read(len(payload))
        t.join(10)
        assert got == payload
        w = s.makefile("w", encoding="utf-8")
        w.write("line one\nline two\n")
        w.flush()
        r = s.makefile("r", encoding="utf-8")
        assert r.readline() == "line one\n"
        assert r.readline() == "line two\n"
        buf = bytearray(5)
        s.sendall(b"12345")
        n = 0
        while n < 5:
            n += s.recv_into(memoryview(buf)[n:])
        assert bytes(buf) == b"12345"


def test_timeout_and_nonblocking(echo, client_ctx) -> None:
    with mojo_tls.connect("localhost", echo, context=client_ctx, timeout=10) as s:
        s.settimeout(0.2)
        assert s.gettimeout() == 0.2
        t0 = time.monotonic()
        with pytest.raises(mojo_tls.TLSTimeoutError) as ei:
            s.recv(10)
        assert isinstance(ei.value, TimeoutError)
        assert 0.1 < time.monotonic() - t0 < 5
        s.setblocking(False)
        assert not s.getblocking()
        with pytest.raises(mojo_tls.TLSWantReadError):
            s.recv(10)
        s.send(b"ping")
        r, _, _ = select.select([s], [], [], 5)
        assert r == [s]
        data = b""
        deadline = time.monotonic() + 5
        while len(data) < 4 and time.monotonic() < deadline:
            try:
                data += s.recv(10)
            except mojo_tls.TLSWantReadError:
                select.select([s], [], [], 0.5)
        assert data == b"ping"
        s.settimeout(None)
        assert s.getblocking()


def test_info_and_shutdown(echo, client_ctx) -> None:
    s = mojo_tls.connect("localhost", echo, context=client_ctx, timeout=10)
    assert s.getpeername()[1] == echo
    assert s.getsockname()[0] == HOST
    assert s.family == socket.AF_INET
    assert s.server_hostname == "localhost" and not s.server_side
    assert s.fileno() >= 0
    assert s.pending() == 0
    assert s.compression() is None
    assert s.getpeercert_pem().startswith("-----BEGIN CERTIFICATE-----")
    s.shutdown(socket.SHUT_WR)  # close_notify: the echo server sees EOF and closes
    assert s.recv(10) == b""
    s.close()


def test_truncation_is_an_error(server_ctx, client_ctx) -> None:
    with server_ctx.listen(HOST, 0) as lst:
        def handler(conn):
            # cut the TCP connection without close_notify
            with socket.socket(fileno=__import__("os").dup(conn.fileno())) as raw:
                conn.sendall(b"partial")
                raw.shutdown(socket.SHUT_RDWR)
            conn.close()
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler, count=2)
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10) as s:
            assert s.recv(100) == b"partial"
            with pytest.raises(mojo_tls.TLSTruncatedError):
                s.recv(100)
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10,
                              suppress_ragged_eofs=True) as s:
            assert s.recv(100) == b"partial"
            assert s.recv(100) == b""
        srv.join()


def test_accept_timeout(server_ctx) -> None:
    with server_ctx.listen(HOST, 0) as lst:
        with pytest.raises(mojo_tls.TLSTimeoutError):
            lst.accept(timeout=0.1)
        with pytest.raises(mojo_tls.TLSWantReadError):
            lst.accept(timeout=0)
        assert "port" in repr(lst)
    assert lst.closed
    with pytest.raises(mojo_tls.TLSClosedError):
        lst.accept(timeout=0.1)


def test_accept_without_handshake(server_ctx, client_ctx) -> None:
    import threading

    with server_ctx.listen(HOST, 0) as lst:
        box = {}

        def client():
            with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10) as c:
                box["data"] = c.recv(10)

        t = threading.Thread(target=client)
        t.start()
        conn, addr = lst.accept(timeout=10, handshake=False)
        with conn:
            assert addr[0] == HOST
            conn.do_handshake()
            conn.sendall(b"late hs")
        t.join(10)
    assert box["data"] == b"late hs"


def test_connect_ip_with_server_hostname(echo, client_ctx) -> None:
    # Connect to an address, verify another name (the Python-socket path).
    with mojo_tls.connect(HOST, echo, context=client_ctx, timeout=10,
                          server_hostname="localhost") as s:
        assert s.server_hostname == "localhost"
        s.sendall(b"via ip")
        assert s.recv(10) == b"via ip"
