#!/usr/bin/env bash
# C test harness for libmojo_tls.
#
# Builds every tests/c/test_*.c against dist/ (run ./build.sh first), runs
# each one with a hard time limit, then runs the whole set again under
# valgrind (no invalid accesses, 0 bytes definitely lost).
#
# usage: tests/c/run.sh [--no-valgrind] [test_name ...]
#   test_name   run only these (e.g. test_memory); default: all
#   --no-valgrind  skip the valgrind pass (also: MOJO_TLS_NO_VALGRIND=1)
# env: CC (default cc), MOJO_TLS_TEST_TIMEOUT (default 60),
#      MOJO_TLS_VALGRIND_TIMEOUT (default 300),
#      MOJO_TLS_DIST (default <repo>/dist: a tree with include/ and lib/)
#
# Prints one line per test and run, then exactly "N passed, N failed".
# Exits non-zero if anything failed (including a build failure).
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root" || exit 2

use_valgrind=1
[ "${MOJO_TLS_NO_VALGRIND:-0}" = "1" ] && use_valgrind=0
only=()
for a in "$@"; do
    case "$a" in
        --no-valgrind) use_valgrind=0 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        -*) echo "unknown option: $a" >&2; exit 2 ;;
        *) only+=("${a%.c}") ;;
    esac
done

dist="${MOJO_TLS_DIST:-$root/dist}"
dist="$(cd "$dist" 2>/dev/null && pwd || echo "$dist")"
incdir="$dist/include"
libdir="$dist/lib"
if [ ! -f "$incdir/mojo_tls.h" ] || [ ! -e "$libdir/libmojo_tls.so" ]; then
    echo "error: $dist is missing or incomplete (need include/mojo_tls.h and lib/libmojo_tls.so)." >&2
    echo "       Build the library first: ./build.sh" >&2
    echo "0 passed, 1 failed"
    exit 2
fi

CC="${CC:-cc}"
t_plain="${MOJO_TLS_TEST_TIMEOUT:-60}"
t_vg="${MOJO_TLS_VALGRIND_TIMEOUT:-300}"
out="$root/target/c-tests"
mkdir -p "$out"

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'PASS  %-34s %s\n' "$1" "$2"; }
fail() {
    failed=$((failed + 1))
    printf 'FAIL  %-34s %s\n' "$1" "$2"
    if [ -n "${3:-}" ] && [ -f "$3" ]; then
        echo "----- last lines of $(basename "$3") -----"
        tail -n 40 "$3"
        echo "-----"
    fi
}

# exit status -> words
describe() {
    local rc=$1 limit=$2
    case $rc in
        0) echo "ok" ;;
        1) echo "checks failed (exit 1)" ;;
        3) echo "watchdog fired (exit 3)" ;;
        99) echo "valgrind reported errors or definite leaks (exit 99)" ;;
        126|127) echo "could not start (exit $rc: missing binary or shared library)" ;;
        124|137) echo "timed out after ${limit}s" ;;
        *) if [ "$rc" -gt 128 ]; then
               local sig=$((rc - 128))
               echo "killed by signal $sig ($(kill -l "$sig" 2>/dev/null || echo '?'))"
           else
               echo "exit $rc"
           fi ;;
    esac
}

tests=()
for src in "$here"/test_*.c; do
    name="$(basename "$src" .c)"
    if [ ${#only[@]} -gt 0 ]; then
        keep=0
        for o in "${only[@]}"; do [ "$o" = "$name" ] && keep=1; done
        [ $keep = 1 ] || continue
    fi
    tests+=("$name")
done
if [ ${#tests[@]} -eq 0 ]; then
    echo "error: no tests selected" >&2
    echo "0 passed, 1 failed"
    exit 2
fi

# --- build --------------------------------------------------------------
built=()
for name in "${tests[@]}"; do
    log="$out/$name.build.log"
    if "$CC" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -I "$incdir" \
        -o "$out/$name" "$here/$name.c" \
        -L "$libdir" -lmojo_tls -lpthread -Wl,-rpath,"$libdir" >"$log" 2>&1; then
        built+=("$name")
    else
        fail "build $name" "compiler error" "$log"
    fi
done

# --- run ----------------------------------------------------------------
run_one() { # label name limit log cmd...
    local label=$1 name=$2 limit=$3 log=$4
    shift 4
    local t0 t1 rc
    t0=$(date +%s.%N)
    timeout -k 10 "$limit" "$@" >"$log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    local secs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1fs", b - a }')
    if [ $rc -eq 0 ]; then
        pass "$label" "$secs"
    else
        fail "$label" "$(describe $rc "$limit") after $secs" "$log"
    fi
}

for name in "${built[@]}"; do
    run_one "$name" "$name" "$t_plain" "$out/$name.log" "$out/$name"
done

if [ $use_valgrind = 1 ]; then
    if ! command -v valgrind >/dev/null 2>&1; then
        fail "valgrind pass" "valgrind not installed (install it, or pass --no-valgrind)"
    else
        for name in "${built[@]}"; do
            # MOJO_TLS_TEST_SLOW scales watchdogs and upper time bounds only.
            run_one "valgrind $name" "$name" "$t_vg" "$out/$name.valgrind.log" \
                env MOJO_TLS_TEST_SLOW=10 valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --error-exitcode=99 -q \
                --suppressions="$here/valgrind.supp" "$out/$name"
        done
    fi
else
    echo "(valgrind pass skipped)"
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
