# DTLSMemory: DTLS 1.2 without a socket: the caller moves whole datagrams
# and runs the retransmission timer (event loops, custom transports).

from ._ffi import MOJO_TLS_ERR_WANT_READ
from ._library import TLSError, addr_of, null_error, to_hex
from .config import TLSConfig
from .dtls import (
    DTLS_MAX_DATAGRAM,
    _dtls_read,
    _dtls_read_bytes,
    _dtls_try_read,
    _dtls_write,
    _next_timeout,
    _set_mtu,
)
from .stream import (
    IOResult,
    _Conn,
    _S_ALPN,
    _S_PEM,
    _S_SUBJECT,
    _S_ISSUER,
    _S_VERIFY_REASON,
    _S_SERVER_NAME,
    _B_DER,
    _B_SHA256,
    _B_SPKI_SHA256,
)


struct DTLSMemory(Movable):
    """A DTLS connection in memory mode: `feed_datagram` each datagram
    received from the peer, send each one `drain_datagram` returns as one
    datagram. Nothing blocks: `handshake()` returns False and `read`
    raises `is_want_read()` while input is needed. Datagrams may be lost:
    when `next_timeout_ms()` has passed (0), call `handshake()` (or the
    read that wanted input) again and the last flight is resent. A server
    needs the client's address first (`set_peer_id`), which its cookie is
    bound to.

    ```mojo
    var dtls = DTLSMemory(config, "example.com")
    while not dtls.handshake():
        for d in dtls.drain_datagrams():
            transport.send(d)
        var t = dtls.next_timeout_ms()  # -1: no timer
        var got = transport.receive(timeout_ms=t)
        if got:
            dtls.feed_datagram(got.value())
    for d in dtls.drain_datagrams():
        transport.send(d)
    ```
    """

    var _c: _Conn

    def __init__(
        out self, config: TLSConfig, server_name: Optional[String] = None
    ) raises TLSError:
        """A memory-mode DTLS connection with `config` (`dtls_client()` or
        `dtls_server()`). Clients verify `server_name` (required unless host
        name checking is off) and send it as SNI."""
        config._need_datagram("DTLSMemory")
        var ffi = config.ffi()
        var h = ffi.conn_new_memory(config.handle(), server_name)
        if not h:
            raise null_error(ffi, "DTLSMemory")
        self._c = _Conn(ffi^, h, "DTLSMemory")
        if config.dtls_mtu() != 0:
            _set_mtu(self._c, config.dtls_mtu())

    # ---- datagrams in / out ----------------------------------------------------------

    def set_peer_id(self, id: Span[UInt8, _]) raises TLSError:
        """Server: the client's transport id (its address and port as
        bytes), to which the cookie is bound; needed before the first
        handshake step (else MOJO_TLS_ERR_BAD_STATE)."""
        _ = self._c.check(
            self._c.ffi.conn_set_peer_id(self._c.h(), addr_of(id), len(id)),
            "set_peer_id",
        )

    def set_peer_id(self, id: StringSlice) raises TLSError:
        """As set_peer_id, from text ("192.0.2.1:5684")."""
        self.set_peer_id(id.as_bytes())

    def feed_datagram(self, data: Span[UInt8, _]) raises TLSError:
        """Hand over one datagram received from the peer (copied; an empty
        one raises MOJO_TLS_ERR_INVALID_ARGUMENT). At most 1024 wait; the
        oldest is dropped beyond that, as a full socket buffer would."""
        _ = self._c.check(
            self._c.ffi.conn_feed_datagram(
                self._c.h(), addr_of(data), len(data)
            ),
            "feed_datagram",
        )

    def drain_datagram(self) raises TLSError -> List[UInt8]:
        """The next datagram to send to the peer (empty: none waits)."""
        var h = self._c.h()
        var need = self._c.check(
            self._c.ffi.conn_drain_datagram(h, 0, 0), "drain_datagram"
        )
        if need == 0:
            return List[UInt8]()
        var out = List[UInt8](length=need, fill=0)
        var n = self._c.check(
            self._c.ffi.conn_drain_datagram(h, Int(out.unsafe_ptr()), need),
            "drain_datagram",
        )
        out.resize(n, 0)
        return out^

    def drain_datagrams(self) raises TLSError -> List[List[UInt8]]:
        """Every datagram waiting to be sent, in order (send each as one
        datagram)."""
        var out = List[List[UInt8]]()
        while True:
            var d = self.drain_datagram()
            if len(d) == 0:
                return out^
            out.append(d^)

    def next_timeout_ms(self) raises TLSError -> Int:
        """Milliseconds until the retransmission timer runs out: wait for a
        datagram at most this long, then call `handshake()` (or the read)
        again, which resends the last flight when it is 0. -1: no timer
        runs (wait for datagrams only)."""
        return _next_timeout(self._c)

    def set_mtu(self, mtu: Int) raises TLSError:
        """The path MTU, bytes of a datagram (64..65535, 0 = no limit below
        the record size): flights are fragmented to fit, larger writes
        raise."""
        _set_mtu(self._c, mtu)

    # ---- DTLS --------------------------------------------------------------------------

    def handshake(self) raises TLSError -> Bool:
        """Advance the handshake: True once complete, False while it needs
        input (send what `drain_datagrams` gives, feed the answers or wait
        for `next_timeout_ms`, call again)."""
        var rc = self._c.ffi.conn_handshake(self._c.h())
        if rc == MOJO_TLS_ERR_WANT_READ:
            return False
        _ = self._c.check(rc, "handshake")
        return True

    def read(self, buf: Span[mut=True, UInt8, _]) raises TLSError -> Int:
        """One datagram's plaintext into `buf` (0 after the peer's
        close_notify); raises `is_want_read()` when none was fed. Too small
        a `buf` raises MOJO_TLS_ERR_INVALID_ARGUMENT and keeps it."""
        return _dtls_read(self._c, buf)

    def read(
        self, max_bytes: Int = DTLS_MAX_DATAGRAM
    ) raises TLSError -> List[UInt8]:
        """One datagram's plaintext (at most `max_bytes`, > 0), empty after
        close_notify; raises `is_want_read()` when none was fed."""
        return _dtls_read_bytes(self._c, max_bytes)

    def read_string(
        self, max_bytes: Int = DTLS_MAX_DATAGRAM
    ) raises TLSError -> String:
        """As read, decoded as UTF-8 (invalid sequences replaced)."""
        var b = _dtls_read_bytes(self._c, max_bytes)
        return String(from_utf8_lossy=Span(b))

    def try_read(
        self, buf: Span[mut=True, UInt8, _]
    ) raises TLSError -> IOResult:
        """As read, without raising for missing input: `count` bytes (0 =
        close_notify) or `want_read()`."""
        return _dtls_try_read(self._c, buf)

    def write(self, data: Span[UInt8, _]) raises TLSError -> Int:
        """Encrypt `data` as one datagram (then `drain_datagram`); returns
        len(data). More than one datagram carries raises
        MOJO_TLS_ERR_INVALID_ARGUMENT; the connection goes on."""
        return _dtls_write(self._c, data)

    def write(self, text: StringSlice) raises TLSError -> Int:
        """Encrypt `text` (UTF-8) as one datagram."""
        return _dtls_write(self._c, text.as_bytes())

    def pending(self) raises TLSError -> Int:
        """The length of a received datagram `read` returns now (0: none)."""
        return self._c.pending()

    def close_notify(self) raises TLSError:
        """Queue close_notify (then `drain_datagram` it)."""
        self._c.close_notify()

    def close(mut self):
        """Free the connection (close_notify and drain first for a clean
        end); later operations raise MOJO_TLS_ERR_CLOSED. Idempotent."""
        self._c.close()

    # ---- what was negotiated -----------------------------------------------------------

    def get_version(self) raises TLSError -> String:
        """The protocol version: "DTLSv1.2"."""
        return self._c.version_name()

    def version_number(self) raises TLSError -> Int:
        """The protocol version number."""
        return self._c.version()

    def get_cipher(self) raises TLSError -> String:
        """The cipher suite's IANA name."""
        return self._c.cipher()

    def get_alpn(self) raises TLSError -> Optional[String]:
        """The negotiated ALPN protocol, None when there is none."""
        var s = self._c.get_string(_S_ALPN, "get_alpn")
        if s.byte_length() == 0:
            return None
        return s^

    def server_name(self) raises TLSError -> String:
        """Server: the name the client asked for (SNI); client: the name sent.
        """
        return self._c.get_string(_S_SERVER_NAME, "server_name")

    def peer_cert_sha256(self) raises TLSError -> List[UInt8]:
        """SHA-256 of the peer certificate's DER (32 bytes)."""
        return self._c.get_bytes(_B_SHA256, "peer_cert_sha256")

    def peer_cert_fingerprint(
        self, sep: String = ":"
    ) raises TLSError -> String:
        """The peer certificate's SHA-256 fingerprint as hex."""
        var d = self._c.get_bytes(_B_SHA256, "peer_cert_fingerprint")
        return to_hex(Span(d), sep)

    def peer_cert_spki_sha256(self) raises TLSError -> List[UInt8]:
        """SHA-256 of the peer's public key (the value for MOJO_TLS_PIN_SPKI).
        """
        return self._c.get_bytes(_B_SPKI_SHA256, "peer_cert_spki_sha256")

    def peer_cert_der(self) raises TLSError -> List[UInt8]:
        """The peer certificate in DER."""
        return self._c.get_bytes(_B_DER, "peer_cert_der")

    def peer_cert_pem(self) raises TLSError -> String:
        """The peer certificate in PEM."""
        return self._c.get_string(_S_PEM, "peer_cert_pem")

    def peer_cert_subject(self) raises TLSError -> String:
        """The peer certificate's subject ("CN=…, O=…")."""
        return self._c.get_string(_S_SUBJECT, "peer_cert_subject")

    def peer_cert_issuer(self) raises TLSError -> String:
        """The peer certificate's issuer."""
        return self._c.get_string(_S_ISSUER, "peer_cert_issuer")

    def peer_cert_sans(self) raises TLSError -> List[String]:
        """The subject alternative names ("DNS:example.com", "IP:127.0.0.1")."""
        var out = List[String]()
        for i in range(self._c.san_count()):
            out.append(self._c.san(i))
        return out^

    def verify_flags(self) raises TLSError -> Int:
        """X.509 verification flags of the peer (0 = verified)."""
        return self._c.verify_flags()

    def verify_reason(self) raises TLSError -> String:
        """Why verification failed ("" when it succeeded)."""
        return self._c.get_string(_S_VERIFY_REASON, "verify_reason")
