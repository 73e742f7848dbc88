/*
 * src/transport/tls_common.h - what the TLS backends share (internal).
 *
 * smtpc/tls.h has two implementations, tls_openssl.c and tls_mbedtls.c, and
 * exactly one is linked.  Everything that does not talk to the TLS library
 * lives once, in tls_common.c: the transport table and its pass-through to
 * the inner transport before start_tls, the ciphertext output buffer, the
 * wait and handshake loops, the SHA-256 pin, IP literals, error texts.  A
 * backend fills in the hooks declared at the end of this file.
 *
 * Layout rule: struct smtpc_tls is defined by the backend and MUST begin
 * with a smtpc_tls_base named base; tls_common.c reaches the base through a
 * smtpc_tls pointer (C99 6.7.2.1: a pointer to a structure, converted,
 * points to its first member).  Each backend checks this at compile time.
 *
 * Not installed; nothing here is part of the library's API.
 */
#ifndef SMTPC_TRANSPORT_TLS_COMMON_H
#define SMTPC_TRANSPORT_TLS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "smtpc/tls.h"

#define SMTPC_TLS_PIN_LEN 32 /* SHA-256 */

/* The state every backend keeps, whatever its library. */
typedef struct smtpc_tls_base {
    smtpc_transport inner;
    smtpc_tls_options opt;
    unsigned char pin[SMTPC_TLS_PIN_LEN];
    int have_pin;

    int active;           /* handshake done: send/recv/wait go through TLS */
    int write_wants_read; /* the last library write wanted to read first */

    /* Ciphertext waiting for the inner transport: out[out_head..out_len).
     * The library's output goes here instead of straight into the inner
     * transport, so a library write never fails with "want write" (which
     * would oblige the caller to retry with the very same bytes, a promise
     * the transport contract does not make).  send() takes new plaintext
     * only once the previous ciphertext has left. */
    unsigned char *out;
    size_t out_len, out_head, out_cap;

    /* Set when the inner transport failed, so the caller gets the inner
     * status (CLOSED, IO) rather than a vague TLS error. */
    int inner_err;
    int oom;        /* out could not grow */
    int pin_failed; /* the certificate verify callback refused the pin */

    char err[256];
    char info[96];

    /* Session resumption (smtpc/tls.h).  ca_digest: SHA-256 over the trust
     * anchors loaded at smtpc_tls_new, set by the backend when
     * opt.session is given.  fp: the fingerprint of the current start_tls
     * (host and verification settings), which a stored session must
     * carry to be offered and which new sessions are stored with. */
    unsigned char ca_digest[SMTPC_TLS_PIN_LEN];
    unsigned char fp[SMTPC_TLS_PIN_LEN];
    int have_fp;  /* fp is set (start_tls ran with opt.session) */
    int offered;  /* a stored session was offered in this handshake */
    int reused;   /* ... and the server resumed it */
    char params[128];
} smtpc_tls_base;

/* Outcome of one call into the TLS library (the hooks below): done, no
 * progress until the inner transport can be read or written, or a negative
 * smtpc_status (with err set where there is something to say). */
enum { SMTPC_TLS_DONE = 0, SMTPC_TLS_WANT_READ = 1, SMTPC_TLS_WANT_WRITE = 2 };

/* ---- tls_common.c: for the backends ---- */

/* The start of every smtpc_tls_new: checks inner, allocates size zeroed
 * bytes (the backend's struct smtpc_tls) into *t and fills in the base: the
 * inner transport, a copy of *opt (NULL: all defaults) and the decoded pin.
 * SMTPC_OK, SMTPC_ERR_ARG (no inner transport, a bad pin) or SMTPC_ERR_TLS
 * (no memory).  Undone by smtpc_tls_base_free. */
int smtpc_tls_base_new(smtpc_tls **t, size_t size, smtpc_transport inner,
                       const smtpc_tls_options *opt);

/* Wipes and frees the ciphertext buffer and the pin, then t itself.  The
 * backend has freed its library state and closed t first. */
void smtpc_tls_base_free(smtpc_tls *t);

/* The close operation of the transport table, for smtpc_tls_free. */
void smtpc_tls_close(smtpc_tls *t);

/* Sets the error text: "what", or "what: detail" when detail is not NULL. */
void smtpc_tls_err_set(smtpc_tls *t, const char *what, const char *detail);

/* The error text for the inner transport's failure status during the
 * handshake ("connection closed ..." or "I/O error ..."). */
void smtpc_tls_err_inner_set(smtpc_tls *t, int status);

/* For the library's output callback: appends len ciphertext bytes to out.
 * 0, or -1 (and oom set) when out cannot grow. */
int smtpc_tls_out_append(smtpc_tls *t, const void *data, size_t len);

/* For the library's input callback: the inner transport's recv, with a
 * failure (< 0) also kept in inner_err. */
long smtpc_tls_inner_recv(smtpc_tls *t, void *buf, size_t len);

/* Whether md (the SHA-256 of the server's SubjectPublicKeyInfo) equals the
 * configured pin, compared in constant time.  Call only with have_pin. */
int smtpc_tls_pin_match(const smtpc_tls *t,
                        const unsigned char md[SMTPC_TLS_PIN_LEN]);

/* For the backend when it has a new session to keep (opt.session set):
 * empties and wipes the caller's storage and returns where the serialised
 * session goes, with room for *cap bytes; NULL when there is no storage
 * or no fingerprint.  smtpc_tls_session_end(t, n) then seals the n bytes
 * written (framing, fingerprint, checksum); n = 0 or n > *cap leaves the
 * storage empty and wiped. */
unsigned char *smtpc_tls_session_begin(smtpc_tls *t, size_t *cap);
void smtpc_tls_session_end(smtpc_tls *t, size_t n);

/* ---- the backend: hooks tls_common.c calls ---- */

/* SHA-256 of data[0..len) into out: 0, or -1 when the library failed. */
int smtpc_tls_lib_sha256(const void *data, size_t len,
                         unsigned char out[SMTPC_TLS_PIN_LEN]);

/* Offers the serialised session p[0..n) (made by this backend, checksum
 * and fingerprint checked) in the handshake about to start: 0 when it is
 * offered, -1 when the library refuses it (then nothing is offered). */
int smtpc_tls_lib_session_offer(smtpc_tls *t, const unsigned char *p,
                                size_t n);

/* After a completed handshake in which a session was offered: nonzero
 * when the server resumed it. */
int smtpc_tls_lib_session_reused(const smtpc_tls *t);

/* Creates the session for start_tls(host): its input/output callbacks, the
 * name to verify and SNI.  ip_len is 4 or 16 when host is an IP literal
 * (ip holds its bytes: check the certificate's iPAddress entries, send no
 * SNI, RFC 6066), else 0.  SMTPC_OK, or a status with err set; on failure
 * the caller tears the session down (smtpc_tls_lib_session_free). */
int smtpc_tls_lib_session_new(smtpc_tls *t, const char *host,
                              const unsigned char *ip, size_t ip_len);

/* One handshake attempt: SMTPC_TLS_DONE, SMTPC_TLS_WANT_READ,
 * SMTPC_TLS_WANT_WRITE, or the status of the failure with err set. */
int smtpc_tls_lib_handshake_step(smtpc_tls *t);

/* Encrypts up to len bytes (the backend may take fewer): SMTPC_TLS_DONE
 * with *done > 0, SMTPC_TLS_WANT_READ, SMTPC_TLS_WANT_WRITE, or an error
 * status. */
int smtpc_tls_lib_write(smtpc_tls *t, const void *data, size_t len,
                        size_t *done);

/* Decrypts up to len bytes (len <= INT_MAX): SMTPC_TLS_DONE with
 * *done > 0, SMTPC_TLS_WANT_READ, SMTPC_TLS_WANT_WRITE, SMTPC_ERR_CLOSED at
 * the end of the stream, or another error status. */
int smtpc_tls_lib_read(smtpc_tls *t, void *buf, size_t len, size_t *done);

/* Nonzero when decrypted plaintext is waiting to be read. */
int smtpc_tls_lib_pending(const smtpc_tls *t);

/* The negotiated protocol ("TLSv1.3") and cipher suite. */
const char *smtpc_tls_lib_version(const smtpc_tls *t);
const char *smtpc_tls_lib_cipher(const smtpc_tls *t);

/* Fills buf with smtpc_tls_params' text for the session just made ("" when
 * the backend knows nothing more). */
void smtpc_tls_lib_params(const smtpc_tls *t, char *buf, size_t len);

/* Certificate i of the peer's chain (smtpc_tls_peer_cert), the session
 * being up: SMTPC_OK or SMTPC_ERR_ARG. */
int smtpc_tls_lib_peer_cert(const smtpc_tls *t, size_t i,
                            smtpc_tls_cert *out);

/* ---- tls_common.c: for the backends' certificate descriptions ---- */

/* "AB:CD:..." of a SHA-256 digest, into out (96 bytes). */
void smtpc_tls_hex_digest(const unsigned char md[32], char out[96]);

/* Queues close_notify (one try; tls_common.c flushes it, no waiting). */
void smtpc_tls_lib_close_notify(smtpc_tls *t);

/* Frees the session, if any, and resets the backend's per-session state;
 * safe to call when there is none. */
void smtpc_tls_lib_session_free(smtpc_tls *t);

#endif /* SMTPC_TRANSPORT_TLS_COMMON_H */
