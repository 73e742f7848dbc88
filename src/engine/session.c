/*
 * The session: buffers, the queue of awaited replies, reading replies and
 * handing each complete one to the step that waits for it.
 *
 * Receive area: rx[0..rx_fill) holds bytes not yet consumed; a line is
 * handled once its LF is in, then dropped.  Send area: tx[head..tail) are
 * pending bytes.  The queue lists, oldest first, what each awaited reply
 * answers, so pipelined replies are matched to their commands in order.
 */
#include "internal.h"

#include <string.h>

/* ---- small helpers shared by the engine ---- */

unsigned smtpc_e_queue_free(const smtpc_session *s)
{
    return SMTPC_PIPELINE_MAX - s->q_len;
}

void smtpc_e_queue_push(smtpc_session *s, uint8_t kind)
{
    s->queue[(s->q_head + s->q_len) % SMTPC_PIPELINE_MAX] = kind;
    s->q_len++;
}

static uint8_t queue_pop(smtpc_session *s)
{
    uint8_t kind = s->queue[s->q_head];

    s->q_head = (uint8_t)((s->q_head + 1) % SMTPC_PIPELINE_MAX);
    s->q_len--;
    return kind;
}

static int phase_of(uint8_t kind)
{
    static const uint8_t phases[] = {
        SMTPC_PHASE_GREETING, SMTPC_PHASE_EHLO,    SMTPC_PHASE_EHLO,
        SMTPC_PHASE_STARTTLS, SMTPC_PHASE_AUTH,    SMTPC_PHASE_MAIL,
        SMTPC_PHASE_RCPT,     SMTPC_PHASE_DATA,    SMTPC_PHASE_MESSAGE,
        SMTPC_PHASE_DATA,     SMTPC_PHASE_MESSAGE, SMTPC_PHASE_RSET,
        SMTPC_PHASE_QUIT};
    return kind < sizeof phases ? phases[kind] : SMTPC_PHASE_NONE;
}

static void clear_tx(smtpc_session *s)
{
    if (s->tx != NULL)
        smtpc_wipe(s->tx, s->tx_cap);
    s->tx_head = s->tx_tail = 0;
    s->tx_secret_lo = s->tx_secret_hi = 0;
    s->flags &= (uint8_t)~F_CHUNK_OPEN;
}

/* The mail before the running one never got its final reply. */
static void settle_prev(smtpc_session *s, int status, int phase)
{
    if (PREV_PENDING(s)) {
        smtpc_e_result_set(s->prev, status, phase, &s->reply,
                           s->prev->result.rcpt_accepted);
        s->prev = NULL;
    }
}

/* Every way into ST_CLOSED from a mail goes through
 * smtpc_e_fail_session, which settles the mails first. */
static void close_now(smtpc_session *s)
{
    s->state = ST_CLOSED;
    s->q_len = 0;
    s->rx_fill = s->rx_scan = 0;
    clear_tx(s);
}

static int writing_body(const smtpc_session *s)
{
    /* Inside DATA's message text a QUIT would be read as text. */
    return s->state == ST_MAIL && (s->mode & M_BODY) &&
           !CHUNKED(s) && !(s->flags & F_BODY_DONE);
}

static int queue_quit(smtpc_session *s)
{
    smtpc_cmd c;

    smtpc_e_cmd_begin(&c, s);
    smtpc_e_cmd_add(&c, "QUIT");
    return smtpc_e_cmd_end(&c, R_QUIT);
}

/* QUIT, the last command: if even it does not fit, the session just
 * ends. */
static void send_quit(smtpc_session *s)
{
    s->state = ST_QUIT;
    if (queue_quit(s) != SMTPC_OK)
        close_now(s);
}

void smtpc_e_fail_session(smtpc_session *s, int status, int phase,
                          int orderly)
{
    if (s->status == SMTPC_OK) {
        s->status = status;
        s->phase = (uint8_t)phase;
    }
    if (PREV_PENDING(s)) {
        /* The failure came while the previous mail's final reply was
         * awaited: it is that mail's; the running one never got past
         * its MAIL. */
        settle_prev(s, status, phase);
        phase = SMTPC_PHASE_MAIL;
    }
    if (s->state == ST_MAIL) {
        /* The running mail never had its positive final reply (that
         * would have ended it): it fails with the session. */
        if (s->mail_status == SMTPC_OK) {
            s->mail_status = status;
            s->mail_phase = (uint8_t)phase;
        }
        smtpc_e_mail_settle(s);
    }
    if (s->state == ST_CLOSED || s->state == ST_QUIT) {
        if (!orderly)
            close_now(s);
        return;
    }
    /* With QUIT already queued there is nothing orderly left to do. */
    if (!orderly || writing_body(s) || QUIT_QUEUED(s)) {
        close_now(s);
        return;
    }
    /* Orderly end: QUIT, and from now on the next complete reply is taken
     * as its answer; what else was awaited no longer matters. */
    if (CHUNK_OPEN(s)) {
        s->tx_tail = s->tx_chunk;
        s->flags &= (uint8_t)~F_CHUNK_OPEN;
    }
    s->q_len = 0;
    s->line_count = 0;
    send_quit(s);
}

void smtpc_e_fail_mail(smtpc_session *s, int status, int phase)
{
    if (s->mail_status == SMTPC_OK) {
        s->mail_status = status;
        s->mail_phase = (uint8_t)phase;
    }
    s->flags |= F_NEED_RSET;
    /* A chunk not yet announced need not go out at all. */
    if (CHUNK_OPEN(s)) {
        s->tx_tail = s->tx_chunk;
        s->flags &= (uint8_t)~F_CHUNK_OPEN;
    }
}

void smtpc_e_enter_ready(smtpc_session *s)
{
    if (s->state == ST_MAIL)
        smtpc_e_mail_settle(s);
    /* QUIT queued behind the mail (and an RSET): its reply is next. */
    s->state = QUIT_QUEUED(s) ? ST_QUIT : ST_READY;
    s->mode = 0;
    s->flags &= (uint8_t)~(F_NEED_RSET | F_BODY_DONE | F_CHUNK_OPEN);
}

/* ---- hello, STARTTLS ---- */

static void send_hello(smtpc_session *s, int helo)
{
    smtpc_cmd c;
    const char *name = s->cfg->ehlo_name ? s->cfg->ehlo_name : "localhost";

    memset(&s->caps, 0, sizeof s->caps);
    s->state = ST_HELLO;
    smtpc_e_cmd_begin(&c, s);
    smtpc_e_cmd_add(&c, helo ? "HELO " : "EHLO ");
    smtpc_e_cmd_add(&c, name);
    if (smtpc_e_cmd_end(&c, helo ? R_HELO : R_EHLO) != SMTPC_OK)
        smtpc_e_fail_session(s, SMTPC_ERR_BUFFER, SMTPC_PHASE_EHLO, 0);
}

void smtpc_e_after_hello(smtpc_session *s)
{
#if SMTPC_WITH_TLS
    unsigned mode = s->cfg->tls;

    if (!(s->flags & F_SECURE) &&
        (mode == SMTPC_TLS_STARTTLS || mode == SMTPC_TLS_OPPORTUNISTIC)) {
        if (s->caps.flags & SMTPC_CAP_STARTTLS) {
            smtpc_cmd c;
            s->state = ST_STARTTLS;
            smtpc_e_cmd_begin(&c, s);
            smtpc_e_cmd_add(&c, "STARTTLS");
            if (smtpc_e_cmd_end(&c, R_STARTTLS) != SMTPC_OK)
                smtpc_e_fail_session(s, SMTPC_ERR_BUFFER,
                                     SMTPC_PHASE_STARTTLS, 0);
            return;
        }
        if (mode == SMTPC_TLS_STARTTLS) {
            smtpc_e_fail_session(s, SMTPC_ERR_TLS_UNAVAILABLE,
                                 SMTPC_PHASE_STARTTLS, 1);
            return;
        }
    }
#endif
    smtpc_e_auth_start(s);
}

static void hello_reply(smtpc_session *s, uint8_t kind, unsigned code)
{
    if (code == 250) {
        if (kind == R_EHLO)
            s->caps.flags |= SMTPC_CAP_ESMTP;
        else
            memset(&s->caps, 0, sizeof s->caps);
        smtpc_e_after_hello(s);
        return;
    }
    /* RFC 5321 4.1.4: HELO when EHLO is not understood.  Never when
     * STARTTLS is demanded or was used: HELO would hide STARTTLS. */
    if (kind == R_EHLO && (code == 500 || code == 502 || code == 504) &&
        (!SMTPC_WITH_TLS || (!(s->flags & F_TLS_TRIED) &&
                             s->cfg->tls != SMTPC_TLS_STARTTLS))) {
        send_hello(s, 1);
        return;
    }
    if (SMTPC_WITH_TLS && !(s->flags & F_SECURE) &&
        s->cfg->tls == SMTPC_TLS_STARTTLS)
        smtpc_e_fail_session(s, SMTPC_ERR_TLS_UNAVAILABLE,
                             SMTPC_PHASE_EHLO, code != 421);
    else
        smtpc_e_fail_session(s, smtpc_e_status_for_code(code),
                             SMTPC_PHASE_EHLO, code != 421);
}

static void starttls_reply(smtpc_session *s, unsigned code, size_t line_len)
{
    s->flags |= F_TLS_TRIED;
    if (code == 220) {
        /* Anything after the 220 came before TLS and would be read as if
         * it came over TLS (CVE-2021-22947 class): end here. */
        if (s->rx_fill > line_len) {
            smtpc_e_fail_session(s, SMTPC_ERR_TLS_INJECTION,
                                 SMTPC_PHASE_STARTTLS, 0);
            return;
        }
        s->state = ST_TLS;
        return;
    }
    if (s->cfg->tls == SMTPC_TLS_STARTTLS || code == 421) {
        smtpc_e_fail_session(s, SMTPC_ERR_TLS_UNAVAILABLE,
                             SMTPC_PHASE_STARTTLS, code != 421);
        return;
    }
    smtpc_e_auth_start(s); /* opportunistic: go on without TLS */
}

/* ---- reading replies ---- */

static void dispatch(smtpc_session *s, uint8_t kind, const smtpc_line *l,
                     size_t line_len)
{
    unsigned code = s->cur_code;

    if (s->state == ST_QUIT) {
        /* Only QUIT is awaited now (see smtpc_e_fail_session). */
        close_now(s);
        return;
    }
    if (code == 421 && kind != R_QUIT) {
        /* The server is closing the channel (RFC 5321 3.8). */
        smtpc_e_fail_session(s, SMTPC_ERR_TEMPFAIL, phase_of(kind), 0);
        return;
    }
    switch (kind) {
    case R_GREETING:
        if (code == 220)
            send_hello(s, (s->cfg->options & SMTPC_OPT_HELO_ONLY) != 0);
        else
            smtpc_e_fail_session(s, smtpc_e_status_for_code(code),
                                 SMTPC_PHASE_GREETING, 1);
        break;
    case R_EHLO:
    case R_HELO:
        hello_reply(s, kind, code);
        break;
    case R_STARTTLS:
        if (SMTPC_WITH_TLS)
            starttls_reply(s, code, line_len);
        break;
    case R_AUTH:
        smtpc_e_auth_reply(s, l);
        break;
    case R_RSET:
        if (code == 250)
            smtpc_e_enter_ready(s);
        else
            smtpc_e_fail_session(s, smtpc_e_status_for_code(code),
                                 SMTPC_PHASE_RSET, 1);
        break;
    case R_QUIT:
        close_now(s);
        break;
    default:
        smtpc_e_mail_reply(s, kind, code);
        break;
    }
}

/* Whether the reply now at the head of the queue goes into s->reply: not
 * the routine answers to RSET and QUIT, and nothing that follows a failed
 * mail's first failure, so the reply that explains a failure survives. */
static int record_reply(const smtpc_session *s, uint8_t kind)
{
    if (kind == R_RSET || kind == R_QUIT || s->state == ST_QUIT)
        return 0;
    /* The previous mail's final reply: its outcome is read from here. */
    if (PREV_PENDING(s))
        return 1;
    if (s->state == ST_MAIL && s->mail_status != SMTPC_OK)
        return 0;
    return 1;
}

/* The server is out of step: what it sent after this line is not read as
 * an answer to our QUIT.  (process_rx then drops the line itself.) */
static void drop_rest(smtpc_session *s, size_t line_len)
{
    if (s->rx_fill > line_len)
        s->rx_fill = (uint16_t)line_len;
}

/* Handles one line (LF included).  Returns 0 when the line must wait
 * until the send area has room. */
static int handle_line(smtpc_session *s, unsigned char *line, size_t line_len)
{
    smtpc_line l;
    size_t len = line_len - 1;
    uint8_t kind;

    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (smtpc_e_line_parse(line, len, &l) != SMTPC_OK ||
        (s->line_count > 0 && l.code != s->cur_code)) {
        if (s->state == ST_QUIT) {
            close_now(s); /* leaving anyway: no need to wait for 221 */
            return 1;
        }
        smtpc_e_fail_session(s, SMTPC_ERR_PROTOCOL,
                             smtpc_session_wait_phase(s), 1);
        drop_rest(s, line_len);
        return 1;
    }
    if (s->q_len == 0 && writing_body(s)) {
        /* The server gave up on the message before its end (552 "too
         * big", 421): report its words; the dialogue cannot go on. */
        s->reply.code = (uint16_t)l.code;
        memcpy(s->reply.enh, l.enh, sizeof l.enh);
        s->reply.text[0] = '\0';
        smtpc_e_text_append(s->reply.text, sizeof s->reply.text, l.text,
                            l.text_len);
        smtpc_e_fail_session(s, smtpc_e_status_for_code(l.code),
                             SMTPC_PHASE_MESSAGE, 0);
        return 1;
    }
    if (s->q_len == 0) {
        /* A reply to nothing: the server is out of step with us. */
        smtpc_e_fail_session(s, l.code == 421 ? SMTPC_ERR_TEMPFAIL
                                              : SMTPC_ERR_PROTOCOL,
                             SMTPC_PHASE_NONE, l.code != 421);
        drop_rest(s, line_len);
        return 1;
    }
    kind = s->queue[s->q_head];
    if (l.last) {
        /* The step that takes this reply may write commands.  Within a
         * mail only the reply to DATA writes at once (the "." that ends a
         * refused mail); the mail pump writes the rest when there is
         * room.  So every other reply is taken even with the send area
         * full of body: a client that stopped reading while its send
         * waits would deadlock with a server that stops reading while
         * its replies (one per BDAT chunk) wait to be read.  Without
         * CHUNKING no reply comes while the body fills the send area. */
        size_t need = s->state != ST_MAIL ? s->tx_cap
                      : (SMTPC_WITH_CHUNKING && kind != R_DATA)
                          ? 0
                          : SMTPC_CMD_ROOM;
        if (smtpc_e_tx_free(s) < need)
            return 0;
    }
    if (s->line_count == 0) {
        s->cur_code = (uint16_t)l.code;
        s->flags &= (uint8_t)~F_RECORD;
        if (record_reply(s, kind)) {
            s->flags |= F_RECORD;
            s->reply.code = (uint16_t)l.code;
            memcpy(s->reply.enh, l.enh, sizeof l.enh);
            if (!OAUTH_COMPILED || !(s->flags & F_AUTH_ERRTEXT))
                s->reply.text[0] = '\0';
            s->flags &= (uint8_t)~F_AUTH_ERRTEXT;
        }
        if (kind == R_RCPT && s->state == ST_MAIL)
            smtpc_e_rcpt_line(s, &l);
    } else if (kind == R_RCPT && s->state == ST_MAIL) {
        smtpc_e_rcpt_more(s, &l);
    }
    if (++s->line_count > SMTPC_REPLY_LINES_MAX) {
        smtpc_e_fail_session(s, SMTPC_ERR_REPLY_TOO_LONG,
                             phase_of(kind), 0);
        return 1;
    }
    if (kind == R_EHLO && l.code == 250 && s->line_count > 1)
        smtpc_e_caps_line(&s->caps, l.text, l.text_len);
    if (s->flags & F_RECORD)
        smtpc_e_text_append(s->reply.text, sizeof s->reply.text, l.text,
                            l.text_len);
    if (!l.last)
        return 1;
    s->line_count = 0;
    queue_pop(s);
    s->progress++;
    dispatch(s, kind, &l, line_len);
    return 1;
}

static void process_rx(smtpc_session *s)
{
    for (;;) {
        unsigned char *nl;
        size_t line_len;

        if (s->state == ST_CLOSED) {
            s->rx_fill = s->rx_scan = 0;
            return;
        }
        if (WAITING_TLS(s) && s->rx_fill > 0) {
            smtpc_e_fail_session(s, SMTPC_ERR_TLS_INJECTION,
                                 SMTPC_PHASE_STARTTLS, 0);
            continue;
        }
        nl = memchr(s->rx + s->rx_scan, '\n', s->rx_fill - s->rx_scan);
        if (nl == NULL) {
            s->rx_scan = s->rx_fill;
            if (s->rx_fill >= SMTPC_LINE_MAX)
                smtpc_e_fail_session(s, SMTPC_ERR_REPLY_TOO_LONG,
                                     smtpc_session_wait_phase(s), 0);
            return;
        }
        line_len = (size_t)(nl - s->rx) + 1;
        if (!handle_line(s, s->rx, line_len)) {
            s->rx_scan = 0; /* rescan later: the line is still whole */
            return;
        }
        if (s->state == ST_CLOSED)
            continue;
        memmove(s->rx, s->rx + line_len, s->rx_fill - line_len);
        s->rx_fill = (uint16_t)(s->rx_fill - line_len);
        s->rx_scan = 0;
    }
}

/* Everything that may move after bytes went either way. */
void smtpc_e_run(smtpc_session *s)
{
    process_rx(s);
    if (s->state == ST_MAIL)
        smtpc_e_mail_pump(s);
}

/* ---- public API ---- */

int smtpc_session_init(smtpc_session *s, const smtpc_config *cfg, void *buf,
                       size_t buf_len)
{
    int err = SMTPC_OK;
    size_t tx_len;

    if (s == NULL)
        return SMTPC_ERR_ARG;
    memset(s, 0, sizeof *s);
    s->state = ST_CLOSED;
    s->cfg = cfg;
    if (cfg == NULL || buf == NULL || buf_len < SMTPC_IO_MIN)
        err = SMTPC_ERR_ARG;
    else if (cfg->ehlo_name != NULL &&
             smtpc_check_domain(cfg->ehlo_name) != SMTPC_OK)
        err = SMTPC_ERR_ARG;
    else if (cfg->tls > SMTPC_TLS_OPPORTUNISTIC)
        err = SMTPC_ERR_ARG;
#if !SMTPC_WITH_TLS
    else if (cfg->tls == SMTPC_TLS_STARTTLS)
        err = SMTPC_ERR_UNSUPPORTED;
#endif
    else
        err = smtpc_e_auth_check_config(cfg);
    if (err != SMTPC_OK) {
        s->status = err;
        s->phase = SMTPC_PHASE_NONE;
        return err;
    }
    tx_len = buf_len - SMTPC_LINE_MAX;
    if (tx_len > 0x7fffffffu)
        tx_len = 0x7fffffffu;
    s->rx = buf;
    s->tx = (unsigned char *)buf + SMTPC_LINE_MAX;
    s->tx_cap = (uint32_t)tx_len;
    s->state = ST_GREETING;
    if (cfg->tls == SMTPC_TLS_IMPLICIT)
        s->flags |= F_SECURE;
    smtpc_e_queue_push(s, R_GREETING);
    return SMTPC_OK;
}

unsigned smtpc_session_state(const smtpc_session *s)
{
    unsigned st = 0;
    uint32_t end = s->tx_tail;

    if (s->state == ST_CLOSED)
        return SMTPC_CLOSED;
    if (CHUNK_OPEN(s) && s->tx_tail == s->tx_chunk + SMTPC_BDAT_HDR)
        end = s->tx_chunk; /* an empty chunk is not sent */
    if (end > s->tx_head)
        st |= SMTPC_WANT_SEND;
    if (WAITING_TLS(s))
        return st ? st : SMTPC_WANT_TLS;
    /* While DATA's text streams no reply is due, but a server may refuse
     * early and close: listening then lets its reason be reported. */
    if (s->q_len > 0 || writing_body(s))
        st |= SMTPC_WANT_RECV;
    if (smtpc_e_body_wanted(s))
        st |= SMTPC_WANT_BODY;
    if (s->state == ST_READY && s->q_len == 0)
        st |= SMTPC_READY;
    if (NEXT_OK(s))
        st |= SMTPC_NEXT_MAIL;
    return st;
}

int smtpc_session_wait_phase(const smtpc_session *s)
{
    return s->q_len ? phase_of(s->queue[s->q_head]) : SMTPC_PHASE_NONE;
}

const unsigned char *smtpc_send_buf(smtpc_session *s, size_t *len)
{
    uint32_t end = s->tx_tail;

    if (CHUNK_OPEN(s)) {
        if (s->tx_tail > s->tx_chunk + SMTPC_BDAT_HDR)
            smtpc_e_chunk_seal(s, 0);
        else
            end = s->tx_chunk;
    }
    *len = end - s->tx_head;
    return *len ? s->tx + s->tx_head : NULL;
}

/* The phase the session is in, for failures the driver reports. */
static int phase_now(const smtpc_session *s)
{
    if (s->q_len)
        return phase_of(s->queue[s->q_head]);
    if (WAITING_TLS(s))
        return SMTPC_PHASE_TLS;
    if (writing_body(s) || (s->state == ST_MAIL && (s->mode & M_BODY)))
        return SMTPC_PHASE_MESSAGE;
    return SMTPC_PHASE_NONE;
}

void smtpc_recv_eof(smtpc_session *s)
{
    if (s->state == ST_CLOSED)
        return;
    if (s->state == ST_QUIT) {
        close_now(s); /* the server did not wait for our QUIT: fine */
        return;
    }
    smtpc_e_fail_session(s, SMTPC_ERR_CLOSED, phase_now(s), 0);
}

void smtpc_session_abort(smtpc_session *s, int status, int phase)
{
    if (status == SMTPC_OK)
        status = SMTPC_ERR_IO;
    if (phase <= SMTPC_PHASE_NONE || phase > SMTPC_PHASE_QUIT)
        phase = phase_now(s);
    smtpc_e_fail_session(s, status, phase, 0);
}

int smtpc_tls_done(smtpc_session *s)
{
    if (!SMTPC_WITH_TLS)
        return SMTPC_ERR_UNSUPPORTED;
    if (s->state != ST_TLS)
        return SMTPC_ERR_STATE;
    s->flags |= F_SECURE;
    /* What the server said before TLS may have been forged: ask again. */
    send_hello(s, 0);
    return s->state == ST_CLOSED ? s->status : SMTPC_OK;
}

int smtpc_quit(smtpc_session *s)
{
    if (s->state == ST_CLOSED || s->state == ST_QUIT || QUIT_QUEUED(s))
        return s->status;
    if (QUIT_BEHIND_OK(s)) {
        if (queue_quit(s) != SMTPC_OK)
            return SMTPC_ERR_BUFFER;
        s->pipe |= P_QUIT;
        return SMTPC_OK;
    }
    if (s->state != ST_READY)
        return SMTPC_ERR_STATE;
    send_quit(s);
    return SMTPC_OK;
}

