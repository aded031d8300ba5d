"""Blocking TLS sockets: connect(), listen()/accept(), wrap_socket()."""

from __future__ import annotations

import ctypes
import errno
import io
import os
import socket as _socket
import threading
import time
from typing import Any, List, Optional, Tuple, Union

from . import _ffi
from ._conn import _ConnBase, check_server_hostname, normalize_server_hostname
from . import _sni
from ._core import as_bytes, c_str, check, check_handle, lib, make_error, timeout_ms
from ._signals import check_signals, conn_call, handle_call
from .context import TLSContext
from .errors import (TLSClosedError, TLSConnectError, TLSConnectionRefusedError,
                     TLSError, TLSWantReadError)

Err = _ffi.mojo_tls_err

__all__ = ["TLSSocket", "TLSListener", "connect", "listen"]

_RECORD = 16384


def _sock_from_fd(fd: int) -> _socket.socket:
    """A Python socket on a duplicate of `fd` (for getpeername & co)."""
    return _socket.socket(fileno=os.dup(fd))


def _os_error(op: str, host: str, port: int, timeout: Optional[float]) -> Optional[OSError]:
    """The OSError (with errno) Python's own socket gets doing what the
    library's `op` ('connect' / 'listen') just failed to do, so errors are
    the stdlib's ConnectionRefusedError, EADDRINUSE, ... None if it works now."""
    try:
        if op == "connect":
            t = 5.0 if timeout is None else min(max(timeout, 0.1), 5.0)
            _socket.create_connection((host.strip("[]"), port), timeout=t).close()
        else:
            infos = _socket.getaddrinfo(host.strip("[]"), port, type=_socket.SOCK_STREAM,
                                        flags=_socket.AI_PASSIVE)
            fam, typ, proto, _, addr = infos[0]
            with _socket.socket(fam, typ, proto) as s:
                s.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
                s.bind(addr)
                s.listen(1)
    except _socket.gaierror:
        return None  # name resolution: the library's TLSConnectError says it
    except OSError as exc:
        if exc.errno is not None:
            return exc
    return None


def _connect_error(exc: TLSError, host: str, port: int, timeout: Optional[float]) -> TLSError:
    """A TLSConnectError from the library's TCP connect, made the stdlib's
    OSError subclass with errno (ConnectionRefusedError, ...) when Python's
    socket sees the same failure."""
    if not isinstance(exc, TLSConnectError) or isinstance(exc, TimeoutError):
        return exc  # (its __cause__ is None: raised "from None", as before)
    err = _os_error("connect", host, port, timeout)
    if err is None:
        return exc
    if isinstance(err, ConnectionRefusedError):
        new: TLSConnectError = TLSConnectionRefusedError(exc.message, int(Err.MOJO_TLS_ERR_CONNECT),
                                                         errno=err.errno)
    else:
        new = TLSConnectError(exc.message, int(Err.MOJO_TLS_ERR_CONNECT), errno=err.errno)
    new.__cause__ = err
    return new


def _check_port(port: Any) -> int:
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port must be an int, not {type(port).__name__}")
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} out of range 0-65535")
    return port


class _SocketConn(_ConnBase):
    """What a connection over a socket the library owns shares with a
    socket: its timeout, its descriptor and addresses (TLSSocket,
    DTLSSocket)."""

    _timeout: Optional[float]

    # -- timeouts -----------------------------------------------------------------------------
    def settimeout(self, value: Optional[float]) -> None:
        """None = blocking, 0 = non-blocking, > 0 = seconds per operation."""
        ms = timeout_ms(value)
        lib().mojo_tls_conn_set_timeout(self._h(), ms)
        self._timeout = None if value is None else float(value)

    def gettimeout(self) -> Optional[float]:
        """The timeout in seconds (None = blocking)."""
        return self._timeout

    def setblocking(self, flag: bool) -> None:
        """setblocking(True) = settimeout(None); setblocking(False) = settimeout(0)."""
        self.settimeout(None if flag else 0.0)

    def getblocking(self) -> bool:
        """True unless the timeout is 0."""
        return self._timeout != 0

    # -- the socket -----------------------------------------------------------------------------
    def fileno(self) -> int:
        """The socket's fd (for select/poll), or -1 once closed. Do not read or
        write it directly."""
        c = self._conn
        if c is None:
            return -1
        fd = lib().mojo_tls_conn_fd(c)
        return fd if fd >= 0 else -1

    def getpeername(self) -> Any:
        """The remote address."""
        with _sock_from_fd(self._fd()) as s:
            return s.getpeername()

    def getsockname(self) -> Any:
        """The local address."""
        with _sock_from_fd(self._fd()) as s:
            return s.getsockname()

    def _fd(self) -> int:
        fd: int = lib().mojo_tls_conn_fd(self._h())
        if fd < 0:
            raise self._error(fd, "fileno")
        return fd

    @property
    def family(self) -> int:
        """The address family of the underlying socket."""
        with _sock_from_fd(self._fd()) as s:
            return s.family


class TLSSocket(_SocketConn):
    """A TLS connection over a TCP socket, used like ``ssl.SSLSocket``.

    Created by :func:`connect`, :meth:`TLSListener.accept` or
    :meth:`TLSContext.wrap_socket`. ``recv`` returns ``b''`` once the peer sent
    close_notify; an abrupt TCP close without it raises
    :class:`~mojo_tls.TLSTruncatedError` (unless ``suppress_ragged_eofs``).
    Timeouts follow the socket conventions: None blocks, 0 is non-blocking
    (:class:`~mojo_tls.TLSWantReadError` / ``TLSWantWriteError``), a number
    of seconds raises :class:`~mojo_tls.TLSTimeoutError` when it elapses.
    """

    _closed_what = "TLSSocket"
    # The descriptor wrap_socket() took over, closed by this object (-1 for
    # connect()/accept() sockets, which the library owns).
    _own_fd = -1
    suppress_ragged_eofs: bool
    _timeout: Optional[float]
    _write_lock: threading.Lock
    _io_refs: int
    _close_called: bool
    _waiters: List[None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("TLSSocket has no public constructor: use mojo_tls.connect(), "
                        "TLSListener.accept() or TLSContext.wrap_socket()")

    @classmethod
    def _new(cls, context: TLSContext, conn: _ffi.ConnHandle, *, server_side: bool,
             server_hostname: Optional[str], timeout: Optional[float],
             suppress_ragged_eofs: bool = False,
             handshake_done: bool = False) -> "TLSSocket":
        self = object.__new__(cls)
        self._init_base(context, server_side, server_hostname)
        self._conn = conn
        _sni.register(self, conn)
        self._timeout = timeout
        self.suppress_ragged_eofs = suppress_ragged_eofs
        self._handshake_done = handshake_done
        self._write_lock = threading.Lock()
        # As socket.socket: files from makefile() keep the connection open
        # after close(); the last one to close really closes it.
        self._io_refs = 0
        self._close_called = False
        # Threads inside a blocking call on this connection (list.append /
        # pop are atomic): close() wakes them.
        self._waiters = []
        if handshake_done:
            self._note_handshake()
        return self

    @classmethod
    def _wrap(cls, context: TLSContext, sock: _socket.socket, *, server_side: Optional[bool],
              server_hostname: Optional[str], do_handshake_on_connect: bool,
              suppress_ragged_eofs: bool, session: Any) -> "TLSSocket":
        if not isinstance(context, TLSContext):
            raise TypeError("context must be a TLSContext")
        if not isinstance(sock, _socket.socket):
            raise TypeError(f"sock must be a socket.socket, not {type(sock).__name__}")
        context._require_stream("wrap_socket")
        if sock.type != _socket.SOCK_STREAM:
            raise ValueError("only stream sockets are supported")
        context._check_side(server_side)
        side = context.server_side
        name = check_server_hostname(context, side, server_hostname)
        if sock.fileno() < 0:
            raise OSError("the socket is closed")
        try:
            sock.getpeername()
        except OSError as exc:
            # Checked before the socket is detached, so it stays usable.
            raise OSError(exc.errno or errno.ENOTCONN,
                          "wrap_socket() needs a connected socket (unlike ssl, a TLSSocket "
                          "cannot connect() or accept() later: connect the socket first, or "
                          "wrap each accepted socket, or use listen()/accept())") from exc
        cfg = context._h()
        timeout = sock.gettimeout()
        # Take the descriptor over, as ssl does: `sock` is detached (its
        # fileno() is -1, closing it does nothing) and this object owns the
        # fd. The library gets it as the caller's socket (take_ownership 0),
        # so it reads whole TLS records only: whatever the peer sends in
        # clear after its close_notify stays in the socket for unwrap()
        # (STARTTLS). We close the fd once the connection is released and
        # no thread is waiting on it (_close_fd_if_idle).
        fd = sock.detach()
        conn = lib().mojo_tls_conn_new_fd(cfg, fd, 0, name)
        if not conn:
            os.close(fd)  # as ssl: the socket is closed on failure
        conn = check_handle(conn, "wrap_socket")
        self = cls._new(context, conn, server_side=side,
                        server_hostname=normalize_server_hostname(server_hostname),
                        timeout=timeout, suppress_ragged_eofs=suppress_ragged_eofs)
        self._own_fd = fd
        try:
            lib().mojo_tls_conn_set_timeout(conn, timeout_ms(self._timeout))
            self._import_session(session)
            if do_handshake_on_connect:
                self.do_handshake()
        except BaseException:
            self._real_close()  # as ssl: the socket is closed on failure
            raise
        return self

    def _blocking(self, fn: Any) -> int:
        """`fn()` on this connection, repeated after a signal once Python's
        handlers ran (PEP 475; KeyboardInterrupt and co. propagate)."""
        if self._timeout == 0:
            return conn_call(self._h(), 0, fn)
        w = self._waiters
        w.append(None)
        try:
            return conn_call(self._h(), self._timeout, fn)
        finally:
            w.pop()
            if self._conn is None:
                self._close_fd_if_idle()

    # -- handshake -------------------------------------------------------------------
    def do_handshake(self) -> None:
        """Complete the handshake now (otherwise the first read/write does it)."""
        c = self._h()
        if self._failed is not None:
            raise self._failed
        rc = self._blocking(lambda: lib().mojo_tls_conn_handshake(c))
        self._check(rc, "handshake")
        self._handshake_done = True
        self._post_handshake()

    # -- reading ----------------------------------------------------------------------
    def recv(self, bufsize: int = 65536, flags: int = 0) -> bytes:
        """Read up to `bufsize` decrypted bytes; b'' at the peer's close_notify."""
        if isinstance(bufsize, bool) or not isinstance(bufsize, int):
            raise TypeError(f"bufsize must be an int, not {type(bufsize).__name__}")
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        if flags:
            raise ValueError("non-zero flags not allowed in calls to recv() on TLSSocket")
        c = self._h()
        self._pre_io()
        if bufsize == 0:
            return b""
        buf = ctypes.create_string_buffer(bufsize)
        n = self._read_result(self._blocking(lambda: lib().mojo_tls_conn_read(c, buf, bufsize)))
        return buf.raw[:n]

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """Read into a writable buffer (bytearray, memoryview, ...); returns the count."""
        if flags:
            raise ValueError("non-zero flags not allowed in calls to recv_into() on TLSSocket")
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
        if nbytes == 0 or nbytes > len(mv):
            nbytes = len(mv)
        c = self._h()
        self._pre_io()
        if nbytes == 0:
            return 0
        cbuf = (ctypes.c_char * nbytes).from_buffer(mv)
        return self._read_result(self._blocking(lambda: lib().mojo_tls_conn_read(c, cbuf, nbytes)))

    def read(self, len: int = 1024, buffer: Any = None) -> Union[bytes, int]:
        """stdlib SSLSocket.read compatibility."""
        if buffer is not None:
            return self.recv_into(buffer, len)
        return self.recv(len)

    def _read_result(self, n: int) -> int:
        if n >= 0:
            if n > 0:
                self._handshake_done = True
                self._note_handshake()
            else:
                self._peer_closed = True
            return n
        if n == Err.MOJO_TLS_ERR_TRUNCATED and self.suppress_ragged_eofs:
            return 0
        raise self._error(n, "recv")

    def pending(self) -> int:
        """Decrypted bytes recv() returns without touching the socket (all
        the library has received counts). With select/selectors: after the
        fd is readable, recv() once, then again while pending() > 0; never
        wait on the fd while pending() > 0."""
        return self._check(lib().mojo_tls_conn_pending(self._h()), "pending")

    # -- writing -------------------------------------------------------------------------
    def send(self, data: Any, flags: int = 0) -> int:
        """Send up to one TLS record of `data`; returns the count sent."""
        if flags:
            raise ValueError("non-zero flags not allowed in calls to send() on TLSSocket")
        b = as_bytes(data)
        c = self._h()
        self._pre_io()
        if not b:
            return 0
        chunk = b[:_RECORD] if len(b) > _RECORD else b
        n = self._blocking(lambda: lib().mojo_tls_conn_write(c, chunk, len(chunk)))
        self._check(n, "send")
        self._handshake_done = True
        self._note_handshake()
        return n

    def write(self, data: Any) -> int:
        """stdlib SSLSocket.write compatibility (= send)."""
        return self.send(data)

    def sendall(self, data: Any, flags: int = 0) -> None:
        """Send all of `data` (raises on error; with a timeout of 0 a
        TLSWantWriteError may come after part of it was sent)."""
        if flags:
            raise ValueError("non-zero flags not allowed in calls to sendall() on TLSSocket")
        b = as_bytes(data)
        c = self._h()
        self._pre_io()
        if not b:
            return
        with self._write_lock:
            if self._timeout == 0:
                off = 0
                while off < len(b):
                    off += self.send(b[off:off + _RECORD])
                return
            off = 0
            while True:
                rest = b[off:] if off else b
                n = self._blocking(lambda: lib().mojo_tls_conn_write_all(c, rest, len(rest)))
                off += self._check(n, "sendall")
                if off >= len(b):
                    break
                check_signals()  # a short count: a signal came after some bytes
        self._handshake_done = True
        self._note_handshake()

    def makefile(self, mode: str = "r", buffering: Optional[int] = None, *,
                 encoding: Optional[str] = None, errors: Optional[str] = None,
                 newline: Optional[str] = None) -> Any:
        """A file object over the connection (modes 'r', 'w', 'b' combinations,
        as socket.makefile). Closing the file does not close the socket; as
        with socket.socket, :meth:`close` leaves open files working and the
        connection is really closed when the last of them is closed."""
        if not set(mode) <= {"r", "w", "b"}:
            raise ValueError(f"invalid mode {mode!r} (only r, w, b allowed)")
        reading = "r" in mode or "w" not in mode
        writing = "w" in mode
        binary = "b" in mode
        self._h()  # not on a closed connection
        raw = _TLSRawIO(self, reading, writing)
        self._io_refs += 1
        if buffering is None:
            buffering = -1
        if buffering < 0:
            buffering = io.DEFAULT_BUFFER_SIZE
        if buffering == 0:
            if not binary:
                raise ValueError("unbuffered streams must be binary")
            return raw
        if reading and writing:
            buffer: Any = io.BufferedRWPair(raw, raw, buffering)
        elif reading:
            buffer = io.BufferedReader(raw, buffering)
        else:
            buffer = io.BufferedWriter(raw, buffering)
        if binary:
            return buffer
        text = io.TextIOWrapper(buffer, encoding, errors, newline)
        text.mode = mode  # type: ignore[misc]
        return text

    # -- socket options ---------------------------------------------------------------------------
    def setsockopt(self, level: int, optname: int, value: Any, optlen: Optional[int] = None) -> None:
        """socket.setsockopt on the underlying socket (e.g. TCP_NODELAY)."""
        with _sock_from_fd(self._fd()) as s:
            if optlen is None:
                s.setsockopt(level, optname, value)
            else:
                s.setsockopt(level, optname, value, optlen)

    def getsockopt(self, level: int, optname: int, buflen: int = 0) -> Any:
        """socket.getsockopt on the underlying socket."""
        with _sock_from_fd(self._fd()) as s:
            return s.getsockopt(level, optname, buflen) if buflen else s.getsockopt(level, optname)

    @property
    def type(self) -> int:
        """socket.SOCK_STREAM."""
        return _socket.SOCK_STREAM

    # -- closing ------------------------------------------------------------------------------------
    def shutdown(self, how: int) -> None:
        """SHUT_WR / SHUT_RDWR send close_notify first, then shut the TCP
        socket down in that direction."""
        if how in (_socket.SHUT_WR, _socket.SHUT_RDWR):
            self._send_close_notify("shutdown", self._blocking)
        with _sock_from_fd(self._fd()) as s:
            s.shutdown(how)

    def unwrap(self) -> _socket.socket:
        """End TLS but keep the TCP connection: send close_notify, wait for the
        peer's (within the timeout) and return the plain socket."""
        self._send_close_notify("unwrap", self._blocking)
        c = self._h()
        deadline = None if self._timeout is None else time.monotonic() + max(self._timeout, 0.001)
        buf = ctypes.create_string_buffer(_RECORD)
        while True:
            n = self._blocking(lambda: lib().mojo_tls_conn_read(c, buf, _RECORD))
            if n == 0 or n == Err.MOJO_TLS_ERR_CLOSED:
                break
            if n < 0:
                raise self._error(n, "unwrap")
            if deadline is not None and time.monotonic() > deadline:
                raise make_error(int(Err.MOJO_TLS_ERR_TIMEOUT), "unwrap")
        sock = _sock_from_fd(self._fd())  # a new descriptor for the same TCP socket
        self._close_called = True
        self._free(abandon=True)  # nothing more to send; closes the library's fd
        try:
            sock.settimeout(self._timeout)
        except OSError:
            pass
        return sock

    def close(self) -> None:
        """Close the connection and its socket, sending nothing (no
        close_notify), as ssl.SSLSocket.close(): use :meth:`unwrap` or
        ``shutdown(SHUT_WR)`` to end the TLS stream cleanly first. Files from
        :meth:`makefile` that are still open keep the connection working;
        it is closed when the last of them is. Idempotent."""
        self._close_called = True
        if self._io_refs <= 0:
            self._real_close()

    def _decref_socketios(self) -> None:
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._close_called:
            self.close()

    def _real_close(self) -> None:
        self._close_called = True
        c = self._conn
        if c is None:
            return
        if self._waiters:
            # Another thread is blocked on this connection: wake it (the
            # library closes the fd when it leaves). Only then is the TCP
            # socket shut down, as the library's own close would.
            try:
                fd = lib().mojo_tls_conn_fd(c)
                if fd >= 0:
                    with _sock_from_fd(fd) as s:
                        s.shutdown(_socket.SHUT_RDWR)
            except OSError:
                pass
        # Never sends anything: a copy of this socket in another process
        # (fork) must not see the session end.
        self._free(abandon=True)

    def _free(self, abandon: bool = False) -> None:
        super()._free(abandon)
        self._close_fd_if_idle()

    def _close_fd_if_idle(self) -> None:
        """Close the descriptor wrap_socket() took over once the connection
        is released and no thread waits on it (the library polls it until
        then; closing it earlier could let the number be reused under it)."""
        with self._handle_lock:
            fd = self._own_fd
            if fd < 0 or self._conn is not None or self._waiters:
                return
            self._own_fd = -1
        try:
            os.close(fd)
        except OSError:
            pass

    def abandon(self) -> None:
        """Release the connection at once without telling the peer: no
        close_notify, no TCP shutdown; the socket is closed in this process,
        also with makefile() files open. Idempotent."""
        self._close_called = True
        self._free(abandon=True)

    def detach(self) -> None:  # pragma: no cover - explicit refusal
        raise OSError("TLSSocket.detach is not supported: use unwrap()")

    def __enter__(self) -> "TLSSocket":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self._real_close()
        except Exception:
            pass

    def __repr__(self) -> str:
        if self.closed:
            return "<TLSSocket [closed]>"
        side = "server" if self.server_side else "client"
        return f"<TLSSocket {side} fd={self.fileno()} version={self.version()}>"


class _TLSRawIO(io.RawIOBase):
    """Raw I/O over a TLSSocket, for makefile()."""

    def __init__(self, sock: TLSSocket, reading: bool, writing: bool) -> None:
        super().__init__()
        self._tls = sock
        self._reading = reading
        self._writing = writing

    def readable(self) -> bool:
        return self._reading

    def writable(self) -> bool:
        return self._writing

    def readinto(self, b: Any) -> int:
        if not self._reading:
            raise io.UnsupportedOperation("not readable")
        try:
            return self._tls.recv_into(b)
        except TLSWantReadError:
            return None  # type: ignore[return-value]

    def write(self, b: Any) -> int:
        if not self._writing:
            raise io.UnsupportedOperation("not writable")
        data = as_bytes(b)
        self._tls.sendall(data)
        return len(data)

    def fileno(self) -> int:
        self._checkClosed()  # type: ignore[attr-defined,unused-ignore]
        return self._tls.fileno()

    @property
    def name(self) -> int:
        return -1 if self.closed else self._tls.fileno()

    def close(self) -> None:
        """Close the file; the last file of a closed TLSSocket closes it."""
        if self.closed:
            return
        super().close()
        self._tls._decref_socketios()


def connect(host: str, port: int, *, context: Optional[TLSContext] = None,
            timeout: Optional[float] = None, server_hostname: Optional[str] = None,
            session: Any = None, suppress_ragged_eofs: bool = False) -> TLSSocket:
    """Open a TCP connection to `host`:`port` and complete the TLS handshake.

    Args:
        context: a client TLSContext (default: a new one with secure defaults).
        timeout: seconds for the connect + handshake and later operations
            (None = block).
        server_hostname: the name to verify and send as SNI when it differs
            from `host` (e.g. connecting to an IP address); the TCP
            connection is then opened by Python and wrapped.
        session: a TLSSession from an earlier connection to resume.
    """
    if context is None:
        context = TLSContext()
    if not isinstance(context, TLSContext):
        raise TypeError(f"context must be a TLSContext, not {type(context).__name__}")
    context._require_stream("connect()")
    if context.server_side:
        raise ValueError("connect() needs a client context")
    if not isinstance(host, str):
        raise TypeError(f"host must be str, not {type(host).__name__}")
    _check_port(port)
    if server_hostname is not None and server_hostname != host:
        sock = _socket.create_connection((host, port), timeout=timeout)
        try:
            return context.wrap_socket(sock, server_hostname=server_hostname, session=session,
                                       suppress_ragged_eofs=suppress_ragged_eofs)
        except BaseException:
            sock.close()
            raise
    h = c_str(host.encode("idna") if not host.isascii() else host, "host")
    ms = timeout_ms(timeout)
    L = lib()
    if session is None:
        try:
            conn = check_handle(
                handle_call(timeout, lambda t: L.mojo_tls_conn_new_connect(context._h(), h, port, t)),
                f"connect({host!r}, {port})", server_hostname=host)
        except TLSError as exc:
            err = _connect_error(exc, host, port, timeout)
            raise err from err.__cause__
        s = TLSSocket._new(context, conn, server_side=False, server_hostname=host,
                           timeout=timeout, suppress_ragged_eofs=suppress_ragged_eofs,
                           handshake_done=True)
        try:
            s._post_handshake()
        except BaseException:
            s.close()
            raise
        return s
    # Resumption: start the TCP connect only, offer the session, then handshake.
    try:
        conn = check_handle(L.mojo_tls_conn_new_connect(context._h(), h, port, 0),
                            f"connect({host!r}, {port})")
    except TLSError as exc:
        err = _connect_error(exc, host, port, timeout)
        raise err from err.__cause__
    s = TLSSocket._new(context, conn, server_side=False, server_hostname=host, timeout=timeout,
                       suppress_ragged_eofs=suppress_ragged_eofs)
    try:
        s._import_session(session)
        L.mojo_tls_conn_set_timeout(conn, ms)
        s.do_handshake()
    except BaseException:
        s.close()
        raise
    return s


class TLSListener:
    """A listening TCP socket whose :meth:`accept` returns TLS connections."""

    def __init__(self, context: TLSContext, fd: int) -> None:
        self.context = context
        self._fd: Optional[int] = fd
        self._lock = threading.Lock()
        self._timeout: Optional[float] = None

    @property
    def port(self) -> int:
        """The local port (useful after listening on port 0)."""
        return check(lib().mojo_tls_socket_port(self._get_fd()), "port")

    def getsockname(self) -> Any:
        """The local address."""
        with _sock_from_fd(self._get_fd()) as s:
            return s.getsockname()

    def fileno(self) -> int:
        """The listening fd (poll it for readability), -1 once closed."""
        return -1 if self._fd is None else self._fd

    def settimeout(self, value: Optional[float]) -> None:
        """Default timeout of accept() (None = block)."""
        timeout_ms(value)
        self._timeout = value

    def gettimeout(self) -> Optional[float]:
        return self._timeout

    def _get_fd(self) -> int:
        fd = self._fd
        if fd is None:
            raise TLSClosedError("the listener is closed", int(Err.MOJO_TLS_ERR_CLOSED))
        return fd

    _DEFAULT = object()

    def accept(self, timeout: Any = _DEFAULT, *, handshake: bool = True) -> Tuple[TLSSocket, Any]:
        """Wait for a client and complete the handshake (within `timeout`
        seconds; default: the listener's timeout). Returns (TLSSocket, address).
        With ``handshake=False`` the handshake is left to the first I/O or
        :meth:`TLSSocket.do_handshake` (so a slow client cannot stall the loop)."""
        t = self._timeout if timeout is TLSListener._DEFAULT else timeout
        timeout_ms(t)  # validate
        fd = self._get_fd()
        L = lib()
        fn = L.mojo_tls_conn_new_accept if handshake else L.mojo_tls_conn_new_accept_no_handshake
        conn = check_handle(handle_call(t, lambda ms: fn(self.context._h(), fd, ms)), "accept")
        s = TLSSocket._new(self.context, conn, server_side=True, server_hostname=None, timeout=t,
                           handshake_done=handshake)
        try:
            addr = s.getpeername()
        except OSError:
            addr = None
        return s, addr

    def close(self) -> None:
        """Close the listening socket (idempotent)."""
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            lib().mojo_tls_socket_close(fd)

    @property
    def closed(self) -> bool:
        return self._fd is None

    def __enter__(self) -> "TLSListener":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        if self._fd is None:
            return "<TLSListener [closed]>"
        return f"<TLSListener fd={self._fd} port={self.port}>"


def listen(host: str = "127.0.0.1", port: int = 0, *, context: TLSContext,
           backlog: int = 128) -> TLSListener:
    """Listen on `host`:`port` (port 0 = any free port) with a server context."""
    if not isinstance(context, TLSContext):
        raise TypeError(f"context must be a TLSContext, not {type(context).__name__}")
    context._require_stream("listen()")
    if not context.server_side:
        raise ValueError("listen() needs a server context (TLSContext(server_side=True))")
    if not isinstance(host, str):
        raise TypeError(f"host must be str, not {type(host).__name__}")
    _check_port(port)
    if isinstance(backlog, bool) or not isinstance(backlog, int):
        raise TypeError("backlog must be an int")
    fd = lib().mojo_tls_socket_listen(c_str(host, "host"), port, max(1, min(backlog, 65535)))
    if fd < 0:
        exc = make_error(fd, f"listen({host!r}, {port})")
        # Address in use & co. are the stdlib's OSError with errno, as
        # socket.bind raises them, not a connect error.
        err = _os_error("listen", host, port, None) if fd == Err.MOJO_TLS_ERR_CONNECT else None
        if err is not None:
            raise err from None
        raise exc
    return TLSListener(context, fd)


# TLSContext.connect / listen / wrap_socket reach this module through these
# (as ssl.SSLContext.sslsocket_class): context.py cannot import it back.
TLSContext._socket_class = TLSSocket
TLSContext._connect = staticmethod(connect)
TLSContext._listen = staticmethod(listen)
