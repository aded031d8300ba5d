"""TLSContext: the settings shared by connections (like ``ssl.SSLContext``)."""

from __future__ import annotations

import enum
import hashlib
import os
import socket as _socket
import ssl as _ssl
import threading
import weakref
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Literal, Optional, Set,
                    Tuple, Union, cast, overload)

from . import _ffi, _sni
from ._core import (as_bytes, c_path, c_str, check, check_handle, lib)
from .errors import TLSClosedError

if TYPE_CHECKING:  # pragma: no cover
    from .bio import TLSBIOObject
    from .memory import TLSObject
    from ._sockets import TLSListener, TLSSocket

__all__ = ["TLSContext", "TLSVersion", "VerifyMode", "Purpose", "CERT_NONE", "CERT_OPTIONAL",
           "CERT_REQUIRED", "create_default_context"]

# ssl.SSLContext.session_stats()'s keys.
_STATS_KEYS = ("number", "connect", "connect_good", "connect_renegotiate", "accept", "accept_good",
               "accept_renegotiate", "hits", "misses", "timeouts", "cache_full")

PathLike = Union[str, bytes, "os.PathLike[Any]"]
Password = Union[str, bytes, bytearray, Callable[[], Union[str, bytes, bytearray]], None]


class TLSVersion(enum.IntEnum):
    """Protocol versions (values are the TLS wire version numbers)."""

    TLSv1_2 = _ffi.MOJO_TLS_VERSION_TLS1_2
    TLSv1_3 = _ffi.MOJO_TLS_VERSION_TLS1_3
    MINIMUM_SUPPORTED = _ffi.MOJO_TLS_VERSION_TLS1_2
    MAXIMUM_SUPPORTED = _ffi.MOJO_TLS_VERSION_TLS1_3


class VerifyMode(enum.IntEnum):
    """How the peer's certificate is checked (as ``ssl.VerifyMode``)."""

    CERT_NONE = _ffi.MOJO_TLS_VERIFY_NONE
    CERT_OPTIONAL = _ffi.MOJO_TLS_VERIFY_OPTIONAL
    CERT_REQUIRED = _ffi.MOJO_TLS_VERIFY_REQUIRED


CERT_NONE = VerifyMode.CERT_NONE
CERT_OPTIONAL = VerifyMode.CERT_OPTIONAL
CERT_REQUIRED = VerifyMode.CERT_REQUIRED


class Purpose(enum.Enum):
    """What the context's certificates authenticate (as ``ssl.Purpose``).

    ``SERVER_AUTH``: a client context (it authenticates servers);
    ``CLIENT_AUTH``: a server context (it authenticates clients).
    """

    SERVER_AUTH = "serverAuth"
    CLIENT_AUTH = "clientAuth"


def _purpose_is_server(purpose: Any) -> bool:
    if isinstance(purpose, Purpose):
        return purpose is Purpose.CLIENT_AUTH
    name = getattr(purpose, "shortname", None) or getattr(purpose, "name", None) or purpose
    if name in ("serverAuth", "SERVER_AUTH"):
        return False
    if name in ("clientAuth", "CLIENT_AUTH"):
        return True
    raise ValueError(f"unknown purpose {purpose!r} (use Purpose.SERVER_AUTH or Purpose.CLIENT_AUTH)")


_PIN_KINDS = {"cert": _ffi.MOJO_TLS_PIN_CERT, "spki": _ffi.MOJO_TLS_PIN_SPKI}

# ssl.PROTOCOL_* values TLSContext(protocol) accepts, as ssl.SSLContext(protocol).
_PROTOCOL_TLS = 2            # ssl.PROTOCOL_TLS (= PROTOCOL_SSLv23): either side, no verification
_PROTOCOL_TLS_CLIENT = 16    # ssl.PROTOCOL_TLS_CLIENT
_PROTOCOL_TLS_SERVER = 17    # ssl.PROTOCOL_TLS_SERVER

# ssl.OP_* bits (fixed by OpenSSL's ABI; read from ssl where it has them).
OP_NO_SSLv2 = int(getattr(_ssl, "OP_NO_SSLv2", 0))
OP_NO_SSLv3 = int(getattr(_ssl, "OP_NO_SSLv3", 0x02000000))
OP_NO_TLSv1 = int(getattr(_ssl, "OP_NO_TLSv1", 0x04000000))
OP_NO_TLSv1_1 = int(getattr(_ssl, "OP_NO_TLSv1_1", 0x10000000))
OP_NO_TLSv1_2 = int(getattr(_ssl, "OP_NO_TLSv1_2", 0x08000000))
OP_NO_TLSv1_3 = int(getattr(_ssl, "OP_NO_TLSv1_3", 0x20000000))
OP_NO_COMPRESSION = int(getattr(_ssl, "OP_NO_COMPRESSION", 0x00020000))
OP_NO_RENEGOTIATION = int(getattr(_ssl, "OP_NO_RENEGOTIATION", 0x40000000))
OP_ALL = int(getattr(_ssl, "OP_ALL", 0x80000050))
OP_SINGLE_DH_USE = int(getattr(_ssl, "OP_SINGLE_DH_USE", 0))
OP_SINGLE_ECDH_USE = int(getattr(_ssl, "OP_SINGLE_ECDH_USE", 0))
# What the library always does: no SSL 3.0 / TLS 1.0 / 1.1, no compression,
# no renegotiation (Mbed TLS's is disabled), fresh (EC)DHE keys.
_OP_FIXED = (OP_NO_SSLv2 | OP_NO_SSLv3 | OP_NO_TLSv1 | OP_NO_TLSv1_1 | OP_NO_COMPRESSION
             | OP_NO_RENEGOTIATION | OP_SINGLE_DH_USE | OP_SINGLE_ECDH_USE)
# Accepted without effect: OpenSSL's bug workarounds (OP_ALL) have no Mbed TLS counterpart
# that could be turned off.
_OP_NOOP = OP_ALL
_OP_VERSIONS = OP_NO_TLSv1_2 | OP_NO_TLSv1_3

# ssl.VERIFY_* bits.
VERIFY_CRL_CHECK_LEAF = int(getattr(_ssl, "VERIFY_CRL_CHECK_LEAF", 0x4))
VERIFY_CRL_CHECK_CHAIN = int(getattr(_ssl, "VERIFY_CRL_CHECK_CHAIN", 0xC))
VERIFY_X509_STRICT = int(getattr(_ssl, "VERIFY_X509_STRICT", 0x20))
VERIFY_ALLOW_PROXY_CERTS = int(getattr(_ssl, "VERIFY_ALLOW_PROXY_CERTS", 0x40))
VERIFY_X509_TRUSTED_FIRST = int(getattr(_ssl, "VERIFY_X509_TRUSTED_FIRST", 0x8000))
VERIFY_X509_PARTIAL_CHAIN = int(getattr(_ssl, "VERIFY_X509_PARTIAL_CHAIN", 0x80000))
# Mbed TLS always looks for the issuer among the trusted certificates first
# and accepts any trusted certificate (an intermediate too) as the anchor.
_VERIFY_ALWAYS = VERIFY_X509_TRUSTED_FIRST | VERIFY_X509_PARTIAL_CHAIN
_VERIFY_KNOWN = (VERIFY_CRL_CHECK_CHAIN | VERIFY_X509_STRICT | VERIFY_ALLOW_PROXY_CERTS
                 | _VERIFY_ALWAYS)


def _as_options(value: int) -> Any:
    try:
        return _ssl.Options(value)
    except (AttributeError, ValueError):
        return value


def _as_verify_flags(value: int) -> Any:
    try:
        return _ssl.VerifyFlags(value)
    except (AttributeError, ValueError):
        return value


class TLSContext:
    """TLS settings for client or server connections.

    A client context verifies the server's certificate (against the system's
    CA store unless CAs are loaded) and its host name by default. Changes
    affect connections created afterwards. Contexts may be shared between
    threads and connections.

    Example::

        ctx = TLSContext()                      # client
        with ctx.connect("example.com", 443) as s:
            s.sendall(b"HEAD / HTTP/1.0\\r\\nHost: example.com\\r\\n\\r\\n")
            print(s.recv(4096))
    """

    # The connection classes and functions, set by ``_sockets`` and
    # ``memory`` when they load (the package imports both), as
    # ``ssl.SSLContext.sslsocket_class`` is set by ``ssl``: they import this
    # module, so this module never imports them.
    _socket_class: Any = None
    _object_class: Any = None
    _bio_class: Any = None
    _adapter_class: Any = None
    _connect: Callable[..., Any]
    _listen: Callable[..., Any]

    def __init__(self, purpose: Any = Purpose.SERVER_AUTH, *,
                 server_side: Optional[bool] = None) -> None:
        """Create a client context (default) or, with ``Purpose.CLIENT_AUTH``
        or ``server_side=True``, a server context.

        `purpose` may also be an ``ssl.PROTOCOL_*`` value, as for
        ``ssl.SSLContext(protocol)``: ``PROTOCOL_TLS_CLIENT`` (a client
        context with the secure client defaults), ``PROTOCOL_TLS_SERVER`` (a
        server context) and the deprecated ``PROTOCOL_TLS`` (a client context
        with ssl's defaults for it: ``CERT_NONE`` and no host name check;
        ``server_side=True`` makes it a server context). Contexts have one
        side: a ``PROTOCOL_TLS`` context cannot serve both."""
        protocol = None
        if isinstance(purpose, int) and not isinstance(purpose, bool):
            protocol = int(purpose)
            if protocol not in (_PROTOCOL_TLS, _PROTOCOL_TLS_CLIENT, _PROTOCOL_TLS_SERVER):
                raise ValueError(f"unsupported protocol {purpose!r}: use ssl.PROTOCOL_TLS_CLIENT or "
                                 "ssl.PROTOCOL_TLS_SERVER (and minimum_version / maximum_version; "
                                 "TLS 1.2 and 1.3 only)")
            side = protocol == _PROTOCOL_TLS_SERVER
            if protocol == _PROTOCOL_TLS and server_side is not None:
                side = server_side
            elif server_side is not None and server_side != side:
                raise ValueError(f"server_side={server_side} contradicts protocol {purpose!r}")
            server_side = side
        if server_side is None:
            server_side = _purpose_is_server(purpose)
        elif not isinstance(server_side, bool):
            raise TypeError("server_side must be a bool")
        self._server_side = server_side
        self._lock = threading.RLock()
        role = _ffi.MOJO_TLS_ROLE_SERVER if server_side else _ffi.MOJO_TLS_ROLE_CLIENT
        self._cfg: Optional[_ffi.ConfigHandle] = None
        self._cfg = check_handle(lib().mojo_tls_config_new(role), "TLSContext")
        self._verify_mode = CERT_NONE if server_side else CERT_REQUIRED
        self._check_hostname = not server_side
        self._minimum_version = TLSVersion.MINIMUM_SUPPORTED
        self._maximum_version = TLSVersion.MAXIMUM_SUPPORTED
        self._alpn: List[str] = []
        self._keylog: Optional[str] = None
        self._pin_only = False
        self._fast_record_layer = True
        self._resumption_without_forward_secrecy = False
        self._cert_count = 0
        self._crl_count = 0
        self._hostname_checks_common_name = True
        self._options = _OP_NOOP
        self._verify_flags = _VERIFY_ALWAYS
        # load_verify_locations: what was loaded already (de-duplication).
        self._ca_loaded: Set[Tuple[Any, ...]] = set()
        self._ca_loads = 0  # loads actually handed to the library
        # get_ca_certs(): the DER of every CA certificate loaded, in order.
        self._ca_ders: List[bytes] = []
        self._ca_der_set: Set[bytes] = set()
        # session_stats(): counted by the package (see session_stats).
        self._stats: Dict[str, int] = dict.fromkeys(_STATS_KEYS, 0)
        self._protocol = protocol
        self._sni_callback: Optional[Callable[..., Any]] = None
        self._sni_trampoline: Any = None  # the C callback, kept alive with the context
        if protocol == _PROTOCOL_TLS and not server_side:
            # ssl.SSLContext(PROTOCOL_TLS): no verification by default.
            self.check_hostname = False
            self.verify_mode = CERT_NONE

    # -- attributes ----------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        # Settings ported from ssl must not vanish: a name TLSContext does not
        # have (a typo, an ssl attribute it does not implement) is an error.
        if not name.startswith("_") and not hasattr(type(self), name):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r} "
                                 "(mojo_tls does not implement it; see python/README.md, "
                                 "'Differences from ssl')")
        object.__setattr__(self, name, value)
    # -- life cycle -------------------------------------------------------------
    def _h(self) -> _ffi.ConfigHandle:
        cfg = self._cfg
        if cfg is None:
            raise TLSClosedError("the TLSContext is closed")
        return cfg

    def close(self) -> None:
        """Release the native configuration. Existing connections keep working;
        the context can no longer be changed or used for new connections."""
        with self._lock:
            cfg, self._cfg = self._cfg, None
        if cfg is not None:
            lib().mojo_tls_config_free(cfg)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._cfg is None

    def __enter__(self) -> "TLSContext":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        side = "server" if self._server_side else "client"
        return f"<TLSContext {side}{' closed' if self.closed else ''}>"

    # -- basic properties -------------------------------------------------------
    @property
    def server_side(self) -> bool:
        """True for a server context."""
        return self._server_side

    @property
    def protocol(self) -> Any:
        """The ``ssl.PROTOCOL_*`` value: the one passed to the constructor,
        else ``PROTOCOL_TLS_SERVER`` or ``PROTOCOL_TLS_CLIENT``."""
        p = self._protocol
        if p is None:
            p = _PROTOCOL_TLS_SERVER if self._server_side else _PROTOCOL_TLS_CLIENT
        try:
            return _ssl._SSLMethod(p)
        except (AttributeError, ValueError):
            return p

    # -- ssl.SSLContext attributes implemented in Python ------------------------------
    @property
    def hostname_checks_common_name(self) -> bool:
        """True (the default, as ssl): a certificate without subjectAltName
        matches on its subject's Common Name. False: only DNS / IP
        subjectAltName entries count, so a CN-only certificate is rejected
        (``CertificateVerifyError``, verify_code 62). The library checks the
        CN itself; with False the package rejects CN-only certificates right
        after the handshake, before any application data is sent or returned
        (the peer sees the connection closed, not an alert)."""
        return self._hostname_checks_common_name

    @hostname_checks_common_name.setter
    def hostname_checks_common_name(self, value: bool) -> None:
        self._hostname_checks_common_name = bool(value)

    @property
    def options(self) -> Any:
        """The ``ssl.OP_*`` bits. The library's behaviour is fixed and secure,
        so ``OP_NO_SSLv2``, ``OP_NO_SSLv3``, ``OP_NO_TLSv1``,
        ``OP_NO_TLSv1_1``, ``OP_NO_COMPRESSION``, ``OP_NO_RENEGOTIATION``
        are always set (clearing one has no effect: the versions are
        ``minimum_version``'s, TLS 1.2 at least); ``OP_ALL`` (OpenSSL
        bug workarounds) is accepted without effect; ``OP_NO_TLSv1_2`` /
        ``OP_NO_TLSv1_3`` set minimum_version / maximum_version. Other bits
        (``OP_NO_TICKET``, ``OP_CIPHER_SERVER_PREFERENCE``,
        ``OP_IGNORE_UNEXPECTED_EOF``, ...) raise NotImplementedError."""
        v = (self._options & ~_OP_VERSIONS) | _OP_FIXED
        if self._minimum_version > TLSVersion.TLSv1_2:
            v |= OP_NO_TLSv1_2
        if self._maximum_version < TLSVersion.TLSv1_3:
            v |= OP_NO_TLSv1_3
        return _as_options(v)

    @options.setter
    def options(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"options must be an int (ssl.OP_* bits), not {type(value).__name__}")
        value = int(value)
        # Clearing a bit of _OP_FIXED changes nothing (they still read as set):
        # as with ssl, whose minimum_version (TLS 1.2 at least here) governs
        # the versions whatever OP_NO_TLSv1 says; and ssl's own defaults
        # (ssl.create_default_context().options) lack OP_NO_RENEGOTIATION.
        unknown = value & ~(_OP_FIXED | _OP_NOOP | _OP_VERSIONS)
        if unknown:
            raise NotImplementedError(f"options {_as_options(unknown)!r} are not supported by "
                                      "mojo_tls (it cannot honour them)")
        no12, no13 = bool(value & OP_NO_TLSv1_2), bool(value & OP_NO_TLSv1_3)
        if no12 and no13:
            raise ValueError("OP_NO_TLSv1_2 | OP_NO_TLSv1_3 leaves no protocol version")
        with self._lock:
            self.minimum_version = TLSVersion.TLSv1_3 if no12 else TLSVersion.TLSv1_2
            self.maximum_version = TLSVersion.TLSv1_2 if no13 else TLSVersion.TLSv1_3
            self._options = value & ~_OP_VERSIONS

    @property
    def verify_flags(self) -> Any:
        """The ``ssl.VERIFY_*`` bits that describe the verification.
        ``VERIFY_X509_TRUSTED_FIRST`` and ``VERIFY_X509_PARTIAL_CHAIN`` are
        what Mbed TLS always does (any loaded CA, an intermediate too, is a
        trust anchor) and read as set whatever is assigned;
        ``VERIFY_CRL_CHECK_LEAF`` / ``_CHAIN`` need CRLs loaded
        (:meth:`load_crl`; Mbed TLS then checks the whole chain against them,
        so both read as ``VERIFY_CRL_CHECK_CHAIN``, and they cannot be cleared
        again); ``VERIFY_X509_STRICT`` is accepted: Mbed TLS's checks are
        always the same (issuers must be CAs by basicConstraints, key usage
        is enforced where present, signatures need SHA-256 or better and RSA
        keys 2048 bits), OpenSSL's further strict-mode checks are not made.
        ``VERIFY_ALLOW_PROXY_CERTS`` raises NotImplementedError."""
        v = self._verify_flags | _VERIFY_ALWAYS
        if self._crl_count:
            v |= VERIFY_CRL_CHECK_CHAIN
        return _as_verify_flags(v)

    @verify_flags.setter
    def verify_flags(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"verify_flags must be an int (ssl.VERIFY_* bits), not {type(value).__name__}")
        value = int(value)
        unknown = value & ~_VERIFY_KNOWN
        if unknown:
            raise ValueError(f"unknown verify_flags bits 0x{unknown:x}")
        if value & VERIFY_ALLOW_PROXY_CERTS:
            raise NotImplementedError("VERIFY_ALLOW_PROXY_CERTS: Mbed TLS does not support proxy "
                                      "certificates")
        crl = value & VERIFY_CRL_CHECK_CHAIN
        if crl and not self._crl_count:
            raise ValueError("VERIFY_CRL_CHECK_LEAF / VERIFY_CRL_CHECK_CHAIN: load the CRLs first "
                             "(load_crl()); mojo_tls cannot fail a certificate for a missing CRL")
        if not crl and self._crl_count:
            raise ValueError("the loaded CRLs are always checked: VERIFY_CRL_CHECK_CHAIN cannot "
                             "be cleared")
        self._verify_flags = value & ~VERIFY_CRL_CHECK_CHAIN

    @property
    def sni_callback(self) -> Optional[Callable[..., Any]]:
        """Server: called during each handshake, after the ClientHello, as
        ``callback(ssl_object, server_name, context)`` on the thread driving
        the handshake (``server_name`` is None without SNI). Inside it
        ``ssl_object.context = other`` switches the certificate, CA and
        client-auth settings to another server TLSContext's. It returns None
        to go on or an alert (``ssl.ALERT_DESCRIPTION_*``) to abort the
        handshake; an exception is printed and aborts it with
        handshake_failure. Calls on ``ssl_object`` other than setting
        ``context`` are refused inside it (the handshake holds the
        connection)."""
        return self._sni_callback

    @sni_callback.setter
    def sni_callback(self, value: Optional[Callable[..., Any]]) -> None:
        if value is not None and not callable(value):
            raise TypeError("not a callable object")
        if value is not None and not self._server_side:
            raise ValueError("sni_callback cannot be set on a client context")
        with self._lock:
            if value is None:
                check(lib().mojo_tls_config_set_server_name_callback(
                    self._h(), _ffi.mojo_tls_server_name_cb(), None))
                self._sni_callback = None
                return
            if self._sni_trampoline is None:
                self._sni_trampoline = _sni.make_trampoline(weakref.ref(self))
            check(lib().mojo_tls_config_set_server_name_callback(self._h(), self._sni_trampoline,
                                                                 None))
            self._sni_callback = value

    def set_servername_callback(self, server_name_callback: Optional[Callable[..., Any]]) -> None:
        """Deprecated alias of :attr:`sni_callback` (as in ssl)."""
        self.sni_callback = server_name_callback

    @property
    def post_handshake_auth(self) -> bool:
        """Always False: TLS 1.3 post-handshake client authentication is not supported."""
        return False

    @post_handshake_auth.setter
    def post_handshake_auth(self, value: bool) -> None:
        if value:
            raise NotImplementedError("post_handshake_auth is not supported by mojo_tls")

    @property
    def minimum_version(self) -> TLSVersion:
        """Lowest protocol version accepted (TLS 1.2 by default)."""
        return self._minimum_version

    @minimum_version.setter
    def minimum_version(self, value: TLSVersion) -> None:
        v = self._version_arg(value)
        with self._lock:
            check(lib().mojo_tls_config_set_min_version(self._h(), int(v)), "minimum_version")
            self._minimum_version = v

    @property
    def maximum_version(self) -> TLSVersion:
        """Highest protocol version offered (an upper bound)."""
        return self._maximum_version

    @maximum_version.setter
    def maximum_version(self, value: TLSVersion) -> None:
        v = self._version_arg(value)
        with self._lock:
            check(lib().mojo_tls_config_set_max_version(self._h(), int(v)), "maximum_version")
            self._maximum_version = v

    @staticmethod
    def _version_arg(value: Any) -> TLSVersion:
        if isinstance(value, bool) or not isinstance(value, int):
            name = getattr(value, "name", None)  # ssl.TLSVersion members
            if isinstance(name, str) and name in TLSVersion.__members__:
                return TLSVersion[name]
            raise TypeError(f"expected a TLSVersion, not {type(value).__name__}")
        try:
            return TLSVersion(int(value))
        except ValueError:
            raise ValueError(f"unsupported protocol version {value!r} (TLS 1.2 and 1.3 only)") from None

    @property
    def verify_mode(self) -> VerifyMode:
        """Peer verification. Client: CERT_REQUIRED by default; CERT_OPTIONAL and
        CERT_NONE are insecure. Server: whether client certificates are
        requested (CERT_NONE by default, CERT_OPTIONAL, CERT_REQUIRED = mutual TLS)."""
        return self._verify_mode

    @verify_mode.setter
    def verify_mode(self, value: VerifyMode) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"verify_mode must be a VerifyMode, not {type(value).__name__}")
        try:
            mode = VerifyMode(int(value))
        except ValueError:
            raise ValueError(f"invalid verify_mode {value!r}") from None
        L = lib()
        with self._lock:
            if self._server_side:
                # CERT_* and MOJO_TLS_CLIENT_AUTH_* share their values (none/optional/required).
                check(L.mojo_tls_config_set_client_auth(self._h(), int(mode)), "verify_mode")
            else:
                if mode == CERT_NONE and self._check_hostname:
                    raise ValueError("Cannot set verify_mode to CERT_NONE when check_hostname "
                                     "is enabled.")
                check(L.mojo_tls_config_insecure_verify(self._h(), int(mode)), "verify_mode")
            self._verify_mode = mode

    @property
    def check_hostname(self) -> bool:
        """Client: check the server's certificate against the requested host
        name (True by default). Enabling it also sets verify_mode to
        CERT_REQUIRED if it was CERT_NONE (as the stdlib does)."""
        return self._check_hostname

    @check_hostname.setter
    def check_hostname(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError("check_hostname must be a bool")
        with self._lock:
            if not self._server_side:
                check(lib().mojo_tls_config_insecure_skip_hostname_check(self._h(), 0 if value else 1),
                      "check_hostname")
                if value and self._verify_mode == CERT_NONE:
                    self._check_hostname = value
                    self.verify_mode = CERT_REQUIRED
            self._check_hostname = value

    # -- trust --------------------------------------------------------------------
    def load_default_certs(self, purpose: Any = None) -> None:
        """Trust the system's CA store (Debian/Ubuntu, Fedora, Alpine, macOS
        Homebrew locations; SSL_CERT_FILE / SSL_CERT_DIR override). Calling it
        again (with the same SSL_CERT_* variables) adds nothing."""
        env = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        self._load_ca_once(("system",) + env + (True,),
                           lambda: check(lib().mojo_tls_config_add_ca_system(self._h()),
                                         "load_default_certs"))

    def set_default_verify_paths(self) -> None:
        """Same as :meth:`load_default_certs` (stdlib name)."""
        self.load_default_certs()

    def load_verify_locations(self, cafile: Optional[PathLike] = None,
                              capath: Optional[PathLike] = None,
                              cadata: Optional[Union[str, bytes, bytearray, memoryview]] = None) -> None:
        """Trust the CA certificates in `cafile` (PEM bundle or DER), every file
        of the directory `capath`, and/or `cadata` (PEM text as str, or PEM/DER
        bytes). Server contexts use them to verify client certificates."""
        if cafile is None and capath is None and cadata is None:
            raise TypeError("cafile, capath and cadata cannot be all omitted")
        L = lib()
        if cafile is not None:
            path = c_path(cafile, "cafile")

            def load_file() -> None:
                check(L.mojo_tls_config_add_ca_file(self._h(), path),
                      f"load_verify_locations({os.fsdecode(cafile)!r})")
                self._remember_ca_file(path)
            self._load_ca_once(("file",) + self._file_key(path), load_file, content=path)
        if capath is not None:
            dpath = c_path(capath, "capath")

            def load_dir() -> None:
                check(L.mojo_tls_config_add_ca_dir(self._h(), dpath),
                      f"load_verify_locations(capath={os.fsdecode(capath)!r})")
                self._remember_ca_dir(dpath)
            self._load_ca_once(("dir",) + self._dir_key(dpath), load_dir)
        if cadata is not None:
            data = cadata.encode("ascii") if isinstance(cadata, str) else as_bytes(cadata, "cadata")

            def load_data() -> None:
                check(L.mojo_tls_config_add_ca_mem(self._h(), data, len(data)),
                      "load_verify_locations(cadata)")
                self._remember_cas(data)
            self._load_ca_once(("data", hashlib.sha256(data).digest()), load_data)

    # -- get_ca_certs: what load_verify_locations loaded, kept as DER ----------------------
    def _remember_cas(self, data: bytes) -> None:
        from ._der import split_certificates

        with self._lock:
            for der in split_certificates(data):
                if der not in self._ca_der_set:
                    self._ca_der_set.add(der)
                    self._ca_ders.append(der)

    def _remember_ca_file(self, path: bytes) -> None:
        try:
            with open(path, "rb") as f:
                self._remember_cas(f.read())
        except OSError:
            pass

    def _remember_ca_dir(self, path: bytes) -> None:
        try:
            names = sorted(os.listdir(path))
        except OSError:
            return
        for n in names:
            full = os.path.join(path, n)
            if os.path.isfile(full):
                self._remember_ca_file(full)

    @overload
    def get_ca_certs(self, binary_form: Literal[False] = ...) -> List[Dict[str, Any]]: ...
    @overload
    def get_ca_certs(self, binary_form: Literal[True]) -> List[bytes]: ...
    @overload
    def get_ca_certs(self, binary_form: bool = ...) -> Union[List[Dict[str, Any]], List[bytes]]: ...

    def get_ca_certs(self, binary_form: bool = False) -> Union[List[Dict[str, Any]], List[bytes]]:
        """The CA certificates loaded by :meth:`load_verify_locations`
        (`cafile`, the files of `capath` at the time of the call, `cadata`),
        in load order (ssl lists them in its store's order), each once, only those that are CAs (basicConstraints
        cA, as OpenSSL's X509_check_ca, which ssl applies): dicts as ``getpeercert()`` gives (subject,
        issuer, version, serialNumber, notBefore, notAfter, subjectAltName;
        decoded in Python: OCSP, caIssuers and crlDistributionPoints are not
        included) or, with ``binary_form=True``, DER bytes. The system store
        (:meth:`load_default_certs`) is not listed, as ssl lists no
        certificate of a capath directory it has not used yet."""
        from ._der import decode_certificate, is_ca

        with self._lock:
            ders = [d for d in self._ca_ders if is_ca(d)]
        if binary_form:
            return ders
        out: List[Dict[str, Any]] = []
        for der in ders:
            info = decode_certificate(der)
            if info is not None:
                out.append(info)
        return out

    # -- session_stats ----------------------------------------------------------------------
    def _stat(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._stats[k] += 1

    def session_stats(self) -> Dict[str, int]:
        """Statistics about the connections made with this context, with
        the keys of ``ssl.SSLContext.session_stats()``, counted by the package
        (the library keeps none): ``connect`` / ``accept`` count client /
        server connections started (``connect()``, ``wrap_socket``,
        ``wrap_memory``, ``wrap_bio``, ``accept``), ``connect_good`` /
        ``accept_good`` those whose handshake completed; ``hits`` counts
        handshakes that resumed a session (either side), ``misses`` client
        handshakes that offered a session (``session=``) but ran a full one;
        a server cannot see a ticket or id it rejected, so its misses are not
        counted. ``number`` (sessions in the server's cache),
        ``timeouts`` and ``cache_full`` are always 0 (the library's cache is
        not visible), and so are the ``*_renegotiate`` keys (no renegotiation).
        A handshake is counted when the package sees it complete: by
        ``do_handshake()``, the first read or write, or at the latest when
        the connection is closed."""
        with self._lock:
            return dict(self._stats)

    # Loading the same bundle again adds nothing (as OpenSSL's store skips
    # duplicates), and urllib3 / requests reload it for every connection:
    # remember what was loaded (a file by its identity and content stamp,
    # data by its SHA-256) and skip repeats.
    @staticmethod
    def _file_key(path: bytes) -> Tuple[Any, ...]:
        try:
            st = os.stat(path)
        except OSError:
            return (path, None)  # let the library report it
        return (os.path.realpath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    @staticmethod
    def _dir_key(path: bytes) -> Tuple[Any, ...]:
        try:
            st = os.stat(path)
            names = sorted(os.listdir(path))
            stamps = tuple((n, s.st_size, s.st_mtime_ns)
                           for n in names for s in [os.stat(os.path.join(path, n))])
        except OSError:
            return (path, None)
        return (os.path.realpath(path), st.st_dev, st.st_ino, stamps)

    def _load_ca_once(self, key: Tuple[Any, ...], load: Callable[[], Any],
                      content: Optional[bytes] = None) -> None:
        """Run `load` unless `key` (or, for a file, its content's SHA-256:
        the same bundle under another name or as cadata) was loaded."""
        if key[-1] is None:  # not stat-able: no de-duplication, the library reports it
            load()
            return
        with self._lock:
            if key in self._ca_loaded:
                return
            data_key = None
            if content is not None:
                try:
                    with open(content, "rb") as f:
                        data_key = ("data", hashlib.sha256(f.read()).digest())
                except OSError:
                    data_key = None
                if data_key in self._ca_loaded:
                    self._ca_loaded.add(key)
                    return
            load()
            self._ca_loaded.add(key)
            if data_key is not None:
                self._ca_loaded.add(data_key)
            self._ca_loads += 1

    def load_crl(self, crlfile: Optional[PathLike] = None, *,
                 crldata: Optional[Union[str, bytes]] = None) -> None:
        """Add certificate revocation lists (PEM or DER) from a file and/or
        memory: revoked certificates then fail verification."""
        if crlfile is None and crldata is None:
            raise TypeError("crlfile and crldata cannot be both omitted")
        L = lib()
        if crlfile is not None:
            check(L.mojo_tls_config_add_crl_file(self._h(), c_path(crlfile, "crlfile")), "load_crl")
            self._crl_count += 1
        if crldata is not None:
            data = crldata.encode("ascii") if isinstance(crldata, str) else as_bytes(crldata, "crldata")
            check(L.mojo_tls_config_add_crl_mem(self._h(), data, len(data)), "load_crl(crldata)")
            self._crl_count += 1

    def add_pin(self, sha256: Union[bytes, str], kind: str = "cert") -> None:
        """Pin the peer: `sha256` is the SHA-256 (32 bytes, or 64 hex digits) of
        a certificate's DER (``kind='cert'``) or of its public key info
        (``kind='spki'``). With pins, a handshake fails unless a certificate of
        the peer's chain matches one, even when the chain verifies."""
        if isinstance(sha256, str):
            try:
                digest = bytes.fromhex(sha256.replace(":", ""))
            except ValueError:
                raise ValueError("sha256 must be 32 bytes or 64 hex digits") from None
        else:
            digest = as_bytes(sha256, "sha256")
        if len(digest) != 32:
            raise ValueError(f"sha256 must be 32 bytes, got {len(digest)}")
        if kind not in _PIN_KINDS:
            raise ValueError("kind must be 'cert' or 'spki'")
        check(lib().mojo_tls_config_add_pin(self._h(), _PIN_KINDS[kind], digest, 32), "add_pin")

    @property
    def pin_only(self) -> bool:
        """Trust the pins alone (no CA store, no host name check): for
        self-signed peers. Needs at least one pin."""
        return self._pin_only

    @pin_only.setter
    def pin_only(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError("pin_only must be a bool")
        check(lib().mojo_tls_config_set_pin_only(self._h(), 1 if value else 0), "pin_only")
        self._pin_only = value

    @property
    def fast_record_layer(self) -> bool:
        """True (the default): after the handshake, connections whose suite it
        runs (AES-GCM, ChaCha20-Poly1305) use mojo-tls's fast record layer;
        False keeps Mbed TLS's own. A connection's ``record_layer`` says which
        one it uses."""
        return self._fast_record_layer

    @fast_record_layer.setter
    def fast_record_layer(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError("fast_record_layer must be a bool")
        mode = _ffi.MOJO_TLS_RECORD_LAYER_AUTO if value else _ffi.MOJO_TLS_RECORD_LAYER_MBEDTLS
        check(lib().mojo_tls_config_set_record_layer(self._h(), mode), "fast_record_layer")
        self._fast_record_layer = value

    # -- own certificate ------------------------------------------------------------
    def load_cert_chain(self, certfile: PathLike, keyfile: Optional[PathLike] = None,
                        password: Password = None) -> None:
        """Use the certificate chain in `certfile` (leaf first; PEM or DER) and
        the private key in `keyfile` (or in `certfile` when omitted), decrypted
        with `password` (str, bytes or a callable returning one). A server may
        call this several times: the certificate is then chosen by the
        client's SNI name (the first one is the default)."""
        cert = c_path(certfile, "certfile")
        key = c_path(keyfile, "keyfile") if keyfile is not None else cert
        pw = self._password(password)
        check(lib().mojo_tls_config_add_cert_file(self._h(), cert, key, pw),
              f"load_cert_chain({os.fsdecode(certfile)!r})")
        self._cert_count += 1

    def load_cert_chain_data(self, cert: Union[str, bytes], key: Union[str, bytes],
                             password: Password = None) -> None:
        """As :meth:`load_cert_chain` from memory (PEM text or DER bytes)."""
        c = cert.encode("ascii") if isinstance(cert, str) else as_bytes(cert, "cert")
        k = key.encode("ascii") if isinstance(key, str) else as_bytes(key, "key")
        pw = self._password(password)
        check(lib().mojo_tls_config_add_cert_mem(self._h(), c, len(c), k, len(k), pw),
              "load_cert_chain_data")
        self._cert_count += 1

    @staticmethod
    def _password(password: Password) -> Optional[bytes]:
        if callable(password):
            password = password()
        if password is None:
            return None
        if isinstance(password, str):
            password = password.encode("utf-8")
        if not isinstance(password, (bytes, bytearray)):
            raise TypeError("password should be a string, bytes or a callable returning one")
        return c_str(bytes(password), "password")

    # -- negotiation --------------------------------------------------------------------
    def set_alpn_protocols(self, alpn_protocols: Iterable[str]) -> None:
        """ALPN protocols to offer (client) or accept (server), most preferred first."""
        if isinstance(alpn_protocols, (str, bytes)):
            raise TypeError("alpn_protocols must be a list of str, not a single string")
        protos: List[str] = []
        for p in alpn_protocols:
            if isinstance(p, bytes):
                p = p.decode("ascii")
            if not isinstance(p, str):
                raise TypeError(f"ALPN protocols must be str, not {type(p).__name__}")
            if not p or len(p.encode()) > 255 or "," in p:
                raise ValueError(f"invalid ALPN protocol {p!r}")
            protos.append(p)
        arg = c_str(",".join(protos), "alpn_protocols")
        check(lib().mojo_tls_config_set_alpn(self._h(), arg), "set_alpn_protocols")
        self._alpn = protos

    def set_ciphers(self, ciphers: str) -> None:
        """Cipher suites by IANA name, most preferred first, separated by ':' or
        ',' (e.g. 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'). Unknown, weak or
        non-forward-secret suites raise TLSInvalidArgumentError."""
        check(lib().mojo_tls_config_set_ciphersuites(self._h(), c_str(ciphers, "ciphers")),
              "set_ciphers")

    def set_groups(self, groups: Union[str, Iterable[str]]) -> None:
        """Key-exchange groups, most preferred first: 'x25519', 'secp256r1'
        ('P-256'), 'secp384r1' ('P-384'), 'secp521r1', 'x448'."""
        if not isinstance(groups, str):
            groups = ":".join(groups)
        check(lib().mojo_tls_config_set_groups(self._h(), c_str(groups, "groups")), "set_groups")

    def set_ecdh_curve(self, curve_name: str) -> None:
        """Use only this key-exchange group (stdlib name)."""
        self.set_groups(curve_name)

    @property
    def keylog_filename(self) -> Optional[str]:
        """Debugging aid: append NSS key-log lines to this file (None = off; the
        SSLKEYLOGFILE environment variable is honoured otherwise). Anyone with
        the file can decrypt the traffic."""
        return self._keylog

    @keylog_filename.setter
    def keylog_filename(self, path: Optional[PathLike]) -> None:
        arg = c_path(path, "keylog_filename") if path is not None else None
        check(lib().mojo_tls_config_set_keylog_file(self._h(), arg), "keylog_filename")
        self._keylog = os.fsdecode(path) if path is not None else None

    # -- sessions (server) ---------------------------------------------------------------
    def enable_session_tickets(self, lifetime: int = 86400) -> None:
        """Server: issue session tickets so clients can resume; the ticket keys
        rotate every `lifetime` seconds."""
        if isinstance(lifetime, bool) or not isinstance(lifetime, int):
            raise TypeError("lifetime must be an int (seconds)")
        check(lib().mojo_tls_config_set_session_tickets(self._h(), max(0, min(lifetime, 2**31 - 1))),
              "enable_session_tickets")

    def set_ticket_keys(self, keys: bytes) -> None:
        """Server: seal session tickets under these keys instead of random
        ones, so servers sharing them (behind a load balancer) resume each
        other's sessions; others run a full handshake. `keys` is 1 to 8 keys
        of 32 random bytes each, concatenated: the first seals new tickets,
        all of them open tickets. Rotate by calling again with the new key
        first and the previous one after it. Turns tickets on."""
        if not isinstance(keys, (bytes, bytearray, memoryview)):
            raise TypeError("keys must be bytes (1 to 8 keys of 32 bytes)")
        data = bytes(keys)
        check(lib().mojo_tls_config_set_ticket_keys(self._h(), data, len(data)), "set_ticket_keys")

    @property
    def resumption_without_forward_secrecy(self) -> bool:
        """False (the default): a resumed TLS 1.3 session always runs ECDHE
        as well (psk_dhe_ke). True allows psk_ke, resumption on the ticket's
        key alone: a session resumed so has no forward secrecy (whoever
        later gets the ticket key or the session's secret can decrypt it).
        Both ends must allow it. A client then resumes TLS 1.3 sessions with
        psk_ke alone and no key share, so a server that will not resume it
        (not opted in, an expired or unknown ticket) fails the handshake
        (TLSHandshakeError naming psk_ke): connect again without the
        session. See docs/features/resumption.md."""
        return self._resumption_without_forward_secrecy

    @resumption_without_forward_secrecy.setter
    def resumption_without_forward_secrecy(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError("resumption_without_forward_secrecy must be a bool")
        check(lib().mojo_tls_config_insecure_resumption_without_forward_secrecy(self._h(), 1 if value else 0),
              "resumption_without_forward_secrecy")
        self._resumption_without_forward_secrecy = value

    def set_session_cache(self, max_entries: int = 1000, timeout: int = 300) -> None:
        """Server: a session-id cache of `max_entries` sessions resumable for
        `timeout` seconds (0 entries turns it off)."""
        for name, v in (("max_entries", max_entries), ("timeout", timeout)):
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**31:
                raise ValueError(f"{name} must be a non-negative int")
        check(lib().mojo_tls_config_set_session_cache(self._h(), max_entries, timeout),
              "set_session_cache")

    # -- connections -----------------------------------------------------------------------
    def connect(self, host: str, port: int, *, timeout: Optional[float] = None,
                session: Any = None) -> "TLSSocket":
        """Connect to `host`:`port` and handshake (see :func:`mojo_tls.connect`)."""
        return cast("TLSSocket", TLSContext._connect(host, port, context=self, timeout=timeout, session=session))

    def listen(self, host: str = "127.0.0.1", port: int = 0, *, backlog: int = 128) -> "TLSListener":
        """A listening socket whose accept() returns TLS connections (server contexts)."""
        return cast("TLSListener", TLSContext._listen(host, port, context=self, backlog=backlog))

    def wrap_socket(self, sock: _socket.socket, server_side: Optional[bool] = None,
                    do_handshake_on_connect: bool = True, suppress_ragged_eofs: bool = False,
                    server_hostname: Optional[str] = None, session: Any = None) -> "TLSSocket":
        """Run TLS over an existing connected socket (e.g. STARTTLS). As with
        ssl, the returned TLSSocket takes `sock`'s descriptor over: `sock` is
        detached (``fileno() == -1``; closing it does nothing) and
        :meth:`TLSSocket.unwrap` returns a new socket for the connection.
        `server_hostname` may be str (IDNA) or ASCII bytes."""
        return cast("TLSSocket", self._socket_class._wrap(
            self, sock, server_side=server_side, server_hostname=server_hostname,
            do_handshake_on_connect=do_handshake_on_connect,
            suppress_ragged_eofs=suppress_ragged_eofs, session=session))

    def wrap_memory(self, server_side: Optional[bool] = None,
                    server_hostname: Optional[str] = None, session: Any = None) -> "TLSObject":
        """A :class:`TLSObject` (memory mode: feed ciphertext in, drain it out)."""
        return cast("TLSObject", self._object_class(self, server_side=server_side,
                                                    server_hostname=server_hostname,
                                                    session=session))

    def wrap_bio(self, incoming: "_ssl.MemoryBIO", outgoing: "_ssl.MemoryBIO",
                 server_side: bool = False, server_hostname: Optional[str] = None,
                 session: Any = None) -> "TLSBIOObject":
        """As ``ssl.SSLContext.wrap_bio``: a :class:`~mojo_tls.bio.TLSBIOObject`
        (the ``ssl.SSLObject`` API) moving ciphertext through the two
        ``ssl.MemoryBIO`` objects. This is what lets asyncio's own TLS
        (``ssl=`` of ``asyncio.open_connection``, ``start_server``,
        ``loop.create_connection``) run on a TLSContext."""
        return self._bio_class(self, incoming, outgoing, server_side=server_side,  # type: ignore[no-any-return]
                               server_hostname=server_hostname, session=session)

    def as_ssl_context(self) -> "_ssl.SSLContext":
        """An ``ssl.SSLContext`` subclass whose ``wrap_bio`` / ``wrap_socket``
        (and ``set_alpn_protocols``, trust and certificate loaders) use this
        context: for callers that insist on ``isinstance(ctx, ssl.SSLContext)``
        (``loop.start_tls``, aiohttp's client ``ssl=``, httpx's ``verify=``).
        The same object is returned each time."""
        with self._lock:
            adapter = self.__dict__.get("_adapter")
            if adapter is None:
                adapter = self._adapter_class(self)
                self._adapter = adapter
        return adapter  # type: ignore[no-any-return]

    # True on a DTLSContext (datagrams): the TLS entry points refuse it.
    _datagram = False

    def _require_stream(self, what: str) -> None:
        """Refuse a DTLSContext where a TLS (stream) connection is made."""
        if self._datagram:
            raise ValueError(f"{what} needs a TLSContext, not a DTLSContext (DTLS: "
                             "DTLSContext.connect / listen / wrap_memory, mojo_tls.aio."
                             "create_dtls_connection / create_dtls_server)")

    def _check_side(self, server_side: Optional[bool]) -> None:
        if server_side is not None and bool(server_side) != self._server_side:
            side = "server" if self._server_side else "client"
            raise ValueError(f"server_side={server_side} does not match this {side} context "
                             f"(create it with TLSContext(server_side={bool(server_side)}))")


def create_default_context(purpose: Any = Purpose.SERVER_AUTH, *, cafile: Optional[PathLike] = None,
                           capath: Optional[PathLike] = None,
                           cadata: Optional[Union[str, bytes]] = None) -> TLSContext:
    """A context with secure defaults (as ``ssl.create_default_context``)."""
    ctx = TLSContext(purpose)
    if cafile is not None or capath is not None or cadata is not None:
        ctx.load_verify_locations(cafile, capath, cadata)
    return ctx
