/* Minimal TLS client over libmojo_tls.
 *
 *   client HOST PORT [--ca FILE] [--insecure] [--send TEXT] [--timeout MS] [--no-close]
 *
 * Connects, sends stdin (or TEXT plus a newline), prints everything the
 * server sends until it closes, and reports version and cipher on stderr.
 * After the input is sent it sends close_notify (unless --no-close) and keeps
 * reading: an echo server answers with the rest of its data and its own
 * close_notify.
 *
 * It runs the connection non-blocking (timeout 0) and waits with poll(), so
 * one thread can move data both ways without ever deadlocking against a peer
 * that writes while we write.
 *
 * Exit status: 0 clean close, 1 error, 3 peer closed without close_notify. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, poll under strict -std=c11 */
#include "mojo_tls.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(void) {
    fprintf(stderr, "usage: client HOST PORT [--ca FILE] [--insecure] [--send TEXT] [--timeout MS] [--no-close]\n");
    exit(2);
}

static void die(const char *what) {
    char msg[512];
    mojo_tls_last_error(msg, sizeof msg);
    fprintf(stderr, "client: %s: %s\n", what, msg);
    exit(1);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_stdout(const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *host = NULL, *ca = NULL, *send_text = NULL;
    int port = -1, insecure = 0, timeout_ms = 10000, send_close = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ca") && i + 1 < argc) ca = argv[++i];
        else if (!strcmp(argv[i], "--insecure")) insecure = 1;
        else if (!strcmp(argv[i], "--send") && i + 1 < argc) send_text = argv[++i];
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-close")) send_close = 0;
        else if (argv[i][0] == '-') usage();
        else if (!host) host = argv[i];
        else if (port < 0) port = atoi(argv[i]);
        else usage();
    }
    if (!host || port <= 0 || port > 65535) usage();

    mojo_tls_config *cfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    if (!cfg) die("config");
    /* without --ca the library falls back to the system trust store */
    if (ca && mojo_tls_config_add_ca_file(cfg, ca) < 0) die(ca);
    if (insecure && mojo_tls_config_insecure_verify(cfg, MOJO_TLS_VERIFY_NONE) < 0) die("insecure");

    /* blocking connect + handshake, bounded, so errors come back here with a reason */
    mojo_tls_conn *c = mojo_tls_conn_new_connect(cfg, host, (uint16_t)port, timeout_ms);
    if (!c) die("connect");
    fprintf(stderr, "client: connected to %s:%d, %s, %s\n", host, port, mojo_tls_conn_version_name(c),
            mojo_tls_conn_cipher(c));
    if (insecure) fprintf(stderr, "client: WARNING: certificate not verified (--insecure)\n");
    if (mojo_tls_conn_set_timeout(c, 0) < 0) die("set_timeout");
    int fd = mojo_tls_conn_fd(c);
    if (fd < 0) die("get_fd");

    /* out: bytes waiting to be encrypted; a WANT_WRITE retry must pass the
     * same bytes again, so they stay put until fully accepted */
    static unsigned char out[16384], in[16384];
    size_t out_len = 0, out_off = 0;
    int input_done = 0, closing = 0, close_sent = 0, rc = 0;
    if (send_text) {
        size_t n = strlen(send_text);
        if (n > sizeof out - 1) n = sizeof out - 1;
        memcpy(out, send_text, n);
        out[n] = '\n';
        out_len = n + 1;
        input_done = 1;
    }
    long long last_activity = now_ms();
    int want_write = 0;

    for (;;) {
        /* 1. push pending plaintext */
        while (out_off < out_len) {
            intptr_t w = mojo_tls_conn_write(c, out + out_off, out_len - out_off);
            if (w > 0) {
                out_off += (size_t)w;
                last_activity = now_ms();
            } else if (w == MOJO_TLS_ERR_WANT_WRITE || w == MOJO_TLS_ERR_WANT_READ) {
                want_write = (w == MOJO_TLS_ERR_WANT_WRITE);
                break;
            } else {
                die("write");
            }
        }
        if (out_off == out_len) {
            out_off = out_len = 0;
            want_write = 0;
            if (input_done && send_close && !close_sent) closing = 1;
        }
        /* 2. close_notify once everything is out */
        if (closing && !close_sent) {
            int r = mojo_tls_conn_close_notify(c);
            if (r == 0) close_sent = 1;
            else if (r == MOJO_TLS_ERR_WANT_WRITE) want_write = 1;
            else die("close_notify");
        }
        /* 3. drain everything readable (decrypted data may already be buffered) */
        for (;;) {
            intptr_t n = mojo_tls_conn_read(c, in, sizeof in);
            if (n > 0) {
                if (write_stdout(in, (size_t)n) < 0) die("stdout");
                last_activity = now_ms();
                continue;
            }
            if (n == 0) goto done; /* peer's close_notify */
            if (n == MOJO_TLS_ERR_WANT_READ || n == MOJO_TLS_ERR_WANT_WRITE) break;
            if (n == MOJO_TLS_ERR_TRUNCATED) {
                fprintf(stderr, "client: peer closed the connection without close_notify\n");
                rc = 3;
                goto done;
            }
            if (n == MOJO_TLS_ERR_CLOSED && close_sent) goto done; /* reads stop after our close_notify */
            die("read");
        }
        /* 4. wait */
        struct pollfd p[2];
        int np = 0;
        p[np++] = (struct pollfd){fd, (short)(POLLIN | (want_write ? POLLOUT : 0)), 0};
        int stdin_slot = -1;
        if (!input_done && out_len == 0) {
            stdin_slot = np;
            p[np++] = (struct pollfd){0, POLLIN, 0};
        }
        int left = timeout_ms < 0 ? -1 : (int)(last_activity + timeout_ms - now_ms());
        if (timeout_ms >= 0 && left <= 0) {
            fprintf(stderr, "client: no activity for %d ms, giving up\n", timeout_ms);
            rc = 1;
            goto done;
        }
        if (poll(p, (nfds_t)np, left) < 0 && errno != EINTR) {
            perror("poll");
            rc = 1;
            goto done;
        }
        if (stdin_slot >= 0 && (p[stdin_slot].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(0, out, sizeof out);
            if (n > 0) {
                out_len = (size_t)n;
                out_off = 0;
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                input_done = 1;
            }
        }
    }
done:
    mojo_tls_conn_free(c);
    mojo_tls_config_free(cfg);
    return rc;
}
