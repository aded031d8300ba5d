/* benches/be_raw.c — the driver's engine: the Mbed TLS that libmojo_tls is
 * built on, called directly: no shim. Built by benches/run.sh against the
 * system backend's Mbed TLS 3.6 (the same static libraries libmojo_tls
 * links). Same settings as be_mojo.c: one suite, one protocol version,
 * x25519 then secp256r1, session tickets, chain + host name verified. */
#include "backend.h"

#include <mbedtls/version.h>
#if MBEDTLS_VERSION_NUMBER < 0x03060000
#error "benches/be_raw.c needs Mbed TLS 3.6"
#endif
#include <psa/crypto.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int bench_tcp_connect(int port);
int bench_tcp_accept(int lfd);

struct be_conn {
    mbedtls_ssl_context ssl;
    mbedtls_net_context net;
    long hs_in; /* bytes received during the handshake */
    int in_hs;
};
struct be_session {
    mbedtls_ssl_session s;
};

static mbedtls_entropy_context g_entropy;
static mbedtls_ctr_drbg_context g_drbg_srv, g_drbg_cli;
static mbedtls_ssl_config g_srv, g_cli;
static mbedtls_x509_crt g_cert, g_ca;
static mbedtls_pk_context g_key;
static mbedtls_ssl_ticket_context g_ticket;
static int g_suites[2];
static const uint16_t g_groups[] = {MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1, 0};

static void check(int rc, const char *what) {
    if (rc != 0) {
        char msg[200];
        mbedtls_strerror(rc, msg, sizeof msg);
        fprintf(stderr, "bench-raw: %s: -0x%04x %s\n", what, (unsigned)-rc, msg);
        exit(1);
    }
}

const char *be_name(void) { return "raw"; }

int be_init(const char *cert, const char *key, const char *ca, const char *suite, int tls13) {
    int chacha = !strcmp(suite, "chacha20");
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    if (tls13)
        g_suites[0] = chacha ? MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256 : MBEDTLS_TLS1_3_AES_128_GCM_SHA256;
    else
#else
    if (tls13) return -1; /* a build without TLS 1.3 */
#endif
        g_suites[0] = chacha ? MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
                             : MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
    /* TLS 1.3 (and PSA-backed code) needs the PSA core initialised */
    if (psa_crypto_init() != PSA_SUCCESS) {
        fprintf(stderr, "bench-raw: psa_crypto_init failed\n");
        exit(1);
    }
    mbedtls_entropy_init(&g_entropy);
    mbedtls_ctr_drbg_init(&g_drbg_srv);
    mbedtls_ctr_drbg_init(&g_drbg_cli);
    check(mbedtls_ctr_drbg_seed(&g_drbg_srv, mbedtls_entropy_func, &g_entropy, (const unsigned char *)"s", 1), "drbg");
    check(mbedtls_ctr_drbg_seed(&g_drbg_cli, mbedtls_entropy_func, &g_entropy, (const unsigned char *)"c", 1), "drbg");
    mbedtls_x509_crt_init(&g_cert);
    mbedtls_x509_crt_init(&g_ca);
    mbedtls_pk_init(&g_key);
    check(mbedtls_x509_crt_parse(&g_cert, (const unsigned char *)cert, strlen(cert) + 1), "cert");
    check(mbedtls_x509_crt_parse(&g_ca, (const unsigned char *)ca, strlen(ca) + 1), "ca");
    check(mbedtls_pk_parse_key(&g_key, (const unsigned char *)key, strlen(key) + 1, NULL, 0, mbedtls_ctr_drbg_random,
                               &g_drbg_srv),
          "key");

    mbedtls_ssl_config *both[2] = {&g_srv, &g_cli};
    for (int i = 0; i < 2; i++) {
        mbedtls_ssl_config *c = both[i];
        mbedtls_ssl_config_init(c);
        check(mbedtls_ssl_config_defaults(c, i ? MBEDTLS_SSL_IS_CLIENT : MBEDTLS_SSL_IS_SERVER,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT),
              "config");
        mbedtls_ssl_conf_rng(c, mbedtls_ctr_drbg_random, i ? &g_drbg_cli : &g_drbg_srv);
        mbedtls_ssl_protocol_version v = tls13 ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2;
        mbedtls_ssl_conf_min_tls_version(c, v);
        mbedtls_ssl_conf_max_tls_version(c, v);
        mbedtls_ssl_conf_groups(c, g_groups);
        mbedtls_ssl_conf_ciphersuites(c, g_suites);
    }
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && defined(MBEDTLS_SSL_SESSION_TICKETS) && \
    MBEDTLS_VERSION_NUMBER >= 0x03060100
    /* 3.6.1+ drops TLS 1.3 tickets on the client unless asked to hand them
     * over (mbedtls_ssl_read then returns RECEIVED_NEW_SESSION_TICKET) */
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(&g_cli, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#endif
    check(mbedtls_ssl_conf_own_cert(&g_srv, &g_cert, &g_key), "own cert");
    mbedtls_ssl_conf_ca_chain(&g_cli, &g_ca, NULL);
    mbedtls_ssl_conf_authmode(&g_cli, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_ticket_init(&g_ticket);
    check(mbedtls_ssl_ticket_setup(&g_ticket, mbedtls_ctr_drbg_random, &g_drbg_srv, MBEDTLS_CIPHER_AES_256_GCM, 86400),
          "ticket");
    mbedtls_ssl_conf_session_tickets_cb(&g_srv, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse, &g_ticket);
    return 0;
}

/* a TLS 1.3 NewSessionTicket (signalled, see above) is not an error: read on
 * (WANT_* too: the BIOs block, but Mbed TLS may still ask) */
static int retry(int rc) {
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
    if (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) return 1;
#endif
    return rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE;
}

static be_conn *handshake(be_conn *c) {
    int rc;
    while ((rc = mbedtls_ssl_handshake(&c->ssl)) != 0) {
        if (retry(rc)) continue;
        if (getenv("BENCH_DEBUG")) fprintf(stderr, "bench-raw: handshake -0x%04x\n", (unsigned)-rc);
        be_free(c);
        return NULL;
    }
    c->in_hs = 0;
    if (getenv("BENCH_DEBUG")) fprintf(stderr, "bench-raw: handshake read %ld bytes\n", c->hs_in);
    return c;
}

/* mbedtls_net_recv plus a byte count during the handshake: Mbed TLS 3.6 has
 * no public "was this resumed" getter, and a resumed handshake is the
 * one without the server's Certificate (+ ServerKeyExchange in TLS 1.2,
 * CertificateVerify in TLS 1.3): < 400 bytes here, a full one is > 700. */
static int counting_recv(void *ctx, unsigned char *buf, size_t len) {
    be_conn *c = ctx;
    int rc = mbedtls_net_recv(&c->net, buf, len);
    if (rc > 0 && c->in_hs) c->hs_in += rc;
    return rc;
}

static int net_send(void *ctx, const unsigned char *buf, size_t len) {
    return mbedtls_net_send(&((be_conn *)ctx)->net, buf, len);
}

static be_conn *new_conn(mbedtls_ssl_config *cfg, int fd) {
    be_conn *c = calloc(1, sizeof *c);
    mbedtls_ssl_init(&c->ssl);
    mbedtls_net_init(&c->net);
    c->net.fd = fd;
    check(mbedtls_ssl_setup(&c->ssl, cfg), "ssl_setup");
    mbedtls_ssl_set_bio(&c->ssl, c, net_send, counting_recv, NULL);
    c->in_hs = 1;
    return c;
}

be_conn *be_accept(int lfd) {
    int fd = bench_tcp_accept(lfd);
    if (fd < 0) return NULL;
    return handshake(new_conn(&g_srv, fd));
}

be_conn *be_connect(int port, be_session *s) {
    int fd = bench_tcp_connect(port);
    if (fd < 0) return NULL;
    be_conn *c = new_conn(&g_cli, fd);
    check(mbedtls_ssl_set_hostname(&c->ssl, "localhost"), "hostname");
    if (s) check(mbedtls_ssl_set_session(&c->ssl, &s->s), "set_session");
    return handshake(c);
}

be_session *be_get_session(be_conn *c) {
    be_session *s = calloc(1, sizeof *s);
    mbedtls_ssl_session_init(&s->s);
    check(mbedtls_ssl_get_session(&c->ssl, &s->s), "get_session");
    return s;
}

void be_session_free(be_session *s) {
    mbedtls_ssl_session_free(&s->s);
    free(s);
}

int be_resumed(be_conn *c) {
    return c->hs_in < 400;
}

int be_write_all(be_conn *c, const void *buf, size_t n) {
    const unsigned char *p = buf;
    while (n > 0) {
        int rc = mbedtls_ssl_write(&c->ssl, p, n);
        if (retry(rc)) continue;
        if (rc < 0) return -1;
        p += rc;
        n -= (size_t)rc;
    }
    return 0;
}

long be_read(be_conn *c, void *buf, size_t n) {
    for (;;) {
        int rc = mbedtls_ssl_read(&c->ssl, buf, n);
        if (retry(rc)) continue;
        if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return 0;
        return rc;
    }
}

void be_close_notify(be_conn *c) { mbedtls_ssl_close_notify(&c->ssl); }

void be_free(be_conn *c) {
    mbedtls_ssl_free(&c->ssl);
    mbedtls_net_free(&c->net);
    free(c);
}

long be_noop(be_conn *c) { return (long)mbedtls_ssl_get_bytes_avail(&c->ssl); }
const char *be_cipher(be_conn *c) { return mbedtls_ssl_get_ciphersuite(&c->ssl); }
