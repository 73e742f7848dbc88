/*
 * The message body, streamed in pieces of any size through the send area.
 *
 * DATA (RFC 5321 4.5.2): bare CR and bare LF become CRLF, a line that
 * starts with "." gets a second one, and the end is one CRLF.CRLF whether
 * or not the body ended with a line end.  CR LF split across two calls is
 * still one line end (B_AFTER_CR).
 *
 * BDAT (RFC 3030): the same line ends, no dot-stuffing; each chunk is
 * announced with its exact length.  A chunk is filled in place behind a
 * reserved header and sealed when the driver takes the bytes to send.
 * BINARYMIME bytes go out untouched.
 *
 * The scan for line ends uses memchr, which the C library vectorises, and
 * copies whole runs with memcpy: no per-byte calls.
 */
#include "internal.h"

#include <string.h>

/* A new chunk may open while this much is still unsent before it: the
 * envelope commands, not a previous chunk (sealing moves those bytes). */
#define CHUNK_OPEN_PENDING_MAX (SMTPC_CMD_ROOM * 4u)

int smtpc_e_body_wanted(const smtpc_session *s)
{
    if (s->state != ST_MAIL || s->mail_status != SMTPC_OK ||
        !(s->mode & M_BODY) || (s->flags & F_BODY_DONE))
        return 0;
    if (!CHUNKED(s))
        return 1;
    if (CHUNK_OPEN(s))
        return 1;
    /* A new chunk needs a reply slot; without PIPELINING it also waits
     * for the previous chunk's reply. */
    if (PIPELINED(s))
        return smtpc_e_queue_free(s) > 0;
    return s->q_len == 0;
}

void smtpc_e_chunk_seal(smtpc_session *s, int last)
{
    char hdr[SMTPC_BDAT_HDR];
    uint32_t data = s->tx_chunk + SMTPC_BDAT_HDR;
    size_t len;
    uint32_t start, gap;

    memcpy(hdr, "BDAT ", 5);
    len = 5 + smtpc_e_u64_format(hdr + 5, s->tx_tail - data);
    if (last) {
        memcpy(hdr + len, " LAST", 5);
        len += 5;
    }
    hdr[len++] = '\r';
    hdr[len++] = '\n';
    /* The header ends where the data starts; unsent bytes before the
     * chunk move up to close the gap in front of it. */
    start = data - (uint32_t)len;
    gap = start - s->tx_chunk;
    memcpy(s->tx + start, hdr, len);
    if (s->tx_head < s->tx_chunk && gap > 0)
        memmove(s->tx + s->tx_head + gap, s->tx + s->tx_head,
                s->tx_chunk - s->tx_head);
    s->tx_head += gap;
    s->flags &= (uint8_t)~F_CHUNK_OPEN;
    smtpc_e_queue_push(s, last ? R_BDAT_LAST : R_BDAT);
    s->progress++;
}

static int chunk_open(smtpc_session *s)
{
    if (CHUNK_OPEN(s))
        return 1;
    if (s->tx_tail - s->tx_head > CHUNK_OPEN_PENDING_MAX ||
        smtpc_e_tx_free(s) < SMTPC_BDAT_HDR + 2)
        return 0;
    s->tx_chunk = s->tx_tail;
    s->tx_tail += SMTPC_BDAT_HDR;
    s->flags |= F_CHUNK_OPEN;
    return 1;
}

/* Index of the first CR or LF in p[0..len), or len. */
static size_t find_line_end(const unsigned char *p, size_t len)
{
    const unsigned char *lf = memchr(p, '\n', len);
    size_t n = lf ? (size_t)(lf - p) : len;
    const unsigned char *cr = memchr(p, '\r', n);

    return cr ? (size_t)(cr - p) : n;
}

/* Encodes into the send area until the input or the room runs out. */
static size_t encode(smtpc_session *s, const unsigned char *p, size_t len,
                     int stuff_dots)
{
    unsigned char *out = s->tx + s->tx_tail;
    size_t room = s->tx_cap - s->tx_tail;
    size_t i = 0;
    unsigned st = s->body_state;

    while (i < len && room > 0) {
        unsigned char c = p[i];
        size_t n, lim;

        /* State changes only with a byte taken: bytes not taken must
         * leave no trace, whatever the caller offers next. */
        if ((st & B_AFTER_CR) && c == '\n') {
            i++; /* the LF of a CRLF already written */
            st &= ~(unsigned)B_AFTER_CR;
            continue;
        }
        if (c == '\r' || c == '\n') {
            if (room < 2)
                break;
            out[0] = '\r';
            out[1] = '\n';
            out += 2;
            room -= 2;
            i++;
            st = B_LINE_START | (c == '\r' ? B_AFTER_CR : 0);
            continue;
        }
        if ((st & B_LINE_START) && c == '.' && stuff_dots) {
            /* Both dots or neither: bytes not taken must leave no trace. */
            if (room < 2)
                break;
            out[0] = '.';
            out[1] = '.';
            out += 2;
            room -= 2;
            i++;
            st = 0;
            continue;
        }
        lim = len - i < room ? len - i : room;
        n = find_line_end(p + i, lim);
        memcpy(out, p + i, n);
        out += n;
        room -= n;
        i += n;
        st = 0; /* n >= 1: c is neither CR nor LF */
    }
    s->body_state = (uint8_t)st;
    s->tx_tail = (uint32_t)(out - s->tx);
    return i;
}

size_t smtpc_body_write(smtpc_session *s, const void *data, size_t len)
{
    size_t done;

    if (data == NULL || len == 0 || !smtpc_e_body_wanted(s))
        return 0;
    if (CHUNKED(s)) {
        if (!chunk_open(s))
            return 0;
        if (s->mode & M_BINARY) {
            size_t room = s->tx_cap - s->tx_tail;
            done = len < room ? len : room;
            memcpy(s->tx + s->tx_tail, data, done);
            s->tx_tail += (uint32_t)done;
        } else {
            done = encode(s, data, len, 0);
        }
    } else {
        /* Move unsent bytes to the front only when the room behind them
         * runs short: each move copies them all. */
        if (s->tx_cap - s->tx_tail < s->tx_cap / 2)
            smtpc_e_tx_free(s);
        done = encode(s, data, len, 1);
    }
    s->body_bytes += done;
    return done;
}

int smtpc_body_end(smtpc_session *s)
{
    int need_crlf;

    if (s->state != ST_MAIL || !(s->mode & M_BODY) ||
        (s->flags & F_BODY_DONE))
        return s->state == ST_CLOSED ? s->status : SMTPC_ERR_STATE;
    if (s->mail_status != SMTPC_OK)
        return s->mail_status;
    if (!smtpc_e_body_wanted(s))
        return SMTPC_ERR_BUFFER; /* a reply is awaited first */
    need_crlf = !(s->body_state & B_LINE_START) && !(s->mode & M_BINARY);
    if (CHUNKED(s)) {
        if (!chunk_open(s) || s->tx_cap - s->tx_tail < 2)
            return SMTPC_ERR_BUFFER;
        if (need_crlf) {
            memcpy(s->tx + s->tx_tail, "\r\n", 2);
            s->tx_tail += 2;
        }
        smtpc_e_chunk_seal(s, 1);
    } else {
        if (smtpc_e_tx_free(s) < 5 || smtpc_e_queue_free(s) == 0)
            return SMTPC_ERR_BUFFER;
        if (need_crlf) {
            memcpy(s->tx + s->tx_tail, "\r\n", 2);
            s->tx_tail += 2;
        }
        memcpy(s->tx + s->tx_tail, ".\r\n", 3);
        s->tx_tail += 3;
        smtpc_e_queue_push(s, R_DOT);
        s->progress++;
    }
    s->flags |= F_BODY_DONE;
    s->body_state = B_LINE_START;
    return SMTPC_OK;
}

