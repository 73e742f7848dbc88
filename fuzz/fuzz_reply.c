/*
 * fuzz/fuzz_reply.c - the reply parser, through the public engine API.
 *
 * Input: byte 0 picks the configuration (TLS mode, AUTH mechanism and
 * credentials, options), byte 1 the envelope (flags, DSN, recipients),
 * the rest is everything the server says after its "220" greeting: EHLO
 * capabilities, AUTH challenges, the replies to MAIL, RCPT, DATA, the
 * message and QUIT, and whatever garbage comes instead.
 *
 * A simple client plays along (sends everything, starts TLS when asked,
 * sends two mails, then QUIT) and the server bytes are fed three ways:
 * one line per piece, one byte per piece, and cut at pseudo-random points
 * (always also after each LF, so that the client acts at the same points
 * in every run).  The three runs must end the same: same status, phase,
 * replies, capabilities, recipients' outcomes and the same bytes sent.
 * Every step checks the invariants of fuzz_common.h, and the client
 * stream is parsed back at the end.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

#define MAX_SERVER 16384

static const char greeting[] = "220 fuzz.test ESMTP\r\n";
static const char body[] =
    "Subject: fuzz\r\n\r\n.leading dot\nbare LF\rbare CR\r\n..\r\n.\r\nend";

typedef struct outcome {
    int status, phase, secure, auth_mech;
    unsigned state;
    smtpc_reply reply;
    smtpc_caps caps;
    int mail_status[4], mail_phase[4];
    size_t accepted[4];
    int rcpt_status[4][3];
    uint16_t rcpt_code[4][3];
    char rcpt_text[4][3][SMTPC_RCPT_TEXT_MAX];
    size_t mails;
    uint64_t out_hash;
    size_t out_len;
} outcome;

static smtpc_rcpt rcpts[3];
static smtpc_envelope env;

static void envelope_from(uint8_t b)
{
    static const char *const addrs[] = {"a@fuzz.test", "b@fuzz.test",
                                        "\"q u\"@fuzz.test"};
    size_t i;

    memset(&env, 0, sizeof env);
    memset(rcpts, 0, sizeof rcpts);
    for (i = 0; i < 3; i++)
        rcpts[i].address = addrs[i];
    env.from = (b & 1) ? "" : "sender@fuzz.test";
    env.rcpts = rcpts;
    env.rcpt_count = 1 + (b >> 1) % 3;
    if (b & 0x08)
        env.flags |= SMTPC_MAIL_8BITMIME;
    if (b & 0x10)
        env.flags |= SMTPC_MAIL_BINARYMIME;
    if (b & 0x20) {
        env.flags |= SMTPC_MAIL_RET_HDRS;
        env.envid = "id+1=x";
        rcpts[0].notify = SMTPC_NOTIFY_SUCCESS | SMTPC_NOTIFY_FAILURE;
        rcpts[0].orcpt = "rfc822;a@fuzz.test";
    }
    if (b & 0x40)
        env.size = 12345;
    if (b & 0x80)
        env.from = "s\xc3\xa9nder@fuzz.test"; /* needs SMTPUTF8 */
}

static uint64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;

    while (n--) {
        h ^= *p++;
        h *= 1099511628211ull;
    }
    return h;
}

/* Where run "mode" cuts the server bytes: the length of the next piece. */
static size_t piece(const unsigned char *p, size_t len, int mode,
                    uint32_t *rng)
{
    const unsigned char *nl = memchr(p, '\n', len);
    size_t to_nl = nl ? (size_t)(nl - p) + 1 : len;

    if (mode == 1)
        return 1;
    if (mode == 2) {
        size_t n;
        *rng = *rng * 1103515245u + 12345u;
        n = 1 + (*rng >> 16) % 40;
        return n < to_nl ? n : to_nl;
    }
    return to_nl;
}

static void run_one(fz_run *r, uint8_t cfg_byte, uint8_t env_byte,
                    const unsigned char *srv, size_t srv_len, int mode,
                    outcome *oc)
{
    size_t pos = 0, pend = 0, mails_done = 0, body_off = 0;
    uint32_t rng = (uint32_t)fnv(srv, srv_len);
    int direct = (mode == 1);
    unsigned guard = 0;
    size_t i, k;

    fz_run_reset(r);
    fz_config_from(&r->cfg, cfg_byte, SMTPC_OPT_ALLOW_PLAINTEXT_AUTH);
    envelope_from(env_byte);
    r->buf_len = sizeof r->buf;
    if (smtpc_session_init(&r->s, &r->cfg, r->buf, r->buf_len) != SMTPC_OK)
        fz_fail("session_init refused a valid configuration");
    if (fz_feed(r, (const unsigned char *)greeting, sizeof greeting - 1,
                0) != sizeof greeting - 1)
        fz_fail("greeting not taken");
    for (;;) {
        unsigned st = smtpc_session_state(&r->s);

        if (++guard > 4 * MAX_SERVER + 10000)
            fz_fail("no end after %u steps", guard);
        if (st & SMTPC_CLOSED)
            break;
        if (st & SMTPC_WANT_SEND) {
            fz_send_all(r);
            continue;
        }
        if (st & SMTPC_WANT_TLS) {
            if (smtpc_tls_done(&r->s) != SMTPC_OK &&
                !(smtpc_session_state(&r->s) & SMTPC_CLOSED))
                fz_fail("tls_done failed but the session goes on");
            fz_check_state(r);
            continue;
        }
        if (st & SMTPC_WANT_BODY) {
            if (body_off < sizeof body - 1) {
                size_t n = fz_body_write(r, body + body_off,
                                         sizeof body - 1 - body_off);
                body_off += n;
                if (n == 0)
                    fz_send_all(r);
            } else if (fz_body_end(r) == SMTPC_ERR_BUFFER) {
                if (!(smtpc_session_state(&r->s) & SMTPC_WANT_SEND))
                    goto recv; /* a reply is awaited first */
                fz_send_all(r);
            }
            continue;
        }
        if (st & SMTPC_READY) {
            if (mails_done < 2) {
                mails_done++;
                body_off = 0;
                if (fz_mail_begin(r, &env) != SMTPC_OK)
                    continue; /* refused locally: stays READY */
            } else {
                int q = smtpc_quit(&r->s);
                if (q != SMTPC_OK)
                    fz_fail("quit refused when READY: %d", q);
                fz_check_state(r);
            }
            continue;
        }
    recv:
        if (!(smtpc_session_state(&r->s) & SMTPC_WANT_RECV))
            fz_fail("stuck: state 0x%x", smtpc_session_state(&r->s));
        if (pos >= srv_len) {
            smtpc_recv_eof(&r->s);
            if (!(smtpc_session_state(&r->s) & SMTPC_CLOSED))
                fz_fail("recv_eof did not close the session");
            fz_check_state(r);
            continue;
        }
        if (pend == 0)
            pend = piece(srv + pos, srv_len - pos, mode, &rng);
        {
            size_t n = fz_feed(r, srv + pos, pend, direct);
            if (n == 0 && !(smtpc_session_state(&r->s) &
                            (SMTPC_WANT_SEND | SMTPC_CLOSED)))
                fz_fail("engine took no bytes and wants nothing sent");
            if (smtpc_session_state(&r->s) & SMTPC_CLOSED)
                pos = srv_len, pend = 0; /* the rest is never read */
            else
                pos += n, pend -= n;
        }
    }
    fz_check_stream(r);

    memset(oc, 0, sizeof *oc);
    oc->status = smtpc_session_status(&r->s);
    oc->phase = smtpc_session_phase(&r->s);
    oc->secure = smtpc_session_secure(&r->s);
    oc->auth_mech = smtpc_session_auth_mech(&r->s);
    oc->state = smtpc_session_state(&r->s);
    oc->reply = *smtpc_last_reply(&r->s);
    oc->caps = *smtpc_session_caps(&r->s);
    oc->mails = r->mail_count;
    oc->mail_status[0] = smtpc_mail_status(&r->s);
    oc->mail_phase[0] = smtpc_mail_phase(&r->s);
    oc->accepted[0] = smtpc_mail_accepted(&r->s);
    for (i = 0; i < 1; i++)
        for (k = 0; k < env.rcpt_count; k++) {
            oc->rcpt_status[i][k] = rcpts[k].status;
            oc->rcpt_code[i][k] = rcpts[k].code;
            memcpy(oc->rcpt_text[i][k], rcpts[k].text, sizeof rcpts[k].text);
        }
    oc->out_hash = fnv(r->out, r->out_len);
    oc->out_len = r->out_len;
}

static fz_run runs[1];

static void compare(const outcome *a, const outcome *b, int mode)
{
#define SAME(f)                                                              \
    do {                                                                     \
        if (memcmp(&a->f, &b->f, sizeof a->f) != 0)                          \
            fz_fail("split mode %d changed " #f, mode);                      \
    } while (0)
    SAME(status);
    SAME(phase);
    SAME(secure);
    SAME(auth_mech);
    SAME(state);
    SAME(reply.code);
    SAME(reply.enh);
    if (strcmp(a->reply.text, b->reply.text) != 0)
        fz_fail("split mode %d changed the reply text: \"%s\" / \"%s\"", mode,
                a->reply.text, b->reply.text);
    SAME(caps);
    SAME(mails);
    SAME(mail_status);
    SAME(mail_phase);
    SAME(accepted);
    SAME(rcpt_status);
    SAME(rcpt_code);
    SAME(rcpt_text);
    SAME(out_len);
    SAME(out_hash);
#undef SAME
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static outcome first, other;
    int mode;

    if (size < 2 || size - 2 > MAX_SERVER)
        return 0;
    run_one(&runs[0], data[0], data[1], data + 2, size - 2, 0, &first);
    for (mode = 1; mode <= 2; mode++) {
        run_one(&runs[0], data[0], data[1], data + 2, size - 2, mode, &other);
        compare(&first, &other, mode);
    }
    return 0;
}
