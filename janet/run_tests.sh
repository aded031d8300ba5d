#!/usr/bin/env bash
# janet/run_tests.sh — test the Janet package.
#
# Provides a janet (janet/tools/build_janet.sh), installs the bundle (with
# the library from dist/) into a private syspath under target/janet/tree,
# and runs every janet/test/*.janet there (or the files given as arguments;
# JANET_TEST_FILTER=text runs only the tests whose name contains it).
# Each file prints "ok name" / "FAIL name" per test and "RESULT p f".
# Last line: "N passed, N failed"; the exit status is non-zero on failure.
set -euo pipefail
ORIG_PWD=$(pwd)
cd "$(dirname "${BASH_SOURCE[0]}")"
JDIR=$(pwd -P)
ROOT=$(cd .. && pwd -P)
DIST=${MOJO_TLS_DIST:-$ROOT/dist}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
TREE="$TARGET_DIR/janet/tree"
FILE_TIMEOUT=${JANET_TEST_FILE_TIMEOUT:-600}

[[ -e $DIST/lib/libmojo_tls.so.1 || -e $DIST/lib/libmojo_tls.1.dylib ]] ||
  { echo "error: $DIST/lib has no libmojo_tls: run ./build.sh first" >&2; exit 1; }

echo "==> janet: interpreter"
JANET=$(bash "$JDIR/tools/build_janet.sh")
echo "    $("$JANET" -v)"

echo "==> janet: install the bundle into ${TREE#"$ROOT"/}"
rm -rf "$TREE"
mkdir -p "$TREE"
# Without MOJO_TLS_LIBRARY, so the tests use the library the bundle installed.
env -u MOJO_TLS_LIBRARY JANET_PATH="$TREE" MOJO_TLS_DIST="$DIST" \
  "$JANET" --install "$JDIR" >"$TREE.install.log" 2>&1 ||
  { cat "$TREE.install.log" >&2; echo "error: janet --install failed" >&2; exit 1; }
[[ -f "$TREE/mojo_tls/tls.janet" ]] || { echo "error: bundle not installed" >&2; exit 1; }
ls "$TREE"/mojo_tls/libmojo_tls* >/dev/null 2>&1 ||
  { echo "error: the bundle did not install libmojo_tls" >&2; exit 1; }

if [[ $# -gt 0 ]]; then
  files=()
  for f in "$@"; do
    [[ $f == /* ]] || f="$ORIG_PWD/$f"
    files+=("$f")
  done
else
  files=("$JDIR"/test/*.janet)
fi

# Bound each file's run (the tests bound their own waits too).
limit=()
if command -v timeout >/dev/null 2>&1; then
  limit=(timeout -k 10 "$FILE_TIMEOUT")
fi

passed=0
failed=0
failed_files=()
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "${files[@]}"; do
  name=$(basename "$f" .janet)
  [[ $name == harness ]] && continue
  f=$(cd "$(dirname "$f")" && pwd -P)/$(basename "$f")
  echo "==> janet: test/$name.janet"
  out="$work/$name.out"
  rc=0
  # Run from an empty directory so nothing resolves from the source tree.
  (cd "$work" && env -u MOJO_TLS_LIBRARY JANET_PATH="$TREE" \
    "${limit[@]}" "$JANET" "$f") >"$out" 2>&1 || rc=$?
  grep -v '^RESULT ' "$out" | sed 's/^/    /' || true
  result=$(grep '^RESULT ' "$out" | tail -1 || true)
  if [[ -n $result ]]; then
    read -r _ p fl <<<"$result"
    passed=$((passed + p))
    failed=$((failed + fl))
    if [[ $((p + fl)) -eq 0 ]]; then
      failed=$((failed + 1))
      echo "    FAIL $name: no tests ran"
    elif [[ $rc -ne 0 && $fl -eq 0 ]]; then
      failed=$((failed + 1))
      echo "    FAIL $name: exit status $rc"
    fi
  else
    failed=$((failed + 1))
    echo "    FAIL $name: no result (exit status $rc)"
  fi
  if [[ $rc -ne 0 ]]; then failed_files+=("$name"); fi
done

if [[ ${#failed_files[@]} -gt 0 ]]; then
  echo "failed files: ${failed_files[*]}"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
