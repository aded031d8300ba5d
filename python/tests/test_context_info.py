"""TLSContext.session_stats() and get_ca_certs(), compared with ssl."""

from __future__ import annotations

import ssl

import pytest

import mojo_tls
from conftest import PKI, memory_handshake, take_tickets

_STATS_KEYS = {"number", "connect", "connect_good", "connect_renegotiate", "accept",
               "accept_good", "accept_renegotiate", "hits", "misses", "timeouts", "cache_full"}


def test_session_stats_keys_match_ssl() -> None:
    ctx = mojo_tls.TLSContext()
    stats = ctx.session_stats()
    assert set(stats) == set(ssl.create_default_context().session_stats()) | _STATS_KEYS
    assert all(v == 0 for v in stats.values())
    ctx.close()


def test_session_stats_count_connections_and_resumption(pki: PKI, server_ctx, client_ctx) -> None:
    server_ctx.enable_session_tickets()
    c = client_ctx.wrap_memory(server_hostname="localhost")
    s = server_ctx.wrap_memory()
    assert client_ctx.session_stats()["connect"] == 1
    assert server_ctx.session_stats()["accept"] == 1
    memory_handshake(c, s)
    take_tickets(c, s)
    sess = c.session
    assert sess is not None
    cs, ss = client_ctx.session_stats(), server_ctx.session_stats()
    assert (cs["connect"], cs["connect_good"], cs["accept"], cs["hits"]) == (1, 1, 0, 0)
    assert (ss["accept"], ss["accept_good"], ss["connect"], ss["hits"]) == (1, 1, 0, 0)

    c2 = client_ctx.wrap_memory(server_hostname="localhost", session=sess)
    s2 = server_ctx.wrap_memory()
    memory_handshake(c2, s2)
    assert c2.session_reused
    cs, ss = client_ctx.session_stats(), server_ctx.session_stats()
    assert (cs["connect"], cs["connect_good"], cs["hits"], cs["misses"]) == (2, 2, 1, 0)
    assert (ss["accept"], ss["accept_good"], ss["hits"]) == (2, 2, 1)

    # A session the server cannot resume (tickets from another server): a miss.
    other = mojo_tls.TLSContext(server_side=True)
    other.load_cert_chain(pki.server_cert, pki.server_key)
    other.enable_session_tickets()
    c3 = client_ctx.wrap_memory(server_hostname="localhost", session=sess)
    s3 = other.wrap_memory()
    memory_handshake(c3, s3)
    assert not c3.session_reused
    cs = client_ctx.session_stats()
    assert (cs["connect"], cs["connect_good"], cs["hits"], cs["misses"]) == (3, 3, 1, 1)
    for k in ("number", "timeouts", "cache_full", "connect_renegotiate", "accept_renegotiate"):
        assert cs[k] == 0
    for x in (c, s, c2, s2, c3, s3):
        x.close()
    other.close()


def test_session_stats_sockets(server_ctx, client_ctx) -> None:
    with server_ctx.listen("127.0.0.1", 0) as lst:
        import threading

        done = []

        def serve() -> None:
            conn, _ = lst.accept(timeout=10)
            with conn:
                conn.sendall(conn.recv(10))
            done.append(True)

        t = threading.Thread(target=serve)
        t.start()
        with client_ctx.connect("127.0.0.1", lst.port, timeout=10) as s:
            s.sendall(b"hi")
            assert s.recv(10) == b"hi"
        t.join(10)
    assert done
    cs, ss = client_ctx.session_stats(), server_ctx.session_stats()
    assert (cs["connect"], cs["connect_good"]) == (1, 1)
    assert (ss["accept"], ss["accept_good"]) == (1, 1)


def _expected(pem: str) -> dict:
    import os
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(pem)
        return ssl._ssl._test_decode_cert(path)  # type: ignore[attr-defined]
    finally:
        os.unlink(path)


def _check_decoded(got: dict, pem: str) -> None:
    want = _expected(pem)
    for key in ("subject", "issuer", "serialNumber", "notBefore", "notAfter", "version"):
        assert got[key] == want[key], key
    if "subjectAltName" in got or "subjectAltName" in want:
        assert got["subjectAltName"] == want["subjectAltName"]


def test_get_ca_certs_cafile(pki: PKI) -> None:
    ctx = mojo_tls.TLSContext()
    assert ctx.get_ca_certs() == [] and ctx.get_ca_certs(binary_form=True) == []
    ctx.load_verify_locations(pki.ca_file)
    ctx.load_verify_locations(pki.ca_file)  # again: listed once
    der = ssl.PEM_cert_to_DER_cert(pki.ca.cert_pem)
    assert ctx.get_ca_certs(binary_form=True) == [der]
    (got,) = ctx.get_ca_certs()
    _check_decoded(got, pki.ca.cert_pem)
    # As ssl for the same file.
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    sctx.load_verify_locations(pki.ca_file)
    assert ctx.get_ca_certs(True) == sctx.get_ca_certs(True)
    ctx.close()


def test_get_ca_certs_cadata_and_capath(pki: PKI, tmp_path) -> None:
    ca2 = mojo_tls.generate_ca("second CA", key="ec-p384")
    ca3 = mojo_tls.generate_ca("third CA")
    ctx = mojo_tls.TLSContext()
    ctx.load_verify_locations(cadata=ca2.cert_pem)                           # PEM str
    ctx.load_verify_locations(cadata=ssl.PEM_cert_to_DER_cert(pki.ca.cert_pem))  # DER bytes
    d = tmp_path / "capath"
    d.mkdir()
    (d / "ca3.pem").write_text(ca3.cert_pem)
    ctx.load_verify_locations(capath=str(d))
    ders = [ssl.PEM_cert_to_DER_cert(p) for p in (ca2.cert_pem, pki.ca.cert_pem, ca3.cert_pem)]
    assert ctx.get_ca_certs(binary_form=True) == ders
    decoded = ctx.get_ca_certs()
    assert len(decoded) == 3
    for got, pem in zip(decoded, (ca2.cert_pem, pki.ca.cert_pem, ca3.cert_pem)):
        _check_decoded(got, pem)
    ctx.close()


def test_get_ca_certs_skips_leaf_certificates_as_ssl(pki: PKI) -> None:
    bundle = pki.ca.cert_pem + pki.server.cert_pem
    ctx = mojo_tls.TLSContext()
    ctx.load_verify_locations(cadata=bundle)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    sctx.load_verify_locations(cadata=bundle)
    assert ctx.get_ca_certs(True) == sctx.get_ca_certs(True)
    ctx.close()


def test_decode_leaf_with_sans_like_ssl(pki: PKI) -> None:
    from mojo_tls._der import decode_certificate

    got = decode_certificate(ssl.PEM_cert_to_DER_cert(pki.server.cert_pem))
    assert got is not None
    _check_decoded(got, pki.server.cert_pem)
    assert ("IP Address", "127.0.0.1") in got["subjectAltName"]


def test_get_ca_certs_default_certs_not_listed() -> None:
    ctx = mojo_tls.TLSContext()
    try:
        ctx.load_default_certs()
    except mojo_tls.TLSError:
        pytest.skip("no system CA store")
    assert ctx.get_ca_certs() == []
    ctx.close()
