/* DTLS Connection ID on the UDP listener: a client whose source port
 * changes mid-session (its socket replaced by one bound to a new port, as
 * a NAT rebinding does) keeps its connection when CIDs are on: the echo
 * continues. Control run without CIDs: the moved client is lost (its
 * datagrams reach the listener, which drops them), so the test can fail.
 * A forged datagram with the right CID from a third port (it cannot
 * authenticate) moves nothing: the echo keeps going to the client. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

typedef struct {
    mojo_tls_dtls_listener *l;
    volatile int stop;
    int echoed;
    int closed; /* the client's close_notify arrived */
    int extra_accepts;
} server_t;

/* One client: echo it; between reads, let the listener process what
 * reached it (accept with timeout 0: the moved client's datagrams). */
static void *serve(void *p) {
    server_t *s = p;
    mojo_tls_conn *c = mojo_tls_conn_new_dtls_accept(s->l, 10000);
    if (!c) {
        h_fail(__FILE__, __LINE__, "accept: %s", h_code_name(mojo_tls_last_error_code()));
        return NULL;
    }
    mojo_tls_conn_set_timeout(c, 30);
    unsigned char buf[2048];
    double t0 = h_now_ms();
    while (!s->stop && h_now_ms() - t0 < 30000.0 * h_slow()) {
        intptr_t n = mojo_tls_conn_read(c, buf, sizeof buf);
        if (n > 0) {
            CHECK_RC(mojo_tls_conn_write(c, buf, (size_t)n), n);
            s->echoed++;
        } else if (n == 0) {
            s->closed = 1;
            break;
        } else if (n != MOJO_TLS_ERR_TIMEOUT) {
            h_fail(__FILE__, __LINE__, "server read: %s", h_code_name(n));
            break;
        }
        mojo_tls_conn *other = mojo_tls_conn_new_dtls_accept(s->l, 0);
        if (other) {
            s->extra_accepts++;
            mojo_tls_conn_free(other);
        }
    }
    mojo_tls_conn_free(c);
    return NULL;
}

static int udp_to(int port) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    a.sin_port = htons((uint16_t)port);
    REQUIRE(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    return fd;
}

static int local_port(int fd) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    REQUIRE(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    return ntohs(a.sin_port);
}

/* Send `msg` and wait for its echo, resending (a new record each time)
 * every 150 ms, up to `tries` times. 1 when it came back. */
static int echo(mojo_tls_conn *c, const char *msg, int tries) {
    char buf[256];
    for (int t = 0; t < tries; t++) {
        REQUIRE_RC(mojo_tls_conn_write(c, msg, strlen(msg)), (intptr_t)strlen(msg));
        double until = h_now_ms() + 150.0 * h_slow();
        while (h_now_ms() < until) {
            intptr_t n = mojo_tls_conn_read(c, buf, sizeof buf);
            if (n == (intptr_t)strlen(msg) && memcmp(buf, msg, (size_t)n) == 0) return 1;
            if (n > 0) continue; /* an echo of an earlier resend */
            if (n != MOJO_TLS_ERR_TIMEOUT) {
                h_fail(__FILE__, __LINE__, "client read: %s", h_code_name(n));
                return 0;
            }
        }
    }
    return 0;
}

/* A client that moves to a new port after 5 echoes; returns how many of
 * the later messages (10 with CIDs, 3 without) came back. */
static int run(const h_pki *pki, int cid) {
    mojo_tls_config *scfg = h_server_config(pki);
    mojo_tls_config *ccfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    REQUIRE_RC(mojo_tls_config_set_transport(scfg, MOJO_TLS_TRANSPORT_DATAGRAM), 0);
    REQUIRE_RC(mojo_tls_config_set_transport(ccfg, MOJO_TLS_TRANSPORT_DATAGRAM), 0);
    if (cid) {
        REQUIRE_RC(mojo_tls_config_set_dtls_connection_id(scfg, 8), 0);
        REQUIRE_RC(mojo_tls_config_set_dtls_connection_id(ccfg, 0), 0);
    }
    server_t s = {0};
    s.l = mojo_tls_dtls_listener_new(scfg, "127.0.0.1", 0);
    REQUIRE_NONNULL(s.l);
    int port = mojo_tls_dtls_listener_port(s.l);
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, serve, &s) == 0);

    int fd = udp_to(port);
    int first_port = local_port(fd);
    mojo_tls_conn *c = mojo_tls_conn_new_fd(ccfg, fd, 1, "localhost");
    REQUIRE_NONNULL(c);
    mojo_tls_conn_set_timeout(c, 5000);
    REQUIRE_RC(mojo_tls_conn_handshake(c), 0);
    mojo_tls_conn_set_timeout(c, 20);
    unsigned char peer_cid[32];
    if (cid) CHECK_EQ(mojo_tls_conn_dtls_connection_id(c, MOJO_TLS_DTLS_CID_PEER, peer_cid, sizeof peer_cid), 8);
    else CHECK_RC(mojo_tls_conn_dtls_connection_id(c, MOJO_TLS_DTLS_CID_PEER, peer_cid, sizeof peer_cid),
                  MOJO_TLS_ERR_NOT_AVAILABLE);
    for (int i = 0; i < 5; i++) CHECK(echo(c, "before the move", 10));
    CHECK_EQ(mojo_tls_dtls_listener_peer_count(s.l), 1);

    /* The NAT rebinds: the same fd number, now a socket on another port. */
    int moved = udp_to(port);
    REQUIRE(local_port(moved) != first_port);
    REQUIRE(dup2(moved, fd) == fd);
    close(moved);

    int back = 0;
    char msg[64];
    /* The control (no CID) only has to show that nothing comes back: a
     * few tries suffice, each costs its full wait (long under valgrind). */
    for (int i = 0; i < (cid ? 10 : 3); i++) {
        snprintf(msg, sizeof msg, "after the move %d", i);
        back += echo(c, msg, cid ? 10 : 2);
    }
    if (cid && back == 10) {
        /* A forged datagram with the CID from a third port: the listener
         * routes it to the connection, it does not authenticate, the
         * connection stays with the client. */
        int spoof = udp_to(port);
        unsigned char d[64] = {25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 99};
        memcpy(d + 11, peer_cid, 8);
        d[19] = 0;
        d[20] = 40;
        memset(d + 21, 0x5a, 40);
        REQUIRE(send(spoof, d, 61, 0) == 61);
        h_sleep_ms(100);
        CHECK(echo(c, "after the forgery", 10));
        unsigned char junk[64];
        CHECK(recv(spoof, junk, sizeof junk, MSG_DONTWAIT) < 0); /* nothing was sent there */
        close(spoof);
        CHECK_EQ(mojo_tls_dtls_listener_peer_count(s.l), 1);
        CHECK_RC(mojo_tls_conn_close_notify(c), 0);
        double t0 = h_now_ms();
        while (!s.closed && h_now_ms() - t0 < 5000.0 * h_slow()) h_sleep_ms(10);
        CHECK(s.closed);
    }
    s.stop = 1;
    pthread_join(th, NULL);
    CHECK_EQ(s.extra_accepts, 0);
    mojo_tls_conn_free(c);
    mojo_tls_dtls_listener_free(s.l);
    mojo_tls_config_free(scfg);
    mojo_tls_config_free(ccfg);
    return back;
}

int main(void) {
    h_start("test_dtls_cid_listener", 120);
    h_pki pki;
    h_pki_make(&pki);
    int with = run(&pki, 1);
    printf("  with CIDs: %d of 10 echoes after the move\n", with);
    CHECK_EQ(with, 10);
    int without = run(&pki, 0);
    printf("  without CIDs (control): %d of 3 echoes after the move\n", without);
    CHECK_EQ(without, 0);
    h_pki_free(&pki);
    return h_finish();
}
