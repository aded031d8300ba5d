"""Peer processes for the Mojo tests (imported from Mojo through Python interop).

Everything listens on or connects to 127.0.0.1 only, every wait is bounded,
and only processes started here are ever stopped (by their PID). Also runnable
as a script: `python3 peers.py echo-server CERT KEY [ALPN]` is a Python `ssl`
echo server that prints `PORT <n>` and serves one connection.
"""

from __future__ import annotations

import atexit
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from typing import List, Optional

HOST = "127.0.0.1"
_started: List["Peer"] = []


class Peer:
    """A child process we started; its output is collected as it comes."""

    def __init__(self, argv: List[str], port_pattern: Optional[str] = None,
                 timeout: float = 20.0, stdin_data: Optional[bytes] = None) -> None:
        self.argv = [str(a) for a in argv]
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        _started.append(self)
        self.pid = self.proc.pid
        self.out = b""
        self.port = 0
        if stdin_data:
            self.proc.stdin.write(stdin_data)
            self.proc.stdin.flush()
        if port_pattern:
            m = self.wait_for(port_pattern, timeout)
            self.port = int(m.group(1))

    def _pump(self, timeout: float) -> bool:
        """Read what is available within `timeout`; False at EOF."""
        r, _, _ = select.select([self.proc.stdout], [], [], max(0.0, timeout))
        if not r:
            return True
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            return False
        self.out += chunk
        return True

    def wait_for(self, pattern: str, timeout: float = 20.0) -> "re.Match[bytes]":
        """Wait until the output matches `pattern` (a regex); raise on timeout or exit."""
        rx = re.compile(pattern.encode())
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.out)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise TimeoutError(f"{self.argv[0]}: no {pattern!r} within {timeout}s; "
                                   f"output: {self.out.decode(errors='replace')!r}")
            if not self._pump(min(left, 0.2)):
                m = rx.search(self.out)
                if m:
                    return m
                self.stop()
                raise RuntimeError(f"{self.argv[0]} exited before {pattern!r}; "
                                   f"output: {self.out.decode(errors='replace')!r}")

    def write(self, data: bytes) -> None:
        """Send `data` to the process's stdin."""
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def finish(self, timeout: float = 20.0) -> str:
        """Wait (bounded) for the process to exit; returns all of its output.
        Kills it if it is still running at the deadline."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._pump(min(0.2, deadline - time.monotonic())):
                break
        try:
            self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.stop()
        return self.output()

    def output(self) -> str:
        return self.out.decode(errors="replace")

    def returncode(self) -> int:
        rc = self.proc.poll()
        return -999 if rc is None else rc

    def stop(self) -> None:
        """Kill the process (ours, by PID) if it still runs, and reap it."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f:
                    f.close()
            except OSError:
                pass
        if self in _started:
            _started.remove(self)


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the test process ends (Linux), so a
    test that fails midway, or is killed, leaves no peer behind."""
    if sys.platform.startswith("linux"):
        import ctypes
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


_temp_dirs: List[str] = []


@atexit.register
def cleanup() -> None:
    """Stop every process started here and remove the temporary directories.
    Called by the tests' main (Python's atexit does not run when Python is
    embedded in a Mojo program)."""
    for p in list(_started):
        p.stop()
    for d in _temp_dirs:
        shutil.rmtree(d, ignore_errors=True)
    _temp_dirs.clear()


# --- peers ------------------------------------------------------------------------

def openssl_server(cert: str, key: str, *extra: str) -> Peer:
    """`openssl s_server` on 127.0.0.1 (a free port), serving one connection.
    Extra arguments, e.g. "-rev" (echo lines reversed) or "-alpn", "h2"."""
    argv = ["openssl", "s_server", "-accept", f"{HOST}:0", "-cert", cert, "-key", key,
            "-naccept", "1", *extra]
    return Peer(argv, r"ACCEPT [^\s:]+:(\d+)")


def openssl_client(port: int, ca: str, servername: str, data: bytes, *extra: str) -> Peer:
    """`openssl s_client` to 127.0.0.1:port, verifying with `ca`, sending
    `data`; prints what the server sends (read it with finish())."""
    argv = ["openssl", "s_client", "-connect", f"{HOST}:{port}", "-CAfile", ca,
            "-servername", servername, "-verify_return_error", "-verify_hostname", servername,
            "-quiet", *extra]
    return Peer(argv, None, stdin_data=data)


def python_echo_server(cert: str, key: str, alpn: str = "") -> Peer:
    """A Python `ssl` echo server (this file as a script), one connection."""
    # Embedded in Mojo, sys.executable may not be a Python interpreter.
    python = os.environ.get("MOJO_TLS_PYTHON") or shutil.which("python3") or sys.executable
    argv = [python, os.path.abspath(__file__), "echo-server", cert, key, alpn]
    return Peer(argv, r"PORT (\d+)")


def spawn(argv: List[str], port_pattern: str = r"listening on [^\s:]+:(\d+)") -> Peer:
    """Any program that prints its port (e.g. the Mojo echo server example)."""
    return Peer(list(argv), port_pattern)


def run(argv: List[str], timeout: float = 30.0) -> Peer:
    """Run a program to its end (bounded); read output()/returncode()."""
    p = Peer(list(argv))
    p.close_stdin()
    p.finish(timeout)
    return p


def write_file(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def make_temp_dir() -> str:
    """A new temporary directory, removed by cleanup()."""
    import tempfile
    d = tempfile.mkdtemp(prefix="mojo-tls-test-")
    _temp_dirs.append(d)
    return d


def free_port() -> int:
    """A port nobody listens on right now (for connection-refused checks)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- script mode ---------------------------------------------------------------------

def _echo_server(cert: str, key: str, alpn: str) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if alpn:
        ctx.set_alpn_protocols(alpn.split(","))
    with socket.socket() as ls:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((HOST, 0))
        ls.listen(1)
        ls.settimeout(30)
        print(f"PORT {ls.getsockname()[1]}", flush=True)
        conn, _ = ls.accept()
        conn.settimeout(30)
        with ctx.wrap_socket(conn, server_side=True) as tls:
            print(f"ALPN {tls.selected_alpn_protocol()}", flush=True)
            while True:
                data = tls.recv(65536)
                if not data:
                    break
                tls.sendall(data)
            try:
                tls.unwrap()
            except (OSError, ssl.SSLError):
                pass
    print("DONE", flush=True)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "echo-server":
        _echo_server(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "")
    else:
        sys.exit(__doc__)
