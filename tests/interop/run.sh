#!/usr/bin/env bash
# Interop tests: dist/bin/client and dist/bin/server against the OpenSSL
# command line (s_server / s_client), TLS 1.2 (and TLS 1.3 on a backend with it),
# and the DTLS examples dist/bin/dtls_server + dtls_client together and against
# s_client -dtls1_2; loopback only.
#
# usage: tests/interop/run.sh
# env:   MOJO_TLS_DIST (default <repo>/dist), MOJO_TLS_INTEROP_TIMEOUT (per case, s),
#        MOJO_TLS_INTEROP_TOTAL_TIMEOUT (per driver, s), CC (for the peers),
#        MOJO_TLS_BULK_MIB (bulk.py: MiB each way per case, default 256)
#
# Prints one line per case (and each driver's own count), then finally
# exactly "N passed, N failed" for all drivers; exits non-zero on any
# failure. Each driver's run is bounded by `timeout`.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.." || exit 2
if ! command -v python3 >/dev/null 2>&1; then
    echo "error: python3 is required" >&2
    echo "0 passed, 1 failed"
    exit 2
fi
# Drivers, in order: interop.py (data paths, ciphers) and features.py (mTLS,
# SNI, ALPN, resumption, pinning, key log, CRL, certgen, suites/groups; it
# compiles tests/interop/peer.c against dist/), then tls13.py (TLS 1.3 against
# openssl), then bulk.py (the fast record layer: generated data both
# ways per suite against openssl and Python ssl, SHA-256 on both ends;
# MOJO_TLS_BULK_MIB sets the size). Each prints one line per case and
# "N passed, N failed"; this script adds those up.
total_pass=0
total_fail=0
status=0
for driver in interop.py features.py tls13.py bulk.py; do
    [ -f "$here/$driver" ] || continue
    log="$(mktemp)"
    # -k: if the driver itself wedges, it is killed; its children die with their pipes
    timeout -k 10 "${MOJO_TLS_INTEROP_TOTAL_TIMEOUT:-600}" python3 "$here/$driver" "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    counts="$(tail -n 1 "$log")"
    rm -f "$log"
    if [[ "$counts" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        total_pass=$((total_pass + BASH_REMATCH[1]))
        total_fail=$((total_fail + BASH_REMATCH[2]))
    else
        echo "$driver ended without a summary (exit $rc)"
        total_fail=$((total_fail + 1))
    fi
    [ "$rc" -eq 0 ] || status=1
done
echo "$total_pass passed, $total_fail failed"
[ $status -eq 0 ] && [ $total_fail -eq 0 ]
