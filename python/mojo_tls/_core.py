"""Shared helpers over the generated ctypes layer: loading, error checking,
string/bytes out-parameters, argument conversion."""

from __future__ import annotations

import ctypes
import os
from typing import Any, Callable, Optional, Union

from . import _ffi
from .errors import CertificateVerifyError, TLSError, error_class

Err = _ffi.mojo_tls_err

BytesLike = Union[bytes, bytearray, memoryview]
StrPath = Union[str, "os.PathLike[str]"]


def lib() -> _ffi.Library:
    """The loaded shared library (loaded on first use)."""
    return _ffi.load()


def last_error_message() -> str:
    """The calling thread's last library error message ('' if none)."""
    L = lib()
    buf = ctypes.create_string_buffer(512)
    n = L.mojo_tls_last_error(buf, len(buf))
    if n >= len(buf):
        buf = ctypes.create_string_buffer(n + 1)
        n = L.mojo_tls_last_error(buf, len(buf))
    return buf.raw[:n].decode("utf-8", "replace")


def strerror(code: int) -> str:
    """The library's static description of an error code."""
    s = lib().mojo_tls_strerror(int(code))
    return s.decode("utf-8", "replace") if s else f"error {code}"


def make_error(code: int, context: str = "", *, verify_reason: Optional[str] = None,
               verify_flags: Optional[int] = None,
               server_hostname: Optional[str] = None) -> TLSError:
    """Build the exception for a failed call; reads the thread's last error.
    `server_hostname` (a client's expected host) words a host name mismatch."""
    message = last_error_message()
    if not message or lib().mojo_tls_last_error_code() != code:
        message = message or strerror(code)
    what = context
    if context:
        message = f"{context}: {message}"
    cls = error_class(code)
    if cls is CertificateVerifyError:
        # Structured, from the thread's last error (not parsed from the message).
        L = lib()
        if verify_flags is None:
            flags = L.mojo_tls_last_error_verify_flags()
            verify_flags = flags if flags >= 0 else None
        if verify_reason is None:
            buf = ctypes.create_string_buffer(256)
            n = L.mojo_tls_last_error_verify_reason(buf, len(buf))
            if n >= len(buf):
                buf = ctypes.create_string_buffer(n + 1)
                n = L.mojo_tls_last_error_verify_reason(buf, len(buf))
            verify_reason = buf.raw[:n].decode("utf-8", "replace") if n > 0 else None
        return CertificateVerifyError(message, code, verify_reason=verify_reason,
                                      verify_flags=verify_flags, server_hostname=server_hostname,
                                      context=what)
    return cls(message, code)


def check(rc: int, context: str = "") -> int:
    """Return `rc` if >= 0, else raise the matching TLSError."""
    if rc < 0:
        raise make_error(rc, context)
    return rc


def check_handle(h: Any, context: str, server_hostname: Optional[str] = None) -> Any:
    """Raise the last error if a constructor returned NULL."""
    if h is None or not getattr(h, "value", h):
        code = lib().mojo_tls_last_error_code() or int(Err.MOJO_TLS_ERR_INTERNAL)
        raise make_error(code, context, server_hostname=server_hostname)
    return h


def c_str(value: Optional[Union[str, bytes, "os.PathLike[Any]"]], what: str,
          allow_none: bool = False) -> Optional[bytes]:
    """A NUL-free UTF-8 (or filesystem-encoded) byte string for a `const char *` argument."""
    if value is None:
        if allow_none:
            return None
        raise TypeError(f"{what} must be a string, not None")
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        out = value.encode("utf-8")
    elif isinstance(value, (bytes, bytearray)):
        out = bytes(value)
    else:
        raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")
    if b"\0" in out:
        raise ValueError(f"{what} must not contain NUL characters")
    return out


def c_path(value: Union[str, bytes, "os.PathLike[Any]"], what: str = "path") -> bytes:
    """A filesystem path argument."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, (str, bytes)):
        raise TypeError(f"{what} must be a path (str, bytes or os.PathLike), not {type(value).__name__}")
    out = os.fsencode(value)
    if b"\0" in out:
        raise ValueError(f"{what} must not contain NUL characters")
    return out


def as_bytes(data: Any, what: str = "data") -> bytes:
    """Bytes from a bytes-like object (TypeError otherwise, str included)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        raise TypeError(f"{what} must be bytes-like, not str (encode it first)")
    try:
        return memoryview(data).tobytes()
    except TypeError:
        raise TypeError(f"{what} must be bytes-like, not {type(data).__name__}") from None


def out_string(fn: Callable[..., int], *args: Any, initial: int = 256, context: str = "") -> str:
    """Call an snprintf-style function (`fn(*args, buf, cap)`) and return the string."""
    buf = ctypes.create_string_buffer(initial)
    n = check(fn(*args, buf, initial), context)
    if n >= initial:
        buf = ctypes.create_string_buffer(n + 1)
        n = check(fn(*args, buf, n + 1), context)
    return buf.raw[:n].decode("utf-8", "replace")


def out_bytes(fn: Callable[..., int], *args: Any, initial: int = 4096, context: str = "") -> bytes:
    """Call a copy-what-fits function (`fn(*args, buf, cap)` -> full length) and return the bytes."""
    buf = ctypes.create_string_buffer(initial)
    n = check(fn(*args, buf, initial), context)
    if n > initial:
        buf = ctypes.create_string_buffer(n)
        n = check(fn(*args, buf, n), context)
    return buf.raw[:n]


def timeout_ms(timeout: Optional[float], what: str = "timeout") -> int:
    """Seconds (None = block) to the library's milliseconds (-1 = block, 0 = poll).
    Accepts what socket.settimeout() accepts (OverflowError beyond it)."""
    if timeout is None:
        return -1
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{what} must be a number of seconds or None, not {type(timeout).__name__}")
    if timeout != timeout:  # NaN
        raise ValueError(f"{what} must not be NaN")
    if timeout < 0:
        raise ValueError(f"{what} must be non-negative (None blocks)")
    if timeout == 0:
        return 0
    if timeout * 1e9 >= 2**63:  # what socket.settimeout() refuses
        raise OverflowError("timestamp out of range for platform time_t")
    ms = int(timeout * 1000)
    # Longer than the library's int32 milliseconds (~24.8 days): wait without
    # a limit rather than time out early (gettimeout() keeps the value).
    return -1 if ms > 2**31 - 1 else max(1, ms)
