/* benches/dtls_be_openssl.c — the DTLS echo driver's engine: OpenSSL's
 * libssl on both ends (DTLS_server_method / DTLS_client_method over
 * connected UDP sockets and BIO_s_datagram). The server learns the
 * client's address from its first datagram (MSG_PEEK) and connects to it;
 * no cookie exchange (the handshake is not what is timed). */
#define _POSIX_C_SOURCE 200809L
#include "dtls_echo.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct dbe_conn {
    SSL *ssl;
    int fd;
    int timeout;
};

static SSL_CTX *g_srv, *g_cli;
static int g_sfd;
static pthread_t g_th;
static volatile int g_stop;

static void die(const char *what) {
    fprintf(stderr, "dtls-echo-openssl: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

const char *dbe_name(void) { return "openssl"; }

static X509 *pem_x509(const char *pem) {
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!x) die("certificate");
    return x;
}

static void set_rcvtimeo(int fd, int ms) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

void dbe_init(const char *cert, const char *key, const char *ca) {
    g_srv = SSL_CTX_new(DTLS_server_method());
    g_cli = SSL_CTX_new(DTLS_client_method());
    if (!g_srv || !g_cli) die("SSL_CTX_new");
    SSL_CTX *both[2] = {g_srv, g_cli};
    for (int i = 0; i < 2; i++) {
        SSL_CTX_set_min_proto_version(both[i], DTLS1_2_VERSION);
        SSL_CTX_set_max_proto_version(both[i], DTLS1_2_VERSION);
        if (!SSL_CTX_set_cipher_list(both[i], "ECDHE-ECDSA-AES128-GCM-SHA256")) die("cipher list");
        if (!SSL_CTX_set1_groups_list(both[i], "X25519:P-256")) die("groups");
    }
    X509 *x = pem_x509(cert);
    if (SSL_CTX_use_certificate(g_srv, x) != 1) die("use cert");
    BIO *b = BIO_new_mem_buf(key, -1);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!k || SSL_CTX_use_PrivateKey(g_srv, k) != 1) die("use key");
    X509_STORE_add_cert(SSL_CTX_get_cert_store(g_cli), pem_x509(ca));
    SSL_CTX_set_verify(g_cli, SSL_VERIFY_PEER, NULL);
}

static SSL *wrap(SSL_CTX *ctx, int fd, struct sockaddr_in *peer) {
    SSL *ssl = SSL_new(ctx);
    BIO *bio = BIO_new_dgram(fd, BIO_NOCLOSE);
    if (!ssl || !bio) die("SSL_new");
    BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, peer);
    SSL_set_bio(ssl, bio, bio);
    return ssl;
}

static void *serve(void *p) {
    (void)p;
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    char b1;
    set_rcvtimeo(g_sfd, 100);
    while (!g_stop) {
        if (recvfrom(g_sfd, &b1, 1, MSG_PEEK, (struct sockaddr *)&peer, &plen) >= 0) break;
    }
    if (g_stop) return NULL;
    if (connect(g_sfd, (struct sockaddr *)&peer, plen) != 0) die("connect (server)");
    set_rcvtimeo(g_sfd, 5000);
    SSL *ssl = wrap(g_srv, g_sfd, &peer);
    if (SSL_accept(ssl) != 1) die("SSL_accept");
    set_rcvtimeo(g_sfd, 100);
    unsigned char buf[16384];
    while (!g_stop) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n > 0) {
            if (SSL_write(ssl, buf, n) != n) break;
        } else if (SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ) {
            break;
        }
    }
    SSL_free(ssl);
    return NULL;
}

int dbe_server_start(void) {
    g_sfd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (g_sfd < 0 || bind(g_sfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(g_sfd, (struct sockaddr *)&a, &alen) != 0)
        die("server socket");
    pthread_create(&g_th, NULL, serve, NULL);
    return ntohs(a.sin_port);
}

void dbe_server_stop(void) {
    g_stop = 1;
    pthread_join(g_th, NULL);
    close(g_sfd);
}

dbe_conn *dbe_connect(int port) {
    dbe_conn *c = calloc(1, sizeof *c);
    c->fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) die("client socket");
    set_rcvtimeo(c->fd, 5000);
    c->ssl = wrap(g_cli, c->fd, &a);
    SSL_set1_host(c->ssl, "localhost");
    if (SSL_connect(c->ssl) != 1) die("SSL_connect");
    c->timeout = -1;
    return c;
}

int dbe_write(dbe_conn *c, const void *buf, size_t len) { return SSL_write(c->ssl, buf, (int)len); }

int dbe_read(dbe_conn *c, void *buf, size_t cap, int timeout_ms) {
    if (c->timeout != timeout_ms) {
        set_rcvtimeo(c->fd, timeout_ms);
        c->timeout = timeout_ms;
    }
    int n = SSL_read(c->ssl, buf, (int)cap);
    if (n > 0) return n;
    return SSL_get_error(c->ssl, n) == SSL_ERROR_WANT_READ ? 0 : -1;
}

void dbe_close(dbe_conn *c) {
    SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
    close(c->fd);
    free(c);
}
