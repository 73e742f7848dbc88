/*
 * netx_support.c - the RAM network of smtpc's NetX Duo tests
 * (netx_support.h).
 */
#include "netx_support.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

NX_IP netx_client_ip, netx_server_ip;
NX_PACKET_POOL netx_client_ip_pool, netx_server_ip_pool, netx_client_pool;

static UCHAR arena[4u << 20];
static ULONG arena_used;

void *netx_alloc(ULONG size)
{
    void *p;

    size = (size + 15u) & ~15u;
    if (arena_used + size > sizeof arena) {
        netx_log("netx_support: arena exhausted\n");
        return NX_NULL;
    }
    p = arena + arena_used;
    arena_used += size;
    return p;
}

void netx_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

static UINT pool_make(NX_PACKET_POOL *p, CHAR *name, ULONG payload, ULONG count)
{
    ULONG size = count * (payload + (ULONG)sizeof(NX_PACKET) + 32u);

    return nx_packet_pool_create(p, name, payload, netx_alloc(size), size);
}

static UINT ip_make(NX_IP *ip, CHAR *name, ULONG v4, NX_PACKET_POOL *pool,
                    ULONG v6_last)
{
    UINT s;

    s = nx_ip_create(ip, name, v4, 0xFFFFFF00UL, pool,
                     _nx_ram_network_driver_1500, netx_alloc(8192), 8192, 1);
#ifndef NX_DISABLE_IPV4
    if (s == NX_SUCCESS)
        s = nx_arp_enable(ip, netx_alloc(1024), 1024);
    if (s == NX_SUCCESS)
        s = nx_icmp_enable(ip);
#endif
    if (s == NX_SUCCESS)
        s = nx_tcp_enable(ip);
#ifdef FEATURE_NX_IPV6
    if (s == NX_SUCCESS)
        s = nxd_ipv6_enable(ip);
    if (s == NX_SUCCESS)
        s = nxd_icmp_enable(ip);
    if (s == NX_SUCCESS) {
        NXD_ADDRESS a;
        netx_addr_v6(&a, v6_last);
        s = nxd_ipv6_address_set(ip, 0, &a, 64, NX_NULL);
    }
#else
    (void)v6_last;
#endif
    return s;
}

UINT netx_network_create(ULONG client_pool_payload, ULONG client_pool_count)
{
    UINT s;

    nx_system_initialize();
    s = pool_make(&netx_client_ip_pool, "client ip pool", 256, 64);
    if (s == NX_SUCCESS)
        s = pool_make(&netx_server_ip_pool, "server ip pool", 1536, 64);
    if (s == NX_SUCCESS)
        s = pool_make(&netx_client_pool, "smtp client pool",
                      client_pool_payload, client_pool_count);
    if (s == NX_SUCCESS)
        s = ip_make(&netx_client_ip, "client ip", NETX_CLIENT_V4,
                    &netx_client_ip_pool, 1);
    if (s == NX_SUCCESS)
        s = ip_make(&netx_server_ip, "server ip", NETX_SERVER_V4,
                    &netx_server_ip_pool, 2);
    return s;
}

UINT netx_server_create(ULONG v4, ULONG v6_last)
{
    UINT s = pool_make(&netx_server_ip_pool, "server ip pool", 1536, 64);

    if (s == NX_SUCCESS)
        s = ip_make(&netx_server_ip, "server ip", v4, &netx_server_ip_pool, v6_last);
    return s;
}

void netx_addr_v4(NXD_ADDRESS *a, ULONG v4)
{
    memset(a, 0, sizeof *a);
    a->nxd_ip_version = NX_IP_VERSION_V4;
#ifndef NX_DISABLE_IPV4
    a->nxd_ip_address.v4 = v4;
#else
    (void)v4;
#endif
}

void netx_addr_v6(NXD_ADDRESS *a, ULONG last)
{
    memset(a, 0, sizeof *a);
    a->nxd_ip_version = NX_IP_VERSION_V6;
#ifdef FEATURE_NX_IPV6
    a->nxd_ip_address.v6[0] = 0x20010DB8UL;
    a->nxd_ip_address.v6[3] = last;
#else
    (void)last;
#endif
}

ULONG netx_pool_settle(NX_PACKET_POOL *pool)
{
    int i;

    /* Segments still unacknowledged or being torn down come back a few
     * ticks after the sockets close. */
    for (i = 0; i < 300 && pool->nx_packet_pool_available != pool->nx_packet_pool_total; i++)
        tx_thread_sleep(1);
    return pool->nx_packet_pool_available;
}
