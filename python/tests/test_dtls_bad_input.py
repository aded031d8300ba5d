"""DTLS bad input: wrong types and values, closed objects, contexts of the
wrong kind. Every case gets a clear exception in Python's idiom; nothing
crashes."""

from __future__ import annotations

import asyncio
import socket

import pytest
from dtls_peers import HOST

import mojo_tls
from mojo_tls import aio


def test_context_arguments() -> None:
    with pytest.raises(ValueError, match="PROTOCOL"):
        mojo_tls.DTLSContext(16)
    ctx = mojo_tls.DTLSContext()
    assert ctx.check_hostname and ctx.verify_mode == mojo_tls.CERT_REQUIRED  # secure defaults
    assert ctx.maximum_version == mojo_tls.TLSVersion.TLSv1_2
    with pytest.raises(mojo_tls.TLSUnsupportedError, match="DTLS 1.3"):
        ctx.minimum_version = mojo_tls.TLSVersion.TLSv1_3
    with pytest.raises(TypeError):
        ctx.set_handshake_timeout("1", 2)
    with pytest.raises(ValueError):
        ctx.set_handshake_timeout(0, 2)
    with pytest.raises(ValueError, match="exceed"):
        ctx.set_handshake_timeout(5, 1)
    ctx.set_handshake_timeout(0.25, 3)
    assert ctx.handshake_timeout == (0.25, 3.0)
    for bad in (63, 65536, -1):
        with pytest.raises(ValueError, match="mtu"):
            ctx.mtu = bad
    with pytest.raises(TypeError):
        ctx.mtu = "1200"
    ctx.mtu = 1200
    assert ctx.mtu == 1200
    with pytest.raises(NotImplementedError, match="MemoryBIO"):
        ctx.wrap_bio(None, None)  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError):
        ctx.as_ssl_context()
    with pytest.raises(AttributeError):
        ctx.not_a_setting = 1
    ctx.close()
    with pytest.raises(mojo_tls.TLSClosedError):
        ctx.set_handshake_timeout(1, 2)


def test_tls_entry_points_refuse_a_dtls_context(pki) -> None:
    client = mojo_tls.DTLSContext()
    server = mojo_tls.DTLSContext(server_side=True)
    with pytest.raises(ValueError, match="DTLSContext"):
        mojo_tls.connect("127.0.0.1", 1, context=client)
    with pytest.raises(ValueError, match="DTLSContext"):
        mojo_tls.listen(context=server)
    with pytest.raises(ValueError, match="DTLSContext"):
        mojo_tls.TLSObject(client)
    with socket.socket() as s, pytest.raises(ValueError, match="DTLSContext"):
        mojo_tls.TLSContext.wrap_socket(client, s)

    async def main() -> None:
        with pytest.raises(ValueError, match="DTLSContext"):
            await aio.open_connection("127.0.0.1", 1, context=client)
        with pytest.raises(ValueError, match="DTLSContext"):
            await aio.start_server(lambda r, w: None, context=server)
        tls = mojo_tls.TLSContext()
        with pytest.raises(TypeError, match="DTLSContext"):
            await aio.create_dtls_connection(asyncio.DatagramProtocol, tls,  # type: ignore[arg-type]
                                             remote_addr=("127.0.0.1", 1))
        with pytest.raises(ValueError, match="client context"):
            await aio.create_dtls_connection(asyncio.DatagramProtocol, server,
                                             remote_addr=("127.0.0.1", 1))
        with pytest.raises(ValueError, match="server context"):
            await aio.create_dtls_server(asyncio.DatagramProtocol, client)
        with pytest.raises(TypeError, match="remote_addr"):
            await aio.create_dtls_connection(asyncio.DatagramProtocol, client,
                                             remote_addr="127.0.0.1:1")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="max_peers"):
            await aio.create_dtls_server(asyncio.DatagramProtocol, server, max_peers=0)
        with pytest.raises(ValueError, match="idle_timeout"):
            await aio.create_dtls_server(asyncio.DatagramProtocol, server, idle_timeout=-1)
        with pytest.raises(TypeError, match="callable"):
            await aio.create_dtls_server(None, server)  # type: ignore[arg-type]

    asyncio.run(main())
    with pytest.raises(TypeError, match="DTLSContext"):
        mojo_tls.DTLSObject(mojo_tls.TLSContext())  # type: ignore[arg-type]
    client.close()
    server.close()


def test_connect_and_listen_arguments(dtls_client_ctx, dtls_server_ctx) -> None:
    with pytest.raises(TypeError, match="port"):
        dtls_client_ctx.connect(HOST, "443")
    with pytest.raises(ValueError, match="port"):
        dtls_client_ctx.connect(HOST, 70000)
    with pytest.raises(TypeError, match="host"):
        dtls_client_ctx.connect(b"127.0.0.1", 1)
    with pytest.raises(ValueError, match="non-negative"):
        dtls_client_ctx.connect(HOST, 1, timeout=-1)
    with pytest.raises(ValueError, match="client context"):
        dtls_server_ctx.connect(HOST, 1)
    with pytest.raises(ValueError, match="server context"):
        dtls_client_ctx.listen()
    with pytest.raises(ValueError, match="check_hostname requires server_hostname"):
        dtls_client_ctx.wrap_memory()
    with pytest.raises(ValueError, match="peer"):
        dtls_client_ctx.wrap_memory(server_hostname="x", peer=("127.0.0.1", 1))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        with pytest.raises(ValueError, match="UDP"):
            dtls_client_ctx.wrap_socket(tcp, server_hostname="localhost")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(OSError, match="connected UDP socket"):
            dtls_client_ctx.wrap_socket(udp, server_hostname="localhost")
        assert udp.fileno() >= 0  # refused before it was taken over
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind((HOST, 0))  # without SO_REUSEPORT: the listener cannot share the port
        with pytest.raises(OSError) as info:
            dtls_server_ctx.listen(HOST, busy.getsockname()[1])
        assert info.value.errno is not None or isinstance(info.value, mojo_tls.TLSConnectError)


def test_memory_object_bad_input(dtls_server_ctx, dtls_client_ctx) -> None:
    c = dtls_client_ctx.wrap_memory(server_hostname="localhost")
    with pytest.raises(TypeError, match="str"):
        c.feed_datagram("text")
    with pytest.raises(TypeError):
        c.feed_datagram(12)
    with pytest.raises(ValueError, match="empty"):
        c.feed_datagram(b"")
    for bad in (0, -5):
        with pytest.raises(ValueError, match="positive"):
            c.read(bad)
    with pytest.raises(TypeError):
        c.read("16")
    with pytest.raises(ValueError, match="empty"):
        c.write(b"")
    with pytest.raises(mojo_tls.TLSBadStateError):
        c.set_peer_id(b"\x01")  # a client has no peer id
    c.feed_datagram(b"\x16garbage that is no record")  # dropped by DTLS, no crash
    with pytest.raises(mojo_tls.TLSWantReadError):
        c.do_handshake()
    s = dtls_server_ctx.wrap_memory()
    for bad, exc in ((("127.0.0.1",), TypeError), (("host", 1), ValueError),
                     (("127.0.0.1", 70000), ValueError), (b"", ValueError), (3, TypeError)):
        with pytest.raises(exc):
            s.set_peer_id(bad)
    c.close()
    c.close()  # idempotent
    s.close()
    for call in (lambda: c.feed_datagram(b"x"), c.drain_datagrams, c.do_handshake, c.read,
                 lambda: c.write(b"x"), c.next_timeout, lambda: c.set_mtu(500), c.unwrap):
        with pytest.raises(mojo_tls.TLSClosedError):
            call()


def test_closed_socket_and_listener(dtls_server_ctx, dtls_client_ctx) -> None:
    import threading

    with dtls_server_ctx.listen(HOST, 0) as lst:
        got = []
        t = threading.Thread(target=lambda: got.append(lst.accept(timeout=10)[0]), daemon=True)
        t.start()
        s = dtls_client_ctx.connect(HOST, lst.port, timeout=10, server_hostname="localhost")
        t.join(10)
        for bad in (0, -1):
            with pytest.raises(ValueError, match="positive"):
                s.recv(bad)
        with pytest.raises(TypeError):
            s.recv(1.5)
        with pytest.raises(TypeError, match="writable"):
            s.recv_into(b"read-only")
        with pytest.raises(TypeError, match="str"):
            s.send("text")
        with pytest.raises(ValueError, match="flags"):
            s.send(b"x", 1)
        with pytest.raises(ValueError, match="peer"):
            s.sendto(b"x", ("127.0.0.2", 9))
        with pytest.raises(TypeError):
            s.settimeout("5")
        with pytest.raises(TypeError):
            mojo_tls.DTLSSocket()
        s.close()
        s.close()  # idempotent
        assert s.fileno() == -1 and s.closed and "closed" in repr(s)
        for call in (s.recv, lambda: s.send(b"x"), s.do_handshake, s.getpeername, s.pending,
                     s.next_timeout):
            with pytest.raises(mojo_tls.TLSClosedError):
                call()
        got[0].close()
    lst.close()  # idempotent after the with block
    assert lst.fileno() == -1 and lst.closed
    for call in (lambda: lst.accept(0), lambda: lst.port, lambda: lst.peer_count, lst.getsockname):
        with pytest.raises(mojo_tls.TLSClosedError):
            call()
    with pytest.raises(TypeError):
        lst.settimeout("1")
