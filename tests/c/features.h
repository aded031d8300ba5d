/* Helpers shared by the test_features_*.c programs (on top of harness.h).
 *
 * f_run() runs one connection over 127.0.0.1: a server thread accepts once
 * (mojo_tls_conn_new_accept, handshake included) and records what the server saw —
 * or, if the handshake failed there, the server thread's own last error
 * code and message; the client connects over its own TCP socket with
 * mojo_tls_conn_new_fd (so any server name can be verified and sent as SNI
 * while the socket goes to 127.0.0.1), optionally imports a session blob,
 * handshakes and, on success, round-trips "ping" through the server's echo
 * loop. f_end() frees the client (close_notify ends the echo loop) and joins
 * the server thread; only then are the server fields valid. */
#ifndef MOJO_TLS_TEST_FEATURES_H
#define MOJO_TLS_TEST_FEATURES_H

#include "harness.h"

#include <sys/stat.h>

typedef struct {
    mojo_tls_config *cfg;
    int lfd, port;
    pthread_t th;
    /* outcome, valid after f_end */
    int ok;         /* the server's handshake completed */
    int code;       /* else: the server thread's last_error_code */
    char msg[1024]; /* ... and last_error */
    char sni[256], alpn[256], subject[512], issuer[512], sans[512], cipher[128];
    int resumed, version;
    intptr_t peer_der_len; /* MOJO_TLS_ERR_NOT_AVAILABLE without a client certificate */
    uint8_t peer_sha256[32];
    int64_t verify_flags;
    uint64_t echoed;
} f_srv;

typedef struct {
    int code;       /* client last_error_code when the handshake failed */
    char msg[1024]; /* client last_error */
    int import_rc;  /* mojo_tls_conn_session_import result (when a blob was given) */
} f_cli;

static H_UNUSED void f_str(ptrdiff_t (*fn)(const mojo_tls_conn *, char *, size_t), const mojo_tls_conn *c,
                           char *buf, size_t cap) {
    buf[0] = '\0';
    intptr_t n = fn(c, buf, cap);
    if (n < 0) snprintf(buf, cap, "<%s>", h_code_name(n));
}

static void *f_srv_thread(void *p) {
    f_srv *s = p;
    mojo_tls_clear_error();
    mojo_tls_conn *c = mojo_tls_conn_new_accept(s->cfg, s->lfd, h_io_timeout_ms());
    if (!c) {
        s->code = mojo_tls_last_error_code();
        mojo_tls_last_error(s->msg, sizeof s->msg);
        return NULL;
    }
    s->ok = 1;
    f_str(mojo_tls_conn_server_name, c, s->sni, sizeof s->sni);
    f_str(mojo_tls_conn_alpn, c, s->alpn, sizeof s->alpn);
    f_str(mojo_tls_conn_peer_cert_subject, c, s->subject, sizeof s->subject);
    f_str(mojo_tls_conn_peer_cert_issuer, c, s->issuer, sizeof s->issuer);
    f_str(mojo_tls_conn_peer_cert_sans, c, s->sans, sizeof s->sans);
    const char *ci = mojo_tls_conn_cipher(c);
    snprintf(s->cipher, sizeof s->cipher, "%s", ci ? ci : "<null>");
    s->resumed = mojo_tls_conn_session_resumed(c);
    s->version = mojo_tls_conn_version(c);
    s->peer_der_len = mojo_tls_conn_peer_cert_der(c, NULL, 0);
    if (s->peer_der_len > 0) mojo_tls_conn_peer_cert_sha256(c, s->peer_sha256, sizeof s->peer_sha256);
    s->verify_flags = mojo_tls_conn_verify_flags(c);
    mojo_tls_conn_set_timeout(c, h_io_timeout_ms());
    unsigned char buf[4096];
    for (;;) { /* echo until the client's close_notify (or an error / the timeout) */
        intptr_t n = mojo_tls_conn_read(c, buf, sizeof buf);
        if (n <= 0) break;
        if (mojo_tls_conn_write_all(c, buf, (size_t)n) != n) break;
        s->echoed += (uint64_t)n;
    }
    mojo_tls_conn_free(c);
    return NULL;
}

/* Start a one-connection server thread on a fresh 127.0.0.1 port. */
static H_UNUSED void f_srv_start(f_srv *s, mojo_tls_config *cfg) {
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->lfd = h_listen(&s->port);
    REQUIRE(pthread_create(&s->th, NULL, f_srv_thread, s) == 0);
}

/* Client side: TCP to port, TLS as `name` (NULL: none), optional session
 * blob, handshake, "ping" round trip. NULL when the handshake failed (then
 * cli->code / cli->msg hold the client's last error). */
static H_UNUSED mojo_tls_conn *f_client(const mojo_tls_config *ccfg, int port, const char *name,
                                         const uint8_t *blob, size_t blob_len, f_cli *cli) {
    memset(cli, 0, sizeof *cli);
    int fd = h_tcp_connect(port);
    mojo_tls_conn *c = mojo_tls_conn_new_fd(ccfg, fd, 1, name);
    REQUIRE_NONNULL(c);
    CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
    if (blob) cli->import_rc = mojo_tls_conn_session_import(c, blob, blob_len);
    mojo_tls_clear_error();
    int rc = mojo_tls_conn_handshake(c);
    if (rc != 0) {
        cli->code = mojo_tls_last_error_code();
        mojo_tls_last_error(cli->msg, sizeof cli->msg);
        CHECK_MSG(cli->code == rc, "handshake returned %d but last_error_code is %d", rc, cli->code);
        CHECK_RC(mojo_tls_conn_free(c), 0);
        return NULL;
    }
    unsigned char b[4];
    CHECK_RC(mojo_tls_conn_write_all(c, U8("ping"), 4), 4);
    CHECK_RC(h_read_exact(c, b, 4), 4);
    CHECK(memcmp(b, "ping", 4) == 0);
    return c;
}

/* Free the client connection (may be NULL) and collect the server thread. */
static H_UNUSED void f_end(f_srv *s, mojo_tls_conn *c) {
    if (c) CHECK_RC(mojo_tls_conn_free(c), 0);
    pthread_join(s->th, NULL);
    CHECK_RC(mojo_tls_socket_close(s->lfd), 0);
}

/* Start a server, connect a client: the usual first half of a case. */
static H_UNUSED mojo_tls_conn *f_run(f_srv *s, mojo_tls_config *scfg, const mojo_tls_config *ccfg,
                                      const char *name, const uint8_t *blob, size_t blob_len, f_cli *cli) {
    f_srv_start(s, scfg);
    return f_client(ccfg, s->port, name, blob, blob_len, cli);
}

/* A case that must succeed on both sides; returns the client conn for more checks. */
#define F_EXPECT_OK(label, c, s, cli)                                                                     \
    do {                                                                                                  \
        CHECK_MSG((c) != NULL, "%s: client handshake failed: %s (%s)", label, h_code_name((cli).code),   \
                  (cli).msg);                                                                             \
    } while (0)
#define F_EXPECT_SERVER_OK(label, s)                                                                      \
    do {                                                                                                  \
        CHECK_MSG((s).ok, "%s: server handshake failed: %s (%s)", label, h_code_name((s).code), (s).msg); \
        CHECK_MSG(!(s).ok || (s).echoed == 4, "%s: server echoed %" PRIu64 " bytes, expected 4", label,   \
                  (s).echoed);                                                                            \
    } while (0)

/* Generated certificate + its PEMs. */
typedef struct {
    mojo_tls_gencert *g;
    char *cert, *key;
    size_t cert_len, key_len;
} f_cert;

static H_UNUSED f_cert f_ca(const char *cn, int key_alg) {
    f_cert c;
    c.g = mojo_tls_gencert_new_ca(cn, 30, key_alg);
    REQUIRE_NONNULL(c.g);
    c.cert = h_gencert_pem(c.g, 0, &c.cert_len);
    c.key = h_gencert_pem(c.g, 1, &c.key_len);
    return c;
}

static H_UNUSED f_cert f_leaf(const f_cert *issuer, const char *cn, const char *sans, int usage, int key_alg) {
    f_cert c;
    c.g = mojo_tls_gencert_new_leaf(issuer ? issuer->g : NULL, cn, sans, 0, 10, usage, key_alg);
    REQUIRE_NONNULL(c.g);
    c.cert = h_gencert_pem(c.g, 0, &c.cert_len);
    c.key = h_gencert_pem(c.g, 1, &c.key_len);
    return c;
}

static H_UNUSED void f_cert_free(f_cert *c) {
    CHECK_RC(mojo_tls_gencert_free(c->g), 0);
    free(c->cert);
    free(c->key);
    memset(c, 0, sizeof *c);
}

static H_UNUSED int f_add_cert(mojo_tls_config *cfg, const f_cert *c) {
    return mojo_tls_config_add_cert_mem(cfg, U8(c->cert), c->cert_len, U8(c->key), c->key_len, NULL);
}

static H_UNUSED mojo_tls_config *f_server_cfg(const f_cert *c) {
    mojo_tls_config *cfg = mojo_tls_config_new(MOJO_TLS_ROLE_SERVER);
    REQUIRE_NONNULL(cfg);
    REQUIRE_RC(f_add_cert(cfg, c), 0);
    return cfg;
}

static H_UNUSED mojo_tls_config *f_client_cfg(const f_cert *ca) {
    mojo_tls_config *cfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    REQUIRE_NONNULL(cfg);
    if (ca) REQUIRE_RC(mojo_tls_config_add_ca_mem(cfg, U8(ca->cert), ca->cert_len), 0);
    return cfg;
}

/* DER of a generated certificate (malloc'd). */
static H_UNUSED uint8_t *f_der(const f_cert *c, size_t *len) {
    intptr_t n = mojo_tls_gencert_cert_der(c->g, NULL, 0);
    REQUIRE(n > 0);
    uint8_t *d = h_xmalloc((size_t)n);
    REQUIRE(mojo_tls_gencert_cert_der(c->g, d, (size_t)n) == n);
    *len = (size_t)n;
    return d;
}

/* SHA-256 of a generated certificate's DER (the MOJO_TLS_PIN_CERT value). */
static H_UNUSED void f_cert_sha256(const f_cert *c, uint8_t out[32]) {
    size_t n;
    uint8_t *d = f_der(c, &n);
    REQUIRE_RC(mojo_tls_sha256(d, n, out, 32), 32);
    free(d);
}

/* Private temporary directory ($TMPDIR or P_tmpdir); f_tmp_path joins a name. */
static H_UNUSED void f_tmpdir(char *dir, size_t cap) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, cap, "%s/mojo-tls-features-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    REQUIRE(mkdtemp(dir) != NULL);
}

static H_UNUSED void f_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    REQUIRE(fwrite(data, 1, len, f) == len);
    REQUIRE(fclose(f) == 0);
}

/* Whole file into a NUL-terminated malloc'd buffer; NULL if it does not exist. */
static H_UNUSED char *f_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = h_xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            REQUIRE(nb != NULL);
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - 1 - n, f);
        if (r == 0) break;
        n += r;
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

#endif /* MOJO_TLS_TEST_FEATURES_H */
