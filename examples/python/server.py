#!/usr/bin/env python3
"""A threaded TLS echo server. Without --cert it generates a CA and a
certificate for localhost and writes the CA to ca.pem for clients.

    python3 server.py --port 8443
    python3 client.py localhost 8443 --cafile ca.pem --send hello
"""

import argparse
import sys
import threading

import mojo_tls


def serve_one(conn: mojo_tls.TLSSocket, addr) -> None:
    with conn:
        print(f"{addr}: {conn.version()} {conn.cipher()[0]} sni={conn.server_name_indication()}",
              file=sys.stderr)
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
        except mojo_tls.TLSError as exc:
            print(f"{addr}: {exc}", file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8443)
    ap.add_argument("--cert", help="certificate chain (PEM)")
    ap.add_argument("--key", help="private key (PEM)")
    ap.add_argument("--max-clients", type=int, default=0, help="stop after N clients (0 = never)")
    ap.add_argument("--timeout", type=float, default=30.0, help="per-connection timeout (s)")
    args = ap.parse_args()

    ctx = mojo_tls.TLSContext(server_side=True)
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    else:
        ca = mojo_tls.generate_ca("mojo-tls example CA")
        leaf = mojo_tls.generate_cert(ca, "localhost", sans=["localhost", "127.0.0.1"])
        with open("ca.pem", "w") as f:
            f.write(ca.cert_pem)
        ctx.load_cert_chain_data(leaf.cert_pem, leaf.key_pem)
        print("wrote ca.pem (trust it in clients)", file=sys.stderr)
    ctx.set_alpn_protocols(["echo", "http/1.1"])

    served = 0
    threads = []
    with ctx.listen(args.host, args.port) as listener:
        print(f"listening on {args.host}:{listener.port}", file=sys.stderr)
        while args.max_clients == 0 or served < args.max_clients:
            try:
                conn, addr = listener.accept(timeout=None, handshake=False)
            except mojo_tls.TLSError as exc:
                print(f"accept: {exc}", file=sys.stderr)
                continue
            conn.settimeout(args.timeout)
            served += 1

            def run(c=conn, a=addr) -> None:
                try:
                    c.do_handshake()
                except mojo_tls.TLSError as exc:
                    print(f"{a}: handshake failed: {exc}", file=sys.stderr)
                    c.close()
                    return
                serve_one(c, a)

            t = threading.Thread(target=run, daemon=True)
            t.start()
            threads.append(t)
    for t in threads:  # with --max-clients: let the last clients finish
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
