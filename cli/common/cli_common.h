/*
 * cli/common/cli_common.h - what smtpc and smtpc-bench share: the forms of
 * --server, the values of --tls, --timeout and sizes, the option table
 * (opt.c), and writing untrusted strings to a terminal or into JSON.
 *
 * Both programs accept a value the same way or not at all: a --server or
 * --timeout that one takes, the other takes too.
 */
#ifndef SMTPC_CLI_COMMON_H
#define SMTPC_CLI_COMMON_H

#include <stdint.h>
#include <stdio.h>

#include "smtpc/smtpc.h"

/* A TLS backend is linked (the build defines SMTPC_HAVE_<BACKEND>) and the
 * engine was built with TLS. */
#if SMTPC_WITH_TLS && (defined(SMTPC_HAVE_OPENSSL) || defined(SMTPC_HAVE_MBEDTLS))
#define CLI_HAVE_TLS 1
#else
#define CLI_HAVE_TLS 0
#endif

/* Longest accepted --timeout, so that milliseconds fit in 32 bits. */
#define CLI_TIMEOUT_MAX_S 86400u

/* ---- server.c ---- */

/* Splits HOST, HOST:PORT, [V6], [V6]:PORT or a bare IPv6 literal (which
 * takes no port: the whole argument is the address).  *host is allocated,
 * brackets gone; *port is 0 when none was given.  0, or -1 (bad syntax, or
 * no memory). */
int cli_split_server(const char *arg, char **host, uint16_t *port);

/* The submission port for a TLS mode when --server names none: 25 for
 * none, 465 for implicit TLS, 587 otherwise. */
uint16_t cli_default_port(int tls);

/* ---- values.c ---- */

/* --tls: CLI_TLS_AUTO (resolved once the port is known) or a
 * smtpc_tls_mode. */
enum { CLI_TLS_AUTO = -1 };

/* Which --tls words a program takes (CLI_TLSW_ bits of the table in
 * values.c). */
enum {
    CLI_TLSW_AUTO = 1u << 0,
    CLI_TLSW_NONE = 1u << 1,
    CLI_TLSW_STARTTLS = 1u << 2,
    CLI_TLSW_IMPLICIT = 1u << 3,
    CLI_TLSW_OPPORTUNISTIC = 1u << 4
};

/* The mode of a --tls word among those allowed: 0 and *mode, or -1. */
int cli_parse_tls(const char *s, unsigned allowed, int *mode);

/* The word of a mode (as --json prints it), or NULL for none known. */
const char *cli_tls_name(int mode);

/* --timeout: whole seconds, 1 to CLI_TIMEOUT_MAX_S, digits only.  0 or
 * -1. */
int cli_parse_seconds(const char *s, uint32_t *seconds);

/* A count of digits only; with suffixes, one of k, M, G (any case, times
 * 1024 each) may follow.  0, or -1 (bad form, or more than 64 bits). */
int cli_parse_count(const char *s, int suffixes, uint64_t *out);

/* ---- escape.c ---- */

/* Writes s with bytes outside printable ASCII as \xNN. */
void cli_put_escaped(FILE *f, const char *s);

/* ---- output.c ---- */

/* Makes stderr line-buffered (a big buffer): each line is one write(2),
 * so lines of concurrent runs do not interleave.  Call before any
 * output. */
void cli_stderr_by_line(void);

/* Flushes f, then writes buf[0..len) to its file descriptor with one
 * write(2) (more only if the kernel takes part of it). */
void cli_write_whole(FILE *f, const char *buf, size_t len);

/* Writes fmt, whose one optional "%s" stands for arg written escaped (a
 * hostile value cannot drive the terminal); a NULL arg writes nothing. */
void cli_put_format(FILE *f, const char *fmt, const char *arg);

/* Writes s as a JSON string, quotes included; NULL as null.  Invalid
 * UTF-8 and control bytes are escaped, so the output always parses. */
void cli_json_string(FILE *out, const char *s);

/* Reads the regular file open on fd whole, at most max bytes, into a new
 * buffer (the caller frees it) with a NUL after its len bytes.  0, or an
 * errno value: EINVAL (not a regular file), EFBIG (over max bytes),
 * EILSEQ (a NUL byte inside: not text), ENOMEM, or the read's own. */
int cli_read_text(int fd, size_t max, char **out, size_t *len);

/* Reads fd into buf until end of file or cap bytes, whichever comes first,
 * retrying interrupted reads: the count, or -1 with errno set. */
long cli_read_up_to(int fd, void *buf, size_t cap);

#endif /* SMTPC_CLI_COMMON_H */
