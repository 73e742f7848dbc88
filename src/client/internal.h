/*
 * src/client/internal.h - declarations shared by the client driver's files.
 *
 * The driver uses only the public engine and transport API; nothing here
 * is visible to users of the library.
 */
#ifndef SMTPC_CLIENT_INTERNAL_H
#define SMTPC_CLIENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "smtpc/client.h"

/* ---- timeouts.c ---- */

/* Sets every zero field of t to its RFC 5321 default. */
void smtpc_timeouts_fill(smtpc_timeouts *t);

/* The reply timeout for a phase from smtpc_session_wait_phase(). */
uint32_t smtpc_timeouts_for_phase(const smtpc_timeouts *t, int phase);

/* ---- trace.c ---- */

#if SMTPC_WITH_TRACE

/* An info line under construction: fixed size, silently truncated. */
#define SMTPC_TRACE_LINE_MAX 320

typedef struct smtpc_trace_line {
    char text[SMTPC_TRACE_LINE_MAX];
    size_t len;
} smtpc_trace_line;

void smtpc_trace_line_start(smtpc_trace_line *l, const char *s);
void smtpc_trace_line_add(smtpc_trace_line *l, const char *s);
void smtpc_trace_line_add_u32(smtpc_trace_line *l, uint32_t v);

/* Hands the line to the user's trace callback as SMTPC_TRACE_INFO. */
void smtpc_client_trace_line(const smtpc_client *c, const smtpc_trace_line *l);

/* "what: <status> in <phase>", e.g. "failed: timeout in RCPT". */
void smtpc_client_trace_status(const smtpc_client *c, const char *what,
                               int status, int phase);

/* Traces n bytes just sent from p, printing "<redacted>" in place of the
 * secret range [ss, se) (offsets from p).  *in_secret carries across
 * calls whether the last piece ended inside a secret, so a secret split
 * over two sends is redacted once. */
void smtpc_client_trace_sent(const smtpc_client *c, const unsigned char *p,
                             size_t n, size_t ss, size_t se, int *in_secret);

/* Traces received bytes. */
void smtpc_client_trace_received(const smtpc_client *c, const void *p,
                                 size_t n);

#else
/* Without trace support every call compiles to nothing. */
typedef struct smtpc_trace_line {
    char unused;
} smtpc_trace_line;
#define smtpc_trace_line_start(l, s) ((void)(l), (void)(s))
#define smtpc_trace_line_add(l, s) ((void)(l), (void)(s))
#define smtpc_trace_line_add_u32(l, v) ((void)(l), (void)(v))
#define smtpc_client_trace_line(c, l) ((void)(c), (void)(l))
#define smtpc_client_trace_status(c, w, st, ph)                           \
    ((void)(c), (void)(w), (void)(st), (void)(ph))
#define smtpc_client_trace_sent(c, p, n, ss, se, in)                      \
    ((void)(c), (void)(p), (void)(n), (void)(ss), (void)(se), (void)(in))
#define smtpc_client_trace_received(c, p, n) ((void)(c), (void)(p), (void)(n))
#endif

/* ---- loop.c ---- */

/*
 * Runs the engine over the transport until it is READY or CLOSED or any
 * state bit of stop is set, pulling the message from body (NULL when no
 * mail is being sent); with quit set, QUIT is queued behind the message
 * as soon as the engine takes it.  Returns the session's first error
 * (smtpc_session_status), SMTPC_OK when none.
 */
int smtpc_client_run(smtpc_client *c, smtpc_body_source *body, unsigned stop,
                     int quit);

/* A failure the driver detected (TLS, I/O, timeout, a stuck engine):
 * traced as "failed: status in phase", then recorded in the session with
 * smtpc_session_abort (which keeps an earlier error) and the session
 * ended: nothing more is sent. */
void smtpc_client_fail(smtpc_client *c, int status, int phase);

#endif /* SMTPC_CLIENT_INTERNAL_H */
