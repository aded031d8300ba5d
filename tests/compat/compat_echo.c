/* compat_echo.c — the compat layer (the original mojo-tls C shim API) end to end.
 *
 * Uses only mojo_tls_compat.h (it includes mojo_tls.h) and libc (no Mbed TLS header): a server thread
 * (net_bind + net_accept_alloc) and a client (net_connect) on 127.0.0.1,
 * contexts in mojo_tls_alloc(mojo_tls_sizeof_*()) memory, certificates
 * generated with mojo_tls_gencert_* and loaded from memory, a verified
 * TLS 1.3 handshake (authmode REQUIRED, hostname "localhost"), 1 MiB echoed
 * and checksummed, peer certificate checks, close_notify both ways, every
 * context freed. Also: NULL arguments, a TLS 1.3 minimum on either side,
 * net_bind_reuseport.
 *
 * Exit status: 0 all checks passed, 1 a check failed.
 */
#include "mojo_tls_compat.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Mbed TLS return codes (Mbed TLS 3.6 and 4.x share these values,
 * except the two BAD_INPUT_DATA codes below). */
#define ERR_SSL_PEER_CLOSE_NOTIFY (-0x7880)
#define ERR_SSL_WANT_READ (-0x6900)
#define ERR_SSL_WANT_WRITE (-0x6880)
#define ERR_X509_BAD_INPUT_DATA (-0x2800)
/* Mbed TLS 4.x defines the SSL and PK BAD_INPUT_DATA codes as
 * PSA_ERROR_INVALID_ARGUMENT (-0x87); set in main() from mojo_tls_backend(). */
static int ERR_SSL_BAD_INPUT_DATA = -0x7100;
static int ERR_PK_BAD_INPUT_DATA = -0x3E80;
#define ERR_NET_BAD_INPUT_DATA (-0x0049)

#ifndef MOJO_TLS_KEY_ECDSA_P256
#define MOJO_TLS_KEY_ECDSA_P256 0
#endif
#ifndef MOJO_TLS_USAGE_SERVER
#define MOJO_TLS_USAGE_SERVER 1
#endif

#define TOTAL (1024 * 1024)
#define CHUNK 16384

static int failures;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            __sync_fetch_and_add(&failures, 1);                           \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
        }                                                                 \
    } while (0)

/* Evaluates cond once (it may have side effects), then stops on failure. */
#define REQUIRE(cond, ...)                                                \
    do {                                                                  \
        int req_ok_ = (cond) ? 1 : 0;                                     \
        CHECK(req_ok_, __VA_ARGS__);                                      \
        if (!req_ok_) exit(1);                                            \
    } while (0)

/* ------------------------------------------------------------------ */

static char *pem_of(struct mojo_tls_gencert *g, int key) {
    ptrdiff_t n = key ? mojo_tls_gencert_key_pem(g, NULL, 0) : mojo_tls_gencert_cert_pem(g, NULL, 0);
    REQUIRE(n > 0, "pem length %td", n);
    char *buf = malloc((size_t)n + 1);
    REQUIRE(buf != NULL, "malloc");
    ptrdiff_t m = key ? mojo_tls_gencert_key_pem(g, buf, (size_t)n + 1)
                      : mojo_tls_gencert_cert_pem(g, buf, (size_t)n + 1);
    REQUIRE(m == n, "pem length changed %td != %td", m, n);
    return buf;
}

static void *alloc_ctx(size_t size) {
    REQUIRE(size > 0, "sizeof query returned 0");
    void *p = mojo_tls_alloc(size);
    REQUIRE(p != NULL, "mojo_tls_alloc(%zu)", size);
    return p;
}

static int ctx_fd(void *net) { return *(int *)net; } /* net_context.fd is first */

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}
#define FNV_INIT 14695981039346656037ULL

/* ------------------------------------------------------------------ */
/* shared material                                                     */

static char *ca_pem, *srv_pem, *srv_key_pem;
static unsigned char srv_der[4096];
static size_t srv_der_len;
static void *listen_ctx;

/* ------------------------------------------------------------------ */
/* server                                                              */

/* 1: TLS 1.3-minimum client, 2: TLS 1.3-minimum server, 3: echo */
#define N_CONNECTIONS 3

struct server_result {
    int version_ret[2]; /* server handshake results of connections 1 and 2 */
    int echo_ok;
    uint64_t echoed;
};

static int write_all(void *ssl, const unsigned char *p, size_t n) {
    while (n > 0) {
        int r = mojo_tls_ssl_write(ssl, p, n);
        if (r == ERR_SSL_WANT_READ || r == ERR_SSL_WANT_WRITE) continue;
        if (r <= 0) return r;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void *server_main(void *arg) {
    struct server_result *res = arg;
    void *crt = alloc_ctx(mojo_tls_sizeof_x509_crt());
    void *pk = alloc_ctx(mojo_tls_sizeof_pk_context());
    void *conf = alloc_ctx(mojo_tls_sizeof_ssl_config());
    void *conf13 = alloc_ctx(mojo_tls_sizeof_ssl_config());
    mojo_tls_x509_crt_init(crt);
    mojo_tls_pk_init(pk);
    mojo_tls_ssl_config_init(conf);
    mojo_tls_ssl_config_init(conf13);

    int r = mojo_tls_x509_crt_parse(crt, (const unsigned char *)srv_pem, strlen(srv_pem) + 1);
    CHECK(r == 0, "server crt parse: -0x%04x", -r);
    r = mojo_tls_pk_parse_key(pk, (const unsigned char *)srv_key_pem, strlen(srv_key_pem) + 1, NULL, 0);
    CHECK(r == 0, "server key parse: -0x%04x", -r);
    r = mojo_tls_ssl_config_defaults(conf, MOJO_TLS_IS_SERVER, MOJO_TLS_TRANSPORT_STREAM,
                                     MOJO_TLS_PRESET_DEFAULT);
    CHECK(r == 0, "server config_defaults: -0x%04x", -r);
    r = mojo_tls_ssl_conf_own_cert(conf, crt, pk);
    CHECK(r == 0, "conf_own_cert: -0x%04x", -r);
    r = mojo_tls_ssl_config_defaults(conf13, MOJO_TLS_IS_SERVER, MOJO_TLS_TRANSPORT_STREAM,
                                     MOJO_TLS_PRESET_DEFAULT);
    CHECK(r == 0, "server config_defaults: -0x%04x", -r);
    r = mojo_tls_ssl_conf_own_cert(conf13, crt, pk);
    CHECK(r == 0, "conf_own_cert: -0x%04x", -r);
    mojo_tls_conf_min_version(conf13, MOJO_TLS_VERSION_TLS1_3);

    for (int i = 0; i < N_CONNECTIONS; i++) {
        unsigned char ip[16];
        size_t ip_len = 0;
        int rc = 12345;
        void *client = mojo_tls_net_accept_alloc(listen_ctx, ip, sizeof ip, &ip_len, &rc);
        CHECK(client != NULL && rc == 0, "net_accept_alloc: -0x%04x", -rc);
        if (client == NULL) break;
        CHECK(ip_len == 4 && ip[0] == 127, "client ip len %zu", ip_len);

        void *ssl = alloc_ctx(mojo_tls_sizeof_ssl_context());
        mojo_tls_ssl_init(ssl);
        r = mojo_tls_ssl_setup(ssl, i == 1 ? conf13 : conf);
        CHECK(r == 0, "server ssl_setup: -0x%04x", -r);
        mojo_tls_ssl_set_bio(ssl, client, mojo_tls_get_net_send_ptr(), mojo_tls_get_net_recv_ptr(), NULL);
        do {
            r = mojo_tls_ssl_handshake(ssl);
        } while (r == ERR_SSL_WANT_READ || r == ERR_SSL_WANT_WRITE);

        if (i < 2) {
            res->version_ret[i] = r;
        } else {
            CHECK(r == 0, "server handshake: -0x%04x", -r);
            if (r == 0) {
                unsigned char *buf = malloc(CHUNK);
                REQUIRE(buf != NULL, "malloc");
                int ok = 1;
                for (;;) {
                    int n = mojo_tls_ssl_read(ssl, buf, CHUNK);
                    if (n == ERR_SSL_WANT_READ || n == ERR_SSL_WANT_WRITE) continue;
                    if (n == ERR_SSL_PEER_CLOSE_NOTIFY || n == 0) break;
                    if (n < 0) {
                        CHECK(0, "server read: -0x%04x", -n);
                        ok = 0;
                        break;
                    }
                    res->echoed += (uint64_t)n;
                    int w = write_all(ssl, buf, (size_t)n);
                    if (w != 0) {
                        CHECK(0, "server write: -0x%04x", -w);
                        ok = 0;
                        break;
                    }
                }
                free(buf);
                if (ok) {
                    do {
                        r = mojo_tls_ssl_close_notify(ssl);
                    } while (r == ERR_SSL_WANT_READ || r == ERR_SSL_WANT_WRITE);
                    CHECK(r == 0, "server close_notify: -0x%04x", -r);
                }
                res->echo_ok = ok;
            }
        }
        mojo_tls_ssl_free(ssl);
        mojo_tls_free(ssl);
        mojo_tls_net_free_context(client);
    }

    mojo_tls_ssl_config_free(conf);
    mojo_tls_ssl_config_free(conf13);
    mojo_tls_pk_free(pk);
    mojo_tls_x509_crt_free(crt);
    mojo_tls_free(conf);
    mojo_tls_free(conf13);
    mojo_tls_free(pk);
    mojo_tls_free(crt);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* client                                                              */

struct client {
    void *net, *ssl, *conf, *ca;
};

static int client_open(struct client *c, const char *port, int min_version, int max_version) {
    c->net = alloc_ctx(mojo_tls_sizeof_net_context());
    c->ssl = alloc_ctx(mojo_tls_sizeof_ssl_context());
    c->conf = alloc_ctx(mojo_tls_sizeof_ssl_config());
    c->ca = alloc_ctx(mojo_tls_sizeof_x509_crt());
    mojo_tls_net_init(c->net);
    mojo_tls_ssl_init(c->ssl);
    mojo_tls_ssl_config_init(c->conf);
    mojo_tls_x509_crt_init(c->ca);

    int r = mojo_tls_x509_crt_parse(c->ca, (const unsigned char *)ca_pem, strlen(ca_pem) + 1);
    CHECK(r == 0, "CA parse: -0x%04x", -r);
    r = mojo_tls_ssl_config_defaults(c->conf, MOJO_TLS_IS_CLIENT, MOJO_TLS_TRANSPORT_STREAM,
                                     MOJO_TLS_PRESET_DEFAULT);
    CHECK(r == 0, "client config_defaults: -0x%04x", -r);
    mojo_tls_ssl_conf_authmode(c->conf, MOJO_TLS_VERIFY_REQUIRED);
    mojo_tls_ssl_conf_ca_chain(c->conf, c->ca, NULL);
    if (min_version) mojo_tls_conf_min_version(c->conf, min_version);
    if (max_version) mojo_tls_conf_max_version(c->conf, max_version);
    r = mojo_tls_ssl_setup(c->ssl, c->conf);
    CHECK(r == 0, "client ssl_setup: -0x%04x", -r);
    r = mojo_tls_ssl_set_hostname(c->ssl, "localhost");
    CHECK(r == 0, "set_hostname: -0x%04x", -r);
    r = mojo_tls_net_connect(c->net, "127.0.0.1", port, MOJO_TLS_NET_PROTO_TCP);
    CHECK(r == 0, "net_connect: -0x%04x", -r);
    if (r != 0) return r;
    mojo_tls_ssl_set_bio(c->ssl, c->net, mojo_tls_get_net_send_ptr(), mojo_tls_get_net_recv_ptr(),
                         mojo_tls_get_net_recv_timeout_ptr());
    do {
        r = mojo_tls_ssl_handshake(c->ssl);
    } while (r == ERR_SSL_WANT_READ || r == ERR_SSL_WANT_WRITE);
    return r;
}

static void client_close(struct client *c) {
    mojo_tls_ssl_free(c->ssl);
    mojo_tls_ssl_config_free(c->conf);
    mojo_tls_x509_crt_free(c->ca);
    mojo_tls_net_free(c->net);
    mojo_tls_free(c->ssl);
    mojo_tls_free(c->conf);
    mojo_tls_free(c->ca);
    mojo_tls_free(c->net);
}

static void echo_session(struct client *c) {
    /* TLS 1.3 with the default suite order's first TLS 1.3 suite */
    const char *ver = mojo_tls_ssl_get_version(c->ssl);
    CHECK(ver != NULL && strcmp(ver, "TLSv1.3") == 0, "version %s, expected TLSv1.3", ver ? ver : "(null)");
    const char *suite = mojo_tls_ssl_get_ciphersuite(c->ssl);
    CHECK(suite != NULL && strcmp(suite, "TLS1-3-AES-128-GCM-SHA256") == 0,
          "ciphersuite %s, expected TLS1-3-AES-128-GCM-SHA256", suite ? suite : "(null)");
    unsigned int flags = mojo_tls_ssl_get_verify_result(c->ssl);
    CHECK(flags == 0, "verify result 0x%x", flags);
    printf("client: %s %s, verify result %u\n", ver ? ver : "?", suite ? suite : "?", flags);

    const void *peer = mojo_tls_ssl_get_peer_cert(c->ssl);
    CHECK(peer != NULL, "no peer cert");
    if (peer != NULL) {
        const unsigned char *der = mojo_tls_x509_crt_get_raw_data(peer);
        size_t len = mojo_tls_x509_crt_get_raw_len(peer);
        CHECK(der != NULL && len == srv_der_len && memcmp(der, srv_der, len) == 0,
              "peer cert DER differs (len %zu vs %zu)", len, srv_der_len);
        unsigned char h1[32], h2[32];
        CHECK(mojo_tls_sha256(der, len, h1, sizeof h1) == 32, "sha256");
        CHECK(mojo_tls_sha256(srv_der, srv_der_len, h2, sizeof h2) == 32, "sha256");
        CHECK(memcmp(h1, h2, 32) == 0, "peer cert fingerprint differs");
    }

    unsigned char *out = malloc(CHUNK), *in = malloc(CHUNK);
    REQUIRE(out != NULL && in != NULL, "malloc");
    uint64_t sent_sum = FNV_INIT, recv_sum = FNV_INIT;
    uint32_t x = 0x12345678u;
    size_t total = 0, mismatches = 0;
    while (total < TOTAL) {
        for (size_t i = 0; i < CHUNK; i++) {
            x = x * 1664525u + 1013904223u;
            out[i] = (unsigned char)(x >> 24);
        }
        sent_sum = fnv1a(sent_sum, out, CHUNK);
        int w = write_all(c->ssl, out, CHUNK);
        if (w != 0) {
            CHECK(0, "client write: -0x%04x", -w);
            break;
        }
        size_t got = 0;
        while (got < CHUNK) {
            int n = mojo_tls_ssl_read(c->ssl, in + got, CHUNK - got);
            if (n == ERR_SSL_WANT_READ || n == ERR_SSL_WANT_WRITE) continue;
            if (n <= 0) {
                CHECK(0, "client read: -0x%04x", -n);
                goto done;
            }
            got += (size_t)n;
        }
        recv_sum = fnv1a(recv_sum, in, CHUNK);
        if (memcmp(in, out, CHUNK) != 0) mismatches++;
        total += CHUNK;
    }
done:
    CHECK(total == TOTAL, "echoed %zu of %d bytes", total, TOTAL);
    CHECK(sent_sum == recv_sum, "checksums differ: %016llx vs %016llx",
          (unsigned long long)sent_sum, (unsigned long long)recv_sum);
    CHECK(mismatches == 0, "%zu chunks differ", mismatches);
    printf("client: echoed %zu bytes, checksum %016llx\n", total, (unsigned long long)recv_sum);

    int r;
    do {
        r = mojo_tls_ssl_close_notify(c->ssl);
    } while (r == ERR_SSL_WANT_READ || r == ERR_SSL_WANT_WRITE);
    CHECK(r == 0, "client close_notify: -0x%04x", -r);
    /* The server answers with its own close_notify. */
    do {
        r = mojo_tls_ssl_read(c->ssl, in, CHUNK);
    } while (r == ERR_SSL_WANT_READ || r == ERR_SSL_WANT_WRITE);
    CHECK(r == ERR_SSL_PEER_CLOSE_NOTIFY || r == 0, "after close_notify: read -0x%04x", -r);
    free(out);
    free(in);
}

/* ------------------------------------------------------------------ */

static void null_arguments(void) {
    CHECK(mojo_tls_ssl_setup(NULL, NULL) == ERR_SSL_BAD_INPUT_DATA, "ssl_setup(NULL)");
    CHECK(mojo_tls_ssl_handshake(NULL) == ERR_SSL_BAD_INPUT_DATA, "handshake(NULL)");
    CHECK(mojo_tls_ssl_read(NULL, NULL, 0) == ERR_SSL_BAD_INPUT_DATA, "read(NULL)");
    CHECK(mojo_tls_ssl_write(NULL, NULL, 0) == ERR_SSL_BAD_INPUT_DATA, "write(NULL)");
    CHECK(mojo_tls_ssl_close_notify(NULL) == ERR_SSL_BAD_INPUT_DATA, "close_notify(NULL)");
    CHECK(mojo_tls_ssl_set_hostname(NULL, "x") == ERR_SSL_BAD_INPUT_DATA, "set_hostname(NULL)");
    CHECK(mojo_tls_ssl_config_defaults(NULL, 0, 0, 0) == ERR_SSL_BAD_INPUT_DATA, "config_defaults(NULL)");
    CHECK(mojo_tls_ssl_conf_own_cert(NULL, NULL, NULL) == ERR_SSL_BAD_INPUT_DATA, "own_cert(NULL)");
    CHECK(mojo_tls_x509_crt_parse(NULL, NULL, 0) == ERR_X509_BAD_INPUT_DATA, "crt_parse(NULL)");
    CHECK(mojo_tls_x509_crt_parse_file(NULL, NULL) == ERR_X509_BAD_INPUT_DATA, "crt_parse_file(NULL)");
    CHECK(mojo_tls_pk_parse_key(NULL, NULL, 0, NULL, 0) == ERR_PK_BAD_INPUT_DATA, "pk_parse_key(NULL)");
    CHECK(mojo_tls_pk_parse_keyfile(NULL, NULL, NULL) == ERR_PK_BAD_INPUT_DATA, "pk_parse_keyfile(NULL)");
    CHECK(mojo_tls_net_connect(NULL, NULL, NULL, 0) == ERR_NET_BAD_INPUT_DATA, "net_connect(NULL)");
    CHECK(mojo_tls_net_bind(NULL, NULL, NULL, 0) == ERR_NET_BAD_INPUT_DATA, "net_bind(NULL)");
    CHECK(mojo_tls_net_bind_reuseport(NULL, NULL, NULL, 0) == ERR_NET_BAD_INPUT_DATA, "bind_reuseport(NULL)");
    CHECK(mojo_tls_net_accept(NULL, NULL, NULL, 0, NULL) == ERR_NET_BAD_INPUT_DATA, "net_accept(NULL)");
    CHECK(mojo_tls_net_set_block(NULL) == ERR_NET_BAD_INPUT_DATA, "set_block(NULL)");
    CHECK(mojo_tls_net_set_nonblock(NULL) == ERR_NET_BAD_INPUT_DATA, "set_nonblock(NULL)");
    int rc = 0;
    CHECK(mojo_tls_net_accept_alloc(NULL, NULL, 0, NULL, &rc) == NULL && rc == ERR_NET_BAD_INPUT_DATA,
          "accept_alloc(NULL) rc -0x%04x", -rc);
    CHECK(mojo_tls_ssl_get_version(NULL) == NULL, "get_version(NULL)");
    CHECK(mojo_tls_ssl_get_ciphersuite(NULL) == NULL, "get_ciphersuite(NULL)");
    CHECK(mojo_tls_ssl_get_verify_result(NULL) == 0xFFFFFFFFu, "verify_result(NULL)");
    CHECK(mojo_tls_ssl_get_peer_cert(NULL) == NULL, "peer_cert(NULL)");
    CHECK(mojo_tls_x509_crt_get_raw_data(NULL) == NULL, "raw_data(NULL)");
    CHECK(mojo_tls_x509_crt_get_raw_len(NULL) == 0, "raw_len(NULL)");
    /* void functions: must simply return */
    mojo_tls_ssl_init(NULL);
    mojo_tls_ssl_free(NULL);
    mojo_tls_ssl_config_init(NULL);
    mojo_tls_ssl_config_free(NULL);
    mojo_tls_ssl_conf_authmode(NULL, 2);
    mojo_tls_ssl_conf_ca_chain(NULL, NULL, NULL);
    mojo_tls_ssl_set_bio(NULL, NULL, NULL, NULL, NULL);
    mojo_tls_conf_min_version(NULL, MOJO_TLS_VERSION_TLS1_2);
    mojo_tls_conf_max_version(NULL, MOJO_TLS_VERSION_TLS1_3);
    mojo_tls_x509_crt_init(NULL);
    mojo_tls_x509_crt_free(NULL);
    mojo_tls_pk_init(NULL);
    mojo_tls_pk_free(NULL);
    mojo_tls_net_init(NULL);
    mojo_tls_net_free(NULL);
    mojo_tls_net_free_context(NULL);
    mojo_tls_free(NULL);
}

static void reuseport(void) {
    void *a = alloc_ctx(mojo_tls_sizeof_net_context());
    void *b = alloc_ctx(mojo_tls_sizeof_net_context());
    mojo_tls_net_init(a);
    mojo_tls_net_init(b);
    int r = mojo_tls_net_bind_reuseport(a, "127.0.0.1", "0", MOJO_TLS_NET_PROTO_TCP);
    CHECK(r == 0, "bind_reuseport: -0x%04x", -r);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    if (r == 0 && getsockname(ctx_fd(a), (struct sockaddr *)&sa, &sl) == 0) {
        char port[16];
        snprintf(port, sizeof port, "%u", ntohs(sa.sin_port));
        r = mojo_tls_net_bind_reuseport(b, "127.0.0.1", port, MOJO_TLS_NET_PROTO_TCP);
        CHECK(r == 0, "second bind_reuseport on port %s: -0x%04x", port, -r);
        CHECK(ctx_fd(b) >= 0 && ctx_fd(b) != ctx_fd(a), "second fd %d", ctx_fd(b));
    }
    mojo_tls_net_free(a);
    mojo_tls_net_free(b);
    mojo_tls_free(a);
    mojo_tls_free(b);
}

int main(void) {
    alarm(600); /* hard stop if something blocks (run.sh also bounds us) */
    REQUIRE(mojo_tls_init() == 0, "mojo_tls_init");
    if (strncmp(mojo_tls_backend(), "Mbed TLS 4.", 11) == 0) {
        ERR_SSL_BAD_INPUT_DATA = -0x87;
        ERR_PK_BAD_INPUT_DATA = -0x87;
    }
    CHECK(mojo_tls_sizeof_ssl_session() > 0 && mojo_tls_sizeof_entropy_context() > 0 &&
              mojo_tls_sizeof_ctr_drbg_context() > 0,
          "sizeof queries");

    null_arguments();
    reuseport();

    /* Certificates: a CA and a server certificate for localhost it signed. */
    struct mojo_tls_gencert *ca = mojo_tls_gencert_new_ca("compat test CA", 30, MOJO_TLS_KEY_ECDSA_P256);
    REQUIRE(ca != NULL, "gencert_ca");
    struct mojo_tls_gencert *leaf = mojo_tls_gencert_new_leaf(ca, "localhost", "localhost,127.0.0.1", -1, 30,
                                                          MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256);
    REQUIRE(leaf != NULL, "gencert_leaf");
    ca_pem = pem_of(ca, 0);
    srv_pem = pem_of(leaf, 0);
    srv_key_pem = pem_of(leaf, 1);
    mojo_tls_gencert_free(leaf);
    mojo_tls_gencert_free(ca);

    /* The server certificate's DER, through the compat parser. */
    void *tmp = alloc_ctx(mojo_tls_sizeof_x509_crt());
    mojo_tls_x509_crt_init(tmp);
    int r = mojo_tls_x509_crt_parse(tmp, (const unsigned char *)srv_pem, strlen(srv_pem) + 1);
    REQUIRE(r == 0, "parse server cert: -0x%04x", -r);
    srv_der_len = mojo_tls_x509_crt_get_raw_len(tmp);
    REQUIRE(srv_der_len > 0 && srv_der_len <= sizeof srv_der, "der len %zu", srv_der_len);
    memcpy(srv_der, mojo_tls_x509_crt_get_raw_data(tmp), srv_der_len);
    mojo_tls_x509_crt_free(tmp);
    mojo_tls_free(tmp);

    /* Listening socket on an ephemeral port; read the port back. */
    listen_ctx = alloc_ctx(mojo_tls_sizeof_net_context());
    mojo_tls_net_init(listen_ctx);
    r = mojo_tls_net_bind(listen_ctx, "127.0.0.1", "0", MOJO_TLS_NET_PROTO_TCP);
    REQUIRE(r == 0, "net_bind: -0x%04x", -r);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    REQUIRE(getsockname(ctx_fd(listen_ctx), (struct sockaddr *)&sa, &sl) == 0, "getsockname");
    char port[16];
    snprintf(port, sizeof port, "%u", ntohs(sa.sin_port));
    printf("server: listening on 127.0.0.1:%s\n", port);

    struct server_result sres = {0};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, server_main, &sres) == 0, "pthread_create");

    /* 1: client with a TLS 1.3 minimum; 2: server with a TLS 1.3 minimum.
     * Both must negotiate TLS 1.3. */
    int vr[2];
    for (int i = 0; i < 2; i++) {
        struct client c;
        vr[i] = client_open(&c, port, i == 0 ? MOJO_TLS_VERSION_TLS1_3 : 0, 0);
        const char *v = mojo_tls_ssl_get_version(c.ssl);
        if (vr[i] == 0) {
            CHECK(v != NULL && strcmp(v, "TLSv1.3") == 0, "TLS 1.3 minimum (%s) negotiated %s",
                  i == 0 ? "client" : "server", v ? v : "?");
            mojo_tls_ssl_close_notify(c.ssl);
        }
        client_close(&c);
    }

    /* 3: the echo session, TLS 1.2 to 1.3 offered: TLS 1.3 (echo_session checks). */
    struct client c3;
    r = client_open(&c3, port, MOJO_TLS_VERSION_TLS1_2, MOJO_TLS_VERSION_TLS1_3);
    CHECK(r == 0, "client handshake: -0x%04x", -r);
    if (r == 0) echo_session(&c3);
    client_close(&c3);

    pthread_join(th, NULL);
    for (int i = 0; i < 2; i++) {
        printf("TLS 1.3 minimum on the %s: client handshake -0x%04x, server handshake -0x%04x\n",
               i == 0 ? "client" : "server", -vr[i], -sres.version_ret[i]);
        CHECK(vr[i] == 0 && sres.version_ret[i] == 0, "TLS 1.3 minimum on the %s: a handshake failed",
              i == 0 ? "client" : "server");
    }
    CHECK(sres.echo_ok, "server echo loop failed");
    CHECK(sres.echoed == TOTAL, "server echoed %llu bytes", (unsigned long long)sres.echoed);
    printf("server: echoed %llu bytes\n", (unsigned long long)sres.echoed);

    mojo_tls_net_free(listen_ctx);
    mojo_tls_free(listen_ctx);
    free(ca_pem);
    free(srv_pem);
    free(srv_key_pem);

    if (failures) {
        printf("compat_echo: %d check(s) failed\n", failures);
        return 1;
    }
    printf("compat_echo: all checks passed\n");
    return 0;
}
