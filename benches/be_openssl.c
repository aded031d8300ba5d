/* benches/be_openssl.c — the driver's engine: OpenSSL's libssl. Same
 * settings as be_mojo.c: one suite, X25519 then P-256, one protocol
 * version, session tickets, chain + host name verified. */
#include "backend.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int bench_tcp_connect(int port);
int bench_tcp_accept(int lfd);

struct be_conn {
    SSL *ssl;
    int fd;
};
struct be_session {
    SSL_SESSION *s;
};

static SSL_CTX *g_srv, *g_cli;

static void die(const char *what) {
    fprintf(stderr, "bench-openssl: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

const char *be_name(void) { return "openssl"; }

static X509 *pem_x509(const char *pem) {
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!x) die("certificate");
    return x;
}

int be_init(const char *cert, const char *key, const char *ca, const char *suite, int tls13) {
    int v = tls13 ? TLS1_3_VERSION : TLS1_2_VERSION, chacha = !strcmp(suite, "chacha20");
    g_srv = SSL_CTX_new(TLS_server_method());
    g_cli = SSL_CTX_new(TLS_client_method());
    if (!g_srv || !g_cli) die("SSL_CTX_new");
    SSL_CTX *both[2] = {g_srv, g_cli};
    for (int i = 0; i < 2; i++) {
        SSL_CTX *c = both[i];
        SSL_CTX_set_min_proto_version(c, v);
        SSL_CTX_set_max_proto_version(c, v);
        if (tls13) {
            if (!SSL_CTX_set_ciphersuites(c, chacha ? "TLS_CHACHA20_POLY1305_SHA256" : "TLS_AES_128_GCM_SHA256"))
                die("ciphersuites");
        } else if (!SSL_CTX_set_cipher_list(c, chacha ? "ECDHE-ECDSA-CHACHA20-POLY1305" : "ECDHE-ECDSA-AES128-GCM-SHA256")) {
            die("cipher list");
        }
        if (!SSL_CTX_set1_groups_list(c, "X25519:P-256")) die("groups");
        SSL_CTX_set_mode(c, SSL_MODE_AUTO_RETRY);
    }
    X509 *x = pem_x509(cert);
    if (SSL_CTX_use_certificate(g_srv, x) != 1) die("use cert");
    BIO *b = BIO_new_mem_buf(key, -1);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!k || SSL_CTX_use_PrivateKey(g_srv, k) != 1) die("use key");
    X509_STORE_add_cert(SSL_CTX_get_cert_store(g_cli), pem_x509(ca));
    SSL_CTX_set_verify(g_cli, SSL_VERIFY_PEER, NULL);
    /* TLS 1.3: one ticket per handshake, like the Mbed TLS servers */
    SSL_CTX_set_num_tickets(g_srv, 1);
    SSL_CTX_set_session_cache_mode(g_srv, SSL_SESS_CACHE_OFF); /* tickets only */
    /* no client cache: with SSL_SESS_CACHE_CLIENT a TLS 1.3 client marks the
     * ticket it resumed with as used up (single use), while the Mbed TLS
     * clients reuse one ticket like a TLS 1.2 session; the driver keeps the
     * session itself (SSL_get1_session) */
    SSL_CTX_set_session_cache_mode(g_cli, SSL_SESS_CACHE_OFF);
    return 0;
}

static be_conn *handshake(be_conn *c, int server) {
    int rc = server ? SSL_accept(c->ssl) : SSL_connect(c->ssl);
    if (rc != 1) {
        if (getenv("BENCH_DEBUG")) ERR_print_errors_fp(stderr);
        ERR_clear_error();
        be_free(c);
        return NULL;
    }
    return c;
}

static be_conn *new_conn(SSL_CTX *ctx, int fd) {
    be_conn *c = calloc(1, sizeof *c);
    c->fd = fd;
    c->ssl = SSL_new(ctx);
    if (!c->ssl) die("SSL_new");
    SSL_set_fd(c->ssl, fd);
    return c;
}

be_conn *be_accept(int lfd) {
    int fd = bench_tcp_accept(lfd);
    if (fd < 0) return NULL;
    return handshake(new_conn(g_srv, fd), 1);
}

be_conn *be_connect(int port, be_session *s) {
    int fd = bench_tcp_connect(port);
    if (fd < 0) return NULL;
    be_conn *c = new_conn(g_cli, fd);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    SSL_set1_host(c->ssl, "localhost");
    if (s) SSL_set_session(c->ssl, s->s);
    return handshake(c, 0);
}

be_session *be_get_session(be_conn *c) {
    /* TLS 1.3: the driver has read the ticket (it follows the handshake) */
    be_session *s = calloc(1, sizeof *s);
    s->s = SSL_get1_session(c->ssl);
    return s->s ? s : NULL;
}

void be_session_free(be_session *s) {
    SSL_SESSION_free(s->s);
    free(s);
}

int be_resumed(be_conn *c) { return SSL_session_reused(c->ssl); }

int be_write_all(be_conn *c, const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        int rc = SSL_write(c->ssl, p, (int)n);
        if (rc <= 0) return -1;
        p += rc;
        n -= (size_t)rc;
    }
    return 0;
}

long be_read(be_conn *c, void *buf, size_t n) {
    int rc = SSL_read(c->ssl, buf, (int)n);
    if (rc > 0) return rc;
    return SSL_get_error(c->ssl, rc) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

void be_close_notify(be_conn *c) { SSL_shutdown(c->ssl); }

void be_free(be_conn *c) {
    SSL_free(c->ssl);
    close(c->fd);
    free(c);
}

long be_noop(be_conn *c) { return SSL_pending(c->ssl); }
const char *be_cipher(be_conn *c) { return SSL_get_cipher_name(c->ssl); }
