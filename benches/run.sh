#!/usr/bin/env bash
# benches/run.sh — ./build.sh bench: mojo-tls against raw Mbed TLS, OpenSSL
# and Python's ssl on loopback; prints one table (medians of BENCH_RUNS runs
# with min–max; every ratio is computed pair by pair within a run), then
# `METRIC <name> <value>` lines, and writes docs/BENCHMARKS.md.
#
# Environment:
#   BENCH_QUICK=1        64 MiB bulk transfers instead of 1 GiB (validation)
#   BENCH_BYTES=N        bulk size in bytes (overrides the above)
#   BENCH_RUNS=N         runs per measurement (default 3, at least 3)
#   BENCH_HS_SECONDS=S   seconds per handshake measurement (default 3; quick 1)
#   BENCH_NO_DOC=1       do not write docs/BENCHMARKS.md
#   MOJO_TLS_DIST        the dist/ to measure (default <repo>/dist; built
#                        with ./build.sh when missing)
# Loopback (127.0.0.1) only; every program runs under `timeout`, and the
# drivers also bound themselves with alarm(); nothing else is killed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd -P)
DIST=${MOJO_TLS_DIST:-$ROOT/dist}
RUNS=${BENCH_RUNS:-3}
((RUNS >= 3)) || RUNS=3
if [[ -n ${BENCH_QUICK:-} ]]; then
  BYTES=${BENCH_BYTES:-$((64 * 1024 * 1024))}
  HS_SECONDS=${BENCH_HS_SECONDS:-1}
  CONC_BYTES=$((32 * 1024 * 1024))
  MEM_CONNS=500
else
  BYTES=${BENCH_BYTES:-$((1024 * 1024 * 1024))}
  HS_SECONDS=${BENCH_HS_SECONDS:-3}
  CONC_BYTES=$((256 * 1024 * 1024))
  MEM_CONNS=500
fi
FFI_ITERS_C=10000000
FFI_ITERS_SCRIPT=1000000
T=600 # seconds, the bound of any single program

say() { printf '==> %s\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- prerequisites ------------------------------------------------------------------
command -v gcc >/dev/null || die "gcc is needed"
command -v openssl >/dev/null || die "the openssl CLI is needed (test certificates)"
if ! printf '#include <openssl/ssl.h>\n' | gcc -E -x c - >/dev/null 2>&1; then
  say "libssl-dev missing: apt-get install libssl-dev"
  if [[ $(id -u) -eq 0 ]]; then
    apt-get install -y -q libssl-dev >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q libssl-dev >/dev/null; }
  else
    sudo -n apt-get install -y -q libssl-dev >/dev/null || die "install libssl-dev (OpenSSL headers)"
  fi
fi

mbed_out() { # the bundled Mbed TLS that mbedtls-sys-auto built: include/ + lib/*.a + config.h
  local d
  for d in "$ROOT"/target/release/build/mbedtls-sys-auto-*/out; do
    [[ -f $d/config.h && -f $d/include/mbedtls/ssl.h && -f $d/lib/libmbedtls.a &&
      -f $d/lib/libmbedx509.a && -f $d/lib/libmbedcrypto.a ]] || continue
    printf '%s %s\n' "$(stat -c %Y "$d/lib/libmbedtls.a")" "$d"
  done | sort -rn | head -1 | cut -d' ' -f2-
}

wheel() { ls "$DIST"/python/mojo_tls-*.whl 2>/dev/null | head -1; }
if [[ ! -e $DIST/lib/libmojo_tls.so.0 || -z $(wheel) || ( -z ${MBEDTLS_DIR:-} && -z $(mbed_out) ) ]]; then
  [[ $DIST == "$ROOT/dist" ]] || die "$DIST is incomplete"
  say "building dist/ (./build.sh)"
  ./build.sh >&2
fi

W=$(mktemp -d -t mojo-tls-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT

say "peers: building the C drivers"
CFLAGS=(-O2 -Wall -Wextra -std=gnu11)
gcc "${CFLAGS[@]}" -I"$DIST/include" -o "$W/bench-mojo" benches/driver.c benches/be_mojo.c \
  -L"$DIST/lib" -lmojo_tls -Wl,-rpath,"$DIST/lib" -lpthread
gcc "${CFLAGS[@]}" -o "$W/bench-openssl" benches/driver.c benches/be_openssl.c -lssl -lcrypto -lpthread
BACKEND=$(LD_LIBRARY_PATH="$DIST/lib" python3 -c 'import ctypes,sys; l=ctypes.CDLL(sys.argv[1]); l.mojo_tls_backend.restype=ctypes.c_char_p; print(l.mojo_tls_backend().decode())' "$DIST/lib/libmojo_tls.so.0")
note "mojo-tls backend: $BACKEND"
HAVE_RAW=0
if [[ $BACKEND == *"(bundled)"* ]]; then
  MB=$(mbed_out)
  if [[ -n $MB ]]; then
    # the same config.h as the bundled build; it enables threading: -lpthread
    gcc "${CFLAGS[@]}" -DMBEDTLS_CONFIG_FILE="\"$MB/config.h\"" -I"$MB/include" -o "$W/bench-raw" \
      benches/driver.c benches/be_raw.c "$MB/lib/libmbedtls.a" "$MB/lib/libmbedx509.a" "$MB/lib/libmbedcrypto.a" -lpthread
    HAVE_RAW=1
  else
    note "raw Mbed TLS: no mbedtls-sys-auto build output under target/release: skipped"
  fi
else
  note "raw Mbed TLS: the dist uses the system backend; its raw peer is not built (be_raw.c targets 2.28): skipped"
fi
TLS13=0
[[ $BACKEND == *"(system)"* ]] && TLS13=1

say "test certificates (ECDSA P-256 CA + leaf for localhost)"
(
  cd "$W"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -subj /CN=bench-ca -days 2 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out req.csr \
    -subj /CN=localhost 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' >ext
  openssl x509 -req -in req.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 2 -extfile ext 2>/dev/null
)
CERTS=("$W/cert.pem" "$W/key.pem" "$W/ca.pem")

say "python: the mojo_tls wheel into target/bench-venv"
VENV=$ROOT/target/bench-venv
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --no-index --force-reinstall "$(wheel)" >&2
PY=("$VENV/bin/python" "$ROOT/benches/bench_py.py")

MOJO_BIN=""
MOJO=${MOJO:-$ROOT/target/mojo-venv/bin/mojo}
if [[ -x $MOJO ]]; then
  say "mojo: building benches/ffi.mojo"
  if "$MOJO" build -I mojo -o "$W/ffi-mojo" benches/ffi.mojo >"$W/mojo-build.log" 2>&1; then
    MOJO_BIN=$W/ffi-mojo
  else
    note "mojo build failed (see below); Mojo FFI skipped"; tail -5 "$W/mojo-build.log" >&2
  fi
else
  note "Mojo not installed (mojo/run_tests.sh installs it into target/mojo-venv): Mojo FFI skipped"
fi
JANET=$ROOT/target/janet/bin/janet
[[ -x $JANET ]] || { JANET=""; note "Janet not built (janet/tools/build_janet.sh): Janet FFI skipped"; }

# --- runs ---------------------------------------------------------------------------
RES=$W/results.txt
: >"$RES"
FAILS=0
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# measure RUN KEY... -- CMD...: run CMD (bounded), record "KEY<i> RUN VALUE" for
# each "outkey=KEY" pair given before --.
measure() {
  local run=$1; shift
  local pairs=()
  while [[ $1 != -- ]]; do pairs+=("$1"); shift; done
  shift
  local out rc=0
  out=$(MOJO_TLS_LIBRARY="$DIST/lib/libmojo_tls.so.0" timeout -k 5 "$T" "$@" 2>"$W/err") || rc=$?
  if [[ $rc -eq 3 ]] && grep -q '^unsupported' <<<"$out"; then return 0; fi
  if [[ $rc -ne 0 ]]; then
    FAILS=$((FAILS + 1))
    note "FAILED (exit $rc): ${pairs[*]}: $(tail -3 "$W/err" | tr '\n' ' ')"
    return 0
  fi
  local p k name v
  for p in "${pairs[@]}"; do
    k=${p%%=*}; name=${p#*=}
    v=$(awk -v k="$k" '$1 == k { print $2 }' <<<"$out" | tail -1)
    [[ -n $v ]] && printf '%s %s %s\n' "$name" "$run" "$v" >>"$RES"
  done
}

ENGINES=(mojo openssl)
((HAVE_RAW)) && ENGINES=(mojo raw openssl)
for ((r = 1; r <= RUNS; r++)); do
  say "run $r of $RUNS (bulk $((BYTES / 1048576)) MiB)"
  for suite in aes128gcm chacha20; do
    for e in "${ENGINES[@]}"; do
      measure "$r" bulk_MBps="bulk.$suite.$e" -- "$W/bench-$e" "${CERTS[@]}" "$suite" 0 bulk "$BYTES"
    done
    if ((TLS13)); then
      for e in mojo openssl; do
        measure "$r" bulk_MBps="bulk13.$suite.$e" -- "$W/bench-$e" "${CERTS[@]}" "$suite" 1 bulk "$BYTES"
      done
    fi
  done
  for k in mojo stdlib; do
    measure "$r" bulk_MBps="py.$k" -- "${PY[@]}" bulk "$k" "$BYTES" "${CERTS[@]}" aes128gcm
  done
  for kind in full resumed; do
    for e in "${ENGINES[@]}"; do
      measure "$r" hs_per_s="hs.$kind.$e" server_cpu_us="hscpu.$kind.$e" -- \
        "$W/bench-$e" "${CERTS[@]}" aes128gcm 0 hs "$kind" "$HS_SECONDS"
    done
  done
  for e in mojo openssl; do
    measure "$r" mem_server_B="mem.server.$e" mem_client_B="mem.client.$e" -- \
      "$W/bench-$e" "${CERTS[@]}" aes128gcm 0 mem "$MEM_CONNS"
  done
  for n in 1 16 256; do
    for e in mojo openssl; do
      measure "$r" conc_MBps="conc.$n.$e" -- "$W/bench-$e" "${CERTS[@]}" aes128gcm 0 conc "$n" "$CONC_BYTES"
    done
  done
  measure "$r" ffi_ns=ffi.c -- "$W/bench-mojo" "${CERTS[@]}" aes128gcm 0 ffi "$FFI_ITERS_C"
  if ((HAVE_RAW)); then
    measure "$r" ffi_ns=ffi.c_raw -- "$W/bench-raw" "${CERTS[@]}" aes128gcm 0 ffi "$FFI_ITERS_C"
  fi
  measure "$r" ffi_ns=ffi.python -- "${PY[@]}" ffi "$FFI_ITERS_SCRIPT" "${CERTS[@]}"
  if [[ -n $MOJO_BIN ]]; then measure "$r" ffi_ns=ffi.mojo -- "$MOJO_BIN" "$FFI_ITERS_SCRIPT"; fi
  if [[ -n $JANET ]]; then measure "$r" ffi_ns=ffi.janet -- "$JANET" benches/ffi.janet "$FFI_ITERS_SCRIPT"; fi
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# --- machine ------------------------------------------------------------------------
META=$W/meta.txt
{
  echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "cores=$(nproc)"
  echo "memory=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), Linux $(uname -r)"
  echo "gcc=$(gcc --version | head -1)"
  echo "rustc=$(rustc --version 2>/dev/null || echo n/a)"
  echo "openssl=$(openssl version)"
  echo "python=$("$VENV/bin/python" -c 'import sys, ssl; print(sys.version.split()[0], "/", ssl.OPENSSL_VERSION)')"
  echo "mojo=$([[ -n $MOJO_BIN ]] && "$MOJO" --version 2>/dev/null | head -1 || echo 'not installed')"
  echo "janet=$([[ -n $JANET ]] && "$JANET" -v || echo 'not built')"
  echo "backend=$BACKEND"
  echo "bytes=$BYTES"
  echo "conc_bytes=$CONC_BYTES"
  echo "hs_seconds=$HS_SECONDS"
  echo "mem_conns=$MEM_CONNS"
  echo "runs=$RUNS"
  echo "load=$LOAD_START (start), $LOAD_END (end)"
  echo "quick=${BENCH_QUICK:-}"
} >"$META"

DOC=docs/BENCHMARKS.md
[[ -n ${BENCH_NO_DOC:-} ]] && DOC=""
python3 benches/report.py "$RES" "$META" ${DOC:+"$DOC"}
if ((FAILS)); then
  note "$FAILS measurement(s) failed (see above)"
  exit 1
fi
