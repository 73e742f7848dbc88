/*
 * Base64 (RFC 4648) decoding for AUTH challenges.  Encoding is done by the
 * command writer, straight into the send area.
 */
#include "internal.h"

const char smtpc_e_b64_alphabet[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
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

/* Decodes in[0..len) into out (which may be in itself: output never runs
 * ahead of input).  *ok is cleared on a byte outside the alphabet, bad
 * padding or too little room. */
size_t smtpc_e_b64_decode(const unsigned char *in, size_t len,
                          unsigned char *out, size_t cap, int *ok)
{
    size_t i, n = 0;
    uint32_t acc = 0;
    unsigned bits = 0, pad = 0;

    *ok = 1;
    for (i = 0; i < len; i++) {
        int v;
        if (in[i] == '=') {
            pad++;
            continue;
        }
        v = b64_value(in[i]);
        if (v < 0 || pad) {
            *ok = 0;
            return n;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap) {
                *ok = 0;
                return n;
            }
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    if (pad > 2 || (len % 4 != 0 && pad != 0))
        *ok = 0;
    return n;
}
