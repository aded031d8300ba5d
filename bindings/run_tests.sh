#!/usr/bin/env bash
# bindings/run_tests.sh — the generated FFI files are fresh and complete,
# and the header parser passes its unit tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python3 bindings/generate.py --check
python3 -m unittest bindings/test_generate.py
