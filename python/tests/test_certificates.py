"""Certificate verification failures and the trust options (pins, CRLs,
optional verification), with certificates generated at test time."""

import shutil
import subprocess

import pytest
from conftest import HOST, ThreadServer, accept_or_error

import mojo_tls


def _serve(cert: mojo_tls.GeneratedCert, count: int = 1):
    """A mojo_tls server presenting `cert`; handshake failures are expected."""
    ctx = mojo_tls.TLSContext(server_side=True)
    ctx.load_cert_chain_data(cert.cert_pem, cert.key_pem)
    lst = ctx.listen(HOST, 0)

    def accept():
        return accept_or_error(lst)

    def handler(conn):
        if isinstance(conn, Exception):
            return conn
        with conn:
            conn.sendall(b"hi")
        return None

    return ThreadServer(accept, handler, count), lst, ctx


def _client(pki, **settings) -> mojo_tls.TLSContext:
    ctx = mojo_tls.TLSContext()
    ctx.load_verify_locations(cadata=pki.ca.cert_pem)
    for k, v in settings.items():
        setattr(ctx, k, v)
    return ctx


def test_untrusted_ca(pki) -> None:
    other_ca = mojo_tls.generate_ca("Some other CA")
    cert = mojo_tls.generate_cert(other_ca, "localhost")
    srv, lst, _ = _serve(cert)
    with lst:
        with pytest.raises(mojo_tls.CertificateVerifyError) as ei:
            mojo_tls.connect("localhost", lst.port, context=_client(pki), timeout=10)
        srv.join()
    e = ei.value
    assert e.code == mojo_tls.Err.MOJO_TLS_ERR_VERIFY_FAILED
    assert isinstance(e, OSError)
    assert "signed by the trusted CA" in e.verify_reason
    assert e.verify_flags
    assert e.message


def test_wrong_host(pki) -> None:
    cert = mojo_tls.generate_cert(pki.ca, "elsewhere.example", sans=["elsewhere.example"])
    srv, lst, _ = _serve(cert, count=2)
    with lst:
        with pytest.raises(mojo_tls.CertificateVerifyError) as ei:
            mojo_tls.connect("localhost", lst.port, context=_client(pki), timeout=10)
        # the message names the host expected and what was checked
        for text in (ei.value.verify_reason, str(ei.value)):
            assert ('does not match host name "localhost" '
                    '(checked subjectAltName entries: DNS:elsewhere.example)') in text, text
        # check_hostname=False accepts the valid certificate for another name
        ctx = _client(pki, check_hostname=False)
        with mojo_tls.connect("localhost", lst.port, context=ctx, timeout=10) as s:
            assert s.recv(10) == b"hi"
        srv.join()


def test_expired(pki) -> None:
    cert = mojo_tls.generate_cert(pki.ca, "localhost", not_before_days=-30, valid_days=10)
    srv, lst, _ = _serve(cert)
    with lst:
        with pytest.raises(mojo_tls.CertificateVerifyError) as ei:
            mojo_tls.connect("localhost", lst.port, context=_client(pki), timeout=10)
        srv.join()
    assert "expired" in ei.value.verify_reason.lower()


def test_not_yet_valid(pki) -> None:
    cert = mojo_tls.generate_cert(pki.ca, "localhost", not_before_days=5, valid_days=10)
    srv, lst, _ = _serve(cert)
    with lst:
        with pytest.raises(mojo_tls.CertificateVerifyError):
            mojo_tls.connect("localhost", lst.port, context=_client(pki), timeout=10)
        srv.join()


def test_cert_none_and_optional(pki) -> None:
    other_ca = mojo_tls.generate_ca("Untrusted")
    cert = mojo_tls.generate_cert(other_ca, "localhost")
    srv, lst, _ = _serve(cert, count=2)
    with lst:
        ctx = _client(pki)
        with pytest.raises(ValueError):
            ctx.verify_mode = mojo_tls.CERT_NONE  # check_hostname still on (as stdlib)
        ctx.check_hostname = False
        ctx.verify_mode = mojo_tls.CERT_NONE
        with mojo_tls.connect("localhost", lst.port, context=ctx, timeout=10) as s:
            assert s.recv(10) == b"hi"
        ctx2 = _client(pki, check_hostname=False)
        ctx2.verify_mode = mojo_tls.CERT_OPTIONAL
        with mojo_tls.connect("localhost", lst.port, context=ctx2, timeout=10) as s:
            flags, reason = s.verify_result()
            assert flags != 0 and reason
            assert s.recv(10) == b"hi"
        srv.join()
    # check_hostname=True again brings verification back (as stdlib)
    ctx.check_hostname = True
    assert ctx.verify_mode == mojo_tls.CERT_REQUIRED


def test_pins(pki) -> None:
    srv, lst, _ = _serve(pki.server, count=3)
    with lst:
        # a matching certificate pin
        ctx = _client(pki)
        ctx.add_pin(pki.server.fingerprint_sha256)
        with mojo_tls.connect("localhost", lst.port, context=ctx, timeout=10) as s:
            assert s.peer_fingerprint() == pki.server.fingerprint_sha256
            spki = s.peer_fingerprint("spki")
            assert len(spki) == 32
            assert s.recv(10) == b"hi"
        # a wrong pin fails even though the chain verifies
        bad = _client(pki)
        bad.add_pin(b"\x01" * 32)
        with pytest.raises(mojo_tls.CertificateVerifyError) as ei:
            mojo_tls.connect("localhost", lst.port, context=bad, timeout=10)
        assert "pin" in ei.value.verify_reason.lower() or "pin" in ei.value.message.lower()
        # pin-only trust: no CA loaded, SPKI pin (hex form)
        only = mojo_tls.TLSContext()
        only.add_pin(spki.hex(), kind="spki")
        only.pin_only = True
        with mojo_tls.connect("127.0.0.1", lst.port, context=only, timeout=10) as s:
            assert s.recv(10) == b"hi"
        srv.join()


def test_self_signed_pin_only() -> None:
    cert = mojo_tls.generate_cert(None, "selfsigned.test", sans=["selfsigned.test"])
    srv, lst, _ = _serve(cert)
    with lst:
        ctx = mojo_tls.TLSContext()
        ctx.add_pin(cert.fingerprint_sha256)
        ctx.pin_only = True
        with mojo_tls.connect("localhost", lst.port, context=ctx, timeout=10) as s:
            assert s.recv(10) == b"hi"
        srv.join()


def test_crl_revoked(pki) -> None:
    revoked = mojo_tls.generate_cert(pki.ca, "localhost")
    crl = mojo_tls.generate_crl(pki.ca, [revoked])
    assert crl.startswith("-----BEGIN X509 CRL-----")
    srv, lst, _ = _serve(revoked, count=2)
    with lst:
        ctx = _client(pki)
        ctx.load_crl(crldata=crl)
        with pytest.raises(mojo_tls.CertificateVerifyError) as ei:
            mojo_tls.connect("localhost", lst.port, context=ctx, timeout=10)
        assert "revoked" in ei.value.verify_reason.lower()
        # without the CRL the same certificate is fine
        with mojo_tls.connect("localhost", lst.port, context=_client(pki), timeout=10) as s:
            assert s.recv(10) == b"hi"
        srv.join()


def test_generated_cert_object(pki, tmp_path) -> None:
    cert, key = pki.server
    assert cert.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" in key
    g = mojo_tls.generate_cert(pki.ca, "x", key="ec-p384")
    g.write(tmp_path / "both.pem")
    assert (tmp_path / "both.pem").stat().st_mode & 0o777 == 0o600
    g.close()
    g.close()
    assert g.cert_pem  # still available
    with pytest.raises(mojo_tls.TLSClosedError):
        mojo_tls.generate_cert(g, "y")
    with pytest.raises(ValueError):
        mojo_tls.generate_cert(pki.ca, "x", server=False, client=False)
    with pytest.raises(ValueError):
        mojo_tls.generate_ca("x", key="rsa-1024")
    with pytest.raises(TypeError):
        mojo_tls.generate_cert("not a ca", "x")  # type: ignore[arg-type]


def test_verify_result_is_structured(pki) -> None:
    # A failed constructor (connect returned NULL): flags and reason come from
    # mojo_tls_last_error_verify_flags / _reason, not from the message text.
    other_ca = mojo_tls.generate_ca("Yet another CA")
    cert = mojo_tls.generate_cert(other_ca, "localhost")
    srv, lst, _ = _serve(cert)
    with lst:
        with pytest.raises(mojo_tls.CertificateVerifyError) as ei:
            mojo_tls.connect("localhost", lst.port, context=_client(pki), timeout=10)
        srv.join()
    from mojo_tls._core import lib

    L = lib()
    e = ei.value
    assert e.verify_flags == L.mojo_tls_last_error_verify_flags() > 0
    assert e.verify_reason and "Mbed TLS -0x" not in e.verify_reason
    assert e.verify_reason in e.message
    L.mojo_tls_clear_error()
    assert L.mojo_tls_last_error_verify_flags() == mojo_tls.Err.MOJO_TLS_ERR_NOT_AVAILABLE
    assert L.mojo_tls_last_error_verify_reason(None, 0) == mojo_tls.Err.MOJO_TLS_ERR_NOT_AVAILABLE


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
def test_getpeercert_structured_names(tmp_path) -> None:
    # Values with ", X=" and " + " in them and a multi-valued RDN: what a
    # parser of the "CN=..., O=..." text got wrong, the indexed getters give.
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "2", "-keyout", str(key), "-out", str(crt), "-multivalue-rdn",
                    "-subj", "/CN=odd, O=fake \\+ more/O=Org+OU=Unit/C=DE",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"],
                   check=True, capture_output=True)
    srv_ctx = mojo_tls.TLSContext(server_side=True)
    srv_ctx.load_cert_chain(str(crt), str(key))
    cli = mojo_tls.TLSContext()
    cli.load_verify_locations(cafile=str(crt))
    with srv_ctx.listen(HOST, 0) as lst:
        def handler(conn):
            with conn:
                conn.recv(10)
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler, count=1)
        with mojo_tls.connect("localhost", lst.port, context=cli, timeout=10) as s:
            info = s.getpeercert()
            s.sendall(b"x")
        srv.join()
    want = ((("commonName", "odd, O=fake + more"),),
            (("organizationName", "Org"), ("organizationalUnitName", "Unit")),
            (("countryName", "DE"),))
    # (a multi-valued RDN is a DER SET: compare its attributes in any order)
    def norm(dn):
        return tuple(tuple(sorted(rdn)) for rdn in dn)
    assert norm(info["subject"]) == norm(want), info["subject"]
    assert norm(info["issuer"]) == norm(want), info["issuer"]
    # IPv6 as ssl writes it (eight uppercase groups, no "::")
    assert info["subjectAltName"] == (("DNS", "localhost"), ("IP Address", "127.0.0.1"),
                                      ("IP Address", "0:0:0:0:0:0:0:1"))
