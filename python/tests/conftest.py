"""Shared fixtures: a test PKI generated with mojo_tls itself, and small
loopback servers (stdlib ssl and mojo_tls) run in threads with time limits."""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional

import pytest

import mojo_tls

HOST = "127.0.0.1"

# An echo server for a child process (python -c ECHO_SERVER_CHILD cert key):
# prints its port, echoes one connection, then prints what it received
# (bytes, sha256) and how the stream ended ("eof" or the exception's name).
ECHO_SERVER_CHILD = r"""
import hashlib, json, sys
import mojo_tls
ctx = mojo_tls.TLSContext(server_side=True)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
with ctx.listen("127.0.0.1", 0) as lst:
    print(lst.port, flush=True)
    conn, _ = lst.accept(timeout=20)
    conn.settimeout(20)
    h, n, end = hashlib.sha256(), 0, "eof"
    with conn:
        while True:
            try:
                data = conn.recv(65536)
            except mojo_tls.TLSError as exc:
                end = type(exc).__name__
                break
            if not data:
                break
            h.update(data)
            n += len(data)
            conn.sendall(data)
print(json.dumps({"bytes": n, "sha256": h.hexdigest(), "end": end}), flush=True)
"""


@dataclass
class PKI:
    ca: mojo_tls.GeneratedCert
    server: mojo_tls.GeneratedCert
    client: mojo_tls.GeneratedCert
    ca_file: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    dir: Path


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    d = tmp_path_factory.mktemp("pki")
    ca = mojo_tls.generate_ca("mojo-tls pytest CA")
    server = mojo_tls.generate_cert(ca, "localhost", sans=["localhost", "127.0.0.1"])
    client = mojo_tls.generate_cert(ca, "pytest client", sans=None, server=False, client=True)
    (d / "ca.pem").write_text(ca.cert_pem)
    server.write(d / "server.crt", d / "server.key")
    client.write(d / "client.crt", d / "client.key")
    return PKI(ca, server, client, d / "ca.pem", d / "server.crt", d / "server.key",
               d / "client.crt", d / "client.key", d)


@pytest.fixture
def server_ctx(pki: PKI) -> mojo_tls.TLSContext:
    ctx = mojo_tls.TLSContext(server_side=True)
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    yield ctx
    ctx.close()


@pytest.fixture
def client_ctx(pki: PKI) -> mojo_tls.TLSContext:
    ctx = mojo_tls.TLSContext()
    ctx.load_verify_locations(pki.ca_file)
    yield ctx
    ctx.close()


def accept_or_error(lst: mojo_tls.TLSListener, timeout: float = 10) -> "mojo_tls.TLSSocket | Exception":
    """The next connection of `lst`, or the TLSError accepting it raised (tests
    of failing handshakes hand it to their handler)."""
    try:
        return lst.accept(timeout=timeout)[0]
    except mojo_tls.TLSError as exc:
        return exc


class ThreadServer:
    """Runs `handler(conn)` for up to `count` connections accepted by `accept`
    in a thread; exceptions are collected and re-raised by `join()`."""

    def __init__(self, accept: Callable[[], object], handler: Callable[[object], None],
                 count: int = 1) -> None:
        self.errors: List[BaseException] = []
        self.results: List[object] = []
        self._accept = accept
        self._handler = handler
        self._count = count
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for _ in range(self._count):
            try:
                conn = self._accept()
            except BaseException as exc:  # noqa: BLE001 - reported by join()
                self.errors.append(exc)
                return
            try:
                self.results.append(self._handler(conn))
            except BaseException as exc:  # noqa: BLE001
                self.errors.append(exc)

    def join(self, timeout: float = 20) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "server thread did not finish in time"
        if self.errors:
            raise self.errors[0]


def stdlib_server_context(pki: PKI, *, require_client: bool = False,
                          alpn: Optional[List[str]] = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(pki.server_cert), str(pki.server_key))
    if require_client:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(str(pki.ca_file))
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def stdlib_client_context(pki: PKI) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca_file))
    return ctx


def plain_listener() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, 0))
    s.listen(16)
    s.settimeout(15)
    return s


# --- memory mode: two TLSObjects talking through Python bytes ---------------

def pump(a: mojo_tls.TLSObject, b: mojo_tls.TLSObject) -> None:
    """Move all pending ciphertext both ways until quiet (bounded)."""
    for _ in range(50):
        moved = False
        for src, dst in ((a, b), (b, a)):
            out = src.drain()
            if out:
                dst.feed(out)
                moved = True
        if not moved:
            return
    raise AssertionError("pump did not settle")


def take_tickets(client: mojo_tls.TLSObject, server: mojo_tls.TLSObject) -> None:
    """TLS 1.3: let the client read what follows the handshake (the server's
    NewSessionTicket), so its session can resume. No-op data-wise."""
    pump(client, server)
    try:
        client.read(1)
    except mojo_tls.TLSWantReadError:
        pass
    pump(client, server)


def memory_handshake(a: mojo_tls.TLSObject, b: mojo_tls.TLSObject) -> None:
    """Step both memory-mode objects' handshakes, pumping between steps (bounded)."""
    for _ in range(20):
        done = True
        for x in (a, b):
            if not x.handshake_done:
                try:
                    x.do_handshake()
                except mojo_tls.TLSWantReadError:
                    done = False
        pump(a, b)
        if done and a.handshake_done and b.handshake_done:
            return
    raise AssertionError("handshake did not complete")


# --- DTLS: contexts with the test PKI and a quick retransmission timer --------

@pytest.fixture
def dtls_server_ctx(pki: PKI) -> mojo_tls.DTLSContext:
    ctx = mojo_tls.DTLSContext(server_side=True)
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    ctx.set_handshake_timeout(0.1, 8.0)
    yield ctx
    ctx.close()


@pytest.fixture
def dtls_client_ctx(pki: PKI) -> mojo_tls.DTLSContext:
    ctx = mojo_tls.DTLSContext()
    ctx.load_verify_locations(pki.ca_file)
    ctx.set_handshake_timeout(0.1, 8.0)
    yield ctx
    ctx.close()
