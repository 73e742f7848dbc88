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
#include <sys/stat.h>
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
    free(m->added);
    m->buf = NULL;
    m->added = NULL;
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
    m->head_len = 0;
    m->eof = 0;
    free(m->added);
    m->added = NULL;
    m->added_len = 0;
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
    m->head_len = end;
    return 0;
}

/* Counts the wire size of bytes, line ends made CRLF: *prev is the last
 * byte counted before (a CR then an LF is one line end). */
static void wire_count(uint64_t *size, int *prev, const unsigned char *p,
                       size_t n)
{
    uint64_t s = *size + n;
    int c = *prev;

    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n' && c != '\r')
            s++; /* bare LF: a CR is added */
        else if (c == '\r' && p[i] != '\n')
            s++; /* the bare CR before: an LF is added */
        c = p[i];
    }
    *size = s;
    *prev = c;
}

/* The end of the count: a last bare CR gets its LF, and a message that
 * does not end with a line end gets CRLF (as the engine sends it). */
static uint64_t wire_end(uint64_t size, int prev)
{
    if (prev == '\r')
        return size + 1;
    if (prev != '\n')
        return size + 2;
    return size;
}

int cli_message_has_nul(const cli_message *m, int fd, unsigned char *scratch,
                        size_t scratch_len, uint64_t *wire_size)
{
    uint64_t size = 0;
    int prev = '\n';
    off_t off;
    int nul = 0;

    if (wire_size)
        *wire_size = 0;
    if (memchr(m->buf, '\0', m->len)) {
        if (!wire_size)
            return 1;
        nul = 1;
    }
    if (m->added)
        wire_count(&size, &prev, (const unsigned char *)m->added,
                   m->added_len);
    wire_count(&size, &prev, m->buf, m->len);
    if (m->eof) {
        if (wire_size)
            *wire_size = wire_end(size, prev);
        return nul;
    }
    if (wire_size) {
        struct stat st;
        if (fstat(fd, &st) != 0)
            return -1;
        if (!S_ISREG(st.st_mode))
            return nul; /* a pipe: the size is known at its end only */
    }
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
            break;
        if (memchr(scratch, '\0', (size_t)n)) {
            if (!wire_size)
                return 1;
            nul = 1;
        }
        wire_count(&size, &prev, scratch, (size_t)n);
        off += n;
    }
    if (wire_size)
        *wire_size = wire_end(size, prev);
    return nul;
}
