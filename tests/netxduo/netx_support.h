/*
 * netx_support.h - what smtpc's NetX Duo test programs share: two IP
 * instances on NetX Duo's RAM network (10.0.0.1 the client, 10.0.0.2 the
 * server; 2001:db8::1 and ::2 with IPv6), their pools, and small
 * helpers.  Everything runs inside one process on ThreadX's Linux port;
 * no frame leaves it.
 */
#ifndef SMTPC_NETX_SUPPORT_H
#define SMTPC_NETX_SUPPORT_H

#include "tx_api.h"
#include "nx_api.h"

#define NETX_CLIENT_V4 IP_ADDRESS(10, 0, 0, 1)
#define NETX_SERVER_V4 IP_ADDRESS(10, 0, 0, 2)

/* The RAM driver of NetX Duo's regression tests (1500-byte MTU). */
VOID _nx_ram_network_driver_1500(NX_IP_DRIVER *driver_req_ptr);

/* The instances: client_ip's default pool (what the client receives
 * into) has small packets so that received segments arrive chained. */
extern NX_IP netx_client_ip, netx_server_ip;
extern NX_PACKET_POOL netx_client_ip_pool, netx_server_ip_pool;
extern NX_PACKET_POOL netx_client_pool; /* the SMTP client's packets */

/* Creates the pools and both IP instances (ARP, ICMP, TCP, IPv6) from
 * memory: call from tx_application_define.  Returns 0 or the failing
 * NetX status. */
UINT netx_network_create(ULONG client_pool_payload, ULONG client_pool_count);

/* Creates only netx_server_ip (address v4, 2001:db8::v6_last) and its
 * pool, for an application that made its own client side (NetX Duo's
 * sample); nx_system_initialize must have run. */
UINT netx_server_create(ULONG v4, ULONG v6_last);

/* The addresses as NXD_ADDRESS. */
void netx_addr_v4(NXD_ADDRESS *a, ULONG v4);
void netx_addr_v6(NXD_ADDRESS *a, ULONG last); /* 2001:db8::last */

/* Memory for thread stacks and pools, from a static arena. */
void *netx_alloc(ULONG size);

/* Waits (a bounded while, then gives up) until every packet of pool is
 * back; returns its available count. */
ULONG netx_pool_settle(NX_PACKET_POOL *pool);

/* Prints to stdout and flushes (the process may end with exit()). */
void netx_log(const char *fmt, ...);

#endif

/*
 * The relay: a thread on ip listening on NetX TCP port nx_port that, for
 * each connection it accepts (one at a time), opens a TCP connection to
 * host:host_port on the host's loopback and copies bytes both ways until
 * either side closes; then it closes the other and accepts the next.
 * host MUST be "127.0.0.1" or "::1" (anything else is refused: nothing
 * from these tests may leave the machine).  Returns NX_SUCCESS or the
 * NetX status that failed.
 */
UINT netx_relay_start(NX_IP *ip, UINT nx_port, const char *host,
                      unsigned host_port);

/* Connections the relay has carried to their end. */
extern volatile ULONG netx_relay_sessions;
