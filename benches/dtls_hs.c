/* DTLS 1.2 handshakes per second on loopback (benches/dtls_hs.sh runs it).
 *
 *   dtls_hs CA_PEM CERT_PEM KEY_PEM SECONDS [PORT]
 *
 * Without PORT: our client against our server (mojo_tls_dtls_listener,
 * blocking accept in a thread); with PORT: our client against a server
 * already listening there (openssl s_server -dtls1_2). Sequential full
 * handshakes (ECDHE, with the cookie exchange: four flights), each
 * followed by close_notify. Prints "hs_per_s <value>". Loopback only;
 * bounded by alarm(). */
#define _POSIX_C_SOURCE 200809L
#include "mojo_tls.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    char *b = malloc(1 << 20);
    *len = fread(b, 1, (1 << 20) - 1, f);
    b[*len] = 0;
    fclose(f);
    return b;
}

static void die(const char *what) {
    char msg[512];
    mojo_tls_last_error(msg, sizeof msg);
    fprintf(stderr, "dtls_hs: %s: %s\n", what, msg);
    exit(1);
}

static volatile int g_stop;

static void *serve(void *p) {
    mojo_tls_dtls_listener *l = p;
    while (!g_stop) {
        mojo_tls_conn *c = mojo_tls_conn_new_dtls_accept(l, 200);
        if (!c) continue;
        unsigned char buf[64];
        mojo_tls_conn_set_timeout(c, 2000);
        (void)mojo_tls_conn_read(c, buf, sizeof buf); /* the client's close_notify */
        mojo_tls_conn_free(c);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: dtls_hs CA_PEM CERT_PEM KEY_PEM SECONDS [PORT]\n");
        return 2;
    }
    double secs = atof(argv[4]);
    alarm((unsigned)(secs * 3 + 30));
    size_t ca_len, cert_len, key_len;
    char *ca = slurp(argv[1], &ca_len), *cert = slurp(argv[2], &cert_len), *key = slurp(argv[3], &key_len);
    mojo_tls_config *ccfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    if (!ccfg || mojo_tls_config_add_ca_mem(ccfg, (const uint8_t *)ca, ca_len) < 0 ||
        mojo_tls_config_set_transport(ccfg, MOJO_TLS_TRANSPORT_DATAGRAM) < 0)
        die("client config");
    int port;
    mojo_tls_config *scfg = NULL;
    mojo_tls_dtls_listener *l = NULL;
    pthread_t th;
    if (argc > 5) {
        port = atoi(argv[5]);
    } else {
        scfg = mojo_tls_config_new(MOJO_TLS_ROLE_SERVER);
        if (!scfg ||
            mojo_tls_config_add_cert_mem(scfg, (const uint8_t *)cert, cert_len, (const uint8_t *)key, key_len, NULL) <
                0 ||
            mojo_tls_config_set_transport(scfg, MOJO_TLS_TRANSPORT_DATAGRAM) < 0)
            die("server config");
        l = mojo_tls_dtls_listener_new(scfg, "127.0.0.1", 0);
        if (!l) die("listen");
        port = mojo_tls_dtls_listener_port(l);
        pthread_create(&th, NULL, serve, l);
    }
    long n = 0;
    double t0 = now_s(), t;
    do {
        mojo_tls_conn *c = mojo_tls_conn_new_connect(ccfg, "localhost", (uint16_t)port, 5000);
        if (!c) die("handshake");
        mojo_tls_conn_close_notify(c);
        mojo_tls_conn_free(c);
        n++;
        t = now_s();
    } while (t - t0 < secs);
    printf("hs_per_s %.1f\n", n / (t - t0));
    if (l) {
        g_stop = 1;
        pthread_join(th, NULL);
        mojo_tls_dtls_listener_free(l);
        mojo_tls_config_free(scfg);
    }
    mojo_tls_config_free(ccfg);
    free(ca);
    free(cert);
    free(key);
    return 0;
}
