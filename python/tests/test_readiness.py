"""Readiness (issue 19): the selectors loop the docs show never stalls.

Two non-blocking TLSSockets in one selectors loop; each writes N MiB in
random 1 B - 64 KiB pieces and reads the other's the documented way: when
the selector says readable, recv() once, then again while pending() > 0.
A select() that times out with data still missing is a stall (the bytes
are inside the library). Fast and Mbed TLS record layers, over the
library's own sockets and over wrapped Python sockets; SHA-256 compared.
"""

from __future__ import annotations

import hashlib
import random
import selectors
import socket
import threading

import pytest

import mojo_tls

from conftest import HOST, plain_listener

MIB = 4
RUNS = 4
STALL_S = 2.0


class Endpoint:
    def __init__(self, sock: mojo_tls.TLSSocket, seed: int, fixed_reads: bool) -> None:
        self.sock = sock
        self.rng = random.Random(seed)
        self.out = random.Random(seed ^ 0x5A5A).randbytes(MIB << 20)
        self.sent = 0
        self.piece = 0
        self.received = 0
        self.rx = hashlib.sha256()
        self.eof = False
        self.notified = False
        self.fixed_reads = fixed_reads
        sock.settimeout(0)

    def events(self) -> int:
        ev = 0 if self.eof else selectors.EVENT_READ
        total = len(self.out)
        if self.sent < total or (self.received == total and not self.notified):
            ev |= selectors.EVENT_WRITE
        return ev

    def on_readable(self) -> None:
        while True:
            size = 16384 if self.fixed_reads else self.rng.randint(1, 65536)
            try:
                data = self.sock.recv(size)
            except mojo_tls.TLSWantReadError:
                return
            if not data:
                self.eof = True
                return
            self.rx.update(data)
            self.received += len(data)
            if self.sock.pending() == 0:
                return

    def on_writable(self) -> None:
        total = len(self.out)
        while self.sent < total:
            if self.piece == 0:
                self.piece = min(self.rng.randint(1, 65536), total - self.sent)
            try:
                n = self.sock.send(self.out[self.sent:self.sent + self.piece])
            except mojo_tls.TLSWantWriteError:
                return  # the same bytes again when writable
            self.sent += n
            self.piece -= n
        if self.received == total and not self.notified:
            # close_notify once both directions are complete
            try:
                self.sock.shutdown(socket.SHUT_WR)
                self.notified = True
            except mojo_tls.TLSWantWriteError:
                pass


def pair(client_ctx, server_ctx, own_sockets: bool):
    if own_sockets:
        with mojo_tls.listen(HOST, 0, context=server_ctx) as lst:
            box = {}
            t = threading.Thread(target=lambda: box.update(s=lst.accept(timeout=15)[0]))
            t.start()
            c = mojo_tls.connect(HOST, lst.port, context=client_ctx, timeout=15)
            t.join(20)
            return c, box["s"]
    lst = plain_listener()
    with lst:
        raw_c = socket.create_connection(lst.getsockname(), timeout=15)
        raw_s, _ = lst.accept()
    raw_s.settimeout(15)
    box = {}
    t = threading.Thread(target=lambda: box.update(s=server_ctx.wrap_socket(raw_s, server_side=True)))
    t.start()
    c = client_ctx.wrap_socket(raw_c, server_hostname="localhost")
    t.join(20)
    return c, box["s"]


def one_run(client_ctx, server_ctx, own_sockets: bool, run: int) -> str:
    c, s = pair(client_ctx, server_ctx, own_sockets)
    eps = [Endpoint(c, 2 * run, run % 2 == 0), Endpoint(s, 2 * run + 1, run % 2 == 0)]
    sel = selectors.DefaultSelector()
    try:
        for i, e in enumerate(eps):
            sel.register(e.sock.fileno(), e.events(), i)
        while not all(e.eof and e.notified for e in eps):
            ready = sel.select(STALL_S)
            if not ready:
                return "stalled: received %s of %d bytes, pending() %s" % (
                    [e.received for e in eps], MIB << 20, [e.sock.pending() for e in eps])
            for key, mask in ready:
                e = eps[key.data]
                if mask & selectors.EVENT_READ:
                    e.on_readable()
                if mask & selectors.EVENT_WRITE:
                    e.on_writable()
            for i, e in enumerate(eps):
                ev, fd = e.events(), e.sock.fileno()
                if ev:
                    sel.modify(fd, ev, i)
                elif fd in sel.get_map():
                    sel.unregister(fd)
        for e, peer in ((eps[0], eps[1]), (eps[1], eps[0])):
            assert e.received == len(peer.out)
            assert e.rx.digest() == hashlib.sha256(peer.out).digest()
        return ""
    finally:
        sel.close()
        c.close()
        s.close()


@pytest.mark.timeout(240)
@pytest.mark.parametrize("own_sockets", [True, False], ids=["own-sockets", "wrapped-sockets"])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "mbedtls"])
def test_selectors_loop_never_stalls(client_ctx, server_ctx, fast, own_sockets):
    client_ctx.fast_record_layer = fast
    server_ctx.fast_record_layer = fast
    stalls = []
    for run in range(RUNS):
        why = one_run(client_ctx, server_ctx, own_sockets, run)
        if why:
            stalls.append(f"run {run}: {why}")
    assert not stalls, f"{len(stalls)} of {RUNS} runs stalled: {stalls}"


# -- a selectors server and its clients in one loop (issue #20's ecosystem suite) ------
#
# The way a non-blocking server is written with ssl: a non-blocking listening
# socket in the selector, each accepted socket wrapped with
# do_handshake_on_connect=False, handshakes driven by TLSWantReadError /
# TLSWantWriteError, then echo; the clients (non-blocking too) live in the
# same loop. Reads follow the readiness rule (recv once when readable, then
# again while pending() > 0).

CLIENTS = 8


class LoopConn:
    def __init__(self, sock: mojo_tls.TLSSocket, payload: "bytes | None") -> None:
        sock.settimeout(0)
        self.sock = sock
        self.payload = payload  # None: the server side (echoes)
        self.out = bytearray(payload or b"")
        self.rx = bytearray()
        self.handshaken = False
        self.hs_event = selectors.EVENT_READ | selectors.EVENT_WRITE
        self.eof = False
        self.notified = False
        self.handshakes = 0

    def wants_notify(self) -> bool:
        if self.notified or self.out:
            return False
        if self.payload is None:
            return self.eof  # the server answers the client's close_notify
        return len(self.rx) == len(self.payload)

    @property
    def done(self) -> bool:
        return self.eof and self.notified

    def events(self) -> int:
        if not self.handshaken:
            return self.hs_event
        ev = 0 if self.eof else selectors.EVENT_READ
        if self.out or self.wants_notify():
            ev |= selectors.EVENT_WRITE
        return ev

    def progress(self, mask: int) -> None:
        if not self.handshaken:
            self.handshakes += 1
            try:
                self.sock.do_handshake()
            except mojo_tls.TLSWantReadError:
                self.hs_event = selectors.EVENT_READ
                return
            except mojo_tls.TLSWantWriteError:
                self.hs_event = selectors.EVENT_WRITE
                return
            self.handshaken = True
            mask |= selectors.EVENT_READ  # the handshake may have read application data
        self.flush()
        if mask & selectors.EVENT_READ or self.sock.pending() > 0:
            while not self.eof:
                try:
                    data = self.sock.recv(65536)
                except mojo_tls.TLSWantReadError:
                    break
                if not data:
                    self.eof = True
                    break
                self.rx += data
                if self.payload is None:
                    self.out += data
                if self.sock.pending() == 0:
                    break
            self.flush()
        if self.wants_notify():
            try:
                self.sock.shutdown(socket.SHUT_WR)  # close_notify
                self.notified = True
            except mojo_tls.TLSWantWriteError:
                pass

    def flush(self) -> None:
        while self.out:
            try:
                n = self.sock.send(self.out[:65536])  # the same bytes again after WantWrite
            except mojo_tls.TLSWantWriteError:
                return
            del self.out[:n]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("version", ["TLSv1_2", "TLSv1_3"])
def test_selectors_server_and_clients_one_loop(client_ctx, server_ctx, version):
    client_ctx.maximum_version = getattr(mojo_tls.TLSVersion, version)
    rng = random.Random(version)
    lst = plain_listener()
    lst.setblocking(False)
    sel = selectors.DefaultSelector()
    conns: list = []
    try:
        sel.register(lst, selectors.EVENT_READ, None)
        for i in range(CLIENTS):
            raw = socket.create_connection(lst.getsockname(), timeout=15)
            raw.setblocking(False)
            c = LoopConn(client_ctx.wrap_socket(raw, server_hostname="localhost",
                                                do_handshake_on_connect=False),
                         rng.randbytes(rng.randint(1, 300_000)))
            conns.append(c)
            sel.register(c.sock.fileno(), c.events(), c)
        clients = list(conns)
        accepted = 0
        while not (accepted == CLIENTS and all(c.done for c in conns)):
            ready = sel.select(STALL_S)
            assert ready, "stalled: %s" % [(c.payload is None, c.handshaken, len(c.rx), c.eof,
                                            c.notified, c.sock.pending()) for c in conns]
            for key, mask in ready:
                conn = key.data
                if conn is None:  # the listener
                    try:
                        raw, _ = lst.accept()
                    except BlockingIOError:
                        continue
                    raw.setblocking(False)
                    conn = LoopConn(server_ctx.wrap_socket(raw, server_side=True,
                                                           do_handshake_on_connect=False), None)
                    conns.append(conn)
                    accepted += 1
                    sel.register(conn.sock.fileno(), conn.events(), conn)
                conn.progress(mask)
            for c in conns:
                fd = c.sock.fileno()
                registered = fd in sel.get_map()
                ev = 0 if c.done else c.events()
                if ev:
                    sel.modify(fd, ev, c)
                elif registered:
                    sel.unregister(fd)
        for c in clients:
            assert bytes(c.rx) == c.payload
            assert c.sock.version() == version.replace("_", ".")
        servers = [c for c in conns if c.payload is None]
        assert sorted(len(s.rx) for s in servers) == sorted(len(c.payload) for c in clients)
        # the handshakes really were non-blocking: each took several steps
        assert all(c.handshakes > 1 for c in conns)
    finally:
        sel.close()
        for c in conns:
            c.sock.close()
        lst.close()
