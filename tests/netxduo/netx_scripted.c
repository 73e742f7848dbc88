/*
 * netx_scripted.c - the NetX Duo compatible API over NetX Duo's own TCP
 * stack (ports/netxduo), against scripted servers: threads on a second
 * NX_IP of the RAM network that say exactly what a case tells them, split
 * where it says, close or stall where it says, and check byte for byte
 * what the client sent.  Built with short NX_SMTP_* timeouts
 * (tests/netxduo/nx_user.h, SMTPC_TEST_SHORT_TIMEOUTS).
 *
 * Also checked for every case: the status nx_smtp_mail_send returns, and
 * that every packet of the client's pool and of both IP pools is back
 * afterwards.  Then: a pool of two packets (enough, and none at all), a
 * long body in pipelined BDAT chunks to a server that sends each chunk's
 * reply before it reads on, many mails on one client, two clients in two
 * threads at once.
 *
 * Exit status 0 when every check passed; the failures are printed.
 */
#include "netx_support.h"
#include "nxd_smtp_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- scripts ---- */

enum { END = 0, SEND, SPLIT, EXPECT, MESSAGE, BDAT, CLOSE, STALL, DEAF };

typedef struct step {
    int op;
    const char *text; /* SEND/SPLIT: what to send; EXPECT: what must come;
                         MESSAGE: the body as it must arrive (stuffed);
                         BDAT: the body as it must arrive (CRLF) */
    unsigned n;       /* SPLIT: bytes a packet */
} step;

#define GREET {SEND, "220 mx.test ESMTP\r\n", 0}
#define EHLO_PLAIN {EXPECT, "EHLO example.com\r\n", 0}, \
                   {SEND, "250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n", 0}
#define MAIL {EXPECT, "MAIL FROM:<sender@example.com>\r\n", 0}
#define RCPT {EXPECT, "RCPT TO:<rcpt@example.net>\r\n", 0}
#define DATA {EXPECT, "DATA\r\n", 0}
#define OK {SEND, "250 ok\r\n", 0}
#define QUIT {EXPECT, "QUIT\r\n", 0}, {SEND, "221 bye\r\n", 0}
/* A mail refused in its envelope: the transaction is reset, then QUIT. */
#define RSET_QUIT {EXPECT, "RSET\r\n", 0}, OK, QUIT

/* The body every case sends, and how it must arrive: CRLF everywhere,
 * dot-stuffed, one CRLF at the end. */
static const char BODY[] = ".\r\n..\r\n.x\nbare LF\rbare CR\r\nlast";
#define BODY_WIRE "..\r\n...\r\n..x\r\nbare LF\r\nbare CR\r\nlast\r\n"

#define MSG {MESSAGE, BODY_WIRE, 0}

/* The long body's size (big, below). */
#define BIG_LEN 24000
#define THE_MAIL MAIL, OK, RCPT, OK, DATA, {SEND, "354 go\r\n", 0}, MSG

/* One scripted server: a listening socket on netx_server_ip and the
 * thread that runs a script on the connection it accepts. */
typedef struct server {
    UINT port;
    const step *script;
    NX_TCP_SOCKET sock;
    TX_THREAD thread;
    TX_SEMAPHORE done;
    void *stack;
    char got[65536];   /* everything the client sent */
    ULONG got_len, pos;
    int failed;        /* the client sent something else */
    char why[200];
} server;

static int failures;

#define FAIL(...)                          \
    do {                                   \
        netx_log("FAIL: " __VA_ARGS__);    \
        failures++;                        \
    } while (0)

static void srv_fail(server *s, const char *why)
{
    if (!s->failed) {
        s->failed = 1;
        snprintf(s->why, sizeof s->why, "%s (at byte %lu)", why,
                 (unsigned long)s->pos);
    }
}

static UINT srv_send(server *s, const char *p, ULONG n)
{
    NX_PACKET *pk;
    UINT st = nx_packet_allocate(&netx_server_ip_pool, &pk, NX_TCP_PACKET,
                                 NX_IP_PERIODIC_RATE);
    if (st != NX_SUCCESS)
        return st;
    st = nx_packet_data_append(pk, (VOID *)(uintptr_t)p, n,
                               &netx_server_ip_pool, NX_IP_PERIODIC_RATE);
    if (st == NX_SUCCESS)
        st = nx_tcp_socket_send(&s->sock, pk, NX_IP_PERIODIC_RATE);
    if (st != NX_SUCCESS)
        nx_packet_release(pk);
    return st;
}

/* Receives more of what the client sends: NX_SUCCESS, or the status that
 * ended the wait (NX_NOT_CONNECTED: the client closed). */
static UINT srv_more(server *s, ULONG wait)
{
    NX_PACKET *pk;
    ULONG n = 0;
    UINT st = nx_tcp_socket_receive(&s->sock, &pk, wait);

    if (st != NX_SUCCESS)
        return st;
    if (pk->nx_packet_length > sizeof s->got - s->got_len) {
        nx_packet_release(pk);
        srv_fail(s, "client sent too much");
        return NX_OVERFLOW;
    }
    nx_packet_data_extract_offset(pk, 0, s->got + s->got_len,
                                  sizeof s->got - s->got_len, &n);
    s->got_len += n;
    nx_packet_release(pk);
    return NX_SUCCESS;
}

/* Waits for n more bytes of the client's (5 s at most). */
static int srv_need(server *s, ULONG n)
{
    while (s->got_len < s->pos + n)
        if (srv_more(s, 5 * NX_IP_PERIODIC_RATE) != NX_SUCCESS)
            return 0;
    return 1;
}

/* Reads until what the client sent from pos on holds mark (each wait 5 s
 * at most): where mark starts, or NULL. */
static char *srv_find(server *s, const char *mark)
{
    for (;;) {
        char *at;
        s->got[s->got_len < sizeof s->got ? s->got_len : sizeof s->got - 1] = 0;
        at = strstr(s->got + s->pos, mark);
        if (at != NULL)
            return at;
        if (srv_more(s, 5 * NX_IP_PERIODIC_RATE) != NX_SUCCESS)
            return NULL;
    }
}

/* Whether p[0..len) is the message smtpc writes for body: its header
 * block (no Date: ThreadX has no calendar), then body exactly.  p[len]
 * must be readable and p NUL-terminated somewhere at or after it. */
static int message_ok(const char *p, ULONG len, const char *body)
{
    static const char head1[] = "To: rcpt@example.net\r\n"
                                "From: sender@example.com\r\n"
                                "Subject: scripted\r\n"
                                "Message-ID: <";
    static const char head2[] = "@example.com>\r\n"
                                "X-Priority: 3\r\n"
                                "MIME-Version: 1.0\r\n"
                                "Content-Type: text/plain; charset=\"utf-8\"\r\n"
                                "Content-Transfer-Encoding: 8bit\r\n"
                                "\r\n";
    const char *at = strstr(p, head2), *text;

    if (strncmp(p, head1, sizeof head1 - 1) != 0 || at == NULL ||
        at - p > (long)(sizeof head1 - 1 + 40))
        return 0;
    text = at + sizeof head2 - 1;
    return text <= p + len && strlen(body) == (size_t)(p + len - text) &&
           memcmp(text, body, strlen(body)) == 0;
}

/* The message between DATA's 354 and the final dot: smtpc's header block
 * and body (dot-stuffed), then ".\r\n". */
static void srv_message(server *s, const char *body)
{
    const char *end = srv_find(s, "\r\n.\r\n"), *p;
    ULONG len;

    if (end == NULL) {
        srv_fail(s, "message not ended");
        return;
    }
    p = s->got + s->pos;
    len = (ULONG)(end + 5 - p);
    if (!message_ok(p, len - 3, body) || memcmp(p + len - 3, ".\r\n", 3) != 0)
        srv_fail(s, "message differs");
    s->pos += len;
}

/* The message in BDAT chunks (RFC 3030), each answered as soon as it is
 * in, up to the one marked LAST; then smtpc's header block and body must
 * be what the chunks carried.  Each reply is long and goes out before the
 * server reads on, waiting for the client's window (nx_tcp_socket_send
 * with a wait, as a NetX Duo server sends): a client that took no reply
 * while its send area was full of body would fill its 1460-byte window
 * with replies within a few chunks, and the two would block each in its
 * own send.  The engine once did so (docs/PORTING.md); a server on a
 * host's TCP stack never shows it, since the kernel buffers its replies. */
static void srv_bdat(server *s, const char *body)
{
    static const char reply[] =
        "250 2.0.0 chunk accepted: a reply long enough that a handful of "
        "them fill the client's 1460-byte TCP window when the client does "
        "not read them while it is sending the next chunks of the body\r\n";
    static char msg[BIG_LEN + 1024]; /* one BDAT case at a time */
    ULONG msg_len = 0;
    int last = 0;

    while (!last && !s->failed) {
        char line[40], *eol;
        unsigned long n;
        int used = 0;

        /* The command: "BDAT <size>" or "BDAT <size> LAST". */
        eol = srv_find(s, "\r\n");
        if (eol == NULL) {
            srv_fail(s, "no BDAT command");
            return;
        }
        if ((size_t)(eol - (s->got + s->pos)) >= sizeof line) {
            srv_fail(s, "BDAT command too long");
            return;
        }
        memcpy(line, s->got + s->pos, (size_t)(eol - (s->got + s->pos)));
        line[eol - (s->got + s->pos)] = 0;
        if (sscanf(line, "BDAT %lu%n", &n, &used) != 1 ||
            (line[used] != 0 && strcmp(line + used, " LAST") != 0)) {
            srv_fail(s, "not a BDAT command");
            return;
        }
        last = line[used] != 0;
        s->pos = (ULONG)(eol + 2 - s->got);
        if (n > sizeof msg - 1 - msg_len) {
            srv_fail(s, "BDAT chunks larger than the body");
            return;
        }
        if (!srv_need(s, (ULONG)n)) {
            srv_fail(s, "BDAT chunk cut short");
            return;
        }
        memcpy(msg + msg_len, s->got + s->pos, n);
        msg_len += (ULONG)n;
        s->pos += (ULONG)n;
        /* What was read is done with: room for the next chunks. */
        memmove(s->got, s->got + s->pos, s->got_len - s->pos);
        s->got_len -= s->pos;
        s->pos = 0;
        if (srv_send(s, reply, (ULONG)(sizeof reply - 1)) != NX_SUCCESS) {
            srv_fail(s, "server could not send a BDAT reply");
            return;
        }
    }
    msg[msg_len] = 0;
    if (!s->failed && !message_ok(msg, msg_len, body))
        srv_fail(s, "BDAT message differs");
}

static void srv_run(server *s)
{
    const step *st;

    for (st = s->script; st->op != END && !s->failed; st++) {
        size_t n = st->text != NULL ? strlen(st->text) : 0;
        size_t i;
        switch (st->op) {
        case SEND:
            if (srv_send(s, st->text, (ULONG)n) != NX_SUCCESS)
                srv_fail(s, "server could not send");
            break;
        case SPLIT:
            for (i = 0; i < n; i += st->n) {
                ULONG k = (ULONG)(n - i < st->n ? n - i : st->n);
                if (srv_send(s, st->text + i, k) != NX_SUCCESS)
                    srv_fail(s, "server could not send");
                tx_thread_sleep(1); /* each piece its own segment */
            }
            break;
        case EXPECT:
            if (!srv_need(s, (ULONG)n) || memcmp(s->got + s->pos, st->text, n) != 0) {
                srv_fail(s, "expected another command");
                snprintf(s->why + strlen(s->why), sizeof s->why - strlen(s->why),
                         ": wanted %.*s, got %.*s", (int)(n > 2 ? n - 2 : n), st->text,
                         (int)(s->got_len - s->pos > 40 ? 40 : s->got_len - s->pos),
                         s->got + s->pos);
            }
            s->pos += (ULONG)n;
            break;
        case MESSAGE:
            srv_message(s, st->text);
            break;
        case BDAT:
            srv_bdat(s, st->text);
            break;
        case CLOSE:
            nx_tcp_socket_disconnect(&s->sock, NX_IP_PERIODIC_RATE);
            return;
        case DEAF:
            /* Neither read nor answer for 3 s: the window fills and the
             * client's sends must time out; then read what is left. */
            tx_thread_sleep(3 * NX_IP_PERIODIC_RATE);
            while (srv_more(s, NX_IP_PERIODIC_RATE) == NX_SUCCESS)
                ;
            return;
        case STALL:
            /* Say nothing; read until the client gives up and closes. */
            while (srv_more(s, 10 * NX_IP_PERIODIC_RATE) == NX_SUCCESS)
                ;
            return;
        default:
            break;
        }
    }
    /* After the script: nothing more may come, only the close. */
    while (!s->failed && srv_more(s, 5 * NX_IP_PERIODIC_RATE) == NX_SUCCESS)
        ;
    if (s->got_len != s->pos)
        srv_fail(s, "client sent more than the script expected");
}

static void srv_entry(ULONG arg)
{
    server *s = (server *)(uintptr_t)arg;
    UINT st = nx_tcp_server_socket_accept(&s->sock, 5 * NX_IP_PERIODIC_RATE);

    if (st == NX_SUCCESS)
        srv_run(s);
    else if (s->script != NULL && s->script[0].op != END)
        srv_fail(s, "no connection came");
    nx_tcp_socket_disconnect(&s->sock, NX_IP_PERIODIC_RATE);
    nx_tcp_server_socket_unaccept(&s->sock);
    tx_semaphore_put(&s->done);
}

/* Starts a server on port with script (NULL: nothing listens). */
static void srv_start(server *s, UINT port, const step *script)
{
    UINT st;

    memset(s->got, 0, sizeof s->got);
    s->got_len = s->pos = 0;
    s->failed = 0;
    s->why[0] = 0;
    s->port = port;
    s->script = script;
    if (script == NULL)
        return;
    st = nx_tcp_socket_create(&netx_server_ip, &s->sock, "server", NX_IP_NORMAL,
                              NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 8192,
                              NX_NULL, NX_NULL);
    if (st == NX_SUCCESS)
        st = nx_tcp_server_socket_listen(&netx_server_ip, port, &s->sock, 5, NX_NULL);
    if (st != NX_SUCCESS) {
        FAIL("listen on %u: 0x%x\n", port, st);
        exit(2);
    }
    tx_semaphore_create(&s->done, "done", 0);
    if (s->stack == NULL)
        s->stack = netx_alloc(16384);
    tx_thread_create(&s->thread, "server", srv_entry, (ULONG)(uintptr_t)s,
                     s->stack, 16384, 10, 10, TX_NO_TIME_SLICE, TX_AUTO_START);
}

/* Waits for the server thread and removes it and its socket. */
static void srv_finish(server *s)
{
    if (s->script == NULL)
        return;
    tx_semaphore_get(&s->done, TX_WAIT_FOREVER);
    tx_thread_terminate(&s->thread);
    tx_thread_delete(&s->thread);
    tx_semaphore_delete(&s->done);
    nx_tcp_server_socket_unlisten(&netx_server_ip, s->port);
    nx_tcp_socket_delete(&s->sock);
}

/* ---- the cases ---- */

typedef struct scase {
    const char *name;
    UINT auth;
    UINT want; /* nx_smtp_mail_send's status */
    const step *script; /* NULL: no server listens */
} scase;

static const step s_none[] = {
    GREET, {EXPECT, "EHLO example.com\r\n", 0},
    {SEND, "250-mx.test\r\n250 8BITMIME\r\n", 0},
    {EXPECT, "MAIL FROM:<sender@example.com> BODY=8BITMIME\r\n", 0}, OK,
    RCPT, OK, DATA, {SEND, "354 go\r\n", 0}, MSG, OK, QUIT, {END, 0, 0}};
/* The greeting and the EHLO reply in pieces: the greeting split inside
 * its line, the EHLO reply over five packets, cut inside lines and
 * between CR and LF. */
static const step s_split[] = {
    {SPLIT, "220 mx.test ESMTP\r\n", 3},
    {EXPECT, "EHLO example.com\r\n", 0},
    {SPLIT, "250-mx.test says hi\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 AUTH PLAIN\r\n", 15},
    {EXPECT, "AUTH PLAIN AG5ldHgAc2VjcmV0\r\n", 0},
    {SPLIT, "235 2.7.0 ok\r\n", 4},
    /* PIPELINING: MAIL, RCPT and DATA in one go; their replies cut
     * inside lines and between CR and LF. */
    {EXPECT, "MAIL FROM:<sender@example.com> BODY=8BITMIME\r\n"
             "RCPT TO:<rcpt@example.net>\r\nDATA\r\n", 0},
    {SPLIT, "250 ok\r\n250 ok\r\n354 go\r\n", 7}, MSG,
    {SPLIT, "250 ok\r\n", 7}, QUIT, {END, 0, 0}};
static const step s_plain[] = {
    GREET, EHLO_PLAIN, {EXPECT, "AUTH PLAIN AG5ldHgAc2VjcmV0\r\n", 0},
    {SEND, "235 ok\r\n", 0}, THE_MAIL, OK, QUIT, {END, 0, 0}};
/* A server that wants the credentials after an empty challenge. */
static const step s_plain_empty[] = {
    GREET, EHLO_PLAIN, {EXPECT, "AUTH PLAIN AG5ldHgAc2VjcmV0\r\n", 0},
    {SEND, "334 \r\n", 0}, {EXPECT, "AG5ldHgAc2VjcmV0\r\n", 0},
    {SEND, "235 ok\r\n", 0}, THE_MAIL, OK, QUIT, {END, 0, 0}};
static const step s_login[] = {
    GREET, EHLO_PLAIN, {EXPECT, "AUTH LOGIN\r\n", 0},
    {SEND, "334 VXNlcm5hbWU6\r\n", 0}, {EXPECT, "bmV0eA==\r\n", 0},
    {SEND, "334 UGFzc3dvcmQ6\r\n", 0}, {EXPECT, "c2VjcmV0\r\n", 0},
    {SEND, "235 ok\r\n", 0}, THE_MAIL, OK, QUIT, {END, 0, 0}};
static const step s_pipelined[] = {
    GREET, {EXPECT, "EHLO example.com\r\n", 0},
    {SEND, "250-mx.test\r\n250 PIPELINING\r\n", 0},
    {EXPECT, "MAIL FROM:<sender@example.com>\r\nRCPT TO:<rcpt@example.net>\r\nDATA\r\n", 0},
    {SEND, "250 ok\r\n250 ok\r\n354 go\r\n", 0}, MSG,
    {SEND, "250 queued\r\n", 0}, QUIT, {END, 0, 0}};

/* Refusals, one a step. */
static const step r_greet[] = {{SEND, "554 go away\r\n", 0}, QUIT, {END, 0, 0}};
static const step r_ehlo[] = {
    GREET, {EXPECT, "EHLO example.com\r\n", 0}, {SEND, "502 5.5.1 unknown\r\n", 0},
    {EXPECT, "HELO example.com\r\n", 0}, {SEND, "550 no\r\n", 0}, QUIT, {END, 0, 0}};
static const step r_auth[] = {
    GREET, EHLO_PLAIN, {EXPECT, "AUTH PLAIN AG5ldHgAc2VjcmV0\r\n", 0},
    {SEND, "535 5.7.8 bad\r\n", 0}, QUIT, {END, 0, 0}};
static const step r_mail[] = {
    GREET, EHLO_PLAIN, MAIL, {SEND, "550 no\r\n", 0}, RSET_QUIT, {END, 0, 0}};
static const step r_rcpt[] = {
    GREET, EHLO_PLAIN, MAIL, OK, RCPT, {SEND, "550 no such user\r\n", 0},
    RSET_QUIT, {END, 0, 0}};
static const step r_data[] = {
    GREET, EHLO_PLAIN, MAIL, OK, RCPT, OK, DATA, {SEND, "554 no\r\n", 0},
    RSET_QUIT, {END, 0, 0}};
static const step r_message[] = {
    GREET, EHLO_PLAIN, THE_MAIL, {SEND, "554 5.7.1 spam\r\n", 0}, QUIT, {END, 0, 0}};
static const step r_quit[] = { /* QUIT's refusal does not undo the mail */
    GREET, EHLO_PLAIN, THE_MAIL, OK, {EXPECT, "QUIT\r\n", 0},
    {SEND, "500 what\r\n", 0}, {END, 0, 0}};

/* The server closes the connection where it should answer. */
static const step c_greet[] = {{CLOSE, 0, 0}, {END, 0, 0}};
static const step c_ehlo[] = {GREET, {EXPECT, "EHLO example.com\r\n", 0}, {CLOSE, 0, 0}, {END, 0, 0}};
static const step c_auth[] = {GREET, EHLO_PLAIN, {EXPECT, "AUTH PLAIN AG5ldHgAc2VjcmV0\r\n", 0}, {CLOSE, 0, 0}, {END, 0, 0}};
static const step c_mail[] = {GREET, EHLO_PLAIN, MAIL, {CLOSE, 0, 0}, {END, 0, 0}};
static const step c_rcpt[] = {GREET, EHLO_PLAIN, MAIL, OK, RCPT, {CLOSE, 0, 0}, {END, 0, 0}};
static const step c_data[] = {GREET, EHLO_PLAIN, MAIL, OK, RCPT, OK, DATA, {CLOSE, 0, 0}, {END, 0, 0}};
static const step c_message[] = {GREET, EHLO_PLAIN, THE_MAIL, {CLOSE, 0, 0}, {END, 0, 0}};
/* Once the message is accepted, the end of the session cannot undo it. */
static const step c_quit[] = {GREET, EHLO_PLAIN, THE_MAIL, OK, {EXPECT, "QUIT\r\n", 0}, {CLOSE, 0, 0}, {END, 0, 0}};
/* A 421 and the close: the server's reason wins over "not connected". */
static const step c_421[] = {GREET, EHLO_PLAIN, MAIL, {SEND, "421 shutting down\r\n", 0}, {CLOSE, 0, 0}, {END, 0, 0}};

/* The server says nothing where it should answer. */
static const step t_greet[] = {{STALL, 0, 0}, {END, 0, 0}};
static const step t_ehlo[] = {GREET, {EXPECT, "EHLO example.com\r\n", 0}, {STALL, 0, 0}, {END, 0, 0}};
static const step t_auth[] = {GREET, EHLO_PLAIN, {EXPECT, "AUTH PLAIN AG5ldHgAc2VjcmV0\r\n", 0}, {STALL, 0, 0}, {END, 0, 0}};
static const step t_mail[] = {GREET, EHLO_PLAIN, MAIL, {STALL, 0, 0}, {END, 0, 0}};
static const step t_rcpt[] = {GREET, EHLO_PLAIN, MAIL, OK, RCPT, {STALL, 0, 0}, {END, 0, 0}};
static const step t_data[] = {GREET, EHLO_PLAIN, MAIL, OK, RCPT, OK, DATA, {STALL, 0, 0}, {END, 0, 0}};
static const step t_message[] = {GREET, EHLO_PLAIN, THE_MAIL, {STALL, 0, 0}, {END, 0, 0}};
static const step t_quit[] = {GREET, EHLO_PLAIN, THE_MAIL, OK, {EXPECT, "QUIT\r\n", 0}, {STALL, 0, 0}, {END, 0, 0}};
/* A reply that starts and never ends. */
static const step t_half[] = {GREET, EHLO_PLAIN, MAIL, {SEND, "25", 0}, {STALL, 0, 0}, {END, 0, 0}};

#define NONE NX_SMTP_CLIENT_AUTH_NONE
#define PLAIN NX_SMTP_CLIENT_AUTH_PLAIN
#define LOGIN NX_SMTP_CLIENT_AUTH_LOGIN

static const scase cases[] = {
    {"no AUTH, body dot-stuffed", NONE, NX_SUCCESS, s_none},
    {"replies split anywhere, pipelined", PLAIN, NX_SUCCESS, s_split},
    {"AUTH PLAIN", PLAIN, NX_SUCCESS, s_plain},
    {"AUTH PLAIN, empty 334 answered with the credentials", PLAIN, NX_SUCCESS, s_plain_empty},
    {"AUTH LOGIN", LOGIN, NX_SUCCESS, s_login},
    {"pipelined replies in one packet", NONE, NX_SUCCESS, s_pipelined},
    {"refused: greeting", NONE, NX_SMTP_GREET_REPLY_ERROR, r_greet},
    {"refused: EHLO and HELO", NONE, NX_SMTP_HELLO_REPLY_ERROR, r_ehlo},
    {"refused: AUTH", PLAIN, NX_SMTP_AUTHENTICATION_ERROR, r_auth},
    {"refused: MAIL", NONE, NX_SMTP_MAIL_REPLY_ERROR, r_mail},
    {"refused: RCPT", NONE, NX_SMTP_RCPT_REPLY_ERROR, r_rcpt},
    {"refused: DATA", NONE, NX_SMTP_DATA_REPLY_ERROR, r_data},
    {"refused: the message", NONE, NX_SMTP_MESSAGE_REPLY_ERROR, r_message},
    {"refused: QUIT (the mail stands)", NONE, NX_SUCCESS, r_quit},
    {"closed: before the greeting", NONE, NX_NOT_CONNECTED, c_greet},
    {"closed: at EHLO", NONE, NX_NOT_CONNECTED, c_ehlo},
    {"closed: at AUTH", PLAIN, NX_NOT_CONNECTED, c_auth},
    {"closed: at MAIL", NONE, NX_NOT_CONNECTED, c_mail},
    {"closed: at RCPT", NONE, NX_NOT_CONNECTED, c_rcpt},
    {"closed: at DATA", NONE, NX_NOT_CONNECTED, c_data},
    {"closed: after the message", NONE, NX_NOT_CONNECTED, c_message},
    {"closed: at QUIT, after the mail was accepted", NONE, NX_SUCCESS, c_quit},
    {"closed with 421 at MAIL", NONE, NX_SMTP_MAIL_REPLY_ERROR, c_421},
    {"stalled: greeting", NONE, NX_NO_PACKET, t_greet},
    {"stalled: EHLO", NONE, NX_NO_PACKET, t_ehlo},
    {"stalled: AUTH", PLAIN, NX_NO_PACKET, t_auth},
    {"stalled: MAIL", NONE, NX_NO_PACKET, t_mail},
    {"stalled: RCPT", NONE, NX_NO_PACKET, t_rcpt},
    {"stalled: DATA", NONE, NX_NO_PACKET, t_data},
    {"stalled: after the message", NONE, NX_NO_PACKET, t_message},
    {"stalled: half a reply", NONE, NX_NO_PACKET, t_half},
    {"stalled: at QUIT, after the mail was accepted", NONE, NX_SUCCESS, t_quit},
    {"nothing listens", NONE, NX_NOT_CONNECTED, NULL},
};

static NX_SMTP_CLIENT client_a, client_b;
static server server_a, server_b;
static TX_THREAD runner, second;
static TX_SEMAPHORE second_done;
static NX_PACKET_POOL tiny_pool;

typedef struct pool_counts {
    ULONG client, client_ip, server_ip, tiny;
} pool_counts;

static void counts_read(pool_counts *c)
{
    c->client = netx_pool_settle(&netx_client_pool);
    c->client_ip = netx_pool_settle(&netx_client_ip_pool);
    c->server_ip = netx_pool_settle(&netx_server_ip_pool);
    c->tiny = netx_pool_settle(&tiny_pool);
}

static void counts_check(const char *name, const pool_counts *before)
{
    pool_counts after;

    counts_read(&after);
    if (memcmp(before, &after, sizeof after) != 0)
        FAIL("%s: packets not returned (client pool %lu -> %lu, client ip %lu -> %lu, "
             "server ip %lu -> %lu, tiny %lu -> %lu)\n", name,
             (unsigned long)before->client, (unsigned long)after.client,
             (unsigned long)before->client_ip, (unsigned long)after.client_ip,
             (unsigned long)before->server_ip, (unsigned long)after.server_ip,
             (unsigned long)before->tiny, (unsigned long)after.tiny);
}

/* Creates c for the server at addr:port with auth, on pool. */
static UINT client_make(NX_SMTP_CLIENT *c, NXD_ADDRESS *addr, UINT port,
                        UINT auth, NX_PACKET_POOL *pool)
{
    return nxd_smtp_client_create(c, &netx_client_ip, pool, "netx", "secret",
                                  "sender@example.com", "example.com", auth,
                                  addr, port);
}

static UINT send_one(NX_SMTP_CLIENT *c, const char *body, UINT len)
{
    return nx_smtp_mail_send(c, "rcpt@example.net", NX_SMTP_MAIL_PRIORITY_NORMAL,
                             "scripted", (CHAR *)(uintptr_t)body, len);
}

/* One case over IPv4 or IPv6. */
static void case_run(const scase *k, int v6)
{
    NXD_ADDRESS addr;
    pool_counts before;
    UINT st;
    char name[160];

    snprintf(name, sizeof name, "%s (%s)", k->name, v6 ? "IPv6" : "IPv4");
    if (v6)
        netx_addr_v6(&addr, 2);
    else
        netx_addr_v4(&addr, NETX_SERVER_V4);
    counts_read(&before);
    srv_start(&server_a, 2525, k->script);
    st = client_make(&client_a, &addr, 2525, k->auth, &netx_client_pool);
    if (st == NX_SUCCESS)
        st = send_one(&client_a, BODY, (UINT)(sizeof BODY - 1));
    nx_smtp_client_delete(&client_a);
    srv_finish(&server_a);
    if (st != k->want)
        FAIL("%s: status 0x%x, want 0x%x\n", name, st, k->want);
    if (server_a.failed)
        FAIL("%s: server: %s\n", name, server_a.why);
    counts_check(name, &before);
    if (st == k->want && !server_a.failed)
        netx_log("ok   %s\n", name);
}

/* ---- a long body, pools, reuse, two at once ---- */

static char big[BIG_LEN];
static char big_wire[BIG_LEN + BIG_LEN / 10];

/* Lines of varying length, some starting with a dot. */
static void big_make(void)
{
    size_t i = 0, w = 0;
    unsigned line = 0;

    while (i + 100 < sizeof big) {
        unsigned len = 10 + (line * 37) % 80, j;
        if (line % 5 == 0) {
            big[i++] = '.';
            big_wire[w++] = '.';
            big_wire[w++] = '.';
        }
        for (j = 0; j < len; j++) {
            char ch = (char)('a' + (line + j) % 26);
            big[i++] = ch;
            big_wire[w++] = ch;
        }
        big[i++] = '\r';
        big[i++] = '\n';
        big_wire[w++] = '\r';
        big_wire[w++] = '\n';
        line++;
    }
    big[i] = 0;
    big_wire[w] = 0;
}

static const step s_big[] = {
    GREET, {EXPECT, "EHLO example.com\r\n", 0}, {SEND, "250 mx.test\r\n", 0},
    MAIL, OK, RCPT, OK, DATA, {SEND, "354 go\r\n", 0}, {MESSAGE, big_wire, 0},
    OK, QUIT, {END, 0, 0}};
/* CHUNKING and PIPELINING: the envelope and the chunks pipelined, a
 * long reply to each chunk sent while the client still sends the next
 * (srv_bdat). */
static const step s_bdat[] = {
    GREET, {EXPECT, "EHLO example.com\r\n", 0},
    {SEND, "250-mx.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n", 0},
    {EXPECT, "MAIL FROM:<sender@example.com>\r\nRCPT TO:<rcpt@example.net>\r\n", 0},
    {SEND, "250 ok\r\n250 ok\r\n", 0}, {BDAT, big, 0}, QUIT, {END, 0, 0}};
/* The server stops reading in the middle of a long message: the window
 * shuts, each send waits NX_SMTP_CLIENT_SEND_TIMEOUT, and the mail fails
 * with NX_NO_PACKET. */
static const step s_deaf[] = {
    GREET, {EXPECT, "EHLO example.com\r\n", 0}, {SEND, "250 mx.test\r\n", 0},
    MAIL, OK, RCPT, OK, DATA, {SEND, "354 go\r\n", 0}, {DEAF, 0, 0}, {END, 0, 0}};
/* The pool is empty all along: the client waits for a packet, then gives
 * up with NX_NO_PACKET (nothing can be sent, not even QUIT). */
static const step s_starved[] = {GREET, {STALL, 0, 0}, {END, 0, 0}};

/* One mail of body (IPv4) from a client on pool to server_a running
 * script on port: it must end with status want, the server content. */
static void pool_case(const char *name, UINT port, const step *script,
                      NX_PACKET_POOL *pool, const char *body, UINT want)
{
    NXD_ADDRESS addr;
    UINT st;

    netx_addr_v4(&addr, NETX_SERVER_V4);
    srv_start(&server_a, port, script);
    st = client_make(&client_a, &addr, port, NONE, pool);
    if (st == NX_SUCCESS)
        st = send_one(&client_a, body, (UINT)strlen(body));
    nx_smtp_client_delete(&client_a);
    srv_finish(&server_a);
    if (st != want || server_a.failed)
        FAIL("%s: status 0x%x (want 0x%x), server: %s\n", name, st, want,
             server_a.why);
    else
        netx_log("ok   %s\n", name);
}

static void pool_cases(void)
{
    pool_counts before;
    NX_PACKET *held[2];
    UINT n;

    /* A 24 KB body through a pool of two small packets. */
    counts_read(&before);
    pool_case("two-packet pool, 24 KB body", 2526, s_big, &tiny_pool, big, NX_SUCCESS);
    counts_check("two-packet pool", &before);

    /* The same body in BDAT chunks, their replies coming back while the
     * client sends: it must keep reading them. */
    counts_read(&before);
    pool_case("24 KB in pipelined BDAT chunks, a long reply to each", 2529, s_bdat,
              &netx_client_pool, big, NX_SUCCESS);
    counts_check("BDAT chunks", &before);

    /* The server's window shuts in the middle of the message. */
    counts_read(&before);
    pool_case("window shut mid-message: NX_NO_PACKET", 2528, s_deaf,
              &netx_client_pool, big, NX_NO_PACKET);
    counts_check("window shut", &before);

    /* The same pool with both packets taken by someone else. */
    counts_read(&before);
    for (n = 0; n < 2; n++)
        nx_packet_allocate(&tiny_pool, &held[n], NX_TCP_PACKET, NX_NO_WAIT);
    pool_case("empty pool: NX_NO_PACKET", 2527, s_starved, &tiny_pool, BODY,
              NX_NO_PACKET);
    for (n = 0; n < 2; n++)
        nx_packet_release(held[n]);
    counts_check("empty pool", &before);
}

#define MANY 20

static const step s_many[] = {
    GREET, EHLO_PLAIN, {EXPECT, "AUTH PLAIN AG5ldHgAc2VjcmV0\r\n", 0},
    {SEND, "235 ok\r\n", 0}, THE_MAIL, OK, QUIT, {END, 0, 0}};

/* MANY mails on client c through server s at port, IPv4 or IPv6. */
static int many(NX_SMTP_CLIENT *c, server *s, UINT port, int v6)
{
    NXD_ADDRESS addr;
    int i, bad = 0;
    UINT st;

    if (v6)
        netx_addr_v6(&addr, 2);
    else
        netx_addr_v4(&addr, NETX_SERVER_V4);
    st = client_make(c, &addr, port, PLAIN, &netx_client_pool);
    for (i = 0; i < MANY && st == NX_SUCCESS; i++) {
        srv_start(s, port, s_many);
        st = send_one(c, BODY, (UINT)(sizeof BODY - 1));
        srv_finish(s);
        if (s->failed) {
            FAIL("mail %d on port %u: server: %s\n", i + 1, port, s->why);
            bad = 1;
        }
    }
    if (st != NX_SUCCESS) {
        FAIL("mail %d on port %u: status 0x%x\n", i, port, st);
        bad = 1;
    }
    nx_smtp_client_delete(c);
    return !bad;
}

static void second_entry(ULONG arg)
{
    (void)arg;
    if (many(&client_b, &server_b, 2602, 1))
        netx_log("ok   %d mails on a second client in a second thread (IPv6)\n", MANY);
    tx_semaphore_put(&second_done);
}

static void runner_entry(ULONG arg)
{
    size_t i;
    pool_counts before;
    NXD_ADDRESS addr;
    UINT st;

    (void)arg;
    big_make();

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        case_run(&cases[i], 0);
        case_run(&cases[i], 1);
    }
    pool_cases();

    counts_read(&before);
    if (many(&client_a, &server_a, 2601, 0))
        netx_log("ok   %d mails in a row on one client\n", MANY);
    counts_check("many mails", &before);

    /* Two clients in two threads at once (IPv4 here, IPv6 there). */
    counts_read(&before);
    tx_semaphore_create(&second_done, "second", 0);
    tx_thread_create(&second, "second", second_entry, 0, netx_alloc(65536),
                     65536, 16, 16, TX_NO_TIME_SLICE, TX_AUTO_START);
    if (many(&client_a, &server_a, 2603, 0))
        netx_log("ok   %d mails on the first client meanwhile (IPv4)\n", MANY);
    tx_semaphore_get(&second_done, TX_WAIT_FOREVER);
    counts_check("two clients at once", &before);

    /* NetX Duo's own rule: the IP instance and the pool are required. */
    netx_addr_v4(&addr, NETX_SERVER_V4);
    st = nxd_smtp_client_create(&client_a, NX_NULL, &netx_client_pool, "", "",
                                "sender@example.com", "example.com", NONE, &addr, 25);
    if (st != NX_PTR_ERROR)
        FAIL("NULL NX_IP: 0x%x\n", st);
    st = nxd_smtp_client_create(&client_a, &netx_client_ip, NX_NULL, "", "",
                                "sender@example.com", "example.com", NONE, &addr, 25);
    if (st != NX_PTR_ERROR)
        FAIL("NULL pool: 0x%x\n", st);

    netx_log("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    exit(failures ? 1 : 0);
}

void tx_application_define(void *first_unused_memory)
{
    ULONG size = 2 * (300 + (ULONG)sizeof(NX_PACKET) + 32u);

    (void)first_unused_memory;
    /* Client packets of 300 bytes: a mail takes many of them. */
    if (netx_network_create(300, 16) != NX_SUCCESS ||
        nx_packet_pool_create(&tiny_pool, "two packets", 300, netx_alloc(size),
                              size) != NX_SUCCESS ||
        tiny_pool.nx_packet_pool_total != 2) {
        netx_log("FAIL: network setup\n");
        exit(2);
    }
    tx_thread_create(&runner, "runner", runner_entry, 0, netx_alloc(65536),
                     65536, 16, 16, TX_NO_TIME_SLICE, TX_AUTO_START);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    tx_kernel_enter();
    return 0;
}
