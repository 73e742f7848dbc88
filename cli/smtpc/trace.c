/*
 * cli/smtpc/trace.c - the -v dialogue on stderr.
 *
 * The client hands pieces that need not be whole lines; each line gets
 * its direction's prefix ("> " sent, "< " received, "* " information).
 * Secrets arrive already replaced by the client.  Valid UTF-8 (SMTPUTF8
 * addresses, a message's text) is shown as it is, even split between
 * pieces; control bytes (C0, DEL, and the C1 controls U+0080..U+009F) and
 * invalid UTF-8 are shown as \xNN, so a server cannot send escape
 * sequences to the user's terminal.
 */
#include <string.h>

#include "cli.h"

static const char *const prefix[] = {"> ", "< ", "* "};

void cli_trace_init(cli_trace *t, FILE *out)
{
    t->out = out;
    t->last_dir = -1;
    t->utf8_len = 0;
}

/* Bytes a UTF-8 sequence that starts with c has: 2..4, or 0 when c cannot
 * start one. */
static size_t utf8_need(unsigned char c)
{
    return c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
           : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
}

/* Whether the complete sequence s[0..n) is valid UTF-8 and no control. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    unsigned cp = s[0] & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};

    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    return cp >= min[n] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) &&
           !(cp >= 0x80 && cp <= 0x9f);
}

/* Writes the pending bytes escaped (a sequence that was not completed). */
static void flush_utf8(cli_trace *t)
{
    for (size_t i = 0; i < t->utf8_len; i++)
        fprintf(t->out, "\\x%02x", t->utf8[i]);
    t->utf8_len = 0;
}

void cli_trace_finish(cli_trace *t)
{
    flush_utf8(t);
    if (t->last_dir >= 0) {
        fputc('\n', t->out);
        t->last_dir = -1;
    }
    fflush(t->out);
}

void cli_trace_fn(void *ctx, int direction, const char *data, size_t len)
{
    cli_trace *t = ctx;
    char out[1024];
    size_t o = 0;

    if (direction < SMTPC_TRACE_SENT || direction > SMTPC_TRACE_INFO)
        direction = SMTPC_TRACE_INFO;
    /* A piece in another direction ends the unfinished line. */
    if (t->last_dir >= 0 && t->last_dir != direction)
        cli_trace_finish(t);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)data[i];
        if (o + 24 > sizeof out) {
            fwrite(out, 1, o, t->out);
            o = 0;
        }
        if (t->utf8_len && (c & 0xc0) != 0x80) {
            /* A sequence broke off: its bytes escaped, then c. */
            for (size_t k = 0; k < t->utf8_len; k++)
                o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x",
                                      t->utf8[k]);
            t->utf8_len = 0;
        }
        if (t->last_dir < 0) {
            memcpy(out + o, prefix[direction], 2);
            o += 2;
            t->last_dir = direction;
        }
        if (c == '\n') {
            out[o++] = '\n';
            t->last_dir = -1;
        } else if (c == '\r') {
            /* CRLF shows as a line end; a bare CR is shown escaped. */
            if (i + 1 < len && data[i + 1] == '\n')
                continue;
            if (i + 1 == len)
                continue; /* the LF may come in the next piece */
            o += (size_t)snprintf(out + o, sizeof out - o, "\\r");
        } else if (c >= 0x80 && (t->utf8_len || utf8_need(c))) {
            t->utf8[t->utf8_len++] = c;
            if (t->utf8_len == utf8_need(t->utf8[0])) {
                if (utf8_ok(t->utf8, t->utf8_len)) {
                    memcpy(out + o, t->utf8, t->utf8_len);
                    o += t->utf8_len;
                } else {
                    for (size_t k = 0; k < t->utf8_len; k++)
                        o += (size_t)snprintf(out + o, sizeof out - o,
                                              "\\x%02x", t->utf8[k]);
                }
                t->utf8_len = 0;
            }
        } else if (c < 0x20 || c >= 0x7f) {
            o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    if (o)
        fwrite(out, 1, o, t->out);
    /* Information lines are complete messages even without a newline. */
    if (direction == SMTPC_TRACE_INFO && t->last_dir >= 0)
        cli_trace_finish(t);
}
