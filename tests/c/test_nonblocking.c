/* Non-blocking use (timeout 0): connect returns at once, the handshake is
 * driven with poll() on mojo_tls_conn_fd; read with no data is
 * WANT_READ; writes to a peer that is not reading hit WANT_WRITE, and poll +
 * retry with the same buffer finishes the transfer without loss. */
#include "harness.h"

typedef struct {
    volatile int start_reading;
    size_t rx_bytes;
    uint64_t rx_sum;
    intptr_t last_rc;
} shared_state;

static void server_fn(h_server_slot *slot, mojo_tls_conn *c, void *arg) {
    (void)slot;
    shared_state *st = arg;
    /* phase 1: stay silent for a while, then send one message */
    h_sleep_ms(300 * h_slow());
    CHECK_RC(mojo_tls_conn_write_all(c, U8("delayed"), 7), 7);
    /* phase 2: do not read until the client has hit WANT_WRITE */
    double t0 = h_now_ms();
    while (!__atomic_load_n(&st->start_reading, __ATOMIC_SEQ_CST)) {
        if (h_now_ms() - t0 > h_io_timeout_ms()) {
            h_fail(__FILE__, __LINE__, "client never signalled");
            return;
        }
        h_sleep_ms(5);
    }
    unsigned char *buf = h_xmalloc(65536);
    st->rx_sum = H_FNV_INIT;
    for (;;) {
        intptr_t n = mojo_tls_conn_read(c, buf, 65536);
        if (n <= 0) {
            st->last_rc = n;
            break;
        }
        st->rx_sum = h_fnv1a(st->rx_sum, buf, (size_t)n);
        st->rx_bytes += (size_t)n;
    }
    free(buf);
}

/* wait for fd readiness, bounded */
static void wait_fd(mojo_tls_conn *c, short events, double deadline) {
    int fd = mojo_tls_conn_fd(c);
    REQUIRE(fd >= 0);
    int left = (int)(deadline - h_now_ms());
    if (left <= 0) {
        h_fail(__FILE__, __LINE__, "deadline passed waiting for fd events 0x%x", events);
        h_abort();
    }
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, left);
    REQUIRE(r >= 0);
}

int main(void) {
    h_start("test_nonblocking", 120);
    h_pki pki;
    h_pki_make(&pki);
    mojo_tls_config *scfg = h_server_config(&pki);
    mojo_tls_config *ccfg = h_client_config(pki.ca_pem, pki.ca_pem_len);
    shared_state st;
    memset(&st, 0, sizeof st);
    h_server srv;
    h_server_start(&srv, scfg, 1, server_fn, &st);

    /* connect with timeout 0: must come back without finishing the handshake */
    double t0 = h_now_ms();
    mojo_tls_conn *c = mojo_tls_conn_new_connect(ccfg, "127.0.0.1", (uint16_t)srv.port, 0);
    REQUIRE_NONNULL(c);
    CHECK_MSG(h_now_ms() - t0 < 1000.0 * h_slow(), "connect(timeout 0) took %.0f ms", h_now_ms() - t0);
    int fd = mojo_tls_conn_fd(c);
    CHECK(fd >= 0);

    double deadline = h_now_ms() + h_io_timeout_ms();
    int wants = 0, rc;
    while ((rc = mojo_tls_conn_handshake(c)) != 0) {
        if (rc == MOJO_TLS_ERR_WANT_READ) wait_fd(c, POLLIN, deadline);
        else if (rc == MOJO_TLS_ERR_WANT_WRITE) wait_fd(c, POLLOUT, deadline);
        else {
            h_fail(__FILE__, __LINE__, "non-blocking handshake: %d (%s)", rc, h_code_name(rc));
            h_abort();
        }
        wants++;
    }
    /* TLS 1.2 needs two round trips, so the client must wait at least once.
     * In TLS 1.3 one server flight completes the client: if the client thread
     * is descheduled after its ClientHello (a busy machine), that flight is
     * already there and no WANT_* is needed. The read below checks that
     * non-blocking calls do not block. */
    CHECK_MSG(wants > 0 || mojo_tls_conn_version(c) == MOJO_TLS_VERSION_TLS1_3,
              "handshake never returned WANT_* (it blocked?)");
    CHECK(mojo_tls_conn_cipher(c) != NULL);

    /* the server is still sleeping: nothing to read yet */
    unsigned char b[64];
    t0 = h_now_ms();
    CHECK_RC(mojo_tls_conn_read(c, b, sizeof b), MOJO_TLS_ERR_WANT_READ);
    CHECK_MSG(h_now_ms() - t0 < 100.0 * h_slow(), "non-blocking read took %.0f ms", h_now_ms() - t0);

    /* poll on the fd until the message is there */
    size_t got = 0;
    int polls = 0;
    while (got < 7) {
        intptr_t n = mojo_tls_conn_read(c, b + got, sizeof b - got);
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        REQUIRE_RC(n, MOJO_TLS_ERR_WANT_READ);
        wait_fd(c, POLLIN, deadline);
        polls++;
    }
    CHECK(polls >= 1);
    CHECK(got == 7 && memcmp(b, "delayed", 7) == 0);
    CHECK_RC(mojo_tls_conn_read(c, b, sizeof b), MOJO_TLS_ERR_WANT_READ);

    /* writes: the server is not reading, so buffers fill up -> WANT_WRITE */
    enum { CHUNK = 65536, MAXCHUNKS = 4096 };
    unsigned char *data = h_xmalloc(CHUNK);
    uint64_t sum = H_FNV_INIT;
    size_t sent = 0;
    int saw_want_write = 0;
    uint64_t seed = 1;
    h_fill(data, CHUNK, seed);
    size_t off = 0; /* progress inside the current chunk */
    for (int i = 0; i < MAXCHUNKS && !saw_want_write;) {
        intptr_t w = mojo_tls_conn_write(c, data + off, CHUNK - off);
        if (w == MOJO_TLS_ERR_WANT_WRITE) {
            saw_want_write = 1;
            break;
        }
        REQUIRE(w > 0 && (size_t)w <= CHUNK - off);
        sum = h_fnv1a(sum, data + off, (size_t)w);
        sent += (size_t)w;
        off += (size_t)w;
        if (off == CHUNK) {
            off = 0;
            i++;
            h_fill(data, CHUNK, ++seed);
        }
    }
    CHECK_MSG(saw_want_write, "no WANT_WRITE after %zu bytes to a peer that does not read", sent);
    printf("  WANT_WRITE after %zu bytes\n", sent);
    __atomic_store_n(&st.start_reading, 1, __ATOMIC_SEQ_CST);

    /* finish the interrupted chunk plus 8 more, retrying the same buffer */
    int chunks_left = 8;
    int want_writes = 0;
    for (;;) {
        intptr_t w = mojo_tls_conn_write(c, data + off, CHUNK - off);
        if (w == MOJO_TLS_ERR_WANT_WRITE) {
            want_writes++;
            wait_fd(c, POLLOUT, deadline);
            continue;
        }
        REQUIRE(w > 0 && (size_t)w <= CHUNK - off);
        sum = h_fnv1a(sum, data + off, (size_t)w);
        sent += (size_t)w;
        off += (size_t)w;
        if (off == CHUNK) {
            off = 0;
            if (chunks_left-- == 0) break;
            h_fill(data, CHUNK, ++seed);
        }
    }
    free(data);
    /* back to blocking (bounded) for the orderly shutdown */
    CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
    CHECK_RC(mojo_tls_conn_close_notify(c), 0);
    h_server_join(&srv);
    CHECK_EQ(st.last_rc, 0);
    CHECK_EQ(st.rx_bytes, sent);
    CHECK_EQ(st.rx_sum, sum);
    CHECK_RC(mojo_tls_conn_free(c), 0);

    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
    h_pki_free(&pki);
    return h_finish();
}
