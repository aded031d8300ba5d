#!/usr/bin/env python3
"""asyncio TLS echo server and clients in one program: starts a server on a
free loopback port, runs N concurrent clients against it and checks that
every echo matches.

    python3 asyncio_echo.py --clients 50
"""

import argparse
import asyncio
import hashlib
import os
import sys

import mojo_tls


async def echo(reader: asyncio.StreamReader, writer: mojo_tls.TLSStreamWriter) -> None:
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()


async def client(port: int, ctx: mojo_tls.TLSContext, size: int) -> bool:
    reader, writer = await mojo_tls.open_connection("127.0.0.1", port, context=ctx,
                                                    server_hostname="localhost")
    payload = os.urandom(size)
    writer.write(payload)
    await writer.drain()
    echoed = await reader.readexactly(size)
    writer.close()
    await writer.wait_closed()
    return hashlib.sha256(echoed).digest() == hashlib.sha256(payload).digest()


async def main(n: int) -> int:
    ca = mojo_tls.generate_ca("asyncio example CA")
    leaf = mojo_tls.generate_cert(ca, "localhost")
    server_ctx = mojo_tls.TLSContext(server_side=True)
    server_ctx.load_cert_chain_data(*leaf)
    client_ctx = mojo_tls.TLSContext()
    client_ctx.load_verify_locations(cadata=ca.cert_pem)

    server = await mojo_tls.start_server(echo, "127.0.0.1", 0, context=server_ctx)
    port = server.sockets[0].getsockname()[1]
    async with server:
        results = await asyncio.wait_for(
            asyncio.gather(*(client(port, client_ctx, 1024 * (i + 1)) for i in range(n))), 60)
    ok = sum(results)
    print(f"{ok}/{n} clients echoed correctly over {mojo_tls.backend()}")
    return 0 if ok == n else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    sys.exit(asyncio.run(main(ap.parse_args().clients)))
