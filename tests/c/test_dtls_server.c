/* DTLS 1.2 server over UDP: mojo_tls_dtls_listener_new and
 * mojo_tls_conn_new_dtls_accept on 127.0.0.1.
 *  - a cookie-less ClientHello from a plain UDP socket gets a
 *    HelloVerifyRequest and nothing else: no accept returns, peer_count 0;
 *    a wrong cookie likewise; the cookie it got back makes a connection;
 *  - a non-blocking client (timeout 0) drives its retransmissions with
 *    poll and mojo_tls_conn_next_timeout_ms while the server is silent;
 *  - several threads in blocking accepts, each serving its client blocking;
 *  - a listener on ::1 (IPv6; skipped without an IPv6 loopback);
 *  - our client against our server (an event-loop server in one thread:
 *    poll over the listener and every accepted connection, non-blocking
 *    accept and handshakes), 20 then 100 concurrent clients on one server
 *    socket, each echoing checksummed datagrams;
 *  - openssl s_client -dtls1_2 against our server, with and without a
 *    client certificate (skipped without openssl). */
#include "harness.h"

#include <poll.h>
#include <stdatomic.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- server */

#define MAXC 160
typedef struct {
    mojo_tls_dtls_listener *l;
    atomic_int stop;
    atomic_int handshakes;
    atomic_int with_cert; /* handshakes whose client sent a certificate */
    atomic_int closed;    /* close_notify received */
    atomic_int echoed;    /* datagrams echoed */
    pthread_t th;
} srv_t;

static void srv_drop(mojo_tls_conn **conns, int *done, int *n, int i) {
    CHECK_RC(mojo_tls_conn_free(conns[i]), 0);
    conns[i] = conns[*n - 1];
    done[i] = done[*n - 1];
    (*n)--;
}

/* One thread serves every client: the example's loop, with checks. */
static void *srv_loop(void *p) {
    srv_t *s = p;
    static mojo_tls_conn *conns[MAXC];
    static int done[MAXC];
    int n = 0;
    unsigned char *buf = h_xmalloc(16384);
    struct pollfd pf[MAXC + 1];
    int lfd = mojo_tls_dtls_listener_fd(s->l);
    CHECK(lfd >= 0);
    while (!atomic_load(&s->stop)) {
        int wait = 20;
        pf[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (int i = 0; i < n; i++) {
            pf[i + 1] = (struct pollfd){.fd = mojo_tls_conn_fd(conns[i]), .events = POLLIN};
            int t = mojo_tls_conn_next_timeout_ms(conns[i]);
            if (t >= 0 && t < wait) wait = t;
        }
        poll(pf, (nfds_t)n + 1, wait);
        for (;;) { /* every client whose cookie came back */
            mojo_tls_conn *c = mojo_tls_conn_new_dtls_accept(s->l, 0);
            if (!c) {
                int e = mojo_tls_last_error_code();
                if (e == MOJO_TLS_ERR_WANT_READ) break;
                continue; /* that client's handshake failed; others may wait */
            }
            REQUIRE(n < MAXC);
            conns[n] = c;
            done[n++] = 0;
        }
        for (int i = 0; i < n; i++) {
            mojo_tls_conn *c = conns[i];
            if (!done[i]) {
                int rc = mojo_tls_conn_handshake(c);
                if (rc == MOJO_TLS_ERR_WANT_READ) continue;
                if (rc != 0) {
                    srv_drop(conns, done, &n, i--);
                    continue;
                }
                done[i] = 1;
                atomic_fetch_add(&s->handshakes, 1);
                char subj[256];
                if (mojo_tls_conn_peer_cert_subject(c, subj, sizeof subj) > 0) atomic_fetch_add(&s->with_cert, 1);
            }
            for (;;) {
                intptr_t r = mojo_tls_conn_read(c, buf, 16384);
                if (r > 0) {
                    intptr_t w = mojo_tls_conn_write(c, buf, (size_t)r);
                    CHECK_EQ(w, r);
                    atomic_fetch_add(&s->echoed, 1);
                    continue;
                }
                if (r == MOJO_TLS_ERR_WANT_READ) break;
                if (r == 0) atomic_fetch_add(&s->closed, 1);
                srv_drop(conns, done, &n, i--);
                break;
            }
        }
    }
    while (n > 0) srv_drop(conns, done, &n, n - 1);
    free(buf);
    return NULL;
}

static void srv_start(srv_t *s, mojo_tls_config *cfg, int *port) {
    memset(s, 0, sizeof *s);
    s->l = mojo_tls_dtls_listener_new(cfg, "127.0.0.1", 0);
    REQUIRE_NONNULL(s->l);
    *port = mojo_tls_dtls_listener_port(s->l);
    REQUIRE(*port > 0);
    REQUIRE(pthread_create(&s->th, NULL, srv_loop, s) == 0);
}

static void srv_stop(srv_t *s) {
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    CHECK_EQ(mojo_tls_dtls_listener_peer_count(s->l), 0);
    CHECK_RC(mojo_tls_dtls_listener_free(s->l), 0);
}

static mojo_tls_config *dtls_server_config(const h_pki *pki) {
    mojo_tls_config *cfg = h_server_config(pki);
    REQUIRE_RC(mojo_tls_config_set_transport(cfg, MOJO_TLS_TRANSPORT_DATAGRAM), 0);
    REQUIRE_RC(mojo_tls_config_set_dtls_handshake_timeout(cfg, 200, 8000), 0);
    return cfg;
}

static mojo_tls_config *dtls_client_config(const h_pki *pki) {
    mojo_tls_config *cfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    REQUIRE_RC(mojo_tls_config_set_transport(cfg, MOJO_TLS_TRANSPORT_DATAGRAM), 0);
    REQUIRE_RC(mojo_tls_config_set_dtls_handshake_timeout(cfg, 200, 8000), 0);
    return cfg;
}

/* ------------------------------------------------- cookies, no state kept */

static int udp_to(int port) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    REQUIRE(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    return fd;
}

/* A DTLS 1.2 ClientHello (record seq `seq`, message seq `mseq`) with `cookie`. */
static size_t client_hello(unsigned char *d, const unsigned char *cookie, size_t clen, int seq, int mseq) {
    unsigned char body[256];
    size_t b = 0;
    body[b++] = 0xfe, body[b++] = 0xfd;
    for (int i = 0; i < 32; i++) body[b++] = (unsigned char)i;
    body[b++] = 0; /* session id */
    body[b++] = (unsigned char)clen;
    if (clen) memcpy(body + b, cookie, clen), b += clen; /* cookie may be NULL */
    const unsigned char rest[] = {0, 2, 0xc0, 0x2b, 1, 0, /* ECDHE-ECDSA-AES128-GCM-SHA256, null compression */
                                  0, 14, 0, 10, 0, 4, 0, 2, 0, 0x17, /* groups: P-256 */
                                  0, 13, 0, 4, 0, 2, 4, 3};          /* sig algs: ecdsa_secp256r1_sha256 */
    memcpy(body + b, rest, sizeof rest), b += sizeof rest;
    size_t n = 0;
    d[n++] = 22, d[n++] = 0xfe, d[n++] = 0xff;
    memset(d + n, 0, 8), d[n + 7] = (unsigned char)seq, n += 8;
    d[n++] = (unsigned char)((b + 12) >> 8), d[n++] = (unsigned char)(b + 12);
    d[n++] = 1, d[n++] = 0, d[n++] = (unsigned char)(b >> 8), d[n++] = (unsigned char)b;
    d[n++] = 0, d[n++] = (unsigned char)mseq;
    d[n++] = 0, d[n++] = 0, d[n++] = 0;
    d[n++] = 0, d[n++] = (unsigned char)(b >> 8), d[n++] = (unsigned char)b;
    memcpy(d + n, body, b);
    return n + b;
}

/* Wait up to ms for a datagram on fd; its length or -1. */
static ssize_t recv_within(int fd, unsigned char *buf, size_t cap, int ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) != 1) return -1;
    return recv(fd, buf, cap, 0);
}

static void test_cookies(const h_pki *pki) {
    mojo_tls_config *cfg = dtls_server_config(pki);
    mojo_tls_dtls_listener *l = mojo_tls_dtls_listener_new(cfg, "127.0.0.1", 0);
    REQUIRE_NONNULL(l);
    int port = mojo_tls_dtls_listener_port(l);
    int fd = udp_to(port);
    unsigned char d[512], r[512];
    size_t n = client_hello(d, NULL, 0, 0, 0);
    for (int round = 0; round < 3; round++) { /* each hello: one HVR, no state */
        REQUIRE(send(fd, d, n, 0) == (ssize_t)n);
        h_sleep_ms(20);
        CHECK_NULL_CODE(mojo_tls_conn_new_dtls_accept(l, 0), MOJO_TLS_ERR_WANT_READ);
        ssize_t got = recv_within(fd, r, sizeof r, 1000);
        REQUIRE(got > 13 + 12 + 3);
        CHECK_EQ(r[0], 22);   /* handshake record */
        CHECK_EQ(r[13], 3);   /* HelloVerifyRequest */
        CHECK_EQ(r[11] * 256 + r[12], got - 13);
        CHECK_EQ(recv_within(fd, r + 256, sizeof r - 256, 100), -1); /* one datagram only */
        CHECK_EQ(mojo_tls_dtls_listener_peer_count(l), 0);
    }
    /* a timed accept sees no cookie and times out */
    REQUIRE(send(fd, d, n, 0) == (ssize_t)n);
    CHECK_NULL_CODE(mojo_tls_conn_new_dtls_accept(l, 300), MOJO_TLS_ERR_TIMEOUT);
    ssize_t got = recv_within(fd, r, sizeof r, 1000);
    REQUIRE(got > 28);
    size_t clen = r[13 + 12 + 2];
    REQUIRE(clen > 0 && 13 + 12 + 3 + clen == (size_t)got);
    unsigned char cookie[255];
    memcpy(cookie, r + 13 + 12 + 3, clen);
    /* a wrong cookie: a new HVR, no connection */
    cookie[0] ^= 1;
    n = client_hello(d, cookie, clen, 1, 1);
    REQUIRE(send(fd, d, n, 0) == (ssize_t)n);
    h_sleep_ms(20);
    CHECK_NULL_CODE(mojo_tls_conn_new_dtls_accept(l, 0), MOJO_TLS_ERR_WANT_READ);
    CHECK(recv_within(fd, r, sizeof r, 1000) > 28 && r[13] == 3);
    CHECK_EQ(mojo_tls_dtls_listener_peer_count(l), 0);
    /* the cookie from another source port: refused too */
    cookie[0] ^= 1;
    int other = udp_to(port);
    n = client_hello(d, cookie, clen, 1, 1);
    REQUIRE(send(other, d, n, 0) == (ssize_t)n);
    h_sleep_ms(20);
    CHECK_NULL_CODE(mojo_tls_conn_new_dtls_accept(l, 0), MOJO_TLS_ERR_WANT_READ);
    CHECK(recv_within(other, r, sizeof r, 1000) > 28 && r[13] == 3);
    close(other);
    CHECK_EQ(mojo_tls_dtls_listener_peer_count(l), 0);
    /* the right cookie from the right address: a connection */
    REQUIRE(send(fd, d, n, 0) == (ssize_t)n);
    mojo_tls_conn *c = mojo_tls_conn_new_dtls_accept_no_handshake(l, 2000);
    REQUIRE_NONNULL(c);
    CHECK_EQ(mojo_tls_dtls_listener_peer_count(l), 1);
    CHECK(mojo_tls_conn_fd(c) >= 0 && mojo_tls_conn_fd(c) != mojo_tls_dtls_listener_fd(l));
    /* that client's next datagrams reach its connection, not the listener */
    REQUIRE(send(fd, d, n, 0) == (ssize_t)n);
    struct pollfd p = {.fd = mojo_tls_conn_fd(c), .events = POLLIN};
    CHECK_EQ(poll(&p, 1, 1000), 1);
    CHECK_NULL_CODE(mojo_tls_conn_new_dtls_accept(l, 0), MOJO_TLS_ERR_WANT_READ);
    CHECK_RC(mojo_tls_conn_free(c), 0);
    CHECK_EQ(mojo_tls_dtls_listener_peer_count(l), 0);
    close(fd);
    /* wrong configurations */
    mojo_tls_config *tls = h_server_config(pki);
    CHECK_NULL_CODE(mojo_tls_dtls_listener_new(tls, "127.0.0.1", 0), MOJO_TLS_ERR_INVALID_ARGUMENT);
    mojo_tls_config *cl = dtls_client_config(pki);
    CHECK_NULL_CODE(mojo_tls_dtls_listener_new(cl, "127.0.0.1", 0), MOJO_TLS_ERR_INVALID_ARGUMENT);
    mojo_tls_config_free(tls);
    mojo_tls_config_free(cl);
    CHECK_RC(mojo_tls_dtls_listener_free(l), 0);
    CHECK_RC(mojo_tls_dtls_listener_free(l), MOJO_TLS_ERR_INVALID_HANDLE);
    CHECK_RC(mojo_tls_dtls_listener_free(NULL), 0);
    mojo_tls_config_free(cfg);
}

/* --------------------------------------------- a non-blocking client */

static void test_nonblocking(const h_pki *pki) {
    mojo_tls_config *scfg = dtls_server_config(pki);
    mojo_tls_dtls_listener *l = mojo_tls_dtls_listener_new(scfg, "127.0.0.1", 0);
    REQUIRE_NONNULL(l);
    int port = mojo_tls_dtls_listener_port(l);
    mojo_tls_config *ccfg = dtls_client_config(pki);
    mojo_tls_conn *c = mojo_tls_conn_new_connect(ccfg, "127.0.0.1", (uint16_t)port, 0);
    REQUIRE_NONNULL(c);
    /* the server is silent: the client's timer runs and doubles */
    CHECK_RC(mojo_tls_conn_handshake(c), MOJO_TLS_ERR_WANT_READ);
    int t1 = mojo_tls_conn_next_timeout_ms(c);
    CHECK(t1 > 0 && t1 <= 200);
    struct pollfd p = {.fd = mojo_tls_conn_fd(c), .events = POLLIN};
    CHECK_EQ(poll(&p, 1, t1 + 5), 0);
    CHECK_EQ(mojo_tls_conn_next_timeout_ms(c), 0);
    CHECK_RC(mojo_tls_conn_handshake(c), MOJO_TLS_ERR_WANT_READ); /* retransmits */
    int t2 = mojo_tls_conn_next_timeout_ms(c);
    CHECK(t2 > 200 && t2 <= 400);
    /* both hellos wait on the listener; now both sides run non-blocking */
    mojo_tls_conn *s = NULL;
    int cdone = 0, sdone = 0;
    double until = h_now_ms() + 10000.0 * h_slow();
    while ((!cdone || !sdone) && h_now_ms() < until) {
        struct pollfd pf[3] = {{.fd = mojo_tls_conn_fd(c), .events = POLLIN},
                               {.fd = mojo_tls_dtls_listener_fd(l), .events = POLLIN},
                               {.fd = s ? mojo_tls_conn_fd(s) : -1, .events = POLLIN}};
        int wait = 100, t = mojo_tls_conn_next_timeout_ms(c);
        if (t >= 0 && t < wait) wait = t;
        if (s && (t = mojo_tls_conn_next_timeout_ms(s)) >= 0 && t < wait) wait = t;
        poll(pf, 3, wait);
        if (!s) s = mojo_tls_conn_new_dtls_accept(l, 0);
        if (!cdone) {
            int rc = mojo_tls_conn_handshake(c);
            if (rc == 0) cdone = 1;
            else REQUIRE_RC(rc, MOJO_TLS_ERR_WANT_READ);
        }
        if (s && !sdone) {
            int rc = mojo_tls_conn_handshake(s);
            if (rc == 0) sdone = 1;
            else REQUIRE_RC(rc, MOJO_TLS_ERR_WANT_READ);
        }
    }
    REQUIRE(cdone && sdone);
    CHECK_EQ(mojo_tls_dtls_listener_peer_count(l), 1);
    const char *msg = "non-blocking datagram";
    CHECK_RC(mojo_tls_conn_write(c, msg, strlen(msg)), (intptr_t)strlen(msg));
    unsigned char buf[16384];
    intptr_t r = MOJO_TLS_ERR_WANT_READ;
    for (int i = 0; i < 100 && r == MOJO_TLS_ERR_WANT_READ; i++) {
        struct pollfd q = {.fd = mojo_tls_conn_fd(s), .events = POLLIN};
        poll(&q, 1, 50);
        r = mojo_tls_conn_read(s, buf, sizeof buf);
    }
    CHECK_EQ(r, (intptr_t)strlen(msg));
    CHECK(r > 0 && memcmp(buf, msg, (size_t)r) == 0);
    CHECK_RC(mojo_tls_conn_free(c), 0);
    CHECK_RC(mojo_tls_conn_free(s), 0);
    CHECK_RC(mojo_tls_dtls_listener_free(l), 0);
    mojo_tls_config_free(ccfg);
    mojo_tls_config_free(scfg);
}

/* ------------------------------------------ our clients, concurrently */

typedef struct {
    mojo_tls_config *cfg;
    int port, idx, count;
    const char *host; /* NULL: 127.0.0.1 */
    pthread_t th;
} client_t;

static void *client_run(void *p) {
    client_t *a = p;
    mojo_tls_conn *c = mojo_tls_conn_new_connect(a->cfg, a->host ? a->host : "127.0.0.1", (uint16_t)a->port,
                                                 20000 * h_slow());
    if (!c) {
        char e[256];
        mojo_tls_last_error(e, sizeof e);
        h_fail(__FILE__, __LINE__, "client %d: connect: %s", a->idx, e);
        return NULL;
    }
    CHECK_RC(mojo_tls_conn_set_timeout(c, 10000 * h_slow()), 0);
    unsigned char out[1300], in[16384];
    for (int k = 0; k < a->count; k++) {
        size_t len = 1 + (size_t)((a->idx * 131 + k * 37) % 1200);
        h_fill(out, len, (uint64_t)a->idx * 1000 + (uint64_t)k);
        uint64_t want = h_fnv1a(H_FNV_INIT, out, len);
        CHECK_RC(mojo_tls_conn_write(c, out, len), (intptr_t)len);
        intptr_t n = mojo_tls_conn_read(c, in, sizeof in);
        if (n != (intptr_t)len || h_fnv1a(H_FNV_INIT, in, len) != want) {
            h_fail(__FILE__, __LINE__, "client %d datagram %d: read %jd (%s), want %zu", a->idx, k, (intmax_t)n,
                   h_code_name(n), len);
            break;
        }
    }
    CHECK_RC(mojo_tls_conn_close_notify(c), 0);
    CHECK_RC(mojo_tls_conn_free(c), 0);
    return NULL;
}

static void test_clients(const h_pki *pki, int nclients, int count) {
    mojo_tls_config *scfg = dtls_server_config(pki), *ccfg = dtls_client_config(pki);
    srv_t s;
    int port;
    srv_start(&s, scfg, &port);
    client_t *cl = calloc((size_t)nclients, sizeof *cl);
    REQUIRE(cl != NULL);
    double t0 = h_now_ms();
    for (int i = 0; i < nclients; i++) {
        cl[i] = (client_t){.cfg = ccfg, .port = port, .idx = i, .count = count};
        REQUIRE(pthread_create(&cl[i].th, NULL, client_run, &cl[i]) == 0);
    }
    for (int i = 0; i < nclients; i++) pthread_join(cl[i].th, NULL);
    double t1 = h_now_ms();
    /* the server sees every close_notify */
    for (int i = 0; i < 200 && atomic_load(&s.closed) < nclients; i++) h_sleep_ms(10);
    printf("%d clients x %d datagrams: %.0f ms, %d handshakes, %d echoed, %d closed\n", nclients, count, t1 - t0,
           atomic_load(&s.handshakes), atomic_load(&s.echoed), atomic_load(&s.closed));
    CHECK_EQ(atomic_load(&s.handshakes), nclients);
    CHECK_EQ(atomic_load(&s.echoed), nclients * count);
    CHECK_EQ(atomic_load(&s.closed), nclients);
    srv_stop(&s);
    free(cl);
    mojo_tls_config_free(scfg);
    mojo_tls_config_free(ccfg);
}

/* ------------------- blocking accepts in several threads, blocking I/O */

typedef struct {
    mojo_tls_dtls_listener *l;
    int echoed;
    pthread_t th;
} acceptor_t;

static void *acceptor_run(void *p) {
    acceptor_t *a = p;
    mojo_tls_conn *c = mojo_tls_conn_new_dtls_accept(a->l, 20000 * h_slow());
    if (!c) {
        char e[256];
        mojo_tls_last_error(e, sizeof e);
        h_fail(__FILE__, __LINE__, "blocking accept: %s", e);
        return NULL;
    }
    CHECK_RC(mojo_tls_conn_set_timeout(c, 10000 * h_slow()), 0);
    unsigned char buf[16384];
    for (;;) {
        intptr_t n = mojo_tls_conn_read(c, buf, sizeof buf);
        if (n <= 0) {
            CHECK_EQ(n, 0); /* close_notify */
            break;
        }
        CHECK_RC(mojo_tls_conn_write(c, buf, (size_t)n), n);
        a->echoed++;
    }
    CHECK_RC(mojo_tls_conn_free(c), 0);
    return NULL;
}

static void test_threaded_accept(const h_pki *pki, int n) {
    mojo_tls_config *scfg = dtls_server_config(pki), *ccfg = dtls_client_config(pki);
    mojo_tls_dtls_listener *l = mojo_tls_dtls_listener_new(scfg, "127.0.0.1", 0);
    REQUIRE_NONNULL(l);
    int port = mojo_tls_dtls_listener_port(l);
    acceptor_t acc[8];
    client_t cl[8];
    REQUIRE(n <= 8);
    for (int i = 0; i < n; i++) {
        acc[i] = (acceptor_t){.l = l};
        REQUIRE(pthread_create(&acc[i].th, NULL, acceptor_run, &acc[i]) == 0);
    }
    for (int i = 0; i < n; i++) {
        cl[i] = (client_t){.cfg = ccfg, .port = port, .idx = i, .count = 10};
        REQUIRE(pthread_create(&cl[i].th, NULL, client_run, &cl[i]) == 0);
    }
    int total = 0;
    for (int i = 0; i < n; i++) pthread_join(cl[i].th, NULL);
    for (int i = 0; i < n; i++) {
        pthread_join(acc[i].th, NULL);
        total += acc[i].echoed;
    }
    CHECK_EQ(total, n * 10);
    CHECK_EQ(mojo_tls_dtls_listener_peer_count(l), 0);
    printf("%d threads in blocking accepts: %d datagrams echoed\n", n, total);
    CHECK_RC(mojo_tls_dtls_listener_free(l), 0);
    mojo_tls_config_free(scfg);
    mojo_tls_config_free(ccfg);
}

/* ------------------------------------------------------------ IPv6 */

static void test_ipv6(const h_pki *pki) {
    int probe = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int have = probe >= 0 && bind(probe, (struct sockaddr *)&a, sizeof a) == 0;
    if (probe >= 0) close(probe);
    if (!have) {
        printf("no IPv6 loopback: IPv6 test skipped\n");
        return;
    }
    mojo_tls_config *scfg = dtls_server_config(pki), *ccfg = dtls_client_config(pki);
    REQUIRE_RC(mojo_tls_config_insecure_skip_hostname_check(ccfg, 1), 0); /* the test certificate has no ::1 */
    srv_t s;
    memset(&s, 0, sizeof s);
    s.l = mojo_tls_dtls_listener_new(scfg, "::1", 0);
    REQUIRE_NONNULL(s.l);
    int port = mojo_tls_dtls_listener_port(s.l);
    REQUIRE(pthread_create(&s.th, NULL, srv_loop, &s) == 0);
    client_t cl[3];
    for (int i = 0; i < 3; i++) {
        cl[i] = (client_t){.cfg = ccfg, .port = port, .idx = i, .count = 5, .host = "::1"};
        REQUIRE(pthread_create(&cl[i].th, NULL, client_run, &cl[i]) == 0);
    }
    for (int i = 0; i < 3; i++) pthread_join(cl[i].th, NULL);
    for (int i = 0; i < 200 && atomic_load(&s.closed) < 3; i++) h_sleep_ms(10);
    CHECK_EQ(atomic_load(&s.handshakes), 3);
    CHECK_EQ(atomic_load(&s.echoed), 15);
    printf("IPv6 (::1): 3 clients, %d datagrams echoed\n", atomic_load(&s.echoed));
    srv_stop(&s);
    mojo_tls_config_free(scfg);
    mojo_tls_config_free(ccfg);
}

/* ------------------------------------------------- openssl s_client */

static void test_s_client(const h_pki *pki, int mtls) {
    char ca[256], cc[256], ck[256], out_path[256];
    h_tmp_name(ca, "ca"), h_tmp_name(cc, "cc"), h_tmp_name(ck, "ck"), h_tmp_name(out_path, "out");
    h_write_temp(ca, pki->ca_pem, pki->ca_pem_len);
    mojo_tls_config *scfg = dtls_server_config(pki);
    if (mtls) {
        mojo_tls_gencert *g = mojo_tls_gencert_new_leaf(pki->ca, "dtls client", "client.test", 0, 30,
                                                        MOJO_TLS_USAGE_CLIENT, MOJO_TLS_KEY_ECDSA_P256);
        REQUIRE_NONNULL(g);
        size_t cl, kl;
        char *cp = h_gencert_pem(g, 0, &cl), *kp = h_gencert_pem(g, 1, &kl);
        h_write_temp(cc, cp, cl);
        h_write_temp(ck, kp, kl);
        free(cp);
        free(kp);
        CHECK_RC(mojo_tls_gencert_free(g), 0);
        REQUIRE_RC(mojo_tls_config_add_ca_mem(scfg, U8(pki->ca_pem), pki->ca_pem_len), 0);
        REQUIRE_RC(mojo_tls_config_insecure_verify(scfg, MOJO_TLS_VERIFY_REQUIRED), 0);
    }
    srv_t s;
    int port;
    srv_start(&s, scfg, &port);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    int out_fd = mkstemp(out_path);
    REQUIRE(out_fd >= 0);
    char *plain[] = {"openssl", "s_client", "-dtls1_2", "-connect", addr, "-CAfile", ca, "-verify_return_error",
                     "-quiet", NULL};
    char *mutual[] = {"openssl", "s_client", "-dtls1_2", "-connect", addr, "-CAfile", ca, "-verify_return_error",
                      "-quiet", "-cert", cc, "-key", ck, NULL};
    int stdin_w;
    pid_t pid = h_spawn(mtls ? mutual : plain, out_fd, &stdin_w);
    close(out_fd);
    /* wait for the handshake, then send lines; s_client prints the echoes */
    for (int i = 0; i < 500 && atomic_load(&s.handshakes) < 1; i++) h_sleep_ms(20);
    CHECK_EQ(atomic_load(&s.handshakes), 1);
    CHECK_EQ(atomic_load(&s.with_cert), mtls);
    size_t total = 0;
    uint64_t h_sent = H_FNV_INIT;
    char line[600];
    for (int i = 0; i < 30 && atomic_load(&s.handshakes) == 1; i++) {
        unsigned char rnd[250];
        h_fill(rnd, sizeof rnd, (uint64_t)i + 7);
        int len = snprintf(line, sizeof line, "%03d ", i);
        for (int k = 0; k < 1 + i * 8 && k < 250; k++) len += snprintf(line + len, sizeof line - (size_t)len, "%02x", rnd[k] & 0x7f);
        line[len++] = '\n';
        REQUIRE(write(stdin_w, line, (size_t)len) == (ssize_t)len);
        h_sent = h_fnv1a(h_sent, line, (size_t)len);
        total += (size_t)len;
        h_sleep_ms(10);
    }
    for (int i = 0; i < 300 && h_file_size(out_path) < total; i++) h_sleep_ms(20);
    size_t got_len = 0;
    char *got = h_xmalloc(total + 1);
    FILE *f = fopen(out_path, "rb");
    if (f) {
        got_len = fread(got, 1, total + 1, f);
        fclose(f);
    }
    CHECK_EQ(got_len, total);
    CHECK(got_len == total && h_fnv1a(H_FNV_INIT, got, got_len) == h_sent);
    printf("s_client mtls=%d: %zu bytes in 30 lines echoed\n", mtls, got_len);
    free(got);
    close(stdin_w);
    kill(pid, SIGTERM);
    h_wait_child(pid, 5000);
    srv_stop(&s);
    unlink(out_path);
    unlink(ca);
    if (mtls) {
        unlink(cc);
        unlink(ck);
    }
    mojo_tls_config_free(scfg);
}

int main(void) {
    h_start("test_dtls_server", 150);
    h_pki pki;
    h_pki_make(&pki);
    test_cookies(&pki);
    test_nonblocking(&pki);
    test_clients(&pki, 1, 20);
    test_threaded_accept(&pki, 6);
    test_ipv6(&pki);
    test_clients(&pki, 20, h_slow() == 1 ? 20 : 5);
    if (h_slow() == 1) test_clients(&pki, 100, 10); /* not under valgrind */
    if (system("openssl version >/dev/null 2>&1") == 0) {
        test_s_client(&pki, 0);
        test_s_client(&pki, 1);
    } else {
        printf("openssl not installed: s_client tests skipped\n");
    }
    h_pki_free(&pki);
    return h_finish();
}
