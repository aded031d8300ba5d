# A TLS echo server for many clients at once: one thread, one poll(2) loop,
# non-blocking connections. A client that connects and stays silent (or
# handshakes slowly) delays nobody: each handshake has its own deadline.
#
#   MOJO_TLS_LIBRARY=$PWD/dist/lib/libmojo_tls.so.1 \
#     mojo run -I mojo examples/mojo/event_server.mojo --port 8443
#
# Options: --host ADDR (127.0.0.1), --port N (8443; 0 = any free port),
# --cert FILE --key FILE (else a throwaway certificate for localhost),
# --count N (exit after N connections ended; 0 = forever),
# --handshake-timeout-ms N (10000), --idle-timeout-ms N (30000).
# It prints "listening on HOST:PORT" once ready, and one line per
# connection when it ends.

from std.sys import argv

from mojo_tls import (
    IOResult,
    Poller,
    TLSConfig,
    TLSError,
    TLSListener,
    TLSStream,
    generate_ca,
    generate_cert,
    monotonic_ms,
    to_hex,
)


struct Client(Movable):
    """One connection: handshaking, then echoing what it reads."""

    var stream: TLSStream
    var id: Int
    var handshaken: Bool
    var want: IOResult  # what the last try_* call waits for
    var deadline: Int  # monotonic ms
    var out: List[UInt8]  # read, not yet written back
    var out_off: Int
    var echoed: Int
    var finished: Bool
    var truncated: Bool  # ended without close_notify (Python's ssl does)

    def __init__(out self, var stream: TLSStream, id: Int, deadline: Int):
        self.stream = stream^
        self.id = id
        self.handshaken = False
        self.want = IOResult(0, 0)
        self.deadline = deadline
        self.out = List[UInt8]()
        self.out_off = 0
        self.echoed = 0
        self.finished = False
        self.truncated = False


def step(
    mut c: Client, mut buf: List[UInt8], idle_ms: Int
) raises TLSError:
    """Advance `c` as far as it goes without blocking."""
    if not c.handshaken:
        c.want = c.stream.try_handshake()
        if not c.want.done():
            return
        c.handshaken = True
        c.deadline = monotonic_ms() + idle_ms
    while True:
        # Write back what is left first (reading more would pile it up).
        while c.out_off < len(c.out):
            c.want = c.stream.try_write(Span(c.out)[c.out_off :])
            if not c.want.done():
                return
            c.out_off += c.want.count
            c.echoed += c.want.count
        c.out.clear()
        c.out_off = 0
        try:
            c.want = c.stream.try_read(Span(buf))
        except e:
            if not e.is_truncated():
                raise e^
            c.finished = True
            c.truncated = True
            return
        if not c.want.done():
            return  # want_read: nothing pending inside the library
        if c.want.count == 0:
            c.finished = True  # the peer's close_notify
            return
        c.out.extend(Span(buf)[0 : c.want.count])
        c.deadline = monotonic_ms() + idle_ms


def usage() raises:
    raise Error(
        "usage: event_server [--host ADDR] [--port N] [--cert FILE --key FILE]"
        " [--count N] [--handshake-timeout-ms N] [--idle-timeout-ms N]"
    )


def main() raises:
    var host = String("127.0.0.1")
    var port = 8443
    var cert = String("")
    var key = String("")
    var count = 0
    var handshake_ms = 10000
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
        elif a == "--count":
            count = Int(v)
        elif a == "--handshake-timeout-ms":
            handshake_ms = Int(v)
        elif a == "--idle-timeout-ms":
            idle_ms = Int(v)
        else:
            usage()
        i += 2

    var config = TLSConfig.server()
    if cert.byte_length() > 0:
        config.add_cert_file(cert, key)
    else:
        var ca = generate_ca("event_server throwaway CA")
        var leaf = generate_cert(ca, "localhost", "localhost,127.0.0.1")
        config.add_cert_pem(leaf.cert_pem(), leaf.key_pem())
        print("generated certificate sha256", to_hex(leaf.sha256(), ":"))

    var listener = TLSListener.bind(host, port, config, backlog=512)
    print("listening on ", host, ":", listener.port(), sep="", flush=True)

    var clients = List[Client]()
    var buf = List[UInt8](length=16384, fill=0)
    var poller = Poller()
    var accepted = 0
    var ended = 0
    while count == 0 or ended < count:
        # One round: the listener, then every client, for what it waits on.
        poller.clear()
        var li = poller.add(listener.fileno())
        var now = monotonic_ms()
        var wait_ms = 1000
        for j in range(len(clients)):
            _ = poller.add(clients[j].stream.fileno(), clients[j].want)
            wait_ms = max(0, min(wait_ms, clients[j].deadline - now))
        _ = poller.wait(wait_ms)

        if poller.readable(li):
            # Take every client already waiting; none is handshaken here.
            while True:
                try:
                    var s = listener.accept_no_handshake(0)
                    s.set_timeout(0)
                    accepted += 1
                    clients.append(
                        Client(s^, accepted, monotonic_ms() + handshake_ms)
                    )
                except e:
                    if not e.is_want_read():
                        print("accept: ", e, sep="", flush=True)
                    break

        now = monotonic_ms()
        var k = len(clients) - 1
        # Backwards: the last added (not polled yet) are tried at once.
        while k >= 0:
            var failure = String("")
            var idx = k + 1  # poll index (0 is the listener)
            var due = idx >= len(poller) or poller.ready(idx)
            if due:
                try:
                    step(clients[k], buf, idle_ms)
                except e:
                    failure = String(e)
            if (
                failure.byte_length() == 0
                and not clients[k].finished
                and now > clients[k].deadline
            ):
                failure = (
                    "idle timeout" if clients[k].handshaken else (
                        "handshake timeout"
                    )
                )
            if failure.byte_length() > 0 or clients[k].finished:
                var c = clients.pop(k)
                if failure.byte_length() > 0:
                    print("connection ", c.id, ": ", failure, sep="")
                else:
                    print(
                        "connection ",
                        c.id,
                        ": echoed ",
                        c.echoed,
                        " bytes",
                        " (no close_notify)" if c.truncated else "",
                        sep="",
                    )
                    try:
                        c.stream.close_notify()
                    except:
                        pass  # the peer may be gone already
                c.stream.close()
                ended += 1
            k -= 1
    print("served ", ended, " connections", sep="", flush=True)
