"""Certificate generation helpers (self-signed CAs and leaf certificates).

Meant for tests, development servers and internal PKIs::

    ca = generate_ca("My test CA")
    leaf = generate_cert(ca, "localhost", sans=["localhost", "127.0.0.1"])
    cert_pem, key_pem = leaf          # PEM strings
    leaf.write("server.crt", "server.key")
"""

from __future__ import annotations

import ctypes
import os
import threading
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Union

from . import _ffi
from ._core import c_path, c_str, check, check_handle, lib, out_bytes, out_string
from .errors import TLSClosedError

__all__ = ["GeneratedCert", "generate_ca", "generate_cert", "generate_crl",
           "KEY_ECDSA_P256", "KEY_ECDSA_P384"]

# Key algorithms and usage bits (MOJO_TLS_KEY_* / MOJO_TLS_USAGE_*).
KEY_ECDSA_P256: int = _ffi.MOJO_TLS_KEY_ECDSA_P256
KEY_ECDSA_P384: int = _ffi.MOJO_TLS_KEY_ECDSA_P384
USAGE_SERVER: int = _ffi.MOJO_TLS_USAGE_SERVER
USAGE_CLIENT: int = _ffi.MOJO_TLS_USAGE_CLIENT

_KEYS = {"ec-p256": KEY_ECDSA_P256, "p256": KEY_ECDSA_P256, "ecdsa-p256": KEY_ECDSA_P256,
         "ec-p384": KEY_ECDSA_P384, "p384": KEY_ECDSA_P384, "ecdsa-p384": KEY_ECDSA_P384}


def _key_alg(key: Union[str, int]) -> int:
    if isinstance(key, bool):
        raise TypeError("key must be 'ec-p256', 'ec-p384' or a MOJO_TLS_KEY_* value")
    if isinstance(key, int):
        return key
    if isinstance(key, str) and key.lower() in _KEYS:
        return _KEYS[key.lower()]
    raise ValueError(f"unknown key algorithm {key!r} (use 'ec-p256' or 'ec-p384')")


def _days(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not -(2**31) <= value < 2**31:
        raise ValueError(f"{what} out of range")
    return value


class GeneratedCert:
    """A generated certificate and its private key.

    Iterating gives ``(cert_pem, key_pem)``. The PEM/DER values are copied out
    at creation, so they stay available after :meth:`close`; the native object
    is only needed to sign further certificates (when this is a CA) or CRLs.
    """

    cert_pem: str
    key_pem: str
    cert_der: bytes
    common_name: str

    def __init__(self, handle: _ffi.GencertHandle, common_name: str) -> None:
        self._handle: Optional[_ffi.GencertHandle] = handle
        self._lock = threading.Lock()
        L = lib()
        self.common_name = common_name
        self.cert_pem = out_string(L.mojo_tls_gencert_cert_pem, handle, initial=2048)
        self.key_pem = out_string(L.mojo_tls_gencert_key_pem, handle, initial=1024)
        self.cert_der = out_bytes(L.mojo_tls_gencert_cert_der, handle, initial=2048)

    # -- tuple-like -----------------------------------------------------------
    def __iter__(self) -> Iterator[str]:
        return iter((self.cert_pem, self.key_pem))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int) -> str:
        return (self.cert_pem, self.key_pem)[i]

    def __repr__(self) -> str:
        state = "" if self._handle is not None else " (closed)"
        return f"<GeneratedCert CN={self.common_name!r}{state}>"

    # -- helpers --------------------------------------------------------------
    @property
    def fingerprint_sha256(self) -> bytes:
        """SHA-256 of the certificate's DER (the value for a certificate pin)."""
        import hashlib

        return hashlib.sha256(self.cert_der).digest()

    def write(self, certfile: Union[str, "os.PathLike[str]"],
              keyfile: Optional[Union[str, "os.PathLike[str]"]] = None) -> None:
        """Write the certificate (and the key, to `keyfile` or after the
        certificate in `certfile`) as PEM. The key file is created mode 0600."""
        c_path(certfile, "certfile")
        if keyfile is None:
            _write_private(certfile, self.cert_pem + self.key_pem)
        else:
            c_path(keyfile, "keyfile")
            with open(certfile, "w", encoding="ascii") as f:
                f.write(self.cert_pem)
            _write_private(keyfile, self.key_pem)

    def _native(self) -> _ffi.GencertHandle:
        if self._handle is None:
            raise TLSClosedError(f"{self!r} is closed: it can no longer sign")
        return self._handle

    def close(self) -> None:
        """Release the native object (PEM/DER values stay available)."""
        with self._lock:
            h, self._handle = self._handle, None
        if h is not None:
            lib().mojo_tls_gencert_free(h)

    def __enter__(self) -> "GeneratedCert":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: never raise from __del__
            pass


def _write_private(path: Union[str, "os.PathLike[str]"], text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)


def generate_ca(common_name: str = "mojo-tls test CA", *, valid_days: int = 365,
                key: Union[str, int] = "ec-p256") -> GeneratedCert:
    """Generate a self-signed CA certificate with a fresh key."""
    cn = c_str(common_name, "common_name")
    L = lib()
    h = check_handle(L.mojo_tls_gencert_new_ca(cn, _days(valid_days, "valid_days"), _key_alg(key)),
                     "generate_ca")
    return GeneratedCert(h, common_name)


def generate_cert(ca: Optional[GeneratedCert], common_name: str = "localhost", *,
                  sans: Optional[Iterable[str]] = ("localhost", "127.0.0.1"),
                  not_before_days: int = 0, valid_days: int = 30,
                  server: bool = True, client: bool = False,
                  key: Union[str, int] = "ec-p256") -> GeneratedCert:
    """Generate a leaf certificate signed by `ca` (self-signed when None).

    Args:
        sans: DNS names and IP addresses for the subjectAltName extension.
        not_before_days: start of validity relative to now, in days (negative
            = in the past; ``not_before_days=-30, valid_days=10`` is expired).
        server / client: the extended key usages (serverAuth / clientAuth).
    """
    if ca is not None and not isinstance(ca, GeneratedCert):
        raise TypeError(f"ca must be a GeneratedCert or None, not {type(ca).__name__}")
    cn = c_str(common_name, "common_name")
    if sans is None:
        sans_arg = None
    else:
        if isinstance(sans, (str, bytes)):
            sans = [sans.decode() if isinstance(sans, bytes) else sans]
        items: List[str] = []
        for s in sans:
            if not isinstance(s, str):
                raise TypeError(f"sans must contain str, not {type(s).__name__}")
            if "," in s:
                raise ValueError(f"invalid SAN {s!r}")
            items.append(s.strip())
        sans_arg = c_str(",".join(items), "sans") if items else None
    usage = (USAGE_SERVER if server else 0) | (USAGE_CLIENT if client else 0)
    if not usage:
        raise ValueError("a certificate needs server=True and/or client=True")
    issuer = ca._native() if ca is not None else None
    L = lib()
    h = check_handle(L.mojo_tls_gencert_new_leaf(issuer, cn, sans_arg,
                                             _days(not_before_days, "not_before_days"),
                                             _days(valid_days, "valid_days"), usage,
                                             _key_alg(key)),
                     "generate_cert")
    return GeneratedCert(h, common_name)


def generate_crl(ca: GeneratedCert, revoked: Sequence[GeneratedCert] = ()) -> str:
    """A CRL (PEM) signed by `ca` that revokes the `revoked` certificates."""
    if not isinstance(ca, GeneratedCert):
        raise TypeError(f"ca must be a GeneratedCert, not {type(ca).__name__}")
    revoked = list(revoked)
    for r in revoked:
        if not isinstance(r, GeneratedCert):
            raise TypeError(f"revoked must contain GeneratedCert, not {type(r).__name__}")
    arr = (_ffi.GencertHandle * max(1, len(revoked)))(*[r._native() for r in revoked])
    L = lib()
    # Each call signs a new CRL: use a buffer large enough for one call.
    cap = 4096 + 128 * len(revoked)
    buf = ctypes.create_string_buffer(cap)
    n = check(L.mojo_tls_gencert_crl_pem(ca._native(), arr, len(revoked), buf, cap), "generate_crl")
    if n >= cap:
        buf = ctypes.create_string_buffer(n + 1)
        n = check(L.mojo_tls_gencert_crl_pem(ca._native(), arr, len(revoked), buf, n + 1),
                  "generate_crl")
    return buf.raw[:n].decode("ascii")
