/*
 * test_profile_minimal.c - the engine built with -DSMTPC_PROFILE_MINIMAL=1
 * behaves as the minimal profile promises (smtpc_config.h): EHLO/HELO,
 * AUTH PLAIN and LOGIN, one command at a time, DATA with dot-stuffing; and
 * what is compiled out is refused cleanly, never silently used or dropped:
 *   - CRAM-MD5, XOAUTH2, OAUTHBEARER and STARTTLS in the configuration:
 *     SMTPC_ERR_UNSUPPORTED from smtpc_session_init;
 *   - DSN, SMTPUTF8 or BINARYMIME asked for by a mail: SMTPC_ERR_UNSUPPORTED
 *     from smtpc_mail_begin, nothing sent;
 *   - a server offering PIPELINING, CHUNKING, STARTTLS and CRAM-MD5: none
 *     of them used (commands wait for their replies, DATA not BDAT, no
 *     STARTTLS in opportunistic mode, AUTH PLAIN chosen).
 *
 * The library the tests link is the full profile, so the engine's sources
 * are compiled here, into the test, with the minimal profile's switches.
 * Every transcript runs twice: server bytes whole, then one at a time.
 */
#define SMTPC_PROFILE_MINIMAL 1

#include "engine/common.c"
#include "engine/auth.c"
#include "engine/base64.c"
#include "engine/body.c"
#include "engine/caps.c"
#include "engine/check.c"
#include "engine/command.c"
#include "engine/mail.c"
#include "engine/md5.c"
#include "engine/reply.c"
#include "engine/session.c"
#include "engine/status.c"

#include <stdlib.h>

#include "unit.h"

#if SMTPC_WITH_AUTH_CRAM_MD5 || SMTPC_WITH_AUTH_XOAUTH2 || \
    SMTPC_WITH_AUTH_OAUTHBEARER || SMTPC_WITH_TLS || SMTPC_WITH_PIPELINING || \
    SMTPC_WITH_CHUNKING || SMTPC_WITH_DSN || SMTPC_WITH_SMTPUTF8 || \
    SMTPC_WITH_SIZE || SMTPC_WITH_TRACE || SMTPC_WITH_STATUS_TEXT
#error "SMTPC_PROFILE_MINIMAL=1 left a feature on"
#endif
#if !SMTPC_WITH_AUTH_PLAIN || !SMTPC_WITH_AUTH_LOGIN
#error "the minimal profile keeps AUTH PLAIN and LOGIN"
#endif

static unsigned char t_io[2048];
static int t_bytewise;

/* Everything the engine has to send now, as a string. */
static const char *t_sent(smtpc_session *s)
{
    static char out[8192];
    size_t total = 0, n;
    const unsigned char *p;

    while ((p = smtpc_send_buf(s, &n)) != NULL && n > 0) {
        if (total + n >= sizeof out)
            n = sizeof out - total - 1;
        memcpy(out + total, p, n);
        total += n;
        smtpc_send_ack(s, n);
        if (total + 1 >= sizeof out)
            break;
    }
    out[total] = '\0';
    return out;
}

/* The server says text (whole, or one byte at a time). */
static void t_server(smtpc_session *s, const char *text)
{
    size_t len = strlen(text), k;

    if (!t_bytewise) {
        CHECK_EQ_INT(smtpc_feed(s, text, len), len);
        return;
    }
    for (k = 0; k < len; k++) {
        if (smtpc_session_state(s) & SMTPC_CLOSED)
            break;
        CHECK_EQ_INT(smtpc_feed(s, text + k, 1), 1);
    }
}

static void t_body(smtpc_session *s, const char *text)
{
    size_t len = strlen(text), done = 0;

    while (done < len) {
        size_t n = smtpc_body_write(s, text + done, t_bytewise ? 1 : len - done);
        CHECK(n > 0);
        if (n == 0)
            return;
        done += n;
    }
}

static const char ehlo_everything[] =
    "250-mx.example.com\r\n"
    "250-PIPELINING\r\n"
    "250-CHUNKING\r\n"
    "250-BINARYMIME\r\n"
    "250-STARTTLS\r\n"
    "250-DSN\r\n"
    "250-SMTPUTF8\r\n"
    "250-8BITMIME\r\n"
    "250-SIZE 1000000\r\n"
    "250-AUTH CRAM-MD5 PLAIN LOGIN XOAUTH2 OAUTHBEARER\r\n"
    "250 ENHANCEDSTATUSCODES\r\n";

/* ---- configurations the minimal profile cannot honour ---- */

static void test_config_refused(void)
{
    smtpc_session s;
    smtpc_config cfg;

    unit_case = "config";
    memset(&cfg, 0, sizeof cfg);
    cfg.username = "user";
    cfg.password = "pw";
    cfg.auth = SMTPC_AUTH_CRAM_MD5;
    CHECK_EQ_INT(smtpc_session_init(&s, &cfg, t_io, sizeof t_io), SMTPC_ERR_UNSUPPORTED);
    CHECK(smtpc_session_state(&s) & SMTPC_CLOSED);
    cfg.token = "tok";
    cfg.auth = SMTPC_AUTH_XOAUTH2;
    CHECK_EQ_INT(smtpc_session_init(&s, &cfg, t_io, sizeof t_io), SMTPC_ERR_UNSUPPORTED);
    cfg.auth = SMTPC_AUTH_OAUTHBEARER;
    CHECK_EQ_INT(smtpc_session_init(&s, &cfg, t_io, sizeof t_io), SMTPC_ERR_UNSUPPORTED);
    cfg.token = NULL;
    cfg.auth = SMTPC_AUTH_PLAIN;
    cfg.tls = SMTPC_TLS_STARTTLS;
    CHECK_EQ_INT(smtpc_session_init(&s, &cfg, t_io, sizeof t_io), SMTPC_ERR_UNSUPPORTED);
    cfg.tls = SMTPC_TLS_NONE;
    CHECK_EQ_INT(smtpc_session_init(&s, &cfg, t_io, sizeof t_io), SMTPC_OK);
    cfg.auth = SMTPC_AUTH_LOGIN;
    CHECK_EQ_INT(smtpc_session_init(&s, &cfg, t_io, sizeof t_io), SMTPC_OK);
    cfg.auth = SMTPC_AUTH_AUTO;
    CHECK_EQ_INT(smtpc_session_init(&s, &cfg, t_io, sizeof t_io), SMTPC_OK);
    /* Implicit TLS is the transport's business: allowed. */
    cfg.tls = SMTPC_TLS_IMPLICIT;
    CHECK_EQ_INT(smtpc_session_init(&s, &cfg, t_io, sizeof t_io), SMTPC_OK);
}

/* ---- one mail against a server that offers everything ---- */

static void test_everything_offered(void)
{
    smtpc_session s;
    smtpc_config cfg;
    smtpc_rcpt r[2];
    smtpc_envelope env;

    unit_case = t_bytewise ? "offered-everything (bytewise)" : "offered-everything";
    memset(&cfg, 0, sizeof cfg);
    cfg.ehlo_name = "client.example.org";
    cfg.tls = SMTPC_TLS_OPPORTUNISTIC; /* STARTTLS offered, compiled out */
    cfg.auth = SMTPC_AUTH_AUTO;        /* CRAM-MD5 offered, compiled out */
    cfg.username = "user";
    cfg.password = "pw";
    cfg.options = SMTPC_OPT_PEER_LOOPBACK;
    CHECK_EQ_INT(smtpc_session_init(&s, &cfg, t_io, sizeof t_io), SMTPC_OK);
    t_server(&s, "220 mx.example.com ESMTP\r\n");
    CHECK_EQ_STR(t_sent(&s), "EHLO client.example.org\r\n");
    t_server(&s, ehlo_everything);
    /* base64("\0user\0pw") */
    CHECK_EQ_STR(t_sent(&s), "AUTH PLAIN AHVzZXIAcHc=\r\n");
    t_server(&s, "235 2.7.0 ok\r\n");
    CHECK(smtpc_session_state(&s) & SMTPC_READY);
    CHECK_EQ_INT(smtpc_session_auth_mech(&s), SMTPC_AUTH_PLAIN);

    memset(r, 0, sizeof r);
    r[0].address = "a@example.com";
    r[1].address = "b@example.com";
    memset(&env, 0, sizeof env);
    env.from = "me@example.org";
    env.rcpts = r;
    env.rcpt_count = 2;
    CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_OK);
    /* No PIPELINING: one command, then its reply. */
    CHECK_EQ_STR(t_sent(&s), "MAIL FROM:<me@example.org>\r\n");
    CHECK_EQ_STR(t_sent(&s), "");
    t_server(&s, "250 2.1.0 ok\r\n");
    CHECK_EQ_STR(t_sent(&s), "RCPT TO:<a@example.com>\r\n");
    CHECK_EQ_STR(t_sent(&s), "");
    t_server(&s, "250 2.1.5 ok\r\n");
    CHECK_EQ_STR(t_sent(&s), "RCPT TO:<b@example.com>\r\n");
    t_server(&s, "550 5.1.1 no such user\r\n");
    /* No CHUNKING: DATA, never BDAT. */
    CHECK_EQ_STR(t_sent(&s), "DATA\r\n");
    t_server(&s, "354 go ahead\r\n");
    CHECK(smtpc_session_state(&s) & SMTPC_WANT_BODY);
    t_body(&s, "Subject: x\r\n\r\n.dot\n..two\r\n.\nend");
    CHECK_EQ_INT(smtpc_body_end(&s), SMTPC_OK);
    CHECK_EQ_STR(t_sent(&s),
                 "Subject: x\r\n\r\n..dot\r\n...two\r\n..\r\nend\r\n.\r\n");
    t_server(&s, "250 2.0.0 queued as 42\r\n");
    CHECK_EQ_INT(smtpc_mail_status(&s), SMTPC_OK);
    CHECK_EQ_INT(smtpc_mail_accepted(&s), 1);
    CHECK_EQ_INT(r[0].status, SMTPC_OK);
    CHECK_EQ_INT(r[1].status, SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(r[1].code, 550);
    CHECK(smtpc_session_state(&s) & SMTPC_READY);

    /* Mails that need a compiled-out extension: refused, nothing sent. */
    env.rcpt_count = 1;
    r[0].notify = SMTPC_NOTIFY_FAILURE;
    CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_ERR_UNSUPPORTED);
    CHECK_EQ_STR(t_sent(&s), "");
    r[0].notify = 0;
    env.envid = "id1";
    CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_ERR_UNSUPPORTED);
    env.envid = NULL;
    r[0].address = "J\xc3\xb6rg@example.com";
    CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_ERR_UNSUPPORTED);
    r[0].address = "a@example.com";
    env.flags = SMTPC_MAIL_BINARYMIME;
    CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_ERR_UNSUPPORTED);
    env.flags = 0;
    CHECK_EQ_STR(t_sent(&s), "");
    CHECK(smtpc_session_state(&s) & SMTPC_READY);

    CHECK_EQ_INT(smtpc_quit(&s), SMTPC_OK);
    CHECK_EQ_STR(t_sent(&s), "QUIT\r\n");
    t_server(&s, "221 bye\r\n");
    CHECK(smtpc_session_state(&s) & SMTPC_CLOSED);
    CHECK_EQ_INT(smtpc_session_status(&s), SMTPC_OK);
}

/* ---- AUTH LOGIN, and HELO when EHLO is refused ---- */

static void test_login_helo(void)
{
    smtpc_session s;
    smtpc_config cfg;

    unit_case = t_bytewise ? "login-helo (bytewise)" : "login-helo";
    memset(&cfg, 0, sizeof cfg);
    cfg.auth = SMTPC_AUTH_LOGIN;
    cfg.username = "user";
    cfg.password = "pw";
    cfg.options = SMTPC_OPT_PEER_LOOPBACK;
    CHECK_EQ_INT(smtpc_session_init(&s, &cfg, t_io, sizeof t_io), SMTPC_OK);
    t_server(&s, "220 old.example.com\r\n");
    CHECK_EQ_STR(t_sent(&s), "EHLO localhost\r\n");
    t_server(&s, "502 5.5.1 what is EHLO\r\n");
    CHECK_EQ_STR(t_sent(&s), "HELO localhost\r\n");
    t_server(&s, "250 old.example.com\r\n");
    /* Configured for LOGIN: asked for even though HELO lists nothing. */
    CHECK_EQ_STR(t_sent(&s), "AUTH LOGIN\r\n");
    t_server(&s, "334 VXNlcm5hbWU6\r\n");
    CHECK_EQ_STR(t_sent(&s), "dXNlcg==\r\n");
    t_server(&s, "334 UGFzc3dvcmQ6\r\n");
    CHECK_EQ_STR(t_sent(&s), "cHc=\r\n");
    t_server(&s, "235 ok\r\n");
    CHECK(smtpc_session_state(&s) & SMTPC_READY);
    CHECK_EQ_INT(smtpc_session_auth_mech(&s), SMTPC_AUTH_LOGIN);
}

/* ---- STARTTLS offered, opportunistic, no credentials: plain session ---- */

static void test_no_starttls(void)
{
    smtpc_session s;
    smtpc_config cfg;

    unit_case = t_bytewise ? "no-starttls (bytewise)" : "no-starttls";
    memset(&cfg, 0, sizeof cfg);
    cfg.tls = SMTPC_TLS_OPPORTUNISTIC;
    CHECK_EQ_INT(smtpc_session_init(&s, &cfg, t_io, sizeof t_io), SMTPC_OK);
    t_server(&s, "220 mx\r\n");
    CHECK_EQ_STR(t_sent(&s), "EHLO localhost\r\n");
    t_server(&s, "250-mx\r\n250 STARTTLS\r\n");
    CHECK_EQ_STR(t_sent(&s), "");
    CHECK(smtpc_session_state(&s) & SMTPC_READY);
    CHECK(!(smtpc_session_state(&s) & SMTPC_WANT_TLS));
    CHECK(!smtpc_session_secure(&s));
}


/* ---- what the minimal features mean for a mail ---- */

static void t_ready(smtpc_session *s, smtpc_config *cfg, const char *ehlo)
{
    CHECK_EQ_INT(smtpc_session_init(s, cfg, t_io, sizeof t_io), SMTPC_OK);
    t_server(s, "220 mx\r\n");
    CHECK_EQ_STR(t_sent(s), "EHLO localhost\r\n");
    t_server(s, ehlo);
}

static void test_minimal_mail_params(void)
{
    smtpc_session s;
    smtpc_config cfg;
    smtpc_rcpt r;
    smtpc_envelope env;

    unit_case = t_bytewise ? "mail-params (bytewise)" : "mail-params";
    memset(&cfg, 0, sizeof cfg);
    /* A token the build cannot use is refused, not silently dropped. */
    cfg.token = "tok";
    CHECK_EQ_INT(smtpc_session_init(&s, &cfg, t_io, sizeof t_io), SMTPC_ERR_UNSUPPORTED);
    cfg.auth = SMTPC_AUTH_AUTO;
    cfg.username = "user";
    cfg.password = "pw";
    CHECK_EQ_INT(smtpc_session_init(&s, &cfg, t_io, sizeof t_io), SMTPC_ERR_UNSUPPORTED);
    cfg.token = "to\rk"; /* a bad argument is still a bad argument */
    CHECK_EQ_INT(smtpc_session_init(&s, &cfg, t_io, sizeof t_io), SMTPC_ERR_ARG);
    memset(&cfg, 0, sizeof cfg);

    t_ready(&s, &cfg, ehlo_everything);
    CHECK(smtpc_session_state(&s) & SMTPC_READY);
    /* Only what this build can use is recorded. */
    CHECK_EQ_INT(smtpc_session_caps(&s)->flags,
                 SMTPC_CAP_ESMTP | SMTPC_CAP_AUTH | SMTPC_CAP_ENHANCEDSTATUSCODES);
    CHECK_EQ_INT(smtpc_session_caps(&s)->auth, SMTPC_AUTH_PLAIN | SMTPC_AUTH_LOGIN);
    CHECK_EQ_INT(smtpc_session_caps(&s)->size_max, 0);

    memset(&r, 0, sizeof r);
    r.address = "a@example.com";
    memset(&env, 0, sizeof env);
    env.from = "";
    env.rcpts = &r;
    env.rcpt_count = 1;
    env.flags = SMTPC_MAIL_REQUIRE_8BITMIME;
    CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_ERR_UNSUPPORTED);
    env.flags = SMTPC_MAIL_RET_HDRS;
    CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_ERR_UNSUPPORTED);
    env.flags = SMTPC_MAIL_RET_HDRS | SMTPC_MAIL_RET_FULL;
    CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_ERR_ARG);
    CHECK_EQ_INT(smtpc_mail_phase(&s), SMTPC_PHASE_MAIL);
    CHECK_EQ_STR(t_sent(&s), "");
    /* BODY=8BITMIME is a wish, and SIZE is not compiled in: neither is
     * sent, although the server offers both. */
    env.flags = SMTPC_MAIL_8BITMIME;
    env.size = 12345;
    CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_OK);
    CHECK_EQ_STR(t_sent(&s), "MAIL FROM:<>\r\n");
}

/* ---- failures: each mail's own, and the session's ---- */

static void test_minimal_failures(void)
{
    smtpc_session s;
    smtpc_config cfg;
    smtpc_rcpt r[2];
    smtpc_envelope env;

    unit_case = t_bytewise ? "failures (bytewise)" : "failures";
    memset(&cfg, 0, sizeof cfg);
    t_ready(&s, &cfg, "250 mx\r\n");
    memset(r, 0, sizeof r);
    r[0].address = "a@example.com";
    r[1].address = "b@example.com";
    memset(&env, 0, sizeof env);
    env.from = "me@example.org";
    env.rcpts = r;
    env.rcpt_count = 2;

    /* MAIL refused: RSET, READY again, the refusal kept. */
    CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_OK);
    CHECK_EQ_STR(t_sent(&s), "MAIL FROM:<me@example.org>\r\n");
    t_server(&s, "550-5.7.1 sender\r\n550 5.7.1 refused\r\n");
    CHECK_EQ_STR(t_sent(&s), "RSET\r\n");
    t_server(&s, "250 2.0.0 reset\r\n");
    CHECK(smtpc_session_state(&s) & SMTPC_READY);
    CHECK_EQ_INT(smtpc_mail_status(&s), SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(smtpc_mail_phase(&s), SMTPC_PHASE_MAIL);
    CHECK_EQ_INT(smtpc_last_reply(&s)->code, 550);
    CHECK_EQ_INT(smtpc_last_reply(&s)->enh[1], 7);
    CHECK_EQ_STR(smtpc_last_reply(&s)->text, "sender\nrefused");
    CHECK_EQ_INT(r[0].status, SMTPC_ERR_STATE); /* never asked */

    /* Every recipient refused: RSET, no DATA. */
    CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_OK);
    CHECK_EQ_STR(t_sent(&s), "MAIL FROM:<me@example.org>\r\n");
    t_server(&s, "250 ok\r\n");
    CHECK_EQ_STR(t_sent(&s), "RCPT TO:<a@example.com>\r\n");
    t_server(&s, "451 4.3.0 later\r\n");
    CHECK_EQ_STR(t_sent(&s), "RCPT TO:<b@example.com>\r\n");
    t_server(&s, "550 5.1.1 unknown\r\n");
    CHECK_EQ_STR(t_sent(&s), "RSET\r\n");
    t_server(&s, "250 ok\r\n");
    CHECK_EQ_INT(smtpc_mail_status(&s), SMTPC_ERR_NO_RECIPIENTS);
    CHECK_EQ_INT(r[0].status, SMTPC_ERR_TEMPFAIL);
    CHECK_EQ_STR(r[0].text, "later");
    CHECK_EQ_INT(r[1].code, 550);

    /* The message refused after its end: no RSET needed. */
    env.rcpt_count = 1;
    CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_OK);
    t_sent(&s);
    t_server(&s, "250 ok\r\n");
    t_sent(&s);
    t_server(&s, "251 forwarded\r\n");
    CHECK_EQ_STR(t_sent(&s), "DATA\r\n");
    t_server(&s, "354 go\r\n");
    t_body(&s, "x");
    CHECK_EQ_INT(smtpc_body_end(&s), SMTPC_OK);
    CHECK_EQ_INT(smtpc_body_end(&s), SMTPC_ERR_STATE);
    CHECK_EQ_STR(t_sent(&s), "x\r\n.\r\n");
    t_server(&s, "554 5.6.0 spam\r\n");
    CHECK_EQ_STR(t_sent(&s), "");
    CHECK(smtpc_session_state(&s) & SMTPC_READY);
    CHECK_EQ_INT(smtpc_mail_status(&s), SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(smtpc_mail_phase(&s), SMTPC_PHASE_MESSAGE);
    CHECK_EQ_INT(smtpc_mail_accepted(&s), 1);

    /* A refusal while the message streams ends the session at once. */
    CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_OK);
    t_sent(&s);
    t_server(&s, "250 ok\r\n");
    t_sent(&s);
    t_server(&s, "250 ok\r\n");
    t_sent(&s);
    t_server(&s, "354 go\r\n");
    t_body(&s, "part of it\n");
    CHECK(smtpc_session_state(&s) & SMTPC_WANT_RECV);
    t_server(&s, "552 5.3.4 too big\r\n");
    CHECK(smtpc_session_state(&s) & SMTPC_CLOSED);
    CHECK_EQ_INT(smtpc_session_status(&s), SMTPC_ERR_REJECTED);
    CHECK_EQ_INT(smtpc_session_phase(&s), SMTPC_PHASE_MESSAGE);
    CHECK_EQ_STR(smtpc_last_reply(&s)->text, "too big");
    CHECK_EQ_INT(smtpc_mail_begin(&s, &env), SMTPC_ERR_REJECTED);

    /* 421 anywhere: closed without QUIT. */
    t_ready(&s, &cfg, "421 4.3.2 shutting down\r\n");
    CHECK(smtpc_session_state(&s) & SMTPC_CLOSED);
    CHECK_EQ_INT(smtpc_session_status(&s), SMTPC_ERR_TEMPFAIL);
    CHECK_EQ_INT(smtpc_session_phase(&s), SMTPC_PHASE_EHLO);
    CHECK_EQ_STR(t_sent(&s), "");

    /* A continuation with another code: protocol error, orderly QUIT. */
    t_ready(&s, &cfg, "250-mx\r\n251 other\r\n");
    CHECK_EQ_INT(smtpc_session_status(&s), SMTPC_ERR_PROTOCOL);
    CHECK_EQ_STR(t_sent(&s), "QUIT\r\n");
    t_server(&s, "221 bye\r\n");
    CHECK(smtpc_session_state(&s) & SMTPC_CLOSED);
}

/* ---- AUTH: secrets marked, 504 falls back once, "*" cancels ---- */

static void test_minimal_auth(void)
{
    smtpc_session s;
    smtpc_config cfg;
    const unsigned char *p;
    size_t len, a, b;

    unit_case = t_bytewise ? "auth (bytewise)" : "auth";
    memset(&cfg, 0, sizeof cfg);
    cfg.auth = SMTPC_AUTH_AUTO;
    cfg.username = "user";
    cfg.password = "pw";
    cfg.authzid = "admin";
    /* Not loopback, no TLS: credentials stay home. */
    t_ready(&s, &cfg, "250-mx\r\n250 AUTH PLAIN\r\n");
    CHECK_EQ_INT(smtpc_session_status(&s), SMTPC_ERR_AUTH_INSECURE);
    CHECK_EQ_STR(t_sent(&s), "QUIT\r\n");

    cfg.options = SMTPC_OPT_ALLOW_PLAINTEXT_AUTH;
    t_ready(&s, &cfg, "250-mx\r\n250 AUTH=LOGIN PLAIN\r\n");
    p = smtpc_send_buf(&s, &len);
    smtpc_send_secret_range(&s, &a, &b);
    /* base64("admin\0user\0pw") is the secret, after "AUTH PLAIN ". */
    CHECK(p != NULL && len == 11 + 20 + 2);
    CHECK_EQ_INT(a, 11);
    CHECK_EQ_INT(b, 31);
    CHECK_EQ_STR(t_sent(&s), "AUTH PLAIN YWRtaW4AdXNlcgBwdw==\r\n");
    t_server(&s, "504 5.5.4 not that one\r\n");
    CHECK_EQ_STR(t_sent(&s), "AUTH LOGIN\r\n");
    t_server(&s, "334 VXNlcm5hbWU6\r\n");
    smtpc_send_buf(&s, &len);
    smtpc_send_secret_range(&s, &a, &b);
    CHECK_EQ_INT(a, 0);
    CHECK_EQ_INT(b, 8);
    CHECK_EQ_STR(t_sent(&s), "dXNlcg==\r\n");
    t_server(&s, "334 UGFzc3dvcmQ6\r\n");
    CHECK_EQ_STR(t_sent(&s), "cHc=\r\n");
    t_server(&s, "334 more?\r\n");
    CHECK_EQ_STR(t_sent(&s), "*\r\n");
    t_server(&s, "501 5.7.0 cancelled\r\n");
    CHECK_EQ_INT(smtpc_session_status(&s), SMTPC_ERR_PROTOCOL);
    CHECK_EQ_INT(smtpc_session_phase(&s), SMTPC_PHASE_AUTH);
    CHECK_EQ_STR(t_sent(&s), "QUIT\r\n");
    CHECK_EQ_INT(smtpc_session_auth_mech(&s), SMTPC_AUTH_NONE);

    /* Refused credentials. */
    t_ready(&s, &cfg, "250-mx\r\n250 AUTH LOGIN\r\n");
    CHECK_EQ_STR(t_sent(&s), "AUTH LOGIN\r\n");
    t_server(&s, "535 5.7.8 no\r\n");
    CHECK_EQ_INT(smtpc_session_status(&s), SMTPC_ERR_AUTH);
    CHECK_EQ_STR(smtpc_last_reply(&s)->text, "no");
}

int main(void)
{
    test_config_refused();
    for (t_bytewise = 0; t_bytewise < 2; t_bytewise++) {
        test_everything_offered();
        test_login_helo();
        test_no_starttls();
        test_minimal_mail_params();
        test_minimal_failures();
        test_minimal_auth();
    }
    printf("test_profile_minimal: sizeof(smtpc_session) = %u on this host\n",
           (unsigned)sizeof(smtpc_session));
    return unit_done();
}
