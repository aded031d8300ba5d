/* benches/dtls_be_mojo.c — the DTLS echo driver's engine: mojo-tls (our
 * UDP listener, blocking accept; our client over a connected UDP socket). */
#include "dtls_echo.h"
#include "mojo_tls.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dbe_conn {
    mojo_tls_conn *c;
    int timeout;
};

static mojo_tls_config *g_srv, *g_cli;
static mojo_tls_dtls_listener *g_l;
static pthread_t g_th;
static volatile int g_stop;

static void check(intptr_t rc, const char *what) {
    if (rc >= 0) return;
    char msg[512];
    mojo_tls_last_error(msg, sizeof msg);
    fprintf(stderr, "dtls-echo-mojo: %s: %s\n", what, msg);
    exit(1);
}

const char *dbe_name(void) { return "mojo"; }

void dbe_init(const char *cert, const char *key, const char *ca) {
    g_srv = mojo_tls_config_new(MOJO_TLS_ROLE_SERVER);
    g_cli = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    if (!g_srv || !g_cli) check(-1, "config");
    check(mojo_tls_config_add_cert_mem(g_srv, (const uint8_t *)cert, strlen(cert), (const uint8_t *)key, strlen(key),
                                       NULL),
          "cert");
    check(mojo_tls_config_add_ca_mem(g_cli, (const uint8_t *)ca, strlen(ca)), "ca");
    mojo_tls_config *both[2] = {g_srv, g_cli};
    for (int i = 0; i < 2; i++) {
        check(mojo_tls_config_set_transport(both[i], MOJO_TLS_TRANSPORT_DATAGRAM), "transport");
        check(mojo_tls_config_set_ciphersuites(both[i], "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"), "suites");
        check(mojo_tls_config_set_groups(both[i], "x25519,secp256r1"), "groups");
    }
}

static void *serve(void *p) {
    (void)p;
    mojo_tls_conn *c = NULL;
    while (!g_stop && !c) c = mojo_tls_conn_new_dtls_accept(g_l, 100);
    if (!c) return NULL;
    mojo_tls_conn_set_timeout(c, 100);
    unsigned char buf[16384];
    while (!g_stop) {
        intptr_t n = mojo_tls_conn_read(c, buf, sizeof buf);
        if (n > 0) {
            if (mojo_tls_conn_write(c, buf, (size_t)n) != n) break;
        } else if (n != MOJO_TLS_ERR_TIMEOUT) {
            break;
        }
    }
    mojo_tls_conn_free(c);
    return NULL;
}

int dbe_server_start(void) {
    g_l = mojo_tls_dtls_listener_new(g_srv, "127.0.0.1", 0);
    if (!g_l) check(-1, "listen");
    pthread_create(&g_th, NULL, serve, NULL);
    return mojo_tls_dtls_listener_port(g_l);
}

void dbe_server_stop(void) {
    g_stop = 1;
    pthread_join(g_th, NULL);
    mojo_tls_dtls_listener_free(g_l);
}

dbe_conn *dbe_connect(int port) {
    dbe_conn *c = calloc(1, sizeof *c);
    c->c = mojo_tls_conn_new_connect(g_cli, "127.0.0.1", (uint16_t)port, 5000);
    if (!c->c) check(-1, "connect");
    c->timeout = -2;
    return c;
}

int dbe_write(dbe_conn *c, const void *buf, size_t len) { return (int)mojo_tls_conn_write(c->c, buf, len); }

int dbe_read(dbe_conn *c, void *buf, size_t cap, int timeout_ms) {
    if (c->timeout != timeout_ms) {
        mojo_tls_conn_set_timeout(c->c, timeout_ms);
        c->timeout = timeout_ms;
    }
    intptr_t n = mojo_tls_conn_read(c->c, buf, cap);
    if (n == MOJO_TLS_ERR_TIMEOUT) return 0;
    return n > 0 ? (int)n : -1;
}

void dbe_close(dbe_conn *c) {
    mojo_tls_conn_close_notify(c->c);
    mojo_tls_conn_free(c->c);
    free(c);
}
