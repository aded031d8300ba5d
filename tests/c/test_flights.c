/* A handshake flight leaves in one write, on sockets the caller made
 * (mojo_tls_conn_new_fd) without TCP_NODELAY. Mbed TLS writes a flight one
 * record at a time; written as they come, the flight's second small record
 * waits for the peer's delayed ACK (Nagle): about 40 ms per flight, 22
 * handshakes/s from a Python client with wrap_socket() where ssl did 870.
 *
 * Counted, not timed: Linux's TCP_INFO gives the data segments each end
 * sent. On loopback (MSS 64 KiB) a flight written at once is one segment;
 * written record by record it is one per Nagle round (3 for the TLS 1.3
 * client: ClientHello, then ChangeCipherSpec, then Finished). */
#include "harness.h"

/* The head of Linux's struct tcp_info (linux/tcp.h, 4.6 and later), up to
 * tcpi_data_segs_out; glibc's <netinet/tcp.h> stops before it and the two
 * headers cannot both be included. */
struct tcp_info_head {
    uint8_t state, ca_state, retransmits, probes, backoff, options, wscale, flags;
    uint32_t rto, ato, snd_mss, rcv_mss;
    uint32_t unacked, sacked, lost, retrans, fackets;
    uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv;
    uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
    uint32_t rcv_rtt, rcv_space, total_retrans;
    uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
    uint32_t segs_out, segs_in, notsent_bytes, min_rtt, data_segs_in, data_segs_out;
};

typedef struct {
    int lfd;
    mojo_tls_config *cfg;
    unsigned data_segs; /* server's data segments during the handshake */
    int ok;
} server_arg;

static unsigned data_segs_out(int fd) {
    struct tcp_info_head ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    REQUIRE(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0);
    REQUIRE(len == sizeof ti); /* a kernel older than 4.6 reports less */
    return ti.data_segs_out;
}

static int nodelay(int fd) {
    int v = -1;
    socklen_t len = sizeof v;
    REQUIRE(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0);
    return v;
}

static void *server_main(void *p) {
    server_arg *a = p;
    int fd = accept(a->lfd, NULL, NULL);
    REQUIRE(fd >= 0);
    CHECK_EQ(nodelay(fd), 0);
    mojo_tls_conn *c = mojo_tls_conn_new_fd(a->cfg, fd, 1, NULL);
    REQUIRE_NONNULL(c);
    CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
    CHECK_RC(mojo_tls_conn_handshake(c), 0);
    a->data_segs = data_segs_out(fd);
    unsigned char b[4];
    CHECK_RC(h_read_exact(c, b, 4), 4);
    CHECK_RC(mojo_tls_conn_write_all(c, b, 4), 4);
    CHECK_RC(mojo_tls_conn_close(c), 0);
    CHECK_RC(mojo_tls_conn_free(c), 0);
    a->ok = 1;
    return NULL;
}

static void one(const h_pki *pki, int version) {
    mojo_tls_config *scfg = h_server_config(pki);
    mojo_tls_config *ccfg = h_client_config(pki->ca_pem, pki->ca_pem_len);
    for (int i = 0; i < 2; i++) {
        mojo_tls_config *cfg = i ? ccfg : scfg;
        CHECK_RC(mojo_tls_config_set_min_version(cfg, version), 0);
        CHECK_RC(mojo_tls_config_set_max_version(cfg, version), 0);
    }

    /* plain sockets, as a caller makes them: no TCP_NODELAY */
    int port;
    int lfd = h_raw_listen(&port, 4);

    server_arg a = {lfd, scfg, 0, 0};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, server_main, &a) == 0);

    int fd = h_tcp_connect(port);
    CHECK_EQ(nodelay(fd), 0);
    mojo_tls_conn *c = mojo_tls_conn_new_fd(ccfg, fd, 0, "localhost");
    REQUIRE_NONNULL(c);
    CHECK_RC(mojo_tls_conn_set_timeout(c, h_io_timeout_ms()), 0);
    CHECK_RC(mojo_tls_conn_handshake(c), 0);
    unsigned client_segs = data_segs_out(fd);
    CHECK_RC(mojo_tls_conn_write_all(c, U8("ping"), 4), 4);
    unsigned char b[4];
    CHECK_RC(h_read_exact(c, b, 4), 4);
    CHECK(memcmp(b, "ping", 4) == 0);
    pthread_join(th, NULL);
    CHECK(a.ok);

    /* Both versions: the client's flights are its ClientHello and its
     * second flight (TLS 1.3: CCS + Finished; 1.2: key exchange, CCS,
     * Finished). The server's: TLS 1.3 ServerHello..Finished, and its
     * tickets if it sends any (after the client's Finished); TLS 1.2
     * ServerHello..ServerHelloDone, then (ticket,) CCS, Finished. Record by
     * record they were 3 and 5 segments here. */
    printf("TLS 1.%d: data segments during the handshake: client %u, server %u\n",
           version == MOJO_TLS_VERSION_TLS1_3 ? 3 : 2, client_segs, a.data_segs);
    CHECK_MSG(client_segs == 2, "client sent its handshake in %u segments, want 2", client_segs);
    CHECK_MSG(a.data_segs >= 1 && a.data_segs <= 2, "server sent its handshake in %u segments, want 1 or 2",
              a.data_segs);

    CHECK_RC(mojo_tls_conn_free(c), 0);
    close(fd);
    close(lfd);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);
}

int main(void) {
    h_start("test_flights", 60);
    h_pki pki;
    h_pki_make(&pki);
    one(&pki, MOJO_TLS_VERSION_TLS1_3);
    one(&pki, MOJO_TLS_VERSION_TLS1_2);
    h_pki_free(&pki);
    return h_finish();
}
