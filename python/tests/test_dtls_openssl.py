"""DTLS against a real peer: our DTLSSocket and asyncio client against
`openssl s_server -dtls1_2`, and `openssl s_client -dtls1_2` against our
DTLSListener, with and without a client certificate."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time

import pytest
from dtls_peers import HOST, free_udp_port, needs_openssl, s_client, s_server

import mojo_tls
from mojo_tls import aio

pytestmark = needs_openssl


def connect_retrying(ctx: mojo_tls.DTLSContext, port: int) -> mojo_tls.DTLSSocket:
    """s_server needs a moment to bind: retry while nothing answers."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return ctx.connect(HOST, port, timeout=2, server_hostname="localhost")
        except (mojo_tls.TLSConnectError, mojo_tls.TLSTimeoutError, mojo_tls.TLSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("mtls", [False, True], ids=["plain", "mtls"])
def test_client_against_s_server(pki, dtls_client_ctx, tmp_path, mtls) -> None:
    if mtls:
        dtls_client_ctx.load_cert_chain(pki.client_cert, pki.client_key)
    port = free_udp_port()
    with s_server(pki, port, tmp_path / "out", mtls=mtls) as srv:
        with connect_retrying(dtls_client_ctx, port) as s:
            assert s.version() == "DTLSv1.2"
            sent = b""
            for i in range(40):
                d = hashlib.sha256(str(i).encode()).hexdigest().encode() * (1 + i % 20)
                assert s.send(d) == len(d)
                sent += d
                time.sleep(0.002)  # loopback does not lose, but do not flood s_server
            line = b"hello from openssl s_server\n"
            srv.send_line(line)
            s.settimeout(5)
            assert s.recv() == line  # one line, one datagram
            got = srv.wait_output(len(sent))
            assert len(got) == len(sent)
            assert hashlib.sha256(got).digest() == hashlib.sha256(sent).digest()


@pytest.mark.parametrize("mtls", [False, True], ids=["plain", "mtls"])
def test_s_client_against_listener(pki, dtls_server_ctx, tmp_path, mtls) -> None:
    if mtls:
        dtls_server_ctx.verify_mode = mojo_tls.CERT_REQUIRED
        dtls_server_ctx.load_verify_locations(pki.ca_file)
    with dtls_server_ctx.listen(HOST, 0) as lst:
        peers = []
        done = threading.Event()
        stop = threading.Event()  # s_client is killed: no close_notify ends the loop

        def serve() -> None:
            try:
                conn, _ = lst.accept(timeout=15)
            except mojo_tls.TLSError as exc:
                peers.append(exc)
                done.set()
                return
            peers.append(conn.getpeercert())
            done.set()
            conn.settimeout(0.2)
            with conn:
                deadline = time.monotonic() + 15
                while not stop.is_set() and time.monotonic() < deadline:
                    try:
                        d = conn.recv()
                    except mojo_tls.TLSTimeoutError:
                        continue
                    if not d:
                        break
                    conn.send(d)

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        with s_client(pki, lst.port, tmp_path / "out", mtls=mtls) as cl:
            assert done.wait(15)
            assert not isinstance(peers[0], Exception), peers[0]
            assert (peers[0] is not None) == mtls
            sent = b""
            for i in range(30):
                line = f"{i:03d} ".encode() + hashlib.sha256(bytes([i])).hexdigest().encode() * (i % 5) + b"\n"
                cl.send_line(line)
                sent += line
                time.sleep(0.01)
            got = cl.wait_output(len(sent))
            assert got == sent  # echoed byte for byte
        stop.set()
        t.join(5)
        assert not t.is_alive()


def test_asyncio_client_against_s_server(pki, dtls_client_ctx, tmp_path) -> None:
    port = free_udp_port()

    class Client(asyncio.DatagramProtocol):
        def __init__(self) -> None:
            self.got: "asyncio.Queue[bytes]" = asyncio.Queue()

        def datagram_received(self, data: bytes, addr: object) -> None:
            self.got.put_nowait(data)

    async def main(srv) -> bytes:
        deadline = time.monotonic() + 10
        while True:
            try:
                t, p = await aio.create_dtls_connection(
                    Client, dtls_client_ctx, remote_addr=(HOST, port), server_hostname="localhost",
                    handshake_timeout=3)
                break
            except (ConnectionRefusedError, asyncio.TimeoutError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        assert t.get_extra_info("version") == "DTLSv1.2"
        assert t.get_extra_info("peercert")["subject"] == ((("commonName", "localhost"),),)
        sent = b""
        for i in range(30):
            d = f"datagram {i} ".encode() * (1 + i)
            t.sendto(d)
            sent += d
            await asyncio.sleep(0.002)
        srv.send_line(b"line from s_server\n")
        assert await asyncio.wait_for(p.got.get(), 5) == b"line from s_server\n"
        t.close()
        return sent

    with s_server(pki, port, tmp_path / "out") as srv:
        sent = asyncio.run(main(srv))
        got = srv.wait_output(len(sent))
        assert hashlib.sha256(got).digest() == hashlib.sha256(sent).digest()
