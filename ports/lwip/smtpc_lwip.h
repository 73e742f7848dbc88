/*
 * smtpc_lwip.h - an smtpc transport over lwIP's raw TCP API (lwIP 2.1).
 *
 * Fills in the transport table of smtpc/transport.h with tcp_new,
 * tcp_connect, tcp_write, tcp_recv and friends, so the blocking client
 * (smtpc/client.h), the NetX Duo compatible API, a TLS layer (smtpc/tls.h,
 * e.g. over mbedTLS) or the application's own superloop can run over
 * lwIP.  docs/PORTING.md explains each function; this is its worked
 * example.
 *
 * Memory: struct smtpc_lwip is the caller's (static, typically); received
 * pbufs are held until smtpc read them, and the TCP window is reopened
 * (tcp_recved) only then, so a slow reader slows the sender down instead
 * of exhausting the pbuf pool.  Nothing is allocated here beyond lwIP's
 * own PCB and pbufs.
 *
 * Threads:
 *   - NO_SYS=1 (bare metal): call everything from the main loop.  The
 *     blocking calls (connect, wait) run `service` while they wait; it
 *     must do what the main loop does for the stack: feed received frames
 *     to netif->input and call sys_check_timeouts().
 *   - NO_SYS=0 (an RTOS): needs LWIP_TCPIP_CORE_LOCKING=1; every raw API
 *     call here is made under LOCK_TCPIP_CORE(), and lwIP's callbacks
 *     (which run in the tcpip thread) change this struct only under that
 *     lock too.  `service` may be NULL: waiting then sleeps a millisecond
 *     at a time (sys_msleep), or give a function that blocks on your own
 *     event (the callbacks call `notify` when set).
 *
 * start_tls returns SMTPC_ERR_UNSUPPORTED: TLS is a layer on top
 * (smtpc_tls_new(&tls, smtpc_lwip_transport(...), &opt)).
 */
#ifndef SMTPC_LWIP_H
#define SMTPC_LWIP_H

#include "lwip/opt.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"

#include "smtpc/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct smtpc_lwip {
    struct tcp_pcb *pcb;  /* NULL when closed (or freed by lwIP on error) */
    struct pbuf *rx;      /* received bytes not read yet (a chain) */
    ip_addr_t remote;     /* the peer, for is_loopback */
    volatile u8_t state;  /* private: SMTPC_LWIP_S_* */
    volatile s8_t err;    /* lwIP's error from the error callback */
    volatile u8_t dns_state;
    ip_addr_t dns_addr;
    u32_t now_last, now_high; /* sys_now() widened to 64 bits */
    void (*service)(void *ctx);
    void (*notify)(void *ctx); /* optional: called from lwIP's callbacks */
    void *ctx;
} smtpc_lwip;

/*
 * Makes t a closed transport and returns its table.  service runs the
 * stack once while a call waits (see above; NULL: sys_check_timeouts()
 * without an OS, sys_msleep(1) with one); ctx is passed to it.  t MUST
 * stay valid (and in place) until closed: lwIP's callbacks point to it.
 */
smtpc_transport smtpc_lwip_transport(smtpc_lwip *t, void (*service)(void *ctx),
                                     void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* SMTPC_LWIP_H */
