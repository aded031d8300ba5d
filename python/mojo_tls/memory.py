"""TLSObject: TLS without a socket (memory mode), like ``ssl.SSLObject``.

The caller moves the ciphertext: :meth:`TLSObject.feed` what arrives from the
peer, send what :meth:`TLSObject.drain` returns. Operations that need more
input raise :class:`~mojo_tls.TLSWantReadError`. This is what the asyncio
helpers are built on, and what lets any event loop drive TLS.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any, Optional, Union, overload

from . import _ffi
from ._conn import _ConnBase, check_server_hostname, normalize_server_hostname
from . import _sni
from ._core import as_bytes, check_handle, lib
from .context import TLSContext
from .errors import TLSWantWriteError

if TYPE_CHECKING:  # pragma: no cover
    from _typeshed import WriteableBuffer

Err = _ffi.mojo_tls_err

__all__ = ["TLSObject"]

_RECORD = 16384


class TLSObject(_ConnBase):
    """A memory-mode TLS connection.

    Example (client)::

        tls = TLSObject(ctx, server_hostname="example.com")
        try:
            tls.do_handshake()
        except TLSWantReadError:
            pass
        sock.sendall(tls.drain())          # ClientHello
        tls.feed(sock.recv(65536))         # ServerHello ...
    """

    _closed_what = "TLSObject"

    def __init__(self, context: TLSContext, *, server_side: Optional[bool] = None,
                 server_hostname: Optional[str] = None, session: Any = None,
                 suppress_ragged_eofs: bool = False) -> None:
        self._init_base(context, getattr(context, "server_side", False) is True, None)
        #: True: after feed_eof() without the peer's close_notify, read()
        #: gives b'' (0 into a buffer) instead of raising TLSTruncatedError.
        self.suppress_ragged_eofs = bool(suppress_ragged_eofs)
        if not isinstance(context, TLSContext):
            raise TypeError(f"context must be a TLSContext, not {type(context).__name__}")
        context._require_stream("TLSObject")
        context._check_side(server_side)
        side = context.server_side
        name = check_server_hostname(context, side, server_hostname)
        self.server_side = side
        self.server_hostname = normalize_server_hostname(server_hostname)
        self._conn = check_handle(lib().mojo_tls_conn_new_memory(context._h(), name), "TLSObject")
        _sni.register(self, self._conn)
        try:
            self._import_session(session)
        except BaseException:
            self._free()
            raise

    # -- ciphertext in/out ----------------------------------------------------------
    def feed(self, data: Any) -> int:
        """Hand over ciphertext received from the peer; returns its length."""
        b = as_bytes(data)
        c = self._h()
        if not b:
            return 0
        return self._check(lib().mojo_tls_conn_feed(c, b, len(b)), "feed")

    def feed_eof(self) -> None:
        """The transport has ended (reads then give b'' after a close_notify,
        else raise TLSTruncatedError)."""
        self._check(lib().mojo_tls_conn_feed_eof(self._h()), "feed_eof")

    @property
    def pending_output(self) -> int:
        """Bytes of ciphertext waiting to be drained."""
        return self._check(lib().mojo_tls_conn_pending_output(self._h()), "pending_output")

    def drain(self, max_bytes: int = -1) -> bytes:
        """Take the ciphertext to send to the peer (all of it by default)."""
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int):
            raise TypeError("max_bytes must be an int")
        c = self._h()
        L = lib()
        out = []
        total = 0
        while max_bytes < 0 or total < max_bytes:
            want = self._check(L.mojo_tls_conn_pending_output(c), "drain")
            if want == 0:
                break
            if max_bytes >= 0:
                want = min(want, max_bytes - total)
            buf = ctypes.create_string_buffer(want)
            n = self._check(L.mojo_tls_conn_drain(c, buf, want), "drain")
            if n == 0:
                break
            out.append(buf.raw[:n])
            total += n
        return b"".join(out)

    # -- TLS operations ------------------------------------------------------------------
    def do_handshake(self) -> None:
        """Advance the handshake; raises TLSWantReadError until it completes
        (feed more input, send what drain() gives, call again)."""
        if self._failed is not None:
            raise self._failed
        self._check(lib().mojo_tls_conn_handshake(self._h()), "handshake")
        self._handshake_done = True
        self._post_handshake()

    @property
    def handshake_done(self) -> bool:
        """True once the handshake completed."""
        if not self._handshake_done and self._conn is not None:
            self._handshake_done = lib().mojo_tls_conn_version(self._conn) > 0
            if self._handshake_done:
                self._note_handshake()
        return self._handshake_done

    @overload
    def read(self, n: int = ..., buffer: None = ...) -> bytes: ...
    @overload
    def read(self, n: int, buffer: WriteableBuffer) -> int: ...
    @overload
    def read(self, n: int = ..., *, buffer: WriteableBuffer) -> int: ...

    def read(self, n: int = 65536, buffer: Optional[WriteableBuffer] = None) -> Union[bytes, int]:
        """Decrypted bytes (up to `n`), b'' after the peer's close_notify; with
        `buffer`, read into it and return the count. Raises TLSWantReadError
        when more input is needed, TLSTruncatedError once the input ended
        (feed_eof) without close_notify, unless ``suppress_ragged_eofs``
        (then b'' / 0, as at a clean end)."""
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError("n must be an int")
        if n < 0:
            raise ValueError("negative read size")
        c = self._h()
        self._pre_io()
        if buffer is not None:
            mv = memoryview(buffer)
            if mv.readonly:
                raise TypeError("read() needs a writable buffer")
            mv = mv.cast("B") if mv.format != "B" or mv.ndim != 1 else mv
            n = min(n, len(mv)) if n else len(mv)
            if n == 0:
                return 0
            cbuf = (ctypes.c_char * n).from_buffer(mv)
            return self._read_result(lib().mojo_tls_conn_read(c, cbuf, n))
        if n == 0:
            return b""
        buf = ctypes.create_string_buffer(n)
        r = self._read_result(lib().mojo_tls_conn_read(c, buf, n))
        if r == 0:
            self._peer_closed = True
        return buf.raw[:r]

    def _read_result(self, rc: int) -> int:
        if rc == Err.MOJO_TLS_ERR_TRUNCATED and self.suppress_ragged_eofs:
            return 0
        return self._check(rc, "read")

    def pending(self) -> int:
        """Decrypted bytes readable without more input."""
        return self._check(lib().mojo_tls_conn_pending(self._h()), "pending")

    def write(self, data: Any) -> int:
        """Encrypt `data` (all of it; call drain() to get the records).
        Returns the count of bytes consumed."""
        b = as_bytes(data)
        c = self._h()
        self._pre_io()
        L = lib()
        off = 0
        while off < len(b):
            chunk = b[off:off + _RECORD]
            n = L.mojo_tls_conn_write(c, chunk, len(chunk))
            if n == Err.MOJO_TLS_ERR_WANT_WRITE and off > 0:
                break
            if n < 0:
                raise self._error(n, "write")
            off += n
        if off == 0 and b:
            raise TLSWantWriteError("drain the output first", int(Err.MOJO_TLS_ERR_WANT_WRITE))
        return off

    def unwrap(self) -> None:
        """Send close_notify (drain() then gives the alert to send)."""
        self._send_close_notify("unwrap")

    def close(self) -> None:
        """Release the native connection (idempotent)."""
        self._free()

    def __enter__(self) -> "TLSObject":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        side = "server" if self.server_side else "client"
        return f"<TLSObject {side}{' closed' if self.closed else ''}>"


# TLSContext.wrap_memory reaches this class through this (as
# ssl.SSLContext.sslobject_class): context.py cannot import it back.
TLSContext._object_class = TLSObject
