#!/usr/bin/env bash
# janet/tools/build_janet.sh — provide a `janet` interpreter and print its path.
#
# Order of preference:
#   1. $MOJO_TLS_JANET, if set (must be an executable janet >= 1.35);
#   2. `janet` from PATH when it is >= 1.35 and has ffi, ev and net;
#   3. target/janet/bin/janet, built (once; rebuilt when its sources change)
#      from the amalgamated Janet source vendored by the Rust package registry's crate
#      `evil-janet` 1.42.0 (csrc/janet.c) plus our janet/tools/janet_main.c,
#      with janet/tools/patches/*.patch applied to a copy of janet.c (fixes
#      of Janet's core that the package depends on; see janet/README.md).
#      The crate source is fetched with cargo through a throwaway project
#      under target/janet/fetch.
#
# Progress goes to stderr; stdout gets only the interpreter's absolute path.
# CARGO_TARGET_DIR is honoured. Build time: about 20-60 s (one C file, -O2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd -P)
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT_DIR="$TARGET_DIR/janet"
JANET_BIN="$OUT_DIR/bin/janet"
CRATE_VERSION=1.42.0
MIN_MINOR=35

log() { printf '    janet: %s\n' "$*" >&2; }
die() { printf 'error: janet: %s\n' "$*" >&2; exit 1; }

# Usable = runs, version 1.x with x >= MIN_MINOR, has ffi/ev/net.
usable() {
  "$1" -e "
    (def [maj min] (map scan-number (slice (string/split \".\" janet/version) 0 2)))
    (unless (and (= maj 1) (>= min $MIN_MINOR)) (os/exit 1))
    (each s ['ffi/defbind 'ev/read 'net/connect 'bundle/install]
      (unless (dyn s) (os/exit 1)))" >/dev/null 2>&1
}

if [[ -n "${MOJO_TLS_JANET:-}" ]]; then
  usable "$MOJO_TLS_JANET" || die "MOJO_TLS_JANET=$MOJO_TLS_JANET is not a usable janet (>= 1.$MIN_MINOR with ffi, ev, net)"
  command -v "$MOJO_TLS_JANET"
  exit 0
fi

if command -v janet >/dev/null 2>&1 && usable "$(command -v janet)"; then
  command -v janet
  exit 0
fi

# --- build from the vendored amalgamation ------------------------------------

crate_dir() {
  local fetch="$OUT_DIR/fetch"
  mkdir -p "$fetch/src"
  cat >"$fetch/Cargo.toml" <<TOML
[package]
name = "mojo-tls-janet-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
evil-janet = "=$CRATE_VERSION"

[workspace]
TOML
  [[ -f "$fetch/src/main.rs" ]] || echo 'fn main() {}' >"$fetch/src/main.rs"
  # `cargo metadata` downloads the crate if needed and tells where it is
  # (wherever CARGO_HOME puts the registry).
  cargo metadata -q --format-version 1 --manifest-path "$fetch/Cargo.toml" |
    python3 -c '
import json, os, sys
meta = json.load(sys.stdin)
for p in meta["packages"]:
    if p["name"] == "evil-janet":
        print(os.path.dirname(p["manifest_path"]))
        break
else:
    sys.exit("evil-janet not in cargo metadata")
'
}

src=$(crate_dir) || die "could not fetch the evil-janet $CRATE_VERSION crate with cargo"
[[ -f "$src/csrc/janet.c" && -f "$src/csrc/janet.h" ]] || die "$src has no csrc/janet.c"

MAIN_C="$ROOT/janet/tools/janet_main.c"
PATCHES=("$ROOT"/janet/tools/patches/*.patch)
stamp="$OUT_DIR/bin/.stamp"
want="evil-janet $CRATE_VERSION $(cat "$MAIN_C" "${PATCHES[@]}" | cksum | cut -d' ' -f1)"
if [[ -x "$JANET_BIN" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && usable "$JANET_BIN"; then
  echo "$JANET_BIN"
  exit 0
fi

mkdir -p "$OUT_DIR/bin"
tmp="$OUT_DIR/bin/janet.tmp.$$"
trap 'rm -f "$tmp"' EXIT
log "building janet $CRATE_VERSION from the evil-janet amalgamation -> ${JANET_BIN#"$ROOT"/}"
# The crate's source stays untouched: patch a copy.
patched="$OUT_DIR/src"
rm -rf "$patched"
mkdir -p "$patched/csrc"
cp "$src/csrc/janet.c" "$src/csrc/janet.h" "$patched/csrc/"
for p in "${PATCHES[@]}"; do
  patch -s -p1 -d "$patched" <"$p" || die "patch $(basename "$p") does not apply to evil-janet $CRATE_VERSION"
done
CC=${CC:-cc}
extra_libs=(-lm -ldl -lpthread)
[[ $(uname -s) == Linux ]] && extra_libs+=(-lrt)
"$CC" -O2 -std=c99 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 \
  -I "$patched/csrc" "$patched/csrc/janet.c" "$MAIN_C" -o "$tmp" \
  "${extra_libs[@]}" -rdynamic
mv -f "$tmp" "$JANET_BIN"
echo "$want" >"$stamp"
usable "$JANET_BIN" || die "the built $JANET_BIN does not work"
log "built $("$JANET_BIN" -v 2>/dev/null || true)"
echo "$JANET_BIN"
