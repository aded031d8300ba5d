"""Bad input from Python (wrong types, closed objects, bad files) gives
exceptions, never a crash."""

import gc
import socket

import pytest
from conftest import HOST, ThreadServer

import mojo_tls
from mojo_tls import _ffi


def test_context_wrong_types() -> None:
    ctx = mojo_tls.TLSContext()
    with pytest.raises(TypeError):
        ctx.verify_mode = "required"  # type: ignore[assignment]
    with pytest.raises(ValueError):
        ctx.verify_mode = 7  # type: ignore[assignment]
    with pytest.raises(TypeError):
        ctx.check_hostname = 1  # type: ignore[assignment]
    with pytest.raises(TypeError):
        ctx.minimum_version = "1.2"  # type: ignore[assignment]
    with pytest.raises(ValueError):
        ctx.minimum_version = 0x0301  # TLS 1.0: not supported
    with pytest.raises(TypeError):
        ctx.load_verify_locations()
    with pytest.raises(TypeError):
        ctx.load_verify_locations(cafile=123)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ctx.load_verify_locations(cafile="a\0b")
    with pytest.raises(TypeError):
        ctx.set_alpn_protocols("h2")
    with pytest.raises(ValueError):
        ctx.set_alpn_protocols([""])
    with pytest.raises(TypeError):
        ctx.set_ciphers(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ctx.add_pin(b"short")
    with pytest.raises(TypeError):
        mojo_tls.TLSContext(server_side="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        mojo_tls.TLSContext("purpose?")
    ctx.close()


def test_library_rejects_bad_values(tmp_path) -> None:
    ctx = mojo_tls.TLSContext()
    with pytest.raises(mojo_tls.TLSInvalidArgumentError) as ei:
        ctx.set_ciphers("TLS_NOT_A_SUITE")
    assert "TLS_NOT_A_SUITE" in ei.value.message
    assert isinstance(ei.value, ValueError)
    with pytest.raises(mojo_tls.TLSError):
        ctx.set_groups(["no-such-group"])
    with pytest.raises(FileNotFoundError):
        ctx.load_verify_locations(tmp_path / "missing.pem")
    bad = tmp_path / "garbage.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(mojo_tls.TLSParseError):
        ctx.load_verify_locations(bad)
    with pytest.raises(mojo_tls.TLSParseError):
        ctx.load_verify_locations(cadata=b"\x30\x03garbage")
    ctx.set_ciphers("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")
    ctx.set_groups(["x25519", "secp256r1"])
    ctx.minimum_version = mojo_tls.TLSVersion.TLSv1_3
    ctx.minimum_version = mojo_tls.TLSVersion.TLSv1_2
    ctx.maximum_version = mojo_tls.TLSVersion.TLSv1_2
    ctx.close()


def test_bad_key_password(pki, tmp_path) -> None:
    ctx = mojo_tls.TLSContext(server_side=True)
    with pytest.raises(mojo_tls.TLSError):
        ctx.load_cert_chain(pki.server_cert, pki.client_key)  # key does not match
    with pytest.raises(FileNotFoundError):
        ctx.load_cert_chain(tmp_path / "nope.crt")
    with pytest.raises(TypeError):
        ctx.load_cert_chain(pki.server_cert, pki.server_key, password=12)  # type: ignore[arg-type]
    ctx.load_cert_chain(pki.server_cert, pki.server_key, password=lambda: "unused")
    ctx.close()


def test_closed_context() -> None:
    ctx = mojo_tls.TLSContext()
    ctx.close()
    ctx.close()
    assert ctx.closed
    with pytest.raises(mojo_tls.TLSClosedError):
        ctx.load_default_certs()
    with pytest.raises(mojo_tls.TLSClosedError):
        ctx.set_alpn_protocols(["h2"])
    with pytest.raises(mojo_tls.TLSClosedError):
        mojo_tls.connect(HOST, 1, context=ctx)
    with pytest.raises(mojo_tls.TLSClosedError):
        ctx.wrap_memory(server_hostname="x")


def test_context_closed_while_connected(pki, server_ctx, client_ctx) -> None:
    with server_ctx.listen(HOST, 0) as lst:
        def handler(conn):
            with conn:
                conn.sendall(conn.recv(10))
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler)
        s = mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10)
        client_ctx.close()  # connections keep working
        s.sendall(b"ping")
        assert s.recv(10) == b"ping"
        s.close()
        srv.join()


def test_closed_socket(pki, server_ctx, client_ctx) -> None:
    with server_ctx.listen(HOST, 0) as lst:
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], lambda c: c.close())
        s = mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10)
        s.close()
        s.close()
        assert s.fileno() == -1
        for op in (lambda: s.recv(1), lambda: s.send(b"x"), lambda: s.sendall(b"x"),
                   lambda: s.recv_into(bytearray(1)), s.version, s.cipher, s.getpeercert,
                   lambda: s.settimeout(1), s.do_handshake, s.unwrap, s.pending):
            with pytest.raises(mojo_tls.TLSClosedError):
                op()
        assert "closed" in repr(s)
        srv.join()


def test_socket_wrong_types(pki, server_ctx, client_ctx) -> None:
    with server_ctx.listen(HOST, 0) as lst:
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], lambda c: c.close())
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10) as s:
            with pytest.raises(TypeError):
                s.send("text")  # type: ignore[arg-type]
            with pytest.raises(TypeError):
                s.sendall(12)  # type: ignore[arg-type]
            with pytest.raises(TypeError):
                s.recv("10")  # type: ignore[arg-type]
            with pytest.raises(ValueError):
                s.recv(-1)
            with pytest.raises(TypeError):
                s.recv_into(b"immutable")
            with pytest.raises(ValueError):
                s.settimeout(-1)
            with pytest.raises(TypeError):
                s.settimeout("1")  # type: ignore[arg-type]
            assert s.recv(0) == b""
        srv.join()


def test_connect_bad_arguments(client_ctx) -> None:
    with pytest.raises(TypeError):
        mojo_tls.connect(b"localhost", 443, context=client_ctx)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        mojo_tls.connect("localhost", 70000, context=client_ctx)
    with pytest.raises(TypeError):
        mojo_tls.connect("localhost", "443", context=client_ctx)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        mojo_tls.connect("localhost", 443, context="ctx")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        mojo_tls.connect("localhost", 443, context=mojo_tls.TLSContext(server_side=True))
    with pytest.raises(ValueError):
        mojo_tls.connect("local\0host", 443, context=client_ctx)
    with pytest.raises(mojo_tls.TLSConnectError):
        mojo_tls.connect(HOST, 1, context=client_ctx, timeout=5)  # refused
    with pytest.raises(TypeError):
        mojo_tls.listen(HOST, 0, context=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        mojo_tls.listen(HOST, 0, context=client_ctx)
    with pytest.raises(TypeError):
        client_ctx.wrap_socket("not a socket")  # type: ignore[arg-type]


def test_raw_ffi_with_stale_and_forged_handles() -> None:
    L = mojo_tls._lib()
    cfg = L.mojo_tls_config_new(0)
    assert L.mojo_tls_config_free(cfg) == 0
    assert L.mojo_tls_config_free(cfg) == _ffi.MOJO_TLS_ERR_INVALID_HANDLE
    forged = _ffi.ConnHandle(0x1234)
    assert L.mojo_tls_conn_read(forged, None, 0) in (_ffi.MOJO_TLS_ERR_INVALID_HANDLE,
                                                     _ffi.MOJO_TLS_ERR_INVALID_ARGUMENT)
    assert L.mojo_tls_conn_handshake(forged) == _ffi.MOJO_TLS_ERR_INVALID_HANDLE
    assert L.mojo_tls_conn_free(None) == 0
    with pytest.raises(Exception):  # ctypes refuses a handle of another type
        L.mojo_tls_conn_free(_ffi.ConfigHandle(1))


def test_garbage_collection_frees_everything(pki, server_ctx, client_ctx) -> None:
    # Objects dropped without close() are freed by __del__ without errors.
    with server_ctx.listen(HOST, 0) as lst:
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], lambda c: None, count=5)
        for _ in range(5):
            mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10)
            mojo_tls.TLSContext()
            client_ctx.wrap_memory(server_hostname="localhost")
            mojo_tls.generate_cert(pki.ca, "gc")
        gc.collect()
        srv.join()


def test_peer_resets_during_handshake(client_ctx) -> None:
    ls = socket.socket()
    ls.bind((HOST, 0))
    ls.listen(1)
    with ls:
        def handler(c):
            c.recv(10)
            c.close()  # abort: no TLS at all
        srv = ThreadServer(lambda: ls.accept()[0], handler)
        with pytest.raises(mojo_tls.TLSError):
            mojo_tls.connect("localhost", ls.getsockname()[1], context=client_ctx, timeout=10)
        srv.join()


def test_plain_text_server(client_ctx) -> None:
    ls = socket.socket()
    ls.bind((HOST, 0))
    ls.listen(1)
    with ls:
        def handler(c):
            c.recv(100)
            c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n" * 10)
            c.close()
        srv = ThreadServer(lambda: ls.accept()[0], handler)
        with pytest.raises(mojo_tls.TLSError):
            mojo_tls.connect("localhost", ls.getsockname()[1], context=client_ctx, timeout=10)
        srv.join()
