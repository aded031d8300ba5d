/* Panics never cross the ABI: with the debug-only `test-hooks` build of the
 * library, forced panics inside exported functions (int, byte-count,
 * constructor and pointer entry points, and one holding a live connection)
 * must return MOJO_TLS_ERR_INTERNAL / NULL, with a thread-local last error
 * that says "panic" — and the process, the thread, other threads and the
 * connection involved keep working. The hooks are found with dlsym, as a
 * host would find optional symbols. Built and run by panic_hook.sh. */
#include <dlfcn.h>

#include "../c/harness.h" /* by path: tests/c is not on the include path (its features.h would shadow libc's) */

typedef int32_t (*hook_int)(int32_t);
typedef intptr_t (*hook_len)(int32_t);
typedef void *(*hook_ptr)(int32_t);
typedef int32_t (*hook_conn)(mojo_tls_conn *, int32_t);

static hook_int debug_panic;
static hook_len debug_panic_len;
static hook_ptr debug_panic_handle, debug_panic_ptr;
static hook_conn debug_panic_conn;

static void *must_sym(const char *name) {
    void *p = dlsym(RTLD_DEFAULT, name);
    if (!p) {
        fprintf(stderr, "dlsym(%s): %s — is this the test-hooks build of libmojo_tls?\n", name, dlerror());
        exit(1);
    }
    return p;
}

static void expect_panic_error(const char *what) {
    char msg[512];
    msg[0] = '\0';
    int code = mojo_tls_last_error_code();
    mojo_tls_last_error(msg, sizeof msg);
    CHECK_MSG(code == MOJO_TLS_ERR_INTERNAL, "%s: last_error_code %d (%s), expected INTERNAL", what, code,
              h_code_name(code));
    CHECK_MSG(h_contains_ci(msg, "panic"), "%s: last_error \"%s\" does not say panic", what, msg);
}

/* a memory-mode client/server pair, handshaken */
static void mem_pair(mojo_tls_config *ccfg, mojo_tls_config *scfg, mojo_tls_conn **pc, mojo_tls_conn **ps) {
    mojo_tls_conn *c = mojo_tls_conn_new_memory(ccfg, "localhost");
    mojo_tls_conn *s = mojo_tls_conn_new_memory(scfg, NULL);
    REQUIRE_NONNULL(c);
    REQUIRE_NONNULL(s);
    static unsigned char buf[65536];
    int rc = -1, rs = -1;
    for (int i = 0; i < 50 && (rc != 0 || rs != 0); i++) {
        rc = mojo_tls_conn_handshake(c);
        intptr_t n;
        while ((n = mojo_tls_conn_drain(c, buf, sizeof buf)) > 0) mojo_tls_conn_feed(s, buf, (size_t)n);
        rs = mojo_tls_conn_handshake(s);
        while ((n = mojo_tls_conn_drain(s, buf, sizeof buf)) > 0) mojo_tls_conn_feed(c, buf, (size_t)n);
    }
    REQUIRE_RC(rc, 0);
    REQUIRE_RC(rs, 0);
    *pc = c;
    *ps = s;
}

/* send msg c -> s through memory mode and check it arrives */
static void exchange(mojo_tls_conn *c, mojo_tls_conn *s, const char *msg) {
    unsigned char buf[4096];
    size_t len = strlen(msg);
    CHECK_RC(mojo_tls_conn_write(c, msg, len), (intptr_t)len);
    intptr_t n;
    while ((n = mojo_tls_conn_drain(c, buf, sizeof buf)) > 0) mojo_tls_conn_feed(s, buf, (size_t)n);
    char got[256] = {0};
    n = mojo_tls_conn_read(s, got, sizeof got - 1);
    CHECK_MSG(n == (intptr_t)len && memcmp(got, msg, len) == 0, "exchange after a panic: read %jd", (intmax_t)n);
}

#define THREADS 8
#define PER_THREAD 100

static void *panic_thread(void *arg) {
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        int kind = (id + i) % 5;
        mojo_tls_clear_error();
        int32_t rc = debug_panic(kind);
        if (rc != MOJO_TLS_ERR_INTERNAL) {
            h_fail(__FILE__, __LINE__, "thread %d: debug_panic(%d) = %d", id, kind, rc);
            break;
        }
        char msg[256];
        mojo_tls_last_error(msg, sizeof msg);
        if (mojo_tls_last_error_code() != MOJO_TLS_ERR_INTERNAL || !h_contains_ci(msg, "panic")) {
            h_fail(__FILE__, __LINE__, "thread %d: last error after a panic: \"%s\"", id, msg);
            break;
        }
        /* the thread still works between panics */
        unsigned char r[16];
        if (mojo_tls_random(r, sizeof r) != (intptr_t)sizeof r) {
            h_fail(__FILE__, __LINE__, "thread %d: mojo_tls_random failed after a panic", id);
            break;
        }
    }
    return NULL;
}

int main(void) {
    h_start("panic_hook", 120);
    debug_panic = (hook_int)must_sym("mojo_tls_debug_panic");
    debug_panic_len = (hook_len)must_sym("mojo_tls_debug_panic_len");
    debug_panic_handle = (hook_ptr)must_sym("mojo_tls_debug_panic_handle");
    debug_panic_ptr = (hook_ptr)must_sym("mojo_tls_debug_panic_ptr");
    debug_panic_conn = (hook_conn)must_sym("mojo_tls_debug_panic_conn");
    printf("backend: %s\n", mojo_tls_backend());

    /* control: no panic */
    mojo_tls_clear_error();
    CHECK_RC(debug_panic(-1), 0);
    CHECK_RC(mojo_tls_last_error_code(), 0);

    static const char *kinds[] = {"&str payload", "String payload", "non-string payload", "index out of bounds",
                                  "unwrap on None"};
    for (int k = 0; k < 5; k++) {
        char what[64];
        snprintf(what, sizeof what, "int entry point, %s", kinds[k]);
        mojo_tls_clear_error();
        CHECK_RC(debug_panic(k), MOJO_TLS_ERR_INTERNAL);
        expect_panic_error(what);

        snprintf(what, sizeof what, "byte-count entry point, %s", kinds[k]);
        mojo_tls_clear_error();
        CHECK_RC(debug_panic_len(k), MOJO_TLS_ERR_INTERNAL);
        expect_panic_error(what);

        snprintf(what, sizeof what, "constructor, %s", kinds[k]);
        mojo_tls_clear_error();
        CHECK(debug_panic_handle(k) == NULL);
        expect_panic_error(what);

        snprintf(what, sizeof what, "pointer entry point, %s", kinds[k]);
        mojo_tls_clear_error();
        CHECK(debug_panic_ptr(k) == NULL);
        expect_panic_error(what);
    }
    char msg[512];
    mojo_tls_clear_error();
    debug_panic(1);
    mojo_tls_last_error(msg, sizeof msg);
    printf("last_error after a forced panic: %s\n", msg);

    /* a panic while holding a live connection: the handle survives the unwind */
    h_pki pki;
    h_pki_make(&pki);
    mojo_tls_config *scfg = h_server_config(&pki);
    mojo_tls_config *ccfg = h_client_config(pki.ca_pem, pki.ca_pem_len);
    mojo_tls_conn *c, *s;
    mem_pair(ccfg, scfg, &c, &s);
    for (int k = 0; k < 5; k++) {
        mojo_tls_clear_error();
        CHECK_RC(debug_panic_conn(c, k), MOJO_TLS_ERR_INTERNAL);
        expect_panic_error("panic holding a connection");
        CHECK_OK(mojo_tls_conn_pending_output(c));
        exchange(c, s, "still alive after a panic");
        exchange(s, c, "both directions");
    }
    CHECK_RC(mojo_tls_conn_version(c), mojo_tls_conn_version(s));
    CHECK_RC(mojo_tls_conn_free(c), 0);
    CHECK_RC(mojo_tls_conn_free(c), MOJO_TLS_ERR_INVALID_HANDLE);
    CHECK_RC(debug_panic_conn(c, 0), MOJO_TLS_ERR_INVALID_HANDLE); /* freed: no panic reached */
    CHECK_RC(mojo_tls_conn_free(s), 0);

    /* panics on many threads at once; each thread's last error is its own */
    mojo_tls_clear_error();
    CHECK(mojo_tls_config_new(77) == NULL); /* main thread: INVALID_ARGUMENT */
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) REQUIRE(pthread_create(&th[i], NULL, panic_thread, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    CHECK_RC(mojo_tls_last_error_code(), MOJO_TLS_ERR_INVALID_ARGUMENT);
    printf("%d panics on %d threads caught\n", THREADS * PER_THREAD, THREADS);

    /* and the library as a whole still works */
    mem_pair(ccfg, scfg, &c, &s);
    exchange(c, s, "a new connection after all the panics");
    CHECK_RC(mojo_tls_conn_free(c), 0);
    CHECK_RC(mojo_tls_conn_free(s), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
    h_pki_free(&pki);
    return h_finish();
}
