#!/usr/bin/env python3
"""Panics never cross the ABI, seen from Python: with the `test-hooks` build
of the library (MOJO_TLS_RELIABILITY_LIBRARY, set by panic_hook.sh), a
forced panic inside an exported function returns MOJO_TLS_ERR_INTERNAL to a
ctypes caller, the thread's last error says "panic", the mojo_tls package
raises TLSInternalError for it, and the interpreter and library keep working.
"""

from __future__ import annotations

import ctypes
import sys
import threading

import rtlib as R
from rtlib import E, L

INTERNAL = int(E.MOJO_TLS_ERR_INTERNAL)


def hooks():
    cd = L.cdll
    try:
        h = {n: getattr(cd, "mojo_tls_debug_" + n) for n in ("panic", "panic_len", "panic_handle", "panic_ptr")}
    except AttributeError as exc:
        raise SystemExit(f"not the test-hooks build of libmojo_tls ({L.path}): {exc}")
    h["panic"].restype, h["panic"].argtypes = ctypes.c_int32, [ctypes.c_int32]
    h["panic_len"].restype, h["panic_len"].argtypes = ctypes.c_ssize_t, [ctypes.c_int32]
    for n in ("panic_handle", "panic_ptr"):
        h[n].restype, h[n].argtypes = ctypes.c_void_p, [ctypes.c_int32]
    return h


H = hooks()


def ctypes_calls() -> str:
    for kind in range(5):
        for name in ("panic", "panic_len"):
            L.mojo_tls_clear_error()
            rc = H[name](kind)
            code, msg = R.last_error()
            assert rc == INTERNAL, f"{name}({kind}) = {rc}"
            assert code == INTERNAL and "panic" in msg.lower(), f"{name}({kind}): last error {code} {msg!r}"
        for name in ("panic_handle", "panic_ptr"):
            L.mojo_tls_clear_error()
            assert H[name](kind) is None, f"{name}({kind}) returned a pointer"
            code, msg = R.last_error()
            assert code == INTERNAL and "panic" in msg.lower(), f"{name}({kind}): last error {code} {msg!r}"
    H["panic"](0)
    return R.last_error()[1]


def package_exception() -> str:
    from mojo_tls import TLSError, TLSInternalError
    from mojo_tls._core import check

    try:
        check(H["panic"](1), "forced panic")
    except TLSInternalError as exc:
        assert isinstance(exc, TLSError) and isinstance(exc, OSError)
        assert "panic" in str(exc).lower(), str(exc)
        return f"{type(exc).__name__}: {exc}"
    raise AssertionError("no exception for MOJO_TLS_ERR_INTERNAL")


def threads() -> str:
    errors = []

    def worker(i: int) -> None:
        for k in range(50):
            rc = H["panic"]((i + k) % 5)
            code, msg = R.last_error()
            if rc != INTERNAL or code != INTERNAL or "panic" not in msg.lower():
                errors.append(f"thread {i}: {rc} {code} {msg}")
                return

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors, errors[:3]
    return "200 panics on 4 threads"


def still_works() -> str:
    import mojo_tls

    ca = mojo_tls.generate_ca("after panics")
    leaf = mojo_tls.generate_cert(ca, "localhost", sans=["localhost"])
    sctx = mojo_tls.TLSContext(server_side=True)
    sctx.load_cert_chain_data(leaf.cert_pem, leaf.key_pem)
    cctx = mojo_tls.TLSContext()
    cctx.load_verify_locations(cadata=ca.cert_pem)
    c = mojo_tls.TLSObject(cctx, server_hostname="localhost")
    s = mojo_tls.TLSObject(sctx, server_side=True)
    for _ in range(20):
        for a, b in ((c, s), (s, c)):
            try:
                a.do_handshake()
            except mojo_tls.TLSWantReadError:
                pass
            out = a.drain()
            if out:
                b.feed(out)
        if c.handshake_done and s.handshake_done:
            break
    assert c.handshake_done and s.handshake_done, "memory-mode handshake after panics"
    return mojo_tls.backend()


def main() -> int:
    run = R.Runner(f"panic boundary from Python ({L.path})")
    run.run("ctypes: every entry-point kind returns INTERNAL, last error says panic", ctypes_calls)
    run.run("package: MOJO_TLS_ERR_INTERNAL raises TLSInternalError", package_exception)
    run.run("panics on several threads", threads)
    run.run("the interpreter and the library keep working", still_works)
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
