"""Exceptions raised by mojo_tls.

Every exception is an :class:`ssl.SSLError` (so an :class:`OSError`), so
code written for the stdlib ``ssl`` module (``except ssl.SSLError``,
``except ssl.SSLCertVerificationError``, requests, urllib3) catches them.
Certificate failures are :class:`ssl.SSLCertVerificationError` with
``verify_code`` / ``verify_message``; timeouts are also :class:`TimeoutError`
(``socket.timeout``); a reset connection is also a
:class:`ConnectionResetError` with ``errno`` set. Each one carries the
library's error code (``.code``, a :class:`~mojo_tls._ffi.mojo_tls_err`) and
message (``.message``, from ``mojo_tls_last_error``).
"""

from __future__ import annotations

import errno as _errno
import socket as _socket
import ssl as _ssl
from typing import Dict, Optional, Tuple, Type

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
    "DTLSBufferTooSmallError",
    "TLSUnsupportedError",
    "TLSBadStateError",
    "TLSNotAvailableError",
    "TLSInternalError",
    "TLSConnectionResetError",
    "TLSConnectionRefusedError",
    "Err",
    "verify_code_and_message",
]


class TLSError(_ssl.SSLError):
    """An error reported by libmojo_tls (an :class:`ssl.SSLError`).

    Attributes:
        code: the library's error code (``mojo_tls_err``; negative), or None
            for errors raised by the Python layer itself.
        message: the library's explanation (``mojo_tls_last_error``), with the
            Mbed TLS code and text when there is one.
        library, reason: as on ``ssl.SSLError`` ('mojo_tls' and the error
            code's name, e.g. 'MOJO_TLS_ERR_HANDSHAKE').
    """

    code: Optional[Err]
    message: str
    library: str
    reason: Optional[str]  # type: ignore[assignment]  # ssl.SSLError.reason can be None too

    def __init__(self, message: str, code: Optional[int] = None,
                 errno: Optional[int] = None) -> None:
        self.message = message
        try:
            self.code = Err(code) if code is not None else None
        except ValueError:
            self.code = None
        label = self.code.name if self.code is not None else "mojo_tls"
        text = f"[{label}] {message}"
        if errno is not None:
            # errno/strerror set; str() is the text (ssl.SSLError.__str__ is strerror).
            super().__init__(errno, text)
        else:
            # errno None; give ssl.SSLError.__str__ a strerror so str() is the text.
            super().__init__(text)
            self.strerror = text
        self.library = "mojo_tls"
        self.reason = self.code.name if self.code is not None else None

    def __str__(self) -> str:
        return str(self.strerror) if self.strerror is not None else super().__str__()

    def __reduce__(self):  # type: ignore[no-untyped-def]  # picklable despite the custom __init__
        return (type(self), (self.message, int(self.code) if self.code is not None else None,
                             self.errno), self.__dict__)


class TLSWantReadError(TLSError, _ssl.SSLWantReadError):
    """Non-blocking or memory mode: more input from the peer is needed
    (also an :class:`ssl.SSLWantReadError`)."""


class TLSWantWriteError(TLSError, _ssl.SSLWantWriteError):
    """Non-blocking mode: the socket is not writable yet (retry with the same
    data; also an :class:`ssl.SSLWantWriteError`)."""


# socket.timeout is TimeoutError from Python 3.10 on, its own class before.
_TIMEOUT_BASES: Tuple[type, ...] = ((TimeoutError,) if _socket.timeout is TimeoutError
                                   else (TimeoutError, _socket.timeout))


class TLSTimeoutError(TLSError, *_TIMEOUT_BASES):  # type: ignore[misc]
    """The operation's timeout elapsed (also a :class:`TimeoutError` /
    ``socket.timeout``)."""

    def __init__(self, message: str, code: Optional[int] = None,
                 errno: Optional[int] = None) -> None:
        super().__init__(message, code, _errno.ETIMEDOUT if errno is None else errno)


class TLSInterruptedError(TLSError, InterruptedError):
    """A signal interrupted a blocking call. The package's sockets retry
    such calls themselves (PEP 475); this is only seen from the raw layer."""


class TLSClosedError(TLSError):
    """The connection (or object) is closed."""


class TLSConnectionResetError(TLSClosedError, ConnectionResetError):
    """The peer reset the TCP connection (also a :class:`ConnectionResetError`,
    ``errno`` ECONNRESET)."""

    def __init__(self, message: str, code: Optional[int] = int(Err.MOJO_TLS_ERR_RESET),
                 errno: Optional[int] = None) -> None:
        super().__init__(message, code, _errno.ECONNRESET if errno is None else errno)


class TLSTruncatedError(TLSError):
    """The transport ended without the peer's close_notify (possible truncation attack)."""


class TLSHandshakeError(TLSError):
    """The handshake failed for a reason other than certificate verification."""


# Mbed TLS MBEDTLS_X509_BADCERT_* bits (stable across 3.x and 4.x).
BADCERT_EXPIRED = 0x01
BADCERT_REVOKED = 0x02
BADCERT_CN_MISMATCH = 0x04
BADCERT_NOT_TRUSTED = 0x08
BADCRL_NOT_TRUSTED = 0x10
BADCRL_EXPIRED = 0x20
BADCERT_MISSING = 0x40
BADCERT_SKIP_VERIFY = 0x80
BADCERT_OTHER = 0x0100
BADCERT_FUTURE = 0x0200
BADCRL_FUTURE = 0x0400
BADCERT_KEY_USAGE = 0x0800
BADCERT_EXT_KEY_USAGE = 0x1000
BADCERT_NS_CERT_TYPE = 0x2000
BADCERT_BAD_MD = 0x4000
BADCERT_BAD_PK = 0x8000
BADCERT_BAD_KEY = 0x010000
BADCRL_BAD_MD = 0x020000
BADCRL_BAD_PK = 0x040000
BADCRL_BAD_KEY = 0x080000

# Flag -> (OpenSSL X509_V_ERR_* code, X509_verify_cert_error_string text), in
# the order OpenSSL reports them (chain, purpose, host name, revocation,
# validity): the first flag set gives verify_code / verify_message.
_VERIFY_CODES = (
    (BADCERT_NOT_TRUSTED, 20, "unable to get local issuer certificate"),
    (BADCERT_KEY_USAGE | BADCERT_EXT_KEY_USAGE | BADCERT_NS_CERT_TYPE, 26,
     "unsupported certificate purpose"),
    (BADCERT_CN_MISMATCH, 62, "Hostname mismatch"),
    (BADCERT_REVOKED, 23, "certificate revoked"),
    (BADCRL_NOT_TRUSTED | BADCRL_BAD_MD | BADCRL_BAD_PK | BADCRL_BAD_KEY, 8,
     "CRL signature failure"),
    (BADCRL_EXPIRED, 12, "CRL has expired"),
    (BADCRL_FUTURE, 11, "CRL is not yet valid"),
    (BADCERT_EXPIRED, 10, "certificate has expired"),
    (BADCERT_FUTURE, 9, "certificate is not yet valid"),
    (BADCERT_BAD_MD, 68, "CA signature digest algorithm too weak"),
    (BADCERT_BAD_KEY | BADCERT_BAD_PK, 66, "EE certificate key too weak"),
    (BADCERT_OTHER, 50, "application verification failure"),
)


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def verify_code_and_message(flags: Optional[int], server_hostname: Optional[str] = None,
                            reason: Optional[str] = None) -> Tuple[int, str]:
    """(verify_code, verify_message) as ``ssl.SSLCertVerificationError`` has
    them (OpenSSL's X509_V_ERR_* code and text), from the library's
    structured verification flags and the expected host name."""
    if flags:
        for bits, code, text in _VERIFY_CODES:
            if flags & bits:
                if bits == BADCERT_CN_MISMATCH:
                    if server_hostname and _is_ip(server_hostname):
                        return 64, (f"IP address mismatch, certificate is not valid for "
                                    f"{server_hostname!r}.")
                    if server_hostname:
                        return 62, f"Hostname mismatch, certificate is not valid for {server_hostname!r}."
                return code, text
    # No flag (e.g. no pin matched): the library's reason.
    return 1, reason or "unspecified certificate verification error"


class CertificateVerifyError(TLSHandshakeError, _ssl.SSLCertVerificationError):
    """The peer's certificate did not verify (also an
    :class:`ssl.SSLCertVerificationError`).

    Attributes:
        verify_code, verify_message: as ``ssl.SSLCertVerificationError``
            (OpenSSL's X509_V_ERR_* number and text, e.g. 62 and
            "Hostname mismatch, certificate is not valid for 'example.com'.").
        verify_reason: the library's human-readable reason (expired, not
            trusted, host name mismatch and what was checked, revoked, no pin
            matched, ...).
        verify_flags: the Mbed TLS ``MBEDTLS_X509_BADCERT_*`` bits, when known.
    """

    verify_reason: str
    verify_flags: Optional[int]
    verify_code: int
    verify_message: str

    def __init__(self, message: str, code: Optional[int] = int(Err.MOJO_TLS_ERR_VERIFY_FAILED),
                 verify_reason: Optional[str] = None, verify_flags: Optional[int] = None,
                 server_hostname: Optional[str] = None, context: str = "") -> None:
        self.verify_reason = verify_reason if verify_reason else message
        self.verify_flags = verify_flags
        self.server_hostname = server_hostname
        self.library_message = message  # the library's own text (with the Mbed TLS code)
        self._context = context
        self.verify_code, self.verify_message = verify_code_and_message(
            verify_flags, server_hostname, verify_reason)
        if verify_flags is not None or server_hostname is not None:
            # As ssl words it, from the structured result (the library's
            # reason, which says what was checked, follows in parentheses).
            message = f"certificate verify failed: {self.verify_message}"
            if verify_reason and verify_reason != self.verify_message:
                message += f" ({verify_reason})"
            if context:
                message = f"{context}: {message}"
        super().__init__(message, code)
        self.reason = "CERTIFICATE_VERIFY_FAILED"

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.library_message,
                             int(self.code) if self.code is not None else None,
                             self.verify_reason, self.verify_flags, self.server_hostname,
                             self._context), self.__dict__)


class TLSProtocolError(TLSError):
    """The peer broke the TLS protocol after the handshake."""


class TLSConnectError(TLSError, ConnectionError):
    """Name resolution or the TCP connection failed (also a :class:`ConnectionError`)."""


class TLSConnectionRefusedError(TLSConnectError, ConnectionRefusedError):
    """The peer refused the TCP connection (also a
    :class:`ConnectionRefusedError`, ``errno`` ECONNREFUSED)."""


class TLSFileNotFoundError(TLSError, FileNotFoundError):
    """A file or directory does not exist, or there is no system CA store."""


class TLSParseError(TLSError, ValueError):
    """Garbage or truncated PEM/DER, or an unusable certificate or key."""


class TLSBadPasswordError(TLSError, ValueError):
    """An encrypted private key with a missing or wrong password."""


class TLSInvalidArgumentError(TLSError, ValueError):
    """The library rejected an argument (bad value, unknown name, ...)."""


class DTLSBufferTooSmallError(TLSInvalidArgumentError):
    """DTLS: the next datagram does not fit the buffer of a read. Nothing is
    lost: the datagram is kept, and a read with a buffer of at least
    ``size`` bytes returns it (DTLS never cuts a datagram silently).

    Attributes:
        size: the datagram's length (what the next read needs).
    """

    def __init__(self, message: str, code: Optional[int] = int(Err.MOJO_TLS_ERR_INVALID_ARGUMENT),
                 size: int = 0) -> None:
        super().__init__(message, code)
        self.size = size

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.message, int(self.code) if self.code is not None else None,
                             self.size), self.__dict__)


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
    Err.MOJO_TLS_ERR_RESET: TLSConnectionResetError,
}


def error_class(code: int) -> Type[TLSError]:
    """The exception class for a library error code."""
    return _BY_CODE.get(code, TLSError)
