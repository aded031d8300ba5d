# TLSConfig: the settings shared by connections (client or server).

from std.memory import ArcPointer

from ._ffi import (
    MojoTlsFFI,
    ConfigPtr,
    MOJO_TLS_ROLE_CLIENT,
    MOJO_TLS_ROLE_SERVER,
    MOJO_TLS_PIN_CERT,
    MOJO_TLS_ERR_INVALID_ARGUMENT,
    MOJO_TLS_ERR_UNSUPPORTED,
    MOJO_TLS_VERSION_TLS1_3,
    MOJO_TLS_RECORD_LAYER_AUTO,
    MOJO_TLS_RECORD_LAYER_MBEDTLS,
    MOJO_TLS_TRANSPORT_STREAM,
    MOJO_TLS_TRANSPORT_DATAGRAM,
    MOJO_TLS_ERR_BAD_STATE,
)
from ._library import (
    TLSError,
    addr_of,
    check_i32,
    bytes_of,
    from_hex,
    load_library,
    make_error,
    null_error,
)


struct _ConfigBox(Movable):
    """Owns one mojo_tls_config handle; frees it when the last TLSConfig copy
    goes away."""

    var ffi: MojoTlsFFI
    var handle: ConfigPtr
    var role: Int
    var transport: Int
    # DTLS path MTU for connections made from this configuration (0 = none
    # set). The C ABI sets it per connection; the Mojo layer applies it to
    # each new connection before its handshake.
    var mtu: Int

    def __init__(
        out self,
        var ffi: MojoTlsFFI,
        handle: ConfigPtr,
        role: Int,
        transport: Int = MOJO_TLS_TRANSPORT_STREAM,
    ):
        self.ffi = ffi^
        self.handle = handle
        self.role = role
        self.transport = transport
        self.mtu = 0

    def __deinit__(deinit self):
        _ = self.ffi.config_free(self.handle)


struct TLSConfig(Movable):
    """TLS settings for clients or servers.

    A client configuration verifies the server's certificate and host name
    against the system's CA store unless CAs are loaded. A server
    configuration needs its certificate and key (`add_cert_file` /
    `add_cert_pem`). It cannot be copied (a copy would silently share the
    one C configuration, so a change through it would reach the original):
    pass it by reference, or move it (`^`). Listeners and connections keep
    what they need alive themselves. Changes affect connections created
    afterwards.

    ```mojo
    var config = TLSConfig.client()
    config.load_ca_file("ca.pem")
    config.set_alpn("h2,http/1.1")
    var stream = TLSStream.connect(config, "example.com", 443)
    ```
    """

    var _box: ArcPointer[_ConfigBox]

    def __init__(
        out self,
        role: Int = MOJO_TLS_ROLE_CLIENT,
        transport: Int = MOJO_TLS_TRANSPORT_STREAM,
    ) raises TLSError:
        """A configuration for `role` (MOJO_TLS_ROLE_CLIENT or
        MOJO_TLS_ROLE_SERVER) with secure defaults; `transport`
        MOJO_TLS_TRANSPORT_STREAM (TLS) or MOJO_TLS_TRANSPORT_DATAGRAM (DTLS
        1.2, fixed for the configuration's life)."""
        var ffi = load_library()
        check_i32(transport, "TLSConfig: transport")
        var h = ffi.config_new(role)
        if not h:
            raise null_error(ffi, "TLSConfig")
        if transport != MOJO_TLS_TRANSPORT_STREAM:
            var rc = ffi.config_set_transport(h, transport)
            if rc < 0:
                var err = make_error(ffi, rc, "TLSConfig: transport")
                _ = ffi.config_free(h)
                raise err^
        self._box = ArcPointer(_ConfigBox(ffi^, h, role, transport))

    @staticmethod
    def client() raises TLSError -> TLSConfig:
        """A client configuration: verification required, host names checked,
        the system's CA store unless CAs are loaded."""
        return TLSConfig(MOJO_TLS_ROLE_CLIENT)

    @staticmethod
    def server() raises TLSError -> TLSConfig:
        """A server configuration; add its certificate and key next."""
        return TLSConfig(MOJO_TLS_ROLE_SERVER)

    @staticmethod
    def server(
        cert_file: String, key_file: String, password: Optional[String] = None
    ) raises TLSError -> TLSConfig:
        """A server configuration with its certificate chain and key (files)."""
        var c = TLSConfig(MOJO_TLS_ROLE_SERVER)
        c.add_cert_file(cert_file, key_file, password)
        return c^

    @staticmethod
    def dtls_client() raises TLSError -> TLSConfig:
        """A DTLS 1.2 client configuration (for DTLSStream / DTLSMemory):
        the same secure defaults and trust settings as `client()`."""
        return TLSConfig(MOJO_TLS_ROLE_CLIENT, MOJO_TLS_TRANSPORT_DATAGRAM)

    @staticmethod
    def dtls_server() raises TLSError -> TLSConfig:
        """A DTLS 1.2 server configuration (for DTLSListener / DTLSMemory);
        add its certificate and key next. Clients must return a
        HelloVerifyRequest cookie before the server keeps any state."""
        return TLSConfig(MOJO_TLS_ROLE_SERVER, MOJO_TLS_TRANSPORT_DATAGRAM)

    @staticmethod
    def dtls_server(
        cert_file: String, key_file: String, password: Optional[String] = None
    ) raises TLSError -> TLSConfig:
        """A DTLS 1.2 server configuration with its certificate chain and
        key (files)."""
        var c = TLSConfig.dtls_server()
        c.add_cert_file(cert_file, key_file, password)
        return c^

    # ---- internals -----------------------------------------------------------

    def ffi(self) -> MojoTlsFFI:
        """The loaded library (shared)."""
        return self._box[].ffi.copy()

    def _shared(self) -> ArcPointer[_ConfigBox]:
        """The owned C configuration, for a listener that accepts with it
        after the caller's TLSConfig is gone (internal)."""
        return self._box

    def handle(self) -> ConfigPtr:
        """The C handle (valid while this configuration lives)."""
        return self._box[].handle

    def is_server(self) -> Bool:
        """True for a server configuration."""
        return self._box[].role == MOJO_TLS_ROLE_SERVER

    def is_datagram(self) -> Bool:
        """True for a DTLS configuration (`dtls_client()` / `dtls_server()`).
        """
        return self._box[].transport == MOJO_TLS_TRANSPORT_DATAGRAM

    def _need_datagram(self, what: String) raises TLSError:
        """A TLS configuration given to a DTLS type would quietly give TLS
        over TCP (the C constructors follow the configuration)."""
        if not self.is_datagram():
            raise TLSError(
                MOJO_TLS_ERR_BAD_STATE,
                String(
                    what,
                    " needs a DTLS configuration (TLSConfig.dtls_client()"
                    " / dtls_server())",
                ),
            )

    def _need_stream(self, what: String) raises TLSError:
        """A DTLS configuration given to a TLS type would run DTLS over a
        UDP socket behind a byte-stream API."""
        if self.is_datagram():
            raise TLSError(
                MOJO_TLS_ERR_BAD_STATE,
                String(
                    what,
                    " needs a TLS configuration; DTLS ones go to DTLSStream,"
                    " DTLSListener and DTLSMemory",
                ),
            )

    def _check(self, rc: Int, what: String) raises TLSError:
        if rc < 0:
            raise make_error(self._box[].ffi, rc, what)

    # ---- trust ---------------------------------------------------------------

    def load_system_ca(self) raises TLSError:
        """Trust the system's CA certificates (SSL_CERT_FILE / SSL_CERT_DIR
        override the locations)."""
        self._check(
            self._box[].ffi.config_add_ca_system(self.handle()),
            "load_system_ca",
        )

    def load_ca_file(self, path: String) raises TLSError:
        """Trust the CA certificates of a PEM (one or many) or DER file."""
        self._check(
            self._box[].ffi.config_add_ca_file(self.handle(), path),
            String("load_ca_file(", path, ")"),
        )

    def load_ca_dir(self, path: String) raises TLSError:
        """Trust every CA certificate file of a directory."""
        self._check(
            self._box[].ffi.config_add_ca_dir(self.handle(), path),
            String("load_ca_dir(", path, ")"),
        )

    def load_ca_mem(self, data: Span[UInt8, _]) raises TLSError:
        """Trust CA certificates from memory (PEM or DER bytes)."""
        self._check(
            self._box[].ffi.config_add_ca_mem(
                self.handle(), addr_of(data), len(data)
            ),
            "load_ca_mem",
        )

    def load_ca_pem(self, pem: String) raises TLSError:
        """Trust the CA certificates of a PEM text."""
        self.load_ca_mem(pem.as_bytes())

    def load_crl_file(self, path: String) raises TLSError:
        """Add certificate revocation lists (PEM or DER file)."""
        self._check(
            self._box[].ffi.config_add_crl_file(self.handle(), path),
            String("load_crl_file(", path, ")"),
        )

    def load_crl_pem(self, pem: String) raises TLSError:
        """Add certificate revocation lists from a PEM text."""
        var b = pem.as_bytes()
        self._check(
            self._box[].ffi.config_add_crl_mem(
                self.handle(), addr_of(b), len(b)
            ),
            "load_crl_pem",
        )

    def set_verify(self, mode: Int) raises TLSError:
        """MOJO_TLS_VERIFY_REQUIRED (client default), _OPTIONAL (record
        failures, see TLSStream.verify_flags) or _NONE (INSECURE). On a server
        it sets whether client certificates are requested."""
        check_i32(mode, "set_verify: mode")
        self._check(
            self._box[].ffi.config_insecure_verify(self.handle(), mode),
            "set_verify",
        )

    def skip_hostname_check(self, skip: Bool = True) raises TLSError:
        """INSECURE: accept a valid certificate issued for another name."""
        self._check(
            self._box[].ffi.config_insecure_skip_hostname_check(
                self.handle(), 1 if skip else 0
            ),
            "skip_hostname_check",
        )

    def set_client_auth(self, mode: Int) raises TLSError:
        """Server: mutual TLS, MOJO_TLS_CLIENT_AUTH_NONE / _OPTIONAL /
        _REQUIRED; client certificates are checked against the loaded CAs."""
        check_i32(mode, "set_client_auth: mode")
        self._check(
            self._box[].ffi.config_set_client_auth(self.handle(), mode),
            "set_client_auth",
        )

    def add_pin(
        self, sha256: Span[UInt8, _], kind: Int = MOJO_TLS_PIN_CERT
    ) raises TLSError:
        """Pin the peer: the 32-byte SHA-256 of a certificate's DER
        (MOJO_TLS_PIN_CERT) or of its public key (MOJO_TLS_PIN_SPKI). With
        pins, a handshake fails unless a certificate of the chain matches."""
        check_i32(kind, "add_pin: kind")
        self._check(
            self._box[].ffi.config_add_pin(
                self.handle(), kind, addr_of(sha256), len(sha256)
            ),
            "add_pin",
        )

    def add_pin(
        self, sha256_hex: String, kind: Int = MOJO_TLS_PIN_CERT
    ) raises TLSError:
        """As add_pin, from hex text ("ab:cd:…" or "abcd…")."""
        var raw = from_hex(sha256_hex)
        self.add_pin(Span(raw), kind)

    def set_pin_only(self, on: Bool = True) raises TLSError:
        """Trust the pins alone (no CA store, no host name check)."""
        self._check(
            self._box[].ffi.config_set_pin_only(self.handle(), 1 if on else 0),
            "set_pin_only",
        )

    def set_fast_record_layer(self, on: Bool = True) raises TLSError:
        """True (the default): after the handshake, connections move to
        mojo-tls's fast record layer where it runs the suite; False keeps
        Mbed TLS's own record layer."""
        self._check(
            self._box[].ffi.config_set_record_layer(
                self.handle(),
                MOJO_TLS_RECORD_LAYER_AUTO if on else (
                    MOJO_TLS_RECORD_LAYER_MBEDTLS
                ),
            ),
            "set_fast_record_layer",
        )

    # ---- own certificate -----------------------------------------------------

    def add_cert_file(
        self,
        cert_file: String,
        key_file: String,
        password: Optional[String] = None,
    ) raises TLSError:
        """Add the own certificate chain (leaf first) and its private key,
        PEM or DER files; `password` for an encrypted key."""
        self._check(
            self._box[].ffi.config_add_cert_file(
                self.handle(), cert_file, key_file, password
            ),
            String("add_cert_file(", cert_file, ", ", key_file, ")"),
        )

    def add_cert_pem(
        self,
        cert_pem: String,
        key_pem: String,
        password: Optional[String] = None,
    ) raises TLSError:
        """As add_cert_file, from PEM texts."""
        var c = cert_pem.as_bytes()
        var k = key_pem.as_bytes()
        self._check(
            self._box[].ffi.config_add_cert_mem(
                self.handle(), addr_of(c), len(c), addr_of(k), len(k), password
            ),
            "add_cert_pem",
        )

    # ---- protocol ------------------------------------------------------------

    def set_min_version(self, version: Int) raises TLSError:
        """Lowest version: MOJO_TLS_VERSION_TLS1_2 (default) or _TLS1_3."""
        check_i32(version, "set_min_version: version")
        self._check(
            self._box[].ffi.config_set_min_version(self.handle(), version),
            "set_min_version",
        )

    def set_max_version(self, version: Int) raises TLSError:
        """Highest version offered (TLS 1.3 means 1.2 on a backend without it).
        """
        check_i32(version, "set_max_version: version")
        self._check(
            self._box[].ffi.config_set_max_version(self.handle(), version),
            "set_max_version",
        )

    def set_alpn(self, protocols: String) raises TLSError:
        """ALPN protocols, most preferred first, comma-separated ("h2,http/1.1").
        """
        self._check(
            self._box[].ffi.config_set_alpn(self.handle(), protocols),
            "set_alpn",
        )

    def set_alpn(self, protocols: List[String]) raises TLSError:
        """ALPN protocols, most preferred first."""
        for p in protocols:
            if p.find(",") >= 0:
                raise TLSError(
                    MOJO_TLS_ERR_INVALID_ARGUMENT,
                    String("ALPN protocol contains a comma: ", p),
                )
        self.set_alpn(String(",").join(protocols))

    def set_ciphersuites(self, names: String) raises TLSError:
        """Cipher suites by IANA name, ':' or ',' separated."""
        self._check(
            self._box[].ffi.config_set_ciphersuites(self.handle(), names),
            "set_ciphersuites",
        )

    def set_groups(self, names: String) raises TLSError:
        """Key-exchange groups ("x25519,secp256r1")."""
        self._check(
            self._box[].ffi.config_set_groups(self.handle(), names),
            "set_groups",
        )

    def set_keylog_file(self, path: Optional[String]) raises TLSError:
        """Debugging: append NSS key-log lines to `path` (None: off)."""
        self._check(
            self._box[].ffi.config_set_keylog_file(self.handle(), path),
            "set_keylog_file",
        )

    # ---- DTLS -----------------------------------------------------------------

    def set_dtls_handshake_timeout(
        self, min_ms: Int, max_ms: Int
    ) raises TLSError:
        """DTLS: an unanswered handshake flight is sent again after
        `min_ms`, then after twice as long each time; the handshake fails
        with MOJO_TLS_ERR_TIMEOUT once the delay would pass `max_ms`
        (default 1000 / 60000; 0 < min_ms <= max_ms)."""
        self._need_datagram("set_dtls_handshake_timeout")
        check_i32(min_ms, "set_dtls_handshake_timeout: min_ms")
        check_i32(max_ms, "set_dtls_handshake_timeout: max_ms")
        self._check(
            self._box[].ffi.config_set_dtls_handshake_timeout(
                self.handle(), min_ms, max_ms
            ),
            "set_dtls_handshake_timeout",
        )

    def set_dtls_mtu(self, mtu: Int) raises TLSError:
        """DTLS: the path MTU (bytes of a datagram, 64..65535; 0 = no limit
        below the record size) of connections made from now on: handshake
        flights are fragmented to fit, a write larger than one datagram
        carries raises. `DTLSStream.set_mtu` changes one connection."""
        self._need_datagram("set_dtls_mtu")
        if mtu != 0 and (mtu < 64 or mtu > 65535):
            raise TLSError(
                MOJO_TLS_ERR_INVALID_ARGUMENT,
                String("set_dtls_mtu: mtu must be 0 or 64..65535, not ", mtu),
            )
        self._box[].mtu = mtu

    def dtls_mtu(self) -> Int:
        """The MTU `set_dtls_mtu` set (0: none)."""
        return self._box[].mtu

    # ---- sessions (server) ---------------------------------------------------

    def enable_session_tickets(self, lifetime_s: Int = 86400) raises TLSError:
        """Server: issue session tickets (keys rotated every `lifetime_s`)."""
        check_i32(lifetime_s, "enable_session_tickets: lifetime_s")
        self._check(
            self._box[].ffi.config_set_session_tickets(
                self.handle(), lifetime_s
            ),
            "enable_session_tickets",
        )

    def enable_resumption_without_forward_secrecy(
        self, on: Bool = True
    ) raises TLSError:
        """Allow TLS 1.3 psk_ke resumption: no ECDHE, so a session resumed
        so has no forward secrecy. Both ends must allow it: an opted-in
        client's resumption fails against a server that does not (see
        docs/features/resumption.md); False restores psk_dhe_ke only."""
        self._check(
            self._box[].ffi.config_insecure_resumption_without_forward_secrecy(
                self.handle(), 1 if on else 0
            ),
            "enable_resumption_without_forward_secrecy",
        )

    def set_ticket_keys(self, keys: Span[UInt8, _]) raises TLSError:
        """Server: seal tickets under these keys (1 to 8 keys of 32 random
        bytes, concatenated) instead of random ones, so servers sharing them
        resume each other's sessions. The first key seals, all open; rotate
        by calling again with the new key first. Turns tickets on."""
        self._check(
            self._box[].ffi.config_set_ticket_keys(
                self.handle(), addr_of(keys), len(keys)
            ),
            "set_ticket_keys",
        )

    def set_session_cache(
        self, max_entries: Int = 1000, timeout_s: Int = 300
    ) raises TLSError:
        """Server: a session-id cache (`max_entries` 0 turns it off)."""
        check_i32(max_entries, "set_session_cache: max_entries")
        check_i32(timeout_s, "set_session_cache: timeout_s")
        self._check(
            self._box[].ffi.config_set_session_cache(
                self.handle(), max_entries, timeout_s
            ),
            "set_session_cache",
        )


def has_tls13() raises TLSError -> Bool:
    """Whether the backend speaks TLS 1.3: True with every backend (Mbed TLS
    3.6 LTS, bundled or system, and 4.x); default settings negotiate TLS
    1.3. Asks the library (a TLS 1.3 minimum it refused with
    MOJO_TLS_ERR_UNSUPPORTED would mean no)."""
    var c = TLSConfig.client()
    var rc = c._box[].ffi.config_set_min_version(
        c.handle(), MOJO_TLS_VERSION_TLS1_3
    )
    if rc == MOJO_TLS_ERR_UNSUPPORTED:
        return False
    c._check(rc, "set_min_version(TLS 1.3)")
    return True
