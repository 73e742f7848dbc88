/*
 * cli/smtpc/message.c - the header section of a message on a file descriptor.
 *
 * --batch and -t need the envelope before MAIL FROM and must drop Bcc from
 * what is sent, so the header section is read first, into one buffer of
 * CLI_HEADER_MAX bytes; a larger section is refused (EX_DATAERR) rather
 * than buffered without bound.  The bytes read past it are the first of
 * the body and stay in the buffer; the rest is streamed by body_stdin.c.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

int cli_message_init(cli_message *m)
{
    memset(m, 0, sizeof *m);
    m->buf = malloc(CLI_HEADER_MAX);
    return m->buf ? 0 : -1;
}

void cli_message_free(cli_message *m)
{
    cli_headers_free(&m->hdr);
    free(m->buf);
    m->buf = NULL;
}

static int msg_error(cli_message *m, int code, const char *what,
                     const char *why)
{
    snprintf(m->hdr.error, sizeof m->hdr.error, "%s%s%s", what,
             why ? ": " : "", why ? why : "");
    return code;
}

int cli_message_read(cli_message *m, int fd, unsigned flags)
{
    size_t pos = 0, end;
    int r;

    cli_headers_free(&m->hdr);
    memset(&m->hdr, 0, sizeof m->hdr);
    m->len = 0;
    m->eof = 0;
    while (!cli_headers_end(m->buf, m->len, m->eof, &pos)) {
        ssize_t n;
        if (m->len == CLI_HEADER_MAX)
            return msg_error(m, EX_DATAERR,
                             "the header section is larger than 64 KiB",
                             NULL);
        do
            n = read(fd, m->buf + m->len, CLI_HEADER_MAX - m->len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return msg_error(m, EX_IOERR, "cannot read the message",
                             strerror(errno));
        if (n == 0)
            m->eof = 1;
        m->len += (size_t)n;
    }
    end = pos;
    r = cli_headers_parse(m->buf, &end, flags, m->qualify, &m->hdr);
    if (r == CLI_HDR_NOMEM)
        return EX_OSERR;
    if (r != 0)
        return EX_DATAERR;
    /* Close the gap left by the removed Bcc fields. */
    if (end != pos) {
        memmove(m->buf + end, m->buf + pos, m->len - pos);
        m->len -= pos - end;
    }
    return 0;
}

int cli_message_has_nul(const cli_message *m, int fd, unsigned char *scratch,
                        size_t scratch_len)
{
    off_t off;

    if (memchr(m->buf, '\0', m->len))
        return 1;
    if (m->eof)
        return 0;
    off = lseek(fd, 0, SEEK_CUR);
    if (off < 0)
        return -1;
    for (;;) {
        ssize_t n = pread(fd, scratch, scratch_len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        if (memchr(scratch, '\0', (size_t)n))
            return 1;
        off += n;
    }
}
