/* Session resumption and key logging (docs/features/resumption.md,
 * keylog.md): client session export/import against a server with tickets,
 * with a session-id cache, with neither; corrupted and foreign blobs
 * (MOJO_TLS_ERR_PARSE, then a full handshake); a server that no longer
 * knows the session; cache size and timeout; session_resumed on both sides.
 * Key log: the client's and the server's files hold the same CLIENT_RANDOM
 * line, one per connection; NULL turns it off; SSLKEYLOGFILE. */
#include "features.h"

static f_cert ca, leaf;

/* one connection; returns resumed flags and optionally exports the session */
typedef struct {
    int ok, client_resumed, server_resumed, import_rc;
    uint8_t *blob;
    size_t blob_len;
} r_out;

static r_out conn_once(mojo_tls_config *scfg, mojo_tls_config *ccfg, const uint8_t *blob, size_t blob_len,
                       int want_export) {
    r_out o;
    memset(&o, 0, sizeof o);
    f_srv s;
    f_cli cli;
    mojo_tls_conn *c = f_run(&s, scfg, ccfg, "localhost", blob, blob_len, &cli);
    o.import_rc = cli.import_rc;
    F_EXPECT_OK("resumption connection", c, s, cli);
    if (c) {
        o.client_resumed = mojo_tls_conn_session_resumed(c);
        /* TLS 1.2 keeps the peer certificate in the resumed session; a
         * TLS 1.3 resumption sends none and Mbed TLS keeps none
         * (docs/features/resumption.md): NOT_AVAILABLE. */
        char sub[128];
        if (mojo_tls_conn_version(c) == MOJO_TLS_VERSION_TLS1_3 && o.client_resumed == 1) {
            CHECK_RC(mojo_tls_conn_peer_cert_subject(c, sub, sizeof sub), MOJO_TLS_ERR_NOT_AVAILABLE);
        } else {
            CHECK_OK(mojo_tls_conn_peer_cert_subject(c, sub, sizeof sub));
            CHECK(strcmp(sub, "CN=localhost") == 0);
        }
        if (want_export) {
            /* (f_client's "ping" round trip was the first read: with TLS 1.3
             * the server's ticket has arrived) */
            enum { CAP = 8192 };
            uint8_t *buf = h_xmalloc(CAP);
            intptr_t n = mojo_tls_conn_session_export(c, buf, CAP);
            CHECK_MSG(n > 0 && n <= CAP, "session_export: %jd", (intmax_t)n);
            if (n > 0 && n <= CAP) {
                o.blob = buf;
                o.blob_len = (size_t)n;
                buf = NULL;
                /* export is repeatable: the size query and a short buffer report the full length */
                CHECK_EQ(mojo_tls_conn_session_export(c, NULL, 0), n);
                uint8_t tiny[4];
                CHECK_EQ(mojo_tls_conn_session_export(c, tiny, sizeof tiny), n);
            }
            free(buf);
        }
    }
    f_end(&s, c);
    F_EXPECT_SERVER_OK("resumption connection", s);
    o.ok = c != NULL && s.ok;
    o.server_resumed = s.resumed;
    return o;
}

/* full handshake, export, resume with the blob (twice: a ticket or a cache
 * entry may be used again), then corrupted blobs */
static void resume_with(const char *label, mojo_tls_config *scfg, int expect_resumed) {
    mojo_tls_config *ccfg = f_client_cfg(&ca);
    r_out first = conn_once(scfg, ccfg, NULL, 0, 1);
    CHECK_MSG(first.client_resumed == 0 && first.server_resumed == 0, "%s: first connection resumed (%d/%d)", label,
              first.client_resumed, first.server_resumed);
    REQUIRE(first.blob != NULL);
    for (int i = 0; i < 2; i++) {
        r_out again = conn_once(scfg, ccfg, first.blob, first.blob_len, 0);
        CHECK_MSG(again.import_rc == 0, "%s: import returned %d (%s)", label, again.import_rc,
                  h_code_name(again.import_rc));
        CHECK_MSG(again.ok, "%s: resumption connection failed, round %d", label, i);
        CHECK_MSG(again.client_resumed == expect_resumed, "%s: client resumed %d, expected %d, round %d", label,
                  again.client_resumed, expect_resumed, i);
        CHECK_MSG(again.server_resumed == expect_resumed, "%s: server resumed %d, expected %d, round %d", label,
                  again.server_resumed, expect_resumed, i);
    }
    printf("  %-40s blob %zu bytes, %s\n", label, first.blob_len,
           expect_resumed ? "resumed on both sides" : "full handshake on both sides (as expected)");

    /* corrupted blobs: PARSE, the connection stays usable, full handshake */
    uint8_t *half = h_xmalloc(first.blob_len);
    memcpy(half, first.blob, first.blob_len);
    r_out bad = conn_once(scfg, ccfg, half, first.blob_len / 2, 0);
    CHECK_MSG(bad.import_rc == MOJO_TLS_ERR_PARSE, "%s: truncated blob import %d (%s)", label, bad.import_rc,
              h_code_name(bad.import_rc));
    CHECK_MSG(bad.ok && bad.client_resumed == 0 && bad.server_resumed == 0, "%s: truncated blob: ok %d resumed %d/%d",
              label, bad.ok, bad.client_resumed, bad.server_resumed);
    bad = conn_once(scfg, ccfg, U8("garbage, not a session"), 22, 0);
    CHECK_EQ(bad.import_rc, MOJO_TLS_ERR_PARSE);
    CHECK(bad.ok && bad.client_resumed == 0);
    bad = conn_once(scfg, ccfg, half, 1, 0);
    CHECK_EQ(bad.import_rc, MOJO_TLS_ERR_PARSE);
    CHECK(bad.ok && bad.client_resumed == 0);
    free(half);
    free(first.blob);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
}

static mojo_tls_config *server_cfg(void) { return f_server_cfg(&leaf); }

/* A server capped at TLS 1.2: where the session-id cache applies. */
static mojo_tls_config *server_cfg12(void) {
    mojo_tls_config *cfg = f_server_cfg(&leaf);
    CHECK_RC(mojo_tls_config_set_max_version(cfg, MOJO_TLS_VERSION_TLS1_2), 0);
    return cfg;
}

static void test_resumption(void) {
    /* tickets: TLS 1.2 (RFC 5077) and TLS 1.3 (NewSessionTicket after the handshake) */
    mojo_tls_config *tickets = server_cfg();
    CHECK_RC(mojo_tls_config_set_session_tickets(tickets, 3600), 0);
    resume_with("tickets (TLS 1.3)", tickets, 1);
    mojo_tls_config *t12 = server_cfg12();
    CHECK_RC(mojo_tls_config_set_session_tickets(t12, 3600), 0);
    resume_with("tickets (TLS 1.2)", t12, 1);
    CHECK_RC(mojo_tls_config_free(t12), 0);

    /* session-id cache: TLS 1.2 only; TLS 1.3 resumes with tickets only */
    mojo_tls_config *cache = server_cfg12();
    CHECK_RC(mojo_tls_config_set_session_cache(cache, 100, 300), 0);
    resume_with("cache (TLS 1.2)", cache, 1);
    mojo_tls_config *c13 = server_cfg();
    CHECK_RC(mojo_tls_config_set_session_cache(c13, 100, 300), 0);
    resume_with("cache only, TLS 1.3: no resumption", c13, 0);
    CHECK_RC(mojo_tls_config_free(c13), 0);

    /* both */
    mojo_tls_config *both = server_cfg();
    CHECK_RC(mojo_tls_config_set_session_tickets(both, 0), 0); /* <= 0: the default lifetime */
    CHECK_RC(mojo_tls_config_set_session_cache(both, 10, 300), 0);
    resume_with("tickets + cache", both, 1);

    mojo_tls_config *ccfg = f_client_cfg(&ca);
    /* neither (the default): a valid blob gives a full handshake */
    {
        mojo_tls_config *plain = server_cfg();
        r_out a = conn_once(plain, ccfg, NULL, 0, 1);
        r_out b = conn_once(plain, ccfg, a.blob, a.blob_len, 0);
        CHECK_EQ(b.import_rc, 0);
        CHECK_MSG(b.ok && b.client_resumed == 0 && b.server_resumed == 0, "no tickets/cache: resumed %d/%d",
                  b.client_resumed, b.server_resumed);
        /* cache switched off again with max_entries 0 */
        mojo_tls_config *off = server_cfg12();
        CHECK_RC(mojo_tls_config_set_session_cache(off, 100, 300), 0);
        CHECK_RC(mojo_tls_config_set_session_cache(off, 0, 300), 0);
        r_out c = conn_once(off, ccfg, NULL, 0, 1);
        r_out d = conn_once(off, ccfg, c.blob, c.blob_len, 0);
        CHECK_MSG(d.client_resumed == 0 && d.server_resumed == 0, "cache off (0 entries): resumed %d/%d",
                  d.client_resumed, d.server_resumed);
        free(a.blob);
        free(c.blob);
        CHECK_RC(mojo_tls_config_free(off), 0);
        CHECK_RC(mojo_tls_config_free(plain), 0);
    }
    /* a session another server issued (its own ticket keys / cache): full handshake */
    {
        r_out a = conn_once(tickets, ccfg, NULL, 0, 1);
        mojo_tls_config *other = server_cfg();
        CHECK_RC(mojo_tls_config_set_session_tickets(other, 3600), 0);
        r_out b = conn_once(other, ccfg, a.blob, a.blob_len, 0);
        CHECK_EQ(b.import_rc, 0);
        CHECK_MSG(b.ok && b.client_resumed == 0 && b.server_resumed == 0,
                  "ticket from another server accepted: resumed %d/%d", b.client_resumed, b.server_resumed);
        r_out c = conn_once(cache, ccfg, NULL, 0, 1);
        r_out d = conn_once(both, ccfg, c.blob, c.blob_len, 0);
        CHECK_MSG(d.ok && d.client_resumed == 0 && d.server_resumed == 0,
                  "cache entry of another server accepted: resumed %d/%d", d.client_resumed, d.server_resumed);
        free(a.blob);
        free(c.blob);
        CHECK_RC(mojo_tls_config_free(other), 0);
    }
    /* cache with room for one session: a newer session evicts the older */
    {
        mojo_tls_config *one = server_cfg12();
        CHECK_RC(mojo_tls_config_set_session_cache(one, 1, 300), 0);
        r_out a = conn_once(one, ccfg, NULL, 0, 1);
        r_out b = conn_once(one, ccfg, NULL, 0, 1);
        r_out rb = conn_once(one, ccfg, b.blob, b.blob_len, 0);
        CHECK_MSG(rb.server_resumed == 1 && rb.client_resumed == 1, "cache of 1: the newest session did not resume");
        /* (a resumed handshake stores nothing new; a full one would evict b) */
        r_out ra = conn_once(one, ccfg, a.blob, a.blob_len, 0);
        CHECK_MSG(ra.server_resumed == 0 && ra.client_resumed == 0, "cache of 1: the evicted session resumed");
        free(a.blob);
        free(b.blob);
        CHECK_RC(mojo_tls_config_free(one), 0);
    }
    /* cache timeout: an entry older than timeout_s is not resumed */
    {
        mojo_tls_config *quick = server_cfg12();
        CHECK_RC(mojo_tls_config_set_session_cache(quick, 10, 1), 0);
        r_out a = conn_once(quick, ccfg, NULL, 0, 1);
        h_sleep_ms(3200); /* timeout 1 s, whole-second clock: well past it */
        r_out b = conn_once(quick, ccfg, a.blob, a.blob_len, 0);
        CHECK_MSG(b.ok && b.server_resumed == 0 && b.client_resumed == 0,
                  "cache timeout 1 s: resumed after 3 s (%d/%d)", b.client_resumed, b.server_resumed);
        free(a.blob);
        CHECK_RC(mojo_tls_config_free(quick), 0);
    }

    /* state checks on a connection that never handshook */
    {
        mojo_tls_conn *m = mojo_tls_conn_new_memory(ccfg, "localhost");
        REQUIRE_NONNULL(m);
        CHECK_RC(mojo_tls_conn_session_resumed(m), MOJO_TLS_ERR_NOT_AVAILABLE);
        CHECK(mojo_tls_conn_session_export(m, NULL, 0) < 0);
        CHECK_RC(mojo_tls_conn_session_import(m, NULL, 10), MOJO_TLS_ERR_INVALID_ARGUMENT);
        CHECK_RC(mojo_tls_conn_free(m), 0);
        /* server connections do not import sessions */
        mojo_tls_conn *sm = mojo_tls_conn_new_memory(tickets, NULL);
        REQUIRE_NONNULL(sm);
        CHECK(mojo_tls_conn_session_import(sm, U8("whatever"), 8) < 0);
        CHECK_RC(mojo_tls_conn_free(sm), 0);
    }
    /* bad arguments to the server switches */
    CHECK_RC(mojo_tls_config_set_session_cache(tickets, -1, 300), MOJO_TLS_ERR_INVALID_ARGUMENT);
    CHECK_RC(mojo_tls_config_set_session_tickets(NULL, 10), MOJO_TLS_ERR_INVALID_HANDLE);
    CHECK_RC(mojo_tls_config_set_session_cache(ccfg, 10, 10), MOJO_TLS_ERR_BAD_STATE);
    CHECK_RC(mojo_tls_config_set_session_tickets(ccfg, 10), MOJO_TLS_ERR_BAD_STATE);

    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(tickets), 0);
    CHECK_RC(mojo_tls_config_free(cache), 0);
    CHECK_RC(mojo_tls_config_free(both), 0);
}

/* ---------------------------------------------------------------- key log */

/* Key-log lines of one connection: TLS 1.2 one CLIENT_RANDOM line (48-byte
 * master secret); TLS 1.3 the four traffic secrets below (32 bytes each with
 * the default TLS_AES_128_GCM_SHA256). */
static const char *const labels13[4] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                        "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"};
#define KL_SECRET_CAP 400
#define KL_MAX_CONNS 16

/* Connections in a key-log file (grouped by client random, in order): their
 * count, and the idx-th one's client random and secrets (TLS 1.3: the four
 * joined with '/' in labels13 order). Every line must be well formed and of
 * the expected version; TLS 1.3 connections need each label exactly once. */
static int keylog_parse(const char *path, int v13, int idx, char random[65], char secret[KL_SECRET_CAP]) {
    char *text = f_read_file(path, NULL);
    if (!text) return -1;
    static char rnd[KL_MAX_CONNS][65], sec[KL_MAX_CONNS][4][97];
    int mask[KL_MAX_CONNS];
    int n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char label[64], r[200], sc[200];
        if (sscanf(line, "%63s %199s %199s", label, r, sc) != 3) {
            h_fail(__FILE__, __LINE__, "key log line is not <label> <random> <secret>: \"%s\"", line);
            continue;
        }
        int li = -1;
        if (!v13) {
            CHECK_MSG(strcmp(label, "CLIENT_RANDOM") == 0, "TLS 1.2 key log line with label %s", label);
            li = 0;
        } else {
            for (int k = 0; k < 4; k++)
                if (!strcmp(label, labels13[k])) li = k;
            CHECK_MSG(li >= 0, "TLS 1.3 key log line with label %s", label);
            if (li < 0) continue;
        }
        size_t want_len = v13 ? 64 : 96;
        CHECK_MSG(strlen(r) == 64 && strlen(sc) == want_len, "key log %s field lengths %zu/%zu, expected 64/%zu", label,
                  strlen(r), strlen(sc), want_len);
        for (const char *p = r; *p; p++) CHECK(isxdigit((unsigned char)*p));
        for (const char *p = sc; *p; p++) CHECK(isxdigit((unsigned char)*p));
        int ci = -1;
        for (int k = 0; k < n; k++)
            if (!strcmp(rnd[k], r)) ci = k;
        if (ci < 0) {
            REQUIRE(n < KL_MAX_CONNS);
            ci = n++;
            snprintf(rnd[ci], 65, "%.64s", r);
            mask[ci] = 0;
        }
        CHECK_MSG(!(mask[ci] & (1 << li)), "key log: %s twice for one client random", label);
        mask[ci] |= 1 << li;
        snprintf(sec[ci][li], 97, "%.96s", sc);
    }
    for (int k = 0; k < n; k++)
        CHECK_MSG(mask[k] == (v13 ? 0xF : 0x1), "key log: connection %d has label set 0x%x", k, mask[k]);
    if (idx < n && random && secret) {
        snprintf(random, 65, "%s", rnd[idx]);
        if (v13)
            snprintf(secret, KL_SECRET_CAP, "%s/%s/%s/%s", sec[idx][0], sec[idx][1], sec[idx][2], sec[idx][3]);
        else
            snprintf(secret, KL_SECRET_CAP, "%s", sec[idx][0]);
    }
    free(text);
    return n;
}

/* max_version 0: the default (TLS 1.3) */
static void test_keylog(int max_version) {
    int v13 = max_version != MOJO_TLS_VERSION_TLS1_2;
    const char *vname = v13 ? "TLS 1.3" : "TLS 1.2";
    char dir[512], cpath[600], spath[600], epath[600];
    f_tmpdir(dir, sizeof dir);
    snprintf(cpath, sizeof cpath, "%s/client.keys", dir);
    snprintf(spath, sizeof spath, "%s/server.keys", dir);
    snprintf(epath, sizeof epath, "%s/env.keys", dir);

    mojo_tls_config *scfg = server_cfg(), *ccfg = f_client_cfg(&ca);
    if (max_version) CHECK_RC(mojo_tls_config_set_max_version(scfg, max_version), 0);
    CHECK_RC(mojo_tls_config_set_keylog_file(scfg, spath), 0);
    CHECK_RC(mojo_tls_config_set_keylog_file(ccfg, cpath), 0);
    for (int i = 0; i < 2; i++) {
        r_out o = conn_once(scfg, ccfg, NULL, 0, 0);
        CHECK(o.ok);
    }
    char cr[2][65], cs[2][KL_SECRET_CAP], sr[2][65], ss[2][KL_SECRET_CAP];
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(keylog_parse(cpath, v13, i, cr[i], cs[i]), 2);
        CHECK_EQ(keylog_parse(spath, v13, i, sr[i], ss[i]), 2);
        CHECK_MSG(strcmp(cr[i], sr[i]) == 0, "connection %d: client random differs between the two logs", i);
        CHECK_MSG(strcmp(cs[i], ss[i]) == 0, "connection %d: secrets differ between the two logs", i);
    }
    CHECK_MSG(strcmp(cr[0], cr[1]) != 0, "two connections logged the same client random");
    CHECK_MSG(strcmp(cs[0], cs[1]) != 0, "two connections logged the same secrets");
    printf("  key log (%s): %s %.16s... identical in the client's and the server's file\n", vname,
           v13 ? "4 traffic secrets for" : "CLIENT_RANDOM", cr[0]);

    /* NULL turns it off: no new line */
    CHECK_RC(mojo_tls_config_set_keylog_file(ccfg, NULL), 0);
    CHECK_RC(mojo_tls_config_set_keylog_file(scfg, NULL), 0);
    r_out o = conn_once(scfg, ccfg, NULL, 0, 0);
    CHECK(o.ok);
    CHECK_EQ(keylog_parse(cpath, v13, 0, NULL, NULL), 2);
    CHECK_EQ(keylog_parse(spath, v13, 0, NULL, NULL), 2);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);

    /* SSLKEYLOGFILE, read when a configuration is first used */
    CHECK_RC(mojo_tls_config_set_keylog_file(scfg, spath), 0);
    REQUIRE(setenv("SSLKEYLOGFILE", epath, 1) == 0);
    ccfg = f_client_cfg(&ca);
    o = conn_once(scfg, ccfg, NULL, 0, 0);
    CHECK(o.ok);
    char er[65], es[KL_SECRET_CAP];
    CHECK_EQ(keylog_parse(epath, v13, 0, er, es), 1);
    CHECK_EQ(keylog_parse(spath, v13, 2, sr[0], ss[0]), 3);
    CHECK_MSG(strcmp(er, sr[0]) == 0 && strcmp(es, ss[0]) == 0, "SSLKEYLOGFILE lines differ from the server's");
    /* an explicit file wins over SSLKEYLOGFILE */
    mojo_tls_config *explicit = f_client_cfg(&ca);
    CHECK_RC(mojo_tls_config_set_keylog_file(explicit, cpath), 0);
    o = conn_once(scfg, explicit, NULL, 0, 0);
    CHECK(o.ok);
    CHECK_EQ(keylog_parse(cpath, v13, 0, NULL, NULL), 3);
    CHECK_EQ(keylog_parse(epath, v13, 0, NULL, NULL), 1);
    REQUIRE(unsetenv("SSLKEYLOGFILE") == 0);
    CHECK_RC(mojo_tls_config_free(explicit), 0);
    CHECK_RC(mojo_tls_config_free(ccfg), 0);
    CHECK_RC(mojo_tls_config_free(scfg), 0);

    unlink(cpath);
    unlink(spath);
    unlink(epath);
    CHECK_MSG(rmdir(dir) == 0, "temp dir not empty: %s", strerror(errno));
}

int main(void) {
    h_start("test_features_resume", 300);
    ca = f_ca("resume CA", MOJO_TLS_KEY_ECDSA_P256);
    leaf = f_leaf(&ca, "localhost", "localhost,127.0.0.1", MOJO_TLS_USAGE_SERVER, MOJO_TLS_KEY_ECDSA_P256);
    test_resumption();
    test_keylog(MOJO_TLS_VERSION_TLS1_2);
    test_keylog(0);
    f_cert_free(&ca);
    f_cert_free(&leaf);
    return h_finish();
}
