/*
 * Content encoders: quoted-printable (RFC 2045 6.7) and the sizes of
 * quoted-printable and base64 output.  Base64 itself is the library's one
 * encoder, smtpc_base64_encode, called a line at a time by the writer.
 *
 * Quoted-printable, as written here:
 *   - a byte is literal when it is printable ASCII other than "=", else
 *     "=XX";
 *   - a space or tab is held back until the next byte shows whether it
 *     ends a line (then "=20"/"=09": trailing white space would be lost);
 *   - a "." or "F" that would start a line is "=2E"/"=46" (a lone "." line
 *     must not reach a server that mishandles it, "From " must not reach
 *     an mbox);
 *   - lines have at most 75 characters before the soft break's "=";
 *   - text: CRLF and a bare LF are line ends of the output, a bare CR is
 *     "=0D"; binary: every CR and LF is "=0D"/"=0A", so decoding gives
 *     the bytes back exactly.
 * The output never holds "=_" (a boundary's first two characters).
 */
#include "internal.h"

#if SMTPC_WITH_MIME

const char smtpc_mime_hex[] = "0123456789ABCDEF";

static char *soft_break(smtpc_mime_qp *st, char *o)
{
    o[0] = '=';
    o[1] = '\r';
    o[2] = '\n';
    st->col = 0;
    return o + 3;
}

/* One byte, literal or encoded, with a soft break in front when the line
 * is full. */
static char *put_byte(smtpc_mime_qp *st, char *o, unsigned char c, int enc)
{
    size_t w;

    if (!enc && st->col == 0 && (c == '.' || c == 'F'))
        enc = 1;
    w = enc ? 3 : 1;
    if (st->col + w > MIME_QP_MAX) {
        o = soft_break(st, o);
        if (c == '.' || c == 'F')
            enc = 1, w = 3;
    }
    if (enc) {
        o[0] = '=';
        o[1] = smtpc_mime_hex[c >> 4];
        o[2] = smtpc_mime_hex[c & 15];
    } else {
        o[0] = (char)c;
    }
    st->col = (uint8_t)(st->col + w);
    return o + w;
}

/* The held space or tab: literal when something follows on its line,
 * encoded when the line ends after it. */
static char *flush_held(smtpc_mime_qp *st, char *o, int at_end)
{
    unsigned char c = st->held;

    if (c == 0)
        return o;
    st->held = 0;
    return put_byte(st, o, c, at_end);
}

static char *hard_break(smtpc_mime_qp *st, char *o)
{
    o = flush_held(st, o, 1);
    o[0] = '\r';
    o[1] = '\n';
    st->col = 0;
    return o + 2;
}

size_t smtpc_qp_encode(smtpc_mime_qp *state, int text,
                       const unsigned char *in, size_t n, char *out,
                       size_t room, size_t *used)
{
    /* A local copy: stores through out (char) could otherwise alias the
     * state and force it back to memory after every byte. */
    smtpc_mime_qp local = *state, *st = &local;
    char *o = out, *end = out + room;
    size_t i;

    for (i = 0; i < n && end - o >= MIME_QP_UNIT; i++) {
        unsigned char c = in[i];

        if (st->cr) {
            st->cr = 0;
            if (c == '\n') {
                o = hard_break(st, o);
                continue;
            }
            o = flush_held(st, o, 0);
            o = put_byte(st, o, '\r', 1);
        }
        if (c >= 33 && c <= 126 && c != '=') {
            /* The common case first. */
            if (st->held)
                o = flush_held(st, o, 0);
            if (st->col < MIME_QP_MAX && (st->col != 0 || (c != '.' && c != 'F'))) {
                *o++ = (char)c;
                st->col++;
            } else {
                o = put_byte(st, o, c, 0);
            }
        } else if (c == ' ' || c == '\t') {
            o = flush_held(st, o, 0);
            st->held = c;
        } else if (text && c == '\r') {
            st->cr = 1;
        } else if (text && c == '\n') {
            o = hard_break(st, o);
        } else {
            o = flush_held(st, o, 0);
            o = put_byte(st, o, c, 1);
        }
    }
    *used = i;
    *state = local;
    return (size_t)(o - out);
}

size_t smtpc_qp_finish(smtpc_mime_qp *st, char *out)
{
    char *o = out;

    if (st->cr) {
        st->cr = 0;
        o = flush_held(st, o, 0);
        o = put_byte(st, o, '\r', 1);
    }
    o = flush_held(st, o, 1);
    return (size_t)(o - out);
}

uint64_t smtpc_qp_size(int text, const unsigned char *in, size_t n,
                       unsigned char *last)
{
    smtpc_mime_qp st = {0, 0, 0};
    char tmp[1024];
    uint64_t total = 0;
    size_t used, got;

    *last = '\n';
    while (n > 0) {
        got = smtpc_qp_encode(&st, text, in, n, tmp, sizeof tmp, &used);
        if (got)
            *last = (unsigned char)tmp[got - 1];
        total += got;
        in += used;
        n -= used;
    }
    got = smtpc_qp_finish(&st, tmp);
    if (got)
        *last = (unsigned char)tmp[got - 1];
    return total + got;
}

/* n / d for d below 2^16 in 32-bit steps, *rem the remainder: a 64-bit
 * division would link libgcc's __udivmoddi4 (about 0.9 KB on a
 * Cortex-M4), which the minimal engine does not need. */
static uint64_t div_small(uint64_t n, uint32_t d, uint32_t *rem)
{
    uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n, q1, q0, r, t;

    r = hi % d;
    t = r << 16 | lo >> 16; /* r < d < 2^16: no overflow */
    q1 = t / d;
    t = (t % d) << 16 | (lo & 0xffffu);
    q0 = t / d;
    *rem = t % d;
    return (uint64_t)(hi / d) << 32 | q1 << 16 | q0;
}

/* 76-character lines of 57 bytes, CRLF between lines, none after the
 * last (the delimiter or the message's final CRLF follows): n = 57L + r
 * gives L lines of 78 (76 and a CRLF), the last line's (r + 2) / 3 * 4
 * characters and its CRLF when r > 0, less the CRLF after the last. */
uint64_t smtpc_b64_size(uint64_t n)
{
    uint32_t r;
    uint64_t lines = div_small(n, MIME_B64_IN, &r);

    if (n == 0)
        return 0;
    return lines * 78 + (r + 2) / 3 * 4 + (r ? 2 : 0) - 2;
}

#endif /* SMTPC_WITH_MIME */
