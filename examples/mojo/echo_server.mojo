# A TLS echo server: every connection gets back what it sends, until it
# closes. Run from the repository after ./build.sh:
#
#   mojo run -I mojo examples/mojo/echo_server.mojo --cert cert.pem --key key.pem --port 8443
#
# Options: --host ADDR (127.0.0.1), --port N (8443; 0 = any free port),
# --cert FILE --key FILE (the server certificate and key; without them a
# throwaway self-signed certificate for localhost is generated and its
# SHA-256 printed, for clients that pin it), --count N (serve N connections,
# then exit; 0 = forever), --timeout-ms N (per-connection I/O timeout, 30000).
# It prints "listening on HOST:PORT" once ready.

from std.sys import argv

from mojo_tls import (
    TLSConfig,
    TLSListener,
    TLSError,
    generate_ca,
    generate_cert,
    to_hex,
)


def usage() raises:
    raise Error(
        "usage: echo_server [--host ADDR] [--port N] [--cert FILE --key FILE]"
        " [--count N] [--timeout-ms N]"
    )


def main() raises:
    var host = String("127.0.0.1")
    var port = 8443
    var cert = String("")
    var key = String("")
    var count = 0
    var timeout_ms = 30000
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
        elif a == "--timeout-ms":
            timeout_ms = Int(v)
        else:
            usage()
        i += 2

    var config = TLSConfig.server()
    if cert.byte_length() > 0:
        config.add_cert_file(cert, key)
    else:
        var ca = generate_ca("echo_server throwaway CA")
        var leaf = generate_cert(ca, "localhost", "localhost,127.0.0.1")
        config.add_cert_pem(leaf.cert_pem(), leaf.key_pem())
        print("generated certificate sha256", to_hex(leaf.sha256(), ":"))

    var listener = TLSListener.bind(host, port, config)
    print("listening on ", host, ":", listener.port(), sep="", flush=True)

    var served = 0
    var buf = List[UInt8](length=16384, fill=0)
    while count == 0 or served < count:
        served += 1
        try:
            var stream = listener.accept(timeout_ms)
            var total = 0
            while True:
                var n = stream.read(buf)
                if n == 0:
                    break
                stream.write_all(Span(buf)[0:n])
                total += n
            print(
                "connection ",
                served,
                ": ",
                stream.get_version(),
                " ",
                stream.get_cipher(),
                ", echoed ",
                total,
                " bytes",
                sep="",
                flush=True,
            )
            stream.close()
        except e:
            print("connection ", served, ": ", e, sep="", flush=True)
