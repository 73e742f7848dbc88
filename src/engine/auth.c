/*
 * SMTP AUTH (RFC 4954): PLAIN (RFC 4616, initial response), LOGIN,
 * CRAM-MD5 (RFC 2195), XOAUTH2 (Google/Microsoft) and OAUTHBEARER (RFC
 * 7628).  Credentials are only ever written base64-encoded, inside the
 * secret range of the send area, which is wiped once sent.
 */
#include "internal.h"

#include <string.h>

/* Mechanisms compiled in. */
static const unsigned compiled_mechs = 0
#if SMTPC_WITH_AUTH_PLAIN
    | SMTPC_AUTH_PLAIN
#endif
#if SMTPC_WITH_AUTH_LOGIN
    | SMTPC_AUTH_LOGIN
#endif
#if SMTPC_WITH_AUTH_CRAM_MD5
    | SMTPC_AUTH_CRAM_MD5
#endif
#if SMTPC_WITH_AUTH_XOAUTH2
    | SMTPC_AUTH_XOAUTH2
#endif
#if SMTPC_WITH_AUTH_OAUTHBEARER
    | SMTPC_AUTH_OAUTHBEARER
#endif
    ;

#define PASSWORD_MECHS (SMTPC_AUTH_PLAIN | SMTPC_AUTH_LOGIN | SMTPC_AUTH_CRAM_MD5)
#define TOKEN_MECHS (SMTPC_AUTH_XOAUTH2 | SMTPC_AUTH_OAUTHBEARER)

/* A credential given (NULL and "" mean none) passes smtpc_check_secret;
 * the user name is also part of the OAuth strings. */
static int check_secret(const char *v, int oauth)
{
    size_t n = 0;

    if (v == NULL)
        return SMTPC_OK;
    while (n <= SMTPC_SECRET_MAX && v[n] != '\0')
        n++;
    if (n > 0 && smtpc_check_secret(v, n, oauth) != SMTPC_SECRET_OK)
        return SMTPC_ERR_ARG;
    return SMTPC_OK;
}

int smtpc_e_auth_check_config(const smtpc_config *cfg)
{
    unsigned m = cfg->auth;

    if (check_secret(cfg->username, 1) || check_secret(cfg->password, 0) ||
        check_secret(cfg->token, 1) || check_secret(cfg->authzid, 0) ||
        (cfg->host && smtpc_check_text(cfg->host, 255) != SMTPC_OK) ||
        (cfg->host &&
         memchr(cfg->host, '\001', strlen(cfg->host)) != NULL))
        return SMTPC_ERR_ARG;
    if (m != SMTPC_AUTH_NONE && m != SMTPC_AUTH_AUTO) {
        if ((m & (m - 1)) != 0 || (m & (PASSWORD_MECHS | TOKEN_MECHS)) == 0)
            return SMTPC_ERR_ARG; /* exactly one known mechanism */
        if (!(m & compiled_mechs))
            return SMTPC_ERR_UNSUPPORTED;
        if ((m & PASSWORD_MECHS) && (!cfg->username || !cfg->password))
            return SMTPC_ERR_ARG;
        if (m == SMTPC_AUTH_XOAUTH2 && (!cfg->username || !cfg->token))
            return SMTPC_ERR_ARG;
        if (m == SMTPC_AUTH_OAUTHBEARER && !cfg->token)
            return SMTPC_ERR_ARG;
    }
    /* A token the build cannot use would otherwise be dropped silently
     * (or, with AUTO, send a password mechanism without a password). */
    if (!OAUTH_COMPILED && cfg->token != NULL)
        return SMTPC_ERR_UNSUPPORTED;
    return SMTPC_OK;
}

static int auth_wanted(const smtpc_config *cfg)
{
    if (cfg->auth == SMTPC_AUTH_NONE)
        return 0;
    return cfg->token != NULL || (cfg->username && cfg->password);
}

/* The next mechanism to try, or 0. */
static unsigned next_mech(const smtpc_session *s)
{
    static const unsigned token_order[] = {SMTPC_AUTH_OAUTHBEARER,
                                           SMTPC_AUTH_XOAUTH2};
    static const unsigned password_order[] = {
        SMTPC_AUTH_CRAM_MD5, SMTPC_AUTH_PLAIN, SMTPC_AUTH_LOGIN};
    const smtpc_config *cfg = s->cfg;
    const unsigned *order;
    size_t n, i;

    if (cfg->auth != SMTPC_AUTH_AUTO) {
        unsigned m = cfg->auth;
        if ((cfg->options & SMTPC_OPT_PLAIN_WHEN_UNLISTED) &&
            s->caps.auth == 0) {
            /* NetX Duo's rule: sent although the server lists nothing. */
            if (m == SMTPC_AUTH_LOGIN && (compiled_mechs & SMTPC_AUTH_PLAIN))
                m = SMTPC_AUTH_PLAIN;
        } else if ((s->caps.flags & SMTPC_CAP_ESMTP) && !(s->caps.auth & m)) {
            /* Not offered: refused before a byte of it is sent.  (After
             * HELO nothing is listed: the caller's word is all there is.) */
            return 0;
        }
        return (s->auth_tried & m) ? 0 : m;
    }
    if (OAUTH_COMPILED && cfg->token != NULL) {
        order = token_order;
        n = 2;
    } else {
        order = password_order;
        n = 3;
    }
    for (i = 0; i < n; i++) {
        unsigned m = order[i];
        if ((s->caps.auth & m) && !(s->auth_tried & m) &&
            (m & compiled_mechs) &&
            !(m == SMTPC_AUTH_XOAUTH2 && cfg->username == NULL))
            return m;
    }
    return 0;
}

#if SMTPC_WITH_AUTH_OAUTHBEARER
/* OAUTHBEARER's GS2 header names the user as a saslname (RFC 5801):
 * ',' and '=' are escaped. */
static void b64_saslname(smtpc_cmd *c, const char *name)
{
    for (; *name != '\0'; name++) {
        if (*name == ',')
            smtpc_e_cmd_b64(c, "=2C", 3);
        else if (*name == '=')
            smtpc_e_cmd_b64(c, "=3D", 3);
        else
            smtpc_e_cmd_b64(c, name, 1);
    }
}

#endif

static void b64_str(smtpc_cmd *c, const char *text)
{
    smtpc_e_cmd_b64(c, text, strlen(text));
}

/* The credentials of PLAIN, XOAUTH2 or OAUTHBEARER in base64, inside the
 * secret range: the initial response, or PLAIN's answer to an empty 334. */
static void credentials(smtpc_cmd *c, const smtpc_config *cfg, unsigned mech)
{
    smtpc_e_cmd_secret_begin(c);
    if (mech == SMTPC_AUTH_PLAIN) {
        if (cfg->authzid)
            b64_str(c, cfg->authzid);
        smtpc_e_cmd_b64(c, "", 1);
        b64_str(c, cfg->username);
        smtpc_e_cmd_b64(c, "", 1);
        b64_str(c, cfg->password);
    }
#if OAUTH_COMPILED
    else {
        if (SMTPC_WITH_AUTH_XOAUTH2 && mech == SMTPC_AUTH_XOAUTH2) {
            b64_str(c, "user=");
            b64_str(c, cfg->username);
        }
#if SMTPC_WITH_AUTH_OAUTHBEARER
        if (mech == SMTPC_AUTH_OAUTHBEARER) {
            b64_str(c, "n,");
            if (cfg->username) {
                b64_str(c, "a=");
                b64_saslname(c, cfg->username);
            }
            b64_str(c, ",");
            if (cfg->host) {
                b64_str(c, "\001host=");
                b64_str(c, cfg->host);
            }
            if (cfg->port) {
                char digits[20];
                b64_str(c, "\001port=");
                smtpc_e_cmd_b64(c, digits,
                                smtpc_e_u64_format(digits, cfg->port));
            }
        }
#endif
        b64_str(c, "\001auth=Bearer ");
        b64_str(c, cfg->token);
        b64_str(c, "\001\001");
    }
#endif
    smtpc_e_cmd_b64_end(c);
    smtpc_e_cmd_secret_end(c);
}

static void send_auth(smtpc_session *s, unsigned mech)
{
    const smtpc_config *cfg = s->cfg;
    smtpc_cmd c;

    s->auth_mech = (uint8_t)mech;
    s->auth_tried |= (uint8_t)mech;
    s->auth_step = 0;
    s->state = ST_AUTH;
    smtpc_e_cmd_begin(&c, s);
    smtpc_e_cmd_add(&c, "AUTH ");
    smtpc_e_cmd_add(&c, smtpc_e_mech_name(mech));
    /* LOGIN and CRAM-MD5 wait for a challenge. */
    if (mech != SMTPC_AUTH_LOGIN && mech != SMTPC_AUTH_CRAM_MD5) {
        smtpc_e_cmd_add(&c, " ");
        credentials(&c, cfg, mech);
    }
    if (smtpc_e_cmd_end(&c, R_AUTH) != SMTPC_OK)
        smtpc_e_fail_session(s, SMTPC_ERR_BUFFER, SMTPC_PHASE_AUTH, 1);
}

void smtpc_e_auth_start(smtpc_session *s)
{
    const smtpc_config *cfg = s->cfg;
    unsigned mech;

    if (!auth_wanted(cfg) || (s->flags & F_AUTHED)) {
        smtpc_e_enter_ready(s);
        return;
    }
    if (!(s->flags & F_SECURE) &&
        !(cfg->options &
          (SMTPC_OPT_PEER_LOOPBACK | SMTPC_OPT_ALLOW_PLAINTEXT_AUTH))) {
        smtpc_e_fail_session(s, SMTPC_ERR_AUTH_INSECURE, SMTPC_PHASE_AUTH, 1);
        return;
    }
    mech = next_mech(s);
    if (mech == 0 || (cfg->auth == SMTPC_AUTH_AUTO &&
                      !(s->caps.flags & SMTPC_CAP_AUTH))) {
        smtpc_e_fail_session(s, SMTPC_ERR_AUTH_UNAVAILABLE,
                             SMTPC_PHASE_AUTH, 1);
        return;
    }
    send_auth(s, mech);
}

/* One base64 line answering a challenge; secret unless it is a cancel. */
static void send_response(smtpc_session *s, const char *prefix,
                          const char *value)
{
    smtpc_cmd c;

    smtpc_e_cmd_begin(&c, s);
    smtpc_e_cmd_secret_begin(&c);
    if (prefix)
        b64_str(&c, prefix);
    if (value)
        b64_str(&c, value);
    smtpc_e_cmd_b64_end(&c);
    smtpc_e_cmd_secret_end(&c);
    if (smtpc_e_cmd_end(&c, R_AUTH) != SMTPC_OK)
        smtpc_e_fail_session(s, SMTPC_ERR_BUFFER, SMTPC_PHASE_AUTH, 1);
}

/* A step we cannot answer: "*" cancels the exchange (RFC 4954 4). */
#define STEP_CANCELLED 0xff

#if SMTPC_WITH_AUTH_CRAM_MD5
/* RFC 2195: "user hex(HMAC-MD5(password, challenge))", base64-encoded. */
static void cram_md5_response(smtpc_session *s, const smtpc_line *l)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char *chal = (unsigned char *)(uintptr_t)l->text;
    unsigned char digest[16];
    size_t n, i;
    int ok;
    smtpc_cmd c;

    /* The line is ours (the receive area): decode in place. */
    n = smtpc_base64_decode(chal, l->text_len, (const char *)chal, l->text_len, &ok);
    if (!ok || n == 0) {
        s->auth_step = STEP_CANCELLED;
        smtpc_e_cmd_simple(s, "*", R_AUTH, SMTPC_PHASE_AUTH);
        return;
    }
    smtpc_e_hmac_md5(s->cfg->password, strlen(s->cfg->password), chal, n,
                     digest);
    smtpc_e_cmd_begin(&c, s);
    smtpc_e_cmd_secret_begin(&c);
    b64_str(&c, s->cfg->username);
    b64_str(&c, " ");
    for (i = 0; i < 16; i++) {
        char pair[2];
        pair[0] = hex[digest[i] >> 4];
        pair[1] = hex[digest[i] & 15];
        smtpc_e_cmd_b64(&c, pair, 2);
    }
    smtpc_e_cmd_b64_end(&c);
    smtpc_e_cmd_secret_end(&c);
    if (smtpc_e_cmd_end(&c, R_AUTH) != SMTPC_OK)
        smtpc_e_fail_session(s, SMTPC_ERR_BUFFER, SMTPC_PHASE_AUTH, 1);
    smtpc_wipe(digest, sizeof digest);
}
#endif

#if OAUTH_COMPILED
/* XOAUTH2 and OAUTHBEARER answer a failure with a 334 holding a base64
 * JSON error.  The client acknowledges it (an empty line for XOAUTH2, a
 * lone ^A for OAUTHBEARER, RFC 7628 3.2.3) and the server then ends the
 * exchange with an error.  The JSON is kept for the caller. */
static void oauth_error_challenge(smtpc_session *s, const smtpc_line *l)
{
    unsigned char *p = (unsigned char *)(uintptr_t)l->text;
    size_t n;
    int ok;

    n = smtpc_base64_decode(p, l->text_len, (const char *)p, l->text_len, &ok);
    s->reply.text[0] = '\0';
    smtpc_e_text_append(s->reply.text, sizeof s->reply.text, (char *)p,
                        ok ? n : 0);
    s->flags |= F_AUTH_ERRTEXT;
    if (s->auth_mech == SMTPC_AUTH_XOAUTH2)
        smtpc_e_cmd_simple(s, "", R_AUTH, SMTPC_PHASE_AUTH);
    else
        smtpc_e_cmd_simple(s, "AQ==", R_AUTH, SMTPC_PHASE_AUTH);
}
#endif

void smtpc_e_auth_reply(smtpc_session *s, const smtpc_line *l)
{
    unsigned code = s->cur_code;
    const smtpc_config *cfg = s->cfg;
    /* A mail began behind AUTH (AUTH_BEHIND_OK). */
    int behind = SMTPC_WITH_PIPELINING && s->state == ST_MAIL;
    int status;

    /* RFC 4954 says 235; a few servers (Postfix's smtp-sink among them)
     * say 250.  Either way the server has accepted us. */
    if (code >= 200 && code < 300 && s->auth_step != STEP_CANCELLED) {
        s->flags |= F_AUTHED;
        if (behind)
            smtpc_e_mail_pump(s);
        else
            smtpc_e_enter_ready(s);
        return;
    }
    /* With a mail behind, anything but success ends the session: the
     * commands that follow were not meant for a challenge or another
     * mechanism, and the message is never sent. */
    if (code == 334 && s->auth_step != STEP_CANCELLED && !behind) {
        unsigned step = s->auth_step++;
        switch (s->auth_mech) {
        case SMTPC_AUTH_PLAIN:
            /* A server that ignores the initial response asks with an
             * empty 334: the credentials go again, as the response (RFC
             * 4954 4), as NetX Duo's client did.  Any other challenge is
             * cancelled below. */
            if (step == 0 && l->text_len == 0) {
                smtpc_cmd c;
                smtpc_e_cmd_begin(&c, s);
                credentials(&c, cfg, SMTPC_AUTH_PLAIN);
                if (smtpc_e_cmd_end(&c, R_AUTH) != SMTPC_OK)
                    smtpc_e_fail_session(s, SMTPC_ERR_BUFFER,
                                         SMTPC_PHASE_AUTH, 1);
                return;
            }
            break;
        case SMTPC_AUTH_LOGIN:
            if (step == 0) {
                send_response(s, NULL, cfg->username);
                return;
            }
            if (step == 1) {
                send_response(s, NULL, cfg->password);
                return;
            }
            break;
#if SMTPC_WITH_AUTH_CRAM_MD5
        case SMTPC_AUTH_CRAM_MD5:
            if (step == 0) {
                cram_md5_response(s, l);
                return;
            }
            break;
#endif
#if OAUTH_COMPILED
        case SMTPC_AUTH_XOAUTH2:
        case SMTPC_AUTH_OAUTHBEARER:
            if (step == 0) {
                oauth_error_challenge(s, l);
                return;
            }
            break;
#endif
        default:
            break;
        }
        s->auth_step = STEP_CANCELLED;
        smtpc_e_cmd_simple(s, "*", R_AUTH, SMTPC_PHASE_AUTH);
        return;
    }
    if (s->auth_step == STEP_CANCELLED) {
        smtpc_e_fail_session(s, SMTPC_ERR_PROTOCOL, SMTPC_PHASE_AUTH,
                             code != 421);
        return;
    }
    /* 504: the server does not know the mechanism after all.  Try the
     * next acceptable one, once. */
    if (code == 504 && !(s->st_flags & A_FALLBACK_USED) && !behind) {
        unsigned next = next_mech(s);
        if (next != 0) {
            s->st_flags |= A_FALLBACK_USED;
            send_auth(s, next);
            return;
        }
    }
    if (code >= 400 && code < 500)
        status = SMTPC_ERR_TEMPFAIL;
    else if (code == 504)
        status = SMTPC_ERR_AUTH_UNAVAILABLE;
    else if (code >= 500 && code < 600)
        status = SMTPC_ERR_AUTH;
    else
        status = SMTPC_ERR_PROTOCOL;
    smtpc_e_fail_session(s, status, SMTPC_PHASE_AUTH, code != 421);
}

