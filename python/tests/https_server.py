"""An HTTPS server built the way users build one with the ssl module:
http.server + socketserver, each accepted socket wrapped by a mojo_tls
server TLSContext (the handshake in get_request, as an ssl-wrapped
listener's accept() does). test_http_clients.py runs the ThreadingMixIn one
in a thread and the ForkingMixIn one as this script:

    python https_server.py fork|thread CERT KEY   # prints the port, serves
                                                  # until SIGTERM (at most 120 s)
"""

from __future__ import annotations

import http.server
import os
import signal
import socketserver
import sys
import time

import mojo_tls

BODY = bytes(range(256)) * 512  # 128 KiB


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10

    def do_GET(self) -> None:
        if self.path == "/slow-close":
            # Connection: close, and the body is not yet buffered by the
            # client when it reads the headers.
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.send_header("Connection", "close")
            self.end_headers()
            time.sleep(0.3)
            self.wfile.write(BODY)
        elif self.path == "/until-eof":
            # No length: the body ends with the connection (close_notify
            # from shutdown_request's shutdown(SHUT_WR)).
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            for i in range(0, len(BODY), 16384):
                self.wfile.write(BODY[i:i + 16384])
                time.sleep(0.005)
        elif self.path == "/pid":
            body = str(os.getpid()).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


class TLSServerMixin:
    tls_context: mojo_tls.TLSContext
    socket: "socketserver.socket.socket"

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # type: ignore[arg-type]
        # (http.server's server_bind would look the name up in DNS)
        self.server_name = "localhost"
        self.server_port = self.socket.getsockname()[1]

    def get_request(self):  # type: ignore[no-untyped-def]
        sock, addr = self.socket.accept()
        sock.settimeout(10)
        return self.tls_context.wrap_socket(sock, server_side=True), addr


class ThreadingHTTPSServer(TLSServerMixin, socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class ForkingHTTPSServer(TLSServerMixin, socketserver.ForkingMixIn, http.server.HTTPServer):
    pass


def make_server(cls: type, ctx: mojo_tls.TLSContext) -> http.server.HTTPServer:
    srv = cls(("127.0.0.1", 0), Handler)
    srv.tls_context = ctx
    return srv


if __name__ == "__main__":
    signal.alarm(120)  # bounded even if the test never stops us
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    context = mojo_tls.TLSContext(server_side=True)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    server = make_server(ForkingHTTPSServer if sys.argv[1] == "fork" else ThreadingHTTPSServer,
                         context)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    finally:
        server.server_close()
