#!/usr/bin/env bash
# python/run_tests.sh — build the wheel from dist/, install it into a venv under
# target/ (with pytest, pytest-timeout, requests, urllib3, aiohttp, httpx, anyio and mypy from
# PyPI), type-check the installed package with `mypy --strict`, and run python/tests there.
# Extra arguments go to pytest (e.g. -k asyncio -x).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PY_DIR=$(pwd -P)
ROOT=$(cd .. && pwd -P)
DIST=${MOJO_TLS_DIST:-$ROOT/dist}
VENV=${MOJO_TLS_PY_VENV:-$ROOT/target/python-venv}

[[ -e $DIST/lib/libmojo_tls.so.1 || -e $DIST/lib/libmojo_tls.1.dylib ]] ||
  { echo "error: $DIST/lib has no libmojo_tls: run ./build.sh first" >&2; exit 1; }

echo "==> python: wheel"
bash "$PY_DIR/build_wheel.sh" "$DIST"
whl=$(ls "$DIST"/python/mojo_tls-*.whl)

echo "==> python: venv $(basename "$VENV") + pytest + test-only HTTP clients"
# requests and urllib3 drive the package in tests/test_http_clients.py (test
# only: the package itself has no runtime dependencies).
# httpx also drives it there (sync); aiohttp, httpx and anyio drive
# TLSContext.wrap_bio in tests/test_wrap_bio.py.
# mypy type-checks the installed package (test only as well).
if ! "$VENV/bin/python" -c 'import pytest, pytest_timeout, requests, urllib3, aiohttp, httpx, anyio, mypy' 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q 'pytest>=7' 'pytest-timeout>=2' 'requests>=2.28' 'urllib3>=1.26' \
    'aiohttp>=3.8' 'httpx>=0.28' 'anyio>=3.6' 'mypy>=1.8'
fi
"$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$whl"

# Run from a temporary directory with the installed package only (not the
# source tree), and without MOJO_TLS_LIBRARY, so the bundled library is tested.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

echo "==> python: mypy --strict (installed package, via its py.typed)"
# -p finds the wheel's copy in the venv only if the wheel ships py.typed;
# tests/typing/check_types.py pins the overloads' types (getpeercert,
# TLSObject.read, get_ca_certs). Settings: pyproject.toml's [tool.mypy].
"$VENV/bin/python" -m mypy --strict --config-file "$PY_DIR/pyproject.toml" --no-incremental \
  -p mojo_tls
"$VENV/bin/python" -m mypy --strict --config-file "$PY_DIR/pyproject.toml" --no-incremental \
  "$PY_DIR/tests/typing/check_types.py"

echo "==> python: pytest"
env -u MOJO_TLS_LIBRARY "$VENV/bin/python" -m pytest -p no:cacheprovider --timeout=60 \
  --rootdir "$PY_DIR/tests" -c /dev/null -q "$PY_DIR/tests" "$@"
