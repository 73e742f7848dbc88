/*
 * Mails pipelined back to back against a model server: every way of
 * refusing each of three mails, the connection cut after any reply, the
 * replies delivered in pieces of any size.  The server checks what the
 * client sends (command order, message text); the test checks that each
 * mail's outcome is its own: exactly what the server decided for it, and
 * never success unless the server's positive final reply to that mail
 * was sent.
 */
#include <stdint.h>
#include <stdlib.h>

#include "smtpc/engine.h"
#include "unit.h"

enum fate {
    F_OK,
    F_MAIL_5XX,
    F_MAIL_4XX,
    F_RCPT_ONE,   /* one recipient refused, the other accepted */
    F_RCPT_ALL,
    F_DATA_554,   /* with CHUNKING: the last chunk refused */
    F_FINAL_5XX,
    F_FINAL_4XX,
    F_421,        /* 421 to MAIL: the server closes */
    F_COUNT
};

static const int fate_status[F_COUNT] = {
    SMTPC_OK,          SMTPC_ERR_REJECTED, SMTPC_ERR_TEMPFAIL,
    SMTPC_OK,          SMTPC_ERR_NO_RECIPIENTS, SMTPC_ERR_REJECTED,
    SMTPC_ERR_REJECTED, SMTPC_ERR_TEMPFAIL, SMTPC_ERR_TEMPFAIL};

#define K 3

enum { SV_IDLE, SV_TXN, SV_TEXT };

typedef struct server {
    int chunking;
    const int *fates;
    int state, msg, rcpts, rcpt_ok, closed, violation;
    int replies, cut;               /* close after cut replies */
    int decided[K];                 /* the reply that decides mail i went out */
    char in[8192];
    size_t in_len;
    char out[8192];
    size_t out_len, out_pos;
    char body[K][64];
    size_t body_len[K];
    unsigned long bdat_left;
    int bdat_last;
} server;

static void sv_reply(server *v, const char *text, int decides)
{
    size_t n = strlen(text);

    if (v->closed)
        return;
    if (v->out_len + n <= sizeof v->out) {
        memcpy(v->out + v->out_len, text, n);
        v->out_len += n;
    }
    if (decides && v->msg >= 0 && v->msg < K)
        v->decided[v->msg] = 1;
    if (++v->replies >= v->cut || strncmp(text, "421", 3) == 0 ||
        strncmp(text, "221", 3) == 0)
        v->closed = 1;
}

static int fate_of(const server *v)
{
    return v->msg >= 0 && v->msg < K ? v->fates[v->msg] : F_OK;
}

/* The reply that ends a message (after "." or BDAT LAST). */
static void sv_final(server *v)
{
    int f = fate_of(v);

    v->state = SV_IDLE;
    if (v->rcpt_ok == 0)
        sv_reply(v, "554 5.5.1 no valid recipients\r\n", 0);
    else if (f == F_FINAL_5XX || (v->chunking && f == F_DATA_554))
        sv_reply(v, "554 5.7.1 refused\r\n", 1);
    else if (f == F_FINAL_4XX)
        sv_reply(v, "451 4.3.0 later\r\n", 1);
    else
        sv_reply(v, "250 2.0.0 queued\r\n", 1);
}

static void sv_command(server *v, const char *line, size_t len)
{
    int f;

    if (len >= 10 && memcmp(line, "MAIL FROM:", 10) == 0) {
        if (v->state != SV_IDLE)
            v->violation = 1; /* a transaction left open */
        v->msg++;
        v->rcpts = v->rcpt_ok = 0;
        f = fate_of(v);
        if (f == F_MAIL_5XX) {
            sv_reply(v, "550 5.1.8 bad sender\r\n", 1);
        } else if (f == F_MAIL_4XX) {
            sv_reply(v, "451 4.3.0 try later\r\n", 1);
        } else if (f == F_421) {
            sv_reply(v, "421 4.3.2 going down\r\n", 1);
        } else {
            v->state = SV_TXN;
            sv_reply(v, "250 2.1.0 ok\r\n", 0);
        }
    } else if (len >= 8 && memcmp(line, "RCPT TO:", 8) == 0) {
        f = fate_of(v);
        if (v->state != SV_TXN) {
            sv_reply(v, "503 5.5.1 need MAIL\r\n", 0);
        } else if (f == F_RCPT_ALL || (f == F_RCPT_ONE && v->rcpts == 0)) {
            v->rcpts++;
            sv_reply(v, "550 5.1.1 no such user\r\n",
                     f == F_RCPT_ALL && v->rcpts == 2);
        } else {
            v->rcpts++;
            v->rcpt_ok++;
            sv_reply(v, "250 2.1.5 ok\r\n", 0);
        }
    } else if (len == 4 && memcmp(line, "DATA", 4) == 0) {
        if (v->state != SV_TXN)
            sv_reply(v, "503 5.5.1 need RCPT\r\n", 0);
        else if (v->rcpt_ok == 0)
            sv_reply(v, "554 5.5.1 no valid recipients\r\n", 0);
        else if (fate_of(v) == F_DATA_554)
            sv_reply(v, "554 5.3.0 no DATA now\r\n", 1);
        else {
            v->state = SV_TEXT;
            sv_reply(v, "354 go\r\n", 0);
        }
    } else if (len == 4 && memcmp(line, "RSET", 4) == 0) {
        f = fate_of(v);
        /* An RSET must never reset a transaction that is going well. */
        if (v->state == SV_TXN &&
            (f == F_OK || f == F_RCPT_ONE || f == F_FINAL_5XX ||
             f == F_FINAL_4XX))
            v->violation = 1;
        v->state = SV_IDLE;
        sv_reply(v, "250 2.0.0 ok\r\n", 0);
    } else if (len == 4 && memcmp(line, "QUIT", 4) == 0) {
        sv_reply(v, "221 2.0.0 bye\r\n", 0);
    } else {
        v->violation = 1;
        sv_reply(v, "500 5.5.2 what\r\n", 0);
    }
}

static void sv_text(server *v, const char *line, size_t len)
{
    int i = v->msg;

    if (len == 1 && line[0] == '.') {
        sv_final(v);
        return;
    }
    if (len > 0 && line[0] == '.') { /* dot-stuffing undone */
        line++;
        len--;
    }
    if (i >= 0 && i < K && v->body_len[i] + len + 2 <= sizeof v->body[i]) {
        memcpy(v->body[i] + v->body_len[i], line, len);
        memcpy(v->body[i] + v->body_len[i] + len, "\r\n", 2);
        v->body_len[i] += len + 2;
    }
}

/* A BDAT chunk's data; its reply once the whole chunk is in. */
static size_t sv_chunk(server *v, const char *p, size_t avail)
{
    size_t take = avail < v->bdat_left ? avail : v->bdat_left;
    int i = v->msg;

    if (i >= 0 && i < K && v->body_len[i] + take <= sizeof v->body[i]) {
        memcpy(v->body[i] + v->body_len[i], p, take);
        v->body_len[i] += take;
    }
    v->bdat_left -= take;
    if (v->bdat_left == 0) {
        if (v->state != SV_TXN)
            sv_reply(v, "503 5.5.1 need RCPT\r\n", 0);
        else if (v->bdat_last)
            sv_final(v);
        else
            sv_reply(v, "250 2.0.0 chunk\r\n", 0);
    }
    return take;
}

/* Takes every byte the client sent. */
static void sv_take(server *v, const unsigned char *p, size_t n)
{
    size_t used = 0;

    if (v->closed)
        return;
    if (v->in_len + n > sizeof v->in) {
        v->violation = 1;
        return;
    }
    memcpy(v->in + v->in_len, p, n);
    v->in_len += n;
    while (!v->closed && used < v->in_len) {
        char *start = v->in + used;
        size_t avail = v->in_len - used;
        char *nl;
        size_t len;

        if (v->bdat_left > 0) {
            used += sv_chunk(v, start, avail);
            continue;
        }
        nl = memchr(start, '\n', avail);
        if (nl == NULL)
            break;
        len = (size_t)(nl - start) + 1;
        used += len;
        if (len < 2 || start[len - 2] != '\r') {
            v->violation = 1; /* a bare LF */
            continue;
        }
        if (v->state == SV_TEXT) {
            sv_text(v, start, len - 2);
        } else if (len > 7 && memcmp(start, "BDAT ", 5) == 0) {
            char *q = start + 5;
            v->bdat_left = strtoul(q, &q, 10);
            v->bdat_last = strncmp(q, " LAST", 5) == 0;
            if (v->bdat_left == 0)
                v->violation = 1; /* the engine sends no empty chunk */
        } else {
            sv_command(v, start, len - 2);
        }
    }
    memmove(v->in, v->in + used, v->in_len - used);
    v->in_len -= used;
}

static const char body_text[] = "line one\n.dot\nend";
static const char body_wire[] = "line one\r\n.dot\r\nend\r\n";

/* One session: K mails, each begun as soon as the engine takes it, QUIT
 * behind the last. */
static void run_model(int chunking, const int *fates, int cut, size_t split)
{
    static unsigned char io[4096];
    static server v;
    static char label[160];
    smtpc_config cfg = {0};
    smtpc_session s;
    smtpc_rcpt rc[K][2];
    smtpc_envelope env[K];
    int begun = 0, ended = 0, quitted = 0, i, turns;

    snprintf(label, sizeof label, "model %s fates %d%d%d cut %d split %u",
             chunking ? "BDAT" : "DATA", fates[0], fates[1], fates[2], cut,
             (unsigned)split);
    unit_case = label;
    memset(&v, 0, sizeof v);
    v.chunking = chunking;
    v.fates = fates;
    v.msg = -1;
    v.cut = cut;
    memset(rc, 0, sizeof rc);
    memset(env, 0, sizeof env);
    for (i = 0; i < K; i++) {
        rc[i][0].address = "a@example.com";
        rc[i][1].address = "b@example.com";
        env[i].from = "f@example.org";
        env[i].rcpts = rc[i];
        env[i].rcpt_count = 2;
    }
    cfg.ehlo_name = "c.example";
    smtpc_session_init(&s, &cfg, io, sizeof io);
    smtpc_feed(&s, "220 hi\r\n", 8);
    {
        size_t n;
        const unsigned char *p = smtpc_send_buf(&s, &n);
        smtpc_send_ack(&s, n);
        (void)p;
    }
    if (chunking)
        smtpc_feed(&s, "250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n", 38);
    else
        smtpc_feed(&s, "250-mx\r\n250 PIPELINING\r\n", 24);

    for (turns = 0; turns < 1000; turns++) {
        unsigned st = smtpc_session_state(&s);
        int moved = 0;
        size_t n;
        const unsigned char *p;

        if (st & SMTPC_CLOSED)
            break;
        if (begun < K && begun == ended && (st & (SMTPC_READY | SMTPC_NEXT_MAIL))) {
            if (smtpc_mail_begin(&s, &env[begun]) == SMTPC_OK)
                begun++;
            continue;
        }
        if (st & SMTPC_WANT_BODY) {
            CHECK_EQ_INT(smtpc_body_write(&s, body_text, sizeof body_text - 1),
                         sizeof body_text - 1);
            CHECK_EQ_INT(smtpc_body_end(&s), SMTPC_OK);
            ended = begun;
            moved = 1;
        }
        if (begun == ended && begun > 0 && !quitted &&
            (begun == K || (st & SMTPC_READY))) {
            /* Behind the last message, or once READY (a failed mail). */
            if (begun == K && smtpc_quit(&s) == SMTPC_OK)
                quitted = 1;
        }
        if (ended < begun && (st & SMTPC_READY))
            ended = begun; /* the mail failed before its body */
        while ((p = smtpc_send_buf(&s, &n)) != NULL && n > 0) {
            sv_take(&v, p, n);
            smtpc_send_ack(&s, n);
            moved = 1;
        }
        if (v.out_pos < v.out_len) {
            size_t left = v.out_len - v.out_pos;
            size_t take = left < split ? left : split;
            size_t fed = smtpc_feed(&s, v.out + v.out_pos, take);
            v.out_pos += fed;
            moved |= fed > 0;
        } else if (v.closed) {
            smtpc_recv_eof(&s);
            moved = 1;
        }
        if (!moved && !(smtpc_session_state(&s) & (SMTPC_READY | SMTPC_NEXT_MAIL)))
            break;
    }
    CHECK(smtpc_session_state(&s) & SMTPC_CLOSED);
    CHECK(!v.violation);
    for (i = 0; i < begun; i++) {
        int got = env[i].result.status;
        int want = fate_status[fates[i]];
        CHECK_MSG(got != SMTPC_ERR_PENDING, "mail %d never settled", i);
        if (v.decided[i])
            CHECK_MSG(got == want, "mail %d: %d, server said %d", i, got, want);
        else
            CHECK_MSG(got != SMTPC_OK, "mail %d reported sent", i);
        if (got == SMTPC_OK) {
            size_t wl = sizeof body_wire - 1;
            CHECK_EQ_MEM(v.body[i], v.body_len[i], body_wire, wl);
            CHECK_EQ_INT(env[i].result.rcpt_accepted,
                         fates[i] == F_RCPT_ONE ? 1 : 2);
        }
    }
}

int main(void)
{
    static const size_t splits[] = {1, 5, 4096};
    int f[K], mode, cut;
    size_t si;

    for (mode = 0; mode < 2; mode++)
        for (f[0] = 0; f[0] < F_COUNT; f[0]++)
            for (f[1] = 0; f[1] < F_COUNT; f[1]++)
                for (f[2] = 0; f[2] < F_COUNT; f[2] += F_FINAL_5XX)
                    for (cut = 1; cut <= 24; cut++)
                        for (si = 0; si < 3; si++)
                            run_model(mode, f, cut, splits[si]);
    return unit_done();
}
