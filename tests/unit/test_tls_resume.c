/*
 * test_tls_resume.c - TLS session resumption through caller-owned storage
 * (smtpc_tls_session, smtpc/tls.h), with whichever backend is linked.
 *
 * A real OpenSSL server runs in a thread on one end of a socketpair, with
 * one SSL_CTX kept across connections so that it can resume: TLS 1.3
 * tickets, TLS 1.2 tickets, TLS 1.2 session IDs.  The smtpc TLS transport
 * runs over a minimal inner transport on the other end.  Each connection
 * is a new smtpc_tls, as in a new run of a tool, sharing only the session
 * storage.  Checked: the second connection resumes (the client's
 * smtpc_tls_session_reused and the server's SSL_session_reused agree); a
 * different server name, changed verification settings or a damaged
 * session is not offered and the handshake is a full one; the serialised
 * form survives a file; clearing wipes.
 */
#define _POSIX_C_SOURCE 200809L

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "smtpc/tls.h"
#include "tls_fixture.h"
#include "unit.h"

/* ---- the certificates of these tests ---- */

static EVP_PKEY *ca_key, *good_key;
static X509 *ca_cert, *good_cert;
static char tmpdir[64], ca_path[128], both_path[128], blob_path[128];
static char good_pin[64];

static void make_certs(void)
{
    EVP_PKEY *other_key = EVP_EC_gen("P-256");
    X509 *other_ca;
    FILE *f;

    ca_key = EVP_EC_gen("P-256");
    good_key = EVP_EC_gen("P-256");
    ca_cert = make_cert(ca_key, "smtpc resume CA", NULL, NULL, NULL, -3600,
                        86400L * 365, 1);
    good_cert = make_cert(good_key, "localhost",
                          "DNS:localhost,DNS:mx.localhost,IP:127.0.0.1",
                          ca_cert, ca_key, -3600, 86400L * 30, 2);
    other_ca = make_cert(other_key, "unrelated CA", NULL, NULL, NULL, -3600,
                         86400L * 365, 3);

    snprintf(tmpdir, sizeof tmpdir, "/tmp/smtpc_tls_resume_XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(ca_path, sizeof ca_path, "%s/ca.pem", tmpdir);
    snprintf(both_path, sizeof both_path, "%s/both.pem", tmpdir);
    snprintf(blob_path, sizeof blob_path, "%s/session", tmpdir);
    write_pem(ca_path, ca_cert);
    /* The same CA plus another: verification passes, the trust differs. */
    f = fopen(both_path, "w");
    if (f == NULL || !PEM_write_X509(f, ca_cert) ||
        !PEM_write_X509(f, other_ca) || fclose(f) != 0)
        exit(1);
    spki_pin(good_cert, good_pin);
    X509_free(other_ca);
    EVP_PKEY_free(other_key);
}

/* ---- the server: one SSL_CTX for many connections ---- */

enum profile {
    P_TLS13,         /* the default: TLS 1.3 tickets (TLS 1.2 for mbedTLS) */
    P_TLS12_TICKET,  /* TLS 1.2 only, RFC 5077 tickets */
    P_TLS12_ID       /* TLS 1.2 only, no tickets: session IDs */
};

static const char *profile_name[] = {"tls1.3", "tls1.2 ticket",
                                     "tls1.2 session id"};

static SSL_CTX *server_ctx(enum profile p)
{
    static const unsigned char sid_ctx[] = "smtpc test";
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx, good_cert);
    SSL_CTX_use_PrivateKey(ctx, good_key);
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    if (p != P_TLS13)
        SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    if (p == P_TLS12_ID)
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    return ctx;
}

typedef struct server {
    SSL_CTX *ctx;
    int fd;
    pthread_t thread;
    int accepted;
    int reused; /* the server's view: SSL_session_reused */
} server;

/* Handshake, then echo until the client closes. */
static void *server_main(void *arg)
{
    server *sv = arg;
    SSL *ssl = SSL_new(sv->ctx);
    char buf[512];
    int n;

    SSL_set_fd(ssl, sv->fd);
    if (SSL_accept(ssl) == 1) {
        sv->accepted = 1;
        sv->reused = SSL_session_reused(ssl);
        while ((n = SSL_read(ssl, buf, sizeof buf)) > 0)
            if (SSL_write(ssl, buf, n) != n)
                break;
        SSL_shutdown(ssl);
    }
    ERR_clear_error();
    SSL_free(ssl);
    close(sv->fd);
    return NULL;
}

/* ---- one connection, as one run of a tool ---- */

typedef struct result {
    int rc;        /* start_tls */
    int echo_ok;   /* a line went through and came back */
    int reused;    /* smtpc_tls_session_reused */
    int srv_reused;
    char info[96];
    char err[256];
} result;

static int exchange(smtpc_transport tr)
{
    static const char line[] = "EHLO resume.test\r\n";
    char got[sizeof line];
    size_t sent = 0, recvd = 0;
    uint64_t deadline = mono_ms() + 5000;

    while (recvd < sizeof line - 1 && mono_ms() < deadline) {
        long n;
        if (sent < sizeof line - 1) {
            n = tr.ops->send(tr.ctx, line + sent, sizeof line - 1 - sent);
            if (n < 0)
                return 0;
            sent += (size_t)n;
        }
        n = tr.ops->recv(tr.ctx, got + recvd, sizeof line - 1 - recvd);
        if (n < 0)
            return 0;
        recvd += (size_t)n;
        if (n == 0 && tr.ops->wait(tr.ctx, SMTPC_IO_READ, 500) < 0)
            return 0;
    }
    return recvd == sizeof line - 1 && memcmp(got, line, recvd) == 0;
}

static result connect_once(SSL_CTX *ctx, const smtpc_tls_options *o,
                           const char *host)
{
    result r;
    server sv;
    int fds[2];
    sp c;
    smtpc_tls *t = NULL;
    smtpc_transport tr;

    memset(&r, 0, sizeof r);
    memset(&sv, 0, sizeof sv);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        perror("socketpair");
        exit(1);
    }
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    memset(&c, 0, sizeof c);
    c.fd = fds[0];
    sv.fd = fds[1];
    sv.ctx = ctx;
    r.rc = smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &c}, o);
    if (r.rc != SMTPC_OK) {
        close(fds[0]);
        close(fds[1]);
        return r;
    }
    if (pthread_create(&sv.thread, NULL, server_main, &sv) != 0) {
        perror("pthread_create");
        exit(1);
    }
    tr = smtpc_tls_transport(t);
    r.rc = tr.ops->start_tls(tr.ctx, host, 5000);
    if (r.rc == SMTPC_OK)
        r.echo_ok = exchange(tr);
    tr.ops->close(tr.ctx);
    /* Kept after the close. */
    r.reused = smtpc_tls_session_reused(t);
    snprintf(r.info, sizeof r.info, "%s", smtpc_tls_info(t));
    snprintf(r.err, sizeof r.err, "%s", smtpc_tls_error(t));
    smtpc_tls_free(t);
    pthread_join(sv.thread, NULL);
    r.srv_reused = sv.reused;
    if (r.rc != SMTPC_OK)
        fprintf(stderr, "  start_tls(%s): %d %s\n", host, r.rc, r.err);
    return r;
}

static smtpc_tls_options opts(smtpc_tls_session *s)
{
    smtpc_tls_options o;
    memset(&o, 0, sizeof o);
    o.cafile = ca_path;
    o.session = s;
    return o;
}

static int is_mbedtls(void)
{
    return strcmp(smtpc_tls_backend(), "mbedtls") == 0;
}

/* A full handshake that leaves a session in s. */
static void prime(SSL_CTX *ctx, smtpc_tls_session *s)
{
    smtpc_tls_options o = opts(s);
    result r;

    smtpc_tls_session_clear(s);
    r = connect_once(ctx, &o, "localhost");
    CHECK_EQ_INT(r.rc, SMTPC_OK);
    CHECK(r.echo_ok);
    CHECK(!r.reused);
    CHECK(!r.srv_reused);
    CHECK(s->len > 0);
}

/* A connection that must succeed with a full handshake. */
static void expect_full(SSL_CTX *ctx, const smtpc_tls_options *o,
                        const char *host)
{
    result r = connect_once(ctx, o, host);
    CHECK_EQ_INT(r.rc, SMTPC_OK);
    CHECK(r.echo_ok);
    CHECK(!r.reused);
    CHECK(!r.srv_reused);
}

static void expect_resumed(SSL_CTX *ctx, const smtpc_tls_options *o,
                           const char *host)
{
    result r = connect_once(ctx, o, host);
    CHECK_EQ_INT(r.rc, SMTPC_OK);
    CHECK(r.echo_ok);
    CHECK(r.reused);
    CHECK(r.srv_reused);
}

/* ---- the cases, for one server profile ---- */

static void test_resumes(SSL_CTX *ctx, enum profile p)
{
    static smtpc_tls_session s, before;
    smtpc_tls_options o = opts(&s);
    result r;

    unit_case = "second connection resumes";
    prime(ctx, &s);
    before = s;
    r = connect_once(ctx, &o, "localhost");
    CHECK_EQ_INT(r.rc, SMTPC_OK);
    CHECK(r.echo_ok);
    CHECK(r.reused);
    CHECK(r.srv_reused);
    CHECK(s.len > 0);
    if (p == P_TLS13 && !is_mbedtls()) {
        /* A TLS 1.3 ticket is used once: the new one replaced it. */
        CHECK(strncmp(r.info, "TLSv1.3", 7) == 0);
        CHECK(s.len != before.len || memcmp(s.data, before.data, s.len) != 0);
    } else {
        CHECK(strncmp(r.info, "TLSv1.2", 7) == 0);
    }
    /* And again: what was stored after a resumption resumes too. */
    expect_resumed(ctx, &o, "localhost");
    /* The host name is compared without regard to case. */
    expect_resumed(ctx, &o, "LocalHost");
    smtpc_tls_session_clear(&before);
}

static void test_other_name(SSL_CTX *ctx)
{
    static smtpc_tls_session s;
    smtpc_tls_options o = opts(&s);

    unit_case = "another server name: full handshake";
    prime(ctx, &s);
    expect_full(ctx, &o, "mx.localhost");
    /* The storage now holds mx.localhost's session: not localhost's. */
    expect_full(ctx, &o, "localhost");
    expect_full(ctx, &o, "127.0.0.1");
    expect_resumed(ctx, &o, "127.0.0.1");
}

static void test_other_settings(SSL_CTX *ctx)
{
    static smtpc_tls_session s;
    smtpc_tls_options o;

    unit_case = "insecure_skip_verify changed: full handshake";
    prime(ctx, &s);
    o = opts(&s);
    o.insecure_skip_verify = 1;
    expect_full(ctx, &o, "localhost");
    expect_resumed(ctx, &o, "localhost");
    /* ... and a session made without verification is not offered to a
     * verifying client. */
    o.insecure_skip_verify = 0;
    expect_full(ctx, &o, "localhost");

    unit_case = "a pin added: full handshake";
    prime(ctx, &s);
    o = opts(&s);
    o.pin_sha256 = good_pin;
    expect_full(ctx, &o, "localhost");
    expect_resumed(ctx, &o, "localhost");

    unit_case = "other trust anchors: full handshake";
    prime(ctx, &s);
    o = opts(&s);
    o.cafile = both_path;
    expect_full(ctx, &o, "localhost");
    expect_resumed(ctx, &o, "localhost");
}

static void test_damaged(SSL_CTX *ctx)
{
    static smtpc_tls_session s, good;
    smtpc_tls_options o = opts(&s);
    size_t i;
    /* Places to damage: the magic, the backend, the length, the
     * fingerprint, the session (its start, middle, end), the checksum. */
    size_t at[8];

    unit_case = "damaged session: not offered";
    prime(ctx, &good);
    at[0] = 0;
    at[1] = 8;
    at[2] = 15;
    at[3] = 20;
    at[4] = 48;
    at[5] = good.len / 2;
    at[6] = good.len - 33;
    at[7] = good.len - 1;
    for (i = 0; i < sizeof at / sizeof at[0]; i++) {
        s = good;
        s.data[at[i]] ^= 0x01;
        expect_full(ctx, &o, "localhost");
        /* Import refuses it too. */
        s = good;
        s.data[at[i]] ^= 0x01;
        CHECK_EQ_INT(smtpc_tls_session_import(&s, s.data, s.len), SMTPC_ERR_ARG);
        CHECK_EQ_INT(s.len, 0);
    }
    /* Cut short, one byte too long, absurd lengths. */
    s = good;
    s.len--;
    expect_full(ctx, &o, "localhost");
    s = good;
    s.len++;
    expect_full(ctx, &o, "localhost");
    s = good;
    s.len = sizeof s.data + 1;
    expect_full(ctx, &o, "localhost");
    s = good;
    s.len = 0;
    expect_full(ctx, &o, "localhost");
    s = good;
    memset(s.data, 0, sizeof s.data);
    expect_full(ctx, &o, "localhost");
    /* After all that, the good one still resumes. */
    s = good;
    expect_resumed(ctx, &o, "localhost");
    smtpc_tls_session_clear(&good);
}

/* The serialised form through a file, as a tool's cache between runs. */
static void test_file(SSL_CTX *ctx)
{
    static smtpc_tls_session s, loaded;
    static unsigned char buf[SMTPC_TLS_SESSION_MAX + 16];
    smtpc_tls_options o;
    FILE *f;
    size_t n;

    unit_case = "through a file";
    prime(ctx, &s);
    f = fopen(blob_path, "wb");
    CHECK(f != NULL && fwrite(s.data, 1, s.len, f) == s.len);
    if (f != NULL)
        fclose(f);
    f = fopen(blob_path, "rb");
    n = f != NULL ? fread(buf, 1, sizeof buf, f) : 0;
    if (f != NULL)
        fclose(f);
    CHECK_EQ_INT(n, s.len);
    CHECK_EQ_INT(smtpc_tls_session_import(&loaded, buf, n), SMTPC_OK);
    CHECK_EQ_INT(loaded.len, n);
    o = opts(&loaded);
    expect_resumed(ctx, &o, "localhost");
    /* Too long for the struct, and NULL: refused. */
    CHECK_EQ_INT(smtpc_tls_session_import(&loaded, buf, sizeof buf),
                 SMTPC_ERR_ARG);
    CHECK_EQ_INT(smtpc_tls_session_import(&loaded, NULL, 10), SMTPC_ERR_ARG);
    CHECK_EQ_INT(smtpc_tls_session_import(NULL, buf, n), SMTPC_ERR_ARG);
    memset(buf, 0, sizeof buf);
    unlink(blob_path);
    smtpc_tls_session_clear(&s);
}

static void test_clear(SSL_CTX *ctx)
{
    static smtpc_tls_session s;
    smtpc_tls_options o;
    size_t i, nonzero = 0;

    unit_case = "clear wipes";
    prime(ctx, &s);
    smtpc_tls_session_clear(&s);
    CHECK_EQ_INT(s.len, 0);
    for (i = 0; i < sizeof s.data; i++)
        nonzero += s.data[i] != 0;
    CHECK_EQ_INT(nonzero, 0);
    smtpc_tls_session_clear(NULL);
    o = opts(&s);
    expect_full(ctx, &o, "localhost");

    unit_case = "no storage: never resumes";
    o = opts(NULL);
    expect_full(ctx, &o, "localhost");
    expect_full(ctx, &o, "localhost");
}

int main(void)
{
    enum profile p;

    /* The server's close_notify may meet a client already gone. */
    signal(SIGPIPE, SIG_IGN);
    make_certs();
    for (p = P_TLS13; p <= P_TLS12_ID; p++) {
        SSL_CTX *ctx = server_ctx(p);
        fprintf(stderr, "server profile: %s (backend %s)\n", profile_name[p],
                smtpc_tls_backend());
        test_resumes(ctx, p);
        test_other_name(ctx);
        test_other_settings(ctx);
        test_damaged(ctx);
        test_file(ctx);
        test_clear(ctx);
        SSL_CTX_free(ctx);
    }
    unlink(ca_path);
    unlink(both_path);
    rmdir(tmpdir);
    X509_free(good_cert);
    X509_free(ca_cert);
    EVP_PKEY_free(good_key);
    EVP_PKEY_free(ca_key);
    return unit_done();
}
