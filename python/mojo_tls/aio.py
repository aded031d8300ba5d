"""asyncio support: TLS streams driven by memory mode.

:func:`open_connection` and :func:`start_server` mirror
``asyncio.open_connection`` / ``asyncio.start_server``: they give
``(reader, writer)`` pairs where the reader is a plain
:class:`asyncio.StreamReader` and the writer a :class:`TLSStreamWriter` with
the :class:`asyncio.StreamWriter` methods. The TCP side is asyncio's own
transport; the library only sees bytes (:class:`~mojo_tls.TLSObject`), so the
event loop never blocks on network I/O.

DTLS (datagrams): :func:`create_dtls_connection` and
:func:`create_dtls_server` give ``asyncio.DatagramProtocol`` endpoints
whose protocols see plaintext (see :mod:`mojo_tls.aio_dtls`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, List, Optional, Set, Tuple, Union, cast

from .context import TLSContext
from .errors import (TLSClosedError, TLSError, TLSTruncatedError, TLSWantReadError,
                     TLSWantWriteError)
from .memory import TLSObject

__all__ = ["open_connection", "start_server", "TLSStreamWriter",
           "create_dtls_connection", "create_dtls_server", "DTLSTransport", "DTLSServer"]

log = logging.getLogger("mojo_tls.aio")

_READ = 65536

# As asyncio's transports: writes after the connection is lost are dropped,
# and this many of them get a warning (once per stream here).
_LOG_THRESHOLD_FOR_LOST_WRITES = 5


class _TLSStreamReader(asyncio.StreamReader):
    """An asyncio.StreamReader whose stream can end with an error *after*
    the bytes already received: :meth:`_fail` defers the exception until
    the buffer is read (asyncio's ``set_exception`` discards the buffer)."""

    _pending_exc: Optional[BaseException] = None

    def _fail(self, exc: BaseException) -> None:
        """End the stream with `exc`, raised once the buffered bytes are read."""
        if (self._eof  # type: ignore[attr-defined]
                or self.exception() is not None or self._pending_exc is not None):
            return
        if not self._buffer or self._waiter is not None:  # type: ignore[attr-defined]
            # nothing left to read, or a reader waits for more than is there
            self.set_exception(cast(Exception, exc))  # asyncio takes any BaseException
        else:
            self._pending_exc = exc

    async def _wait_for_data(self, func_name: str) -> None:
        exc = self._pending_exc
        if exc is not None:
            self._pending_exc = None
            self.set_exception(cast(Exception, exc))
            raise exc
        await super()._wait_for_data(func_name)  # type: ignore[misc]

    async def read(self, n: int = -1) -> bytes:
        """As StreamReader.read; read() (until EOF) that ends with an error
        (TLSTruncatedError, a reset) attaches the bytes read so far to it as
        ``.partial`` (as asyncio.IncompleteReadError does)."""
        if n >= 0:
            return await super().read(n)
        blocks: List[bytes] = []
        while True:
            try:
                block = await super().read(self._limit)  # type: ignore[attr-defined]
            except Exception as exc:
                exc.partial = b"".join(blocks)  # type: ignore[attr-defined]
                raise
            if not block:
                return b"".join(blocks)
            blocks.append(block)


class _TLSProtocol(asyncio.Protocol):
    """Moves ciphertext between an asyncio transport and a TLSObject."""

    def __init__(self, tls: TLSObject, reader: _TLSStreamReader,
                 loop: asyncio.AbstractEventLoop,
                 on_handshake: Optional[Callable[["_TLSProtocol"], None]] = None) -> None:
        self._tls = tls
        self._reader = reader
        self._loop = loop
        self._on_handshake = on_handshake
        self._transport: Optional[asyncio.Transport] = None
        self.handshake_waiter: "asyncio.Future[None]" = loop.create_future()
        # Whoever awaits it gets the error; when nobody does any more (a
        # timed-out or cancelled open_connection), it is still retrieved, so
        # asyncio never logs "Future exception was never retrieved".
        self.handshake_waiter.add_done_callback(_retrieve)
        self._handshaken = False
        self._eof = False
        self._closed = False
        self._paused = False
        self._drain_waiters: List["asyncio.Future[None]"] = []
        self._conn_lost_exc: Optional[BaseException] = None
        self._lost = False
        self._write_exc: Optional[BaseException] = None  # a failed write, for drain()
        self._lost_writes = 0
        self._eof_written = False
        self.closed_future: "asyncio.Future[None]" = loop.create_future()

    # -- asyncio.Protocol ---------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._reader.set_transport(transport)
        self._pump()

    def data_received(self, data: bytes) -> None:
        if self._tls.closed:
            return
        try:
            self._tls.feed(data)
        except TLSError as exc:
            self._fatal(exc)
            return
        self._pump()

    def eof_received(self) -> bool:
        if not self._tls.closed:
            try:
                self._tls.feed_eof()
            except TLSError:
                pass
            self._pump()
        if not self._handshaken and not self.handshake_waiter.done():
            self.handshake_waiter.set_exception(
                ConnectionResetError("the peer closed the connection during the TLS handshake"))
        if not self._eof:
            self._eof = True
            self._reader.feed_eof()
        return False  # close the transport

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self._lost = True
        self._conn_lost_exc = exc
        if not self.handshake_waiter.done():
            self.handshake_waiter.set_exception(
                exc or ConnectionResetError("connection lost during the TLS handshake"))
        if not self._eof:
            self._eof = True
            if exc is None:
                self._reader.feed_eof()
            else:
                self._reader._fail(exc)
        for w in self._drain_waiters:
            if not w.done():
                if exc is None:
                    w.set_result(None)
                else:
                    w.set_exception(exc)
        self._drain_waiters.clear()
        self._tls.close()
        if not self.closed_future.done():
            self.closed_future.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        for w in self._drain_waiters:
            if not w.done():
                w.set_result(None)
        self._drain_waiters.clear()

    # -- TLS pump -----------------------------------------------------------------------
    def _pump(self) -> None:
        """Advance the handshake, deliver plaintext, send pending ciphertext."""
        tls = self._tls
        if tls.closed:
            return
        try:
            if not self._handshaken:
                try:
                    tls.do_handshake()
                except TLSWantReadError:
                    pass
                else:
                    self._handshaken = True
                    if not self.handshake_waiter.done():
                        self.handshake_waiter.set_result(None)
                    if self._on_handshake is not None:
                        self._on_handshake(self)
            if self._handshaken and not self._eof:
                while True:
                    try:
                        data = tls.read(_READ)
                    except TLSWantReadError:
                        break
                    except TLSTruncatedError as exc:
                        # the peer closed TCP without close_notify (the
                        # TLSObject's suppress_ragged_eofs makes it b''):
                        # the bytes already received are read first
                        self._eof = True
                        self._reader._fail(exc)
                        break
                    if not data:
                        self._eof = True
                        self._reader.feed_eof()
                        break
                    self._reader.feed_data(data)
        except TLSError as exc:
            self._flush()
            self._fatal(exc)
            return
        self._flush()

    def _flush(self) -> None:
        if self._tls.closed or self._transport is None or self._transport.is_closing():
            return
        try:
            out = self._tls.drain()
        except TLSError:
            return
        if out:
            self._transport.write(out)

    def _fatal(self, exc: BaseException) -> None:
        if not self.handshake_waiter.done():
            self.handshake_waiter.set_exception(exc)
        elif not self._eof:
            self._eof = True
            self._reader._fail(exc)
        if self._transport is not None:
            self._transport.close()

    # -- used by the writer ------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self._eof_written and not (self._lost or self._tls.closed):
            # the caller's mistake, as asyncio's RuntimeError
            raise TLSClosedError("write() after write_eof() (close_notify sent)")
        if (self._lost or self._tls.closed or self._write_exc is not None
                or self._transport is None or self._transport.is_closing()):
            self._lost_write()
            return
        view = memoryview(data)
        while view:
            try:
                n = self._tls.write(view[:_READ])
            except TLSWantWriteError:
                self._flush()
                continue
            except TLSError as exc:
                # e.g. the peer's close_notify or an alert ended the session:
                # as asyncio's transports, the error is drain()'s
                self._write_exc = exc
                self._lost_write()
                return
            view = view[n:]
            self._flush()

    def _lost_write(self) -> None:
        """A write on a stream the peer has left: dropped (the error is
        drain()'s), with one warning after a few (as asyncio's transports)."""
        self._lost_writes += 1
        if self._lost_writes == _LOG_THRESHOLD_FOR_LOST_WRITES:
            log.warning("write() on a TLS stream whose connection is closed: "
                        "the data is dropped (drain() raises the error)")

    def write_eof(self) -> None:
        self._eof_written = True
        self.close_notify()

    def close_notify(self) -> None:
        if not self._tls.closed:
            try:
                self._tls.unwrap()
            except TLSError:
                pass
            self._flush()

    async def drain(self) -> None:
        if self._write_exc is not None:
            raise self._write_exc
        if self._lost_writes and not self._lost:
            raise ConnectionResetError("Connection lost")
        if self._lost:
            if self._conn_lost_exc is not None:
                raise self._conn_lost_exc
            raise ConnectionResetError("Connection lost")
        if not self._paused:
            return
        w = self._loop.create_future()
        self._drain_waiters.append(w)
        await w


def _retrieve(f: "asyncio.Future[Any]") -> None:
    if not f.cancelled():
        f.exception()


class TLSStreamWriter:
    """The writing half of a TLS stream (the asyncio.StreamWriter API)."""

    def __init__(self, transport: asyncio.Transport, protocol: _TLSProtocol,
                 reader: asyncio.StreamReader, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._protocol = protocol
        self._reader = reader
        self._loop = loop
        self._closed_fut: "asyncio.Future[None]" = loop.create_future()

    @property
    def transport(self) -> asyncio.Transport:
        """The underlying TCP transport (it carries ciphertext)."""
        return self._transport

    @property
    def ssl_object(self) -> TLSObject:
        """The TLSObject (version(), cipher(), getpeercert(), session, ...)."""
        return self._protocol._tls

    def write(self, data: Union[bytes, bytearray, memoryview]) -> None:
        """Encrypt and send `data` (buffered: await drain() for flow control).
        Once the connection is lost the data is dropped without an exception
        (as with asyncio's transports): drain() raises the error."""
        if isinstance(data, str):
            raise TypeError("data must be bytes-like, not str")
        self._protocol.write(bytes(data))

    def writelines(self, data: Any) -> None:
        """write() each item."""
        for d in data:
            self.write(d)

    def can_write_eof(self) -> bool:
        """True: write_eof sends close_notify."""
        return True

    def write_eof(self) -> None:
        """Send close_notify (the peer's reads then end)."""
        self._protocol.write_eof()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """'ssl_object', 'peercert', 'cipher', 'sslcontext', 'version',
        'alpn_protocol', else the transport's info (peername, socket, ...)."""
        tls = self._protocol._tls
        if name == "ssl_object":
            return tls
        if name in ("peercert", "cipher", "version", "alpn_protocol") and tls.closed:
            return default
        if name == "peercert":
            return tls.getpeercert()
        if name == "cipher":
            return tls.cipher()
        if name == "version":
            return tls.version()
        if name == "alpn_protocol":
            return tls.selected_alpn_protocol()
        if name == "sslcontext":
            return tls.context
        return self._transport.get_extra_info(name, default)

    def is_closing(self) -> bool:
        """True once close() was called or the connection is lost."""
        return self._transport.is_closing()

    def close(self) -> None:
        """Send close_notify (best effort) and close the transport."""
        if not self._transport.is_closing():
            self._protocol.close_notify()
            self._transport.close()

    async def wait_closed(self) -> None:
        """Wait until the connection is closed."""
        await asyncio.shield(self._protocol.closed_future)

    async def drain(self) -> None:
        """Wait until the transport's write buffer has room."""
        if self._reader.exception() is not None:
            raise self._reader.exception()  # type: ignore[misc]
        await self._protocol.drain()

    async def __aenter__(self) -> "TLSStreamWriter":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()
        await self.wait_closed()

    def __repr__(self) -> str:
        return f"<TLSStreamWriter transport={self._transport!r}>"


def _client_context(context: Optional[TLSContext]) -> TLSContext:
    if context is None:
        return TLSContext()
    if not isinstance(context, TLSContext):
        raise TypeError(f"context must be a TLSContext, not {type(context).__name__}")
    context._require_stream("open_connection")
    if context.server_side:
        raise ValueError("open_connection needs a client context")
    return context


async def open_connection(host: str, port: int, *, context: Optional[TLSContext] = None,
                          server_hostname: Optional[str] = None, limit: int = 2**16,
                          handshake_timeout: Optional[float] = 60.0, session: Any = None,
                          suppress_ragged_eofs: bool = False,
                          **kwargs: Any) -> Tuple[asyncio.StreamReader, TLSStreamWriter]:
    """Connect over TLS; returns (StreamReader, TLSStreamWriter) once the
    handshake completed. `server_hostname` defaults to `host`. Extra keyword
    arguments go to ``loop.create_connection`` (family, local_addr, ...).
    Raises CertificateVerifyError & co. like :func:`mojo_tls.connect`, and
    ``asyncio.TimeoutError`` when the handshake takes longer than
    `handshake_timeout` seconds (None: no limit).

    A peer that closes the TCP connection without close_notify ends the
    reader with TLSTruncatedError once the bytes already received are read
    (``reader.read()`` until EOF attaches them to it as ``.partial``);
    ``suppress_ragged_eofs=True`` makes that a plain EOF (for protocols with
    their own framing, or peers that never send close_notify, as most HTTP
    servers)."""
    ctx = _client_context(context)
    loop = asyncio.get_running_loop()
    name = host if server_hostname is None else server_hostname
    tls = TLSObject(ctx, server_hostname=name, session=session,
                    suppress_ragged_eofs=suppress_ragged_eofs)
    reader = _TLSStreamReader(limit=limit)
    proto = _TLSProtocol(tls, reader, loop)
    try:
        transport, _ = await loop.create_connection(lambda: proto, host, port, **kwargs)
    except BaseException:
        tls.close()
        raise
    try:
        await asyncio.wait_for(asyncio.shield(proto.handshake_waiter), handshake_timeout)
    except BaseException:
        if not proto.handshake_waiter.done():
            proto.handshake_waiter.cancel()  # nobody waits for it any more
        transport.close()
        tls.close()
        raise
    return reader, TLSStreamWriter(transport, proto, reader, loop)


async def start_server(client_connected_cb: Callable[[asyncio.StreamReader, TLSStreamWriter],
                                                     Optional[Awaitable[None]]],
                       host: Optional[str] = None, port: Optional[int] = None, *,
                       context: TLSContext, limit: int = 2**16,
                       handshake_timeout: Optional[float] = 60.0,
                       suppress_ragged_eofs: bool = False,
                       **kwargs: Any) -> asyncio.AbstractServer:
    """Start a TLS server; `client_connected_cb(reader, writer)` (a function
    or coroutine function) is called for each client after its handshake.
    Failed handshakes are logged (logger 'mojo_tls.aio') and closed. Extra
    keyword arguments go to ``loop.create_server`` (backlog, reuse_port, ...).
    `handshake_timeout` bounds each client's handshake (None: no limit);
    `suppress_ragged_eofs` as for :func:`open_connection` (a client closing
    without close_notify is a plain EOF instead of TLSTruncatedError).
    Returns the asyncio Server."""
    if not isinstance(context, TLSContext):
        raise TypeError(f"context must be a TLSContext, not {type(context).__name__}")
    context._require_stream("start_server")
    if not context.server_side:
        raise ValueError("start_server needs a server context (TLSContext(server_side=True))")
    loop = asyncio.get_running_loop()
    tasks: Set["asyncio.Task[Any]"] = set()

    def on_handshake(proto: _TLSProtocol) -> None:
        transport = proto._transport
        assert transport is not None
        writer = TLSStreamWriter(transport, proto, proto._reader, loop)
        res = client_connected_cb(proto._reader, writer)
        if asyncio.iscoroutine(res):
            task = loop.create_task(res)
            tasks.add(task)

            def done(t: "asyncio.Task[Any]") -> None:
                tasks.discard(t)
                if not t.cancelled() and t.exception() is not None:
                    log.error("client callback failed", exc_info=t.exception())
                    transport.close()

            task.add_done_callback(done)

    def factory() -> _TLSProtocol:
        tls = TLSObject(context, suppress_ragged_eofs=suppress_ragged_eofs)
        reader = _TLSStreamReader(limit=limit)
        proto = _TLSProtocol(tls, reader, loop, on_handshake)
        if handshake_timeout is not None:
            def expire() -> None:
                if not proto.handshake_waiter.done():
                    proto._fatal(TimeoutError("TLS handshake timed out"))
            loop.call_later(handshake_timeout, expire)

        def hs_done(f: "asyncio.Future[None]") -> None:
            if not f.cancelled() and f.exception() is not None:
                log.debug("TLS handshake failed: %s", f.exception())

        proto.handshake_waiter.add_done_callback(hs_done)
        return proto

    return await loop.create_server(factory, host, port, **kwargs)


# DTLS (datagrams) lives in its own module; its helpers are part of this one's API.
from ._dtls_session import DTLSTransport  # noqa: E402
from .aio_dtls import create_dtls_connection  # noqa: E402
from .aio_dtls_server import DTLSServer, create_dtls_server  # noqa: E402
