"""DTLSObject: DTLS without a socket (memory mode), for event loops and
custom transports.

The caller moves whole datagrams: :meth:`DTLSObject.feed_datagram` each one
received from the peer, send each one :meth:`DTLSObject.drain_datagrams`
returns, and call the operation again when :meth:`DTLSObject.next_timeout`
has passed (that is how a lost flight is sent again). Operations that need
a datagram from the peer raise :class:`~mojo_tls.TLSWantReadError`.
"""

from __future__ import annotations

import ctypes
from typing import Any, List, Optional

from . import _sni
from ._conn import check_server_hostname, normalize_server_hostname
from ._core import as_bytes, check_handle, lib
from ._dtls_conn import _DTLSConnBase, check_bufsize
from .dtls import MAX_DATAGRAM, DTLSContext, peer_id

__all__ = ["DTLSObject"]


def _direct(fn: Any) -> int:
    r: int = fn()
    return r


class DTLSObject(_DTLSConnBase):
    """A memory-mode DTLS connection.

    Example (client)::

        d = ctx.wrap_memory(server_hostname="localhost")
        while True:
            try:
                d.do_handshake()
                break
            except TLSWantReadError:
                pass
            for dgram in d.drain_datagrams():
                sock.send(dgram)
            sock.settimeout(d.next_timeout())      # None: no timer
            try:
                d.feed_datagram(sock.recv(65536))
            except TimeoutError:
                pass                               # retransmit on the next step
    """

    _closed_what = "DTLSObject"

    def __init__(self, context: DTLSContext, *, server_side: Optional[bool] = None,
                 server_hostname: Optional[str] = None, session: Any = None,
                 peer: Any = None) -> None:
        self._init_base(context, getattr(context, "server_side", False) is True, None)
        if not isinstance(context, DTLSContext):
            raise TypeError(f"context must be a DTLSContext, not {type(context).__name__}")
        context._check_side(server_side)
        side = context.server_side
        name = check_server_hostname(context, side, server_hostname)
        if peer is not None and not side:
            raise ValueError("peer (the client's address) is for server connections")
        pid = peer_id(peer) if peer is not None else None
        self.server_side = side
        self.server_hostname = normalize_server_hostname(server_hostname)
        self._conn = check_handle(lib().mojo_tls_conn_new_memory(context._h(), name), "DTLSObject")
        _sni.register(self, self._conn)
        try:
            self._apply_context()
            if pid is not None:
                self.set_peer_id(pid)
            self._import_session(session)
        except BaseException:
            self._free()
            raise

    # -- datagrams in/out ------------------------------------------------------------
    def feed_datagram(self, data: Any) -> int:
        """Hand over one datagram received from the peer (its boundaries
        matter: never join or split them); returns its length. Then call
        do_handshake() or read(). At most 1024 wait; beyond that the oldest
        is dropped (as a full socket buffer would)."""
        b = as_bytes(data, "datagram")
        c = self._h()
        if not b:
            raise ValueError("an empty datagram carries no DTLS record")
        return self._check(lib().mojo_tls_conn_feed_datagram(c, b, len(b)), "feed_datagram")

    def drain_datagram(self) -> Optional[bytes]:
        """The next datagram to send to the peer, or None."""
        c = self._h()
        L = lib()
        n = self._check(L.mojo_tls_conn_drain_datagram(c, None, 0), "drain_datagram")
        if n == 0:
            return None
        buf = ctypes.create_string_buffer(n)
        got = self._check(L.mojo_tls_conn_drain_datagram(c, buf, n), "drain_datagram")
        return buf.raw[:got]

    def drain_datagrams(self) -> List[bytes]:
        """Every datagram waiting to be sent, in order (send each one as one
        datagram)."""
        out: List[bytes] = []
        while True:
            d = self.drain_datagram()
            if d is None:
                return out
            out.append(d)

    def set_peer_id(self, peer: Any) -> None:
        """Server: the client's transport id, which the HelloVerifyRequest
        cookie is bound to: its address (``(host, port)``, numeric) or id
        bytes. Needed before the first handshake step; set it again if the
        client's address changes."""
        pid = peer_id(peer)
        self._check(lib().mojo_tls_conn_set_peer_id(self._h(), pid, len(pid)), "set_peer_id")

    # -- DTLS operations ------------------------------------------------------------------
    def do_handshake(self) -> None:
        """Advance the handshake; raises TLSWantReadError until it completes
        (send what drain_datagrams() gives, feed what arrives, call again,
        also when next_timeout() has passed)."""
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

    def read(self, bufsize: int = MAX_DATAGRAM) -> bytes:
        """The next datagram's plaintext (whole), b'' after the peer's
        close_notify. Raises TLSWantReadError when none is there, and
        DTLSBufferTooSmallError (the datagram kept) when it holds more than
        `bufsize` bytes."""
        check_bufsize(bufsize)
        self._h()
        self._pre_io()
        return self._read_datagram(bufsize, _direct, "read")

    def pending(self) -> int:
        """Length of the next datagram's plaintext already taken in (0: none)."""
        return self._check(lib().mojo_tls_conn_pending(self._h()), "pending")

    def write(self, data: Any) -> int:
        """Encrypt `data` as one datagram (drain_datagrams() then gives it);
        returns its length. Too large for one datagram (the MTU): raises
        TLSInvalidArgumentError, the connection goes on."""
        return self._write_datagram(data, _direct, "write")

    def unwrap(self) -> None:
        """Send close_notify (drain_datagrams() then gives the alert)."""
        self._send_close_notify("unwrap")

    def close(self) -> None:
        """Release the native connection (idempotent). Nothing is sent:
        call unwrap() and send its datagram first to tell the peer."""
        self._free(abandon=True)

    def __enter__(self) -> "DTLSObject":
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
        return f"<DTLSObject {side}{' closed' if self.closed else ''}>"


DTLSContext._dtls_object_class = DTLSObject
