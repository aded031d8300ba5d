# Certificate generation (for tests and development) and crypto helpers.

from ._ffi import (
    MojoTlsFFI,
    GencertPtr,
    MOJO_TLS_KEY_ECDSA_P256,
    MOJO_TLS_USAGE_SERVER,
    MOJO_TLS_USAGE_CLIENT,
)
from ._library import (
    TLSError,
    addr_of,
    check_i32,
    check_size,
    invalid_argument,
    load_library,
    make_error,
    null_error,
    to_hex,
)


struct GeneratedCert(Movable):
    """A generated certificate and its private key (self-signed CA or leaf)."""

    var _ffi: MojoTlsFFI
    var _h: GencertPtr

    def __init__(out self, var ffi: MojoTlsFFI, h: GencertPtr):
        self._ffi = ffi^
        self._h = h

    def __deinit__(deinit self):
        _ = self._ffi.gencert_free(self._h)

    def handle(self) -> GencertPtr:
        """The C handle (valid while this object lives)."""
        return self._h

    def _text(self, key: Bool) raises TLSError -> String:
        var cap = 2048
        while True:
            var buf = List[UInt8](length=cap, fill=0)
            var n: Int
            if key:
                n = self._ffi.gencert_key_pem(
                    self._h, Int(buf.unsafe_ptr()), cap
                )
            else:
                n = self._ffi.gencert_cert_pem(
                    self._h, Int(buf.unsafe_ptr()), cap
                )
            if n < 0:
                raise make_error(self._ffi, n, "GeneratedCert")
            if n < cap:
                return String(from_utf8_lossy=Span(buf)[0:n])
            cap = n + 1

    def cert_pem(self) raises TLSError -> String:
        """The certificate in PEM."""
        return self._text(False)

    def key_pem(self) raises TLSError -> String:
        """The private key in PEM (PKCS#8, unencrypted)."""
        return self._text(True)

    def cert_der(self) raises TLSError -> List[UInt8]:
        """The certificate in DER."""
        var cap = 1024
        while True:
            var buf = List[UInt8](length=cap, fill=0)
            var n = self._ffi.gencert_cert_der(
                self._h, Int(buf.unsafe_ptr()), cap
            )
            if n < 0:
                raise make_error(self._ffi, n, "GeneratedCert.cert_der")
            if n <= cap:
                buf.resize(n, 0)
                return buf^
            cap = n

    def sha256(self) raises TLSError -> List[UInt8]:
        """SHA-256 of the certificate's DER (the value for MOJO_TLS_PIN_CERT).
        """
        var der = self.cert_der()
        return sha256(Span(der))

    def crl_pem(self, revoked: List[GencertPtr]) raises TLSError -> String:
        """As a CA: a CRL revoking the certificates whose `handle()`s are given.
        """
        # C takes an array of addresses: built from the typed handles rather
        # than relying on List[GencertPtr]'s layout.
        var addrs = List[Int](capacity=len(revoked))
        for h in revoked:
            addrs.append(Int(h))
        var cap = 4096
        while True:
            var buf = List[UInt8](length=cap, fill=0)
            var n = self._ffi.gencert_crl_pem(
                self._h,
                Int(addrs.unsafe_ptr()) if len(addrs) > 0 else 0,
                len(addrs),
                Int(buf.unsafe_ptr()),
                cap,
            )
            if n < 0:
                raise make_error(self._ffi, n, "GeneratedCert.crl_pem")
            if n < cap:
                return String(from_utf8_lossy=Span(buf)[0:n])
            cap = n + 1


def generate_ca(
    common_name: String = "mojo-tls test CA", valid_days: Int = 30
) raises TLSError -> GeneratedCert:
    """A fresh self-signed CA certificate (ECDSA P-256)."""
    check_i32(valid_days, "generate_ca: valid_days")
    var ffi = load_library()
    var h = ffi.gencert_new_ca(common_name, valid_days, MOJO_TLS_KEY_ECDSA_P256)
    if not h:
        raise null_error(ffi, "generate_ca")
    return GeneratedCert(ffi^, h)


def generate_cert(
    issuer: GeneratedCert,
    common_name: String,
    sans: String = "",
    not_before_days: Int = -1,
    valid_days: Int = 30,
    usage: Int = MOJO_TLS_USAGE_SERVER | MOJO_TLS_USAGE_CLIENT,
) raises TLSError -> GeneratedCert:
    """A leaf certificate signed by `issuer`; `sans` is a comma-separated list
    of DNS names and IP addresses ("localhost,127.0.0.1")."""
    check_i32(not_before_days, "generate_cert: not_before_days")
    check_i32(valid_days, "generate_cert: valid_days")
    check_i32(usage, "generate_cert: usage")
    var ffi = issuer._ffi.copy()
    var s: Optional[String] = None
    if sans.byte_length() > 0:
        s = sans
    var h = ffi.gencert_new_leaf(
        issuer.handle(),
        common_name,
        s,
        not_before_days,
        valid_days,
        usage,
        MOJO_TLS_KEY_ECDSA_P256,
    )
    if not h:
        raise null_error(ffi, "generate_cert")
    return GeneratedCert(ffi^, h)


def sha256(data: Span[UInt8, _]) raises TLSError -> List[UInt8]:
    """SHA-256 digest (32 bytes), computed by the library."""
    var ffi = load_library()
    var out = List[UInt8](length=32, fill=0)
    var rc = ffi.sha256(addr_of(data), len(data), Int(out.unsafe_ptr()), 32)
    if rc < 0:
        raise make_error(ffi, rc, "sha256")
    return out^


comptime RANDOM_BYTES_MAX = 64 * 1024 * 1024
"""The largest `random_bytes(n)`; more goes through `random_fill`."""


def random_fill(buf: Span[mut=True, UInt8, _]) raises TLSError:
    """Fill `buf` with cryptographically secure random bytes. Any size: the
    caller owns (and sized) the memory, so large amounts can be produced a
    piece at a time into one reused buffer."""
    if len(buf) == 0:
        return
    var ffi = load_library()
    var rc = ffi.random(Int(buf.unsafe_ptr()), len(buf))
    if rc < 0:
        raise make_error(ffi, rc, "random_fill")


def random_bytes(n: Int) raises TLSError -> List[UInt8]:
    """`n` cryptographically secure random bytes, 0 <= n <= RANDOM_BYTES_MAX
    (MOJO_TLS_ERR_INVALID_ARGUMENT otherwise)."""
    check_size(n, "random_bytes: n")
    # Checked before allocating: random_bytes(2**40) used to ask for the
    # whole list up front and the process died instead of raising.
    if n > RANDOM_BYTES_MAX:
        raise invalid_argument(
            String(
                "random_bytes: n is ", n, ", at most ", RANDOM_BYTES_MAX,
                " (use random_fill on your own buffer)",
            )
        )
    var out = List[UInt8](length=n, fill=0)
    random_fill(out)
    return out^


def library_version() raises TLSError -> String:
    """The loaded libmojo_tls version, e.g. "0.1.0"."""
    var s = load_library().version()
    return s.value() if s else String("")


def backend() raises TLSError -> String:
    """The TLS backend, e.g. "Mbed TLS 3.6.5 (bundled, ECC by AWS-LC)"."""
    var s = load_library().backend()
    return s.value() if s else String("")
