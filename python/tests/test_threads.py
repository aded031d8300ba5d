"""Threads: blocking calls release the GIL; many connections in parallel;
full duplex on one connection; close() from another thread."""

import threading
import time

from conftest import HOST

import mojo_tls


def test_parallel_connections(server_ctx, client_ctx) -> None:
    n = 16
    errors = []
    with server_ctx.listen(HOST, 0) as lst:
        def serve():
            for _ in range(n):
                conn, _ = lst.accept(timeout=20, handshake=False)
                def one(c=conn):
                    try:
                        with c:
                            c.settimeout(10)
                            c.sendall(c.recv(100) * 2)
                    except Exception as exc:  # noqa: BLE001
                        errors.append(exc)
                threading.Thread(target=one, daemon=True).start()

        def client(i):
            try:
                with mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=10) as s:
                    msg = f"client {i}".encode()
                    s.sendall(msg)
                    got = b""
                    while len(got) < 2 * len(msg):
                        got += s.recv(100)
                    assert got == msg * 2
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        st = threading.Thread(target=serve, daemon=True)
        st.start()
        cts = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
        for t in cts:
            t.start()
        for t in cts:
            t.join(30)
        st.join(30)
        assert not any(t.is_alive() for t in cts) and not st.is_alive()
    assert errors == []


def test_full_duplex_and_close_from_other_thread(server_ctx, client_ctx) -> None:
    with server_ctx.listen(HOST, 0) as lst:
        box = {}

        def serve():
            conn, _ = lst.accept(timeout=10)
            with conn:
                conn.settimeout(10)
                box["server_got"] = conn.recv(100)
                conn.sendall(b"reply")
                time.sleep(1)

        st = threading.Thread(target=serve, daemon=True)
        st.start()
        s = mojo_tls.connect("localhost", lst.port, context=client_ctx, timeout=None)
        got = []
        rt = threading.Thread(target=lambda: got.append(s.recv(100)), daemon=True)
        rt.start()
        time.sleep(0.2)
        s.sendall(b"while reading")  # not blocked by the reader thread
        rt.join(10)
        assert got == [b"reply"] and box["server_got"] == b"while reading"
        # a reader blocked without timeout is woken by close() from another thread
        res = []

        def reader():
            try:
                s.recv(100)
            except mojo_tls.TLSError as exc:
                res.append(exc)

        rt2 = threading.Thread(target=reader, daemon=True)
        rt2.start()
        time.sleep(0.2)
        s.close()
        rt2.join(10)
        assert not rt2.is_alive()
        st.join(10)
