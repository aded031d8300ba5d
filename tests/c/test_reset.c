/* A peer that resets the connection (TCP RST) is MOJO_TLS_ERR_RESET, told
 * apart from a local close (MOJO_TLS_ERR_CLOSED) and from an EOF without
 * close_notify (MOJO_TLS_ERR_TRUNCATED): the packages map it to
 * ConnectionResetError and the like without guessing. Reads first return
 * what arrived before the reset; both record layers; reads and writes. */
#include "harness.h"

typedef struct {
    int lfd;
    mojo_tls_config *cfg;
    volatile int client_read; /* the client has the greeting: reset now */
} server_arg;

static void *server_main(void *p) {
    server_arg *a = p;
    int fd = accept(a->lfd, NULL, NULL);
    REQUIRE(fd >= 0);
    mojo_tls_conn *c = mojo_tls_conn_new_fd(a->cfg, fd, 0, NULL);
    REQUIRE_NONNULL(c);
    CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
    CHECK_RC(mojo_tls_conn_handshake(c), 0);
    CHECK_RC(mojo_tls_conn_write_all(c, U8("hello"), 5), 5);
    double t0 = h_now_ms();
    while (!__atomic_load_n(&a->client_read, __ATOMIC_SEQ_CST) && h_now_ms() - t0 < h_io_timeout_ms())
        h_sleep_ms(2);
    CHECK_RC(mojo_tls_conn_abandon(c), 0); /* nothing sent, fd left to us */
    struct linger lg = {1, 0};             /* close() sends RST */
    REQUIRE(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    close(fd);
    return NULL;
}

static void one(const h_pki *pki, int layer, int version, int by_write) {
    mojo_tls_config *scfg = h_server_config(pki);
    mojo_tls_config *ccfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    CHECK_RC(mojo_tls_config_set_record_layer(ccfg, layer), 0);
    CHECK_RC(mojo_tls_config_set_max_version(ccfg, version), 0);
    int port;
    int lfd = h_raw_listen(&port, 4);
    server_arg a = {lfd, scfg, 0};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, server_main, &a) == 0);

    mojo_tls_conn *c = mojo_tls_conn_new_connect(ccfg, "127.0.0.1", (uint16_t)port, h_io_timeout_ms());
    REQUIRE_NONNULL(c);
    unsigned char b[16];
    CHECK_RC(h_read_exact(c, b, 5), 5);
    CHECK(memcmp(b, "hello", 5) == 0);
    __atomic_store_n(&a.client_read, 1, __ATOMIC_SEQ_CST);
    pthread_join(th, NULL);

    intptr_t rc = 0;
    if (by_write) {
        /* The first write after the RST may still be accepted by the
         * kernel; a later one fails with ECONNRESET / EPIPE. */
        for (int i = 0; i < 50 && rc >= 0; i++) {
            rc = mojo_tls_conn_write(c, U8("ping"), 4);
            if (rc >= 0) h_sleep_ms(10);
        }
    } else {
        rc = mojo_tls_conn_read(c, b, sizeof b);
    }
    char msg[256] = "";
    mojo_tls_last_error(msg, sizeof msg);
    CHECK_MSG(rc == MOJO_TLS_ERR_RESET, "layer %d, TLS %s, %s after RST: %s (%s)", layer,
              version == MOJO_TLS_VERSION_TLS1_3 ? "1.3" : "1.2", by_write ? "write" : "read",
              h_code_name(rc), msg);
    CHECK_MSG(h_contains_ci(msg, "reset"), "message: %s", msg);
    /* the failure is final and stays a reset */
    CHECK_RC(mojo_tls_conn_read(c, b, sizeof b), MOJO_TLS_ERR_RESET);
    CHECK_RC(mojo_tls_conn_free(c), 0);
    close(lfd);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
}

int main(void) {
    h_start("test_reset", 120);
    h_pki pki;
    h_pki_make(&pki);
    const int layers[] = {MOJO_TLS_RECORD_LAYER_AUTO, MOJO_TLS_RECORD_LAYER_MBEDTLS};
    const int versions[] = {MOJO_TLS_VERSION_TLS1_3, MOJO_TLS_VERSION_TLS1_2};
    for (int l = 0; l < 2; l++)
        for (int v = 0; v < 2; v++)
            for (int w = 0; w < 2; w++) one(&pki, layers[l], versions[v], w);
    /* a local close is still CLOSED */
    mojo_tls_config *ccfg = h_client_config(pki.ca_pem, pki.ca_pem_len);
    mojo_tls_conn *m = mojo_tls_conn_new_memory(ccfg, "localhost");
    REQUIRE_NONNULL(m);
    CHECK_RC(mojo_tls_conn_close(m), 0);
    unsigned char b[4];
    CHECK_RC(mojo_tls_conn_read(m, b, sizeof b), MOJO_TLS_ERR_CLOSED);
    CHECK_RC(mojo_tls_conn_free(m), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    h_pki_free(&pki);
    return h_finish();
}
