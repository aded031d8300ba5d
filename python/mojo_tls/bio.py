"""TLSBIOObject: an ``ssl.SSLObject`` over two ``ssl.MemoryBIO`` objects.

:meth:`TLSContext.wrap_bio` returns one, so code written for
``ssl.SSLContext.wrap_bio`` (the standard library's ``asyncio.sslproto``,
anyio, aiohttp, httpx) drives the package: each call moves the ciphertext
waiting in `incoming` into a :class:`~mojo_tls.TLSObject`, runs the
operation, and appends what the library produced to `outgoing`. Errors are
the ``ssl`` ones: ``ssl.SSLWantReadError`` (more input needed),
``ssl.SSLZeroReturnError`` (the connection was closed with close_notify),
``ssl.SSLEOFError`` (the transport ended without close_notify),
``ssl.SSLCertVerificationError``.

:meth:`TLSContext.as_ssl_context` gives an ``ssl.SSLContext`` subclass for
the callers that insist on one (``loop.start_tls``, aiohttp's client,
httpx): its ``wrap_bio`` / ``wrap_socket`` use the TLSContext.
"""

from __future__ import annotations

import ssl as _ssl
from typing import Any, Dict, List, Literal, Optional, Tuple, Union, overload

from . import _sni
from ._conn import PeerCertDict
from .context import TLSContext
from .errors import (TLSClosedError, TLSError, TLSTruncatedError, TLSWantReadError,
                     TLSWantWriteError)
from .memory import TLSObject

__all__ = ["TLSBIOObject", "TLSSSLContextAdapter"]

_READ = 65536


class TLSBIOEOFError(TLSTruncatedError, _ssl.SSLEOFError):
    """The transport ended without close_notify (an ``ssl.SSLEOFError``)."""


class TLSBIOZeroReturnError(TLSClosedError, _ssl.SSLZeroReturnError):
    """The TLS connection was closed with close_notify (an ``ssl.SSLZeroReturnError``)."""


def _code(exc: TLSError) -> Optional[int]:
    return int(exc.code) if exc.code is not None else None


def _want_read(exc: TLSError) -> TLSWantReadError:
    # errno set as ssl sets it (asyncio's sslproto before 3.11 reads it).
    return TLSWantReadError(exc.message, _code(exc), _ssl.SSL_ERROR_WANT_READ)


class TLSBIOObject:
    """The ``ssl.SSLObject`` API over a :class:`~mojo_tls.TLSObject`; created
    by :meth:`TLSContext.wrap_bio`."""

    def __init__(self, context: TLSContext, incoming: _ssl.MemoryBIO, outgoing: _ssl.MemoryBIO,
                 server_side: bool = False, server_hostname: Any = None,
                 session: Any = None) -> None:
        for name, bio in (("incoming", incoming), ("outgoing", outgoing)):
            if not all(hasattr(bio, a) for a in ("read", "write", "write_eof", "eof")):
                raise TypeError(f"{name} must be an ssl.MemoryBIO, not {type(bio).__name__}")
        self._tls = TLSObject(context, server_side=bool(server_side),
                              server_hostname=server_hostname, session=session)
        # sni_callback gets this object; its handle state lives in the TLSObject.
        self._sni_target = self._tls
        _sni.register(self, self._tls._conn)
        self._incoming = incoming
        self._outgoing = outgoing
        self._eof_fed = False
        self._peer_closed = False  # the peer's close_notify was read
        self._shutdown = False     # unwrap() completed

    # -- ciphertext pump ----------------------------------------------------------
    def _pull(self) -> None:
        tls = self._tls
        data = self._incoming.read()
        if data and not tls.closed:
            tls.feed(data)
        if self._incoming.eof and not self._eof_fed and not tls.closed:
            self._eof_fed = True
            tls.feed_eof()

    def _push(self) -> None:
        if self._tls.closed:
            return
        out = self._tls.drain()
        if out:
            self._outgoing.write(out)

    def _convert(self, exc: TLSError) -> BaseException:
        if isinstance(exc, TLSWantReadError):
            return _want_read(exc)
        if isinstance(exc, TLSTruncatedError) and not isinstance(exc, _ssl.SSLEOFError):
            return TLSBIOEOFError(exc.message, _code(exc), _ssl.SSL_ERROR_EOF)
        if (isinstance(exc, TLSClosedError) and not isinstance(exc, ConnectionResetError)
                and (self._peer_closed or self._shutdown)):
            return TLSBIOZeroReturnError(exc.message, _code(exc), _ssl.SSL_ERROR_ZERO_RETURN)
        return exc

    def _run(self, fn: Any, *args: Any) -> Any:
        try:
            self._pull()
            return fn(*args)
        except TLSError as exc:
            new = self._convert(exc)
            if new is exc:
                raise
            raise new from None
        finally:
            try:
                self._push()
            except TLSError:
                pass

    # -- ssl.SSLObject ------------------------------------------------------------------
    @property
    def context(self) -> TLSContext:
        """The TLSContext (inside ``sni_callback``: settable, as in ssl)."""
        return self._tls.context  # type: ignore[no-any-return]

    @context.setter
    def context(self, value: TLSContext) -> None:
        self._tls.context = value

    @property
    def server_side(self) -> bool:
        """True for a server connection."""
        return bool(self._tls.server_side)

    @property
    def server_hostname(self) -> Optional[str]:
        """The host name given to wrap_bio (str), or None."""
        return self._tls.server_hostname

    @property
    def session(self) -> Any:
        """Client: the TLSSession to resume later (pass it as ``session=``)."""
        return self._tls.session

    @property
    def session_reused(self) -> bool:
        """True if the handshake resumed a session."""
        return self._tls.session_reused

    def do_handshake(self) -> None:
        """Advance the handshake: ``ssl.SSLWantReadError`` until it completes."""
        self._run(self._tls.do_handshake)

    def read(self, len: int = 1024, buffer: Any = None) -> Union[bytes, int]:
        """Up to `len` decrypted bytes (b'' / 0 after the peer's close_notify);
        with `buffer`, read into it and return the count."""
        if self._peer_closed:
            return 0 if buffer is not None else b""
        if buffer is not None and (len == 0 or len > memoryview(buffer).nbytes):
            len = memoryview(buffer).nbytes
        r = self._run(self._tls.read, len, buffer)
        if len and (r == b"" or r == 0):
            self._peer_closed = True   # the peer's close_notify
        return r  # type: ignore[no-any-return]

    def write(self, data: Any) -> int:
        """Encrypt all of `data` into the outgoing BIO; returns its length."""
        view = memoryview(data).cast("B") if not isinstance(data, bytes) else memoryview(data)
        total = view.nbytes
        if self._shutdown:
            raise TLSBIOZeroReturnError("the TLS connection has been shut down", None,
                                        _ssl.SSL_ERROR_ZERO_RETURN)
        if total == 0:
            return 0
        off = 0
        stalled = False
        while off < total:
            try:
                off += self._run(self._tls.write, view[off:off + _READ])
            except TLSWantWriteError as exc:
                # _run moved the output into the BIO: the retry progresses.
                if stalled:
                    raise TLSWantWriteError(exc.message, _code(exc),
                                            _ssl.SSL_ERROR_WANT_WRITE) from None
                stalled = True
                continue
            stalled = False
        return total

    def pending(self) -> int:
        """Decrypted bytes readable without more input."""
        if self._tls.closed:
            return 0
        return self._tls.pending()

    def unwrap(self) -> None:
        """Send close_notify and wait for the peer's (``ssl.SSLWantReadError``
        until it arrives; application data arriving meanwhile is discarded,
        as OpenSSL does)."""
        if self._shutdown:
            return
        tls = self._tls

        def step() -> None:
            if not tls._notify_sent:
                tls.unwrap()
            while not self._peer_closed:
                if tls.read(_READ) == b"":
                    self._peer_closed = True

        self._run(step)
        self._shutdown = True

    @overload
    def getpeercert(self, binary_form: Literal[False] = ...) -> Optional[PeerCertDict]: ...
    @overload
    def getpeercert(self, binary_form: Literal[True]) -> Optional[bytes]: ...
    @overload
    def getpeercert(self, binary_form: bool) -> Union[None, PeerCertDict, bytes]: ...

    def getpeercert(self, binary_form: bool = False) -> Union[None, PeerCertDict, bytes]:
        """As ``ssl.SSLObject.getpeercert``."""
        return self._tls.getpeercert(binary_form)

    def cipher(self) -> Optional[Tuple[str, str, int]]:
        """(IANA suite name, protocol, secret bits), or None before the handshake."""
        return None if self._tls.closed else self._tls.cipher()

    def shared_ciphers(self) -> Optional[List[Tuple[str, str, int]]]:
        """The negotiated suite as a one-element list (the library does not
        report the client's list); None before the handshake."""
        return None if self._tls.closed else self._tls.shared_ciphers()

    def compression(self) -> None:
        """Always None: TLS compression is never used."""
        return None

    def selected_alpn_protocol(self) -> Optional[str]:
        """The negotiated ALPN protocol, or None."""
        return None if self._tls.closed else self._tls.selected_alpn_protocol()

    def selected_npn_protocol(self) -> None:
        """Always None (NPN is not supported, as in recent ``ssl``)."""
        return None

    def version(self) -> Optional[str]:
        """'TLSv1.2' / 'TLSv1.3', or None before the handshake."""
        return None if self._tls.closed else self._tls.version()

    def get_channel_binding(self, cb_type: str = "tls-unique") -> Optional[bytes]:
        """As :meth:`TLSObject.get_channel_binding` ("tls-unique" on TLS 1.2,
        "tls-exporter"); unknown types raise ValueError as in ssl."""
        return self._tls.get_channel_binding(cb_type)

    def verify_client_post_handshake(self) -> None:
        """Not supported (no post-handshake authentication)."""
        raise NotImplementedError("post-handshake authentication is not supported by mojo_tls")

    @property
    def tls_object(self) -> TLSObject:
        """The underlying TLSObject (record_layer, verify_result(), ...)."""
        return self._tls

    def __repr__(self) -> str:
        side = "server" if self.server_side else "client"
        return f"<TLSBIOObject {side}>"


# --- ssl.SSLContext adapter -----------------------------------------------------------------

class TLSSSLContextAdapter(_ssl.SSLContext):
    """An ``ssl.SSLContext`` (for the callers that check ``isinstance``:
    ``loop.start_tls``, aiohttp's client, httpx) whose connections are the
    TLSContext's: ``wrap_bio`` and ``wrap_socket`` delegate to it, and so do
    ``set_alpn_protocols`` and the trust / certificate loaders. Its own
    OpenSSL settings are never used; changing another setting raises
    AttributeError (change the TLSContext instead)."""

    _tls_context: TLSContext

    def __new__(cls, tls_context: TLSContext) -> "TLSSSLContextAdapter":
        proto = _ssl.PROTOCOL_TLS_SERVER if tls_context.server_side else _ssl.PROTOCOL_TLS_CLIENT
        self = super().__new__(cls, proto)
        object.__setattr__(self, "_tls_context", tls_context)
        return self

    def __init__(self, tls_context: TLSContext) -> None:  # noqa: D107 - see __new__
        pass

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("check_hostname", "verify_mode", "minimum_version", "maximum_version",
                    "options", "verify_flags", "hostname_checks_common_name",
                    "keylog_filename", "sni_callback"):
            setattr(self._tls_context, name, value)
            return
        raise AttributeError(f"{name!r} cannot be set on the ssl.SSLContext adapter of a "
                             "mojo_tls TLSContext: set it on the TLSContext")

    # The settings read from the TLSContext.
    @property
    def tls_context(self) -> TLSContext:
        """The TLSContext behind this adapter."""
        return self._tls_context

    @property
    def check_hostname(self) -> bool:  # type: ignore[override]
        return self._tls_context.check_hostname

    @property
    def verify_mode(self) -> Any:  # type: ignore[override]
        return _ssl.VerifyMode(int(self._tls_context.verify_mode))

    @property
    def minimum_version(self) -> Any:  # type: ignore[override]
        return _ssl.TLSVersion(int(self._tls_context.minimum_version))

    @property
    def maximum_version(self) -> Any:  # type: ignore[override]
        return _ssl.TLSVersion(int(self._tls_context.maximum_version))

    @property
    def options(self) -> Any:  # type: ignore[override]
        return self._tls_context.options

    @property
    def verify_flags(self) -> Any:  # type: ignore[override]
        return self._tls_context.verify_flags

    @property
    def hostname_checks_common_name(self) -> bool:  # type: ignore[override]
        return self._tls_context.hostname_checks_common_name

    @property
    def protocol(self) -> Any:  # type: ignore[override]
        return self._tls_context.protocol

    @property
    def keylog_filename(self) -> Any:  # type: ignore[override]
        return self._tls_context.keylog_filename

    @property
    def post_handshake_auth(self) -> bool:  # type: ignore[override]
        return False

    @property
    def sni_callback(self) -> Any:  # type: ignore[override]
        return self._tls_context.sni_callback

    # Connections.
    def wrap_bio(self, incoming: _ssl.MemoryBIO, outgoing: _ssl.MemoryBIO,  # type: ignore[override]
                 server_side: bool = False, server_hostname: Any = None,
                 session: Any = None) -> TLSBIOObject:
        return self._tls_context.wrap_bio(incoming, outgoing, server_side=server_side,
                                          server_hostname=server_hostname, session=session)

    def wrap_socket(self, sock: Any, server_side: bool = False,
                    do_handshake_on_connect: bool = True, suppress_ragged_eofs: bool = True,
                    server_hostname: Any = None, session: Any = None) -> Any:
        return self._tls_context.wrap_socket(sock, server_side=server_side,
                                             do_handshake_on_connect=do_handshake_on_connect,
                                             suppress_ragged_eofs=suppress_ragged_eofs,
                                             server_hostname=server_hostname, session=session)

    # Settings methods, applied to the TLSContext.
    def set_alpn_protocols(self, alpn_protocols: Any) -> None:
        self._tls_context.set_alpn_protocols(alpn_protocols)

    def set_ciphers(self, ciphers: str) -> None:
        self._tls_context.set_ciphers(ciphers)

    def load_verify_locations(self, cafile: Any = None, capath: Any = None,
                              cadata: Any = None) -> None:
        self._tls_context.load_verify_locations(cafile, capath, cadata)

    def load_cert_chain(self, certfile: Any, keyfile: Any = None, password: Any = None) -> None:
        self._tls_context.load_cert_chain(certfile, keyfile, password)

    def load_default_certs(self, purpose: Any = _ssl.Purpose.SERVER_AUTH) -> None:
        self._tls_context.load_default_certs()

    def set_default_verify_paths(self) -> None:
        self._tls_context.set_default_verify_paths()

    def _unsupported(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("not supported by the ssl.SSLContext adapter of a mojo_tls "
                                  "TLSContext")

    set_npn_protocols = _unsupported
    set_servername_callback = _unsupported
    load_dh_params = _unsupported

    def set_ecdh_curve(self, name: str) -> None:
        self._tls_context.set_ecdh_curve(name)

    def __repr__(self) -> str:
        return f"<TLSSSLContextAdapter for {self._tls_context!r}>"

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle an ssl.SSLContext adapter")


TLSContext._bio_class = TLSBIOObject
TLSContext._adapter_class = TLSSSLContextAdapter
