/* Session tickets under the caller's keys, across processes: servers A and
 * B (separate processes, the same keys) resume each other's tickets; C
 * (another process, other keys) ignores them and runs a full handshake
 * that still carries data. Both sides report the resumed flag. Also the
 * argument checks of mojo_tls_config_set_ticket_keys. */
#include "harness.h"

#include <sys/wait.h>

static h_pki g_pki;

typedef struct {
    int lfd, port;
    pid_t pid;
    int results; /* read end: one int (server's resumed flag) per connection */
} server;

/* A server process: ticket keys all bytes `key`, `n` connections one
 * after the other ("ping" -> "pong", then until the client's close). */
static server start_server(uint8_t key, int n) {
    server s;
    int p[2];
    s.lfd = h_listen(&s.port);
    REQUIRE(pipe(p) == 0);
    s.pid = fork();
    REQUIRE(s.pid >= 0);
    if (s.pid == 0) {
        alarm(60 * (unsigned)h_slow());
        close(p[0]);
        mojo_tls_config *cfg = h_server_config(&g_pki);
        uint8_t keys[MOJO_TLS_TICKET_KEY_LEN];
        memset(keys, key, sizeof keys);
        REQUIRE_RC(mojo_tls_config_set_ticket_keys(cfg, keys, sizeof keys), 0);
        for (int i = 0; i < n; i++) {
            mojo_tls_conn *c = mojo_tls_conn_new_accept(cfg, s.lfd, h_io_timeout_ms());
            REQUIRE_NONNULL(c);
            CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
            unsigned char b[64];
            CHECK_RC(h_read_exact(c, b, 4), 4);
            CHECK_RC(mojo_tls_conn_write_all(c, U8("pong"), 4), 4);
            CHECK_RC(mojo_tls_conn_read(c, b, sizeof b), 0);
            int resumed = mojo_tls_conn_session_resumed(c);
            mojo_tls_conn_free(c);
            REQUIRE(write(p[1], &resumed, sizeof resumed) == (ssize_t)sizeof resumed);
        }
        mojo_tls_config_free(cfg);
        _exit(__atomic_load_n(&h_failures, __ATOMIC_SEQ_CST) ? 1 : 0);
    }
    close(p[1]);
    s.results = p[0];
    return s;
}

static void stop_server(server *s) {
    CHECK_EQ(h_wait_child(s->pid, h_io_timeout_ms()), 0);
    close(s->results);
    CHECK_RC(mojo_tls_socket_close(s->lfd), 0);
}

typedef struct {
    int client, server; /* resumed flags */
    uint8_t blob[8192];
    intptr_t blob_len;
} visit;

/* One connection to `s`, offering `offer` (may be NULL); exports the session. */
static visit connect_to(mojo_tls_config *ccfg, server *s, const visit *offer) {
    visit v;
    memset(&v, 0, sizeof v);
    int fd = h_tcp_connect(s->port);
    mojo_tls_conn *c = mojo_tls_conn_new_fd(ccfg, fd, 1, "localhost");
    REQUIRE_NONNULL(c);
    CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
    if (offer) CHECK_RC(mojo_tls_conn_session_import(c, offer->blob, (size_t)offer->blob_len), 0);
    REQUIRE_RC(mojo_tls_conn_handshake(c), 0);
    unsigned char b[4];
    CHECK_RC(mojo_tls_conn_write_all(c, U8("ping"), 4), 4);
    /* (the first read also takes in a TLS 1.3 ticket) */
    CHECK_RC(h_read_exact(c, b, 4), 4);
    CHECK(memcmp(b, "pong", 4) == 0);
    v.client = mojo_tls_conn_session_resumed(c);
    v.blob_len = mojo_tls_conn_session_export(c, v.blob, sizeof v.blob);
    CHECK(v.blob_len > 0 && v.blob_len <= (intptr_t)sizeof v.blob);
    CHECK_RC(mojo_tls_conn_free(c), 0);
    struct pollfd p = {s->results, POLLIN, 0};
    REQUIRE(poll(&p, 1, h_io_timeout_ms()) == 1);
    REQUIRE(read(s->results, &v.server, sizeof v.server) == (ssize_t)sizeof v.server);
    return v;
}

#define EXPECT_RESUMED(label, v, want)                                                                      \
    do {                                                                                                    \
        printf("  %-34s client resumed %d, server resumed %d\n", label, (v).client, (v).server);            \
        CHECK_MSG((v).client == (want) && (v).server == (want), "%s: resumed %d/%d, expected %d", label,   \
                  (v).client, (v).server, want);                                                            \
    } while (0)

static void test_arguments(void) {
    mojo_tls_config *scfg = h_server_config(&g_pki), *ccfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    uint8_t keys[9 * MOJO_TLS_TICKET_KEY_LEN];
    memset(keys, 1, sizeof keys);
    CHECK_RC(mojo_tls_config_set_ticket_keys(scfg, keys, 0), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_ticket_keys(scfg, keys, 31), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_ticket_keys(scfg, keys, 33), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_ticket_keys(scfg, keys, sizeof keys), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_ticket_keys(scfg, NULL, 32), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_ticket_keys(NULL, keys, 32), MOJO_TLS_ERR_INVALID_HANDLE);
    CHECK_RC(mojo_tls_config_set_ticket_keys(ccfg, keys, 32), MOJO_TLS_ERR_BAD_STATE);
    CHECK_RC(mojo_tls_config_set_ticket_keys(scfg, keys, 8 * MOJO_TLS_TICKET_KEY_LEN), 0);
    CHECK_RC(mojo_tls_config_set_ticket_keys(scfg, keys, MOJO_TLS_TICKET_KEY_LEN), 0); /* rotation */
    CHECK_RC(mojo_tls_config_free(scfg), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
}

int main(void) {
    h_start("test_ticket_keys", 120);
    h_pki_make(&g_pki);
    test_arguments();

    /* servers fork before the client exists: each builds its own config */
    server a = start_server(0x11, 2), b = start_server(0x11, 2), other = start_server(0x22, 1);
    mojo_tls_config *ccfg = h_client_config(g_pki.ca_pem, g_pki.ca_pem_len);

    visit first = connect_to(ccfg, &a, NULL);
    EXPECT_RESUMED("A, full handshake", first, 0);
    visit on_b = connect_to(ccfg, &b, &first);
    EXPECT_RESUMED("A's ticket on B", on_b, 1);
    visit on_other = connect_to(ccfg, &other, &first);
    EXPECT_RESUMED("A's ticket on C (other keys)", on_other, 0);
    visit from_b = connect_to(ccfg, &b, NULL);
    EXPECT_RESUMED("B, full handshake", from_b, 0);
    visit on_a = connect_to(ccfg, &a, &from_b);
    EXPECT_RESUMED("B's ticket on A", on_a, 1);

    stop_server(&a);
    stop_server(&b);
    stop_server(&other);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    h_pki_free(&g_pki);
    return h_finish();
}
