/*
 * cli/smtpc/printconfig.c - smtpc --print-config: the configuration in
 * effect, once the configuration file, its account section and the command
 * line have been put together.
 *
 * Printed in the configuration file's own syntax ("name value" lines), so
 * that it can be read back with -C, walking the option table (opt.h):
 * every option that is set, then "# " lines saying what smtpc makes of it
 * (the port, the TLS mode, where the password comes from).  Nothing is run
 * and no secret is read: a command that prints a password or token may
 * hold one itself ("echo hunter2"), so commands are shown as
 * "<hidden>".
 */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>

#include "cli.h"

/* Options whose value may hold a secret: shown as set, never as given. */
static int hidden(const char *name)
{
    return strcmp(name, "password-cmd") == 0 ||
           strcmp(name, "passwordeval") == 0 ||
           strcmp(name, "oauth2-token-cmd") == 0;
}

/* "name value", the value escaped (a file could hold control bytes). */
static void line(FILE *f, const char *name, const char *value)
{
    fputs(name, f);
    if (value) {
        fputc(' ', f);
        if (hidden(name))
            fputs("<hidden>", f);
        else
            cli_put_escaped(f, value);
    }
    fputc('\n', f);
}

static const char *auth_word(unsigned mech, char *buf, size_t len)
{
    size_t i;

    if (mech == SMTPC_AUTH_AUTO)
        return "auto";
    if (mech == SMTPC_AUTH_NONE)
        return "none";
    snprintf(buf, len, "%s", smtpc_auth_mech_str((int)mech));
    for (i = 0; buf[i]; i++)
        buf[i] = (char)tolower((unsigned char)buf[i]);
    return buf;
}

static void notify_word(unsigned bits, char *buf, size_t len)
{
    static const struct {
        unsigned bit;
        const char *word;
    } w[] = {{SMTPC_NOTIFY_NEVER, "never"}, {SMTPC_NOTIFY_SUCCESS, "success"},
             {SMTPC_NOTIFY_FAILURE, "failure"}, {SMTPC_NOTIFY_DELAY, "delay"}};
    size_t o = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof w / sizeof w[0] && o < len; i++) {
        if (bits & w[i].bit)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "",
                                  w[i].word);
    }
}

static const char *facility_word(int facility)
{
    switch (facility) {
    case LOG_MAIL: return "LOG_MAIL";
    case LOG_USER: return "LOG_USER";
    case LOG_DAEMON: return "LOG_DAEMON";
    case LOG_LOCAL0: return "LOG_LOCAL0";
    case LOG_LOCAL1: return "LOG_LOCAL1";
    case LOG_LOCAL2: return "LOG_LOCAL2";
    case LOG_LOCAL3: return "LOG_LOCAL3";
    case LOG_LOCAL4: return "LOG_LOCAL4";
    case LOG_LOCAL5: return "LOG_LOCAL5";
    case LOG_LOCAL6: return "LOG_LOCAL6";
    case LOG_LOCAL7: return "LOG_LOCAL7";
    default: return "?";
    }
}

/* The options whose value is kept in its own form (CLI_OPT_CALL). */
static void call_option(FILE *f, const cli_opts *o, const char *name)
{
    char buf[64];

    if (strcmp(name, "tls") == 0) {
        line(f, name, o->tls_auto ? "auto" : cli_tls_name(o->tls));
    } else if (strcmp(name, "auth") == 0) {
        line(f, name, auth_word(o->auth, buf, sizeof buf));
    } else if (strcmp(name, "timeout") == 0 && o->timeout_s) {
        snprintf(buf, sizeof buf, "%u", (unsigned)o->timeout_s);
        line(f, name, buf);
    } else if (strcmp(name, "dsn-notify") == 0 && o->notify) {
        notify_word(o->notify, buf, sizeof buf);
        line(f, name, buf);
    } else if (strcmp(name, "dsn-ret") == 0 &&
               (o->mail_flags & (SMTPC_MAIL_RET_FULL | SMTPC_MAIL_RET_HDRS))) {
        line(f, name, (o->mail_flags & SMTPC_MAIL_RET_FULL) ? "full" : "hdrs");
    } else if (strcmp(name, "syslog") == 0 && o->syslog_on) {
        line(f, name, facility_word(o->syslog_facility));
    }
}

/* Whether an earlier entry fills the same field (a second name of an
 * option, such as passwordeval for password-cmd). */
static int seen_before(const cli_opt *table, const cli_opt *e)
{
    for (const cli_opt *p = table; p != e; p++) {
        if (p->kind == e->kind && p->kind != CLI_OPT_CALL &&
            p->kind != CLI_OPT_TEXT && p->name && p->offset == e->offset &&
            p->bits == e->bits)
            return 1;
    }
    return 0;
}

static const char *password_source(const cli_opts *o)
{
    if (o->auth == SMTPC_AUTH_NONE)
        return "none (--auth none)";
    if (o->password_env)
        return "the environment (password-env)";
    if (o->password_file)
        return "a file (password-file)";
    if (o->password_cmd)
        return "a command (password-cmd)";
    if (cli_netrc_wanted(o))
        return o->netrc_file ? "the netrc-file" : "~/.netrc";
    return "none";
}

int cli_print_config(const cli_opts *o, FILE *f)
{
    const char *base = (const char *)o;

    fputs("# smtpc --print-config: ", f);
    if (o->config.path) {
        fputs("configuration file ", f);
        cli_put_escaped(f, o->config.path);
        if (o->account) {
            fputs(", account ", f);
            cli_put_escaped(f, o->account);
        }
        fputs(", then the command line\n", f);
    } else {
        fputs("no configuration file; the command line\n", f);
    }
    for (const cli_opt *e = cli_smtpc_options; e->kind != CLI_OPT_END; e++) {
        const void *field = base + e->offset;

        if (e->kind == CLI_OPT_TEXT || !e->name ||
            (e->flags & CLI_OPTF_CMDLINE) || seen_before(cli_smtpc_options, e))
            continue;
        switch (e->kind) {
        case CLI_OPT_STRING:
            if (*(const char *const *)field)
                line(f, e->name, *(const char *const *)field);
            break;
        case CLI_OPT_LIST: {
            const cli_strlist *l = field;
            for (size_t i = 0; i < l->count; i++)
                line(f, e->name, l->items[i]);
            break;
        }
        case CLI_OPT_FLAG:
            if (*(const int *)field)
                line(f, e->name, NULL);
            break;
        case CLI_OPT_COUNT:
            for (int i = 0; i < *(const int *)field; i++)
                line(f, e->name, NULL);
            break;
        case CLI_OPT_BITS:
            if ((*(const unsigned *)field & e->bits) == e->bits)
                line(f, e->name, NULL);
            break;
        case CLI_OPT_CALL:
            call_option(f, o, e->name);
            break;
        default:
            break;
        }
    }
    fputs("# in effect: ", f);
    if (o->host) {
        fputs("server ", f);
        cli_put_escaped(f, o->host);
        fprintf(f, " port %u, tls %s", (unsigned)o->port,
                o->tls == SMTPC_TLS_OPPORTUNISTIC
                    ? "opportunistic (STARTTLS when offered)"
                    : cli_tls_name(o->tls));
    } else {
        fputs("no server", f);
    }
    fprintf(f, ", password from %s\n", o->user ? password_source(o) : "none");
    return fflush(f) == 0 ? EX_OK : EX_IOERR;
}
