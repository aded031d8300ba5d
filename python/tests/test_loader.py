"""Where the package loads libmojo_tls from (issue 21 item 9): only
$MOJO_TLS_LIBRARY, the package's own directory and the system's search
path. Decoy libraries planted where an older loader looked (dist/lib above
the package, dist/lib in the working directory) must never be loaded: each
decoy's constructor appends to a marker file, and the package must still
work with the real library from the system path."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mojo_tls
from mojo_tls import _ffi

PY_SRC = Path(__file__).resolve().parent.parent
DIST = Path(os.environ.get("MOJO_TLS_DIST", PY_SRC.parent / "dist"))

DECOY_C = r"""
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void planted(void) {
    int fd = open(MARKER, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) { (void)write(fd, WHERE "\n", sizeof(WHERE)); close(fd); }
}
int mojo_tls_abi_version(void) { return 1; }
"""


def build_decoy(directory: Path, marker: Path) -> None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler for the decoy library")
    directory.mkdir(parents=True, exist_ok=True)
    src = directory / "decoy.c"
    src.write_text(DECOY_C)
    for name in _ffi.LIBRARY_NAMES:
        if name.endswith(".dylib"):
            continue
        subprocess.run([cc, "-shared", "-fPIC", "-o", str(directory / name), str(src),
                        f'-DMARKER="{marker}"', f'-DWHERE="{directory}"'],
                       check=True, timeout=60)


def test_candidates_are_the_package_directory_then_the_system(monkeypatch) -> None:
    monkeypatch.delenv("MOJO_TLS_LIBRARY", raising=False)
    pkg_dir = os.path.dirname(os.path.abspath(_ffi.__file__))
    for cand in _ffi.library_candidates():
        assert os.sep not in cand or os.path.dirname(cand) == pkg_dir, cand
    monkeypatch.setenv("MOJO_TLS_LIBRARY", "/some/where/libmojo_tls.so.1")
    assert _ffi.library_candidates() == ["/some/where/libmojo_tls.so.1"]


def test_planted_libraries_are_not_loaded(tmp_path: Path) -> None:
    lib = DIST / "lib" / "libmojo_tls.so.1"
    if not lib.exists():
        pytest.skip("no dist/lib/libmojo_tls.so.1")
    # A copy of the package without its library, vendored at
    # <shared>/vendor/mojo_tls; decoys where the old loader looked
    # (<shared>/dist/lib, two levels above the package) and in the working
    # directory's dist/lib.
    shared = tmp_path / "shared"
    vendor = shared / "vendor"
    shutil.copytree(os.path.dirname(os.path.abspath(mojo_tls.__file__)), vendor / "mojo_tls",
                    ignore=shutil.ignore_patterns("libmojo_tls*", "__pycache__"))
    work = tmp_path / "work"
    marker = tmp_path / "loaded"
    build_decoy(shared / "dist" / "lib", marker)
    build_decoy(work / "dist" / "lib", marker)
    env = dict(os.environ)
    env.pop("MOJO_TLS_LIBRARY", None)
    env["PYTHONPATH"] = str(vendor)
    env["LD_LIBRARY_PATH"] = str(lib.parent)  # the real one, by the system path
    code = ("import mojo_tls; print(mojo_tls.library_path()); "
            "print(len(mojo_tls.random_bytes(16)))")
    r = subprocess.run([sys.executable, "-c", code], cwd=work, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["libmojo_tls.so.1", "16"], r.stdout
    assert not marker.exists(), marker.read_text()
