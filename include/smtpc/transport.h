/*
 * smtpc/transport.h - bytes in and out: the transport table.
 *
 * A transport is a table of functions and one context pointer.  The
 * blocking client (smtpc/client.h) drives the engine over any transport:
 * POSIX TCP (below), TLS backends that wrap another transport, or a port
 * to an RTOS TCP/IP stack (docs/PORTING.md).
 *
 * Return values: byte counts are >= 0; failures are negative smtpc_status
 * values (smtpc/engine.h).  send and recv never block: they return 0 when
 * they cannot make progress now, and wait blocks until they can.
 */
#ifndef SMTPC_TRANSPORT_H
#define SMTPC_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Event bits for wait. */
enum { SMTPC_IO_READ = 1u << 0, SMTPC_IO_WRITE = 1u << 1 };

typedef struct smtpc_transport_ops {
    /* Connects to host (name or IP literal) and port, trying every address
     * in turn, within timeout_ms in all.  SMTPC_OK, SMTPC_ERR_RESOLVE,
     * SMTPC_ERR_CONNECT or SMTPC_ERR_TIMEOUT. */
    int (*connect)(void *ctx, const char *host, uint16_t port,
                   uint32_t timeout_ms);
    /* Sends up to len bytes: the count sent, 0 if none can go now, or an
     * error (SMTPC_ERR_IO, SMTPC_ERR_CLOSED, SMTPC_ERR_TLS). */
    long (*send)(void *ctx, const void *data, size_t len);
    /* Receives up to len bytes: the count, 0 if none are there now,
     * SMTPC_ERR_CLOSED at end of stream, or another error. */
    long (*recv)(void *ctx, void *buf, size_t len);
    /* Blocks until send or recv (as asked in events) can make progress, or
     * timeout_ms passes: the ready SMTPC_IO_* bits, 0 on timeout, or an
     * error. */
    int (*wait)(void *ctx, unsigned events, uint32_t timeout_ms);
    /* Starts TLS on the open connection and verifies the peer as host
     * (the name the user configured).  Transports without TLS return
     * SMTPC_ERR_UNSUPPORTED. */
    int (*start_tls)(void *ctx, const char *host, uint32_t timeout_ms);
    /* Nonzero when the connected peer is a loopback address. */
    int (*is_loopback)(void *ctx);
    /* Milliseconds from any fixed point, never going backwards. */
    uint64_t (*now_ms)(void *ctx);
    /* Closes the connection; safe to call twice or when never opened. */
    void (*close)(void *ctx);
} smtpc_transport_ops;

typedef struct smtpc_transport {
    const smtpc_transport_ops *ops;
    void *ctx;
} smtpc_transport;

/* ---- POSIX TCP (src/transport/tcp_posix.c) ---- */

typedef struct smtpc_tcp {
    int fd;           /* -1 when closed */
    int loopback;
    int last_errno;   /* errno of the last failure, for messages */
    int last_gai;     /* getaddrinfo's code of the last resolver failure
                         (gai_strerror), else 0 */
    int family;       /* address family connected to (AF_INET/AF_INET6) */
} smtpc_tcp;

/* Makes t a closed TCP transport and returns its table. */
SMTPC_API smtpc_transport smtpc_tcp_transport(smtpc_tcp *t);

/* ---- TLS options, shared by the TLS backends ---- */

struct smtpc_tls_session; /* smtpc/tls.h */

typedef struct smtpc_tls_options {
    const char *cafile;      /* PEM bundle; NULL: the system trust store */
    const char *capath;      /* directory of hashed certificates; NULL */
    const char *pin_sha256;  /* base64 SHA-256 of the server's public key
                                (SubjectPublicKeyInfo); NULL: no pin */
    /* Accept any certificate.  Insecure: for tests and debugging only. */
    int insecure_skip_verify;
    /* Caller-owned storage for session resumption (smtpc/tls.h): offered
     * at start_tls when it holds a session made under the same server name
     * and verification settings, and overwritten with each new session the
     * server gives.  NULL: no resumption.  MUST outlive the TLS transport;
     * only that transport touches it while it exists. */
    struct smtpc_tls_session *session;
} smtpc_tls_options;

#ifdef __cplusplus
}
#endif

#endif /* SMTPC_TRANSPORT_H */
