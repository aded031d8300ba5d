/* Loopback demo in one process: generates a CA and a server certificate in
 * memory, runs a TLS server on a thread and a client on the main thread over
 * 127.0.0.1, and reports the negotiated parameters and bulk throughput.
 *
 *   demo [--mib N]      (default 64 MiB each way)
 *
 * Both directions are measured separately (upload, then download), so each
 * number is one side's encryption plus the other's decryption. The byte
 * stream is a random pattern both sides know; receivers compare with
 * memcmp, which keeps verification cheap enough not to distort the timing
 * while still catching lost, duplicated or reordered data. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under strict -std=c11 */
#include "mojo_tls.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK (64 * 1024)
/* not a multiple of any record or chunk size, so misplaced bytes show */
#define PATTERN_LEN (1024 * 1024 + 13)

static size_t g_total;
static unsigned char *g_pattern;

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

/* Send g_total bytes of the pattern stream. */
static void send_stream(mojo_tls_conn *c, const char *who) {
    size_t pos = 0;
    for (size_t sent = 0; sent < g_total;) {
        size_t n = g_total - sent;
        if (n > CHUNK) n = CHUNK;
        if (n > PATTERN_LEN - pos) n = PATTERN_LEN - pos;
        if (mojo_tls_conn_write_all(c, g_pattern + pos, n) != (intptr_t)n) die(who);
        sent += n;
        pos = (pos + n) % PATTERN_LEN;
    }
}

/* Receive the pattern stream from byte `start` up to g_total; returns 1 if
 * every byte matched. */
static int recv_stream(mojo_tls_conn *c, unsigned char *buf, size_t start, const char *who) {
    size_t pos = start % PATTERN_LEN, got = start;
    int ok = 1;
    while (got < g_total) {
        size_t want = g_total - got < CHUNK ? g_total - got : CHUNK;
        intptr_t n = mojo_tls_conn_read(c, buf, want);
        if (n <= 0) die(who);
        for (size_t off = 0; off < (size_t)n;) {
            size_t k = (size_t)n - off;
            if (k > PATTERN_LEN - pos) k = PATTERN_LEN - pos;
            if (memcmp(buf + off, g_pattern + pos, k) != 0) ok = 0;
            off += k;
            pos = (pos + k) % PATTERN_LEN;
        }
        got += (size_t)n;
    }
    return ok;
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
    int rx_ok, eof_ok;
} server_ctx;

/* Server: receive the upload, send the download, then expect a clean EOF. */
static void *server(void *p) {
    server_ctx *s = p;
    mojo_tls_conn *c = mojo_tls_conn_new_accept(s->cfg, s->lfd, 30000);
    if (!c) die("accept");
    mojo_tls_conn_set_timeout(c, 60000);
    unsigned char *buf = malloc(CHUNK);
    if (!buf) exit(1);
    s->rx_ok = recv_stream(c, buf, 0, "server read");
    send_stream(c, "server write");
    s->eof_ok = mojo_tls_conn_read(c, buf, CHUNK) == 0; /* the client's close_notify */
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
    g_pattern = malloc(PATTERN_LEN);
    if (!g_pattern) return 1;
    /* the library's CSPRNG in 64 KiB steps: a pattern no cipher can compress */
    for (size_t off = 0; off < PATTERN_LEN; off += CHUNK) {
        size_t n = PATTERN_LEN - off < CHUNK ? PATTERN_LEN - off : CHUNK;
        if (mojo_tls_random(g_pattern + off, n) < 0) die("random");
    }

    printf("mojo-tls %s (ABI %d), backend: %s\n", mojo_tls_version(), mojo_tls_abi_version(), mojo_tls_backend());

    /* a private CA and a leaf it signs, so the client verifies for real */
    mojo_tls_gencert *ca = mojo_tls_gencert_new_ca("mojo-tls demo CA", 1, MOJO_TLS_KEY_ECDSA_P256);
    if (!ca) die("CA");
    mojo_tls_gencert *leaf = mojo_tls_gencert_new_leaf(ca, "localhost", "localhost,127.0.0.1", 0, 1,
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
    if (mojo_tls_config_add_ca_mem(ccfg, (const uint8_t *)ca_pem, ca_len) < 0) die("client CA");

    s.lfd = mojo_tls_socket_listen("127.0.0.1", 0, 4);
    if (s.lfd < 0) die("listen");
    int port = mojo_tls_socket_port(s.lfd);
    pthread_t th;
    if (pthread_create(&th, NULL, server, &s) != 0) return 1;

    double t0 = now_s();
    mojo_tls_conn *c = mojo_tls_conn_new_connect(ccfg, "localhost", (uint16_t)port, 30000);
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
    t0 = now_s();
    send_stream(c, "client write");
    /* the upload has arrived once the server starts answering */
    intptr_t first = mojo_tls_conn_read(c, buf, 1);
    if (first != 1) die("client read");
    double t_up = now_s() - t0;
    int rx_ok = buf[0] == g_pattern[0];
    t0 = now_s();
    rx_ok = recv_stream(c, buf, 1, "client read") && rx_ok;
    double t_down = now_s() - t0;
    mojo_tls_conn_close_notify(c);
    pthread_join(th, NULL);

    int ok = s.rx_ok && rx_ok && s.eof_ok;
    printf("  client -> server: %zu MiB in %.3f s = %.1f MiB/s\n", mib, t_up, (double)mib / t_up);
    printf("  server -> client: %zu MiB in %.3f s = %.1f MiB/s\n", mib, t_down, (double)mib / t_down);
    printf("  data verified both ways: %s\n", ok ? "yes" : "NO (MISMATCH)");

    free(buf);
    free(g_pattern);
    mojo_tls_conn_free(c);
    mojo_tls_socket_close(s.lfd);
    mojo_tls_config_free(ccfg);
    mojo_tls_config_free(s.cfg);
    mojo_tls_gencert_free(leaf);
    mojo_tls_gencert_free(ca);
    free(ca_pem);
    free(cert_pem);
    free(key_pem);
    return ok ? 0 : 1;
}
