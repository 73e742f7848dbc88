/*
 * cli/common/output.c - standard error that concurrent runs share.
 *
 * cron jobs, make -j and scripts start several programs on one standard
 * error; bytes written in pieces (unbuffered stdio writes each fputs on its
 * own) interleave with theirs mid-line.  A line, or a report of several
 * lines, goes out in one write(2) instead.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <unistd.h>

#include "cli_common.h"

void cli_stderr_by_line(void)
{
    /* Larger than any line written (a reply is at most 64 lines of 512). */
    static char buf[64 * 1024];

    setvbuf(stderr, buf, _IOLBF, sizeof buf);
}

void cli_write_whole(FILE *f, const char *buf, size_t len)
{
    int fd;

    fflush(f);
    fd = fileno(f);
    if (fd < 0) {
        fwrite(buf, 1, len, f);
        return;
    }
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere left to say it */
        buf += n;
        len -= (size_t)n;
    }
}
