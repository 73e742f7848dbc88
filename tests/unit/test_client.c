/*
 * test_client.c - the blocking client over a fake, in-process transport.
 *
 * The fake replays a scripted server and records every byte the client
 * sends; its clock moves only when the client waits, so timeouts are
 * exact and instant.  No sockets.
 *
 * Script steps:
 *   S text   the server sends text
 *   C text   the client's next line must start with text
 *   D text   client lines are the message: skip up to the line == text
 *   P text   skip client lines up to one that starts with text
 *   E        the server closes the connection (after what it sent)
 *   H        the server hangs: reads everything, answers nothing
 *   B        the server stops reading (sends block)
 *   T        from here the server's bytes trickle, one per 100 ms
 *   R        wait until the client has read everything sent so far
 *   U        the server reads again (undoes B)
 *   W        the server stops reading until the client waits (10 ms)
 *   K text   BDAT chunks: each non-last chunk is answered "250 chunk",
 *            the LAST one with text; the chunk data is kept in bdat[]
 */
#include <stdio.h>
#include <string.h>

#include "smtpc/client.h"

#include "unit.h"

/* The phase of the client's first error (smtpc_client_error). */
static int client_phase(const smtpc_client *c)
{
    int phase = -1;

    (void)smtpc_client_error(c, &phase);
    return phase;
}

/* What the trace must show: without trace support (the minimal profile,
 * test_client_minimal.c) the callback is never called, so only what it must
 * not show is checked. */
#if SMTPC_WITH_TRACE
#define CHECK_TRACE(cond) CHECK(cond)
#else
#define CHECK_TRACE(cond) ((void)sizeof(cond)) /* compiled, not run */
#endif

/* ---- the fake transport ---- */

typedef struct step {
    char op;
    const char *text;
} step;

typedef struct fake {
    const step *script;
    size_t pos;
    char out[8192];          /* server bytes, out[out_pos..out_len) unread */
    size_t out_len, out_pos;
    char sent[262144];       /* everything the client sent */
    size_t sent_len;
    size_t line_pos;         /* first client byte no step has consumed */
    int eof, hang, block, block_once, trickle, trickle_ready;
    unsigned long waits;     /* a loop that never gives up is caught */
    size_t recv_max;         /* most bytes per recv (1: byte at a time) */
    size_t send_max;         /* most bytes per send */
    uint64_t clock;
    uint64_t last_send_clock;
    int eof_seen;            /* the client read the end of stream */
    size_t sent_at_eof;
    int connects, closes, tls_calls, loopback;
    int connect_result, tls_result;
    uint16_t port;
    int mismatch;
    char bdat[262144];       /* BDAT chunk data, concatenated */
    size_t bdat_len;
    int bdat_chunks;
} fake;

static void fake_out(fake *f, const char *text)
{
    size_t n = strlen(text);

    if (f->out_len + n > sizeof f->out) {
        /* Drop what the client has read to make room. */
        memmove(f->out, f->out + f->out_pos, f->out_len - f->out_pos);
        f->out_len -= f->out_pos;
        f->out_pos = 0;
    }
    if (f->out_len + n > sizeof f->out) {
        fprintf(stderr, "fake: server output overflow\n");
        f->mismatch = 1;
        return;
    }

    if (f->out_len + n <= sizeof f->out) {
        memcpy(f->out + f->out_len, text, n);
        f->out_len += n;
    }
}

/* One whole BDAT chunk at line_pos: 1 (and *last) when consumed, 0 when
 * not all of it is in, -1 when it is not a BDAT command. */
static int fake_bdat(fake *f, int *last)
{
    const char *p = f->sent + f->line_pos;
    const char *nl = memchr(p, '\n', f->sent_len - f->line_pos);
    unsigned long n = 0;
    const char *q;
    size_t hdr;

    if (nl == NULL)
        return 0;
    if (strncmp(p, "BDAT ", 5) != 0)
        return -1;
    for (q = p + 5; *q >= '0' && *q <= '9'; q++)
        n = n * 10 + (unsigned long)(*q - '0');
    *last = strncmp(q, " LAST\r\n", 7) == 0;
    hdr = (size_t)(nl - p) + 1;
    if (f->sent_len - f->line_pos < hdr + n)
        return 0;
    if (f->bdat_len + n <= sizeof f->bdat) {
        memcpy(f->bdat + f->bdat_len, p + hdr, n);
        f->bdat_len += n;
    }
    f->bdat_chunks++;
    f->line_pos += hdr + n;
    return 1;
}

static void fake_advance(fake *f)
{
    for (;;) {
        const step *st = &f->script[f->pos];
        const char *nl;

        switch (st->op) {
        case 'S':
            fake_out(f, st->text);
            f->pos++;
            break;
        case 'C':
            nl = memchr(f->sent + f->line_pos, '\n', f->sent_len - f->line_pos);
            if (nl == NULL)
                return;
            if (strncmp(f->sent + f->line_pos, st->text, strlen(st->text)) != 0) {
                fprintf(stderr, "script step %zu: expected \"%s\", got \"%.*s\"\n",
                        f->pos, st->text,
                        (int)(nl - (f->sent + f->line_pos)), f->sent + f->line_pos);
                f->mismatch = 1;
            }
            f->line_pos = (size_t)(nl - f->sent) + 1;
            f->pos++;
            break;
        case 'D':
            for (;;) {
                const char *line = f->sent + f->line_pos;
                size_t n = strlen(st->text);
                nl = memchr(line, '\n', f->sent_len - f->line_pos);
                if (nl == NULL)
                    return;
                f->line_pos = (size_t)(nl - f->sent) + 1;
                if ((size_t)(nl - line) == n + 1 && memcmp(line, st->text, n) == 0)
                    break;
            }
            f->pos++;
            break;
        case 'P':
            for (;;) {
                const char *line = f->sent + f->line_pos;
                nl = memchr(line, '\n', f->sent_len - f->line_pos);
                if (nl == NULL)
                    return;
                f->line_pos = (size_t)(nl - f->sent) + 1;
                if (strncmp(line, st->text, strlen(st->text)) == 0)
                    break;
            }
            f->pos++;
            break;
        case 'E':
            f->eof = 1;
            f->pos++;
            return;
        case 'H':
            f->hang = 1;
            return;
        case 'B':
            f->block = 1;
            f->pos++;
            break;
        case 'T':
            f->trickle = 1;
            f->pos++;
            break;
        case 'K':
            for (;;) {
                int last = 0, r = fake_bdat(f, &last);
                if (r == 0)
                    return;
                if (r < 0) {
                    fprintf(stderr, "script step %zu: not BDAT\n", f->pos);
                    f->mismatch = 1;
                    f->pos++;
                    break;
                }
                if (last) {
                    fake_out(f, st->text);
                    f->pos++;
                    break;
                }
                fake_out(f, "250 2.0.0 chunk\r\n");
            }
            break;
        case 'R':
            if (f->out_pos < f->out_len)
                return;
            f->pos++;
            break;
        case 'U':
            f->block = 0;
            f->pos++;
            break;
        case 'W':
            f->block = 1;
            f->block_once = 1;
            f->pos++;
            break;
        default:
            return;
        }
    }
}

static int fake_connect(void *ctx, const char *host, uint16_t port,
                        uint32_t timeout_ms)
{
    fake *f = ctx;
    (void)host;
    (void)timeout_ms;
    f->connects++;
    f->port = port;
    if (f->connect_result == SMTPC_OK)
        fake_advance(f);
    return f->connect_result;
}

static long fake_send(void *ctx, const void *data, size_t len)
{
    fake *f = ctx;

    if (f->eof && f->out_pos == f->out_len)
        return SMTPC_ERR_CLOSED; /* as a real peer's reset would */
    if (f->block)
        return 0;
    if (f->send_max && len > f->send_max)
        len = f->send_max;
    if (len > sizeof f->sent - f->sent_len)
        len = sizeof f->sent - f->sent_len;
    memcpy(f->sent + f->sent_len, data, len);
    f->sent_len += len;
    f->last_send_clock = f->clock;
    fake_advance(f);
    return (long)len;
}

static long fake_recv(void *ctx, void *buf, size_t len)
{
    fake *f = ctx;

    if (f->out_pos < f->out_len) {
        size_t n = f->out_len - f->out_pos;
        if (f->trickle) {
            if (!f->trickle_ready)
                return 0;
            f->trickle_ready = 0;
            n = 1;
        }
        if (f->recv_max && n > f->recv_max)
            n = f->recv_max;
        if (n > len)
            n = len;
        memcpy(buf, f->out + f->out_pos, n);
        f->out_pos += n;
        fake_advance(f);
        return (long)n;
    }
    if (f->eof) {
        if (!f->eof_seen) {
            f->eof_seen = 1;
            f->sent_at_eof = f->sent_len;
        }
        return SMTPC_ERR_CLOSED;
    }
    return 0;
}

static int fake_wait(void *ctx, unsigned events, uint32_t timeout_ms)
{
    fake *f = ctx;
    unsigned ready = 0;
    int pending = f->out_pos < f->out_len;

    if (++f->waits > 100000) {
        fprintf(stderr, "fake: the client waits forever\n");
        return SMTPC_ERR_IO;
    }
    if (f->block_once) {
        f->block_once = 0;
        f->block = 0;
        f->clock += 10;
        if (events & SMTPC_IO_WRITE)
            return SMTPC_IO_WRITE;
    }

    if ((events & SMTPC_IO_READ) && pending && f->trickle && !f->trickle_ready) {
        uint32_t step_ms = timeout_ms < 100 ? timeout_ms : 100;
        f->clock += step_ms;
        if (step_ms < 100)
            return 0;
        f->trickle_ready = 1;
        return SMTPC_IO_READ;
    }
    if ((events & SMTPC_IO_READ) && ((pending && !f->trickle) || f->eof))
        ready |= SMTPC_IO_READ;
    if ((events & SMTPC_IO_WRITE) && !f->block)
        ready |= SMTPC_IO_WRITE;
    if (ready)
        return (int)ready;
    f->clock += timeout_ms; /* nothing will ever happen: time passes */
    return 0;
}

static int fake_start_tls(void *ctx, const char *host, uint32_t timeout_ms)
{
    fake *f = ctx;
    (void)host;
    (void)timeout_ms;
    f->tls_calls++;
    return f->tls_result;
}

static int fake_is_loopback(void *ctx)
{
    return ((fake *)ctx)->loopback;
}

static uint64_t fake_now_ms(void *ctx)
{
    return ((fake *)ctx)->clock;
}

static void fake_close(void *ctx)
{
    ((fake *)ctx)->closes++;
}

static const smtpc_transport_ops fake_ops = {
    fake_connect, fake_send, fake_recv, fake_wait,
    fake_start_tls, fake_is_loopback, fake_now_ms, fake_close,
};

static void fake_init(fake *f, const step *script)
{
    memset(f, 0, sizeof *f);
    f->script = script;
    f->clock = 1000000;
    f->connect_result = SMTPC_OK;
    f->tls_result = SMTPC_OK;
}

static smtpc_transport fake_transport(fake *f)
{
    smtpc_transport t;
    t.ops = &fake_ops;
    t.ctx = f;
    return t;
}

static int sent_has(const fake *f, const char *needle)
{
    size_t n = strlen(needle), i;

    for (i = 0; i + n <= f->sent_len; i++)
        if (memcmp(f->sent + i, needle, n) == 0)
            return 1;
    return 0;
}

/* ---- a trace that keeps everything ---- */

typedef struct tracebuf {
    char text[65536];
    size_t len;
    int info_lines;
} tracebuf;

static void trace_keep(void *ctx, int dir, const char *data, size_t len)
{
    tracebuf *t = ctx;

    if (dir == SMTPC_TRACE_INFO) {
        t->info_lines++;
        if (t->len + 3 < sizeof t->text) {
            memcpy(t->text + t->len, "\n* ", 3);
            t->len += 3;
        }
    }
    if (len > sizeof t->text - t->len - 1)
        len = sizeof t->text - t->len - 1;
    memcpy(t->text + t->len, data, len);
    t->len += len;
    t->text[t->len] = '\0';
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    const char *p = hay;

    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}

/* ---- common setup ---- */

static unsigned char iobuf[4096];

static void cfg_init(smtpc_client_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "mx.example";
    cfg->session.ehlo_name = "client.example";
    cfg->timeouts.connect_ms = 100;
    cfg->timeouts.greeting_ms = 1000;
    cfg->timeouts.command_ms = 2000;
    cfg->timeouts.mail_ms = 3000;
    cfg->timeouts.rcpt_ms = 4000;
    cfg->timeouts.data_ms = 5000;
    cfg->timeouts.block_ms = 6000;
    cfg->timeouts.data_end_ms = 7000;
}

static const char body_text[] =
    "Subject: test\r\n\r\nhello\r\n.dot line\r\nbare LF\nend";

typedef struct mail {
    smtpc_rcpt rcpt[2];
    smtpc_envelope env;
    smtpc_body_mem mem;
    smtpc_body_source body;
    smtpc_result res;
} mail;

static void mail_init(mail *m, size_t nrcpt)
{
    memset(m, 0, sizeof *m);
    m->rcpt[0].address = "b@example.org";
    m->rcpt[1].address = "c@example.org";
    m->env.from = "a@example.org";
    m->env.rcpts = m->rcpt;
    m->env.rcpt_count = nrcpt;
    m->body = smtpc_body_memory(&m->mem, body_text, sizeof body_text - 1);
}

/* ---- tests ---- */

static const step script_ok[] = {
    {'S', "220 mx.example ESMTP\r\n"},
    {'C', "EHLO client.example"},
    {'S', "250-mx.example\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n"},
    {'C', "MAIL FROM:<a@example.org>"},
    {'S', "250 2.1.0 ok\r\n"},
    {'C', "RCPT TO:<b@example.org>"},
    {'S', "250 2.1.5 ok\r\n"},
    {'C', "RCPT TO:<c@example.org>"},
    {'S', "550 5.1.1 no such user\r\n"},
    {'C', "DATA"},
    {'S', "354 go ahead\r\n"},
    {'D', "."},
    {'S', "250 2.0.0 queued as ABC123\r\n"},
    {'C', "QUIT"},
    {'S', "221 bye\r\n"},
    {'E', NULL},
    {0, NULL},
};

/* The same dialogue with PIPELINING: the client sends MAIL, both RCPTs and
 * DATA at once and the server answers them in order. */
static const step script_pipelined[] = {
    {'S', "220 mx.example ESMTP\r\n"},
    {'C', "EHLO client.example"},
    {'S', "250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n"},
    {'C', "MAIL FROM:<a@example.org>"},
    {'C', "RCPT TO:<b@example.org>"},
    {'C', "RCPT TO:<c@example.org>"},
    {'C', "DATA"},
    {'S', "250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n"
          "354 go ahead\r\n"},
    {'D', "."},
    {'S', "250 2.0.0 queued as ABC123\r\n"},
    {'C', "QUIT"},
    {'S', "221 bye\r\n"},
    {'E', NULL},
    {0, NULL},
};

static fake F;
static tracebuf TB;

static void client_setup(smtpc_client *c, smtpc_client_config *cfg,
                         const step *script)
{
    fake_init(&F, script);
    memset(&TB, 0, sizeof TB);
    cfg_init(cfg);
    cfg->trace = trace_keep;
    cfg->trace_ctx = &TB;
    CHECK_EQ_INT(smtpc_client_init(c, cfg, fake_transport(&F), iobuf, sizeof iobuf),
             SMTPC_OK);
}

static int script_done(void)
{
    return F.script[F.pos].op == 0 && !F.mismatch;
}

#if SMTPC_WITH_PIPELINING
static void full_session(const step *script, size_t recv_max, size_t send_max)
{
    smtpc_client_config cfg;
    smtpc_client c;
    mail m;

    client_setup(&c, &cfg, script);
    F.recv_max = recv_max;
    F.send_max = send_max;
    mail_init(&m, 2);
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_OK);
    CHECK_EQ_INT(F.port, 25);
    CHECK_EQ_INT(smtpc_client_send(&c, &m.env, &m.body, &m.res), SMTPC_OK);
    CHECK_EQ_INT(m.res.status, SMTPC_OK);
    CHECK_EQ_INT(m.res.phase, SMTPC_PHASE_NONE);
    CHECK_EQ_INT(m.res.reply.code, 250);
    CHECK(strstr(m.res.reply.text, "queued as ABC123") != NULL);
    CHECK_EQ_INT(m.res.rcpt_accepted, 1);
    CHECK_EQ_INT(m.rcpt[0].status, SMTPC_OK);
    CHECK_EQ_INT(m.rcpt[1].status, SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(m.rcpt[1].code, 550);
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_OK);
    CHECK(script_done());
    /* The body: dot-stuffed, bare LF made CRLF, one final CRLF.CRLF. */
    CHECK(sent_has(&F, "\r\n\r\nhello\r\n..dot line\r\nbare LF\r\nend\r\n.\r\nQUIT\r\n"));
    CHECK(F.sent_len >= 6 && memcmp(F.sent + F.sent_len - 6, "QUIT\r\n", 6) == 0);
    CHECK(F.closes >= 1);
    CHECK_EQ_INT(c.open, 0);
    CHECK_EQ_INT(F.clock, 1000000); /* never had to wait */
    CHECK_TRACE(strstr(TB.text, "* connecting to mx.example port 25") != NULL);
    CHECK_TRACE(strstr(TB.text, "MAIL FROM:<a@example.org>\r\n") != NULL);
    CHECK_TRACE(strstr(TB.text, "250 2.0.0 queued as ABC123\r\n") != NULL);
}
#endif

/* Two mails on one connection; the second refused at MAIL keeps the
 * session open for the third. */
static const step script_three_mails[] = {
    {'S', "220 mx.example ESMTP\r\n"},
    {'C', "EHLO client.example"},
    {'S', "250 mx.example\r\n"},
    {'C', "MAIL FROM:<a@example.org>"}, {'S', "250 ok\r\n"},
    {'C', "RCPT TO:<b@example.org>"}, {'S', "250 ok\r\n"},
    {'C', "DATA"}, {'S', "354 go\r\n"},
    {'D', "."}, {'S', "250 first\r\n"},
    {'C', "MAIL FROM:<a@example.org>"}, {'S', "451 4.3.0 try later\r\n"},
    {'C', "RSET"}, {'S', "250 reset\r\n"},
    {'C', "MAIL FROM:<a@example.org>"}, {'S', "250 ok\r\n"},
    {'C', "RCPT TO:<b@example.org>"}, {'S', "250 ok\r\n"},
    {'C', "DATA"}, {'S', "354 go\r\n"},
    {'D', "."}, {'S', "250 third\r\n"},
    {'C', "QUIT"}, {'S', "221 bye\r\n"},
    {'E', NULL},
    {0, NULL},
};

static void three_mails(void)
{
    smtpc_client_config cfg;
    smtpc_client c;
    mail m;

    client_setup(&c, &cfg, script_three_mails);
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_OK);
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_send(&c, &m.env, &m.body, &m.res), SMTPC_OK);
    CHECK(strstr(m.res.reply.text, "first") != NULL);
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_send(&c, &m.env, &m.body, &m.res), SMTPC_ERR_TEMPFAIL);
    CHECK_EQ_INT(m.res.status, SMTPC_ERR_TEMPFAIL);
    CHECK_EQ_INT(m.res.phase, SMTPC_PHASE_MAIL);
    CHECK_EQ_INT(m.res.reply.code, 451); /* not RSET's 250 */
    CHECK_EQ_INT(smtpc_session_status(smtpc_client_session(&c)), SMTPC_OK); /* a refused mail is not a failed session */
    CHECK(smtpc_client_ready(&c));
    CHECK_EQ_INT(smtpc_client_error(&c, NULL), SMTPC_OK);
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_send(&c, &m.env, &m.body, &m.res), SMTPC_OK);
    CHECK(strstr(m.res.reply.text, "third") != NULL);
    /* A bad argument: nothing sent, the session stays usable. */
    mail_init(&m, 1);
    m.rcpt[0].address = "evil\r\nRSET";
    CHECK_EQ_INT(smtpc_client_send(&c, &m.env, &m.body, &m.res), SMTPC_ERR_ARG);
    CHECK_EQ_INT(m.res.status, SMTPC_ERR_ARG);
    CHECK(!sent_has(&F, "evil"));
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_OK);
    CHECK(script_done());
}

/* ---- a stray reply after the message was accepted ---- */

/* "250 queued" and, in the same segment, a reply to nothing: the session
 * is out of step and ends (QUIT), but the message was taken.  Reporting
 * the session's error for the mail would make a caller send it twice. */
static const step script_stray_after_final[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 mx\r\n"},
    {'C', "MAIL"}, {'S', "250 ok\r\n"}, {'C', "RCPT"}, {'S', "250 ok\r\n"},
    {'C', "DATA"}, {'S', "354 go\r\n"},
    {'D', "."}, {'S', "250 queued as X1\r\n250 extra\r\n"},
    {'C', "QUIT"}, {'S', "221 bye\r\n"}, {'E', NULL},
    {0, NULL},
};

static void stray_after_final(void)
{
    smtpc_client_config cfg;
    smtpc_client c;
    mail m;
    int phase = -1;

    client_setup(&c, &cfg, script_stray_after_final);
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_OK);
    CHECK_EQ_INT(smtpc_client_send(&c, &m.env, &m.body, &m.res), SMTPC_OK);
    CHECK_EQ_INT(m.res.status, SMTPC_OK);
    CHECK_EQ_INT(m.res.phase, SMTPC_PHASE_NONE);
    CHECK(strstr(m.res.reply.text, "queued as X1") != NULL);
    CHECK_EQ_INT(m.res.rcpt_accepted, 1);
    /* The session's own error is still there for whoever asks. */
    CHECK_EQ_INT(smtpc_client_error(&c, &phase), SMTPC_ERR_PROTOCOL);
    CHECK(!smtpc_client_ready(&c));
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_ERR_PROTOCOL);
    CHECK(script_done());
}

/* ---- timeouts, per phase, on the fake clock ---- */

typedef struct timeout_case {
    const char *name;
    step script[16];
    int phase;
    uint32_t ms;
} timeout_case;

static const timeout_case timeout_cases[] = {
    {"greeting", {{'H', NULL}}, SMTPC_PHASE_GREETING, 1000},
    {"ehlo",
     {{'S', "220 hi\r\n"}, {'C', "EHLO"}, {'H', NULL}},
     SMTPC_PHASE_EHLO, 2000},
    {"mail",
     {{'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 ok\r\n"},
      {'C', "MAIL"}, {'H', NULL}},
     SMTPC_PHASE_MAIL, 3000},
    {"rcpt",
     {{'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 ok\r\n"},
      {'C', "MAIL"}, {'S', "250 ok\r\n"}, {'C', "RCPT"}, {'H', NULL}},
     SMTPC_PHASE_RCPT, 4000},
    {"data",
     {{'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 ok\r\n"},
      {'C', "MAIL"}, {'S', "250 ok\r\n"}, {'C', "RCPT"}, {'S', "250 ok\r\n"},
      {'C', "DATA"}, {'H', NULL}},
     SMTPC_PHASE_DATA, 5000},
    /* The server stops reading the message: the block timeout. */
    {"block",
     {{'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 ok\r\n"},
      {'C', "MAIL"}, {'S', "250 ok\r\n"}, {'C', "RCPT"}, {'S', "250 ok\r\n"},
      {'C', "DATA"}, {'B', NULL}, {'S', "354 go\r\n"}, {'H', NULL}},
     SMTPC_PHASE_MESSAGE, 6000},
    {"data end",
     {{'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 ok\r\n"},
      {'C', "MAIL"}, {'S', "250 ok\r\n"}, {'C', "RCPT"}, {'S', "250 ok\r\n"},
      {'C', "DATA"}, {'S', "354 go\r\n"}, {'D', "."}, {'H', NULL}},
     SMTPC_PHASE_MESSAGE, 7000},
    /* Bytes keep coming, one per 100 ms, but the reply never completes
     * within the command timeout: received bytes do not restart it. */
    {"trickle",
     {{'S', "220 hi\r\n"}, {'C', "EHLO"}, {'T', NULL},
      {'S', "250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
            "250-SIZE 1000000\r\n250 HELP\r\n"},
      {'H', NULL}},
     SMTPC_PHASE_EHLO, 2000},
};

static void timeouts_per_phase(void)
{
    size_t i;

    for (i = 0; i < sizeof timeout_cases / sizeof timeout_cases[0]; i++) {
        const timeout_case *tc = &timeout_cases[i];
        smtpc_client_config cfg;
        smtpc_client c;
        mail m;
        int r;

        client_setup(&c, &cfg, tc->script);
        mail_init(&m, 1);
        r = smtpc_client_sendmail(&c, &m.env, &m.body, &m.res);
        if (r != SMTPC_ERR_TIMEOUT || m.res.phase != tc->phase)
            fprintf(stderr, "timeout case %s: r=%d phase=%d\n", tc->name, r,
                    m.res.phase);
        CHECK_EQ_INT(r, SMTPC_ERR_TIMEOUT);
        CHECK_EQ_INT(m.res.status, SMTPC_ERR_TIMEOUT);
        CHECK_EQ_INT(m.res.phase, tc->phase);
        /* Exactly the phase's timeout after the last thing that moved. */
        CHECK_EQ_INT(F.clock - (F.last_send_clock ? F.last_send_clock : 1000000),
                 tc->ms);
        CHECK(!sent_has(&F, "QUIT")); /* after a timeout nothing more */
        CHECK(F.closes >= 1);
        CHECK_EQ_INT(c.open, 0);
        CHECK_EQ_INT(smtpc_client_error(&c, NULL), SMTPC_ERR_TIMEOUT);
        CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_ERR_TIMEOUT);
        if (tc->script[2].op == 'T') {
            CHECK(F.out_pos > 8 && F.out_pos < F.out_len);
        }
        CHECK_TRACE(strstr(TB.text, "* failed: ") != NULL);
    }
}

/* QUIT unanswered: close reports the QUIT timeout (the session's first
 * error), and the mail that went through is still reported as sent. */
static const step script_quit_hangs[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 ok\r\n"},
    {'C', "MAIL"}, {'S', "250 ok\r\n"}, {'C', "RCPT"}, {'S', "250 ok\r\n"},
    {'C', "DATA"}, {'S', "354 go\r\n"}, {'D', "."}, {'S', "250 taken\r\n"},
    {'C', "QUIT"}, {'H', NULL},
    {0, NULL},
};

static void quit_timeout(void)
{
    smtpc_client_config cfg;
    smtpc_client c;
    mail m;

    client_setup(&c, &cfg, script_quit_hangs);
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_sendmail(&c, &m.env, &m.body, &m.res), SMTPC_OK);
    CHECK_EQ_INT(m.res.status, SMTPC_OK);
    CHECK_EQ_INT(m.res.reply.code, 250);
    CHECK_EQ_INT(smtpc_client_error(&c, NULL), SMTPC_ERR_TIMEOUT);
    CHECK_EQ_INT(client_phase(&c), SMTPC_PHASE_QUIT);
    CHECK_EQ_INT(F.clock - F.last_send_clock, 2000);
    CHECK(F.closes >= 1);
}

/* ---- the server goes away ---- */

static const step script_eof_mail[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 ok\r\n"},
    {'C', "MAIL"}, {'S', "250 o"}, {'E', NULL},
    {0, NULL},
};

static const step script_eof_after_quit[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 ok\r\n"},
    {'C', "QUIT"}, {'E', NULL},
    {0, NULL},
};

static void eof_mid_session(void)
{
    smtpc_client_config cfg;
    smtpc_client c;
    mail m;

    client_setup(&c, &cfg, script_eof_mail);
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_sendmail(&c, &m.env, &m.body, &m.res),
             SMTPC_ERR_CLOSED);
    CHECK_EQ_INT(m.res.status, SMTPC_ERR_CLOSED);
    CHECK_EQ_INT(m.res.phase, SMTPC_PHASE_MAIL);
    CHECK(F.eof_seen);
    CHECK_EQ_INT(F.sent_len, F.sent_at_eof); /* nothing sent after the EOF */
    CHECK(!sent_has(&F, "QUIT"));
    CHECK(!sent_has(&F, "RCPT"));
    CHECK(F.closes >= 1);
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_ERR_CLOSED);
    CHECK_TRACE(strstr(TB.text, "* connection closed by server") != NULL);

    /* A server that hangs up right after our QUIT is fine. */
    client_setup(&c, &cfg, script_eof_after_quit);
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_OK);
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_OK);
    CHECK(script_done());
}

/* ---- trace redaction ---- */

static const step script_auth_plain[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"},
    {'S', "250-mx\r\n250 AUTH PLAIN\r\n"},
    {'C', "AUTH PLAIN AHVzZXIAc2VjcmV0LXB3"}, {'S', "235 2.7.0 ok\r\n"},
    {'C', "QUIT"}, {'S', "221 bye\r\n"}, {'E', NULL},
    {0, NULL},
};

static const step script_auth_login[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"},
    {'S', "250-mx\r\n250 AUTH LOGIN\r\n"},
    {'C', "AUTH LOGIN"}, {'S', "334 VXNlcm5hbWU6\r\n"},
    {'C', "dXNlcg=="}, {'S', "334 UGFzc3dvcmQ6\r\n"},
    {'C', "c2VjcmV0LXB3"}, {'S', "235 2.7.0 ok\r\n"},
    {'C', "QUIT"}, {'S', "221 bye\r\n"}, {'E', NULL},
    {0, NULL},
};

static void redaction(const step *script, size_t send_max, size_t redacted)
{
    smtpc_client_config cfg;
    smtpc_client c;

    fake_init(&F, script);
    memset(&TB, 0, sizeof TB);
    cfg_init(&cfg);
    cfg.trace = trace_keep;
    cfg.trace_ctx = &TB;
    cfg.session.username = "user";
    cfg.session.password = "secret-pw";
    cfg.session.auth = SMTPC_AUTH_AUTO;
    CHECK_EQ_INT(smtpc_client_init(&c, &cfg, fake_transport(&F), iobuf, sizeof iobuf),
             SMTPC_OK);
    F.loopback = 1; /* credentials in clear only to loopback */
    F.send_max = send_max;
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_OK);
    CHECK_EQ_INT(smtpc_session_auth_mech(&c.session),
             script == script_auth_plain ? SMTPC_AUTH_PLAIN : SMTPC_AUTH_LOGIN);
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_OK);
    CHECK(script_done());
    /* The wire has the credentials, the trace never does. */
    CHECK(sent_has(&F, "c2VjcmV0LXB3") || sent_has(&F, "AHVzZXIAc2VjcmV0LXB3"));
    CHECK(strstr(TB.text, "secret-pw") == NULL);
    CHECK(strstr(TB.text, "c2VjcmV0LXB3") == NULL);
    CHECK(strstr(TB.text, "AHVzZXIAc2VjcmV0LXB3") == NULL);
    CHECK(strstr(TB.text, "ZXIAc2Vj") == NULL); /* no fragment of it */
    CHECK_TRACE(count_of(TB.text, "<redacted>") == redacted);
    CHECK_TRACE(strstr(TB.text, "QUIT\r\n") != NULL);
    if (script == script_auth_plain)
        CHECK_TRACE(strstr(TB.text, "AUTH PLAIN <redacted>\r\n") != NULL);
}

static const step script_auth_refused_here[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"},
    {'S', "250-mx\r\n250 AUTH PLAIN\r\n"},
    {'C', "QUIT"}, {'S', "221 bye\r\n"}, {'E', NULL},
    {0, NULL},
};

/* Credentials to a non-loopback peer without TLS: refused before any
 * credential byte is sent. */
static void no_cleartext_auth(void)
{
    smtpc_client_config cfg;
    smtpc_client c;

    fake_init(&F, script_auth_refused_here);
    cfg_init(&cfg);
    cfg.session.username = "user";
    cfg.session.password = "secret-pw";
    cfg.session.auth = SMTPC_AUTH_AUTO;
    CHECK_EQ_INT(smtpc_client_init(&c, &cfg, fake_transport(&F), iobuf, sizeof iobuf),
             SMTPC_OK);
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_ERR_AUTH_INSECURE);
    CHECK_EQ_INT(client_phase(&c), SMTPC_PHASE_AUTH);
    CHECK(!sent_has(&F, "AUTH"));
    CHECK(sent_has(&F, "QUIT")); /* an orderly end */
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_ERR_AUTH_INSECURE);
    CHECK(script_done());
}

/* ---- the first error stays ---- */

static const step script_greeting_554[] = {
    {'S', "554 5.3.2 go away\r\n"}, {'C', "QUIT"}, {'H', NULL},
    {0, NULL},
};

static const step script_greeting_554_eof[] = {
    {'S', "554 5.3.2 go away\r\n"}, {'C', "QUIT"}, {'S', "500 what\r\n"},
    {'E', NULL},
    {0, NULL},
};

static const step script_message_554[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 ok\r\n"},
    {'C', "MAIL"}, {'S', "250 ok\r\n"}, {'C', "RCPT"}, {'S', "250 ok\r\n"},
    {'C', "DATA"}, {'S', "354 go\r\n"}, {'D', "."},
    {'S', "554 5.7.1 looks like spam\r\n"},
    {'C', "QUIT"}, {'S', "421 4.3.2 shutting down\r\n"}, {'E', NULL},
    {0, NULL},
};

static void first_error_kept(void)
{
    smtpc_client_config cfg;
    smtpc_client c;
    mail m;

    /* The greeting refuses; QUIT then times out: still the 554. */
    client_setup(&c, &cfg, script_greeting_554);
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_sendmail(&c, &m.env, &m.body, &m.res),
             SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(m.res.status, SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(m.res.phase, SMTPC_PHASE_GREETING);
    CHECK_EQ_INT(m.res.reply.code, 554);
    CHECK(strstr(m.res.reply.text, "go away") != NULL);
    CHECK_EQ_INT(F.clock - F.last_send_clock, 2000); /* QUIT waited for */
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(client_phase(&c), SMTPC_PHASE_GREETING);
    CHECK(F.closes >= 1);

    /* The same with QUIT refused and the connection dropped. */
    client_setup(&c, &cfg, script_greeting_554_eof);
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(client_phase(&c), SMTPC_PHASE_GREETING);
    {
        int ph = -1;
        CHECK_EQ_INT(smtpc_client_error(&c, &ph), SMTPC_ERR_REJECTED);
        CHECK_EQ_INT(ph, SMTPC_PHASE_GREETING);
        CHECK(!smtpc_client_ready(&c));
    }
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(smtpc_last_reply(&c.session)->code, 554);
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_send(&c, &m.env, &m.body, &m.res), SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(m.res.phase, SMTPC_PHASE_GREETING);

    /* The message refused; QUIT answered 421: the mail's 554 is the
     * answer, and the reply kept is the 554, not the 421. */
    client_setup(&c, &cfg, script_message_554);
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_sendmail(&c, &m.env, &m.body, &m.res),
             SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(m.res.phase, SMTPC_PHASE_MESSAGE);
    CHECK_EQ_INT(m.res.reply.code, 554);
    CHECK_EQ_INT(m.res.reply.enh[0], 5);
    CHECK(strstr(m.res.reply.text, "spam") != NULL);
    CHECK(script_done());
}

/* ---- the body source fails mid-message ---- */

typedef struct failing_source {
    int calls;
} failing_source;

static int failing_next(void *ctx, const void **data, size_t *len)
{
    failing_source *fs = ctx;

    if (fs->calls++ == 0) {
        *data = "Subject: x\r\n\r\nfirst part\r\n";
        *len = 26;
        return SMTPC_OK;
    }
    return -1000; /* the caller's own error */
}

static const step script_to_data[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 ok\r\n"},
    {'C', "MAIL"}, {'S', "250 ok\r\n"}, {'C', "RCPT"}, {'S', "250 ok\r\n"},
    {'C', "DATA"}, {'S', "354 go\r\n"}, {'H', NULL},
    {0, NULL},
};

static void body_source_error(void)
{
    smtpc_client_config cfg;
    smtpc_client c;
    mail m;
    failing_source fs = {0};
    smtpc_body_source src;

    src.next = failing_next;
    src.ctx = &fs;
    client_setup(&c, &cfg, script_to_data);
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_sendmail(&c, &m.env, &src, &m.res),
             SMTPC_ERR_BODY_SOURCE);
    CHECK_EQ_INT(m.res.status, SMTPC_ERR_BODY_SOURCE);
    CHECK_EQ_INT(m.res.phase, SMTPC_PHASE_MESSAGE);
    CHECK_EQ_INT(fs.calls, 2);
    /* The message is never ended, so the server discards it. */
    CHECK(!sent_has(&F, "\r\n.\r\n"));
    CHECK(!sent_has(&F, "QUIT"));
    CHECK(F.closes >= 1);
    CHECK_EQ_INT(F.clock, 1000000); /* no waiting for anything */
}

/* A body source that takes longer than the block timeout to produce its
 * first piece, then a server that needs a moment to read: the time spent
 * in the source is not the server's, so no timeout. */
static int slow_next(void *ctx, const void **data, size_t *len)
{
    int *calls = ctx;

    if ((*calls)++ == 0) {
        F.clock += 7000; /* longer than block_ms */
        /* More than the send area holds, so the engine cannot end the
         * message (which would count as progress) before sending. */
        static char text[8000];
        size_t i;
        for (i = 0; i < sizeof text; i++)
            text[i] = i % 50 == 49 ? '\n' : 'b';
        *data = text;
        *len = sizeof text;
        return SMTPC_OK;
    }
    *data = NULL;
    *len = 0;
    return SMTPC_OK;
}

static const step script_slow_source[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 ok\r\n"},
    {'C', "MAIL"}, {'S', "250 ok\r\n"}, {'C', "RCPT"}, {'S', "250 ok\r\n"},
    {'C', "DATA"}, {'W', NULL}, {'S', "354 go\r\n"}, {'D', "."},
    {'S', "250 done\r\n"}, {'C', "QUIT"}, {'S', "221 bye\r\n"}, {'E', NULL},
    {0, NULL},
};

static void slow_body_source(void)
{
    smtpc_client_config cfg;
    smtpc_client c;
    mail m;
    int calls = 0;
    smtpc_body_source src;

    src.next = slow_next;
    src.ctx = &calls;
    client_setup(&c, &cfg, script_slow_source);
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_sendmail(&c, &m.env, &src, &m.res), SMTPC_OK);
    CHECK_EQ_INT(calls, 2);
    CHECK(script_done());
}

/* ---- pipelining against a server that stops reading ---- */

/* The server reads MAIL, then stops reading until the client has read
 * its reply.  A client blocked in a write would never see it. */
static const step script_stall[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"},
    {'S', "250-mx\r\n250 PIPELINING\r\n"},
    {'C', "MAIL FROM:<a@example.org>"}, {'B', NULL},
    {'S', "250 2.1.0 ok\r\n"}, {'R', NULL}, {'U', NULL},
    {'C', "RCPT TO:<b@example.org>"}, {'C', "RCPT TO:<c@example.org>"},
    {'C', "DATA"},
    {'S', "250 2.1.5 ok\r\n550 5.1.1 no such user\r\n354 go ahead\r\n"},
    {'D', "."}, {'S', "250 2.0.0 queued as ABC123\r\n"},
    {'C', "QUIT"}, {'S', "221 bye\r\n"}, {'E', NULL},
    {0, NULL},
};

/* ---- TLS ---- */

static const step script_implicit[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 ok\r\n"},
    {'C', "QUIT"}, {'S', "221 bye\r\n"}, {'E', NULL},
    {0, NULL},
};

static const step script_starttls[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"},
    {'S', "250-mx\r\n250 STARTTLS\r\n"},
    {'C', "STARTTLS"}, {'S', "220 go ahead\r\n"},
    {'C', "EHLO"}, {'S', "250-mx\r\n250 AUTH PLAIN\r\n"},
    {'C', "QUIT"}, {'S', "221 bye\r\n"}, {'E', NULL},
    {0, NULL},
};

#if SMTPC_WITH_TLS
static void tls_paths(void)
{
    smtpc_client_config cfg;
    smtpc_client c;

    /* Implicit TLS: port 465 and TLS before the greeting. */
    client_setup(&c, &cfg, script_implicit);
    cfg.session.tls = SMTPC_TLS_IMPLICIT;
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_OK);
    CHECK_EQ_INT(F.port, 465);
    CHECK_EQ_INT(F.tls_calls, 1);
    CHECK(smtpc_session_secure(&c.session));
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_OK);
    CHECK_TRACE(strstr(TB.text, "* TLS started") != NULL);

    client_setup(&c, &cfg, script_implicit);
    cfg.session.tls = SMTPC_TLS_IMPLICIT;
    F.tls_result = SMTPC_ERR_TLS_CERT;
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_ERR_TLS_CERT);
    CHECK_EQ_INT(client_phase(&c), SMTPC_PHASE_TLS);
    CHECK_EQ_INT(F.sent_len, 0);
    CHECK(F.closes >= 1);
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_ERR_TLS_CERT);

    /* STARTTLS: TLS after the 220, then EHLO again. */
    client_setup(&c, &cfg, script_starttls);
    cfg.session.tls = SMTPC_TLS_STARTTLS;
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_OK);
    CHECK_EQ_INT(F.port, 25);
    CHECK_EQ_INT(F.tls_calls, 1);
    CHECK(smtpc_session_secure(&c.session));
    CHECK(smtpc_session_caps(&c.session)->flags & SMTPC_CAP_AUTH);
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_OK);
    CHECK(script_done());

    /* The handshake fails: nothing more is sent in clear. */
    client_setup(&c, &cfg, script_starttls);
    cfg.session.tls = SMTPC_TLS_STARTTLS;
    F.tls_result = SMTPC_ERR_TLS;
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_ERR_TLS);
    CHECK_EQ_INT(client_phase(&c), SMTPC_PHASE_TLS);
    CHECK_EQ_INT(count_of(F.sent, "EHLO"), 1);
    CHECK(!sent_has(&F, "QUIT"));
    CHECK(F.closes >= 1);
}
#endif

/* ---- connect failures and arguments ---- */

static void connect_and_args(void)
{
    smtpc_client_config cfg;
    smtpc_client c;
    smtpc_timeouts t;
    mail m;

    client_setup(&c, &cfg, script_implicit);
    F.connect_result = SMTPC_ERR_CONNECT;
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_sendmail(&c, &m.env, &m.body, &m.res),
             SMTPC_ERR_CONNECT);
    CHECK_EQ_INT(m.res.status, SMTPC_ERR_CONNECT);
    CHECK_EQ_INT(m.res.phase, SMTPC_PHASE_CONNECT);
    CHECK_EQ_INT(F.sent_len, 0);
    CHECK(F.closes >= 1);
    CHECK_TRACE(strstr(TB.text, "* connect failed: ") != NULL);

    /* A bad EHLO name fails before any connection is made. */
    client_setup(&c, &cfg, script_implicit);
    cfg.session.ehlo_name = "bad\r\nname";
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_ERR_ARG);
    CHECK_EQ_INT(F.connects, 0);
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_ERR_ARG);

    /* send without open */
    client_setup(&c, &cfg, script_implicit);
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_send(&c, &m.env, &m.body, &m.res), SMTPC_ERR_STATE);
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_OK);

    cfg_init(&cfg);
    CHECK_EQ_INT(smtpc_client_init(&c, &cfg, fake_transport(&F), iobuf,
                               SMTPC_IO_MIN - 1), SMTPC_ERR_ARG);
    CHECK_EQ_INT(smtpc_client_init(&c, &cfg, fake_transport(&F), NULL,
                               sizeof iobuf), SMTPC_ERR_ARG);
    CHECK_EQ_INT(smtpc_client_init(NULL, &cfg, fake_transport(&F), iobuf,
                               sizeof iobuf), SMTPC_ERR_ARG);
    CHECK_EQ_INT(smtpc_client_init(&c, NULL, fake_transport(&F), iobuf,
                               sizeof iobuf), SMTPC_ERR_ARG);
    cfg.host = NULL;
    CHECK_EQ_INT(smtpc_client_init(&c, &cfg, fake_transport(&F), iobuf,
                               sizeof iobuf), SMTPC_ERR_ARG);
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_ERR_ARG);
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_ERR_ARG);

    /* Zero timeouts take the RFC 5321 defaults; set ones are kept. */
    cfg_init(&cfg);
    memset(&cfg.timeouts, 0, sizeof cfg.timeouts);
    cfg.timeouts.rcpt_ms = 1234;
    CHECK_EQ_INT(smtpc_client_init(&c, &cfg, fake_transport(&F), iobuf,
                               sizeof iobuf), SMTPC_OK);
    CHECK_EQ_INT(c.timeouts.connect_ms, 30000);
    CHECK_EQ_INT(c.timeouts.greeting_ms, 300000);
    CHECK_EQ_INT(c.timeouts.rcpt_ms, 1234);
    CHECK_EQ_INT(c.timeouts.data_ms, 120000);
    CHECK_EQ_INT(c.timeouts.block_ms, 180000);
    CHECK_EQ_INT(c.timeouts.data_end_ms, 600000);

    smtpc_timeouts_default(&t, 0);
    CHECK_EQ_INT(t.mail_ms, 300000);
    CHECK_EQ_INT(t.command_ms, 300000);
    smtpc_timeouts_default(&t, 777);
    CHECK(t.connect_ms == 777 && t.greeting_ms == 777 && t.command_ms == 777 &&
          t.mail_ms == 777 && t.rcpt_ms == 777 && t.data_ms == 777 &&
          t.block_ms == 777 && t.data_end_ms == 777);
}

/* ---- a large body through a small buffer, DATA and BDAT ---- */

static char big[100000];
static char big_wire[120000]; /* what DATA must carry, stuffed */
static size_t big_wire_len;
static char big_bdat[120000]; /* what BDAT must carry */
static size_t big_bdat_len;

typedef struct piece_source {
    const char *data;
    size_t len, off, piece;
    int calls;
} piece_source;

static int piece_next(void *ctx, const void **data, size_t *len)
{
    piece_source *ps = ctx;
    size_t n = ps->len - ps->off;

    if (n > ps->piece)
        n = ps->piece;
    *data = ps->data + ps->off;
    *len = n;
    ps->off += n;
    ps->calls++;
    return SMTPC_OK;
}

/* Lines of every kind: LF, CRLF, bare CR, leading dots, a lone dot. */
static void big_make(void)
{
    size_t i = 0, line = 0, j;

    while (i < sizeof big - 40) {
        int k = (int)(line % 7);
        i += (size_t)sprintf(big + i, "%sline %zu of the message%s",
                             k == 3 ? "." : (k == 5 ? ".." : ""), line,
                             k == 1 ? "\r\n" : (k == 4 ? "\r" : "\n"));
        if (line % 50 == 49)
            i += (size_t)sprintf(big + i, ".\n");
        line++;
    }
    memset(big + i, 'x', sizeof big - i); /* ends without a line end */
    /* The expected wire forms, by a plain byte-at-a-time encoder. */
    big_wire_len = big_bdat_len = 0;
    for (j = 0; j < sizeof big; j++) {
        char ch = big[j];
        int at_start = big_bdat_len == 0 || big_bdat[big_bdat_len - 1] == '\n';
        if (ch == '\n' && j > 0 && big[j - 1] == '\r')
            continue;
        if (ch == '\r' || ch == '\n') {
            memcpy(big_wire + big_wire_len, "\r\n", 2);
            memcpy(big_bdat + big_bdat_len, "\r\n", 2);
            big_wire_len += 2;
            big_bdat_len += 2;
            continue;
        }
        if (ch == '.' && at_start)
            big_wire[big_wire_len++] = '.';
        big_wire[big_wire_len++] = ch;
        big_bdat[big_bdat_len++] = ch;
    }
    memcpy(big_wire + big_wire_len, "\r\n.\r\n", 5);
    big_wire_len += 5;
    memcpy(big_bdat + big_bdat_len, "\r\n", 2);
    big_bdat_len += 2;
}

static const step script_big_data[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250-mx\r\n250 PIPELINING\r\n"},
    {'C', "MAIL"}, {'C', "RCPT"}, {'C', "DATA"},
    {'S', "250 ok\r\n250 ok\r\n354 go\r\n"},
    {'D', "."}, {'S', "250 big one\r\n"},
    {'C', "QUIT"}, {'S', "221 bye\r\n"}, {'E', NULL},
    {0, NULL},
};

/* The same without PIPELINING: each command waits for its reply. */
static const step script_big_data_plain[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 mx\r\n"},
    {'C', "MAIL"}, {'S', "250 ok\r\n"}, {'C', "RCPT"}, {'S', "250 ok\r\n"},
    {'C', "DATA"}, {'S', "354 go\r\n"},
    {'D', "."}, {'S', "250 big one\r\n"},
    {'C', "QUIT"}, {'S', "221 bye\r\n"}, {'E', NULL},
    {0, NULL},
};

static const step script_big_bdat[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"},
    {'S', "250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n"},
    {'C', "MAIL"}, {'C', "RCPT"}, {'S', "250 ok\r\n250 ok\r\n"},
    {'K', "250 2.0.0 big one\r\n"},
    {'C', "QUIT"}, {'S', "221 bye\r\n"}, {'E', NULL},
    {0, NULL},
};

static unsigned char smallbuf[SMTPC_IO_MIN];

static void big_body(const step *script, size_t piece, size_t send_max,
                     size_t recv_max)
{
    smtpc_client_config cfg;
    smtpc_client c;
    mail m;
    piece_source ps;
    smtpc_body_source src;
    const char *data_at;

    fake_init(&F, script);
    F.send_max = send_max;
    F.recv_max = recv_max;
    cfg_init(&cfg);
    CHECK_EQ_INT(smtpc_client_init(&c, &cfg, fake_transport(&F), smallbuf,
                               sizeof smallbuf), SMTPC_OK);
    memset(&ps, 0, sizeof ps);
    ps.data = big;
    ps.len = sizeof big;
    ps.piece = piece;
    src.next = piece_next;
    src.ctx = &ps;
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_sendmail(&c, &m.env, &src, &m.res), SMTPC_OK);
    if (m.res.status != SMTPC_OK)
        fprintf(stderr, "big body (%s, piece %zu, send %zu, recv %zu): "
                "status %d phase %d after %lu ms, %zu bytes sent\n",
                script == script_big_bdat ? "BDAT" : "DATA", piece, send_max,
                recv_max, m.res.status, m.res.phase,
                (unsigned long)(F.clock - 1000000), F.sent_len);
    CHECK(strstr(m.res.reply.text, "big one") != NULL);
    CHECK(script_done());
    if (script != script_big_bdat) {
        data_at = strstr(F.sent, "DATA\r\n");
        CHECK(data_at != NULL);
        if (data_at != NULL) {
            data_at += 6;
            CHECK((size_t)(F.sent + F.sent_len - data_at) >=
                  big_wire_len + 6);
            CHECK(memcmp(data_at, big_wire, big_wire_len) == 0);
            CHECK(memcmp(data_at + big_wire_len, "QUIT\r\n", 6) == 0);
        }
    } else {
        CHECK_EQ_INT(F.bdat_len, big_bdat_len);
        CHECK(memcmp(F.bdat, big_bdat, big_bdat_len) == 0);
        CHECK(F.bdat_chunks > 100); /* streamed through a 512-byte area */
    }
}

/* The server stops reading in the middle of a message larger than the
 * send area: the block timeout ends it, however full the area is. */
static const step script_block_big[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 ok\r\n"},
    {'C', "MAIL"}, {'S', "250 ok\r\n"}, {'C', "RCPT"}, {'S', "250 ok\r\n"},
    {'C', "DATA"}, {'S', "354 go\r\n"}, {'P', "line 20 of"}, {'B', NULL},
    {'H', NULL},
    {0, NULL},
};

static void block_big_body(size_t send_max)
{
    smtpc_client_config cfg;
    smtpc_client c;
    mail m;
    piece_source ps;
    smtpc_body_source src;

    client_setup(&c, &cfg, script_block_big);
    F.send_max = send_max;
    memset(&ps, 0, sizeof ps);
    ps.data = big;
    ps.len = sizeof big;
    ps.piece = 1000;
    src.next = piece_next;
    src.ctx = &ps;
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_sendmail(&c, &m.env, &src, &m.res), SMTPC_ERR_TIMEOUT);
    CHECK_EQ_INT(m.res.phase, SMTPC_PHASE_MESSAGE);
    CHECK_EQ_INT(F.clock - F.last_send_clock, 6000);
    CHECK(ps.off < sizeof big);
    CHECK(F.waits < 10);
    CHECK(!sent_has(&F, "QUIT"));
}

/* The server hangs up in the middle of the message. */
static const step script_eof_in_body[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"}, {'S', "250 ok\r\n"},
    {'C', "MAIL"}, {'S', "250 ok\r\n"}, {'C', "RCPT"}, {'S', "250 ok\r\n"},
    {'C', "DATA"}, {'S', "354 go\r\n"}, {'P', "line 20 of"}, {'E', NULL},
    {0, NULL},
};

static void eof_in_body(void)
{
    smtpc_client_config cfg;
    smtpc_client c;
    mail m;
    piece_source ps;
    smtpc_body_source src;

    client_setup(&c, &cfg, script_eof_in_body);
    memset(&ps, 0, sizeof ps);
    ps.data = big;
    ps.len = sizeof big;
    ps.piece = 1000;
    src.next = piece_next;
    src.ctx = &ps;
    mail_init(&m, 1);
    CHECK_EQ_INT(smtpc_client_sendmail(&c, &m.env, &src, &m.res), SMTPC_ERR_CLOSED);
    CHECK_EQ_INT(m.res.phase, SMTPC_PHASE_MESSAGE);
    CHECK_EQ_INT(client_phase(&c), SMTPC_PHASE_MESSAGE);
    /* No reply is awaited while the body goes out, so the client learns
     * of the close from its next send. */
    CHECK(ps.off < sizeof big);
    CHECK(!sent_has(&F, "QUIT"));
    CHECK(F.closes >= 1);
}

static void body_memory(void)
{
    smtpc_body_mem mem;
    smtpc_body_source src = smtpc_body_memory(&mem, "abc", 3);
    const void *d = NULL;
    size_t n = 0;

    CHECK_EQ_INT(src.next(src.ctx, &d, &n), SMTPC_OK);
    CHECK(n == 3 && d != NULL && memcmp(d, "abc", 3) == 0);
    CHECK_EQ_INT(src.next(src.ctx, &d, &n), SMTPC_OK);
    CHECK_EQ_INT(n, 0);
    src = smtpc_body_memory(&mem, "", 0);
    CHECK_EQ_INT(src.next(src.ctx, &d, &n), SMTPC_OK);
    CHECK_EQ_INT(n, 0);
}

#if SMTPC_WITH_PIPELINING
/* ---- mails pipelined back to back (smtpc_client_submit) ---- */

/* Each next envelope must arrive before the server answers the message
 * before it: a client that waited would stall here until its timeout. */
static const step script_submit[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"},
    {'S', "250-mx\r\n250 PIPELINING\r\n"},
    {'C', "MAIL"}, {'C', "RCPT"}, {'C', "DATA"},
    {'S', "250 ok\r\n250 ok\r\n354 go\r\n"},
    {'D', "."}, {'C', "MAIL"}, {'C', "RCPT"}, {'C', "DATA"},
    {'S', "250 2.0.0 queued as ONE\r\n250 ok\r\n250 ok\r\n354 go\r\n"},
    {'D', "."}, {'C', "MAIL"}, {'C', "RCPT"}, {'C', "DATA"},
    {'S', "554 5.7.1 second refused\r\n250 ok\r\n250 ok\r\n354 go\r\n"},
    {'D', "."}, {'C', "QUIT"},
    {'S', "250 2.0.0 queued as THREE\r\n221 bye\r\n"}, {'E', NULL},
    {0, NULL},
};

static void submit_batch(size_t recv_max)
{
    smtpc_client_config cfg;
    smtpc_client c;
    mail m[3];
    int i;

    unit_case = "submit: three mails, one round trip each";
    client_setup(&c, &cfg, script_submit);
    F.recv_max = recv_max;
    for (i = 0; i < 3; i++)
        mail_init(&m[i], 1);
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_OK);
    CHECK_EQ_INT(smtpc_client_submit(&c, &m[0].env, &m[0].body,
                                     SMTPC_SUBMIT_MORE), SMTPC_ERR_PENDING);
    CHECK_EQ_INT(m[0].env.result.status, SMTPC_ERR_PENDING);
    CHECK_EQ_INT(smtpc_client_submit(&c, &m[1].env, &m[1].body,
                                     SMTPC_SUBMIT_MORE), SMTPC_ERR_PENDING);
    CHECK_EQ_INT(m[0].env.result.status, SMTPC_OK);
    CHECK(strstr(m[0].env.result.reply.text, "queued as ONE") != NULL);
    CHECK_EQ_INT(smtpc_client_submit(&c, &m[2].env, &m[2].body,
                                     SMTPC_SUBMIT_LAST), SMTPC_OK);
    CHECK_EQ_INT(m[1].env.result.status, SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(m[1].env.result.phase, SMTPC_PHASE_MESSAGE);
    CHECK_EQ_INT(m[1].env.result.reply.code, 554);
    CHECK(strstr(m[1].env.result.reply.text, "second refused") != NULL);
    CHECK(strstr(m[2].env.result.reply.text, "queued as THREE") != NULL);
    CHECK_EQ_INT(m[2].env.result.rcpt_accepted, 1);
    CHECK_EQ_INT(c.open, 0);
    CHECK_EQ_INT(smtpc_client_error(&c, NULL), SMTPC_OK);
    CHECK(script_done());
    CHECK_EQ_INT(F.clock, 1000000); /* never had to wait */
    /* A session that is over takes no more mail, and says why. */
    CHECK_EQ_INT(smtpc_client_submit(&c, &m[0].env, &m[0].body, 0),
                 SMTPC_ERR_STATE);
    CHECK_EQ_INT(m[0].env.result.status, SMTPC_ERR_STATE);
}

/* The server closes after answering the first message: the second never
 * had an answer and is not reported sent; the first keeps its 250. */
static const step script_submit_closed[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"},
    {'S', "250-mx\r\n250 PIPELINING\r\n"},
    {'C', "MAIL"}, {'C', "RCPT"}, {'C', "DATA"},
    {'S', "250 ok\r\n250 ok\r\n354 go\r\n"},
    {'D', "."}, {'C', "MAIL"}, {'C', "RCPT"}, {'C', "DATA"},
    {'S', "250 2.0.0 queued as ONE\r\n"}, {'E', NULL},
    {0, NULL},
};

/* QUIT behind a message whose reply is pending, from smtpc_client_close. */
static const step script_close_pending[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"},
    {'S', "250-mx\r\n250 PIPELINING\r\n"},
    {'C', "MAIL"}, {'C', "RCPT"}, {'C', "DATA"},
    {'S', "250 ok\r\n250 ok\r\n354 go\r\n"},
    {'D', "."}, {'C', "QUIT"},
    {'S', "250 2.0.0 queued as ONE\r\n221 bye\r\n"}, {'E', NULL},
    {0, NULL},
};

/* One mail on a new connection with CHUNKING: MAIL, RCPT, BDAT LAST and
 * QUIT in one group, answered together. */
static const step script_sendmail_bdat[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"},
    {'S', "250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n"},
    {'C', "MAIL"}, {'C', "RCPT"}, {'C', "BDAT"}, {'P', "QUIT"},
    {'S', "250 ok\r\n250 ok\r\n250 2.0.0 queued as B\r\n221 bye\r\n"},
    {'E', NULL},
    {0, NULL},
};

/* The same with DATA: the 354 is awaited, then the text, "." and QUIT go
 * together. */
static const step script_sendmail_data[] = {
    {'S', "220 hi\r\n"}, {'C', "EHLO"},
    {'S', "250-mx\r\n250 PIPELINING\r\n"},
    {'C', "MAIL"}, {'C', "RCPT"}, {'C', "DATA"},
    {'S', "250 ok\r\n250 ok\r\n354 go\r\n"},
    {'D', "."}, {'C', "QUIT"},
    {'S', "550 5.7.1 refused\r\n221 bye\r\n"}, {'E', NULL},
    {0, NULL},
};

static void submit_edges(void)
{
    smtpc_client_config cfg;
    smtpc_client c;
    mail m[2];

    unit_case = "submit: closed with the second pending";
    client_setup(&c, &cfg, script_submit_closed);
    mail_init(&m[0], 1);
    mail_init(&m[1], 1);
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_OK);
    CHECK_EQ_INT(smtpc_client_submit(&c, &m[0].env, &m[0].body,
                                     SMTPC_SUBMIT_MORE), SMTPC_ERR_PENDING);
    CHECK_EQ_INT(smtpc_client_submit(&c, &m[1].env, &m[1].body,
                                     SMTPC_SUBMIT_MORE), SMTPC_ERR_CLOSED);
    CHECK_EQ_INT(m[0].env.result.status, SMTPC_OK);
    CHECK_EQ_INT(m[1].env.result.status, SMTPC_ERR_CLOSED);
    CHECK_EQ_INT(smtpc_client_flush(&c), SMTPC_ERR_CLOSED);
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_ERR_CLOSED);
    CHECK(script_done());

    unit_case = "submit: close with a reply pending";
    client_setup(&c, &cfg, script_close_pending);
    mail_init(&m[0], 1);
    CHECK_EQ_INT(smtpc_client_open(&c), SMTPC_OK);
    CHECK_EQ_INT(smtpc_client_submit(&c, &m[0].env, &m[0].body,
                                     SMTPC_SUBMIT_MORE), SMTPC_ERR_PENDING);
    CHECK_EQ_INT(smtpc_client_close(&c), SMTPC_OK);
    CHECK_EQ_INT(m[0].env.result.status, SMTPC_OK);
    CHECK(script_done());
    CHECK_EQ_INT(F.clock, 1000000);

    unit_case = "sendmail: BDAT LAST and QUIT in one group";
    client_setup(&c, &cfg, script_sendmail_bdat);
    mail_init(&m[0], 1);
    CHECK_EQ_INT(smtpc_client_sendmail(&c, &m[0].env, &m[0].body, &m[0].res),
                 SMTPC_OK);
    CHECK(strstr(m[0].res.reply.text, "queued as B") != NULL);
    CHECK(script_done());
    CHECK_EQ_INT(F.clock, 1000000);

    unit_case = "sendmail: the text and QUIT in one group, refused";
    client_setup(&c, &cfg, script_sendmail_data);
    mail_init(&m[0], 1);
    CHECK_EQ_INT(smtpc_client_sendmail(&c, &m[0].env, &m[0].body, &m[0].res),
                 SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(m[0].res.phase, SMTPC_PHASE_MESSAGE);
    CHECK_EQ_INT(m[0].env.result.status, SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(smtpc_client_error(&c, NULL), SMTPC_OK);
    CHECK(script_done());
    CHECK_EQ_INT(F.clock, 1000000);
}
#endif

int main(void)
{
#if SMTPC_WITH_PIPELINING && SMTPC_WITH_CHUNKING
    /* These need PIPELINING or CHUNKING, which the minimal profile
     * (test_client_minimal.c) leaves out. */
    full_session(script_ok, 0, 0);
    full_session(script_ok, 1, 0);  /* every reply one byte at a time */
    full_session(script_ok, 0, 3);  /* the server takes 3 bytes per send */
    full_session(script_pipelined, 0, 0);
    full_session(script_pipelined, 1, 1);
    full_session(script_stall, 0, 10);
#endif
    three_mails();
    stray_after_final();
    timeouts_per_phase();
    quit_timeout();
    eof_mid_session();
    redaction(script_auth_plain, 0, 1);
    redaction(script_auth_plain, 4, 1); /* secret split over many sends */
    redaction(script_auth_login, 0, 2);
    redaction(script_auth_login, 3, 2);
    no_cleartext_auth();
    first_error_kept();
    body_source_error();
    slow_body_source();
#if SMTPC_WITH_TLS
    tls_paths();
#endif
    connect_and_args();
    body_memory();
    big_make();
    /* Without PIPELINING, on both builds: each command waits. */
    big_body(script_big_data_plain, 1000, 0, 0);
    big_body(script_big_data_plain, 7, 13, 1);
    big_body(script_big_data_plain, sizeof big, 0, 0);
#if SMTPC_WITH_PIPELINING && SMTPC_WITH_CHUNKING
    big_body(script_big_data, 1000, 0, 0);
    big_body(script_big_data, 7, 13, 1);
    big_body(script_big_data, sizeof big, 0, 0);
    big_body(script_big_bdat, 1000, 0, 0);
    big_body(script_big_bdat, 7, 13, 1);
    big_body(script_big_bdat, sizeof big, 0, 0);
#endif
    block_big_body(0);
    block_big_body(100);
    eof_in_body();
#if SMTPC_WITH_PIPELINING
    submit_batch(0);
    submit_batch(1);
    submit_edges();
#endif
    return unit_done();
}
