"""mojo_tls.aio DTLS: create_dtls_connection / create_dtls_server on
127.0.0.1 (many concurrent peers on one server socket, a lossy relay,
verification failures, timeouts, the bounded and swept peer table)."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any, List, Optional

import pytest
from dtls_peers import HOST, LossyRelay, check_datagram, datagram

import mojo_tls
from mojo_tls import aio


class Echo(asyncio.DatagramProtocol):
    """Server side: echoes, and records what it saw."""

    instances: List["Echo"] = []

    def __init__(self) -> None:
        self.seqs: List[int] = []
        self.lost: Optional[BaseException] = None
        self.lost_called = False
        Echo.instances.append(self)

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.seqs.append(check_datagram(data))
        self.transport.sendto(data)

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.lost_called = True
        self.lost = exc


class Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: "asyncio.Queue[bytes]" = asyncio.Queue()
        self.lost: "asyncio.Future[Optional[BaseException]]" = asyncio.get_running_loop().create_future()
        self.made = False

    def connection_made(self, transport: Any) -> None:
        self.made = True

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.got.put_nowait(data)

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        if not self.lost.done():
            self.lost.set_result(exc)


@pytest.fixture(autouse=True)
def _fresh_instances() -> None:
    Echo.instances = []


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 50))


def test_many_concurrent_peers(dtls_server_ctx, dtls_client_ctx) -> None:
    n_peers, per_peer = 20, 25

    async def peer(port: int, i: int) -> List[int]:
        t, p = await aio.create_dtls_connection(Client, dtls_client_ctx, remote_addr=(HOST, port),
                                                server_hostname="localhost")
        assert p.made and t.get_extra_info("version") == "DTLSv1.2"
        assert t.get_extra_info("peername")[1] == port
        seqs = []
        for k in range(per_peer):
            d = datagram(i * 1000 + k, 60 + (i * 37 + k * 101) % 1200)
            t.sendto(d)
            back = await asyncio.wait_for(p.got.get(), 10)
            assert back == d
            seqs.append(check_datagram(back))
        t.close()
        assert await asyncio.wait_for(p.lost, 5) is None
        return seqs

    async def main() -> None:
        server = await aio.create_dtls_server(Echo, dtls_server_ctx, local_addr=(HOST, 0))
        port = server.address[1]
        assert len(server.sockets) == 1
        # one socket for every peer: room for the handshake burst (UDP data
        # lost in a full receive buffer is not resent by DTLS)
        server.sockets[0].setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        results = await asyncio.gather(*(peer(port, i) for i in range(n_peers)))
        for i, seqs in enumerate(results):
            assert seqs == [i * 1000 + k for k in range(per_peer)]
        deadline = time.monotonic() + 5
        while server.peer_count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert server.peer_count == 0  # every close_notify ended its session
        assert server.stats["admitted"] == n_peers
        assert server.stats["stateless_replies"] >= n_peers  # one cookie exchange each
        server.close()
        await server.wait_closed()

    run(main())
    assert len(Echo.instances) == n_peers  # one protocol per peer
    for i, e in enumerate(Echo.instances):
        assert e.lost_called and e.lost is None
        assert len(e.seqs) == per_peer and len(set(e.seqs)) == per_peer


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lossy_path(dtls_server_ctx, dtls_client_ctx, seed) -> None:
    """Through a relay dropping 20 %, duplicating 15 % and delaying 25 % of
    the datagrams each way: the handshake completes by retransmission,
    datagrams that arrive are intact and never arrive twice; then, with a
    clean path, all of them arrive."""

    async def main() -> None:
        server = await aio.create_dtls_server(Echo, dtls_server_ctx, local_addr=(HOST, 0))
        relay = LossyRelay(server.address, seed)
        port = await relay.start()
        t, p = await aio.create_dtls_connection(Client, dtls_client_ctx, remote_addr=(HOST, port),
                                                server_hostname="localhost", handshake_timeout=30)
        for k in range(200):
            t.sendto(datagram(k, 100 + k % 500))
            if k % 10 == 0:
                await asyncio.sleep(0.005)
        await asyncio.sleep(0.3)
        got = []
        while not p.got.empty():
            got.append(check_datagram(p.got.get_nowait()))
        assert len(got) == len(set(got)), "a datagram was delivered twice"
        assert 0 < len(got) < 200
        server_seqs = Echo.instances[0].seqs
        assert len(server_seqs) == len(set(server_seqs))
        assert relay.stats["dropped"] and relay.stats["duplicated"] and relay.stats["delayed"]
        relay.lossy = False
        for k in range(1000, 1050):
            t.sendto(datagram(k, 300))
        clean = []
        for _ in range(50):
            clean.append(check_datagram(await asyncio.wait_for(p.got.get(), 5)))
        assert sorted(clean) == list(range(1000, 1050))
        t.close()
        relay.close()
        server.close()
        await server.wait_closed()

    run(main())


def test_verification_failure(dtls_server_ctx) -> None:
    ctx = mojo_tls.DTLSContext()
    ctx.load_verify_locations(cadata=mojo_tls.generate_ca("another CA").cert_pem)
    ctx.set_handshake_timeout(0.1, 4)

    async def main() -> None:
        server = await aio.create_dtls_server(Echo, dtls_server_ctx, local_addr=(HOST, 0))
        with pytest.raises(mojo_tls.CertificateVerifyError):
            await aio.create_dtls_connection(Client, ctx, remote_addr=server.address,
                                             server_hostname="localhost")
        with pytest.raises(ValueError, match="server_hostname"):
            await aio.create_dtls_connection(Client, ctx, remote_addr=server.address,
                                             server_hostname="")
        server.close()
        await server.wait_closed()

    run(main())
    assert Echo.instances == []  # no session was established
    ctx.close()


def test_wrong_host_name(dtls_server_ctx, dtls_client_ctx) -> None:
    async def main() -> None:
        server = await aio.create_dtls_server(Echo, dtls_server_ctx, local_addr=(HOST, 0))
        with pytest.raises(mojo_tls.CertificateVerifyError) as info:
            await aio.create_dtls_connection(Client, dtls_client_ctx, remote_addr=server.address,
                                             server_hostname="wrong.example")
        assert info.value.verify_code == 62
        server.close()
        await server.wait_closed()

    run(main())


def test_handshake_timeout_and_refused(dtls_client_ctx) -> None:
    async def main() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
            silent.bind((HOST, 0))
            t0 = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                await aio.create_dtls_connection(Client, dtls_client_ctx,
                                                 remote_addr=silent.getsockname(),
                                                 server_hostname="localhost",
                                                 handshake_timeout=0.5)
            assert time.monotonic() - t0 < 3
            port = silent.getsockname()[1]
        # nobody on the port now: ICMP port unreachable ends it at once
        t0 = time.monotonic()
        with pytest.raises(ConnectionRefusedError):
            await aio.create_dtls_connection(Client, dtls_client_ctx, remote_addr=(HOST, port),
                                             server_hostname="localhost", handshake_timeout=5)
        assert time.monotonic() - t0 < 3

    run(main())


def test_peer_table_bounded_and_idle_peers_dropped(dtls_server_ctx, dtls_client_ctx) -> None:
    async def main() -> None:
        server = await aio.create_dtls_server(Echo, dtls_server_ctx, local_addr=(HOST, 0),
                                              max_peers=2, idle_timeout=1.0)
        first = [await aio.create_dtls_connection(Client, dtls_client_ctx,
                                                  remote_addr=server.address,
                                                  server_hostname="localhost")
                 for _ in range(2)]
        assert server.peer_count == 2
        with pytest.raises(asyncio.TimeoutError):  # the table is full
            await aio.create_dtls_connection(Client, dtls_client_ctx, remote_addr=server.address,
                                             server_hostname="localhost", handshake_timeout=0.5)
        assert server.stats["refused"] >= 1
        # silent peers are dropped after idle_timeout
        deadline = time.monotonic() + 5
        while server.peer_count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert server.peer_count == 0
        assert all(isinstance(e.lost, mojo_tls.TLSTimeoutError) for e in Echo.instances)
        # and room is made for new ones
        t, p = await aio.create_dtls_connection(Client, dtls_client_ctx,
                                                remote_addr=server.address,
                                                server_hostname="localhost")
        t.sendto(datagram(7, 100))
        assert check_datagram(await asyncio.wait_for(p.got.get(), 5)) == 7
        for tr, _ in first:
            tr.abort()
        t.close()
        server.close()
        await server.wait_closed()

    run(main())


def test_server_socket_gets_a_wider_receive_buffer(dtls_server_ctx) -> None:
    # Every client shares the server's socket: bursts of handshakes overflow
    # the kernel's default receive buffer, so the server asks for more.
    plain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    default = plain.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    plain.close()

    async def main() -> None:
        server = await aio.create_dtls_server(Echo, dtls_server_ctx, local_addr=(HOST, 0))
        try:
            got = server.sockets[0].getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            assert got > default, (got, default)
        finally:
            server.close()
            await server.wait_closed()

    run(main())


def test_server_close_notifies_clients(dtls_server_ctx, dtls_client_ctx) -> None:
    async def main() -> None:
        server = await aio.create_dtls_server(Echo, dtls_server_ctx, local_addr=(HOST, 0))
        conns = [await aio.create_dtls_connection(Client, dtls_client_ctx,
                                                  remote_addr=server.address,
                                                  server_hostname="localhost")
                 for _ in range(3)]
        assert len(server.transports()) == 3
        server.close()
        await server.wait_closed()
        for t, p in conns:
            assert await asyncio.wait_for(p.lost, 5) is None  # close_notify seen
            assert t.is_closing()
            t.sendto(b"dropped after close")  # no exception, as asyncio's transports

    run(main())


def test_user_callback_errors_are_reported(dtls_server_ctx, dtls_client_ctx) -> None:
    class Failing(Echo):
        def datagram_received(self, data: bytes, addr: Any) -> None:
            raise RuntimeError("boom")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        reported: List[Any] = []
        loop.set_exception_handler(lambda _loop, ctx: reported.append(ctx))
        server = await aio.create_dtls_server(Failing, dtls_server_ctx, local_addr=(HOST, 0))
        t, p = await aio.create_dtls_connection(Client, dtls_client_ctx,
                                                remote_addr=server.address,
                                                server_hostname="localhost")
        t.sendto(b"one")
        t.sendto(b"two")
        deadline = time.monotonic() + 5
        while len(reported) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert [type(r["exception"]) for r in reported] == [RuntimeError, RuntimeError]
        assert server.peer_count == 1  # the session goes on
        t.close()
        server.close()
        await server.wait_closed()

    run(main())


def test_oversized_sendto(dtls_server_ctx, dtls_client_ctx) -> None:
    async def main() -> None:
        server = await aio.create_dtls_server(Echo, dtls_server_ctx, local_addr=(HOST, 0))
        t, p = await aio.create_dtls_connection(Client, dtls_client_ctx,
                                                remote_addr=server.address,
                                                server_hostname="localhost")
        with pytest.raises(mojo_tls.TLSInvalidArgumentError):
            t.sendto(b"x" * 20000)
        with pytest.raises(ValueError, match="address"):
            t.sendto(b"x", ("127.0.0.2", 9))
        with pytest.raises(TypeError):
            t.sendto("text")
        d = datagram(1, 1000)
        t.sendto(d)
        assert await asyncio.wait_for(p.got.get(), 5) == d
        t.close()
        server.close()
        await server.wait_closed()

    run(main())


async def memory_client_handshake(d: mojo_tls.DTLSObject, sock: socket.socket) -> List[bytes]:
    """Drive a memory-mode client over a plain UDP socket; returns every
    datagram it sent."""
    loop = asyncio.get_running_loop()
    sent: List[bytes] = []
    for _ in range(100):
        try:
            d.do_handshake()
            done = True
        except mojo_tls.TLSWantReadError:
            done = False
        for x in d.drain_datagrams():
            sent.append(x)
            await loop.sock_sendall(sock, x)
        if done:
            return sent
        t = d.next_timeout()
        try:
            data = await asyncio.wait_for(loop.sock_recv(sock, 65536), 5 if t is None else t)
        except asyncio.TimeoutError:
            continue
        d.feed_datagram(data)
    raise AssertionError("handshake did not complete")


async def echo_once(d: mojo_tls.DTLSObject, sock: socket.socket, seq: int) -> int:
    loop = asyncio.get_running_loop()
    d.write(datagram(seq, 120))
    for x in d.drain_datagrams():
        await loop.sock_sendall(sock, x)
    d.feed_datagram(await asyncio.wait_for(loop.sock_recv(sock, 65536), 5))
    return check_datagram(d.read())


def test_stale_hello_copy_keeps_session_and_new_hello_replaces_it(dtls_server_ctx,
                                                                  dtls_client_ctx) -> None:
    """A delayed copy of a client's (cookie'd) ClientHello arriving after the
    handshake must not end the session (Mbed TLS would take it for a
    reconnect); a new handshake from the same address and port replaces
    the session."""

    async def main() -> None:
        server = await aio.create_dtls_server(Echo, dtls_server_ctx, local_addr=(HOST, 0))
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((HOST, 0))
        sock.connect(server.address)
        sock.setblocking(False)
        d1 = dtls_client_ctx.wrap_memory(server_hostname="localhost")
        sent = await memory_client_handshake(d1, sock)
        hellos = [x for x in sent if x[0] == 22 and x[13] == 1]
        assert len(hellos) == 2  # without, then with the cookie
        assert await echo_once(d1, sock, 1) == 1
        sock.send(hellos[1])  # the stale copy
        await asyncio.sleep(0.05)
        assert await echo_once(d1, sock, 2) == 2  # the session goes on
        assert server.peer_count == 1 and server.stats["admitted"] == 1
        # the client restarts on the same port: a new session replaces the old
        d2 = dtls_client_ctx.wrap_memory(server_hostname="localhost")
        await memory_client_handshake(d2, sock)
        assert await echo_once(d2, sock, 3) == 3
        assert server.peer_count == 1 and server.stats["admitted"] == 2
        await asyncio.sleep(0.01)
        assert isinstance(Echo.instances[0].lost, ConnectionResetError)
        assert Echo.instances[1].seqs == [3]
        d1.close()
        d2.close()
        sock.close()
        server.close()
        await server.wait_closed()

    run(main())
