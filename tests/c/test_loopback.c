/* Client <-> server over 127.0.0.1: 1 MiB each way through an echo server
 * (checksummed on both ends), connection queries, close_notify -> EOF.
 * Two transports: mojo_tls_conn_new_connect (host "127.0.0.1", so the IP SAN is what
 * gets verified) and mojo_tls_conn_new_fd (our own TCP socket, "localhost"). */
#include "harness.h"

#define TOTAL (1u << 20)

/* PEM body -> DER, to compare with what the peer sent. */
static size_t pem_to_der(const char *pem, unsigned char *out, size_t cap) {
    const char *p = strstr(pem, "-----BEGIN CERTIFICATE-----");
    if (!p) return 0;
    p = strchr(p, '\n');
    const char *end = strstr(pem, "-----END CERTIFICATE-----");
    if (!p || !end) return 0;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (; p < end; p++) {
        int v;
        char ch = *p;
        if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
        else if (ch == '+') v = 62;
        else if (ch == '/') v = 63;
        else continue; /* newlines, '=' padding */
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < cap) out[n] = (unsigned char)(acc >> bits);
            n++;
        }
    }
    return n;
}

/* Server side of the first connection: its own queries, then echo. */
static void checking_echo(h_server_slot *slot, mojo_tls_conn *c, void *arg) {
    (void)arg;
    int v = mojo_tls_conn_version(c);
    CHECK(v == MOJO_TLS_VERSION_TLS1_2 || v == MOJO_TLS_VERSION_TLS1_3);
    const char *cipher = mojo_tls_conn_cipher(c);
    CHECK(cipher != NULL && strncmp(cipher, "TLS_", 4) == 0);
    /* no client certificate was requested */
    CHECK_RC(mojo_tls_conn_peer_cert_der(c, NULL, 0), MOJO_TLS_ERR_NOT_AVAILABLE);
    /* memory-mode calls on a socket conn are a state error */
    CHECK_RC(mojo_tls_conn_feed(c, U8("x"), 1), MOJO_TLS_ERR_BAD_STATE);
    unsigned char tmp[8];
    CHECK_RC(mojo_tls_conn_drain(c, tmp, sizeof tmp), MOJO_TLS_ERR_BAD_STATE);
    h_echo_handler(slot, c, NULL);
}

static void check_queries(mojo_tls_conn *c, const h_pki *pki) {
    int v = mojo_tls_conn_version(c);
    const char *vn = mojo_tls_conn_version_name(c);
    REQUIRE(vn != NULL);
    /* default settings on both ends: TLS 1.3 */
    CHECK_EQ(v, 0x0304);
    CHECK(strcmp(vn, "TLSv1.3") == 0);
    const char *cipher = mojo_tls_conn_cipher(c);
    REQUIRE(cipher != NULL);
    CHECK_MSG(strncmp(cipher, "TLS_", 4) == 0 && strlen(cipher) > 8, "cipher name \"%s\" is not IANA", cipher);
    printf("  %s %s\n", vn, cipher);

    /* peer certificate DER: size query, fetch, identical to the leaf we issued */
    intptr_t n = mojo_tls_conn_peer_cert_der(c, NULL, 0);
    REQUIRE(n > 0);
    uint8_t *der = h_xmalloc((size_t)n);
    CHECK_EQ(mojo_tls_conn_peer_cert_der(c, der, (size_t)n), n);
    CHECK_EQ(der[0], 0x30); /* DER SEQUENCE */
    unsigned char *expect = h_xmalloc(pki->cert_pem_len);
    size_t en = pem_to_der(pki->cert_pem, expect, pki->cert_pem_len);
    CHECK_EQ(en, n);
    CHECK(en == (size_t)n && memcmp(expect, der, en) == 0);
    free(expect);
    /* the library's own parser accepts it as DER */
    mojo_tls_config *tmp = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    REQUIRE_NONNULL(tmp);
    CHECK_RC(mojo_tls_config_add_ca_mem(tmp, der, (size_t)n), 0);
    CHECK_RC(mojo_tls_config_free(tmp), 0);

    /* fingerprint = sha256(DER) */
    uint8_t fp[32], want[32];
    memset(fp, 0, sizeof fp);
    CHECK_EQ(mojo_tls_conn_peer_cert_sha256(c, NULL, 0), 32);
    CHECK_EQ(mojo_tls_conn_peer_cert_sha256(c, fp, sizeof fp), 32);
    CHECK_RC(mojo_tls_sha256(der, (size_t)n, want, sizeof want), 32);
    CHECK(memcmp(fp, want, 32) == 0);
    free(der);

    char buf[2048];
    intptr_t sl = mojo_tls_conn_peer_cert_subject(c, buf, sizeof buf);
    CHECK(sl > 0 && (size_t)sl == strlen(buf));
    CHECK_CONTAINS_CI(buf, "CN=mojo-tls test server");
    /* snprintf semantics: small buffer truncates, keeps NUL, same length reported */
    char small[5];
    memset(small, 'x', sizeof small);
    CHECK_EQ(mojo_tls_conn_peer_cert_subject(c, small, sizeof small), sl);
    CHECK(small[4] == '\0' && strncmp(small, buf, 4) == 0);

    intptr_t il = mojo_tls_conn_peer_cert_issuer(c, buf, sizeof buf);
    CHECK(il > 0 && (size_t)il == strlen(buf));
    CHECK_CONTAINS_CI(buf, "CN=mojo-tls test CA");

    intptr_t sanl = mojo_tls_conn_peer_cert_sans(c, buf, sizeof buf);
    CHECK(sanl > 0 && (size_t)sanl == strlen(buf));
    CHECK_CONTAINS_CI(buf, "DNS:localhost");
    CHECK_CONTAINS_CI(buf, "IP:127.0.0.1");

    intptr_t pl = mojo_tls_conn_peer_cert_pem(c, buf, sizeof buf);
    CHECK(pl > 0 && (size_t)pl < sizeof buf);
    CHECK(strncmp(buf, "-----BEGIN CERTIFICATE-----", 27) == 0);

    int64_t nb = 0, na = 0;
    CHECK_RC(mojo_tls_conn_peer_cert_validity(c, &nb, &na), 0);
    int64_t now = (int64_t)time(NULL);
    CHECK_MSG(nb <= now + 60 && na > now && na - nb >= 29 * 86400, "validity %" PRId64 "..%" PRId64 " now %" PRId64,
              nb, na, now);

    CHECK_EQ(mojo_tls_conn_verify_flags(c), 0);
    CHECK_EQ(mojo_tls_conn_alpn(c, buf, sizeof buf), 0);
    CHECK(mojo_tls_conn_pending(c) >= 0);
    CHECK(mojo_tls_conn_fd(c) >= 0);
}

/* 1 MiB in varied chunk sizes, each echoed back before the next (keeps the
 * test independent of concurrent read/write on one conn, covered elsewhere). */
static void transfer(mojo_tls_conn *c, uint64_t seed, uint64_t *sent_sum) {
    unsigned char *out = h_xmalloc(TOTAL), *in = h_xmalloc(TOTAL);
    h_fill(out, TOTAL, seed);
    memset(in, 0, TOTAL);
    size_t off = 0, k = 0;
    while (off < TOTAL) {
        static const size_t sizes[] = {1, 100, 16384, 16385, 32768, 4000, 65536, 7};
        size_t len = sizes[k++ % 8];
        if (len > TOTAL - off) len = TOTAL - off;
        intptr_t w = mojo_tls_conn_write_all(c, out + off, len);
        REQUIRE_RC(w, (intptr_t)len);
        intptr_t r = h_read_exact(c, in + off, len);
        REQUIRE_RC(r, (intptr_t)len);
        off += len;
    }
    CHECK(memcmp(in, out, TOTAL) == 0);
    uint64_t a = h_fnv1a(H_FNV_INIT, out, TOTAL), b = h_fnv1a(H_FNV_INIT, in, TOTAL);
    CHECK_EQ(a, b);
    *sent_sum = a;
    free(out);
    free(in);
}

static void finish_clean(mojo_tls_conn *c) {
    CHECK_RC(mojo_tls_conn_close_notify(c), 0);
    /* after close_notify we may not write any more */
    CHECK_RC(mojo_tls_conn_write(c, U8("late"), 4), MOJO_TLS_ERR_CLOSED);
    /* the echo server answers with its own close_notify: a read now sees
     * that as EOF, or CLOSED if the library stops reads after our alert
     * (both allowed by TLS); never truncation, data or a hang */
    unsigned char b[64];
    intptr_t r = mojo_tls_conn_read(c, b, sizeof b);
    CHECK_MSG(r == 0 || r == MOJO_TLS_ERR_CLOSED, "read after close_notify: %jd (%s)", (intmax_t)r, h_code_name(r));
}

int main(void) {
    h_start("test_loopback", 240);
    printf("  library %s, backend %s, abi %d\n", mojo_tls_version(), mojo_tls_backend(), mojo_tls_abi_version());
    CHECK_EQ(mojo_tls_abi_version(), MOJO_TLS_ABI_VERSION);
    CHECK(mojo_tls_version() != NULL && mojo_tls_backend() != NULL);
    CHECK_RC(mojo_tls_init(), 0);
    CHECK_RC(mojo_tls_init(), 0);

    h_pki pki;
    h_pki_make(&pki);
    mojo_tls_config *scfg = h_server_config(&pki);
    mojo_tls_config *ccfg = h_client_config(pki.ca_pem, pki.ca_pem_len);

    /* --- A: library-opened socket, host is an IP literal ------------------ */
    {
        h_server srv;
        h_server_start(&srv, scfg, 1, checking_echo, NULL);
        mojo_tls_conn *c = mojo_tls_conn_new_connect(ccfg, "127.0.0.1", (uint16_t)srv.port, h_io_timeout_ms());
        REQUIRE_NONNULL(c);
        check_queries(c, &pki);
        uint64_t sum = 0;
        transfer(c, 1, &sum);
        finish_clean(c);
        CHECK_RC(mojo_tls_conn_free(c), 0);
        h_server_join(&srv);
        CHECK_EQ(srv.slots[0].last_rc, 0); /* server saw our close_notify as EOF */
        CHECK_EQ(srv.slots[0].rx_bytes, TOTAL);
        CHECK_EQ(srv.slots[0].rx_sum, sum);
    }

    /* --- B: caller's own TCP socket handed over, name "localhost" ---------- */
    {
        h_server srv;
        h_server_start(&srv, scfg, 1, h_echo_handler, NULL);
        int fd = h_tcp_connect(srv.port);
        mojo_tls_conn *c = mojo_tls_conn_new_fd(ccfg, fd, 1, "localhost");
        REQUIRE_NONNULL(c);
        CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
        /* nothing to report before the handshake */
        CHECK_RC(mojo_tls_conn_version(c), MOJO_TLS_ERR_NOT_AVAILABLE);
        CHECK(mojo_tls_conn_version_name(c) == NULL);
        CHECK(mojo_tls_conn_cipher(c) == NULL);
        CHECK_RC(mojo_tls_conn_peer_cert_der(c, NULL, 0), MOJO_TLS_ERR_NOT_AVAILABLE);
        CHECK_EQ(mojo_tls_conn_fd(c), fd);
        REQUIRE_RC(mojo_tls_conn_handshake(c), 0);
        CHECK_RC(mojo_tls_conn_handshake(c), 0); /* again: no-op */
        check_queries(c, &pki);
        uint64_t sum = 0;
        transfer(c, 2, &sum);
        finish_clean(c);
        /* close is idempotent; afterwards every I/O call reports CLOSED */
        CHECK_RC(mojo_tls_conn_close(c), 0);
        CHECK_RC(mojo_tls_conn_close(c), 0);
        unsigned char b[4];
        CHECK_RC(mojo_tls_conn_read(c, b, sizeof b), MOJO_TLS_ERR_CLOSED);
        CHECK_RC(mojo_tls_conn_write(c, U8("x"), 1), MOJO_TLS_ERR_CLOSED);
        CHECK_RC(mojo_tls_conn_free(c), 0);
        h_server_join(&srv);
        CHECK_EQ(srv.slots[0].last_rc, 0);
        CHECK_EQ(srv.slots[0].rx_bytes, TOTAL);
        CHECK_EQ(srv.slots[0].rx_sum, sum);
        /* take_ownership=1: the library closed our fd */
        CHECK(h_fd_is_closed(fd));
    }

    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
    h_pki_free(&pki);
    return h_finish();
}
