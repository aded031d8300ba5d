/* TLS echo server over libmojo_tls.
 *
 *   server [--host H] [--port P] [--cert F --key F [--password PW]]
 *          [--write-cert F] [--timeout MS] [--once]
 *
 * Without --cert/--key it generates a self-signed certificate for
 * "localhost" and 127.0.0.1 (--write-cert saves it so clients can trust it).
 * Prints "listening on PORT" on stdout once it accepts connections, then
 * echoes every connection on its own thread; --once serves one connection
 * and exits. Defaults: host 127.0.0.1, port 0 (any free port). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, poll under strict -std=c11 */
#include "mojo_tls.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_timeout_ms = 60000;

static void usage(void) {
    fprintf(stderr,
            "usage: server [--host H] [--port P] [--cert F --key F [--password PW]] [--write-cert F]\n"
            "              [--timeout MS] [--once]\n");
    exit(2);
}

static void die(const char *what) {
    char msg[512];
    mojo_tls_last_error(msg, sizeof msg);
    fprintf(stderr, "server: %s: %s\n", what, msg);
    exit(1);
}

/* Echo until the peer closes; returns 0 on a clean close_notify. */
static int echo(mojo_tls_conn *c) {
    unsigned char buf[16384];
    unsigned long long total = 0;
    int rc = 0;
    fprintf(stderr, "server: accepted %s %s\n", mojo_tls_conn_version_name(c), mojo_tls_conn_cipher(c));
    for (;;) {
        intptr_t n = mojo_tls_conn_read(c, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
            char msg[256];
            mojo_tls_last_error(msg, sizeof msg);
            fprintf(stderr, "server: read: %s\n", msg);
            rc = 1;
            break;
        }
        if (mojo_tls_conn_write_all(c, buf, (size_t)n) != n) {
            char msg[256];
            mojo_tls_last_error(msg, sizeof msg);
            fprintf(stderr, "server: write: %s\n", msg);
            rc = 1;
            break;
        }
        total += (unsigned long long)n;
    }
    fprintf(stderr, "server: connection done, %llu bytes echoed%s\n", total, rc ? " (error)" : "");
    mojo_tls_conn_free(c); /* sends our close_notify, closes the socket */
    return rc;
}

static void *echo_thread(void *p) {
    echo(p);
    return NULL;
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1", *cert = NULL, *key = NULL, *password = NULL, *write_cert = NULL;
    int port = 0, once = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host") && i + 1 < argc) host = argv[++i];
        else if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cert") && i + 1 < argc) cert = argv[++i];
        else if (!strcmp(argv[i], "--key") && i + 1 < argc) key = argv[++i];
        else if (!strcmp(argv[i], "--password") && i + 1 < argc) password = argv[++i];
        else if (!strcmp(argv[i], "--write-cert") && i + 1 < argc) write_cert = argv[++i];
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) g_timeout_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--once")) once = 1;
        else usage();
    }
    if ((cert == NULL) != (key == NULL) || port < 0 || port > 65535) usage();
    fprintf(stderr, "server: mojo-tls %s, %s\n", mojo_tls_version(), mojo_tls_backend());
    /* a client vanishing mid-write must cost one connection, not the process */
    signal(SIGPIPE, SIG_IGN);

    mojo_tls_config *cfg = mojo_tls_config_new(MOJO_TLS_ROLE_SERVER);
    if (!cfg) die("config");
    if (cert) {
        if (mojo_tls_config_add_cert_file(cfg, cert, key, password) < 0) die("certificate");
    } else {
        mojo_tls_gencert *g = mojo_tls_gencert_new_leaf(NULL, "localhost", "localhost,127.0.0.1", 0, 30,
                                                    MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256);
        if (!g) die("generate certificate");
        intptr_t cl = mojo_tls_gencert_cert_pem(g, NULL, 0), kl = mojo_tls_gencert_key_pem(g, NULL, 0);
        if (cl <= 0 || kl <= 0) die("certificate PEM");
        char *cp = malloc((size_t)cl + 1), *kp = malloc((size_t)kl + 1);
        if (!cp || !kp) return 1;
        mojo_tls_gencert_cert_pem(g, cp, (size_t)cl + 1);
        mojo_tls_gencert_key_pem(g, kp, (size_t)kl + 1);
        if (mojo_tls_config_add_cert_mem(cfg, (const uint8_t *)cp, (size_t)cl, (const uint8_t *)kp, (size_t)kl,
                                         NULL) < 0)
            die("certificate");
        if (write_cert) {
            FILE *f = fopen(write_cert, "w");
            if (!f || fputs(cp, f) < 0 || fclose(f) != 0) {
                perror(write_cert);
                return 1;
            }
        }
        fprintf(stderr, "server: using a generated self-signed certificate for localhost\n");
        free(cp);
        free(kp);
        mojo_tls_gencert_free(g);
    }

    int lfd = mojo_tls_socket_listen(host, (uint16_t)port, 64);
    if (lfd < 0) die("listen");
    int bound = mojo_tls_socket_port(lfd);
    if (bound < 0) die("listen_port");
    /* scripts wait for this line to learn the port: flush it now */
    printf("listening on %d\n", bound);
    fflush(stdout);

    int rc = 0;
    for (;;) {
        /* accept includes the handshake; a failed handshake only costs that client */
        mojo_tls_conn *c = mojo_tls_conn_new_accept(cfg, lfd, -1);
        if (!c) {
            char msg[512];
            mojo_tls_last_error(msg, sizeof msg);
            fprintf(stderr, "server: accept: %s\n", msg);
            int code = mojo_tls_last_error_code();
            /* these mean the listening socket itself is unusable: stop instead of spinning */
            if (once || code == MOJO_TLS_ERR_INVALID_ARGUMENT || code == MOJO_TLS_ERR_INVALID_HANDLE ||
                code == MOJO_TLS_ERR_BAD_STATE) {
                rc = 1;
                break;
            }
            continue;
        }
        /* idle clients must not hold a thread forever */
        mojo_tls_conn_set_timeout(c, g_timeout_ms);
        if (once) {
            rc = echo(c);
            break;
        }
        pthread_t th;
        if (pthread_create(&th, NULL, echo_thread, c) != 0) {
            fprintf(stderr, "server: cannot start a thread\n");
            mojo_tls_conn_free(c);
            continue;
        }
        pthread_detach(th);
    }
    mojo_tls_socket_close(lfd);
    mojo_tls_config_free(cfg);
    return rc;
}
