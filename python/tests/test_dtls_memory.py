"""DTLSObject (memory mode): two objects in one process, the test being the
network: the stateless cookie exchange, retransmission by next_timeout(),
record boundaries, anti-replay, close_notify."""

from __future__ import annotations

import time
from typing import List

import pytest
from dtls_peers import check_datagram, datagram

import mojo_tls

PEER = ("127.0.0.1", 40000)


def step(x: mojo_tls.DTLSObject) -> None:
    if not x.handshake_done:
        try:
            x.do_handshake()
        except mojo_tls.TLSWantReadError:
            pass


def move(a: mojo_tls.DTLSObject, b: mojo_tls.DTLSObject) -> int:
    out = a.drain_datagrams()
    for d in out:
        b.feed_datagram(d)
    return len(out)


def handshake(c: mojo_tls.DTLSObject, s: mojo_tls.DTLSObject) -> None:
    for _ in range(20):
        step(c)
        move(c, s)
        step(s)
        move(s, c)
        if c.handshake_done and s.handshake_done:
            return
    raise AssertionError("handshake did not complete")


@pytest.fixture
def pair(dtls_server_ctx, dtls_client_ctx):
    c = dtls_client_ctx.wrap_memory(server_hostname="localhost")
    s = dtls_server_ctx.wrap_memory(peer=PEER)
    yield c, s
    c.close()
    s.close()


def test_cookie_exchange_is_stateless(pair) -> None:
    c, s = pair
    with pytest.raises(mojo_tls.TLSWantReadError):
        c.do_handshake()
    hello = c.drain_datagrams()
    assert len(hello) == 1 and hello[0][0] == 22  # one handshake record
    assert c.next_timeout() is not None  # the client's timer runs
    s.feed_datagram(hello[0])
    with pytest.raises(mojo_tls.TLSWantReadError):
        s.do_handshake()
    hvr = s.drain_datagrams()
    assert len(hvr) == 1 and hvr[0][13] == 3  # HelloVerifyRequest
    assert s.next_timeout() is None  # no state, no timer for a cookie-less hello
    c.feed_datagram(hvr[0])
    handshake(c, s)
    assert c.version() == s.version() == "DTLSv1.2"
    assert c.cipher()[0] == s.cipher()[0]
    assert c.getpeercert()["subject"] == ((("commonName", "localhost"),),)


def test_server_needs_the_peer_id(dtls_server_ctx, dtls_client_ctx) -> None:
    c = dtls_client_ctx.wrap_memory(server_hostname="localhost")
    s = dtls_server_ctx.wrap_memory()
    step(c)
    move(c, s)
    with pytest.raises(mojo_tls.TLSBadStateError, match="peer"):
        s.do_handshake()
    s.set_peer_id(b"\x7f\x00\x00\x01\x9c\x40")
    handshake(c, s)
    c.close()
    s.close()


def test_datagrams_whole_and_never_twice(pair) -> None:
    c, s = pair
    handshake(c, s)
    sent = [datagram(i, 50 + i * 31 % 1200) for i in range(40)]
    for d in sent:
        assert c.write(d) == len(d)
    wire = c.drain_datagrams()
    assert len(wire) == 40  # one write = one datagram
    for d in wire + wire[::3]:  # every third one replayed
        s.feed_datagram(d)
    got: List[bytes] = []
    while True:
        try:
            got.append(s.read())
        except mojo_tls.TLSWantReadError:
            break
    assert got == sent
    assert [check_datagram(d) for d in got] == list(range(40))


def test_small_read_keeps_datagram_and_large_write_refused(pair) -> None:
    c, s = pair
    handshake(c, s)
    c.write(b"z" * 700)
    move(c, s)
    with pytest.raises(mojo_tls.DTLSBufferTooSmallError) as info:
        s.read(699)
    assert info.value.size == 700
    assert s.read(700) == b"z" * 700
    with pytest.raises(mojo_tls.TLSInvalidArgumentError):
        c.write(b"q" * 17000)
    c.set_mtu(256)
    with pytest.raises(mojo_tls.TLSInvalidArgumentError):
        c.write(b"q" * 400)
    assert c.drain_datagrams() == []  # nothing sent for refused writes
    c.write(b"ok")
    move(c, s)
    assert s.read() == b"ok"


def test_retransmission_by_timer(pair) -> None:
    c, s = pair
    step(c)
    c.drain_datagrams()  # the hello is lost
    t1 = c.next_timeout()
    assert t1 is not None and 0 < t1 <= 0.1
    time.sleep(t1 + 0.01)
    assert c.next_timeout() == 0.0
    step(c)  # resends
    again = c.drain_datagrams()
    assert len(again) == 1 and again[0][0] == 22
    t2 = c.next_timeout()
    assert t2 is not None and t2 > t1  # the delay doubles
    for d in again:
        s.feed_datagram(d)
    handshake(c, s)


def test_close_notify(pair) -> None:
    c, s = pair
    handshake(c, s)
    c.write(b"last")
    c.unwrap()
    move(c, s)
    assert s.read() == b"last"
    assert s.read() == b""


def test_mtu_fragments_the_handshake(dtls_server_ctx, dtls_client_ctx) -> None:
    dtls_server_ctx.mtu = 200
    dtls_client_ctx.mtu = 200
    c = dtls_client_ctx.wrap_memory(server_hostname="localhost")
    s = dtls_server_ctx.wrap_memory(peer=PEER)
    sizes: List[int] = []
    for _ in range(20):
        for a, b in ((c, s), (s, c)):
            step(a)
            for d in a.drain_datagrams():
                sizes.append(len(d))
                b.feed_datagram(d)
        if c.handshake_done and s.handshake_done:
            break
    assert c.handshake_done and s.handshake_done
    assert max(sizes) <= 200 and c.mtu == 200
    c.close()
    s.close()
