"""Session resumption, SNI certificate selection, key log, client auth."""

import pytest
from conftest import HOST, ThreadServer, accept_or_error, memory_handshake, pump, take_tickets

import mojo_tls


def _server(ctx: mojo_tls.TLSContext, count: int, handler=None):
    lst = ctx.listen(HOST, 0)

    def accept():
        return accept_or_error(lst)

    def default(conn):
        if isinstance(conn, Exception):
            return conn
        with conn:
            info = {"reused": conn.session_reused, "sni": conn.server_name_indication(),
                    "peer": conn.getpeercert()}
            conn.sendall(b"ok")
            # wait for the client to leave: its close() sends no close_notify (as ssl's)
            conn.suppress_ragged_eofs = True
            assert conn.recv(10) == b""
            return info

    return ThreadServer(accept, handler or default, count), lst


@pytest.mark.parametrize("mechanism", ["tickets", "cache"])
def test_session_resumption(server_ctx, client_ctx, mechanism) -> None:
    if mechanism == "tickets":
        server_ctx.enable_session_tickets(3600)
    else:
        # the session cache serves TLS 1.2; TLS 1.3 resumes by ticket only
        server_ctx.set_session_cache(100, 300)
        server_ctx.maximum_version = mojo_tls.TLSVersion.TLSv1_2
    srv, lst = _server(server_ctx, 3)
    with lst:
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10) as s:
            assert s.recv(2) == b"ok"
            assert not s.session_reused
            session = s.session
        assert isinstance(session, mojo_tls.TLSSession) and len(bytes(session)) > 0
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10,
                              session=session) as s:
            assert s.recv(2) == b"ok"
            assert s.session_reused
        # a corrupted session only means a full handshake
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10,
                              session=b"garbage") as s:
            assert s.recv(2) == b"ok"
            assert not s.session_reused
        srv.join()
    assert [r["reused"] for r in srv.results] == [False, True, False]


def test_session_in_memory_mode(server_ctx, client_ctx) -> None:
    server_ctx.enable_session_tickets()
    c = client_ctx.wrap_memory(server_hostname="localhost")
    s = server_ctx.wrap_memory()
    memory_handshake(c, s)
    take_tickets(c, s)  # TLS 1.3: the ticket follows the handshake
    sess = c.session
    assert sess is not None and not c.session_reused
    c2 = client_ctx.wrap_memory(server_hostname="localhost", session=sess)
    s2 = server_ctx.wrap_memory()
    memory_handshake(c2, s2)
    assert c2.session_reused and s2.session_reused
    for x in (c, s, c2, s2):
        x.close()


@pytest.mark.parametrize("client_opt,server_opt,outcome",
                         [(False, True, "psk_dhe_ke"), (True, True, "psk_ke"), (True, False, "fails")])
def test_resumption_without_forward_secrecy(server_ctx, client_ctx, client_opt, server_opt, outcome) -> None:
    assert client_ctx.resumption_without_forward_secrecy is False
    with pytest.raises(TypeError):
        client_ctx.resumption_without_forward_secrecy = 1
    client_ctx.resumption_without_forward_secrecy = client_opt
    server_ctx.resumption_without_forward_secrecy = server_opt
    assert client_ctx.resumption_without_forward_secrecy is client_opt
    server_ctx.enable_session_tickets()
    c = client_ctx.wrap_memory(server_hostname="localhost")
    s = server_ctx.wrap_memory()
    memory_handshake(c, s)
    take_tickets(c, s)
    c2 = client_ctx.wrap_memory(server_hostname="localhost", session=c.session)
    s2 = server_ctx.wrap_memory()
    if outcome == "fails":
        # An opted-in client resumes with psk_ke alone (no key share): a
        # server that does not allow it cannot resume it, nor fall back.
        with pytest.raises(mojo_tls.TLSHandshakeError):  # the server's refusal
            memory_handshake(c2, s2)
        pump(c2, s2)  # its alert
        with pytest.raises(mojo_tls.TLSHandshakeError, match="psk_ke"):
            c2.do_handshake()
    else:
        # A server that allows psk_ke still resumes a default client
        # (psk_dhe_ke); both opted in, psk_ke.
        memory_handshake(c2, s2)
        assert (c2.session_reused, s2.session_reused) == (True, True)
    for x in (c, s, c2, s2):
        x.close()


def test_ticket_keys_shared_between_servers(pki, client_ctx) -> None:
    def server(keys: bytes) -> mojo_tls.TLSContext:
        ctx = mojo_tls.TLSContext(server_side=True)
        ctx.load_cert_chain(pki.server_cert, pki.server_key)
        ctx.set_ticket_keys(keys)
        return ctx

    def visit(server_ctx, session=None):
        c = client_ctx.wrap_memory(server_hostname="localhost", session=session)
        s = server_ctx.wrap_memory()
        memory_handshake(c, s)
        take_tickets(c, s)
        out = (c.session_reused, s.session_reused, c.session)
        c.close()
        s.close()
        return out

    # two contexts stand for two servers (separate processes in tests/c)
    a, b, other = server(b"k" * 32), server(b"k" * 32), server(b"x" * 32)
    reused_c, reused_s, session = visit(a)
    assert not reused_c and not reused_s
    assert visit(b, session)[:2] == (True, True)
    assert visit(other, session)[:2] == (False, False)
    # rotation: a new first key, the old one still opens tickets
    other.set_ticket_keys(b"n" * 32 + b"k" * 32)
    assert visit(other, session)[:2] == (True, True)
    for bad in (b"", b"k" * 31, b"k" * 33, b"k" * 32 * 9):
        with pytest.raises(ValueError):
            a.set_ticket_keys(bad)
    with pytest.raises(TypeError):
        a.set_ticket_keys("k" * 32)
    with pytest.raises(mojo_tls.TLSError):
        client_ctx.set_ticket_keys(b"k" * 32)
    for ctx in (a, b, other):
        ctx.close()


def test_sni_selects_certificate(pki) -> None:
    a = mojo_tls.generate_cert(pki.ca, "a.test", sans=["a.test"])
    b = mojo_tls.generate_cert(pki.ca, "b.test", sans=["b.test", "*.b.test"])
    ctx = mojo_tls.TLSContext(server_side=True)
    ctx.load_cert_chain_data(*a)
    ctx.load_cert_chain_data(*b)
    srv, lst = _server(ctx, 3)
    with lst:
        names = []
        for want in ("a.test", "b.test", "x.b.test"):
            cctx = mojo_tls.TLSContext()
            cctx.load_verify_locations(cadata=pki.ca.cert_pem)
            # connect to 127.0.0.1 but verify/send the test name
            import socket
            raw = socket.create_connection((HOST, lst.port), timeout=10)
            with cctx.wrap_socket(raw, server_hostname=want) as s:
                assert s.recv(2) == b"ok"
                names.append(dict(x[0] for x in s.getpeercert()["subject"])["commonName"])
                assert s.server_name_indication() == want
        srv.join()
    assert names == ["a.test", "b.test", "b.test"]
    assert [r["sni"] for r in srv.results] == ["a.test", "b.test", "x.b.test"]


def test_keylog_file(server_ctx, client_ctx, tmp_path) -> None:
    path = tmp_path / "keys.log"
    client_ctx.keylog_filename = path
    assert client_ctx.keylog_filename == str(path)
    srv, lst = _server(server_ctx, 1)
    with lst:
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10) as s:
            assert s.recv(2) == b"ok"
            version = s.version()
        srv.join()
    lines = path.read_text().splitlines()
    labels = [line.split()[0] for line in lines]
    if version == "TLSv1.3":
        assert sorted(labels) == ["CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
                                  "SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"]
    else:
        assert labels == ["CLIENT_RANDOM"]
    assert all(len(line.split()) == 3 for line in lines)
    assert len({line.split()[1] for line in lines}) == 1  # one client random
    client_ctx.keylog_filename = None


def test_client_auth_our_both_sides(pki, server_ctx) -> None:
    server_ctx.load_verify_locations(pki.ca_file)
    server_ctx.verify_mode = mojo_tls.CERT_REQUIRED
    srv, lst = _server(server_ctx, 2)
    with lst:
        with_cert = mojo_tls.TLSContext()
        with_cert.load_verify_locations(pki.ca_file)
        with_cert.load_cert_chain(pki.client_cert, pki.client_key)
        with mojo_tls.connect("localhost", lst.port, context=with_cert, timeout=10) as s:
            assert s.recv(2) == b"ok"
        without = mojo_tls.TLSContext()
        without.load_verify_locations(pki.ca_file)
        with pytest.raises(mojo_tls.TLSError):
            with mojo_tls.connect("localhost", lst.port, context=without, timeout=10) as s:
                s.recv(2)  # TLS 1.2: may fail at the handshake or at the first read
        srv.join()
    assert srv.results[0]["peer"]["subject"] == ((("commonName", "pytest client"),),)
    assert isinstance(srv.results[1], mojo_tls.TLSError)


def test_client_auth_optional(pki, server_ctx, client_ctx) -> None:
    server_ctx.load_verify_locations(pki.ca_file)
    server_ctx.verify_mode = mojo_tls.CERT_OPTIONAL
    srv, lst = _server(server_ctx, 1)
    with lst:
        with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10) as s:
            assert s.recv(2) == b"ok"
        srv.join()
    assert srv.results[0]["peer"] is None


@pytest.mark.parametrize("scheme", [
    pytest.param([], id="openssl-default-aes256-sha256"),
    pytest.param(["-v2", "des3"], id="des3-sha256"),
    # OpenSSL 1.x's default PRF for PKCS#8 v2.
    pytest.param(["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA1"], id="aes256-sha1"),
])
def test_encrypted_key(pki, tmp_path, scheme) -> None:
    # Encrypted PKCS#8 keys made by the openssl CLI, when available.
    import shutil
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("openssl CLI not available")
    enc = tmp_path / "enc.key"
    subprocess.run(["openssl", "pkcs8", "-topk8", "-in", str(pki.server_key), "-out", str(enc),
                    "-passout", "pass:s3cret", *scheme], check=True, capture_output=True, timeout=30)
    ctx = mojo_tls.TLSContext(server_side=True)
    with pytest.raises(mojo_tls.TLSBadPasswordError):
        ctx.load_cert_chain(pki.server_cert, enc)
    with pytest.raises(mojo_tls.TLSBadPasswordError):
        ctx.load_cert_chain(pki.server_cert, enc, password="wrong")
    ctx.load_cert_chain(pki.server_cert, enc, password=b"s3cret")
    ctx.load_cert_chain(pki.server_cert, enc, password=lambda: "s3cret")
    ctx.close()
