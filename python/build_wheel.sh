#!/usr/bin/env bash
# python/build_wheel.sh [DIST] — copy the shared library from DIST/lib (default
# ../dist) into the package and build the wheel into DIST/python/.
# Uses (and creates) the virtualenv target/python-venv for the build tools.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PY_DIR=$(pwd -P)
ROOT=$(cd .. && pwd -P)
DIST=${1:-$ROOT/dist}

lib=""
for cand in "$DIST/lib/libmojo_tls.so.0" "$DIST/lib/libmojo_tls.0.dylib"; do
  if [[ -e $cand ]]; then lib=$cand; break; fi
done
[[ -n $lib ]] || { echo "error: no libmojo_tls in $DIST/lib: run ./build.sh" >&2; exit 1; }
rm -f mojo_tls/libmojo_tls.so* mojo_tls/libmojo_tls*.dylib
cp -L "$lib" "mojo_tls/$(basename "$lib")"
echo "    python/mojo_tls/$(basename "$lib") (from $(basename "$DIST")/lib)"

VENV=${MOJO_TLS_PY_VENV:-$ROOT/target/python-venv}
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import setuptools, wheel, sys; sys.exit(int(setuptools.__version__.split(".")[0]) < 77)' 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q --upgrade pip 'setuptools>=77' wheel
fi
# Build in a private directory, then move the wheel into place.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rm -rf build mojo_tls.egg-info
"$VENV/bin/python" -m pip wheel -q --no-deps --no-build-isolation -w "$out" . >/dev/null
rm -rf build mojo_tls.egg-info
whl=$(cd "$out" && ls mojo_tls-*.whl)
[[ -d $DIST/python ]] || rm -f "$DIST/python"
mkdir -p "$DIST/python"
rm -f "$DIST"/python/mojo_tls-*.whl
mv "$out/$whl" "$DIST/python/$whl"
echo "    $(basename "$DIST")/python/$whl"
