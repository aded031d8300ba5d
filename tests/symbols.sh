#!/usr/bin/env bash
# tests/symbols.sh — exported-symbol and SONAME checks on the built library.
#
# Checks dist/lib (run ./build.sh first):
#   1. the shared library exports only mojo_tls_* symbols (nm -D --defined-only);
#   2. its SONAME is libmojo_tls.so.<MOJO_TLS_ABI_VERSION of the header>, and
#      dist/lib has a file of that name;
#   3. every function declared in dist/include/mojo_tls.h or
#      dist/include/mojo_tls_compat.h is exported, and every exported symbol is
#      declared in exactly one of the two headers;
#   4. the headers match the ABI snapshot tests/abi/abi-1.txt
#      (update on purpose: python3 tests/abi/snapshot.py --update).
# Exits non-zero on any failure and prints what it checked.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DIST=${MOJO_TLS_DIST:-dist}
OS=$(uname -s)
fail=0
indent() { sed 's/^/  /'; }

header="$DIST/include/mojo_tls.h"
compat_header="$DIST/include/mojo_tls_compat.h"
major=$(sed -n 's/^#define MOJO_TLS_ABI_VERSION \([0-9]*\)$/\1/p' "$header" 2>/dev/null || true)
[[ -n $major ]] || { echo "FAIL: no MOJO_TLS_ABI_VERSION in $header: run ./build.sh first" >&2; exit 1; }

if [[ $OS == Darwin ]]; then
  lib="$DIST/lib/libmojo_tls.dylib"
  want_soname="libmojo_tls.$major.dylib"
else
  lib="$DIST/lib/libmojo_tls.so"
  want_soname="libmojo_tls.so.$major"
fi
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

# --- 3. header functions are exported, exports declared exactly once ---------
declared_in() {
  # Preprocess to drop comments, then take every identifier called like a function.
  cc -E -P -x c -I "$DIST/include" "$1" | grep -o '\bmojo_tls_[A-Za-z0-9_]*[[:space:]]*(' |
    sed 's/[[:space:]]*($//' | sort -u || true
}
if [[ -f $header && -f $compat_header ]]; then
  native=$(declared_in "$header")
  # mojo_tls_compat.h includes mojo_tls.h: its own declarations are the rest.
  compat=$(comm -23 <(declared_in "$compat_header") <(printf '%s\n' "$native"))
  both=$(comm -12 <(printf '%s\n' "$native") <(printf '%s\n' "$compat") | sed '/^$/d')
  declared=$(printf '%s\n%s\n' "$native" "$compat" | sed '/^$/d' | sort -u)
  missing=$(comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))
  undeclared=$(comm -13 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported") | sed '/^$/d')
  nnative=$(grep -c . <<<"$native" || true)
  ncompat=$(grep -c . <<<"$compat" || true)
  if [[ -n $missing ]]; then
    echo "FAIL: declared in a header but not exported:"
    indent <<<"$missing"
    fail=1
  else
    echo "ok: all $nnative functions of mojo_tls.h and $ncompat of mojo_tls_compat.h are exported"
  fi
  if [[ -n $undeclared ]]; then
    echo "FAIL: exported but declared in neither header:"
    indent <<<"$undeclared"
    fail=1
  elif [[ -n $both ]]; then
    echo "FAIL: declared in both headers:"
    indent <<<"$both"
    fail=1
  else
    echo "ok: every exported symbol is declared in exactly one header"
  fi
else
  echo "FAIL: $header or $compat_header not found"
  fail=1
fi

# --- 4. ABI snapshot -----------------------------------------------------------
if ! python3 tests/abi/snapshot.py; then
  fail=1
fi

exit "$fail"
