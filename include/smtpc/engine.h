/*
 * smtpc/engine.h - the SMTP protocol engine, with no I/O.
 *
 * The engine is a state machine.  It never reads or writes a socket, never
 * allocates, never looks at a clock and never prints.  The caller:
 *
 *   1. owns a struct smtpc_session (static, on the stack, anywhere) and one
 *      I/O buffer, and calls smtpc_session_init;
 *   2. asks smtpc_session_state() what the engine wants, and then
 *        - SMTPC_WANT_SEND: takes bytes with smtpc_send_buf(), writes them to
 *          the server, acknowledges with smtpc_send_ack();
 *        - SMTPC_WANT_RECV: gets room with smtpc_recv_buf(), reads server
 *          bytes into it, acknowledges with smtpc_recv_ack() (or hands bytes
 *          it already has to smtpc_feed());
 *        - SMTPC_WANT_BODY: writes message bytes with smtpc_body_write() and
 *          ends them with smtpc_body_end();
 *        - SMTPC_WANT_TLS: starts TLS on the connection (STARTTLS was
 *          accepted) and calls smtpc_tls_done();
 *        - SMTPC_READY: starts a mail with smtpc_mail_begin(), or ends the
 *          session with smtpc_quit();
 *        - SMTPC_NEXT_MAIL (only when the server offered PIPELINING): the
 *          last mail's message is ended and only its final reply is
 *          awaited: the next mail may begin now, so that its commands go
 *          in the same group as the end of the message (RFC 2920 3.1).
 *          Also while AUTH PLAIN (initial response, one reply) is
 *          awaited: the first mail's commands then follow AUTH in its
 *          group (RFC 4954 4); its message waits for AUTH's 235, and any
 *          other answer fails the session and the mail, nothing of the
 *          message sent.  Waiting for SMTPC_READY instead is always
 *          correct.
 *        - SMTPC_CLOSED: the session is over; smtpc_session_status() says
 *          whether it ended well.
 *      Several bits may be set at once (SEND with RECV when commands are
 *      pipelined or a body streams, SEND with BODY while a body streams).
 *      A caller that can do only one thing at a time writes body bytes
 *      until smtpc_body_write takes no more, then sends (with CHUNKING
 *      each send closes a BDAT chunk, so sending after every small piece
 *      makes many small chunks), and otherwise does SEND first.
 *
 * Bytes from the server may arrive split anywhere, one at a time or many
 * replies at once: the result is the same.
 *
 * Rules for every function here:
 *   - Pointers the caller passes in (config strings, envelope, recipients)
 *     MUST stay valid and unchanged until the session no longer needs them:
 *     config strings until the session is closed, an envelope until the
 *     mail's outcome is in (env->result.status is no longer
 *     SMTPC_ERR_PENDING), which with pipelining may be after the next
 *     mail began.
 *   - Errors are sticky: once smtpc_session_status() is not SMTPC_OK for a
 *     session-level failure, the engine only finishes its QUIT (when the
 *     connection is still orderly) and then reports SMTPC_CLOSED.
 *   - The session is the one store of a session's first error, whoever
 *     found it: the engine (a refusal, a malformed reply) or the driver (a
 *     timeout, a failed send or TLS handshake, reported with
 *     smtpc_session_abort).  smtpc_session_status() and
 *     smtpc_session_phase() read it; a driver keeps no copy.
 *   - A mail that fails on its own (MAIL or every RCPT refused, the message
 *     refused) does not fail the session: the engine sends RSET when needed
 *     and is READY again.  Each mail's outcome is written into its own
 *     envelope (smtpc_envelope.result), never into another's: a reply is
 *     matched to the mail whose command it answers, and a mail is
 *     reported SMTPC_OK only after the server's positive final reply to
 *     it.  A mail whose reply never came (the connection broke, the
 *     server went out of step) gets the session's error.
 *   - Nothing received from the server can overflow a buffer; reply text
 *     copied out is truncated, NUL-terminated and made printable: the
 *     text of each line of a reply (without its code and enhanced code;
 *     bytes outside printable ASCII as '?'), the lines joined by "\n".
 *
 * The session struct is defined here so that sizeof and static allocation
 * work.  Its members are private: read them only through the functions.
 */
#ifndef SMTPC_ENGINE_H
#define SMTPC_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "smtpc_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status: one enum for the whole library, never an SMTP code ---- */

typedef enum smtpc_status {
    SMTPC_OK = 0,
    SMTPC_ERR_ARG = -1,            /* bad argument: nothing was sent */
    SMTPC_ERR_STATE = -2,          /* call not valid in this state */
    SMTPC_ERR_BUFFER = -3,         /* caller's I/O buffer too small */
    SMTPC_ERR_PROTOCOL = -4,       /* malformed or unexpected server bytes */
    SMTPC_ERR_REPLY_TOO_LONG = -5, /* reply line or line count over limit */
    SMTPC_ERR_REJECTED = -6,       /* server answered 5xx */
    SMTPC_ERR_TEMPFAIL = -7,       /* server answered 4xx */
    SMTPC_ERR_NO_RECIPIENTS = -8,  /* every recipient was refused */
    SMTPC_ERR_SIZE = -9,           /* message larger than the server's SIZE */
    SMTPC_ERR_AUTH = -10,          /* server refused the credentials */
    SMTPC_ERR_AUTH_UNAVAILABLE = -11, /* no acceptable AUTH mechanism */
    SMTPC_ERR_AUTH_INSECURE = -12, /* credentials would cross in clear */
    SMTPC_ERR_TLS_UNAVAILABLE = -13, /* TLS required, server did not give it */
    SMTPC_ERR_TLS_INJECTION = -14, /* bytes sent before TLS after STARTTLS */
    SMTPC_ERR_EXTENSION = -15,     /* mail needs an extension not offered */
    SMTPC_ERR_CLOSED = -16,        /* server closed the connection early */
    SMTPC_ERR_PENDING = -17,       /* a mail's outcome is not in yet */
    /* Set by drivers and transports, never by the engine itself: */
    SMTPC_ERR_TIMEOUT = -32,
    SMTPC_ERR_RESOLVE = -33,       /* host name unknown */
    SMTPC_ERR_CONNECT = -34,       /* no address accepted the connection */
    SMTPC_ERR_IO = -35,            /* send or receive failed */
    SMTPC_ERR_TLS = -36,           /* TLS handshake or record error */
    SMTPC_ERR_TLS_CERT = -37,      /* server certificate not trusted */
    SMTPC_ERR_BODY_SOURCE = -38,   /* the caller's body source failed */
    SMTPC_ERR_UNSUPPORTED = -39,   /* feature compiled out */
    SMTPC_ERR_RESOLVE_AGAIN = -40  /* the name service failed for now (no
                                      answer, SERVFAIL): try again later */
} smtpc_status;

/* A short, constant, English description of a status.  Never NULL. */
SMTPC_API const char *smtpc_status_str(int status);

/* Where in the session something happened. */
typedef enum smtpc_phase {
    SMTPC_PHASE_NONE = 0,
    SMTPC_PHASE_CONNECT,
    SMTPC_PHASE_GREETING,
    SMTPC_PHASE_EHLO,
    SMTPC_PHASE_STARTTLS,
    SMTPC_PHASE_TLS,
    SMTPC_PHASE_AUTH,
    SMTPC_PHASE_MAIL,
    SMTPC_PHASE_RCPT,
    SMTPC_PHASE_DATA,      /* the DATA command, or a BDAT chunk */
    SMTPC_PHASE_MESSAGE,   /* the reply after the message */
    SMTPC_PHASE_RSET,
    SMTPC_PHASE_QUIT
} smtpc_phase;

SMTPC_API const char *smtpc_phase_str(int phase);

/* ---- Replies ---- */

typedef struct smtpc_reply {
    uint16_t code;      /* 200..599, or 0 when no reply was read */
    uint16_t enh[3];    /* RFC 3463 class.subject.detail; enh[0] == 0: none */
    char text[SMTPC_REPLY_TEXT_MAX]; /* its lines' text joined by "\n" (see
                                        above), cut to fit, NUL-ended */
} smtpc_reply;

/* ---- Capabilities learned from EHLO ---- */

enum {
    SMTPC_CAP_ESMTP = 1u << 0,    /* EHLO was accepted */
    SMTPC_CAP_SIZE = 1u << 1,
    SMTPC_CAP_PIPELINING = 1u << 2,
    SMTPC_CAP_8BITMIME = 1u << 3,
    SMTPC_CAP_SMTPUTF8 = 1u << 4,
    SMTPC_CAP_STARTTLS = 1u << 5,
    SMTPC_CAP_AUTH = 1u << 6,
    SMTPC_CAP_CHUNKING = 1u << 7,
    SMTPC_CAP_BINARYMIME = 1u << 8,
    SMTPC_CAP_DSN = 1u << 9,
    SMTPC_CAP_ENHANCEDSTATUSCODES = 1u << 10,
    SMTPC_CAP_REQUIRETLS = 1u << 11
};

/* AUTH mechanisms, as a bit set of those the server offers and as the
 * caller's choice. */
typedef enum smtpc_auth_mech {
    SMTPC_AUTH_NONE = 0,          /* never authenticate */
    SMTPC_AUTH_PLAIN = 1u << 0,
    SMTPC_AUTH_LOGIN = 1u << 1,
    SMTPC_AUTH_CRAM_MD5 = 1u << 2,
    SMTPC_AUTH_XOAUTH2 = 1u << 3,
    SMTPC_AUTH_OAUTHBEARER = 1u << 4,
    /* Strongest offered: OAUTHBEARER > XOAUTH2 when a token is given,
     * else CRAM-MD5 > PLAIN > LOGIN when a password is given. */
    SMTPC_AUTH_AUTO = 0xff
} smtpc_auth_mech;

SMTPC_API const char *smtpc_auth_mech_str(int mech);

typedef struct smtpc_caps {
    uint32_t flags;      /* SMTPC_CAP_* */
    uint32_t auth;       /* SMTPC_AUTH_* bits offered */
    uint64_t size_max;   /* SIZE value; 0: none announced or no limit */
} smtpc_caps;

/* ---- Session configuration ---- */

typedef enum smtpc_tls_mode {
    SMTPC_TLS_NONE = 0,       /* never TLS; credentials only to loopback */
    SMTPC_TLS_STARTTLS,       /* STARTTLS required: no plaintext fallback */
    SMTPC_TLS_IMPLICIT,       /* the connection is TLS from its first byte */
    SMTPC_TLS_OPPORTUNISTIC   /* STARTTLS when offered, else cleartext;
                                 credentials still go in clear only to a
                                 loopback peer or with
                                 SMTPC_OPT_ALLOW_PLAINTEXT_AUTH.  Use
                                 SMTPC_TLS_STARTTLS whenever credentials
                                 are sent to a remote server. */
} smtpc_tls_mode;

enum {
    /* Allow credentials over a cleartext connection to any host.  Insecure;
     * without it they go in clear only to a loopback address. */
    SMTPC_OPT_ALLOW_PLAINTEXT_AUTH = 1u << 0,
    /* The peer is a loopback address (set by the driver, not the user). */
    SMTPC_OPT_PEER_LOOPBACK = 1u << 1,
    /* Never use PIPELINING / CHUNKING even when offered. */
    SMTPC_OPT_NO_PIPELINING = 1u << 2,
    SMTPC_OPT_NO_CHUNKING = 1u << 3,
    /* Send HELO, never EHLO (no extension is then used). */
    SMTPC_OPT_HELO_ONLY = 1u << 4,
    /* NetX Duo's rule: when the server lists no AUTH mechanism, a client
     * configured for PLAIN or LOGIN uses PLAIN. */
    SMTPC_OPT_PLAIN_WHEN_UNLISTED = 1u << 5,
    /* With SMTPC_TLS_STARTTLS only: STARTTLS right after the greeting,
     * without the EHLO before TLS (whose reply RFC 3207 4.2 discards
     * anyway), one round trip less.  For a server known to take it, e.g.
     * one whose TLS session is cached.  Any refusal falls back to EHLO
     * then STARTTLS as usual, and STARTTLS stays required: nothing but
     * STARTTLS and EHLO is ever sent before TLS. */
    SMTPC_OPT_STARTTLS_FIRST = 1u << 6
};

typedef struct smtpc_config {
    const char *ehlo_name;  /* domain or address literal; NULL: "localhost" */
    unsigned tls;           /* smtpc_tls_mode */
    unsigned auth;          /* smtpc_auth_mech: one mechanism, AUTO or NONE */
    const char *username;   /* NULL: no AUTH (unless a token is given) */
    const char *password;   /* for PLAIN, LOGIN, CRAM-MD5 */
    const char *token;      /* OAuth 2 bearer token for XOAUTH2/OAUTHBEARER */
    const char *authzid;    /* PLAIN authorization identity; usually NULL */
    const char *host;       /* server name, for OAUTHBEARER's host=; may be NULL */
    uint16_t port;          /* for OAUTHBEARER's port=; may be 0 */
    unsigned options;       /* SMTPC_OPT_* */
} smtpc_config;

/* ---- A mail: envelope and recipients ---- */

/* DSN NOTIFY bits for smtpc_rcpt.notify (RFC 3461). */
enum {
    SMTPC_NOTIFY_SUCCESS = 1u << 0,
    SMTPC_NOTIFY_FAILURE = 1u << 1,
    SMTPC_NOTIFY_DELAY = 1u << 2,
    SMTPC_NOTIFY_NEVER = 1u << 3
};

typedef struct smtpc_rcpt {
    const char *address;  /* in: forward-path without <>; caller-owned */
    unsigned notify;      /* in: SMTPC_NOTIFY_* (needs DSN); 0: none */
    const char *orcpt;    /* in: DSN ORCPT as "rfc822;addr"; NULL: none */
    /* out: */
    int status;           /* SMTPC_OK when accepted (250/251) */
    uint16_t code;        /* the RCPT reply code; 0 if never answered */
    uint16_t enh[3];
    char text[SMTPC_RCPT_TEXT_MAX]; /* as smtpc_reply.text */
} smtpc_rcpt;

/* A mail's outcome.  Each recipient's own outcome is in env->rcpts. */
typedef struct smtpc_result {
    int status;            /* SMTPC_OK: the server took the message;
                              SMTPC_ERR_PENDING: not answered yet */
    int phase;             /* smtpc_phase where it failed */
    smtpc_reply reply;     /* on success the final 250 (often the queue id);
                              else the reply that failed it, if any */
    size_t rcpt_accepted;
} smtpc_result;

/* Body and envelope flags for smtpc_envelope.flags. */
enum {
    SMTPC_MAIL_8BITMIME = 1u << 0,    /* BODY=8BITMIME (when offered) */
    SMTPC_MAIL_BINARYMIME = 1u << 1,  /* BODY=BINARYMIME: needs CHUNKING */
    SMTPC_MAIL_SMTPUTF8 = 1u << 2,    /* force SMTPUTF8 (automatic when an
                                         address has non-ASCII bytes) */
    SMTPC_MAIL_RET_FULL = 1u << 3,    /* DSN RET=FULL */
    SMTPC_MAIL_RET_HDRS = 1u << 4,    /* DSN RET=HDRS */
    SMTPC_MAIL_REQUIRE_8BITMIME = 1u << 5 /* fail if 8BITMIME not offered */
};

typedef struct smtpc_envelope {
    const char *from;      /* reverse-path without <>; "" for the null path */
    smtpc_rcpt *rcpts;     /* in/out, rcpt_count entries */
    size_t rcpt_count;     /* at least 1 */
    uint64_t size;         /* message size in bytes if known, else 0 */
    unsigned flags;        /* SMTPC_MAIL_* */
    const char *envid;     /* DSN ENVID (xtext-encoded by the engine); NULL */
    /* out: written by smtpc_mail_begin (SMTPC_ERR_PENDING, or why the
     * mail was refused before a byte went out) and when its outcome is
     * in.  Stays as it is until the envelope is begun again. */
    smtpc_result result;
} smtpc_envelope;

/* ---- The session ---- */

/* Everything below is private; see the functions. */
typedef struct smtpc_session {
    /* The small fields the engine reads on every call first, the large
     * arrays last: on Thumb-2 the short load and store forms reach only
     * the first 32 bytes (for bytes), 64 (halves) and 128 (words). */
    uint8_t state, st_flags;
    uint8_t mode;               /* transaction mode: DATA / BDAT, pipelined */
    uint8_t body_state;         /* line-start / after-CR for the encoder */
    uint8_t auth_mech, auth_step, auth_tried;
    uint8_t flags;              /* SESSION_F_* private bits */
    uint8_t q_head, q_len;      /* replies awaited, oldest first */
    uint8_t phase, mail_phase;
    uint8_t pipe;               /* P_* private bits (pipelining) */
    uint16_t rx_fill, rx_scan;  /* bytes in rx; bytes already scanned */
    uint16_t line_count;        /* lines of the reply being read */
    uint16_t cur_code;          /* code of the reply being read */
    const smtpc_config *cfg;
    smtpc_envelope *env;
    /* With pipelining: the mail before env, whose final reply is still
     * awaited; NULL when none. */
    smtpc_envelope *prev;
    unsigned char *rx;          /* receive area, SMTPC_LINE_MAX bytes */
    unsigned char *tx;          /* send area */
    uint32_t tx_cap, tx_head, tx_tail; /* pending bytes: tx[head..tail) */
    uint32_t tx_chunk;          /* offset of the open BDAT chunk's header */
    uint32_t tx_secret_lo, tx_secret_hi; /* tx bytes holding a secret */
    uint32_t progress;
    size_t rcpt_next;           /* next RCPT to send */
    size_t rcpt_reply;          /* next RCPT whose reply is awaited */
    size_t rcpt_ok;             /* recipients accepted */
    int status;                 /* session status, sticky */
    int mail_status;            /* last mail's status */
    uint64_t body_bytes;        /* body bytes written this mail */
    smtpc_caps caps;
    uint8_t queue[SMTPC_PIPELINE_MAX];
    smtpc_reply reply;          /* last complete reply */
} smtpc_session;

/* What the engine wants: a bit set. */
enum {
    SMTPC_WANT_SEND = 1u << 0,
    SMTPC_WANT_RECV = 1u << 1,
    SMTPC_WANT_BODY = 1u << 2,
    SMTPC_WANT_TLS = 1u << 3,
    SMTPC_READY = 1u << 4,
    SMTPC_CLOSED = 1u << 5,
    SMTPC_NEXT_MAIL = 1u << 6  /* smtpc_mail_begin takes the next mail */
};

/*
 * Prepares a session.  cfg and its strings, and buf, MUST stay valid until
 * the session is closed.  buf_len MUST be at least SMTPC_IO_MIN; the part
 * past SMTPC_LINE_MAX is the send area, and a larger one means larger
 * writes (a body streams in pieces of about that size).  Every config
 * argument is checked here; a bad one gives SMTPC_ERR_ARG and a session
 * that is already CLOSED (nothing will be sent).
 */
SMTPC_API int smtpc_session_init(smtpc_session *s, const smtpc_config *cfg,
                       void *buf, size_t buf_len);

/* SMTPC_WANT_* / SMTPC_READY / SMTPC_CLOSED bits. */
SMTPC_API unsigned smtpc_session_state(const smtpc_session *s);

/* The session's status: SMTPC_OK, or the first error it met. */
SMTPC_API int smtpc_session_status(const smtpc_session *s);

/* The phase in which the session's status was set. */
SMTPC_API int smtpc_session_phase(const smtpc_session *s);

/* The last complete reply from the server.  Valid until the next call
 * that hands the engine bytes. */
SMTPC_API const smtpc_reply *smtpc_last_reply(const smtpc_session *s);

/* The capabilities of the last EHLO reply (forgotten at STARTTLS).  Only
 * what this build can use is recorded: with a feature compiled out
 * (smtpc_config.h) its keyword is ignored. */
SMTPC_API const smtpc_caps *smtpc_session_caps(const smtpc_session *s);

/* The mechanism that authenticated the session, or SMTPC_AUTH_NONE. */
SMTPC_API int smtpc_session_auth_mech(const smtpc_session *s);

/* Nonzero when the engine was told the connection is TLS. */
SMTPC_API int smtpc_session_secure(const smtpc_session *s);

/* The phase whose reply the engine awaits (oldest first), for a driver to
 * pick its timeout; SMTPC_PHASE_NONE when it awaits none. */
SMTPC_API int smtpc_session_wait_phase(const smtpc_session *s);

/* A counter that moves whenever a reply completes or a command is queued:
 * a driver restarts its timer when it changes. */
SMTPC_API uint32_t smtpc_session_progress(const smtpc_session *s);

/* -- bytes to the server -- */

/* Pending bytes to send, *len of them; NULL and 0 when none. */
SMTPC_API const unsigned char *smtpc_send_buf(smtpc_session *s, size_t *len);

/* n of them were sent (n <= *len of the last smtpc_send_buf). */
SMTPC_API void smtpc_send_ack(smtpc_session *s, size_t n);

/* Which of the pending bytes hold a secret (an AUTH payload): offsets from
 * the smtpc_send_buf pointer, *start == *end when none.  A driver that
 * traces the dialogue MUST print something else in their place. */
SMTPC_API void smtpc_send_secret_range(const smtpc_session *s, size_t *start,
                             size_t *end);

/* -- bytes from the server -- */

/* Room for received bytes, *len of it; NULL and 0 when the engine does not
 * want bytes now (send first). */
SMTPC_API unsigned char *smtpc_recv_buf(smtpc_session *s, size_t *len);

/* n bytes were written into the room from smtpc_recv_buf. */
SMTPC_API void smtpc_recv_ack(smtpc_session *s, size_t n);

/* Copies bytes into the engine: returns how many it took (fewer than len
 * when it must send first; call again after sending). */
SMTPC_API size_t smtpc_feed(smtpc_session *s, const void *data, size_t len);

/* The server closed the connection (end of stream).  Expected after QUIT;
 * anywhere else it ends the session with SMTPC_ERR_CLOSED. */
SMTPC_API void smtpc_recv_eof(smtpc_session *s);

/*
 * The driver failed (timeout, I/O, TLS, connect): the session is CLOSED
 * and nothing more will be sent.  Unless the session already has an
 * error, status (SMTPC_ERR_IO when SMTPC_OK is passed) becomes its error,
 * in phase: the smtpc_phase the driver was in (SMTPC_PHASE_CONNECT,
 * SMTPC_PHASE_TLS, SMTPC_PHASE_MESSAGE while it pulled the body...), or
 * SMTPC_PHASE_NONE (or any value that is not a phase) to take the phase
 * the engine is in: that of the reply it awaits, SMTPC_PHASE_TLS while it
 * waits for TLS, SMTPC_PHASE_MESSAGE while a body streams.  A running
 * mail fails with the same status and phase.  Valid in any state, also
 * after the session closed cleanly (the error is then recorded) and after
 * a failed smtpc_session_init (which already recorded one).
 */
SMTPC_API void smtpc_session_abort(smtpc_session *s, int status, int phase);

/* -- STARTTLS -- */

/* TLS is now up on the connection (after SMTPC_WANT_TLS).  The engine
 * forgets the capabilities and sends EHLO again. */
SMTPC_API int smtpc_tls_done(smtpc_session *s);

/* -- mail -- */

/*
 * Starts a mail (state READY, or SMTPC_NEXT_MAIL: then its commands follow
 * the previous message in one group and the previous mail's final reply
 * is still read and written into its own envelope).  Every address and
 * parameter is checked before anything is queued: a bad one returns
 * SMTPC_ERR_ARG (also in env->result.status) and the session stays as it
 * was.  The envelope's recipients' outcomes are filled in as replies
 * arrive, and env->result when the mail's outcome is in.
 */
SMTPC_API int smtpc_mail_begin(smtpc_session *s, smtpc_envelope *env);

/*
 * Message bytes (state WANT_BODY): any size, any split.  Returns how many
 * it took, 0 when the send area is full (send, then call again).  Line
 * ends are made CRLF and leading dots doubled (DATA), or bytes go out as
 * they are in BDAT chunks.
 */
SMTPC_API size_t smtpc_body_write(smtpc_session *s, const void *data, size_t len);

/* The message is complete.  SMTPC_ERR_BUFFER means "send first, then call
 * again". */
SMTPC_API int smtpc_body_end(smtpc_session *s);

/* Outcome of the last mail begun: SMTPC_OK once the server accepted it.
 * Valid when the session is READY or CLOSED after smtpc_mail_begin.  With
 * mails pipelined, each envelope's result is the one to read. */
SMTPC_API int smtpc_mail_status(const smtpc_session *s);

/* The phase in which the last mail failed. */
SMTPC_API int smtpc_mail_phase(const smtpc_session *s);

/* Number of recipients of the last mail that the server accepted. */
SMTPC_API size_t smtpc_mail_accepted(const smtpc_session *s);

/* Sends QUIT (state READY); the session ends CLOSED.  When the server
 * offered PIPELINING, also right after smtpc_body_end: QUIT then goes in
 * the same group as the message, whose replies are still read and
 * reported; SMTPC_ERR_BUFFER means "send first, then call again".  Any
 * other time in a mail: SMTPC_ERR_STATE. */
SMTPC_API int smtpc_quit(smtpc_session *s);

/* ---- Argument checks (the one place every wire argument is checked) ---- */

/* A mailbox for MAIL FROM / RCPT TO: no CR, LF, NUL or other control byte,
 * no '<' or '>', no unquoted space, at most 256 bytes.  "" passes only
 * when allow_empty is set (the null reverse-path).  Returns SMTPC_OK or
 * SMTPC_ERR_ARG. */
SMTPC_API int smtpc_check_address(const char *addr, int allow_empty);

/* An EHLO domain or address literal. */
SMTPC_API int smtpc_check_domain(const char *name);

/* A header field value (Subject, ...): no CR, LF or NUL. */
SMTPC_API int smtpc_check_header_value(const char *value);

/* Any other text argument: no CR, LF or NUL, at most max bytes. */
SMTPC_API int smtpc_check_text(const char *text, size_t max);

/* ---- Helpers every layer shares (compat, TLS, MIME, the tools) ---- */

/* Characters smtpc_base64_encode writes for n bytes (RFC 4648 section 4,
 * padded): 4 for every 3 bytes or part of 3. */
#define SMTPC_BASE64_LEN(n) ((((n) + 2u) / 3u) * 4u)

/* Encodes src[0..n) as padded base64 into dst, which MUST have room for
 * SMTPC_BASE64_LEN(n) bytes; writes no NUL.  dst and src MUST NOT overlap.
 * Returns the number of characters written.  A caller that streams (the
 * command writer, the MIME writer) passes whole 3-byte groups and keeps the
 * remainder for the next call. */
SMTPC_API size_t smtpc_base64_encode(char *dst, const void *src, size_t n);

/* Decodes base64 src[0..n) into dst (cap bytes).  dst MAY be src itself:
 * output never runs ahead of input.  *ok is set to 1, or to 0 on a byte
 * outside the alphabet, bad padding, or too little room.  Returns the bytes
 * written. */
SMTPC_API size_t smtpc_base64_decode(void *dst, size_t cap, const char *src,
                                     size_t n, int *ok);

/* Zeroes n bytes in a way the compiler cannot drop as a dead store: for
 * buffers that held a password, a token or anything derived from one.
 * p MAY be NULL when n is 0. */
SMTPC_API void smtpc_wipe(void *p, size_t n);

/* What smtpc_check_secret found wrong (0 when nothing), in the order it
 * looks. */
enum smtpc_secret_fault {
    SMTPC_SECRET_OK = 0,
    SMTPC_SECRET_EMPTY,      /* no byte at all */
    SMTPC_SECRET_NUL,        /* a NUL byte inside */
    SMTPC_SECRET_TOO_LONG,   /* over SMTPC_SECRET_MAX bytes */
    SMTPC_SECRET_LINE_BREAK, /* a CR or LF: it would end the command */
    SMTPC_SECRET_CTRL_A      /* ^A, the field separator of OAuth strings */
};

/* The one check of a user name, password, token or authorization identity
 * before it may reach the wire: s[0..len) MUST be non-empty, at most
 * SMTPC_SECRET_MAX bytes, free of NUL, CR and LF; with oauth set, also of
 * ^A (XOAUTH2 and OAUTHBEARER separate their fields with it).  Returns
 * SMTPC_SECRET_OK or the first fault found. */
SMTPC_API int smtpc_check_secret(const void *s, size_t len, int oauth);

#ifdef __cplusplus
}
#endif

#endif /* SMTPC_ENGINE_H */
