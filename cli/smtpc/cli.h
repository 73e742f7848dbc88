/*
 * cli/smtpc/cli.h - internal declarations of the smtpc command-line tool.
 *
 * The tool may allocate and print (unlike the library).  What smtpc-bench
 * shares with it is in cli/common.  Each file has one job: options.c holds
 * the option table (cli/common/opt.h) and checks the command line as a
 * whole, config.c turns the configuration file into command-line words for
 * it, secret.c loads and wipes credentials, tls_cache.c keeps the TLS
 * session in the --tls-session-cache file, body_stdin.c streams the message, trace.c prints -v,
 * exitcode.c maps outcomes to sysexits.h codes (the only such table),
 * report.c writes the human messages and json.c the --json object;
 * headers.c parses a message's header section (the envelope of --batch and
 * -t), message.c reads that section from a file, newheaders.c writes the
 * From:, Date: and Message-ID: a message lacks, batch.c runs --batch,
 * aliases.c applies the --aliases file to the recipients, serverinfo.c
 * runs --serverinfo, syslog.c writes the --syslog lines, printconfig.c
 * prints --print-config,
 * log.c appends outcomes to the --log file, and smtpc.c holds main and
 * what both modes share.
 */
#ifndef SMTPC_CLI_H
#define SMTPC_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_common.h"
#include "opt.h"

#define CLI_NAME "smtpc"

/* Bytes read from stdin at a time: memory stays this size whatever the
 * message size. */
#define CLI_BODY_CHUNK (64u * 1024u)

/* The client's I/O buffer: a large send area means large writes. */
#define CLI_IO_BUF (64u * 1024u)

/* RFC 3461 4.4: ENVID is at most 100 characters. */
#define CLI_ENVID_MAX 100u

/* The largest header section --batch and -t read (it is held in memory to
 * find the envelope and drop Bcc; the body is streamed). */
#define CLI_HEADER_MAX (64u * 1024u)

/* ---- config.c ---- */

/* The system-wide configuration file, read when the user has none. */
#ifndef CLI_SYSTEM_CONFIG
#define CLI_SYSTEM_CONFIG "/etc/smtpc.conf"
#endif

/* A configuration file turned into command-line words: first those of
 * the lines before any "account" line (defaults for every account), then,
 * from argv[account_at] on, those of the chosen account's section. */
typedef struct cli_config {
    const char *path;  /* the file read, or NULL: none */
    char *path_buf;    /* allocated when path is the user's default */
    char **argv;       /* argv[0] a program name, then "--name[=value]" */
    int *line;         /* the file's line of each word, for messages */
    int argc;
    int account_at;    /* first word of the account's section (argc: none) */
} cli_config;

/* Finds the file (explicit_path from -C, else $SMTPC_CONFIG, else
 * ~/.config/smtpc/config, else CLI_SYSTEM_CONFIG) and reads it into c,
 * with the section of account (from -a; NULL: the one named "default",
 * if any).  0 (also when there is no file and no account was asked
 * for), or EX_CONFIG / EX_OSERR after printing why.  cli_config_free
 * frees c whatever the result. */
int cli_config_load(const char *explicit_path, const char *account,
                    cli_config *c);
void cli_config_free(cli_config *c);

/* DIR "/" NAME, allocated; NULL when out of memory. */
char *cli_path_join(const char *dir, const char *name);

/* Whether the long option NAME may be set in a configuration file (0), is
 * unknown (-1) or belongs on the command line only (-2); *takes_value (0
 * no, 1 yes, 2 may or may not) and *is_path (a file name, where "~/"
 * means $HOME/) describe it.
 * Defined in options.c, next to the option table. */
int cli_config_option(const char *name, int *takes_value, int *is_path);

/* ---- options.c ---- */

typedef struct cli_opts {
    const char *server;       /* --server as given */
    int tls_arg;              /* --tls as given: CLI_TLS_AUTO or a mode */
    const char *config_path;  /* -C FILE */
    const char *account;      /* -a NAME: the file's section to use */
    char *host;               /* allocated; brackets of an IPv6 literal gone */
    uint16_t port;            /* resolved: never 0 after cli_parse_args */
    int tls;                  /* smtpc_tls_mode after resolution */
    int tls_auto;             /* --tls auto (the default) */
    unsigned auth;            /* smtpc_auth_mech */
    const char *from;
    const char *user;
    const char *ehlo;
    const char *password_env, *password_file;
    const char *password_cmd; /* --password-cmd (msmtp's passwordeval) */
    const char *netrc_file;   /* --netrc-file, else ~/.netrc */
    int no_netrc;             /* --no-netrc: never read a netrc file */
    const char *token_file, *token_env, *token_cmd;
    const char *cafile, *capath, *pin_sha256;
    const char *tls_session_cache; /* --tls-session-cache FILE, else NULL */
    int insecure_skip_verify;
    uint32_t timeout_s;       /* 0: the RFC 5321 defaults */
    int verbose;
    int json;
    unsigned session_options; /* SMTPC_OPT_* */
    unsigned mail_flags;      /* SMTPC_MAIL_* */
    unsigned notify;          /* SMTPC_NOTIFY_* for every recipient */
    const char *envid;
    const char *batch_dir;    /* --batch DIR, else NULL */
    const char *log_file;     /* --log FILE, else NULL */
    int syslog_on;            /* --syslog: each outcome to syslog(3) too */
    int syslog_facility;      /* ... with this LOG_* facility */
    const char *queue_dir;    /* --queue DIR, else NULL */
    int no_queue;             /* --no-queue: send now, never queue */
    int flush_queue;          /* --flush-queue: send the queue again */
    int flush_all;            /* --flush-all: every entry, due or not */
    int list_queue;           /* --list-queue, -bp, or run as mailq */
    uint32_t queue_lifetime;  /* --queue-lifetime, in seconds */
    int read_rcpts;           /* -t: recipients from the message too */
    int serverinfo;           /* --serverinfo: show what the server offers */
    int print_config;         /* --print-config: show the options in effect */
    int all_or_nothing;       /* --all-or-nothing: a refused recipient
                                 stops the whole message */
    const char *qualify_domain; /* for addresses with no @domain */
    const char *aliases_file; /* --aliases FILE, else NULL */
    char *aliases_text;       /* allocated: the file, rcpts may point in */
    char **aliased;           /* allocated: the recipients, aliases applied */
    const char *from_name;    /* -F: the name in an added From: */
    unsigned no_add;          /* CLI_HAS_*: fields never added */
    char **rcpts;             /* into argv, or rcpts_buf once qualified */
    size_t rcpt_count;
    int option_words;         /* argv's words before the recipients
                                 (argv[0] too), as getopt left them */
    char **rcpts_buf;         /* allocated: argv's recipients, qualified */
    char **rcpts_list;        /* allocated: argv's address lists, split */
    char **qualified;         /* allocated: the addresses made here */
    size_t qualified_count;
    /* Composing a message (compose.c) instead of reading one. */
    int compose;              /* set by cli_compose_check */
    const char *subject, *body_file, *html_file; /* and from_name */
    cli_strlist to, cc, bcc, attach, inline_files, header;
    int dry_run;              /* print the composed message, send nothing */
    cli_config config;        /* the file's words: values may point in */
} cli_opts;

/* Results of cli_parse_args besides sysexits codes. */
enum { CLI_PARSE_OK = 0, CLI_PARSE_DONE = -1 /* --help/--version shown */ };

/* Parses and checks the command line, including every value that would
 * reach the wire.  CLI_PARSE_OK, CLI_PARSE_DONE, or EX_USAGE after
 * printing why. */
int cli_parse_args(int argc, char **argv, cli_opts *o);

/* A copy of local with "@" and o->qualify_domain (which must be set)
 * added, freed with o; NULL when out of memory. */
char *cli_qualify(cli_opts *o, const char *local);

void cli_usage(FILE *f);

/* The option table: what is parsed, listed by --help and accepted as a
 * configuration key (opt.h). */
extern const cli_opt cli_smtpc_options[];
void cli_opts_free(cli_opts *o);

/* ---- aliases.c ---- */

/* --aliases: replaces each recipient of o with no "@" by the addresses of
 * its line in the file (or of its "default:" line), before
 * --qualify-domain.  0, or EX_CONFIG / EX_OSERR after printing why. */
int cli_aliases_apply(cli_opts *o);

/* ---- secret.c ---- */

typedef struct cli_secrets {
    char *password;  /* NULL when none; wiped and freed by cli_secrets_wipe */
    char *token;
} cli_secrets;

/* Whether the password comes from the netrc file: --user is given with no
 * other password or token source, and --no-netrc is not.  Defined in
 * options.c. */
int cli_netrc_wanted(const cli_opts *o);

/* Loads the password and the OAuth 2 token the options name.  0, or
 * EX_CONFIG / EX_OSERR after printing why (nothing secret is printed). */
int cli_secrets_load(const cli_opts *o, cli_secrets *s);

/* Overwrites and frees every secret.  Safe to call twice. */
void cli_secrets_wipe(cli_secrets *s);

/* ---- tls_cache.c ---- */

struct smtpc_tls;
struct smtpc_tls_session;

/* --tls-session-cache: the TLS session read from and written back to a
 * private file.  Nothing here ever stops the mail: a refused, missing or
 * damaged file means a full handshake, after a warning for a refused one. */
typedef struct cli_tls_cache {
    const char *path;  /* the option's value; NULL: no cache */
    struct smtpc_tls_session *session; /* allocated; wiped when freed */
    int writable;      /* the file is ours and private, or does not exist */
    int verbose;       /* -v: say whether the handshake resumed */
} cli_tls_cache;

/* Reads path (NULL: no cache) into a new session for the TLS options.
 * The session (empty unless the file held a usable one), or NULL. */
struct smtpc_tls_session *cli_tls_cache_load(cli_tls_cache *c,
                                             const char *path, int verbose);

/* After the connections of a run: writes the session back, atomically,
 * when a handshake happened on tls and the file was not refused. */
void cli_tls_cache_save(cli_tls_cache *c, const struct smtpc_tls *tls);

/* Wipes and frees the session.  Safe to call twice. */
void cli_tls_cache_free(cli_tls_cache *c);

/* ---- body_stdin.c ---- */

typedef struct cli_body {
    int fd;
    int read_errno;        /* errno of a failed read, else 0 */
    int nul_seen;          /* the message held a NUL byte */
    uint64_t bytes;        /* bytes read so far */
    unsigned char *buf;    /* CLI_BODY_CHUNK bytes */
    const unsigned char *head;   /* bytes smtpc adds, sent before prefix */
    size_t head_len;
    const unsigned char *prefix; /* bytes already read from fd, sent first */
    size_t prefix_len;
} cli_body;

/* A body source that streams fd through a fixed buffer.  0 or -1 (no
 * memory). */
int cli_body_init(cli_body *b, int fd, smtpc_body_source *src);
void cli_body_free(cli_body *b);

/* The body source reading b. */
smtpc_body_source cli_body_source(cli_body *b);

/* Starts another message: prefix[0..len) (caller-owned, valid while it is
 * sent), then what is left on fd (nothing when fd < 0).  The buffer is
 * kept. */
void cli_body_reset(cli_body *b, int fd, const void *prefix, size_t len);

/* Bytes (caller-owned, valid while sent) to send before the prefix of
 * cli_body_reset, which must come first. */
void cli_body_head(cli_body *b, const void *head, size_t len);

/* The size of what is left on fd when it is a regular file, else 0. */
uint64_t cli_body_size_hint(int fd);

/* ---- headers.c ---- */

/* What cli_headers_parse looks for and does. */
enum {
    CLI_HDR_SENDER = 1u << 0,    /* the envelope sender: Sender:, From: */
    CLI_HDR_RCPTS = 1u << 1,     /* recipients: To:, Cc:, Bcc: */
    CLI_HDR_STRIP_BCC = 1u << 2  /* remove Bcc: and Resent-Bcc: fields */
};
enum { CLI_HDR_BAD = -1, CLI_HDR_NOMEM = -2 };

/* Fields a message may lack, which smtpc then adds (cli_message_complete);
 * also the bits of cli_opts.no_add. */
enum {
    CLI_HAS_FROM = 1u << 0,
    CLI_HAS_DATE = 1u << 1,
    CLI_HAS_MESSAGE_ID = 1u << 2
};

typedef struct cli_headers {
    const char *qualify; /* the parse's qualify argument */
    char *sender;        /* allocated; NULL when the fields name none */
    char **rcpts;        /* allocated, rcpt_count of them, no duplicates */
    size_t rcpt_count;
    size_t stripped;     /* bytes of Bcc fields removed */
    int resent;          /* the envelope came from Resent- fields */
    unsigned present;    /* CLI_HAS_*: the fields the section has */
    char error[200];     /* why parsing failed (may quote the message:
                            print it escaped) */
} cli_headers;

/* Where the header section of b[0..len) ends: 1 and *pos = its length
 * (through the empty line that ends it; or up to the first line that is
 * no header field, which is then the body's first), or 0 when more bytes
 * are needed (*pos = where to resume).  *pos MUST be 0 on the first call.
 * at_eof: no more bytes will come. */
int cli_headers_end(const unsigned char *b, size_t len, int at_eof,
                    size_t *pos);

/* Parses the header section b[0..*len) as RFC 5322 says (see headers.c
 * for the rules): 0, CLI_HDR_BAD (h->error says why) or CLI_HDR_NOMEM.
 * With CLI_HDR_STRIP_BCC the section is rewritten in place and *len
 * shrinks.  qualify: NULL, or the domain that a bare local part ("root")
 * gets (--qualify-domain).  h is filled on success; free it with
 * cli_headers_free. */
int cli_headers_parse(unsigned char *b, size_t *len, unsigned flags,
                      const char *qualify, cli_headers *h);
void cli_headers_free(cli_headers *h);

/* Parses s as an RFC 5322 address list, as in a To: field ("a@x.example,
 * Name <b@y.example>, \"Doe, J\" <j@z.example>, group: c@w.example;"),
 * and appends its mailboxes (allocated; each checked with
 * smtpc_check_address; a bare local part gets "@" qualify when qualify is
 * not NULL) to *v, *n of them, skipping those already there.  0,
 * CLI_HDR_BAD (h->error says why; h is otherwise empty) or CLI_HDR_NOMEM.
 * The caller frees *v's strings and *v. */
int cli_address_list(const char *s, const char *qualify, char ***v,
                     size_t *n, cli_headers *h);

/* The same mailbox: local parts compared exactly (RFC 5321 2.4), domains
 * without regard to case. */
int cli_same_address(const char *a, const char *b);

/* ---- message.c ---- */

/* A message whose header section has been read and parsed. */
typedef struct cli_message {
    unsigned char *buf;  /* CLI_HEADER_MAX bytes: the header section (Bcc
                            removed), then the first bytes of the body */
    size_t len;          /* bytes in buf */
    size_t head_len;     /* bytes of buf that are the header section */
    int eof;             /* nothing more on the fd */
    const char *qualify; /* --qualify-domain, for hdr */
    cli_headers hdr;
    char *added;         /* allocated: fields smtpc adds (cli_message_complete),
                            sent before buf; NULL when none */
    size_t added_len;
} cli_message;

int cli_message_init(cli_message *m);   /* 0 or -1 (no memory) */
void cli_message_free(cli_message *m);

/* Reads fd up to the end of the header section and parses it with flags
 * (CLI_HDR_*).  0, or EX_DATAERR (malformed, larger than CLI_HEADER_MAX),
 * EX_IOERR (read failed) or EX_OSERR, with m->hdr.error saying why. */
int cli_message_read(cli_message *m, int fd, unsigned flags);

/* Whether the rest of the message holds a NUL byte: the bytes in m->buf
 * and what is left in the regular file fd, read with pread so that the
 * offset stays.  1 yes, 0 no, -1 read error (errno set).  *wire_size (may
 * be NULL) is the size of the message as it goes on the wire, RFC 1870's
 * SIZE: m->added, m->buf and the rest of fd with every line end made CRLF
 * and the final CRLF the engine adds, dot-stuffing excluded; 0 when fd
 * (not at its end) is no regular file, so the size is unknown. */
int cli_message_has_nul(const cli_message *m, int fd, unsigned char *scratch,
                        size_t scratch_len, uint64_t *wire_size);

/* ---- newheaders.c ---- */

/* Makes m->added: the From: (from the envelope sender from, unless it is
 * NULL or ""), Date: and Message-ID: fields m's header section lacks, less
 * those opts->no_add turns off.  0, or -1 when out of memory. */
int cli_message_complete(cli_message *m, const cli_opts *opts,
                         const char *from);

/* ---- trace.c ---- */

typedef struct cli_trace {
    FILE *out;
    int last_dir;        /* direction of the unfinished line, or -1 */
    unsigned char utf8[4]; /* a UTF-8 sequence begun in an earlier piece */
    size_t utf8_len;
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
    const char *file;          /* --batch: the message file; lines start
                                  "smtpc: FILE: " and success is reported */
    unsigned connection;       /* --batch: which connection (1, 2..), 0 none */
    unsigned attempts;         /* --batch: 2 when sent again after a lost
                                  connection */
    const char *note;          /* appended to the failure line, "(note)" */
    int no_warnings;           /* do not list refused recipients */
    int status;                /* smtpc_status of the run */
    int exit_code;
    const smtpc_result *res;   /* NULL when the run never started */
    const smtpc_envelope *env; /* NULL likewise */
    const char *error;         /* what failed, when no smtpc_status says it */
    const char *detail;        /* extra reason (errno text, TLS error) */
    const char *tls_info;      /* "" when no TLS */
    const char *auth_mech;     /* NULL when no AUTH happened */
    int tls_resumed;           /* the TLS handshake resumed a session */
    const smtpc_caps *caps;    /* the server's, from EHLO; NULL: unknown */
    const char *queued;        /* --queue: the entry's ID once queued */
    const char *queue_id;      /* --flush-queue: the entry sent again; its
                                  lines start "smtpc: queue ID: " and
                                  success is reported */
} cli_outcome;



/* Writes "smtpc: <what>: <why>" lines on stderr: one warning per refused
 * recipient, and the failure when there is one. */
void cli_report_human(const cli_outcome *oc, FILE *err);

/* Nonzero for statuses that a server reply brings about (so that reply
 * explains the failure; after a timeout the last reply is an old one). */
int cli_reply_caused(int status);

/* The reply that explains an outcome: the final one on success, the
 * failing one when a reply failed the mail, else NULL (an older reply
 * would mislead). */
const smtpc_reply *cli_outcome_reply(const cli_outcome *oc);

/* "smtpc: [FILE: ]" */
void cli_report_prefix(const char *file, FILE *err);

/* ---- json.c ---- */

/* Writes the one --json object (and a newline); with oc->file, one
 * message's object of --batch. */
void cli_report_json(const cli_outcome *oc, FILE *out);

/* The last --batch line: counts and the exit status. */
void cli_report_json_summary(FILE *out, int exit_code, size_t messages,
                             size_t sent, size_t failed, size_t not_sent,
                             unsigned connections);

/* ---- queue.c ---- */

/* Creates DIR/tmp/ID (DIR and its subdirectories too when missing), keeps
 * argv[1..] and standard input there, and puts that copy on standard input.
 * 0 and *entry (allocated); 0 and *entry NULL when the queue cannot be
 * used before anything was read (said on stderr: the run goes on without
 * it); or EX_TEMPFAIL when copying the message failed half-way. */
int cli_queue_spool(const char *qdir, int argc, char **argv, char **entry);

/* How long a message may stay queued (Postfix's maximal_queue_lifetime),
 * and the delay before the next try: CLI_QUEUE_BACKOFF_MIN after the
 * first failure, doubled after each other, at most CLI_QUEUE_BACKOFF_MAX
 * (Postfix's minimal and maximal_backoff_time). */
#define CLI_QUEUE_LIFETIME (5u * 24u * 3600u)
#define CLI_QUEUE_BACKOFF_MIN 300
#define CLI_QUEUE_BACKOFF_MAX 4000

/* Records the envelope and why (the failure, one line) in the entry, syncs
 * it and moves it to DIR/new, due again after CLI_QUEUE_BACKOFF_MIN, and
 * says so on stderr: 0 (it is on disk), or EX_TEMPFAIL. */
int cli_queue_commit(const char *qdir, const char *entry,
                     const smtpc_envelope *env, const char *why);

/* Removes an entry (this run's outcome is final). */
void cli_queue_discard(const char *entry);

/* smtpc --flush-queue: runs smtpc again for each entry of o->queue_dir/new
 * that is due (every one with o->flush_all), oldest first; removes the
 * sent; moves those refused for good, and those older than
 * o->queue_lifetime that fail again, to DIR/failed and queues a bounce to
 * their sender; gives the others their next time.  EX_OK; EX_UNAVAILABLE
 * when one was moved to DIR/failed; EX_TEMPFAIL when one tried is still
 * queued; or EX_TEMPFAIL when DIR/new cannot be read.  Each message given
 * up on is logged on log_fd (-1: none). */
int cli_queue_flush(const cli_opts *o, int log_fd);

/* In the smtpc that a flush runs, the entries (DIR/new/ID) it may send, k
 * = 0, 1, ...: the first's message is on standard input, and the words it
 * was started with are the first's.  NULL past the last, and outside a
 * flush. */
const char *cli_queue_entry(size_t k);

/* The message of an entry (cli_queue_entry), opened for reading; or -1. */
int cli_queue_message_open(const char *entry);

/* The words an entry (cli_queue_entry) was queued with, as argv: *argv
 * (to free, with *blob) has "smtpc" and "--no-queue" first, then the
 * words, then NULL; *argc counts them; *cwd (in *blob) is the directory
 * it was queued from.  0, or -1 when it cannot be read. */
int cli_queue_entry_words(const char *entry, char **blob, char **cwd,
                          char ***argv, int *argc);

/* In the smtpc that a flush runs: tells it the outcome of its entry
 * number index (the exit code a run for it alone would have had, and the
 * reason the entry keeps).  Nothing outside a flush. */
void cli_queue_result(size_t index, int exit_code, const char *why);

/* In the smtpc that a flush runs, once the server took the message of
 * entry (cli_queue_entry): moves the entry out of DIR/new, so that a
 * flush killed before it learns the outcome does not send it again. */
void cli_queue_retire(const char *entry);

/* smtpc --list-queue: each entry of DIR/new and DIR/failed, its envelope,
 * age, tries, last error and next try, on out.  EX_OK or EX_IOERR. */
int cli_queue_list(const char *qdir, FILE *out);

/* Adds line (one line of smtpc's report on stderr) to why, the one-line
 * reason an entry keeps: "smtpc: " removed, lines joined with "; ", the
 * oldest dropped when why is full. */
void cli_queue_why_add(char *why, size_t len, const char *line);

/* A test hook: kills the process at the point name when the environment
 * asks for it (queue.c says how). */
void cli_crash_point(const char *name);

/* ---- log.c ---- */

/* Opens (creating, mode 0600) the --log file for appending: 0, or
 * EX_CANTCREAT after printing why. */
int cli_log_open(const char *path, int *fd);

/* Append one line: the --json object of oc, or the --batch summary, with
 * "time" and "pid" first.  Nothing when fd is -1; a failure to write is
 * only warned about (the mail's fate does not change). */
void cli_log_outcome(int fd, const cli_outcome *oc);
/* Appends the one JSON object (and newline) that write_object(out, arg)
 * prints, with "time" and "pid" put first.  Nothing when fd is -1. */
void cli_log_object(int fd, void (*write_object)(FILE *, const void *),
                    const void *arg);

void cli_log_summary(int fd, int exit_code, size_t messages, size_t sent,
                     size_t failed, size_t not_sent, unsigned connections);

/* ---- syslog.c ---- */

/* --syslog's value: NULL or "on" (LOG_MAIL), "off", or a facility
 * ("LOG_MAIL", "mail", "local0", ...).  0, or -1 when unknown. */
int cli_syslog_parse(const char *v, int *on, int *facility);

/* One line for oc (as --json says it, no secrets) to syslog(3), when
 * o->syslog_on. */
void cli_syslog_outcome(const cli_opts *o, const cli_outcome *oc);

/* ---- smtpc.c: what the single message and --batch share ---- */

/* Everything one run owns, so that one exit path frees and wipes it. */
typedef struct cli_run {
    cli_opts opts;
    cli_secrets secrets;
    cli_body body;
    cli_message msg;           /* -t and --batch */
    cli_trace trace;
    smtpc_tcp tcp;
#if CLI_HAVE_TLS
    struct smtpc_tls *tls;
#endif
    cli_tls_cache tls_cache;   /* --tls-session-cache */
    smtpc_rcpt *rcpts;
    unsigned char *io;
    smtpc_client *client;
    smtpc_client_config ccfg;
    smtpc_transport transport;
    int log_fd;                /* the --log file, or -1 */
    char *queue_entry;         /* --queue: DIR/tmp/ID while this run sends */
    struct cli_compose *compose; /* composing mode's message (compose.c) */
} cli_run;

/* Reports an outcome on the machine-readable channels: the --json object
 * on stdout, and the --log line. */
void cli_report_outcome(const cli_run *r, const cli_outcome *oc);

/* Fills the session's part of an outcome after status: the reason no
 * reply gives (into buf), TLS and AUTH used. */
void cli_outcome_session(cli_outcome *oc, const cli_run *r, int status,
                         char *buf, size_t len);

/* ---- printconfig.c ---- */

/* smtpc --print-config: writes the options in effect (file, account and
 * command line together) to f in the configuration file's syntax, with
 * commands that may hold a secret hidden.  EX_OK or EX_IOERR. */
int cli_print_config(const cli_opts *o, FILE *f);

/* ---- serverinfo.c ---- */

/* smtpc --serverinfo: connects with r->ccfg over r->transport (ready),
 * prints what the server offers on stdout, QUITs; the exit status. */
int cli_serverinfo_run(cli_run *r);

/* ---- compose.c ---- */

/* The largest --body-file, --html-file or text on standard input: bodies
 * are held in memory (so their encoding and the SIZE= are exact); files
 * given with --attach and --inline are streamed, whatever their size. */
#define CLI_COMPOSE_BODY_MAX (16u * 1024u * 1024u)

/* Decides whether the options compose a message (o->compose) and checks
 * the composing options together.  CLI_PARSE_OK or EX_USAGE after
 * printing why. */
int cli_compose_check(cli_opts *o);

/* Composing mode: reads the bodies, opens the files, and fills env (the
 * recipients, Bcc included) and r->compose.  0, or an exit code after
 * printing why (66 for a file that cannot be read). */
int cli_compose_prepare(cli_run *r, smtpc_envelope *env);

/* --dry-run: writes the composed message on stdout.  An exit code. */
int cli_compose_print(cli_run *r);

/* Connects, composes for what the server offers and sends: a status, as
 * smtpc_client_sendmail returns, with res filled the same way. */
int cli_compose_send(cli_run *r, smtpc_envelope *env, smtpc_result *res);

void cli_compose_free(cli_run *r);

/* ---- batch.c ---- */

/* smtpc --batch: sends every message file of opts.batch_dir over one
 * connection (r->ccfg and r->transport are ready), reports each, and
 * returns the exit status. */
int cli_batch_run(cli_run *r);

/* Copies env's sender and recipients' addresses into one allocation
 * (*store, the caller's to free) and points env at it: the envelope then
 * outlives the message's header section.  0, or -1 when out of memory. */
int cli_envelope_own(smtpc_envelope *env, char **store);

#endif /* SMTPC_CLI_H */
