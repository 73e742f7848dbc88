/*
 * tls_fixture.h - what the TLS unit tests share: a minimal inner transport
 * over one end of a socketpair (sp, sp_ops; it can trickle bytes, to drive
 * a backend through every partial read and write) and certificates made in
 * memory with OpenSSL (make_cert, spki_pin, write_pem).
 *
 * Included by one test file each; every function is static.
 */
#ifndef SMTPC_TEST_TLS_FIXTURE_H
#define SMTPC_TEST_TLS_FIXTURE_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "smtpc/tls.h"

/* ---- a minimal inner transport over a socketpair end ---- */

typedef struct sp {
    int fd;
    size_t trickle; /* >0: at most this many bytes per send/recv */
    unsigned long sends, recvs;
} sp;

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
    sp *s = ctx;
    ssize_t n;
    if (s->fd < 0)
        return SMTPC_ERR_CLOSED;
    if (s->trickle && len > s->trickle)
        len = s->trickle;
    s->sends++;
    n = send(s->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0)
        return (long)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    return errno == EPIPE || errno == ECONNRESET ? SMTPC_ERR_CLOSED
                                                 : SMTPC_ERR_IO;
}

static long sp_recv(void *ctx, void *buf, size_t len)
{
    sp *s = ctx;
    ssize_t n;
    if (s->fd < 0)
        return SMTPC_ERR_CLOSED;
    if (s->trickle && len > s->trickle)
        len = s->trickle;
    s->recvs++;
    n = recv(s->fd, buf, len, MSG_DONTWAIT);
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
    sp *s = ctx;
    struct pollfd p;
    int r;
    unsigned ready = 0;
    p.fd = s->fd;
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
    sp *s = ctx;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

static const smtpc_transport_ops sp_ops = {
    sp_connect, sp_send,        sp_recv, sp_wait,
    sp_start_tls, sp_is_loopback, sp_now, sp_close,
};

/* ---- certificates, made in memory ---- */

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

/* A certificate for cn with the given SAN (NULL: a CA), valid from
 * from_s to to_s seconds relative to now, signed by issuer (NULL: self). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *san,
                       X509 *issuer, EVP_PKEY *issuer_key, long from_s,
                       long to_s, long serial)
{
    X509 *c = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
    X509_gmtime_adj(X509_getm_notBefore(c), from_s);
    X509_gmtime_adj(X509_getm_notAfter(c), to_s);
    X509_set_pubkey(c, key);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(c, name);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    X509_NAME_free(name);
    if (san == NULL) {
        add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(c, c, NID_subject_key_identifier, "hash");
    } else {
        add_ext(c, issuer ? issuer : c, NID_basic_constraints,
                "critical,CA:FALSE");
        add_ext(c, issuer ? issuer : c, NID_ext_key_usage, "serverAuth");
        add_ext(c, issuer ? issuer : c, NID_subject_alt_name, san);
    }
    if (!X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256())) {
        fprintf(stderr, "cannot sign\n");
        exit(1);
    }
    return c;
}

static void spki_pin(X509 *c, char out[64])
{
    unsigned char *der = NULL, md[32];
    unsigned int mdlen = 0;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c), &der);
    EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    EVP_EncodeBlock((unsigned char *)out, md, 32);
}

static void write_pem(const char *path, X509 *c)
{
    FILE *f = fopen(path, "w");
    if (f == NULL || !PEM_write_X509(f, c)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

#endif
