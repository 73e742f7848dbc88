/*
 * cli/smtpc/smtpc.c - smtpc: send the message on stdin to the recipients named
 * on the command line, sendmail/msmtp style.
 *
 *   smtpc --server HOST[:PORT] --from ADDR [OPTION]... RECIPIENT... <msg
 *   smtpc --server HOST[:PORT] -t [OPTION]... [RECIPIENT]... <msg
 *   smtpc --server HOST[:PORT] --batch DIR [OPTION]... [RECIPIENT]...
 *
 * The order matters for safety: every argument is checked and every
 * secret loaded before a connection is opened, so a mistake sends nothing.
 * With -t the message's header section is read and checked first too.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

#if CLI_HAVE_TLS
#include "smtpc/tls.h"
#endif

static void run_free(cli_run *r)
{
    if (r->client) {
        /* The session struct and I/O buffer held AUTH payloads. */
        smtpc_wipe(r->client, sizeof *r->client);
        free(r->client);
    }
    if (r->io) {
        smtpc_wipe(r->io, CLI_IO_BUF);
        free(r->io);
    }
#if CLI_HAVE_TLS
    cli_tls_cache_save(&r->tls_cache, r->tls);
    smtpc_tls_free(r->tls);
    r->tls = NULL;
#endif
    cli_tls_cache_free(&r->tls_cache);
    free(r->rcpts);
    cli_message_free(&r->msg);
    cli_compose_free(r);
    cli_body_free(&r->body);
    cli_secrets_wipe(&r->secrets);
    cli_opts_free(&r->opts);
    if (r->log_fd >= 0)
        close(r->log_fd);
    r->log_fd = -1;
    /* Still in tmp/: this run's outcome was final (or it never sent). */
    cli_queue_discard(r->queue_entry);
    free(r->queue_entry);
    r->queue_entry = NULL;
}

void cli_report_outcome(const cli_run *r, const cli_outcome *oc)
{
    if (r->opts.json)
        cli_report_json(oc, stdout);
    cli_log_outcome(r->log_fd, oc);
    cli_syslog_outcome(&r->opts, oc);
}

/* Reports a failure before a session started on the machine-readable
 * channels (--json, --log: the human message is already out). */
static int early_exit(cli_run *r, int exit_code, const char *what)
{
    cli_outcome oc = {0};

    oc.opts = &r->opts;
    oc.status = SMTPC_ERR_ARG;
    oc.exit_code = exit_code;
    oc.error = what;
    cli_report_outcome(r, &oc);
    run_free(r);
    return exit_code;
}

/* The transport: TCP, wrapped in TLS unless --tls none. */
static int make_transport(cli_run *r, smtpc_transport *out)
{
    smtpc_transport tcp = smtpc_tcp_transport(&r->tcp);

    if (r->opts.tls == SMTPC_TLS_NONE) {
        *out = tcp;
        return 0;
    }
#if CLI_HAVE_TLS
    {
        smtpc_tls_options topt;
        int st;

        /* Say which file is wrong before the TLS library says less. */
        if (r->opts.cafile && access(r->opts.cafile, R_OK) != 0) {
            fprintf(stderr, "%s: cannot read --cafile \"", CLI_NAME);
            cli_put_escaped(stderr, r->opts.cafile);
            fprintf(stderr, "\": %s\n", strerror(errno));
            return EX_CONFIG;
        }
        if (r->opts.capath) {
            struct stat sb;
            if (stat(r->opts.capath, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
                fprintf(stderr, "%s: --capath \"", CLI_NAME);
                cli_put_escaped(stderr, r->opts.capath);
                fprintf(stderr, "\" is not a directory\n");
                return EX_CONFIG;
            }
        }

        memset(&topt, 0, sizeof topt);
        topt.cafile = r->opts.cafile;
        topt.capath = r->opts.capath;
        topt.pin_sha256 = r->opts.pin_sha256;
        topt.insecure_skip_verify = r->opts.insecure_skip_verify;
        topt.session = cli_tls_cache_load(&r->tls_cache,
                                          r->opts.tls_session_cache,
                                          r->opts.verbose);
        st = smtpc_tls_new(&r->tls, tcp, &topt);
        if (st == SMTPC_ERR_ARG) {
            fprintf(stderr, "%s: invalid --pin-sha256 (base64 of a 32-byte "
                    "SHA-256 digest)\n", CLI_NAME);
            return EX_USAGE;
        }
        if (st != SMTPC_OK) {
            /* Name the files: "not PEM" means nothing without them. */
            fprintf(stderr, "%s: cannot set up TLS", CLI_NAME);
            if (r->opts.cafile) {
                fputs(" with --cafile \"", stderr);
                cli_put_escaped(stderr, r->opts.cafile);
                fputc('"', stderr);
            }
            if (r->opts.capath) {
                fputs(r->opts.cafile ? " and" : " with", stderr);
                fputs(" --capath \"", stderr);
                cli_put_escaped(stderr, r->opts.capath);
                fputc('"', stderr);
            }
            if (r->tls && *smtpc_tls_error(r->tls)) {
                fputs(": ", stderr);
                cli_put_escaped(stderr, smtpc_tls_error(r->tls));
            } else if (r->opts.cafile && !r->opts.capath) {
                fputs(": no PEM certificate could be loaded from it", stderr);
            }
            fputc('\n', stderr);
            return EX_CONFIG;
        }
        *out = smtpc_tls_transport(r->tls);
        return 0;
    }
#else
    if (r->opts.tls == SMTPC_TLS_OPPORTUNISTIC) {
        /* Nothing to negotiate with: plain TCP, and the engine still
         * refuses credentials in clear. */
        r->opts.tls = SMTPC_TLS_NONE;
        *out = tcp;
        return 0;
    }
    fprintf(stderr, "%s: this smtpc was built without TLS support\n",
            CLI_NAME);
    return EX_CONFIG;
#endif
}

/* "the server offers PLAIN LOGIN", from the last EHLO. */
static const char *offered_auth(const cli_run *r, char *buf, size_t len)
{
    static const unsigned mechs[] = {SMTPC_AUTH_OAUTHBEARER, SMTPC_AUTH_XOAUTH2,
                                     SMTPC_AUTH_CRAM_MD5, SMTPC_AUTH_PLAIN,
                                     SMTPC_AUTH_LOGIN};
    const smtpc_caps *caps = smtpc_session_caps(smtpc_client_session(r->client));
    size_t o;

    if (!caps || !(caps->flags & SMTPC_CAP_AUTH) || !caps->auth) {
        snprintf(buf, len, "the server offers no AUTH mechanism");
        return buf;
    }
    o = (size_t)snprintf(buf, len, "the server offers");
    for (size_t i = 0; i < sizeof mechs / sizeof mechs[0] && o < len; i++) {
        if (caps->auth & mechs[i])
            o += (size_t)snprintf(buf + o, len - o, " %s",
                                  smtpc_auth_mech_str((int)mechs[i]));
    }
    return buf;
}

/* The reason behind a failure that no server reply explains. */
static const char *failure_detail(const cli_run *r, int status, char *buf,
                                  size_t len)
{
    switch (status) {
    case SMTPC_ERR_AUTH_UNAVAILABLE:
        return offered_auth(r, buf, len);
    case SMTPC_ERR_RESOLVE:
    case SMTPC_ERR_RESOLVE_AGAIN:
        return r->tcp.last_gai ? gai_strerror(r->tcp.last_gai) : NULL;
    case SMTPC_ERR_CONNECT:
    case SMTPC_ERR_IO:
        return r->tcp.last_errno ? strerror(r->tcp.last_errno) : NULL;
    case SMTPC_ERR_BODY_SOURCE:
        return r->body.read_errno ? strerror(r->body.read_errno) : NULL;
#if CLI_HAVE_TLS
    case SMTPC_ERR_TLS:
    case SMTPC_ERR_TLS_CERT:
        return r->tls ? smtpc_tls_error(r->tls) : NULL;
#endif
    default:
        return NULL;
    }
}

void cli_outcome_session(cli_outcome *oc, const cli_run *r, int status,
                         char *buf, size_t len)
{
    int mech = smtpc_session_auth_mech(smtpc_client_session(r->client));

    oc->detail = failure_detail(r, status, buf, len);
#if CLI_HAVE_TLS
    oc->tls_info = r->tls ? smtpc_tls_info(r->tls) : "";
    oc->tls_resumed = r->tls && *oc->tls_info && smtpc_tls_session_reused(r->tls);
#else
    oc->tls_info = "";
#endif
    oc->auth_mech = mech != SMTPC_AUTH_NONE ? smtpc_auth_mech_str(mech) : NULL;
    oc->caps = smtpc_session_caps(smtpc_client_session(r->client));
}

/* --all-or-nothing: the body source, in front of the message's.  The
 * engine asks for the first body bytes only after the reply to DATA,
 * which comes after every RCPT reply (CHUNKING, which could start a chunk
 * earlier, is off), so every recipient's outcome is known then; failing
 * there abandons the transfer before its end, and the server discards the
 * message for everyone. */
typedef struct all_or_nothing {
    smtpc_body_source inner;
    const smtpc_envelope *env;
    int started;
    int refused;           /* a recipient was refused: nothing was sent */
} all_or_nothing;

static int all_or_nothing_next(void *ctx, const void **data, size_t *len)
{
    all_or_nothing *a = ctx;

    if (!a->started) {
        a->started = 1;
        for (size_t i = 0; i < a->env->rcpt_count; i++) {
            if (a->env->rcpts[i].status != SMTPC_OK)
                a->refused = 1;
        }
        if (a->refused)
            return SMTPC_ERR_BODY_SOURCE;
    }
    return a->inner.next(a->inner.ctx, data, len);
}

/* The outcome of a message abandoned by --all-or-nothing: a temporary
 * failure (so a queue keeps it) when a refusal was one, else refused. */
static void all_or_nothing_outcome(cli_outcome *oc, const smtpc_envelope *env)
{
    oc->exit_code = EX_UNAVAILABLE;
    for (size_t i = 0; i < env->rcpt_count; i++) {
        const smtpc_rcpt *rc = &env->rcpts[i];
        if (rc->status != SMTPC_OK && rc->code >= 400 && rc->code < 500)
            oc->exit_code = EX_TEMPFAIL;
    }
    oc->error = "not sent to anyone: a recipient was refused "
                "(--all-or-nothing)";
    oc->detail = NULL;
    oc->res = NULL; /* the failure is ours, not a reply's */
}

/* The client's configuration from the options (the secrets loaded). */
static void set_config(cli_run *r)
{
    smtpc_client_config *ccfg = &r->ccfg;

    memset(ccfg, 0, sizeof *ccfg);
    ccfg->host = r->opts.host;
    ccfg->port = r->opts.port;
    ccfg->session.ehlo_name = r->opts.ehlo;
    ccfg->session.tls = (unsigned)r->opts.tls;
    ccfg->session.auth = r->opts.auth;
    if (r->opts.auth != SMTPC_AUTH_NONE) {
        ccfg->session.username = r->opts.user;
        ccfg->session.password = r->secrets.password;
        ccfg->session.token = r->secrets.token;
    }
    ccfg->session.host = r->opts.host;
    ccfg->session.port = r->opts.port;
    ccfg->session.options = r->opts.session_options;
    if (r->opts.all_or_nothing)
        ccfg->session.options |= SMTPC_OPT_NO_CHUNKING;
#if CLI_HAVE_TLS
    /* --tls-session-cache holds a session of this server: its STARTTLS
     * worked before, so STARTTLS goes before EHLO (one round trip less;
     * a refusal falls back to EHLO, STARTTLS still required).
     * --serverinfo shows the server as any client first meets it. */
    if (r->tls && r->opts.tls == SMTPC_TLS_STARTTLS && !r->opts.serverinfo &&
        smtpc_tls_session_fits(r->tls, r->opts.host))
        ccfg->session.options |= SMTPC_OPT_STARTTLS_FIRST;
#endif
    if (r->opts.timeout_s)
        smtpc_timeouts_default(&ccfg->timeouts, r->opts.timeout_s * 1000u);
    if (r->opts.verbose) {
        cli_trace_init(&r->trace, stderr);
        ccfg->trace = cli_trace_fn;
        ccfg->trace_ctx = &r->trace;
    }
}

/* Whether the header section of the message on stdin is read before
 * connecting: for the envelope (-t, no --from), or to add the From:,
 * Date: and Message-ID: it may lack. */
static int reads_header(const cli_opts *o)
{
    return o->read_rcpts || !o->from ||
           (o->no_add & (CLI_HAS_FROM | CLI_HAS_DATE | CLI_HAS_MESSAGE_ID)) !=
               (CLI_HAS_FROM | CLI_HAS_DATE | CLI_HAS_MESSAGE_ID);
}

/* What the envelope takes from the message on fd, whose header section
 * is read now (before connecting): with -t the recipients (the command
 * line's are added), and without --from the sender (as git send-email
 * and other callers expect, when they name recipients but no -f); and the
 * fields smtpc adds.  0, or an exit code after printing why. */
static int read_envelope(cli_run *r, smtpc_envelope *env, int fd,
                         const char **why)
{
    cli_headers *h = &r->msg.hdr;
    unsigned flags = 0;
    size_t n = 0;
    int rc;

    if (r->opts.read_rcpts)
        flags |= CLI_HDR_RCPTS | CLI_HDR_STRIP_BCC;
    if (!r->opts.from)
        flags |= CLI_HDR_SENDER;
    rc = cli_message_read(&r->msg, fd, flags);
    if (rc) {
        *why = h->error;
        fprintf(stderr, "%s: ", CLI_NAME);
        cli_put_escaped(stderr, h->error);
        fputc('\n', stderr);
        return rc;
    }
    env->from = r->opts.from ? r->opts.from : h->sender;
    if (!env->from && r->opts.qualify_domain) {
        /* No sender anywhere (mailx writes no From:): the user who runs
         * us, as sendmail does, made a mailbox with --qualify-domain. */
        const struct passwd *pw = getpwuid(getuid());
        if (pw && pw->pw_name && pw->pw_name[0]) {
            env->from = cli_qualify(&r->opts, pw->pw_name);
            if (env->from && smtpc_check_address(env->from, 0) != SMTPC_OK)
                env->from = NULL;
        }
    }
    if (!env->from) {
        *why = "no sender: the message has no From: or Sender: mailbox "
               "(give --from)";
        fprintf(stderr, "%s: %s\n", CLI_NAME, *why);
        return EX_DATAERR;
    }
    r->rcpts = calloc(h->rcpt_count + r->opts.rcpt_count + 1,
                      sizeof *r->rcpts);
    if (!r->rcpts) {
        *why = "out of memory";
        fprintf(stderr, "%s: out of memory\n", CLI_NAME);
        return EX_OSERR;
    }
    for (size_t i = 0; i < h->rcpt_count; i++)
        r->rcpts[n++].address = h->rcpts[i];
    /* The command line's recipients are added (as msmtp and Postfix do). */
    for (size_t i = 0; i < r->opts.rcpt_count; i++) {
        int dup = 0;
        for (size_t j = 0; j < h->rcpt_count && !dup; j++)
            dup = cli_same_address(h->rcpts[j], r->opts.rcpts[i]);
        if (!dup)
            r->rcpts[n++].address = r->opts.rcpts[i];
    }
    if (n == 0) {
        *why = "no recipient: the message has no To:, Cc: or Bcc: address "
               "and none was given";
        fprintf(stderr, "%s: %s\n", CLI_NAME, *why);
        return EX_DATAERR;
    }
    env->rcpts = r->rcpts;
    env->rcpt_count = n;
    if (cli_message_complete(&r->msg, &r->opts, env->from) != 0) {
        *why = "out of memory";
        fprintf(stderr, "%s: out of memory\n", CLI_NAME);
        return EX_OSERR;
    }
    /* SIZE= as it goes on the wire (a NUL is reported while sending). */
    if (cli_message_has_nul(&r->msg, fd, r->body.buf, CLI_BODY_CHUNK,
                            &env->size) < 0)
        env->size = 0;
    cli_body_reset(&r->body, r->msg.eof ? -1 : fd, r->msg.buf, r->msg.len);
    cli_body_head(&r->body, r->msg.added, r->msg.added_len);
    return 0;
}

/* Opens /dev/null on whichever of fds 0, 1 and 2 is closed, as sendmail
 * and msmtp do: otherwise the next file or socket opened takes its number,
 * and the message is read from the socket, or -v's trace and every error
 * are written into the SMTP session.  0, or -1 when /dev/null cannot be
 * opened. */
static int std_fds_open(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        int got;
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        got = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (got != fd) {
            /* A lower number would have been taken: cannot happen. */
            if (got >= 0)
                close(got);
            return -1;
        }
    }
    return 0;
}

/* cli_report_human on stderr, keeping its last line in why (what a
 * queued message records as its last error). */
static void report_human_keep(const cli_outcome *oc, char *why, size_t len)
{
    char *buf = NULL, *line, *save = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);

    why[0] = '\0';
    if (!m) {
        cli_report_human(oc, stderr);
        return;
    }
    cli_report_human(oc, m);
    if (fclose(m) != 0) {
        free(buf);
        cli_report_human(oc, stderr);
        return;
    }
    fputs(buf, stderr);
    for (line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        cli_queue_why_add(why, len, line);
    free(buf);
}

/* The envelope of the message on fd (standard input, or the entry of
 * the queue a flush sends) from the options, or the composed message's;
 * r->body set to send it, r->rcpts holding the recipients.  0, or an
 * exit code after printing why. */
static int make_envelope(cli_run *r, smtpc_envelope *env, int fd,
                         const char **why)
{
    int rc = 0;

    memset(env, 0, sizeof *env);
    if (r->opts.compose) {
        rc = cli_compose_prepare(r, env);
        *why = "cannot compose the message";
    } else if (reads_header(&r->opts)) {
        rc = read_envelope(r, env, fd, why);
    } else {
        r->rcpts = calloc(r->opts.rcpt_count, sizeof *r->rcpts);
        if (!r->rcpts) {
            fprintf(stderr, "%s: out of memory\n", CLI_NAME);
            *why = "out of memory";
            return EX_OSERR;
        }
        for (size_t i = 0; i < r->opts.rcpt_count; i++)
            r->rcpts[i].address = r->opts.rcpts[i];
        env->from = r->opts.from;
        env->rcpts = r->rcpts;
        env->rcpt_count = r->opts.rcpt_count;
        env->size = cli_body_size_hint(fd);
        cli_body_reset(&r->body, fd, NULL, 0);
    }
    if (rc)
        return rc;
    for (size_t i = 0; i < env->rcpt_count; i++)
        r->rcpts[i].notify = r->opts.notify;
    env->flags = r->opts.mail_flags;
    env->envid = r->opts.envid;
    return 0;
}

/* A mail's outcome (st and res, as smtpc_client_sendmail gives them) into
 * oc, reported on stderr; why gets the report's last lines (what a queued
 * message keeps).  entry: the queue entry a flush runs us for, taken out
 * of the queue once the server took the message.  body: the message's
 * source, NULL once the next message reads from it. */
static void mail_outcome(cli_run *r, cli_outcome *oc, smtpc_envelope *env,
                         int st, const smtpc_result *res,
                         const all_or_nothing *aon, const cli_body *body,
                         const char *entry, char *detail, size_t detail_len,
                         char *why, size_t why_len)
{
    if (st == SMTPC_OK && res->status != SMTPC_OK)
        st = res->status;
    if (st == SMTPC_OK)
        cli_crash_point("sent"); /* delivered, not yet reported */
    if (r->opts.verbose)
        cli_trace_finish(&r->trace);

    memset(oc, 0, sizeof *oc);
    oc->opts = &r->opts;
    oc->status = st;
    oc->exit_code = cli_exit_code(st, env, body);
    if (oc->exit_code == EX_OK && entry)
        cli_queue_retire(entry); /* sent from a flush's entry: out of the queue */
    oc->queue_id = entry ? strrchr(entry, '/') + 1 : NULL;
    oc->res = res;
    oc->env = env;
    cli_outcome_session(oc, r, st, detail, detail_len);
    if (aon->refused)
        all_or_nothing_outcome(oc, env);
    report_human_keep(oc, why, why_len);
}

/* One entry of a flush's run: what lives until its outcome is in. */
typedef struct flush_mail {
    size_t index;          /* in cli_queue_entry's list */
    const char *entry;     /* DIR/new/ID */
    int fd;                /* its message */
    smtpc_envelope env;
    smtpc_rcpt *rcpts;
    char *strings;         /* env's addresses (cli_envelope_own) */
    all_or_nothing aon;
    smtpc_body_source src;
} flush_mail;

/* The mails of a flush's run whose outcome is not reported yet: the one
 * going out and up to two before it whose replies may be awaited. */
typedef struct flush_ring {
    flush_mail m[3];
    size_t first, count;
    int exit0;             /* the first entry's exit code, -1 until known */
} flush_ring;

/* Reports the oldest mail's outcome (or exit_code with why, for one that
 * could not go) to the user and to the flush, and frees it. */
static void flush_report(cli_run *r, flush_ring *q, int exit_code,
                         const char *why)
{
    flush_mail *m = &q->m[q->first % 3];
    char detail[160], kept[512];
    cli_outcome oc;

    if (exit_code == EX_OK) {
        /* The newest mail was the last to read the body source. */
        mail_outcome(r, &oc, &m->env, SMTPC_OK, &m->env.result, &m->aon,
                     q->count == 1 ? &r->body : NULL, m->entry, detail,
                     sizeof detail, kept, sizeof kept);
        why = kept;
    } else {
        memset(&oc, 0, sizeof oc);
        oc.opts = &r->opts;
        oc.status = SMTPC_ERR_ARG;
        oc.exit_code = exit_code;
        oc.error = why;
        oc.queue_id = strrchr(m->entry, '/') + 1;
    }
    cli_report_outcome(r, &oc);
    cli_queue_result(m->index, oc.exit_code, why);
    if (m->index == 0)
        q->exit0 = oc.exit_code;
    if (m->fd > STDIN_FILENO)
        close(m->fd);
    free(m->rcpts);
    free(m->strings);
    memset(m, 0, sizeof *m);
    q->first++;
    q->count--;
}

/* Reports, oldest first, the mails whose outcome is in; with wait, every
 * one (their replies are read first). */
static void flush_reported(cli_run *r, flush_ring *q, int wait)
{
    while (q->count > 0) {
        if (q->m[q->first % 3].env.result.status == SMTPC_ERR_PENDING) {
            if (!wait)
                return;
            (void)smtpc_client_flush(r->client);
        }
        flush_report(r, q, EX_OK, NULL);
    }
}

/* An entry after the first of a flush's run, when the run can send it:
 * queued from the same directory as the first (cwd0) with the same
 * options (argv0 up to its recipients, as getopt left it); its
 * recipients may differ.  Then 1, and *o holds its options (its
 * recipients), pointing into *argv and *blob: all three to free.  Else 0:
 * the flush sends it in another run.  Its words are parsed silently: a
 * mistake in them is reported by that other run. */
static int flush_takes(const cli_run *r, const char *entry, const char *cwd0,
                       char **argv0, cli_opts *o, char **blob, char ***argv)
{
    char *cwd;
    int argc, err_fd, quiet, parsed = 0, same = 0;

    if (cli_queue_entry_words(entry, blob, &cwd, argv, &argc) != 0)
        return 0;
    if (strcmp(cwd, cwd0) == 0) {
        fflush(stderr);
        err_fd = dup(STDERR_FILENO);
        quiet = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (err_fd >= 0 && quiet >= 0 && dup2(quiet, STDERR_FILENO) >= 0) {
            parsed = 1;
            same = cli_parse_args(argc, *argv, o) == CLI_PARSE_OK &&
                   o->option_words == r->opts.option_words;
            fflush(stderr);
            (void)dup2(err_fd, STDERR_FILENO);
        }
        if (quiet >= 0)
            close(quiet);
        if (err_fd >= 0)
            close(err_fd);
        for (int i = 1; same && i < o->option_words; i++)
            same = strcmp((*argv)[i], argv0[i]) == 0;
        if (parsed && !same)
            cli_opts_free(o);
    }
    if (!same) {
        free(*argv);
        free(*blob);
    }
    return same;
}

/*
 * The run --flush-queue starts for entries of the queue (cli_queue_entry
 * lists them; the first is on standard input, and argv and r->opts are
 * its words and options): it sends the first and, of those after it, each
 * that flush_takes (the same options, other recipients maybe) until one
 * it does not, on one connection, each behind the previous one's end
 * (smtpc_client_submit with SMTPC_SUBMIT_MORE, QUIT behind the last).
 * Each has its own outcome, reported and told to the flush
 * (cli_queue_result) as a run for it alone would.  When the connection
 * cannot be opened or ends, the mails on it get its failure and the run
 * stops.  The entries it did not send are left to the flush, untried.
 * The exit status is the first entry's.
 */
static int flush_run(cli_run *r, char **argv)
{
    flush_ring q;
    const char *entry;
    char *blob0 = NULL, *cwd0 = NULL, **argv0 = NULL;
    int connected = 0, st, argc0;

    memset(&q, 0, sizeof q);
    q.exit0 = -1;
    if (cli_queue_entry_words(cli_queue_entry(0), &blob0, &cwd0, &argv0,
                              &argc0) != 0)
        cwd0 = NULL; /* only the first goes */
    st = smtpc_client_init(r->client, &r->ccfg, r->transport, r->io,
                           CLI_IO_BUF);
    for (size_t index = 0; (entry = cli_queue_entry(index)) != NULL; index++) {
        flush_mail *m;
        const char *why = NULL;
        char **own_rcpts = r->opts.rcpts, *blob = NULL, **words = NULL;
        size_t own_count = r->opts.rcpt_count;
        cli_opts o;
        int rc;

        if (connected && !smtpc_client_ready(r->client))
            break; /* the connection ended after the last mail's end */
        if (index > 0 &&
            (!cwd0 || !flush_takes(r, entry, cwd0, argv, &o, &blob, &words)))
            break;
        flush_reported(r, &q, q.count == 3);
        m = &q.m[(q.first + q.count) % 3];
        m->index = index;
        m->entry = entry;
        m->fd = index == 0 ? STDIN_FILENO : cli_queue_message_open(entry);
        if (m->fd < 0) {
            if (index > 0) {
                cli_opts_free(&o);
                free(words);
                free(blob);
            }
            break; /* left to the flush, which sends it alone */
        }
        q.count++;
        if (index > 0) {
            /* Its own recipients, for its envelope only. */
            r->opts.rcpts = o.rcpts;
            r->opts.rcpt_count = o.rcpt_count;
        }
        rc = make_envelope(r, &m->env, m->fd, &why);
        m->rcpts = r->rcpts;
        r->rcpts = NULL;
        if (rc == 0 && cli_envelope_own(&m->env, &m->strings) != 0) {
            fprintf(stderr, "%s: out of memory\n", CLI_NAME);
            rc = EX_OSERR;
            why = "out of memory";
        }
        if (index > 0) {
            r->opts.rcpts = own_rcpts;
            r->opts.rcpt_count = own_count;
            cli_opts_free(&o);
            free(words);
            free(blob);
        }
        if (rc) {
            /* The message itself cannot go (no SMTP for it): reported
             * after those before it. */
            q.count--;
            flush_reported(r, &q, 1);
            q.count++;
            flush_report(r, &q, rc, why);
            continue;
        }
        m->src = cli_body_source(&r->body);
        m->aon.inner = m->src;
        m->aon.env = &m->env;
        if (r->opts.all_or_nothing) {
            m->src.next = all_or_nothing_next;
            m->src.ctx = &m->aon;
        }
        if (st == SMTPC_OK && !connected) {
            st = smtpc_client_open(r->client);
            connected = st == SMTPC_OK;
        }
        if (!connected) {
            /* No connection: this mail fails with it, the rest wait. */
            const smtpc_reply *rp = smtpc_last_reply(smtpc_client_session(r->client));
            memset(&m->env.result, 0, sizeof m->env.result);
            m->env.result.status = st;
            smtpc_client_error(r->client, &m->env.result.phase);
            if (rp)
                m->env.result.reply = *rp;
            break;
        }
        (void)smtpc_client_submit(r->client, &m->env, &m->src,
                                  SMTPC_SUBMIT_MORE);
    }
    /* QUIT behind the last message; then every outcome is in. */
    if (connected)
        (void)smtpc_client_close(r->client);
    flush_reported(r, &q, 1);
    if (r->opts.verbose)
        cli_trace_finish(&r->trace);
    free(argv0);
    free(blob0);
    return q.exit0 < 0 ? EX_TEMPFAIL : q.exit0;
}

int main(int argc, char **argv)
{
    cli_run run;
    cli_run *r = &run;
    smtpc_envelope env;
    smtpc_body_source src;
    smtpc_result res;
    cli_outcome oc;
    all_or_nothing aon = {0};
    char detail[160], why_buf[512];
    const char *why = NULL;
    int rc, st;

    if (std_fds_open() != 0)
        return EX_OSERR; /* nowhere to say so */
    cli_stderr_by_line();
    memset(r, 0, sizeof *r);
    r->log_fd = -1;
    /* A server that closes early must give an error, not kill us. */
    signal(SIGPIPE, SIG_IGN);

    rc = cli_parse_args(argc, argv, &r->opts);
    if (rc == CLI_PARSE_DONE) {
        run_free(r);
        return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
    }
    if (rc != CLI_PARSE_OK) {
        /* Logged too when the --log option was read before the mistake:
         * a caller such as cron shows nobody our standard error. */
        if (r->opts.log_file)
            (void)cli_log_open(r->opts.log_file, &r->log_fd);
        return early_exit(r, rc, rc == EX_CONFIG ? "invalid configuration"
                                                 : "invalid command line");
    }
    if (r->opts.print_config) {
        rc = cli_print_config(&r->opts, stdout);
        run_free(r);
        return rc;
    }
    /* A log this user cannot write (a root-owned /var/log file, a full
     * disk) must not stop the mail: the outcome still reaches stderr and
     * the exit status. */
    if (r->opts.log_file)
        (void)cli_log_open(r->opts.log_file, &r->log_fd);
    if (r->opts.list_queue) {
        rc = cli_queue_list(r->opts.queue_dir, stdout);
        run_free(r);
        return rc;
    }
    if (r->opts.flush_queue) {
        rc = cli_queue_flush(&r->opts, r->log_fd);
        run_free(r);
        return rc;
    }

    if (r->opts.serverinfo) {
        r->io = malloc(CLI_IO_BUF);
        r->client = calloc(1, sizeof *r->client);
        if (!r->io || !r->client) {
            fprintf(stderr, "%s: out of memory\n", CLI_NAME);
            return early_exit(r, EX_OSERR, "out of memory");
        }
        rc = make_transport(r, &r->transport);
        if (rc)
            return early_exit(r, rc, "cannot set up TLS");
        set_config(r);
        rc = cli_serverinfo_run(r);
        run_free(r);
        return rc;
    }

    if (r->opts.dry_run) {
        rc = cli_compose_print(r);
        run_free(r);
        return rc;
    }

    rc = cli_secrets_load(&r->opts, &r->secrets);
    if (rc)
        return early_exit(r, rc, "cannot load credentials");

    /* --queue: the message is copied into the queue before anything is
     * sent (a failure half-way through would have consumed it). */
    if (r->opts.queue_dir && !r->opts.no_queue && !r->opts.batch_dir &&
        !r->opts.compose) {
        rc = cli_queue_spool(r->opts.queue_dir, argc, argv, &r->queue_entry);
        if (rc)
            return early_exit(r, rc, "cannot queue the message");
    }

    r->io = malloc(CLI_IO_BUF);
    r->client = calloc(1, sizeof *r->client);
    if (!r->io || !r->client ||
        cli_body_init(&r->body, STDIN_FILENO, &src) != 0 ||
        ((reads_header(&r->opts) || r->opts.batch_dir) &&
         cli_message_init(&r->msg) != 0)) {
        fprintf(stderr, "%s: out of memory\n", CLI_NAME);
        return early_exit(r, EX_OSERR, "out of memory");
    }

    r->msg.qualify = r->opts.qualify_domain;

    rc = make_transport(r, &r->transport);
    if (rc)
        return early_exit(r, rc, "cannot set up TLS");
    set_config(r);

    if (r->opts.batch_dir) {
        rc = cli_batch_run(r);
        run_free(r);
        return rc;
    }

    /* Run by --flush-queue for several entries: one connection. */
    if (r->opts.no_queue && cli_queue_entry(1) != NULL) {
        rc = flush_run(r, argv);
        run_free(r);
        return rc;
    }

    rc = make_envelope(r, &env, STDIN_FILENO, &why);
    if (rc)
        return early_exit(r, rc, why);

    aon.inner = src;
    aon.env = &env;
    if (r->opts.all_or_nothing) {
        src.next = all_or_nothing_next;
        src.ctx = &aon;
    }

    memset(&res, 0, sizeof res);
    st = smtpc_client_init(r->client, &r->ccfg, r->transport, r->io,
                           CLI_IO_BUF);
    if (st == SMTPC_OK)
        st = r->opts.compose ? cli_compose_send(r, &env, &res)
                             : smtpc_client_sendmail(r->client, &env, &src, &res);
    else
        res.status = st;
    mail_outcome(r, &oc, &env, st, &res, &aon, &r->body,
                 r->opts.no_queue ? cli_queue_entry(0) : NULL, detail,
                 sizeof detail, why_buf, sizeof why_buf);
    if (r->queue_entry && oc.exit_code == EX_TEMPFAIL &&
        cli_queue_commit(r->opts.queue_dir, r->queue_entry, &env,
                         why_buf) == 0) {
        oc.queued = strrchr(r->queue_entry, '/') + 1;
        oc.exit_code = EX_OK; /* queued: accepted, as sendmail */
    }
    cli_report_outcome(r, &oc);
    rc = oc.exit_code;
    if (oc.queued) {
        free(r->queue_entry); /* moved: not ours to remove any more */
        r->queue_entry = NULL;
    }
    run_free(r);
    return rc;
}
