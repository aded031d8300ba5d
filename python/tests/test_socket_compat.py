"""TLSSocket behaves like ssl.SSLSocket where Python code relies on it
(issue #20, items 2, 3, 4 and 10): wrap_socket() takes the descriptor over,
close() leaves open makefile() files working and sends no close_notify,
settimeout() accepts what socket does, server_hostname may be bytes."""

import socket
import time

import pytest
from conftest import HOST, ThreadServer, plain_listener

import mojo_tls


def _echo_server(server_ctx, count=1):
    """A mojo_tls echo server (thread); clients may just close()."""
    lst = server_ctx.listen(HOST, 0)

    def handler(conn):
        with conn:
            conn.settimeout(10)
            conn.suppress_ragged_eofs = True
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)

    return ThreadServer(lambda: lst.accept(timeout=10)[0], handler, count), lst


# -- item 2: wrap_socket() takes the descriptor over ---------------------------------

def test_wrap_socket_detaches_the_socket(server_ctx, client_ctx) -> None:
    srv, lst = _echo_server(server_ctx)
    with lst:
        raw = socket.create_connection((HOST, lst.port), timeout=10)
        fd = raw.fileno()
        tls = client_ctx.wrap_socket(raw, server_hostname="localhost")
        assert raw.fileno() == -1  # as ssl: the Python socket no longer owns the fd
        assert tls.fileno() == fd
        raw.close()  # does nothing to the TLS connection
        tls.sendall(b"after sock.close()")
        assert tls.recv(100) == b"after sock.close()"
        assert tls.gettimeout() == 10  # taken from the socket
        tls.close()
        srv.join()


def test_closed_socket_fd_reuse_never_gets_tls_records(server_ctx, client_ctx) -> None:
    # After sock.close() and a new connection (likely on the same fd number),
    # the TLS socket still talks to its own peer only.
    srv, lst = _echo_server(server_ctx)
    with lst, plain_listener() as other_lst:
        raw = socket.create_connection((HOST, lst.port), timeout=10)
        tls = client_ctx.wrap_socket(raw, server_hostname="localhost")
        raw.close()
        other = socket.create_connection(other_lst.getsockname(), timeout=10)
        peer, _ = other_lst.accept()
        with other, peer:
            tls.sendall(b"secret")
            assert tls.recv(100) == b"secret"
            peer.settimeout(0.3)
            with pytest.raises(socket.timeout):
                peer.recv(100)  # nothing reached the unrelated connection
        tls.close()
        srv.join()


def test_wrap_socket_failure_closes_the_socket(client_ctx) -> None:
    # ssl closes the (detached) socket when the handshake fails.
    with plain_listener() as lst:
        raw = socket.create_connection(lst.getsockname(), timeout=10)
        peer, _ = lst.accept()
        with peer:
            peer.sendall(b"this is not TLS\r\n" * 10)
            with pytest.raises(mojo_tls.TLSError):
                client_ctx.wrap_socket(raw, server_hostname="localhost")
            assert raw.fileno() == -1
            peer.settimeout(5)
            try:
                while peer.recv(4096):  # the client end was closed: EOF (bounded by the timeout)
                    pass
            except ConnectionResetError:
                pass


def test_wrap_socket_argument_errors_leave_the_socket_alone(client_ctx, server_ctx) -> None:
    a, b = socket.socketpair()
    with a, b:
        with pytest.raises(ValueError):
            client_ctx.wrap_socket(a)  # check_hostname needs server_hostname
        assert a.fileno() >= 0
    # ssl's wrapped listening / unconnected sockets have no equivalent here:
    # a clear error, and the socket is not taken over.
    with plain_listener() as lst:
        with pytest.raises(OSError, match="connected socket"):
            server_ctx.wrap_socket(lst, server_side=True)
        assert lst.fileno() >= 0
    with socket.socket() as unconnected:
        with pytest.raises(OSError, match="connected socket"):
            client_ctx.wrap_socket(unconnected, server_hostname="localhost")
        assert unconnected.fileno() >= 0


# -- item 3: close() with open makefile() files ---------------------------------------

def test_close_defers_until_makefile_files_close(server_ctx, client_ctx) -> None:
    srv, lst = _echo_server(server_ctx)
    with lst:
        s = mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10)
        f = s.makefile("rb")
        w = s.makefile("wb")
        s.close()  # as socket.socket: the files keep it open
        assert not s.closed
        w.write(b"line 1\nline 2\n")
        w.flush()
        assert f.readline() == b"line 1\n"
        w.close()
        assert not s.closed
        assert f.readline() == b"line 2\n"
        f.close()  # the last file: the real close
        assert s.closed and s.fileno() == -1
        srv.join()


def test_makefile_close_without_socket_close_keeps_it_open(server_ctx, client_ctx) -> None:
    srv, lst = _echo_server(server_ctx)
    with lst:
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10) as s:
            with s.makefile("rwb") as f:
                f.write(b"x\n")
                f.flush()
                assert f.readline() == b"x\n"
            assert not s.closed
            s.sendall(b"still open")
            assert s.recv(100) == b"still open"
        assert s.closed
        srv.join()


# -- item 4: close() sends nothing; unwrap()/shutdown() send close_notify --------------

@pytest.mark.parametrize("how", ["close", "del", "unwrap", "shutdown"])
def test_only_unwrap_and_shutdown_send_close_notify(server_ctx, client_ctx, how) -> None:
    lst = server_ctx.listen(HOST, 0)

    def handler(conn):
        conn.settimeout(10)
        conn.sendall(b"bye")
        if how == "close":
            conn.close()
        elif how == "del":
            del conn
        elif how == "unwrap":
            conn.unwrap().close()
        else:
            conn.shutdown(socket.SHUT_WR)
            conn.close()

    with lst:
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler)
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10) as s:
            assert s.recv(3) == b"bye"
            if how in ("close", "del"):
                with pytest.raises(mojo_tls.TLSTruncatedError):  # no close_notify, as ssl
                    s.recv(10)
            else:
                assert s.recv(10) == b""
                if how == "unwrap":
                    s.unwrap().close()  # answer it: the server's unwrap() waits for ours
        srv.join()


def test_close_wakes_a_blocked_reader_without_close_notify(server_ctx, client_ctx) -> None:
    import threading

    lst = server_ctx.listen(HOST, 0)
    box = {}

    def handler(conn):
        with conn:
            conn.settimeout(10)
            try:
                box["server"] = conn.recv(10)
            except mojo_tls.TLSError as exc:
                box["server"] = type(exc).__name__

    with lst:
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler)
        s = mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=None)
        res = []

        def reader():
            try:
                res.append(s.recv(10))
            except mojo_tls.TLSError as exc:
                res.append(exc)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        time.sleep(0.2)
        s.close()
        t.join(10)
        assert not t.is_alive() and len(res) == 1
        srv.join()
    assert box["server"] == "TLSTruncatedError"  # woken, but no close_notify sent


# -- item 10: settimeout() range, bytes server_hostname ------------------------------------

@pytest.mark.parametrize("value", [1e9, 9e9, 1e10, 1e12, 10**12])
def test_settimeout_accepts_what_socket_accepts(server_ctx, client_ctx, value) -> None:
    with socket.socket() as plain:
        try:
            plain.settimeout(value)
            expected = None
        except Exception as exc:  # noqa: BLE001 - compared below
            expected = type(exc)
    srv, lst = _echo_server(server_ctx)
    with lst:
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10) as s:
            if expected is None:
                s.settimeout(value)
                assert s.gettimeout() == value
                s.sendall(b"long timeout")  # waits, does not time out early
                assert s.recv(100) == b"long timeout"
            else:
                with pytest.raises(expected):
                    s.settimeout(value)
                assert s.gettimeout() == 10  # unchanged
        srv.join()


def test_server_hostname_as_bytes(server_ctx, client_ctx) -> None:
    srv, lst = _echo_server(server_ctx)
    with lst:
        raw = socket.create_connection((HOST, lst.port), timeout=10)
        with client_ctx.wrap_socket(raw, server_hostname=b"localhost") as tls:
            assert tls.server_hostname == "localhost"  # decoded, as ssl
            assert tls.server_name_indication() == "localhost"
            tls.sendall(b"bytes name")
            assert tls.recv(100) == b"bytes name"
        srv.join()
    obj = client_ctx.wrap_memory(server_hostname=b"localhost")
    assert obj.server_hostname == "localhost"
    obj.close()
    a, b = socket.socketpair()
    with a, b:
        with pytest.raises(ValueError):
            client_ctx.wrap_socket(a, server_hostname="b\xfccher.example".encode("latin-1"))


def test_server_hostname_idna_like_ssl(client_ctx) -> None:
    obj = client_ctx.wrap_memory(server_hostname="b\u00fccher.example")
    assert obj.server_hostname == "xn--bcher-kva.example"
    obj.close()
