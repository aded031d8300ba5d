#!/usr/bin/env python3
"""asyncio DTLS echo server and clients in one program: a server on one UDP
port of the loopback, N concurrent clients, each sending datagrams that the
server echoes; every echo is checked.

    python3 dtls_echo.py --clients 50 --datagrams 20
"""

import argparse
import asyncio
import hashlib
import os
import sys
from typing import Any, Optional

import mojo_tls
from mojo_tls import aio


class Echo(asyncio.DatagramProtocol):
    """One instance per client: echoes each datagram."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.transport.sendto(data)


class Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.echoes: "asyncio.Queue[bytes]" = asyncio.Queue()
        self.closed = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.echoes.put_nowait(data)

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.closed.set_result(exc)


async def echo_of(protocol: Client, payload: bytes) -> bytes:
    """The echo of `payload`, skipping late echoes of earlier datagrams."""
    while True:
        echoed = await protocol.echoes.get()
        if echoed[:4] == payload[:4]:
            return echoed


async def client(addr: Any, ctx: mojo_tls.DTLSContext, count: int) -> bool:
    transport, protocol = await aio.create_dtls_connection(
        Client, ctx, remote_addr=addr, server_hostname="localhost")
    ok = True
    for seq in range(count):
        payload = seq.to_bytes(4, "big") + os.urandom(996)
        for _ in range(5):
            transport.sendto(payload)  # one datagram
            try:
                echoed = await asyncio.wait_for(echo_of(protocol, payload), 1.0)
                break
            except asyncio.TimeoutError:
                # UDP may lose it (DTLS resends handshake flights, not
                # data): the application resends, as over plain UDP.
                continue
        else:
            return False
        ok &= hashlib.sha256(echoed).digest() == hashlib.sha256(payload).digest()
    transport.close()  # close_notify
    await protocol.closed
    return ok


async def main(n: int, count: int) -> int:
    ca = mojo_tls.generate_ca("DTLS example CA")
    leaf = mojo_tls.generate_cert(ca, "localhost")
    server_ctx = mojo_tls.DTLSContext(server_side=True)
    server_ctx.load_cert_chain_data(*leaf)
    client_ctx = mojo_tls.DTLSContext()
    client_ctx.load_verify_locations(cadata=ca.cert_pem)

    server = await aio.create_dtls_server(Echo, server_ctx, local_addr=("127.0.0.1", 0))
    async with server:
        results = await asyncio.wait_for(
            asyncio.gather(*(client(server.address, client_ctx, count) for _ in range(n))), 60)
    ok = sum(results)
    print(f"{ok}/{n} DTLS clients echoed correctly ({count} datagrams each, one UDP server socket)")
    return 0 if ok == n else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--datagrams", type=int, default=10)
    args = ap.parse_args()
    sys.exit(asyncio.run(main(args.clients, args.datagrams)))
