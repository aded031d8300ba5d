#!/usr/bin/env python3
"""TLS 1.3 interop of libmojo_tls against the OpenSSL command line, loopback
only (every backend has TLS 1.3: Mbed TLS 3.6 bundled or system, 4.x).

  - our client -> openssl s_server -tls1_3 -ciphersuites S, and
    openssl s_client -tls1_3 -ciphersuites S -> our server, for each of
    TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
    TLS_CHACHA20_POLY1305_SHA256: data both ways, the suite on both sides
  - resumption with tickets both ways (s_client -sess_out/-sess_in against
    our server with tickets; our client's export/import against s_server)
  - resumption key exchange modes (psk_ke opt-in,
    mojo_tls_config_insecure_resumption_without_forward_secrecy), read from
    openssl's -msg trace of the ClientHello and ServerHello: our opted-in
    client resumes with psk_ke (no key_share) against s_server
    -allow_no_dhe_kex, our default client offers psk_dhe_ke alone, a server
    without -allow_no_dhe_kex makes our opted-in client's resumption fail
    with a message naming psk_ke;
    s_client -allow_no_dhe_kex (offering both modes) resumes with our
    opted-in server, which picks psk_dhe_ke as Mbed TLS prefers
  - key log: our server's TLS 1.3 secrets equal openssl s_client -keylogfile's
  - mTLS: s_server -Verify with our client's certificate, our server
    requiring s_client -cert; a missing certificate reaches our client as
    the certificate_required alert on its first read
  - KeyUpdate (fast record layer): s_client's and s_server's `k` / `K`
    commands against our echo server / client, and our KeyUpdate with
    update_requested back; data echoed after each update, the KeyUpdate
    messages and their request flags seen in openssl's -msg trace

Our side is tests/interop/peer.c (built and described by features.py).
Run through tests/interop/run.sh. Prints one line per case and finally
exactly "N passed, N failed"; exit status 1 if anything failed.
"""

import ctypes
import os
import re
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402
import features  # noqa: E402
from interop import Reader, case, log, spawn, stop  # noqa: E402
from features import OurServer, expect, our_client  # noqa: E402

DIST = interop.DIST
W = features.W
G = features.G
SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
LABELS13 = ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
            "SERVER_TRAFFIC_SECRET_0")


def backend():
    lib = ctypes.CDLL(os.path.join(DIST, "lib", "libmojo_tls.so"))
    lib.mojo_tls_backend.restype = ctypes.c_char_p
    return lib.mojo_tls_backend().decode()


class SServer13:
    """openssl s_server -tls1_3 in the background on 127.0.0.1:0."""

    def __init__(self, extra=(), naccept=1):
        self.p = spawn(["openssl", "s_server", "-tls1_3", "-accept", "127.0.0.1:0", "-cert", G("server.pem"),
                        "-key", G("server.key"), "-naccept", str(naccept)] + list(extra))
        self.out, self.err = Reader(self.p.stdout), Reader(self.p.stderr)
        assert self.out.wait_for(lambda b: re.search(rb"ACCEPT \S+:(\d+)", b), 10), \
            "s_server did not report its port: %r %r" % (self.out.data(), self.err.data())
        self.port = int(re.search(rb"ACCEPT \S+:(\d+)", self.out.data()).group(1))

    def text(self):
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            stop(self.p)
        self.out.join(5)
        self.err.join(5)
        return (self.out.data() + b"\n" + self.err.data()).decode(errors="replace")


def s_client13(port, extra, payload=b"hello tls13\n", timeout=20, brief=True):
    """openssl s_client -tls1_3 -brief: send payload, wait until it has come
    back (our server echoes), then EOF (close_notify). Returns (rc, stdout, all text)."""
    p = spawn(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_3", "-CAfile", G("ca.pem"),
               "-verify_return_error", "-verify_hostname", "localhost", "-servername", "localhost",
               "-no_ign_eof", "-nocommands"] + (["-brief"] if brief else []) + list(extra))
    out, err = Reader(p.stdout), Reader(p.stderr)
    try:
        p.stdin.write(payload)
        p.stdin.flush()
    except BrokenPipeError:
        pass
    out.wait_for(lambda b: payload in b, timeout)
    try:
        p.stdin.close()
    except BrokenPipeError:
        pass
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        stop(p)
        rc = None
    out.join(5)
    err.join(5)
    o = out.data()
    return rc, o, (o + b"\n" + err.data()).decode(errors="replace")


def keylog(path):
    """{(label, client_random): secret} of a key-log file."""
    d = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and not line.startswith("#"):
                d[(parts[0], parts[1].lower())] = parts[2].lower()
    return d


def suite_cases():
    for suite in SUITES:
        @case("TLS 1.3: our client -> s_server -tls1_3 -ciphersuites %s" % suite)
        def ours_to_openssl():
            s = SServer13(["-ciphersuites", suite, "-rev"])
            rc, r, text = our_client(s.port, ["--ca", G("ca.pem"), "--servername", "localhost",
                                              "--send", "tls13 %s\nCLOSE" % suite])
            st = s.text()
            expect(rc == 0 and r.get("handshake") == "ok", "our client rc %s" % rc, text, st)
            expect(r.get("version") == "TLSv1.3", "version %r" % r.get("version"), text)
            expect(r.get("cipher") == suite, "our client cipher %r, expected %s" % (r.get("cipher"), suite), text)
            expect(r.get("recv") == ("tls13 %s" % suite)[::-1] + "|", "reversed data: %r" % r.get("recv"), text)
            m = re.search(r"CIPHER is (\S+)", st) or re.search(r"Ciphersuite: (\S+)", st)
            expect(m and m.group(1) == suite, "s_server cipher %r, expected %s" % (m and m.group(1), suite), st)
        ours_to_openssl()

        @case("TLS 1.3: s_client -tls1_3 -ciphersuites %s -> our server" % suite)
        def openssl_to_ours():
            srv = OurServer(["--cert", G("server.pem"), "--key", G("server.key")])
            payload = ("echo via %s\n" % suite).encode() * 50
            crc, cout, ctext = s_client13(srv.port, ["-ciphersuites", suite], payload)
            rc, reps, stext = srv.finish()
            r = reps[0] if reps else {}
            expect(crc == 0, "s_client exit %s" % crc, ctext, stext)
            expect(cout == payload, "echoed data differs (%d of %d bytes)" % (len(cout), len(payload)), ctext)
            expect("Protocol version: TLSv1.3" in ctext, "s_client protocol", ctext)
            expect("Ciphersuite: %s" % suite in ctext, "s_client cipher, expected %s" % suite, ctext)
            expect(rc == 0 and r.get("version") == "TLSv1.3", "our server rc %s version %r" % (rc, r.get("version")),
                   stext)
            expect(r.get("cipher") == suite, "our server cipher %r, expected %s" % (r.get("cipher"), suite), stext)
            expect(r.get("echoed") == str(len(payload)), "our server echoed %r bytes" % r.get("echoed"), stext)
        openssl_to_ours()


def resumption_cases():
    @case("TLS 1.3 resumption: s_client -sess_out/-sess_in -> our server (tickets)")
    def openssl_to_ours():
        srv = OurServer(["--cert", G("server.pem"), "--key", G("server.key"), "--tickets", "3600", "--accept", "2"])
        sess = os.path.join(W["dir"], "s_client13.sess")
        crc1, _, t1 = s_client13(srv.port, ["-sess_out", sess], b"first\n", brief=False)
        expect(crc1 == 0 and os.path.exists(sess) and os.path.getsize(sess) > 0, "no session saved", t1)
        crc2, _, t2 = s_client13(srv.port, ["-sess_in", sess], b"second\n", brief=False)
        rc, reps, stext = srv.finish()
        expect(crc2 == 0, "second s_client exit %s" % crc2, t2)
        expect(re.search(r"^New, TLSv1\.3, ", t1, re.M), "first s_client: no new TLS 1.3 session", t1)
        expect(re.search(r"^Reused, TLSv1\.3, ", t2, re.M), "s_client did not resume", t2)
        expect(len(reps) == 2 and reps[0].get("resumed") == "0" and reps[1].get("resumed") == "1",
               "our server resumed flags %r" % [x.get("resumed") for x in reps], stext)
        expect(all(x.get("version") == "TLSv1.3" for x in reps), "versions %r" % [x.get("version") for x in reps],
               stext)
    openssl_to_ours()

    @case("TLS 1.3 resumption: our client export/import -> s_server (tickets)")
    def ours_to_openssl():
        s = SServer13(["-rev"], naccept=2)
        blob = os.path.join(W["dir"], "ours13.sess")
        base = ["--ca", G("ca.pem"), "--servername", "localhost"]
        # the client reads until s_server closes (CLOSE): the ticket has come by then
        rc1, r1, t1 = our_client(s.port, base + ["--sess-out", blob, "--send", "first\nCLOSE"])
        expect(rc1 == 0 and r1.get("resumed") == "0" and r1.get("version") == "TLSv1.3",
               "first: rc %s resumed %r version %r" % (rc1, r1.get("resumed"), r1.get("version")), t1)
        expect(os.path.exists(blob) and os.path.getsize(blob) > 0, "no session blob", t1)
        rc2, r2, t2 = our_client(s.port, base + ["--sess-in", blob, "--send", "second\nCLOSE"])
        st = s.text()
        expect(r2.get("session_import") == "OK", "import %r" % r2.get("session_import"), t2)
        expect(rc2 == 0 and r2.get("resumed") == "1", "second: rc %s resumed %r" % (rc2, r2.get("resumed")), t2, st)
        expect(r2.get("recv") == "dnoces|", "data after resumption: %r" % r2.get("recv"), t2)
    ours_to_openssl()


PRE_SHARED_KEY, PSK_KEY_EXCHANGE_MODES, KEY_SHARE = 0x0029, 0x002d, 0x0033


def traced_hellos(text, arrow, name):
    """Extensions {type: data} of every `name` ("ClientHello" / "ServerHello")
    in an openssl -msg trace, sent (arrow ">>>") or received ("<<<")."""
    out = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not (line.startswith(arrow) and line.rstrip().endswith(", " + name)):
            continue
        data = bytearray()
        for h in lines[i + 1:]:
            if not re.match(r"^    (?:[0-9a-f]{2} ?)+$", h):
                break
            data += bytes.fromhex(h.strip())
        body = bytes(data[4:4 + int.from_bytes(data[1:4], "big")])
        p = 2 + 32
        p += 1 + body[p]
        if name == "ClientHello":
            p += 2 + int.from_bytes(body[p:p + 2], "big")
            p += 1 + body[p]
        else:
            p += 3
        end = p + 2 + int.from_bytes(body[p:p + 2], "big")
        p += 2
        exts = {}
        while p < end:
            t, n = int.from_bytes(body[p:p + 2], "big"), int.from_bytes(body[p + 2:p + 4], "big")
            exts[t] = body[p + 4:p + 4 + n]
            p += 4 + n
        out.append(exts)
    return out


def psk_modes(client_hello):
    """The psk_key_exchange_modes a ClientHello offered (0 psk_ke, 1 psk_dhe_ke)."""
    d = client_hello.get(PSK_KEY_EXCHANGE_MODES, b"")
    return list(d[1:1 + d[0]]) if d else []


def kex_mode(server_hello):
    return {(True, True): "psk_dhe_ke", (True, False): "psk_ke", (False, True): "full (ECDHE)",
            (False, False): "none"}[(PRE_SHARED_KEY in server_hello, KEY_SHARE in server_hello)]


def psk_ke_cases():
    def ours_to_s_server(label, ours, s_server_args, want_resumed, want_offer, want_mode):
        """want_resumed None: the second (resuming) handshake must fail, with
        our message naming psk_ke."""
        @case("TLS 1.3 resumption modes: our client%s -> s_server%s (%s)"
              % (" --psk-ke" if ours else "", "".join(" " + a for a in s_server_args), label))
        def t():
            s = SServer13(["-rev", "-msg"] + s_server_args, naccept=2)
            blob = os.path.join(W["dir"], "psk_ke.sess")
            base = ["--ca", G("ca.pem"), "--servername", "localhost"] + (["--psk-ke"] if ours else [])
            rc1, r1, t1 = our_client(s.port, base + ["--sess-out", blob, "--send", "first\nCLOSE"])
            expect(rc1 == 0 and r1.get("resumed") == "0", "first: rc %s resumed %r" % (rc1, r1.get("resumed")), t1)
            rc2, r2, t2 = our_client(s.port, base + ["--sess-in", blob, "--send", "second\nCLOSE"])
            st = s.text()
            chs, shs = traced_hellos(st, "<<<", "ClientHello"), traced_hellos(st, ">>>", "ServerHello")
            expect(len(chs) >= 2 and len(shs) >= 1, "s_server traced %d ClientHellos, %d ServerHellos"
                   % (len(chs), len(shs)), st)
            expect(psk_modes(chs[1]) == want_offer, "offered psk modes %r, expected %r"
                   % (psk_modes(chs[1]), want_offer), st)
            # An opted-in client resumes without a key share (an Mbed TLS
            # server would otherwise prefer a full ECDHE handshake).
            expect((KEY_SHARE in chs[1]) == (not ours), "key_share in our resuming ClientHello: %s"
                   % (KEY_SHARE in chs[1]), st)
            expect(kex_mode(shs[0]) == "full (ECDHE)", "first handshake: %s" % kex_mode(shs[0]), st)
            if want_resumed is None:
                expect(rc2 != 0 and "psk_ke" in t2 and "without the session" in t2,
                       "second: expected a failure naming psk_ke, rc %s" % rc2, t2, st)
                return
            expect(len(shs) == 2, "s_server traced %d ServerHellos" % len(shs), st)
            expect(rc2 == 0 and r2.get("resumed") == want_resumed,
                   "second: rc %s resumed %r, expected %s" % (rc2, r2.get("resumed"), want_resumed), t2, st)
            expect(r2.get("recv") == "dnoces|", "data on the second connection: %r" % r2.get("recv"), t2)
            expect(kex_mode(shs[1]) == want_mode, "second handshake: %s, expected %s" % (kex_mode(shs[1]), want_mode),
                   st)
        t()

    ours_to_s_server("psk_ke", True, ["-allow_no_dhe_kex"], "1", [0], "psk_ke")
    ours_to_s_server("default: psk_dhe_ke", False, ["-allow_no_dhe_kex"], "1", [1], "psk_dhe_ke")
    ours_to_s_server("psk_ke refused: the handshake fails, saying why", True, [], None, [0], None)

    @case("TLS 1.3 resumption modes: s_client -allow_no_dhe_kex -> our server --psk-ke (psk_dhe_ke)")
    def s_client_to_ours():
        srv = OurServer(["--cert", G("server.pem"), "--key", G("server.key"), "--tickets", "3600", "--accept", "2",
                         "--psk-ke"])
        sess = os.path.join(W["dir"], "s_client_psk_ke.sess")
        crc1, _, t1 = s_client13(srv.port, ["-sess_out", sess, "-allow_no_dhe_kex"], b"first\n", brief=False)
        expect(crc1 == 0 and os.path.exists(sess) and os.path.getsize(sess) > 0, "no session saved", t1)
        crc2, _, t2 = s_client13(srv.port, ["-sess_in", sess, "-allow_no_dhe_kex", "-msg"], b"second\n", brief=False)
        rc, reps, stext = srv.finish()
        expect(crc2 == 0 and re.search(r"^Reused, TLSv1\.3, ", t2, re.M), "s_client did not resume", t2)
        expect(len(reps) == 2 and [x.get("resumed") for x in reps] == ["0", "1"],
               "our server resumed flags %r" % [x.get("resumed") for x in reps], stext)
        chs, shs = traced_hellos(t2, ">>>", "ClientHello"), traced_hellos(t2, "<<<", "ServerHello")
        expect(len(chs) == 1 and len(shs) == 1, "s_client traced %d ClientHellos, %d ServerHellos"
               % (len(chs), len(shs)), t2)
        expect(sorted(psk_modes(chs[0])) == [0, 1], "s_client offered %r" % psk_modes(chs[0]), t2)
        # Mbed TLS picks psk_dhe_ke whenever the client offers it.
        expect(kex_mode(shs[0]) == "psk_dhe_ke", "our server chose %s" % kex_mode(shs[0]), t2)
    s_client_to_ours()


def keylog_cases():
    @case("TLS 1.3 key log: our server's secrets = s_client -keylogfile's")
    def t():
        ours, theirs = os.path.join(W["dir"], "ours13.keys"), os.path.join(W["dir"], "theirs13.keys")
        srv = OurServer(["--cert", G("server.pem"), "--key", G("server.key"), "--keylog", ours])
        crc, _, ctext = s_client13(srv.port, ["-keylogfile", theirs])
        rc, reps, stext = srv.finish()
        expect(crc == 0 and rc == 0, "s_client %s, our server %s" % (crc, rc), ctext, stext)
        a, b = keylog(ours), keylog(theirs)
        randoms = {r for (_, r) in a}
        expect(len(randoms) == 1, "our key log: %d client randoms" % len(randoms), open(ours).read())
        expect(sorted(lbl for (lbl, _) in a) == sorted(LABELS13), "our labels %r" % sorted(a), open(ours).read())
        rnd = randoms.pop()
        for lbl in LABELS13:
            expect((lbl, rnd) in b, "s_client logged no %s for client random %s" % (lbl, rnd), open(theirs).read())
            expect(a[(lbl, rnd)] == b[(lbl, rnd)], "%s differs" % lbl, open(ours).read(), open(theirs).read())
    t()


def mtls_cases():
    @case("TLS 1.3 mTLS: our client with a certificate -> s_server -Verify 1")
    def ours_with_cert():
        s = SServer13(["-Verify", "1", "-CAfile", G("ca.pem"), "-rev"])
        rc, r, text = our_client(s.port, ["--ca", G("ca.pem"), "--servername", "localhost", "--cert",
                                          G("client.pem"), "--key", G("client.key"), "--send", "mtls\nCLOSE"])
        st = s.text()
        expect(rc == 0 and r.get("version") == "TLSv1.3" and r.get("recv") == "sltm|",
               "rc %s version %r recv %r" % (rc, r.get("version"), r.get("recv")), text, st)
        expect(re.search(r"^Peer certificate: CN = alice$", st, re.M), "s_server did not get alice's certificate", st)
    ours_with_cert()

    @case("TLS 1.3 mTLS: our client without a certificate -> s_server -Verify 1 (alert on the first read)")
    def ours_without_cert():
        s = SServer13(["-Verify", "1", "-CAfile", G("ca.pem"), "-rev"])
        rc, r, text = our_client(s.port, ["--ca", G("ca.pem"), "--servername", "localhost", "--send", "x\nCLOSE"])
        st = s.text()
        # TLS 1.3: our handshake completes before the server checks; its alert
        # arrives on the first read
        expect(r.get("handshake") == "ok" and r.get("version") == "TLSv1.3", "handshake %r" % r.get("handshake"),
               text, st)
        expect(r.get("read") in ("PROTOCOL", "HANDSHAKE"), "first read %r" % r.get("read"), text)
        expect("certificate_required" in r.get("error", ""), "read error lacks certificate_required", text)
        expect(rc == 4, "exit %s, expected 4 (data error)" % rc, text)
    ours_without_cert()

    @case("TLS 1.3 mTLS: s_client -cert -> our server (client auth required)")
    def openssl_to_ours():
        srv = OurServer(["--cert", G("server.pem"), "--key", G("server.key"), "--ca", G("ca.pem"),
                         "--client-auth", "required"])
        crc, cout, ctext = s_client13(srv.port, ["-cert", G("client.pem"), "-key", G("client.key")], b"mtls\n")
        rc, reps, stext = srv.finish()
        r = reps[0] if reps else {}
        expect(crc == 0 and cout == b"mtls\n", "s_client exit %s out %r" % (crc, cout), ctext, stext)
        expect(rc == 0 and r.get("version") == "TLSv1.3", "our server rc %s version %r" % (rc, r.get("version")),
               stext)
        expect(r.get("peer_subject") == "CN=alice" and r.get("verify_flags") == "0",
               "our server sees %r flags %r" % (r.get("peer_subject"), r.get("verify_flags")), stext)
    openssl_to_ours()


def key_updates_in(trace):
    """(direction, request flag) of each KeyUpdate in an openssl -msg trace."""
    out, lines = [], trace.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"(>>>|<<<) TLS 1\.3, Handshake \[length 0005\], KeyUpdate", line)
        if m and i + 1 < len(lines):
            hexes = lines[i + 1].split()
            out.append((m.group(1), hexes[-1] if hexes else "?"))
    return out


class Lines:
    """Type lines into an openssl tool and wait for what comes back."""

    def __init__(self, p, reader):
        self.p, self.r = p, reader

    def send(self, line, echo=None, timeout=10):
        seen = self.r.data().count(echo) if echo else 0
        self.p.stdin.write(line)
        self.p.stdin.flush()
        if echo:
            assert self.r.wait_for(lambda b: b.count(echo) > seen, timeout), \
                "no %r after typing %r: %r" % (echo, line, self.r.data()[-600:])
        else:
            # a command line must arrive on its own, not with the next line
            time.sleep(0.4)


def key_update_cases():
    # Flags: 00 = update_not_requested, 01 = update_requested.
    @case("TLS 1.3 KeyUpdate: s_client k / K -> our echo server; our KeyUpdate back")
    def openssl_client():
        srv = OurServer(["--cert", G("server.pem"), "--key", G("server.key"), "--key-update-word", "please-update"])
        p = spawn(["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port, "-tls1_3", "-CAfile", G("ca.pem"),
                   "-verify_return_error", "-servername", "localhost", "-msg", "-no_ign_eof"])
        out, err = Reader(p.stdout), Reader(p.stderr)
        t = Lines(p, out)
        assert out.wait_for(lambda b: b"Verify return code: 0" in b, 10), "s_client did not connect: %r" % (
            out.data()[-500:] + err.data()[-500:])
        t.send(b"one\n", b"one\n")
        t.send(b"k\n")  # KeyUpdate, no request: our read key changes
        t.send(b"two\n", b"two\n")
        t.send(b"K\n")  # KeyUpdate, update_requested: we answer with ours
        t.send(b"three\n", b"three\n")
        t.send(b"please-update\n", b"please-update\n")  # our KeyUpdate, requested: s_client answers
        t.send(b"four\n", b"four\n")
        p.stdin.close()
        try:
            crc = p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            crc = None
        rc, reps, stext = srv.finish()
        out.join(5)
        trace = out.data().decode(errors="replace")
        r = reps[0] if reps else {}
        kus = key_updates_in(trace)
        expect(crc == 0 and rc == 0, "s_client exit %s, our server exit %s" % (crc, rc), stext, trace[-1500:])
        expect(r.get("version") == "TLSv1.3" and r.get("key_update") == "OK", "our server: %r" % r, stext)
        expect(r.get("echoed") == str(len(b"one\ntwo\nthree\nplease-update\nfour\n")), "echoed %r" % r.get("echoed"),
               stext)
        expect(kus == [(">>>", "00"), (">>>", "01"), ("<<<", "00"), ("<<<", "01"), (">>>", "00")],
               "KeyUpdates in s_client's trace: %r" % kus, trace[-3000:])
        expect(err.data().count(b"KEYUPDATE") == 2, "s_client did not report its two KeyUpdates", err.data()[-500:])
    openssl_client()

    @case("TLS 1.3 KeyUpdate: s_server k / K -> our echo client; our KeyUpdate back")
    def openssl_server():
        s = SServer13(["-msg"])
        p = spawn([W["peer"], "client", str(s.port), "--ca", G("ca.pem"), "--servername", "localhost", "--echo",
                   "--key-update-word", "please-update", "--close-word", "BYE", "--timeout", "15000"])
        cout = Reader(p.stdout)
        t = Lines(s.p, s.out)
        assert s.out.wait_for(lambda b: b"CIPHER is" in b, 10), "no connection: %r" % s.out.data()[-500:]
        # s_server prints what it receives: our echo
        t.send(b"one\n", b"one\n")
        t.send(b"k\n")
        t.send(b"two\n", b"two\n")
        t.send(b"K\n")
        t.send(b"three\n", b"three\n")
        t.send(b"please-update\n", b"please-update\n")
        t.send(b"four\n", b"four\n")
        t.send(b"BYE\n")  # our client closes (close_notify both ways)
        try:
            crc = p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            crc = None
        st = s.text()
        cout.join(5)
        ctext = cout.data().decode(errors="replace")
        kus = key_updates_in(st)
        expect(crc == 0, "our client exit %s" % crc, ctext, st[-1500:])
        expect("key_update: OK" in ctext and "echoed: %d" % len(b"one\ntwo\nthree\nplease-update\nfour\nBYE\n") in ctext,
               "our client's report", ctext)
        expect(kus == [(">>>", "00"), (">>>", "01"), ("<<<", "00"), ("<<<", "01"), (">>>", "00")],
               "KeyUpdates in s_server's trace: %r" % kus, st[-3000:])
    openssl_server()


def main():
    if not interop.have_openssl():
        return 2
    b = backend()
    log("TLS 1.3 interop, backend %s" % b)
    d = tempfile.mkdtemp(prefix="mojo-tls-tls13-")
    try:
        W["dir"] = d
        W["peer"] = features.build_peer(d)
        W["gen"] = os.path.join(d, "gen")
        os.makedirs(W["gen"])
        r = subprocess.run([W["peer"], "gen", W["gen"]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("peer gen failed: " + r.stdout.decode(errors="replace"))
        for group in (suite_cases, resumption_cases, psk_ke_cases, keylog_cases, mtls_cases, key_update_cases):
            group()
    except Exception as e:  # setup failure: one failed case, not a traceback
        interop.results.append(("setup", False, "%s: %s" % (type(e).__name__, e)))
        log("FAIL  setup: %s: %s" % (type(e).__name__, e))
    finally:
        interop.cleanup(d)
    return interop.summary()


if __name__ == "__main__":
    sys.exit(main())
