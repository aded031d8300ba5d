/* Out-of-line copies of the Mbed TLS 3.6 / 4.x static inline functions the
 * system backend uses (bindgen cannot link to static inline functions, and
 * its generated wrappers skip renamed items). Compiled by build.rs for the
 * `system` feature only; these symbols are not exported from the library. */
#include <mbedtls/ssl.h>

int mojotls_sys_ssl_is_handshake_over(mbedtls_ssl_context *ssl)
{
    return mbedtls_ssl_is_handshake_over(ssl);
}

int mojotls_sys_ssl_get_version_number(const mbedtls_ssl_context *ssl)
{
    return (int) mbedtls_ssl_get_version_number(ssl);
}

void mojotls_sys_ssl_conf_min_tls_version(mbedtls_ssl_config *conf, int version)
{
    mbedtls_ssl_conf_min_tls_version(conf, (mbedtls_ssl_protocol_version) version);
}

void mojotls_sys_ssl_conf_max_tls_version(mbedtls_ssl_config *conf, int version)
{
    mbedtls_ssl_conf_max_tls_version(conf, (mbedtls_ssl_protocol_version) version);
}

void mojotls_sys_ssl_set_user_data_p(mbedtls_ssl_context *ssl, void *p)
{
    mbedtls_ssl_set_user_data_p(ssl, p);
}

void *mojotls_sys_ssl_get_user_data_p(mbedtls_ssl_context *ssl)
{
    return mbedtls_ssl_get_user_data_p(ssl);
}

void mojotls_sys_ssl_conf_cert_cb(mbedtls_ssl_config *conf, mbedtls_ssl_hs_cb_t f_cert_cb)
{
    mbedtls_ssl_conf_cert_cb(conf, f_cert_cb);
}
