/*
 * tls_mbedtls.c - the TLS transport of smtpc/tls.h over mbedTLS 2.28.
 *
 * Same contract and same design as tls_openssl.c, so that a program (and
 * the test suite) cannot tell the backends apart except by
 * smtpc_tls_backend() and the negotiated protocol:
 *
 *   - mbedTLS never sees a socket: mbedtls_ssl_set_bio callbacks move
 *     ciphertext through the inner transport's send and recv, so TLS works
 *     over anything that fills in the transport table (POSIX TCP, lwIP,
 *     NetX Duo, a modem).
 *   - Outgoing ciphertext is collected in a buffer of our own rather than
 *     pushed into the inner transport from inside mbedTLS.  mbedtls_ssl_write
 *     then never returns WANT_WRITE, which would oblige the caller to retry
 *     with the very same bytes - a promise the transport contract ("0:
 *     nothing sent, try again later") does not make.  send() accepts new
 *     plaintext only once the previous ciphertext has left.
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
 * This file is outside the malloc-free core: it allocates its context and
 * its ciphertext buffer, and mbedTLS allocates its record buffers.
 * Without MBEDTLS_FS_IO (a device without files) cafile/capath cannot be
 * used; the system bundle path is SMTPC_MBEDTLS_CA_BUNDLE.
 */
#include <mbedtls/asn1.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h> /* MBEDTLS_ERR_NET_*: codes for the bio callbacks */
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpc/tls.h"

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

#define TLS_HOST_MAX 255
#define PIN_LEN 32 /* SHA-256 */

struct smtpc_tls {
    smtpc_transport inner;
    smtpc_tls_options opt;
    unsigned char pin[PIN_LEN];
    int have_pin;

    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    int ssl_ready;        /* ssl is set up (between start_tls and close) */
    int active;           /* handshake done: send/recv/wait go through TLS */
    int write_wants_read; /* the last mbedtls_ssl_write returned WANT_READ */

    /* The IP literal being verified (start_tls host), 4 or 16 bytes. */
    unsigned char ip[16];
    size_t ip_len;

    /* Ciphertext waiting for the inner transport: out[out_head..out_len). */
    unsigned char *out;
    size_t out_len, out_head, out_cap;

    int inner_err;   /* the inner transport failed with this status */
    int oom;         /* the ciphertext buffer could not grow */
    int pin_failed;  /* the verify callback refused the pin */
    const char *verify_reason; /* set by the verify callback */
    int top_self_signed;       /* the chain's top certificate signed itself */
    int top_depth;             /* its depth (0: the server's own) */

    char err[256];
    char info[96];
};

/* ---- small helpers ---- */

static void tls_set_err(smtpc_tls *t, const char *msg)
{
    snprintf(t->err, sizeof t->err, "%s", msg);
}

/* "what: <mbedTLS's words for ret>". */
static void tls_set_mbed_err(smtpc_tls *t, const char *what, int ret)
{
    char buf[160];

    mbedtls_strerror(ret, buf, sizeof buf);
    snprintf(t->err, sizeof t->err, "%s: %s", what, buf);
}

/* Compares without leaking where the first difference is. */
static int ct_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
    unsigned char d = 0;
    size_t i;

    for (i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
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
    /* 43 symbols carry 258 bits: the two left over MUST be zero. */
    return (n == PIN_LEN && acc == 0) ? 0 : -1;
}

/* ---- IP literals (no inet_pton: this file also runs on devices) ---- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Dotted quad s[0..len) into out[4]: 1, or 0 when it is not one. */
static int parse_ipv4(const char *s, size_t len, unsigned char out[4])
{
    size_t i = 0;
    int part;

    for (part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        if (part > 0) {
            if (i >= len || s[i] != '.')
                return 0;
            i++;
        }
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (digits > 0 && v == 0)
                return 0; /* no leading zeros (octal ambiguity) */
            v = v * 10 + (unsigned)(s[i] - '0');
            if (v > 255 || ++digits > 3)
                return 0;
            i++;
        }
        if (digits == 0)
            return 0;
        out[part] = (unsigned char)v;
    }
    return i == len;
}

/* RFC 4291 text form (with "::" and a trailing dotted quad) into out[16]. */
static int parse_ipv6(const char *s, size_t len, unsigned char out[16])
{
    unsigned char w[16];
    size_t i = 0, n = 0; /* n: bytes written to w */
    long gap = -1;       /* where "::" stands, in bytes */

    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    } else if (len > 0 && s[0] == ':') {
        return 0;
    }
    while (i < len) {
        size_t start = i;
        unsigned v = 0;
        int digits = 0, h;
        while (i < len && (h = hexval((unsigned char)s[i])) >= 0 && digits < 5) {
            v = (v << 4) | (unsigned)h;
            digits++;
            i++;
        }
        if (i < len && s[i] == '.') {
            /* a dotted quad ends the address */
            if (n > 12 || !parse_ipv4(s + start, len - start, w + n))
                return 0;
            n += 4;
            i = len;
            break;
        }
        if (digits == 0 || digits > 4 || n > 14)
            return 0;
        w[n++] = (unsigned char)(v >> 8);
        w[n++] = (unsigned char)v;
        if (i == len)
            break;
        if (s[i] != ':')
            return 0;
        i++;
        if (i < len && s[i] == ':') {
            if (gap >= 0)
                return 0; /* "::" twice */
            gap = (long)n;
            i++;
        } else if (i == len) {
            return 0; /* a trailing single ':' */
        }
    }
    if (gap < 0) {
        if (n != 16)
            return 0;
        memcpy(out, w, 16);
        return 1;
    }
    if (n > 14)
        return 0;
    memset(out, 0, 16);
    memcpy(out, w, (size_t)gap);
    memcpy(out + 16 - (n - (size_t)gap), w + gap, n - (size_t)gap);
    return 1;
}

/* Host is an IP literal (IPv6 may be in brackets): its bytes into t->ip. */
static int host_to_ip(smtpc_tls *t, const char *host)
{
    size_t n = strlen(host);

    t->ip_len = 0;
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (parse_ipv4(host, n, t->ip))
        t->ip_len = 4;
    else if (memchr(host, ':', n) != NULL && parse_ipv6(host, n, t->ip))
        t->ip_len = 16;
    return t->ip_len != 0;
}

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

/* ---- the bio callbacks over the inner transport ---- */

static int bio_send_cb(void *ctx, const unsigned char *data, size_t len)
{
    smtpc_tls *t = ctx;
    size_t need;

    if (len > INT_MAX)
        len = INT_MAX;
    if (t->out_head > 0 && t->out_head == t->out_len)
        t->out_head = t->out_len = 0;
    need = t->out_len + len;
    if (need > t->out_cap) {
        size_t cap = t->out_cap ? t->out_cap : 4096;
        unsigned char *p;
        while (cap < need)
            cap *= 2;
        p = realloc(t->out, cap);
        if (p == NULL) {
            t->oom = 1;
            return MBEDTLS_ERR_NET_SEND_FAILED;
        }
        t->out = p;
        t->out_cap = cap;
    }
    memcpy(t->out + t->out_len, data, len);
    t->out_len += len;
    return (int)len;
}

static int bio_recv_cb(void *ctx, unsigned char *buf, size_t len)
{
    smtpc_tls *t = ctx;
    long n;

    if (len > INT_MAX)
        len = INT_MAX;
    n = t->inner.ops->recv(t->inner.ctx, buf, len);
    if (n > 0)
        return (int)n;
    if (n == 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    t->inner_err = (int)n;
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
    if (t->opt.insecure_skip_verify) {
        /* The caller asked for no verification; a pin still counts. */
        f = 0;
        t->verify_reason = NULL;
    }
    if (depth == 0 && t->have_pin) {
        unsigned char md[PIN_LEN];
        int ok = mbedtls_sha256_ret(crt->pk_raw.p, crt->pk_raw.len, md, 0) == 0 &&
                 ct_equal(md, t->pin, PIN_LEN);
        if (!ok && f == 0) {
            t->pin_failed = 1;
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

    if (t->pin_failed) {
        tls_set_err(t, "public key pin mismatch");
        return SMTPC_ERR_TLS_CERT;
    }
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED ||
        (vr != 0 && vr != (uint32_t)-1 &&
         ret == MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE)) {
        if (t->verify_reason != NULL) {
            tls_set_err(t, t->verify_reason);
        } else {
            char buf[200], *nl;
            mbedtls_x509_crt_verify_info(buf, sizeof buf, "", vr);
            nl = strchr(buf, '\n');
            if (nl != NULL)
                *nl = '\0';
            tls_set_err(t, buf[0] ? buf : "certificate verification failed");
        }
        return SMTPC_ERR_TLS_CERT;
    }
    if (t->oom) {
        tls_set_err(t, "out of memory");
        return SMTPC_ERR_TLS;
    }
    if (t->inner_err != 0 && ret != MBEDTLS_ERR_SSL_CONN_EOF) {
        tls_set_err(t, t->inner_err == SMTPC_ERR_CLOSED
                           ? "connection closed during the TLS handshake"
                           : "I/O error during the TLS handshake");
        return t->inner_err;
    }
    if (ret == MBEDTLS_ERR_SSL_CONN_EOF) {
        tls_set_err(t, "TLS handshake failed (connection closed)");
        return SMTPC_ERR_TLS;
    }
    if (ret == MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION) {
        tls_set_err(t, "TLS handshake failed: unsupported protocol version");
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
                snprintf(t->err, sizeof t->err,
                         "TLS handshake failed: alert from the server: %s",
                         alerts[i].name);
                return SMTPC_ERR_TLS;
            }
        }
        snprintf(t->err, sizeof t->err,
                 "TLS handshake failed: alert %u from the server", code);
        return SMTPC_ERR_TLS;
    }
    tls_set_mbed_err(t, "TLS handshake failed", ret);
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
    if (t->ssl_ready) {
        mbedtls_ssl_free(&t->ssl);
        t->ssl_ready = 0;
    }
    t->active = 0;
    t->write_wants_read = 0;
    t->out_head = t->out_len = 0;
    t->inner_err = 0;
    t->pin_failed = 0;
    t->oom = 0;
    t->verify_reason = NULL;
    t->top_self_signed = 0;
    t->top_depth = 0;
    /* info is kept: after the session it still says what was used. */
}

/* Error from an mbedtls_ssl_read/write that made no progress. */
static long io_failure(smtpc_tls *t, int ret, const char *what)
{
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
        ret == MBEDTLS_ERR_SSL_CONN_EOF)
        return SMTPC_ERR_CLOSED;
    if (t->oom) {
        tls_set_err(t, "out of memory");
        return SMTPC_ERR_TLS;
    }
    if (t->inner_err != 0)
        return t->inner_err;
    tls_set_mbed_err(t, what, ret);
    return SMTPC_ERR_TLS;
}

static long tls_send(void *ctx, const void *data, size_t len)
{
    smtpc_tls *t = ctx;
    int n, rc;

    if (!t->active)
        return t->inner.ops->send(t->inner.ctx, data, len);
    rc = out_flush(t);
    if (rc < 0)
        return rc;
    if (out_pending(t) || len == 0)
        return 0;
    if (len > SMTPC_MBEDTLS_WRITE_MAX)
        len = SMTPC_MBEDTLS_WRITE_MAX;
    n = mbedtls_ssl_write(&t->ssl, data, len);
    if (n > 0) {
        t->write_wants_read = 0;
        /* The bytes are ours now; push what the inner transport takes. */
        rc = out_flush(t);
        return rc < 0 ? rc : n;
    }
    if (n == MBEDTLS_ERR_SSL_WANT_READ) {
        t->write_wants_read = 1;
        return 0;
    }
    if (n == MBEDTLS_ERR_SSL_WANT_WRITE || n == 0)
        return 0;
    return io_failure(t, n, "TLS write failed");
}

static long tls_recv(void *ctx, void *buf, size_t len)
{
    smtpc_tls *t = ctx;
    int n, rc;

    if (!t->active)
        return t->inner.ops->recv(t->inner.ctx, buf, len);
    /* Alerts mbedTLS wrote while reading must leave too. */
    rc = out_flush(t);
    if (rc < 0)
        return rc;
    if (len == 0)
        return 0;
    if (len > INT_MAX)
        len = INT_MAX;
    n = mbedtls_ssl_read(&t->ssl, buf, len);
    if (n > 0) {
        rc = out_flush(t);
        return rc < 0 ? rc : n;
    }
    if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) {
        rc = out_flush(t);
        return rc < 0 ? rc : 0;
    }
    if (n == 0)
        return SMTPC_ERR_CLOSED;
    return io_failure(t, n, "TLS read failed");
}

static uint64_t tls_now(void *ctx)
{
    smtpc_tls *t = ctx;
    return t->inner.ops->now_ms(t->inner.ctx);
}

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
        if ((events & SMTPC_IO_READ) && mbedtls_ssl_get_bytes_avail(&t->ssl) > 0)
            ready |= SMTPC_IO_READ;
        if ((events & SMTPC_IO_WRITE) && !out_pending(t) &&
            !t->write_wants_read)
            ready |= SMTPC_IO_WRITE;
        if (ready)
            return (int)ready;

        if (events & SMTPC_IO_READ)
            inner_ev |= SMTPC_IO_READ;
        if ((events & SMTPC_IO_WRITE) && t->write_wants_read)
            inner_ev |= SMTPC_IO_READ;
        /* Our ciphertext must go out whatever the caller waits for: the
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
            /* Readable ciphertext may hold no application data; recv then
             * returns 0 and the caller waits again. */
            if (events & SMTPC_IO_READ)
                ready |= SMTPC_IO_READ;
            if ((events & SMTPC_IO_WRITE) && t->write_wants_read) {
                t->write_wants_read = 0;
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
    uint64_t deadline;
    int ret;

    if (t->active || t->ssl_ready) {
        tls_set_err(t, "TLS already started on this connection");
        return SMTPC_ERR_STATE;
    }
    t->err[0] = '\0';
    t->info[0] = '\0';
    if (host == NULL || host[0] == '\0' || strlen(host) > TLS_HOST_MAX) {
        tls_set_err(t, "no valid host name to verify");
        return SMTPC_ERR_ARG;
    }
    mbedtls_ssl_init(&t->ssl);
    t->ssl_ready = 1;
    ret = mbedtls_ssl_setup(&t->ssl, &t->conf);
    if (ret != 0) {
        tls_set_mbed_err(t, "cannot create the TLS session", ret);
        tls_teardown(t);
        return SMTPC_ERR_TLS;
    }
    /* The name checked is the one the caller configured.  An IP literal
     * is matched in verify_cb and, as RFC 6066 says, never sent as SNI. */
    if (host_to_ip(t, host))
        ret = mbedtls_ssl_set_hostname(&t->ssl, NULL);
    else
        ret = mbedtls_ssl_set_hostname(&t->ssl, host);
    if (ret != 0) {
        tls_set_mbed_err(t, "bad host name", ret);
        tls_teardown(t);
        return SMTPC_ERR_ARG;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send_cb, bio_recv_cb, NULL);

    deadline = tls_now(t) + timeout_ms;
    for (;;) {
        int rc;
        unsigned ev;

        ret = mbedtls_ssl_handshake(&t->ssl);
        rc = out_flush(t);
        if (ret == 0 && rc == SMTPC_OK && !out_pending(t))
            break;
        if (ret != 0 && ret != MBEDTLS_ERR_SSL_WANT_READ &&
            ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
            int st = handshake_failure(t, ret);
            (void)out_flush(t); /* let the alert go if it can */
            tls_teardown(t);
            return st;
        }
        if (rc < 0) {
            tls_set_err(t, rc == SMTPC_ERR_CLOSED
                               ? "connection closed during the TLS handshake"
                               : "I/O error during the TLS handshake");
            tls_teardown(t);
            return rc;
        }
        ev = 0;
        if (ret == MBEDTLS_ERR_SSL_WANT_READ)
            ev |= SMTPC_IO_READ;
        if (out_pending(t))
            ev |= SMTPC_IO_WRITE;
        if (ev == 0)
            continue;
        if (tls_now(t) >= deadline) {
            tls_set_err(t, "TLS handshake timed out");
            tls_teardown(t);
            return SMTPC_ERR_TIMEOUT;
        }
        rc = t->inner.ops->wait(t->inner.ctx, ev, left_ms(t, deadline));
        if (rc < 0) {
            tls_set_err(t, "I/O error during the TLS handshake");
            tls_teardown(t);
            return rc;
        }
        if (rc == 0) {
            tls_set_err(t, "TLS handshake timed out");
            tls_teardown(t);
            return SMTPC_ERR_TIMEOUT;
        }
        if (rc & SMTPC_IO_WRITE) {
            rc = out_flush(t);
            if (rc < 0) {
                tls_set_err(t, "I/O error during the TLS handshake");
                tls_teardown(t);
                return rc;
            }
        }
    }
    t->active = 1;
    snprintf(t->info, sizeof t->info, "%s %s", mbedtls_ssl_get_version(&t->ssl),
             mbedtls_ssl_get_ciphersuite(&t->ssl));
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
        (void)mbedtls_ssl_close_notify(&t->ssl);
        (void)out_flush(t);
    }
    tls_teardown(t);
    t->inner.ops->close(t->inner.ctx);
}

static const smtpc_transport_ops tls_ops = {
    tls_connect, tls_send,        tls_recv, tls_wait,
    tls_start,   tls_is_loopback, tls_now,  tls_close,
};

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
    static const smtpc_tls_options none = {NULL, NULL, NULL, 0};
    static const char pers[] = "smtpc tls_mbedtls";
    smtpc_tls *t;
    int authmode;

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
    authmode = (opt->insecure_skip_verify && !t->have_pin)
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
    mbedtls_ssl_conf_session_tickets(&t->conf,
                                     MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
    *out = t;
    return SMTPC_OK;

fail:
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
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
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
    if (t->out != NULL) {
        mbedtls_platform_zeroize(t->out, t->out_cap);
        free(t->out);
    }
    mbedtls_platform_zeroize(t->pin, sizeof t->pin);
    free(t);
}

const char *smtpc_tls_backend(void)
{
    return "mbedtls";
}
