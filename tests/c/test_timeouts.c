/* Every timeout kind ends with MOJO_TLS_ERR_TIMEOUT after about the requested
 * time: connect (peer never answers the handshake), accept (no client),
 * accept (client never speaks), handshake after accept_no_handshake, read,
 * write (peer never reads), and connect's timeout carried over to reads.
 * A negative timeout blocks until the peer acts. Elapsed times are checked
 * within [0.8x, 5x] (the upper bound is scaled under valgrind). */
#include "harness.h"

#define T_MS 400

static void check_elapsed(const char *what, double t0, int timeout_ms) {
    double el = h_now_ms() - t0;
    printf("  %-28s %6.0f ms (timeout %d ms)\n", what, el, timeout_ms);
    CHECK_MSG(el >= 0.8 * timeout_ms, "%s: returned after %.0f ms, before 0.8 x %d ms", what, el, timeout_ms);
    CHECK_MSG(el <= 5.0 * timeout_ms * h_slow(), "%s: took %.0f ms, more than 5 x %d ms", what, el, timeout_ms);
}

typedef struct {
    volatile int release; /* main sets it when the server may finish */
    int delay_ms;         /* >0: write "late" after this delay */
} idle_arg;

/* Server that keeps the connection open without reading, until released. */
static void idle_server(h_server_slot *slot, mojo_tls_conn *c, void *p) {
    (void)slot;
    idle_arg *a = p;
    if (a->delay_ms > 0) {
        h_sleep_ms(a->delay_ms);
        CHECK_RC(mojo_tls_conn_write_all(c, U8("late"), 4), 4);
    }
    double t0 = h_now_ms();
    while (!__atomic_load_n(&a->release, __ATOMIC_SEQ_CST) && h_now_ms() - t0 < 4.0 * h_io_timeout_ms())
        h_sleep_ms(5);
}

int main(void) {
    h_start("test_timeouts", 180);
    h_pki pki;
    h_pki_make(&pki);
    mojo_tls_config *scfg = h_server_config(&pki);
    mojo_tls_config *ccfg = h_client_config(pki.ca_pem, pki.ca_pem_len);
    double t0;

    /* connect: TCP completes (kernel backlog) but nobody ever answers */
    {
        int port;
        int lfd = h_raw_listen(&port, 4);
        t0 = h_now_ms();
        CHECK_NULL_CODE(mojo_tls_conn_new_connect(ccfg, "127.0.0.1", (uint16_t)port, T_MS), MOJO_TLS_ERR_TIMEOUT);
        check_elapsed("connect, silent peer", t0, T_MS);
        close(lfd);
    }

    /* accept / accept_no_handshake with no client at all */
    {
        int port;
        int lfd = h_listen(&port);
        t0 = h_now_ms();
        CHECK_NULL_CODE(mojo_tls_conn_new_accept(scfg, lfd, T_MS), MOJO_TLS_ERR_TIMEOUT);
        check_elapsed("accept, no client", t0, T_MS);
        t0 = h_now_ms();
        CHECK_NULL_CODE(mojo_tls_conn_new_accept_no_handshake(scfg, lfd, T_MS), MOJO_TLS_ERR_TIMEOUT);
        check_elapsed("accept_no_handshake, no client", t0, T_MS);

        /* a TCP client that never sends a ClientHello: accept covers the
         * handshake too, so it must time out as well (and close the fd) */
        int cfd = h_tcp_connect(port);
        t0 = h_now_ms();
        CHECK_NULL_CODE(mojo_tls_conn_new_accept(scfg, lfd, T_MS), MOJO_TLS_ERR_TIMEOUT);
        check_elapsed("accept, silent client", t0, T_MS);
        /* the library closed the accepted socket: we see EOF (an alert
         * before it would be fine) */
        int eof = 0;
        for (int i = 0; i < 16 && !eof; i++) {
            struct pollfd p = {cfd, POLLIN, 0};
            if (poll(&p, 1, 2000 * h_slow()) != 1) break;
            unsigned char b[64];
            ssize_t r = recv(cfd, b, sizeof b, 0);
            if (r <= 0) eof = 1;
        }
        CHECK_MSG(eof, "accept timed out but the accepted socket was not closed");
        close(cfd);

        /* accept_no_handshake returns the conn; the handshake then times out */
        cfd = h_tcp_connect(port);
        mojo_tls_conn *c = mojo_tls_conn_new_accept_no_handshake(scfg, lfd, 5000 * h_slow());
        REQUIRE_NONNULL(c);
        CHECK_RC(mojo_tls_conn_set_timeout(c, T_MS), 0);
        t0 = h_now_ms();
        CHECK_RC(mojo_tls_conn_handshake(c), MOJO_TLS_ERR_TIMEOUT);
        check_elapsed("handshake, silent client", t0, T_MS);
        CHECK_RC(mojo_tls_conn_free(c), 0);
        close(cfd);
        CHECK_RC(mojo_tls_socket_close(lfd), 0);
    }

    /* read with no data; connect's timeout becomes the conn's timeout */
    {
        idle_arg a = {0, 0};
        h_server srv;
        h_server_start(&srv, scfg, 1, idle_server, &a);
        mojo_tls_conn *c = mojo_tls_conn_new_connect(ccfg, "localhost", (uint16_t)srv.port, T_MS * h_slow() * 5);
        REQUIRE_NONNULL(c);
        unsigned char b[16];
        t0 = h_now_ms();
        CHECK_RC(mojo_tls_conn_read(c, b, sizeof b), MOJO_TLS_ERR_TIMEOUT);
        check_elapsed("read, timeout from connect", t0, T_MS * h_slow() * 5);
        CHECK_RC(mojo_tls_conn_set_timeout(c, T_MS), 0);
        t0 = h_now_ms();
        CHECK_RC(mojo_tls_conn_read(c, b, sizeof b), MOJO_TLS_ERR_TIMEOUT);
        check_elapsed("read, set_timeout", t0, T_MS);

        /* write: the server never reads, so socket buffers fill up */
        enum { CHUNK = 1 << 20 };
        unsigned char *data = h_xmalloc(CHUNK);
        h_fill(data, CHUNK, 5);
        size_t sent = 0;
        intptr_t w = 0;
        for (int i = 0; i < 512; i++) {
            t0 = h_now_ms();
            w = mojo_tls_conn_write(c, data, CHUNK);
            if (w < 0) break;
            sent += (size_t)w;
        }
        CHECK_RC(w, MOJO_TLS_ERR_TIMEOUT);
        if (w == MOJO_TLS_ERR_TIMEOUT) check_elapsed("write, peer not reading", t0, T_MS);
        printf("  (%zu bytes accepted before the write timed out)\n", sent);
        /* write_all reports the timeout as well */
        t0 = h_now_ms();
        CHECK_RC(mojo_tls_conn_write_all(c, data, CHUNK), MOJO_TLS_ERR_TIMEOUT);
        check_elapsed("write_all, peer not reading", t0, T_MS);
        free(data);
        __atomic_store_n(&a.release, 1, __ATOMIC_SEQ_CST);
        CHECK_RC(mojo_tls_conn_free(c), 0);
        h_server_join(&srv);
    }

    /* timeout < 0 blocks until the peer sends (after ~200 ms) */
    {
        idle_arg a = {0, 200};
        h_server srv;
        h_server_start(&srv, scfg, 1, idle_server, &a);
        mojo_tls_conn *c = h_connect(ccfg, srv.port);
        CHECK_RC(mojo_tls_conn_set_timeout(c, -1), 0);
        unsigned char b[16];
        t0 = h_now_ms();
        intptr_t n = h_read_exact(c, b, 4);
        double el = h_now_ms() - t0;
        CHECK_RC(n, 4);
        CHECK(memcmp(b, "late", 4) == 0);
        printf("  %-28s %6.0f ms\n", "blocking read", el);
        CHECK_MSG(el >= 100.0, "blocking read returned after %.0f ms; the peer only sent after 200 ms", el);
        __atomic_store_n(&a.release, 1, __ATOMIC_SEQ_CST);
        CHECK_RC(mojo_tls_conn_free(c), 0);
        h_server_join(&srv);
    }

    /* a blocking (-1) connect/handshake still works normally */
    {
        idle_arg a = {1, 0};
        h_server srv;
        h_server_start(&srv, scfg, 1, idle_server, &a);
        mojo_tls_conn *c = mojo_tls_conn_new_connect(ccfg, "localhost", (uint16_t)srv.port, -1);
        REQUIRE_NONNULL(c);
        CHECK(mojo_tls_conn_cipher(c) != NULL);
        CHECK_RC(mojo_tls_conn_free(c), 0);
        h_server_join(&srv);
    }

    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
    h_pki_free(&pki);
    return h_finish();
}
