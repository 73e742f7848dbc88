/*
 * cli/json.c - the --json result object (RFC 8259); with --batch, JSON
 * Lines: one object per message, then one summary object.
 *
 * Strings from the server and the command line may hold anything: control
 * bytes are escaped, valid UTF-8 passes through, and each byte of invalid
 * UTF-8 becomes U+FFFD, so the output always parses.
 */
#include <string.h>
#include <sysexits.h>

#include "cli.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned min, cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2; min = 0x80; cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3; min = 0x800; cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4; min = 0x10000; cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0; /* also stops at the terminating NUL */
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void cli_json_string(FILE *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;

    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    while (*s) {
        unsigned c = *s;
        size_t n;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc((int)c, out);
            s++;
        } else if (c == '\n') {
            fputs("\\n", out);
            s++;
        } else if (c == '\r') {
            fputs("\\r", out);
            s++;
        } else if (c == '\t') {
            fputs("\\t", out);
            s++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\u%04x", c);
            s++;
        } else if ((n = utf8_len(s)) == 0) {
            fputs("\\ufffd", out);
            s++;
        } else {
            fwrite(s, 1, n, out);
            s += n;
        }
    }
    fputc('"', out);
}

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

static const char *tls_mode_name(int mode)
{
    switch (mode) {
    case SMTPC_TLS_NONE: return "none";
    case SMTPC_TLS_STARTTLS: return "starttls";
    case SMTPC_TLS_IMPLICIT: return "implicit";
    case SMTPC_TLS_OPPORTUNISTIC: return "opportunistic";
    default: return NULL;
    }
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
    cli_json_string(out, oc->opts->host ? tls_mode_name(oc->opts->tls) : NULL);
    fputs(",\"tls\":", out);
    cli_json_string(out, oc->tls_info && *oc->tls_info ? oc->tls_info : NULL);
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
