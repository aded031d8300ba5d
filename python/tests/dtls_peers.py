"""DTLS test peers: `openssl s_server` / `s_client -dtls1_2` child processes,
checksummed datagrams, and a lossy UDP relay (drops, duplicates, reorders)."""

from __future__ import annotations

import asyncio
import hashlib
import random
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

HOST = "127.0.0.1"

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def datagram(seq: int, size: int) -> bytes:
    """A datagram that carries its sequence number and a checksum of itself."""
    n = max(0, size - 36)
    body = seq.to_bytes(4, "big") + random.Random(seq).getrandbits(8 * n).to_bytes(n, "big")
    return body + hashlib.sha256(body).digest()


def check_datagram(d: bytes) -> int:
    """The sequence number of an intact datagram (AssertionError otherwise)."""
    body, digest = d[:-32], d[-32:]
    assert hashlib.sha256(body).digest() == digest, "datagram corrupted"
    return int.from_bytes(body[:4], "big")


class OpenSSL:
    """An openssl child process (stdout to a file, stdin a pipe), stopped by
    its PID when done."""

    def __init__(self, args: List[str], out: Path) -> None:
        self.out = out
        self._f = open(out, "wb")
        self.proc = subprocess.Popen(["openssl", *args], stdin=subprocess.PIPE, stdout=self._f,
                                     stderr=subprocess.DEVNULL)

    def send_line(self, line: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def output(self) -> bytes:
        return self.out.read_bytes()

    def wait_output(self, size: int, timeout: float = 10) -> bytes:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.output()) < size:
            time.sleep(0.02)
        return self.output()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        self._f.close()

    def __enter__(self) -> "OpenSSL":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def s_server(pki: Any, port: int, out: Path, mtls: bool = False) -> OpenSSL:
    args = ["s_server", "-dtls1_2", "-accept", str(port), "-cert", str(pki.server_cert),
            "-key", str(pki.server_key), "-quiet"]
    if mtls:
        args += ["-Verify", "1", "-CAfile", str(pki.ca_file)]
    return OpenSSL(args, out)


def s_client(pki: Any, port: int, out: Path, mtls: bool = False) -> OpenSSL:
    args = ["s_client", "-dtls1_2", "-connect", f"{HOST}:{port}", "-CAfile", str(pki.ca_file),
            "-verify_return_error", "-verify_hostname", "localhost", "-quiet"]
    if mtls:
        args += ["-cert", str(pki.client_cert), "-key", str(pki.client_key)]
    return OpenSSL(args, out)


class LossyRelay:
    """One client's path to a server through a UDP relay on 127.0.0.1 that
    drops, duplicates and delays (so reorders) datagrams in both directions,
    from a seeded generator. Set `lossy = False` for a clean path."""

    def __init__(self, server: Tuple[str, int], seed: int, drop: float = 0.2,
                 dup: float = 0.15, delay: float = 0.25) -> None:
        self.server = server
        self.rng = random.Random(seed)
        self.drop, self.dup, self.delay = drop, dup, delay
        self.lossy = True
        self.client: Optional[Tuple[str, int]] = None
        self.stats: Dict[str, int] = {"dropped": 0, "duplicated": 0, "delayed": 0, "passed": 0}
        self.down: Optional[asyncio.DatagramTransport] = None
        self.up: Optional[asyncio.DatagramTransport] = None

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        relay = self

        class Down(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                relay.client = addr
                relay._forward(data, lambda d: relay.up.sendto(d) if relay.up else None)

        class Up(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                c = relay.client
                if c is not None and relay.down is not None:
                    relay._forward(data, lambda d: relay.down.sendto(d, c) if relay.down else None)

        self.down, _ = await loop.create_datagram_endpoint(Down, local_addr=(HOST, 0))
        self.up, _ = await loop.create_datagram_endpoint(Up, remote_addr=self.server)
        return int(self.down.get_extra_info("sockname")[1])

    def _forward(self, data: bytes, send: Any) -> None:
        if not self.lossy:
            self.stats["passed"] += 1
            send(data)
            return
        r = self.rng
        if r.random() < self.drop:
            self.stats["dropped"] += 1
            return
        copies = 2 if r.random() < self.dup else 1
        self.stats["duplicated"] += copies - 1
        loop = asyncio.get_running_loop()
        for _ in range(copies):
            if r.random() < self.delay:
                self.stats["delayed"] += 1
                loop.call_later(r.uniform(0.005, 0.04), send, data)
            else:
                self.stats["passed"] += 1
                send(data)

    def close(self) -> None:
        for t in (self.down, self.up):
            if t is not None:
                t.close()
