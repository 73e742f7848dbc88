/*
 * Open finding 2 (src/engine/session.c, handle_line): a reply line that
 * does not parse (or a code change inside a multi-line reply) ends the
 * session with SMTPC_ERR_PROTOCOL but no QUIT: fail_session() is called
 * as orderly and puts the session in ST_QUIT with QUIT queued, and the
 * very next line, "if (s->state == ST_QUIT) close_now(s);", meant for a
 * session that was *already* quitting, closes it at once.  Fixing only that
 * shows the next problem: the reply that failed is still first in the
 * queue, so the server's "221" to QUIT is taken as the answer to it and
 * the client waits for another reply until its timeout.  (Clear the
 * awaited replies and line_count before queueing QUIT.)
 *
 *   cc -std=c99 -Iinclude fuzz/regressions/open/engine_no_quit.c \
 *      src/engine/[a-z]*.c -o /tmp/no_quit && /tmp/no_quit
 *
 * Exit 0 when fixed: QUIT is sent and the 221 closes the session.
 */
#include <stdio.h>
#include <string.h>

#include "smtpc/engine.h"

static int quit_sent;

static void drain(smtpc_session *s)
{
    size_t n;
    const unsigned char *p;

    while ((p = smtpc_send_buf(s, &n)) != NULL && n > 0) {
        printf("C: %.*s", (int)n, (const char *)p);
        if (n >= 6 && memcmp(p + n - 6, "QUIT\r\n", 6) == 0)
            quit_sent = 1;
        smtpc_send_ack(s, n);
    }
}

static void server(smtpc_session *s, const char *t)
{
    printf("S: %s", t);
    smtpc_feed(s, t, strlen(t));
    drain(s);
}

static int one(const char *const *script)
{
    static unsigned char buf[4096];
    smtpc_session s;
    smtpc_config c;

    memset(&c, 0, sizeof c);
    quit_sent = 0;
    smtpc_session_init(&s, &c, buf, sizeof buf);
    for (; *script; script++)
        server(&s, *script);
    printf("   status %d, QUIT %s\n", smtpc_session_status(&s),
           quit_sent ? "sent" : "NOT sent");
    if (!quit_sent)
        return 1;
    server(&s, "221 bye\r\n");
    printf("   after 221: %s\n", (smtpc_session_state(&s) & SMTPC_CLOSED)
                                     ? "closed" : "STILL WAITING");
    return !(smtpc_session_state(&s) & SMTPC_CLOSED);
}

int main(void)
{
    static const char *const two_digits[] = {"22 two-digit code\r\n", NULL};
    static const char *const mixed[] = {"220 x\r\n", "250-x\r\n251 mixed\r\n",
                                        NULL};
    int bad = one(two_digits);

    bad |= one(mixed);
    return bad;
}
