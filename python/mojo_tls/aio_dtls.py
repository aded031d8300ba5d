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

This module is the client; :mod:`mojo_tls.aio_dtls_server` the server,
which runs every client on ONE UDP socket: one DTLSObject per client
address, each with its own protocol instance from the factory (as
``loop.create_server`` gives one per connection: a DTLS session is a
connection, with its own handshake, certificate and close). A hello without
a valid cookie is answered (HelloVerifyRequest) and forgotten: a client
gets state only once it returned its cookie; the table of clients is
bounded, and clients idle or failing are dropped.
"""

from __future__ import annotations

import asyncio
from typing import Any, Optional, Tuple

from ._dtls_session import Address, DTLSTransport, ProtocolFactory, _Session
from .dtls import DTLSContext
from .dtls_memory import DTLSObject

__all__ = ["create_dtls_connection"]


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
