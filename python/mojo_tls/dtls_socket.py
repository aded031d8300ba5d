"""Blocking DTLS sockets: DTLSContext.connect() and wrap_socket(); DTLSListener.accept()."""

from __future__ import annotations

import errno
import socket as _socket
from typing import Any, Callable, List, Optional, Tuple

from . import _ffi, _sni
from ._conn import check_server_hostname, normalize_server_hostname
from ._core import c_str, check_handle, lib, timeout_ms
from ._dtls_conn import _DTLSConnBase, check_bufsize
from ._signals import conn_call, handle_call
from ._sockets import _check_port, _sock_from_fd, _SocketConn
from .dtls import MAX_DATAGRAM, DTLSContext, peer_id

__all__ = ["DTLSSocket"]


class DTLSSocket(_DTLSConnBase, _SocketConn):
    """A DTLS 1.2 connection over a connected UDP socket.

    Created by :meth:`DTLSContext.connect`, :meth:`DTLSListener.accept` or
    :meth:`DTLSContext.wrap_socket`. Each :meth:`send` is one datagram and
    each :meth:`recv` returns one datagram's plaintext, whole: a datagram
    larger than `bufsize` raises :class:`~mojo_tls.DTLSBufferTooSmallError`
    and stays queued. Datagrams may be lost (DTLS does not resend
    application data) but never arrive twice. ``recv`` returns ``b''`` after
    the peer's close_notify; :meth:`close` sends ours. Timeouts as on
    sockets: None blocks, 0 is non-blocking (TLSWantReadError; poll
    :meth:`fileno` for at most :meth:`next_timeout` during the handshake),
    a number of seconds raises TLSTimeoutError.
    """

    _closed_what = "DTLSSocket"
    _timeout: Optional[float]
    _waiters: List[None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("DTLSSocket has no public constructor: use DTLSContext.connect(), "
                        "DTLSListener.accept() or DTLSContext.wrap_socket()")

    @classmethod
    def _new(cls, context: DTLSContext, conn: _ffi.ConnHandle, *, server_side: bool,
             server_hostname: Optional[str], timeout: Optional[float],
             handshake_done: bool = False) -> "DTLSSocket":
        self = object.__new__(cls)
        self._init_base(context, server_side, server_hostname)
        self._conn = conn
        _sni.register(self, conn)
        self._timeout = timeout
        self._handshake_done = handshake_done
        self._waiters = []  # threads blocked on this connection: close() wakes them
        if handshake_done:
            self._note_handshake()
        return self

    @classmethod
    def _wrap(cls, context: DTLSContext, sock: _socket.socket, *, server_side: Optional[bool],
              server_hostname: Optional[str], do_handshake_on_connect: bool,
              session: Any) -> "DTLSSocket":
        if not isinstance(context, DTLSContext):
            raise TypeError("context must be a DTLSContext")
        if not isinstance(sock, _socket.socket):
            raise TypeError(f"sock must be a socket.socket, not {type(sock).__name__}")
        if sock.type != _socket.SOCK_DGRAM:
            raise ValueError("DTLS needs a UDP (SOCK_DGRAM) socket")
        context._check_side(server_side)
        side = context.server_side
        name = check_server_hostname(context, side, server_hostname)
        if sock.fileno() < 0:
            raise OSError("the socket is closed")
        try:
            peer = sock.getpeername()
        except OSError as exc:
            raise OSError(exc.errno or errno.ENOTCONN,
                          "wrap_socket() needs a connected UDP socket (sock.connect(address) "
                          "first: the kernel then delivers only that peer's datagrams)") from exc
        pid = peer_id(peer) if side else None
        timeout = sock.gettimeout()
        cfg = context._h()
        # The library owns the descriptor from now on (closed with the
        # connection, and if this call fails).
        fd = sock.detach()
        conn = check_handle(lib().mojo_tls_conn_new_fd(cfg, fd, 1, name), "wrap_socket")
        self = cls._new(context, conn, server_side=side,
                        server_hostname=normalize_server_hostname(server_hostname),
                        timeout=timeout)
        try:
            lib().mojo_tls_conn_set_timeout(conn, timeout_ms(timeout))
            self._apply_context()
            if pid is not None:
                self._check(lib().mojo_tls_conn_set_peer_id(conn, pid, len(pid)), "wrap_socket")
            self._import_session(session)
            if do_handshake_on_connect:
                self.do_handshake()
        except BaseException:
            self._free(abandon=True)
            raise
        return self

    def _blocking(self, fn: Callable[[], int]) -> int:
        """`fn()` on this connection within its timeout, repeated after a
        signal once Python's handlers ran (PEP 475)."""
        if self._timeout == 0:
            return conn_call(self._h(), 0, fn)
        w = self._waiters
        w.append(None)
        try:
            return conn_call(self._h(), self._timeout, fn)
        finally:
            w.pop()

    # -- handshake ----------------------------------------------------------------------
    def do_handshake(self) -> None:
        """Complete the handshake now (otherwise the first send/recv does it)."""
        c = self._h()
        if self._failed is not None:
            raise self._failed
        rc = self._blocking(lambda: lib().mojo_tls_conn_handshake(c))
        self._check(rc, "handshake")
        self._handshake_done = True
        self._post_handshake()

    # -- datagrams ------------------------------------------------------------------------
    def recv(self, bufsize: int = MAX_DATAGRAM, flags: int = 0) -> bytes:
        """The next datagram's plaintext (whole); b'' after the peer's
        close_notify. A datagram larger than `bufsize` raises
        DTLSBufferTooSmallError (``.size`` says how large) and is kept."""
        check_bufsize(bufsize)
        if flags:
            raise ValueError("non-zero flags not allowed in calls to recv() on DTLSSocket")
        self._h()
        self._pre_io()
        return self._read_datagram(bufsize, self._blocking, "recv")

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """The next datagram's plaintext into a writable buffer (its first
        `nbytes` bytes; 0: all of it); returns its length. As recv, a
        datagram that does not fit raises DTLSBufferTooSmallError and is kept."""
        if flags:
            raise ValueError("non-zero flags not allowed in calls to recv_into() on DTLSSocket")
        try:
            mv = memoryview(buffer)
        except TypeError:
            raise TypeError(f"recv_into() needs a writable buffer, not {type(buffer).__name__}") from None
        if mv.readonly:
            raise TypeError("recv_into() needs a writable buffer")
        mv = mv.cast("B") if mv.format != "B" or mv.ndim != 1 else mv
        if isinstance(nbytes, bool) or not isinstance(nbytes, int):
            raise TypeError("nbytes must be an int")
        if nbytes < 0:
            raise ValueError("negative buffersize in recv_into")
        if nbytes:
            mv = mv[:nbytes]
        check_bufsize(len(mv), "the buffer's size")
        self._h()
        self._pre_io()
        return self._read_datagram_into(mv, self._blocking, "recv_into")

    def recvfrom(self, bufsize: int = MAX_DATAGRAM, flags: int = 0) -> Tuple[bytes, Any]:
        """(recv(bufsize), the peer's address), as on a UDP socket."""
        data = self.recv(bufsize, flags)
        return data, self.getpeername()

    def send(self, data: Any, flags: int = 0) -> int:
        """Send `data` as one datagram; returns its length. More than one
        datagram carries (the MTU) raises TLSInvalidArgumentError and sends
        nothing; the connection goes on."""
        if flags:
            raise ValueError("non-zero flags not allowed in calls to send() on DTLSSocket")
        return self._write_datagram(data, self._blocking, "send")

    def sendto(self, data: Any, address: Any = None) -> int:
        """send(data); `address`, when given, must be the peer's."""
        if address is not None and address[:2] != self.getpeername()[:2]:
            raise ValueError(f"sendto: a DTLSSocket only talks to its peer "
                             f"{self.getpeername()!r}, not {address!r}")
        return self.send(data)

    def pending(self) -> int:
        """Length of the next datagram's plaintext the library already holds
        (recv() returns it without the socket), else 0."""
        return self._check(lib().mojo_tls_conn_pending(self._h()), "pending")

    # -- the UDP socket (timeouts, fileno, addresses: _SocketConn) --------------------------
    @property
    def type(self) -> int:
        """socket.SOCK_DGRAM."""
        return _socket.SOCK_DGRAM

    # -- closing -------------------------------------------------------------------------------
    def shutdown(self, how: int = _socket.SHUT_RDWR) -> None:
        """SHUT_WR / SHUT_RDWR send close_notify (the peer's recv returns
        b''); the connection stays open for recv until close()."""
        self._h()  # a closed socket raises whatever `how`
        if how in (_socket.SHUT_WR, _socket.SHUT_RDWR):
            self._send_close_notify("shutdown", self._blocking)
        elif how != _socket.SHUT_RD:
            raise ValueError(f"invalid shutdown mode {how!r}")

    def unwrap(self) -> _socket.socket:
        """End DTLS but keep the UDP association: send close_notify and
        return a plain socket for the same address pair."""
        self.shutdown(_socket.SHUT_WR)
        sock = _sock_from_fd(self._fd())
        self._free(abandon=True)  # nothing more to send; closes the library's fd
        try:
            sock.settimeout(self._timeout)
        except OSError:
            pass
        return sock

    def close(self) -> None:
        """Send close_notify (without waiting; once the handshake is done)
        and close the socket. Idempotent. A thread blocked in recv() on this
        socket is woken up (its call raises)."""
        c = self._conn
        if c is None:
            return
        if self._waiters:
            # Another thread waits on the socket: wake it so the connection
            # can be released (the library closes the fd when it leaves).
            try:
                fd = lib().mojo_tls_conn_fd(c)
                if fd >= 0:
                    with _sock_from_fd(fd) as s:
                        s.shutdown(_socket.SHUT_RDWR)
            except OSError:
                pass
            self._free(abandon=True)
            return
        self._free()

    def abandon(self) -> None:
        """Release the connection at once without telling the peer."""
        self._free(abandon=True)

    def __enter__(self) -> "DTLSSocket":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        if self.closed:
            return "<DTLSSocket [closed]>"
        side = "server" if self.server_side else "client"
        return f"<DTLSSocket {side} fd={self.fileno()} version={self.version()}>"


def connect(context: DTLSContext, host: str, port: int, *, timeout: Optional[float] = None,
            server_hostname: Optional[str] = None, session: Any = None) -> DTLSSocket:
    """DTLSContext.connect: a connected UDP socket to `host`:`port` and the
    handshake, within `timeout` seconds."""
    if not isinstance(context, DTLSContext):
        raise TypeError(f"context must be a DTLSContext, not {type(context).__name__}")
    if context.server_side:
        raise ValueError("connect() needs a client context")
    if not isinstance(host, str):
        raise TypeError(f"host must be str, not {type(host).__name__}")
    _check_port(port)
    timeout_ms(timeout)  # validate before any I/O
    if (server_hostname is not None and server_hostname != host) or session is not None \
            or context.mtu:
        # The name to verify differs from the address (or something must be
        # set before the handshake): our own connected UDP socket, wrapped.
        infos = _socket.getaddrinfo(host, port, type=_socket.SOCK_DGRAM)
        fam, typ, proto, _, addr = infos[0]
        sock = _socket.socket(fam, typ, proto)
        try:
            sock.connect(addr)
            sock.settimeout(timeout)
            return context.wrap_socket(sock, server_hostname=server_hostname or host,
                                       session=session)
        except BaseException:
            sock.close()
            raise
    h = c_str(host.encode("idna") if not host.isascii() else host, "host")
    L = lib()
    conn = check_handle(
        handle_call(timeout, lambda t: L.mojo_tls_conn_new_connect(context._h(), h, port, t)),
        f"connect({host!r}, {port})", server_hostname=host)
    s = DTLSSocket._new(context, conn, server_side=False, server_hostname=host, timeout=timeout,
                        handshake_done=True)
    try:
        s._post_handshake()
    except BaseException:
        s.close()
        raise
    return s


DTLSContext._dtls_socket_class = DTLSSocket
DTLSContext._dtls_connect = staticmethod(connect)
