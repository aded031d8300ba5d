#!/usr/bin/env python3
"""Regenerate the seed corpus in fuzz/corpus/<target>/ from the built library
(dist/): real handshake flights captured in memory mode, PEM/DER material
from the certificate generator, session blobs, name lists. The seeds are
committed; run this only to refresh them (python3 fuzz/make_corpus.py)."""

from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "reliability"))
import rtlib as R  # noqa: E402
from rtlib import L  # noqa: E402


def put(target: str, data: bytes) -> None:
    d = HERE / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def drain(c) -> bytes:
    buf = ctypes.create_string_buffer(65536)
    out = b""
    while (n := L.mojo_tls_conn_drain(c, buf, 65536)) > 0:
        out += buf.raw[:n]
    return out


def flights(ccfg, scfg):
    """Handshake in memory mode; returns (client flights, server flights, client conn, server conn)."""
    c = L.mojo_tls_conn_new_memory(ccfg, b"localhost")
    s = L.mojo_tls_conn_new_memory(scfg, None)
    cf, sf = [], []
    for _ in range(20):
        rc = L.mojo_tls_conn_handshake(c)
        out = drain(c)
        if out:
            cf.append(out)
            L.mojo_tls_conn_feed(s, out, len(out))
        rs = L.mojo_tls_conn_handshake(s)
        out = drain(s)
        if out:
            sf.append(out)
            L.mojo_tls_conn_feed(c, out, len(out))
        if rc == 0 and rs == 0:
            break
    return cf, sf, c, s


def dtls_seeds(ca, leaf) -> None:
    """dtls_datagrams: byte 0 = selector (bit 0: mTLS config; >>2: size
    bytes, x 4), then datagrams: a ClientHello, and the one returning a
    cookie (that cookie is bound to another key: the listener step answers
    it, the fuzzer mutates from there)."""
    ccfg = R.client_config([ca.cert])
    scfg = R.server_config(leaf.cert, leaf.key)
    for cfg in (ccfg, scfg):
        L.mojo_tls_config_set_transport(cfg, 1)
    c = L.mojo_tls_conn_new_memory(ccfg, b"localhost")
    s = L.mojo_tls_conn_new_memory(scfg, None)
    L.mojo_tls_conn_set_peer_id(s, b"\x7f\x00\x00\x01\x30\x39", 6)
    buf = ctypes.create_string_buffer(65536)

    def out(h) -> list:
        got = []
        while (n := L.mojo_tls_conn_drain_datagram(h, buf, 65536)) > 0:
            got.append(buf.raw[:n])
        return got

    L.mojo_tls_conn_handshake(c)
    hello = out(c)
    for d in hello:
        L.mojo_tls_conn_feed_datagram(s, d, len(d))
    L.mojo_tls_conn_handshake(s)
    for d in out(s):  # the HelloVerifyRequest
        L.mojo_tls_conn_feed_datagram(c, d, len(d))
    L.mojo_tls_conn_handshake(c)
    hello2 = out(c)
    put("dtls_datagrams", b"\x00" + hello[0])
    put("dtls_datagrams", b"\x01" + hello2[0])
    size = bytes([len(hello[0]) // 4]) if len(hello[0]) % 4 == 0 and len(hello[0]) < 1024 else b"\x00"
    put("dtls_datagrams", b"\x04" + size + hello[0] + hello2[0])
    for h in (c, s):
        L.mojo_tls_conn_free(h)
    for cfg in (ccfg, scfg):
        L.mojo_tls_config_free(cfg)


def main() -> int:
    shutil.rmtree(HERE / "corpus", ignore_errors=True)
    ca = R.Gen.ca("corpus CA")
    leaf = R.Gen.leaf(ca)
    client = R.Gen.leaf(ca, usage=2)
    ccfg = R.client_config([ca.cert])
    scfg = R.server_config(leaf.cert, leaf.key)
    L.mojo_tls_config_set_session_tickets(scfg, 3600)
    L.mojo_tls_config_set_alpn(ccfg, b"h2,http/1.1")
    L.mojo_tls_config_set_alpn(scfg, b"h2")
    cf, sf, c, s = flights(ccfg, scfg)
    # handshake_server: byte 0 = selector (bit 0: mTLS config; >>2: chunk-size bytes)
    put("handshake_server", b"\x00" + cf[0])
    put("handshake_server", b"\x00" + b"".join(cf))
    put("handshake_server", b"\x08\x01\x02" + cf[0])  # two chunk sizes, then the ClientHello
    # handshake_client: byte 0 = selector (bit 0: VERIFY_NONE, bit 1: import a session first)
    put("handshake_client", b"\x00" + sf[0])
    put("handshake_client", b"\x01" + sf[0])
    put("handshake_client", b"\x01" + b"".join(sf))
    # loaders: byte 0 selects the parser (see fuzz_targets/loaders.rs)
    n = L.mojo_tls_gencert_cert_der(ca.h, None, 0)
    der = ctypes.create_string_buffer(n)
    L.mojo_tls_gencert_cert_der(ca.h, der, n)
    blob_n = L.mojo_tls_conn_session_export(c, None, 0)
    blob = ctypes.create_string_buffer(max(1, blob_n))
    L.mojo_tls_conn_session_export(c, blob, blob_n)
    for sel, data in [(0, ca.cert), (0, der.raw), (1, ca.crl([client])), (2, leaf.cert + ca.cert),
                      (3, leaf.key), (5, blob.raw[:blob_n]), (6, der.raw), (6, ca.cert), (7, leaf.key),
                      (8, b"h2,http/1.1"), (9, b"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:"
                                              b"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
                      (10, b"x25519,secp256r1,P-384"), (11, b"\x00\x05localhost,127.0.0.1,::1,*.example")]:
        put("loaders", bytes([sel]) + data)
    if shutil.which("openssl"):
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "k.pem").write_bytes(leaf.key)
            for fmt in (["-aes256"], ["-traditional", "-aes128"]):
                r = subprocess.run(["openssl", "pkey", "-in", "k.pem", *fmt, "-passout", "pass:secret"],
                                   cwd=d, capture_output=True)
                if r.returncode == 0:
                    put("loaders", b"\x04" + r.stdout)
            r = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
                               cwd=d, capture_output=True)
            if r.returncode == 0:
                put("loaders", b"\x07" + r.stdout)
    dtls_seeds(ca, leaf)
    # api_sequence: libFuzzer + `arbitrary` build these from scratch; a few bytes to start
    for seed in (b"\x00\x01\x0b\x00\x00\x0c\x00\x0d\x01", b"\x0b\x01\x0c\x00\x10\x00\x11\x00\x14\x01\x1a\x02"):
        put("api_sequence", seed)
    for h in (c, s):
        L.mojo_tls_conn_free(h)
    for cfg in (ccfg, scfg):
        L.mojo_tls_config_free(cfg)
    for g in (client, leaf, ca):
        g.free()
    total = sum(p.stat().st_size for p in (HERE / "corpus").rglob("*") if p.is_file())
    print(f"seed corpus: {sum(1 for p in (HERE / 'corpus').rglob('*') if p.is_file())} files, {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
