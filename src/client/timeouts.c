/*
 * timeouts.c - per-phase timeouts, RFC 5321 section 4.5.3.2.
 */
#include "internal.h"

#define SMTPC_MINUTE_MS 60000u

static const smtpc_timeouts smtpc_rfc5321_timeouts = {
    30000u,               /* connect: not in the RFC; what MTAs commonly use */
    5 * SMTPC_MINUTE_MS,  /* 4.5.3.2.1 initial 220 message */
    5 * SMTPC_MINUTE_MS,  /* other commands (the RFC's own floor for them) */
    5 * SMTPC_MINUTE_MS,  /* 4.5.3.2.2 MAIL */
    5 * SMTPC_MINUTE_MS,  /* 4.5.3.2.3 RCPT */
    2 * SMTPC_MINUTE_MS,  /* 4.5.3.2.4 DATA initiation */
    3 * SMTPC_MINUTE_MS,  /* 4.5.3.2.5 data block */
    10 * SMTPC_MINUTE_MS  /* 4.5.3.2.6 DATA termination */
};

void smtpc_timeouts_default(smtpc_timeouts *t, uint32_t override_ms)
{
    if (t == NULL)
        return;
    if (override_ms == 0) {
        *t = smtpc_rfc5321_timeouts;
        return;
    }
    t->connect_ms = override_ms;
    t->greeting_ms = override_ms;
    t->command_ms = override_ms;
    t->mail_ms = override_ms;
    t->rcpt_ms = override_ms;
    t->data_ms = override_ms;
    t->block_ms = override_ms;
    t->data_end_ms = override_ms;
}

void smtpc_timeouts_fill(smtpc_timeouts *t)
{
    const smtpc_timeouts *d = &smtpc_rfc5321_timeouts;

    if (t->connect_ms == 0)
        t->connect_ms = d->connect_ms;
    if (t->greeting_ms == 0)
        t->greeting_ms = d->greeting_ms;
    if (t->command_ms == 0)
        t->command_ms = d->command_ms;
    if (t->mail_ms == 0)
        t->mail_ms = d->mail_ms;
    if (t->rcpt_ms == 0)
        t->rcpt_ms = d->rcpt_ms;
    if (t->data_ms == 0)
        t->data_ms = d->data_ms;
    if (t->block_ms == 0)
        t->block_ms = d->block_ms;
    if (t->data_end_ms == 0)
        t->data_end_ms = d->data_end_ms;
}

uint32_t smtpc_timeouts_for_phase(const smtpc_timeouts *t, int phase)
{
    switch (phase) {
    case SMTPC_PHASE_CONNECT:
        return t->connect_ms;
    case SMTPC_PHASE_GREETING:
        return t->greeting_ms;
    case SMTPC_PHASE_MAIL:
        return t->mail_ms;
    case SMTPC_PHASE_RCPT:
        return t->rcpt_ms;
    case SMTPC_PHASE_DATA:
        return t->data_ms;
    case SMTPC_PHASE_MESSAGE:
        return t->data_end_ms;
    default:
        return t->command_ms;
    }
}
