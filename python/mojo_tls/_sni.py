"""TLSContext.sni_callback: the C server name callback calling Python.

The library calls back once per server handshake, on the thread driving it,
with the connection's handle; this module finds the Python object of that
handle (or, inside ``listen().accept()``, where the object does not exist
yet, a stand-in), calls ``sni_callback(ssl_object, server_name, context)``
as ``ssl`` does, and turns its answer into the C callback's: 0, or an alert.
Setting ``ssl_object.context`` inside it calls mojo_tls_conn_use_config.
"""

from __future__ import annotations

import sys
import threading
import traceback
import weakref
from typing import Any, Callable, Optional

from . import _ffi
from ._core import check, lib

# ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE / _INTERNAL_ERROR
_HANDSHAKE_FAILURE = 40
_INTERNAL_ERROR = 80

# Connection objects by handle value, for the callback to find them.
_live: "weakref.WeakValueDictionary[int, Any]" = weakref.WeakValueDictionary()
_live_lock = threading.Lock()
# Contexts a callback switched to before the connection's object existed
# (listen().accept()): the object takes it when registered.
_switched: "weakref.WeakValueDictionary[int, Any]" = weakref.WeakValueDictionary()


def register(obj: Any, handle: Any) -> None:
    """Make `obj` the ssl_object the callback gets for `handle`."""
    value = getattr(handle, "value", handle)
    if value:
        with _live_lock:
            _live[int(value)] = obj
            switched = _switched.pop(int(value), None)
        if switched is not None:
            obj._context = switched


class SNIContextMixin:
    """The ``context`` attribute of a connection object: settable inside the
    sni_callback (switching the handshake's certificate), fixed elsewhere."""

    _context: Any = None
    _sni_handle: Optional[int] = None

    @property
    def context(self) -> Any:
        """The TLSContext (inside ``sni_callback``: settable, as in ssl)."""
        return self._context

    @context.setter
    def context(self, value: Any) -> None:
        if self._context is None or value is self._context:
            self._context = value
            return
        h = self._sni_handle
        if h is None:
            raise ValueError("the context of a TLS connection can only be changed inside the "
                             "context's sni_callback")
        cfg = getattr(value, "_h", None)
        if cfg is None:
            raise TypeError(f"the context must be a TLSContext, not {type(value).__name__}")
        check(lib().mojo_tls_conn_use_config(h, cfg()))
        self._context = value


class PendingServerConnection(SNIContextMixin):
    """The ssl_object given to sni_callback for a connection that
    ``listen().accept()`` has not returned yet."""

    server_side = True
    server_hostname = None

    def __init__(self, context: Any) -> None:
        self._context = context

    def __repr__(self) -> str:
        return "<mojo_tls connection in its handshake>"


def _decode(name: Optional[bytes]) -> Optional[str]:
    if name is None:
        return None
    try:
        return name.decode("idna")
    except UnicodeError:
        return name.decode("ascii", "replace")


def _report(callback: Any) -> None:
    """As ssl's PyErr_WriteUnraisable: the traceback goes to stderr."""
    print(f"Exception ignored in sni_callback {callback!r}:", file=sys.stderr)
    traceback.print_exc()


def make_trampoline(context_ref: "weakref.ref[Any]") -> Any:
    """The C callback of one TLSContext (kept alive by the context)."""

    def trampoline(_userdata: Any, conn: Optional[int], name: Optional[bytes]) -> int:
        ctx = context_ref()
        callback: Optional[Callable[..., Any]] = getattr(ctx, "_sni_callback", None)
        if ctx is None or callback is None or not conn:
            return 0
        with _live_lock:
            obj = _live.get(int(conn))
        if obj is None:
            obj = PendingServerConnection(ctx)
        target = getattr(obj, "_sni_target", obj)  # a TLSObject behind a TLSBIOObject
        target._sni_handle = int(conn)
        try:
            result = callback(obj, _decode(name), ctx)
        except BaseException:
            _report(callback)
            return _HANDSHAKE_FAILURE
        finally:
            target._sni_handle = None
            if isinstance(obj, PendingServerConnection) and obj.context is not ctx:
                with _live_lock:
                    _switched[int(conn)] = obj.context
        if result is None:
            return 0
        try:
            alert = int(result)
        except (TypeError, ValueError):
            _report(callback)
            return _INTERNAL_ERROR
        return alert if 0 < alert < 256 else _INTERNAL_ERROR

    return _ffi.mojo_tls_server_name_cb(trampoline)
