"""DTLSListener: a DTLS server on one UDP socket (DTLSContext.listen())."""

from __future__ import annotations

import socket as _socket
import threading
import time
from typing import Any, Optional, Tuple

from . import _ffi
from ._core import c_str, check_handle, lib, make_error, timeout_ms
from ._signals import handle_call
from ._sockets import _check_port, _sock_from_fd
from .dtls import DTLSContext
from .dtls_socket import DTLSSocket
from .errors import TLSClosedError, TLSError

Err = _ffi.mojo_tls_err

__all__ = ["DTLSListener"]


class DTLSListener:
    """A UDP socket serving DTLS clients: :meth:`accept` returns one
    :class:`DTLSSocket` per client (each on its own connected UDP socket).
    Hellos without a valid cookie are answered statelessly (no state is kept
    for a client before it returns its cookie)."""

    def __init__(self, context: DTLSContext, handle: _ffi.DtlsListenerHandle) -> None:
        self.context = context
        self._l: Optional[_ffi.DtlsListenerHandle] = handle
        self._lock = threading.Lock()
        self._timeout: Optional[float] = None

    def _h(self) -> _ffi.DtlsListenerHandle:
        h = self._l
        if h is None:
            raise TLSClosedError("the DTLSListener is closed", int(Err.MOJO_TLS_ERR_CLOSED))
        return h

    def _int(self, rc: int, what: str) -> int:
        if rc < 0:
            if rc == Err.MOJO_TLS_ERR_INVALID_HANDLE:
                raise TLSClosedError("the DTLSListener is closed", int(Err.MOJO_TLS_ERR_CLOSED))
            raise make_error(rc, what)
        return rc

    @property
    def port(self) -> int:
        """The local UDP port (useful after listening on port 0)."""
        return self._int(lib().mojo_tls_dtls_listener_port(self._h()), "port")

    @property
    def peer_count(self) -> int:
        """Clients accepted whose connection is still open."""
        return self._int(lib().mojo_tls_dtls_listener_peer_count(self._h()), "peer_count")

    def fileno(self) -> int:
        """The listener's socket (poll it: readable means call accept(0)),
        -1 once closed. Owned by the listener: do not read it."""
        h = self._l
        if h is None:
            return -1
        fd: int = lib().mojo_tls_dtls_listener_fd(h)
        return fd if fd >= 0 else -1

    def getsockname(self) -> Any:
        """The local address."""
        with _sock_from_fd(self._int(lib().mojo_tls_dtls_listener_fd(self._h()), "fd")) as s:
            return s.getsockname()

    def settimeout(self, value: Optional[float]) -> None:
        """Default timeout of accept() (None = block)."""
        timeout_ms(value)
        self._timeout = value

    def gettimeout(self) -> Optional[float]:
        return self._timeout

    _DEFAULT = object()

    def accept(self, timeout: Any = _DEFAULT, *, handshake: bool = True) -> Tuple[DTLSSocket, Any]:
        """The next client whose hello brings a valid cookie, its handshake
        done, within `timeout` seconds (default: the listener's timeout;
        also the socket's timeout). Returns (DTLSSocket, address).
        ``timeout=0`` never blocks: TLSWantReadError when no client is
        ready (and then the handshake is left to the socket, as with
        ``handshake=False``). A failed handshake raises its error; call
        again for the next client."""
        t = self._timeout if timeout is DTLSListener._DEFAULT else timeout
        timeout_ms(t)  # validate
        h = self._h()
        L = lib()
        # With an MTU the handshake must start after set_mtu (its flights
        # are fragmented to fit): accept without it, then handshake here.
        later = bool(self.context.mtu) and handshake and t != 0
        fn = (L.mojo_tls_conn_new_dtls_accept if handshake and not later
              else L.mojo_tls_conn_new_dtls_accept_no_handshake)
        start = time.monotonic()
        conn = handle_call(t, lambda ms: fn(h, ms))
        if not conn and L.mojo_tls_last_error_code() == Err.MOJO_TLS_ERR_INVALID_HANDLE:
            raise TLSClosedError("the DTLSListener is closed", int(Err.MOJO_TLS_ERR_CLOSED))
        conn = check_handle(conn, "accept")
        s = DTLSSocket._new(self.context, conn, server_side=True, server_hostname=None,
                            timeout=t, handshake_done=handshake and not later and t != 0)
        try:
            s._apply_context()
            if later:
                left = None if t is None else max(0.001, t - (time.monotonic() - start))
                s.settimeout(left)
                s.do_handshake()
                s.settimeout(t)
        except BaseException:
            s.abandon()
            raise
        try:
            addr = s.getpeername()
        except (OSError, TLSError):
            addr = None
        return s, addr

    def close(self) -> None:
        """Close the listener's socket (idempotent); accepted sockets go on."""
        with self._lock:
            h, self._l = self._l, None
        if h is not None:
            lib().mojo_tls_dtls_listener_free(h)

    @property
    def closed(self) -> bool:
        return self._l is None

    def __enter__(self) -> "DTLSListener":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        if self._l is None:
            return "<DTLSListener [closed]>"
        return f"<DTLSListener port={self.port} peers={self.peer_count}>"


def listen(context: DTLSContext, host: str = "127.0.0.1", port: int = 0) -> DTLSListener:
    """DTLSContext.listen: a DTLSListener on UDP `host`:`port`."""
    if not isinstance(context, DTLSContext):
        raise TypeError(f"context must be a DTLSContext, not {type(context).__name__}")
    if not context.server_side:
        raise ValueError("listen() needs a server context (DTLSContext(server_side=True))")
    if not isinstance(host, str):
        raise TypeError(f"host must be str, not {type(host).__name__}")
    _check_port(port)
    h = lib().mojo_tls_dtls_listener_new(context._h(), c_str(host, "host"), port)
    if not h:
        code = lib().mojo_tls_last_error_code() or int(Err.MOJO_TLS_ERR_INTERNAL)
        exc = make_error(code, f"listen({host!r}, {port})")
        if code == Err.MOJO_TLS_ERR_CONNECT:
            # As socket.bind raises it (address in use & co.), when Python sees it too.
            try:
                with _socket.socket(_socket.AF_INET6 if ":" in host else _socket.AF_INET,
                                    _socket.SOCK_DGRAM) as s:
                    s.bind((host, port))
            except OSError as err:
                if err.errno is not None:
                    raise err from None
        raise exc
    return DTLSListener(context, h)


DTLSContext._dtls_listen = staticmethod(listen)
