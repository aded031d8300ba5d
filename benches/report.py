"""benches/report.py RESULTS META [DOC] — the table, the METRIC lines and
docs/BENCHMARKS.md from benches/run.sh's raw results ("key run value" lines).

Absolute figures are medians of the runs with min–max; every ratio is
computed within one run (mojo-tls and its peer measured back to back) and
then summarised the same way. Ratios are mojo-tls ÷ peer: > 1 means faster
(throughput, handshakes) or bigger (memory, CPU per handshake).

Keys: <measure>.<engine> for the bundled backend (Mbed TLS 3.6 built by
mbedtls-rs-sys), the same with "sys." in front for the system backend (an
installed Mbed TLS 3.6); their METRIC names
end in "_system". To add an engine (say a new record layer): give it a label
in ENGINES, add it to the engine lists of the sections it runs in and, for
ratios, a (numerator, denominator, label, metric stem) entry in the *_RATIOS
lists. A section only shows the rows it has data for.

DOC keeps its hand-written "## Findings" section (everything from that
heading on) across regenerations."""
import statistics
import sys
from collections import defaultdict

# engine -> label; the system backend's rows add " (Mbed TLS 3.6)" style
# context in the section title, not here
ENGINES = {
    "fast": "mojo-tls (C ABI, default: fast record layer)",
    "mojo": "mojo-tls (C ABI, Mbed TLS record layer)",
    "unhooked": "mojo-tls (C ABI, Mbed TLS record layer, Mbed TLS's own ECC)",
    "pskke": "mojo-tls (C ABI, Mbed TLS record layer, psk_ke resumption opt-in)",
    "raw": "raw Mbed TLS",
    "openssl": "OpenSSL libssl",
}
BULK_ENGINES = ["fast", "mojo", "raw", "openssl"]
# bulk_vs_raw: the shim over the same engine (Mbed TLS record layer);
# bulk_vs_openssl: the library as shipped (fast record layer) vs OpenSSL
BULK_RATIOS = [
    ("mojo", "raw", "mojo-tls (Mbed TLS record layer) ÷ raw Mbed TLS", "bulk_vs_raw"),
    ("fast", "openssl", "mojo-tls (default, fast record layer) ÷ OpenSSL", "bulk_vs_openssl"),
    ("mojo", "openssl", "mojo-tls (Mbed TLS record layer) ÷ OpenSSL", "bulk_mbedtls_layer_vs_openssl"),
    ("fast", "mojo", "fast record layer ÷ Mbed TLS record layer", "bulk_fast_vs_mbedtls_layer"),
]
# process CPU (both ends) per GiB moved: mojo-tls ÷ peer, > 1 = more CPU
BULK_CPU_RATIOS = [
    ("mojo", "raw", "CPU per byte: mojo-tls ÷ raw Mbed TLS", "bulk_cpu_vs_raw"),
]
HS_ENGINES = ["mojo", "unhooked", "pskke", "raw", "openssl"]
MEM_ENGINES = ["fast", "mojo", "raw", "openssl"]
SUITES = (("aes128gcm", "AES-128-GCM", "ECDHE-ECDSA ", "TLS_AES_128_GCM_SHA256"),
          ("chacha20", "ChaCha20-Poly1305", "ECDHE-ECDSA ", "TLS_CHACHA20_POLY1305_SHA256"))
SYSTEM = ("sys.", "_system")  # key prefix, metric suffix


def load(path):
    data = defaultdict(dict)
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                data[parts[0]][int(parts[1])] = float(parts[2])
    return data


def summary(values):
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def fmt(v, digits):
    return f"{v:,.{digits}f}"


class Report:
    def __init__(self, data, meta):
        self.data = data
        self.meta = meta
        self.rows = []  # (section, label, unit, summary, digits)
        self.metrics = {}

    def ratio(self, a, b):
        runs = sorted(set(self.data.get(a, {})) & set(self.data.get(b, {})))
        return [self.data[a][r] / self.data[b][r] for r in runs if self.data[b][r]]

    def absolute(self, section, label, key, unit, digits=1):
        s = summary(list(self.data.get(key, {}).values()))
        if s:
            self.rows.append((section, label, unit, s, digits))
        return s

    def rel(self, section, label, a, b, metric=None):
        s = summary(self.ratio(a, b))
        if s:
            self.rows.append((section, label, "×", s, 3))
            if metric:
                self.metrics[metric] = s[0]

    # --- sections, each for one backend (pfx "" or "sys.", sfx "" or "_system")

    def bulk(self, pfx, sfx, backend):
        mib = int(self.meta.get("bytes", "0")) // (1024 * 1024)
        for tls13 in (False, True):
            m = "bulk13" if tls13 else "bulk"
            for suite, nice, kx, name13 in SUITES:
                proto = f"TLS 1.3 {name13}" if tls13 else f"TLS 1.2 {kx}{nice}"
                sec = f"Bulk, 1 connection, {mib} MiB in 16 KiB writes, {proto}{backend}"
                for e in BULK_ENGINES:
                    self.absolute(sec, ENGINES[e], f"{pfx}{m}.{suite}.{e}", "MB/s")
                for a, b, label, stem in BULK_RATIOS:
                    metric = f"{stem}_{'tls13_' if tls13 else ''}{suite}{sfx}"
                    self.rel(sec, label, f"{pfx}{m}.{suite}.{a}", f"{pfx}{m}.{suite}.{b}", metric)
                cpu = m.replace("bulk", "bulkcpu")
                for e in BULK_ENGINES:
                    self.absolute(sec, f"CPU (both ends): {short_engine(e)}", f"{pfx}{cpu}.{suite}.{e}", "s/GiB", 2)
                for a, b, label, stem in BULK_CPU_RATIOS:
                    metric = f"{stem}_{'tls13_' if tls13 else ''}{suite}{sfx}"
                    self.rel(sec, label, f"{pfx}{cpu}.{suite}.{a}", f"{pfx}{cpu}.{suite}.{b}", metric)

    def python(self):
        mib = int(self.meta.get("bytes", "0")) // (1024 * 1024)
        sec = f"Python, 1 connection, {mib} MiB, sendall/recv_into 16 KiB, TLS 1.2 AES-128-GCM"
        self.absolute(sec, "mojo_tls package", "py.mojo", "MB/s")
        self.absolute(sec, "stdlib ssl", "py.stdlib", "MB/s")
        self.rel(sec, "mojo_tls ÷ stdlib ssl", "py.mojo", "py.stdlib", "python_bulk_vs_stdlib")
        self.rel(sec, "mojo_tls (Python) ÷ OpenSSL (C)", "py.mojo", "bulk.aes128gcm.openssl",
                 "python_bulk_vs_openssl_c")
        sec = ("Python client, full TLS 1.3 handshakes (x25519, ECDSA P-256 cert, chain + host name "
               "verified, 1-byte echo) against one stdlib ssl server, sequential")
        self.absolute(sec, "mojo_tls package", "pyhs.mojo", "handshakes/s")
        self.absolute(sec, "stdlib ssl", "pyhs.stdlib", "handshakes/s")
        self.absolute(sec, "mojo_tls package, client CPU", "pyhscpu.mojo", "µs/handshake")
        self.absolute(sec, "stdlib ssl, client CPU", "pyhscpu.stdlib", "µs/handshake")
        self.rel(sec, "mojo_tls ÷ stdlib ssl (rate)", "pyhs.mojo", "pyhs.stdlib", "python_handshake_vs_stdlib")
        self.rel(sec, "client CPU: mojo_tls ÷ stdlib ssl", "pyhscpu.mojo", "pyhscpu.stdlib",
                 "python_handshake_client_cpu_vs_stdlib")

    def handshakes(self, pfx, sfx, backend):
        for tls13 in (False, True):
            hs, cpu = ("hs13", "hscpu13") if tls13 else ("hs", "hscpu")
            if not any(k.startswith(f"{pfx}{hs}.") for k in self.data):
                continue
            proto = ("TLS 1.3 TLS_AES_128_GCM_SHA256, x25519, ECDSA P-256 cert, chain + host name verified; "
                     "resumption by ticket (PSK with ECDHE unless noted)" if tls13 else
                     "TLS 1.2 ECDHE-ECDSA AES-128-GCM, x25519, P-256 cert, chain + host name verified; "
                     "resumption by session ticket")
            sec = f"Handshakes, sequential, {self.meta.get('hs_seconds')} s each, {proto}{backend}"
            m = "handshake_tls13_" if tls13 else "handshake_"
            v = "tls13" if tls13 else "tls12"
            clcpu = cpu.replace("hscpu", "hsclcpu")
            for kind in ("full", "resumed"):
                for e in HS_ENGINES:
                    name = short_engine(e)
                    self.absolute(sec, f"{kind}: {name}", f"{pfx}{hs}.{kind}.{e}", "handshakes/s")
                    self.absolute(sec, f"{kind}: {name}, server CPU", f"{pfx}{cpu}.{kind}.{e}", "µs/handshake")
                    self.absolute(sec, f"{kind}: {name}, client CPU", f"{pfx}{clcpu}.{kind}.{e}", "µs/handshake")
            for kind in ("full", "resumed"):
                self.rel(sec, f"{kind}: mojo-tls ÷ raw Mbed TLS (rate)", f"{pfx}{hs}.{kind}.mojo",
                         f"{pfx}{hs}.{kind}.raw", f"{m}{kind}_vs_raw{sfx}")
            # issue #18's figures: rate (> 1 = faster) and CPU per handshake
            # (< 1 = cheaper) against OpenSSL, within one run
            for kind in ("full", "resumed"):
                self.rel(sec, f"{kind}: mojo-tls ÷ OpenSSL (rate)", f"{pfx}{hs}.{kind}.mojo",
                         f"{pfx}{hs}.{kind}.openssl", f"handshake_{kind}_vs_openssl_{v}{sfx}")
            self.rel(sec, "full: server CPU mojo-tls ÷ OpenSSL", f"{pfx}{cpu}.full.mojo",
                     f"{pfx}{cpu}.full.openssl", f"handshake_full_server_cpu_vs_openssl_{v}{sfx}")
            self.rel(sec, "full: client CPU mojo-tls ÷ OpenSSL", f"{pfx}{clcpu}.full.mojo",
                     f"{pfx}{clcpu}.full.openssl", f"handshake_client_cpu_vs_openssl_{v}{sfx}")
            self.rel(sec, "full: AWS-LC ECC ÷ Mbed TLS's own ECC (rate)", f"{pfx}{hs}.full.mojo",
                     f"{pfx}{hs}.full.unhooked", f"handshake_full_vs_unhooked{'' if tls13 else '_tls12'}{sfx}")
            self.rel(sec, "full: server CPU, AWS-LC ECC ÷ Mbed TLS's own ECC", f"{pfx}{cpu}.full.mojo",
                     f"{pfx}{cpu}.full.unhooked")
            self.rel(sec, "resumed, psk_ke opt-in: mojo-tls ÷ OpenSSL (its default, rate)",
                     f"{pfx}{hs}.resumed.pskke", f"{pfx}{hs}.resumed.openssl",
                     f"handshake_resumed_psk_ke_vs_openssl_{v}{sfx}")
            self.rel(sec, "mojo-tls resumed ÷ full (rate)", f"{pfx}{hs}.resumed.mojo", f"{pfx}{hs}.full.mojo",
                     f"{m}resumed_vs_full{sfx}")
            self.rel(sec, "raw Mbed TLS resumed ÷ full (rate)", f"{pfx}{hs}.resumed.raw", f"{pfx}{hs}.full.raw")
            for kind in ("full", "resumed"):
                self.rel(sec, f"{kind}: server CPU mojo-tls ÷ raw", f"{pfx}{cpu}.{kind}.mojo",
                         f"{pfx}{cpu}.{kind}.raw", f"{m.replace('handshake_', 'handshake_cpu_')}{kind}_vs_raw{sfx}")

    def memory(self, pfx, sfx, backend, tls13=False):
        m = "mem13" if tls13 else "mem"
        if not any(k.startswith(f"{pfx}{m}.") for k in self.data):
            return  # this backend was not measured (OpenSSL's row alone says nothing)
        sec = (f"Memory per idle connection ({self.meta.get('mem_conns')} connections, RSS growth ÷ N, "
               f"after the handshake), TLS 1.{3 if tls13 else 2}{backend}")
        stem = "mem_per_conn_tls13_" if tls13 else "mem_per_conn_"
        for side in ("server", "client"):
            for e in MEM_ENGINES:
                name = short_engine(e)
                # the system rows use the bundled rows' OpenSSL figure when
                # they were not measured again (same program, same settings)
                key = f"{pfx}{m}.{side}.{e}"
                if e == "openssl" and key not in self.data:
                    key = f"{m}.{side}.openssl"
                self.absolute(sec, f"{side}: {name}", key, "bytes", 0)
            ossl = f"{pfx}{m}.{side}.openssl"
            if ossl not in self.data:
                ossl = f"{m}.{side}.openssl"
            # the library as shipped (fast record layer) vs OpenSSL; the
            # Mbed TLS record layer's figure for comparison
            self.rel(sec, f"{side}: mojo-tls (default) ÷ OpenSSL", f"{pfx}{m}.{side}.fast", ossl,
                     f"{stem}{side}_vs_openssl{sfx}")
            self.rel(sec, f"{side}: mojo-tls (Mbed TLS record layer) ÷ OpenSSL", f"{pfx}{m}.{side}.mojo", ossl,
                     f"{stem}{side}_mbedtls_layer_vs_openssl{sfx}")
            self.rel(sec, f"{side}: fast ÷ Mbed TLS record layer", f"{pfx}{m}.{side}.fast",
                     f"{pfx}{m}.{side}.mojo", f"{stem}{side}_fast_vs_mbedtls_layer{sfx}")
            self.rel(sec, f"{side}: mojo-tls (Mbed TLS record layer) ÷ raw Mbed TLS", f"{pfx}{m}.{side}.mojo",
                     f"{pfx}{m}.{side}.raw", f"{stem}{side}_vs_raw{sfx}")

    def ffi(self):
        sec = "FFI: one mojo_tls_conn_pending call on a live connection"
        for k, name in (("c", "C"), ("python", "Python (ctypes, mojo_tls._ffi)"),
                        ("mojo", "Mojo (mojo_tls._ffi.MojoTlsFFI; memory-mode connection)"),
                        ("janet", "Janet (mojo_tls/ffi; memory-mode connection)"),
                        ("c_raw", "for scale: mbedtls_ssl_get_bytes_avail from C, no shim")):
            s = self.absolute(sec, name, f"ffi.{k}", "ns/call", 1)
            if s and k != "c_raw":
                self.metrics[f"ffi_call_ns_{k}"] = s[0]

    def janet(self):
        sec = ("Janet under ev, one process on loopback: 64 MiB echoed through one connection "
               "(client writer + reader fibers, server fiber), mojo_tls/tls vs plain net")
        self.absolute(sec, "plain net", "janet.bulk.net", "MiB/s")
        self.absolute(sec, "mojo_tls/tls (TLS 1.3, fast record layer)", "janet.bulk.tls", "MiB/s")
        self.rel(sec, "mojo_tls ÷ plain net", "janet.bulk.tls", "janet.bulk.net", "janet_bulk_vs_net")
        sec = "Janet under ev: 50 clients handshaking at once with a tls/server in the same loop"
        s = self.absolute(sec, "longest event-loop stall (a 1 ms ticker's worst gap)", "janet.stall_ms", "ms")
        if s:
            self.metrics["janet_handshake_stall_ms"] = s[0]
        self.absolute(sec, "time for all 50", "janet.hs50_s", "s", 3)

    def mojo(self):
        sec = ("Mojo, one process and one poll loop on loopback: 64 MiB echoed through one "
               "connection, TLSStream (non-blocking) vs raw sockets (libc read/write)")
        self.absolute(sec, "raw sockets", "mojo.bulk.raw", "MiB/s")
        self.absolute(sec, "mojo_tls TLSStream (TLS 1.3, fast record layer)", "mojo.bulk.tls", "MiB/s")
        self.rel(sec, "mojo_tls ÷ raw sockets", "mojo.bulk.tls", "mojo.bulk.raw", "mojo_bulk_vs_raw")

    def dtls(self):
        sec = (f"DTLS 1.2 full handshakes, sequential, {self.meta.get('hs_seconds')} s each (ECDHE P-256 cert, "
               "cookie exchange, close_notify), our client against each server")
        self.absolute(sec, "mojo-tls server (UDP listener)", "dtls_hs.mojo", "handshakes/s")
        self.absolute(sec, "openssl s_server -dtls1_2", "dtls_hs.openssl", "handshakes/s")
        self.rel(sec, "mojo-tls server ÷ openssl s_server (rate)", "dtls_hs.mojo", "dtls_hs.openssl",
                 "dtls_handshake_vs_openssl")
        sec = (f"DTLS 1.2 datagram echo, one connection, {self.meta.get('dtls_count')} datagrams of 1200 bytes, "
               "32 in flight, ECDHE-ECDSA AES-128-GCM, client and server in one process (same library "
               "on both ends)")
        self.absolute(sec, "mojo-tls (Mbed TLS record layer)", "dtls_echo.mojo", "datagrams/s")
        self.absolute(sec, "OpenSSL libssl", "dtls_echo.openssl", "datagrams/s")
        self.absolute(sec, "mojo-tls, payload one way", "dtls_echo_MBps.mojo", "MB/s", 2)
        self.absolute(sec, "OpenSSL, payload one way", "dtls_echo_MBps.openssl", "MB/s", 2)
        self.absolute(sec, "mojo-tls, datagrams lost", "dtls_echo_lost.mojo", "", 0)
        self.absolute(sec, "OpenSSL, datagrams lost", "dtls_echo_lost.openssl", "", 0)
        self.rel(sec, "mojo-tls ÷ OpenSSL (rate)", "dtls_echo.mojo", "dtls_echo.openssl",
                 "dtls_datagram_throughput_vs_openssl")

    def concurrency(self):
        sec = (f"Aggregate throughput, N concurrent connections (2N threads), "
               f"{int(self.meta.get('conc_bytes', 0)) >> 20} MiB in total, TLS 1.2 AES-128-GCM")
        for n in (1, 16, 256):
            self.absolute(sec, f"N={n}: mojo-tls (default, fast record layer)", f"conc.{n}.fast", "MB/s")
            self.absolute(sec, f"N={n}: mojo-tls (Mbed TLS record layer)", f"conc.{n}.mojo", "MB/s")
            self.absolute(sec, f"N={n}: OpenSSL", f"conc.{n}.openssl", "MB/s")
            self.rel(sec, f"N={n}: mojo-tls (default) ÷ OpenSSL", f"conc.{n}.fast", f"conc.{n}.openssl",
                     f"conc_{n}_vs_openssl")
            self.rel(sec, f"N={n}: mojo-tls (Mbed TLS record layer) ÷ OpenSSL", f"conc.{n}.mojo",
                     f"conc.{n}.openssl", f"conc_{n}_mbedtls_layer_vs_openssl")

    def fallback(self):
        """1 when every fast-engine bulk connection used kernel TLS or, the
        kernel refusing it, the ring layer with the refusal noted."""
        vals = [v for k, runs in self.data.items() if ".layer_ok." in k or k.startswith("layer_ok.")
                for v in runs.values()]
        if vals:
            self.metrics["record_layer_fallback_ok"] = min(vals)
            self.rows.append(("Record layer selection (fast driver, every bulk connection)",
                              "kernel TLS probe fell back cleanly (1 = yes)", "", summary(vals), 0))


def build(data, meta):
    rep = Report(data, meta)
    bundled = f", {short_backend(meta.get('backend', ''))} (bundled)"
    system = f", {short_backend(meta.get('sys_backend', ''))} (system backend)"
    rep.bulk("", "", bundled)
    rep.python()
    rep.handshakes("", "", bundled)
    rep.memory("", "", bundled)
    rep.ffi()
    rep.janet()
    rep.mojo()
    rep.concurrency()
    rep.dtls()
    rep.bulk(*SYSTEM, system)
    rep.handshakes(*SYSTEM, system)
    rep.memory(*SYSTEM, system)
    rep.memory(*SYSTEM, system, tls13=True)
    rep.fallback()
    return rep


def short_engine(e):
    """The label for CPU, handshake and memory rows: without "C ABI" and
    "libssl", still telling the mojo-tls engines apart."""
    return ENGINES[e].replace("C ABI, ", "").replace(" (C ABI)", "").replace(" libssl", "")


def short_backend(s):
    """"Mbed TLS 3.6.6 (system)" -> "Mbed TLS 3.6.6"."""
    return s.split(" (")[0] if s else "Mbed TLS 3.6"


def targets(metrics):
    """(metric, op, bound, text) for every target of issue #10 that has data."""
    out = []
    for sfx, who in (("", ""), ("_system", " [3.6]")):
        for proto in ("", "tls13_"):
            pname = "TLS 1.3 " if proto else ""
            for suite, nice in (("aes128gcm", "AES-128-GCM"), ("chacha20", "ChaCha20-Poly1305")):
                out.append((f"bulk_vs_raw_{proto}{suite}{sfx}", ">=", 0.97,
                            f"shim overhead on bulk ({pname}{nice}){who}: ≥ 0.97× raw Mbed TLS"))
            for kind in ("full", "resumed"):
                out.append((f"handshake_{proto}{kind}_vs_raw{sfx}", ">=", 0.97,
                            f"{pname}{kind} handshakes{who}: ≥ 0.97× raw Mbed TLS"))
            out.append((f"handshake_{proto}resumed_vs_full{sfx}", ">=", 10.0,
                        f"{pname}resumed handshakes ≥ 10× full{who}"))
        out.append((f"mem_per_conn_server_vs_openssl{sfx}", "<=", 1.0,
                    f"memory per idle server connection{who} ≤ 1.0× OpenSSL's"))
        for proto in ("", "tls13_"):
            for suite, nice in (("aes128gcm", "AES-128-GCM"), ("chacha20", "ChaCha20-Poly1305")):
                out.append((f"bulk_vs_openssl_{proto}{suite}{sfx}", ">=", 1.2,
                            f"bulk {'TLS 1.3 ' if proto else ''}{nice}{who} ≥ 1.2× OpenSSL (issue #11)"))
        for proto in ("", "tls13_"):
            for side in ("server", "client"):
                out.append((f"mem_per_conn_{proto}{side}_fast_vs_mbedtls_layer{sfx}", "<=", 1.05,
                            f"fast record layer memory per idle {'TLS 1.3 ' if proto else ''}{side} "
                            f"connection{who} not worse (≤ 1.05×, issue #11)"))
    for v, pname in (("tls13", "TLS 1.3"), ("tls12", "TLS 1.2")):
        out.append((f"handshake_full_vs_openssl_{v}", ">=", 1.0,
                    f"{pname} full handshakes ≥ 1.0× OpenSSL's rate (issue #18)"))
        out.append((f"handshake_full_server_cpu_vs_openssl_{v}", "<=", 1.0,
                    f"{pname} server CPU per full handshake ≤ 1.0× OpenSSL's (issue #18)"))
    out.append(("handshake_client_cpu_vs_openssl_tls13", "<=", 1.5,
                "TLS 1.3 client CPU per full handshake ≤ 1.5× OpenSSL's (issue #18)"))
    out.append(("handshake_resumed_vs_openssl_tls13", ">=", 1.0,
                "TLS 1.3 resumed handshakes (default psk_dhe_ke) ≥ 1.0× OpenSSL's rate (issue #18)"))
    out.append(("python_bulk_vs_openssl_c", ">=", 1.0, "Python bulk ≥ 1.0× OpenSSL C (issue #11)"))
    out.append(("record_layer_fallback_ok", ">=", 1.0, "kernel TLS probe falls back cleanly"))
    out.append(("ffi_call_ns_c", "<", 50.0, "FFI call from C < 50 ns"))
    out.append(("ffi_call_ns_python", "<", 2000.0, "FFI call from Python < 2 µs"))
    return [t for t in out if t[0] in metrics]


def table_lines(rows):
    lines = []
    width = max((len(r[1]) for r in rows), default=10)
    last = None
    for sec, label, unit, (med, lo, hi), digits in rows:
        if sec != last:
            lines.append("")
            lines.append(sec)
            last = sec
        lines.append(f"  {label:<{width}}  {fmt(med, digits):>12}  ({fmt(lo, digits)} – {fmt(hi, digits)})  {unit}")
    return lines


def main(argv):
    data = load(argv[1])
    meta = dict(line.rstrip("\n").split("=", 1) for line in open(argv[2]) if "=" in line)
    doc = argv[3] if len(argv) > 3 else None
    rep = build(data, meta)
    print("\n".join(table_lines(rep.rows)))
    print()
    for name, op, bound, text in targets(rep.metrics):
        v = rep.metrics[name]
        ok = {">=": v >= bound, "<=": v <= bound, "<": v < bound}[op]
        print(f"target {'met   ' if ok else 'MISSED'} {text}: {v:.3g}")
    print()
    for name in sorted(rep.metrics):
        print(f"METRIC {name} {rep.metrics[name]:.4g}")
    if doc:
        write_doc(doc, rep.rows, rep.metrics, meta)


NOTES = """
- Every engine uses the same settings: one cipher suite on both ends, one protocol version,
  groups x25519 then secp256r1, an ECDSA P-256 leaf signed by a P-256 CA, TCP_NODELAY, the
  client verifying the chain and the host name. Resumption uses session tickets (server
  tickets enabled in mojo-tls and raw Mbed TLS, OpenSSL's tickets with its session cache
  off, one TLS 1.3 ticket per handshake everywhere), one ticket reused by every client; TLS
  1.3 resumption is PSK with ECDHE (every engine's default), so it still costs an x25519
  exchange, unlike a TLS 1.2 ticket resumption. The "psk_ke resumption opt-in" row has both
  mojo-tls ends call mojo_tls_config_insecure_resumption_without_forward_secrecy (no ECDHE,
  no forward secrecy for the resumed session); OpenSSL stays on its default.
- The bundled engine's elliptic-curve multiplication runs in AWS-LC (src/backend/ecc.rs);
  the "Mbed TLS's own ECC" rows run the same library with MOJO_TLS_ECC_ENGINE=mbedtls.
- The mojo-tls C rows pin Mbed TLS's record layer (MOJO_TLS_RECORD_LAYER_MBEDTLS), so they
  measure the shim over the same engine as raw Mbed TLS; the Python rows use the package's
  defaults (the library's own record layer after the handshake, where it applies).
- Raw Mbed TLS is the very library mojo-tls is built on, called directly by
  benches/be_raw.c against the static libraries of the Mbed TLS 3.6 install that the
  system backend's libmojo_tls links (the bundled engine's libraries need mbedtls-rs-sys's
  Rust hooks and cannot be linked alone, so the bundled rows have no raw peer). It uses blocking
  `mbedtls_net_*` BIOs; mojo-tls runs its own non-blocking transport with poll().
- Bulk: the time from the first write to the server's one-byte acknowledgement of the last;
  "CPU (both ends)" is the process's user + system CPU time over the same span (client and
  server threads) per GiB, which other load on the machine disturbs far less than the rate.
- Order: the engines of a pair run in the listed order on odd runs and reversed on even
  runs, so a drift in the machine's load does not always favour the same side.
- Server and client CPU per handshake: getrusage(RUSAGE_THREAD) of the server thread and of
  the client thread ÷ handshakes.
- Memory: RSS growth of each process (server; forked client) over N idle, handshaken
  connections after one warm-up connection, ÷ N.
- FFI from Mojo and Janet uses a memory-mode connection (no peer needed); from C and Python a
  live TCP connection. The Mojo binding resolves every function once, when the library is
  loaded, and calls through the cached pointer; Janet's ffi/defbind resolves lazily once;
  Python's ctypes functions are resolved once.
- Benchmarks are never timed assertions in the test suite.
"""


def write_doc(path, rows, metrics, meta):
    try:
        with open(path) as f:
            old = f.read()
        at = old.find("\n## Findings")
        findings = old[at + 1:].rstrip() + "\n" if at >= 0 else ""
    except OSError:
        findings = ""
    out = ["# Benchmarks", "",
           "Generated by `./build.sh bench` (benches/run.sh; sources in benches/). Loopback TCP,",
           "client and server in one process on two threads (memory: two processes; Python: two",
           f"processes). Figures are medians of {meta.get('runs')} runs with min–max; each ratio is",
           "computed within one run (mojo-tls and its peer back to back), then summarised.",
           "Ratios are mojo-tls ÷ peer: > 1 means faster or, for memory and CPU, bigger.",
           "Absolute numbers are context only: they depend on the machine and its load.", "",
           "## Machine", "",
           f"- CPU: {meta.get('cpu')} ({meta.get('cores')} cores), memory {meta.get('memory')}",
           f"- OS: {meta.get('os')}",
           f"- Compilers: {meta.get('gcc')}; {meta.get('rustc')}",
           f"- Peers: {meta.get('openssl')}" + (f"; Python {meta['python']}" if meta.get("python") else ""),
           "- mojo-tls backends: " + "; ".join(b for b in (meta.get("backend"), meta.get("sys_backend")) if b),
           ]
    if meta.get("mojo") or meta.get("janet"):
        out.append(f"- Mojo: {meta.get('mojo')}; Janet: {meta.get('janet')}")
    out += [f"- Load average (1/5/15 min): {meta.get('load')}",
            f"- Duration of the run: {meta.get('elapsed')}"]
    if meta.get("quick"):
        out.append("- BENCH_QUICK=1: short transfers, for validation only")
    out += ["", "## Results", ""]
    last = None
    for sec, label, unit, (med, lo, hi), digits in rows:
        if sec != last:
            out += ["", f"### {sec}", "", "| | median | min – max | unit |", "|---|---:|---:|---|"]
            last = sec
        out.append(f"| {label} | {fmt(med, digits)} | {fmt(lo, digits)} – {fmt(hi, digits)} | {unit} |")
    out += ["", "## Targets", "", "| target | measured | met |", "|---|---:|---|"]
    for name, op, bound, text in targets(metrics):
        v = metrics[name]
        ok = {">=": v >= bound, "<=": v <= bound, "<": v < bound}[op]
        out.append(f"| {text} | {v:.3g} | {'yes' if ok else '**no**'} |")
    out += ["", "## Machine-readable", "", "```"]
    out += [f"METRIC {name} {metrics[name]:.4g}" for name in sorted(metrics)]
    out += ["```", ""]
    out += ["## Method notes", "", NOTES.strip(), ""]
    if findings:
        out += [findings]
    with open(path, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main(sys.argv)
