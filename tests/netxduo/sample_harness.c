/*
 * sample_harness.c - runs a NetX Duo SMTP application unchanged (NetX
 * Duo's samples/demo_netxduo_smtp_client.c, examples/netxduo/) on the RAM
 * network, with a server side it does not know about.
 *
 * The program is linked with -Wl,--wrap=tx_application_define: ThreadX
 * calls this file's __wrap_tx_application_define, which runs the
 * application's own tx_application_define first, then adds
 *   - netx_server_ip at SMTPC_NETX_SERVER (default 1.2.3.4, the sample's
 *     SERVER_IP_ADDRESS; IPv6 2001:db8::4) on the same RAM network,
 *   - the relay (netx_relay_thread.c) from its port SMTPC_NETX_PORT
 *     (default 25) to
 *     SMTPC_RELAY_HOST (127.0.0.1 or ::1) port SMTPC_RELAY_PORT,
 *   - a watcher that ends the process (exit 0) once the application's
 *     thread named SMTPC_APP_THREAD (default "client_thread") has returned
 *     and the relay has finished its session; exit 3 after 120 s.
 * Whether the mail arrived is for the caller to check in the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netx_support.h"

void __real_tx_application_define(void *first_unused_memory);
void __wrap_tx_application_define(void *first_unused_memory);

/* ThreadX's list of created threads (tx_thread_initialize.c). */
extern TX_THREAD *_tx_thread_created_ptr;

static TX_THREAD watcher;

static TX_THREAD *thread_find(const char *name)
{
    TX_THREAD *t = _tx_thread_created_ptr;
    ULONG n;

    for (n = 0; t != NX_NULL && n < 64; n++) {
        CHAR *tn = NX_NULL;
        TX_THREAD *next = NX_NULL;
        tx_thread_info_get(t, &tn, NX_NULL, NX_NULL, NX_NULL, NX_NULL, NX_NULL,
                           &next, NX_NULL);
        if (tn != NX_NULL && strcmp(tn, name) == 0)
            return t;
        t = next;
        if (t == _tx_thread_created_ptr)
            break;
    }
    return NX_NULL;
}

static void watcher_entry(ULONG arg)
{
    const char *name = getenv("SMTPC_APP_THREAD");
    TX_THREAD *app;
    UINT state = 0;
    ULONG i;

    (void)arg;
    if (name == NULL)
        name = "client_thread";
    for (i = 0; i < 120 * NX_IP_PERIODIC_RATE; i++) {
        app = thread_find(name);
        if (app != NX_NULL) {
            tx_thread_info_get(app, NX_NULL, &state, NX_NULL, NX_NULL, NX_NULL,
                               NX_NULL, NX_NULL, NX_NULL);
            if (state == TX_COMPLETED && netx_relay_sessions > 0) {
                netx_log("harness: %s returned; %lu relayed session(s)\n", name,
                         (unsigned long)netx_relay_sessions);
                exit(0);
            }
        }
        tx_thread_sleep(1);
    }
    netx_log("harness: %s did not finish\n", name);
    exit(3);
}

void __wrap_tx_application_define(void *first_unused_memory)
{
    const char *host = getenv("SMTPC_RELAY_HOST");
    const char *port = getenv("SMTPC_RELAY_PORT");
    const char *server = getenv("SMTPC_NETX_SERVER");
    const char *nx_port = getenv("SMTPC_NETX_PORT");
    ULONG v4 = IP_ADDRESS(1, 2, 3, 4);
    unsigned a, b, c, d;
    UINT s;

    __real_tx_application_define(first_unused_memory);
    if (server != NULL && sscanf(server, "%u.%u.%u.%u", &a, &b, &c, &d) == 4)
        v4 = IP_ADDRESS(a, b, c, d);
    if (host == NULL || port == NULL) {
        netx_log("harness: set SMTPC_RELAY_HOST and SMTPC_RELAY_PORT\n");
        exit(2);
    }
    s = netx_server_create(v4, 4);
    if (s == NX_SUCCESS)
        s = netx_relay_start(&netx_server_ip, nx_port != NULL ? (UINT)atoi(nx_port) : 25,
                             host, (unsigned)atoi(port));
    if (s == NX_SUCCESS)
        s = tx_thread_create(&watcher, "watcher", watcher_entry, 0,
                             netx_alloc(16384), 16384, 20, 20, TX_NO_TIME_SLICE,
                             TX_AUTO_START);
    if (s != NX_SUCCESS) {
        netx_log("harness: setup failed: 0x%x\n", s);
        exit(2);
    }
}
