/*
 * fuzz/fuzz_mime_enc.c - the MIME writer's content encoders.
 *
 * Input: 4 control bytes, then the content of one part.
 *   c0: bits 0-2 encoding (auto, 7bit, 8bit, QP, base64; more = auto),
 *       bit 3 text/plain (else application/octet-stream), bit 4 content
 *       from a callback (else a buffer), bit 5 8BITMIME, bit 6 the
 *       callback declares its size, bit 7 a text part before it (so the
 *       message is multipart/mixed)
 *   c1: read size (1 + c1 * 7)
 *   c2, c3: callback piece sizes (alternating, 1 + c * 3), 0xff: LATER
 * The message is read to the end and checked:
 *   - every line ends in CRLF (no bare CR or LF), none is over 998, and
 *     in base64 or QP content none is over 76 or starts with ".";
 *   - the size computed in advance, when known, is the size produced;
 *   - the only lines starting with "--=_" are the delimiters;
 *   - the content decodes back to the input (base64, QP binary: exact;
 *     QP text and raw: with line ends made CRLF).
 * A refusal (SMTPC_ERR_ARG from init, SMTPC_ERR_BODY_SOURCE from a raw
 * callback part) is allowed only for 7bit/8bit parts.
 *
 * Content is capped at 4096 bytes (fuzz_mime_enc.options: -max_len=4100):
 * that is past every length the writer treats specially (a raw line over
 * 998, base64's 57-byte lines, QP's 76, the 96-byte staging buffer, the
 * 1 KiB pieces of the QP size count) and past the largest read and piece
 * sizes below, while inputs of tens of KB with 1-byte reads made the
 * target 20 times slower per run for no new code reached.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpc/mime.h"

#define IN_MAX 4096
/* Worst case: QP of binary content triples it, plus headers and breaks. */
#define OUT_MAX (1u << 16)
static char out[OUT_MAX + 1];
static unsigned char dec[OUT_MAX];
static unsigned char want[OUT_MAX];

static void fz_fail(const char *what)
{
    fprintf(stderr, "invariant broken: %s\n", what);
    abort();
}

typedef struct src {
    const uint8_t *p;
    size_t len, off;
    uint8_t a, b;
    unsigned calls;
} src;

static int src_read(void *ctx, const void **data, size_t *len)
{
    src *s = ctx;
    uint8_t c = (s->calls++ & 1) ? s->b : s->a;
    size_t n = 1 + (size_t)c * 3;

    if (c == 0xff && (s->calls & 2))
        return SMTPC_MIME_LATER;
    if (n > s->len - s->off)
        n = s->len - s->off;
    *data = s->p + s->off;
    *len = n;
    s->off += n;
    return SMTPC_OK;
}

static int hexval(int c)
{
    return c <= '9' ? c - '0' : c - 'A' + 10;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smtpc_mime_part part = {0}, text = {0};
    smtpc_mime_message m = {0};
    smtpc_mime_writer w;
    src s = {0};
    size_t len = 0, step, n, i, wl, dl, idle = 0, delims = 0, col;
    const char *body, *end, *p, *hdr;
    int enc, textual, rc, st;
    uint64_t want_size;

    if (size < 4 || size > 4 + IN_MAX)
        return 0;
    enc = data[0] & 7;
    if (enc > SMTPC_MIME_ENC_BASE64)
        enc = SMTPC_MIME_ENC_AUTO;
    textual = (data[0] >> 3) & 1;
    part.encoding = enc;
    part.content_type = textual ? "text/plain" : "application/octet-stream";
    s.p = data + 4;
    s.len = size - 4;
    s.a = data[2];
    s.b = data[3];
    if (data[0] & 0x10) {
        part.read = src_read;
        part.ctx = &s;
        if (data[0] & 0x40)
            part.size = s.len;
    } else {
        part.data = data + 4;
        part.len = size - 4;
    }
    if (data[0] & 0x20)
        m.flags = SMTPC_MIME_8BITMIME;
    if (data[0] & 0x80) {
        text.data = "intro\n";
        text.len = 6;
        m.text = &text;
    }
    m.attachments = &part;
    m.attachment_count = 1;
    m.entropy = data;
    m.entropy_len = 4;
    step = 1 + (size_t)data[1] * 7;

    rc = smtpc_mime_init(&w, &m);
    if (rc != SMTPC_OK) {
        if (enc == SMTPC_MIME_ENC_7BIT || enc == SMTPC_MIME_ENC_8BIT)
            return 0;
        fz_fail("init refused a part it can encode");
    }
    want_size = smtpc_mime_size(&w);
    while (!smtpc_mime_done(&w) && smtpc_mime_status(&w) == SMTPC_OK) {
        n = smtpc_mime_read(&w, out + len,
                            step < OUT_MAX - len ? step : OUT_MAX - len);
        len += n;
        idle = n ? 0 : idle + 1;
        if (idle > 1000 || len == OUT_MAX)
            fz_fail("no progress");
    }
    st = smtpc_mime_status(&w);
    if (st != SMTPC_OK) {
        if (st == SMTPC_ERR_BODY_SOURCE && part.read &&
            (enc == SMTPC_MIME_ENC_7BIT || enc == SMTPC_MIME_ENC_8BIT))
            return 0;
        fz_fail("read failed");
    }
    if (want_size != SMTPC_MIME_SIZE_UNKNOWN && want_size != len)
        fz_fail("size computed in advance differs");
    if (smtpc_mime_read(&w, out + len, 16) != 0)
        fz_fail("bytes after the end");

    /* Lines. */
    for (i = 0, col = 0; i < len; i++) {
        if (out[i] == '\r') {
            if (i + 1 >= len || out[i + 1] != '\n')
                fz_fail("bare CR");
            i++;
            col = 0;
            continue;
        }
        if (out[i] == '\n')
            fz_fail("bare LF");
        if (col == 0 && len - i >= 4 && memcmp(out + i, "--=_", 4) == 0)
            delims++;
        if (++col > 998)
            fz_fail("line over 998");
    }
    if (len < 2 || out[len - 2] != '\r' || out[len - 1] != '\n')
        fz_fail("no final CRLF");
    if (delims != (m.text ? 3u : 0u))
        fz_fail("a boundary line inside a part");

    out[len] = '\0';
    /* The part's header: the message's, or after the second delimiter;
     * its content: after the blank line, up to the next delimiter (or
     * the final CRLF). */
    p = out;
    if (m.text) {
        p = strstr(out, "\r\n--=_");
        p = p ? strstr(p + 2, "\r\n--=_") : NULL;
        if (!p)
            fz_fail("no second delimiter");
    }
    hdr = p;
    body = strstr(p, "\r\n\r\n");
    if (!body)
        fz_fail("no blank line");
    body += 4;
    if (m.text) {
        end = NULL;
        for (p = body; p + 6 <= out + len; p++)
            if (memcmp(p, "\r\n--=_", 6) == 0) {
                end = p;
                break;
            }
        if (!end)
            fz_fail("no closing delimiter");
    } else {
        end = out + len;
    }
    p = strstr(hdr, "Content-Transfer-Encoding: ");
    if (!p || p > body)
        fz_fail("no Content-Transfer-Encoding");
    if (strncmp(p + 27, "base64\r\n", 8) == 0) {
        int ok = 1;
        for (i = 0, wl = 0, col = 0; body + i < end; i++) {
            if (body[i] == '\r') {
                i++;
                col = 0;
                continue;
            }
            if (++col > 76)
                fz_fail("base64 line over 76");
            dec[wl++] = (unsigned char)body[i];
        }
        dl = smtpc_base64_decode(dec, sizeof dec, (const char *)dec, wl, &ok);
        if (!ok || dl != s.len || memcmp(dec, data + 4, dl) != 0)
            fz_fail("base64 does not decode to the input");
    } else if (strncmp(p + 27, "quoted-printable\r\n", 18) == 0) {
        for (i = 0, dl = 0, col = 0; body + i < end; i++) {
            if (body[i] == '\r') {
                if (col > 76)
                    fz_fail("QP line over 76");
                if (i > 0 && (body[i - 1] == ' ' || body[i - 1] == '\t'))
                    fz_fail("QP trailing white space");
                dec[dl++] = '\r';
                dec[dl++] = '\n';
                i++;
                col = 0;
                continue;
            }
            if (col == 0 && body[i] == '.')
                fz_fail("QP line starting with a dot");
            if (body[i] == '=') {
                if (body[i + 1] == '\r') {
                    i += 2; /* soft break: the line goes on */
                    if (col + 1 > 76)
                        fz_fail("QP line over 76");
                    col = 0;
                    continue;
                }
                if (body[i + 1] == '_')
                    fz_fail("=_ in QP output");
                dec[dl++] = (unsigned char)(hexval(body[i + 1]) * 16 +
                                            hexval(body[i + 2]));
                i += 2;
                col += 3;
                continue;
            }
            dec[dl++] = (unsigned char)body[i];
            col++;
        }
        /* Text: CRLF and bare LF are line ends (CRLF); binary: exact. */
        for (i = 0, wl = 0; i < s.len; i++) {
            unsigned char c = data[4 + i];
            if (textual && c == '\n') {
                want[wl++] = '\r';
                want[wl++] = '\n';
            } else if (textual && c == '\r' && i + 1 < s.len &&
                       data[5 + i] == '\n') {
                want[wl++] = '\r';
                want[wl++] = '\n';
                i++;
            } else {
                want[wl++] = c;
            }
        }
        /* Single part: the final CRLF is the writer's when the content
         * did not end a line. */
        if (!m.text && dl >= 2 &&
            !(textual && s.len > 0 && data[3 + s.len] == '\n'))
            dl -= 2;
        if (dl != wl || memcmp(dec, want, wl) != 0)
            fz_fail("QP does not decode to the input");
    } else {
        /* Raw: line ends made CRLF, otherwise the input. */
        for (i = 0, wl = 0; i < s.len; i++) {
            unsigned char c = data[4 + i];
            if (c == '\r' || c == '\n') {
                want[wl++] = '\r';
                want[wl++] = '\n';
                if (c == '\r' && i + 1 < s.len && data[5 + i] == '\n')
                    i++;
            } else {
                want[wl++] = c;
            }
        }
        dl = (size_t)(end - body);
        if (!m.text && dl >= 2 && !(wl >= 2 && want[wl - 1] == '\n'))
            dl -= 2;
        if (dl != wl || memcmp(body, want, wl) != 0)
            fz_fail("raw content differs from the input");
    }
    return 0;
}
