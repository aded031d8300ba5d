"""fork(): a child's close() or __del__ of an inherited TLSSocket sends
nothing (as with the ssl module, where only unwrap() does), so the parent's
session goes on: 1 MiB echo intact, then a clean close_notify.

The echo server is another process, so this process forks with no server
thread running."""

import hashlib
import json
import os
import socket
import subprocess
import sys
import time

import pytest

import mojo_tls
from conftest import ECHO_SERVER_CHILD



def _echo(s: mojo_tls.TLSSocket, data: bytes) -> None:
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        s.sendall(chunk)
        got = b""
        while len(got) < len(chunk):
            part = s.recv(len(chunk) - len(got))
            assert part, "the server ended the session"
            got += part
        assert got == chunk


def _wait(pid: int, seconds: float = 20) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.005)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    raise AssertionError("the child did not exit")


def _start_server(pki):
    srv = subprocess.Popen([sys.executable, "-c", ECHO_SERVER_CHILD, str(pki.server_cert), str(pki.server_key)],
                           stdout=subprocess.PIPE, text=True)
    return srv, int(srv.stdout.readline())


def _stop_server(srv) -> dict:
    try:
        result = json.loads(srv.stdout.readline())
        assert srv.wait(timeout=20) == 0
        return result
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
        srv.stdout.close()


def test_abandon_sends_no_close_notify(pki, client_ctx) -> None:
    srv, port = _start_server(pki)
    s = mojo_tls.connect("127.0.0.1", port, context=client_ctx, timeout=20)
    _echo(s, b"x" * 100)
    s.abandon()
    s.abandon()  # idempotent
    assert s.closed
    # the peer sees the transport end without close_notify
    assert _stop_server(srv) == {"bytes": 100, "sha256": hashlib.sha256(b"x" * 100).hexdigest(),
                                 "end": "TLSTruncatedError"}


@pytest.mark.parametrize("how", ["close", "del"])
def test_child_drops_its_copy_without_ending_the_session(pki, client_ctx, how) -> None:
    srv = subprocess.Popen([sys.executable, "-c", ECHO_SERVER_CHILD, str(pki.server_cert), str(pki.server_key)],
                           stdout=subprocess.PIPE, text=True)
    try:
        port = int(srv.stdout.readline())
        s = mojo_tls.connect("127.0.0.1", port, context=client_ctx, timeout=20)
        hello, big = os.urandom(1000), os.urandom(1 << 20)
        _echo(s, hello)
        pid = os.fork()
        if pid == 0:  # the child: drop the copy, never return into pytest
            code = 1
            try:
                if how == "close":
                    s.close()
                else:
                    del s  # the last reference: __del__ closes
                code = 0
            finally:
                os._exit(code)
        assert _wait(pid) == 0
        _echo(s, big)
        s.shutdown(socket.SHUT_WR)  # the owner ends the session: close_notify
        s.close()
        result = json.loads(srv.stdout.readline())
        assert srv.wait(timeout=20) == 0
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
        srv.stdout.close()
    assert result == {"bytes": len(hello) + len(big),
                      "sha256": hashlib.sha256(hello + big).hexdigest(), "end": "eof"}
