/* The fast record layer (issue 11): after Mbed TLS's handshake, ring (or
 * kernel TLS) protects the records.
 *
 *  - used by default (memory mode and sockets), with the reason kernel TLS
 *    is not used in its detail; the MOJO_TLS_RECORD_LAYER_MBEDTLS switch
 *    keeps Mbed TLS's record layer; a fast peer and an Mbed TLS peer talk
 *  - a suite the fast layer does not run (CBC) falls back to Mbed TLS
 *  - data both ways in sizes around the record limit, pending counts
 *  - close_notify -> 0, transport EOF without it (also mid-record) -> TRUNCATED
 *  - a tampered record -> bad_record_mac, both directions, and the peer
 *    receives the alert
 *  - TLS 1.3 (system backend): KeyUpdate both ways, with and without
 *    update_requested, data verified after each; NOT_AVAILABLE on TLS 1.2
 *    and on Mbed TLS's record layer
 *  - an oversized record -> record_overflow
 *  - resumption with tickets across the fast layer (TLS 1.3: the client's
 *    NewSessionTicket reaches Mbed TLS through the record layer)
 *  - sockets: kernel TLS where the kernel has it, else the ring layer with
 *    the reason (this test's kernel: no tls module -> a clean fallback);
 *    non-blocking writes with WANT_WRITE retried with the same data, a
 *    32 MiB checksummed transfer each way
 */
#include "harness.h"

static int is_want(intptr_t rc) { return rc == MOJO_TLS_ERR_WANT_READ || rc == MOJO_TLS_ERR_WANT_WRITE; }

static size_t pump(mojo_tls_conn *a, mojo_tls_conn *b) {
    static unsigned char buf[1 << 16];
    size_t moved = 0;
    for (int guard = 0; guard < 1000000; guard++) {
        intptr_t n = mojo_tls_conn_drain(a, buf, sizeof buf);
        REQUIRE_OK(n);
        if (n == 0) return moved;
        REQUIRE_RC(mojo_tls_conn_feed(b, buf, (size_t)n), n);
        moved += (size_t)n;
    }
    h_fail(__FILE__, __LINE__, "pump never emptied the output");
    h_abort();
    return 0;
}

static void handshake_pair(mojo_tls_conn *cli, mojo_tls_conn *srv) {
    int done_c = 0, done_s = 0;
    for (int round = 0; round < 50 && !(done_c && done_s); round++) {
        if (!done_c) {
            int rc = mojo_tls_conn_handshake(cli);
            if (rc == 0) done_c = 1;
            else REQUIRE(is_want(rc));
        }
        pump(cli, srv);
        if (!done_s) {
            int rc = mojo_tls_conn_handshake(srv);
            if (rc == 0) done_s = 1;
            else REQUIRE(is_want(rc));
        }
        pump(srv, cli);
    }
    REQUIRE(done_c && done_s);
}

static void new_pair(mojo_tls_config *ccfg, mojo_tls_config *scfg, mojo_tls_conn **cli, mojo_tls_conn **srv) {
    *cli = mojo_tls_conn_new_memory(ccfg, "localhost");
    REQUIRE_NONNULL(*cli);
    *srv = mojo_tls_conn_new_memory(scfg, NULL);
    REQUIRE_NONNULL(*srv);
    handshake_pair(*cli, *srv);
}

/* src writes len bytes, dst reads them back (reading in `rpiece` chunks). */
static void transfer(mojo_tls_conn *src, mojo_tls_conn *dst, size_t len, size_t rpiece, uint64_t seed) {
    unsigned char *data = h_xmalloc(len), *rx = h_xmalloc(len);
    h_fill(data, len, seed);
    memset(rx, 0, len);
    size_t woff = 0, roff = 0;
    for (int guard = 0; roff < len && guard < 1000000; guard++) {
        if (woff < len) {
            intptr_t w = mojo_tls_conn_write(src, data + woff, len - woff);
            if (w > 0) woff += (size_t)w;
            else REQUIRE_RC(w, MOJO_TLS_ERR_WANT_WRITE);
        }
        pump(src, dst);
        for (;;) {
            size_t want = len - roff < rpiece ? len - roff : rpiece;
            if (want == 0) break;
            intptr_t r = mojo_tls_conn_read(dst, rx + roff, want);
            if (r > 0) {
                REQUIRE(r <= (intptr_t)want);
                roff += (size_t)r;
                continue;
            }
            REQUIRE_RC(r, MOJO_TLS_ERR_WANT_READ);
            break;
        }
        pump(dst, src); /* KeyUpdate answers */
    }
    CHECK_EQ(roff, len);
    CHECK(memcmp(data, rx, len) == 0);
    free(data);
    free(rx);
}

static void check_layer(const mojo_tls_conn *c, const char *want) {
    const char *name = mojo_tls_conn_record_layer(c);
    REQUIRE_NONNULL(name);
    CHECK_MSG(strcmp(name, want) == 0, "record layer \"%s\", expected \"%s\"", name, want);
    char detail[512];
    intptr_t n = mojo_tls_conn_record_layer_detail(c, detail, sizeof detail);
    CHECK(n > 0 && (size_t)n < sizeof detail);
    CHECK_CONTAINS_CI(detail, want);
}

/* Over our own socket: kernel TLS where the kernel takes it (TLS 1.2), else
 * the ring layer with the reason in the detail. */
static void check_socket_layer(const mojo_tls_conn *c) {
    const char *name = mojo_tls_conn_record_layer(c);
    REQUIRE_NONNULL(name);
    char detail[512];
    CHECK_OK(mojo_tls_conn_record_layer_detail(c, detail, sizeof detail));
    if (strcmp(name, "kernel TLS") == 0) {
        CHECK_CONTAINS_CI(detail, "kernel TLS:");
        return;
    }
    CHECK_MSG(strcmp(name, "mojo-tls (ring)") == 0, "record layer \"%s\"", name);
    CHECK_MSG(h_contains_ci(detail, "kernel TLS unavailable") || h_contains_ci(detail, "kernel TLS not used for TLS 1.3") ||
                  h_contains_ci(detail, "kernel TLS refused"),
              "no kernel TLS reason in \"%s\"", detail);
}

static mojo_tls_config *mbed_only(mojo_tls_config *cfg) {
    REQUIRE_RC(mojo_tls_config_set_record_layer(cfg, MOJO_TLS_RECORD_LAYER_MBEDTLS), 0);
    return cfg;
}

/* ------------------------------------------------------------------ */

static void t_default_and_switch(const h_pki *pki) {
    mojo_tls_config *scfg = h_server_config(pki), *ccfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    mojo_tls_conn *cli, *srv;

    /* before the handshake: no answer */
    cli = mojo_tls_conn_new_memory(ccfg, "localhost");
    REQUIRE_NONNULL(cli);
    mojo_tls_clear_error();
    CHECK(mojo_tls_conn_record_layer(cli) == NULL);
    CHECK_EQ(mojo_tls_last_error_code(), MOJO_TLS_ERR_NOT_AVAILABLE);
    CHECK_RC(mojo_tls_conn_key_update(cli, 0), MOJO_TLS_ERR_NOT_AVAILABLE);
    mojo_tls_conn_free(cli);

    CHECK_RC(mojo_tls_config_set_record_layer(ccfg, 7), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_record_layer(NULL, MOJO_TLS_RECORD_LAYER_AUTO), MOJO_TLS_ERR_INVALID_HANDLE);

    new_pair(ccfg, scfg, &cli, &srv);
    check_layer(cli, "mojo-tls (ring)");
    check_layer(srv, "mojo-tls (ring)");
    char detail[512];
    mojo_tls_conn_record_layer_detail(cli, detail, sizeof detail);
    CHECK_CONTAINS_CI(detail, "memory mode");
    transfer(cli, srv, 100000, 65536, 1);
    transfer(srv, cli, 100000, 999, 2);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);

    /* off on both sides */
    mojo_tls_config *scfg2 = mbed_only(h_server_config(pki));
    mojo_tls_config *ccfg2 = mbed_only(h_client_config(pki->ca_pem, pki->ca_pem_len));
    new_pair(ccfg2, scfg2, &cli, &srv);
    check_layer(cli, "Mbed TLS");
    check_layer(srv, "Mbed TLS");
    mojo_tls_conn_record_layer_detail(srv, detail, sizeof detail);
    CHECK_CONTAINS_CI(detail, "switched off");
    CHECK_RC(mojo_tls_conn_key_update(cli, 1), MOJO_TLS_ERR_NOT_AVAILABLE);
    transfer(cli, srv, 70000, 4096, 3);
    transfer(srv, cli, 70000, 4096, 4);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);

    /* mixed: a fast client with an Mbed TLS server, and the reverse */
    new_pair(ccfg, scfg2, &cli, &srv);
    check_layer(cli, "mojo-tls (ring)");
    check_layer(srv, "Mbed TLS");
    transfer(cli, srv, 50000, 50000, 5);
    transfer(srv, cli, 50000, 7, 6);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);
    new_pair(ccfg2, scfg, &cli, &srv);
    check_layer(cli, "Mbed TLS");
    check_layer(srv, "mojo-tls (ring)");
    transfer(cli, srv, 50000, 16384, 7);
    transfer(srv, cli, 50000, 16385, 8);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);

    mojo_tls_config_free(scfg);
    mojo_tls_config_free(ccfg);
    mojo_tls_config_free(scfg2);
    mojo_tls_config_free(ccfg2);
}

/* A suite the fast layer does not run keeps Mbed TLS's record layer. */
static void t_fallback_suite(const h_pki *pki) {
    mojo_tls_config *scfg = h_server_config(pki), *ccfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    REQUIRE_RC(mojo_tls_config_set_ciphersuites(ccfg, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"), 0);
    REQUIRE_RC(mojo_tls_config_set_ciphersuites(scfg, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"), 0);
    mojo_tls_conn *cli, *srv;
    new_pair(ccfg, scfg, &cli, &srv);
    check_layer(cli, "Mbed TLS");
    check_layer(srv, "Mbed TLS");
    char detail[512];
    mojo_tls_conn_record_layer_detail(cli, detail, sizeof detail);
    CHECK_CONTAINS_CI(detail, "CBC");
    CHECK_CONTAINS_CI(detail, "not run by the fast record layer");
    transfer(cli, srv, 40000, 40000, 9);
    transfer(srv, cli, 40000, 40000, 10);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);
    mojo_tls_config_free(scfg);
    mojo_tls_config_free(ccfg);
}

static void t_close_and_truncation(const h_pki *pki) {
    mojo_tls_config *scfg = h_server_config(pki), *ccfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    mojo_tls_conn *cli, *srv;
    unsigned char b[64];

    /* close_notify -> 0, also after data queued in front of it; then CLOSED on write */
    new_pair(ccfg, scfg, &cli, &srv);
    CHECK_RC(mojo_tls_conn_write(cli, U8("last words"), 10), 10);
    CHECK_RC(mojo_tls_conn_close_notify(cli), 0);
    CHECK_RC(mojo_tls_conn_close_notify(cli), 0);
    CHECK_RC(mojo_tls_conn_write(cli, U8("x"), 1), MOJO_TLS_ERR_CLOSED);
    pump(cli, srv);
    CHECK_RC(mojo_tls_conn_read(srv, b, sizeof b), 10);
    CHECK(memcmp(b, "last words", 10) == 0);
    CHECK_RC(mojo_tls_conn_read(srv, b, sizeof b), 0);
    CHECK_RC(mojo_tls_conn_read(srv, b, sizeof b), 0);
    CHECK_RC(mojo_tls_conn_pending(srv), 0);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);

    /* EOF without close_notify, at a record boundary */
    new_pair(ccfg, scfg, &cli, &srv);
    CHECK_RC(mojo_tls_conn_write(srv, U8("hello"), 5), 5);
    pump(srv, cli);
    CHECK_RC(mojo_tls_conn_feed_eof(cli), 0);
    CHECK_RC(mojo_tls_conn_read(cli, b, sizeof b), 5);
    CHECK_RC(mojo_tls_conn_read(cli, b, sizeof b), MOJO_TLS_ERR_TRUNCATED);
    CHECK_RC(mojo_tls_conn_read(cli, b, sizeof b), MOJO_TLS_ERR_TRUNCATED);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);

    /* EOF in the middle of a record */
    new_pair(ccfg, scfg, &cli, &srv);
    CHECK_RC(mojo_tls_conn_write(cli, U8("0123456789"), 10), 10);
    unsigned char rec[256];
    intptr_t n = mojo_tls_conn_drain(cli, rec, sizeof rec);
    REQUIRE(n > 10);
    CHECK_RC(mojo_tls_conn_feed(srv, rec, (size_t)n - 3), n - 3);
    CHECK_RC(mojo_tls_conn_read(srv, b, sizeof b), MOJO_TLS_ERR_WANT_READ);
    CHECK_RC(mojo_tls_conn_feed_eof(srv), 0);
    CHECK_RC(mojo_tls_conn_read(srv, b, sizeof b), MOJO_TLS_ERR_TRUNCATED);
    char msg[300];
    mojo_tls_last_error(msg, sizeof msg);
    CHECK_CONTAINS_CI(msg, "close_notify");
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);

    mojo_tls_config_free(scfg);
    mojo_tls_config_free(ccfg);
}

/* One flipped bit in a record: the receiver fails with bad_record_mac and
 * tells the sender, whose next read reports the alert. */
static void tamper(mojo_tls_conn *from, mojo_tls_conn *to) {
    unsigned char rec[1024], b[64];
    CHECK_RC(mojo_tls_conn_write(from, U8("tamper me please"), 16), 16);
    intptr_t n = mojo_tls_conn_drain(from, rec, sizeof rec);
    REQUIRE(n > 30);
    rec[n - 20] ^= 0x01;
    CHECK_RC(mojo_tls_conn_feed(to, rec, (size_t)n), n);
    CHECK_RC(mojo_tls_conn_read(to, b, sizeof b), MOJO_TLS_ERR_PROTOCOL);
    char msg[300];
    mojo_tls_last_error(msg, sizeof msg);
    CHECK_CONTAINS_CI(msg, "bad record MAC");
    /* later calls report the same failure */
    CHECK_RC(mojo_tls_conn_read(to, b, sizeof b), MOJO_TLS_ERR_PROTOCOL);
    CHECK_RC(mojo_tls_conn_write(to, U8("x"), 1), MOJO_TLS_ERR_PROTOCOL);
    /* the alert reaches the sender */
    CHECK(pump(to, from) > 0);
    CHECK_RC(mojo_tls_conn_read(from, b, sizeof b), MOJO_TLS_ERR_PROTOCOL);
    mojo_tls_last_error(msg, sizeof msg);
    CHECK_CONTAINS_CI(msg, "bad_record_mac");
}

static void t_tampered(const h_pki *pki) {
    mojo_tls_config *scfg = h_server_config(pki), *ccfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    mojo_tls_conn *cli, *srv;
    new_pair(ccfg, scfg, &cli, &srv);
    transfer(cli, srv, 1000, 1000, 11);
    tamper(cli, srv);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);
    new_pair(ccfg, scfg, &cli, &srv);
    transfer(srv, cli, 1000, 1000, 12);
    tamper(srv, cli);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);
    mojo_tls_config_free(scfg);
    mojo_tls_config_free(ccfg);
}

static void t_pending(const h_pki *pki) {
    mojo_tls_config *scfg = h_server_config(pki), *ccfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    mojo_tls_conn *cli, *srv;
    new_pair(ccfg, scfg, &cli, &srv);
    size_t len = 40000; /* three records */
    unsigned char *data = h_xmalloc(len), *rx = h_xmalloc(len);
    h_fill(data, len, 13);
    CHECK_RC(mojo_tls_conn_write_all(srv, data, len), (intptr_t)len);
    CHECK_RC(mojo_tls_conn_pending(cli), 0);
    pump(srv, cli);
    CHECK_RC(mojo_tls_conn_pending(cli), 0); /* nothing decrypted yet */
    CHECK_RC(mojo_tls_conn_read(cli, rx, 100), 100);
    /* exact: the two records behind the first one count too (issue 19) */
    CHECK_RC(mojo_tls_conn_pending(cli), (intptr_t)len - 100);
    /* a read that ends exactly at a record boundary leaves the rest counted */
    CHECK_RC(mojo_tls_conn_read(cli, rx + 100, 16384 - 100), 16384 - 100);
    CHECK_RC(mojo_tls_conn_pending(cli), (intptr_t)len - 16384);
    size_t got = 16384;
    while (got < len) {
        intptr_t r = mojo_tls_conn_read(cli, rx + got, len - got);
        REQUIRE(r > 0);
        got += (size_t)r;
    }
    CHECK_RC(mojo_tls_conn_pending(cli), 0);
    CHECK(memcmp(data, rx, len) == 0);
    /* the last bytes and the close_notify arrive together: once the bytes
     * are read, pending() says 1 (the EOF is inside the library), the read
     * returns 0 without new input, then pending() is 0 */
    CHECK_RC(mojo_tls_conn_write_all(srv, U8("bye"), 3), 3);
    CHECK_RC(mojo_tls_conn_close_notify(srv), 0);
    pump(srv, cli);
    CHECK_RC(mojo_tls_conn_read(cli, rx, 3), 3);
    CHECK_RC(mojo_tls_conn_pending(cli), 1);
    CHECK_RC(mojo_tls_conn_read(cli, rx, 3), 0);
    CHECK_RC(mojo_tls_conn_pending(cli), 0);
    free(data);
    free(rx);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);
    mojo_tls_config_free(scfg);
    mojo_tls_config_free(ccfg);
}

/* TLS 1.3 KeyUpdate between two mojo-tls endpoints, both ways. */
static void t_key_update(const h_pki *pki) {
    mojo_tls_config *scfg = h_server_config(pki), *ccfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    mojo_tls_conn *cli, *srv;
    new_pair(ccfg, scfg, &cli, &srv);
    if (mojo_tls_conn_version(cli) != MOJO_TLS_VERSION_TLS1_3) {
        printf("TLS 1.2 backend: KeyUpdate is TLS 1.3 only\n");
        CHECK_RC(mojo_tls_conn_key_update(cli, 0), MOJO_TLS_ERR_NOT_AVAILABLE);
        CHECK_RC(mojo_tls_conn_key_update(srv, 1), MOJO_TLS_ERR_NOT_AVAILABLE);
        transfer(cli, srv, 1000, 1000, 14); /* still usable */
    } else {
        for (int i = 0; i < 20; i++) {
            mojo_tls_conn *a = (i & 1) ? srv : cli, *b = (i & 1) ? cli : srv;
            int request = (i / 2) & 1;
            CHECK_RC(mojo_tls_conn_key_update(a, request), 0);
            transfer(a, b, 30000, 8192, 100 + (uint64_t)i); /* under a's new key */
            transfer(b, a, 30000, 30000, 200 + (uint64_t)i); /* b's key, updated if asked */
        }
        /* two in a row, then data */
        CHECK_RC(mojo_tls_conn_key_update(cli, 1), 0);
        CHECK_RC(mojo_tls_conn_key_update(cli, 1), 0);
        transfer(cli, srv, 20000, 20000, 300);
        transfer(srv, cli, 20000, 20000, 301);
        /* Mbed TLS's record layer has no KeyUpdate */
        mojo_tls_config *s2 = mbed_only(h_server_config(pki));
        mojo_tls_conn *c2, *v2;
        new_pair(ccfg, s2, &c2, &v2);
        CHECK_RC(mojo_tls_conn_key_update(v2, 0), MOJO_TLS_ERR_NOT_AVAILABLE);
        mojo_tls_conn_free(c2);
        mojo_tls_conn_free(v2);
        mojo_tls_config_free(s2);
    }
    CHECK_RC(mojo_tls_conn_close_notify(cli), 0);
    CHECK_RC(mojo_tls_conn_key_update(cli, 0), MOJO_TLS_ERR_CLOSED);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);
    mojo_tls_config_free(scfg);
    mojo_tls_config_free(ccfg);
}

/* A record longer than TLS allows (2^14 + 2048 in TLS 1.2, 2^14 + 256 in
 * TLS 1.3) is refused with record_overflow before any decryption. */
static void t_oversized(const h_pki *pki) {
    mojo_tls_config *scfg = h_server_config(pki), *ccfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    mojo_tls_conn *cli, *srv;
    new_pair(ccfg, scfg, &cli, &srv);
    int tls13 = mojo_tls_conn_version(cli) == MOJO_TLS_VERSION_TLS1_3;
    size_t body = tls13 ? 16384 + 256 + 1 : 16384 + 2048 + 1;
    unsigned char *rec = h_xmalloc(5 + body);
    rec[0] = 23;
    rec[1] = 3;
    rec[2] = 3;
    rec[3] = (unsigned char)(body >> 8);
    rec[4] = (unsigned char)body;
    memset(rec + 5, 0x5a, body);
    /* the header alone decides */
    CHECK_RC(mojo_tls_conn_feed(srv, rec, 5), 5);
    unsigned char b[64];
    CHECK_RC(mojo_tls_conn_read(srv, b, sizeof b), MOJO_TLS_ERR_PROTOCOL);
    char msg[300];
    mojo_tls_last_error(msg, sizeof msg);
    CHECK_CONTAINS_CI(msg, "record_overflow");
    CHECK(pump(srv, cli) > 0); /* the alert */
    CHECK_RC(mojo_tls_conn_read(cli, b, sizeof b), MOJO_TLS_ERR_PROTOCOL);
    mojo_tls_last_error(msg, sizeof msg);
    CHECK_CONTAINS_CI(msg, "record_overflow");
    free(rec);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);
    mojo_tls_config_free(scfg);
    mojo_tls_config_free(ccfg);
}

/* Tickets across the fast record layer: the first connection's session
 * (TLS 1.3: its ticket arrives after the handshake, through the record
 * layer into Mbed TLS) resumes a second one; data works on both. */
static void t_resumption(const h_pki *pki) {
    mojo_tls_config *scfg = h_server_config(pki), *ccfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    REQUIRE_RC(mojo_tls_config_set_session_tickets(scfg, 3600), 0);
    mojo_tls_conn *cli, *srv;
    new_pair(ccfg, scfg, &cli, &srv);
    check_layer(cli, "mojo-tls (ring)");
    check_layer(srv, "mojo-tls (ring)");
    transfer(srv, cli, 5000, 5000, 20); /* the client takes in the ticket on the way */
    transfer(cli, srv, 5000, 5000, 21);
    intptr_t n = mojo_tls_conn_session_export(cli, NULL, 0);
    REQUIRE(n > 0);
    unsigned char *blob = h_xmalloc((size_t)n);
    CHECK_RC(mojo_tls_conn_session_export(cli, blob, (size_t)n), n);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);

    cli = mojo_tls_conn_new_memory(ccfg, "localhost");
    REQUIRE_NONNULL(cli);
    CHECK_RC(mojo_tls_conn_session_import(cli, blob, (size_t)n), 0);
    srv = mojo_tls_conn_new_memory(scfg, NULL);
    REQUIRE_NONNULL(srv);
    handshake_pair(cli, srv);
    CHECK_RC(mojo_tls_conn_session_resumed(cli), 1);
    CHECK_RC(mojo_tls_conn_session_resumed(srv), 1);
    check_layer(cli, "mojo-tls (ring)");
    check_layer(srv, "mojo-tls (ring)");
    transfer(cli, srv, 50000, 50000, 22);
    transfer(srv, cli, 50000, 50000, 23);
    free(blob);
    mojo_tls_conn_free(cli);
    mojo_tls_conn_free(srv);
    mojo_tls_config_free(scfg);
    mojo_tls_config_free(ccfg);
}

/* ------------------------------------------------------------------ sockets */

enum { BIG = 32 << 20 };

typedef struct {
    uint64_t rx_sum, tx_sum;
    size_t rx;
} sock_result;

/* Server: read BIG bytes, then write BIG bytes (blocking), then close. */
static void big_handler(h_server_slot *slot, mojo_tls_conn *c, void *arg) {
    sock_result *r = arg;
    (void)slot;
    check_socket_layer(c);
    unsigned char *buf = h_xmalloc(1 << 20);
    r->rx_sum = H_FNV_INIT;
    while (r->rx < BIG) {
        intptr_t n = mojo_tls_conn_read(c, buf, 1 << 20);
        if (n <= 0) {
            h_fail(__FILE__, __LINE__, "server read %jd (%s)", (intmax_t)n, h_code_name(n));
            break;
        }
        r->rx_sum = h_fnv1a(r->rx_sum, buf, (size_t)n);
        r->rx += (size_t)n;
    }
    r->tx_sum = H_FNV_INIT;
    for (size_t off = 0; off < BIG; off += 1 << 20) {
        h_fill(buf, 1 << 20, 500 + off);
        r->tx_sum = h_fnv1a(r->tx_sum, buf, 1 << 20);
        CHECK_RC(mojo_tls_conn_write_all(c, buf, 1 << 20), 1 << 20);
    }
    CHECK_RC(mojo_tls_conn_close_notify(c), 0);
    free(buf);
}

static void t_sockets(const h_pki *pki) {
    mojo_tls_config *scfg = h_server_config(pki), *ccfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    sock_result res;
    memset(&res, 0, sizeof res);
    h_server srv;
    h_server_start(&srv, scfg, 1, big_handler, &res);
    mojo_tls_conn *c = h_connect(ccfg, srv.port);
    check_socket_layer(c);
    char detail[512];
    mojo_tls_conn_record_layer_detail(c, detail, sizeof detail);
    printf("client record layer: %s\n", detail);

    /* non-blocking writes: WANT_WRITE is retried with the same data */
    CHECK_RC(mojo_tls_conn_set_timeout(c, 0), 0);
    unsigned char *buf = h_xmalloc(BIG);
    h_fill(buf, BIG, 42);
    uint64_t tx_sum = h_fnv1a(H_FNV_INIT, buf, BIG);
    size_t off = 0;
    int wants = 0;
    double deadline = h_now_ms() + 30000.0 * h_slow();
    int fd = mojo_tls_conn_fd(c);
    while (off < BIG && h_now_ms() < deadline) {
        intptr_t w = mojo_tls_conn_write(c, buf + off, BIG - off);
        if (w > 0) {
            off += (size_t)w;
        } else if (w == MOJO_TLS_ERR_WANT_WRITE) {
            wants++;
            struct pollfd p = {fd, POLLOUT, 0};
            poll(&p, 1, 1000);
        } else {
            h_fail(__FILE__, __LINE__, "write %jd (%s)", (intmax_t)w, h_code_name(w));
            break;
        }
    }
    CHECK_EQ(off, BIG);
    printf("non-blocking writes: %d WANT_WRITE retries\n", wants);
    CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);

    /* then read the server's BIG bytes */
    uint64_t rx_sum = H_FNV_INIT, want_sum = H_FNV_INIT;
    size_t got = 0;
    unsigned char *exp = h_xmalloc(1 << 20);
    for (size_t o = 0; o < BIG; o += 1 << 20) {
        h_fill(exp, 1 << 20, 500 + o);
        want_sum = h_fnv1a(want_sum, exp, 1 << 20);
    }
    while (got < BIG) {
        intptr_t n = mojo_tls_conn_read(c, buf, BIG - got < (1 << 20) ? BIG - got : (1 << 20));
        if (n <= 0) {
            h_fail(__FILE__, __LINE__, "client read %jd (%s) after %zu", (intmax_t)n, h_code_name(n), got);
            break;
        }
        rx_sum = h_fnv1a(rx_sum, buf, (size_t)n);
        got += (size_t)n;
    }
    CHECK_RC(mojo_tls_conn_read(c, buf, 16), 0);
    mojo_tls_conn_free(c);
    h_server_join(&srv);
    CHECK_EQ(res.rx, BIG);
    CHECK_EQ(res.rx_sum, tx_sum);
    CHECK_EQ(got, BIG);
    CHECK_EQ(rx_sum, want_sum);
    CHECK_EQ(res.tx_sum, want_sum);
    free(buf);
    free(exp);
    mojo_tls_config_free(scfg);
    mojo_tls_config_free(ccfg);
}

int main(void) {
    h_start("test_record_layer", 120);
    h_pki pki;
    h_pki_make(&pki);
    t_default_and_switch(&pki);
    t_fallback_suite(&pki);
    t_close_and_truncation(&pki);
    t_tampered(&pki);
    t_pending(&pki);
    t_key_update(&pki);
    t_oversized(&pki);
    t_resumption(&pki);
    t_sockets(&pki);
    h_pki_free(&pki);
    return h_finish();
}
