#!/usr/bin/env bash
# benches/run.sh — ./build.sh bench: mojo-tls against raw Mbed TLS, OpenSSL
# and Python's ssl on loopback; prints one table (medians of BENCH_RUNS runs
# with min–max; every ratio is computed pair by pair within a run), then
# `METRIC <name> <value>` lines, and writes docs/BENCHMARKS.md.
#
# Two backends are measured in every run, one after the other:
#   bundled  dist/ (Mbed TLS 3.6.5 built by mbedtls-rs-sys): bulk TLS 1.2,
#            Python, handshakes in TLS 1.2 and TLS 1.3 (also with Mbed TLS's
#            own ECC, "unhooked", and TLS 1.3 psk_ke resumption, "pskke"),
#            idle memory, FFI cost, concurrency, DTLS 1.2 (handshakes
#            against our UDP listener and openssl s_server -dtls1_2,
#            datagram echo vs OpenSSL: benches/dtls_*.c); no raw
#            peer (the engine's static libraries need mbedtls-rs-sys's Rust
#            hooks and our threading layer, so be_raw.c cannot link them
#            alone): the system rows compare with raw Mbed TLS 3.6
#   system   target/dist-mbedtls-3.6 (Mbed TLS 3.6 from
#            tools/fetch-mbedtls-3.6.sh, or MBEDTLS_DIR): bulk and handshakes
#            in TLS 1.2 and TLS 1.3, idle memory; its raw peer is the same
#            be_raw.c built against that Mbed TLS. Keys and METRIC names of
#            these rows carry "sys." / "_system".
#
# Environment:
#   BENCH_BACKENDS="bundled system"  the backends to measure (default both)
#   BENCH_QUICK=1        64 MiB bulk transfers instead of 1 GiB (validation)
#   BENCH_BYTES=N        bulk size in bytes (overrides the above)
#   BENCH_RUNS=N         runs per measurement (default 5, at least 3; a full
#                        run of both backends takes about 3 min per run on an
#                        idle 2-core machine, more under load)
#   BENCH_HS_SECONDS=S   seconds per handshake measurement (default 3; quick 1)
#   BENCH_NO_DOC=1       do not write docs/BENCHMARKS.md
#   BENCH_MOJO_BYTES=N   bytes the Mojo row echoes (benches/bulk.mojo; 64 MiB)
#   MOJO_TLS_DIST        the bundled dist/ to measure (default <repo>/dist;
#                        built with ./build.sh when missing)
#   MBEDTLS_DIR          the Mbed TLS 3.6 prefix of the system backend
#                        (default: tools/fetch-mbedtls-3.6.sh)
# Loopback (127.0.0.1) only; every program runs under `timeout`, and the
# drivers also bound themselves with alarm(); nothing else is killed.
#
# Two mojo-tls C drivers: "mojo" pins Mbed TLS's record layer
# (MOJO_TLS_RECORD_LAYER_MBEDTLS) to measure the shim over the engine the raw
# peer runs; "fast" runs the library's default (the fast record layer after
# the handshake, issue #11) and reports whether the kernel TLS probe fell
# back cleanly. The Python package runs with the library's defaults.
#
# Adding rows: build another driver (benches/driver.c + a be_*.c engine, or
# be_mojo.c with other -D options, e.g.
# -DBENCH_MOJO_RECORD_LAYER=MOJO_TLS_RECORD_LAYER_AUTO), register it in BIN
# below, call the measure_* helpers with its engine name, and give the engine
# a label (and ratio rows / METRIC names) in report.py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd -P)
DIST=${MOJO_TLS_DIST:-$ROOT/dist}
SYS_DIST=$ROOT/target/dist-mbedtls-3.6
BACKENDS=" ${BENCH_BACKENDS:-bundled system} "
RUNS=${BENCH_RUNS:-5}
((RUNS >= 3)) || RUNS=3
if [[ -n ${BENCH_QUICK:-} ]]; then
  BYTES=${BENCH_BYTES:-$((64 * 1024 * 1024))}
  HS_SECONDS=${BENCH_HS_SECONDS:-1}
  CONC_BYTES=$((32 * 1024 * 1024))
else
  BYTES=${BENCH_BYTES:-$((1024 * 1024 * 1024))}
  HS_SECONDS=${BENCH_HS_SECONDS:-3}
  CONC_BYTES=$((256 * 1024 * 1024))
fi
MEM_CONNS=500
# DTLS echo: datagrams of 1200 bytes (a typical path-MTU-safe size)
if [[ -n ${BENCH_QUICK:-} ]]; then DTLS_COUNT=20000; else DTLS_COUNT=200000; fi
FFI_ITERS_C=10000000
FFI_ITERS_SCRIPT=1000000
T=600 # seconds, the bound of any single program
T_START=$(date +%s)

say() { printf '==> %s\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
want() { [[ $BACKENDS == *" $1 "* ]]; }
set -E # say where an unexpected failure stopped the script (errexit is silent)
trap 'rc=$?; printf "error: benches/run.sh: line %s failed (exit %s)\n" "$LINENO" "$rc" >&2' ERR

# `MBEDTLS_DIR=… ./build.sh bench`: build.sh pointed cargo at the system
# target directory; here MBEDTLS_DIR only chooses the system backend's prefix.
SYS_PREFIX=${MBEDTLS_DIR:-}
if [[ -n $SYS_PREFIX ]]; then
  unset MBEDTLS_DIR
  [[ ${CARGO_TARGET_DIR:-} == "$ROOT/target/system" ]] && unset CARGO_TARGET_DIR
fi

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

# The include and library directories of an Mbed TLS install prefix (plain
# or Debian layout, as build.rs looks for them).
mbed_prefix_dirs() { # prefix -> "incdir libdir"
  local p=$1 inc="" lib="" d
  for d in "$p/include" "$p/usr/include"; do [[ -f $d/mbedtls/ssl.h ]] && { inc=$d; break; }; done
  for d in "$p/lib" "$p/lib64" "$p"/usr/lib/*-linux-gnu "$p/usr/lib"; do
    [[ -f $d/libmbedtls.a || -f $d/libmbedtls.so ]] && { lib=$d; break; }
  done
  [[ -n $inc && -n $lib ]] && printf '%s %s\n' "$inc" "$lib"
}

wheel() { ls "$DIST"/python/mojo_tls-*.whl 2>/dev/null | head -1; }
if want bundled && [[ ! -e $DIST/lib/libmojo_tls.so.1 || -z $(wheel) ]]; then
  [[ $DIST == "$ROOT/dist" ]] || die "$DIST is incomplete"
  say "building dist/ (./build.sh)"
  ./build.sh >&2
fi
if want system; then
  if [[ -z $SYS_PREFIX ]]; then
    say "system backend: Mbed TLS 3.6 (tools/fetch-mbedtls-3.6.sh)"
    SYS_PREFIX=$(tools/fetch-mbedtls-3.6.sh) || die "could not fetch Mbed TLS 3.6 (BENCH_BACKENDS=bundled skips it)"
  fi
  SYS_PREFIX=$(cd "$SYS_PREFIX" && pwd -P)
  say "system backend: building $SYS_DIST (./build.sh dist)"
  MBEDTLS_DIR=$SYS_PREFIX MOJO_TLS_DIST_DIR=$SYS_DIST ./build.sh dist >&2
fi

W=$(mktemp -d -t mojo-tls-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT

backend_of() { # lib -> mojo_tls_backend()
  python3 -c 'import ctypes,sys; l=ctypes.CDLL(sys.argv[1]); l.mojo_tls_backend.restype=ctypes.c_char_p; print(l.mojo_tls_backend().decode())' "$1"
}

# Engines: name -> driver binary. Result keys are <measure>.<engine>, with
# "sys." in front for the system backend's rows.
declare -A BIN=()
say "peers: building the C drivers"
CFLAGS=(-O2 -Wall -Wextra -std=gnu11)
gcc "${CFLAGS[@]}" -o "$W/bench-openssl" benches/driver.c benches/be_openssl.c -lssl -lcrypto -lpthread
BIN[openssl]=$W/bench-openssl
BACKEND="" SYS_BACKEND=""
if want bundled; then
  gcc "${CFLAGS[@]}" -I"$DIST/include" -o "$W/bench-mojo" benches/driver.c benches/be_mojo.c \
    -L"$DIST/lib" -lmojo_tls -Wl,-rpath,"$DIST/lib" -lpthread
  BIN[mojo]=$W/bench-mojo
  gcc "${CFLAGS[@]}" -DBENCH_MOJO_FAST -I"$DIST/include" -o "$W/bench-fast" benches/driver.c benches/be_mojo.c \
    -L"$DIST/lib" -lmojo_tls -Wl,-rpath,"$DIST/lib" -lpthread
  BIN[fast]=$W/bench-fast
  # The same driver with Mbed TLS's own elliptic-curve code instead of the
  # AWS-LC multiplication plugged under it (src/backend/ecc.rs): the hook's gain.
  printf '#!/bin/sh\nMOJO_TLS_ECC_ENGINE=mbedtls exec "%s" "$@"\n' "$W/bench-mojo" >"$W/bench-unhooked"
  chmod +x "$W/bench-unhooked"
  BIN[unhooked]=$W/bench-unhooked
  # TLS 1.3 resumption with psk_ke (no ECDHE), the opt-in of
  # mojo_tls_config_insecure_resumption_without_forward_secrecy, on both ends.
  gcc "${CFLAGS[@]}" -DBENCH_MOJO_PSK_KE -I"$DIST/include" -o "$W/bench-pskke" benches/driver.c benches/be_mojo.c \
    -L"$DIST/lib" -lmojo_tls -Wl,-rpath,"$DIST/lib" -lpthread
  BIN[pskke]=$W/bench-pskke
  # DTLS 1.2: handshakes (our client against our UDP listener and against
  # openssl s_server -dtls1_2) and datagram echo throughput (ours on both
  # ends vs OpenSSL's libssl on both ends).
  gcc "${CFLAGS[@]}" -I"$DIST/include" -o "$W/dtls-hs" benches/dtls_hs.c \
    -L"$DIST/lib" -lmojo_tls -Wl,-rpath,"$DIST/lib" -lpthread
  gcc "${CFLAGS[@]}" -I"$DIST/include" -o "$W/dtls-echo-mojo" benches/dtls_echo.c benches/dtls_be_mojo.c \
    -L"$DIST/lib" -lmojo_tls -Wl,-rpath,"$DIST/lib" -lpthread
  gcc "${CFLAGS[@]}" -o "$W/dtls-echo-openssl" benches/dtls_echo.c benches/dtls_be_openssl.c -lssl -lcrypto -lpthread
  BACKEND=$(backend_of "$DIST/lib/libmojo_tls.so.1")
  note "mojo-tls backend: $BACKEND"
  [[ $BACKEND == *"(bundled"* ]] || die "$DIST is not the bundled backend ($BACKEND)"
  note "raw Mbed TLS for the bundled engine: not built (see the top of this script)"
fi
if want system; then
  gcc "${CFLAGS[@]}" -I"$SYS_DIST/include" -o "$W/bench-mojo-sys" benches/driver.c benches/be_mojo.c \
    -L"$SYS_DIST/lib" -lmojo_tls -Wl,-rpath,"$SYS_DIST/lib" -lpthread
  BIN[sys.mojo]=$W/bench-mojo-sys
  gcc "${CFLAGS[@]}" -DBENCH_MOJO_FAST -I"$SYS_DIST/include" -o "$W/bench-fast-sys" benches/driver.c benches/be_mojo.c \
    -L"$SYS_DIST/lib" -lmojo_tls -Wl,-rpath,"$SYS_DIST/lib" -lpthread
  BIN[sys.fast]=$W/bench-fast-sys
  SYS_BACKEND=$(backend_of "$SYS_DIST/lib/libmojo_tls.so.1")
  note "mojo-tls system backend: $SYS_BACKEND"
  read -r SYS_INC SYS_LIB < <(mbed_prefix_dirs "$SYS_PREFIX") || true
  if [[ -n ${SYS_LIB:-} ]]; then
    # Static archives when the install has them (build.rs links those too).
    libs=()
    for l in mbedtls mbedx509 mbedcrypto; do
      if [[ -f $SYS_LIB/lib$l.a ]]; then libs+=("$SYS_LIB/lib$l.a"); else libs+=(-L"$SYS_LIB" -l"$l"); fi
    done
    if gcc "${CFLAGS[@]}" -I"$SYS_INC" -o "$W/bench-raw-sys" benches/driver.c benches/be_raw.c "${libs[@]}" \
      -Wl,-rpath,"$SYS_LIB" -lpthread 2>"$W/raw-sys.log"; then
      BIN[sys.raw]=$W/bench-raw-sys
    else
      note "raw Mbed TLS ($SYS_PREFIX): be_raw.c does not build against it (3.6 only): skipped"
      tail -5 "$W/raw-sys.log" >&2
    fi
  else
    note "raw Mbed TLS: no include/ + lib/ under $SYS_PREFIX: skipped"
  fi
fi

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

VENV=$ROOT/target/bench-venv
PY=()
MOJO_BIN=""
MOJO_BULK_BIN=""
JANET=""
# The Janet row's echo: 64 MiB in one process (client, server, both ends' TLS)
JANET_BYTES=${BENCH_JANET_BYTES:-$((64 * 1024 * 1024))}
# The Mojo row's echo (benches/bulk.mojo): the same 64 MiB, TLS vs raw sockets
MOJO_BYTES=${BENCH_MOJO_BYTES:-$((64 * 1024 * 1024))}
if want bundled; then
  say "python: the mojo_tls wheel into target/bench-venv"
  [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --no-index --force-reinstall "$(wheel)" >&2
  PY=("$VENV/bin/python" "$ROOT/benches/bench_py.py")

  MOJO=${MOJO:-$ROOT/target/mojo-venv/bin/mojo}
  if [[ -x $MOJO ]] && "$MOJO" --version >/dev/null 2>&1; then
    say "mojo: building benches/ffi.mojo"
    if "$MOJO" build -I mojo -o "$W/ffi-mojo" benches/ffi.mojo >"$W/mojo-build.log" 2>&1; then
      MOJO_BIN=$W/ffi-mojo
    else
      note "mojo build failed (see below); Mojo FFI skipped"; tail -5 "$W/mojo-build.log" >&2
    fi
    say "mojo: building benches/bulk.mojo"
    if "$MOJO" build -I mojo -o "$W/bulk-mojo" benches/bulk.mojo >"$W/mojo-build.log" 2>&1; then
      MOJO_BULK_BIN=$W/bulk-mojo
    else
      note "mojo build failed (see below); Mojo bulk row skipped"; tail -5 "$W/mojo-build.log" >&2
    fi
  else
    note "Mojo not installed (mojo/run_tests.sh installs it into target/mojo-venv): Mojo FFI skipped"
  fi
  JANET=$ROOT/target/janet/bin/janet
  [[ -x $JANET ]] || { JANET=""; note "Janet not built (janet/tools/build_janet.sh): Janet rows skipped"; }
fi

# --- runs ---------------------------------------------------------------------------
RES=$W/results.txt
: >"$RES"
FAILS=0
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# measure RUN OUTKEY=KEY... -- CMD...: run CMD (bounded), record "KEY RUN VALUE"
# for each OUTKEY=KEY pair given before -- (OUTKEY: a "key value" line of CMD).
measure() {
  local run=$1; shift
  local pairs=()
  while [[ $1 != -- ]]; do pairs+=("$1"); shift; done
  shift
  local out rc=0
  out=$(MOJO_TLS_LIBRARY="$DIST/lib/libmojo_tls.so.1" timeout -k 5 "$T" "$@" 2>"$W/err") || rc=$?
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
    # a key the program did not print (e.g. one only some engines report)
    # is simply not recorded
    if [[ -n $v ]]; then printf '%s %s %s\n' "$name" "$run" "$v" >>"$RES"; fi
  done
  return 0
}

# The drivers' modes for a list of engines (BIN names; missing ones are
# skipped). PFX is "" for the bundled backend's rows, "sys." for the system's.
# TLS13 is 0 or 1; the measure names get a "13" for TLS 1.3 (bulk13, hs13).
# engines RUN PFX NAMES...: the names that have a driver, in the given order
# on odd runs and reversed on even ones (a drift in the machine's load then
# does not always favour the same side of a pair).
engines() {
  local r=$1 pfx=$2 e out=(); shift 2
  for e in "$@"; do [[ -n ${BIN[$pfx$e]:-} ]] && out+=("$e"); done
  if ((r % 2 == 0)); then
    for ((e = ${#out[@]} - 1; e >= 0; e--)); do printf '%s ' "${out[$e]}"; done
  else
    printf '%s ' "${out[@]}"
  fi
}
measure_bulk() { # run pfx tls13 suite engines...
  local r=$1 pfx=$2 v=$3 suite=$4 e m=bulk; shift 4
  ((v)) && m=bulk13
  for e in $(engines "$r" "$pfx" "$@"); do
    measure "$r" bulk_MBps="$pfx$m.$suite.$e" bulk_cpu_s_per_GiB="$pfx${m/bulk/bulkcpu}.$suite.$e" \
      record_layer_fallback_ok="${pfx}layer_ok.$m.$suite.$e" -- \
      "${BIN[$pfx$e]}" "${CERTS[@]}" "$suite" "$v" bulk "$BYTES"
  done
}
measure_hs() { # run pfx tls13 engines... (HS_KINDS: "full resumed" unless set)
  local r=$1 pfx=$2 v=$3 kind e m=hs; shift 3
  ((v)) && m=hs13
  for kind in ${HS_KINDS:-full resumed}; do
    for e in $(engines "$r" "$pfx" "$@"); do
      measure "$r" hs_per_s="$pfx$m.$kind.$e" server_cpu_us="$pfx${m/hs/hscpu}.$kind.$e" \
        client_cpu_us="$pfx${m/hs/hsclcpu}.$kind.$e" -- \
        "${BIN[$pfx$e]}" "${CERTS[@]}" aes128gcm "$v" hs "$kind" "$HS_SECONDS"
    done
  done
}
measure_mem() { # run pfx tls13 engines...
  local r=$1 pfx=$2 v=$3 e m=mem; shift 3
  ((v)) && m=mem13
  for e in $(engines "$r" "$pfx" "$@"); do
    measure "$r" mem_server_B="${pfx}$m.server.$e" mem_client_B="${pfx}$m.client.$e" -- \
      "${BIN[$pfx$e]}" "${CERTS[@]}" aes128gcm "$v" mem "$MEM_CONNS"
  done
}

# OpenSSL is the same library for both backends: for the system rows it is
# registered again under "sys." and measured again, next to its pair.
BIN[sys.openssl]=${BIN[openssl]}

for ((r = 1; r <= RUNS; r++)); do
  if want bundled; then
    say "run $r of $RUNS: bundled backend (bulk $((BYTES / 1048576)) MiB)"
    for suite in aes128gcm chacha20; do
      measure_bulk "$r" "" 0 "$suite" fast mojo raw openssl
    done
    for k in $( ((r % 2)) && echo mojo stdlib || echo stdlib mojo); do
      measure "$r" bulk_MBps="py.$k" -- "${PY[@]}" bulk "$k" "$BYTES" "${CERTS[@]}" aes128gcm
    done
    for k in $( ((r % 2)) && echo mojo stdlib || echo stdlib mojo); do
      measure "$r" hs_per_s="pyhs.$k" client_cpu_us="pyhscpu.$k" -- \
        "${PY[@]}" hs "$k" "$HS_SECONDS" "${CERTS[@]}"
    done
    # Each engine once per kind and run, its pair back to back: full
    # handshakes also with Mbed TLS's own ECC, TLS 1.3 resumption also
    # with the psk_ke opt-in.
    for v in 0 1; do
      HS_KINDS=full measure_hs "$r" "" "$v" mojo unhooked openssl
      HS_KINDS=resumed measure_hs "$r" "" "$v" mojo $( ((v)) && echo pskke) openssl
    done
    measure_mem "$r" "" 0 fast mojo raw openssl
    for e in $( ((r % 2)) && echo mojo openssl || echo openssl mojo); do
      if [[ $e == mojo ]]; then
        measure "$r" hs_per_s=dtls_hs.mojo -- "$W/dtls-hs" "$W/ca.pem" "$W/cert.pem" "$W/key.pem" "$HS_SECONDS"
      else
        measure "$r" hs_per_s=dtls_hs.openssl -- benches/dtls_hs_openssl.sh "$W/dtls-hs" \
          "$W/ca.pem" "$W/cert.pem" "$W/key.pem" "$HS_SECONDS"
      fi
    done
    for e in $( ((r % 2)) && echo mojo openssl || echo openssl mojo); do
      measure "$r" dgram_per_s="dtls_echo.$e" MBps="dtls_echo_MBps.$e" lost="dtls_echo_lost.$e" -- \
        "$W/dtls-echo-$e" "${CERTS[@]}" "$DTLS_COUNT" 1200
    done
    for n in 1 16 256; do
      for e in $(engines "$r" "" fast mojo openssl); do
        measure "$r" conc_MBps="conc.$n.$e" -- "${BIN[$e]}" "${CERTS[@]}" aes128gcm 0 conc "$n" "$CONC_BYTES"
      done
    done
    measure "$r" ffi_ns=ffi.c -- "${BIN[mojo]}" "${CERTS[@]}" aes128gcm 0 ffi "$FFI_ITERS_C"
    if [[ -n ${BIN[raw]:-} ]]; then
      measure "$r" ffi_ns=ffi.c_raw -- "${BIN[raw]}" "${CERTS[@]}" aes128gcm 0 ffi "$FFI_ITERS_C"
    fi
    measure "$r" ffi_ns=ffi.python -- "${PY[@]}" ffi "$FFI_ITERS_SCRIPT" "${CERTS[@]}"
    if [[ -n $MOJO_BIN ]]; then measure "$r" ffi_ns=ffi.mojo -- "$MOJO_BIN" "$FFI_ITERS_SCRIPT"; fi
    if [[ -n $MOJO_BULK_BIN ]]; then
      measure "$r" raw_MiBps=mojo.bulk.raw tls_MiBps=mojo.bulk.tls -- "$MOJO_BULK_BIN" "$MOJO_BYTES"
    fi
    if [[ -n $JANET ]]; then measure "$r" ffi_ns=ffi.janet -- "$JANET" benches/ffi.janet "$FFI_ITERS_SCRIPT"; fi
    if [[ -n $JANET ]]; then
      measure "$r" net_MiBps=janet.bulk.net tls_MiBps=janet.bulk.tls -- "$JANET" benches/bulk.janet bulk "$JANET_BYTES"
      measure "$r" stall_ms=janet.stall_ms hs_s=janet.hs50_s -- "$JANET" benches/bulk.janet stall 50
    fi
  fi
  if want system; then
    say "run $r of $RUNS: system backend ($SYS_BACKEND)"
    for v in 0 1; do
      for suite in aes128gcm chacha20; do
        measure_bulk "$r" sys. "$v" "$suite" fast mojo raw openssl
      done
    done
    measure_hs "$r" sys. 0 mojo raw openssl
    measure_hs "$r" sys. 1 mojo raw openssl
    # OpenSSL's figure is the bundled rows' (same program, same settings)
    # when those ran; memory is not time-dependent.
    if want bundled; then measure_mem "$r" sys. 0 fast mojo raw; else measure_mem "$r" sys. 0 fast mojo raw openssl; fi
    measure_mem "$r" sys. 1 fast mojo raw openssl
  fi
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(($(date +%s) - T_START))

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
  if want bundled; then
    echo "python=$("$VENV/bin/python" -c 'import sys, ssl; print(sys.version.split()[0], "/", ssl.OPENSSL_VERSION)')"
    echo "mojo=$([[ -n $MOJO_BIN ]] && "$MOJO" --version 2>/dev/null | head -1 || echo 'not installed')"
    echo "janet=$([[ -n $JANET ]] && "$JANET" -v || echo 'not built')"
  fi
  echo "backend=$BACKEND"
  echo "sys_backend=$SYS_BACKEND"
  echo "bytes=$BYTES"
  echo "conc_bytes=$CONC_BYTES"
  echo "hs_seconds=$HS_SECONDS"
  echo "mem_conns=$MEM_CONNS"
  echo "dtls_count=$DTLS_COUNT"
  echo "runs=$RUNS"
  echo "load=$LOAD_START (start), $LOAD_END (end)"
  echo "elapsed=$((ELAPSED / 60)) min $((ELAPSED % 60)) s"
  echo "quick=${BENCH_QUICK:-}"
} >"$META"

DOC=docs/BENCHMARKS.md
[[ -n ${BENCH_NO_DOC:-} ]] && DOC=""
python3 benches/report.py "$RES" "$META" ${DOC:+"$DOC"}
if ((FAILS)); then
  note "$FAILS measurement(s) failed (see above)"
  exit 1
fi
