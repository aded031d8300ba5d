# DTLSStream: a DTLS 1.2 connection over a UDP socket (client connect, or
# from DTLSListener.accept), and the datagram rules DTLSMemory shares.

from ._ffi import (
    MojoTlsFFI,
    ConnPtr,
    MOJO_TLS_ERR_INVALID_ARGUMENT,
    MOJO_TLS_ERR_WANT_READ,
)
from ._library import (
    TLSError,
    addr_of,
    check_i32,
    null_error,
    to_hex,
)
from .config import TLSConfig
from .stream import (
    IOResult,
    _Conn,
    _check_port,
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

# One datagram's plaintext is at most one record: 16384 bytes always fit,
# so a read never allocates more whatever `max_bytes` says.
comptime DTLS_MAX_DATAGRAM = 16384


def _too_small(c: _Conn, rc: Int, cap: Int) raises TLSError:
    """A read whose buffer cannot take the next datagram fails with
    INVALID_ARGUMENT and keeps it; say how large a buffer it needs."""
    if rc != MOJO_TLS_ERR_INVALID_ARGUMENT:
        return
    var need = c.ffi.conn_pending(c.h())
    if need > cap:
        raise TLSError(
            MOJO_TLS_ERR_INVALID_ARGUMENT,
            String(
                c.what,
                ".read: the datagram holds ",
                need,
                " bytes, more than the ",
                cap,
                " asked for; it is kept: read again with max_bytes >= ",
                need,
            ),
        )


def _dtls_read(c: _Conn, buf: Span[mut=True, UInt8, _]) raises TLSError -> Int:
    """One datagram's plaintext into `buf` (0: the peer's close_notify)."""
    if len(buf) == 0:
        _ = c.h()
        raise TLSError(
            MOJO_TLS_ERR_INVALID_ARGUMENT,
            String(c.what, ".read: an empty buffer holds no datagram"),
        )
    var rc = c.ffi.conn_read(c.h(), Int(buf.unsafe_ptr()), len(buf))
    _too_small(c, rc, len(buf))
    return c.check(rc, "read")


def _dtls_read_bytes(c: _Conn, max_bytes: Int) raises TLSError -> List[UInt8]:
    if max_bytes <= 0:
        raise TLSError(
            MOJO_TLS_ERR_INVALID_ARGUMENT,
            String(c.what, ".read: max_bytes must be > 0, not ", max_bytes),
        )
    var buf = List[UInt8](length=min(max_bytes, DTLS_MAX_DATAGRAM), fill=0)
    var n = _dtls_read(c, Span(buf))
    buf.resize(n, 0)
    return buf^


def _dtls_try_read(
    c: _Conn, buf: Span[mut=True, UInt8, _]
) raises TLSError -> IOResult:
    if len(buf) == 0:
        _ = c.h()
        raise TLSError(
            MOJO_TLS_ERR_INVALID_ARGUMENT,
            String(c.what, ".try_read: an empty buffer holds no datagram"),
        )
    var rc = c.ffi.conn_read(c.h(), Int(buf.unsafe_ptr()), len(buf))
    _too_small(c, rc, len(buf))
    return c.try_call(rc, "read")


def _dtls_write(c: _Conn, data: Span[UInt8, _]) raises TLSError -> Int:
    """One datagram: all of `data` or an error (never a part)."""
    if len(data) == 0:
        _ = c.h()
        raise TLSError(
            MOJO_TLS_ERR_INVALID_ARGUMENT,
            String(c.what, ".write: an empty datagram carries nothing"),
        )
    return c.check(c.ffi.conn_write(c.h(), addr_of(data), len(data)), "write")


def _next_timeout(c: _Conn) raises TLSError -> Int:
    var rc = c.ffi.conn_next_timeout_ms(c.h())
    if rc == MOJO_TLS_ERR_WANT_READ:
        return -1
    return c.check(rc, "next_timeout_ms")


def _set_mtu(c: _Conn, mtu: Int) raises TLSError:
    check_i32(mtu, String(c.what, ".set_mtu: mtu"))
    _ = c.check(c.ffi.conn_set_mtu(c.h(), mtu), "set_mtu")


struct DTLSStream(Movable):
    """A DTLS 1.2 connection over UDP: `DTLSStream.connect` (client) or
    `DTLSListener.accept` (server).

    Datagrams, not a byte stream: one `write` is one datagram (all of it or
    a TLSError, never a part; the stream goes on after a refused one), one
    `read` returns one datagram's plaintext, empty after the peer's
    close_notify. A buffer too small for the next datagram raises
    MOJO_TLS_ERR_INVALID_ARGUMENT naming the size it needs, and the
    datagram is kept for the next read. Lost datagrams are not resent
    (the handshake is: by the retransmission timer); a replayed one is
    dropped. Blocking and timed calls run the timer themselves;
    non-blocking ones (`set_timeout(0)`, `try_*`) poll `fileno()` for at
    most `next_timeout_ms()` and call again.

    ```mojo
    var config = TLSConfig.dtls_client()
    config.load_ca_file("ca.pem")
    var s = DTLSStream.connect(config, "localhost", 4433, timeout_ms=5000)
    _ = s.write("ping")
    print(s.read_string())
    s.close()
    ```
    """

    var _c: _Conn

    def __init__(out self, var ffi: MojoTlsFFI, handle: ConnPtr):
        """Take ownership of a connection handle (used by connect/accept)."""
        self._c = _Conn(ffi^, handle, "DTLSStream")

    # ---- opening ---------------------------------------------------------------

    @staticmethod
    def connect(
        host: String, port: Int, timeout_ms: Int = -1
    ) raises TLSError -> DTLSStream:
        """Connect to UDP `host`:`port` with a default DTLS client
        configuration (system CAs, certificate and host name verified).
        `timeout_ms` bounds the handshake and becomes the stream's timeout
        (< 0 blocks, but the retransmission timer's maximum still ends a
        handshake nobody answers)."""
        var config = TLSConfig.dtls_client()
        return DTLSStream.connect(config, host, port, timeout_ms)

    @staticmethod
    def connect(
        config: TLSConfig, host: String, port: Int, timeout_ms: Int = -1
    ) raises TLSError -> DTLSStream:
        """Open a connected UDP socket to `host`:`port` and handshake with
        `config` (`TLSConfig.dtls_client()`) within `timeout_ms`. `host` is
        the name verified and sent as SNI. With `timeout_ms` 0 the stream
        is non-blocking and the handshake only started: drive it with
        `try_handshake`."""
        _check_port(port)
        check_i32(timeout_ms, "DTLSStream.connect: timeout_ms")
        config._need_datagram("DTLSStream.connect")
        var ffi = config.ffi()
        var what = String("DTLSStream.connect(", host, ":", port, ")")
        var mtu = config.dtls_mtu()
        if mtu == 0:
            var h = ffi.conn_new_connect(config.handle(), host, port, timeout_ms)
            if not h:
                raise null_error(ffi, what)
            return DTLSStream(ffi^, h)
        # The MTU must be set before the first flight: open non-blocking,
        # set it, then handshake within the timeout.
        var h = ffi.conn_new_connect(config.handle(), host, port, 0)
        if not h:
            raise null_error(ffi, what)
        var s = DTLSStream(ffi^, h)
        s.set_mtu(mtu)
        s._finish_handshake(timeout_ms)
        return s^

    @staticmethod
    def from_fd(
        config: TLSConfig,
        fd: Int,
        server_name: Optional[String] = None,
        take_ownership: Bool = False,
    ) raises TLSError -> DTLSStream:
        """DTLS over a connected UDP socket the caller has (`connect(2)`ed
        to the server). With `take_ownership` the stream closes `fd`. The
        handshake runs on `handshake()` or the first read/write."""
        check_i32(fd, "DTLSStream.from_fd: fd")
        config._need_datagram("DTLSStream.from_fd")
        var ffi = config.ffi()
        var h = ffi.conn_new_fd(
            config.handle(), fd, 1 if take_ownership else 0, server_name
        )
        if not h:
            raise null_error(ffi, "DTLSStream.from_fd")
        var s = DTLSStream(ffi^, h)
        if config.dtls_mtu() != 0:
            s.set_mtu(config.dtls_mtu())
        return s^

    def _finish_handshake(self, timeout_ms: Int) raises TLSError:
        """After a non-blocking start: the handshake within `timeout_ms`
        (0: only started, the stream stays non-blocking)."""
        self.set_timeout(timeout_ms)
        if timeout_ms == 0:
            _ = self.try_handshake()
        else:
            self._c.handshake()

    # ---- handshake ---------------------------------------------------------------

    def handshake(self) raises TLSError:
        """Complete the handshake now (read and write do it implicitly),
        within the stream's timeout."""
        self._c.handshake()

    def handshake(self, timeout_ms: Int) raises TLSError:
        """Complete the handshake within `timeout_ms` (MOJO_TLS_ERR_TIMEOUT
        otherwise); it stays the stream's timeout. For a stream from
        `DTLSListener.accept_no_handshake`."""
        self.set_timeout(timeout_ms)
        self._c.handshake()

    def try_handshake(self) raises TLSError -> IOResult:
        """One non-blocking handshake step (after `set_timeout(0)`): done,
        or `want_read()`: poll `fileno()` for at most `next_timeout_ms()`,
        then call again (a timer that ran out resends the last flight)."""
        return self._c.try_call(
            self._c.ffi.conn_handshake(self._c.h()), "handshake"
        )

    # ---- datagrams -----------------------------------------------------------------

    def write(self, data: Span[UInt8, _]) raises TLSError -> Int:
        """Send `data` as one datagram; returns len(data). More than one
        datagram carries (the MTU and the suite decide) raises
        MOJO_TLS_ERR_INVALID_ARGUMENT and sends nothing; the stream goes
        on."""
        return _dtls_write(self._c, data)

    def write(self, text: StringSlice) raises TLSError -> Int:
        """Send `text` (UTF-8) as one datagram."""
        return _dtls_write(self._c, text.as_bytes())

    def try_write(self, data: Span[UInt8, _]) raises TLSError -> IOResult:
        """Non-blocking write of one datagram: `count` = len(data), or
        `want_read()` / `want_write()`: poll, then call again with the same
        data."""
        if len(data) == 0:
            _ = _dtls_write(self._c, data)  # raises: empty
        return self._c.try_call(
            self._c.ffi.conn_write(self._c.h(), addr_of(data), len(data)),
            "write",
        )

    def read(self, buf: Span[mut=True, UInt8, _]) raises TLSError -> Int:
        """Read one datagram's plaintext into `buf`: its length, 0 after the
        peer's close_notify. Too small a `buf` raises
        MOJO_TLS_ERR_INVALID_ARGUMENT and keeps the datagram."""
        return _dtls_read(self._c, buf)

    def read(
        self, max_bytes: Int = DTLS_MAX_DATAGRAM
    ) raises TLSError -> List[UInt8]:
        """One datagram's plaintext (at most `max_bytes`, > 0; the default
        always fits); empty after the peer's close_notify. A larger
        datagram raises MOJO_TLS_ERR_INVALID_ARGUMENT naming its size and
        stays for the next read."""
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
        """Non-blocking read of one datagram: `count` bytes (0 = the peer's
        close_notify), or `want_read()`: poll `fileno()` for at most
        `next_timeout_ms()` (-1: no limit) and call again."""
        return _dtls_try_read(self._c, buf)

    def pending(self) raises TLSError -> Int:
        """The length of a received datagram `read` returns without waiting
        (0: none)."""
        return self._c.pending()

    # ---- settings and state ----------------------------------------------------------

    def next_timeout_ms(self) raises TLSError -> Int:
        """Milliseconds until the retransmission timer runs out (0: call
        try_handshake / try_read now), -1 when no timer runs. For
        non-blocking streams; blocking ones run it themselves."""
        return _next_timeout(self._c)

    def set_mtu(self, mtu: Int) raises TLSError:
        """The path MTU, bytes of a datagram (64..65535, 0 = no limit below
        the record size): writes larger than one datagram then raise."""
        _set_mtu(self._c, mtu)

    def set_timeout(self, timeout_ms: Int) raises TLSError:
        """Timeout of later operations: < 0 blocks, 0 = non-blocking, > 0 =
        milliseconds (raises MOJO_TLS_ERR_TIMEOUT)."""
        check_i32(timeout_ms, "DTLSStream.set_timeout: timeout_ms")
        _ = self._c.check(
            self._c.ffi.conn_set_timeout(self._c.h(), timeout_ms), "set_timeout"
        )

    def fileno(self) raises TLSError -> Int:
        """The UDP socket's fd, to poll (do not read or write it directly)."""
        return self._c.check(self._c.ffi.conn_fd(self._c.h()), "fileno")

    def close_notify(self) raises TLSError:
        """Send close_notify: the peer's read returns empty. Later writes
        raise MOJO_TLS_ERR_CLOSED."""
        self._c.close_notify()

    def close(mut self):
        """Send close_notify (best effort), close the socket and free the
        connection. Idempotent; later operations raise MOJO_TLS_ERR_CLOSED."""
        self._c.close()

    # ---- what was negotiated ---------------------------------------------------------

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

    # ---- the peer's certificate ------------------------------------------------------

    def peer_cert_sha256(self) raises TLSError -> List[UInt8]:
        """SHA-256 of the peer certificate's DER (32 bytes)."""
        return self._c.get_bytes(_B_SHA256, "peer_cert_sha256")

    def peer_cert_fingerprint(
        self, sep: String = ":"
    ) raises TLSError -> String:
        """The peer certificate's SHA-256 fingerprint as hex ("ab:cd:…")."""
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
