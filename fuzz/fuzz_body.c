/*
 * fuzz/fuzz_body.c - the body encoder: arbitrary bytes, split arbitrarily.
 *
 * Input: byte 0 picks the transfer (DATA or BDAT, pipelined or not,
 * BINARYMIME, the I/O buffer size), then pieces: [ctl][len][len bytes].
 * Each piece goes to smtpc_body_write (in as many calls as the engine
 * needs); ctl says what the driver does before it: nothing, send all,
 * send a few bytes (partial acknowledgements move the send area), or
 * answer the replies that are due.  Then smtpc_body_end, the final reply,
 * QUIT.
 *
 * The client stream is read back (fuzz_common.h): only CRLF line ends, no
 * CRLF.CRLF before the end, every line starting with "." stuffed, the
 * un-stuffed body equal to the CRLF-normalised input; with BDAT, chunk
 * lengths exact and the chunks together equal to the normalised input
 * (BINARYMIME: the input itself).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

static fz_run run;
static smtpc_config cfg;
static smtpc_rcpt rcpt;
static smtpc_envelope env;
static int chunking, binary;

/* The answer a well-behaved server gives to what the engine awaits. */
static void answer(void)
{
    static const char *caps[4] = {
        "250 fuzz\r\n",
        "250-fuzz\r\n250 PIPELINING\r\n",
        "250-fuzz\r\n250-CHUNKING\r\n250 BINARYMIME\r\n",
        "250-fuzz\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 BINARYMIME\r\n"};
    const char *r;
    size_t len;

    switch (smtpc_session_wait_phase(&run.s)) {
    case SMTPC_PHASE_GREETING: r = "220 fuzz\r\n"; break;
    case SMTPC_PHASE_EHLO:
        r = caps[(chunking ? 2 : 0) +
                 !(cfg.options & SMTPC_OPT_NO_PIPELINING)];
        break;
    case SMTPC_PHASE_DATA: r = chunking ? "250 chunk\r\n" : "354 go\r\n";
        break;
    case SMTPC_PHASE_QUIT: r = "221 bye\r\n"; break;
    case SMTPC_PHASE_NONE: fz_fail("answer: no reply is awaited");
    default: r = "250 ok\r\n"; break;
    }
    len = strlen(r);
    if (fz_feed(&run, (const unsigned char *)r, len, 0) != len)
        fz_fail("a whole reply was not taken (must send first?)");
}

/* Moves the session on when it cannot take body bytes now. */
static void unblock(unsigned ctl)
{
    unsigned st = smtpc_session_state(&run.s);

    if (st & SMTPC_WANT_SEND) {
        size_t n = (ctl & 3) == 2 ? 1 + (ctl >> 2) * 7 : 0;
        fz_send(&run, n);
    } else if ((st & SMTPC_WANT_RECV) &&
               smtpc_session_wait_phase(&run.s) != SMTPC_PHASE_NONE) {
        answer();
    } else {
        /* (WANT_RECV alone while DATA's text streams only listens for an
         * early refusal: no reply is due, so it cannot unblock.) */
        fz_fail("body blocked and nothing to send or receive (0x%x)", st);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t bufs[4] = {SMTPC_IO_MIN, SMTPC_IO_MIN + 1,
                                   SMTPC_IO_MIN + 700,
                                   SMTPC_IO_MIN + 4096};
    const uint8_t *p;
    size_t n;
    unsigned guard = 0;
    int rc;

    if (size < 1 || size > (1u << 17))
        return 0;
    fz_run_reset(&run);
    memset(&cfg, 0, sizeof cfg);
    /* BDAT only when the build has it (a folded build sends DATA). */
    chunking = SMTPC_WITH_CHUNKING && (data[0] & 1) != 0;
    binary = chunking && (data[0] & 2);
    if (data[0] & 4)
        cfg.options |= SMTPC_OPT_NO_PIPELINING;
    memset(&rcpt, 0, sizeof rcpt);
    rcpt.address = "r@fuzz.test";
    memset(&env, 0, sizeof env);
    env.from = "s@fuzz.test";
    env.rcpts = &rcpt;
    env.rcpt_count = 1;
    if (binary)
        env.flags = SMTPC_MAIL_BINARYMIME;
    run.cfg = cfg;
    run.buf_len = bufs[(data[0] >> 3) & 3];
    if (smtpc_session_init(&run.s, &run.cfg, run.buf, run.buf_len) !=
        SMTPC_OK)
        fz_fail("session_init");

    /* Up to READY. */
    while (!(smtpc_session_state(&run.s) & SMTPC_READY)) {
        if (smtpc_session_state(&run.s) & SMTPC_CLOSED)
            fz_fail("closed before READY");
        unblock(0);
    }
    if (fz_mail_begin(&run, &env) != SMTPC_OK)
        fz_fail("mail_begin");
    while (!(smtpc_session_state(&run.s) & SMTPC_WANT_BODY)) {
        if (++guard > 1000)
            fz_fail("no body wanted");
        unblock(0);
    }

    p = data + 1;
    n = size - 1;
    while (n >= 2) {
        unsigned ctl = p[0];
        size_t len = p[1];
        const uint8_t *d = p + 2;

        p += 2;
        n -= 2;
        if (len > n)
            len = n;
        p += len;
        n -= len;
        if ((ctl & 3) == 1)
            fz_send_all(&run);
        else if ((ctl & 3) == 2 &&
                 (smtpc_session_state(&run.s) & SMTPC_WANT_SEND))
            fz_send(&run, 1 + (ctl >> 2) * 7);
        else if ((ctl & 3) == 3 &&
                 smtpc_session_wait_phase(&run.s) != SMTPC_PHASE_NONE &&
                 !(smtpc_session_state(&run.s) & SMTPC_WANT_SEND))
            answer();
        while (len > 0) {
            size_t k;
            if (!(smtpc_session_state(&run.s) & SMTPC_WANT_BODY)) {
                unblock(ctl);
                ctl = 0; /* one partial send per piece, then whole ones */
                continue;
            }
            k = fz_body_write(&run, d, len);
            d += k;
            len -= k;
            if (k == 0) {
                unblock(ctl);
                ctl = 0;
            }
            if (smtpc_session_state(&run.s) & SMTPC_CLOSED)
                fz_fail("session closed while writing the body");
        }
    }
    guard = 0;
    while ((rc = fz_body_end(&run)) != SMTPC_OK) {
        if (rc != SMTPC_ERR_BUFFER || ++guard > 100000)
            fz_fail("body_end: %d", rc);
        unblock(0);
    }
    guard = 0;
    while (!(smtpc_session_state(&run.s) & SMTPC_READY)) {
        if (++guard > 100000 ||
            (smtpc_session_state(&run.s) & SMTPC_CLOSED))
            fz_fail("no end of the mail");
        unblock(0);
    }
    if (smtpc_mail_status(&run.s) != SMTPC_OK)
        fz_fail("mail failed: %d", smtpc_mail_status(&run.s));
    if (smtpc_quit(&run.s) != SMTPC_OK)
        fz_fail("quit");
    while (!(smtpc_session_state(&run.s) & SMTPC_CLOSED))
        unblock(0);
    if (smtpc_session_status(&run.s) != SMTPC_OK)
        fz_fail("session failed: %d", smtpc_session_status(&run.s));
    /* The session ended well: nothing may be cut short. */
    run.strict_end = 1;
    fz_check_stream(&run);
    if (run.mails[0].body_ended != 1 || run.out_len < 6 ||
        memcmp(run.out + run.out_len - 6, "QUIT\r\n", 6) != 0)
        fz_fail("the stream does not end with the mail and QUIT");
    return 0;
}
