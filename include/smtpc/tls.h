/*
 * smtpc/tls.h - a TLS transport that wraps another transport.
 *
 * One backend is linked: OpenSSL (src/transport/tls_openssl.c) on hosts,
 * mbedTLS (src/transport/tls_mbedtls.c) on devices, each with the shared
 * src/transport/tls_common.c; together they implement these functions.
 * TLS lives outside the core: a backend may allocate (its library does).
 *
 * Security defaults: the certificate chain is verified against the system
 * trust store (or opt->cafile / opt->capath), the name checked is the host
 * given to start_tls (the name the user configured, never one learned from
 * DNS), SNI is sent, TLS 1.2 is the minimum, and an optional SHA-256 pin of
 * the server's public key is enforced.  Only opt->insecure_skip_verify
 * turns verification off.
 */
#ifndef SMTPC_TLS_H
#define SMTPC_TLS_H

#include "transport.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct smtpc_tls smtpc_tls;

/* Creates a TLS layer over inner (which it then owns: closing the TLS
 * transport closes inner).  opt is copied; its strings MUST outlive *out.
 * SMTPC_OK, SMTPC_ERR_ARG (a bad pin), or SMTPC_ERR_TLS. */
SMTPC_API int smtpc_tls_new(smtpc_tls **out, smtpc_transport inner,
                  const smtpc_tls_options *opt);

/* The transport table of t: connect/send/recv/wait pass through to inner
 * until start_tls succeeds, then go through TLS. */
SMTPC_API smtpc_transport smtpc_tls_transport(smtpc_tls *t);

/* Why the last TLS operation failed (verification error, alert), in words;
 * "" when it did not.  Valid until the next call on t. */
SMTPC_API const char *smtpc_tls_error(const smtpc_tls *t);

/* The negotiated protocol and cipher ("TLSv1.3 TLS_AES_256_GCM_SHA384"),
 * or "" before the handshake; kept after the connection closes, until t
 * is freed. */
SMTPC_API const char *smtpc_tls_info(const smtpc_tls *t);

/* Frees t (closing the connection first).  NULL is fine. */
SMTPC_API void smtpc_tls_free(smtpc_tls *t);

/* "openssl" or "mbedtls". */
SMTPC_API const char *smtpc_tls_backend(void);

#ifdef __cplusplus
}
#endif

#endif /* SMTPC_TLS_H */
