#!/usr/bin/env python3
"""The workload valgrind_py.sh runs under valgrind: the mojo_tls Python
package over the library in memory mode and over loopback sockets (with a
server thread), sessions, a verification failure, bad input and an abrupt
close — small, so it finishes quickly under valgrind, but through every
layer (ctypes -> C ABI -> Rust -> Mbed TLS) and back."""

from __future__ import annotations

import os
import socket
import sys
import threading

import rtlib as R  # noqa: F401 - points the package at dist/

import mojo_tls as mt


def memory_mode(sctx, cctx) -> None:
    c = mt.TLSObject(cctx, server_hostname="localhost")
    s = mt.TLSObject(sctx, server_side=True)
    for _ in range(30):
        for a, b in ((c, s), (s, c)):
            try:
                a.do_handshake()
            except mt.TLSWantReadError:
                pass
            out = a.drain()
            if out:
                b.feed(out)
        if c.handshake_done and s.handshake_done:
            break
    assert c.handshake_done and s.handshake_done
    for size in (1, 1000, 20000):
        msg = os.urandom(size)
        c.write(msg)
        s.feed(c.drain())
        got = b""
        while len(got) < size:
            got += s.read(65536)
        assert got == msg
    c.close()
    s.close()


def loopback(sctx, cctx) -> None:
    lst = mt.listen("127.0.0.1", 0, context=sctx)
    port = lst.port
    errors = []

    def serve() -> None:
        try:
            for _ in range(2):
                conn, _ = lst.accept()
                with conn:
                    while True:
                        data = conn.recv(65536)
                        if not data:
                            break
                        conn.sendall(data)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    th = threading.Thread(target=serve)
    th.start()
    session = None
    for i in range(2):
        with mt.connect("127.0.0.1", port, context=cctx, server_hostname="localhost", timeout=120,
                        session=session) as t:
            for size in (5, 30000):
                msg = os.urandom(size)
                t.sendall(msg)
                got = b""
                while len(got) < size:
                    got += t.recv(65536)
                assert got == msg
            session = t.session
            t.shutdown(socket.SHUT_WR)  # the clean end: close() sends no close_notify
    th.join(300)
    lst.close()
    assert not errors, errors


def failures(sctx, ca) -> None:
    other = mt.generate_ca("valgrind other CA")
    bad = mt.TLSContext()
    bad.load_verify_locations(cadata=other.cert_pem)
    lst = mt.listen("127.0.0.1", 0, context=sctx)
    port = lst.port

    def serve() -> None:
        try:
            lst.accept()
        except Exception:  # noqa: BLE001 - the client rejects us
            pass

    th = threading.Thread(target=serve)
    th.start()
    try:
        mt.connect("127.0.0.1", port, context=bad, server_hostname="localhost", timeout=120)
        raise AssertionError("connected to an untrusted server")
    except mt.CertificateVerifyError:
        pass
    th.join(300)
    lst.close()
    other.close() if hasattr(other, "close") else None
    for data in (b"garbage", b"-----BEGIN CERTIFICATE-----\nAAAA\n"):
        try:
            mt.TLSContext().load_verify_locations(cadata=data)
            raise AssertionError("garbage CA accepted")
        except (mt.TLSParseError, mt.TLSInvalidArgumentError, ValueError):
            pass
    # a truncated stream in memory mode
    t = mt.TLSObject(mt.TLSContext(), server_hostname="localhost")
    try:
        t.do_handshake()
    except mt.TLSWantReadError:
        pass
    t.drain()
    t.feed(b"\x16\x03\x03\x00\x10\x02")
    t.feed_eof()
    try:
        t.do_handshake()
        raise AssertionError("handshake on a truncated stream")
    except mt.TLSError:
        pass
    t.close()


def main() -> int:
    ca = mt.generate_ca("valgrind CA")
    leaf = mt.generate_cert(ca, "localhost", sans=["localhost", "127.0.0.1"])
    sctx = mt.TLSContext(server_side=True)
    sctx.load_cert_chain_data(leaf.cert_pem, leaf.key_pem)
    sctx.enable_session_tickets() if hasattr(sctx, "enable_session_tickets") else None
    cctx = mt.TLSContext()
    cctx.load_verify_locations(cadata=ca.cert_pem)
    memory_mode(sctx, cctx)
    loopback(sctx, cctx)
    failures(sctx, ca)
    print("workload done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
