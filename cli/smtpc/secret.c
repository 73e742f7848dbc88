/*
 * cli/smtpc/secret.c - passwords and OAuth 2 tokens: where they come from, and
 * wiping them afterwards.
 *
 * Secrets never come from the command line (any user can read it in
 * /proc), only from the environment, a file, a command's output (a
 * keyring or a secrets manager: --password-cmd, --oauth2-token-cmd) or,
 * when none is named, the user's ~/.netrc.  They are copied into one
 * buffer each so that they can be wiped; no message ever prints one.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
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

/* Reads fd into a new buffer of size bytes, NUL-terminated, stopping once
 * it is full: a longer input is refused as too long anyway, and reading on
 * would never end on /dev/zero or a command that prints forever (closing
 * the pipe then stops it).  0 or an errno; the buffer is wiped before it
 * is freed, whatever it held. */
static int read_fd_capped(int fd, size_t size, char **out, size_t *out_len)
{
    const size_t cap = size - 1;
    char *buf = malloc(size);
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
        smtpc_wipe(buf, size);
        free(buf);
        return err;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

/* One secret: read_fd_capped into a SECRET_BUF buffer. */
static int read_secret_fd(int fd, char **out, size_t *out_len)
{
    return read_fd_capped(fd, SECRET_BUF, out, out_len);
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
 * and takes its standard output as the secret.  opt names the option
 * ("--password-cmd"), kind the secret, for messages. */
static int load_cmd(const char *cmd, const char *opt, const char *kind,
                    char **out)
{
    int pfd[2], status, err;
    pid_t pid;
    size_t len;

    if (pipe(pfd) != 0) {
        fprintf(stderr, "%s: %s: pipe: %s\n", CLI_NAME, opt, strerror(errno));
        return EX_OSERR;
    }
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: %s: fork: %s\n", CLI_NAME, opt, strerror(errno));
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
        fprintf(stderr, "%s: %s: cannot read its output: %s\n", CLI_NAME,
                opt, strerror(err));
        return err == ENOMEM ? EX_OSERR : EX_CONFIG;
    }
    if (len > SMTPC_SECRET_MAX + 2) /* killed by SIGPIPE when it went on */
        return check_secret(*out, len, kind, opt);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (status != -1 && WIFEXITED(status))
            fprintf(stderr, "%s: %s failed (exit status %d)\n", CLI_NAME, opt,
                    WEXITSTATUS(status));
        else if (status != -1 && WIFSIGNALED(status))
            fprintf(stderr, "%s: %s failed (killed by signal %d)\n", CLI_NAME,
                    opt, WTERMSIG(status));
        else
            fprintf(stderr, "%s: %s failed\n", CLI_NAME, opt);
        return EX_CONFIG;
    }
    strip_newline(*out, &len);
    return check_secret(*out, len, kind, opt);
}

/* The largest ~/.netrc read (it is read whole, then wiped). */
#define NETRC_MAX (64u * 1024u)

/* The next token of a .netrc at *p: a word, or a "quoted string" with
 * backslash escapes (as curl reads it), unquoted in place.  NULL at the
 * end. */
static char *netrc_token(char **p)
{
    char *s = *p, *tok, *w;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    if (!*s) {
        *p = s;
        return NULL;
    }
    if (*s != '"') {
        tok = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            s++;
        if (*s)
            *s++ = '\0';
        *p = s;
        return tok;
    }
    tok = w = ++s;
    while (*s && *s != '"') {
        if (*s == '\\' && s[1])
            s++;
        *w++ = *s++;
    }
    if (*s)
        s++;
    *w = '\0';
    *p = s;
    return tok;
}

/* Finds the password of login user on machine host in text (a .netrc,
 * changed in place): the "machine host" entry whose login is user (or that
 * names no login), else the "default" entry on the same terms.  NULL when
 * none. */
static const char *netrc_find(char *text, const char *host, const char *user)
{
    const char *found = NULL, *dflt = NULL;
    const char *login = NULL, *pass = NULL;
    int in = 0; /* 0 none, 1 the host's entry, 2 default, 3 another */
    char *p = text, *tok;

    for (;;) {
        tok = netrc_token(&p);
        if (!tok || strcmp(tok, "machine") == 0 ||
            strcmp(tok, "default") == 0) {
            /* The entry before ends: does it fit? */
            if (in == 1 || in == 2) {
                if (pass && (!login || strcmp(login, user) == 0)) {
                    if (in == 1 && !found)
                        found = pass;
                    else if (in == 2 && !dflt)
                        dflt = pass;
                }
            }
            if (!tok)
                break;
            login = pass = NULL;
            if (tok[0] == 'd') {
                in = 2;
            } else {
                tok = netrc_token(&p);
                in = tok && strcasecmp(tok, host) == 0 ? 1 : 3;
            }
        } else if (strcmp(tok, "login") == 0) {
            login = netrc_token(&p);
        } else if (strcmp(tok, "password") == 0) {
            pass = netrc_token(&p);
        } else if (strcmp(tok, "account") == 0) {
            (void)netrc_token(&p);
        } else if (strcmp(tok, "macdef") == 0) {
            /* A macro runs to the next empty line. */
            char *end = strstr(p, "\n\n");
            p = end ? end + 2 : p + strlen(p);
        }
    }
    return found ? found : dflt;
}

/* The password of o->user on o->host from the netrc file (--netrc-file, else
 * ~/.netrc), as curl and msmtp read it: *out stays NULL when there is no
 * file or no entry.  A file that another user can read or change is
 * refused, since it holds passwords in clear. */
static int load_netrc(const cli_opts *o, char **out)
{
    const char *home = getenv("HOME");
    const char *path = o->netrc_file;
    char *path_buf = NULL, *text = NULL;
    const char *pass;
    struct stat st;
    size_t len;
    int fd, err, rc = 0;

    if (!path) {
        if (!home || home[0] != '/')
            return 0;
        path = path_buf = cli_path_join(home, ".netrc");
        if (!path_buf) {
            fprintf(stderr, "%s: out of memory\n", CLI_NAME);
            return EX_OSERR;
        }
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT && !o->netrc_file)
            goto done; /* no ~/.netrc: nothing to use */
        fprintf(stderr, "%s: cannot read netrc file \"", CLI_NAME);
        cli_put_escaped(stderr, path);
        fprintf(stderr, "\": %s\n", strerror(errno));
        rc = EX_CONFIG;
        goto done;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (st.st_mode & (S_IRWXG | S_IRWXO)) || st.st_uid != getuid()) {
        fprintf(stderr, "%s: netrc file \"", CLI_NAME);
        cli_put_escaped(stderr, path);
        fprintf(stderr, "\" refused: it holds passwords, so it must be a "
                "file of yours that nobody else can read (chmod 600)\n");
        close(fd);
        rc = EX_CONFIG;
        goto done;
    }
    err = read_fd_capped(fd, NETRC_MAX, &text, &len);
    close(fd);
    if (err) {
        fprintf(stderr, "%s: cannot read netrc file \"", CLI_NAME);
        cli_put_escaped(stderr, path);
        fprintf(stderr, "\": %s\n", strerror(err));
        rc = err == ENOMEM ? EX_OSERR : EX_CONFIG;
        goto done;
    }
    pass = netrc_find(text, o->host, o->user);
    if (pass) {
        len = strlen(pass);
        if (len > SMTPC_SECRET_MAX) {
            rc = check_secret(pass, len, "password", "the netrc file");
        } else if (!(*out = malloc(SECRET_BUF))) {
            fprintf(stderr, "%s: out of memory\n", CLI_NAME);
            rc = EX_OSERR;
        } else {
            memcpy(*out, pass, len + 1);
            rc = check_secret(*out, len, "password", "the netrc file");
        }
    }
    smtpc_wipe(text, NETRC_MAX);
    free(text);
done:
    free(path_buf);
    return rc;
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
    else if (o->password_cmd)
        rc = load_cmd(o->password_cmd, "--password-cmd", "password",
                      &s->password);
    else if (cli_netrc_wanted(o))
        rc = load_netrc(o, &s->password);
    if (rc)
        goto fail;
    if (cli_netrc_wanted(o) && !s->password) {
        fprintf(stderr, "%s: no password for --user \"", CLI_NAME);
        cli_put_escaped(stderr, o->user);
        fprintf(stderr, "\": give --password-env, --password-file or "
                "--password-cmd, or a \"machine ");
        cli_put_escaped(stderr, o->host);
        fprintf(stderr, " login ");
        cli_put_escaped(stderr, o->user);
        fprintf(stderr, " password ...\" line in %s\n",
                o->netrc_file ? "the --netrc-file" : "~/.netrc");
        rc = EX_CONFIG;
        goto fail;
    }
    if (o->token_env)
        rc = load_env(o->token_env, "OAuth 2 token", &s->token);
    else if (o->token_file)
        rc = load_file(o->token_file, "OAuth 2 token", &s->token);
    else if (o->token_cmd)
        rc = load_cmd(o->token_cmd, "--oauth2-token-cmd", "OAuth 2 token",
                      &s->token);
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
