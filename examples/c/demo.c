/* Loopback demo in one process: generates a CA and a server certificate in
 * memory, runs a TLS server on a thread and a client on the main thread over
 * 127.0.0.1, and reports the negotiated parameters and bulk throughput.
 *
 *   demo [--mib N]      (default 64 MiB each way)
 *
 * Both directions are measured separately (upload, then download), so the
 * numbers show one side's encrypt + the other's decrypt, not a mix. Data is
 * checksummed on both ends so a fast-but-wrong run cannot pass. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, poll under strict -std=c11 */
#include "mojo_tls.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK (64 * 1024)

static size_t g_total;

static void die(const char *what) {
    char msg[512];
    mojo_tls_last_error(msg, sizeof msg);
    fprintf(stderr, "demo: %s: %s\n", what, msg);
    exit(1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* Same pseudo-random stream on both sides, so each can check the other. */
static void fill(unsigned char *p, size_t n, uint64_t *state) {
    uint64_t x = *state;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)(x >> 32);
    }
    *state = x;
}

static char *pem(const mojo_tls_gencert *g, int key, size_t *len) {
    intptr_t n = key ? mojo_tls_gencert_key_pem(g, NULL, 0) : mojo_tls_gencert_cert_pem(g, NULL, 0);
    if (n <= 0) die("pem size");
    char *b = malloc((size_t)n + 1);
    if (!b) exit(1);
    if ((key ? mojo_tls_gencert_key_pem(g, b, (size_t)n + 1) : mojo_tls_gencert_cert_pem(g, b, (size_t)n + 1)) != n)
        die("pem");
    *len = (size_t)n;
    return b;
}

typedef struct {
    mojo_tls_config *cfg;
    int lfd;
    uint64_t rx_sum, tx_sum;
    int ok;
} server_ctx;

/* Server: receive g_total bytes, then send g_total bytes, then wait for EOF. */
static void *server(void *p) {
    server_ctx *s = p;
    mojo_tls_conn *c = mojo_tls_accept(s->cfg, s->lfd, 30000);
    if (!c) die("accept");
    mojo_tls_conn_set_timeout(c, 60000);
    unsigned char *buf = malloc(CHUNK);
    if (!buf) exit(1);
    uint64_t h = 14695981039346656037ULL;
    size_t got = 0;
    while (got < g_total) {
        intptr_t n = mojo_tls_conn_read(c, buf, CHUNK);
        if (n <= 0) die("server read");
        h = fnv(h, buf, (size_t)n);
        got += (size_t)n;
    }
    s->rx_sum = h;
    uint64_t st = 0x5eed2, th = 14695981039346656037ULL;
    for (size_t sent = 0; sent < g_total; sent += CHUNK) {
        fill(buf, CHUNK, &st);
        th = fnv(th, buf, CHUNK);
        if (mojo_tls_conn_write_all(c, buf, CHUNK) != CHUNK) die("server write");
    }
    s->tx_sum = th;
    s->ok = mojo_tls_conn_read(c, buf, CHUNK) == 0; /* client's close_notify */
    free(buf);
    mojo_tls_conn_free(c);
    return NULL;
}

int main(int argc, char **argv) {
    size_t mib = 64;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mib") && i + 1 < argc) mib = (size_t)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: demo [--mib N]\n");
            return 2;
        }
    }
    if (mib == 0) mib = 1;
    g_total = mib * 1024 * 1024;

    printf("mojo-tls %s (ABI %d), backend: %s\n", mojo_tls_version(), mojo_tls_abi_version(), mojo_tls_backend());

    /* a private CA and a leaf it signs, so the client verifies for real */
    mojo_tls_gencert *ca = mojo_tls_gencert_ca("mojo-tls demo CA", 1, MOJO_TLS_KEY_ECDSA_P256);
    if (!ca) die("CA");
    mojo_tls_gencert *leaf = mojo_tls_gencert_leaf(ca, "localhost", "localhost,127.0.0.1", 0, 1,
                                                   MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256);
    if (!leaf) die("leaf");
    size_t ca_len, cert_len, key_len;
    char *ca_pem = pem(ca, 0, &ca_len), *cert_pem = pem(leaf, 0, &cert_len), *key_pem = pem(leaf, 1, &key_len);

    server_ctx s = {0};
    s.cfg = mojo_tls_config_new(MOJO_TLS_ROLE_SERVER);
    if (!s.cfg) die("server config");
    if (mojo_tls_config_add_cert_mem(s.cfg, (const uint8_t *)cert_pem, cert_len, (const uint8_t *)key_pem, key_len,
                                     NULL) < 0)
        die("server cert");
    mojo_tls_config *ccfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    if (!ccfg) die("client config");
    if (mojo_tls_config_load_ca_mem(ccfg, (const uint8_t *)ca_pem, ca_len) < 0) die("client CA");

    s.lfd = mojo_tls_listen("127.0.0.1", 0, 4);
    if (s.lfd < 0) die("listen");
    int port = mojo_tls_listen_port(s.lfd);
    pthread_t th;
    if (pthread_create(&th, NULL, server, &s) != 0) return 1;

    double t0 = now_s();
    mojo_tls_conn *c = mojo_tls_connect(ccfg, "localhost", (uint16_t)port, 30000);
    if (!c) die("connect");
    double t_hs = now_s() - t0;
    char subject[256] = "";
    mojo_tls_conn_peer_cert_subject(c, subject, sizeof subject);
    printf("connected to localhost:%d in %.1f ms\n", port, t_hs * 1000);
    printf("  version: %s (0x%04x)\n", mojo_tls_conn_version_name(c), mojo_tls_conn_version(c));
    printf("  cipher:  %s\n", mojo_tls_conn_cipher(c));
    printf("  server:  %s\n", subject);
    mojo_tls_conn_set_timeout(c, 60000);

    unsigned char *buf = malloc(CHUNK);
    if (!buf) return 1;
    uint64_t st = 0x5eed1, tx = 14695981039346656037ULL;
    t0 = now_s();
    for (size_t sent = 0; sent < g_total; sent += CHUNK) {
        fill(buf, CHUNK, &st);
        tx = fnv(tx, buf, CHUNK);
        if (mojo_tls_conn_write_all(c, buf, CHUNK) != CHUNK) die("client write");
    }
    /* the upload is done when the server has read it all: wait for its first byte back */
    intptr_t n = mojo_tls_conn_read(c, buf, CHUNK);
    if (n <= 0) die("client read");
    double t_up = now_s() - t0;

    uint64_t rx = fnv(14695981039346656037ULL, buf, (size_t)n);
    size_t got = (size_t)n;
    t0 = now_s();
    while (got < g_total) {
        n = mojo_tls_conn_read(c, buf, CHUNK);
        if (n <= 0) die("client read");
        rx = fnv(rx, buf, (size_t)n);
        got += (size_t)n;
    }
    double t_down = now_s() - t0;
    mojo_tls_conn_close_notify(c);
    pthread_join(th, NULL);

    int ok = s.ok && s.rx_sum == tx && s.tx_sum == rx;
    printf("  client -> server: %zu MiB in %.3f s = %.1f MiB/s\n", mib, t_up, (double)mib / t_up);
    printf("  server -> client: %zu MiB in %.3f s = %.1f MiB/s\n", mib, t_down, (double)mib / t_down);
    printf("  checksums: %s\n", ok ? "match" : "MISMATCH");

    free(buf);
    mojo_tls_conn_free(c);
    mojo_tls_close_fd(s.lfd);
    mojo_tls_config_free(ccfg);
    mojo_tls_config_free(s.cfg);
    mojo_tls_gencert_free(leaf);
    mojo_tls_gencert_free(ca);
    free(ca_pem);
    free(cert_pem);
    free(key_pem);
    return ok ? 0 : 1;
}
