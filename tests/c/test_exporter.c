/* Keying material exporter and tls-unique (mojo_tls_conn_export_keying_material,
 * mojo_tls_conn_tls_unique) over a memory-mode pair, TLS 1.2 and 1.3, on the
 * fast record layer and on Mbed TLS's: both ends derive the same bytes,
 * label, context and length change them as RFC 5705 / RFC 8446 say (TLS
 * 1.2: no context differs from an empty one and a longer output extends a
 * shorter one; TLS 1.3: no context is the empty context and the length is
 * part of the derivation), reserved TLS 1.2 labels are refused, and
 * tls-unique is the same 12 bytes on both ends on TLS 1.2 and NOT_AVAILABLE
 * on TLS 1.3. Agreement with OpenSSL and Python's ssl is checked by
 * python/tests/test_channel_binding.py. */
#include "harness.h"

#define LABEL "EXPORTER-mojo-test"

static void pump(mojo_tls_conn *from, mojo_tls_conn *to) {
    unsigned char buf[16384];
    intptr_t n;
    while ((n = mojo_tls_conn_drain(from, buf, sizeof buf)) > 0) CHECK_RC(mojo_tls_conn_feed(to, buf, (size_t)n), n);
}

static void handshake(mojo_tls_conn *c, mojo_tls_conn *s) {
    int rc = MOJO_TLS_ERR_WANT_READ, rs = MOJO_TLS_ERR_WANT_READ;
    for (int i = 0; i < 50 && (rc != 0 || rs != 0); i++) {
        rc = mojo_tls_conn_handshake(c);
        pump(c, s);
        rs = mojo_tls_conn_handshake(s);
        pump(s, c);
    }
    REQUIRE_RC(rc, 0);
    REQUIRE_RC(rs, 0);
    /* data both ways: the record layer is chosen and TLS 1.3 tickets processed */
    unsigned char b[8];
    mojo_tls_conn *pair[2][2] = {{c, s}, {s, c}};
    for (int i = 0; i < 2; i++) {
        CHECK_RC(mojo_tls_conn_write(pair[i][0], "ping", 4), 4);
        pump(pair[i][0], pair[i][1]);
        CHECK_RC(mojo_tls_conn_read(pair[i][1], b, sizeof b), 4);
        pump(pair[i][1], pair[i][0]);
    }
}

static void ekm(mojo_tls_conn *c, const char *label, const void *ctx, size_t ctx_len, uint8_t *out, size_t len) {
    memset(out, 0, len);
    CHECK_RC(mojo_tls_conn_export_keying_material(c, label, strlen(label), ctx, ctx_len, out, len), (intptr_t)len);
}

static void run(const h_pki *pki, int32_t version, int32_t layer) {
    printf("  %s, record layer %s\n", version == MOJO_TLS_VERSION_TLS1_2 ? "TLS 1.2" : "TLS 1.3",
           layer == MOJO_TLS_RECORD_LAYER_AUTO ? "auto" : "Mbed TLS");
    mojo_tls_config *scfg = h_server_config(pki);
    mojo_tls_config *ccfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    REQUIRE_RC(mojo_tls_config_set_max_version(ccfg, version), 0);
    REQUIRE_RC(mojo_tls_config_set_record_layer(ccfg, layer), 0);
    REQUIRE_RC(mojo_tls_config_set_record_layer(scfg, layer), 0);
    mojo_tls_conn *c = mojo_tls_conn_new_memory(ccfg, "localhost");
    mojo_tls_conn *s = mojo_tls_conn_new_memory(scfg, NULL);
    REQUIRE_NONNULL(c);
    REQUIRE_NONNULL(s);

    uint8_t a[64], b[64], zero[64] = {0};
    CHECK_RC(mojo_tls_conn_export_keying_material(c, LABEL, strlen(LABEL), NULL, 0, a, 32),
             MOJO_TLS_ERR_NOT_AVAILABLE);
    handshake(c, s);
    CHECK_EQ(mojo_tls_conn_version(c), version);

    ekm(c, LABEL, NULL, 0, a, 32);
    ekm(s, LABEL, NULL, 0, b, 32);
    CHECK_MSG(memcmp(a, b, 32) == 0, "client and server export different keying material");
    CHECK_MSG(memcmp(a, zero, 32) != 0, "exported all zeros");
    uint8_t no_ctx[32];
    memcpy(no_ctx, a, 32);

    ekm(c, "EXPORTER-other", NULL, 0, b, 32);
    CHECK_MSG(memcmp(no_ctx, b, 32) != 0, "another label gave the same bytes");

    ekm(c, LABEL, "abc", 3, a, 32);
    ekm(s, LABEL, "abc", 3, b, 32);
    CHECK_MSG(memcmp(a, b, 32) == 0, "with a context: the ends disagree");
    CHECK_MSG(memcmp(a, no_ctx, 32) != 0, "a context changed nothing");

    ekm(c, LABEL, "", 0, a, 32); /* non-NULL, empty: an empty context */
    if (version == MOJO_TLS_VERSION_TLS1_3)
        CHECK_MSG(memcmp(a, no_ctx, 32) == 0, "TLS 1.3: an empty context differs from none");
    else
        CHECK_MSG(memcmp(a, no_ctx, 32) != 0, "TLS 1.2: an empty context equals none");

    ekm(s, LABEL, NULL, 0, b, 64);
    if (version == MOJO_TLS_VERSION_TLS1_2)
        CHECK_MSG(memcmp(b, no_ctx, 32) == 0, "TLS 1.2: 64 bytes do not extend 32");
    else
        CHECK_MSG(memcmp(b, no_ctx, 32) != 0, "TLS 1.3: the length is not part of the derivation");

    intptr_t want = version == MOJO_TLS_VERSION_TLS1_2 ? MOJO_TLS_ERR_INVALID_ARGUMENT : 32;
    CHECK_RC(mojo_tls_conn_export_keying_material(c, "master secret", 13, NULL, 0, a, 32), want);
    CHECK_RC(mojo_tls_conn_export_keying_material(c, LABEL, strlen(LABEL), NULL, 0, a, 0),
             MOJO_TLS_ERR_INVALID_ARGUMENT);

    uint8_t tu_c[64], tu_s[64];
    intptr_t nc = mojo_tls_conn_tls_unique(c, tu_c, sizeof tu_c);
    intptr_t ns = mojo_tls_conn_tls_unique(s, tu_s, sizeof tu_s);
    if (version == MOJO_TLS_VERSION_TLS1_2) {
        CHECK_EQ(nc, 12);
        CHECK_EQ(ns, 12);
        CHECK_MSG(nc == 12 && ns == 12 && memcmp(tu_c, tu_s, 12) == 0, "tls-unique differs between the ends");
        CHECK_RC(mojo_tls_conn_tls_unique(c, NULL, 0), 12);
    } else {
        CHECK_EQ(nc, MOJO_TLS_ERR_NOT_AVAILABLE);
        CHECK_EQ(ns, MOJO_TLS_ERR_NOT_AVAILABLE);
    }
    CHECK_RC(mojo_tls_conn_free(c), 0);
    CHECK_RC(mojo_tls_conn_free(s), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
}

int main(void) {
    h_start("test_exporter", 120);
    h_pki pki;
    h_pki_make(&pki);
    int32_t versions[] = {MOJO_TLS_VERSION_TLS1_3, MOJO_TLS_VERSION_TLS1_2};
    int32_t layers[] = {MOJO_TLS_RECORD_LAYER_AUTO, MOJO_TLS_RECORD_LAYER_MBEDTLS};
    for (int v = 0; v < 2; v++)
        for (int l = 0; l < 2; l++) run(&pki, versions[v], layers[l]);
    h_pki_free(&pki);
    return h_finish();
}
