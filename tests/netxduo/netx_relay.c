/*
 * netx_relay.c - the NetX Duo compatible API over NetX Duo's TCP/IP stack
 * to a real SMTP server: the client on one NX_IP of the RAM network, a
 * relay thread (netx_relay_thread.c) on the other that carries each
 * connection to a server on the host's loopback.  Used by
 * tests/integration/81_netx_relay.sh.
 *
 *   netx_relay [-6] -H 127.0.0.1|::1 -P PORT -f FROM -t TO [-d DOMAIN]
 *              [-s SUBJECT] -b BODYFILE [-u USER -a plain|login]
 *              [-n COUNT] [-T starttls|implicit [-N NAME] [-C CAFILE]]
 *
 * -6: the client reaches the relay over IPv6 (2001:db8::2), else IPv4
 * (10.0.0.2).  The password comes from SMTP_PASSWORD.  Prints
 * "mail N: status 0xNN, last reply NNN" for each mail, and fails (exit 1)
 * when a mail fails or a packet of the client's pools is not back.
 */
#include "netx_support.h"
#include "nxd_smtp_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int argc_g;
static char **argv_g;
static NX_SMTP_CLIENT client;
static TX_THREAD client_thread;
static char body[1u << 20];

static void usage(void)
{
    fprintf(stderr, "usage: netx_relay [-6] -H HOST -P PORT -f FROM -t TO [-d DOMAIN] "
                    "[-s SUBJECT] -b BODY [-u USER -a plain|login] [-n N] "
                    "[-T starttls|implicit [-N NAME] [-C CA]]\n");
    exit(2);
}

static void client_entry(ULONG arg)
{
    int v6 = 0, i, n = 1, opt, bad = 0;
    char *from = NULL, *to = NULL, *domain = "example.com", *subject = "netx relay";
    char *bodyfile = NULL, *user = "", *name = NULL, *ca = NULL;
    char *pass = getenv("SMTP_PASSWORD");
    UINT auth = NX_SMTP_CLIENT_AUTH_NONE, tls = NX_SMTP_CLIENT_TLS_NONE, st;
    ULONG before, before_ip, len;
    NXD_ADDRESS addr;
    FILE *f;

    (void)arg;
    while ((opt = getopt(argc_g, argv_g, "6H:P:f:t:d:s:b:u:a:n:T:N:C:")) != -1) {
        switch (opt) {
        case '6': v6 = 1; break;
        case 'H': case 'P': break; /* read in tx_application_define */
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'd': domain = optarg; break;
        case 's': subject = optarg; break;
        case 'b': bodyfile = optarg; break;
        case 'u': user = optarg; break;
        case 'a':
            auth = strcmp(optarg, "login") == 0 ? NX_SMTP_CLIENT_AUTH_LOGIN
                                                : NX_SMTP_CLIENT_AUTH_PLAIN;
            break;
        case 'n': n = atoi(optarg); break;
        case 'T':
            tls = strcmp(optarg, "implicit") == 0 ? NX_SMTP_CLIENT_TLS_IMPLICIT
                                                  : NX_SMTP_CLIENT_TLS_STARTTLS;
            break;
        case 'N': name = optarg; break;
        case 'C': ca = optarg; break;
        default: usage();
        }
    }
    if (from == NULL || to == NULL || bodyfile == NULL)
        usage();
    f = fopen(bodyfile, "rb");
    if (f == NULL)
        usage();
    len = (ULONG)fread(body, 1, sizeof body, f);
    fclose(f);

    if (v6)
        netx_addr_v6(&addr, 2);
    else
        netx_addr_v4(&addr, NETX_SERVER_V4);
    before = netx_pool_settle(&netx_client_pool);
    before_ip = netx_pool_settle(&netx_client_ip_pool);
    st = nxd_smtp_client_create(&client, &netx_client_ip, &netx_client_pool, user,
                                pass != NULL ? pass : "", from, domain, auth, &addr, 25);
    if (st != NX_SUCCESS) {
        netx_log("create: status 0x%02x\n", st);
        exit(1);
    }
    if (tls != NX_SMTP_CLIENT_TLS_NONE) {
        st = nx_smtp_client_tls_set(&client, tls, name, ca);
        if (st != NX_SUCCESS) {
            netx_log("tls_set: status 0x%02x\n", st);
            exit(1);
        }
    }
    for (i = 1; i <= n; i++) {
        st = nx_smtp_mail_send(&client, to, NX_SMTP_MAIL_PRIORITY_NORMAL, subject,
                               body, (UINT)len);
        netx_log("mail %d: status 0x%02x, last reply %u\n", i, st,
                 client.nx_smtp_client_reply_code_status);
        bad |= st != NX_SUCCESS;
    }
    nx_smtp_client_delete(&client);
    if (netx_pool_settle(&netx_client_pool) != before ||
        netx_pool_settle(&netx_client_ip_pool) != before_ip) {
        netx_log("packets not returned: client pool %lu -> %lu, client ip pool %lu -> %lu\n",
                 (unsigned long)before, (unsigned long)netx_client_pool.nx_packet_pool_available,
                 (unsigned long)before_ip,
                 (unsigned long)netx_client_ip_pool.nx_packet_pool_available);
        bad = 1;
    }
    exit(bad ? 1 : 0);
}

void tx_application_define(void *first_unused_memory)
{
    const char *host = NULL;
    unsigned port = 0;
    int i;
    UINT st;

    (void)first_unused_memory;
    for (i = 1; i + 1 < argc_g; i++) {
        if (strcmp(argv_g[i], "-H") == 0)
            host = argv_g[i + 1];
        else if (strcmp(argv_g[i], "-P") == 0)
            port = (unsigned)atoi(argv_g[i + 1]);
    }
    if (host == NULL || port == 0)
        usage();
    /* Client packets of 536 bytes: a mail takes many. */
    st = netx_network_create(536, 16);
    if (st == NX_SUCCESS)
        st = netx_relay_start(&netx_server_ip, 25, host, port);
    if (st != NX_SUCCESS) {
        netx_log("network setup failed: 0x%x\n", st);
        exit(2);
    }
    tx_thread_create(&client_thread, "client", client_entry, 0, netx_alloc(1u << 18),
                     1u << 18, 16, 16, TX_NO_TIME_SLICE, TX_AUTO_START);
}

int main(int argc, char **argv)
{
    argc_g = argc;
    argv_g = argv;
    tx_kernel_enter();
    return 0;
}
