/* benches/driver.c — one benchmark driver, linked with one TLS engine
 * (benches/be_*.c; see backend.h). Loopback only, every mode bounded.
 *
 *   bench-X CERT KEY CA SUITE TLS13 MODE ARGS...
 *     bulk BYTES          1 connection, client writes BYTES in 16 KiB writes,
 *                         server reads 16 KiB at a time and acks   → bulk_MBps,
 *                         bulk_cpu_s_per_GiB (process CPU, both ends)
 *     hs full|resumed SEC sequential handshakes for SEC seconds  → hs_per_s, server_cpu_us,
 *                                                                 client_cpu_us
 *     mem N               N idle connections; the server is this process,
 *                         the client a forked child                → mem_server_B, mem_client_B
 *     conc N BYTES        N connections (2N threads), BYTES in total → conc_MBps
 *     ffi ITERS           be_noop on a live connection            → ffi_ns
 *
 * Output: "key value" lines on stdout. Exit status 0 on success. */
#define _GNU_SOURCE
#include "backend.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 16384

static void fail(const char *what) {
    fprintf(stderr, "bench-%s: %s failed\n", be_name(), what);
    exit(1);
}

/* user + system CPU seconds of the whole process (every thread) */
static double process_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) fail(path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) fail(path);
    b[n] = 0;
    fclose(f);
    return b;
}

static int g_port;

static int tcp_listen(int backlog) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, backlog) ||
        getsockname(fd, (struct sockaddr *)&a, &len))
        fail("listen");
    g_port = ntohs(a.sin_port);
    return fd;
}

/* used by be_raw.c and be_openssl.c (mojo-tls does its own socket work) */
int bench_tcp_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0) return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

int bench_tcp_accept(int lfd) {
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), one = 1;
    if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static long rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &res) != 2) res = 0;
        fclose(f);
    }
    return res * sysconf(_SC_PAGESIZE);
}

static void raise_nofile(void) {
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

/* ------------------------------------------------------------------ bulk */

typedef struct {
    int lfd;
    size_t bytes;
    int ok;
} bulk_srv;

static void *bulk_server(void *p) {
    bulk_srv *s = p;
    be_conn *c = be_accept(s->lfd);
    if (!c) fail("server accept");
    unsigned char *buf = malloc(CHUNK);
    size_t got = 0;
    while (got < s->bytes) {
        long n = be_read(c, buf, CHUNK);
        if (n <= 0) fail("server read");
        got += (size_t)n;
    }
    if (be_write_all(c, "k", 1)) fail("server ack");
    long n = be_read(c, buf, CHUNK); /* the client's close_notify / EOF */
    (void)n;
    s->ok = 1;
    free(buf);
    be_free(c);
    return NULL;
}

static int mode_bulk(size_t bytes) {
    bulk_srv s = {.lfd = tcp_listen(16), .bytes = bytes};
    pthread_t t;
    pthread_create(&t, NULL, bulk_server, &s);
    be_conn *c = be_connect(g_port, NULL);
    if (!c) fail("connect");
    unsigned char *buf = malloc(CHUNK);
    for (size_t i = 0; i < CHUNK; i++) buf[i] = (unsigned char)(i * 131 + 7);
    double t0 = now_s(), c0 = process_cpu();
    for (size_t sent = 0; sent < bytes;) {
        size_t n = bytes - sent < CHUNK ? bytes - sent : CHUNK;
        if (be_write_all(c, buf, n)) fail("client write");
        sent += n;
    }
    unsigned char ack;
    if (be_read(c, &ack, 1) != 1) fail("client ack");
    double dt = now_s() - t0, cpu = process_cpu() - c0;
    printf("cipher %s\n", be_cipher(c));
    be_close_notify(c);
    be_free(c);
    pthread_join(t, NULL);
    close(s.lfd);
    printf("bulk_MBps %.2f\n", (double)bytes / dt / 1e6);
    /* both ends' CPU time (client + server threads) per GiB: far less
     * sensitive to other load on the machine than the wall-clock rate */
    printf("bulk_cpu_s_per_GiB %.3f\n", cpu * 1073741824.0 / (double)bytes);
    free(buf);
    return s.ok ? 0 : 1;
}

/* ------------------------------------------------------------ handshakes */

typedef struct {
    int lfd;
    atomic_int stop;
    long count;
    double cpu_s;
} hs_srv;

static double thread_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static void *hs_server(void *p) {
    hs_srv *s = p;
    unsigned char buf[256];
    double c0 = thread_cpu();
    for (;;) {
        be_conn *c = be_accept(s->lfd);
        if (!c) {
            if (atomic_load(&s->stop)) break;
            continue;
        }
        s->count++;
        while (be_read(c, buf, sizeof buf) > 0) {
        } /* until the client's close_notify */
        be_free(c);
    }
    s->cpu_s = thread_cpu() - c0;
    return NULL;
}

static int mode_hs(int resumed, double secs) {
    hs_srv s = {.lfd = tcp_listen(64)};
    pthread_t t;
    pthread_create(&t, NULL, hs_server, &s);
    be_session *sess = NULL;
    unsigned char buf[256];
    if (resumed) { /* one full handshake to get a session (not counted) */
        be_conn *c = be_connect(g_port, NULL);
        if (!c) fail("first connect");
        be_close_notify(c);
        while (be_read(c, buf, sizeof buf) > 0) {
        } /* TLS 1.3: the ticket comes after the handshake; read it first */
        sess = be_get_session(c);
        if (!sess) fail("session");
        be_free(c);
    }
    long n = 0, nres = 0;
    double c0 = thread_cpu(); /* the client's own CPU: this thread */
    double t0 = now_s(), end = t0 + secs, dt;
    for (;;) {
        be_conn *c = be_connect(g_port, sess);
        if (!c) fail("connect");
        nres += be_resumed(c) == 1;
        be_close_notify(c);
        while (be_read(c, buf, sizeof buf) > 0) {
        } /* until the server closes */
        be_free(c);
        n++;
        if ((dt = now_s() - t0) >= secs || now_s() > end) break;
    }
    double client_cpu = thread_cpu() - c0;
    atomic_store(&s.stop, 1);
    int fd = bench_tcp_connect(g_port); /* wake the server's accept */
    if (fd >= 0) close(fd);
    pthread_join(t, NULL);
    close(s.lfd);
    if (sess) be_session_free(sess);
    if (resumed && nres != n) {
        fprintf(stderr, "bench-%s: only %ld of %ld handshakes resumed\n", be_name(), nres, n);
        return 1;
    }
    printf("hs_count %ld\nhs_per_s %.1f\nserver_cpu_us %.1f\nclient_cpu_us %.1f\n", n, (double)n / dt,
           s.count ? s.cpu_s * 1e6 / (double)s.count : 0.0, client_cpu * 1e6 / (double)n);
    return 0;
}

/* ---------------------------------------------------------------- memory */

static int mode_mem(int n) {
    raise_nofile();
    int lfd = tcp_listen(n + 16);
    int sync_p[2], res_p[2];
    if (pipe(sync_p) || pipe(res_p)) fail("pipe");
    be_conn **cs = calloc((size_t)n, sizeof *cs);
    unsigned char buf[64];
    pid_t pid = fork();
    if (pid < 0) fail("fork");
    if (pid == 0) { /* client process */
        alarm(300);
        be_conn *w = be_connect(g_port, NULL); /* warm-up: lazy setup out of the figure */
        if (!w) fail("warm-up connect");
        be_close_notify(w);
        while (be_read(w, buf, sizeof buf) > 0) {
        }
        be_free(w);
        long r0 = rss_bytes();
        for (int i = 0; i < n; i++)
            if (!(cs[i] = be_connect(g_port, NULL))) fail("client connect");
        long growth = rss_bytes() - r0;
        if (write(res_p[1], &growth, sizeof growth) != sizeof growth) fail("pipe write");
        char x; /* keep them open until the server measured */
        if (read(sync_p[0], &x, 1) != 1) fail("pipe read");
        for (int i = 0; i < n; i++) be_free(cs[i]);
        _exit(0);
    }
    be_conn *w = be_accept(lfd);
    if (!w) fail("warm-up accept");
    while (be_read(w, buf, sizeof buf) > 0) {
    }
    be_free(w);
    long r0 = rss_bytes();
    for (int i = 0; i < n; i++)
        if (!(cs[i] = be_accept(lfd))) fail("server accept");
    long sgrowth = rss_bytes() - r0, cgrowth = 0;
    if (read(res_p[0], &cgrowth, sizeof cgrowth) != sizeof cgrowth) fail("pipe read");
    if (write(sync_p[1], "x", 1) != 1) fail("pipe write");
    int st;
    waitpid(pid, &st, 0);
    for (int i = 0; i < n; i++) be_free(cs[i]);
    printf("mem_server_B %.0f\nmem_client_B %.0f\n", (double)sgrowth / n, (double)cgrowth / n);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

/* ----------------------------------------------------------- concurrency */

typedef struct {
    int lfd;
    size_t bytes;
    pthread_barrier_t *bar;
} conc_arg;

static void *conc_server(void *p) {
    conc_arg *a = p;
    be_conn *c = be_accept(a->lfd);
    if (!c) fail("conc accept");
    pthread_barrier_wait(a->bar);
    unsigned char *buf = malloc(CHUNK);
    size_t got = 0;
    while (got < a->bytes) {
        long n = be_read(c, buf, CHUNK);
        if (n <= 0) fail("conc server read");
        got += (size_t)n;
    }
    if (be_write_all(c, "k", 1)) fail("conc ack");
    while (be_read(c, buf, CHUNK) > 0) {
    }
    free(buf);
    be_free(c);
    return NULL;
}

static void *conc_client(void *p) {
    conc_arg *a = p;
    be_conn *c = be_connect(g_port, NULL);
    if (!c) fail("conc connect");
    pthread_barrier_wait(a->bar);
    unsigned char *buf = calloc(1, CHUNK);
    for (size_t sent = 0; sent < a->bytes;) {
        size_t n = a->bytes - sent < CHUNK ? a->bytes - sent : CHUNK;
        if (be_write_all(c, buf, n)) fail("conc write");
        sent += n;
    }
    if (be_read(c, buf, 1) != 1) fail("conc client ack");
    be_close_notify(c);
    free(buf);
    be_free(c);
    return NULL;
}

static int mode_conc(int n, size_t bytes) {
    raise_nofile();
    conc_arg a = {.lfd = tcp_listen(n + 16), .bytes = bytes / (size_t)n};
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)(2 * n + 1));
    a.bar = &bar;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 256 * 1024);
    pthread_t *ts = calloc((size_t)(2 * n), sizeof *ts);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&ts[2 * i], &at, conc_server, &a) || pthread_create(&ts[2 * i + 1], &at, conc_client, &a))
            fail("pthread_create");
    }
    pthread_barrier_wait(&bar); /* every handshake done */
    double t0 = now_s();
    for (int i = 0; i < 2 * n; i++) pthread_join(ts[i], NULL);
    double dt = now_s() - t0;
    close(a.lfd);
    printf("conc_MBps %.2f\n", (double)(a.bytes * (size_t)n) / dt / 1e6);
    return 0;
}

/* ------------------------------------------------------------------- ffi */

static void *ffi_server(void *p) {
    int lfd = *(int *)p;
    unsigned char buf[64];
    be_conn *c = be_accept(lfd);
    if (!c) fail("ffi accept");
    while (be_read(c, buf, sizeof buf) > 0) {
    }
    be_free(c);
    return NULL;
}

static int mode_ffi(long iters) {
    int lfd = tcp_listen(4);
    pthread_t t;
    pthread_create(&t, NULL, ffi_server, &lfd);
    be_conn *c = be_connect(g_port, NULL);
    if (!c) fail("connect");
    volatile long sink = 0;
    for (long i = 0; i < iters / 10; i++) sink += be_noop(c); /* warm-up */
    double t0 = now_s();
    for (long i = 0; i < iters; i++) sink += be_noop(c);
    double dt = now_s() - t0;
    be_close_notify(c);
    be_free(c);
    pthread_join(t, NULL);
    close(lfd);
    printf("ffi_ns %.2f\n", dt * 1e9 / (double)iters);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: %s CERT KEY CA SUITE TLS13 MODE ARGS...\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    alarm(600); /* a hard bound on every run */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (be_init(slurp(argv[1]), slurp(argv[2]), slurp(argv[3]), argv[4], atoi(argv[5]))) {
        printf("unsupported 1\n");
        return 3;
    }
    const char *mode = argv[6];
    if (!strcmp(mode, "bulk") && argc > 7) return mode_bulk((size_t)strtoull(argv[7], NULL, 10));
    if (!strcmp(mode, "hs") && argc > 8) return mode_hs(!strcmp(argv[7], "resumed"), atof(argv[8]));
    if (!strcmp(mode, "mem") && argc > 7) return mode_mem(atoi(argv[7]));
    if (!strcmp(mode, "conc") && argc > 8) return mode_conc(atoi(argv[7]), (size_t)strtoull(argv[8], NULL, 10));
    if (!strcmp(mode, "ffi") && argc > 7) return mode_ffi(atol(argv[7]));
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
