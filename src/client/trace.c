/*
 * trace.c - the dialogue as the user's trace callback sees it.
 *
 * The one rule: a secret never reaches the callback.  Sent bytes in the
 * engine's secret range are replaced by "<redacted>" before the callback
 * sees anything.
 */
#include <string.h>

#include "internal.h"

#if SMTPC_WITH_TRACE

static const char smtpc_redacted[] = "<redacted>";

void smtpc_trace_line_start(smtpc_trace_line *l, const char *s)
{
    l->len = 0;
    l->text[0] = '\0';
    smtpc_trace_line_add(l, s);
}

void smtpc_trace_line_add(smtpc_trace_line *l, const char *s)
{
    if (s == NULL)
        s = "(null)";
    while (*s != '\0' && l->len < sizeof l->text - 1)
        l->text[l->len++] = *s++;
    l->text[l->len] = '\0';
}

void smtpc_trace_line_add_u32(smtpc_trace_line *l, uint32_t v)
{
    char digits[11];
    char *p = digits + sizeof digits;

    *--p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    smtpc_trace_line_add(l, p);
}

void smtpc_client_trace_line(const smtpc_client *c, const smtpc_trace_line *l)
{
    if (c->cfg != NULL && c->cfg->trace != NULL)
        c->cfg->trace(c->cfg->trace_ctx, SMTPC_TRACE_INFO, l->text, l->len);
}

void smtpc_client_trace_status(const smtpc_client *c, const char *what,
                               int status, int phase)
{
    smtpc_trace_line l;

    if (c->cfg == NULL || c->cfg->trace == NULL)
        return;
    smtpc_trace_line_start(&l, what);
    smtpc_trace_line_add(&l, ": ");
    smtpc_trace_line_add(&l, smtpc_status_str(status));
    if (phase != SMTPC_PHASE_NONE) {
        smtpc_trace_line_add(&l, " in ");
        smtpc_trace_line_add(&l, smtpc_phase_str(phase));
    }
    smtpc_client_trace_line(c, &l);
}

static void smtpc_trace_emit(const smtpc_client *c, int dir, const void *p,
                             size_t n)
{
    if (n != 0)
        c->cfg->trace(c->cfg->trace_ctx, dir, (const char *)p, n);
}

void smtpc_client_trace_sent(const smtpc_client *c, const unsigned char *p,
                             size_t n, size_t ss, size_t se, int *in_secret)
{
    int trace = c->cfg != NULL && c->cfg->trace != NULL;

    if (ss >= se || ss >= n) {
        if (trace)
            smtpc_trace_emit(c, SMTPC_TRACE_SENT, p, n);
        *in_secret = 0;
        return;
    }
    if (trace) {
        smtpc_trace_emit(c, SMTPC_TRACE_SENT, p, ss);
        /* A secret continued from the last piece was already shown as
         * one "<redacted>". */
        if (!(ss == 0 && *in_secret))
            smtpc_trace_emit(c, SMTPC_TRACE_SENT, smtpc_redacted,
                             sizeof smtpc_redacted - 1);
        if (se < n)
            smtpc_trace_emit(c, SMTPC_TRACE_SENT, p + se, n - se);
    }
    *in_secret = se > n;
}

void smtpc_client_trace_received(const smtpc_client *c, const void *p,
                                 size_t n)
{
    if (c->cfg != NULL && c->cfg->trace != NULL)
        smtpc_trace_emit(c, SMTPC_TRACE_RECEIVED, p, n);
}

#endif /* SMTPC_WITH_TRACE */
