/* benches/dtls_echo.c — DTLS 1.2 datagram throughput on loopback:
 *
 *   dtls-echo-<engine> CERT KEY CA COUNT SIZE
 *
 * The client sends COUNT datagrams of SIZE bytes through one DTLS
 * connection, at most WINDOW ahead of the echoes, and the server (same
 * process, another thread) writes each one back. UDP may drop: a window
 * without an echo for 200 ms is counted lost and the client goes on.
 * Prints "dgram_per_s" (echoed datagrams per second), "MBps" (payload
 * megabytes per second, one way) and "lost". Bounded by alarm(). */
#define _POSIX_C_SOURCE 200809L
#include "dtls_echo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 32

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    char *b = malloc(1 << 20);
    size_t n = fread(b, 1, (1 << 20) - 1, f);
    b[n] = 0;
    fclose(f);
    return b;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s CERT KEY CA COUNT SIZE\n", argv[0]);
        return 2;
    }
    long count = atol(argv[4]);
    size_t size = (size_t)atol(argv[5]);
    if (count <= 0 || size < 8 || size > 16000) return 2;
    alarm(300);
    char *cert = slurp(argv[1]), *key = slurp(argv[2]), *ca = slurp(argv[3]);
    dbe_init(cert, key, ca);
    int port = dbe_server_start();
    dbe_conn *c = dbe_connect(port);
    unsigned char *out = malloc(size), *in = malloc(size + 64);
    memset(out, 0xa5, size);
    long sent = 0, got = 0, lost = 0, inflight = 0;
    double t0 = now_s();
    while (got + lost < count) {
        while (inflight < WINDOW && sent < count) {
            memcpy(out, &sent, sizeof sent);
            if (dbe_write(c, out, size) != (int)size) {
                fprintf(stderr, "%s: write failed\n", dbe_name());
                return 1;
            }
            sent++;
            inflight++;
        }
        int n = dbe_read(c, in, size + 64, 200);
        if (n < 0) {
            fprintf(stderr, "%s: read failed\n", dbe_name());
            return 1;
        }
        if (n == 0) { /* the window's datagrams or their echoes were dropped */
            lost += inflight;
            inflight = 0;
            continue;
        }
        if ((size_t)n != size) {
            fprintf(stderr, "%s: echo of %d bytes, sent %zu\n", dbe_name(), n, size);
            return 1;
        }
        got++;
        if (inflight > 0) inflight--;
    }
    double dt = now_s() - t0;
    printf("dgram_per_s %.1f\n", got / dt);
    printf("MBps %.2f\n", (double)got * (double)size / dt / 1e6);
    printf("lost %ld\n", lost);
    dbe_close(c);
    dbe_server_stop();
    free(out);
    free(in);
    free(cert);
    free(key);
    free(ca);
    return 0;
}
