#!/usr/bin/env python3
"""Bulk interop of the fast record layer (issue 11): generated data both ways
through each suite, checked with SHA-256 on both ends, between our peer
(tests/interop/bulk_peer.c, compiled here against dist/) and

  - openssl s_server / s_client (-quiet: stdin is sent, received data goes
    to stdout; this driver feeds the one and hashes the other), and
  - Python's ssl module (server and client, in this process),

on 127.0.0.1 only. Suites: the three TLS 1.3 suites (one of them again
with KeyUpdates), plus TLS 1.2 AES-128-GCM (keys derived from the exported
master secret). Every case asserts our side ran the ring record layer.

Size: MOJO_TLS_BULK_MIB MiB each way per case (default 256: with four peers
that is 2 GiB per suite). Run with MOJO_TLS_BULK_MIB=1024 for 1 GiB each
way per peer. Every wait is bounded; every process is ended by its PID.

Prints one line per case and finally exactly "N passed, N failed".
"""

import hashlib
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402
from interop import Reader, case, log, spawn, stop  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DIST = interop.DIST
MIB = int(os.environ.get("MOJO_TLS_BULK_MIB", "256"))
SIZE = MIB << 20
BLOCK = 65536
CHUNK = 1 << 20
# generous: a slow machine moves at least ~10 MB/s each way
CASE_TIMEOUT = 60 + SIZE / 10e6
W = {}

TLS12 = (
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"),
)
TLS13 = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")


# ---------------------------------------------------------------- the stream

def base_block(seed):
    """bulk_peer.c's stream_init: xorshift64*, top byte of each step."""
    m = (1 << 64) - 1
    x = (seed * 0x9E3779B97F4A7C15 + 0x1234567) & m
    if x == 0:
        x = 1
    out = bytearray(BLOCK)
    for i in range(BLOCK):
        x ^= x >> 12
        x ^= (x << 25) & m
        x ^= x >> 27
        out[i] = ((x * 0x2545F4914F6CDD1D) & m) >> 56
    return bytes(out)


_bases = {}


def chunks(seed, total):
    """The stream of `seed`, `total` bytes, in CHUNK-sized pieces."""
    base = _bases.setdefault(seed, base_block(seed))
    tail = base[8:]
    k, left = 0, total
    while left > 0:
        n = min(CHUNK, left)
        blocks = []
        for _ in range((n + BLOCK - 1) // BLOCK):
            blocks.append(k.to_bytes(8, "big") + tail)
            k += 1
        yield b"".join(blocks)[:n]
        left -= n


_digests = {}


def digest(seed, total):
    key = (seed, total)
    if key not in _digests:
        h = hashlib.sha256()
        for c in chunks(seed, total):
            h.update(c)
        _digests[key] = h.hexdigest()
    return _digests[key]


class Hasher(threading.Thread):
    """Hashes a pipe (or a socket-like reader) in the background."""

    def __init__(self, read, limit=None):
        super().__init__(daemon=True)
        self.read, self.limit = read, limit
        self.h, self.n, self.error = hashlib.sha256(), 0, None
        self.start()

    def run(self):
        try:
            while self.limit is None or self.n < self.limit:
                want = CHUNK if self.limit is None else min(CHUNK, self.limit - self.n)
                b = self.read(want)
                if not b:
                    return
                self.h.update(b)
                self.n += len(b)
        except Exception as e:  # reported by the case
            self.error = e


class Feeder(threading.Thread):
    """Writes a stream to a pipe (or socket) in the background."""

    def __init__(self, write, seed, total, close=None):
        super().__init__(daemon=True)
        self.write, self.seed, self.total, self.close = write, seed, total, close
        self.sent, self.error = 0, None
        self.start()

    def run(self):
        try:
            for c in chunks(self.seed, self.total):
                self.write(c)
                self.sent += len(c)
            if self.close:
                self.close()
        except Exception as e:
            self.error = e


# ---------------------------------------------------------------- our peer

def recv_digest(tls):
    """Read SIZE bytes (less if the peer closes) from a Python ssl socket:
    (bytes read, their SHA-256 hex)."""
    buf = bytearray(CHUNK)
    h, n = hashlib.sha256(), 0
    while n < SIZE:
        k = tls.recv_into(buf, min(CHUNK, SIZE - n))
        if not k:
            break
        h.update(memoryview(buf)[:k])
        n += k
    return n, h.hexdigest()


def build_peer(d):
    exe = os.path.join(d, "bulk_peer")
    cc = os.environ.get("CC", "cc")
    base = [cc, "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-O2", "-I",
            os.path.join(DIST, "include"), "-o", exe, os.path.join(HERE, "bulk_peer.c"), "-L",
            os.path.join(DIST, "lib"), "-lmojo_tls", "-Wl,-rpath," + os.path.join(DIST, "lib")]
    # SHA-256 on our side needs libcrypto's headers; without them the peer
    # still compares every byte with the stream.
    r = subprocess.run(base[:1] + ["-DBULK_SHA256"] + base[1:] + ["-lcrypto"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    if r.returncode == 0:
        return exe, True
    r = subprocess.run(base, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("building bulk_peer.c failed:\n" + r.stdout.decode(errors="replace"))
    return exe, False


def report(text):
    return dict(re.findall(r"^(\w+): (.*)$", text, re.M))


class OurServer:
    def __init__(self, args):
        self.p = spawn([W["peer"], "server", "--cert", W["cert"], "--key", W["key"], "--timeout", "30000"] + args)
        self.out, self.err = Reader(self.p.stdout), Reader(self.p.stderr)
        assert self.out.wait_for(lambda b: b"listening on " in b and b.endswith(b"\n"), 10), \
            "our server did not start: %r %r" % (self.out.data(), self.err.data())
        self.port = int(re.search(rb"listening on (\d+)", self.out.data()).group(1))

    def finish(self, timeout):
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(self.p)
            rc = None
        self.out.join(5)
        self.err.join(5)
        text = (self.out.data() + self.err.data()).decode(errors="replace")
        return rc, report(text), text


def our_client(port, args, timeout):
    p = spawn([W["peer"], "client", str(port), "--ca", W["cert"], "--timeout", "30000"] + args)
    out, err = Reader(p.stdout), Reader(p.stderr)
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(p)
        rc = None
    out.join(5)
    err.join(5)
    text = (out.data() + err.data()).decode(errors="replace")
    return rc, report(text), text


def check_ours(rc, r, text, iana, sent_seed, recv_seed, key_updates=False):
    """Our side: clean exit, the suite, the ring layer, both streams intact."""
    assert rc == 0, "our peer exit %s:\n%s" % (rc, text[-1500:])
    if key_updates:
        assert int(r.get("key_updates", "0")) >= 8, "key updates sent: %r" % r.get("key_updates")
    assert r.get("cipher") == iana, "cipher %r, expected %s" % (r.get("cipher"), iana)
    assert r.get("record_layer") == "mojo-tls (ring)", "record layer %r" % r.get("record_layer")
    assert r.get("verified") == "yes" and r.get("close") == "clean", text[-800:]
    assert r.get("sent") == str(SIZE) and r.get("received") == str(SIZE), text[-800:]
    if W["sha"]:
        assert r.get("sha256_sent") == digest(sent_seed, SIZE), "our sha256 of the sent stream differs"
        assert r.get("sha256_received") == digest(recv_seed, SIZE), "our sha256 of the received stream differs"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def openssl_version_args(tls13, name):
    if tls13:
        return ["-tls1_3", "-ciphersuites", name]
    return ["-tls1_2", "-cipher", name]


# ---------------------------------------------------------------- cases

def suite_cases(iana, ossl_name, tls13, key_updates=False):
    """Four cases: our client and our server against openssl and Python.
    With key_updates, our side sends a TLS 1.3 KeyUpdate every SIZE/16
    bytes, alternately asking the peer to update too."""
    label = "%s (%s, %d MiB each way%s)" % (iana, "TLS 1.3" if tls13 else "TLS 1.2", MIB,
                                            ", KeyUpdate every %d MiB" % max(MIB // 16, 1) if key_updates else "")
    common = ["--ciphers", iana, "--send", str(SIZE), "--expect", str(SIZE)]
    if key_updates:
        common += ["--key-update-every", str(max(SIZE // 16, 1))]

    def check(rc, r, text, sent_seed, recv_seed):
        check_ours(rc, r, text, iana, sent_seed, recv_seed, key_updates)

    @case("bulk: our client <-> openssl s_server, " + label)
    def vs_s_server():
        for _ in range(3):
            port = free_port()
            srv = spawn(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-cert", W["cert"], "-key",
                         W["key"], "-naccept", "1", "-quiet"] + openssl_version_args(tls13, ossl_name))
            serr = Reader(srv.stderr)
            time.sleep(0.3)
            if srv.poll() is None:
                break
        hasher = Hasher(srv.stdout.read1, SIZE)
        # s_server ends the connection when its stdin ends: keep it open
        feeder = Feeder(srv.stdin.write, 2, SIZE)
        rc, r, text = our_client(port, common + ["--send-seed", "1", "--recv-seed", "2"], CASE_TIMEOUT)
        hasher.join(10)
        feeder.join(10)
        try:
            srv.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        check(rc, r, text + serr.data().decode(errors="replace")[-500:], 1, 2)
        assert hasher.error is None and hasher.n == SIZE, "s_server received %d of %d bytes (%s)" % (
            hasher.n, SIZE, hasher.error)
        assert hasher.h.hexdigest() == digest(1, SIZE), "s_server's sha256 of what it received differs"
        assert feeder.sent == SIZE, "fed s_server %d of %d bytes (%s)" % (feeder.sent, SIZE, feeder.error)
    vs_s_server()

    @case("bulk: openssl s_client <-> our server, " + label)
    def vs_s_client():
        srv = OurServer(common + ["--send-seed", "2", "--recv-seed", "1"])
        cli = spawn(["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port, "-CAfile", W["cert"],
                     "-verify_return_error", "-servername", "localhost", "-quiet", "-no_ign_eof", "-nocommands"]
                    + openssl_version_args(tls13, ossl_name))
        cerr = Reader(cli.stderr)
        hasher = Hasher(cli.stdout.read1, SIZE)
        feeder = Feeder(cli.stdin.write, 1, SIZE)
        feeder.join(CASE_TIMEOUT)
        hasher.join(CASE_TIMEOUT)
        # end of stdin: s_client sends close_notify and exits
        try:
            cli.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            crc = cli.wait(timeout=20)
        except subprocess.TimeoutExpired:
            crc = None
        rc, r, text = srv.finish(20)
        check(rc, r, text, 2, 1)
        assert hasher.error is None and hasher.n == SIZE, "s_client received %d of %d bytes" % (hasher.n, SIZE)
        assert hasher.h.hexdigest() == digest(2, SIZE), "s_client's sha256 of what it received differs"
        assert feeder.sent == SIZE, "fed s_client %d of %d bytes (%s)" % (feeder.sent, SIZE, feeder.error)
        assert crc == 0, "s_client exit %s: %s" % (crc, cerr.data()[-500:])
    vs_s_client()

    def py_ctx(server):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
        ver = ssl.TLSVersion.TLSv1_3 if tls13 else ssl.TLSVersion.TLSv1_2
        ctx.minimum_version = ctx.maximum_version = ver
        if not tls13:
            ctx.set_ciphers(ossl_name)
        if server:
            ctx.load_cert_chain(W["cert"], W["key"])
        else:
            ctx.load_verify_locations(W["cert"])
        return ctx

    @case("bulk: our client <-> Python ssl server, " + label)
    def vs_py_server():
        ctx = py_ctx(True)
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        lsock.settimeout(20)
        res = {}

        def serve():
            try:
                raw, _ = lsock.accept()
                raw.settimeout(30)
                with ctx.wrap_socket(raw, server_side=True) as tls:
                    res["cipher"] = tls.cipher()[0]
                    res["n"], res["sha"] = recv_digest(tls)  # first what the client sends ...
                    for c in chunks(2, SIZE):  # ... then our stream back
                        tls.sendall(c)
                    tls.unwrap()  # close_notify both ways
                    res["closed"] = True
            except Exception as e:
                res["error"] = "%s: %s" % (type(e).__name__, e)

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        rc, r, text = our_client(lsock.getsockname()[1], common + ["--send-seed", "1", "--recv-seed", "2"],
                                 CASE_TIMEOUT)
        t.join(30)
        lsock.close()
        check(rc, r, text, 1, 2)
        assert "error" not in res, "Python server: " + res.get("error", "")
        assert res.get("n") == SIZE and res.get("sha") == digest(1, SIZE), "Python server got %s bytes" % res.get("n")
        assert res.get("closed"), "Python server did not finish"
    vs_py_server()

    @case("bulk: Python ssl client <-> our server, " + label)
    def vs_py_client():
        srv = OurServer(common + ["--send-seed", "2", "--recv-seed", "1"])
        ctx = py_ctx(False)
        raw = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        res = {}
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            for c in chunks(1, SIZE):  # first our stream up ...
                tls.sendall(c)
            res["n"], res["sha"] = recv_digest(tls)  # ... then the server's back
            tls.unwrap()
        rc, r, text = srv.finish(30)
        check(rc, r, text, 2, 1)
        assert res["n"] == SIZE and res["sha"] == digest(2, SIZE), "Python client got %d bytes" % res["n"]
    vs_py_client()


def main():
    if not interop.have_openssl():
        return 2
    backend = interop.backend_name()
    d = tempfile.mkdtemp(prefix="mojo-tls-bulk-")
    try:
        W["peer"], W["sha"] = build_peer(d)
        W["cert"], W["key"] = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        interop.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", W["key"], "-out", W["cert"], "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
        log("bulk interop, backend %s, %d MiB each way per case%s" % (
            backend, MIB, "" if W["sha"] else " (no libcrypto headers: byte comparison only on our side)"))
        t0 = time.monotonic()
        for s in TLS13:
            suite_cases(s, s, True)
        suite_cases(TLS13[0], TLS13[0], True, key_updates=True)
        # TLS 1.2: keys derived from the exported master secret
        suite_cases(TLS12[0][0], TLS12[0][1], False)
        log("moved %.1f GiB in %.0f s" % (sum(1 for r in interop.results if r[1]) * 2 * SIZE / 2**30,
                                           time.monotonic() - t0))
    finally:
        interop.cleanup(d)
    return interop.summary()


if __name__ == "__main__":
    sys.exit(main())
