/* Certificate generation and the helpers (docs/features/certificates.md).
 *   - mojo_tls_sha256 known answers (FIPS 180-2 vectors, "abc" first)
 *   - mojo_tls_random: no repeats, every byte value, balanced bits
 *   - generated CA + leaf (P-256 and P-384, DNS and IPv4/IPv6 SANs) as seen
 *     by a peer: subject, issuer, SANs, validity; the SANs are what host
 *     name verification uses; usage bits are enforced (a client-only
 *     certificate cannot serve, a server+client one can do both); a
 *     self-signed leaf trusted directly; DER/PEM/PKCS#8 outputs agree.
 * openssl's view of the same certificates (x509 -text, verify) is in
 * tests/interop/features.py. */
#include "features.h"

/* ---------------------------------------------------------------- SHA-256 */

static void hex32(const uint8_t *h, char out[65]) {
    for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", h[i]);
}

static void sha_kat(const char *label, const void *data, size_t len, const char *want) {
    uint8_t h[32];
    char got[65];
    memset(h, 0xAA, sizeof h);
    CHECK_RC(mojo_tls_sha256(data, len, h, 32), 32);
    hex32(h, got);
    CHECK_MSG(strcmp(got, want) == 0, "sha256(%s) = %s, expected %s", label, got, want);
}

static void test_sha256(void) {
    sha_kat("\"abc\"", "abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha_kat("\"\"", "", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha_kat("448-bit message", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    sha_kat("896-bit message",
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrst"
            "nopqrstu",
            112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    size_t n = 1000000;
    char *a = h_xmalloc(n);
    memset(a, 'a', n);
    sha_kat("one million 'a'", a, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* an unaligned input pointer gives the same answer */
    memcpy(a + 1, "abc", 3);
    sha_kat("\"abc\" unaligned", a + 1, 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    free(a);
    printf("  sha256: 6 known answers\n");
}

/* ---------------------------------------------------------------- random */

static int cmp16(const void *a, const void *b) { return memcmp(a, b, 16); }

static void test_random(void) {
    /* successive calls never repeat */
    uint8_t r1[32], r2[32], zero[32] = {0};
    CHECK_RC(mojo_tls_random(r1, sizeof r1), (intptr_t)(sizeof r1));
    CHECK_RC(mojo_tls_random(r2, sizeof r2), (intptr_t)(sizeof r2));
    CHECK_MSG(memcmp(r1, r2, 32) != 0, "two mojo_tls_random calls returned the same 32 bytes");
    CHECK(memcmp(r1, zero, 32) != 0 && memcmp(r2, zero, 32) != 0);

    /* 64 KiB in one call (the DRBG delivers at most 1 KiB per request
     * internally): no repeated 16-byte block, every byte value present, in
     * sane proportions (expected 256 each, sd 16), about half the bits set */
    enum { N = 65536 };
    uint8_t *buf = h_xmalloc(N);
    memset(buf, 0, N);
    CHECK_RC(mojo_tls_random(buf, N), (intptr_t)(N));
    unsigned counts[256] = {0};
    uint64_t ones = 0;
    for (size_t i = 0; i < N; i++) {
        counts[buf[i]]++;
        ones += (uint64_t)__builtin_popcount(buf[i]);
    }
    unsigned lo = N, hi = 0;
    for (int v = 0; v < 256; v++) {
        if (counts[v] < lo) lo = counts[v];
        if (counts[v] > hi) hi = counts[v];
    }
    CHECK_MSG(lo >= 150 && hi <= 370, "byte value counts range %u..%u over 64 KiB (expected about 256)", lo, hi);
    CHECK_MSG(ones > 262144 - 3000 && ones < 262144 + 3000, "%" PRIu64 " of 524288 bits set", ones);
    qsort(buf, N / 16, 16, cmp16);
    int dup = 0;
    for (size_t i = 1; i < N / 16; i++) dup += memcmp(buf + 16 * (i - 1), buf + 16 * i, 16) == 0;
    CHECK_MSG(dup == 0, "%d repeated 16-byte blocks in 64 KiB of random output", dup);

    /* many short calls: 2000 x 16 bytes, all distinct */
    enum { K = 2000 };
    for (size_t i = 0; i < K; i++) CHECK_RC(mojo_tls_random(buf + 16 * i, 16), (intptr_t)(16));
    qsort(buf, K, 16, cmp16);
    dup = 0;
    for (size_t i = 1; i < K; i++) dup += memcmp(buf + 16 * (i - 1), buf + 16 * i, 16) == 0;
    CHECK_MSG(dup == 0, "%d repeats among %d short random draws", dup, K);
    /* odd lengths fill every byte: the last byte of 1..33-byte requests is
     * not left at its sentinel (all 33 sentinels surviving: 2^-264) */
    int untouched = 0;
    for (size_t len = 1; len <= 33; len++) {
        memset(buf, 0x5A, 64);
        CHECK_RC(mojo_tls_random(buf, len), (intptr_t)(len));
        untouched += buf[len - 1] == 0x5A;
        CHECK_MSG(buf[len] == 0x5A, "mojo_tls_random(%zu) wrote past the end", len);
    }
    CHECK_MSG(untouched < 5, "%d of 33 random tails kept their sentinel", untouched);
    free(buf);
    printf("  random: byte counts %u..%u, %" PRIu64 " bits set of 524288, no repeats\n", lo, hi, ones);
}

/* ---------------------------------------------------------------- generated certificates */

/* connect as `name` to a server with `srv`, trusting `trust`; 0 or the client code */
static int connect_as(const f_cert *srv, const f_cert *trust, const char *name, mojo_tls_conn **keep, f_srv *s) {
    mojo_tls_config *scfg = f_server_cfg(srv), *ccfg = f_client_cfg(trust);
    f_cli cli;
    mojo_tls_conn *c = f_run(s, scfg, ccfg, name, NULL, 0, &cli);
    int code = c ? 0 : cli.code;
    if (!c) printf("    %s -> %s: %s\n", name, h_code_name(cli.code), cli.msg);
    if (keep && c) {
        *keep = c; /* the caller queries it, then calls f_end */
    } else {
        f_end(s, c);
    }
    CHECK_RC(mojo_tls_config_free(scfg), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    return code;
}

/* The structured names, rebuilt into the text getters' format: "CN=a, O=b"
 * (" + " inside a multi-valued RDN) and "DNS:x\nIP:y". */
static void dn_text(mojo_tls_conn *c, int32_t which, char *out, size_t cap) {
    out[0] = '\0';
    intptr_t n = mojo_tls_conn_peer_cert_dn_count(c, which);
    CHECK_MSG(n > 0, "dn_count(%d) = %jd", (int)which, (intmax_t)n);
    int32_t prev = -1;
    for (intptr_t i = 0; i < n; i++) {
        char attr[64], value[256];
        int32_t rdn = -1;
        CHECK_OK(mojo_tls_conn_peer_cert_dn_attr(c, which, (size_t)i, &rdn, attr, sizeof attr));
        CHECK_OK(mojo_tls_conn_peer_cert_dn_value(c, which, (size_t)i, value, sizeof value));
        CHECK_MSG(rdn >= 0 && rdn >= prev, "rdn index %d after %d", (int)rdn, (int)prev);
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s=%s", i == 0 ? "" : rdn == prev ? " + " : ", ", attr, value);
        prev = rdn;
    }
    CHECK_RC(mojo_tls_conn_peer_cert_dn_attr(c, which, (size_t)n, NULL, NULL, 0), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_conn_peer_cert_dn_value(c, which, (size_t)n, NULL, 0), MOJO_TLS_ERR_INVALID_ARGUMENT);
}

static void san_text(mojo_tls_conn *c, char *out, size_t cap) {
    out[0] = '\0';
    intptr_t n = mojo_tls_conn_peer_cert_san_count(c);
    CHECK_MSG(n >= 0, "san_count = %jd", (intmax_t)n);
    for (intptr_t i = 0; i < n; i++) {
        char value[256];
        int32_t type = -1;
        intptr_t vl = mojo_tls_conn_peer_cert_san(c, (size_t)i, &type, value, sizeof value);
        CHECK_MSG(vl > 0 && (size_t)vl == strlen(value), "san %jd: length %jd", (intmax_t)i, (intmax_t)vl);
        CHECK_RC(mojo_tls_conn_peer_cert_san(c, (size_t)i, NULL, NULL, 0), vl); /* size query */
        const char *kind = type == MOJO_TLS_SAN_DNS ? "DNS" : type == MOJO_TLS_SAN_IP ? "IP" : "OTHER";
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s:%s", i == 0 ? "" : "\n", kind, value);
    }
    CHECK_RC(mojo_tls_conn_peer_cert_san(c, (size_t)n, NULL, NULL, 0), MOJO_TLS_ERR_INVALID_ARGUMENT);
}

static void check_leaf_view(mojo_tls_conn *c, const char *subject, const char *issuer, const char *sans,
                            int64_t nb_days, int64_t valid_days) {
    char buf[512];
    dn_text(c, MOJO_TLS_DN_SUBJECT, buf, sizeof buf);
    CHECK_MSG(strcmp(buf, subject) == 0, "structured subject \"%s\", expected \"%s\"", buf, subject);
    dn_text(c, MOJO_TLS_DN_ISSUER, buf, sizeof buf);
    CHECK_MSG(strcmp(buf, issuer) == 0, "structured issuer \"%s\", expected \"%s\"", buf, issuer);
    san_text(c, buf, sizeof buf);
    CHECK_MSG(strcmp(buf, sans) == 0, "structured SANs \"%s\", expected \"%s\"", buf, sans);
    CHECK_RC(mojo_tls_conn_peer_cert_dn_count(c, 2), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_OK(mojo_tls_conn_peer_cert_subject(c, buf, sizeof buf));
    CHECK_MSG(strcmp(buf, subject) == 0, "subject \"%s\", expected \"%s\"", buf, subject);
    CHECK_OK(mojo_tls_conn_peer_cert_issuer(c, buf, sizeof buf));
    CHECK_MSG(strcmp(buf, issuer) == 0, "issuer \"%s\", expected \"%s\"", buf, issuer);
    CHECK_OK(mojo_tls_conn_peer_cert_sans(c, buf, sizeof buf));
    CHECK_MSG(strcmp(buf, sans) == 0, "SANs \"%s\", expected \"%s\"", buf, sans);
    int64_t nb = 0, na = 0;
    CHECK_RC(mojo_tls_conn_peer_cert_validity(c, &nb, &na), 0);
    int64_t now = (int64_t)time(NULL), day = 86400;
    CHECK_MSG(llabs((long long)(nb - (now + nb_days * day))) <= day, "not_before %" PRId64 " is not now%+" PRId64 " days (%" PRId64 ")",
              nb, nb_days, now);
    CHECK_MSG(llabs((long long)(na - nb - valid_days * day)) <= day, "validity %" PRId64 " s, expected %" PRId64 " days",
              na - nb, valid_days);
}

static void test_certgen(void) {
    f_cert ca256 = f_ca("gen CA 256", MOJO_TLS_KEY_ECDSA_P256);
    f_cert ca384 = f_ca("gen CA 384", MOJO_TLS_KEY_ECDSA_P384);
    const char *sans = "localhost,www.example.org,127.0.0.1,::1";
    const char *sans_view = "DNS:localhost\nDNS:www.example.org\nIP:127.0.0.1\nIP:::1";

    /* leaf P-384 under the P-384 CA, valid from 2 days ago for 10 days */
    f_cert leaf384;
    leaf384.g = mojo_tls_gencert_new_leaf(ca384.g, "gen leaf 384", sans, -2, 10, MOJO_TLS_USAGE_SERVER,
                                      MOJO_TLS_KEY_ECDSA_P384);
    REQUIRE_NONNULL(leaf384.g);
    leaf384.cert = h_gencert_pem(leaf384.g, 0, &leaf384.cert_len);
    leaf384.key = h_gencert_pem(leaf384.g, 1, &leaf384.key_len);
    /* leaf P-256 under the P-384 CA and P-384 under the P-256 CA: mixed chains */
    f_cert mixed1 = f_leaf(&ca384, "mixed one", sans, MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256);
    f_cert mixed2 = f_leaf(&ca256, "mixed two", sans, MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P384);
    f_cert both = f_leaf(&ca256, "both", "both.example", MOJO_TLS_USAGE_SERVER | MOJO_TLS_USAGE_CLIENT,
                         MOJO_TLS_KEY_ECDSA_P256);
    f_cert clientonly = f_leaf(&ca256, "client only", "localhost", MOJO_TLS_USAGE_CLIENT, MOJO_TLS_KEY_ECDSA_P256);
    f_cert self = f_leaf(NULL, "self signed", "self.example,10.1.2.3", MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P384);

    /* every SAN is a name the client accepts; the peer sees what we generated */
    f_srv s;
    mojo_tls_conn *c = NULL;
    static const char *names[] = {"localhost", "www.example.org", "127.0.0.1", "::1", "LOCALHOST"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        c = NULL;
        CHECK_MSG(connect_as(&leaf384, &ca384, names[i], &c, &s) == 0, "P-384 leaf: name %s rejected", names[i]);
        if (c) {
            check_leaf_view(c, "CN=gen leaf 384", "CN=gen CA 384", sans_view, -2, 10);
            f_end(&s, c);
        }
    }
    printf("  P-384 leaf accepted as localhost, www.example.org, 127.0.0.1, ::1\n");
    /* names that are not in the SANs are rejected (the SANs are real) */
    static const char *wrong[] = {"example.org", "www2.example.org", "127.0.0.2", "::2", "gen leaf 384"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++)
        CHECK_MSG(connect_as(&leaf384, &ca384, wrong[i], NULL, &s) == MOJO_TLS_ERR_VERIFY_FAILED,
                  "P-384 leaf: name %s accepted", wrong[i]);
    /* the chain is real: another CA does not verify it */
    CHECK_EQ(connect_as(&leaf384, &ca256, "localhost", NULL, &s), MOJO_TLS_ERR_VERIFY_FAILED);
    CHECK_EQ(connect_as(&mixed1, &ca384, "localhost", NULL, &s), 0);
    CHECK_EQ(connect_as(&mixed2, &ca256, "127.0.0.1", NULL, &s), 0);

    /* a self-signed leaf: issuer = subject; trusted directly, or not at all */
    c = NULL;
    CHECK_EQ(connect_as(&self, &self, "10.1.2.3", &c, &s), 0);
    if (c) {
        check_leaf_view(c, "CN=self signed", "CN=self signed", "DNS:self.example\nIP:10.1.2.3", 0, 10);
        f_end(&s, c);
    }
    CHECK_EQ(connect_as(&self, &ca256, "self.example", NULL, &s), MOJO_TLS_ERR_VERIFY_FAILED);

    /* usage: server+client works both ways; client-only cannot serve */
    CHECK_EQ(connect_as(&both, &ca256, "both.example", NULL, &s), 0);
    {
        mojo_tls_config *scfg = f_server_cfg(&leaf384), *ccfg = f_client_cfg(&ca384);
        REQUIRE_RC(mojo_tls_config_add_ca_mem(scfg, U8(ca256.cert), ca256.cert_len), 0);
        REQUIRE_RC(mojo_tls_config_set_client_auth(scfg, MOJO_TLS_CLIENT_AUTH_REQUIRED), 0);
        REQUIRE_RC(f_add_cert(ccfg, &both), 0);
        f_cli cli;
        c = f_run(&s, scfg, ccfg, "localhost", NULL, 0, &cli);
        F_EXPECT_OK("server+client cert as client cert", c, s, cli);
        f_end(&s, c);
        F_EXPECT_SERVER_OK("server+client cert as client cert", s);
        CHECK_MSG(strcmp(s.subject, "CN=both") == 0, "server saw client \"%s\"", s.subject);
        CHECK_RC(mojo_tls_config_free(scfg), 0);
        CHECK_RC(mojo_tls_config_free(ccfg), 0);
    }
    {
        mojo_tls_config *scfg = f_server_cfg(&clientonly), *ccfg = f_client_cfg(&ca256);
        f_cli cli;
        c = f_run(&s, scfg, ccfg, "localhost", NULL, 0, &cli);
        CHECK_MSG(c == NULL, "a client-only certificate served a TLS server");
        f_end(&s, c);
        CHECK(!s.ok);
        CHECK_RC(mojo_tls_config_free(scfg), 0);
        CHECK_RC(mojo_tls_config_free(ccfg), 0);
    }

    /* the outputs agree: DER = base64 of the PEM; key is PKCS#8; CA flag */
    {
        size_t dn;
        uint8_t *der = f_der(&leaf384, &dn);
        CHECK(dn > 100 && der[0] == 0x30);
        CHECK(strncmp(leaf384.cert, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
        CHECK(strncmp(leaf384.key, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
        CHECK(strncmp(ca256.key, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
        /* loading the PEM and the DER as CAs both trust the same chain */
        mojo_tls_config *cfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
        REQUIRE_NONNULL(cfg);
        size_t cn;
        uint8_t *ca_der = f_der(&ca384, &cn);
        CHECK_RC(mojo_tls_config_add_ca_mem(cfg, ca_der, cn), 0);
        mojo_tls_config *scfg = mojo_tls_config_new(MOJO_TLS_ROLE_SERVER);
        REQUIRE_NONNULL(scfg);
        /* DER certificate + PEM key */
        CHECK_RC(mojo_tls_config_add_cert_mem(scfg, der, dn, U8(leaf384.key), leaf384.key_len, NULL), 0);
        f_cli cli;
        c = f_run(&s, scfg, cfg, "localhost", NULL, 0, &cli);
        F_EXPECT_OK("DER CA + DER leaf", c, s, cli);
        if (c) {
            intptr_t n = mojo_tls_conn_peer_cert_der(c, NULL, 0);
            CHECK_EQ(n, (intptr_t)dn);
            uint8_t *peer = h_xmalloc(dn);
            CHECK_EQ(mojo_tls_conn_peer_cert_der(c, peer, dn), (intptr_t)dn);
            CHECK_MSG(memcmp(peer, der, dn) == 0, "the peer's DER differs from gencert_cert_der");
            free(peer);
        }
        f_end(&s, c);
        /* a key that does not match the certificate is refused */
        CHECK_RC(mojo_tls_config_add_cert_mem(scfg, U8(leaf384.cert), leaf384.cert_len, U8(mixed2.key), mixed2.key_len,
                                              NULL),
                 MOJO_TLS_ERR_PARSE);
        CHECK_RC(mojo_tls_config_free(scfg), 0);
        CHECK_RC(mojo_tls_config_free(cfg), 0);
        free(ca_der);
        free(der);
    }
    /* two generated certificates with the same names are distinct (serial, key) */
    {
        f_cert again = f_leaf(&ca256, "both", "both.example", MOJO_TLS_USAGE_SERVER | MOJO_TLS_USAGE_CLIENT,
                              MOJO_TLS_KEY_ECDSA_P256);
        CHECK(strcmp(again.cert, both.cert) != 0);
        CHECK(strcmp(again.key, both.key) != 0);
        f_cert_free(&again);
    }

    f_cert *all[] = {&ca256, &ca384, &leaf384, &mixed1, &mixed2, &both, &clientonly, &self};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) f_cert_free(all[i]);
}

int main(void) {
    h_start("test_features_certs", 240);
    test_sha256();
    test_random();
    test_certgen();
    return h_finish();
}
