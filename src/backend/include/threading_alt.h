/* Mbed TLS's mutex type for the bundled engine (MBEDTLS_THREADING_ALT, set
 * from .cargo/config.toml). The functions behind it are Rust's
 * (src/backend/platform.rs): `lock` points at a heap pthread mutex created by
 * mutex_init, so moving the struct never moves the mutex. */
#ifndef MOJO_TLS_THREADING_ALT_H
#define MOJO_TLS_THREADING_ALT_H

typedef struct mbedtls_threading_mutex_t {
    void *lock;
} mbedtls_threading_mutex_t;

#endif
