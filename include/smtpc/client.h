/*
 * smtpc/client.h - the blocking client: runs the engine over a transport.
 *
 * A client owns nothing but what the caller gives it: the struct, a
 * transport and an I/O buffer.  It never allocates and never prints.
 *
 *   smtpc_client c;  smtpc_tcp tcp;  unsigned char buf[4096];
 *   smtpc_client_init(&c, &cfg, smtpc_tcp_transport(&tcp), buf, sizeof buf);
 *   smtpc_client_open(&c);                       connect .. AUTH
 *   smtpc_client_send(&c, &env, &body, &res);    one mail; repeat at will
 *   smtpc_client_close(&c);                      QUIT and close
 *
 * or smtpc_client_sendmail(), which does all three.  Several mails go
 * faster with smtpc_client_submit, which pipelines each mail behind the
 * previous message when the server offers PIPELINING (RFC 2920 3.1):
 *
 *   smtpc_client_submit(&c, &env[0], &body[0], SMTPC_SUBMIT_MORE);
 *   smtpc_client_submit(&c, &env[1], &body[1], SMTPC_SUBMIT_MORE);
 *   ...  env[0].result may be in now; env[i] MUST stay valid until it is
 *   smtpc_client_submit(&c, &env[n], &body[n], SMTPC_SUBMIT_LAST);
 *
 * Each mail's outcome is written into its own envelope (env->result).  Every call returns
 * SMTPC_OK or a negative smtpc_status; the first error of a session is the
 * one reported (a later QUIT failure never replaces it).  That error lives
 * in the engine's session, the one store of it: the client records what
 * it detects itself (a failed connect, TLS handshake, send or receive, a
 * timeout) there too, with smtpc_session_abort.  QUIT is sent on
 * every orderly end; after a timeout or a closed connection nothing more is
 * sent.
 */
#ifndef SMTPC_CLIENT_H
#define SMTPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Timeouts in milliseconds.  Defaults (RFC 5321 4.5.3.2): greeting 5 min,
 * MAIL 5 min, RCPT 5 min, DATA 2 min, each data block 3 min, end of data
 * 10 min, other commands 5 min; connect 30 s. */
typedef struct smtpc_timeouts {
    uint32_t connect_ms;
    uint32_t greeting_ms;
    uint32_t command_ms;    /* EHLO, STARTTLS, TLS handshake, AUTH, RSET, QUIT */
    uint32_t mail_ms;
    uint32_t rcpt_ms;
    uint32_t data_ms;       /* reply to DATA */
    uint32_t block_ms;      /* sending each piece of the message */
    uint32_t data_end_ms;   /* reply after the message (or BDAT LAST) */
} smtpc_timeouts;

/* The RFC 5321 defaults, or every phase set to override_ms when it is
 * not 0. */
SMTPC_API void smtpc_timeouts_default(smtpc_timeouts *t, uint32_t override_ms);

/* Direction of a traced line. */
enum { SMTPC_TRACE_SENT = 0, SMTPC_TRACE_RECEIVED = 1, SMTPC_TRACE_INFO = 2 };

/* Called with the dialogue, one piece at a time (not always whole lines).
 * Secrets are already replaced by "<redacted>". */
typedef void (*smtpc_trace_fn)(void *ctx, int direction, const char *data,
                               size_t len);

typedef struct smtpc_client_config {
    const char *host;         /* server name or IP literal; copied by pointer */
    uint16_t port;            /* 0: 25, or 465 for SMTPC_TLS_IMPLICIT */
    smtpc_config session;     /* EHLO name, TLS mode, AUTH, options */
    smtpc_timeouts timeouts;  /* all zero: RFC defaults */
    smtpc_trace_fn trace;     /* NULL: no trace */
    void *trace_ctx;
} smtpc_client_config;

/* Where the message comes from: the client asks for pieces until *len is 0.
 * next returns SMTPC_OK, or an error that ends the session (the message
 * is not completed, so the server discards it). *data stays valid until
 * the next call. */
typedef struct smtpc_body_source {
    int (*next)(void *ctx, const void **data, size_t *len);
    void *ctx;
} smtpc_body_source;

/* A body held in memory, for smtpc_body_memory. */
typedef struct smtpc_body_mem {
    const void *data;
    size_t len;
    int done;
} smtpc_body_mem;

/* A source over len bytes at data (caller-owned, valid while sending). */
SMTPC_API smtpc_body_source smtpc_body_memory(smtpc_body_mem *m, const void *data,
                                    size_t len);

typedef struct smtpc_client {
    /* The session last: Thumb-2's short loads reach only the first 128
     * bytes of a struct, and the driver reads the fields below often. */
    int open;                  /* connected */
    smtpc_transport transport;
    const smtpc_client_config *cfg;
    unsigned char *buf;
    size_t buf_len;
    smtpc_timeouts timeouts;   /* cfg's, with defaults filled in */
    /* cfg->session as the engine sees it: the driver adds what it learns
     * (SMTPC_OPT_PEER_LOOPBACK, host and port for OAUTHBEARER).  The
     * engine keeps a pointer to it, so it lives here, not on a stack. */
    smtpc_config session_cfg;
    smtpc_session session;
} smtpc_client;

/* Prepares c.  cfg, the transport's context and buf MUST outlive c; buf_len
 * at least SMTPC_IO_MIN (4 KiB or more recommended). */
SMTPC_API int smtpc_client_init(smtpc_client *c, const smtpc_client_config *cfg,
                      smtpc_transport transport, void *buf, size_t buf_len);

/* Connects and runs the session up to READY: greeting, EHLO (HELO when
 * EHLO is refused), STARTTLS, AUTH.  With AUTH PLAIN on a server that
 * offers PIPELINING it returns once AUTH is sent (SMTPC_NEXT_MAIL), so the
 * first mail's envelope goes in AUTH's group; an AUTH refusal is then
 * reported by that mail (and smtpc_client_error), nothing of it sent. */
SMTPC_API int smtpc_client_open(smtpc_client *c);

/* Sends one mail on the open session and waits for its outcome, also
 * in env->result.  res (may be NULL) gets a copy.  A mail refused on its
 * own leaves the session open for the next one. */
SMTPC_API int smtpc_client_send(smtpc_client *c, smtpc_envelope *env,
                      smtpc_body_source *body, smtpc_result *res);

/* Hints for smtpc_client_submit. */
enum {
    /* Another mail follows: return as soon as the session takes the next
     * one, which with PIPELINING is once this message is handed over,
     * before the server's reply to it (its commands then go in the same
     * group as this message's end). */
    SMTPC_SUBMIT_MORE = 1u << 0,
    /* The session's last mail: QUIT goes with the message (in its group
     * when the server offers PIPELINING) and the connection is closed
     * once the server answered.  The session's error, if any, stays
     * readable with smtpc_client_error. */
    SMTPC_SUBMIT_LAST = 1u << 1
};

/*
 * Sends one mail on the open session: the session MUST be ready for it
 * (smtpc_client_ready, or a previous submit with SMTPC_SUBMIT_MORE).
 * flags: 0 (wait for the outcome, as smtpc_client_send), SMTPC_SUBMIT_MORE
 * or SMTPC_SUBMIT_LAST.  The body is pulled to its end before this
 * returns; env and its recipients MUST stay valid and unchanged until
 * env->result.status is no longer SMTPC_ERR_PENDING, which happens in a
 * later call on c (the next submit, smtpc_client_flush, smtpc_client_close)
 * at the latest.  Returns env->result.status: SMTPC_OK, SMTPC_ERR_PENDING
 * (only with SMTPC_SUBMIT_MORE), or why the mail failed.
 */
SMTPC_API int smtpc_client_submit(smtpc_client *c, smtpc_envelope *env,
                                  smtpc_body_source *body, unsigned flags);

/* Waits until every submitted mail's outcome is in.  Returns the
 * session's first error, or SMTPC_OK. */
SMTPC_API int smtpc_client_flush(smtpc_client *c);

/* The client's engine session, for the read-only engine calls
 * (smtpc_last_reply, smtpc_session_caps, smtpc_session_secure, ...). */
SMTPC_API const smtpc_session *smtpc_client_session(const smtpc_client *c);

/* Nonzero when the connection is open and takes another mail: READY, or
 * after a submit with SMTPC_SUBMIT_MORE whose reply is still awaited. */
SMTPC_API int smtpc_client_ready(const smtpc_client *c);

/* The session's first error (SMTPC_OK when none) and, when phase is not
 * NULL, the smtpc_phase in which it happened: smtpc_session_status and
 * smtpc_session_phase of the client's session, which holds the client's
 * own failures too.  After a failed smtpc_client_init: SMTPC_ERR_ARG. */
SMTPC_API int smtpc_client_error(const smtpc_client *c, int *phase);

/* Sends QUIT (behind the last message when its reply is still awaited),
 * waits for the replies, closes.  Every submitted mail's outcome is in
 * afterwards.  Returns the session's first error, or SMTPC_OK. */
SMTPC_API int smtpc_client_close(smtpc_client *c);

/* open + submit (SMTPC_SUBMIT_LAST) + close: one connection for one mail,
 * QUIT pipelined behind it when the server allows.  res (may be NULL) and
 * env->result get the mail's outcome, or the session's failure. */
SMTPC_API int smtpc_client_sendmail(smtpc_client *c, smtpc_envelope *env,
                          smtpc_body_source *body, smtpc_result *res);

#ifdef __cplusplus
}
#endif

#endif /* SMTPC_CLIENT_H */
