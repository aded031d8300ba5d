"""asyncio streams over memory mode: echo with 100 concurrent clients, and
interop with asyncio's own ssl support."""

import asyncio
import gc
import hashlib
import logging
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


# -- issue #20 item 8: handshake timeout, ragged EOFs, write after the peer left -------


def _collect_loop_errors(loop: asyncio.AbstractEventLoop) -> list:
    errors: list = []
    loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx.get("message")))
    return errors


def test_handshake_timeout_logs_nothing(client_ctx, caplog) -> None:
    # A TCP peer that never answers the ClientHello: the timeout is the
    # caller's exception, and nothing else ("Future exception was never
    # retrieved") reaches the loop's exception handler or asyncio's logger.
    async def main() -> list:
        loop = asyncio.get_running_loop()
        errors = _collect_loop_errors(loop)
        held: list = []

        async def silent(r, w):
            held.append(w)
            await r.read()  # until our side closes
            w.close()

        server = await asyncio.start_server(silent, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            for _ in range(3):
                with pytest.raises(asyncio.TimeoutError):
                    await mojo_tls.open_connection(HOST, port, context=client_ctx,
                                                   server_hostname="localhost",
                                                   handshake_timeout=0.2)
            await asyncio.sleep(0.2)
            gc.collect()
            await asyncio.sleep(0.05)
        return errors

    with caplog.at_level(logging.WARNING, logger="asyncio"):
        errors = asyncio.run(asyncio.wait_for(main(), 30))
        gc.collect()
    assert errors == []
    assert not [r for r in caplog.records if r.name == "asyncio"], caplog.text


PAYLOAD = bytes(range(256)) * 300  # 76800 bytes: more than one read


async def _ragged_server(server_ctx):
    """A package server that sends PAYLOAD and closes TCP without close_notify."""
    async def handle(r, w):
        w.write(PAYLOAD)
        await w.drain()
        w.transport.close()  # FIN, no close_notify (as most HTTP servers)

    server = await mojo_tls.start_server(handle, HOST, 0, context=server_ctx)
    return server, server.sockets[0].getsockname()[1]


def test_ragged_eof_suppressed(server_ctx, client_ctx) -> None:
    async def main() -> None:
        server, port = await _ragged_server(server_ctx)
        async with server:
            reader, writer = await mojo_tls.open_connection(
                HOST, port, context=client_ctx, server_hostname="localhost",
                suppress_ragged_eofs=True)
            await asyncio.sleep(0.3)  # the data and the FIN have arrived
            assert await reader.read() == PAYLOAD
            assert await reader.read(10) == b""
            assert reader.at_eof()
            writer.close()
            await writer.wait_closed()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_ragged_eof_default_delivers_the_bytes_then_raises(server_ctx, client_ctx) -> None:
    async def main() -> None:
        server, port = await _ragged_server(server_ctx)
        async with server:
            # read(n): every byte received, then TLSTruncatedError
            reader, writer = await mojo_tls.open_connection(
                HOST, port, context=client_ctx, server_hostname="localhost")
            await asyncio.sleep(0.3)
            got = b""
            with pytest.raises(mojo_tls.TLSTruncatedError):
                while True:
                    got += await reader.read(1000)
            assert got == PAYLOAD
            with pytest.raises(mojo_tls.TLSTruncatedError):  # and it stays raised
                await reader.read(1)
            writer.close()
            await writer.wait_closed()

            # read() (until EOF): TLSTruncatedError carrying the bytes as .partial
            reader, writer = await mojo_tls.open_connection(
                HOST, port, context=client_ctx, server_hostname="localhost")
            await asyncio.sleep(0.3)
            with pytest.raises(mojo_tls.TLSTruncatedError) as ei:
                await reader.read()
            assert ei.value.partial == PAYLOAD
            writer.close()

            # readexactly(n) within the data, then beyond it
            reader, writer = await mojo_tls.open_connection(
                HOST, port, context=client_ctx, server_hostname="localhost")
            assert await reader.readexactly(1000) == PAYLOAD[:1000]
            with pytest.raises(mojo_tls.TLSTruncatedError):
                await reader.readexactly(len(PAYLOAD))
            writer.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_server_suppress_ragged_eofs(server_ctx, client_ctx) -> None:
    async def main() -> None:
        results: asyncio.Queue = asyncio.Queue()

        async def handle(r, w):
            try:
                results.put_nowait(await r.read())
            except Exception as exc:  # noqa: BLE001 - reported to the test
                results.put_nowait(exc)
            w.close()

        for suppress in (True, False):
            server = await mojo_tls.start_server(handle, HOST, 0, context=server_ctx,
                                                 suppress_ragged_eofs=suppress)
            port = server.sockets[0].getsockname()[1]
            async with server:
                reader, writer = await mojo_tls.open_connection(
                    HOST, port, context=client_ctx, server_hostname="localhost")
                writer.write(b"request")
                await writer.drain()
                writer.transport.close()  # no close_notify
                got = await asyncio.wait_for(results.get(), 10)
                if suppress:
                    assert got == b"request"
                else:
                    assert isinstance(got, mojo_tls.TLSTruncatedError)
                    assert got.partial == b"request"

    asyncio.run(asyncio.wait_for(main(), 30))


def test_write_after_peer_left_raises_at_drain(server_ctx, client_ctx, caplog) -> None:
    async def main() -> None:
        async def handle(r, w):
            w.close()  # close_notify and FIN at once

        server = await mojo_tls.start_server(handle, HOST, 0, context=server_ctx)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await mojo_tls.open_connection(
                HOST, port, context=client_ctx, server_hostname="localhost")
            assert await reader.read() == b""
            await asyncio.sleep(0.2)  # our transport is closed by now
            for _ in range(10):
                writer.write(b"too late")  # as asyncio's transports: no exception here
            with pytest.raises(ConnectionError):
                await writer.drain()
            writer.close()
            await writer.wait_closed()

    with caplog.at_level(logging.WARNING, logger="mojo_tls.aio"):
        asyncio.run(asyncio.wait_for(main(), 30))
    assert len([r for r in caplog.records if r.name == "mojo_tls.aio"]) == 1, caplog.text


def test_write_after_close_or_write_eof(server_ctx, client_ctx) -> None:
    async def main() -> None:
        server = await mojo_tls.start_server(_echo, HOST, 0, context=server_ctx)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await mojo_tls.open_connection(
                HOST, port, context=client_ctx, server_hostname="localhost")
            writer.write_eof()  # close_notify: writing after it is the caller's mistake
            with pytest.raises(mojo_tls.TLSClosedError):
                writer.write(b"x")
            writer.close()
            await writer.wait_closed()

            reader, writer = await mojo_tls.open_connection(
                HOST, port, context=client_ctx, server_hostname="localhost")
            writer.close()
            writer.write(b"x")  # after close(): dropped, as asyncio's StreamWriter
            await writer.wait_closed()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_memory_object_suppress_ragged_eofs(server_ctx, client_ctx) -> None:
    def pair(suppress: bool):
        c = mojo_tls.TLSObject(client_ctx, server_hostname="localhost",
                               suppress_ragged_eofs=suppress)
        s = mojo_tls.TLSObject(server_ctx)
        for _ in range(10):
            for a, b in ((c, s), (s, c)):
                try:
                    a.do_handshake()
                except mojo_tls.TLSWantReadError:
                    pass
                out = a.drain()
                if out:
                    b.feed(out)
        assert c.handshake_done and s.handshake_done
        s.write(b"last words")
        c.feed(s.drain())
        c.feed_eof()  # no close_notify
        return c, s

    c, s = pair(True)
    assert c.suppress_ragged_eofs
    assert c.read() == b"last words"
    assert c.read() == b""
    assert c.read(10, bytearray(10)) == 0
    c.close(), s.close()
    c, s = pair(False)
    assert not c.suppress_ragged_eofs
    assert c.read() == b"last words"
    with pytest.raises(mojo_tls.TLSTruncatedError):
        c.read()
    c.close(), s.close()
