#!/usr/bin/env bash
# benches/dtls_hs_openssl.sh DTLS_HS CA CERT KEY SECONDS — benches/dtls_hs.c's
# client against `openssl s_server -dtls1_2` on 127.0.0.1 (started here,
# stopped by its PID when done). Prints dtls_hs.c's "hs_per_s" line.
set -euo pipefail
bin=$1 ca=$2 cert=$3 key=$4 secs=$5
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl s_server -dtls1_2 -accept "127.0.0.1:$port" -cert "$cert" -key "$key" -quiet </dev/null >/dev/null 2>&1 &
srv=$!
trap 'kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null || true' EXIT
sleep 0.3
timeout $((secs * 3 + 40)) "$bin" "$ca" "$cert" "$key" "$secs" "$port"
