#!/usr/bin/env python3
"""Load through the Python asyncio helpers: 200 concurrent connections made
with mojo_tls.open_connection to a mojo_tls.start_server echo server, all
established before data moves, each echoing messages of random sizes with
SHA-256 checksums until a round count or the time budget (~20 s). Two
rounds: 0 bytes lost or corrupted, file descriptors back to the baseline,
RSS (free heap trimmed) back near the baseline. Figures are printed."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import random
import sys
import time

import rtlib as R

CONNS = 200
MAX_MSG = 65536
MAX_ROUNDS = 24
BUDGET = float(os.environ.get("MOJO_TLS_LOAD_SECONDS", "20"))


async def one_round(mt, sctx, cctx, n: int) -> dict:
    server_sums = []

    async def handle(reader, writer) -> None:
        h = hashlib.sha256()
        total = 0
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                h.update(data)
                total += len(data)
                writer.write(data)
                await writer.drain()
        finally:
            server_sums.append((total, h.hexdigest()))
            writer.close()

    server = await mt.start_server(handle, "127.0.0.1", 0, context=sctx, backlog=512)
    port = server.sockets[0].getsockname()[1]
    established = 0
    all_up = asyncio.Event()
    t0 = time.monotonic()
    deadline = t0 + BUDGET * 0.6 * R.slow()

    async def client(i: int) -> tuple:
        nonlocal established
        rnd = random.Random(i * 7919 + n)
        reader, writer = await mt.open_connection("127.0.0.1", port, context=cctx, server_hostname="localhost",
                                                  handshake_timeout=60 * R.slow())
        established += 1
        if established == CONNS:
            all_up.set()
        await asyncio.wait_for(all_up.wait(), 120 * R.slow())
        sent = hashlib.sha256()
        got = hashlib.sha256()
        nsent = nrecv = rounds = 0
        try:
            for r in range(MAX_ROUNDS):
                if time.monotonic() > deadline:
                    break
                size = rnd.randint(1, 64) if r % 4 == 0 else rnd.randint(1, MAX_MSG)
                msg = rnd.randbytes(size)
                writer.write(msg)
                await writer.drain()
                sent.update(msg)
                nsent += size
                back = await asyncio.wait_for(reader.readexactly(size), 60 * R.slow())
                assert back == msg, f"client {i} round {r}: echo corrupted"
                got.update(back)
                nrecv += size
                rounds += 1
        finally:
            writer.close()
            await writer.wait_closed()
        return nsent, nrecv, sent.hexdigest(), got.hexdigest(), rounds

    results = await asyncio.wait_for(asyncio.gather(*(client(i) for i in range(CONNS))), 240 * R.slow())
    server.close()
    await server.wait_closed()
    for _ in range(100):  # server handlers finish after the clients' close
        if len(server_sums) >= CONNS:
            break
        await asyncio.sleep(0.05)
    dt = time.monotonic() - t0
    lost = sum(s - r for s, r, _, _, _ in results)
    bad = [i for i, (s, r, hs, hr, _) in enumerate(results) if s != r or hs != hr]
    client_sums = sorted((s, hs) for s, _, hs, _, _ in results)
    return {"dt": dt, "lost": lost, "bad": bad, "rounds": sum(x[4] for x in results),
            "bytes": sum(s + r for s, r, _, _, _ in results), "servers_match": client_sums == sorted(server_sums),
            "servers": len(server_sums)}


def main() -> int:
    import mojo_tls as mt
    run = R.Runner("load: 200 connections through the asyncio helpers")
    ca = mt.generate_ca("load CA")
    leaf = mt.generate_cert(ca, "localhost", sans=["localhost", "127.0.0.1"])
    sctx = mt.TLSContext(server_side=True)
    sctx.load_cert_chain_data(leaf.cert_pem, leaf.key_pem)
    cctx = mt.TLSContext()
    cctx.load_verify_locations(cadata=ca.cert_pem)
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 2048 and hard > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    except (ImportError, ValueError, OSError):
        pass
    fds0, rss0 = R.fd_count(), R.rss_kib()
    figures = []

    def round_n(n: int):
        def case() -> str:
            r = asyncio.run(one_round(mt, sctx, cctx, n))
            gc.collect()
            figures.append((R.wait_fds(fds0, 0, 10), R.rss_kib()))
            assert r["lost"] == 0 and not r["bad"], f"lost {r['lost']} bytes, corrupted/short: clients {r['bad'][:10]}"
            assert r["servers"] == CONNS and r["servers_match"], \
                f"server-side checksums: {r['servers']} handlers, match={r['servers_match']}"
            assert r["dt"] < BUDGET * 3 * R.slow(), f"took {r['dt']:.1f}s"
            return (f"{CONNS} concurrent, {r['rounds']} echo round trips, {r['bytes'] / 1048576:.1f} MiB in "
                    f"{r['dt']:.1f}s, 0 bytes lost, server checksums match")
        return case

    run.run("round 1", round_n(1))
    run.run("round 2", round_n(2))

    def resources() -> str:
        assert len(figures) == 2, "a round failed"
        (f1, r1), (f2, r2) = figures
        assert f1 <= fds0 and f2 <= fds0, f"fds {fds0} -> {f1} -> {f2}: " + "; ".join(R.open_fds())
        # free heap trimmed (rtlib.rss_kib): back near the baseline, no growth per round
        assert r2 - rss0 <= 32 * 1024 and r2 - r1 <= 16 * 1024, \
            f"RSS {rss0} -> {r1} -> {r2} KiB: more than 32 MiB above the baseline or 16 MiB growth in round 2"
        return f"fds {fds0} -> {f1} -> {f2}; RSS {rss0} -> {r1} -> {r2} KiB (round 2 growth {r2 - r1} KiB)"

    run.run("file descriptors and RSS back to baseline", resources)
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
