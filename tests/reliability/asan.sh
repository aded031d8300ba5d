#!/usr/bin/env bash
# AddressSanitizer (+ UBSan) build of the C harness (tests/c/test_*.c), run
# against the dist/ library (tests/reliability). The test programs are
# instrumented; the library is not, but ASan's allocator and interceptors
# see its heap (double/invalid frees, use-after-free and overflows through
# memcpy & co, and LeakSanitizer finds leaked library allocations at exit).
# Installs clang and the compiler-rt runtime with apt-get when missing (as
# root). Prints one line per test, then "N passed, N failed".
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dist="${MOJO_TLS_DIST:-$root/dist}"
out="$root/target/reliability/asan"
mkdir -p "$out"
passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'PASS  %-28s %s\n' "$1" "$2"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %-28s %s\n' "$1" "$2"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

probe() { # can clang build and run an ASan program?
    printf 'int main(void){return 0;}\n' >"$out/probe.c"
    clang -fsanitize=address,undefined "$out/probe.c" -o "$out/probe" >/dev/null 2>&1 && "$out/probe"
}
if ! command -v clang >/dev/null 2>&1 || ! probe; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing clang and its sanitizer runtime (apt-get)"
        apt-get update -qq >/dev/null 2>&1
        pkgs=(clang)
        v=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
        [ -n "$v" ] && apt-cache show "libclang-rt-$v-dev" >/dev/null 2>&1 && pkgs+=("libclang-rt-$v-dev")
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null 2>&1
        if ! probe; then
            v=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "libclang-rt-$v-dev" >/dev/null 2>&1
        fi
    fi
    if ! probe; then
        fail "asan toolchain" "clang with -fsanitize=address is not available (install clang + libclang-rt-<ver>-dev)"
        finish
    fi
fi

tests=()
for src in "$root"/tests/c/test_*.c; do tests+=("$(basename "$src" .c)"); done
# halt_on_error: the first report fails the test; detect_leaks: LeakSanitizer at exit
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86:detect_stack_use_after_return=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87"
export MOJO_TLS_TEST_SLOW=3
for name in "${tests[@]}"; do
    exe="$out/$name"
    if ! clang -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
            -fno-sanitize-recover=undefined -I "$dist/include" -o "$exe" "$root/tests/c/$name.c" \
            -L "$dist/lib" -lmojo_tls -lpthread -Wl,-rpath,"$dist/lib" >"$out/$name.build.log" 2>&1; then
        fail "$name" "does not build with clang -fsanitize=address,undefined"
        tail -n 15 "$out/$name.build.log"
        continue
    fi
    t0=$(date +%s)
    timeout -k 10 300 "$exe" >"$out/$name.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - t0 ))
    case $rc in
        0) pass "asan $name" "${secs}s" ;;
        86) fail "asan $name" "AddressSanitizer/LeakSanitizer report (log: target/reliability/asan/$name.log)"
            grep -E 'ERROR: (Address|Leak)Sanitizer|SUMMARY|^    #[0-9]+ ' "$out/$name.log" | head -n 30 ;;
        87) fail "asan $name" "UndefinedBehaviorSanitizer report"
            grep -E 'runtime error|^    #[0-9]+ ' "$out/$name.log" | head -n 20 ;;
        124|137) fail "asan $name" "timed out" ;;
        *) fail "asan $name" "exit $rc"
           tail -n 20 "$out/$name.log" ;;
    esac
done
finish
