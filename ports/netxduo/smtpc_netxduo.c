/*
 * smtpc_netxduo.c - the smtpc transport table over NetX Duo's TCP sockets.
 * See smtpc_netxduo.h for the rules and docs/PORTING.md for why each
 * function is written the way it is.
 *
 * NetX Duo's socket calls block with a wait option in ticks, so waiting is
 * done inside NetX: wait(READ) is nx_tcp_socket_receive with the timeout
 * (the packet is kept for recv), wait(WRITE) is nx_packet_allocate with it
 * (the packet is kept for send).  send and recv themselves use NX_NO_WAIT,
 * except that a filled packet may wait up to send_wait ticks for the
 * peer's window in nx_tcp_socket_send.
 */
#include "smtpc_netxduo.h"

#include <string.h>

/* ---- helpers ---- */

/* Milliseconds to ticks, rounded up.  32-bit arithmetic only: a 64-bit
 * division would pull libgcc's (about 750 bytes on a Cortex-M) into a
 * firmware for this alone. */
static ULONG nxd_ticks(uint32_t ms)
{
    ULONG whole = (ULONG)(ms / 1000u), part = (ULONG)(ms % 1000u);

    /* NX_WAIT_FOREVER is all ones: stay below it. */
    if (whole > (0xFFFFFFFEu - NX_IP_PERIODIC_RATE) / NX_IP_PERIODIC_RATE)
        return (ULONG)0xFFFFFFFEu;
    return whole * NX_IP_PERIODIC_RATE +
           (part * NX_IP_PERIODIC_RATE + 999u) / 1000u;
}

/* tx_time_get() wraps; the contract says never backwards.  The ticks
 * since the last call are added to a 64-bit millisecond count, the
 * fraction of a millisecond carried in sub_ms (in 1/NX_IP_PERIODIC_RATE
 * ms units), with 32-bit divisions only. */
static uint64_t nxd_now(void *ctx)
{
    smtpc_netxduo *t = ctx;
    ULONG now = tx_time_get();
    ULONG delta = now - t->now_last; /* modulo 2^32 */

    t->now_last = now;
    t->now_ms += (uint64_t)(delta / NX_IP_PERIODIC_RATE) * 1000u;
    t->sub_ms += (delta % NX_IP_PERIODIC_RATE) * 1000u;
    t->now_ms += t->sub_ms / NX_IP_PERIODIC_RATE;
    t->sub_ms %= NX_IP_PERIODIC_RATE;
    return t->now_ms;
}

/* Keeps the NetX status of a failure and returns its smtpc status. */
static int nxd_fail(smtpc_netxduo *t, UINT status, int result)
{
    t->nx_status = status;
    return result;
}

/* Takes a packet for sending into t->tx: NX_SUCCESS or NetX's status. */
static UINT nxd_take_packet(smtpc_netxduo *t, ULONG wait)
{
    UINT s;

    if (t->tx != NX_NULL)
        return NX_SUCCESS;
    /* NX_TCP_PACKET leaves room for the largest IP and TCP headers the
     * build supports (IPv6's when it is on). */
    s = nx_packet_allocate(t->pool, &t->tx, NX_TCP_PACKET, wait);
    if (s != NX_SUCCESS)
        t->tx = NX_NULL;
    return s;
}

/* Receives one packet (chain) into t->rx: NX_SUCCESS, NX_NO_PACKET, or
 * the status that ended the stream (peer_closed set). */
static UINT nxd_take_received(smtpc_netxduo *t, ULONG wait)
{
    UINT s;

    if (t->rx != NX_NULL)
        return NX_SUCCESS;
    s = nx_tcp_socket_receive(&t->socket, &t->rx, wait);
    if (s == NX_SUCCESS) {
        t->rx_offset = 0;
        if (t->rx->nx_packet_length == 0) { /* nothing to read in it */
            nx_packet_release(t->rx);
            t->rx = NX_NULL;
            return NX_NO_PACKET;
        }
        return NX_SUCCESS;
    }
    t->rx = NX_NULL;
    if (s != NX_NO_PACKET) {
        /* NX_NOT_CONNECTED: the peer closed and everything was read. */
        t->peer_closed = 1;
        t->nx_status = s;
    }
    return s;
}

static int nxd_closed_status(const smtpc_netxduo *t)
{
    return t->nx_status == NX_NOT_CONNECTED || t->nx_status == NX_SUCCESS
               ? SMTPC_ERR_CLOSED
               : SMTPC_ERR_IO;
}

/* ---- the transport table ---- */

static void nxd_close(void *ctx)
{
    smtpc_netxduo *t = ctx;

    if (t->rx != NX_NULL) {
        nx_packet_release(t->rx);
        t->rx = NX_NULL;
    }
    if (t->tx != NX_NULL) {
        nx_packet_release(t->tx);
        t->tx = NX_NULL;
    }
    if (t->created) {
        /* Each step on every path: a socket left bound or created would
         * hold a port and the IP's socket list for good.  disconnect on a
         * socket that never connected just fails; its queued packets are
         * released by NetX here. */
        (void)nx_tcp_socket_disconnect(&t->socket, t->disconnect_wait);
        if (t->bound)
            (void)nx_tcp_client_socket_unbind(&t->socket);
        (void)nx_tcp_socket_delete(&t->socket);
    }
    t->created = 0;
    t->bound = 0;
    t->peer_closed = 0;
    t->rx_offset = 0;
}

static int nxd_connect(void *ctx, const char *host, uint16_t port,
                       uint32_t timeout_ms)
{
    smtpc_netxduo *t = ctx;
    uint64_t deadline = nxd_now(t) + timeout_ms, now;
    UINT s;

    (void)host; /* the name; the address was given at setup */
    nxd_close(t); /* a transport is reused for the next session */
    t->nx_status = NX_SUCCESS;
    if (t->ip == NX_NULL || t->pool == NX_NULL)
        return nxd_fail(t, NX_PTR_ERROR, SMTPC_ERR_ARG);
    memset(&t->socket, 0, sizeof t->socket);
    s = nx_tcp_socket_create(t->ip, &t->socket, (CHAR *)"smtpc",
                             NX_IP_NORMAL, NX_FRAGMENT_OKAY,
                             NX_IP_TIME_TO_LIVE, t->window, NX_NULL, NX_NULL);
    if (s != NX_SUCCESS)
        return nxd_fail(t, s, SMTPC_ERR_CONNECT);
    t->created = 1;
    s = nx_tcp_client_socket_bind(&t->socket, NX_ANY_PORT, nxd_ticks(timeout_ms));
    if (s != NX_SUCCESS) {
        nxd_close(t);
        return nxd_fail(t, s, SMTPC_ERR_CONNECT);
    }
    t->bound = 1;
    now = nxd_now(t);
    s = nxd_tcp_client_socket_connect(
        &t->socket, &t->server, port,
        nxd_ticks(now < deadline ? (uint32_t)(deadline - now) : 0));
    if (s != NX_SUCCESS) {
        /* A wait that ran out says NX_NOT_CONNECTED too (the socket never
         * reached ESTABLISHED): the deadline tells which it was, read
         * before close spends time of its own. */
        int late = nxd_now(t) >= deadline;
        nxd_close(t);
        return nxd_fail(t, s, late ? SMTPC_ERR_TIMEOUT : SMTPC_ERR_CONNECT);
    }
    return SMTPC_OK;
}

static long nxd_send(void *ctx, const void *data, size_t len)
{
    smtpc_netxduo *t = ctx;
    ULONG room, mss;
    UINT s;

    if (!t->bound)
        return SMTPC_ERR_CLOSED;
    if (len == 0)
        return 0;
    s = nxd_take_packet(t, NX_NO_WAIT);
    if (s == NX_NO_PACKET)
        return 0; /* wait(WRITE) waits for one */
    if (s != NX_SUCCESS)
        return nxd_fail(t, s, SMTPC_ERR_IO);
    /* One packet, one segment: what the packet holds after the headers'
     * room, and no more than the peer's MSS. */
    room = (ULONG)(t->tx->nx_packet_data_end - t->tx->nx_packet_append_ptr);
    mss = t->socket.nx_tcp_socket_connect_mss;
    if (mss != 0 && room > mss)
        room = mss;
    if (len > room)
        len = room;
    if (len == 0)
        return nxd_fail(t, NX_INVALID_PACKET, SMTPC_ERR_IO); /* pool too small */
    s = nx_packet_data_append(t->tx, (VOID *)(uintptr_t)data, (ULONG)len,
                              t->pool, NX_NO_WAIT);
    if (s == NX_SUCCESS)
        s = nx_tcp_socket_send(&t->socket, t->tx, t->send_wait);
    if (s != NX_SUCCESS) {
        /* Not sent: the packet is still ours. */
        nx_packet_release(t->tx);
        t->tx = NX_NULL;
        if (s == NX_NOT_CONNECTED)
            return nxd_fail(t, s, SMTPC_ERR_CLOSED);
        if (s == NX_WINDOW_OVERFLOW || s == NX_TX_QUEUE_DEPTH ||
            s == NX_WAIT_ABORTED)
            return nxd_fail(t, s, SMTPC_ERR_TIMEOUT); /* window stayed shut */
        return nxd_fail(t, s, SMTPC_ERR_IO);
    }
    t->tx = NX_NULL; /* NetX's now */
    return (long)len;
}

static long nxd_recv(void *ctx, void *buf, size_t len)
{
    smtpc_netxduo *t = ctx;
    ULONG copied = 0;
    UINT s;

    if (t->rx == NX_NULL) {
        if (t->peer_closed || !t->bound)
            return nxd_closed_status(t);
        s = nxd_take_received(t, NX_NO_WAIT);
        if (s == NX_NO_PACKET)
            return 0;
        if (s != NX_SUCCESS)
            return nxd_closed_status(t);
    }
    if (len > 0xFFFFFFFFu)
        len = 0xFFFFFFFFu;
    /* Walks the chain from where the last read stopped. */
    s = nx_packet_data_extract_offset(t->rx, t->rx_offset, buf, (ULONG)len,
                                      &copied);
    if (s != NX_SUCCESS)
        return nxd_fail(t, s, SMTPC_ERR_IO);
    t->rx_offset += copied;
    if (t->rx_offset >= t->rx->nx_packet_length) {
        nx_packet_release(t->rx);
        t->rx = NX_NULL;
        t->rx_offset = 0;
    }
    return (long)copied;
}

static int nxd_wait(void *ctx, unsigned events, uint32_t timeout_ms)
{
    smtpc_netxduo *t = ctx;
    uint64_t deadline = nxd_now(t) + timeout_ms, now;
    int want_r = (events & SMTPC_IO_READ) != 0;
    int want_w = (events & SMTPC_IO_WRITE) != 0;
    ULONG pwait;
    UINT s;

    if (!t->bound)
        return SMTPC_ERR_CLOSED;
    for (;;) {
        unsigned ready = 0;
        now = nxd_now(t);
        if (want_r && (t->rx != NX_NULL || t->peer_closed ||
                       nxd_take_received(t, NX_NO_WAIT) != NX_NO_PACKET))
            ready |= SMTPC_IO_READ;
        if (want_w) {
            s = nxd_take_packet(t, NX_NO_WAIT);
            if (s == NX_SUCCESS)
                ready |= SMTPC_IO_WRITE;
            else if (s != NX_NO_PACKET)
                return nxd_fail(t, s, SMTPC_ERR_IO);
        }
        if (ready != 0)
            return (int)ready;
        if (now >= deadline)
            return 0;
        if (want_r && want_w) {
            /* NetX cannot wait for both at once: a tick at a time. */
            (void)nxd_take_received(t, 1);
            continue;
        }
        if (want_r) {
            s = nxd_take_received(t, nxd_ticks((uint32_t)(deadline - now)));
            return s == NX_NO_PACKET ? 0 : SMTPC_IO_READ;
        }
        /* Writing: the pool is empty.  Wait for a packet as long as the
         * configured packet wait allows; none by then is a failure of its
         * own (the pool is too small or leaks), not a slow server. */
        pwait = nxd_ticks((uint32_t)(deadline - now));
        if (pwait > t->packet_wait)
            pwait = t->packet_wait;
        s = nxd_take_packet(t, pwait);
        if (s == NX_SUCCESS)
            return SMTPC_IO_WRITE;
        if (s != NX_NO_PACKET)
            return nxd_fail(t, s, SMTPC_ERR_IO);
        if (pwait == t->packet_wait)
            return nxd_fail(t, NX_NO_PACKET, SMTPC_ERR_TIMEOUT);
        return 0;
    }
}

static int nxd_start_tls(void *ctx, const char *host, uint32_t timeout_ms)
{
    (void)ctx;
    (void)host;
    (void)timeout_ms;
    return SMTPC_ERR_UNSUPPORTED;
}

static int nxd_is_loopback(void *ctx)
{
    const smtpc_netxduo *t = ctx;

#ifndef NX_DISABLE_IPV4
    if (t->server.nxd_ip_version == NX_IP_VERSION_V4)
        return (t->server.nxd_ip_address.v4 >> 24) == 127u;
#endif
#ifdef FEATURE_NX_IPV6
    if (t->server.nxd_ip_version == NX_IP_VERSION_V6)
        return t->server.nxd_ip_address.v6[0] == 0 &&
               t->server.nxd_ip_address.v6[1] == 0 &&
               t->server.nxd_ip_address.v6[2] == 0 &&
               t->server.nxd_ip_address.v6[3] == 1;
#endif
    return 0;
}

static const smtpc_transport_ops nxd_ops = {
    nxd_connect, nxd_send,        nxd_recv, nxd_wait,
    nxd_start_tls, nxd_is_loopback, nxd_now,  nxd_close,
};

smtpc_transport smtpc_netxduo_transport(smtpc_netxduo *t, NX_IP *ip,
                                        NX_PACKET_POOL *pool,
                                        const NXD_ADDRESS *server)
{
    smtpc_transport tr;

    memset(t, 0, sizeof *t);
    t->ip = ip;
    t->pool = pool;
    if (server != NX_NULL)
        t->server = *server;
    t->window = SMTPC_NETXDUO_WINDOW;
    t->packet_wait = SMTPC_NETXDUO_PACKET_WAIT;
    t->send_wait = SMTPC_NETXDUO_SEND_WAIT;
    t->disconnect_wait = SMTPC_NETXDUO_DISCONNECT_WAIT;
    t->now_last = tx_time_get();
    tr.ops = &nxd_ops;
    tr.ctx = t;
    return tr;
}
