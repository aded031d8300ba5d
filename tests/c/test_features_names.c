/* What gets negotiated (docs/features/sni-alpn.md, suites.md): SNI
 * certificate selection with several add_cert_* on one server and
 * mojo_tls_conn_server_name on both sides; ALPN (preference, no overlap ->
 * no_application_protocol, none configured); cipher suite and group
 * selection as reported by mojo_tls_conn_cipher, and the refusals of
 * unknown / weak names. tests/interop/features.py checks the same against
 * openssl on the wire. */
#include "features.h"

static f_cert ca, one, two, p384;

/* ---------------------------------------------------------------- SNI */

/* connect as `name`; expect certificate CN `cn` and the server to report
 * `server_sni` ("" = none) */
static void sni_case(mojo_tls_config *scfg, mojo_tls_config *ccfg, const char *name, const char *cn,
                     const char *server_sni) {
    f_srv s;
    f_cli cli;
    mojo_tls_conn *c = f_run(&s, scfg, ccfg, name, NULL, 0, &cli);
    F_EXPECT_OK(name, c, s, cli);
    if (c) {
        char sub[256], sent[256];
        CHECK_OK(mojo_tls_conn_peer_cert_subject(c, sub, sizeof sub));
        char want[300];
        snprintf(want, sizeof want, "CN=%s", cn);
        CHECK_MSG(strcmp(sub, want) == 0, "SNI %s: client got certificate \"%s\", expected \"%s\"", name, sub, want);
        /* the client reports the name it sent */
        intptr_t n = mojo_tls_conn_server_name(c, sent, sizeof sent);
        CHECK_EQ(n, (intptr_t)strlen(server_sni));
        CHECK_MSG(strcmp(sent, server_sni) == 0, "SNI %s: client says it sent \"%s\"", name, sent);
        printf("  SNI %-18s -> %s\n", name, sub);
    }
    f_end(&s, c);
    F_EXPECT_SERVER_OK(name, s);
    CHECK_MSG(strcmp(s.sni, server_sni) == 0, "SNI %s: server reports \"%s\", expected \"%s\"", name, s.sni,
              server_sni);
}

static void test_sni(void) {
    mojo_tls_config *scfg = f_server_cfg(&one); /* first pair: the fallback */
    CHECK_RC(f_add_cert(scfg, &two), 0);
    mojo_tls_config *ccfg = f_client_cfg(&ca);

    sni_case(scfg, ccfg, "one.example", "one.example", "one.example");
    sni_case(scfg, ccfg, "two.example", "two.example", "two.example");
    sni_case(scfg, ccfg, "www.two.example", "two.example", "www.two.example"); /* *.two.example */
    sni_case(scfg, ccfg, "TWO.EXAMPLE", "two.example", "TWO.EXAMPLE");         /* DNS names are case-insensitive */

    /* no match: the first pair, which then fails the client's host name check */
    {
        f_srv s;
        f_cli cli;
        mojo_tls_conn *c = f_run(&s, scfg, ccfg, "unknown.example", NULL, 0, &cli);
        CHECK_MSG(c == NULL, "unknown.example: connected with a certificate for another name");
        f_end(&s, c);
        CHECK_EQ(cli.code, MOJO_TLS_ERR_VERIFY_FAILED);
        CHECK_CONTAINS_CI(cli.msg, "host name \"unknown.example\" (checked subjectAltName entries: DNS:one.example");
        /* the wildcard covers one label only: a.b.two.example does not match */
        c = f_run(&s, scfg, ccfg, "a.b.two.example", NULL, 0, &cli);
        CHECK_MSG(c == NULL, "a.b.two.example matched *.two.example");
        f_end(&s, c);
        CHECK_EQ(cli.code, MOJO_TLS_ERR_VERIFY_FAILED);
    }
    mojo_tls_config *skip = f_client_cfg(&ca);
    CHECK_RC(mojo_tls_config_insecure_skip_hostname_check(skip, 1), 0);
    sni_case(scfg, skip, "unknown.example", "one.example", "unknown.example");
    sni_case(scfg, skip, "a.b.two.example", "one.example", "a.b.two.example");
    /* an IP literal is not sent as SNI: first pair, no name on either side */
    sni_case(scfg, skip, "127.0.0.1", "one.example", "");
    /* no name at all (host name checking off) */
    sni_case(scfg, skip, NULL, "one.example", "");

    /* order matters: with two first, two is the fallback */
    mojo_tls_config *rev = f_server_cfg(&two);
    CHECK_RC(f_add_cert(rev, &one), 0);
    sni_case(rev, skip, "unknown.example", "two.example", "unknown.example");
    sni_case(rev, ccfg, "one.example", "one.example", "one.example");

    /* snprintf-style: size query and truncation on the client side */
    {
        f_srv s;
        f_cli cli;
        mojo_tls_conn *c = f_run(&s, scfg, ccfg, "www.two.example", NULL, 0, &cli);
        REQUIRE_NONNULL(c);
        char small[4] = "zzz";
        CHECK_EQ(mojo_tls_conn_server_name(c, NULL, 0), 15);
        CHECK_EQ(mojo_tls_conn_server_name(c, small, sizeof small), 15);
        CHECK(strcmp(small, "www") == 0);
        f_end(&s, c);
    }
    CHECK_RC(mojo_tls_config_free(rev), 0);
    CHECK_RC(mojo_tls_config_free(skip), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
}

/* ---------------------------------------------------------------- ALPN */

/* server_alpn / client_alpn: NULL = not configured; want: NULL = failure */
static void alpn_case(const char *server_alpn, const char *client_alpn, const char *want) {
    char label[200];
    snprintf(label, sizeof label, "ALPN server [%s] client [%s]", server_alpn ? server_alpn : "-",
             client_alpn ? client_alpn : "-");
    mojo_tls_config *scfg = f_server_cfg(&one), *ccfg = f_client_cfg(&ca);
    if (server_alpn) CHECK_RC(mojo_tls_config_set_alpn(scfg, server_alpn), 0);
    if (client_alpn) CHECK_RC(mojo_tls_config_set_alpn(ccfg, client_alpn), 0);
    f_srv s;
    f_cli cli;
    mojo_tls_conn *c = f_run(&s, scfg, ccfg, "one.example", NULL, 0, &cli);
    if (want) {
        F_EXPECT_OK(label, c, s, cli);
        if (c) {
            char got[64] = "unset";
            intptr_t n = mojo_tls_conn_alpn(c, got, sizeof got);
            CHECK_MSG(n == (intptr_t)strlen(want) && strcmp(got, want) == 0,
                      "%s: client negotiated \"%s\" (%jd), expected \"%s\"", label, got, (intmax_t)n, want);
        }
        f_end(&s, c);
        F_EXPECT_SERVER_OK(label, s);
        CHECK_MSG(strcmp(s.alpn, want) == 0, "%s: server negotiated \"%s\", expected \"%s\"", label, s.alpn, want);
        printf("  %-50s -> \"%s\"\n", label, want);
    } else {
        CHECK_MSG(c == NULL, "%s: handshake succeeded", label);
        f_end(&s, c);
        printf("  %-50s -> client %s: %s\n", label, h_code_name(cli.code), cli.msg);
        CHECK_MSG(cli.code == MOJO_TLS_ERR_HANDSHAKE, "%s: client code %s", label, h_code_name(cli.code));
        CHECK_CONTAINS_CI(cli.msg, "no_application_protocol");
        CHECK_CONTAINS_CI(cli.msg, "no ALPN protocol in common");
        CHECK_MSG(!s.ok && s.code == MOJO_TLS_ERR_HANDSHAKE, "%s: server code %s", label, h_code_name(s.code));
    }
    CHECK_RC(mojo_tls_config_free(scfg), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
}

static void test_alpn(void) {
    alpn_case("h2,http/1.1", "http/1.1", "http/1.1");
    alpn_case("h2,http/1.1", "h2,http/1.1", "h2");
    alpn_case("http/1.1,h2", "h2,http/1.1", "http/1.1"); /* the server's preference decides */
    alpn_case("h2,http/1.1", "imap,h2", "h2");
    alpn_case("h2,http/1.1", "imap", NULL);               /* no overlap: no_application_protocol */
    alpn_case("h2", NULL, "");                            /* client offers nothing */
    alpn_case(NULL, "h2,http/1.1", "");                   /* server ignores the client's list */
    alpn_case(NULL, NULL, "");

    /* snprintf-style result */
    mojo_tls_config *scfg = f_server_cfg(&one), *ccfg = f_client_cfg(&ca);
    CHECK_RC(mojo_tls_config_set_alpn(scfg, "http/1.1"), 0);
    CHECK_RC(mojo_tls_config_set_alpn(ccfg, "http/1.1"), 0);
    f_srv s;
    f_cli cli;
    mojo_tls_conn *c = f_run(&s, scfg, ccfg, "one.example", NULL, 0, &cli);
    REQUIRE_NONNULL(c);
    char small[5] = "zzzz";
    CHECK_EQ(mojo_tls_conn_alpn(c, NULL, 0), 8);
    CHECK_EQ(mojo_tls_conn_alpn(c, small, sizeof small), 8);
    CHECK(strcmp(small, "http") == 0);
    f_end(&s, c);
    /* before the handshake / on a bad handle */
    CHECK(mojo_tls_conn_alpn(NULL, small, sizeof small) == MOJO_TLS_ERR_INVALID_HANDLE);
    CHECK_RC(mojo_tls_config_set_alpn(ccfg, NULL), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
}

/* ---------------------------------------------------------------- suites and groups */

/* Mbed TLS 4.x: its TLS 1.2 server no longer skips an ECDSA certificate on a
 * curve the client did not offer (4.0/4.1 compare a PSA algorithm with a PK
 * type there), so the client is the one refusing that certificate. */
static int mbedtls4;

/* TLS 1.3 suites have no key exchange / signature in their name */
static int is_tls13_suite(const char *name) {
    return !strncmp(name, "TLS_AES_", 8) || !strncmp(name, "TLS_CHACHA20_", 13);
}

/* expect `want` as the negotiated suite on both sides (and the version it
 * implies), or failure when NULL. max_version: 0 = the default, else set on
 * both configurations. */
static void suite_case_fail(const f_cert *cert, const char *s_suites, const char *c_suites, const char *s_groups,
                            const char *c_groups, int max_version, const char *want, int client_fails_with) {
    char label[400];
    snprintf(label, sizeof label, "suites s[%s] c[%s] groups s[%s] c[%s]%s", s_suites ? s_suites : "-",
             c_suites ? c_suites : "-", s_groups ? s_groups : "-", c_groups ? c_groups : "-",
             max_version == MOJO_TLS_VERSION_TLS1_2 ? " max 1.2" : "");
    mojo_tls_config *scfg = f_server_cfg(cert), *ccfg = f_client_cfg(&ca);
    if (max_version) {
        CHECK_RC(mojo_tls_config_set_max_version(scfg, max_version), 0);
        CHECK_RC(mojo_tls_config_set_max_version(ccfg, max_version), 0);
    }
    if (s_suites) CHECK_RC(mojo_tls_config_set_ciphersuites(scfg, s_suites), 0);
    if (c_suites) CHECK_RC(mojo_tls_config_set_ciphersuites(ccfg, c_suites), 0);
    if (s_groups) CHECK_RC(mojo_tls_config_set_groups(scfg, s_groups), 0);
    if (c_groups) CHECK_RC(mojo_tls_config_set_groups(ccfg, c_groups), 0);
    f_srv s;
    f_cli cli;
    mojo_tls_conn *c = f_run(&s, scfg, ccfg, "localhost", NULL, 0, &cli);
    if (want) {
        int want_version = is_tls13_suite(want) ? MOJO_TLS_VERSION_TLS1_3 : MOJO_TLS_VERSION_TLS1_2;
        F_EXPECT_OK(label, c, s, cli);
        if (c) {
            const char *got = mojo_tls_conn_cipher(c);
            CHECK_MSG(got && strcmp(got, want) == 0, "%s: client cipher %s, expected %s", label, got ? got : "(null)",
                      want);
            CHECK_MSG(mojo_tls_conn_version(c) == want_version, "%s: client version %d, expected %d", label,
                      mojo_tls_conn_version(c), want_version);
        }
        f_end(&s, c);
        F_EXPECT_SERVER_OK(label, s);
        CHECK_MSG(strcmp(s.cipher, want) == 0, "%s: server cipher %s, expected %s", label, s.cipher, want);
        CHECK_MSG(!s.ok || s.version == want_version, "%s: server version %d, expected %d", label, s.version,
                  want_version);
        printf("  %-100s -> %s\n", label, want);
    } else {
        CHECK_MSG(c == NULL, "%s: handshake succeeded", label);
        f_end(&s, c);
        printf("  %-100s -> client %s, server %s\n", label, h_code_name(cli.code), h_code_name(s.code));
        CHECK_MSG(cli.code == client_fails_with, "%s: client code %s", label, h_code_name(cli.code));
        CHECK_MSG(!s.ok && s.code == MOJO_TLS_ERR_HANDSHAKE, "%s: server code %s", label, h_code_name(s.code));
    }
    CHECK_RC(mojo_tls_config_free(scfg), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
}

static void suite_case(const f_cert *cert, const char *s_suites, const char *c_suites, const char *s_groups,
                       const char *c_groups, int max_version, const char *want) {
    suite_case_fail(cert, s_suites, c_suites, s_groups, c_groups, max_version, want, MOJO_TLS_ERR_HANDSHAKE);
}

#define AES128 "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
#define AES256 "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
#define CHACHA "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
#define T13_AES128 "TLS_AES_128_GCM_SHA256"
#define T13_AES256 "TLS_AES_256_GCM_SHA384"
#define T13_CHACHA "TLS_CHACHA20_POLY1305_SHA256"
#define MAX12 MOJO_TLS_VERSION_TLS1_2

static void test_suites(void) {
    /* the documented default order: TLS 1.3 unless a side is capped at 1.2 */
    suite_case(&one, NULL, NULL, NULL, NULL, 0, T13_AES128);
    suite_case(&one, NULL, NULL, NULL, NULL, MAX12, AES128);
    /* a list of TLS 1.2 suites only caps that side at TLS 1.2 */
    suite_case(&one, CHACHA, NULL, NULL, NULL, 0, CHACHA);
    suite_case(&one, NULL, AES256, NULL, NULL, 0, AES256);
    suite_case(&one, AES256 ":" CHACHA, NULL, NULL, NULL, 0, AES256);
    /* both sides have an order: the server's decides (default AES128, AES256, CHACHA) */
    suite_case(&one, NULL, CHACHA "," AES256, NULL, NULL, 0, AES256);
    suite_case(&one, AES128, CHACHA, NULL, NULL, 0, NULL); /* nothing in common */
    /* an RSA suite only, with an ECDSA certificate: nothing usable */
    suite_case(&one, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", NULL, NULL, NULL, 0, NULL);

    /* groups: the cipher does not show the group, so check that a common
     * group is needed (openssl shows the group itself: tests/interop) */
    suite_case(&one, NULL, NULL, "x25519", "x25519,P-256", 0, T13_AES128);
    suite_case(&one, NULL, NULL, "x25519", "x25519,P-256", MAX12, AES128);
    suite_case(&one, NULL, NULL, "P-256", "secp256r1", 0, T13_AES128);
    suite_case(&one, NULL, NULL, "x25519", "secp256r1", 0, NULL); /* no common key-exchange group */
    suite_case(&one, NULL, NULL, "x25519", "secp256r1", MAX12, NULL);
    suite_case(&p384, NULL, NULL, "secp384r1", "P-384", 0, T13_AES128);
    suite_case(&p384, NULL, NULL, "secp384r1", "P-384", MAX12, AES128);
    /* TLS 1.2: a P-256 ECDSA certificate needs P-256 among the client's
     * groups (Mbed TLS 4.x: the server sends it anyway, the client refuses it) */
    suite_case_fail(&one, NULL, NULL, NULL, "x25519", MAX12, NULL,
                    mbedtls4 ? MOJO_TLS_ERR_VERIFY_FAILED : MOJO_TLS_ERR_HANDSHAKE);

    /* TLS 1.3: the certificate's curve is a signature algorithm, not a group */
    suite_case(&one, NULL, NULL, NULL, "x25519", 0, T13_AES128);
    /* TLS 1.3 suites */
    suite_case(&one, T13_CHACHA, NULL, NULL, NULL, 0, T13_CHACHA);
    suite_case(&one, NULL, T13_AES256, NULL, NULL, 0, T13_AES256);
    suite_case(&one, T13_AES256 ":" T13_CHACHA, NULL, NULL, NULL, 0, T13_AES256);
    suite_case(&one, T13_AES128, T13_CHACHA, NULL, NULL, 0, NULL); /* nothing in common */
    /* both sides have an order: with TLS 1.3 the client's decides (Mbed TLS
     * 3.x's TLS 1.3 server takes the first suite of the client's list
     * that it has), unlike TLS 1.2 above */
    suite_case(&one, NULL, T13_CHACHA "," T13_AES256, NULL, NULL, 0, T13_CHACHA);
    /* mixed lists: TLS 1.3 wins, each version takes its own suites */
    suite_case(&one, T13_CHACHA ":" AES256, NULL, NULL, NULL, 0, T13_CHACHA);
    suite_case(&one, T13_CHACHA ":" AES256, NULL, NULL, NULL, MAX12, AES256);
    /* only TLS 1.3 suites raise that side's minimum to TLS 1.3 */
    suite_case(&one, NULL, T13_AES128, NULL, NULL, 0, T13_AES128);
    {
        mojo_tls_config *scfg = f_server_cfg(&one), *ccfg = f_client_cfg(&ca);
        CHECK_RC(mojo_tls_config_set_max_version(scfg, MAX12), 0);
        CHECK_RC(mojo_tls_config_set_ciphersuites(ccfg, T13_AES128), 0);
        f_srv s;
        f_cli cli;
        mojo_tls_conn *c = f_run(&s, scfg, ccfg, "localhost", NULL, 0, &cli);
        CHECK_MSG(c == NULL, "client with TLS 1.3 suites only connected to a TLS 1.2 server");
        f_end(&s, c);
        printf("  %-100s -> client %s, server %s\n", "client TLS 1.3 suites only, server max 1.2",
               h_code_name(cli.code), h_code_name(s.code));
        CHECK_EQ(cli.code, MOJO_TLS_ERR_HANDSHAKE);
        CHECK_MSG(!s.ok && s.code == MOJO_TLS_ERR_HANDSHAKE, "server code %s", h_code_name(s.code));
        CHECK_RC(mojo_tls_config_free(scfg), 0);
        CHECK_RC(mojo_tls_config_free(ccfg), 0);
    }

    /* refused names */
    mojo_tls_config *cfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    REQUIRE_NONNULL(cfg);
    static const char *bad_suites[] = {
        "TLS_RSA_WITH_AES_128_GCM_SHA256",       /* static RSA key exchange */
        "TLS_RSA_WITH_AES_128_CBC_SHA",          /* static RSA, CBC */
        "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",   /* 3DES */
        "TLS_RSA_WITH_NULL_SHA256",              /* NULL cipher */
        "TLS_PSK_WITH_AES_128_GCM_SHA256",       /* PSK */
        "TLS_NOT_A_SUITE",
    };
    for (size_t i = 0; i < sizeof bad_suites / sizeof bad_suites[0]; i++) {
        mojo_tls_clear_error();
        CHECK_RC(mojo_tls_config_set_ciphersuites(cfg, bad_suites[i]), MOJO_TLS_ERR_INVALID_ARGUMENT);
        char msg[512];
        mojo_tls_last_error(msg, sizeof msg);
        CHECK_MSG(strstr(msg, bad_suites[i]) != NULL, "refusal of %s does not name it: \"%s\"", bad_suites[i], msg);
    }
    /* one bad name in a list refuses the list, naming the bad one */
    mojo_tls_clear_error();
    CHECK_RC(mojo_tls_config_set_ciphersuites(cfg, AES128 ":TLS_RSA_WITH_AES_128_CBC_SHA"),
             MOJO_TLS_ERR_INVALID_ARGUMENT);
    char msg[512];
    mojo_tls_last_error(msg, sizeof msg);
    CHECK_CONTAINS_CI(msg, "TLS_RSA_WITH_AES_128_CBC_SHA");
    CHECK_RC(mojo_tls_config_set_ciphersuites(cfg, ""), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_ciphersuites(cfg, NULL), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_ciphersuites(cfg, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"), 0);

    static const char *good_groups[] = {"x25519", "x448", "secp256r1", "P-256", "prime256v1", "secp384r1",
                                        "P-384", "secp521r1", "P-521", "x25519:secp384r1", "P-256,P-384"};
    for (size_t i = 0; i < sizeof good_groups / sizeof good_groups[0]; i++) {
        int rc = mojo_tls_config_set_groups(cfg, good_groups[i]);
        CHECK_MSG(rc == 0, "set_groups(\"%s\") = %d (%s)", good_groups[i], rc, h_code_name(rc));
    }
    CHECK_RC(mojo_tls_config_set_groups(cfg, "ffdhe2048x"), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_groups(cfg, "x25519,nope"), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_groups(cfg, NULL), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_free(cfg), 0);
}

int main(void) {
    h_start("test_features_names", 240);
    mbedtls4 = strncmp(mojo_tls_backend(), "Mbed TLS 4.", 11) == 0;
    ca = f_ca("names CA", MOJO_TLS_KEY_ECDSA_P256);
    one = f_leaf(&ca, "one.example", "one.example,localhost", MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256);
    two = f_leaf(&ca, "two.example", "two.example,*.two.example", MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256);
    p384 = f_leaf(&ca, "p384.example", "localhost", MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P384);
    test_sni();
    test_alpn();
    test_suites();
    f_cert_free(&ca);
    f_cert_free(&one);
    f_cert_free(&two);
    f_cert_free(&p384);
    return h_finish();
}
