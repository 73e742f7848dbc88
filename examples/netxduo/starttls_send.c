/*
 * starttls_send.c - a NetX Duo application that sends one mail through
 * STARTTLS with smtpc's NetX Duo compatible API.
 *
 * It is written like NetX Duo's own SMTP sample (ThreadX kernel, packet
 * pools, an NX_IP, one client thread); the only additions are the
 * nx_smtp_client_tls_set call and the TLS backend in the link (mbedTLS,
 * src/transport/tls_mbedtls.c).  STARTTLS is required: a server that does
 * not offer it gets no credentials (NX_SMTP_TLS_UNAVAILABLE), and its
 * certificate must chain to CA_FILE and name SERVER_NAME.
 *
 * Build (as tests/integration/83_netx_starttls.sh does through
 * cmake/netxduo.cmake): this file, libsmtpc's engine/client/compat sources
 * with ports/netxduo/ instead of src/compat/nxd_smtp_port.c, the mbedTLS
 * backend, NetX Duo, ThreadX, and a network driver; nx_api.h first on the
 * include path, as for any NetX Duo application.
 */
#include <stdio.h>

#include "nx_api.h"
#include "nxd_smtp_client.h"

#ifndef NX_DISABLE_IPV4

/* What to change for a real deployment. */
#ifndef USERNAME
#define USERNAME "myusername"
#endif
#ifndef PASSWORD
#define PASSWORD "mypassword"
#endif
#define FROM_ADDRESS "my@mycompany.com"
#define RECIPIENT_ADDRESS "your@yourcompany.com"
#define LOCAL_DOMAIN "mycompany.com"
#define SUBJECT_LINE "smtpc over NetX Duo, through STARTTLS"
#define MAIL_BODY "This message crossed NetX Duo's TCP stack inside TLS.\r\n" \
                  ". A line starting with a dot arrives intact.\r\n"
/* The name the server's certificate must carry (and the SNI). */
#ifndef SERVER_NAME
#define SERVER_NAME "localhost"
#endif
/* The CA bundle to trust, as a file the TLS backend can open. */
#ifndef CA_FILE
#define CA_FILE "ca.pem"
#endif

#define CLIENT_IP_ADDRESS IP_ADDRESS(1, 2, 3, 5)
#define SERVER_IP_ADDRESS IP_ADDRESS(1, 2, 3, 4)
#define SERVER_PORT 587

static NX_PACKET_POOL ip_packet_pool;
static NX_PACKET_POOL client_packet_pool;
static NX_IP client_ip;
static TX_THREAD client_thread;
static NX_SMTP_CLIENT smtp_client;

static UCHAR ip_pool_memory[16 * 1600];
static UCHAR client_pool_memory[10 * 800];
static UCHAR ip_stack[2048];
static UCHAR arp_cache[1040];
/* TLS needs more stack than plain SMTP: the handshake's big numbers. */
static UCHAR client_stack[32768];

VOID _nx_ram_network_driver(NX_IP_DRIVER *driver_req);
static void client_thread_entry(ULONG info);

int main(void)
{
    tx_kernel_enter();
    return 0;
}

void tx_application_define(void *first_unused_memory)
{
    UINT status;

    NX_PARAMETER_NOT_USED(first_unused_memory);
    nx_system_initialize();
    status = nx_packet_pool_create(&ip_packet_pool, "IP pool", 1536,
                                   ip_pool_memory, sizeof ip_pool_memory);
    /* The client's packets: each carries at most one segment of the
     * session, however long the mail is. */
    status |= nx_packet_pool_create(&client_packet_pool, "SMTP client pool", 800,
                                    client_pool_memory, sizeof client_pool_memory);
    status |= nx_ip_create(&client_ip, "SMTP client IP", CLIENT_IP_ADDRESS,
                           0xFFFFFF00UL, &ip_packet_pool, _nx_ram_network_driver,
                           ip_stack, sizeof ip_stack, 1);
    status |= nx_arp_enable(&client_ip, arp_cache, sizeof arp_cache);
    status |= nx_tcp_enable(&client_ip);
    status |= nx_icmp_enable(&client_ip);
    status |= tx_thread_create(&client_thread, "client_thread", client_thread_entry,
                               0, client_stack, sizeof client_stack, 16, 16,
                               TX_NO_TIME_SLICE, TX_AUTO_START);
    if (status != NX_SUCCESS)
        printf("setup failed\n");
}

static void client_thread_entry(ULONG info)
{
    NXD_ADDRESS server;
    UINT status;

    NX_PARAMETER_NOT_USED(info);
    tx_thread_sleep(NX_IP_PERIODIC_RATE / 10);

    server.nxd_ip_version = NX_IP_VERSION_V4;
    server.nxd_ip_address.v4 = SERVER_IP_ADDRESS;
    status = nxd_smtp_client_create(&smtp_client, &client_ip, &client_packet_pool,
                                    USERNAME, PASSWORD, FROM_ADDRESS, LOCAL_DOMAIN,
                                    NX_SMTP_CLIENT_AUTH_PLAIN, &server, SERVER_PORT);
    if (status != NX_SUCCESS) {
        printf("create: status 0x%02x\n", status);
        return;
    }
    /* The smtpc extension: STARTTLS required, certificate checked. */
    status = nx_smtp_client_tls_set(&smtp_client, NX_SMTP_CLIENT_TLS_STARTTLS,
                                    SERVER_NAME, CA_FILE);
    if (status == NX_SUCCESS)
        status = nx_smtp_mail_send(&smtp_client, RECIPIENT_ADDRESS,
                                   NX_SMTP_MAIL_PRIORITY_NORMAL, SUBJECT_LINE,
                                   MAIL_BODY, sizeof(MAIL_BODY) - 1);
    printf("mail: status 0x%02x, last reply %u\n", status,
           smtp_client.nx_smtp_client_reply_code_status);
    nx_smtp_client_delete(&smtp_client);
}

#endif /* NX_DISABLE_IPV4 */
