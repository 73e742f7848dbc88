/*
 * send_native.c - one mail through the blocking client (the README's
 * example, whole).
 *
 *   example_send_native HOST PORT FROM TO   (the message on stdin is not
 *   read: a fixed message is sent; TLS none, no AUTH)
 */
#include <stdio.h>
#include <stdlib.h>

#include <smtpc/smtpc.h>

static const char msg[] = "From: a@example.com\r\nTo: b@example.org\r\n"
                          "Subject: hi\r\n\r\nHello.\r\n";

int main(int argc, char **argv)
{
    smtpc_client_config cfg = {0};
    smtpc_client c;
    smtpc_tcp tcp;
    static unsigned char buf[8192];
    smtpc_rcpt rcpt = {0};
    smtpc_envelope env = {0};
    smtpc_body_mem mem;
    smtpc_body_source body;
    smtpc_result res;
    int rc;

    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST PORT FROM TO\n", argv[0]);
        return 64;
    }
    rcpt.address = argv[4];
    env.from = argv[3];
    env.rcpts = &rcpt;
    env.rcpt_count = 1;
    body = smtpc_body_memory(&mem, msg, sizeof msg - 1);
    cfg.host = argv[1];
    cfg.port = (uint16_t)atoi(argv[2]);
    cfg.session.ehlo_name = "client.example.com";
    smtpc_client_init(&c, &cfg, smtpc_tcp_transport(&tcp), buf, sizeof buf);
    rc = smtpc_client_sendmail(&c, &env, &body, &res);
    if (rc != SMTPC_OK) {
        fprintf(stderr, "failed in %s: %s (%u %s)\n", smtpc_phase_str(res.phase),
                smtpc_status_str(res.status), res.reply.code, res.reply.text);
        return 1;
    }
    printf("sent: %u %s\n", res.reply.code, res.reply.text);
    return 0;
}
