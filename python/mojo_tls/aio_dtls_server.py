"""asyncio DTLS server: :func:`create_dtls_server` serves every client on
ONE UDP socket, one memory-mode DTLSObject and one protocol instance per
client address (see :mod:`mojo_tls.aio_dtls` for the protocol side)."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any, Dict, List, Optional, Tuple

from ._dtls_session import (Address, DTLSTransport, ProtocolFactory, _hello_random,
                            _is_initial_hello, _Session)
from .dtls import DTLSContext
from .dtls_memory import DTLSObject
from .errors import TLSError, TLSTimeoutError, TLSWantReadError

__all__ = ["create_dtls_server", "DTLSServer"]

log = logging.getLogger("mojo_tls.aio")


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
    transport, _ = await loop.create_datagram_endpoint(lambda: _ServerUDP(server),
                                                       local_addr=local_addr, **kwargs)
    _widen_receive_buffer(transport.get_extra_info("socket"))
    if idle_timeout is not None:
        server._sweeper = loop.call_later(max(0.05, idle_timeout / 4), server._sweep)
    return server


def _widen_receive_buffer(sock: Any) -> None:
    """Every client's datagrams share this one socket: a burst of handshakes
    overflows the default buffer (~200 KiB; 100 clients at once lost 28
    first flights to kernel drops here). Ask for 1 MiB; the kernel caps it
    at net.core.rmem_max, and a refusal only leaves the default."""
    try:
        if sock is not None and sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < (1 << 20):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    except OSError:
        pass
