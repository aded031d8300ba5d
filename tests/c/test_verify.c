/* Certificate verification failures with certificates generated at test
 * time: untrusted CA, wrong host name (DNS and IP), expired, not yet valid.
 * Each must fail the client with MOJO_TLS_ERR_VERIFY_FAILED and say why in
 * mojo_tls_last_error; the insecure switches are positive controls showing
 * the failure really came from the check being tested. */
#include "harness.h"

typedef struct {
    mojo_tls_config *cfg;
    int lfd;
    mojo_tls_conn *conn; /* set if the server side handshake completed */
    int code;            /* last_error_code if it did not */
} srv_ctx;

/* Server side: accept once; the outcome is reported, not asserted, because
 * on failure it depends on what the client's alert looked like. */
static void *srv_thread(void *p) {
    srv_ctx *s = p;
    s->conn = mojo_tls_conn_new_accept(s->cfg, s->lfd, h_io_timeout_ms());
    s->code = s->conn ? 0 : mojo_tls_last_error_code();
    if (s->conn) {
        /* echo one message so positive controls can check data flow */
        unsigned char b[16];
        intptr_t n = mojo_tls_conn_read(s->conn, b, sizeof b);
        if (n > 0) mojo_tls_conn_write_all(s->conn, b, (size_t)n);
        mojo_tls_conn_free(s->conn);
    }
    return NULL;
}

static int g_port;
static pthread_t g_th;
static srv_ctx g_srv;

static void server_start(mojo_tls_config *cfg) {
    memset(&g_srv, 0, sizeof g_srv);
    g_srv.cfg = cfg;
    g_srv.lfd = h_listen(&g_port);
    REQUIRE(pthread_create(&g_th, NULL, srv_thread, &g_srv) == 0);
}

static void server_join(void) {
    pthread_join(g_th, NULL);
    CHECK_RC(mojo_tls_socket_close(g_srv.lfd), 0);
}

/* connect must fail verification; reason must mention one of the needles */
static void expect_verify_fail(const char *label, mojo_tls_config *ccfg, const char *host, const char *n1,
                               const char *n2) {
    mojo_tls_clear_error();
    mojo_tls_conn *c = mojo_tls_conn_new_connect(ccfg, host, (uint16_t)g_port, h_io_timeout_ms());
    int code = mojo_tls_last_error_code();
    char msg[1024];
    msg[0] = '\0';
    mojo_tls_last_error(msg, sizeof msg);
    printf("  %-22s -> %s: %s\n", label, h_code_name(code), msg);
    CHECK_MSG(c == NULL, "%s: connect succeeded", label);
    if (c) mojo_tls_conn_free(c);
    CHECK_MSG(code == MOJO_TLS_ERR_VERIFY_FAILED, "%s: code %d (%s), expected VERIFY_FAILED", label, code,
              h_code_name(code));
    CHECK_MSG(h_contains_ci(msg, n1) || (n2 && h_contains_ci(msg, n2)),
              "%s: last_error \"%s\" mentions neither \"%s\" nor \"%s\"", label, msg, n1, n2 ? n2 : "");
    /* the structured result of the failed constructor (thread-local, read-only) */
    int32_t lflags = mojo_tls_last_error_verify_flags();
    CHECK_MSG(lflags > 0, "%s: last_error_verify_flags = %d", label, (int)lflags);
    char why[512];
    why[0] = '\0';
    intptr_t wl = mojo_tls_last_error_verify_reason(why, sizeof why);
    CHECK_MSG(wl > 0 && (size_t)wl == strlen(why), "%s: last_error_verify_reason length %jd", label, (intmax_t)wl);
    CHECK_MSG(strstr(msg, why) != NULL, "%s: reason \"%s\" is not part of the message \"%s\"", label, why, msg);
    CHECK_MSG(h_contains_ci(why, n1) || (n2 && h_contains_ci(why, n2)),
              "%s: last_error_verify_reason \"%s\" mentions neither \"%s\" nor \"%s\"", label, why, n1, n2 ? n2 : "");
    CHECK_RC(mojo_tls_last_error_verify_reason(NULL, 0), wl);
    CHECK_RC(mojo_tls_last_error_code(), MOJO_TLS_ERR_VERIFY_FAILED); /* the getters changed nothing */
    mojo_tls_clear_error();
    CHECK_RC(mojo_tls_last_error_verify_flags(), MOJO_TLS_ERR_NOT_AVAILABLE);
    CHECK_RC(mojo_tls_last_error_verify_reason(why, sizeof why), MOJO_TLS_ERR_NOT_AVAILABLE);
    server_join();
    CHECK_MSG(g_srv.conn == NULL, "%s: server side completed a handshake the client rejected", label);
}

/* the same failure through conn_new_fd + handshake, where the conn survives
 * and verify_flags / verify_reason can be queried */
static void expect_verify_fail_fd(const char *label, mojo_tls_config *ccfg, const char *name, const char *n1,
                                  const char *n2) {
    int fd = h_tcp_connect(g_port);
    mojo_tls_conn *c = mojo_tls_conn_new_fd(ccfg, fd, 1, name);
    REQUIRE_NONNULL(c);
    CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
    CHECK_RC(mojo_tls_conn_handshake(c), MOJO_TLS_ERR_VERIFY_FAILED);
    int32_t flags = mojo_tls_conn_verify_flags(c);
    CHECK_MSG(flags > 0, "%s: verify_flags after a verify failure = %d", label, (int)flags);
    CHECK_RC(mojo_tls_last_error_verify_flags(), flags); /* the handshake's failure, same flags */
    char reason[512];
    reason[0] = '\0';
    intptr_t rl = mojo_tls_conn_verify_reason(c, reason, sizeof reason);
    CHECK_MSG(rl > 0, "%s: verify_reason length %jd", label, (intmax_t)rl);
    CHECK_MSG(h_contains_ci(reason, n1) || (n2 && h_contains_ci(reason, n2)),
              "%s: verify_reason \"%s\" mentions neither \"%s\" nor \"%s\"", label, reason, n1, n2 ? n2 : "");
    /* no application data on a failed connection */
    CHECK(mojo_tls_conn_write(c, U8("x"), 1) < 0);
    CHECK_RC(mojo_tls_conn_free(c), 0);
    server_join();
}

/* connect must succeed (positive control) and data must flow */
static mojo_tls_conn *expect_ok(const char *label, mojo_tls_config *ccfg, const char *host) {
    mojo_tls_conn *c = mojo_tls_conn_new_connect(ccfg, host, (uint16_t)g_port, h_io_timeout_ms());
    CHECK_MSG(c != NULL, "%s: connect failed", label);
    if (!c) {
        server_join();
        return NULL;
    }
    unsigned char b[8];
    CHECK_RC(mojo_tls_conn_write_all(c, U8("ping"), 4), 4);
    CHECK_RC(h_read_exact(c, b, 4), 4);
    return c;
}

static mojo_tls_config *client_cfg(const h_pki *trust) { return h_client_config(trust->ca_pem, trust->ca_pem_len); }

int main(void) {
    h_start("test_verify", 180);

    h_pki good, other, wrongname, expired, future;
    h_pki_make(&good);
    h_pki_make_ex(&other, "some other CA", "mojo-tls test server", "localhost,127.0.0.1", 0, 30);
    h_pki_make_ex(&wrongname, "mojo-tls test CA", "other.example", "other.example,192.0.2.7", 0, 30);
    h_pki_make_ex(&expired, "mojo-tls test CA", "expired server", "localhost,127.0.0.1", -30, 10);
    h_pki_make_ex(&future, "mojo-tls test CA", "future server", "localhost,127.0.0.1", 10, 30);

    /* untrusted: the server's chain is from `other`, client trusts `good` */
    {
        mojo_tls_config *scfg = h_server_config(&other), *ccfg = client_cfg(&good);
        server_start(scfg);
        expect_verify_fail("untrusted CA", ccfg, "localhost", "trust", NULL);
        server_start(scfg);
        expect_verify_fail_fd("untrusted CA (fd)", ccfg, "localhost", "trust", NULL);
        /* control: VERIFY_NONE connects; OPTIONAL connects and records flags */
        mojo_tls_config *weak = client_cfg(&good);
        CHECK_RC(mojo_tls_config_insecure_verify(weak, MOJO_TLS_VERIFY_NONE), 0);
        server_start(scfg);
        mojo_tls_conn *c = expect_ok("untrusted, VERIFY_NONE", weak, "localhost");
        CHECK_RC(mojo_tls_conn_free(c), 0);
        server_join();
        CHECK_RC(mojo_tls_config_insecure_verify(weak, MOJO_TLS_VERIFY_OPTIONAL), 0);
        server_start(scfg);
        c = expect_ok("untrusted, VERIFY_OPTIONAL", weak, "localhost");
        if (c) {
            CHECK(mojo_tls_conn_verify_flags(c) > 0);
            char reason[512];
            CHECK(mojo_tls_conn_verify_reason(c, reason, sizeof reason) > 0);
            CHECK_CONTAINS_CI(reason, "trust");
            CHECK_RC(mojo_tls_conn_free(c), 0);
        }
        server_join();
        /* REQUIRED restores the default */
        CHECK_RC(mojo_tls_config_insecure_verify(weak, MOJO_TLS_VERIFY_REQUIRED), 0);
        server_start(scfg);
        expect_verify_fail("untrusted, REQUIRED again", weak, "localhost", "trust", NULL);
        CHECK_RC(mojo_tls_config_free(weak), 0);
        CHECK_RC(mojo_tls_config_free(scfg), 0);
        CHECK_RC(mojo_tls_config_free(ccfg), 0);
    }

    /* wrong host name: cert for other.example / 192.0.2.7, trusted CA; the
     * reason names the host expected and the names checked */
    {
        mojo_tls_config *scfg = h_server_config(&wrongname), *ccfg = client_cfg(&wrongname);
        server_start(scfg);
        expect_verify_fail("wrong DNS name", ccfg, "localhost",
                           "does not match host name \"localhost\" (checked subjectAltName entries: "
                           "DNS:other.example, IP:192.0.2.7)",
                           NULL);
        server_start(scfg);
        expect_verify_fail("wrong IP", ccfg, "127.0.0.1",
                           "does not match host name \"127.0.0.1\" (checked subjectAltName entries: "
                           "DNS:other.example, IP:192.0.2.7)",
                           NULL);
        server_start(scfg);
        expect_verify_fail_fd("wrong name (fd)", ccfg, "www.example.com",
                              "does not match host name \"www.example.com\" (checked subjectAltName", NULL);
        /* control: skipping only the host name check connects */
        CHECK_RC(mojo_tls_config_insecure_skip_hostname_check(ccfg, 1), 0);
        server_start(scfg);
        mojo_tls_conn *c = expect_ok("wrong name, skip check", ccfg, "localhost");
        CHECK_RC(mojo_tls_conn_free(c), 0);
        server_join();
        CHECK_RC(mojo_tls_config_insecure_skip_hostname_check(ccfg, 0), 0);
        server_start(scfg);
        expect_verify_fail("wrong name, check back", ccfg, "localhost", "host name \"localhost\"", NULL);
        CHECK_RC(mojo_tls_config_free(scfg), 0);
        CHECK_RC(mojo_tls_config_free(ccfg), 0);
    }

    /* a name is not an IP: cert with only DNS:localhost, client asks for 127.0.0.1 */
    {
        h_pki dnsonly;
        h_pki_make_ex(&dnsonly, "mojo-tls test CA", "localhost", "localhost", 0, 30);
        mojo_tls_config *scfg = h_server_config(&dnsonly), *ccfg = client_cfg(&dnsonly);
        server_start(scfg);
        expect_verify_fail("IP not in SANs", ccfg, "127.0.0.1",
                           "host name \"127.0.0.1\" (checked subjectAltName entries: DNS:localhost)", NULL);
        server_start(scfg); /* control: the DNS name is fine */
        mojo_tls_conn *c = expect_ok("DNS name in SANs", ccfg, "localhost");
        CHECK_RC(mojo_tls_conn_free(c), 0);
        server_join();
        CHECK_RC(mojo_tls_config_free(scfg), 0);
        CHECK_RC(mojo_tls_config_free(ccfg), 0);
        h_pki_free(&dnsonly);
    }

    /* no SANs at all: the CN is what was checked */
    {
        h_pki nosan;
        h_pki_make_ex(&nosan, "mojo-tls test CA", "legacy.example", "", 0, 30);
        mojo_tls_config *scfg = h_server_config(&nosan), *ccfg = client_cfg(&nosan);
        server_start(scfg);
        expect_verify_fail("no SANs, CN mismatch", ccfg, "localhost",
                           "host name \"localhost\" (no subjectAltName; checked CN \"legacy.example\")", NULL);
        CHECK_RC(mojo_tls_config_free(scfg), 0);
        CHECK_RC(mojo_tls_config_free(ccfg), 0);
        h_pki_free(&nosan);
    }

    /* expired (-30 days, valid 10) and not yet valid (+10 days) */
    {
        mojo_tls_config *scfg = h_server_config(&expired), *ccfg = client_cfg(&expired);
        server_start(scfg);
        expect_verify_fail("expired", ccfg, "localhost", "expired", NULL);
        server_start(scfg);
        expect_verify_fail_fd("expired (fd)", ccfg, "localhost", "expired", NULL);
        CHECK_RC(mojo_tls_config_free(scfg), 0);
        CHECK_RC(mojo_tls_config_free(ccfg), 0);

        scfg = h_server_config(&future);
        ccfg = client_cfg(&future);
        server_start(scfg);
        expect_verify_fail("not yet valid", ccfg, "localhost", "future", "not yet");
        CHECK_RC(mojo_tls_config_free(scfg), 0);
        CHECK_RC(mojo_tls_config_free(ccfg), 0);
    }

    /* memory mode, client without a server name while host name checking is
     * on: must be refused up front or fail the handshake, never succeed */
    {
        mojo_tls_config *scfg = h_server_config(&good), *ccfg = client_cfg(&good);
        mojo_tls_clear_error();
        mojo_tls_conn *c = mojo_tls_conn_new_memory(ccfg, NULL);
        if (c == NULL) {
            CHECK_EQ(mojo_tls_last_error_code(), MOJO_TLS_ERR_INVALID_ARGUMENT);
        } else {
            mojo_tls_conn *s = mojo_tls_conn_new_memory(scfg, NULL);
            REQUIRE_NONNULL(s);
            int rc_c = MOJO_TLS_ERR_WANT_READ;
            unsigned char buf[20000];
            for (int i = 0; i < 20; i++) {
                rc_c = mojo_tls_conn_handshake(c);
                intptr_t n;
                while ((n = mojo_tls_conn_drain(c, buf, sizeof buf)) > 0) mojo_tls_conn_feed(s, buf, (size_t)n);
                (void)mojo_tls_conn_handshake(s); /* server outcome irrelevant here */
                while ((n = mojo_tls_conn_drain(s, buf, sizeof buf)) > 0) mojo_tls_conn_feed(c, buf, (size_t)n);
                if (rc_c != MOJO_TLS_ERR_WANT_READ && rc_c != MOJO_TLS_ERR_WANT_WRITE) break;
            }
            CHECK_MSG(rc_c < 0 && rc_c != MOJO_TLS_ERR_WANT_READ && rc_c != MOJO_TLS_ERR_WANT_WRITE,
                      "client with no server name and host name checking on: handshake %d (%s)", rc_c,
                      h_code_name(rc_c));
            CHECK_RC(mojo_tls_conn_free(s), 0);
            CHECK_RC(mojo_tls_conn_free(c), 0);
        }
        CHECK_RC(mojo_tls_config_free(scfg), 0);
        CHECK_RC(mojo_tls_config_free(ccfg), 0);
    }

    h_pki_free(&good);
    h_pki_free(&other);
    h_pki_free(&wrongname);
    h_pki_free(&expired);
    h_pki_free(&future);
    return h_finish();
}
