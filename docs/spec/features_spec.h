/* SPEC DRAFT of the TLS-features API (issue "TLS features"), being implemented now.
 * Names/signatures are final; they will appear in include/mojo_tls.h as they land. */

/* ---- mutual TLS (server side) ---- */
#define MOJO_TLS_CLIENT_AUTH_NONE 0      /* default: no client certificate requested */
#define MOJO_TLS_CLIENT_AUTH_OPTIONAL 1  /* requested; verified if sent; absence is fine */
#define MOJO_TLS_CLIENT_AUTH_REQUIRED 2  /* must send a certificate that verifies */
int mojo_tls_config_set_client_auth(mojo_tls_config *cfg, int mode);  /* server; trust = the config's CA store (load_ca_*) */
/* client certificate: mojo_tls_config_add_cert_file/_mem on the client config (existing) */
/* server reads the client's certificate with mojo_tls_conn_peer_cert_* and mojo_tls_conn_verify_flags (existing);
   no client cert -> peer_cert_* return MOJO_TLS_ERR_NOT_AVAILABLE */

/* ---- SNI ---- */
/* server: add several cert/key pairs with add_cert_*; chosen by the client's server name (SAN DNS names incl.
   wildcards, else CN); fallback to the first. */
intptr_t mojo_tls_conn_server_name(const mojo_tls_conn *c, char *buf, size_t cap); /* server: name the client asked for
                                                                                     (0 = none); client: the name it sent */
/* ---- ALPN ---- (existing: mojo_tls_config_set_alpn, mojo_tls_conn_alpn)
   no overlap: the server aborts the handshake (no_application_protocol alert) -> MOJO_TLS_ERR_HANDSHAKE on both */

/* ---- session resumption ---- */
intptr_t mojo_tls_conn_session_export(const mojo_tls_conn *c, uint8_t *buf, size_t cap); /* client, after handshake: opaque blob, full length */
int mojo_tls_conn_session_import(mojo_tls_conn *c, const uint8_t *blob, size_t len);  /* client, before handshake; corrupt -> MOJO_TLS_ERR_PARSE,
                                                                                         connection still usable (full handshake) */
int mojo_tls_conn_session_resumed(const mojo_tls_conn *c);   /* 1 resumed, 0 full handshake, <0 error */
int mojo_tls_config_enable_session_tickets(mojo_tls_config *cfg, int lifetime_s);  /* server; keys rotate every lifetime; <=0 -> 86400 */
int mojo_tls_config_set_session_cache(mojo_tls_config *cfg, int max_entries, int timeout_s); /* server session-id cache */

/* ---- pinning ---- */
#define MOJO_TLS_PIN_CERT 0   /* SHA-256 of the certificate DER */
#define MOJO_TLS_PIN_SPKI 1   /* SHA-256 of the SubjectPublicKeyInfo DER */
int mojo_tls_config_add_pin(mojo_tls_config *cfg, int kind, const uint8_t *sha256, size_t len /* 32 */);
int mojo_tls_config_set_pin_only(mojo_tls_config *cfg, int on); /* trust = pins only (no CA, no hostname), for self-signed servers */
/* no pin matches -> handshake fails with MOJO_TLS_ERR_VERIFY_FAILED ("no pin matched") even if the chain verifies */

/* ---- key log ---- */
int mojo_tls_config_set_keylog_file(mojo_tls_config *cfg, const char *path); /* NSS key-log lines appended; NULL disables.
                                                                                Without it, SSLKEYLOGFILE (env) is honoured. */
/* ---- CRL ---- */
int mojo_tls_config_load_crl_file(mojo_tls_config *cfg, const char *path);  /* PEM or DER */
int mojo_tls_config_load_crl_mem(mojo_tls_config *cfg, const uint8_t *data, size_t len);
/* revoked -> MOJO_TLS_ERR_VERIFY_FAILED, reason mentions "revoked" */

/* ---- certificate generation additions ---- */
intptr_t mojo_tls_gencert_cert_der(const mojo_tls_gencert *g, uint8_t *buf, size_t cap);
/* a CRL signed by CA `ca` revoking the n certificates in `revoked` (PEM, snprintf style) */
intptr_t mojo_tls_gencert_crl_pem(const mojo_tls_gencert *ca, const mojo_tls_gencert *const *revoked, size_t n,
                                  char *buf, size_t cap);
/* ---- peer certificate additions ---- */
intptr_t mojo_tls_conn_peer_cert_spki_sha256(const mojo_tls_conn *c, uint8_t *buf, size_t cap); /* 32 */
