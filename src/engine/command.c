/*
 * The one writer of commands.  Every byte of every command goes through
 * here, and every argument is refused if it holds CR, LF or NUL, so no
 * caller-supplied string can start a second command.  A command with any
 * error is rolled back whole: nothing of it is ever sent.
 */
#include "internal.h"

#include <string.h>

/* Moves pending bytes to the front so that the free space is contiguous. */
static void tx_compact(smtpc_session *s)
{
    uint32_t shift = s->tx_head;

    if (shift == 0)
        return;
    if (s->tx_tail > s->tx_head)
        memmove(s->tx, s->tx + shift, s->tx_tail - s->tx_head);
    s->tx_head = 0;
    s->tx_tail -= shift;
    if (CHUNK_OPEN(s))
        s->tx_chunk -= shift;
    if (s->tx_secret_hi > s->tx_secret_lo) {
        s->tx_secret_lo -= shift;
        s->tx_secret_hi -= shift;
    }
}

size_t smtpc_e_tx_free(smtpc_session *s)
{
    tx_compact(s);
    return s->tx_cap - s->tx_tail;
}

void smtpc_e_cmd_begin(smtpc_cmd *c, smtpc_session *s)
{
    tx_compact(s);
    c->s = s;
    c->start = s->tx_tail;
    c->err = SMTPC_OK;
    c->b64_n = 0;
}

static void put(smtpc_cmd *c, const char *p, size_t len)
{
    smtpc_session *s = c->s;

    if (c->err != SMTPC_OK)
        return;
    if (len > s->tx_cap - s->tx_tail) {
        c->err = SMTPC_ERR_BUFFER;
        return;
    }
    memcpy(s->tx + s->tx_tail, p, len);
    s->tx_tail += (uint32_t)len;
}

void smtpc_e_cmd_add_n(smtpc_cmd *c, const char *text, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (text[i] == '\r' || text[i] == '\n' || text[i] == '\0') {
            c->err = SMTPC_ERR_ARG;
            return;
        }
    }
    put(c, text, len);
}

void smtpc_e_cmd_add(smtpc_cmd *c, const char *text)
{
    if (text == NULL) {
        c->err = SMTPC_ERR_ARG;
        return;
    }
    smtpc_e_cmd_add_n(c, text, strlen(text));
}

size_t smtpc_e_u64_format(char out[20], uint64_t v)
{
    char digits[20];
    size_t n = sizeof digits;
    uint32_t lo;

    /* 64-bit division costs a libgcc routine on 32-bit targets: divide by
     * 10^9 only while the value needs it, then in 32 bits. */
    while (v > 0xffffffffu) {
        uint64_t q = v / 1000000000u;
        uint32_t r = (uint32_t)(v - q * 1000000000u);
        int k;
        for (k = 0; k < 9; k++) {
            digits[--n] = (char)('0' + r % 10);
            r /= 10;
        }
        v = q;
    }
    lo = (uint32_t)v;
    do {
        digits[--n] = (char)('0' + lo % 10);
        lo /= 10;
    } while (lo != 0);
    memcpy(out, digits + n, sizeof digits - n);
    return sizeof digits - n;
}

void smtpc_e_cmd_add_u64(smtpc_cmd *c, uint64_t v)
{
    char digits[20];

    put(c, digits, smtpc_e_u64_format(digits, v));
}

/* RFC 3461 4: xtext keeps "!".."~" except '+' and '='; the rest is +HH. */
void smtpc_e_cmd_add_xtext(smtpc_cmd *c, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)text;

    if (text == NULL || smtpc_check_text(text, 500) != SMTPC_OK) {
        c->err = SMTPC_ERR_ARG;
        return;
    }
    for (; *p != '\0'; p++) {
        if (*p > 32 && *p < 127 && *p != '+' && *p != '=') {
            put(c, (const char *)p, 1);
        } else {
            char esc[3];
            esc[0] = '+';
            esc[1] = hex[*p >> 4];
            esc[2] = hex[*p & 15];
            put(c, esc, 3);
        }
    }
}

void smtpc_e_cmd_secret_begin(smtpc_cmd *c)
{
    c->s->tx_secret_lo = c->s->tx_tail;
    c->s->tx_secret_hi = c->s->tx_tail;
}

void smtpc_e_cmd_secret_end(smtpc_cmd *c)
{
    c->s->tx_secret_hi = c->s->tx_tail;
}

/* Encodes one group of up to 3 bytes (a short one only at the end). */
static void b64_group(smtpc_cmd *c, const unsigned char *in, size_t n)
{
    char out[4];

    put(c, out, smtpc_base64_encode(out, in, n));
}

/* Base64 output is only [A-Za-z0-9+/=], so it needs no CR/LF check.  The
 * input may be split across calls: up to two bytes wait in c->b64. */
void smtpc_e_cmd_b64(smtpc_cmd *c, const void *data, size_t len)
{
    const unsigned char *p = data;

    while (len > 0) {
        if (c->b64_n == 0 && len >= 3) {
            b64_group(c, p, 3);
            p += 3;
            len -= 3;
            continue;
        }
        c->b64[c->b64_n++] = *p++;
        len--;
        if (c->b64_n == 3) {
            b64_group(c, c->b64, 3);
            c->b64_n = 0;
        }
    }
}

void smtpc_e_cmd_b64_end(smtpc_cmd *c)
{
    if (c->b64_n > 0)
        b64_group(c, c->b64, c->b64_n);
    c->b64_n = 0;
    smtpc_wipe(c->b64, sizeof c->b64);
}

void smtpc_e_cmd_simple(smtpc_session *s, const char *text, uint8_t kind,
                        int phase)
{
    smtpc_cmd c;

    smtpc_e_cmd_begin(&c, s);
    smtpc_e_cmd_add(&c, text);
    if (smtpc_e_cmd_end(&c, kind) != SMTPC_OK)
        smtpc_e_fail_session(s, SMTPC_ERR_BUFFER, phase, 0);
}

int smtpc_e_cmd_end(smtpc_cmd *c, uint8_t reply_kind)
{
    smtpc_session *s = c->s;

    put(c, "\r\n", 2);
    if (c->err == SMTPC_OK && smtpc_e_queue_free(s) == 0)
        c->err = SMTPC_ERR_STATE;
    if (c->err != SMTPC_OK) {
        smtpc_wipe(s->tx + c->start, s->tx_tail - c->start);
        s->tx_tail = c->start;
        if (s->tx_secret_lo >= c->start)
            s->tx_secret_lo = s->tx_secret_hi = 0;
        return c->err;
    }
    smtpc_e_queue_push(s, reply_kind);
    s->progress++;
    return SMTPC_OK;
}

