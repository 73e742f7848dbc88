/*
 * nxd_smtp_client.h - the NetX Duo SMTP Client API, on top of smtpc.
 *
 * The three functions, their parameters, constants, status values and
 * configuration macros are those of the NetX Duo SMTP Client, so that an
 * application written for it builds against smtpc unchanged.  What differs
 * (every bug of the original fixed, Date/Message-ID/X-Priority added, the
 * TLS extension) is listed in docs/COMPAT.md.
 *
 *   NX_SMTP_CLIENT client;                          (application-owned)
 *   nxd_smtp_client_create(&client, ip, pool, "user", "pass",
 *                          "me@example.com", "example.com",
 *                          NX_SMTP_CLIENT_AUTH_PLAIN, &server, 587);
 *   nx_smtp_mail_send(&client, "you@example.com", NX_SMTP_MAIL_PRIORITY_NORMAL,
 *                     "Subject", body, body_length);   (as often as wanted)
 *   nx_smtp_client_delete(&client);
 *
 * Ownership: the application allocates NX_SMTP_CLIENT (statically or not)
 * and keeps it until nx_smtp_client_delete returns.  username, password
 * and client_domain are copied; from_address is kept by pointer and MUST
 * stay valid until delete.  Arguments of nx_smtp_mail_send are only used
 * during the call.  One client MUST NOT be used by two threads at once;
 * two clients never share anything (no static buffer).
 *
 * The library never allocates in these functions (the optional TLS backend
 * does, inside nx_smtp_client_tls_set's session; see below).
 *
 * Inside a real NetX Duo build, include nx_api.h first: its types and
 * status values are then used and not redefined here, and each client
 * carries NetX Duo's TCP transport (ports/netxduo; docs/COMPAT.md,
 * "Moving a NetX Duo application over").
 */
#ifndef NXD_SMTP_CLIENT_H
#define NXD_SMTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "smtpc/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ThreadX / NetX base types, when no ThreadX header defined them ---- */

#if !defined(TX_API_H) && !defined(TX_PORT_H) && \
    !defined(NX_SMTP_CLIENT_HAVE_TX_TYPES)
typedef unsigned int UINT;
typedef unsigned long ULONG;
typedef char CHAR;
#endif

#ifndef NX_API_H
/* Only pointers to these are used: a hosted build passes NULL. */
typedef struct NX_IP_STRUCT NX_IP;
typedef struct NX_PACKET_POOL_STRUCT NX_PACKET_POOL;

/* An IPv4 or IPv6 address, as NetX Duo defines it: v4 in host byte order,
 * v6 as four host-order ULONGs, most significant first. */
typedef struct NXD_ADDRESS_STRUCT {
    ULONG nxd_ip_version; /* NX_IP_VERSION_V4 or NX_IP_VERSION_V6 */
    union {
        ULONG v4;
        ULONG v6[4];
    } nxd_ip_address;
} NXD_ADDRESS;
#endif /* NX_API_H */

#ifndef NX_IP_VERSION_V4
#define NX_IP_VERSION_V4 0x4
#endif
#ifndef NX_IP_VERSION_V6
#define NX_IP_VERSION_V6 0x6
#endif
/* Ticks a second; NetX's default. */
#ifndef NX_IP_PERIODIC_RATE
#define NX_IP_PERIODIC_RATE 100
#endif

/* ---- General NetX status values used by this API ---- */

#ifndef NX_SUCCESS
#define NX_SUCCESS 0x00
#endif
#ifndef NX_NO_PACKET
#define NX_NO_PACKET 0x01 /* a reply did not come in time (on NetX Duo
                             also: the pool gave no packet in time) */
#endif
#ifndef NX_PTR_ERROR
#define NX_PTR_ERROR 0x07
#endif
#ifndef NX_SIZE_ERROR
#define NX_SIZE_ERROR 0x09
#endif
#ifndef NX_CALLER_ERROR
#define NX_CALLER_ERROR 0x11
#endif
#ifndef NX_IP_ADDRESS_ERROR
#define NX_IP_ADDRESS_ERROR 0x21
#endif
#ifndef NX_NOT_CONNECTED
#define NX_NOT_CONNECTED 0x38 /* no connection, or it was lost */
#endif

/* ---- Configuration (compile-time; timeouts in NX_IP_PERIODIC_RATE ticks) ---- */

/* On NetX Duo the receive window of the client's TCP socket; a hosted
 * TCP stack chooses its own. */
#ifndef NX_SMTP_CLIENT_TCP_WINDOW_SIZE
#define NX_SMTP_CLIENT_TCP_WINDOW_SIZE 1460
#endif
/* On NetX Duo the longest wait for a packet from the client's pool; none
 * by then fails the mail with NX_NO_PACKET.  Unused on a hosted system. */
#ifndef NX_SMTP_CLIENT_PACKET_TIMEOUT
#define NX_SMTP_CLIENT_PACKET_TIMEOUT (2 * NX_IP_PERIODIC_RATE)
#endif
/* Establishing the TCP connection. */
#ifndef NX_SMTP_CLIENT_CONNECTION_TIMEOUT
#define NX_SMTP_CLIENT_CONNECTION_TIMEOUT (10 * NX_IP_PERIODIC_RATE)
#endif
/* On NetX Duo the wait for an orderly TCP disconnect.  QUIT's reply is
 * awaited for NX_SMTP_ENVELOPE_TIMEOUT, like every other command's. */
#ifndef NX_SMTP_CLIENT_DISCONNECT_TIMEOUT
#define NX_SMTP_CLIENT_DISCONNECT_TIMEOUT (5 * NX_IP_PERIODIC_RATE)
#endif
/* The server's 220 greeting. */
#ifndef NX_SMTP_GREETING_TIMEOUT
#define NX_SMTP_GREETING_TIMEOUT (10 * NX_IP_PERIODIC_RATE)
#endif
/* Replies to EHLO/HELO, STARTTLS, AUTH, MAIL, RCPT, DATA, QUIT (and the
 * TLS handshake). */
#ifndef NX_SMTP_ENVELOPE_TIMEOUT
#define NX_SMTP_ENVELOPE_TIMEOUT (10 * NX_IP_PERIODIC_RATE)
#endif
/* The reply after the message's final ".". */
#ifndef NX_SMTP_MESSAGE_TIMEOUT
#define NX_SMTP_MESSAGE_TIMEOUT (30 * NX_IP_PERIODIC_RATE)
#endif
/* Sending each piece of the message (on NetX Duo also the wait of each
 * nx_tcp_socket_send for the server's window). */
#ifndef NX_SMTP_CLIENT_SEND_TIMEOUT
#define NX_SMTP_CLIENT_SEND_TIMEOUT (5 * NX_IP_PERIODIC_RATE)
#endif
/* Longest user name and client domain, in bytes (NUL not counted). */
#ifndef NX_SMTP_CLIENT_MAX_USERNAME
#define NX_SMTP_CLIENT_MAX_USERNAME 40
#endif
/* Longest password, in bytes (NUL not counted). */
#ifndef NX_SMTP_CLIENT_MAX_PASSWORD
#define NX_SMTP_CLIENT_MAX_PASSWORD 20
#endif
/* Kept for source compatibility: the engine bounds challenges itself. */
#ifndef NX_SMTP_SERVER_CHALLENGE_MAX_STRING
#define NX_SMTP_SERVER_CHALLENGE_MAX_STRING 200
#endif
/* smtpc: the I/O buffer inside each NX_SMTP_CLIENT, at least SMTPC_IO_MIN.
 * A larger one means fewer, larger writes of the body. */
#ifndef NX_SMTP_CLIENT_BUFFER_SIZE
#define NX_SMTP_CLIENT_BUFFER_SIZE 1024
#endif
/* smtpc: 1 lets AUTH send credentials over a connection without TLS to a
 * host that is not loopback, as the original NetX client always did.
 * Default 0: such a send fails with NX_SMTP_AUTH_INSECURE before any
 * credential leaves; use nx_smtp_client_tls_set, or define this to 1. */
#ifndef NX_SMTP_CLIENT_ALLOW_PLAINTEXT_AUTH
#define NX_SMTP_CLIENT_ALLOW_PLAINTEXT_AUTH 0
#endif

/* ---- SMTP client status values (NetX Duo's) ---- */

#define NX_SMTP_AUTHENTICATION_ERROR 0xA0     /* credentials refused, or no usable mechanism */
#define NX_SMTP_OVERSIZE_MAIL_DATA 0xA1       /* mail larger than the server's SIZE */
#define NX_SMTP_INVALID_SERVER_REPLY 0xA2     /* reply not allowed at that point */
#define NX_SMTP_INTERNAL_ERROR 0xA3
#define NX_SMTP_SERVER_ERROR_CODE_RECEIVED 0xA4 /* 4xx/5xx outside the phases below */
#define NX_SMTP_INVALID_PARAM 0xA5            /* bad argument: nothing was sent */
#define NX_SMTP_PACKET_ALLOCATE_ERROR 0xA6    /* never returned by smtpc
                                                (NX_NO_PACKET instead) */
#define NX_SMTP_GREET_REPLY_ERROR 0xA7        /* greeting not 220 */
#define NX_SMTP_HELLO_REPLY_ERROR 0xA8        /* EHLO and HELO refused */
#define NX_SMTP_MAIL_REPLY_ERROR 0xA9
#define NX_SMTP_RCPT_REPLY_ERROR 0xAA
#define NX_SMTP_MESSAGE_REPLY_ERROR 0xAB      /* reply after the final "." */
#define NX_SMTP_DATA_REPLY_ERROR 0xAC         /* DATA not answered 354 */
#define NX_SMTP_AUTH_REPLY_ERROR 0xAD         /* AUTH answered with an error */
#define NX_SMTP_SERVER_ERROR_REPLY 0xAE       /* unparsable reply */
#define NX_SMTP_TRANSMIT_ERROR 0xAF           /* sending or receiving failed */
#define NX_SMTP_INVALID_SERVER_CHALLENGE 0xB0 /* bad AUTH challenge */
#define NX_SMTP_OVERSIZE_SERVER_REPLY 0xB1    /* reply line or reply too long */
/* The client was never created, or was deleted.  Spelled so in NetX Duo;
 * the correctly spelled alias means the same. */
#define NX_SMTP_CLIENT_NOT_INTIALIZED 0xB2
#define NX_SMTP_CLIENT_NOT_INITIALIZED NX_SMTP_CLIENT_NOT_INTIALIZED

/* smtpc extensions (values NetX Duo does not use): */
#define NX_SMTP_TLS_UNAVAILABLE 0xB3   /* TLS required; the server did not offer
                                          or refused STARTTLS */
#define NX_SMTP_TLS_ERROR 0xB4         /* TLS handshake or record failure, or
                                          bytes injected before TLS */
#define NX_SMTP_TLS_CERT_ERROR 0xB5    /* server certificate not trusted, or not
                                          for this server */
#define NX_SMTP_TLS_NOT_SUPPORTED 0xB6 /* no TLS backend in this build */
#define NX_SMTP_AUTH_INSECURE 0xB7     /* credentials would cross in clear */

/* ---- Other constants (NetX Duo's) ---- */

#define NX_SMTP_CLIENT_AUTH_NONE 0xFFFF
#define NX_SMTP_CLIENT_AUTH_LOGIN 1
#define NX_SMTP_CLIENT_AUTH_CRAM_MD5 2
#define NX_SMTP_CLIENT_AUTH_PLAIN 3

#define NX_SMTP_MAIL_PRIORITY_LOW 0x01
#define NX_SMTP_MAIL_PRIORITY_NORMAL 0x02
#define NX_SMTP_MAIL_PRIORITY_HIGH 0x04

#define NX_SMTP_RECIPIENT_TO 0x01
#define NX_SMTP_RECIPIENT_CC 0x02
#define NX_SMTP_RECIPIENT_BCC 0x04

/* nx_smtp_client_id of a created client ("SMTP"). */
#define NX_SMTP_CLIENT_ID 0x534D5450UL

/* TLS modes for nx_smtp_client_tls_set. */
#define NX_SMTP_CLIENT_TLS_NONE 0
#define NX_SMTP_CLIENT_TLS_STARTTLS 1 /* STARTTLS required, no fallback */
#define NX_SMTP_CLIENT_TLS_IMPLICIT 2 /* TLS from the first byte (port 465) */

/* ---- The client ---- */

/* Room for the header lines built per mail (Date, Message-ID with the
 * client domain, X-Priority; the constant MIME lines are not copied). */
#define NX_SMTP_CLIENT_HEADER_SIZE (120 + NX_SMTP_CLIENT_MAX_USERNAME)

/* The transport the client opens for each mail: NetX Duo's TCP when
 * nx_api.h came first (ports/netxduo, whose nxd_smtp_port_netxduo.c then
 * replaces src/compat/nxd_smtp_port.c), else POSIX TCP.  A port to another
 * TCP/IP stack defines this type (and supplies src/compat/nxd_smtp_port.c's
 * functions for it). */
#ifndef NX_SMTP_CLIENT_TRANSPORT_TYPE
#ifdef NX_API_H
#include "smtpc_netxduo.h"
#define NX_SMTP_CLIENT_TRANSPORT_TYPE smtpc_netxduo
/* The transport runs on the application's NX_IP and NX_PACKET_POOL. */
#define NX_SMTP_CLIENT_NEEDS_IP 1
#else
#define NX_SMTP_CLIENT_TRANSPORT_TYPE smtpc_tcp
#endif
#endif
#ifndef NX_SMTP_CLIENT_NEEDS_IP
#define NX_SMTP_CLIENT_NEEDS_IP 0
#endif

struct smtpc_compat_tls_ops;

/* Private per-mail state of the header generator (src/compat). */
typedef struct smtpc_compat_mail {
    const char *rcpt, *from, *subject, *body;
    size_t subject_len, body_len;
    size_t subject_pos, subject_col, subject_last; /* folding */
    unsigned stage, subject_mode, subject_fold;
    size_t tail_len;
    char tail[NX_SMTP_CLIENT_HEADER_SIZE];
    char word[80]; /* one RFC 2047 encoded word with its fold */
} smtpc_compat_mail;

/* Private smtpc state of a client: read only through the API. */
typedef struct smtpc_compat_state {
    char host[48];                 /* server address as an IP literal */
    uint32_t message_count;        /* for Message-ID */
    unsigned tls_mode;             /* NX_SMTP_CLIENT_TLS_* */
    const char *tls_server_name;   /* certificate name; NULL: the address */
    const char *tls_ca_file;       /* NULL: system trust store */
    const struct smtpc_compat_tls_ops *tls_ops; /* set by tls_set */
    void *tls_ctx;                 /* the TLS backend's object, per mail */
    smtpc_transport tls_inner;     /* shim below TLS: connects to host */
    smtpc_client_config config;
    smtpc_client client;
    smtpc_rcpt rcpt;
    smtpc_envelope envelope;
    smtpc_result result;           /* last mail's outcome, for diagnostics */
    smtpc_compat_mail mail;
    NX_SMTP_CLIENT_TRANSPORT_TYPE transport;
    unsigned char buffer[NX_SMTP_CLIENT_BUFFER_SIZE];
} smtpc_compat_state;

typedef struct NX_SMTP_CLIENT_STRUCT {
    ULONG nx_smtp_client_id; /* NX_SMTP_CLIENT_ID while created */
    CHAR nx_smtp_username[NX_SMTP_CLIENT_MAX_USERNAME + 1];
    CHAR nx_smtp_password[NX_SMTP_CLIENT_MAX_PASSWORD + 1];
    CHAR nx_smtp_client_domain[NX_SMTP_CLIENT_MAX_USERNAME + 1];
    CHAR *nx_smtp_client_from_address;  /* kept by pointer */
    UINT nx_smtp_client_authentication_type;
    NX_IP *nx_smtp_client_ip_ptr;       /* NetX Duo: the connection's IP
                                           instance; unused when hosted */
    NX_PACKET_POOL *nx_smtp_client_packet_pool_ptr; /* NetX Duo: packets for
                                           sending; unused when hosted */
    UINT nx_smtp_client_init_status;    /* nonzero while created */
    NXD_ADDRESS nx_smtp_server_address;
    UINT nx_smtp_server_port;
    UINT nx_smtp_client_reply_code_status; /* last reply code of the last
                                              mail (0: none was read) */
    UINT nx_smtp_client_mail_status;    /* status of the last mail */
    smtpc_compat_state nx_smtp_client_smtpc; /* private */
} NX_SMTP_CLIENT;

/*
 * Prepares client_ptr.  On NetX Duo ip_ptr (TCP enabled) and
 * client_packet_pool_ptr carry every connection and MUST stay valid until
 * delete; NULL gives NX_PTR_ERROR.  A hosted system does not use them
 * (they may be NULL).  username, password, from_address, client_domain
 * and server_address MUST NOT be NULL (NX_PTR_ERROR, as the original
 * returns); with NX_SMTP_CLIENT_AUTH_NONE pass "" for username and
 * password.
 * port 0 means 25 (465 with implicit TLS).  Nothing is sent.
 * NX_SUCCESS, NX_PTR_ERROR, NX_SIZE_ERROR (username or domain over
 * NX_SMTP_CLIENT_MAX_USERNAME, password over NX_SMTP_CLIENT_MAX_PASSWORD),
 * NX_IP_ADDRESS_ERROR (nxd_ip_version neither 4 nor 6), or
 * NX_SMTP_INVALID_PARAM (unknown authentication type, port over 65535, a
 * from address or domain that cannot be used on the wire).
 */
SMTPC_API UINT nxd_smtp_client_create(NX_SMTP_CLIENT *client_ptr, NX_IP *ip_ptr,
                            NX_PACKET_POOL *client_packet_pool_ptr,
                            CHAR *username, CHAR *password,
                            CHAR *from_address, CHAR *client_domain,
                            UINT authentication_type,
                            NXD_ADDRESS *server_address, UINT port);

/* Forgets the client (the password is wiped).  NX_SUCCESS, NX_PTR_ERROR,
 * or NX_SMTP_CLIENT_NOT_INTIALIZED when it was not created. */
SMTPC_API UINT nx_smtp_client_delete(NX_SMTP_CLIENT *client_ptr);

/*
 * Sends one mail in one SMTP session (connect, EHLO, AUTH, MAIL, RCPT,
 * DATA, QUIT, close) and returns when it is over; the client can send
 * again afterwards, whatever the outcome.  The message is the header
 * block (To, From, Subject, Date, Message-ID, X-Priority, MIME-Version,
 * Content-Type: text/plain; charset="utf-8",
 * Content-Transfer-Encoding: 8bit), an empty line, and mail_body's
 * mail_body_length bytes (any line ends, any length: they are sent with
 * CRLF and dot-stuffed).  NX_SUCCESS once the server accepted the mail;
 * else a status from the table in docs/COMPAT.md.  Subject and addresses
 * holding CR, LF or NUL give NX_SMTP_INVALID_PARAM with nothing sent.
 */
SMTPC_API UINT nx_smtp_mail_send(NX_SMTP_CLIENT *client_ptr, CHAR *recipient_address,
                       UINT priority, CHAR *subject, CHAR *mail_body,
                       UINT mail_body_length);

/*
 * smtpc extension: TLS for the next mails (src/compat/nxd_smtp_tls.c).
 * tls_mode: NX_SMTP_CLIENT_TLS_NONE, _STARTTLS (required: no plaintext
 * fallback) or _IMPLICIT.  server_name: the name the server's certificate
 * must carry (and the SNI), e.g. "smtp.office365.com"; NULL checks the
 * server address itself.  ca_file: a PEM bundle of trusted CAs; NULL uses
 * the system trust store.  Both are kept by pointer and MUST stay valid
 * until delete or the next call.  The TLS backend allocates while a mail
 * is sent and frees before nx_smtp_mail_send returns.
 * NX_SUCCESS, NX_PTR_ERROR, NX_SMTP_CLIENT_NOT_INTIALIZED,
 * NX_SMTP_INVALID_PARAM (unknown mode, or a server name with CR/LF), or
 * NX_SMTP_TLS_NOT_SUPPORTED (no TLS backend in this build).
 */
SMTPC_API UINT nx_smtp_client_tls_set(NX_SMTP_CLIENT *client_ptr, UINT tls_mode,
                            CHAR *server_name, CHAR *ca_file);

#ifdef __cplusplus
}
#endif

#endif /* NXD_SMTP_CLIENT_H */
