/*
 * The NetX Duo configuration of smtpc's NetX tests (named by
 * NX_INCLUDE_USER_DEFINE_FILE, included by nx_api.h): what an
 * application's nx_user.h would hold.  The stack's defaults otherwise
 * (IPv4 and IPv6, error checking on); tests/integration/84_netx_configs.sh
 * compiles the port under the other configurations.
 *
 * The NX_SMTP_CLIENT_* settings live here too, as in an application: the
 * library and the application see one configuration.
 */
#ifndef SMTPC_TEST_NX_USER_H
#define SMTPC_TEST_NX_USER_H

/* The RAM network is 10.0.0.x / 1.2.3.x inside one process; AUTH over it
 * is what the tests exercise (NetX Duo's own client always sent it so). */
#ifndef NX_SMTP_CLIENT_ALLOW_PLAINTEXT_AUTH
#define NX_SMTP_CLIENT_ALLOW_PLAINTEXT_AUTH 1
#endif

/* Addresses usable at once on the RAM network (no duplicate detection). */
#define NX_DISABLE_IPV6_DAD

/* Short timeouts (ticks; 100 a second) so the stall tests end quickly. */
#ifdef SMTPC_TEST_SHORT_TIMEOUTS
#define NX_SMTP_CLIENT_CONNECTION_TIMEOUT (2 * NX_IP_PERIODIC_RATE)
#define NX_SMTP_GREETING_TIMEOUT (NX_IP_PERIODIC_RATE / 2)
#define NX_SMTP_ENVELOPE_TIMEOUT (NX_IP_PERIODIC_RATE / 2)
#define NX_SMTP_MESSAGE_TIMEOUT (NX_IP_PERIODIC_RATE / 2)
#define NX_SMTP_CLIENT_SEND_TIMEOUT (NX_IP_PERIODIC_RATE / 2)
#define NX_SMTP_CLIENT_PACKET_TIMEOUT (NX_IP_PERIODIC_RATE / 2)
#define NX_SMTP_CLIENT_DISCONNECT_TIMEOUT (NX_IP_PERIODIC_RATE / 2)
#endif

#endif
