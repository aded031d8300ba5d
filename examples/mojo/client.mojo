# A TLS client: connects, prints what was negotiated, sends a message (or an
# HTTP HEAD request), ends its side with close_notify and prints the reply
# until the server closes. Run from the repository after ./build.sh:
#
#   mojo run -I mojo examples/mojo/client.mojo example.com 443
#   mojo run -I mojo examples/mojo/client.mojo localhost 8443 --ca ca.pem --message hello
#
# Options: --ca FILE (trust these CAs instead of the system store),
# --pin HEX (trust only a certificate with this SHA-256, e.g. the one
# echo_server prints), --insecure (no verification), --alpn LIST
# ("h2,http/1.1"), --message TEXT, --timeout-ms N (10000).

from std.sys import argv

from mojo_tls import TLSConfig, TLSStream, MOJO_TLS_VERIFY_NONE


def usage() raises:
    raise Error(
        "usage: client HOST PORT [--ca FILE] [--pin HEX] [--insecure]"
        " [--alpn LIST] [--message TEXT] [--timeout-ms N]"
    )


def main() raises:
    var args = argv()
    if len(args) < 3:
        usage()
    var host = String(args[1])
    var port = Int(String(args[2]))
    var ca = String("")
    var pin = String("")
    var insecure = False
    var alpn = String("")
    var message = String("")
    var timeout_ms = 10000
    var i = 3
    while i < len(args):
        var a = String(args[i])
        if a == "--insecure":
            insecure = True
            i += 1
            continue
        if i + 1 >= len(args):
            usage()
        var v = String(args[i + 1])
        if a == "--ca":
            ca = v
        elif a == "--pin":
            pin = v
        elif a == "--alpn":
            alpn = v
        elif a == "--message":
            message = v
        elif a == "--timeout-ms":
            timeout_ms = Int(v)
        else:
            usage()
        i += 2

    var config = TLSConfig.client()
    if ca.byte_length() > 0:
        config.load_ca_file(ca)
    if pin.byte_length() > 0:
        config.add_pin(pin)
        config.set_pin_only()
    if insecure:
        config.set_verify(MOJO_TLS_VERIFY_NONE)
    if alpn.byte_length() > 0:
        config.set_alpn(alpn)

    var stream = TLSStream.connect(config, host, port, timeout_ms)
    print("connected:", stream.get_version(), stream.get_cipher())
    var proto = stream.get_alpn()
    if proto:
        print("alpn:", proto.value())
    print("peer:", stream.peer_cert_subject())
    print("peer sha256:", stream.peer_cert_fingerprint())

    if message.byte_length() == 0:
        message = String(
            "HEAD / HTTP/1.1\r\nHost: ", host, "\r\nConnection: close\r\n\r\n"
        )
    stream.write_all(message)
    stream.close_notify()
    var reply = stream.read_all()
    print("reply:", String(from_utf8_lossy=Span(reply)))
    stream.close()
