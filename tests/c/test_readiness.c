/* Readiness (issue 19): the documented poll loop never stalls.
 *
 * Each run: two non-blocking endpoints on two threads, each with one poll()
 * loop over its fd that writes 16 MiB in random 1 B - 64 KiB pieces and
 * reads the peer's 16 MiB the way the header says (poll for POLLIN, read,
 * then read again while mojo_tls_conn_pending() > 0); once both directions
 * are complete it sends close_notify and reads to EOF (which may arrive
 * with the peer's last data). A poll() that sees nothing for a while with data still
 * missing is a stall: the bytes are inside the library and nothing tells
 * the caller. Every received byte is compared with what was sent.
 *
 * 20 runs for each of: fast / Mbed TLS record layer x the library's own
 * sockets (connect + accept) / a caller's fds (mojo_tls_conn_new_fd
 * without ownership: whole-record reads). Even runs read into a 16 KiB
 * buffer (a record's size: the case that stalled), odd runs random sizes.
 * Under valgrind (MOJO_TLS_TEST_SLOW) 2 runs of 1 MiB each.
 * Each combination stops starting runs after 20 s (a loaded machine; the
 * line says how many ran), so the program stays well inside run.sh's 60 s.
 * env: MOJO_TLS_READY_RUNS, MOJO_TLS_READY_MIB override the volume;
 * MOJO_TLS_READY_KEEP_GOING=1 keeps running a combination after 3 stalls
 * (to count them); MOJO_TLS_READY_BUDGET_S changes the 20 s.
 */
#include "harness.h"

#define MAX_PIECE (64 * 1024)

static unsigned char *g_data[2]; /* [0] client -> server, [1] server -> client */
static size_t g_total;
static int g_stall_ms;

static uint64_t rnd(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

typedef struct {
    int server, own_socket, lfd, port, fd;
    mojo_tls_config *cfg;
    uint64_t seed;
    int fixed_reads;
    mojo_tls_conn *c;
    /* results */
    size_t sent, received;
    int eof, stalled, failed, mismatch;
} endpoint;

static mojo_tls_conn *open_conn(endpoint *e) {
    if (e->own_socket)
        return e->server ? mojo_tls_conn_new_accept(e->cfg, e->lfd, h_io_timeout_ms())
                         : mojo_tls_conn_new_connect(e->cfg, "127.0.0.1", (uint16_t)e->port, h_io_timeout_ms());
    mojo_tls_conn *c = mojo_tls_conn_new_fd(e->cfg, e->fd, 0, e->server ? NULL : "localhost");
    if (c && (mojo_tls_conn_set_timeout(c, h_io_timeout_ms()) != 0 || mojo_tls_conn_handshake(c) != 0)) {
        h_fail(__FILE__, __LINE__, "%s handshake over a caller's fd", e->server ? "server" : "client");
        mojo_tls_conn_free(c);
        return NULL;
    }
    return c;
}

/* Read as documented: once, then while pending() > 0. */
static void on_readable(endpoint *e, unsigned char *buf, uint64_t *rng) {
    const unsigned char *expect = g_data[e->server ? 0 : 1];
    intptr_t n;
    do {
        size_t cap = e->fixed_reads ? 16384 : 1 + (size_t)(rnd(rng) % MAX_PIECE);
        n = mojo_tls_conn_read(e->c, buf, cap);
        if (n > 0) {
            if (e->received + (size_t)n > g_total || memcmp(buf, expect + e->received, (size_t)n) != 0) {
                e->mismatch = 1;
                return;
            }
            e->received += (size_t)n;
        } else if (n == 0) {
            e->eof = 1;
        } else if (n != MOJO_TLS_ERR_WANT_READ) {
            h_fail(__FILE__, __LINE__, "read: %jd (%s)", (intmax_t)n, h_code_name(n));
            e->failed = 1;
        }
    } while (n > 0 && mojo_tls_conn_pending(e->c) > 0);
}

/* Write random pieces until the socket is full; WANT_WRITE is retried with
 * the same data (the piece stays where it is). */
static void on_writable(endpoint *e, size_t *piece, uint64_t *rng) {
    const unsigned char *src = g_data[e->server ? 1 : 0];
    while (e->sent < g_total) {
        if (*piece == 0) {
            *piece = 1 + (size_t)(rnd(rng) % MAX_PIECE);
            if (*piece > g_total - e->sent) *piece = g_total - e->sent;
        }
        intptr_t w = mojo_tls_conn_write(e->c, src + e->sent, *piece);
        if (w == MOJO_TLS_ERR_WANT_WRITE) return;
        if (w <= 0 || (size_t)w > *piece) {
            h_fail(__FILE__, __LINE__, "write: %jd (%s)", (intmax_t)w, h_code_name(w));
            e->failed = 1;
            return;
        }
        e->sent += (size_t)w;
        *piece -= (size_t)w;
    }
}

static void *endpoint_main(void *arg) {
    endpoint *e = arg;
    e->c = open_conn(e);
    if (!e->c) {
        h_fail(__FILE__, __LINE__, "%s: no connection", e->server ? "server" : "client");
        e->failed = 1;
        return NULL;
    }
    int fd = mojo_tls_conn_fd(e->c);
    REQUIRE_OK(fd);
    REQUIRE_RC(mojo_tls_conn_set_timeout(e->c, 0), 0);
    unsigned char *buf = h_xmalloc(MAX_PIECE);
    uint64_t rng = e->seed | 1;
    size_t piece = 0;
    int notified = 0;
    while (!e->failed && !e->mismatch && !(e->eof && notified)) {
        struct pollfd p = {fd, 0, 0};
        if (!e->eof) p.events |= POLLIN;
        if (e->sent < g_total || (e->received == g_total && !notified)) p.events |= POLLOUT;
        int r = poll(&p, 1, g_stall_ms);
        if (r == 0) {
            e->stalled = 1;
            break;
        }
        if (r < 0) {
            if (errno == EINTR) continue;
            h_fail(__FILE__, __LINE__, "poll: %s", strerror(errno));
            e->failed = 1;
            break;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) on_readable(e, buf, &rng);
        if ((p.revents & POLLOUT) && !notified && !e->failed && !e->mismatch) {
            on_writable(e, &piece, &rng);
            /* close_notify once both directions are complete: the
             * library refuses writes after the peer's close_notify. */
            if (e->sent == g_total && e->received == g_total && !e->failed) {
                int rc = mojo_tls_conn_close_notify(e->c);
                if (rc == 0) notified = 1;
                else if (rc != MOJO_TLS_ERR_WANT_WRITE) {
                    h_fail(__FILE__, __LINE__, "close_notify: %d (%s)", rc, h_code_name(rc));
                    e->failed = 1;
                }
            }
        }
    }
    free(buf);
    return NULL;
}

/* One run; returns 1 if it stalled. */
static int one_run(mojo_tls_config *ccfg, mojo_tls_config *scfg, int own_socket, int run, const char *want_layer) {
    endpoint ep[2];
    memset(ep, 0, sizeof ep);
    int lfd = -1, fds[2] = {-1, -1};
    for (int i = 0; i < 2; i++) {
        ep[i].server = i;
        ep[i].own_socket = own_socket;
        ep[i].cfg = i ? scfg : ccfg;
        ep[i].seed = 0x5eed0000u + (uint64_t)run * 2 + (uint64_t)i;
        ep[i].fixed_reads = run % 2 == 0;
    }
    if (own_socket) {
        lfd = h_listen(&ep[0].port);
        ep[1].lfd = lfd;
    } else {
        int port;
        lfd = h_raw_listen(&port, 1);
        fds[0] = h_tcp_connect(port);
        fds[1] = accept(lfd, NULL, NULL);
        REQUIRE(fds[1] >= 0);
        ep[0].fd = fds[0];
        ep[1].fd = fds[1];
    }
    pthread_t th[2];
    for (int i = 0; i < 2; i++) REQUIRE(pthread_create(&th[i], NULL, endpoint_main, &ep[i]) == 0);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    int stalled = 0;
    for (int i = 0; i < 2; i++) {
        endpoint *e = &ep[i];
        const char *who = i ? "server" : "client";
        if (e->stalled) {
            stalled = 1;
            printf("    run %d: %s stalled: received %zu of %zu bytes (pending() = %jd)\n", run, who, e->received,
                   g_total, e->c ? (intmax_t)mojo_tls_conn_pending(e->c) : (intmax_t)-1);
        } else if (!e->failed) {
            CHECK_MSG(!e->mismatch, "run %d: %s received different bytes at offset ~%zu", run, who, e->received);
            CHECK_MSG(e->received == g_total && e->eof, "run %d: %s received %zu of %zu, eof %d", run, who,
                      e->received, g_total, e->eof);
            CHECK_EQ(e->sent, g_total);
        }
        CHECK_MSG(!e->failed, "run %d: %s failed", run, who);
        if (e->c && run == 0) {
            const char *layer = mojo_tls_conn_record_layer(e->c);
            CHECK_MSG(layer && (strcmp(want_layer, "fast") == 0 ? strcmp(layer, "Mbed TLS") != 0
                                                                 : strcmp(layer, "Mbed TLS") == 0),
                      "%s record layer %s, wanted %s", who, layer ? layer : "(null)", want_layer);
        }
        if (e->c) CHECK_RC(mojo_tls_conn_free(e->c), 0);
    }
    if (fds[0] >= 0) close(fds[0]);
    if (fds[1] >= 0) close(fds[1]);
    if (own_socket) mojo_tls_socket_close(lfd);
    else close(lfd);
    return stalled;
}

static int env_int(const char *name, int dflt) {
    const char *s = getenv(name);
    return s && atoi(s) > 0 ? atoi(s) : dflt;
}

int main(void) {
    h_start("test_readiness", 300);
    int slow = h_slow() > 1;
    int runs = env_int("MOJO_TLS_READY_RUNS", slow ? 2 : 20);
    g_total = (size_t)env_int("MOJO_TLS_READY_MIB", slow ? 1 : 16) << 20;
    int keep_going = env_int("MOJO_TLS_READY_KEEP_GOING", 0);
    double budget_ms = 1000.0 * env_int("MOJO_TLS_READY_BUDGET_S", 20) * h_slow();
    /* A quiet second with data missing is a stall (the peer has sent all). */
    g_stall_ms = 1000 * h_slow();
    g_data[0] = h_xmalloc(g_total);
    g_data[1] = h_xmalloc(g_total);
    h_fill(g_data[0], g_total, 1919);
    h_fill(g_data[1], g_total, 2019);

    h_pki pki;
    h_pki_make(&pki);
    int total_stalls = 0;
    for (int mbed = 0; mbed < 2; mbed++) {
        mojo_tls_config *scfg = h_server_config(&pki), *ccfg = h_client_config(pki.ca_pem, pki.ca_pem_len);
        if (mbed) {
            REQUIRE_RC(mojo_tls_config_set_record_layer(scfg, MOJO_TLS_RECORD_LAYER_MBEDTLS), 0);
            REQUIRE_RC(mojo_tls_config_set_record_layer(ccfg, MOJO_TLS_RECORD_LAYER_MBEDTLS), 0);
        }
        for (int own = 1; own >= 0; own--) {
            double t0 = h_now_ms();
            int stalls = 0, done = 0;
            for (int run = 0; run < runs && (keep_going || stalls < 3); run++) {
                if (run > 0 && h_now_ms() - t0 > budget_ms) break;
                stalls += one_run(ccfg, scfg, own, run, mbed ? "mbed" : "fast");
                done++;
            }
            printf("%-9s record layer, %-12s: %d of %d runs stalled (%zu MiB each way per run, %.1f s%s)\n",
                   mbed ? "Mbed TLS" : "fast", own ? "own sockets" : "caller's fds", stalls, done, g_total >> 20,
                   (h_now_ms() - t0) / 1000.0, done < runs && stalls < 3 ? "; time budget reached" : "");
            total_stalls += stalls;
        }
        mojo_tls_config_free(scfg);
        mojo_tls_config_free(ccfg);
    }
    CHECK_EQ(total_stalls, 0);
    h_pki_free(&pki);
    free(g_data[0]);
    free(g_data[1]);
    return h_finish();
}
