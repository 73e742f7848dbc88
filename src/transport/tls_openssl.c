/*
 * tls_openssl.c - the TLS transport of smtpc/tls.h over OpenSSL 3.
 *
 * The TLS layer wraps another transport (the "inner" one).  OpenSSL never
 * sees a file descriptor: a custom BIO moves ciphertext through the inner
 * transport's send and recv, so TLS works over anything that fills in the
 * transport table (a POSIX socket, a test socketpair, an RTOS stack).
 *
 * Outgoing ciphertext is collected in a buffer of our own (out) instead of
 * being pushed into the inner transport from inside OpenSSL.  That keeps
 * SSL_write from ever failing with WANT_WRITE, which would oblige the
 * caller to retry with the very same bytes - a rule the transport contract
 * ("0: nothing sent, try again later") cannot promise.  send() accepts new
 * plaintext only once the previous ciphertext has left, so out holds at
 * most one SSL_write's worth (one record plus overhead, bounded by
 * TLS_WRITE_MAX).  Incoming ciphertext is read straight from the inner
 * transport: without read-ahead OpenSSL asks for exactly the bytes of the
 * record it is parsing, so nothing it has not processed sits in its
 * buffers, and SSL_pending() is all wait() needs to look at.
 *
 * This file is outside the malloc-free core: OpenSSL allocates, so do we.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* inet_pton */
#endif

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpc/tls.h"

/* Plaintext handed to one SSL_write: one full record. */
#define TLS_WRITE_MAX 16384
/* Longest host name accepted for SNI and the name check. */
#define TLS_HOST_MAX 255
#define PIN_LEN 32 /* SHA-256 */

struct smtpc_tls {
    smtpc_transport inner;
    smtpc_tls_options opt;
    unsigned char pin[PIN_LEN];
    int have_pin;

    SSL_CTX *ctx;
    BIO_METHOD *biom;
    SSL *ssl;        /* NULL until start_tls, and again after close */
    int active;      /* handshake done: send/recv/wait go through TLS */
    int write_wants_read; /* the last SSL_write returned WANT_READ */

    /* Ciphertext waiting for the inner transport: out[out_head..out_len). */
    unsigned char *out;
    size_t out_len, out_head, out_cap;

    /* Set by the BIO callbacks when the inner transport failed, so the
     * caller gets the inner status (CLOSED, IO) rather than a vague TLS
     * error. */
    int inner_err;
    int oom;         /* the BIO could not grow out */
    int pin_failed;  /* the certificate verify callback refused the pin */

    char err[256];
    char info[96];
};

/* ---- small helpers ---- */

static void tls_set_err(smtpc_tls *t, const char *msg)
{
    snprintf(t->err, sizeof t->err, "%s", msg);
}

/* The reason of the newest OpenSSL error in words ("wrong version
 * number", "tlsv1 alert protocol version"), or what when there is none. */
static void tls_set_ssl_err(smtpc_tls *t, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;

    if (reason != NULL)
        snprintf(t->err, sizeof t->err, "%s: %s", what, reason);
    else
        snprintf(t->err, sizeof t->err, "%s", what);
    ERR_clear_error();
}

/* Strict base64 of exactly 32 bytes: 43 symbols and one '='.  An optional
 * "sha256//" prefix (curl's spelling) is accepted. */
static int pin_decode(const char *s, unsigned char out[PIN_LEN])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned long acc = 0;
    size_t i, n = 0, bits = 0;

    if (strncmp(s, "sha256//", 8) == 0)
        s += 8;
    if (strlen(s) != 44 || s[43] != '=')
        return -1;
    for (i = 0; i < 43; i++) {
        const char *p = s[i] ? strchr(alphabet, s[i]) : NULL;
        if (p == NULL)
            return -1;
        acc = (acc << 6) | (unsigned long)(p - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1ul << bits) - 1;
        }
    }
    /* 43 symbols carry 258 bits: the two left over MUST be zero, or the
     * text is not the canonical encoding of any 32 bytes. */
    return (n == PIN_LEN && acc == 0) ? 0 : -1;
}

/* Host is an IPv4 or IPv6 literal (brackets allowed around IPv6).  The
 * bare literal is left in buf. */
static int host_is_ip(const char *host, char *buf, size_t cap)
{
    unsigned char addr[16];
    size_t n = strlen(host);

    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n >= cap)
        return 0;
    memcpy(buf, host, n);
    buf[n] = '\0';
    return inet_pton(AF_INET, buf, addr) == 1 ||
           inet_pton(AF_INET6, buf, addr) == 1;
}

/* ---- ciphertext to the inner transport ---- */

/* Sends what out holds: SMTPC_OK when it is empty, 0 when some is left
 * (the inner transport is full), or the inner transport's error. */
static int out_flush(smtpc_tls *t)
{
    while (t->out_head < t->out_len) {
        long n = t->inner.ops->send(t->inner.ctx, t->out + t->out_head,
                                    t->out_len - t->out_head);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return 0;
        t->out_head += (size_t)n;
    }
    t->out_head = t->out_len = 0;
    return SMTPC_OK;
}

static int out_pending(const smtpc_tls *t)
{
    return t->out_head < t->out_len;
}

/* ---- the BIO over the inner transport ---- */

static int bio_write_cb(BIO *b, const char *data, int len)
{
    smtpc_tls *t = BIO_get_data(b);
    size_t need;

    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    if (t->out_head > 0 && t->out_head == t->out_len)
        t->out_head = t->out_len = 0;
    need = t->out_len + (size_t)len;
    if (need > t->out_cap) {
        size_t cap = t->out_cap ? t->out_cap : 4096;
        unsigned char *p;
        while (cap < need)
            cap *= 2;
        p = realloc(t->out, cap);
        if (p == NULL) {
            t->oom = 1;
            return -1;
        }
        t->out = p;
        t->out_cap = cap;
    }
    memcpy(t->out + t->out_len, data, (size_t)len);
    t->out_len += (size_t)len;
    return len;
}

static int bio_read_cb(BIO *b, char *buf, int len)
{
    smtpc_tls *t = BIO_get_data(b);
    long n;

    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    n = t->inner.ops->recv(t->inner.ctx, buf, (size_t)len);
    if (n > 0)
        return (int)n;
    if (n == 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    t->inner_err = (int)n;
    /* End of stream is reported to OpenSSL as EOF (0), anything else as
     * a hard failure; both without the retry flag. */
    return n == SMTPC_ERR_CLOSED ? 0 : -1;
}

static long bio_ctrl_cb(BIO *b, int cmd, long num, void *ptr)
{
    smtpc_tls *t = BIO_get_data(b);

    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        /* Flushing happens in out_flush, driven by the transport calls. */
        return 1;
    case BIO_CTRL_EOF:
        return t != NULL && t->inner_err == SMTPC_ERR_CLOSED;
    default:
        return 0;
    }
}

static int bio_create_cb(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* ---- certificate verification ---- */

/* Replaces OpenSSL's verification step so that the public key pin is
 * checked in the same place as the chain and the name, during the
 * handshake: a wrong pin aborts it with an alert and the connection never
 * carries a byte for the wrong server. */
static int verify_cb(X509_STORE_CTX *x, void *arg)
{
    smtpc_tls *t = arg;
    int ok = X509_verify_cert(x);

    if (t->opt.insecure_skip_verify) {
        /* The caller asked for no verification: every chain and name is
         * accepted; a pin, when given, still is enforced. */
        ok = 1;
        X509_STORE_CTX_set_error(x, X509_V_OK);
    }
    if (ok > 0 && t->have_pin) {
        X509 *leaf = X509_STORE_CTX_get0_cert(x);
        unsigned char *der = NULL;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        int derlen = leaf ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &der)
                          : -1;
        int match = derlen > 0 &&
                    EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(),
                               NULL) == 1 &&
                    mdlen == PIN_LEN &&
                    CRYPTO_memcmp(md, t->pin, PIN_LEN) == 0;
        OPENSSL_free(der);
        if (!match) {
            t->pin_failed = 1;
            X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
            ok = 0;
        }
    }
    return ok > 0 ? 1 : 0;
}

/* After a failed handshake: was it the certificate?  Sets the message and
 * returns the status. */
static int handshake_failure(smtpc_tls *t, int ssl_err)
{
    long vr = SSL_get_verify_result(t->ssl);

    if (t->pin_failed) {
        tls_set_err(t, "public key pin mismatch");
        ERR_clear_error();
        return SMTPC_ERR_TLS_CERT;
    }
    if (vr != X509_V_OK) {
        snprintf(t->err, sizeof t->err, "%s",
                 X509_verify_cert_error_string(vr));
        ERR_clear_error();
        return SMTPC_ERR_TLS_CERT;
    }
    if (t->oom) {
        tls_set_err(t, "out of memory");
        return SMTPC_ERR_TLS;
    }
    if (t->inner_err != 0 && ERR_peek_last_error() == 0) {
        tls_set_err(t, t->inner_err == SMTPC_ERR_CLOSED
                           ? "connection closed during the TLS handshake"
                           : "I/O error during the TLS handshake");
        return t->inner_err;
    }
    if (ssl_err == SSL_ERROR_ZERO_RETURN || t->inner_err == SMTPC_ERR_CLOSED) {
        /* The server hung up: an error message from OpenSSL (if any) says
         * more than "closed". */
        tls_set_ssl_err(t, "TLS handshake failed (connection closed)");
        return SMTPC_ERR_TLS;
    }
    tls_set_ssl_err(t, "TLS handshake failed");
    return SMTPC_ERR_TLS;
}

/* ---- the transport table ---- */

static int tls_connect(void *ctx, const char *host, uint16_t port,
                       uint32_t timeout_ms)
{
    smtpc_tls *t = ctx;
    return t->inner.ops->connect(t->inner.ctx, host, port, timeout_ms);
}

static void tls_teardown(smtpc_tls *t)
{
    if (t->ssl != NULL) {
        SSL_free(t->ssl); /* frees the BIO too */
        t->ssl = NULL;
    }
    t->active = 0;
    t->write_wants_read = 0;
    t->out_head = t->out_len = 0;
    t->inner_err = 0;
    t->pin_failed = 0;
    t->oom = 0;
    /* info is kept: after the session it still says what was used. */
}

/* Error from an SSL_read/SSL_write that did not make progress. */
static long io_failure(smtpc_tls *t, int ssl_err, const char *what)
{
    if (ssl_err == SSL_ERROR_ZERO_RETURN)
        return SMTPC_ERR_CLOSED;
    if (t->oom) {
        tls_set_err(t, "out of memory");
        return SMTPC_ERR_TLS;
    }
    if (t->inner_err != 0 && ERR_peek_last_error() == 0) {
        ERR_clear_error();
        return t->inner_err;
    }
    tls_set_ssl_err(t, what);
    return SMTPC_ERR_TLS;
}

static long tls_send(void *ctx, const void *data, size_t len)
{
    smtpc_tls *t = ctx;
    int n, rc, e;

    if (!t->active)
        return t->inner.ops->send(t->inner.ctx, data, len);
    rc = out_flush(t);
    if (rc < 0)
        return rc;
    if (out_pending(t) || len == 0)
        return 0;
    if (len > TLS_WRITE_MAX)
        len = TLS_WRITE_MAX;
    ERR_clear_error();
    n = SSL_write(t->ssl, data, (int)len);
    if (n > 0) {
        t->write_wants_read = 0;
        /* The bytes are ours now; push what the inner transport takes. */
        rc = out_flush(t);
        return rc < 0 ? rc : n;
    }
    e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_WANT_READ) {
        t->write_wants_read = 1;
        return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE)
        return 0;
    return io_failure(t, e, "TLS write failed");
}

static long tls_recv(void *ctx, void *buf, size_t len)
{
    smtpc_tls *t = ctx;
    int n, rc, e;

    if (!t->active)
        return t->inner.ops->recv(t->inner.ctx, buf, len);
    /* Alerts or handshake messages OpenSSL wrote while reading must leave
     * too; a full inner transport is not an error here. */
    rc = out_flush(t);
    if (rc < 0)
        return rc;
    if (len == 0)
        return 0;
    if (len > INT_MAX)
        len = INT_MAX;
    ERR_clear_error();
    n = SSL_read(t->ssl, buf, (int)len);
    if (n > 0) {
        rc = out_flush(t);
        return rc < 0 ? rc : n;
    }
    e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        rc = out_flush(t);
        return rc < 0 ? rc : 0;
    }
    return io_failure(t, e, "TLS read failed");
}

static uint64_t tls_now(void *ctx)
{
    smtpc_tls *t = ctx;
    return t->inner.ops->now_ms(t->inner.ctx);
}

/* Time left until deadline, in what inner wait takes. */
static uint32_t left_ms(smtpc_tls *t, uint64_t deadline)
{
    uint64_t now = tls_now(t);
    if (now >= deadline)
        return 0;
    return deadline - now > UINT32_MAX ? UINT32_MAX
                                       : (uint32_t)(deadline - now);
}

static int tls_wait(void *ctx, unsigned events, uint32_t timeout_ms)
{
    smtpc_tls *t = ctx;
    uint64_t deadline;

    if (!t->active)
        return t->inner.ops->wait(t->inner.ctx, events, timeout_ms);
    deadline = tls_now(t) + timeout_ms;
    for (;;) {
        unsigned ready = 0, inner_ev = 0;
        int rc = out_flush(t), r;

        if (rc < 0)
            return rc;
        /* Plaintext already decrypted and waiting: readable now. */
        if ((events & SMTPC_IO_READ) && SSL_pending(t->ssl) > 0)
            ready |= SMTPC_IO_READ;
        /* send() takes bytes once the previous ciphertext is gone, unless
         * OpenSSL needs to read first (renegotiation, key update). */
        if ((events & SMTPC_IO_WRITE) && !out_pending(t) &&
            !t->write_wants_read)
            ready |= SMTPC_IO_WRITE;
        if (ready)
            return (int)ready;

        if (events & SMTPC_IO_READ)
            inner_ev |= SMTPC_IO_READ;
        if ((events & SMTPC_IO_WRITE) && t->write_wants_read)
            inner_ev |= SMTPC_IO_READ;
        /* Whatever the caller waits for, our ciphertext must go out: the
         * server may be waiting for it before it answers. */
        if (out_pending(t))
            inner_ev |= SMTPC_IO_WRITE;
        if (inner_ev == 0)
            return 0;

        r = t->inner.ops->wait(t->inner.ctx, inner_ev, left_ms(t, deadline));
        if (r < 0)
            return r;
        if (r == 0)
            return 0;
        if (r & SMTPC_IO_READ) {
            /* Readable ciphertext may turn out to hold no application
             * data (a session ticket): recv then returns 0 and the caller
             * waits again, having consumed it. */
            if (events & SMTPC_IO_READ)
                ready |= SMTPC_IO_READ;
            if ((events & SMTPC_IO_WRITE) && t->write_wants_read) {
                t->write_wants_read = 0; /* let send retry SSL_write */
                ready |= SMTPC_IO_WRITE;
            }
        }
        if (r & SMTPC_IO_WRITE) {
            rc = out_flush(t);
            if (rc < 0)
                return rc;
            if ((events & SMTPC_IO_WRITE) && !out_pending(t) &&
                !t->write_wants_read)
                ready |= SMTPC_IO_WRITE;
        }
        if (ready)
            return (int)ready;
        if (timeout_ms == 0 || tls_now(t) >= deadline)
            return 0;
    }
}

static int tls_start(void *ctx, const char *host, uint32_t timeout_ms)
{
    smtpc_tls *t = ctx;
    char ip[64];
    BIO *bio;
    uint64_t deadline;
    int is_ip;

    if (t->active || t->ssl != NULL) {
        tls_set_err(t, "TLS already started on this connection");
        return SMTPC_ERR_STATE;
    }
    t->err[0] = '\0';
    t->info[0] = '\0';
    if (host == NULL || host[0] == '\0' || strlen(host) > TLS_HOST_MAX) {
        tls_set_err(t, "no valid host name to verify");
        return SMTPC_ERR_ARG;
    }
    ERR_clear_error();
    t->ssl = SSL_new(t->ctx);
    bio = BIO_new(t->biom);
    if (t->ssl == NULL || bio == NULL) {
        BIO_free(bio);
        tls_set_ssl_err(t, "cannot create the TLS session");
        tls_teardown(t);
        return SMTPC_ERR_TLS;
    }
    BIO_set_data(bio, t);
    SSL_set_bio(t->ssl, bio, bio);

    /* The name checked is the one the caller configured; an IP literal is
     * checked against the certificate's IP addresses and, as RFC 6066
     * says, never sent as SNI. */
    is_ip = host_is_ip(host, ip, sizeof ip);
    if (is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), ip) != 1) {
            tls_set_ssl_err(t, "bad IP address");
            tls_teardown(t);
            return SMTPC_ERR_ARG;
        }
    } else {
        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(t->ssl, host) != 1 ||
            SSL_set_tlsext_host_name(t->ssl, host) != 1) {
            tls_set_ssl_err(t, "bad host name");
            tls_teardown(t);
            return SMTPC_ERR_ARG;
        }
    }
    SSL_set_connect_state(t->ssl);

    deadline = tls_now(t) + timeout_ms;
    for (;;) {
        int r, e, rc;
        unsigned ev;

        ERR_clear_error();
        r = SSL_do_handshake(t->ssl);
        rc = out_flush(t);
        if (r == 1 && rc == SMTPC_OK && !out_pending(t))
            break;
        if (r == 1) {
            e = SSL_ERROR_WANT_WRITE; /* our last flight is still queued */
        } else {
            e = SSL_get_error(t->ssl, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                int st = handshake_failure(t, e);
                /* Let the alert go if it can, without waiting for it. */
                (void)out_flush(t);
                tls_teardown(t);
                return st;
            }
        }
        if (rc < 0) {
            tls_set_err(t, rc == SMTPC_ERR_CLOSED
                               ? "connection closed during the TLS handshake"
                               : "I/O error during the TLS handshake");
            tls_teardown(t);
            return rc;
        }
        ev = 0;
        if (e == SSL_ERROR_WANT_READ)
            ev |= SMTPC_IO_READ;
        if (out_pending(t))
            ev |= SMTPC_IO_WRITE;
        if (tls_now(t) >= deadline) {
            tls_set_err(t, "TLS handshake timed out");
            tls_teardown(t);
            return SMTPC_ERR_TIMEOUT;
        }
        if (ev == 0)
            continue; /* WANT_WRITE with nothing queued: just retry */
        r = t->inner.ops->wait(t->inner.ctx, ev, left_ms(t, deadline));
        if (r < 0) {
            tls_set_err(t, "I/O error during the TLS handshake");
            tls_teardown(t);
            return r;
        }
        if (r == 0) {
            tls_set_err(t, "TLS handshake timed out");
            tls_teardown(t);
            return SMTPC_ERR_TIMEOUT;
        }
        if (r & SMTPC_IO_WRITE) {
            rc = out_flush(t);
            if (rc < 0) {
                tls_set_err(t, "I/O error during the TLS handshake");
                tls_teardown(t);
                return rc;
            }
        }
    }
    t->active = 1;
    snprintf(t->info, sizeof t->info, "%s %s", SSL_get_version(t->ssl),
             SSL_get_cipher_name(t->ssl));
    return SMTPC_OK;
}

static int tls_is_loopback(void *ctx)
{
    smtpc_tls *t = ctx;
    return t->inner.ops->is_loopback(t->inner.ctx);
}

static void tls_close(void *ctx)
{
    smtpc_tls *t = ctx;

    if (t->active) {
        /* Best effort close_notify: one try, no waiting for the peer. */
        ERR_clear_error();
        (void)SSL_shutdown(t->ssl);
        (void)out_flush(t);
        ERR_clear_error();
    }
    tls_teardown(t);
    t->inner.ops->close(t->inner.ctx);
}

static const smtpc_transport_ops tls_ops = {
    tls_connect, tls_send,        tls_recv, tls_wait,
    tls_start,   tls_is_loopback, tls_now,  tls_close,
};

/* ---- public functions ---- */

int smtpc_tls_new(smtpc_tls **out, smtpc_transport inner,
                  const smtpc_tls_options *opt)
{
    static const smtpc_tls_options none = {NULL, NULL, NULL, 0};
    smtpc_tls *t;

    if (out == NULL)
        return SMTPC_ERR_ARG;
    *out = NULL;
    if (inner.ops == NULL)
        return SMTPC_ERR_ARG;
    if (opt == NULL)
        opt = &none;
    t = calloc(1, sizeof *t);
    if (t == NULL)
        return SMTPC_ERR_TLS;
    t->inner = inner;
    t->opt = *opt;
    if (opt->pin_sha256 != NULL) {
        if (pin_decode(opt->pin_sha256, t->pin) != 0) {
            free(t);
            return SMTPC_ERR_ARG;
        }
        t->have_pin = 1;
    }

    ERR_clear_error();
    t->ctx = SSL_CTX_new(TLS_client_method());
    t->biom = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "smtpc transport");
    if (t->ctx == NULL || t->biom == NULL)
        goto fail;
    if (BIO_meth_set_write(t->biom, bio_write_cb) != 1 ||
        BIO_meth_set_read(t->biom, bio_read_cb) != 1 ||
        BIO_meth_set_ctrl(t->biom, bio_ctrl_cb) != 1 ||
        BIO_meth_set_create(t->biom, bio_create_cb) != 1)
        goto fail;

    if (SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1)
        goto fail;
    /* No renegotiation (a TLS 1.2 attack surface SMTP never needs); an
     * end of stream without close_notify is an ordinary close, since SMTP
     * replies delimit themselves (servers often just hang up after QUIT). */
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION |
                                    SSL_OP_IGNORE_UNEXPECTED_EOF |
                                    SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);

    if (opt->cafile != NULL || opt->capath != NULL) {
        if (SSL_CTX_load_verify_locations(t->ctx, opt->cafile,
                                          opt->capath) != 1)
            goto fail;
    } else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
        goto fail;
    }
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(t->ctx, verify_cb, t);

    *out = t;
    return SMTPC_OK;

fail:
    ERR_clear_error();
    SSL_CTX_free(t->ctx);
    BIO_meth_free(t->biom);
    free(t);
    return SMTPC_ERR_TLS;
}

smtpc_transport smtpc_tls_transport(smtpc_tls *t)
{
    smtpc_transport tr;
    tr.ops = &tls_ops;
    tr.ctx = t;
    return tr;
}

const char *smtpc_tls_error(const smtpc_tls *t)
{
    return t != NULL ? t->err : "";
}

const char *smtpc_tls_info(const smtpc_tls *t)
{
    return t != NULL ? t->info : "";
}

void smtpc_tls_free(smtpc_tls *t)
{
    if (t == NULL)
        return;
    tls_close(t);
    SSL_CTX_free(t->ctx);
    BIO_meth_free(t->biom);
    if (t->out != NULL) {
        /* Ciphertext only, but it is cheap to leave nothing behind. */
        OPENSSL_cleanse(t->out, t->out_cap);
        free(t->out);
    }
    free(t);
}

const char *smtpc_tls_backend(void)
{
    return "openssl";
}
