#!/usr/bin/env python3
"""Compat layer client in Python (ctypes, stdlib only).

Drives the original mojo-tls shim API (mojo_tls_sizeof_*, mojo_tls_ssl_*,
mojo_tls_x509_crt_*, mojo_tls_net_*) the way a caller without Mbed TLS headers
does: buffers sized by the sizeof queries, Mbed TLS return codes. The peer is
a Python `ssl` server thread on 127.0.0.1 that echoes what it receives; the
certificates come from the library's own generator (mojo_tls_gencert_*).

Checks: verified handshake (authmode REQUIRED, hostname "localhost"), version
"TLSv1.3", verify result 0, the peer certificate's DER and SHA-256 equal the
server's, 256 KiB echoed (what the server received and what came back both
match what was sent), close_notify, everything freed.

usage: compat_client.py [path/to/libmojo_tls.so]
       (default: $MOJO_TLS_DIST/lib, else <repo>/dist/lib)
Exits 0 on success, 1 on failure.
"""

import ctypes
import hashlib
import os
import socket
import ssl
import sys
import tempfile
import threading
from ctypes import (POINTER, c_char_p, c_int, c_size_t, c_ssize_t, c_uint,
                    c_void_p)

ERR_SSL_WANT_READ = -0x6900
ERR_SSL_WANT_WRITE = -0x6880
ERR_SSL_BAD_INPUT_DATA = -0x7100
# Mbed TLS 4.x: MBEDTLS_ERR_SSL_BAD_INPUT_DATA is PSA_ERROR_INVALID_ARGUMENT
ERR_SSL_BAD_INPUT_DATA_4 = -0x87
TOTAL = 256 * 1024
CHUNK = 8192
IO_TIMEOUT = 30.0

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)
    return cond


def find_library():
    if len(sys.argv) > 1:
        return sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    dist = os.environ.get("MOJO_TLS_DIST") or os.path.join(here, "..", "..", "dist")
    name = "libmojo_tls.dylib" if sys.platform == "darwin" else "libmojo_tls.so"
    return os.path.join(dist, "lib", name)


def load(path):
    lib = ctypes.CDLL(path)
    sigs = {
        # name: (restype, argtypes)
        "mojo_tls_init": (c_int, []),
        "mojo_tls_backend": (c_char_p, []),
        "mojo_tls_sizeof_ssl_context": (c_size_t, []),
        "mojo_tls_sizeof_ssl_config": (c_size_t, []),
        "mojo_tls_sizeof_x509_crt": (c_size_t, []),
        "mojo_tls_sizeof_net_context": (c_size_t, []),
        "mojo_tls_alloc": (c_void_p, [c_size_t]),
        "mojo_tls_free": (None, [c_void_p]),
        "mojo_tls_conf_min_version": (None, [c_void_p, c_int]),
        "mojo_tls_conf_max_version": (None, [c_void_p, c_int]),
        "mojo_tls_ssl_init": (None, [c_void_p]),
        "mojo_tls_ssl_free": (None, [c_void_p]),
        "mojo_tls_ssl_setup": (c_int, [c_void_p, c_void_p]),
        "mojo_tls_ssl_set_hostname": (c_int, [c_void_p, c_char_p]),
        "mojo_tls_ssl_set_bio": (None, [c_void_p] * 5),
        "mojo_tls_ssl_handshake": (c_int, [c_void_p]),
        "mojo_tls_ssl_read": (c_int, [c_void_p, c_void_p, c_size_t]),
        "mojo_tls_ssl_write": (c_int, [c_void_p, c_void_p, c_size_t]),
        "mojo_tls_ssl_close_notify": (c_int, [c_void_p]),
        "mojo_tls_ssl_config_init": (None, [c_void_p]),
        "mojo_tls_ssl_config_free": (None, [c_void_p]),
        "mojo_tls_ssl_config_defaults": (c_int, [c_void_p, c_int, c_int, c_int]),
        "mojo_tls_ssl_conf_authmode": (None, [c_void_p, c_int]),
        "mojo_tls_ssl_conf_ca_chain": (None, [c_void_p, c_void_p, c_void_p]),
        "mojo_tls_ssl_get_version": (c_char_p, [c_void_p]),
        "mojo_tls_ssl_get_ciphersuite": (c_char_p, [c_void_p]),
        "mojo_tls_ssl_get_verify_result": (c_uint, [c_void_p]),
        "mojo_tls_ssl_get_peer_cert": (c_void_p, [c_void_p]),
        "mojo_tls_x509_crt_get_raw_data": (c_void_p, [c_void_p]),
        "mojo_tls_x509_crt_get_raw_len": (c_size_t, [c_void_p]),
        "mojo_tls_sha256": (ctypes.c_ssize_t, [c_void_p, c_size_t, c_void_p, c_size_t]),
        "mojo_tls_x509_crt_init": (None, [c_void_p]),
        "mojo_tls_x509_crt_free": (None, [c_void_p]),
        "mojo_tls_x509_crt_parse": (c_int, [c_void_p, c_char_p, c_size_t]),
        "mojo_tls_net_init": (None, [c_void_p]),
        "mojo_tls_net_free": (None, [c_void_p]),
        "mojo_tls_net_connect": (c_int, [c_void_p, c_char_p, c_char_p, c_int]),
        "mojo_tls_get_net_send_ptr": (c_void_p, []),
        "mojo_tls_get_net_recv_ptr": (c_void_p, []),
        "mojo_tls_get_net_recv_timeout_ptr": (c_void_p, []),
        "mojo_tls_gencert_new_ca": (c_void_p, [c_char_p, c_int, c_int]),
        "mojo_tls_gencert_new_leaf": (c_void_p, [c_void_p, c_char_p, c_char_p, c_int, c_int, c_int, c_int]),
        "mojo_tls_gencert_cert_pem": (c_ssize_t, [c_void_p, c_char_p, c_size_t]),
        "mojo_tls_gencert_key_pem": (c_ssize_t, [c_void_p, c_char_p, c_size_t]),
        "mojo_tls_gencert_free": (c_int, [c_void_p]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    return lib


# Constants as in mojo_tls.h.
IS_CLIENT, TRANSPORT_STREAM, PRESET_DEFAULT, NET_PROTO_TCP = 0, 0, 0, 0
VERIFY_REQUIRED = 2
VERSION_TLS1_2, VERSION_TLS1_3 = 0x0303, 0x0304
KEY_ECDSA_P256, USAGE_SERVER = 0, 1


def pem(lib, fn, g):
    n = fn(g, None, 0)
    buf = ctypes.create_string_buffer(n + 1)
    check(fn(g, buf, n + 1) == n, "PEM length is stable")
    return buf.value.decode()


def make_certs(lib):
    ca = lib.mojo_tls_gencert_new_ca(b"compat python CA", 30, KEY_ECDSA_P256)
    leaf = lib.mojo_tls_gencert_new_leaf(ca, b"localhost", b"localhost,127.0.0.1", -1, 30,
                                     USAGE_SERVER, KEY_ECDSA_P256)
    if not ca or not leaf:
        raise RuntimeError("certificate generation failed")
    out = (pem(lib, lib.mojo_tls_gencert_cert_pem, ca),
           pem(lib, lib.mojo_tls_gencert_cert_pem, leaf),
           pem(lib, lib.mojo_tls_gencert_key_pem, leaf))
    lib.mojo_tls_gencert_free(leaf)
    lib.mojo_tls_gencert_free(ca)
    return out


class EchoServer(threading.Thread):
    """One TLS connection: echo everything until the peer closes."""

    def __init__(self, cert_file, key_file):
        super().__init__(daemon=True)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert_file, key_file)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(IO_TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.received = hashlib.sha256()
        self.count = 0
        self.version = None
        self.cipher = None
        self.error = None

    def run(self):
        try:
            raw, _ = self.sock.accept()
            raw.settimeout(IO_TIMEOUT)
            with self.ctx.wrap_socket(raw, server_side=True) as conn:
                self.version = conn.version()
                self.cipher = conn.cipher()[0]
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break  # close_notify (or EOF)
                    self.received.update(data)
                    self.count += len(data)
                    conn.sendall(data)
        except Exception as e:  # reported by the main thread
            self.error = e
        finally:
            self.sock.close()


def retry(fn, *args):
    for _ in range(100000):
        r = fn(*args)
        if r not in (ERR_SSL_WANT_READ, ERR_SSL_WANT_WRITE):
            return r
    return r


def main():
    path = find_library()
    lib = load(path)
    check(lib.mojo_tls_init() == 0, "mojo_tls_init")
    mbedtls4 = lib.mojo_tls_backend().startswith(b"Mbed TLS 4.")
    bad_input = ERR_SSL_BAD_INPUT_DATA_4 if mbedtls4 else ERR_SSL_BAD_INPUT_DATA
    check(lib.mojo_tls_ssl_handshake(None) == bad_input, "handshake(NULL)")

    ca_pem, srv_pem, srv_key = make_certs(lib)
    srv_der = ssl.PEM_cert_to_DER_cert(srv_pem)

    with tempfile.TemporaryDirectory() as tmp:
        cert_file, key_file = os.path.join(tmp, "srv.pem"), os.path.join(tmp, "srv.key")
        with open(cert_file, "w") as f:
            f.write(srv_pem)
        with open(key_file, "w") as f:
            f.write(srv_key)
        server = EchoServer(cert_file, key_file)
    server.start()

    def alloc(size_fn):
        size = size_fn()
        check(size > 0, size_fn.__name__ + " > 0")
        p = lib.mojo_tls_alloc(size)
        if not p:
            raise MemoryError(size_fn.__name__)
        return p

    net = alloc(lib.mojo_tls_sizeof_net_context)
    sslc = alloc(lib.mojo_tls_sizeof_ssl_context)
    conf = alloc(lib.mojo_tls_sizeof_ssl_config)
    ca = alloc(lib.mojo_tls_sizeof_x509_crt)
    lib.mojo_tls_net_init(net)
    lib.mojo_tls_ssl_init(sslc)
    lib.mojo_tls_ssl_config_init(conf)
    lib.mojo_tls_x509_crt_init(ca)
    try:
        ca_bytes = ca_pem.encode() + b"\0"  # PEM: the NUL is part of buflen
        r = lib.mojo_tls_x509_crt_parse(ca, ca_bytes, len(ca_bytes))
        check(r == 0, "x509_crt_parse(CA) = -0x%04x" % -r)
        r = lib.mojo_tls_ssl_config_defaults(conf, IS_CLIENT, TRANSPORT_STREAM, PRESET_DEFAULT)
        check(r == 0, "ssl_config_defaults = -0x%04x" % -r)
        lib.mojo_tls_ssl_conf_authmode(conf, VERIFY_REQUIRED)
        lib.mojo_tls_ssl_conf_ca_chain(conf, ca, None)
        lib.mojo_tls_conf_min_version(conf, VERSION_TLS1_2)
        lib.mojo_tls_conf_max_version(conf, VERSION_TLS1_3)
        r = lib.mojo_tls_ssl_setup(sslc, conf)
        check(r == 0, "ssl_setup = -0x%04x" % -r)
        r = lib.mojo_tls_ssl_set_hostname(sslc, b"localhost")
        check(r == 0, "ssl_set_hostname = -0x%04x" % -r)
        r = lib.mojo_tls_net_connect(net, b"127.0.0.1", str(server.port).encode(), NET_PROTO_TCP)
        if not check(r == 0, "net_connect = -0x%04x" % -r):
            return
        lib.mojo_tls_ssl_set_bio(sslc, net, lib.mojo_tls_get_net_send_ptr(),
                                 lib.mojo_tls_get_net_recv_ptr(),
                                 lib.mojo_tls_get_net_recv_timeout_ptr())
        r = retry(lib.mojo_tls_ssl_handshake, sslc)
        if not check(r == 0, "handshake = -0x%04x" % -r):
            return

        version = lib.mojo_tls_ssl_get_version(sslc)
        suite = lib.mojo_tls_ssl_get_ciphersuite(sslc)
        flags = lib.mojo_tls_ssl_get_verify_result(sslc)
        print("client: %s %s, verify result %d" % (version, suite, flags))
        # TLS 1.3 with the Python (OpenSSL) server's preferred TLS 1.3 suite,
        # AES-256-GCM
        check(version == b"TLSv1.3", "version %r, expected TLSv1.3" % version)
        check(suite == b"TLS1-3-AES-256-GCM-SHA384", "ciphersuite %r, expected TLS1-3-AES-256-GCM-SHA384" % suite)
        check(flags == 0, "verify result 0x%x" % flags)

        peer = lib.mojo_tls_ssl_get_peer_cert(sslc)
        if check(peer is not None, "peer certificate present"):
            n = lib.mojo_tls_x509_crt_get_raw_len(peer)
            der = ctypes.string_at(lib.mojo_tls_x509_crt_get_raw_data(peer), n)
            check(der == srv_der, "peer DER equals the server certificate")
            digest = ctypes.create_string_buffer(32)
            check(lib.mojo_tls_sha256(lib.mojo_tls_x509_crt_get_raw_data(peer), n, digest, 32) == 32,
                  "sha256")
            check(digest.raw == hashlib.sha256(srv_der).digest(), "peer fingerprint")

        payload = os.urandom(TOTAL)
        echoed = bytearray()
        buf = ctypes.create_string_buffer(CHUNK)
        for off in range(0, TOTAL, CHUNK):
            chunk = payload[off:off + CHUNK]
            sent = 0
            while sent < len(chunk):
                part = chunk[sent:]
                w = retry(lib.mojo_tls_ssl_write, sslc, part, len(part))
                if not check(w > 0, "ssl_write = -0x%04x" % -w):
                    return
                sent += w
            got = 0
            while got < len(chunk):
                n = retry(lib.mojo_tls_ssl_read, sslc, buf, CHUNK)
                if not check(n > 0, "ssl_read = -0x%04x" % -n):
                    return
                echoed += buf.raw[:n]
                got += n
        check(bytes(echoed) == payload, "data echoed back (server -> client) matches")
        r = retry(lib.mojo_tls_ssl_close_notify, sslc)
        check(r == 0, "close_notify = -0x%04x" % -r)
    finally:
        lib.mojo_tls_ssl_free(sslc)
        lib.mojo_tls_ssl_config_free(conf)
        lib.mojo_tls_x509_crt_free(ca)
        lib.mojo_tls_net_free(net)
        for p in (sslc, conf, ca, net):
            lib.mojo_tls_free(p)

    server.join(IO_TIMEOUT)
    check(not server.is_alive(), "server thread finished")
    check(server.error is None, "server error: %r" % (server.error,))
    check(server.version == "TLSv1.3", "server saw %r" % server.version)
    check(server.cipher == "TLS_AES_256_GCM_SHA384", "server cipher %r" % server.cipher)
    check(server.count == TOTAL, "server received %d of %d bytes" % (server.count, TOTAL))
    check(server.received.digest() == hashlib.sha256(payload).digest(),
          "data received by the server (client -> server) matches")
    print("client: %d bytes each way verified" % TOTAL)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        failures.append(repr(e))
        print("FAIL: exception", repr(e), file=sys.stderr)
    if failures:
        print("compat_client.py: %d check(s) failed" % len(failures))
        sys.exit(1)
    print("compat_client.py: all checks passed")
