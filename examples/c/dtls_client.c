/* DTLS 1.2 client over libmojo_tls.
 *
 *   dtls_client HOST PORT [--ca FILE] [--insecure] [--cert F --key F]
 *               [--send TEXT] [--count N] [--timeout MS]
 *
 * Connects over UDP (the handshake retransmits lost flights by itself), then
 * sends each line of stdin, or TEXT --count times (default 1), as one
 * datagram and prints the server's answer to each (an echo server sends it
 * back) on stdout, one line each. Reports version and cipher on stderr and
 * ends with close_notify. A datagram is not retransmitted: an answer missing
 * after --timeout ms (default 5000) is reported and makes the exit status 1.
 *
 * Exit status: 0 every datagram answered, 1 an error or a missing answer. */
#define _POSIX_C_SOURCE 200809L
#include "mojo_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void) {
    fprintf(stderr, "usage: dtls_client HOST PORT [--ca FILE] [--insecure] [--cert F --key F] [--send TEXT]\n"
                    "                   [--count N] [--timeout MS]\n");
    exit(2);
}

static void die(const char *what) {
    char msg[512];
    mojo_tls_last_error(msg, sizeof msg);
    fprintf(stderr, "dtls_client: %s: %s\n", what, msg);
    exit(1);
}

/* One datagram out, its answer printed; 0, or 1 when it did not come. */
static int exchange(mojo_tls_conn *c, const char *data, size_t len) {
    static unsigned char in[16384];
    if (mojo_tls_conn_write(c, data, len) != (intptr_t)len) die("write");
    intptr_t n = mojo_tls_conn_read(c, in, sizeof in);
    if (n == MOJO_TLS_ERR_TIMEOUT) {
        fprintf(stderr, "dtls_client: no answer to a datagram of %zu bytes (lost?)\n", len);
        return 1;
    }
    if (n <= 0) die(n == 0 ? "server closed" : "read");
    fwrite(in, 1, (size_t)n, stdout);
    if (in[n - 1] != '\n') putchar('\n');
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    const char *host = NULL, *ca = NULL, *send_text = NULL, *cert = NULL, *key = NULL;
    int port = -1, insecure = 0, timeout_ms = 5000, count = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ca") && i + 1 < argc) ca = argv[++i];
        else if (!strcmp(argv[i], "--insecure")) insecure = 1;
        else if (!strcmp(argv[i], "--cert") && i + 1 < argc) cert = argv[++i];
        else if (!strcmp(argv[i], "--key") && i + 1 < argc) key = argv[++i];
        else if (!strcmp(argv[i], "--send") && i + 1 < argc) send_text = argv[++i];
        else if (!strcmp(argv[i], "--count") && i + 1 < argc) count = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout_ms = atoi(argv[++i]);
        else if (argv[i][0] == '-') usage();
        else if (!host) host = argv[i];
        else if (port < 0) port = atoi(argv[i]);
        else usage();
    }
    if (!host || port <= 0 || port > 65535 || count < 0 || (cert == NULL) != (key == NULL)) usage();

    mojo_tls_config *cfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    if (!cfg) die("config");
    if (mojo_tls_config_set_transport(cfg, MOJO_TLS_TRANSPORT_DATAGRAM) < 0) die("transport");
    /* without --ca the library falls back to the system trust store */
    if (ca && mojo_tls_config_add_ca_file(cfg, ca) < 0) die(ca);
    if (insecure && mojo_tls_config_insecure_verify(cfg, MOJO_TLS_VERIFY_NONE) < 0) die("insecure");
    if (cert && mojo_tls_config_add_cert_file(cfg, cert, key, NULL) < 0) die("certificate");

    /* the handshake (with its retransmissions) within the timeout */
    mojo_tls_conn *c = mojo_tls_conn_new_connect(cfg, host, (uint16_t)port, timeout_ms);
    if (!c) die("connect");
    fprintf(stderr, "dtls_client: connected to %s:%d, %s, %s\n", host, port, mojo_tls_conn_version_name(c),
            mojo_tls_conn_cipher(c));
    if (insecure) fprintf(stderr, "dtls_client: WARNING: certificate not verified (--insecure)\n");
    if (mojo_tls_conn_set_timeout(c, timeout_ms) < 0) die("set_timeout");

    int missing = 0;
    if (send_text) {
        for (int i = 0; i < count; i++) missing += exchange(c, send_text, strlen(send_text));
    } else {
        char line[8192];
        while (fgets(line, sizeof line, stdin)) missing += exchange(c, line, strlen(line));
    }
    if (mojo_tls_conn_close_notify(c) < 0) die("close_notify");
    mojo_tls_conn_free(c);
    mojo_tls_config_free(cfg);
    if (missing) fprintf(stderr, "dtls_client: %d answers missing\n", missing);
    return missing ? 1 : 0;
}
