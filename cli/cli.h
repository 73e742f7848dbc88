/*
 * cli/cli.h - internal declarations of the smtpc command-line tool.
 *
 * The tool may allocate and print (unlike the library).  Each file has one
 * job: options.c parses the command line, secret.c loads and wipes
 * credentials, body_stdin.c streams the message, trace.c prints -v,
 * exitcode.c maps outcomes to sysexits.h codes (the only such table),
 * report.c writes the human messages and json.c the --json object.
 */
#ifndef SMTPC_CLI_H
#define SMTPC_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "smtpc/smtpc.h"

#define CLI_NAME "smtpc"

/* A TLS backend is linked (the build defines SMTPC_HAVE_<BACKEND>) and the
 * engine was built with TLS. */
#if SMTPC_WITH_TLS && (defined(SMTPC_HAVE_OPENSSL) || defined(SMTPC_HAVE_MBEDTLS))
#define CLI_HAVE_TLS 1
#else
#define CLI_HAVE_TLS 0
#endif

/* Bytes read from stdin at a time: memory stays this size whatever the
 * message size. */
#define CLI_BODY_CHUNK (64u * 1024u)

/* The client's I/O buffer: a large send area means large writes. */
#define CLI_IO_BUF (64u * 1024u)

/* Longest accepted --timeout, so that milliseconds fit in 32 bits. */
#define CLI_TIMEOUT_MAX_S 86400u

/* RFC 3461 4.4: ENVID is at most 100 characters. */
#define CLI_ENVID_MAX 100u

/* ---- options.c ---- */

/* What --tls asked for; auto is resolved once the port is known. */
enum { CLI_TLS_AUTO = -1 };

typedef struct cli_opts {
    char *host;               /* allocated; brackets of an IPv6 literal gone */
    uint16_t port;            /* resolved: never 0 after cli_parse_args */
    int tls;                  /* smtpc_tls_mode after resolution */
    int tls_auto;             /* --tls auto (the default) */
    unsigned auth;            /* smtpc_auth_mech */
    const char *from;
    const char *user;
    const char *ehlo;
    const char *password_env, *password_file;
    const char *token_file, *token_env, *token_cmd;
    const char *cafile, *capath, *pin_sha256;
    int insecure_skip_verify;
    uint32_t timeout_s;       /* 0: the RFC 5321 defaults */
    int verbose;
    int json;
    unsigned session_options; /* SMTPC_OPT_* */
    unsigned mail_flags;      /* SMTPC_MAIL_* */
    unsigned notify;          /* SMTPC_NOTIFY_* for every recipient */
    const char *envid;
    char **rcpts;             /* points into argv */
    size_t rcpt_count;
} cli_opts;

/* Results of cli_parse_args besides sysexits codes. */
enum { CLI_PARSE_OK = 0, CLI_PARSE_DONE = -1 /* --help/--version shown */ };

/* Parses and checks the command line, including every value that would
 * reach the wire.  CLI_PARSE_OK, CLI_PARSE_DONE, or EX_USAGE after
 * printing why. */
int cli_parse_args(int argc, char **argv, cli_opts *o);

/* Splits HOST, HOST:PORT, [V6], [V6]:PORT or a bare IPv6 literal.  *host
 * is allocated; *port is 0 when none was given.  0 or -1 (bad syntax). */
int cli_split_server(const char *arg, char **host, uint16_t *port);

void cli_usage(FILE *f);
void cli_opts_free(cli_opts *o);

/* ---- secret.c ---- */

typedef struct cli_secrets {
    char *password;  /* NULL when none; wiped and freed by cli_secrets_wipe */
    char *token;
} cli_secrets;

/* Loads the password and the OAuth 2 token the options name.  0, or
 * EX_CONFIG / EX_OSERR after printing why (nothing secret is printed). */
int cli_secrets_load(const cli_opts *o, cli_secrets *s);

/* Overwrites and frees every secret.  Safe to call twice. */
void cli_secrets_wipe(cli_secrets *s);

/* Overwrites n bytes in a way the compiler cannot drop. */
void cli_wipe(void *p, size_t n);

/* ---- body_stdin.c ---- */

typedef struct cli_body {
    int fd;
    int read_errno;        /* errno of a failed read, else 0 */
    int nul_seen;          /* the message held a NUL byte */
    uint64_t bytes;        /* bytes read so far */
    unsigned char *buf;    /* CLI_BODY_CHUNK bytes */
} cli_body;

/* A body source that streams fd through a fixed buffer.  0 or -1 (no
 * memory). */
int cli_body_init(cli_body *b, int fd, smtpc_body_source *src);
void cli_body_free(cli_body *b);

/* The size of what is left on fd when it is a regular file, else 0. */
uint64_t cli_body_size_hint(int fd);

/* ---- trace.c ---- */

typedef struct cli_trace {
    FILE *out;
    int last_dir;        /* direction of the unfinished line, or -1 */
} cli_trace;

void cli_trace_init(cli_trace *t, FILE *out);
/* An smtpc_trace_fn. */
void cli_trace_fn(void *ctx, int direction, const char *data, size_t len);
/* Ends an unfinished line. */
void cli_trace_finish(cli_trace *t);

/* ---- exitcode.c ---- */

/* The sysexits.h code for a mail's outcome (status and, for some, the
 * recipients' replies).  body may be NULL. */
int cli_exit_code(int status, const smtpc_envelope *env,
                  const cli_body *body);

/* The word --json prints as "status" for an exit code: "ok", "usage",
 * "rejected", ... ("partial" is decided by the caller). */
const char *cli_exit_word(int exit_code);

/* ---- report.c ---- */

/* Everything known after a run, for messages and --json. */
typedef struct cli_outcome {
    const cli_opts *opts;
    int status;                /* smtpc_status of the run */
    int exit_code;
    const smtpc_result *res;   /* NULL when the run never started */
    const smtpc_envelope *env; /* NULL likewise */
    const char *error;         /* what failed, when no smtpc_status says it */
    const char *detail;        /* extra reason (errno text, TLS error) */
    const char *tls_info;      /* "" when no TLS */
    const char *auth_mech;     /* NULL when no AUTH happened */
} cli_outcome;

/* Writes "smtpc: <what>: <why>" lines on stderr: one warning per refused
 * recipient, and the failure when there is one. */
void cli_report_human(const cli_outcome *oc, FILE *err);

/* Nonzero for statuses that a server reply brings about (so that reply
 * explains the failure; after a timeout the last reply is an old one). */
int cli_reply_caused(int status);

/* Writes s with bytes outside printable ASCII as \xNN. */
void cli_put_escaped(FILE *f, const char *s);

/* ---- json.c ---- */

/* Writes the one --json object (and a newline). */
void cli_report_json(const cli_outcome *oc, FILE *out);

/* Writes s as a JSON string, quotes included; NULL as null.  Invalid
 * UTF-8 and control bytes are escaped. */
void cli_json_string(FILE *out, const char *s);

#endif /* SMTPC_CLI_H */
