/*
 * cli/smtpc/batch.c - smtpc --batch DIR: every message file in DIR, one
 * connection, one outcome per message.
 *
 * The rules (smtpc(1), BATCH MODE, says the same):
 *   - The messages are the regular files of DIR whose names do not start
 *     with a dot, in byte order of their names.  Symbolic links are not
 *     followed (a link in a spool directory must not mail out a file its
 *     writer could not read), nor subdirectories.  DIR is listed before
 *     anything is sent; a DIR that cannot be read is exit 66.
 *   - Each message's envelope: --from and the command line's recipients
 *     when given, else the message's own header fields (headers.c); Bcc
 *     fields are always removed.  A message whose file or headers are
 *     unusable fails on its own (65, 66 or 74) and costs no SMTP command;
 *     no connection is opened until a message is ready to go.
 *   - One connection, opened once; a mail refused on its own (MAIL, every
 *     RCPT, the message) leaves it open for the next.  With PIPELINING each
 *     message's envelope goes out behind the end of the one before, whose
 *     outcome is reported once its reply is in (one round trip a message).
 *   - When the connection fails (lost, timed out, 421), smtpc opens a new
 *     one and goes on, if the lost connection had completed at least one
 *     message; otherwise the server or the network is failing, not a
 *     message, so it stops and the messages left are reported "not sent".
 *     The message that was going out is sent again on the new connection
 *     only when it certainly did not arrive: a reply refused it, or its end
 *     was not sent yet.  After a timeout or a lost connection once the end
 *     of the message may have left (the dot, or BDAT, whose chunks go out
 *     with the envelope), it may have been delivered: it is reported
 *     failed and not sent twice.
 *   - Exit status: 0 when every message was sent (to at least one
 *     recipient), else that of the first message, in name order, that was
 *     not.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

/* ---- the directory ---- */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The message files of dir, sorted: 0, or an errno. */
static int list_dir(const char *dir, char ***out, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **v = NULL;
    size_t n = 0, cap = 0;
    int err = 0;

    *out = NULL;
    *count = 0;
    if (!d)
        return errno;
    for (;;) {
        struct stat st;
        errno = 0;
        e = readdir(d);
        if (!e) {
            err = errno;
            break;
        }
        if (e->d_name[0] == '.')
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            size_t c = cap ? cap * 2 : 64;
            char **nv = realloc(v, c * sizeof *nv);
            if (!nv) {
                err = ENOMEM;
                break;
            }
            v = nv;
            cap = c;
        }
        if (!(v[n] = strdup(e->d_name))) {
            err = ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (err) {
        names_free(v, n);
        return err;
    }
    if (n)
        qsort(v, n, sizeof *v, by_name);
    *out = v;
    *count = n;
    return 0;
}

/* ---- one message ---- */

typedef struct batch_msg {
    char *path;           /* DIR/NAME, as reported */
    int fd;
    smtpc_envelope env;
    smtpc_rcpt *rcpts;
    const char *error;    /* why it could not be prepared */
    char why[96];         /* an errno text for error */
    unsigned attempt;     /* of the submit whose outcome is awaited */
    char *strings;        /* the envelope's addresses, its own copy */
} batch_msg;

static void msg_close(batch_msg *m)
{
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
    free(m->rcpts);
    m->rcpts = NULL;
    free(m->strings);
    m->strings = NULL;
}

/* The envelope's addresses point into the headers, which the next
 * message's read replaces while this one may still await its reply (and
 * be reported): it gets its own copy.  0, or -1 when out of memory. */
int cli_envelope_own(smtpc_envelope *env, char **store)
{
    size_t total = strlen(env->from) + 1;
    char *p;

    for (size_t i = 0; i < env->rcpt_count; i++)
        total += strlen(env->rcpts[i].address) + 1;
    p = *store = malloc(total);
    if (!p)
        return -1;
    total = strlen(env->from) + 1;
    memcpy(p, env->from, total);
    env->from = p;
    p += total;
    for (size_t i = 0; i < env->rcpt_count; i++) {
        total = strlen(env->rcpts[i].address) + 1;
        memcpy(p, env->rcpts[i].address, total);
        env->rcpts[i].address = p;
        p += total;
    }
    return 0;
}

static int prep_fail(batch_msg *m, int code, const char *what, int err)
{
    m->error = what;
    if (err)
        snprintf(m->why, sizeof m->why, "%s", strerror(err));
    msg_close(m);
    return code;
}

/* Opens and reads m->path up to its body, and makes its envelope.  0, or
 * the exit code of a message that cannot go (m->error says why). */
static int msg_prepare(cli_run *r, batch_msg *m)
{
    const cli_opts *o = &r->opts;
    cli_headers *h = &r->msg.hdr;
    unsigned flags = CLI_HDR_STRIP_BCC;
    struct stat st;
    size_t n = 0;
    int rc;

    m->error = NULL;
    m->why[0] = '\0';
    memset(&m->env, 0, sizeof m->env);
    /* No link followed, and never block on a FIFO put in its place. */
    m->fd = open(m->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (m->fd < 0)
        return prep_fail(m, EX_NOINPUT, "cannot open the message file", errno);
    if (fstat(m->fd, &st) != 0)
        return prep_fail(m, EX_IOERR, "cannot read the message file", errno);
    if (!S_ISREG(st.st_mode))
        return prep_fail(m, EX_NOINPUT, "not a regular file", 0);

    if (!o->from)
        flags |= CLI_HDR_SENDER;
    if (o->rcpt_count == 0)
        flags |= CLI_HDR_RCPTS;
    rc = cli_message_read(&r->msg, m->fd, flags);
    if (rc)
        return prep_fail(m, rc, h->error, 0);
    m->env.from = o->from ? o->from : h->sender;
    if (!m->env.from)
        return prep_fail(m, EX_DATAERR, "no sender: the message has no From: "
                         "or Sender: mailbox (give --from)", 0);
    n = o->rcpt_count ? o->rcpt_count : h->rcpt_count;
    if (n == 0)
        return prep_fail(m, EX_DATAERR, "no recipient: the message has no "
                         "To:, Cc: or Bcc: address (or give RECIPIENTs)", 0);
    m->rcpts = calloc(n, sizeof *m->rcpts);
    if (!m->rcpts)
        return prep_fail(m, EX_OSERR, "out of memory", 0);
    for (size_t i = 0; i < n; i++) {
        m->rcpts[i].address = o->rcpt_count ? o->rcpts[i] : h->rcpts[i];
        m->rcpts[i].notify = o->notify;
    }
    /* A NUL byte would abort the transfer, and with it the connection:
     * find it now, while nothing is sent (the file is read twice). */
    if (cli_message_complete(&r->msg, o, m->env.from) != 0)
        return prep_fail(m, EX_OSERR, "out of memory", 0);
    rc = cli_message_has_nul(&r->msg, m->fd, r->body.buf, CLI_BODY_CHUNK,
                             &m->env.size);
    if (rc < 0)
        return prep_fail(m, EX_IOERR, "cannot read the message file", errno);
    if (rc > 0)
        return prep_fail(m, EX_DATAERR, "the message contains a NUL byte "
                         "(not allowed in SMTP); not sent", 0);
    m->env.rcpts = m->rcpts;
    m->env.rcpt_count = n;
    if (cli_envelope_own(&m->env, &m->strings) != 0)
        return prep_fail(m, EX_OSERR, "out of memory", 0);
    m->env.flags = o->mail_flags;
    m->env.envid = o->envid;
    cli_body_reset(&r->body, r->msg.eof ? -1 : m->fd, r->msg.buf, r->msg.len);
    cli_body_head(&r->body, r->msg.added, r->msg.added_len);
    return 0;
}

/* ---- the session ---- */

/* The connection can carry another mail (READY, or taking the next one
 * behind a message whose reply is still awaited). */
static int session_usable(const smtpc_client *c)
{
    return smtpc_client_ready(c);
}

/* After the connection failed during a mail: could the server have taken
 * it?  Not when a reply refused it, nor before the end of the message
 * could have been sent. */
static int maybe_delivered(const cli_run *r, const smtpc_result *res)
{
    const smtpc_caps *caps = smtpc_session_caps(smtpc_client_session(r->client));

    if (res->reply.code >= 400 && cli_reply_caused(res->status))
        return 0;
    if (res->phase == SMTPC_PHASE_MESSAGE)
        return 1;
    /* With CHUNKING the message goes out with the envelope (pipelined
     * BDAT): it may be complete before the first reply comes. */
    return caps && (caps->flags & SMTPC_CAP_CHUNKING) &&
           !(r->opts.session_options & SMTPC_OPT_NO_CHUNKING) &&
           res->phase >= SMTPC_PHASE_MAIL && res->phase <= SMTPC_PHASE_DATA;
}

typedef struct batch_state {
    unsigned connection;     /* connections opened */
    int connected;
    size_t done_here;        /* mails completed on this connection */
    int stop_exit;           /* nonzero once the batch stopped */
    const char *stop_why;
    size_t sent, failed, not_sent;
    int exit_code;           /* of the first message not sent */
} batch_state;

static void count(batch_state *b, int exit_code)
{
    if (exit_code == EX_OK) {
        b->sent++;
        return;
    }
    b->failed++;
    if (b->exit_code == EX_OK)
        b->exit_code = exit_code;
}

/* Reports one message that failed before any SMTP, or was not sent
 * because the batch stopped. */
static void report_local(cli_run *r, batch_state *b, const char *path,
                         int exit_code, const char *error, const char *why,
                         int not_sent)
{
    cli_outcome oc;

    memset(&oc, 0, sizeof oc);
    oc.opts = &r->opts;
    oc.file = path;
    oc.status = SMTPC_ERR_ARG; /* no library status says it */
    oc.exit_code = exit_code;
    oc.error = error;
    oc.detail = why && *why ? why : NULL;
    oc.tls_info = "";
    cli_report_human(&oc, stderr);
    cli_report_outcome(r, &oc);
    if (not_sent) {
        b->not_sent++;
        if (b->exit_code == EX_OK)
            b->exit_code = exit_code;
    } else {
        count(b, exit_code);
    }
}

/* Reports a mail's outcome; returns its exit code. */
static int report_mail(cli_run *r, batch_state *b, batch_msg *m,
                       const smtpc_result *res, unsigned attempts,
                       const char *note, int final)
{
    cli_outcome oc;
    char detail[160];
    int st = res->status;

    memset(&oc, 0, sizeof oc);
    oc.opts = &r->opts;
    oc.file = m->path;
    oc.connection = b->connection;
    oc.attempts = attempts;
    oc.status = st;
    oc.exit_code = cli_exit_code(st, &m->env, &r->body);
    oc.res = res;
    oc.env = &m->env;
    oc.note = note;
    oc.no_warnings = !final; /* the next attempt lists them */
    cli_outcome_session(&oc, r, st, detail, sizeof detail);
    if (r->opts.verbose)
        cli_trace_finish(&r->trace);
    cli_report_human(&oc, stderr);
    if (final) {
        cli_report_outcome(r, &oc);
        count(b, oc.exit_code);
    }
    return oc.exit_code;
}

/* The connection failed during a message: close what is left of it. */
static void connection_lost(cli_run *r, batch_state *b)
{
    (void)smtpc_client_close(r->client);
    b->connected = 0;
}

/* What to do with a mail whose outcome is in (m->env.result): report
 * it, or 1 when it must be sent again (it is prepared again then). */
static int mail_outcome(cli_run *r, batch_state *b, batch_msg *m)
{
    const smtpc_result *res = &m->env.result;
    unsigned attempt = m->attempt;
    int st;

    /* Usable, or closed by our QUIT: a failure was the mail's own. */
    if (session_usable(r->client) ||
        smtpc_client_error(r->client, NULL) == SMTPC_OK) {
        b->done_here++;
        (void)report_mail(r, b, m, res, attempt, NULL, 1);
        return 0;
    }
    if (res->status == SMTPC_OK) {
        /* Taken, and the connection went after that. */
        b->done_here++;
        (void)report_mail(r, b, m, res, attempt, NULL, 1);
        connection_lost(r, b);
        return 0;
    }
    connection_lost(r, b);
    if (res->status == SMTPC_ERR_BODY_SOURCE) {
        /* The file failed us (changed since it was checked): the
         * transfer was abandoned unfinished, so nothing arrived, and
         * the server is not to blame: the next message reconnects. */
        (void)report_mail(r, b, m, res, attempt, NULL, 1);
        return 0;
    }
    if (b->done_here == 0) {
        /* Nothing went through this connection: stop. */
        b->stop_exit = report_mail(r, b, m, res, attempt,
                                   attempt > 1 ? "failed again" : NULL, 1);
        b->stop_why = "not sent: the batch stopped after a connection "
                      "failed";
        return 0;
    }
    if (attempt == 1 && !maybe_delivered(r, res)) {
        (void)report_mail(r, b, m, res, attempt,
                          "sending it again on a new connection", 0);
        msg_close(m);
        st = msg_prepare(r, m);
        if (st != 0) {
            report_local(r, b, m->path, st, m->error, m->why, 0);
            return 0;
        }
        return 1;
    }
    (void)report_mail(r, b, m, res, attempt,
                      maybe_delivered(r, res)
                          ? "it may have been delivered: not sent again"
                          : NULL,
                      1);
    return 0;
}

static void settle_one(cli_run *r, batch_state *b, batch_msg *m);

static void msg_free(batch_msg *m)
{
    msg_close(m);
    free(m->path);
    m->path = NULL;
}

/* The message sent before: settled first, so that outcomes are reported in
 * order and a lost connection is judged knowing what went through it. */
static void settle_prev(cli_run *r, batch_state *b, batch_msg **prev)
{
    if (*prev != NULL) {
        /* The submit behind it brings its outcome in; a flush would also
         * wait for the message just submitted, the round trip pipelining
         * is there to save.  Only an outcome still awaited is waited for. */
        if ((*prev)->env.result.status == SMTPC_ERR_PENDING)
            (void)smtpc_client_flush(r->client);
        settle_one(r, b, *prev);
        msg_free(*prev);
        *prev = NULL;
    }
}

/* Sends one prepared message (again, once, after a lost connection).
 * Returns 1 when its outcome is still awaited (the connection takes the
 * next message first): mail_outcome is then for later. */
static int send_one(cli_run *r, batch_state *b, batch_msg *m, batch_msg **prev)
{
    smtpc_client *c = r->client;
    smtpc_body_source src = {0};

    for (m->attempt = 1;; m->attempt++) {
        int st;

        if (!b->connected) {
            settle_prev(r, b, prev);
            b->connection++;
            b->done_here = 0;
            st = smtpc_client_open(c);
            if (st != SMTPC_OK) {
                smtpc_result res;
                const smtpc_reply *rp = smtpc_last_reply(smtpc_client_session(c));

                memset(&res, 0, sizeof res);
                res.status = st;
                smtpc_client_error(c, &res.phase);
                if (rp)
                    res.reply = *rp;
                b->stop_exit = report_mail(r, b, m, &res, m->attempt, NULL, 1);
                b->stop_why = "not sent: the batch stopped, no connection";
                (void)smtpc_client_close(c);
                return 0;
            }
            b->connected = 1;
        }
        src = cli_body_source(&r->body);
        /* A first attempt lets the next message follow it; a second one
         * waits for its own outcome. */
        st = smtpc_client_submit(c, &m->env, &src,
                                 m->attempt == 1 ? SMTPC_SUBMIT_MORE : 0);
        settle_prev(r, b, prev);
        if (st == SMTPC_ERR_PENDING)
            return 1;
        if (!mail_outcome(r, b, m))
            return 0;
    }
}

/* The outcome of a message sent earlier is in: report it, and send it
 * again alone when it must be. */
static void settle_one(cli_run *r, batch_state *b, batch_msg *m)
{
    batch_msg *none = NULL;

    if (!mail_outcome(r, b, m))
        return;
    while (send_one(r, b, m, &none)) {
        (void)smtpc_client_flush(r->client);
        if (!mail_outcome(r, b, m))
            break;
    }
}

int cli_batch_run(cli_run *r)
{
    const char *dir = r->opts.batch_dir;
    batch_state b;
    char **names;
    size_t n;
    int err, st;

    memset(&b, 0, sizeof b);
    err = list_dir(dir, &names, &n);
    if (err) {
        fprintf(stderr, "%s: cannot read --batch directory \"", CLI_NAME);
        cli_put_escaped(stderr, dir);
        fprintf(stderr, "\": %s\n", strerror(err));
        {
            cli_outcome oc;
            memset(&oc, 0, sizeof oc);
            oc.opts = &r->opts;
            oc.status = SMTPC_ERR_ARG;
            oc.exit_code = err == ENOMEM ? EX_OSERR : EX_NOINPUT;
            oc.error = "cannot read the --batch directory";
            oc.detail = strerror(err);
            cli_report_outcome(r, &oc);
        }
        return err == ENOMEM ? EX_OSERR : EX_NOINPUT;
    }
    st = smtpc_client_init(r->client, &r->ccfg, r->transport, r->io,
                           CLI_IO_BUF);
    if (st != SMTPC_OK) {
        names_free(names, n);
        fprintf(stderr, "%s: %s\n", CLI_NAME, smtpc_status_str(st));
        return cli_exit_code(st, NULL, NULL);
    }

    /* Two slots: the message going out and the one before it, whose
     * envelope (with its outcome) must live until its reply is in. */
    batch_msg slot[2], *pending = NULL;
    int cur = 0;

    for (size_t i = 0; i < n; i++) {
        batch_msg *m = &slot[cur];
        size_t dl = strlen(dir);
        int rc, later = 0;

        memset(m, 0, sizeof *m);
        m->fd = -1;
        m->path = malloc(dl + strlen(names[i]) + 2);
        if (!m->path) {
            report_local(r, &b, names[i], EX_OSERR, "out of memory", NULL, 0);
            continue;
        }
        sprintf(m->path, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/",
                names[i]);
        if (b.stop_exit) {
            settle_prev(r, &b, &pending);
            report_local(r, &b, m->path, b.stop_exit, b.stop_why, NULL, 1);
        } else if ((rc = msg_prepare(r, m)) != 0) {
            settle_prev(r, &b, &pending);
            report_local(r, &b, m->path, rc, m->error, m->why, 0);
        } else {
            later = send_one(r, &b, m, &pending);
        }
        if (later) {
            pending = m;
            cur ^= 1;
        } else {
            msg_free(m);
        }
    }
    /* QUIT goes behind the last message, then its outcome is in. */
    if (b.connected && pending)
        (void)smtpc_client_close(r->client);
    settle_prev(r, &b, &pending);
    if (b.connected)
        (void)smtpc_client_close(r->client);
    if (r->opts.verbose)
        cli_trace_finish(&r->trace);
    names_free(names, n);

    cli_report_prefix(dir, stderr);
    if (n == 0)
        fputs("no message to send\n", stderr);
    else
        fprintf(stderr, "%zu sent, %zu failed, %zu not sent; %u connection%s\n",
                b.sent, b.failed, b.not_sent, b.connection,
                b.connection == 1 ? "" : "s");
    if (r->opts.json)
        cli_report_json_summary(stdout, b.exit_code, n, b.sent, b.failed,
                                b.not_sent, b.connection);
    cli_log_summary(r->log_fd, b.exit_code, n, b.sent, b.failed, b.not_sent,
                    b.connection);
    return b.exit_code;
}
