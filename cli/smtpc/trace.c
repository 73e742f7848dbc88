/*
 * cli/smtpc/trace.c - the -v dialogue on stderr.
 *
 * The client hands pieces that need not be whole lines; each line gets
 * its direction's prefix ("> " sent, "< " received, "* " information).
 * Secrets arrive already replaced by the client.  Bytes outside printable
 * ASCII are shown as \xNN, so a server cannot send escape sequences to the
 * user's terminal.
 */
#include <string.h>

#include "cli.h"

static const char *const prefix[] = {"> ", "< ", "* "};

void cli_trace_init(cli_trace *t, FILE *out)
{
    t->out = out;
    t->last_dir = -1;
}

void cli_trace_finish(cli_trace *t)
{
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
        if (o + 8 > sizeof out) {
            fwrite(out, 1, o, t->out);
            o = 0;
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
