/*
 * test_tls_openssl.c - the OpenSSL TLS transport on its own.
 *
 * Every case runs a real TLS server (OpenSSL, in a thread) on one end of a
 * socketpair and the smtpc TLS transport over a minimal inner transport on
 * the other end, so the backend is tested without the engine, the TCP
 * transport or the network.  Certificates are made here, in memory, by a
 * test CA: a good one (localhost, 127.0.0.1, ::1), one for another name,
 * an expired one and a self-signed one.  The inner transport can also
 * trickle bytes one at a time, to drive the BIO through every partial
 * read and write.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "smtpc/tls.h"

#include "tls_fixture.h"
#include "unit.h"

/* ---- the certificates of these tests ---- */

static EVP_PKEY *ca_key, *good_key, *wrong_key, *expired_key, *self_key;
static X509 *ca_cert, *good_cert, *wrong_cert, *expired_cert, *self_cert;
static char tmpdir[64], ca_path[128], other_ca_path[128];
static char good_pin[64], wrong_pin[64];

static void make_certs(void)
{
    const char *san = "DNS:localhost,IP:127.0.0.1,IP:::1";
    EVP_PKEY *other_key = EVP_EC_gen("P-256");
    X509 *other_ca;
    ca_key = EVP_EC_gen("P-256");
    good_key = EVP_EC_gen("P-256");
    wrong_key = EVP_EC_gen("P-256");
    expired_key = EVP_EC_gen("P-256");
    self_key = EVP_EC_gen("P-256");
    ca_cert = make_cert(ca_key, "smtpc unit CA", NULL, NULL, NULL, -3600,
                        86400L * 365, 1);
    good_cert = make_cert(good_key, "localhost", san, ca_cert, ca_key, -3600,
                          86400L * 30, 2);
    wrong_cert = make_cert(wrong_key, "wrong.example", "DNS:wrong.example",
                           ca_cert, ca_key, -3600, 86400L * 30, 3);
    expired_cert = make_cert(expired_key, "localhost", san, ca_cert, ca_key,
                             -86400L * 10, -86400L * 9, 4);
    self_cert = make_cert(self_key, "localhost", san, NULL, NULL, -3600,
                          86400L * 30, 5);
    /* A second CA that signed nothing the server uses. */
    other_ca = make_cert(other_key, "unrelated CA", NULL, NULL, NULL, -3600,
                         86400L * 365, 6);

    snprintf(tmpdir, sizeof tmpdir, "/tmp/smtpc_tls_test_XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(ca_path, sizeof ca_path, "%s/ca.pem", tmpdir);
    snprintf(other_ca_path, sizeof other_ca_path, "%s/other.pem", tmpdir);
    write_pem(ca_path, ca_cert);
    write_pem(other_ca_path, other_ca);
    spki_pin(good_cert, good_pin);
    spki_pin(wrong_cert, wrong_pin);
    X509_free(other_ca);
    EVP_PKEY_free(other_key);
}

/* ---- the server thread ---- */

enum mode {
    M_ECHO,        /* handshake, then echo until the client closes */
    M_PLAIN_FIRST, /* plaintext line and reply first, then as M_ECHO */
    M_PENDING,     /* handshake, one 100-byte record, then as M_ECHO */
    M_GARBAGE,     /* answers the ClientHello with plaintext SMTP */
    M_SILENT,      /* reads and never answers */
    M_HANGUP,      /* handshake, then close without close_notify */
    M_SHUTDOWN     /* handshake, close_notify, close */
};

typedef struct server {
    int fd;
    enum mode mode;
    X509 *cert;
    EVP_PKEY *key;
    int max_version;       /* 0: default */
    pthread_t thread;
    /* results */
    int accepted;          /* handshake succeeded */
    char sni[128];         /* the server name the client sent, "" none */
    int got_close_notify;
    char plain[64];        /* M_PLAIN_FIRST: the plaintext line received */
    unsigned long echoed;
} server;

static void *server_main(void *arg)
{
    server *sv = arg;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL *ssl;
    char buf[16384];
    int n;

    SSL_CTX_use_certificate(ctx, sv->cert);
    SSL_CTX_use_PrivateKey(ctx, sv->key);
    if (sv->max_version) {
        SSL_CTX_set_security_level(ctx, 0);
        SSL_CTX_set_min_proto_version(ctx, sv->max_version);
        SSL_CTX_set_max_proto_version(ctx, sv->max_version);
        SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
    }
    if (sv->mode == M_PLAIN_FIRST) {
        size_t got = 0;
        while (got < sizeof sv->plain - 1) {
            ssize_t r = read(sv->fd, sv->plain + got, 1);
            if (r <= 0)
                break;
            if (sv->plain[got++] == '\n')
                break;
        }
        sv->plain[got] = '\0';
        if (write(sv->fd, "220 go ahead\r\n", 14) != 14)
            goto out_ctx;
    }
    if (sv->mode == M_GARBAGE) {
        (void)!read(sv->fd, buf, sizeof buf);
        (void)!write(sv->fd, "220 this is not TLS\r\n", 21);
        goto out_ctx;
    }
    if (sv->mode == M_SILENT) {
        while (read(sv->fd, buf, sizeof buf) > 0)
            ;
        goto out_ctx;
    }
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, sv->fd);
    if (SSL_accept(ssl) != 1) {
        ERR_clear_error();
        SSL_free(ssl);
        goto out_ctx;
    }
    sv->accepted = 1;
    {
        const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        snprintf(sv->sni, sizeof sv->sni, "%s", sni ? sni : "");
    }
    if (sv->mode == M_HANGUP) {
        SSL_free(ssl);
        goto out_ctx;
    }
    if (sv->mode == M_SHUTDOWN) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
        goto out_ctx;
    }
    if (sv->mode == M_PENDING) {
        memset(buf, 'p', 100);
        SSL_write(ssl, buf, 100);
    }
    while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) {
        if (SSL_write(ssl, buf, n) != n)
            break;
        sv->echoed += (unsigned long)n;
    }
    if (SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN)
        sv->got_close_notify = 1;
    ERR_clear_error();
    SSL_free(ssl);
out_ctx:
    SSL_CTX_free(ctx);
    close(sv->fd);
    return NULL;
}

/* Starts a server in sv and gives the client its end in c. */
static void server_start(server *sv, enum mode mode, X509 *cert,
                         EVP_PKEY *key, sp *c)
{
    int fds[2];
    memset(sv, 0, sizeof *sv);
    memset(c, 0, sizeof *c);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        perror("socketpair");
        exit(1);
    }
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    c->fd = fds[0];
    sv->fd = fds[1];
    sv->mode = mode;
    sv->cert = cert;
    sv->key = key;
}

static void server_run(server *sv)
{
    if (pthread_create(&sv->thread, NULL, server_main, sv) != 0) {
        perror("pthread_create");
        exit(1);
    }
}

static void server_join(server *sv)
{
    pthread_join(sv->thread, NULL);
}

/* ---- client helpers ---- */

/* Sends all of data through tr, waiting as needed. */
static int send_all(smtpc_transport tr, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t deadline = mono_ms() + 5000;
    while (len > 0) {
        long n = tr.ops->send(tr.ctx, p, len);
        if (n < 0)
            return (int)n;
        if (n == 0) {
            int w = tr.ops->wait(tr.ctx, SMTPC_IO_WRITE, 1000);
            if (w < 0)
                return w;
            if (mono_ms() > deadline)
                return SMTPC_ERR_TIMEOUT;
            continue;
        }
        p += n;
        len -= (size_t)n;
    }
    return SMTPC_OK;
}

/* Receives exactly len bytes. */
static int recv_all(smtpc_transport tr, void *buf, size_t len)
{
    unsigned char *p = buf;
    uint64_t deadline = mono_ms() + 5000;
    while (len > 0) {
        long n = tr.ops->recv(tr.ctx, p, len);
        if (n < 0)
            return (int)n;
        if (n == 0) {
            int w = tr.ops->wait(tr.ctx, SMTPC_IO_READ, 1000);
            if (w < 0)
                return w;
            if (mono_ms() > deadline)
                return SMTPC_ERR_TIMEOUT;
            continue;
        }
        p += n;
        len -= (size_t)n;
    }
    return SMTPC_OK;
}

typedef struct outcome {
    int rc;           /* start_tls */
    char err[256];
    char info[96];
    int echo_ok;      /* a line went through and came back */
    int accepted;
    char sni[128];
    int close_notify;
} outcome;

/* One handshake against a server with cert/key, verifying host, then an
 * echo when it succeeded. */
static outcome run_case(X509 *cert, EVP_PKEY *key, const smtpc_tls_options *o,
                        const char *host, size_t trickle)
{
    outcome res;
    server sv;
    sp c;
    smtpc_tls *t = NULL;
    smtpc_transport tr;
    int rc;

    memset(&res, 0, sizeof res);
    server_start(&sv, M_ECHO, cert, key, &c);
    c.trickle = trickle;
    rc = smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &c}, o);
    if (rc != SMTPC_OK) {
        res.rc = rc;
        close(c.fd);
        close(sv.fd);
        return res;
    }
    server_run(&sv);
    tr = smtpc_tls_transport(t);
    res.rc = tr.ops->start_tls(tr.ctx, host, 5000);
    snprintf(res.err, sizeof res.err, "%s", smtpc_tls_error(t));
    snprintf(res.info, sizeof res.info, "%s", smtpc_tls_info(t));
    if (res.rc == SMTPC_OK) {
        char line[32];
        if (send_all(tr, "EHLO test\r\n", 11) == SMTPC_OK &&
            recv_all(tr, line, 11) == SMTPC_OK &&
            memcmp(line, "EHLO test\r\n", 11) == 0)
            res.echo_ok = 1;
    }
    smtpc_tls_free(t);
    server_join(&sv);
    res.accepted = sv.accepted;
    snprintf(res.sni, sizeof res.sni, "%s", sv.sni);
    res.close_notify = sv.got_close_notify;
    return res;
}

static smtpc_tls_options opts_ca(void)
{
    smtpc_tls_options o;
    memset(&o, 0, sizeof o);
    o.cafile = ca_path;
    return o;
}

/* ---- the cases ---- */

static void test_good(void)
{
    smtpc_tls_options o = opts_ca();
    outcome r = run_case(good_cert, good_key, &o, "localhost", 0);
    CHECK_MSG(r.rc == SMTPC_OK, "rc %d err '%s'", r.rc, r.err);
    CHECK_MSG(r.echo_ok, "echo failed");
    CHECK_MSG(r.accepted, "server did not accept");
    CHECK_MSG(strcmp(r.sni, "localhost") == 0, "SNI '%s'", r.sni);
    CHECK_MSG(strncmp(r.info, "TLSv1.3 TLS_", 12) == 0, "info '%s'", r.info);
    CHECK_MSG(r.err[0] == '\0', "err '%s'", r.err);
    CHECK_MSG(r.close_notify, "no close_notify on free");

    /* Names compare without case; the IP literals are in the SAN. */
    r = run_case(good_cert, good_key, &o, "LocalHost", 0);
    CHECK_MSG(r.rc == SMTPC_OK && r.echo_ok, "LocalHost: rc %d '%s'", r.rc, r.err);
    r = run_case(good_cert, good_key, &o, "127.0.0.1", 0);
    CHECK_MSG(r.rc == SMTPC_OK && r.echo_ok, "127.0.0.1: rc %d '%s'", r.rc, r.err);
    CHECK_MSG(r.sni[0] == '\0', "SNI sent for an IP literal: '%s'", r.sni);
    r = run_case(good_cert, good_key, &o, "::1", 0);
    CHECK_MSG(r.rc == SMTPC_OK && r.echo_ok, "::1: rc %d '%s'", r.rc, r.err);
    CHECK_MSG(r.sni[0] == '\0', "SNI sent for ::1: '%s'", r.sni);
    r = run_case(good_cert, good_key, &o, "[::1]", 0);
    CHECK_MSG(r.rc == SMTPC_OK && r.echo_ok, "[::1]: rc %d '%s'", r.rc, r.err);
}

static void test_capath(void)
{
    /* A capath holding the CA under its subject hash. */
    char dir[160], link[200];
    smtpc_tls_options o;
    outcome r;
    snprintf(dir, sizeof dir, "%s/capath", tmpdir);
    mkdir(dir, 0700);
    snprintf(link, sizeof link, "%s/%08lx.0", dir,
             X509_subject_name_hash(ca_cert));
    write_pem(link, ca_cert);
    memset(&o, 0, sizeof o);
    o.capath = dir;
    r = run_case(good_cert, good_key, &o, "localhost", 0);
    CHECK_MSG(r.rc == SMTPC_OK && r.echo_ok, "capath: rc %d '%s'", r.rc, r.err);
    unlink(link);
    rmdir(dir);
}

static void test_cert_failures(void)
{
    smtpc_tls_options o = opts_ca();
    outcome r;

    r = run_case(wrong_cert, wrong_key, &o, "localhost", 0);
    CHECK_MSG(r.rc == SMTPC_ERR_TLS_CERT, "wrong name: rc %d", r.rc);
    CHECK_MSG(strcmp(r.err, "hostname mismatch") == 0, "wrong name: '%s'", r.err);
    CHECK_MSG(!r.accepted, "server completed a handshake with a wrong name");
    CHECK_MSG(r.info[0] == '\0', "info after failure '%s'", r.info);

    /* The name checked is the one given, not the certificate's. */
    r = run_case(good_cert, good_key, &o, "mail.example.com", 0);
    CHECK_MSG(r.rc == SMTPC_ERR_TLS_CERT && strcmp(r.err, "hostname mismatch") == 0,
              "other host: rc %d '%s'", r.rc, r.err);
    r = run_case(good_cert, good_key, &o, "127.0.0.2", 0);
    CHECK_MSG(r.rc == SMTPC_ERR_TLS_CERT &&
              strcmp(r.err, "IP address mismatch") == 0,
              "other IP: rc %d '%s'", r.rc, r.err);

    r = run_case(expired_cert, expired_key, &o, "localhost", 0);
    CHECK_MSG(r.rc == SMTPC_ERR_TLS_CERT, "expired: rc %d", r.rc);
    CHECK_MSG(strcmp(r.err, "certificate has expired") == 0, "expired: '%s'",
              r.err);

    r = run_case(self_cert, self_key, &o, "localhost", 0);
    CHECK_MSG(r.rc == SMTPC_ERR_TLS_CERT, "self-signed: rc %d", r.rc);
    CHECK_MSG(strcmp(r.err, "self-signed certificate") == 0, "self-signed: '%s'",
              r.err);

    /* Signed by a CA the client does not trust. */
    o.cafile = other_ca_path;
    r = run_case(good_cert, good_key, &o, "localhost", 0);
    CHECK_MSG(r.rc == SMTPC_ERR_TLS_CERT, "untrusted CA: rc %d", r.rc);
    CHECK_MSG(strcmp(r.err, "unable to get local issuer certificate") == 0,
              "untrusted CA: '%s'", r.err);

    /* The system store does not know the test CA either. */
    memset(&o, 0, sizeof o);
    r = run_case(good_cert, good_key, &o, "localhost", 0);
    CHECK_MSG(r.rc == SMTPC_ERR_TLS_CERT, "system store: rc %d '%s'", r.rc, r.err);
}

static void test_pins(void)
{
    smtpc_tls_options o = opts_ca();
    char prefixed[80];
    outcome r;

    o.pin_sha256 = good_pin;
    r = run_case(good_cert, good_key, &o, "localhost", 0);
    CHECK_MSG(r.rc == SMTPC_OK && r.echo_ok, "pin match: rc %d '%s'", r.rc, r.err);

    snprintf(prefixed, sizeof prefixed, "sha256//%s", good_pin);
    o.pin_sha256 = prefixed;
    r = run_case(good_cert, good_key, &o, "localhost", 0);
    CHECK_MSG(r.rc == SMTPC_OK, "sha256// pin: rc %d '%s'", r.rc, r.err);

    o.pin_sha256 = wrong_pin;
    r = run_case(good_cert, good_key, &o, "localhost", 0);
    CHECK_MSG(r.rc == SMTPC_ERR_TLS_CERT, "pin mismatch: rc %d", r.rc);
    CHECK_MSG(strcmp(r.err, "public key pin mismatch") == 0, "pin: '%s'", r.err);
    CHECK_MSG(!r.accepted, "server completed a handshake with a wrong pin");

    /* A pin does not replace the chain check... */
    o.pin_sha256 = NULL;
    o.cafile = other_ca_path;
    {
        char self_pin[64];
        spki_pin(self_cert, self_pin);
        o.pin_sha256 = self_pin;
        r = run_case(self_cert, self_key, &o, "localhost", 0);
        CHECK_MSG(r.rc == SMTPC_ERR_TLS_CERT &&
                  strcmp(r.err, "self-signed certificate") == 0,
                  "pin without chain: rc %d '%s'", r.rc, r.err);
        /* ...but with insecure_skip_verify the pin alone decides. */
        o.insecure_skip_verify = 1;
        r = run_case(self_cert, self_key, &o, "localhost", 0);
        CHECK_MSG(r.rc == SMTPC_OK && r.echo_ok, "pin + insecure: rc %d '%s'",
                  r.rc, r.err);
        o.pin_sha256 = good_pin;
        r = run_case(self_cert, self_key, &o, "localhost", 0);
        CHECK_MSG(r.rc == SMTPC_ERR_TLS_CERT &&
                  strcmp(r.err, "public key pin mismatch") == 0,
                  "wrong pin + insecure: rc %d '%s'", r.rc, r.err);
    }
}

static void test_bad_pins(void)
{
    static const char *bad[] = {
        "",
        "abc",
        /* 43 symbols, no padding */
        "d9y64gjl1tSF0EKXr6kgtbcZRjIJFfb8ii2pkp1bkQM",
        /* a character outside the alphabet */
        "d9y64gjl1tSF0EKXr6kgtbcZRjIJFfb8ii2pkp1b*QM=",
        /* not canonical: the last symbol's low bits are not zero */
        "d9y64gjl1tSF0EKXr6kgtbcZRjIJFfb8ii2pkp1bkQN=",
        /* SHA-1 length */
        "2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
        /* too long */
        "d9y64gjl1tSF0EKXr6kgtbcZRjIJFfb8ii2pkp1bkQM==",
        "sha256//",
    };
    size_t i;
    sp c;
    smtpc_tls_options o;
    memset(&c, 0, sizeof c);
    c.fd = -1;
    memset(&o, 0, sizeof o);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smtpc_tls *t = (smtpc_tls *)1;
        int rc;
        o.pin_sha256 = bad[i];
        rc = smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &c}, &o);
        CHECK_MSG(rc == SMTPC_ERR_ARG && t == NULL, "pin '%s': rc %d", bad[i], rc);
    }
    o.pin_sha256 = "d9y64gjl1tSF0EKXr6kgtbcZRjIJFfb8ii2pkp1bkQM=";
    {
        smtpc_tls *t = NULL;
        int rc = smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &c}, &o);
        CHECK_MSG(rc == SMTPC_OK && t != NULL, "good pin text: rc %d", rc);
        smtpc_tls_free(t);
    }
}

static void test_insecure(void)
{
    smtpc_tls_options o;
    outcome r;
    memset(&o, 0, sizeof o);
    o.insecure_skip_verify = 1;
    r = run_case(self_cert, self_key, &o, "localhost", 0);
    CHECK_MSG(r.rc == SMTPC_OK && r.echo_ok, "insecure self-signed: rc %d '%s'",
              r.rc, r.err);
    r = run_case(expired_cert, expired_key, &o, "localhost", 0);
    CHECK_MSG(r.rc == SMTPC_OK, "insecure expired: rc %d '%s'", r.rc, r.err);
    r = run_case(wrong_cert, wrong_key, &o, "localhost", 0);
    CHECK_MSG(r.rc == SMTPC_OK, "insecure wrong name: rc %d '%s'", r.rc, r.err);
}

static void test_new_errors(void)
{
    sp c;
    smtpc_tls_options o;
    smtpc_tls *t = (smtpc_tls *)1;
    int rc;
    memset(&c, 0, sizeof c);
    c.fd = -1;
    memset(&o, 0, sizeof o);
    o.cafile = "/nonexistent/ca.pem";
    rc = smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &c}, &o);
    CHECK_MSG(rc == SMTPC_ERR_TLS && t == NULL, "missing cafile: rc %d", rc);
    rc = smtpc_tls_new(NULL, (smtpc_transport){&sp_ops, &c}, NULL);
    CHECK_MSG(rc == SMTPC_ERR_ARG, "NULL out: rc %d", rc);
    rc = smtpc_tls_new(&t, (smtpc_transport){NULL, &c}, NULL);
    CHECK_MSG(rc == SMTPC_ERR_ARG, "NULL ops: rc %d", rc);
    CHECK_MSG(strcmp(smtpc_tls_backend(), "openssl") == 0, "backend");
    CHECK_MSG(strcmp(smtpc_tls_error(NULL), "") == 0, "error(NULL)");
    CHECK_MSG(strcmp(smtpc_tls_info(NULL), "") == 0, "info(NULL)");
    smtpc_tls_free(NULL);
}

/* Plaintext passes through until start_tls, as STARTTLS needs. */
static void test_passthrough(void)
{
    smtpc_tls_options o = opts_ca();
    server sv;
    sp c;
    smtpc_tls *t;
    smtpc_transport tr;
    char reply[14];
    int rc;

    server_start(&sv, M_PLAIN_FIRST, good_cert, good_key, &c);
    CHECK_MSG(smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &c}, &o) == SMTPC_OK,
              "new");
    server_run(&sv);
    tr = smtpc_tls_transport(t);
    CHECK_MSG(tr.ops->connect(tr.ctx, "localhost", 25, 1000) == SMTPC_OK,
              "connect passes through");
    CHECK_MSG(tr.ops->is_loopback(tr.ctx) == 1, "is_loopback passes through");
    CHECK_MSG(smtpc_tls_info(t)[0] == '\0', "info before TLS");
    rc = send_all(tr, "STARTTLS\r\n", 10);
    CHECK_MSG(rc == SMTPC_OK, "plain send %d", rc);
    rc = recv_all(tr, reply, 14);
    CHECK_MSG(rc == SMTPC_OK && memcmp(reply, "220 go ahead\r\n", 14) == 0,
              "plain recv %d", rc);
    rc = tr.ops->start_tls(tr.ctx, "localhost", 5000);
    CHECK_MSG(rc == SMTPC_OK, "start_tls %d '%s'", rc, smtpc_tls_error(t));
    CHECK_MSG(tr.ops->start_tls(tr.ctx, "localhost", 5000) == SMTPC_ERR_STATE,
              "second start_tls");
    rc = send_all(tr, "EHLO x\r\n", 8);
    CHECK_MSG(rc == SMTPC_OK, "tls send %d", rc);
    rc = recv_all(tr, reply, 8);
    CHECK_MSG(rc == SMTPC_OK && memcmp(reply, "EHLO x\r\n", 8) == 0,
              "tls recv %d", rc);
    smtpc_tls_free(t);
    server_join(&sv);
    CHECK_MSG(strcmp(sv.plain, "STARTTLS\r\n") == 0, "server got '%s'", sv.plain);
    CHECK_MSG(sv.echoed == 8, "echoed %lu", sv.echoed);
}

/* One byte per inner send/recv: every partial read and write path. */
static void test_trickle(void)
{
    smtpc_tls_options o = opts_ca();
    outcome r = run_case(good_cert, good_key, &o, "localhost", 1);
    CHECK_MSG(r.rc == SMTPC_OK && r.echo_ok, "trickle: rc %d '%s'", r.rc, r.err);
    o.pin_sha256 = wrong_pin;
    r = run_case(good_cert, good_key, &o, "localhost", 3);
    CHECK_MSG(r.rc == SMTPC_ERR_TLS_CERT, "trickle pin: rc %d", r.rc);
}

/* A megabyte each way, sending and receiving at once through wait(). */
static void test_bulk(size_t trickle)
{
    smtpc_tls_options o = opts_ca();
    server sv;
    sp c;
    smtpc_tls *t;
    smtpc_transport tr;
    size_t total = trickle ? 64 * 1024 : 1024 * 1024, sent = 0, got = 0;
    unsigned char *src = malloc(total), *dst = malloc(total);
    uint64_t deadline;
    size_t i;
    int rc;

    for (i = 0; i < total; i++)
        src[i] = (unsigned char)(i * 7 + i / 251);
    server_start(&sv, M_ECHO, good_cert, good_key, &c);
    c.trickle = trickle;
    smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &c}, &o);
    server_run(&sv);
    tr = smtpc_tls_transport(t);
    rc = tr.ops->start_tls(tr.ctx, "localhost", 5000);
    CHECK_MSG(rc == SMTPC_OK, "bulk start_tls %d", rc);
    deadline = mono_ms() + 20000;
    while (rc == SMTPC_OK && got < total && mono_ms() < deadline) {
        unsigned ev = SMTPC_IO_READ | (sent < total ? SMTPC_IO_WRITE : 0);
        int w = tr.ops->wait(tr.ctx, ev, 1000);
        long n;
        if (w < 0) {
            rc = w;
            break;
        }
        if (sent < total) {
            n = tr.ops->send(tr.ctx, src + sent, total - sent);
            if (n < 0) {
                rc = (int)n;
                break;
            }
            sent += (size_t)n;
        }
        n = tr.ops->recv(tr.ctx, dst + got, total - got);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        got += (size_t)n;
    }
    CHECK_MSG(rc == SMTPC_OK && got == total, "bulk: rc %d, %zu of %zu", rc, got,
              total);
    CHECK_MSG(memcmp(src, dst, got) == 0, "bulk bytes differ");
    smtpc_tls_free(t);
    server_join(&sv);
    CHECK_MSG(sv.echoed == total, "server echoed %lu", sv.echoed);
    free(src);
    free(dst);
}

/* Decrypted bytes left in OpenSSL make wait() return at once. */
static void test_pending(void)
{
    smtpc_tls_options o = opts_ca();
    server sv;
    sp c;
    smtpc_tls *t;
    smtpc_transport tr;
    char buf[128];
    int rc, w;
    long n;
    uint64_t t0;

    server_start(&sv, M_PENDING, good_cert, good_key, &c);
    smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &c}, &o);
    server_run(&sv);
    tr = smtpc_tls_transport(t);
    rc = tr.ops->start_tls(tr.ctx, "localhost", 5000);
    CHECK_MSG(rc == SMTPC_OK, "start_tls %d", rc);
    rc = recv_all(tr, buf, 10);
    CHECK_MSG(rc == SMTPC_OK, "first 10: %d", rc);
    t0 = mono_ms();
    w = tr.ops->wait(tr.ctx, SMTPC_IO_READ, 2000);
    CHECK_MSG(w == SMTPC_IO_READ, "wait with pending data: %d", w);
    CHECK_MSG(mono_ms() - t0 < 100, "wait blocked %llu ms",
              (unsigned long long)(mono_ms() - t0));
    w = tr.ops->wait(tr.ctx, SMTPC_IO_READ | SMTPC_IO_WRITE, 0);
    CHECK_MSG(w == (SMTPC_IO_READ | SMTPC_IO_WRITE), "wait both: %d", w);
    n = tr.ops->recv(tr.ctx, buf, sizeof buf);
    CHECK_MSG(n == 90, "rest of the record: %ld", n);
    /* Nothing more: a zero timeout returns 0 and recv returns 0. */
    w = tr.ops->wait(tr.ctx, SMTPC_IO_READ, 0);
    CHECK_MSG(w == 0, "wait with nothing: %d", w);
    n = tr.ops->recv(tr.ctx, buf, sizeof buf);
    CHECK_MSG(n == 0, "recv with nothing: %ld", n);
    t0 = mono_ms();
    w = tr.ops->wait(tr.ctx, SMTPC_IO_READ, 150);
    CHECK_MSG(w == 0 && mono_ms() - t0 >= 140, "wait timeout: %d after %llu ms",
              w, (unsigned long long)(mono_ms() - t0));
    smtpc_tls_free(t);
    server_join(&sv);
}

/* Failures that are not the certificate: SMTPC_ERR_TLS or the inner
 * transport's own status, with a message. */
static void test_other_failures(void)
{
    smtpc_tls_options o = opts_ca();
    server sv;
    sp c;
    smtpc_tls *t;
    smtpc_transport tr;
    int rc;
    uint64_t t0;
    char buf[16];
    long n;

    /* A plaintext server (STARTTLS accepted by something that is not
     * speaking TLS). */
    server_start(&sv, M_GARBAGE, good_cert, good_key, &c);
    smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &c}, &o);
    server_run(&sv);
    tr = smtpc_tls_transport(t);
    rc = tr.ops->start_tls(tr.ctx, "localhost", 5000);
    CHECK_MSG(rc == SMTPC_ERR_TLS, "garbage: rc %d", rc);
    CHECK_MSG(strncmp(smtpc_tls_error(t), "TLS handshake failed", 20) == 0,
              "garbage: '%s'", smtpc_tls_error(t));
    fprintf(stderr, "  (garbage server: %s)\n", smtpc_tls_error(t));
    smtpc_tls_free(t);
    server_join(&sv);

    /* A server that never answers: the deadline holds. */
    server_start(&sv, M_SILENT, good_cert, good_key, &c);
    smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &c}, &o);
    server_run(&sv);
    tr = smtpc_tls_transport(t);
    t0 = mono_ms();
    rc = tr.ops->start_tls(tr.ctx, "localhost", 300);
    CHECK_MSG(rc == SMTPC_ERR_TIMEOUT, "silent: rc %d", rc);
    CHECK_MSG(mono_ms() - t0 >= 290 && mono_ms() - t0 < 2000,
              "silent: took %llu ms", (unsigned long long)(mono_ms() - t0));
    CHECK_MSG(strcmp(smtpc_tls_error(t), "TLS handshake timed out") == 0,
              "silent: '%s'", smtpc_tls_error(t));
    smtpc_tls_free(t);
    server_join(&sv);

    /* TLS 1.1 only: below the minimum. */
    server_start(&sv, M_ECHO, good_cert, good_key, &c);
    sv.max_version = TLS1_1_VERSION;
    smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &c}, &o);
    server_run(&sv);
    tr = smtpc_tls_transport(t);
    rc = tr.ops->start_tls(tr.ctx, "localhost", 5000);
    CHECK_MSG(rc == SMTPC_ERR_TLS, "TLS 1.1: rc %d", rc);
    CHECK_MSG(strstr(smtpc_tls_error(t), "protocol version") != NULL ||
              strstr(smtpc_tls_error(t), "unsupported protocol") != NULL ||
              strstr(smtpc_tls_error(t), "no protocols available") != NULL,
              "TLS 1.1: '%s'", smtpc_tls_error(t));
    fprintf(stderr, "  (TLS 1.1 server: %s)\n", smtpc_tls_error(t));
    smtpc_tls_free(t);
    server_join(&sv);
    CHECK_MSG(!sv.accepted, "TLS 1.1 handshake accepted");

    /* The server ends the TLS session (close_notify), or just hangs up:
     * both are an end of stream. */
    server_start(&sv, M_SHUTDOWN, good_cert, good_key, &c);
    smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &c}, &o);
    server_run(&sv);
    tr = smtpc_tls_transport(t);
    rc = tr.ops->start_tls(tr.ctx, "localhost", 5000);
    CHECK_MSG(rc == SMTPC_OK, "shutdown: start %d", rc);
    rc = recv_all(tr, buf, 1);
    CHECK_MSG(rc == SMTPC_ERR_CLOSED, "close_notify: rc %d", rc);
    smtpc_tls_free(t);
    server_join(&sv);

    server_start(&sv, M_HANGUP, good_cert, good_key, &c);
    smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &c}, &o);
    server_run(&sv);
    tr = smtpc_tls_transport(t);
    rc = tr.ops->start_tls(tr.ctx, "localhost", 5000);
    CHECK_MSG(rc == SMTPC_OK, "hangup: start %d", rc);
    rc = recv_all(tr, buf, 1);
    CHECK_MSG(rc == SMTPC_ERR_CLOSED, "hangup: rc %d", rc);
    n = tr.ops->send(tr.ctx, "x", 1);
    CHECK_MSG(n < 0 || n == 1, "send after hangup: %ld", n);
    /* close twice, then free: all harmless. */
    tr.ops->close(tr.ctx);
    tr.ops->close(tr.ctx);
    CHECK_MSG(strncmp(smtpc_tls_info(t), "TLSv1.3 ", 8) == 0,
              "info kept after close: '%s'", smtpc_tls_info(t));
    smtpc_tls_free(t);
    server_join(&sv);

    /* Bad host arguments. */
    server_start(&sv, M_SILENT, good_cert, good_key, &c);
    smtpc_tls_new(&t, (smtpc_transport){&sp_ops, &c}, &o);
    tr = smtpc_tls_transport(t);
    CHECK_MSG(tr.ops->start_tls(tr.ctx, "", 100) == SMTPC_ERR_ARG, "empty host");
    CHECK_MSG(tr.ops->start_tls(tr.ctx, NULL, 100) == SMTPC_ERR_ARG, "NULL host");
    smtpc_tls_free(t);
    close(sv.fd);
}

int main(void)
{
    make_certs();
    unit_case = "new_errors";
    test_new_errors();
    unit_case = "bad_pins";
    test_bad_pins();
    unit_case = "good";
    test_good();
    unit_case = "capath";
    test_capath();
    unit_case = "cert_failures";
    test_cert_failures();
    unit_case = "pins";
    test_pins();
    unit_case = "insecure";
    test_insecure();
    unit_case = "passthrough";
    test_passthrough();
    unit_case = "trickle";
    test_trickle();
    unit_case = "pending";
    test_pending();
    unit_case = "bulk, trickle 0";
    test_bulk(0);
    unit_case = "bulk, trickle 7";
    test_bulk(7);
    unit_case = "other_failures";
    test_other_failures();

    unlink(ca_path);
    unlink(other_ca_path);
    rmdir(tmpdir);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(good_key);
    EVP_PKEY_free(wrong_key);
    EVP_PKEY_free(expired_key);
    EVP_PKEY_free(self_key);
    X509_free(ca_cert);
    X509_free(good_cert);
    X509_free(wrong_cert);
    X509_free(expired_cert);
    X509_free(self_cert);
    return unit_done();
}
