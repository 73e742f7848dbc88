/*
 * Open finding 1 (src/engine/body.c, encode): smtpc_body_write writes the
 * stuffing dot of a line that starts with "." and, when the send area is
 * then full, returns without taking that "." -- output for a byte it says
 * it did not take.  A driver that offers the same bytes again is fine; one
 * that ends the message there (or offers other bytes) gets "\r\n." plus
 * "\r\n.\r\n": the message ends early and "." goes out as a command.
 *
 *   cc -std=c99 -Iinclude fuzz/regressions/open/body_partial_dot.c \
 *      src/engine/[a-z]*.c -o /tmp/partial_dot && /tmp/partial_dot
 *
 * Exit 0 when fixed (nothing but the text and one CRLF.CRLF), 1 otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "smtpc/engine.h"

static char wire[4096];
static size_t wn;

static void drain(smtpc_session *s)
{
    size_t n;
    const unsigned char *p;

    while ((p = smtpc_send_buf(s, &n)) != NULL && n > 0) {
        memcpy(wire + wn, p, n);
        wn += n;
        smtpc_send_ack(s, n);
    }
}

static void server(smtpc_session *s, const char *t)
{
    smtpc_feed(s, t, strlen(t));
    drain(s);
}

int main(void)
{
    static unsigned char buf[SMTPC_IO_MIN]; /* a 512-byte send area */
    smtpc_session s;
    smtpc_config c;
    smtpc_rcpt r;
    smtpc_envelope e;
    char body[511];
    size_t n, k, i;
    int rc;

    memset(&c, 0, sizeof c);
    memset(&r, 0, sizeof r);
    memset(&e, 0, sizeof e);
    r.address = "r@x.test";
    e.from = "s@x.test";
    e.rcpts = &r;
    e.rcpt_count = 1;
    smtpc_session_init(&s, &c, buf, sizeof buf);
    server(&s, "220 x\r\n");
    server(&s, "250 x\r\n");
    smtpc_mail_begin(&s, &e);
    drain(&s);
    server(&s, "250 ok\r\n");
    server(&s, "250 ok\r\n");
    server(&s, "354 go\r\n");
    k = wn;
    /* 509 bytes + LF fill 511 of the 512 bytes; the "." starts a line. */
    memset(body, 'a', 509);
    body[509] = '\n';
    body[510] = '.';
    n = smtpc_body_write(&s, body, sizeof body);
    printf("smtpc_body_write took %zu of %zu bytes\n", n, sizeof body);
    drain(&s);
    /* The caller ends the message with what was taken. */
    rc = smtpc_body_end(&s);
    drain(&s);
    printf("smtpc_body_end: %d; on the wire after the text: \"", rc);
    for (i = k + 509; i < wn; i++)
        printf(wire[i] == '\r' ? "\\r" : wire[i] == '\n' ? "\\n" : "%c",
               wire[i]);
    printf("\"\n");
    /* Right: "\r\n.\r\n" (the "." never taken), or "\r\n..\r\n.\r\n" if
     * it had been taken.  Wrong: "\r\n.\r\n.\r\n". */
    if (wn - (k + 509) == 8 &&
        memcmp(wire + k + 509, "\r\n.\r\n.\r\n", 8) == 0) {
        puts("BROKEN: the message ends early and \".\" follows as a command");
        return 1;
    }
    return 0;
}
