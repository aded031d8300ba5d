#!/usr/bin/env bash
# Panic boundary test (tests/reliability): builds the library with the
# debug-only cargo feature `test-hooks` in its own target directory
# (target/reliability-hooks), checks the shipped dist/ library and header do
# NOT have the hooks, then runs panic_hook.c (dlsym, also under valgrind when
# installed) and panic_hook.py against the hooks build.
# Prints "N passed, N failed" last; exits non-zero on failure.
# env: MOJO_TLS_HOOKS_FEATURES (cargo features besides test-hooks; default:
#      "system" with --no-default-features when dist/ holds the system backend,
#      which also needs MBEDTLS_DIR as for ./build.sh)
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root" || exit 2
dist="${MOJO_TLS_DIST:-$root/dist}"
hooks_target="$root/target/reliability-hooks"
out="$root/target/reliability"
mkdir -p "$out"
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS  $*"; }
ko() { failed=$((failed + 1)); echo "FAIL  $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# 1. the shipped library and header have no hooks
lib=$(ls "$dist"/lib/libmojo_tls.so.* "$dist"/lib/libmojo_tls.*.dylib 2>/dev/null | head -n 1)
if [ -z "$lib" ]; then ko "no library in $dist/lib"; finish; fi
if nm -D --defined-only "$lib" 2>/dev/null | grep -q mojo_tls_debug_; then
    ko "the shipped library exports test hooks (built with --features test-hooks?)"
else
    ok "dist library exports no mojo_tls_debug_* hooks"
fi
if grep -q mojo_tls_debug_ "$dist/include/mojo_tls.h" include/mojo_tls.h; then
    ko "a header declares the test hooks"
else
    ok "headers declare no test hooks"
fi

# 2. build the hooks library, same backend as dist/
backend=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import rtlib; print(rtlib.backend())' "$here" 2>/dev/null)
if [ -n "${MOJO_TLS_HOOKS_FEATURES+x}" ]; then
    feat_args=(--features "test-hooks${MOJO_TLS_HOOKS_FEATURES:+,$MOJO_TLS_HOOKS_FEATURES}")
    [ -n "$MOJO_TLS_HOOKS_FEATURES" ] && feat_args=(--no-default-features "${feat_args[@]}")
elif [[ "$backend" == *bundled* ]]; then
    feat_args=(--features test-hooks)
else
    # the system backend: Mbed TLS at MBEDTLS_DIR, as ./build.sh builds it
    if [ -z "${MBEDTLS_DIR:-}" ]; then
        ko "dist/ holds the system backend ($backend): set MBEDTLS_DIR to its prefix to build the hooks"
        finish
    fi
    feat_args=(--no-default-features --features system,test-hooks)
    hooks_target="$root/target/reliability-hooks-system"
fi
echo "backend of dist/: $backend; building with: ${feat_args[*]}"
t0=$(date +%s)
if ! cargo build --release "${feat_args[@]}" --target-dir "$hooks_target" >"$out/hooks-build.log" 2>&1; then
    tail -n 30 "$out/hooks-build.log"
    ko "cargo build --release ${feat_args[*]} (log: target/reliability/hooks-build.log)"
    finish
fi
# a private lib dir with the SONAME the test programs are linked against
hooks_dir="$out/hooks-lib"
rm -rf "$hooks_dir"
mkdir -p "$hooks_dir"
if [ -e "$hooks_target/release/libmojo_tls.so" ]; then
    cp "$hooks_target/release/libmojo_tls.so" "$hooks_dir/libmojo_tls.so.1"
    ln -s libmojo_tls.so.1 "$hooks_dir/libmojo_tls.so"
    hooks_lib="$hooks_dir/libmojo_tls.so.1"
else
    cp "$hooks_target/release/libmojo_tls.dylib" "$hooks_dir/libmojo_tls.1.dylib"
    ln -s libmojo_tls.1.dylib "$hooks_dir/libmojo_tls.dylib"
    hooks_lib="$hooks_dir/libmojo_tls.1.dylib"
fi
ok "test-hooks build ($(( $(date +%s) - t0 ))s)"
# Rust prints each caught panic on stderr (expected here); no backtraces, they are slow
export RUST_BACKTRACE=0

# 3. C: dlsym the hooks
exe="$out/panic_hook"
if ! cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -I "$dist/include" \
        -o "$exe" "$here/panic_hook.c" -L "$(dirname "$hooks_lib")" -lmojo_tls -lpthread -ldl \
        -Wl,-rpath,"$(dirname "$hooks_lib")" >"$out/panic_hook.build.log" 2>&1; then
    cat "$out/panic_hook.build.log"
    ko "compile panic_hook.c"
    finish
fi
# the hooks are called as the code under test: the Rust panic messages on stderr are expected
if timeout -k 5 120 "$exe" >"$out/panic_hook.log" 2>"$out/panic_hook.stderr"; then
    ok "C: forced panics -> MOJO_TLS_ERR_INTERNAL, process survives ($(grep -c panicked "$out/panic_hook.stderr") panics)"
    grep -E '^(backend|last_error|[0-9]+ panics)' "$out/panic_hook.log" | sed 's/^/      /'
else
    rc=$?
    cat "$out/panic_hook.log"
    tail -n 20 "$out/panic_hook.stderr"
    ko "C: panic_hook exited with $rc (an abort here means a panic crossed the ABI)"
fi
if command -v valgrind >/dev/null 2>&1; then
    if MOJO_TLS_TEST_SLOW=10 timeout -k 5 600 valgrind -q --leak-check=full --show-leak-kinds=definite \
            --errors-for-leak-kinds=definite --error-exitcode=99 \
            --suppressions="$root/tests/c/valgrind.supp" "$exe" >"$out/panic_hook.vg.log" 2>&1; then
        ok "C under valgrind: no invalid access, no definite leak across unwinding"
    else
        grep -v panicked "$out/panic_hook.vg.log" | tail -n 40
        ko "C under valgrind (log: target/reliability/panic_hook.vg.log)"
    fi
fi

# 4. Python
if MOJO_TLS_RELIABILITY_LIBRARY="$hooks_lib" timeout -k 5 120 python3 "$here/panic_hook.py" \
        >"$out/panic_hook.py.log" 2>"$out/panic_hook.py.stderr"; then
    ok "Python: $(grep -c '^PASS' "$out/panic_hook.py.log") checks"
    grep -E '^(PASS|XFAIL)' "$out/panic_hook.py.log" | sed 's/^/      /'
else
    cat "$out/panic_hook.py.log"
    tail -n 20 "$out/panic_hook.py.stderr"
    ko "Python panic hooks"
fi
finish
