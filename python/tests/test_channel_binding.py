"""get_channel_binding(): "tls-unique" equals what Python's ssl reports on
the other end (TLS 1.2; None on TLS 1.3, see README), "tls-exporter" equals
OpenSSL's exporter (openssl s_client -keymatexport) on TLS 1.2 and 1.3, and
unknown types raise ValueError as in ssl. Peers on 127.0.0.1 only."""

import re
import shutil
import socket
import ssl
import subprocess

import pytest
from conftest import HOST, ThreadServer, plain_listener, stdlib_server_context

import mojo_tls

V12, V13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3


@pytest.mark.parametrize("version", [V12, V13])
def test_tls_unique_matches_stdlib_server(pki, client_ctx, version) -> None:
    sctx = stdlib_server_context(pki)
    sctx.maximum_version = version
    lsock = plain_listener()

    def accept():
        raw, _ = lsock.accept()
        return sctx.wrap_socket(raw, server_side=True)

    def handler(conn):
        with conn:
            conn.recv(1)
            return conn.get_channel_binding("tls-unique")

    srv = ThreadServer(accept, handler)
    with client_ctx.wrap_socket(socket.create_connection(lsock.getsockname(), timeout=10),
                                server_hostname="localhost") as c:
        ours = c.get_channel_binding("tls-unique")
        exporter = c.get_channel_binding("tls-exporter")
        c.sendall(b"x")
    srv.join()
    lsock.close()
    theirs = srv.results[0]
    assert exporter is not None and len(exporter) == 32
    if version == V12:
        assert ours is not None and len(ours) == 12 and ours == theirs
    else:
        assert theirs is not None and ours is None  # Mbed TLS keeps no TLS 1.3 Finished


def test_tls_unique_our_server_stdlib_client(pki, server_ctx) -> None:
    server_ctx.maximum_version = mojo_tls.TLSVersion.TLSv1_2
    lst = server_ctx.listen(HOST, 0)

    def handler(conn):
        with conn:
            conn.recv(1)
            return conn.get_channel_binding()

    srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler)
    cctx = ssl.create_default_context(cafile=str(pki.ca_file))
    with cctx.wrap_socket(socket.create_connection((HOST, lst.port), timeout=10),
                          server_hostname="localhost") as c:
        theirs = c.get_channel_binding("tls-unique")
        c.sendall(b"x")
    srv.join()
    lst.close()
    assert theirs is not None and srv.results == [theirs]


def test_unknown_type_and_before_handshake(server_ctx, client_ctx) -> None:
    obj = client_ctx.wrap_memory(server_hostname="localhost")
    with pytest.raises(ValueError, match="not implemented"):
        obj.get_channel_binding("tls-server-end-point")
    assert obj.get_channel_binding("tls-unique") is None
    assert obj.get_channel_binding("tls-exporter") is None


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl CLI not available")
@pytest.mark.parametrize("flag,record_layer", [("-tls1_2", True), ("-tls1_3", True),
                                               ("-tls1_2", False), ("-tls1_3", False)])
def test_exporter_matches_openssl(pki, server_ctx, flag, record_layer) -> None:
    server_ctx.fast_record_layer = record_layer
    lst = server_ctx.listen(HOST, 0)

    def handler(conn):
        with conn:
            binding = conn.get_channel_binding("tls-exporter")
            conn.sendall(b"hello\n")
            return binding, conn.version()

    srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler)
    out = subprocess.run(
        ["openssl", "s_client", "-connect", f"{HOST}:{lst.port}", flag, "-servername", "localhost",
         "-CAfile", str(pki.ca_file), "-keymatexport", "EXPORTER-Channel-Binding",
         "-keymatexportlen", "32"],
        input=b"", capture_output=True, timeout=30)
    srv.join()
    lst.close()
    (binding, version), = srv.results
    m = re.search(rb"Keying material:\s*([0-9A-Fa-f]+)", out.stdout)
    assert m, out.stdout.decode(errors="replace")[-2000:]
    assert bytes.fromhex(m.group(1).decode()) == binding
    assert version == {"-tls1_2": "TLSv1.2", "-tls1_3": "TLSv1.3"}[flag]
