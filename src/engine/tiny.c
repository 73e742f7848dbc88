/*
 * tiny.c - the tiny engine: smtpc/engine.h for the minimal profile, in one
 * file, for firmware where every byte of flash counts.
 *
 * It is compiled instead of session.c, mail.c, auth.c, body.c, command.c
 * and caps.c when SMTPC_TINY is 1 (smtpc_config.h: by default, exactly
 * when every optional feature is off).  It keeps the full engine's rules
 * and results for what the minimal profile does - greeting, EHLO with
 * HELO fallback, AUTH PLAIN and LOGIN, MAIL, each RCPT with its own
 * result, DATA with dot-stuffing, RSET after a failed mail, QUIT - but is
 * built for size: with no PIPELINING at most one reply is ever awaited,
 * so the queue is one slot (queue[0] while q_len is 1); the commands are
 * few and short, so one function writes them all.
 *
 * It must behave as the full engine compiled with the same features: the
 * differential fuzzer (fuzz/fuzz_tiny.c) runs both on the same server
 * bytes and calls and compares every byte sent and every result, and
 * tests/unit/test_profile_minimal.c runs its transcripts on both.  A
 * change to the protocol logic of one engine needs the same change here.
 */
#include "internal.h"

#if SMTPC_TINY

#include <string.h>

/* Mechanisms compiled in (either or both of PLAIN and LOGIN). */
#define TINY_MECHS                                                        \
    ((SMTPC_WITH_AUTH_PLAIN ? SMTPC_AUTH_PLAIN : 0) |                     \
     (SMTPC_WITH_AUTH_LOGIN ? SMTPC_AUTH_LOGIN : 0))

/* A step of AUTH we cannot answer: "*" cancels the exchange. */
#define STEP_CANCELLED 0xff

static void fail_session(smtpc_session *s, int status, int phase,
                         int orderly);

/* ---- small helpers ---- */

static int phase_of(unsigned kind)
{
    static const uint8_t phases[] = {
        SMTPC_PHASE_GREETING, SMTPC_PHASE_EHLO,    SMTPC_PHASE_EHLO,
        SMTPC_PHASE_STARTTLS, SMTPC_PHASE_AUTH,    SMTPC_PHASE_MAIL,
        SMTPC_PHASE_RCPT,     SMTPC_PHASE_DATA,    SMTPC_PHASE_MESSAGE,
        SMTPC_PHASE_DATA,     SMTPC_PHASE_MESSAGE, SMTPC_PHASE_RSET,
        SMTPC_PHASE_QUIT};
    return phases[kind];
}

/* Moves pending bytes to the front; returns the free room behind them. */
static size_t tx_free(smtpc_session *s)
{
    uint32_t shift = s->tx_head;

    if (shift != 0) {
        memmove(s->tx, s->tx + shift, s->tx_tail - shift);
        s->tx_head = 0;
        s->tx_tail -= shift;
        if (s->tx_secret_hi > s->tx_secret_lo) {
            s->tx_secret_lo -= shift;
            s->tx_secret_hi -= shift;
        }
    }
    return s->tx_cap - s->tx_tail;
}

static void close_now(smtpc_session *s)
{
    s->state = ST_CLOSED;
    s->q_len = 0;
    s->rx_fill = s->rx_scan = 0;
    if (s->tx != NULL)
        smtpc_wipe(s->tx, s->tx_cap);
    s->tx_head = s->tx_tail = 0;
    s->tx_secret_lo = s->tx_secret_hi = 0;
}

static int writing_body(const smtpc_session *s)
{
    /* Inside DATA's message text a QUIT would be read as text. */
    return s->state == ST_MAIL && (s->mode & M_BODY) &&
           !(s->flags & F_BODY_DONE);
}

static int body_wanted(const smtpc_session *s)
{
    return writing_body(s) && s->mail_status == SMTPC_OK;
}

static void enter_ready(smtpc_session *s)
{
    s->state = ST_READY;
    s->mode = 0;
    s->flags &= (uint8_t)~(F_NEED_RSET | F_BODY_DONE);
}

/* ---- the one writer of commands ---- */

/* Appends one byte; 0 when the send area is full. */
static int put_byte(smtpc_session *s, unsigned c)
{
    if (s->tx_tail >= s->tx_cap)
        return 0;
    s->tx[s->tx_tail++] = (unsigned char)c;
    return 1;
}

/* Appends text; 0 when it holds CR or LF (NUL ends it) or does not fit. */
static int put_text(smtpc_session *s, const char *t)
{
    for (; *t != '\0'; t++) {
        if (*t == '\r' || *t == '\n' || !put_byte(s, (unsigned char)*t))
            return 0;
    }
    return 1;
}

static const char b64_alphabet[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Appends the base64 of v[0], or of v[0] NUL v[1] NUL v[2] when n is 3
 * (SASL PLAIN's layout).  Base64 output needs no CR/LF check. */
static int put_b64(smtpc_session *s, const char *const *v, int n)
{
    uint32_t acc = 0;
    unsigned bits = 0, out = 0;
    int i, ok = 1;

    for (i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)v[i];
        int sep = i > 0;
        while (sep || *p != '\0') {
            acc = (acc << 8) | (sep ? 0u : *p++);
            sep = 0;
            for (bits += 8; bits >= 6; out++) {
                bits -= 6;
                ok &= put_byte(s, (unsigned char)
                                      b64_alphabet[(acc >> bits) & 63]);
            }
        }
    }
    if (bits > 0) {
        ok &= put_byte(s, (unsigned char)
                              b64_alphabet[(acc << (6 - bits)) & 63]);
        out++;
    }
    for (; out % 4 != 0; out++)
        ok &= put_byte(s, '=');
    return ok;
}

/*
 * Writes verb, arg (refused if it holds CR or LF) and tail, then CRLF, and
 * awaits the reply of kind.  With secret, arg points at n credential
 * strings that go out base64-encoded, marked as the secret range.  On any
 * error nothing of the command stays and the session fails (orderly or
 * not, as the full engine does for each command).
 */
static void command(smtpc_session *s, unsigned kind, const char *verb,
                    const void *arg, int secret, const char *tail)
{
    uint32_t start;
    int ok;

    tx_free(s);
    start = s->tx_tail;
    ok = put_text(s, verb);
    if (secret) {
        s->tx_secret_lo = s->tx_tail;
        ok &= put_b64(s, (const char *const *)arg, secret);
        s->tx_secret_hi = s->tx_tail;
    } else if (arg != NULL) {
        ok &= put_text(s, (const char *)arg);
    }
    ok &= put_text(s, tail) && put_byte(s, '\r') && put_byte(s, '\n');
    if (!ok) {
        smtpc_wipe(s->tx + start, s->tx_tail - start);
        s->tx_tail = start;
        if (s->tx_secret_lo >= start)
            s->tx_secret_lo = s->tx_secret_hi = 0;
        /* As the full engine: AUTH, MAIL and RCPT leave in order (with
         * QUIT); a QUIT that does not fit just ends; the rest end at once. */
        if (kind == R_QUIT)
            close_now(s);
        else
            fail_session(s, SMTPC_ERR_BUFFER, phase_of(kind),
                         kind >= R_AUTH && kind <= R_RCPT);
        return;
    }
    s->queue[0] = (uint8_t)kind;
    s->q_len = 1;
    s->progress++;
}

/* ---- failures ---- */

static void fail_session(smtpc_session *s, int status, int phase,
                         int orderly)
{
    if (s->status == SMTPC_OK) {
        s->status = status;
        s->phase = (uint8_t)phase;
    }
    if (s->state == ST_MAIL && s->mail_status == SMTPC_OK) {
        s->mail_status = status;
        s->mail_phase = (uint8_t)phase;
    }
    if (s->state == ST_CLOSED || s->state == ST_QUIT) {
        if (!orderly)
            close_now(s);
        return;
    }
    if (!orderly || writing_body(s)) {
        close_now(s);
        return;
    }
    /* Orderly end: QUIT, and the next complete reply is its answer. */
    s->q_len = 0;
    s->line_count = 0;
    s->state = ST_QUIT;
    command(s, R_QUIT, "QUIT", NULL, 0, "");
}

static void fail_mail(smtpc_session *s, int status, int phase)
{
    if (s->mail_status == SMTPC_OK) {
        s->mail_status = status;
        s->mail_phase = (uint8_t)phase;
    }
    s->flags |= F_NEED_RSET;
}

/* ---- hello and AUTH ---- */

static void send_hello(smtpc_session *s, int helo)
{
    const char *name = s->cfg->ehlo_name ? s->cfg->ehlo_name : "localhost";

    memset(&s->caps, 0, sizeof s->caps);
    s->state = ST_HELLO;
    command(s, helo ? R_HELO : R_EHLO, helo ? "HELO " : "EHLO ", name, 0,
            "");
}

/* The next mechanism to try, or 0. */
static unsigned next_mech(const smtpc_session *s)
{
    const smtpc_config *cfg = s->cfg;
    unsigned m = cfg->auth;

    if (m != SMTPC_AUTH_AUTO) { /* the caller knows best */
        if ((cfg->options & SMTPC_OPT_PLAIN_WHEN_UNLISTED) &&
            s->caps.auth == 0 && m == SMTPC_AUTH_LOGIN &&
            (TINY_MECHS & SMTPC_AUTH_PLAIN))
            m = SMTPC_AUTH_PLAIN;
        return (s->auth_tried & m) ? 0 : m;
    }
    /* AUTO: PLAIN, then LOGIN (the bit order), as offered */
    m = s->caps.auth & TINY_MECHS & ~(unsigned)s->auth_tried;
    return m & (0u - m); /* the lowest bit */
}

static void send_auth(smtpc_session *s, unsigned mech)
{
    const smtpc_config *cfg = s->cfg;
    const char *v[3];

    s->auth_mech = (uint8_t)mech;
    s->auth_tried |= (uint8_t)mech;
    s->auth_step = 0;
    s->state = ST_AUTH;
    if (mech == SMTPC_AUTH_PLAIN) {
        v[0] = cfg->authzid ? cfg->authzid : "";
        v[1] = cfg->username;
        v[2] = cfg->password;
        command(s, R_AUTH, "AUTH PLAIN ", v, 3, "");
    } else {
        command(s, R_AUTH, "AUTH LOGIN", NULL, 0, "");
    }
}

static void auth_start(smtpc_session *s)
{
    const smtpc_config *cfg = s->cfg;
    unsigned mech;

    if (cfg->auth == SMTPC_AUTH_NONE || cfg->username == NULL ||
        cfg->password == NULL || (s->flags & F_AUTHED)) {
        enter_ready(s);
        return;
    }
    if (!(s->flags & F_SECURE) &&
        !(cfg->options &
          (SMTPC_OPT_PEER_LOOPBACK | SMTPC_OPT_ALLOW_PLAINTEXT_AUTH))) {
        fail_session(s, SMTPC_ERR_AUTH_INSECURE, SMTPC_PHASE_AUTH, 1);
        return;
    }
    mech = next_mech(s);
    if (mech == 0 || (cfg->auth == SMTPC_AUTH_AUTO &&
                      !(s->caps.flags & SMTPC_CAP_AUTH))) {
        fail_session(s, SMTPC_ERR_AUTH_UNAVAILABLE, SMTPC_PHASE_AUTH, 1);
        return;
    }
    send_auth(s, mech);
}

static void auth_reply(smtpc_session *s, unsigned code)
{
    int status;

    /* RFC 4954 says 235; some servers say 250. */
    if (code >= 200 && code < 300 && s->auth_step != STEP_CANCELLED) {
        s->flags |= F_AUTHED;
        enter_ready(s);
        return;
    }
    if (code == 334 && s->auth_step != STEP_CANCELLED) {
        unsigned step = s->auth_step++;
        if (s->auth_mech == SMTPC_AUTH_LOGIN && step < 2) {
            command(s, R_AUTH, "",
                    step == 0 ? &s->cfg->username : &s->cfg->password, 1,
                    "");
            return;
        }
        s->auth_step = STEP_CANCELLED;
        command(s, R_AUTH, "*", NULL, 0, "");
        return;
    }
    if (s->auth_step == STEP_CANCELLED) {
        fail_session(s, SMTPC_ERR_PROTOCOL, SMTPC_PHASE_AUTH, code != 421);
        return;
    }
    /* 504: the mechanism is unknown after all.  The next one, once. */
    if (code == 504 && !(s->st_flags & A_FALLBACK_USED) && next_mech(s)) {
        s->st_flags |= A_FALLBACK_USED;
        send_auth(s, next_mech(s));
        return;
    }
    if (code >= 400 && code < 500)
        status = SMTPC_ERR_TEMPFAIL;
    else if (code == 504)
        status = SMTPC_ERR_AUTH_UNAVAILABLE;
    else if (code >= 500 && code < 600)
        status = SMTPC_ERR_AUTH;
    else
        status = SMTPC_ERR_PROTOCOL;
    fail_session(s, status, SMTPC_PHASE_AUTH, code != 421);
}

/* ---- the mail transaction ---- */

/* Writes what the transaction can send now (one command at a time). */
static void mail_pump(smtpc_session *s)
{
    const smtpc_envelope *env = s->env;

    if (s->state != ST_MAIL || s->q_len != 0)
        return;
    /* Unlike the full engine, no path here needs to wait for room or to
     * end a failed mail without RSET: a reply in a mail is only taken
     * with SMTPC_CMD_ROOM free (handle_line), and a message refused after
     * its end goes READY in mail_reply.  (fuzz_tiny holds the two engines
     * to the same results.) */
    if (s->mail_status != SMTPC_OK) {
        command(s, R_RSET, "RSET", NULL, 0, ""); /* the mail failed */
        return;
    }
    if (!(s->mode & M_MAIL_SENT)) {
        s->mode |= M_MAIL_SENT;
        command(s, R_MAIL, "MAIL FROM:<", env->from, 0, ">");
    } else if (s->rcpt_next < env->rcpt_count) {
        command(s, R_RCPT, "RCPT TO:<", env->rcpts[s->rcpt_next++].address,
                0, ">");
    } else if (!(s->mode & M_DATA_SENT)) {
        s->mode |= M_DATA_SENT;
        command(s, R_DATA, "DATA", NULL, 0, "");
    }
}

static void mail_reply(smtpc_session *s, unsigned kind, unsigned code)
{
    int ok = (code >= 200 && code < 300);

    switch (kind) {
    case R_MAIL:
        if (!ok)
            fail_mail(s, smtpc_e_status_for_code(code), SMTPC_PHASE_MAIL);
        break;
    case R_RCPT:
        if (s->env->rcpts[s->rcpt_reply++].status == SMTPC_OK)
            s->rcpt_ok++;
        if (s->rcpt_reply == s->env->rcpt_count && s->rcpt_ok == 0)
            fail_mail(s, SMTPC_ERR_NO_RECIPIENTS, SMTPC_PHASE_RCPT);
        break;
    case R_DATA:
        if (code == 354)
            s->mode |= M_BODY;
        else
            fail_mail(s,
                      ok ? SMTPC_ERR_PROTOCOL : smtpc_e_status_for_code(code),
                      SMTPC_PHASE_DATA);
        break;
    default: /* R_DOT */
        if (!ok) {
            fail_mail(s, smtpc_e_status_for_code(code), SMTPC_PHASE_MESSAGE);
            s->flags &= (uint8_t)~F_NEED_RSET; /* the transaction is over */
        }
        enter_ready(s);
        return;
    }
    mail_pump(s);
}

/* ---- reading replies ---- */

/* Keywords and mechanisms this build records, matched whole and without
 * regard to case: their index in the list is what they mean. */
static const char cap_names[] = "auth\0enhancedstatuscodes\0plain\0login\0";

static int cap_index(const char *t, size_t len)
{
    const char *n = cap_names;
    int k;

    for (k = 0; *n != '\0'; k++) {
        size_t j = 0;
        while (j < len && n[j] != '\0' && (t[j] | 0x20) == n[j])
            j++;
        if (j == len && n[j] == '\0')
            return k;
        while (*n++ != '\0')
            ;
    }
    return -1;
}

/* An EHLO line after the first: a keyword and its parameters. */
static void caps_line(smtpc_caps *caps, const char *t, size_t len)
{
    size_t i = 0, start;
    int k;

    /* "AUTH=LOGIN PLAIN" is the pre-RFC 4954 spelling. */
    while (i < len && t[i] != ' ' && t[i] != '=')
        i++;
    k = cap_index(t, i);
    if (k == 1)
        caps->flags |= SMTPC_CAP_ENHANCEDSTATUSCODES;
    if (k != 0)
        return;
    caps->flags |= SMTPC_CAP_AUTH;
    while (i < len) {
        while (i < len && (t[i] == ' ' || t[i] == '='))
            i++;
        start = i;
        while (i < len && t[i] != ' ')
            i++;
        k = cap_index(t + start, i - start);
        if (k >= 2)
            caps->auth |= (uint32_t)(k - 1); /* PLAIN 1, LOGIN 2 */
    }
}

static void dispatch(smtpc_session *s, unsigned kind, unsigned code)
{
    if (s->state == ST_QUIT) {
        close_now(s); /* only QUIT is awaited now */
        return;
    }
    if (code == 421 && kind != R_QUIT) {
        /* The server is closing the channel (RFC 5321 3.8). */
        fail_session(s, SMTPC_ERR_TEMPFAIL, phase_of(kind), 0);
        return;
    }
    switch (kind) {
    case R_GREETING:
        if (code == 220)
            send_hello(s, (s->cfg->options & SMTPC_OPT_HELO_ONLY) != 0);
        else
            fail_session(s, smtpc_e_status_for_code(code),
                         SMTPC_PHASE_GREETING, 1);
        break;
    case R_EHLO:
    case R_HELO:
        if (code == 250) {
            if (kind == R_EHLO)
                s->caps.flags |= SMTPC_CAP_ESMTP;
            else
                memset(&s->caps, 0, sizeof s->caps);
            auth_start(s);
        } else if (kind == R_EHLO &&
                   (code == 500 || code == 502 || code == 504)) {
            send_hello(s, 1); /* RFC 5321 4.1.4 */
        } else {
            fail_session(s, smtpc_e_status_for_code(code), SMTPC_PHASE_EHLO,
                         1);
        }
        break;
    case R_AUTH:
        auth_reply(s, code);
        break;
    case R_RSET:
        if (code == 250)
            enter_ready(s);
        else
            fail_session(s, smtpc_e_status_for_code(code), SMTPC_PHASE_RSET,
                         1);
        break;
    default: /* QUIT is awaited only in ST_QUIT, handled above */
        mail_reply(s, kind, code);
        break;
    }
}

/* Whether the reply now awaited goes into s->reply: not the routine
 * answers to RSET and QUIT, and nothing after a failed mail's first
 * failure, so the reply that explains a failure survives. */
static int record_reply(const smtpc_session *s, unsigned kind)
{
    if (kind == R_RSET || kind == R_QUIT || s->state == ST_QUIT)
        return 0;
    return !(s->state == ST_MAIL && s->mail_status != SMTPC_OK);
}

static void set_reply(smtpc_session *s, const smtpc_line *l)
{
    s->reply.code = (uint16_t)l->code;
    memcpy(s->reply.enh, l->enh, sizeof l->enh);
    s->reply.text[0] = '\0';
}

/* Handles one line of line_len bytes (LF included).  Returns 0 when it
 * must wait until the send area has room. */
static int handle_line(smtpc_session *s, size_t line_len)
{
    smtpc_line l;
    size_t len = line_len - 1;
    unsigned kind = s->queue[0];

    if (len > 0 && s->rx[len - 1] == '\r')
        len--;
    if (smtpc_e_line_parse(s->rx, len, &l) != SMTPC_OK ||
        (s->line_count > 0 && l.code != s->cur_code)) {
        if (s->state == ST_QUIT) {
            close_now(s); /* leaving anyway */
            return 1;
        }
        fail_session(s, SMTPC_ERR_PROTOCOL, smtpc_session_wait_phase(s), 1);
        s->rx_fill = (uint16_t)line_len; /* the rest is not read */
        return 1;
    }
    if (s->q_len == 0) {
        if (writing_body(s)) {
            /* The server gave up on the message before its end: report
             * its words; the dialogue cannot go on. */
            set_reply(s, &l);
            smtpc_e_text_append(s->reply.text, sizeof s->reply.text,
                                l.text, l.text_len);
            fail_session(s, smtpc_e_status_for_code(l.code),
                         SMTPC_PHASE_MESSAGE, 0);
            return 1;
        }
        /* A reply to nothing: the server is out of step with us. */
        fail_session(s, l.code == 421 ? SMTPC_ERR_TEMPFAIL
                                      : SMTPC_ERR_PROTOCOL,
                     SMTPC_PHASE_NONE, l.code != 421);
        s->rx_fill = (uint16_t)line_len;
        return 1;
    }
    if (l.last &&
        tx_free(s) < (s->state == ST_MAIL ? SMTPC_CMD_ROOM : s->tx_cap))
        return 0; /* the step that takes the reply may write a command */
    if (s->line_count == 0) {
        s->cur_code = (uint16_t)l.code;
        s->flags &= (uint8_t)~F_RECORD;
        if (record_reply(s, kind)) {
            s->flags |= F_RECORD;
            set_reply(s, &l);
        }
        if (kind == R_RCPT && s->state == ST_MAIL) {
            smtpc_rcpt *r = &s->env->rcpts[s->rcpt_reply];
            r->code = (uint16_t)l.code;
            memcpy(r->enh, l.enh, sizeof r->enh);
            r->text[0] = '\0';
            smtpc_e_text_append(r->text, sizeof r->text, l.text, l.text_len);
            /* 251: "user not local; will forward" is an acceptance. */
            r->status = (l.code == 250 || l.code == 251)
                            ? SMTPC_OK
                            : smtpc_e_status_for_code(l.code);
        }
    }
    if (++s->line_count > SMTPC_REPLY_LINES_MAX) {
        fail_session(s, SMTPC_ERR_REPLY_TOO_LONG, phase_of(kind), 0);
        return 1;
    }
    if (kind == R_EHLO && l.code == 250 && s->line_count > 1)
        caps_line(&s->caps, l.text, l.text_len);
    if (s->flags & F_RECORD)
        smtpc_e_text_append(s->reply.text, sizeof s->reply.text, l.text,
                            l.text_len);
    if (l.last) {
        s->line_count = 0;
        s->q_len = 0;
        s->progress++;
        dispatch(s, kind, l.code);
    }
    return 1;
}

/* Everything that may move after bytes went either way. */
void smtpc_e_run(smtpc_session *s)
{
    for (;;) {
        unsigned char *nl;
        size_t line_len;

        if (s->state == ST_CLOSED) {
            s->rx_fill = s->rx_scan = 0;
            break;
        }
        nl = memchr(s->rx + s->rx_scan, '\n', s->rx_fill - s->rx_scan);
        if (nl == NULL) {
            s->rx_scan = s->rx_fill;
            if (s->rx_fill >= SMTPC_LINE_MAX)
                fail_session(s, SMTPC_ERR_REPLY_TOO_LONG,
                             smtpc_session_wait_phase(s), 0);
            break;
        }
        line_len = (size_t)(nl - s->rx) + 1;
        s->rx_scan = 0;
        if (!handle_line(s, line_len))
            return; /* rescan later: the line is still whole */
        if (s->state != ST_CLOSED) {
            memmove(s->rx, s->rx + line_len, s->rx_fill - line_len);
            s->rx_fill = (uint16_t)(s->rx_fill - line_len);
        }
    }
    mail_pump(s);
}

/* ---- public API: the session ---- */

/* A credential: no CR or LF; a user name or token also no ^A (the OAuth
 * field separator), as the full engine checks. */
static int check_secret(const char *v, int user)
{
    return v != NULL && (smtpc_check_text(v, SMTPC_SECRET_MAX) != SMTPC_OK ||
                         (user && strchr(v, '\001') != NULL));
}

int smtpc_session_init(smtpc_session *s, const smtpc_config *cfg, void *buf,
                       size_t buf_len)
{
    int err = SMTPC_ERR_ARG;
    unsigned m;

    if (s == NULL)
        return SMTPC_ERR_ARG;
    memset(s, 0, sizeof *s);
    s->state = ST_CLOSED;
    s->cfg = cfg;
    if (cfg == NULL || buf == NULL || buf_len < SMTPC_IO_MIN ||
        (cfg->ehlo_name != NULL &&
         smtpc_check_domain(cfg->ehlo_name) != SMTPC_OK) ||
        cfg->tls > SMTPC_TLS_OPPORTUNISTIC)
        goto out;
    err = SMTPC_ERR_UNSUPPORTED;
    if (cfg->tls == SMTPC_TLS_STARTTLS)
        goto out; /* no STARTTLS in this build */
    err = SMTPC_ERR_ARG;
    m = cfg->auth;
    if (check_secret(cfg->username, 1) || check_secret(cfg->password, 0) ||
        check_secret(cfg->token, 1) || check_secret(cfg->authzid, 0) ||
        (cfg->host && (smtpc_check_text(cfg->host, 255) != SMTPC_OK ||
                       strchr(cfg->host, '\001') != NULL)))
        goto out;
    if (m != SMTPC_AUTH_NONE && m != SMTPC_AUTH_AUTO) {
        if ((m & (m - 1)) != 0 || m > SMTPC_AUTH_OAUTHBEARER)
            goto out; /* exactly one known mechanism */
        err = SMTPC_ERR_UNSUPPORTED;
        if (!(m & TINY_MECHS))
            goto out;
        err = SMTPC_ERR_ARG;
        if (!cfg->username || !cfg->password)
            goto out;
    }
    err = SMTPC_ERR_UNSUPPORTED;
    if (cfg->token != NULL)
        goto out; /* a token, but no OAuth in this build */
    s->rx = buf;
    s->tx = (unsigned char *)buf + SMTPC_LINE_MAX;
    buf_len -= SMTPC_LINE_MAX;
    s->tx_cap = (uint32_t)(buf_len > 0x7fffffffu ? 0x7fffffffu : buf_len);
    s->state = ST_GREETING;
    if (cfg->tls == SMTPC_TLS_IMPLICIT)
        s->flags |= F_SECURE;
    s->queue[0] = R_GREETING;
    s->q_len = 1;
    return SMTPC_OK;
out:
    s->status = err;
    return err;
}

unsigned smtpc_session_state(const smtpc_session *s)
{
    unsigned st = 0;

    if (s->state == ST_CLOSED)
        return SMTPC_CLOSED;
    if (s->tx_tail > s->tx_head)
        st |= SMTPC_WANT_SEND;
    /* While DATA's text streams no reply is due, but a server may refuse
     * early and close: listening then lets its reason be reported. */
    if (s->q_len > 0 || writing_body(s))
        st |= SMTPC_WANT_RECV;
    if (body_wanted(s))
        st |= SMTPC_WANT_BODY;
    if (s->state == ST_READY && s->q_len == 0)
        st |= SMTPC_READY;
    return st;
}

int smtpc_session_wait_phase(const smtpc_session *s)
{
    return s->q_len ? phase_of(s->queue[0]) : SMTPC_PHASE_NONE;
}

const unsigned char *smtpc_send_buf(smtpc_session *s, size_t *len)
{
    *len = s->tx_tail - s->tx_head;
    return *len ? s->tx + s->tx_head : NULL;
}

/* The phase the session is in, for failures the driver reports. */
static int phase_now(const smtpc_session *s)
{
    if (s->q_len)
        return phase_of(s->queue[0]);
    if (s->state == ST_MAIL && (s->mode & M_BODY))
        return SMTPC_PHASE_MESSAGE;
    return SMTPC_PHASE_NONE;
}

void smtpc_recv_eof(smtpc_session *s)
{
    if (s->state == ST_QUIT)
        close_now(s); /* the server did not wait for our QUIT: fine */
    else if (s->state != ST_CLOSED)
        fail_session(s, SMTPC_ERR_CLOSED, phase_now(s), 0);
}

void smtpc_session_abort(smtpc_session *s, int status)
{
    fail_session(s, status == SMTPC_OK ? SMTPC_ERR_IO : status,
                 phase_now(s), 0);
}

int smtpc_tls_done(smtpc_session *s)
{
    (void)s;
    return SMTPC_ERR_UNSUPPORTED;
}

int smtpc_quit(smtpc_session *s)
{
    if (s->state == ST_CLOSED || s->state == ST_QUIT)
        return s->status;
    if (s->state != ST_READY)
        return SMTPC_ERR_STATE;
    s->state = ST_QUIT;
    command(s, R_QUIT, "QUIT", NULL, 0, "");
    return SMTPC_OK;
}

/* ---- public API: mail ---- */

int smtpc_mail_begin(smtpc_session *s, smtpc_envelope *env)
{
    int err = SMTPC_ERR_ARG;
    unsigned flags;
    size_t i;

    if (s->state != ST_READY || s->q_len != 0)
        return s->state == ST_CLOSED && s->status ? s->status
                                                  : SMTPC_ERR_STATE;
    smtpc_e_mail_reset(s, env);
    if (env == NULL || env->rcpts == NULL)
        goto out;
    flags = env->flags;
    if (env->rcpt_count == 0 || smtpc_check_address(env->from, 1) ||
        ((flags & SMTPC_MAIL_RET_FULL) && (flags & SMTPC_MAIL_RET_HDRS)) ||
        ((flags & SMTPC_MAIL_8BITMIME) && (flags & SMTPC_MAIL_BINARYMIME)))
        goto out;
    for (i = 0; i < env->rcpt_count; i++) {
        if (smtpc_check_address(env->rcpts[i].address, 0))
            goto out;
    }
    /* What this build cannot send: SMTPUTF8 (also implied by a non-ASCII
     * address), DSN, BINARYMIME; nor can it know 8BITMIME is offered.
     * BODY=8BITMIME alone is a wish, as with a server that lacks it. */
    err = SMTPC_ERR_UNSUPPORTED;
    if (flags & (SMTPC_MAIL_SMTPUTF8 | SMTPC_MAIL_RET_FULL |
                 SMTPC_MAIL_RET_HDRS | SMTPC_MAIL_BINARYMIME |
                 SMTPC_MAIL_REQUIRE_8BITMIME))
        goto out;
    for (i = 0; i <= env->rcpt_count; i++) {
        const char *a = i ? env->rcpts[i - 1].address : env->from;
        if (i && (env->rcpts[i - 1].notify || env->rcpts[i - 1].orcpt))
            goto out;
        for (; *a != '\0'; a++) {
            if ((unsigned char)*a >= 0x80)
                goto out;
        }
    }
    if (env->envid != NULL)
        goto out;
    s->mail_status = SMTPC_OK;
    s->mail_phase = SMTPC_PHASE_NONE;
    s->mode = 0;
    s->body_state = B_LINE_START;
    s->body_bytes = 0;
    s->flags &= (uint8_t)~(F_NEED_RSET | F_BODY_DONE);
    s->state = ST_MAIL;
    mail_pump(s);
    return s->state == ST_CLOSED ? s->status : SMTPC_OK;
out:
    s->mail_status = err;
    s->mail_phase = SMTPC_PHASE_MAIL;
    return err;
}

/* Encodes into the send area until the input or the room runs out: bare
 * CR and bare LF become CRLF, a line that starts with "." gets a second
 * one.  The state changes only with a byte taken, so bytes not taken
 * leave no trace whatever the caller offers next. */
size_t smtpc_body_write(smtpc_session *s, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i = 0;
    unsigned st;

    if (data == NULL || !body_wanted(s))
        return 0;
    if (s->tx_cap - s->tx_tail < s->tx_cap / 2)
        tx_free(s);
    st = s->body_state;
    while (i < len) {
        unsigned c = p[i];
        size_t room = s->tx_cap - s->tx_tail;
        unsigned char *out = s->tx + s->tx_tail;

        if (room == 0)
            break;
        if ((st & B_AFTER_CR) && c == '\n') {
            st = B_LINE_START; /* the LF of a CRLF already written */
        } else if (c == '\r' || c == '\n' ||
                   ((st & B_LINE_START) && c == '.')) {
            if (room < 2)
                break;
            out[0] = c == '.' ? '.' : '\r';
            out[1] = c == '.' ? '.' : '\n';
            s->tx_tail += 2;
            st = c == '.' ? 0 : B_LINE_START | (c == '\r' ? B_AFTER_CR : 0);
        } else {
            *out = (unsigned char)c;
            s->tx_tail++;
            st = 0;
        }
        i++;
    }
    s->body_state = (uint8_t)st;
    s->body_bytes += i;
    return i;
}

int smtpc_body_end(smtpc_session *s)
{
    if (s->state != ST_MAIL || !(s->mode & M_BODY) ||
        (s->flags & F_BODY_DONE))
        return s->state == ST_CLOSED ? s->status : SMTPC_ERR_STATE;
    /* The mail cannot have failed here: any reply while the message
     * streams ends the session. */
    if (tx_free(s) < 5 || s->q_len != 0)
        return SMTPC_ERR_BUFFER;
    if (!(s->body_state & B_LINE_START)) {
        memcpy(s->tx + s->tx_tail, "\r\n", 2);
        s->tx_tail += 2;
    }
    memcpy(s->tx + s->tx_tail, ".\r\n", 3);
    s->tx_tail += 3;
    s->queue[0] = R_DOT;
    s->q_len = 1;
    s->progress++;
    s->flags |= F_BODY_DONE;
    s->body_state = B_LINE_START;
    return SMTPC_OK;
}

#else
/* The full engine is built (session.c and the rest). */
typedef int smtpc_tiny_engine_not_built;
#endif /* SMTPC_TINY */
