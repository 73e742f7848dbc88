/*
 * smtpc_config.h - compile-time options of the smtpc library.
 *
 * Every option is "#ifndef X / #define X default", so a build sets any of
 * them with -DX=value.  A build that wants its own file names it with
 * -DSMTPC_CONFIG_FILE='"my_smtpc_config.h"'; that file is included first.
 *
 * Profiles: -DSMTPC_PROFILE_MINIMAL=1 turns off everything the NetX Duo SMTP
 * client does not do (it keeps EHLO/HELO, AUTH PLAIN/LOGIN, DATA with
 * dot-stuffing).  It is the same engine and client with the features
 * folded out at compile time: what a switch turns off is not linked.  The
 * default is the full profile.  Any single feature can still be switched
 * on or off after choosing a profile.
 */
#ifndef SMTPC_CONFIG_H
#define SMTPC_CONFIG_H

#ifdef SMTPC_CONFIG_FILE
#include SMTPC_CONFIG_FILE
#endif

#ifndef SMTPC_PROFILE_MINIMAL
#define SMTPC_PROFILE_MINIMAL 0
#endif

#if SMTPC_PROFILE_MINIMAL
#define SMTPC_FEATURE_DEFAULT 0
#else
#define SMTPC_FEATURE_DEFAULT 1
#endif

/* ---- Features (1 = compiled in, 0 = left out and not linked) ---- */

#ifndef SMTPC_WITH_AUTH_PLAIN
#define SMTPC_WITH_AUTH_PLAIN 1
#endif
#ifndef SMTPC_WITH_AUTH_LOGIN
#define SMTPC_WITH_AUTH_LOGIN 1
#endif
#ifndef SMTPC_WITH_AUTH_CRAM_MD5
#define SMTPC_WITH_AUTH_CRAM_MD5 SMTPC_FEATURE_DEFAULT
#endif
#ifndef SMTPC_WITH_AUTH_XOAUTH2
#define SMTPC_WITH_AUTH_XOAUTH2 SMTPC_FEATURE_DEFAULT
#endif
#ifndef SMTPC_WITH_AUTH_OAUTHBEARER
#define SMTPC_WITH_AUTH_OAUTHBEARER SMTPC_FEATURE_DEFAULT
#endif
/* STARTTLS in the engine; the TLS library itself lives in a transport. */
#ifndef SMTPC_WITH_TLS
#define SMTPC_WITH_TLS SMTPC_FEATURE_DEFAULT
#endif
#ifndef SMTPC_WITH_PIPELINING
#define SMTPC_WITH_PIPELINING SMTPC_FEATURE_DEFAULT
#endif
#ifndef SMTPC_WITH_CHUNKING
#define SMTPC_WITH_CHUNKING SMTPC_FEATURE_DEFAULT
#endif
/* DSN parameters (RET, ENVID, NOTIFY, ORCPT). */
#ifndef SMTPC_WITH_DSN
#define SMTPC_WITH_DSN SMTPC_FEATURE_DEFAULT
#endif
/* SMTPUTF8 and the 8BITMIME body parameter (BINARYMIME needs CHUNKING). */
#ifndef SMTPC_WITH_SMTPUTF8
#define SMTPC_WITH_SMTPUTF8 SMTPC_FEATURE_DEFAULT
#endif
/* SIZE (RFC 1870): the message size announced in MAIL, and a message
 * the server declared too large refused before it is sent. */
#ifndef SMTPC_WITH_SIZE
#define SMTPC_WITH_SIZE SMTPC_FEATURE_DEFAULT
#endif
/* The blocking client's trace of the dialogue (smtpc_client_config.trace). */
#ifndef SMTPC_WITH_TRACE
#define SMTPC_WITH_TRACE SMTPC_FEATURE_DEFAULT
#endif
/* English text for statuses and phases (smtpc_status_str,
 * smtpc_phase_str); without it they return a short fixed word. */
#ifndef SMTPC_WITH_STATUS_TEXT
#define SMTPC_WITH_STATUS_TEXT SMTPC_FEATURE_DEFAULT
#endif
/* The MIME writer (smtpc/mime.h, src/mime/): messages with HTML, inline
 * images and attachments composed in constant memory. */
#ifndef SMTPC_WITH_MIME
#define SMTPC_WITH_MIME SMTPC_FEATURE_DEFAULT
#endif
/* The lean MIME writer: -DSMTPC_MIME_LEAN=1 turns the four parts below
 * off (each can still be set alone).  What stays: From/To/Cc/Reply-To
 * with bare addresses, Subject, Date, Message-ID and custom fields (RFC
 * 2047 encoded-words, folding), text/plain, attachments in
 * multipart/mixed with ASCII file names, quoted-printable and base64.  A
 * message that needs a part left out is refused
 * (SMTPC_ERR_UNSUPPORTED).  Two more parts follow the engine rather than
 * this switch: the size in advance (SMTPC_MIME_WITH_SIZE), and 8bit
 * parts and UTF-8 header values (SMTPC_WITH_SMTPUTF8). */
#ifndef SMTPC_MIME_LEAN
#define SMTPC_MIME_LEAN 0
#endif
/* text/html, multipart/alternative, inline parts in multipart/related. */
#ifndef SMTPC_MIME_WITH_HTML
#define SMTPC_MIME_WITH_HTML (!SMTPC_MIME_LEAN)
#endif
/* Display names in address fields (atoms, quoted-strings, RFC 2047). */
#ifndef SMTPC_MIME_WITH_NAMES
#define SMTPC_MIME_WITH_NAMES (!SMTPC_MIME_LEAN)
#endif
/* RFC 2231 file names: non-ASCII, or too long for one quoted line. */
#ifndef SMTPC_MIME_WITH_RFC2231
#define SMTPC_MIME_WITH_RFC2231 (!SMTPC_MIME_LEAN)
#endif
/* 7bit and 8bit parts, and the look at a buffer's content that chooses
 * the encoding for SMTPC_MIME_ENC_AUTO.  Without it AUTO means
 * quoted-printable for text/... and base64 for the rest (what it means
 * for callback content in any profile), and an explicit 7BIT or 8BIT is
 * refused. */
#ifndef SMTPC_MIME_WITH_RAW
#define SMTPC_MIME_WITH_RAW (!SMTPC_MIME_LEAN)
#endif
/* The exact size of a message before its first byte (smtpc_mime_size),
 * which only SIZE= and BDAT use: it follows them.  Without it
 * smtpc_mime_size answers SMTPC_MIME_SIZE_UNKNOWN. */
#ifndef SMTPC_MIME_WITH_SIZE
#define SMTPC_MIME_WITH_SIZE (SMTPC_WITH_SIZE || SMTPC_WITH_CHUNKING)
#endif
/* The NetX Duo compatible API (nxd_smtp_client.h). */
#ifndef SMTPC_WITH_COMPAT
#define SMTPC_WITH_COMPAT 1
#endif

/* ---- Sizes and limits ---- */

/* Longest reply line accepted, CRLF included (RFC 5321 4.5.3.1.5: 512).
 * This is also the receive area the engine keeps in the caller's buffer. */
#ifndef SMTPC_LINE_MAX
#define SMTPC_LINE_MAX 512
#endif

/* Most lines one reply may have (a multi-line EHLO reply has about 15). */
#ifndef SMTPC_REPLY_LINES_MAX
#define SMTPC_REPLY_LINES_MAX 64
#endif

/* Bytes of reply text kept for the caller (NUL included), per session: the
 * lines of the last reply, joined by "\n", cut to fit.  The defaults suit a
 * microcontroller; the CMake build of the library and the CLI raises both
 * (its options SMTPC_REPLY_TEXT_MAX and SMTPC_RCPT_TEXT_MAX, passed on to
 * users through smtpc.pc) so that a whole reply is kept:
 * SMTPC_REPLY_LINES_MAX lines of SMTPC_LINE_MAX bytes fit in 32768. */
#ifndef SMTPC_REPLY_TEXT_MAX
#define SMTPC_REPLY_TEXT_MAX 128
#endif

/* Bytes of reply text kept per recipient (NUL included), likewise. */
#ifndef SMTPC_RCPT_TEXT_MAX
#define SMTPC_RCPT_TEXT_MAX 64
#endif

/* Replies awaited at once: with pipelining, how far the client runs ahead
 * of the server (RFC 5321 servers take at least 100 recipients, which then
 * go in one round trip).  Without PIPELINING every command waits for the
 * reply to the one before (a BDAT chunk too), so one is enough and the
 * queue folds to a single slot.  At most 255; costs one byte of the
 * session each. */
#ifndef SMTPC_PIPELINE_MAX
#if SMTPC_WITH_PIPELINING
#define SMTPC_PIPELINE_MAX 128
#else
#define SMTPC_PIPELINE_MAX 1
#endif
#endif

/* Smallest I/O buffer smtpc_session_init accepts: the receive area plus a
 * send area that holds any command of RFC 5321 length. */
#ifndef SMTPC_IO_MIN
#define SMTPC_IO_MIN (SMTPC_LINE_MAX + 512)
#endif

/* Longest user name, password or token accepted, in bytes. */
#ifndef SMTPC_SECRET_MAX
#define SMTPC_SECRET_MAX 4096
#endif

/* Bytes of one TLS session kept for resumption (smtpc_tls_session in
 * smtpc/tls.h): the backend's serialised session, which holds the server's
 * certificate, plus 80 bytes of framing.  A session that does not fit is
 * simply not kept (the next connection does a full handshake). */
#ifndef SMTPC_TLS_SESSION_MAX
#define SMTPC_TLS_SESSION_MAX 8192
#endif

/* Marks the public functions: the shared library exports these and
 * nothing else (it is built with hidden visibility). */
#ifndef SMTPC_API
#if defined(__GNUC__) || defined(__clang__)
#define SMTPC_API __attribute__((visibility("default")))
#else
#define SMTPC_API
#endif
#endif

#if SMTPC_PIPELINE_MAX < 1 || SMTPC_PIPELINE_MAX > 255 ||                  \
    (SMTPC_WITH_PIPELINING && SMTPC_PIPELINE_MAX < 2)
#error "SMTPC_PIPELINE_MAX must be 1..255, and 2 or more with PIPELINING"
#endif

#endif /* SMTPC_CONFIG_H */
