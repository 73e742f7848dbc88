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
#include "unit.h"

/* ---- a minimal inner transport over a socketpair end ---- */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int sp_connect(void *ctx, const char *host, uint16_t port,
                      uint32_t timeout_ms)
{
    (void)ctx, (void)host, (void)port, (void)timeout_ms;
    return SMTPC_OK;
}

static long sp_send(void *ctx, const void *data, size_t len)
{
    int fd = *(int *)ctx;
    ssize_t n;
    if (fd < 0)
        return SMTPC_ERR_CLOSED;
    n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0)
        return (long)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    return errno == EPIPE || errno == ECONNRESET ? SMTPC_ERR_CLOSED
                                                 : SMTPC_ERR_IO;
}

static long sp_recv(void *ctx, void *buf, size_t len)
{
    int fd = *(int *)ctx;
    ssize_t n;
    if (fd < 0)
        return SMTPC_ERR_CLOSED;
    n = recv(fd, buf, len, MSG_DONTWAIT);
    if (n > 0)
        return (long)n;
    if (n == 0)
        return SMTPC_ERR_CLOSED;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    return errno == ECONNRESET ? SMTPC_ERR_CLOSED : SMTPC_ERR_IO;
}

static int sp_wait(void *ctx, unsigned events, uint32_t timeout_ms)
{
    struct pollfd p;
    unsigned ready = 0;
    int r;
    p.fd = *(int *)ctx;
    p.events = (short)(((events & SMTPC_IO_READ) ? POLLIN : 0) |
                       ((events & SMTPC_IO_WRITE) ? POLLOUT : 0));
    p.revents = 0;
    r = poll(&p, 1, (int)timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : SMTPC_ERR_IO;
    if (r == 0)
        return 0;
    if (p.revents & (POLLIN | POLLHUP | POLLERR))
        ready |= events & SMTPC_IO_READ;
    if (p.revents & (POLLOUT | POLLHUP | POLLERR))
        ready |= events & SMTPC_IO_WRITE;
    return (int)ready;
}

static int sp_start_tls(void *ctx, const char *host, uint32_t timeout_ms)
{
    (void)ctx, (void)host, (void)timeout_ms;
    return SMTPC_ERR_UNSUPPORTED;
}

static int sp_is_loopback(void *ctx)
{
    (void)ctx;
    return 1;
}

static uint64_t sp_now(void *ctx)
{
    (void)ctx;
    return mono_ms();
}

static void sp_close(void *ctx)
{
    int *fd = ctx;
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static const smtpc_transport_ops sp_ops = {
    sp_connect,   sp_send,        sp_recv, sp_wait,
    sp_start_tls, sp_is_loopback, sp_now,  sp_close,
};

/* ---- certificates, made in memory ---- */

static EVP_PKEY *ca_key, *good_key;
static X509 *ca_cert, *good_cert;
static char tmpdir[64], ca_path[128], both_path[128], blob_path[128];
static char good_pin[64];

static void add_ext(X509 *c, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v;
    X509_EXTENSION *e;
    X509V3_set_ctx(&v, issuer, c, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &v, nid, value);
    if (e == NULL || !X509_add_ext(c, e, -1)) {
        fprintf(stderr, "cannot add extension %d\n", nid);
        exit(1);
    }
    X509_EXTENSION_free(e);
}

/* A CA (san NULL, self-signed) or a server certificate signed by it. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *san,
                       long serial)
{
    X509 *c = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 86400L * 30);
    X509_set_pubkey(c, key);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(c, name);
    X509_set_issuer_name(c, san ? X509_get_subject_name(ca_cert) : name);
    X509_NAME_free(name);
    if (san == NULL) {
        add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(c, c, NID_subject_key_identifier, "hash");
    } else {
        add_ext(c, ca_cert, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(c, ca_cert, NID_ext_key_usage, "serverAuth");
        add_ext(c, ca_cert, NID_subject_alt_name, san);
    }
    if (!X509_sign(c, san ? ca_key : key, EVP_sha256())) {
        fprintf(stderr, "cannot sign\n");
        exit(1);
    }
    return c;
}

static void make_certs(void)
{
    EVP_PKEY *other_key = EVP_EC_gen("P-256");
    X509 *other_ca;
    unsigned char *der = NULL, md[32];
    unsigned int mdlen = 0;
    int n;
    FILE *f;

    ca_key = EVP_EC_gen("P-256");
    good_key = EVP_EC_gen("P-256");
    ca_cert = make_cert(ca_key, "smtpc resume CA", NULL, 1);
    good_cert = make_cert(good_key, "localhost",
                          "DNS:localhost,DNS:mx.localhost,IP:127.0.0.1", 2);
    other_ca = make_cert(other_key, "unrelated CA", NULL, 3);

    snprintf(tmpdir, sizeof tmpdir, "/tmp/smtpc_tls_resume_XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(ca_path, sizeof ca_path, "%s/ca.pem", tmpdir);
    snprintf(both_path, sizeof both_path, "%s/both.pem", tmpdir);
    snprintf(blob_path, sizeof blob_path, "%s/session", tmpdir);
    f = fopen(ca_path, "w");
    if (f == NULL || !PEM_write_X509(f, ca_cert) || fclose(f) != 0)
        exit(1);
    /* The same CA plus another: verification passes, the trust differs. */
    f = fopen(both_path, "w");
    if (f == NULL || !PEM_write_X509(f, ca_cert) ||
        !PEM_write_X509(f, other_ca) || fclose(f) != 0)
        exit(1);

    n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(good_cert), &der);
    EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    EVP_EncodeBlock((unsigned char *)good_pin, md, 32);
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
    int fds[2], cfd;
    smtpc_tls *t = NULL;
    smtpc_transport tr;

    memset(&r, 0, sizeof r);
    memset(&sv, 0, sizeof sv);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        perror("socketpair");
        exit(1);
    }
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    cfd = fds[0];
    sv.fd = fds[1];
    sv.ctx = ctx;
    r.rc = smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &cfd}, o);
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
