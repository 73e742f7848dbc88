/*
 * access.c - the client's read-only calls, the same for the full client
 * (client.c, loop.c) and the tiny one (tiny.c).
 */
#include "internal.h"

const smtpc_session *smtpc_client_session(const smtpc_client *c)
{
    return &c->session;
}

int smtpc_client_ready(const smtpc_client *c)
{
    return c != NULL && c->open &&
           (smtpc_session_state(&c->session) & SMTPC_READY) != 0;
}

int smtpc_client_error(const smtpc_client *c, int *phase)
{
    if (c == NULL)
        return SMTPC_ERR_ARG;
    if (phase != NULL)
        *phase = c->phase;
    return c->status;
}
