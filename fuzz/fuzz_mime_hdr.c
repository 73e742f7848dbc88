/*
 * fuzz/fuzz_mime_hdr.c - header values: folding, encoded-words, address
 * lists, RFC 2231 file names.
 *
 * Input: a flags byte (bit 0: SMTPUTF8; bits 1-7: read size), then up to
 * five strings separated by NUL bytes: Subject, two display names, a
 * custom field's value, an attachment's file name.
 * Checked:
 *   - init refuses exactly the values with a control byte (CR, LF, ...)
 *     or invalid UTF-8 (and over-long file names): nothing from the
 *     caller can start a header line;
 *   - every header line ends in CRLF, is at most 78 characters (76 when
 *     it holds an encoded-word), and is a continuation or starts with a
 *     field the writer writes;
 *   - no B encoded-word but the last of a run has "=" padding;
 *   - Subject, X-Fuzz, both display names and the file name decode back
 *     (unfolding, RFC 2047, quoted-strings, RFC 2231) to the input; with
 *     SMTPUTF8 as well;
 *   - the size computed in advance is the size produced;
 *   - reads of the fuzzed size give the bytes one read of all gives.
 * Inputs are capped at 1100 bytes (fuzz_mime_hdr.options: -max_len=1100):
 * past the 1000-byte file name limit (the longest length the header code
 * tests), long enough for values folded over dozens of lines and RFC 2231
 * names in dozens of sections.  Under the sanitizers a 3.6 KB input took
 * 4 ms with one large read and 37 ms with 1-byte reads (each read
 * regenerates the field it stops in), so with 4096 10 million runs were
 * out of reach, and no header code is reached past 1100 bytes that 1100
 * bytes does not reach.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpc/mime.h"

#define OUT_MAX (1u << 18)
static char out[OUT_MAX + 1], whole[OUT_MAX];
static char raw[OUT_MAX], dec[OUT_MAX], str[5][4096];

static void fz_fail(const char *what)
{
    fprintf(stderr, "invariant broken: %s\n", what);
    abort();
}

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

/* Valid UTF-8 (no overlong, surrogate or > U+10FFFF) without control
 * bytes other than tab: what the writer must take. */
static int valid_text(const unsigned char *s)
{
    while (*s) {
        size_t k, i;
        uint32_t cp;
        if (*s == 0x7f || (*s < 0x20 && *s != '\t'))
            return 0;
        if (*s < 0x80) {
            s++;
            continue;
        }
        if (*s >= 0xc2 && *s <= 0xdf)
            k = 2, cp = *s & 0x1fu;
        else if (*s >= 0xe0 && *s <= 0xef)
            k = 3, cp = *s & 0x0fu;
        else if (*s >= 0xf0 && *s <= 0xf4)
            k = 4, cp = *s & 0x07u;
        else
            return 0;
        for (i = 1; i < k; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i] & 0x3fu);
        }
        if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        s += k;
    }
    return 1;
}

/* The unfolded value of the first field called name (leading spaces
 * dropped), or NULL. */
static char *field(const char *msg, const char *name)
{
    size_t nl = strlen(name), len = 0;
    const char *p = msg;

    while (*p && !(p[0] == '\r' && p[1] == '\n')) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
            p += nl + 1;
            while (*p == ' ' || (p[0] == '\r' && p[1] == '\n' && p[2] == ' '))
                p += *p == ' ' ? 1 : 2;
            for (;;) {
                if (p[0] == '\r' && p[1] == '\n') {
                    if (p[2] == ' ' || p[2] == '\t') {
                        p += 2;
                        continue;
                    }
                    break;
                }
                raw[len++] = *p++;
            }
            raw[len] = '\0';
            return raw;
        }
        p = strstr(p, "\r\n");
        if (!p)
            break;
        p += 2;
    }
    return NULL;
}

/* RFC 2047: words decoded, white space between two words dropped. */
static size_t decode_words(const char *v, size_t n, char *dst)
{
    size_t len = 0, i = 0, ws = 0;
    int prev_ew = 0;

    while (i < n) {
        if (v[i] == '=' && i + 1 < n && v[i + 1] == '?') {
            const char *q1 = memchr(v + i + 2, '?', n - i - 2), *q2, *end;
            int ok = 1;
            if (!q1 || !(q2 = memchr(q1 + 1, '?', (size_t)(v + n - q1 - 1))))
                fz_fail("broken encoded-word");
            end = strstr(q2 + 1, "?=");
            if (!end || end > v + n)
                fz_fail("unterminated encoded-word");
            if (end + 2 - (v + i) > 75)
                fz_fail("encoded-word over 75");
            if (!prev_ew && ws) {
                memcpy(dst + len, v + i - ws, ws);
                len += ws;
            }
            if (q1[1] == 'B') {
                const char *nx = end + 2;
                while (nx < v + n && *nx == ' ')
                    nx++;
                /* Padding only before a Q word or the end: some readers
                 * join adjacent B words before decoding. */
                if (end[-1] == '=' && v + n - nx >= 10 &&
                    strncmp(nx, "=?utf-8?B?", 10) == 0)
                    fz_fail("base64 padding inside a run of B words");
                len += smtpc_base64_decode(dst + len, 200, q2 + 1,
                                           (size_t)(end - q2 - 1), &ok);
                if (!ok)
                    fz_fail("bad base64 in a word");
            } else {
                const char *c;
                for (c = q2 + 1; c < end; c++) {
                    if (*c == '_')
                        dst[len++] = ' ';
                    else if (*c == '=') {
                        dst[len++] = (char)(hexval(c[1]) * 16 + hexval(c[2]));
                        c += 2;
                    } else
                        dst[len++] = *c;
                }
            }
            i = (size_t)(end + 2 - v);
            prev_ew = 1;
            ws = 0;
            continue;
        }
        if (v[i] == ' ' || v[i] == '\t') {
            ws++;
            i++;
            if (i < n && v[i] == '=' && i + 1 < n && v[i + 1] == '?')
                continue;
            if (i < n && (v[i] == ' ' || v[i] == '\t'))
                continue;
            memcpy(dst + len, v + i - ws, ws);
            len += ws;
            ws = 0;
            continue;
        }
        if (ws) {
            memcpy(dst + len, v + i - ws, ws);
            len += ws;
            ws = 0;
        }
        dst[len++] = v[i++];
        prev_ew = 0;
    }
    if (ws) {
        memcpy(dst + len, v + n - ws, ws);
        len += ws;
    }
    dst[len] = '\0';
    return len;
}

/* One display name at *pp, up to its "<". */
static void check_name(const char **pp, const char *want)
{
    const char *p = *pp, *lt;
    size_t len = 0;

    while (*p == ' ')
        p++;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\')
                p++;
            dec[len++] = *p;
        }
        dec[len] = '\0';
        p++;
    } else {
        lt = strchr(p, '<');
        if (!lt)
            fz_fail("no < after a display name");
        len = (size_t)(lt - p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        decode_words(p, len, dec);
        p = lt;
    }
    if (strcmp(dec, want) != 0)
        fz_fail("display name does not come back");
    while (*p == ' ')
        p++;
    if (*p != '<')
        fz_fail("no address after the name");
    p = strchr(p, '>');
    if (!p)
        fz_fail("no >");
    *pp = p + 1;
}

/* filename="..." or filename*=utf-8''... or filename*N*=... sections. */
static void check_filename(const char *cd, const char *want)
{
    const char *p = strstr(cd, "filename");
    size_t len = 0;

    if (!p)
        fz_fail("no filename parameter");
    if (p[8] == '=') {
        for (p += 10; *p && *p != '"'; p++) {
            if (*p == '\\')
                p++;
            dec[len++] = *p;
        }
    } else {
        for (;;) {
            p = strchr(p, '=') + 1;
            if (strncmp(p, "utf-8''", 7) == 0)
                p += 7;
            for (; *p && *p != ';'; p++) {
                if (*p == '%') {
                    dec[len++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
                    p += 2;
                } else if (*p != ' ') {
                    dec[len++] = *p;
                }
            }
            if (*p != ';')
                break;
            p = strstr(p, "filename*");
            if (!p)
                break;
        }
    }
    dec[len] = '\0';
    if (strcmp(dec, want) != 0)
        fz_fail("file name does not come back");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const known[] = {
        "From:", "To:", "Subject:", "X-Fuzz:", "MIME-Version:",
        "Content-Type:", "Content-Transfer-Encoding:", "Content-Disposition:",
        "--=_"};
    smtpc_mime_addr to[2], from = {NULL, "from@example.com"};
    smtpc_mime_header h = {"X-Fuzz", NULL};
    smtpc_mime_part text = {0}, att = {0};
    smtpc_mime_message m = {0};
    smtpc_mime_writer w;
    size_t i, k, n, len = 0, step, col;
    int valid = 1, rc, in_header, ew;
    const char *p;

    if (size < 1 || size > 1100)
        return 0;
    memset(str, 0, sizeof str);
    for (i = 1, k = 0, n = 0; i < size && k < 5; i++) {
        if (data[i] == 0) {
            k++;
            n = 0;
        } else if (n + 1 < sizeof str[0]) {
            str[k][n++] = (char)data[i];
        }
    }
    for (k = 0; k < 5; k++)
        valid &= valid_text((const unsigned char *)str[k]);
    valid &= strlen(str[4]) <= 1000;
    to[0].name = str[1];
    to[0].address = "one@example.com";
    to[1].name = str[2];
    to[1].address = "two@example.org";
    h.value = str[3];
    text.data = "x";
    text.len = 1;
    att.data = "y";
    att.len = 1;
    att.filename = str[4][0] ? str[4] : "f";
    m.from = &from;
    m.to = to;
    m.to_count = 2;
    m.subject = str[0];
    m.headers = &h;
    m.header_count = 1;
    m.text = &text;
    m.attachments = &att;
    m.attachment_count = 1;
    m.flags = (data[0] & 1) ? SMTPC_MIME_SMTPUTF8 : 0;
    /* Reads of 1 to 190 bytes (under 96 the writer stages them) or of
     * 128 to 16384: header text is regenerated for each read that stops
     * in it, so small reads are the slow ones; half the inputs use them. */
    k = data[0] >> 1;
    step = k < 64 ? 1 + k * 3 : (size_t)128 << (k & 7);

    rc = smtpc_mime_init(&w, &m);
    if (!valid) {
        if (rc != SMTPC_ERR_ARG)
            fz_fail("a control byte or bad UTF-8 was taken");
        if (smtpc_mime_read(&w, out, 100) != 0)
            fz_fail("bytes after a refusal");
        return 0;
    }
    if (rc != SMTPC_OK)
        fz_fail("a valid message was refused");
    while (!smtpc_mime_done(&w)) {
        n = smtpc_mime_read(&w, out + len,
                            step < OUT_MAX - len ? step : OUT_MAX - len);
        if (n == 0 || len + n >= OUT_MAX)
            fz_fail("no progress");
        len += n;
    }
    out[len] = '\0';
    if (smtpc_mime_size(&w) != len)
        fz_fail("size computed in advance differs");
    /* The same bytes in one read (header text is regenerated per read,
     * resumed at the unit a read stopped in). */
    if (smtpc_mime_init(&w, &m) != SMTPC_OK ||
        smtpc_mime_read(&w, whole, sizeof whole) != len ||
        !smtpc_mime_done(&w) || memcmp(whole, out, len) != 0)
        fz_fail("the bytes depend on the read size");

    /* Header lines: the message's and the parts'. */
    for (i = 0, col = 0, in_header = 1, ew = 0; i < len; i++) {
        if (out[i] == '\r') {
            if (out[i + 1] != '\n')
                fz_fail("bare CR");
            if (col > 78)
                fz_fail("header line over 78");
            if (ew && col > 76)
                fz_fail("line with an encoded-word over 76");
            i++;
            col = 0;
            ew = 0;
            continue;
        }
        if (out[i] == '=' && out[i + 1] == '?')
            ew = 1;
        if (out[i] == '\n')
            fz_fail("bare LF");
        if (col == 0 && in_header && out[i] != ' ' && out[i] != '\t') {
            for (k = 0; k < sizeof known / sizeof known[0]; k++)
                if (strncmp(out + i, known[k], strlen(known[k])) == 0)
                    break;
            if (k == sizeof known / sizeof known[0] && out[i] != 'x' &&
                out[i] != 'y')
                fz_fail("a header line the writer does not write");
        }
        col++;
    }

    p = field(out, "Subject");
    if (!p)
        fz_fail("no Subject");
    decode_words(p, strlen(p), dec);
    if (strcmp(dec, str[0]) != 0)
        fz_fail("Subject does not come back");
    p = field(out, "X-Fuzz");
    if (!p)
        fz_fail("no X-Fuzz");
    decode_words(p, strlen(p), dec);
    if (strcmp(dec, str[3]) != 0)
        fz_fail("X-Fuzz does not come back");
    p = field(out, "To");
    if (!p)
        fz_fail("no To");
    for (k = 0; k < 2; k++) {
        if (to[k].name[0]) {
            check_name(&p, to[k].name);
        } else {
            while (*p == ' ')
                p++;
            p += strlen(to[k].address);
        }
        if (k == 0 && *p++ != ',')
            fz_fail("no comma between addresses");
    }
    if (*p)
        fz_fail("trailing bytes in To");
    p = strstr(out, "\r\nContent-Disposition: attachment");
    if (!p)
        fz_fail("no Content-Disposition");
    {
        const char *e = strstr(p, "\r\n\r\n");
        size_t l = 0;
        static char cd[OUT_MAX];
        for (; p < e; p++)
            if (!(p[0] == '\r' && p[1] == '\n'))
                cd[l++] = *p;
            else
                p++;
        cd[l] = '\0';
        check_filename(cd, att.filename);
    }
    return 0;
}
