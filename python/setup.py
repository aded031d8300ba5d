"""setuptools shim.

The package ships the native shared library (mojo_tls/libmojo_tls.so.0,
copied in by ./build.sh), so the wheel is platform-specific
(py3-none-<platform>) rather than pure. Building from the source tree without
that copy takes the library from ../dist/lib (after ./build.sh); with neither,
the build stops with an explanation.
"""

import os
import shutil

from setuptools import setup
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # setuptools < 70
    from wheel.bdist_wheel import bdist_wheel as _bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.join(HERE, "mojo_tls")
LIB_NAMES = ("libmojo_tls.so.0", "libmojo_tls.0.dylib")


def ensure_library() -> None:
    if any(os.path.exists(os.path.join(PKG, n)) for n in LIB_NAMES):
        return
    for name in LIB_NAMES:
        src = os.path.join(HERE, os.pardir, "dist", "lib", name)
        if os.path.exists(src):
            shutil.copyfile(os.path.realpath(src), os.path.join(PKG, name))
            return
    if os.environ.get("MOJO_TLS_NO_BUNDLED_LIBRARY"):
        return  # the library is provided separately (MOJO_TLS_LIBRARY or the system path)
    raise SystemExit(
        "mojo_tls: no shared library to bundle: run ./build.sh in the repository first "
        "(or set MOJO_TLS_NO_BUNDLED_LIBRARY=1 to build without it)")


class BinaryDistribution(Distribution):
    def has_ext_modules(self) -> bool:
        return True


class bdist_wheel(_bdist_wheel):
    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


ensure_library()
setup(distclass=BinaryDistribution, cmdclass={"bdist_wheel": bdist_wheel})
