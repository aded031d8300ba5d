/* EOF vs truncation over real sockets. A peer's close_notify is a clean EOF
 * (read returns 0); a peer that just closes its TCP socket must be reported
 * as MOJO_TLS_ERR_TRUNCATED, in both directions and over a socketpair. */
#include "harness.h"

static mojo_tls_config *g_scfg, *g_ccfg;

/* --- A: server sends data + close_notify, client sees 0 ------------------ */
static void send_bye(h_server_slot *slot, mojo_tls_conn *c, void *arg) {
    (void)arg;
    CHECK_RC(mojo_tls_conn_write_all(c, U8("bye"), 3), 3);
    CHECK_RC(mojo_tls_conn_close_notify(c), 0);
    /* wait for the client's close_notify so the order is deterministic */
    unsigned char b[16];
    slot->last_rc = mojo_tls_conn_read(c, b, sizeof b);
}

/* --- B: server reads until error; records how the stream ended ----------- */
static void read_to_end(h_server_slot *slot, mojo_tls_conn *c, void *arg) {
    (void)arg;
    unsigned char b[256];
    size_t total = 0;
    for (;;) {
        intptr_t n = mojo_tls_conn_read(c, b, sizeof b);
        if (n <= 0) {
            slot->last_rc = n;
            break;
        }
        total += (size_t)n;
    }
    slot->rx_bytes = total;
}

/* --- C: raw accept + conn_new_fd(take_ownership=0); close the fd abruptly - */
typedef struct {
    int lfd;
    int fd;
    int ok;
    volatile int client_read_done;
} raw_server;

static void *raw_server_thread(void *p) {
    raw_server *rs = p;
    struct pollfd pfd = {rs->lfd, POLLIN, 0};
    if (poll(&pfd, 1, h_io_timeout_ms()) != 1) {
        h_fail(__FILE__, __LINE__, "raw server: no client");
        return NULL;
    }
    rs->fd = accept(rs->lfd, NULL, NULL);
    if (rs->fd < 0) {
        h_fail(__FILE__, __LINE__, "accept: %s", strerror(errno));
        return NULL;
    }
    mojo_tls_conn *c = mojo_tls_conn_new_fd(g_scfg, rs->fd, 0, NULL);
    if (!c) {
        h_fail(__FILE__, __LINE__, "conn_new_fd(server) failed");
        close(rs->fd);
        return NULL;
    }
    CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
    CHECK_RC(mojo_tls_conn_handshake(c), 0);
    CHECK_RC(mojo_tls_conn_write_all(c, U8("hi"), 2), 2);
    /* abrupt: TCP FIN with no close_notify */
    CHECK(close(rs->fd) == 0);
    /* keep the handle alive until the client has looked; freeing it must not
     * touch the (closed, not owned) fd in a harmful way */
    double t0 = h_now_ms();
    while (!__atomic_load_n(&rs->client_read_done, __ATOMIC_SEQ_CST) && h_now_ms() - t0 < h_io_timeout_ms())
        h_sleep_ms(5);
    CHECK_RC(mojo_tls_conn_free(c), 0);
    rs->ok = 1;
    return NULL;
}

/* --- D: socketpair, server side in a thread ------------------------------ */
typedef struct {
    int fd;
    volatile int client_done;
} pair_server;

static void *pair_server_thread(void *p) {
    pair_server *ps = p;
    mojo_tls_conn *c = mojo_tls_conn_new_fd(g_scfg, ps->fd, 0, NULL);
    if (!c) {
        h_fail(__FILE__, __LINE__, "conn_new_fd(server, socketpair) failed");
        return NULL;
    }
    CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
    CHECK_RC(mojo_tls_conn_handshake(c), 0);
    unsigned char b[64];
    CHECK_RC(h_read_exact(c, b, 5), 5);
    CHECK(memcmp(b, "ping!", 5) == 0);
    CHECK_RC(mojo_tls_conn_write_all(c, U8("pong!"), 5), 5);
    CHECK(close(ps->fd) == 0);
    double t0 = h_now_ms();
    while (!__atomic_load_n(&ps->client_done, __ATOMIC_SEQ_CST) && h_now_ms() - t0 < h_io_timeout_ms())
        h_sleep_ms(5);
    CHECK_RC(mojo_tls_conn_free(c), 0);
    return NULL;
}

int main(void) {
    h_start("test_eof", 120);
    h_pki pki;
    h_pki_make(&pki);
    g_scfg = h_server_config(&pki);
    g_ccfg = h_client_config(pki.ca_pem, pki.ca_pem_len);
    unsigned char b[64];

    /* A: clean close by the server */
    {
        h_server srv;
        h_server_start(&srv, g_scfg, 1, send_bye, NULL);
        mojo_tls_conn *c = h_connect(g_ccfg, srv.port);
        CHECK_RC(h_read_exact(c, b, 3), 3);
        CHECK(memcmp(b, "bye", 3) == 0);
        CHECK_RC(mojo_tls_conn_read(c, b, sizeof b), 0);
        CHECK_RC(mojo_tls_conn_close_notify(c), 0);
        CHECK_RC(mojo_tls_conn_free(c), 0);
        h_server_join(&srv);
        CHECK_EQ(srv.slots[0].last_rc, 0);
    }

    /* B: client closes its raw TCP socket without close_notify */
    {
        h_server srv;
        h_server_start(&srv, g_scfg, 1, read_to_end, NULL);
        int fd = h_tcp_connect(srv.port);
        mojo_tls_conn *c = mojo_tls_conn_new_fd(g_ccfg, fd, 0, "localhost");
        REQUIRE_NONNULL(c);
        CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
        REQUIRE_RC(mojo_tls_conn_handshake(c), 0);
        CHECK_RC(mojo_tls_conn_write_all(c, U8("hello"), 5), 5);
        CHECK(close(fd) == 0);
        h_server_join(&srv);
        CHECK_EQ(srv.slots[0].rx_bytes, 5);
        CHECK_RC(srv.slots[0].last_rc, MOJO_TLS_ERR_TRUNCATED);
        /* the caller owns fd (already closed); freeing the conn is still fine */
        CHECK_RC(mojo_tls_conn_free(c), 0);
    }

    /* B2: same with take_ownership=1 and shutdown(): FIN, no close_notify */
    {
        h_server srv;
        h_server_start(&srv, g_scfg, 1, read_to_end, NULL);
        int fd = h_tcp_connect(srv.port);
        mojo_tls_conn *c = mojo_tls_conn_new_fd(g_ccfg, fd, 1, "localhost");
        REQUIRE_NONNULL(c);
        CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
        REQUIRE_RC(mojo_tls_conn_handshake(c), 0);
        CHECK(shutdown(fd, SHUT_WR) == 0);
        h_server_join(&srv);
        CHECK_RC(srv.slots[0].last_rc, MOJO_TLS_ERR_TRUNCATED);
        CHECK_RC(mojo_tls_conn_free(c), 0);
        CHECK(h_fd_is_closed(fd));
    }

    /* C: server closes its raw socket abruptly; client connected normally */
    {
        raw_server rs;
        memset(&rs, 0, sizeof rs);
        int port = 0;
        rs.lfd = h_listen(&port);
        pthread_t th;
        REQUIRE(pthread_create(&th, NULL, raw_server_thread, &rs) == 0);
        mojo_tls_conn *c = h_connect(g_ccfg, port);
        CHECK_RC(h_read_exact(c, b, 2), 2);
        CHECK(memcmp(b, "hi", 2) == 0);
        CHECK_RC(mojo_tls_conn_read(c, b, sizeof b), MOJO_TLS_ERR_TRUNCATED);
        __atomic_store_n(&rs.client_read_done, 1, __ATOMIC_SEQ_CST);
        pthread_join(th, NULL);
        CHECK(rs.ok);
        CHECK_RC(mojo_tls_conn_free(c), 0);
        CHECK_RC(mojo_tls_socket_close(rs.lfd), 0);
    }

    /* D: socketpair (STARTTLS-style fds), server side closes abruptly */
    {
        int sv[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        pair_server ps = {sv[1], 0};
        pthread_t th;
        REQUIRE(pthread_create(&th, NULL, pair_server_thread, &ps) == 0);
        mojo_tls_conn *c = mojo_tls_conn_new_fd(g_ccfg, sv[0], 0, "localhost");
        REQUIRE_NONNULL(c);
        CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
        CHECK_RC(mojo_tls_conn_handshake(c), 0);
        CHECK_RC(mojo_tls_conn_write_all(c, U8("ping!"), 5), 5);
        CHECK_RC(h_read_exact(c, b, 5), 5);
        CHECK(memcmp(b, "pong!", 5) == 0);
        CHECK_RC(mojo_tls_conn_read(c, b, sizeof b), MOJO_TLS_ERR_TRUNCATED);
        __atomic_store_n(&ps.client_done, 1, __ATOMIC_SEQ_CST);
        pthread_join(th, NULL);
        CHECK_RC(mojo_tls_conn_free(c), 0);
        /* take_ownership=0: our end is still open and ours to close */
        CHECK(!h_fd_is_closed(sv[0]));
        CHECK(close(sv[0]) == 0);
    }

    CHECK_RC(mojo_tls_config_free(g_ccfg), 0);
    CHECK_RC(mojo_tls_config_free(g_scfg), 0);
    h_pki_free(&pki);
    return h_finish();
}
