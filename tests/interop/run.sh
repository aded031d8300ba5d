#!/usr/bin/env bash
# Interop tests: dist/bin/client and dist/bin/server against the OpenSSL
# command line (s_server / s_client), TLS 1.2, loopback only.
#
# usage: tests/interop/run.sh
# env:   MOJO_TLS_DIST (default <repo>/dist), MOJO_TLS_INTEROP_TIMEOUT (per case, s)
#
# Prints one line per case, then exactly "N passed, N failed"; exits non-zero
# on any failure. The whole run is bounded by `timeout`.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.." || exit 2
if ! command -v python3 >/dev/null 2>&1; then
    echo "error: python3 is required" >&2
    echo "0 passed, 1 failed"
    exit 2
fi
# -k: if the driver itself wedges, it is killed; its children die with their pipes
exec timeout -k 10 "${MOJO_TLS_INTEROP_TOTAL_TIMEOUT:-600}" python3 "$here/interop.py" "$@"
