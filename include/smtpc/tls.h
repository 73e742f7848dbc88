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

/* More about the handshake, for a person to read: the key exchange group
 * and the server's signature algorithm where the backend tells them
 * ("group X25519, server signature ecdsa_secp256r1_sha256"), or "" before
 * the handshake; kept like smtpc_tls_info. */
SMTPC_API const char *smtpc_tls_params(const smtpc_tls *t);

/* One certificate of the chain the server presented, in words.  Each
 * string is NUL-terminated and cut to fit. */
typedef struct smtpc_tls_cert {
    char subject[256];   /* distinguished name, RFC 2253 order */
    char issuer[256];
    char not_before[32]; /* "2026-01-31 23:59:59 UTC" */
    char not_after[32];
    char key[48];        /* the public key: "EC 256 bits", "RSA 2048 bits" */
    char sha256[96];     /* SHA-256 of the DER certificate, "AB:CD:..." */
} smtpc_tls_cert;

/* Certificate i of the chain the server sent in the handshake (0: its
 * own, then the ones it sent to prove it), into *out.  Only while the TLS
 * connection is open (after start_tls, before close).  SMTPC_OK, or
 * SMTPC_ERR_ARG when there is no such certificate. */
SMTPC_API int smtpc_tls_peer_cert(const smtpc_tls *t, size_t i,
                                  smtpc_tls_cert *out);

/* Frees t (closing the connection first).  NULL is fine. */
SMTPC_API void smtpc_tls_free(smtpc_tls *t);

/* "openssl" or "mbedtls". */
SMTPC_API const char *smtpc_tls_backend(void);

/* ---- Session resumption ----
 *
 * A resumed handshake skips the certificate exchange and the signature:
 * less CPU on both sides, and with TLS 1.2 one round trip less (TLS 1.3
 * takes one round trip either way; no 0-RTT data is ever sent).  The
 * OpenSSL backend resumes TLS 1.3 (tickets) and TLS 1.2 (tickets and
 * session IDs); the mbedTLS 2.28 backend speaks TLS 1.2 only and resumes
 * with TLS 1.2 tickets or session IDs.
 *
 * The caller owns the storage and points smtpc_tls_options.session at it.
 * After each handshake (and, with TLS 1.3, whenever the server sends a new
 * ticket, which comes with the first bytes read after the handshake) the
 * backend writes the session there; at the next start_tls it is offered to
 * the server.  A session carries a fingerprint (SHA-256) of what it was
 * verified under: the host name given to start_tls, cafile, capath, the
 * trust anchors loaded from them, the pin and insecure_skip_verify, and the
 * backend.  It is offered only when all of these are the same, since a
 * resumed session is not verified again.  A session that is malformed, was
 * altered (it carries a SHA-256 of its bytes), or was made by the other
 * backend is never offered: the handshake is then a full one.
 *
 * data[0..len) is the serialised form: a tool may write it to a file and
 * read it back in a later run (smtpc_tls_session_import checks it).  It
 * holds a resumption secret: keep such a file private (mode 0600) and
 * clear the struct with smtpc_tls_session_clear when done with it.
 */
typedef struct smtpc_tls_session {
    size_t len; /* bytes of data in use; 0: empty */
    unsigned char data[SMTPC_TLS_SESSION_MAX];
} smtpc_tls_session;

/* Empties s and wipes every byte of it (smtpc_wipe).  NULL is fine. */
SMTPC_API void smtpc_tls_session_clear(smtpc_tls_session *s);

/* Copies a serialised session (bytes[0..len), e.g. read from a cache
 * file) into s after checking its framing and checksum and that it was
 * made by the linked backend: SMTPC_OK, or SMTPC_ERR_ARG (s is then
 * emptied).  Whether it fits a given server is decided at start_tls. */
SMTPC_API int smtpc_tls_session_import(smtpc_tls_session *s,
                                       const void *bytes, size_t len);

/* Nonzero when the last successful start_tls on t resumed a session from
 * opt->session; kept after the connection closes, until the next
 * start_tls. */
SMTPC_API int smtpc_tls_session_reused(const smtpc_tls *t);

/* Nonzero when opt->session holds a session that start_tls to host would
 * offer (intact, this backend, made under the same host name and trust
 * settings): a TLS handshake with that server succeeded before.  The
 * port is not part of it.  A caller may then send STARTTLS right after
 * the greeting (SMTPC_OPT_STARTTLS_FIRST in smtpc/engine.h). */
SMTPC_API int smtpc_tls_session_fits(smtpc_tls *t, const char *host);

#ifdef __cplusplus
}
#endif

#endif /* SMTPC_TLS_H */
