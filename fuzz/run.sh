#!/usr/bin/env bash
# fuzz/run.sh — build and run the mojo-tls fuzz targets (libFuzzer through
# cargo-fuzz, stable toolchain, `--sanitizer none`).
#
# usage: fuzz/run.sh [--smoke] [SECONDS] [target ...]
#   SECONDS  per target (default 60; 4 with --smoke)
#   --smoke  a quick pass for ./build.sh test: fresh copy of the seed corpus,
#            nothing kept; without it the working corpus in
#            target/fuzz-corpus/<target> grows from run to run
#   targets  handshake_client handshake_server loaders api_sequence record_open
#            dtls_datagrams
#            (default: all)
#
# Installs cargo-fuzz (cargo install) when missing. When clang is available
# the C code (Mbed TLS, ring) is built with -fsanitize=fuzzer-no-link, so
# libFuzzer sees its coverage too. Builds into target/fuzz (the repository's
# target/), the same backend as dist/ (MOJO_TLS_FUZZ_FEATURES overrides:
# e.g. "mojo-tls/system" builds --no-default-features with it; the system
# backend needs MBEDTLS_DIR, as for ./build.sh). Crashes are
# written to target/fuzz-artifacts/ with the command that reproduces them.
# Prints one line per target, then "N passed, N failed"; exits non-zero if a
# target crashed or failed to build.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$here" || exit 2

smoke=0
secs=""
targets=()
for a in "$@"; do
    case "$a" in
        --smoke) smoke=1 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        [0-9]*) secs=$a ;;
        *) targets+=("$a") ;;
    esac
done
[ -n "$secs" ] || { [ $smoke = 1 ] && secs=4 || secs=60; }
[ ${#targets[@]} -gt 0 ] || targets=(handshake_client handshake_server loaders api_sequence record_open dtls_datagrams)

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS  $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# --- tools ---------------------------------------------------------------------
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz (cargo install cargo-fuzz --locked)"
    if ! cargo install cargo-fuzz --locked >"$root/target/cargo-fuzz-install.log" 2>&1; then
        tail -n 20 "$root/target/cargo-fuzz-install.log"
        fail "cargo install cargo-fuzz"
        finish
    fi
fi
if ! command -v c++ >/dev/null 2>&1 && ! command -v clang++ >/dev/null 2>&1; then
    fail "no C++ compiler: libfuzzer-sys builds libFuzzer from C++ sources"
    finish
fi

# --- build -----------------------------------------------------------------------
feat_args=()
if [ -n "${MOJO_TLS_FUZZ_FEATURES:-}" ]; then
    feat_args=(--no-default-features --features "$MOJO_TLS_FUZZ_FEATURES")
elif [ -f "$root/tests/reliability/rtlib.py" ] && [ -d "${MOJO_TLS_DIST:-$root/dist}/lib" ]; then
    backend=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import rtlib; print(rtlib.backend())' \
        "$root/tests/reliability" 2>/dev/null || true)
    if [ -n "$backend" ] && [[ "$backend" != *bundled* ]]; then
        feat_args=(--no-default-features --features mojo-tls/system)
        if [ -z "${MBEDTLS_DIR:-}" ]; then
            fail "dist/ holds the system backend ($backend): set MBEDTLS_DIR to its prefix (as for ./build.sh)"
            finish
        fi
    fi
fi
if command -v clang >/dev/null 2>&1; then
    export CC=clang CFLAGS="${CFLAGS:+$CFLAGS }-fsanitize=fuzzer-no-link"
    tdir="$root/target/fuzz"
    [ ${#feat_args[@]} -gt 0 ] && tdir="$root/target/fuzz-system"
    cinst="C code instrumented (clang)"
else
    tdir="$root/target/fuzz-noclang"
    [ ${#feat_args[@]} -gt 0 ] && tdir="$root/target/fuzz-noclang-system"
    cinst="C code not instrumented (no clang)"
fi
mkdir -p "$root/target"
log="$root/target/fuzz-build.log"
t0=$(date +%s)
if ! cargo fuzz build --sanitizer none --target-dir "$tdir" "${feat_args[@]}" >"$log" 2>&1; then
    tail -n 30 "$log"
    fail "cargo fuzz build --sanitizer none ${feat_args[*]} (log: target/fuzz-build.log)"
    finish
fi
echo "built ${#targets[@]} targets in $(( $(date +%s) - t0 ))s ($cinst${feat_args[*]:+; ${feat_args[*]}})"
# run the built binaries directly (cargo fuzz run would re-check the build for every target)
host=$(rustc -vV | sed -n 's/^host: //p')
bin="$tdir/$host/release"

# --- run -------------------------------------------------------------------------
art="$root/target/fuzz-artifacts"
mkdir -p "$art"
tmp=""
if [ $smoke = 1 ]; then
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/mojo-tls-fuzz.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
fi
export RUST_BACKTRACE=0
for t in "${targets[@]}"; do
    if [ ! -f "fuzz_targets/$t.rs" ]; then
        fail "$t: no such target (fuzz_targets/$t.rs)"
        continue
    fi
    if [ $smoke = 1 ]; then work="$tmp/$t"; else work="$root/target/fuzz-corpus/$t"; fi
    mkdir -p "$work" "corpus/$t"
    rlog="$root/target/fuzz-$t.log"
    # -timeout: one input taking > 20 s is a hang; -rss_limit_mb: a leak or blow-up
    if [ ! -x "$bin/$t" ]; then
        fail "$t: $bin/$t was not built"
        continue
    fi
    timeout -k 10 $((secs + 120)) "$bin/$t" "$work" "corpus/$t" -max_total_time="$secs" -timeout=20 \
        -rss_limit_mb=2048 -artifact_prefix="$art/$t-" -print_final_stats=1 >"$rlog" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$rlog" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$rlog" | tail -n 1)
    if [ $rc -eq 0 ]; then
        pass "$t: ${runs:-?} runs in ${secs}s, $cov, corpus $(ls "$work" | wc -l) inputs"
    else
        grep -E 'panicked|ERROR|SUMMARY|Test unit written|Running:|MOJO_TLS_ERR' "$rlog" | head -n 12
        crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$rlog" | tail -n 1)
        fail "$t: exit $rc (log: target/fuzz-$t.log)${crash:+; reproduce: $bin/$t $crash}"
    fi
done
finish
