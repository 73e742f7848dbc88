/*
 * The MIME writer: the message's structure, the choice of encodings, the
 * exact size, and the pull loop that hands the bytes out.
 *
 * The message is a sequence of segments and contents: segment k holds
 * what comes before part k's content (the message's header fields for
 * k = 0, boundaries closing and opening multiparts, part k's header
 * fields), and the last segment closes what is open.  Segments are
 * regenerated from the message on demand (internal.h); contents stream
 * through the encoders with a line of state.
 */
#include "internal.h"

#if SMTPC_WITH_MIME

enum { W_SEG = 0, W_BODY, W_DONE };

/* Multipart levels, outermost first, as bits. */
enum { L_MIXED = 0, L_RELATED, L_ALT, L_COUNT };
/* The levels this build can open: without html only multipart/mixed. */
#define L_USED (SMTPC_MIME_WITH_HTML ? L_COUNT : 1)
#define BIT(x) (1u << (x))

enum { K_TEXT, K_HTML, K_INLINE, K_ATTACH };

static const smtpc_mime_part empty_text;

static int fail(smtpc_mime_writer *w, int st)
{
    if (w->status == SMTPC_OK)
        w->status = st;
    return st;
}

/* ---- The shape ---- */

static const smtpc_mime_part *leaf_part(const smtpc_mime_writer *w,
                                        uint32_t k, int *kind)
{
    const smtpc_mime_message *m = w->msg;

    if (m->text) {
        if (k == 0) {
            *kind = K_TEXT;
            return m->text;
        }
        k--;
    }
    if (SMTPC_MIME_WITH_HTML && m->html) {
        if (k == 0) {
            *kind = K_HTML;
            return m->html;
        }
        k--;
        if (k < m->inline_count) {
            *kind = K_INLINE;
            return &m->inlines[k];
        }
        k -= (uint32_t)m->inline_count;
    }
    if (k < m->attachment_count) {
        *kind = K_ATTACH;
        return &m->attachments[k];
    }
    *kind = K_TEXT;
    return &empty_text; /* a message with no part at all */
}

/* The multiparts part k sits in. */
static unsigned ancestors(const smtpc_mime_writer *w, uint32_t k)
{
    const smtpc_mime_message *m = w->msg;
    unsigned a = 0;
    int kind;

    if (w->leaves < 2)
        return 0;
    leaf_part(w, k, &kind);
    if (m->attachment_count > 0)
        a |= BIT(L_MIXED);
    if (kind == K_ATTACH || !SMTPC_MIME_WITH_HTML)
        return a;
    if (m->html && m->inline_count > 0)
        a |= BIT(L_RELATED);
    if (kind == K_INLINE)
        return a;
    if (m->text && m->html)
        a |= BIT(L_ALT);
    return a;
}

static int is_text(const char *ct)
{
    static const char t[] = "text/";
    size_t i;

    for (i = 0; i < 5; i++) {
        char c = ct[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != t[i])
            return 0;
    }
    return 1;
}

static const char *content_type(const smtpc_mime_part *p, int kind)
{
    if (p->content_type)
        return p->content_type;
    if (kind == K_TEXT)
        return "text/plain";
    if (SMTPC_MIME_WITH_HTML && kind == K_HTML)
        return "text/html";
    return "application/octet-stream";
}

/* ---- Segments ---- */

static void boundary(const smtpc_mime_writer *w, int level, char *b)
{
    b[0] = '=';
    b[1] = '_';
    memcpy(b + 2, w->bid, sizeof w->bid);
    b[22] = '_';
    b[23] = "mra"[level];
    b[24] = '\0';
}

static void delimiter(mime_out *o, const smtpc_mime_writer *w, int level,
                      int lead, int close)
{
    char b[25];

    if (smtpc_mo_unit(o))
        return;
    boundary(w, level, b);
    if (lead)
        smtpc_mo_put(o, "\r\n", 2);
    smtpc_mo_put(o, "--", 2);
    smtpc_mo_put(o, b, 24);
    if (close)
        smtpc_mo_put(o, "--", 2);
    else
        smtpc_mo_crlf(o);
}

static void top_headers(const smtpc_mime_writer *w, mime_out *o)
{
    const smtpc_mime_message *m = w->msg;
    size_t i;

    /* Each field a unit (internal.h). */
    if (m->date && !smtpc_mo_unit(o))
        smtpc_mh_unstructured(o, "Date", m->date);
    if (m->from && !smtpc_mo_unit(o))
        smtpc_mh_addrs(o, "From", m->from, 1);
    if (m->to_count && !smtpc_mo_unit(o))
        smtpc_mh_addrs(o, "To", m->to, m->to_count);
    if (m->cc_count && !smtpc_mo_unit(o))
        smtpc_mh_addrs(o, "Cc", m->cc, m->cc_count);
    if (m->reply_to_count && !smtpc_mo_unit(o))
        smtpc_mh_addrs(o, "Reply-To", m->reply_to, m->reply_to_count);
    if (m->subject && !smtpc_mo_unit(o))
        smtpc_mh_unstructured(o, "Subject", m->subject);
    if (m->message_id && !smtpc_mo_unit(o))
        smtpc_mh_msgid(o, "Message-ID", m->message_id);
    for (i = 0; i < m->header_count; i++)
        if (!smtpc_mo_unit(o))
            smtpc_mh_unstructured(o, m->headers[i].name, m->headers[i].value);
    if (!smtpc_mo_unit(o)) {
        smtpc_mo_str(o, "MIME-Version: 1.0");
        smtpc_mo_crlf(o);
    }
}

static void multipart_headers(const smtpc_mime_writer *w, mime_out *o,
                              int level)
{
    static const char *const types[L_COUNT] = {
        "multipart/mixed", "multipart/related", "multipart/alternative"};
    char b[25];

    if (!smtpc_mo_unit(o)) {
        boundary(w, level, b);
        smtpc_mh_begin(o, "Content-Type", types[level]);
        /* RFC 2387: related names the type of its first part. */
        if (SMTPC_MIME_WITH_HTML && level == L_RELATED)
            smtpc_mh_param(o, "type", w->msg->text ? "multipart/alternative"
                                                   : "text/html");
        smtpc_mh_param(o, "boundary", b);
        smtpc_mo_crlf(o);
        smtpc_mo_crlf(o);
    }
    delimiter(o, w, level, 0, 0);
}

static void part_headers(const smtpc_mime_writer *w, mime_out *o, uint32_t k)
{
    static const char *const cte[] = {"7bit", "7bit", "8bit",
                                      "quoted-printable", "base64"};
    int kind, disp;
    const smtpc_mime_part *p = leaf_part(w, k, &kind);
    const char *ct = content_type(p, kind);

    if (!smtpc_mo_unit(o)) {
        smtpc_mh_begin(o, "Content-Type", ct);
        if (is_text(ct))
            smtpc_mh_param(o, "charset", "utf-8");
        if (p->filename)
            smtpc_mh_param(o, "name", p->filename);
        smtpc_mo_crlf(o);
    }
    if (!smtpc_mo_unit(o)) {
        smtpc_mh_begin(o, "Content-Transfer-Encoding", cte[w->penc]);
        smtpc_mo_crlf(o);
    }
    if (p->content_id && !smtpc_mo_unit(o))
        smtpc_mh_msgid(o, "Content-ID", p->content_id);
    disp = p->disposition;
    if (disp == SMTPC_MIME_DISP_DEFAULT)
        disp = kind == K_INLINE   ? SMTPC_MIME_DISP_INLINE
               : kind == K_ATTACH ? SMTPC_MIME_DISP_ATTACHMENT
                                  : SMTPC_MIME_DISP_DEFAULT;
    if (disp != SMTPC_MIME_DISP_DEFAULT && !smtpc_mo_unit(o)) {
        smtpc_mh_begin(o, "Content-Disposition",
                       disp == SMTPC_MIME_DISP_INLINE ? "inline" : "attachment");
        if (p->filename)
            smtpc_mh_param(o, "filename", p->filename);
        smtpc_mo_crlf(o);
    }
}

/* Segment k into o (the bytes before part k's content; k == leaves: the
 * end of the message). */
static void segment(const smtpc_mime_writer *w, uint32_t k, mime_out *o)
{
    unsigned prev = k > 0 ? ancestors(w, k - 1) : 0;
    unsigned cur = k < w->leaves ? ancestors(w, k) : 0;
    unsigned common = prev & cur;
    int x;

    if (k == 0)
        top_headers(w, o);
    for (x = L_USED - 1; x >= 0; x--)
        if ((prev & BIT(x)) && !(cur & BIT(x)))
            delimiter(o, w, x, 1, 1);
    if (k == w->leaves) {
        /* Whole lines only: the engine would otherwise add the CRLF. */
        if ((prev != 0 || w->last != '\n') && !smtpc_mo_unit(o))
            smtpc_mo_crlf(o);
        return;
    }
    for (x = L_USED - 1; x >= 0; x--) {
        if (common & BIT(x)) {
            delimiter(o, w, x, 1, 0);
            break;
        }
    }
    for (x = 0; x < L_USED; x++)
        if ((cur & BIT(x)) && !(prev & BIT(x)))
            multipart_headers(w, o, x);
    part_headers(w, o, k);
    if (!smtpc_mo_unit(o))
        smtpc_mo_crlf(o);
}

/* ---- Encodings ---- */

#if SMTPC_MIME_WITH_RAW
typedef struct scan {
    int high, nul, bare, longline, bline;
    uint64_t raw;        /* bytes once line ends are CRLF */
    unsigned char last;  /* last byte of that, '\n' when empty */
} scan;

static void scan_buffer(const unsigned char *p, size_t n, scan *s)
{
    size_t i, line = 0;
    static const char dash[] = "--=_";

    memset(s, 0, sizeof *s);
    s->raw = n;
    s->last = '\n';
    for (i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < n && p[i + 1] == '\n') {
                i++;
            } else {
                s->bare = 1;
                s->raw++;
            }
            line = 0;
            continue;
        }
        if (line == 0 && n - i >= 4 && memcmp(p + i, dash, 4) == 0)
            s->bline = 1;
        line++;
        if (line > MIME_RAW_LINE_MAX)
            s->longline = 1;
        if (c == 0)
            s->nul = 1;
        else if (c >= 0x80)
            s->high = 1;
    }
    if (n > 0)
        s->last = (p[n - 1] == '\r' || p[n - 1] == '\n') ? '\n' : p[n - 1];
}
#endif /* SMTPC_MIME_WITH_RAW */

/* Decides part p's encoding.  With size set, *size gets its encoded
 * length (or SMTPC_MIME_SIZE_UNKNOWN) and *last the last byte of it; the
 * reads ask without, which spares a pass over the content where the
 * encoding is given. */
static int choose(const smtpc_mime_writer *w, const smtpc_mime_part *p,
                  int kind, uint64_t *size, unsigned char *last)
{
    unsigned flags = w->msg->flags;
    const unsigned char *d = p->data;
    int text = is_text(content_type(p, kind));
    int enc = p->encoding;

    if (size) {
        *size = SMTPC_MIME_SIZE_UNKNOWN;
        *last = 'x';
    }
    if ((!SMTPC_MIME_WITH_RAW &&
         (enc == SMTPC_MIME_ENC_7BIT || enc == SMTPC_MIME_ENC_8BIT)) ||
        (!SMTPC_WITH_SMTPUTF8 && enc == SMTPC_MIME_ENC_8BIT))
        return SMTPC_ERR_UNSUPPORTED;
    if (enc < SMTPC_MIME_ENC_AUTO || enc > SMTPC_MIME_ENC_BASE64 ||
        (enc == SMTPC_MIME_ENC_8BIT && !MIME_FLAG(flags, SMTPC_MIME_8BITMIME)))
        return SMTPC_ERR_ARG;
    if (p->read || !SMTPC_MIME_WITH_RAW) {
        if (enc == SMTPC_MIME_ENC_AUTO)
            enc = text ? SMTPC_MIME_ENC_QP : SMTPC_MIME_ENC_BASE64;
        if (p->read) {
            if (SMTPC_MIME_WITH_SIZE && size &&
                enc == SMTPC_MIME_ENC_BASE64 && p->size > 0)
                *size = smtpc_b64_size(p->size);
            return enc;
        }
    }
#if SMTPC_MIME_WITH_RAW
    else if (enc != SMTPC_MIME_ENC_QP && enc != SMTPC_MIME_ENC_BASE64) {
        unsigned char qlast;
        int raw_ok;
        scan s;

        scan_buffer(d, p->len, &s);
        raw_ok = !s.nul && !s.longline && !s.bline;
        if (enc == SMTPC_MIME_ENC_AUTO) {
            if (raw_ok && (text || !s.bare) && !s.high)
                enc = SMTPC_MIME_ENC_7BIT;
            else if (raw_ok && (text || !s.bare) &&
                     MIME_FLAG(flags, SMTPC_MIME_8BITMIME))
                enc = SMTPC_MIME_ENC_8BIT;
            else if (text && smtpc_qp_size(1, d, p->len, &qlast) <=
                                 smtpc_b64_size(p->len))
                enc = SMTPC_MIME_ENC_QP;
            else
                enc = SMTPC_MIME_ENC_BASE64;
        } else if (!raw_ok || (enc == SMTPC_MIME_ENC_7BIT && s.high)) {
            return SMTPC_ERR_ARG;
        }
        if (size &&
            (enc == SMTPC_MIME_ENC_7BIT || enc == SMTPC_MIME_ENC_8BIT)) {
            *size = s.raw;
            *last = s.last;
            return enc;
        }
    }
#endif
    if (!SMTPC_MIME_WITH_SIZE || !size)
        return enc;
    if (enc == SMTPC_MIME_ENC_QP) {
        *size = smtpc_qp_size(text, d, p->len, last);
    } else {
        *size = smtpc_b64_size(p->len);
        *last = p->len ? 'x' : '\n';
    }
    return enc;
}

/* ---- Checks ---- */

static int check_token(const char *s, int slash)
{
    size_t i, slashes = 0;

    if (s == NULL || s[0] == '\0' || strlen(s) > 127)
        return 0;
    for (i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '/' && slash) {
            if (i == 0 || s[i + 1] == '\0')
                return 0;
            slashes++;
        } else if (c <= 0x20 || c >= 0x7f ||
                   smtpc_mime_in_set("()<>@,;:\\\"/[]?=", c)) {
            return 0;
        }
    }
    return !slash || slashes == 1;
}

static int lower_eq(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != b[i])
            return 0;
    }
    return 1;
}

static int check_header_name(const char *s)
{
    size_t i, n;

    if (s == NULL || (n = strlen(s)) == 0 || n > 76)
        return 0;
    for (i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == ':')
            return 0;
    /* The writer's own fields. */
    if ((n >= 8 && lower_eq(s, "content-", 8)) ||
        (n == 12 && lower_eq(s, "mime-version", 12)))
        return 0;
    return 1;
}

static int check_part(const smtpc_mime_part *p)
{
    if (p->content_type && !check_token(p->content_type, 1))
        return 0;
    if (!p->read && p->data == NULL && p->len > 0)
        return 0;
    if (p->disposition < SMTPC_MIME_DISP_DEFAULT ||
        p->disposition > SMTPC_MIME_DISP_ATTACHMENT)
        return 0;
    return 1;
}

/* 20 boundary characters from any number of entropy bytes: each byte is
 * stirred into a 64-bit state (an xorshift), so every byte counts. */
static void derive_bid(smtpc_mime_writer *w, const unsigned char *e,
                       size_t n)
{
    static const char set[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t x = 0x736d747063u; /* any nonzero start */
    size_t i;

    for (i = 0; i < n; i++) {
        x ^= e[i];
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    for (i = 0; i < sizeof w->bid; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        w->bid[i] = set[(uint32_t)(x >> 32) % 62u]; /* 32-bit: no libgcc call */
    }
}

static void start_segment(smtpc_mime_writer *w)
{
    int kind;
    const smtpc_mime_part *p;

    w->prepared = 1;
    if (w->leaf >= w->leaves)
        return;
    p = leaf_part(w, w->leaf, &kind);
    w->penc = (uint8_t)choose(w, p, kind, NULL, NULL);
    w->ptext = (uint8_t)is_text(content_type(p, kind));
}

int smtpc_mime_init(smtpc_mime_writer *w, const smtpc_mime_message *m)
{
    const smtpc_mime_part *p;
    uint64_t total = 0, size;
    unsigned char last;
    uint32_t k;
    size_t i;
    int known = 1, kind, enc;

    memset(w, 0, sizeof *w);
    w->msg = m;
    w->size = SMTPC_MIME_SIZE_UNKNOWN;
    if (m == NULL) {
        w->msg = NULL;
        return fail(w, SMTPC_ERR_ARG);
    }
    /* What this build folded out (smtpc_config.h). */
    if (!SMTPC_MIME_WITH_HTML && (m->html || m->inline_count))
        return fail(w, SMTPC_ERR_UNSUPPORTED);
    if ((m->inline_count && (!m->html || !m->inlines)) ||
        (m->attachment_count && !m->attachments) ||
        (m->to_count && !m->to) || (m->cc_count && !m->cc) ||
        (m->reply_to_count && !m->reply_to) ||
        (m->header_count && !m->headers) ||
        (m->entropy_len && !m->entropy) ||
        m->inline_count + m->attachment_count > SMTPC_MIME_PARTS_MAX)
        return fail(w, SMTPC_ERR_ARG);
    for (i = 0; i < m->header_count; i++)
        if (!check_header_name(m->headers[i].name) || !m->headers[i].value)
            return fail(w, SMTPC_ERR_ARG);
    if (m->date && (smtpc_mh_check_text(m->date) != SMTPC_OK ||
                    strlen(m->date) > 64))
        return fail(w, SMTPC_ERR_ARG);
    for (i = 0; m->date && m->date[i]; i++)
        if ((unsigned char)m->date[i] >= 0x80)
            return fail(w, SMTPC_ERR_ARG);
    derive_bid(w, m->entropy, m->entropy_len);
    w->leaves = (m->text ? 1u : 0u) + (m->html ? 1u : 0u) +
                (uint32_t)m->inline_count + (uint32_t)m->attachment_count;
    if (w->leaves == 0)
        w->leaves = 1;
    w->last = '\n';
    /* Everything once, counting, before a byte can leave. */
    for (k = 0; k <= w->leaves; k++) {
        mime_out o;

        size = SMTPC_MIME_SIZE_UNKNOWN;
        last = 'x';
        if (k < w->leaves) {
            p = leaf_part(w, k, &kind);
            if (!check_part(p))
                return fail(w, SMTPC_ERR_ARG);
            enc = choose(w, p, kind, SMTPC_MIME_WITH_SIZE ? &size : NULL,
                         &last);
            if (enc < 0)
                return fail(w, enc);
            w->penc = (uint8_t)enc;
            if (enc == SMTPC_MIME_ENC_8BIT)
                w->mail_flags |= SMTPC_MAIL_8BITMIME;
        }
        memset(&o, 0, sizeof o);
        o.flags = m->flags;
        segment(w, k, &o);
        if (o.err)
            return fail(w, o.err);
        if (o.utf8)
            w->mail_flags |= SMTPC_MAIL_SMTPUTF8;
        total += o.pos;
        if (k < w->leaves) {
            if (size == SMTPC_MIME_SIZE_UNKNOWN) {
                known = 0;
                last = 'x'; /* decided when the content has been read */
            } else {
                total += size;
            }
            w->last = last;
        }
    }
    w->size = known ? total : SMTPC_MIME_SIZE_UNKNOWN;
    w->penc = 0;
    w->last = '\n';
    return SMTPC_OK;
}

uint64_t smtpc_mime_size(const smtpc_mime_writer *w)
{
    return w->status == SMTPC_OK ? w->size : SMTPC_MIME_SIZE_UNKNOWN;
}

int smtpc_mime_done(const smtpc_mime_writer *w)
{
    return w->status == SMTPC_OK && w->state == W_DONE &&
           w->pend_off == w->pend_len;
}

int smtpc_mime_status(const smtpc_mime_writer *w)
{
    return w->status;
}

unsigned smtpc_mime_mail_flags(const smtpc_mime_writer *w)
{
    return w->mail_flags;
}

/* ---- Contents ---- */

static void begin_content(smtpc_mime_writer *w)
{
    int kind;
    const smtpc_mime_part *p = leaf_part(w, w->leaf, &kind);

    w->state = W_BODY;
    w->fed = 0;
    w->carry_len = 0;
    w->first_line = 1;
    w->flushed = 0;
    w->raw_cr = 0;
    w->raw_match = 0;
    w->raw_line = 0;
    w->last = '\n';
    memset(&w->qp, 0, sizeof w->qp);
    if (p->read) {
        w->in = NULL;
        w->in_len = 0;
        w->src_end = 0;
    } else {
        w->in = p->data;
        w->in_len = p->len;
        w->src_end = 1;
    }
}

static void end_content(smtpc_mime_writer *w)
{
    w->state = W_SEG;
    w->leaf++;
    w->seg_off = 0;
    w->seg_unit = 0;
    w->seg_upos = 0;
    w->prepared = 0;
}

/* Asks the part's callback for more; 0 when the read cannot go on. */
static int pull(smtpc_mime_writer *w)
{
    int kind;
    const smtpc_mime_part *p = leaf_part(w, w->leaf, &kind);
    const void *d = NULL;
    size_t len = 0;
    int rc = p->read(p->ctx, &d, &len);

    if (rc == SMTPC_MIME_LATER) {
        w->stall = 1;
        return 0;
    }
    if (rc != SMTPC_OK) {
        fail(w, rc < 0 ? rc : SMTPC_ERR_BODY_SOURCE);
        return 0;
    }
    if (len == 0) {
        w->src_end = 1;
        if (p->size > 0 && w->fed != p->size) {
            fail(w, SMTPC_ERR_BODY_SOURCE);
            return 0;
        }
        return 1;
    }
    if (d == NULL || (p->size > 0 && w->fed + len > p->size)) {
        fail(w, SMTPC_ERR_BODY_SOURCE);
        return 0;
    }
    w->fed += len;
    w->in = d;
    w->in_len = len;
    return 1;
}

#if SMTPC_MIME_WITH_RAW
/* Raw (7bit, 8bit): line ends made CRLF, lines and bytes checked. */
static size_t raw_copy(smtpc_mime_writer *w, char *out, size_t room)
{
    static const char dash[] = "--=_";
    const unsigned char *in = w->in;
    char *o = out;
    size_t i;

    for (i = 0; i < w->in_len && room - (size_t)(o - out) >= 2; i++) {
        unsigned char c = in[i];

        if (w->raw_cr) {
            w->raw_cr = 0;
            if (c == '\n')
                continue;
        }
        if (c == '\r' || c == '\n') {
            *o++ = '\r';
            *o++ = '\n';
            w->raw_cr = c == '\r';
            w->raw_line = 0;
            w->raw_match = 0;
            continue;
        }
        if (c == 0 || (c >= 0x80 && w->penc == SMTPC_MIME_ENC_7BIT) ||
            ++w->raw_line > MIME_RAW_LINE_MAX) {
            fail(w, SMTPC_ERR_BODY_SOURCE);
            break;
        }
        if (w->raw_match < 4) {
            if (c == (unsigned char)dash[w->raw_match]) {
                if (++w->raw_match == 4) {
                    fail(w, SMTPC_ERR_BODY_SOURCE);
                    break;
                }
            } else {
                w->raw_match = 0xff;
            }
        }
        *o++ = (char)c;
    }
    w->in += i;
    w->in_len -= i;
    return (size_t)(o - out);
}

#endif /* SMTPC_MIME_WITH_RAW */

/* Whole base64 lines straight from the input: CRLF before every line
 * but the first, none after the last. */
static size_t b64_lines(smtpc_mime_writer *w, char *out, size_t room)
{
    const unsigned char *in = w->in;
    size_t lines = w->in_len / MIME_B64_IN, i;
    char *o = out;

    if (w->first_line) {
        if (room < 76)
            return 0;
        smtpc_base64_encode(o, in, MIME_B64_IN);
        o += 76;
        in += MIME_B64_IN;
        room -= 76;
        lines--;
        w->first_line = 0;
    }
    if (lines > room / 78)
        lines = room / 78;
    for (i = 0; i < lines; i++) {
        o[0] = '\r';
        o[1] = '\n';
        smtpc_base64_encode(o + 2, in, MIME_B64_IN);
        o += 78;
        in += MIME_B64_IN;
    }
    w->in_len -= (size_t)(in - w->in);
    w->in = in;
    return (size_t)(o - out);
}

/* One base64 line (or the last, short one) from carry into pend. */
static void b64_carry_line(smtpc_mime_writer *w)
{
    size_t n = 0;

    if (w->carry_len == 0)
        return;
    if (!w->first_line) {
        w->pend[n++] = '\r';
        w->pend[n++] = '\n';
    }
    n += smtpc_base64_encode(w->pend + n, w->carry, w->carry_len);
    w->first_line = 0;
    w->carry_len = 0;
    w->pend_off = 0;
    w->pend_len = (uint8_t)n;
}

/* Some content into out: returns the bytes written there (pend may be
 * filled instead when room is small); sets w->stall when nothing more
 * can happen in this read. */
static size_t content(smtpc_mime_writer *w, char *out, size_t room)
{
    size_t n = 0, used;

    w->pend_seg = 0; /* pend is empty here: what goes in is content */
    if (w->in_len == 0) {
        if (!w->src_end) {
            pull(w);
            return 0;
        }
        if (w->flushed) {
            end_content(w);
            return 0;
        }
        /* The input is complete: the encoder's last bytes. */
        w->flushed = 1;
        w->pend_off = 0;
        w->pend_len = 0;
        if (w->penc == SMTPC_MIME_ENC_BASE64)
            b64_carry_line(w);
        else if (w->penc == SMTPC_MIME_ENC_QP)
            w->pend_len = (uint8_t)smtpc_qp_finish(&w->qp, w->pend);
        return 0;
    }
    switch (w->penc) {
    case SMTPC_MIME_ENC_BASE64:
        if (w->carry_len == 0 && w->in_len >= MIME_B64_IN &&
            (n = b64_lines(w, out, room)) > 0)
            return n;
        used = MIME_B64_IN - w->carry_len;
        if (used > w->in_len)
            used = w->in_len;
        memcpy(w->carry + w->carry_len, w->in, used);
        w->carry_len = (uint8_t)(w->carry_len + used);
        w->in += used;
        w->in_len -= used;
        if (w->carry_len == MIME_B64_IN)
            b64_carry_line(w);
        return 0;
    case SMTPC_MIME_ENC_QP:
        if (room >= MIME_QP_UNIT) {
            n = smtpc_qp_encode(&w->qp, w->ptext, w->in, w->in_len, out, room,
                                &used);
        } else {
            w->pend_off = 0;
            w->pend_len = (uint8_t)smtpc_qp_encode(&w->qp, w->ptext, w->in,
                                                   1, w->pend,
                                                   sizeof w->pend, &used);
        }
        w->in += used;
        w->in_len -= used;
        return n;
    default:
#if SMTPC_MIME_WITH_RAW
        if (room >= 2)
            return raw_copy(w, out, room);
        {
            size_t keep = w->in_len;
            w->in_len = 1;
            w->pend_off = 0;
            w->pend_len = (uint8_t)raw_copy(w, w->pend, sizeof w->pend);
            w->in_len += keep - 1;
        }
#endif
        return 0;
    }
}

size_t smtpc_mime_read(smtpc_mime_writer *w, void *buf, size_t cap)
{
    char *out = buf;
    size_t got = 0, n;

    w->stall = 0;
    while (got < cap && w->status == SMTPC_OK && !w->stall) {
        if (w->pend_off < w->pend_len) {
            n = (size_t)(w->pend_len - w->pend_off);
            if (n > cap - got)
                n = cap - got;
            memcpy(out + got, w->pend + w->pend_off, n);
            w->pend_off = (uint8_t)(w->pend_off + n);
            got += n;
            if (!w->pend_seg)
                w->last = (uint8_t)out[got - 1]; /* content only */
            continue;
        }
        if (w->state == W_DONE)
            break;
        if (w->state == W_SEG) {
            mime_out o;
            /* A small read takes a pend-full at a time: each one runs the
             * segment's code again, so fewer, larger windows. */
            int staged = cap - got < sizeof w->pend;

            if (!w->prepared)
                start_segment(w);
            memset(&o, 0, sizeof o);
            o.buf = staged ? w->pend : out + got;
            o.cap = staged ? sizeof w->pend : cap - got;
            o.skip = w->seg_off;
            o.flags = w->msg->flags;
            o.from_unit = w->seg_unit;
            o.from_pos = w->seg_upos;
            segment(w, w->leaf, &o);
            w->seg_unit = o.mark_unit;
            w->seg_upos = o.mark_pos;
            n = (size_t)(o.pos - w->seg_off);
            if (n > o.cap)
                n = o.cap;
            if (staged) {
                w->pend_off = 0;
                w->pend_len = (uint8_t)n;
                w->pend_seg = 1;
            } else {
                got += n;
            }
            w->seg_off += n;
            if (w->seg_off == o.pos) {
                if (w->leaf == w->leaves)
                    w->state = W_DONE;
                else
                    begin_content(w);
            }
            continue;
        }
        n = content(w, out + got, cap - got);
        if (n > 0) {
            got += n;
            w->last = (uint8_t)out[got - 1];
        }
    }
    return got;
}

#endif /* SMTPC_WITH_MIME */
