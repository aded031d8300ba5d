#!/usr/bin/env python3
"""A TLS client: connect, send a line (or an HTTP request), print the reply.

    python3 client.py example.com 443                  # HTTP HEAD, system CAs
    python3 client.py localhost 8443 --cafile ca.pem --send "hello"
"""

import argparse
import socket
import sys

import mojo_tls


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--cafile", help="trust this CA bundle instead of the system store")
    ap.add_argument("--send", help="line to send (default: an HTTP HEAD request)")
    ap.add_argument("--alpn", help="comma-separated ALPN protocols to offer")
    ap.add_argument("--insecure", action="store_true", help="do not verify the server (testing only)")
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args()

    ctx = mojo_tls.TLSContext()
    if args.cafile:
        ctx.load_verify_locations(args.cafile)
    if args.alpn:
        ctx.set_alpn_protocols(args.alpn.split(","))
    if args.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = mojo_tls.CERT_NONE

    try:
        with mojo_tls.connect(args.host, args.port, context=ctx, timeout=args.timeout) as s:
            cert = s.getpeercert() or {}
            subject = dict(rdn[0] for rdn in cert.get("subject", ()))
            print(f"connected: {s.version()} {s.cipher()[0]} alpn={s.selected_alpn_protocol()} "
                  f"peer CN={subject.get('commonName')!r}", file=sys.stderr)
            if args.send is not None:
                s.sendall(args.send.encode() + b"\n")
            else:
                s.sendall(f"HEAD / HTTP/1.1\r\nHost: {args.host}\r\nConnection: close\r\n\r\n".encode())
            while True:
                try:
                    data = s.recv(65536)
                except mojo_tls.TLSTruncatedError:
                    break  # many HTTP servers close without close_notify
                if not data:
                    break
                sys.stdout.buffer.write(data)
                if args.send is not None and data.endswith(b"\n"):
                    # end the session cleanly: close() alone sends no
                    # close_notify (as ssl's), which the server would see
                    # as a truncation
                    s.shutdown(socket.SHUT_WR)
                    break
    except mojo_tls.CertificateVerifyError as exc:
        print(f"certificate rejected: {exc.verify_reason}", file=sys.stderr)
        return 2
    except mojo_tls.TLSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
