/*
 * cli/smtpc/json.c - the --json result object (RFC 8259); with --batch, JSON
 * Lines: one object per message, then one summary object.
 *
 * Strings from the server and the command line may hold anything: they go
 * through cli_json_string (cli/common/escape.c), so the output always
 * parses.
 */
#include <string.h>
#include <sysexits.h>

#include "cli.h"

static void json_enh(FILE *out, const uint16_t enh[3])
{
    if (enh[0])
        fprintf(out, "\"%u.%u.%u\"", enh[0], enh[1], enh[2]);
    else
        fputs("null", out);
}

static void json_code(FILE *out, unsigned code)
{
    if (code)
        fprintf(out, "%u", code);
    else
        fputs("null", out);
}

void cli_report_json(const cli_outcome *oc, FILE *out)
{
    const smtpc_result *res = oc->res;
    const smtpc_envelope *env = oc->env;
    const char *word = cli_exit_word(oc->exit_code);
    int ok = oc->status == SMTPC_OK && oc->exit_code == EX_OK;
    /* The reply that explains the outcome: the final one on success, the
     * failing one when a reply failed the mail, else none (an older reply
     * would mislead). */
    const smtpc_reply *rp =
        res && res->reply.code && (ok || cli_reply_caused(oc->status))
            ? &res->reply : NULL;

    if (ok && env && res && res->rcpt_accepted < env->rcpt_count)
        word = "partial";
    if (oc->queued)
        word = "queued";
    fputc('{', out);
    if (oc->file) {
        /* --batch: which message, over which connection. */
        fputs("\"file\":", out);
        cli_json_string(out, oc->file);
        fputs(",\"connection\":", out);
        json_code(out, oc->connection);
        fprintf(out, ",\"attempts\":%u,", oc->attempts);
    }
    fputs("\"status\":", out);
    cli_json_string(out, word);
    if (oc->queued) {
        fputs(",\"queued\":", out);
        cli_json_string(out, oc->queued);
    }
    fprintf(out, ",\"exit\":%d", oc->exit_code);
    fputs(",\"error\":", out);
    cli_json_string(out, ok ? NULL
                             : oc->error ? oc->error
                                         : smtpc_status_str(oc->status));
    fputs(",\"detail\":", out);
    cli_json_string(out, oc->detail && *oc->detail ? oc->detail : NULL);
    fputs(",\"phase\":", out);
    cli_json_string(out, !ok && res && res->phase != SMTPC_PHASE_NONE
                             ? smtpc_phase_str(res->phase) : NULL);
    fputs(",\"code\":", out);
    json_code(out, rp ? rp->code : 0);
    fputs(",\"enhanced\":", out);
    if (rp)
        json_enh(out, rp->enh);
    else
        fputs("null", out);
    fputs(",\"text\":", out);
    cli_json_string(out, rp ? rp->text : NULL);
    fputs(",\"queue\":", out);
    cli_json_string(out, ok && rp ? rp->text : NULL);
    fputs(",\"server\":", out);
    cli_json_string(out, oc->opts->host);
    fprintf(out, ",\"port\":%u", (unsigned)oc->opts->port);
    fputs(",\"tls_mode\":", out);
    cli_json_string(out, oc->opts->host ? cli_tls_name(oc->opts->tls) : NULL);
    fputs(",\"tls\":", out);
    cli_json_string(out, oc->tls_info && *oc->tls_info ? oc->tls_info : NULL);
    fprintf(out, ",\"tls_resumed\":%s", oc->tls_resumed ? "true" : "false");
    fputs(",\"auth\":", out);
    cli_json_string(out, oc->auth_mech);
    fputs(",\"from\":", out);
    cli_json_string(out, env ? env->from : oc->opts->from);
    fputs(",\"recipients\":[", out);
    if (env) {
        for (size_t i = 0; i < env->rcpt_count; i++) {
            const smtpc_rcpt *r = &env->rcpts[i];
            fputs(i ? ",{\"address\":" : "{\"address\":", out);
            cli_json_string(out, r->address);
            fprintf(out, ",\"accepted\":%s",
                    r->status == SMTPC_OK && r->code ? "true" : "false");
            fputs(",\"code\":", out);
            json_code(out, r->code);
            fputs(",\"enhanced\":", out);
            json_enh(out, r->enh);
            fputs(",\"text\":", out);
            cli_json_string(out, r->code ? r->text : NULL);
            fputc('}', out);
        }
    }
    fputs("]}\n", out);
    fflush(out);
}

void cli_report_json_summary(FILE *out, int exit_code, size_t messages,
                             size_t sent, size_t failed, size_t not_sent,
                             unsigned connections)
{
    fputs("{\"summary\":true,\"status\":", out);
    cli_json_string(out, cli_exit_word(exit_code));
    fprintf(out, ",\"exit\":%d,\"messages\":%zu,\"sent\":%zu,"
            "\"failed\":%zu,\"not_sent\":%zu,\"connections\":%u}\n",
            exit_code, messages, sent, failed, not_sent, connections);
    fflush(out);
}
