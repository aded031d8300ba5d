#!/usr/bin/env python3
"""Interop between libmojo_tls (dist/bin/client, dist/bin/server, and the
DTLS examples dist/bin/dtls_server, dtls_client) and the OpenSSL command
line (s_server, s_client), over 127.0.0.1 only.

Run through tests/interop/run.sh. Prints one line per case and finally
exactly "N passed, N failed"; exit status 1 if anything failed.

Every process started here is tracked by its Popen object and, if still
alive at the end of its case, killed by PID. Every wait has a deadline.
Certificates are made with `openssl req`/`openssl x509` in a private
temporary directory that is removed at the end.
"""

import os
import random
import re
import shutil
import string
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIST = os.path.abspath(os.environ.get("MOJO_TLS_DIST", os.path.join(ROOT, "dist")))
BIN = os.path.join(DIST, "bin")
CASE_TIMEOUT = float(os.environ.get("MOJO_TLS_INTEROP_TIMEOUT", "30"))

results = []  # (name, ok, detail)
procs = []  # every Popen started, for the final cleanup


def log(msg):
    print(msg, flush=True)


def spawn(args, **kw):
    p = subprocess.Popen(args, stdin=kw.pop("stdin", subprocess.PIPE), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, **kw)
    procs.append(p)
    return p


def stop(p):
    """End a process we started, by its PID, and reap it."""
    if p.poll() is None:
        p.kill()
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def run(args, input_bytes=None, timeout=CASE_TIMEOUT):
    p = spawn(args)
    try:
        out, err = p.communicate(input_bytes, timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(p)
        out, err = p.communicate()
        return None, out, err
    return p.returncode, out, err


class Reader(threading.Thread):
    """Collects a pipe in the background so neither side can block the other."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe, self.buf, self.lock = pipe, bytearray(), threading.Lock()
        self.start()

    def run(self):
        while True:
            chunk = self.pipe.read1(65536) if hasattr(self.pipe, "read1") else self.pipe.read(4096)
            if not chunk:
                return
            with self.lock:
                self.buf += chunk

    def data(self):
        with self.lock:
            return bytes(self.buf)

    def wait_for(self, pred, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred(self.data()):
                return True
            time.sleep(0.02)
        return pred(self.data())


# Mbed TLS releases whose TLS 1.2 client rejects rsa_pss_rsae signatures.
RSA_PSS_TLS12_REGRESSION = ("Mbed TLS 3.6.6 ", "Mbed TLS 4.1.0 ")


def backend_name():
    import ctypes
    lib = ctypes.CDLL(os.path.join(DIST, "lib", "libmojo_tls.so"))
    lib.mojo_tls_backend.restype = ctypes.c_char_p
    return lib.mojo_tls_backend().decode()


def have_openssl():
    """True if the openssl command line tool is there; otherwise log the
    error and a failed tally (the driver's main() then returns 2)."""
    if shutil.which("openssl") is not None:
        return True
    log("error: the openssl command line tool is required for interop tests")
    log("0 passed, 1 failed")
    return False


def cleanup(d):
    """Stop every peer the run started and remove its work directory."""
    for p in procs:
        stop(p)
    shutil.rmtree(d, ignore_errors=True)


def summary():
    """Log the tally of the cases; main()'s exit status."""
    passed = sum(1 for r in results if r[1])
    failed = len(results) - passed
    log("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


def case(name):
    def deco(fn):
        def wrapper(*a):
            t0 = time.monotonic()
            try:
                fn(*a)
                ok, detail = True, ""
            except AssertionError as e:
                ok, detail = False, str(e)
            except Exception as e:  # a broken driver is a failure too, not a crash
                ok, detail = False, "%s: %s" % (type(e).__name__, e)
            finally:
                for p in list(procs):
                    stop(p)
            results.append((name, ok, detail))
            log("%s  %-58s %.1fs%s" % ("PASS" if ok else "FAIL", name, time.monotonic() - t0,
                                       "" if ok else "\n      " + detail.replace("\n", "\n      ")))
        return wrapper
    return deco


# ---------------------------------------------------------------- helpers

def openssl(*args, **kw):
    r = subprocess.run(["openssl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60, **kw)
    if r.returncode != 0:
        raise AssertionError("openssl %s failed: %s" % (" ".join(args[:2]), r.stderr.decode(errors="replace")))
    return r.stdout


def make_pki(d, kind):
    """CA + leaf for localhost/127.0.0.1; kind 'ec' or 'rsa'. Returns paths."""
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] if kind == "ec" else ["-newkey", "rsa:2048"]
    ca_key, ca_pem = os.path.join(d, kind + "-ca.key"), os.path.join(d, kind + "-ca.pem")
    key, csr, pem = (os.path.join(d, kind + "-leaf." + s) for s in ("key", "csr", "pem"))
    ext = os.path.join(d, kind + "-ext.cnf")
    openssl("req", "-x509", *newkey, "-nodes", "-keyout", ca_key, "-out", ca_pem, "-days", "2",
            "-subj", "/CN=mojo-tls interop CA " + kind,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-new", *newkey, "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-set_serial", "0x%x" % random.getrandbits(64),
            "-days", "2", "-out", pem, "-extfile", ext)
    return {"ca": ca_pem, "cert": pem, "key": key}


_stdnames = None


def iana_for(openssl_name):
    """OpenSSL cipher name -> IANA (RFC) name, from `openssl ciphers -stdname`."""
    global _stdnames
    if _stdnames is None:
        _stdnames = {}
        out = openssl("ciphers", "-stdname", "ALL:COMPLEMENTOFALL").decode()
        for line in out.splitlines():
            m = re.match(r"\s*(\S+)\s+-\s+(\S+)", line)
            if m:
                _stdnames[m.group(2)] = m.group(1)
    return _stdnames.get(openssl_name)


def text_payload(lines, width, seed):
    rnd = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + " .,;:-_+=/"
    return [("".join(rnd.choice(alphabet) for _ in range(width))).strip() or "x" for _ in range(lines)]


def start_s_server(pki, extra=()):
    p = spawn(["openssl", "s_server", "-tls1_2", "-accept", "127.0.0.1:0", "-cert", pki["cert"],
               "-key", pki["key"], "-naccept", "1"] + list(extra))
    out = Reader(p.stdout)
    err = Reader(p.stderr)
    assert out.wait_for(lambda b: re.search(rb"ACCEPT \S+:(\d+)", b), 10), \
        "s_server did not report its port: %r %r" % (out.data(), err.data())
    port = int(re.search(rb"ACCEPT \S+:(\d+)", out.data()).group(1))
    return p, port, out, err


def start_our_server(args):
    p = spawn([os.path.join(BIN, "server"), "--once", "--timeout", "20000"] + args)
    out = Reader(p.stdout)
    err = Reader(p.stderr)
    assert out.wait_for(lambda b: b"listening on " in b and b.endswith(b"\n"), 10), \
        "server did not print 'listening on PORT': %r %r" % (out.data(), err.data())
    port = int(re.search(rb"listening on (\d+)", out.data()).group(1))
    return p, port, out, err


def s_client(port, ca, extra=()):
    p = spawn(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_2", "-CAfile", ca,
               "-verify_return_error", "-verify_hostname", "localhost", "-servername", "localhost",
               "-brief", "-no_ign_eof", "-nocommands"] + list(extra))
    return p, Reader(p.stdout), Reader(p.stderr)


# ---------------------------------------------------------------- cases

def our_client_vs_s_server(pki, host, label):
    @case("our client -> openssl s_server -rev (%s, host %s)" % (label, host))
    def t():
        srv, port, sout, serr = start_s_server(pki, ["-rev"])
        lines = text_payload(400, 120, sum((label + host).encode()))
        payload = ("\n".join(lines) + "\nCLOSE\n").encode()
        rc, out, err = run([os.path.join(BIN, "client"), host, str(port), "--ca", pki["ca"], "--timeout", "15000"],
                           payload)
        err_s = err.decode(errors="replace")
        assert rc is not None, "client timed out; stderr: " + err_s
        if label == "RSA" and any(v in backend_name() for v in RSA_PSS_TLS12_REGRESSION):
            # Upstream regression (Mbed-TLS/mbedtls#10668, fixed by #10672 /
            # #10674 after these releases): a TLS 1.2 client rejects the
            # rsa_pss_rsae ServerKeyExchange signature OpenSSL picks. Assert
            # exactly that failure, so a fixed build makes this case fail and
            # get revisited.
            assert rc != 0 and "-0x6600" in err_s, "expected the known -0x6600 failure; got exit %s: %s" % (rc, err_s)
            log("      note: known Mbed TLS regression (TLS 1.2 client vs rsa_pss_rsae), Mbed-TLS/mbedtls#10668")
            return
        assert rc == 0, "client exit %s; stderr: %s" % (rc, err_s)
        expect = ("".join(l[::-1] + "\n" for l in lines)).encode()
        assert out == expect, "reversed data differs: got %d bytes, expected %d (first diff at %d)" % (
            len(out), len(expect), next((i for i, (a, b) in enumerate(zip(out, expect)) if a != b), min(len(out), len(expect))))
        assert "TLSv1.2" in err_s, "client did not report TLSv1.2: " + err_s
        m = re.search(r"(TLS_[A-Z0-9_]+)", err_s)
        assert m, "client did not report an IANA cipher name: " + err_s
        ours = m.group(1)
        srv.wait(timeout=10)
        serr.join(5)
        m2 = re.search(rb"Ciphersuite: (\S+)", serr.data()) or re.search(rb"CIPHER is (\S+)", sout.data())
        assert m2, "s_server did not report a cipher: %r" % serr.data()[-500:]
        theirs = m2.group(1).decode()
        assert iana_for(theirs) == ours, "cipher mismatch: s_server %s (= %s), client %s" % (
            theirs, iana_for(theirs), ours)
        assert b"Protocol version: TLSv1.2" in serr.data(), "s_server protocol: %r" % serr.data()[-500:]
    t()


def s_client_vs_our_server(pki, label, server_args=None, cipher=None, expect_iana=None, size=256 * 1024):
    @case("openssl s_client -> our server echo (%s%s)" % (label, ", " + cipher if cipher else ""))
    def t():
        args = server_args if server_args is not None else ["--cert", pki["cert"], "--key", pki["key"]]
        srv, port, sout, serr = start_our_server(args)
        extra = ["-cipher", cipher] if cipher else []
        cli, cout, cerr = s_client(port, pki["ca"], extra)
        rnd = random.Random(size)
        # printable lines: s_client passes bytes through, but keep it text so a
        # failure diff is readable
        payload = "".join(
            "".join(rnd.choice(string.ascii_letters) for _ in range(rnd.randint(1, 200))) + "\n"
            for _ in range(size // 100)).encode()
        done = threading.Event()

        def feed():
            try:
                for i in range(0, len(payload), 8192):
                    cli.stdin.write(payload[i:i + 8192])
                    cli.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass
            done.set()

        threading.Thread(target=feed, daemon=True).start()
        got_all = cout.wait_for(lambda b: len(b) >= len(payload), CASE_TIMEOUT - 5)
        # closing stdin makes s_client send close_notify and exit (-no_ign_eof)
        done.wait(5)
        try:
            cli.stdin.close()
        except BrokenPipeError:
            pass
        try:
            crc = cli.wait(timeout=10)
            src = srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise AssertionError("processes did not exit after close; server stderr: %r" % serr.data())
        cerr.join(5)
        serr.join(5)
        cerr_s, serr_s = cerr.data().decode(errors="replace"), serr.data().decode(errors="replace")
        assert got_all, "echo incomplete: %d of %d bytes; s_client: %s; server: %s" % (
            len(cout.data()), len(payload), cerr_s[-400:], serr_s[-400:])
        assert cout.data() == payload, "echoed data differs"
        assert crc == 0, "s_client exit %s: %s" % (crc, cerr_s[-400:])
        assert src == 0, "server exit %s (no clean close_notify?): %s" % (src, serr_s[-400:])
        assert "Verification: OK" in cerr_s, "s_client did not verify our certificate: " + cerr_s[-400:]
        assert "Protocol version: TLSv1.2" in cerr_s, cerr_s[-400:]
        m = re.search(r"Ciphersuite: (\S+)", cerr_s)
        assert m, "s_client reported no cipher: " + cerr_s[-400:]
        theirs = m.group(1)
        m2 = re.search(r"accepted TLSv1\.2 (TLS_[A-Z0-9_]+)", serr_s)
        assert m2, "server did not report the negotiated cipher: " + serr_s[-400:]
        assert iana_for(theirs) == m2.group(1), "cipher mismatch: s_client %s (= %s), server %s" % (
            theirs, iana_for(theirs), m2.group(1))
        if cipher:
            assert theirs == cipher, "asked for %s, s_client got %s" % (cipher, theirs)
        if expect_iana:
            assert m2.group(1) == expect_iana, "server reports %s, expected %s" % (m2.group(1), expect_iana)
        assert "%d bytes echoed" % len(payload) in serr_s, "server byte count: " + serr_s[-400:]
    t()


def negative_cases(ec, rsa, d):
    @case("our client rejects an untrusted s_server certificate")
    def untrusted():
        srv, port, sout, serr = start_s_server(ec, ["-rev"])
        rc, out, err = run([os.path.join(BIN, "client"), "localhost", str(port), "--ca", rsa["ca"],
                            "--send", "hello", "--timeout", "10000"])
        err_s = err.decode(errors="replace")
        assert rc not in (0, None), "client accepted an untrusted server (rc %s)" % rc
        assert out == b"", "client printed data from an untrusted server"
        assert re.search(r"verif|trust", err_s, re.I), "no verification reason: " + err_s
    untrusted()

    @case("our client --insecure connects to the same server (control)")
    def insecure():
        srv, port, sout, serr = start_s_server(ec, ["-rev"])
        rc, out, err = run([os.path.join(BIN, "client"), "localhost", str(port), "--insecure",
                            "--send", "abc\nCLOSE", "--timeout", "10000"])
        assert rc == 0 and out == b"cba\n", "rc %s out %r err %r" % (rc, out, err)
    insecure()

    @case("openssl s_client with TLS 1.3 only vs our server")
    def tls13():
        srv, port, sout, serr = start_our_server(["--cert", ec["cert"], "--key", ec["key"]])
        p = spawn(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_3", "-CAfile", ec["ca"],
                   "-servername", "localhost", "-brief", "-no_ign_eof", "-nocommands"])
        try:
            out, err = p.communicate(b"", timeout=15)
        except subprocess.TimeoutExpired:
            raise AssertionError("s_client -tls1_3 hung")
        srv.wait(timeout=10)
        serr.join(5)
        backend = serr.data().decode(errors="replace")
        assert p.returncode == 0 and b"TLSv1.3" in err, "TLS 1.3 expected on backend %r: %r" % (backend, err)
    tls13()


def start_dtls_server(args=()):
    p = spawn([os.path.join(BIN, "dtls_server"), "--timeout", "20000"] + list(args))
    out = Reader(p.stdout)
    err = Reader(p.stderr)
    assert out.wait_for(lambda b: b"listening on " in b and b.endswith(b"\n"), 10), \
        "dtls_server did not print 'listening on PORT': %r %r" % (out.data(), err.data())
    port = int(re.search(rb"listening on (\d+)", out.data()).group(1))
    return p, port, out, err


def dtls_examples(pki):
    """dist/bin/dtls_server with several dist/bin/dtls_client at once, and
    openssl s_client -dtls1_2 against it (DTLS 1.2 over UDP, 127.0.0.1)."""
    @case("DTLS: dtls_server, 4 dtls_client at once (echo)")
    def clients():
        srv, port, sout, serr = start_dtls_server(["--cert", pki["cert"], "--key", pki["key"]])
        cls = []
        for i in range(4):
            lines = text_payload(40 + i, 60 + 50 * i, 1000 + i)
            p = spawn([os.path.join(BIN, "dtls_client"), "localhost" if i % 2 else "127.0.0.1", str(port),
                       "--ca", pki["ca"], "--timeout", "10000"])
            cls.append((p, lines))
        for p, lines in cls:  # a few KiB each: the pipes take them at once, the clients run together
            p.stdin.write(("\n".join(lines) + "\n").encode())
            p.stdin.flush()
        for i, (p, lines) in enumerate(cls):
            try:
                out, err = p.communicate(timeout=CASE_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise AssertionError("dtls_client %d hung" % i)
            assert p.returncode == 0, "dtls_client %d exit %s: %s" % (i, p.returncode, err.decode(errors="replace"))
            assert out == ("\n".join(lines) + "\n").encode(), "dtls_client %d: echo differs (%d bytes, want %d)" % (
                i, len(out), len("\n".join(lines)) + 1)
            assert b"DTLSv1.2" in err, "dtls_client %d did not report DTLSv1.2: %r" % (i, err)
        rc, out, err = run([os.path.join(BIN, "dtls_client"), "127.0.0.1", str(port), "--ca", pki["ca"],
                            "--send", "ping", "--count", "5"])
        assert rc == 0 and out == b"ping\n" * 5, "--send ping --count 5: exit %s, %r %r" % (rc, out, err)
        assert srv.poll() is None, "dtls_server exited: %r" % serr.data()
        log_err = serr.data()
        assert log_err.count(b"close_notify") >= 4, "dtls_server did not see each close_notify: %r" % log_err

    @case("DTLS: openssl s_client -dtls1_2 -> dtls_server (echo)")
    def s_client_dtls():
        srv, port, sout, serr = start_dtls_server(["--cert", pki["cert"], "--key", pki["key"]])
        p = spawn(["openssl", "s_client", "-dtls1_2", "-connect", "127.0.0.1:%d" % port, "-CAfile", pki["ca"],
                   "-verify_return_error", "-quiet"])
        out = Reader(p.stdout)
        perr = Reader(p.stderr)
        lines = text_payload(20, 200, 77)
        want = b""
        for l in lines:
            p.stdin.write((l + "\n").encode())
            p.stdin.flush()
            want += (l + "\n").encode()
            assert out.wait_for(lambda b, n=len(want): len(b) >= n, 10), \
                "echo missing after %d bytes: got %r; s_client: %r; server: %r" % (
                    len(want), out.data()[-200:], perr.data(), serr.data())
        assert out.data() == want, "echo differs"
        stop(p)
        assert srv.poll() is None, "dtls_server exited: %r" % serr.data()

    clients()
    s_client_dtls()


def main():
    missing = [b for b in ("client", "server") if not os.access(os.path.join(BIN, b), os.X_OK)]
    if missing:
        log("error: %s missing in %s (run ./build.sh first)" % (", ".join(missing), BIN))
        log("0 passed, 1 failed")
        return 2
    if not have_openssl():
        return 2
    log("openssl: " + openssl("version").decode().strip())
    d = tempfile.mkdtemp(prefix="mojo-tls-interop-")
    try:
        ec = make_pki(d, "ec")
        rsa = make_pki(d, "rsa")
        # encrypted copy of the EC key, legacy PEM form (readable by every backend)
        enc_key = os.path.join(d, "ec-leaf-enc.key")
        openssl("pkey", "-in", ec["key"], "-traditional", "-aes256", "-passout", "pass:interop-pw", "-out", enc_key)

        for pki, label in ((ec, "ECDSA"), (rsa, "RSA")):
            our_client_vs_s_server(pki, "localhost", label)
            our_client_vs_s_server(pki, "127.0.0.1", label)
            s_client_vs_our_server(pki, label)
        s_client_vs_our_server(ec, "ECDSA, encrypted key",
                               server_args=["--cert", ec["cert"], "--key", enc_key, "--password", "interop-pw"])
        for c, iana in (("ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
                        ("ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
                        ("ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256")):
            s_client_vs_our_server(ec, "ECDSA", cipher=c, expect_iana=iana, size=32 * 1024)
        for c, iana in (("ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
                        ("ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256")):
            s_client_vs_our_server(rsa, "RSA", cipher=c, expect_iana=iana, size=32 * 1024)
        negative_cases(ec, rsa, d)
        if all(os.access(os.path.join(BIN, b), os.X_OK) for b in ("dtls_server", "dtls_client")):
            dtls_examples(ec)
        else:
            log("note: dist/bin/dtls_server or dtls_client missing: DTLS example cases not run")
    finally:
        cleanup(d)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
