/*
 * Base64 (RFC 4648 section 4), the one encoder and decoder of the library
 * and the tools: AUTH arguments and challenges, MIME bodies and words,
 * certificate pins.
 */
#include "internal.h"

static const char alphabet[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Hosts (64-bit, little-endian) encode 6 bytes at a time through a table
 * of the 4096 character pairs: 4 lookups and one 8-byte store for 8
 * characters, about twice the speed of a character at a time (the MIME
 * writer's base64 runs at memory speed).  The table is 8 KiB of constant
 * data, so a device build (32-bit) keeps the loop below only. */
#ifndef SMTPC_BASE64_WIDE
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) &&          \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && UINTPTR_MAX > 0xffffffffu
#define SMTPC_BASE64_WIDE 1
#else
#define SMTPC_BASE64_WIDE 0
#endif
#endif

#if SMTPC_BASE64_WIDE
#include <string.h>

/* Pair (a, b) as a little-endian 16-bit value: a in the first byte. */
#define B64_PAIR(a, b) (uint16_t)((unsigned)(a) | (unsigned)(b) << 8)
#define B64_ROW(a) \
    B64_PAIR(a, 'A'), B64_PAIR(a, 'B'), B64_PAIR(a, 'C'), B64_PAIR(a, 'D'), \
    B64_PAIR(a, 'E'), B64_PAIR(a, 'F'), B64_PAIR(a, 'G'), B64_PAIR(a, 'H'), \
    B64_PAIR(a, 'I'), B64_PAIR(a, 'J'), B64_PAIR(a, 'K'), B64_PAIR(a, 'L'), \
    B64_PAIR(a, 'M'), B64_PAIR(a, 'N'), B64_PAIR(a, 'O'), B64_PAIR(a, 'P'), \
    B64_PAIR(a, 'Q'), B64_PAIR(a, 'R'), B64_PAIR(a, 'S'), B64_PAIR(a, 'T'), \
    B64_PAIR(a, 'U'), B64_PAIR(a, 'V'), B64_PAIR(a, 'W'), B64_PAIR(a, 'X'), \
    B64_PAIR(a, 'Y'), B64_PAIR(a, 'Z'), B64_PAIR(a, 'a'), B64_PAIR(a, 'b'), \
    B64_PAIR(a, 'c'), B64_PAIR(a, 'd'), B64_PAIR(a, 'e'), B64_PAIR(a, 'f'), \
    B64_PAIR(a, 'g'), B64_PAIR(a, 'h'), B64_PAIR(a, 'i'), B64_PAIR(a, 'j'), \
    B64_PAIR(a, 'k'), B64_PAIR(a, 'l'), B64_PAIR(a, 'm'), B64_PAIR(a, 'n'), \
    B64_PAIR(a, 'o'), B64_PAIR(a, 'p'), B64_PAIR(a, 'q'), B64_PAIR(a, 'r'), \
    B64_PAIR(a, 's'), B64_PAIR(a, 't'), B64_PAIR(a, 'u'), B64_PAIR(a, 'v'), \
    B64_PAIR(a, 'w'), B64_PAIR(a, 'x'), B64_PAIR(a, 'y'), B64_PAIR(a, 'z'), \
    B64_PAIR(a, '0'), B64_PAIR(a, '1'), B64_PAIR(a, '2'), B64_PAIR(a, '3'), \
    B64_PAIR(a, '4'), B64_PAIR(a, '5'), B64_PAIR(a, '6'), B64_PAIR(a, '7'), \
    B64_PAIR(a, '8'), B64_PAIR(a, '9'), B64_PAIR(a, '+'), B64_PAIR(a, '/')
static const uint16_t pairs[4096] = {
    B64_ROW('A'), B64_ROW('B'), B64_ROW('C'), B64_ROW('D'), B64_ROW('E'), B64_ROW('F'),
    B64_ROW('G'), B64_ROW('H'), B64_ROW('I'), B64_ROW('J'), B64_ROW('K'), B64_ROW('L'),
    B64_ROW('M'), B64_ROW('N'), B64_ROW('O'), B64_ROW('P'), B64_ROW('Q'), B64_ROW('R'),
    B64_ROW('S'), B64_ROW('T'), B64_ROW('U'), B64_ROW('V'), B64_ROW('W'), B64_ROW('X'),
    B64_ROW('Y'), B64_ROW('Z'), B64_ROW('a'), B64_ROW('b'), B64_ROW('c'), B64_ROW('d'),
    B64_ROW('e'), B64_ROW('f'), B64_ROW('g'), B64_ROW('h'), B64_ROW('i'), B64_ROW('j'),
    B64_ROW('k'), B64_ROW('l'), B64_ROW('m'), B64_ROW('n'), B64_ROW('o'), B64_ROW('p'),
    B64_ROW('q'), B64_ROW('r'), B64_ROW('s'), B64_ROW('t'), B64_ROW('u'), B64_ROW('v'),
    B64_ROW('w'), B64_ROW('x'), B64_ROW('y'), B64_ROW('z'), B64_ROW('0'), B64_ROW('1'),
    B64_ROW('2'), B64_ROW('3'), B64_ROW('4'), B64_ROW('5'), B64_ROW('6'), B64_ROW('7'),
    B64_ROW('8'), B64_ROW('9'), B64_ROW('+'), B64_ROW('/')
};

/* 6 input bytes (of the 8 read) into 8 characters. */
static void encode6(char *out, const unsigned char *in)
{
    uint64_t x = (uint64_t)in[0] << 56 | (uint64_t)in[1] << 48 |
                 (uint64_t)in[2] << 40 | (uint64_t)in[3] << 32 |
                 (uint64_t)in[4] << 24 | (uint64_t)in[5] << 16 |
                 (uint64_t)in[6] << 8 | in[7];
    uint64_t r = (uint64_t)pairs[(x >> 52) & 4095] |
                 (uint64_t)pairs[(x >> 40) & 4095] << 16 |
                 (uint64_t)pairs[(x >> 28) & 4095] << 32 |
                 (uint64_t)pairs[(x >> 16) & 4095] << 48;

    memcpy(out, &r, 8);
}
#endif

size_t smtpc_base64_encode(char *dst, const void *src, size_t n)
{
    const unsigned char *in = src;
    char *out = dst;
    uint32_t v;

#if SMTPC_BASE64_WIDE
    /* 8 bytes readable for every 6 used. */
    for (; n >= 8; n -= 6, in += 6, out += 8)
        encode6(out, in);
#endif
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
