"""Peer processes for the Mojo tests (imported from Mojo through Python interop).

Everything listens on or connects to 127.0.0.1 only, every wait is bounded,
and only processes started here are ever stopped (by their PID). Also runnable
as a script: `python3 peers.py echo-server CERT KEY [ALPN]` is a Python `ssl`
echo server that prints `PORT <n>` and serves one connection;
`many-clients PORT CA N SILENT`, `reset-client PORT CA` and
`send-and-close PORT CA SIZE` are clients (see their functions).
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
                 timeout: float = 20.0, stdin_data: Optional[bytes] = None,
                 cwd: Optional[str] = None, env: Optional[dict] = None) -> None:
        self.argv = [str(a) for a in argv]
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
                                     cwd=cwd, env=env)
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


def spawn_in(argv: List[str], cwd: str, env_set: dict, env_unset: List[str],
             port_pattern: str = r"listening on [^\s:]+:(\d+)") -> Peer:
    """As spawn, in directory `cwd`, with environment changes."""
    env = dict(os.environ)
    for k in env_unset:
        env.pop(str(k), None)
    env.update({str(k): str(v) for k, v in dict(env_set).items()})
    return Peer(list(argv), port_pattern, cwd=str(cwd), env=env)


_DECOY_C = r"""
#include <fcntl.h>
#include <unistd.h>
/* A planted library: if anything loads it, its constructor leaves a mark. */
__attribute__((constructor)) static void planted(void) {
    int fd = open(MARKER, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) { (void)write(fd, WHERE "\n", sizeof(WHERE)); close(fd); }
}
int mojo_tls_abi_version(void) { return 1; }
"""


def build_decoys(dirs: List[str], marker: str) -> None:
    """A decoy libmojo_tls (every name the loaders try) in each of `dirs`;
    loading one appends its directory to `marker`."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise RuntimeError("a C compiler (cc) is needed for the planting tests")
    for d in dirs:
        d = str(d)
        os.makedirs(d, exist_ok=True)
        src = os.path.join(d, "decoy.c")
        with open(src, "w") as f:
            f.write(_DECOY_C)
        out = os.path.join(d, "libmojo_tls.so.1")
        subprocess.run([cc, "-shared", "-fPIC", "-o", out, src, f'-DMARKER="{marker}"',
                        f'-DWHERE="{d}"'], check=True, timeout=60)
        for alias in ("libmojo_tls.so",):
            shutil.copyfile(out, os.path.join(d, alias))


def read_text(path: str) -> str:
    """The file's text, "" when it does not exist."""
    try:
        with open(str(path), encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def chdir(path: str) -> str:
    """Change this process's working directory; returns the previous one."""
    old = os.getcwd()
    os.chdir(str(path))
    return old


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


def _client_context(ca: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    return ctx


def _many_clients(port: int, ca: str, n: int, silent: int) -> None:
    """`silent` plain TCP connections that never send a byte, then `n`
    concurrent TLS clients (threads) that each send 4 KiB, read the echo
    back and close (every other one with close_notify). Prints
    "RESULT ok=N failed=N max_s=X" and each failure."""
    import threading
    quiet = []
    for _ in range(silent):
        q = socket.create_connection((HOST, port), timeout=10)
        quiet.append(q)
    time.sleep(0.3)  # the server has certainly taken them first
    ctx = _client_context(ca)
    times: List[float] = []
    failures: List[str] = []
    lock = threading.Lock()
    go = threading.Event()

    def one(i: int) -> None:
        go.wait(10)
        t0 = time.monotonic()
        try:
            payload = (f"client {i:04d} ".encode() * 400)[:4096]
            with socket.create_connection((HOST, port), timeout=15) as raw:
                tls = ctx.wrap_socket(raw, server_hostname="localhost")
                tls.sendall(payload)
                got = b""
                while len(got) < len(payload):
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                if got != payload:
                    raise RuntimeError(f"echo mismatch: {len(got)} of {len(payload)} bytes")
                if i % 2 == 0:
                    tls.unwrap()
                tls.close()
            with lock:
                times.append(time.monotonic() - t0)
        except Exception as exc:  # reported, counted as a failure
            with lock:
                failures.append(f"client {i}: {exc!r}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(60)
    for f in failures:
        print("FAIL", f, flush=True)
    print(f"RESULT ok={len(times)} failed={len(failures)} max_s={max(times, default=0):.3f}",
          flush=True)
    for q in quiet:
        q.close()


def _reset_client(port: int, ca: str) -> None:
    """Handshake, send b"ping", wait, then reset the TCP connection (RST,
    no close_notify)."""
    import struct
    with socket.create_connection((HOST, port), timeout=10) as raw:
        tls = _client_context(ca).wrap_socket(raw, server_hostname="localhost")
        tls.sendall(b"ping")
        time.sleep(0.5)
        # Linger 0: close() sends RST (wrap_socket took over raw's fd).
        tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        tls.close()
    print("RESET", flush=True)


def _send_and_close(port: int, ca: str, size: int) -> None:
    """Handshake, send `size` bytes, close the socket without close_notify
    (what Python's ssl clients do on close())."""
    with socket.create_connection((HOST, port), timeout=10) as raw:
        tls = _client_context(ca).wrap_socket(raw, server_hostname="localhost")
        tls.sendall(b"t" * size)
        tls.close()
    print("CLOSED", flush=True)


def python_script(*args: str) -> Peer:
    """This file as a script in another Python process."""
    python = os.environ.get("MOJO_TLS_PYTHON") or shutil.which("python3") or sys.executable
    return Peer([python, os.path.abspath(__file__), *[str(a) for a in args]])


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "echo-server":
        _echo_server(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "")
    elif len(sys.argv) == 6 and sys.argv[1] == "many-clients":
        _many_clients(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) == 4 and sys.argv[1] == "reset-client":
        _reset_client(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "send-and-close":
        _send_and_close(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)
