/* benches/dtls_echo.h — the engine interface of the DTLS datagram
 * throughput driver (benches/dtls_echo.c): one DTLS 1.2 server echoing
 * every datagram, one client, in one process on loopback UDP.
 * Engines: dtls_be_mojo.c (our listener and client), dtls_be_openssl.c
 * (OpenSSL's libssl on both ends). Same settings: ECDHE-ECDSA AES-128-GCM,
 * x25519, a P-256 certificate, the client verifying the chain. */
#ifndef BENCH_DTLS_ECHO_H
#define BENCH_DTLS_ECHO_H
#include <stddef.h>

typedef struct dbe_conn dbe_conn;

const char *dbe_name(void);
/* PEM texts. */
void dbe_init(const char *cert, const char *key, const char *ca);
/* Start the echo server in a thread; returns its UDP port. */
int dbe_server_start(void);
/* Stop it (it notices within about 100 ms) and join its thread. */
void dbe_server_stop(void);
/* A client connected to 127.0.0.1:port, handshake done (exits on failure). */
dbe_conn *dbe_connect(int port);
/* One datagram: its length, or < 0. */
int dbe_write(dbe_conn *c, const void *buf, size_t len);
/* One datagram's plaintext: its length; 0 when none came within timeout_ms; < 0 on error. */
int dbe_read(dbe_conn *c, void *buf, size_t cap, int timeout_ms);
void dbe_close(dbe_conn *c);
#endif
