/* Load: 200 concurrent TLS connections on loopback, each a C client thread
 * talking to its own server thread, all established at once (a barrier),
 * then echoing messages of random sizes (1 B .. 64 KiB) with FNV-1a
 * checksums on both sides until a round count or the time budget is
 * reached. Run twice: 0 bytes lost or corrupted, every thread finishes in
 * time, file descriptors back to the baseline, and RSS (free heap trimmed)
 * back within 16 MiB of the baseline after each round. Figures
 * are printed. Built and run by load.sh. */
#include <sys/resource.h>

#include "../c/harness.h" /* by path: tests/c is not on the include path */

#define CONNS 200
#define MAX_MSG 65536
#define MAX_ROUNDS 48

static h_pki g_pki;
static mojo_tls_config *g_scfg, *g_ccfg;
static int g_lfd, g_port;
static pthread_barrier_t g_established;
static double g_deadline_ms;   /* exchange phase ends here */
static int g_budget_s = 20;

typedef struct {
    int idx;
    pthread_t th;
    uint64_t sent_sum, recv_sum; /* client: what it sent, what came back */
    size_t sent, received;
    int rounds;
    int ok;
} client_t;

typedef struct {
    pthread_t th;
    mojo_tls_conn *conn;
    uint64_t sum;
    size_t bytes;
    intptr_t last;
} server_t;

static client_t g_clients[CONNS];
static server_t g_servers[CONNS];
static int g_accepted;

static void *server_thread(void *p) {
    server_t *s = p;
    enum { BUF = 16384 };
    unsigned char *buf = h_xmalloc(BUF);
    s->sum = H_FNV_INIT;
    if (mojo_tls_conn_set_timeout(s->conn, 30000 * h_slow()) != 0 || mojo_tls_conn_handshake(s->conn) != 0) {
        h_fail(__FILE__, __LINE__, "server handshake failed");
        s->last = -1;
    } else {
        for (;;) {
            intptr_t n = mojo_tls_conn_read(s->conn, buf, BUF);
            if (n <= 0) {
                s->last = n;
                break;
            }
            s->sum = h_fnv1a(s->sum, buf, (size_t)n);
            s->bytes += (size_t)n;
            if (mojo_tls_conn_write_all(s->conn, buf, (size_t)n) != n) {
                h_fail(__FILE__, __LINE__, "server echo write failed");
                s->last = -1;
                break;
            }
        }
    }
    free(buf);
    CHECK_RC(mojo_tls_conn_free(s->conn), 0);
    return NULL;
}

/* accepts CONNS clients without handshaking, one server thread each */
static void *acceptor(void *arg) {
    (void)arg;
    for (int i = 0; i < CONNS; i++) {
        mojo_tls_conn *c = mojo_tls_conn_new_accept_no_handshake(g_scfg, g_lfd, 30000 * h_slow());
        if (!c) {
            h_fail(__FILE__, __LINE__, "accept %d failed", i);
            break;
        }
        g_servers[i].conn = c;
        if (pthread_create(&g_servers[i].th, NULL, server_thread, &g_servers[i]) != 0) {
            h_fail(__FILE__, __LINE__, "pthread_create server %d", i);
            mojo_tls_conn_free(c);
            break;
        }
        g_accepted = i + 1;
    }
    return NULL;
}

static void *client_thread(void *p) {
    client_t *cl = p;
    unsigned char *out = h_xmalloc(MAX_MSG), *in = h_xmalloc(MAX_MSG);
    cl->sent_sum = cl->recv_sum = H_FNV_INIT;
    mojo_tls_conn *c = mojo_tls_conn_new_connect(g_ccfg, "127.0.0.1", (uint16_t)g_port, 60000 * h_slow());
    if (!c) h_fail(__FILE__, __LINE__, "client %d: connect failed", cl->idx);
    /* every connection is up before any data moves: 200 truly concurrent */
    pthread_barrier_wait(&g_established);
    if (!c) goto out;
    CHECK_RC(mojo_tls_conn_set_timeout(c, 30000 * h_slow()), 0);
    uint64_t x = 0x9E3779B97F4A7C15ULL * (uint64_t)(cl->idx + 1);
    for (int r = 0; r < MAX_ROUNDS && h_now_ms() < g_deadline_ms; r++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t len = 1 + (size_t)(x % MAX_MSG);
        if (r % 4 == 0) len = 1 + (size_t)(x % 64); /* many small messages too */
        h_fill(out, len, x);
        intptr_t w = mojo_tls_conn_write_all(c, out, len);
        if (w != (intptr_t)len) {
            h_fail(__FILE__, __LINE__, "client %d round %d: write_all %zu -> %jd", cl->idx, r, len, (intmax_t)w);
            goto done;
        }
        cl->sent_sum = h_fnv1a(cl->sent_sum, out, len);
        cl->sent += len;
        intptr_t n = h_read_exact(c, in, len);
        if (n != (intptr_t)len) {
            h_fail(__FILE__, __LINE__, "client %d round %d: read %jd of %zu", cl->idx, r, (intmax_t)n, len);
            goto done;
        }
        if (memcmp(in, out, len) != 0) {
            h_fail(__FILE__, __LINE__, "client %d round %d: echo corrupted", cl->idx, r);
            goto done;
        }
        cl->recv_sum = h_fnv1a(cl->recv_sum, in, len);
        cl->received += len;
        cl->rounds++;
    }
    cl->ok = 1;
done:
    CHECK_RC(mojo_tls_conn_close_notify(c), 0);
    CHECK_RC(mojo_tls_conn_free(c), 0);
out:
    free(out);
    free(in);
    return NULL;
}

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* resident set size; free heap memory is returned to the OS first, so the
 * figure reflects what is still allocated */
static long rss_kib(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &v) == 1) break;
    fclose(f);
    return v;
}

static void one_round(int round) {
    memset(g_clients, 0, sizeof g_clients);
    memset(g_servers, 0, sizeof g_servers);
    g_accepted = 0;
    g_lfd = mojo_tls_socket_listen("127.0.0.1", 0, 512); /* backlog for 200 simultaneous connects */
    REQUIRE_OK(g_lfd);
    g_port = mojo_tls_socket_port(g_lfd);
    REQUIRE(pthread_barrier_init(&g_established, NULL, CONNS) == 0);
    double t0 = h_now_ms();
    g_deadline_ms = t0 + g_budget_s * 1000.0 * 0.6 * h_slow();
    pthread_t acc;
    REQUIRE(pthread_create(&acc, NULL, acceptor, NULL) == 0);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int i = 0; i < CONNS; i++) {
        g_clients[i].idx = i;
        REQUIRE(pthread_create(&g_clients[i].th, &attr, client_thread, &g_clients[i]) == 0);
    }
    pthread_attr_destroy(&attr);
    for (int i = 0; i < CONNS; i++) pthread_join(g_clients[i].th, NULL);
    pthread_join(acc, NULL);
    for (int i = 0; i < g_accepted; i++) pthread_join(g_servers[i].th, NULL);
    double t1 = h_now_ms();
    CHECK_RC(mojo_tls_socket_close(g_lfd), 0);
    pthread_barrier_destroy(&g_established);

    size_t total = 0, rounds = 0, ok = 0;
    uint64_t lost = 0;
    for (int i = 0; i < CONNS; i++) {
        client_t *cl = &g_clients[i];
        total += cl->sent + cl->received;
        rounds += (size_t)cl->rounds;
        ok += (size_t)cl->ok;
        CHECK_MSG(cl->sent == cl->received && cl->sent_sum == cl->recv_sum,
                  "client %d: sent %zu (sum %016" PRIx64 ") != received %zu (sum %016" PRIx64 ")", i, cl->sent,
                  cl->sent_sum, cl->received, cl->recv_sum);
        lost += cl->sent > cl->received ? cl->sent - cl->received : 0;
    }
    /* the servers' view: each saw exactly what some client sent (sums are per connection,
     * accept order is not client order: compare the multisets of (bytes, sum)) */
    int matched = 0;
    for (int i = 0; i < g_accepted; i++) {
        CHECK_MSG(g_servers[i].last == 0, "server %d ended with %jd, expected a clean close_notify EOF", i,
                  (intmax_t)g_servers[i].last);
        for (int j = 0; j < CONNS; j++)
            if (g_clients[j].sent == g_servers[i].bytes && g_clients[j].sent_sum == g_servers[i].sum) {
                matched++;
                break;
            }
    }
    CHECK_EQ(g_accepted, CONNS);
    CHECK_EQ(ok, CONNS);
    CHECK_EQ(matched, CONNS);
    CHECK_EQ(lost, 0);
    double secs = (t1 - t0) / 1000.0;
    printf("round %d: %d concurrent connections, %zu echo round trips, %.1f MiB through TLS (both directions) "
           "in %.1fs, %zu/%d clients complete, %" PRIu64 " bytes lost, %d/%d server checksums match\n",
           round, CONNS, rounds, (double)total / 1048576.0, secs, ok, CONNS, lost, matched, CONNS);
    CHECK_MSG(secs < g_budget_s * 2.0 * h_slow(), "round %d took %.1fs (budget %ds)", round, secs, g_budget_s);
}

int main(void) {
    const char *b = getenv("MOJO_TLS_LOAD_SECONDS");
    if (b && atoi(b) > 0) g_budget_s = atoi(b);
    h_start("load", (unsigned)(g_budget_s * 6 + 60));
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2048 && rl.rlim_max > rl.rlim_cur) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    h_pki_make(&g_pki);
    g_scfg = h_server_config(&g_pki);
    g_ccfg = h_client_config(g_pki.ca_pem, g_pki.ca_pem_len);
    int fds0 = h_count_fds(0);
    long rss0 = rss_kib();
    one_round(1);
    int fds1 = h_count_fds(0);
    long rss1 = rss_kib();
    one_round(2);
    int fds2 = h_count_fds(0);
    long rss2 = rss_kib();
    printf("fds: %d before, %d after round 1, %d after round 2\n", fds0, fds1, fds2);
    printf("RSS: %ld KiB before, %ld KiB after round 1, %ld KiB after round 2 (growth in round 2: %ld KiB)\n", rss0,
           rss1, rss2, rss2 - rss1);
    CHECK_MSG(fds1 == fds0 && fds2 == fds0, "file descriptors not back to baseline: %d -> %d -> %d", fds0, fds1,
              fds2);
    /* with free heap memory trimmed, the process returns close to its
     * baseline: 400 threads' worth of connections must not stay allocated */
    long slack = 16 * 1024;
    CHECK_MSG(rss2 - rss0 <= slack && rss2 - rss1 <= slack,
              "RSS %ld -> %ld -> %ld KiB: more than %ld KiB above the baseline (a leak per connection?)", rss0, rss1,
              rss2, slack);
    CHECK_RC(mojo_tls_config_free(g_scfg), 0);
    CHECK_RC(mojo_tls_config_free(g_ccfg), 0);
    h_pki_free(&g_pki);
    return h_finish();
}
