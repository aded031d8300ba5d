"""TLSContext.wrap_bio (the ssl.SSLObject API over ssl.MemoryBIO): asyncio's
own TLS (ssl= of start_server / open_connection, loop.start_tls), aiohttp
(client and server) and httpx async (anyio) running on TLSContexts."""

import asyncio
import hashlib
import os
import ssl
import threading

import pytest
from conftest import HOST

import mojo_tls

T = 20  # every wait is bounded


def run(coro):
    async def bounded():
        return await asyncio.wait_for(coro, T)
    return asyncio.run(bounded())


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


# --- the SSLObject API in memory -----------------------------------------------------------

def _bio_pair(server_ctx, client_ctx):
    cin, cout, sin, sout = (ssl.MemoryBIO() for _ in range(4))
    c = client_ctx.wrap_bio(cin, cout, server_hostname="localhost")
    s = server_ctx.wrap_bio(sin, sout, server_side=True)

    def shuttle():
        moved = False
        for src, dst in ((cout, sin), (sout, cin)):
            data = src.read()
            if data:
                dst.write(data)
                moved = True
        return moved
    return c, s, shuttle


def test_bio_object_api(server_ctx, client_ctx) -> None:
    c, s, shuttle = _bio_pair(server_ctx, client_ctx)
    assert c.server_side is False and s.server_side is True
    assert c.server_hostname == "localhost" and c.context is client_ctx
    assert c.version() is None and c.cipher() is None
    with pytest.raises(ValueError):
        c.getpeercert()
    done = set()
    for _ in range(10):
        for name, o in (("c", c), ("s", s)):
            if name in done:
                continue
            try:
                o.do_handshake()
                done.add(name)
            except ssl.SSLWantReadError as exc:
                assert exc.errno == ssl.SSL_ERROR_WANT_READ
        shuttle()
        if len(done) == 2:
            break
    assert done == {"c", "s"}
    assert c.version() == s.version() == "TLSv1.3"
    assert c.getpeercert()["subjectAltName"]
    assert isinstance(c.getpeercert(binary_form=True), bytes)
    assert c.cipher()[1] == "TLSv1.3" and c.shared_ciphers()
    assert c.compression() is None and c.selected_alpn_protocol() is None
    assert c.session_reused is False
    assert c.get_channel_binding("tls-unique") is None  # TLS 1.3 (README: differences)
    binding = c.get_channel_binding("tls-exporter")
    assert binding is not None and len(binding) == 32
    assert s.get_channel_binding("tls-exporter") == binding
    with pytest.raises(ValueError):
        c.get_channel_binding("nope")
    with pytest.raises(ssl.SSLWantReadError):
        s.read(10)
    payload = os.urandom(100_000)
    assert c.write(payload) == len(payload)
    shuttle()
    got = bytearray()
    buf = bytearray(7000)
    while len(got) < len(payload):
        n = s.read(len(buf), buf)
        got += buf[:n]
        if len(got) < len(payload) and not s.pending():
            with pytest.raises(ssl.SSLWantReadError):
                s.read(1)
            break
    while len(got) < len(payload):
        got += s.read(65536)
    assert bytes(got) == payload
    # unwrap: close_notify out, SSLWantReadError until the peer's arrives.
    with pytest.raises(ssl.SSLWantReadError):
        c.unwrap()
    shuttle()
    assert s.read(10) == b""          # the client's close_notify
    s.unwrap()                        # answers it; the peer's was read
    shuttle()
    c.unwrap()                        # the server's close_notify arrived
    with pytest.raises(ssl.SSLZeroReturnError):
        c.write(b"late")


def test_bio_eof_without_close_notify(server_ctx, client_ctx) -> None:
    c, s, shuttle = _bio_pair(server_ctx, client_ctx)
    for _ in range(6):
        for o in (c, s):
            try:
                o.do_handshake()
            except ssl.SSLWantReadError:
                pass
        shuttle()
    c.write(b"abc")
    shuttle()
    assert s.read(10) == b"abc"
    s._incoming.write_eof()            # TCP ended, no close_notify
    with pytest.raises(ssl.SSLEOFError):
        s.read(10)


# --- asyncio's own TLS -------------------------------------------------------------------

@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
def test_asyncio_start_server_open_connection_echo_1mib(server_ctx, client_ctx, version) -> None:
    payload = os.urandom(1 << 20)
    client_ctx.maximum_version = getattr(mojo_tls.TLSVersion, version.replace(".", "_"))

    async def main() -> None:
        server = await asyncio.start_server(_echo, HOST, 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        try:
            reader, writer = await asyncio.open_connection(HOST, port, ssl=client_ctx,
                                                           server_hostname="localhost")
            sslobj = writer.get_extra_info("ssl_object")
            assert isinstance(sslobj, mojo_tls.TLSBIOObject)
            assert sslobj.version() == version
            assert writer.get_extra_info("peercert")["subjectAltName"]

            async def send() -> None:
                for i in range(0, len(payload), 65536):
                    writer.write(payload[i:i + 65536])
                    await writer.drain()

            sender = asyncio.ensure_future(send())
            got = await reader.readexactly(len(payload))
            await sender
            assert hashlib.sha256(got).digest() == hashlib.sha256(payload).digest()
            writer.close()
            await writer.wait_closed()
        finally:
            server.close()
            await server.wait_closed()

    run(main())


def test_asyncio_create_connection_protocol(server_ctx, client_ctx) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_echo, HOST, 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        got = loop.create_future()

        class P(asyncio.Protocol):
            def connection_made(self, transport):
                transport.write(b"ping")

            def data_received(self, data):
                if not got.done():
                    got.set_result(data)

        try:
            tr, _ = await loop.create_connection(P, HOST, port, ssl=client_ctx,
                                                 server_hostname="localhost")
            assert await got == b"ping"
            tr.close()
        finally:
            server.close()
            await server.wait_closed()

    run(main())


def test_asyncio_mutual_tls(pki, server_ctx, client_ctx) -> None:
    server_ctx.verify_mode = mojo_tls.CERT_REQUIRED
    server_ctx.load_verify_locations(pki.ca_file)
    client_ctx.load_cert_chain(pki.client_cert, pki.client_key)

    async def main() -> None:
        seen = asyncio.get_running_loop().create_future()

        async def handle(reader, writer) -> None:
            seen.set_result(writer.get_extra_info("peercert"))
            writer.close()

        server = await asyncio.start_server(handle, HOST, 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        try:
            reader, writer = await asyncio.open_connection(HOST, port, ssl=client_ctx,
                                                           server_hostname="localhost")
            cert = await seen
            assert dict(x[0] for x in cert["subject"])["commonName"] == "pytest client"
            assert await reader.read() == b""
            writer.close()
        finally:
            server.close()
            await server.wait_closed()

    run(main())


def test_asyncio_verification_failure(server_ctx) -> None:
    other = mojo_tls.TLSContext()    # trusts the system store only, not the test CA

    async def main() -> None:
        server = await asyncio.start_server(_echo, HOST, 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(ssl.SSLCertVerificationError):
                await asyncio.open_connection(HOST, port, ssl=other, server_hostname="localhost")
        finally:
            server.close()
            await server.wait_closed()

    run(main())


def test_asyncio_hostname_mismatch(server_ctx, client_ctx) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_echo, HOST, 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(ssl.SSLCertVerificationError) as ei:
                await asyncio.open_connection(HOST, port, ssl=client_ctx,
                                              server_hostname="wrong.example")
            assert ei.value.verify_code == 62
        finally:
            server.close()
            await server.wait_closed()

    run(main())


def test_loop_start_tls_upgrade(server_ctx, client_ctx) -> None:
    """Plain text first, then both sides upgrade with loop.start_tls (which
    needs a real ssl.SSLContext: as_ssl_context())."""
    async def main() -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        async def handle(reader, writer) -> None:
            try:
                assert await reader.readline() == b"STARTTLS\r\n"
                writer.write(b"GO\r\n")
                await writer.drain()
                if hasattr(writer, "start_tls"):   # 3.11+
                    await writer.start_tls(server_ctx.as_ssl_context())
                else:
                    await _upgrade_server(loop, writer, server_ctx)
                assert writer.get_extra_info("ssl_object").version() == "TLSv1.3"
                line = await reader.readline()
                writer.write(line.upper())
                await writer.drain()
                writer.close()
                done.set_result(True)
            except BaseException as exc:
                if not done.done():
                    done.set_exception(exc)
                raise

        server = await asyncio.start_server(handle, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(b"STARTTLS\r\n")
            await writer.drain()
            assert await reader.readline() == b"GO\r\n"
            sslctx = client_ctx.as_ssl_context()
            assert isinstance(sslctx, ssl.SSLContext)
            assert client_ctx.as_ssl_context() is sslctx
            if hasattr(writer, "start_tls"):   # 3.11+
                await writer.start_tls(sslctx, server_hostname="localhost")
            else:
                transport = writer.transport
                protocol = transport.get_protocol()
                new = await loop.start_tls(transport, protocol, sslctx,
                                           server_hostname="localhost")
                writer._transport = new
            assert isinstance(writer.get_extra_info("ssl_object"), mojo_tls.TLSBIOObject)
            writer.write(b"secret\n")
            await writer.drain()
            assert await reader.readline() == b"SECRET\n"
            assert await done
            writer.close()
        finally:
            server.close()
            await server.wait_closed()

    run(main())


async def _upgrade_server(loop, writer, ctx) -> None:  # Python < 3.11
    transport = writer.transport
    new = await loop.start_tls(transport, transport.get_protocol(), ctx.as_ssl_context(),
                               server_side=True)
    writer._transport = new


def test_adapter_is_narrow(server_ctx, client_ctx) -> None:
    a = client_ctx.as_ssl_context()
    assert isinstance(a, ssl.SSLContext) and a.tls_context is client_ctx
    assert a.check_hostname is True and a.verify_mode == ssl.CERT_REQUIRED
    a.check_hostname = False           # applied to the TLSContext
    assert client_ctx.check_hostname is False
    client_ctx.check_hostname = True
    a.set_alpn_protocols(["http/1.1"])
    with pytest.raises(AttributeError):
        a.some_setting = 1
    with pytest.raises(NotImplementedError):
        a.set_servername_callback(lambda *x: None)
    assert server_ctx.as_ssl_context().wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(),
                                                server_side=True).server_side


def test_adapter_wrap_socket(server_ctx, client_ctx) -> None:
    """The adapter's wrap_socket (what http.client / urllib3 call) gives a TLSSocket."""
    import socket

    with server_ctx.listen(HOST, 0) as lst:
        def serve() -> None:
            conn, _ = lst.accept(timeout=T)
            with conn:
                conn.sendall(conn.recv(100).upper())

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        raw = socket.create_connection((HOST, lst.port), timeout=T)
        tls = client_ctx.as_ssl_context().wrap_socket(raw, server_hostname="localhost")
        try:
            assert isinstance(tls, mojo_tls.TLSSocket)
            assert tls.suppress_ragged_eofs is True   # ssl.SSLContext.wrap_socket's default
            tls.sendall(b"abc")
            assert tls.recv(100) == b"ABC"
        finally:
            tls.close()
        t.join(T)
        assert not t.is_alive()


# --- aiohttp --------------------------------------------------------------------------------

def test_aiohttp_server_and_client(server_ctx, client_ctx) -> None:
    aiohttp = pytest.importorskip("aiohttp")
    from aiohttp import web

    async def hello(request):
        body = await request.read()
        sslobj = request.transport.get_extra_info("ssl_object")
        return web.Response(body=b"v=" + sslobj.version().encode() + b" n=" + str(len(body)).encode())

    made = []       # the client's TLS objects: the adapter's wrap_bio is the TLSContext's
    real_wrap_bio = client_ctx.wrap_bio

    def spy(*args, **kwargs):
        made.append(real_wrap_bio(*args, **kwargs))
        return made[-1]

    client_ctx.wrap_bio = spy

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/", hello)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0, ssl_context=server_ctx)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        try:
            # aiohttp's client wants an ssl.SSLContext: the adapter.
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=T)) as session:
                for _ in range(3):
                    async with session.post(f"https://localhost:{port}/", data=b"x" * 200_000,
                                            ssl=client_ctx.as_ssl_context()) as r:
                        assert r.status == 200
                        assert await r.read() == b"v=TLSv1.3 n=200000"
            assert made and all(isinstance(o, mojo_tls.TLSBIOObject) for o in made)
            # and a stdlib client against the package server
            std = ssl.create_default_context(cafile=None)
            std.check_hostname = False
            std.verify_mode = ssl.CERT_NONE
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=T)) as session:
                async with session.get(f"https://127.0.0.1:{port}/", ssl=std) as r:
                    assert await r.read() == b"v=TLSv1.3 n=0"
        finally:
            await runner.cleanup()

    run(main())


# --- httpx async (anyio) -----------------------------------------------------------------------

def test_httpx_async_client(server_ctx, client_ctx) -> None:
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("anyio")

    body = b"hello from mojo_tls\n" * 1000

    async def handle(reader, writer) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"GET /x HTTP/1.1\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                         % len(body) + body)
            await writer.drain()
        finally:
            writer.close()

    async def main() -> None:
        # A package server (mojo_tls.start_server) and asyncio's TLS with the
        # adapter in httpx: both ends on the package.
        server = await mojo_tls.start_server(handle, HOST, 0, context=server_ctx)
        port = server.sockets[0].getsockname()[1]
        try:
            async with httpx.AsyncClient(verify=client_ctx.as_ssl_context(), timeout=T) as client:
                r = await client.get(f"https://localhost:{port}/x")
                assert r.status_code == 200 and r.content == body
                ext = r.extensions["network_stream"].get_extra_info("ssl_object")
                assert isinstance(ext, mojo_tls.TLSBIOObject)
        finally:
            server.close()
            await server.wait_closed()

    run(main())


def test_httpx_async_verification_failure(server_ctx) -> None:
    httpx = pytest.importorskip("httpx")
    other = mojo_tls.TLSContext()

    async def main() -> None:
        server = await asyncio.start_server(_echo, HOST, 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        try:
            async with httpx.AsyncClient(verify=other.as_ssl_context(), timeout=T) as client:
                with pytest.raises(httpx.ConnectError) as ei:
                    await client.get(f"https://localhost:{port}/")
                cause = ei.value.__cause__ or ei.value.__context__
                while cause is not None and not isinstance(cause, ssl.SSLCertVerificationError):
                    cause = cause.__cause__ or cause.__context__
                assert isinstance(cause, ssl.SSLCertVerificationError)
        finally:
            server.close()
            await server.wait_closed()

    run(main())
