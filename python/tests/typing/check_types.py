"""Checked by `mypy --strict` in run_tests.sh (never run): the overloads of
getpeercert(), TLSObject.read() and TLSContext.get_ca_certs() give the
precise types."""

from __future__ import annotations

import ssl
from typing import Any, Dict, List, Optional

import mojo_tls
from mojo_tls._conn import PeerCertDict


def check(sock: mojo_tls.TLSSocket, obj: mojo_tls.TLSObject, ctx: mojo_tls.TLSContext,
          bio: Any) -> None:
    d1: Optional[PeerCertDict] = sock.getpeercert()
    b1: Optional[bytes] = sock.getpeercert(binary_form=True)
    d2: Optional[PeerCertDict] = obj.getpeercert(False)
    b2: Optional[bytes] = obj.getpeercert(True)
    wrapped = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO())
    d3: Optional[PeerCertDict] = wrapped.getpeercert()
    b3: Optional[bytes] = wrapped.getpeercert(True)
    r1: bytes = obj.read()
    r2: bytes = obj.read(10)
    r3: int = obj.read(10, bytearray(10))
    r4: int = obj.read(buffer=bytearray(10))
    c1: List[Dict[str, Any]] = ctx.get_ca_certs()
    c2: List[bytes] = ctx.get_ca_certs(binary_form=True)
    s: Dict[str, int] = ctx.session_stats()
    del d1, b1, d2, b2, d3, b3, r1, r2, r3, r4, c1, c2, s, bio


def check_dtls(dctx: mojo_tls.DTLSContext) -> None:
    """DTLSContext's constructors give the DTLS types (not the TLS ones)."""
    s: mojo_tls.DTLSSocket = dctx.connect("localhost", 4433, timeout=5)
    lst: mojo_tls.DTLSListener = dctx.listen("127.0.0.1", 0)
    conn: mojo_tls.DTLSSocket = lst.accept()[0]
    obj: mojo_tls.DTLSObject = dctx.wrap_memory(peer=("127.0.0.1", 1))
    r: bytes = s.recv()
    t: Optional[float] = obj.next_timeout()
    out: List[bytes] = obj.drain_datagrams()
    del s, lst, conn, obj, r, t, out
