/*
 * cli/smtpc/report.c - "smtpc: <what failed>: <server reply or reason>" lines.
 *
 * With --batch every line names its message file ("smtpc: FILE: ...") and
 * a sent message gets one too ("smtpc: FILE: sent (250 ...)").
 * Every string that came from the server, the command line or a message
 * is printed through cli_put_escaped, so it cannot drive the terminal.
 */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"

/* A reply's text: its further lines (the engine joins them with "\n")
 * each on a line of its own, indented under the first. */
static void put_text(FILE *f, const char *text)
{
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n')
            fputs("\n    ", f);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

/* "550 5.1.1 text", the parts that exist. */
static void put_reply(FILE *f, unsigned code, const uint16_t enh[3],
                      const char *text)
{
    fprintf(f, "%u", code);
    if (enh[0])
        fprintf(f, " %u.%u.%u", enh[0], enh[1], enh[2]);
    if (text && *text) {
        fputc(' ', f);
        put_text(f, text);
    }
}

void cli_report_prefix(const char *file, FILE *f)
{
    fprintf(f, "%s: ", CLI_NAME);
    if (file) {
        cli_put_escaped(f, file);
        fputs(": ", f);
    }
}

/* "smtpc: [FILE: ][queue ID: ]" */
static void put_prefix(const cli_outcome *oc, FILE *f)
{
    cli_report_prefix(oc->file, f);
    if (oc->queue_id) {
        fputs("queue ", f);
        cli_put_escaped(f, oc->queue_id);
        fputs(": ", f);
    }
}

static void warn_refused(FILE *f, const cli_outcome *oc, const smtpc_rcpt *r)
{
    put_prefix(oc, f);
    fputs("recipient <", f);
    cli_put_escaped(f, r->address);
    fputs("> refused: ", f);
    put_reply(f, r->code, r->enh, r->text);
    fputc('\n', f);
}

/* What failed, from the phase it failed in; temp: for now (4xx). */
static void put_what(FILE *f, const cli_outcome *oc, int phase, int temp)
{
    const char *refused = temp ? " temporarily refused" : " refused";

    switch (phase) {
    case SMTPC_PHASE_GREETING:
        fputs("server refused the session", f);
        break;
    case SMTPC_PHASE_EHLO:
        fputs("EHLO refused", f);
        break;
    case SMTPC_PHASE_STARTTLS:
        fputs("STARTTLS refused", f);
        break;
    case SMTPC_PHASE_AUTH:
        fputs("authentication failed", f);
        break;
    case SMTPC_PHASE_MAIL:
        fputs("sender <", f);
        if (oc->env && oc->env->from)
            cli_put_escaped(f, oc->env->from);
        else if (oc->opts->from)
            cli_put_escaped(f, oc->opts->from);
        fputc('>', f);
        fputs(refused, f);
        break;
    case SMTPC_PHASE_RCPT:
        fputs("no recipient accepted", f);
        break;
    case SMTPC_PHASE_DATA:
        fputs("DATA", f);
        fputs(refused, f);
        break;
    case SMTPC_PHASE_MESSAGE:
        fputs("message", f);
        fputs(refused, f);
        break;
    default:
        fprintf(f, "%s failed", smtpc_phase_str(phase));
        break;
    }
}

static int non_ascii(const char *s)
{
    for (; s && *s; s++) {
        if ((unsigned char)*s >= 0x80)
            return 1;
    }
    return 0;
}

/* SMTPUTF8 asked for, or needed by a non-ASCII address. */
static int needs_smtputf8(const cli_outcome *oc)
{
    const cli_opts *o = oc->opts;

    if (o->mail_flags & SMTPC_MAIL_SMTPUTF8)
        return 1;
    if (oc->env) {
        if (non_ascii(oc->env->from))
            return 1;
        for (size_t i = 0; i < oc->env->rcpt_count; i++) {
            if (non_ascii(oc->env->rcpts[i].address))
                return 1;
        }
        return 0;
    }
    if (non_ascii(o->from))
        return 1;
    for (size_t i = 0; i < o->rcpt_count; i++) {
        if (non_ascii(o->rcpts[i]))
            return 1;
    }
    return 0;
}

static void put_host(FILE *f, const cli_opts *o)
{
    fputc('"', f);
    cli_put_escaped(f, o->host);
    fprintf(f, "\" port %u", (unsigned)o->port);
}

int cli_reply_caused(int st)
{
    switch (st) {
    case SMTPC_ERR_REJECTED:
    case SMTPC_ERR_TEMPFAIL:
    case SMTPC_ERR_AUTH:
    case SMTPC_ERR_SIZE:
    case SMTPC_ERR_TLS_UNAVAILABLE:
    case SMTPC_ERR_PROTOCOL:
        return 1;
    default:
        return 0;
    }
}

static void report_human(const cli_outcome *oc, FILE *f);

/* The report is composed in memory and written with one write(2), so the
 * lines of runs that share a standard error (cron, parallel jobs) do not
 * interleave. */
void cli_report_human(const cli_outcome *oc, FILE *f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);

    if (!m) {
        report_human(oc, f);
        return;
    }
    report_human(oc, m);
    if (fclose(m) == 0 && len > 0)
        cli_write_whole(f, buf, len);
    free(buf);
}

static void report_human(const cli_outcome *oc, FILE *f)
{
    const smtpc_reply *rp = oc->res ? &oc->res->reply : NULL;
    int phase = oc->res ? oc->res->phase : SMTPC_PHASE_NONE;
    int st = oc->status;

    /* One warning per refused recipient, whether or not the mail went. */
    if (oc->env && !oc->no_warnings) {
        for (size_t i = 0; i < oc->env->rcpt_count; i++) {
            const smtpc_rcpt *r = &oc->env->rcpts[i];
            if (r->status != SMTPC_OK && r->code != 0)
                warn_refused(f, oc, r);
        }
    }
    if (st == SMTPC_OK) {
        if (oc->file || oc->queue_id) {
            /* --batch and --flush-queue name every message's outcome. */
            put_prefix(oc, f);
            fputs("sent", f);
            if (rp && rp->code) {
                fputs(" (", f);
                put_reply(f, rp->code, rp->enh, rp->text);
                fputc(')', f);
            }
            fputc('\n', f);
        }
        return;
    }

    put_prefix(oc, f);
    if (!oc->res && oc->error) {
        /* Failed before any SMTP: the message file, its headers. */
        cli_put_escaped(f, oc->error);
        if (oc->detail && *oc->detail) {
            fputs(": ", f);
            cli_put_escaped(f, oc->detail);
        }
        fputc('\n', f);
        return;
    }
    switch (st) {
    case SMTPC_ERR_RESOLVE:
    case SMTPC_ERR_RESOLVE_AGAIN:
        fputs("cannot resolve host \"", f);
        cli_put_escaped(f, oc->opts->host);
        fputc('"', f);
        break;
    case SMTPC_ERR_CONNECT:
        fputs("cannot connect to ", f);
        put_host(f, oc->opts);
        break;
    case SMTPC_ERR_TIMEOUT:
        fprintf(f, "timeout during %s with ", smtpc_phase_str(phase));
        put_host(f, oc->opts);
        break;
    case SMTPC_ERR_CLOSED:
        fprintf(f, "connection closed by the server during %s",
                smtpc_phase_str(phase));
        break;
    case SMTPC_ERR_IO:
        fprintf(f, "connection to the server failed during %s",
                smtpc_phase_str(phase));
        break;
    case SMTPC_ERR_TLS_CERT:
        fputs("TLS certificate verification failed for ", f);
        put_host(f, oc->opts);
        break;
    case SMTPC_ERR_TLS:
        fputs("TLS failed with ", f);
        put_host(f, oc->opts);
        break;
    case SMTPC_ERR_TLS_UNAVAILABLE:
        fputs("TLS is required but the server does not offer it", f);
        break;
    case SMTPC_ERR_TLS_INJECTION:
        fputs("server sent data before the TLS handshake (possible "
              "injection attack)", f);
        break;
    case SMTPC_ERR_AUTH_INSECURE:
        fputs("refusing to send credentials over an unencrypted connection "
              "(use --tls starttls or --tls implicit)", f);
        break;
    case SMTPC_ERR_AUTH_UNAVAILABLE:
        fputs("no usable authentication mechanism", f);
        break;
    case SMTPC_ERR_SIZE:
        fputs("message is larger than the server accepts", f);
        break;
    case SMTPC_ERR_EXTENSION: {
        /* The one the server lacks: the engine checks in this order. */
        unsigned caps = oc->caps ? oc->caps->flags : 0;
        const cli_opts *o = oc->opts;
        int dsn = o->notify || o->envid ||
                  (o->mail_flags & (SMTPC_MAIL_RET_FULL | SMTPC_MAIL_RET_HDRS));
        if (needs_smtputf8(oc) && !(caps & SMTPC_CAP_SMTPUTF8))
            fputs("the server does not offer SMTPUTF8, which the addresses "
                  "or --smtputf8 need", f);
        else if (dsn && !(caps & SMTPC_CAP_DSN))
            fputs("the server does not offer DSN (RFC 3461), which "
                  "--dsn-notify, --dsn-ret and --envid (-N, -R) need", f);
        else
            fputs("the message needs an extension the server does not offer",
                  f);
        break;
    }
    case SMTPC_ERR_ARG:
        fputs("the library refused an argument; nothing was sent", f);
        break;
    case SMTPC_ERR_BODY_SOURCE:
        if (oc->exit_code == EX_DATAERR)
            fputs("message contains a NUL byte; nothing was delivered", f);
        else if (oc->file)
            fputs("cannot read the message file", f);
        else
            fputs("cannot read the message from standard input", f);
        break;
    case SMTPC_ERR_PROTOCOL:
    case SMTPC_ERR_REPLY_TOO_LONG:
        fprintf(f, "protocol error during %s", smtpc_phase_str(phase));
        break;
    case SMTPC_ERR_TEMPFAIL:
        /* 421 ends the session, whatever command it answers (RFC 5321
         * 3.8): "no recipient accepted" would mislead. */
        if (rp && rp->code == 421 && phase != SMTPC_PHASE_GREETING) {
            fprintf(f, "server closing the connection during %s",
                    smtpc_phase_str(phase));
            break;
        }
        put_what(f, oc, phase, 1);
        break;
    case SMTPC_ERR_REJECTED:
    case SMTPC_ERR_NO_RECIPIENTS:
    case SMTPC_ERR_AUTH:
        put_what(f, oc, phase, 0);
        break;
    default:
        fputs(smtpc_status_str(st), f);
        break;
    }
    /* The reason: the server's reply when a reply caused the failure (an
     * older reply would mislead after a timeout), else our detail. */
    if (rp && rp->code >= 400 && cli_reply_caused(st)) {
        fputs(": ", f);
        put_reply(f, rp->code, rp->enh, rp->text);
    } else if (oc->detail && *oc->detail) {
        fputs(": ", f);
        cli_put_escaped(f, oc->detail);
    }
    if (oc->note)
        fprintf(f, " (%s)", oc->note);
    fputc('\n', f);
}
