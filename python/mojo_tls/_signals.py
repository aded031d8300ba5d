"""PEP 475 for the library's blocking calls. A call that a signal interrupts
returns MOJO_TLS_ERR_INTERRUPTED; Python's handlers then run here (a
handler's exception, e.g. KeyboardInterrupt for SIGINT, propagates) and the
call is repeated with what is left of its timeout."""

from __future__ import annotations

import ctypes
import math
import time
from typing import Any, Callable, Optional, TypeVar

from . import _ffi
from ._core import lib, timeout_ms

INTERRUPTED = int(_ffi.mojo_tls_err.MOJO_TLS_ERR_INTERRUPTED)

T = TypeVar("T")


def check_signals() -> None:
    """Run pending Python signal handlers now. ctypes.pythonapi keeps the
    GIL and raises the exception a handler set."""
    ctypes.pythonapi.PyErr_CheckSignals()


def _left_ms(start: float, timeout: float) -> int:
    """Milliseconds left of `timeout` seconds since `start` (at least 1:
    the call then reports TIMEOUT itself)."""
    left = timeout - (time.monotonic() - start)
    return max(1, min(math.ceil(left * 1000), 2**31 - 1))


def conn_call(conn: Any, timeout: Optional[float], fn: Callable[[], int]) -> int:
    """`fn()` (a call on `conn` returning a status), repeated after signals;
    `timeout` is the connection's (seconds, None = block)."""
    start = time.monotonic()
    rc = fn()
    if rc != INTERRUPTED:
        return rc
    L = lib()
    try:
        while rc == INTERRUPTED:
            check_signals()
            if timeout:
                L.mojo_tls_conn_set_timeout(conn, _left_ms(start, timeout))
            rc = fn()
    finally:
        if timeout:
            L.mojo_tls_conn_set_timeout(conn, timeout_ms(timeout))
    return rc


def handle_call(timeout: Optional[float], fn: Callable[[int], T]) -> T:
    """`fn(ms)` (a constructor returning a handle or NULL), repeated after
    signals with the time left."""
    start = time.monotonic()
    ms = timeout_ms(timeout)
    while True:
        h = fn(ms)
        if h or lib().mojo_tls_last_error_code() != INTERRUPTED:
            return h
        check_signals()
        if timeout:
            ms = _left_ms(start, timeout)
