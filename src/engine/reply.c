/*
 * One line of a server reply (RFC 5321 4.2): three digits, then '-' (more
 * lines follow), ' ' or the end of the line (last line).  An RFC 3463
 * enhanced status code at the start of the text is split off.
 */
#include "internal.h"

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Parses "d.ddd.ddd" followed by a space or the end of the text.  Returns
 * the bytes it spans (0 when the text does not start with one). */
static size_t parse_enhanced(const unsigned char *p, size_t len,
                             uint16_t enh[3])
{
    size_t i = 0;
    unsigned part;

    for (part = 0; part < 3; part++) {
        unsigned v = 0, digits = 0;
        while (i < len && is_digit(p[i]) && digits < 3) {
            v = v * 10 + (unsigned)(p[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || (part == 0 && digits != 1))
            return 0;
        enh[part] = (uint16_t)v;
        if (part < 2) {
            if (i >= len || p[i] != '.')
                return 0;
            i++;
        }
    }
    if (i < len && p[i] != ' ')
        return 0;
    return i;
}

int smtpc_e_line_parse(const unsigned char *p, size_t len, smtpc_line *out)
{
    size_t n;

    if (len < 3 || p[0] < '2' || p[0] > '5' || !is_digit(p[1]) ||
        !is_digit(p[2]))
        return SMTPC_ERR_PROTOCOL;
    if (len > 3 && p[3] != ' ' && p[3] != '-')
        return SMTPC_ERR_PROTOCOL; /* "2500", "25x": not a reply code */
    out->code = (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 +
                (unsigned)(p[2] - '0');
    out->last = (len == 3 || p[3] == ' ');
    out->enh[0] = out->enh[1] = out->enh[2] = 0;
    p += (len > 3) ? 4 : 3;
    len -= (len > 3) ? 4 : 3;
    /* The enhanced class must match the reply's class (RFC 3463: 2, 4, 5). */
    n = parse_enhanced(p, len, out->enh);
    if (n > 0 && out->enh[0] == out->code / 100) {
        p += n;
        len -= n;
        while (len > 0 && *p == ' ') {
            p++;
            len--;
        }
    } else {
        out->enh[0] = out->enh[1] = out->enh[2] = 0;
    }
    out->text = (const char *)p;
    out->text_len = len;
    return SMTPC_OK;
}

void smtpc_e_text_append(char *dst, size_t cap, const char *src, size_t len)
{
    size_t n = 0, i;

    while (n < cap && dst[n] != '\0')
        n++;
    if (n + 1 >= cap)
        return;
    /* Each call is one line of a reply: the lines are kept apart. */
    if (n > 0)
        dst[n++] = '\n';
    for (i = 0; i < len && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        /* Keep logs and terminals safe from whatever the server sends. */
        dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[n] = '\0';
}
