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
 * The library the tests link is the full profile, so this file compiles
 * the engine's sources itself, with the minimal profile, into the test.
 * Every transcript runs twice: server bytes whole, then one at a time.
 */
#define SMTPC_PROFILE_MINIMAL 1

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
    SMTPC_WITH_TRACE || SMTPC_WITH_STATUS_TEXT
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

int main(void)
{
    test_config_refused();
    for (t_bytewise = 0; t_bytewise < 2; t_bytewise++) {
        test_everything_offered();
        test_login_helo();
        test_no_starttls();
    }
    printf("test_profile_minimal: sizeof(smtpc_session) = %u on this host\n",
           (unsigned)sizeof(smtpc_session));
    return unit_done();
}
