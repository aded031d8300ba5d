/* Mbed TLS's GCM context and entry points for the bundled engine
 * (MBEDTLS_GCM_ALT with MBEDTLS_GCM_NON_AES_CIPHER_SOFT_FALLBACK, set from
 * .cargo/config.toml). The functions are Rust's (src/backend/gcm.rs): AES
 * records through AWS-LC's AES-GCM (`aead`, an EVP_AEAD_CTX), everything
 * else through Mbed TLS's own GCM (`soft`, a mbedtls_gcm_context_soft,
 * created on first use for AES keys from `key`). Both are heap pointers
 * owned by the context; mbedtls_gcm_free releases them and wipes `key`.
 * Included from mbedtls/gcm.h after mbedtls/cipher.h. */
#ifndef MOJO_TLS_GCM_ALT_H
#define MOJO_TLS_GCM_ALT_H

#include <stddef.h>

typedef struct mbedtls_gcm_context {
    void *aead;
    void *soft;
    unsigned char key[32];
    unsigned int keybits; /* of `key`; 0: no key kept */
} mbedtls_gcm_context;

/* gcm.h declares these only for the soft build; same signatures. */
void mbedtls_gcm_init(mbedtls_gcm_context *ctx);
int mbedtls_gcm_setkey(mbedtls_gcm_context *ctx, mbedtls_cipher_id_t cipher,
                       const unsigned char *key, unsigned int keybits);
int mbedtls_gcm_crypt_and_tag(mbedtls_gcm_context *ctx, int mode, size_t length,
                              const unsigned char *iv, size_t iv_len,
                              const unsigned char *add, size_t add_len,
                              const unsigned char *input, unsigned char *output,
                              size_t tag_len, unsigned char *tag);
int mbedtls_gcm_auth_decrypt(mbedtls_gcm_context *ctx, size_t length,
                             const unsigned char *iv, size_t iv_len,
                             const unsigned char *add, size_t add_len,
                             const unsigned char *tag, size_t tag_len,
                             const unsigned char *input, unsigned char *output);
int mbedtls_gcm_starts(mbedtls_gcm_context *ctx, int mode,
                       const unsigned char *iv, size_t iv_len);
int mbedtls_gcm_update_ad(mbedtls_gcm_context *ctx,
                          const unsigned char *add, size_t add_len);
int mbedtls_gcm_update(mbedtls_gcm_context *ctx,
                       const unsigned char *input, size_t input_length,
                       unsigned char *output, size_t output_size,
                       size_t *output_length);
int mbedtls_gcm_finish(mbedtls_gcm_context *ctx,
                       unsigned char *output, size_t output_size,
                       size_t *output_length,
                       unsigned char *tag, size_t tag_len);
void mbedtls_gcm_free(mbedtls_gcm_context *ctx);

#endif
