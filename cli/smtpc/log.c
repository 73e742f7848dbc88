/*
 * cli/smtpc/log.c - --log FILE: a record of every outcome, for unattended use.
 *
 * Installed as sendmail, smtpc runs under cron, PHP or a mail user agent,
 * and nobody reads its standard error.  Each outcome (the --json object,
 * and with --batch the summary too) is appended to FILE as one line, with
 * the time and the process id in front:
 *
 *     {"time":"2026-11-28T19:53:03Z","pid":4242,"status":"ok",...}
 *
 * A line is built whole and written with one write() on a descriptor
 * opened with O_APPEND, so the lines of runs that log at the same time
 * never interleave.  The file is created mode 0600: it names senders and
 * recipients (never a secret: the JSON object holds none).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cli_log_open(const char *path, int *fd)
{
    *fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
               0600);
    if (*fd >= 0)
        return 0;
    fprintf(stderr, "%s: warning: cannot open the --log file \"", CLI_NAME);
    cli_put_escaped(stderr, path);
    fprintf(stderr, "\": %s (the mail goes on, unlogged)\n", strerror(errno));
    return EX_CANTCREAT;
}

/* Appends object (one JSON object and its newline, as the --json writers
 * print it) with "time" and "pid" put first. */
static void log_append(int fd, const char *object, size_t len)
{
    char stamp[32], head[80];
    time_t now = time(NULL);
    struct tm tm;
    char *line;
    size_t hlen, n;
    ssize_t w;

    if (len < 2 || object[0] != '{')
        return;
    if (!gmtime_r(&now, &tm) ||
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        strcpy(stamp, "?");
    hlen = (size_t)snprintf(head, sizeof head, "{\"time\":\"%s\",\"pid\":%ld,",
                            stamp, (long)getpid());
    n = hlen + len - 1;
    line = malloc(n);
    if (!line) {
        fprintf(stderr, "%s: --log: out of memory\n", CLI_NAME);
        return;
    }
    memcpy(line, head, hlen);
    memcpy(line + hlen, object + 1, len - 1);
    do
        w = write(fd, line, n);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)n)
        fprintf(stderr, "%s: cannot write the --log file: %s\n", CLI_NAME,
                w < 0 ? strerror(errno) : "short write");
    free(line);
}

/* Runs write(out, arg) into memory, then appends what it wrote. */
void cli_log_object(int fd, void (*write_object)(FILE *, const void *),
                    const void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem;

    if (fd < 0)
        return;
    mem = open_memstream(&buf, &len);
    if (!mem) {
        fprintf(stderr, "%s: --log: out of memory\n", CLI_NAME);
        return;
    }
    write_object(mem, arg);
    if (fclose(mem) == 0)
        log_append(fd, buf, len);
    free(buf);
}

static void write_outcome(FILE *out, const void *arg)
{
    cli_report_json(arg, out);
}

typedef struct summary {
    int exit_code;
    size_t messages, sent, failed, not_sent;
    unsigned connections;
} summary;

static void write_summary(FILE *out, const void *arg)
{
    const summary *s = arg;

    cli_report_json_summary(out, s->exit_code, s->messages, s->sent,
                            s->failed, s->not_sent, s->connections);
}

void cli_log_outcome(int fd, const cli_outcome *oc)
{
    cli_log_object(fd, write_outcome, oc);
}

void cli_log_summary(int fd, int exit_code, size_t messages, size_t sent,
                     size_t failed, size_t not_sent, unsigned connections)
{
    summary s = {exit_code, messages, sent, failed, not_sent, connections};

    cli_log_object(fd, write_summary, &s);
}
