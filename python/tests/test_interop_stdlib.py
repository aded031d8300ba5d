"""Interop with the stdlib ssl module as the peer, both ways."""

import socket
import ssl

import pytest
from conftest import (HOST, ThreadServer, plain_listener, stdlib_client_context,
                      stdlib_server_context)

import mojo_tls


def _stdlib_echo_server(pki, **kw) -> tuple:
    ctx = stdlib_server_context(pki, **kw)
    lsock = plain_listener()
    port = lsock.getsockname()[1]

    def accept():
        raw, _ = lsock.accept()
        raw.settimeout(10)
        return ctx.wrap_socket(raw, server_side=True)

    def handler(conn):
        with conn:
            info = (conn.version(), conn.selected_alpn_protocol(), conn.getpeercert())
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            conn.sendall(data.upper())
            conn.unwrap()  # send our close_notify, wait for the client's
            return info

    return ThreadServer(accept, handler), port, lsock


def test_our_client_stdlib_server(pki, client_ctx) -> None:
    srv, port, lsock = _stdlib_echo_server(pki)
    with lsock:
        with mojo_tls.connect("localhost", port, context=client_ctx, timeout=10) as s:
            assert s.version() == "TLSv1.3"
            name, proto, bits = s.cipher()
            # TLS 1.3 suites name only the AEAD
            assert name.startswith(("TLS_AES_", "TLS_CHACHA20_")) and proto == "TLSv1.3" and bits >= 128
            s.sendall(b"hello stdlib\n")
            got = b""
            while True:
                chunk = s.recv(1024)
                if not chunk:
                    break
                got += chunk
            assert got == b"HELLO STDLIB\n"
            s.unwrap()
        srv.join()
    assert srv.results[0][0] == "TLSv1.3"


def test_getpeercert_matches_stdlib(pki, client_ctx) -> None:
    # The same server certificate seen through stdlib's and our getpeercert().
    srv_ctx = mojo_tls.TLSContext(server_side=True)
    srv_ctx.load_cert_chain(pki.server_cert, pki.server_key)
    with srv_ctx.listen(HOST, 0) as lst:
        def handler(conn):
            with conn:
                conn.recv(10)
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler, count=2)
        ours = mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10)
        mine = ours.getpeercert()
        der = ours.getpeercert(binary_form=True)
        ours.sendall(b"x")
        ours.close()
        sctx = stdlib_client_context(pki)
        with socket.create_connection((HOST, lst.port), timeout=10) as raw:
            with sctx.wrap_socket(raw, server_hostname="localhost") as ss:
                theirs = ss.getpeercert()
                their_der = ss.getpeercert(binary_form=True)
                ss.sendall(b"x")
        srv.join()
    assert der == their_der == pki.server.cert_der
    for key in ("subject", "issuer", "subjectAltName", "notBefore", "notAfter"):
        assert mine[key] == theirs[key], key
    assert ssl.cert_time_to_seconds(mine["notAfter"]) > ssl.cert_time_to_seconds(mine["notBefore"])


def test_stdlib_client_our_server(pki, server_ctx) -> None:
    server_ctx.set_alpn_protocols(["h2", "http/1.1"])
    with server_ctx.listen(HOST, 0) as lst:
        def handler(conn):
            with conn:
                data = conn.recv(1024)
                conn.sendall(data[::-1])
                alpn = conn.selected_alpn_protocol()
                assert conn.recv(10) == b""  # the stdlib client unwraps: clean EOF
                conn.unwrap().close()  # answers its close_notify (close() sends none)
                return alpn
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler)
        ctx = stdlib_client_context(pki)
        ctx.set_alpn_protocols(["http/1.1"])
        with socket.create_connection((HOST, lst.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as ss:
                assert ss.version() == "TLSv1.3"
                ss.sendall(b"abcdef")
                assert ss.recv(1024) == b"fedcba"
                assert ss.selected_alpn_protocol() == "http/1.1"
                ss.unwrap()
        srv.join()
    assert srv.results == ["http/1.1"]


def test_alpn_our_client(pki, client_ctx) -> None:
    srv, port, lsock = _stdlib_echo_server(pki, alpn=["h2", "http/1.1"])
    client_ctx.set_alpn_protocols(["h2"])
    with lsock, mojo_tls.connect("localhost", port, context=client_ctx, timeout=10) as s:
        assert s.selected_alpn_protocol() == "h2"
        s.sendall(b"x\n")
        assert s.recv(10) == b"X\n"
        assert s.recv(10) == b""
        s.unwrap()
        srv.join()


def test_mutual_tls_with_stdlib_server(pki, client_ctx) -> None:
    srv, port, lsock = _stdlib_echo_server(pki, require_client=True)
    client_ctx.load_cert_chain(pki.client_cert, pki.client_key)
    with lsock, mojo_tls.connect("localhost", port, context=client_ctx, timeout=10) as s:
        s.sendall(b"mtls\n")
        assert s.recv(100) == b"MTLS\n"
        assert s.recv(100) == b""
        s.unwrap()
        srv.join()
    peer = srv.results[0][2]
    assert dict(x[0] for x in peer["subject"])["commonName"] == "pytest client"


def test_mutual_tls_our_server_requires_client_cert(pki, server_ctx) -> None:
    server_ctx.verify_mode = mojo_tls.CERT_REQUIRED
    server_ctx.load_verify_locations(pki.ca_file)
    with server_ctx.listen(HOST, 0) as lst:
        # 1. a stdlib client with a certificate gets in
        def handler(conn):
            with conn:
                cert = conn.getpeercert()
                conn.sendall(b"ok")
                return cert
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler)
        ctx = stdlib_client_context(pki)
        ctx.load_cert_chain(str(pki.client_cert), str(pki.client_key))
        with socket.create_connection((HOST, lst.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as ss:
                assert ss.recv(10) == b"ok"
        srv.join()
        assert srv.results[0]["subject"] == ((("commonName", "pytest client"),),)

        # 2. one without is refused by the server's handshake
        srv2 = ThreadServer(lambda: lst.accept(timeout=10)[0], lambda c: None)
        ctx2 = stdlib_client_context(pki)
        with socket.create_connection((HOST, lst.port), timeout=10) as raw:
            with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
                with ctx2.wrap_socket(raw, server_hostname="localhost") as ss:
                    ss.recv(10)  # TLS 1.2: the failure shows at the handshake or first read
        with pytest.raises(mojo_tls.TLSError):
            srv2.join()
