"""STARTTLS: a plain-text exchange over a Python socket, then TLS on the same
connection (wrap_socket), then back to plain text (unwrap)."""

import socket

from conftest import HOST, ThreadServer, plain_listener, stdlib_client_context

import mojo_tls


def _readline(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        c = sock.recv(1)
        if not c:
            break
        data += c
    return data


def _starttls_server(lsock: socket.socket, server_ctx: mojo_tls.TLSContext):
    def accept():
        raw, _ = lsock.accept()
        raw.settimeout(10)
        return raw

    def handler(raw: socket.socket):
        raw.sendall(b"220 ready\n")
        assert _readline(raw) == b"STARTTLS\n"
        raw.sendall(b"220 go ahead\n")
        tls = server_ctx.wrap_socket(raw, server_side=True)
        line = b""
        while not line.endswith(b"\n"):
            line += tls.recv(100)
        tls.sendall(b"secret:" + line)
        assert raw.fileno() == -1  # wrap_socket took the descriptor over (as ssl)
        plain = tls.unwrap()  # both sides end TLS; the TCP connection stays
        assert isinstance(plain, socket.socket) and plain.gettimeout() == 10
        plain.sendall(b"bye in clear\n")
        plain.close()
        return line

    return ThreadServer(accept, handler)


def test_starttls_both_sides_mojo(pki, server_ctx, client_ctx) -> None:
    with plain_listener() as lsock:
        srv = _starttls_server(lsock, server_ctx)
        raw = socket.create_connection(lsock.getsockname(), timeout=10)
        assert _readline(raw) == b"220 ready\n"
        raw.sendall(b"STARTTLS\n")
        assert _readline(raw) == b"220 go ahead\n"
        tls = client_ctx.wrap_socket(raw, server_hostname="localhost")
        assert tls.version() == "TLSv1.3"
        assert tls.gettimeout() == 10
        tls.sendall(b"password\n")
        assert tls.recv(100) == b"secret:password\n"
        assert raw.fileno() == -1  # detached, as ssl's wrap_socket does
        plain = tls.unwrap()
        assert isinstance(plain, socket.socket) and plain.fileno() >= 0
        assert plain.gettimeout() == 10
        assert _readline(plain) == b"bye in clear\n"
        assert tls.closed
        plain.close()
        srv.join()
    assert srv.results == [b"password\n"]


def test_starttls_stdlib_client(pki, server_ctx) -> None:
    with plain_listener() as lsock:
        srv = _starttls_server(lsock, server_ctx)
        raw = socket.create_connection(lsock.getsockname(), timeout=10)
        assert _readline(raw) == b"220 ready\n"
        raw.sendall(b"STARTTLS\n")
        assert _readline(raw) == b"220 go ahead\n"
        tls = stdlib_client_context(pki).wrap_socket(raw, server_hostname="localhost")
        tls.sendall(b"stdlib\n")
        assert tls.recv(100) == b"secret:stdlib\n"
        plain = tls.unwrap()
        assert _readline(plain) == b"bye in clear\n"
        plain.close()
        srv.join()


def test_wrap_socket_keeps_python_socket_alive(pki, server_ctx, client_ctx) -> None:
    # The TLSSocket owns the descriptor (the Python socket is detached):
    # dropping our reference must not close the fd under the library.
    with server_ctx.listen(HOST, 0) as lst:
        def handler(conn):
            with conn:
                conn.sendall(conn.recv(100))
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler)
        raw = socket.create_connection((HOST, lst.port), timeout=10)
        tls = client_ctx.wrap_socket(raw, server_hostname="localhost")
        del raw
        import gc
        gc.collect()
        tls.sendall(b"still here")
        assert tls.recv(100) == b"still here"
        tls.close()
        srv.join()


def test_wrap_socket_server_side_mismatch(client_ctx) -> None:
    a, b = socket.socketpair()
    with a, b:
        try:
            client_ctx.wrap_socket(a, server_side=True)
        except ValueError:
            pass
        else:
            raise AssertionError("a client context cannot be used with server_side=True")
        try:
            client_ctx.wrap_socket(a)  # check_hostname needs server_hostname
        except ValueError:
            pass
        else:
            raise AssertionError("expected ValueError")
