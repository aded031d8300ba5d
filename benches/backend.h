/* benches/backend.h — what each TLS engine provides to benches/driver.c.
 *
 * One driver (bulk, handshakes, idle memory, concurrency, FFI cost) is
 * linked with one backend: be_mojo.c (libmojo_tls's C ABI), be_raw.c (the
 * same Mbed TLS called directly) or be_openssl.c (libssl). Sockets are
 * loopback TCP with TCP_NODELAY everywhere. */
#ifndef BENCH_BACKEND_H
#define BENCH_BACKEND_H
#include <stddef.h>

typedef struct be_conn be_conn;
typedef struct be_session be_session;

/* suite: "aes128gcm" or "chacha20"; tls13: 1 for TLS 1.3 (0 → TLS 1.2).
 * Returns 0, or -1 when this engine cannot run the combination. */
int be_init(const char *cert_pem, const char *key_pem, const char *ca_pem, const char *suite, int tls13);
const char *be_name(void);
/* listen fd → a server connection after its handshake (NULL on failure). */
be_conn *be_accept(int lfd);
/* a client connection to 127.0.0.1:port after its handshake, offering
 * `sess` (may be NULL) for resumption; NULL on failure. */
be_conn *be_connect(int port, be_session *sess);
be_session *be_get_session(be_conn *c); /* client, after the handshake */
void be_session_free(be_session *s);
int be_resumed(be_conn *c);
/* blocking I/O: write everything (0 / -1); read up to n (>0, 0 at close, <0 error) */
int be_write_all(be_conn *c, const void *buf, size_t n);
long be_read(be_conn *c, void *buf, size_t n);
void be_close_notify(be_conn *c);
void be_free(be_conn *c);
/* a cheap call on a live connection, for the FFI cost (returns anything) */
long be_noop(be_conn *c);
const char *be_cipher(be_conn *c);
#endif
