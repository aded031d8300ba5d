#!/usr/bin/env bash
# tools/fetch-mbedtls-3.6.sh [PREFIX] — Mbed TLS 3.6 LTS from Debian trixie's
# binary packages, unpacked into PREFIX (default target/mbedtls-3.6) without
# touching the system's apt state (private sources list, lists and cache).
# Prints the prefix to use as MBEDTLS_DIR.
#
# The archive is the one this machine's own apt sources use for Debian
# (the same host, suite trixie); no mirror is written down here.
# MOJO_TLS_APT_SOURCES=<file...> reads other sources files (tests).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PREFIX=${1:-$PWD/target/mbedtls-3.6}
SUITE=trixie
if [[ -f $PREFIX/usr/include/mbedtls/build_info.h ]] && ls "$PREFIX"/usr/lib/*/libmbedtls.so* >/dev/null 2>&1; then
  echo "$PREFIX"
  exit 0
fi
command -v apt-get >/dev/null || { echo "error: apt-get is needed to fetch Debian's Mbed TLS 3.6" >&2; exit 1; }

# shellcheck source=tools/apt-mirror.sh
source tools/apt-mirror.sh
mirror=$(debian_mirror) || {
  echo "error: no Debian archive in this machine's apt sources (${APT_SOURCE_FILES[*]}): cannot fetch Mbed TLS 3.6; give an install with MBEDTLS_DIR=<prefix> instead" >&2
  exit 1
}

work="$PREFIX.apt"
rm -rf "$work"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs" "$PREFIX"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""
[[ -f $keyring ]] && signed="[signed-by=$keyring] "
echo "deb $signed$mirror $SUITE main" >"$work/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=/dev/null
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1
  -o APT::Get::List-Cleanup=0)
apt-get "${apt_opts[@]}" update -qq >&2
(cd "$work/debs" && apt-get "${apt_opts[@]}" download libmbedtls-dev libmbedtls21 libmbedx509-7 libmbedcrypto16 >&2)
for deb in "$work"/debs/*.deb; do
  dpkg -x "$deb" "$PREFIX"
done
rm -rf "$work"
echo "$PREFIX"
