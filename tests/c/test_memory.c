/* Memory mode end to end: two mojo_tls_conn_new_memory connections with the
 * test acting as the network (drain from one, feed into the other). Covers
 * handshake, data both ways with odd drain/feed sizes, pending counters,
 * close_notify -> EOF, and transport EOF without close_notify -> TRUNCATED. */
#include "harness.h"

static int is_want(intptr_t rc) { return rc == MOJO_TLS_ERR_WANT_READ || rc == MOJO_TLS_ERR_WANT_WRITE; }

/* Move every pending ciphertext byte from a to b, in pieces of `piece`
 * bytes so that records arrive split across feeds. Returns bytes moved. */
static size_t pump(mojo_tls_conn *a, mojo_tls_conn *b, size_t piece) {
    unsigned char buf[20000];
    size_t moved = 0;
    if (piece > sizeof buf) piece = sizeof buf;
    for (int guard = 0; guard < 100000; guard++) {
        intptr_t pend = mojo_tls_conn_pending_output(a);
        REQUIRE_OK(pend);
        if (pend == 0) return moved;
        intptr_t n = mojo_tls_conn_drain(a, buf, piece);
        REQUIRE(n > 0 && n <= (intptr_t)piece && n <= pend);
        REQUIRE_RC(mojo_tls_conn_feed(b, buf, (size_t)n), n);
        moved += (size_t)n;
    }
    h_fail(__FILE__, __LINE__, "pump never emptied the output");
    h_abort();
    return 0;
}

static void handshake_pair(mojo_tls_conn *cli, mojo_tls_conn *srv, size_t piece) {
    int done_c = 0, done_s = 0;
    for (int round = 0; round < 50 && !(done_c && done_s); round++) {
        if (!done_c) {
            int rc = mojo_tls_conn_handshake(cli);
            if (rc == 0) done_c = 1;
            else if (!is_want(rc)) {
                h_fail(__FILE__, __LINE__, "client handshake: %d (%s)", rc, h_code_name(rc));
                h_abort();
            }
        }
        pump(cli, srv, piece);
        if (!done_s) {
            int rc = mojo_tls_conn_handshake(srv);
            if (rc == 0) done_s = 1;
            else if (!is_want(rc)) {
                h_fail(__FILE__, __LINE__, "server handshake: %d (%s)", rc, h_code_name(rc));
                h_abort();
            }
        }
        pump(srv, cli, piece);
    }
    REQUIRE(done_c && done_s);
}

/* Send len bytes src -> dst through memory mode; dst's plaintext lands in rx. */
static void transfer(mojo_tls_conn *src, mojo_tls_conn *dst, const unsigned char *data, size_t len,
                     unsigned char *rx, size_t piece) {
    size_t woff = 0, roff = 0;
    int stalls = 0;
    while (roff < len) {
        int progress = 0;
        if (woff < len) {
            size_t chunk = len - woff;
            if (chunk > 50000) chunk = 50000;
            intptr_t w = mojo_tls_conn_write(src, data + woff, chunk);
            if (w > 0) {
                REQUIRE(w <= (intptr_t)chunk);
                woff += (size_t)w;
                progress = 1;
            } else if (w != MOJO_TLS_ERR_WANT_WRITE) {
                h_fail(__FILE__, __LINE__, "memory write: %jd (%s)", (intmax_t)w, h_code_name(w));
                h_abort();
            }
        }
        if (pump(src, dst, piece) > 0) progress = 1;
        while (roff < len) {
            intptr_t r = mojo_tls_conn_read(dst, rx + roff, len - roff);
            if (r > 0) {
                roff += (size_t)r;
                progress = 1;
                continue;
            }
            if (r == MOJO_TLS_ERR_WANT_READ) break;
            h_fail(__FILE__, __LINE__, "memory read: %jd (%s)", (intmax_t)r, h_code_name(r));
            h_abort();
        }
        /* the reader may owe the writer something (nothing in TLS 1.2, but be fair) */
        pump(dst, src, piece);
        if (!progress && ++stalls > 3) {
            h_fail(__FILE__, __LINE__, "no progress: written %zu read %zu of %zu", woff, roff, len);
            h_abort();
        }
    }
}

static void exchange(mojo_tls_conn *cli, mojo_tls_conn *srv, size_t len, size_t piece, uint64_t seed) {
    unsigned char *a = h_xmalloc(len), *b = h_xmalloc(len), *rx = h_xmalloc(len);
    h_fill(a, len, seed);
    h_fill(b, len, seed + 1000);
    memset(rx, 0, len);
    transfer(cli, srv, a, len, rx, piece);
    CHECK(memcmp(a, rx, len) == 0);
    CHECK_EQ(h_fnv1a(H_FNV_INIT, a, len), h_fnv1a(H_FNV_INIT, rx, len));
    memset(rx, 0, len);
    transfer(srv, cli, b, len, rx, piece);
    CHECK(memcmp(b, rx, len) == 0);
    CHECK_EQ(h_fnv1a(H_FNV_INIT, b, len), h_fnv1a(H_FNV_INIT, rx, len));
    free(a);
    free(b);
    free(rx);
}

static void new_pair(mojo_tls_config *ccfg, mojo_tls_config *scfg, mojo_tls_conn **cli, mojo_tls_conn **srv) {
    *cli = mojo_tls_conn_new_memory(ccfg, "localhost");
    REQUIRE_NONNULL(*cli);
    *srv = mojo_tls_conn_new_memory(scfg, NULL);
    REQUIRE_NONNULL(*srv);
}

int main(void) {
    h_start("test_memory", 180);
    h_pki pki;
    h_pki_make(&pki);
    mojo_tls_config *scfg = h_server_config(&pki);
    mojo_tls_config *ccfg = h_client_config(pki.ca_pem, pki.ca_pem_len);

    /* --- full session, close_notify both ways ----------------------------- */
    {
        mojo_tls_conn *cli, *srv;
        new_pair(ccfg, scfg, &cli, &srv);
        CHECK_RC(mojo_tls_conn_fd(cli), MOJO_TLS_ERR_NOT_AVAILABLE);
        CHECK_EQ(mojo_tls_conn_pending_output(cli), 0);
        /* client speaks first: a ClientHello must appear, the server has nothing */
        CHECK_RC(mojo_tls_conn_handshake(cli), MOJO_TLS_ERR_WANT_READ);
        CHECK(mojo_tls_conn_pending_output(cli) > 0);
        CHECK_RC(mojo_tls_conn_handshake(srv), MOJO_TLS_ERR_WANT_READ);
        CHECK_EQ(mojo_tls_conn_pending_output(srv), 0);
        /* reading before any input is WANT_READ, not an error or EOF */
        unsigned char b[16];
        CHECK_RC(mojo_tls_conn_read(srv, b, sizeof b), MOJO_TLS_ERR_WANT_READ);
        handshake_pair(cli, srv, 7); /* 7-byte pieces: records split everywhere */

        const char *cipher = mojo_tls_conn_cipher(cli);
        REQUIRE(cipher != NULL);
        CHECK(strncmp(cipher, "TLS_", 4) == 0);
        CHECK(mojo_tls_conn_cipher(srv) != NULL && strcmp(cipher, mojo_tls_conn_cipher(srv)) == 0);
        CHECK_EQ(mojo_tls_conn_version(cli), mojo_tls_conn_version(srv));
        CHECK(mojo_tls_conn_peer_cert_der(cli, NULL, 0) > 0);
        char subj[512];
        CHECK(mojo_tls_conn_peer_cert_subject(cli, subj, sizeof subj) > 0);
        CHECK_CONTAINS_CI(subj, "mojo-tls test server");

        exchange(cli, srv, 300000, 16384, 1);
        exchange(cli, srv, 20000, 1, 2);     /* byte-at-a-time feeding */
        exchange(cli, srv, 1, 3, 3);

        /* pending(): one record of 1000 bytes, read 10, 990 stay buffered */
        unsigned char msg[1000], got[1000];
        h_fill(msg, sizeof msg, 9);
        CHECK_RC(mojo_tls_conn_write(cli, msg, sizeof msg), (intptr_t)sizeof msg);
        CHECK(mojo_tls_conn_pending_output(cli) > (intptr_t)sizeof msg);
        pump(cli, srv, 4096);
        CHECK_EQ(mojo_tls_conn_pending_output(cli), 0);
        CHECK_RC(mojo_tls_conn_read(srv, got, 10), 10);
        CHECK_EQ(mojo_tls_conn_pending(srv), 990);
        CHECK_RC(h_read_exact(srv, got + 10, 990), 990);
        CHECK(memcmp(msg, got, sizeof msg) == 0);
        CHECK_EQ(mojo_tls_conn_pending(srv), 0);

        /* write of length 0 is a no-op */
        CHECK_RC(mojo_tls_conn_write(cli, msg, 0), 0);
        CHECK_EQ(mojo_tls_conn_pending_output(cli), 0);

        /* client close_notify -> server reads EOF (0), then the reverse */
        CHECK_RC(mojo_tls_conn_close_notify(cli), 0);
        CHECK(mojo_tls_conn_pending_output(cli) > 0);
        pump(cli, srv, 5);
        CHECK_RC(mojo_tls_conn_read(srv, b, sizeof b), 0);
        CHECK_RC(mojo_tls_conn_close_notify(srv), 0);
        pump(srv, cli, 5);
        CHECK_RC(mojo_tls_conn_read(cli, b, sizeof b), 0);

        CHECK_RC(mojo_tls_conn_free(cli), 0);
        CHECK_RC(mojo_tls_conn_free(srv), 0);
    }

    /* --- EOF without close_notify is truncation, not EOF ------------------- */
    {
        mojo_tls_conn *cli, *srv;
        new_pair(ccfg, scfg, &cli, &srv);
        handshake_pair(cli, srv, 16384);
        exchange(cli, srv, 5000, 16384, 4);
        CHECK_RC(mojo_tls_conn_feed_eof(srv), 0);
        unsigned char b[16];
        CHECK_RC(mojo_tls_conn_read(srv, b, sizeof b), MOJO_TLS_ERR_TRUNCATED);
        /* and the client side the same way */
        CHECK_RC(mojo_tls_conn_feed_eof(cli), 0);
        CHECK_RC(mojo_tls_conn_read(cli, b, sizeof b), MOJO_TLS_ERR_TRUNCATED);
        CHECK_RC(mojo_tls_conn_free(cli), 0);
        CHECK_RC(mojo_tls_conn_free(srv), 0);
    }

    /* --- writes queued behind undrained output; reads between split feeds --
     * Several writes before any drain (each queues behind the last), then
     * the ciphertext fed in odd pieces with a read after every feed, so a
     * read often stops at a partial record and must resume it whole. */
    {
        mojo_tls_conn *cli, *srv;
        new_pair(ccfg, scfg, &cli, &srv);
        handshake_pair(cli, srv, 16384);
        const size_t sizes[3] = {100000, 7, 70000};
        size_t total = sizes[0] + sizes[1] + sizes[2];
        unsigned char *a = h_xmalloc(total), *rx = h_xmalloc(total);
        h_fill(a, total, 5);
        size_t off = 0;
        for (int i = 0; i < 3; i++) {
            size_t done = 0;
            while (done < sizes[i]) {
                intptr_t w = mojo_tls_conn_write(cli, a + off + done, sizes[i] - done);
                REQUIRE(w > 0);
                done += (size_t)w;
            }
            off += sizes[i];
        }
        unsigned char piece[10007];
        size_t got = 0;
        for (int guard = 0; guard < 10000 && got < total; guard++) {
            intptr_t n = mojo_tls_conn_drain(cli, piece, sizeof piece);
            REQUIRE(n >= 0);
            if (n > 0) REQUIRE_RC(mojo_tls_conn_feed(srv, piece, (size_t)n), n);
            for (;;) {
                intptr_t r = mojo_tls_conn_read(srv, rx + got, total - got);
                if (r == MOJO_TLS_ERR_WANT_READ) break;
                REQUIRE(r > 0);
                got += (size_t)r;
                if (got == total) break;
            }
        }
        CHECK_EQ(got, total);
        CHECK(memcmp(a, rx, total) == 0);
        CHECK_RC(mojo_tls_conn_pending_output(cli), 0);
        /* a partial record, then EOF: truncated, not a clean end or a hang */
        CHECK_RC(mojo_tls_conn_write(cli, a, 5000), 5000);
        intptr_t n = mojo_tls_conn_drain(cli, piece, 2000);
        REQUIRE_RC(n, 2000);
        REQUIRE_RC(mojo_tls_conn_feed(srv, piece, 2000), 2000);
        CHECK_RC(mojo_tls_conn_read(srv, rx, total), MOJO_TLS_ERR_WANT_READ);
        CHECK_RC(mojo_tls_conn_feed_eof(srv), 0);
        CHECK_RC(mojo_tls_conn_read(srv, rx, total), MOJO_TLS_ERR_TRUNCATED);
        free(a);
        free(rx);
        CHECK_RC(mojo_tls_conn_free(cli), 0);
        CHECK_RC(mojo_tls_conn_free(srv), 0);
    }

    /* --- data still buffered before the EOF is delivered first -------------- */
    {
        mojo_tls_conn *cli, *srv;
        new_pair(ccfg, scfg, &cli, &srv);
        handshake_pair(cli, srv, 16384);
        CHECK_RC(mojo_tls_conn_write(cli, U8("tail"), 4), 4);
        pump(cli, srv, 16384);
        CHECK_RC(mojo_tls_conn_feed_eof(srv), 0);
        unsigned char b[16];
        CHECK_RC(mojo_tls_conn_read(srv, b, sizeof b), 4);
        CHECK(memcmp(b, "tail", 4) == 0);
        CHECK_RC(mojo_tls_conn_read(srv, b, sizeof b), MOJO_TLS_ERR_TRUNCATED);
        CHECK_RC(mojo_tls_conn_free(cli), 0);
        CHECK_RC(mojo_tls_conn_free(srv), 0);
    }

    /* --- EOF in the middle of the handshake is not success ---------------- */
    {
        mojo_tls_conn *cli, *srv;
        new_pair(ccfg, scfg, &cli, &srv);
        CHECK_RC(mojo_tls_conn_handshake(cli), MOJO_TLS_ERR_WANT_READ);
        pump(cli, srv, 16384);
        CHECK_RC(mojo_tls_conn_feed_eof(srv), 0);
        int rc = mojo_tls_conn_handshake(srv);
        /* the ClientHello is complete, so the server may answer first; the
         * EOF must then surface as an error, never as success or a hang */
        for (int i = 0; i < 5 && is_want(rc); i++) rc = mojo_tls_conn_handshake(srv);
        CHECK_MSG(rc < 0 && !is_want(rc), "handshake after EOF returned %d (%s)", rc, h_code_name(rc));
        CHECK_RC(mojo_tls_conn_free(cli), 0);
        CHECK_RC(mojo_tls_conn_free(srv), 0);
    }

    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
    h_pki_free(&pki);
    return h_finish();
}
