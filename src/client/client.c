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
    /* NEXT_MAIL: AUTH PLAIN's reply is still to come and the first mail
     * may follow it in the same group (engine.h). */
    smtpc_client_run(c, NULL, SMTPC_NEXT_MAIL, 0);
    smtpc_client_settle(c);
    if (!(smtpc_session_state(&c->session) & (SMTPC_READY | SMTPC_NEXT_MAIL))) {
        /* Closed cleanly before READY: never expected, never success
         * (abort keeps an error the session already has). */
        smtpc_session_abort(&c->session, SMTPC_ERR_CLOSED, SMTPC_PHASE_NONE);
    }
    return smtpc_session_status(&c->session);
}

/* A mail that never reached the engine: why, in its own result. */
static int smtpc_result_refuse(const smtpc_client *c, smtpc_envelope *env,
                               int status, int phase)
{
    if (env != NULL) {
        memset(&env->result, 0, sizeof env->result);
        env->result.status = status;
        env->result.phase = phase;
        if (c != NULL)
            env->result.reply = *smtpc_last_reply(&c->session);
    }
    return status;
}

int smtpc_client_submit(smtpc_client *c, smtpc_envelope *env,
                        smtpc_body_source *body, unsigned flags)
{
    smtpc_session *s;
    int r;

    if (c == NULL || c->cfg == NULL || env == NULL || body == NULL ||
        body->next == NULL)
        return smtpc_result_refuse(NULL, env, SMTPC_ERR_ARG, SMTPC_PHASE_NONE);
    s = &c->session;
    if (!smtpc_client_ready(c)) {
        /* The session is over (or never began): report why. */
        r = smtpc_session_status(s);
        return smtpc_result_refuse(c, env, r != SMTPC_OK ? r : SMTPC_ERR_STATE,
                                   smtpc_session_phase(s));
    }
    /* Refused here, nothing was sent (the engine says why in
     * env->result); the session stays as it was. */
    r = smtpc_mail_begin(s, env);
    if (r != SMTPC_OK)
        return r;
    smtpc_client_run(c, body, (flags & SMTPC_SUBMIT_MORE) ? SMTPC_NEXT_MAIL : 0,
                     (flags & SMTPC_SUBMIT_LAST) != 0);
    /* A failure of the session while the mail ran is the mail's as well
     * (the engine settles it); a mail the server accepted stays accepted
     * whatever the session does after, so that it is never sent twice. */
    if ((flags & SMTPC_SUBMIT_LAST) &&
        (smtpc_session_state(s) & SMTPC_READY) && smtpc_quit(s) == SMTPC_OK)
        smtpc_client_run(c, NULL, 0, 0);
    smtpc_client_settle(c);
    return env->result.status;
}

int smtpc_client_send(smtpc_client *c, smtpc_envelope *env,
                      smtpc_body_source *body, smtpc_result *res)
{
    int r = smtpc_client_submit(c, env, body, 0);

    if (res != NULL) {
        if (env != NULL) {
            *res = env->result;
        } else {
            memset(res, 0, sizeof *res);
            res->status = r;
        }
    }
    return r;
}

int smtpc_client_flush(smtpc_client *c)
{
    if (c == NULL)
        return SMTPC_ERR_ARG;
    if (c->open && !(smtpc_session_state(&c->session) &
                     (SMTPC_READY | SMTPC_CLOSED)))
        smtpc_client_run(c, NULL, 0, 0);
    smtpc_client_settle(c);
    return smtpc_session_status(&c->session);
}

int smtpc_client_close(smtpc_client *c)
{
    if (c == NULL)
        return SMTPC_ERR_ARG;
    if (c->open && c->transport.ops != NULL) {
        smtpc_session *s = &c->session;
        unsigned st = smtpc_session_state(s);
        int r = SMTPC_ERR_STATE;

        /* Behind a message whose reply is still awaited QUIT goes at
         * once; when it cannot, the replies are read first. */
        if (SMTPC_WITH_PIPELINING && (st & SMTPC_NEXT_MAIL)) {
            r = smtpc_quit(s);
            if (r != SMTPC_OK) {
                smtpc_client_run(c, NULL, 0, 0);
                st = smtpc_session_state(s);
            }
        }
        if (st & SMTPC_READY)
            r = smtpc_quit(s);
        if (r == SMTPC_OK)
            smtpc_client_run(c, NULL, 0, 0);
    }
    smtpc_client_shut(c);
    return smtpc_session_status(&c->session);
}

int smtpc_client_sendmail(smtpc_client *c, smtpc_envelope *env,
                          smtpc_body_source *body, smtpc_result *res)
{
    int r;

    if (c == NULL || c->cfg == NULL || env == NULL || body == NULL ||
        body->next == NULL) {
        r = smtpc_result_refuse(NULL, env, SMTPC_ERR_ARG, SMTPC_PHASE_NONE);
    } else {
        r = smtpc_client_open(c);
        if (r != SMTPC_OK)
            smtpc_result_refuse(c, env, r, smtpc_session_phase(&c->session));
        else
            r = smtpc_client_submit(c, env, body, SMTPC_SUBMIT_LAST);
        /* The mail's outcome is the answer.  Once the server has taken
         * the message, a failed QUIT must not make the caller send it
         * again; it stays visible in smtpc_client_error. */
        (void)smtpc_client_close(c);
    }
    if (res != NULL) {
        if (env != NULL) {
            *res = env->result;
        } else {
            memset(res, 0, sizeof *res);
            res->status = r;
        }
    }
    return r;
}
