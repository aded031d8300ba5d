/* DTLS 1.2 echo server over libmojo_tls: one UDP port, many clients.
 *
 *   dtls_server [--host H] [--port P] [--cert F --key F [--password PW]]
 *               [--write-cert F] [--ca F] [--timeout MS] [--once]
 *
 * Without --cert/--key it generates a self-signed certificate for
 * "localhost" and 127.0.0.1 (--write-cert saves it so clients can trust it).
 * --ca asks clients for a certificate issued by that CA (mutual TLS).
 * Prints "listening on PORT" on stdout once it accepts clients, then echoes
 * every datagram back to its sender. One thread serves everyone: poll() over
 * the listener's socket and every client's, accept and handshakes
 * non-blocking, retransmissions driven by mojo_tls_conn_next_timeout_ms.
 * A client silent for --timeout ms (default 60000) is dropped; --once exits
 * after the first client closes. Defaults: host 127.0.0.1, port 0 (any free
 * port). */
#define _POSIX_C_SOURCE 200809L /* poll under strict -std=c11 */
#include "mojo_tls.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PEERS 256

typedef struct {
    mojo_tls_conn *c;
    int ready;              /* handshake done */
    long long last_active;  /* ms */
    unsigned long long datagrams;
} peer;

static peer g_peers[MAX_PEERS];
static int g_npeers;

static void usage(void) {
    fprintf(stderr,
            "usage: dtls_server [--host H] [--port P] [--cert F --key F [--password PW]] [--write-cert F]\n"
            "                   [--ca F] [--timeout MS] [--once]\n");
    exit(2);
}

static void die(const char *what) {
    char msg[512];
    mojo_tls_last_error(msg, sizeof msg);
    fprintf(stderr, "dtls_server: %s: %s\n", what, msg);
    exit(1);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drop(int i, const char *why) {
    fprintf(stderr, "dtls_server: client %d done (%s), %llu datagrams echoed\n", i, why, g_peers[i].datagrams);
    mojo_tls_conn_free(g_peers[i].c); /* sends our close_notify, closes its socket */
    g_peers[i] = g_peers[--g_npeers];
}

static void load_cert(mojo_tls_config *cfg, const char *cert, const char *key, const char *password,
                      const char *write_cert) {
    if (cert) {
        if (mojo_tls_config_add_cert_file(cfg, cert, key, password) < 0) die("certificate");
        return;
    }
    mojo_tls_gencert *g = mojo_tls_gencert_new_leaf(NULL, "localhost", "localhost,127.0.0.1", 0, 30,
                                                    MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256);
    if (!g) die("generate certificate");
    intptr_t cl = mojo_tls_gencert_cert_pem(g, NULL, 0), kl = mojo_tls_gencert_key_pem(g, NULL, 0);
    if (cl <= 0 || kl <= 0) die("certificate PEM");
    char *cp = malloc((size_t)cl + 1), *kp = malloc((size_t)kl + 1);
    if (!cp || !kp) exit(1);
    mojo_tls_gencert_cert_pem(g, cp, (size_t)cl + 1);
    mojo_tls_gencert_key_pem(g, kp, (size_t)kl + 1);
    if (mojo_tls_config_add_cert_mem(cfg, (const uint8_t *)cp, (size_t)cl, (const uint8_t *)kp, (size_t)kl, NULL) <
        0)
        die("certificate");
    if (write_cert) {
        FILE *f = fopen(write_cert, "w");
        if (!f || fputs(cp, f) < 0 || fclose(f) != 0) {
            perror(write_cert);
            exit(1);
        }
    }
    fprintf(stderr, "dtls_server: using a generated self-signed certificate for localhost\n");
    free(cp);
    free(kp);
    mojo_tls_gencert_free(g);
}

/* Handshake, then echo every datagram that waits; returns 0, or -1 once the
 * client is gone (dropped). */
static int serve(int i, int once, int *finished) {
    peer *p = &g_peers[i];
    static unsigned char buf[16384]; /* one datagram's plaintext always fits */
    if (!p->ready) {
        int rc = mojo_tls_conn_handshake(p->c);
        if (rc == MOJO_TLS_ERR_WANT_READ || rc == MOJO_TLS_ERR_WANT_WRITE) return 0;
        if (rc != 0) {
            char msg[256];
            mojo_tls_last_error(msg, sizeof msg);
            drop(i, msg);
            return -1;
        }
        p->ready = 1;
        p->last_active = now_ms();
        fprintf(stderr, "dtls_server: client %d: %s %s\n", i, mojo_tls_conn_version_name(p->c),
                mojo_tls_conn_cipher(p->c));
    }
    for (;;) {
        intptr_t n = mojo_tls_conn_read(p->c, buf, sizeof buf);
        if (n == MOJO_TLS_ERR_WANT_READ || n == MOJO_TLS_ERR_WANT_WRITE) return 0;
        if (n <= 0) {
            char msg[256] = "close_notify";
            if (n < 0) mojo_tls_last_error(msg, sizeof msg);
            drop(i, msg);
            if (once) *finished = 1;
            return -1;
        }
        p->last_active = now_ms();
        /* one read is one datagram; its echo is one datagram (a lost one is
         * lost: DTLS does not retransmit application data) */
        intptr_t w = mojo_tls_conn_write(p->c, buf, (size_t)n);
        if (w == n) p->datagrams++;
        else if (w != MOJO_TLS_ERR_WANT_WRITE) fprintf(stderr, "dtls_server: client %d: echo failed (%jd)\n", i, (intmax_t)w);
    }
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1", *cert = NULL, *key = NULL, *password = NULL, *write_cert = NULL, *ca = NULL;
    int port = 0, once = 0, idle_ms = 60000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host") && i + 1 < argc) host = argv[++i];
        else if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cert") && i + 1 < argc) cert = argv[++i];
        else if (!strcmp(argv[i], "--key") && i + 1 < argc) key = argv[++i];
        else if (!strcmp(argv[i], "--password") && i + 1 < argc) password = argv[++i];
        else if (!strcmp(argv[i], "--write-cert") && i + 1 < argc) write_cert = argv[++i];
        else if (!strcmp(argv[i], "--ca") && i + 1 < argc) ca = argv[++i];
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) idle_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--once")) once = 1;
        else usage();
    }
    if ((cert == NULL) != (key == NULL) || port < 0 || port > 65535 || idle_ms <= 0) usage();
    fprintf(stderr, "dtls_server: mojo-tls %s, %s\n", mojo_tls_version(), mojo_tls_backend());
    signal(SIGPIPE, SIG_IGN);

    mojo_tls_config *cfg = mojo_tls_config_new(MOJO_TLS_ROLE_SERVER);
    if (!cfg) die("config");
    if (mojo_tls_config_set_transport(cfg, MOJO_TLS_TRANSPORT_DATAGRAM) < 0) die("transport");
    load_cert(cfg, cert, key, password, write_cert);
    if (ca) {
        if (mojo_tls_config_add_ca_file(cfg, ca) < 0) die(ca);
        if (mojo_tls_config_insecure_verify(cfg, MOJO_TLS_VERIFY_REQUIRED) < 0) die("client certificates");
    }
    /* answers cookie-less hellos itself: no state until a client's cookie returns */
    mojo_tls_dtls_listener *l = mojo_tls_dtls_listener_new(cfg, host, (uint16_t)port);
    if (!l) die("listen");
    int lfd = mojo_tls_dtls_listener_fd(l);
    printf("listening on %d\n", mojo_tls_dtls_listener_port(l));
    fflush(stdout); /* scripts wait for this line to learn the port */

    static struct pollfd pf[MAX_PEERS + 1];
    int finished = 0;
    while (!finished) {
        /* wait for the listener, every client, and the earliest retransmission timer */
        int wait = 1000;
        pf[0] = (struct pollfd){lfd, POLLIN, 0};
        for (int i = 0; i < g_npeers; i++) {
            pf[i + 1] = (struct pollfd){mojo_tls_conn_fd(g_peers[i].c), POLLIN, 0};
            int t = mojo_tls_conn_next_timeout_ms(g_peers[i].c);
            if (t >= 0 && t < wait) wait = t;
        }
        if (poll(pf, (nfds_t)g_npeers + 1, wait) < 0 && errno != EINTR) {
            perror("poll");
            break;
        }
        /* new clients: every waiting hello is answered or accepted */
        for (;;) {
            mojo_tls_conn *c = mojo_tls_conn_new_dtls_accept(l, 0);
            if (!c) {
                if (mojo_tls_last_error_code() == MOJO_TLS_ERR_WANT_READ) break;
                char msg[256];
                mojo_tls_last_error(msg, sizeof msg);
                fprintf(stderr, "dtls_server: accept: %s\n", msg);
                continue; /* that client's failure; others may wait */
            }
            if (g_npeers == MAX_PEERS) {
                fprintf(stderr, "dtls_server: too many clients, one refused\n");
                mojo_tls_conn_free(c);
                continue;
            }
            g_peers[g_npeers++] = (peer){c, 0, now_ms(), 0};
        }
        /* every client: handshake steps, timers, datagrams (each call is cheap when idle) */
        long long now = now_ms();
        for (int i = 0; i < g_npeers; i++) {
            if (now - g_peers[i].last_active > idle_ms) {
                drop(i--, "idle");
                continue;
            }
            if (serve(i, once, &finished) < 0) i--;
        }
    }
    while (g_npeers > 0) drop(g_npeers - 1, "server exit");
    mojo_tls_dtls_listener_free(l);
    mojo_tls_config_free(cfg);
    return 0;
}
