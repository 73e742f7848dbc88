/*
 * common.c - setting a client up, and the read-only calls.
 */
#include <string.h>

#include "internal.h"

int smtpc_client_init(smtpc_client *c, const smtpc_client_config *cfg,
                      smtpc_transport transport, void *buf, size_t buf_len)
{
    const smtpc_transport_ops *o = transport.ops;

    if (c == NULL)
        return SMTPC_ERR_ARG;
    memset(c, 0, sizeof *c);
    if (cfg == NULL || cfg->host == NULL || cfg->host[0] == '\0' ||
        o == NULL || buf == NULL || buf_len < SMTPC_IO_MIN ||
        o->connect == NULL || o->send == NULL || o->recv == NULL ||
        o->wait == NULL || o->start_tls == NULL || o->is_loopback == NULL ||
        o->now_ms == NULL || o->close == NULL) {
        /* The session records the error for smtpc_client_error. */
        return smtpc_session_init(&c->session, NULL, NULL, 0);
    }
    c->cfg = cfg;
    c->transport = transport;
    c->buf = (unsigned char *)buf;
    c->buf_len = buf_len;
    c->timeouts = cfg->timeouts;
    smtpc_timeouts_fill(&c->timeouts);
    c->session_cfg = cfg->session;
    return SMTPC_OK;
}

const smtpc_session *smtpc_client_session(const smtpc_client *c)
{
    return &c->session;
}

int smtpc_client_ready(const smtpc_client *c)
{
    return c != NULL && c->open &&
           (smtpc_session_state(&c->session) &
            (SMTPC_READY | SMTPC_NEXT_MAIL)) != 0;
}

int smtpc_client_error(const smtpc_client *c, int *phase)
{
    if (c == NULL)
        return SMTPC_ERR_ARG;
    if (phase != NULL)
        *phase = smtpc_session_phase(&c->session);
    return smtpc_session_status(&c->session);
}
