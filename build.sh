#!/usr/bin/env bash
# build.sh — build, package and test mojo-tls.
#
#   ./build.sh [all]   install missing tools, build the library, regenerate
#                      include/mojo_tls.h, assemble dist/, build examples/c,
#                      run the loopback demo
#   ./build.sh test    fmt + import graph + clippy + cargo test + header
#                      freshness, build dist/
#                      (without regenerating the header), then every test suite
#   ./build.sh test-backend
#                      with MBEDTLS_DIR=<Mbed TLS 3.6 / 4.x prefix>: the
#                      backend-dependent checks and suites against that install
#   ./build.sh header  regenerate include/mojo_tls.h and include/mojo_tls_compat.h only
#   ./build.sh dist    build the library and assemble dist/ only (no header
#                      regeneration, bindings, wheel or examples)
#   ./build.sh bench   benchmarks (benches/run.sh): bundled and system
#                      backends, writes docs/BENCHMARKS.md
#   ./build.sh tsan    ThreadSanitizer run of the concurrency stress test
#                      (tests/reliability/tsan.sh: nightly Rust, ~10 min)
#   ./build.sh fuzz [SECONDS] [target ...]
#                      run the fuzz targets (fuzz/run.sh; default 60 s each)
#   ./build.sh clean   remove build outputs (target/, dist/)
#
# Environment: CARGO_TARGET_DIR is honoured. Test suites get MOJO_TLS_DIST
# (absolute path of dist/) in their environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

ROOT=$(pwd -P)
DIST="${MOJO_TLS_DIST_DIR:-$ROOT/dist}"
OS=$(uname -s)

# Backend: bundled Mbed TLS 3.6 LTS by default; MBEDTLS_DIR=<prefix> selects the
# system backend (Mbed TLS 3.6 / 4.x at that prefix), built in its own
# target directory so both builds stay warm.
CARGO_FEATURES=()
if [[ -n ${MBEDTLS_DIR:-} ]]; then
  MBEDTLS_DIR=$(cd "$MBEDTLS_DIR" && pwd -P)
  export MBEDTLS_DIR
  CARGO_FEATURES=(--no-default-features --features system)
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/system}"
fi
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

# Test suites, run in this order by `./build.sh test` when the script exists.
# Each one is a bash script that exits 0 on success. New suite = one line.
SUITES=(
  tests/bootstrap/run.sh
  tests/symbols.sh
  tests/c/run.sh
  tests/interop/run.sh
  tests/compat/run.sh
  bindings/run_tests.sh
  python/run_tests.sh
  mojo/run_tests.sh
  janet/run_tests.sh
  tests/reliability/run.sh
)

step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Value of a key in the [package] table of the root Cargo.toml.
cargo_package_field() {
  awk -v key="$1" -F'"' '
    /^\[package\][[:space:]]*$/ { in_pkg = 1; next }
    /^\[/                       { in_pkg = 0 }
    in_pkg && $1 ~ "^" key "[[:space:]]*=[[:space:]]*$" { print $2; exit }
  ' Cargo.toml
}

VERSION=$(cargo_package_field version)
[[ -n "$VERSION" ]] || die "cannot read the package version from Cargo.toml"
# The ABI major (SONAME libmojo_tls.so.$SOMAJOR) is MOJO_TLS_ABI_VERSION;
# the library file is libmojo_tls.so.$SOMAJOR.0.0 (its own version, not the
# package's).
SOMAJOR=$(sed -n 's/^pub const MOJO_TLS_ABI_VERSION: i32 = \([0-9]*\);$/\1/p' src/ffi/library.rs)
[[ -n "$SOMAJOR" ]] || die "cannot read MOJO_TLS_ABI_VERSION from src/ffi/library.rs"
DESCRIPTION=$(cargo_package_field description)

# ---------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------

# Provisioning (cmake, libclang, compilers, test tools) lives in one place.
# shellcheck source=tools/bootstrap.sh
source tools/bootstrap.sh

# ---------------------------------------------------------------------------
# Build steps
# ---------------------------------------------------------------------------

# shellcheck disable=SC2120 # called with --check via run_check
headergen() {
  cargo run -q -p mojo-tls-headergen --release -- "$@"
}

generate_header() {
  step "generate include/mojo_tls.h (cbindgen)"
  # shellcheck disable=SC2119
  headergen
}

cargo_build() {
  step "cargo build --release ${CARGO_FEATURES[*]:-}"
  cargo build --release "${CARGO_FEATURES[@]}"
}

# Copies the library, header and pkg-config file into dist/.
assemble_dist() {
  step "assemble dist/ (version $VERSION)"
  [[ -f include/mojo_tls.h ]] || die "include/mojo_tls.h missing: run ./build.sh"
  rm -rf "$DIST"
  mkdir -p "$DIST/include" "$DIST/lib/pkgconfig" "$DIST/bin"
  cp include/mojo_tls.h include/mojo_tls_compat.h "$DIST/include/"

  local rel="$TARGET_DIR/release" real soname link
  if [[ $OS == Darwin ]]; then
    # --- macOS: lib.<abi>.0.0.dylib, lib.<major>.dylib, lib.dylib ---
    real="libmojo_tls.$SOMAJOR.0.0.dylib"
    soname="libmojo_tls.$SOMAJOR.dylib"
    link="libmojo_tls.dylib"
    cp "$rel/libmojo_tls.dylib" "$DIST/lib/$real"
    install_name_tool -id "@rpath/$soname" "$DIST/lib/$real"
    # --- end macOS ---
  else
    real="libmojo_tls.so.$SOMAJOR.0.0"
    soname="libmojo_tls.so.$SOMAJOR"
    link="libmojo_tls.so"
    cp "$rel/libmojo_tls.so" "$DIST/lib/$real"
  fi
  ln -sf "$real" "$DIST/lib/$soname"
  ln -sf "$soname" "$DIST/lib/$link"
  cp "$rel/libmojo_tls.a" "$DIST/lib/"

  cat >"$DIST/lib/pkgconfig/mojo_tls.pc" <<EOF
prefix=$DIST
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: mojo_tls
Description: ${DESCRIPTION:-TLS over Mbed TLS with a flat C ABI}
Version: $VERSION
Libs: -L\${libdir} -lmojo_tls
Libs.private: -lpthread -ldl -lm
Cflags: -I\${includedir}
EOF
  strip_library "$DIST/lib/$real"
  step "licences -> dist/licenses (tools/licenses.py)"
  python3 tools/licenses.py "$DIST/licenses" "${CARGO_FEATURES[@]}"
  sed -e "s/@VERSION@/$VERSION/g" -e "s/@SONAME@/$soname/g" -e "s/@REAL@/$real/g" \
    tools/dist-README.md.in >"$DIST/README.md"
  note "dist/include/mojo_tls.h"
  note "dist/lib/$real ($soname, $link; stripped, debug info in dist/lib/.debug/)"
  note "dist/lib/libmojo_tls.a"
  note "dist/lib/pkgconfig/mojo_tls.pc"
  note "dist/licenses/ (LICENSE, Mbed TLS, Rust crates: THIRD-PARTY.md)"
  note "dist/README.md"
}

# Strips debug info from the shared library (15 MB -> 2 MB) and the static
# one; the shared library's debug info stays in lib/.debug/<name>.debug,
# where gdb and valgrind find it through the debug link.
strip_library() {
  local so=$1 dir debug
  [[ $OS == Darwin ]] && { strip -x "$so"; return; }
  dir=$(dirname "$so")
  debug="$dir/.debug/$(basename "$so").debug"
  mkdir -p "$dir/.debug"
  objcopy --only-keep-debug "$so" "$debug"
  strip --strip-debug --strip-unneeded "$so"
  (cd "$dir" && objcopy --add-gnu-debuglink=".debug/$(basename "$debug")" "$(basename "$so")")
  strip --strip-debug "$dir/libmojo_tls.a"
}

# Builds every examples/c/*.c into dist/bin/<name>, linked against dist/lib.
build_examples() {
  # shellcheck disable=SC2016 # $ORIGIN is for the dynamic linker, not the shell
  local srcs=() src name rpath='$ORIGIN/../lib'
  [[ $OS == Darwin ]] && rpath='@loader_path/../lib'
  if [[ -d examples/c ]]; then
    shopt -s nullglob
    srcs=(examples/c/*.c)
    shopt -u nullglob
  fi
  [[ ${#srcs[@]} -gt 0 ]] || return 0
  step "build examples/c -> dist/bin"
  local broken=()
  for src in "${srcs[@]}"; do
    name=$(basename "$src" .c)
    if cc -O2 -Wall -Wextra -I "$DIST/include" "$src" -o "$DIST/bin/$name" \
      -L "$DIST/lib" -lmojo_tls -Wl,-rpath,"$rpath"; then
      note "dist/bin/$name"
    else
      broken+=("$src")
    fi
  done
  # Build every example before failing, so one broken file does not hide the rest.
  if [[ ${#broken[@]} -gt 0 ]]; then
    printf 'error: failed to compile: %s\n' "${broken[*]}" >&2
    return 1
  fi
}

# Compiles examples/mojo/*.mojo into dist/bin/mojo_<name> (mojo build) when
# Mojo is installed: `mojo` on PATH, or the venv mojo/run_tests.sh installs.
# Skipped with a note otherwise, so the build stays fast without it.
build_mojo_examples() {
  local mojo="" src name pids=() outs=() i rc=0
  # --version: a venv moved with its checkout does not run (mojo/run_tests.sh remakes it).
  if [[ -x "$ROOT/target/mojo-venv/bin/mojo" ]] && "$ROOT/target/mojo-venv/bin/mojo" --version >/dev/null 2>&1; then
    mojo="$ROOT/target/mojo-venv/bin/mojo"
  elif have mojo; then
    mojo=$(command -v mojo)
  fi
  if [[ -z $mojo ]]; then
    step "build examples/mojo: skipped (Mojo not installed; bash mojo/run_tests.sh installs it)"
    return 0
  fi
  step "build examples/mojo -> dist/bin (mojo build)"
  for src in examples/mojo/*.mojo; do
    name="mojo_$(basename "$src" .mojo)"
    PATH="$(dirname "$mojo"):$PATH" "$mojo" build -I "$ROOT/mojo" "$src" -o "$DIST/bin/$name" &
    pids+=($!)
    outs+=("$name")
  done
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then note "dist/bin/${outs[$i]}"; else rc=1; fi
  done
  [[ $rc -eq 0 ]] || die "mojo build failed for examples/mojo"
}

run_demo() {
  [[ -x "$DIST/bin/demo" ]] || return 0
  step "run loopback demo (dist/bin/demo)"
  if have timeout; then
    timeout 120 "$DIST/bin/demo"
  else
    "$DIST/bin/demo"
  fi
}

# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

cmd_all() {
  ensure_tools build
  cargo_build
  generate_header
  step "generate bindings (bindings/generate.py)"; python3 bindings/generate.py
  assemble_dist
  step "python package: library + wheel -> dist/python"; bash python/build_wheel.sh "$DIST"
  step "janet interpreter (janet/tools/build_janet.sh)"; bash janet/tools/build_janet.sh >/dev/null
  build_examples
  build_mojo_examples
  run_demo
  step "done: dist/ ($VERSION)"
}

PASSED=0
FAILED=0
FAILED_NAMES=()

record() { # name rc [reason]
  if [[ $2 -eq 0 ]]; then
    PASSED=$((PASSED + 1))
    note "PASS: $1"
  else
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$1")
    note "FAIL: $1 (${3:-exit $2})"
  fi
}

# Runs one check (a shell function or command) in a subshell with errexit on,
# records the result and never stops the script.
run_check() { # name cmd...
  step "$1"
  run_recorded "$@"
}

# Same without the step line (for commands that print their own).
run_recorded() { # name cmd...
  local name=$1 rc
  shift
  set +e
  (set -e; "$@")
  rc=$?
  set -e
  record "$name" "$rc"
}

cmd_test() {
  ensure_tools test
  export MOJO_TLS_DIST="$DIST"

  run_check "cargo fmt --check" cargo fmt --all -- --check
  run_check "import graph (tools/check_imports.py)" python3 tools/check_imports.py
  run_check "cargo clippy" cargo clippy --release --all-targets "${CARGO_FEATURES[@]}" -- -D warnings
  run_check "cargo test --release" cargo test --release "${CARGO_FEATURES[@]}"
  run_check "header is fresh (headergen --check)" headergen --check

  step "build dist/ (header not regenerated)"
  local build_rc=0 suite rc
  set +e
  (set -e; cargo_build; assemble_dist)
  build_rc=$?
  set -e
  if [[ $build_rc -ne 0 ]]; then
    record "build dist" "$build_rc"
  elif [[ -d examples/c ]]; then
    # Counted on its own so a broken example does not hide the suites' results.
    run_recorded "build examples/c" build_examples
  fi

  for suite in "${SUITES[@]}"; do
    [[ -f $suite ]] || continue
    if [[ $build_rc -ne 0 ]]; then
      step "$suite"
      record "$suite" 1 "not run: build failed"
      continue
    fi
    step "$suite"
    set +e
    bash "$suite"
    rc=$?
    set -e
    record "$suite" "$rc"
  done

  if [[ -z ${MBEDTLS_DIR:-} && -z ${MOJO_TLS_SKIP_SYSTEM:-} ]]; then
    # The same Rust + C suites against Mbed TLS 3.6 LTS (TLS 1.3), from
    # Debian's binary packages unpacked under target/.
    local prefix
    step "system backend: Mbed TLS 3.6 (tools/fetch-mbedtls-3.6.sh)"
    if prefix=$(tools/fetch-mbedtls-3.6.sh); then
      set +e
      MBEDTLS_DIR=$prefix MOJO_TLS_DIST_DIR="$ROOT/target/dist-mbedtls-3.6" ./build.sh test-backend
      rc=$?
      set -e
      record "system backend (Mbed TLS 3.6) suites" "$rc"
    else
      record "system backend (Mbed TLS 3.6) suites" 1 "could not fetch Mbed TLS 3.6"
    fi
    note "Mbed TLS 4.x: skipped (no 4.x install given; CI has none): run MBEDTLS_DIR=<4.x prefix> ./build.sh test-backend"
  fi

  echo
  if [[ $FAILED -gt 0 ]]; then
    printf 'failed:\n'
    printf '  %s\n' "${FAILED_NAMES[@]}"
  fi
  printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
  [[ $FAILED -eq 0 ]]
}

# The backend-dependent suites only, for the backend MBEDTLS_DIR selects
# (called by `./build.sh test` for the system backend).
cmd_test_backend() {
  ensure_tools test
  export MOJO_TLS_DIST="$DIST"
  step "backend: $(grep -h 'define MBEDTLS_VERSION_STRING ' "$MBEDTLS_DIR"/{,usr/}include/mbedtls/build_info.h 2>/dev/null | awk '{print $3}')"
  run_check "cargo clippy (system)" cargo clippy --release --all-targets "${CARGO_FEATURES[@]}" -- -D warnings
  run_check "cargo test --release (system)" cargo test --release "${CARGO_FEATURES[@]}"
  local build_rc=0 suite rc
  step "build $DIST"
  set +e
  (set -e; cargo_build; assemble_dist; build_examples)
  build_rc=$?
  set -e
  record "build dist (system)" "$build_rc"
  for suite in tests/symbols.sh tests/c/run.sh tests/interop/run.sh tests/compat/run.sh \
    "tests/reliability/run.sh certs" python/run_tests.sh janet/run_tests.sh mojo/run_tests.sh; do
    [[ -f ${suite%% *} && $build_rc -eq 0 ]] || continue
    step "$suite (system)"
    set +e
    # shellcheck disable=SC2086 # a suite may carry arguments
    bash $suite
    rc=$?
    set -e
    record "$suite (system)" "$rc"
  done
  printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
  [[ $FAILED -eq 0 ]]
}

cmd_header() {
  ensure_tools build
  generate_header
}

cmd_dist() {
  ensure_tools build
  cargo_build
  assemble_dist
}

cmd_clean() {
  step "clean"
  cargo clean
  rm -rf "$DIST"
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

case "${1:-all}" in
  all) cmd_all ;;
  test) cmd_test ;;
  test-backend) cmd_test_backend ;;
  header) cmd_header ;;
  dist) cmd_dist ;;
  clean) cmd_clean ;;
  fuzz) shift; bash fuzz/run.sh "$@" ;;
  bench) bash benches/run.sh ;;
  tsan) bash tests/reliability/tsan.sh ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
