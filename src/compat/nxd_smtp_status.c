/*
 * The one mapping from smtpc's (status, phase) to NetX Duo's status values.
 * docs/COMPAT.md shows the same table; keep them together.
 */
#include "internal.h"

/* Wildcards: no smtpc status is positive, no phase negative.  REFUSED
 * stands for a 4xx or 5xx reply (SMTPC_ERR_REJECTED, SMTPC_ERR_TEMPFAIL). */
#define ANY_STATUS 1
#define REFUSED 2
#define ANY_PHASE (-1)

/* A byte each: smtpc statuses are -1..-39, phases 0..12, and the NetX
 * values used here at most 0xB7 (checked below), so the table is 3 bytes
 * a row instead of 12 on a 32-bit MCU. */
typedef struct status_row {
    int8_t status;
    int8_t phase;
    uint8_t nx;
} status_row;

typedef char smtpc_nx_status_fits_a_byte[
    NX_SMTP_AUTH_INSECURE <= 0xFF && SMTPC_ERR_RESOLVE_AGAIN >= -128 ? 1 : -1];

/* First matching row wins: specific failures first, then the phase a
 * refusal came in, then the catch-alls. */
static const status_row status_table[] = {
    {SMTPC_OK, ANY_PHASE, NX_SUCCESS},
    {SMTPC_ERR_ARG, ANY_PHASE, NX_SMTP_INVALID_PARAM},
    /* Connection: what NetX's TCP layer would report. */
    {SMTPC_ERR_TIMEOUT, SMTPC_PHASE_CONNECT, NX_NOT_CONNECTED},
    {SMTPC_ERR_TIMEOUT, SMTPC_PHASE_TLS, NX_SMTP_TLS_ERROR},
    {SMTPC_ERR_TIMEOUT, ANY_PHASE, NX_NO_PACKET},
    {SMTPC_ERR_RESOLVE, ANY_PHASE, NX_NOT_CONNECTED},
    {SMTPC_ERR_RESOLVE_AGAIN, ANY_PHASE, NX_NOT_CONNECTED},
    {SMTPC_ERR_CONNECT, ANY_PHASE, NX_NOT_CONNECTED},
    {SMTPC_ERR_CLOSED, ANY_PHASE, NX_NOT_CONNECTED},
    {SMTPC_ERR_IO, ANY_PHASE, NX_SMTP_TRANSMIT_ERROR},
    /* What the server sent could not be used. */
    {SMTPC_ERR_REPLY_TOO_LONG, ANY_PHASE, NX_SMTP_OVERSIZE_SERVER_REPLY},
    /* The engine reports a malformed line and a code not allowed at that
     * point (250 to DATA) alike; NX_SMTP_SERVER_ERROR_REPLY is not used. */
    {SMTPC_ERR_PROTOCOL, SMTPC_PHASE_AUTH, NX_SMTP_INVALID_SERVER_CHALLENGE},
    {SMTPC_ERR_PROTOCOL, ANY_PHASE, NX_SMTP_INVALID_SERVER_REPLY},
    /* Authentication. */
    {SMTPC_ERR_AUTH, ANY_PHASE, NX_SMTP_AUTHENTICATION_ERROR},
    {SMTPC_ERR_AUTH_UNAVAILABLE, ANY_PHASE, NX_SMTP_AUTHENTICATION_ERROR},
    {SMTPC_ERR_AUTH_INSECURE, ANY_PHASE, NX_SMTP_AUTH_INSECURE},
    /* TLS (the extension). */
    {SMTPC_ERR_TLS_UNAVAILABLE, ANY_PHASE, NX_SMTP_TLS_UNAVAILABLE},
    {SMTPC_ERR_TLS_INJECTION, ANY_PHASE, NX_SMTP_TLS_ERROR},
    {SMTPC_ERR_TLS, ANY_PHASE, NX_SMTP_TLS_ERROR},
    {SMTPC_ERR_TLS_CERT, ANY_PHASE, NX_SMTP_TLS_CERT_ERROR},
    /* The mail. */
    {SMTPC_ERR_SIZE, ANY_PHASE, NX_SMTP_OVERSIZE_MAIL_DATA},
    {SMTPC_ERR_NO_RECIPIENTS, ANY_PHASE, NX_SMTP_RCPT_REPLY_ERROR},
    /* Refusals, by the phase they came in. */
    {REFUSED, SMTPC_PHASE_GREETING, NX_SMTP_GREET_REPLY_ERROR},
    {REFUSED, SMTPC_PHASE_EHLO, NX_SMTP_HELLO_REPLY_ERROR},
    {REFUSED, SMTPC_PHASE_STARTTLS, NX_SMTP_TLS_UNAVAILABLE},
    {REFUSED, SMTPC_PHASE_TLS, NX_SMTP_TLS_ERROR},
    {REFUSED, SMTPC_PHASE_AUTH, NX_SMTP_AUTH_REPLY_ERROR},
    {REFUSED, SMTPC_PHASE_MAIL, NX_SMTP_MAIL_REPLY_ERROR},
    {REFUSED, SMTPC_PHASE_RCPT, NX_SMTP_RCPT_REPLY_ERROR},
    {REFUSED, SMTPC_PHASE_DATA, NX_SMTP_DATA_REPLY_ERROR},
    {REFUSED, SMTPC_PHASE_MESSAGE, NX_SMTP_MESSAGE_REPLY_ERROR},
    {SMTPC_ERR_REJECTED, ANY_PHASE, NX_SMTP_SERVER_ERROR_CODE_RECEIVED},
    {SMTPC_ERR_TEMPFAIL, ANY_PHASE, NX_SMTP_SERVER_ERROR_CODE_RECEIVED},
    /* STATE, BUFFER, EXTENSION, BODY_SOURCE, UNSUPPORTED: our own fault. */
    {ANY_STATUS, ANY_PHASE, NX_SMTP_INTERNAL_ERROR}
};

UINT smtpc_compat_status_map(int status, int phase)
{
    size_t i;

    for (i = 0; i < sizeof status_table / sizeof status_table[0]; i++) {
        const status_row *r = &status_table[i];
        int refused = status == SMTPC_ERR_REJECTED ||
                      status == SMTPC_ERR_TEMPFAIL;
        if ((r->status == ANY_STATUS || r->status == status ||
             (r->status == REFUSED && refused)) &&
            (r->phase == ANY_PHASE || r->phase == phase))
            return r->nx;
    }
    return NX_SMTP_INTERNAL_ERROR;
}
