"""benches/report.py RESULTS META [DOC] — the table, the METRIC lines and
docs/BENCHMARKS.md from benches/run.sh's raw results ("key run value" lines).

Absolute figures are medians of the runs with min–max; every ratio is
computed within one run (mojo-tls and its peer measured back to back) and
then summarised the same way. Ratios are mojo-tls ÷ peer: > 1 means faster
(throughput, handshakes) or bigger (memory, CPU per handshake)."""
import statistics
import sys
from collections import defaultdict


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


def main(argv):
    data = load(argv[1])
    meta = dict(line.rstrip("\n").split("=", 1) for line in open(argv[2]) if "=" in line)
    doc = argv[3] if len(argv) > 3 else None

    def ratio(a, b):
        runs = sorted(set(data.get(a, {})) & set(data.get(b, {})))
        return [data[a][r] / data[b][r] for r in runs if data[b][r]]

    rows = []  # (section, label, unit, summary, digits)

    def absolute(section, label, key, unit, digits=1):
        s = summary(list(data.get(key, {}).values()))
        if s:
            rows.append((section, label, unit, s, digits))

    def rel(section, label, a, b, metric=None):
        s = summary(ratio(a, b))
        if s:
            rows.append((section, label, "×", s, 3))
            if metric:
                metrics[metric] = s[0]

    metrics = {}
    mib = int(meta.get("bytes", "0")) // (1024 * 1024)
    # 1. bulk
    for suite, nice in (("aes128gcm", "AES-128-GCM"), ("chacha20", "ChaCha20-Poly1305")):
        sec = f"Bulk, 1 connection, {mib} MiB in 16 KiB writes, TLS 1.2 ECDHE-ECDSA {nice}"
        for e, name in (("mojo", "mojo-tls (C ABI)"), ("raw", "raw Mbed TLS"), ("openssl", "OpenSSL libssl")):
            absolute(sec, name, f"bulk.{suite}.{e}", "MB/s")
        rel(sec, "mojo-tls ÷ raw Mbed TLS", f"bulk.{suite}.mojo", f"bulk.{suite}.raw", f"bulk_vs_raw_{suite}")
        rel(sec, "mojo-tls ÷ OpenSSL", f"bulk.{suite}.mojo", f"bulk.{suite}.openssl", f"bulk_vs_openssl_{suite}")
        if f"bulk13.{suite}.mojo" in data:
            sec13 = f"Bulk, 1 connection, {mib} MiB, TLS 1.3 {nice}"
            absolute(sec13, "mojo-tls (C ABI)", f"bulk13.{suite}.mojo", "MB/s")
            absolute(sec13, "OpenSSL libssl", f"bulk13.{suite}.openssl", "MB/s")
            rel(sec13, "mojo-tls ÷ OpenSSL", f"bulk13.{suite}.mojo", f"bulk13.{suite}.openssl",
                f"bulk13_vs_openssl_{suite}")
    # 2. python
    sec = f"Python, 1 connection, {mib} MiB, sendall/recv_into 16 KiB, TLS 1.2 AES-128-GCM"
    absolute(sec, "mojo_tls package", "py.mojo", "MB/s")
    absolute(sec, "stdlib ssl", "py.stdlib", "MB/s")
    rel(sec, "mojo_tls ÷ stdlib ssl", "py.mojo", "py.stdlib", "python_bulk_vs_stdlib")
    rel(sec, "mojo_tls (Python) ÷ OpenSSL (C)", "py.mojo", "bulk.aes128gcm.openssl", "python_bulk_vs_openssl_c")
    # 3. handshakes
    sec = (f"Handshakes, sequential, {meta.get('hs_seconds')} s each, TLS 1.2 ECDHE-ECDSA P-256 cert, "
           "x25519, chain + host name verified; resumption by session ticket")
    for kind in ("full", "resumed"):
        for e, name in (("mojo", "mojo-tls"), ("raw", "raw Mbed TLS"), ("openssl", "OpenSSL")):
            absolute(sec, f"{kind}: {name}", f"hs.{kind}.{e}", "handshakes/s")
            absolute(sec, f"{kind}: {name}, server CPU", f"hscpu.{kind}.{e}", "µs/handshake")
    rel(sec, "full: mojo-tls ÷ raw Mbed TLS (rate)", "hs.full.mojo", "hs.full.raw", "handshake_full_vs_raw")
    rel(sec, "resumed: mojo-tls ÷ raw Mbed TLS (rate)", "hs.resumed.mojo", "hs.resumed.raw", "handshake_resumed_vs_raw")
    rel(sec, "full: mojo-tls ÷ OpenSSL (rate)", "hs.full.mojo", "hs.full.openssl", "handshake_full_vs_openssl")
    rel(sec, "mojo-tls resumed ÷ full (rate)", "hs.resumed.mojo", "hs.full.mojo", "handshake_resumed_vs_full")
    rel(sec, "full: server CPU mojo-tls ÷ raw", "hscpu.full.mojo", "hscpu.full.raw", "handshake_cpu_full_vs_raw")
    rel(sec, "resumed: server CPU mojo-tls ÷ raw", "hscpu.resumed.mojo", "hscpu.resumed.raw",
        "handshake_cpu_resumed_vs_raw")
    # 4. memory
    sec = f"Memory per idle connection ({meta.get('mem_conns')} connections, RSS growth ÷ N, after the handshake)"
    for side in ("server", "client"):
        absolute(sec, f"{side}: mojo-tls", f"mem.{side}.mojo", "bytes", 0)
        absolute(sec, f"{side}: OpenSSL", f"mem.{side}.openssl", "bytes", 0)
        rel(sec, f"{side}: mojo-tls ÷ OpenSSL", f"mem.{side}.mojo", f"mem.{side}.openssl",
            f"mem_per_conn_{side}_vs_openssl")
    # 5. FFI
    sec = "FFI: one mojo_tls_conn_pending call on a live connection"
    for k, name in (("c", "C"), ("python", "Python (ctypes, mojo_tls._ffi)"),
                    ("mojo", "Mojo (mojo_tls._ffi.MojoTlsFFI; memory-mode connection)"),
                    ("janet", "Janet (mojo_tls/ffi; memory-mode connection)"),
                    ("c_raw", "for scale: mbedtls_ssl_get_bytes_avail from C, no shim")):
        absolute(sec, name, f"ffi.{k}", "ns/call", 1)
        s = summary(list(data.get(f"ffi.{k}", {}).values()))
        if s and k != "c_raw":
            metrics[f"ffi_call_ns_{k}"] = s[0]
    # 6. concurrency
    sec = (f"Aggregate throughput, N concurrent connections (2N threads), {int(meta.get('conc_bytes', 0)) >> 20} MiB "
           "in total, TLS 1.2 AES-128-GCM")
    for n in (1, 16, 256):
        absolute(sec, f"N={n}: mojo-tls", f"conc.{n}.mojo", "MB/s")
        absolute(sec, f"N={n}: OpenSSL", f"conc.{n}.openssl", "MB/s")
        rel(sec, f"N={n}: mojo-tls ÷ OpenSSL", f"conc.{n}.mojo", f"conc.{n}.openssl", f"conc_{n}_vs_openssl")

    # --- output
    lines = []
    width = max((len(r[1]) for r in rows), default=10)
    last = None
    for sec, label, unit, (med, lo, hi), digits in rows:
        if sec != last:
            lines.append("")
            lines.append(sec)
            last = sec
        lines.append(f"  {label:<{width}}  {fmt(med, digits):>12}  ({fmt(lo, digits)} – {fmt(hi, digits)})  {unit}")
    print("\n".join(lines))
    print()
    for name in sorted(metrics):
        print(f"METRIC {name} {metrics[name]:.4g}")

    if doc:
        write_doc(doc, rows, metrics, meta)


NOTES = """
- Every engine uses the same settings: one cipher suite on both ends, groups x25519 then
  secp256r1, an ECDSA P-256 leaf signed by a P-256 CA, TCP_NODELAY, the client verifying
  the chain and the host name. Resumption uses session tickets (server tickets enabled in
  mojo-tls and raw Mbed TLS, OpenSSL's default tickets), one ticket reused by every client.
- Raw Mbed TLS is the very library mojo-tls bundles (the static libraries and config.h left
  by the mbedtls-sys-auto build), driven with blocking `mbedtls_net_*` BIOs; mojo-tls runs
  its own non-blocking transport with poll().
- Bulk: the time from the first write to the server's one-byte acknowledgement of the last.
- Server CPU per handshake: getrusage(RUSAGE_THREAD) of the server thread ÷ handshakes.
- Memory: RSS growth of each process (server; forked client) over N idle, handshaken
  connections after one warm-up connection, ÷ N.
- FFI from Mojo and Janet uses a memory-mode connection (no peer needed); from C and Python a
  live TCP connection. The Mojo binding resolves the symbol on every call (get_function).
- Benchmarks are never timed assertions in the test suite.
"""

TARGETS = [
    ("bulk_vs_raw_aes128gcm", ">=", 0.97, "shim overhead on bulk (AES-128-GCM): ≥ 0.97× raw Mbed TLS"),
    ("bulk_vs_raw_chacha20", ">=", 0.97, "shim overhead on bulk (ChaCha20-Poly1305): ≥ 0.97× raw Mbed TLS"),
    ("handshake_full_vs_raw", ">=", 0.97, "full handshakes: ≥ 0.97× raw Mbed TLS"),
    ("handshake_resumed_vs_raw", ">=", 0.97, "resumed handshakes: ≥ 0.97× raw Mbed TLS"),
    ("handshake_resumed_vs_full", ">=", 10.0, "resumed handshakes ≥ 10× full"),
    ("mem_per_conn_server_vs_openssl", "<=", 1.0, "memory per idle server connection ≤ 1.0× OpenSSL's"),
    ("ffi_call_ns_c", "<", 50.0, "FFI call from C < 50 ns"),
    ("ffi_call_ns_python", "<", 2000.0, "FFI call from Python < 2 µs"),
]


def write_doc(path, rows, metrics, meta):
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
           f"- Peers: {meta.get('openssl')}; Python {meta.get('python')}",
           f"- mojo-tls backend: {meta.get('backend')}; Mojo: {meta.get('mojo')}; Janet: {meta.get('janet')}",
           f"- Load average (1/5/15 min): {meta.get('load')}",
           ]
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
    for name, op, bound, text in TARGETS:
        v = metrics.get(name)
        if v is None:
            out.append(f"| {text} | n/a | not measured |")
            continue
        ok = {">=": v >= bound, "<=": v <= bound, "<": v < bound}[op]
        out.append(f"| {text} | {v:.3g} | {'yes' if ok else '**no**'} |")
    out += ["", "## Machine-readable", "", "```"]
    out += [f"METRIC {name} {metrics[name]:.4g}" for name in sorted(metrics)]
    out += ["```", ""]
    out += ["## Method notes", "", NOTES.strip(), ""]
    with open(path, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main(sys.argv)
