#!/usr/bin/env bash
# ThreadSanitizer run of the concurrency stress test (tests/threads_stress.rs:
# 8 threads x MOJO_TLS_STRESS_HANDSHAKES full TLS 1.3 handshakes on shared
# configurations, default 300 here) with everything instrumented: the Rust
# standard library (-Zbuild-std, so TSan sees std's futex-based locks and
# atomics), this crate, and the bundled Mbed TLS C code (-fsanitize=thread
# added to the C flags .cargo/config.toml sets).
#
# valgrind's helgrind and DRD only understand pthread locks, so they report
# every hand-over done through Rust's Mutex/Arc/Once as a race; TSan is the
# race detector that sees both languages. Needs a nightly toolchain with
# rust-src (installed with rustup when missing) and about 10 minutes on two
# cores, so it runs on demand (`./build.sh tsan`), not in `./build.sh test`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
toolchain=${MOJO_TLS_TSAN_TOOLCHAIN:-nightly}
target=x86_64-unknown-linux-gnu
if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    rustup toolchain install "$toolchain" --profile minimal
fi
rustup component add rust-src --toolchain "$toolchain" >/dev/null 2>&1 || true

# The engine's C flags from .cargo/config.toml, plus TSan's.
cflags="$(python3 -c 'import tomllib; print(tomllib.load(open(".cargo/config.toml", "rb"))["env"]["CFLAGS_x86_64_unknown_linux_gnu"]["value"])') -fsanitize=thread -g"
export RUSTFLAGS="-Zsanitizer=thread -Cdebuginfo=1"
export CARGO_TARGET_DIR="$root/target/tsan"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:exitcode=66:suppressions=$root/tests/reliability/tsan.supp"
# mbedtls-rs-sys's build script does not watch the C flags: rebuild it
# when they change.
stamp="$CARGO_TARGET_DIR/mbedtls-cflags"
if [ "$(cat "$stamp" 2>/dev/null)" != "$cflags" ]; then
    cargo "+$toolchain" clean -p mbedtls-rs-sys --target "$target" >/dev/null 2>&1 || true
    mkdir -p "$CARGO_TARGET_DIR"
    printf '%s' "$cflags" >"$stamp"
fi
export MOJO_TLS_STRESS_HANDSHAKES=${MOJO_TLS_STRESS_HANDSHAKES:-300}
echo "ThreadSanitizer: 8 threads x $MOJO_TLS_STRESS_HANDSHAKES full TLS 1.3 handshakes ($toolchain)"
cargo "+$toolchain" test -Zbuild-std --target "$target" --test threads_stress \
    --config "env.CFLAGS_x86_64_unknown_linux_gnu.value=\"$cflags\"" \
    --config "env.CFLAGS_x86_64_unknown_linux_gnu.force=true" \
    -- --nocapture
echo "ThreadSanitizer: no data race reported"
