/*
 * cli/secret.c - passwords and OAuth 2 tokens: where they come from, and
 * wiping them afterwards.
 *
 * Secrets never come from the command line (any user can read it in
 * /proc), only from the environment, a file or a command's output.  They
 * are copied into one buffer each so that they can be wiped; no message
 * ever prints one.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

/* Removes one trailing "\n" or "\r\n". */
static void strip_newline(char *s, size_t *len)
{
    if (*len && s[*len - 1] == '\n') {
        s[--*len] = '\0';
        if (*len && s[*len - 1] == '\r')
            s[--*len] = '\0';
    }
}

/* Checks a loaded secret with the library's one check (smtpc_check_secret)
 * and says what is wrong with it.  what names its source. */
static int check_secret(const char *s, size_t len, const char *kind,
                        const char *what)
{
    static const char *const fault[] = {
        [SMTPC_SECRET_EMPTY] = "is empty",
        [SMTPC_SECRET_TOO_LONG] = "is too long",
        [SMTPC_SECRET_NUL] = "contains a NUL byte",
        [SMTPC_SECRET_LINE_BREAK] = "spans more than one line",
        [SMTPC_SECRET_CTRL_A] = "contains a ^A byte",
    };
    int f = smtpc_check_secret(s, len, 0);

    if (f == SMTPC_SECRET_OK)
        return 0;
    if (f == SMTPC_SECRET_TOO_LONG)
        fprintf(stderr, "%s: %s from %s is longer than %u bytes\n", CLI_NAME,
                kind, what, (unsigned)SMTPC_SECRET_MAX);
    else
        fprintf(stderr, "%s: %s from %s %s\n", CLI_NAME, kind, what, fault[f]);
    return EX_CONFIG;
}

/* Every secret lives in a buffer of this size, so that wiping it needs no
 * length to be trusted: room for the longest secret, a CRLF, one more byte
 * to tell "too long", and the terminator. */
#define SECRET_BUF (SMTPC_SECRET_MAX + 4u)

/* Reads fd into a new SECRET_BUF buffer, NUL-terminated, stopping once it
 * is full: a longer input is refused as too long anyway, and reading on
 * would never end on /dev/zero or a command that prints forever (closing
 * the pipe then stops it).  0 or an errno. */
static int read_secret_fd(int fd, char **out, size_t *out_len)
{
    const size_t cap = SECRET_BUF - 1;
    char *buf = malloc(SECRET_BUF);
    size_t len = 0;
    int err = 0;

    if (!buf)
        return ENOMEM;
    while (len < cap) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (err) {
        smtpc_wipe(buf, SECRET_BUF);
        free(buf);
        return err;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

static int load_file(const char *path, const char *kind, char **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    size_t len;
    int err, rc;

    if (fd < 0) {
        fprintf(stderr, "%s: cannot read %s file \"", CLI_NAME, kind);
        cli_put_escaped(stderr, path);
        fprintf(stderr, "\": %s\n", strerror(errno));
        return EX_CONFIG;
    }
    err = read_secret_fd(fd, out, &len);
    close(fd);
    if (err) {
        fprintf(stderr, "%s: cannot read %s file \"", CLI_NAME, kind);
        cli_put_escaped(stderr, path);
        fprintf(stderr, "\": %s\n", strerror(err));
        return err == ENOMEM ? EX_OSERR : EX_CONFIG;
    }
    strip_newline(*out, &len);
    rc = check_secret(*out, len, kind, "file");
    return rc;
}

static int load_env(const char *var, const char *kind, char **out)
{
    const char *v = getenv(var);
    size_t len;

    if (!v || !*v) {
        fprintf(stderr, "%s: %s: environment variable \"", CLI_NAME, kind);
        cli_put_escaped(stderr, var);
        fprintf(stderr, "\" is %s\n", v ? "empty" : "not set");
        return EX_CONFIG;
    }
    len = strlen(v);
    if (len > SMTPC_SECRET_MAX)
        return check_secret(v, len, kind, "the environment");
    *out = malloc(SECRET_BUF);
    if (!*out) {
        fprintf(stderr, "%s: out of memory\n", CLI_NAME);
        return EX_OSERR;
    }
    memcpy(*out, v, len + 1);
    return check_secret(*out, len, kind, "the environment");
}

/* Runs /bin/sh -c cmd with stdin from /dev/null (stdin is the message)
 * and takes its standard output as the token. */
static int load_cmd(const char *cmd, char **out)
{
    int pfd[2], status, err;
    pid_t pid;
    size_t len;

    if (pipe(pfd) != 0) {
        fprintf(stderr, "%s: --oauth2-token-cmd: pipe: %s\n", CLI_NAME,
                strerror(errno));
        return EX_OSERR;
    }
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: --oauth2-token-cmd: fork: %s\n", CLI_NAME,
                strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return EX_OSERR;
    }
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY);
        if (nul < 0 || dup2(nul, 0) < 0 || dup2(pfd[1], 1) < 0)
            _exit(127);
        close(pfd[0]);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    err = read_secret_fd(pfd[0], out, &len);
    close(pfd[0]);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            status = -1;
            break;
        }
    }
    if (err) {
        fprintf(stderr, "%s: --oauth2-token-cmd: cannot read its output: %s\n",
                CLI_NAME, strerror(err));
        return err == ENOMEM ? EX_OSERR : EX_CONFIG;
    }
    if (len > SMTPC_SECRET_MAX + 2) /* killed by SIGPIPE when it went on */
        return check_secret(*out, len, "OAuth 2 token", "--oauth2-token-cmd");
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (status != -1 && WIFEXITED(status))
            fprintf(stderr, "%s: --oauth2-token-cmd failed (exit status %d)\n",
                    CLI_NAME, WEXITSTATUS(status));
        else if (status != -1 && WIFSIGNALED(status))
            fprintf(stderr, "%s: --oauth2-token-cmd failed (killed by signal "
                    "%d)\n", CLI_NAME, WTERMSIG(status));
        else
            fprintf(stderr, "%s: --oauth2-token-cmd failed\n", CLI_NAME);
        return EX_CONFIG;
    }
    strip_newline(*out, &len);
    return check_secret(*out, len, "OAuth 2 token", "--oauth2-token-cmd");
}

int cli_secrets_load(const cli_opts *o, cli_secrets *s)
{
    int rc = 0;

    s->password = NULL;
    s->token = NULL;
    if (o->auth == SMTPC_AUTH_NONE)
        return 0; /* credentials given but never used: not even read */
    if (o->password_env)
        rc = load_env(o->password_env, "password", &s->password);
    else if (o->password_file)
        rc = load_file(o->password_file, "password", &s->password);
    if (rc)
        goto fail;
    if (o->token_env)
        rc = load_env(o->token_env, "OAuth 2 token", &s->token);
    else if (o->token_file)
        rc = load_file(o->token_file, "OAuth 2 token", &s->token);
    else if (o->token_cmd)
        rc = load_cmd(o->token_cmd, &s->token);
    if (rc)
        goto fail;
    return 0;
fail:
    cli_secrets_wipe(s);
    return rc;
}

static void wipe_free(char **p)
{
    if (*p) {
        smtpc_wipe(*p, SECRET_BUF);
        free(*p);
        *p = NULL;
    }
}

void cli_secrets_wipe(cli_secrets *s)
{
    wipe_free(&s->password);
    wipe_free(&s->token);
}
