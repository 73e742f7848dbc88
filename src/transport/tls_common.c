/*
 * tls_common.c - the part of the TLS transport that does not depend on the
 * TLS library: linked with whichever backend is (tls_openssl.c or
 * tls_mbedtls.c), which supplies the smtpc_tls_lib_* hooks.
 *
 * The layer wraps another transport (the "inner" one) and the library
 * never sees a socket: the backend's callbacks move ciphertext through the
 * inner transport, so TLS works over anything that fills in the transport
 * table (POSIX TCP, lwIP, NetX Duo, a test socketpair).  Outgoing
 * ciphertext waits in out (see tls_common.h); incoming ciphertext is read
 * straight from the inner transport, the library asking for exactly the
 * bytes of the record it parses, so the decrypted bytes not yet returned
 * (smtpc_tls_lib_pending) are all wait() needs to look at.
 *
 * Portable C99 (no POSIX): this file also runs on devices.  Outside the
 * malloc-free core: it allocates the context and the ciphertext buffer.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpc/engine.h"
#include "tls_common.h"

/* Longest host name accepted for SNI and the name check. */
#define TLS_HOST_MAX 255

/* struct smtpc_tls begins with its base (the layout rule of tls_common.h). */
static smtpc_tls_base *base_of(smtpc_tls *t)
{
    return (smtpc_tls_base *)(void *)t;
}

static const smtpc_tls_base *cbase_of(const smtpc_tls *t)
{
    return (const smtpc_tls_base *)(const void *)t;
}

/* ---- errors ---- */

void smtpc_tls_err_set(smtpc_tls *t, const char *what, const char *detail)
{
    smtpc_tls_base *b = base_of(t);

    if (detail != NULL)
        snprintf(b->err, sizeof b->err, "%s: %s", what, detail);
    else
        snprintf(b->err, sizeof b->err, "%s", what);
}

void smtpc_tls_err_inner_set(smtpc_tls *t, int status)
{
    smtpc_tls_err_set(t, status == SMTPC_ERR_CLOSED
                             ? "connection closed during the TLS handshake"
                             : "I/O error during the TLS handshake",
                      NULL);
}

/* ---- the public key pin ---- */

/* Strict base64 of exactly 32 bytes (44 characters, one '=').  An optional
 * "sha256//" prefix (curl's spelling) is accepted.  Only the canonical
 * spelling passes: encoding the result again must give the text back, so
 * that two texts never name one key. */
static int pin_decode(const char *s, unsigned char out[SMTPC_TLS_PIN_LEN])
{
    char again[SMTPC_BASE64_LEN(SMTPC_TLS_PIN_LEN)];
    size_t n;
    int ok;

    if (strncmp(s, "sha256//", 8) == 0)
        s += 8;
    if (strlen(s) != sizeof again)
        return -1;
    n = smtpc_base64_decode(out, SMTPC_TLS_PIN_LEN, s, sizeof again, &ok);
    if (!ok || n != SMTPC_TLS_PIN_LEN)
        return -1;
    smtpc_base64_encode(again, out, n);
    return memcmp(again, s, sizeof again) == 0 ? 0 : -1;
}

int smtpc_tls_pin_match(const smtpc_tls *t,
                        const unsigned char md[SMTPC_TLS_PIN_LEN])
{
    const smtpc_tls_base *b = cbase_of(t);
    unsigned char d = 0;
    size_t i;

    /* No early exit: the time taken does not say where they differ. */
    for (i = 0; i < SMTPC_TLS_PIN_LEN; i++)
        d |= (unsigned char)(md[i] ^ b->pin[i]);
    return d == 0;
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

/* The length of host's address in ip (4 or 16) when host is an IPv4 or
 * IPv6 literal (brackets allowed around IPv6), else 0. */
static size_t host_ip(const char *host, unsigned char ip[16])
{
    size_t n = strlen(host);

    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (parse_ipv4(host, n, ip))
        return 4;
    if (memchr(host, ':', n) != NULL && parse_ipv6(host, n, ip))
        return 16;
    return 0;
}

/* ---- ciphertext to the inner transport ---- */

int smtpc_tls_out_append(smtpc_tls *t, const void *data, size_t len)
{
    smtpc_tls_base *b = base_of(t);
    size_t need;

    if (b->out_head > 0 && b->out_head == b->out_len)
        b->out_head = b->out_len = 0;
    need = b->out_len + len;
    if (need > b->out_cap) {
        size_t cap = b->out_cap ? b->out_cap : 4096;
        unsigned char *p;
        while (cap < need)
            cap *= 2;
        p = realloc(b->out, cap);
        if (p == NULL) {
            b->oom = 1;
            return -1;
        }
        b->out = p;
        b->out_cap = cap;
    }
    memcpy(b->out + b->out_len, data, len);
    b->out_len += len;
    return 0;
}

/* Sends what out holds: SMTPC_OK when it is empty, 0 when some is left
 * (the inner transport is full), or the inner transport's error. */
static int out_flush(smtpc_tls_base *b)
{
    while (b->out_head < b->out_len) {
        long n = b->inner.ops->send(b->inner.ctx, b->out + b->out_head,
                                    b->out_len - b->out_head);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return 0;
        b->out_head += (size_t)n;
    }
    b->out_head = b->out_len = 0;
    return SMTPC_OK;
}

static int out_pending(const smtpc_tls_base *b)
{
    return b->out_head < b->out_len;
}

long smtpc_tls_inner_recv(smtpc_tls *t, void *buf, size_t len)
{
    smtpc_tls_base *b = base_of(t);
    long n = b->inner.ops->recv(b->inner.ctx, buf, len);

    if (n < 0)
        b->inner_err = (int)n;
    return n;
}

/* ---- session resumption ---- */

/* The serialised form of a session, in smtpc_tls_session.data:
 *
 *   0   8  magic "smtpcTS1" (the 1 is the format's version)
 *   8   1  backend: the first letter of smtpc_tls_backend()
 *   9   3  zero
 *   12  4  n, the length of the backend's session, big-endian
 *   16 32  fingerprint: SHA-256 of what the session was verified under
 *   48  n  the backend's session (DER for OpenSSL, mbedtls_ssl_session_save)
 *   48+n 32  SHA-256 of bytes 0 .. 48+n
 *
 * The checksum catches a damaged or edited cache file before the backend's
 * parser sees it: a session whose secret is wrong would make the server
 * abort the handshake instead of falling back to a full one. */
#define SESS_MAGIC "smtpcTS1"
#define SESS_HEAD 48
#define SESS_FRAME (SESS_HEAD + SMTPC_TLS_PIN_LEN)

static unsigned char backend_id(void)
{
    return (unsigned char)smtpc_tls_backend()[0];
}

/* The length of the backend's session in s when s is well formed, made by
 * this backend and (fp not NULL) made under fingerprint fp; else -1. */
static long session_check(const smtpc_tls_session *s, const unsigned char *fp)
{
    unsigned char sum[SMTPC_TLS_PIN_LEN];
    const unsigned char *d = s->data;
    unsigned long n;
    unsigned char diff = 0;
    size_t i;

    if (s->len < SESS_FRAME + 1 || s->len > sizeof s->data)
        return -1;
    if (memcmp(d, SESS_MAGIC, 8) != 0 || d[8] != backend_id() || d[9] != 0 ||
        d[10] != 0 || d[11] != 0)
        return -1;
    n = (unsigned long)d[12] << 24 | (unsigned long)d[13] << 16 |
        (unsigned long)d[14] << 8 | (unsigned long)d[15];
    if (n != s->len - SESS_FRAME)
        return -1;
    if (smtpc_tls_lib_sha256(d, SESS_HEAD + n, sum) != 0)
        return -1;
    for (i = 0; i < sizeof sum; i++)
        diff |= (unsigned char)(sum[i] ^ d[SESS_HEAD + n + i]);
    if (diff != 0)
        return -1;
    if (fp != NULL && memcmp(d + 16, fp, SMTPC_TLS_PIN_LEN) != 0)
        return -1;
    return (long)n;
}

/* Appends one field of the fingerprint's input (a 4-byte length, then the
 * bytes) at *off; with buf NULL only counts. */
static void fp_field(unsigned char *buf, size_t *off, const void *p, size_t n)
{
    if (buf != NULL) {
        buf[*off] = (unsigned char)(n >> 24);
        buf[*off + 1] = (unsigned char)(n >> 16);
        buf[*off + 2] = (unsigned char)(n >> 8);
        buf[*off + 3] = (unsigned char)n;
        if (n > 0)
            memcpy(buf + *off + 4, p, n);
    }
    *off += 4 + n;
}

/* Lays out the fingerprint's input in buf (NULL: only its length): every
 * setting a resumed session, which is not verified again, depends on. */
static size_t fp_input(const smtpc_tls_base *b, const char *host,
                       unsigned char *buf)
{
    static const char tag[] = "smtpc TLS session fingerprint 1";
    const char *be = smtpc_tls_backend();
    unsigned char flags[3];
    size_t off = 0;

    flags[0] = (unsigned char)(b->opt.cafile != NULL);
    flags[1] = (unsigned char)(b->opt.capath != NULL);
    flags[2] = (unsigned char)(b->opt.insecure_skip_verify != 0);
    fp_field(buf, &off, tag, sizeof tag - 1);
    fp_field(buf, &off, be, strlen(be));
    fp_field(buf, &off, host, strlen(host));
    fp_field(buf, &off, flags, sizeof flags);
    fp_field(buf, &off, b->opt.cafile, b->opt.cafile ? strlen(b->opt.cafile) : 0);
    fp_field(buf, &off, b->opt.capath, b->opt.capath ? strlen(b->opt.capath) : 0);
    fp_field(buf, &off, b->pin, b->have_pin ? sizeof b->pin : 0);
    fp_field(buf, &off, b->ca_digest, sizeof b->ca_digest);
    return off;
}

/* The fingerprint of a connection to host under t's settings: 0, or -1
 * (no memory, or the hash failed). */
static int fingerprint(smtpc_tls *t, const char *host,
                       unsigned char out[SMTPC_TLS_PIN_LEN])
{
    smtpc_tls_base *b = base_of(t);
    char lower[TLS_HOST_MAX + 1];
    size_t i, n;
    unsigned char *buf;
    int rc;

    /* Host names are case-insensitive: one spelling per server. */
    for (i = 0; host[i] != '\0' && i < TLS_HOST_MAX; i++)
        lower[i] = (host[i] >= 'A' && host[i] <= 'Z')
                       ? (char)(host[i] - 'A' + 'a')
                       : host[i];
    lower[i] = '\0';
    n = fp_input(b, lower, NULL);
    buf = malloc(n);
    if (buf == NULL)
        return -1;
    (void)fp_input(b, lower, buf);
    rc = smtpc_tls_lib_sha256(buf, n, out);
    smtpc_wipe(buf, n); /* it holds the pin */
    free(buf);
    return rc;
}

unsigned char *smtpc_tls_session_begin(smtpc_tls *t, size_t *cap)
{
    smtpc_tls_base *b = base_of(t);
    smtpc_tls_session *s = b->opt.session;

    *cap = 0;
    if (s == NULL || !b->have_fp)
        return NULL;
    smtpc_tls_session_clear(s);
    *cap = sizeof s->data - SESS_FRAME;
    return s->data + SESS_HEAD;
}

void smtpc_tls_session_end(smtpc_tls *t, size_t n)
{
    smtpc_tls_base *b = base_of(t);
    smtpc_tls_session *s = b->opt.session;
    unsigned char *d;

    if (s == NULL || !b->have_fp)
        return;
    if (n == 0 || n > sizeof s->data - SESS_FRAME) {
        smtpc_tls_session_clear(s);
        return;
    }
    d = s->data;
    memcpy(d, SESS_MAGIC, 8);
    d[8] = backend_id();
    d[9] = d[10] = d[11] = 0;
    d[12] = (unsigned char)(n >> 24);
    d[13] = (unsigned char)(n >> 16);
    d[14] = (unsigned char)(n >> 8);
    d[15] = (unsigned char)n;
    memcpy(d + 16, b->fp, SMTPC_TLS_PIN_LEN);
    if (smtpc_tls_lib_sha256(d, SESS_HEAD + n, d + SESS_HEAD + n) != 0) {
        smtpc_tls_session_clear(s);
        return;
    }
    s->len = SESS_FRAME + n;
}

/* Before the handshake: works out the fingerprint and offers the stored
 * session when it was made under the same one. */
static void session_prepare(smtpc_tls *t, const char *host)
{
    smtpc_tls_base *b = base_of(t);
    long n;

    b->have_fp = b->offered = 0;
    if (b->opt.session == NULL)
        return;
    if (fingerprint(t, host, b->fp) != 0)
        return;
    b->have_fp = 1;
    n = session_check(b->opt.session, b->fp);
    if (n > 0 && smtpc_tls_lib_session_offer(
                     t, b->opt.session->data + SESS_HEAD, (size_t)n) == 0)
        b->offered = 1;
}

/* ---- the transport table ---- */

static int tls_connect(void *ctx, const char *host, uint16_t port,
                       uint32_t timeout_ms)
{
    smtpc_tls_base *b = base_of(ctx);
    return b->inner.ops->connect(b->inner.ctx, host, port, timeout_ms);
}

static void tls_teardown(smtpc_tls *t)
{
    smtpc_tls_base *b = base_of(t);

    smtpc_tls_lib_session_free(t);
    b->active = 0;
    b->write_wants_read = 0;
    b->out_head = b->out_len = 0;
    b->inner_err = 0;
    b->pin_failed = 0;
    b->oom = 0;
    b->have_fp = 0;
    b->offered = 0;
    smtpc_wipe(b->fp, sizeof b->fp);
    /* info and reused are kept: after the session they still say what was
     * used. */
}

static long tls_send(void *ctx, const void *data, size_t len)
{
    smtpc_tls_base *b = base_of(ctx);
    size_t done = 0;
    int rc, st;

    if (!b->active)
        return b->inner.ops->send(b->inner.ctx, data, len);
    rc = out_flush(b);
    if (rc < 0)
        return rc;
    if (out_pending(b) || len == 0)
        return 0;
    st = smtpc_tls_lib_write(ctx, data, len, &done);
    if (st == SMTPC_TLS_DONE) {
        b->write_wants_read = 0;
        /* The bytes are ours now; push what the inner transport takes. */
        rc = out_flush(b);
        return rc < 0 ? rc : (long)done;
    }
    if (st == SMTPC_TLS_WANT_READ) {
        b->write_wants_read = 1;
        return 0;
    }
    if (st == SMTPC_TLS_WANT_WRITE)
        return 0;
    return st;
}

static long tls_recv(void *ctx, void *buf, size_t len)
{
    smtpc_tls_base *b = base_of(ctx);
    size_t done = 0;
    int rc, st;

    if (!b->active)
        return b->inner.ops->recv(b->inner.ctx, buf, len);
    /* Alerts or handshake messages the library wrote while reading must
     * leave too; a full inner transport is not an error here. */
    rc = out_flush(b);
    if (rc < 0)
        return rc;
    if (len == 0)
        return 0;
    if (len > INT_MAX)
        len = INT_MAX; /* the libraries count in int */
    st = smtpc_tls_lib_read(ctx, buf, len, &done);
    if (st == SMTPC_TLS_DONE) {
        rc = out_flush(b);
        return rc < 0 ? rc : (long)done;
    }
    if (st == SMTPC_TLS_WANT_READ || st == SMTPC_TLS_WANT_WRITE) {
        rc = out_flush(b);
        return rc < 0 ? rc : 0;
    }
    return st;
}

static uint64_t tls_now(void *ctx)
{
    smtpc_tls_base *b = base_of(ctx);
    return b->inner.ops->now_ms(b->inner.ctx);
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
    smtpc_tls_base *b = base_of(ctx);
    uint64_t deadline;

    if (!b->active)
        return b->inner.ops->wait(b->inner.ctx, events, timeout_ms);
    deadline = tls_now(ctx) + timeout_ms;
    for (;;) {
        unsigned ready = 0, inner_ev = 0;
        int rc = out_flush(b), r;

        if (rc < 0)
            return rc;
        /* Plaintext already decrypted and waiting: readable now. */
        if ((events & SMTPC_IO_READ) && smtpc_tls_lib_pending(ctx))
            ready |= SMTPC_IO_READ;
        /* send() takes bytes once the previous ciphertext is gone, unless
         * the library needs to read first (renegotiation, key update). */
        if ((events & SMTPC_IO_WRITE) && !out_pending(b) &&
            !b->write_wants_read)
            ready |= SMTPC_IO_WRITE;
        if (ready)
            return (int)ready;

        if (events & SMTPC_IO_READ)
            inner_ev |= SMTPC_IO_READ;
        if ((events & SMTPC_IO_WRITE) && b->write_wants_read)
            inner_ev |= SMTPC_IO_READ;
        /* Whatever the caller waits for, our ciphertext must go out: the
         * server may be waiting for it before it answers. */
        if (out_pending(b))
            inner_ev |= SMTPC_IO_WRITE;
        if (inner_ev == 0)
            return 0;

        r = b->inner.ops->wait(b->inner.ctx, inner_ev,
                               left_ms(ctx, deadline));
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
            if ((events & SMTPC_IO_WRITE) && b->write_wants_read) {
                b->write_wants_read = 0; /* let send retry the write */
                ready |= SMTPC_IO_WRITE;
            }
        }
        if (r & SMTPC_IO_WRITE) {
            rc = out_flush(b);
            if (rc < 0)
                return rc;
            if ((events & SMTPC_IO_WRITE) && !out_pending(b) &&
                !b->write_wants_read)
                ready |= SMTPC_IO_WRITE;
        }
        if (ready)
            return (int)ready;
        if (timeout_ms == 0 || tls_now(ctx) >= deadline)
            return 0;
    }
}

/* Runs the handshake of the new session to the end, or to timeout_ms:
 * SMTPC_OK or a status with err set (the caller tears down). */
static int handshake_run(smtpc_tls *t, uint32_t timeout_ms)
{
    smtpc_tls_base *b = base_of(t);
    uint64_t deadline = tls_now(t) + timeout_ms;

    for (;;) {
        int st = smtpc_tls_lib_handshake_step(t), rc, r;
        unsigned ev;

        rc = out_flush(b);
        if (st == SMTPC_TLS_DONE && rc == SMTPC_OK && !out_pending(b))
            return SMTPC_OK;
        if (st < 0) {
            /* Let the alert go if it can, without waiting for it. */
            (void)out_flush(b);
            return st;
        }
        if (st == SMTPC_TLS_DONE)
            st = SMTPC_TLS_WANT_WRITE; /* our last flight is still queued */
        if (rc < 0) {
            smtpc_tls_err_inner_set(t, rc);
            return rc;
        }
        ev = 0;
        if (st == SMTPC_TLS_WANT_READ)
            ev |= SMTPC_IO_READ;
        if (out_pending(b))
            ev |= SMTPC_IO_WRITE;
        if (tls_now(t) >= deadline) {
            smtpc_tls_err_set(t, "TLS handshake timed out", NULL);
            return SMTPC_ERR_TIMEOUT;
        }
        if (ev == 0)
            continue; /* WANT_WRITE with nothing queued: just retry */
        r = b->inner.ops->wait(b->inner.ctx, ev, left_ms(t, deadline));
        if (r < 0) {
            smtpc_tls_err_set(t, "I/O error during the TLS handshake", NULL);
            return r;
        }
        if (r == 0) {
            smtpc_tls_err_set(t, "TLS handshake timed out", NULL);
            return SMTPC_ERR_TIMEOUT;
        }
        if (r & SMTPC_IO_WRITE) {
            rc = out_flush(b);
            if (rc < 0) {
                smtpc_tls_err_set(t, "I/O error during the TLS handshake",
                                  NULL);
                return rc;
            }
        }
    }
}

static int tls_start(void *ctx, const char *host, uint32_t timeout_ms)
{
    smtpc_tls *t = ctx;
    smtpc_tls_base *b = base_of(t);
    unsigned char ip[16];
    size_t ip_len;
    int st;

    /* A failed start_tls tears its session down, so a session exists
     * outside this function only while active. */
    if (b->active) {
        smtpc_tls_err_set(t, "TLS already started on this connection", NULL);
        return SMTPC_ERR_STATE;
    }
    b->err[0] = '\0';
    b->info[0] = '\0';
    b->reused = 0;
    b->params[0] = '\0';
    if (host == NULL || host[0] == '\0' || strlen(host) > TLS_HOST_MAX) {
        smtpc_tls_err_set(t, "no valid host name to verify", NULL);
        return SMTPC_ERR_ARG;
    }
    /* The name checked is the one the caller configured, never one
     * learned from DNS. */
    ip_len = host_ip(host, ip);
    st = smtpc_tls_lib_session_new(t, host, ip, ip_len);
    if (st == SMTPC_OK) {
        session_prepare(t, host);
        st = handshake_run(t, timeout_ms);
    }
    if (st != SMTPC_OK) {
        tls_teardown(t);
        return st;
    }
    b->active = 1;
    b->reused = b->offered && smtpc_tls_lib_session_reused(t);
    snprintf(b->info, sizeof b->info, "%s %s", smtpc_tls_lib_version(t),
             smtpc_tls_lib_cipher(t));
    smtpc_tls_lib_params(t, b->params, sizeof b->params);
    return SMTPC_OK;
}

static int tls_is_loopback(void *ctx)
{
    smtpc_tls_base *b = base_of(ctx);
    return b->inner.ops->is_loopback(b->inner.ctx);
}

static void tls_close(void *ctx)
{
    smtpc_tls_base *b = base_of(ctx);

    if (b->active) {
        /* Best effort close_notify: one try, no waiting for the peer. */
        smtpc_tls_lib_close_notify(ctx);
        (void)out_flush(b);
    }
    tls_teardown(ctx);
    b->inner.ops->close(b->inner.ctx);
}

void smtpc_tls_close(smtpc_tls *t)
{
    tls_close(t);
}

static const smtpc_transport_ops tls_ops = {
    tls_connect, tls_send,        tls_recv, tls_wait,
    tls_start,   tls_is_loopback, tls_now,  tls_close,
};

/* ---- creating and freeing ---- */

int smtpc_tls_base_new(smtpc_tls **t, size_t size, smtpc_transport inner,
                       const smtpc_tls_options *opt)
{
    static const smtpc_tls_options none = {NULL, NULL, NULL, 0, NULL};
    smtpc_tls_base *b;

    *t = NULL;
    if (inner.ops == NULL)
        return SMTPC_ERR_ARG;
    if (opt == NULL)
        opt = &none;
    b = calloc(1, size);
    if (b == NULL)
        return SMTPC_ERR_TLS;
    b->inner = inner;
    b->opt = *opt;
    if (opt->pin_sha256 != NULL) {
        if (pin_decode(opt->pin_sha256, b->pin) != 0) {
            free(b);
            return SMTPC_ERR_ARG;
        }
        b->have_pin = 1;
    }
    *t = (smtpc_tls *)(void *)b;
    return SMTPC_OK;
}

void smtpc_tls_base_free(smtpc_tls *t)
{
    smtpc_tls_base *b = base_of(t);

    if (b->out != NULL) {
        /* Ciphertext only, but it is cheap to leave nothing behind. */
        smtpc_wipe(b->out, b->out_cap);
        free(b->out);
    }
    smtpc_wipe(b->pin, sizeof b->pin);
    smtpc_wipe(b->fp, sizeof b->fp);
    free(t);
}

/* ---- public functions common to the backends ---- */

smtpc_transport smtpc_tls_transport(smtpc_tls *t)
{
    smtpc_transport tr;
    tr.ops = &tls_ops;
    tr.ctx = t;
    return tr;
}

const char *smtpc_tls_error(const smtpc_tls *t)
{
    return t != NULL ? cbase_of(t)->err : "";
}

const char *smtpc_tls_info(const smtpc_tls *t)
{
    return t != NULL ? cbase_of(t)->info : "";
}

int smtpc_tls_session_reused(const smtpc_tls *t)
{
    return t != NULL && cbase_of(t)->reused;
}

int smtpc_tls_session_fits(smtpc_tls *t, const char *host)
{
    unsigned char fp[SMTPC_TLS_PIN_LEN];
    const smtpc_tls_session *s;

    if (t == NULL || host == NULL)
        return 0;
    s = base_of(t)->opt.session;
    return s != NULL && fingerprint(t, host, fp) == 0 &&
           session_check(s, fp) > 0;
}

void smtpc_tls_session_clear(smtpc_tls_session *s)
{
    if (s == NULL)
        return;
    smtpc_wipe(s->data, sizeof s->data);
    s->len = 0;
}

int smtpc_tls_session_import(smtpc_tls_session *s, const void *bytes,
                             size_t len)
{
    if (s == NULL)
        return SMTPC_ERR_ARG;
    smtpc_tls_session_clear(s);
    if (bytes == NULL || len > sizeof s->data)
        return SMTPC_ERR_ARG;
    memcpy(s->data, bytes, len);
    s->len = len;
    if (session_check(s, NULL) <= 0) {
        smtpc_tls_session_clear(s);
        return SMTPC_ERR_ARG;
    }
    return SMTPC_OK;
}

const char *smtpc_tls_params(const smtpc_tls *t)
{
    return t != NULL ? cbase_of(t)->params : "";
}

int smtpc_tls_peer_cert(const smtpc_tls *t, size_t i, smtpc_tls_cert *out)
{
    if (t == NULL || out == NULL || !cbase_of(t)->active)
        return SMTPC_ERR_ARG;
    memset(out, 0, sizeof *out);
    return smtpc_tls_lib_peer_cert(t, i, out);
}

void smtpc_tls_hex_digest(const unsigned char md[32], char out[96])
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (size_t i = 0; i < 32; i++) {
        if (i)
            out[o++] = ':';
        out[o++] = hex[md[i] >> 4];
        out[o++] = hex[md[i] & 15];
    }
    out[o] = '\0';
}
