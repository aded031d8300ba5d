"""The wheel a user could publish: platform tag, stripped library, licences,
and a build that never packages a stale library from the source tree.

Reads the wheel ./build.sh (python/build_wheel.sh) put in $MOJO_TLS_DIST/python.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PY_SRC = Path(__file__).resolve().parents[1]
DIST = Path(os.environ.get("MOJO_TLS_DIST", PY_SRC.parent / "dist"))
LINUX = sys.platform.startswith("linux")


def the_wheel() -> Path:
    wheels = sorted((DIST / "python").glob("mojo_tls-*.whl"))
    if not wheels:
        pytest.skip("no wheel in %s/python (run ./build.sh)" % DIST)
    assert len(wheels) == 1, wheels
    return wheels[0]


def library_in(whl: Path, tmp_path: Path) -> Path:
    with zipfile.ZipFile(whl) as z:
        names = [n for n in z.namelist() if re.match(r"mojo_tls/libmojo_tls\.(so\.\d+|\d+\.dylib)$", n)]
        assert len(names) == 1, z.namelist()
        return Path(z.extract(names[0], tmp_path))


@pytest.mark.skipif(not LINUX, reason="manylinux tags are Linux-only")
def test_wheel_has_a_manylinux_tag_auditwheel_accepts() -> None:
    whl = the_wheel()
    assert re.search(r"-py3-none-manylinux_2_\d+_x86_64\.whl$", whl.name), whl.name
    out = subprocess.run([sys.executable, "-m", "auditwheel", "show", str(whl)],
                         capture_output=True, text=True)
    if out.returncode != 0 and "No module named auditwheel" in out.stderr:
        pytest.skip("auditwheel is not installed in this venv")
    assert out.returncode == 0, out.stderr
    tag = re.search(r"manylinux_2_\d+_x86_64", whl.name).group(0)  # type: ignore[union-attr]
    assert 'platform tag: "%s"' % tag in " ".join(out.stdout.split()), out.stdout


@pytest.mark.skipif(not LINUX, reason="ELF sections")
def test_wheel_library_is_stripped(tmp_path: Path) -> None:
    lib = library_in(the_wheel(), tmp_path)
    sections = subprocess.run(["readelf", "-S", "-W", str(lib)], capture_output=True,
                              text=True, check=True).stdout
    assert ".debug_info" not in sections
    assert ".symtab" not in sections  # local symbols gone too; .dynsym keeps the ABI
    assert lib.stat().st_size < 6 * 1024 * 1024, lib.stat().st_size
    dyn = subprocess.run(["nm", "-D", "--defined-only", str(lib)], capture_output=True,
                         text=True, check=True).stdout
    assert " mojo_tls_version" in dyn


def test_wheel_carries_the_licences() -> None:
    with zipfile.ZipFile(the_wheel()) as z:
        names = set(z.namelist())
        assert "mojo_tls/licenses/LICENSE" in names
        assert "mojo_tls/licenses/mbedtls/LICENSE" in names
        assert "mojo_tls/licenses/THIRD-PARTY.md" in names
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
        listing = z.read("mojo_tls/licenses/THIRD-PARTY.md").decode()
        assert "Mbed TLS" in listing and "ring (Rust crate)" in listing
        apache = z.read("mojo_tls/licenses/LICENSE").decode()
        assert "Apache License" in apache and "Version 2.0" in apache


def test_dist_has_stripped_library_licences_and_c_readme() -> None:
    if not (DIST / "lib").is_dir():
        pytest.skip("no dist/lib")
    libs = [p for p in (DIST / "lib").glob("libmojo_tls.so.*.*.*") if not p.is_symlink()]
    if LINUX:
        assert len(libs) == 1, libs
        sections = subprocess.run(["readelf", "-S", "-W", str(libs[0])], capture_output=True,
                                  text=True, check=True).stdout
        assert ".debug_info" not in sections
        assert ".gnu_debuglink" in sections
        assert (DIST / "lib" / ".debug" / (libs[0].name + ".debug")).is_file()
    assert (DIST / "licenses" / "LICENSE").is_file()
    assert (DIST / "licenses" / "mbedtls" / "LICENSE").is_file()
    readme = (DIST / "README.md").read_text()
    assert "pkg-config" in readme and "mojo_tls" in readme
    assert re.search(r"SONAME `libmojo_tls\.(so\.\d+|\d+\.dylib)`", readme), readme


def test_build_never_packages_a_stale_library_from_the_tree(tmp_path: Path) -> None:
    """A libmojo_tls.so.* left in python/mojo_tls/ (an old build, a planted
    file) must not end up in the wheel: setup.py packages a fresh build or
    the library MOJO_TLS_PREBUILT_LIBRARY names, nothing else."""
    whl = the_wheel()
    good = library_in(whl, tmp_path / "good")
    src = tmp_path / "src" / "python"
    shutil.copytree(PY_SRC, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "tests",
                                                               "__pycache__", "libmojo_tls*"))
    for name in ("Cargo.toml", "Cargo.lock", "build.rs", "src", "tools", "LICENSE"):
        (src.parent / name).symlink_to(PY_SRC.parent / name)  # the crate, for the licences
    stale = src / "mojo_tls" / good.name
    stale.write_bytes(b"stale library left in the source tree\n")
    out = tmp_path / "out"
    env = dict(os.environ, MOJO_TLS_PREBUILT_LIBRARY=str(good))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(out), str(src)], check=True, env=env,
                   cwd=tmp_path)
    built = next(out.glob("mojo_tls-*.whl"))
    lib = library_in(built, tmp_path / "built")
    assert lib.read_bytes()[:4] == b"\x7fELF" or sys.platform == "darwin"
    assert lib.read_bytes() != stale.read_bytes()
