/* Pinning and CRLs (docs/features/verification.md).
 * Pinning: MOJO_TLS_PIN_CERT and _SPKI, a wrong pin with a valid chain
 * (VERIFY_FAILED naming the pin), a pin on the issuing CA, several pins,
 * a pin does not replace chain verification, pin-only against a
 * self-signed server (no CA, no host name check), argument checks.
 * CRLs from mojo_tls_gencert_crl_pem loaded from memory and from a file,
 * PEM and DER: revoked -> VERIFY_FAILED naming revocation, the CRL's other
 * certificates pass, VERIFY_OPTIONAL records the flag. (A CRL made by
 * `openssl ca -gencrl` is tested in tests/interop/features.py.) */
#include "features.h"

static f_cert ca, other_ca, good, revoked, selfsigned, stranger;

#define MBEDTLS_X509_BADCERT_REVOKED 0x02 /* Mbed TLS flag values are the same in 3.6 and 4.x */

/* connect to a server with `cert` as `name`; expect success, or failure with
 * `code` and a reason containing `needle` */
static void trust_case(const char *label, const f_cert *cert, mojo_tls_config *ccfg, const char *name, int code,
                       const char *needle) {
    mojo_tls_config *scfg = f_server_cfg(cert);
    f_srv s;
    f_cli cli;
    mojo_tls_conn *c = f_run(&s, scfg, ccfg, name, NULL, 0, &cli);
    if (code == 0) {
        F_EXPECT_OK(label, c, s, cli);
        f_end(&s, c);
        F_EXPECT_SERVER_OK(label, s);
        printf("  %-52s ok\n", label);
    } else {
        CHECK_MSG(c == NULL, "%s: connected", label);
        f_end(&s, c);
        printf("  %-52s %s: %s\n", label, h_code_name(cli.code), cli.msg);
        CHECK_MSG(cli.code == code, "%s: code %s, expected %s", label, h_code_name(cli.code), h_code_name(code));
        CHECK_MSG(h_contains_ci(cli.msg, needle), "%s: reason \"%s\" lacks \"%s\"", label, cli.msg, needle);
        CHECK_MSG(!s.ok, "%s: the server completed a handshake the client rejected", label);
    }
    CHECK_RC(mojo_tls_config_free(scfg), 0);
}

static mojo_tls_config *pinned(const f_cert *trust, int kind, const uint8_t *pin) {
    mojo_tls_config *cfg = f_client_cfg(trust);
    CHECK_RC(mojo_tls_config_add_pin(cfg, kind, pin, 32), 0);
    return cfg;
}

static void test_pinning(void) {
    uint8_t cert_pin[32], ca_pin[32], wrong_pin[32], spki_pin[32], ss_pin[32];
    f_cert_sha256(&good, cert_pin);
    f_cert_sha256(&ca, ca_pin);
    f_cert_sha256(&stranger, wrong_pin); /* a real certificate, not in the server's chain */
    f_cert_sha256(&selfsigned, ss_pin);

    /* the SPKI pin as the library computes it, checked against the DER pin
     * and the certificate the server sent */
    {
        mojo_tls_config *scfg = f_server_cfg(&good), *ccfg = f_client_cfg(&ca);
        f_srv s;
        f_cli cli;
        mojo_tls_conn *c = f_run(&s, scfg, ccfg, "localhost", NULL, 0, &cli);
        REQUIRE_NONNULL(c);
        uint8_t h[32];
        CHECK_EQ(mojo_tls_conn_peer_cert_sha256(c, h, sizeof h), 32);
        CHECK_MSG(memcmp(h, cert_pin, 32) == 0, "peer_cert_sha256 is not the SHA-256 of the leaf's DER");
        CHECK_EQ(mojo_tls_conn_peer_cert_spki_sha256(c, spki_pin, sizeof spki_pin), 32);
        CHECK_MSG(memcmp(spki_pin, cert_pin, 32) != 0, "SPKI hash equals the certificate hash");
        f_end(&s, c);
        CHECK_RC(mojo_tls_config_free(scfg), 0);
        CHECK_RC(mojo_tls_config_free(ccfg), 0);
    }

    mojo_tls_config *cfg;
    cfg = pinned(&ca, MOJO_TLS_PIN_CERT, cert_pin);
    trust_case("CERT pin of the leaf", &good, cfg, "localhost", 0, NULL);
    /* the pin is on the leaf: another leaf of the same CA is refused */
    trust_case("CERT pin of the leaf, other leaf of the CA", &revoked, cfg, "localhost", MOJO_TLS_ERR_VERIFY_FAILED,
               "pin");
    CHECK_RC(mojo_tls_config_free(cfg), 0);

    cfg = pinned(&ca, MOJO_TLS_PIN_SPKI, spki_pin);
    trust_case("SPKI pin of the leaf", &good, cfg, "localhost", 0, NULL);
    CHECK_RC(mojo_tls_config_free(cfg), 0);
    /* kinds are not interchangeable */
    cfg = pinned(&ca, MOJO_TLS_PIN_SPKI, cert_pin);
    trust_case("CERT hash given as an SPKI pin", &good, cfg, "localhost", MOJO_TLS_ERR_VERIFY_FAILED, "pin");
    CHECK_RC(mojo_tls_config_free(cfg), 0);

    cfg = pinned(&ca, MOJO_TLS_PIN_CERT, wrong_pin);
    trust_case("wrong pin, chain verifies", &good, cfg, "localhost", MOJO_TLS_ERR_VERIFY_FAILED, "pin");
    CHECK_RC(mojo_tls_config_free(cfg), 0);

    cfg = pinned(&ca, MOJO_TLS_PIN_CERT, ca_pin);
    trust_case("CERT pin of the issuing CA", &good, cfg, "localhost", 0, NULL);
    CHECK_RC(mojo_tls_config_free(cfg), 0);

    /* several pins: one match is enough */
    cfg = pinned(&ca, MOJO_TLS_PIN_CERT, wrong_pin);
    CHECK_RC(mojo_tls_config_add_pin(cfg, MOJO_TLS_PIN_SPKI, wrong_pin, 32), 0);
    CHECK_RC(mojo_tls_config_add_pin(cfg, MOJO_TLS_PIN_SPKI, spki_pin, 32), 0);
    trust_case("three pins, the last one matches", &good, cfg, "localhost", 0, NULL);
    CHECK_RC(mojo_tls_config_free(cfg), 0);

    /* a matching pin does not replace the chain: untrusted CA still fails */
    cfg = pinned(&other_ca, MOJO_TLS_PIN_CERT, cert_pin);
    trust_case("right pin, untrusted CA", &good, cfg, "localhost", MOJO_TLS_ERR_VERIFY_FAILED, "trust");
    CHECK_RC(mojo_tls_config_free(cfg), 0);
    /* ... nor the host name check */
    cfg = pinned(&ca, MOJO_TLS_PIN_CERT, cert_pin);
    trust_case("right pin, wrong host name", &good, cfg, "wrong.example", MOJO_TLS_ERR_VERIFY_FAILED,
               "host name \"wrong.example\"");
    CHECK_RC(mojo_tls_config_free(cfg), 0);

    /* pin-only: the self-signed server, no CA loaded, any name */
    cfg = f_client_cfg(NULL);
    CHECK_RC(mojo_tls_config_add_pin(cfg, MOJO_TLS_PIN_CERT, ss_pin, 32), 0);
    CHECK_RC(mojo_tls_config_set_pin_only(cfg, 1), 0);
    trust_case("pin-only, self-signed, 127.0.0.1", &selfsigned, cfg, "127.0.0.1", 0, NULL);
    trust_case("pin-only, self-signed, unrelated name", &selfsigned, cfg, "not-the-name.example", 0, NULL);
    trust_case("pin-only, other server", &good, cfg, "localhost", MOJO_TLS_ERR_VERIFY_FAILED, "pin");
    /* switched off again: the self-signed certificate is untrusted */
    CHECK_RC(mojo_tls_config_set_pin_only(cfg, 0), 0);
    CHECK_RC(mojo_tls_config_add_ca_mem(cfg, U8(ca.cert), ca.cert_len), 0);
    trust_case("pin-only off, self-signed", &selfsigned, cfg, "device.local", MOJO_TLS_ERR_VERIFY_FAILED, "trust");
    CHECK_RC(mojo_tls_config_free(cfg), 0);

    cfg = f_client_cfg(NULL);
    CHECK_RC(mojo_tls_config_add_pin(cfg, MOJO_TLS_PIN_CERT, cert_pin, 32), 0);
    CHECK_RC(mojo_tls_config_set_pin_only(cfg, 1), 0);
    trust_case("pin-only, wrong pin for the self-signed server", &selfsigned, cfg, "device.local",
               MOJO_TLS_ERR_VERIFY_FAILED, "pin");
    CHECK_RC(mojo_tls_config_free(cfg), 0);

    /* pin-only without a pin: BAD_STATE at connect */
    cfg = f_client_cfg(NULL);
    CHECK_RC(mojo_tls_config_set_pin_only(cfg, 1), 0);
    {
        int lfd, port;
        lfd = h_listen(&port);
        mojo_tls_clear_error();
        mojo_tls_conn *c = mojo_tls_conn_new_connect(cfg, "127.0.0.1", (uint16_t)port, h_io_timeout_ms());
        CHECK_MSG(c == NULL, "pin-only without pins connected");
        CHECK_EQ(mojo_tls_last_error_code(), MOJO_TLS_ERR_BAD_STATE);
        if (c) mojo_tls_conn_free(c);
        CHECK_RC(mojo_tls_socket_close(lfd), 0);
    }
    /* argument checks */
    uint8_t pin33[33] = {0};
    CHECK_RC(mojo_tls_config_add_pin(cfg, MOJO_TLS_PIN_CERT, pin33, 31), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_pin(cfg, MOJO_TLS_PIN_CERT, pin33, 33), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_pin(cfg, 7, pin33, 32), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_pin(cfg, MOJO_TLS_PIN_CERT, NULL, 32), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_add_pin(NULL, MOJO_TLS_PIN_CERT, pin33, 32), MOJO_TLS_ERR_INVALID_HANDLE);
    CHECK_RC(mojo_tls_config_free(cfg), 0);
}

/* ---------------------------------------------------------------- CRL */

/* the base64 body of the first "-----BEGIN <label>-----" block, decoded */
static size_t pem_block_der(const char *pem, const char *label, uint8_t *out, size_t cap) {
    char begin[64], end[64];
    snprintf(begin, sizeof begin, "-----BEGIN %s-----", label);
    snprintf(end, sizeof end, "-----END %s-----", label);
    const char *p = strstr(pem, begin), *e = strstr(pem, end);
    if (!p || !e) return 0;
    p += strlen(begin);
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (; p < e; p++) {
        int v;
        char ch = *p;
        if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
        else if (ch == '+') v = 62;
        else if (ch == '/') v = 63;
        else continue;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < cap) out[n] = (uint8_t)(acc >> bits);
            n++;
        }
    }
    return n;
}

static char *make_crl(const f_cert *issuer, const f_cert *const *list, size_t n, size_t *len) {
    const mojo_tls_gencert *g[4];
    for (size_t i = 0; i < n; i++) g[i] = list[i]->g;
    intptr_t need = mojo_tls_gencert_crl_pem(issuer->g, g, n, NULL, 0);
    REQUIRE(need > 0);
    /* each call signs anew (ECDSA signatures vary by a byte or two): room to spare */
    size_t cap = (size_t)need + 64;
    char *buf = h_xmalloc(cap);
    intptr_t got = mojo_tls_gencert_crl_pem(issuer->g, g, n, buf, cap);
    REQUIRE(got > 0 && (size_t)got < cap);
    CHECK(strlen(buf) == (size_t)got);
    CHECK(strncmp(buf, "-----BEGIN X509 CRL-----", 24) == 0);
    *len = (size_t)got;
    return buf;
}

static void test_crl(void) {
    const f_cert *rl[1] = {&revoked};
    size_t crl_len, empty_len;
    char *crl = make_crl(&ca, rl, 1, &crl_len);
    char *empty = make_crl(&ca, NULL, 0, &empty_len);

    /* from memory, PEM */
    mojo_tls_config *cfg = f_client_cfg(&ca);
    CHECK_RC(mojo_tls_config_add_crl_mem(cfg, U8(crl), crl_len), 0);
    trust_case("CRL (mem, PEM): revoked server", &revoked, cfg, "localhost", MOJO_TLS_ERR_VERIFY_FAILED, "revoked");
    trust_case("CRL (mem, PEM): good server", &good, cfg, "localhost", 0, NULL);
    CHECK_RC(mojo_tls_config_free(cfg), 0);

    /* control: without the CRL the revoked certificate is fine */
    cfg = f_client_cfg(&ca);
    trust_case("no CRL: the same certificate", &revoked, cfg, "localhost", 0, NULL);
    /* an empty CRL revokes nothing */
    CHECK_RC(mojo_tls_config_add_crl_mem(cfg, U8(empty), empty_len), 0);
    trust_case("empty CRL: the same certificate", &revoked, cfg, "localhost", 0, NULL);
    CHECK_RC(mojo_tls_config_free(cfg), 0);

    /* DER, from memory and from a file; PEM from a file */
    uint8_t *der = h_xmalloc(crl_len);
    size_t der_len = pem_block_der(crl, "X509 CRL", der, crl_len);
    REQUIRE(der_len > 0 && der[0] == 0x30);
    char dir[512], pem_path[600], der_path[600];
    f_tmpdir(dir, sizeof dir);
    snprintf(pem_path, sizeof pem_path, "%s/crl.pem", dir);
    snprintf(der_path, sizeof der_path, "%s/crl.der", dir);
    f_write_file(pem_path, crl, crl_len);
    f_write_file(der_path, der, der_len);

    cfg = f_client_cfg(&ca);
    CHECK_RC(mojo_tls_config_add_crl_mem(cfg, der, der_len), 0);
    trust_case("CRL (mem, DER): revoked server", &revoked, cfg, "localhost", MOJO_TLS_ERR_VERIFY_FAILED, "revoked");
    CHECK_RC(mojo_tls_config_free(cfg), 0);
    cfg = f_client_cfg(&ca);
    CHECK_RC(mojo_tls_config_add_crl_file(cfg, pem_path), 0);
    trust_case("CRL (file, PEM): revoked server", &revoked, cfg, "localhost", MOJO_TLS_ERR_VERIFY_FAILED, "revoked");
    trust_case("CRL (file, PEM): good server", &good, cfg, "localhost", 0, NULL);
    CHECK_RC(mojo_tls_config_free(cfg), 0);
    cfg = f_client_cfg(&ca);
    CHECK_RC(mojo_tls_config_add_crl_file(cfg, der_path), 0);
    trust_case("CRL (file, DER): revoked server", &revoked, cfg, "localhost", MOJO_TLS_ERR_VERIFY_FAILED, "revoked");
    CHECK_RC(mojo_tls_config_free(cfg), 0);

    /* VERIFY_OPTIONAL: connects, and the revocation is in the flags and reason */
    cfg = f_client_cfg(&ca);
    CHECK_RC(mojo_tls_config_add_crl_mem(cfg, U8(crl), crl_len), 0);
    CHECK_RC(mojo_tls_config_insecure_verify(cfg, MOJO_TLS_VERIFY_OPTIONAL), 0);
    {
        mojo_tls_config *scfg = f_server_cfg(&revoked);
        f_srv s;
        f_cli cli;
        mojo_tls_conn *c = f_run(&s, scfg, cfg, "localhost", NULL, 0, &cli);
        F_EXPECT_OK("CRL + VERIFY_OPTIONAL", c, s, cli);
        if (c) {
            int64_t flags = mojo_tls_conn_verify_flags(c);
            CHECK_MSG(flags == MBEDTLS_X509_BADCERT_REVOKED, "verify_flags 0x%" PRIx64 ", expected only REVOKED",
                      flags);
            char reason[256];
            CHECK(mojo_tls_conn_verify_reason(c, reason, sizeof reason) > 0);
            CHECK_CONTAINS_CI(reason, "revoked");
        }
        f_end(&s, c);
        CHECK_RC(mojo_tls_config_free(scfg), 0);
    }
    CHECK_RC(mojo_tls_config_free(cfg), 0);

    /* a CRL of another CA does not apply */
    {
        const f_cert *srl[1] = {&stranger};
        size_t olen;
        char *ocrl = make_crl(&other_ca, srl, 1, &olen);
        cfg = f_client_cfg(&ca);
        CHECK_RC(mojo_tls_config_add_crl_mem(cfg, U8(ocrl), olen), 0);
        trust_case("CRL of another CA: good server", &good, cfg, "localhost", 0, NULL);
        CHECK_RC(mojo_tls_config_free(cfg), 0);
        free(ocrl);
    }

    /* errors */
    cfg = f_client_cfg(&ca);
    CHECK_RC(mojo_tls_config_add_crl_mem(cfg, U8("not a crl"), 9), MOJO_TLS_ERR_PARSE);
    CHECK_RC(mojo_tls_config_add_crl_mem(cfg, U8(crl), crl_len / 2), MOJO_TLS_ERR_PARSE);
    CHECK_RC(mojo_tls_config_add_crl_mem(cfg, U8(ca.cert), ca.cert_len), MOJO_TLS_ERR_PARSE); /* a certificate */
    CHECK_RC(mojo_tls_config_add_crl_mem(cfg, NULL, 5), MOJO_TLS_ERR_INVALID_ARGUMENT);
    char missing[700];
    snprintf(missing, sizeof missing, "%s/does-not-exist.pem", dir);
    CHECK_RC(mojo_tls_config_add_crl_file(cfg, missing), MOJO_TLS_ERR_NOT_FOUND);
    CHECK_RC(mojo_tls_config_add_crl_file(cfg, NULL), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_free(cfg), 0);
    /* gencert_crl_pem argument checks */
    char small[16];
    CHECK(mojo_tls_gencert_crl_pem(ca.g, NULL, 1, small, sizeof small) == MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK(mojo_tls_gencert_crl_pem(NULL, NULL, 0, small, sizeof small) == MOJO_TLS_ERR_INVALID_HANDLE);
    /* snprintf style: a short buffer gets a NUL-terminated prefix */
    intptr_t n = mojo_tls_gencert_crl_pem(ca.g, NULL, 0, small, sizeof small);
    CHECK(n > (intptr_t)sizeof small);
    CHECK(strlen(small) == sizeof small - 1 && strncmp(small, "-----BEGIN X509", 15) == 0);

    unlink(pem_path);
    unlink(der_path);
    CHECK_MSG(rmdir(dir) == 0, "temp dir not empty: %s", strerror(errno));
    free(der);
    free(crl);
    free(empty);
}

int main(void) {
    h_start("test_features_trust", 300);
    ca = f_ca("trust CA", MOJO_TLS_KEY_ECDSA_P256);
    other_ca = f_ca("other trust CA", MOJO_TLS_KEY_ECDSA_P256);
    good = f_leaf(&ca, "localhost", "localhost,127.0.0.1", MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256);
    revoked = f_leaf(&ca, "localhost", "localhost,127.0.0.1", MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256);
    selfsigned = f_leaf(NULL, "device", "device.local", MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256);
    stranger = f_leaf(&other_ca, "localhost", "localhost", MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256);
    test_pinning();
    test_crl();
    f_cert *all[] = {&ca, &other_ca, &good, &revoked, &selfsigned, &stranger};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) f_cert_free(all[i]);
    return h_finish();
}
