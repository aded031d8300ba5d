#!/usr/bin/env python3
"""tools/licenses.py OUTDIR — the licences of everything inside libmojo_tls.

Writes into OUTDIR:
  LICENSE                      mojo-tls's own (Apache-2.0)
  mbedtls/LICENSE              Mbed TLS's, from the vendored source the build used
  crates/<name>-<version>/...  each Rust crate linked into the library
                               (normal dependencies only: no build or dev tools)
  THIRD-PARTY.md               one line per component: name, version, licence

The crates' files come from the Rust package registry's sources that cargo
fetched (`cargo metadata`), so the list follows Cargo.lock. Extra cargo
arguments (e.g. --no-default-features --features system) go after OUTDIR;
without them, MBEDTLS_DIR in the environment means the system backend (as
in build.sh). On that backend Mbed TLS is linked in from MBEDTLS_DIR, and its
licence comes from there (LICENSE, or the Debian packages' copyright files).
"""
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LICENSE_PREFIXES = ("license", "licence", "copying", "notice", "unlicense")
# Crates whose vendored C library has a licence file of its own.
VENDORED = {"mbedtls-rs-sys": ("mbedtls", "mbedtls")}
# Mbed TLS's own terms (its LICENSE), not those of the crate that vendors it.
MBEDTLS_LICENSE = "Apache-2.0 OR GPL-2.0-or-later"


def licence_files(directory):
    names = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if os.path.isfile(path) and name.lower().startswith(LICENSE_PREFIXES):
            names.append(path)
    return names


def linked_packages(meta):
    """Packages reachable from the root through normal (runtime) dependencies."""
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    packages = {p["id"]: p for p in meta["packages"]}
    root = meta["resolve"]["root"]
    seen, todo = set(), [root]
    while todo:
        pid = todo.pop()
        # Proc-macro crates run in the compiler: neither they nor what only
        # they depend on is linked.
        if pid in seen or any("proc-macro" in t["kind"] for t in packages[pid]["targets"]):
            continue
        seen.add(pid)
        for dep in nodes[pid]["deps"]:
            if any(k["kind"] is None for k in dep["dep_kinds"]):
                todo.append(dep["pkg"])
    seen.discard(root)
    return [packages[pid] for pid in seen]


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    out = os.path.abspath(argv[1])
    extra = argv[2:]
    if not extra and os.environ.get("MBEDTLS_DIR"):
        extra = ["--no-default-features", "--features", "system"]
    cmd = ["cargo", "metadata", "--format-version", "1", "--manifest-path",
           os.path.join(ROOT, "Cargo.toml"), "--filter-platform", host_triple()] + extra
    meta = json.loads(subprocess.check_output(cmd, cwd=ROOT))
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    shutil.copyfile(os.path.join(ROOT, "LICENSE"), os.path.join(out, "LICENSE"))
    lines = ["# Third-party components in libmojo_tls", "",
             "| component | version | licence | files |", "|---|---|---|---|"]
    for pkg in sorted(linked_packages(meta), key=lambda p: p["name"]):
        src = os.path.dirname(pkg["manifest_path"])
        dest = os.path.join(out, "crates", "%s-%s" % (pkg["name"], pkg["version"]))
        files = licence_files(src)
        rel = "(the crate ships no licence file)"
        if files:
            os.makedirs(dest)
            for f in files:
                shutil.copyfile(f, os.path.join(dest, os.path.basename(f)))
            rel = "`%s/`" % os.path.relpath(dest, out)
        lines.append("| %s (Rust crate) | %s | %s | %s |" % (
            pkg["name"], pkg["version"], pkg.get("license") or "see files", rel))
        if pkg["name"] in VENDORED:
            name, sub = VENDORED[pkg["name"]]
            vfiles = licence_files(os.path.join(src, sub))
            if not vfiles:
                sys.exit("tools/licenses.py: no licence file in %s's vendored source" % pkg["name"])
            vdest = os.path.join(out, name)
            os.makedirs(vdest)
            for f in vfiles:
                shutil.copyfile(f, os.path.join(vdest, os.path.basename(f)))
            lines.append("| Mbed TLS (C, vendored by %s) | %s | %s | `%s/` |" % (
                pkg["name"], mbedtls_version(os.path.join(src, sub)),
                MBEDTLS_LICENSE, name))
    if "system" in " ".join(extra):
        lines.append(system_mbedtls(out))
    with open(os.path.join(out, "THIRD-PARTY.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return 0


def system_mbedtls(out):
    """Mbed TLS from MBEDTLS_DIR (linked into the library by the system
    backend): copies its licence and returns the THIRD-PARTY.md line."""
    prefix = os.environ.get("MBEDTLS_DIR")
    if not prefix:
        sys.exit("tools/licenses.py: the system backend needs MBEDTLS_DIR to find Mbed TLS's licence")
    found = []
    for base in (prefix, os.path.join(prefix, "usr")):
        for cand in ("LICENSE", os.path.join("share", "licenses", "mbedtls", "LICENSE")):
            if os.path.isfile(os.path.join(base, cand)):
                found.append(os.path.join(base, cand))
        doc = os.path.join(base, "share", "doc")
        if os.path.isdir(doc):
            for pkg in sorted(os.listdir(doc)):
                cp = os.path.join(doc, pkg, "copyright")
                if pkg.startswith("libmbed") and os.path.isfile(cp):
                    found.append(cp)
    if not found:
        sys.exit("tools/licenses.py: no Mbed TLS licence under MBEDTLS_DIR=%s "
                 "(looked for LICENSE and share/doc/libmbed*/copyright)" % prefix)
    dest = os.path.join(out, "mbedtls")
    os.makedirs(dest)
    for i, f in enumerate(found):
        name = os.path.basename(f)
        if name == "copyright":
            name = "copyright-" + os.path.basename(os.path.dirname(f))
        shutil.copyfile(f, os.path.join(dest, name))
        if i == 0:
            shutil.copyfile(f, os.path.join(dest, "LICENSE"))
    version = "see LICENSE"
    for base in (prefix, os.path.join(prefix, "usr")):
        if os.path.isdir(os.path.join(base, "include", "mbedtls")):
            version = mbedtls_version(base)
            break
    return "| Mbed TLS (C, linked from MBEDTLS_DIR) | %s | Apache-2.0 OR GPL-2.0-or-later | `mbedtls/` |" % version


def mbedtls_version(vendor):
    header = os.path.join(vendor, "include", "mbedtls", "version.h")
    for cand in (os.path.join(vendor, "include", "mbedtls", "build_info.h"), header):
        if os.path.exists(cand):
            with open(cand) as fh:
                for line in fh:
                    if "define MBEDTLS_VERSION_STRING " in line:
                        return line.split('"')[1]
    return "see LICENSE"


def host_triple():
    out = subprocess.check_output(["rustc", "-vV"], text=True)
    for line in out.splitlines():
        if line.startswith("host:"):
            return line.split()[1]
    raise SystemExit("tools/licenses.py: cannot tell the host triple from rustc -vV")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
