"""TLSObject (memory mode): two objects talking through Python bytes."""

import pytest
from conftest import memory_handshake

import mojo_tls


@pytest.fixture
def pair(server_ctx, client_ctx):
    c = client_ctx.wrap_memory(server_hostname="localhost")
    s = mojo_tls.TLSObject(server_ctx)
    yield c, s
    c.close()
    s.close()


def test_handshake_and_data(pair) -> None:
    c, s = pair
    with pytest.raises(mojo_tls.TLSWantReadError):
        c.do_handshake()
    assert c.pending_output > 0
    memory_handshake(c, s)
    assert c.version() == s.version() == "TLSv1.3"
    assert c.cipher()[0] == s.cipher()[0]
    assert c.getpeercert()["subject"] == ((("commonName", "localhost"),),)
    assert s.getpeercert() is None  # no client certificate
    payload = bytes(range(256)) * 400  # > several records
    assert c.write(payload) == len(payload)
    s.feed(c.drain())
    got = b""
    while len(got) < len(payload):
        got += s.read(65536)
    assert got == payload
    with pytest.raises(mojo_tls.TLSWantReadError):
        s.read()
    buf = bytearray(10)
    s.write(b"0123456789")
    c.feed(s.drain())
    assert c.read(10, buf) == 10 and bytes(buf) == b"0123456789"


def test_clean_close_and_truncation(pair, server_ctx, client_ctx) -> None:
    c, s = pair
    memory_handshake(c, s)
    c.unwrap()
    s.feed(c.drain())
    assert s.read() == b""  # close_notify: clean EOF
    # truncation: transport EOF without close_notify
    c2 = client_ctx.wrap_memory(server_hostname="localhost")
    s2 = server_ctx.wrap_memory()
    memory_handshake(c2, s2)
    s2.feed_eof()
    with pytest.raises(mojo_tls.TLSTruncatedError):
        s2.read()
    c2.close()
    s2.close()


def test_verify_failure_in_memory(server_ctx) -> None:
    ctx = mojo_tls.TLSContext()  # trusts the system store, not our CA
    c = ctx.wrap_memory(server_hostname="localhost")
    s = server_ctx.wrap_memory()
    with pytest.raises(mojo_tls.CertificateVerifyError) as ei:
        memory_handshake(c, s)
    assert ei.value.verify_flags
    assert ei.value.verify_reason
    c.close()
    s.close()


def test_garbage_input(pair) -> None:
    c, s = pair
    s.feed(b"\x16\x03\x01\x00\x05hello-garbage" * 10)
    with pytest.raises(mojo_tls.TLSError):
        s.do_handshake()


def test_closed_object(pair) -> None:
    c, s = pair
    c.close()
    c.close()
    for op in (lambda: c.feed(b"x"), c.drain, c.do_handshake, c.read, lambda: c.write(b"x"),
               c.version, c.getpeercert, c.unwrap):
        with pytest.raises(mojo_tls.TLSClosedError):
            op()
    assert c.closed and "closed" in repr(c)
