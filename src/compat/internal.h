/*
 * Internal declarations of the NetX Duo compatible API (src/compat).
 * Nothing here is public.
 *
 * Files, each with one job:
 *   nxd_smtp_client.c  create, delete, mail_send and their argument checks
 *   nxd_smtp_mail.c    the header block and the body source of one mail
 *   nxd_smtp_status.c  the one table from smtpc statuses to NX_SMTP_* codes
 *   nxd_smtp_port.c    what a device port replaces: transport, clock, entropy
 *   nxd_smtp_tls.c     nx_smtp_client_tls_set (linked only when called)
 */
#ifndef SMTPC_COMPAT_INTERNAL_H
#define SMTPC_COMPAT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nxd_smtp_client.h"

#if NX_SMTP_CLIENT_BUFFER_SIZE < SMTPC_IO_MIN
#error "NX_SMTP_CLIENT_BUFFER_SIZE must be at least SMTPC_IO_MIN"
#endif

/* The address families NXD_ADDRESS carries: both when hosted; on NetX
 * Duo those its configuration keeps (NX_DISABLE_IPV4, NX_DISABLE_IPV6). */
#if defined(NX_API_H) && defined(NX_DISABLE_IPV4)
#define SMTPC_COMPAT_IPV4 0
#else
#define SMTPC_COMPAT_IPV4 1
#endif
#if defined(NX_API_H) && !defined(FEATURE_NX_IPV6)
#define SMTPC_COMPAT_IPV6 0
#else
#define SMTPC_COMPAT_IPV6 1
#endif

/* Whether the port has a wall clock for the Date header.  NetX Duo has
 * one only when the application defines NX_SMTP_CLIENT_TIME_GET, and a
 * hosted build without NX_SMTP_CLIENT_NO_CLOCK always does; without one
 * the Date code is known dead at compile time and folds away. */
#if (defined(NX_API_H) && !defined(NX_SMTP_CLIENT_TIME_GET)) || \
    defined(NX_SMTP_CLIENT_NO_CLOCK)
#define SMTPC_COMPAT_CLOCK 0
#else
#define SMTPC_COMPAT_CLOCK 1
#endif

/* The private state of a client. */
#define SMTPC_COMPAT(c) (&(c)->nx_smtp_client_smtpc)

/* ---- nxd_smtp_tls.c, reached only through this table ----
 * nx_smtp_client_tls_set installs it, so a program that never calls that
 * function links neither the TLS code nor the allocating backend. */
struct smtpc_compat_tls_ops {
    /* Wraps *t (the plain transport) in TLS for one mail: SMTPC_OK or a
     * negative smtpc_status. */
    int (*wrap)(NX_SMTP_CLIENT *c, smtpc_transport *t);
    /* Frees what wrap made (closing the connection); safe after a failed
     * wrap. */
    void (*release)(NX_SMTP_CLIENT *c);
};

/* ---- nxd_smtp_port.c: the hooks a port to another system replaces ---- */

/* The transport for one mail, made over the client's transport storage
 * (NX_SMTP_CLIENT_TRANSPORT_TYPE), not connected yet. */
smtpc_transport smtpc_compat_transport_make(NX_SMTP_CLIENT *c);

/* Seconds since 1970-01-01 UTC into *secs: 1, or 0 when the system has no
 * wall clock (the mail then goes without a Date header). */
int smtpc_compat_clock_read(NX_SMTP_CLIENT *c, int64_t *secs);

/* 32 bits that differ between processes and instants, for Message-ID.
 * Not a secret: uniqueness is all that is needed. */
uint32_t smtpc_compat_entropy_read(NX_SMTP_CLIENT *c);

/* ---- nxd_smtp_mail.c ---- */

/* Prepares the header block and body source of one mail.  The strings
 * must stay valid while the mail is sent.  Returns SMTPC_OK, or
 * SMTPC_ERR_ARG when the subject cannot be written within RFC 5322's line
 * limit.  *size gets the message size (header block + body). */
int smtpc_compat_mail_prepare(NX_SMTP_CLIENT *c, const char *rcpt,
                              unsigned priority, const char *subject,
                              const char *body, size_t body_len,
                              uint64_t *size);

/* The body source over the prepared mail. */
smtpc_body_source smtpc_compat_mail_source(NX_SMTP_CLIENT *c);

/* Writes v in base 10 or 16 at p, at least width (at most 10) digits;
 * returns the end. */
char *smtpc_compat_num(char *p, uint32_t v, unsigned base, unsigned width);

/* Formats secs (since 1970, UTC) as an RFC 5322 date-time,
 * "Thu, 01 Jan 1970 00:00:00 +0000", into out (at least 32 bytes).
 * Returns its length, or 0 when the year is outside 1970..9999. */
size_t smtpc_compat_date_format(int64_t secs, char *out, size_t cap);

/* ---- nxd_smtp_status.c ---- */

/* The NX status for an smtpc status met in a phase (smtpc_phase). */
UINT smtpc_compat_status_map(int status, int phase);

#endif /* SMTPC_COMPAT_INTERNAL_H */
