/*
 * cli/smtpc/syslog.c - --syslog: one line per outcome to the system log,
 * as msmtp's "syslog" does, beside or instead of the --log file.
 *
 *     smtpc[4242]: status=ok exit=0 server=smtp.example.com port=587
 *         tls="TLSv1.3 TLS_AES_256_GCM_SHA384" auth=PLAIN user=me
 *         from=me@example.com recipients=you@example.com code=250
 *         text="2.0.0 Ok: queued as 4XyZ"
 *
 * (one line), at LOG_INFO when the mail went, LOG_ERR when it did not.
 * The words are those of --json; the server's reply and every value that
 * came from outside are quoted with control bytes escaped, so a line
 * cannot be split or forged.  No secret is ever among them.
 */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <sysexits.h>

#include "cli.h"

static const struct {
    const char *name;
    int facility;
} facilities[] = {
    {"mail", LOG_MAIL},     {"user", LOG_USER},     {"daemon", LOG_DAEMON},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

int cli_syslog_parse(const char *v, int *on, int *facility)
{
    if (!v || strcasecmp(v, "on") == 0) {
        *on = 1;
        *facility = LOG_MAIL;
        return 0;
    }
    if (strcasecmp(v, "off") == 0) {
        *on = 0;
        return 0;
    }
    if (strncasecmp(v, "LOG_", 4) == 0)
        v += 4;
    for (size_t i = 0; i < sizeof facilities / sizeof facilities[0]; i++) {
        if (strcasecmp(v, facilities[i].name) == 0) {
            *on = 1;
            *facility = facilities[i].facility;
            return 0;
        }
    }
    return -1;
}

/* " key=value", the value quoted when it holds anything but plain
 * characters, control bytes and quotes escaped. */
static void kv(FILE *f, const char *key, const char *v)
{
    int plain = *v != '\0';

    for (const char *c = v; *c && plain; c++)
        plain = (unsigned char)*c > 0x20 && (unsigned char)*c < 0x7f &&
                *c != '"' && *c != '\\' && *c != '=';
    fprintf(f, " %s=", key);
    if (plain) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c < 0x20 || *c == 0x7f)
            fprintf(f, "\\x%02x", *c);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

void cli_syslog_outcome(const cli_opts *o, const cli_outcome *oc)
{
    const smtpc_result *res = oc->res;
    const smtpc_envelope *env = oc->env;
    const char *word = cli_exit_word(oc->exit_code);
    int ok = oc->status == SMTPC_OK && oc->exit_code == EX_OK;
    const smtpc_reply *rp =
        res && res->reply.code && (ok || cli_reply_caused(oc->status))
            ? &res->reply : NULL;
    char *line = NULL;
    size_t len = 0;
    FILE *f;

    if (!o->syslog_on)
        return;
    if (ok && env && res && res->rcpt_accepted < env->rcpt_count)
        word = "partial";
    if (oc->queued)
        word = "queued";
    f = open_memstream(&line, &len);
    if (!f)
        return;
    fprintf(f, "status=%s exit=%d", word, oc->exit_code);
    if (oc->queued)
        kv(f, "queued", oc->queued);
    if (oc->file)
        kv(f, "file", oc->file);
    if (o->host) {
        kv(f, "server", o->host);
        fprintf(f, " port=%u", (unsigned)o->port);
    }
    if (oc->tls_info && *oc->tls_info)
        kv(f, "tls", oc->tls_info);
    if (oc->auth_mech)
        kv(f, "auth", oc->auth_mech);
    if (oc->auth_mech && o->user)
        kv(f, "user", o->user);
    if (env && env->from)
        kv(f, "from", *env->from ? env->from : "<>");
    if (env) {
        /* The accepted, then each refused one with its reply; those never
         * answered (the session failed first) are not listed. */
        for (size_t i = 0, n = 0; i < env->rcpt_count; i++) {
            const smtpc_rcpt *r = &env->rcpts[i];
            if (r->status == SMTPC_OK && r->code) {
                fputs(n++ ? "," : " recipients=", f);
                cli_put_escaped(f, r->address);
            }
        }
        for (size_t i = 0; i < env->rcpt_count; i++) {
            const smtpc_rcpt *r = &env->rcpts[i];
            char why[SMTPC_RCPT_TEXT_MAX + 320];
            if (!r->code || r->status == SMTPC_OK)
                continue;
            /* refused="ADDR: 550 5.1.1 text", one per recipient */
            if (r->code && r->enh[0])
                snprintf(why, sizeof why, "%s: %u %u.%u.%u %s", r->address,
                         r->code, r->enh[0], r->enh[1], r->enh[2], r->text);
            else
                snprintf(why, sizeof why, "%s: %u %s", r->address, r->code,
                         r->text);
            kv(f, "refused", why);
        }
    }
    if (!ok)
        kv(f, "error", oc->error ? oc->error : smtpc_status_str(oc->status));
    if (!ok && oc->detail && *oc->detail)
        kv(f, "detail", oc->detail);
    if (rp) {
        fprintf(f, " code=%u", rp->code);
        kv(f, "text", rp->text);
    }
    if (fclose(f) == 0 && line) {
        openlog(CLI_NAME, LOG_PID | LOG_NDELAY, o->syslog_facility);
        syslog(ok || oc->queued ? LOG_INFO : LOG_ERR, "%s", line);
        closelog();
    }
    free(line);
}
