"""asyncio streams over memory mode: echo with 100 concurrent clients, and
interop with asyncio's own ssl support."""

import asyncio
import hashlib
import os
import ssl

import pytest
from conftest import HOST, stdlib_client_context, stdlib_server_context

import mojo_tls
from mojo_tls import aio


async def _echo(reader: asyncio.StreamReader, writer: mojo_tls.TLSStreamWriter) -> None:
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()


def test_echo_100_concurrent_clients(server_ctx, client_ctx) -> None:
    async def client(port: int, i: int) -> bool:
        reader, writer = await mojo_tls.open_connection(HOST, port, context=client_ctx,
                                                        server_hostname="localhost")
        assert writer.get_extra_info("version") == "TLSv1.3"
        payload = os.urandom(1000 + 97 * i)
        writer.write(payload)
        await writer.drain()
        got = await reader.readexactly(len(payload))
        writer.close()  # close_notify: the server's read returns b'' and it closes too
        await writer.wait_closed()
        return hashlib.sha256(got).digest() == hashlib.sha256(payload).digest()

    async def main() -> None:
        server = await mojo_tls.start_server(_echo, HOST, 0, context=server_ctx)
        port = server.sockets[0].getsockname()[1]
        async with server:
            results = await asyncio.wait_for(
                asyncio.gather(*(client(port, i) for i in range(100))), timeout=45)
        assert all(results) and len(results) == 100

    asyncio.run(main())


def test_our_client_asyncio_ssl_server(pki, client_ctx) -> None:
    async def main() -> None:
        sctx = stdlib_server_context(pki)

        async def handle(r, w):
            data = await r.readline()
            w.write(data.upper())
            await w.drain()
            w.close()

        server = await asyncio.start_server(handle, HOST, 0, ssl=sctx)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await mojo_tls.open_connection(HOST, port, context=client_ctx,
                                                            server_hostname="localhost")
            assert writer.get_extra_info("peercert")["subject"] == ((("commonName", "localhost"),),)
            writer.write(b"async interop\n")
            await writer.drain()
            assert await reader.readline() == b"ASYNC INTEROP\n"
            writer.close()
            await writer.wait_closed()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_asyncio_ssl_client_our_server(pki, server_ctx) -> None:
    async def main() -> None:
        async def handle(r, w):
            data = await r.readline()
            w.write(b"got " + data)
            await w.drain()
            w.close()

        server = await mojo_tls.start_server(handle, HOST, 0, context=server_ctx)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection(
                HOST, port, ssl=stdlib_client_context(pki), server_hostname="localhost")
            writer.write(b"hello\n")
            await writer.drain()
            assert await reader.readline() == b"got hello\n"
            writer.close()
            try:
                await writer.wait_closed()
            except (ssl.SSLError, ConnectionError):
                pass

    asyncio.run(asyncio.wait_for(main(), 30))


def test_open_connection_verify_failure(server_ctx) -> None:
    async def main() -> None:
        server = await mojo_tls.start_server(_echo, HOST, 0, context=server_ctx)
        port = server.sockets[0].getsockname()[1]
        async with server:
            with pytest.raises(mojo_tls.CertificateVerifyError):
                await mojo_tls.open_connection(HOST, port, context=mojo_tls.TLSContext(),
                                               server_hostname="localhost")

    asyncio.run(asyncio.wait_for(main(), 30))


def test_open_connection_refused() -> None:
    async def main() -> None:
        with pytest.raises(OSError):
            await mojo_tls.open_connection(HOST, 1, context=mojo_tls.TLSContext())

    asyncio.run(asyncio.wait_for(main(), 30))


def test_bad_arguments() -> None:
    async def main() -> None:
        with pytest.raises(TypeError):
            await mojo_tls.start_server(_echo, HOST, 0, context="nope")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await mojo_tls.start_server(_echo, HOST, 0, context=mojo_tls.TLSContext())
        with pytest.raises(ValueError):
            await aio.open_connection(HOST, 1, context=mojo_tls.TLSContext(server_side=True))

    asyncio.run(asyncio.wait_for(main(), 30))
