/*
 * cli/smtpc/aliases.c - --aliases FILE: local names made addresses, as
 * msmtp's aliases file does.
 *
 *     # name: address, address...
 *     root:    ops@example.com, admin@example.com
 *     www-data: web@example.com
 *     default: postmaster@example.com
 *
 * A recipient given with no "@" ("root", as cron and other sendmail
 * callers give them) is replaced by the addresses of its line; names are
 * compared without regard to case.  A name with no line takes the
 * "default:" line's addresses when there is one, else it is left for
 * --qualify-domain.  An address of a line that has no "@" itself is
 * qualified afterwards like any other; lines are not looked up again (no
 * loops).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

/* Larger than any aliases file a submission client needs. */
#define ALIASES_MAX (1024u * 1024u)

/* One line of the file: the name and its addresses (into the text). */
typedef struct alias {
    const char *name;
    char **addrs;
    size_t count;
} alias;

static int aliases_error(const char *path, int line, const char *fmt,
                         const char *arg)
{
    fprintf(stderr, "%s: --aliases \"", CLI_NAME);
    cli_put_escaped(stderr, path);
    fputc('"', stderr);
    if (line > 0)
        fprintf(stderr, " line %d", line);
    fputs(": ", stderr);
    cli_put_format(stderr, fmt, arg);
    fputc('\n', stderr);
    return EX_CONFIG;
}

static char *read_text(const char *path, int *rc)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    *rc = 0;
    if (fd < 0) {
        *rc = aliases_error(path, 0, "%s", strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (unsigned long long)st.st_size > ALIASES_MAX) {
        close(fd);
        *rc = aliases_error(path, 0, "not a regular file of at most 1 MiB%s",
                            NULL);
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        fprintf(stderr, "%s: out of memory\n", CLI_NAME);
        *rc = EX_OSERR;
        return NULL;
    }
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        free(buf);
        *rc = aliases_error(path, 0, "holds a NUL byte: not a text file%s",
                            NULL);
        return NULL;
    }
    return buf;
}

static char *trim(char *s)
{
    char *e = s + strlen(s);

    while (*s == ' ' || *s == '\t')
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* Splits text into lines (in place), each checked: 0, or an exit code
 * after printing why.  *list is allocated, with its addrs arrays. */
static int parse(const char *path, char *text, alias **list, size_t *count)
{
    char *p = text;
    int line = 0;

    while (*p) {
        char *end = p + strcspn(p, "\n");
        char *next = *end ? end + 1 : end;
        char *colon, *name, *rest;
        alias *a, *grown;

        line++;
        *end = '\0';
        p = trim(p);
        if (*p == '\0' || *p == '#') {
            p = next;
            continue;
        }
        colon = strchr(p, ':');
        if (!colon)
            return aliases_error(path, line, "\"NAME: ADDRESS, ...\" "
                                 "expected%s", NULL);
        *colon = '\0';
        name = trim(p);
        if (*name == '\0' || strcspn(name, " \t@") != strlen(name))
            return aliases_error(path, line, "invalid name \"%s\"", name);
        grown = realloc(*list, (*count + 1) * sizeof *grown);
        if (!grown)
            goto oom;
        *list = grown;
        a = &grown[(*count)++];
        a->name = name;
        a->addrs = NULL;
        a->count = 0;
        for (rest = colon + 1; *rest;) {
            size_t n = strcspn(rest, ",");
            char *addr, **more;
            int last = rest[n] == '\0';

            rest[n] = '\0';
            addr = trim(rest);
            rest += n + !last;
            if (*addr == '\0')
                continue;
            if (strchr(addr, '@') && smtpc_check_address(addr, 0) != SMTPC_OK)
                return aliases_error(path, line, "invalid address \"%s\"",
                                     addr);
            more = realloc(a->addrs, (a->count + 1) * sizeof *more);
            if (!more)
                goto oom;
            a->addrs = more;
            a->addrs[a->count++] = addr;
        }
        if (a->count == 0)
            return aliases_error(path, line, "\"%s\" has no address", name);
        p = next;
    }
    return 0;
oom:
    fprintf(stderr, "%s: out of memory\n", CLI_NAME);
    return EX_OSERR;
}

static const alias *lookup(const alias *list, size_t count, const char *name)
{
    const alias *dflt = NULL;

    for (size_t i = 0; i < count; i++) {
        if (strcasecmp(list[i].name, name) == 0)
            return &list[i];
        if (!dflt && strcasecmp(list[i].name, "default") == 0)
            dflt = &list[i];
    }
    return dflt;
}

int cli_aliases_apply(cli_opts *o)
{
    alias *list = NULL;
    size_t count = 0, n = 0, cap = 0;
    char **out = NULL;
    size_t bare = 0;
    int rc;

    /* Read only when some recipient needs it, so that mail to full
     * addresses never depends on the file. */
    for (size_t i = 0; o->aliases_file && i < o->rcpt_count; i++)
        bare += strchr(o->rcpts[i], '@') == NULL;
    if (bare == 0)
        return 0;
    o->aliases_text = read_text(o->aliases_file, &rc);
    if (!o->aliases_text)
        return rc;
    rc = parse(o->aliases_file, o->aliases_text, &list, &count);
    for (size_t i = 0; rc == 0 && i < o->rcpt_count; i++) {
        const alias *a = strchr(o->rcpts[i], '@')
                             ? NULL
                             : lookup(list, count, o->rcpts[i]);
        size_t add = a ? a->count : 1;

        if (n + add > cap) {
            char **grown;
            cap = (n + add) * 2;
            grown = realloc(out, cap * sizeof *grown);
            if (!grown) {
                fprintf(stderr, "%s: out of memory\n", CLI_NAME);
                rc = EX_OSERR;
                break;
            }
            out = grown;
        }
        for (size_t j = 0; j < add; j++) {
            char *addr = a ? a->addrs[j] : o->rcpts[i];
            int dup = 0;
            /* One RCPT per mailbox, however many names lead to it. */
            for (size_t k = 0; k < n && !dup; k++)
                dup = strcmp(out[k], addr) == 0;
            if (!dup)
                out[n++] = addr;
        }
    }
    for (size_t i = 0; i < count; i++)
        free(list[i].addrs);
    free(list);
    if (rc) {
        free(out);
        return rc;
    }
    o->aliased = out;
    o->rcpts = out;
    o->rcpt_count = n;
    return 0;
}
