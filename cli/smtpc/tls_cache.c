/*
 * cli/smtpc/tls_cache.c - --tls-session-cache FILE: the TLS session kept
 * between runs, so that the next run's handshake resumes it (no
 * certificate, no signature; one round trip less with TLS 1.2).
 *
 * The file holds a resumption secret.  A resumed session is not verified
 * again, so whoever has the file and can intercept the connection can pose
 * as the server (and receive the credentials and the mail); with TLS 1.2
 * it also decrypts the connections that resumed it.  So it is treated like
 * a key file:
 *   - It is read only when it is a regular file owned by the user running
 *     smtpc with no permission for group or others, and never through a
 *     symbolic link (O_NOFOLLOW).  Anything else is refused with a warning:
 *     no resumption, the file is left alone, and the mail still goes.
 *   - It is written whole or not at all: a new file created 0600 with
 *     O_EXCL | O_NOFOLLOW next to it, fsync'd, then renamed over it.
 *   - The copy in memory is wiped when the run ends.
 * A missing, empty or damaged file (smtpc_tls_session_import checks it)
 * only means a full handshake; the library offers a session only to the
 * server name and trust settings it was verified under.
 *
 * One smtpc process keeps the session in memory between its connections
 * (--batch reconnecting), so each new one resumes; --flush-queue runs
 * smtpc once per message, each run reading the file the previous wrote.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#if CLI_HAVE_TLS
#include "smtpc/tls.h"

/* The most bytes read from the file: a larger one cannot be a session. */
#define CACHE_READ_MAX (SMTPC_TLS_SESSION_MAX + 1u)

/* "smtpc: warning: --tls-session-cache "FILE" what: why"; notes (-v)
 * have no "warning: ". */
static void cache_say(int warning, const char *path, const char *what,
                      const char *why)
{
    fprintf(stderr, "%s: %s--tls-session-cache \"", CLI_NAME,
            warning ? "warning: " : "");
    cli_put_escaped(stderr, path);
    fprintf(stderr, "\" %s%s%s\n", what, why ? ": " : "", why ? why : "");
}

static void cache_warn(const char *path, const char *what, const char *why)
{
    cache_say(1, path, what, why);
}

/* Whether st may hold our secret: a regular file, ours, private. */
static const char *unsafe_reason(const struct stat *st)
{
    if (!S_ISREG(st->st_mode))
        return "it is not a regular file";
    if (st->st_uid != geteuid())
        return "it is owned by another user";
    if (st->st_mode & (S_IRWXG | S_IRWXO))
        return "group or others may read or write it (chmod 600 it)";
    return NULL;
}

struct smtpc_tls_session *cli_tls_cache_load(cli_tls_cache *c,
                                             const char *path, int verbose)
{
    unsigned char *buf;
    struct stat st;
    const char *why;
    long n;
    int fd;

    memset(c, 0, sizeof *c);
    if (!path)
        return NULL;
    c->path = path;
    c->verbose = verbose;
    c->session = calloc(1, sizeof *c->session);
    if (!c->session) {
        cache_warn(path, "not used", "out of memory");
        return NULL;
    }
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            /* The first run: a full handshake, then the file is made. */
            c->writable = 1;
            if (verbose)
                cache_say(0, path, "does not exist yet (it will be made)",
                          NULL);
            return c->session;
        }
        /* ELOOP: a symbolic link, which is never followed. */
        cache_warn(path, "not used",
                   errno == ELOOP ? "it is a symbolic link" : strerror(errno));
        return c->session;
    }
    if (fstat(fd, &st) != 0) {
        cache_warn(path, "not used", strerror(errno));
        close(fd);
        return c->session;
    }
    why = unsafe_reason(&st);
    if (why) {
        cache_warn(path, "not used", why);
        close(fd);
        return c->session;
    }
    c->writable = 1;
    buf = malloc(CACHE_READ_MAX);
    if (!buf) {
        close(fd);
        return c->session;
    }
    n = cli_read_up_to(fd, buf, CACHE_READ_MAX);
    close(fd);
    if (n > 0 && smtpc_tls_session_import(c->session, buf, (size_t)n) != SMTPC_OK &&
        verbose)
        cache_say(0, path, "holds no usable session (a full handshake)",
                  NULL);
    smtpc_wipe(buf, CACHE_READ_MAX);
    free(buf);
    return c->session;
}

/* Writes the session to a new private file next to c->path and renames
 * it into place: 0, or -1 after warning. */
static int cache_write(const cli_tls_cache *c)
{
    size_t plen = strlen(c->path);
    char *tmp = malloc(plen + 32);
    const unsigned char *p = c->session->data;
    size_t left = c->session->len;
    int fd = -1;

    if (!tmp) {
        cache_warn(c->path, "not written", "out of memory");
        return -1;
    }
    /* A name nobody else uses: our pid, and a counter against a leftover
     * of an earlier run with the same pid.  O_EXCL with O_NOFOLLOW never
     * writes through a link someone planted there. */
    for (unsigned i = 0; i < 100 && fd < 0; i++) {
        snprintf(tmp, plen + 32, "%s.tmp.%ld.%u", c->path, (long)getpid(), i);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        cache_warn(c->path, "not written", strerror(errno));
        free(tmp);
        return -1;
    }
    errno = 0;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        p += n;
        left -= (size_t)n;
    }
    if (left > 0 || fsync(fd) != 0) {
        int err = left > 0 && errno == 0 ? EIO : errno;
        close(fd);
        unlink(tmp);
        cache_warn(c->path, "not written", strerror(err));
        free(tmp);
        return -1;
    }
    if (close(fd) != 0) {
        int err = errno;
        unlink(tmp);
        cache_warn(c->path, "not written", strerror(err));
        free(tmp);
        return -1;
    }
    if (rename(tmp, c->path) != 0) {
        int err = errno;
        unlink(tmp);
        cache_warn(c->path, "not written", strerror(err));
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

void cli_tls_cache_save(cli_tls_cache *c, const struct smtpc_tls *tls)
{
    if (!c->session || !tls || !*smtpc_tls_info(tls))
        return; /* no handshake happened: nothing new to keep */
    if (c->verbose) {
        fprintf(stderr, "%s: TLS session %s\n", CLI_NAME,
                smtpc_tls_session_reused(tls) ? "resumed" : "not resumed "
                "(full handshake)");
    }
    /* Only a file we would have read is replaced; an empty session (the
     * server gave none) leaves the old one. */
    if (c->writable && c->session->len > 0)
        (void)cache_write(c);
}

void cli_tls_cache_free(cli_tls_cache *c)
{
    if (c->session) {
        smtpc_tls_session_clear(c->session);
        free(c->session);
    }
    c->session = NULL;
}

#else /* no TLS: nothing to keep */

struct smtpc_tls_session *cli_tls_cache_load(cli_tls_cache *c,
                                             const char *path, int verbose)
{
    (void)verbose;
    memset(c, 0, sizeof *c);
    if (path)
        fprintf(stderr, "%s: warning: --tls-session-cache ignored: built "
                "without TLS support\n", CLI_NAME);
    return NULL;
}

void cli_tls_cache_save(cli_tls_cache *c, const struct smtpc_tls *tls)
{
    (void)c, (void)tls;
}

void cli_tls_cache_free(cli_tls_cache *c)
{
    (void)c;
}

#endif
