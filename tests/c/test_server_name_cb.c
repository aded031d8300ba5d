/* The server name callback (mojo_tls_config_set_server_name_callback,
 * mojo_tls_conn_use_config; docs/features/sni-alpn.md): it sees the
 * client's name (NULL without SNI) once per handshake, on the accepting
 * thread, with the connection's handle before mojo_tls_conn_new_accept has
 * returned it; use_config switches the certificate and the client-auth
 * settings; a refusal ends the handshake with the chosen alert on both
 * sides; other calls on the connection inside the callback and use_config
 * outside it are refused with BAD_STATE. TLS 1.2 and 1.3. */
#include "features.h"

static f_cert ca, dflt, alt, client;

typedef struct {
    int calls;
    char name[256];  /* "" when the callback got NULL */
    int got_null;
    mojo_tls_conn *conn;
    const char *switch_for; /* switch to `target` for this name */
    mojo_tls_config *target;
    int32_t use_rc;     /* mojo_tls_conn_use_config's result */
    int32_t version_rc; /* mojo_tls_conn_version inside the callback */
    int32_t ret;        /* what the callback returns */
} cb_state;

static int32_t on_name(void *userdata, mojo_tls_conn *conn, const char *name) {
    cb_state *st = userdata;
    st->calls++;
    st->conn = conn;
    st->got_null = name == NULL;
    snprintf(st->name, sizeof st->name, "%s", name ? name : "");
    st->version_rc = mojo_tls_conn_version(conn);
    if (st->switch_for && name && strcmp(name, st->switch_for) == 0) st->use_rc = mojo_tls_conn_use_config(conn, st->target);
    return st->ret;
}

static void reset(cb_state *st) {
    memset(st, 0, sizeof *st);
    st->use_rc = 1; /* "not called" */
}

static void subject_is(mojo_tls_conn *c, const char *cn, const char *label) {
    char sub[256], want[300];
    CHECK_OK(mojo_tls_conn_peer_cert_subject(c, sub, sizeof sub));
    snprintf(want, sizeof want, "CN=%s", cn);
    CHECK_MSG(strcmp(sub, want) == 0, "%s: client got \"%s\", expected \"%s\"", label, sub, want);
}

static void run_version(int32_t version) {
    const char *v = version == MOJO_TLS_VERSION_TLS1_2 ? "TLS 1.2" : "TLS 1.3";
    printf("  %s\n", v);
    cb_state st;
    mojo_tls_config *scfg = f_server_cfg(&dflt);
    REQUIRE_RC(mojo_tls_config_set_server_name_callback(scfg, on_name, &st), 0);
    mojo_tls_config *other = f_server_cfg(&alt);
    mojo_tls_config *ccfg = f_client_cfg(&ca);
    REQUIRE_RC(mojo_tls_config_set_max_version(ccfg, version), 0);
    mojo_tls_config *skip = f_client_cfg(&ca);
    REQUIRE_RC(mojo_tls_config_set_max_version(skip, version), 0);
    REQUIRE_RC(mojo_tls_config_insecure_skip_hostname_check(skip, 1), 0);
    f_srv s;
    f_cli cli;

    /* the callback sees the name and the connection; continuing keeps the certificate */
    reset(&st);
    mojo_tls_conn *c = f_run(&s, scfg, ccfg, "default.example", NULL, 0, &cli);
    F_EXPECT_OK("continue", c, s, cli);
    if (c) subject_is(c, "default.example", "continue");
    f_end(&s, c);
    F_EXPECT_SERVER_OK("continue", s);
    CHECK_EQ(st.calls, 1);
    CHECK_MSG(strcmp(st.name, "default.example") == 0, "callback got \"%s\"", st.name);
    CHECK_MSG(st.conn != NULL, "callback got no connection");
    /* no other call on the connection inside its callback (its handshake holds it) */
    CHECK_EQ(st.version_rc, MOJO_TLS_ERR_BAD_STATE);
    CHECK_EQ(s.version, version);

    /* switching configurations changes the certificate the client sees */
    reset(&st);
    st.switch_for = "alt.example";
    st.target = other;
    c = f_run(&s, scfg, ccfg, "alt.example", NULL, 0, &cli);
    F_EXPECT_OK("switch", c, s, cli);
    if (c) subject_is(c, "alt.example", "switch");
    f_end(&s, c);
    F_EXPECT_SERVER_OK("switch", s);
    CHECK_EQ(st.use_rc, 0);
    CHECK_MSG(strcmp(s.sni, "alt.example") == 0, "server reports \"%s\"", s.sni);

    /* without SNI the callback runs with NULL */
    reset(&st);
    c = f_run(&s, scfg, skip, NULL, NULL, 0, &cli);
    F_EXPECT_OK("no SNI", c, s, cli);
    f_end(&s, c);
    CHECK_EQ(st.calls, 1);
    CHECK_EQ(st.got_null, 1);

    /* a refusal: the client gets the alert, the server names it */
    reset(&st);
    st.ret = 112;
    c = f_run(&s, scfg, ccfg, "default.example", NULL, 0, &cli);
    CHECK_MSG(c == NULL, "refused handshake succeeded");
    f_end(&s, c);
    CHECK_EQ(s.ok, 0);
    CHECK_EQ(s.code, MOJO_TLS_ERR_HANDSHAKE);
    CHECK_CONTAINS_CI(s.msg, "unrecognized_name");
    CHECK_EQ(cli.code, MOJO_TLS_ERR_HANDSHAKE);
    CHECK_CONTAINS_CI(cli.msg, "unrecognized_name");

    /* a value that is no alert: internal_error */
    reset(&st);
    st.ret = 1000;
    c = f_run(&s, scfg, ccfg, "default.example", NULL, 0, &cli);
    CHECK_MSG(c == NULL, "handshake with a bad callback result succeeded");
    f_end(&s, c);
    CHECK_EQ(s.code, MOJO_TLS_ERR_HANDSHAKE);
    CHECK_CONTAINS_CI(s.msg, "returned 1000");
    CHECK_CONTAINS_CI(cli.msg, "internal_error");

    /* the switch takes the client-auth settings too: `mtls` requires a client certificate */
    mojo_tls_config *mtls = f_server_cfg(&alt);
    REQUIRE_RC(mojo_tls_config_add_ca_mem(mtls, U8(ca.cert), ca.cert_len), 0);
    REQUIRE_RC(mojo_tls_config_set_client_auth(mtls, MOJO_TLS_CLIENT_AUTH_REQUIRED), 0);
    reset(&st);
    st.switch_for = "alt.example";
    st.target = mtls;
    {
        /* not f_client: on TLS 1.3 the client's handshake completes and its
         * first read carries the server's verdict */
        f_srv_start(&s, scfg);
        mojo_tls_conn *raw = mojo_tls_conn_new_fd(ccfg, h_tcp_connect(s.port), 1, "alt.example");
        REQUIRE_NONNULL(raw);
        CHECK_RC(mojo_tls_conn_set_timeout(raw, h_io_timeout_ms()), 0);
        if (mojo_tls_conn_handshake(raw) == 0) {
            unsigned char b[16];
            CHECK_MSG(mojo_tls_conn_read(raw, b, sizeof b) < 0, "read after a rejected handshake");
        }
        CHECK_RC(mojo_tls_conn_free(raw), 0);
        f_end(&s, NULL);
        CHECK_MSG(!s.ok, "server accepted a client without certificate after switching to mTLS");
        CHECK_CONTAINS_CI(s.msg, "no certificate");
        CHECK_EQ(st.use_rc, 0);
    }
    mojo_tls_config *with_cert = f_client_cfg(&ca);
    REQUIRE_RC(mojo_tls_config_set_max_version(with_cert, version), 0);
    REQUIRE_RC(f_add_cert(with_cert, &client), 0);
    reset(&st);
    st.switch_for = "alt.example";
    st.target = mtls;
    c = f_run(&s, scfg, with_cert, "alt.example", NULL, 0, &cli);
    F_EXPECT_OK("mTLS switch", c, s, cli);
    f_end(&s, c);
    F_EXPECT_SERVER_OK("mTLS switch", s);
    CHECK_MSG(strstr(s.subject, "client.example") != NULL, "server saw client certificate \"%s\"", s.subject);
    /* the switched-to config may be freed while connections use it */
    CHECK_RC(mojo_tls_config_free(mtls), 0);

    /* switching to a client configuration is refused: the handshake goes on unchanged */
    reset(&st);
    st.switch_for = "default.example";
    st.target = ccfg;
    c = f_run(&s, scfg, ccfg, "default.example", NULL, 0, &cli);
    F_EXPECT_OK("client config", c, s, cli);
    f_end(&s, c);
    CHECK_EQ(st.use_rc, MOJO_TLS_ERR_INVALID_ARGUMENT);

    CHECK_RC(mojo_tls_config_free(with_cert), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
    CHECK_RC(mojo_tls_config_free(other), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(skip), 0);
}

static void test_outside_the_callback(void) {
    mojo_tls_config *scfg = f_server_cfg(&dflt);
    mojo_tls_conn *c = mojo_tls_conn_new_memory(scfg, NULL);
    REQUIRE_NONNULL(c);
    CHECK_RC(mojo_tls_conn_use_config(c, scfg), MOJO_TLS_ERR_BAD_STATE);
    CHECK_RC(mojo_tls_conn_use_config(NULL, scfg), MOJO_TLS_ERR_INVALID_HANDLE);
    CHECK_RC(mojo_tls_conn_free(c), 0);
    mojo_tls_config *ccfg = f_client_cfg(&ca);
    CHECK_RC(mojo_tls_config_set_server_name_callback(ccfg, on_name, NULL), MOJO_TLS_ERR_BAD_STATE);
    /* removing it again */
    CHECK_RC(mojo_tls_config_set_server_name_callback(scfg, on_name, NULL), 0);
    CHECK_RC(mojo_tls_config_set_server_name_callback(scfg, NULL, NULL), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
}

int main(void) {
    h_start("test_server_name_cb", 240);
    ca = f_ca("sni-cb CA", MOJO_TLS_KEY_ECDSA_P256);
    dflt = f_leaf(&ca, "default.example", "default.example", MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256);
    alt = f_leaf(&ca, "alt.example", "alt.example", MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256);
    client = f_leaf(&ca, "client.example", "client.example", MOJO_TLS_USAGE_CLIENT, MOJO_TLS_KEY_ECDSA_P256);
    run_version(MOJO_TLS_VERSION_TLS1_3);
    run_version(MOJO_TLS_VERSION_TLS1_2);
    test_outside_the_callback();
    f_cert_free(&ca);
    f_cert_free(&dflt);
    f_cert_free(&alt);
    f_cert_free(&client);
    return h_finish();
}
