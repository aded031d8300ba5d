"""Behave like the stdlib ssl module where ported code expects it (issue
#20 items 5, 6, 7, 10): TLSContext attributes, load_verify_locations
de-duplication, ssl's exception classes, getpeercert()'s serialNumber and
IPv6 entries, the host name mismatch message."""

import asyncio
import errno
import os
import pickle
import socket
import ssl
import struct
import threading
import time
import warnings

import pytest
from conftest import HOST, ThreadServer, accept_or_error, memory_handshake, pump

import mojo_tls


def _serve(cert, count=1, handler=None):
    ctx = mojo_tls.TLSContext(server_side=True)
    ctx.load_cert_chain_data(cert.cert_pem, cert.key_pem)
    lst = ctx.listen(HOST, 0)

    def accept():
        return accept_or_error(lst)

    def default(conn):
        if isinstance(conn, Exception):
            return conn
        with conn:
            try:
                conn.sendall(b"hi")
                conn.recv(10)
            except OSError:
                pass
        return None

    return ThreadServer(accept, handler or default, count), lst, ctx


def _client(pki, **settings):
    ctx = mojo_tls.TLSContext()
    ctx.load_verify_locations(cadata=pki.ca.cert_pem)
    for k, v in settings.items():
        setattr(ctx, k, v)
    return ctx


# -- item 5: TLSContext attributes --------------------------------------------------


def test_unknown_attribute_raises() -> None:
    ctx = mojo_tls.TLSContext()
    with pytest.raises(AttributeError, match="check_hostnme"):
        ctx.check_hostnme = False  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        ctx.not_a_setting = 1  # type: ignore[attr-defined]
    ctx.check_hostname = True  # real ones still work


def test_protocol_constants() -> None:
    c = mojo_tls.TLSContext(ssl.PROTOCOL_TLS_CLIENT)
    assert not c.server_side and c.check_hostname and c.verify_mode == mojo_tls.CERT_REQUIRED
    assert c.protocol == ssl.PROTOCOL_TLS_CLIENT
    s = mojo_tls.TLSContext(ssl.PROTOCOL_TLS_SERVER)
    assert s.server_side and s.protocol == ssl.PROTOCOL_TLS_SERVER
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PROTOCOL_TLS is deprecated
        proto_tls = ssl.PROTOCOL_TLS
        ref = ssl.SSLContext(proto_tls)
    t = mojo_tls.TLSContext(proto_tls)
    assert (t.check_hostname, int(t.verify_mode)) == (ref.check_hostname, int(ref.verify_mode))
    assert mojo_tls.TLSContext(proto_tls, server_side=True).server_side
    with pytest.raises(ValueError):
        mojo_tls.TLSContext(3)  # PROTOCOL_TLSv1


def test_options() -> None:
    ctx = mojo_tls.TLSContext()
    for op in (ssl.OP_NO_SSLv2, ssl.OP_NO_SSLv3, ssl.OP_NO_TLSv1, ssl.OP_NO_TLSv1_1,
               ssl.OP_NO_COMPRESSION):
        assert ctx.options & op == op
    ctx.options |= ssl.OP_NO_SSLv3 | ssl.OP_NO_TLSv1 | ssl.OP_NO_TLSv1_1 | ssl.OP_ALL
    ctx.options |= ssl.OP_NO_TLSv1_2
    assert ctx.minimum_version == mojo_tls.TLSVersion.TLSv1_3
    ctx.options &= ~ssl.OP_NO_TLSv1_2
    assert ctx.minimum_version == mojo_tls.TLSVersion.TLSv1_2
    ctx.options &= ~ssl.OP_NO_TLSv1  # as ssl with minimum_version 1.2: no TLS 1.0 all the same
    assert ctx.options & ssl.OP_NO_TLSv1 and ctx.minimum_version == mojo_tls.TLSVersion.TLSv1_2
    # ssl's own defaults minus what cannot be honoured (they lack OP_NO_RENEGOTIATION).
    unsupported = (getattr(ssl, "OP_CIPHER_SERVER_PREFERENCE", 0)
                   | getattr(ssl, "OP_ENABLE_MIDDLEBOX_COMPAT", 0))
    ctx.options = ssl.create_default_context().options & ~unsupported
    with pytest.raises(NotImplementedError):
        ctx.options |= ssl.OP_NO_TICKET
    with pytest.raises(NotImplementedError):
        ctx.options |= ssl.OP_IGNORE_UNEXPECTED_EOF
    with pytest.raises(ValueError):
        ctx.options |= ssl.OP_NO_TLSv1_2 | ssl.OP_NO_TLSv1_3


def test_verify_flags(pki) -> None:
    ctx = mojo_tls.TLSContext()
    assert ctx.verify_flags & ssl.VERIFY_X509_TRUSTED_FIRST
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    assert ctx.verify_flags & ssl.VERIFY_X509_STRICT
    ctx.verify_flags &= ~ssl.VERIFY_X509_STRICT
    with pytest.raises(NotImplementedError):
        ctx.verify_flags |= getattr(ssl, "VERIFY_ALLOW_PROXY_CERTS", 0x40)  # 3.10+
    with pytest.raises(ValueError, match="load_crl"):
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF  # no CRL: cannot be honoured
    ctx.load_crl(crldata=mojo_tls.generate_crl(pki.ca, []))
    ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    assert ctx.verify_flags & ssl.VERIFY_CRL_CHECK_LEAF
    with pytest.raises(ValueError):
        ctx.verify_flags &= ~ssl.VERIFY_CRL_CHECK_CHAIN


def test_hostname_checks_common_name_false_rejects_cn_only(pki) -> None:
    cn_only = mojo_tls.generate_cert(pki.ca, "localhost", sans=None)
    # The default (True, as ssl) accepts the CN.
    srv, lst, _ = _serve(cn_only)
    with lst:
        with mojo_tls.connect("localhost", lst.port, context=_client(pki), timeout=10) as s:
            assert s.recv(2) == b"hi"
        srv.join()
    # False: rejected, with ssl's exception and code, before any data.
    srv, lst, _ = _serve(cn_only)
    with lst:
        ctx = _client(pki, hostname_checks_common_name=False)
        with pytest.raises(ssl.SSLCertVerificationError) as ei:
            mojo_tls.connect("localhost", lst.port, context=ctx, timeout=10)
        assert ei.value.verify_code == 62
        assert "localhost" in ei.value.verify_message
        srv.join()
    # Also through wrap_socket without an immediate handshake: the first
    # send/recv completes it and checks before any data moves.
    srv, lst, _ = _serve(cn_only)
    with lst:
        sock = socket.create_connection((HOST, lst.port), timeout=10)
        tls = ctx.wrap_socket(sock, server_hostname="localhost", do_handshake_on_connect=False)
        with pytest.raises(mojo_tls.CertificateVerifyError):
            tls.sendall(b"secret")
        with pytest.raises(mojo_tls.CertificateVerifyError):
            tls.recv(10)
        tls.close()
        srv.join()
    # A SAN certificate passes with False.
    srv, lst, _ = _serve(pki.server)
    with lst:
        with mojo_tls.connect("localhost", lst.port, context=ctx, timeout=10) as s:
            assert s.recv(2) == b"hi"
        srv.join()


def test_hostname_checks_common_name_memory_and_asyncio(pki) -> None:
    cn_only = mojo_tls.generate_cert(pki.ca, "localhost", sans=None)
    sctx = mojo_tls.TLSContext(server_side=True)
    sctx.load_cert_chain_data(cn_only.cert_pem, cn_only.key_pem)
    cctx = _client(pki, hostname_checks_common_name=False)
    # Memory mode: do_handshake raises; read/write keep raising, nothing is encrypted.
    cli = cctx.wrap_memory(server_hostname="localhost")
    srv = sctx.wrap_memory()
    with pytest.raises(ssl.SSLCertVerificationError):
        memory_handshake(cli, srv)
    with pytest.raises(mojo_tls.CertificateVerifyError):
        cli.write(b"secret")
    with pytest.raises(mojo_tls.CertificateVerifyError):
        cli.read(10)
    cli.close()
    srv.close()

    # Memory mode without an explicit handshake: the first write does it and checks.
    cli = cctx.wrap_memory(server_hostname="localhost")
    srv = sctx.wrap_memory()
    for _ in range(10):
        try:
            cli.write(b"secret")
        except mojo_tls.TLSWantReadError:
            pass
        except mojo_tls.CertificateVerifyError:
            break
        try:
            srv.do_handshake()
        except mojo_tls.TLSWantReadError:
            pass
        pump(cli, srv)
    else:
        raise AssertionError("the CN-only certificate was accepted")
    with pytest.raises(mojo_tls.TLSWantReadError):
        srv.read(10)  # no application data reached the server
    cli.close()
    srv.close()

    # asyncio streams (built on memory mode).
    async def main() -> None:
        async def handler(reader, writer):
            writer.close()

        server = await mojo_tls.start_server(handler, HOST, 0, context=sctx)
        port = server.sockets[0].getsockname()[1]
        async with server:
            with pytest.raises(ssl.SSLCertVerificationError):
                await mojo_tls.open_connection(HOST, port, context=cctx,
                                               server_hostname="localhost")

    asyncio.run(asyncio.wait_for(main(), 30))


# -- item 6: load_verify_locations de-duplicates ---------------------------------------


def _rss():
    """This process's resident set in bytes (Linux), or None."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@pytest.fixture(scope="module")
def big_bundle(tmp_path_factory):
    """A bundle the size of certifi's (about 140 roots)."""
    cas = [mojo_tls.generate_ca(f"bundle CA {i}") for i in range(140)]
    pem = "".join(ca.cert_pem for ca in cas)
    path = tmp_path_factory.mktemp("bundle") / "cacert.pem"
    path.write_text(pem)
    return path, pem


def test_load_verify_locations_dedup(big_bundle, tmp_path) -> None:
    path, pem = big_bundle
    ctx = mojo_tls.TLSContext()
    ctx.load_verify_locations(path)
    rss_before = _rss()
    for _ in range(200):
        ctx.load_verify_locations(path)
        ctx.load_verify_locations(str(path))
        ctx.load_verify_locations(cadata=pem)
        ctx.load_verify_locations(cadata=pem.encode())
    # One load reached the library, not 801 (the cadata is the file's content).
    assert ctx._ca_loads == 1
    if rss_before is not None:  # memory stays flat (each real load would add ~100 KiB)
        assert _rss() - rss_before < 8 << 20
    d = tmp_path / "capath"
    d.mkdir()
    (d / "a.pem").write_text(pem)
    for _ in range(50):
        ctx.load_verify_locations(capath=d)
    assert ctx._ca_loads == 2
    # The same bundle under another name (or a copy of cadata) adds nothing.
    path2 = tmp_path / "other.pem"
    path2.write_text(pem)
    ctx.load_verify_locations(path2)
    assert ctx._ca_loads == 2
    # A changed file is loaded again.
    path2.write_text(pem + mojo_tls.generate_ca("one more").cert_pem)
    ctx.load_verify_locations(path2)
    assert ctx._ca_loads == 3
    # Each context keeps its own record.
    other = mojo_tls.TLSContext()
    other.load_verify_locations(path)
    assert other._ca_loads == 1
    # The system store too (when there is one).
    sys_ctx = mojo_tls.TLSContext()
    try:
        sys_ctx.load_default_certs()
    except mojo_tls.TLSFileNotFoundError:
        pass
    else:
        for _ in range(20):
            sys_ctx.load_default_certs()
            sys_ctx.set_default_verify_paths()
        assert sys_ctx._ca_loads == 1
    # Errors still come from the library (and nothing is remembered).
    with pytest.raises(mojo_tls.TLSFileNotFoundError):
        ctx.load_verify_locations(tmp_path / "missing.pem")
    with pytest.raises(mojo_tls.TLSFileNotFoundError):
        ctx.load_verify_locations(tmp_path / "missing.pem")


# -- item 7: ssl's exceptions ------------------------------------------------------------


def test_exception_hierarchy() -> None:
    assert issubclass(mojo_tls.TLSError, ssl.SSLError)
    assert issubclass(mojo_tls.CertificateVerifyError, ssl.SSLCertVerificationError)
    assert issubclass(mojo_tls.TLSWantReadError, ssl.SSLWantReadError)
    assert issubclass(mojo_tls.TLSWantWriteError, ssl.SSLWantWriteError)
    assert issubclass(mojo_tls.TLSTimeoutError, TimeoutError)
    assert issubclass(mojo_tls.TLSTimeoutError, socket.timeout)
    assert issubclass(mojo_tls.TLSConnectionResetError, ConnectionResetError)
    assert issubclass(mojo_tls.TLSConnectionResetError, mojo_tls.TLSClosedError)
    assert issubclass(mojo_tls.TLSConnectionRefusedError, ConnectionRefusedError)
    assert issubclass(mojo_tls.TLSConnectionRefusedError, mojo_tls.TLSConnectError)
    e = mojo_tls.TLSError("boom", int(mojo_tls.Err.MOJO_TLS_ERR_HANDSHAKE))
    assert str(e) == "[MOJO_TLS_ERR_HANDSHAKE] boom"
    assert e.library == "mojo_tls" and e.reason == "MOJO_TLS_ERR_HANDSHAKE"


def test_exceptions_pickle() -> None:
    E = mojo_tls.errors
    for e in (E.TLSError("x", -9), E.TLSTimeoutError("t", -3), E.TLSConnectionResetError("r"),
              E.TLSConnectionRefusedError("c", -15, errno=errno.ECONNREFUSED),
              E.CertificateVerifyError("library text", -8, "reason", 4, "localhost", "connect"),
              E.CertificateVerifyError("library text", -8)):
        f = pickle.loads(pickle.dumps(e))
        assert type(f) is type(e)
        assert (str(f), f.errno, f.args, f.code) == (str(e), e.errno, e.args, e.code)
        if isinstance(e, ssl.SSLCertVerificationError):
            assert (f.verify_code, f.verify_message) == (e.verify_code, e.verify_message)


def test_requests_style_catch_untrusted(pki) -> None:
    """Code written for ssl (requests, urllib3) catches ours."""
    other = mojo_tls.generate_ca("Some other CA")
    srv, lst, _ = _serve(mojo_tls.generate_cert(other, "localhost"))
    with lst:
        try:
            mojo_tls.connect("localhost", lst.port, context=_client(pki), timeout=10)
        except ssl.SSLCertVerificationError as exc:
            caught = exc
        srv.join()
    assert isinstance(caught, ssl.SSLError)
    assert caught.verify_code == 20
    assert caught.verify_message == "unable to get local issuer certificate"
    assert caught.verify_flags and caught.verify_reason


def test_hostname_mismatch_message(pki) -> None:
    cert = mojo_tls.generate_cert(pki.ca, "elsewhere.example", sans=["elsewhere.example"])
    srv, lst, _ = _serve(cert, count=2)
    with lst:
        with pytest.raises(ssl.SSLCertVerificationError) as ei:
            mojo_tls.connect("localhost", lst.port, context=_client(pki), timeout=10)
        e = ei.value
        assert e.verify_code == 62
        assert e.verify_message == "Hostname mismatch, certificate is not valid for 'localhost'."
        assert "'localhost'" in str(e)
        assert "Common Name" not in str(e)
        # An IP address: ssl's IP wording.
        with pytest.raises(ssl.SSLCertVerificationError) as ei:
            mojo_tls.connect(HOST, lst.port, context=_client(pki), timeout=10)
        assert ei.value.verify_code == 64
        assert ei.value.verify_message == f"IP address mismatch, certificate is not valid for '{HOST}'."
        srv.join()


def test_reset_is_connection_reset_error(pki, server_ctx, client_ctx) -> None:
    lst = server_ctx.listen(HOST, 0)

    def handler(conn):
        conn.sendall(b"x")
        with socket.socket(fileno=os.dup(conn.fileno())) as raw:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.abandon()  # closes the last fd copy: an RST (linger 0)

    srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler, count=1)
    with lst:
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10) as s:
            assert s.recv(1) == b"x"
            srv.join()
            with pytest.raises(ConnectionResetError) as ei:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    s.recv(10)
            assert ei.value.errno == errno.ECONNRESET
            assert isinstance(ei.value, mojo_tls.TLSClosedError)


def test_reset_during_handshake_is_connection_reset_error() -> None:
    with socket.socket() as srv:
        srv.bind((HOST, 0))
        srv.listen(2)
        srv.settimeout(10)

        def handler(conn):
            with conn:
                conn.settimeout(10)
                conn.recv(10)  # part of the ClientHello
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

        port = srv.getsockname()[1]
        for kwargs in ({}, {"server_hostname": "localhost"}):  # library connect, wrap_socket
            t = ThreadServer(lambda: srv.accept()[0], handler, count=1)
            with pytest.raises(ConnectionResetError) as ei:
                mojo_tls.connect(HOST, port, timeout=10, **kwargs)
            assert ei.value.errno == errno.ECONNRESET
            t.join()


@pytest.mark.parametrize("version", ["TLSv1_2", "TLSv1_3"])
def test_clean_close_is_not_reset(server_ctx, client_ctx, version) -> None:
    client_ctx.maximum_version = getattr(mojo_tls.TLSVersion, version)
    lst = server_ctx.listen(HOST, 0)
    peer_done = threading.Event()

    def handler(conn):
        with conn:
            conn.sendall(b"x")
            # close() sends nothing (as ssl's); the clean end is explicit
            conn.shutdown(socket.SHUT_WR)
            peer_done.wait(10)

    srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler, count=1)
    with lst:
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10) as s:
            assert s.recv(1) == b"x"
            assert s.recv(1) == b""
            if version == "TLSv1_3":
                # TLS 1.3 closes each direction on its own: as with ssl, this
                # side may still send after the peer's close_notify.
                s.sendall(b"after close_notify")
            else:
                with pytest.raises(mojo_tls.TLSClosedError) as ei:
                    s.sendall(b"after close_notify")
                assert not isinstance(ei.value, ConnectionResetError)
            peer_done.set()
            srv.join()


def test_refused_and_address_in_use(server_ctx, client_ctx) -> None:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionRefusedError) as ei:
        mojo_tls.connect(HOST, port, context=client_ctx, timeout=5)
    assert ei.value.errno == errno.ECONNREFUSED
    assert isinstance(ei.value, mojo_tls.TLSConnectError)  # the old name still catches it
    with socket.socket() as busy:
        busy.bind((HOST, 0))
        busy.listen(1)
        with pytest.raises(OSError) as ei:
            mojo_tls.listen(HOST, busy.getsockname()[1], context=server_ctx)
    assert ei.value.errno == errno.EADDRINUSE
    assert not isinstance(ei.value, ConnectionError)


def test_timeout_is_socket_timeout(server_ctx, client_ctx) -> None:
    lst = server_ctx.listen(HOST, 0)
    done = threading.Event()

    def handler(conn):
        done.wait(10)
        conn.close()

    srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler, count=1)
    with lst:
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10) as s:
            s.settimeout(0.2)
            with pytest.raises(socket.timeout) as ei:
                s.recv(10)
            assert isinstance(ei.value, TimeoutError)
            assert isinstance(ei.value, mojo_tls.TLSTimeoutError)
        done.set()
        srv.join()


# -- item 10: getpeercert() as ssl ------------------------------------------------------


def test_getpeercert_matches_ssl_decoder(pki, tmp_path) -> None:
    cert = mojo_tls.generate_cert(pki.ca, "localhost",
                                  sans=["localhost", "127.0.0.1", "::1", "2001:db8::1"])
    srv, lst, _ = _serve(cert)
    with lst:
        with mojo_tls.connect("localhost", lst.port, context=_client(pki), timeout=10) as s:
            ours = s.getpeercert()
            s.recv(2)
        srv.join()
    pem = tmp_path / "peer.pem"
    pem.write_text(cert.cert_pem)
    ref = ssl._ssl._test_decode_cert(str(pem))  # the decoder behind ssl's getpeercert()
    assert ours["serialNumber"] == ref["serialNumber"]
    assert ours["subjectAltName"] == ref["subjectAltName"]
    assert ("IP Address", "2001:DB8:0:0:0:0:0:1") in ours["subjectAltName"]
    for key in ("subject", "issuer", "notBefore", "notAfter", "version"):
        assert ours[key] == ref[key], key
