#!/usr/bin/env bash
# Compat layer tests (the original mojo-tls C shim API), against dist/.
#
#   0. the headers: dist/include/mojo_tls_compat.h declares the compat API,
#      dist/include/mojo_tls.h none of it (and compiles as C and C++);
#   1. compat_echo.c (includes mojo_tls_compat.h): built against dist/include
#      + dist/lib, run;
#   2. the same binary under valgrind (no invalid accesses, no definite leaks);
#   3. compat_client.py: the client side through Python ctypes.
# Everything runs on 127.0.0.1 only, each step bounded by `timeout`.
#
# usage: tests/compat/run.sh [--no-valgrind]
# env: CC (default cc), PYTHON (default python3), MOJO_TLS_DIST (default
#      <repo>/dist), MOJO_TLS_TEST_TIMEOUT (default 60),
#      MOJO_TLS_VALGRIND_TIMEOUT (default 300)
#
# Prints one line per step, then exactly "N passed, N failed"; exits
# non-zero if anything failed.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root" || exit 2

use_valgrind=1
for a in "$@"; do
    case "$a" in
        --no-valgrind) use_valgrind=0 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done

dist="${MOJO_TLS_DIST:-$root/dist}"
dist="$(cd "$dist" 2>/dev/null && pwd || echo "$dist")"
case "$(uname -s)" in
    Darwin) libname=libmojo_tls.dylib ;;
    *) libname=libmojo_tls.so ;;
esac
if [ ! -f "$dist/include/mojo_tls.h" ] || [ ! -e "$dist/lib/$libname" ]; then
    echo "error: $dist is missing or incomplete: run ./build.sh first" >&2
    echo "0 passed, 1 failed"
    exit 2
fi

CC="${CC:-cc}"
PYTHON="${PYTHON:-python3}"
t_plain="${MOJO_TLS_TEST_TIMEOUT:-60}"
t_vg="${MOJO_TLS_VALGRIND_TIMEOUT:-300}"
out="$root/target/compat-tests"
mkdir -p "$out"

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'PASS  %-28s %s\n' "$1" "$2"; }
fail() {
    failed=$((failed + 1))
    printf 'FAIL  %-28s %s\n' "$1" "$2"
    if [ -n "${3:-}" ] && [ -f "$3" ]; then
        echo "----- last lines of $(basename "$3") -----"
        tail -n 40 "$3"
        echo "-----"
    fi
}

# label limit log cmd...
run_step() {
    local label=$1 limit=$2 log=$3 rc
    shift 3
    timeout -k 10 "$limit" "$@" >"$log" 2>&1
    rc=$?
    case $rc in
        0) pass "$label" "ok" ;;
        124|137) fail "$label" "timed out after ${limit}s" "$log" ;;
        99) fail "$label" "valgrind reported errors or definite leaks" "$log" ;;
        *) fail "$label" "exit $rc" "$log" ;;
    esac
}

# --- headers ----------------------------------------------------------------
decls() { "$CC" -E -P -x c "$1" | grep -o '\bmojo_tls_[A-Za-z0-9_]*[[:space:]]*(' | sed 's/[[:space:]]*($//' | sort -u; }
hdr_log="$out/headers.log"
{
    ok=1
    compat_fns=$(cd "$dist/include" && decls mojo_tls_compat.h | comm -23 - <(decls mojo_tls.h))
    n=$(grep -c . <<<"$compat_fns" || true)
    echo "compat functions (declared by mojo_tls_compat.h only): $n"
    [ "$n" -ge 50 ] || { echo "too few compat functions"; ok=0; }
    for f in mojo_tls_sizeof_ssl_context mojo_tls_alloc mojo_tls_free mojo_tls_ssl_handshake \
             mojo_tls_net_connect mojo_tls_x509_crt_parse mojo_tls_pk_parse_key mojo_tls_get_net_send_ptr; do
        grep -qx "$f" <<<"$compat_fns" || { echo "mojo_tls_compat.h lacks $f"; ok=0; }
    done
    if grep -Eq 'MOJO_TLS_(IS_CLIENT|IS_SERVER|PRESET_DEFAULT|NET_PROTO_TCP|VERSION_UNKNOWN)\b' "$dist/include/mojo_tls.h"; then
        echo "mojo_tls.h still defines compat constants"; ok=0
    fi
    for lang in c c++; do
        printf '#include "mojo_tls_compat.h"\nint main(void) { return MOJO_TLS_IS_CLIENT + MOJO_TLS_VERIFY_NONE; }\n' |
            "$CC" -x "$lang" -Wall -Werror -fsyntax-only -I "$dist/include" - || { echo "mojo_tls_compat.h does not compile as $lang"; ok=0; }
    done
    [ $ok = 1 ]
} >"$hdr_log" 2>&1
if [ $? = 0 ]; then pass "headers split" "$(head -1 "$hdr_log")"; else fail "headers split" "see log" "$hdr_log"; fi

# --- build ------------------------------------------------------------------
bin="$out/compat_echo"
built=0
if "$CC" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -I "$dist/include" \
    -o "$bin" "$here/compat_echo.c" \
    -L "$dist/lib" -lmojo_tls -lpthread -Wl,-rpath,"$dist/lib" >"$out/build.log" 2>&1; then
    built=1
    pass "build compat_echo" "ok"
else
    fail "build compat_echo" "compiler error" "$out/build.log"
fi

# --- C ----------------------------------------------------------------------
if [ $built = 1 ]; then
    run_step "compat_echo" "$t_plain" "$out/compat_echo.log" "$bin"
    if [ $use_valgrind = 1 ]; then
        if command -v valgrind >/dev/null 2>&1; then
            run_step "valgrind compat_echo" "$t_vg" "$out/compat_echo.valgrind.log" \
                valgrind --leak-check=full --show-leak-kinds=definite \
                --errors-for-leak-kinds=definite --error-exitcode=99 -q "$bin"
        else
            fail "valgrind compat_echo" "valgrind not installed (or pass --no-valgrind)"
        fi
    else
        echo "(valgrind run skipped)"
    fi
fi

# --- Python -----------------------------------------------------------------
if command -v "$PYTHON" >/dev/null 2>&1; then
    run_step "compat_client.py" "$t_plain" "$out/compat_client.log" \
        "$PYTHON" "$here/compat_client.py" "$dist/lib/$libname"
else
    fail "compat_client.py" "$PYTHON not found"
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
