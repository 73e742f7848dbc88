/*
 * common.c - what both engines share word for word (session.c and the rest, or
 * tiny.c): the read-only accessors, the receive area's plumbing and two
 * small helpers.  Whatever differs between the engines (how a reply is
 * handled, what the send area holds) stays in their own files.
 */
#include "internal.h"

#include <string.h>

/* ---- helpers ---- */

void smtpc_e_wipe(void *p, size_t n)
{
    /* volatile so that the compiler cannot drop a store to dead memory */
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
