/*
 * tls_openssl.c - the TLS transport of smtpc/tls.h over OpenSSL 3.
 *
 * Only what talks to OpenSSL is here.  tls_common.c holds the rest, shared
 * with tls_mbedtls.c: the transport table (pass-through to the inner
 * transport until start_tls; send, recv, wait and the handshake loop over
 * the hooks below), the ciphertext output buffer and its flush, the
 * SHA-256 pin (decoding, constant-time match), IP literal detection, the
 * error and info texts, and the public functions other than
 * smtpc_tls_new, smtpc_tls_free and smtpc_tls_backend.
 *
 * OpenSSL never sees a file descriptor: a custom BIO moves ciphertext
 * through the inner transport.  Its write callback only appends to the
 * common output buffer, so SSL_write never fails with WANT_WRITE, and out
 * holds at most one SSL_write's worth (one record plus overhead, bounded by
 * TLS_WRITE_MAX).  Its read callback reads straight from the inner
 * transport: without read-ahead OpenSSL asks for exactly the bytes of the
 * record it is parsing, so nothing it has not processed sits in its
 * buffers, and SSL_pending() is all wait() needs to look at.
 *
 * This file is outside the malloc-free core: OpenSSL allocates, so do we.
 */
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tls_common.h"

/* Plaintext handed to one SSL_write: one full record. */
#define TLS_WRITE_MAX 16384

struct smtpc_tls {
    smtpc_tls_base base; /* first: see tls_common.h */

    SSL_CTX *ctx;
    BIO_METHOD *biom;
    SSL *ssl; /* NULL until start_tls, and again after close */
};

/* tls_common.c relies on base coming first. */
typedef char smtpc_tls_base_first[offsetof(struct smtpc_tls, base) == 0 ? 1
                                                                     : -1];

/* ---- small helpers ---- */

/* The reason of the newest OpenSSL error in words ("wrong version
 * number", "tlsv1 alert protocol version") after what, or what alone when
 * there is none. */
static void tls_set_ssl_err(smtpc_tls *t, const char *what)
{
    unsigned long e = ERR_peek_last_error();

    smtpc_tls_err_set(t, what, e ? ERR_reason_error_string(e) : NULL);
    ERR_clear_error();
}

/* ---- the BIO over the inner transport ---- */

static int bio_write_cb(BIO *b, const char *data, int len)
{
    smtpc_tls *t = BIO_get_data(b);

    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    if (smtpc_tls_out_append(t, data, (size_t)len) != 0)
        return -1;
    return len;
}

static int bio_read_cb(BIO *b, char *buf, int len)
{
    smtpc_tls *t = BIO_get_data(b);
    long n;

    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    n = smtpc_tls_inner_recv(t, buf, (size_t)len);
    if (n > 0)
        return (int)n;
    if (n == 0) {
        BIO_set_retry_read(b);
        return -1;
    }
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
        /* Flushing happens in tls_common.c, driven by the transport calls. */
        return 1;
    case BIO_CTRL_EOF:
        return t != NULL && t->base.inner_err == SMTPC_ERR_CLOSED;
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

    if (t->base.opt.insecure_skip_verify) {
        /* The caller asked for no verification: every chain and name is
         * accepted; a pin, when given, still is enforced. */
        ok = 1;
        X509_STORE_CTX_set_error(x, X509_V_OK);
    }
    if (ok > 0 && t->base.have_pin) {
        X509 *leaf = X509_STORE_CTX_get0_cert(x);
        unsigned char *der = NULL;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        int derlen = leaf ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &der)
                          : -1;
        int match = derlen > 0 &&
                    EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(),
                               NULL) == 1 &&
                    mdlen == SMTPC_TLS_PIN_LEN && smtpc_tls_pin_match(t, md);
        OPENSSL_free(der);
        if (!match) {
            t->base.pin_failed = 1;
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

    if (t->base.pin_failed) {
        smtpc_tls_err_set(t, "public key pin mismatch", NULL);
        ERR_clear_error();
        return SMTPC_ERR_TLS_CERT;
    }
    if (vr != X509_V_OK) {
        smtpc_tls_err_set(t, X509_verify_cert_error_string(vr), NULL);
        ERR_clear_error();
        return SMTPC_ERR_TLS_CERT;
    }
    if (t->base.oom) {
        smtpc_tls_err_set(t, "out of memory", NULL);
        return SMTPC_ERR_TLS;
    }
    if (t->base.inner_err != 0 && ERR_peek_last_error() == 0) {
        smtpc_tls_err_inner_set(t, t->base.inner_err);
        return t->base.inner_err;
    }
    if (ssl_err == SSL_ERROR_ZERO_RETURN ||
        t->base.inner_err == SMTPC_ERR_CLOSED) {
        /* The server hung up: an error message from OpenSSL (if any) says
         * more than "closed". */
        tls_set_ssl_err(t, "TLS handshake failed (connection closed)");
        return SMTPC_ERR_TLS;
    }
    tls_set_ssl_err(t, "TLS handshake failed");
    return SMTPC_ERR_TLS;
}

/* The outcome of an SSL_read or SSL_write that returned n, for the
 * hooks: what failed is named by what. */
static int io_result(smtpc_tls *t, int n, size_t *done, const char *what)
{
    int ssl_err;

    if (n > 0) {
        *done = (size_t)n;
        return SMTPC_TLS_DONE;
    }
    ssl_err = SSL_get_error(t->ssl, n);
    if (ssl_err == SSL_ERROR_WANT_READ)
        return SMTPC_TLS_WANT_READ;
    if (ssl_err == SSL_ERROR_WANT_WRITE)
        return SMTPC_TLS_WANT_WRITE;
    if (ssl_err == SSL_ERROR_ZERO_RETURN)
        return SMTPC_ERR_CLOSED;
    if (t->base.oom) {
        smtpc_tls_err_set(t, "out of memory", NULL);
        return SMTPC_ERR_TLS;
    }
    if (t->base.inner_err != 0 && ERR_peek_last_error() == 0) {
        ERR_clear_error();
        return t->base.inner_err;
    }
    tls_set_ssl_err(t, what);
    return SMTPC_ERR_TLS;
}

/* ---- session resumption ---- */

/* OpenSSL calls this with every new session: at the end of a full TLS 1.2
 * handshake, and for each TLS 1.3 NewSessionTicket (read after the
 * handshake).  The session goes to the caller's storage; 0: OpenSSL keeps
 * its reference. */
static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    smtpc_tls *t = SSL_get_app_data(ssl);
    unsigned char *p;
    size_t cap;
    int n;

    if (t == NULL || !SSL_SESSION_is_resumable(sess))
        return 0;
    p = smtpc_tls_session_begin(t, &cap);
    if (p == NULL)
        return 0;
    n = i2d_SSL_SESSION(sess, NULL);
    if (n <= 0 || (size_t)n > cap) {
        smtpc_tls_session_end(t, 0);
        return 0;
    }
    n = i2d_SSL_SESSION(sess, &p);
    smtpc_tls_session_end(t, n > 0 ? (size_t)n : 0);
    return 0;
}

/* SHA-256 over the DER of every certificate in the context's trust store
 * as loaded (a capath's certificates are loaded later, on demand: its
 * name is in the fingerprint instead). */
static int ca_digest(smtpc_tls *t, unsigned char out[SMTPC_TLS_PIN_LEN])
{
    STACK_OF(X509_OBJECT) *objs =
        X509_STORE_get0_objects(SSL_CTX_get_cert_store(t->ctx));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int len = 0;
    int i, ok;

    ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    for (i = 0; ok && i < sk_X509_OBJECT_num(objs); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int dl = 0;
        if (x == NULL)
            continue;
        ok = X509_digest(x, EVP_sha256(), d, &dl) == 1 &&
             EVP_DigestUpdate(md, d, dl) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(md, out, &len) == 1 &&
         len == SMTPC_TLS_PIN_LEN;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

int smtpc_tls_lib_sha256(const void *data, size_t len,
                         unsigned char out[SMTPC_TLS_PIN_LEN])
{
    unsigned int n = 0;

    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 ||
        n != SMTPC_TLS_PIN_LEN) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

int smtpc_tls_lib_session_offer(smtpc_tls *t, const unsigned char *p,
                                size_t n)
{
    const unsigned char *q = p;
    SSL_SESSION *sess;
    int ok;

    if (n > LONG_MAX)
        return -1;
    sess = d2i_SSL_SESSION(NULL, &q, (long)n);
    /* All of it must be one session, of a kind this client would make. */
    ok = sess != NULL && q == p + n && SSL_SESSION_is_resumable(sess) &&
         SSL_set_session(t->ssl, sess) == 1;
    SSL_SESSION_free(sess); /* SSL_set_session took its own reference */
    ERR_clear_error();
    return ok ? 0 : -1;
}

int smtpc_tls_lib_session_reused(const smtpc_tls *t)
{
    return SSL_session_reused(t->ssl) == 1;
}

/* ---- the hooks of tls_common.h ---- */

int smtpc_tls_lib_session_new(smtpc_tls *t, const char *host,
                              const unsigned char *ip, size_t ip_len)
{
    BIO *bio;

    ERR_clear_error();
    t->ssl = SSL_new(t->ctx);
    bio = BIO_new(t->biom);
    if (t->ssl == NULL || bio == NULL) {
        BIO_free(bio);
        tls_set_ssl_err(t, "cannot create the TLS session");
        return SMTPC_ERR_TLS;
    }
    BIO_set_data(bio, t);
    SSL_set_bio(t->ssl, bio, bio);
    SSL_set_app_data(t->ssl, t); /* for new_session_cb */

    if (ip_len != 0) {
        /* Checked against the certificate's IP addresses; no SNI. */
        if (X509_VERIFY_PARAM_set1_ip(SSL_get0_param(t->ssl), ip, ip_len) !=
            1) {
            tls_set_ssl_err(t, "bad IP address");
            return SMTPC_ERR_ARG;
        }
    } else {
        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(t->ssl, host) != 1 ||
            SSL_set_tlsext_host_name(t->ssl, host) != 1) {
            tls_set_ssl_err(t, "bad host name");
            return SMTPC_ERR_ARG;
        }
    }
    SSL_set_connect_state(t->ssl);
    return SMTPC_OK;
}

int smtpc_tls_lib_handshake_step(smtpc_tls *t)
{
    int r, e;

    ERR_clear_error();
    r = SSL_do_handshake(t->ssl);
    if (r == 1)
        return SMTPC_TLS_DONE;
    e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return SMTPC_TLS_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return SMTPC_TLS_WANT_WRITE;
    return handshake_failure(t, e);
}

int smtpc_tls_lib_write(smtpc_tls *t, const void *data, size_t len,
                        size_t *done)
{
    if (len > TLS_WRITE_MAX)
        len = TLS_WRITE_MAX;
    ERR_clear_error();
    return io_result(t, SSL_write(t->ssl, data, (int)len), done,
                     "TLS write failed");
}

int smtpc_tls_lib_read(smtpc_tls *t, void *buf, size_t len, size_t *done)
{
    ERR_clear_error();
    return io_result(t, SSL_read(t->ssl, buf, (int)len), done,
                     "TLS read failed");
}

int smtpc_tls_lib_pending(const smtpc_tls *t)
{
    return SSL_pending(t->ssl) > 0;
}

const char *smtpc_tls_lib_version(const smtpc_tls *t)
{
    return SSL_get_version(t->ssl);
}

const char *smtpc_tls_lib_cipher(const smtpc_tls *t)
{
    return SSL_get_cipher_name(t->ssl);
}

void smtpc_tls_lib_params(const smtpc_tls *t, char *buf, size_t len)
{
    int group = SSL_get_negotiated_group(t->ssl);
    int sig = NID_undef;
    size_t o = 0;

    buf[0] = '\0';
    if (group != 0 && group != NID_undef) {
        const char *name = SSL_group_to_name(t->ssl, group);
        o = (size_t)snprintf(buf, len, "group %s", name ? name : "?");
    }
    if (o < len && SSL_get_peer_signature_type_nid(t->ssl, &sig) == 1 &&
        sig != NID_undef) {
        int md = NID_undef;
        (void)SSL_get_peer_signature_nid(t->ssl, &md);
        snprintf(buf + o, len - o, "%sserver signature %s%s%s",
                 o ? ", " : "", OBJ_nid2sn(sig), md != NID_undef ? " " : "",
                 md != NID_undef ? OBJ_nid2sn(md) : "");
    }
}

/* name in RFC 2253 order, into out. */
static void name_text(const X509_NAME *name, char *out, size_t len)
{
    BIO *m = BIO_new(BIO_s_mem());
    int n;

    out[0] = '\0';
    if (m == NULL)
        return;
    if (X509_NAME_print_ex(m, name, 0, XN_FLAG_RFC2253) >= 0) {
        n = BIO_read(m, out, (int)len - 1);
        out[n > 0 ? n : 0] = '\0';
    }
    BIO_free(m);
}

static void time_text(const ASN1_TIME *at, char *out, size_t len)
{
    struct tm tm;

    out[0] = '\0';
    if (at != NULL && ASN1_TIME_to_tm(at, &tm) == 1)
        strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

int smtpc_tls_lib_peer_cert(const smtpc_tls *t, size_t i, smtpc_tls_cert *out)
{
    /* On a client the chain holds the server's own certificate first. */
    STACK_OF(X509) *chain = t->ssl ? SSL_get_peer_cert_chain(t->ssl) : NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    EVP_PKEY *pk;
    X509 *x;

    if (chain == NULL || i >= (size_t)sk_X509_num(chain))
        return SMTPC_ERR_ARG;
    x = sk_X509_value(chain, (int)i);
    name_text(X509_get_subject_name(x), out->subject, sizeof out->subject);
    name_text(X509_get_issuer_name(x), out->issuer, sizeof out->issuer);
    time_text(X509_get0_notBefore(x), out->not_before, sizeof out->not_before);
    time_text(X509_get0_notAfter(x), out->not_after, sizeof out->not_after);
    pk = X509_get0_pubkey(x);
    if (pk != NULL) {
        const char *type = EVP_PKEY_get0_type_name(pk);
        snprintf(out->key, sizeof out->key, "%s %d bits", type ? type : "?",
                 EVP_PKEY_get_bits(pk));
    }
    if (X509_digest(x, EVP_sha256(), md, &md_len) == 1 && md_len == 32)
        smtpc_tls_hex_digest(md, out->sha256);
    return SMTPC_OK;
}

void smtpc_tls_lib_close_notify(smtpc_tls *t)
{
    ERR_clear_error();
    (void)SSL_shutdown(t->ssl);
    ERR_clear_error();
}

void smtpc_tls_lib_session_free(smtpc_tls *t)
{
    if (t->ssl != NULL) {
        SSL_free(t->ssl); /* frees the BIO too */
        t->ssl = NULL;
    }
}

/* ---- public functions ---- */

int smtpc_tls_new(smtpc_tls **out, smtpc_transport inner,
                  const smtpc_tls_options *opt)
{
    smtpc_tls *t;
    int st;

    if (out == NULL)
        return SMTPC_ERR_ARG;
    *out = NULL;
    st = smtpc_tls_base_new(&t, sizeof *t, inner, opt);
    if (st != SMTPC_OK)
        return st;
    opt = &t->base.opt;

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
    if (opt->session != NULL) {
        /* Sessions go to the caller's storage, not to OpenSSL's cache. */
        SSL_CTX_set_session_cache_mode(t->ctx,
                                       SSL_SESS_CACHE_CLIENT |
                                           SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(t->ctx, new_session_cb);
    } else {
        SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
    }

    if (opt->cafile != NULL || opt->capath != NULL) {
        if (SSL_CTX_load_verify_locations(t->ctx, opt->cafile,
                                          opt->capath) != 1)
            goto fail;
    } else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
        goto fail;
    }
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(t->ctx, verify_cb, t);
    if (opt->session != NULL && ca_digest(t, t->base.ca_digest) != 0)
        goto fail;

    *out = t;
    return SMTPC_OK;

fail:
    ERR_clear_error();
    SSL_CTX_free(t->ctx);
    BIO_meth_free(t->biom);
    smtpc_tls_base_free(t);
    return SMTPC_ERR_TLS;
}

void smtpc_tls_free(smtpc_tls *t)
{
    if (t == NULL)
        return;
    smtpc_tls_close(t);
    SSL_CTX_free(t->ctx);
    BIO_meth_free(t->biom);
    smtpc_tls_base_free(t);
}

const char *smtpc_tls_backend(void)
{
    return "openssl";
}
