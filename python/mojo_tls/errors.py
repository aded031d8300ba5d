"""Exceptions raised by mojo_tls.

Every exception is an :class:`OSError` (like the stdlib ``ssl.SSLError``), so
code that catches ``OSError`` around socket I/O keeps working. Each one carries
the library's error code (``.code``, a :class:`~mojo_tls._ffi.mojo_tls_err`) and
message (``.message``, from ``mojo_tls_last_error``).
"""

from __future__ import annotations

from typing import Dict, Optional, Type

from . import _ffi

Err = _ffi.mojo_tls_err

__all__ = [
    "TLSError",
    "TLSWantReadError",
    "TLSWantWriteError",
    "TLSTimeoutError",
    "TLSClosedError",
    "TLSTruncatedError",
    "CertificateVerifyError",
    "TLSHandshakeError",
    "TLSProtocolError",
    "TLSConnectError",
    "TLSFileNotFoundError",
    "TLSParseError",
    "TLSBadPasswordError",
    "TLSInvalidArgumentError",
    "TLSUnsupportedError",
    "TLSBadStateError",
    "TLSNotAvailableError",
    "TLSInternalError",
    "Err",
]


class TLSError(OSError):
    """An error reported by libmojo_tls.

    Attributes:
        code: the library's error code (``mojo_tls_err``; negative), or None
            for errors raised by the Python layer itself.
        message: the library's explanation (``mojo_tls_last_error``), with the
            Mbed TLS code and text when there is one.
    """

    code: Optional[Err]
    message: str

    def __init__(self, message: str, code: Optional[int] = None) -> None:
        self.message = message
        try:
            self.code = Err(code) if code is not None else None
        except ValueError:
            self.code = None
        label = self.code.name if self.code is not None else "mojo_tls"
        # One argument: OSError leaves errno/strerror None and str() is the text.
        super().__init__(f"[{label}] {message}")

    def __reduce__(self):  # picklable despite the custom __init__
        return (type(self), (self.message, int(self.code) if self.code is not None else None))


class TLSWantReadError(TLSError):
    """Non-blocking or memory mode: more input from the peer is needed."""


class TLSWantWriteError(TLSError):
    """Non-blocking mode: the socket is not writable yet (retry with the same data)."""


class TLSTimeoutError(TLSError, TimeoutError):
    """The operation's timeout elapsed (also a :class:`TimeoutError`)."""


class TLSInterruptedError(TLSError, InterruptedError):
    """A signal interrupted a blocking call. The package's sockets retry
    such calls themselves (PEP 475); this is only seen from the raw layer."""


class TLSClosedError(TLSError):
    """The connection (or object) is closed."""


class TLSTruncatedError(TLSError):
    """The transport ended without the peer's close_notify (possible truncation attack)."""


class TLSHandshakeError(TLSError):
    """The handshake failed for a reason other than certificate verification."""


class CertificateVerifyError(TLSHandshakeError):
    """The peer's certificate did not verify.

    Attributes:
        verify_reason: a human-readable reason (expired, not trusted, host
            name mismatch, revoked, no pin matched, ...).
        verify_flags: the Mbed TLS ``MBEDTLS_X509_BADCERT_*`` bits, when known.
    """

    verify_reason: str
    verify_flags: Optional[int]

    def __init__(self, message: str, code: Optional[int] = int(Err.MOJO_TLS_ERR_VERIFY_FAILED),
                 verify_reason: Optional[str] = None, verify_flags: Optional[int] = None) -> None:
        super().__init__(message, code)
        self.verify_reason = verify_reason if verify_reason else message
        self.verify_flags = verify_flags


class TLSProtocolError(TLSError):
    """The peer broke the TLS protocol after the handshake."""


class TLSConnectError(TLSError, ConnectionError):
    """Name resolution or the TCP connection failed (also a :class:`ConnectionError`)."""


class TLSFileNotFoundError(TLSError, FileNotFoundError):
    """A file or directory does not exist, or there is no system CA store."""


class TLSParseError(TLSError, ValueError):
    """Garbage or truncated PEM/DER, or an unusable certificate or key."""


class TLSBadPasswordError(TLSError, ValueError):
    """An encrypted private key with a missing or wrong password."""


class TLSInvalidArgumentError(TLSError, ValueError):
    """The library rejected an argument (bad value, unknown name, ...)."""


class TLSUnsupportedError(TLSError):
    """Not supported (e.g. SSL 3.0, TLS 1.0 or TLS 1.1 as a protocol version)."""


class TLSBadStateError(TLSError):
    """The call is not valid in the connection's current state or mode."""


class TLSNotAvailableError(TLSError):
    """Nothing to report yet (no peer certificate, handshake not done, ...)."""


class TLSInternalError(TLSError):
    """A bug inside the library (a caught panic); the process keeps running."""


_BY_CODE: Dict[int, Type[TLSError]] = {
    Err.MOJO_TLS_ERR_WANT_READ: TLSWantReadError,
    Err.MOJO_TLS_ERR_WANT_WRITE: TLSWantWriteError,
    Err.MOJO_TLS_ERR_TIMEOUT: TLSTimeoutError,
    Err.MOJO_TLS_ERR_CLOSED: TLSClosedError,
    Err.MOJO_TLS_ERR_TRUNCATED: TLSTruncatedError,
    Err.MOJO_TLS_ERR_INVALID_ARGUMENT: TLSInvalidArgumentError,
    Err.MOJO_TLS_ERR_INVALID_HANDLE: TLSClosedError,
    Err.MOJO_TLS_ERR_VERIFY_FAILED: CertificateVerifyError,
    Err.MOJO_TLS_ERR_HANDSHAKE: TLSHandshakeError,
    Err.MOJO_TLS_ERR_IO: TLSError,
    Err.MOJO_TLS_ERR_UNSUPPORTED: TLSUnsupportedError,
    Err.MOJO_TLS_ERR_PARSE: TLSParseError,
    Err.MOJO_TLS_ERR_BAD_PASSWORD: TLSBadPasswordError,
    Err.MOJO_TLS_ERR_NOT_FOUND: TLSFileNotFoundError,
    Err.MOJO_TLS_ERR_CONNECT: TLSConnectError,
    Err.MOJO_TLS_ERR_PROTOCOL: TLSProtocolError,
    Err.MOJO_TLS_ERR_BAD_STATE: TLSBadStateError,
    Err.MOJO_TLS_ERR_NO_MEMORY: TLSError,
    Err.MOJO_TLS_ERR_NOT_AVAILABLE: TLSNotAvailableError,
    Err.MOJO_TLS_ERR_INTERNAL: TLSInternalError,
    Err.MOJO_TLS_ERR_INTERRUPTED: TLSInterruptedError,
}


def error_class(code: int) -> Type[TLSError]:
    """The exception class for a library error code."""
    return _BY_CODE.get(code, TLSError)
