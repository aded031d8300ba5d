# DTLSListener: a DTLS 1.2 server's UDP socket; one DTLSStream per client.

from std.memory import ArcPointer

from ._ffi import (
    MojoTlsFFI,
    DtlsListenerPtr,
    MOJO_TLS_ERR_INVALID_ARGUMENT,
)
from ._library import TLSError, check_i32, closed_error, make_error, null_error
from .config import TLSConfig, _ConfigBox
from .dtls import DTLSStream
from .poll import monotonic_ms
from .stream import _check_port


struct DTLSListener(Movable):
    """A UDP socket that accepts DTLS clients with a server configuration
    (`TLSConfig.dtls_server(...)`).

    A client's first ClientHello is answered with a HelloVerifyRequest
    cookie and nothing is kept for it; a client that returns the cookie
    gets a `DTLSStream` with its own UDP socket (same port, connected to
    the client), which lives on after the listener is closed.

    ```mojo
    var listener = DTLSListener.bind("127.0.0.1", 4433, config)
    while True:
        var s = listener.accept()
        var d = s.read()
        while len(d) > 0:
            _ = s.write(d)
            d = s.read()
    ```
    """

    var _config: ArcPointer[_ConfigBox]
    var _ffi: MojoTlsFFI
    var _handle: DtlsListenerPtr

    def __init__(out self, config: TLSConfig, handle: DtlsListenerPtr):
        """Take ownership of a listener handle (used by bind)."""
        self._config = config._shared()
        self._ffi = config.ffi()
        self._handle = handle

    def __deinit__(deinit self):
        if self._handle:
            _ = self._ffi.dtls_listener_free(self._handle)

    @staticmethod
    def bind(
        host: String, port: Int, config: TLSConfig
    ) raises TLSError -> DTLSListener:
        """Listen on UDP `host`:`port` (port 0 = any free port; see
        `port()`). `config` must be a DTLS server configuration."""
        _check_port(port)
        config._need_datagram("DTLSListener.bind")
        if not config.is_server():
            raise TLSError(
                MOJO_TLS_ERR_INVALID_ARGUMENT,
                (
                    "DTLSListener.bind needs a server configuration"
                    " (TLSConfig.dtls_server())"
                ),
            )
        var ffi = config.ffi()
        var h = ffi.dtls_listener_new(config.handle(), host, port)
        if not h:
            raise null_error(
                ffi, String("DTLSListener.bind(", host, ":", port, ")")
            )
        return DTLSListener(config, h)

    def _h(self) raises TLSError -> DtlsListenerPtr:
        if not self._handle:
            raise closed_error("DTLSListener")
        return self._handle

    def _check(self, rc: Int, op: String) raises TLSError -> Int:
        if rc < 0:
            raise make_error(self._ffi, rc, String("DTLSListener.", op))
        return rc

    def port(self) raises TLSError -> Int:
        """The local UDP port (useful after binding port 0)."""
        return self._check(self._ffi.dtls_listener_port(self._h()), "port")

    def fileno(self) raises TLSError -> Int:
        """The listening socket's fd, for `Poller`: readable when a datagram
        waits (then `accept(0)`). Do not read or close it."""
        return self._check(self._ffi.dtls_listener_fd(self._h()), "fileno")

    def peer_count(self) raises TLSError -> Int:
        """Clients accepted here whose stream is still open (a client that
        never returned its cookie is not counted: it costs nothing)."""
        return self._check(
            self._ffi.dtls_listener_peer_count(self._h()), "peer_count"
        )

    def accept(self, timeout_ms: Int = -1) raises TLSError -> DTLSStream:
        """The next client that returns a valid cookie, handshake done, all
        within `timeout_ms` (< 0 blocks; MOJO_TLS_ERR_TIMEOUT when none
        came). The timeout becomes the stream's timeout. A failed handshake
        raises its error; call again for the next client. With 0 nothing
        blocks: `e.is_want_read()` when no waiting datagram brought a valid
        cookie, else a stream whose handshake has started (drive it with
        `try_handshake`)."""
        check_i32(timeout_ms, "DTLSListener.accept: timeout_ms")
        var mtu = self._config[].mtu
        if mtu != 0:
            # The MTU must be set before the server's first flight: accept
            # without the handshake, then handshake in the time left.
            var start = monotonic_ms()
            var s = self.accept_no_handshake(timeout_ms)
            var left = timeout_ms
            if timeout_ms > 0:
                left = max(1, timeout_ms - (monotonic_ms() - start))
            s._finish_handshake(left)
            return s^
        var h = self._ffi.conn_new_dtls_accept(self._h(), timeout_ms)
        if not h:
            raise null_error(self._ffi, "DTLSListener.accept")
        return DTLSStream(self._ffi.copy(), h)

    def accept_no_handshake(
        self, timeout_ms: Int = -1
    ) raises TLSError -> DTLSStream:
        """As accept, without the handshake: the stream comes back once a
        valid cookie arrived, so a slow client stalls nobody. Then
        `handshake(timeout_ms)`, or `set_timeout(0)` and `try_handshake()`
        from a poll loop."""
        check_i32(timeout_ms, "DTLSListener.accept_no_handshake: timeout_ms")
        var h = self._ffi.conn_new_dtls_accept_no_handshake(
            self._h(), timeout_ms
        )
        if not h:
            raise null_error(self._ffi, "DTLSListener.accept_no_handshake")
        var s = DTLSStream(self._ffi.copy(), h)
        var mtu = self._config[].mtu
        if mtu != 0:
            s.set_mtu(mtu)
        return s^

    def close(mut self):
        """Close the listening socket; accepted streams go on. Idempotent;
        later calls raise MOJO_TLS_ERR_CLOSED."""
        if self._handle:
            _ = self._ffi.dtls_listener_free(self._handle)
            self._handle = DtlsListenerPtr.null()
