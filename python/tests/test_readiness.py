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
