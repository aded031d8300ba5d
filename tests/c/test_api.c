/* The installed header matches the planned API (tests/abi/abi-1.txt):
 * every function has the spec's exact C type, every constant exists with the
 * spec's value. Mostly compile-time: under -Werror a drifted signature is a
 * build failure of this one test, naming the function and both types, while
 * the behavioural tests still build (they pass byte buffers as uint8_t).
 *
 * Deliberately does not include harness.h: its fallback constants would hide
 * exactly what this file checks. */
#include "mojo_tls.h"

#include <stdio.h>
#include <string.h>

#if !defined(MOJO_TLS_KEY_ECDSA_P256) || !defined(MOJO_TLS_KEY_ECDSA_P384)
#error "mojo_tls.h lacks MOJO_TLS_KEY_ECDSA_P256 / MOJO_TLS_KEY_ECDSA_P384 (spec: certificate key algorithms)"
#endif
#if !defined(MOJO_TLS_USAGE_SERVER) || !defined(MOJO_TLS_USAGE_CLIENT)
#error "mojo_tls.h lacks MOJO_TLS_USAGE_SERVER / MOJO_TLS_USAGE_CLIENT (spec: certificate usages)"
#endif

_Static_assert(MOJO_TLS_ABI_VERSION == 1, "ABI version");
_Static_assert(MOJO_TLS_ROLE_CLIENT == 0 && MOJO_TLS_ROLE_SERVER == 1, "roles");
_Static_assert(MOJO_TLS_VERSION_TLS1_2 == 0x0303 && MOJO_TLS_VERSION_TLS1_3 == 0x0304, "versions");
_Static_assert(MOJO_TLS_VERIFY_NONE == 0 && MOJO_TLS_VERIFY_OPTIONAL == 1 && MOJO_TLS_VERIFY_REQUIRED == 2,
               "verify modes");
_Static_assert(MOJO_TLS_KEY_ECDSA_P256 == 0 && MOJO_TLS_KEY_ECDSA_P384 == 1, "key algorithms");
_Static_assert(MOJO_TLS_TRANSPORT_STREAM == 0 && MOJO_TLS_TRANSPORT_DATAGRAM == 1, "transports");
_Static_assert(MOJO_TLS_USAGE_SERVER == 1 && MOJO_TLS_USAGE_CLIENT == 2, "usages");
_Static_assert(MOJO_TLS_HASH_SHA256 == 0 && MOJO_TLS_HASH_SHA384 == 1 && MOJO_TLS_HASH_SHA512 == 2, "hashes");

/* error codes: stable values, one enum */
_Static_assert(MOJO_TLS_OK == 0, "");
_Static_assert(MOJO_TLS_ERR_WANT_READ == -1, "");
_Static_assert(MOJO_TLS_ERR_WANT_WRITE == -2, "");
_Static_assert(MOJO_TLS_ERR_TIMEOUT == -3, "");
_Static_assert(MOJO_TLS_ERR_CLOSED == -4, "");
_Static_assert(MOJO_TLS_ERR_TRUNCATED == -5, "");
_Static_assert(MOJO_TLS_ERR_INVALID_ARGUMENT == -6, "");
_Static_assert(MOJO_TLS_ERR_INVALID_HANDLE == -7, "");
_Static_assert(MOJO_TLS_ERR_VERIFY_FAILED == -8, "");
_Static_assert(MOJO_TLS_ERR_HANDSHAKE == -9, "");
_Static_assert(MOJO_TLS_ERR_IO == -10, "");
_Static_assert(MOJO_TLS_ERR_UNSUPPORTED == -11, "");
_Static_assert(MOJO_TLS_ERR_PARSE == -12, "");
_Static_assert(MOJO_TLS_ERR_BAD_PASSWORD == -13, "");
_Static_assert(MOJO_TLS_ERR_NOT_FOUND == -14, "");
_Static_assert(MOJO_TLS_ERR_CONNECT == -15, "");
_Static_assert(MOJO_TLS_ERR_PROTOCOL == -16, "");
_Static_assert(MOJO_TLS_ERR_BAD_STATE == -17, "");
_Static_assert(MOJO_TLS_ERR_NO_MEMORY == -18, "");
_Static_assert(MOJO_TLS_ERR_NOT_AVAILABLE == -19, "");
_Static_assert(MOJO_TLS_ERR_INTERNAL == -20, "");
_Static_assert(MOJO_TLS_ERR_INTERRUPTED == -21, "");

/* the typedef names of the spec */
static mojo_tls_err g_err_type_exists;
static mojo_tls_config *g_cfg_type_exists;
static mojo_tls_conn *g_conn_type_exists;
static mojo_tls_gencert *g_gen_type_exists;
static mojo_tls_dtls_listener *g_dtls_listener_type_exists;

/* Each line: a pointer of the spec's function type initialised with the
 * library function (generated from include/mojo_tls.h; the ABI snapshot tests/abi/abi-1.txt pins it). */
static void signatures(void) {
    { int32_t (*p)(void) = mojo_tls_init; (void)p; }
    { const char * (*p)(void) = mojo_tls_version; (void)p; }
    { const char * (*p)(void) = mojo_tls_backend; (void)p; }
    { int32_t (*p)(void) = mojo_tls_abi_version; (void)p; }
    { int32_t (*p)(void) = mojo_tls_last_error_code; (void)p; }
    { intptr_t (*p)(char *, size_t) = mojo_tls_last_error; (void)p; }
    { int32_t (*p)(void) = mojo_tls_last_error_verify_flags; (void)p; }
    { intptr_t (*p)(char *, size_t) = mojo_tls_last_error_verify_reason; (void)p; }
    { void (*p)(void) = mojo_tls_clear_error; (void)p; }
    { const char * (*p)(int32_t) = mojo_tls_strerror; (void)p; }
    { mojo_tls_config * (*p)(int32_t) = mojo_tls_config_new; (void)p; }
    { int32_t (*p)(mojo_tls_config *) = mojo_tls_config_free; (void)p; }
    { int32_t (*p)(mojo_tls_config *, int32_t) = mojo_tls_config_set_min_version; (void)p; }
    { int32_t (*p)(mojo_tls_config *, int32_t) = mojo_tls_config_set_max_version; (void)p; }
    { int32_t (*p)(mojo_tls_config *) = mojo_tls_config_add_ca_system; (void)p; }
    { int32_t (*p)(mojo_tls_config *, const char *) = mojo_tls_config_add_ca_file; (void)p; }
    { int32_t (*p)(mojo_tls_config *, const char *) = mojo_tls_config_add_ca_dir; (void)p; }
    { int32_t (*p)(mojo_tls_config *, const uint8_t *, size_t) = mojo_tls_config_add_ca_mem; (void)p; }
    { int32_t (*p)(mojo_tls_config *, const char *, const char *, const char *) = mojo_tls_config_add_cert_file; (void)p; }
    { int32_t (*p)(mojo_tls_config *, const uint8_t *, size_t, const uint8_t *, size_t, const char *) = mojo_tls_config_add_cert_mem; (void)p; }
    { int32_t (*p)(mojo_tls_config *, mojo_tls_server_name_cb, void *) = mojo_tls_config_set_server_name_callback; (void)p; }
    { int32_t (*p)(mojo_tls_config *, const char *) = mojo_tls_config_set_alpn; (void)p; }
    { int32_t (*p)(mojo_tls_config *, const char *) = mojo_tls_config_set_ciphersuites; (void)p; }
    { int32_t (*p)(mojo_tls_config *, const char *) = mojo_tls_config_set_groups; (void)p; }
    { int32_t (*p)(mojo_tls_config *, int32_t) = mojo_tls_config_insecure_verify; (void)p; }
    { int32_t (*p)(mojo_tls_config *, int32_t) = mojo_tls_config_insecure_skip_hostname_check; (void)p; }
    { int32_t (*p)(mojo_tls_config *, int32_t) = mojo_tls_config_set_client_auth; (void)p; }
    { int32_t (*p)(mojo_tls_config *, const char *) = mojo_tls_config_add_crl_file; (void)p; }
    { int32_t (*p)(mojo_tls_config *, const uint8_t *, size_t) = mojo_tls_config_add_crl_mem; (void)p; }
    { int32_t (*p)(mojo_tls_config *, int32_t, const uint8_t *, size_t) = mojo_tls_config_add_pin; (void)p; }
    { int32_t (*p)(mojo_tls_config *, int32_t) = mojo_tls_config_set_pin_only; (void)p; }
    { int32_t (*p)(mojo_tls_config *, const char *) = mojo_tls_config_set_keylog_file; (void)p; }
    { int32_t (*p)(mojo_tls_config *, int32_t) = mojo_tls_config_set_session_tickets; (void)p; }
    { int32_t (*p)(mojo_tls_config *, int32_t) = mojo_tls_config_insecure_resumption_without_forward_secrecy; (void)p; }
    { int32_t (*p)(mojo_tls_config *, const uint8_t *, size_t) = mojo_tls_config_set_ticket_keys; (void)p; }
    { int32_t (*p)(mojo_tls_config *, int32_t, int32_t) = mojo_tls_config_set_session_cache; (void)p; }
    { int32_t (*p)(mojo_tls_config *, int32_t) = mojo_tls_config_set_record_layer; (void)p; }
    { mojo_tls_conn * (*p)(const mojo_tls_config *, const char *, uint16_t, int32_t) = mojo_tls_conn_new_connect; (void)p; }
    { mojo_tls_conn * (*p)(const mojo_tls_config *, int32_t, int32_t) = mojo_tls_conn_new_accept; (void)p; }
    { mojo_tls_conn * (*p)(const mojo_tls_config *, int32_t, int32_t) = mojo_tls_conn_new_accept_no_handshake; (void)p; }
    { mojo_tls_conn * (*p)(const mojo_tls_config *, int32_t, int32_t, const char *) = mojo_tls_conn_new_fd; (void)p; }
    { mojo_tls_conn * (*p)(const mojo_tls_config *, const char *) = mojo_tls_conn_new_memory; (void)p; }
    { int32_t (*p)(mojo_tls_conn *) = mojo_tls_conn_handshake; (void)p; }
    { intptr_t (*p)(mojo_tls_conn *, void *, size_t) = mojo_tls_conn_read; (void)p; }
    { intptr_t (*p)(mojo_tls_conn *, const void *, size_t) = mojo_tls_conn_write; (void)p; }
    { intptr_t (*p)(mojo_tls_conn *, const void *, size_t) = mojo_tls_conn_write_all; (void)p; }
    { intptr_t (*p)(mojo_tls_conn *) = mojo_tls_conn_pending; (void)p; }
    { int32_t (*p)(mojo_tls_conn *, int32_t) = mojo_tls_conn_set_timeout; (void)p; }
    { int32_t (*p)(const mojo_tls_conn *) = mojo_tls_conn_fd; (void)p; }
    { intptr_t (*p)(mojo_tls_conn *, const void *, size_t) = mojo_tls_conn_feed; (void)p; }
    { int32_t (*p)(mojo_tls_conn *) = mojo_tls_conn_feed_eof; (void)p; }
    { intptr_t (*p)(mojo_tls_conn *, void *, size_t) = mojo_tls_conn_drain; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *) = mojo_tls_conn_pending_output; (void)p; }
    /* DTLS */
    { int32_t (*p)(mojo_tls_config *, int32_t) = mojo_tls_config_set_transport; (void)p; }
    { int32_t (*p)(mojo_tls_config *, int32_t, int32_t) = mojo_tls_config_set_dtls_handshake_timeout; (void)p; }
    { intptr_t (*p)(mojo_tls_conn *, const void *, size_t) = mojo_tls_conn_feed_datagram; (void)p; }
    { intptr_t (*p)(mojo_tls_conn *, void *, size_t) = mojo_tls_conn_drain_datagram; (void)p; }
    { int32_t (*p)(const mojo_tls_conn *) = mojo_tls_conn_next_timeout_ms; (void)p; }
    { int32_t (*p)(mojo_tls_conn *, const void *, size_t) = mojo_tls_conn_set_peer_id; (void)p; }
    { int32_t (*p)(mojo_tls_conn *, int32_t) = mojo_tls_conn_set_mtu; (void)p; }
    { mojo_tls_dtls_listener * (*p)(const mojo_tls_config *, const char *, uint16_t) = mojo_tls_dtls_listener_new; (void)p; }
    { int32_t (*p)(mojo_tls_dtls_listener *) = mojo_tls_dtls_listener_free; (void)p; }
    { int32_t (*p)(const mojo_tls_dtls_listener *) = mojo_tls_dtls_listener_port; (void)p; }
    { int32_t (*p)(const mojo_tls_dtls_listener *) = mojo_tls_dtls_listener_fd; (void)p; }
    { intptr_t (*p)(const mojo_tls_dtls_listener *) = mojo_tls_dtls_listener_peer_count; (void)p; }
    { mojo_tls_conn * (*p)(mojo_tls_dtls_listener *, int32_t) = mojo_tls_conn_new_dtls_accept; (void)p; }
    { mojo_tls_conn * (*p)(mojo_tls_dtls_listener *, int32_t) = mojo_tls_conn_new_dtls_accept_no_handshake; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, uint8_t *, size_t) = mojo_tls_conn_session_export; (void)p; }
    { int32_t (*p)(mojo_tls_conn *, const uint8_t *, size_t) = mojo_tls_conn_session_import; (void)p; }
    { int32_t (*p)(mojo_tls_conn *, int32_t) = mojo_tls_conn_key_update; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, const char *, size_t, const uint8_t *, size_t, uint8_t *, size_t) = mojo_tls_conn_export_keying_material; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, uint8_t *, size_t) = mojo_tls_conn_tls_unique; (void)p; }
    { int32_t (*p)(mojo_tls_conn *, const mojo_tls_config *) = mojo_tls_conn_use_config; (void)p; }
    { int32_t (*p)(mojo_tls_conn *) = mojo_tls_conn_close_notify; (void)p; }
    { int32_t (*p)(mojo_tls_conn *) = mojo_tls_conn_close; (void)p; }
    { int32_t (*p)(mojo_tls_conn *) = mojo_tls_conn_free; (void)p; }
    { int32_t (*p)(mojo_tls_conn *) = mojo_tls_conn_abandon; (void)p; }
    { int32_t (*p)(const mojo_tls_conn *) = mojo_tls_conn_version; (void)p; }
    { const char * (*p)(const mojo_tls_conn *) = mojo_tls_conn_version_name; (void)p; }
    { const char * (*p)(const mojo_tls_conn *) = mojo_tls_conn_cipher; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, char *, size_t) = mojo_tls_conn_alpn; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, char *, size_t) = mojo_tls_conn_server_name; (void)p; }
    { int32_t (*p)(const mojo_tls_conn *) = mojo_tls_conn_session_resumed; (void)p; }
    { const char * (*p)(const mojo_tls_conn *) = mojo_tls_conn_record_layer; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, char *, size_t) = mojo_tls_conn_record_layer_detail; (void)p; }
    { int32_t (*p)(const mojo_tls_conn *) = mojo_tls_conn_verify_flags; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, char *, size_t) = mojo_tls_conn_verify_reason; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, uint8_t *, size_t) = mojo_tls_conn_peer_cert_der; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, char *, size_t) = mojo_tls_conn_peer_cert_pem; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, uint8_t *, size_t) = mojo_tls_conn_peer_cert_sha256; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, uint8_t *, size_t) = mojo_tls_conn_peer_cert_spki_sha256; (void)p; }
    { int32_t (*p)(const mojo_tls_conn *, int64_t *, int64_t *) = mojo_tls_conn_peer_cert_validity; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, char *, size_t) = mojo_tls_conn_peer_cert_subject; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, char *, size_t) = mojo_tls_conn_peer_cert_issuer; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, int32_t) = mojo_tls_conn_peer_cert_dn_count; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, int32_t, size_t, int32_t *, char *, size_t) = mojo_tls_conn_peer_cert_dn_attr; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, int32_t, size_t, char *, size_t) = mojo_tls_conn_peer_cert_dn_value; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, char *, size_t) = mojo_tls_conn_peer_cert_sans; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *) = mojo_tls_conn_peer_cert_san_count; (void)p; }
    { intptr_t (*p)(const mojo_tls_conn *, size_t, int32_t *, char *, size_t) = mojo_tls_conn_peer_cert_san; (void)p; }
    { intptr_t (*p)(uint8_t *, size_t) = mojo_tls_random; (void)p; }
    { intptr_t (*p)(const uint8_t *, size_t, uint8_t *, size_t) = mojo_tls_sha256; (void)p; }
    { intptr_t (*p)(int32_t, const uint8_t *, size_t, uint8_t *, size_t) = mojo_tls_digest; (void)p; }
    { intptr_t (*p)(int32_t, const uint8_t *, size_t, const uint8_t *, size_t, uint8_t *, size_t) = mojo_tls_hmac; (void)p; }
    { intptr_t (*p)(int32_t, const uint8_t *, size_t, const uint8_t *, size_t, uint8_t *, size_t) = mojo_tls_hkdf_extract; (void)p; }
    { intptr_t (*p)(int32_t, const uint8_t *, size_t, const uint8_t *, size_t, uint8_t *, size_t) = mojo_tls_hkdf_expand; (void)p; }
    { intptr_t (*p)(int32_t, const uint8_t *, size_t, const uint8_t *, size_t, const uint8_t *, size_t, uint8_t *, size_t) = mojo_tls_hkdf; (void)p; }
    { mojo_tls_gencert * (*p)(const char *, int32_t, int32_t) = mojo_tls_gencert_new_ca; (void)p; }
    { mojo_tls_gencert * (*p)(const mojo_tls_gencert *, const char *, const char *, int32_t, int32_t, int32_t, int32_t) = mojo_tls_gencert_new_leaf; (void)p; }
    { intptr_t (*p)(const mojo_tls_gencert *, char *, size_t) = mojo_tls_gencert_cert_pem; (void)p; }
    { intptr_t (*p)(const mojo_tls_gencert *, char *, size_t) = mojo_tls_gencert_key_pem; (void)p; }
    { int32_t (*p)(mojo_tls_gencert *) = mojo_tls_gencert_free; (void)p; }
    { intptr_t (*p)(const mojo_tls_gencert *, uint8_t *, size_t) = mojo_tls_gencert_cert_der; (void)p; }
    { intptr_t (*p)(const mojo_tls_gencert *, const mojo_tls_gencert *const *, size_t, char *, size_t) = mojo_tls_gencert_crl_pem; (void)p; }
    { int32_t (*p)(const char *, uint16_t, int32_t) = mojo_tls_socket_listen; (void)p; }
    { int32_t (*p)(int32_t) = mojo_tls_socket_port; (void)p; }
    { int32_t (*p)(int32_t) = mojo_tls_socket_close; (void)p; }
}

int main(void) {
    signatures();
    (void)g_err_type_exists;
    (void)g_cfg_type_exists;
    (void)g_conn_type_exists;
    (void)g_gen_type_exists;
    (void)g_dtls_listener_type_exists;
    /* the header and the loaded library agree */
    int abi = mojo_tls_abi_version();
    if (abi != MOJO_TLS_ABI_VERSION) {
        fprintf(stderr, "FAIL: header ABI %d, library ABI %d\n", MOJO_TLS_ABI_VERSION, abi);
        return 1;
    }
    printf("test_api: header matches the spec (65 functions, all constants); library %s, ABI %d\n",
           mojo_tls_version(), abi);
    return 0;
}
