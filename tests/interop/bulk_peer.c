/* Bulk-transfer peer for tests/interop/bulk.py: moves generated data both
 * ways at once over one TLS connection and proves it arrived intact.
 *
 *   bulk_peer server [opts]        listen on 127.0.0.1 (any port), print
 *                                  "listening on PORT", serve one connection
 *   bulk_peer client PORT [opts]   connect to 127.0.0.1:PORT
 *
 * Options:
 *   --cert F --key F     server certificate and key
 *   --ca F               client: trusted CAs (server name "localhost")
 *   --ciphers LIST       mojo_tls_config_set_ciphersuites
 *   --send N             bytes to send (the stream of seed --send-seed)
 *   --expect N           bytes to receive (the stream of seed --recv-seed)
 *   --send-seed S --recv-seed S
 *   --mbedtls            Mbed TLS's own record layer (the switch)
 *   --key-update-every N TLS 1.3: mojo_tls_conn_key_update every N bytes sent
 *                        (alternating request_peer 0 / 1)
 *   --timeout MS         no progress for this long = failure (default 30000)
 *
 * The data stream of a seed: 64 KiB blocks, block k = a base block made by
 * xorshift64* from the seed, with k (8 bytes, big endian) in its first
 * bytes. bulk.py generates the same stream. What arrives is compared with
 * the stream byte for byte; with libcrypto (-DBULK_SHA256) both streams
 * are also hashed (SHA-256) and printed.
 *
 * Sending and receiving run at once on one non-blocking connection with
 * poll(). After both are done the client sends close_notify and reads the
 * server's; the server waits for the client's close_notify, then answers.
 *
 * Prints "key: value" lines (version, cipher, record_layer, sent, received,
 * sha256_sent, sha256_received, verified, seconds, close). Exit 0 when all
 * data matched and the close was clean; 1 otherwise; 2 for usage errors. */
#define _POSIX_C_SOURCE 200809L
#include "mojo_tls.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef BULK_SHA256
#include <openssl/evp.h>
#endif

#define BLOCK 65536
#define CHUNK (1 << 20)

typedef struct {
    unsigned char base[BLOCK];
    uint64_t pos;
} stream;

static void stream_init(stream *s, uint64_t seed) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 0x1234567;
    if (x == 0) x = 1;
    for (size_t i = 0; i < BLOCK; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s->base[i] = (unsigned char)((x * 0x2545F4914F6CDD1DULL) >> 56);
    }
    s->pos = 0;
}

/* The next len bytes of the stream into out. */
static void stream_next(stream *s, unsigned char *out, size_t len) {
    while (len > 0) {
        uint64_t block = s->pos / BLOCK;
        size_t off = (size_t)(s->pos % BLOCK);
        size_t n = BLOCK - off < len ? BLOCK - off : len;
        memcpy(out, s->base + off, n);
        for (size_t i = off; i < 8 && i < off + n; i++) out[i - off] = (unsigned char)(block >> (56 - 8 * i));
        out += n;
        len -= n;
        s->pos += n;
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *err_text(void) {
    static char buf[512];
    mojo_tls_last_error(buf, sizeof buf);
    return buf;
}

static void die(const char *what) {
    printf("error: %s: %s\n", what, err_text());
    fflush(stdout);
    exit(1);
}

static uint64_t parse_u64(const char *s) { return (uint64_t)strtoull(s, NULL, 10); }

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    int server = strcmp(argv[1], "server") == 0;
    int ai = 2, port = 0;
    if (!server) {
        if (strcmp(argv[1], "client") != 0 || argc < 3) return 2;
        port = atoi(argv[2]);
        ai = 3;
    }
    const char *cert = NULL, *key = NULL, *ca = NULL, *ciphers = NULL;
    uint64_t to_send = 0, to_recv = 0, send_seed = 1, recv_seed = 2, ku_every = 0;
    int mbedtls = 0, timeout_ms = 30000;
    for (int i = ai; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--mbedtls")) { mbedtls = 1; continue; }
        if (!v) return 2;
        i++;
        if (!strcmp(a, "--cert")) cert = v;
        else if (!strcmp(a, "--key")) key = v;
        else if (!strcmp(a, "--ca")) ca = v;
        else if (!strcmp(a, "--ciphers")) ciphers = v;
        else if (!strcmp(a, "--send")) to_send = parse_u64(v);
        else if (!strcmp(a, "--expect")) to_recv = parse_u64(v);
        else if (!strcmp(a, "--send-seed")) send_seed = parse_u64(v);
        else if (!strcmp(a, "--recv-seed")) recv_seed = parse_u64(v);
        else if (!strcmp(a, "--key-update-every")) ku_every = parse_u64(v);
        else if (!strcmp(a, "--timeout")) timeout_ms = atoi(v);
        else return 2;
    }

    mojo_tls_config *cfg = mojo_tls_config_new(server ? MOJO_TLS_ROLE_SERVER : MOJO_TLS_ROLE_CLIENT);
    if (!cfg) die("config");
    if (server && mojo_tls_config_add_cert_file(cfg, cert, key, NULL) != 0) die("certificate");
    if (!server && mojo_tls_config_add_ca_file(cfg, ca) != 0) die("CA file");
    if (ciphers && mojo_tls_config_set_ciphersuites(cfg, ciphers) != 0) die("ciphers");
    if (mbedtls && mojo_tls_config_set_record_layer(cfg, MOJO_TLS_RECORD_LAYER_MBEDTLS) != 0) die("record layer");

    mojo_tls_conn *c;
    if (server) {
        int lfd = mojo_tls_socket_listen("127.0.0.1", 0, 4);
        if (lfd < 0) die("listen");
        printf("listening on %d\n", mojo_tls_socket_port(lfd));
        fflush(stdout);
        c = mojo_tls_conn_new_accept(cfg, lfd, timeout_ms);
        mojo_tls_socket_close(lfd);
        if (!c) die("accept");
    } else {
        c = mojo_tls_conn_new_connect(cfg, "localhost", (uint16_t)port, timeout_ms);
        if (!c) die("connect");
    }
    const char *layer = mojo_tls_conn_record_layer(c);
    printf("version: %s\ncipher: %s\nrecord_layer: %s\n", mojo_tls_conn_version_name(c), mojo_tls_conn_cipher(c),
           layer ? layer : "?");
    fflush(stdout);

    stream tx, rx;
    stream_init(&tx, send_seed);
    stream_init(&rx, recv_seed);
    unsigned char *wbuf = malloc(CHUNK), *rbuf = malloc(CHUNK), *expect = malloc(CHUNK);
    if (!wbuf || !rbuf || !expect) die("malloc");
#ifdef BULK_SHA256
    EVP_MD_CTX *sh_tx = EVP_MD_CTX_new(), *sh_rx = EVP_MD_CTX_new();
    if (!sh_tx || !sh_rx || !EVP_DigestInit_ex(sh_tx, EVP_sha256(), NULL) ||
        !EVP_DigestInit_ex(sh_rx, EVP_sha256(), NULL))
        die("sha256");
#endif
    mojo_tls_conn_set_timeout(c, 0);
    int fd = mojo_tls_conn_fd(c);
    uint64_t sent = 0, got = 0, next_ku = ku_every;
    size_t wlen = 0, woff = 0; /* wbuf[woff..wlen] is being written (same data on retry) */
    int mismatch = 0, key_updates = 0;
    double t0 = now_s(), last = t0;
    while (sent < to_send || got < to_recv) {
        int progress = 0, want_write = 0;
        if (sent < to_send) {
            if (woff == wlen) {
                if (ku_every && sent >= next_ku) {
                    if (mojo_tls_conn_key_update(c, key_updates & 1) != 0) die("key_update");
                    key_updates++;
                    next_ku += ku_every;
                }
                wlen = to_send - sent < CHUNK ? (size_t)(to_send - sent) : CHUNK;
                woff = 0;
                stream_next(&tx, wbuf, wlen);
#ifdef BULK_SHA256
                EVP_DigestUpdate(sh_tx, wbuf, wlen);
#endif
            }
            intptr_t w = mojo_tls_conn_write(c, wbuf + woff, wlen - woff);
            if (w > 0) {
                woff += (size_t)w;
                sent += (uint64_t)w;
                progress = 1;
            } else if (w == MOJO_TLS_ERR_WANT_WRITE) {
                want_write = 1;
            } else if (w != MOJO_TLS_ERR_WANT_READ) {
                die("write");
            }
        }
        if (got < to_recv) {
            intptr_t r = mojo_tls_conn_read(c, rbuf, CHUNK);
            if (r > 0) {
                if (got + (uint64_t)r > to_recv) {
                    printf("error: received more than expected\n");
                    return 1;
                }
                stream_next(&rx, expect, (size_t)r);
                if (memcmp(expect, rbuf, (size_t)r) != 0 && !mismatch) {
                    mismatch = 1;
                    printf("mismatch_at: %" PRIu64 "\n", got);
                }
#ifdef BULK_SHA256
                EVP_DigestUpdate(sh_rx, rbuf, (size_t)r);
#endif
                got += (uint64_t)r;
                progress = 1;
            } else if (r == 0) {
                printf("error: the peer closed after %" PRIu64 " of %" PRIu64 " bytes\n", got, to_recv);
                return 1;
            } else if (r != MOJO_TLS_ERR_WANT_READ && r != MOJO_TLS_ERR_WANT_WRITE) {
                die("read");
            }
        }
        double t = now_s();
        if (progress) {
            last = t;
            continue;
        }
        if ((t - last) * 1000 > timeout_ms) {
            printf("error: no progress for %d ms (sent %" PRIu64 ", received %" PRIu64 ")\n", timeout_ms, sent, got);
            return 1;
        }
        struct pollfd p = {fd, (short)((got < to_recv ? POLLIN : 0) | (want_write ? POLLOUT : 0)), 0};
        poll(&p, 1, 100);
    }
    double secs = now_s() - t0;

    /* clean close: the client first; each side reads the other's close_notify */
    mojo_tls_conn_set_timeout(c, timeout_ms);
    const char *close_state = "clean";
    if (!server && mojo_tls_conn_close_notify(c) != 0) close_state = "close_notify failed";
    intptr_t r = mojo_tls_conn_read(c, rbuf, CHUNK);
    if (r != 0) {
        static char why[600];
        snprintf(why, sizeof why, "read %jd (%s)", (intmax_t)r, err_text());
        close_state = why;
    }
    if (server && mojo_tls_conn_close_notify(c) != 0) close_state = "close_notify failed";

    printf("sent: %" PRIu64 "\nreceived: %" PRIu64 "\nkey_updates: %d\n", sent, got, key_updates);
#ifdef BULK_SHA256
    unsigned char d[32];
    unsigned int dl = 0;
    EVP_DigestFinal_ex(sh_tx, d, &dl);
    printf("sha256_sent: ");
    for (unsigned i = 0; i < dl; i++) printf("%02x", d[i]);
    EVP_DigestFinal_ex(sh_rx, d, &dl);
    printf("\nsha256_received: ");
    for (unsigned i = 0; i < dl; i++) printf("%02x", d[i]);
    printf("\n");
    EVP_MD_CTX_free(sh_tx);
    EVP_MD_CTX_free(sh_rx);
#endif
    printf("verified: %s\nseconds: %.3f\nclose: %s\n", mismatch ? "no" : "yes", secs, close_state);
    fflush(stdout);
    mojo_tls_conn_free(c);
    mojo_tls_config_free(cfg);
    free(wbuf);
    free(rbuf);
    free(expect);
    return (!mismatch && got == to_recv && sent == to_send && !strcmp(close_state, "clean")) ? 0 : 1;
}
