#!/usr/bin/env bash
# Load suite (tests/reliability): 200 concurrent connections with checksummed
# echo of random sizes through C threads (load.c) and through the Python
# asyncio helpers (load_py.py), each bounded by MOJO_TLS_LOAD_SECONDS
# (default 20) per round. Prints "N passed, N failed" last.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dist="${MOJO_TLS_DIST:-$root/dist}"
out="$root/target/reliability"
mkdir -p "$out"
passed=0
failed=0
if cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -g -I "$dist/include" -o "$out/load" "$here/load.c" \
        -L "$dist/lib" -lmojo_tls -lpthread -Wl,-rpath,"$dist/lib" >"$out/load.build.log" 2>&1; then
    if timeout -k 5 400 "$out/load" >"$out/load.log" 2>&1; then
        passed=$((passed + 1))
        echo "PASS  C threads: 200 concurrent connections, checksummed echo"
    else
        failed=$((failed + 1))
        echo "FAIL  C threads (exit $?)"
        tail -n 30 "$out/load.log"
    fi
    grep -E '^(round|fds|RSS)' "$out/load.log" | sed 's/^/      /'
else
    failed=$((failed + 1))
    cat "$out/load.build.log"
    echo "FAIL  compile load.c"
fi
timeout -k 5 600 python3 "$here/load_py.py" 2>&1 | tee "$out/load_py.log" | grep -v ' passed, .* failed$'
read -r p f < <(tail -n 1 "$out/load_py.log" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
if [ -z "${p:-}" ]; then p=0; f=1; echo "FAIL  load_py.py gave no result"; fi
echo "$((passed + p)) passed, $((failed + f)) failed"
[ $((failed + f)) -eq 0 ]
