/*
 * MD5 (RFC 1321) and HMAC-MD5 (RFC 2104), only for AUTH CRAM-MD5 (RFC
 * 2195).  Not for anything that needs collision resistance.
 */
#include "internal.h"

#include <string.h>

#if SMTPC_WITH_AUTH_CRAM_MD5

/* Per-round shift amounts and the sine-derived constants of RFC 1321. */
static const uint8_t md5_shift[16] = {7, 12, 17, 22, 5, 9,  14, 20,
                                      4, 11, 16, 23, 6, 10, 15, 21};
static const uint32_t md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
    0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
    0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
    0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
    0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

static void md5_block(uint32_t h[4], const unsigned char *p)
{
    uint32_t w[16], a = h[0], b = h[1], c = h[2], d = h[3];
    unsigned i;

    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
               (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
    for (i = 0; i < 64; i++) {
        uint32_t f, t;
        unsigned g, r = i >> 4;
        if (r == 0) {
            f = (b & c) | (~b & d);
            g = i;
        } else if (r == 1) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) & 15;
        } else if (r == 2) {
            f = b ^ c ^ d;
            g = (3 * i + 5) & 15;
        } else {
            f = c ^ (b | ~d);
            g = (7 * i) & 15;
        }
        t = a + f + md5_k[i] + w[g];
        a = d;
        d = c;
        c = b;
        {
            unsigned sh = md5_shift[(r << 2) | (i & 3)];
            b = b + ((t << sh) | (t >> (32 - sh)));
        }
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}

void smtpc_e_md5_init(smtpc_md5 *m)
{
    m->h[0] = 0x67452301;
    m->h[1] = 0xefcdab89;
    m->h[2] = 0x98badcfe;
    m->h[3] = 0x10325476;
    m->len = 0;
}

void smtpc_e_md5_update(smtpc_md5 *m, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t used = (size_t)(m->len & 63);

    m->len += len;
    while (len > 0) {
        size_t take = 64 - used;
        if (take > len)
            take = len;
        memcpy(m->buf + used, p, take);
        used += take;
        p += take;
        len -= take;
        if (used == 64) {
            md5_block(m->h, m->buf);
            used = 0;
        }
    }
}

void smtpc_e_md5_final(smtpc_md5 *m, unsigned char out[16])
{
    static const unsigned char zero = 0, one = 0x80;
    unsigned char len[8];
    uint64_t bits = m->len * 8;
    unsigned i;

    /* Padding fed a byte at a time: slower, but no 64-byte buffer on the
     * stack of an engine call. */
    smtpc_e_md5_update(m, &one, 1);
    while ((m->len & 63) != 56)
        smtpc_e_md5_update(m, &zero, 1);
    for (i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (8 * i));
    smtpc_e_md5_update(m, len, 8);
    for (i = 0; i < 16; i++)
        out[i] = (unsigned char)(m->h[i >> 2] >> (8 * (i & 3)));
    smtpc_wipe(m, sizeof *m);
}

/* Feeds the 64-byte block key XOR pad (the key zero-padded) to m. */
static void md5_key_block(smtpc_md5 *m, const unsigned char *key,
                          size_t key_len, unsigned char pad)
{
    size_t i;

    for (i = 0; i < 64; i++) {
        unsigned char b = (unsigned char)((i < key_len ? key[i] : 0) ^ pad);
        smtpc_e_md5_update(m, &b, 1);
    }
}

void smtpc_e_hmac_md5(const void *key, size_t key_len, const void *msg,
                      size_t msg_len, unsigned char out[16])
{
    smtpc_md5 m;
    unsigned char hashed_key[16];

    if (key_len > 64) { /* RFC 2104: a long key is hashed first */
        smtpc_e_md5_init(&m);
        smtpc_e_md5_update(&m, key, key_len);
        smtpc_e_md5_final(&m, hashed_key);
        key = hashed_key;
        key_len = 16;
    }
    smtpc_e_md5_init(&m);
    md5_key_block(&m, key, key_len, 0x36);
    smtpc_e_md5_update(&m, msg, msg_len);
    smtpc_e_md5_final(&m, out);
    smtpc_e_md5_init(&m);
    md5_key_block(&m, key, key_len, 0x5c);
    smtpc_e_md5_update(&m, out, 16);
    smtpc_e_md5_final(&m, out);
    smtpc_wipe(hashed_key, sizeof hashed_key);
}

#endif /* SMTPC_WITH_AUTH_CRAM_MD5 */
