/*
 * smtpc_lwip.c - the smtpc transport table over lwIP's raw TCP API.
 * See smtpc_lwip.h for the threading rules and docs/PORTING.md for why
 * each function is written the way it is.
 *
 * lwIP is event driven: it calls us (connected, recv, sent, err) from
 * inside the stack.  The callbacks only record what happened in the
 * struct; the transport functions, which smtpc calls, look at the record
 * and make the raw API calls.  Waiting is "run the stack until the record
 * shows what we wait for, or the deadline passes".
 */
#include "smtpc_lwip.h"

#include <string.h>

#include "lwip/dns.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#if !NO_SYS
#include "lwip/tcpip.h"
#endif

#if !LWIP_TCP || !LWIP_CALLBACK_API
#error "smtpc_lwip needs LWIP_TCP and LWIP_CALLBACK_API"
#endif

/* With an OS, raw API calls from the application's thread must hold the
 * core lock; lwIP's callbacks run with it held, so it also guards the
 * struct they write. */
#if !NO_SYS
#if !LWIP_TCPIP_CORE_LOCKING
#error "smtpc_lwip with NO_SYS=0 needs LWIP_TCPIP_CORE_LOCKING=1"
#endif
#define LW_LOCK() LOCK_TCPIP_CORE()
#define LW_UNLOCK() UNLOCK_TCPIP_CORE()
#else
#define LW_LOCK() ((void)0)
#define LW_UNLOCK() ((void)0)
#endif

enum {
    S_CLOSED = 0,    /* never connected, or closed by us */
    S_CONNECTING,
    S_CONNECTED,
    S_PEER_CLOSED,   /* the peer sent FIN: what was received can be read */
    S_ERROR          /* lwIP freed the PCB (reset, abort, timeout) */
};

enum { DNS_IDLE = 0, DNS_WAIT, DNS_DONE, DNS_FAILED };

/* ---- lwIP's callbacks: record, wake, nothing else ---- */

static void lw_notify(smtpc_lwip *t)
{
    if (t->notify != NULL)
        t->notify(t->ctx);
}

static void lw_err_cb(void *arg, err_t err)
{
    smtpc_lwip *t = arg;

    if (t == NULL)
        return;
    t->pcb = NULL; /* lwIP has freed it already */
    t->err = err;
    t->state = S_ERROR;
    lw_notify(t);
}

static err_t lw_connected_cb(void *arg, struct tcp_pcb *pcb, err_t err)
{
    smtpc_lwip *t = arg;

    LWIP_UNUSED_ARG(pcb);
    if (t == NULL)
        return ERR_OK;
    if (err == ERR_OK)
        t->state = S_CONNECTED;
    lw_notify(t);
    return ERR_OK;
}

static err_t lw_recv_cb(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
                        err_t err)
{
    smtpc_lwip *t = arg;

    LWIP_UNUSED_ARG(pcb);
    if (t == NULL) {
        if (p != NULL)
            pbuf_free(p);
        return ERR_OK;
    }
    if (p == NULL) {
        if (t->state == S_CONNECTED)
            t->state = S_PEER_CLOSED;
        lw_notify(t);
        return ERR_OK;
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        return err;
    }
    if (t->rx != NULL) {
        /* A chain's tot_len is 16 bits: refuse more for now.  lwIP keeps
         * the data and offers it again later (refused_data). */
        if ((u32_t)t->rx->tot_len + p->tot_len > 0xFFFFu)
            return ERR_MEM;
        pbuf_cat(t->rx, p);
    } else {
        t->rx = p;
    }
    lw_notify(t);
    return ERR_OK;
}

static err_t lw_sent_cb(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    smtpc_lwip *t = arg;

    LWIP_UNUSED_ARG(pcb);
    LWIP_UNUSED_ARG(len);
    if (t != NULL)
        lw_notify(t);
    return ERR_OK;
}

#if LWIP_DNS
static void lw_dns_cb(const char *name, const ip_addr_t *addr, void *arg)
{
    smtpc_lwip *t = arg;

    LWIP_UNUSED_ARG(name);
    if (t->dns_state != DNS_WAIT)
        return; /* connect gave up meanwhile */
    if (addr != NULL) {
        ip_addr_copy(t->dns_addr, *addr);
        t->dns_state = DNS_DONE;
    } else {
        t->dns_state = DNS_FAILED;
    }
    lw_notify(t);
}
#endif

/* ---- helpers ---- */

static uint64_t lw_now(void *ctx)
{
    smtpc_lwip *t = ctx;
    u32_t now = sys_now();

    /* sys_now() wraps after 49 days; the contract says never backwards. */
    if (now < t->now_last)
        t->now_high++;
    t->now_last = now;
    return ((uint64_t)t->now_high << 32) | now;
}

/* Runs the stack once while a call waits. */
static void lw_service(smtpc_lwip *t)
{
    if (t->service != NULL) {
        t->service(t->ctx);
        return;
    }
#if NO_SYS
    sys_check_timeouts();
#else
    sys_msleep(1);
#endif
}

/* Drops the PCB at once (RST): for failures and timeouts.  Locked. */
static void lw_abort(smtpc_lwip *t)
{
    struct tcp_pcb *pcb = t->pcb;

    if (pcb != NULL) {
        tcp_arg(pcb, NULL);
        tcp_err(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_sent(pcb, NULL);
        tcp_abort(pcb);
    }
    t->pcb = NULL;
}

/* The status for a connection lwIP has torn down. */
static int lw_error_status(const smtpc_lwip *t)
{
    return (t->err == ERR_RST || t->err == ERR_CLSD) ? SMTPC_ERR_CLOSED
                                                     : SMTPC_ERR_IO;
}

/* ---- the transport table ---- */

static void lw_close(void *ctx)
{
    smtpc_lwip *t = ctx;

    LW_LOCK();
    t->dns_state = DNS_IDLE;
    if (t->pcb != NULL) {
        struct tcp_pcb *pcb = t->pcb;
        tcp_arg(pcb, NULL);
        tcp_err(pcb, NULL);
        tcp_recv(pcb, NULL); /* lwIP then discards what still arrives */
        tcp_sent(pcb, NULL);
        if (tcp_close(pcb) != ERR_OK)
            tcp_abort(pcb); /* out of memory for the FIN: reset instead */
        t->pcb = NULL;
    }
    if (t->rx != NULL) {
        pbuf_free(t->rx);
        t->rx = NULL;
    }
    t->state = S_CLOSED;
    LW_UNLOCK();
}

/* Resolves host into *addr: SMTPC_OK, SMTPC_ERR_RESOLVE or _TIMEOUT. */
static int lw_resolve(smtpc_lwip *t, const char *host, ip_addr_t *addr,
                      uint64_t deadline)
{
    char lit[48];
    size_t n = strlen(host);

    /* An IP literal, IPv6 possibly in brackets. */
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof lit) {
        memcpy(lit, host + 1, n - 2);
        lit[n - 2] = '\0';
        return ipaddr_aton(lit, addr) ? SMTPC_OK : SMTPC_ERR_RESOLVE;
    }
    if (ipaddr_aton(host, addr))
        return SMTPC_OK;
#if LWIP_DNS
    {
        err_t e;
        u8_t st;

        LW_LOCK();
        t->dns_state = DNS_WAIT;
        e = dns_gethostbyname(host, &t->dns_addr, lw_dns_cb, t);
        if (e == ERR_OK)
            t->dns_state = DNS_DONE;
        else if (e != ERR_INPROGRESS)
            t->dns_state = DNS_FAILED;
        LW_UNLOCK();
        for (;;) {
            LW_LOCK();
            st = t->dns_state;
            if (st == DNS_DONE)
                ip_addr_copy(*addr, t->dns_addr);
            if (st != DNS_WAIT)
                t->dns_state = DNS_IDLE;
            LW_UNLOCK();
            if (st == DNS_DONE)
                return SMTPC_OK;
            if (st != DNS_WAIT)
                return SMTPC_ERR_RESOLVE;
            if (lw_now(t) >= deadline) {
                LW_LOCK();
                t->dns_state = DNS_IDLE; /* a late answer is ignored */
                LW_UNLOCK();
                return SMTPC_ERR_TIMEOUT;
            }
            lw_service(t);
        }
    }
#else
    LWIP_UNUSED_ARG(t);
    LWIP_UNUSED_ARG(deadline);
    return SMTPC_ERR_RESOLVE;
#endif
}

static int lw_connect(void *ctx, const char *host, uint16_t port,
                      uint32_t timeout_ms)
{
    smtpc_lwip *t = ctx;
    uint64_t deadline = lw_now(t) + timeout_ms;
    ip_addr_t addr;
    struct tcp_pcb *pcb;
    err_t e;
    int r;

    lw_close(t); /* a transport is reused for the next session */
    r = lw_resolve(t, host, &addr, deadline);
    if (r != SMTPC_OK)
        return r;

    LW_LOCK();
    pcb = tcp_new_ip_type(IP_GET_TYPE(&addr));
    if (pcb == NULL) {
        LW_UNLOCK();
        return SMTPC_ERR_CONNECT;
    }
    t->pcb = pcb;
    ip_addr_copy(t->remote, addr);
    t->err = ERR_OK;
    t->state = S_CONNECTING;
    tcp_arg(pcb, t);
    tcp_err(pcb, lw_err_cb);
    tcp_recv(pcb, lw_recv_cb);
    tcp_sent(pcb, lw_sent_cb);
    /* SMTP commands are small and each waits for its reply: no Nagle. */
    tcp_nagle_disable(pcb);
    e = tcp_connect(pcb, &addr, port, lw_connected_cb);
    if (e != ERR_OK) {
        lw_abort(t);
        t->state = S_CLOSED;
        LW_UNLOCK();
        return SMTPC_ERR_CONNECT;
    }
    LW_UNLOCK();

    for (;;) {
        u8_t st;
        LW_LOCK();
        st = t->state;
        LW_UNLOCK();
        if (st == S_CONNECTED || st == S_PEER_CLOSED)
            return SMTPC_OK;
        if (st != S_CONNECTING) {
            t->state = S_CLOSED;
            return SMTPC_ERR_CONNECT; /* refused or unreachable */
        }
        if (lw_now(t) >= deadline) {
            LW_LOCK();
            lw_abort(t);
            t->state = S_CLOSED;
            LW_UNLOCK();
            return SMTPC_ERR_TIMEOUT;
        }
        lw_service(t);
    }
}

static long lw_send(void *ctx, const void *data, size_t len)
{
    smtpc_lwip *t = ctx;
    long r;

    LW_LOCK();
    if (t->pcb == NULL || (t->state != S_CONNECTED && t->state != S_PEER_CLOSED)) {
        r = t->state == S_ERROR ? lw_error_status(t) : SMTPC_ERR_CLOSED;
    } else {
        size_t room = tcp_sndbuf(t->pcb);
        if (tcp_sndqueuelen(t->pcb) >= TCP_SND_QUEUELEN)
            room = 0;
        if (len > room)
            len = room;
        if (len > 0xFFFFu)
            len = 0xFFFFu;
        r = 0;
        if (len > 0) {
            /* COPY: smtpc reuses its send area as soon as we return. */
            err_t e = tcp_write(t->pcb, data, (u16_t)len, TCP_WRITE_FLAG_COPY);
            if (e == ERR_OK)
                r = (long)len;
            else if (e != ERR_MEM)
                r = SMTPC_ERR_IO;
            /* ERR_MEM: no segment memory now; 0, try again later */
            if (r >= 0)
                tcp_output(t->pcb);
        }
    }
    LW_UNLOCK();
    return r;
}

static long lw_recv(void *ctx, void *buf, size_t len)
{
    smtpc_lwip *t = ctx;
    long r = 0;

    LW_LOCK();
    if (t->rx != NULL) {
        u16_t n = len > t->rx->tot_len ? t->rx->tot_len : (u16_t)len;
        n = pbuf_copy_partial(t->rx, buf, n, 0);
        /* Frees the pbufs read up to n, keeps the rest of the chain. */
        t->rx = pbuf_free_header(t->rx, n);
        /* Only now may the peer send more (flow control). */
        if (t->pcb != NULL)
            tcp_recved(t->pcb, n);
        r = (long)n;
    } else if (t->state == S_PEER_CLOSED || t->state == S_CLOSED) {
        r = SMTPC_ERR_CLOSED;
    } else if (t->state == S_ERROR) {
        r = lw_error_status(t);
    }
    LW_UNLOCK();
    return r;
}

static int lw_wait(void *ctx, unsigned events, uint32_t timeout_ms)
{
    smtpc_lwip *t = ctx;
    uint64_t deadline = lw_now(t) + timeout_ms;

    for (;;) {
        unsigned ready = 0;
        u8_t st;

        LW_LOCK();
        st = t->state;
        if ((events & SMTPC_IO_READ) &&
            (t->rx != NULL || st == S_PEER_CLOSED || st == S_ERROR))
            ready |= SMTPC_IO_READ;
        if ((events & SMTPC_IO_WRITE) &&
            (st == S_ERROR ||
             (t->pcb != NULL && st != S_CONNECTING && tcp_sndbuf(t->pcb) > 0 &&
              tcp_sndqueuelen(t->pcb) < TCP_SND_QUEUELEN)))
            ready |= SMTPC_IO_WRITE;
        LW_UNLOCK();
        if (ready)
            return (int)ready; /* errors show in the next send/recv */
        if (st == S_CLOSED)
            return SMTPC_ERR_CLOSED;
        if (lw_now(t) >= deadline)
            return 0;
        lw_service(t);
    }
}

static int lw_start_tls(void *ctx, const char *host, uint32_t timeout_ms)
{
    LWIP_UNUSED_ARG(ctx);
    LWIP_UNUSED_ARG(host);
    LWIP_UNUSED_ARG(timeout_ms);
    return SMTPC_ERR_UNSUPPORTED; /* wrap this transport with smtpc_tls */
}

static int lw_is_loopback(void *ctx)
{
    smtpc_lwip *t = ctx;
    return ip_addr_isloopback(&t->remote) ? 1 : 0;
}

static const smtpc_transport_ops lw_ops = {
    lw_connect,   lw_send,        lw_recv, lw_wait,
    lw_start_tls, lw_is_loopback, lw_now,  lw_close,
};

smtpc_transport smtpc_lwip_transport(smtpc_lwip *t, void (*service)(void *ctx),
                                     void *ctx)
{
    smtpc_transport tr;

    memset(t, 0, sizeof *t);
    t->state = S_CLOSED;
    t->service = service;
    t->ctx = ctx;
    tr.ops = &lw_ops;
    tr.ctx = t;
    return tr;
}
