/*
 * cli/common/escape.c - untrusted strings (from the server, the command
 * line or a message) written so that they can neither drive a terminal
 * nor break a JSON document.
 *
 * JSON strings (RFC 8259): control bytes are escaped, valid UTF-8 passes
 * through, and each byte of invalid UTF-8 becomes U+FFFD, so the output
 * always parses.
 */
#include <string.h>

#include "cli_common.h"

void cli_put_format(FILE *f, const char *fmt, const char *arg)
{
    const char *mark = strstr(fmt, "%s");

    if (!mark) {
        fputs(fmt, f);
        return;
    }
    fwrite(fmt, 1, (size_t)(mark - fmt), f);
    if (arg)
        cli_put_escaped(f, arg);
    fputs(mark + 2, f);
}

void cli_put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned min, cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2; min = 0x80; cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3; min = 0x800; cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4; min = 0x10000; cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0; /* also stops at the terminating NUL */
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void cli_json_string(FILE *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;

    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    while (*s) {
        unsigned c = *s;
        size_t n;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc((int)c, out);
            s++;
        } else if (c == '\n') {
            fputs("\\n", out);
            s++;
        } else if (c == '\r') {
            fputs("\\r", out);
            s++;
        } else if (c == '\t') {
            fputs("\\t", out);
            s++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\u%04x", c);
            s++;
        } else if ((n = utf8_len(s)) == 0) {
            fputs("\\ufffd", out);
            s++;
        } else {
            fwrite(s, 1, n, out);
            s += n;
        }
    }
    fputc('"', out);
}
