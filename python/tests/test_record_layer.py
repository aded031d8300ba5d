"""The fast record layer from Python: TLSContext.fast_record_layer, the
record_layer / record_layer_detail properties and key_update() on TLSObject
(memory mode) and TLSSocket."""

import pytest
from conftest import HOST, ThreadServer, memory_handshake, pump

import mojo_tls


def _pair(client_ctx, server_ctx):
    c = client_ctx.wrap_memory(server_hostname="localhost")
    s = mojo_tls.TLSObject(server_ctx)
    memory_handshake(c, s)
    return c, s


def _exchange(a, b, n: int) -> None:
    payload = bytes(range(256)) * (n // 256)
    assert a.write(payload) == len(payload)
    pump(a, b)
    got = b""
    while len(got) < len(payload):
        got += b.read(1 << 20)
    assert got == payload


def test_default_is_fast(client_ctx, server_ctx) -> None:
    assert client_ctx.fast_record_layer is True
    c = client_ctx.wrap_memory(server_hostname="localhost")
    assert c.record_layer is None and c.record_layer_detail is None  # before the handshake
    c.close()
    c, s = _pair(client_ctx, server_ctx)
    with c, s:
        assert c.record_layer == s.record_layer == "mojo-tls (ring)"
        assert "memory mode" in c.record_layer_detail
        _exchange(c, s, 100_000)
        _exchange(s, c, 100_000)


def test_switch_off(client_ctx, server_ctx) -> None:
    server_ctx.fast_record_layer = False
    with pytest.raises(TypeError):
        server_ctx.fast_record_layer = 1
    c, s = _pair(client_ctx, server_ctx)
    with c, s:
        assert s.record_layer == "Mbed TLS" and "switched off" in s.record_layer_detail
        assert c.record_layer == "mojo-tls (ring)"
        _exchange(c, s, 50_000)
        _exchange(s, c, 50_000)
        with pytest.raises(mojo_tls.TLSNotAvailableError):
            s.key_update()


def test_key_update(client_ctx, server_ctx) -> None:
    c, s = _pair(client_ctx, server_ctx)
    with c, s:
        if c.version() != "TLSv1.3":
            with pytest.raises(mojo_tls.TLSNotAvailableError):
                c.key_update()
            return
        for i in range(6):
            a, b = (c, s) if i % 2 == 0 else (s, c)
            a.key_update(request_peer=bool(i & 2))
            _exchange(a, b, 20_000)
            _exchange(b, a, 20_000)


def test_socket_reports_ring_and_kernel_tls(server_ctx, client_ctx) -> None:
    lst = server_ctx.listen(HOST, 0)
    seen = {}

    def handler(conn):
        with conn:
            conn.settimeout(10)
            seen["server"] = conn.record_layer
            data = conn.recv(65536)
            conn.sendall(data)

    srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler)
    try:
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10) as s:
            assert s.record_layer in ("mojo-tls (ring)", "kernel TLS")
            assert "kernel TLS" in s.record_layer_detail
            s.sendall(b"ping")
            assert s.recv(100) == b"ping"
        srv.join()
    finally:
        lst.close()
    assert seen["server"] in ("mojo-tls (ring)", "kernel TLS")
