/*
 * netx_relay.c - the NetX Duo compatible API over NetX Duo's TCP/IP stack
 * to a real SMTP server: the client on one NX_IP of the RAM network, a
 * relay thread (netx_relay_thread.c) on the other that carries each
 * connection to a server on the host's loopback.  Used by
 * tests/integration/81_netx_relay.sh and 87_netx_mime_relay.sh.
 *
 *   netx_relay [-6] -H 127.0.0.1|::1 -P PORT -f FROM -t TO [-d DOMAIN]
 *              [-s SUBJECT] -b BODYFILE [-u USER -a plain|login]
 *              [-n COUNT] [-T starttls|implicit [-N NAME] [-C CAFILE]]
 *              [-A FILE]...
 *
 * -6: the client reaches the relay over IPv6 (2001:db8::2), else IPv4
 * (10.0.0.2).  The password comes from SMTP_PASSWORD.  Prints
 * "mail N: status 0xNN, last reply NNN" for each mail, and fails (exit 1)
 * when a mail fails or a packet is not back in the client's pools or the
 * relay's (server IP) pool.  BODYFILE holds at most 2 MiB.
 *
 * -A FILE (up to 4): each mail goes through nx_smtp_mail_send_mime instead,
 * a text and an HTML body, the FILEs attached through a FileX-shaped
 * callback (a block per call) and BODYFILE attached from a buffer, named
 * by its base name.
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
static char body[2u << 20]; /* bodies up to 2 MiB: -b refuses larger */

#if SMTPC_WITH_MIME
#define ATTACH_MAX 4

/* A FileX-shaped content callback: one block per call, 0 at the end. */
typedef struct attach_src {
    FILE *f;
    unsigned char block[1000];
} attach_src;

static attach_src attach[ATTACH_MAX];
static smtpc_mime_part parts[ATTACH_MAX + 1];

static int attach_read(void *ctx, const void **data, size_t *len)
{
    attach_src *a = ctx;
    size_t n = fread(a->block, 1, sizeof a->block, a->f);

    if (n == 0 && ferror(a->f))
        return SMTPC_ERR_BODY_SOURCE;
    *data = a->block;
    *len = n;
    return SMTPC_OK;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* One MIME mail: the attachments rewound, then sent. */
static UINT mime_send(char *to, char *subject, int nattach, char **files,
                      const char *bodyfile, ULONG len)
{
    static smtpc_mime_part text, html;
    static smtpc_mime_addr rcpt;
    static smtpc_mime_message m;
    int i;

    for (i = 0; i < nattach; i++) {
        long size;
        if (attach[i].f == NULL && (attach[i].f = fopen(files[i], "rb")) == NULL)
            return NX_SMTP_INVALID_PARAM;
        if (fseek(attach[i].f, 0, SEEK_END) != 0 || (size = ftell(attach[i].f)) < 0 ||
            fseek(attach[i].f, 0, SEEK_SET) != 0)
            return NX_SMTP_INVALID_PARAM;
        memset(&parts[i], 0, sizeof parts[i]);
        parts[i].filename = base_name(files[i]);
        if (size > 0) { /* a callback size of 0 means "unknown" */
            parts[i].read = attach_read;
            parts[i].ctx = &attach[i];
            parts[i].size = (uint64_t)size;
        }
    }
    memset(&parts[nattach], 0, sizeof parts[nattach]);
    parts[nattach].filename = base_name(bodyfile);
    parts[nattach].data = body;
    parts[nattach].len = len;
    text.data = "Hello from NetX Duo,\n\nthe files are attached.\n";
    text.len = strlen(text.data);
    html.data = "<p>Hello from <b>NetX Duo</b>,</p><p>the files are attached.</p>\n";
    html.len = strlen(html.data);
    rcpt.address = to;
    memset(&m, 0, sizeof m);
    m.to = &rcpt;
    m.to_count = 1;
    m.subject = subject;
    m.text = &text;
    m.html = &html;
    m.attachments = parts;
    m.attachment_count = (size_t)nattach + 1;
    return nx_smtp_mail_send_mime(&client, &m, NX_SMTP_MAIL_PRIORITY_HIGH, NULL, 0);
}
#endif

static void usage(void)
{
    fprintf(stderr, "usage: netx_relay [-6] -H HOST -P PORT -f FROM -t TO [-d DOMAIN] "
                    "[-s SUBJECT] -b BODY [-u USER -a plain|login] [-n N] "
                    "[-T starttls|implicit [-N NAME] [-C CA]] [-A FILE]...\n");
    exit(2);
}

static void client_entry(ULONG arg)
{
    int v6 = 0, i, n = 1, opt, bad = 0;
    char *from = NULL, *to = NULL, *domain = "example.com", *subject = "netx relay";
    char *bodyfile = NULL, *user = "", *name = NULL, *ca = NULL;
    char *pass = getenv("SMTP_PASSWORD");
    char *files[4];
    int nattach = 0;
    UINT auth = NX_SMTP_CLIENT_AUTH_NONE, tls = NX_SMTP_CLIENT_TLS_NONE, st;
    ULONG before, before_ip, before_srv, len;
    NXD_ADDRESS addr;
    FILE *f;

    (void)arg;
    while ((opt = getopt(argc_g, argv_g, "6H:P:f:t:d:s:b:u:a:n:T:N:C:A:")) != -1) {
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
        case 'A':
            if (nattach == 4)
                usage();
            files[nattach++] = optarg;
            break;
        default: usage();
        }
    }
    if (from == NULL || to == NULL || bodyfile == NULL)
        usage();
    f = fopen(bodyfile, "rb");
    if (f == NULL)
        usage();
    len = (ULONG)fread(body, 1, sizeof body, f);
    if (len == sizeof body && fgetc(f) != EOF) {
        netx_log("%s: larger than %lu bytes\n", bodyfile, (unsigned long)sizeof body);
        exit(2);
    }
    fclose(f);

    if (v6)
        netx_addr_v6(&addr, 2);
    else
        netx_addr_v4(&addr, NETX_SERVER_V4);
    before = netx_pool_settle(&netx_client_pool);
    before_ip = netx_pool_settle(&netx_client_ip_pool);
    before_srv = netx_pool_settle(&netx_server_ip_pool);
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
#if SMTPC_WITH_MIME
        if (nattach > 0)
            st = mime_send(to, subject, nattach, files, bodyfile, len);
        else
#endif
            st = nx_smtp_mail_send(&client, to, NX_SMTP_MAIL_PRIORITY_NORMAL,
                                   subject, body, (UINT)len);
        netx_log("mail %d: status 0x%02x, last reply %u\n", i, st,
                 client.nx_smtp_client_reply_code_status);
        bad |= st != NX_SUCCESS;
    }
    nx_smtp_client_delete(&client);
    if (netx_pool_settle(&netx_client_pool) != before ||
        netx_pool_settle(&netx_client_ip_pool) != before_ip ||
        netx_pool_settle(&netx_server_ip_pool) != before_srv) {
        netx_log("packets not returned: client pool %lu -> %lu, client ip pool %lu -> %lu, "
                 "server ip pool %lu -> %lu\n",
                 (unsigned long)before, (unsigned long)netx_client_pool.nx_packet_pool_available,
                 (unsigned long)before_ip,
                 (unsigned long)netx_client_ip_pool.nx_packet_pool_available,
                 (unsigned long)before_srv,
                 (unsigned long)netx_server_ip_pool.nx_packet_pool_available);
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
