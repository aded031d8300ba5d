#!/usr/bin/env bash
# valgrind over one Python run (tests/reliability): valgrind_py.py drives
# the mojo_tls package (memory mode, loopback sockets with a server thread,
# sessions, a verification failure, bad input) under valgrind with
# PYTHONMALLOC=malloc. Fails on any invalid access or definite leak whose
# stack goes through libmojo_tls; reports (without failing) what valgrind
# says about CPython itself. Prints "N passed, N failed" last.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/target/reliability"
mkdir -p "$out"
if ! command -v valgrind >/dev/null 2>&1; then
    echo "FAIL  valgrind is not installed"
    echo "0 passed, 1 failed"
    exit 1
fi
# the real interpreter, not a shim script (pyenv & co)
py=$(python3 -c 'import sys; print(sys.executable)')
xml="$out/valgrind_py.xml"
t0=$(date +%s)
PYTHONMALLOC=malloc MOJO_TLS_TEST_SLOW=10 timeout -k 10 800 valgrind --leak-check=full \
    --show-leak-kinds=definite --errors-for-leak-kinds=definite --num-callers=40 \
    --suppressions="$here/../c/valgrind.supp" --xml=yes --xml-file="$xml" "$py" "$here/valgrind_py.py" >"$out/valgrind_py.log" 2>&1
rc=$?
secs=$(( $(date +%s) - t0 ))
python3 - "$xml" "$rc" "$secs" "$out/valgrind_py.log" <<'PY'
import sys
import xml.etree.ElementTree as ET

xml_path, rc, secs, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
passed = failed = 0
text = open(log, errors="replace").read()
if rc != 0 or "workload done" not in text:
    print(f"FAIL  the workload under valgrind exited {rc}:")
    print("\n".join(text.splitlines()[-20:]))
    failed += 1
else:
    print(f"PASS  workload ran under valgrind ({secs}s)")
    passed += 1
try:
    root = ET.parse(xml_path).getroot()
except (ET.ParseError, FileNotFoundError) as exc:
    print(f"FAIL  no valgrind XML report: {exc}")
    print(f"{passed} passed, {failed + 1} failed")
    sys.exit(1)
ours, other = [], {}
for err in root.iter("error"):
    kind = err.findtext("kind", "")
    frames = [(f.findtext("obj", ""), f.findtext("fn", "?"), f.findtext("file", ""), f.findtext("line", ""))
              for f in err.iter("frame")]
    in_lib = any("libmojo_tls" in obj for obj, *_ in frames)
    what = err.findtext("xwhat/text") or err.findtext("what") or kind
    if in_lib:
        ours.append((kind, what, frames))
    else:
        other[kind] = other.get(kind, 0) + 1
definite = [e for e in ours if e[0] == "Leak_DefinitelyLost"]
invalid = [e for e in ours if e[0] != "Leak_DefinitelyLost"]
for label, items in (("invalid accesses / uninitialised values in libmojo_tls", invalid),
                     ("definite leaks through libmojo_tls", definite)):
    if items:
        failed += 1
        print(f"FAIL  {len(items)} {label}:")
        for kind, what, frames in items[:5]:
            print(f"      {kind}: {what}")
            for obj, fn, f, ln in frames[:12]:
                print(f"          {fn} ({f}:{ln})" if f else f"          {fn} [{obj.rsplit('/', 1)[-1]}]")
    else:
        passed += 1
        print(f"PASS  0 {label}")
noise = ", ".join(f"{k} x{v}" for k, v in sorted(other.items())) or "none"
print(f"      outside libmojo_tls (CPython, not counted): {noise}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
