/* Feature peer for the interop tests (tests/interop/features.py): a small
 * command line around libmojo_tls that exposes every TLS feature as an
 * option and prints what the connection negotiated, one "key: value" line
 * each, so the driver can compare it with what openssl s_client/s_server
 * report.
 *
 *   peer server [opts]            listen on 127.0.0.1 (any port), print
 *                                 "listening on PORT", then serve --accept N
 *                                 connections one after the other (echo)
 *   peer client PORT [opts]       TCP connect to 127.0.0.1:PORT, handshake,
 *                                 send --send TEXT (+ "\n"), read until EOF
 *   peer gen DIR                  write generated certificates, keys and a
 *                                 CRL to DIR (see gen() below)
 *   peer sha256 FILE              SHA-256 of the file's bytes, hex
 *
 * Options (client and server):
 *   --cert F --key F   own certificate/key pair (repeatable on a server: SNI)
 *   --ca F             trusted CAs (client: server chain; server: client certs)
 *   --crl F            CRL file (PEM or DER)
 *   --client-auth none|optional|required            (server)
 *   --alpn LIST  --ciphers LIST  --groups LIST
 *   --tickets SECONDS  --cache MAX                    (server)
 *   --psk-ke           mojo_tls_config_insecure_resumption_without_forward_secrecy
 *   --sess-in F --sess-out F                          (client)
 *   --pin-cert HEX --pin-spki HEX --pin-only          (client)
 *   --keylog F         mojo_tls_config_set_keylog_file
 *   --servername NAME  (client) name verified and sent as SNI
 *   --insecure         (client) VERIFY_NONE
 *   --send TEXT        (client) data to send after the handshake
 *   --no-read          (client) do not wait for data after sending
 *   --accept N         (server) connections to serve (default 1)
 *   --echo             (client) echo what the server sends until it closes
 *                      (instead of collecting it into "recv:")
 *   --close-word W     (client, --echo) after echoing data that contains W,
 *                      send close_notify, then read until the server's
 *   --key-update-word W  after echoing data that contains W, send a TLS 1.3
 *                      KeyUpdate asking the peer to update too (prints
 *                      "key_update: CODE"; echoed data after it is
 *                      protected by the new keys both ways)
 *   --timeout MS       every wait (default 10000)
 *
 * Each connection prints "conn: N" then either "handshake: ok" and its
 * properties, or "handshake: fail", "error_code: NAME", "error: MESSAGE".
 * Exit status: 0 when every handshake and data exchange succeeded, 1 when a
 * handshake failed, 2 for usage/setup errors, 4 for a data error. */
#define _POSIX_C_SOURCE 200809L
#include "mojo_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ITEMS 8

static const char *certs[MAX_ITEMS], *keys[MAX_ITEMS], *cas[MAX_ITEMS], *crls[MAX_ITEMS];
static int ncerts, nkeys, ncas, ncrls;
static const char *opt_client_auth, *opt_alpn, *opt_ciphers, *opt_groups, *opt_sess_in, *opt_sess_out,
    *opt_keylog, *opt_servername, *opt_send, *opt_ku_word, *opt_close_word;
static const char *pin_cert[MAX_ITEMS], *pin_spki[MAX_ITEMS];
static int npin_cert, npin_spki, opt_pin_only, opt_insecure, opt_no_read, opt_echo, opt_psk_ke;
static int opt_tickets = -1, opt_cache = -1, opt_accept = 1, opt_timeout = 10000;

static const char *code_name(int code) {
    switch (code) {
    case MOJO_TLS_OK: return "OK";
    case MOJO_TLS_ERR_WANT_READ: return "WANT_READ";
    case MOJO_TLS_ERR_WANT_WRITE: return "WANT_WRITE";
    case MOJO_TLS_ERR_TIMEOUT: return "TIMEOUT";
    case MOJO_TLS_ERR_CLOSED: return "CLOSED";
    case MOJO_TLS_ERR_TRUNCATED: return "TRUNCATED";
    case MOJO_TLS_ERR_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case MOJO_TLS_ERR_INVALID_HANDLE: return "INVALID_HANDLE";
    case MOJO_TLS_ERR_VERIFY_FAILED: return "VERIFY_FAILED";
    case MOJO_TLS_ERR_HANDSHAKE: return "HANDSHAKE";
    case MOJO_TLS_ERR_IO: return "IO";
    case MOJO_TLS_ERR_UNSUPPORTED: return "UNSUPPORTED";
    case MOJO_TLS_ERR_PARSE: return "PARSE";
    case MOJO_TLS_ERR_BAD_PASSWORD: return "BAD_PASSWORD";
    case MOJO_TLS_ERR_NOT_FOUND: return "NOT_FOUND";
    case MOJO_TLS_ERR_CONNECT: return "CONNECT";
    case MOJO_TLS_ERR_PROTOCOL: return "PROTOCOL";
    case MOJO_TLS_ERR_BAD_STATE: return "BAD_STATE";
    case MOJO_TLS_ERR_NO_MEMORY: return "NO_MEMORY";
    case MOJO_TLS_ERR_NOT_AVAILABLE: return "NOT_AVAILABLE";
    case MOJO_TLS_ERR_INTERNAL: return "INTERNAL";
    default: return "UNKNOWN";
    }
}

static void usage(void) {
    fprintf(stderr, "usage: peer server|client PORT|gen DIR|sha256 FILE [options] (see peer.c)\n");
    exit(2);
}

/* a setup call failed: say which and why, exit 2 */
static void setup_check(long long rc, const char *what) {
    if (rc >= 0) return;
    char msg[1024];
    mojo_tls_last_error(msg, sizeof msg);
    printf("setup_error: %s: %s (%s)\n", what, code_name((int)rc), msg);
    fflush(stdout);
    exit(2);
}

static void print_error(void) {
    char msg[1024];
    int code = mojo_tls_last_error_code();
    mojo_tls_last_error(msg, sizeof msg);
    for (char *p = msg; *p; p++)
        if (*p == '\n') *p = ' ';
    printf("error_code: %s\nerror: %s\n", code_name(code), msg);
}

static void hex(const unsigned char *b, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = '\0';
}

static int unhex(const char *s, unsigned char *out, size_t cap) {
    size_t n = strlen(s);
    if (n % 2 || n / 2 > cap) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (unsigned char)v;
    }
    return (int)(n / 2);
}

/* one-line string property: newlines become '|' */
static void print_str(const char *key, ptrdiff_t (*fn)(const mojo_tls_conn *, char *, size_t),
                      const mojo_tls_conn *c) {
    char buf[2048];
    ptrdiff_t n = fn(c, buf, sizeof buf);
    if (n < 0) {
        printf("%s: <%s>\n", key, code_name((int)n));
        return;
    }
    for (char *p = buf; *p; p++)
        if (*p == '\n') *p = '|';
    printf("%s: %s\n", key, buf);
}

static void report(mojo_tls_conn *c) {
    printf("handshake: ok\n");
    const char *v = mojo_tls_conn_version_name(c), *ci = mojo_tls_conn_cipher(c);
    printf("version: %s\ncipher: %s\n", v ? v : "<null>", ci ? ci : "<null>");
    print_str("alpn", mojo_tls_conn_alpn, c);
    print_str("server_name", mojo_tls_conn_server_name, c);
    printf("resumed: %d\n", mojo_tls_conn_session_resumed(c));
    ptrdiff_t dl = mojo_tls_conn_peer_cert_der(c, NULL, 0);
    if (dl < 0) {
        printf("peer_cert: <%s>\n", code_name((int)dl));
    } else {
        printf("peer_cert_len: %td\n", dl);
        print_str("peer_subject", mojo_tls_conn_peer_cert_subject, c);
        print_str("peer_issuer", mojo_tls_conn_peer_cert_issuer, c);
        print_str("peer_sans", mojo_tls_conn_peer_cert_sans, c);
        unsigned char h[32];
        char hx[65];
        if (mojo_tls_conn_peer_cert_sha256(c, h, sizeof h) == 32) {
            hex(h, 32, hx);
            printf("peer_sha256: %s\n", hx);
        }
        if (mojo_tls_conn_peer_cert_spki_sha256(c, h, sizeof h) == 32) {
            hex(h, 32, hx);
            printf("peer_spki_sha256: %s\n", hx);
        }
    }
    printf("verify_flags: %lld\n", (long long)mojo_tls_conn_verify_flags(c));
    print_str("verify_reason", mojo_tls_conn_verify_reason, c);
    fflush(stdout);
}

static mojo_tls_config *make_config(int role) {
    mojo_tls_config *cfg = mojo_tls_config_new(role);
    if (!cfg) setup_check(-1, "config_new");
    if (ncerts != nkeys) usage();
    for (int i = 0; i < ncerts; i++) setup_check(mojo_tls_config_add_cert_file(cfg, certs[i], keys[i], NULL), "add_cert_file");
    for (int i = 0; i < ncas; i++) setup_check(mojo_tls_config_add_ca_file(cfg, cas[i]), "load_ca_file");
    for (int i = 0; i < ncrls; i++) setup_check(mojo_tls_config_add_crl_file(cfg, crls[i]), "load_crl_file");
    if (opt_client_auth) {
        int m = !strcmp(opt_client_auth, "required")   ? MOJO_TLS_CLIENT_AUTH_REQUIRED
                : !strcmp(opt_client_auth, "optional") ? MOJO_TLS_CLIENT_AUTH_OPTIONAL
                                                       : MOJO_TLS_CLIENT_AUTH_NONE;
        setup_check(mojo_tls_config_set_client_auth(cfg, m), "set_client_auth");
    }
    if (opt_alpn) setup_check(mojo_tls_config_set_alpn(cfg, opt_alpn), "set_alpn");
    if (opt_ciphers) setup_check(mojo_tls_config_set_ciphersuites(cfg, opt_ciphers), "set_ciphersuites");
    if (opt_groups) setup_check(mojo_tls_config_set_groups(cfg, opt_groups), "set_groups");
    if (opt_tickets >= 0) setup_check(mojo_tls_config_set_session_tickets(cfg, opt_tickets), "enable_session_tickets");
    if (opt_cache >= 0) setup_check(mojo_tls_config_set_session_cache(cfg, opt_cache, 300), "set_session_cache");
    if (opt_psk_ke)
        setup_check(mojo_tls_config_insecure_resumption_without_forward_secrecy(cfg, 1),
                    "enable_resumption_without_forward_secrecy");
    for (int i = 0; i < npin_cert + npin_spki; i++) {
        int spki = i >= npin_cert;
        unsigned char pin[64];
        int n = unhex(spki ? pin_spki[i - npin_cert] : pin_cert[i], pin, sizeof pin);
        if (n < 0) usage();
        setup_check(mojo_tls_config_add_pin(cfg, spki ? MOJO_TLS_PIN_SPKI : MOJO_TLS_PIN_CERT, pin, (size_t)n), "add_pin");
    }
    if (opt_pin_only) setup_check(mojo_tls_config_set_pin_only(cfg, 1), "set_pin_only");
    if (opt_keylog) setup_check(mojo_tls_config_set_keylog_file(cfg, opt_keylog), "set_keylog_file");
    if (opt_insecure) setup_check(mojo_tls_config_insecure_verify(cfg, MOJO_TLS_VERIFY_NONE), "insecure_set_verify");
    return cfg;
}

static int contains(const unsigned char *data, size_t n, const char *word) {
    size_t w = word ? strlen(word) : 0;
    if (w == 0 || n < w) return 0;
    for (size_t i = 0; i + w <= n; i++)
        if (memcmp(data + i, word, w) == 0) return 1;
    return 0;
}

/* --key-update-word / --close-word, after echoing `data`. */
static void after_echo(mojo_tls_conn *c, const unsigned char *data, size_t n) {
    if (contains(data, n, opt_ku_word)) {
        printf("key_update: %s\n", code_name(mojo_tls_conn_key_update(c, 1)));
        fflush(stdout);
    }
    if (contains(data, n, opt_close_word)) {
        printf("close_notify: %s\n", code_name(mojo_tls_conn_close_notify(c)));
        fflush(stdout);
    }
}

/* Echo until the peer closes; returns 0, or 4 on a data error. */
static int echo_loop(mojo_tls_conn *c, size_t *total) {
    unsigned char buf[16384];
    for (;;) {
        ptrdiff_t n = mojo_tls_conn_read(c, buf, sizeof buf);
        if (n == 0) return 0;
        if (n < 0) {
            printf("read: %s\n", code_name((int)n));
            printf("read_error: ");
            print_error();
            return 4;
        }
        *total += (size_t)n;
        if (mojo_tls_conn_write_all(c, buf, (size_t)n) != n) {
            printf("write: failed\n");
            return 4;
        }
        after_echo(c, buf, (size_t)n);
    }
}

static int run_server(void) {
    mojo_tls_config *cfg = make_config(MOJO_TLS_ROLE_SERVER);
    int lfd = mojo_tls_socket_listen("127.0.0.1", 0, 16);
    setup_check(lfd, "listen");
    int port = mojo_tls_socket_port(lfd);
    setup_check(port, "listen_port");
    printf("listening on %d\n", port);
    fflush(stdout);
    int rc = 0;
    for (int i = 0; i < opt_accept; i++) {
        mojo_tls_conn *c = mojo_tls_conn_new_accept(cfg, lfd, opt_timeout);
        printf("conn: %d\n", i);
        if (!c) {
            printf("handshake: fail\n");
            print_error();
            printf("end: %d\n", i);
            fflush(stdout);
            rc = 1;
            continue;
        }
        report(c);
        mojo_tls_conn_set_timeout(c, opt_timeout);
        size_t total = 0;
        if (echo_loop(c, &total) != 0 && rc == 0) rc = 4;
        printf("echoed: %zu\nend: %d\n", total, i);
        fflush(stdout);
        mojo_tls_conn_free(c);
    }
    mojo_tls_socket_close(lfd);
    mojo_tls_config_free(cfg);
    return rc;
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static unsigned char buf[65536];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

static int run_client(int port) {
    mojo_tls_config *cfg = make_config(MOJO_TLS_ROLE_CLIENT);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        printf("setup_error: tcp connect: %s\n", strerror(errno));
        return 2;
    }
    mojo_tls_conn *c = mojo_tls_conn_new_fd(cfg, fd, 1, opt_servername);
    if (!c) setup_check(-1, "conn_new_fd");
    mojo_tls_conn_set_timeout(c, opt_timeout);
    if (opt_sess_in) {
        size_t n = 0;
        unsigned char *blob = read_file(opt_sess_in, &n);
        if (!blob) {
            printf("setup_error: cannot read %s\n", opt_sess_in);
            return 2;
        }
        int r = mojo_tls_conn_session_import(c, blob, n);
        printf("session_import: %s\n", code_name(r));
    }
    printf("conn: 0\n");
    if (mojo_tls_conn_handshake(c) != 0) {
        printf("handshake: fail\n");
        print_error();
        fflush(stdout);
        mojo_tls_conn_free(c);
        mojo_tls_config_free(cfg);
        return 1;
    }
    report(c);
    int rc = 0;
    if (opt_send) {
        size_t l = strlen(opt_send);
        char *msg = malloc(l + 2);
        memcpy(msg, opt_send, l);
        msg[l] = '\n';
        if (mojo_tls_conn_write_all(c, msg, l + 1) != (ptrdiff_t)(l + 1)) {
            printf("write: failed\n");
            print_error();
            rc = 4;
        }
        free(msg);
    }
    if (rc == 0 && opt_echo) {
        size_t total = 0;
        rc = echo_loop(c, &total);
        printf("echoed: %zu\n", total);
    } else if (rc == 0 && !opt_no_read) {
        /* everything the server sends until it closes, printed as one line */
        char buf[4096];
        size_t got = 0;
        for (;;) {
            ptrdiff_t n = mojo_tls_conn_read(c, buf + got, sizeof buf - 1 - got);
            if (n == 0) break;
            if (n < 0) {
                printf("read: %s\n", code_name((int)n));
                printf("read_error: ");
                print_error();
                rc = 4;
                break;
            }
            got += (size_t)n;
            if (got >= sizeof buf - 1) break;
        }
        buf[got] = '\0';
        for (char *p = buf; *p; p++)
            if (*p == '\n') *p = '|';
        printf("recv: %s\n", buf);
    }
    /* after the data exchange: a TLS 1.3 server sends its ticket after the
     * handshake, so it is read (and exportable) only by then */
    if (opt_sess_out) {
        ptrdiff_t n = mojo_tls_conn_session_export(c, NULL, 0);
        setup_check(n, "session_export");
        unsigned char *blob = malloc((size_t)n);
        FILE *f = fopen(opt_sess_out, "wb");
        if (!blob || !f || mojo_tls_conn_session_export(c, blob, (size_t)n) != n ||
            fwrite(blob, 1, (size_t)n, f) != (size_t)n || fclose(f) != 0) {
            printf("setup_error: session export to %s\n", opt_sess_out);
            return 2;
        }
        free(blob);
        printf("session_export: %td\n", n);
    }
    mojo_tls_conn_close_notify(c);
    mojo_tls_conn_free(c);
    mojo_tls_config_free(cfg);
    printf("end: 0\n");
    return rc;
}

/* ---- certificate generation --------------------------------------- */

static const char *g_dir;

static void write_text(const char *name, const char *text, size_t len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        printf("setup_error: write %s\n", path);
        exit(2);
    }
}

static void save(const char *base, mojo_tls_gencert *g) {
    if (!g) setup_check(-1, base);
    char name[256];
    for (int key = 0; key < 2; key++) {
        ptrdiff_t n = key ? mojo_tls_gencert_key_pem(g, NULL, 0) : mojo_tls_gencert_cert_pem(g, NULL, 0);
        setup_check(n, "gencert pem");
        char *buf = malloc((size_t)n + 1);
        if (key) mojo_tls_gencert_key_pem(g, buf, (size_t)n + 1);
        else mojo_tls_gencert_cert_pem(g, buf, (size_t)n + 1);
        snprintf(name, sizeof name, "%s.%s", base, key ? "key" : "pem");
        write_text(name, buf, (size_t)n);
        free(buf);
    }
    unsigned char der[8192];
    ptrdiff_t n = mojo_tls_gencert_cert_der(g, der, sizeof der);
    setup_check(n, "gencert der");
    snprintf(name, sizeof name, "%s.der", base);
    write_text(name, (const char *)der, (size_t)n);
}

/* Files (NAME.pem, NAME.key, NAME.der):
 *   ca          CA, P-256                  ca384     CA, P-384
 *   server      by ca, CN localhost, SANs localhost,one.example,127.0.0.1,::1,
 *               server usage, P-256
 *   server384   by ca384, same names, server usage, P-384
 *   client      by ca, CN alice, SAN alice.example, client usage, P-384
 *   both        by ca, CN both, SAN both.example, server+client usage, P-256
 *   selfsigned  no issuer, CN device, SANs device.local,127.0.0.1
 *   revoked     by ca, CN localhost, SANs localhost,127.0.0.1
 *   one, two    by ca: one.example / two.example,*.two.example (SNI)
 *   otherca     another CA; stranger: client cert by otherca
 *   crl.pem     CRL by ca revoking `revoked` */
static int gen(const char *dir) {
    g_dir = dir;
    const int S = MOJO_TLS_USAGE_SERVER, C = MOJO_TLS_USAGE_CLIENT;
    const int P256 = MOJO_TLS_KEY_ECDSA_P256, P384 = MOJO_TLS_KEY_ECDSA_P384;
    const char *names = "localhost,one.example,127.0.0.1,::1";
    mojo_tls_gencert *ca = mojo_tls_gencert_new_ca("mojo gen CA", 30, P256);
    mojo_tls_gencert *ca384 = mojo_tls_gencert_new_ca("mojo gen CA 384", 30, P384);
    mojo_tls_gencert *otherca = mojo_tls_gencert_new_ca("mojo other CA", 30, P256);
    mojo_tls_gencert *server = mojo_tls_gencert_new_leaf(ca, "localhost", names, 0, 10, S, P256);
    mojo_tls_gencert *server384 = mojo_tls_gencert_new_leaf(ca384, "localhost", names, 0, 10, S, P384);
    mojo_tls_gencert *client = mojo_tls_gencert_new_leaf(ca, "alice", "alice.example", 0, 10, C, P384);
    mojo_tls_gencert *both = mojo_tls_gencert_new_leaf(ca, "both", "both.example", 0, 10, S | C, P256);
    mojo_tls_gencert *selfsigned = mojo_tls_gencert_new_leaf(NULL, "device", "device.local,127.0.0.1", 0, 10, S, P256);
    mojo_tls_gencert *revoked = mojo_tls_gencert_new_leaf(ca, "localhost", "localhost,127.0.0.1", 0, 10, S, P256);
    mojo_tls_gencert *one = mojo_tls_gencert_new_leaf(ca, "one.example", "one.example", 0, 10, S, P256);
    mojo_tls_gencert *two = mojo_tls_gencert_new_leaf(ca, "two.example", "two.example,*.two.example", 0, 10, S, P256);
    mojo_tls_gencert *stranger = mojo_tls_gencert_new_leaf(otherca, "mallory", "mallory.example", 0, 10, C, P256);
    save("ca", ca);
    save("ca384", ca384);
    save("otherca", otherca);
    save("server", server);
    save("server384", server384);
    save("client", client);
    save("both", both);
    save("selfsigned", selfsigned);
    save("revoked", revoked);
    save("one", one);
    save("two", two);
    save("stranger", stranger);
    const mojo_tls_gencert *list[1] = {revoked};
    char crl[8192];
    ptrdiff_t n = mojo_tls_gencert_crl_pem(ca, list, 1, crl, sizeof crl);
    setup_check(n, "gencert_crl_pem");
    if ((size_t)n >= sizeof crl) usage();
    write_text("crl.pem", crl, (size_t)n);
    mojo_tls_gencert *all[] = {ca, ca384, otherca, server, server384, client, both, selfsigned, revoked, one, two, stranger};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mojo_tls_gencert_free(all[i]);
    printf("generated in %s\n", dir);
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) usage();
    const char *mode = argv[1];
    int i = 2, port = 0;
    if (!strcmp(mode, "gen")) {
        if (argc != 3) usage();
        return gen(argv[2]);
    }
    if (!strcmp(mode, "sha256")) {
        size_t n = 0;
        unsigned char *data = argc == 3 ? read_file(argv[2], &n) : NULL;
        if (!data) usage();
        unsigned char h[32];
        char hx[65];
        setup_check(mojo_tls_sha256(data, n, h, sizeof h) == 32 ? 0 : -1, "sha256");
        hex(h, 32, hx);
        printf("%s\n", hx);
        return 0;
    }
    if (!strcmp(mode, "client")) {
        if (argc < 3) usage();
        port = atoi(argv[2]);
        i = 3;
    } else if (strcmp(mode, "server") != 0) {
        usage();
    }
    for (; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name, var) else if (!strcmp(o, name) && v) { var = v; i++; }
#define LIST(name, arr, n) else if (!strcmp(o, name) && v && n < MAX_ITEMS) { arr[n++] = v; i++; }
        if (0) {
        }
        LIST("--cert", certs, ncerts)
        LIST("--key", keys, nkeys)
        LIST("--ca", cas, ncas)
        LIST("--crl", crls, ncrls)
        LIST("--pin-cert", pin_cert, npin_cert)
        LIST("--pin-spki", pin_spki, npin_spki)
        ARG("--client-auth", opt_client_auth)
        ARG("--alpn", opt_alpn)
        ARG("--ciphers", opt_ciphers)
        ARG("--groups", opt_groups)
        ARG("--sess-in", opt_sess_in)
        ARG("--sess-out", opt_sess_out)
        ARG("--keylog", opt_keylog)
        ARG("--servername", opt_servername)
        ARG("--send", opt_send)
        ARG("--key-update-word", opt_ku_word)
        ARG("--close-word", opt_close_word)
        else if (!strcmp(o, "--tickets") && v) { opt_tickets = atoi(v); i++; }
        else if (!strcmp(o, "--cache") && v) { opt_cache = atoi(v); i++; }
        else if (!strcmp(o, "--accept") && v) { opt_accept = atoi(v); i++; }
        else if (!strcmp(o, "--timeout") && v) { opt_timeout = atoi(v); i++; }
        else if (!strcmp(o, "--pin-only")) opt_pin_only = 1;
        else if (!strcmp(o, "--insecure")) opt_insecure = 1;
        else if (!strcmp(o, "--no-read")) opt_no_read = 1;
        else if (!strcmp(o, "--echo")) opt_echo = 1;
        else if (!strcmp(o, "--psk-ke")) opt_psk_ke = 1;
        else usage();
#undef ARG
#undef LIST
    }
    if (!strcmp(mode, "server")) return run_server();
    if (port <= 0 || port > 65535) usage();
    return run_client(port);
}
