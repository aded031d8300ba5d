/* Shared helpers for the C test programs in tests/c.
 *
 * Header-only on purpose: every test is a single translation unit, so
 * run.sh can compile each test_*.c on its own without a helper library.
 *
 * Conventions
 *   CHECK*   record a failure and keep going (more diagnostics per run).
 *   REQUIRE* record a failure and end the process (later code depends on it).
 * Every failure line carries file:line plus the library's thread-local
 * last error, captured before anything else can overwrite it.
 * h_finish() prints the summary and returns the process exit code.
 */
#ifndef MOJO_TLS_TEST_HARNESS_H
#define MOJO_TLS_TEST_HARNESS_H

#include "mojo_tls.h"

/* The spec defines these; test_api.c fails if the header lacks them. The
 * fallbacks only keep the behavioural tests building meanwhile. */
#ifndef MOJO_TLS_KEY_ECDSA_P256
#define MOJO_TLS_KEY_ECDSA_P256 0
#endif
#ifndef MOJO_TLS_KEY_ECDSA_P384
#define MOJO_TLS_KEY_ECDSA_P384 1
#endif
#ifndef MOJO_TLS_USAGE_SERVER
#define MOJO_TLS_USAGE_SERVER 1
#endif
#ifndef MOJO_TLS_USAGE_CLIENT
#define MOJO_TLS_USAGE_CLIENT 2
#endif

/* Byte buffers are passed as unsigned bytes so the tests build whether the
 * header says void * (the spec) or uint8_t *; test_api.c pins the spec. */
#define U8(s) ((const uint8_t *)(s))

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__GNUC__)
#define H_UNUSED __attribute__((unused))
#define H_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define H_UNUSED
#define H_PRINTF(a, b)
#endif

static int h_failures;          /* updated atomically: tests fail from several threads */
static const char *h_test_name = "?";

/* ------------------------------------------------------------------ */
/* failure reporting                                                   */

static H_UNUSED const char *h_code_name(intmax_t code) {
    switch (code) {
    case MOJO_TLS_OK: return "OK";
    case MOJO_TLS_ERR_WANT_READ: return "WANT_READ";
    case MOJO_TLS_ERR_WANT_WRITE: return "WANT_WRITE";
    case MOJO_TLS_ERR_TIMEOUT: return "TIMEOUT";
    case MOJO_TLS_ERR_CLOSED: return "CLOSED";
    case MOJO_TLS_ERR_TRUNCATED: return "TRUNCATED";
    case MOJO_TLS_ERR_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case MOJO_TLS_ERR_INVALID_HANDLE: return "INVALID_HANDLE";
    case MOJO_TLS_ERR_VERIFY_FAILED: return "VERIFY_FAILED";
    case MOJO_TLS_ERR_HANDSHAKE: return "HANDSHAKE";
    case MOJO_TLS_ERR_IO: return "IO";
    case MOJO_TLS_ERR_UNSUPPORTED: return "UNSUPPORTED";
    case MOJO_TLS_ERR_PARSE: return "PARSE";
    case MOJO_TLS_ERR_BAD_PASSWORD: return "BAD_PASSWORD";
    case MOJO_TLS_ERR_NOT_FOUND: return "NOT_FOUND";
    case MOJO_TLS_ERR_CONNECT: return "CONNECT";
    case MOJO_TLS_ERR_PROTOCOL: return "PROTOCOL";
    case MOJO_TLS_ERR_BAD_STATE: return "BAD_STATE";
    case MOJO_TLS_ERR_NO_MEMORY: return "NO_MEMORY";
    case MOJO_TLS_ERR_NOT_AVAILABLE: return "NOT_AVAILABLE";
    case MOJO_TLS_ERR_INTERNAL: return "INTERNAL";
    case MOJO_TLS_ERR_INTERRUPTED: return "INTERRUPTED";
    case MOJO_TLS_ERR_RESET: return "RESET";
    default: return code > 0 ? "positive" : "unknown";
    }
}

static H_UNUSED H_PRINTF(3, 4) void h_fail(const char *file, int line, const char *fmt, ...) {
    /* Capture the library's view first: printing must not be able to change it. */
    int code = mojo_tls_last_error_code();
    char err[768];
    err[0] = '\0';
    mojo_tls_last_error(err, sizeof err);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s:%d: FAIL [%s]: %s\n    last_error_code=%d (%s) last_error=\"%s\"\n", file, line,
            h_test_name, msg, code, h_code_name(code), err);
    fflush(stderr);
    __atomic_add_fetch(&h_failures, 1, __ATOMIC_SEQ_CST);
}

static H_UNUSED void h_abort(void) {
    fprintf(stderr, "[%s] aborting after a failed REQUIRE\n", h_test_name);
    fflush(stdout);
    fflush(stderr);
    _exit(1);
}

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) h_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                  \
    } while (0)

#define REQUIRE(cond)                                                                 \
    do {                                                                              \
        if (!(cond)) {                                                                \
            h_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond);                         \
            h_abort();                                                                \
        }                                                                             \
    } while (0)

#define CHECK_MSG(cond, ...)                                                          \
    do {                                                                              \
        if (!(cond)) h_fail(__FILE__, __LINE__, __VA_ARGS__);                         \
    } while (0)

/* integer equality; both sides printed */
#define CHECK_EQ(actual, expected)                                                    \
    do {                                                                              \
        intmax_t h_a_ = (intmax_t)(actual), h_e_ = (intmax_t)(expected);              \
        if (h_a_ != h_e_)                                                             \
            h_fail(__FILE__, __LINE__, "%s == %s: got %jd, expected %jd", #actual,    \
                   #expected, h_a_, h_e_);                                            \
    } while (0)

/* a call returning an int / intptr_t status: expected code, names printed */
#define H_RC_IMPL(expr, want, fatal)                                                  \
    do {                                                                              \
        intmax_t h_got_ = (intmax_t)(expr), h_want_ = (intmax_t)(want);               \
        if (h_got_ != h_want_) {                                                      \
            h_fail(__FILE__, __LINE__, "%s: got %jd (%s), expected %jd (%s)", #expr,  \
                   h_got_, h_code_name(h_got_), h_want_, h_code_name(h_want_));       \
            if (fatal) h_abort();                                                     \
        }                                                                             \
    } while (0)
#define CHECK_RC(expr, want) H_RC_IMPL(expr, want, 0)
#define REQUIRE_RC(expr, want) H_RC_IMPL(expr, want, 1)

/* success = any value >= 0 */
#define H_OK_IMPL(expr, fatal)                                                        \
    do {                                                                              \
        intmax_t h_got_ = (intmax_t)(expr);                                           \
        if (h_got_ < 0) {                                                             \
            h_fail(__FILE__, __LINE__, "%s: got %jd (%s), expected >= 0", #expr,      \
                   h_got_, h_code_name(h_got_));                                      \
            if (fatal) h_abort();                                                     \
        }                                                                             \
    } while (0)
#define CHECK_OK(expr) H_OK_IMPL(expr, 0)
#define REQUIRE_OK(expr) H_OK_IMPL(expr, 1)

#define REQUIRE_NONNULL(expr)                                                         \
    do {                                                                              \
        if ((expr) == NULL) {                                                         \
            h_fail(__FILE__, __LINE__, "%s returned NULL", #expr);                    \
            h_abort();                                                                \
        }                                                                             \
    } while (0)

/* a constructor that must fail: NULL and last_error_code == want */
#define CHECK_NULL_CODE(expr, want)                                                   \
    do {                                                                              \
        mojo_tls_clear_error();                                                       \
        const void *h_p_ = (const void *)(expr);                                      \
        int h_c_ = mojo_tls_last_error_code();                                        \
        if (h_p_ != NULL)                                                             \
            h_fail(__FILE__, __LINE__, "%s: expected NULL, got %p", #expr, h_p_);     \
        else if (h_c_ != (want))                                                      \
            h_fail(__FILE__, __LINE__, "%s: NULL ok but last_error_code %d (%s), "    \
                   "expected %d (%s)", #expr, h_c_, h_code_name(h_c_), (int)(want),   \
                   h_code_name(want));                                                \
    } while (0)

static H_UNUSED int h_contains_ci(const char *hay, const char *needle) {
    if (!hay || !needle) return 0;
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return 1;
    }
    return n == 0;
}

#define CHECK_CONTAINS_CI(hay, needle)                                                \
    do {                                                                              \
        const char *h_h_ = (hay);                                                     \
        if (!h_contains_ci(h_h_, (needle)))                                           \
            h_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\" (%s)",         \
                   h_h_ ? h_h_ : "(null)", (needle), #hay);                           \
    } while (0)

/* ------------------------------------------------------------------ */
/* watchdog, timing, slow mode                                         */

/* run.sh sets MOJO_TLS_TEST_SLOW under valgrind: scale watchdogs and
 * upper time bounds, never the lower ones. */
static H_UNUSED int h_slow(void) {
    const char *s = getenv("MOJO_TLS_TEST_SLOW");
    int v = s ? atoi(s) : 1;
    return v < 1 ? 1 : v;
}

static void h_watchdog_fire(int sig) {
    (void)sig;
    static const char m1[] = "\nWATCHDOG: test ";
    static const char m2[] = " exceeded its time limit (a wait is unbounded or a call hangs)\n";
    ssize_t r = write(2, m1, sizeof m1 - 1);
    r = write(2, h_test_name, strlen(h_test_name));
    r = write(2, m2, sizeof m2 - 1);
    (void)r;
    _exit(3);
}

/* Open descriptors of this process (Linux /proc), -1 if unknown. Compared
 * between h_start and h_finish: a socket the library should have closed
 * (owned fd on free, accepted fd on a failed accept) shows up as a leak. */
static int h_count_fds(int print) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0, self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == self) continue;
        n++;
        if (print) {
            char path[300], target[256];
            snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
            ssize_t l = readlink(path, target, sizeof target - 1);
            target[l > 0 ? l : 0] = '\0';
            fprintf(stderr, "    open fd %s -> %s\n", e->d_name, target);
        }
    }
    closedir(d);
    return n;
}
static int h_fds_at_start = -1;

/* Start a test program: name for messages, hard limit in seconds. */
static H_UNUSED void h_start(const char *name, unsigned seconds) {
    h_test_name = name;
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGALRM, h_watchdog_fire);
    alarm(seconds * (unsigned)h_slow());
    mojo_tls_init();
    h_fds_at_start = h_count_fds(0);
}

static H_UNUSED int h_finish(void) {
    alarm(0);
    int fds = h_count_fds(0);
    if (h_fds_at_start >= 0 && fds > h_fds_at_start) {
        h_fail(__FILE__, __LINE__, "%d file descriptor(s) leaked (%d open at start, %d now)", fds - h_fds_at_start,
               h_fds_at_start, fds);
        h_count_fds(1);
    }
    int f = __atomic_load_n(&h_failures, __ATOMIC_SEQ_CST);
    if (f) printf("%s: %d check(s) FAILED\n", h_test_name, f);
    else printf("%s: all checks passed\n", h_test_name);
    fflush(stdout);
    return f ? 1 : 0;
}

static H_UNUSED double h_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static H_UNUSED void h_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Exit status of child `pid` within `ms` (128 + signal if killed by one;
 * -2 after killing it past the deadline; -1 if it is not our child). */
static H_UNUSED int h_wait_child(pid_t pid, int ms) {
    double end = h_now_ms() + ms;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (r < 0) return -1;
        if (h_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -2;
        }
        h_sleep_ms(5);
    }
}

/* Default I/O timeout for connections in tests: long enough for valgrind,
 * short enough that a hang becomes a TIMEOUT failure, not a watchdog kill. */
static H_UNUSED int h_io_timeout_ms(void) { return 15000 * h_slow(); }

/* ------------------------------------------------------------------ */
/* data + checksums                                                    */

static H_UNUSED uint64_t h_fnv1a(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}
#define H_FNV_INIT 14695981039346656037ULL

/* Deterministic fast filler: bulk data through mojo_tls_random would make
 * valgrind runs crawl and proves nothing more. */
static H_UNUSED void h_fill(void *buf, size_t len, uint64_t seed) {
    unsigned char *p = buf;
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)(x >> 24);
    }
}

static H_UNUSED void *h_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        _exit(1);
    }
    return p;
}

/* ------------------------------------------------------------------ */
/* peer programs (openssl s_server / s_client) and their files          */

/* A mkstemp template in the temporary directory ($TMPDIR, else the system's). */
static H_UNUSED void h_tmp_name(char path[256], const char *what) {
    const char *dir = getenv("TMPDIR");
    snprintf(path, 256, "%s/mojo-tls-test-%s-XXXXXX", dir && *dir ? dir : P_tmpdir, what);
}

/* Create the file named by the mkstemp template `path` holding `data`. */
static H_UNUSED void h_write_temp(char *path, const void *data, size_t len) {
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, data, len) == (ssize_t)len);
    close(fd);
}

static H_UNUSED size_t h_file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

/* The whole file (up to 1 MiB), malloc'd; *len 0 if it cannot be read. */
static H_UNUSED char *h_read_file(const char *path, size_t *len) {
    char *buf = h_xmalloc(1 << 20);
    FILE *f = fopen(path, "rb");
    *len = f ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    if (f) fclose(f);
    return buf;
}

/* Start argv[0] (found on PATH) with its stdin a new pipe, whose write end
 * goes to *stdin_w, stdout into `out_fd` and stderr to /dev/null. The
 * caller ends it by pid (h_wait_child). */
static H_UNUSED pid_t h_spawn(char *const argv[], int out_fd, int *stdin_w) {
    int in_pipe[2];
    REQUIRE(pipe(in_pipe) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_fd, 1);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        close(in_pipe[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in_pipe[0]);
    *stdin_w = in_pipe[1];
    return pid;
}

/* ------------------------------------------------------------------ */
/* certificates + configs                                              */

/* Fetch a gencert PEM through the snprintf-style size query. */
static H_UNUSED char *h_gencert_pem(const mojo_tls_gencert *g, int key, size_t *out_len) {
    intptr_t n = key ? mojo_tls_gencert_key_pem(g, NULL, 0) : mojo_tls_gencert_cert_pem(g, NULL, 0);
    if (n <= 0) {
        h_fail(__FILE__, __LINE__, "gencert %s_pem size query returned %jd", key ? "key" : "cert",
               (intmax_t)n);
        h_abort();
    }
    char *buf = h_xmalloc((size_t)n + 1);
    intptr_t m = key ? mojo_tls_gencert_key_pem(g, buf, (size_t)n + 1)
                     : mojo_tls_gencert_cert_pem(g, buf, (size_t)n + 1);
    if (m != n || buf[n] != '\0' || strlen(buf) != (size_t)n) {
        h_fail(__FILE__, __LINE__, "gencert pem fetch: size query %jd, fetch %jd, strlen %zu", (intmax_t)n,
               (intmax_t)m, strlen(buf));
        h_abort();
    }
    if (out_len) *out_len = (size_t)n;
    return buf;
}

typedef struct {
    mojo_tls_gencert *ca, *leaf;
    char *ca_pem, *cert_pem, *key_pem;
    size_t ca_pem_len, cert_pem_len, key_pem_len;
} h_pki;

/* CA + leaf signed by it. sans e.g. "localhost,127.0.0.1". */
static H_UNUSED void h_pki_make_ex(h_pki *p, const char *ca_cn, const char *leaf_cn, const char *sans,
                                   int not_before_days, int valid_days) {
    memset(p, 0, sizeof *p);
    p->ca = mojo_tls_gencert_new_ca(ca_cn, 30, MOJO_TLS_KEY_ECDSA_P256);
    REQUIRE_NONNULL(p->ca);
    p->leaf = mojo_tls_gencert_new_leaf(p->ca, leaf_cn, sans, not_before_days, valid_days, MOJO_TLS_USAGE_SERVER,
                                    MOJO_TLS_KEY_ECDSA_P256);
    REQUIRE_NONNULL(p->leaf);
    p->ca_pem = h_gencert_pem(p->ca, 0, &p->ca_pem_len);
    p->cert_pem = h_gencert_pem(p->leaf, 0, &p->cert_pem_len);
    p->key_pem = h_gencert_pem(p->leaf, 1, &p->key_pem_len);
}

static H_UNUSED void h_pki_make(h_pki *p) {
    h_pki_make_ex(p, "mojo-tls test CA", "mojo-tls test server", "localhost,127.0.0.1", 0, 30);
}

static H_UNUSED void h_pki_free(h_pki *p) {
    CHECK_RC(mojo_tls_gencert_free(p->leaf), 0);
    CHECK_RC(mojo_tls_gencert_free(p->ca), 0);
    free(p->ca_pem);
    free(p->cert_pem);
    free(p->key_pem);
    memset(p, 0, sizeof *p);
}

static H_UNUSED mojo_tls_config *h_server_config(const h_pki *p) {
    mojo_tls_config *cfg = mojo_tls_config_new(MOJO_TLS_ROLE_SERVER);
    REQUIRE_NONNULL(cfg);
    REQUIRE_RC(mojo_tls_config_add_cert_mem(cfg, (const uint8_t *)p->cert_pem, p->cert_pem_len,
                                            (const uint8_t *)p->key_pem, p->key_pem_len, NULL),
               0);
    return cfg;
}

/* Client trusting exactly ca_pem (PEM text, no trailing NUL counted). */
static H_UNUSED mojo_tls_config *h_client_config(const char *ca_pem, size_t ca_len) {
    mojo_tls_config *cfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    REQUIRE_NONNULL(cfg);
    REQUIRE_RC(mojo_tls_config_add_ca_mem(cfg, (const uint8_t *)ca_pem, ca_len), 0);
    return cfg;
}

/* ------------------------------------------------------------------ */
/* sockets                                                             */

/* Listening socket on 127.0.0.1 via the library; returns fd, sets *port. */
static H_UNUSED int h_listen(int *port) {
    int lfd = mojo_tls_socket_listen("127.0.0.1", 0, 16);
    REQUIRE_OK(lfd);
    int p = mojo_tls_socket_port(lfd);
    REQUIRE(p > 0 && p < 65536);
    if (port) *port = p;
    return lfd;
}

/* Plain TCP connect to 127.0.0.1:port (no TLS), blocking. */
static H_UNUSED int h_tcp_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        h_fail(__FILE__, __LINE__, "tcp connect to 127.0.0.1:%d: %s", port, strerror(errno));
        h_abort();
    }
    return fd;
}

/* Raw listening socket on 127.0.0.1 (plain TCP, no socket options set). */
static H_UNUSED int h_raw_listen(int *port, int backlog) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    REQUIRE(listen(fd, backlog) == 0);
    socklen_t l = sizeof a;
    REQUIRE(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static H_UNUSED int h_fd_is_closed(int fd) { return fcntl(fd, F_GETFD) == -1 && errno == EBADF; }

/* Read exactly len bytes from a TLS conn (bounded by the conn's timeout). */
static H_UNUSED intptr_t h_read_exact(mojo_tls_conn *c, void *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        intptr_t n = mojo_tls_conn_read(c, (unsigned char *)buf + got, len - got);
        if (n <= 0) return n == 0 ? MOJO_TLS_ERR_CLOSED : n;
        got += (size_t)n;
    }
    return (intptr_t)got;
}

/* ------------------------------------------------------------------ */
/* server threads                                                      */

typedef struct h_server h_server;
typedef struct {
    h_server *srv;
    int idx;
    pthread_t th;
    mojo_tls_conn *conn;   /* the accepted connection, while the handler runs */
    intptr_t last_rc;      /* echo handler: final read result (0 = clean EOF) */
    uint64_t rx_sum;       /* echo handler: checksum of everything received */
    size_t rx_bytes;
} h_server_slot;

typedef void (*h_handler)(h_server_slot *slot, mojo_tls_conn *c, void *arg);

#define H_MAX_SERVER_THREADS 16
struct h_server {
    mojo_tls_config *cfg;
    int lfd, port, nthreads, accept_timeout_ms;
    h_handler fn;
    void *arg;
    h_server_slot slots[H_MAX_SERVER_THREADS];
};

static void *h_server_thread(void *p) {
    h_server_slot *slot = p;
    h_server *s = slot->srv;
    mojo_tls_conn *c = mojo_tls_conn_new_accept(s->cfg, s->lfd, s->accept_timeout_ms);
    if (!c) {
        h_fail(__FILE__, __LINE__, "server slot %d: mojo_tls_conn_new_accept failed", slot->idx);
        return NULL;
    }
    int rc = mojo_tls_conn_set_timeout(c, h_io_timeout_ms());
    if (rc != 0) h_fail(__FILE__, __LINE__, "server set_timeout: %d", rc);
    slot->conn = c;
    s->fn(slot, c, s->arg);
    slot->conn = NULL;
    rc = mojo_tls_conn_free(c);
    if (rc != 0) h_fail(__FILE__, __LINE__, "server conn_free: %d (%s)", rc, h_code_name(rc));
    return NULL;
}

/* nthreads threads, each accepts (with handshake) one connection and runs fn. */
static H_UNUSED void h_server_start(h_server *s, mojo_tls_config *cfg, int nthreads, h_handler fn, void *arg) {
    memset(s, 0, sizeof *s);
    REQUIRE(nthreads > 0 && nthreads <= H_MAX_SERVER_THREADS);
    s->cfg = cfg;
    s->nthreads = nthreads;
    s->fn = fn;
    s->arg = arg;
    s->accept_timeout_ms = h_io_timeout_ms();
    s->lfd = h_listen(&s->port);
    for (int i = 0; i < nthreads; i++) {
        s->slots[i].srv = s;
        s->slots[i].idx = i;
        REQUIRE(pthread_create(&s->slots[i].th, NULL, h_server_thread, &s->slots[i]) == 0);
    }
}

static H_UNUSED void h_server_join(h_server *s) {
    for (int i = 0; i < s->nthreads; i++) pthread_join(s->slots[i].th, NULL);
    CHECK_RC(mojo_tls_socket_close(s->lfd), 0);
}

/* Echo until EOF/error; records the final read result and a checksum. */
static H_UNUSED void h_echo_handler(h_server_slot *slot, mojo_tls_conn *c, void *arg) {
    (void)arg;
    enum { BUF = 16384 };
    unsigned char *buf = h_xmalloc(BUF);
    slot->rx_sum = H_FNV_INIT;
    for (;;) {
        intptr_t n = mojo_tls_conn_read(c, buf, BUF);
        if (n <= 0) {
            slot->last_rc = n;
            break;
        }
        slot->rx_sum = h_fnv1a(slot->rx_sum, buf, (size_t)n);
        slot->rx_bytes += (size_t)n;
        intptr_t w = mojo_tls_conn_write_all(c, buf, (size_t)n);
        if (w != n) {
            h_fail(__FILE__, __LINE__, "echo write_all(%jd) returned %jd (%s)", (intmax_t)n, (intmax_t)w,
                   h_code_name(w));
            slot->last_rc = w;
            break;
        }
    }
    free(buf);
}

/* Connect a client (mojo_tls_conn_new_connect to 127.0.0.1) with the test timeout. */
static H_UNUSED mojo_tls_conn *h_connect(const mojo_tls_config *cfg, int port) {
    mojo_tls_conn *c = mojo_tls_conn_new_connect(cfg, "127.0.0.1", (uint16_t)port, h_io_timeout_ms());
    REQUIRE_NONNULL(c);
    return c;
}

#endif /* MOJO_TLS_TEST_HARNESS_H */
