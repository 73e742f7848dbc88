/*
 * cli/smtpc/options.c - the command line of smtpc.
 *
 * Everything that would reach the server is checked here, with the
 * library's own checks, so a bad value stops the tool before it connects.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"

#if CLI_HAVE_TLS
#include "smtpc/tls.h"
#endif

enum {
    OPT_SERVER = 256, OPT_FROM, OPT_USER, OPT_PASSWORD_ENV, OPT_PASSWORD_FILE,
    OPT_AUTH, OPT_EHLO, OPT_TLS, OPT_CAFILE, OPT_CAPATH, OPT_PIN,
    OPT_INSECURE, OPT_TOKEN_FILE, OPT_TOKEN_ENV, OPT_TOKEN_CMD, OPT_TIMEOUT,
    OPT_JSON, OPT_ALLOW_PLAINTEXT, OPT_NO_PIPELINING, OPT_NO_CHUNKING,
    OPT_8BITMIME, OPT_SMTPUTF8, OPT_DSN_NOTIFY, OPT_DSN_RET, OPT_ENVID,
    OPT_BATCH, OPT_HELP, OPT_VERSION, OPT_CONFIG, OPT_ACCOUNT, OPT_QUALIFY,
    OPT_LOG, OPT_QUEUE, OPT_NO_QUEUE, OPT_FLUSH_QUEUE
};

/* An option's bit in parse_ctx.seen. */
#define OPT_BIT(id) ((uint64_t)1 << ((id) - OPT_SERVER))

static const struct option long_opts[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"from", required_argument, NULL, OPT_FROM},
    {"user", required_argument, NULL, OPT_USER},
    {"password-env", required_argument, NULL, OPT_PASSWORD_ENV},
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"auth", required_argument, NULL, OPT_AUTH},
    {"ehlo", required_argument, NULL, OPT_EHLO},
    {"qualify-domain", required_argument, NULL, OPT_QUALIFY},
    {"tls", required_argument, NULL, OPT_TLS},
    {"cafile", required_argument, NULL, OPT_CAFILE},
    {"capath", required_argument, NULL, OPT_CAPATH},
    {"pin-sha256", required_argument, NULL, OPT_PIN},
    {"insecure-skip-verify", no_argument, NULL, OPT_INSECURE},
    {"oauth2-token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"oauth2-token-env", required_argument, NULL, OPT_TOKEN_ENV},
    {"oauth2-token-cmd", required_argument, NULL, OPT_TOKEN_CMD},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"verbose", no_argument, NULL, 'v'},
    {"json", no_argument, NULL, OPT_JSON},
    {"log", required_argument, NULL, OPT_LOG},
    {"queue", required_argument, NULL, OPT_QUEUE},
    {"no-queue", no_argument, NULL, OPT_NO_QUEUE},
    {"flush-queue", no_argument, NULL, OPT_FLUSH_QUEUE},
    {"allow-plaintext-auth", no_argument, NULL, OPT_ALLOW_PLAINTEXT},
    {"no-pipelining", no_argument, NULL, OPT_NO_PIPELINING},
    {"no-chunking", no_argument, NULL, OPT_NO_CHUNKING},
    {"8bitmime", no_argument, NULL, OPT_8BITMIME},
    {"smtputf8", no_argument, NULL, OPT_SMTPUTF8},
    {"dsn-notify", required_argument, NULL, OPT_DSN_NOTIFY},
    {"dsn-ret", required_argument, NULL, OPT_DSN_RET},
    {"envid", required_argument, NULL, OPT_ENVID},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"read-recipients", no_argument, NULL, 't'},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"account", required_argument, NULL, OPT_ACCOUNT},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0}
};

/* Short options: smtpc's own, then sendmail's (see the sendmail cases in
 * parse_words).  The leading ':' makes a missing value its own case. */
static const char short_opts[] = ":f:tvhVC:a:" "r:N:R:B:b:o:F:A:L:O:imnG";

/* About one run, not a default: a configuration file may not set them. */
static const char *const args_only[] = {
    "batch", "read-recipients", "config", "account", "help", "version",
    "no-queue", "flush-queue",
};

/* Their value is a file name, in which a configuration file's "~/" is
 * the home directory. */
static const char *const path_opts[] = {
    "password-file", "oauth2-token-file", "cafile", "capath", "log",
    "queue",
};

static int in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(name, list[i]) == 0)
            return 1;
    }
    return 0;
}

int cli_config_option(const char *name, int *takes_value, int *is_path)
{
    for (const struct option *lo = long_opts; lo->name; lo++) {
        if (strcmp(lo->name, name) != 0)
            continue;
        if (in_list(name, args_only, sizeof args_only / sizeof args_only[0]))
            return -2;
        *takes_value = lo->has_arg == required_argument;
        *is_path = in_list(name, path_opts,
                           sizeof path_opts / sizeof path_opts[0]);
        return 0;
    }
    return -1;
}

void cli_usage(FILE *f)
{
    fputs(
"Usage: smtpc --server HOST[:PORT] --from ADDR [OPTION]... RECIPIENT...\n"
"  or:  smtpc --server HOST[:PORT] -t [OPTION]... [RECIPIENT]...\n"
"  or:  smtpc --server HOST[:PORT] --batch DIR [OPTION]... [RECIPIENT]...\n"
"Send the message read from standard input to each RECIPIENT through the\n"
"SMTP submission server HOST.  The message goes as it is (line ends become\n"
"CRLF); it should hold its own headers (From:, To:, Subject:, ...).\n"
"\n"
"Envelope from the message (Bcc: fields are removed from what is sent):\n"
"  -t, --read-recipients   also send to the To:, Cc: and Bcc: addresses of\n"
"                          the message; without --from, the sender is its\n"
"                          Sender: or From: address\n"
"  --batch DIR             send every file in DIR (sorted by name; dotfiles,\n"
"                          links and subdirectories skipped) as one message,\n"
"                          all over one connection, and report each; the\n"
"                          envelope is --from and the RECIPIENTs when given,\n"
"                          else each message's own headers\n"
"\n"
"Server and envelope:\n"
"  --server HOST[:PORT]    server name, IPv4, [IPv6] or [IPv6]:PORT; the port\n"
"                          defaults to 587 (465 with --tls implicit, 25 with\n"
"                          --tls none)\n"
"  -f, --from ADDR         envelope sender (\"\" for the null reverse-path;\n"
"                          default: the message's Sender: or From:)\n"
"  --ehlo NAME             name to greet with (default: localhost)\n"
"  --qualify-domain DOMAIN\n"
"                          add @DOMAIN to an address that has no domain (a\n"
"                          user name such as cron's \"root\")\n"
"\n"
"Security:\n"
"  --tls MODE              auto (default): implicit TLS on port 465, otherwise\n"
"                          STARTTLS when offered, and required when\n"
"                          credentials are used; starttls: required;\n"
"                          implicit: TLS from the first byte; none: never\n"
"  --cafile FILE           trust the CA certificates in FILE (PEM)\n"
"  --capath DIR            trust the hashed CA certificates in DIR\n"
"  --pin-sha256 BASE64     require this SHA-256 of the server's public key\n"
"  --insecure-skip-verify  accept any certificate (INSECURE: tests only)\n"
"  --allow-plaintext-auth  allow credentials over a cleartext connection to a\n"
"                          host other than loopback (INSECURE)\n"
"\n"
"Authentication:\n"
"  --user NAME             authenticate as NAME\n"
"  --password-env VAR      the password is in environment variable VAR\n"
"  --password-file FILE    the password is in FILE (one trailing newline\n"
"                          removed)\n"
"  --oauth2-token-file F   OAuth 2 access token in file F\n"
"  --oauth2-token-env V    OAuth 2 access token in environment variable V\n"
"  --oauth2-token-cmd CMD  OAuth 2 access token printed by /bin/sh -c CMD\n"
"  --auth MECH             auto (default), plain, login, cram-md5, xoauth2,\n"
"                          oauthbearer, or none (never authenticate)\n"
"\n"
"Message:\n"
"  --8bitmime              declare BODY=8BITMIME when the server offers it\n"
"  --smtputf8              ask for SMTPUTF8 (automatic for non-ASCII\n"
"                          addresses)\n"
"  --dsn-notify LIST       never, or a comma list of success,failure,delay\n"
"  --dsn-ret full|hdrs     what a delivery status notification returns\n"
"  --envid ID              DSN envelope identifier\n"
"  --no-pipelining         never pipeline commands\n"
"  --no-chunking           never use BDAT (CHUNKING)\n"
"\n"
"Output:\n"
"  --timeout SECONDS       one timeout for every phase (default: RFC 5321's)\n"
"  -v, --verbose           print the SMTP dialogue on stderr (secrets hidden)\n"
"  --json                  print the outcome as one JSON object on stdout\n"
"                          (--batch: one line per message, then a summary)\n"
"  --log FILE              append each outcome to FILE: the --json object\n"
"                          with \"time\" and \"pid\" first, one line each\n"
"\n"
"Queue (nothing lost when the server is away):\n"
"  --queue DIR             keep a message that meets a temporary failure in\n"
"                          DIR and exit 0, as sendmail does\n"
"  --flush-queue           send the messages of --queue DIR again (from\n"
"                          cron); the refused go to DIR/failed\n"
"  --no-queue              send now and never queue\n"
"  -h, --help              print this help and exit\n"
"  -V, --version           print the version and exit\n"
"\n"
"Configuration file (one long option per line, e.g. \"server HOST:PORT\";\n"
"the command line replaces its values):\n"
"  -C, --config FILE       read FILE; without -C: $SMTPC_CONFIG (empty:\n"
"                          none), else ~/.config/smtpc/config, else\n"
"                          " CLI_SYSTEM_CONFIG "\n"
"  -a, --account NAME      use the file's \"account NAME\" section (default:\n"
"                          the one named \"default\", if any) over the\n"
"                          lines before the first section\n"
"\n"
"As sendmail: -r is -f, -N is --dsn-notify, -R is --dsn-ret, -B 8BITMIME\n"
"is --8bitmime; -i, -oX, -bm, -F, -m, -n, -G, -A, -L, -O are accepted and\n"
"change nothing (a \".\" line never ends the message).\n"
"\n"
"Passwords are never taken from the command line.\n"
"Exit status (sysexits.h): 0 sent (to at least one recipient), 64 usage,\n"
"65 bad message data, 66 cannot open input, 68 unknown host, 69 refused,\n"
"73 cannot open the --log file, 74 input error, 75 temporary failure, 76\n"
"protocol error, 77 authentication failed, 78 configuration error;\n"
"--batch: 0 when every message was sent, else the status of the first\n"
"that was not.  See smtpc(1).\n",
        f);
}

static const cli_config *error_file; /* words being parsed are this file's */
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

/* One parse of a list of words (the command line, or a configuration
 * file's) into options that an earlier list may have set. */
typedef struct parse_ctx {
    int tls;             /* CLI_TLS_AUTO or a smtpc_tls_mode */
    const char *server;  /* --server, split once every list is parsed */
    const char *config;  /* -C FILE */
    const char *account; /* -a NAME: the file's section to use */
    uint64_t seen;       /* OPT_BIT of each option this list gave */
} parse_ctx;

/* Sets *slot: an option given twice in one list is an error, and the
 * command line replaces what the configuration file set. */
static int set_once(parse_ctx *px, int id, const char **slot, const char *val,
                    const char *name)
{
    if (px->seen & OPT_BIT(id)) {
        usage_error("%s given twice", name);
        return -1;
    }
    px->seen |= OPT_BIT(id);
    *slot = val;
    return 0;
}

/* The first of a group of exclusive options (the password sources, the
 * token sources) that a list gives drops what an earlier list set, so
 * that --password-env on the command line replaces a password-file in
 * the configuration file instead of clashing with it. */
static void take_group(parse_ctx *px, uint64_t group, const char **a,
                       const char **b, const char **c)
{
    if (px->seen & group)
        return;
    *a = *b = NULL;
    if (c)
        *c = NULL;
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

/* The checks of one option's value, made as it is parsed, so that a bad
 * value in the configuration file is reported with its line.  0, or -1
 * after printing why. */
static int check_value(int id, const char *v)
{
    char *host;
    uint16_t port;

    switch (id) {
    case OPT_SERVER:
        if (cli_split_server(v, &host, &port) != 0) {
            usage_error("invalid --server \"%s\" (HOST, HOST:PORT, [IPv6] or "
                        "[IPv6]:PORT)", v);
            return -1;
        }
        free(host);
        return 0;
    case OPT_FROM:
        if (!mailbox_or_local(v, 1)) {
            usage_error("invalid sender address \"%s\": it must be a bare "
                        "mailbox (no <>, spaces or control characters)", v);
            return -1;
        }
        return 0;
    case OPT_QUALIFY:
        if (smtpc_check_domain(v) != SMTPC_OK) {
            usage_error("invalid --qualify-domain \"%s\": it must be a "
                        "domain", v);
            return -1;
        }
        return 0;
    case OPT_EHLO:
        if (smtpc_check_domain(v) != SMTPC_OK) {
            usage_error("invalid --ehlo name \"%s\": it must be a domain or "
                        "an address literal", v);
            return -1;
        }
        return 0;
    case OPT_USER:
        if (v[0] == '\0' ||
            smtpc_check_text(v, SMTPC_SECRET_MAX) != SMTPC_OK) {
            usage_error("invalid --user \"%s\"", v);
            return -1;
        }
        return 0;
    case OPT_ENVID: {
        /* RFC 3461 4.4: printable ASCII, at most 100 characters. */
        int ok = v[0] != '\0' &&
                 smtpc_check_text(v, CLI_ENVID_MAX) == SMTPC_OK;
        for (const char *p = v; ok && *p; p++)
            ok = (unsigned char)*p >= 0x21 && (unsigned char)*p <= 0x7e;
        if (!ok) {
            usage_error("invalid --envid \"%s\" (at most 100 printable "
                        "characters)", v);
            return -1;
        }
        return 0;
    }
    default:
        return 0;
    }
}

static int check_values(cli_opts *o)
{
    int pw = (o->password_env != NULL) + (o->password_file != NULL);
    int tok = (o->token_file != NULL) + (o->token_env != NULL) +
              (o->token_cmd != NULL);

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

    if (!o->host) {
        usage_error("missing --server HOST[:PORT]%s", NULL);
        return EX_USAGE;
    }
    if (o->batch_dir && o->read_rcpts) {
        usage_error("-t reads one message on standard input; --batch takes "
                    "the envelope from each message unless RECIPIENTs are "
                    "given%s", NULL);
        return EX_USAGE;
    }
    if (o->batch_dir && o->batch_dir[0] == '\0') {
        usage_error("--batch needs a directory%s", NULL);
        return EX_USAGE;
    }
    /* Without --from, the sender is the message's (read_envelope). */
    if (o->rcpt_count == 0 && !o->read_rcpts && !o->batch_dir) {
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
    if (pw > 1) {
        usage_error("give only one of --password-env and --password-file%s",
                    NULL);
        return EX_USAGE;
    }
    if (tok > 1) {
        usage_error("give only one of --oauth2-token-file, --oauth2-token-env "
                    "and --oauth2-token-cmd%s", NULL);
        return EX_USAGE;
    }
    if (o->auth != SMTPC_AUTH_NONE) {
        if (pw && !o->user) {
            usage_error("a password needs --user NAME%s", NULL);
            return EX_USAGE;
        }
        if (o->user && !pw && !tok) {
            usage_error("--user needs --password-env, --password-file or an "
                        "--oauth2-token-* option%s", NULL);
            return EX_USAGE;
        }
        if ((o->auth == SMTPC_AUTH_PLAIN || o->auth == SMTPC_AUTH_LOGIN ||
             o->auth == SMTPC_AUTH_CRAM_MD5) && !pw) {
            usage_error("--auth %s needs --user and a password option",
                        auth_name(o->auth));
            return EX_USAGE;
        }
        if ((o->auth == SMTPC_AUTH_XOAUTH2 ||
             o->auth == SMTPC_AUTH_OAUTHBEARER) && !tok) {
            usage_error("--auth %s needs an --oauth2-token-* option",
                        auth_name(o->auth));
            return EX_USAGE;
        }
        if (o->auth == SMTPC_AUTH_XOAUTH2 && !o->user) {
            usage_error("--auth xoauth2 needs --user NAME%s", NULL);
            return EX_USAGE;
        }
    }
    if (o->tls == SMTPC_TLS_NONE &&
        (o->cafile || o->capath || o->pin_sha256 || o->insecure_skip_verify)) {
        usage_error("certificate options make no sense with --tls none%s",
                    NULL);
        return EX_USAGE;
    }
    return CLI_PARSE_OK;
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

#define PASSWORD_OPTS (OPT_BIT(OPT_PASSWORD_ENV) | OPT_BIT(OPT_PASSWORD_FILE))
#define TOKEN_OPTS \
    (OPT_BIT(OPT_TOKEN_FILE) | OPT_BIT(OPT_TOKEN_ENV) | OPT_BIT(OPT_TOKEN_CMD))

/* Parses one list of words into o and px.  CLI_PARSE_OK, CLI_PARSE_DONE
 * (--help or --version printed) or EX_USAGE after printing why; optind is
 * then the first word that is not an option. */
static int parse_words(int argc, char **argv, cli_opts *o, parse_ctx *px)
{
    int c;

    opterr = 0;
    optind = 0; /* 0, not 1: GNU and musl then forget an earlier list */
    px->seen = 0;
    while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
        error_word = optind - 1; /* each configuration word is one option */
        switch (c) {
        case OPT_SERVER:
            if (set_once(px, OPT_SERVER, &px->server, optarg, "--server") ||
                check_value(OPT_SERVER, optarg))
                return EX_USAGE;
            break;
        case 'f':
        case 'r': /* sendmail's older name for -f */
        case OPT_FROM:
            if (set_once(px, OPT_FROM, &o->from, optarg, "--from") ||
                check_value(OPT_FROM, optarg))
                return EX_USAGE;
            break;
        case OPT_USER:
            if (set_once(px, c, &o->user, optarg, "--user") ||
                check_value(c, optarg))
                return EX_USAGE;
            break;
        case OPT_PASSWORD_ENV:
            take_group(px, PASSWORD_OPTS, &o->password_env,
                       &o->password_file, NULL);
            if (set_once(px, c, &o->password_env, optarg, "--password-env"))
                return EX_USAGE;
            break;
        case OPT_PASSWORD_FILE:
            take_group(px, PASSWORD_OPTS, &o->password_env,
                       &o->password_file, NULL);
            if (set_once(px, c, &o->password_file, optarg, "--password-file"))
                return EX_USAGE;
            break;
        case OPT_AUTH:
            if (parse_auth(optarg, &o->auth)) {
                usage_error("unknown --auth \"%s\" (auto, plain, login, "
                            "cram-md5, xoauth2, oauthbearer or none)", optarg);
                return EX_USAGE;
            }
            break;
        case OPT_EHLO:
            if (set_once(px, c, &o->ehlo, optarg, "--ehlo") ||
                check_value(c, optarg))
                return EX_USAGE;
            break;
        case OPT_TLS:
            if (cli_parse_tls(optarg, CLI_TLSW_AUTO | CLI_TLSW_NONE |
                              CLI_TLSW_STARTTLS | CLI_TLSW_IMPLICIT,
                              &px->tls)) {
                usage_error("unknown --tls \"%s\" (auto, starttls, implicit "
                            "or none)", optarg);
                return EX_USAGE;
            }
            break;
        case OPT_CAFILE:
            if (set_once(px, c, &o->cafile, optarg, "--cafile"))
                return EX_USAGE;
            break;
        case OPT_CAPATH:
            if (set_once(px, c, &o->capath, optarg, "--capath"))
                return EX_USAGE;
            break;
        case OPT_PIN:
            if (set_once(px, c, &o->pin_sha256, optarg, "--pin-sha256"))
                return EX_USAGE;
            break;
        case OPT_INSECURE:
            o->insecure_skip_verify = 1;
            break;
        case OPT_TOKEN_FILE:
            take_group(px, TOKEN_OPTS, &o->token_file, &o->token_env,
                       &o->token_cmd);
            if (set_once(px, c, &o->token_file, optarg, "--oauth2-token-file"))
                return EX_USAGE;
            break;
        case OPT_TOKEN_ENV:
            take_group(px, TOKEN_OPTS, &o->token_file, &o->token_env,
                       &o->token_cmd);
            if (set_once(px, c, &o->token_env, optarg, "--oauth2-token-env"))
                return EX_USAGE;
            break;
        case OPT_TOKEN_CMD:
            take_group(px, TOKEN_OPTS, &o->token_file, &o->token_env,
                       &o->token_cmd);
            if (set_once(px, c, &o->token_cmd, optarg, "--oauth2-token-cmd"))
                return EX_USAGE;
            break;
        case OPT_TIMEOUT:
            if (cli_parse_seconds(optarg, &o->timeout_s)) {
                usage_error("invalid --timeout \"%s\" (whole seconds, 1 to "
                            "86400)", optarg);
                return EX_USAGE;
            }
            break;
        case 'v':
            o->verbose++;
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_ALLOW_PLAINTEXT:
            o->session_options |= SMTPC_OPT_ALLOW_PLAINTEXT_AUTH;
            break;
        case OPT_NO_PIPELINING:
            o->session_options |= SMTPC_OPT_NO_PIPELINING;
            break;
        case OPT_NO_CHUNKING:
            o->session_options |= SMTPC_OPT_NO_CHUNKING;
            break;
        case OPT_8BITMIME:
            o->mail_flags |= SMTPC_MAIL_8BITMIME;
            break;
        case OPT_SMTPUTF8:
            o->mail_flags |= SMTPC_MAIL_SMTPUTF8;
            break;
        case 'N': /* sendmail */
        case OPT_DSN_NOTIFY:
            if (parse_notify(optarg, &o->notify)) {
                usage_error("invalid --dsn-notify \"%s\" (never, or a comma "
                            "list of success, failure, delay)", optarg);
                return EX_USAGE;
            }
            break;
        case 'R': /* sendmail */
        case OPT_DSN_RET:
            o->mail_flags &= ~(unsigned)(SMTPC_MAIL_RET_FULL | SMTPC_MAIL_RET_HDRS);
            if (strcasecmp(optarg, "full") == 0) {
                o->mail_flags |= SMTPC_MAIL_RET_FULL;
            } else if (strcasecmp(optarg, "hdrs") == 0) {
                o->mail_flags |= SMTPC_MAIL_RET_HDRS;
            } else {
                usage_error("invalid --dsn-ret \"%s\" (full or hdrs)", optarg);
                return EX_USAGE;
            }
            break;
        case OPT_QUALIFY:
            if (set_once(px, c, &o->qualify_domain, optarg,
                         "--qualify-domain") || check_value(c, optarg))
                return EX_USAGE;
            break;
        case OPT_ENVID:
            if (set_once(px, c, &o->envid, optarg, "--envid") ||
                check_value(c, optarg))
                return EX_USAGE;
            break;
        case OPT_LOG:
            if (set_once(px, c, &o->log_file, optarg, "--log"))
                return EX_USAGE;
            break;
        case OPT_QUEUE:
            if (set_once(px, c, &o->queue_dir, optarg, "--queue"))
                return EX_USAGE;
            break;
        case OPT_NO_QUEUE:
            o->no_queue = 1;
            break;
        case OPT_FLUSH_QUEUE:
            o->flush_queue = 1;
            break;
        case OPT_BATCH:
            if (set_once(px, c, &o->batch_dir, optarg, "--batch"))
                return EX_USAGE;
            break;
        case 't':
            o->read_rcpts = 1;
            break;
        case 'C':
        case OPT_CONFIG:
            if (set_once(px, OPT_CONFIG, &px->config, optarg, "--config"))
                return EX_USAGE;
            break;
        case 'a':
        case OPT_ACCOUNT:
            if (set_once(px, OPT_ACCOUNT, &px->account, optarg, "--account"))
                return EX_USAGE;
            break;
        /* sendmail's options, so that smtpc can be installed as sendmail:
         * -bm (send a message) is all smtpc does; -B 8BITMIME asks for
         * 8BITMIME; the rest change nothing here.  smtpc never ends the
         * message at a "." line (-i, -oi), adds no From: for a full name
         * (-F) and has no queue, aliases or sendmail.cf options to set
         * (-o, -O, -A, -L, -m, -n, -G). */
        case 'b':
            if (strcmp(optarg, "m") != 0) {
                usage_error("-b%s is not supported: smtpc only sends mail "
                            "(-bm)", optarg);
                return EX_USAGE;
            }
            break;
        case 'B':
            if (strcasecmp(optarg, "8BITMIME") == 0) {
                o->mail_flags |= SMTPC_MAIL_8BITMIME;
            } else if (strcasecmp(optarg, "7BIT") != 0) {
                usage_error("invalid -B \"%s\" (7BIT or 8BITMIME)", optarg);
                return EX_USAGE;
            }
            break;
        case 'i': case 'm': case 'n': case 'G':
        case 'o': case 'O': case 'F': case 'A': case 'L':
            break;
        case 'h':
        case OPT_HELP:
            cli_usage(stdout);
            return CLI_PARSE_DONE;
        case 'V':
        case OPT_VERSION:
#if CLI_HAVE_TLS
            printf("smtpc %s (TLS: %s)\n", SMTPC_VERSION, smtpc_tls_backend());
#else
            printf("smtpc %s (TLS: none)\n", SMTPC_VERSION);
#endif
            return CLI_PARSE_DONE;
        case ':':
            usage_error("option %s needs a value", argv[optind - 1]);
            return EX_USAGE;
        default:
            if (optopt > 0 && optopt < 128) {
                /* A short option: inside "-xyz", optind has not moved on. */
                char opt[3] = {'-', (char)optopt, '\0'};
                usage_error("unknown option %s", opt);
            } else {
                usage_error("unknown option %s", argv[optind - 1]);
            }
            return EX_USAGE;
        }
    }
    return CLI_PARSE_OK;
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
}

int cli_parse_args(int argc, char **argv, cli_opts *o)
{
    parse_ctx px = {CLI_TLS_AUTO, NULL, NULL, NULL, 0};
    cli_config *cf = &o->config;
    cli_opts cmdline;
    int rc;

    /* The command line alone first: --help, --version, -C FILE and its own
     * mistakes come before any configuration file. */
    opts_init(&cmdline);
    rc = parse_words(argc, argv, &cmdline, &px);
    opts_init(o);
    o->json = cmdline.json; /* so that an error is reported in JSON too */
    if (rc != CLI_PARSE_OK)
        return rc;

    /* Then the file's defaults, its account's section over them, and the
     * command line again on top: each list replaces what came before. */
    rc = cli_config_load(px.config, px.account, cf);
    if (rc)
        return rc;
    px.tls = CLI_TLS_AUTO;
    px.server = NULL;
    error_file = cf;
    if (cf->account_at > 1) {
        error_base = 0;
        rc = parse_words(cf->account_at, cf->argv, o, &px);
    }
    if (rc == CLI_PARSE_OK && cf->argc > cf->account_at) {
        /* The word before the section stands in for the program name. */
        error_base = cf->account_at - 1;
        rc = parse_words(cf->argc - error_base, cf->argv + error_base, o, &px);
    }
    error_file = NULL;
    if (rc != CLI_PARSE_OK)
        return EX_CONFIG;
    rc = parse_words(argc, argv, o, &px);
    if (rc != CLI_PARSE_OK)
        return rc;
    o->rcpts = argv + optind;
    o->rcpt_count = (size_t)(argc - optind);
    if (qualify_all(o) != 0) {
        fprintf(stderr, "%s: out of memory\n", CLI_NAME);
        return EX_OSERR;
    }

    if (px.server && cli_split_server(px.server, &o->host, &o->port)) {
        usage_error("invalid --server \"%s\" (HOST, HOST:PORT, [IPv6] or "
                    "[IPv6]:PORT)", px.server);
        return EX_USAGE;
    }
    o->tls_auto = px.tls == CLI_TLS_AUTO;
    o->tls = o->tls_auto ? SMTPC_TLS_OPPORTUNISTIC : px.tls;
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
    o->qualified = o->rcpts_buf = NULL;
    o->qualified_count = 0;
    cli_config_free(&o->config);
}
