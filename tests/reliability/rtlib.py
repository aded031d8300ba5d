"""Shared helpers for the reliability suites (tests/reliability).

Loads libmojo_tls from $MOJO_TLS_DIST/lib (default: <repo>/dist/lib) through
the generated ctypes layer (python/mojo_tls/_ffi.py), so every suite runs
against whatever backend dist/ was built with. Provides a tiny case runner
(PASS / FAIL / XFAIL / SKIP lines, then exactly "N passed, N failed"),
certificate helpers (the library's generator and the openssl CLI), loopback
servers and fd counting.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DIST = Path(os.environ.get("MOJO_TLS_DIST") or (ROOT / "dist")).resolve()


def library_file() -> Path:
    for name in ("libmojo_tls.so.1", "libmojo_tls.so", "libmojo_tls.1.dylib", "libmojo_tls.dylib"):
        p = DIST / "lib" / name
        if p.exists():
            return p
    raise SystemExit(f"error: no libmojo_tls in {DIST}/lib: run ./build.sh first")


# The suites test dist/, not a copy inside the Python package directory.
os.environ["MOJO_TLS_LIBRARY"] = os.environ.get("MOJO_TLS_RELIABILITY_LIBRARY") or str(library_file())
if str(ROOT / "python") not in sys.path:
    sys.path.insert(0, str(ROOT / "python"))

from mojo_tls import _ffi as ffi  # noqa: E402

L = ffi.load(os.environ["MOJO_TLS_LIBRARY"])
E = ffi.mojo_tls_err


def slow() -> int:
    """Scale factor for upper time bounds (valgrind, busy machines)."""
    try:
        return max(1, int(os.environ.get("MOJO_TLS_TEST_SLOW", "1")))
    except ValueError:
        return 1


def backend() -> str:
    return L.mojo_tls_backend().decode()


def last_error() -> Tuple[int, str]:
    code = L.mojo_tls_last_error_code()
    n = L.mojo_tls_last_error(None, 0)
    buf = ctypes.create_string_buffer(n + 1)
    L.mojo_tls_last_error(buf, n + 1)
    return code, buf.value.decode("utf-8", "replace")


def code_name(code: Optional[int]) -> str:
    if code is None:
        return "None"
    try:
        return E(code).name.replace("MOJO_TLS_", "")
    except ValueError:
        return str(code)


# ---------------------------------------------------------------------------
# case runner
# ---------------------------------------------------------------------------

class XFail(Exception):
    """Raised by a case to mark a known, reported library bug (counted as passed, printed XFAIL)."""


class Skip(Exception):
    """Raised by a case that does not apply to this backend / machine."""


class Runner:
    def __init__(self, title: str) -> None:
        self.title = title
        self.passed = 0
        self.failed = 0
        self.notes: List[str] = []
        print(f"== {title} (backend: {backend()})", flush=True)

    def run(self, name: str, fn: Callable[..., object], *args: object, xfail: str = "") -> bool:
        t0 = time.monotonic()
        status, detail = "PASS", ""
        try:
            r = fn(*args)
            if isinstance(r, str) and r:
                detail = r
            if xfail:
                status, detail = "XPASS", f"expected failure passed, remove the mark: {xfail}"
        except Skip as exc:
            status, detail = "SKIP", str(exc)
        except XFail as exc:
            status, detail = "XFAIL", str(exc)
        except AssertionError as exc:
            status, detail = ("XFAIL", f"{xfail} [{exc}]") if xfail else ("FAIL", str(exc) or "assertion failed")
        except Exception:  # noqa: BLE001 - a crashing case is a failing case
            tb = traceback.format_exc().rstrip()
            status, detail = ("XFAIL", f"{xfail} [{tb.splitlines()[-1]}]") if xfail else ("FAIL", tb)
        dt = time.monotonic() - t0
        ok = status != "FAIL"
        if ok and status != "SKIP":
            self.passed += 1
        elif not ok:
            self.failed += 1
        print(f"{status:5} {name} ({dt:.1f}s){(': ' + detail) if detail else ''}", flush=True)
        return ok

    def finish(self) -> int:
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


# ---------------------------------------------------------------------------
# certificates
# ---------------------------------------------------------------------------

def _out(fn: Callable[..., int], *args: object) -> bytes:
    n = fn(*args, None, 0)
    assert n > 0, f"{fn.__name__} size query: {n} {last_error()}"
    buf = ctypes.create_string_buffer(n + 1)
    m = fn(*args, buf, n + 1)
    assert m == n, f"{fn.__name__}: {m} != {n}"
    return buf.raw[:n]


class Gen:
    """A certificate made by mojo_tls_gencert_* (handle kept for signing)."""

    def __init__(self, handle: object) -> None:
        assert handle, f"gencert failed: {last_error()}"
        self.h = handle
        self.cert = _out(L.mojo_tls_gencert_cert_pem, handle)
        self.key = _out(L.mojo_tls_gencert_key_pem, handle)

    @staticmethod
    def ca(cn: str = "reliability CA", days: int = 30) -> "Gen":
        return Gen(L.mojo_tls_gencert_new_ca(cn.encode(), days, ffi.MOJO_TLS_KEY_ECDSA_P256))

    @staticmethod
    def leaf(issuer: Optional["Gen"], cn: str = "localhost", sans: str = "localhost,127.0.0.1",
             not_before: int = 0, days: int = 30, usage: int = ffi.MOJO_TLS_USAGE_SERVER) -> "Gen":
        return Gen(L.mojo_tls_gencert_new_leaf(issuer.h if issuer else None, cn.encode(), sans.encode(),
                                           not_before, days, usage, ffi.MOJO_TLS_KEY_ECDSA_P256))

    def crl(self, revoked: Sequence["Gen"]) -> bytes:
        arr = (ffi.GencertHandle * max(1, len(revoked)))(*[r.h for r in revoked])
        n = L.mojo_tls_gencert_crl_pem(self.h, arr, len(revoked), None, 0)
        assert n > 0, f"crl size query {n} {last_error()}"
        buf = ctypes.create_string_buffer(n + 4096)  # each call signs anew: be generous
        m = L.mojo_tls_gencert_crl_pem(self.h, arr, len(revoked), buf, n + 4096)
        assert m > 0
        return buf.value

    def free(self) -> None:
        if self.h:
            L.mojo_tls_gencert_free(self.h)
            self.h = None


class TempDir:
    """A temporary directory removed on exit (also on failure)."""

    def __init__(self, prefix: str = "mojo-tls-rel-") -> None:
        self.path = Path(tempfile.mkdtemp(prefix=prefix))

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


OPENSSL_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ext]
"""


class OpenSSL:
    """Certificates the library's generator cannot express, made with the openssl CLI."""

    def __init__(self, workdir: Path) -> None:
        if not shutil.which("openssl"):
            raise Skip("openssl CLI not installed")
        self.dir = workdir
        self.n = 0
        (workdir / "openssl.cnf").write_text(OPENSSL_CNF)

    def _run(self, *args: str) -> None:
        env = dict(os.environ, OPENSSL_CONF=str(self.dir / "openssl.cnf"))
        r = subprocess.run(["openssl", *args], cwd=self.dir, env=env, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"openssl {' '.join(args)} failed: {r.stderr.strip()}")

    def key(self, kind: str) -> Path:
        self.n += 1
        p = self.dir / f"k{self.n}.pem"
        if kind.startswith("rsa"):
            bits = kind[3:] or "2048"
            self._run("genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}", "-out", p.name)
        else:
            self._run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", p.name)
        return p

    def cert(self, cn: str, ext: Iterable[str], issuer: Optional[Tuple[Path, Path]] = None,
             key: str = "ec", md: str = "sha256", days: int = 30) -> Tuple[Path, Path]:
        """(cert, key) with the given v3 extension lines; self-signed when issuer is None."""
        k = self.key(key)
        self.n += 1
        extf = self.dir / f"e{self.n}.cnf"
        extf.write_text(OPENSSL_CNF + "\n".join(ext) + "\nsubjectKeyIdentifier = hash\n")
        c = self.dir / f"c{self.n}.pem"
        if issuer is None:
            self._run("req", "-new", "-x509", "-key", k.name, "-subj", f"/CN={cn}", "-days", str(days), f"-{md}",
                      "-config", extf.name, "-extensions", "ext", "-set_serial", str(1000 + self.n),
                      "-out", c.name)
        else:
            csr = self.dir / f"r{self.n}.csr"
            self._run("req", "-new", "-key", k.name, "-subj", f"/CN={cn}", "-config", "openssl.cnf", "-out", csr.name)
            self._run("x509", "-req", "-in", csr.name, "-CA", str(issuer[0]), "-CAkey", str(issuer[1]),
                      "-set_serial", str(1000 + self.n), "-days", str(days), f"-{md}",
                      "-extfile", extf.name, "-extensions", "ext", "-out", c.name)
        return c, k


CA_EXT = ["basicConstraints = critical, CA:TRUE", "keyUsage = critical, keyCertSign, cRLSign"]
LEAF_EXT = ["basicConstraints = critical, CA:FALSE", "keyUsage = critical, digitalSignature, keyEncipherment",
            "extendedKeyUsage = serverAuth", "subjectAltName = DNS:localhost, IP:127.0.0.1"]


# ---------------------------------------------------------------------------
# configs, servers, clients
# ---------------------------------------------------------------------------

def io_timeout_ms() -> int:
    return 15000 * slow()


def server_config(chain_pem: bytes, key_pem: bytes) -> object:
    cfg = L.mojo_tls_config_new(ffi.MOJO_TLS_ROLE_SERVER)
    assert cfg, last_error()
    rc = L.mojo_tls_config_add_cert_mem(cfg, chain_pem, len(chain_pem), key_pem, len(key_pem), None)
    assert rc == 0, f"server add_cert_mem: {code_name(rc)} {last_error()[1]}"
    return cfg


def client_config(ca_pems: Sequence[bytes] = (), crl: Optional[bytes] = None) -> object:
    cfg = L.mojo_tls_config_new(ffi.MOJO_TLS_ROLE_CLIENT)
    assert cfg, last_error()
    for pem in ca_pems:
        rc = L.mojo_tls_config_add_ca_mem(cfg, pem, len(pem))
        assert rc == 0, f"load_ca_mem: {code_name(rc)} {last_error()[1]}"
    if crl is not None:
        rc = L.mojo_tls_config_add_crl_mem(cfg, crl, len(crl))
        assert rc == 0, f"load_crl_mem: {code_name(rc)} {last_error()[1]}"
    return cfg


def listen() -> Tuple[int, int]:
    lfd = L.mojo_tls_socket_listen(b"127.0.0.1", 0, 16)
    assert lfd >= 0, last_error()
    return lfd, L.mojo_tls_socket_port(lfd)


class MojoServer:
    """Accepts one connection with mojo_tls_conn_new_accept on a thread; echoes one message."""

    def __init__(self, cfg: object, timeout_ms: Optional[int] = None) -> None:
        self.cfg = cfg
        self.lfd, self.port = listen()
        self.ok = False
        self.code = 0
        self.msg = ""
        self.timeout_ms = timeout_ms or io_timeout_ms()
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self) -> None:
        c = L.mojo_tls_conn_new_accept(self.cfg, self.lfd, self.timeout_ms)
        if not c:
            self.code, self.msg = last_error()
            return
        self.ok = True
        L.mojo_tls_conn_set_timeout(c, self.timeout_ms)
        buf = ctypes.create_string_buffer(64)
        n = L.mojo_tls_conn_read(c, buf, 64)
        if n > 0:
            L.mojo_tls_conn_write_all(c, buf, n)
        L.mojo_tls_conn_free(c)

    def join(self) -> None:
        self.th.join(self.timeout_ms / 1000 + 10)
        assert not self.th.is_alive(), "server thread hung"
        L.mojo_tls_socket_close(self.lfd)


class StdlibServer:
    """A Python `ssl` (OpenSSL) server for certificates the library may refuse to load
    (weak keys, SHA-1): accepts one connection on a thread and echoes one message."""

    def __init__(self, cert: Path, key: Path, chain: Sequence[Path] = ()) -> None:
        import ssl

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        if chain:
            full = cert.parent / (cert.stem + "-chain.pem")
            full.write_bytes(cert.read_bytes() + b"".join(c.read_bytes() for c in chain))
            cert = full
        ctx.load_cert_chain(str(cert), str(key))
        self.ctx = ctx
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(io_timeout_ms() / 1000)
        self.port = self.sock.getsockname()[1]
        self.error: Optional[str] = None
        self.ok = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self) -> None:
        try:
            s, _ = self.sock.accept()
            s.settimeout(io_timeout_ms() / 1000)
            with self.ctx.wrap_socket(s, server_side=True) as t:
                self.ok = True
                data = t.recv(64)
                if data:
                    t.sendall(data)
        except Exception as exc:  # noqa: BLE001 - outcome is reported, not asserted
            self.error = str(exc)

    def join(self) -> None:
        self.th.join(io_timeout_ms() / 1000 + 10)
        assert not self.th.is_alive(), "stdlib server thread hung"
        self.sock.close()


def tcp_connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=io_timeout_ms() / 1000)
    s.settimeout(None)
    return s


def conn_info(c: object) -> Tuple[int, str]:
    flags = L.mojo_tls_conn_verify_flags(c)
    buf = ctypes.create_string_buffer(512)
    L.mojo_tls_conn_verify_reason(c, buf, 512)
    return flags, buf.value.decode("utf-8", "replace")


def client_try(cfg: object, port: int, server_name: Optional[str], use_connect: Optional[str] = None
               ) -> Tuple[bool, int, str, int]:
    """Handshake + one echoed message. Returns (ok, code, last_error, verify_flags)."""
    L.mojo_tls_clear_error()
    if use_connect is not None:
        c = L.mojo_tls_conn_new_connect(cfg, use_connect.encode(), port, io_timeout_ms())
        if not c:
            code, msg = last_error()
            return False, code, msg, -1
    else:
        s = tcp_connect(port)
        c = L.mojo_tls_conn_new_fd(cfg, s.detach(), 1, server_name.encode() if server_name else None)
        assert c, f"conn_new_fd: {last_error()}"
        L.mojo_tls_conn_set_timeout(c, io_timeout_ms())
        rc = L.mojo_tls_conn_handshake(c)
        if rc != 0:
            code, msg = last_error()
            flags = L.mojo_tls_conn_verify_flags(c)
            L.mojo_tls_conn_free(c)
            return False, rc if code == 0 else code, msg, flags
    try:
        w = L.mojo_tls_conn_write_all(c, b"ping", 4)
        buf = ctypes.create_string_buffer(16)
        got = b""
        while len(got) < 4:
            n = L.mojo_tls_conn_read(c, buf, 16)
            if n <= 0:
                break
            got += buf.raw[:n]
        if w != 4 or got != b"ping":
            code, msg = last_error()
            return False, code, f"echo failed (write {w}, got {got!r}): {msg}", -1
        return True, 0, "", L.mojo_tls_conn_verify_flags(c)
    finally:
        L.mojo_tls_conn_free(c)


# ---------------------------------------------------------------------------
# resources
# ---------------------------------------------------------------------------

def fd_count() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def open_fds() -> List[str]:
    out = []
    try:
        for fd in os.listdir("/proc/self/fd"):
            try:
                out.append(f"{fd} -> {os.readlink('/proc/self/fd/' + fd)}")
            except OSError:
                pass
    except OSError:
        pass
    return out


def rss_kib(trim: bool = True) -> int:
    """Resident set size in KiB; with `trim`, free heap memory is returned to
    the OS first (glibc malloc_trim) so the figure reflects live allocations."""
    if trim:
        try:
            ctypes.CDLL(None).malloc_trim(0)
        except (OSError, AttributeError):
            pass
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def wait_fds(baseline: int, slack: int = 0, seconds: float = 5.0) -> int:
    """Wait (bounded) for the fd count to come back to baseline + slack; returns the count."""
    deadline = time.monotonic() + seconds
    n = fd_count()
    while n > baseline + slack and time.monotonic() < deadline:
        time.sleep(0.05)
        n = fd_count()
    return n
