"""asyncio DTLS: datagram endpoints whose protocols see plaintext.

:func:`create_dtls_connection` and :func:`create_dtls_server` mirror
``loop.create_datagram_endpoint``: the user's :class:`asyncio.DatagramProtocol`
gets ``connection_made(transport)`` once the handshake is done,
``datagram_received(data, addr)`` with each datagram's plaintext,
``error_received(exc)`` and ``connection_lost(exc)`` (None after the peer's
close_notify or our close()); ``transport.sendto(data)`` encrypts ``data``
as one datagram. The UDP side is asyncio's own; the library only sees
datagrams (:class:`~mojo_tls.DTLSObject`), and the retransmission timer is
a ``loop.call_later``, so nothing blocks the loop.

The server runs every client on ONE UDP socket: one DTLSObject per client
address, each with its own protocol instance from the factory (as
``loop.create_server`` gives one per connection: a DTLS session is a
connection, with its own handshake, certificate and close). A hello without
a valid cookie is answered (HelloVerifyRequest) and forgotten: a client
gets state only once it returned its cookie; the table of clients is
bounded, and clients idle or failing are dropped.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Dict, List, Optional, Tuple

from .dtls import DTLSContext
from .dtls_memory import DTLSObject
from .errors import TLSError, TLSTimeoutError, TLSWantReadError

__all__ = ["create_dtls_connection", "create_dtls_server", "DTLSTransport", "DTLSServer"]

log = logging.getLogger("mojo_tls.aio")

Address = Any  # (host, port) or an IPv6 4-tuple, as asyncio gives them
ProtocolFactory = Callable[[], asyncio.DatagramProtocol]


def _is_initial_hello(d: bytes) -> bool:
    """A DTLS record carrying a ClientHello in epoch 0 (content type 22,
    epoch bytes 3-4 zero, handshake type 1 at byte 13): the only datagram
    that may start a session. Anything else from an unknown address is
    dropped without touching the library."""
    return len(d) >= 59 and d[0] == 22 and d[3] == 0 and d[4] == 0 and d[13] == 1


def _hello_random(d: bytes) -> bytes:
    """The client random of an initial ClientHello (after the 13-byte record
    header, the 12-byte handshake header and the 2-byte version): the same
    in every copy and retransmission of one handshake's hello, new in a new
    handshake."""
    return d[27:59]


class _Session:
    """One DTLS association driven by the loop: feeds datagrams to its
    DTLSObject, sends what it drains, re-arms the retransmission timer, and
    hands plaintext to the user's protocol once the handshake is done."""

    def __init__(self, loop: asyncio.AbstractEventLoop, dtls: DTLSObject,
                 send: Callable[[bytes], None], addr: Address,
                 factory: ProtocolFactory, extra: Dict[str, Any],
                 on_gone: Callable[["_Session"], None]) -> None:
        self.loop = loop
        self.dtls = dtls
        self._send = send
        self.addr = addr
        self._factory = factory
        self._extra = extra
        self._on_gone = on_gone
        self._timer: Optional[asyncio.TimerHandle] = None
        self.handshaken = False
        self.gone = False
        self.last_active = loop.time()
        self.transport: Optional[DTLSTransport] = None
        self.protocol: Optional[asyncio.DatagramProtocol] = None
        self.handshake_waiter: "asyncio.Future[None]" = loop.create_future()
        self.handshake_waiter.add_done_callback(_retrieve)
        self.hello_random = b""  # server: the client random of the hello that made it
        self.handshake_timer: Optional[asyncio.TimerHandle] = None  # server: handshake_timeout

    # -- input ----------------------------------------------------------------------
    def datagram(self, data: bytes) -> None:
        if self.gone:
            return
        self.last_active = self.loop.time()
        try:
            self.dtls.feed_datagram(data)
        except TLSError as exc:
            self.fail(exc)
            return
        self.step()

    def step(self) -> None:
        """Advance the handshake or read every datagram waiting; send the
        output; re-arm the timer."""
        if self.gone:
            return
        d = self.dtls
        try:
            if not self.handshaken:
                try:
                    d.do_handshake()
                except TLSWantReadError:
                    pass
                else:
                    self._flush()
                    if not self._established():
                        return
            while self.handshaken and not self.gone:
                try:
                    data = d.read()
                except TLSWantReadError:
                    break
                if not data:  # the peer's close_notify
                    self._flush()
                    self.lose(None)
                    return
                self._deliver(data)
        except TLSError as exc:
            self._flush()
            self.fail(exc)
            return
        self._flush()
        self._arm()

    def _established(self) -> bool:
        """The handshake is done: make the user's protocol. False when the
        user's code failed (reported; the session ends with its error)."""
        self.handshaken = True
        self.transport = DTLSTransport(self, self._extra)
        try:
            protocol = self._factory()
            self.protocol = protocol
            protocol.connection_made(self.transport)
        except Exception as exc:
            self._report("DTLS protocol factory / connection_made failed", exc)
            self.protocol = None
            self.fail(exc)
            return False
        if not self.handshake_waiter.done():
            self.handshake_waiter.set_result(None)
        self._cancel_handshake_timer()
        return True

    def _cancel_handshake_timer(self) -> None:
        if self.handshake_timer is not None:
            self.handshake_timer.cancel()
            self.handshake_timer = None

    def _deliver(self, data: bytes) -> None:
        p = self.protocol
        if p is None:
            return
        try:
            p.datagram_received(data, self.addr)
        except Exception as exc:  # as asyncio: reported, the transport goes on
            self._report("DTLS datagram_received failed", exc)

    def _report(self, message: str, exc: BaseException) -> None:
        self.loop.call_exception_handler({"message": message, "exception": exc,
                                          "transport": self.transport,
                                          "protocol": self.protocol})

    # -- output and timer ----------------------------------------------------------------
    def _flush(self) -> None:
        if self.dtls.closed:
            return
        for dgram in self.dtls.drain_datagrams():
            self._send(dgram)

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.gone or self.dtls.closed:
            return
        t = self.dtls.next_timeout()
        if t is not None:
            self._timer = self.loop.call_later(t, self._expired)

    def _expired(self) -> None:
        self._timer = None
        self.step()

    def sendto(self, data: bytes) -> None:
        self.dtls.write(data)  # raises for a datagram too large (the session goes on)
        self._flush()
        self.last_active = self.loop.time()

    # -- the end -----------------------------------------------------------------------------
    def close(self) -> None:
        """Our close: close_notify, then the end."""
        if self.gone:
            return
        if self.handshaken:
            try:
                self.dtls.unwrap()
                self._flush()
            except TLSError:
                pass
        self.lose(None)

    def abort(self, exc: Optional[BaseException] = None) -> None:
        self.lose(exc)

    def fail(self, exc: BaseException) -> None:
        if not self.handshake_waiter.done():
            self.handshake_waiter.set_exception(exc)
        self.lose(exc)

    def lose(self, exc: Optional[BaseException]) -> None:
        """Release everything once; the protocol's connection_lost comes
        on the next loop iteration (as asyncio's transports call it)."""
        if self.gone:
            return
        self.gone = True
        self._cancel_handshake_timer()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.handshake_waiter.done():
            self.handshake_waiter.set_exception(
                exc or ConnectionResetError("the DTLS session ended during the handshake"))
        self.dtls.close()
        self._on_gone(self)
        if self.protocol is not None:
            self.loop.call_soon(self._call_lost, self.protocol, exc)

    def _call_lost(self, protocol: asyncio.DatagramProtocol,
                   exc: Optional[BaseException]) -> None:
        try:
            protocol.connection_lost(exc)  # type: ignore[arg-type]  # as asyncio passes it
        except Exception as e:
            self._report("DTLS connection_lost failed", e)


def _retrieve(f: "asyncio.Future[Any]") -> None:
    if not f.cancelled():
        f.exception()


class DTLSTransport(asyncio.DatagramTransport):
    """The plaintext side of one DTLS session (the DatagramTransport API):
    ``sendto(data)`` sends `data` as one encrypted datagram to the peer."""

    def __init__(self, session: _Session, extra: Dict[str, Any]) -> None:
        super().__init__(extra)
        self._session = session

    def sendto(self, data: Any, addr: Any = None) -> None:
        """Encrypt `data` and send it as one datagram. `addr`, if given, must
        be the peer's. Too large for one datagram: TLSInvalidArgumentError
        (nothing sent; the session goes on). After close the data is dropped."""
        if isinstance(data, str):
            raise TypeError("data must be bytes-like, not str")
        s = self._session
        if addr is not None and tuple(addr)[:2] != tuple(s.addr)[:2]:
            raise ValueError(f"Invalid address: must be None or {s.addr!r}")
        if s.gone:
            return
        s.sendto(bytes(data))

    def close(self) -> None:
        """Send close_notify and end the session (connection_lost(None) follows)."""
        self._session.close()

    def abort(self) -> None:
        """End the session without close_notify."""
        self._session.abort(None)

    def is_closing(self) -> bool:
        return self._session.gone

    def get_protocol(self) -> asyncio.BaseProtocol:
        p = self._session.protocol
        assert p is not None
        return p

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._session.protocol = protocol  # type: ignore[assignment]

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """'peername', 'sockname', 'socket', 'ssl_object' (the DTLSObject),
        'peercert', 'cipher', 'version', 'alpn_protocol', 'sslcontext'."""
        d = self._session.dtls
        if name == "ssl_object":
            return d
        if name in ("peercert", "cipher", "version", "alpn_protocol") and d.closed:
            return default
        if name == "peercert":
            return d.getpeercert()
        if name == "cipher":
            return d.cipher()
        if name == "version":
            return d.version()
        if name == "alpn_protocol":
            return d.selected_alpn_protocol()
        if name == "sslcontext":
            return d.context
        if name == "peername":
            return self._session.addr
        return super().get_extra_info(name, default)

    def __repr__(self) -> str:
        state = "closed" if self._session.gone else "open"
        return f"<DTLSTransport {state} peer={self._session.addr!r}>"


# -- client ---------------------------------------------------------------------------------

class _ClientUDP(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.session: Optional[_Session] = None
        self.transport: Optional[asyncio.DatagramTransport] = None
        self.closed: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if self.session is not None and data:
            self.session.datagram(data)

    def error_received(self, exc: Exception) -> None:
        s = self.session
        if s is None or s.gone:
            return
        if not s.handshaken:
            # ICMP port unreachable & co. during the handshake: nobody is
            # there; fail now rather than retransmit until the timeout.
            s.fail(exc)
        elif s.protocol is not None:
            s.protocol.error_received(exc)

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        if self.session is not None:
            self.session.lose(exc)
        if not self.closed.done():
            self.closed.set_result(None)


def _client_context(ctx: Any) -> DTLSContext:
    if not isinstance(ctx, DTLSContext):
        raise TypeError(f"ctx must be a DTLSContext, not {type(ctx).__name__}")
    if ctx.server_side:
        raise ValueError("create_dtls_connection needs a client context (DTLSContext())")
    return ctx


async def create_dtls_connection(protocol_factory: ProtocolFactory, ctx: DTLSContext, *,
                                 remote_addr: Tuple[str, int],
                                 server_hostname: Optional[str] = None,
                                 handshake_timeout: Optional[float] = 60.0,
                                 **kwargs: Any
                                 ) -> Tuple[DTLSTransport, asyncio.DatagramProtocol]:
    """Connect a UDP endpoint to `remote_addr`, run the DTLS handshake and
    return ``(transport, protocol)`` once it is done (the protocol's
    ``connection_made`` has run). `server_hostname` (default: the host of
    `remote_addr`) is verified and sent as SNI. Raises
    CertificateVerifyError & co., ConnectionRefusedError when the port is
    closed, and ``asyncio.TimeoutError`` after `handshake_timeout` seconds
    (None: the retransmission timer's own limit). Extra keyword arguments
    go to ``loop.create_datagram_endpoint`` (local_addr, family, ...)."""
    ctx = _client_context(ctx)
    if not callable(protocol_factory):
        raise TypeError("protocol_factory must be callable")
    if not isinstance(remote_addr, tuple) or len(remote_addr) < 2:
        raise TypeError(f"remote_addr must be a (host, port) tuple, not {remote_addr!r}")
    loop = asyncio.get_running_loop()
    name = remote_addr[0] if server_hostname is None else server_hostname
    dtls = DTLSObject(ctx, server_hostname=name)
    udp = _ClientUDP()
    try:
        transport, _ = await loop.create_datagram_endpoint(lambda: udp, remote_addr=remote_addr,
                                                           **kwargs)
    except BaseException:
        dtls.close()
        raise
    peer = transport.get_extra_info("peername")
    extra = {"socket": transport.get_extra_info("socket"),
             "sockname": transport.get_extra_info("sockname")}

    def gone(_: _Session) -> None:
        transport.close()

    session = _Session(loop, dtls, transport.sendto, peer, protocol_factory, extra, gone)
    udp.session = session
    try:
        session.step()
        await asyncio.wait_for(asyncio.shield(session.handshake_waiter), handshake_timeout)
    except BaseException:
        session.abort(None)
        transport.close()
        raise
    assert session.transport is not None and session.protocol is not None
    return session.transport, session.protocol


# -- server -----------------------------------------------------------------------------------

class DTLSServer:
    """A DTLS server on one UDP socket (from :func:`create_dtls_server`)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ctx: DTLSContext,
                 factory: ProtocolFactory, max_peers: int, idle_timeout: Optional[float],
                 handshake_timeout: Optional[float]) -> None:
        self._loop = loop
        self._ctx = ctx
        self._factory = factory
        self._max_peers = max_peers
        self._idle_timeout = idle_timeout
        self._handshake_timeout = handshake_timeout
        self._sessions: Dict[Any, _Session] = {}
        self._udp: Optional[asyncio.DatagramTransport] = None
        self._sweeper: Optional[asyncio.TimerHandle] = None
        self._closed: "asyncio.Future[None]" = loop.create_future()
        #: Counters: hellos answered without state (no valid cookie),
        #: sessions admitted, sessions refused (table full), datagrams dropped.
        self.stats = {"stateless_replies": 0, "admitted": 0, "refused": 0, "dropped": 0}

    # -- public -------------------------------------------------------------------------
    @property
    def sockets(self) -> List[Any]:
        """The UDP socket (a list, as asyncio.Server.sockets)."""
        if self._udp is None:
            return []
        return [self._udp.get_extra_info("socket")]

    @property
    def address(self) -> Any:
        """The local address (host, port)."""
        return self._udp.get_extra_info("sockname") if self._udp is not None else None

    @property
    def peer_count(self) -> int:
        """Clients whose session is open (handshaking or established)."""
        return len(self._sessions)

    def transports(self) -> List[DTLSTransport]:
        """The transports of the established sessions."""
        return [s.transport for s in self._sessions.values() if s.transport is not None]

    def is_serving(self) -> bool:
        return self._udp is not None and not self._udp.is_closing()

    def close(self) -> None:
        """Send close_notify to every client, then close the socket."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for s in list(self._sessions.values()):
            s.close()
        if self._udp is not None:
            self._udp.close()

    async def wait_closed(self) -> None:
        """Wait until the socket is closed."""
        await asyncio.shield(self._closed)

    async def __aenter__(self) -> "DTLSServer":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()
        await self.wait_closed()

    def __repr__(self) -> str:
        return f"<DTLSServer {self.address!r} peers={self.peer_count}>"

    # -- datagrams from the UDP socket -------------------------------------------------------
    def _datagram(self, data: bytes, addr: Address) -> None:
        s = self._sessions.get(addr)
        if s is not None:
            if s.handshaken and _is_initial_hello(data):
                # Mbed TLS ends an established session on any hello with a
                # valid cookie (a reconnect from the same port), so a stale
                # copy of the session's own hello (a duplicate delayed on
                # the path) must not reach it. A hello of a new handshake
                # (another client random) replaces the session, once its
                # cookie is valid (RFC 6347 4.2.8).
                if _hello_random(data) != s.hello_random:
                    self._admit(data, addr, replacing=s)
                else:
                    self.stats["dropped"] += 1
                return
            s.datagram(data)
            return
        if not _is_initial_hello(data):
            self.stats["dropped"] += 1
            return
        self._admit(data, addr)

    def _admit(self, hello: bytes, addr: Address, replacing: Optional[_Session] = None) -> None:
        """A ClientHello from a new address (or a new handshake from the
        address of `replacing`). Without a valid cookie the library answers
        a HelloVerifyRequest and runs no timer: the object is dropped (no
        state). With one it sends its ServerHello flight and its timer runs:
        the client gets a session."""
        udp = self._udp
        if udp is None or udp.is_closing():
            return
        try:
            dtls = DTLSObject(self._ctx, peer=addr)
        except (TLSError, ValueError, TypeError) as exc:
            log.debug("DTLS: no session for %r: %s", addr, exc)
            return
        try:
            dtls.feed_datagram(hello)
            try:
                dtls.do_handshake()
            except TLSWantReadError:
                pass
            out = dtls.drain_datagrams()
            stateful = dtls.next_timeout() is not None
        except TLSError as exc:
            log.debug("DTLS: hello from %r refused: %s", addr, exc)
            dtls.close()
            return
        if not stateful:
            dtls.close()
            for d in out:
                udp.sendto(d, addr)
            self.stats["stateless_replies"] += 1
            return
        if replacing is not None:
            replacing.abort(ConnectionResetError(f"DTLS peer {addr!r} started a new session"))
        if len(self._sessions) >= self._max_peers:
            dtls.close()  # nothing sent: the client retries later
            self.stats["refused"] += 1
            return
        for d in out:
            udp.sendto(d, addr)
        extra = {"socket": udp.get_extra_info("socket"),
                 "sockname": udp.get_extra_info("sockname")}
        s = _Session(self._loop, dtls, lambda d: self._send(d, addr), addr, self._factory, extra,
                     self._forget)
        s.hello_random = _hello_random(hello)
        self._sessions[addr] = s
        self.stats["admitted"] += 1
        s._arm()
        if self._handshake_timeout is not None:
            s.handshake_timer = self._loop.call_later(self._handshake_timeout,
                                                      self._handshake_expired, s)

    def _send(self, d: bytes, addr: Address) -> None:
        udp = self._udp
        if udp is not None and not udp.is_closing():
            udp.sendto(d, addr)

    def _forget(self, s: _Session) -> None:
        if self._sessions.get(s.addr) is s:
            del self._sessions[s.addr]

    def _handshake_expired(self, s: _Session) -> None:
        if not s.gone and not s.handshaken:
            s.fail(TLSTimeoutError("DTLS handshake timed out"))

    def _sweep(self) -> None:
        """Drop clients silent for longer than idle_timeout."""
        self._sweeper = None
        t = self._idle_timeout
        if t is None or self._udp is None or self._udp.is_closing():
            return
        now = self._loop.time()
        for s in list(self._sessions.values()):
            if now - s.last_active > t:
                s.abort(TLSTimeoutError(f"DTLS peer {s.addr!r} idle for more than {t} s"))
        self._sweeper = self._loop.call_later(max(0.05, t / 4), self._sweep)

    def _lost(self, exc: Optional[BaseException]) -> None:
        for s in list(self._sessions.values()):
            s.abort(exc)
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if not self._closed.done():
            self._closed.set_result(None)


class _ServerUDP(asyncio.DatagramProtocol):
    def __init__(self, server: DTLSServer) -> None:
        self.server = server

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.server._udp = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if data:
            self.server._datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        # An unconnected socket's ICMP errors name no client: nothing to do.
        log.debug("DTLS server socket error: %s", exc)

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.server._lost(exc)


async def create_dtls_server(protocol_factory: ProtocolFactory, ctx: DTLSContext, *,
                             local_addr: Tuple[str, int] = ("127.0.0.1", 0),
                             max_peers: int = 1024, idle_timeout: Optional[float] = 300.0,
                             handshake_timeout: Optional[float] = 60.0,
                             **kwargs: Any) -> DTLSServer:
    """Serve DTLS clients on one UDP socket bound to `local_addr`. Each
    client gets its own protocol (``protocol_factory()``) once its handshake
    is done, and its own :class:`DTLSTransport`. At most `max_peers`
    sessions at once (new clients beyond are ignored until one ends);
    sessions silent for `idle_timeout` seconds, or whose handshake takes
    longer than `handshake_timeout`, end with TLSTimeoutError (None: no
    limit). Extra keyword arguments go to ``loop.create_datagram_endpoint``
    (reuse_port, family, ...). Returns the :class:`DTLSServer`."""
    if not isinstance(ctx, DTLSContext):
        raise TypeError(f"ctx must be a DTLSContext, not {type(ctx).__name__}")
    if not ctx.server_side:
        raise ValueError("create_dtls_server needs a server context (DTLSContext(server_side=True))")
    if not callable(protocol_factory):
        raise TypeError("protocol_factory must be callable")
    if isinstance(max_peers, bool) or not isinstance(max_peers, int) or max_peers < 1:
        raise ValueError(f"max_peers must be a positive int, not {max_peers!r}")
    for name, v in (("idle_timeout", idle_timeout), ("handshake_timeout", handshake_timeout)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0):
            raise ValueError(f"{name} must be a positive number of seconds or None, not {v!r}")
    loop = asyncio.get_running_loop()
    server = DTLSServer(loop, ctx, protocol_factory, max_peers, idle_timeout, handshake_timeout)
    await loop.create_datagram_endpoint(lambda: _ServerUDP(server), local_addr=local_addr, **kwargs)
    if idle_timeout is not None:
        server._sweeper = loop.call_later(max(0.05, idle_timeout / 4), server._sweep)
    return server
