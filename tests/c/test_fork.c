/* fork(): a child that drops its copy of a connection (free, close, or
 * abandon) does not end the parent's session, which goes on with a 1 MiB
 * echo; mojo_tls_conn_abandon sends nothing in the owning process either.
 * Control: an explicit close_notify from the child does end the session,
 * so the checks would see one sent by free/close.
 *
 * The echo server is a process of its own, forked first, so the test
 * process has a single thread whenever it forks. */
#include "harness.h"

#include <sys/wait.h>

enum { HELLO = 1000, CHUNK = 64 * 1024, MIB = 1 << 20 };

typedef struct {
    intptr_t last_rc; /* the server's final read result: 0 = close_notify */
    uint64_t sum;     /* checksum of everything the server received */
    uint64_t bytes;
} srv_result;

static h_pki g_pki;

/* Server process: accept `n` connections one after the other, echo each
 * until its read ends, report each to `out`. */
static void serve(int lfd, int n, int out) {
    alarm(60 * (unsigned)h_slow());
    mojo_tls_config *cfg = h_server_config(&g_pki);
    unsigned char *buf = h_xmalloc(CHUNK);
    for (int i = 0; i < n; i++) {
        mojo_tls_conn *c = mojo_tls_conn_new_accept(cfg, lfd, h_io_timeout_ms());
        REQUIRE_NONNULL(c);
        CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
        srv_result r = {0, H_FNV_INIT, 0};
        for (;;) {
            intptr_t got = mojo_tls_conn_read(c, buf, CHUNK);
            if (got <= 0) {
                r.last_rc = got;
                break;
            }
            r.sum = h_fnv1a(r.sum, buf, (size_t)got);
            r.bytes += (uint64_t)got;
            if (mojo_tls_conn_write_all(c, buf, (size_t)got) != got) {
                r.last_rc = mojo_tls_last_error_code();
                break;
            }
        }
        mojo_tls_conn_free(c);
        REQUIRE(write(out, &r, sizeof r) == (ssize_t)sizeof r);
    }
    free(buf);
    mojo_tls_config_free(cfg);
    _exit(__atomic_load_n(&h_failures, __ATOMIC_SEQ_CST) ? 1 : 0);
}

static srv_result next_result(int in) {
    srv_result r;
    struct pollfd p = {in, POLLIN, 0};
    REQUIRE(poll(&p, 1, h_io_timeout_ms()) == 1);
    REQUIRE(read(in, &r, sizeof r) == (ssize_t)sizeof r);
    return r;
}

/* Send `len` bytes in chunks, reading each echo back; `sum` goes on over
 * what was sent. */
static uint64_t echo(mojo_tls_conn *c, size_t len, uint64_t seed, uint64_t sum) {
    unsigned char *out = h_xmalloc(CHUNK), *in = h_xmalloc(CHUNK);
    for (size_t done = 0; done < len;) {
        size_t n = len - done < CHUNK ? len - done : CHUNK;
        h_fill(out, n, seed + done);
        REQUIRE_RC(mojo_tls_conn_write_all(c, out, n), (intptr_t)n);
        REQUIRE_RC(h_read_exact(c, in, n), (intptr_t)n);
        CHECK(memcmp(in, out, n) == 0);
        sum = h_fnv1a(sum, out, n);
        done += n;
    }
    free(out);
    free(in);
    return sum;
}

enum action { CHILD_FREE, CHILD_CLOSE, CHILD_ABANDON, CHILD_CLOSE_NOTIFY, OWNER_ABANDON };
static const char *const names[] = {"child frees", "child closes and frees", "child abandons",
                                    "child sends close_notify (control)", "owner abandons"};

/* In the child: drop the copy; exit 0 when every call did what it should. */
static void child(mojo_tls_conn *c, enum action a) {
    int fd = mojo_tls_conn_fd(c), ok = fd >= 0;
    switch (a) {
    case CHILD_FREE: ok &= mojo_tls_conn_free(c) == 0; break;
    case CHILD_CLOSE: ok &= mojo_tls_conn_close(c) == 0 && mojo_tls_conn_free(c) == 0; break;
    case CHILD_ABANDON: ok &= mojo_tls_conn_abandon(c) == 0; break;
    case CHILD_CLOSE_NOTIFY:
        ok &= mojo_tls_conn_close_notify(c) == 0 && mojo_tls_conn_free(c) == 0;
        break;
    default: ok = 0;
    }
    /* the child's copy of the socket is closed either way */
    ok &= h_fd_is_closed(fd);
    _exit(ok ? 0 : 1);
}

static void scenario(mojo_tls_config *ccfg, int port, int results, enum action a) {
    printf("  %s\n", names[a]);
    mojo_tls_conn *c = h_connect(ccfg, port);
    CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
    uint64_t sum = echo(c, HELLO, 1, H_FNV_INIT);
    uint64_t sent = HELLO;
    if (a == OWNER_ABANDON) {
        CHECK_RC(mojo_tls_conn_abandon(c), 0);
        CHECK_RC(mojo_tls_conn_free(c), MOJO_TLS_ERR_INVALID_HANDLE); /* released */
        srv_result r = next_result(results);
        /* the transport ended without close_notify */
        CHECK_RC(r.last_rc, MOJO_TLS_ERR_TRUNCATED);
        CHECK_EQ(r.bytes, sent);
        CHECK(r.sum == sum);
        return;
    }
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) child(c, a);
    CHECK_EQ(h_wait_child(pid, h_io_timeout_ms()), 0);
    if (a == CHILD_CLOSE_NOTIFY) {
        /* the server saw the child's close_notify, answered and went */
        unsigned char b[16];
        CHECK_RC(mojo_tls_conn_read(c, b, sizeof b), 0);
    } else {
        /* the parent's session is intact: 1 MiB echo, then a clean close */
        sum = echo(c, MIB, 2, sum);
        sent += MIB;
    }
    CHECK_RC(mojo_tls_conn_free(c), 0);
    srv_result r = next_result(results);
    CHECK_RC(r.last_rc, 0);
    CHECK_EQ(r.bytes, sent);
    CHECK_MSG(r.sum == sum, "%s: the server received other bytes than were sent", names[a]);
}

int main(void) {
    h_start("test_fork", 120);
    h_pki_make(&g_pki);
    enum { N = OWNER_ABANDON + 1 };
    int port, pipefd[2];
    int lfd = h_listen(&port);
    REQUIRE(pipe(pipefd) == 0);
    pid_t srv = fork();
    REQUIRE(srv >= 0);
    if (srv == 0) {
        close(pipefd[0]);
        serve(lfd, N, pipefd[1]);
    }
    close(pipefd[1]);
    CHECK_RC(mojo_tls_socket_close(lfd), 0);

    mojo_tls_config *ccfg = h_client_config(g_pki.ca_pem, g_pki.ca_pem_len);
    for (int a = 0; a < N; a++) scenario(ccfg, port, pipefd[0], (enum action)a);
    CHECK_EQ(h_wait_child(srv, h_io_timeout_ms()), 0);
    close(pipefd[0]);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    h_pki_free(&g_pki);
    return h_finish();
}
