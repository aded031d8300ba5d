#!/usr/bin/env bash
# tests/bootstrap/run.sh — the provisioning probes of tools/bootstrap.sh
# against fixture trees (part of ./build.sh test).
#
# A fresh Debian 12 machine ships libclang-cpp (the C++ library) but not
# libclang; the old probe took one for the other and bindgen then panicked.
# Each case builds a small tree under MOJO_TLS_PROBE_ROOT with real shared
# objects (a fake libclang that exports clang_getClangVersion, or one that
# does not), a stand-in llvm-config and cmake on PATH, and checks what the
# probes report. Nothing is installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd -P)

command -v cc >/dev/null || { echo "error: a C compiler is needed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "error: python3 is needed (the load check)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Shared objects to plant in the fixtures.
printf 'const char *clang_getClangVersion(void) { return "fixture"; }\n' >"$work/clang.c"
printf 'int clang_cpp_only(void) { return 0; }\n' >"$work/cpp.c"
cc -shared -fPIC -o "$work/libclang-real.so" "$work/clang.c"
cc -shared -fPIC -o "$work/libclang-cpp-real.so" "$work/cpp.c"
# libclang-cpp that even exports the C symbol: the name alone must exclude it.
cc -shared -fPIC -o "$work/libclang-cpp-with-symbol.so" "$work/clang.c"

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); printf 'ok   %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s\n' "$1"; }

# new_case NAME: a fresh fixture root and bin directory; sets R and B.
new_case() {
  R="$work/$1/root"
  B="$work/$1/bin"
  mkdir -p "$R/usr/lib" "$B"
}

plant() { # source-object fixture-path
  mkdir -p "$(dirname "$R/$2")"
  cp "$work/$1" "$R/$2"
}

fake_llvm_config() { # libdir
  printf '#!/bin/sh\n[ "$1" = --libdir ] && echo "%s" && exit 0\nexit 1\n' "$1" >"$B/llvm-config"
  chmod +x "$B/llvm-config"
}

fake_cmake() { # version
  printf '#!/bin/sh\necho "cmake version %s"\n' "$1" >"$B/cmake"
  chmod +x "$B/cmake"
}

# probe EXPR: evaluates EXPR with bootstrap.sh sourced, the fixture root and
# only the fixture bin + the basic system tools on PATH (no llvm-config,
# cmake or LIBCLANG_PATH from the machine).
probe() {
  env -u LIBCLANG_PATH MOJO_TLS_PROBE_ROOT="$R" PATH="$B:$work/sysbin" ${EXTRA_ENV:-} \
    bash -c "source '$ROOT/tools/bootstrap.sh'; $1"
}

# Tools the probes themselves use, without llvm-config or cmake.
mkdir -p "$work/sysbin"
for t in bash awk uname id cat; do
  ln -s "$(command -v "$t")" "$work/sysbin/$t"
done
# The interpreter itself, not a version manager's shim (which needs its PATH).
ln -s "$(python3 -c 'import sys; print(sys.executable)')" "$work/sysbin/python3"

expect_libclang() { # name expected-path|missing
  local got
  if got=$(probe find_libclang); then :; else got=missing; fi
  if [[ $got == "$2" ]]; then pass "$1"; else fail "$1 (expected $2, got $got)"; fi
}

# --- libclang ----------------------------------------------------------------

new_case cpp_only
plant libclang-cpp-real.so usr/lib/llvm-14/lib/libclang-cpp.so.14
plant libclang-cpp-with-symbol.so usr/lib/x86_64-linux-gnu/libclang-cpp.so.14
fake_llvm_config "$R/usr/lib/llvm-14/lib"
expect_libclang "only libclang-cpp.so.14 (Debian 12 fresh) -> missing" missing
if [[ $(probe 'missing_apt_packages build') == *libclang-dev* ]]; then
  pass "only libclang-cpp -> libclang-dev would be installed"
else
  fail "only libclang-cpp -> libclang-dev would be installed"
fi

new_case llvm_config_empty
mkdir -p "$R/opt/llvm/lib"
fake_llvm_config "$R/opt/llvm/lib"
expect_libclang "llvm-config --libdir without libclang -> missing" missing

new_case not_loadable
mkdir -p "$R/usr/lib/llvm-14/lib"
echo "not an ELF file" >"$R/usr/lib/llvm-14/lib/libclang.so"
expect_libclang "a libclang.so that does not load -> missing" missing

new_case wrong_library
plant libclang-cpp-real.so usr/lib/llvm-14/lib/libclang.so.1
expect_libclang "a libclang.so.1 without clang_getClangVersion -> missing" missing

new_case debian_libclang1
plant libclang-real.so usr/lib/x86_64-linux-gnu/libclang-14.so.1
plant libclang-cpp-real.so usr/lib/x86_64-linux-gnu/libclang-cpp.so.14
expect_libclang "Debian libclang1-14 (libclang-14.so.1) -> found" \
  "$R/usr/lib/x86_64-linux-gnu/libclang-14.so.1"

new_case debian_dev
plant libclang-real.so usr/lib/llvm-14/lib/libclang.so
plant libclang-cpp-real.so usr/lib/llvm-14/lib/libclang-cpp.so
expect_libclang "Debian libclang-dev (llvm-14/lib/libclang.so) -> found" \
  "$R/usr/lib/llvm-14/lib/libclang.so"

new_case fedora
plant libclang-real.so usr/lib64/libclang.so.17
expect_libclang "Fedora (lib64/libclang.so.17) -> found" "$R/usr/lib64/libclang.so.17"

new_case versioned_so
plant libclang-real.so usr/local/lib/libclang-16.so
expect_libclang "libclang-16.so in /usr/local/lib -> found" "$R/usr/local/lib/libclang-16.so"

new_case llvm_config
plant libclang-real.so opt/llvm-18/lib/libclang.so.18
fake_llvm_config "$R/opt/llvm-18/lib"
expect_libclang "llvm-config --libdir with libclang.so.18 -> found" "$R/opt/llvm-18/lib/libclang.so.18"
if [[ $(probe 'export_libclang_path; echo "$LIBCLANG_PATH"') == "$R/opt/llvm-18/lib" ]]; then
  pass "a libclang outside bindgen's search list is exported as LIBCLANG_PATH"
else
  fail "a libclang outside bindgen's search list is exported as LIBCLANG_PATH"
fi

new_case pip_wheel
plant libclang-real.so site-packages/clang/native/libclang.so
EXTRA_ENV="LIBCLANG_PATH=$R/site-packages/clang/native"
got=$(EXTRA_ENV=$EXTRA_ENV probe find_libclang || echo missing)
unset EXTRA_ENV
if [[ $got == "$R/site-packages/clang/native/libclang.so" ]]; then
  pass "LIBCLANG_PATH (PyPI libclang wheel) -> found"
else
  fail "LIBCLANG_PATH (PyPI libclang wheel) -> found (got $got)"
fi

# --- cmake -------------------------------------------------------------------

new_case cmake_old
fake_cmake 3.18.4
if probe have_cmake; then fail "cmake 3.18 -> too old"; else pass "cmake 3.18 -> too old"; fi
new_case cmake_ok
fake_cmake 3.25.1
if probe have_cmake; then pass "cmake 3.25 -> found"; else fail "cmake 3.25 -> found"; fi
new_case cmake_none
if probe have_cmake; then fail "no cmake -> missing"; else pass "no cmake -> missing"; fi

# --- the Debian archive tools/fetch-mbedtls-3.6.sh uses ------------------------

# mirror_case NAME EXPECTED|none: writes the sources given on stdin to a
# fixture file (.sources for deb822, .list otherwise, by NAME) and checks
# what debian_mirror derives from it.
mirror_case() {
  local f="$work/apt-$1" got
  cat >"$f"
  if got=$(MOJO_TLS_APT_SOURCES=$f bash -c "source '$ROOT/tools/apt-mirror.sh'; debian_mirror"); then :; else got=none; fi
  if [[ $got == "$2" ]]; then pass "apt sources: $1 -> $2"; else fail "apt sources: $1 -> $2 (got $got)"; fi
}

mirror_case debian12.sources http://mirror.example/debian <<'SRC'
Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
SRC
mirror_case security-first.sources https://other.example/debian <<'SRC'
Types: deb
URIs: https://other.example/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: https://src.example/debian
Suites: bookworm
Components: main

Types: deb
URIs: https://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb
URIs: https://other.example/debian
Suites: bookworm
Components: main
SRC
mirror_case oneline.list http://archive.example/debian <<'SRC'
# a comment
deb http://security.example/debian-security bookworm-security main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://archive.example/debian bookworm main contrib
SRC
mirror_case only-security.list none <<'SRC'
deb http://security.example/debian-security bookworm-security main
SRC
mirror_case third-party.list none <<'SRC'
deb https://deb.example.org/node_20.x nodistro main
deb https://cloud.example.com/apt cloud-sdk-bookworm main
SRC
mirror_case empty.list none </dev/null

# --- this machine ------------------------------------------------------------

# The real probe on the real machine agrees with a real load by ctypes.
if real=$(bash -c "source '$ROOT/tools/bootstrap.sh'; find_libclang"); then
  if python3 -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1]).clang_getClangVersion' "$real"; then
    pass "this machine: $real loads"
  else
    fail "this machine: $real does not load"
  fi
else
  printf 'note: this machine has no libclang (the build would install it)\n'
fi

printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
[[ $FAILED -eq 0 ]]
