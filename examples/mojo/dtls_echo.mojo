# A DTLS 1.2 echo server: each datagram goes back to its sender, any number
# of clients at once (one thread, one poll(2) loop over the listener and
# every client, the handshakes' retransmission timers from
# next_timeout_ms).
#
#   MOJO_TLS_LIBRARY=$PWD/dist/lib/libmojo_tls.so.1 \
#     mojo run -I mojo examples/mojo/dtls_echo.mojo --port 4433
#
# Options: --host ADDR (127.0.0.1), --port N (4433; 0 = any free port),
# --cert FILE --key FILE (else a throwaway certificate for localhost),
# --ca FILE (require client certificates from that CA),
# --count N (exit after N clients ended; 0 = forever),
# --timeout-ms N (a client silent this long is dropped; 30000).
# It prints "listening on HOST:PORT" once ready, and one line per client
# when it ends.

from std.sys import argv

from mojo_tls import (
    DTLSListener,
    DTLSStream,
    MOJO_TLS_CLIENT_AUTH_REQUIRED,
    Poller,
    TLSConfig,
    TLSError,
    generate_ca,
    generate_cert,
    monotonic_ms,
    to_hex,
)


struct Client(Movable):
    var stream: DTLSStream
    var id: Int
    var handshaken: Bool
    var deadline: Int  # monotonic ms
    var echoed: Int
    var finished: Bool

    def __init__(out self, var stream: DTLSStream, id: Int, deadline: Int):
        self.stream = stream^
        self.id = id
        self.handshaken = False
        self.deadline = deadline
        self.echoed = 0
        self.finished = False


def step(mut c: Client, mut buf: List[UInt8], idle_ms: Int) raises TLSError:
    """Advance `c` as far as it goes without blocking."""
    if not c.handshaken:
        if not c.stream.try_handshake().done():
            return
        c.handshaken = True
        c.deadline = monotonic_ms() + idle_ms
    while True:
        var r = c.stream.try_read(Span(buf))
        if not r.done():
            return
        if r.count == 0:
            c.finished = True  # the client's close_notify
            return
        # UDP: a datagram the socket cannot take now is lost, as any other.
        _ = c.stream.try_write(Span(buf)[0 : r.count])
        c.echoed += 1
        c.deadline = monotonic_ms() + idle_ms


def usage() raises:
    raise Error(
        "usage: dtls_echo [--host ADDR] [--port N] [--cert FILE --key FILE]"
        " [--ca FILE] [--count N] [--timeout-ms N]"
    )


def main() raises:
    var host = String("127.0.0.1")
    var port = 4433
    var cert = String("")
    var key = String("")
    var ca = String("")
    var count = 0
    var idle_ms = 30000
    var args = argv()
    var i = 1
    while i < len(args):
        var a = String(args[i])
        if i + 1 >= len(args):
            usage()
        var v = String(args[i + 1])
        if a == "--host":
            host = v
        elif a == "--port":
            port = Int(v)
        elif a == "--cert":
            cert = v
        elif a == "--key":
            key = v
        elif a == "--ca":
            ca = v
        elif a == "--count":
            count = Int(v)
        elif a == "--timeout-ms":
            idle_ms = Int(v)
        else:
            usage()
        i += 2

    var config = TLSConfig.dtls_server()
    if cert.byte_length() > 0:
        config.add_cert_file(cert, key)
    else:
        var own_ca = generate_ca("dtls_echo throwaway CA")
        var leaf = generate_cert(own_ca, "localhost", "localhost,127.0.0.1")
        config.add_cert_pem(leaf.cert_pem(), leaf.key_pem())
        print("generated certificate sha256", to_hex(leaf.sha256(), ":"))
    if ca.byte_length() > 0:
        config.load_ca_file(ca)
        config.set_client_auth(MOJO_TLS_CLIENT_AUTH_REQUIRED)

    var listener = DTLSListener.bind(host, port, config)
    print("listening on ", host, ":", listener.port(), sep="", flush=True)

    var clients = List[Client]()
    var buf = List[UInt8](length=16384, fill=0)
    var poller = Poller()
    var accepted = 0
    var ended = 0
    while count == 0 or ended < count:
        # Wait for any socket, at most until the nearest timer or deadline.
        poller.clear()
        _ = poller.add(listener.fileno())
        var now = monotonic_ms()
        var wait_ms = 1000
        for k in range(len(clients)):
            _ = poller.add(clients[k].stream.fileno())
            wait_ms = min(wait_ms, max(0, clients[k].deadline - now))
            var t = clients[k].stream.next_timeout_ms()
            if t >= 0:
                wait_ms = min(wait_ms, t)
        _ = poller.wait(wait_ms)

        # New clients: every waiting datagram is handled (cookies answered).
        while True:
            try:
                var s = listener.accept(0)
                accepted += 1
                clients.append(
                    Client(s^, accepted, monotonic_ms() + idle_ms)
                )
            except e:
                if e.is_want_read():
                    break
                # A client whose handshake failed inside accept (a missing
                # certificate, say): it ended; the next round accepts on.
                accepted += 1
                ended += 1
                print(
                    "client ", accepted, ": not handshaken, 0 datagrams"
                    " echoed, ", e, sep="", flush=True,
                )
                break

        # Every client: a timer that ran out resends, datagrams are echoed.
        var j = 0
        while j < len(clients):
            var why = String("")
            try:
                step(clients[j], buf, idle_ms)
                if clients[j].finished:
                    why = "close_notify"
                elif monotonic_ms() > clients[j].deadline:
                    why = "timed out"
            except e:
                why = String(e)
            if why.byte_length() == 0:
                j += 1
                continue
            var c = clients.pop(j)
            var what = String("not handshaken")
            if c.handshaken:
                what = String(
                    c.stream.get_version(), " ", c.stream.get_cipher()
                )
            print(
                "client ",
                c.id,
                ": ",
                what,
                ", ",
                c.echoed,
                " datagrams echoed, ",
                why,
                sep="",
                flush=True,
            )
            ended += 1
