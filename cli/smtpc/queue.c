/*
 * cli/smtpc/queue.c - --queue DIR: a message that meets a temporary failure is
 * kept and sent again by `smtpc --flush-queue`, so that nothing is lost
 * when smtpc stands in for sendmail (cron does not retry).
 *
 * Layout, one directory per message, each created in tmp/ and renamed
 * into place whole (a rename is atomic, so no flush sees half an entry):
 *
 *     DIR/tmp/ID/      being written, or waiting for this run's outcome;
 *                      ID.sent: delivered, being removed
 *     DIR/new/ID/      queued: to be sent again when due
 *     DIR/failed/ID/   refused for good, or too old: kept to look at
 *
 * with ID = seconds.nanoseconds.pid (sorted by age) and in each:
 *
 *     message          the bytes read on standard input, as they came
 *     args             "smtpc-queue 1\n", the working directory, "\n",
 *                      then the command-line words, each ending in NUL
 *     envelope         "from ADDR\n", then "rcpt ADDR\n" for each
 *     state            "queued T\nattempts N\nnext T\nerror TEXT\n": when
 *                      it was queued, how often it was tried, when it is
 *                      due again (seconds since the epoch) and why the
 *                      last try failed; replaced whole (rename)
 *
 * With --queue, standard input is copied to the entry first and then read
 * back from it, so the run sends exactly as without a queue; on a
 * temporary failure (exit 75) the entry, synced to disk, moves to new/ and
 * smtpc exits 0, as sendmail does once a message is queued.
 *
 * --flush-queue runs smtpc again for each entry that is due, with its
 * words, --no-queue, and the message on standard input: every check, -t,
 * qualify-domain and --log work as they did the first time, with the
 * configuration and environment of the flush.  Entries due one after the
 * other that were queued from the same directory with the same options
 * (their recipients may differ: `sendmail -t`, `sendmail -oi -- ADDR`
 * from mail(1) or a script) go to one run of smtpc, up to
 * FLUSH_GROUP_MAX, which sends them on one connection, each behind the
 * previous one's end, and tells the flush each one's outcome on a pipe
 * (cli_queue_result).  Each entry has its own
 * schedule (a backoff that doubles, capped), so one that keeps failing
 * never holds up the others; one older than --queue-lifetime after a
 * failed try moves to failed/, and its sender gets a bounce (a new entry
 * of the queue, from the null sender).
 *
 * Crash safety: an entry is locked (flock on its args file) from before
 * it is sent until it is settled, by the flush and by the smtpc it runs,
 * so two flushes never send it at once.  A flush killed at any point
 * leaves the entry in new/ (sent again later: at most once more if it had
 * been delivered) or settled.
 */
#define _GNU_SOURCE /* pipe2 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
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

/* Name, for the smtpc a flush runs, the entries (DIR/new/ID) it sends:
 * the first (its message on standard input), then FLUSH_ENTRY_ENV "_1",
 * "_2", ... for the others. */
#define FLUSH_ENTRY_ENV "SMTPC_FLUSH_ENTRY"
/* The file descriptor on which that smtpc writes each entry's outcome:
 * "INDEX EXIT-CODE REASON\n". */
#define FLUSH_RESULTS_ENV "SMTPC_FLUSH_RESULTS"
/* Entries sent by one run (one connection): their locks are held by it,
 * and its outcome lines (each under ERROR_MAX + 32 bytes) fit in a pipe
 * without being read, so it never waits for the flush. */
#define FLUSH_GROUP_MAX 32

/* The reason kept for a failure: one line of the human report. */
#define ERROR_MAX 512

void cli_crash_point(const char *name)
{
    /* A test hook: SMTPC_TEST_CRASH=NAME[:N] kills this process (as
     * kill -9 would) the Nth time (default: first) the point NAME is
     * reached, so that a test can stop smtpc at every step that matters.
     * The times are counted in this process, or across processes (a
     * flush and the smtpc runs it starts) in the file named by
     * SMTPC_TEST_CRASH_COUNT, one byte per time. */
    static unsigned long seen;
    const char *want = getenv("SMTPC_TEST_CRASH");
    const char *count = getenv("SMTPC_TEST_CRASH_COUNT");
    size_t n = strlen(name);
    unsigned long times;

    if (!want || strncmp(want, name, n) != 0 ||
        (want[n] != '\0' && want[n] != ':'))
        return;
    times = ++seen;
    if (count && count[0]) {
        int fd = open(count, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        struct stat st;
        if (fd < 0 || write(fd, "x", 1) != 1 || fstat(fd, &st) != 0)
            raise(SIGKILL); /* better too early than never */
        times = (unsigned long)st.st_size;
        close(fd);
    }
    if (times == (want[n] == ':' ? strtoul(want + n + 1, NULL, 10) : 1))
        raise(SIGKILL);
}

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

/* fsync of a directory: what was created, renamed or removed in it is on
 * disk.  0 or -1. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -1;

    if (fd >= 0)
        close(fd);
    return rc;
}

/* DIR and its three subdirectories, made when missing (mode 0700: the
 * messages are private). */
static int make_dirs(const char *qdir)
{
    static const char *const sub[] = {"tmp", "new", "failed"};
    int made = 0;

    if (mkdir(qdir, 0700) == 0)
        made = 1;
    else if (errno != EEXIST)
        return queue_error("cannot create", qdir, errno);
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
        char *p = cli_path_join(qdir, sub[i]);
        if (!p)
            return queue_error("cannot create", qdir, ENOMEM);
        if (mkdir(p, 0700) == 0) {
            made = 1;
        } else if (errno != EEXIST) {
            int rc = queue_error("cannot create", p, errno);
            free(p);
            return rc;
        }
        free(p);
    }
    if (made)
        (void)sync_dir(qdir);
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

/* Writes dir/name whole: into dir/name.tmp, synced, then renamed over
 * dir/name (a reader sees the old file or the new, never half of one).
 * The caller syncs dir when the rename must be durable.  0 or -1. */
static int replace_file(const char *dir, const char *name, const char *data,
                        size_t len)
{
    char *path = cli_path_join(dir, name);
    size_t n = path ? strlen(path) : 0;
    char *tmp = path ? malloc(n + sizeof ".tmp") : NULL;
    int fd = -1, ok = tmp != NULL;

    if (ok) {
        memcpy(tmp, path, n);
        memcpy(tmp + n, ".tmp", sizeof ".tmp");
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ok = fd >= 0 && write_all(fd, data, len) == 0 && fsync(fd) == 0;
    }
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (ok)
        ok = rename(tmp, path) == 0;
    else if (tmp)
        unlink(tmp);
    free(tmp);
    free(path);
    return ok ? 0 : -1;
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

static void make_id(char *id, size_t len)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(id, len, "%lld.%09ld.%ld", (long long)now.tv_sec, now.tv_nsec,
             (long)getpid());
}

int cli_queue_spool(const char *qdir, int argc, char **argv, char **entry)
{
    char id[64];
    char *dir, *msg = NULL, *args = NULL;
    int rc = 0, read_some = 0;

    *entry = NULL;
    if (make_dirs(qdir) != 0)
        goto unqueued;
    make_id(id, sizeof id);
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
    if (rc == 0) {
        cli_crash_point("spooled");
        return 0;
    }
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

/* Removes an entry directory and every file in it. */
static void remove_entry(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    while (d && (de = readdir(d)) != NULL) {
        char *f;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        f = cli_path_join(dir, de->d_name);
        if (f)
            unlink(f);
        free(f);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

void cli_queue_discard(const char *entry)
{
    if (entry)
        remove_entry(entry);
}

/* Moves entry_dir (DIR/<somewhere>/ID) to DIR/<to>/<id>, durably.  0 or
 * -1 (errno set). */
static int move_entry(const char *qdir, const char *entry_dir, const char *to,
                      const char *id)
{
    char *dst = path3(qdir, to, id);
    char *parent = cli_path_join(qdir, to);
    int rc = dst && parent && rename(entry_dir, dst) == 0 ? 0 : -1;

    if (rc == 0)
        (void)sync_dir(parent); /* the rename is durable once this is */
    free(dst);
    free(parent);
    return rc;
}

/* ---- an entry's state ---- */

typedef struct qstate {
    long long queued;   /* when it entered the queue */
    long long next;     /* when it is due again */
    unsigned attempts;  /* tries so far (the first run's included) */
    char error[ERROR_MAX]; /* why the last try failed */
} qstate;

/* The delay before try attempts + 1: CLI_QUEUE_BACKOFF_MIN doubled at
 * each failure, at most CLI_QUEUE_BACKOFF_MAX. */
static long long backoff(unsigned attempts)
{
    long long d = CLI_QUEUE_BACKOFF_MIN;

    for (unsigned i = 1; i < attempts && d < CLI_QUEUE_BACKOFF_MAX; i++)
        d *= 2;
    return d < CLI_QUEUE_BACKOFF_MAX ? d : CLI_QUEUE_BACKOFF_MAX;
}

/* One line of text: line ends and other controls become spaces. */
static void set_error(qstate *s, const char *why)
{
    size_t n = 0;

    for (; why && *why && n + 1 < sizeof s->error; why++)
        s->error[n++] = (unsigned char)*why < 0x20 ? ' ' : *why;
    s->error[n] = '\0';
}

static int write_state(const char *dir, const qstate *s)
{
    char buf[ERROR_MAX + 128];
    int n = snprintf(buf, sizeof buf,
                     "queued %lld\nattempts %u\nnext %lld\nerror %s\n",
                     s->queued, s->attempts, s->next, s->error);

    return replace_file(dir, "state", buf, (size_t)n);
}

/* Reads dir/state; an entry without one (queued by an older smtpc) is
 * due now, queued at the time its ID names. */
static void read_state(const char *dir, const char *id, qstate *s)
{
    char *path = cli_path_join(dir, "state");
    FILE *f = path ? fopen(path, "re") : NULL;
    char line[ERROR_MAX + 32];

    memset(s, 0, sizeof *s);
    s->queued = strtoll(id, NULL, 10);
    s->attempts = 1;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "queued ", 7) == 0)
            s->queued = strtoll(line + 7, NULL, 10);
        else if (strncmp(line, "attempts ", 9) == 0)
            s->attempts = (unsigned)strtoul(line + 9, NULL, 10);
        else if (strncmp(line, "next ", 5) == 0)
            s->next = strtoll(line + 5, NULL, 10);
        else if (strncmp(line, "error ", 6) == 0)
            set_error(s, line + 6);
    }
    if (f)
        fclose(f);
    free(path);
}

/* The envelope file: the sender ("" for the null one) and recipients. */
static int write_envelope(const char *dir, const smtpc_envelope *env)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int rc;

    if (!m)
        return -1;
    fprintf(m, "from %s\n", env->from ? env->from : "");
    for (size_t i = 0; i < env->rcpt_count; i++)
        fprintf(m, "rcpt %s\n", env->rcpts[i].address);
    rc = fclose(m) == 0 ? replace_file(dir, "envelope", buf, len) : -1;
    free(buf);
    return rc;
}

/* The envelope's sender (allocated; NULL when unknown) and, with list,
 * each recipient printed after prefix. */
static char *read_envelope_file(const char *dir, FILE *list,
                                const char *prefix)
{
    char *path = cli_path_join(dir, "envelope");
    FILE *f = path ? fopen(path, "re") : NULL;
    char line[1100];
    char *from = NULL;

    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "from ", 5) == 0 && !from) {
            from = strdup(line + 5);
        } else if (strncmp(line, "rcpt ", 5) == 0 && list) {
            fputs(prefix, list);
            cli_put_escaped(list, line + 5);
            fputc('\n', list);
        }
    }
    if (f)
        fclose(f);
    free(path);
    return from;
}

int cli_queue_commit(const char *qdir, const char *entry,
                     const smtpc_envelope *env, const char *why)
{
    const char *id = strrchr(entry, '/');
    char *tmpdir = cli_path_join(qdir, "tmp");
    qstate s;

    id = id ? id + 1 : entry;
    memset(&s, 0, sizeof s);
    s.queued = (long long)time(NULL);
    s.attempts = 1;
    s.next = s.queued + backoff(1);
    set_error(&s, why);
    /* Everything on disk before the rename that makes it an entry, and
     * the rename on disk before smtpc exits 0. */
    if (write_envelope(entry, env) != 0 || write_state(entry, &s) != 0 ||
        sync_dir(entry) != 0 || move_entry(qdir, entry, "new", id) != 0) {
        free(tmpdir);
        return queue_error("cannot queue", entry, errno);
    }
    if (tmpdir)
        (void)sync_dir(tmpdir);
    free(tmpdir);
    cli_crash_point("queued");
    fprintf(stderr, "%s: queued as %s in \"", CLI_NAME, id);
    cli_put_escaped(stderr, qdir);
    fputs("\"; smtpc --flush-queue sends it again\n", stderr);
    return 0;
}

/* ---- sending an entry again ---- */

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

/* Adds one line of a report to why (lines joined with "; "), keeping
 * only smtpc's own ("smtpc: ...", not -v's dialogue) without the prefix.
 * When why is full, the older lines give way (the failure comes last). */
void cli_queue_why_add(char *why, size_t len, const char *line)
{
    size_t p = strlen(CLI_NAME ": "), have = strlen(why), n;

    if (strncmp(line, CLI_NAME ": ", p) != 0 || !line[p] || len < 8)
        return;
    line += p;
    /* A run of --flush-queue names its entry on every line; the reason
     * kept beside the entry needs no name of its own. */
    if (strncmp(line, "queue ", 6) == 0 && strstr(line + 6, ": ") != NULL)
        line = strstr(line + 6, ": ") + 2;
    n = strlen(line);
    if (n + 3 > len)
        line += n + 3 - len, n = len - 3;
    while (have && have + 2 + n + 1 > len) {
        /* Drop the oldest line. */
        char *next = strstr(why, "; ");
        if (!next) {
            have = 0;
            break;
        }
        memmove(why, next + 2, strlen(next + 2) + 1);
        have = strlen(why);
    }
    if (have)
        memcpy(why + have, "; ", 2), have += 2;
    memcpy(why + have, line, n);
    why[have + n] = '\0';
}

/* Copies the child's standard error (rfd) to ours, keeping its report in
 * why (cli_queue_why_add). */
static void pass_stderr(int rfd, char *why, size_t len)
{
    char buf[4096], line[ERROR_MAX];
    size_t ln = 0;

    why[0] = '\0';
    for (;;) {
        ssize_t n = read(rfd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        (void)write_all(STDERR_FILENO, buf, (size_t)n);
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                line[ln] = '\0';
                cli_queue_why_add(why, len, line);
                ln = 0;
            } else if (ln + 1 < sizeof line) {
                line[ln++] = buf[i];
            }
        }
    }
    line[ln] = '\0';
    cli_queue_why_add(why, len, line);
}

/* One entry of new/ being flushed. */
typedef struct qentry {
    const char *id;
    char *dir;           /* DIR/new/ID */
    int lock_fd;         /* its args file, locked */
    qstate state;
    int reported;        /* its run told its outcome: */
    int rc;              /* the exit code it would have had alone */
    char why[ERROR_MAX]; /* and the reason kept */
} qentry;

/* Reads the outcome lines of a run (rfd) into the entries e[0..n). */
static void read_results(int rfd, qentry *e, size_t n)
{
    char buf[FLUSH_GROUP_MAX * (ERROR_MAX + 32)];
    size_t len = 0;

    for (;;) {
        ssize_t got = read(rfd, buf + len, sizeof buf - 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    buf[len] = '\0';
    for (char *line = buf, *nl; (nl = strchr(line, '\n')) != NULL;
         line = nl + 1) {
        char *end;
        unsigned long k = strtoul(line, &end, 10);
        long rc;
        *nl = '\0';
        if (end == line || *end != ' ' || k >= n)
            continue;
        rc = strtol(end + 1, &end, 10);
        if (*end != ' ')
            continue;
        e[k].reported = 1;
        e[k].rc = (int)rc;
        snprintf(e[k].why, sizeof e[k].why, "%s", end + 1);
    }
}

/* Runs smtpc again for the entries e[0..n): the first's words after
 * "--no-queue", its message on standard input, the others named in the
 * environment (the run sends those it can with the same options, see
 * flush_run in smtpc.c), in the first's directory, holding the entries'
 * locks until it exits.  Each entry
 * whose outcome the run told has it in e[k] (reported); the first, when
 * the run told nothing (it could not run or was killed), gets the exit
 * status (-1 when killed or not run) and the last line the run wrote on
 * standard error. */
static void run_group(qentry *e, size_t n)
{
    char *blob, *cwd, **words, *msg;
    int count, status, fd, errp[2], resp[2];
    pid_t pid;

    for (size_t k = 0; k < n; k++)
        e[k].reported = 0;
    snprintf(e[0].why, sizeof e[0].why, "the queue entry cannot be read");
    e[0].rc = -1;
    if (read_args(e[0].lock_fd, &blob, &cwd, &words, &count) != 0)
        return;
    msg = cli_path_join(e[0].dir, "message");
    fd = msg ? open(msg, O_RDONLY | O_CLOEXEC) : -1;
    free(msg);
    if (fd < 0 || pipe2(errp, O_CLOEXEC) != 0) {
        if (fd >= 0)
            close(fd);
        free(words);
        free(blob);
        return;
    }
    if (pipe2(resp, O_CLOEXEC) != 0) {
        close(fd);
        close(errp[0]);
        close(errp[1]);
        free(words);
        free(blob);
        return;
    }
    words[0] = (char *)CLI_NAME;
    words[1] = (char *)"--no-queue";
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        char name[sizeof FLUSH_ENTRY_ENV + 24], num[24];
        /* The locks go with the run: kept even if this flush dies. */
        if (dup2(fd, STDIN_FILENO) != STDIN_FILENO ||
            dup2(errp[1], STDERR_FILENO) != STDERR_FILENO ||
            fcntl(resp[1], F_SETFD, 0) != 0)
            _exit(EX_OSERR);
        for (size_t k = 0; k < n; k++) {
            if (fcntl(e[k].lock_fd, F_SETFD, 0) != 0)
                _exit(EX_OSERR);
            /* So that the run removes each entry itself once the server
             * took its message, even if this flush is killed meanwhile. */
            if (k == 0)
                snprintf(name, sizeof name, "%s", FLUSH_ENTRY_ENV);
            else
                snprintf(name, sizeof name, "%s_%zu", FLUSH_ENTRY_ENV, k);
            setenv(name, e[k].dir, 1);
        }
        snprintf(name, sizeof name, "%s_%zu", FLUSH_ENTRY_ENV, n);
        unsetenv(name);
        snprintf(num, sizeof num, "%d", resp[1]);
        setenv(FLUSH_RESULTS_ENV, num, 1);
        if (chdir(cwd) != 0) {
            /* Gone since: stay here (only relative paths suffer). */
        }
        execv("/proc/self/exe", words);
        _exit(EX_OSERR);
    }
    close(fd);
    close(errp[1]);
    close(resp[1]);
    free(words);
    free(blob);
    if (pid < 0) {
        close(errp[0]);
        close(resp[0]);
        return;
    }
    pass_stderr(errp[0], e[0].why, sizeof e[0].why);
    close(errp[0]);
    read_results(resp[0], e, n);
    close(resp[0]);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return;
    }
    if (e[0].reported)
        return;
    if (!WIFEXITED(status)) {
        snprintf(e[0].why, sizeof e[0].why,
                 "smtpc was killed by signal %d while sending",
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        return;
    }
    e[0].rc = WEXITSTATUS(status);
    if (!e[0].why[0])
        snprintf(e[0].why, sizeof e[0].why, "smtpc exited with status %d",
                 e[0].rc);
}

const char *cli_queue_entry(size_t k)
{
    char name[sizeof FLUSH_ENTRY_ENV + 24];

    if (k >= FLUSH_GROUP_MAX)
        return NULL;
    if (k == 0)
        return getenv(FLUSH_ENTRY_ENV);
    snprintf(name, sizeof name, "%s_%zu", FLUSH_ENTRY_ENV, k);
    return getenv(name);
}

int cli_queue_message_open(const char *entry)
{
    char *msg = cli_path_join(entry, "message");
    int fd = msg ? open(msg, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;

    free(msg);
    return fd;
}

int cli_queue_entry_words(const char *entry, char **blob, char **cwd,
                          char ***argv, int *argc)
{
    char *args = cli_path_join(entry, "args");
    int fd = args ? open(args, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    int rc = fd >= 0 ? read_args(fd, blob, cwd, argv, argc) : -1;

    free(args);
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        return -1;
    (*argv)[0] = (char *)CLI_NAME;
    (*argv)[1] = (char *)"--no-queue";
    *argc += 2;
    return 0;
}

void cli_queue_result(size_t index, int exit_code, const char *why)
{
    const char *env = getenv(FLUSH_RESULTS_ENV);
    char line[ERROR_MAX + 64];
    int n;

    if (!env || !*env)
        return;
    /* One write, so that a line is whole or absent. */
    n = snprintf(line, sizeof line, "%zu %d ", index, exit_code);
    for (const char *p = why ? why : ""; *p && n < ERROR_MAX + 40; p++)
        line[n++] = *p == '\n' ? ' ' : *p;
    line[n++] = '\n';
    (void)write_all(atoi(env), line, (size_t)n);
}

void cli_queue_retire(const char *dir)
{
    const char *slash = dir ? strrchr(dir, '/') : NULL;
    size_t plen = slash ? (size_t)(slash - dir) : 0;
    char *dst;

    /* DIR/new/ID becomes DIR/tmp/ID.sent. */
    if (!slash || plen < 4 || memcmp(slash - 4, "/new", 4) != 0 ||
        !slash[1])
        return;
    dst = malloc(plen + strlen(slash) + sizeof ".sent");
    if (!dst)
        return;
    memcpy(dst, dir, plen - 3);
    memcpy(dst + plen - 3, "tmp", 3);
    strcpy(dst + plen, slash);
    strcat(dst, ".sent");
    (void)rename(dir, dst);
    free(dst);
}

/* Exit statuses that are about the message itself, so that sending it
 * again cannot help: its words (64), its content (65), the server's
 * refusal (69). */
static int refused_for_good(int rc)
{
    return rc == EX_USAGE || rc == EX_DATAERR || rc == EX_UNAVAILABLE;
}

/* ---- bounces ---- */

/* "2h5m" for a number of seconds. */
static void put_duration(char *buf, size_t len, long long s)
{
    if (s < 0)
        s = 0;
    if (s >= 86400)
        snprintf(buf, len, "%lldd%lldh", s / 86400, s % 86400 / 3600);
    else if (s >= 3600)
        snprintf(buf, len, "%lldh%lldm", s / 3600, s % 3600 / 60);
    else if (s >= 60)
        snprintf(buf, len, "%lldm", s / 60);
    else
        snprintf(buf, len, "%llds", s);
}

/* Writes the bounce for the entry dir (id) refused for why: a message
 * from the null sender to the entry's sender, with the reason and the
 * message's header section.  Returns it as an allocated buffer. */
static char *bounce_text(const char *dir, const char *sender, const qstate *s,
                         const char *why, size_t *len)
{
    char host[256] = "localhost", date[64], age[32];
    char *buf = NULL, *msgpath = cli_path_join(dir, "message");
    FILE *m = open_memstream(&buf, len), *in;
    const char *at = strrchr(sender, '@');
    time_t now = time(NULL);
    struct tm tm;
    int c, prev = '\n', blank = 0;
    size_t copied = 0;

    if (!m) {
        free(msgpath);
        return NULL;
    }
    (void)gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    localtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
    put_duration(age, sizeof age, (long long)now - s->queued);
    fprintf(m, "From: Mail Delivery System <MAILER-DAEMON@%s>\n", at ? at + 1
                                                                      : host);
    fprintf(m, "To: <%s>\n", sender);
    fputs("Subject: Undelivered Mail Returned to Sender\n", m);
    fprintf(m, "Date: %s\n", date);
    fputs("Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
          "Content-Type: text/plain; charset=utf-8\n"
          "Content-Transfer-Encoding: 8bit\n\n", m);
    fprintf(m, "This is smtpc on %s.\n\n", host);
    fprintf(m, "Your message could not be delivered to the recipients "
            "below: it was given\nup after %u attempt%s over %s.\n\n",
            s->attempts, s->attempts == 1 ? "" : "s", age);
    fprintf(m, "Reason: %s\n\n", why);
    fputs("Recipients:\n", m);
    free(read_envelope_file(dir, m, "  "));
    fputs("\nThe message's header section follows.\n\n", m);
    in = msgpath ? fopen(msgpath, "re") : NULL;
    while (in && (c = getc(in)) != EOF && copied < CLI_HEADER_MAX) {
        if (c == '\r')
            continue;
        if (c == '\n' && prev == '\n')
            break; /* the empty line that ends the header section */
        blank = c == '\n';
        fputc(c, m);
        prev = c;
        copied++;
    }
    if (!blank)
        fputc('\n', m);
    if (in)
        fclose(in);
    free(msgpath);
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Queues the bounce of entry dir (id) in DIR/new/ID.bounce, due now.  Its
 * name is fixed so that a flush killed after this and before the entry
 * moved to failed/ does not write a second one.  The bounce's id
 * (allocated) when one was queued, else NULL. */
static char *queue_bounce(const char *qdir, const char *dir, const char *id,
                          const qstate *s, const char *why)
{
    char *sender = read_envelope_file(dir, NULL, NULL);
    size_t idlen = strlen(id), len = 0;
    char *bid = NULL, *tdir = NULL, *ndir = NULL, *fdir = NULL, *text = NULL;
    char *args = NULL;
    struct stat st;
    smtpc_envelope env;
    smtpc_rcpt rcpt;
    qstate bs;
    int ok = 0;

    /* The null sender gets no bounce (RFC 5321 6.1: no loops); a bounce
     * is never bounced either. */
    if (!sender || !sender[0] || (idlen > 7 && !strcmp(id + idlen - 7, ".bounce")))
        goto out;
    bid = malloc(idlen + sizeof ".bounce");
    if (!bid)
        goto out;
    memcpy(bid, id, idlen);
    memcpy(bid + idlen, ".bounce", sizeof ".bounce");
    tdir = path3(qdir, "tmp", bid);
    ndir = path3(qdir, "new", bid);
    fdir = path3(qdir, "failed", bid);
    if (!tdir || !ndir || !fdir)
        goto out;
    if (stat(ndir, &st) == 0 || stat(fdir, &st) == 0) {
        free(bid); /* queued by a flush killed before it moved the entry */
        bid = NULL;
        goto out;
    }
    remove_entry(tdir); /* half written by a killed flush */
    text = bounce_text(dir, sender, s, why, &len);
    args = cli_path_join(tdir, "args");
    if (!text || !args || mkdir(tdir, 0700) != 0)
        goto out;
    {
        char *words[] = {(char *)CLI_NAME, (char *)"--from=", (char *)"--",
                         sender};
        memset(&env, 0, sizeof env);
        memset(&rcpt, 0, sizeof rcpt);
        rcpt.address = sender;
        env.from = "";
        env.rcpts = &rcpt;
        env.rcpt_count = 1;
        memset(&bs, 0, sizeof bs);
        bs.queued = (long long)time(NULL);
        bs.next = bs.queued;
        snprintf(bs.error, sizeof bs.error, "not tried yet");
        ok = write_args(args, 4, words) == 0 &&
             replace_file(tdir, "message", text, len) == 0 &&
             write_envelope(tdir, &env) == 0 && write_state(tdir, &bs) == 0 &&
             sync_dir(tdir) == 0 && move_entry(qdir, tdir, "new", bid) == 0;
    }
out:
    if (!ok && bid && sender && sender[0])
        fprintf(stderr, "%s: --queue: cannot queue a bounce to \"%s\"\n",
                CLI_NAME, sender);
    free(sender);
    free(tdir);
    free(ndir);
    free(fdir);
    free(text);
    free(args);
    if (!ok) {
        free(bid);
        return NULL;
    }
    return bid;
}

/* ---- the flush ---- */

typedef struct qlist {
    char **ids;
    size_t n, cap;
} qlist;

static int qlist_add(qlist *l, const char *id)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **more = realloc(l->ids, cap * sizeof *more);
        if (!more)
            return -1;
        l->ids = more;
        l->cap = cap;
    }
    if (!(l->ids[l->n] = strdup(id)))
        return -1;
    l->n++;
    return 0;
}

static void qlist_free(qlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->ids[i]);
    free(l->ids);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of DIR/sub, sorted (oldest first).  0, or -1 with errno
 * (ENOENT: no such directory). */
static int list_entries(const char *qdir, const char *sub, qlist *l)
{
    char *dir = cli_path_join(qdir, sub);
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *de;
    int rc = 0;

    memset(l, 0, sizeof *l);
    if (!d) {
        if (!dir)
            errno = ENOMEM;
        free(dir);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (qlist_add(l, de->d_name) != 0) {
            rc = -1;
            errno = ENOMEM;
            break;
        }
    }
    closedir(d);
    free(dir);
    if (l->n)
        qsort(l->ids, l->n, sizeof *l->ids, by_name);
    return rc;
}

/* Removes what killed flushes left in tmp/: delivered entries that were
 * being removed (ID.sent). */
static void clean_tmp(const char *qdir)
{
    qlist l;

    if (list_entries(qdir, "tmp", &l) == 0) {
        for (size_t i = 0; i < l.n; i++) {
            size_t n = strlen(l.ids[i]);
            char *p;
            if (n < 5 || strcmp(l.ids[i] + n - 5, ".sent") != 0)
                continue;
            p = path3(qdir, "tmp", l.ids[i]);
            if (p)
                remove_entry(p);
            free(p);
        }
    }
    qlist_free(&l);
}

/* What a flush did, for its summary line. */
typedef struct qcounts {
    size_t sent, kept, failed, expired, busy, not_due, bounces;
} qcounts;

/* Opens and locks the entry id of new/: 0, or -1 when it is gone or
 * another flush holds it. */
static int entry_lock(const char *qdir, const char *id, qentry *e)
{
    char *args;

    memset(e, 0, sizeof *e);
    e->id = id;
    e->lock_fd = -1;
    e->dir = path3(qdir, "new", id);
    args = e->dir ? cli_path_join(e->dir, "args") : NULL;
    e->lock_fd = args ? open(args, O_RDONLY | O_CLOEXEC) : -1;
    /* Locked, and still there: not sent by another flush between our
     * listing and our lock. */
    if (e->lock_fd < 0 || flock(e->lock_fd, LOCK_EX | LOCK_NB) != 0 ||
        access(args, F_OK) != 0) {
        free(args);
        return -1;
    }
    free(args);
    read_state(e->dir, id, &e->state);
    return 0;
}

static void entry_release(qentry *e)
{
    if (e->lock_fd >= 0)
        close(e->lock_fd);
    free(e->dir);
    e->dir = NULL;
    e->lock_fd = -1;
}

/* Whether e is to be tried now. */
static int entry_due(const qentry *e, long long now, const cli_opts *o)
{
    return o->flush_all || e->state.next <= now ||
           now - e->state.queued >= (long long)o->queue_lifetime;
}

/* What the log says of a message given up on. */
typedef struct qgiven_up {
    const char *id, *reason, *bounce;
    unsigned attempts;
} qgiven_up;

static void write_given_up(FILE *out, const void *arg)
{
    const qgiven_up *g = arg;

    fputs("{\"status\":\"given-up\",\"queue_id\":", out);
    cli_json_string(out, g->id);
    fprintf(out, ",\"attempts\":%u,\"error\":", g->attempts);
    cli_json_string(out, g->reason);
    fputs(",\"bounce\":", out);
    cli_json_string(out, g->bounce);
    fputs("}\n", out);
}

/* Gives up on e: reason kept in its state, a bounce queued for its sender
 * (listed in bounces, to be sent by this flush), moved to failed/, and a
 * line in the log. */
static void entry_fail(const char *qdir, qentry *e, const char *why,
                       int log_fd, qlist *bounces, qcounts *c)
{
    qgiven_up g;
    char *bid;

    set_error(&e->state, why);
    (void)write_state(e->dir, &e->state);
    cli_crash_point("failing");
    bid = queue_bounce(qdir, e->dir, e->id, &e->state, e->state.error);
    if (bid) {
        c->bounces++;
        if (qlist_add(bounces, bid) != 0) {
            /* Sent by the next flush. */
        }
    }
    cli_crash_point("bounced");
    if (move_entry(qdir, e->dir, "failed", e->id) != 0)
        queue_error("cannot move to failed/", e->dir, errno);
    fprintf(stderr, "%s: queue: %s: given up, moved to failed/: ", CLI_NAME,
            e->id);
    cli_put_escaped(stderr, why);
    fputc('\n', stderr);
    g.id = e->id;
    g.reason = e->state.error;
    g.bounce = bid;
    g.attempts = e->state.attempts;
    cli_log_object(log_fd, write_given_up, &g);
    free(bid);
}

/* Records the outcome (rc, why) of sending e. */
static void entry_settle(const char *qdir, const cli_opts *o, int log_fd,
                         qentry *e, int rc, const char *why, long long now,
                         qlist *bounces, qcounts *c)
{
    char reason[ERROR_MAX + 96], age[32];

    if (rc == EX_OK) {
        /* Out of new/ in one step, by the run itself (cli_queue_retire)
         * or here; a flush killed while removing it leaves tmp/ID.sent,
         * which the next one removes. */
        char *sent = malloc(strlen(e->id) + sizeof ".sent");
        cli_crash_point("delivered");
        if (sent) {
            char *p;
            strcpy(sent, e->id);
            strcat(sent, ".sent");
            (void)move_entry(qdir, e->dir, "tmp", sent);
            p = path3(qdir, "tmp", sent);
            if (p)
                remove_entry(p);
            free(p);
            free(sent);
        }
        c->sent++;
        return;
    }
    e->state.attempts++;
    if (refused_for_good(rc)) {
        entry_fail(qdir, e, why, log_fd, bounces, c);
        c->failed++;
        return;
    }
    if (now - e->state.queued >= (long long)o->queue_lifetime) {
        put_duration(age, sizeof age, (long long)o->queue_lifetime);
        snprintf(reason, sizeof reason,
                 "still undelivered after the queue lifetime (%s); last "
                 "error: %s", age, why);
        entry_fail(qdir, e, reason, log_fd, bounces, c);
        c->expired++;
        return;
    }
    /* The server still away, or what every entry needs (the credentials,
     * the configuration) to fix: try again later. */
    set_error(&e->state, why);
    e->state.next = now + backoff(e->state.attempts);
    if (write_state(e->dir, &e->state) != 0)
        queue_error("cannot write the state of", e->dir, errno);
    c->kept++;
}

int cli_queue_flush(const cli_opts *o, int log_fd)
{
    const char *qdir = o->queue_dir;
    qentry group[FLUSH_GROUP_MAX];
    size_t ng = 0;
    qlist l, bounces;
    qcounts c;
    int worst = EX_OK;

    memset(&c, 0, sizeof c);
    memset(&bounces, 0, sizeof bounces);
    if (list_entries(qdir, "new", &l) != 0 && errno != ENOENT) {
        char *newdir = cli_path_join(qdir, "new");
        int rc = queue_error("cannot read", newdir ? newdir : qdir, errno);
        free(newdir);
        return rc;
    }
    clean_tmp(qdir);

    /* Each entry locked and tried when due, each settled on its own.  Up
     * to FLUSH_GROUP_MAX are locked ahead and handed to one run, which
     * sends the first and those after it that it can send with the same
     * options, on one connection; the rest wait for the next run.  The
     * bounces this flush queues are sent after the rest. */
    for (size_t i = 0;;) {
        long long now = (long long)time(NULL);
        size_t n = 1, k;

        while (ng < FLUSH_GROUP_MAX && i < l.n + bounces.n) {
            const char *id = i < l.n ? l.ids[i] : bounces.ids[i - l.n];
            qentry *e = &group[ng];
            i++;
            if (entry_lock(qdir, id, e) != 0) {
                c.busy += e->lock_fd >= 0;
                entry_release(e);
            } else if (!entry_due(e, now, o)) {
                c.not_due++;
                entry_release(e);
            } else {
                ng++;
            }
        }
        if (ng == 0)
            break;
        cli_crash_point("sending");
        if (access(group[0].dir, F_OK) != 0) {
            /* Taken out of new/ by a run killed before it told us: the
             * server took it (cli_queue_retire). */
            n = 1;
            group[0].reported = 1;
            group[0].rc = EX_OK;
        } else {
            run_group(group, n = ng);
        }
        /* Settled: the entries whose outcome the run told, and the
         * first in any case; the others (other options, or after the
         * connection ended) stay locked for the next run, untried. */
        for (k = 0; k < n; k++) {
            qentry *e = &group[k];
            if (k > 0 && !e->reported)
                continue;
            entry_settle(qdir, o, log_fd, e, e->rc, e->why,
                         (long long)time(NULL), &bounces, &c);
            entry_release(e);
            e->dir = NULL;
        }
        for (k = 0, n = ng, ng = 0; k < n; k++) {
            if (group[k].dir != NULL)
                group[ng++] = group[k];
        }
    }
    qlist_free(&l);
    qlist_free(&bounces);
    if (c.failed + c.expired)
        worst = EX_UNAVAILABLE;
    else if (c.kept)
        worst = EX_TEMPFAIL;
    fprintf(stderr, "%s: queue \"", CLI_NAME);
    cli_put_escaped(stderr, qdir);
    fprintf(stderr, "\": %zu sent, %zu kept, %zu failed, %zu expired "
            "(moved to failed/), %zu bounces queued, %zu busy, %zu not due\n",
            c.sent, c.kept, c.failed, c.expired, c.bounces, c.busy, c.not_due);
    return worst;
}

/* ---- --list-queue ---- */

/* One entry of sub (new/ or failed/), mailq style. */
static void list_one(FILE *out, const char *qdir, const char *sub,
                     const char *id, long long now)
{
    char *dir = path3(qdir, sub, id);
    char *msg = dir ? cli_path_join(dir, "message") : NULL;
    char age[32], next[32];
    struct stat st;
    qstate s;
    char *from;

    if (!dir || !msg) {
        free(dir);
        free(msg);
        return;
    }
    read_state(dir, id, &s);
    put_duration(age, sizeof age, now - s.queued);
    if (strcmp(sub, "failed") == 0)
        snprintf(next, sizeof next, "never");
    else if (s.next <= now)
        snprintf(next, sizeof next, "now");
    else {
        char d[24];
        /* Rounded up: "in 10m", not "in 9m", for 599 s. */
        long long left = s.next - now;
        put_duration(d, sizeof d,
                     left < 60 ? left : left < 3600 ? left + 59 : left + 3599);
        snprintf(next, sizeof next, "in %s", d);
    }
    fprintf(out, "%-34s %9lld  %-7s %-9s %u  ", id,
            stat(msg, &st) == 0 ? (long long)st.st_size : -1LL, age, next,
            s.attempts);
    from = read_envelope_file(dir, NULL, NULL);
    if (!from)
        fputs("(unknown)", out);
    else
        fprintf(out, "<%s>", from);
    fputc('\n', out);
    if (s.error[0]) {
        fputs("    (", out);
        cli_put_escaped(out, s.error);
        fputs(")\n", out);
    }
    free(read_envelope_file(dir, out, "    "));
    free(from);
    free(dir);
    free(msg);
}

int cli_queue_list(const char *qdir, FILE *out)
{
    static const char *const subs[] = {"new", "failed"};
    long long now = (long long)time(NULL);

    for (size_t k = 0; k < 2; k++) {
        qlist l;
        if (list_entries(qdir, subs[k], &l) != 0 && errno != ENOENT) {
            char *p = cli_path_join(qdir, subs[k]);
            queue_error("cannot read", p ? p : qdir, errno);
            free(p);
            return EX_IOERR;
        }
        if (k == 0 && l.n == 0)
            fprintf(out, "Mail queue is empty\n");
        if (l.n) {
            fprintf(out, "%s%s (%zu):\n", k ? "\n" : "",
                    k ? "Failed, kept in failed/" : "Queued", l.n);
            fprintf(out, "%-34s %9s  %-7s %-9s %s  %s\n", "ID", "Size", "Age",
                    "Next try", "#", "Sender / (last error) / recipients");
        }
        for (size_t i = 0; i < l.n; i++)
            list_one(out, qdir, subs[k], l.ids[i], now);
        qlist_free(&l);
    }
    return fflush(out) == 0 ? EX_OK : EX_IOERR;
}
