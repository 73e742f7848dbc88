/*
 * smtpc_netxduo.h - an smtpc transport over NetX Duo's TCP socket API.
 *
 * Fills in the transport table of smtpc/transport.h with NetX Duo's
 * nx_tcp_socket_create, nxd_tcp_client_socket_connect, nx_tcp_socket_send
 * and nx_tcp_socket_receive, so that the blocking client
 * (smtpc/client.h), the NetX Duo compatible API (nxd_smtp_client.h) or a
 * TLS layer over it (smtpc/tls.h) run on the application's NX_IP and
 * NX_PACKET_POOL.  docs/PORTING.md walks through it.
 *
 * Memory: struct smtpc_netxduo is the caller's (inside NX_SMTP_CLIENT for
 * the compat API) and holds the TCP socket itself.  Nothing is allocated
 * but NetX packets: each send takes one packet from the pool (waiting up
 * to packet_wait ticks for one), fills it with at most one segment's
 * worth and hands it to NetX, so data longer than the pool's payload goes
 * out over as many packets as it needs.  Received packets are held until
 * smtpc has read every byte of them (chains included) and released then.
 * close releases whatever is held and disconnects, unbinds and deletes
 * the socket, whatever state a failure left it in.
 *
 * Threads: call from ThreadX threads (NetX's API may block), one thread
 * per transport at a time.  Two transports share nothing but the IP
 * instance and pool, which NetX protects itself.
 *
 * connect dials the address given to smtpc_netxduo_transport (NetX has no
 * resolver under its TCP API); its host argument is only the name (for
 * TLS).  start_tls returns SMTPC_ERR_UNSUPPORTED: TLS is a layer on top.
 * Time comes from tx_time_get(), in NX_IP_PERIODIC_RATE ticks a second.
 */
#ifndef SMTPC_NETXDUO_H
#define SMTPC_NETXDUO_H

#include "tx_api.h"
#include "nx_api.h"

#include "smtpc/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults of the fields below (ticks), and the receive window. */
#ifndef SMTPC_NETXDUO_WINDOW
#define SMTPC_NETXDUO_WINDOW 1460
#endif
#ifndef SMTPC_NETXDUO_PACKET_WAIT
#define SMTPC_NETXDUO_PACKET_WAIT (2 * NX_IP_PERIODIC_RATE)
#endif
#ifndef SMTPC_NETXDUO_SEND_WAIT
#define SMTPC_NETXDUO_SEND_WAIT (5 * NX_IP_PERIODIC_RATE)
#endif
#ifndef SMTPC_NETXDUO_DISCONNECT_WAIT
#define SMTPC_NETXDUO_DISCONNECT_WAIT (5 * NX_IP_PERIODIC_RATE)
#endif

typedef struct smtpc_netxduo {
    /* Set by smtpc_netxduo_transport; the caller may change the waits and
     * the window before connect. */
    NX_IP *ip;
    NX_PACKET_POOL *pool;      /* packets for sending */
    NXD_ADDRESS server;        /* where connect goes */
    ULONG window;              /* receive window of the socket */
    ULONG packet_wait;         /* ticks to wait for a packet from pool */
    ULONG send_wait;           /* ticks nx_tcp_socket_send may wait for the
                                  peer's window */
    ULONG disconnect_wait;     /* ticks for an orderly disconnect */
    /* The last NetX status that failed a call (NX_SUCCESS: none), for the
     * application's diagnostics. */
    UINT nx_status;
    /* Private. */
    NX_TCP_SOCKET socket;
    NX_PACKET *rx;             /* received, not wholly read yet */
    ULONG rx_offset;           /* bytes of rx already read */
    NX_PACKET *tx;             /* taken from pool, not sent yet */
    UCHAR created, bound, peer_closed;
    ULONG now_last, sub_ms;    /* now_ms: tx_time_get() as milliseconds */
    uint64_t now_ms;
} smtpc_netxduo;

/*
 * Makes t a closed transport over ip and pool that connects to *server
 * (copied), and returns its table.  ip must have TCP enabled.  t MUST stay
 * in place until closed: NetX links the socket into ip.
 */
smtpc_transport smtpc_netxduo_transport(smtpc_netxduo *t, NX_IP *ip,
                                        NX_PACKET_POOL *pool,
                                        const NXD_ADDRESS *server);

#ifdef __cplusplus
}
#endif

#endif /* SMTPC_NETXDUO_H */
