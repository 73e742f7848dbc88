/*
 * cli/smtpc/body_stdin.c - the message, streamed from a file descriptor.
 *
 * One fixed buffer of CLI_BODY_CHUNK bytes is refilled for each piece the
 * client asks for, so memory does not grow with the message.  With -t and
 * --batch the bytes already read for the header section go first.  The engine
 * does the CRLF normalisation and dot-stuffing; this file only refuses a
 * NUL byte (RFC 5321 4.1.1.4 / 2.3.8: not allowed in SMTP text, and many
 * servers drop or mangle it), which fails the mail before it is completed.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static int body_next(void *ctx, const void **data, size_t *len)
{
    cli_body *b = ctx;
    ssize_t n;

    if (b->head_len) {
        /* The fields smtpc adds (newheaders.c): never a NUL. */
        *data = b->head;
        *len = b->head_len;
        b->head_len = 0;
        return SMTPC_OK;
    }
    if (b->prefix_len) {
        /* What cli_message_read took from fd: the header section and the
         * first body bytes. */
        if (memchr(b->prefix, '\0', b->prefix_len)) {
            b->nul_seen = 1;
            return SMTPC_ERR_BODY_SOURCE;
        }
        *data = b->prefix;
        *len = b->prefix_len;
        b->bytes += b->prefix_len;
        b->prefix_len = 0;
        return SMTPC_OK;
    }
    if (b->fd < 0) {
        /* The end was already seen (a terminal is not read past it). */
        *data = b->buf;
        *len = 0;
        return SMTPC_OK;
    }
    for (;;) {
        n = read(b->fd, b->buf, CLI_BODY_CHUNK);
        if (n >= 0 || errno != EINTR)
            break;
    }
    if (n < 0) {
        b->read_errno = errno ? errno : EIO;
        return SMTPC_ERR_BODY_SOURCE;
    }
    if (n > 0 && memchr(b->buf, '\0', (size_t)n)) {
        b->nul_seen = 1;
        return SMTPC_ERR_BODY_SOURCE;
    }
    b->bytes += (uint64_t)n;
    *data = b->buf;
    *len = (size_t)n;
    return SMTPC_OK;
}

smtpc_body_source cli_body_source(cli_body *b)
{
    smtpc_body_source src;

    src.next = body_next;
    src.ctx = b;
    return src;
}

int cli_body_init(cli_body *b, int fd, smtpc_body_source *src)
{
    memset(b, 0, sizeof *b);
    b->fd = fd;
    b->buf = malloc(CLI_BODY_CHUNK);
    if (!b->buf)
        return -1;
    *src = cli_body_source(b);
    return 0;
}

void cli_body_reset(cli_body *b, int fd, const void *prefix, size_t len)
{
    b->fd = fd;
    b->read_errno = 0;
    b->nul_seen = 0;
    b->bytes = 0;
    b->prefix = prefix;
    b->prefix_len = len;
    b->head = NULL;
    b->head_len = 0;
}

void cli_body_head(cli_body *b, const void *head, size_t len)
{
    b->head = head;
    b->head_len = len;
}

void cli_body_free(cli_body *b)
{
    free(b->buf);
    b->buf = NULL;
}

uint64_t cli_body_size_hint(int fd)
{
    struct stat st;
    off_t pos;

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    pos = lseek(fd, 0, SEEK_CUR);
    if (pos < 0 || pos >= st.st_size)
        return 0;
    return (uint64_t)(st.st_size - pos);
}
