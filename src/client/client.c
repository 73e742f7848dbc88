/*
 * client.c - the blocking client's public calls (smtpc/client.h).
 *
 * The session's first error is the engine's (smtpc_session_status): what
 * the client detects itself is recorded there with smtpc_session_abort,
 * and a QUIT that fails after an earlier error never replaces it.  The
 * transport is closed
 * as soon as the session is over, so a caller that gives up after a failed
 * call leaks nothing; smtpc_client_close is still safe to call.
 */
#include <string.h>

#include "internal.h"

static uint16_t smtpc_client_port(const smtpc_client_config *cfg)
{
    if (cfg->port != 0)
        return cfg->port;
    return cfg->session.tls == SMTPC_TLS_IMPLICIT ? 465 : 25;
}

static void smtpc_client_shut(smtpc_client *c)
{
    if (c->transport.ops != NULL)
        c->transport.ops->close(c->transport.ctx);
    if (c->open) {
        smtpc_trace_line l;
        smtpc_trace_line_start(&l, "connection closed");
        smtpc_client_trace_line(c, &l);
    }
    c->open = 0;
}

/* Connecting or starting implicit TLS failed: the session ends there. */
static int smtpc_client_open_failed(smtpc_client *c, const char *what, int r,
                                    int phase)
{
    smtpc_client_trace_status(c, what, r, phase);
    smtpc_session_abort(&c->session, r, phase);
    smtpc_client_shut(c);
    return r;
}

/* After a loop: a session that is over needs its connection no more. */
static void smtpc_client_settle(smtpc_client *c)
{
    if (smtpc_session_state(&c->session) & SMTPC_CLOSED)
        smtpc_client_shut(c);
}

int smtpc_client_open(smtpc_client *c)
{
    const smtpc_client_config *cfg;
    const smtpc_transport *t;
    smtpc_trace_line l;
    uint16_t port;
    int r;

    if (c == NULL || c->cfg == NULL || c->transport.ops == NULL)
        return SMTPC_ERR_ARG;
    if (c->open)
        return SMTPC_ERR_STATE;
    cfg = c->cfg;
    t = &c->transport;
    port = smtpc_client_port(cfg);

    c->session_cfg = cfg->session;
    if (c->session_cfg.host == NULL)
        c->session_cfg.host = cfg->host;
    if (c->session_cfg.port == 0)
        c->session_cfg.port = port;

    /* Check the configuration before touching the network: a bad EHLO
     * name or credential must not cost a connection.  Loopback is assumed
     * here (the most permissive case); the real init below, after the
     * peer is known, applies the cleartext-credentials rule. */
    c->session_cfg.options |= SMTPC_OPT_PEER_LOOPBACK;
    r = smtpc_session_init(&c->session, &c->session_cfg, c->buf, c->buf_len);
    c->session_cfg.options &= ~(unsigned)SMTPC_OPT_PEER_LOOPBACK;
    if (r != SMTPC_OK) {
        /* The session recorded the error (phase NONE). */
        smtpc_client_trace_status(c, "bad configuration", r, SMTPC_PHASE_NONE);
        return r;
    }

    smtpc_trace_line_start(&l, "connecting to ");
    smtpc_trace_line_add(&l, cfg->host);
    smtpc_trace_line_add(&l, " port ");
    smtpc_trace_line_add_u32(&l, port);
    smtpc_client_trace_line(c, &l);
    r = t->ops->connect(t->ctx, cfg->host, port, c->timeouts.connect_ms);
    if (r != SMTPC_OK)
        return smtpc_client_open_failed(c, "connect failed", r,
                                        SMTPC_PHASE_CONNECT);
    c->open = 1;
    if (t->ops->is_loopback(t->ctx))
        c->session_cfg.options |= SMTPC_OPT_PEER_LOOPBACK;
    smtpc_trace_line_start(&l, "connected");
    if (c->session_cfg.options & SMTPC_OPT_PEER_LOOPBACK)
        smtpc_trace_line_add(&l, " (loopback)");
    smtpc_client_trace_line(c, &l);

    if (cfg->session.tls == SMTPC_TLS_IMPLICIT) {
        r = t->ops->start_tls(t->ctx, cfg->host, c->timeouts.command_ms);
        if (r != SMTPC_OK)
            return smtpc_client_open_failed(c, "TLS failed", r,
                                            SMTPC_PHASE_TLS);
        smtpc_trace_line_start(&l, "TLS started");
        smtpc_client_trace_line(c, &l);
    }

    r = smtpc_session_init(&c->session, &c->session_cfg, c->buf, c->buf_len);
    if (r != SMTPC_OK) {
        smtpc_client_shut(c); /* the session recorded the error */
        return r;
    }
    smtpc_client_run(c, NULL);
    smtpc_client_settle(c);
    if (!(smtpc_session_state(&c->session) & SMTPC_READY)) {
        /* Closed cleanly before READY: never expected, never success
         * (abort keeps an error the session already has). */
        smtpc_session_abort(&c->session, SMTPC_ERR_CLOSED, SMTPC_PHASE_NONE);
    }
    return smtpc_session_status(&c->session);
}

static void smtpc_result_fill(const smtpc_client *c, smtpc_result *res,
                              int status, int phase)
{
    const smtpc_reply *rp;

    if (res == NULL)
        return;
    memset(res, 0, sizeof *res);
    res->status = status;
    res->phase = status == SMTPC_OK ? SMTPC_PHASE_NONE : phase;
    rp = smtpc_last_reply(&c->session);
    if (rp != NULL)
        res->reply = *rp;
    res->rcpt_accepted = smtpc_mail_accepted(&c->session);
}

int smtpc_client_send(smtpc_client *c, smtpc_envelope *env,
                      smtpc_body_source *body, smtpc_result *res)
{
    smtpc_session *s;
    int r, status, phase;

    if (res != NULL)
        memset(res, 0, sizeof *res);
    if (c == NULL || c->cfg == NULL || env == NULL || body == NULL ||
        body->next == NULL) {
        if (res != NULL)
            res->status = SMTPC_ERR_ARG;
        return SMTPC_ERR_ARG;
    }
    s = &c->session;
    if (!c->open || !(smtpc_session_state(s) & SMTPC_READY)) {
        /* The session is over (or never began): report why. */
        status = smtpc_session_status(s);
        phase = smtpc_session_phase(s);
        if (status == SMTPC_OK)
            status = SMTPC_ERR_STATE;
        if (res != NULL) {
            res->status = status;
            res->phase = phase;
        }
        return status;
    }
    r = smtpc_mail_begin(s, env);
    if (r != SMTPC_OK) {
        /* Nothing was sent; the session stays READY for another mail. */
        if (res != NULL)
            res->status = r;
        return r;
    }
    smtpc_client_run(c, body);

    /* A failure of the session while the mail ran (the driver's too: it
     * passes its phase to smtpc_session_abort) is the mail's as well.
     * SMTPC_OK with the session over means the message was accepted and
     * the session failed after (a stray reply, a lost QUIT): every
     * failure while the mail runs sets the mail's status.  Reporting
     * that failure would make a caller send the message again. */
    status = smtpc_mail_status(s);
    smtpc_result_fill(c, res, status, smtpc_mail_phase(s));
    smtpc_client_settle(c);
    return status;
}

int smtpc_client_close(smtpc_client *c)
{
    if (c == NULL)
        return SMTPC_ERR_ARG;
    if (c->open && c->transport.ops != NULL) {
        smtpc_session *s = &c->session;

        if ((smtpc_session_state(s) & SMTPC_READY) &&
            smtpc_quit(s) == SMTPC_OK)
            smtpc_client_run(c, NULL);
    }
    smtpc_client_shut(c);
    return smtpc_session_status(&c->session);
}

int smtpc_client_sendmail(smtpc_client *c, smtpc_envelope *env,
                          smtpc_body_source *body, smtpc_result *res)
{
    int r;

    if (res != NULL)
        memset(res, 0, sizeof *res);
    if (c == NULL || c->cfg == NULL) {
        if (res != NULL)
            res->status = SMTPC_ERR_ARG;
        return SMTPC_ERR_ARG;
    }
    if (env == NULL || body == NULL || body->next == NULL) {
        if (res != NULL)
            res->status = SMTPC_ERR_ARG;
        return SMTPC_ERR_ARG;
    }
    r = smtpc_client_open(c);
    if (r != SMTPC_OK) {
        smtpc_result_fill(c, res, r, smtpc_session_phase(&c->session));
        smtpc_client_close(c);
        return r;
    }
    r = smtpc_client_send(c, env, body, res);
    /* The mail's outcome is the answer.  Once the server has taken the
     * message, a failed QUIT must not make the caller send it again; it
     * stays visible in smtpc_client_error. */
    (void)smtpc_client_close(c);
    return r;
}

