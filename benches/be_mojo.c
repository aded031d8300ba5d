/* benches/be_mojo.c — the driver's engine: libmojo_tls's C ABI.
 *
 * Record layer: BENCH_MOJO_RECORD_LAYER (default MOJO_TLS_RECORD_LAYER_MBEDTLS,
 * Mbed TLS's own record layer, so the rows measure the shim over the same
 * engine as be_raw.c); build with
 * -DBENCH_MOJO_RECORD_LAYER=MOJO_TLS_RECORD_LAYER_AUTO for the library's
 * default (its own record layer after the handshake); -DBENCH_MOJO_FAST
 * does that and reports whether the kernel TLS probe fell back cleanly.
 * -DBENCH_MOJO_PSK_KE opts both ends into TLS 1.3 psk_ke resumption. */
#include "backend.h"
#include "mojo_tls.h"

#if defined(BENCH_MOJO_FAST) && !defined(BENCH_MOJO_RECORD_LAYER)
#define BENCH_MOJO_RECORD_LAYER MOJO_TLS_RECORD_LAYER_AUTO
#endif
#if defined(MOJO_TLS_RECORD_LAYER_MBEDTLS) && !defined(BENCH_MOJO_RECORD_LAYER)
#define BENCH_MOJO_RECORD_LAYER MOJO_TLS_RECORD_LAYER_MBEDTLS
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bench_tcp_connect(int port);

static mojo_tls_config *g_srv, *g_cli;
struct be_session {
    size_t len;
    uint8_t data[];
};

static void check(long rc, const char *what) {
    if (rc < 0) {
        char msg[256];
        mojo_tls_last_error(msg, sizeof msg);
        fprintf(stderr, "bench-mojo: %s: %s\n", what, msg);
        exit(1);
    }
}

const char *be_name(void) { return "mojo"; }

int be_init(const char *cert, const char *key, const char *ca, const char *suite, int tls13) {
    const char *names;
    if (tls13) {
        names = !strcmp(suite, "chacha20") ? "TLS_CHACHA20_POLY1305_SHA256" : "TLS_AES_128_GCM_SHA256";
    } else {
        names = !strcmp(suite, "chacha20") ? "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
                                           : "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    }
    int v = tls13 ? MOJO_TLS_VERSION_TLS1_3 : MOJO_TLS_VERSION_TLS1_2;
    g_srv = mojo_tls_config_new(MOJO_TLS_ROLE_SERVER);
    g_cli = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    if (!g_srv || !g_cli) check(-1, "config");
    check(mojo_tls_config_add_cert_mem(g_srv, (const uint8_t *)cert, strlen(cert), (const uint8_t *)key, strlen(key),
                                       NULL),
          "cert");
    check(mojo_tls_config_add_ca_mem(g_cli, (const uint8_t *)ca, strlen(ca)), "ca");
    mojo_tls_config *both[2] = {g_srv, g_cli};
    for (int i = 0; i < 2; i++) {
        check(mojo_tls_config_set_min_version(both[i], v), "min version");
        check(mojo_tls_config_set_max_version(both[i], v), "max version");
        check(mojo_tls_config_set_ciphersuites(both[i], names), "suites");
        check(mojo_tls_config_set_groups(both[i], "x25519,secp256r1"), "groups");
#ifdef BENCH_MOJO_RECORD_LAYER
        check(mojo_tls_config_set_record_layer(both[i], BENCH_MOJO_RECORD_LAYER), "record layer");
#endif
    }
    check(mojo_tls_config_set_session_tickets(g_srv, 86400), "tickets");
#ifdef BENCH_MOJO_PSK_KE
    /* TLS 1.3 resumption without ECDHE (psk_ke): the opt-in, on both ends */
    for (int i = 0; i < 2; i++)
        check(mojo_tls_config_insecure_resumption_without_forward_secrecy(both[i], 1), "psk_ke");
#endif
    return 0;
}

be_conn *be_accept(int lfd) {
    mojo_tls_conn *c = mojo_tls_conn_new_accept(g_srv, lfd, 60000);
    if (!c && getenv("BENCH_DEBUG")) {
        char msg[256];
        mojo_tls_last_error(msg, sizeof msg);
        fprintf(stderr, "bench-mojo: accept: %s\n", msg);
    }
    return (be_conn *)c;
}

be_conn *be_connect(int port, be_session *s) {
    int fd = bench_tcp_connect(port);
    if (fd < 0) return NULL;
    mojo_tls_conn *c = mojo_tls_conn_new_fd(g_cli, fd, 1, "localhost");
    if (!c) return NULL;
    if (s) check(mojo_tls_conn_session_import(c, s->data, s->len), "session import");
    if (mojo_tls_conn_handshake(c) < 0) {
        if (getenv("BENCH_DEBUG")) check(-1, "handshake");
        mojo_tls_conn_free(c);
        return NULL;
    }
    mojo_tls_conn_set_timeout(c, 60000);
    return (be_conn *)c;
}

be_session *be_get_session(be_conn *c) {
    intptr_t n = mojo_tls_conn_session_export((mojo_tls_conn *)c, NULL, 0);
    if (n <= 0) return NULL;
    be_session *s = malloc(sizeof *s + (size_t)n);
    s->len = (size_t)n;
    mojo_tls_conn_session_export((mojo_tls_conn *)c, s->data, s->len);
    return s;
}

void be_session_free(be_session *s) { free(s); }
int be_resumed(be_conn *c) { return mojo_tls_conn_session_resumed((mojo_tls_conn *)c); }
int be_write_all(be_conn *c, const void *b, size_t n) {
    return mojo_tls_conn_write_all((mojo_tls_conn *)c, b, n) == (intptr_t)n ? 0 : -1;
}
long be_read(be_conn *c, void *b, size_t n) { return (long)mojo_tls_conn_read((mojo_tls_conn *)c, b, n); }
void be_close_notify(be_conn *c) { mojo_tls_conn_close_notify((mojo_tls_conn *)c); }
void be_free(be_conn *c) { mojo_tls_conn_free((mojo_tls_conn *)c); }
long be_noop(be_conn *c) { return (long)mojo_tls_conn_pending((mojo_tls_conn *)c); }
const char *be_cipher(be_conn *c) {
    const char *layer = mojo_tls_conn_record_layer((mojo_tls_conn *)c);
    if (getenv("BENCH_DEBUG")) fprintf(stderr, "bench-mojo: record layer %s\n", layer ? layer : "?");
#ifdef BENCH_MOJO_FAST
    /* The library's default record layer: kernel TLS where the kernel has
     * it, else the ring layer with the kernel's refusal noted (the clean
     * fallback issue #11 asks the bench to report). */
    char detail[512] = "";
    mojo_tls_conn_record_layer_detail((mojo_tls_conn *)c, detail, sizeof detail);
    int ok = layer && (!strcmp(layer, "kernel TLS") ||
                       (!strcmp(layer, "mojo-tls (ring)") && strstr(detail, "kernel TLS") != NULL));
    fprintf(stderr, "bench-mojo: %s\n", detail);
    printf("record_layer_fallback_ok %d\n", ok);
#endif
    return mojo_tls_conn_cipher((mojo_tls_conn *)c);
}
