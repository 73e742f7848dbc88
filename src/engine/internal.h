/*
 * Internal declarations of the engine.  Nothing here is public API.
 */
#ifndef SMTPC_ENGINE_INTERNAL_H
#define SMTPC_ENGINE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "smtpc/engine.h"

/* Free send space every reply handler may count on: any command except an
 * AUTH payload fits (RFC 5321 4.5.3.1.4 allows 512 octets; MAIL with every
 * ESMTP parameter stays under this). */
#define SMTPC_CMD_ROOM 512u

/* Room reserved in front of a BDAT chunk for "BDAT <20 digits> LAST\r\n". */
#define SMTPC_BDAT_HDR 32u

#if SMTPC_CMD_ROOM + SMTPC_LINE_MAX > SMTPC_IO_MIN
#error "SMTPC_IO_MIN must hold the receive area and one command"
#endif

/* Session states (smtpc_session.state). */
enum {
    ST_GREETING, /* waiting for 220 */
    ST_HELLO,    /* EHLO or HELO sent */
    ST_STARTTLS, /* STARTTLS sent */
    ST_TLS,      /* waiting for the driver to start TLS */
    ST_AUTH,     /* an AUTH exchange is running */
    ST_READY,    /* between mails */
    ST_MAIL,     /* a transaction is running (see smtpc_session.mode) */
    ST_QUIT,     /* QUIT sent (or failing): waiting for the end */
    ST_CLOSED
};

/* What each awaited reply answers (smtpc_session.queue entries). */
enum {
    R_GREETING,
    R_EHLO,
    R_HELO,
    R_STARTTLS,
    R_AUTH,
    R_MAIL,
    R_RCPT,
    R_DATA,
    R_DOT,       /* end of DATA */
    R_BDAT,      /* a BDAT chunk that is not the last */
    R_BDAT_LAST,
    R_RSET,
    R_QUIT
};

/* smtpc_session.flags */
enum {
    F_SECURE = 1u << 0,      /* TLS is up (implicit, or after STARTTLS) */
    F_AUTHED = 1u << 1,
    F_CHUNK_OPEN = 1u << 2,  /* a BDAT chunk is being filled at tx_chunk */
    F_BODY_DONE = 1u << 3,   /* smtpc_body_end was accepted */
    F_NEED_RSET = 1u << 4,   /* the mail failed inside its transaction */
    F_RECORD = 1u << 5,      /* the reply being read goes to s->reply */
    F_AUTH_ERRTEXT = 1u << 6,/* reply.text holds an OAuth error challenge */
    F_TLS_TRIED = 1u << 7    /* STARTTLS was already sent once */
};

/* smtpc_session.mode: how the running mail is sent */
enum {
    M_PIPELINING = 1u << 0,
    M_CHUNKING = 1u << 1,
    M_BINARY = 1u << 2,       /* BINARYMIME: bytes go out untouched */
    M_MAIL_SENT = 1u << 3,
    M_DATA_SENT = 1u << 4,
    M_BODY = 1u << 5,         /* the body may be written now or later */
    M_RCPTS_DONE = 1u << 6    /* every RCPT reply is in */
};

/* smtpc_session.pipe */
enum {
    P_QUIT = 1u << 0 /* QUIT is queued behind the running mail's message */
};

/* Feature tests that fold to 0 when the feature is compiled out, so the
 * code behind them is dropped without #if around every use. */
#define CHUNK_OPEN(s) (SMTPC_WITH_CHUNKING && ((s)->flags & F_CHUNK_OPEN))
#define WAITING_TLS(s) (SMTPC_WITH_TLS && (s)->state == ST_TLS)
#define PIPELINED(s) (SMTPC_WITH_PIPELINING && ((s)->mode & M_PIPELINING))
#define CHUNKED(s) (SMTPC_WITH_CHUNKING && ((s)->mode & M_CHUNKING))
#define QUIT_QUEUED(s) (SMTPC_WITH_PIPELINING && ((s)->pipe & P_QUIT))
#define PREV_PENDING(s) (SMTPC_WITH_PIPELINING && (s)->prev != NULL)
/* The running mail's message is ended and nothing but its final reply is
 * awaited: its envelope is answered, so the next mail may follow it in
 * the same group (RFC 2920 3.1) and the two never share a reply. */
#define NEXT_OK(s)                                                         \
    (PIPELINED(s) && (s)->state == ST_MAIL && ((s)->flags & F_BODY_DONE) && \
     (s)->mail_status == SMTPC_OK && (s)->q_len == 1 && !QUIT_QUEUED(s))
/* QUIT may follow the message in its group: the mail's replies are still
 * read in order, and QUIT replaces the RSET a failure would need. */
#define QUIT_BEHIND_OK(s)                                                  \
    (PIPELINED(s) && (s)->state == ST_MAIL && ((s)->flags & F_BODY_DONE) && \
     !QUIT_QUEUED(s))
/* AUTH PLAIN with its initial response ends in one reply (no challenge
 * may follow it), so the first mail's commands may follow it in the same
 * group (RFC 4954 4).  Its reply comes first: a refusal ends the session
 * before any of the message is sent (see smtpc_e_auth_reply). */
#define AUTH_BEHIND_OK(s)                                                  \
    (SMTPC_WITH_PIPELINING && (s)->state == ST_AUTH && (s)->q_len == 1 &&  \
     (s)->auth_mech == SMTPC_AUTH_PLAIN && (s)->auth_step == 0 &&          \
     ((s)->caps.flags & SMTPC_CAP_PIPELINING) &&                           \
     !((s)->cfg->options & SMTPC_OPT_NO_PIPELINING))
/* The reply awaited first is AUTH's: a mail began behind it. */
#define AUTH_AHEAD(s)                                                      \
    (SMTPC_WITH_PIPELINING && (s)->q_len && (s)->queue[(s)->q_head] == R_AUTH)
#define OAUTH_COMPILED (SMTPC_WITH_AUTH_XOAUTH2 || SMTPC_WITH_AUTH_OAUTHBEARER)

/* smtpc_session.st_flags: AUTH bookkeeping */
enum {
    A_FALLBACK_USED = 1u << 0 /* a 504 already moved us to another mech */
};

/* body_state bits (the encoder's memory between calls) */
enum {
    B_LINE_START = 1u << 0,
    B_AFTER_CR = 1u << 1
};

/* -- common.c -- */
/* The status a refusal with this reply code means. */
int smtpc_e_status_for_code(unsigned code);
/* Sets env as the mail and marks it and every recipient unanswered. */
void smtpc_e_mail_reset(smtpc_session *s, smtpc_envelope *env);
/* Clears env's outcome to status and phase alone. */
void smtpc_e_result_reset(smtpc_envelope *env, int status, int phase);
/* Writes an outcome into env (reply copied unless NULL). */
void smtpc_e_result_set(smtpc_envelope *env, int status, int phase,
                        const smtpc_reply *reply, size_t accepted);
/* The running mail is over: its outcome goes into its envelope. */
void smtpc_e_mail_settle(smtpc_session *s);
/* Everything that may move after bytes went either way (session.c),
 * called by common.c's acknowledgements. */
void smtpc_e_run(smtpc_session *s);

/* -- session.c: helpers the other files share -- */
void smtpc_e_fail_session(smtpc_session *s, int status, int phase, int orderly);
void smtpc_e_fail_mail(smtpc_session *s, int status, int phase);
void smtpc_e_queue_push(smtpc_session *s, uint8_t kind);
unsigned smtpc_e_queue_free(const smtpc_session *s);
size_t smtpc_e_tx_free(smtpc_session *s);
void smtpc_e_after_hello(smtpc_session *s);
void smtpc_e_enter_ready(smtpc_session *s);

/* -- command.c: the one writer of commands -- */
typedef struct smtpc_cmd {
    smtpc_session *s;
    uint32_t start;  /* tx_tail when the command began */
    int err;         /* first error; the command is dropped on end */
    uint8_t b64[3];  /* base64 carry */
    uint8_t b64_n;
} smtpc_cmd;

void smtpc_e_cmd_begin(smtpc_cmd *c, smtpc_session *s);
void smtpc_e_cmd_add(smtpc_cmd *c, const char *text);
void smtpc_e_cmd_add_n(smtpc_cmd *c, const char *text, size_t len);
void smtpc_e_cmd_add_u64(smtpc_cmd *c, uint64_t v);
/* Decimal digits of v into out (no NUL); returns their count. */
size_t smtpc_e_u64_format(char out[20], uint64_t v);
void smtpc_e_cmd_add_xtext(smtpc_cmd *c, const char *text);
void smtpc_e_cmd_secret_begin(smtpc_cmd *c);
void smtpc_e_cmd_b64(smtpc_cmd *c, const void *data, size_t len);
void smtpc_e_cmd_b64_end(smtpc_cmd *c);
void smtpc_e_cmd_secret_end(smtpc_cmd *c);
/* Ends the line, queues the awaited reply.  SMTPC_OK or the error (and
 * then nothing of the command stays in the send area). */
int smtpc_e_cmd_end(smtpc_cmd *c, uint8_t reply_kind);
/* A command of fixed text; when it does not fit the session fails
 * (SMTPC_ERR_BUFFER in phase). */
void smtpc_e_cmd_simple(smtpc_session *s, const char *text, uint8_t kind,
                        int phase);

/* -- reply.c: one line of a reply -- */
typedef struct smtpc_line {
    unsigned code;
    int last;              /* no continuation follows */
    uint16_t enh[3];
    const char *text;      /* after code, separator and enhanced code */
    size_t text_len;
} smtpc_line;

/* Parses one line (CRLF or LF stripped).  SMTPC_OK or SMTPC_ERR_PROTOCOL. */
int smtpc_e_line_parse(const unsigned char *p, size_t len, smtpc_line *out);
/* Appends one reply line's text to a NUL-ended buffer of cap bytes, after
 * a "\n" when the buffer holds text already; bytes outside printable
 * ASCII become '?'; what does not fit is cut. */
void smtpc_e_text_append(char *dst, size_t cap, const char *src, size_t len);

/* -- caps.c -- */
void smtpc_e_caps_line(smtpc_caps *caps, const char *text, size_t len);
/* A mechanism's name as the AUTH command writes it (only those compiled
 * in: smtpc_auth_mech_str names them all), or NULL. */
const char *smtpc_e_mech_name(unsigned mech);

/* -- auth.c -- */
int smtpc_e_auth_check_config(const smtpc_config *cfg);
/* Starts AUTH, or goes READY when none is due. */
void smtpc_e_auth_start(smtpc_session *s);
void smtpc_e_auth_reply(smtpc_session *s, const smtpc_line *last);

/* -- mail.c -- */
void smtpc_e_mail_pump(smtpc_session *s);
void smtpc_e_mail_reply(smtpc_session *s, uint8_t kind, unsigned code);
void smtpc_e_rcpt_line(smtpc_session *s, const smtpc_line *l);
/* A further line of a multi-line RCPT reply: its text is kept too. */
void smtpc_e_rcpt_more(smtpc_session *s, const smtpc_line *l);

/* -- body.c -- */
void smtpc_e_chunk_seal(smtpc_session *s, int last);
int smtpc_e_body_wanted(const smtpc_session *s);

/* -- md5.c (CRAM-MD5) -- */
typedef struct smtpc_md5 {
    uint32_t h[4];
    uint64_t len;
    unsigned char buf[64];
} smtpc_md5;
void smtpc_e_md5_init(smtpc_md5 *m);
void smtpc_e_md5_update(smtpc_md5 *m, const void *data, size_t len);
void smtpc_e_md5_final(smtpc_md5 *m, unsigned char out[16]);
void smtpc_e_hmac_md5(const void *key, size_t key_len, const void *msg,
                     size_t msg_len, unsigned char out[16]);

#endif /* SMTPC_ENGINE_INTERNAL_H */
