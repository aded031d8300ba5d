"""Build the mojo_tls wheel: the Python package plus libmojo_tls, built here.

`pip install ./python` (or an sdist) runs `cargo build --release` on the Rust
crate — the repository root, or the copy an sdist carries in `rust/` — and
puts the stripped shared library into the wheel as
`mojo_tls/libmojo_tls.so.<ABI>`. A library lying in the source tree is never
used: the only way to package a prebuilt one is to name it, as
./build.sh does (python/build_wheel.sh):

    MOJO_TLS_PREBUILT_LIBRARY=dist/lib/libmojo_tls.so.1.0.0 pip wheel ./python

Needs Rust (cargo) and a C compiler; cmake and libclang come from the build
requirements in pyproject.toml when the system has none.
"""

import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py as _build_py
from setuptools.command.sdist import sdist as _sdist
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # setuptools < 70
    from wheel.bdist_wheel import bdist_wheel as _bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
IS_MAC = sys.platform == "darwin"


def abi_version() -> int:
    """The SONAME's major version, from the generated bindings (one source)."""
    with open(os.path.join(HERE, "mojo_tls", "_ffi.py")) as fh:
        for line in fh:
            if line.startswith("MOJO_TLS_ABI_VERSION = "):
                return int(line.split("=")[1])
    raise SystemExit("mojo_tls: MOJO_TLS_ABI_VERSION missing from mojo_tls/_ffi.py")


ABI = abi_version()
LIB_NAME = "libmojo_tls.%d.dylib" % ABI if IS_MAC else "libmojo_tls.so.%d" % ABI
# What an sdist carries of the repository to build the library.
# .cargo/config.toml switches the bundled engine's threading layer on.
SDIST_RUST = ("Cargo.toml", "Cargo.lock", "build.rs", "cbindgen.toml", "LICENSE", "src", ".cargo",
              "tools/headergen", "tools/licenses.py", "tools/bootstrap.sh")


def crate_root() -> str:
    """The Rust crate: the repository around python/, or an sdist's rust/."""
    for cand in (os.path.join(HERE, os.pardir), os.path.join(HERE, "rust")):
        if os.path.exists(os.path.join(cand, "Cargo.toml")) and os.path.isdir(
                os.path.join(cand, "src")):
            return os.path.abspath(cand)
    raise SystemExit("mojo_tls: no Rust crate found (expected ../Cargo.toml or rust/Cargo.toml); "
                     "set MOJO_TLS_PREBUILT_LIBRARY to a built libmojo_tls instead")


def build_env() -> dict:
    """cargo's environment, with cmake and libclang from the build
    requirements' wheels when the system lacks them."""
    env = dict(os.environ)
    if not shutil.which("cmake"):
        try:
            import cmake  # type: ignore  # PyPI wheel (build requirement)
            env["PATH"] = cmake.CMAKE_BIN_DIR + os.pathsep + env.get("PATH", "")
        except ImportError:
            pass
    if "LIBCLANG_PATH" not in env and not IS_MAC and not system_libclang():
        try:
            import clang  # type: ignore  # PyPI "libclang" wheel (build requirement)
            env["LIBCLANG_PATH"] = os.path.join(os.path.dirname(clang.__file__), "native")
            # The wheel has no clang builtin headers (stddef.h, ...): use the C compiler's.
            inc = subprocess.run(["cc", "-print-file-name=include"], capture_output=True,
                                 text=True).stdout.strip()
            if inc and os.path.isdir(inc):
                env.setdefault("BINDGEN_EXTRA_CLANG_ARGS", "-isystem " + inc)
        except ImportError:
            pass
    return env


def system_libclang() -> bool:
    """True when the system has a libclang bindgen can load: the probe of
    tools/bootstrap.sh (the one ./build.sh uses), run here."""
    script = os.path.join(crate_root(), "tools", "bootstrap.sh")
    bash = shutil.which("bash")
    if not bash or not os.path.exists(script):
        return False
    probe = subprocess.run([bash, "-c", 'source "$1" && find_libclang', "probe", script],
                           capture_output=True, text=True)
    return probe.returncode == 0


def cargo_build() -> str:
    """Builds the library with cargo; returns the path of the fresh file."""
    root = crate_root()
    cargo = shutil.which("cargo") or os.path.expanduser("~/.cargo/bin/cargo")
    if not os.path.exists(cargo):
        raise SystemExit("mojo_tls: building the library needs Rust's cargo (https://rustup.rs)")
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(root, "target")
    cmd = [cargo, "build", "--release", "--lib", "--manifest-path",
           os.path.join(root, "Cargo.toml")]
    if os.environ.get("MBEDTLS_DIR"):  # an installed Mbed TLS 3.6 / 4.x, as build.sh does
        cmd += ["--no-default-features", "--features", "system"]
    print("mojo_tls: " + " ".join(cmd), flush=True)
    env = build_env()
    env["CARGO_TARGET_DIR"] = target
    subprocess.check_call(cmd, cwd=root, env=env)
    built = os.path.join(target, "release", "libmojo_tls.dylib" if IS_MAC else "libmojo_tls.so")
    if not os.path.exists(built):
        raise SystemExit("mojo_tls: cargo did not produce " + built)
    return built


def strip(path: str) -> None:
    """Debug info out of the wheel (about 15 MB -> 2 MB)."""
    tool = shutil.which("strip")
    if not tool:
        print("mojo_tls: warning: no strip tool; the library keeps its debug info", flush=True)
        return
    subprocess.check_call([tool, "-x", path] if IS_MAC else
                          [tool, "--strip-debug", "--strip-unneeded", path])


def collect_licenses(dest: str) -> None:
    """mojo-tls's, Mbed TLS's and every linked crate's licence (tools/licenses.py)."""
    script = os.path.join(crate_root(), "tools", "licenses.py")
    subprocess.check_call([sys.executable, script, dest])


class build_py(_build_py):
    """Adds the shared library and the licences to the built package."""

    def run(self) -> None:
        super().run()
        pkg = os.path.join(self.build_lib, "mojo_tls")
        for name in os.listdir(pkg):  # never a stale copy from the source tree
            if name.startswith("libmojo_tls"):
                os.remove(os.path.join(pkg, name))
        prebuilt = os.environ.get("MOJO_TLS_PREBUILT_LIBRARY")
        src = os.path.realpath(prebuilt) if prebuilt else cargo_build()
        if not os.path.isfile(src):
            raise SystemExit("mojo_tls: MOJO_TLS_PREBUILT_LIBRARY=%s is not a file" % prebuilt)
        dest = os.path.join(pkg, LIB_NAME)
        shutil.copyfile(src, dest)
        os.chmod(dest, 0o755)
        strip(dest)
        collect_licenses(os.path.join(pkg, "licenses"))


class sdist(_sdist):
    """Carries the Rust crate in rust/, so the sdist builds on its own."""

    def make_release_tree(self, base_dir, files) -> None:
        super().make_release_tree(base_dir, files)
        root = crate_root()
        for rel in SDIST_RUST:
            src = os.path.join(root, rel)
            dst = os.path.join(base_dir, "rust", rel)
            if os.path.isdir(src):
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("target", "__pycache__"))
            else:
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(src, dst)


class BinaryDistribution(Distribution):
    def has_ext_modules(self) -> bool:
        return True


class bdist_wheel(_bdist_wheel):
    """py3-none-<platform>: the package is Python code plus a C library (no
    CPython extension), so one wheel serves every Python 3 version."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(distclass=BinaryDistribution,
      cmdclass={"build_py": build_py, "sdist": sdist, "bdist_wheel": bdist_wheel})
