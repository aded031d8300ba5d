"""DTLSSocket and DTLSListener: our client against our server over UDP on
127.0.0.1, in threads (echo with checksums, verification failures,
record boundaries, close_notify, timeouts, non-blocking use)."""

from __future__ import annotations

import selectors
import socket
import threading
import time

import pytest
from conftest import ThreadServer
from dtls_peers import HOST, check_datagram, datagram

import mojo_tls


def echo(conn: mojo_tls.DTLSSocket) -> int:
    """Echo datagrams until the peer's close_notify; returns how many."""
    n = 0
    with conn:
        conn.settimeout(10)
        while True:
            d = conn.recv()
            if not d:
                return n
            conn.send(d)
            n += 1


def test_echo_with_checksums(dtls_server_ctx, dtls_client_ctx) -> None:
    with dtls_server_ctx.listen(HOST, 0) as lst:
        assert lst.port > 0 and lst.getsockname() == (HOST, lst.port)
        assert lst.peer_count == 0
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], echo)
        with dtls_client_ctx.connect(HOST, lst.port, timeout=10, server_hostname="localhost") as s:
            assert s.version() == "DTLSv1.2"
            assert s.cipher()[1] == "DTLSv1.2"
            assert s.getpeercert()["subject"] == ((("commonName", "localhost"),),)
            assert s.getpeername() == (HOST, lst.port)
            assert s.type == socket.SOCK_DGRAM
            for seq in range(60):
                d = datagram(seq, 40 + seq * 97 % 1300)
                assert s.send(d) == len(d)
                back = s.recv()
                assert back == d and check_datagram(back) == seq  # one datagram, whole
            assert lst.peer_count == 1
        srv.join()
        assert srv.results == [60]
        deadline = time.monotonic() + 5
        while lst.peer_count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert lst.peer_count == 0


def test_mutual_tls(pki, dtls_server_ctx, dtls_client_ctx) -> None:
    dtls_server_ctx.verify_mode = mojo_tls.CERT_REQUIRED
    dtls_server_ctx.load_verify_locations(pki.ca_file)
    dtls_client_ctx.load_cert_chain(pki.client_cert, pki.client_key)
    with dtls_server_ctx.listen(HOST, 0) as lst:
        def handler(conn: mojo_tls.DTLSSocket) -> object:
            with conn:
                return conn.getpeercert()["subject"]
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler)
        with dtls_client_ctx.connect(HOST, lst.port, timeout=10, server_hostname="localhost"):
            srv.join()
    assert srv.results == [((("commonName", "pytest client"),),)]


def test_client_without_certificate_refused(pki, dtls_server_ctx, dtls_client_ctx) -> None:
    dtls_server_ctx.verify_mode = mojo_tls.CERT_REQUIRED
    dtls_server_ctx.load_verify_locations(pki.ca_file)
    with dtls_server_ctx.listen(HOST, 0) as lst:
        errors = []

        def serve() -> None:
            try:
                lst.accept(timeout=10)
            except mojo_tls.TLSError as exc:
                errors.append(exc)
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        with pytest.raises(mojo_tls.TLSError):
            dtls_client_ctx.connect(HOST, lst.port, timeout=5, server_hostname="localhost").recv()
        t.join(10)
    assert errors and isinstance(errors[0], mojo_tls.TLSHandshakeError)


@pytest.mark.parametrize("case", ["wrong-ca", "wrong-host"])
def test_verification_failure(case, pki, dtls_server_ctx) -> None:
    ctx = mojo_tls.DTLSContext()
    ctx.set_handshake_timeout(0.1, 4.0)
    if case == "wrong-ca":
        other = mojo_tls.generate_ca("some other CA")
        ctx.load_verify_locations(cadata=other.cert_pem)
        name = "localhost"
    else:
        ctx.load_verify_locations(pki.ca_file)
        name = "not-the-server.example"
    with dtls_server_ctx.listen(HOST, 0) as lst:
        t = threading.Thread(target=lambda: _accept_quietly(lst), daemon=True)
        t.start()
        with pytest.raises(mojo_tls.CertificateVerifyError) as info:
            ctx.connect(HOST, lst.port, timeout=5, server_hostname=name)
        t.join(10)
    exc = info.value
    assert exc.verify_code == (20 if case == "wrong-ca" else 62)
    assert "certificate verify failed" in str(exc)
    ctx.close()


def _accept_quietly(lst: mojo_tls.DTLSListener) -> None:
    try:
        lst.accept(timeout=10)[0].close()
    except mojo_tls.TLSError:
        pass


def test_small_buffer_keeps_the_datagram(dtls_server_ctx, dtls_client_ctx) -> None:
    with dtls_server_ctx.listen(HOST, 0) as lst:
        def handler(conn: mojo_tls.DTLSSocket) -> object:
            with conn:
                conn.settimeout(10)
                conn.send(b"x" * 1000)
                conn.send(b"tail")
                return conn.recv()
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler)
        with dtls_client_ctx.connect(HOST, lst.port, timeout=10, server_hostname="localhost") as s:
            with pytest.raises(mojo_tls.DTLSBufferTooSmallError) as info:
                s.recv(100)
            assert info.value.size == 1000 and "1000" in str(info.value)
            assert isinstance(info.value, ValueError)
            assert s.pending() == 1000
            buf = bytearray(999)
            with pytest.raises(mojo_tls.DTLSBufferTooSmallError):
                s.recv_into(buf)
            assert s.recv(1000) == b"x" * 1000  # kept, whole
            buf = bytearray(10)
            assert s.recv_into(buf) == 4 and bytes(buf[:4]) == b"tail"
            s.send(b"done")
        srv.join()
        assert srv.results == [b"done"]


def test_oversized_send_raises_and_connection_goes_on(dtls_server_ctx, dtls_client_ctx) -> None:
    with dtls_server_ctx.listen(HOST, 0) as lst:
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], echo)
        with dtls_client_ctx.connect(HOST, lst.port, timeout=10, server_hostname="localhost") as s:
            with pytest.raises(mojo_tls.TLSInvalidArgumentError, match="one datagram"):
                s.send(b"y" * 20000)
            s.set_mtu(300)
            assert s.mtu == 300
            with pytest.raises(mojo_tls.TLSInvalidArgumentError, match="goes on"):
                s.send(b"y" * 1000)
            s.send(b"small")
            assert s.recv() == b"small"
        srv.join()
        assert srv.results == [1]


def test_close_notify_gives_empty_recv(dtls_server_ctx, dtls_client_ctx) -> None:
    with dtls_server_ctx.listen(HOST, 0) as lst:
        def handler(conn: mojo_tls.DTLSSocket) -> object:
            conn.settimeout(10)
            conn.send(b"bye")
            conn.close()  # sends close_notify
            return None
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], handler)
        with dtls_client_ctx.connect(HOST, lst.port, timeout=10, server_hostname="localhost") as s:
            assert s.recv() == b"bye"
            assert s.recv() == b""
            assert s.recv() == b""
        srv.join()


def test_shutdown_then_recv(dtls_server_ctx, dtls_client_ctx) -> None:
    with dtls_server_ctx.listen(HOST, 0) as lst:
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], echo)
        with dtls_client_ctx.connect(HOST, lst.port, timeout=10, server_hostname="localhost") as s:
            s.send(b"a")
            assert s.recv() == b"a"
            s.shutdown(socket.SHUT_WR)  # close_notify: the echo loop ends
            srv.join()
            assert srv.results == [1]


def test_handshake_timeout_against_a_silent_server(dtls_client_ctx) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind((HOST, 0))
        port = silent.getsockname()[1]
        t0 = time.monotonic()
        with pytest.raises(mojo_tls.TLSTimeoutError):
            dtls_client_ctx.connect(HOST, port, timeout=0.6, server_hostname="localhost")
        assert 0.5 < time.monotonic() - t0 < 3
        assert silent.recv(4096)[0] == 22  # our ClientHello reached it
        # The retransmission limit ends it too, without a connection timeout.
        ctx = mojo_tls.DTLSContext()
        ctx.load_verify_locations(cadata=mojo_tls.generate_ca("x").cert_pem)
        ctx.set_handshake_timeout(0.05, 0.2)
        t0 = time.monotonic()
        with pytest.raises(mojo_tls.TLSTimeoutError):
            ctx.connect(HOST, port, server_hostname="localhost")
        assert time.monotonic() - t0 < 3
        ctx.close()


def test_recv_timeout(dtls_server_ctx, dtls_client_ctx) -> None:
    with dtls_server_ctx.listen(HOST, 0) as lst:
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], echo)
        with dtls_client_ctx.connect(HOST, lst.port, timeout=10, server_hostname="localhost") as s:
            s.settimeout(0.2)
            assert s.gettimeout() == 0.2
            t0 = time.monotonic()
            with pytest.raises(mojo_tls.TLSTimeoutError):
                s.recv()
            assert time.monotonic() - t0 < 2
            s.setblocking(False)
            with pytest.raises(mojo_tls.TLSWantReadError):
                s.recv()
            s.settimeout(5)
            s.send(b"still here")
            assert s.recv() == b"still here"
        srv.join()


def test_nonblocking_listener_with_selectors(dtls_server_ctx, dtls_client_ctx) -> None:
    """A one-thread server: selectors over the listener and its clients,
    accept(0), handshakes driven non-blocking with next_timeout()."""
    n_clients = 5
    with dtls_server_ctx.listen(HOST, 0) as lst:
        with pytest.raises(mojo_tls.TLSWantReadError):
            lst.accept(0)
        stop = threading.Event()
        served = []

        def loop() -> None:
            sel = selectors.DefaultSelector()
            sel.register(lst.fileno(), selectors.EVENT_READ, None)
            conns = {}
            deadline = time.monotonic() + 20
            while not stop.is_set() and time.monotonic() < deadline:
                timeouts = [t for c in conns.values() if (t := c.next_timeout()) is not None]
                for key, _ in sel.select(min(timeouts + [0.05])):
                    if key.data is None:
                        try:
                            c, _ = lst.accept(0)
                        except mojo_tls.TLSWantReadError:
                            continue
                        conns[c.fileno()] = c
                        sel.register(c.fileno(), selectors.EVENT_READ, c)
                for fd, c in list(conns.items()):
                    try:
                        while True:
                            d = c.recv()
                            if not d:
                                served.append(c)
                                sel.unregister(fd)
                                del conns[fd]
                                c.close()
                                break
                            c.send(d)
                    except mojo_tls.TLSWantReadError:
                        pass
            sel.close()

        t = threading.Thread(target=loop, daemon=True)
        t.start()
        socks = [dtls_client_ctx.connect(HOST, lst.port, timeout=10, server_hostname="localhost")
                 for _ in range(n_clients)]
        for i, s in enumerate(socks):
            s.send(datagram(i, 200))
        for i, s in enumerate(socks):
            assert check_datagram(s.recv()) == i
        assert lst.peer_count == n_clients
        for s in socks:
            s.close()
        deadline = time.monotonic() + 10
        while len(served) < n_clients and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        t.join(10)
        assert len(served) == n_clients


def test_wrap_connected_udp_socket(dtls_server_ctx, dtls_client_ctx) -> None:
    with dtls_server_ctx.listen(HOST, 0) as lst:
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], echo)
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        raw.connect((HOST, lst.port))
        raw.settimeout(10)
        with dtls_client_ctx.wrap_socket(raw, server_hostname="localhost") as s:
            assert raw.fileno() == -1  # taken over
            s.send(b"wrapped")
            assert s.recv() == b"wrapped"
        srv.join()


def test_server_over_a_connected_udp_socket(dtls_server_ctx, dtls_client_ctx) -> None:
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind((HOST, 0))
    b.bind((HOST, 0))
    a.connect(b.getsockname())
    b.connect(a.getsockname())
    a.settimeout(10)
    b.settimeout(10)
    results = []

    def serve() -> None:
        with dtls_server_ctx.wrap_socket(a, server_side=True) as s:
            results.append(s.recv())
            s.send(b"pong")
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    with dtls_client_ctx.wrap_socket(b, server_hostname="localhost") as c:
        c.send(b"ping")
        assert c.recv() == b"pong"
    t.join(10)
    assert results == [b"ping"]


def test_threaded_clients(dtls_server_ctx, dtls_client_ctx) -> None:
    n = 6
    with dtls_server_ctx.listen(HOST, 0) as lst:
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], echo, count=n)
        # the server handles one client at a time; clients go one after another
        for i in range(n):
            with dtls_client_ctx.connect(HOST, lst.port, timeout=10, server_hostname="localhost") as s:
                for k in range(5):
                    d = datagram(i * 100 + k, 500)
                    s.send(d)
                    assert s.recv() == d
        srv.join()
        assert srv.results == [5] * n


def test_close_wakes_a_blocked_recv(dtls_server_ctx, dtls_client_ctx) -> None:
    release = threading.Event()
    with dtls_server_ctx.listen(HOST, 0) as lst:
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0],
                           lambda conn: (release.wait(10), conn.close()))
        s = dtls_client_ctx.connect(HOST, lst.port, timeout=10, server_hostname="localhost")
        s.settimeout(None)  # blocks
        outcome = []

        def reader() -> None:
            try:
                outcome.append(s.recv())
            except (mojo_tls.TLSError, OSError) as exc:
                outcome.append(exc)
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        time.sleep(0.2)
        s.close()
        t.join(5)
        assert not t.is_alive(), "close() did not wake the blocked recv()"
        assert s.closed and len(outcome) == 1
        assert isinstance(outcome[0], mojo_tls.TLSError), outcome
        release.set()
        srv.join()


def test_native_connect_and_resumption(dtls_server_ctx, dtls_client_ctx) -> None:
    """connect() without a separate server_hostname (the library opens the
    UDP socket; the certificate's IP SAN is checked), then a resumed
    session."""
    dtls_server_ctx.set_session_cache()
    with dtls_server_ctx.listen(HOST, 0) as lst:
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], echo, count=2)
        with dtls_client_ctx.connect(HOST, lst.port, timeout=10) as s:
            assert s.server_hostname == HOST
            s.send(b"first")
            assert s.recv() == b"first"
            assert not s.session_reused
            session = s.session
        assert session is not None
        with dtls_client_ctx.connect(HOST, lst.port, timeout=10, session=session) as s:
            s.send(b"again")
            assert s.recv() == b"again"
            assert s.session_reused
        srv.join()
    stats = dtls_client_ctx.session_stats()
    assert stats["connect_good"] == 2 and stats["hits"] == 1


def test_mtu_applies_to_both_sides_handshake(dtls_server_ctx, dtls_client_ctx) -> None:
    """With ctx.mtu set, every datagram of the handshake fits it, on the
    client (connect) and on the server (accept): a relay socket in the
    middle measures them."""
    dtls_server_ctx.mtu = 300
    dtls_client_ctx.mtu = 300
    with dtls_server_ctx.listen(HOST, 0) as lst:
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], echo)
        relay = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        relay.bind((HOST, 0))
        relay.settimeout(0.05)
        sizes = []
        stop = threading.Event()

        def forward() -> None:
            client = None
            up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            up.connect((HOST, lst.port))
            up.settimeout(0.05)
            while not stop.is_set():
                try:
                    d, client = relay.recvfrom(65536)
                    sizes.append(len(d))
                    up.send(d)
                except socket.timeout:
                    pass
                try:
                    d = up.recv(65536)
                    sizes.append(len(d))
                    if client:
                        relay.sendto(d, client)
                except (socket.timeout, ConnectionRefusedError):
                    pass
            up.close()

        t = threading.Thread(target=forward, daemon=True)
        t.start()
        with dtls_client_ctx.connect(HOST, relay.getsockname()[1], timeout=10,
                                     server_hostname="localhost") as s:
            assert s.mtu == 300
            s.send(b"m" * 200)
            assert s.recv() == b"m" * 200
            with pytest.raises(mojo_tls.TLSInvalidArgumentError):
                s.send(b"m" * 400)
        srv.join()
        stop.set()
        t.join(5)
        relay.close()
        assert sizes and max(sizes) <= 300, sizes
        assert len(sizes) > 8  # the server's certificate flight was fragmented


def test_unwrap_returns_the_udp_socket(dtls_server_ctx, dtls_client_ctx) -> None:
    with dtls_server_ctx.listen(HOST, 0) as lst:
        srv = ThreadServer(lambda: lst.accept(timeout=10)[0], echo)
        s = dtls_client_ctx.connect(HOST, lst.port, timeout=10, server_hostname="localhost")
        s.send(b"x")
        assert s.recv() == b"x"
        plain = s.unwrap()  # close_notify: the echo loop ends
        assert s.closed
        with plain:
            assert plain.type == socket.SOCK_DGRAM
            assert plain.getpeername() == (HOST, lst.port)
        srv.join()
        assert srv.results == [1]


def test_signals_interrupt_or_resume_a_blocked_recv(dtls_server_ctx, dtls_client_ctx) -> None:
    """PEP 475: a signal handler's exception ends a blocked recv(); a handler
    that returns lets it wait on with what is left of its timeout. (SIGUSR1
    sent to this thread: SIGALRM is pytest-timeout's.)"""
    import signal

    class Boom(Exception):
        pass

    def boom(*_: object) -> None:
        raise Boom()

    def signal_me_in(seconds: float) -> threading.Timer:
        t = threading.Timer(seconds, signal.pthread_kill,
                            (threading.get_ident(), signal.SIGUSR1))
        t.start()
        return t

    release = threading.Event()
    old = signal.signal(signal.SIGUSR1, boom)
    try:
        with dtls_server_ctx.listen(HOST, 0) as lst:
            srv = ThreadServer(lambda: lst.accept(timeout=10)[0],
                               lambda conn: (release.wait(10), conn.close()))
            with dtls_client_ctx.connect(HOST, lst.port, timeout=10,
                                         server_hostname="localhost") as s:
                s.settimeout(None)
                timer = signal_me_in(0.2)
                t0 = time.monotonic()
                with pytest.raises(Boom):
                    s.recv()
                assert time.monotonic() - t0 < 2
                timer.join()
                hits = []
                signal.signal(signal.SIGUSR1, lambda *_: hits.append(1))
                s.settimeout(0.8)
                timer = signal_me_in(0.2)
                t0 = time.monotonic()
                with pytest.raises(mojo_tls.TLSTimeoutError):
                    s.recv()
                assert 0.7 < time.monotonic() - t0 < 3 and hits == [1]
                timer.join()
                release.set()
            srv.join()
    finally:
        signal.signal(signal.SIGUSR1, old)
