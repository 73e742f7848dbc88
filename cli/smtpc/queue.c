/*
 * cli/smtpc/queue.c - --queue DIR: a message that meets a temporary failure is
 * kept and sent again by `smtpc --flush-queue`, so that nothing is lost
 * when smtpc stands in for sendmail (cron does not retry).
 *
 * Layout, one directory per message, each created in tmp/ and renamed
 * into place whole (a rename is atomic, so no flush sees half an entry):
 *
 *     DIR/tmp/ID/      being written, or waiting for this run's outcome
 *     DIR/new/ID/      queued: to be sent again
 *     DIR/failed/ID/   refused for good when sent again: kept to look at
 *
 * with ID = seconds.nanoseconds.pid (sorted by age) and in each:
 *
 *     message          the bytes read on standard input, as they came
 *     args             "smtpc-queue 1\n", the working directory, "\n",
 *                      then the command-line words, each ending in NUL
 *
 * With --queue, standard input is copied to the entry first and then read
 * back from it, so the run sends exactly as without a queue; on a
 * temporary failure (exit 75) the entry moves to new/ and smtpc exits 0,
 * as sendmail does once a message is queued.  --flush-queue runs smtpc
 * again for each entry, with its words, --no-queue, and the message on
 * standard input: every check, -t, qualify-domain and --log work as they
 * did the first time, with the configuration and environment of the
 * flush.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define ARGS_MAGIC "smtpc-queue 1\n"

static char *path3(const char *a, const char *b, const char *c)
{
    char *ab = cli_path_join(a, b);
    char *s = ab ? cli_path_join(ab, c) : NULL;

    free(ab);
    return s;
}

static int queue_error(const char *what, const char *path, int err)
{
    fprintf(stderr, "%s: --queue: %s \"", CLI_NAME, what);
    cli_put_escaped(stderr, path);
    fprintf(stderr, "\": %s\n", strerror(err));
    return EX_TEMPFAIL; /* as sendmail: cannot queue now, try later */
}

/* DIR and its three subdirectories, made when missing (mode 0700: the
 * messages are private). */
static int make_dirs(const char *qdir)
{
    static const char *const sub[] = {"tmp", "new", "failed"};

    if (mkdir(qdir, 0700) != 0 && errno != EEXIST)
        return queue_error("cannot create", qdir, errno);
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
        char *p = cli_path_join(qdir, sub[i]);
        if (!p)
            return queue_error("cannot create", qdir, ENOMEM);
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            int rc = queue_error("cannot create", p, errno);
            free(p);
            return rc;
        }
        free(p);
    }
    return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The args file: how to run this message again. */
static int write_args(const char *path, int argc, char **argv)
{
    char cwd[PATH_MAX];
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int ok = fd >= 0 && getcwd(cwd, sizeof cwd) != NULL &&
             write_all(fd, ARGS_MAGIC, strlen(ARGS_MAGIC)) == 0 &&
             write_all(fd, cwd, strlen(cwd)) == 0 &&
             write_all(fd, "\n", 1) == 0;

    for (int i = 1; ok && i < argc; i++)
        ok = write_all(fd, argv[i], strlen(argv[i]) + 1) == 0;
    if (fd >= 0 && (fsync(fd) != 0 || close(fd) != 0))
        ok = 0;
    return ok ? 0 : -1;
}

/* Copies standard input into path, then puts the copy on standard input
 * (offset 0): the run reads a regular file from here on. */
static int spool_stdin(const char *path)
{
    char *buf = malloc(CLI_BODY_CHUNK);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int ok = buf && fd >= 0;

    while (ok) {
        ssize_t n = read(STDIN_FILENO, buf, CLI_BODY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ok = 0;
            break;
        }
        if (n == 0)
            break;
        ok = write_all(fd, buf, (size_t)n) == 0;
    }
    free(buf);
    if (ok)
        ok = fsync(fd) == 0 && lseek(fd, 0, SEEK_SET) == 0 &&
             dup2(fd, STDIN_FILENO) == STDIN_FILENO;
    if (fd >= 0)
        close(fd);
    return ok ? 0 : -1;
}

int cli_queue_spool(const char *qdir, int argc, char **argv, char **entry)
{
    char id[64];
    char *dir, *msg = NULL, *args = NULL;
    struct timespec now;
    int rc = 0, read_some = 0;

    *entry = NULL;
    if (make_dirs(qdir) != 0)
        goto unqueued;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(id, sizeof id, "%lld.%09ld.%ld", (long long)now.tv_sec,
             now.tv_nsec, (long)getpid());
    dir = path3(qdir, "tmp", id);
    if (!dir) {
        queue_error("cannot create an entry in", qdir, ENOMEM);
        goto unqueued;
    }
    if (mkdir(dir, 0700) != 0) {
        queue_error("cannot create", dir, errno);
        free(dir);
        goto unqueued;
    }
    *entry = dir;
    msg = cli_path_join(dir, "message");
    args = cli_path_join(dir, "args");
    if (!msg || !args || write_args(args, argc, argv) != 0) {
        rc = queue_error("cannot write", args ? args : dir, errno);
    } else if (spool_stdin(msg) != 0) {
        rc = queue_error("cannot copy the message to", msg, errno);
        read_some = 1;
    }
    free(msg);
    free(args);
    if (rc == 0)
        return 0;
    cli_queue_discard(*entry);
    free(*entry);
    *entry = NULL;
    if (read_some)
        return EX_TEMPFAIL; /* part of the message is gone: try later */
unqueued:
    /* Nothing was read yet: better sent without a queue than not at all
     * (a queue the caller's user cannot write to, say). */
    fprintf(stderr, "%s: --queue: sending without a queue\n", CLI_NAME);
    return 0;
}

/* Removes an entry directory and its two files. */
static void remove_entry(const char *dir)
{
    char *msg = cli_path_join(dir, "message");
    char *args = cli_path_join(dir, "args");

    if (msg)
        unlink(msg);
    if (args)
        unlink(args);
    rmdir(dir);
    free(msg);
    free(args);
}

void cli_queue_discard(const char *entry)
{
    if (entry)
        remove_entry(entry);
}

/* Moves DIR/<from>/ID to DIR/<to>/ID; entry_dir is DIR/<from>/ID. */
static int move_entry(const char *qdir, const char *entry_dir, const char *to)
{
    const char *id = strrchr(entry_dir, '/');
    char *dst = id ? path3(qdir, to, id + 1) : NULL;
    int rc = dst && rename(entry_dir, dst) == 0 ? 0 : -1;

    if (rc == 0) {
        /* The rename is only durable once the new parent is on disk. */
        char *parent = cli_path_join(qdir, to);
        int dfd = parent ? open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                         : -1;
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        free(parent);
    }
    free(dst);
    return rc;
}

int cli_queue_commit(const char *qdir, const char *entry)
{
    const char *id = strrchr(entry, '/');

    if (move_entry(qdir, entry, "new") != 0)
        return queue_error("cannot queue", entry, errno);
    fprintf(stderr, "%s: queued as %s in \"", CLI_NAME, id ? id + 1 : entry);
    cli_put_escaped(stderr, qdir);
    fputs("\"; smtpc --flush-queue sends it again\n", stderr);
    return 0;
}

/* Reads an entry's args file (already open as fd): its working directory
 * and its words, into one allocation *blob.  0 or -1. */
static int read_args(int fd, char **blob, char **cwd, char ***words,
                     int *count)
{
    struct stat st;
    size_t len = 0, magic = strlen(ARGS_MAGIC);
    char *b, *p, *end;
    int n = 0;

    if (fstat(fd, &st) != 0 || st.st_size < (off_t)magic ||
        st.st_size > 1024 * 1024)
        return -1;
    b = malloc((size_t)st.st_size + 1);
    if (!b)
        return -1;
    while (len < (size_t)st.st_size) {
        ssize_t r = pread(fd, b + len, (size_t)st.st_size - len, (off_t)len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    b[len] = '\0';
    p = memchr(b + magic, '\n', len - magic);
    /* The magic line, the directory line, then words that each end in a
     * NUL (so the last byte is one, unless there are none). */
    if (len != (size_t)st.st_size || memcmp(b, ARGS_MAGIC, magic) != 0 ||
        !p || (p + 1 < b + len && b[len - 1] != '\0')) {
        free(b);
        return -1;
    }
    *p = '\0';
    *cwd = b + magic;
    end = b + len;
    for (char *q = p + 1; q < end; q += strlen(q) + 1)
        n++;
    *words = calloc((size_t)n + 3, sizeof **words);
    if (!*words) {
        free(b);
        return -1;
    }
    n = 0;
    for (char *q = p + 1; q < end; q += strlen(q) + 1)
        (*words)[2 + n++] = q;
    *count = n;
    *blob = b;
    return 0;
}

/* Runs smtpc again for one entry: its words after "--no-queue", the
 * message on standard input, in its working directory.  The exit status,
 * or -1 when it could not be run. */
static int run_entry(const char *dir, int args_fd)
{
    char *blob, *cwd, **words, *msg;
    int count, status, fd;
    pid_t pid;

    if (read_args(args_fd, &blob, &cwd, &words, &count) != 0)
        return -1;
    msg = cli_path_join(dir, "message");
    fd = msg ? open(msg, O_RDONLY | O_CLOEXEC) : -1;
    free(msg);
    if (fd < 0) {
        free(words);
        free(blob);
        return -1;
    }
    words[0] = (char *)CLI_NAME;
    words[1] = (char *)"--no-queue";
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        if (dup2(fd, STDIN_FILENO) != STDIN_FILENO)
            _exit(EX_OSERR);
        /* Its messages name the entry. */
        setenv(CLI_QUEUE_ID_ENV, strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir,
               1);
        if (chdir(cwd) != 0) {
            /* Gone since: stay here (only relative paths suffer). */
        }
        execv("/proc/self/exe", words);
        _exit(EX_OSERR);
    }
    close(fd);
    free(words);
    free(blob);
    if (pid < 0)
        return -1;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Exit statuses that are about the message itself, so that sending it
 * again cannot help: its words (64), its content (65), the server's
 * refusal (69). */
static int refused_for_good(int rc)
{
    return rc == EX_USAGE || rc == EX_DATAERR || rc == EX_UNAVAILABLE;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cli_queue_flush(const char *qdir)
{
    char *newdir = cli_path_join(qdir, "new");
    DIR *d = newdir ? opendir(newdir) : NULL;
    struct dirent *de;
    char **ids = NULL;
    size_t n = 0, sent = 0, kept = 0, failed = 0, busy = 0;
    int exit_code = EX_OK, worst = EX_OK;

    if (!d && !(newdir && errno == ENOENT)) {
        int rc = queue_error("cannot read", newdir ? newdir : qdir,
                             newdir ? errno : ENOMEM);
        free(newdir);
        return rc;
    }
    while (d && (de = readdir(d)) != NULL) {
        char **more;
        if (de->d_name[0] == '.')
            continue;
        more = realloc(ids, (n + 1) * sizeof *ids);
        if (!more || !(more[n] = strdup(de->d_name))) {
            ids = more ? more : ids;
            exit_code = EX_OSERR;
            break;
        }
        ids = more;
        n++;
    }
    if (d)
        closedir(d);
    if (n)
        qsort(ids, n, sizeof *ids, by_name);

    for (size_t i = 0; i < n && exit_code == EX_OK; i++) {
        char *dir = cli_path_join(newdir, ids[i]);
        char *args = dir ? cli_path_join(dir, "args") : NULL;
        int fd = args ? open(args, O_RDONLY | O_CLOEXEC) : -1;
        int locked = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0;
        int rc;

        /* Another flush is sending it (locked), or sent it between our
         * open and our lock (gone). */
        if (!locked || access(args, F_OK) != 0) {
            busy += fd >= 0;
            if (fd >= 0)
                close(fd);
            free(args);
            free(dir);
            continue;
        }
        free(args);
        rc = run_entry(dir, fd);
        if (rc == EX_OK) {
            remove_entry(dir);
            sent++;
        } else if (refused_for_good(rc)) {
            move_entry(qdir, dir, "failed");
            failed++;
            if (worst == EX_OK)
                worst = EX_UNAVAILABLE;
        } else {
            /* The server still away, or what every entry needs (the
             * credentials, the configuration, the host name) to fix:
             * keep this one and leave the rest for the next flush. */
            kept++;
            exit_code = EX_TEMPFAIL;
        }
        close(fd);
        free(dir);
    }
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    fprintf(stderr, "%s: queue \"", CLI_NAME);
    cli_put_escaped(stderr, qdir);
    fprintf(stderr, "\": %zu sent, %zu kept, %zu failed (moved to failed/), "
            "%zu busy, %zu not tried\n", sent, kept, failed, busy,
            n - sent - kept - failed - busy);
    free(newdir);
    return exit_code != EX_OK ? exit_code : worst;
}
