/*
 * fuzz/fuzz_engine.c - the whole engine, driven by arbitrary server bytes
 * with arbitrary split points and arbitrary client actions.
 *
 * Input: byte 0 picks the configuration, byte 1 the envelope (as in
 * fuzz_reply.c), then a program of one-byte operations, each perhaps with
 * an argument byte and data taken from the input:
 *
 *   0-4  feed N server bytes (N = next byte, or 0x100+ for 0xff: the rest
 *        up to 4 KiB), through smtpc_feed or recv_buf/recv_ack
 *   5    envelope strings from the input for the next mail: the sender,
 *        a recipient, an ORCPT, an ENVID (each: a length byte, then the
 *        bytes; any byte at all) -- the engine must refuse what cannot go
 *        on the wire, so no command ever holds a CR, LF or NUL
 *   6    send: acknowledge N pending bytes (N = next byte; 0 = all)
 *   7    send everything pending
 *   8    smtpc_mail_begin          9  smtpc_body_write(N bytes of input)
 *   10   smtpc_body_end            11 smtpc_quit
 *   12   smtpc_tls_done            13 smtpc_recv_eof
 *   14   smtpc_session_abort (a status, then a phase: next two bytes)
 *   15   whatever the state asks for
 *
 * Bytes smtpc_body_write did not take may be dropped: the next write
 * offers other bytes, or the message ends there -- bytes not taken must
 * leave no trace in the output (fuzz/regressions/README.md).  With
 * FZ_ABANDON_PARTIAL_BODY=0 they are offered again first instead, as the
 * client driver does.
 *
 * Any call may come in any state: the engine must refuse what does not
 * fit and never break an invariant (fuzz_common.h): state bits
 * consistent, sticky status, printable reply text, nothing to send once
 * CLOSED, WANT_SEND exactly when there are bytes, no stuck state, no
 * bytes left unread when it asks for TLS (those would be read as if they
 * came over TLS).  Mails alternate between two envelopes (copies of the
 * one the input describes), since with PIPELINING the next mail may begin
 * while the one before awaits its final reply: each envelope's outcome is
 * its own, in by the time its slot is used again, never SMTPC_OK without
 * a 2xx reply, and never pending once the session is CLOSED.  At the end
 * the session is closed (end of stream) and the whole client stream is
 * read back: no command holds CR or LF, bodies
 * and BDAT chunks are exactly the normalised input, nothing after QUIT.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

static smtpc_rcpt rcpts[40];
static smtpc_envelope env;

static void envelope_from(uint8_t b)
{
    size_t i;

    memset(&env, 0, sizeof env);
    memset(rcpts, 0, sizeof rcpts);
    for (i = 0; i < sizeof rcpts / sizeof rcpts[0]; i++)
        rcpts[i].address = (i & 1) ? "b@x.test" : "a@x.test";
    env.from = "s@x.test";
    env.rcpts = rcpts;
    /* 40 recipients fill the pipeline window (SMTPC_PIPELINE_MAX). */
    env.rcpt_count = (b & 0x80) ? 40 : 1 + (b & 3);
    if (b & 0x04)
        env.flags |= SMTPC_MAIL_8BITMIME;
    if (b & 0x08)
        env.flags |= SMTPC_MAIL_BINARYMIME;
    if (b & 0x10) {
        env.flags |= SMTPC_MAIL_RET_FULL;
        rcpts[0].notify = SMTPC_NOTIFY_NEVER;
    }
    if (b & 0x20)
        env.size = (b & 1) ? 1000 : 5000000000ull; /* > 2^32 too */
    if (b & 0x40)
        env.from = "";
}

#ifndef FZ_ABANDON_PARTIAL_BODY
#define FZ_ABANDON_PARTIAL_BODY 1
#endif

static fz_run run;

/* Body bytes offered but not taken (a driver offers them again first). */
static const uint8_t *pend_p;
static size_t pend_n;

/* Caller-owned strings for op 5: they stay valid for the whole input. */
static char strs[4][258];

static void envelope_strings(const uint8_t **p, size_t *n)
{
    size_t i;

    for (i = 0; i < 4; i++) {
        size_t len = *n ? **p : 0;
        if (*n) {
            (*p)++;
            (*n)--;
        }
        if (len > *n)
            len = *n;
        memcpy(strs[i], *p, len);
        strs[i][len] = '\0';
        *p += len;
        *n -= len;
    }
    env.from = strs[0];
    rcpts[0].address = strs[1];
    rcpts[0].orcpt = strs[2][0] ? strs[2] : NULL;
    env.envid = strs[3][0] ? strs[3] : NULL;
}

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static unsigned take_byte(input *in)
{
    unsigned b;

    if (in->n == 0)
        return 0;
    b = in->p[0];
    in->p++;
    in->n--;
    return b;
}

/* Feeds len bytes; checks the STARTTLS rule on the way. */
static void feed(const uint8_t *p, size_t len, int direct)
{
    while (len > 0) {
        unsigned before = smtpc_session_state(&run.s);
        size_t n;

        if (before & SMTPC_CLOSED)
            return;
        n = fz_feed(&run, p, len, direct);
        if ((before & SMTPC_WANT_TLS) && n > 0 &&
            smtpc_session_status(&run.s) != SMTPC_ERR_TLS_INJECTION)
            fz_fail("bytes received while waiting for TLS were not "
                    "refused as an injection");
        if ((smtpc_session_state(&run.s) & SMTPC_WANT_TLS) && n < len)
            fz_fail("WANT_TLS with %zu server bytes left unread from the "
                    "same read (they would pass as TLS-protected)", len - n);
        if (n == 0) {
            unsigned st = smtpc_session_state(&run.s);
            if (!(st & (SMTPC_WANT_SEND | SMTPC_CLOSED)) &&
                (st & SMTPC_WANT_RECV))
                fz_fail("wants a reply, takes no bytes, sends nothing: "
                        "stuck (state 0x%x)", st);
            return; /* the driver must send first; bytes stay unread */
        }
        p += n;
        len -= n;
        if (!direct)
            return; /* smtpc_feed already took all it could */
    }
}

static void body_write(input *in)
{
    size_t len = take_byte(in);
    const uint8_t *p = in->p;
    unsigned st = smtpc_session_state(&run.s);
    size_t n;

    if (len > in->n)
        len = in->n;
    in->p += len;
    in->n -= len;
    if (!FZ_ABANDON_PARTIAL_BODY && pend_n > 0) {
        p = pend_p; /* the rest of the last write comes first */
        len = pend_n;
    }
    if (len == 0)
        return;
    n = fz_body_write(&run, p, len);
    if (!(st & SMTPC_WANT_BODY) && n != 0)
        fz_fail("body taken outside WANT_BODY");
    pend_p = p + n;
    pend_n = (st & SMTPC_WANT_BODY) ? len - n : 0;
}

static void body_end(void)
{
    if (!FZ_ABANDON_PARTIAL_BODY && pend_n > 0 &&
        (smtpc_session_state(&run.s) & SMTPC_WANT_BODY)) {
        size_t n = fz_body_write(&run, pend_p, pend_n);
        pend_p += n;
        pend_n -= n;
        return; /* ended once the rest is taken */
    }
    if (fz_body_end(&run) == SMTPC_OK)
        pend_n = 0;
}

/* The two envelopes mails alternate in, and whether each was begun. */
static smtpc_envelope slot_env[2];
static smtpc_rcpt slot_rcpts[2][40];
static int slot_used[2];

static void check_result(const smtpc_envelope *e)
{
    const smtpc_result *res = &e->result;

    if (res->status == SMTPC_OK &&
        (res->reply.code < 200 || res->reply.code > 299 ||
         res->phase != SMTPC_PHASE_NONE))
        fz_fail("a mail reported sent on reply %u, phase %d",
                res->reply.code, res->phase);
    if (res->status > 0)
        fz_fail("mail status %d", res->status);
    fz_check_text(res->reply.text, sizeof res->reply.text, "result text");
}

/* smtpc_mail_begin with the input's envelope, in the next slot. */
static int slot_begin(void)
{
    int k = (int)(run.mail_count & 1), rc;
    smtpc_envelope *e = &slot_env[k];

    if (slot_used[k]) {
        /* Two mails back: its outcome must be in before its slot goes. */
        if (e->result.status == SMTPC_ERR_PENDING &&
            (smtpc_session_state(&run.s) & (SMTPC_READY | SMTPC_NEXT_MAIL)))
            fz_fail("a mail two back still pending");
        check_result(e);
        if (e->result.status == SMTPC_ERR_PENDING)
            return SMTPC_ERR_STATE; /* the engine still owns it */
    }
    *e = env;
    memcpy(slot_rcpts[k], rcpts, sizeof rcpts);
    e->rcpts = slot_rcpts[k];
    rc = fz_mail_begin(&run, e);
    /* Refused: the slot holds no mail (its copy was never begun). */
    slot_used[k] = rc == SMTPC_OK;
    return rc;
}

static void mail_begin(void)
{
    if (slot_begin() == SMTPC_OK)
        pend_n = 0; /* a new message */
}

static void natural_step(void)
{
    unsigned st = smtpc_session_state(&run.s);

    if (st & SMTPC_WANT_SEND)
        fz_send_all(&run);
    else if (st & SMTPC_WANT_TLS) {
        smtpc_tls_done(&run.s);
        fz_check_state(&run);
    } else if (st & SMTPC_WANT_BODY)
        body_end();
    else if (st & (SMTPC_READY | SMTPC_NEXT_MAIL)) {
        if (run.mail_count < FZ_MAILS_MAX - 1)
            mail_begin();
        else {
            smtpc_quit(&run.s);
            fz_check_state(&run);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in;
    unsigned ops = 0;

    if (size < 2 || size > 65536)
        return 0;
    fz_run_reset(&run);
    slot_used[0] = slot_used[1] = 0;
    pend_p = NULL;
    pend_n = 0;
    fz_config_from(&run.cfg, data[0], SMTPC_OPT_PEER_LOOPBACK);
    envelope_from(data[1]);
    /* Sometimes the smallest buffer the engine accepts. */
    run.buf_len = (data[1] & 0x40) ? SMTPC_IO_MIN : sizeof run.buf;
    if (smtpc_session_init(&run.s, &run.cfg, run.buf, run.buf_len) !=
        SMTPC_OK)
        fz_fail("session_init refused a valid configuration");
    fz_check_state(&run);
    in.p = data + 2;
    in.n = size - 2;

    while (in.n > 0 && !(smtpc_session_state(&run.s) & SMTPC_CLOSED)) {
        unsigned op = take_byte(&in) & 15;
        unsigned st = smtpc_session_state(&run.s);
        int rc;

        ops++;
        switch (op) {
        case 5:
            if (st & SMTPC_READY) /* an envelope in use stays unchanged */
                envelope_strings(&in.p, &in.n);
            break;
        case 0: case 1: case 2: case 3: case 4: {
            size_t len = take_byte(&in);
            if (len == 0xff)
                len = in.n < 4096 ? in.n : 4096;
            if (len > in.n)
                len = in.n;
            feed(in.p, len, op & 1);
            in.p += len;
            in.n -= len;
            break;
        }
        case 6:
            fz_send(&run, take_byte(&in));
            break;
        case 7:
            fz_send_all(&run);
            break;
        case 8:
            rc = slot_begin();
            if (rc == SMTPC_OK)
                pend_n = 0; /* a new message */
            if (rc == SMTPC_OK && !(st & (SMTPC_READY | SMTPC_NEXT_MAIL)))
                fz_fail("mail_begin accepted outside READY (0x%x)", st);
            if (run.mail_count >= FZ_MAILS_MAX - 1)
                in.n = 0; /* enough mails for one input */
            break;
        case 9:
            body_write(&in);
            break;
        case 10:
            body_end();
            break;
        case 11:
            rc = smtpc_quit(&run.s);
            if (rc == SMTPC_OK && !(st & (SMTPC_READY | SMTPC_CLOSED)) &&
                smtpc_session_status(&run.s) == SMTPC_OK &&
                (st & (SMTPC_WANT_BODY | SMTPC_WANT_TLS)))
                fz_fail("quit accepted while a body or TLS is due");
            fz_check_state(&run);
            break;
        case 12: {
            size_t before = 0;
            smtpc_send_buf(&run.s, &before);
            rc = smtpc_tls_done(&run.s);
            if (rc == SMTPC_OK && !(st & SMTPC_WANT_TLS))
                fz_fail("tls_done accepted outside WANT_TLS");
            if (rc == SMTPC_OK && !smtpc_session_secure(&run.s))
                fz_fail("tls_done accepted but the session is not secure");
            fz_check_state(&run);
            break;
        }
        case 13:
            smtpc_recv_eof(&run.s);
            if (!(smtpc_session_state(&run.s) & SMTPC_CLOSED))
                fz_fail("recv_eof left the session open");
            fz_check_state(&run);
            break;
        case 14: {
            static const int errs[] = {SMTPC_ERR_TIMEOUT, SMTPC_ERR_IO,
                                       SMTPC_ERR_TLS, SMTPC_OK};
            int was_ok = smtpc_session_status(&run.s) == SMTPC_OK &&
                         !(st & SMTPC_CLOSED);
            int e = errs[take_byte(&in) & 3];
            /* Any phase, also none and values that are not a phase. */
            int ph = (int)(take_byte(&in) % 16) - 1;
            smtpc_session_abort(&run.s, e, ph);
            if (!(smtpc_session_state(&run.s) & SMTPC_CLOSED))
                fz_fail("abort left the session open");
            if (was_ok && smtpc_session_status(&run.s) ==  SMTPC_OK)
                fz_fail("abort of a good session left status OK");
            if (was_ok && ph > SMTPC_PHASE_NONE && ph <= SMTPC_PHASE_QUIT &&
                smtpc_session_phase(&run.s) != ph)
                fz_fail("abort recorded phase %d, not %d",
                        smtpc_session_phase(&run.s), ph);
            fz_check_state(&run);
            break;
        }
        default:
            natural_step();
            break;
        }
    }
    /* The connection ends. */
    if (!(smtpc_session_state(&run.s) & SMTPC_CLOSED)) {
        smtpc_recv_eof(&run.s);
        if (!(smtpc_session_state(&run.s) & SMTPC_CLOSED))
            fz_fail("recv_eof left the session open");
    }
    fz_check_state(&run);
    fz_check_stream(&run);
    for (int k = 0; k < 2; k++) {
        if (!slot_used[k])
            continue;
        if (slot_env[k].result.status == SMTPC_ERR_PENDING)
            fz_fail("CLOSED with a mail still pending");
        check_result(&slot_env[k]);
    }
    (void)ops;
    return 0;
}
