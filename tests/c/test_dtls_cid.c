/* DTLS Connection ID (RFC 9146) in memory mode: the test is the network,
 * so every datagram's bytes can be inspected. Checks: CIDs negotiated both
 * ways (records after the handshake are tls12_cid, content type 25, and
 * carry the receiver's CID), asymmetric lengths, an empty CID on one side,
 * off by default (content type 23); a server application that routes by
 * the CID read with mojo_tls_dtls_datagram_connection_id keeps serving a
 * client whose address changes, and moves its idea of the client's
 * address only after a read proves the datagram authentic (a tampered or
 * replayed one from another address moves nothing); the helper on
 * garbage; argument and state errors. */
#include "harness.h"

#define MAXD 2048

static int is_want(intptr_t rc) { return rc == MOJO_TLS_ERR_WANT_READ || rc == MOJO_TLS_ERR_WANT_WRITE; }

#define REQUIRE_MSG_WANT(rc, who)                                                        \
    do {                                                                                 \
        if (!is_want(rc)) {                                                              \
            h_fail(__FILE__, __LINE__, "%s handshake: %d (%s)", who, rc, h_code_name(rc)); \
            h_abort();                                                                   \
        }                                                                                \
    } while (0)

/* Move every queued datagram from `from` to `to`; returns how many. */
static int pump(mojo_tls_conn *from, mojo_tls_conn *to) {
    unsigned char buf[MAXD];
    int k = 0;
    for (;;) {
        intptr_t n = mojo_tls_conn_drain_datagram(from, buf, sizeof buf);
        REQUIRE_OK(n);
        if (n == 0) return k;
        REQUIRE_RC(mojo_tls_conn_feed_datagram(to, buf, (size_t)n), n);
        k++;
    }
}

/* A lossless handshake (with the cookie exchange). */
static void handshake(mojo_tls_conn *cli, mojo_tls_conn *srv) {
    int dc = 0, ds = 0;
    for (int round = 0; !(dc && ds); round++) {
        REQUIRE(round < 50);
        if (!dc) {
            int rc = mojo_tls_conn_handshake(cli);
            if (rc == 0) dc = 1;
            else REQUIRE_MSG_WANT(rc, "client");
        }
        pump(cli, srv);
        if (!ds) {
            int rc = mojo_tls_conn_handshake(srv);
            if (rc == 0) ds = 1;
            else REQUIRE_MSG_WANT(rc, "server");
        }
        pump(srv, cli);
    }
    /* The client's Finished may still be on its way. */
    unsigned char scratch[64];
    CHECK_RC(mojo_tls_conn_read(srv, scratch, sizeof scratch), MOJO_TLS_ERR_WANT_READ);
    CHECK_RC(mojo_tls_conn_read(cli, scratch, sizeof scratch), MOJO_TLS_ERR_WANT_READ);
}

typedef struct {
    mojo_tls_conn *cli, *srv;
} pair_t;

static pair_t make_pair(mojo_tls_config *ccfg, mojo_tls_config *scfg, const char *peer) {
    pair_t p;
    p.cli = mojo_tls_conn_new_memory(ccfg, "localhost");
    REQUIRE_NONNULL(p.cli);
    p.srv = mojo_tls_conn_new_memory(scfg, NULL);
    REQUIRE_NONNULL(p.srv);
    REQUIRE_RC(mojo_tls_conn_set_peer_id(p.srv, peer, strlen(peer)), 0);
    handshake(p.cli, p.srv);
    return p;
}

static void free_pair(pair_t *p) {
    mojo_tls_conn_free(p->cli);
    mojo_tls_conn_free(p->srv);
}

/* `from` writes `msg`; the one datagram it sends is returned in `d`. */
static size_t write_one(mojo_tls_conn *from, const char *msg, unsigned char *d) {
    REQUIRE_RC(mojo_tls_conn_write(from, msg, strlen(msg)), (intptr_t)strlen(msg));
    intptr_t n = mojo_tls_conn_drain_datagram(from, d, MAXD);
    REQUIRE(n > 0);
    CHECK_RC(mojo_tls_conn_drain_datagram(from, NULL, 0), 0);
    return (size_t)n;
}

/* Feed `d` to `to` and read: the plaintext's length, or the read's error. */
static intptr_t feed_read(mojo_tls_conn *to, const unsigned char *d, size_t n, char *out, size_t cap) {
    REQUIRE_RC(mojo_tls_conn_feed_datagram(to, d, n), (intptr_t)n);
    return mojo_tls_conn_read(to, out, cap);
}

static intptr_t cid_of(mojo_tls_conn *c, int which, unsigned char *buf) {
    return mojo_tls_conn_dtls_connection_id(c, which, buf, 32);
}

/* One datagram each way; checks its content type and, for type 25, that
 * it carries the receiver's own CID (read back with the helper). */
static void exchange(pair_t *p, int want_type_c2s, int want_type_s2c) {
    unsigned char d[MAXD], cid[32], got[32];
    char out[256];
    size_t n = write_one(p->cli, "ping from the client", d);
    CHECK_EQ(d[0], want_type_c2s);
    if (want_type_c2s == 25) {
        intptr_t len = cid_of(p->srv, MOJO_TLS_DTLS_CID_OWN, cid);
        REQUIRE(len > 0);
        CHECK_EQ(mojo_tls_dtls_datagram_connection_id(d, n, (size_t)len, got, sizeof got), len);
        CHECK(memcmp(got, cid, (size_t)len) == 0);
        CHECK(memcmp(d + 11, cid, (size_t)len) == 0);
    } else {
        CHECK_RC(mojo_tls_dtls_datagram_connection_id(d, n, 4, got, sizeof got), MOJO_TLS_ERR_NOT_AVAILABLE);
    }
    CHECK_EQ(feed_read(p->srv, d, n, out, sizeof out), (intptr_t)strlen("ping from the client"));
    n = write_one(p->srv, "pong from the server", d);
    CHECK_EQ(d[0], want_type_s2c);
    if (want_type_s2c == 25) {
        intptr_t len = cid_of(p->cli, MOJO_TLS_DTLS_CID_OWN, cid);
        REQUIRE(len > 0);
        CHECK(memcmp(d + 11, cid, (size_t)len) == 0);
    }
    CHECK_EQ(feed_read(p->cli, d, n, out, sizeof out), (intptr_t)strlen("pong from the server"));
}

static mojo_tls_config *dtls(mojo_tls_config *cfg, int cid_len) {
    REQUIRE_RC(mojo_tls_config_set_transport(cfg, MOJO_TLS_TRANSPORT_DATAGRAM), 0);
    if (cid_len != MOJO_TLS_DTLS_CID_OFF) REQUIRE_RC(mojo_tls_config_set_dtls_connection_id(cfg, cid_len), 0);
    return cfg;
}

/* Negotiation with the given lengths (OFF = not set). */
static void negotiate(const h_pki *pki, int clen, int slen) {
    printf("  client CID %d, server CID %d\n", clen, slen);
    mojo_tls_config *ccfg = dtls(h_client_config(pki->ca_pem, pki->ca_pem_len), clen);
    mojo_tls_config *scfg = dtls(h_server_config(pki), slen);
    pair_t p = make_pair(ccfg, scfg, "10.0.0.1:5000");
    unsigned char a[32], b[32];
    int on = clen >= 0 && slen >= 0 && (clen > 0 || slen > 0);
    if (!on) {
        CHECK_RC(cid_of(p.cli, MOJO_TLS_DTLS_CID_OWN, a), MOJO_TLS_ERR_NOT_AVAILABLE);
        CHECK_RC(cid_of(p.srv, MOJO_TLS_DTLS_CID_PEER, a), MOJO_TLS_ERR_NOT_AVAILABLE);
        exchange(&p, 23, 23);
    } else {
        /* Each side's own CID is what the other sends to. */
        CHECK_EQ(cid_of(p.cli, MOJO_TLS_DTLS_CID_OWN, a), clen);
        CHECK_EQ(cid_of(p.srv, MOJO_TLS_DTLS_CID_PEER, b), clen);
        CHECK(memcmp(a, b, (size_t)clen) == 0);
        CHECK_EQ(cid_of(p.srv, MOJO_TLS_DTLS_CID_OWN, a), slen);
        CHECK_EQ(cid_of(p.cli, MOJO_TLS_DTLS_CID_PEER, b), slen);
        CHECK(memcmp(a, b, (size_t)slen) == 0);
        /* An empty CID means plain records in that direction. */
        exchange(&p, slen > 0 ? 25 : 23, clen > 0 ? 25 : 23);
    }
    free_pair(&p);
    mojo_tls_config_free(ccfg);
    mojo_tls_config_free(scfg);
}

/* --- a server application that routes by CID ------------------------------ */

typedef struct {
    mojo_tls_conn *srv;
    char addr[32];          /* where the application sends this client's replies */
    unsigned char cid[32];  /* our own CID: what the client's records carry */
    size_t cid_len;
} route_t;

/* What the application does with a datagram from `from`: route it by its
 * CID (else by address), read it, and move the client's address only if
 * the read returned plaintext (the record authenticated and was new). */
static intptr_t deliver(route_t *r, int nr, const char *from, const unsigned char *d, size_t n, size_t cid_len,
                        int *routed_to) {
    unsigned char cid[32];
    intptr_t k = mojo_tls_dtls_datagram_connection_id(d, n, cid_len, cid, sizeof cid);
    route_t *to = NULL;
    for (int i = 0; i < nr && !to; i++) {
        if (k > 0 && (size_t)k == r[i].cid_len && memcmp(cid, r[i].cid, (size_t)k) == 0) to = &r[i];
        if (k < 0 && strcmp(r[i].addr, from) == 0) to = &r[i];
    }
    *routed_to = to ? (int)(to - r) : -1;
    if (!to) return MOJO_TLS_ERR_NOT_AVAILABLE;
    char out[256];
    intptr_t rc = feed_read(to->srv, d, n, out, sizeof out);
    if (rc > 0 && strcmp(to->addr, from) != 0) snprintf(to->addr, sizeof to->addr, "%s", from);
    return rc;
}

static void moving_client(const h_pki *pki) {
    printf("  a client that moves\n");
    mojo_tls_config *ccfg = dtls(h_client_config(pki->ca_pem, pki->ca_pem_len), 0);
    mojo_tls_config *scfg = dtls(h_server_config(pki), 4);
    pair_t a = make_pair(ccfg, scfg, "192.0.2.1:1000");
    pair_t b = make_pair(ccfg, scfg, "192.0.2.2:2000");
    route_t r[2] = {{a.srv, "192.0.2.1:1000", {0}, 0}, {b.srv, "192.0.2.2:2000", {0}, 0}};
    for (int i = 0; i < 2; i++) {
        intptr_t k = cid_of(r[i].srv, MOJO_TLS_DTLS_CID_OWN, r[i].cid);
        REQUIRE_RC(k, 4);
        r[i].cid_len = (size_t)k;
    }
    CHECK(memcmp(r[0].cid, r[1].cid, 4) != 0); /* random: 2^-32 to collide */

    unsigned char d[MAXD], old[MAXD];
    char out[256];
    int to;
    /* From its first address. */
    size_t n = write_one(a.cli, "a1", d);
    CHECK_EQ(deliver(r, 2, "192.0.2.1:1000", d, n, 4, &to), 2);
    CHECK_EQ(to, 0);
    memcpy(old, d, n);
    size_t old_n = n;
    /* The NAT rebinds client a to a new port: routed by CID, not address. */
    for (int i = 0; i < 5; i++) {
        n = write_one(a.cli, "a2", d);
        CHECK_EQ(deliver(r, 2, "192.0.2.1:4444", d, n, 4, &to), 2);
        CHECK_EQ(to, 0);
        CHECK(strcmp(r[0].addr, "192.0.2.1:4444") == 0);
        /* The reply goes to the new address and reaches the client. */
        n = write_one(a.srv, "echo a2", d);
        CHECK_EQ(feed_read(a.cli, d, n, out, sizeof out), 7);
    }
    /* Client b is unaffected. */
    n = write_one(b.cli, "b1", d);
    CHECK_EQ(deliver(r, 2, "192.0.2.2:2000", d, n, 4, &to), 2);
    CHECK_EQ(to, 1);
    /* A datagram of a's fed to b's connection (what routing by a stale
     * address would do) is dropped there: its CID is not b's. */
    n = write_one(a.cli, "misrouted", d);
    CHECK_RC(feed_read(b.srv, d, n, out, sizeof out), MOJO_TLS_ERR_WANT_READ);
    CHECK_EQ(feed_read(a.srv, d, n, out, sizeof out), 9);
    /* Spoofed address, right CID, tampered ciphertext: routed to a, fails
     * to authenticate (dropped, as DTLS drops bad records), the address
     * stays. */
    n = write_one(a.cli, "a3", d);
    d[n - 1] ^= 0x40;
    CHECK_RC(deliver(r, 2, "203.0.113.9:666", d, n, 4, &to), MOJO_TLS_ERR_WANT_READ);
    CHECK_EQ(to, 0);
    CHECK(strcmp(r[0].addr, "192.0.2.1:4444") == 0);
    /* An attacker replaying a's genuine old datagram from its own address:
     * authentic but a replay, dropped by anti-replay; the address stays. */
    CHECK_RC(deliver(r, 2, "203.0.113.9:666", old, old_n, 4, &to), MOJO_TLS_ERR_WANT_READ);
    CHECK(strcmp(r[0].addr, "192.0.2.1:4444") == 0);
    /* The connection is still fine. */
    n = write_one(a.cli, "a4", d);
    CHECK_EQ(deliver(r, 2, "192.0.2.1:4444", d, n, 4, &to), 2);
    free_pair(&a);
    free_pair(&b);
    mojo_tls_config_free(ccfg);
    mojo_tls_config_free(scfg);
}

/* --- the helper on garbage, and argument/state errors ---------------------- */

static void helper_errors(void) {
    printf("  the datagram helper on bad input\n");
    unsigned char rec[64] = {25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 'w', 'x', 'y', 'z', 0, 3, 1, 2, 3};
    unsigned char got[32];
    CHECK_EQ(mojo_tls_dtls_datagram_connection_id(rec, 20, 4, got, sizeof got), 4);
    CHECK(memcmp(got, "wxyz", 4) == 0);
    CHECK_EQ(mojo_tls_dtls_datagram_connection_id(rec, 20, 4, NULL, 0), 4); /* size query */
    memset(got, 0, sizeof got);
    CHECK_EQ(mojo_tls_dtls_datagram_connection_id(rec, 20, 4, got, 2), 4); /* what fits */
    CHECK(memcmp(got, "wx\0\0", 4) == 0);
    for (size_t cut = 1; cut < 17; cut++)
        CHECK_RC(mojo_tls_dtls_datagram_connection_id(rec, cut, 4, got, sizeof got), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_dtls_datagram_connection_id(rec, 19, 4, got, sizeof got), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_dtls_datagram_connection_id(rec, 20, 8, got, sizeof got), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_dtls_datagram_connection_id(rec, 20, 0, got, sizeof got), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_dtls_datagram_connection_id(rec, 20, 256, got, sizeof got), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_dtls_datagram_connection_id(rec, 20, 255, got, sizeof got), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_dtls_datagram_connection_id(NULL, 20, 4, got, sizeof got), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_dtls_datagram_connection_id(rec, 0, 4, got, sizeof got), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_dtls_datagram_connection_id(rec, 20, 4, NULL, 8), MOJO_TLS_ERR_INVALID_ARGUMENT);
    rec[2] = 0xff; /* DTLS 1.0 */
    CHECK_RC(mojo_tls_dtls_datagram_connection_id(rec, 20, 4, got, sizeof got), MOJO_TLS_ERR_INVALID_ARGUMENT);
    for (unsigned t = 20; t < 25; t++) {
        rec[0] = (unsigned char)t;
        CHECK_RC(mojo_tls_dtls_datagram_connection_id(rec, 20, 4, got, sizeof got), MOJO_TLS_ERR_NOT_AVAILABLE);
    }
    /* Random bytes: an answer or an error, never a crash or an overrun. */
    unsigned char junk[300];
    for (int i = 0; i < 2000; i++) {
        size_t len = 1 + (size_t)(i % 299);
        h_fill(junk, len, (uint64_t)i);
        if (i % 3 == 0) junk[0] = 25;
        intptr_t k = mojo_tls_dtls_datagram_connection_id(junk, len, 1 + (size_t)(i % 32), got, sizeof got);
        CHECK(k == 1 + (i % 32) || k == MOJO_TLS_ERR_NOT_AVAILABLE || k == MOJO_TLS_ERR_INVALID_ARGUMENT);
    }
}

static void state_errors(const h_pki *pki) {
    printf("  argument and state errors\n");
    unsigned char b[32];
    CHECK_RC(mojo_tls_config_set_dtls_connection_id(NULL, 4), MOJO_TLS_ERR_INVALID_HANDLE);
    CHECK_RC(mojo_tls_conn_dtls_connection_id(NULL, 0, b, sizeof b), MOJO_TLS_ERR_INVALID_HANDLE);
    mojo_tls_config *stale = h_client_config(pki->ca_pem, pki->ca_pem_len);
    mojo_tls_config_free(stale);
    CHECK_RC(mojo_tls_config_set_dtls_connection_id(stale, 4), MOJO_TLS_ERR_INVALID_HANDLE);

    mojo_tls_config *tls = h_client_config(pki->ca_pem, pki->ca_pem_len);
    CHECK_RC(mojo_tls_config_set_dtls_connection_id(tls, 4), MOJO_TLS_ERR_BAD_STATE); /* a TLS config */
    CHECK_RC(mojo_tls_config_set_dtls_connection_id(tls, MOJO_TLS_DTLS_CID_OFF), 0);
    mojo_tls_conn *t = mojo_tls_conn_new_memory(tls, "localhost");
    REQUIRE_NONNULL(t);
    CHECK_RC(mojo_tls_conn_dtls_connection_id(t, MOJO_TLS_DTLS_CID_OWN, b, sizeof b), MOJO_TLS_ERR_NOT_AVAILABLE);
    mojo_tls_conn_free(t);
    CHECK_RC(mojo_tls_conn_dtls_connection_id(t, MOJO_TLS_DTLS_CID_OWN, b, sizeof b), MOJO_TLS_ERR_INVALID_HANDLE);

    REQUIRE_RC(mojo_tls_config_set_transport(tls, MOJO_TLS_TRANSPORT_DATAGRAM), 0);
    CHECK_RC(mojo_tls_config_set_dtls_connection_id(tls, -2), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_dtls_connection_id(tls, 33), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_dtls_connection_id(tls, INT32_MIN), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_dtls_connection_id(tls, 32), 0);
    CHECK_RC(mojo_tls_config_set_dtls_connection_id(tls, 0), 0);
    CHECK_RC(mojo_tls_config_set_dtls_connection_id(tls, 8), 0);
    t = mojo_tls_conn_new_memory(tls, "localhost");
    REQUIRE_NONNULL(t);
    /* Before the handshake nothing is negotiated. */
    CHECK_RC(mojo_tls_conn_dtls_connection_id(t, MOJO_TLS_DTLS_CID_OWN, b, sizeof b), MOJO_TLS_ERR_NOT_AVAILABLE);
    CHECK_RC(mojo_tls_conn_dtls_connection_id(t, 2, b, sizeof b), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_conn_dtls_connection_id(t, -1, b, sizeof b), MOJO_TLS_ERR_INVALID_ARGUMENT);
    mojo_tls_conn_free(t);
    mojo_tls_config_free(tls);
}

static void size_query(const h_pki *pki) {
    mojo_tls_config *ccfg = dtls(h_client_config(pki->ca_pem, pki->ca_pem_len), 32);
    mojo_tls_config *scfg = dtls(h_server_config(pki), 5);
    pair_t p = make_pair(ccfg, scfg, "peer");
    unsigned char b[32];
    CHECK_EQ(mojo_tls_conn_dtls_connection_id(p.cli, MOJO_TLS_DTLS_CID_OWN, NULL, 0), 32);
    CHECK_EQ(mojo_tls_conn_dtls_connection_id(p.cli, MOJO_TLS_DTLS_CID_PEER, b, 3), 5);
    CHECK_RC(mojo_tls_conn_dtls_connection_id(p.cli, MOJO_TLS_DTLS_CID_PEER, NULL, 3), MOJO_TLS_ERR_INVALID_ARGUMENT);
    exchange(&p, 25, 25);
    /* After close the connection answers CLOSED, as other getters do. */
    mojo_tls_conn_close(p.cli);
    CHECK_RC(mojo_tls_conn_dtls_connection_id(p.cli, MOJO_TLS_DTLS_CID_OWN, b, sizeof b), MOJO_TLS_ERR_CLOSED);
    free_pair(&p);
    mojo_tls_config_free(ccfg);
    mojo_tls_config_free(scfg);
}

int main(void) {
    h_start("test_dtls_cid", 120);
    h_pki pki;
    h_pki_make(&pki);
    negotiate(&pki, MOJO_TLS_DTLS_CID_OFF, MOJO_TLS_DTLS_CID_OFF); /* the default */
    negotiate(&pki, 8, 8);
    negotiate(&pki, 6, 8);                     /* asymmetric lengths */
    negotiate(&pki, 0, 8);                     /* the client asks for no CID */
    negotiate(&pki, 8, 0);                     /* the server asks for none */
    negotiate(&pki, 8, MOJO_TLS_DTLS_CID_OFF); /* the server does not do CIDs */
    negotiate(&pki, MOJO_TLS_DTLS_CID_OFF, 8);
    negotiate(&pki, 0, 0); /* both empty: as without */
    size_query(&pki);
    moving_client(&pki);
    helper_errors();
    state_errors(&pki);
    h_pki_free(&pki);
    return h_finish();
}
