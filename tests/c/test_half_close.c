/* Half-close. TLS 1.3 closes each direction on its own (RFC 8446 §6.1):
 * after the peer's close_notify (read returns 0) this side may still
 * write, and the peer, having sent close_notify, still reads until ours.
 * TLS 1.2's close_notify ends both directions: writing after it is
 * MOJO_TLS_ERR_CLOSED. Both record layers; the server is the one that
 * closes first (a client that sends a request and says "no more"). */
#include "harness.h"

typedef struct {
    int version;
    int answered; /* the server read the reply after its close_notify */
} hc_state;

static void server_fn(h_server_slot *slot, mojo_tls_conn *c, void *arg) {
    (void)slot;
    hc_state *st = arg;
    CHECK_RC(mojo_tls_conn_write_all(c, U8("request"), 7), 7);
    CHECK_RC(mojo_tls_conn_close_notify(c), 0);
    /* our direction is closed, so writing is refused; reading goes on */
    CHECK_RC(mojo_tls_conn_write(c, U8("x"), 1), MOJO_TLS_ERR_CLOSED);
    if (st->version != MOJO_TLS_VERSION_TLS1_3) return;
    unsigned char b[16];
    CHECK_RC(h_read_exact(c, b, 5), 5);
    CHECK(memcmp(b, "reply", 5) == 0);
    CHECK_RC(mojo_tls_conn_read(c, b, sizeof b), 0); /* the client's close_notify */
    st->answered = 1;
}

static void one(const h_pki *pki, int layer, int version) {
    mojo_tls_config *scfg = h_server_config(pki);
    mojo_tls_config *ccfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    CHECK_RC(mojo_tls_config_set_record_layer(scfg, layer), 0);
    CHECK_RC(mojo_tls_config_set_record_layer(ccfg, layer), 0);
    CHECK_RC(mojo_tls_config_set_max_version(ccfg, version), 0);
    hc_state st = {version, 0};
    h_server srv;
    h_server_start(&srv, scfg, 1, server_fn, &st);
    mojo_tls_conn *c = h_connect(ccfg, srv.port);
    CHECK_RC(mojo_tls_conn_version(c), version);
    unsigned char b[16];
    CHECK_RC(h_read_exact(c, b, 7), 7);
    CHECK(memcmp(b, "request", 7) == 0);
    CHECK_RC(mojo_tls_conn_read(c, b, sizeof b), 0); /* the server's close_notify */
    if (version == MOJO_TLS_VERSION_TLS1_3) {
        CHECK_RC(mojo_tls_conn_write_all(c, U8("reply"), 5), 5);
        CHECK_RC(mojo_tls_conn_close_notify(c), 0);
    } else {
        CHECK_RC(mojo_tls_conn_write(c, U8("reply"), 5), MOJO_TLS_ERR_CLOSED);
    }
    CHECK_RC(mojo_tls_conn_read(c, b, sizeof b), 0); /* still a clean EOF */
    h_server_join(&srv);
    if (version == MOJO_TLS_VERSION_TLS1_3) CHECK_MSG(st.answered, "layer %d: the server never got the reply", layer);
    CHECK_RC(mojo_tls_conn_free(c), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
}

int main(void) {
    h_start("test_half_close", 60);
    h_pki pki;
    h_pki_make(&pki);
    const int layers[] = {MOJO_TLS_RECORD_LAYER_AUTO, MOJO_TLS_RECORD_LAYER_MBEDTLS};
    for (int l = 0; l < 2; l++) {
        one(&pki, layers[l], MOJO_TLS_VERSION_TLS1_3);
        one(&pki, layers[l], MOJO_TLS_VERSION_TLS1_2);
    }
    h_pki_free(&pki);
    return h_finish();
}
