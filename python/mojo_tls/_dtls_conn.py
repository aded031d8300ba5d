"""What DTLSSocket and DTLSObject share: datagram reads that never cut a
datagram, writes of one datagram, the retransmission timer and the MTU."""

from __future__ import annotations

import ctypes
from typing import Any, Callable, Optional

from . import _ffi
from ._conn import _ConnBase
from ._core import as_bytes, lib
from .dtls import MAX_DATAGRAM, check_mtu
from .errors import DTLSBufferTooSmallError, TLSInvalidArgumentError

Err = _ffi.mojo_tls_err


def check_bufsize(bufsize: Any, what: str = "bufsize") -> int:
    if isinstance(bufsize, bool) or not isinstance(bufsize, int):
        raise TypeError(f"{what} must be an int, not {type(bufsize).__name__}")
    if bufsize <= 0:
        raise ValueError(f"{what} must be positive (a datagram is read whole), not {bufsize}")
    return bufsize


class _DTLSConnBase(_ConnBase):
    """A DTLS connection handle: one datagram per read and per write."""

    _mtu = 0

    def _apply_context(self) -> None:
        """The context's per-connection settings (MTU)."""
        mtu = getattr(self.context, "mtu", 0)
        if mtu:
            self.set_mtu(mtu)

    # -- datagrams ----------------------------------------------------------------
    def _read_datagram(self, bufsize: int, call: Callable[[Callable[[], int]], int],
                       what: str) -> bytes:
        """One datagram's plaintext (b'' at the peer's close_notify) through
        `call` (which runs the library call: blocking, with signals, ...)."""
        c = self._h()
        buf = ctypes.create_string_buffer(bufsize)
        n = call(lambda: lib().mojo_tls_conn_read(c, buf, bufsize))
        if n == Err.MOJO_TLS_ERR_INVALID_ARGUMENT:
            self._too_small(n, bufsize, what)
        n = self._datagram_result(n, what)
        return buf.raw[:n]

    def _read_datagram_into(self, mv: memoryview, call: Callable[[Callable[[], int]], int],
                            what: str) -> int:
        c = self._h()
        nbytes = len(mv)
        cbuf = (ctypes.c_char * nbytes).from_buffer(mv)
        n = call(lambda: lib().mojo_tls_conn_read(c, cbuf, nbytes))
        if n == Err.MOJO_TLS_ERR_INVALID_ARGUMENT:
            self._too_small(n, nbytes, what)
        return self._datagram_result(n, what)

    def _too_small(self, rc: int, bufsize: int, what: str) -> None:
        """A read refused for a too small buffer: say the size it needs (the
        datagram stays queued); any other invalid-argument error as it is."""
        c = self._conn
        size = lib().mojo_tls_conn_pending(c) if c is not None else -1
        if size > bufsize:
            raise DTLSBufferTooSmallError(
                f"{what}: the next datagram holds {size} bytes, more than the buffer's "
                f"{bufsize}: it is kept; read again with a buffer of at least {size} bytes "
                f"({MAX_DATAGRAM} always fits)", int(rc), size=size)
        raise self._error(rc, what)

    def _datagram_result(self, n: int, what: str) -> int:
        if n < 0:
            raise self._error(n, what)
        if n == 0:
            self._peer_closed = True
        else:
            self._handshake_done = True
            self._note_handshake()
        return n

    def _write_datagram(self, data: Any, call: Callable[[Callable[[], int]], int],
                        what: str) -> int:
        """Send `data` as one datagram; a too large one raises
        TLSInvalidArgumentError and the connection goes on."""
        b = as_bytes(data)
        c = self._h()
        self._pre_io()
        if not b:
            raise ValueError(f"{what}: an empty datagram cannot be sent (DTLS records carry data)")
        n = call(lambda: lib().mojo_tls_conn_write(c, b, len(b)))
        if n == Err.MOJO_TLS_ERR_INVALID_ARGUMENT:
            exc = self._error(n, what)
            raise TLSInvalidArgumentError(f"{exc.message} (nothing was sent; the connection "
                                          "goes on)", int(n))
        if n < 0:
            raise self._error(n, what)
        self._handshake_done = True
        self._note_handshake()
        return n

    # -- DTLS settings ---------------------------------------------------------------------
    def next_timeout(self) -> Optional[float]:
        """Seconds until the retransmission timer expires (0.0: call the
        handshake or read again now, which resends the last flight), or None
        when no timer runs (wait for datagrams only). Event loops wait for a
        datagram at most this long."""
        ms = lib().mojo_tls_conn_next_timeout_ms(self._h())
        if ms == Err.MOJO_TLS_ERR_WANT_READ:
            return None
        if ms < 0:
            raise self._error(ms, "next_timeout")
        return float(ms) / 1000.0

    def set_mtu(self, mtu: int) -> None:
        """The path MTU of this connection (64..65535 bytes; 0: no limit)."""
        value = check_mtu(mtu)
        rc = lib().mojo_tls_conn_set_mtu(self._h(), value)
        if rc < 0:
            raise self._error(rc, "set_mtu")
        self._mtu = value

    @property
    def mtu(self) -> int:
        """The path MTU set on this connection (0: none)."""
        return self._mtu

