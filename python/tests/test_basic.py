"""Library loading, helpers and the exception hierarchy."""

import hashlib
import os

import pytest

import mojo_tls
from mojo_tls import _ffi


def test_library_is_loaded_from_the_package() -> None:
    # run_tests.sh runs the installed wheel without MOJO_TLS_LIBRARY:
    # the shared library shipped inside the package must be the one in use.
    if os.environ.get("MOJO_TLS_LIBRARY"):
        pytest.skip("MOJO_TLS_LIBRARY overrides the bundled library")
    pkg_dir = os.path.dirname(os.path.abspath(mojo_tls.__file__))
    assert os.path.dirname(mojo_tls.library_path()) == pkg_dir


def test_versions() -> None:
    assert mojo_tls.library_version().count(".") == 2
    assert "Mbed TLS" in mojo_tls.backend()
    # every backend (Mbed TLS 3.6 / 4.x) has TLS 1.3
    assert mojo_tls.HAS_TLSv1_3 is True
    assert "HAS_TLSv1_3" in mojo_tls.__all__
    assert mojo_tls._lib().mojo_tls_abi_version() == _ffi.MOJO_TLS_ABI_VERSION


def test_every_header_function_is_exported() -> None:
    assert mojo_tls._lib().missing == []


def test_sha256_and_random() -> None:
    for data in (b"", b"abc", bytes(range(256)) * 100, bytearray(b"xyz"), memoryview(b"q")):
        assert mojo_tls.sha256(data) == hashlib.sha256(bytes(data)).digest()
    a, b = mojo_tls.random_bytes(32), mojo_tls.random_bytes(32)
    assert len(a) == 32 and a != b
    assert mojo_tls.random_bytes(0) == b""
    with pytest.raises(TypeError):
        mojo_tls.sha256("text")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        mojo_tls.random_bytes(-1)


def test_exception_hierarchy() -> None:
    for cls in (mojo_tls.TLSError, mojo_tls.CertificateVerifyError, mojo_tls.TLSWantReadError,
                mojo_tls.TLSWantWriteError, mojo_tls.TLSTimeoutError, mojo_tls.TLSClosedError):
        assert issubclass(cls, OSError)
        assert issubclass(cls, mojo_tls.TLSError)
    assert issubclass(mojo_tls.TLSTimeoutError, TimeoutError)
    assert issubclass(mojo_tls.TLSConnectError, ConnectionError)
    assert issubclass(mojo_tls.TLSFileNotFoundError, FileNotFoundError)
    e = mojo_tls.TLSTimeoutError("late", int(mojo_tls.Err.MOJO_TLS_ERR_TIMEOUT))
    assert e.code == mojo_tls.Err.MOJO_TLS_ERR_TIMEOUT and e.message == "late"
    assert "MOJO_TLS_ERR_TIMEOUT" in str(e)


def test_error_enum_matches_header() -> None:
    assert mojo_tls.Err.MOJO_TLS_ERR_WANT_READ == -1
    assert _ffi.MOJO_TLS_ERR_VERIFY_FAILED == -8
    for code in mojo_tls.Err:
        assert mojo_tls._lib().mojo_tls_strerror(int(code))


def test_load_default_certs() -> None:
    ctx = mojo_tls.TLSContext()
    try:
        ctx.load_default_certs()
    except mojo_tls.TLSFileNotFoundError:
        pass  # a machine without a system CA store
    ctx.close()


def test_tls_version_accepts_stdlib_values() -> None:
    import ssl

    ctx = mojo_tls.TLSContext()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    assert ctx.maximum_version is mojo_tls.TLSVersion.TLSv1_2
    ctx.close()
