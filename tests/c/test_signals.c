/* Signals (issue 19): a blocking call (timeout -1) interrupted by a signal
 * whose handler was installed without SA_RESTART returns
 * MOJO_TLS_ERR_INTERRUPTED, and the connection carries on as if nothing
 * happened.
 *
 *  - accept with no client, a read with no data, a handshake whose peer
 *    has not started: each returns INTERRUPTED (the old library retried
 *    EINTR forever: this program's own watchdog then ends it), then the
 *    same call completes once the peer acts
 *  - SIGALRM every 10 ms (setitimer, no SA_RESTART) during a 64 MiB
 *    transfer on blocking connections, fast and Mbed TLS record layers:
 *    the writer retries INTERRUPTED and short write_all counts, the reader
 *    retries INTERRUPTED; interruptions happen and the checksums match
 *
 * The timer's SIGALRM replaces the harness's alarm() watchdog: the
 * handler itself ends the process when the time limit has passed. Helper
 * threads block SIGALRM unless the test wants them interrupted too (then
 * the handler forwards each timer tick to them with pthread_kill).
 */
#include "harness.h"

#include <sys/time.h>

static volatile sig_atomic_t g_ticks;
static double g_deadline_ms;
static pthread_t g_forward_to;
static volatile sig_atomic_t g_forward;

static void on_alarm(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    int saved = errno;
    g_ticks++;
    if (h_now_ms() > g_deadline_ms) {
        static const char m[] = "\nWATCHDOG: test_signals exceeded its time limit (a call ignored the signal)\n";
        ssize_t r = write(2, m, sizeof m - 1);
        (void)r;
        _exit(3);
    }
    /* timer ticks (not our own forwards) also go to the helper thread */
    if (g_forward && si->si_code != SI_TKILL) pthread_kill(g_forward_to, sig);
    errno = saved;
}

static void ticking(int on) {
    struct itimerval it;
    memset(&it, 0, sizeof it);
    if (on) {
        it.it_interval.tv_usec = 10000;
        it.it_value.tv_usec = 10000;
    }
    REQUIRE(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

static void block_alarm_here(int block) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGALRM);
    pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &s, NULL);
}

/* ---------------------------------------------------------------- */

typedef struct {
    mojo_tls_config *cfg;
    int lfd, port, delay_ms;
    mojo_tls_conn *c;
} peer;

static void *accept_thread(void *arg) {
    peer *p = arg;
    block_alarm_here(1);
    p->c = mojo_tls_conn_new_accept(p->cfg, p->lfd, h_io_timeout_ms());
    return NULL;
}

static void *connect_later(void *arg) {
    peer *p = arg;
    block_alarm_here(1);
    h_sleep_ms(p->delay_ms);
    p->c = mojo_tls_conn_new_connect(p->cfg, "127.0.0.1", (uint16_t)p->port, h_io_timeout_ms());
    return NULL;
}

/* A connected pair on blocking sockets (timeout -1), made without ticks. */
static void make_pair(mojo_tls_config *ccfg, mojo_tls_config *scfg, mojo_tls_conn **cli, mojo_tls_conn **srv) {
    peer s = {scfg, -1, 0, 0, NULL};
    s.lfd = h_listen(&s.port);
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, accept_thread, &s) == 0);
    *cli = mojo_tls_conn_new_connect(ccfg, "127.0.0.1", (uint16_t)s.port, h_io_timeout_ms());
    pthread_join(th, NULL);
    REQUIRE_NONNULL(*cli);
    REQUIRE_NONNULL(s.c);
    *srv = s.c;
    mojo_tls_socket_close(s.lfd);
    REQUIRE_RC(mojo_tls_conn_set_timeout(*cli, -1), 0);
    REQUIRE_RC(mojo_tls_conn_set_timeout(*srv, -1), 0);
}

/* Retry a call returning an int status while it reports INTERRUPTED;
 * returns the final status, counts the interruptions. */
#define RETRY(count, expr)                                                \
    ({                                                                    \
        intptr_t r_;                                                      \
        while ((r_ = (intptr_t)(expr)) == MOJO_TLS_ERR_INTERRUPTED) (count)++; \
        r_;                                                               \
    })

/* accept(-1) with no client: INTERRUPTED; then, accepting without the
 * handshake (so a signal never costs the client), the client is taken and
 * the handshake completes through more interruptions. */
static void t_accept(mojo_tls_config *ccfg, mojo_tls_config *scfg) {
    peer cl = {ccfg, -1, 0, 300, NULL};
    int lfd = h_listen(&cl.port);
    ticking(1);
    double t0 = h_now_ms();
    CHECK_NULL_CODE(mojo_tls_conn_new_accept(scfg, lfd, -1), MOJO_TLS_ERR_INTERRUPTED);
    CHECK_MSG(h_now_ms() - t0 < 1000.0 * h_slow(), "accept took %.0f ms to report the signal", h_now_ms() - t0);
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, connect_later, &cl) == 0);
    mojo_tls_conn *srv = NULL;
    int interrupted = 1;
    while (!srv) {
        srv = mojo_tls_conn_new_accept_no_handshake(scfg, lfd, -1);
        if (!srv) {
            REQUIRE_RC(mojo_tls_last_error_code(), MOJO_TLS_ERR_INTERRUPTED);
            interrupted++;
        }
    }
    CHECK_RC(RETRY(interrupted, mojo_tls_conn_handshake(srv)), 0);
    ticking(0);
    pthread_join(th, NULL);
    printf("accept: INTERRUPTED %d time(s), then the client and its handshake\n", interrupted);
    CHECK(interrupted > 1);
    REQUIRE_NONNULL(cl.c);
    CHECK_RC(mojo_tls_conn_write_all(cl.c, U8("ping"), 4), 4);
    unsigned char b[8];
    CHECK_RC(h_read_exact(srv, b, 4), 4);
    CHECK(memcmp(b, "ping", 4) == 0);
    mojo_tls_conn_free(cl.c);
    mojo_tls_conn_free(srv);
    mojo_tls_socket_close(lfd);
}

typedef struct {
    mojo_tls_conn *c;
    int delay_ms;
} later;

static void *write_later(void *arg) {
    later *l = arg;
    block_alarm_here(1);
    h_sleep_ms(l->delay_ms);
    CHECK_RC(mojo_tls_conn_write_all(l->c, U8("hello"), 5), 5);
    return NULL;
}

static void *handshake_later(void *arg) {
    later *l = arg;
    block_alarm_here(1);
    h_sleep_ms(l->delay_ms);
    CHECK_RC(mojo_tls_conn_handshake(l->c), 0);
    return NULL;
}

/* read(-1) with nothing sent: INTERRUPTED; the data then arrives intact. */
static void t_read(mojo_tls_config *ccfg, mojo_tls_config *scfg) {
    mojo_tls_conn *cli, *srv;
    make_pair(ccfg, scfg, &cli, &srv);
    unsigned char b[16];
    ticking(1);
    double t0 = h_now_ms();
    CHECK_RC(mojo_tls_conn_read(cli, b, sizeof b), MOJO_TLS_ERR_INTERRUPTED);
    CHECK_MSG(h_now_ms() - t0 < 1000.0 * h_slow(), "read took %.0f ms to report the signal", h_now_ms() - t0);
    later l = {srv, 200};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, write_later, &l) == 0);
    int interrupted = 1;
    CHECK_RC(RETRY(interrupted, mojo_tls_conn_read(cli, b, sizeof b)), 5);
    ticking(0);
    pthread_join(th, NULL);
    printf("read: INTERRUPTED %d time(s), then the data\n", interrupted);
    CHECK(interrupted > 1);
    CHECK(memcmp(b, "hello", 5) == 0);
    /* and the other way round, without signals */
    CHECK_RC(mojo_tls_conn_write_all(cli, U8("world"), 5), 5);
    CHECK_RC(h_read_exact(srv, b, 5), 5);
    CHECK(memcmp(b, "world", 5) == 0);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);
}

/* handshake(-1) on a caller's fd whose peer has not started: INTERRUPTED;
 * it completes once the peer handshakes. */
static void t_handshake(mojo_tls_config *ccfg, mojo_tls_config *scfg) {
    int port;
    int lfd = h_raw_listen(&port, 1);
    int cfd = h_tcp_connect(port);
    int sfd = accept(lfd, NULL, NULL);
    REQUIRE(sfd >= 0);
    close(lfd);
    mojo_tls_conn *srv = mojo_tls_conn_new_fd(scfg, sfd, 1, NULL);
    mojo_tls_conn *cli = mojo_tls_conn_new_fd(ccfg, cfd, 1, "localhost");
    REQUIRE_NONNULL(srv);
    REQUIRE_NONNULL(cli);
    ticking(1);
    CHECK_RC(mojo_tls_conn_handshake(srv), MOJO_TLS_ERR_INTERRUPTED);
    later l = {cli, 200};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, handshake_later, &l) == 0);
    int interrupted = 1;
    CHECK_RC(RETRY(interrupted, mojo_tls_conn_handshake(srv)), 0);
    ticking(0);
    pthread_join(th, NULL);
    printf("handshake: INTERRUPTED %d time(s), then complete\n", interrupted);
    CHECK(interrupted > 1);
    unsigned char b[8];
    CHECK_RC(mojo_tls_conn_write_all(srv, U8("abc"), 3), 3);
    CHECK_RC(h_read_exact(cli, b, 3), 3);
    CHECK(memcmp(b, "abc", 3) == 0);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);
}

/* ---------------------------------------------------------------- */
/* 64 MiB under SIGALRM every 10 ms                                  */

typedef struct {
    mojo_tls_conn *c;
    const unsigned char *data;
    size_t len;
    int interrupted, short_writes;
} writer;

/* The caller's side of write_all under signals: INTERRUPTED before any
 * byte, or a short count: call again with the rest. */
/* Each side pauses for several tick periods every PAUSE_EVERY bytes, so the
 * other one is certainly waiting in the library (for room or for data)
 * while ticks arrive. Without the pauses a CPU-bound transfer on two cores
 * can run with every tick landing outside a wait (seen once in CI: 72
 * ticks, no interruption). */
#define PAUSE_EVERY ((size_t)8 << 20)
#define PAUSE_MS 50

static void *writer_main(void *arg) {
    writer *w = arg;
    block_alarm_here(0);
    size_t off = 0;
    while (off < w->len) {
        size_t piece = w->len - off < (1u << 20) ? w->len - off : (1u << 20);
        intptr_t n = mojo_tls_conn_write_all(w->c, w->data + off, piece);
        if (n == MOJO_TLS_ERR_INTERRUPTED) {
            w->interrupted++;
            continue;
        }
        if (n <= 0) {
            h_fail(__FILE__, __LINE__, "write_all: %jd (%s)", (intmax_t)n, h_code_name(n));
            return NULL;
        }
        if ((size_t)n < piece) w->short_writes++;
        /* the reader drains the socket and then waits for data through
         * several ticks (see PAUSE_EVERY) */
        if ((off + (size_t)n) / PAUSE_EVERY != off / PAUSE_EVERY && off + (size_t)n < w->len) h_sleep_ms(PAUSE_MS);
        off += (size_t)n;
    }
    return NULL;
}

static void t_transfer(mojo_tls_config *ccfg, mojo_tls_config *scfg, const char *name, const unsigned char *data,
                       size_t len) {
    mojo_tls_conn *cli, *srv;
    make_pair(ccfg, scfg, &cli, &srv);
    /* Small socket buffers: the writer waits for room and the reader for
     * data many times per transfer whatever the two sides' speeds, so the
     * ticks find calls waiting in poll(). (With loopback's default buffers a
     * CPU-bound transfer, e.g. software AES on Mbed TLS's record layer,
     * could run without a single wait.) */
    int small = 32 * 1024;
    REQUIRE(setsockopt(mojo_tls_conn_fd(cli), SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
    REQUIRE(setsockopt(mojo_tls_conn_fd(srv), SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    writer w = {cli, data, len, 0, 0};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, writer_main, &w) == 0);
    g_forward_to = th;
    g_forward = 1;
    int ticks0 = g_ticks;
    ticking(1);
    double t0 = h_now_ms();
    unsigned char *buf = h_xmalloc(1 << 16);
    uint64_t sum = H_FNV_INIT;
    size_t got = 0;
    int interrupted = 0;
    while (got < len) {
        intptr_t n = mojo_tls_conn_read(srv, buf, 1 << 16);
        if (n == MOJO_TLS_ERR_INTERRUPTED) {
            interrupted++;
            continue;
        }
        if (n <= 0) {
            h_fail(__FILE__, __LINE__, "read after %zu bytes: %jd (%s)", got, (intmax_t)n, h_code_name(n));
            break;
        }
        sum = h_fnv1a(sum, buf, (size_t)n);
        /* the writer fills the socket and then waits for room */
        if ((got + (size_t)n) / PAUSE_EVERY != got / PAUSE_EVERY && got + (size_t)n < len) h_sleep_ms(PAUSE_MS);
        got += (size_t)n;
    }
    pthread_join(th, NULL);
    ticking(0);
    g_forward = 0;
    CHECK_EQ(got, len);
    CHECK_MSG(sum == h_fnv1a(H_FNV_INIT, data, len), "checksum of the %zu bytes received differs", got);
    printf("%s: %zu MiB in %.0f ms, %d ticks; reader INTERRUPTED %d, writer INTERRUPTED %d + %d short counts\n",
           name, len >> 20, h_now_ms() - t0, g_ticks - ticks0, interrupted, w.interrupted, w.short_writes);
    /* Under valgrind (one thread runs at a time) the ticks may all land
     * outside poll(); the cases above check INTERRUPTED itself there. */
    if (h_slow() == 1) CHECK_MSG(interrupted + w.interrupted + w.short_writes > 0, "no call was interrupted");
    /* the connection carries on: a round trip and a clean close */
    CHECK_RC(mojo_tls_conn_write_all(srv, U8("done"), 4), 4);
    CHECK_RC(h_read_exact(cli, buf, 4), 4);
    CHECK(memcmp(buf, "done", 4) == 0);
    CHECK_RC(mojo_tls_conn_close_notify(cli), 0);
    CHECK_RC(mojo_tls_conn_read(srv, buf, 16), 0);
    free(buf);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);
}

int main(void) {
    h_start("test_signals", 120);
    alarm(0); /* our timer's handler is the watchdog from here on */
    g_deadline_ms = h_now_ms() + 120000.0 * h_slow();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_alarm;
    sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: blocking calls see EINTR */
    sigemptyset(&sa.sa_mask);
    REQUIRE(sigaction(SIGALRM, &sa, NULL) == 0);

    h_pki pki;
    h_pki_make(&pki);
    mojo_tls_config *scfg = h_server_config(&pki), *ccfg = h_client_config(pki.ca_pem, pki.ca_pem_len);
    t_accept(ccfg, scfg);
    t_read(ccfg, scfg);
    t_handshake(ccfg, scfg);

    size_t len = (h_slow() > 1 ? 4u : 64u) << 20;
    unsigned char *data = h_xmalloc(len);
    h_fill(data, len, 64);
    t_transfer(ccfg, scfg, "fast record layer", data, len);
    mojo_tls_config *mscfg = h_server_config(&pki), *mccfg = h_client_config(pki.ca_pem, pki.ca_pem_len);
    REQUIRE_RC(mojo_tls_config_set_record_layer(mscfg, MOJO_TLS_RECORD_LAYER_MBEDTLS), 0);
    REQUIRE_RC(mojo_tls_config_set_record_layer(mccfg, MOJO_TLS_RECORD_LAYER_MBEDTLS), 0);
    t_transfer(mccfg, mscfg, "Mbed TLS record layer", data, len);

    free(data);
    mojo_tls_config_free(mscfg);
    mojo_tls_config_free(mccfg);
    mojo_tls_config_free(scfg);
    mojo_tls_config_free(ccfg);
    h_pki_free(&pki);
    return h_finish();
}
