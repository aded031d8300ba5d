/* Threads and fork.
 *  1. 8 connections on 8 client threads against 8 server threads, each
 *     echoing 256 KiB with checksums, all at the same time.
 *  2. One connection shared by three threads: A and B each write_all 500
 *     tagged 1000-byte messages while C reads the server's replies. The
 *     server checks every message arrives whole (no interleaving inside a
 *     write_all) and in per-writer order.
 *  3. After fork() the child's mojo_tls_random output differs from the
 *     parent's next output (the DRBG state must not be shared). */
#include "harness.h"

#include <sys/wait.h>

#define NCONN 8
#define PER_CONN (256u * 1024u)

/* ---------------- 1: parallel connections ------------------------------- */

typedef struct {
    mojo_tls_config *ccfg;
    int port, idx;
    uint64_t sent_sum;
    int ok;
} client_job;

static void *client_thread(void *p) {
    client_job *j = p;
    mojo_tls_conn *c = mojo_tls_conn_new_connect(j->ccfg, "localhost", (uint16_t)j->port, h_io_timeout_ms());
    if (!c) {
        h_fail(__FILE__, __LINE__, "client %d: connect failed", j->idx);
        return NULL;
    }
    unsigned char *out = h_xmalloc(PER_CONN), *in = h_xmalloc(PER_CONN);
    h_fill(out, PER_CONN, 100 + (uint64_t)j->idx);
    size_t off = 0;
    int ok = 1;
    while (off < PER_CONN && ok) {
        size_t len = 8192 + (size_t)j->idx * 997; /* different record patterns per thread */
        if (len > PER_CONN - off) len = PER_CONN - off;
        intptr_t w = mojo_tls_conn_write_all(c, out + off, len);
        intptr_t r = w == (intptr_t)len ? h_read_exact(c, in + off, len) : w;
        if (w != (intptr_t)len || r != (intptr_t)len) {
            h_fail(__FILE__, __LINE__, "client %d at %zu: write %jd read %jd", j->idx, off, (intmax_t)w,
                   (intmax_t)r);
            ok = 0;
        }
        off += len;
    }
    if (ok) {
        j->sent_sum = h_fnv1a(H_FNV_INIT, out, PER_CONN);
        CHECK_EQ(h_fnv1a(H_FNV_INIT, in, PER_CONN), j->sent_sum);
        CHECK_MSG(memcmp(in, out, PER_CONN) == 0, "client %d: echoed data differs", j->idx);
        CHECK_RC(mojo_tls_conn_close_notify(c), 0);
        unsigned char b[8];
        intptr_t r = mojo_tls_conn_read(c, b, sizeof b);
        CHECK_MSG(r == 0 || r == MOJO_TLS_ERR_CLOSED, "read after close_notify: %jd", (intmax_t)r);
        j->ok = 1;
    }
    CHECK_RC(mojo_tls_conn_free(c), 0);
    free(out);
    free(in);
    return NULL;
}

static void parallel_connections(mojo_tls_config *scfg, mojo_tls_config *ccfg) {
    h_server srv;
    h_server_start(&srv, scfg, NCONN, h_echo_handler, NULL);
    client_job jobs[NCONN];
    pthread_t th[NCONN];
    double t0 = h_now_ms();
    for (int i = 0; i < NCONN; i++) {
        jobs[i] = (client_job){ccfg, srv.port, i, 0, 0};
        REQUIRE(pthread_create(&th[i], NULL, client_thread, &jobs[i]) == 0);
    }
    for (int i = 0; i < NCONN; i++) pthread_join(th[i], NULL);
    h_server_join(&srv);
    printf("  %d parallel connections x 256 KiB echoed in %.0f ms\n", NCONN, h_now_ms() - t0);
    /* every client's bytes arrived at exactly one server slot, intact */
    for (int i = 0; i < NCONN; i++) {
        CHECK_MSG(jobs[i].ok, "client %d did not finish", i);
        int found = 0;
        for (int k = 0; k < NCONN; k++)
            if (srv.slots[k].rx_bytes == PER_CONN && srv.slots[k].rx_sum == jobs[i].sent_sum) found++;
        CHECK_MSG(found == 1, "client %d: its checksum matched %d server connections", i, found);
    }
    for (int k = 0; k < NCONN; k++) CHECK_EQ(srv.slots[k].last_rc, 0);
}

/* ---------------- 2: one connection, three threads ---------------------- */

#define NMSG 500
#define MSGLEN 1000
#define ACKLEN 8

/* message: tag, seq (4 bytes BE), payload from (tag, seq), 8-byte checksum at the end */
static void make_msg(unsigned char *m, char tag, uint32_t seq) {
    m[0] = (unsigned char)tag;
    m[1] = (unsigned char)(seq >> 24);
    m[2] = (unsigned char)(seq >> 16);
    m[3] = (unsigned char)(seq >> 8);
    m[4] = (unsigned char)seq;
    h_fill(m + 5, MSGLEN - 13, ((uint64_t)(unsigned char)tag << 32) | seq);
    uint64_t s = h_fnv1a(H_FNV_INIT, m, MSGLEN - 8);
    memcpy(m + MSGLEN - 8, &s, 8);
}

typedef struct {
    int bad_msgs, order_errors, got[2];
    intptr_t end_rc;
} shared_check;

/* Server: read fixed-size messages, verify, reply with an 8-byte ack each */
static void tagged_server(h_server_slot *slot, mojo_tls_conn *c, void *arg) {
    (void)slot;
    shared_check *st = arg;
    unsigned char m[MSGLEN], expect[MSGLEN];
    uint32_t next[2] = {0, 0};
    for (;;) {
        intptr_t r = h_read_exact(c, m, MSGLEN);
        if (r != MSGLEN) {
            st->end_rc = r; /* CLOSED here means clean EOF from h_read_exact */
            break;
        }
        int w = m[0] == 'A' ? 0 : m[0] == 'B' ? 1 : -1;
        uint32_t seq = ((uint32_t)m[1] << 24) | ((uint32_t)m[2] << 16) | ((uint32_t)m[3] << 8) | m[4];
        if (w < 0) {
            st->bad_msgs++;
            h_fail(__FILE__, __LINE__, "message with unknown tag 0x%02x (stream interleaved?)", m[0]);
            st->end_rc = -1000;
            break;
        }
        make_msg(expect, (char)m[0], seq);
        if (memcmp(m, expect, MSGLEN) != 0) {
            st->bad_msgs++;
            h_fail(__FILE__, __LINE__, "message %c#%u corrupted or interleaved", m[0], seq);
            st->end_rc = -1000;
            break;
        }
        if (seq != next[w]) st->order_errors++;
        next[w] = seq + 1;
        st->got[w]++;
        unsigned char ack[ACKLEN] = {'K', m[0], m[1], m[2], m[3], m[4], '\n', '\n'};
        if (mojo_tls_conn_write_all(c, ack, ACKLEN) != ACKLEN) {
            h_fail(__FILE__, __LINE__, "server ack write failed");
            break;
        }
    }
}

typedef struct {
    mojo_tls_conn *c;
    char tag;
    int acks[2];
    int errors;
} worker;

static void *writer_thread(void *p) {
    worker *w = p;
    unsigned char m[MSGLEN];
    for (uint32_t i = 0; i < NMSG; i++) {
        make_msg(m, w->tag, i);
        intptr_t r = mojo_tls_conn_write_all(w->c, m, MSGLEN);
        if (r != MSGLEN) {
            h_fail(__FILE__, __LINE__, "writer %c msg %u: write_all %jd (%s)", w->tag, i, (intmax_t)r,
                   h_code_name(r));
            w->errors++;
            return NULL;
        }
    }
    return NULL;
}

static void *reader_thread(void *p) {
    worker *w = p;
    uint32_t next[2] = {0, 0};
    for (int i = 0; i < 2 * NMSG; i++) {
        unsigned char ack[ACKLEN];
        intptr_t r = h_read_exact(w->c, ack, ACKLEN);
        if (r != ACKLEN) {
            h_fail(__FILE__, __LINE__, "reader: ack %d: %jd (%s)", i, (intmax_t)r, h_code_name(r));
            w->errors++;
            return NULL;
        }
        int k = ack[1] == 'A' ? 0 : ack[1] == 'B' ? 1 : -1;
        uint32_t seq = ((uint32_t)ack[2] << 24) | ((uint32_t)ack[3] << 16) | ((uint32_t)ack[4] << 8) | ack[5];
        if (ack[0] != 'K' || k < 0 || ack[6] != '\n' || seq != next[k]) {
            h_fail(__FILE__, __LINE__, "reader: bad ack %d", i);
            w->errors++;
            return NULL;
        }
        next[k]++;
        w->acks[k]++;
    }
    return NULL;
}

static void shared_connection(mojo_tls_config *scfg, mojo_tls_config *ccfg) {
    shared_check st;
    memset(&st, 0, sizeof st);
    h_server srv;
    h_server_start(&srv, scfg, 1, tagged_server, &st);
    mojo_tls_conn *c = h_connect(ccfg, srv.port);
    CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
    worker a = {c, 'A', {0, 0}, 0}, b = {c, 'B', {0, 0}, 0}, rd = {c, 'R', {0, 0}, 0};
    pthread_t ta, tb, tr;
    double t0 = h_now_ms();
    /* reader first: it blocks in read while the writers run */
    REQUIRE(pthread_create(&tr, NULL, reader_thread, &rd) == 0);
    REQUIRE(pthread_create(&ta, NULL, writer_thread, &a) == 0);
    REQUIRE(pthread_create(&tb, NULL, writer_thread, &b) == 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_join(tr, NULL);
    printf("  3 threads on one connection: %d msgs in, %d acks out in %.0f ms\n", st.got[0] + st.got[1],
           rd.acks[0] + rd.acks[1], h_now_ms() - t0);
    CHECK_EQ(a.errors + b.errors + rd.errors, 0);
    CHECK_EQ(rd.acks[0], NMSG);
    CHECK_EQ(rd.acks[1], NMSG);
    CHECK_RC(mojo_tls_conn_close_notify(c), 0);
    h_server_join(&srv);
    CHECK_EQ(st.bad_msgs, 0);
    CHECK_EQ(st.order_errors, 0);
    CHECK_EQ(st.got[0], NMSG);
    CHECK_EQ(st.got[1], NMSG);
    CHECK_RC(st.end_rc, MOJO_TLS_ERR_CLOSED); /* h_read_exact maps clean EOF (0) to CLOSED */
    CHECK_RC(mojo_tls_conn_free(c), 0);
}

/* ---------------- 3: fork --------------------------------------------- */

static void fork_reseeds(void) {
    uint8_t before[32], parent_after[32], child[2][32];
    CHECK_RC(mojo_tls_random(before, sizeof before), (intptr_t)(sizeof before)); /* DRBG is seeded and in use */
    for (int k = 0; k < 2; k++) {
        int pfd[2];
        REQUIRE(pipe(pfd) == 0);
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            close(pfd[0]);
            uint8_t r[32];
            int rc = mojo_tls_random(r, sizeof r);
            if (rc != (int)sizeof r) memset(r, 0, sizeof r);
            ssize_t n = write(pfd[1], r, sizeof r);
            _exit(n == (ssize_t)sizeof r && rc == (int)sizeof r ? 0 : 1);
        }
        close(pfd[1]);
        if (k == 0) CHECK_RC(mojo_tls_random(parent_after, sizeof parent_after), (intptr_t)(sizeof parent_after));
        size_t got = 0;
        while (got < 32) {
            ssize_t n = read(pfd[0], child[k] + got, 32 - got);
            if (n <= 0) break;
            got += (size_t)n;
        }
        close(pfd[0]);
        int status = 0;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d status 0x%x", k, status);
        CHECK_EQ(got, 32);
    }
    CHECK_MSG(memcmp(child[0], parent_after, 32) != 0, "child's random bytes equal the parent's after fork");
    CHECK_MSG(memcmp(child[0], before, 32) != 0, "child repeated the parent's earlier output");
    /* the second child was forked from the state after parent_after; it too
     * must not repeat what the parent produces next */
    uint8_t parent_next[32];
    CHECK_RC(mojo_tls_random(parent_next, sizeof parent_next), (intptr_t)(sizeof parent_next));
    CHECK_MSG(memcmp(child[1], parent_next, 32) != 0, "second child's random bytes equal the parent's");
    CHECK_MSG(memcmp(child[0], child[1], 32) != 0, "two children produced the same random bytes");
}

int main(void) {
    h_start("test_threads", 300);
    h_pki pki;
    h_pki_make(&pki);
    mojo_tls_config *scfg = h_server_config(&pki);
    mojo_tls_config *ccfg = h_client_config(pki.ca_pem, pki.ca_pem_len);

    parallel_connections(scfg, ccfg);
    shared_connection(scfg, ccfg);
    fork_reseeds();

    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
    h_pki_free(&pki);
    return h_finish();
}
