/*
 * fuzz/fuzz_common.h - what the smtpc fuzz targets share: a recorder of
 * everything the engine sends, the engine invariants, and a checker that
 * reads the client's byte stream back as SMTP.
 *
 * Included by exactly one target per binary (static functions).  Targets
 * use only the public engine API (smtpc/engine.h), like any driver.
 *
 * Every check that fails calls fz_fail(), which prints what broke and
 * aborts, so libFuzzer saves the input as a crash.
 *
 * The checker (fz_check_stream) parses the recorded client stream:
 *   - a command line ends in CRLF and holds no other CR, LF or NUL;
 *   - after "DATA" comes a body when the driver wrote one: it ends at the
 *     first CRLF.CRLF, holds only CRLF line ends, every line starting with
 *     "." is stuffed, and un-stuffed it equals the CRLF-normalised input
 *     (a body cut short by a closed session must be a prefix of it);
 *   - "BDAT n [LAST]" is followed by exactly n bytes; the chunks of a mail
 *     put together equal the normalised input (BINARYMIME: the input);
 *   - nothing follows QUIT.
 */
#ifndef SMTPC_FUZZ_COMMON_H
#define SMTPC_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpc/engine.h"

#define FZ_STREAM_MAX (1u << 20)  /* recorded client bytes */
#define FZ_BODY_MAX (1u << 18)    /* body bytes kept per mail for checking */
#define FZ_MAILS_MAX 8

typedef struct fz_mail {
    int chunking;        /* BDAT expected (CHUNKING offered and allowed) */
    int binary;          /* BODY=BINARYMIME: bytes go out untouched */
    int body_begun;      /* body_write took bytes or body_end succeeded */
    int body_ended;      /* body_end returned SMTPC_OK */
    size_t in_len;       /* body input accepted by body_write */
    int in_overflow;     /* more input than FZ_BODY_MAX: not compared */
    unsigned char in[FZ_BODY_MAX];
} fz_mail;

typedef struct fz_run {
    smtpc_session s;
    smtpc_config cfg;
    unsigned char buf[SMTPC_IO_MIN + 4096];
    size_t buf_len;
    /* what the engine sent, in order */
    unsigned char *out;
    size_t out_len;
    int out_overflow;
    /* mails started with smtpc_mail_begin() == SMTPC_OK, in order */
    fz_mail *mails;
    size_t mail_count;
    smtpc_envelope *env; /* the envelope of the running mail, if any */
    int status_seen;     /* first non-OK session status seen */
    uint32_t progress;
    int strict_end;      /* the stream may not end inside anything */
} fz_run;

static unsigned char fz_out_store[FZ_STREAM_MAX];
static fz_mail fz_mail_store[FZ_MAILS_MAX];

#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 1, 2)))
#endif
static void fz_fail(const char *fmt, ...);

#include <stdarg.h>

static void fz_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("smtpc fuzz invariant broken: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* A configuration this build takes: whatever names a feature compiled
 * out (smtpc_config.h) becomes what the build keeps, so the harnesses run
 * on a folded build too (FUZZ_CFLAGS=-DSMTPC_PROFILE_MINIMAL=1).  With
 * every feature compiled in it changes nothing. */
static void fz_config_fit(smtpc_config *c)
{
    unsigned m = c->auth;

    if (!SMTPC_WITH_TLS && c->tls == SMTPC_TLS_STARTTLS)
        c->tls = SMTPC_TLS_OPPORTUNISTIC;
    if ((!SMTPC_WITH_AUTH_PLAIN && m == SMTPC_AUTH_PLAIN) ||
        (!SMTPC_WITH_AUTH_LOGIN && m == SMTPC_AUTH_LOGIN) ||
        (!SMTPC_WITH_AUTH_CRAM_MD5 && m == SMTPC_AUTH_CRAM_MD5) ||
        (!SMTPC_WITH_AUTH_XOAUTH2 && m == SMTPC_AUTH_XOAUTH2) ||
        (!SMTPC_WITH_AUTH_OAUTHBEARER && m == SMTPC_AUTH_OAUTHBEARER))
        c->auth = SMTPC_AUTH_AUTO;
    if (!SMTPC_WITH_AUTH_XOAUTH2 && !SMTPC_WITH_AUTH_OAUTHBEARER)
        c->token = NULL;
}

/* The configuration that an input's first byte picks: the TLS mode (bits
 * 0-1), the AUTH mechanism and its credentials (bits 2-4), PIPELINING,
 * CHUNKING and EHLO turned off (bits 5-7); options are the target's own
 * on top (made to fit this build by fz_config_fit). */
static void fz_config_from(smtpc_config *c, uint8_t b, unsigned options)
{
    static const unsigned tls[] = {SMTPC_TLS_NONE, SMTPC_TLS_STARTTLS,
                                   SMTPC_TLS_IMPLICIT,
                                   SMTPC_TLS_OPPORTUNISTIC};

    memset(c, 0, sizeof *c);
    c->ehlo_name = "client.fuzz.test";
    c->tls = tls[b & 3];
    c->options = options;
    switch ((b >> 2) & 7) {
    case 0:
        c->auth = SMTPC_AUTH_NONE;
        break;
    case 1:
        c->auth = SMTPC_AUTH_AUTO;
        c->username = "user";
        c->password = "pass word";
        break;
    case 2:
        c->auth = SMTPC_AUTH_PLAIN;
        c->username = "user";
        c->password = "pw";
        c->authzid = "admin";
        break;
    case 3:
        c->auth = SMTPC_AUTH_LOGIN;
        c->username = "user";
        c->password = "pw";
        break;
    case 4:
        c->auth = SMTPC_AUTH_CRAM_MD5;
        c->username = "user";
        c->password = "tanstaaftanstaaf";
        break;
    case 5:
        c->auth = SMTPC_AUTH_XOAUTH2;
        c->username = "user@fuzz.test";
        c->token = "ya29.token";
        break;
    case 6:
        c->auth = SMTPC_AUTH_OAUTHBEARER;
        c->username = "us,er=x";
        c->token = "tok";
        c->host = "fuzz.test";
        c->port = 587;
        break;
    default:
        c->auth = SMTPC_AUTH_AUTO;
        c->username = "user@fuzz.test";
        c->token = "tok";
        break;
    }
    if (b & 0x20)
        c->options |= SMTPC_OPT_NO_PIPELINING;
    if (b & 0x40)
        c->options |= SMTPC_OPT_NO_CHUNKING;
    if (b & 0x80)
        c->options |= SMTPC_OPT_HELO_ONLY;
    fz_config_fit(c);
}

static void fz_run_reset(fz_run *r)
{
    memset(&r->s, 0, sizeof r->s);
    r->out = fz_out_store;
    r->out_len = 0;
    r->out_overflow = 0;
    r->mails = fz_mail_store;
    r->mail_count = 0;
    r->env = NULL;
    r->status_seen = SMTPC_OK;
    r->progress = 0;
    r->strict_end = 0;
}

/* ---- invariants checked after every call ---- */

static void fz_check_text(const char *t, size_t cap, const char *what)
{
    size_t i;

    for (i = 0; i < cap; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == '\0')
            return;
        /* A reply's lines are joined by "\n" (engine.h); nothing else
         * outside printable ASCII, and never a CR. */
        if ((c < 0x20 && c != '\n') || c > 0x7e)
            fz_fail("%s holds byte 0x%02x at %zu", what, c, i);
    }
    fz_fail("%s is not NUL-terminated within %zu bytes", what, cap);
}

static void fz_check_state(fz_run *r)
{
    smtpc_session *s = &r->s;
    unsigned st = smtpc_session_state(s);
    int status = smtpc_session_status(s);
    const smtpc_reply *rp = smtpc_last_reply(s);
    size_t i;

    if (st & ~0x7fu)
        fz_fail("state has unknown bits 0x%x", st);
    /* The next mail may begin only behind a message whose final reply is
     * awaited: never with a body due or when READY. */
    if ((st & SMTPC_NEXT_MAIL) &&
        (st & (SMTPC_READY | SMTPC_WANT_BODY) || !(st & SMTPC_WANT_RECV)))
        fz_fail("NEXT_MAIL with 0x%x", st);
    if ((st & SMTPC_CLOSED) && st != SMTPC_CLOSED)
        fz_fail("CLOSED with other bits: 0x%x", st);
    if ((st & SMTPC_WANT_TLS) && st != SMTPC_WANT_TLS)
        fz_fail("WANT_TLS with other bits: 0x%x", st);
    if (st & SMTPC_WANT_TLS) {
        /* Nothing received before TLS may wait to be read after it
         * (CVE-2021-22947 class): the receive area must be empty. */
        size_t room = 0;
        if (smtpc_recv_buf(s, &room) == NULL || room != SMTPC_LINE_MAX)
            fz_fail("WANT_TLS with %zu server bytes buffered",
                    (size_t)SMTPC_LINE_MAX - room);
    }
    if ((st & SMTPC_READY) && (st & (SMTPC_WANT_RECV | SMTPC_WANT_BODY)))
        fz_fail("READY while awaiting a reply or a body: 0x%x", st);
    if (st == 0)
        fz_fail("the engine wants nothing and is neither READY nor CLOSED");
    /* Sticky status: the first error never changes. */
    if (r->status_seen != SMTPC_OK && status != r->status_seen)
        fz_fail("session status changed from %d to %d", r->status_seen,
                status);
    if (status != SMTPC_OK)
        r->status_seen = status;
    if (status > 0 || status < SMTPC_ERR_UNSUPPORTED)
        fz_fail("session status %d out of range", status);
    if (status != SMTPC_OK &&
        (st & (SMTPC_READY | SMTPC_WANT_BODY | SMTPC_NEXT_MAIL)))
        fz_fail("failed session (%d) still READY or taking a body", status);
    if (smtpc_session_phase(s) < SMTPC_PHASE_NONE ||
        smtpc_session_phase(s) > SMTPC_PHASE_QUIT)
        fz_fail("phase %d out of range", smtpc_session_phase(s));
    if (rp->code != 0 && (rp->code < 200 || rp->code > 599))
        fz_fail("reply code %u", rp->code);
    fz_check_text(rp->text, sizeof rp->text, "reply text");
    if (smtpc_session_progress(s) < r->progress &&
        r->progress - smtpc_session_progress(s) < 0x80000000u)
        fz_fail("progress went backwards");
    r->progress = smtpc_session_progress(s);
    if (st & SMTPC_CLOSED) {
        size_t len = 1;
        const unsigned char *p = smtpc_send_buf(s, &len);
        if (p != NULL || len != 0)
            fz_fail("CLOSED but %zu bytes to send", len);
    }
    if (r->env != NULL && r->mail_count > 0) {
        const smtpc_envelope *env = r->env;
        if (smtpc_mail_accepted(s) > env->rcpt_count)
            fz_fail("more recipients accepted than given");
        for (i = 0; i < env->rcpt_count; i++) {
            const smtpc_rcpt *rc = &env->rcpts[i];
            if (rc->code != 0 && (rc->code < 200 || rc->code > 599))
                fz_fail("recipient code %u", rc->code);
            fz_check_text(rc->text, sizeof rc->text, "recipient text");
        }
    }
}

/* ---- sending ---- */

static void fz_record(fz_run *r, const unsigned char *p, size_t n)
{
    if (r->out_overflow || n > FZ_STREAM_MAX - r->out_len) {
        r->out_overflow = 1;
        return;
    }
    memcpy(r->out + r->out_len, p, n);
    r->out_len += n;
}

/* Takes up to max bytes the engine wants to send (all when max is 0). */
static size_t fz_send(fz_run *r, size_t max)
{
    unsigned st = smtpc_session_state(&r->s);
    size_t len = 0, ss = 0, se = 0;
    const unsigned char *p = smtpc_send_buf(&r->s, &len);

    if ((st & SMTPC_WANT_SEND) && (p == NULL || len == 0))
        fz_fail("WANT_SEND but nothing to send");
    if (!(st & SMTPC_WANT_SEND) && len != 0)
        fz_fail("%zu bytes to send without WANT_SEND", len);
    if (len == 0)
        return 0;
    if (len > r->buf_len)
        fz_fail("send_buf longer (%zu) than the I/O buffer", len);
    smtpc_send_secret_range(&r->s, &ss, &se);
    if (ss > se || se > len)
        fz_fail("secret range %zu..%zu outside %zu pending bytes", ss, se,
                len);
    if (max != 0 && max < len)
        len = max;
    fz_record(r, p, len);
    smtpc_send_ack(&r->s, len);
    fz_check_state(r);
    return len;
}

static void fz_send_all(fz_run *r)
{
    while (fz_send(r, 0) != 0)
        ;
}

/* ---- client actions, with their bookkeeping ---- */

static int fz_mail_begin(fz_run *r, smtpc_envelope *env)
{
    int chunking = (smtpc_session_caps(&r->s)->flags & SMTPC_CAP_CHUNKING) &&
                   !(r->cfg.options & SMTPC_OPT_NO_CHUNKING);
    int rc = smtpc_mail_begin(&r->s, env);

    if (rc == SMTPC_OK) {
        fz_mail *m;
        r->env = env;
        if (r->mail_count >= FZ_MAILS_MAX)
            fz_fail("harness: too many mails");
        m = &r->mails[r->mail_count++];
        m->chunking = chunking;
        m->binary = (env->flags & SMTPC_MAIL_BINARYMIME) != 0;
        m->body_begun = m->body_ended = 0;
        m->in_len = 0;
        m->in_overflow = 0;
    }
    fz_check_state(r);
    return rc;
}

static size_t fz_body_write(fz_run *r, const void *data, size_t len)
{
    unsigned st = smtpc_session_state(&r->s);
    size_t n = smtpc_body_write(&r->s, data, len);
    fz_mail *m = r->mail_count ? &r->mails[r->mail_count - 1] : NULL;

    if (n > len)
        fz_fail("body_write took %zu of %zu bytes", n, len);
    if (n > 0 && !(st & SMTPC_WANT_BODY))
        fz_fail("body_write took bytes without WANT_BODY");
    if (n == 0 && len > 0 && (st & SMTPC_WANT_BODY) &&
        !(smtpc_session_state(&r->s) & SMTPC_WANT_SEND))
        fz_fail("body_write took nothing and there is nothing to send: "
                "stuck");
    if (n > 0) {
        if (m == NULL)
            fz_fail("body bytes without a mail");
        m->body_begun = 1;
        if (m->in_overflow || n > FZ_BODY_MAX - m->in_len)
            m->in_overflow = 1;
        else
            memcpy(m->in + m->in_len, data, n);
        m->in_len += n;
    }
    fz_check_state(r);
    return n;
}

static int fz_body_end(fz_run *r)
{
    unsigned st = smtpc_session_state(&r->s);
    int rc = smtpc_body_end(&r->s);
    fz_mail *m = r->mail_count ? &r->mails[r->mail_count - 1] : NULL;

    if (rc == SMTPC_OK) {
        if (!(st & SMTPC_WANT_BODY))
            fz_fail("body_end accepted without WANT_BODY");
        if (m == NULL)
            fz_fail("body_end without a mail");
        m->body_begun = m->body_ended = 1;
    } else if (rc == SMTPC_ERR_BUFFER &&
               !(smtpc_session_state(&r->s) &
                 (SMTPC_WANT_SEND | SMTPC_WANT_RECV))) {
        fz_fail("body_end says 'send first' with nothing to send or "
                "receive: stuck");
    }
    fz_check_state(r);
    return rc;
}

/* Hands server bytes to the engine; returns how many it took.  recv_buf /
 * recv_ack when direct is set, smtpc_feed otherwise. */
static size_t fz_feed(fz_run *r, const unsigned char *p, size_t len,
                      int direct)
{
    size_t n;

    if (direct) {
        size_t room = 0;
        unsigned char *dst = smtpc_recv_buf(&r->s, &room);
        if (dst == NULL || room == 0)
            n = 0;
        else {
            n = len < room ? len : room;
            memcpy(dst, p, n);
            smtpc_recv_ack(&r->s, n);
        }
    } else {
        n = smtpc_feed(&r->s, p, len);
    }
    if (n > len)
        fz_fail("engine took %zu of %zu bytes", n, len);
    fz_check_state(r);
    return n;
}

/* ---- reading the client stream back ---- */

/* The body the engine must produce from in[0..len): bare CR, bare LF and
 * CRLF each become CRLF; a last line without an end gets one (not for
 * BINARYMIME).  Writes at most cap bytes; returns the full length. */
static size_t fz_normalise(const unsigned char *in, size_t len, int binary,
                           unsigned char *out, size_t cap)
{
    size_t i, o = 0;
    int line_start = 1;

#define FZ_PUT(c)                                                            \
    do {                                                                     \
        if (o < cap)                                                         \
            out[o] = (unsigned char)(c);                                     \
        o++;                                                                 \
    } while (0)
    if (binary) {
        for (i = 0; i < len; i++)
            FZ_PUT(in[i]);
        return o;
    }
    for (i = 0; i < len; i++) {
        if (in[i] == '\r' || in[i] == '\n') {
            FZ_PUT('\r');
            FZ_PUT('\n');
            if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
                i++;
            line_start = 1;
        } else {
            FZ_PUT(in[i]);
            line_start = 0;
        }
    }
    if (!line_start) {
        FZ_PUT('\r');
        FZ_PUT('\n');
    }
#undef FZ_PUT
    return o;
}

static unsigned char fz_norm_buf[2 * FZ_BODY_MAX + 2];
static unsigned char fz_unstuff_buf[2 * FZ_BODY_MAX + 2];

/* A DATA body (terminator excluded) against the mail's input. */
static void fz_check_data_body(const fz_mail *m, const unsigned char *b,
                               size_t len, int complete)
{
    size_t i, u = 0, norm_len;
    int line_start = 1;

    if (!complete) {
        /* Cut inside the final CRLF.CRLF: its "." or ".\r" on a line of
         * its own is not body text. */
        size_t ls = len;
        while (ls > 0 && b[ls - 1] != '\n')
            ls--;
        if ((len - ls == 1 && b[ls] == '.') ||
            (len - ls == 2 && b[ls] == '.' && b[ls + 1] == '\r'))
            len = ls;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = b[i];
        if (c == '\r' && (i + 1 >= len || b[i + 1] != '\n') &&
            (complete || i + 1 < len))
            fz_fail("bare CR in the body at %zu", i);
        if (c == '\n' && (i == 0 || b[i - 1] != '\r'))
            fz_fail("bare LF in the body at %zu", i);
        if (line_start && c == '.') {
            if (i + 1 < len && b[i + 1] != '.')
                fz_fail("unstuffed dot at the start of a body line (%zu)", i);
            if (i + 1 < len)
                i++; /* the stuffing dot; keep the line's own */
            else if (complete)
                fz_fail("lone dot at the end of the body");
            else
                break; /* cut after the stuffing dot */
            c = b[i];
        }
        if (u < sizeof fz_unstuff_buf)
            fz_unstuff_buf[u++] = c;
        line_start = (c == '\n');
    }
    if (complete && len > 0 && (len < 2 || b[len - 2] != '\r' ||
                                b[len - 1] != '\n'))
        fz_fail("body does not end with CRLF before the final dot");
    if (m->in_overflow)
        return;
    norm_len = fz_normalise(m->in, m->in_len, 0, fz_norm_buf,
                            sizeof fz_norm_buf);
    if (complete) {
        if (!m->body_ended)
            fz_fail("body terminated although body_end was never accepted");
        if (u != norm_len || memcmp(fz_unstuff_buf, fz_norm_buf, u) != 0)
            fz_fail("un-stuffed body (%zu bytes) differs from the "
                    "normalised input (%zu bytes)", u, norm_len);
    } else if (u > norm_len || memcmp(fz_unstuff_buf, fz_norm_buf, u) != 0) {
        fz_fail("cut body (%zu bytes) is not a prefix of the normalised "
                "input (%zu bytes)", u, norm_len);
    }
}

static int fz_is_cmd(const unsigned char *line, size_t len, const char *verb)
{
    size_t n = strlen(verb);

    if (len < n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = line[i];
        if (c >= 'a' && c <= 'z')
            c = (unsigned char)(c - 32);
        if (c != (unsigned char)verb[i])
            return 0;
    }
    return 1;
}

static unsigned char fz_chunks[FZ_BODY_MAX * 2 + 2];

/* Parses the whole recorded stream.  Only its very end may be cut (a
 * command, body or chunk the session did not finish sending). */
static void fz_check_stream(fz_run *r)
{
    const unsigned char *t = r->out;
    size_t n = r->out_len, i = 0, mail = 0, chunk_len = 0;
    int have_mail = 0, quit_seen = 0, chunk_overflow = 0;
    fz_mail *m = NULL;

    if (r->out_overflow)
        return;
    while (i < n) {
        size_t start = i, len;
        const unsigned char *line;

        if (quit_seen)
            fz_fail("bytes after QUIT at offset %zu", i);
        while (i < n && t[i] != '\n')
            i++;
        if (i == n) {
            /* A command cut at the end: only partial acks do that, and
             * only the end of the stream may be cut. */
            if (r->strict_end)
                fz_fail("the stream ends inside a command");
            for (size_t k = start; k < n; k++)
                if (t[k] == '\r' && k + 1 < n)
                    fz_fail("CR inside a command at %zu", k);
            return;
        }
        i++;
        line = t + start;
        len = i - start;
        if (len < 2 || line[len - 2] != '\r')
            fz_fail("command line without CRLF at %zu", start);
        for (size_t k = 0; k + 2 < len; k++)
            if (line[k] == '\r' || line[k] == '\n' || line[k] == '\0')
                fz_fail("byte 0x%02x inside a command at %zu", line[k],
                        start + k);
        if (fz_is_cmd(line, len, "MAIL FROM:")) {
            if (mail >= r->mail_count)
                fz_fail("MAIL without smtpc_mail_begin");
            m = &r->mails[mail++];
            have_mail = 1;
            chunk_len = 0;
            chunk_overflow = 0;
        } else if (len == 6 && fz_is_cmd(line, len, "DATA")) {
            if (!have_mail)
                fz_fail("DATA without MAIL");
            if (m->chunking)
                fz_fail("DATA in a CHUNKING mail");
            if (m->body_begun) {
                /* The body follows at once. */
                size_t b = i, end;
                const unsigned char *e = NULL;
                if (n - b >= 3 && memcmp(t + b, ".\r\n", 3) == 0) {
                    end = b;
                    i = b + 3;
                    e = t + b;
                } else {
                    for (end = b; end + 5 <= n; end++)
                        if (memcmp(t + end, "\r\n.\r\n", 5) == 0) {
                            e = t + end;
                            break;
                        }
                    if (e != NULL) {
                        end += 2;
                        i = end + 3;
                    }
                }
                if (e == NULL) {
                    if (r->strict_end)
                        fz_fail("the stream ends inside a body");
                    fz_check_data_body(m, t + b, n - b, 0);
                    return; /* the session ended inside the body */
                }
                fz_check_data_body(m, t + b, end - b, 1);
            }
        } else if (fz_is_cmd(line, len, "BDAT ")) {
            uint64_t cn = 0;
            size_t k = 5;
            int last;
            if (!have_mail)
                fz_fail("BDAT without MAIL");
            if (!m->chunking)
                fz_fail("BDAT in a mail without CHUNKING");
            if (k >= len - 2 || line[k] < '0' || line[k] > '9')
                fz_fail("BDAT without a size");
            while (k < len - 2 && line[k] >= '0' && line[k] <= '9')
                cn = cn * 10 + (uint64_t)(line[k++] - '0');
            last = (len - 2 - k == 5 && memcmp(line + k, " LAST", 5) == 0);
            if (!last && k != len - 2)
                fz_fail("malformed BDAT line");
            if (cn > n - i) {
                if (r->strict_end)
                    fz_fail("the stream ends inside a BDAT chunk");
                return; /* cut at the end of the stream */
            }
            if (cn == 0 && !last)
                fz_fail("empty BDAT chunk that is not the last");
            if (chunk_overflow || cn > sizeof fz_chunks - chunk_len)
                chunk_overflow = 1;
            else
                memcpy(fz_chunks + chunk_len, t + i, (size_t)cn);
            chunk_len += (size_t)cn;
            i += (size_t)cn;
            if (last) {
                size_t norm_len;
                if (!m->body_ended)
                    fz_fail("BDAT LAST although body_end was never "
                            "accepted");
                if (!chunk_overflow && !m->in_overflow) {
                    norm_len = fz_normalise(m->in, m->in_len, m->binary,
                                            fz_norm_buf, sizeof fz_norm_buf);
                    if (norm_len != chunk_len ||
                        memcmp(fz_norm_buf, fz_chunks, chunk_len) != 0)
                        fz_fail("BDAT chunks (%zu bytes) differ from the "
                                "normalised input (%zu bytes)", chunk_len,
                                norm_len);
                }
                have_mail = 0;
            }
        } else if (len == 6 && fz_is_cmd(line, len, "QUIT")) {
            quit_seen = 1;
        }
    }
    if (r->strict_end && have_mail && m->chunking)
        fz_fail("the stream ends before the BDAT LAST chunk");
}

#endif /* SMTPC_FUZZ_COMMON_H */
