/*
 * test_compat.c - the NetX Duo compatible API (include/nxd_smtp_client.h).
 *
 * Argument checks need no network.  Sessions run against a scripted SMTP
 * server that this test forks on 127.0.0.1 (an ephemeral port): it answers
 * each command from a per-connection script, records every byte the client
 * sent, and hands the record back through a pipe, so the test can check
 * the exact commands and message as well as the status the API returned.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compat/internal.h"
#include "nxd_smtp_client.h"
#include "unit.h"

/* Shows a transcript with CR and LF visible, for failure messages. */
static void dump(const char *label, const char *s)
{
    fprintf(stderr, "---- %s ----\n", label);
    for (; *s != '\0'; s++) {
        if (*s == '\r')
            fputs("\\r", stderr);
        else if (*s == '\n')
            fputs("\\n\n", stderr);
        else
            fputc(*s, stderr);
    }
    fputs("\n----\n", stderr);
}

/* Glob match: '*' stands for any run of bytes other than CR and LF. */
static int match(const char *pat, const char *s)
{
    if (*pat == '\0')
        return *s == '\0';
    if (*pat == '*') {
        for (;;) {
            if (match(pat + 1, s))
                return 1;
            if (*s == '\0' || *s == '\r' || *s == '\n')
                return 0;
            s++;
        }
    }
    return *pat == *s && match(pat + 1, s + 1);
}

/* The transcript s matches pat; on a mismatch both are shown. */
#define CHECK_MATCH(pat, s)                                                \
    do {                                                                   \
        int transcript_matches = match((pat), (s));                        \
        CHECK(transcript_matches);                                         \
        if (!transcript_matches) {                                         \
            dump("got", (s));                                              \
            dump("want", (pat));                                           \
        }                                                                  \
    } while (0)

/* ------------------------------------------------------------ the server */

#define AUTH_STEPS 4

/* What the server answers in one connection.  NULL fields take the
 * defaults in script_reply(). */
typedef struct script {
    const char *greeting;
    const char *ehlo, *helo;
    const char *auth[AUTH_STEPS]; /* to AUTH, then to each response line */
    const char *mail, *rcpt, *data, *dot, *rset;
    int trickle;       /* send every reply one byte at a time */
    int close_early;   /* close right after the greeting */
} script;

typedef struct server {
    pid_t pid;
    int pipe_rd;
    uint16_t port;
} server;

static int write_all(int fd, const char *p, size_t n, int trickle)
{
    while (n > 0) {
        ssize_t w = write(fd, p, trickle ? 1 : n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (trickle) {
            struct timespec ts = {0, 200000}; /* 0.2 ms: separate segments */
            nanosleep(&ts, NULL);
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int cmd_is(const char *line, const char *verb)
{
    return strncasecmp(line, verb, strlen(verb)) == 0;
}

/* Serves one connection; appends what the client sent to rec. */
static void serve_one(int fd, const script *sc, char *rec, size_t *rec_len,
                      size_t rec_cap)
{
    char line[2048];
    size_t ll = 0;
    int in_data = 0, auth_step = -1;

    write_all(fd, sc->greeting ? sc->greeting : "220 test ESMTP\r\n",
              strlen(sc->greeting ? sc->greeting : "220 test ESMTP\r\n"),
              sc->trickle);
    if (sc->close_early)
        return;
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        const char *reply = NULL;

        if (r <= 0)
            return;
        if (*rec_len + 1 < rec_cap)
            rec[(*rec_len)++] = ch;
        rec[*rec_len] = '\0';
        if (ll + 1 < sizeof line)
            line[ll++] = ch;
        if (ch != '\n')
            continue;
        line[ll] = '\0';
        ll = 0;
        if (in_data) {
            if (strcmp(line, ".\r\n") == 0) {
                in_data = 0;
                reply = sc->dot ? sc->dot : "250 2.0.0 queued as X1\r\n";
            } else {
                continue;
            }
        } else if (auth_step >= 0) {
            /* A response to a 334 challenge. */
            auth_step++;
            reply = auth_step < AUTH_STEPS && sc->auth[auth_step]
                        ? sc->auth[auth_step]
                        : "535 5.7.8 no\r\n";
        } else if (cmd_is(line, "EHLO")) {
            reply = sc->ehlo ? sc->ehlo
                             : "250-test\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n"
                               "250 HELP\r\n";
        } else if (cmd_is(line, "HELO")) {
            reply = sc->helo ? sc->helo : "250 test\r\n";
        } else if (cmd_is(line, "AUTH")) {
            auth_step = 0;
            reply = sc->auth[0] ? sc->auth[0] : "235 2.7.0 ok\r\n";
        } else if (cmd_is(line, "MAIL")) {
            reply = sc->mail ? sc->mail : "250 2.1.0 ok\r\n";
        } else if (cmd_is(line, "RCPT")) {
            reply = sc->rcpt ? sc->rcpt : "250 2.1.5 ok\r\n";
        } else if (cmd_is(line, "DATA")) {
            reply = sc->data ? sc->data : "354 go ahead\r\n";
            in_data = strncmp(reply, "354", 3) == 0;
        } else if (cmd_is(line, "RSET")) {
            reply = sc->rset ? sc->rset : "250 2.0.0 ok\r\n";
        } else if (cmd_is(line, "QUIT")) {
            write_all(fd, "221 2.0.0 bye\r\n", 15, sc->trickle);
            return;
        } else {
            reply = "500 5.5.1 unknown\r\n";
        }
        /* Leave the AUTH exchange on anything but 334. */
        if (auth_step >= 0 && strncmp(reply, "334", 3) != 0)
            auth_step = -1;
        write_all(fd, reply, strlen(reply), sc->trickle);
    }
}

/* Forks a server for n connections, one script each. */
static int server_start(server *sv, const script *scripts, int n)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int lfd, pfd[2], one = 1;

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0)
        return -1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 4) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &al) != 0 || pipe(pfd) != 0) {
        close(lfd);
        return -1;
    }
    sv->port = ntohs(a.sin_port);
    fflush(NULL);
    sv->pid = fork();
    if (sv->pid < 0)
        return -1;
    if (sv->pid == 0) {
        static char rec[256 * 1024];
        size_t rec_len = 0;
        int i;

        close(pfd[0]);
        alarm(20); /* never outlive a broken test */
        rec[0] = '\0';
        for (i = 0; i < n; i++) {
            int fd = accept(lfd, NULL, NULL);
            if (fd < 0)
                break;
            serve_one(fd, &scripts[i], rec, &rec_len, sizeof rec);
            /* Until the client closes: it must not see a reset. */
            {
                char sink[256];
                shutdown(fd, SHUT_WR);
                while (read(fd, sink, sizeof sink) > 0)
                    ;
            }
            close(fd);
        }
        write_all(pfd[1], rec, rec_len, 0);
        close(pfd[1]);
        _exit(0);
    }
    close(lfd);
    close(pfd[1]);
    sv->pipe_rd = pfd[0];
    return 0;
}

/* Waits for the server; *out gets what the client sent (NUL-ended). */
static void server_finish(server *sv, char *out, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    int st;

    while (n + 1 < cap && (r = read(sv->pipe_rd, out + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(sv->pipe_rd);
    waitpid(sv->pid, &st, 0);
}

/* ------------------------------------------------------------ helpers */

static NX_SMTP_CLIENT client;
static char transcript[256 * 1024];

static NXD_ADDRESS loopback4(void)
{
    NXD_ADDRESS a;

    memset(&a, 0, sizeof a);
    a.nxd_ip_version = NX_IP_VERSION_V4;
    a.nxd_ip_address.v4 = 0x7F000001ul; /* 127.0.0.1, host order */
    return a;
}

static UINT create_client(NX_SMTP_CLIENT *c, const char *user,
                          const char *pass, UINT auth, uint16_t port)
{
    NXD_ADDRESS a = loopback4();

    return nxd_smtp_client_create(c, NULL, NULL, (CHAR *)user, (CHAR *)pass,
                                  (CHAR *)"sender@example.com",
                                  (CHAR *)"example.com", auth, &a, port);
}

/* One mail through a fresh client against one scripted connection. */
static UINT run_one(const script *sc, const char *user, UINT auth,
                    const char *subject, const char *body, UINT prio)
{
    server sv;
    UINT st;

    if (server_start(&sv, sc, 1) != 0) {
        CHECK(!"server_start");
        return 0xFFFF;
    }
    st = create_client(&client, user, "secret", auth, sv.port);
    CHECK_EQ_HEX(st, NX_SUCCESS);
    st = nx_smtp_mail_send(&client, (CHAR *)"rcpt@example.org", prio,
                           (CHAR *)subject, (CHAR *)body, (UINT)strlen(body));
    server_finish(&sv, transcript, sizeof transcript);
    nx_smtp_client_delete(&client);
    return st;
}

/* The header block as smtpc writes it, Date and Message-ID as patterns. */
#define HEADERS(subject_line, prio)                                        \
    "To: rcpt@example.org\r\n"                                             \
    "From: sender@example.com\r\n" subject_line                            \
    "Date: *\r\n"                                                          \
    "Message-ID: <*.*.*@example.com>\r\n"                                  \
    "X-Priority: " prio "\r\n"                                             \
    "MIME-Version: 1.0\r\n"                                                \
    "Content-Type: text/plain; charset=\"utf-8\"\r\n"                      \
    "Content-Transfer-Encoding: 8bit\r\n"                                  \
    "\r\n"

/* A listening socket that never accepts: after a call that must send
 * nothing, no connection may be waiting on it. */
static int quiet_listener(uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    *port = ntohs(a.sin_port);
    return fd;
}

static int connection_waiting(int lfd)
{
    int fd = accept(lfd, NULL, NULL);

    if (fd >= 0) {
        close(fd);
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ tests */

static void test_create_checks(void)
{
    NXD_ADDRESS a = loopback4(), bad = loopback4();
    char user41[42], pass21[22];
    CHAR *from = (CHAR *)"sender@example.com", *dom = (CHAR *)"example.com";

    memset(user41, 'u', 41);
    user41[41] = '\0';
    memset(pass21, 'p', 21);
    pass21[21] = '\0';

    CHECK_EQ_HEX(nxd_smtp_client_create(NULL, NULL, NULL, "u", "p", from, dom,
                                    NX_SMTP_CLIENT_AUTH_PLAIN, &a, 25),
             NX_PTR_ERROR);
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, NULL, "p", from, dom,
                                    NX_SMTP_CLIENT_AUTH_PLAIN, &a, 25),
             NX_PTR_ERROR);
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "u", NULL, from, dom,
                                    NX_SMTP_CLIENT_AUTH_PLAIN, &a, 25),
             NX_PTR_ERROR);
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "u", "p", NULL, dom,
                                    NX_SMTP_CLIENT_AUTH_PLAIN, &a, 25),
             NX_PTR_ERROR);
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "u", "p", from, NULL,
                                    NX_SMTP_CLIENT_AUTH_PLAIN, &a, 25),
             NX_PTR_ERROR);
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "u", "p", from, dom,
                                    NX_SMTP_CLIENT_AUTH_PLAIN, NULL, 25),
             NX_PTR_ERROR);

    /* Lengths: 40 / 20 / 40 fit, one more does not. */
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, user41 + 1, pass21 + 1,
                                    from, dom, NX_SMTP_CLIENT_AUTH_PLAIN, &a, 25),
             NX_SUCCESS);
    CHECK_EQ_HEX(strlen(client.nx_smtp_username), 40);
    CHECK_EQ_HEX(strlen(client.nx_smtp_password), 20);
    CHECK_EQ_HEX(nx_smtp_client_delete(&client), NX_SUCCESS);
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, user41, "p", from, dom,
                                    NX_SMTP_CLIENT_AUTH_PLAIN, &a, 25),
             NX_SIZE_ERROR);
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "u", pass21, from, dom,
                                    NX_SMTP_CLIENT_AUTH_PLAIN, &a, 25),
             NX_SIZE_ERROR);
    memset(user41, 'd', 41);
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "u", "p", from,
                                    user41, NX_SMTP_CLIENT_AUTH_PLAIN, &a, 25),
             NX_SIZE_ERROR);
    /* A failed create leaves nothing usable (and no password behind). */
    CHECK_EQ_HEX(client.nx_smtp_client_id, 0);
    CHECK_EQ_HEX(client.nx_smtp_password[0], 0);

    bad.nxd_ip_version = 5;
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "u", "p", from, dom,
                                    NX_SMTP_CLIENT_AUTH_PLAIN, &bad, 25),
             NX_IP_ADDRESS_ERROR);
    bad.nxd_ip_version = NX_IP_VERSION_V4;
    bad.nxd_ip_address.v4 = 0;
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "u", "p", from, dom,
                                    NX_SMTP_CLIENT_AUTH_PLAIN, &bad, 25),
             NX_IP_ADDRESS_ERROR);
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "u", "p", from, dom,
                                    NX_SMTP_CLIENT_AUTH_PLAIN, &a, 70000),
             NX_SMTP_INVALID_PARAM);
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "u", "p",
                                    "a@b.c\r\nRCPT TO:<x@y.z>", dom,
                                    NX_SMTP_CLIENT_AUTH_PLAIN, &a, 25),
             NX_SMTP_INVALID_PARAM);
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "u", "p", from,
                                    "bad domain", NX_SMTP_CLIENT_AUTH_PLAIN, &a, 25),
             NX_SMTP_INVALID_PARAM);
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "u\r\nQUIT", "p", from,
                                    dom, NX_SMTP_CLIENT_AUTH_PLAIN, &a, 25),
             NX_SMTP_INVALID_PARAM);

    /* Unknown AUTH types become PLAIN, as in NetX Duo. */
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "u", "p", from, dom,
                                    77, &a, 25),
             NX_SUCCESS);
    CHECK_EQ_HEX(client.nx_smtp_client_authentication_type, NX_SMTP_CLIENT_AUTH_PLAIN);
    CHECK_EQ_HEX(client.nx_smtp_client_from_address == from, 1); /* by pointer */
    CHECK_EQ_HEX(nx_smtp_client_delete(&client), NX_SUCCESS);
    /* delete wipes the password */
    CHECK_EQ_HEX(client.nx_smtp_password[0], 0);
}

static void test_addresses(void)
{
    NXD_ADDRESS a;
    static const struct {
        ULONG v6[4];
        const char *text;
    } cases[] = {
        {{0, 0, 0, 1}, "::1"},
        {{0x20010db8ul, 0, 0, 1}, "2001:db8::1"},
        {{0x00010000ul, 0x00010000ul, 0, 1}, "1:0:1::1"},
        {{0x00010000ul, 0, 0x00010000ul, 0}, "1::1:0:0:0"},
        {{0x20010db8ul, 0x00000001ul, 0x00010001ul, 0x00010001ul},
         "2001:db8:0:1:1:1:1:1"},
        {{0xfe800000ul, 0, 0x02aabbfful, 0xfe00cafeul}, "fe80::2aa:bbff:fe00:cafe"},
        {{0, 0, 0x0000fffful, 0xc0000201ul}, "::ffff:c000:201"},
    };
    size_t i;

    memset(&a, 0, sizeof a);
    a.nxd_ip_version = NX_IP_VERSION_V4;
    a.nxd_ip_address.v4 = 0xC0000201ul;
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "", "", "a@b.c", "",
                                    NX_SMTP_CLIENT_AUTH_NONE, &a, 25),
             NX_SUCCESS);
    CHECK_EQ_STR(SMTPC_COMPAT(&client)->host, "192.0.2.1");
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        a.nxd_ip_version = NX_IP_VERSION_V6;
        memcpy(a.nxd_ip_address.v6, cases[i].v6, sizeof cases[i].v6);
        CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "", "", "a@b.c",
                                        "", NX_SMTP_CLIENT_AUTH_NONE, &a, 25),
                 NX_SUCCESS);
        CHECK_EQ_STR(SMTPC_COMPAT(&client)->host, cases[i].text);
    }
    memset(a.nxd_ip_address.v6, 0, sizeof a.nxd_ip_address.v6);
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, "", "", "a@b.c", "",
                                    NX_SMTP_CLIENT_AUTH_NONE, &a, 25),
             NX_IP_ADDRESS_ERROR);
}

static void test_send_checks(void)
{
    NX_SMTP_CLIENT never;
    uint16_t port = 0;
    int lfd = quiet_listener(&port);
    CHAR *body = (CHAR *)"hello\r\n";

    CHECK(lfd >= 0);
    memset(&never, 0, sizeof never);
    CHECK_EQ_HEX(nx_smtp_mail_send(&never, "r@x.y", 2, "s", body, 7),
             NX_SMTP_CLIENT_NOT_INTIALIZED);
    CHECK_EQ_HEX(NX_SMTP_CLIENT_NOT_INITIALIZED, NX_SMTP_CLIENT_NOT_INTIALIZED);
    CHECK_EQ_HEX(nx_smtp_client_delete(&never), NX_SMTP_CLIENT_NOT_INTIALIZED);
    CHECK_EQ_HEX(nx_smtp_client_delete(NULL), NX_PTR_ERROR);

    CHECK_EQ_HEX(create_client(&client, "user", "secret", NX_SMTP_CLIENT_AUTH_PLAIN,
                           port),
             NX_SUCCESS);
    CHECK_EQ_HEX(nx_smtp_mail_send(NULL, "r@x.y", 2, "s", body, 7), NX_PTR_ERROR);
    CHECK_EQ_HEX(nx_smtp_mail_send(&client, NULL, 2, "s", body, 7), NX_PTR_ERROR);
    CHECK_EQ_HEX(nx_smtp_mail_send(&client, "r@x.y", 2, NULL, body, 7), NX_PTR_ERROR);
    CHECK_EQ_HEX(nx_smtp_mail_send(&client, "r@x.y", 2, "s", NULL, 7), NX_PTR_ERROR);
    CHECK_EQ_HEX(nx_smtp_mail_send(&client, "r@x.y", 2, "s", body, 0),
             NX_SMTP_INVALID_PARAM);
    /* Header and command injection: refused before connecting. */
    CHECK_EQ_HEX(nx_smtp_mail_send(&client, "r@x.y", 2, "Hi\r\nBcc: victim@x.y",
                               body, 7),
             NX_SMTP_INVALID_PARAM);
    CHECK_EQ_HEX(nx_smtp_mail_send(&client, "r@x.y", 2, "Hi\nBcc: victim@x.y",
                               body, 7),
             NX_SMTP_INVALID_PARAM);
    CHECK_EQ_HEX(nx_smtp_mail_send(&client, "r@x.y>\r\nRCPT TO:<v@x.y", 2, "s",
                               body, 7),
             NX_SMTP_INVALID_PARAM);
    CHECK_EQ_HEX(nx_smtp_mail_send(&client, "", 2, "s", body, 7),
             NX_SMTP_INVALID_PARAM);
    {
        /* 990 bytes without white space: "Subject: " + it passes 998
         * and cannot be folded. */
        static char subj[991];
        memset(subj, 'x', 990);
        subj[990] = '\0';
        CHECK_EQ_HEX(nx_smtp_mail_send(&client, "r@x.y", 2, subj, body, 7),
                 NX_SMTP_INVALID_PARAM);
    }
    CHECK(!connection_waiting(lfd));

    CHECK_EQ_HEX(nx_smtp_client_delete(&client), NX_SUCCESS);
    CHECK_EQ_HEX(nx_smtp_mail_send(&client, "r@x.y", 2, "s", body, 7),
             NX_SMTP_CLIENT_NOT_INTIALIZED);
    CHECK_EQ_HEX(nx_smtp_client_delete(&client), NX_SMTP_CLIENT_NOT_INTIALIZED);
    CHECK_EQ_HEX(nx_smtp_client_tls_set(&client, NX_SMTP_CLIENT_TLS_STARTTLS, NULL,
                                    NULL),
             NX_SMTP_CLIENT_NOT_INTIALIZED);
    CHECK(!connection_waiting(lfd));
    close(lfd);
}

static void test_tls_set(void)
{
    CHECK_EQ_HEX(create_client(&client, "", "", NX_SMTP_CLIENT_AUTH_NONE, 25),
             NX_SUCCESS);
    CHECK_EQ_HEX(nx_smtp_client_tls_set(NULL, NX_SMTP_CLIENT_TLS_STARTTLS, NULL,
                                    NULL),
             NX_PTR_ERROR);
    CHECK_EQ_HEX(nx_smtp_client_tls_set(&client, 7, NULL, NULL),
             NX_SMTP_INVALID_PARAM);
    CHECK_EQ_HEX(nx_smtp_client_tls_set(&client, NX_SMTP_CLIENT_TLS_STARTTLS,
                                    "smtp.example.com\r\nX", NULL),
             NX_SMTP_INVALID_PARAM);
#if defined(SMTPC_HAVE_OPENSSL) || defined(SMTPC_HAVE_MBEDTLS)
    CHECK_EQ_HEX(nx_smtp_client_tls_set(&client, NX_SMTP_CLIENT_TLS_STARTTLS,
                                    "smtp.example.com", NULL),
             NX_SUCCESS);
#else
    CHECK_EQ_HEX(nx_smtp_client_tls_set(&client, NX_SMTP_CLIENT_TLS_STARTTLS,
                                    "smtp.example.com", NULL),
             NX_SMTP_TLS_NOT_SUPPORTED);
#endif
    CHECK_EQ_HEX(nx_smtp_client_tls_set(&client, NX_SMTP_CLIENT_TLS_NONE, NULL, NULL),
             NX_SUCCESS);
    nx_smtp_client_delete(&client);
}

static void test_date_format(void)
{
    char out[40];

    CHECK_EQ_HEX(smtpc_compat_date_format(0, out, sizeof out), 31);
    CHECK_EQ_STR(out, "Thu, 01 Jan 1970 00:00:00 +0000");
    smtpc_compat_date_format(951782400, out, sizeof out);
    CHECK_EQ_STR(out, "Tue, 29 Feb 2000 00:00:00 +0000");
    smtpc_compat_date_format(1700000000, out, sizeof out);
    CHECK_EQ_STR(out, "Tue, 14 Nov 2023 22:13:20 +0000");
    smtpc_compat_date_format(INT64_C(4102444799), out, sizeof out);
    CHECK_EQ_STR(out, "Thu, 31 Dec 2099 23:59:59 +0000");
    smtpc_compat_date_format(INT64_C(253402300799), out, sizeof out);
    CHECK_EQ_STR(out, "Fri, 31 Dec 9999 23:59:59 +0000");
    CHECK_EQ_HEX(smtpc_compat_date_format(INT64_C(253402300800), out, sizeof out), 0);
    CHECK_EQ_HEX(smtpc_compat_date_format(-1, out, sizeof out), 0);
    CHECK_EQ_HEX(smtpc_compat_date_format(0, out, 31), 0); /* no room for NUL */
}

static void test_status_table(void)
{
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_OK, SMTPC_PHASE_NONE), NX_SUCCESS);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_TIMEOUT, SMTPC_PHASE_CONNECT),
             NX_NOT_CONNECTED);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_TIMEOUT, SMTPC_PHASE_RCPT),
             NX_NO_PACKET);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_TIMEOUT, SMTPC_PHASE_MESSAGE),
             NX_NO_PACKET);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_CONNECT, SMTPC_PHASE_CONNECT),
             NX_NOT_CONNECTED);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_CLOSED, SMTPC_PHASE_MAIL),
             NX_NOT_CONNECTED);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_IO, SMTPC_PHASE_MESSAGE),
             NX_SMTP_TRANSMIT_ERROR);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_REJECTED, SMTPC_PHASE_GREETING),
             NX_SMTP_GREET_REPLY_ERROR);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_TEMPFAIL, SMTPC_PHASE_EHLO),
             NX_SMTP_HELLO_REPLY_ERROR);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_AUTH, SMTPC_PHASE_AUTH),
             NX_SMTP_AUTHENTICATION_ERROR);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_AUTH_UNAVAILABLE, SMTPC_PHASE_AUTH),
             NX_SMTP_AUTHENTICATION_ERROR);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_TEMPFAIL, SMTPC_PHASE_AUTH),
             NX_SMTP_AUTH_REPLY_ERROR);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_PROTOCOL, SMTPC_PHASE_AUTH),
             NX_SMTP_INVALID_SERVER_CHALLENGE);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_AUTH_INSECURE, SMTPC_PHASE_AUTH),
             NX_SMTP_AUTH_INSECURE);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_REJECTED, SMTPC_PHASE_MAIL),
             NX_SMTP_MAIL_REPLY_ERROR);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_NO_RECIPIENTS, SMTPC_PHASE_RCPT),
             NX_SMTP_RCPT_REPLY_ERROR);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_REJECTED, SMTPC_PHASE_DATA),
             NX_SMTP_DATA_REPLY_ERROR);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_REJECTED, SMTPC_PHASE_MESSAGE),
             NX_SMTP_MESSAGE_REPLY_ERROR);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_SIZE, SMTPC_PHASE_MAIL),
             NX_SMTP_OVERSIZE_MAIL_DATA);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_PROTOCOL, SMTPC_PHASE_DATA),
             NX_SMTP_INVALID_SERVER_REPLY);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_REPLY_TOO_LONG, SMTPC_PHASE_EHLO),
             NX_SMTP_OVERSIZE_SERVER_REPLY);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_TLS_UNAVAILABLE,
                                     SMTPC_PHASE_STARTTLS),
             NX_SMTP_TLS_UNAVAILABLE);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_REJECTED, SMTPC_PHASE_STARTTLS),
             NX_SMTP_TLS_UNAVAILABLE);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_TLS_CERT, SMTPC_PHASE_TLS),
             NX_SMTP_TLS_CERT_ERROR);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_TLS_INJECTION,
                                     SMTPC_PHASE_STARTTLS),
             NX_SMTP_TLS_ERROR);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_ARG, SMTPC_PHASE_NONE),
             NX_SMTP_INVALID_PARAM);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_REJECTED, SMTPC_PHASE_NONE),
             NX_SMTP_SERVER_ERROR_CODE_RECEIVED);
    /* Our own faults are never a phase's reply error. */
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_STATE, SMTPC_PHASE_MAIL),
             NX_SMTP_INTERNAL_ERROR);
    CHECK_EQ_HEX(smtpc_compat_status_map(SMTPC_ERR_BUFFER, SMTPC_PHASE_DATA),
             NX_SMTP_INTERNAL_ERROR);
}

/* A whole session: exact commands, exact message, dot-stuffing and line
 * ends of the body, AUTH PLAIN. */
static void test_session_plain(void)
{
    script sc;
    UINT st;

    memset(&sc, 0, sizeof sc);
    st = run_one(&sc, "user", NX_SMTP_CLIENT_AUTH_PLAIN, "Hello",
                 "a\n.\n..\n.x\rb\r\nlast", NX_SMTP_MAIL_PRIORITY_HIGH);
    CHECK_EQ_HEX(st, NX_SUCCESS);
    CHECK_MATCH("EHLO example.com\r\n"
                "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"
                "MAIL FROM:<sender@example.com>\r\n"
                "RCPT TO:<rcpt@example.org>\r\n"
                "DATA\r\n" HEADERS("Subject: Hello\r\n", "1")
                "a\r\n..\r\n...\r\n..x\r\nb\r\nlast\r\n"
                ".\r\n"
                "QUIT\r\n",
                transcript);
}

static void test_session_login_priority(void)
{
    script sc;
    UINT st;

    memset(&sc, 0, sizeof sc);
    sc.auth[0] = "334 VXNlcm5hbWU6\r\n";
    sc.auth[1] = "334 UGFzc3dvcmQ6\r\n";
    sc.auth[2] = "235 2.7.0 ok\r\n";
    /* No extension but AUTH: no BODY=, no SIZE=; a bare "250" line. */
    sc.ehlo = "250-test\r\n250 AUTH LOGIN\r\n";
    sc.mail = "250\r\n";
    sc.rcpt = "251 2.1.5 will forward\r\n";
    st = run_one(&sc, "user", NX_SMTP_CLIENT_AUTH_LOGIN, "Low", "body\r\n",
                 NX_SMTP_MAIL_PRIORITY_LOW);
    CHECK_EQ_HEX(st, NX_SUCCESS);
    CHECK_MATCH("EHLO example.com\r\n"
                "AUTH LOGIN\r\n"
                "dXNlcg==\r\n"
                "c2VjcmV0\r\n"
                "MAIL FROM:<sender@example.com>\r\n"
                "RCPT TO:<rcpt@example.org>\r\n"
                "DATA\r\n" HEADERS("Subject: Low\r\n", "5") "body\r\n.\r\n"
                "QUIT\r\n",
                transcript);

    /* Any other priority value is normal. */
    memset(&sc, 0, sizeof sc);
    st = run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "N", "x",
                 NX_SMTP_MAIL_PRIORITY_NORMAL);
    CHECK_EQ_HEX(st, NX_SUCCESS);
    CHECK(strstr(transcript, "X-Priority: 3\r\n") != NULL);
    st = run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "N", "x", 99);
    CHECK_EQ_HEX(st, NX_SUCCESS);
    CHECK(strstr(transcript, "X-Priority: 3\r\n") != NULL);
}

/* NetX Duo's documented rule: a server that lists no mechanism gets PLAIN
 * from a client configured for LOGIN. */
static void test_session_login_unlisted(void)
{
    script sc;

    memset(&sc, 0, sizeof sc);
    sc.ehlo = "250-test\r\n250 8BITMIME\r\n";
    CHECK_EQ_HEX(run_one(&sc, "user", NX_SMTP_CLIENT_AUTH_LOGIN, "s", "x\r\n",
                     NX_SMTP_MAIL_PRIORITY_NORMAL),
             NX_SUCCESS);
    CHECK(strstr(transcript, "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n") != NULL);
    CHECK(strstr(transcript, "AUTH LOGIN") == NULL);
}

/* NONE sends no credentials even when given some and AUTH is offered. */
static void test_session_none(void)
{
    script sc;

    memset(&sc, 0, sizeof sc);
    CHECK_EQ_HEX(run_one(&sc, "user", NX_SMTP_CLIENT_AUTH_NONE, "s", "x\r\n",
                     NX_SMTP_MAIL_PRIORITY_NORMAL),
             NX_SUCCESS);
    CHECK(strstr(transcript, "AUTH") == NULL);
    CHECK(strstr(transcript, "MAIL FROM:<sender@example.com>\r\n") != NULL);
}

/* Every reply sent one byte at a time, in separate segments: the
 * original skipped RCPT or sent EHLO early on split replies. */
static void test_session_trickle(void)
{
    script sc;

    memset(&sc, 0, sizeof sc);
    sc.trickle = 1;
    sc.ehlo = "250-test\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n"
              "250 AUTH PLAIN\r\n";
    CHECK_EQ_HEX(run_one(&sc, "user", NX_SMTP_CLIENT_AUTH_PLAIN, "s", "x\r\n",
                     NX_SMTP_MAIL_PRIORITY_NORMAL),
             NX_SUCCESS);
    CHECK_MATCH("EHLO example.com\r\n"
                "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"
                "MAIL FROM:<sender@example.com> SIZE=* BODY=8BITMIME\r\n"
                "RCPT TO:<rcpt@example.org>\r\n"
                "DATA\r\n" HEADERS("Subject: s\r\n", "3") "x\r\n.\r\n"
                "QUIT\r\n",
                transcript);
}

/* Subjects: folded at white space beyond 78 characters, encoded as RFC
 * 2047 words when not ASCII. */
static void test_subjects(void)
{
    script sc;
    char subj[400], want[1200];
    const char *p, *end;
    size_t i, n;

    memset(&sc, 0, sizeof sc);
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln",
                     "x\r\n", NX_SMTP_MAIL_PRIORITY_NORMAL),
             NX_SUCCESS);
    CHECK(strstr(transcript, "\r\nSubject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n") != NULL);

    /* "=?" in ASCII would read as an encoded word: encoded too. */
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "a =?b", "x\r\n",
                     NX_SMTP_MAIL_PRIORITY_NORMAL),
             NX_SUCCESS);
    CHECK(strstr(transcript, "\r\nSubject: =?UTF-8?B?YSA9P2I=?=\r\n") != NULL);

    /* 40 words of 6: folded, every line at most 78, unfolding gives it back. */
    n = 0;
    for (i = 0; i < 40; i++)
        n += (size_t)sprintf(subj + n, "%sword%02u", i ? " " : "", (unsigned)i);
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, subj, "x\r\n",
                     NX_SMTP_MAIL_PRIORITY_NORMAL),
             NX_SUCCESS);
    p = strstr(transcript, "\r\nSubject: ");
    CHECK(p != NULL);
    if (p != NULL) {
        size_t w = 0, lines = 0;
        p += 2;
        end = strstr(p, "\r\nDate: ");
        CHECK(end != NULL);
        while (end != NULL && p < end) {
            const char *eol = strstr(p, "\r\n");
            if (eol == NULL || eol > end)
                eol = end;
            CHECK((size_t)(eol - p) <= 78);
            lines++;
            memcpy(want + w, p, (size_t)(eol - p));
            w += (size_t)(eol - p);
            p = eol + (eol == end ? 0 : 2);
            CHECK(p == end || *p == ' '); /* continuation starts with WSP */
        }
        want[w] = '\0';
        CHECK(lines >= 4);
        CHECK(strncmp(want, "Subject: ", 9) == 0 && strcmp(want + 9, subj) == 0);
    }

    /* Long UTF-8: several words, each within 75, no character split. */
    n = 0;
    for (i = 0; i < 60; i++) {
        subj[n++] = (char)0xc3;
        subj[n++] = (char)0xa9;
    }
    subj[n] = '\0';
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, subj, "x\r\n",
                     NX_SMTP_MAIL_PRIORITY_NORMAL),
             NX_SUCCESS);
    /* 120 bytes in words of at most 45 bytes whose last character is whole:
     * 44 + 44 + 32 bytes ("w6nDqcOp..." repeats). */
    CHECK(strstr(transcript,
                 "\r\nSubject: =?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6k=?=\r\n"
                 " =?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6k=?=\r\n"
                 " =?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6k=?=\r\n"
                 "Date: ") != NULL);

    /* A long word fits a line up to 998: sent on one line. */
    memset(subj, 'y', 300);
    subj[300] = '\0';
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, subj, "x\r\n",
                     NX_SMTP_MAIL_PRIORITY_NORMAL),
             NX_SUCCESS);
    snprintf(want, sizeof want, "\r\nSubject: %s\r\nDate: ", subj);
    CHECK(strstr(transcript, want) != NULL);
}

/* Each Message-ID differs: same client, and another client. */
static void test_message_ids(void)
{
    script sc[3];
    server sv;
    NX_SMTP_CLIENT other;
    char ids[3][128];
    const char *p;
    int i, k = 0;

    memset(sc, 0, sizeof sc);
    if (server_start(&sv, sc, 3) != 0) {
        CHECK(!"server_start");
        return;
    }
    CHECK_EQ_HEX(create_client(&client, "", "", NX_SMTP_CLIENT_AUTH_NONE, sv.port),
             NX_SUCCESS);
    CHECK_EQ_HEX(create_client(&other, "", "", NX_SMTP_CLIENT_AUTH_NONE, sv.port),
             NX_SUCCESS);
    CHECK_EQ_HEX(nx_smtp_mail_send(&client, "r@x.y", 2, "1", "x", 1), NX_SUCCESS);
    CHECK_EQ_HEX(nx_smtp_mail_send(&client, "r@x.y", 2, "2", "x", 1), NX_SUCCESS);
    CHECK_EQ_HEX(nx_smtp_mail_send(&other, "r@x.y", 2, "3", "x", 1), NX_SUCCESS);
    server_finish(&sv, transcript, sizeof transcript);
    for (p = transcript; (p = strstr(p, "Message-ID: <")) != NULL && k < 3; k++) {
        const char *e = strstr(p, ">\r\n");
        size_t n = e ? (size_t)(e - p) : 0;
        if (n >= sizeof ids[0])
            n = sizeof ids[0] - 1;
        memcpy(ids[k], p, n);
        ids[k][n] = '\0';
        CHECK(match("Message-ID: <*.*.*@example.com", ids[k]));
        p += 13;
    }
    CHECK_EQ_HEX(k, 3);
    for (i = 0; i < k; i++) {
        int j;
        for (j = i + 1; j < k; j++)
            CHECK(strcmp(ids[i], ids[j]) != 0);
    }
    nx_smtp_client_delete(&client);
    nx_smtp_client_delete(&other);
}

/* Each refusal and failure gives its NetX status. */
static void test_status_mapping(void)
{
    script sc;
    char longline[700];

    memset(&sc, 0, sizeof sc);
    sc.greeting = "554 5.3.2 go away\r\n";
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "s", "x", 2),
             NX_SMTP_GREET_REPLY_ERROR);

    memset(&sc, 0, sizeof sc);
    sc.ehlo = "500 5.5.1 what\r\n";
    sc.helo = "501 5.5.2 no\r\n";
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "s", "x", 2),
             NX_SMTP_HELLO_REPLY_ERROR);
    CHECK(strncmp(transcript, "EHLO example.com\r\nHELO example.com\r\n", 36) == 0);

    /* EHLO refused, HELO accepted: HELO fallback (documented, never done
     * by the original). */
    memset(&sc, 0, sizeof sc);
    sc.ehlo = "502 5.5.1 no EHLO\r\n";
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "s", "x", 2), NX_SUCCESS);

    memset(&sc, 0, sizeof sc);
    sc.auth[0] = "535 5.7.8 bad credentials\r\n";
    CHECK_EQ_HEX(run_one(&sc, "user", NX_SMTP_CLIENT_AUTH_PLAIN, "s", "x", 2),
             NX_SMTP_AUTHENTICATION_ERROR);
    CHECK(strstr(transcript, "MAIL") == NULL);

    memset(&sc, 0, sizeof sc);
    sc.auth[0] = "454 4.7.0 try later\r\n";
    CHECK_EQ_HEX(run_one(&sc, "user", NX_SMTP_CLIENT_AUTH_PLAIN, "s", "x", 2),
             NX_SMTP_AUTH_REPLY_ERROR);

    memset(&sc, 0, sizeof sc);
    sc.auth[0] = "334 not-base64!\r\n";
    CHECK_EQ_HEX(run_one(&sc, "user", NX_SMTP_CLIENT_AUTH_CRAM_MD5, "s", "x", 2),
             NX_SMTP_INVALID_SERVER_CHALLENGE);
    CHECK(strstr(transcript, "AUTH CRAM-MD5\r\n*\r\n") != NULL);

    memset(&sc, 0, sizeof sc);
    sc.mail = "451 4.3.0 later\r\n";
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "s", "x", 2),
             NX_SMTP_MAIL_REPLY_ERROR);

    memset(&sc, 0, sizeof sc);
    sc.rcpt = "550 5.1.1 no such user\r\n";
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "s", "x", 2),
             NX_SMTP_RCPT_REPLY_ERROR);
    CHECK(strstr(transcript, "DATA") == NULL);
    CHECK(strstr(transcript, "QUIT\r\n") != NULL); /* ended in order */

    memset(&sc, 0, sizeof sc);
    sc.data = "554 5.5.1 no data\r\n";
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "s", "x", 2),
             NX_SMTP_DATA_REPLY_ERROR);

    memset(&sc, 0, sizeof sc);
    sc.data = "250 ok?\r\n"; /* not 354 */
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "s", "x", 2),
             NX_SMTP_INVALID_SERVER_REPLY);

    memset(&sc, 0, sizeof sc);
    sc.dot = "552 5.3.4 too big\r\n";
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "s", "x", 2),
             NX_SMTP_MESSAGE_REPLY_ERROR);

    memset(&sc, 0, sizeof sc);
    sc.greeting = "hello there\r\n";
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "s", "x", 2),
             NX_SMTP_INVALID_SERVER_REPLY);

    memset(&sc, 0, sizeof sc);
    memset(longline, 'z', sizeof longline);
    memcpy(longline, "220 ", 4);
    memcpy(longline + sizeof longline - 3, "\r\n", 3);
    sc.greeting = longline;
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "s", "x", 2),
             NX_SMTP_OVERSIZE_SERVER_REPLY);

    /* Reply codes of more than three digits: an error, not a crash. */
    memset(&sc, 0, sizeof sc);
    sc.ehlo = "2500-test\r\n2500 ok\r\n";
    {
        UINT st = run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "s", "x", 2);
        CHECK(st == NX_SMTP_INVALID_SERVER_REPLY);
    }

    memset(&sc, 0, sizeof sc);
    sc.close_early = 1;
    CHECK_EQ_HEX(run_one(&sc, "", NX_SMTP_CLIENT_AUTH_NONE, "s", "x", 2),
             NX_NOT_CONNECTED);

    /* Nothing listens: the port of a socket that is bound, not listening. */
    {
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &al) == 0) {
            CHECK_EQ_HEX(create_client(&client, "", "", NX_SMTP_CLIENT_AUTH_NONE,
                                   ntohs(a.sin_port)),
                     NX_SUCCESS);
            CHECK_EQ_HEX(nx_smtp_mail_send(&client, "r@x.y", 2, "s", "x", 1),
                     NX_NOT_CONNECTED);
            CHECK_EQ_HEX(client.nx_smtp_client_mail_status, NX_NOT_CONNECTED);
            nx_smtp_client_delete(&client);
        }
        if (fd >= 0)
            close(fd);
    }
}

/* One client, three mails: refused, accepted, accepted; the client is
 * reusable after a failure and keeps its state per mail. */
static void test_reuse(void)
{
    script sc[3];
    server sv;

    memset(sc, 0, sizeof sc);
    sc[0].rcpt = "550 5.1.1 no such user\r\n";
    sc[2].trickle = 1;
    if (server_start(&sv, sc, 3) != 0) {
        CHECK(!"server_start");
        return;
    }
    CHECK_EQ_HEX(create_client(&client, "user", "secret", NX_SMTP_CLIENT_AUTH_PLAIN,
                           sv.port),
             NX_SUCCESS);
    CHECK_EQ_HEX(nx_smtp_mail_send(&client, "r@x.y", 2, "one", "1", 1),
             NX_SMTP_RCPT_REPLY_ERROR);
    CHECK_EQ_HEX(client.nx_smtp_client_reply_code_status, 550);
    CHECK_EQ_HEX(nx_smtp_mail_send(&client, "r@x.y", 2, "two", "2", 1), NX_SUCCESS);
    CHECK_EQ_HEX(client.nx_smtp_client_reply_code_status, 250);
    CHECK_EQ_HEX(nx_smtp_mail_send(&client, "r@x.y", 2, "three", "3", 1),
             NX_SUCCESS);
    server_finish(&sv, transcript, sizeof transcript);
    /* Three sessions, each opened with EHLO and AUTH. */
    {
        const char *p = transcript;
        int n = 0;
        while ((p = strstr(p, "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n")) != NULL) {
            n++;
            p++;
        }
        CHECK_EQ_HEX(n, 3);
    }
    CHECK(strstr(transcript, "Subject: two\r\n") != NULL);
    CHECK(strstr(transcript, "Subject: three\r\n") != NULL);
    CHECK(strstr(transcript, "Subject: one\r\n") == NULL);
    nx_smtp_client_delete(&client);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_create_checks();
    test_addresses();
    test_send_checks();
    test_tls_set();
    test_date_format();
    test_status_table();
    test_session_plain();
    test_session_login_priority();
    test_session_none();
    test_session_login_unlisted();
    test_session_trickle();
    test_subjects();
    test_message_ids();
    test_status_mapping();
    test_reuse();
    printf("test_compat: ");
    return unit_done();
}
