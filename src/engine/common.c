/*
 * common.c - the read-only accessors, the acknowledgement of bytes sent
 * and received, and small helpers.  How a reply is handled is
 * session.c's; what the send area holds, command.c's and body.c's.
 */
#include "internal.h"

#include <string.h>

/* ---- helpers ---- */

void smtpc_wipe(void *p, size_t n)
{
    /* volatile: the compiler may not drop stores to memory that is
     * never read again, which is exactly what a wipe writes. */
    volatile unsigned char *v = p;

    while (n-- > 0)
        *v++ = 0;
}

int smtpc_e_status_for_code(unsigned code)
{
    if (code >= 400 && code < 500)
        return SMTPC_ERR_TEMPFAIL;
    if (code >= 500 && code < 600)
        return SMTPC_ERR_REJECTED;
    return SMTPC_ERR_PROTOCOL; /* a 2xx or 3xx where it makes no sense */
}

/* Field by field: the reply text may be large (a host build keeps whole
 * replies), and only its used part is ever written. */
void smtpc_e_result_reset(smtpc_envelope *env, int status, int phase)
{
    smtpc_result *r;

    if (env == NULL)
        return;
    r = &env->result;
    r->status = status;
    r->phase = phase;
    r->rcpt_accepted = 0;
    memset(&r->reply, 0, offsetof(smtpc_reply, text) + 1);
}

void smtpc_e_result_set(smtpc_envelope *env, int status, int phase,
                        const smtpc_reply *reply, size_t accepted)
{
    smtpc_result *r = &env->result;

    r->status = status;
    r->phase = status == SMTPC_OK ? SMTPC_PHASE_NONE : phase;
    if (reply != NULL)
        memcpy(&r->reply, reply,
               offsetof(smtpc_reply, text) + strlen(reply->text) + 1);
    r->rcpt_accepted = accepted;
}

void smtpc_e_mail_settle(smtpc_session *s)
{
    if (s->env != NULL && s->env->result.status == SMTPC_ERR_PENDING)
        smtpc_e_result_set(s->env, s->mail_status, s->mail_phase, &s->reply,
                           s->rcpt_ok);
}

/* A new mail: no recipient is counted or answered yet. */
void smtpc_e_mail_reset(smtpc_session *s, smtpc_envelope *env)
{
    size_t i;

    s->env = env;
    s->rcpt_next = s->rcpt_reply = s->rcpt_ok = 0;
    smtpc_e_result_reset(env, SMTPC_ERR_PENDING, SMTPC_PHASE_NONE);
    if (env == NULL || env->rcpts == NULL)
        return;
    for (i = 0; i < env->rcpt_count; i++) {
        smtpc_rcpt *r = &env->rcpts[i];
        r->status = SMTPC_ERR_STATE; /* not answered (yet) */
        r->code = 0;
        r->enh[0] = r->enh[1] = r->enh[2] = 0;
        r->text[0] = '\0';
    }
}

/* ---- the session, read only ---- */

int smtpc_session_status(const smtpc_session *s)
{
    return s->status;
}

int smtpc_session_phase(const smtpc_session *s)
{
    return s->phase;
}

const smtpc_reply *smtpc_last_reply(const smtpc_session *s)
{
    return &s->reply;
}

const smtpc_caps *smtpc_session_caps(const smtpc_session *s)
{
    return &s->caps;
}

int smtpc_session_auth_mech(const smtpc_session *s)
{
    return (s->flags & F_AUTHED) ? s->auth_mech : SMTPC_AUTH_NONE;
}

int smtpc_session_secure(const smtpc_session *s)
{
    return (s->flags & F_SECURE) != 0;
}

uint32_t smtpc_session_progress(const smtpc_session *s)
{
    return s->progress;
}

int smtpc_mail_status(const smtpc_session *s)
{
    return s->mail_status;
}

int smtpc_mail_phase(const smtpc_session *s)
{
    return s->mail_phase;
}

size_t smtpc_mail_accepted(const smtpc_session *s)
{
    return s->rcpt_ok;
}

/* ---- bytes ---- */

void smtpc_send_secret_range(const smtpc_session *s, size_t *start,
                             size_t *end)
{
    *start = *end = 0;
    if (s->tx_secret_hi > s->tx_secret_lo && s->tx_secret_hi > s->tx_head) {
        *start = s->tx_secret_lo > s->tx_head ? s->tx_secret_lo - s->tx_head
                                              : 0;
        *end = s->tx_secret_hi - s->tx_head;
    }
}

unsigned char *smtpc_recv_buf(smtpc_session *s, size_t *len)
{
    *len = 0;
    if (s->state == ST_CLOSED || s->rx_fill >= SMTPC_LINE_MAX)
        return NULL;
    *len = SMTPC_LINE_MAX - s->rx_fill;
    return s->rx + s->rx_fill;
}

size_t smtpc_feed(smtpc_session *s, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t done = 0;

    while (done < len) {
        size_t room;
        unsigned char *dst = smtpc_recv_buf(s, &room);
        if (dst == NULL || room == 0)
            break;
        if (room > len - done)
            room = len - done;
        memcpy(dst, p + done, room);
        smtpc_recv_ack(s, room);
        done += room;
    }
    return done;
}

/* Bytes went out or came in: the engine takes the step that may follow
 * (smtpc_e_run).  An open BDAT chunk keeps its offsets. */
void smtpc_send_ack(smtpc_session *s, size_t n)
{
    if (s->state == ST_CLOSED)
        return;
    if (n > s->tx_tail - s->tx_head)
        n = s->tx_tail - s->tx_head;
    s->tx_head += (uint32_t)n;
    if (s->tx_secret_hi > s->tx_secret_lo && s->tx_head >= s->tx_secret_hi) {
        /* The secret is on its way: its copy here is no longer needed. */
        smtpc_wipe(s->tx + s->tx_secret_lo,
                     s->tx_secret_hi - s->tx_secret_lo);
        s->tx_secret_lo = s->tx_secret_hi = 0;
    }
    if (s->tx_head == s->tx_tail && !CHUNK_OPEN(s))
        s->tx_head = s->tx_tail = 0;
    smtpc_e_run(s);
}

void smtpc_recv_ack(smtpc_session *s, size_t n)
{
    if (s->state == ST_CLOSED)
        return;
    if (n > (size_t)(SMTPC_LINE_MAX - s->rx_fill))
        n = SMTPC_LINE_MAX - s->rx_fill;
    s->rx_fill = (uint16_t)(s->rx_fill + n);
    smtpc_e_run(s);
}
