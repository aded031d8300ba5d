"""The real HTTP libraries against a local HTTPS server served by the package
(issue #20, items 3 and 4): http.client, urllib.request, urllib3 and
requests with a mojo_tls TLSContext; socketserver ThreadingMixIn and
ForkingMixIn servers; httpx (sync). Loopback only, every wait bounded."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from https_server import BODY, ThreadingHTTPSServer, make_server

import mojo_tls
from conftest import ECHO_SERVER_CHILD

HOST = "127.0.0.1"
SCRIPT = Path(__file__).with_name("https_server.py")


@pytest.fixture
def threading_server(server_ctx):
    srv = make_server(ThreadingHTTPSServer, server_ctx)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()
    t.join(10)


@pytest.fixture
def forking_server(pki):
    # Another process, so that its fork() happens with no pytest thread around.
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "fork", str(pki.server_cert),
                             str(pki.server_key)], stdout=subprocess.PIPE, text=True)
    try:
        yield int(proc.stdout.readline())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _http_client_checks(port: int, ctx: mojo_tls.TLSContext) -> None:
    conn = http.client.HTTPSConnection(HOST, port, timeout=10, context=ctx)
    try:
        for _ in range(3):  # keep-alive: one connection
            conn.request("GET", "/")
            r = conn.getresponse()
            assert r.status == 200 and r.read() == BODY
        # Connection: close with the body not buffered yet: http.client closes
        # the socket at once and reads the body through its makefile() file.
        conn.request("GET", "/slow-close")
        r = conn.getresponse()
        assert r.will_close and conn.sock is None
        assert r.read() == BODY
        conn.request("GET", "/until-eof")  # reconnects
        r = conn.getresponse()
        assert r.read() == BODY
    finally:
        conn.close()


def test_http_client(threading_server, client_ctx) -> None:
    _http_client_checks(threading_server, client_ctx)


def test_http_client_forking_server(forking_server, client_ctx) -> None:
    # The parent's close_request() of its copy (after the handshake it did)
    # must not end the session the child answers on.
    _http_client_checks(forking_server, client_ctx)
    pids = set()
    for _ in range(3):
        conn = http.client.HTTPSConnection(HOST, forking_server, timeout=10, context=client_ctx)
        conn.request("GET", "/pid")
        pids.add(conn.getresponse().read())
        conn.close()
    assert len(pids) == 3  # one child per connection


def test_http_client_subclass_wrapping(threading_server, client_ctx) -> None:
    # The way users plug a custom TLS layer into http.client.
    class Conn(http.client.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            self.sock = client_ctx.wrap_socket(self.sock, server_hostname=self.host)

    conn = Conn(HOST, threading_server, timeout=10)
    try:
        conn.request("GET", "/slow-close")
        assert conn.getresponse().read() == BODY
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/", "/slow-close", "/until-eof"])
def test_urlopen_with_context(threading_server, client_ctx, path) -> None:
    # urlopen closes the connection's socket before the caller reads the body.
    url = f"https://{HOST}:{threading_server}{path}"
    with urllib.request.urlopen(url, context=client_ctx, timeout=10) as r:
        assert r.status == 200
        assert r.read() == BODY


def test_urllib3_ssl_context(threading_server, client_ctx) -> None:
    urllib3 = pytest.importorskip("urllib3")
    with urllib3.PoolManager(ssl_context=client_ctx, timeout=10.0, retries=False) as pool:
        for path in ("/", "/", "/slow-close", "/until-eof", "/"):
            r = pool.request("GET", f"https://{HOST}:{threading_server}{path}")
            assert r.status == 200 and r.data == BODY
        r = pool.request("GET", f"https://{HOST}:{threading_server}/slow-close",
                         preload_content=False)
        got = b"".join(r.stream(10000))
        r.release_conn()
        assert got == BODY


def test_requests_adapter(threading_server, client_ctx, pki) -> None:
    requests = pytest.importorskip("requests")
    from requests.adapters import HTTPAdapter

    class ContextAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            kwargs["ssl_context"] = client_ctx
            return super().init_poolmanager(*args, **kwargs)

    with requests.Session() as s:
        s.mount("https://", ContextAdapter())
        for path in ("/", "/slow-close", "/until-eof", "/"):
            r = s.get(f"https://{HOST}:{threading_server}{path}", timeout=10,
                      verify=str(pki.ca_file))
            assert r.status_code == 200 and r.content == BODY
        r = s.get(f"https://{HOST}:{threading_server}/slow-close", timeout=10, stream=True,
                  verify=str(pki.ca_file))
        assert b"".join(r.iter_content(8192)) == BODY


def test_httpx_sync_client(threading_server, client_ctx) -> None:
    # httpx documents verify=<ssl.SSLContext> and uses what it is given as
    # is: httpcore sets ALPN on it and calls wrap_socket(sock, server_hostname=).
    # (httpx < 0.28 only took a real ssl.SSLContext there.)
    httpx = pytest.importorskip("httpx", minversion="0.28")
    base = f"https://{HOST}:{threading_server}"
    with httpx.Client(verify=client_ctx, timeout=10.0) as client:
        for path in ("/", "/", "/slow-close", "/until-eof", "/"):
            r = client.get(base + path)
            assert r.status_code == 200 and r.content == BODY
            assert r.http_version == "HTTP/1.1"
        with client.stream("GET", base + "/slow-close") as r:
            assert b"".join(r.iter_bytes(8192)) == BODY
        r = client.get(base + "/pid")
        assert int(r.text) == os.getpid()  # the threading server: this process
    # a context that does not trust the server's CA: the verification error
    # reaches the caller as httpx.ConnectError, caused by the package's
    # CertificateVerifyError (an ssl.SSLCertVerificationError)
    with httpx.Client(verify=mojo_tls.TLSContext(), timeout=10.0) as client:
        with pytest.raises(httpx.ConnectError) as ei:
            client.get(base + "/")
    chain, exc = [], ei.value  # httpx.ConnectError <- httpcore.ConnectError <- ours
    while exc is not None and len(chain) < 10:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    assert any(isinstance(e, mojo_tls.CertificateVerifyError) for e in chain), chain


# -- fork: the parent closes its copy, the child goes on ---------------------------------



def test_parent_closing_its_copy_leaves_the_child_session(pki, client_ctx) -> None:
    # ForkingMixIn's pattern: the parent handshakes, forks, closes its copy;
    # the child carries the session on and ends it.
    srv = subprocess.Popen([sys.executable, "-c", ECHO_SERVER_CHILD, str(pki.server_cert), str(pki.server_key)],
                           stdout=subprocess.PIPE, text=True)
    try:
        port = int(srv.stdout.readline())
        s = mojo_tls.connect(HOST, port, context=client_ctx, timeout=20)
        data = os.urandom(256 * 1024)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: use the session, never return into pytest
            code = 1
            try:
                os.close(w)
                os.read(r, 1)  # EOF once the parent has closed its copy
                for i in range(0, len(data), 65536):
                    s.sendall(data[i:i + 65536])
                    got = b""
                    while len(got) < 65536:
                        part = s.recv(65536 - len(got))
                        assert part
                        got += part
                    assert got == data[i:i + 65536]
                s.shutdown(socket.SHUT_WR)
                code = 0
            except BaseException:  # noqa: BLE001 - reported by the exit code
                pass
            finally:
                os._exit(code)
        os.close(r)
        s.close()  # the parent, the session's owner, drops its copy first
        os.close(w)
        deadline = time.monotonic() + 30
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                raise AssertionError("the child did not finish")
            time.sleep(0.01)
        assert os.waitstatus_to_exitcode(status) == 0
        result = json.loads(srv.stdout.readline())
        assert srv.wait(timeout=20) == 0
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
        srv.stdout.close()
    assert result == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "end": "eof"}
