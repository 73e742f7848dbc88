/*
 * nxd_smtp_port_netxduo.c - the compat layer's view of the system on
 * ThreadX and NetX Duo; it replaces src/compat/nxd_smtp_port.c in a NetX
 * Duo build (docs/COMPAT.md, "Moving a NetX Duo application over").
 *
 *   transport  smtpc_netxduo over the application's NX_IP and
 *              NX_PACKET_POOL (those given to nxd_smtp_client_create),
 *              with the NX_SMTP_CLIENT_* window, packet, send and
 *              disconnect settings;
 *   clock      none by default (ThreadX has ticks, not a calendar): the
 *              mail then goes without a Date header.  An application with
 *              a real-time clock defines NX_SMTP_CLIENT_TIME_GET(secs_ptr)
 *              in its configuration: stores seconds since 1970-01-01 UTC
 *              into the int64_t at secs_ptr and evaluates to nonzero, or
 *              to 0 when the time is not known;
 *   entropy    the tick count, the client's and the IP instance's
 *              addresses and the IP's packet counters, mixed: enough for
 *              Message-ID to differ between boards and boots.
 */
#include "compat/internal.h"

#ifndef NX_API_H
#error "build this file with the application's nx_api.h (NetX Duo)"
#endif

smtpc_transport smtpc_compat_transport_make(NX_SMTP_CLIENT *c)
{
    smtpc_netxduo *t = &SMTPC_COMPAT(c)->transport;
    smtpc_transport tr = smtpc_netxduo_transport(
        t, c->nx_smtp_client_ip_ptr, c->nx_smtp_client_packet_pool_ptr,
        &c->nx_smtp_server_address);

    t->window = NX_SMTP_CLIENT_TCP_WINDOW_SIZE;
    t->packet_wait = NX_SMTP_CLIENT_PACKET_TIMEOUT;
    t->send_wait = NX_SMTP_CLIENT_SEND_TIMEOUT;
    t->disconnect_wait = NX_SMTP_CLIENT_DISCONNECT_TIMEOUT;
    return tr;
}

int smtpc_compat_clock_read(NX_SMTP_CLIENT *c, int64_t *secs)
{
    (void)c;
#ifdef NX_SMTP_CLIENT_TIME_GET
    return NX_SMTP_CLIENT_TIME_GET(secs) ? 1 : 0;
#else
    (void)secs;
    return 0;
#endif
}

uint32_t smtpc_compat_entropy_read(NX_SMTP_CLIENT *c)
{
    uintptr_t p = (uintptr_t)c, q = (uintptr_t)c->nx_smtp_client_ip_ptr;
    uint32_t x = (uint32_t)tx_time_get() * 0x9E3779B1u;

    x ^= (uint32_t)p ^ (uint32_t)(p >> 16 >> 16);
    x ^= ((uint32_t)q << 11) ^ (uint32_t)(q >> 16 >> 16);
    if (c->nx_smtp_client_ip_ptr != NX_NULL)
        x ^= (uint32_t)c->nx_smtp_client_ip_ptr->nx_ip_id << 3;
    /* Finaliser of MurmurHash3: every input bit reaches every output bit. */
    x ^= x >> 16;
    x *= 0x85EBCA6Bu;
    x ^= x >> 13;
    x *= 0xC2B2AE35u;
    x ^= x >> 16;
    return x;
}
