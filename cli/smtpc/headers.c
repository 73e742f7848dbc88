/*
 * cli/smtpc/headers.c - a message's header section: where it ends, the
 * envelope its fields name, and the removal of Bcc.
 *
 * Used by --batch and -t, which take the envelope from the message the way
 * sendmail -t does.  The rules, documented in smtpc(1):
 *   - Line ends are CRLF, LF or a bare CR, as the engine treats them.  The
 *     section ends at the first empty line, or before the first line that
 *     is neither a field ("Name:", RFC 5322 2.2, obsolete WSP before the
 *     colon allowed) nor a continuation (it starts with a space or tab);
 *     that line is the first of the body, as Postfix's cleanup decides.
 *   - Fields are unfolded (2.2.3) and parsed as RFC 5322 3.4 address lists:
 *     display names, quoted strings, comments (nested), groups, obsolete
 *     routes, local parts in pieces ("a" . b), domain literals.  The
 *     address kept is the RFC 5321 form: a local part that can be a
 *     dot-string is written as one, others are quoted.
 *   - Sender: Sender: (one mailbox) when present, else From: (one
 *     mailbox); recipients: To:, Cc:, Bcc:, without duplicates.  When the
 *     message has Resent- fields, the newest block of them (the first,
 *     3.6.6) is used instead: Resent-Sender/From, Resent-To/Cc/Bcc.
 *   - Every Bcc: and Resent-Bcc: field is removed from what is sent.
 * Anything malformed in a field that is used is an error, never a guess:
 * a recipient silently lost, or an address half-read, is worse.
 *
 * The parser works on the caller's buffer (at most CLI_HEADER_MAX bytes);
 * only the addresses it returns are allocated.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

/* ---- lines and fields ---- */

static int is_wsp(unsigned c) { return c == ' ' || c == '\t'; }

/* The line starting at pos: its content ends at *eol, the next line starts
 * at *next.  0 when it is not complete yet (no line end, or a CR that an
 * LF may follow) and more bytes may come. */
static int line_at(const unsigned char *b, size_t len, size_t pos, int at_eof,
                   size_t *eol, size_t *next)
{
    size_t i;

    for (i = pos; i < len; i++) {
        if (b[i] == '\n') {
            *eol = i;
            *next = i + 1;
            return 1;
        }
        if (b[i] == '\r') {
            if (i + 1 == len && !at_eof)
                return 0;
            *eol = i;
            *next = i + 1 < len && b[i + 1] == '\n' ? i + 2 : i + 1;
            return 1;
        }
    }
    if (!at_eof || pos == len)
        return 0;
    *eol = *next = len;
    return 1;
}

/* When the line l[0..n) starts a field: the length of its name; *value
 * is where the value starts (after the colon).  Else 0. */
static size_t field_name(const unsigned char *l, size_t n, size_t *value)
{
    size_t i = 0, name;

    while (i < n && l[i] > 32 && l[i] < 127 && l[i] != ':')
        i++;
    name = i;
    while (i < n && is_wsp(l[i]))
        i++;
    if (name == 0 || i == n || l[i] != ':')
        return 0;
    *value = i + 1;
    return name;
}

int cli_headers_end(const unsigned char *b, size_t len, int at_eof,
                    size_t *end)
{
    size_t pos = 0, eol, next, v;

    for (;;) {
        if (!line_at(b, len, pos, at_eof, &eol, &next)) {
            if (!at_eof)
                return 0;
            *end = pos; /* the message is all header */
            return 1;
        }
        if (eol == pos) {
            *end = next; /* the empty line belongs to the section */
            return 1;
        }
        if (is_wsp(b[pos]) ? pos == 0 : !field_name(b + pos, eol - pos, &v)) {
            *end = pos; /* not a header line: the body starts here */
            return 1;
        }
        pos = next;
    }
}

/* One field: bytes [start, end) with its line ends, name, value. */
typedef struct field {
    size_t start, end;
    const unsigned char *name;
    size_t name_len;
    size_t value, value_end; /* offsets; value_end before the last line end */
} field;

/* The field at *pos in the section b[0..len), or 0 at its end. */
static int next_field(const unsigned char *b, size_t len, size_t *pos,
                      field *f)
{
    size_t eol, next, v;

    if (!line_at(b, len, *pos, 1, &eol, &next) || eol == *pos ||
        is_wsp(b[*pos]))
        return 0;
    f->name_len = field_name(b + *pos, eol - *pos, &v);
    if (f->name_len == 0)
        return 0;
    f->start = *pos;
    f->name = b + *pos;
    f->value = *pos + v;
    f->value_end = eol;
    /* Continuation lines. */
    while (next < len && is_wsp(b[next]) &&
           line_at(b, len, next, 1, &eol, &v)) {
        f->value_end = eol;
        next = v;
    }
    f->end = next;
    *pos = next;
    return 1;
}

/* ---- the fields that matter ---- */

enum {
    F_OTHER = 0, F_FROM, F_SENDER, F_TO, F_CC, F_BCC,
    F_DATE, F_MESSAGE_ID, /* only looked for: smtpc adds them when missing */
    F_RESENT = 8, /* added to the kinds F_FROM..F_BCC for Resent- fields */
    F_RESENT_DATE = 16, F_RESENT_OTHER = 17,
    F_ARGUMENT = 32 /* no field: a recipient argument (cli_address_list) */
};

static const struct {
    const char *name;
    int kind;
} field_kinds[] = {
    {"From", F_FROM},
    {"Sender", F_SENDER},
    {"To", F_TO},
    {"Cc", F_CC},
    {"Bcc", F_BCC},
    {"Resent-From", F_RESENT + F_FROM},
    {"Resent-Sender", F_RESENT + F_SENDER},
    {"Resent-To", F_RESENT + F_TO},
    {"Resent-Cc", F_RESENT + F_CC},
    {"Resent-Bcc", F_RESENT + F_BCC},
    {"Resent-Date", F_RESENT_DATE},
    {"Date", F_DATE},
    {"Message-ID", F_MESSAGE_ID},
};

static int field_kind(const field *f)
{
    for (size_t i = 0; i < sizeof field_kinds / sizeof field_kinds[0]; i++) {
        if (strlen(field_kinds[i].name) == f->name_len &&
            strncasecmp((const char *)f->name, field_kinds[i].name,
                        f->name_len) == 0)
            return field_kinds[i].kind;
    }
    if (f->name_len > 7 && strncasecmp((const char *)f->name, "Resent-", 7) == 0)
        return F_RESENT_OTHER;
    return F_OTHER;
}

/* The field's name as we print it (ours, never the message's bytes). */
static const char *kind_name(int kind)
{
    if (kind == F_ARGUMENT)
        return "recipient";
    for (size_t i = 0; i < sizeof field_kinds / sizeof field_kinds[0]; i++) {
        if (field_kinds[i].kind == kind)
            return field_kinds[i].name;
    }
    return "header";
}

/* ---- results ---- */

static void set_error(cli_headers *h, const char *fmt, ...)
{
    va_list ap;

    if (h->error[0])
        return; /* the first error is the one that explains */
    va_start(ap, fmt);
    vsnprintf(h->error, sizeof h->error, fmt, ap);
    va_end(ap);
}

/* Local part and domain of an address in our canonical form: the domain
 * starts after the first '@' outside quotes. */
static size_t local_len(const char *a)
{
    int q = 0;
    size_t i;

    for (i = 0; a[i]; i++) {
        if (a[i] == '"')
            q = !q;
        else if (a[i] == '\\' && q && a[i + 1])
            i++;
        else if (a[i] == '@' && !q)
            break;
    }
    return i;
}

int cli_same_address(const char *a, const char *b)
{
    size_t la = local_len(a), lb = local_len(b);

    return la == lb && memcmp(a, b, la) == 0 && strcasecmp(a + la, b + lb) == 0;
}

/* A growing list of allocated strings. */
typedef struct strv {
    char **v;
    size_t n, cap;
} strv;

static int strv_push(strv *sv, char *s)
{
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 8;
        char **v = realloc(sv->v, cap * sizeof *v);
        if (!v)
            return -1;
        sv->v = v;
        sv->cap = cap;
    }
    sv->v[sv->n++] = s;
    return 0;
}

static void strv_free(strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    memset(sv, 0, sizeof *sv);
}

/* A growing byte string. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sbuf_add(sbuf *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char *s;
        while (cap < b->len + n + 1)
            cap *= 2;
        s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sbuf_addc(sbuf *b, char c) { sbuf_add(b, &c, 1); }

/* ---- RFC 5322 3.4 address lists ---- */

typedef struct parser {
    const unsigned char *s; /* the unfolded value */
    size_t n, i;
    int kind;               /* the field, for messages */
    cli_headers *h;
    strv *out;              /* mailboxes found */
    int oom;
} parser;

static int atext(unsigned c)
{
    /* RFC 5322 3.2.3, and UTF-8 (RFC 6532 3.2) */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c >= 0x80 ||
           (c && strchr("!#$%&'*+-/=?^_`{|}~", (int)c) != NULL);
}

static int peek(const parser *p) { return p->i < p->n ? p->s[p->i] : -1; }

static int fail(parser *p, const char *why)
{
    set_error(p->h, "%s: %s", kind_name(p->kind), why);
    return -1;
}

/* Skips white space and comments (nested, with quoted pairs). */
static int skip_cfws(parser *p)
{
    for (;;) {
        int c = peek(p);
        if (c == ' ' || c == '\t') {
            p->i++;
        } else if (c == '(') {
            int depth = 0;
            do {
                c = peek(p);
                if (c < 0)
                    return fail(p, "unterminated comment");
                p->i++;
                if (c == '\\' && p->i < p->n)
                    p->i++;
                else if (c == '(')
                    depth++;
                else if (c == ')')
                    depth--;
            } while (depth > 0);
        } else {
            return 0;
        }
    }
}

/* A quoted string at '"': its content, unescaped, into b. */
static int quoted_string(parser *p, sbuf *b)
{
    p->i++;
    for (;;) {
        int c = peek(p);
        if (c < 0)
            return fail(p, "unterminated quoted string");
        p->i++;
        if (c == '"')
            return 0;
        if (c == '\\') {
            if (p->i >= p->n)
                return fail(p, "unterminated quoted string");
            c = p->s[p->i++];
        }
        sbuf_addc(b, (char)c);
    }
}

/* Words and dots up to the next special: a display name, or a local part.
 * ph gets the words joined by the dots between them. */
typedef struct phrase {
    sbuf text;
    size_t words;
    int quoted;    /* a word was a quoted string */
    int dot_form;  /* word *("." word): usable as a local part */
    int last;      /* 0 nothing yet, 1 a word, 2 a dot */
} phrase;

static int read_phrase(parser *p, phrase *ph)
{
    memset(ph, 0, sizeof *ph);
    ph->dot_form = 1;
    for (;;) {
        int c;
        if (skip_cfws(p))
            return -1;
        c = peek(p);
        if (c == '"' || (c >= 0 && atext((unsigned)c))) {
            if (ph->last == 1)
                ph->dot_form = 0; /* two words side by side: a name */
            if (c == '"') {
                if (quoted_string(p, &ph->text))
                    return -1;
                ph->quoted = 1;
            } else {
                size_t s = p->i;
                while (p->i < p->n && atext(p->s[p->i]))
                    p->i++;
                sbuf_add(&ph->text, p->s + s, p->i - s);
            }
            ph->words++;
            ph->last = 1;
        } else if (c == '.') {
            if (ph->last != 1)
                ph->dot_form = 0;
            sbuf_addc(&ph->text, '.');
            p->i++;
            ph->last = 2;
        } else {
            break;
        }
    }
    if (ph->last != 1)
        ph->dot_form = 0;
    if (ph->text.oom)
        p->oom = 1;
    return p->oom ? -1 : 0;
}

/* s[0..n) is a dot-atom: atoms of atext joined by single dots. */
static int is_dot_atom(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' ? s[i + 1] == '.' : !atext((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

/* The RFC 5321 form of a local part: a dot-string when it can be one,
 * else a quoted string. */
static void put_local(sbuf *out, const phrase *ph)
{
    const char *t = ph->text.s ? ph->text.s : "";

    if (is_dot_atom(t, ph->text.len)) {
        sbuf_add(out, t, ph->text.len);
        return;
    }
    sbuf_addc(out, '"');
    for (size_t i = 0; i < ph->text.len; i++) {
        if (t[i] == '"' || t[i] == '\\')
            sbuf_addc(out, '\\');
        sbuf_addc(out, t[i]);
    }
    sbuf_addc(out, '"');
}

/* A domain after '@': dot-atom (pieces may be separated by CFWS, obs-domain)
 * or a domain literal. */
static int read_domain(parser *p, sbuf *out)
{
    int c;

    if (skip_cfws(p))
        return -1;
    c = peek(p);
    if (c == '[') {
        sbuf_addc(out, '[');
        p->i++;
        for (;;) {
            c = peek(p);
            if (c < 0)
                return fail(p, "unterminated domain literal");
            p->i++;
            if (c == ']')
                break;
            if (is_wsp((unsigned)c))
                continue; /* FWS inside a literal is not part of it */
            if (c == '\\' && p->i < p->n)
                c = p->s[p->i++];
            if (c == '[' || c == '\\' || c < 33 || c == 127)
                return fail(p, "invalid domain literal");
            sbuf_addc(out, (char)c);
        }
        sbuf_addc(out, ']');
        return 0;
    }
    for (;;) {
        size_t s = p->i;
        while (p->i < p->n && atext(p->s[p->i]))
            p->i++;
        if (p->i == s)
            return fail(p, "missing or invalid domain after '@'");
        sbuf_add(out, p->s + s, p->i - s);
        if (skip_cfws(p))
            return -1;
        if (peek(p) != '.')
            return 0;
        p->i++;
        sbuf_addc(out, '.');
        if (skip_cfws(p))
            return -1;
    }
}

/* Keeps a mailbox: checked as the engine will check it. */
static int keep_mailbox(parser *p, sbuf *a)
{
    if (a->oom) {
        p->oom = 1;
        return -1;
    }
    if (smtpc_check_address(a->s, 0) != SMTPC_OK) {
        set_error(p->h, "%s: unusable address \"%.100s\"", kind_name(p->kind),
                  a->s);
        free(a->s);
        return -1;
    }
    if (strv_push(p->out, a->s)) {
        free(a->s);
        p->oom = 1;
        return -1;
    }
    return 0;
}

/* local-part "@" domain, with the local part read already. */
static int finish_addr_spec(parser *p, const phrase *ph)
{
    sbuf a = {0};

    if (!ph->dot_form)
        return fail(p, "invalid local part before '@'");
    p->i++; /* '@' */
    put_local(&a, ph);
    sbuf_addc(&a, '@');
    if (read_domain(p, &a)) {
        free(a.s);
        return -1;
    }
    return keep_mailbox(p, &a);
}

/* A local part with no '@' after it: only "postmaster" is a mailbox,
 * unless --qualify-domain gives the domain (cron writes "To: root"). */
static int bare_local(parser *p, const phrase *ph)
{
    sbuf a = {0};

    if (!ph->dot_form)
        return fail(p, "a name with no <address>");
    put_local(&a, ph);
    if (p->h->qualify) {
        sbuf_addc(&a, '@');
        sbuf_add(&a, p->h->qualify, strlen(p->h->qualify));
    }
    if (a.oom) {
        p->oom = 1;
        return -1;
    }
    if (smtpc_check_address(a.s, 0) != SMTPC_OK) {
        set_error(p->h, "%s: \"%.100s\" has no @domain (see "
                  "--qualify-domain)", kind_name(p->kind), a.s);
        free(a.s);
        return -1;
    }
    return keep_mailbox(p, &a);
}

/* "<" [obs-route] addr-spec ">" at '<'. */
static int angle_addr(parser *p)
{
    phrase ph;
    int r;

    p->i++;
    if (skip_cfws(p))
        return -1;
    if (peek(p) == '>')
        return fail(p, "empty address <>");
    if (peek(p) == '@') {
        /* obs-route: "@a,@b:" -- source routes are ignored (RFC 5321 C) */
        for (;;) {
            sbuf junk = {0};
            if (peek(p) == '@') {
                p->i++;
                r = read_domain(p, &junk);
                free(junk.s);
                if (r)
                    return -1;
            }
            if (skip_cfws(p))
                return -1;
            if (peek(p) == ',') {
                p->i++;
                if (skip_cfws(p))
                    return -1;
                continue;
            }
            if (peek(p) != ':')
                return fail(p, "invalid route in <address>");
            p->i++;
            break;
        }
    }
    if (read_phrase(p, &ph))
        goto out_fail;
    if (skip_cfws(p))
        goto out_fail;
    if (peek(p) == '@')
        r = finish_addr_spec(p, &ph);
    else if (ph.words && peek(p) == '>')
        r = bare_local(p, &ph);
    else
        r = fail(p, "invalid <address>");
    free(ph.text.s);
    if (r)
        return -1;
    if (skip_cfws(p))
        return -1;
    if (peek(p) != '>')
        return fail(p, "missing '>' after an address");
    p->i++;
    return 0;
out_fail:
    free(ph.text.s);
    return -1;
}

static int address(parser *p, int allow_group);

/* group-list ";" after the ':' */
static int group_rest(parser *p)
{
    p->i++; /* ':' */
    for (;;) {
        int c;
        if (skip_cfws(p))
            return -1;
        c = peek(p);
        if (c == ';') {
            p->i++;
            return 0;
        }
        if (c == ',') {
            p->i++;
            continue;
        }
        if (c < 0)
            return fail(p, "group not ended with ';'");
        if (address(p, 0))
            return -1;
        if (skip_cfws(p))
            return -1;
        c = peek(p);
        if (c == ',')
            p->i++;
        else if (c != ';')
            return fail(p, c < 0 ? "group not ended with ';'"
                                 : "expected ',' or ';' in a group");
    }
}

/* mailbox / group */
static int address(parser *p, int allow_group)
{
    phrase ph;
    int c, r;

    if (read_phrase(p, &ph)) {
        free(ph.text.s);
        return -1;
    }
    if (skip_cfws(p)) {
        free(ph.text.s);
        return -1;
    }
    c = peek(p);
    if (c == '<')
        r = angle_addr(p); /* the phrase was a display name */
    else if (c == '@')
        r = finish_addr_spec(p, &ph);
    else if (c == ':' && ph.words)
        r = allow_group ? group_rest(p) : fail(p, "a group inside a group");
    else if (ph.words && (c < 0 || c == ',' || c == ';'))
        r = bare_local(p, &ph);
    else if (c < 0)
        r = fail(p, "missing address");
    else
        r = fail(p, "unexpected character in an address");
    free(ph.text.s);
    return r;
}

static int address_list(parser *p)
{
    for (;;) {
        int c;
        if (skip_cfws(p))
            return -1;
        c = peek(p);
        if (c < 0)
            return 0;
        if (c == ',') { /* obs-addr-list: empty members */
            p->i++;
            continue;
        }
        if (address(p, 1))
            return -1;
        if (skip_cfws(p))
            return -1;
        c = peek(p);
        if (c < 0)
            return 0;
        if (c != ',')
            return fail(p, "expected ',' between addresses");
        p->i++;
    }
}

/* Parses field f's value as an address list into out. */
static int parse_field(const unsigned char *b, const field *f, int kind,
                       cli_headers *h, strv *out)
{
    parser p;
    unsigned char *u;
    size_t n = 0;
    int r;

    /* Unfold: the line ends inside a field are all followed by WSP. */
    u = malloc(f->value_end - f->value + 1);
    if (!u)
        return -2;
    for (size_t i = f->value; i < f->value_end; i++) {
        if (b[i] != '\r' && b[i] != '\n')
            u[n++] = b[i];
    }
    memset(&p, 0, sizeof p);
    p.s = u;
    p.n = n;
    p.kind = kind;
    p.h = h;
    p.out = out;
    r = address_list(&p);
    free(u);
    if (p.oom)
        return -2;
    return r;
}

int cli_address_list(const char *s, const char *qualify, char ***v,
                     size_t *n, cli_headers *h)
{
    strv out = {0};
    parser p;
    int r;

    memset(h, 0, sizeof *h);
    h->qualify = qualify;
    memset(&p, 0, sizeof p);
    p.s = (const unsigned char *)s;
    p.n = strlen(s);
    p.kind = F_ARGUMENT;
    p.h = h;
    p.out = &out;
    r = address_list(&p);
    if (r == 0 && !p.oom) {
        /* Appended to the caller's list, without duplicates. */
        for (size_t i = 0; i < out.n; i++) {
            int dup = 0;
            for (size_t j = 0; j < *n && !dup; j++)
                dup = cli_same_address((*v)[j], out.v[i]);
            if (dup)
                continue;
            char **nv = realloc(*v, (*n + 1) * sizeof *nv);
            if (!nv) {
                p.oom = 1;
                break;
            }
            *v = nv;
            (*v)[(*n)++] = out.v[i];
            out.v[i] = NULL;
        }
    }
    strv_free(&out);
    if (p.oom) {
        set_error(h, "out of memory");
        return CLI_HDR_NOMEM;
    }
    return r ? CLI_HDR_BAD : 0;
}

/* ---- the section ---- */

/* The newest block of Resent- fields: [*start, *end), or 0 when none.
 * Each resent field appears at most once in a block (RFC 5322 3.6), so a
 * repeated one, or a field that is not a resent field, ends the block. */
static int resent_block(const unsigned char *b, size_t len, size_t *start,
                        size_t *end)
{
    size_t pos = 0;
    unsigned seen = 0;
    int in = 0;
    field f;

    while (next_field(b, len, &pos, &f)) {
        int k = field_kind(&f);
        int resent = k >= F_RESENT;
        if (!in) {
            if (!resent)
                continue;
            in = 1;
            *start = f.start;
        } else if (!resent ||
                   (k != F_RESENT_OTHER && (seen & (1u << (k - F_RESENT))))) {
            *end = f.start;
            return 1;
        }
        if (k != F_RESENT_OTHER)
            seen |= 1u << (k - F_RESENT);
        *end = f.end;
    }
    return in;
}

/* Mailboxes of sender fields of kind want within [lo, hi): *found counts
 * the fields. */
static int collect(const unsigned char *b, size_t len, size_t lo, size_t hi,
                   int want, cli_headers *h, strv *out, int *found)
{
    size_t pos = 0;
    field f;
    int r;

    *found = 0;
    while (next_field(b, len, &pos, &f)) {
        if (f.start < lo || f.start >= hi || field_kind(&f) != want)
            continue;
        ++*found;
        r = parse_field(b, &f, want, h, out);
        if (r)
            return r;
    }
    return 0;
}

/* The envelope sender: Sender: when present, else From:; one mailbox. */
static int find_sender(const unsigned char *b, size_t len, size_t lo,
                       size_t hi, int resent, cli_headers *h)
{
    static const int kinds[2] = {F_SENDER, F_FROM};
    strv mb = {0};
    int found = 0, r = 0;

    for (int i = 0; i < 2; i++) {
        int k = kinds[i] + resent;
        r = collect(b, len, lo, hi, k, h, &mb, &found);
        if (r)
            break;
        if (found > 1) {
            set_error(h, "more than one %s: field", kind_name(k));
            r = -1;
        } else if (found && mb.n == 0) {
            /* "From: undisclosed:;" names nobody: fall back to nothing */
            if (kinds[i] == F_SENDER) {
                set_error(h, "%s: names no mailbox", kind_name(k));
                r = -1;
            }
        } else if (mb.n > 1) {
            set_error(h, "%s: names %zu mailboxes; a %s: field must say "
                      "which one sends (or give --from)", kind_name(k), mb.n,
                      kind_name(F_SENDER + resent));
            r = -1;
        } else if (mb.n == 1) {
            h->sender = mb.v[0];
            mb.n = 0;
        }
        if (r || found)
            break;
    }
    strv_free(&mb);
    return r;
}

static int find_rcpts(const unsigned char *b, size_t len, size_t lo,
                      size_t hi, int resent, cli_headers *h)
{
    static const int kinds[3] = {F_TO, F_CC, F_BCC};
    strv all = {0};
    int r = 0, found;

    for (int i = 0; i < 3 && r == 0; i++) {
        strv mb = {0};
        r = collect(b, len, lo, hi, kinds[i] + resent, h, &mb, &found);
        for (size_t j = 0; j < mb.n && r == 0; j++) {
            int dup = 0;
            for (size_t k = 0; k < all.n && !dup; k++)
                dup = cli_same_address(all.v[k], mb.v[j]);
            if (dup)
                continue; /* one RCPT per mailbox, as sendmail does */
            if (strv_push(&all, mb.v[j]))
                r = -2;
            else
                mb.v[j] = NULL; /* now all's */
        }
        strv_free(&mb);
    }
    if (r) {
        strv_free(&all);
        return r;
    }
    h->rcpts = all.v;
    h->rcpt_count = all.n;
    return 0;
}

/* Which of From:, Date: and Message-ID: the section has (CLI_HAS_*). */
static unsigned present_fields(const unsigned char *b, size_t len)
{
    size_t pos = 0;
    unsigned has = 0;
    field f;

    while (next_field(b, len, &pos, &f)) {
        switch (field_kind(&f)) {
        case F_FROM:
            has |= CLI_HAS_FROM;
            break;
        case F_DATE:
            has |= CLI_HAS_DATE;
            break;
        case F_MESSAGE_ID:
            has |= CLI_HAS_MESSAGE_ID;
            break;
        default:
            break;
        }
    }
    return has;
}

/* Removes every Bcc: and Resent-Bcc: field, in place. */
static size_t strip_bcc(unsigned char *b, size_t len)
{
    size_t pos = 0, w = 0, copied = 0;
    field f;

    while (next_field(b, len, &pos, &f)) {
        int k = field_kind(&f);
        if (k == F_BCC || k == F_RESENT + F_BCC) {
            memmove(b + w, b + copied, f.start - copied);
            w += f.start - copied;
            copied = f.end;
        }
    }
    memmove(b + w, b + copied, len - copied);
    return w + (len - copied);
}

int cli_headers_parse(unsigned char *b, size_t *len, unsigned flags,
                      const char *qualify, cli_headers *h)
{
    size_t lo = 0, hi = *len;
    int resent = 0, r = 0;

    memset(h, 0, sizeof *h);
    h->qualify = qualify;
    if (memchr(b, '\0', *len)) {
        set_error(h, "the header section contains a NUL byte");
        return CLI_HDR_BAD;
    }
    if (resent_block(b, *len, &lo, &hi)) {
        resent = F_RESENT;
    } else {
        lo = 0;
        hi = *len;
    }
    if (flags & CLI_HDR_SENDER)
        r = find_sender(b, *len, lo, hi, resent, h);
    if (r == 0 && (flags & CLI_HDR_RCPTS))
        r = find_rcpts(b, *len, lo, hi, resent, h);
    if (r) {
        cli_headers_free(h);
        if (r == -2) {
            set_error(h, "out of memory");
            return CLI_HDR_NOMEM;
        }
        return CLI_HDR_BAD;
    }
    h->resent = resent != 0;
    h->present = present_fields(b, *len);
    if (flags & CLI_HDR_STRIP_BCC) {
        size_t n = strip_bcc(b, *len);
        h->stripped = *len - n;
        *len = n;
    }
    return 0;
}

void cli_headers_free(cli_headers *h)
{
    for (size_t i = 0; i < h->rcpt_count; i++)
        free(h->rcpts[i]);
    free(h->rcpts);
    free(h->sender);
    h->rcpts = NULL;
    h->rcpt_count = 0;
    h->sender = NULL;
}
