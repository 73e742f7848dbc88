/*
 * test_mime.c - the MIME writer: exact bytes, folding, encoded-words,
 * quoted-printable, read-size independence, refusals, the size computed
 * in advance.
 *
 * Decoding here (encoded-words, quoted-printable, base64) is written from
 * the RFCs independently of the writer, so a round trip checks both.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpc/smtpc.h"
#include "unit.h"

#define OUT_MAX (1u << 20)
static char out[OUT_MAX];

/* Produces the whole message reading step bytes at a time. */
static size_t render(const smtpc_mime_message *m, size_t step, char *dst,
                     size_t cap, int *status)
{
    smtpc_mime_writer w;
    size_t len = 0, n;
    int rc = smtpc_mime_init(&w, m);

    *status = rc;
    if (rc != SMTPC_OK) {
        CHECK_EQ_INT(smtpc_mime_read(&w, dst, cap), 0);
        return 0;
    }
    while (len < cap) {
        n = smtpc_mime_read(&w, dst + len, step < cap - len ? step : cap - len);
        len += n;
        if (n == 0)
            break;
    }
    *status = smtpc_mime_status(&w);
    CHECK(smtpc_mime_done(&w) || *status != SMTPC_OK);
    dst[len < cap ? len : cap - 1] = '\0';
    return len;
}

static uint64_t size_of(const smtpc_mime_message *m)
{
    smtpc_mime_writer w;

    if (smtpc_mime_init(&w, m) != SMTPC_OK)
        return 0;
    return smtpc_mime_size(&w);
}

/* Every line ends in CRLF, has no bare CR or LF, and the header lines
 * are at most max characters. */
static int lines_ok(const char *s, size_t n, size_t header_max)
{
    size_t i, col = 0;
    int in_header = 1;

    for (i = 0; i < n; i++) {
        if (s[i] == '\r') {
            if (i + 1 >= n || s[i + 1] != '\n')
                return 0;
            if (col == 0)
                in_header = 0;
            if (col > (in_header ? header_max : 998))
                return 0;
            col = 0;
            i++;
        } else if (s[i] == '\n') {
            return 0;
        } else {
            col++;
        }
    }
    return col == 0;
}

/* RFC 2047 2: a header line holding an encoded-word has at most 76
 * characters. */
static int ew_lines_ok(const char *s)
{
    const char *end = strstr(s, "\r\n\r\n"), *eol;

    for (; s && s < end; s = eol + 2) {
        eol = strstr(s, "\r\n");
        if (eol - s > 76) {
            const char *q;
            for (q = s; q + 1 < eol; q++)
                if (q[0] == '=' && q[1] == '?')
                    return 0;
        }
    }
    return 1;
}

/* ---- Decoders (test side) ---- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The unfolded value of the first field called name, or NULL. */
static char *field(const char *msg, const char *name, char *dst, size_t cap)
{
    size_t nl = strlen(name), len = 0;
    const char *p = msg;

    while (*p && !(p[0] == '\r' && p[1] == '\n')) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
            p += nl + 1;
            while (*p == ' ')
                p++;
            for (;;) {
                if (p[0] == '\r' && p[1] == '\n') {
                    if (p[2] == ' ' || p[2] == '\t') {
                        p += 2; /* unfold: CRLF goes, the WSP stays */
                        continue;
                    }
                    break;
                }
                if (len + 1 < cap)
                    dst[len++] = *p;
                p++;
            }
            dst[len] = '\0';
            return dst;
        }
        p = strstr(p, "\r\n");
        if (!p)
            break;
        p += 2;
    }
    return NULL;
}

/* RFC 2047 decoding of an unstructured value: encoded-words decoded,
 * white space between two of them dropped.  Each word MUST be whole
 * UTF-8 and at most 75 characters, or *bad is set. */
static void decode_words(const char *v, char *dst, int *bad)
{
    size_t len = 0, pending_ws = 0;
    const char *ws = NULL;
    int prev_ew = 0;

    while (*v) {
        if (v[0] == '=' && v[1] == '?') {
            const char *q1 = strchr(v + 2, '?');
            const char *q2 = q1 ? strchr(q1 + 1, '?') : NULL;
            const char *end = q2 ? strstr(q2 + 1, "?=") : NULL;
            size_t start = len, k;
            int ok = 1;
            if (!end) {
                *bad = 1;
                return;
            }
            if (!prev_ew && pending_ws) {
                memcpy(dst + len, ws, pending_ws);
                len += pending_ws;
                start = len;
            }
            if (end + 2 - v > 75)
                *bad = 1;
            if (q1[1] == 'B' || q1[1] == 'b') {
                /* Padding only in the last word of a run: some readers
                 * join the words' base64 before decoding. */
                const char *next = end + 2;
                while (*next == ' ')
                    next++;
                if (end[-1] == '=' && strncmp(next, "=?utf-8?B?", 10) == 0)
                    *bad = 1;
                len += smtpc_base64_decode(dst + len, 1000, q2 + 1,
                                           (size_t)(end - q2 - 1), &ok);
                if (!ok)
                    *bad = 1;
            } else {
                const char *c;
                for (c = q2 + 1; c < end; c++) {
                    if (*c == '_') {
                        dst[len++] = ' ';
                    } else if (*c == '=') {
                        dst[len++] = (char)(hexval(c[1]) * 16 + hexval(c[2]));
                        c += 2;
                    } else {
                        dst[len++] = *c;
                    }
                }
            }
            /* Whole UTF-8 sequences in each word. */
            for (k = start; k < len;) {
                unsigned char b = (unsigned char)dst[k];
                size_t sl = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
                if (b >= 0x80 && b < 0xc0) {
                    *bad = 1;
                    break;
                }
                k += sl;
            }
            if (k != len)
                *bad = 1;
            v = end + 2;
            prev_ew = 1;
            pending_ws = 0;
            continue;
        }
        if (*v == ' ' || *v == '\t') {
            ws = v;
            pending_ws = 0;
            while (*v == ' ' || *v == '\t') {
                v++;
                pending_ws++;
            }
            if (*v == '=' && v[1] == '?')
                continue;
            memcpy(dst + len, ws, pending_ws);
            len += pending_ws;
            pending_ws = 0;
            continue;
        }
        dst[len++] = *v++;
        prev_ew = 0;
    }
    dst[len] = '\0';
}

/* Quoted-printable decoding; soft breaks removed, CRLF kept. */
static size_t qp_decode(const char *s, size_t n, char *dst)
{
    size_t i, len = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '=') {
            if (i + 2 < n + 1 && s[i + 1] == '\r' && s[i + 2] == '\n') {
                i += 2;
                continue;
            }
            dst[len++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            dst[len++] = s[i];
        }
    }
    return len;
}

/* The content of a single-part message (after the blank line, without
 * the final CRLF the writer adds when the content does not end a line). */
static const char *body_of(const char *msg)
{
    const char *p = strstr(msg, "\r\n\r\n");
    return p ? p + 4 : NULL;
}

/* ---- Cases ---- */

static void test_exact_small(void)
{
    static const char want[] =
        "Date: Wed, 02 Dec 2026 19:33:20 +0000\r\n"
        "From: Alice <alice@example.com>\r\n"
        "To: bob@example.org\r\n"
        "Subject: Hello\r\n"
        "Message-ID: <1@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=\"utf-8\"\r\n"
        "Content-Transfer-Encoding: 7bit\r\n"
        "\r\n"
        "Hi Bob.\r\n"
        ".\r\n"
        "Bye\r\n";
    smtpc_mime_addr from = {"Alice", "alice@example.com"};
    smtpc_mime_addr to = {NULL, "bob@example.org"};
    smtpc_mime_part text = {0};
    smtpc_mime_message m = {0};
    char date[SMTPC_MIME_DATE_LEN];
    int st;
    size_t n;

    unit_case = "exact small";
    CHECK_EQ_INT(smtpc_mime_date(date, 1796240000, 0), 31);
    text.data = "Hi Bob.\n.\nBye"; /* bare LF, no final line end */
    text.len = strlen(text.data);
    m.date = date;
    m.from = &from;
    m.to = &to;
    m.to_count = 1;
    m.subject = "Hello";
    m.message_id = "1@example.com";
    m.text = &text;
    n = render(&m, 4096, out, OUT_MAX, &st);
    CHECK_EQ_INT(st, SMTPC_OK);
    CHECK_EQ_STR(out, want);
    CHECK_EQ_INT(n, sizeof want - 1);
    CHECK_EQ_INT(size_of(&m), sizeof want - 1);
}

static void test_date(void)
{
    char d[SMTPC_MIME_DATE_LEN];

    unit_case = "date";
    smtpc_mime_date(d, 0, 0);
    CHECK_EQ_STR(d, "Thu, 01 Jan 1970 00:00:00 +0000");
    smtpc_mime_date(d, 951782400, 0); /* leap day 2000 */
    CHECK_EQ_STR(d, "Tue, 29 Feb 2000 00:00:00 +0000");
    smtpc_mime_date(d, 1796240000, -330);
    CHECK_EQ_STR(d, "Wed, 02 Dec 2026 14:03:20 -0530");
    CHECK_EQ_INT(smtpc_mime_date(d, 0, 24 * 60), 0);
}

static void check_subject(const char *subject, unsigned flags)
{
    smtpc_mime_part text = {0};
    smtpc_mime_message m = {0};
    static char raw[8192], dec[8192];
    int st, bad = 0;
    size_t n;

    text.data = "x";
    text.len = 1;
    m.subject = subject;
    m.text = &text;
    m.flags = flags;
    n = render(&m, 3, out, OUT_MAX, &st);
    CHECK_EQ_INT(st, SMTPC_OK);
    CHECK(lines_ok(out, n, 78));
    CHECK(ew_lines_ok(out));
    CHECK(field(out, "Subject", raw, sizeof raw) != NULL);
    decode_words(raw, dec, &bad);
    CHECK(!bad);
    CHECK_EQ_STR(dec, subject);
    CHECK_EQ_INT(size_of(&m), n);
}

static void test_encoded_words(void)
{
    static char longs[1200];
    size_t i;

    unit_case = "encoded-words";
    check_subject("plain ASCII subject", 0);
    check_subject("Grüße aus Köln", 0);
    /* "a" then 3-byte characters: no cut at a multiple of 3 bytes. */
    check_subject("a東京東京東京東京東京東京東京東京東京東京東京東京東京東京東京東京東京東京東京東京東京東京", 0);
    check_subject("東京の天気は晴れです。明日も晴れるでしょう。東京の天気は晴れです。明日も晴れるでしょう。", 0);
    check_subject("emoji 🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉 party", 0);
    /* e + combining acute, many times: sequences of 1 and 2 bytes. */
    for (i = 0; i + 3 < 600; i += 3)
        memcpy(longs + i, "e\xcc\x81", 3);
    longs[i] = '\0';
    check_subject(longs, 0);
    /* 300 characters, some of them non-ASCII, no spaces at all. */
    for (i = 0; i < 300; i++)
        longs[i] = (char)('a' + i % 26);
    memcpy(longs + 100, "\xc3\xa9", 2);
    longs[300] = '\0';
    check_subject(longs, 0);
    /* 300 characters of words: folded plain, never encoded. */
    for (i = 0; i < 300; i++)
        longs[i] = (i % 7 == 6) ? ' ' : 'w';
    longs[300] = '\0';
    check_subject(longs, 0);
    check_subject("looks =?utf-8?Q?encoded?= already", 0);
    check_subject("  spaces   kept  ", 0);
    check_subject("tab\there", 0);
    check_subject("trailing spaces, plain             ", 0);
    /* With SMTPUTF8: UTF-8 as it is. */
    check_subject("Grüße aus Köln", SMTPC_MIME_SMTPUTF8);
    {
        smtpc_mime_part text = {0};
        smtpc_mime_message m = {0};
        smtpc_mime_writer w;
        int st;

        text.data = "x";
        text.len = 1;
        m.subject = "Grüße";
        m.text = &text;
        m.flags = SMTPC_MIME_SMTPUTF8;
        render(&m, 100, out, OUT_MAX, &st);
        CHECK(strstr(out, "Subject: Grüße\r\n") != NULL);
        smtpc_mime_init(&w, &m);
        CHECK_EQ_INT(smtpc_mime_mail_flags(&w), SMTPC_MAIL_SMTPUTF8);
        m.flags = 0;
        smtpc_mime_init(&w, &m);
        CHECK_EQ_INT(smtpc_mime_mail_flags(&w), 0);
    }
}

/* Display names: parsed back from the To field by a small RFC 5322
 * reader: phrase (atoms, quoted-string, encoded-words) then <addr>. */
static void check_names(const char *const *names, size_t count)
{
    smtpc_mime_addr to[16];
    smtpc_mime_part text = {0};
    smtpc_mime_message m = {0};
    static char raw[16384], dec[4096], name[4096];
    size_t i, n;
    int st;
    const char *p;

    for (i = 0; i < count; i++) {
        to[i].name = names[i];
        to[i].address = "someone@example.com";
    }
    text.data = "x";
    text.len = 1;
    m.to = to;
    m.to_count = count;
    m.text = &text;
    n = render(&m, 1, out, OUT_MAX, &st);
    CHECK_EQ_INT(st, SMTPC_OK);
    CHECK(lines_ok(out, n, 78));
    CHECK(ew_lines_ok(out));
    CHECK(field(out, "To", raw, sizeof raw) != NULL);
    p = raw;
    for (i = 0; i < count; i++) {
        size_t len = 0;
        int bad = 0;
        while (*p == ' ')
            p++;
        if (*p == '"') {
            for (p++; *p != '"'; p++) {
                if (*p == '\\')
                    p++;
                name[len++] = *p;
            }
            p++;
            name[len] = '\0';
            CHECK_EQ_STR(name, names[i]);
        } else {
            const char *lt = strchr(p, '<');
            if (lt == NULL) {
                CHECK(0);
                return;
            }
            memcpy(name, p, (size_t)(lt - p));
            len = (size_t)(lt - p);
            while (len > 0 && name[len - 1] == ' ')
                len--;
            name[len] = '\0';
            decode_words(name, dec, &bad);
            CHECK(!bad);
            CHECK_EQ_STR(dec, names[i]);
            p = lt;
        }
        while (*p == ' ')
            p++;
        CHECK(strncmp(p, "<someone@example.com>", 21) == 0);
        p += 21;
        if (i + 1 < count) {
            CHECK(*p == ',');
            p++;
        }
    }
    CHECK(*p == '\0');
}

static void test_addresses(void)
{
    static const char *const names[] = {
        "Alice Smith",
        "Doe, John",
        "John \"JD\" Doe",
        "back\\slash",
        "Jöhn Dœ",
        "山田 太郎",
        "a name that is long enough to need folding somewhere in the middle",
        "Zoë, \"quoted\" and \\ back, with an accent é and a very long tail of words",
        "=?utf-8?Q?not_a_word?=",
        "x",
    };

    unit_case = "addresses";
    check_names(names, sizeof names / sizeof names[0]);
}

static void test_folding(void)
{
    smtpc_mime_addr to[40];
    static char addrs[40][40];
    smtpc_mime_header h[2] = {
        {"X-Long", "word word word word word word word word word word word "
                   "word word word word word word word word word word word"},
        {"X-Very-Long-Header-Name-That-Eats-Most-Of-The-Line-Before-A-Value",
         "é"}};
    smtpc_mime_part text = {0};
    smtpc_mime_message m = {0};
    static char raw[8192];
    size_t i, n;
    int st;

    unit_case = "folding";
    for (i = 0; i < 40; i++) {
        snprintf(addrs[i], sizeof addrs[i], "user%zu@example.com", i);
        to[i].name = i % 2 ? "Some Body" : NULL;
        to[i].address = addrs[i];
    }
    text.data = "x";
    text.len = 1;
    m.to = to;
    m.to_count = 40;
    m.cc = to;
    m.cc_count = 3;
    m.headers = h;
    m.header_count = 2;
    m.text = &text;
    n = render(&m, 7, out, OUT_MAX, &st);
    CHECK_EQ_INT(st, SMTPC_OK);
    CHECK(lines_ok(out, n, 78));
    field(out, "X-Long", raw, sizeof raw);
    CHECK_EQ_STR(raw, h[0].value);
    CHECK(strstr(out, "X-Long: word") != NULL);
    field(out, "To", raw, sizeof raw);
    CHECK(strstr(raw, "Some Body <user39@example.com>") != NULL);
    CHECK(strncmp(raw, "user0@example.com, Some Body <user1@example.com>,", 49) == 0);
}

/* A QP body decodes back to the input (line ends as CRLF for text). */
static void check_qp(const char *in, size_t len, int text, const char *want,
                     size_t want_len)
{
    smtpc_mime_part p = {0};
    smtpc_mime_message m = {0};
    static char dec[65536];
    const char *b;
    size_t n, dn, i, col = 0;
    int st;

    p.content_type = text ? "text/plain" : "application/octet-stream";
    p.encoding = SMTPC_MIME_ENC_QP;
    p.data = in;
    p.len = len;
    m.text = text ? &p : NULL;
    m.attachments = text ? NULL : &p;
    m.attachment_count = text ? 0 : 1;
    n = render(&m, 5, out, OUT_MAX, &st);
    CHECK_EQ_INT(st, SMTPC_OK);
    CHECK(lines_ok(out, n, 78));
    CHECK_EQ_INT(size_of(&m), n);
    b = body_of(out);
    if (!b)
        return;
    /* Lines at most 76; no space or tab before a line end; no "=_";
     * no line starting with "." or "From ". */
    for (i = 0; b + i < out + n; i++) {
        if (b[i] == '\r') {
            CHECK(col <= 76);
            CHECK(i == 0 || (b[i - 1] != ' ' && b[i - 1] != '\t'));
            col = 0;
            i++;
            continue;
        }
        if (col == 0)
            CHECK(b[i] != '.' && strncmp(b + i, "From ", 5) != 0);
        col++;
    }
    CHECK(strstr(b, "=_") == NULL);
    /* The writer ends the message with CRLF when the content does not. */
    dn = qp_decode(b, (size_t)(out + n - b), dec);
    if (dn >= 2 && dec[dn - 2] == '\r' && dec[dn - 1] == '\n' &&
        !(want_len >= 2 && want[want_len - 1] == '\n' &&
          want[want_len - 2] == '\r'))
        dn -= 2;
    CHECK_EQ_INT(dn, want_len);
    CHECK(dn == want_len && memcmp(dec, want, dn) == 0);
}

static void test_qp(void)
{
    static char big[5000], bigw[5000];
    size_t i;

    unit_case = "quoted-printable";
    check_qp("a=b\n", 4, 1, "a=b\r\n", 5);
    check_qp("trailing space \nand tab\t\n", 25, 1,
             "trailing space \r\nand tab\t\r\n", 27);
    check_qp("end with space ", 15, 1, "end with space ", 15);
    check_qp(".\n.dot\nFrom me\nFrom\n", 20, 1,
             ".\r\n.dot\r\nFrom me\r\nFrom\r\n", 24);
    check_qp("bare\rCR\r\nok", 11, 1, "bare\rCR\r\nok", 11);
    check_qp("caf\xc3\xa9 \xe2\x82\xac", 9, 1, "caf\xc3\xa9 \xe2\x82\xac", 9);
    /* binary: every CR and LF encoded, bytes back exactly */
    check_qp("a\nb\rc\r\n\0\xff ", 10, 0, "a\nb\rc\r\n\0\xff ", 10);
    /* Long lines, with "=" and spaces at every position near the break. */
    for (i = 0; i < sizeof big; i++)
        big[i] = "ab= \t.Fxyz\xc3\xa9"[i % 12];
    check_qp(big, sizeof big, 0, big, sizeof big);
    for (i = 0; i < sizeof big; i++) {
        big[i] = (i % 97 == 96) ? '\n' : "ab= \t.Fxy"[i % 9];
        bigw[i] = big[i];
    }
    {
        /* text: LF -> CRLF in what we expect */
        static char want[6000];
        size_t wl = 0;
        for (i = 0; i < sizeof big; i++) {
            if (big[i] == '\n')
                want[wl++] = '\r';
            want[wl++] = big[i];
        }
        check_qp(bigw, sizeof bigw, 1, want, wl);
    }
}

/* ---- Read-size independence and the size in advance ---- */

typedef struct chunker {
    const unsigned char *data;
    size_t len, off, step;
    int later;     /* answer LATER every other call */
    int calls;
} chunker;

static int chunk_read(void *ctx, const void **data, size_t *len)
{
    chunker *c = ctx;
    size_t n = c->len - c->off;

    c->calls++;
    if (c->later && (c->calls % 2))
        return SMTPC_MIME_LATER;
    if (n > c->step)
        n = c->step;
    *data = c->data + c->off;
    *len = n;
    c->off += n;
    return SMTPC_OK;
}

static unsigned char blob[300000];
static char ref[OUT_MAX];

static void full_message(smtpc_mime_message *m, smtpc_mime_part *parts,
                         smtpc_mime_addr *addrs, chunker *ch, int callback)
{
    memset(m, 0, sizeof *m);
    memset(parts, 0, 5 * sizeof *parts);
    addrs[0].name = "Sënder";
    addrs[0].address = "s@example.com";
    addrs[1].name = "Rcpt, One";
    addrs[1].address = "r@example.org";
    parts[0].data = "Plain text\nwith two lines\n";
    parts[0].len = strlen(parts[0].data);
    parts[1].data = "<p>caf\xc3\xa9</p>";
    parts[1].len = strlen(parts[1].data);
    parts[2].content_type = "image/png";
    parts[2].content_id = "img1@example.com";
    parts[2].data = blob;
    parts[2].len = 1000;
    parts[3].content_type = "application/octet-stream";
    parts[3].filename = "données.bin";
    parts[4].content_type = "text/csv";
    parts[4].filename = "log.csv";
    parts[4].data = "a,b\n1,2\n";
    parts[4].len = 8;
    if (callback) {
        ch->data = blob;
        ch->len = sizeof blob;
        ch->off = 0;
        ch->calls = 0;
        parts[3].read = chunk_read;
        parts[3].ctx = ch;
        parts[3].size = sizeof blob;
    } else {
        parts[3].data = blob;
        parts[3].len = sizeof blob;
    }
    m->from = &addrs[0];
    m->to = &addrs[1];
    m->to_count = 1;
    m->subject = "Report — März";
    m->text = &parts[0];
    m->html = &parts[1];
    m->inlines = &parts[2];
    m->inline_count = 1;
    m->attachments = &parts[3];
    m->attachment_count = 2;
    m->entropy = "\x01\x02\x03\x04\x05\x06\x07\x08";
    m->entropy_len = 8;
}

static void test_read_sizes(void)
{
    static const size_t steps[] = {1, 7, 78, 100, 4096, 65536, OUT_MAX};
    static const size_t chunks[] = {1, 3, 57, 1000, 300000};
    smtpc_mime_message m;
    smtpc_mime_part parts[5];
    smtpc_mime_addr addrs[2];
    chunker ch = {0};
    size_t ref_len, n, i, j;
    int st;

    unit_case = "read sizes";
    for (i = 0; i < sizeof blob; i++)
        blob[i] = (unsigned char)(i * 7 + (i >> 8));
    full_message(&m, parts, addrs, &ch, 0);
    ref_len = render(&m, OUT_MAX, ref, OUT_MAX, &st);
    CHECK_EQ_INT(st, SMTPC_OK);
    CHECK_EQ_INT(size_of(&m), ref_len);
    CHECK(lines_ok(ref, ref_len, 78));
    for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        n = render(&m, steps[i], out, OUT_MAX, &st);
        CHECK_EQ_INT(n, ref_len);
        CHECK(memcmp(out, ref, ref_len) == 0);
    }
    /* The same from a callback, in chunks of any size, some "later". */
    for (j = 0; j < sizeof chunks / sizeof chunks[0]; j++) {
        for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            if (steps[i] == 1 && chunks[j] > 1000)
                continue; /* slow, and covered by the other pairs */
            full_message(&m, parts, addrs, &ch, 1);
            ch.step = chunks[j];
            ch.later = (int)(i % 2);
            {
                smtpc_mime_writer w;
                size_t len = 0, k, idle = 0;
                CHECK_EQ_INT(smtpc_mime_init(&w, &m), SMTPC_OK);
                CHECK_EQ_INT(smtpc_mime_size(&w), ref_len);
                while (!smtpc_mime_done(&w) && smtpc_mime_status(&w) == 0 &&
                       idle < 200) {
                    k = smtpc_mime_read(&w, out + len,
                                        steps[i] < OUT_MAX - len ? steps[i]
                                                                 : OUT_MAX - len);
                    idle = k ? 0 : idle + 1;
                    len += k;
                }
                CHECK(smtpc_mime_done(&w));
                if (!smtpc_mime_done(&w))
                    fprintf(stderr, "chunk %zu step %zu: status %d\n",
                            chunks[j], steps[i], smtpc_mime_status(&w));
                CHECK_EQ_INT(len, ref_len);
                CHECK(len == ref_len && memcmp(out, ref, ref_len) == 0);
            }
        }
    }
}

/* The base64 of the attachment in ref decodes to blob. */
static void test_base64_roundtrip(void)
{
    smtpc_mime_message m;
    smtpc_mime_part parts[5];
    smtpc_mime_addr addrs[2];
    chunker ch = {0};
    static unsigned char dec[sizeof blob * 2];
    const char *b, *e;
    size_t n, len = 0, col = 0;
    int st, ok = 1;
    const char *p;

    unit_case = "base64 round trip";
    full_message(&m, parts, addrs, &ch, 0);
    n = render(&m, 4096, out, OUT_MAX, &st);
    b = strstr(out, "filename*=utf-8''donn%C3%A9es.bin\r\n\r\n");
    CHECK(b != NULL);
    if (!b)
        return;
    b = strstr(b, "\r\n\r\n") + 4;
    e = strstr(b, "\r\n--=_");
    CHECK(e != NULL);
    for (p = b; p < e; p++) {
        if (*p == '\r') {
            CHECK_EQ_INT(col, 76);
            col = 0;
            p++;
            continue;
        }
        col++;
        dec[len] = (unsigned char)*p; /* gather the characters */
        len++;
    }
    CHECK(col <= 76);
    n = smtpc_base64_decode(dec, sizeof dec, (const char *)dec, len, &ok);
    CHECK(ok);
    CHECK_EQ_INT(n, sizeof blob);
    CHECK(memcmp(dec, blob, sizeof blob) == 0);
}

static void test_structure(void)
{
    smtpc_mime_message m;
    smtpc_mime_part parts[5];
    smtpc_mime_addr addrs[2];
    chunker ch = {0};
    const char *a, *r, *x, *t, *h, *i, *f, *c;
    int st;

    unit_case = "structure";
    full_message(&m, parts, addrs, &ch, 0);
    render(&m, 4096, out, OUT_MAX, &st);
    x = strstr(out, "Content-Type: multipart/mixed;");
    r = strstr(out, "Content-Type: multipart/related;");
    a = strstr(out, "Content-Type: multipart/alternative;");
    t = strstr(out, "Content-Type: text/plain");
    h = strstr(out, "Content-Type: text/html");
    i = strstr(out, "Content-Type: image/png");
    f = strstr(out, "Content-Type: application/octet-stream");
    c = strstr(out, "Content-Type: text/csv");
    CHECK(x && r && a && t && h && i && f && c);
    CHECK(x < r && r < a && a < t && t < h && h < i && i < f && f < c);
    CHECK(strstr(out, "Content-ID: <img1@example.com>") != NULL);
    CHECK(strstr(out, "Content-Disposition: inline") != NULL);
    /* A message with nothing but a subject is still a message. */
    memset(&m, 0, sizeof m);
    m.subject = "only";
    CHECK(render(&m, 10, out, OUT_MAX, &st) > 0);
    CHECK_EQ_INT(st, SMTPC_OK);
    CHECK(strstr(out, "Content-Type: text/plain") != NULL);
    /* One attachment alone: no multipart at all. */
    memset(&m, 0, sizeof m);
    memset(parts, 0, sizeof parts);
    parts[0].data = "\x00\x01";
    parts[0].len = 2;
    parts[0].filename = "z.bin";
    m.attachments = parts;
    m.attachment_count = 1;
    render(&m, 10, out, OUT_MAX, &st);
    CHECK(strstr(out, "multipart") == NULL);
    CHECK(strstr(out, "Content-Disposition: attachment; filename=\"z.bin\"") != NULL);
    CHECK(strstr(out, "\r\n\r\nAAE=\r\n") != NULL);
}

static void test_encoding_choice(void)
{
    smtpc_mime_part p = {0};
    smtpc_mime_message m = {0};
    static char big[3000];
    int st;

    unit_case = "encoding choice";
    m.text = &p;
    p.data = "caf\xc3\xa9 au lait";
    p.len = 13;
    render(&m, 64, out, OUT_MAX, &st);
    CHECK(strstr(out, "quoted-printable") != NULL);
    m.flags = SMTPC_MIME_8BITMIME;
    render(&m, 64, out, OUT_MAX, &st);
    CHECK(strstr(out, "Content-Transfer-Encoding: 8bit") != NULL);
    {
        smtpc_mime_writer w;
        smtpc_mime_init(&w, &m);
        CHECK_EQ_INT(smtpc_mime_mail_flags(&w), SMTPC_MAIL_8BITMIME);
    }
    /* Mostly non-ASCII: base64 is shorter. */
    m.flags = 0;
    memset(big, 0, sizeof big);
    for (size_t i = 0; i + 3 <= 300; i += 3)
        memcpy(big + i, "\xe6\x9d\xb1", 3);
    p.data = big;
    p.len = 300;
    render(&m, 64, out, OUT_MAX, &st);
    CHECK(strstr(out, "Content-Transfer-Encoding: base64") != NULL);
    /* A line longer than 998: not 7bit. */
    memset(big, 'a', 1500);
    p.len = 1500;
    render(&m, 64, out, OUT_MAX, &st);
    CHECK(strstr(out, "Content-Transfer-Encoding: quoted-printable") != NULL);
    /* Text holding a would-be boundary line: not raw. */
    p.data = "x\n--=_abc\n";
    p.len = 10;
    render(&m, 64, out, OUT_MAX, &st);
    CHECK(strstr(out, "Content-Transfer-Encoding: quoted-printable") != NULL);
    CHECK(strstr(out, "\r\n--=_") == NULL);
    p.encoding = SMTPC_MIME_ENC_7BIT;
    CHECK_EQ_INT(size_of(&m), 0); /* refused */
    /* 8bit without 8BITMIME: refused. */
    p.encoding = SMTPC_MIME_ENC_8BIT;
    p.data = "x";
    p.len = 1;
    CHECK_EQ_INT(size_of(&m), 0);
}

static void test_refusals(void)
{
    smtpc_mime_addr a = {"Name", "a@example.com"};
    smtpc_mime_header h = {"X-Ok", "fine"};
    smtpc_mime_part p = {0};
    smtpc_mime_message m = {0};
    int st;

    unit_case = "refusals";
    p.data = "x";
    p.len = 1;
    m.text = &p;
    m.from = &a;
    m.headers = &h;
    m.header_count = 1;
    render(&m, 64, out, OUT_MAX, &st);
    CHECK_EQ_INT(st, SMTPC_OK);
#define REFUSED(stmt, undo)                                                  \
    do {                                                                     \
        stmt;                                                                \
        CHECK_EQ_INT(render(&m, 64, out, OUT_MAX, &st), 0);                  \
        CHECK_EQ_INT(st, SMTPC_ERR_ARG);                                     \
        undo;                                                                \
    } while (0)
    REFUSED(m.subject = "a\r\nBcc: evil@example.com", m.subject = NULL);
    REFUSED(m.subject = "a\nb", m.subject = NULL);
    REFUSED(m.subject = "a\rb", m.subject = NULL);
    REFUSED(m.subject = "bad \xff utf-8", m.subject = NULL);
    REFUSED(m.subject = "overlong \xc0\xaf", m.subject = NULL);
    REFUSED(a.name = "N\r\nBcc: x@y", a.name = "Name");
    REFUSED(a.address = "a@example.com>\r\nBcc: x@y", a.address = "a@example.com");
    REFUSED(a.address = "a@example.com, b@example.com", a.address = "a@example.com");
    REFUSED(a.address = "j\xc3\xb6@example.com", a.address = "a@example.com");
    REFUSED(h.value = "v\r\nX-Evil: 1", h.value = "fine");
    REFUSED(h.name = "X-Evil\r\nY", h.name = "X-Ok");
    REFUSED(h.name = "X:Colon", h.name = "X-Ok");
    REFUSED(h.name = "Content-Type", h.name = "X-Ok");
    REFUSED(h.name = "MIME-Version", h.name = "X-Ok");
    REFUSED(m.message_id = "a\r\n@b", m.message_id = NULL);
    REFUSED(m.message_id = "<a@b>", m.message_id = NULL);
    REFUSED(m.date = "Mon\r\n", m.date = NULL);
    REFUSED(p.filename = "a\r\nb.txt", p.filename = NULL);
    REFUSED(p.content_id = "x y@z", p.content_id = NULL);
    REFUSED(p.content_type = "text/plain\r\nX: y", p.content_type = NULL);
    REFUSED(p.content_type = "text/plain; charset=x", p.content_type = NULL);
    REFUSED(p.encoding = 9, p.encoding = 0);
    REFUSED((m.inlines = &p, m.inline_count = 1), (m.inlines = NULL, m.inline_count = 0));
    /* With SMTPUTF8, a UTF-8 address is fine. */
    a.address = "j\xc3\xb6@example.com";
    m.flags = SMTPC_MIME_SMTPUTF8;
    render(&m, 64, out, OUT_MAX, &st);
    CHECK_EQ_INT(st, SMTPC_OK);
    CHECK(strstr(out, "From: Name <j\xc3\xb6@example.com>\r\n") != NULL);
}

/* Rules a callback breaks are caught while reading. */
static void test_callback_errors(void)
{
    chunker ch = {0};
    smtpc_mime_part p = {0};
    smtpc_mime_message m = {0};
    int st;

    unit_case = "callback errors";
    ch.data = (const unsigned char *)"0123456789";
    ch.len = 10;
    ch.step = 3;
    p.read = chunk_read;
    p.ctx = &ch;
    p.size = 11; /* one more than it gives */
    p.content_type = "application/octet-stream";
    m.attachments = &p;
    m.attachment_count = 1;
    render(&m, 64, out, OUT_MAX, &st);
    CHECK_EQ_INT(st, SMTPC_ERR_BODY_SOURCE);
    ch.off = 0;
    p.size = 9; /* one less */
    render(&m, 64, out, OUT_MAX, &st);
    CHECK_EQ_INT(st, SMTPC_ERR_BODY_SOURCE);
    /* A raw callback part that would close the multipart. */
    ch.data = (const unsigned char *)"ok\r\n--=_evil\r\n";
    ch.len = 15;
    ch.off = 0;
    p.size = 0;
    p.encoding = SMTPC_MIME_ENC_7BIT;
    p.content_type = "text/plain";
    render(&m, 64, out, OUT_MAX, &st);
    CHECK_EQ_INT(st, SMTPC_ERR_BODY_SOURCE);
    /* 8-bit bytes in a 7bit callback part. */
    ch.data = (const unsigned char *)"caf\xc3\xa9";
    ch.len = 5;
    ch.off = 0;
    render(&m, 64, out, OUT_MAX, &st);
    CHECK_EQ_INT(st, SMTPC_ERR_BODY_SOURCE);
    /* An unknown size stays unknown; auto text from a callback is QP. */
    ch.off = 0;
    p.encoding = 0;
    {
        smtpc_mime_writer w;
        smtpc_mime_init(&w, &m);
        CHECK(smtpc_mime_size(&w) == SMTPC_MIME_SIZE_UNKNOWN);
    }
    render(&m, 64, out, OUT_MAX, &st);
    CHECK_EQ_INT(st, SMTPC_OK);
    CHECK(strstr(out, "Content-Transfer-Encoding: quoted-printable\r\n") != NULL);
    CHECK(strstr(out, "\r\n\r\ncaf=C3=A9\r\n") != NULL);
}

static void test_filenames(void)
{
    smtpc_mime_part p = {0};
    smtpc_mime_message m = {0};
    int st;
    size_t n;

    unit_case = "file names";
    p.data = "x";
    p.len = 1;
    m.attachments = &p;
    m.attachment_count = 1;
    p.filename = "say \"hi\".txt";
    n = render(&m, 64, out, OUT_MAX, &st);
    CHECK(strstr(out, "filename=\"say \\\"hi\\\".txt\"") != NULL);
    p.filename = "=?utf-8?Q?x?=.txt"; /* not for a reader to decode */
    n = render(&m, 64, out, OUT_MAX, &st);
    CHECK(strstr(out, "filename*=utf-8''%3D%3Futf-8%3FQ%3Fx%3F%3D.txt") != NULL);
    p.filename = "résumé.pdf";
    n = render(&m, 64, out, OUT_MAX, &st);
    CHECK(strstr(out, "filename*=utf-8''r%C3%A9sum%C3%A9.pdf") != NULL);
    p.filename = "日本語のとても長いファイル名日本語のとても長いファイル名日本語のとても長いファイル名.txt";
    n = render(&m, 64, out, OUT_MAX, &st);
    CHECK_EQ_INT(st, SMTPC_OK);
    CHECK(lines_ok(out, n, 78));
    CHECK(strstr(out, "filename*0*=utf-8''") != NULL);
    CHECK(strstr(out, "filename*1*=") != NULL);
}


/* ---- Through the engine, as a superloop drives it ---- */

static char wire[OUT_MAX * 2];
static size_t wire_len;

static void drain(smtpc_session *s)
{
    const unsigned char *p;
    size_t len = 0;

    while ((p = smtpc_send_buf(s, &len)) != NULL && len > 0) {
        if (wire_len + len <= sizeof wire) {
            memcpy(wire + wire_len, p, len);
            wire_len += len;
        }
        smtpc_send_ack(s, len);
    }
}

/* Sends what is pending, then answers every reply awaited, as a
 * well-behaved server with the given capabilities would. */
static void serve(smtpc_session *s, int chunking)
{
    const char *r;

    for (;;) {
        drain(s);
        switch (smtpc_session_wait_phase(s)) {
        case SMTPC_PHASE_NONE: return;
        case SMTPC_PHASE_GREETING: r = "220 test\r\n"; break;
        case SMTPC_PHASE_EHLO:
            r = chunking ? "250-test\r\n250-PIPELINING\r\n250-SIZE 100000000\r\n"
                           "250-8BITMIME\r\n250 CHUNKING\r\n"
                         : "250-test\r\n250-PIPELINING\r\n250-SIZE 100000000\r\n"
                           "250 8BITMIME\r\n";
            break;
        case SMTPC_PHASE_DATA: r = chunking ? "250 chunk\r\n" : "354 go\r\n"; break;
        case SMTPC_PHASE_QUIT: r = "221 bye\r\n"; break;
        default: r = "250 ok\r\n"; break;
        }
        if (smtpc_feed(s, r, strlen(r)) != strlen(r))
            return;
    }
}

static void test_through_engine(void)
{
    smtpc_mime_message m;
    smtpc_mime_part parts[5];
    smtpc_mime_addr addrs[2];
    chunker ch = {0};
    static unsigned char io[4096];
    static char piece[333];
    smtpc_config cfg = {0};
    smtpc_session s;
    smtpc_rcpt rcpt = {0};
    smtpc_envelope env = {0};
    smtpc_mime_writer w;
    size_t ref_len, n, off, k, i;
    int st, chunking;
    char *p, *q;
    static char got[OUT_MAX];
    size_t got_len;

    unit_case = "through the engine";
    full_message(&m, parts, addrs, &ch, 1);
    ch.step = 1000;
    ref_len = render(&m, OUT_MAX, ref, OUT_MAX, &st);
    for (chunking = 0; chunking < 2; chunking++) {
        full_message(&m, parts, addrs, &ch, 1);
        ch.step = 777;
        wire_len = 0;
        cfg.ehlo_name = "client.example";
        CHECK_EQ_INT(smtpc_session_init(&s, &cfg, io, sizeof io), SMTPC_OK);
        serve(&s, chunking);
        CHECK(smtpc_session_state(&s) & SMTPC_READY);
        CHECK_EQ_INT(smtpc_mime_init(&w, &m), SMTPC_OK);
        rcpt.address = "r@example.org";
        env.from = "s@example.com";
        env.rcpts = &rcpt;
        env.rcpt_count = 1;
        env.size = smtpc_mime_size(&w);
        env.flags = smtpc_mime_mail_flags(&w);
        CHECK_EQ_INT(env.size, ref_len);
        CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_OK);
        serve(&s, chunking);
        /* The superloop: read a piece, write it as the engine takes it,
         * send and answer when it takes no more. */
        while (!smtpc_mime_done(&w)) {
            n = smtpc_mime_read(&w, piece, sizeof piece);
            for (off = 0; off < n; off += k) {
                k = smtpc_body_write(&s, piece + off, n - off);
                if (k == 0)
                    serve(&s, chunking);
            }
        }
        while (smtpc_body_end(&s) == SMTPC_ERR_BUFFER)
            serve(&s, chunking);
        serve(&s, chunking);
        CHECK_EQ_INT(smtpc_mail_status(&s), SMTPC_OK);
        wire[wire_len < sizeof wire ? wire_len : sizeof wire - 1] = '\0';
        /* SIZE= is the size produced. */
        {
            char want[64];
            snprintf(want, sizeof want, " SIZE=%zu", ref_len);
            CHECK(strstr(wire, want) != NULL);
        }
        /* The message on the wire, taken apart again. */
        got_len = 0;
        if (!chunking) {
            p = strstr(wire, "DATA\r\n");
            CHECK(p != NULL);
            if (!p)
                continue;
            p += 6;
            q = strstr(p, "\r\n.\r\n");
            CHECK(q != NULL);
            if (!q)
                continue;
            q += 2;
            for (i = 0; p + i < q; i++) {
                /* Undo dot-stuffing: a line starting ".." lost one. */
                if (p[i] == '.' && (i == 0 || p[i - 1] == '\n') && p[i + 1] == '.')
                    continue;
                got[got_len++] = p[i];
            }
        } else {
            for (p = wire; (p = strstr(p, "BDAT ")) != NULL;) {
                size_t clen = strtoul(p + 5, &q, 10);
                q = strstr(q, "\r\n") + 2;
                memcpy(got + got_len, q, clen);
                got_len += clen;
                p = q + clen;
            }
        }
        CHECK_EQ_INT(got_len, ref_len);
        CHECK(got_len == ref_len && memcmp(got, ref, ref_len) == 0);
    }
}

int main(void)
{
    test_exact_small();
    test_date();
    test_encoded_words();
    test_addresses();
    test_folding();
    test_qp();
    test_read_sizes();
    test_base64_roundtrip();
    test_structure();
    test_encoding_choice();
    test_refusals();
    test_callback_errors();
    test_filenames();
    test_through_engine();
    return unit_done();
}
