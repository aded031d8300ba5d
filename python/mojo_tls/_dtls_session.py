"""One DTLS session driven by an asyncio loop (shared by the client and
server helpers of :mod:`mojo_tls.aio`): a memory-mode DTLSObject, its
retransmission timer on ``loop.call_later``, and the plaintext
:class:`DTLSTransport` handed to the user's ``asyncio.DatagramProtocol``."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, Optional

from .dtls_memory import DTLSObject
from .errors import TLSError, TLSWantReadError

__all__ = ["DTLSTransport"]

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
