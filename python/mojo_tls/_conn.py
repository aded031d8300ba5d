"""Behaviour shared by TLSSocket and TLSObject: the native connection handle
and what it can tell about the negotiated session and the peer."""

from __future__ import annotations

import ctypes
import threading
import time
from typing import Any, Callable, Dict, List, Literal, Optional, Tuple, Union, overload

from . import _ffi
from ._core import as_bytes, lib, make_error, out_bytes, out_string
from ._sni import SNIContextMixin
from .errors import (BADCERT_CN_MISMATCH, CertificateVerifyError, TLSClosedError,
                     TLSError, TLSNotAvailableError)

Err = _ffi.mojo_tls_err

__all__ = ["TLSSession", "PeerCertDict"]

# getpeercert()'s dict, as typeshed's ssl._PeerCertRetDictType (plus int:
# 'version' is an int there too at run time).
_DNType = Tuple[Tuple[Tuple[str, str], ...], ...]
_SANType = Tuple[Tuple[str, str], ...]
PeerCertDict = Dict[str, Union[str, int, _DNType, _SANType]]

# Mbed TLS short attribute names -> the long names the stdlib's getpeercert() uses.
_DN_NAMES = {
    "CN": "commonName", "C": "countryName", "O": "organizationName",
    "OU": "organizationalUnitName", "ST": "stateOrProvinceName", "L": "localityName",
    "emailAddress": "emailAddress", "serialNumber": "serialNumber", "DC": "domainComponent",
    "title": "title", "SN": "surname", "GN": "givenName", "initials": "initials",
    "pseudonym": "pseudonym", "generationQualifier": "generationQualifier",
    "dnQualifier": "dnQualifier", "postalAddress": "postalAddress", "postalCode": "postalCode",
    "uniqueIdentifier": "x500UniqueIdentifier", "street": "streetAddress", "R": "role",
}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def peer_dn(c: Any, which: int) -> Tuple[Tuple[Tuple[str, str], ...], ...]:
    """The peer certificate's subject or issuer (MOJO_TLS_DN_*) from the
    library's indexed attributes, as the stdlib's getpeercert() shapes it:
    ((('commonName', 'example.com'),), (('organizationName', 'Example'),))."""
    L = lib()
    n = L.mojo_tls_conn_peer_cert_dn_count(c, which)
    if n < 0:
        raise make_error(n, "peer certificate name")
    rdns: List[List[Tuple[str, str]]] = []
    last = None
    for i in range(n):
        rdn = ctypes.c_int32()
        attr = out_string(lambda buf, cap: L.mojo_tls_conn_peer_cert_dn_attr(
            c, which, i, ctypes.byref(rdn), buf, cap))
        value = out_string(L.mojo_tls_conn_peer_cert_dn_value, c, which, i)
        if rdn.value != last:
            rdns.append([])
            last = rdn.value
        rdns[-1].append((_DN_NAMES.get(attr, attr), value))
    return tuple(tuple(avas) for avas in rdns)


def peer_sans(c: Any) -> Tuple[Tuple[str, str], ...]:
    """The peer certificate's subject alternative names, as the stdlib's
    getpeercert() shapes them: (('DNS', 'example.com'), ('IP Address', '127.0.0.1'))."""
    L = lib()
    n = L.mojo_tls_conn_peer_cert_san_count(c)
    if n < 0:
        raise make_error(n, "peer certificate names")
    kinds = {_ffi.MOJO_TLS_SAN_DNS: "DNS", _ffi.MOJO_TLS_SAN_IP: "IP Address"}
    out = []
    for i in range(n):
        kind = ctypes.c_int32()
        value = out_string(lambda buf, cap: L.mojo_tls_conn_peer_cert_san(
            c, i, ctypes.byref(kind), buf, cap))
        name = kinds.get(kind.value, "OTHER")
        out.append((name, _ip_text(value) if name == "IP Address" else value))
    return tuple(out)


def _ip_text(value: str) -> str:
    """An IP address SAN as ssl's getpeercert() writes it: IPv4 dotted,
    IPv6 as eight uppercase hex groups without zero compression
    ('2001:DB8:0:0:0:0:0:1')."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return value
    if ip.version == 4:
        return str(ip)
    packed = ip.packed
    return ":".join(f"{packed[i] << 8 | packed[i + 1]:X}" for i in range(0, 16, 2))


def _der_header(der: bytes, pos: int) -> Tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at `pos`."""
    tag = der[pos]
    n = der[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if not 0 < k <= 4:
            raise ValueError("bad DER length")
        n = int.from_bytes(der[pos:pos + k], "big")
        pos += k
    if pos + n > len(der):
        raise ValueError("truncated DER")
    return tag, pos, pos + n


def cert_serial(der: bytes) -> Optional[str]:
    """The serial number of a certificate's DER as ssl's getpeercert()
    writes it (uppercase hex, two digits per byte, no 0x), or None."""
    try:
        tag, start, _ = _der_header(der, 0)            # Certificate
        if tag != 0x30:
            return None
        tag, start, _ = _der_header(der, start)        # tbsCertificate
        if tag != 0x30:
            return None
        tag, s, e = _der_header(der, start)
        if tag == 0xA0:                                # [0] version
            tag, s, e = _der_header(der, e)
        if tag != 0x02:                                # serialNumber INTEGER
            return None
        raw = der[s:e]
    except (IndexError, ValueError):
        return None
    if not raw:
        return None
    value = int.from_bytes(raw, "big", signed=True)
    mag = abs(value)
    text = mag.to_bytes((mag.bit_length() + 7) // 8 or 1, "big").hex().upper()
    return ("-" + text) if value < 0 else text


def cert_time(t: int) -> str:
    """Unix time -> 'Jan  5 09:34:43 2018 GMT' (the format of the stdlib's getpeercert)."""
    tm = time.gmtime(t)
    return (f"{_MONTHS[tm.tm_mon - 1]} {tm.tm_mday:2d} {tm.tm_hour:02d}:{tm.tm_min:02d}:"
            f"{tm.tm_sec:02d} {tm.tm_year} GMT")


def _cipher_bits(name: str) -> int:
    if "CHACHA20" in name or "AES_256" in name or "CAMELLIA_256" in name or "ARIA_256" in name:
        return 256
    if "AES_128" in name or "CAMELLIA_128" in name or "ARIA_128" in name:
        return 128
    return 0


class TLSSession:
    """A resumable client session (opaque; holds the session secret: keep it
    private). Pass it as ``session=`` to a later connection to the same server."""

    __slots__ = ("data",)

    def __init__(self, data: Union[bytes, bytearray, memoryview]) -> None:
        self.data: bytes = as_bytes(data, "session data")

    def __bytes__(self) -> bytes:
        return self.data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TLSSession) and other.data == self.data

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:
        return f"<TLSSession {len(self.data)} bytes>"


# get_channel_binding() types: ssl's ("tls-unique") and RFC 9266's.
CHANNEL_BINDING_TYPES = ("tls-unique", "tls-exporter")
_EXPORTER_LABEL = b"EXPORTER-Channel-Binding"


class _ConnBase(SNIContextMixin):
    """A native connection handle plus the stdlib-style introspection methods."""

    _conn: Optional[_ffi.ConnHandle] = None
    _closed_what = "TLS connection"

    def _init_base(self, context: Any, server_side: bool, server_hostname: Optional[str]) -> None:
        self._conn = None
        self._handle_lock = threading.Lock()
        self.context = context
        self.server_side = server_side
        self.server_hostname = server_hostname
        self._handshake_done = False
        self._notify_sent = False  # we sent close_notify (shutdown/unwrap)
        self._peer_closed = False  # a read gave the peer's close_notify (b'')
        self._failed: Optional[TLSError] = None  # a failed Python-side check (_post_handshake)
        self._session_offered = False  # a client session= was imported
        self._stats_done = False  # counted in the context's session_stats()
        stat = getattr(context, "_stat", None)
        if stat is not None:
            stat("accept" if server_side else "connect")

    def _note_handshake(self) -> None:
        """Count the completed handshake once in the context's session_stats()."""
        if self._stats_done:
            return
        self._stats_done = True
        c = self._conn
        stat = getattr(self.context, "_stat", None)
        if c is None or stat is None:
            return
        keys = ["accept_good" if self.server_side else "connect_good"]
        if lib().mojo_tls_conn_session_resumed(c) == 1:
            keys.append("hits")
        elif self._session_offered:
            keys.append("misses")
        stat(*keys)

    # -- handle -----------------------------------------------------------------
    def _h(self) -> _ffi.ConnHandle:
        c = self._conn
        if c is None:
            raise TLSClosedError(f"I/O operation on a closed {self._closed_what}",
                                 int(Err.MOJO_TLS_ERR_CLOSED))
        return c

    @property
    def closed(self) -> bool:
        """True once the object was closed (its native handle released)."""
        return self._conn is None

    def _free(self, abandon: bool = False) -> None:
        if not getattr(self, "_stats_done", True) and self._conn is not None:
            try:
                if self._handshake_done or lib().mojo_tls_conn_version(self._conn) > 0:
                    self._note_handshake()
            except Exception:
                pass
        with self._handle_lock:
            c, self._conn = self._conn, None
        if c is not None:
            (lib().mojo_tls_conn_abandon if abandon else lib().mojo_tls_conn_free)(c)

    def _error(self, rc: int, what: str) -> TLSError:
        """The exception for a failed call on this connection."""
        host = None if self.server_side else self.server_hostname
        exc = make_error(rc, what, server_hostname=host)
        if isinstance(exc, CertificateVerifyError) and self._conn is not None:
            L = lib()
            reason, flags = exc.verify_reason, exc.verify_flags
            try:
                r = out_string(L.mojo_tls_conn_verify_reason, self._conn)
                if r:
                    reason = r
                f = L.mojo_tls_conn_verify_flags(self._conn)
                if f >= 0:
                    flags = f
            except TLSError:
                pass
            exc = CertificateVerifyError(exc.library_message, rc, verify_reason=reason,
                                         verify_flags=flags, server_hostname=host, context=what)
        return exc

    # -- checks the library does not make ---------------------------------------
    def _post_handshake(self) -> None:
        """Right after the handshake, before any application data: the
        context's checks made in Python (hostname_checks_common_name=False
        rejects a certificate without a DNS / IP subjectAltName, which the
        library would match on its CN). Raises CertificateVerifyError, and
        every later I/O raises it again."""
        self._note_handshake()
        ctx = self.context
        if (self.server_side or self._conn is None or not ctx.check_hostname
                or ctx.hostname_checks_common_name or ctx.pin_only or not ctx.verify_mode
                or self.server_hostname is None):
            return
        try:
            sans = peer_sans(self._conn)
        except TLSNotAvailableError:
            if lib().mojo_tls_conn_session_resumed(self._conn) == 1:
                return  # resumed without the certificate: checked when the session was made
            sans = ()
        if any(kind in ("DNS", "IP Address") for kind, _ in sans):
            return  # the library matched the host against them
        host = self.server_hostname
        if isinstance(host, (bytes, bytearray)):
            host = bytes(host).decode("ascii", "replace")
        reason = (f'certificate does not match host name "{host}" (no subjectAltName; '
                  "hostname_checks_common_name is False)")
        exc = CertificateVerifyError(reason, verify_reason=reason, verify_flags=BADCERT_CN_MISMATCH,
                                     server_hostname=host)
        self._failed = exc
        raise exc

    def _pre_io(self) -> None:
        """Before reading or writing: complete the handshake explicitly when
        a Python-side check must see it first; re-raise a failed check."""
        if self._failed is not None:
            raise self._failed
        if not self._handshake_done and self._needs_post_check():
            self.do_handshake()  # type: ignore[attr-defined]

    def _needs_post_check(self) -> bool:
        ctx = self.context
        return (not self.server_side and ctx.check_hostname
                and not ctx.hostname_checks_common_name)

    def _send_close_notify(self, what: str,
                           call: Optional[Callable[[Callable[[], int]], int]] = None) -> None:
        """Send our close_notify (through `call`, the caller's blocking
        wrapper, if given); a connection the peer already closed is fine."""
        c = self._h()
        self._notify_sent = True
        rc = call(lambda: lib().mojo_tls_conn_close_notify(c)) if call else \
            lib().mojo_tls_conn_close_notify(c)
        if rc < 0 and rc != Err.MOJO_TLS_ERR_CLOSED:
            raise self._error(rc, what)

    def _check(self, rc: int, what: str) -> int:
        if rc < 0:
            raise self._error(rc, what)
        return rc

    # -- session info -------------------------------------------------------------
    def get_channel_binding(self, cb_type: str = "tls-unique") -> Optional[bytes]:
        """Channel binding data: "tls-unique" (RFC 5929, the first Finished
        message; TLS 1.2 only here, None on TLS 1.3) or "tls-exporter" (RFC
        9266: 32 bytes of the "EXPORTER-Channel-Binding" exporter). None
        before the handshake or when closed; other types raise ValueError."""
        if cb_type not in CHANNEL_BINDING_TYPES:
            raise ValueError(f"{cb_type!r} channel binding type not implemented")
        c = self._conn
        if c is None:
            return None
        L = lib()
        buf = ctypes.create_string_buffer(64)
        if cb_type == "tls-unique":
            n = L.mojo_tls_conn_tls_unique(c, buf, 64)
        else:
            n = L.mojo_tls_conn_export_keying_material(c, _EXPORTER_LABEL, len(_EXPORTER_LABEL),
                                                       None, 0, buf, 32)
        if n == Err.MOJO_TLS_ERR_NOT_AVAILABLE:
            return None
        return buf.raw[:self._check(n, "get_channel_binding")]

    def version(self) -> Optional[str]:
        """The negotiated protocol ('TLSv1.2'), or None before the handshake."""
        v = lib().mojo_tls_conn_version_name(self._h())
        return v.decode("ascii") if v else None

    def cipher(self) -> Optional[Tuple[str, str, int]]:
        """(IANA cipher suite name, protocol version, secret bits), or None
        before the handshake."""
        name = lib().mojo_tls_conn_cipher(self._h())
        if not name:
            return None
        n = name.decode("ascii")
        return (n, self.version() or "", _cipher_bits(n))

    def shared_ciphers(self) -> Optional[List[Tuple[str, str, int]]]:
        """The negotiated suite as a one-element list (the library does not
        report the client's whole list)."""
        c = self.cipher()
        return [c] if c else None

    def compression(self) -> None:
        """Always None: TLS compression is not used."""
        return None

    def selected_alpn_protocol(self) -> Optional[str]:
        """The negotiated ALPN protocol, or None."""
        try:
            s = out_string(lib().mojo_tls_conn_alpn, self._h(), initial=64)
        except TLSNotAvailableError:
            return None
        return s or None

    def server_name_indication(self) -> Optional[str]:
        """Server: the name the client asked for (SNI); client: the name sent."""
        L = lib()
        try:
            s = out_string(L.mojo_tls_conn_server_name, self._h(), initial=256)
        except TLSNotAvailableError:
            return None
        return s or None

    @overload
    def getpeercert(self, binary_form: Literal[False] = ...) -> Optional[PeerCertDict]: ...
    @overload
    def getpeercert(self, binary_form: Literal[True]) -> Optional[bytes]: ...
    @overload
    def getpeercert(self, binary_form: bool) -> Union[None, PeerCertDict, bytes]: ...

    def getpeercert(self, binary_form: bool = False) -> Union[None, PeerCertDict, bytes]:
        """The peer's certificate: a dict like the stdlib's (subject, issuer,
        subjectAltName, notBefore, notAfter) or, with ``binary_form=True``, its
        DER bytes. None when the peer sent no certificate. Raises ValueError
        before the handshake (as the stdlib)."""
        c = self._h()
        L = lib()
        if not self._handshake_done and L.mojo_tls_conn_version(c) < 0:
            raise ValueError("handshake not done yet")
        try:
            der = out_bytes(L.mojo_tls_conn_peer_cert_der, c, initial=4096)
        except TLSNotAvailableError:
            return None
        if binary_form:
            return der
        info: PeerCertDict = {
            "subject": peer_dn(c, _ffi.MOJO_TLS_DN_SUBJECT),
            "issuer": peer_dn(c, _ffi.MOJO_TLS_DN_ISSUER),
            "version": 3,
        }
        serial = cert_serial(der)
        if serial is not None:
            info["serialNumber"] = serial
        nb = ctypes.c_int64()
        na = ctypes.c_int64()
        if L.mojo_tls_conn_peer_cert_validity(c, ctypes.byref(nb), ctypes.byref(na)) >= 0:
            info["notBefore"] = cert_time(nb.value)
            info["notAfter"] = cert_time(na.value)
        alt = peer_sans(c)
        if alt:
            info["subjectAltName"] = alt
        return info

    def getpeercert_pem(self) -> Optional[str]:
        """The peer's certificate in PEM, or None."""
        try:
            return out_string(lib().mojo_tls_conn_peer_cert_pem, self._h(), initial=4096)
        except TLSNotAvailableError:
            return None

    def peer_fingerprint(self, kind: str = "cert") -> Optional[bytes]:
        """SHA-256 of the peer certificate's DER (``kind='cert'``) or of its
        public key info (``kind='spki'``): the values for TLSContext.add_pin."""
        L = lib()
        fn = L.mojo_tls_conn_peer_cert_sha256 if kind == "cert" else (
            L.mojo_tls_conn_peer_cert_spki_sha256 if kind == "spki" else None)
        if fn is None:
            raise ValueError("kind must be 'cert' or 'spki'")
        buf = ctypes.create_string_buffer(32)
        rc = fn(self._h(), buf, 32)
        if rc == Err.MOJO_TLS_ERR_NOT_AVAILABLE:
            return None
        self._check(rc, "peer_fingerprint")
        return buf.raw[:32]

    def verify_result(self) -> Tuple[int, str]:
        """(Mbed TLS verification flags, reason) of the peer's certificate;
        (0, '') when it verified. Useful with CERT_OPTIONAL."""
        L = lib()
        flags = self._check(L.mojo_tls_conn_verify_flags(self._h()), "verify_result")
        return flags, out_string(L.mojo_tls_conn_verify_reason, self._h())

    # -- record layer ---------------------------------------------------------------
    @property
    def record_layer(self) -> Optional[str]:
        """The record layer protecting the data: 'mojo-tls (ring)', 'kernel
        TLS' or 'Mbed TLS'; None before the handshake completes."""
        name = lib().mojo_tls_conn_record_layer(self._h())
        return name.decode("ascii") if name else None

    @property
    def record_layer_detail(self) -> Optional[str]:
        """Why that record layer (suite; why kernel TLS or the fast layer is
        not used); None before the handshake completes."""
        try:
            return out_string(lib().mojo_tls_conn_record_layer_detail, self._h(), initial=256)
        except TLSNotAvailableError:
            return None

    def key_update(self, request_peer: bool = False) -> None:
        """TLS 1.3: send a KeyUpdate and switch to the next write key; with
        ``request_peer`` the peer is asked to update its key too. Raises
        TLSNotAvailableError on TLS 1.2 or with Mbed TLS's record layer."""
        self._check(lib().mojo_tls_conn_key_update(self._h(), 1 if request_peer else 0), "key_update")

    @property
    def session(self) -> Optional[TLSSession]:
        """Client: the session to resume later (None before the handshake or
        when the server offers no resumption)."""
        if self.server_side:
            return None
        try:
            data = out_bytes(lib().mojo_tls_conn_session_export, self._h(), initial=4096)
        except (TLSNotAvailableError, TLSError) as exc:
            if isinstance(exc, TLSClosedError):
                raise
            return None
        return TLSSession(data) if data else None

    @property
    def session_reused(self) -> bool:
        """True if the handshake resumed a session."""
        rc: int = lib().mojo_tls_conn_session_resumed(self._h())
        return rc == 1

    def _import_session(self, session: Any) -> None:
        if session is None:
            return
        if self.server_side:
            raise ValueError("session is only for client connections")
        data = session.data if isinstance(session, TLSSession) else as_bytes(session, "session")
        self._session_offered = True
        rc = lib().mojo_tls_conn_session_import(self._h(), data, len(data))
        # A corrupt or foreign session only means a full handshake.
        if rc < 0 and rc != Err.MOJO_TLS_ERR_PARSE:
            raise self._error(rc, "session")


def check_server_hostname(context: Any, server_side: bool, server_hostname: Optional[str]) -> Optional[bytes]:
    """Validate `server_hostname` for a new connection and encode it."""
    from ._core import c_str

    if server_side:
        if server_hostname is not None:
            raise ValueError("server_hostname can only be specified in client mode")
        return None
    if server_hostname is None:
        if context.check_hostname and not context.pin_only:
            raise ValueError("check_hostname requires server_hostname")
        return None
    name = normalize_server_hostname(server_hostname)
    if not name or name.startswith("."):
        raise ValueError(f"invalid server_hostname {server_hostname!r}")
    return c_str(name, "server_hostname")


def normalize_server_hostname(server_hostname: Any) -> Optional[str]:
    """`server_hostname` as ssl.SSLContext.wrap_socket stores it: a str is
    IDNA-encoded to ASCII, bytes (as anyio passes) are decoded as ASCII."""
    if server_hostname is None:
        return None
    if isinstance(server_hostname, (bytes, bytearray)):
        try:
            return bytes(server_hostname).decode("ascii")
        except UnicodeDecodeError:
            raise ValueError(f"server_hostname {server_hostname!r} is not ASCII "
                             "(IDNA-encode it or pass a str)") from None
    if not isinstance(server_hostname, str):
        raise TypeError(f"server_hostname must be str or bytes, not {type(server_hostname).__name__}")
    if server_hostname.isascii():
        return server_hostname
    try:
        return server_hostname.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"invalid server_hostname {server_hostname!r}: {exc}") from None
