/* Concurrent full handshakes on shared configurations: the engine's shared
 * state (the server config with its ticket keys and session cache, each
 * config's DRBG, PSA's key store and RNG) under 8 client threads against 8
 * server threads at once.
 *
 * Every client thread makes MOJO_TLS_STRESS_HANDSHAKES (default 300; 10 in
 * the valgrind pass) fresh TLS 1.3 connections to one listener, each a full
 * handshake (no session offered, chain and host name verified, tickets on),
 * echoes a tagged message and closes. Checked: every handshake succeeds and
 * is TLS 1.3 and not resumed, every echo comes back intact, and the server
 * accepted exactly as many connections as the clients made.
 *
 * Without Mbed TLS's threading layer this corrupts the engine (crashes,
 * "double free or corruption", PSA_ERROR_CORRUPTION_DETECTED). The ASan
 * pass (tests/reliability/asan.sh) runs it at full size, and
 * tests/reliability/threads.sh under valgrind's DRD. */
#include "harness.h"

#define NTHREADS 8
#define MSG 64

static int per_thread;
static int server_port, server_lfd;
static mojo_tls_config *scfg, *ccfg;
static int claimed, accepted_ok, client_ok;

static const char *last_error(void) {
    static __thread char buf[256];
    mojo_tls_last_error(buf, sizeof buf);
    return buf;
}

static void *server_thread(void *arg) {
    (void)arg;
    const int total = NTHREADS * per_thread;
    unsigned char buf[MSG];
    for (;;) {
        /* exactly `total` clients connect: claim one before accepting */
        if (__atomic_fetch_add(&claimed, 1, __ATOMIC_SEQ_CST) >= total) break;
        mojo_tls_conn *c = mojo_tls_conn_new_accept(scfg, server_lfd, h_io_timeout_ms());
        if (!c) {
            h_fail(__FILE__, __LINE__, "accept: %s", last_error());
            continue;
        }
        CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
        intptr_t r = h_read_exact(c, buf, MSG);
        if (r == MSG && mojo_tls_conn_write_all(c, buf, MSG) == MSG) {
            /* until the client's close_notify */
            while (mojo_tls_conn_read(c, buf, sizeof buf) > 0) {
            }
            __atomic_fetch_add(&accepted_ok, 1, __ATOMIC_SEQ_CST);
        } else {
            h_fail(__FILE__, __LINE__, "server echo: read %jd (%s)", (intmax_t)r, last_error());
        }
        CHECK_RC(mojo_tls_conn_free(c), 0);
    }
    return NULL;
}

static void *client_thread(void *arg) {
    int idx = (int)(intptr_t)arg;
    unsigned char out[MSG], in[MSG];
    for (int i = 0; i < per_thread; i++) {
        mojo_tls_conn *c = mojo_tls_conn_new_connect(ccfg, "localhost", (uint16_t)server_port, h_io_timeout_ms());
        if (!c) {
            h_fail(__FILE__, __LINE__, "client %d #%d: connect: %s", idx, i, last_error());
            continue;
        }
        CHECK_EQ(mojo_tls_conn_version(c), 0x0304);
        CHECK_EQ(mojo_tls_conn_session_resumed(c), 0);
        h_fill(out, MSG, ((uint64_t)idx << 32) | (uint64_t)i);
        intptr_t w = mojo_tls_conn_write_all(c, out, MSG);
        intptr_t r = w == MSG ? h_read_exact(c, in, MSG) : w;
        if (w == MSG && r == MSG && memcmp(in, out, MSG) == 0) {
            __atomic_fetch_add(&client_ok, 1, __ATOMIC_SEQ_CST);
        } else {
            h_fail(__FILE__, __LINE__, "client %d #%d: write %jd read %jd (%s)", idx, i, (intmax_t)w, (intmax_t)r,
                   last_error());
        }
        CHECK_RC(mojo_tls_conn_close(c), 0);
        CHECK_RC(mojo_tls_conn_free(c), 0);
    }
    return NULL;
}

int main(void) {
    h_start("test_handshake_stress", 240);
    const char *env = getenv("MOJO_TLS_STRESS_HANDSHAKES");
    per_thread = env ? atoi(env) : h_slow() >= 10 ? 10 : 300;
    if (per_thread < 1) per_thread = 1;

    h_pki pki;
    h_pki_make(&pki);
    scfg = h_server_config(&pki);
    REQUIRE_RC(mojo_tls_config_set_session_tickets(scfg, 0), 0);
    ccfg = h_client_config(pki.ca_pem, pki.ca_pem_len);
    server_lfd = h_listen(&server_port);

    pthread_t srv[NTHREADS], cli[NTHREADS];
    double t0 = h_now_ms();
    for (int i = 0; i < NTHREADS; i++) REQUIRE(pthread_create(&srv[i], NULL, server_thread, NULL) == 0);
    for (int i = 0; i < NTHREADS; i++)
        REQUIRE(pthread_create(&cli[i], NULL, client_thread, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < NTHREADS; i++) pthread_join(cli[i], NULL);
    for (int i = 0; i < NTHREADS; i++) pthread_join(srv[i], NULL);
    double ms = h_now_ms() - t0;

    const int total = NTHREADS * per_thread;
    printf("  %d threads x %d full TLS 1.3 handshakes (shared configs, tickets on): %d/%d ok in %.0f ms\n",
           NTHREADS, per_thread, client_ok, total, ms);
    CHECK_EQ(client_ok, total);
    CHECK_EQ(accepted_ok, total);

    CHECK_RC(mojo_tls_socket_close(server_lfd), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
    h_pki_free(&pki);
    return h_finish();
}
