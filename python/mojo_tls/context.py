"""TLSContext: the settings shared by connections (like ``ssl.SSLContext``)."""

from __future__ import annotations

import enum
import os
import socket as _socket
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterable, List, Optional, Union

from . import _ffi
from ._core import (as_bytes, c_path, c_str, check, check_handle, lib)
from .errors import TLSClosedError

if TYPE_CHECKING:  # pragma: no cover
    from .memory import TLSObject
    from ._sockets import TLSListener, TLSSocket

__all__ = ["TLSContext", "TLSVersion", "VerifyMode", "Purpose", "CERT_NONE", "CERT_OPTIONAL",
           "CERT_REQUIRED", "create_default_context"]

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
    _connect: Callable[..., Any]
    _listen: Callable[..., Any]

    def __init__(self, purpose: Any = Purpose.SERVER_AUTH, *,
                 server_side: Optional[bool] = None) -> None:
        """Create a client context (default) or, with ``Purpose.CLIENT_AUTH``
        or ``server_side=True``, a server context."""
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
    def protocol(self) -> str:
        """'TLS_SERVER' or 'TLS_CLIENT' (informational)."""
        return "TLS_SERVER" if self._server_side else "TLS_CLIENT"

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
        Homebrew locations; SSL_CERT_FILE / SSL_CERT_DIR override)."""
        check(lib().mojo_tls_config_add_ca_system(self._h()), "load_default_certs")

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
            check(L.mojo_tls_config_add_ca_file(self._h(), c_path(cafile, "cafile")),
                  f"load_verify_locations({os.fsdecode(cafile)!r})")
        if capath is not None:
            check(L.mojo_tls_config_add_ca_dir(self._h(), c_path(capath, "capath")),
                  f"load_verify_locations(capath={os.fsdecode(capath)!r})")
        if cadata is not None:
            data = cadata.encode("ascii") if isinstance(cadata, str) else as_bytes(cadata, "cadata")
            check(L.mojo_tls_config_add_ca_mem(self._h(), data, len(data)), "load_verify_locations(cadata)")

    def load_crl(self, crlfile: Optional[PathLike] = None, *,
                 crldata: Optional[Union[str, bytes]] = None) -> None:
        """Add certificate revocation lists (PEM or DER) from a file and/or
        memory: revoked certificates then fail verification."""
        if crlfile is None and crldata is None:
            raise TypeError("crlfile and crldata cannot be both omitted")
        L = lib()
        if crlfile is not None:
            check(L.mojo_tls_config_add_crl_file(self._h(), c_path(crlfile, "crlfile")), "load_crl")
        if crldata is not None:
            data = crldata.encode("ascii") if isinstance(crldata, str) else as_bytes(crldata, "crldata")
            check(L.mojo_tls_config_add_crl_mem(self._h(), data, len(data)), "load_crl(crldata)")

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
        return TLSContext._connect(host, port, context=self, timeout=timeout, session=session)

    def listen(self, host: str = "127.0.0.1", port: int = 0, *, backlog: int = 128) -> "TLSListener":
        """A listening socket whose accept() returns TLS connections (server contexts)."""
        return TLSContext._listen(host, port, context=self, backlog=backlog)

    def wrap_socket(self, sock: _socket.socket, server_side: Optional[bool] = None,
                    do_handshake_on_connect: bool = True, suppress_ragged_eofs: bool = False,
                    server_hostname: Optional[str] = None, session: Any = None) -> "TLSSocket":
        """Run TLS over an existing connected socket (e.g. STARTTLS). As with
        ssl, the returned TLSSocket takes `sock`'s descriptor over: `sock` is
        detached (``fileno() == -1``; closing it does nothing) and
        :meth:`TLSSocket.unwrap` returns a new socket for the connection.
        `server_hostname` may be str (IDNA) or ASCII bytes."""
        return self._socket_class._wrap(self, sock, server_side=server_side,
                                        server_hostname=server_hostname,
                                        do_handshake_on_connect=do_handshake_on_connect,
                                        suppress_ragged_eofs=suppress_ragged_eofs,
                                        session=session)

    def wrap_memory(self, server_side: Optional[bool] = None,
                    server_hostname: Optional[str] = None, session: Any = None) -> "TLSObject":
        """A :class:`TLSObject` (memory mode: feed ciphertext in, drain it out)."""
        return self._object_class(self, server_side=server_side,
                                  server_hostname=server_hostname, session=session)

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
