/*
 * cli/smtpc/serverinfo.c - smtpc --serverinfo: what a server offers.
 *
 * Connects as a mail would (TLS as configured), greets, and prints what
 * the server said and the TLS session, then QUITs without authenticating
 * or sending anything, as msmtp --serverinfo does.  One "name: value"
 * line each, so that a script can pick what it needs:
 *
 *     server: smtp.example.com port 587
 *     greeting: 220 smtp.example.com ESMTP
 *     tls: TLSv1.3 TLS_AES_256_GCM_SHA384
 *     certificate 0 subject: CN=smtp.example.com
 *     certificate 0 issuer: CN=R11,O=Let's Encrypt,C=US
 *     certificate 0 valid: 2026-10-01 00:00:00 UTC to 2026-12-30 23:59:59 UTC
 *     ehlo: smtp.example.com Hello
 *     extension: SIZE 52428800
 *     extension: AUTH PLAIN LOGIN
 *     size limit: 52428800
 *     auth: PLAIN LOGIN
 *
 * With -v the TLS parameters (key exchange, signature), each
 * certificate's key and SHA-256 fingerprint, and the dialogue too.  The
 * EHLO reply is taken from the trace callback, which sees every byte the
 * server sent: the engine keeps only what it can use.
 */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "cli.h"

#if CLI_HAVE_TLS
#include "smtpc/tls.h"
#endif

/* What the trace shows of the server's replies. */
typedef struct capture {
    cli_trace *chain;  /* -v: the usual trace, else NULL */
    int sent_any;      /* a command was sent: the greeting is over */
    int in_ehlo;       /* the last command sent was EHLO or HELO */
    char greeting[SMTPC_LINE_MAX + 1];
    size_t greeting_len;
    char ehlo[16384];  /* the last EHLO reply, lines as received */
    size_t ehlo_len;
} capture;

static void add(char *buf, size_t cap, size_t *len, const char *data,
                size_t n)
{
    if (n > cap - 1 - *len)
        n = cap - 1 - *len;
    memcpy(buf + *len, data, n);
    *len += n;
    buf[*len] = '\0';
}

static void capture_fn(void *ctx, int direction, const char *data, size_t len)
{
    capture *c = ctx;

    if (c->chain)
        cli_trace_fn(c->chain, direction, data, len);
    if (direction == SMTPC_TRACE_SENT) {
        /* A command is sent whole, from its verb on. */
        c->in_ehlo = len >= 4 && (strncasecmp(data, "EHLO", 4) == 0 ||
                                  strncasecmp(data, "HELO", 4) == 0);
        if (c->in_ehlo)
            c->ehlo_len = 0;
        c->sent_any = 1;
    } else if (direction == SMTPC_TRACE_RECEIVED) {
        if (!c->sent_any)
            add(c->greeting, sizeof c->greeting, &c->greeting_len, data, len);
        else if (c->in_ehlo)
            add(c->ehlo, sizeof c->ehlo, &c->ehlo_len, data, len);
    }
}

/* Prints "name: " and s without control bytes. */
static void field(const char *name, const char *s, size_t n)
{
    fputs(name, stdout);
    fputs(": ", stdout);
    for (size_t i = 0; i < n && s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        putchar(ch < 0x20 || ch == 0x7f ? '?' : ch);
    }
    putchar('\n');
}

/* The text of each line of a reply ("250-SIZE 100\r\n" gives "SIZE 100"):
 * the first line is the greeting's name, the others extensions. */
static void print_reply_lines(const char *reply, const char *first,
                              const char *rest)
{
    const char *auth = NULL;
    size_t auth_len = 0;
    int line = 0;

    for (const char *p = reply; *p;) {
        size_t n = strcspn(p, "\r\n");
        const char *text = n >= 4 ? p + 4 : p + n;
        size_t tn = n >= 4 ? n - 4 : 0;

        if (n > 0) {
            field(line == 0 || !rest ? first : rest, text, tn);
            if (line > 0 && tn >= 4 && strncasecmp(text, "AUTH", 4) == 0 &&
                (tn == 4 || text[4] == ' ' || text[4] == '=')) {
                auth = tn > 5 ? text + 5 : text + tn;
                auth_len = tn > 5 ? tn - 5 : 0;
            }
            line++;
        }
        p += n;
        p += strspn(p, "\r\n");
    }
    if (rest && auth)
        field("auth", auth, auth_len);
    else if (rest)
        field("auth", "none", 4);
}

#if CLI_HAVE_TLS
static void print_tls(const cli_run *r, int verbose)
{
    const char *info = r->tls ? smtpc_tls_info(r->tls) : "";
    smtpc_tls_cert cert;
    char name[64];

    field("tls", *info ? info : "none", SIZE_MAX);
    if (!*info)
        return;
    if (verbose && *smtpc_tls_params(r->tls))
        field("tls parameters", smtpc_tls_params(r->tls), SIZE_MAX);
    for (size_t i = 0; smtpc_tls_peer_cert(r->tls, i, &cert) == SMTPC_OK;
         i++) {
        snprintf(name, sizeof name, "certificate %zu subject", i);
        field(name, cert.subject, SIZE_MAX);
        snprintf(name, sizeof name, "certificate %zu issuer", i);
        field(name, cert.issuer, SIZE_MAX);
        printf("certificate %zu valid: %s to %s\n", i, cert.not_before,
               cert.not_after);
        if (verbose) {
            snprintf(name, sizeof name, "certificate %zu key", i);
            field(name, cert.key, SIZE_MAX);
            snprintf(name, sizeof name, "certificate %zu sha256", i);
            field(name, cert.sha256, SIZE_MAX);
        }
    }
}
#endif

int cli_serverinfo_run(cli_run *r)
{
    const smtpc_session *s;
    const smtpc_caps *caps;
    capture cap;
    cli_outcome oc;
    smtpc_result res;
    char detail[160];
    int st, rc;

    memset(&cap, 0, sizeof cap);
    cap.chain = r->opts.verbose ? &r->trace : NULL;
    r->ccfg.trace = capture_fn;
    r->ccfg.trace_ctx = &cap;
    /* Nothing is sent that a server could take as an attempt. */
    r->ccfg.session.auth = SMTPC_AUTH_NONE;
    r->ccfg.session.username = NULL;
    r->ccfg.session.password = NULL;
    r->ccfg.session.token = NULL;

    st = smtpc_client_init(r->client, &r->ccfg, r->transport, r->io,
                           CLI_IO_BUF);
    if (st == SMTPC_OK)
        st = smtpc_client_open(r->client);
    if (st != SMTPC_OK) {
        int phase = SMTPC_PHASE_NONE;
        (void)smtpc_client_error(r->client, &phase);
        (void)smtpc_client_close(r->client);
        if (cap.chain)
            cli_trace_finish(cap.chain);
        memset(&res, 0, sizeof res);
        res.status = st;
        res.phase = phase;
        res.reply = *smtpc_last_reply(smtpc_client_session(r->client));
        memset(&oc, 0, sizeof oc);
        oc.opts = &r->opts;
        oc.status = st;
        oc.exit_code = cli_exit_code(st, NULL, NULL);
        oc.res = &res;
        cli_outcome_session(&oc, r, st, detail, sizeof detail);
        cli_report_human(&oc, stderr);
        return oc.exit_code;
    }
    s = smtpc_client_session(r->client);
    caps = smtpc_session_caps(s);
    if (cap.chain)
        cli_trace_finish(cap.chain);
    printf("server: %s port %u\n", r->opts.host, (unsigned)r->opts.port);
    print_reply_lines(cap.greeting, "greeting", NULL);
#if CLI_HAVE_TLS
    print_tls(r, r->opts.verbose);
#else
    field("tls", "none", 4);
#endif
    if (caps->flags & SMTPC_CAP_ESMTP) {
        print_reply_lines(cap.ehlo, "ehlo", "extension");
        if ((caps->flags & SMTPC_CAP_SIZE) && caps->size_max)
            printf("size limit: %llu\n", (unsigned long long)caps->size_max);
        else if (caps->flags & SMTPC_CAP_SIZE)
            printf("size limit: none (SIZE 0)\n");
        else
            printf("size limit: none announced\n");
    } else {
        printf("ehlo: refused (HELO only: no extensions)\n");
    }
    rc = fflush(stdout) == 0 ? EX_OK : EX_IOERR;
    (void)smtpc_client_close(r->client);
    if (cap.chain)
        cli_trace_finish(cap.chain);
    return rc;
}
