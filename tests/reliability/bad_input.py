#!/usr/bin/env python3
"""Bad-input sweep over the whole C ABI, table-driven from mojo_tls.h.

Every function declared in the header (dist/include/mojo_tls.h, parsed by
header.py) must have an entry in TABLE below, or the sweep fails with "add it
to the sweep" — so a new function cannot be missed. From each entry's valid
arguments the sweep derives, by parameter type:

  handle parameters      NULL, freed, forged (never-issued id, odd value,
                         small integer, pointer to real memory) and
                         wrong-type handles -> MOJO_TLS_ERR_INVALID_HANDLE
                         (NULL constructors: NULL + last_error_code)
  (pointer, length)      NULL with a length, SIZE_MAX and 2^63 lengths
                         -> MOJO_TLS_ERR_INVALID_ARGUMENT
  output buffers         NULL with a capacity -> INVALID_ARGUMENT, size
                         query (NULL, 0) -> the length
  const char *           NULL -> INVALID_ARGUMENT (unless documented optional),
                         non-UTF-8 -> INVALID_ARGUMENT

plus per-function cases: zero lengths, out-of-range values, garbage and
truncated PEM/DER, missing files, wrong roles. The compat functions
(docs/compat.md: as unsafe as Mbed TLS) get their NULL handling swept only.
Universal checks on every call: no crash, no hang, no caught panic
(MOJO_TLS_ERR_INTERNAL), and after a failure last_error_code() equals the
returned code with a non-empty message.

Crash isolation: the cases run in a worker subprocess that announces each
case before calling it; if the worker dies (signal) or stops making
progress, the supervisor reports that case as a crash/hang and starts a new
worker at the next case.
"""

from __future__ import annotations

import ctypes
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import header as H
import rtlib as R
from rtlib import E, ffi

class _CompatLib:
    """The few compat functions the fixtures call (mojo_tls_compat.h; the
    generated ctypes layer declares only mojo_tls.h)."""

    def fn(self, name: str, restype: Any, argtypes: List[Any]) -> Any:
        f = ctypes.CFUNCTYPE(restype, *argtypes)(ctypes.cast(getattr(R.L.cdll, name), ctypes.c_void_p).value)
        return f

    def alloc(self, size: int) -> int:
        return self.fn("mojo_tls_alloc", ctypes.c_void_p, [ctypes.c_size_t])(size)

    def free(self, p: int) -> None:
        self.fn("mojo_tls_free", None, [ctypes.c_void_p])(p)

    def sizeof(self, kind: str) -> int:
        return self.fn(f"mojo_tls_sizeof_{kind}", ctypes.c_size_t, [])()


CL = _CompatLib()

SIZE_MAX = 2**64 - 1 if ctypes.sizeof(ctypes.c_size_t) == 8 else 2**32 - 1
HUGE = 2**63 if ctypes.sizeof(ctypes.c_size_t) == 8 else 2**31

C = {e.name.replace("MOJO_TLS_ERR_", "").replace("MOJO_TLS_", ""): int(e) for e in E}
INVALID_HANDLE, INVALID_ARGUMENT, PARSE = C["INVALID_HANDLE"], C["INVALID_ARGUMENT"], C["PARSE"]
NOT_FOUND, BAD_PASSWORD, BAD_STATE = C["NOT_FOUND"], C["BAD_PASSWORD"], C["BAD_STATE"]
NOT_AVAILABLE, UNSUPPORTED, WANT_READ = C["NOT_AVAILABLE"], C["UNSUPPORTED"], C["WANT_READ"]
INTERNAL = C["INTERNAL"]

# Mbed TLS BAD_INPUT_DATA codes returned by the compat layer for NULL (docs/compat.md);
# Mbed TLS 4.x defines the SSL and PK ones as PSA_ERROR_INVALID_ARGUMENT (-0x87)
SSL_BAD_INPUT, X509_BAD_INPUT, PK_BAD_INPUT, NET_BAD_INPUT = -0x7100, -0x2800, -0x3E80, -0x0049
if R.backend().startswith("Mbed TLS 4."):
    SSL_BAD_INPUT = PK_BAD_INPUT = -0x87


# ---------------------------------------------------------------------------
# expectations
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Expect:
    kind: str                      # "codes" | "ok" | "any" | "null" (pointer result NULL) | "nocrash"
    codes: Tuple[int, ...] = ()

    def __str__(self) -> str:
        if self.kind == "codes":
            return "|".join(R.code_name(c) if c > -64 else hex(c) for c in self.codes)
        return self.kind.upper()


def codes(*cs: int) -> Expect:
    return Expect("codes", tuple(cs))


OK = Expect("ok")
ANY = Expect("any")          # documented as either outcome: only the universal checks apply
NULLPTR = Expect("null")     # pointer result NULL (compat getters)
NOCRASH = Expect("nocrash")  # void functions

# ---------------------------------------------------------------------------
# argument markers (materialised inside the worker)
# ---------------------------------------------------------------------------


@dataclass
class B:
    """Input bytes (a buffer holding exactly these bytes; NUL-terminated for strings)."""
    data: bytes


@dataclass
class O:
    """An output buffer of n bytes."""
    n: int


@dataclass
class Arr:
    """An array of handle values (for gencert_crl_pem's `revoked`)."""
    items: List[Any]


def S(s: "str | bytes") -> B:
    return B(s.encode() if isinstance(s, str) else s)


# ---------------------------------------------------------------------------
# the fixtures every worker builds
# ---------------------------------------------------------------------------

class Fx:
    def __init__(self) -> None:
        L = R.L
        self.tmp = R.TempDir("mojo-tls-sweep-")
        d = self.tmp.path
        self.ca_gen = R.Gen.ca("sweep CA")
        self.leaf_gen = R.Gen.leaf(self.ca_gen)
        self.other_gen = R.Gen.ca("sweep other CA")
        self.ca, self.leaf = self.ca_gen.h.value, self.leaf_gen.h.value
        self.ca_pem, self.cert_pem, self.key_pem = self.ca_gen.cert, self.leaf_gen.cert, self.leaf_gen.key
        self.other_key = R.Gen.leaf(self.other_gen).key
        n = L.mojo_tls_gencert_cert_der(self.ca_gen.h, None, 0)
        buf = ctypes.create_string_buffer(n)
        L.mojo_tls_gencert_cert_der(self.ca_gen.h, buf, n)
        self.ca_der = buf.raw
        self.crl_pem = self.ca_gen.crl([self.leaf_gen])
        self.ccfg = R.client_config([self.ca_pem]).value
        self.scfg = R.server_config(self.cert_pem, self.key_pem).value
        self.conn = L.mojo_tls_conn_new_memory(self.ccfg, b"localhost").value
        self.hs_client, self.hs_server = self._handshake_pair()
        self._session = self._export(self.hs_client)
        # freed handles of each type
        c = L.mojo_tls_config_new(0)
        L.mojo_tls_config_free(c)
        self.freed_cfg = c.value
        k = L.mojo_tls_conn_new_memory(self.ccfg, b"localhost")
        L.mojo_tls_conn_free(k)
        self.freed_conn = k.value
        g = L.mojo_tls_gencert_new_ca(b"freed", 1, 0)
        L.mojo_tls_gencert_free(g)
        self.freed_gen = g.value
        self.dscfg = R.server_config(self.cert_pem, self.key_pem).value
        assert L.mojo_tls_config_set_transport(self.dscfg, 1) == 0
        dl = L.mojo_tls_dtls_listener_new(self.dscfg, b"127.0.0.1", 0)
        L.mojo_tls_dtls_listener_free(dl)
        self.freed_listener = dl.value
        # wrong-type objects (dedicated, checked to survive being passed as another type)
        self.wt_cfg = L.mojo_tls_config_new(0).value
        self.wt_conn = L.mojo_tls_conn_new_memory(self.ccfg, b"localhost").value
        self.wt_gen = L.mojo_tls_gencert_new_ca(b"wrong type", 1, 0).value
        self.wt_listener = L.mojo_tls_dtls_listener_new(self.dscfg, b"127.0.0.1", 0).value
        self.real_mem = ctypes.create_string_buffer(b"\x41" * 256)
        self.compat_ssl = CL.alloc(CL.sizeof("ssl_context"))
        top = max(self.wt_gen, self.wt_conn, self.wt_cfg, self.hs_server, self.wt_listener)
        self.forged = [top + 16 * 1000003, 0x4141414141414140, top + 8, 16, ctypes.addressof(self.real_mem),
                       self.compat_ssl]
        # files
        self.f_ca = self._file("ca.pem", self.ca_pem)
        self.f_cert = self._file("cert.pem", self.cert_pem)
        self.f_key = self._file("key.pem", self.key_pem)
        self.f_other_key = self._file("other-key.pem", self.other_key)
        self.f_crl = self._file("crl.pem", self.crl_pem)
        self.f_garbage = self._file("garbage.pem", GARBAGE)
        self.f_trunc = self._file("trunc.pem", self.ca_pem[: len(self.ca_pem) // 2])
        self.f_trunc_key = self._file("trunc-key.pem", self.key_pem[: len(self.key_pem) // 2])
        self.f_empty = self._file("empty.pem", b"")
        self.f_missing = str(d / "does-not-exist.pem")
        self.d_cas = d / "cas"
        self.d_cas.mkdir()
        (self.d_cas / "ca.pem").write_bytes(self.ca_pem)
        self.d_garbage = d / "garbage"
        self.d_garbage.mkdir()
        (self.d_garbage / "x.pem").write_bytes(GARBAGE)
        self.d_empty = d / "empty"
        self.d_empty.mkdir()
        self.enc_key: Optional[str] = None
        self._enc_key()
        # a listening socket nobody connects to, and a closed port
        self.lfd = L.mojo_tls_socket_listen(b"127.0.0.1", 0, 4)
        self.lport = L.mojo_tls_socket_port(self.lfd)
        self.mute = socket.socket()  # accepts TCP (kernel backlog), never speaks TLS
        self.mute.bind(("127.0.0.1", 0))
        self.mute.listen(64)
        self.mute_port = self.mute.getsockname()[1]
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.closed_port = s.getsockname()[1]
        s.close()
        self.pipe_r, self.pipe_w = os.pipe()
        self.keep: List[Any] = []

    @property
    def session(self) -> bytes:
        if not self._session:
            raise R.Skip("the fixture connection exported no session")
        return self._session

    def _file(self, name: str, data: bytes) -> str:
        p = self.tmp.path / name
        p.write_bytes(data)
        return str(p)

    def _enc_key(self) -> None:
        import shutil

        if not shutil.which("openssl"):
            return
        out = self.tmp.path / "enc-key.pem"
        r = subprocess.run(["openssl", "pkey", "-in", self.f_key, "-aes256", "-passout", "pass:secret",
                            "-out", str(out)], capture_output=True, timeout=60)
        if r.returncode == 0:
            self.enc_key = str(out)

    def _handshake_pair(self) -> Tuple[int, int]:
        L = R.L
        c = L.mojo_tls_conn_new_memory(self.ccfg, b"localhost")
        s = L.mojo_tls_conn_new_memory(self.scfg, None)
        buf = ctypes.create_string_buffer(65536)
        rc = rs = WANT_READ
        for _ in range(50):
            rc = L.mojo_tls_conn_handshake(c)
            while (n := L.mojo_tls_conn_drain(c, buf, 65536)) > 0:
                L.mojo_tls_conn_feed(s, buf, n)
            rs = L.mojo_tls_conn_handshake(s)
            while (n := L.mojo_tls_conn_drain(s, buf, 65536)) > 0:
                L.mojo_tls_conn_feed(c, buf, n)
            if rc == 0 and rs == 0:
                break
        assert rc == 0 and rs == 0, f"fixture handshake: client {rc} server {rs} {R.last_error()}"
        # one byte each way, so post-handshake messages (TLS 1.3 tickets) are processed
        for a, b in ((s, c), (c, s)):
            L.mojo_tls_conn_write(a, b"x", 1)
            while (n := L.mojo_tls_conn_drain(a, buf, 65536)) > 0:
                L.mojo_tls_conn_feed(b, buf, n)
            L.mojo_tls_conn_read(b, buf, 16)
            while (n := L.mojo_tls_conn_drain(b, buf, 65536)) > 0:
                L.mojo_tls_conn_feed(a, buf, n)
        return c.value, s.value

    def _export(self, c: int) -> bytes:
        L = R.L
        n = L.mojo_tls_conn_session_export(c, None, 0)
        if n <= 0:
            return b""
        buf = ctypes.create_string_buffer(n)
        L.mojo_tls_conn_session_export(c, buf, n)
        return buf.raw

    # -- fresh objects for one case (freed by the worker after the case) -------
    def new_ccfg(self) -> int:
        h = R.client_config([self.ca_pem]).value
        self.keep.append(("cfg", h))
        return h

    def new_scfg(self) -> int:
        h = R.L.mojo_tls_config_new(1).value
        self.keep.append(("cfg", h))
        return h

    def new_conn(self, server: bool = False) -> int:
        h = R.L.mojo_tls_conn_new_memory(self.scfg if server else self.ccfg,
                                         None if server else b"localhost").value
        self.keep.append(("conn", h))
        return h

    def new_dconn(self, server: bool = False, cid: int = -1) -> int:
        """A DTLS memory-mode connection on a fresh datagram config (with
        Connection IDs of `cid` bytes unless -1)."""
        if server:
            cfg = R.server_config(self.cert_pem, self.key_pem).value
        else:
            cfg = R.client_config([self.ca_pem]).value
        self.keep.append(("cfg", cfg))
        assert R.L.mojo_tls_config_set_transport(cfg, 1) == 0
        if cid >= 0:
            assert R.L.mojo_tls_config_set_dtls_connection_id(cfg, cid) == 0
        h = R.L.mojo_tls_conn_new_memory(cfg, None if server else b"localhost").value
        self.keep.append(("conn", h))
        return h

    def new_cid_conn(self) -> int:
        """A DTLS memory-mode client, handshaken with a server of ours,
        both with 4-byte Connection IDs."""
        c, s = self.new_dconn(cid=4), self.new_dconn(True, cid=4)
        L = R.L
        assert L.mojo_tls_conn_set_peer_id(s, b"peer", 4) == 0
        buf = ctypes.create_string_buffer(4096)
        done = [False, False]
        for _ in range(40):
            for i, (a, b) in enumerate(((c, s), (s, c))):
                if not done[i]:
                    done[i] = L.mojo_tls_conn_handshake(a) == 0
                while True:
                    n = L.mojo_tls_conn_drain_datagram(a, buf, 4096)
                    if n <= 0:
                        break
                    L.mojo_tls_conn_feed_datagram(b, buf, n)
            if all(done):
                return c
        raise AssertionError("DTLS handshake with Connection IDs did not finish")

    def new_listener(self) -> int:
        """A DTLS listener on 127.0.0.1 (any port) nobody sends to."""
        h = R.L.mojo_tls_dtls_listener_new(self.dscfg, b"127.0.0.1", 0).value
        self.keep.append(("listener", h))
        return h

    def new_dccfg(self) -> int:
        """A DTLS client configuration."""
        h = self.new_ccfg()
        assert R.L.mojo_tls_config_set_transport(h, 1) == 0
        return h

    def new_gen(self) -> int:
        h = R.L.mojo_tls_gencert_new_ca(b"scratch", 1, 0).value
        self.keep.append(("gen", h))
        return h

    def new_sock(self) -> int:
        a, b = socket.socketpair()
        self.keep.append(("sock", b))
        return a.detach()

    def new_fd_conn(self) -> int:
        h = R.L.mojo_tls_conn_new_fd(self.ccfg, self.new_sock(), 1, b"localhost").value
        self.keep.append(("conn", h))
        return h

    def new_lfd(self) -> int:
        """A listening fd for a case that closes it (not released again: the
        number could be reused by then)."""
        return R.L.mojo_tls_socket_listen(b"127.0.0.1", 0, 4)

    def release(self) -> None:
        L = R.L
        for kind, h in reversed(self.keep):
            if kind == "cfg":
                L.mojo_tls_config_free(h)
            elif kind == "conn":
                L.mojo_tls_conn_free(h)
            elif kind == "gen":
                L.mojo_tls_gencert_free(h)
            elif kind == "listener":
                L.mojo_tls_dtls_listener_free(h)
            elif kind == "sock":
                h.close()
            elif kind == "fd" and isinstance(h, int) and h >= 0:
                L.mojo_tls_socket_close(h)
        self.keep.clear()

    def wrong_type_alive(self) -> Optional[str]:
        L = R.L
        if L.mojo_tls_config_insecure_skip_hostname_check(self.wt_cfg, 0) != 0:
            return "a config passed as another handle type was destroyed"
        if L.mojo_tls_conn_pending_output(self.wt_conn) < 0:
            return "a connection passed as another handle type was destroyed"
        if L.mojo_tls_gencert_cert_pem(self.wt_gen, None, 0) <= 0:
            return "a generated certificate passed as another handle type was destroyed"
        if L.mojo_tls_dtls_listener_port(self.wt_listener) <= 0:
            return "a DTLS listener passed as another handle type was destroyed"
        return None


GARBAGE = bytes(range(256)) * 3
TRUNC_DER_HEAD = b"\x30\x82\xff\xff\x30\x82"          # a SEQUENCE claiming 64 KiB
BAD_B64 = b"-----BEGIN CERTIFICATE-----\n!!!! not base64 ****\n-----END CERTIFICATE-----\n"
HEADER_ONLY = b"-----BEGIN CERTIFICATE-----\n"
NON_UTF8 = b"\xff\xfe\xc3\x28host"


def pem_inputs(fx: Fx, what: str) -> List[Tuple[str, bytes]]:
    """Garbage / truncated PEM and DER inputs for a loader of `what` ('cert', 'key', 'crl')."""
    good = {"cert": fx.ca_pem, "key": fx.key_pem, "crl": fx.crl_pem}[what]
    out = [("garbage bytes", GARBAGE), ("truncated PEM", good[: len(good) // 2]),
           ("PEM cut at the last line", good[: good.rfind(b"-----END")]),
           ("PEM header only", HEADER_ONLY.replace(b"CERTIFICATE", b"X509 CRL" if what == "crl" else b"CERTIFICATE")),
           ("bad base64", BAD_B64), ("DER SEQUENCE claiming 64 KiB", TRUNC_DER_HEAD),
           ("one byte 0x30", b"\x30"), ("NUL bytes", b"\0" * 64)]
    if what != "key":
        out.append(("truncated DER", fx.ca_der[: len(fx.ca_der) - 20]))
        out.append(("a private key instead", fx.key_pem))
    else:
        out.append(("a certificate instead of a key", fx.cert_pem))
    return out


# ---------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------

@dataclass
class Entry:
    valid: Callable[[Fx], List[Any]]
    valid_expect: Expect = OK
    # parameter name (or "name:variant") -> expectation overriding the default
    over: Dict[str, Expect] = field(default_factory=dict)
    # extra cases: (label, args builder, expectation[, post-check])
    extra: List[Tuple] = field(default_factory=list)
    compat: bool = False


TABLE: Dict[str, Entry] = {}


def T(name: str, valid: Callable[[Fx], List[Any]], valid_expect: Expect = OK, *, compat: bool = False,
      over: Optional[Dict[str, Expect]] = None, extra: Sequence[Tuple] = ()) -> None:
    assert name not in TABLE, name
    TABLE[name] = Entry(valid, valid_expect, over or {}, list(extra), compat)


def NULLS(n: int) -> Callable[[Fx], List[Any]]:
    return lambda fx: [None] * n


BIG_OUT = 16384

# --- compat layer: NULL handling only --------------------------------------
for _n in ("ssl_context", "ssl_config", "ssl_session", "entropy_context", "ctr_drbg_context", "x509_crt",
           "pk_context", "net_context"):
    T(f"mojo_tls_sizeof_{_n}", lambda fx: [], OK, compat=True)
T("mojo_tls_alloc", lambda fx: [64], OK, compat=True,
  extra=[("SIZE_MAX bytes -> NULL", lambda fx: [SIZE_MAX], NULLPTR)])
T("mojo_tls_free", NULLS(1), NOCRASH, compat=True)
T("mojo_tls_conf_min_version", lambda fx: [None, 0x0303], NOCRASH, compat=True)
T("mojo_tls_conf_max_version", lambda fx: [None, 0x0303], NOCRASH, compat=True)
T("mojo_tls_ssl_config_init", NULLS(1), NOCRASH, compat=True)
T("mojo_tls_ssl_config_free", NULLS(1), NOCRASH, compat=True)
T("mojo_tls_ssl_config_defaults", lambda fx: [None, 0, 0, 0], codes(SSL_BAD_INPUT), compat=True)
T("mojo_tls_ssl_conf_authmode", lambda fx: [None, 2], NOCRASH, compat=True)
T("mojo_tls_ssl_conf_ca_chain", NULLS(3), NOCRASH, compat=True)
T("mojo_tls_ssl_conf_own_cert", NULLS(3), codes(SSL_BAD_INPUT), compat=True)
T("mojo_tls_ssl_init", NULLS(1), NOCRASH, compat=True)
T("mojo_tls_ssl_free", NULLS(1), NOCRASH, compat=True)
T("mojo_tls_ssl_setup", NULLS(2), codes(SSL_BAD_INPUT), compat=True)
T("mojo_tls_ssl_set_hostname", lambda fx: [None, S("localhost")], codes(SSL_BAD_INPUT), compat=True)
T("mojo_tls_ssl_set_bio", NULLS(5), NOCRASH, compat=True)
T("mojo_tls_ssl_handshake", NULLS(1), codes(SSL_BAD_INPUT), compat=True)
T("mojo_tls_ssl_read", lambda fx: [None, O(16), 16], codes(SSL_BAD_INPUT), compat=True)
T("mojo_tls_ssl_write", lambda fx: [None, S("x"), 1], codes(SSL_BAD_INPUT), compat=True)
T("mojo_tls_ssl_close_notify", NULLS(1), codes(SSL_BAD_INPUT), compat=True)
T("mojo_tls_ssl_get_version", NULLS(1), NULLPTR, compat=True)
T("mojo_tls_ssl_get_ciphersuite", NULLS(1), NULLPTR, compat=True)
T("mojo_tls_ssl_get_verify_result", NULLS(1), codes(0xFFFFFFFF), compat=True)
T("mojo_tls_ssl_get_peer_cert", NULLS(1), NULLPTR, compat=True)
T("mojo_tls_x509_crt_get_raw_data", NULLS(1), NULLPTR, compat=True)
T("mojo_tls_x509_crt_get_raw_len", NULLS(1), codes(0), compat=True)
T("mojo_tls_x509_crt_init", NULLS(1), NOCRASH, compat=True)
T("mojo_tls_x509_crt_free", NULLS(1), NOCRASH, compat=True)
T("mojo_tls_x509_crt_parse", lambda fx: [None, B(fx.ca_pem + b"\0"), len(fx.ca_pem) + 1], codes(X509_BAD_INPUT),
  compat=True)
T("mojo_tls_x509_crt_parse_file", lambda fx: [None, S(fx.f_ca)], codes(X509_BAD_INPUT), compat=True)
T("mojo_tls_pk_init", NULLS(1), NOCRASH, compat=True)
T("mojo_tls_pk_free", NULLS(1), NOCRASH, compat=True)
T("mojo_tls_pk_parse_key", lambda fx: [None, B(fx.key_pem + b"\0"), len(fx.key_pem) + 1, None, 0],
  codes(PK_BAD_INPUT), compat=True)
T("mojo_tls_pk_parse_keyfile", lambda fx: [None, S(fx.f_key), None], codes(PK_BAD_INPUT), compat=True)
T("mojo_tls_net_init", NULLS(1), NOCRASH, compat=True)
T("mojo_tls_net_free", NULLS(1), NOCRASH, compat=True)
T("mojo_tls_net_connect", lambda fx: [None, S("127.0.0.1"), S(str(fx.closed_port)), 0], codes(NET_BAD_INPUT),
  compat=True)
T("mojo_tls_net_bind", lambda fx: [None, S("127.0.0.1"), S("0"), 0], codes(NET_BAD_INPUT), compat=True)
T("mojo_tls_net_bind_reuseport", lambda fx: [None, S("127.0.0.1"), S("0"), 0], codes(NET_BAD_INPUT), compat=True)
T("mojo_tls_net_accept", lambda fx: [None, None, None, 0, None], codes(NET_BAD_INPUT), compat=True)
T("mojo_tls_net_accept_alloc", lambda fx: [None, None, 0, None, O(4)], NULLPTR, compat=True)
T("mojo_tls_net_free_context", NULLS(1), NOCRASH, compat=True)
T("mojo_tls_net_set_block", NULLS(1), codes(NET_BAD_INPUT), compat=True)
T("mojo_tls_net_set_nonblock", NULLS(1), codes(NET_BAD_INPUT), compat=True)
T("mojo_tls_get_net_send_ptr", lambda fx: [], OK, compat=True)
T("mojo_tls_get_net_recv_ptr", lambda fx: [], OK, compat=True)
T("mojo_tls_get_net_recv_timeout_ptr", lambda fx: [], OK, compat=True)


if os.environ.get("MOJO_TLS_SWEEP_SELFTEST") == "1":
    # Self-test of the crash isolation: a compat call on a wild pointer (the
    # caller's undefined behaviour) must be reported as a crash of that case,
    # and the sweep must go on with the next case.
    TABLE["mojo_tls_x509_crt_get_raw_len"].extra.append(
        ("SELFTEST wild pointer (must be reported as a crash)", lambda fx: [0x10], codes(0)))


def compat_ctx(fx: Fx, kind: str) -> int:
    """A zeroed, initialised compat context (released by the worker after the case)."""
    p = CL.alloc(CL.sizeof(kind))
    CL.fn({"x509_crt": "mojo_tls_x509_crt_init", "pk_context": "mojo_tls_pk_init"}[kind], None, [ctypes.c_void_p])(p)
    fx.keep.append(("compat_" + kind, p))
    return p


# second-argument NULLs on live compat contexts, where the header documents them
TABLE["mojo_tls_x509_crt_parse"].extra.append(
    ("live chain, NULL buffer", lambda fx: [compat_ctx(fx, "x509_crt"), None, 64], codes(X509_BAD_INPUT)))
TABLE["mojo_tls_x509_crt_parse_file"].extra.append(
    ("live chain, NULL path", lambda fx: [compat_ctx(fx, "x509_crt"), None], codes(X509_BAD_INPUT)))
TABLE["mojo_tls_pk_parse_key"].extra.append(
    ("live pk, NULL key", lambda fx: [compat_ctx(fx, "pk_context"), None, 64, None, 0], codes(PK_BAD_INPUT)))
TABLE["mojo_tls_pk_parse_keyfile"].extra.append(
    ("live pk, NULL path", lambda fx: [compat_ctx(fx, "pk_context"), None, None], codes(PK_BAD_INPUT)))

# --- certificate generation -----------------------------------------------
T("mojo_tls_gencert_new_ca", lambda fx: [S("sweep"), 30, 0],
  extra=[("key_alg 99", lambda fx: [S("x"), 30, 99], codes(INVALID_ARGUMENT)),
         ("key_alg -1", lambda fx: [S("x"), 30, -1], codes(INVALID_ARGUMENT)),
         ("valid_days 0", lambda fx: [S("x"), 0, 0], ANY),
         ("valid_days -5", lambda fx: [S("x"), -5, 0], ANY),
         ("valid_days INT32_MAX", lambda fx: [S("x"), 2**31 - 1, 0], ANY),
         ("valid_days INT32_MIN", lambda fx: [S("x"), -(2**31), 0], ANY),
         ("empty common name", lambda fx: [S(""), 30, 0], ANY),
         ("100 KiB common name", lambda fx: [S("a" * 100000), 30, 0], ANY)])
T("mojo_tls_gencert_new_leaf", lambda fx: [fx.ca, S("leaf"), S("localhost,127.0.0.1"), 0, 30, 1, 0],
  over={"issuer:NULL": OK, "sans:NULL": OK},
  extra=[("usage 0", lambda fx: [fx.ca, S("x"), S("localhost"), 0, 30, 0, 0], ANY),
         ("usage 99", lambda fx: [fx.ca, S("x"), S("localhost"), 0, 30, 99, 0], codes(INVALID_ARGUMENT)),
         ("key_alg 99", lambda fx: [fx.ca, S("x"), S("localhost"), 0, 30, 1, 99], codes(INVALID_ARGUMENT)),
         ("not_before INT32_MIN", lambda fx: [fx.ca, S("x"), S("localhost"), -(2**31), 30, 1, 0], ANY),
         ("not_before INT32_MAX", lambda fx: [fx.ca, S("x"), S("localhost"), 2**31 - 1, 30, 1, 0], ANY),
         ("valid_days INT32_MAX", lambda fx: [fx.ca, S("x"), S("localhost"), 0, 2**31 - 1, 1, 0], ANY),
         ("SANs ',,,'", lambda fx: [fx.ca, S("x"), S(",,,"), 0, 30, 1, 0], ANY),
         ("SANs with spaces and '*'", lambda fx: [fx.ca, S("x"), S(" a b ,*,*.*, 999.1.1.1"), 0, 30, 1, 0], ANY),
         ("100 KiB SAN list", lambda fx: [fx.ca, S("x"), S(",".join(["a.example"] * 10000)), 0, 30, 1, 0], ANY),
         ("issuer is a leaf (not a CA)", lambda fx: [fx.leaf, S("x"), S("localhost"), 0, 30, 1, 0], ANY)])
for _f in ("mojo_tls_gencert_cert_pem", "mojo_tls_gencert_key_pem", "mojo_tls_gencert_cert_der"):
    T(_f, lambda fx: [fx.ca, O(BIG_OUT), BIG_OUT],
      extra=[("capacity 1", lambda fx: [fx.ca, O(1), 1], OK)])
T("mojo_tls_gencert_free", lambda fx: [fx.new_gen()], codes(0),
  over={"g:NULL": codes(0)})
T("mojo_tls_gencert_crl_pem", lambda fx: [fx.ca, Arr([fx.leaf]), 1, O(BIG_OUT), BIG_OUT],
  extra=[("no revoked certificates", lambda fx: [fx.ca, None, 0, O(BIG_OUT), BIG_OUT], OK),
         ("revoked holds a forged handle", lambda fx: [fx.ca, Arr([fx.forged[0]]), 1, O(BIG_OUT), BIG_OUT],
          codes(INVALID_HANDLE)),
         ("revoked holds NULL", lambda fx: [fx.ca, Arr([None]), 1, O(BIG_OUT), BIG_OUT],
          codes(INVALID_HANDLE, INVALID_ARGUMENT)),
         ("revoked holds a freed handle", lambda fx: [fx.ca, Arr([fx.freed_gen]), 1, O(BIG_OUT), BIG_OUT],
          codes(INVALID_HANDLE)),
         ("revoked holds a config", lambda fx: [fx.ca, Arr([fx.wt_cfg]), 1, O(BIG_OUT), BIG_OUT],
          codes(INVALID_HANDLE)),
         ("signed by a leaf", lambda fx: [fx.leaf, Arr([fx.leaf]), 1, O(BIG_OUT), BIG_OUT], ANY)])

# --- configuration --------------------------------------------------------
T("mojo_tls_config_new", lambda fx: [0],
  extra=[(f"role {r}", (lambda r: lambda fx: [r])(r), codes(INVALID_ARGUMENT)) for r in (2, -1, 2**31 - 1)])
T("mojo_tls_config_free", lambda fx: [fx.new_ccfg()], codes(0), over={"cfg:NULL": codes(0)})
T("mojo_tls_config_set_min_version", lambda fx: [fx.new_ccfg(), 0x0303],
  extra=[("TLS 1.0", lambda fx: [fx.new_ccfg(), 0x0301], codes(UNSUPPORTED)),
         ("SSL 3.0", lambda fx: [fx.new_ccfg(), 0x0300], codes(UNSUPPORTED)),
         ("TLS 1.3", lambda fx: [fx.new_ccfg(), 0x0304], OK),
         ("version 0", lambda fx: [fx.new_ccfg(), 0], codes(INVALID_ARGUMENT, UNSUPPORTED)),
         ("version 0x0305", lambda fx: [fx.new_ccfg(), 0x0305], codes(INVALID_ARGUMENT, UNSUPPORTED)),
         ("version -1", lambda fx: [fx.new_ccfg(), -1], codes(INVALID_ARGUMENT, UNSUPPORTED))])
T("mojo_tls_config_set_max_version", lambda fx: [fx.new_ccfg(), 0x0304],
  extra=[("TLS 1.2", lambda fx: [fx.new_ccfg(), 0x0303], OK),
         ("TLS 1.0", lambda fx: [fx.new_ccfg(), 0x0301], codes(INVALID_ARGUMENT, UNSUPPORTED)),
         ("version 0", lambda fx: [fx.new_ccfg(), 0], codes(INVALID_ARGUMENT, UNSUPPORTED)),
         ("version 0xFFFF", lambda fx: [fx.new_ccfg(), 0xFFFF], codes(INVALID_ARGUMENT, UNSUPPORTED))])
T("mojo_tls_config_add_ca_system", lambda fx: [fx.new_ccfg()], ANY)


def file_loader(name: str, what: str) -> None:
    good = {"cert": "f_ca", "crl": "f_crl"}[what]
    T(name, lambda fx: [fx.new_ccfg(), S(getattr(fx, good))],
      over={"path:non-UTF-8": codes(INVALID_ARGUMENT, NOT_FOUND)},
      extra=[("missing file", lambda fx: [fx.new_ccfg(), S(fx.f_missing)], codes(NOT_FOUND)),
             ("garbage file", lambda fx: [fx.new_ccfg(), S(fx.f_garbage)], codes(PARSE)),
             ("truncated PEM file", lambda fx: [fx.new_ccfg(), S(fx.f_trunc)], codes(PARSE)),
             ("empty file", lambda fx: [fx.new_ccfg(), S(fx.f_empty)], codes(PARSE, INVALID_ARGUMENT)),
             ("a directory", lambda fx: [fx.new_ccfg(), S(str(fx.d_cas))],
              codes(PARSE, NOT_FOUND, C["IO"], INVALID_ARGUMENT)),
             ("empty path", lambda fx: [fx.new_ccfg(), S("")], codes(NOT_FOUND, INVALID_ARGUMENT)),
             ("a key file", lambda fx: [fx.new_ccfg(), S(fx.f_key)], codes(PARSE))])


file_loader("mojo_tls_config_add_ca_file", "cert")
file_loader("mojo_tls_config_add_crl_file", "crl")
TABLE["mojo_tls_config_add_crl_file"].extra.append(
    ("a certificate file", lambda fx: [fx.new_ccfg(), S(fx.f_ca)], codes(PARSE)))
T("mojo_tls_config_add_ca_dir", lambda fx: [fx.new_ccfg(), S(str(fx.d_cas))],
  over={"path:non-UTF-8": codes(INVALID_ARGUMENT, NOT_FOUND)},
  extra=[("missing directory", lambda fx: [fx.new_ccfg(), S(fx.f_missing)], codes(NOT_FOUND)),
         ("a regular file", lambda fx: [fx.new_ccfg(), S(fx.f_ca)],
          codes(NOT_FOUND, INVALID_ARGUMENT, C["IO"], PARSE)),
         ("directory of garbage", lambda fx: [fx.new_ccfg(), S(str(fx.d_garbage))], ANY),
         ("empty directory", lambda fx: [fx.new_ccfg(), S(str(fx.d_empty))], ANY)])


def mem_loader(name: str, what: str) -> None:
    good = {"cert": "ca_pem", "crl": "crl_pem"}[what]
    T(name, lambda fx: [fx.new_ccfg(), B(getattr(fx, good)), len(getattr(fx, good))],
      extra=[("length 0", lambda fx: [fx.new_ccfg(), B(getattr(fx, good)), 0], codes(INVALID_ARGUMENT, PARSE)),
             ("NULL, length 0", lambda fx: [fx.new_ccfg(), None, 0], codes(INVALID_ARGUMENT, PARSE))]
      + [(label, (lambda d: lambda fx: [fx.new_ccfg(), B(d), len(d)])(data), codes(PARSE))
         for label, data in pem_inputs(FX_STATIC, what)])


class _Static:
    """Inputs that do not depend on per-worker objects are built from this
    placeholder at table time; pem_inputs only needs PEM/DER bytes, which the
    worker substitutes (see build_cases)."""


FX_STATIC: Any = None  # set in build_cases before mem_loader runs


def add_cert_cases() -> None:
    def good(fx: Fx, pw: Optional[bytes] = None) -> List[Any]:
        return [fx.new_scfg(), B(fx.cert_pem), len(fx.cert_pem), B(fx.key_pem), len(fx.key_pem),
                S(pw) if pw else None]

    ex: List[Tuple] = [
        ("cert length 0", lambda fx: [fx.new_scfg(), B(fx.cert_pem), 0, B(fx.key_pem), len(fx.key_pem), None],
         codes(INVALID_ARGUMENT, PARSE)),
        ("key length 0", lambda fx: [fx.new_scfg(), B(fx.cert_pem), len(fx.cert_pem), B(fx.key_pem), 0, None],
         codes(INVALID_ARGUMENT, PARSE)),
        ("key of another certificate", lambda fx: [fx.new_scfg(), B(fx.cert_pem), len(fx.cert_pem),
                                                   B(fx.other_key), len(fx.other_key), None], codes(PARSE)),
        ("unencrypted key with a password", lambda fx: good(fx, b"secret"), ANY),
    ]
    for label, data in pem_inputs(FX_STATIC, "cert"):
        ex.append((f"cert: {label}", (lambda d: lambda fx: [fx.new_scfg(), B(d), len(d), B(fx.key_pem),
                                                            len(fx.key_pem), None])(data), codes(PARSE)))
    for label, data in pem_inputs(FX_STATIC, "key"):
        ex.append((f"key: {label}", (lambda d: lambda fx: [fx.new_scfg(), B(fx.cert_pem), len(fx.cert_pem), B(d),
                                                           len(d), None])(data), codes(PARSE)))
    T("mojo_tls_config_add_cert_mem", good, over={"password:NULL": OK}, extra=ex)

    def enc(fx: Fx, pw: Optional[str]) -> List[Any]:
        if fx.enc_key is None:
            raise R.Skip("openssl CLI not available for an encrypted key")
        return [fx.new_scfg(), S(fx.f_cert), S(fx.enc_key), S(pw) if pw is not None else None]

    T("mojo_tls_config_add_cert_file", lambda fx: [fx.new_scfg(), S(fx.f_cert), S(fx.f_key), None],
      over={"password:NULL": OK, "cert_path:non-UTF-8": codes(INVALID_ARGUMENT, NOT_FOUND),
            "key_path:non-UTF-8": codes(INVALID_ARGUMENT, NOT_FOUND)},
      extra=[("missing cert file", lambda fx: [fx.new_scfg(), S(fx.f_missing), S(fx.f_key), None], codes(NOT_FOUND)),
             ("missing key file", lambda fx: [fx.new_scfg(), S(fx.f_cert), S(fx.f_missing), None], codes(NOT_FOUND)),
             ("garbage cert", lambda fx: [fx.new_scfg(), S(fx.f_garbage), S(fx.f_key), None], codes(PARSE)),
             ("garbage key", lambda fx: [fx.new_scfg(), S(fx.f_cert), S(fx.f_garbage), None], codes(PARSE)),
             ("truncated key", lambda fx: [fx.new_scfg(), S(fx.f_cert), S(fx.f_trunc_key), None], codes(PARSE)),
             ("empty key file", lambda fx: [fx.new_scfg(), S(fx.f_cert), S(fx.f_empty), None],
              codes(PARSE, INVALID_ARGUMENT)),
             ("key of another certificate", lambda fx: [fx.new_scfg(), S(fx.f_cert), S(fx.f_other_key), None],
              codes(PARSE)),
             ("encrypted key, no password", lambda fx: enc(fx, None), codes(BAD_PASSWORD)),
             ("encrypted key, wrong password", lambda fx: enc(fx, "wrong"), codes(BAD_PASSWORD)),
             ("encrypted key, empty password", lambda fx: enc(fx, ""), codes(BAD_PASSWORD)),
             ("encrypted key, non-UTF-8 password", lambda fx: enc(fx, NON_UTF8.decode("latin-1")),
              codes(BAD_PASSWORD, INVALID_ARGUMENT)),
             ("encrypted key, right password", lambda fx: enc(fx, "secret"), OK)])


T("mojo_tls_config_set_alpn", lambda fx: [fx.new_ccfg(), S("h2,http/1.1")],
  over={"protocols:NULL": codes(0, INVALID_ARGUMENT)},
  extra=[("empty list", lambda fx: [fx.new_ccfg(), S("")], codes(0, INVALID_ARGUMENT)),
         ("',,,'", lambda fx: [fx.new_ccfg(), S(",,,")], codes(INVALID_ARGUMENT)),
         ("256-byte protocol name", lambda fx: [fx.new_ccfg(), S("a" * 256)], codes(INVALID_ARGUMENT)),
         ("1000 protocols", lambda fx: [fx.new_ccfg(), S(",".join(["p%d" % i for i in range(1000)]))], ANY)])
T("mojo_tls_config_set_ciphersuites", lambda fx: [fx.new_ccfg(), S("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")],
  extra=[("unknown suite", lambda fx: [fx.new_ccfg(), S("TLS_BOGUS_SUITE")], codes(INVALID_ARGUMENT)),
         ("RC4", lambda fx: [fx.new_ccfg(), S("TLS_RSA_WITH_RC4_128_SHA")], codes(INVALID_ARGUMENT)),
         ("no forward secrecy", lambda fx: [fx.new_ccfg(), S("TLS_RSA_WITH_AES_128_GCM_SHA256")],
          codes(INVALID_ARGUMENT)),
         ("NULL cipher", lambda fx: [fx.new_ccfg(), S("TLS_ECDHE_ECDSA_WITH_NULL_SHA")], codes(INVALID_ARGUMENT)),
         ("empty list", lambda fx: [fx.new_ccfg(), S("")], codes(INVALID_ARGUMENT)),
         ("':::'", lambda fx: [fx.new_ccfg(), S(":::")], codes(INVALID_ARGUMENT)),
         ("64 KiB of names", lambda fx: [fx.new_ccfg(), S(":".join(["TLS_X"] * 12000))], codes(INVALID_ARGUMENT))])
T("mojo_tls_config_set_groups", lambda fx: [fx.new_ccfg(), S("x25519,secp256r1")],
  extra=[("unknown group", lambda fx: [fx.new_ccfg(), S("bogus")], codes(INVALID_ARGUMENT)),
         ("empty list", lambda fx: [fx.new_ccfg(), S("")], codes(INVALID_ARGUMENT)),
         ("','", lambda fx: [fx.new_ccfg(), S(",")], codes(INVALID_ARGUMENT)),
         ("ffdhe2048", lambda fx: [fx.new_ccfg(), S("ffdhe2048")], ANY)])
T("mojo_tls_config_insecure_verify", lambda fx: [fx.new_ccfg(), 2],
  extra=[(f"mode {m}", (lambda m: lambda fx: [fx.new_ccfg(), m])(m), codes(INVALID_ARGUMENT)) for m in (3, -1, 99)])
T("mojo_tls_config_insecure_skip_hostname_check", lambda fx: [fx.new_ccfg(), 0],
  extra=[("skip 12345", lambda fx: [fx.new_ccfg(), 12345], OK)])
T("mojo_tls_config_set_client_auth", lambda fx: [fx.new_scfg(), 2],
  extra=[("on a client config", lambda fx: [fx.new_ccfg(), 2], codes(BAD_STATE)),
         ("mode 3", lambda fx: [fx.new_scfg(), 3], codes(INVALID_ARGUMENT)),
         ("mode -1", lambda fx: [fx.new_scfg(), -1], codes(INVALID_ARGUMENT))])
T("mojo_tls_config_add_pin", lambda fx: [fx.new_ccfg(), 1, B(b"\x11" * 32), 32],
  extra=[("31 bytes", lambda fx: [fx.new_ccfg(), 1, B(b"\x11" * 32), 31], codes(INVALID_ARGUMENT)),
         ("33 bytes", lambda fx: [fx.new_ccfg(), 1, B(b"\x11" * 33), 33], codes(INVALID_ARGUMENT)),
         ("length 0", lambda fx: [fx.new_ccfg(), 1, B(b"\x11" * 32), 0], codes(INVALID_ARGUMENT)),
         ("kind 2", lambda fx: [fx.new_ccfg(), 2, B(b"\x11" * 32), 32], codes(INVALID_ARGUMENT)),
         ("kind -1", lambda fx: [fx.new_ccfg(), -1, B(b"\x11" * 32), 32], codes(INVALID_ARGUMENT))])
T("mojo_tls_config_set_pin_only", lambda fx: [fx.new_ccfg(), 1])
T("mojo_tls_config_set_keylog_file", lambda fx: [fx.new_ccfg(), S(str(fx.tmp.path / "keylog.txt"))],
  over={"path:NULL": OK, "path:non-UTF-8": codes(0, INVALID_ARGUMENT)},
  extra=[("in a missing directory", lambda fx: [fx.new_ccfg(), S(fx.f_missing + "/k.txt")], ANY)])
T("mojo_tls_config_set_session_tickets", lambda fx: [fx.new_scfg(), 3600],
  extra=[("lifetime -1", lambda fx: [fx.new_scfg(), -1], OK),
         ("lifetime INT32_MAX", lambda fx: [fx.new_scfg(), 2**31 - 1], ANY),
         ("on a client config", lambda fx: [fx.new_ccfg(), 3600], codes(0, BAD_STATE))])
T("mojo_tls_config_insecure_resumption_without_forward_secrecy", lambda fx: [fx.new_scfg(), 1],
  extra=[("on a client config", lambda fx: [fx.new_ccfg(), 1], OK),
         ("off (0)", lambda fx: [fx.new_scfg(), 0], OK),
         ("on = -1", lambda fx: [fx.new_ccfg(), -1], OK)])
T("mojo_tls_config_set_ticket_keys", lambda fx: [fx.new_scfg(), B(b"\x42" * 64), 64],
  extra=[("31 bytes", lambda fx: [fx.new_scfg(), B(b"\x42" * 31), 31], codes(INVALID_ARGUMENT)),
         ("33 bytes", lambda fx: [fx.new_scfg(), B(b"\x42" * 33), 33], codes(INVALID_ARGUMENT)),
         ("length 0", lambda fx: [fx.new_scfg(), B(b"\x42" * 32), 0], codes(INVALID_ARGUMENT)),
         ("nine keys", lambda fx: [fx.new_scfg(), B(b"\x42" * 288), 288], codes(INVALID_ARGUMENT)),
         ("eight keys", lambda fx: [fx.new_scfg(), B(b"\x42" * 256), 256], OK),
         ("length SIZE_MAX", lambda fx: [fx.new_scfg(), B(b"\x42" * 32), 2**64 - 1], codes(INVALID_ARGUMENT)),
         ("on a client config", lambda fx: [fx.new_ccfg(), B(b"\x42" * 32), 32], codes(BAD_STATE))])
T("mojo_tls_config_set_session_cache", lambda fx: [fx.new_scfg(), 100, 60],
  extra=[("max_entries -1", lambda fx: [fx.new_scfg(), -1, 60], codes(0, INVALID_ARGUMENT)),
         ("max_entries INT32_MAX", lambda fx: [fx.new_scfg(), 2**31 - 1, 60], ANY),
         ("timeout -1", lambda fx: [fx.new_scfg(), 100, -1], codes(0, INVALID_ARGUMENT)),
         ("turn off (0)", lambda fx: [fx.new_scfg(), 0, 0], OK)])

# --- connections ----------------------------------------------------------
T("mojo_tls_conn_new_connect", lambda fx: [fx.ccfg, S("127.0.0.1"), fx.closed_port, 3000], codes(C["CONNECT"]),
  extra=[("port 0", lambda fx: [fx.ccfg, S("127.0.0.1"), 0, 1000], codes(INVALID_ARGUMENT)),
         ("empty host", lambda fx: [fx.ccfg, S(""), fx.closed_port, 1000], codes(INVALID_ARGUMENT, C["CONNECT"])),
         ("peer never answers (200 ms)", lambda fx: [fx.ccfg, S("127.0.0.1"), fx.mute_port, 200],
          codes(C["TIMEOUT"])),
         ("timeout 0 (non-blocking start)", lambda fx: [fx.ccfg, S("127.0.0.1"), fx.closed_port, 0], ANY)])
T("mojo_tls_conn_new_fd", lambda fx: [fx.ccfg, fx.new_sock(), 1, S("localhost")],
  over={"server_name:NULL": ANY},
  extra=[("fd -1", lambda fx: [fx.ccfg, -1, 0, S("localhost")], codes(INVALID_ARGUMENT)),
         ("fd 1000000", lambda fx: [fx.ccfg, 1000000, 0, S("localhost")], codes(INVALID_ARGUMENT)),
         ("fd is a pipe", lambda fx: [fx.ccfg, fx.pipe_r, 0, S("localhost")], codes(INVALID_ARGUMENT),
          "pipe_open")])
T("mojo_tls_conn_new_memory", lambda fx: [fx.ccfg, S("localhost")], over={"server_name:NULL": ANY},
  extra=[("server config", lambda fx: [fx.scfg, None], OK),
         ("64 KiB server name", lambda fx: [fx.ccfg, S("a" * 65536)], ANY)])
T("mojo_tls_socket_listen", lambda fx: [S("127.0.0.1"), 0, 4],
  extra=[("backlog -1", lambda fx: [S("127.0.0.1"), 0, -1], ANY),
         ("backlog INT32_MAX", lambda fx: [S("127.0.0.1"), 0, 2**31 - 1], ANY),
         ("port in use", lambda fx: [S("127.0.0.1"), fx.lport, 4], ANY),
         ("not an address", lambda fx: [S("300.1.2.3"), 0, 4], ANY)])
T("mojo_tls_socket_port", lambda fx: [fx.lfd],
  extra=[("fd -1", lambda fx: [-1], codes(INVALID_ARGUMENT, C["IO"], NOT_FOUND, BAD_STATE)),
         ("a pipe", lambda fx: [fx.pipe_r], ANY)])
T("mojo_tls_socket_close", lambda fx: [fx.new_lfd()], codes(0),
  extra=[("fd -1", lambda fx: [-1], codes(INVALID_ARGUMENT))])
for _f in ("mojo_tls_conn_new_accept", "mojo_tls_conn_new_accept_no_handshake"):
    T(_f, lambda fx: [fx.scfg, fx.lfd, 0], codes(WANT_READ),
      extra=[("no client within 100 ms", lambda fx: [fx.scfg, fx.lfd, 100], codes(C["TIMEOUT"])),
             ("listen fd -1", lambda fx: [fx.scfg, -1, 100], ANY),
             ("listen fd is a pipe", lambda fx: [fx.scfg, fx.pipe_r, 100], ANY),
             ("listen fd not listening", lambda fx: [fx.scfg, fx.new_sock(), 100], ANY)])
T("mojo_tls_conn_handshake", lambda fx: [fx.new_conn()], codes(WANT_READ))
T("mojo_tls_conn_read", lambda fx: [fx.new_conn(), O(64), 64], codes(WANT_READ),
  over={"buf:NULL,0": codes(INVALID_ARGUMENT)},
  extra=[("length 0", lambda fx: [fx.new_conn(), O(64), 0], codes(INVALID_ARGUMENT))])
T("mojo_tls_conn_write", lambda fx: [fx.new_conn(), S("hello"), 5], codes(WANT_READ),
  extra=[("length 0", lambda fx: [fx.new_conn(), S("hello"), 0], codes(0))])
T("mojo_tls_conn_write_all", lambda fx: [fx.new_conn(), S("hello"), 5], ANY,
  extra=[("length 0", lambda fx: [fx.new_conn(), S("hello"), 0], codes(0))])
T("mojo_tls_conn_pending", lambda fx: [fx.conn])
T("mojo_tls_conn_close_notify", lambda fx: [fx.new_conn()], ANY)
T("mojo_tls_conn_close", lambda fx: [fx.new_conn()], codes(0))
T("mojo_tls_conn_free", lambda fx: [fx.new_conn()], codes(0), over={"c:NULL": codes(0)})
T("mojo_tls_conn_abandon", lambda fx: [fx.new_conn()], codes(0), over={"c:NULL": codes(0)},
  extra=[("socket connection", lambda fx: [fx.new_fd_conn()], codes(0))])
T("mojo_tls_conn_set_timeout", lambda fx: [fx.new_conn(), 1000],
  extra=[("INT32_MIN", lambda fx: [fx.new_conn(), -(2**31)], codes(0))])
T("mojo_tls_conn_fd", lambda fx: [fx.conn], codes(NOT_AVAILABLE),
  extra=[("socket connection", lambda fx: [fx.new_fd_conn()], OK)])
T("mojo_tls_conn_feed", lambda fx: [fx.new_conn(), B(b"\x16\x03\x03"), 3],
  extra=[("length 0", lambda fx: [fx.new_conn(), B(b"x"), 0], codes(0)),
         ("socket connection", lambda fx: [fx.new_fd_conn(), B(b"x"), 1], codes(BAD_STATE))])
T("mojo_tls_conn_feed_eof", lambda fx: [fx.new_conn()], codes(0),
  extra=[("socket connection", lambda fx: [fx.new_fd_conn()], codes(BAD_STATE))])
T("mojo_tls_conn_drain", lambda fx: [fx.new_conn(), O(BIG_OUT), BIG_OUT],
  extra=[("capacity 0", lambda fx: [fx.new_conn(), None, 0], codes(0)),
         ("socket connection", lambda fx: [fx.new_fd_conn(), O(64), 64], codes(BAD_STATE))])
T("mojo_tls_conn_pending_output", lambda fx: [fx.conn])

# --- DTLS ----------------------------------------------------------------------
T("mojo_tls_config_set_transport", lambda fx: [fx.new_ccfg(), 1],
  extra=[("stream", lambda fx: [fx.new_ccfg(), 0], OK),
         ("transport 2", lambda fx: [fx.new_ccfg(), 2], codes(INVALID_ARGUMENT)),
         ("transport -1", lambda fx: [fx.new_ccfg(), -1], codes(INVALID_ARGUMENT))])
T("mojo_tls_config_set_dtls_handshake_timeout", lambda fx: [fx.new_ccfg(), 100, 1000],
  extra=[("min 0", lambda fx: [fx.new_ccfg(), 0, 1000], codes(INVALID_ARGUMENT)),
         ("min > max", lambda fx: [fx.new_ccfg(), 2000, 1000], codes(INVALID_ARGUMENT)),
         ("negative", lambda fx: [fx.new_ccfg(), -5, -1], codes(INVALID_ARGUMENT))])
T("mojo_tls_conn_feed_datagram", lambda fx: [fx.new_dconn(), B(b"\x16\xfe\xfd"), 3],
  extra=[("length 0", lambda fx: [fx.new_dconn(), B(b"x"), 0], codes(INVALID_ARGUMENT)),
         ("TLS connection", lambda fx: [fx.new_conn(), B(b"x"), 1], codes(BAD_STATE)),
         ("socket connection", lambda fx: [fx.new_fd_conn(), B(b"x"), 1], codes(BAD_STATE))])
T("mojo_tls_conn_drain_datagram", lambda fx: [fx.new_dconn(), O(BIG_OUT), BIG_OUT],
  extra=[("capacity 0", lambda fx: [fx.new_dconn(), None, 0], codes(0)),
         ("TLS connection", lambda fx: [fx.new_conn(), O(64), 64], codes(BAD_STATE))])
T("mojo_tls_conn_next_timeout_ms", lambda fx: [fx.new_dconn()], codes(WANT_READ),
  extra=[("TLS connection", lambda fx: [fx.conn], codes(NOT_AVAILABLE))])
T("mojo_tls_conn_set_peer_id", lambda fx: [fx.new_dconn(True), B(b"127.0.0.1:4433"), 14],
  extra=[("length 0", lambda fx: [fx.new_dconn(True), B(b"x"), 0], codes(INVALID_ARGUMENT)),
         ("client", lambda fx: [fx.new_dconn(), B(b"x"), 1], codes(BAD_STATE)),
         ("TLS connection", lambda fx: [fx.new_conn(True), B(b"x"), 1], codes(BAD_STATE))])
T("mojo_tls_conn_set_mtu", lambda fx: [fx.new_dconn(), 1200],
  extra=[("0 (no limit)", lambda fx: [fx.new_dconn(), 0], OK),
         ("too small", lambda fx: [fx.new_dconn(), 10], codes(INVALID_ARGUMENT)),
         ("too large", lambda fx: [fx.new_dconn(), 70000], codes(INVALID_ARGUMENT)),
         ("negative", lambda fx: [fx.new_dconn(), -1], codes(INVALID_ARGUMENT)),
         ("TLS connection", lambda fx: [fx.conn, 1200], codes(BAD_STATE))])
T("mojo_tls_config_set_dtls_connection_id", lambda fx: [fx.new_dccfg(), 8],
  extra=[("off", lambda fx: [fx.new_dccfg(), -1], OK),
         ("0 (send only)", lambda fx: [fx.new_dccfg(), 0], OK),
         ("32", lambda fx: [fx.new_dccfg(), 32], OK),
         ("33", lambda fx: [fx.new_dccfg(), 33], codes(INVALID_ARGUMENT)),
         ("-2", lambda fx: [fx.new_dccfg(), -2], codes(INVALID_ARGUMENT)),
         ("INT32_MIN", lambda fx: [fx.new_dccfg(), -(2**31)], codes(INVALID_ARGUMENT)),
         ("TLS config", lambda fx: [fx.new_ccfg(), 8], codes(BAD_STATE))])
T("mojo_tls_conn_dtls_connection_id", lambda fx: [fx.new_cid_conn(), 0, O(64), 64],
  extra=[("peer's", lambda fx: [fx.new_cid_conn(), 1, O(64), 64], OK),
         ("which 2", lambda fx: [fx.new_cid_conn(), 2, O(64), 64], codes(INVALID_ARGUMENT)),
         ("which -1", lambda fx: [fx.new_cid_conn(), -1, O(64), 64], codes(INVALID_ARGUMENT)),
         ("before the handshake", lambda fx: [fx.new_dconn(cid=4), 0, O(64), 64], codes(NOT_AVAILABLE)),
         ("no CID negotiated", lambda fx: [fx.new_dconn(), 0, O(64), 64], codes(NOT_AVAILABLE)),
         ("TLS connection", lambda fx: [fx.hs_client, 0, O(64), 64], codes(NOT_AVAILABLE))])
_CID_RECORD = bytes([25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9]) + b"wxyz" + bytes([0, 3, 1, 2, 3])
T("mojo_tls_dtls_datagram_connection_id", lambda fx: [B(_CID_RECORD), 20, 4, O(64), 64],
  extra=[("cid_len 0", lambda fx: [B(_CID_RECORD), 20, 0, O(64), 64], codes(INVALID_ARGUMENT)),
         ("cid_len 256", lambda fx: [B(_CID_RECORD), 20, 256, O(64), 64], codes(INVALID_ARGUMENT)),
         ("cid_len 255, datagram too short", lambda fx: [B(_CID_RECORD), 20, 255, O(64), 64],
          codes(INVALID_ARGUMENT)),
         ("cid_len SIZE_MAX", lambda fx: [B(_CID_RECORD), 20, SIZE_MAX, O(64), 64], codes(INVALID_ARGUMENT)),
         ("length 0", lambda fx: [B(_CID_RECORD), 0, 4, O(64), 64], codes(INVALID_ARGUMENT)),
         ("truncated", lambda fx: [B(_CID_RECORD), 14, 4, O(64), 64], codes(INVALID_ARGUMENT)),
         ("no CID (type 23)", lambda fx: [B(b"\x17" + _CID_RECORD[1:]), 20, 4, O(64), 64], codes(NOT_AVAILABLE)),
         ("garbage", lambda fx: [B(b"\x19" + bytes(range(200))), 201, 32, O(64), 64], codes(INVALID_ARGUMENT))])
T("mojo_tls_dtls_listener_new", lambda fx: [fx.dscfg, S("127.0.0.1"), 0],
  extra=[("TLS server config", lambda fx: [fx.scfg, S("127.0.0.1"), 0], codes(INVALID_ARGUMENT)),
         ("DTLS client config", lambda fx: [fx.new_dccfg(), S("127.0.0.1"), 0], codes(INVALID_ARGUMENT)),
         ("port in use (shared: SO_REUSEPORT)", lambda fx: [fx.dscfg, S("127.0.0.1"),
                                                             R.L.mojo_tls_dtls_listener_port(fx.wt_listener)], ANY),
         ("not an address", lambda fx: [fx.dscfg, S("300.1.2.3"), 0], ANY),
         ("empty host", lambda fx: [fx.dscfg, S(""), 0], ANY)])
T("mojo_tls_dtls_listener_free", lambda fx: [fx.new_listener()], codes(0), over={"l:NULL": codes(0)})
T("mojo_tls_dtls_listener_port", lambda fx: [fx.wt_listener])
T("mojo_tls_dtls_listener_fd", lambda fx: [fx.wt_listener])
T("mojo_tls_dtls_listener_peer_count", lambda fx: [fx.wt_listener], codes(0))
for _f in ("mojo_tls_conn_new_dtls_accept", "mojo_tls_conn_new_dtls_accept_no_handshake"):
    T(_f, lambda fx: [fx.new_listener(), 0], codes(WANT_READ),
      extra=[("no client within 100 ms", lambda fx: [fx.new_listener(), 100], codes(C["TIMEOUT"])),
             ("timeout 1 ms", lambda fx: [fx.new_listener(), 1], codes(C["TIMEOUT"]))])
T("mojo_tls_conn_version", lambda fx: [fx.hs_client],
  extra=[("before the handshake", lambda fx: [fx.conn], codes(NOT_AVAILABLE))])
for _f in ("mojo_tls_conn_version_name", "mojo_tls_conn_cipher"):
    T(_f, lambda fx: [fx.hs_client], extra=[("before the handshake", lambda fx: [fx.conn], NULLPTR)])
for _f in ("mojo_tls_conn_alpn", "mojo_tls_conn_peer_cert_der", "mojo_tls_conn_peer_cert_pem",
           "mojo_tls_conn_peer_cert_subject", "mojo_tls_conn_peer_cert_issuer", "mojo_tls_conn_peer_cert_sans",
           "mojo_tls_conn_peer_cert_sha256", "mojo_tls_conn_peer_cert_spki_sha256", "mojo_tls_conn_verify_reason",
           "mojo_tls_conn_server_name", "mojo_tls_conn_session_export"):
    T(_f, lambda fx: [fx.hs_client, O(BIG_OUT), BIG_OUT],
      extra=[("before the handshake", lambda fx: [fx.conn, O(BIG_OUT), BIG_OUT],
              OK if _f == "mojo_tls_conn_server_name"  # a client knows the name it will send
              else codes(0, NOT_AVAILABLE) if _f == "mojo_tls_conn_alpn" else codes(NOT_AVAILABLE)),
             ("capacity 1", lambda fx: [fx.hs_client, O(1), 1], ANY)])
T("mojo_tls_conn_peer_cert_validity", lambda fx: [fx.hs_client, O(8), O(8)], codes(0),
  over={"not_before:NULL": codes(0), "not_after:NULL": codes(0)},
  extra=[("before the handshake", lambda fx: [fx.conn, O(8), O(8)], codes(NOT_AVAILABLE))])
T("mojo_tls_conn_verify_flags", lambda fx: [fx.hs_client], codes(0),
  extra=[("before the handshake", lambda fx: [fx.conn], codes(NOT_AVAILABLE))])
# structured peer certificate names (MOJO_TLS_DN_SUBJECT 0 / ISSUER 1)
T("mojo_tls_conn_peer_cert_dn_count", lambda fx: [fx.hs_client, 0], OK,
  extra=[("issuer", lambda fx: [fx.hs_client, 1], OK),
         ("which 2", lambda fx: [fx.hs_client, 2], codes(INVALID_ARGUMENT)),
         ("which -1", lambda fx: [fx.hs_client, -1], codes(INVALID_ARGUMENT)),
         ("before the handshake", lambda fx: [fx.conn, 0], codes(NOT_AVAILABLE))])
T("mojo_tls_conn_peer_cert_dn_attr", lambda fx: [fx.hs_client, 0, 0, O(4), O(BIG_OUT), BIG_OUT], OK,
  over={"rdn:NULL": OK},
  extra=[("issuer", lambda fx: [fx.hs_client, 1, 0, O(4), O(64), 64], OK),
         ("index out of range", lambda fx: [fx.hs_client, 0, 1000, O(4), O(64), 64], codes(INVALID_ARGUMENT)),
         ("index SIZE_MAX", lambda fx: [fx.hs_client, 0, SIZE_MAX, O(4), O(64), 64], codes(INVALID_ARGUMENT)),
         ("which 7", lambda fx: [fx.hs_client, 7, 0, O(4), O(64), 64], codes(INVALID_ARGUMENT)),
         ("before the handshake", lambda fx: [fx.conn, 0, 0, O(4), O(64), 64], codes(NOT_AVAILABLE)),
         ("capacity 1", lambda fx: [fx.hs_client, 0, 0, None, O(1), 1], ANY)])
T("mojo_tls_conn_peer_cert_dn_value", lambda fx: [fx.hs_client, 0, 0, O(BIG_OUT), BIG_OUT], OK,
  extra=[("index out of range", lambda fx: [fx.hs_client, 1, 1000, O(64), 64], codes(INVALID_ARGUMENT)),
         ("which 2", lambda fx: [fx.hs_client, 2, 0, O(64), 64], codes(INVALID_ARGUMENT)),
         ("before the handshake", lambda fx: [fx.conn, 0, 0, O(64), 64], codes(NOT_AVAILABLE)),
         ("capacity 1", lambda fx: [fx.hs_client, 0, 0, O(1), 1], ANY)])
T("mojo_tls_conn_peer_cert_san_count", lambda fx: [fx.hs_client], OK,
  extra=[("before the handshake", lambda fx: [fx.conn], codes(NOT_AVAILABLE))])
T("mojo_tls_conn_peer_cert_san", lambda fx: [fx.hs_client, 0, O(4), O(BIG_OUT), BIG_OUT], OK,
  over={"type:NULL": OK},
  extra=[("index out of range", lambda fx: [fx.hs_client, 1000, O(4), O(64), 64], codes(INVALID_ARGUMENT)),
         ("index SIZE_MAX", lambda fx: [fx.hs_client, SIZE_MAX, O(4), O(64), 64], codes(INVALID_ARGUMENT)),
         ("before the handshake", lambda fx: [fx.conn, 0, O(4), O(64), 64], codes(NOT_AVAILABLE)),
         ("capacity 1", lambda fx: [fx.hs_client, 0, None, O(1), 1], ANY)])
T("mojo_tls_conn_session_import", lambda fx: [fx.new_conn(), B(fx.session), len(fx.session)],
  extra=[("garbage blob", lambda fx: [fx.new_conn(), B(GARBAGE), len(GARBAGE)], codes(PARSE)),
         ("truncated blob", lambda fx: [fx.new_conn(), B(fx.session[: len(fx.session) // 2]),
                                        len(fx.session) // 2], codes(PARSE)),
         ("blob with a flipped byte", lambda fx: [fx.new_conn(), B(flip(fx.session)), len(fx.session)], ANY),
         ("length 0", lambda fx: [fx.new_conn(), B(fx.session), 0], codes(PARSE, INVALID_ARGUMENT)),
         ("on a server connection", lambda fx: [fx.new_conn(server=True), B(fx.session), len(fx.session)],
          codes(BAD_STATE, INVALID_ARGUMENT, PARSE)),
         ("after the handshake", lambda fx: [fx.hs_client, B(fx.session), len(fx.session)], codes(BAD_STATE))])
T("mojo_tls_conn_session_resumed", lambda fx: [fx.hs_client], codes(0),
  extra=[("before the handshake", lambda fx: [fx.conn], codes(NOT_AVAILABLE))])
T("mojo_tls_config_set_record_layer", lambda fx: [fx.new_ccfg(), 1],
  extra=[("mode 0 (auto)", lambda fx: [fx.new_scfg(), 0], OK),
         ("mode 2", lambda fx: [fx.new_ccfg(), 2], codes(INVALID_ARGUMENT)),
         ("mode -1", lambda fx: [fx.new_ccfg(), -1], codes(INVALID_ARGUMENT)),
         ("mode INT32_MAX", lambda fx: [fx.new_ccfg(), 2**31 - 1], codes(INVALID_ARGUMENT))])
T("mojo_tls_conn_record_layer", lambda fx: [fx.hs_client],
  extra=[("before the handshake", lambda fx: [fx.conn], NULLPTR)])
T("mojo_tls_conn_record_layer_detail", lambda fx: [fx.hs_client, O(BIG_OUT), BIG_OUT],
  extra=[("before the handshake", lambda fx: [fx.conn, O(BIG_OUT), BIG_OUT], codes(NOT_AVAILABLE)),
         ("capacity 1", lambda fx: [fx.hs_client, O(1), 1], ANY)])
T("mojo_tls_conn_key_update", lambda fx: [fx.hs_client, 1], ANY,
  extra=[("before the handshake", lambda fx: [fx.conn, 0], codes(NOT_AVAILABLE)),
         ("request INT32_MIN", lambda fx: [fx.hs_client, -(2**31)], ANY)])

# server name callback (a C callback that returns 0; the sweep never
# handshakes on a config it is set on) and keying material
SNI_CB = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)(lambda u, c, n: 0)
SNI_CB_ADDR = ctypes.cast(SNI_CB, ctypes.c_void_p).value
T("mojo_tls_config_set_server_name_callback", lambda fx: [fx.new_scfg(), SNI_CB_ADDR, None],
  over={"userdata:NULL": OK},
  extra=[("cb NULL (removes it)", lambda fx: [fx.new_scfg(), None, None], OK),
         ("with userdata", lambda fx: [fx.new_scfg(), SNI_CB_ADDR, fx.real_mem], OK),
         ("on a client config", lambda fx: [fx.new_ccfg(), SNI_CB_ADDR, None], codes(BAD_STATE))])
T("mojo_tls_conn_use_config", lambda fx: [fx.hs_server, fx.scfg], codes(BAD_STATE),
  extra=[("a client connection", lambda fx: [fx.hs_client, fx.scfg], codes(BAD_STATE)),
         ("a client config", lambda fx: [fx.hs_server, fx.ccfg], codes(BAD_STATE)),
         ("before the handshake", lambda fx: [fx.new_conn(server=True), fx.scfg], codes(BAD_STATE))])
EKM = "EXPORTER-sweep"
T("mojo_tls_conn_export_keying_material",
  lambda fx: [fx.hs_client, S(EKM), len(EKM), None, 0, O(64), 32], codes(32),
  over={"buf:NULL,0": codes(INVALID_ARGUMENT)},
  extra=[("with a context", lambda fx: [fx.hs_server, S(EKM), len(EKM), B(b"ctx"), 3, O(64), 64], codes(64)),
         ("empty label", lambda fx: [fx.hs_client, S(""), 0, None, 0, O(32), 32], codes(32)),
         ("length 8160", lambda fx: [fx.hs_client, S(EKM), len(EKM), None, 0, O(8160), 8160], codes(8160)),
         ("length 8161", lambda fx: [fx.hs_client, S(EKM), len(EKM), None, 0, O(8161), 8161],
          codes(INVALID_ARGUMENT)),
         ("TLS 1.3 label of 250 bytes", lambda fx: [fx.hs_client, S("a" * 250), 250, None, 0, O(32), 32],
          codes(INVALID_ARGUMENT)),
         ("before the handshake", lambda fx: [fx.conn, S(EKM), len(EKM), None, 0, O(32), 32],
          codes(NOT_AVAILABLE))])
T("mojo_tls_conn_tls_unique", lambda fx: [fx.hs_client, O(64), 64], codes(NOT_AVAILABLE),
  extra=[("before the handshake", lambda fx: [fx.conn, O(64), 64], codes(NOT_AVAILABLE))])

# --- library-wide ---------------------------------------------------------
for _f in ("mojo_tls_init", "mojo_tls_version", "mojo_tls_backend", "mojo_tls_abi_version",
           "mojo_tls_last_error_code"):
    T(_f, lambda fx: [])
T("mojo_tls_clear_error", lambda fx: [], NOCRASH)
T("mojo_tls_last_error", lambda fx: [O(256), 256],
  over={"buf:NULL,cap": OK, "cap:SIZE_MAX": ANY, "cap:2^63": ANY},
  extra=[("size query (NULL, 0)", lambda fx: [None, 0], OK), ("capacity 1", lambda fx: [O(1), 1], OK)])
# the verification result of the last failure: none here (the worker clears
# the last error before each case); tests/c/test_verify.c and the Python
# tests cover a real verification failure.
T("mojo_tls_last_error_verify_flags", lambda fx: [], codes(NOT_AVAILABLE))
T("mojo_tls_last_error_verify_reason", lambda fx: [O(256), 256], codes(NOT_AVAILABLE),
  over={"buf:NULL,cap": codes(NOT_AVAILABLE), "cap:SIZE_MAX": ANY, "cap:2^63": ANY,
        "buf:NULL,0": codes(NOT_AVAILABLE)},
  extra=[("capacity 1", lambda fx: [O(1), 1], codes(NOT_AVAILABLE))])
T("mojo_tls_strerror", lambda fx: [-8],
  extra=[(f"code {c}", (lambda c: lambda fx: [c])(c), OK) for c in (12345, -12345, 2**31 - 1, -(2**31), 0)])
T("mojo_tls_random", lambda fx: [O(64), 64], codes(64), over={"buf:NULL,0": codes(0)},
  extra=[("capacity 0", lambda fx: [O(1), 0], codes(0)), ("NULL, capacity 0", lambda fx: [None, 0], codes(0)),
         ("1 MiB", lambda fx: [O(1 << 20), 1 << 20], codes(1 << 20))])
T("mojo_tls_sha256", lambda fx: [S("abc"), 3, O(32), 32], codes(32),
  over={"buf:NULL,0": codes(32)},
  extra=[("empty input", lambda fx: [None, 0, O(32), 32], codes(32)),
         ("capacity 16 (copies what fits)", lambda fx: [S("abc"), 3, O(16), 16], codes(32))])
# crypto helpers (tests/c/test_crypto.c has the known answers); alg 0/1/2 = SHA-256/384/512
SHA256, SHA384, SHA512 = ffi.MOJO_TLS_HASH_SHA256, ffi.MOJO_TLS_HASH_SHA384, ffi.MOJO_TLS_HASH_SHA512
BAD_ALGS = (3, -1, 2**31 - 1, -(2**31))
T("mojo_tls_digest", lambda fx: [SHA384, S("abc"), 3, O(64), 64], codes(48),
  over={"buf:NULL,0": codes(48)},
  extra=[("empty input", lambda fx: [SHA512, None, 0, O(64), 64], codes(64)),
         ("capacity 16 (copies what fits)", lambda fx: [SHA256, S("abc"), 3, O(16), 16], codes(32))]
  + [(f"alg {a}", (lambda a: lambda fx: [a, S("abc"), 3, O(64), 64])(a), codes(INVALID_ARGUMENT))
     for a in BAD_ALGS])
T("mojo_tls_hmac", lambda fx: [SHA256, S("key"), 3, S("data"), 4, O(64), 64], codes(32),
  over={"buf:NULL,0": codes(32)},
  extra=[("empty key and data", lambda fx: [SHA384, None, 0, None, 0, O(64), 64], codes(48)),
         ("capacity 16 (copies what fits)", lambda fx: [SHA512, S("k"), 1, S("d"), 1, O(16), 16], codes(64))]
  + [(f"alg {a}", (lambda a: lambda fx: [a, S("key"), 3, S("data"), 4, O(64), 64])(a), codes(INVALID_ARGUMENT))
     for a in BAD_ALGS])
T("mojo_tls_hkdf_extract", lambda fx: [SHA256, S("salt"), 4, S("ikm"), 3, O(64), 64], codes(32),
  over={"buf:NULL,0": codes(32)},
  extra=[("no salt", lambda fx: [SHA384, None, 0, S("ikm"), 3, O(64), 64], codes(48)),
         ("capacity 16 (copies what fits)", lambda fx: [SHA256, None, 0, S("ikm"), 3, O(16), 16], codes(32))]
  + [(f"alg {a}", (lambda a: lambda fx: [a, S("salt"), 4, S("ikm"), 3, O(64), 64])(a), codes(INVALID_ARGUMENT))
     for a in BAD_ALGS])
PRK = b"\x07" * 64
T("mojo_tls_hkdf_expand", lambda fx: [SHA256, B(PRK), 32, S("info"), 4, O(64), 42], codes(42),
  over={"buf:NULL,0": codes(INVALID_ARGUMENT)},
  extra=[("no info", lambda fx: [SHA512, B(PRK), 64, None, 0, O(64), 64], codes(64)),
         ("length 8160 (255 blocks)", lambda fx: [SHA256, B(PRK), 32, None, 0, O(8160), 8160], codes(8160)),
         ("length 8161", lambda fx: [SHA256, B(PRK), 32, None, 0, O(8161), 8161], codes(INVALID_ARGUMENT)),
         ("length 0", lambda fx: [SHA256, B(PRK), 32, None, 0, O(8), 0], codes(INVALID_ARGUMENT)),
         ("PRK shorter than the hash", lambda fx: [SHA384, B(PRK), 32, None, 0, O(64), 16],
          codes(INVALID_ARGUMENT)),
         ("empty PRK", lambda fx: [SHA256, None, 0, None, 0, O(64), 16], codes(INVALID_ARGUMENT))]
  + [(f"alg {a}", (lambda a: lambda fx: [a, B(PRK), 64, None, 0, O(64), 16])(a), codes(INVALID_ARGUMENT))
     for a in BAD_ALGS])
T("mojo_tls_hkdf", lambda fx: [SHA384, S("salt"), 4, S("ikm"), 3, S("info"), 4, O(64), 64], codes(64),
  over={"buf:NULL,0": codes(INVALID_ARGUMENT)},
  extra=[("no salt, no info", lambda fx: [SHA256, None, 0, S("ikm"), 3, None, 0, O(32), 32], codes(32)),
         ("empty ikm", lambda fx: [SHA256, None, 0, None, 0, None, 0, O(32), 32], codes(32)),
         ("length 16320 (SHA-512, 255 blocks)",
          lambda fx: [SHA512, None, 0, S("ikm"), 3, None, 0, O(16320), 16320], codes(16320)),
         ("length 12241 (SHA-384, 256 blocks)",
          lambda fx: [SHA384, None, 0, S("ikm"), 3, None, 0, O(12241), 12241], codes(INVALID_ARGUMENT)),
         ("length 0", lambda fx: [SHA256, None, 0, S("ikm"), 3, None, 0, O(8), 0], codes(INVALID_ARGUMENT))]
  + [(f"alg {a}", (lambda a: lambda fx: [a, None, 0, S("ikm"), 3, None, 0, O(64), 16])(a),
      codes(INVALID_ARGUMENT)) for a in BAD_ALGS])


def flip(b: bytes) -> bytes:
    if not b:
        return b
    i = len(b) // 3
    return b[:i] + bytes([b[i] ^ 0x5A]) + b[i + 1:]


# Known library bugs, reported to the maintainers: the case still runs and
# its failure is printed as XFAIL (an unexpected pass prints XPASS: remove
# the entry). Keys are "function: case label".
KNOWN: Dict[str, str] = {}


# ---------------------------------------------------------------------------
# case generation
# ---------------------------------------------------------------------------

@dataclass
class Case:
    fn: str
    label: str
    args: Callable[[Fx], List[Any]]
    expect: Optional[Expect]
    post: Optional[str] = None  # name of a post-check

    @property
    def id(self) -> str:
        return f"{self.fn}: {self.label}"


def handle_kind(p: H.Param) -> str:
    for k in ("config", "conn", "gencert", "dtls_listener"):
        if f"mojo_tls_{k} *" in p.type:
            return k
    raise ValueError(p.type)


def replace(args_fn: Callable[[Fx], List[Any]], i: int, value: Callable[[Fx], Any], j: Optional[int] = None,
            value_j: Optional[Callable[[Fx], Any]] = None) -> Callable[[Fx], List[Any]]:
    def build(fx: Fx) -> List[Any]:
        a = list(args_fn(fx))
        a[i] = value(fx)
        if j is not None and value_j is not None:
            a[j] = value_j(fx)
        return a
    return build


SIZE_NAMES = ("len", "cap", "n", "buflen", "keylen", "pwdlen", "cert_len", "key_len", "input_len", "buf_size",
              "label_len", "context_len")


def build_cases(funcs: Dict[str, H.Func]) -> List[Case]:
    out: List[Case] = []
    for name, f in funcs.items():
        e = TABLE.get(name)
        if e is None:
            continue
        ps = f.params
        ret_ptr = "*" in f.ret
        ov = e.over
        out.append(Case(name, "valid arguments", e.valid, e.valid_expect))
        if e.compat:
            for label, a, x in e.extra:
                out.append(Case(name, label, a, x))
            continue
        for i, p in enumerate(ps):
            nxt = ps[i + 1] if i + 1 < len(ps) else None
            if p.is_handle:
                kind = handle_kind(p)
                null_x = ov.get(f"{p.name}:NULL", codes(INVALID_HANDLE))
                free_fn = name.endswith("_free")
                bad = codes(INVALID_HANDLE)
                out.append(Case(name, f"{p.name}: NULL", replace(e.valid, i, lambda fx: None), null_x))
                freed = {"config": "freed_cfg", "conn": "freed_conn", "gencert": "freed_gen",
                         "dtls_listener": "freed_listener"}[kind]
                out.append(Case(name, f"{p.name}: freed", replace(e.valid, i, lambda fx, a=freed: getattr(fx, a)),
                                ov.get(f"{p.name}:freed", bad)))
                for k, desc in enumerate(["never-issued id", "0x4141414141414140", "misaligned id", "16",
                                          "pointer to real memory", "a compat ssl_context"]):
                    out.append(Case(name, f"{p.name}: forged ({desc})",
                                    replace(e.valid, i, lambda fx, k=k: fx.forged[k]), bad))
                for other in ("config", "conn", "gencert", "dtls_listener"):
                    if other != kind:
                        attr = {"config": "wt_cfg", "conn": "wt_conn", "gencert": "wt_gen",
                                "dtls_listener": "wt_listener"}[other]
                        out.append(Case(name, f"{p.name}: wrong type ({other})",
                                        replace(e.valid, i, lambda fx, a=attr: getattr(fx, a)), bad,
                                        post="wrong_type_alive"))
                if free_fn:
                    out.append(Case(name, "double free", None, codes(INVALID_HANDLE), post=f"double:{kind}"))
            elif p.is_pointer and nxt is not None and nxt.type == "size_t" and nxt.name in SIZE_NAMES:
                j = i + 1
                out.append(Case(name, f"{p.name}: NULL with {nxt.name} 16",
                                replace(e.valid, i, lambda fx: None, j, lambda fx: 16),
                                ov.get(f"{p.name}:NULL,{nxt.name}", codes(INVALID_ARGUMENT))))
                out.append(Case(name, f"{nxt.name}: SIZE_MAX", replace(e.valid, j, lambda fx: SIZE_MAX),
                                ov.get(f"{nxt.name}:SIZE_MAX", codes(INVALID_ARGUMENT))))
                out.append(Case(name, f"{nxt.name}: 2^63", replace(e.valid, j, lambda fx: HUGE),
                                ov.get(f"{nxt.name}:2^63", codes(INVALID_ARGUMENT))))
                if not p.is_const_pointer and "revoked" not in p.name:
                    out.append(Case(name, f"{p.name}: size query (NULL, 0)",
                                    replace(e.valid, i, lambda fx: None, j, lambda fx: 0),
                                    ov.get(f"{p.name}:NULL,0", e.valid_expect if e.valid_expect != OK else OK)))
            elif p.type == "const char *":
                out.append(Case(name, f"{p.name}: NULL", replace(e.valid, i, lambda fx: None),
                                ov.get(f"{p.name}:NULL", codes(INVALID_ARGUMENT))))
                out.append(Case(name, f"{p.name}: non-UTF-8", replace(e.valid, i, lambda fx: B(NON_UTF8)),
                                ov.get(f"{p.name}:non-UTF-8", codes(INVALID_ARGUMENT))))
            elif p.is_pointer and "revoked" not in p.name and (i == 0 or not (ps[i - 1].is_pointer and p.type == "size_t")):
                out.append(Case(name, f"{p.name}: NULL", replace(e.valid, i, lambda fx: None),
                                ov.get(f"{p.name}:NULL", codes(INVALID_ARGUMENT))))
        for item in e.extra:
            label, a, x = item[:3]
            post = item[3] if len(item) > 3 else None
            out.append(Case(name, label, a, x, post))
    return out


class _PemStatic:
    """What pem_inputs needs, built once from library-generated material
    (identical in every worker: the bytes are data, not handles)."""

    def __init__(self) -> None:
        ca = R.Gen.ca("sweep static CA")
        leaf = R.Gen.leaf(ca)
        L = R.L
        self.ca_pem, self.cert_pem, self.key_pem = ca.cert, leaf.cert, leaf.key
        self.crl_pem = ca.crl([leaf])
        n = L.mojo_tls_gencert_cert_der(ca.h, None, 0)
        buf = ctypes.create_string_buffer(n)
        L.mojo_tls_gencert_cert_der(ca.h, buf, n)
        self.ca_der = buf.raw
        leaf.free()
        ca.free()


def static_material(seed_dir: Optional[str]) -> Any:
    """PEM/DER inputs shared by supervisor and workers (the worker reads what
    the supervisor wrote, so case lists are identical)."""
    import pickle

    path = os.path.join(seed_dir, "static.pickle") if seed_dir else None
    if path and os.path.exists(path):
        with open(path, "rb") as fh:
            return pickle.load(fh)
    s = _PemStatic()
    if path:
        with open(path, "wb") as fh:
            pickle.dump(s.__dict__, fh)
    return s.__dict__


class _NS:
    def __init__(self, d: Dict[str, Any]) -> None:
        self.__dict__.update(d)


def all_cases(seed_dir: Optional[str]) -> Tuple[Dict[str, H.Func], List[Case]]:
    global FX_STATIC
    FX_STATIC = _NS(static_material(seed_dir))
    if "mojo_tls_config_add_ca_mem" not in TABLE:
        mem_loader("mojo_tls_config_add_ca_mem", "cert")
        mem_loader("mojo_tls_config_add_crl_mem", "crl")
        add_cert_cases()
    funcs = H.parse()
    return funcs, build_cases(funcs)


# ---------------------------------------------------------------------------
# worker: runs cases, one JSON line each
# ---------------------------------------------------------------------------

CT = {"mojo_tls_server_name_cb": ctypes.c_void_p, "void": None, "size_t": ctypes.c_size_t, "ptrdiff_t": ctypes.c_ssize_t, "intptr_t": ctypes.c_ssize_t, "int32_t": ctypes.c_int32,
      "int64_t": ctypes.c_int64, "int": ctypes.c_int, "unsigned int": ctypes.c_uint, "uint16_t": ctypes.c_uint16}


def ctype(t: str) -> Any:
    return ctypes.c_void_p if "*" in t else CT[t]


def make_fn(f: H.Func) -> Any:
    fn = getattr(R.L.cdll, f.name)
    fn = ctypes.CFUNCTYPE(ctype(f.ret), *[ctype(p.type) for p in f.params])(ctypes.cast(fn, ctypes.c_void_p).value)
    return fn


def materialise(args: List[Any], keep: List[Any]) -> List[Any]:
    out = []
    for a in args:
        if isinstance(a, B):
            buf = ctypes.create_string_buffer(a.data, len(a.data) + 1)
            keep.append(buf)
            out.append(ctypes.addressof(buf))
        elif isinstance(a, O):
            buf = ctypes.create_string_buffer(max(1, a.n))
            keep.append(buf)
            out.append(ctypes.addressof(buf))
        elif isinstance(a, Arr):
            arr = (ctypes.c_void_p * max(1, len(a.items)))(*a.items)
            keep.append(arr)
            out.append(ctypes.addressof(arr))
        else:
            out.append(a)
    return out


def check_case(case: Case, f: H.Func, ret: Any, fx: Fx) -> Optional[str]:
    code, msg = R.last_error()
    x = case.expect
    is_ptr = "*" in f.ret
    is_handle_ctor = is_ptr and "mojo_tls_" in f.ret and "struct" in f.ret
    # universal: a caught panic is a bug
    if code == INTERNAL:
        return f"caught panic (MOJO_TLS_ERR_INTERNAL): {msg}"
    if f.compat:
        if x.kind == "nocrash":
            return None
        if x.kind == "null":
            return None if not ret else f"got {ret:#x}, expected NULL"
        if x.kind == "ok":
            return None if (ret if is_ptr else ret > 0) else f"got {ret!r}, expected a value"
        if x.kind == "codes":
            return None if ret in x.codes else f"got {ret} ({ret:#x}), expected {x}"
        return None
    if x.kind == "nocrash":
        return None
    if is_ptr:
        got_null = not ret
        if x.kind == "ok":
            return None if not got_null else f"got NULL ({R.code_name(code)}: {msg}), expected a result"
        if x.kind == "null":
            return None if got_null else "got a pointer, expected NULL"
        if x.kind == "any":
            return None
        if not got_null:
            return f"got a handle/pointer, expected NULL with {x}"
        if code not in x.codes:
            return f"NULL but last_error_code {R.code_name(code)} ({msg}), expected {x}"
        if not msg:
            return "NULL with an empty last_error message"
        return None
    # integer results
    if f.ret in ("size_t", "unsigned int"):
        if x.kind == "codes" and ret not in x.codes:
            return f"got {ret}, expected {x}"
        return None
    if ret < 0:
        # The last_error_* getters report on the last error and never change it.
        reports_last_error = f.name.startswith("mojo_tls_last_error")
        if code != ret and not (ret < -64) and not reports_last_error:
            return f"returned {R.code_name(ret)} but last_error_code is {R.code_name(code)} ({msg})"
        if not msg and not reports_last_error:
            return f"returned {R.code_name(ret)} with an empty last_error message"
    if x.kind == "ok":
        return None if ret >= 0 else f"got {R.code_name(ret)} ({msg}), expected success"
    if x.kind == "any":
        return None
    if ret not in x.codes:
        return f"got {R.code_name(ret) if ret <= 0 else ret} ({msg if ret < 0 else ''}), expected {x}"
    return None


def cleanup_result(f: H.Func, ret: Any) -> None:
    L = R.L
    if not ret:
        return
    if f.ret.endswith("mojo_tls_config *"):
        L.mojo_tls_config_free(ret)
    elif f.ret.endswith("mojo_tls_conn *"):
        L.mojo_tls_conn_free(ret)
    elif f.ret.endswith("mojo_tls_gencert *"):
        L.mojo_tls_gencert_free(ret)
    elif f.name == "mojo_tls_socket_listen" and ret >= 0:
        L.mojo_tls_socket_close(ret)
    elif f.name == "mojo_tls_alloc":
        CL.free(ret)


def post_check(case: Case, fx: Fx, args: List[Any]) -> Optional[str]:
    L = R.L
    if case.post == "wrong_type_alive":
        return fx.wrong_type_alive()
    if case.post == "pipe_open" and not fd_is_open(fx.pipe_r):
        return "the library closed a caller-owned fd (take_ownership 0) on failure"
    return None


def run_double_free(case: Case, fx: Fx) -> Tuple[Any, Optional[str]]:
    L = R.L
    kind = case.post.split(":")[1]
    new, free = {"config": (lambda: L.mojo_tls_config_new(0), L.mojo_tls_config_free),
                 "conn": (lambda: L.mojo_tls_conn_new_memory(fx.ccfg, b"localhost"), L.mojo_tls_conn_free),
                 "gencert": (lambda: L.mojo_tls_gencert_new_ca(b"df", 1, 0), L.mojo_tls_gencert_free),
                 "dtls_listener": (lambda: L.mojo_tls_dtls_listener_new(fx.dscfg, b"127.0.0.1", 0),
                                   L.mojo_tls_dtls_listener_free)}[kind]
    h = new()
    first = free(h)
    if first != 0:
        return first, f"first free returned {first}"
    L.mojo_tls_clear_error()
    second = free(h)
    return second, None


def fd_is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def worker(start: int, seed_dir: str) -> int:
    # SIGPIPE must not kill the worker when a test socket's peer is gone
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    funcs, cases = all_cases(seed_dir)
    fx = Fx()
    fns = {n: make_fn(f) for n, f in funcs.items() if n in TABLE}
    w = sys.stdout
    for idx in range(start, len(cases)):
        case = cases[idx]
        f = funcs[case.fn]
        w.write(json.dumps({"start": idx}) + "\n")
        w.flush()
        err: Optional[str] = None
        status = "ok"
        keep: List[Any] = []
        try:
            if case.post and case.post.startswith("double:"):
                R.L.mojo_tls_clear_error()
                ret, err = run_double_free(case, fx)
                err = err or check_case(case, f, ret, fx)
            else:
                args = case.args(fx)
                cargs = materialise(args, keep)
                owned_fd = None
                if case.fn == "mojo_tls_conn_new_fd" and isinstance(cargs[1], int) and cargs[1] > 2 \
                        and cargs[2] == 1 and cargs[1] != fx.pipe_r:
                    owned_fd = cargs[1]
                R.L.mojo_tls_clear_error()
                ret = fns[case.fn](*cargs)
                err = check_case(case, f, ret, fx)
                if not err and case.post:
                    err = post_check(case, fx, args)
                if not err and owned_fd is not None and not ret and fd_is_open(owned_fd):
                    err = f"failed conn_new_fd with take_ownership left fd {owned_fd} open (documented: closed)"
                if f.name == "mojo_tls_sha256" and case.label == "valid arguments" and not err:
                    import hashlib
                    if bytes(keep[-1].raw[:32]) != hashlib.sha256(b"abc").digest():
                        err = "wrong SHA-256 of 'abc'"
                if f.name == "mojo_tls_strerror" and not err and not ret:
                    err = "strerror returned NULL"
                if f.name == "mojo_tls_net_accept_alloc" and not err:
                    rc = ctypes.c_int.from_buffer(keep[-1]).value
                    if rc != NET_BAD_INPUT:
                        err = f"*ret_code = {rc:#x}, expected {NET_BAD_INPUT:#x}"
                cleanup_result(f, ret)
        except R.Skip as exc:
            status, err = "skip", str(exc)
        except Exception as exc:  # noqa: BLE001
            err = f"test error: {type(exc).__name__}: {exc}"
        finally:
            for kind, h in fx.keep:
                if kind == "compat_x509_crt":
                    CL.fn("mojo_tls_x509_crt_free", None, [ctypes.c_void_p])(h)
                    CL.free(h)
                elif kind == "compat_pk_context":
                    CL.fn("mojo_tls_pk_free", None, [ctypes.c_void_p])(h)
                    CL.free(h)
            fx.keep = [k for k in fx.keep if not k[0].startswith("compat_")]
            fx.release()
        if err and status != "skip":
            status = "fail"
        w.write(json.dumps({"done": idx, "status": status, "detail": err or ""}) + "\n")
        w.flush()
    fx.tmp.cleanup()
    return 0


# ---------------------------------------------------------------------------
# supervisor
# ---------------------------------------------------------------------------

def supervise() -> int:
    run = R.Runner("bad-input sweep")
    seed_ctx = tempfile.TemporaryDirectory(prefix="mojo-tls-sweep-seed-")
    seed = seed_ctx.name
    funcs_parsed, cases = all_cases(seed)
    declared = set(H.declared_names())
    failures: List[str] = []
    # 1. the table covers the header, and nothing else
    missing = sorted(declared - set(TABLE))
    stale = sorted(set(TABLE) - declared)
    parsed_gap = sorted(declared - set(funcs_parsed))
    for n in missing:
        failures.append(f"{n}: declared in mojo_tls.h but not in the sweep table: add it to the sweep "
                        f"(tests/reliability/bad_input.py TABLE)")
    for n in stale:
        failures.append(f"{n}: in the sweep table but no longer declared in mojo_tls.h: remove it")
    for n in parsed_gap:
        failures.append(f"{n}: the header parser missed its declaration (tests/reliability/header.py)")
    for n in sorted(declared & set(TABLE)):
        if n in funcs_parsed and funcs_parsed[n].compat != TABLE[n].compat:
            failures.append(f"{n}: the header {'marks' if funcs_parsed[n].compat else 'does not mark'} it "
                            f"'Compat:' but the table says compat={TABLE[n].compat}")
    ffi_names = set(ffi.FUNCTIONS)
    # the generated ctypes layer carries mojo_tls.h only (not mojo_tls_compat.h)
    for n in sorted(set(H.declared_names(H.header_path())) - ffi_names):
        failures.append(f"{n}: missing from python/mojo_tls/_ffi.py (regenerate the bindings)")

    if True:
        results: Dict[int, Tuple[str, str]] = {}
        idx = 0
        restarts = 0
        per_case_limit = 60 * R.slow()
        total_deadline = time.monotonic() + 600 * R.slow()
        while idx < len(cases) and restarts < 50 and time.monotonic() < total_deadline:
            errf = tempfile.TemporaryFile()
            p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", str(idx), seed],
                                 stdout=subprocess.PIPE, stderr=errf, cwd=R.HERE)
            sel = selectors.DefaultSelector()
            sel.register(p.stdout, selectors.EVENT_READ)
            current: Optional[int] = None
            buf = b""
            last = time.monotonic()
            hung = False
            while True:
                if not sel.select(timeout=1.0):
                    if current is not None and time.monotonic() - last > per_case_limit:
                        hung = True
                        p.kill()
                        break
                    if p.poll() is not None:
                        break
                    continue
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    msg = json.loads(line)
                    last = time.monotonic()
                    if "start" in msg:
                        current = msg["start"]
                    else:
                        results[msg["done"]] = (msg["status"], msg["detail"])
                        current = None
                        idx = msg["done"] + 1
            rc = p.wait()
            sel.close()
            p.stdout.close()
            if current is not None:
                errf.seek(0)
                tail = errf.read().decode("utf-8", "replace").strip().splitlines()[-6:]
                if hung:
                    why = f"hang: no result after {per_case_limit}s"
                else:
                    why = f"CRASH: worker died with {describe_rc(rc)}"
                results[current] = ("fail", why + ("\n      " + "\n      ".join(tail) if tail else ""))
                idx = current + 1
                restarts += 1
            elif rc != 0 and idx < len(cases):
                errf.seek(0)
                tail = errf.read().decode("utf-8", "replace").strip().splitlines()[-10:]
                failures.append(f"worker failed before any case ({describe_rc(rc)}): " + " | ".join(tail))
                break
            errf.close()
    seed_ctx.cleanup()
    del run

    # report: one line per function, failing cases in full
    by_fn: Dict[str, List[Tuple[Case, str, str]]] = {}
    for i, c in enumerate(cases):
        st, detail = results.get(i, ("fail", "not run (sweep aborted)"))
        by_fn.setdefault(c.fn, []).append((c, st, detail))
    passed = failed = skipped = 0
    for fn, items in by_fn.items():
        for k, (c, st, d) in enumerate(items):
            note = KNOWN.get(c.id)
            if note and st == "fail":
                print(f"XFAIL {c.id}: {note} [got: {d}]")
                items[k] = (c, "ok", d)
            elif note and st == "ok":
                print(f"XPASS {c.id}: expected failure passed, remove it from KNOWN: {note}")
        bad = [(c, d) for c, st, d in items if st == "fail"]
        sk = sum(1 for _, st, _ in items if st == "skip")
        n_ok = len(items) - len(bad) - sk
        passed += n_ok
        failed += len(bad)
        skipped += sk
        tag = "compat" if TABLE[fn].compat else "safe"
        if bad:
            print(f"FAIL  {fn} [{tag}] {n_ok}/{len(items)} cases")
            for c, d in bad:
                print(f"      - {c.label}: {c.expect} expected: {d}")
        else:
            print(f"PASS  {fn} [{tag}] {n_ok} cases" + (f", {sk} skipped" if sk else ""))
    for msg in failures:
        print(f"FAIL  {msg}")
    failed += len(failures)
    n_compat = sum(1 for n in TABLE if TABLE[n].compat)
    print(f"swept {len(by_fn)} functions ({n_compat} compat: NULL handling only), {len(cases)} cases, "
          f"{skipped} skipped, worker restarts after crash/hang: {restarts}")
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


def describe_rc(rc: int) -> str:
    if rc < 0:
        try:
            return f"signal {signal.Signals(-rc).name}"
        except ValueError:
            return f"signal {-rc}"
    return f"exit {rc}"


def selftest() -> int:
    """The sweep must notice a crashing call, report it and go on."""
    env = dict(os.environ, MOJO_TLS_SWEEP_SELFTEST="1")
    r = subprocess.run([sys.executable, os.path.abspath(__file__)], env=env, capture_output=True, text=True,
                       timeout=600 * R.slow())
    log = r.stdout + r.stderr
    ok = ("SELFTEST wild pointer" in log and "CRASH: worker died" in log
          and "worker restarts after crash/hang: 1" in log and "PASS  mojo_tls_sha256" in log
          and r.returncode != 0)
    if ok:
        print("PASS  sweep self-test: a crashing call is reported as a crash and the sweep goes on")
        print("1 passed, 0 failed")
        return 0
    print("FAIL  sweep self-test: the injected crash was not reported as expected")
    print("\n".join(log.splitlines()[-20:]))
    print("0 passed, 1 failed")
    return 1


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--selftest":
        sys.exit(selftest())
    if len(sys.argv) >= 4 and sys.argv[1] == "--worker":
        sys.exit(worker(int(sys.argv[2]), sys.argv[3]))
    sys.exit(supervise())
