#!/usr/bin/env bash
# mojo/run_tests.sh — the Mojo package's tests (part of ./build.sh test).
#
# Installs Mojo 1.2 from PyPI into a cached venv (target/mojo-venv, about
# 700 MB, reused when present; MOJO=/path/to/mojo uses another compiler),
# compiles examples/mojo, builds and briefly runs benches/*.mojo, checks
# that mojo/tests/compile_fail/*.mojo do not compile (handle misuse), then
# runs every mojo/tests/test_*.mojo with
# `mojo run -I mojo` (files using std.testing). Needs dist/ (./build.sh),
# python3 and the openssl CLI. Prints "N passed, N failed" last and exits
# non-zero on any failure.
#
# Environment: MOJO_TLS_DIST (dist/ to test; default <repo>/dist; its
# library is passed to the tests as MOJO_TLS_LIBRARY),
# MOJO_TLS_MOJO_VENV (venv location), MOJO (compiler to use).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
MOJO_DIR=$(pwd -P)
ROOT=$(cd .. && pwd -P)
DIST=${MOJO_TLS_DIST:-$ROOT/dist}
VENV=${MOJO_TLS_MOJO_VENV:-$ROOT/target/mojo-venv}
MOJO_SPEC='mojo==1.2.*'
TEST_TIMEOUT=${MOJO_TLS_TEST_TIMEOUT:-900}

die() { printf 'error: %s\n' "$*" >&2; exit 1; }

[[ -e $DIST/lib/libmojo_tls.so.1 || -e $DIST/lib/libmojo_tls.1.dylib ]] ||
  die "$DIST/lib has no libmojo_tls: run ./build.sh first"
command -v openssl >/dev/null || die "the openssl CLI is needed (interop peers)"

# --- Mojo -------------------------------------------------------------------------
if [[ -n ${MOJO:-} ]]; then
  [[ -x $MOJO ]] || die "MOJO=$MOJO is not executable"
else
  MOJO=$VENV/bin/mojo
  # A venv is tied to the path it was made at (its scripts name their
  # interpreter by absolute path): one moved with its checkout is remade.
  if [[ -x $MOJO ]] && ! "$MOJO" --version >/dev/null 2>&1; then
    echo "==> mojo: $VENV does not run here (moved?); making it again"
    rm -rf "$VENV"
  fi
  if [[ ! -x $MOJO ]]; then
    py=$(command -v python3 || true)
    [[ -n $py ]] || die "python3 is needed to install Mojo (pip install $MOJO_SPEC)"
    echo "==> mojo: installing $MOJO_SPEC into $VENV (about 700 MB, once)"
    "$py" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    "$VENV/bin/python" -m pip install -q "$MOJO_SPEC"
  fi
  # The venv's python first: Mojo's Python interop (used by the tests to
  # start peer processes) and peers.py's echo server use it.
  export PATH="$VENV/bin:$PATH"
fi
echo "==> mojo: $("$MOJO" --version)"

export MOJO_TLS_DIST="$DIST"
# The package never searches dist/ on its own (nothing relative to the
# working directory or the program is searched: see mojo/README.md), so
# the tests, and the examples they run, name the library explicitly.
if [[ -e $DIST/lib/libmojo_tls.so.1 ]]; then
  export MOJO_TLS_LIBRARY="$DIST/lib/libmojo_tls.so.1"
else
  export MOJO_TLS_LIBRARY="$DIST/lib/libmojo_tls.1.dylib"
fi
export MOJO_TLS_PYTHON
MOJO_TLS_PYTHON=$(command -v python3)

# Private temporary directory: test certificates, built examples.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR="$tmp"
mkdir -p "$tmp/bin"
export MOJO_TLS_EXAMPLES_BIN="$tmp/bin"

PASSED=0
FAILED=0
FAILED_NAMES=()

run_limited() { # seconds cmd...
  if command -v timeout >/dev/null; then timeout "$@"; else shift; "$@"; fi
}

# --- examples (the interop tests run them) ----------------------------------------
echo "==> mojo: build examples/mojo"
for src in "$ROOT"/examples/mojo/*.mojo; do
  name=$(basename "$src" .mojo)
  if run_limited 600 "$MOJO" build -I "$MOJO_DIR" "$src" -o "$tmp/bin/$name"; then
    echo "    PASS: build examples/mojo/$name.mojo"
    PASSED=$((PASSED + 1))
  else
    echo "    FAIL: build examples/mojo/$name.mojo"
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("build examples/mojo/$name.mojo")
  fi
done

# --- benches/*.mojo still build and run (./build.sh bench uses them) --------------
# A small run each: the figures are ./build.sh bench's business, this only
# keeps the programs from going stale against the package.
for spec in "ffi.mojo 1000 ffi_ns" "bulk.mojo 1048576 tls_vs_raw"; do
  read -r name arg key <<<"$spec"
  src=$ROOT/benches/$name
  [[ -e $src ]] || continue
  set +e
  out=$(run_limited 600 "$MOJO" build -I "$MOJO_DIR" "$src" -o "$tmp/bench" 2>&1 &&
        run_limited 120 "$tmp/bench" "$arg" 2>&1)
  rc=$?
  set -e
  if [[ $rc -eq 0 ]] && grep -q "^$key " <<<"$out"; then
    echo "    PASS: benches/$name $arg"
    PASSED=$((PASSED + 1))
  else
    echo "    FAIL: benches/$name $arg (exit $rc, no \"$key\" line)"
    printf '%s\n' "$out" | sed 's/^/      /' | tail -20
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("benches/$name")
  fi
done

# --- compile-fail checks: misuse the compiler must reject --------------------------
# Each mojo/tests/compile_fail/*.mojo passes a wrong handle type to a
# generated FFI wrapper. It passes only if `mojo build` fails with the file's
# "# expect-error:" text, and only on the line marked "# rejected" (so the
# rest of the snippet is valid and the failure is the typed handle's doing).
for src in "$MOJO_DIR"/tests/compile_fail/*.mojo; do
  rel=${src#"$ROOT"/}
  expect=$(sed -n 's/^# expect-error: //p' "$src")
  line=$(grep -n '# rejected$' "$src" | cut -d: -f1)
  set +e
  out=$(run_limited 600 "$MOJO" build -I "$MOJO_DIR" "$src" -o "$tmp/compile_fail" 2>&1)
  rc=$?
  set -e
  errors=$(printf '%s\n' "$out" | grep -F "$src:" | grep ': error: ' || true)
  others=$(printf '%s\n' "$errors" | grep -v "^$src:$line:" || true)
  if [[ $rc -ne 0 && -n $expect && -n $line && -n $errors && -z $others ]] &&
     printf '%s\n' "$errors" | grep -qF "$expect"; then
    echo "    PASS: compile fails: $rel"
    PASSED=$((PASSED + 1))
  else
    echo "    FAIL: compile fails: $rel (exit $rc; expected \"$expect\" on line $line only)"
    printf '%s\n' "$out" | sed 's/^/      /' | head -20
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("compile fails: $rel")
  fi
done

# --- test files -------------------------------------------------------------------
for t in "$MOJO_DIR"/tests/test_*.mojo; do
  rel=${t#"$ROOT"/}
  echo "==> mojo: $rel"
  log="$tmp/$(basename "$t").log"
  set +e
  (cd "$ROOT" && run_limited "$TEST_TIMEOUT" "$MOJO" run -I "$MOJO_DIR" "$t") 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  # TestSuite's summary: "N tests run: P passed , F failed , S skipped".
  summary=$(grep -Eo '[0-9]+ passed , [0-9]+ failed' "$log" | tail -1 || true)
  if [[ -n $summary ]]; then
    p=$(echo "$summary" | awk '{print $1}')
    f=$(echo "$summary" | awk '{print $4}')
  else
    p=0
    f=1  # did not compile, crashed or timed out before the summary
  fi
  if [[ $rc -ne 0 && $f -eq 0 ]]; then
    f=1
  fi
  PASSED=$((PASSED + p))
  FAILED=$((FAILED + f))
  [[ $f -eq 0 ]] || FAILED_NAMES+=("$rel (exit $rc)")
done

echo
if [[ $FAILED -gt 0 ]]; then
  printf 'failed:\n'
  printf '  %s\n' "${FAILED_NAMES[@]}"
fi
printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
[[ $FAILED -eq 0 ]]
