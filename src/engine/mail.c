/*
 * A mail transaction: MAIL, RCPT for each recipient, then DATA or BDAT.
 *
 * Without PIPELINING each command waits for the previous reply.  With it
 * (RFC 2920) MAIL, the RCPTs and DATA go out as one group, at most
 * SMTPC_PIPELINE_MAX replies awaited at a time, and each reply is matched
 * to its command by order.  With CHUNKING (RFC 3030) the body follows the
 * envelope at once, in BDAT chunks, so a mail costs one round trip.
 */
#include "internal.h"

#include <string.h>

static int has_8bit(const char *p)
{
    for (; *p != '\0'; p++) {
        if ((unsigned char)*p >= 0x80)
            return 1;
    }
    return 0;
}

static int dsn_requested(const smtpc_envelope *env)
{
    size_t i;

    if (env->envid || (env->flags & (SMTPC_MAIL_RET_FULL | SMTPC_MAIL_RET_HDRS)))
        return 1;
    for (i = 0; i < env->rcpt_count; i++) {
        if (env->rcpts[i].notify || env->rcpts[i].orcpt)
            return 1;
    }
    return 0;
}

static int notify_valid(unsigned n)
{
    if (n & ~(unsigned)(SMTPC_NOTIFY_SUCCESS | SMTPC_NOTIFY_FAILURE |
                        SMTPC_NOTIFY_DELAY | SMTPC_NOTIFY_NEVER))
        return 0;
    return !((n & SMTPC_NOTIFY_NEVER) && n != SMTPC_NOTIFY_NEVER);
}

/* Every argument of the mail, before a byte of it is queued. */
static int check_envelope(const smtpc_envelope *env, int *utf8)
{
    size_t i;

    if (env == NULL || env->rcpts == NULL || env->rcpt_count == 0 ||
        smtpc_check_address(env->from, 1) != SMTPC_OK)
        return SMTPC_ERR_ARG;
    if ((env->flags & SMTPC_MAIL_RET_FULL) && (env->flags & SMTPC_MAIL_RET_HDRS))
        return SMTPC_ERR_ARG;
    if ((env->flags & SMTPC_MAIL_8BITMIME) && (env->flags & SMTPC_MAIL_BINARYMIME))
        return SMTPC_ERR_ARG;
    if (SMTPC_WITH_DSN && env->envid &&
        smtpc_check_text(env->envid, 100) != SMTPC_OK)
        return SMTPC_ERR_ARG;
    /* A non-ASCII address needs SMTPUTF8, compiled in or not. */
    *utf8 = (env->flags & SMTPC_MAIL_SMTPUTF8) || has_8bit(env->from);
    for (i = 0; i < env->rcpt_count; i++) {
        const smtpc_rcpt *r = &env->rcpts[i];
        if (smtpc_check_address(r->address, 0) != SMTPC_OK)
            return SMTPC_ERR_ARG;
        if (SMTPC_WITH_DSN &&
            (!notify_valid(r->notify) ||
             (r->orcpt && (smtpc_check_text(r->orcpt, 500) != SMTPC_OK ||
                           strchr(r->orcpt, ';') == NULL))))
            return SMTPC_ERR_ARG;
        if (has_8bit(r->address))
            *utf8 = 1;
    }
    return SMTPC_OK;
}

/* What the server must offer for this mail. */
static int check_extensions(const smtpc_session *s, const smtpc_envelope *env,
                            int utf8)
{
    uint32_t caps = s->caps.flags;
    unsigned opts = s->cfg->options;

    if (utf8 && !(SMTPC_WITH_SMTPUTF8 && (caps & SMTPC_CAP_SMTPUTF8)))
        return SMTPC_WITH_SMTPUTF8 ? SMTPC_ERR_EXTENSION : SMTPC_ERR_UNSUPPORTED;
    if (dsn_requested(env) && !(SMTPC_WITH_DSN && (caps & SMTPC_CAP_DSN)))
        return SMTPC_WITH_DSN ? SMTPC_ERR_EXTENSION : SMTPC_ERR_UNSUPPORTED;
    if ((env->flags & SMTPC_MAIL_BINARYMIME) &&
        !(SMTPC_WITH_CHUNKING && (caps & SMTPC_CAP_CHUNKING) &&
          (caps & SMTPC_CAP_BINARYMIME) && !(opts & SMTPC_OPT_NO_CHUNKING)))
        return SMTPC_WITH_CHUNKING ? SMTPC_ERR_EXTENSION : SMTPC_ERR_UNSUPPORTED;
    if ((env->flags & SMTPC_MAIL_REQUIRE_8BITMIME) &&
        !(SMTPC_WITH_SMTPUTF8 && (caps & SMTPC_CAP_8BITMIME)))
        return SMTPC_WITH_SMTPUTF8 ? SMTPC_ERR_EXTENSION : SMTPC_ERR_UNSUPPORTED;
    /* RFC 1870: a size the server declared too large fails here, before
     * anything is sent. */
    if (SMTPC_WITH_SIZE && (caps & SMTPC_CAP_SIZE) && s->caps.size_max > 0 &&
        env->size > s->caps.size_max)
        return SMTPC_ERR_SIZE;
    return SMTPC_OK;
}

int smtpc_mail_begin(smtpc_session *s, smtpc_envelope *env)
{
    int utf8 = 0, err, next = NEXT_OK(s);

    if (!next && (s->state != ST_READY || s->q_len != 0))
        return s->state == ST_CLOSED && s->status ? s->status : SMTPC_ERR_STATE;
    err = check_envelope(env, &utf8);
    if (err == SMTPC_OK)
        err = check_extensions(s, env, utf8);
    if (err != SMTPC_OK) {
        /* Nothing is queued; a mail still running is left alone. */
        if (!next) {
            smtpc_e_mail_reset(s, env);
            s->mail_status = err;
            s->mail_phase = SMTPC_PHASE_MAIL;
        }
        smtpc_e_result_reset(env, err, SMTPC_PHASE_MAIL);
        return err;
    }
    if (next) {
        /* Only the running mail's final reply is still to come: it is
         * matched to that mail through s->prev. */
        s->env->result.rcpt_accepted = s->rcpt_ok;
        s->prev = s->env;
    }
    smtpc_e_mail_reset(s, env);
    s->mail_status = SMTPC_OK;
    s->mail_phase = SMTPC_PHASE_NONE;
    s->mode = 0;
    if (SMTPC_WITH_PIPELINING && (s->caps.flags & SMTPC_CAP_PIPELINING) &&
        !(s->cfg->options & SMTPC_OPT_NO_PIPELINING))
        s->mode |= M_PIPELINING;
    if (SMTPC_WITH_CHUNKING && (s->caps.flags & SMTPC_CAP_CHUNKING) &&
        !(s->cfg->options & SMTPC_OPT_NO_CHUNKING))
        s->mode |= M_CHUNKING;
    if (env->flags & SMTPC_MAIL_BINARYMIME)
        s->mode |= M_BINARY;
    if (utf8)
        env->flags |= SMTPC_MAIL_SMTPUTF8;
    s->body_state = B_LINE_START;
    s->body_bytes = 0;
    s->flags &= (uint8_t)~(F_NEED_RSET | F_BODY_DONE | F_CHUNK_OPEN);
    s->state = ST_MAIL;
    smtpc_e_mail_pump(s);
    return s->state == ST_CLOSED ? s->status : SMTPC_OK;
}

static int write_mail(smtpc_session *s)
{
    const smtpc_envelope *env = s->env;
    uint32_t caps = s->caps.flags;
    smtpc_cmd c;

    smtpc_e_cmd_begin(&c, s);
    smtpc_e_cmd_add(&c, "MAIL FROM:<");
    smtpc_e_cmd_add(&c, env->from);
    smtpc_e_cmd_add(&c, ">");
    if (SMTPC_WITH_SIZE && (caps & SMTPC_CAP_SIZE) && env->size > 0) {
        smtpc_e_cmd_add(&c, " SIZE=");
        smtpc_e_cmd_add_u64(&c, env->size);
    }
    if (SMTPC_WITH_CHUNKING && (env->flags & SMTPC_MAIL_BINARYMIME))
        smtpc_e_cmd_add(&c, " BODY=BINARYMIME");
    else if (SMTPC_WITH_SMTPUTF8 && (env->flags & SMTPC_MAIL_8BITMIME) &&
             (caps & SMTPC_CAP_8BITMIME))
        smtpc_e_cmd_add(&c, " BODY=8BITMIME");
    if (SMTPC_WITH_SMTPUTF8 && (env->flags & SMTPC_MAIL_SMTPUTF8))
        smtpc_e_cmd_add(&c, " SMTPUTF8");
#if SMTPC_WITH_DSN
    if (env->flags & SMTPC_MAIL_RET_FULL)
        smtpc_e_cmd_add(&c, " RET=FULL");
    else if (env->flags & SMTPC_MAIL_RET_HDRS)
        smtpc_e_cmd_add(&c, " RET=HDRS");
    if (env->envid) {
        smtpc_e_cmd_add(&c, " ENVID=");
        smtpc_e_cmd_add_xtext(&c, env->envid);
    }
#endif
    return smtpc_e_cmd_end(&c, R_MAIL);
}

#if SMTPC_WITH_DSN
/* NOTIFY= and ORCPT= (RFC 3461). */
static void write_rcpt_dsn(smtpc_cmd *c, const smtpc_rcpt *r)
{
    static const struct {
        unsigned bit;
        const char *name;
    } notify_names[] = {{SMTPC_NOTIFY_NEVER, "NEVER"},
                        {SMTPC_NOTIFY_SUCCESS, "SUCCESS"},
                        {SMTPC_NOTIFY_FAILURE, "FAILURE"},
                        {SMTPC_NOTIFY_DELAY, "DELAY"}};

    if (r->notify) {
        size_t i;
        const char *sep = " NOTIFY=";
        for (i = 0; i < sizeof notify_names / sizeof notify_names[0]; i++) {
            if (r->notify & notify_names[i].bit) {
                smtpc_e_cmd_add(c, sep);
                smtpc_e_cmd_add(c, notify_names[i].name);
                sep = ",";
            }
        }
    }
    if (r->orcpt) {
        /* "rfc822;addr": the type is kept, the address xtext-encoded. */
        const char *semi = strchr(r->orcpt, ';');
        smtpc_e_cmd_add(c, " ORCPT=");
        smtpc_e_cmd_add_n(c, r->orcpt, (size_t)(semi - r->orcpt) + 1);
        smtpc_e_cmd_add_xtext(c, semi + 1);
    }
}
#endif

static int write_rcpt(smtpc_session *s, const smtpc_rcpt *r)
{
    smtpc_cmd c;

    smtpc_e_cmd_begin(&c, s);
    smtpc_e_cmd_add(&c, "RCPT TO:<");
    smtpc_e_cmd_add(&c, r->address);
    smtpc_e_cmd_add(&c, ">");
#if SMTPC_WITH_DSN
    write_rcpt_dsn(&c, r);
#endif
    return smtpc_e_cmd_end(&c, R_RCPT);
}

static void write_simple(smtpc_session *s, const char *verb, uint8_t kind,
                         int phase)
{
    smtpc_cmd c;

    smtpc_e_cmd_begin(&c, s);
    smtpc_e_cmd_add(&c, verb);
    if (smtpc_e_cmd_end(&c, kind) != SMTPC_OK)
        smtpc_e_fail_session(s, SMTPC_ERR_BUFFER, phase, 0);
}

/* Writes whatever the transaction can send now.  Called after every event;
 * cheap when there is nothing to do. */
void smtpc_e_mail_pump(smtpc_session *s)
{
    int pipelined = PIPELINED(s) != 0;
    size_t count;

    if (s->state != ST_MAIL)
        return;
    count = s->env->rcpt_count;
    if (s->mail_status != SMTPC_OK) {
        /* The mail failed: once every awaited reply is in, reset. */
        if (s->q_len == 0 && !CHUNK_OPEN(s)) {
            if (!(s->flags & F_NEED_RSET))
                smtpc_e_enter_ready(s);
            else if (!SMTPC_WITH_CHUNKING ||
                     smtpc_e_tx_free(s) >= SMTPC_CMD_ROOM)
                write_simple(s, "RSET", R_RSET, SMTPC_PHASE_RSET);
        }
        return;
    }
    if (!(s->mode & M_MAIL_SENT)) {
        if (smtpc_e_tx_free(s) < SMTPC_CMD_ROOM || smtpc_e_queue_free(s) == 0)
            return;
        if (write_mail(s) != SMTPC_OK) {
            smtpc_e_fail_session(s, SMTPC_ERR_BUFFER, SMTPC_PHASE_MAIL, 1);
            return;
        }
        s->mode |= M_MAIL_SENT;
    }
    while (s->rcpt_next < count) {
        if (!pipelined && s->q_len > 0)
            return;
        /* Pipelined, a slot stays free for DATA or a BDAT chunk. */
        if ((pipelined && smtpc_e_queue_free(s) <= 1) ||
            smtpc_e_tx_free(s) < SMTPC_CMD_ROOM)
            return;
        if (write_rcpt(s, &s->env->rcpts[s->rcpt_next]) != SMTPC_OK) {
            smtpc_e_fail_session(s, SMTPC_ERR_BUFFER, SMTPC_PHASE_RCPT, 1);
            return;
        }
        s->rcpt_next++;
    }
    if (!pipelined && !(s->mode & M_RCPTS_DONE))
        return;
    if (CHUNKED(s)) {
        s->mode |= M_BODY;
        return;
    }
    if (!(s->mode & M_DATA_SENT) && smtpc_e_queue_free(s) > 0 &&
        (!SMTPC_WITH_CHUNKING || smtpc_e_tx_free(s) >= SMTPC_CMD_ROOM)) {
        write_simple(s, "DATA", R_DATA, SMTPC_PHASE_DATA);
        s->mode |= M_DATA_SENT;
    }
}

void smtpc_e_rcpt_line(smtpc_session *s, const smtpc_line *l)
{
    smtpc_rcpt *r;

    if (s->rcpt_reply >= s->env->rcpt_count)
        return;
    r = &s->env->rcpts[s->rcpt_reply];
    r->code = (uint16_t)l->code;
    memcpy(r->enh, l->enh, sizeof r->enh);
    r->text[0] = '\0';
    smtpc_e_text_append(r->text, sizeof r->text, l->text, l->text_len);
    /* 251: "user not local; will forward" is an acceptance. */
    r->status = (l->code == 250 || l->code == 251)
                    ? SMTPC_OK
                    : smtpc_e_status_for_code(l->code);
}

void smtpc_e_rcpt_more(smtpc_session *s, const smtpc_line *l)
{
    smtpc_rcpt *r;

    if (s->rcpt_reply >= s->env->rcpt_count)
        return;
    r = &s->env->rcpts[s->rcpt_reply];
    smtpc_e_text_append(r->text, sizeof r->text, l->text, l->text_len);
}

/* The mail's final reply is in.  QUIT may be queued behind it. */
static void mail_done(smtpc_session *s)
{
    if (s->q_len == 0 || QUIT_QUEUED(s))
        smtpc_e_enter_ready(s);
}

void smtpc_e_mail_reply(smtpc_session *s, uint8_t kind, unsigned code)
{
    int ok = (code >= 200 && code < 300);

    switch (kind) {
    case R_MAIL:
        if (!ok)
            smtpc_e_fail_mail(s, smtpc_e_status_for_code(code),
                              SMTPC_PHASE_MAIL);
        break;
    case R_RCPT:
        if (s->rcpt_reply < s->env->rcpt_count &&
            s->env->rcpts[s->rcpt_reply].status == SMTPC_OK)
            s->rcpt_ok++;
        s->rcpt_reply++;
        if (s->rcpt_reply == s->env->rcpt_count) {
            s->mode |= M_RCPTS_DONE;
            if (s->rcpt_ok == 0)
                smtpc_e_fail_mail(s, SMTPC_ERR_NO_RECIPIENTS,
                                  SMTPC_PHASE_RCPT);
        }
        break;
    case R_DATA:
        if (code == 354 && s->mail_status == SMTPC_OK) {
            s->mode |= M_BODY;
        } else if (SMTPC_WITH_PIPELINING && code == 354) {
            /* Pipelined DATA accepted although the mail had failed: end
             * the empty message at once (RFC 2920 3.1).  Unpipelined,
             * DATA goes out only for a mail that has not failed. */
            write_simple(s, ".", R_DOT, SMTPC_PHASE_DATA);
        } else {
            smtpc_e_fail_mail(s, ok ? SMTPC_ERR_PROTOCOL
                                    : smtpc_e_status_for_code(code),
                              SMTPC_PHASE_DATA);
        }
        break;
    case R_BDAT:
        if (!ok)
            smtpc_e_fail_mail(s, smtpc_e_status_for_code(code),
                              SMTPC_PHASE_DATA);
        break;
    case R_DOT:
    case R_BDAT_LAST:
        if (PREV_PENDING(s)) {
            /* The previous mail's, read while the next one runs. */
            smtpc_e_result_set(s->prev, ok ? SMTPC_OK
                                           : smtpc_e_status_for_code(code),
                               SMTPC_PHASE_MESSAGE, &s->reply,
                               s->prev->result.rcpt_accepted);
            s->prev = NULL;
            break;
        }
        /* A mail that failed earlier is reset once its replies are in,
         * unless QUIT follows anyway. */
        if (s->mail_status != SMTPC_OK && !QUIT_QUEUED(s))
            break;
        if (!ok && s->mail_status == SMTPC_OK) {
            smtpc_e_fail_mail(s, smtpc_e_status_for_code(code),
                              SMTPC_PHASE_MESSAGE);
            /* The transaction is over; nothing to reset. */
            s->flags &= (uint8_t)~F_NEED_RSET;
        }
        mail_done(s);
        return;
    default:
        break;
    }
    smtpc_e_mail_pump(s);
}

