#!/usr/bin/env python3
"""Hostile and faulty peers on loopback (127.0.0.1) against the library's
client and server: junk instead of a ServerHello / ClientHello, truncated
and oversized records, abrupt close mid-record, close without close_notify,
stalled and slow-loris peers, renegotiation attempts in both directions, and
plaintext injected after the handshake.

Every case must end with a clean, documented error (or the documented
result) within a generous time bound — never a hang past the timeout — and
the process's file descriptors must be back at their baseline afterwards.
The hostile peers are Python sockets, memory-mode mojo_tls connections
driven over raw sockets (so the test controls every byte on the wire, on any
backend), and `openssl s_server` / `s_client` for renegotiation.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from typing import Callable, List, Optional, Tuple

import rtlib as R
from rtlib import E, L, ffi

C = {e.name.replace("MOJO_TLS_ERR_", ""): int(e) for e in E}
WANT_READ = C["WANT_READ"]
SLOW = R.slow()
# "clean error" codes for a broken peer during or after the handshake
HS_ERRORS = (C["HANDSHAKE"], C["PROTOCOL"], C["CLOSED"], C["RESET"], C["TRUNCATED"], C["IO"])


def elapsed_ok(t: float, lo: float, hi: float, what: str) -> None:
    assert t >= lo, f"{what}: gave up after {t:.2f}s, before its {lo:.2f}s timeout"
    assert t <= hi * SLOW, f"{what}: took {t:.2f}s, bound {hi * SLOW:.1f}s (hang past the timeout?)"


class PKI:
    def __init__(self) -> None:
        self.ca = R.Gen.ca("hostile CA")
        self.leaf = R.Gen.leaf(self.ca)
        self.ccfg = R.client_config([self.ca.cert])
        self.scfg = R.server_config(self.leaf.cert, self.leaf.key)

    def close(self) -> None:
        L.mojo_tls_config_free(self.ccfg)
        L.mojo_tls_config_free(self.scfg)
        self.leaf.free()
        self.ca.free()


# ---------------------------------------------------------------------------
# peers
# ---------------------------------------------------------------------------

class RawServer:
    """A TCP listener on 127.0.0.1 whose single connection is given to `handler`
    on a thread (the hostile server)."""

    def __init__(self, handler: Callable[[socket.socket], None]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(20 * SLOW)
        self.port = self.sock.getsockname()[1]
        self.error: Optional[BaseException] = None
        self.stop = threading.Event()
        self.th = threading.Thread(target=self._run, args=(handler,), daemon=True)
        self.th.start()

    def _run(self, handler: Callable[[socket.socket], None]) -> None:
        try:
            s, _ = self.sock.accept()
        except OSError as exc:
            self.error = exc
            return
        try:
            s.settimeout(20 * SLOW)
            handler(s)
        except (OSError, AssertionError) as exc:
            self.error = exc
        finally:
            s.close()

    def join(self) -> None:
        self.stop.set()
        self.th.join(30 * SLOW)
        assert not self.th.is_alive(), "hostile server thread hung"
        self.sock.close()


def recv_some(s: socket.socket, n: int = 65536) -> bytes:
    try:
        return s.recv(n)
    except OSError:
        return b""


class MemPeer:
    """A memory-mode mojo_tls connection driven over a raw socket: the test
    sees and controls every ciphertext byte."""

    def __init__(self, cfg: object, sock: socket.socket, server_name: Optional[bytes] = None) -> None:
        self.c = L.mojo_tls_conn_new_memory(cfg, server_name)
        assert self.c, R.last_error()
        self.sock = sock
        self.buf = ctypes.create_string_buffer(1 << 17)

    def drain(self) -> bytes:
        out = b""
        while (n := L.mojo_tls_conn_drain(self.c, self.buf, len(self.buf))) > 0:
            out += self.buf.raw[:n]
        return out

    def handshake(self) -> None:
        for _ in range(200):
            rc = L.mojo_tls_conn_handshake(self.c)
            out = self.drain()
            if out:
                self.sock.sendall(out)
            if rc == 0:
                return
            assert rc == WANT_READ, f"peer handshake: {R.code_name(rc)} {R.last_error()}"
            data = recv_some(self.sock)
            assert data, "peer handshake: EOF"
            L.mojo_tls_conn_feed(self.c, data, len(data))
        raise AssertionError("peer handshake did not finish")

    def seal(self, data: bytes) -> bytes:
        """Encrypt `data` into records and return the ciphertext (not sent)."""
        off = 0
        while off < len(data):
            n = L.mojo_tls_conn_write(self.c, data[off:], len(data) - off)
            assert n > 0, f"seal: {R.code_name(n)} {R.last_error()}"
            off += n
        return self.drain()

    def read_plain(self, want: int) -> bytes:
        got = b""
        deadline = time.monotonic() + 15 * SLOW
        while len(got) < want and time.monotonic() < deadline:
            n = L.mojo_tls_conn_read(self.c, self.buf, len(self.buf))
            if n > 0:
                got += self.buf.raw[:n]
                continue
            out = self.drain()
            if out:
                self.sock.sendall(out)
            assert n == WANT_READ, f"peer read: {R.code_name(n)}"
            data = recv_some(self.sock)
            if not data:
                break
            L.mojo_tls_conn_feed(self.c, data, len(data))
        return got

    def free(self) -> None:
        L.mojo_tls_conn_free(self.c)


def records(data: bytes) -> List[bytes]:
    """Split a ciphertext stream into whole TLS records."""
    out, i = [], 0
    while i + 5 <= len(data):
        ln = struct.unpack(">H", data[i + 3:i + 5])[0]
        out.append(data[i:i + 5 + ln])
        i += 5 + ln
    return out


def client_connect(pki: PKI, port: int, timeout_ms: int) -> Tuple[object, int, str, float]:
    L.mojo_tls_clear_error()
    t0 = time.monotonic()
    c = L.mojo_tls_conn_new_connect(pki.ccfg, b"127.0.0.1", port, timeout_ms)
    dt = time.monotonic() - t0
    code, msg = R.last_error() if not c else (0, "")
    return c, code, msg, dt


def read_result(c: object, bufsize: int = 65536) -> Tuple[bytes, int, str]:
    """Read until a non-positive result; returns (data, final code, message)."""
    buf = ctypes.create_string_buffer(bufsize)
    got = b""
    for _ in range(10000):
        n = L.mojo_tls_conn_read(c, buf, bufsize)
        if n <= 0:
            return got, n, R.last_error()[1] if n < 0 else ""
        got += buf.raw[:n]
    raise AssertionError("read loop did not end")


# ---------------------------------------------------------------------------
# our client against hostile servers
# ---------------------------------------------------------------------------

def junk_server_hello(pki: PKI) -> str:
    def h(s: socket.socket) -> None:
        recv_some(s)
        s.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        recv_some(s)
    srv = RawServer(h)
    c, code, msg, dt = client_connect(pki, srv.port, 10000)
    srv.join()
    assert not c, "handshake succeeded against an HTTP server"
    assert code in HS_ERRORS, f"{R.code_name(code)} {msg}"
    elapsed_ok(dt, 0, 5, "junk ServerHello")
    return f"{R.code_name(code)} in {dt:.2f}s: {msg}"


def appdata_instead_of_server_hello(pki: PKI) -> str:
    def h(s: socket.socket) -> None:
        recv_some(s)
        s.sendall(b"\x17\x03\x03\x00\x05hello")
        recv_some(s)
    srv = RawServer(h)
    c, code, msg, dt = client_connect(pki, srv.port, 10000)
    srv.join()
    assert not c and code in HS_ERRORS, f"{R.code_name(code)} {msg}"
    elapsed_ok(dt, 0, 5, "application data before the handshake")
    return f"{R.code_name(code)}: {msg}"


def truncated_record_then_close(pki: PKI) -> str:
    def h(s: socket.socket) -> None:
        recv_some(s)
        s.sendall(b"\x16\x03\x03\x00\x64" + b"\x02\x00\x00\x60" + b"\x03\x03")  # claims 100 bytes, sends 6
        s.shutdown(socket.SHUT_WR)
        recv_some(s)
    srv = RawServer(h)
    c, code, msg, dt = client_connect(pki, srv.port, 10000)
    srv.join()
    assert not c and code in HS_ERRORS, f"{R.code_name(code)} {msg}"
    elapsed_ok(dt, 0, 5, "truncated record + close")
    return f"{R.code_name(code)}: {msg}"


def truncated_record_stall(pki: PKI) -> str:
    def h(s: socket.socket) -> None:
        recv_some(s)
        s.sendall(b"\x16\x03\x03\x00\x64\x02\x00")  # then silence
        srv.stop.wait(20 * SLOW)
    srv = RawServer(h)
    c, code, msg, dt = client_connect(pki, srv.port, 1000)
    srv.join()
    assert not c and code == C["TIMEOUT"], f"{R.code_name(code)} {msg}"
    elapsed_ok(dt, 0.9, 6, "stalled mid-record (timeout 1 s)")
    return f"TIMEOUT after {dt:.2f}s"


def oversized_record(pki: PKI) -> str:
    def h(s: socket.socket) -> None:
        recv_some(s)
        s.sendall(b"\x16\x03\x03\xff\xff" + b"\x00" * 64)  # 65535 > 2^14 + 2048
        srv.stop.wait(20 * SLOW)
    srv = RawServer(h)
    c, code, msg, dt = client_connect(pki, srv.port, 10000)
    srv.join()
    assert not c and code in HS_ERRORS, f"{R.code_name(code)} {msg}"
    elapsed_ok(dt, 0, 5, "oversized record (must not wait for 64 KiB)")
    return f"{R.code_name(code)} in {dt:.2f}s: {msg}"


def silent_server(pki: PKI) -> str:
    def h(s: socket.socket) -> None:
        srv.stop.wait(20 * SLOW)
    srv = RawServer(h)
    c, code, msg, dt = client_connect(pki, srv.port, 1000)
    srv.join()
    assert not c and code == C["TIMEOUT"], f"{R.code_name(code)} {msg}"
    elapsed_ok(dt, 0.9, 6, "silent server (timeout 1 s)")
    return f"TIMEOUT after {dt:.2f}s"


def trickling_server(pki: PKI) -> str:
    """A server that sends a (junk-free) prefix one byte every 200 ms: the
    connect timeout is a deadline, not reset by each byte."""
    def h(s: socket.socket) -> None:
        recv_some(s)
        for b in b"\x16\x03\x03\x40\x00" + b"\x02" * 60:
            if srv.stop.wait(0.2):
                return
            try:
                s.sendall(bytes([b]))
            except OSError:
                return
    srv = RawServer(h)
    c, code, msg, dt = client_connect(pki, srv.port, 1500)
    srv.join()
    assert not c and code == C["TIMEOUT"], f"{R.code_name(code)} {msg}"
    elapsed_ok(dt, 1.4, 6, "trickling server (timeout 1.5 s)")
    return f"TIMEOUT after {dt:.2f}s"


def _tls_server(pki: PKI, after: Callable[[MemPeer, socket.socket], None]) -> RawServer:
    def h(s: socket.socket) -> None:
        p = MemPeer(pki.scfg, s)
        try:
            p.handshake()
            after(p, s)
        finally:
            p.free()
    return RawServer(h)


def close_without_close_notify(pki: PKI) -> str:
    payload = os.urandom(3000)

    def after(p: MemPeer, s: socket.socket) -> None:
        s.sendall(p.seal(payload))
        s.shutdown(socket.SHUT_RDWR)  # TCP FIN, no close_notify
    srv = _tls_server(pki, after)
    c, code, msg, _ = client_connect(pki, srv.port, 10000)
    assert c, f"connect: {R.code_name(code)} {msg}"
    L.mojo_tls_conn_set_timeout(c, 10000)
    t0 = time.monotonic()
    got, rc, msg = read_result(c)
    dt = time.monotonic() - t0
    L.mojo_tls_conn_free(c)
    srv.join()
    assert got == payload, f"data before the close: {len(got)} of {len(payload)} bytes"
    assert rc == C["TRUNCATED"], f"read after an abrupt close: {R.code_name(rc)} ({msg}), expected TRUNCATED"
    elapsed_ok(dt, 0, 5, "EOF without close_notify")
    return msg


def close_with_close_notify(pki: PKI) -> str:
    """Control for the above: a clean close_notify reads as 0 (EOF)."""
    def after(p: MemPeer, s: socket.socket) -> None:
        s.sendall(p.seal(b"bye"))
        assert L.mojo_tls_conn_close_notify(p.c) >= 0
        s.sendall(p.drain())
        s.shutdown(socket.SHUT_RDWR)
    srv = _tls_server(pki, after)
    c, code, msg, _ = client_connect(pki, srv.port, 10000)
    assert c, f"connect: {R.code_name(code)} {msg}"
    got, rc, msg = read_result(c)
    L.mojo_tls_conn_free(c)
    srv.join()
    assert got == b"bye" and rc == 0, f"got {got!r}, final read {R.code_name(rc)} {msg}"
    return ""


def abrupt_close_mid_record(pki: PKI) -> str:
    payload = os.urandom(8000)

    def after(p: MemPeer, s: socket.socket) -> None:
        ct = p.seal(payload)
        s.sendall(ct[: len(ct) - 1000])  # cut inside the last record
        s.shutdown(socket.SHUT_RDWR)
    srv = _tls_server(pki, after)
    c, code, msg, _ = client_connect(pki, srv.port, 10000)
    assert c, f"connect: {R.code_name(code)} {msg}"
    L.mojo_tls_conn_set_timeout(c, 10000)
    t0 = time.monotonic()
    got, rc, msg = read_result(c)
    dt = time.monotonic() - t0
    L.mojo_tls_conn_free(c)
    srv.join()
    assert payload.startswith(got), "data before the cut is corrupted"
    assert len(got) < len(payload), "read more than was sent"
    assert rc == C["TRUNCATED"], f"EOF mid-record: {R.code_name(rc)} ({msg}), expected TRUNCATED"
    elapsed_ok(dt, 0, 5, "EOF mid-record")
    return f"{len(got)} of {len(payload)} bytes, then {msg}"


def reset_mid_record(pki: PKI) -> str:
    payload = os.urandom(8000)

    def after(p: MemPeer, s: socket.socket) -> None:
        ct = p.seal(payload)
        s.sendall(ct[: len(ct) // 2])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
    srv = _tls_server(pki, after)
    c, code, msg, _ = client_connect(pki, srv.port, 10000)
    assert c, f"connect: {R.code_name(code)} {msg}"
    L.mojo_tls_conn_set_timeout(c, 10000)
    t0 = time.monotonic()
    got, rc, msg = read_result(c)
    dt = time.monotonic() - t0
    L.mojo_tls_conn_free(c)
    srv.join()
    assert payload.startswith(got)
    assert rc in (C["RESET"], C["TRUNCATED"], C["IO"]), f"RST mid-record: {R.code_name(rc)} ({msg})"
    elapsed_ok(dt, 0, 5, "RST mid-record")
    return f"{R.code_name(rc)}: {msg}"


def corrupted_record(pki: PKI) -> str:
    def after(p: MemPeer, s: socket.socket) -> None:
        ct = bytearray(p.seal(b"x" * 100))
        ct[-3] ^= 0x40  # flip a bit in the last record's tag
        s.sendall(bytes(ct))
        srv.stop.wait(20 * SLOW)
    srv = _tls_server(pki, after)
    c, code, msg, _ = client_connect(pki, srv.port, 10000)
    assert c, f"connect: {R.code_name(code)} {msg}"
    L.mojo_tls_conn_set_timeout(c, 5000)
    t0 = time.monotonic()
    got, rc, msg = read_result(c)
    dt = time.monotonic() - t0
    L.mojo_tls_conn_free(c)
    srv.join()
    assert got == b"" and rc == C["PROTOCOL"], f"bad MAC: got {len(got)} bytes, {R.code_name(rc)} ({msg})"
    elapsed_ok(dt, 0, 4, "bad record MAC")
    return msg


def plaintext_handshake_after_handshake(pki: PKI) -> str:
    """A peer that sends an unencrypted ClientHello-like handshake record
    after the handshake (a crude renegotiation): a protocol error."""
    def after(p: MemPeer, s: socket.socket) -> None:
        s.sendall(b"\x16\x03\x03\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00")
        srv.stop.wait(20 * SLOW)
    srv = _tls_server(pki, after)
    c, code, msg, _ = client_connect(pki, srv.port, 10000)
    assert c, f"connect: {R.code_name(code)} {msg}"
    L.mojo_tls_conn_set_timeout(c, 5000)
    got, rc, msg = read_result(c)
    L.mojo_tls_conn_free(c)
    srv.join()
    assert rc == C["PROTOCOL"], f"{R.code_name(rc)} ({msg}), expected PROTOCOL"
    return msg


def openssl_server_hello_request(pki: PKI, work: R.TempDir) -> str:
    """`openssl s_server -tls1_2` with its `r` command sends a HelloRequest:
    our client (renegotiation off) refuses; the session ends with a clean
    error or keeps working, within the bound."""
    if not shutil.which("openssl"):
        raise R.Skip("openssl CLI not installed")
    d = work.path
    (d / "c.pem").write_bytes(pki.leaf.cert)
    (d / "k.pem").write_bytes(pki.leaf.key)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    logf = open(d / "s_server.log", "w+b")
    p = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", "c.pem", "-key", "k.pem",
                          "-tls1_2", "-naccept", "1"], cwd=d, stdin=subprocess.PIPE, stdout=logf,
                         stderr=subprocess.STDOUT)
    try:
        c = None
        for _ in range(100):
            c, code, msg, _ = client_connect(pki, port, 5000)
            if c or code != C["CONNECT"]:
                break
            time.sleep(0.05)
        assert c, f"connect to s_server: {R.code_name(code)} {msg}"
        L.mojo_tls_conn_set_timeout(c, 5000)
        buf = ctypes.create_string_buffer(256)
        p.stdin.write(b"hello\n")
        p.stdin.flush()
        n = L.mojo_tls_conn_read(c, buf, 256)
        assert n > 0 and buf.raw[:n] == b"hello\n", f"first read {n}"
        p.stdin.write(b"r\n")  # s_server: SSL_renegotiate -> HelloRequest
        p.stdin.flush()
        time.sleep(0.3)
        try:
            p.stdin.write(b"after\n")
            p.stdin.flush()
        except OSError:
            pass
        t0 = time.monotonic()
        got, rc, msg = read_result(c, 256)
        dt = time.monotonic() - t0
        L.mojo_tls_conn_free(c)
        elapsed_ok(dt, 0, 8, "read after a HelloRequest")
        assert rc in (0, C["PROTOCOL"], C["CLOSED"], C["RESET"], C["TRUNCATED"], C["TIMEOUT"]), f"{R.code_name(rc)} {msg}"
    finally:
        try:
            p.stdin.close()
        except OSError:
            pass
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        logf.seek(0)
        log = logf.read().decode("utf-8", "replace")
        logf.close()
    assert "no renegotiation" in log.lower() or rc != 0 or got == b"after\n", \
        f"no sign the renegotiation was refused; s_server said: {log[-400:]}"
    return f"client read {got!r} then {R.code_name(rc)}; s_server: " + \
        ("'no renegotiation'" if "no renegotiation" in log.lower() else log.strip().splitlines()[-1][:120])


# ---------------------------------------------------------------------------
# our server against hostile clients
# ---------------------------------------------------------------------------

class Accepter:
    def __init__(self, pki: PKI, timeout_ms: int, handshake: bool = True) -> None:
        self.lfd, self.port = R.listen()
        self.timeout_ms = timeout_ms
        self.conn = None
        self.code = 0
        self.msg = ""
        self.dt = 0.0
        self.started = threading.Event()
        self.th = threading.Thread(target=self._run, args=(pki, handshake), daemon=True)
        self.th.start()
        self.started.wait(5)

    def _run(self, pki: PKI, handshake: bool) -> None:
        self.started.set()
        fn = L.mojo_tls_conn_new_accept if handshake else L.mojo_tls_conn_new_accept_no_handshake
        t0 = time.monotonic()
        c = fn(pki.scfg, self.lfd, self.timeout_ms)
        self.dt = time.monotonic() - t0
        if c:
            self.conn = c
        else:
            self.code, self.msg = R.last_error()

    def join(self) -> None:
        self.th.join(self.timeout_ms / 1000 + 20 * SLOW)
        assert not self.th.is_alive(), "accept hung"
        L.mojo_tls_socket_close(self.lfd)


def slow_loris_client(pki: PKI) -> str:
    """A client trickling its ClientHello one byte every 250 ms: accept (2 s
    deadline for TCP + handshake) gives up at its timeout."""
    a = Accepter(pki, 2000)
    s = socket.create_connection(("127.0.0.1", a.port))
    hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 60
    stop = time.monotonic() + 10 * SLOW
    for b in hello:
        if not a.th.is_alive() or time.monotonic() > stop:
            break
        try:
            s.sendall(bytes([b]))
        except OSError:
            break
        time.sleep(0.25)
    a.join()
    s.close()
    assert a.conn is None, "accepted a slow-loris client"
    assert a.code == C["TIMEOUT"], f"{R.code_name(a.code)} {a.msg}"
    elapsed_ok(a.dt, 1.9, 8, "slow-loris client (timeout 2 s)")
    return f"TIMEOUT after {a.dt:.2f}s"


def slow_loris_no_handshake(pki: PKI) -> str:
    """accept_no_handshake returns at once; the later handshake with a 1 s
    timeout gives up on a trickling client."""
    a = Accepter(pki, 5000, handshake=False)
    s = socket.create_connection(("127.0.0.1", a.port))
    a.join()
    assert a.conn, f"accept_no_handshake: {R.code_name(a.code)} {a.msg}"
    L.mojo_tls_conn_set_timeout(a.conn, 1000)
    stop = threading.Event()

    def trickle() -> None:
        for b in b"\x16\x03\x01\x02\x00\x01\x00":
            if stop.wait(0.25):
                return
            try:
                s.sendall(bytes([b]))
            except OSError:
                return
    th = threading.Thread(target=trickle, daemon=True)
    th.start()
    t0 = time.monotonic()
    rc = L.mojo_tls_conn_handshake(a.conn)
    dt = time.monotonic() - t0
    msg = R.last_error()[1]
    stop.set()
    th.join(5)
    L.mojo_tls_conn_free(a.conn)
    s.close()
    assert rc == C["TIMEOUT"], f"{R.code_name(rc)} {msg}"
    elapsed_ok(dt, 0.9, 6, "handshake with a trickling client (timeout 1 s)")
    return f"TIMEOUT after {dt:.2f}s"


def silent_client(pki: PKI) -> str:
    a = Accepter(pki, 1000)
    s = socket.create_connection(("127.0.0.1", a.port))
    a.join()
    s.close()
    assert a.conn is None and a.code == C["TIMEOUT"], f"{R.code_name(a.code)} {a.msg}"
    elapsed_ok(a.dt, 0.9, 6, "silent client (timeout 1 s)")
    return f"TIMEOUT after {a.dt:.2f}s"


def _bad_client(pki: PKI, data: bytes, close: bool) -> Tuple[int, str, float]:
    a = Accepter(pki, 10000)
    s = socket.create_connection(("127.0.0.1", a.port))
    s.sendall(data)
    if close:
        s.shutdown(socket.SHUT_WR)
    a.join()
    s.close()
    assert a.conn is None, "handshake succeeded"
    return a.code, a.msg, a.dt


def junk_client_hello(pki: PKI) -> str:
    code, msg, dt = _bad_client(pki, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", False)
    assert code in HS_ERRORS, f"{R.code_name(code)} {msg}"
    elapsed_ok(dt, 0, 5, "junk ClientHello")
    return f"{R.code_name(code)}: {msg}"


def oversized_client_record(pki: PKI) -> str:
    code, msg, dt = _bad_client(pki, b"\x16\x03\x01\xff\xff" + b"\x01" * 100, False)
    assert code in HS_ERRORS, f"{R.code_name(code)} {msg}"
    elapsed_ok(dt, 0, 5, "oversized record from a client")
    return f"{R.code_name(code)}: {msg}"


def client_closes_mid_hello(pki: PKI) -> str:
    code, msg, dt = _bad_client(pki, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", True)
    assert code in HS_ERRORS, f"{R.code_name(code)} {msg}"
    elapsed_ok(dt, 0, 5, "client EOF mid-ClientHello")
    return f"{R.code_name(code)}: {msg}"


def _server_conn_with_peer(pki: PKI) -> Tuple[object, MemPeer, socket.socket, Accepter]:
    a = Accepter(pki, 10000)
    s = socket.create_connection(("127.0.0.1", a.port))
    p = MemPeer(pki.ccfg, s, b"localhost")
    p.handshake()
    a.join()
    assert a.conn, f"accept: {R.code_name(a.code)} {a.msg}"
    L.mojo_tls_conn_set_timeout(a.conn, 10000)
    return a.conn, p, s, a


def client_close_without_close_notify(pki: PKI) -> str:
    c, p, s, _ = _server_conn_with_peer(pki)
    s.sendall(p.seal(b"request"))
    s.shutdown(socket.SHUT_RDWR)
    got, rc, msg = read_result(c)
    L.mojo_tls_conn_free(c)
    p.free()
    s.close()
    assert got == b"request" and rc == C["TRUNCATED"], f"got {got!r}, then {R.code_name(rc)} ({msg})"
    return msg


def client_close_mid_record(pki: PKI) -> str:
    c, p, s, _ = _server_conn_with_peer(pki)
    ct = p.seal(b"q" * 5000)
    s.sendall(ct[:100])
    s.shutdown(socket.SHUT_RDWR)
    got, rc, msg = read_result(c)
    L.mojo_tls_conn_free(c)
    p.free()
    s.close()
    assert got == b"" and rc == C["TRUNCATED"], f"got {len(got)} bytes, then {R.code_name(rc)} ({msg})"
    return msg


def client_stalls_mid_record(pki: PKI) -> str:
    c, p, s, _ = _server_conn_with_peer(pki)
    L.mojo_tls_conn_set_timeout(c, 1000)
    s.sendall(p.seal(b"q" * 5000)[:100])
    t0 = time.monotonic()
    got, rc, msg = read_result(c)
    dt = time.monotonic() - t0
    L.mojo_tls_conn_free(c)
    p.free()
    s.close()
    assert rc == C["TIMEOUT"], f"{R.code_name(rc)} ({msg})"
    elapsed_ok(dt, 0.9, 6, "client stalls mid-record (timeout 1 s)")
    return f"TIMEOUT after {dt:.2f}s"


def openssl_client_renegotiation(pki: PKI, work: R.TempDir) -> str:
    """`openssl s_client -tls1_2` with its `R` command starts a renegotiation:
    our server (renegotiation off) refuses it; the connection ends with a
    clean error or keeps working, within the bound."""
    if not shutil.which("openssl"):
        raise R.Skip("openssl CLI not installed")
    a = Accepter(pki, 10000)
    logf = open(work.path / "s_client.log", "w+b")
    p = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{a.port}", "-tls1_2"],
                         stdin=subprocess.PIPE, stdout=logf, stderr=subprocess.STDOUT)
    try:
        a.join()
        assert a.conn, f"accept: {R.code_name(a.code)} {a.msg}"
        c = a.conn
        L.mojo_tls_conn_set_timeout(c, 5000)
        buf = ctypes.create_string_buffer(256)
        p.stdin.write(b"hello\n")
        p.stdin.flush()
        n = L.mojo_tls_conn_read(c, buf, 256)
        assert n == 6, f"first read {n} {R.last_error()}"
        p.stdin.write(b"R\n")
        p.stdin.flush()
        t0 = time.monotonic()
        got, rc, msg = read_result(c, 256)
        dt = time.monotonic() - t0
        L.mojo_tls_conn_free(c)
        elapsed_ok(dt, 0, 8, "read during a client renegotiation")
        assert rc in (0, C["PROTOCOL"], C["CLOSED"], C["RESET"], C["TRUNCATED"], C["TIMEOUT"]), f"{R.code_name(rc)} {msg}"
        assert rc != 0 or got == b"", "the server went on after a renegotiation request"
    finally:
        try:
            p.stdin.close()
        except OSError:
            pass
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        logf.seek(0)
        log = logf.read().decode("utf-8", "replace")
        logf.close()
    said = [ln for ln in log.splitlines() if "RENEGOTIATING" in ln or "renegotiation" in ln.lower()]
    return f"server read {R.code_name(rc)} ({msg}); s_client: {' | '.join(said)[:160]}"


# ---------------------------------------------------------------------------
# memory mode: hostile input without sockets
# ---------------------------------------------------------------------------

def memory_junk_and_eof(pki: PKI) -> str:
    out = []
    for label, data, eof in [("junk", b"\x15\x03\x03\x00\x02\x02\x28" + os.urandom(300), False),
                             ("EOF mid-handshake", b"\x16\x03\x03\x00\x40\x02", True),
                             ("1 MiB of zeros", b"\x00" * (1 << 20), False)]:
        for cfg, name in ((pki.ccfg, b"localhost"), (pki.scfg, None)):
            c = L.mojo_tls_conn_new_memory(cfg, name)
            buf = ctypes.create_string_buffer(65536)
            L.mojo_tls_conn_handshake(c)
            L.mojo_tls_conn_drain(c, buf, 65536)
            L.mojo_tls_conn_feed(c, data, len(data))
            if eof:
                L.mojo_tls_conn_feed_eof(c)
            t0 = time.monotonic()
            rc = L.mojo_tls_conn_handshake(c)
            dt = time.monotonic() - t0
            msg = R.last_error()[1]
            L.mojo_tls_conn_free(c)
            role = "client" if name else "server"
            assert rc in HS_ERRORS, f"{label} ({role}): {R.code_name(rc)} {msg}"
            assert dt < 2 * SLOW, f"{label} ({role}): {dt:.2f}s"
            out.append(f"{label}/{role}: {R.code_name(rc)}")
    return ", ".join(out)


def main() -> int:
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    run = R.Runner("hostile and faulty peers")
    pki = PKI()
    work = R.TempDir()
    base_fds = R.fd_count()
    cases: List[Tuple[str, Callable[[], object]]] = [
        ("client: junk instead of a ServerHello", lambda: junk_server_hello(pki)),
        ("client: application data instead of a ServerHello", lambda: appdata_instead_of_server_hello(pki)),
        ("client: truncated record, then close", lambda: truncated_record_then_close(pki)),
        ("client: truncated record, then silence (timeout)", lambda: truncated_record_stall(pki)),
        ("client: oversized record length", lambda: oversized_record(pki)),
        ("client: silent server (timeout)", lambda: silent_server(pki)),
        ("client: server trickles bytes (deadline, not per byte)", lambda: trickling_server(pki)),
        ("client: close without close_notify -> TRUNCATED", lambda: close_without_close_notify(pki)),
        ("client: close_notify -> EOF (control)", lambda: close_with_close_notify(pki)),
        ("client: abrupt close mid-record -> TRUNCATED", lambda: abrupt_close_mid_record(pki)),
        ("client: RST mid-record", lambda: reset_mid_record(pki)),
        ("client: corrupted record (bad MAC)", lambda: corrupted_record(pki)),
        ("client: plaintext handshake record after the handshake",
         lambda: plaintext_handshake_after_handshake(pki)),
        ("client: HelloRequest from openssl s_server (renegotiation refused)",
         lambda: openssl_server_hello_request(pki, work)),
        ("server: slow-loris client (accept gives up at its timeout)", lambda: slow_loris_client(pki)),
        ("server: slow-loris client after accept_no_handshake", lambda: slow_loris_no_handshake(pki)),
        ("server: silent client (timeout)", lambda: silent_client(pki)),
        ("server: junk instead of a ClientHello", lambda: junk_client_hello(pki)),
        ("server: oversized record length", lambda: oversized_client_record(pki)),
        ("server: client closes mid-ClientHello", lambda: client_closes_mid_hello(pki)),
        ("server: client closes without close_notify -> TRUNCATED",
         lambda: client_close_without_close_notify(pki)),
        ("server: client closes mid-record -> TRUNCATED", lambda: client_close_mid_record(pki)),
        ("server: client stalls mid-record (timeout)", lambda: client_stalls_mid_record(pki)),
        ("server: renegotiation from openssl s_client (refused)",
         lambda: openssl_client_renegotiation(pki, work)),
        ("memory mode: junk, EOF mid-handshake, 1 MiB of zeros", lambda: memory_junk_and_eof(pki)),
    ]

    def with_fd_check(fn: Callable[[], object]) -> object:
        before = R.fd_count()
        r = fn()
        after = R.wait_fds(before, 0, 5)
        assert after <= before, f"{after - before} file descriptor(s) leaked: " + "; ".join(R.open_fds()[-6:])
        return r

    t0 = time.monotonic()
    for name, fn in cases:
        run.run(name, with_fd_check, fn)
    pki.close()
    work.cleanup()

    def fds_back() -> str:
        end = R.wait_fds(base_fds, 0, 5)
        assert end <= base_fds, f"{base_fds} fds at start, {end} at the end: " + "; ".join(R.open_fds())
        return f"{base_fds} at start, {end} at the end"
    run.run("file descriptors back to baseline", fds_back)
    print(f"total {time.monotonic() - t0:.1f}s")
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
