# TLSStream (a TLS connection over a socket), TLSListener, connect().

from ._ffi import (
    MojoTlsFFI,
    ConnPtr,
    string_from_c,
    MOJO_TLS_ERR_CLOSED,
    MOJO_TLS_ERR_INTERRUPTED,
    MOJO_TLS_ERR_INVALID_ARGUMENT,
    MOJO_TLS_ERR_NOT_AVAILABLE,
    MOJO_TLS_ERR_TRUNCATED,
    MOJO_TLS_ERR_WANT_READ,
    MOJO_TLS_ERR_WANT_WRITE,
    MOJO_TLS_SAN_DNS,
    MOJO_TLS_SAN_IP,
)
from ._library import (
    TLSError,
    addr_of,
    check_i32,
    check_size,
    closed_error,
    make_error,
    null_error,
    to_hex,
)
from std.memory import ArcPointer

from .config import TLSConfig, _ConfigBox

comptime _READ_CHUNK = 16384
# The most a read allocates at once, whatever size the caller asks for: one
# read never returns more than the fast record layer's 256 KiB, and
# read_exactly(n) grows its buffer as bytes arrive, so a huge n is not a
# huge allocation up front.
comptime _MAX_READ_ALLOC = 1 << 20

# Selectors of the snprintf-style string getters of a connection.
comptime _S_ALPN = 0
comptime _S_PEM = 1
comptime _S_SUBJECT = 2
comptime _S_ISSUER = 3
comptime _S_VERIFY_REASON = 5
comptime _S_SERVER_NAME = 6
# ... and of the byte getters.
comptime _B_DER = 0
comptime _B_SHA256 = 1
comptime _B_SPKI_SHA256 = 2
comptime _B_SESSION = 3


def _check_port(port: Int) raises TLSError:
    if port < 0 or port > 65535:
        raise TLSError(
            MOJO_TLS_ERR_INVALID_ARGUMENT, String("port out of range: ", port)
        )


@fieldwise_init
struct IOResult(ImplicitlyCopyable, Movable, Writable):
    """The outcome of a non-blocking call (`try_read`, `try_write`,
    `try_handshake`): `count` bytes moved, or the direction to wait for.

    `want_read()`: poll the fd for reading (POLLIN), then call again;
    `want_write()`: poll for writing (POLLOUT), then call again (a write
    with the same data); neither: done (`count` bytes; a read's 0 is the
    peer's clean end)."""

    var count: Int
    var want: Int
    """0, MOJO_TLS_ERR_WANT_READ or MOJO_TLS_ERR_WANT_WRITE."""

    def want_read(self) -> Bool:
        return self.want == MOJO_TLS_ERR_WANT_READ

    def want_write(self) -> Bool:
        return self.want == MOJO_TLS_ERR_WANT_WRITE

    def done(self) -> Bool:
        return self.want == 0

    def write_to(self, mut writer: Some[Writer]):
        if self.want_read():
            writer.write("IOResult(want_read)")
        elif self.want_write():
            writer.write("IOResult(want_write)")
        else:
            writer.write("IOResult(", self.count, ")")


def _io_result(rc: Int) -> Optional[IOResult]:
    """rc as an IOResult, None for a real error."""
    if rc >= 0:
        return IOResult(rc, 0)
    if rc == MOJO_TLS_ERR_WANT_READ or rc == MOJO_TLS_ERR_WANT_WRITE:
        return IOResult(0, rc)
    return None


struct _Conn(Movable):
    """Owns one mojo_tls_conn handle (freed by __deinit__) and implements what
    socket and memory connections share."""

    var ffi: MojoTlsFFI
    var handle: ConnPtr
    var what: String

    def __init__(
        out self, var ffi: MojoTlsFFI, handle: ConnPtr, what: String
    ):
        self.ffi = ffi^
        self.handle = handle
        self.what = what

    def __deinit__(deinit self):
        if self.handle:
            _ = self.ffi.conn_free(self.handle)

    def check(self, rc: Int, op: String) raises TLSError -> Int:
        if rc < 0:
            raise make_error(self.ffi, rc, String(self.what, ".", op))
        return rc

    def h(self) raises TLSError -> ConnPtr:
        if not self.handle:
            raise closed_error(self.what)
        return self.handle

    def handshake(self) raises TLSError:
        _ = self.check(self.ffi.conn_handshake(self.h()), "handshake")

    def read(self, buf: Span[mut=True, UInt8, _]) raises TLSError -> Int:
        if len(buf) == 0:
            return 0
        return self.check(
            self.ffi.conn_read(self.h(), Int(buf.unsafe_ptr()), len(buf)),
            "read",
        )

    def read_bytes(self, max_bytes: Int) raises TLSError -> List[UInt8]:
        if max_bytes <= 0:
            raise TLSError(
                MOJO_TLS_ERR_INVALID_ARGUMENT,
                String("read: max_bytes must be > 0, not ", max_bytes),
            )
        var buf = List[UInt8](length=min(max_bytes, _MAX_READ_ALLOC), fill=0)
        var n = self.read(Span(buf))
        buf.resize(n, 0)
        return buf^

    def read_all(self, allow_truncation: Bool) raises TLSError -> List[UInt8]:
        var out = List[UInt8]()
        var buf = List[UInt8](length=_READ_CHUNK, fill=0)
        while True:
            var n: Int
            try:
                n = self.read(Span(buf))
            except e:
                if e.is_truncated() and allow_truncation:
                    return out^
                raise TLSError(
                    e.code,
                    String(e.message, " (after ", len(out), " bytes)"),
                )
            if n == 0:
                return out^
            out.extend(Span(buf)[0:n])

    def read_exactly(self, n: Int) raises TLSError -> List[UInt8]:
        check_size(n, String(self.what, ".read_exactly: n"))
        var out = List[UInt8](length=min(n, _MAX_READ_ALLOC), fill=0)
        var got = 0
        while got < n:
            if got == len(out):
                out.resize(min(n, 2 * len(out)), 0)
            var k = self.read(Span(out)[got:])
            if k == 0:
                raise TLSError(
                    MOJO_TLS_ERR_TRUNCATED,
                    String(
                        self.what,
                        ".read_exactly: stream ended after ",
                        got,
                        " of ",
                        n,
                        " bytes",
                    ),
                )
            got += k
        return out^

    def try_call(self, rc: Int, op: String) raises TLSError -> IOResult:
        var r = _io_result(rc)
        if not r:
            raise make_error(self.ffi, rc, String(self.what, ".", op))
        return r.value()

    def write(self, data: Span[UInt8, _]) raises TLSError -> Int:
        if len(data) == 0:
            _ = self.h()
            return 0
        return self.check(
            self.ffi.conn_write(self.h(), addr_of(data), len(data)), "write"
        )

    def write_all(self, data: Span[UInt8, _]) raises TLSError:
        """A signal before any byte went out raises MOJO_TLS_ERR_INTERRUPTED
        (call again with the same data); after that the library returns a
        short count and the rest is written here, so no byte is lost or
        sent twice."""
        if len(data) == 0:
            _ = self.h()
            return
        var off = 0
        while off < len(data):
            var rest = data[off:]
            var rc = self.ffi.conn_write_all(self.h(), addr_of(rest), len(rest))
            if rc == MOJO_TLS_ERR_INTERRUPTED and off > 0:
                continue
            off += self.check(rc, "write_all")

    def pending(self) raises TLSError -> Int:
        return self.check(self.ffi.conn_pending(self.h()), "pending")

    def close_notify(self) raises TLSError:
        _ = self.check(self.ffi.conn_close_notify(self.h()), "close_notify")

    def close(mut self):
        """Close (best-effort close_notify, fd closed) and free the handle;
        later operations raise MOJO_TLS_ERR_CLOSED."""
        if self.handle:
            _ = self.ffi.conn_free(self.handle)
            self.handle = ConnPtr.null()

    def version(self) raises TLSError -> Int:
        return self.check(self.ffi.conn_version(self.h()), "version")

    def version_name(self) raises TLSError -> String:
        var s = self.ffi.conn_version_name(self.h())
        if not s:
            raise make_error(
                self.ffi,
                self._not_available(),
                String(self.what, ".get_version"),
            )
        return s.value()

    def cipher(self) raises TLSError -> String:
        var s = self.ffi.conn_cipher(self.h())
        if not s:
            raise make_error(
                self.ffi,
                self._not_available(),
                String(self.what, ".get_cipher"),
            )
        return s.value()

    def record_layer(self) raises TLSError -> String:
        var s = self.ffi.conn_record_layer(self.h())
        if not s:
            raise make_error(
                self.ffi,
                self._not_available(),
                String(self.what, ".record_layer"),
            )
        return s.value()

    def key_update(self, request_peer: Bool) raises TLSError:
        _ = self.check(
            self.ffi.conn_key_update(self.h(), 1 if request_peer else 0),
            "key_update",
        )

    def _not_available(self) -> Int:
        var code = self.ffi.last_error_code()
        return code if code < 0 else MOJO_TLS_ERR_NOT_AVAILABLE

    def _call_string(
        self, which: Int, buf: Int, cap: Int
    ) raises TLSError -> Int:
        var c = self.h()
        if which == _S_ALPN:
            return self.ffi.conn_alpn(c, buf, cap)
        elif which == _S_PEM:
            return self.ffi.conn_peer_cert_pem(c, buf, cap)
        elif which == _S_SUBJECT:
            return self.ffi.conn_peer_cert_subject(c, buf, cap)
        elif which == _S_ISSUER:
            return self.ffi.conn_peer_cert_issuer(c, buf, cap)
        elif which == _S_VERIFY_REASON:
            return self.ffi.conn_verify_reason(c, buf, cap)
        return self.ffi.conn_server_name(c, buf, cap)

    def get_string(self, which: Int, op: String) raises TLSError -> String:
        """A snprintf-style string getter, retried with the full size."""
        var cap = 256
        while True:
            var buf = List[UInt8](length=cap, fill=0)
            var n = self.check(
                self._call_string(which, Int(buf.unsafe_ptr()), cap), op
            )
            if n < cap:
                return String(from_utf8_lossy=Span(buf)[0:n])
            cap = n + 1

    def _call_bytes(
        self, which: Int, buf: Int, cap: Int
    ) raises TLSError -> Int:
        var c = self.h()
        if which == _B_DER:
            return self.ffi.conn_peer_cert_der(c, buf, cap)
        elif which == _B_SHA256:
            return self.ffi.conn_peer_cert_sha256(c, buf, cap)
        elif which == _B_SPKI_SHA256:
            return self.ffi.conn_peer_cert_spki_sha256(c, buf, cap)
        return self.ffi.conn_session_export(c, buf, cap)

    def get_bytes(self, which: Int, op: String) raises TLSError -> List[UInt8]:
        """A byte getter returning the full length, retried with it."""
        var cap = 64
        while True:
            var buf = List[UInt8](length=cap, fill=0)
            var n = self.check(
                self._call_bytes(which, Int(buf.unsafe_ptr()), cap), op
            )
            if n <= cap:
                buf.resize(n, 0)
                return buf^
            cap = n

    def session_import(self, blob: Span[UInt8, _]) raises TLSError:
        _ = self.check(
            self.ffi.conn_session_import(self.h(), addr_of(blob), len(blob)),
            "session_import",
        )

    def session_resumed(self) raises TLSError -> Bool:
        return (
            self.check(
                self.ffi.conn_session_resumed(self.h()), "session_resumed"
            )
            == 1
        )

    def verify_flags(self) raises TLSError -> Int:
        return self.check(self.ffi.conn_verify_flags(self.h()), "verify_flags")

    def san_count(self) raises TLSError -> Int:
        return self.check(
            self.ffi.conn_peer_cert_san_count(self.h()), "peer_cert_sans"
        )

    def san(self, index: Int) raises TLSError -> String:
        """Subject alternative name `index` as "DNS:name", "IP:address" or
        "OTHER:tag", from the structured getter (type + value)."""
        check_size(index, "peer_cert_sans: index")
        var kind = List[Int32](length=1, fill=0)
        var cap = 256
        while True:
            var buf = List[UInt8](length=cap, fill=0)
            var n = self.check(
                self.ffi.conn_peer_cert_san(
                    self.h(),
                    index,
                    Int(kind.unsafe_ptr()),
                    Int(buf.unsafe_ptr()),
                    cap,
                ),
                "peer_cert_sans",
            )
            if n < cap:
                var k = Int(kind[0])
                var prefix = String("OTHER:")
                if k == MOJO_TLS_SAN_DNS:
                    prefix = "DNS:"
                elif k == MOJO_TLS_SAN_IP:
                    prefix = "IP:"
                return prefix + String(from_utf8_lossy=Span(buf)[0:n])
            cap = n + 1


struct TLSStream(Movable):
    """A TLS connection over a TCP socket: `TLSStream.connect` (client) or
    `TLSListener.accept` (server).

    Reads and writes block up to the connection's timeout (the one given to
    connect/accept; `set_timeout` changes it). Errors raise `TLSError`.
    A signal whose handler was installed without SA_RESTART cuts a blocking
    call short with MOJO_TLS_ERR_INTERRUPTED (`e.is_interrupted()`): nothing
    is lost, call again (see `write_all` for partial writes).
    `close()` sends close_notify and closes the socket; afterwards every
    operation raises (MOJO_TLS_ERR_CLOSED). The handle is freed when the
    stream is destroyed.

    ```mojo
    var s = TLSStream.connect("example.com", 443)
    s.write_all("GET / HTTP/1.0\\r\\nHost: example.com\\r\\n\\r\\n")
    print(s.read_string())
    s.close()
    ```
    """

    var _c: _Conn

    def __init__(out self, var ffi: MojoTlsFFI, handle: ConnPtr):
        """Take ownership of a connection handle (used by connect/accept)."""
        self._c = _Conn(ffi^, handle, "TLSStream")

    # ---- opening ---------------------------------------------------------------

    @staticmethod
    def connect(
        host: String, port: Int, timeout_ms: Int = -1
    ) raises TLSError -> TLSStream:
        """Connect to `host`:`port` with a default client configuration
        (system CAs, certificate and host name verified). `timeout_ms` bounds
        the TCP connect + handshake and becomes the stream's timeout
        (< 0 blocks)."""
        var config = TLSConfig.client()
        return TLSStream.connect(config, host, port, timeout_ms)

    @staticmethod
    def connect(
        config: TLSConfig, host: String, port: Int, timeout_ms: Int = -1
    ) raises TLSError -> TLSStream:
        """Connect to `host`:`port` and handshake with `config` (a client
        configuration). `host` is the name verified and sent as SNI."""
        _check_port(port)
        check_i32(timeout_ms, "connect: timeout_ms")
        config._need_stream("TLSStream.connect")
        var ffi = config.ffi()
        var h = ffi.conn_new_connect(config.handle(), host, port, timeout_ms)
        if not h:
            raise null_error(ffi, String("connect(", host, ":", port, ")"))
        return TLSStream(ffi^, h)

    @staticmethod
    def from_fd(
        config: TLSConfig,
        fd: Int,
        server_name: Optional[String] = None,
        take_ownership: Bool = False,
    ) raises TLSError -> TLSStream:
        """TLS over a socket the caller already has (STARTTLS). With
        `take_ownership` the stream closes `fd`; otherwise keep it open while
        the stream is used. The handshake runs on `handshake()` or the first
        read/write."""
        check_i32(fd, "from_fd: fd")
        config._need_stream("TLSStream.from_fd")
        var ffi = config.ffi()
        var h = ffi.conn_new_fd(
            config.handle(), fd, 1 if take_ownership else 0, server_name
        )
        if not h:
            raise null_error(ffi, "TLSStream.from_fd")
        return TLSStream(ffi^, h)

    # ---- data --------------------------------------------------------------------

    def handshake(self) raises TLSError:
        """Complete the handshake now (read and write do it implicitly),
        within the stream's timeout."""
        self._c.handshake()

    def handshake(self, timeout_ms: Int) raises TLSError:
        """Complete the handshake within `timeout_ms` (MOJO_TLS_ERR_TIMEOUT
        otherwise: close the stream then); it stays the stream's timeout.
        For a stream from `TLSListener.accept_no_handshake`."""
        self.set_timeout(timeout_ms)
        self._c.handshake()

    def read(self, buf: Span[mut=True, UInt8, _]) raises TLSError -> Int:
        """Read decrypted bytes into `buf`; returns the count, 0 once the peer
        closed cleanly (close_notify). An abrupt end raises
        MOJO_TLS_ERR_TRUNCATED; a reset, MOJO_TLS_ERR_CLOSED with
        `e.is_reset()`."""
        return self._c.read(buf)

    def read(self, max_bytes: Int = _READ_CHUNK) raises TLSError -> List[UInt8]:
        """Read up to `max_bytes` (> 0) decrypted bytes; empty at the clean
        end."""
        return self._c.read_bytes(max_bytes)

    def read_string(
        self, max_bytes: Int = _READ_CHUNK
    ) raises TLSError -> String:
        """As read, decoded as UTF-8 (invalid sequences replaced)."""
        var b = self._c.read_bytes(max_bytes)
        return String(from_utf8_lossy=Span(b))

    def read_all(self, allow_truncation: Bool = False) raises TLSError -> List[
        UInt8
    ]:
        """Read until the peer closes the stream with close_notify. An end
        without close_notify raises MOJO_TLS_ERR_TRUNCATED (an attacker can
        cut a connection short); with `allow_truncation=True` it returns
        what arrived instead, for peers known to skip close_notify
        (Python's `ssl` clients, many HTTP/1.0 servers) when the protocol
        above frames its own end (HTTP Content-Length, ...)."""
        return self._c.read_all(allow_truncation)

    def read_exactly(self, n: Int) raises TLSError -> List[UInt8]:
        """Read exactly `n` (>= 0) bytes; raises MOJO_TLS_ERR_TRUNCATED if
        the stream ends first, MOJO_TLS_ERR_INVALID_ARGUMENT for n < 0."""
        return self._c.read_exactly(n)

    # ---- non-blocking (set_timeout(0); poll fileno()) ----------------------------

    def try_handshake(self) raises TLSError -> IOResult:
        """One non-blocking handshake step (after `set_timeout(0)`): done,
        or `want_read()` / `want_write()`. Real failures raise."""
        return self._c.try_call(
            self._c.ffi.conn_handshake(self._c.h()), "handshake"
        )

    def try_read(self, buf: Span[mut=True, UInt8, _]) raises TLSError -> IOResult:
        """Non-blocking read into `buf`: `count` bytes (0 = clean end), or
        `want_read()` / `want_write()` (a TLS 1.2 renegotiation or a pending
        write may need the socket writable). Read again while `pending() > 0`
        before polling."""
        if len(buf) == 0:
            _ = self._c.h()
            return IOResult(0, 0)
        return self._c.try_call(
            self._c.ffi.conn_read(self._c.h(), Int(buf.unsafe_ptr()), len(buf)),
            "read",
        )

    def try_write(self, data: Span[UInt8, _]) raises TLSError -> IOResult:
        """Non-blocking write: `count` bytes taken (maybe fewer than
        `len(data)`: write the rest next), or `want_write()` /
        `want_read()`: poll, then call again with the same data."""
        if len(data) == 0:
            _ = self._c.h()
            return IOResult(0, 0)
        return self._c.try_call(
            self._c.ffi.conn_write(self._c.h(), addr_of(data), len(data)),
            "write",
        )

    def write(self, data: Span[UInt8, _]) raises TLSError -> Int:
        """Write up to one record of `data`; returns the count written."""
        return self._c.write(data)

    def write(self, text: StringSlice) raises TLSError -> Int:
        """Write up to one record of `text` (UTF-8)."""
        return self._c.write(text.as_bytes())

    def write_all(self, data: Span[UInt8, _]) raises TLSError:
        """Write all of `data`."""
        self._c.write_all(data)

    def write_all(self, text: StringSlice) raises TLSError:
        """Write all of `text` (UTF-8)."""
        self._c.write_all(text.as_bytes())

    def pending(self) raises TLSError -> Int:
        """Decrypted bytes `read` returns without touching the socket (all
        the library has received counts; 1 when only the peer's close_notify
        is left). Poll loop: once the fd is readable, read, then read again
        while pending() > 0; never poll while it is > 0."""
        return self._c.pending()

    def set_timeout(self, timeout_ms: Int) raises TLSError:
        """Timeout of later operations: < 0 blocks, 0 = non-blocking
        (`try_*` report want_read / want_write; the other methods raise
        `e.is_want_read()` / `e.is_want_write()`), > 0 = milliseconds
        (raises MOJO_TLS_ERR_TIMEOUT)."""
        check_i32(timeout_ms, "set_timeout: timeout_ms")
        _ = self._c.check(
            self._c.ffi.conn_set_timeout(self._c.h(), timeout_ms), "set_timeout"
        )

    def fileno(self) raises TLSError -> Int:
        """The socket's fd, to poll (do not read or write it directly)."""
        return self._c.check(self._c.ffi.conn_fd(self._c.h()), "fileno")

    def close_notify(self) raises TLSError:
        """Send close_notify (the peer then reads EOF); reading what the
        peer sent stays possible. Later writes raise MOJO_TLS_ERR_CLOSED.
        No TLS 1.3 half-close: a peer that has read it cannot answer (its
        writes raise MOJO_TLS_ERR_CLOSED)."""
        self._c.close_notify()

    def close(mut self):
        """Send close_notify (best effort), close the socket and free the
        connection. Idempotent; later operations raise MOJO_TLS_ERR_CLOSED."""
        self._c.close()

    # ---- what was negotiated -----------------------------------------------------

    def get_version(self) raises TLSError -> String:
        """The protocol version, e.g. "TLSv1.2"."""
        return self._c.version_name()

    def version_number(self) raises TLSError -> Int:
        """The protocol version number (MOJO_TLS_VERSION_TLS1_2, ...)."""
        return self._c.version()

    def get_cipher(self) raises TLSError -> String:
        """The cipher suite's IANA name."""
        return self._c.cipher()

    def record_layer(self) raises TLSError -> String:
        """The record layer protecting the data: "mojo-tls (ring)", "kernel
        TLS" or "Mbed TLS" (see TLSConfig.set_fast_record_layer)."""
        return self._c.record_layer()

    def key_update(self, request_peer: Bool = False) raises TLSError:
        """TLS 1.3: send a KeyUpdate (next write key); `request_peer` asks
        the peer to update too. Raises on TLS 1.2 / Mbed TLS's record layer.
        """
        self._c.key_update(request_peer)

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

    def session_resumed(self) raises TLSError -> Bool:
        """True when the handshake resumed a session."""
        return self._c.session_resumed()

    def export_session(self) raises TLSError -> List[UInt8]:
        """Client: the session as an opaque blob (secret) for import_session.
        TLS 1.3: the server's ticket arrives after the handshake and is taken
        in by a read; export after reading, else the blob has no ticket and
        resuming with it gives a full handshake."""
        return self._c.get_bytes(_B_SESSION, "export_session")

    def import_session(self, blob: Span[UInt8, _]) raises TLSError:
        """Client, before the handshake (from_fd): offer a saved session."""
        self._c.session_import(blob)

    # ---- the peer's certificate ----------------------------------------------------

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


def connect(
    config: TLSConfig, host: String, port: Int, timeout_ms: Int = -1
) raises TLSError -> TLSStream:
    """`TLSStream.connect(config, host, port, timeout_ms)`."""
    return TLSStream.connect(config, host, port, timeout_ms)


def connect(
    host: String, port: Int, timeout_ms: Int = -1
) raises TLSError -> TLSStream:
    """`TLSStream.connect(host, port, timeout_ms)` (default client config)."""
    return TLSStream.connect(host, port, timeout_ms)


struct TLSListener(Movable):
    """A listening TCP socket that accepts TLS connections with a server
    configuration.

    ```mojo
    var listener = TLSListener.bind("127.0.0.1", 8443, config)
    while True:
        var s = listener.accept()
        s.write_all(s.read())
    ```
    """

    var _config: ArcPointer[_ConfigBox]
    var _ffi: MojoTlsFFI
    var _fd: Int

    def __init__(out self, config: TLSConfig, fd: Int):
        """Take ownership of a listening fd (used by bind)."""
        self._config = config._shared()
        self._ffi = config.ffi()
        self._fd = fd

    def __deinit__(deinit self):
        if self._fd >= 0:
            _ = self._ffi.socket_close(self._fd)

    @staticmethod
    def bind(
        host: String, port: Int, config: TLSConfig, backlog: Int = 128
    ) raises TLSError -> TLSListener:
        """Listen on `host`:`port` (port 0 = any free port; see `port()`)."""
        _check_port(port)
        check_i32(backlog, "TLSListener.bind: backlog")
        config._need_stream("TLSListener.bind")
        if not config.is_server():
            raise TLSError(
                MOJO_TLS_ERR_INVALID_ARGUMENT,
                (
                    "TLSListener.bind needs a server configuration"
                    " (TLSConfig.server())"
                ),
            )
        var ffi = config.ffi()
        var fd = ffi.socket_listen(host, port, backlog)
        if fd < 0:
            raise make_error(
                ffi, fd, String("TLSListener.bind(", host, ":", port, ")")
            )
        return TLSListener(config, fd)

    def _get_fd(self) raises TLSError -> Int:
        if self._fd < 0:
            raise closed_error("TLSListener")
        return self._fd

    def port(self) raises TLSError -> Int:
        """The local port (useful after binding port 0)."""
        var p = self._ffi.socket_port(self._get_fd())
        if p < 0:
            raise make_error(self._ffi, p, "TLSListener.port")
        return p

    def fileno(self) raises TLSError -> Int:
        """The listening socket's fd."""
        return self._get_fd()

    def accept(self, timeout_ms: Int = -1) raises TLSError -> TLSStream:
        """Accept one client and complete the handshake within `timeout_ms`
        (< 0 blocks; MOJO_TLS_ERR_TIMEOUT when no client came). The timeout
        becomes the stream's timeout. The handshake runs here, so a client
        that connects and stays silent holds this call for `timeout_ms`:
        servers of many clients use `accept_no_handshake` (see
        `mojo_tls.EventLoop`)."""
        check_i32(timeout_ms, "TLSListener.accept: timeout_ms")
        var h = self._ffi.conn_new_accept(
            self._config[].handle, self._get_fd(), timeout_ms
        )
        if not h:
            raise null_error(self._ffi, "TLSListener.accept")
        return TLSStream(self._ffi.copy(), h)

    def accept_no_handshake(
        self, timeout_ms: Int = -1
    ) raises TLSError -> TLSStream:
        """Accept one client without handshaking, within `timeout_ms`
        (< 0 blocks; 0 = only a client already waiting, else
        `e.is_want_read()`). The timeout becomes the stream's timeout. Then
        `handshake(timeout_ms)`, or `set_timeout(0)` and `try_handshake()`
        from a poll loop, so one slow client delays nobody."""
        check_i32(timeout_ms, "TLSListener.accept_no_handshake: timeout_ms")
        var h = self._ffi.conn_new_accept_no_handshake(
            self._config[].handle, self._get_fd(), timeout_ms
        )
        if not h:
            raise null_error(self._ffi, "TLSListener.accept_no_handshake")
        return TLSStream(self._ffi.copy(), h)

    def close(mut self):
        """Stop listening. Idempotent."""
        if self._fd >= 0:
            _ = self._ffi.socket_close(self._fd)
            self._fd = -1
