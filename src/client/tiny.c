/*
 * tiny.c - the tiny blocking client: smtpc/client.h for the minimal
 * profile, built instead of client.c and loop.c when SMTPC_TINY is 1
 * (smtpc_config.h).  timeouts.c and body.c are shared with the full
 * client.
 *
 * The same rules as the full driver, with what the minimal profile lacks
 * (STARTTLS, the trace) left out: only public engine calls; each turn does
 * what it can without blocking (body, send, receive) and only when nothing
 * moved waits, for every direction the engine wants; the timer of each
 * phase (RFC 5321 4.5.3.2) restarts when the engine makes progress or
 * bytes leave, not when bytes merely arrive.  The session's first error
 * is the one kept; the transport is closed as soon as the session ends.
 */
#include <string.h>

#include "internal.h"

/* The minimal profile builds this file instead of client.c and loop.c. */
#if SMTPC_TINY

/* Where the message stands while one is being sent. */
typedef struct tiny_body {
    smtpc_body_source *src;
    const unsigned char *data; /* piece from the source not yet written */
    size_t len;
    int eof;    /* the source said the message is complete */
    int ended;  /* smtpc_body_end accepted */
    int active; /* body bytes are (or were) being produced */
} tiny_body;

/* Keeps the engine's error as the client's unless one is already kept
 * (while the engine has none, its phase is SMTPC_PHASE_NONE too). */
static void keep_error(smtpc_client *c)
{
    if (c->status == SMTPC_OK) {
        c->status = smtpc_session_status(&c->session);
        c->phase = smtpc_session_phase(&c->session);
    }
}

static void fail_client(smtpc_client *c, int status, int phase)
{
    keep_error(c);
    if (c->status == SMTPC_OK) {
        c->status = status;
        c->phase = phase;
    }
    smtpc_session_abort(&c->session, status);
}

static void shut(smtpc_client *c)
{
    c->transport.ops->close(c->transport.ctx);
    c->open = 0;
}

/* The body is being transferred until it is ended and its last bytes are
 * out; then the wait is for the reply. */
static int body_sending(const tiny_body *b, unsigned st)
{
    return b->active && !(b->ended && !(st & SMTPC_WANT_SEND));
}

/* The phase a driver-side failure (timeout, I/O) belongs to. */
static int loop_phase(const smtpc_client *c, const tiny_body *b)
{
    int wp = smtpc_session_wait_phase(&c->session);

    if (body_sending(b, smtpc_session_state(&c->session)))
        return SMTPC_PHASE_MESSAGE;
    return wp != SMTPC_PHASE_NONE ? wp : smtpc_session_phase(&c->session);
}

/* Receives what is there now: 1 when something happened. */
static int recv_some(smtpc_client *c, const tiny_body *b)
{
    smtpc_session *s = &c->session;
    size_t len;
    unsigned char *room = smtpc_recv_buf(s, &len);
    int phase = loop_phase(c, b);
    long n;

    if (room == NULL)
        return 0;
    n = c->transport.ops->recv(c->transport.ctx, room, len);
    if (n == 0)
        return 0;
    if (n == SMTPC_ERR_CLOSED) {
        smtpc_recv_eof(s);
        /* The engine knows whether the end was expected (after QUIT);
         * when no reply was awaited the driver knows the phase. */
        if (c->status == SMTPC_OK && smtpc_session_status(s) != SMTPC_OK) {
            keep_error(c);
            if (c->phase == SMTPC_PHASE_NONE)
                c->phase = phase;
        }
    } else if (n < 0) {
        fail_client(c, (int)n, phase);
    } else {
        smtpc_recv_ack(s, (size_t)n < len ? (size_t)n : len);
    }
    return 1;
}

/* Feeds the body until the engine takes no more: 1 when it moved. */
static int feed_body(smtpc_client *c, tiny_body *b)
{
    smtpc_session *s = &c->session;
    int moved = 0, r;

    b->active = 1;
    while (smtpc_session_state(s) & SMTPC_WANT_BODY) {
        if (b->len == 0 && !b->eof) {
            const void *d = NULL;
            size_t l = 0;
            r = b->src->next(b->src->ctx, &d, &l);
            if (r != SMTPC_OK || (l != 0 && d == NULL)) {
                /* Abort without ending the data: the server never sees
                 * the end of the message, so it discards it. */
                fail_client(c, SMTPC_ERR_BODY_SOURCE, SMTPC_PHASE_MESSAGE);
                return 1;
            }
            b->eof = (l == 0);
            b->data = d;
            b->len = l;
        } else if (b->len != 0) {
            size_t n = smtpc_body_write(s, b->data, b->len);
            if (n == 0)
                break; /* the send area is full: send first */
            b->data += n;
            b->len -= n;
        } else {
            r = smtpc_body_end(s);
            if (r == SMTPC_ERR_BUFFER)
                break;
            if (r != SMTPC_OK) {
                keep_error(c);
                if (smtpc_session_state(s) & SMTPC_WANT_BODY)
                    fail_client(c, r, SMTPC_PHASE_MESSAGE);
            }
            b->ended = 1;
        }
        moved = 1;
    }
    return moved;
}

/* Runs the engine until it is READY or CLOSED; returns c->status. */
static int drive(smtpc_client *c, smtpc_body_source *body)
{
    smtpc_session *s = &c->session;
    const smtpc_transport *t = &c->transport;
    tiny_body b;
    uint32_t progress = smtpc_session_progress(s);
    uint64_t mark = t->ops->now_ms(t->ctx), now;

    memset(&b, 0, sizeof b);
    b.src = body;
    for (;;) {
        unsigned st = smtpc_session_state(s), events = 0;
        int moved = 0, r;
        uint32_t timeout;

        if (st & (SMTPC_READY | SMTPC_CLOSED))
            break;
        /* Time spent in the caller's body source is not the server's:
         * the block timer starts after it. */
        if (((st & SMTPC_WANT_BODY) && feed_body(c, &b)) ||
            smtpc_session_progress(s) != progress) {
            progress = smtpc_session_progress(s);
            mark = t->ops->now_ms(t->ctx);
            moved = 1;
        }
        if (smtpc_session_state(s) & SMTPC_WANT_SEND) {
            size_t len, room;
            const unsigned char *p = smtpc_send_buf(s, &len);
            unsigned char *in;
            long n = t->ops->send(t->ctx, p, len), got;

            if (n < 0) {
                /* The server may have said why before it closed (a 421):
                 * read what is already here, without waiting, so that its
                 * reason is reported rather than a bare "closed". */
                int phase = loop_phase(c, &b);
                while ((smtpc_session_state(s) & SMTPC_WANT_RECV) &&
                       (in = smtpc_recv_buf(s, &room)) != NULL &&
                       (got = t->ops->recv(t->ctx, in, room)) > 0)
                    smtpc_recv_ack(s, (size_t)got < room ? (size_t)got : room);
                if (!(smtpc_session_state(s) & SMTPC_CLOSED))
                    fail_client(c, (int)n, phase);
                continue;
            }
            if (n > 0) {
                smtpc_send_ack(s, (size_t)n < len ? (size_t)n : len);
                mark = t->ops->now_ms(t->ctx);
                moved = 1;
            }
        }
        if (smtpc_session_state(s) & SMTPC_WANT_RECV)
            moved |= recv_some(c, &b);
        if (moved)
            continue;

        /* Nothing could be done without blocking. */
        st = smtpc_session_state(s);
        if (st & (SMTPC_READY | SMTPC_CLOSED))
            break;
        if (st & SMTPC_WANT_SEND)
            events |= SMTPC_IO_WRITE;
        if (st & SMTPC_WANT_RECV) {
            size_t room;
            /* With its receive area full the engine must send first. */
            if (smtpc_recv_buf(s, &room) != NULL)
                events |= SMTPC_IO_READ;
        }
        if (events == 0) {
            fail_client(c, SMTPC_ERR_STATE, loop_phase(c, &b));
            continue;
        }
        timeout = body_sending(&b, st)
                      ? c->timeouts.block_ms
                      : smtpc_timeouts_for_phase(&c->timeouts,
                                                 smtpc_session_wait_phase(s));
        now = t->ops->now_ms(t->ctx);
        if (now > mark && now - mark >= timeout) {
            fail_client(c, SMTPC_ERR_TIMEOUT, loop_phase(c, &b));
            continue;
        }
        now = now > mark ? now - mark : 0;
        r = t->ops->wait(t->ctx, events, (uint32_t)(timeout - now));
        if (r < 0)
            fail_client(c, r, loop_phase(c, &b));
    }
    keep_error(c);
    return c->status;
}

/* ---- public API ---- */

int smtpc_client_open(smtpc_client *c)
{
    const smtpc_client_config *cfg;
    const smtpc_transport *t;
    uint16_t port;
    int r, phase = SMTPC_PHASE_NONE;

    if (c == NULL || c->cfg == NULL)
        return SMTPC_ERR_ARG;
    if (c->open)
        return SMTPC_ERR_STATE;
    cfg = c->cfg;
    t = &c->transport;
    port = cfg->port ? cfg->port
                     : cfg->session.tls == SMTPC_TLS_IMPLICIT ? 465 : 25;
    c->status = SMTPC_OK;
    c->phase = SMTPC_PHASE_NONE;
    c->session_cfg = cfg->session;
    if (c->session_cfg.host == NULL)
        c->session_cfg.host = cfg->host;
    if (c->session_cfg.port == 0)
        c->session_cfg.port = port;

    /* Check the configuration before touching the network (loopback
     * assumed, the most permissive case; the real init follows). */
    c->session_cfg.options |= SMTPC_OPT_PEER_LOOPBACK;
    r = smtpc_session_init(&c->session, &c->session_cfg, c->buf, c->buf_len);
    c->session_cfg.options &= ~(unsigned)SMTPC_OPT_PEER_LOOPBACK;
    if (r != SMTPC_OK)
        goto failed_early;
    phase = SMTPC_PHASE_CONNECT;
    r = t->ops->connect(t->ctx, cfg->host, port, c->timeouts.connect_ms);
    if (r != SMTPC_OK)
        goto failed;
    c->open = 1;
    if (t->ops->is_loopback(t->ctx))
        c->session_cfg.options |= SMTPC_OPT_PEER_LOOPBACK;
    phase = SMTPC_PHASE_TLS;
    if (cfg->session.tls == SMTPC_TLS_IMPLICIT &&
        (r = t->ops->start_tls(t->ctx, cfg->host, c->timeouts.command_ms)) !=
            SMTPC_OK)
        goto failed;
    phase = SMTPC_PHASE_NONE;
    r = smtpc_session_init(&c->session, &c->session_cfg, c->buf, c->buf_len);
    if (r != SMTPC_OK)
        goto failed;
    drive(c, NULL);
    if (smtpc_session_state(&c->session) & SMTPC_CLOSED)
        shut(c);
    if (c->status == SMTPC_OK &&
        !(smtpc_session_state(&c->session) & SMTPC_READY)) {
        /* Closed cleanly before READY: never expected, never success. */
        c->status = SMTPC_ERR_CLOSED;
        c->phase = smtpc_session_phase(&c->session);
    }
    return c->status;
failed:
    smtpc_session_abort(&c->session, r);
    shut(c);
failed_early:
    c->status = r;
    c->phase = phase;
    return r;
}

static void result_fill(const smtpc_client *c, smtpc_result *res,
                        int status, int phase)
{
    if (res == NULL)
        return;
    res->status = status;
    res->phase = status == SMTPC_OK ? SMTPC_PHASE_NONE : phase;
    res->reply = *smtpc_last_reply(&c->session);
    res->rcpt_accepted = smtpc_mail_accepted(&c->session);
}

int smtpc_client_send(smtpc_client *c, smtpc_envelope *env,
                      smtpc_body_source *body, smtpc_result *res)
{
    smtpc_session *s;
    int status, phase;

    if (res != NULL)
        memset(res, 0, sizeof *res);
    if (c == NULL || c->cfg == NULL || env == NULL || body == NULL ||
        body->next == NULL) {
        status = SMTPC_ERR_ARG;
        goto out;
    }
    s = &c->session;
    if (!smtpc_client_ready(c)) {
        /* The session is over (or never began): report why. */
        status = c->status != SMTPC_OK ? c->status : SMTPC_ERR_STATE;
        if (res != NULL)
            res->phase = c->phase;
        goto out;
    }
    status = smtpc_mail_begin(s, env);
    if (status != SMTPC_OK)
        goto out; /* nothing was sent; the session stays READY */
    drive(c, body);
    status = smtpc_mail_status(s);
    phase = smtpc_mail_phase(s);
    if (status != SMTPC_OK && status == c->status &&
        status == smtpc_session_status(s) &&
        phase == smtpc_session_phase(s)) {
        /* The session's failure ended the mail: when the driver caused
         * it, the driver knows the phase better than the engine. */
        phase = c->phase;
    }
    /* SMTPC_OK with the session over: accepted, then the session failed
     * (a stray reply): every failure during the mail sets its status. */
    result_fill(c, res, status, phase);
    if (smtpc_session_state(s) & SMTPC_CLOSED)
        shut(c);
    return status;
out:
    if (res != NULL)
        res->status = status;
    return status;
}

int smtpc_client_close(smtpc_client *c)
{
    if (c == NULL)
        return SMTPC_ERR_ARG;
    if (c->open) {
        if (smtpc_client_ready(c) && smtpc_quit(&c->session) == SMTPC_OK)
            drive(c, NULL);
        keep_error(c);
    }
    if (c->transport.ops != NULL)
        shut(c);
    return c->status;
}

int smtpc_client_sendmail(smtpc_client *c, smtpc_envelope *env,
                          smtpc_body_source *body, smtpc_result *res)
{
    int r;

    if (res != NULL)
        memset(res, 0, sizeof *res);
    if (c == NULL || c->cfg == NULL || env == NULL || body == NULL ||
        body->next == NULL) {
        r = SMTPC_ERR_ARG;
        if (res != NULL)
            res->status = r;
        return r;
    }
    r = smtpc_client_open(c);
    if (r != SMTPC_OK)
        result_fill(c, res, r, c->phase);
    else
        r = smtpc_client_send(c, env, body, res);
    /* The mail's outcome is the answer: once the server has taken the
     * message, a failed QUIT must not make the caller send it again. */
    (void)smtpc_client_close(c);
    return r;
}

#else
typedef int smtpc_tiny_client_not_built; /* ISO C: no empty file */
#endif /* SMTPC_TINY */
