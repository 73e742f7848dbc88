/*
 * cli/smtpc/options.c - the command line of smtpc, from one table.
 *
 * The table (smtpc_options below) is what getopt_long parses, what --help
 * lists and what a configuration file may set: adding an option is adding
 * an entry.  Everything that would reach the server is checked here, with
 * the library's own checks, so a bad value stops the tool before it
 * connects.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "cli.h"

#if CLI_HAVE_TLS
#include "smtpc/tls.h"
#endif

static const cli_config *error_file; /* words being parsed are this file's */
static int cmd_argc;                  /* the command line, for file_line */
static char **cmd_argv;
static int error_base;                /* ... from its word error_base + 1 */
static int error_word;                /* ... and this is the current one */

/* "smtpc: [FILE:LINE: ]" and fmt with its "%s" as arg (cli_put_format),
 * then where to read more. */
static void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", CLI_NAME);
    if (error_file) {
        cli_put_escaped(stderr, error_file->path);
        fprintf(stderr, ":%d: ", error_file->line[error_base + error_word]);
    }
    cli_put_format(stderr, fmt, arg);
    fprintf(stderr, " (see '%s --help')\n", CLI_NAME);
}

/* usage_error about the word being parsed. */
static int opt_error(const cli_optparse *p, const char *fmt, const char *arg)
{
    error_word = p->word;
    usage_error(fmt, arg);
    return -1;
}

static void generic_error(cli_optparse *p, int err, const char *what)
{
    static const char *const fmt[] = {
        [CLI_OPTERR_UNKNOWN] = "unknown option %s",
        [CLI_OPTERR_NEEDS_VALUE] = "option %s needs a value",
        [CLI_OPTERR_TWICE] = "%s given twice",
    };
    opt_error(p, fmt[err], what);
}

static const struct {
    const char *name;
    unsigned mech;
} auth_names[] = {
    {"auto", SMTPC_AUTH_AUTO},
    {"none", SMTPC_AUTH_NONE},
    {"plain", SMTPC_AUTH_PLAIN},
    {"login", SMTPC_AUTH_LOGIN},
    {"cram-md5", SMTPC_AUTH_CRAM_MD5},
    {"xoauth2", SMTPC_AUTH_XOAUTH2},
    {"oauthbearer", SMTPC_AUTH_OAUTHBEARER},
};

static int parse_auth(const char *s, unsigned *out)
{
    for (size_t i = 0; i < sizeof auth_names / sizeof auth_names[0]; i++) {
        if (strcasecmp(s, auth_names[i].name) == 0) {
            *out = auth_names[i].mech;
            return 0;
        }
    }
    return -1;
}

/* The --auth spelling of a mechanism, for messages. */
static const char *auth_name(unsigned mech)
{
    for (size_t i = 0; i < sizeof auth_names / sizeof auth_names[0]; i++) {
        if (auth_names[i].mech == mech)
            return auth_names[i].name;
    }
    return "?";
}

static int parse_notify(const char *s, unsigned *out)
{
    unsigned bits = 0;
    const char *p = s;

    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 5 && strncasecmp(p, "never", 5) == 0)
            bits |= SMTPC_NOTIFY_NEVER;
        else if (n == 7 && strncasecmp(p, "success", 7) == 0)
            bits |= SMTPC_NOTIFY_SUCCESS;
        else if (n == 7 && strncasecmp(p, "failure", 7) == 0)
            bits |= SMTPC_NOTIFY_FAILURE;
        else if (n == 5 && strncasecmp(p, "delay", 5) == 0)
            bits |= SMTPC_NOTIFY_DELAY;
        else
            return -1;
        p += n;
        if (*p == ',') {
            p++;
            if (!*p)
                return -1;
        }
    }
    /* RFC 3461 4.1: NEVER stands alone. */
    if (bits == 0 || ((bits & SMTPC_NOTIFY_NEVER) && bits != SMTPC_NOTIFY_NEVER))
        return -1;
    *out = bits;
    return 0;
}

/* A mailbox, or a local part alone ("root") that --qualify-domain may
 * complete: checked as it would be then, with a domain added. */
static int mailbox_or_local(const char *v, int allow_empty)
{
    char with_domain[256 + sizeof "@example.com"];
    size_t n = strlen(v);

    if (v[0] == '\0' || strchr(v, '@'))
        return smtpc_check_address(v, allow_empty) == SMTPC_OK;
    if (n > 256) /* longer than a whole path may be */
        return 0;
    memcpy(with_domain, v, n);
    memcpy(with_domain + n, "@example.com", sizeof "@example.com");
    return smtpc_check_address(with_domain, 0) == SMTPC_OK;
}

/* The checks of the values, made as each is parsed, so that a bad value
 * in the configuration file is reported with its line.  The CALL ones
 * store the value too. */

static int check_server(cli_optparse *p, const cli_opt *o, const char *v)
{
    char *host;
    uint16_t port;

    (void)o;
    if (cli_split_server(v, &host, &port) != 0)
        return opt_error(p, "invalid --server \"%s\" (HOST, HOST:PORT, "
                         "[IPv6] or [IPv6]:PORT)", v);
    free(host);
    return 0;
}

static int check_from(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)o;
    if (!mailbox_or_local(v, 1))
        return opt_error(p, "invalid sender address \"%s\": it must be a "
                         "bare mailbox (no <>, spaces or control "
                         "characters)", v);
    return 0;
}

/* --ehlo and --qualify-domain. */
static int check_domain(cli_optparse *p, const cli_opt *o, const char *v)
{
    if (smtpc_check_domain(v) == SMTPC_OK)
        return 0;
    if (strcmp(o->name, "ehlo") == 0)
        return opt_error(p, "invalid --ehlo name \"%s\": it must be a "
                         "domain or an address literal", v);
    return opt_error(p, "invalid --qualify-domain \"%s\": it must be a "
                     "domain", v);
}

/* The name goes into a header field: one line of text. */
static int check_from_name(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)o;
    if (smtpc_check_text(v, 200) != SMTPC_OK)
        return opt_error(p, "invalid --from-name \"%s\" (one line, at most "
                         "200 bytes)", v);
    return 0;
}

static int check_user(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)o;
    if (v[0] == '\0' || smtpc_check_text(v, SMTPC_SECRET_MAX) != SMTPC_OK)
        return opt_error(p, "invalid --user \"%s\"", v);
    return 0;
}

static int check_envid(cli_optparse *p, const cli_opt *o, const char *v)
{
    /* RFC 3461 4.4: printable ASCII, at most 100 characters. */
    int ok = v[0] != '\0' && smtpc_check_text(v, CLI_ENVID_MAX) == SMTPC_OK;

    (void)o;
    for (const char *c = v; ok && *c; c++)
        ok = (unsigned char)*c >= 0x21 && (unsigned char)*c <= 0x7e;
    if (!ok)
        return opt_error(p, "invalid --envid \"%s\" (at most 100 printable "
                         "characters)", v);
    return 0;
}

static int set_auth(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)o;
    if (parse_auth(v, &((cli_opts *)p->target)->auth))
        return opt_error(p, "unknown --auth \"%s\" (auto, plain, login, "
                         "cram-md5, xoauth2, oauthbearer or none)", v);
    return 0;
}

static int set_tls(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)o;
    if (cli_parse_tls(v, CLI_TLSW_AUTO | CLI_TLSW_NONE | CLI_TLSW_STARTTLS |
                      CLI_TLSW_IMPLICIT, &((cli_opts *)p->target)->tls_arg))
        return opt_error(p, "unknown --tls \"%s\" (auto, starttls, implicit "
                         "or none)", v);
    return 0;
}

static int set_timeout(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)o;
    if (cli_parse_seconds(v, &((cli_opts *)p->target)->timeout_s))
        return opt_error(p, "invalid --timeout \"%s\" (whole seconds, 1 to "
                         "86400)", v);
    return 0;
}

static int set_notify(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)o;
    if (parse_notify(v, &((cli_opts *)p->target)->notify))
        return opt_error(p, "invalid --dsn-notify \"%s\" (never, or a comma "
                         "list of success, failure, delay)", v);
    return 0;
}

static int set_dsn_ret(cli_optparse *p, const cli_opt *o, const char *v)
{
    unsigned *flags = &((cli_opts *)p->target)->mail_flags;

    (void)o;
    *flags &= ~(unsigned)(SMTPC_MAIL_RET_FULL | SMTPC_MAIL_RET_HDRS);
    if (strcasecmp(v, "full") == 0)
        *flags |= SMTPC_MAIL_RET_FULL;
    else if (strcasecmp(v, "hdrs") == 0)
        *flags |= SMTPC_MAIL_RET_HDRS;
    else
        return opt_error(p, "invalid --dsn-ret \"%s\" (full or hdrs)", v);
    return 0;
}

/* sendmail's -bm (send a message) is what smtpc does; -bp lists the
 * queue, as mailq. */
static int set_sendmail_b(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)o;
    if (strcmp(v, "p") == 0) {
        ((cli_opts *)p->target)->list_queue = 1;
        return 0;
    }
    if (strcmp(v, "m") != 0)
        return opt_error(p, "-b%s is not supported: smtpc only sends mail "
                         "(-bm) and lists its queue (-bp)", v);
    return 0;
}

/* A duration: N seconds, or N followed by s, m, h or d. */
static int set_lifetime(cli_optparse *p, const cli_opt *o, const char *v)
{
    char *end;
    unsigned long n;
    unsigned long unit = 1;

    (void)o;
    errno = 0;
    n = v[0] >= '0' && v[0] <= '9' ? strtoul(v, &end, 10) : 0;
    if (v[0] >= '0' && v[0] <= '9' && errno == 0) {
        switch (*end) {
        case 'd': unit = 86400; end++; break;
        case 'h': unit = 3600; end++; break;
        case 'm': unit = 60; end++; break;
        case 's': end++; break;
        default: break;
        }
        if (*end == '\0' && n <= 3650ul * 86400 / unit) {
            ((cli_opts *)p->target)->queue_lifetime = (uint32_t)(n * unit);
            return 0;
        }
    }
    return opt_error(p, "invalid --queue-lifetime \"%s\" (seconds, or a "
                     "number and s, m, h or d: 5d)", v);
}

/* sendmail's -B 8BITMIME asks for 8BITMIME; -B 7BIT changes nothing. */
static int set_sendmail_B(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)o;
    if (strcasecmp(v, "8BITMIME") == 0)
        ((cli_opts *)p->target)->mail_flags |= SMTPC_MAIL_8BITMIME;
    else if (strcasecmp(v, "7BIT") != 0)
        return opt_error(p, "invalid -B \"%s\" (7BIT or 8BITMIME)", v);
    return 0;
}

static int set_syslog(cli_optparse *p, const cli_opt *o, const char *v)
{
    cli_opts *t = p->target;

    (void)o;
    if (cli_syslog_parse(v, &t->syslog_on, &t->syslog_facility))
        return opt_error(p, "invalid --syslog \"%s\" (on, off, or a facility: "
                         "LOG_MAIL, LOG_USER, LOG_DAEMON, LOG_LOCAL0..7)", v);
    return 0;
}

static int show_help(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)p, (void)o, (void)v;
    cli_usage(stdout);
    return CLI_OPT_STOP;
}

static int show_version(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)p, (void)o, (void)v;
#if CLI_HAVE_TLS
    printf("smtpc %s (TLS: %s)\n", SMTPC_VERSION, smtpc_tls_backend());
#else
    printf("smtpc %s (TLS: none)\n", SMTPC_VERSION);
#endif
    return CLI_OPT_STOP;
}

/* The options, in --help's order.  Entries: name, short, kind, flags,
 * target, bits or group, check, value name, help (opt.h).  CLI_OPTF_ONCE
 * options may be given once in each list of words: the command line
 * replaces what the configuration file set. */
#define OFF(field) offsetof(cli_opts, field)
#define VAL CLI_OPTF_VALUE
#define ONCE CLI_OPTF_ONCE
#define PATH (CLI_OPTF_ONCE | CLI_OPTF_PATH)
#define RUN CLI_OPTF_CMDLINE /* about one run, not a default */
#define S CLI_OPT_STRING
#define GROUP_PASSWORD 1u
#define GROUP_TOKEN 2u
#define TEXT(s) {NULL, 0, CLI_OPT_TEXT, 0, 0, 0, NULL, NULL, s, NULL}

const cli_opt cli_smtpc_options[] = {
TEXT("\nEnvelope from the message (Bcc: fields are removed from what is sent):\n"),
{"read-recipients", 't', CLI_OPT_FLAG, RUN, OFF(read_rcpts), 0, NULL, NULL,
 "also send to the To:, Cc: and Bcc: addresses of\nthe message; without --from, the sender is its\nSender: or From: address", NULL},
{"batch", 0, S, ONCE | RUN, OFF(batch_dir), 0, NULL, "DIR",
 "send every file in DIR (sorted by name; dotfiles,\nlinks and subdirectories skipped) as one message,\nall over one connection, and report each; the\nenvelope is --from and the RECIPIENTs when given,\nelse each message's own headers", NULL},
TEXT("\nServer and envelope:\n"),
{"server", 0, S, ONCE, OFF(server), 0, check_server, "HOST[:PORT]",
 "server name, IPv4, [IPv6] or [IPv6]:PORT (a bare\nIPv6 address takes no port); the port defaults to\n587 (465 with --tls implicit, 25 with --tls none)", NULL},
{"from", 'f', S, ONCE, OFF(from), 0, check_from, "ADDR",
 "envelope sender (\"\" for the null reverse-path;\ndefault: the message's Sender: or From:)", NULL},
{"ehlo", 0, S, ONCE, OFF(ehlo), 0, check_domain, "NAME",
 "name to greet with (default: localhost)", NULL},
{"qualify-domain", 0, S, ONCE, OFF(qualify_domain), 0, check_domain, "DOMAIN",
 "add @DOMAIN to an address that has no domain (a\nuser name such as cron's \"root\")", NULL},
{"aliases", 0, S, PATH, OFF(aliases_file), 0, NULL, "FILE",
 "replace a RECIPIENT with no @domain by the\naddresses of its \"NAME: ADDR, ADDR\" line in\nFILE, or of its \"default:\" line (msmtp's format)", NULL},
TEXT("\nSecurity:\n"),
{"tls", 0, CLI_OPT_CALL, VAL, 0, 0, set_tls, "MODE",
 "auto (default): implicit TLS on port 465, otherwise\nSTARTTLS when offered, and required when\ncredentials are used; starttls: required;\nimplicit: TLS from the first byte; none: never", NULL},
{"cafile", 0, S, PATH, OFF(cafile), 0, NULL, "FILE",
 "trust the CA certificates in FILE (PEM)", NULL},
{"capath", 0, S, PATH, OFF(capath), 0, NULL, "DIR",
 "trust the hashed CA certificates in DIR", NULL},
{"pin-sha256", 0, S, ONCE, OFF(pin_sha256), 0, NULL, "BASE64",
 "require this SHA-256 of the server's public key", NULL},
{"tls-session-cache", 0, S, PATH, OFF(tls_session_cache), 0, NULL, "FILE",
 "keep the TLS session in FILE (private: 0600, yours)\nso that the next run resumes it", NULL},
{"insecure-skip-verify", 0, CLI_OPT_FLAG, 0, OFF(insecure_skip_verify), 0, NULL, NULL,
 "accept any certificate (INSECURE: tests only)", NULL},
{"allow-plaintext-auth", 0, CLI_OPT_BITS, 0, OFF(session_options), SMTPC_OPT_ALLOW_PLAINTEXT_AUTH, NULL, NULL,
 "allow credentials over a cleartext connection to a\nhost other than loopback (INSECURE)", NULL},
TEXT("\nAuthentication:\n"),
{"user", 0, S, ONCE, OFF(user), 0, check_user, "NAME",
 "authenticate as NAME", NULL},
{"password-env", 0, S, ONCE, OFF(password_env), GROUP_PASSWORD, NULL, "VAR",
 "the password is in environment variable VAR", NULL},
{"password-file", 0, S, PATH, OFF(password_file), GROUP_PASSWORD, NULL, "FILE",
 "the password is in FILE (one trailing newline\nremoved)", NULL},
{"password-cmd", 0, S, ONCE, OFF(password_cmd), GROUP_PASSWORD, NULL, "CMD",
 "the password is what /bin/sh -c CMD prints (a\nkeyring, a secrets manager; one trailing newline\nremoved)", NULL},
{"passwordeval", 0, S, ONCE, OFF(password_cmd), GROUP_PASSWORD, NULL, "CMD",
 "as --password-cmd (msmtp's name)", NULL},
{"netrc-file", 0, S, PATH, OFF(netrc_file), 0, NULL, "FILE",
 "with --user and no other password option, the\npassword of \"machine HOST login USER\" in FILE\n(default: ~/.netrc; refused when others can read\nit)", NULL},
{"no-netrc", 0, CLI_OPT_FLAG, 0, OFF(no_netrc), 0, NULL, NULL,
 "never read a netrc file", NULL},
{"oauth2-token-file", 0, S, PATH, OFF(token_file), GROUP_TOKEN, NULL, "F",
 "OAuth 2 access token in file F", NULL},
{"oauth2-token-env", 0, S, ONCE, OFF(token_env), GROUP_TOKEN, NULL, "V",
 "OAuth 2 access token in environment variable V", NULL},
{"oauth2-token-cmd", 0, S, ONCE, OFF(token_cmd), GROUP_TOKEN, NULL, "CMD",
 "OAuth 2 access token printed by /bin/sh -c CMD", NULL},
{"auth", 0, CLI_OPT_CALL, VAL, 0, 0, set_auth, "MECH",
 "auto (default), plain, login, cram-md5, xoauth2,\noauthbearer, or none (never authenticate)", NULL},
TEXT("\nMessage:\n"),
{"from-name", 'F', S, ONCE, OFF(from_name), 0, check_from_name, "NAME",
 "the name in the From: field smtpc adds (default:\nthe user's full name from the password file)", NULL},
{"no-add-from", 0, CLI_OPT_BITS, 0, OFF(no_add), CLI_HAS_FROM, NULL, NULL,
 "do not add a From: field (the envelope sender)\nto a message that has none", NULL},
{"no-add-date", 0, CLI_OPT_BITS, 0, OFF(no_add), CLI_HAS_DATE, NULL, NULL,
 "do not add a Date: field to a message that has\nnone", NULL},
{"no-add-message-id", 0, CLI_OPT_BITS, 0, OFF(no_add), CLI_HAS_MESSAGE_ID, NULL, NULL,
 "do not add a Message-ID: field to a message that\nhas none", NULL},
{"8bitmime", 0, CLI_OPT_BITS, 0, OFF(mail_flags), SMTPC_MAIL_8BITMIME, NULL, NULL,
 "declare BODY=8BITMIME when the server offers it", NULL},
{"smtputf8", 0, CLI_OPT_BITS, 0, OFF(mail_flags), SMTPC_MAIL_SMTPUTF8, NULL, NULL,
 "ask for SMTPUTF8 (automatic for non-ASCII\naddresses)", NULL},
{"dsn-notify", 0, CLI_OPT_CALL, VAL, 0, 0, set_notify, "LIST",
 "never, or a comma list of success,failure,delay", NULL},
{"dsn-ret", 0, CLI_OPT_CALL, VAL, 0, 0, set_dsn_ret, "full|hdrs",
 "what a delivery status notification returns", NULL},
{"envid", 0, S, ONCE, OFF(envid), 0, check_envid, "ID",
 "DSN envelope identifier", NULL},
{"all-or-nothing", 0, CLI_OPT_FLAG, 0, OFF(all_or_nothing), 0, NULL, NULL,
 "send to every recipient or to none: when the\nserver refuses one, the message is abandoned\nbefore its data (msmtp's way; default: send to\nthose accepted, and say which were refused)", NULL},
{"no-pipelining", 0, CLI_OPT_BITS, 0, OFF(session_options), SMTPC_OPT_NO_PIPELINING, NULL, NULL,
 "never pipeline commands", NULL},
{"no-chunking", 0, CLI_OPT_BITS, 0, OFF(session_options), SMTPC_OPT_NO_CHUNKING, NULL, NULL,
 "never use BDAT (CHUNKING)", NULL},
TEXT("\nComposing a message (instead of reading one on standard input; chosen\n"
     "by --subject, --body-file, --html-file, --attach or --inline):\n"),
{"subject", 0, S, ONCE | RUN, OFF(subject), 0, NULL, "TEXT", "the Subject: (UTF-8)", NULL},
{"to", 0, CLI_OPT_LIST, RUN, OFF(to), 0, NULL, "ADDR", "a To: mailbox, ADDR or \"Name <ADDR>\" (repeatable;\nnone: the RECIPIENTs are the To:)", NULL},
{"cc", 0, CLI_OPT_LIST, RUN, OFF(cc), 0, NULL, "ADDR", "a Cc: mailbox (repeatable)", NULL},
{"bcc", 0, CLI_OPT_LIST, RUN, OFF(bcc), 0, NULL, "ADDR", "a hidden recipient: envelope only (repeatable)", NULL},
{"body-file", 0, S, PATH | RUN, OFF(body_file), 0, NULL, "FILE", "the text/plain body (default: standard input)", NULL},
{"html-file", 0, S, PATH | RUN, OFF(html_file), 0, NULL, "FILE", "a text/html body (an alternative to the text)", NULL},
{"attach", 0, CLI_OPT_LIST, RUN, OFF(attach), 0, NULL, "FILE[;type=T][;name=N]", "attach FILE (repeatable); its media type is\nguessed from its name unless ;type= gives it", NULL},
{"inline", 0, CLI_OPT_LIST, RUN, OFF(inline_files), 0, NULL, "FILE;cid=ID", "an image the HTML shows as cid:ID (also ;type=,\n;name=; repeatable)", NULL},
{"header", 0, CLI_OPT_LIST, RUN, OFF(header), 0, NULL, "'NAME: VALUE'", "one more header field (repeatable)", NULL},
{"dry-run", 0, CLI_OPT_FLAG, RUN, OFF(dry_run), 0, NULL, NULL, "print the composed message on standard output\n(CRLF line ends) and send nothing", NULL},
TEXT("\nOutput:\n"),
{"timeout", 0, CLI_OPT_CALL, VAL, 0, 0, set_timeout, "SECONDS",
 "one timeout for every phase (default: RFC 5321's)", NULL},
{"verbose", 'v', CLI_OPT_COUNT, 0, OFF(verbose), 0, NULL, NULL,
 "print the SMTP dialogue on stderr (secrets hidden)", NULL},
{"json", 0, CLI_OPT_FLAG, 0, OFF(json), 0, NULL, NULL,
 "print the outcome as one JSON object on stdout\n(--batch: one line per message, then a summary)", NULL},
{"log", 0, S, PATH, OFF(log_file), 0, NULL, "FILE",
 "append each outcome to FILE: the --json object\nwith \"time\" and \"pid\" first, one line each", NULL},
{"syslog", 0, CLI_OPT_CALL, CLI_OPTF_OPTIONAL, 0, 0, set_syslog, "FACILITY",
 "also log each outcome to syslog, one line (no\nsecrets); FACILITY: LOG_MAIL (default), LOG_USER,\nLOG_LOCAL0..7, or off; in a configuration file\n\"syslog\" or \"syslog LOG_MAIL\", as msmtp's", NULL},
TEXT("\nQueue (nothing lost when the server is away):\n"),
{"queue", 0, S, PATH, OFF(queue_dir), 0, NULL, "DIR",
 "keep a message that meets a temporary failure in\nDIR and exit 0, as sendmail does", NULL},
{"flush-queue", 0, CLI_OPT_FLAG, RUN, OFF(flush_queue), 0, NULL, NULL,
 "send the messages of --queue DIR that are due\n(from cron); the refused go to DIR/failed", NULL},
{"no-queue", 0, CLI_OPT_FLAG, RUN, OFF(no_queue), 0, NULL, NULL,
 "send now and never queue", NULL},
{"queue-lifetime", 0, CLI_OPT_CALL, VAL, 0, 0, set_lifetime, "TIME",
 "give up on a message queued for longer (default\n5d; 90s, 30m, 12h...): it moves to DIR/failed\nand its sender gets a bounce", NULL},
{"flush-all", 0, CLI_OPT_FLAG, RUN, OFF(flush_all), 0, NULL, NULL,
 "as --flush-queue, but try every message now,\nwhatever its schedule", NULL},
{"list-queue", 0, CLI_OPT_FLAG, RUN, OFF(list_queue), 0, NULL, NULL,
 "list the queued and failed messages: envelope,\nage, tries, last error, next try (also -bp, or\nrun as mailq)", NULL},
TEXT("\nConfiguration file (one long option per line, e.g. \"server HOST:PORT\";\n"
     "the command line replaces its values):\n"),
{"config", 'C', S, ONCE | RUN, OFF(config_path), 0, NULL, "FILE",
 "read FILE; without -C: $SMTPC_CONFIG (empty:\nnone), else ~/.config/smtpc/config, else\n" CLI_SYSTEM_CONFIG, NULL},
{"account", 'a', S, ONCE | RUN, OFF(account), 0, NULL, "NAME",
 "use the file's \"account NAME\" section (default:\nthe one named \"default\", if any) over the\nlines before the first section", NULL},
TEXT("\nInformation:\n"),
{"print-config", 0, CLI_OPT_FLAG, RUN, OFF(print_config), 0, NULL, NULL,
 "print the options in effect (configuration file,\naccount, command line) as a configuration file,\ncommands that may hold a secret hidden, and exit", NULL},
{"serverinfo", 0, CLI_OPT_FLAG, RUN, OFF(serverinfo), 0, NULL, NULL,
 "connect (TLS as configured), print what the server\noffers (extensions, SIZE, AUTH, TLS, certificates)\nand QUIT; nothing is sent or authenticated", NULL},
{"help", 'h', CLI_OPT_CALL, RUN, 0, 0, show_help, NULL,
 "print this help and exit", NULL},
{"version", 'V', CLI_OPT_CALL, RUN, 0, 0, show_version, NULL,
 "print the version and exit", NULL},
/* sendmail's options, so that smtpc can be installed as sendmail (-F is
 * --from-name above).  smtpc never ends the message at a "." line (-i,
 * -oi) and has no aliases or sendmail.cf options to set (-o, -O, -A, -L,
 * -m, -n, -G). */
TEXT("\nAs sendmail (so that smtpc can be installed as sendmail):\n"),
{NULL, 'r', S, 0, 0, 0, NULL, "ADDR", "as -f (sendmail's older name)", "from"},
{NULL, 'N', S, 0, 0, 0, NULL, "LIST", "as --dsn-notify", "dsn-notify"},
{NULL, 'R', S, 0, 0, 0, NULL, "full|hdrs", "as --dsn-ret", "dsn-ret"},
{NULL, 'B', CLI_OPT_CALL, VAL, 0, 0, set_sendmail_B, "TYPE",
 "8BITMIME: as --8bitmime; 7BIT: changes nothing", NULL},
{NULL, 'b', CLI_OPT_CALL, VAL, 0, 0, set_sendmail_b, "m|p",
 "-bm: send a message; -bp: as --list-queue", NULL},
{NULL, 'i', CLI_OPT_IGNORE, 0, 0, 0, NULL, NULL,
 "accepted: a \".\" line never ends the message", NULL},
{NULL, 'o', CLI_OPT_IGNORE, VAL, 0, 0, NULL, "X",
 "-oX (-oi, -oem, ...): accepted, changes nothing", NULL},
{NULL, 'O', CLI_OPT_IGNORE, VAL, 0, 0, NULL, "OPT=V", "accepted, changes nothing", NULL},
{NULL, 'A', CLI_OPT_IGNORE, VAL, 0, 0, NULL, "c|m", "accepted, changes nothing", NULL},
{NULL, 'L', CLI_OPT_IGNORE, VAL, 0, 0, NULL, "TAG", "accepted, changes nothing", NULL},
{NULL, 'm', CLI_OPT_IGNORE, 0, 0, 0, NULL, NULL, "accepted, changes nothing", NULL},
{NULL, 'n', CLI_OPT_IGNORE, 0, 0, 0, NULL, NULL, "accepted, changes nothing", NULL},
{NULL, 'G', CLI_OPT_IGNORE, 0, 0, 0, NULL, NULL, "accepted, changes nothing", NULL},
{NULL, 0, CLI_OPT_END, 0, 0, 0, NULL, NULL, NULL, NULL},
};
#undef OFF
#undef VAL
#undef ONCE
#undef PATH
#undef RUN
#undef S
#undef TEXT

int cli_config_option(const char *name, int *takes_value, int *is_path)
{
    const cli_opt *o = cli_opt_find(cli_smtpc_options, name);

    if (!o)
        return -1;
    if (o->flags & CLI_OPTF_CMDLINE)
        return -2;
    *takes_value = (o->flags & CLI_OPTF_OPTIONAL) ? 2
                   : o->kind == CLI_OPT_STRING || o->kind == CLI_OPT_LIST ||
                     (o->flags & CLI_OPTF_VALUE);
    *is_path = (o->flags & CLI_OPTF_PATH) != 0;
    return 0;
}

void cli_usage(FILE *f)
{
    fputs(
"Usage: smtpc --server HOST[:PORT] --from ADDR [OPTION]... RECIPIENT...\n"
"  or:  smtpc --server HOST[:PORT] -t [OPTION]... [RECIPIENT]...\n"
"  or:  smtpc --server HOST[:PORT] --batch DIR [OPTION]... [RECIPIENT]...\n"
"Send the message read from standard input to each RECIPIENT through the\n"
"SMTP submission server HOST.  The message goes as it is (line ends become\n"
"CRLF); it should hold its own headers (From:, To:, Subject:, ...).\n",
        f);
    cli_opt_help(f, cli_smtpc_options, 26);
    fputs(
"\n"
"Passwords are never taken from the command line.\n"
"Exit status (sysexits.h): 0 sent (to at least one recipient), 64 usage,\n"
"65 bad message data, 66 cannot open input, 68 unknown host, 69 refused,\n"
"74 input error, 75 temporary failure, 76 protocol error, 77\n"
"authentication failed, 78 configuration error;\n"
"--batch: 0 when every message was sent, else the status of the first\n"
"that was not.  See smtpc(1).\n",
        f);
}

/* Parses one list of words into o.  CLI_PARSE_OK, CLI_PARSE_DONE (--help
 * or --version printed) or EX_USAGE after printing why; optind is then the
 * first word that is not an option. */
static int parse_words(int argc, char **argv, cli_opts *o)
{
    cli_optparse p;
    int rc;

    cli_opt_init(&p, CLI_NAME, cli_smtpc_options, o, generic_error);
    rc = cli_opt_parse(&p, argc, argv);
    return rc == 0 ? CLI_PARSE_OK : rc == CLI_OPT_STOP ? CLI_PARSE_DONE
                                                       : EX_USAGE;
}

/* Whether word is option name (long, or its short letter). */
static int word_is(const char *w, const char *name)
{
    const cli_opt *e = cli_opt_find(cli_smtpc_options, name);
    size_t n = strlen(name);

    if (w[0] != '-')
        return 0;
    if (w[1] == '-')
        return strncmp(w + 2, name, n) == 0 && (w[2 + n] == '\0' ||
                                                w[2 + n] == '=');
    return e && e->short_name && w[1] == e->short_name;
}

/* The configuration file's line that set option name, when the file set
 * it and the command line did not; else 0. */
static int file_line(const cli_opts *o, const char *name)
{
    const cli_config *cf = &o->config;
    int line = 0;

    if (!name)
        return 0;
    for (int i = 1; i < cmd_argc && cmd_argv[i]; i++) {
        if (strcmp(cmd_argv[i], "--") == 0)
            break;
        if (word_is(cmd_argv[i], name))
            return 0;
    }
    for (int i = 1; i < cf->argc; i++) {
        if (word_is(cf->argv[i], name))
            line = cf->line[i]; /* the section's, after the defaults */
    }
    return line;
}

/* A mistake in how options combine.  When option a or b (may be NULL)
 * came from the configuration file, "FILE:LINE: " first and EX_CONFIG (a
 * file to fix); else EX_USAGE. */
static int combo_error(const cli_opts *o, const char *a, const char *b,
                       const char *fmt, const char *arg)
{
    int line = file_line(o, a);

    if (!line)
        line = file_line(o, b);
    if (!line) {
        usage_error(fmt, arg);
        return EX_USAGE;
    }
    fprintf(stderr, "%s: ", CLI_NAME);
    cli_put_escaped(stderr, o->config.path);
    fprintf(stderr, ":%d: ", line);
    cli_put_format(stderr, fmt, arg);
    fputc('\n', stderr);
    return EX_CONFIG;
}

static int check_values(cli_opts *o)
{
    int pw = (o->password_env != NULL) + (o->password_file != NULL) +
             (o->password_cmd != NULL);
    int tok = (o->token_file != NULL) + (o->token_env != NULL) +
              (o->token_cmd != NULL);

    if (o->print_config)
        return CLI_PARSE_OK; /* shows what is set, complete or not */
    if (o->flush_all)
        o->flush_queue = 1;
    if (o->list_queue) {
        if (!o->queue_dir) {
            usage_error("listing the queue needs --queue DIR (or queue in "
                        "the configuration file)%s", NULL);
            return EX_USAGE;
        }
        if (o->flush_queue || o->rcpt_count || o->read_rcpts ||
            o->batch_dir) {
            usage_error("--list-queue takes no recipient, -t, --batch or "
                        "--flush-queue%s", NULL);
            return EX_USAGE;
        }
        return CLI_PARSE_OK;
    }
    if (o->flush_queue) {
        /* Each entry is sent with its own words: nothing else applies. */
        if (!o->queue_dir || o->no_queue) {
            usage_error("--flush-queue needs --queue DIR%s", NULL);
            return EX_USAGE;
        }
        if (o->rcpt_count || o->read_rcpts || o->batch_dir) {
            usage_error("--flush-queue takes no recipient, -t or --batch%s",
                        NULL);
            return EX_USAGE;
        }
        return CLI_PARSE_OK;
    }

    if (!o->host && !o->dry_run) {
        usage_error("missing --server HOST[:PORT]%s", NULL);
        return EX_USAGE;
    }
    if (o->serverinfo)
        return CLI_PARSE_OK; /* no envelope, no credentials used */
    if (o->batch_dir && o->read_rcpts) {
        usage_error("-t reads one message on standard input; --batch takes "
                    "the envelope from each message unless RECIPIENTs are "
                    "given%s", NULL);
        return EX_USAGE;
    }
    if (o->batch_dir && o->all_or_nothing) {
        usage_error("--all-or-nothing is for one message, not --batch%s",
                    NULL);
        return EX_USAGE;
    }
    if (o->batch_dir && o->batch_dir[0] == '\0') {
        usage_error("--batch needs a directory%s", NULL);
        return EX_USAGE;
    }
    /* Without --from, the sender is the message's (read_envelope). */
    if (o->rcpt_count == 0 && !o->read_rcpts && !o->batch_dir &&
        !o->compose) {
        usage_error("no recipient given%s", NULL);
        return EX_USAGE;
    }
    if (o->from && !strchr(o->from, '@') &&
        smtpc_check_address(o->from, 1) != SMTPC_OK) {
        usage_error("sender \"%s\" has no @domain (give --qualify-domain "
                    "DOMAIN)", o->from);
        return EX_USAGE;
    }
    for (size_t i = 0; i < o->rcpt_count; i++) {
        if (!strchr(o->rcpts[i], '@') &&
            mailbox_or_local(o->rcpts[i], 0) &&
            smtpc_check_address(o->rcpts[i], 0) != SMTPC_OK) {
            usage_error("recipient \"%s\" has no @domain (give "
                        "--qualify-domain DOMAIN)", o->rcpts[i]);
            return EX_USAGE;
        }
        if (smtpc_check_address(o->rcpts[i], 0) != SMTPC_OK) {
            usage_error("invalid recipient address \"%s\": it must be a "
                        "bare mailbox (no <>, spaces or control characters)",
                        o->rcpts[i]);
            return EX_USAGE;
        }
    }
    /* The options these checks combine may come from the file: then the
     * message names its line and the status is 78. */
    if (pw > 1)
        return combo_error(o, o->password_env ? "password-env"
                                              : "password-file",
                           "password-cmd",
                           "give only one of --password-env, --password-file "
                           "and --password-cmd%s", NULL);
    if (tok > 1)
        return combo_error(o, o->token_file ? "oauth2-token-file"
                                            : "oauth2-token-env",
                           "oauth2-token-cmd",
                           "give only one of --oauth2-token-file, "
                           "--oauth2-token-env and --oauth2-token-cmd%s",
                           NULL);
    if (o->auth != SMTPC_AUTH_NONE) {
        const char *pw_name = o->password_env    ? "password-env"
                              : o->password_file ? "password-file"
                                                 : "password-cmd";
        if (pw && !o->user)
            return combo_error(o, pw_name, NULL,
                               "a password needs --user NAME%s", NULL);
        if (o->user && !pw && !tok && o->no_netrc)
            return combo_error(o, "user", NULL,
                               "--user needs --password-env, --password-file, "
                               "--password-cmd or an --oauth2-token-* option "
                               "(--no-netrc is given)%s", NULL);
        if ((o->auth == SMTPC_AUTH_PLAIN || o->auth == SMTPC_AUTH_LOGIN ||
             o->auth == SMTPC_AUTH_CRAM_MD5) && !pw && !cli_netrc_wanted(o))
            return combo_error(o, "auth", "user",
                               "--auth %s needs --user and a password option",
                               auth_name(o->auth));
        if ((o->auth == SMTPC_AUTH_XOAUTH2 ||
             o->auth == SMTPC_AUTH_OAUTHBEARER) && !tok)
            return combo_error(o, "auth", NULL,
                               "--auth %s needs an --oauth2-token-* option",
                               auth_name(o->auth));
        if (o->auth == SMTPC_AUTH_XOAUTH2 && !o->user)
            return combo_error(o, "auth", NULL,
                               "--auth xoauth2 needs --user NAME%s", NULL);
    }
    /* Certificate options with --tls none are simply unused: a file that
     * sets cafile for every account must not break its "tls none" one. */
    return CLI_PARSE_OK;
}

int cli_netrc_wanted(const cli_opts *o)
{
    return o->auth != SMTPC_AUTH_NONE && o->user && !o->no_netrc &&
           !o->password_env && !o->password_file && !o->password_cmd &&
           !o->token_file && !o->token_env && !o->token_cmd;
}

/* --tls auto and the default port, once everything else is known. */
static void resolve_tls(cli_opts *o)
{
    int creds = o->auth != SMTPC_AUTH_NONE &&
                (o->user || o->token_file || o->token_env || o->token_cmd);

    if (o->tls_auto) {
        if (o->port == 465)
            o->tls = SMTPC_TLS_IMPLICIT;
        else
            o->tls = creds ? SMTPC_TLS_STARTTLS : SMTPC_TLS_OPPORTUNISTIC;
    }
    if (o->port == 0)
        o->port = cli_default_port(o->tls);
}

char *cli_qualify(cli_opts *o, const char *local)
{
    size_t n = strlen(local), d = strlen(o->qualify_domain);
    char **list = realloc(o->qualified,
                          (o->qualified_count + 1) * sizeof *list);
    char *s;

    if (!list)
        return NULL;
    o->qualified = list;
    s = malloc(n + 1 + d + 1);
    if (!s)
        return NULL;
    memcpy(s, local, n);
    s[n] = '@';
    memcpy(s + n + 1, o->qualify_domain, d + 1);
    o->qualified[o->qualified_count++] = s;
    return s;
}

/* Keeps s (allocated) to be freed with o.  0, or -1 (s freed). */
static int own(cli_opts *o, char *s)
{
    char **list = realloc(o->qualified,
                          (o->qualified_count + 1) * sizeof *list);

    if (!list) {
        free(s);
        return -1;
    }
    o->qualified = list;
    o->qualified[o->qualified_count++] = s;
    return 0;
}

/* A recipient argument may be an RFC 5322 address list, as cron passes a
 * MAILTO of "a@x, Name <b@y>": each such argument becomes its mailboxes
 * (each checked by the library, bare user names completed by
 * --qualify-domain).  A plain address stays as it is.  CLI_PARSE_OK,
 * EX_USAGE after printing why, or EX_OSERR. */
static int expand_lists(cli_opts *o)
{
    char **v = NULL;
    size_t n = 0, i;
    int any = 0;

    for (i = 0; i < o->rcpt_count; i++)
        any |= strpbrk(o->rcpts[i], ",<>\"():; \t") != NULL;
    if (!any)
        return CLI_PARSE_OK;
    for (i = 0; i < o->rcpt_count; i++) {
        const char *a = o->rcpts[i];
        if (!strpbrk(a, ",<>\"():; \t")) {
            char **nv = realloc(v, (n + 1) * sizeof *nv);
            if (!nv)
                break;
            v = nv;
            v[n++] = (char *)(uintptr_t)a;
            continue;
        }
        char **got = NULL;
        size_t got_n = 0;
        cli_headers h;
        int r = cli_address_list(a, o->qualify_domain, &got, &got_n, &h);
        if (r == CLI_HDR_BAD) {
            for (size_t j = 0; j < got_n; j++)
                free(got[j]);
            free(got);
            free(v);
            fprintf(stderr, "%s: invalid recipient address \"", CLI_NAME);
            cli_put_escaped(stderr, a);
            fputs("\": ", stderr);
            /* "recipient: why" says it twice: the why alone. */
            cli_put_escaped(stderr, strncmp(h.error, "recipient: ", 11) == 0
                                        ? h.error + 11 : h.error);
            fputc('\n', stderr);
            return EX_USAGE;
        }
        for (size_t j = 0; j < got_n; j++) {
            char **nv;
            int dup = 0;
            for (size_t k = 0; k < n && !dup; k++)
                dup = cli_same_address(v[k], got[j]);
            if (dup) { /* one RCPT per mailbox */
                free(got[j]);
                continue;
            }
            nv = r == 0 ? realloc(v, (n + 1) * sizeof *nv) : NULL;
            if (!nv || own(o, got[j]) != 0) {
                if (!nv)
                    free(got[j]);
                r = CLI_HDR_NOMEM;
                continue;
            }
            v = nv;
            v[n++] = got[j];
        }
        free(got);
        if (r != 0)
            break;
    }
    if (i < o->rcpt_count) {
        free(v);
        fprintf(stderr, "%s: out of memory\n", CLI_NAME);
        return EX_OSERR;
    }
    o->rcpts_list = v;
    o->rcpts = v;
    o->rcpt_count = n;
    return CLI_PARSE_OK;
}

/* --qualify-domain: the sender and the recipients given with no "@" (user
 * names such as "root", as cron and other sendmail callers give them)
 * become NAME@DOMAIN.  0, or -1 when out of memory. */
static int qualify_all(cli_opts *o)
{
    if (!o->qualify_domain)
        return 0;
    if (o->from && o->from[0] && !strchr(o->from, '@')) {
        o->from = cli_qualify(o, o->from);
        if (!o->from)
            return -1;
    }
    if (o->rcpt_count == 0)
        return 0;
    o->rcpts_buf = malloc(o->rcpt_count * sizeof *o->rcpts_buf);
    if (!o->rcpts_buf)
        return -1;
    for (size_t i = 0; i < o->rcpt_count; i++) {
        o->rcpts_buf[i] = o->rcpts[i];
        if (!strchr(o->rcpts[i], '@')) {
            o->rcpts_buf[i] = cli_qualify(o, o->rcpts[i]);
            if (!o->rcpts_buf[i])
                return -1;
        }
    }
    o->rcpts = o->rcpts_buf;
    return 0;
}

static void opts_init(cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->auth = SMTPC_AUTH_AUTO;
    o->tls_arg = CLI_TLS_AUTO;
    o->queue_lifetime = CLI_QUEUE_LIFETIME;
}

int cli_parse_args(int argc, char **argv, cli_opts *o)
{
    cli_config *cf = &o->config;
    cli_opts cmdline;
    int rc;

    /* The command line alone first: --help, --version, -C FILE and its own
     * mistakes come before any configuration file. */
    opts_init(&cmdline);
    rc = parse_words(argc, argv, &cmdline);
    cli_opt_free(cli_smtpc_options, &cmdline);
    opts_init(o);
    o->json = cmdline.json; /* so that an error is reported in JSON too */
    if (rc != CLI_PARSE_OK)
        return rc;

    /* Then the file's defaults, its account's section over them, and the
     * command line again on top: each list replaces what came before. */
    rc = cli_config_load(cmdline.config_path, cmdline.account, cf);
    if (rc)
        return rc;
    error_file = cf;
    if (cf->account_at > 1) {
        error_base = 0;
        rc = parse_words(cf->account_at, cf->argv, o);
    }
    if (rc == CLI_PARSE_OK && cf->argc > cf->account_at) {
        /* The word before the section stands in for the program name. */
        error_base = cf->account_at - 1;
        rc = parse_words(cf->argc - error_base, cf->argv + error_base, o);
    }
    error_file = NULL;
    if (rc != CLI_PARSE_OK)
        return EX_CONFIG;
    rc = parse_words(argc, argv, o);
    if (rc != CLI_PARSE_OK)
        return rc;
    cmd_argc = optind;
    cmd_argv = argv;
    o->option_words = optind;
    o->rcpts = argv + optind;
    o->rcpt_count = (size_t)(argc - optind);
    {
        /* Installed as mailq, as sendmail's links are. */
        const char *base = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
        base = base ? base + 1 : argc > 0 && argv[0] ? argv[0] : "";
        if (strcmp(base, "mailq") == 0)
            o->list_queue = 1;
    }
    /* Address lists split first, then names without a domain looked up
     * in --aliases, then the rest qualified. */
    rc = expand_lists(o);
    if (rc != CLI_PARSE_OK)
        return rc;
    rc = cli_aliases_apply(o);
    if (rc)
        return rc;
    if (qualify_all(o) != 0) {
        fprintf(stderr, "%s: out of memory\n", CLI_NAME);
        return EX_OSERR;
    }

    if (o->server && cli_split_server(o->server, &o->host, &o->port)) {
        usage_error("invalid --server \"%s\" (HOST, HOST:PORT, [IPv6] or "
                    "[IPv6]:PORT)", o->server);
        return EX_USAGE;
    }
    o->tls_auto = o->tls_arg == CLI_TLS_AUTO;
    o->tls = o->tls_auto ? SMTPC_TLS_OPPORTUNISTIC : o->tls_arg;
    rc = cli_compose_check(o);
    if (rc == CLI_PARSE_OK)
        rc = check_values(o);
    if (rc != CLI_PARSE_OK)
        return rc;
    resolve_tls(o);
    return CLI_PARSE_OK;
}

void cli_opts_free(cli_opts *o)
{
    free(o->host);
    o->host = NULL;
    for (size_t i = 0; i < o->qualified_count; i++)
        free(o->qualified[i]);
    free(o->qualified);
    free(o->rcpts_buf);
    free(o->aliased);
    free(o->aliases_text);
    free(o->rcpts_list);
    o->aliases_text = NULL;
    o->qualified = o->rcpts_buf = o->aliased = o->rcpts_list = NULL;
    o->qualified_count = 0;
    cli_opt_free(cli_smtpc_options, o);
    cli_config_free(&o->config);
}

