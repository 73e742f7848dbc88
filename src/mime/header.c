/*
 * Header fields: folding at 78 columns, RFC 2047 encoded-words, RFC 5322
 * address lists, RFC 2231 parameters.
 *
 * Every function writes through a mime_out and checks its input as it
 * goes: a refused value sets o->err and writes nothing more that
 * matters (smtpc_mime_init runs everything once before any byte leaves,
 * so a refusal there means nothing is ever produced).
 */
#include "internal.h"

#if SMTPC_WITH_MIME

void smtpc_mo_put(mime_out *o, const char *s, size_t n)
{
    size_t pos = o->pos, end = pos + n, from, to;

    if (end < pos) {
        /* A segment longer than size_t counts: refused by init. */
        o->err = SMTPC_ERR_ARG;
        o->full = 1;
        return;
    }
    /* The part of [pos, end) that falls inside the window [skip, skip +
     * cap), computed without forming a sum that could wrap. */
    from = pos > o->skip ? pos : o->skip;
    to = end;
    if (end > o->skip && end - o->skip > o->cap) {
        to = o->skip + o->cap;
        if (o->cap > 0)
            o->full = 1;
    }
    if (from < to)
        memcpy(o->buf + (from - o->skip), s + (from - pos), to - from);
    o->pos = end;
    o->col += n;
}

int smtpc_mo_unit(mime_out *o)
{
    uint32_t k = o->unit++;

    if (k < o->from_unit)
        return 1;
    if (k == o->from_unit && k > 0) {
        o->pos = o->from_pos; /* the units skipped, as the last read saw */
        o->col = 0;
    }
    if (o->full)
        return 1;
    /* A read that fills its window is followed by one at skip + cap. */
    if (o->pos <= o->skip || o->pos - o->skip <= o->cap) {
        o->mark_unit = k;
        o->mark_pos = o->pos;
    }
    return 0;
}

void smtpc_mo_str(mime_out *o, const char *s)
{
    smtpc_mo_put(o, s, strlen(s));
}

void smtpc_mo_crlf(mime_out *o)
{
    if (o->col > MIME_LINE)
        o->over = 1;
    smtpc_mo_put(o, "\r\n", 2);
    o->col = 0;
    o->ew_line = 0;
}

static void refuse(mime_out *o)
{
    o->err = SMTPC_ERR_ARG;
}

int smtpc_mime_in_set(const char *set, unsigned char c)
{
    for (; *set; set++)
        if ((unsigned char)*set == c)
            return 1;
    return 0;
}

/* Length of the UTF-8 sequence at s (n bytes left), 0 when invalid:
 * no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len, i;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

int smtpc_mh_check_text(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, k;

    while (i < n) {
        if (p[i] == 0x7f || (p[i] < 0x20 && p[i] != '\t'))
            return SMTPC_ERR_ARG; /* CR and LF above all */
        k = utf8_seq(p + i, n - i);
        if (k == 0)
            return SMTPC_ERR_ARG;
        i += k;
    }
    return SMTPC_OK;
}

/* "=?" somewhere in s: a decoder would take it for an encoded-word. */
static int has_ew_start(const char *s)
{
    for (; *s; s++)
        if (s[0] == '=' && s[1] == '?')
            return 1;
    return 0;
}

static int has_high(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 1;
    return 0;
}

/* Before a token of n characters: a space, or a fold when the token
 * would pass the line and something already stands on it. */
static void sep(mime_out *o, size_t n)
{
    size_t max = o->ew_line ? MIME_EW_LINE : MIME_LINE;

    if (o->col + 1 + n > max && o->col > 1) {
        smtpc_mo_crlf(o);
        smtpc_mo_put(o, " ", 1);
    } else {
        smtpc_mo_put(o, " ", 1);
    }
}

static void field_name(mime_out *o, const char *name)
{
    smtpc_mo_str(o, name);
    smtpc_mo_put(o, ":", 1);
    o->name_col = o->col;
}

/* ---- Encoded-words (RFC 2047) ---- */

/* Characters Q may leave as they are in any header context (5(3)). */
static int q_plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
           c == '-' || c == '/';
}

static size_t q_cost(unsigned char c)
{
    return (c == ' ' || q_plain(c)) ? 1 : 3;
}

/* Bytes of s (n left) that fit in an encoded text of at most room
 * characters, whole UTF-8 sequences only.  For B, a word that is not the
 * last takes a multiple of 3 bytes when it can: no "=" padding inside
 * the run, since some decoders (GMime) join adjacent words' base64
 * before decoding it. */
static size_t ew_take(const unsigned char *s, size_t n, size_t room, int b)
{
    size_t i = 0, cost = 0, k, j, c, whole = 0;

    while (i < n) {
        k = utf8_seq(s + i, n - i);
        if (k == 0)
            k = 1;
        if (b) {
            c = SMTPC_BASE64_LEN(i + k);
            if (c > room)
                break;
            if ((i + k) % 3 == 0)
                whole = i + k;
        } else {
            for (c = 0, j = 0; j < k; j++)
                c += q_cost(s[i + j]);
            if (cost + c > room)
                break;
            cost += c;
        }
        i += k;
    }
    if (b && i < n && whole > 0)
        return whole;
    return i;
}

static void ew_emit(mime_out *o, const unsigned char *s, size_t n, int b)
{
    char t[MIME_EW_MAX];
    size_t len = 0, i;

    if (b) {
        len = smtpc_base64_encode(t, s, n);
    } else {
        for (i = 0; i < n; i++) {
            if (s[i] == ' ') {
                t[len++] = '_';
            } else if (q_plain(s[i])) {
                t[len++] = (char)s[i];
            } else {
                t[len++] = '=';
                t[len++] = smtpc_mime_hex[s[i] >> 4];
                t[len++] = smtpc_mime_hex[s[i] & 15];
            }
        }
    }
    o->ew_line = 1;
    smtpc_mo_put(o, b ? "=?utf-8?B?" : "=?utf-8?Q?", 10);
    smtpc_mo_put(o, t, len);
    smtpc_mo_put(o, "?=", 2);
}

/* s[0..n) as encoded-words, each preceded by a space or a fold; decoders
 * drop the white space between adjacent encoded-words, so the text comes
 * back exactly, spaces included. */
static void ew_run(mime_out *o, const unsigned char *s, size_t n)
{
    size_t qlen = 0, i, take, room;
    int b, wb;

    for (i = 0; i < n; i++)
        qlen += q_cost(s[i]);
    b = SMTPC_BASE64_LEN(n) < qlen;
    i = 0;
    while (i < n && !o->full) {
        /* A line with an encoded-word holds at most 76 characters. */
        room = MIME_EW_LINE - 1 -
               (o->col < MIME_EW_LINE - 1 ? o->col : MIME_EW_LINE - 1);
        if (room > MIME_EW_MAX)
            room = MIME_EW_MAX;
        take = room > 12 ? ew_take(s + i, n - i, room - 12, b) : 0;
        /* Fold rather than start a word with a character or two. */
        if ((take < 4 && take < n - i) || take == 0) {
            if (o->col > 1)
                smtpc_mo_crlf(o);
            room = MIME_EW_MAX;
            take = ew_take(s + i, n - i, room - 12, b);
        }
        wb = b;
        /* A B word that would need padding and is not the last goes as Q
         * (where no cut at a multiple of 3 bytes is a character boundary,
         * as in "a" followed by CJK): decoders that join adjacent B words
         * stop at padding, and a Q word ends the join. */
        if (b && take < n - i && take % 3 != 0) {
            size_t q = ew_take(s + i, n - i, room - 12, 0);
            if (q > 0) {
                take = q;
                wb = 0;
            }
        }
        smtpc_mo_put(o, " ", 1);
        ew_emit(o, s + i, take, wb);
        i += take;
    }
}

/* ---- Unstructured values (Subject, custom fields) ---- */

/* The value folded at its own white space: each token is a run of white
 * space and the word after it, and a fold goes in front of the white
 * space, so unfolding gives the value back. */
static void plain_run(mime_out *o, const char *v)
{
    size_t i = 0, j, k, n = strlen(v);

    smtpc_mo_put(o, " ", 1);
    while (i < n && !o->full) {
        for (j = i; j < n && (v[j] == ' ' || v[j] == '\t'); j++)
            ;
        for (k = j; k < n && v[k] != ' ' && v[k] != '\t'; k++)
            ;
        if (o->col + (k - i) > MIME_LINE && i > 0 && j > i && k > j &&
            o->col > o->name_col + 1)
            smtpc_mo_crlf(o);
        smtpc_mo_put(o, v + i, k - i);
        i = k;
    }
}

void smtpc_mh_unstructured(mime_out *o, const char *name, const char *value)
{
    mime_out t;
    int plain;

    if (smtpc_mh_check_text(value) != SMTPC_OK) {
        refuse(o);
        return;
    }
    field_name(o, name);
    /* Plain when nothing needs encoding and every line fits (tried on a
     * copy that writes nothing). */
    plain = !has_ew_start(value) && value[0] != ' ' &&
            value[0] != '\t' &&
            (!has_high(value) || MIME_FLAG(o->flags, SMTPC_MIME_SMTPUTF8));
    if (plain) {
        t = *o;
        t.cap = 0;
        t.over = 0;
        t.full = 0;
        plain_run(&t, value);
        smtpc_mo_crlf(&t);
        plain = !t.over;
    }
    if (plain) {
        plain_run(o, value);
        if (has_high(value))
            o->utf8 = 1;
    } else {
        ew_run(o, (const unsigned char *)value, strlen(value));
    }
    smtpc_mo_crlf(o);
}

/* ---- Addresses (RFC 5322 3.4) ---- */

static int atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') ||
           smtpc_mime_in_set("!#$%&'*+-/=?^_`{|}~", c);
}

/* Atoms separated by single spaces, each short enough for a line: the
 * name can go out as it is. */
static int is_atoms(const char *s)
{
    size_t i, word = 0;

    if (s[0] == ' ' || has_ew_start(s))
        return 0;
    for (i = 0; s[i]; i++) {
        if (s[i] == ' ') {
            if (s[i + 1] == ' ' || s[i + 1] == '\0')
                return 0;
            word = 0;
        } else if (!atext((unsigned char)s[i]) || ++word > MIME_LINE - 8) {
            return 0;
        }
    }
    return 1;
}

/* Length of s as a quoted-string, or 0 when it cannot be one here. */
static size_t quoted_len(const mime_out *o, const char *s)
{
    size_t n = 2;

    if (has_ew_start(s))
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\t' ||
            (c >= 0x80 && !MIME_FLAG(o->flags, SMTPC_MIME_SMTPUTF8)))
            return 0;
        n += (c == '"' || c == '\\') ? 2 : 1;
    }
    return n;
}

static void phrase(mime_out *o, const char *s)
{
    size_t n, i, j;

    if (is_atoms(s)) {
        for (i = 0; s[i];) {
            for (j = i; s[j] && s[j] != ' '; j++)
                ;
            sep(o, j - i);
            smtpc_mo_put(o, s + i, j - i);
            i = s[j] ? j + 1 : j;
        }
        return;
    }
    n = quoted_len(o, s);
    if (n > 0 && n <= MIME_LINE - 1) {
        sep(o, n);
        smtpc_mo_put(o, "\"", 1);
        for (i = 0; s[i]; i = j) {
            for (j = i; s[j] && s[j] != '"' && s[j] != '\\'; j++)
                ;
            smtpc_mo_put(o, s + i, j - i);
            if (s[j]) {
                smtpc_mo_put(o, "\\", 1);
                smtpc_mo_put(o, s + j, 1);
                j++;
            }
        }
        smtpc_mo_put(o, "\"", 1);
        if (has_high(s))
            o->utf8 = 1;
        return;
    }
    ew_run(o, (const unsigned char *)s, strlen(s));
}

/* An addr-spec fit for a header: an envelope address (no CR, LF, space,
 * <, >) with nothing that would end it inside an address list. */
static int check_addr(const mime_out *o, const char *a)
{
    int quoted = 0;
    size_t i;

    if (smtpc_check_address(a, 0) != SMTPC_OK)
        return 0;
    if (has_high(a) &&
        (!MIME_FLAG(o->flags, SMTPC_MIME_SMTPUTF8) || smtpc_mh_check_text(a)))
        return 0;
    for (i = 0; a[i]; i++) {
        if (a[i] == '"')
            quoted = !quoted;
        else if (a[i] == '\\' && quoted && a[i + 1])
            i++;
        else if (!quoted &&
                 smtpc_mime_in_set(",;:()[]\\", (unsigned char)a[i]))
            return 0;
    }
    return 1;
}

void smtpc_mh_addrs(mime_out *o, const char *name, const smtpc_mime_addr *a,
                    size_t n)
{
    size_t i, len;

    field_name(o, name);
    for (i = 0; i < n && !o->full; i++) {
        if (a[i].address == NULL || !check_addr(o, a[i].address) ||
            (a[i].name && smtpc_mh_check_text(a[i].name))) {
            refuse(o);
            return;
        }
        if (has_high(a[i].address))
            o->utf8 = 1;
        len = strlen(a[i].address);
        if (a[i].name && a[i].name[0]) {
            if (!SMTPC_MIME_WITH_NAMES) {
                o->err = SMTPC_ERR_UNSUPPORTED;
                return;
            }
            phrase(o, a[i].name);
            sep(o, len + 2 + (i + 1 < n));
            smtpc_mo_put(o, "<", 1);
            smtpc_mo_put(o, a[i].address, len);
            smtpc_mo_put(o, ">", 1);
        } else {
            sep(o, len + (i + 1 < n));
            smtpc_mo_put(o, a[i].address, len);
        }
        if (i + 1 < n)
            smtpc_mo_put(o, ",", 1);
    }
    smtpc_mo_crlf(o);
}

void smtpc_mh_msgid(mime_out *o, const char *name, const char *id)
{
    size_t i, n = strlen(id);

    /* id-left "@" id-right, printable ASCII without <, > or space. */
    if (n == 0 || !smtpc_mime_in_set(id, '@') || id[0] == '@' ||
        id[n - 1] == '@' || n > MIME_RAW_LINE_MAX - 80) {
        refuse(o);
        return;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>') {
            refuse(o);
            return;
        }
    }
    field_name(o, name);
    sep(o, n + 2);
    smtpc_mo_put(o, "<", 1);
    smtpc_mo_put(o, id, n);
    smtpc_mo_put(o, ">", 1);
    smtpc_mo_crlf(o);
}

/* ---- Parameters (RFC 2045 5.1, RFC 2231) ---- */

void smtpc_mh_begin(mime_out *o, const char *name, const char *value)
{
    field_name(o, name);
    sep(o, strlen(value));
    smtpc_mo_str(o, value);
}

/* RFC 2231 attribute-char: a token character that needs no %XX. */
static int attr_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || smtpc_mime_in_set("!#$&+-.^_`|~", c);
}

/* One section: "attr*N*=" (or "attr*=" when N < 0), then "utf-8''" on
 * the first, then percent-encoded s[0..n). */
static void section(mime_out *o, const char *attr, int num, int first,
                    const unsigned char *s, size_t n, size_t len)
{
    char head[16];
    size_t i, h = 0;

    smtpc_mo_put(o, ";", 1);
    sep(o, len);
    smtpc_mo_str(o, attr);
    head[h++] = '*';
    if (num >= 0) {
        if (num >= 100)
            head[h++] = (char)('0' + num / 100);
        if (num >= 10)
            head[h++] = (char)('0' + num / 10 % 10);
        head[h++] = (char)('0' + num % 10);
        head[h++] = '*';
    }
    head[h++] = '=';
    smtpc_mo_put(o, head, h);
    if (first)
        smtpc_mo_put(o, "utf-8''", 7);
    for (i = 0; i < n; i++) {
        if (attr_char(s[i])) {
            smtpc_mo_put(o, (const char *)s + i, 1);
        } else {
            char t[3] = {'%', smtpc_mime_hex[s[i] >> 4],
                         smtpc_mime_hex[s[i] & 15]};
            smtpc_mo_put(o, t, 3);
        }
    }
}

static size_t digits(int n)
{
    return n >= 100 ? 3 : n >= 10 ? 2 : 1;
}

void smtpc_mh_param(mime_out *o, const char *attr, const char *value)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t n = strlen(value), alen = strlen(attr), enc = 0, i, j, k, c;
    size_t qlen = 2, start, len;
    int plain = 1, num;

    if (smtpc_mh_check_text(value) != SMTPC_OK || n > 1000) {
        refuse(o);
        return;
    }
    for (i = 0; i < n; i++) {
        if (s[i] >= 0x80 || s[i] < 0x20)
            plain = 0;
        qlen += (s[i] == '"' || s[i] == '\\') ? 2 : 1;
        enc += attr_char(s[i]) ? 1 : 3;
    }
    /* "=?" goes in RFC 2231 form: some readers decode encoded-words
     * inside quoted parameters. */
    if (plain && alen + 1 + qlen <= MIME_LINE - 1 && !has_ew_start(value)) {
        smtpc_mo_put(o, ";", 1);
        sep(o, alen + 1 + qlen);
        smtpc_mo_str(o, attr);
        smtpc_mo_put(o, "=\"", 2);
        for (i = 0; i < n; i++) {
            if (s[i] == '"' || s[i] == '\\')
                smtpc_mo_put(o, "\\", 1);
            smtpc_mo_put(o, value + i, 1);
        }
        smtpc_mo_put(o, "\"", 1);
        return;
    }
    if (!SMTPC_MIME_WITH_RFC2231) {
        o->err = SMTPC_ERR_UNSUPPORTED;
        return;
    }
    if (alen + 2 + 7 + enc + 1 <= MIME_LINE - 1) {
        section(o, attr, -1, 1, s, n, alen + 2 + 7 + enc);
        return;
    }
    /* Numbered sections, each on a line of its own, cut between UTF-8
     * sequences (decoders join the octets before decoding, but some
     * decode section by section). */
    for (i = 0, num = 0; i < n && !o->full; num++) {
        size_t head = alen + 1 + digits(num) + 2 + (num == 0 ? 7 : 0);
        size_t room = MIME_LINE - 2 - head; /* space before, ";" after */
        start = i;
        len = 0;
        while (i < n) {
            k = utf8_seq(s + i, n - i);
            if (k == 0)
                k = 1;
            for (c = 0, j = 0; j < k; j++)
                c += attr_char(s[i + j]) ? 1 : 3;
            if (len + c > room && len > 0)
                break;
            len += c;
            i += k;
        }
        section(o, attr, num, num == 0, s + start, i - start, head + len);
        if (num > 998) { /* cannot happen below MIME_RAW_LINE_MAX bytes */
            refuse(o);
            return;
        }
    }
}

#endif /* SMTPC_WITH_MIME */
