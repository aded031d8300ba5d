# TLSMemoryStream: TLS without a socket, for custom transports and event loops.

from ._ffi import MOJO_TLS_ERR_WANT_READ
from ._library import TLSError, addr_of, null_error
from .config import TLSConfig
from .stream import (
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
    _B_SESSION,
    _READ_CHUNK,
)
from ._library import to_hex


struct TLSMemoryStream(Movable):
    """A TLS connection in memory mode: the caller moves the ciphertext.

    `feed` what arrives from the peer, send what `drain` returns. Nothing
    blocks: `handshake()` returns False and `read` raises a TLSError with
    `is_want_read()` while more input is needed.

    ```mojo
    var tls = TLSMemoryStream(client_config, "example.com")
    while not tls.handshake():
        transport.send(tls.drain())
        tls.feed(transport.receive())
    transport.send(tls.drain())
    ```
    """

    var _c: _Conn

    def __init__(
        out self, config: TLSConfig, server_name: Optional[String] = None
    ) raises TLSError:
        """A memory-mode connection with `config` (client or server).
        Clients verify `server_name` (required unless host name checking is
        off) and send it as SNI."""
        config._need_stream("TLSMemoryStream")
        var ffi = config.ffi()
        var h = ffi.conn_new_memory(config.handle(), server_name)
        if not h:
            raise null_error(ffi, "TLSMemoryStream")
        self._c = _Conn(ffi^, h, "TLSMemoryStream")

    # ---- ciphertext in / out -------------------------------------------------------

    def feed(self, data: Span[UInt8, _]) raises TLSError:
        """Hand over ciphertext received from the peer (copied)."""
        if len(data) == 0:
            return
        _ = self._c.check(
            self._c.ffi.conn_feed(self._c.h(), addr_of(data), len(data)), "feed"
        )

    def feed_eof(self) raises TLSError:
        """The transport has ended (reads then give 0 after close_notify,
        else raise MOJO_TLS_ERR_TRUNCATED)."""
        _ = self._c.check(self._c.ffi.conn_feed_eof(self._c.h()), "feed_eof")

    def pending_output(self) raises TLSError -> Int:
        """Bytes of ciphertext waiting to be drained."""
        return self._c.check(
            self._c.ffi.conn_pending_output(self._c.h()), "pending_output"
        )

    def drain(self) raises TLSError -> List[UInt8]:
        """Take all the ciphertext to send to the peer (empty: nothing)."""
        var out = List[UInt8]()
        while True:
            var want = self.pending_output()
            if want == 0:
                return out^
            var start = len(out)
            out.resize(start + want, 0)
            var n = self._c.check(
                self._c.ffi.conn_drain(
                    self._c.h(), Int(out.unsafe_ptr()) + start, want
                ),
                "drain",
            )
            out.resize(start + n, 0)
            if n == 0:
                return out^

    # ---- TLS -------------------------------------------------------------------------

    def handshake(self) raises TLSError -> Bool:
        """Advance the handshake: True once complete, False while it needs
        more input (send what `drain` gives, `feed` the answer, call again)."""
        var rc = self._c.ffi.conn_handshake(self._c.h())
        if rc == MOJO_TLS_ERR_WANT_READ:
            return False
        _ = self._c.check(rc, "handshake")
        return True

    def read(self, buf: Span[mut=True, UInt8, _]) raises TLSError -> Int:
        """Decrypted bytes into `buf`: the count, 0 after the peer's
        close_notify; raises (is_want_read()) when more input is needed."""
        return self._c.read(buf)

    def read(self, max_bytes: Int = _READ_CHUNK) raises TLSError -> List[UInt8]:
        """Up to `max_bytes` decrypted bytes (empty after close_notify)."""
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
        """Everything up to the peer's close_notify, which must have been fed
        already (else `is_want_read()`, and what was read is dropped: use
        `read` while the stream is open). After `feed_eof` without
        close_notify: MOJO_TLS_ERR_TRUNCATED, or with `allow_truncation`
        what arrived."""
        return self._c.read_all(allow_truncation)

    def read_exactly(self, n: Int) raises TLSError -> List[UInt8]:
        """Exactly `n` (>= 0) bytes, all fed already (else `is_want_read()`);
        MOJO_TLS_ERR_TRUNCATED if the stream ends first."""
        return self._c.read_exactly(n)

    def write(self, data: Span[UInt8, _]) raises TLSError -> Int:
        """Encrypt up to one record of `data` (then `drain`); returns the count.
        """
        return self._c.write(data)

    def write(self, text: StringSlice) raises TLSError -> Int:
        """Encrypt up to one record of `text` (UTF-8)."""
        return self._c.write(text.as_bytes())

    def write_all(self, data: Span[UInt8, _]) raises TLSError:
        """Encrypt all of `data` (then `drain`)."""
        var off = 0
        while off < len(data):
            off += self._c.write(data[off:])

    def write_all(self, text: StringSlice) raises TLSError:
        """Encrypt all of `text` (UTF-8)."""
        self.write_all(text.as_bytes())

    def pending(self) raises TLSError -> Int:
        """Decrypted bytes `read` returns without more input (every complete
        record the connection has taken in counts; what was fed but not read
        yet counts once a read took it: after `feed`, read until WANT_READ)."""
        return self._c.pending()

    def close_notify(self) raises TLSError:
        """Queue close_notify (then `drain` it)."""
        self._c.close_notify()

    def close(mut self):
        """Free the connection (call close_notify and drain first for a clean
        end); later operations raise MOJO_TLS_ERR_CLOSED. Idempotent."""
        self._c.close()

    def get_version(self) raises TLSError -> String:
        """The protocol version, e.g. "TLSv1.2"."""
        return self._c.version_name()

    def version_number(self) raises TLSError -> Int:
        """The protocol version number (MOJO_TLS_VERSION_TLS1_2, ...)."""
        return self._c.version()

    def server_name(self) raises TLSError -> String:
        """Server: the name the client asked for (SNI); client: the name sent.
        """
        return self._c.get_string(_S_SERVER_NAME, "server_name")

    def get_cipher(self) raises TLSError -> String:
        """The cipher suite's IANA name."""
        return self._c.cipher()

    def record_layer(self) raises TLSError -> String:
        """The record layer protecting the data: "mojo-tls (ring)" or "Mbed
        TLS" (see TLSConfig.set_fast_record_layer)."""
        return self._c.record_layer()

    def key_update(self, request_peer: Bool = False) raises TLSError:
        """TLS 1.3: queue a KeyUpdate (then `drain` it); `request_peer` asks
        the peer to update too. Raises on TLS 1.2 / Mbed TLS's record layer.
        """
        self._c.key_update(request_peer)

    def get_alpn(self) raises TLSError -> Optional[String]:
        """The negotiated ALPN protocol, None when there is none."""
        var s = self._c.get_string(_S_ALPN, "get_alpn")
        if s.byte_length() == 0:
            return None
        return s^

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

    def export_session(self) raises TLSError -> List[UInt8]:
        """Client: the session blob (secret) to resume later. TLS 1.3: the
        server's ticket arrives after the handshake; `feed` it and `read`
        once (WANT_READ when no data came) before exporting, else the blob
        has no ticket and resuming with it gives a full handshake."""
        return self._c.get_bytes(_B_SESSION, "export_session")

    def import_session(self, blob: Span[UInt8, _]) raises TLSError:
        """Client, before the handshake: offer a saved session."""
        self._c.session_import(blob)

    def session_resumed(self) raises TLSError -> Bool:
        """True when the handshake resumed a session."""
        return self._c.session_resumed()
