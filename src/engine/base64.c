/*
 * Base64 (RFC 4648 section 4), the one encoder and decoder of the library
 * and the tools: AUTH arguments and challenges, MIME bodies and words,
 * certificate pins.
 */
#include "internal.h"

static const char alphabet[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t smtpc_base64_encode(char *dst, const void *src, size_t n)
{
    const unsigned char *in = src;
    char *out = dst;
    uint32_t v;

    for (; n >= 3; n -= 3, in += 3, out += 4) {
        v = (uint32_t)in[0] << 16 | (uint32_t)in[1] << 8 | in[2];
        out[0] = alphabet[v >> 18];
        out[1] = alphabet[(v >> 12) & 63];
        out[2] = alphabet[(v >> 6) & 63];
        out[3] = alphabet[v & 63];
    }
    if (n > 0) {
        v = (uint32_t)in[0] << 16;
        if (n > 1)
            v |= (uint32_t)in[1] << 8;
        out[0] = alphabet[v >> 18];
        out[1] = alphabet[(v >> 12) & 63];
        out[2] = n > 1 ? alphabet[(v >> 6) & 63] : '=';
        out[3] = '=';
        out += 4;
    }
    return (size_t)(out - dst);
}

static int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

size_t smtpc_base64_decode(void *dst, size_t cap, const char *src, size_t n,
                           int *ok)
{
    const unsigned char *in = (const unsigned char *)src;
    unsigned char *out = dst;
    size_t i, len = 0;
    uint32_t acc = 0;
    unsigned bits = 0, pad = 0;

    *ok = 1;
    for (i = 0; i < n; i++) {
        int v;
        if (in[i] == '=') {
            pad++;
            continue;
        }
        v = value_of(in[i]);
        if (v < 0 || pad) {
            *ok = 0;
            return len;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (len >= cap) {
                *ok = 0;
                return len;
            }
            out[len++] = (unsigned char)(acc >> bits);
        }
    }
    if (pad > 2 || (n % 4 != 0 && pad != 0))
        *ok = 0;
    return len;
}
