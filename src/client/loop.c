/*
 * loop.c - runs the engine over the transport (the blocking driver's core).
 *
 * Only public engine calls, as BearSSL's ssl_io.c does.  Each turn does
 * whatever can be done without blocking (send, feed the body, receive);
 * only when nothing moved does it wait, and then for every direction the
 * engine wants at once: a pipelining server that stops reading until we
 * read its replies must not deadlock us in a blocking send.
 *
 * Deadlines are per phase (RFC 5321 4.5.3.2).  The timer restarts when the
 * engine makes progress (a reply completed, a command queued) or bytes
 * leave; received bytes alone do not restart it, so a server that trickles
 * a reply one byte at a time still times out.
 */
#include "internal.h"

/* Where the message stands while one is being sent. */
typedef struct smtpc_body_pull {
    smtpc_body_source *src;
    const unsigned char *data; /* piece from the source not yet written */
    size_t len;
    int eof;     /* the source said the message is complete */
    int ended;   /* smtpc_body_end accepted */
    int active;  /* body bytes are (or were) being produced */
    int quit;    /* QUIT follows the message */
} smtpc_body_pull;

void smtpc_client_fail(smtpc_client *c, int status, int phase)
{
    smtpc_client_trace_status(c, "failed", status, phase);
    smtpc_session_abort(&c->session, status, phase);
}

/* The body is being transferred until it is ended and its last bytes
 * are out; then the wait is for the reply. */
static int smtpc_body_sending(const smtpc_body_pull *bp, unsigned st)
{
    return bp->active && !(bp->ended && !(st & SMTPC_WANT_SEND));
}

/* The phase a driver-side failure (timeout, I/O) belongs to. */
static int smtpc_loop_phase(const smtpc_client *c, const smtpc_body_pull *bp,
                            unsigned st)
{
    int wp;

    if (smtpc_body_sending(bp, st))
        return SMTPC_PHASE_MESSAGE;
    wp = smtpc_session_wait_phase(&c->session);
    if (wp != SMTPC_PHASE_NONE)
        return wp;
    return smtpc_session_phase(&c->session);
}

static uint32_t smtpc_loop_timeout(const smtpc_client *c,
                                   const smtpc_body_pull *bp, unsigned st)
{
    if (smtpc_body_sending(bp, st))
        return c->timeouts.block_ms;
    return smtpc_timeouts_for_phase(&c->timeouts,
                                    smtpc_session_wait_phase(&c->session));
}

static void smtpc_loop_tls(smtpc_client *c)
{
    const smtpc_transport *t = &c->transport;
    int r;

    r = t->ops->start_tls(t->ctx, c->cfg->host, c->timeouts.command_ms);
    if (r != SMTPC_OK) {
        smtpc_client_fail(c, r, SMTPC_PHASE_TLS);
        return;
    }
    {
        smtpc_trace_line l;
        smtpc_trace_line_start(&l, "TLS started");
        smtpc_client_trace_line(c, &l);
    }
    r = smtpc_tls_done(&c->session);
    if (r != SMTPC_OK && smtpc_session_status(&c->session) == SMTPC_OK)
        smtpc_client_fail(c, r, SMTPC_PHASE_TLS);
}

/*
 * A send failed: the server may have said why before it closed (a 421,
 * or a 554 to a pipelined command).  Read what is already here, without
 * waiting, so the session reports the server's reason rather than a bare
 * "connection closed".
 */
static void smtpc_loop_send_failed(smtpc_client *c, long err,
                                   const smtpc_body_pull *bp)
{
    smtpc_session *s = &c->session;
    const smtpc_transport *t = &c->transport;
    int phase = smtpc_loop_phase(c, bp, smtpc_session_state(s));

    for (;;) {
        size_t room_len = 0;
        unsigned char *room;
        long n;

        if (!(smtpc_session_state(s) & SMTPC_WANT_RECV))
            break;
        room = smtpc_recv_buf(s, &room_len);
        if (room == NULL || room_len == 0)
            break;
        n = t->ops->recv(t->ctx, room, room_len);
        if (n <= 0)
            break;
        if ((size_t)n > room_len)
            n = (long)room_len;
        smtpc_client_trace_received(c, room, (size_t)n);
        smtpc_recv_ack(s, (size_t)n);
    }
    if (!(smtpc_session_state(s) & SMTPC_CLOSED))
        smtpc_client_fail(c, (int)err, phase);
}

/* Sends what the transport takes now: bytes sent, 0, or -1 (failed). */
static long smtpc_loop_send(smtpc_client *c, int *in_secret,
                            const smtpc_body_pull *bp)
{
    smtpc_session *s = &c->session;
    const smtpc_transport *t = &c->transport;
    const unsigned char *p;
    size_t len = 0, ss = 0, se = 0;
    long n;

    p = smtpc_send_buf(s, &len);
    if (p == NULL || len == 0)
        return 0;
    /* The secret range matters only to the trace. */
    if (SMTPC_WITH_TRACE)
        smtpc_send_secret_range(s, &ss, &se);
    n = t->ops->send(t->ctx, p, len);
    if (n < 0) {
        smtpc_loop_send_failed(c, n, bp);
        return -1;
    }
    if (n == 0)
        return 0;
    if ((size_t)n > len)
        n = (long)len; /* a transport that over-reports must not skew us */
    smtpc_client_trace_sent(c, p, (size_t)n, ss, se, in_secret);
    smtpc_send_ack(s, (size_t)n);
    return n;
}

/* Receives what is there now: 1 when something happened, 0 when not. */
static int smtpc_loop_recv(smtpc_client *c, const smtpc_body_pull *bp)
{
    smtpc_session *s = &c->session;
    const smtpc_transport *t = &c->transport;
    unsigned char *room;
    size_t len = 0;
    long n;

    room = smtpc_recv_buf(s, &len);
    if (room == NULL || len == 0)
        return 0;
    n = t->ops->recv(t->ctx, room, len);
    if (n == 0)
        return 0;
    if (n == SMTPC_ERR_CLOSED) {
        smtpc_trace_line l;

        smtpc_trace_line_start(&l, "connection closed by server");
        smtpc_client_trace_line(c, &l);
        /* The engine knows whether the end was expected (after QUIT) and
         * the phase it came in. */
        smtpc_recv_eof(s);
        return 1;
    }
    if (n < 0) {
        smtpc_client_fail(c, (int)n, smtpc_loop_phase(c, bp,
                                                      smtpc_session_state(s)));
        return 1;
    }
    if ((size_t)n > len)
        n = (long)len;
    smtpc_client_trace_received(c, room, (size_t)n);
    smtpc_recv_ack(s, (size_t)n);
    return 1;
}

/* The engine said it cannot take more until it sends: true unless it does
 * not in fact want to send, which would spin forever. */
static int smtpc_loop_must_send(smtpc_client *c)
{
    if (smtpc_session_state(&c->session) & SMTPC_WANT_SEND)
        return 0;
    smtpc_client_fail(c, SMTPC_ERR_STATE, SMTPC_PHASE_MESSAGE);
    return 1;
}

/* One step of the message: 1 when something happened, 0 when the engine
 * must send first. */
static int smtpc_loop_body(smtpc_client *c, smtpc_body_pull *bp)
{
    smtpc_session *s = &c->session;
    int r;

    bp->active = 1;
    if (bp->src == NULL || bp->src->next == NULL || bp->ended) {
        /* A mail needs a body; the public calls check this, so reaching
         * here is a driver bug, not a user's. */
        smtpc_client_fail(c, SMTPC_ERR_STATE, SMTPC_PHASE_MESSAGE);
        return 1;
    }
    if (bp->len == 0 && !bp->eof) {
        const void *d = NULL;
        size_t l = 0;

        r = bp->src->next(bp->src->ctx, &d, &l);
        if (r != SMTPC_OK || (l != 0 && d == NULL)) {
            /* Abort without ending the data: the server never sees the
             * end of the message, so it discards it. */
            smtpc_client_fail(c, SMTPC_ERR_BODY_SOURCE, SMTPC_PHASE_MESSAGE);
            return 1;
        }
        if (l == 0)
            bp->eof = 1;
        bp->data = (const unsigned char *)d;
        bp->len = l;
        return 1;
    }
    if (bp->len != 0) {
        size_t n = smtpc_body_write(s, bp->data, bp->len);

        if (n == 0)
            return smtpc_loop_must_send(c);
        if (n > bp->len)
            n = bp->len;
        bp->data += n;
        bp->len -= n;
        return 1;
    }
    r = smtpc_body_end(s);
    if (r == SMTPC_ERR_BUFFER)
        return smtpc_loop_must_send(c);
    if (r != SMTPC_OK) {
        /* The engine refused to end the message (it knows why: SIZE, a
         * failed session).  If it still wants the body it is stuck. */
        if (smtpc_session_state(s) & SMTPC_WANT_BODY)
            smtpc_client_fail(c, r, SMTPC_PHASE_MESSAGE);
        bp->ended = 1;
        return 1;
    }
    bp->ended = 1;
    /* Refused (no PIPELINING, no room yet): QUIT then waits for READY. */
    if (SMTPC_WITH_PIPELINING && bp->quit)
        (void)smtpc_quit(s);
    return 1;
}

int smtpc_client_run(smtpc_client *c, smtpc_body_source *body, unsigned stop,
                     int quit)
{
    smtpc_session *s = &c->session;
    const smtpc_transport *t = &c->transport;
    smtpc_body_pull bp;
    uint32_t progress = smtpc_session_progress(s);
    uint64_t mark = t->ops->now_ms(t->ctx);
    int in_secret = 0;

    bp.src = body;
    bp.data = NULL;
    bp.len = 0;
    bp.eof = 0;
    bp.ended = 0;
    bp.active = 0;
    bp.quit = quit;
    stop |= SMTPC_READY | SMTPC_CLOSED;

    for (;;) {
        unsigned st = smtpc_session_state(s);
        unsigned events = 0;
        int moved = 0;
        uint32_t timeout;
        uint64_t now, waited;
        int r;

        if (st & stop)
            break;
        if (smtpc_session_progress(s) != progress) {
            progress = smtpc_session_progress(s);
            mark = t->ops->now_ms(t->ctx);
        }
        /* Without STARTTLS compiled in the engine never wants TLS. */
        if (SMTPC_WITH_TLS && (st & SMTPC_WANT_TLS)) {
            smtpc_loop_tls(c);
            mark = t->ops->now_ms(t->ctx);
            continue;
        }
        /* The body first, until the send area is full: every send seals
         * the open BDAT chunk, so sending after each small piece would
         * make a chunk (and a reply to wait for) of each piece. */
        if (st & SMTPC_WANT_BODY) {
            int filled = 0;

            while ((smtpc_session_state(s) & SMTPC_WANT_BODY) &&
                   smtpc_loop_body(c, &bp))
                filled = 1;
            /* Time spent in the caller's body source is not the
             * server's: the block timer starts after it.  Only when the
             * body moved: a full send area must not restart it. */
            if (filled) {
                moved = 1;
                mark = t->ops->now_ms(t->ctx);
            }
        }
        st = smtpc_session_state(s);
        if (st & SMTPC_WANT_SEND) {
            long n = smtpc_loop_send(c, &in_secret, &bp);

            if (n < 0)
                continue;
            if (n > 0) {
                moved = 1;
                mark = t->ops->now_ms(t->ctx);
            }
        }
        st = smtpc_session_state(s);
        if (st & SMTPC_WANT_RECV)
            moved |= smtpc_loop_recv(c, &bp);
        if (moved)
            continue;

        /* Nothing could be done without blocking. */
        st = smtpc_session_state(s);
        if (st & stop)
            break;
        if (st & SMTPC_WANT_SEND)
            events |= SMTPC_IO_WRITE;
        if (st & SMTPC_WANT_RECV) {
            size_t room = 0;
            /* With its receive area full the engine must send first;
             * waiting for readable bytes it cannot take would spin. */
            if (smtpc_recv_buf(s, &room) != NULL && room != 0)
                events |= SMTPC_IO_READ;
        }
        if (events == 0) {
            /* The engine wants nothing the driver can give. */
            smtpc_client_fail(c, SMTPC_ERR_STATE, smtpc_loop_phase(c, &bp, st));
            continue;
        }
        timeout = smtpc_loop_timeout(c, &bp, st);
        now = t->ops->now_ms(t->ctx);
        waited = now > mark ? now - mark : 0;
        if (waited >= timeout) {
            smtpc_client_fail(c, SMTPC_ERR_TIMEOUT,
                              smtpc_loop_phase(c, &bp, st));
            continue;
        }
        r = t->ops->wait(t->ctx, events, (uint32_t)(timeout - waited));
        if (r < 0)
            smtpc_client_fail(c, r, smtpc_loop_phase(c, &bp, st));
    }
    return smtpc_session_status(s);
}

