"""benches/bench_py.py — the Python side of ./build.sh bench.

  bench_py.py bulk mojo|stdlib BYTES CERT KEY CA [aes128gcm|chacha20]
      1 connection, the client sends BYTES with sendall() of 16 KiB, the
      server (a forked process) reads with recv_into() of 16 KiB and acks
      one byte → "bulk_MBps X". mojo = the mojo_tls package, stdlib = ssl.
  bench_py.py hs mojo|stdlib SECONDS CERT KEY CA
      full TLS 1.3 handshakes (x25519, chain + host name verified, a 1-byte
      echo so the session tickets are processed) from this process against
      one stdlib ssl server (a forked process, the same for both kinds) for
      SECONDS → "hs_per_s X" and "client_cpu_us X" (this process's CPU per
      handshake: what a Python client pays).
  bench_py.py ffi ITERS CERT KEY CA
      cost of one ctypes call through the package's generated layer
      (mojo_tls._ffi): mojo_tls_conn_pending on a live connection → "ffi_ns X".

Loopback only; the server process is killed by PID if it outlives the run.
"""
import os
import signal
import socket
import ssl
import sys
import time

CHUNK = 16384
SUITES12 = {
    "aes128gcm": ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    "chacha20": ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"),
}


def contexts(kind, cert, key, ca, suite):
    iana, ossl = SUITES12[suite]
    if kind == "mojo":
        import mojo_tls
        srv = mojo_tls.TLSContext(server_side=True)
        srv.load_cert_chain(cert, key)
        cli = mojo_tls.TLSContext()
        cli.load_verify_locations(ca)
        for c in (srv, cli):
            c.minimum_version = mojo_tls.TLSVersion.TLSv1_2
            c.maximum_version = mojo_tls.TLSVersion.TLSv1_2
            c.set_ciphers(iana)
            c.set_groups("x25519:secp256r1")
        return srv, cli
    srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    srv.load_cert_chain(cert, key)
    cli = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cli.load_verify_locations(ca)
    for c in (srv, cli):
        c.minimum_version = ssl.TLSVersion.TLSv1_2
        c.maximum_version = ssl.TLSVersion.TLSv1_2
        c.set_ciphers(ossl)
    return srv, cli


def listen():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    return ls


def serve_one(kind, srv, ls, nbytes):
    """In the child: accept one connection, read nbytes, ack, wait for close."""
    if kind == "mojo":
        s = srv.wrap_socket(ls.accept()[0], server_side=True)
    else:
        s = srv.wrap_socket(ls.accept()[0], server_side=True)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1) if kind == "stdlib" else None
    buf = bytearray(CHUNK)
    got = 0
    while got < nbytes:
        n = s.recv_into(buf, CHUNK)
        if n <= 0:
            raise SystemExit("server: early EOF")
        got += n
    s.sendall(b"k")
    try:
        s.recv_into(buf, CHUNK)
    except Exception:
        pass
    s.close()


def connect(kind, cli, port):
    if kind == "mojo":
        import mojo_tls
        return mojo_tls.connect("127.0.0.1", port, context=cli, server_hostname="localhost", timeout=60)
    raw = socket.create_connection(("127.0.0.1", port), timeout=60)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return cli.wrap_socket(raw, server_hostname="localhost")


def with_child(serve, client, limit=600):
    """Run serve(listener) in a forked child and client(port) here; the
    child is killed by PID if it outlives the client by a second."""
    ls = listen()
    port = ls.getsockname()[1]
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            signal.alarm(limit)
            serve(ls)
        except BaseException as exc:  # noqa: BLE001 - report and exit the child
            print(f"server: {exc!r}", file=sys.stderr)
            code = 1
        os._exit(code)
    ls.close()
    try:
        client(port)
    finally:
        try:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done == 0:
                time.sleep(1)
                done, st = os.waitpid(pid, os.WNOHANG)
            if done == 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def with_server(kind, srv, nbytes, client):
    with_child(lambda ls: serve_one(kind, srv, ls, nbytes), client)


def bulk(kind, nbytes, cert, key, ca, suite):
    srv, cli = contexts(kind, cert, key, ca, suite)
    out = {}

    def client(port):
        s = connect(kind, cli, port)
        data = bytes((i * 131 + 7) & 0xFF for i in range(CHUNK))
        mv = memoryview(data)
        t0 = time.perf_counter()
        sent = 0
        while sent < nbytes:
            n = min(CHUNK, nbytes - sent)
            s.sendall(mv[:n])
            sent += n
        ack = bytearray(1)
        if s.recv_into(ack, 1) != 1:
            raise SystemExit("client: no ack")
        out["dt"] = time.perf_counter() - t0
        out["cipher"] = s.cipher()[0]
        s.close()

    with_server(kind, srv, nbytes, client)
    print("cipher", out["cipher"])
    print(f"bulk_MBps {nbytes / out['dt'] / 1e6:.2f}")


def hs_server(cert, key, ls, seconds):
    """In the child: a stdlib TLS 1.3 server answering each connection's one
    byte, until the client stops connecting."""
    srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    srv.load_cert_chain(cert, key)
    srv.minimum_version = ssl.TLSVersion.TLSv1_3
    ls.settimeout(seconds + 30)
    while True:
        try:
            raw = ls.accept()[0]
        except socket.timeout:
            return
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with srv.wrap_socket(raw, server_side=True) as s:
                b = s.recv(1)
                if b == b"q":
                    return
                s.sendall(b)
        except (OSError, ssl.SSLError):
            pass  # the client's close races the server's last write


def hs_client_context(kind, ca):
    if kind == "mojo":
        import mojo_tls
        cli = mojo_tls.TLSContext()
        cli.load_verify_locations(ca)
        cli.minimum_version = mojo_tls.TLSVersion.TLSv1_3
        cli.set_groups("x25519")
        return cli
    cli = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cli.load_verify_locations(ca)
    cli.minimum_version = ssl.TLSVersion.TLSv1_3
    return cli


def hs_connect(kind, cli, port):
    """A client as users write one: socket.create_connection (no
    TCP_NODELAY) wrapped by the package or by ssl."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=60)
    return cli.wrap_socket(raw, server_hostname="localhost")


def handshakes(kind, seconds, cert, key, ca):
    cli = hs_client_context(kind, ca)
    out = {}

    def client(port):
        n = 0
        t0, c0 = time.perf_counter(), time.process_time()
        while time.perf_counter() - t0 < seconds:
            s = hs_connect(kind, cli, port)
            s.sendall(b"x")
            if s.recv(1) != b"x":
                raise SystemExit("client: no echo")
            s.close()
            n += 1
        out["dt"], out["cpu"], out["n"] = time.perf_counter() - t0, time.process_time() - c0, n
        s = hs_connect(kind, cli, port)
        s.sendall(b"q")
        s.close()

    with_child(lambda ls: hs_server(cert, key, ls, seconds), client, int(seconds) + 120)
    print(f"hs_per_s {out['n'] / out['dt']:.1f}")
    print(f"client_cpu_us {out['cpu'] * 1e6 / out['n']:.1f}")


def ffi(iters, cert, key, ca):
    from mojo_tls import _ffi
    srv, cli = contexts("mojo", cert, key, ca, "aes128gcm")

    def client(port):
        s = connect("mojo", cli, port)
        lib = _ffi.load()
        fn = lib.mojo_tls_conn_pending
        h = s._h()
        for _ in range(iters // 10):
            fn(h)
        t0 = time.perf_counter()
        for _ in range(iters):
            fn(h)
        dt = time.perf_counter() - t0
        s.sendall(b"x")
        s.close()
        print(f"ffi_ns {dt * 1e9 / iters:.1f}")

    with_server("mojo", srv, 1, client)


def main(argv):
    signal.alarm(900)
    if len(argv) >= 7 and argv[1] == "bulk":
        bulk(argv[2], int(argv[3]), argv[4], argv[5], argv[6], argv[7] if len(argv) > 7 else "aes128gcm")
    elif len(argv) >= 7 and argv[1] == "hs":
        handshakes(argv[2], float(argv[3]), argv[4], argv[5], argv[6])
    elif len(argv) >= 6 and argv[1] == "ffi":
        ffi(int(argv[2]), argv[3], argv[4], argv[5])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
