"""Ctrl-C reaches Python during the library's blocking calls (issue 19).

A child process blocks with no timeout in accept(), in recv() on an idle
connection, or in the handshake with a peer that never answers. SIGINT
must end it promptly with KeyboardInterrupt (the library returns
MOJO_TLS_ERR_INTERRUPTED, the package runs the signal handlers as PEP 475
does). A handler that does not raise must not disturb the call: the
blocked recv() then still returns the data that arrives later, and a
timeout still ends it on time (the remaining time is recomputed).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import mojo_tls

from conftest import HOST, plain_listener

CHILD = textwrap.dedent("""
    import signal, sys, mojo_tls
    # Python only installs its KeyboardInterrupt handler when SIGINT is not
    # ignored at start-up, and a test run started in the background (nohup,
    # `&` without job control) passes SIGINT down ignored: install it, as an
    # interactive program has it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    mode, ca, cert, key, port = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    if mode == "accept":
        ctx = mojo_tls.TLSContext(server_side=True)
        ctx.load_cert_chain(cert, key)
        lst = mojo_tls.listen("127.0.0.1", 0, context=ctx)
        print("ready", flush=True)
        lst.accept()
    else:
        ctx = mojo_tls.TLSContext()
        ctx.load_verify_locations(ca)
        if mode == "handshake":
            print("ready", flush=True)
            mojo_tls.connect("127.0.0.1", port, context=ctx)
        elif mode == "recv":
            s = mojo_tls.connect("127.0.0.1", port, context=ctx)
            print("ready", flush=True)
            s.recv(100)
        elif mode == "recv-survives":
            # a handler that does not raise: the call goes on
            hits = []
            signal.signal(signal.SIGUSR1, lambda *a: hits.append(1))
            s = mojo_tls.connect("127.0.0.1", port, context=ctx)
            print("ready", flush=True)
            data = s.recv(100)
            print("got", data.decode(), len(hits), flush=True)
        elif mode == "recv-timeout":
            # signals that do not raise must not restart the timeout
            import time
            hits = []
            signal.signal(signal.SIGUSR1, lambda *a: hits.append(1))
            s = mojo_tls.connect("127.0.0.1", port, context=ctx)
            s.settimeout(1.0)
            print("ready", flush=True)
            t0 = time.monotonic()
            try:
                s.recv(100)
            except mojo_tls.TLSTimeoutError:
                print("timeout %.2f %d" % (time.monotonic() - t0, len(hits)), flush=True)
    print("returned", flush=True)
""")


def run_child(pki, mode: str, port: int, sig: int = signal.SIGINT, wait_s: float = 5.0,
              grace_s: float = 0.0):
    """Start the child, signal it once it is blocked (again every 0.3 s in
    case a signal lands before the call starts) for up to `wait_s`, let it
    run `grace_s` more; return (rc, out, err, secs)."""
    p = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(pki.ca_file), str(pki.server_cert),
                          str(pki.server_key), str(port)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        time.sleep(0.3)
        t0 = time.monotonic()
        while p.poll() is None and time.monotonic() - t0 < wait_s:
            p.send_signal(sig)
            try:
                p.wait(0.3)
            except subprocess.TimeoutExpired:
                pass
        secs = time.monotonic() - t0
        try:
            p.wait(grace_s)
        except subprocess.TimeoutExpired:
            p.kill()
        out, err = p.communicate(timeout=10)
        return p.returncode, out, err, secs
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def assert_keyboard_interrupt(rc, out, err, secs):
    assert "KeyboardInterrupt" in err, f"rc {rc}, {secs:.1f} s, stderr: {err[-500:]!r}"
    assert "returned" not in out
    assert secs < 2.0, f"took {secs:.1f} s"


@pytest.mark.timeout(30)
def test_sigint_in_accept(pki):
    assert_keyboard_interrupt(*run_child(pki, "accept", 0))


@pytest.mark.timeout(30)
def test_sigint_in_handshake(pki):
    # a TCP server that accepts and never speaks TLS
    with plain_listener() as lst:
        port = lst.getsockname()[1]
        held = []
        t = threading.Thread(target=lambda: held.append(lst.accept()[0]), daemon=True)
        t.start()
        try:
            assert_keyboard_interrupt(*run_child(pki, "handshake", port))
        finally:
            t.join(5)
            for s in held:
                s.close()


def idle_server(server_ctx, send_after: float = -1.0):
    """A mojo_tls server that handshakes, then stays silent (or sends
    'late' after `send_after` seconds); returns (port, thread, stop)."""
    lst = mojo_tls.listen(HOST, 0, context=server_ctx)
    stop = threading.Event()

    def serve():
        with lst:
            conn, _ = lst.accept(timeout=15)
            with conn:
                if send_after >= 0:
                    time.sleep(send_after)
                    conn.sendall(b"late")
                stop.wait(15)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return lst.port, t, stop


@pytest.mark.timeout(30)
def test_sigint_in_recv(pki, server_ctx):
    port, t, stop = idle_server(server_ctx)
    try:
        assert_keyboard_interrupt(*run_child(pki, "recv", port))
    finally:
        stop.set()
        t.join(10)


@pytest.mark.timeout(30)
def test_handler_that_returns_lets_recv_continue(pki, server_ctx):
    port, t, stop = idle_server(server_ctx, send_after=1.5)
    try:
        rc, out, err, secs = run_child(pki, "recv-survives", port, sig=signal.SIGUSR1, wait_s=1.0,
                                         grace_s=5.0)
    finally:
        stop.set()
        t.join(10)
    assert rc == 0, err[-500:]
    got = out.split()
    assert got[:2] == ["got", "late"], out
    assert int(got[2]) >= 1, "no SIGUSR1 reached the handler"


@pytest.mark.timeout(30)
def test_signals_do_not_restart_the_timeout(pki, server_ctx):
    port, t, stop = idle_server(server_ctx)
    try:
        rc, out, err, secs = run_child(pki, "recv-timeout", port, sig=signal.SIGUSR1, wait_s=3.0,
                                       grace_s=5.0)
    finally:
        stop.set()
        t.join(10)
    assert rc == 0, err[-500:]
    words = out.split()
    assert words[:1] == ["timeout"], out
    elapsed, hits = float(words[1]), int(words[2])
    assert hits >= 2, out
    assert 0.9 <= elapsed < 1.6, f"recv(timeout=1.0) under signals took {elapsed:.2f} s"
