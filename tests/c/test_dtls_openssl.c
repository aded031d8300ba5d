/* DTLS 1.2 client over UDP (mojo_tls_conn_new_connect on a datagram
 * configuration) against a real peer: `openssl s_server -dtls1_2` on
 * 127.0.0.1, with and without client certificates. Datagrams go out with
 * checksummed content (s_server writes what it receives to its stdout,
 * which the test compares), and a line written to s_server's stdin comes
 * back as one read. Skipped (exit 0) when openssl is not installed. */
#include "harness.h"

static int udp_free_port(void) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    REQUIRE(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t l = sizeof a;
    REQUIRE(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

static int run_once(const h_pki *pki, const char *cert, const char *key, const char *ca, int mtls) {
    int port = udp_free_port();
    char port_s[16], out_path[256];
    snprintf(port_s, sizeof port_s, "%d", port);
    h_tmp_name(out_path, "out");
    int out_fd = mkstemp(out_path);
    REQUIRE(out_fd >= 0);
    char *plain[] = {"openssl", "s_server", "-dtls1_2", "-accept", port_s, "-cert", (char *)cert,
                     "-key", (char *)key, "-quiet", NULL};
    char *mutual[] = {"openssl", "s_server", "-dtls1_2", "-accept", port_s, "-cert", (char *)cert,
                      "-key", (char *)key, "-quiet", "-Verify", "1", "-CAfile", (char *)ca, NULL};
    int stdin_w;
    pid_t pid = h_spawn(mtls ? mutual : plain, out_fd, &stdin_w);
    close(out_fd);

    mojo_tls_config *cfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    REQUIRE_RC(mojo_tls_config_set_transport(cfg, MOJO_TLS_TRANSPORT_DATAGRAM), 0);
    REQUIRE_RC(mojo_tls_config_set_dtls_handshake_timeout(cfg, 100, 2000), 0);
    if (mtls) {
        mojo_tls_gencert *cl = mojo_tls_gencert_new_leaf(pki->ca, "dtls client", "client.test", 0, 30,
                                                         MOJO_TLS_USAGE_CLIENT, MOJO_TLS_KEY_ECDSA_P256);
        REQUIRE_NONNULL(cl);
        size_t cl_len, k_len;
        char *cl_pem = h_gencert_pem(cl, 0, &cl_len), *k_pem = h_gencert_pem(cl, 1, &k_len);
        REQUIRE_RC(mojo_tls_config_add_cert_mem(cfg, U8(cl_pem), cl_len, U8(k_pem), k_len, NULL), 0);
        free(cl_pem);
        free(k_pem);
        CHECK_RC(mojo_tls_gencert_free(cl), 0);
    }
    /* s_server needs a moment to bind: retry while it refuses */
    mojo_tls_conn *c = NULL;
    for (int i = 0; i < 50 && !c; i++) {
        c = mojo_tls_conn_new_connect(cfg, "127.0.0.1", (uint16_t)port, 5000);
        if (!c) h_sleep_ms(100);
    }
    REQUIRE_NONNULL(c);
    const char *vn = mojo_tls_conn_version_name(c);
    CHECK(vn && strstr(vn, "DTLS") != NULL);
    printf("mtls=%d: %s %s\n", mtls, vn ? vn : "?", mojo_tls_conn_cipher(c) ? mojo_tls_conn_cipher(c) : "?");

    /* datagrams to s_server: their concatenation must appear on its stdout */
    static unsigned char sent[64 * 1024];
    size_t total = 0;
    uint64_t h_sent = H_FNV_INIT;
    for (int i = 0; i < 40; i++) {
        size_t len = 1 + (size_t)(i * 37 % 1000);
        h_fill(sent + total, len, (uint64_t)i + 1);
        CHECK_RC(mojo_tls_conn_write(c, sent + total, len), (intptr_t)len);
        h_sent = h_fnv1a(h_sent, sent + total, len);
        total += len;
        h_sleep_ms(2); /* loopback does not lose, but do not flood s_server */
    }
    /* a line from s_server's stdin arrives as one read */
    const char *line = "hello from openssl s_server\n";
    REQUIRE(write(stdin_w, line, strlen(line)) == (ssize_t)strlen(line));
    unsigned char r[16384];
    REQUIRE_RC(mojo_tls_conn_set_timeout(c, 5000), 0);
    intptr_t n = mojo_tls_conn_read(c, r, sizeof r);
    CHECK_EQ(n, (intptr_t)strlen(line));
    CHECK(n > 0 && memcmp(r, line, (size_t)n) == 0);
    CHECK_RC(mojo_tls_conn_close_notify(c), 0);
    mojo_tls_conn_free(c);
    mojo_tls_config_free(cfg);

    /* s_server has written what it got; stop it (our child, by pid) */
    size_t got_len = 0;
    char *got = NULL;
    for (int i = 0; i < 50; i++) {
        free(got);
        got = h_read_file(out_path, &got_len);
        if (got_len >= total) break;
        h_sleep_ms(100);
    }
    close(stdin_w);
    kill(pid, SIGTERM);
    h_wait_child(pid, 5000);
    unlink(out_path);
    CHECK_EQ(got_len, total);
    CHECK(got_len == total && h_fnv1a(H_FNV_INIT, got, got_len) == h_sent);
    free(got);
    return 0;
}

int main(void) {
    h_start("test_dtls_openssl", 120);
    if (system("openssl version >/dev/null 2>&1") != 0) {
        printf("test_dtls_openssl: openssl not installed, skipped\n");
        return 0;
    }
    h_pki pki;
    h_pki_make(&pki);
    char cert[256], key[256], ca[256];
    h_tmp_name(cert, "cert"), h_tmp_name(key, "key"), h_tmp_name(ca, "ca");
    h_write_temp(cert, pki.cert_pem, pki.cert_pem_len);
    h_write_temp(key, pki.key_pem, pki.key_pem_len);
    h_write_temp(ca, pki.ca_pem, pki.ca_pem_len);
    run_once(&pki, cert, key, ca, 0);
    run_once(&pki, cert, key, ca, 1);
    unlink(cert);
    unlink(key);
    unlink(ca);
    h_pki_free(&pki);
    return h_finish();
}
