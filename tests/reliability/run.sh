#!/usr/bin/env bash
# tests/reliability/run.sh — reliability and security suites (issue 9).
#
# usage: tests/reliability/run.sh [suite ...]
#   suites (default: all, in this order):
#     certs     negative-certificate matrix (cert_matrix.py)
#     badinput  bad-input sweep over every header function (bad_input.py),
#               plus a self-test of its crash isolation
#     hostile   hostile and faulty peers (hostile_peers.py)
#     panic     panic boundary via the `test-hooks` debug build (panic_hook.sh)
#     load      200 concurrent connections, C threads + Python asyncio (load.sh)
#     fuzz      every fuzz target for a few seconds (fuzz/run.sh)
#     valgrind  valgrind over a Python memory-mode + loopback script (valgrind_py.sh)
#     asan      the C harness (tests/c) built with AddressSanitizer (asan.sh)
# env: MOJO_TLS_DIST (default <repo>/dist), MOJO_TLS_FUZZ_SECONDS (default 4),
#      MOJO_TLS_RELIABILITY_SKIP="fuzz asan" (suites to skip)
#
# Runs against whatever dist/ holds (bundled or system backend). Each suite
# prints its own "N passed, N failed"; this script sums them and prints
# exactly "N passed, N failed" as its last line. Exits non-zero on failure.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root" || exit 2

dist="${MOJO_TLS_DIST:-$root/dist}"
dist="$(cd "$dist" 2>/dev/null && pwd || echo "$dist")"
export MOJO_TLS_DIST="$dist"
if [ ! -f "$dist/include/mojo_tls.h" ] || ! ls "$dist"/lib/libmojo_tls.* >/dev/null 2>&1; then
    echo "error: $dist is missing or incomplete: run ./build.sh first" >&2
    echo "0 passed, 1 failed"
    exit 2
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "error: python3 is required" >&2
    echo "0 passed, 1 failed"
    exit 2
fi

all=(certs badinput hostile panic load fuzz valgrind asan)
if [ $# -gt 0 ]; then sel=("$@"); else sel=("${all[@]}"); fi
skip=" ${MOJO_TLS_RELIABILITY_SKIP:-} "

out="$root/target/reliability"
mkdir -p "$out"
passed=0
failed=0
summary=()

# run_suite name limit_seconds cmd... — output shown and logged; the suite's
# last "N passed, N failed" line is added to the totals (a suite that dies
# without one counts as one failure).
run_suite() {
    local name=$1 limit=$2
    shift 2
    local log="$out/$name.log" t0 t1 rc p f
    echo "==> reliability: $name"
    t0=$(date +%s)
    timeout -k 10 "$limit" "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    t1=$(date +%s)
    read -r p f < <(tail -n 5 "$log" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1 \2/p' | tail -n 1)
    if [ -z "${p:-}" ]; then
        p=0
        f=1
        [ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "  $name: timed out after ${limit}s"
        echo "  $name: no result line (exit $rc)"
    elif [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "  $name: exit $rc despite 0 failures"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    summary+=("$(printf '%-9s %4d passed, %3d failed  (%ss)' "$name" "$p" "$f" "$((t1 - t0))")")
}

for s in "${sel[@]}"; do
    if [[ "$skip" == *" $s "* ]]; then
        echo "==> reliability: $s (skipped by MOJO_TLS_RELIABILITY_SKIP)"
        continue
    fi
    case "$s" in
        certs) run_suite certs 300 python3 "$here/cert_matrix.py" ;;
        badinput)
            run_suite badinput 700 python3 "$here/bad_input.py"
            run_suite selftest 700 python3 "$here/bad_input.py" --selftest ;;
        hostile) run_suite hostile 400 python3 "$here/hostile_peers.py" ;;
        panic) run_suite panic 1200 bash "$here/panic_hook.sh" ;;
        load) run_suite load 400 bash "$here/load.sh" ;;
        fuzz) run_suite fuzz 1500 bash "$root/fuzz/run.sh" --smoke "${MOJO_TLS_FUZZ_SECONDS:-4}" ;;
        valgrind) run_suite valgrind 900 bash "$here/valgrind_py.sh" ;;
        asan) run_suite asan 900 bash "$here/asan.sh" ;;
        *) echo "unknown suite: $s (known: ${all[*]})" >&2; failed=$((failed + 1)) ;;
    esac
done

echo
echo "reliability summary:"
for l in "${summary[@]}"; do echo "  $l"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
