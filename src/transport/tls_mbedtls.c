/*
 * tls_mbedtls.c - the TLS transport of smtpc/tls.h over mbedTLS 2.28.
 *
 * Only what talks to mbedTLS is here.  tls_common.c holds the rest, shared
 * with tls_openssl.c: the transport table (pass-through to the inner
 * transport until start_tls; send, recv, wait and the handshake loop over
 * the hooks below), the ciphertext output buffer and its flush, the
 * SHA-256 pin (decoding, constant-time match), IP literal parsing, the
 * error and info texts, and the public functions other than
 * smtpc_tls_new, smtpc_tls_free and smtpc_tls_backend.  So a program (and
 * the test suite) cannot tell the backends apart except by
 * smtpc_tls_backend() and the negotiated protocol:
 *
 *   - mbedTLS never sees a socket: mbedtls_ssl_set_bio callbacks move
 *     ciphertext through the inner transport, so TLS works over anything
 *     that fills in the transport table (POSIX TCP, lwIP, NetX Duo, a
 *     modem).  The send callback only appends to the common output buffer,
 *     so mbedtls_ssl_write never returns WANT_WRITE.
 *   - Incoming ciphertext is read straight from the inner transport; mbedTLS
 *     asks for exactly the bytes of the record it parses, so decrypted bytes
 *     not yet returned (mbedtls_ssl_get_bytes_avail) are all wait() needs.
 *   - Verification: required by default, against cafile / capath or the
 *     system bundle; the name checked is the host given to start_tls (SNI
 *     and certificate check through mbedtls_ssl_set_hostname; an IP literal
 *     is matched against the certificate's iPAddress entries here, since
 *     mbedTLS 2.28 does not, and is never sent as SNI); TLS 1.2 minimum;
 *     the optional SHA-256 pin of the SubjectPublicKeyInfo is checked in
 *     the verify callback, during the handshake, so a wrong pin aborts it
 *     with an alert.
 *   - Failure reasons use the same words as the OpenSSL backend for the
 *     cases users meet ("hostname mismatch", "certificate has expired",
 *     "self-signed certificate", "unable to get local issuer certificate",
 *     "public key pin mismatch"); anything else is mbedTLS's own text
 *     (mbedtls_x509_crt_verify_info, mbedtls_strerror).
 *
 * This file is outside the malloc-free core: mbedTLS allocates its record
 * buffers (tls_common.c the context and the ciphertext buffer).  Without
 * MBEDTLS_FS_IO (a device without files) cafile/capath cannot be used; the
 * system bundle path is SMTPC_MBEDTLS_CA_BUNDLE.
 */
#include <mbedtls/asn1.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h> /* MBEDTLS_ERR_NET_*: codes for the bio callbacks */
#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tls_common.h"

#if MBEDTLS_VERSION_NUMBER < 0x02100000 || MBEDTLS_VERSION_NUMBER >= 0x03000000
#error "tls_mbedtls.c is written for mbedTLS 2.16 .. 2.28"
#endif

/* The trust store used when neither cafile nor capath is given. */
#ifndef SMTPC_MBEDTLS_CA_BUNDLE
#define SMTPC_MBEDTLS_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#endif

/* Plaintext handed to one mbedtls_ssl_write: one full record.  A device
 * short of RAM may lower it (the ciphertext buffer holds one record). */
#ifndef SMTPC_MBEDTLS_WRITE_MAX
#define SMTPC_MBEDTLS_WRITE_MAX 16384
#endif

struct smtpc_tls {
    smtpc_tls_base base; /* first: see tls_common.h */

    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    int ssl_ready;        /* ssl is set up (between start_tls and close) */

    /* The IP literal being verified (start_tls host), 4 or 16 bytes. */
    unsigned char ip[16];
    size_t ip_len;

    int cert_seen;        /* the server sent a certificate: a full handshake */
    int session_saved;    /* this handshake's session went to opt.session */

    const char *verify_reason; /* set by the verify callback */
    int top_self_signed;       /* the chain's top certificate signed itself */
    int top_depth;             /* its depth (0: the server's own) */
};

/* tls_common.c relies on base coming first. */
typedef char smtpc_tls_base_first[offsetof(struct smtpc_tls, base) == 0 ? 1
                                                                     : -1];

/* ---- small helpers ---- */

/* "what: <mbedTLS's words for ret>". */
static void tls_set_mbed_err(smtpc_tls *t, const char *what, int ret)
{
    char buf[160];

    mbedtls_strerror(ret, buf, sizeof buf);
    smtpc_tls_err_set(t, what, buf);
}

/* ---- IP literals in certificates ---- */

/* Whether crt's subjectAltName holds iPAddress ip (RFC 5280 4.2.1.6).
 * mbedTLS 2.28 keeps only dNSName and otherName entries, so the extension
 * is walked here from the raw extensions. */
static int san_has_ip(const mbedtls_x509_crt *crt, const unsigned char *ip,
                      size_t ip_len)
{
    unsigned char *p = crt->v3_ext.p;
    const unsigned char *end;
    size_t len;

    if (p == NULL || crt->v3_ext.len == 0)
        return 0;
    end = p + crt->v3_ext.len;
    if (mbedtls_asn1_get_tag(&p, end, &len,
                             MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
        return 0;
    end = p + len;
    while (p < end) {
        const unsigned char *ext_end, *oid;
        size_t oid_len;
        int critical = 0;

        if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED |
                                                    MBEDTLS_ASN1_SEQUENCE))
            return 0;
        ext_end = p + len;
        if (mbedtls_asn1_get_tag(&p, ext_end, &oid_len, MBEDTLS_ASN1_OID))
            return 0;
        oid = p;
        p += oid_len;
        (void)mbedtls_asn1_get_bool(&p, ext_end, &critical);
        if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING))
            return 0;
        if (oid_len == MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME) &&
            memcmp(oid, MBEDTLS_OID_SUBJECT_ALT_NAME, oid_len) == 0) {
            const unsigned char *names_end;
            if (mbedtls_asn1_get_tag(&p, p + len, &len,
                                     MBEDTLS_ASN1_CONSTRUCTED |
                                         MBEDTLS_ASN1_SEQUENCE))
                return 0;
            names_end = p + len;
            while (p < names_end) {
                int tag = *p++;
                if (mbedtls_asn1_get_len(&p, names_end, &len))
                    return 0;
                /* iPAddress [7] IMPLICIT OCTET STRING */
                if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) &&
                    len == ip_len && memcmp(p, ip, ip_len) == 0)
                    return 1;
                p += len;
            }
            return 0;
        }
        p = (unsigned char *)(uintptr_t)ext_end;
    }
    return 0;
}

/* ---- the bio callbacks over the inner transport ---- */

static int bio_send_cb(void *ctx, const unsigned char *data, size_t len)
{
    smtpc_tls *t = ctx;

    if (len > INT_MAX)
        len = INT_MAX;
    if (smtpc_tls_out_append(t, data, len) != 0)
        return MBEDTLS_ERR_NET_SEND_FAILED;
    return (int)len;
}

static int bio_recv_cb(void *ctx, unsigned char *buf, size_t len)
{
    smtpc_tls *t = ctx;
    long n;

    if (len > INT_MAX)
        len = INT_MAX;
    n = smtpc_tls_inner_recv(t, buf, len);
    if (n > 0)
        return (int)n;
    if (n == 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    /* End of stream is EOF to mbedTLS (0), anything else a failure. */
    return n == SMTPC_ERR_CLOSED ? 0 : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* ---- certificate verification ---- */

/* Called for each certificate of the chain, from the top down to the
 * server's own (depth 0).  The reason kept is the one the OpenSSL backend
 * would give: the chain first, then validity, then the name, then the pin. */
static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth,
                     uint32_t *flags)
{
    smtpc_tls *t = ctx;
    uint32_t f = *flags;

    t->cert_seen = 1;

    if (f & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
        /* The top of the chain: nothing trusted signed it. */
        t->top_depth = depth;
        t->top_self_signed =
            crt->issuer_raw.len == crt->subject_raw.len &&
            memcmp(crt->issuer_raw.p, crt->subject_raw.p,
                   crt->subject_raw.len) == 0;
    }
    if (depth == 0 && t->ip_len != 0 && !san_has_ip(crt, t->ip, t->ip_len))
        f |= MBEDTLS_X509_BADCERT_CN_MISMATCH;

    if (t->verify_reason == NULL && f != 0) {
        if (f & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
            t->verify_reason =
                !t->top_self_signed ? "unable to get local issuer certificate"
                : t->top_depth == 0 ? "self-signed certificate"
                                    : "self-signed certificate in certificate chain";
        else if (f & MBEDTLS_X509_BADCERT_EXPIRED)
            t->verify_reason = "certificate has expired";
        else if (f & MBEDTLS_X509_BADCERT_FUTURE)
            t->verify_reason = "certificate is not yet valid";
        else if (f & MBEDTLS_X509_BADCERT_REVOKED)
            t->verify_reason = "certificate revoked";
        else if (f & MBEDTLS_X509_BADCERT_CN_MISMATCH)
            t->verify_reason =
                t->ip_len ? "IP address mismatch" : "hostname mismatch";
    }
    if (t->base.opt.insecure_skip_verify) {
        /* The caller asked for no verification; a pin still counts. */
        f = 0;
        t->verify_reason = NULL;
    }
    if (depth == 0 && t->base.have_pin) {
        unsigned char md[SMTPC_TLS_PIN_LEN];
        int ok = mbedtls_sha256_ret(crt->pk_raw.p, crt->pk_raw.len, md, 0) == 0 &&
                 smtpc_tls_pin_match(t, md);
        if (!ok && f == 0) {
            t->base.pin_failed = 1;
            t->verify_reason = "public key pin mismatch";
            f |= MBEDTLS_X509_BADCERT_OTHER;
        }
    }
    *flags = f;
    return 0;
}

/* After a failed handshake: the message and the status. */
static int handshake_failure(smtpc_tls *t, int ret)
{
    uint32_t vr = mbedtls_ssl_get_verify_result(&t->ssl);

    if (t->base.pin_failed) {
        smtpc_tls_err_set(t, "public key pin mismatch", NULL);
        return SMTPC_ERR_TLS_CERT;
    }
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED ||
        (vr != 0 && vr != (uint32_t)-1 &&
         ret == MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE)) {
        if (t->verify_reason != NULL) {
            smtpc_tls_err_set(t, t->verify_reason, NULL);
        } else {
            char buf[200], *nl;
            mbedtls_x509_crt_verify_info(buf, sizeof buf, "", vr);
            nl = strchr(buf, '\n');
            if (nl != NULL)
                *nl = '\0';
            smtpc_tls_err_set(t, buf[0] ? buf
                                        : "certificate verification failed",
                              NULL);
        }
        return SMTPC_ERR_TLS_CERT;
    }
    if (t->base.oom) {
        smtpc_tls_err_set(t, "out of memory", NULL);
        return SMTPC_ERR_TLS;
    }
    if (t->base.inner_err != 0 && ret != MBEDTLS_ERR_SSL_CONN_EOF) {
        smtpc_tls_err_inner_set(t, t->base.inner_err);
        return t->base.inner_err;
    }
    if (ret == MBEDTLS_ERR_SSL_CONN_EOF) {
        smtpc_tls_err_set(t, "TLS handshake failed (connection closed)", NULL);
        return SMTPC_ERR_TLS;
    }
    if (ret == MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION) {
        smtpc_tls_err_set(
            t, "TLS handshake failed: unsupported protocol version", NULL);
        return SMTPC_ERR_TLS;
    }
    if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && t->ssl.in_msg != NULL) {
        /* The alert the server sent: its description byte. */
        static const struct {
            unsigned char code;
            const char *name;
        } alerts[] = {
            {10, "unexpected message"},   {20, "bad record mac"},
            {40, "handshake failure"},    {42, "bad certificate"},
            {43, "unsupported certificate"}, {46, "certificate unknown"},
            {47, "illegal parameter"},    {48, "unknown ca"},
            {50, "decode error"},         {51, "decrypt error"},
            {70, "protocol version"},     {71, "insufficient security"},
            {80, "internal error"},       {86, "inappropriate fallback"},
            {109, "missing extension"},   {112, "unrecognized name"},
        };
        unsigned char code = t->ssl.in_msg[1];
        size_t i;
        for (i = 0; i < sizeof alerts / sizeof alerts[0]; i++) {
            if (alerts[i].code == code) {
                smtpc_tls_err_set(t,
                                  "TLS handshake failed: alert from the server",
                                  alerts[i].name);
                return SMTPC_ERR_TLS;
            }
        }
        snprintf(t->base.err, sizeof t->base.err,
                 "TLS handshake failed: alert %u from the server", code);
        return SMTPC_ERR_TLS;
    }
    tls_set_mbed_err(t, "TLS handshake failed", ret);
    return SMTPC_ERR_TLS;
}

/* The outcome of an mbedtls_ssl_read or _write that returned ret, for the
 * hooks (0 means something else to each: they handle it); what failed is
 * named by what. */
static int io_result(smtpc_tls *t, int ret, size_t *done, const char *what)
{
    if (ret > 0) {
        *done = (size_t)ret;
        return SMTPC_TLS_DONE;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ)
        return SMTPC_TLS_WANT_READ;
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return SMTPC_TLS_WANT_WRITE;
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
        ret == MBEDTLS_ERR_SSL_CONN_EOF)
        return SMTPC_ERR_CLOSED;
    if (t->base.oom) {
        smtpc_tls_err_set(t, "out of memory", NULL);
        return SMTPC_ERR_TLS;
    }
    if (t->base.inner_err != 0)
        return t->base.inner_err;
    tls_set_mbed_err(t, what, ret);
    return SMTPC_ERR_TLS;
}

/* ---- session resumption (TLS 1.2: tickets and session IDs) ---- */

/* After the handshake: the session (resumed or new, with the ticket the
 * server may have sent) goes to the caller's storage. */
static void session_save(smtpc_tls *t)
{
    unsigned char *p;
    size_t cap, n = 0;

    if (t->session_saved || t->base.opt.session == NULL)
        return;
    t->session_saved = 1;
    p = smtpc_tls_session_begin(t, &cap);
    if (p == NULL)
        return;
    if (mbedtls_ssl_session_save(mbedtls_ssl_get_session_pointer(&t->ssl), p,
                                 cap, &n) != 0) {
        smtpc_wipe(p, cap); /* a partial write */
        n = 0;
    }
    smtpc_tls_session_end(t, n);
}

/* SHA-256 over the DER of every trust anchor loaded. */
static int ca_digest(smtpc_tls *t, unsigned char out[SMTPC_TLS_PIN_LEN])
{
    mbedtls_sha256_context md;
    const mbedtls_x509_crt *c;
    int ok;

    mbedtls_sha256_init(&md);
    ok = mbedtls_sha256_starts_ret(&md, 0) == 0;
    for (c = &t->ca; ok && c != NULL; c = c->next)
        if (c->raw.p != NULL)
            ok = mbedtls_sha256_update_ret(&md, c->raw.p, c->raw.len) == 0;
    ok = ok && mbedtls_sha256_finish_ret(&md, out) == 0;
    mbedtls_sha256_free(&md);
    return ok ? 0 : -1;
}

int smtpc_tls_lib_sha256(const void *data, size_t len,
                         unsigned char out[SMTPC_TLS_PIN_LEN])
{
    return mbedtls_sha256_ret(data, len, out, 0) == 0 ? 0 : -1;
}

int smtpc_tls_lib_session_offer(smtpc_tls *t, const unsigned char *p,
                                size_t n)
{
    mbedtls_ssl_session sess;
    int ok;

    mbedtls_ssl_session_init(&sess);
    /* mbedtls_ssl_session_load refuses a session saved by another version
     * or configuration of mbedTLS. */
    ok = mbedtls_ssl_session_load(&sess, p, n) == 0 &&
         mbedtls_ssl_set_session(&t->ssl, &sess) == 0;
    mbedtls_ssl_session_free(&sess); /* zeroizes; ssl has its own copy */
    return ok ? 0 : -1;
}

int smtpc_tls_lib_session_reused(const smtpc_tls *t)
{
    /* An abbreviated handshake carries no certificate, so the verify
     * callback never ran. */
    return !t->cert_seen;
}

/* ---- the hooks of tls_common.h ---- */

int smtpc_tls_lib_session_new(smtpc_tls *t, const char *host,
                              const unsigned char *ip, size_t ip_len)
{
    int ret;

    mbedtls_ssl_init(&t->ssl);
    t->ssl_ready = 1;
    ret = mbedtls_ssl_setup(&t->ssl, &t->conf);
    if (ret != 0) {
        tls_set_mbed_err(t, "cannot create the TLS session", ret);
        return SMTPC_ERR_TLS;
    }
    /* An IP literal is matched in verify_cb and, as RFC 6066 says, never
     * sent as SNI. */
    memcpy(t->ip, ip, ip_len);
    t->ip_len = ip_len;
    ret = mbedtls_ssl_set_hostname(&t->ssl, ip_len != 0 ? NULL : host);
    if (ret != 0) {
        tls_set_mbed_err(t, "bad host name", ret);
        return SMTPC_ERR_ARG;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send_cb, bio_recv_cb, NULL);
    return SMTPC_OK;
}

int smtpc_tls_lib_handshake_step(smtpc_tls *t)
{
    int ret = mbedtls_ssl_handshake(&t->ssl);

    if (ret == 0) {
        session_save(t);
        return SMTPC_TLS_DONE;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ)
        return SMTPC_TLS_WANT_READ;
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return SMTPC_TLS_WANT_WRITE;
    return handshake_failure(t, ret);
}

int smtpc_tls_lib_write(smtpc_tls *t, const void *data, size_t len,
                        size_t *done)
{
    int n;

    if (len > SMTPC_MBEDTLS_WRITE_MAX)
        len = SMTPC_MBEDTLS_WRITE_MAX;
    n = mbedtls_ssl_write(&t->ssl, data, len);
    if (n == 0)
        return SMTPC_TLS_WANT_WRITE; /* nothing taken: try again later */
    return io_result(t, n, done, "TLS write failed");
}

int smtpc_tls_lib_read(smtpc_tls *t, void *buf, size_t len, size_t *done)
{
    int n = mbedtls_ssl_read(&t->ssl, buf, len);

    if (n == 0)
        return SMTPC_ERR_CLOSED; /* the end of the stream */
    return io_result(t, n, done, "TLS read failed");
}

int smtpc_tls_lib_pending(const smtpc_tls *t)
{
    return mbedtls_ssl_get_bytes_avail(&t->ssl) > 0;
}

const char *smtpc_tls_lib_version(const smtpc_tls *t)
{
    return mbedtls_ssl_get_version(&t->ssl);
}

const char *smtpc_tls_lib_cipher(const smtpc_tls *t)
{
    return mbedtls_ssl_get_ciphersuite(&t->ssl);
}

void smtpc_tls_lib_params(const smtpc_tls *t, char *buf, size_t len)
{
    /* mbedTLS 2 does not say which group or signature was used. */
    (void)t;
    if (len)
        buf[0] = '\0';
}

static void x509_time_text(const mbedtls_x509_time *tm, char *out, size_t len)
{
    snprintf(out, len, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm->year, tm->mon,
             tm->day, tm->hour, tm->min, tm->sec);
}

int smtpc_tls_lib_peer_cert(const smtpc_tls *t, size_t i, smtpc_tls_cert *out)
{
    /* Kept with MBEDTLS_SSL_KEEP_PEER_CERTIFICATE (the default): the
     * server's certificate, then the rest of the chain it sent. */
    const mbedtls_x509_crt *crt = t->ssl_ready ?
                                  mbedtls_ssl_get_peer_cert(&t->ssl) : NULL;
    unsigned char md[32];

    while (crt != NULL && crt->raw.p != NULL && i > 0) {
        crt = crt->next;
        i--;
    }
    if (crt == NULL || crt->raw.p == NULL)
        return SMTPC_ERR_ARG;
    if (mbedtls_x509_dn_gets(out->subject, sizeof out->subject,
                             &crt->subject) < 0)
        out->subject[0] = '\0';
    if (mbedtls_x509_dn_gets(out->issuer, sizeof out->issuer,
                             &crt->issuer) < 0)
        out->issuer[0] = '\0';
    x509_time_text(&crt->valid_from, out->not_before, sizeof out->not_before);
    x509_time_text(&crt->valid_to, out->not_after, sizeof out->not_after);
    snprintf(out->key, sizeof out->key, "%s %u bits",
             mbedtls_pk_get_name(&crt->pk),
             (unsigned)mbedtls_pk_get_bitlen(&crt->pk));
    if (mbedtls_sha256_ret(crt->raw.p, crt->raw.len, md, 0) == 0)
        smtpc_tls_hex_digest(md, out->sha256);
    return SMTPC_OK;
}

void smtpc_tls_lib_close_notify(smtpc_tls *t)
{
    (void)mbedtls_ssl_close_notify(&t->ssl);
}

void smtpc_tls_lib_session_free(smtpc_tls *t)
{
    if (t->ssl_ready) {
        mbedtls_ssl_free(&t->ssl);
        t->ssl_ready = 0;
    }
    t->verify_reason = NULL;
    t->top_self_signed = 0;
    t->top_depth = 0;
    t->cert_seen = 0;
    t->session_saved = 0;
}

/* ---- public functions ---- */

/* Loads the trust anchors: SMTPC_OK, or SMTPC_ERR_TLS when a file or
 * directory the caller named cannot be used.  A missing system bundle is
 * not an error here: every certificate is then untrusted, as with
 * OpenSSL's empty default store. */
static int load_trust(smtpc_tls *t, const smtpc_tls_options *opt)
{
#if defined(MBEDTLS_FS_IO)
    int ret;

    if (opt->cafile == NULL && opt->capath == NULL) {
        (void)mbedtls_x509_crt_parse_file(&t->ca, SMTPC_MBEDTLS_CA_BUNDLE);
        return SMTPC_OK;
    }
    if (opt->cafile != NULL) {
        /* > 0: some certificates of the bundle could not be parsed; the
         * others are used. */
        ret = mbedtls_x509_crt_parse_file(&t->ca, opt->cafile);
        if (ret < 0 || t->ca.version == 0)
            return SMTPC_ERR_TLS;
    }
    if (opt->capath != NULL) {
        ret = mbedtls_x509_crt_parse_path(&t->ca, opt->capath);
        if (ret < 0 || t->ca.version == 0)
            return SMTPC_ERR_TLS;
    }
    return SMTPC_OK;
#else
    (void)t;
    return (opt->cafile != NULL || opt->capath != NULL) ? SMTPC_ERR_TLS
                                                         : SMTPC_OK;
#endif
}

int smtpc_tls_new(smtpc_tls **out, smtpc_transport inner,
                  const smtpc_tls_options *opt)
{
    static const char pers[] = "smtpc tls_mbedtls";
    smtpc_tls *t;
    int authmode, st;

    if (out == NULL)
        return SMTPC_ERR_ARG;
    *out = NULL;
    st = smtpc_tls_base_new(&t, sizeof *t, inner, opt);
    if (st != SMTPC_OK)
        return st;
    opt = &t->base.opt;
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_ssl_config_init(&t->conf);

    if (mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
                              (const unsigned char *)pers, sizeof pers - 1) != 0)
        goto fail;
    if (load_trust(t, opt) != SMTPC_OK)
        goto fail;
    if (mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
                                    MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0)
        goto fail;
    mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    /* Without verification (and without a pin) nothing may stop the
     * handshake, not even mbedTLS's own key-usage checks; with a pin the
     * callback clears every flag but the pin's. */
    authmode = (opt->insecure_skip_verify && !t->base.have_pin)
                   ? MBEDTLS_SSL_VERIFY_OPTIONAL
                   : MBEDTLS_SSL_VERIFY_REQUIRED;
    mbedtls_ssl_conf_authmode(&t->conf, authmode);
    mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
    mbedtls_ssl_conf_verify(&t->conf, verify_cb, t);
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    /* A TLS 1.2 attack surface that SMTP never needs. */
    mbedtls_ssl_conf_renegotiation(&t->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    /* Tickets only when the caller keeps sessions (session IDs need no
     * setting). */
    mbedtls_ssl_conf_session_tickets(&t->conf,
                                     opt->session != NULL
                                         ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                         : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
    if (opt->session != NULL && ca_digest(t, t->base.ca_digest) != 0)
        goto fail;
    *out = t;
    return SMTPC_OK;

fail:
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
    smtpc_tls_base_free(t);
    return SMTPC_ERR_TLS;
}

void smtpc_tls_free(smtpc_tls *t)
{
    if (t == NULL)
        return;
    smtpc_tls_close(t);
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
    smtpc_tls_base_free(t);
}

const char *smtpc_tls_backend(void)
{
    return "mbedtls";
}
