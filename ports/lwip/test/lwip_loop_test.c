/*
 * lwip_loop_test.c - the lwIP port, run: smtpc's blocking client over
 * smtpc_lwip, through lwIP's own TCP/IP stack, to an SMTP server written
 * on lwIP's raw API, in one process.
 *
 * Built against Debian's liblwip (lwIP 2.1 with its unix port: NO_SYS=0,
 * a tcpip thread, LWIP_TCPIP_CORE_LOCKING) by
 * tests/integration/74_lwip_port.sh.  One netif, 10.0.0.1/24, whose
 * packets to its own address loop back inside lwIP (LWIP_NETIF_LOOPBACK),
 * so no tap device and no privileges are needed.  The server runs in
 * lwIP's tcpip thread, the client in main(): the port's locking is
 * exercised for real.
 *
 * Cases: a message with dot lines, bare LF and no final line end, stored
 * byte for byte as the engine must send it; three mails on one connection
 * with PIPELINING; a 300 KB body (flow control: tcp_sndbuf, pbuf chains,
 * tcp_recved); a connection refused (RST) and a connect timeout; the
 * server closing the connection in the middle (421).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"

#include "smtpc/client.h"
#include "smtpc_lwip.h"

#include "unit.h"

/* ---- the server: lwIP raw API, runs in the tcpip thread ---- */

#define MSG_MAX (512 * 1024)

static struct {
    int hangup_at_mail;      /* >0: answer the Nth MAIL with 421 and close */
    int mails_seen;
    int messages;            /* complete messages stored */
    int connections;
    int pipelining_seen;     /* a read held more than one command */
    char line[1100];
    size_t line_len;
    int in_data;
    unsigned char msg[MSG_MAX];
    size_t msg_len;          /* the last message */
    size_t msg_len_total;
} srv;

static void srv_reply(struct tcp_pcb *pcb, const char *text)
{
    tcp_write(pcb, text, (u16_t)strlen(text), TCP_WRITE_FLAG_COPY);
    tcp_output(pcb);
}

/* Returns 0 when the connection was closed. */
static int srv_line(struct tcp_pcb *pcb)
{
    const char *l = srv.line;

    if (srv.in_data) {
        if (strcmp(l, ".\r\n") == 0) {
            srv.in_data = 0;
            srv.messages++;
            srv_reply(pcb, "250 2.0.0 queued\r\n");
            return 1;
        }
        if (l[0] == '.')
            l++; /* dot-unstuffing */
        if (srv.msg_len + strlen(l) <= MSG_MAX) {
            memcpy(srv.msg + srv.msg_len, l, strlen(l));
            srv.msg_len += strlen(l);
        }
        return 1;
    }
    if (strncmp(l, "EHLO ", 5) == 0) {
        srv_reply(pcb, "250-lwip.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n");
    } else if (strncmp(l, "MAIL FROM:", 10) == 0) {
        srv.mails_seen++;
        if (srv.hangup_at_mail && srv.mails_seen == srv.hangup_at_mail) {
            srv_reply(pcb, "421 4.3.2 going down\r\n");
            tcp_arg(pcb, NULL);
            tcp_recv(pcb, NULL);
            tcp_close(pcb);
            return 0;
        }
        srv.msg_len = 0;
        srv_reply(pcb, "250 2.1.0 ok\r\n");
    } else if (strncmp(l, "RCPT TO:", 8) == 0) {
        srv_reply(pcb, "250 2.1.5 ok\r\n");
    } else if (strcmp(l, "DATA\r\n") == 0) {
        srv.in_data = 1;
        srv_reply(pcb, "354 go ahead\r\n");
    } else if (strcmp(l, "RSET\r\n") == 0) {
        srv_reply(pcb, "250 ok\r\n");
    } else if (strcmp(l, "QUIT\r\n") == 0) {
        srv_reply(pcb, "221 bye\r\n");
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_close(pcb);
        return 0;
    } else {
        srv_reply(pcb, "500 what\r\n");
    }
    return 1;
}

static err_t srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct pbuf *q;
    int commands = 0;
    u16_t total;

    (void)arg;
    (void)err;
    if (p == NULL) {
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_close(pcb);
        return ERR_OK;
    }
    total = p->tot_len;
    /* Taken in at once: a close with unread data would be a reset, which
     * may overtake the last reply (as with any TCP stack). */
    tcp_recved(pcb, total);
    for (q = p; q != NULL; q = q->next) {
        const char *c = q->payload;
        u16_t i;
        for (i = 0; i < q->len; i++) {
            if (srv.line_len < sizeof srv.line - 1)
                srv.line[srv.line_len++] = c[i];
            if (c[i] == '\n') {
                int open;
                srv.line[srv.line_len] = '\0';
                srv.line_len = 0;
                if (!srv.in_data)
                    commands++;
                open = srv_line(pcb);
                if (!open) {
                    pbuf_free(p);
                    return ERR_OK;
                }
            }
        }
    }
    if (commands > 1)
        srv.pipelining_seen = 1;
    pbuf_free(p);
    return ERR_OK;
}

static err_t srv_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || pcb == NULL)
        return ERR_VAL;
    srv.connections++;
    srv.line_len = 0;
    srv.in_data = 0;
    srv.mails_seen = 0;
    tcp_recv(pcb, srv_recv);
    srv_reply(pcb, "220 lwip.test ESMTP\r\n");
    return ERR_OK;
}

/* ---- the network: one netif that loops back to itself ---- */

static struct netif nif;

static err_t nif_output(struct netif *n, struct pbuf *p, const ip4_addr_t *a)
{
    /* Only traffic to 10.0.0.1 exists here, and lwIP loops that back
     * before it reaches this function. */
    (void)n;
    (void)p;
    (void)a;
    return ERR_OK;
}

static err_t nif_init(struct netif *n)
{
    n->name[0] = 't';
    n->name[1] = 'l';
    n->output = nif_output;
    n->mtu = 1500;
    return ERR_OK;
}

static volatile int lwip_ready;

static void tcpip_ready(void *arg)
{
    (void)arg;
    lwip_ready = 1;
}

static void network_up(void)
{
    ip4_addr_t ip, mask, gw;
    struct tcp_pcb *l;

    tcpip_init(tcpip_ready, NULL);
    while (!lwip_ready)
        sys_msleep(1);
    IP4_ADDR(&ip, 10, 0, 0, 1);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 0, 0, 254);
    LOCK_TCPIP_CORE();
    netif_add(&nif, &ip, &mask, &gw, NULL, nif_init, tcpip_input);
    netif_set_default(&nif);
    netif_set_up(&nif);
    netif_set_link_up(&nif);
    l = tcp_new_ip_type(IPADDR_TYPE_V4);
    tcp_bind(l, IP4_ADDR_ANY, 25);
    l = tcp_listen(l);
    tcp_accept(l, srv_accept);
    UNLOCK_TCPIP_CORE();
}

/* ---- the client side: smtpc over smtpc_lwip ---- */

static smtpc_lwip lw;
static smtpc_client client;
static smtpc_client_config cfg;
static unsigned char iobuf[4096];

static int client_start(uint16_t port)
{
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "10.0.0.1";
    cfg.port = port;
    cfg.session.ehlo_name = "client.lwip.test";
    smtpc_timeouts_default(&cfg.timeouts, 5000);
    cfg.timeouts.connect_ms = 2000;
    return smtpc_client_init(&client, &cfg, smtpc_lwip_transport(&lw, NULL, NULL),
                             iobuf, sizeof iobuf);
}

static int send_one(const char *body, size_t len, smtpc_result *res)
{
    static smtpc_rcpt r;
    static smtpc_envelope env;
    smtpc_body_mem mem;
    smtpc_body_source src = smtpc_body_memory(&mem, body, len);

    memset(&r, 0, sizeof r);
    r.address = "rcpt@lwip.test";
    memset(&env, 0, sizeof env);
    env.from = "sender@lwip.test";
    env.rcpts = &r;
    env.rcpt_count = 1;
    return smtpc_client_send(&client, &env, &src, res);
}

/* What the server must store for body: CRLF line ends, a final CRLF. */
static size_t expected_of(const char *in, size_t len, char *out)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
            continue;
        if (in[i] == '\r' || in[i] == '\n') {
            out[n++] = '\r';
            out[n++] = '\n';
            continue;
        }
        out[n++] = in[i];
    }
    if (n < 2 || out[n - 2] != '\r' || out[n - 1] != '\n') {
        out[n++] = '\r';
        out[n++] = '\n';
    }
    return n;
}

static char big[300 * 1024 + 64], want[2 * sizeof big];

int main(void)
{
    static const char body1[] =
        "Subject: over lwIP\r\n\r\n.a dot line\n..two dots\r\n.\r\nbare LF\nno final line end";
    smtpc_result res;
    size_t n, i;
    int r;

    network_up();

    /* 1: one mail, byte for byte */
    unit_case = "one mail";
    r = client_start(25);
    CHECK_MSG(r == SMTPC_OK, "init %d", r);
    r = smtpc_client_open(&client);
    CHECK_MSG(r == SMTPC_OK, "open: %s", smtpc_status_str(r));
    CHECK_MSG(!lw.ctx && lw.pcb != NULL, "connected PCB");
    r = send_one(body1, sizeof body1 - 1, &res);
    CHECK_MSG(r == SMTPC_OK && res.status == SMTPC_OK, "send: %s (%u %s)",
              smtpc_status_str(r), res.reply.code, res.reply.text);
    n = expected_of(body1, sizeof body1 - 1, want);
    CHECK_MSG(srv.msg_len == n && memcmp(srv.msg, want, n) == 0,
              "stored %zu bytes, expected %zu", srv.msg_len, n);

    /* 2: two more mails on the same connection, pipelined */
    unit_case = "pipelined";
    for (i = 0; i < 2; i++) {
        r = send_one("Subject: again\r\n\r\nmore\r\n", 25, &res);
        CHECK_MSG(r == SMTPC_OK, "mail %zu: %s", i + 2, smtpc_status_str(r));
    }
    CHECK_MSG(srv.messages == 3, "server stored %d messages", srv.messages);
    CHECK_MSG(srv.pipelining_seen, "no pipelined commands seen");

    /* 3: a 300 KB body: flow control both ways */
    unit_case = "300 KB body";
    for (i = 0; i < sizeof big - 64; i++)
        big[i] = (i % 78 == 77) ? '\n' : (char)('a' + i % 26);
    big[0] = '.';
    n = sizeof big - 64;
    r = send_one(big, n, &res);
    CHECK_MSG(r == SMTPC_OK, "big: %s", smtpc_status_str(r));
    n = expected_of(big, n, want);
    CHECK_MSG(srv.msg_len == n && memcmp(srv.msg, want, n) == 0,
              "big: stored %zu bytes, expected %zu", srv.msg_len, n);
    r = smtpc_client_close(&client);
    CHECK_MSG(r == SMTPC_OK, "close: %s", smtpc_status_str(r));
    CHECK_MSG(lw.pcb == NULL && lw.rx == NULL, "closed transport holds nothing");
    CHECK_MSG(srv.messages == 4 && srv.connections == 1, "%d messages, %d connections",
              srv.messages, srv.connections);

    /* 4: nothing listens on port 26: lwIP answers RST */
    unit_case = "refused";
    r = client_start(26);
    r = smtpc_client_open(&client);
    CHECK_MSG(r == SMTPC_ERR_CONNECT, "refused: %s", smtpc_status_str(r));

    /* 5: the server gives up in the middle (421, close) */
    unit_case = "421";
    srv.hangup_at_mail = 1;
    r = client_start(25);
    r = smtpc_client_sendmail(&client, &(smtpc_envelope){0}, NULL, &res);
    CHECK_MSG(r == SMTPC_ERR_ARG, "empty envelope refused before connecting: %d", r);
    r = client_start(25);
    r = smtpc_client_open(&client);
    CHECK_MSG(r == SMTPC_OK, "open 5: %s", smtpc_status_str(r));
    r = send_one("x\r\n", 3, &res);
    CHECK_MSG(r == SMTPC_ERR_TEMPFAIL && res.reply.code == 421, "421: %s %u",
              smtpc_status_str(r), res.reply.code);
    smtpc_client_close(&client);
    CHECK_MSG(srv.messages == 4, "nothing stored after 421");

    /* 6: a connect that nobody answers: the deadline holds */
    unit_case = "connect timeout";
    {
        uint64_t t0;
        smtpc_transport tr = smtpc_lwip_transport(&lw, NULL, NULL);
        t0 = tr.ops->now_ms(tr.ctx);
        r = tr.ops->connect(tr.ctx, "10.0.0.77", 25, 300);
        CHECK_MSG(r == SMTPC_ERR_TIMEOUT || r == SMTPC_ERR_CONNECT, "timeout: %d", r);
        CHECK_MSG(tr.ops->now_ms(tr.ctx) - t0 < 2000, "connect took %llu ms",
                  (unsigned long long)(tr.ops->now_ms(tr.ctx) - t0));
        tr.ops->close(tr.ctx);
        tr.ops->close(tr.ctx);
        CHECK_MSG(tr.ops->recv(tr.ctx, big, 10) == SMTPC_ERR_CLOSED, "recv after close");
        CHECK_MSG(tr.ops->start_tls(tr.ctx, "x", 10) == SMTPC_ERR_UNSUPPORTED, "start_tls");
    }

    return unit_done();
}
