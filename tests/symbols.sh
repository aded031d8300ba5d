#!/usr/bin/env bash
# tests/symbols.sh — exported-symbol and SONAME checks on the built library.
#
# Checks dist/lib (run ./build.sh first):
#   1. the shared library exports only mojo_tls_* symbols (nm -D --defined-only);
#   2. its SONAME is libmojo_tls.so.<major version from Cargo.toml>, and dist/lib
#      has a file of that name;
#   3. every function declared in dist/include/mojo_tls.h is exported.
# Exits non-zero on any failure and prints what it checked.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DIST=${MOJO_TLS_DIST:-dist}
OS=$(uname -s)
fail=0
indent() { sed 's/^/  /'; }

version=$(awk -F'"' '
  /^\[package\][[:space:]]*$/ { p = 1; next }
  /^\[/ { p = 0 }
  p && $1 ~ /^version[[:space:]]*=[[:space:]]*$/ { print $2; exit }' Cargo.toml)
major=${version%%.*}

if [[ $OS == Darwin ]]; then
  lib="$DIST/lib/libmojo_tls.dylib"
  want_soname="libmojo_tls.$major.dylib"
else
  lib="$DIST/lib/libmojo_tls.so"
  want_soname="libmojo_tls.so.$major"
fi
header="$DIST/include/mojo_tls.h"
[[ -e $lib ]] || { echo "FAIL: $lib not found: run ./build.sh first" >&2; exit 1; }

# --- 1. exported symbols -----------------------------------------------------
if [[ $OS == Darwin ]]; then
  exported=$(nm -gU "$lib" | awk 'NF >= 3 { print $3 }' | sed 's/^_//' | sort -u)
else
  # Strip symbol versions (name@@VER / name@VER).
  exported=$(nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 } NF == 2 { print $2 }' |
    sed 's/@.*//' | sort -u)
fi
total=$(grep -c . <<<"$exported" || true)
foreign=$(grep -v '^mojo_tls_' <<<"$exported" || true)
echo "exported symbols: $total"
if [[ -n $foreign ]]; then
  echo "FAIL: symbols exported without the mojo_tls_ prefix:"
  indent <<<"$foreign"
  fail=1
elif [[ $total -eq 0 ]]; then
  echo "FAIL: no exported symbols"
  fail=1
else
  echo "ok: all $total exported symbols start with mojo_tls_"
fi

# --- 2. SONAME / install name ------------------------------------------------
if [[ $OS == Darwin ]]; then
  soname=$(otool -D "$lib" | sed -n '2p')
  soname=${soname##*/}
else
  soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
fi
if [[ $soname != "$want_soname" ]]; then
  echo "FAIL: SONAME is '${soname:-<none>}', expected '$want_soname'"
  fail=1
elif [[ ! -e $DIST/lib/$soname ]]; then
  echo "FAIL: SONAME $soname has no file in $DIST/lib"
  fail=1
else
  echo "ok: SONAME $soname"
fi

# --- 3. header functions are exported ------------------------------------------
if [[ -f $header ]]; then
  # Preprocess to drop comments, then take every identifier called like a function.
  declared=$(cc -E -P -x c "$header" | grep -o '\bmojo_tls_[A-Za-z0-9_]*[[:space:]]*(' |
    sed 's/[[:space:]]*($//' | sort -u || true)
  missing=$(comm -23 <(printf '%s\n' "$declared" | sed '/^$/d') <(printf '%s\n' "$exported"))
  ndecl=$(grep -c . <<<"$declared" || true)
  if [[ -n $missing ]]; then
    echo "FAIL: declared in mojo_tls.h but not exported:"
    indent <<<"$missing"
    fail=1
  else
    echo "ok: all $ndecl functions declared in mojo_tls.h are exported"
  fi
else
  echo "FAIL: $header not found"
  fail=1
fi

exit "$fail"
