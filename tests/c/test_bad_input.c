/* Bad input never crashes and always maps to the documented code:
 *  - every handle-taking function with NULL, freed, forged and wrong-type
 *    handles -> INVALID_HANDLE (constructors: NULL + last_error_code);
 *  - double close/free;
 *  - NULL buffers with a length, zero and SIZE_MAX lengths -> INVALID_ARGUMENT;
 *  - garbage / truncated PEM -> PARSE; encrypted keys with a wrong or missing
 *    password -> BAD_PASSWORD; non-UTF-8 names -> INVALID_ARGUMENT;
 *  - SSL 3.0 / TLS 1.0 / TLS 1.1 as versions -> UNSUPPORTED;
 *  - strerror and last_error semantics.
 * Run under valgrind by run.sh: "no crash" there also means no invalid access. */
#include "harness.h"

/* ---- fixed test material (an EC P-256 key, not a secret, generated with
 * the openssl CLI: a self-signed cert valid 100 years and the same key in
 * three password-protected forms, password "secret"). Fixed rather than
 * generated at run time so the test does not depend on the openssl CLI. */
static const char ENC_CERT[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBozCCAUmgAwIBAgIURF3VpwUtEhfOe3DG4I9N7zOlfSwwCgYIKoZIzj0EAwIw\n"
    "JjEkMCIGA1UEAwwbbW9qby10bHMgZW5jcnlwdGVkLWtleSB0ZXN0MCAXDTI2MTEy\n"
    "MjEyNTIxMVoYDzIxMjYxMDI5MTI1MjExWjAmMSQwIgYDVQQDDBttb2pvLXRscyBl\n"
    "bmNyeXB0ZWQta2V5IHRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARS31bF\n"
    "k3jROI8ig4Jqg2QD326FLa20UvpzfRhxGaLiNfVsdvVNhWdz/RkU+gblSsbybVag\n"
    "GqXkq3VseGotbnJ5o1MwUTAdBgNVHQ4EFgQU9jouyQn6RvyXa74+1FA2VjRBcYcw\n"
    "HwYDVR0jBBgwFoAU9jouyQn6RvyXa74+1FA2VjRBcYcwDwYDVR0TAQH/BAUwAwEB\n"
    "/zAKBggqhkjOPQQDAgNIADBFAiEAqvhF6FDH883RntewSKuIXldLiUsLCi2BMIVo\n"
    "QQKdkmsCICg1KPVZVSSBXEqqJckiV6Eo1Hxfix3sY51Y7ZDV/HIk\n"
    "-----END CERTIFICATE-----\n";
/* unencrypted PKCS#8 */
static const char PLAIN_KEY[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgMpJ4cZxJwpCHcBJ4\n"
    "OC1qQy8faBFPXxTw0QdwJQu2v/GhRANCAARS31bFk3jROI8ig4Jqg2QD326FLa20\n"
    "UvpzfRhxGaLiNfVsdvVNhWdz/RkU+gblSsbybVagGqXkq3VseGotbnJ5\n"
    "-----END PRIVATE KEY-----\n";
/* openssl pkey -traditional -aes256: legacy PEM encryption (DEK-Info) */
static const char KEY_TRAD_AES[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "Proc-Type: 4,ENCRYPTED\n"
    "DEK-Info: AES-256-CBC,B1423B693AA4EB2AB0D5D179C5317B68\n"
    "\n"
    "nsR+5X5jGNjKGq7pGSPD2AoYJVzrL1/WC02ugb8Ijb4ANbSmvsO6URIfchVEvXYX\n"
    "zpMTOJ92N9Q9c+U51KZKY4Q5c5A5WbWaGnDpDYVqRNjD7ldjFK7345n8VRepiNmK\n"
    "6I/eTbTnW04Vwc9tZDjlLjrVSFvUNGX8pl/jvpDBOSs=\n"
    "-----END EC PRIVATE KEY-----\n";
/* openssl pkcs8 -topk8 -v2 des3 -v2prf hmacWithSHA256: PKCS#8 PBES2, 3DES */
static const char KEY_P8_DES3[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHjME4GCSqGSIb3DQEFDTBBMCkGCSqGSIb3DQEFDDAcBAigCOqsVsfXkwICCAAw\n"
    "DAYIKoZIhvcNAgkFADAUBggqhkiG9w0DBwQIz21zZBfGuSUEgZD2+OA9c+yStumF\n"
    "nK5IOmB74a/k3ByfNcY5qAuBTgl4XJEoFGadAg9JeOOUUz2Nb/o56a+aqJV3KZLm\n"
    "S8gO58ru0ScZbp60kXOPSORHneIisyjO6PWPUyYg+POO0ENYSDRu0r3wa5VqdrvA\n"
    "MB75V90oW8TkTluuXkZwMFxLAwCtY12OOZxFWleExVTqbQLscqE=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
/* openssl pkey -aes256 (the OpenSSL 3 default): PKCS#8 PBES2, AES-256-CBC. */
static const char KEY_P8_AES[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjSC3BkNrnrAAICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEI05EhUtEl49dKf2TZ3v/9gEgZCD\n"
    "qjeyFkcPtnHO8Unwu1rwFNeOL11qlIhVLzmXOHm+DYYVnKqtaWqdbzdGhBKRs4i9\n"
    "6RjM08G1g6H/wztEa5BhibhxE56z6BabbDpKWl/mp4rlFQBptT87fHdjyYySo98D\n"
    "7Z6AnjrmAmA/zkxIXZQrHdficbK0p0i05Tp1ziX7i+3gTfqTWh5tISnf/TXNfhc=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

/* ------------------------------------------------------------------ */
/* bad handles                                                         */

#define BAD(expr)                                                                              \
    do {                                                                                       \
        mojo_tls_clear_error();                                                                \
        intmax_t r_ = (intmax_t)(expr);                                                        \
        int c_ = mojo_tls_last_error_code();                                                   \
        if (r_ != MOJO_TLS_ERR_INVALID_HANDLE)                                                 \
            h_fail(__FILE__, __LINE__, "[%s handle] %s: got %jd (%s), expected INVALID_HANDLE", \
                   what, #expr, r_, h_code_name(r_));                                          \
        else if (c_ != MOJO_TLS_ERR_INVALID_HANDLE)                                            \
            h_fail(__FILE__, __LINE__, "[%s handle] %s: last_error_code %d after failure",     \
                   what, #expr, c_);                                                           \
    } while (0)

#define BAD_NULLRET(expr)                                                                      \
    do {                                                                                       \
        mojo_tls_clear_error();                                                                \
        const void *p_ = (const void *)(expr);                                                 \
        int c_ = mojo_tls_last_error_code();                                                   \
        if (p_ != NULL || c_ != MOJO_TLS_ERR_INVALID_HANDLE)                                   \
            h_fail(__FILE__, __LINE__, "[%s handle] %s: got %p, last_error_code %d (%s), "     \
                   "expected NULL + INVALID_HANDLE", what, #expr, p_, c_, h_code_name(c_));    \
    } while (0)

static int g_lfd = -1, g_pair[2] = {-1, -1};

static void bad_conn(mojo_tls_conn *c, const char *what, int is_null) {
    char buf[64];
    uint8_t bin[64];
    int64_t a = 0, b = 0;
    BAD(mojo_tls_conn_handshake(c));
    BAD(mojo_tls_conn_read(c, bin, sizeof bin));
    BAD(mojo_tls_conn_write(c, U8("x"), 1));
    BAD(mojo_tls_conn_write_all(c, U8("x"), 1));
    BAD(mojo_tls_conn_pending(c));
    BAD(mojo_tls_conn_close_notify(c));
    BAD(mojo_tls_conn_set_timeout(c, 10));
    BAD(mojo_tls_conn_fd(c));
    BAD(mojo_tls_conn_feed(c, U8("x"), 1));
    BAD(mojo_tls_conn_feed_eof(c));
    BAD(mojo_tls_conn_drain(c, bin, sizeof bin));
    BAD(mojo_tls_conn_pending_output(c));
    BAD(mojo_tls_conn_version(c));
    BAD_NULLRET(mojo_tls_conn_version_name(c));
    BAD_NULLRET(mojo_tls_conn_cipher(c));
    BAD(mojo_tls_conn_alpn(c, buf, sizeof buf));
    BAD(mojo_tls_conn_peer_cert_der(c, (uint8_t *)buf, sizeof buf));
    BAD(mojo_tls_conn_peer_cert_pem(c, buf, sizeof buf));
    BAD(mojo_tls_conn_peer_cert_subject(c, buf, sizeof buf));
    BAD(mojo_tls_conn_peer_cert_issuer(c, buf, sizeof buf));
    BAD(mojo_tls_conn_peer_cert_sans(c, buf, sizeof buf));
    BAD(mojo_tls_conn_peer_cert_validity(c, &a, &b));
    BAD(mojo_tls_conn_peer_cert_sha256(c, (uint8_t *)buf, 32));
    BAD(mojo_tls_conn_verify_flags(c));
    BAD(mojo_tls_conn_verify_reason(c, buf, sizeof buf));
    BAD(mojo_tls_conn_close(c));
    if (is_null) CHECK_RC(mojo_tls_conn_free(c), 0); /* documented: NULL -> 0 */
    else BAD(mojo_tls_conn_free(c));
}

static void bad_config(mojo_tls_config *cfg, const char *what, int is_null) {
    BAD(mojo_tls_config_set_min_version(cfg, MOJO_TLS_VERSION_TLS1_2));
    BAD(mojo_tls_config_set_max_version(cfg, MOJO_TLS_VERSION_TLS1_2));
    BAD(mojo_tls_config_add_ca_system(cfg));
    BAD(mojo_tls_config_add_ca_file(cfg, "ca.pem"));
    BAD(mojo_tls_config_add_ca_dir(cfg, "."));
    BAD(mojo_tls_config_add_ca_mem(cfg, U8(ENC_CERT), strlen(ENC_CERT)));
    BAD(mojo_tls_config_add_cert_file(cfg, "cert.pem", "key.pem", NULL));
    BAD(mojo_tls_config_add_cert_mem(cfg, U8(ENC_CERT), strlen(ENC_CERT), U8(PLAIN_KEY), strlen(PLAIN_KEY), NULL));
    BAD(mojo_tls_config_set_alpn(cfg, "h2"));
    BAD(mojo_tls_config_set_ciphersuites(cfg, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"));
    BAD(mojo_tls_config_set_groups(cfg, "secp256r1"));
    BAD(mojo_tls_config_insecure_verify(cfg, MOJO_TLS_VERIFY_REQUIRED));
    BAD(mojo_tls_config_insecure_skip_hostname_check(cfg, 0));
    /* constructors taking a config: NULL + INVALID_HANDLE, nothing opened.
     * Targets are chosen so a library that skipped the check would fail
     * fast with some other code instead of hanging. */
    BAD_NULLRET(mojo_tls_conn_new_connect(cfg, "127.0.0.1", 1, 200));
    BAD_NULLRET(mojo_tls_conn_new_fd(cfg, g_pair[0], 0, "localhost"));
    BAD_NULLRET(mojo_tls_conn_new_memory(cfg, "localhost"));
    BAD_NULLRET(mojo_tls_conn_new_accept(cfg, g_lfd, 0));
    BAD_NULLRET(mojo_tls_conn_new_accept_no_handshake(cfg, g_lfd, 0));
    if (is_null) CHECK_RC(mojo_tls_config_free(cfg), 0); /* documented: NULL -> 0 */
    else BAD(mojo_tls_config_free(cfg));
}

static void bad_gencert(mojo_tls_gencert *g, const char *what, int is_null) {
    char buf[64];
    BAD(mojo_tls_gencert_cert_pem(g, buf, sizeof buf));
    BAD(mojo_tls_gencert_key_pem(g, buf, sizeof buf));
    if (!is_null) {
        /* NULL issuer means self-signed, so only non-NULL bad issuers apply */
        BAD_NULLRET(mojo_tls_gencert_new_leaf(g, "x", "localhost", 0, 1, MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256));
        BAD(mojo_tls_gencert_free(g));
    } else {
        /* the spec does not say; accept the free() convention or INVALID_HANDLE */
        int rc = mojo_tls_gencert_free(g);
        CHECK_MSG(rc == 0 || rc == MOJO_TLS_ERR_INVALID_HANDLE, "gencert_free(NULL) = %d", rc);
    }
}

static void test_bad_handles(void) {
    /* live handles of every type, created before any are freed so freed
     * addresses are not immediately recycled into live handles */
    mojo_tls_config *live_cfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    REQUIRE_NONNULL(live_cfg);
    REQUIRE_RC(mojo_tls_config_insecure_verify(live_cfg, MOJO_TLS_VERIFY_NONE), 0);
    mojo_tls_conn *live_conn = mojo_tls_conn_new_memory(live_cfg, "localhost");
    REQUIRE_NONNULL(live_conn);
    mojo_tls_gencert *live_gen = mojo_tls_gencert_new_ca("live", 1, MOJO_TLS_KEY_ECDSA_P256);
    REQUIRE_NONNULL(live_gen);

    mojo_tls_config *dead_cfg = mojo_tls_config_new(MOJO_TLS_ROLE_SERVER);
    REQUIRE_NONNULL(dead_cfg);
    mojo_tls_conn *dead_conn = mojo_tls_conn_new_memory(live_cfg, "localhost");
    REQUIRE_NONNULL(dead_conn);
    mojo_tls_gencert *dead_gen = mojo_tls_gencert_new_ca("dead", 1, MOJO_TLS_KEY_ECDSA_P256);
    REQUIRE_NONNULL(dead_gen);
    CHECK_RC(mojo_tls_conn_free(dead_conn), 0);
    CHECK_RC(mojo_tls_config_free(dead_cfg), 0);
    CHECK_RC(mojo_tls_gencert_free(dead_gen), 0);

    uint64_t stack_obj[16];
    memset(stack_obj, 0, sizeof stack_obj);
    void *heap_obj = calloc(1, 256);

    bad_conn(NULL, "NULL", 1);
    bad_conn(dead_conn, "freed", 0);
    bad_conn((mojo_tls_conn *)(uintptr_t)0x1234, "forged 0x1234", 0);
    bad_conn((mojo_tls_conn *)stack_obj, "stack pointer", 0);
    bad_conn((mojo_tls_conn *)heap_obj, "heap pointer", 0);
    bad_conn((mojo_tls_conn *)live_cfg, "config as conn", 0);
    bad_conn((mojo_tls_conn *)live_gen, "gencert as conn", 0);

    bad_config(NULL, "NULL", 1);
    bad_config(dead_cfg, "freed", 0);
    bad_config((mojo_tls_config *)(uintptr_t)0x1234, "forged 0x1234", 0);
    bad_config((mojo_tls_config *)stack_obj, "stack pointer", 0);
    bad_config((mojo_tls_config *)heap_obj, "heap pointer", 0);
    bad_config((mojo_tls_config *)live_gen, "gencert as config", 0);
    bad_config((mojo_tls_config *)live_conn, "conn as config", 0);

    bad_gencert(NULL, "NULL", 1);
    bad_gencert(dead_gen, "freed", 0);
    bad_gencert((mojo_tls_gencert *)(uintptr_t)0x1234, "forged 0x1234", 0);
    bad_gencert((mojo_tls_gencert *)stack_obj, "stack pointer", 0);
    bad_gencert((mojo_tls_gencert *)live_cfg, "config as gencert", 0);
    bad_gencert((mojo_tls_gencert *)live_conn, "conn as gencert", 0);

    /* nothing above wrote through our pointers */
    for (size_t i = 0; i < 16; i++) CHECK_EQ(stack_obj[i], 0);
    for (size_t i = 0; i < 256; i++) CHECK_EQ(((unsigned char *)heap_obj)[i], 0);
    free(heap_obj);

    /* the live handles survived all of that */
    CHECK_RC(mojo_tls_conn_handshake(live_conn), MOJO_TLS_ERR_WANT_READ);
    CHECK(mojo_tls_conn_pending_output(live_conn) > 0);
    char pem[16];
    CHECK(mojo_tls_gencert_cert_pem(live_gen, pem, sizeof pem) > 0);

    /* double close / double free */
    CHECK_RC(mojo_tls_conn_close(live_conn), 0);
    CHECK_RC(mojo_tls_conn_close(live_conn), 0);
    CHECK_RC(mojo_tls_conn_handshake(live_conn), MOJO_TLS_ERR_CLOSED);
    CHECK_RC(mojo_tls_conn_free(live_conn), 0);
    CHECK_RC(mojo_tls_conn_free(live_conn), MOJO_TLS_ERR_INVALID_HANDLE);
    CHECK_RC(mojo_tls_conn_close(live_conn), MOJO_TLS_ERR_INVALID_HANDLE);
    CHECK_RC(mojo_tls_gencert_free(live_gen), 0);
    CHECK_RC(mojo_tls_gencert_free(live_gen), MOJO_TLS_ERR_INVALID_HANDLE);

    /* a config freed while a connection made from it is alive: the
     * connection must stay usable (or fail cleanly), never touch freed memory */
    mojo_tls_conn *orphan = mojo_tls_conn_new_memory(live_cfg, "localhost");
    REQUIRE_NONNULL(orphan);
    CHECK_RC(mojo_tls_config_free(live_cfg), 0);
    CHECK_RC(mojo_tls_config_free(live_cfg), MOJO_TLS_ERR_INVALID_HANDLE);
    int rc = mojo_tls_conn_handshake(orphan);
    CHECK_MSG(rc == MOJO_TLS_ERR_WANT_READ || rc < 0, "handshake on orphaned conn: %d", rc);
    CHECK_RC(mojo_tls_conn_free(orphan), 0);
}

/* ------------------------------------------------------------------ */
/* bad arguments                                                       */

static void memory_pair_handshake(mojo_tls_conn *a, mojo_tls_conn *b) {
    unsigned char buf[20000];
    for (int i = 0; i < 20; i++) {
        int ra = mojo_tls_conn_handshake(a), rb = mojo_tls_conn_handshake(b);
        for (int k = 0; k < 2; k++) {
            mojo_tls_conn *from = k ? b : a, *to = k ? a : b;
            intptr_t n;
            while ((n = mojo_tls_conn_drain(from, buf, sizeof buf)) > 0)
                REQUIRE_RC(mojo_tls_conn_feed(to, buf, (size_t)n), n);
            REQUIRE_OK(n);
        }
        if (ra == 0 && rb == 0) return;
        if ((ra != 0 && ra != MOJO_TLS_ERR_WANT_READ && ra != MOJO_TLS_ERR_WANT_WRITE) ||
            (rb != 0 && rb != MOJO_TLS_ERR_WANT_READ && rb != MOJO_TLS_ERR_WANT_WRITE)) {
            h_fail(__FILE__, __LINE__, "memory handshake failed: %d / %d", ra, rb);
            h_abort();
        }
    }
    h_fail(__FILE__, __LINE__, "memory handshake did not finish");
    h_abort();
}

static void test_bad_arguments(void) {
    h_pki pki;
    h_pki_make(&pki);
    mojo_tls_config *scfg = h_server_config(&pki);
    mojo_tls_config *ccfg = h_client_config(pki.ca_pem, pki.ca_pem_len);
    mojo_tls_config *cfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    REQUIRE_NONNULL(cfg);
    char buf[256];
    uint8_t out[32], bin[256];

    /* config values */
    CHECK_NULL_CODE(mojo_tls_config_new(7), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_NULL_CODE(mojo_tls_config_new(-1), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_min_version(cfg, 12345), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_max_version(cfg, -1), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_insecure_verify(cfg, 7), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_min_version(cfg, MOJO_TLS_VERSION_TLS1_2), 0);
    CHECK_RC(mojo_tls_config_set_min_version(cfg, MOJO_TLS_VERSION_TLS1_3), 0);
    CHECK_RC(mojo_tls_config_set_min_version(cfg, 0x0301), MOJO_TLS_ERR_UNSUPPORTED); /* TLS 1.0 */
    CHECK_RC(mojo_tls_config_set_max_version(cfg, 0x0302), MOJO_TLS_ERR_UNSUPPORTED); /* TLS 1.1 */

    /* strings / paths */
    CHECK_RC(mojo_tls_config_add_ca_file(cfg, NULL), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_ca_dir(cfg, NULL), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_ca_file(cfg, "does-not-exist/ca.pem"), MOJO_TLS_ERR_NOT_FOUND);
    CHECK_RC(mojo_tls_config_add_ca_dir(cfg, "does-not-exist/certs"), MOJO_TLS_ERR_NOT_FOUND);
    CHECK_RC(mojo_tls_config_add_cert_file(cfg, NULL, "k.pem", NULL), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_cert_file(cfg, "c.pem", NULL, NULL), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_cert_file(cfg, "does-not-exist/c.pem", "does-not-exist/k.pem", NULL),
             MOJO_TLS_ERR_NOT_FOUND);
    CHECK_RC(mojo_tls_config_set_ciphersuites(cfg, NULL), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_groups(cfg, NULL), MOJO_TLS_ERR_INVALID_ARGUMENT);
    {
        char longproto[300];
        memset(longproto, 'a', sizeof longproto - 1);
        longproto[sizeof longproto - 1] = '\0';
        /* an ALPN protocol name is at most 255 bytes on the wire */
        CHECK_RC(mojo_tls_config_set_alpn(cfg, longproto), MOJO_TLS_ERR_INVALID_ARGUMENT);
    }
    {
        int rc = mojo_tls_config_set_ciphersuites(cfg, "TLS_NOT_A_REAL_CIPHER_SUITE");
        CHECK_MSG(rc == MOJO_TLS_ERR_INVALID_ARGUMENT || rc == MOJO_TLS_ERR_UNSUPPORTED,
                  "unknown cipher suite name: %d (%s)", rc, h_code_name(rc));
        rc = mojo_tls_config_set_groups(cfg, "not-a-group");
        CHECK_MSG(rc == MOJO_TLS_ERR_INVALID_ARGUMENT || rc == MOJO_TLS_ERR_UNSUPPORTED,
                  "unknown group name: %d (%s)", rc, h_code_name(rc));
    }

    /* non-UTF-8 names */
    CHECK_NULL_CODE(mojo_tls_conn_new_connect(ccfg, "\xff\xfe", 443, 200), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_NULL_CODE(mojo_tls_conn_new_connect(ccfg, "local\xc3\x28host", 443, 200), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_NULL_CODE(mojo_tls_conn_new_connect(ccfg, NULL, 443, 200), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_NULL_CODE(mojo_tls_conn_new_memory(ccfg, "\xc3\x28"), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_NULL_CODE(mojo_tls_conn_new_fd(ccfg, g_pair[0], 0, "\xff"), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_socket_listen("\xff\xfe", 0, 4), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_NULL_CODE(mojo_tls_gencert_new_ca("\xff", 1, MOJO_TLS_KEY_ECDSA_P256), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_NULL_CODE(mojo_tls_gencert_new_leaf(NULL, "ok", "local\xffhost", 0, 1, MOJO_TLS_USAGE_SERVER,
                                          MOJO_TLS_KEY_ECDSA_P256),
                    MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_alpn(cfg, "h2,\xff"), MOJO_TLS_ERR_INVALID_ARGUMENT);

    /* gencert arguments */
    CHECK_NULL_CODE(mojo_tls_gencert_new_ca(NULL, 1, MOJO_TLS_KEY_ECDSA_P256), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_NULL_CODE(mojo_tls_gencert_new_ca("ca", 1, 99), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_NULL_CODE(mojo_tls_gencert_new_ca("ca", -5, MOJO_TLS_KEY_ECDSA_P256), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_gencert_cert_pem(pki.ca, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_gencert_key_pem(pki.ca, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
    /* P-384 is in the API: make sure it works end to end enough to print */
    {
        mojo_tls_gencert *g = mojo_tls_gencert_new_leaf(NULL, "p384", "localhost", 0, 1, MOJO_TLS_USAGE_SERVER,
                                                    MOJO_TLS_KEY_ECDSA_P384);
        REQUIRE_NONNULL(g);
        size_t kl = 0;
        char *k = h_gencert_pem(g, 1, &kl);
        CHECK(kl > 0);
        free(k);
        CHECK_RC(mojo_tls_gencert_free(g), 0);
    }

    /* buffers: NULL with a length, zero, SIZE_MAX */
    CHECK_RC(mojo_tls_config_add_ca_mem(cfg, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_ca_mem(cfg, U8(pki.ca_pem), 0), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_ca_mem(cfg, U8(pki.ca_pem), SIZE_MAX), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_cert_mem(cfg, NULL, 10, U8(PLAIN_KEY), strlen(PLAIN_KEY), NULL),
             MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_cert_mem(cfg, U8(ENC_CERT), strlen(ENC_CERT), NULL, 10, NULL),
             MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_cert_mem(cfg, U8(ENC_CERT), 0, U8(PLAIN_KEY), strlen(PLAIN_KEY), NULL),
             MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_cert_mem(cfg, U8(ENC_CERT), strlen(ENC_CERT), U8(PLAIN_KEY), 0, NULL),
             MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_cert_mem(cfg, U8(ENC_CERT), SIZE_MAX, U8(PLAIN_KEY), strlen(PLAIN_KEY), NULL),
             MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_cert_mem(cfg, U8(ENC_CERT), strlen(ENC_CERT), U8(PLAIN_KEY), SIZE_MAX, NULL),
             MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_random(NULL, 16), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_random(out, SIZE_MAX), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_random(out, 0), 0);
    CHECK_RC(mojo_tls_sha256(NULL, 5, out, 32), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_sha256(U8("abc"), 3, NULL, 32), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_sha256(U8("abc"), SIZE_MAX, out, 32), MOJO_TLS_ERR_INVALID_ARGUMENT);
    {
        static const uint8_t abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                                        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                                        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
        static const uint8_t empty[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
                                          0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
                                          0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
        CHECK_RC(mojo_tls_sha256(U8("abc"), 3, out, 32), 32);
        CHECK_RC(mojo_tls_sha256(U8("abc"), 3, NULL, 0), 32); /* size query */
        CHECK_RC(mojo_tls_sha256(U8("abc"), 3, out, SIZE_MAX), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK(memcmp(out, abc, 32) == 0);
        CHECK_RC(mojo_tls_sha256(U8(""), 0, out, 32), 32);
        CHECK(memcmp(out, empty, 32) == 0);
        CHECK_RC(mojo_tls_sha256(NULL, 0, out, 32), 32); /* NULL is fine with length 0 */
        CHECK(memcmp(out, empty, 32) == 0);
        uint8_t r1[32], r2[32];
        CHECK_RC(mojo_tls_random(r1, 32), (intptr_t)(32));
        CHECK_RC(mojo_tls_random(r2, 32), (intptr_t)(32));
        CHECK(memcmp(r1, r2, 32) != 0);
    }

    /* fds */
    CHECK(mojo_tls_socket_port(-1) < 0);
    CHECK(mojo_tls_socket_close(-1) < 0);
    CHECK_NULL_CODE(mojo_tls_conn_new_fd(ccfg, -1, 0, "localhost"), MOJO_TLS_ERR_INVALID_ARGUMENT);
    /* "server_name ... required for clients when hostname checking is on" */
    CHECK_NULL_CODE(mojo_tls_conn_new_fd(ccfg, g_pair[0], 0, NULL), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK(!h_fd_is_closed(g_pair[0])); /* take_ownership=0: not closed on failure */
    {
        /* take_ownership=1: "the library closes fd ... on failure of this call" */
        int sv[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        CHECK_NULL_CODE(mojo_tls_conn_new_fd(ccfg, sv[0], 1, "\xff"), MOJO_TLS_ERR_INVALID_ARGUMENT);
        int closed = h_fd_is_closed(sv[0]);
        CHECK_MSG(closed, "conn_new_fd(take_ownership=1) failed but left the fd open");
        if (!closed) close(sv[0]);
        close(sv[1]);
    }

    /* connection buffers, on a handshaken memory pair */
    {
        mojo_tls_conn *c = mojo_tls_conn_new_memory(ccfg, "localhost");
        mojo_tls_conn *s = mojo_tls_conn_new_memory(scfg, NULL);
        REQUIRE_NONNULL(c);
        REQUIRE_NONNULL(s);
        /* before the handshake: nothing to report */
        CHECK_RC(mojo_tls_conn_verify_flags(c), MOJO_TLS_ERR_NOT_AVAILABLE);
        CHECK_RC(mojo_tls_conn_peer_cert_subject(c, buf, sizeof buf), MOJO_TLS_ERR_NOT_AVAILABLE);
        memory_pair_handshake(c, s);
        CHECK_RC(mojo_tls_conn_read(c, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_read(c, bin, SIZE_MAX), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_write(c, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_write(c, U8("abc"), SIZE_MAX), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_write_all(c, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_write_all(c, U8("abc"), SIZE_MAX), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_write(c, NULL, 0), 0);
        CHECK_RC(mojo_tls_conn_write_all(c, U8("abc"), 0), 0);
        CHECK_RC(mojo_tls_conn_feed(c, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_feed(c, U8("abc"), SIZE_MAX), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_drain(c, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_drain(c, bin, SIZE_MAX), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_peer_cert_der(c, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_peer_cert_pem(c, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_peer_cert_subject(c, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_peer_cert_issuer(c, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_peer_cert_sans(c, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_peer_cert_sha256(c, NULL, 32), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_alpn(c, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_verify_reason(c, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
        /* a read of length 0 must not be confused with EOF by a crash; the
         * spec leaves 0 vs INVALID_ARGUMENT open */
        intptr_t r0 = mojo_tls_conn_read(c, bin, 0);
        CHECK_MSG(r0 == 0 || r0 == MOJO_TLS_ERR_INVALID_ARGUMENT || r0 == MOJO_TLS_ERR_WANT_READ,
                  "read(len 0) = %jd", (intmax_t)r0);
        /* the pair still works after all the rejected calls */
        CHECK_RC(mojo_tls_conn_write(c, U8("ok"), 2), 2);
        intptr_t n = mojo_tls_conn_drain(c, bin, sizeof bin);
        CHECK(n > 0);
        if (n > 0) CHECK_RC(mojo_tls_conn_feed(s, bin, (size_t)n), n);
        CHECK_RC(mojo_tls_conn_read(s, bin, sizeof bin), 2);
        CHECK_RC(mojo_tls_conn_free(c), 0);
        CHECK_RC(mojo_tls_conn_free(s), 0);
    }

    /* PEM garbage */
    {
        const char *garbage = "this is not a certificate at all\n";
        CHECK_RC(mojo_tls_config_add_ca_mem(cfg, U8(garbage), strlen(garbage)), MOJO_TLS_ERR_PARSE);
        CHECK_RC(mojo_tls_config_add_ca_mem(cfg, U8(pki.ca_pem), pki.ca_pem_len / 2), MOJO_TLS_ERR_PARSE);
        /* header and footer intact, body damaged */
        char *bad = strdup(pki.ca_pem);
        REQUIRE_NONNULL(bad);
        char *body = strchr(bad, '\n') + 1;
        for (int i = 0; i < 40; i++) body[i] = '!';
        CHECK_RC(mojo_tls_config_add_ca_mem(cfg, U8(bad), strlen(bad)), MOJO_TLS_ERR_PARSE);
        /* valid base64, truncated content */
        char *cut = strdup(pki.ca_pem);
        REQUIRE_NONNULL(cut);
        char *endm = strstr(cut, "-----END");
        REQUIRE(endm != NULL);
        const char *footer = "-----END CERTIFICATE-----\n";
        memcpy(cut + 100, footer, strlen(footer) + 1);
        CHECK_RC(mojo_tls_config_add_ca_mem(cfg, U8(cut), strlen(cut)), MOJO_TLS_ERR_PARSE);
        free(cut);
        /* DER garbage and truncated DER */
        static const uint8_t der_junk[] = {0x30, 0x82, 0x01, 0x00, 0x01, 0x02, 0x03};
        CHECK_RC(mojo_tls_config_add_ca_mem(cfg, der_junk, sizeof der_junk), MOJO_TLS_ERR_PARSE);
        /* cert/key garbage */
        CHECK_RC(mojo_tls_config_add_cert_mem(scfg, U8(garbage), strlen(garbage), U8(PLAIN_KEY), strlen(PLAIN_KEY),
                                              NULL),
                 MOJO_TLS_ERR_PARSE);
        CHECK_RC(mojo_tls_config_add_cert_mem(scfg, U8(ENC_CERT), strlen(ENC_CERT), U8(garbage), strlen(garbage),
                                              NULL),
                 MOJO_TLS_ERR_PARSE);
        CHECK_RC(mojo_tls_config_add_cert_mem(scfg, U8(ENC_CERT), strlen(ENC_CERT), U8(PLAIN_KEY),
                                              strlen(PLAIN_KEY) / 2, NULL),
                 MOJO_TLS_ERR_PARSE);
        memcpy(bad, PLAIN_KEY, sizeof PLAIN_KEY);
        body = strchr(bad, '\n') + 1;
        for (int i = 0; i < 30; i++) body[i] = 'A';
        CHECK_RC(mojo_tls_config_add_cert_mem(scfg, U8(ENC_CERT), strlen(ENC_CERT), U8(bad), strlen(bad), NULL),
                 MOJO_TLS_ERR_PARSE);
        free(bad);
        /* a last_error message accompanies PARSE */
        CHECK(mojo_tls_last_error(NULL, 0) > 0);
    }

    CHECK_RC(mojo_tls_config_free(cfg), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
    h_pki_free(&pki);
}

/* ------------------------------------------------------------------ */
/* encrypted keys                                                      */

/* A server config with this cert/key must complete a handshake: proves the
 * decrypted key is the right one (the client verifies the key-exchange
 * signature even with VERIFY_NONE). */
static void check_key_works(mojo_tls_config *scfg) {
    mojo_tls_config *ccfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    REQUIRE_NONNULL(ccfg);
    REQUIRE_RC(mojo_tls_config_insecure_verify(ccfg, MOJO_TLS_VERIFY_NONE), 0);
    mojo_tls_conn *c = mojo_tls_conn_new_memory(ccfg, "localhost");
    mojo_tls_conn *s = mojo_tls_conn_new_memory(scfg, NULL);
    REQUIRE_NONNULL(c);
    REQUIRE_NONNULL(s);
    memory_pair_handshake(c, s);
    char subj[256];
    CHECK(mojo_tls_conn_peer_cert_subject(c, subj, sizeof subj) > 0);
    CHECK_CONTAINS_CI(subj, "encrypted-key test");
    CHECK_RC(mojo_tls_conn_free(c), 0);
    CHECK_RC(mojo_tls_conn_free(s), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
}

static int add_key(mojo_tls_config *cfg, const char *key, const char *pw) {
    return mojo_tls_config_add_cert_mem(cfg, U8(ENC_CERT), strlen(ENC_CERT), U8(key), strlen(key), pw);
}

static void encrypted_key_case(const char *name, const char *key) {
    printf("  encrypted key: %s\n", name);
    mojo_tls_config *cfg = mojo_tls_config_new(MOJO_TLS_ROLE_SERVER);
    REQUIRE_NONNULL(cfg);
    CHECK_RC(add_key(cfg, key, NULL), MOJO_TLS_ERR_BAD_PASSWORD);
    int good = add_key(cfg, key, "secret");
    if (good == 0) {
        CHECK_RC(add_key(cfg, key, "wrong password"), MOJO_TLS_ERR_BAD_PASSWORD);
        CHECK_RC(add_key(cfg, key, ""), MOJO_TLS_ERR_BAD_PASSWORD);
        check_key_works(cfg);
    } else {
        h_fail(__FILE__, __LINE__, "%s with the right password: %d (%s)", name, good, h_code_name(good));
    }
    CHECK_RC(mojo_tls_config_free(cfg), 0);
}

static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

static void test_encrypted_keys(void) {
    encrypted_key_case("legacy PEM, AES-256-CBC", KEY_TRAD_AES);
    encrypted_key_case("PKCS#8 PBES2, 3DES", KEY_P8_DES3);
    encrypted_key_case("PKCS#8 PBES2, AES-256 (openssl default)", KEY_P8_AES);

    /* unencrypted key: a password is simply not needed */
    mojo_tls_config *cfg = mojo_tls_config_new(MOJO_TLS_ROLE_SERVER);
    REQUIRE_NONNULL(cfg);
    CHECK_RC(add_key(cfg, PLAIN_KEY, "unused"), 0);
    CHECK_RC(mojo_tls_config_free(cfg), 0);

    /* the file variant, in a private temp directory */
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/mojo-tls-test-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    REQUIRE(mkdtemp(dir) != NULL);
    char cp[600], kp[600];
    snprintf(cp, sizeof cp, "%s/cert.pem", dir);
    snprintf(kp, sizeof kp, "%s/key.pem", dir);
    REQUIRE(write_file(cp, ENC_CERT) == 0);
    REQUIRE(write_file(kp, KEY_TRAD_AES) == 0);
    cfg = mojo_tls_config_new(MOJO_TLS_ROLE_SERVER);
    REQUIRE_NONNULL(cfg);
    CHECK_RC(mojo_tls_config_add_cert_file(cfg, cp, kp, NULL), MOJO_TLS_ERR_BAD_PASSWORD);
    CHECK_RC(mojo_tls_config_add_cert_file(cfg, cp, kp, "nope"), MOJO_TLS_ERR_BAD_PASSWORD);
    CHECK_RC(mojo_tls_config_add_cert_file(cfg, cp, kp, "secret"), 0);
    check_key_works(cfg);
    CHECK_RC(mojo_tls_config_free(cfg), 0);
    /* CA file / dir loading with a real file */
    cfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    REQUIRE_NONNULL(cfg);
    CHECK_RC(mojo_tls_config_add_ca_file(cfg, cp), 0);
    CHECK_RC(mojo_tls_config_add_ca_file(cfg, kp), MOJO_TLS_ERR_PARSE); /* a key is not a CA */
    CHECK_RC(mojo_tls_config_free(cfg), 0);
    unlink(cp);
    unlink(kp);
    rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* errors                                                              */

static void *other_thread(void *p) {
    int *seen = p;
    seen[0] = mojo_tls_last_error_code(); /* must not see the main thread's error */
    mojo_tls_config *cfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    seen[1] = mojo_tls_config_set_min_version(cfg, 4242);
    seen[2] = mojo_tls_last_error_code();
    mojo_tls_config_free(cfg);
    return NULL;
}

static void test_errors(void) {
    /* strerror: every code has its own static text, unknown codes too */
    const char *texts[21];
    for (int code = 0; code >= -20; code--) {
        const char *t = mojo_tls_strerror(code);
        texts[-code] = t;
        CHECK_MSG(t != NULL && t[0] != '\0', "strerror(%d) empty", code);
    }
    for (int i = 0; i <= 20; i++)
        for (int j = i + 1; j <= 20; j++)
            if (texts[i] && texts[j])
                CHECK_MSG(strcmp(texts[i], texts[j]) != 0, "strerror(%d) == strerror(%d): \"%s\"", -i, -j, texts[i]);
    CHECK(mojo_tls_strerror(-9999) != NULL);
    CHECK(mojo_tls_strerror(12345) != NULL);
    CHECK(mojo_tls_strerror(INT32_MIN) != NULL);

    /* clear_error resets */
    mojo_tls_clear_error();
    CHECK_EQ(mojo_tls_last_error_code(), 0);
    char buf[256];
    memset(buf, 'x', sizeof buf);
    CHECK_EQ(mojo_tls_last_error(buf, sizeof buf), 0);
    CHECK(buf[0] == '\0');

    /* an error with a message */
    CHECK_NULL_CODE(mojo_tls_config_new(99), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_EQ(mojo_tls_last_error_code(), MOJO_TLS_ERR_INVALID_ARGUMENT);
    size_t n = mojo_tls_last_error(NULL, 0); /* size query */
    CHECK(n > 3 && n < 10000);
    char *full = h_xmalloc(n + 1);
    memset(full, 'x', n + 1);
    CHECK_EQ(mojo_tls_last_error(full, n + 1), n);
    CHECK(full[n] == '\0' && strlen(full) == n);
    /* truncation keeps the NUL and still reports the full length */
    char small[4];
    memset(small, 'x', sizeof small);
    CHECK_EQ(mojo_tls_last_error(small, sizeof small), n);
    CHECK(small[3] == '\0' && strncmp(small, full, 3) == 0);
    char one[1] = {'x'};
    CHECK_EQ(mojo_tls_last_error(one, 1), n);
    CHECK(one[0] == '\0');
    /* exactly n bytes: one short of the NUL, so n-1 characters */
    char *exact = h_xmalloc(n);
    CHECK_EQ(mojo_tls_last_error(exact, n), n);
    CHECK(exact[n - 1] == '\0' && strlen(exact) == n - 1);
    free(exact);
    /* reading the error does not clear it */
    CHECK_EQ(mojo_tls_last_error_code(), MOJO_TLS_ERR_INVALID_ARGUMENT);

    /* thread-local */
    int seen[3] = {99, 99, 99};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, other_thread, seen) == 0);
    pthread_join(th, NULL);
    CHECK_EQ(seen[0], 0);
    CHECK_EQ(seen[1], MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_EQ(seen[2], MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_EQ(mojo_tls_last_error_code(), MOJO_TLS_ERR_INVALID_ARGUMENT);
    memset(buf, 0, sizeof buf);
    mojo_tls_last_error(buf, sizeof buf);
    CHECK(strcmp(buf, full) == 0);
    free(full);

    mojo_tls_clear_error();
    CHECK_EQ(mojo_tls_last_error_code(), 0);
    CHECK_EQ(mojo_tls_last_error(NULL, 0), 0);
}

int main(void) {
    h_start("test_bad_input", 180);
    int port;
    g_lfd = h_listen(&port);
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_pair) == 0);

    test_errors();
    test_bad_handles();
    test_bad_arguments();
    test_encrypted_keys();

    /* none of the rejected constructors took our fds */
    CHECK(!h_fd_is_closed(g_pair[0]));
    close(g_pair[0]);
    close(g_pair[1]);
    CHECK_RC(mojo_tls_socket_close(g_lfd), 0);
    return h_finish();
}
