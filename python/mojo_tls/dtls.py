"""DTLSContext: the settings of DTLS 1.2 connections (TLS over UDP datagrams).

A :class:`DTLSContext` is a :class:`~mojo_tls.TLSContext` (the same
certificate, CA, verification, host name, ALPN and cipher settings, the
same secure defaults) whose connections carry datagrams: one write is one
datagram, one read returns one datagram's plaintext. It makes
:class:`~mojo_tls.DTLSSocket` clients (:meth:`DTLSContext.connect`,
:meth:`DTLSContext.wrap_socket`), :class:`~mojo_tls.DTLSListener` servers
(:meth:`DTLSContext.listen`) and :class:`~mojo_tls.DTLSObject` memory-mode
connections for event loops (:meth:`DTLSContext.wrap_memory`;
:mod:`mojo_tls.aio` builds its DTLS helpers on them).
"""

from __future__ import annotations

import socket as _socket
from typing import TYPE_CHECKING, Any, Optional, Tuple, Union, cast

from . import _ffi
from ._core import as_bytes, check, lib
from .context import Purpose, TLSContext, TLSVersion
from .errors import TLSUnsupportedError

if TYPE_CHECKING:  # pragma: no cover
    import ssl as _ssl

    from .dtls_memory import DTLSObject
    from .dtls_listener import DTLSListener
    from .dtls_socket import DTLSSocket

__all__ = ["DTLSContext", "peer_id"]

# The largest plaintext of one DTLS record: a read of this size always fits.
MAX_DATAGRAM = 16384

_DEFAULT_TIMEOUT = (1.0, 60.0)


def peer_id(address: Any) -> bytes:
    """The transport id a server binds its cookies to, for a peer address
    (``(host, port)`` or an IPv6 4-tuple with a numeric host): the address's
    bytes and the port (big-endian), as the library's own listener makes it.
    Bytes are returned as they are."""
    if isinstance(address, (bytes, bytearray, memoryview)):
        b = as_bytes(address, "peer id")
        if not b:
            raise ValueError("the peer id must not be empty")
        return b
    if not isinstance(address, tuple) or len(address) < 2:
        raise TypeError(f"a peer address must be a (host, port) tuple or bytes, not {address!r}")
    host, port = address[0], address[1]
    if not isinstance(host, str) or isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"a peer address must be (str host, int port), not {address!r}")
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} out of range 0-65535")
    host = host.split("%", 1)[0]  # an IPv6 scope is not part of the address bytes
    for family in (_socket.AF_INET, _socket.AF_INET6):
        try:
            raw = _socket.inet_pton(family, host)
            break
        except OSError:
            continue
    else:
        raise ValueError(f"a peer address needs a numeric host, not {host!r}")
    return raw + port.to_bytes(2, "big")


class DTLSContext(TLSContext):
    """DTLS 1.2 settings for client or server connections.

    As :class:`TLSContext` (a client context verifies the server's
    certificate and host name by default), plus the DTLS settings: the
    handshake's retransmission timer (:meth:`set_handshake_timeout`) and the
    path MTU (:attr:`mtu`). Mbed TLS has no DTLS 1.3: the version is 1.2.

    Example::

        ctx = DTLSContext()                       # client
        ctx.load_verify_locations("ca.pem")
        with ctx.connect("127.0.0.1", 4433, server_hostname="localhost") as s:
            s.send(b"ping")                       # one datagram
            print(s.recv())                       # one datagram
    """

    _datagram = True

    def __init__(self, purpose: Any = Purpose.SERVER_AUTH, *,
                 server_side: Optional[bool] = None) -> None:
        """A client context (default) or, with ``Purpose.CLIENT_AUTH`` or
        ``server_side=True``, a server context."""
        if isinstance(purpose, int) and not isinstance(purpose, bool):
            raise ValueError("DTLSContext takes Purpose.SERVER_AUTH / CLIENT_AUTH or server_side=, "
                             "not an ssl.PROTOCOL_* value (those are TLS)")
        super().__init__(purpose, server_side=server_side)
        check(lib().mojo_tls_config_set_transport(self._h(), _ffi.MOJO_TLS_TRANSPORT_DATAGRAM),
              "DTLSContext")
        # The library cuts the range to 1.2 (no DTLS 1.3 in Mbed TLS).
        self._maximum_version = TLSVersion.TLSv1_2
        self._mtu = 0
        self._handshake_timeout = _DEFAULT_TIMEOUT

    def __repr__(self) -> str:
        side = "server" if self._server_side else "client"
        return f"<DTLSContext {side}{' closed' if self.closed else ''}>"

    # -- versions: DTLS 1.2 only ------------------------------------------------
    @property
    def minimum_version(self) -> TLSVersion:
        """TLSv1_2 (DTLS 1.2, the only version; TLSv1_3 raises)."""
        return self._minimum_version

    @minimum_version.setter
    def minimum_version(self, value: TLSVersion) -> None:
        v = self._version_arg(value)
        if v > TLSVersion.TLSv1_2:
            raise TLSUnsupportedError("DTLS 1.3 is not supported (Mbed TLS has DTLS 1.2 only)")
        self._minimum_version = v

    @property
    def maximum_version(self) -> TLSVersion:
        """TLSv1_2: DTLS 1.2 (setting a higher one keeps 1.2)."""
        return self._maximum_version

    @maximum_version.setter
    def maximum_version(self, value: TLSVersion) -> None:
        self._version_arg(value)  # validate; DTLS stays 1.2

    # -- DTLS settings --------------------------------------------------------------
    def set_handshake_timeout(self, initial: float = 1.0, maximum: float = 60.0) -> None:
        """The handshake's retransmission timer, in seconds: an unanswered
        flight is sent again after `initial`, then after twice as long each
        time, and the handshake fails with TLSTimeoutError once the delay
        would pass `maximum` (default 1 and 60). Applies to connections made
        afterwards."""
        ms = []
        for name, v in (("initial", initial), ("maximum", maximum)):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise TypeError(f"{name} must be a number of seconds, not {type(v).__name__}")
            if not 0.001 <= v <= 2**31 / 1000 - 1:
                raise ValueError(f"{name} must be between 0.001 and 2147482 seconds, not {v!r}")
            ms.append(int(v * 1000))
        if ms[0] > ms[1]:
            raise ValueError(f"initial ({initial}) must not exceed maximum ({maximum})")
        check(lib().mojo_tls_config_set_dtls_handshake_timeout(self._h(), ms[0], ms[1]),
              "set_handshake_timeout")
        self._handshake_timeout = (ms[0] / 1000, ms[1] / 1000)

    @property
    def handshake_timeout(self) -> Tuple[float, float]:
        """(initial, maximum) retransmission delays in seconds (see
        :meth:`set_handshake_timeout`)."""
        return self._handshake_timeout

    @property
    def mtu(self) -> int:
        """The path MTU given to new connections, in bytes of a datagram
        (64..65535; 0, the default: no limit below the record size).
        Handshake flights are fragmented to fit; a send larger than one
        datagram then carries raises TLSInvalidArgumentError."""
        return self._mtu

    @mtu.setter
    def mtu(self, value: int) -> None:
        self._mtu = check_mtu(value)

    # -- connections ------------------------------------------------------------------
    def connect(self, host: str, port: int, *,  # type: ignore[override]
                timeout: Optional[float] = None, server_hostname: Optional[str] = None,
                session: Any = None) -> "DTLSSocket":
        """Open a UDP "connection" to `host`:`port` and complete the DTLS
        handshake within `timeout` seconds (None blocks; also the socket's
        timeout afterwards). `server_hostname` (default `host`) is the name
        verified and sent as SNI. Returns a :class:`~mojo_tls.DTLSSocket`."""
        return cast("DTLSSocket", self._dtls_connect(self, host, port, timeout=timeout,
                                                     server_hostname=server_hostname,
                                                     session=session))

    def listen(self, host: str = "127.0.0.1", port: int = 0, *,  # type: ignore[override]
               backlog: int = 0) -> "DTLSListener":
        """A :class:`~mojo_tls.DTLSListener` on UDP `host`:`port` (0: any
        free port) for a server context. `backlog` is accepted for symmetry
        with TLSContext.listen and ignored (UDP has none)."""
        return cast("DTLSListener", self._dtls_listen(self, host, port))

    def wrap_socket(self, sock: _socket.socket,  # type: ignore[override]
                    server_side: Optional[bool] = None, do_handshake_on_connect: bool = True,
                    suppress_ragged_eofs: bool = False, server_hostname: Optional[str] = None,
                    session: Any = None) -> "DTLSSocket":
        """DTLS over a connected UDP socket (``sock.connect(addr)`` first).
        The DTLSSocket takes the descriptor over (`sock` is detached). A
        server side uses the socket's peer address as the cookie's peer id."""
        return cast("DTLSSocket", self._dtls_socket_class._wrap(
            self, sock, server_side=server_side, server_hostname=server_hostname,
            do_handshake_on_connect=do_handshake_on_connect, session=session))

    def wrap_memory(self, server_side: Optional[bool] = None,  # type: ignore[override]
                    server_hostname: Optional[str] = None, session: Any = None,
                    peer: Any = None) -> "DTLSObject":
        """A :class:`~mojo_tls.DTLSObject` (memory mode: feed received
        datagrams in, drain datagrams to send). A server needs `peer` (the
        client's address or id bytes) here or via ``set_peer_id``."""
        return cast("DTLSObject", self._dtls_object_class(
            self, server_side=server_side, server_hostname=server_hostname, session=session,
            peer=peer))

    def wrap_bio(self, incoming: "_ssl.MemoryBIO", outgoing: "_ssl.MemoryBIO",
                 server_side: bool = False, server_hostname: Optional[str] = None,
                 session: Any = None) -> Any:
        """Not for DTLS: ``ssl.MemoryBIO`` is a byte stream and loses the
        datagram boundaries DTLS needs. Use :meth:`wrap_memory`."""
        raise NotImplementedError("DTLS cannot run over ssl.MemoryBIO (a byte stream): use "
                                  "DTLSContext.wrap_memory() or mojo_tls.aio.create_dtls_connection")

    def as_ssl_context(self) -> Any:
        """Not for DTLS (the ssl module has no DTLS)."""
        raise NotImplementedError("the ssl module has no DTLS: a DTLSContext has no "
                                  "ssl.SSLContext form")

    # Set by dtls_socket and dtls_memory when they load (they import this module).
    _dtls_socket_class: Any = None
    _dtls_object_class: Any = None
    _dtls_connect: Any = None
    _dtls_listen: Any = None


def check_mtu(value: Any) -> int:
    """An MTU argument: 0 (no limit) or 64..65535."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"mtu must be an int, not {type(value).__name__}")
    if value != 0 and not 64 <= value <= 65535:
        raise ValueError(f"mtu must be 0 (no limit) or 64..65535, not {value}")
    return int(value)


def is_dtls_context(context: Any) -> bool:
    return isinstance(context, TLSContext) and context._datagram


Address = Union[Tuple[str, int], Tuple[str, int, int, int]]
