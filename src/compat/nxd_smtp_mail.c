/*
 * nxd_smtp_mail.c - the message nx_smtp_mail_send sends: a header block
 * and the caller's body, handed to the client as a body source.
 *
 * Nothing is copied but the few header lines smtpc makes up itself (Date,
 * Message-ID, X-Priority, the MIME lines): To, From, Subject and the body
 * are yielded straight from the caller's strings, so memory stays the same
 * whatever their size.  The engine turns bare CR/LF in the body into CRLF
 * and dot-stuffs it.
 *
 * The subject is written as RFC 5322 wants it: folded before white space
 * when its line would pass 78 characters, and as RFC 2047 encoded words
 * when it holds bytes that are not ASCII (or "=?", which a reader would
 * take for the start of one).
 */
#include <string.h>

#include "internal.h"

/* RFC 5322 2.1.1: lines SHOULD stay within 78 characters, MUST within 998. */
#define LINE_SOFT 78u
#define LINE_HARD 998u
/* "Subject: " */
#define SUBJECT_PREFIX 9u
/* Bytes of subject per RFC 2047 encoded word: 45 bytes are 60 base64
 * characters, and "=?UTF-8?B?" + 60 + "?=" is 72, within the 75 allowed. */
#define WORD_BYTES 45u

/* Stages of the body source. */
enum {
    S_TO_LABEL,
    S_TO,
    S_FROM_LABEL,
    S_FROM,
    S_SUBJECT_LABEL,
    S_SUBJECT,
    S_TAIL,
    S_MIME,
    S_BODY,
    S_DONE
};

/* The MIME lines and the blank line that ends the header block. */
static const char mime_lines[] = "MIME-Version: 1.0\r\n"
                                 "Content-Type: text/plain; charset=\"utf-8\"\r\n"
                                 "Content-Transfer-Encoding: 8bit\r\n"
                                 "\r\n";

/* The longest domain in Message-ID: the client's, or "localhost". */
#define DOMAIN_MAX \
    (NX_SMTP_CLIENT_MAX_USERNAME > 9 ? NX_SMTP_CLIENT_MAX_USERNAME : 9)

/* "Thu, 01 Jan 1970 00:00:00 +0000" */
#define DATE_LEN 31u

/* The room the writers below rely on, checked at compile time: an
 * encoded word with its fold, and the generated header lines
 * ("Date: " date, and the Message-ID of two 32-bit hex numbers, a decimal
 * one and the domain, and X-Priority, each with CRLF, after the CRLF that
 * ends the subject). */
typedef char smtpc_compat_word_fits[
    sizeof(((smtpc_compat_mail *)0)->word) >=
            3 + 10 + SMTPC_BASE64_LEN(WORD_BYTES) + 2 ? 1 : -1];
typedef char smtpc_compat_tail_fits[
    sizeof(((smtpc_compat_mail *)0)->tail) >=
            2 + (6 + DATE_LEN + 2) + (13 + 16 + 1 + 10 + 1 + 8 + 1 +
                                      DOMAIN_MAX + 3) +
                    (12 + 1 + 2) ? 1 : -1];

/* Subject modes. */
enum { SUBJ_PLAIN, SUBJ_ENCODED };

/* ---- small writers into a buffer its user has sized ---- */

/* Each returns the end of what it wrote. */
static char *put_n(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static char *put_s(char *p, const char *s)
{
    return put_n(p, s, strlen(s));
}

/* 32 bits: 64-bit division would pull a libgcc routine of about 700
 * bytes into a 32-bit firmware. */
char *smtpc_compat_num(char *p, uint32_t v, unsigned base, unsigned width)
{
    char tmp[10];
    unsigned n = 0;

    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0 || n < width);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* ---- Date ---- */

size_t smtpc_compat_date_format(int64_t secs, char *out, size_t cap)
{
    static const char days[] = "ThuFriSatSunMonTueWed"; /* 1970-01-01: Thu */
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    uint32_t s7, day, sod, z, era, doe, yoe, doy, mp, d, m, y;
    char *p = out;

    /* Every date of 1970..9999 is DATE_LEN characters. */
    if (cap <= DATE_LEN || secs < 0 ||
        secs >= INT64_C(253402300800)) /* 10000-01-01 */
        return 0;
    /* 86400 = 128 * 675, and secs / 128 fits 31 bits before the year
     * 10000: the day and the second of the day in 32-bit arithmetic. */
    s7 = (uint32_t)(secs >> 7);
    day = s7 / 675;
    sod = (s7 % 675) * 128 + (uint32_t)(secs & 127);
    /* Civil date from a day count (H. Hinnant, "chrono-Compatible Low-Level
     * Date Algorithms"): exact for every day, no tables, no libc.  Every
     * value is positive from 1970 on. */
    z = day + 719468;
    era = z / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = yoe + era * 400 + (m <= 2);

    p = put_n(p, days + (day % 7) * 3, 3);
    p = put_n(p, ", ", 2);
    p = smtpc_compat_num(p, d, 10, 2);
    *p++ = ' ';
    p = put_n(p, months + (m - 1) * 3, 3);
    *p++ = ' ';
    p = smtpc_compat_num(p, y, 10, 4);
    *p++ = ' ';
    p = smtpc_compat_num(p, sod / 3600, 10, 2);
    *p++ = ':';
    p = smtpc_compat_num(p, sod / 60 % 60, 10, 2);
    *p++ = ':';
    p = smtpc_compat_num(p, sod % 60, 10, 2);
    p = put_n(p, " +0000", 7); /* with the NUL */
    return (size_t)(p - out) - 1;
}

/* ---- Subject ---- */

static int is_wsp(char ch)
{
    return ch == ' ' || ch == '\t';
}

static int subject_needs_encoding(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if ((unsigned char)s[i] >= 0x80)
            return 1;
        if (s[i] == '=' && i + 1 < n && s[i + 1] == '?')
            return 1;
    }
    return 0;
}

/* Where to fold a plain subject line: the piece [pos, pos + i) goes on the
 * current line and the next line starts with the white space at pos + i.
 * Both sides must keep a character that is not white space (RFC 5322
 * 3.2.2: no line of white space only).  Prefers the last break within the
 * soft limit, else the first one within the hard limit; 0 when none. */
static size_t subject_break(const smtpc_compat_mail *m)
{
    const char *s = m->subject + m->subject_pos;
    size_t room_soft = LINE_SOFT - m->subject_col;
    size_t room_hard = LINE_HARD - m->subject_col;
    size_t i, best = 0;
    int seen_text = 0;

    for (i = 0; m->subject_pos + i < m->subject_last && i <= room_hard; i++) {
        if (is_wsp(s[i]) && seen_text) {
            if (i <= room_soft)
                best = i;
            else
                return best != 0 ? best : i;
        }
        if (!is_wsp(s[i]))
            seen_text = 1;
    }
    return best;
}

/* The next piece of the subject (after "Subject: "): 1 with *p and *n, 0 when
 * the subject is done, -1 when a line would pass 998 characters. */
static int subject_next(smtpc_compat_mail *m, const char **p, size_t *n)
{
    size_t rest = m->subject_len - m->subject_pos;

    if (rest == 0)
        return 0;
    if (m->subject_mode == SUBJ_ENCODED) {
        const unsigned char *s =
            (const unsigned char *)m->subject + m->subject_pos;
        size_t take = rest < WORD_BYTES ? rest : WORD_BYTES;
        char *w = m->word;

        /* Never split a UTF-8 sequence between two words (RFC 2047 5). */
        while (take < rest && take > 1 && (s[take] & 0xC0) == 0x80)
            take--;
        if (m->subject_pos != 0)
            w = put_n(w, "\r\n ", 3);
        w = put_n(w, "=?UTF-8?B?", 10);
        w += smtpc_base64_encode(w, s, take);
        w = put_n(w, "?=", 2);
        m->subject_pos += take;
        *p = m->word;
        *n = (size_t)(w - m->word);
        return 1;
    }
    if (m->subject_fold) {
        /* The fold: CRLF, and the next line begins with the white space
         * that was at the break. */
        m->subject_fold = 0;
        m->subject_col = 0;
        *p = "\r\n";
        *n = 2;
        return 1;
    }
    *p = m->subject + m->subject_pos;
    if (m->subject_col + rest <= LINE_SOFT) {
        *n = rest;
    } else {
        size_t brk = subject_break(m);
        if (brk == 0) {
            if (m->subject_col + rest > LINE_HARD)
                return -1;
            *n = rest;
        } else {
            *n = brk;
            m->subject_fold = 1;
        }
    }
    m->subject_pos += *n;
    m->subject_col += *n;
    return 1;
}

static void subject_start(smtpc_compat_mail *m)
{
    size_t i;

    m->subject_pos = 0;
    m->subject_col = SUBJECT_PREFIX;
    m->subject_fold = 0;
    m->subject_mode = subject_needs_encoding(m->subject, m->subject_len)
                          ? SUBJ_ENCODED
                          : SUBJ_PLAIN;
    /* One past the last character that is not white space. */
    m->subject_last = 0;
    for (i = 0; i < m->subject_len; i++)
        if (!is_wsp(m->subject[i]))
            m->subject_last = i + 1;
}

/* ---- the header lines smtpc adds ---- */

static const char *priority_value(unsigned priority)
{
    /* X-Priority as mail programs read it: 1 highest, 3 normal, 5 lowest. */
    switch (priority) {
    case NX_SMTP_MAIL_PRIORITY_HIGH:
        return "1";
    case NX_SMTP_MAIL_PRIORITY_LOW:
        return "5";
    default:
        return "3";
    }
}

static void tail_build(NX_SMTP_CLIENT *c, unsigned priority)
{
    smtpc_compat_state *st = SMTPC_COMPAT(c);
    smtpc_compat_mail *m = &st->mail;
    const char *domain = c->nx_smtp_client_domain[0] != '\0'
                             ? c->nx_smtp_client_domain
                             : "localhost";
    int64_t now = 0;
    int have_clock = SMTPC_COMPAT_CLOCK && smtpc_compat_clock_read(c, &now);
    uint32_t hi;
    char *p = put_n(m->tail, "\r\n", 2);

    /* A clock outside 1970..9999 gives no Date rather than a wrong one. */
    if (have_clock && smtpc_compat_date_format(now, p + 6, DATE_LEN + 1) != 0) {
        p = put_n(p, "Date: ", 6) + DATE_LEN;
        p = put_n(p, "\r\n", 2);
    }
    /* Unique without global state: the time, this client's own counter,
     * and entropy that tells processes and client instances apart. */
    st->message_count++;
    p = put_s(p, "Message-ID: <");
    hi = (uint32_t)((uint64_t)now >> 16 >> 16);
    if (hi != 0)
        p = smtpc_compat_num(p, hi, 16, 1);
    p = smtpc_compat_num(p, (uint32_t)now, 16, hi != 0 ? 8 : 1);
    *p++ = '.';
    p = smtpc_compat_num(p, st->message_count, 10, 1);
    *p++ = '.';
    p = smtpc_compat_num(p, smtpc_compat_entropy_read(c), 16, 8);
    *p++ = '@';
    p = put_s(p, domain);
    p = put_s(p, ">\r\nX-Priority: ");
    p = put_s(p, priority_value(priority));
    p = put_n(p, "\r\n", 2);
    m->tail_len = (size_t)(p - m->tail);
}

/* ---- the body source ---- */

static int mail_next(void *ctx, const void **data, size_t *len)
{
    smtpc_compat_mail *m = (smtpc_compat_mail *)ctx;
    const char *p = NULL;
    size_t n = 0;

    while (n == 0 && m->stage != S_DONE) {
        switch (m->stage) {
        case S_TO_LABEL:
            p = "To: ";
            n = 4;
            m->stage = S_TO;
            break;
        case S_TO:
            p = m->rcpt;
            n = strlen(p);
            m->stage = S_FROM_LABEL;
            break;
        case S_FROM_LABEL:
            p = "\r\nFrom: ";
            n = 8;
            m->stage = S_FROM;
            break;
        case S_FROM:
            p = m->from;
            n = strlen(p);
            m->stage = S_SUBJECT_LABEL;
            break;
        case S_SUBJECT_LABEL:
            p = "\r\nSubject: ";
            n = 11;
            subject_start(m);
            m->stage = S_SUBJECT;
            break;
        case S_SUBJECT: {
            int r = subject_next(m, &p, &n);
            if (r < 0)
                return SMTPC_ERR_BODY_SOURCE; /* checked before: not reached */
            if (r == 0)
                m->stage = S_TAIL;
            break;
        }
        case S_TAIL:
            p = m->tail;
            n = m->tail_len;
            m->stage = S_MIME;
            break;
        case S_MIME:
            p = mime_lines;
            n = sizeof mime_lines - 1;
            m->stage = S_BODY;
            break;
        case S_BODY:
            p = m->body;
            n = m->body_len;
            m->stage = S_DONE;
            break;
        default:
            m->stage = S_DONE;
            break;
        }
    }
    *data = p;
    *len = n;
    return SMTPC_OK;
}

int smtpc_compat_mail_prepare(NX_SMTP_CLIENT *c, const char *rcpt,
                              unsigned priority, const char *subject,
                              const char *body, size_t body_len,
                              uint64_t *size)
{
    smtpc_compat_mail *m = &SMTPC_COMPAT(c)->mail;
    const void *piece;
    size_t n;
    uint64_t total = 0;
    int rc;

    m->rcpt = rcpt;
    m->from = c->nx_smtp_client_from_address;
    m->subject = subject;
    m->subject_len = strlen(subject);
    m->body = body;
    m->body_len = body_len;
    tail_build(c, priority);

    /* A dry run through the header block: it measures it and finds a
     * subject that cannot be folded, before anything is sent. */
    m->stage = S_TO_LABEL;
    do {
        if (m->stage == S_BODY)
            break;
        rc = mail_next(m, &piece, &n);
        if (rc != SMTPC_OK)
            return SMTPC_ERR_ARG;
        total += n;
    } while (n != 0);
    *size = total + body_len;
    m->stage = S_TO_LABEL;
    return SMTPC_OK;
}

smtpc_body_source smtpc_compat_mail_source(NX_SMTP_CLIENT *c)
{
    smtpc_body_source src;

    src.next = mail_next;
    src.ctx = &SMTPC_COMPAT(c)->mail;
    return src;
}
