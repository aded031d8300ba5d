#!/usr/bin/env bash
# tools/bootstrap.sh [build|test] — install the tools mojo-tls needs, once.
#
# The one place that provisions a machine; ./build.sh sources it and calls
# ensure_tools. Run on its own it does the same and prints what it found:
#
#   build  cargo, cmake (>= 3.19), libclang (bindgen), a C compiler, binutils
#   test   the same + rustfmt, clippy, the openssl CLI, valgrind
#
# As root with apt-get, missing tools come from Debian's packages; otherwise
# cmake and libclang come from their Python wheels (pip) and the rest is
# reported. Mojo and Janet are provisioned by their own suites
# (mojo/run_tests.sh, janet/tools/build_janet.sh): they are large and only
# the tests need them.
#
# Probes never trust a file name alone where loading can decide: libclang is
# the library bindgen loads (libclang.so, libclang-<N>.so*, libclang.so.<N>),
# never libclang-cpp (a different, C++ library that Debian installs with
# llvm), and a candidate counts only if it loads and has clang_getClangVersion.
#
# Testing: MOJO_TLS_PROBE_ROOT=<dir> prefixes every system directory the
# probes look in (tests/bootstrap/run.sh builds fixture trees under it).

# ---------------------------------------------------------------------------
# Probes (pure: print or return, install nothing)
# ---------------------------------------------------------------------------

PROBE_ROOT=${MOJO_TLS_PROBE_ROOT:-}

have() { command -v "$1" >/dev/null 2>&1; }

# True when $1 is a shared library that exports clang_getClangVersion.
# Without python3 (no way to dlopen from a shell) the file name decides.
libclang_loads() {
  local py
  py=$(command -v python3 || true)
  [[ -n $py ]] || return 0
  "$py" - "$1" <<'EOF' >/dev/null 2>&1
import ctypes, sys
ctypes.CDLL(sys.argv[1]).clang_getClangVersion
EOF
}

# Prints the libclang files bindgen would consider in directory $1.
libclang_candidates() {
  local dir=$1 f base
  [[ -d $dir ]] || return 0
  for f in "$dir"/libclang.so "$dir"/libclang-[0-9]*.so "$dir"/libclang.so.[0-9]* \
    "$dir"/libclang-[0-9]*.so.*; do
    [[ -e $f ]] || continue
    base=${f##*/}
    [[ $base == libclang-cpp* ]] && continue
    printf '%s\n' "$f"
  done
}

# Directories clang-sys (bindgen's loader) searches, in its order.
libclang_search_dirs() {
  local d
  [[ -n ${LIBCLANG_PATH:-} ]] && printf '%s\n' "$LIBCLANG_PATH"
  if have llvm-config && d=$(llvm-config --libdir 2>/dev/null) && [[ -n $d ]]; then
    printf '%s\n' "$d"
  fi
  for d in "$PROBE_ROOT"/usr/lib/llvm-*/lib "$PROBE_ROOT"/usr/local/lib \
    "$PROBE_ROOT"/usr/lib/*-linux-gnu "$PROBE_ROOT"/usr/lib64 "$PROBE_ROOT"/usr/lib; do
    [[ -d $d ]] && printf '%s\n' "$d"
  done
  return 0
}

# Prints the first libclang that loads; fails when there is none.
find_libclang() {
  local dir f
  while IFS= read -r dir; do
    while IFS= read -r f; do
      if libclang_loads "$f"; then
        printf '%s\n' "$f"
        return 0
      fi
    done < <(libclang_candidates "$dir")
  done < <(libclang_search_dirs)
  return 1
}

have_libclang() { find_libclang >/dev/null; }

# cmake >= 3.19 (the Mbed TLS build needs it).
have_cmake() {
  local v
  have cmake || return 1
  v=$(cmake --version 2>/dev/null | awk 'NR == 1 { print $3 }')
  [[ -n $v ]] || return 1
  local major=${v%%.*} rest=${v#*.}
  local minor=${rest%%.*}
  ((major > 3 || (major == 3 && minor >= 19)))
}

have_cc() { have cc || have gcc || have clang; }

# The Debian packages that would supply what is missing, on one line.
# $1 = build | test.
missing_apt_packages() {
  local mode=${1:-build} pkgs=()
  have_cmake || pkgs+=(cmake)
  have_libclang || pkgs+=(libclang-dev clang)
  have_cc || pkgs+=(gcc libc6-dev)
  { have nm && have readelf && have strip && have objcopy; } || pkgs+=(binutils)
  if [[ $mode == test ]]; then
    have openssl || pkgs+=(openssl)
    have valgrind || pkgs+=(valgrind)
  fi
  printf '%s\n' "${pkgs[*]}"
}

# ---------------------------------------------------------------------------
# Installers
# ---------------------------------------------------------------------------

bs_step() { printf '==> %s\n' "$*"; }
bs_note() { printf '    %s\n' "$*"; }
bs_warn() { printf 'warning: %s\n' "$*" >&2; }
bs_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

can_apt() { [[ $(id -u) -eq 0 ]] && have apt-get; }

BS_APT_UPDATED=0
apt_install() {
  if [[ $BS_APT_UPDATED -eq 0 ]]; then
    bs_step "apt-get update"
    apt-get update -qq
    BS_APT_UPDATED=1
  fi
  bs_step "installing (apt): $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# cmake and libclang from their Python wheels, for machines without root/apt
# (and for Debian releases whose cmake is older than 3.19).
pip_install_cmake_libclang() {
  local py bin
  py=$(command -v python3 || command -v python || true)
  [[ -n $py ]] || bs_die "cmake/libclang missing and neither apt-get (as root) nor python3 is available"
  bs_step "installing (pip): cmake libclang"
  "$py" -m pip install -q cmake libclang || "$py" -m pip install -q --user cmake libclang
  if ! have_cmake; then
    bin=$("$py" -c 'import cmake; print(cmake.CMAKE_BIN_DIR)')
    export PATH="$bin:$PATH"
  fi
  if ! have_libclang; then
    LIBCLANG_PATH=$("$py" -c 'import clang, os; print(os.path.join(os.path.dirname(clang.__file__), "native"))')
    export LIBCLANG_PATH
    bs_note "LIBCLANG_PATH=$LIBCLANG_PATH"
  fi
  bindgen_builtin_headers
}

# The libclang wheel has no clang builtin headers (stddef.h, ...): let
# bindgen use the C compiler's.
bindgen_builtin_headers() {
  local inc
  inc=$(cc -print-file-name=include 2>/dev/null || true)
  if [[ -z ${BINDGEN_EXTRA_CLANG_ARGS:-} && -d $inc ]]; then
    export BINDGEN_EXTRA_CLANG_ARGS="-isystem $inc"
    bs_note "BINDGEN_EXTRA_CLANG_ARGS=$BINDGEN_EXTRA_CLANG_ARGS"
  fi
}

# Points bindgen at the libclang the probe found when clang-sys would not
# find it by itself (a directory outside its search list).
export_libclang_path() {
  local f
  [[ -n ${LIBCLANG_PATH:-} ]] && return 0
  f=$(find_libclang) || return 0
  case ${f%/*} in
    /usr/lib/llvm-*/lib | /usr/lib/*-linux-gnu | /usr/lib64 | /usr/lib | /usr/local/lib) ;;
    *) export LIBCLANG_PATH=${f%/*} ;;
  esac
}

# Installs what the build (and with "test", the tests) need; quiet when all
# is there. $1 = build | test.
ensure_tools() {
  local mode=${1:-build}
  have cargo || bs_die "cargo not found: install Rust (https://rustup.rs)"

  if [[ $(uname -s) == Darwin ]]; then
    # clang/libclang come with the Xcode command line tools.
    if ! have_cmake; then
      if have brew; then bs_step "installing (brew): cmake"; brew install cmake; else pip_install_cmake_libclang; fi
    fi
  else
    local apt_pkgs=()
    read -r -a apt_pkgs <<<"$(missing_apt_packages "$mode")"
    if [[ ${#apt_pkgs[@]} -gt 0 ]]; then
      if can_apt; then
        apt_install "${apt_pkgs[@]}"
      fi
      if ! have_cmake || ! have_libclang; then
        pip_install_cmake_libclang
      fi
      if [[ $mode == test ]]; then
        have valgrind || bs_warn "valgrind missing (not root or no apt-get): the memory checks will fail"
        have openssl || bs_warn "openssl CLI missing (not root or no apt-get): interop tests will fail"
      fi
      have_cc || bs_warn "no C compiler (cc/gcc) found"
    fi
    have_libclang || bs_die "libclang still missing after installation (set LIBCLANG_PATH to the directory holding libclang.so)"
    export_libclang_path
  fi
  have_cmake || bs_die "cmake >= 3.19 still missing after installation"

  if [[ $mode == test ]]; then
    local comp probe
    for comp in rustfmt clippy; do
      probe=fmt
      [[ $comp == clippy ]] && probe=clippy
      if ! cargo "$probe" --version >/dev/null 2>&1; then
        have rustup || bs_die "cargo $probe missing and rustup not available"
        bs_step "installing (rustup): $comp"
        rustup component add "$comp"
      fi
    done
  fi
}

# Run directly: provision and report.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  ensure_tools "${1:-build}"
  bs_note "cmake: $(cmake --version | head -1)"
  bs_note "libclang: $(find_libclang)"
fi
