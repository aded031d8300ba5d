#!/usr/bin/env bash
# benches/dtls_hs.sh — DTLS 1.2 handshakes per second on loopback
# (benches/dtls_hs.c): our client against our UDP server
# (mojo_tls_dtls_listener) and against openssl s_server -dtls1_2, the same
# P-256 certificate (made with openssl in a temporary directory). Prints one
# line per row and `METRIC dtls_hs_<row> <value>` lines.
#
# usage: benches/dtls_hs.sh [SECONDS]   (default 3 per row; needs dist/ and openssl)
#
# Not measured: openssl s_client against our server. s_client started once
# per handshake is bound by its own shutdown wait (about 0.5 s a process
# here, the same against s_server), not by the server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECS=${1:-3}
DIST=${MOJO_TLS_DIST:-$PWD/dist}
[[ -f $DIST/include/mojo_tls.h ]] || { echo "dist/ missing: run ./build.sh dist" >&2; exit 2; }
command -v openssl >/dev/null || { echo "openssl missing" >&2; exit 2; }
mkdir -p target
bin=$PWD/target/bench-dtls-hs
cc -O2 -Wall -Wextra -I "$DIST/include" benches/dtls_hs.c -o "$bin" -L "$DIST/lib" -lmojo_tls -lpthread \
  -Wl,-rpath,"$DIST/lib"
d=$(mktemp -d -t mojo-tls-dtls-hs.XXXXXX)
srv=""
cleanup() {
  [[ -n $srv ]] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
  rm -rf "$d"
}
trap cleanup EXIT
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$d/ca.key" -out "$d/ca.crt" -subj /CN=bench-ca -days 2 2>/dev/null
openssl req "${ec[@]}" -keyout "$d/srv.key" -out "$d/srv.csr" -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -out "$d/srv.crt" \
  -days 2 -copy_extensions copy 2>/dev/null

ours=$(timeout $((SECS * 3 + 40)) "$bin" "$d/ca.crt" "$d/srv.crt" "$d/srv.key" "$SECS" | awk '/hs_per_s/ {print $2}')
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl s_server -dtls1_2 -accept "127.0.0.1:$port" -cert "$d/srv.crt" -key "$d/srv.key" -quiet \
  </dev/null >/dev/null 2>&1 &
srv=$!
sleep 0.5
theirs=$(timeout $((SECS * 3 + 40)) "$bin" "$d/ca.crt" "$d/srv.crt" "$d/srv.key" "$SECS" "$port" |
  awk '/hs_per_s/ {print $2}')
printf '%-52s %10s\n' "DTLS 1.2 handshakes/s (P-256, cookie exchange)" "hs/s"
printf '%-52s %10s\n' "mojo-tls client -> mojo-tls server (UDP listener)" "$ours"
printf '%-52s %10s\n' "mojo-tls client -> openssl s_server -dtls1_2" "$theirs"
echo "METRIC dtls_hs_mojo_mojo $ours"
echo "METRIC dtls_hs_mojo_openssl $theirs"
