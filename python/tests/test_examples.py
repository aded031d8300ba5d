"""The programs in examples/python run against each other."""

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="examples/python not found")


def test_asyncio_example() -> None:
    r = subprocess.run([sys.executable, str(EXAMPLES / "asyncio_echo.py"), "--clients", "10"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "10/10 clients echoed correctly" in r.stdout


def test_dtls_asyncio_example() -> None:
    r = subprocess.run([sys.executable, str(EXAMPLES / "dtls_echo.py"), "--clients", "10"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "10/10 DTLS clients echoed correctly" in r.stdout


def test_client_and_server_examples(tmp_path) -> None:
    srv = subprocess.Popen([sys.executable, str(EXAMPLES / "server.py"), "--port", "0",
                            "--max-clients", "1"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        deadline = time.monotonic() + 20
        while port is None and time.monotonic() < deadline:
            line = srv.stderr.readline()
            m = re.search(r"listening on [\d.]+:(\d+)", line)
            if m:
                port = m.group(1)
        assert port, "server did not start"
        r = subprocess.run([sys.executable, str(EXAMPLES / "client.py"), "localhost", port,
                            "--cafile", str(tmp_path / "ca.pem"), "--send", "hello examples"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "hello examples\n"
        assert srv.wait(timeout=20) == 0
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
