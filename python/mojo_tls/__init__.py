"""mojo_tls — TLS for Python over libmojo_tls (Mbed TLS), in the spirit of ``ssl``.

Quick start::

    import mojo_tls

    ctx = mojo_tls.TLSContext()                    # client, verifies the server
    with mojo_tls.connect("example.com", 443, context=ctx, timeout=10) as s:
        s.sendall(b"HEAD / HTTP/1.1\\r\\nHost: example.com\\r\\nConnection: close\\r\\n\\r\\n")
        print(s.recv(4096))

Servers: ``TLSContext(server_side=True)``, ``load_cert_chain(...)``, then
``listen(...)`` / ``accept()``, or ``wrap_socket(sock, server_side=True)``.
Event loops: :class:`TLSObject` (memory mode) and :mod:`mojo_tls.aio`
(``open_connection`` / ``start_server``). DTLS 1.2 (datagrams):
:class:`DTLSContext` (``connect``, ``listen``, ``wrap_memory``) and
``mojo_tls.aio.create_dtls_connection`` / ``create_dtls_server``. Test certificates:
:func:`generate_ca` / :func:`generate_cert`.
"""

from __future__ import annotations

from . import _ffi  # noqa: F401 - the generated low-level layer, mojo_tls._ffi
from ._conn import TLSSession
from ._core import lib as _lib
from .aio import TLSStreamWriter, open_connection, start_server
from .certs import GeneratedCert, generate_ca, generate_cert, generate_crl
from .context import (CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED, Purpose, TLSContext, TLSVersion,
                      VerifyMode, create_default_context)
from .errors import (CertificateVerifyError, Err, TLSBadPasswordError, TLSBadStateError,
                     TLSClosedError, TLSConnectError, TLSConnectionRefusedError,
                     TLSConnectionResetError, TLSError, DTLSBufferTooSmallError, TLSFileNotFoundError,
                     TLSHandshakeError, TLSInternalError, TLSInterruptedError,
                     TLSInvalidArgumentError,
                     TLSNotAvailableError, TLSParseError, TLSProtocolError, TLSTimeoutError,
                     TLSTruncatedError, TLSUnsupportedError, TLSWantReadError, TLSWantWriteError)
from .memory import TLSObject
from .bio import TLSBIOObject, TLSSSLContextAdapter
from ._sockets import TLSListener, TLSSocket, connect, listen
from .dtls import DTLSContext
from .dtls_memory import DTLSObject
from .dtls_socket import DTLSSocket
from .dtls_listener import DTLSListener

__version__ = "0.1.0"

__all__ = [
    "TLSContext", "TLSVersion", "VerifyMode", "Purpose", "CERT_NONE", "CERT_OPTIONAL",
    "CERT_REQUIRED", "create_default_context",
    "TLSSocket", "TLSListener", "TLSObject", "TLSBIOObject", "TLSSSLContextAdapter", "TLSSession", "TLSStreamWriter",
    "connect", "listen", "open_connection", "start_server",
    "GeneratedCert", "generate_ca", "generate_cert", "generate_crl",
    "TLSError", "TLSWantReadError", "TLSWantWriteError", "TLSTimeoutError", "TLSClosedError",
    "TLSTruncatedError", "CertificateVerifyError", "TLSHandshakeError", "TLSProtocolError",
    "TLSConnectError", "TLSFileNotFoundError", "TLSParseError", "TLSBadPasswordError",
    "TLSInvalidArgumentError", "TLSUnsupportedError", "TLSBadStateError",
    "TLSNotAvailableError", "TLSInternalError", "TLSInterruptedError", "Err",
    "TLSConnectionResetError", "TLSConnectionRefusedError",
    "DTLSContext", "DTLSSocket", "DTLSListener", "DTLSObject", "DTLSBufferTooSmallError",
    "library_version", "backend", "library_path", "sha256", "random_bytes", "HAS_TLSv1_3",
]


# Like ssl.HAS_TLSv1_3: every backend (Mbed TLS 3.6 LTS, 4.x) speaks TLS 1.3.
HAS_TLSv1_3 = True


def library_version() -> str:
    """The loaded libmojo_tls version, e.g. '0.1.0'."""
    v: bytes = _lib().mojo_tls_version()
    return v.decode()


def backend() -> str:
    """The TLS backend, e.g. 'Mbed TLS 3.6.5 (bundled, ECC by AWS-LC)'."""
    b: bytes = _lib().mojo_tls_backend()
    return b.decode()


def library_path() -> str:
    """Path of the loaded shared library."""
    return _lib().path


def sha256(data: bytes) -> bytes:
    """SHA-256 digest (computed by the library)."""
    import ctypes

    from ._core import as_bytes, check

    b = as_bytes(data)
    out = ctypes.create_string_buffer(32)
    check(_lib().mojo_tls_sha256(b, len(b), out, 32), "sha256")
    return out.raw


def random_bytes(n: int) -> bytes:
    """`n` cryptographically secure random bytes (the library's CTR_DRBG)."""
    import ctypes

    from ._core import check

    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("n must be an int")
    if n < 0:
        raise ValueError("n must be non-negative")
    if n == 0:
        return b""
    out = ctypes.create_string_buffer(n)
    check(_lib().mojo_tls_random(out, n), "random_bytes")
    return out.raw
