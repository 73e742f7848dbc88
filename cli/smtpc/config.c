/*
 * cli/smtpc/config.c - the configuration file: defaults for the command line.
 *
 * So that smtpc can stand in for sendmail (`sendmail -t -i` from cron, PHP,
 * git or mutt names no server), the server, sender and credentials can live
 * in a file.  One option per line, by its long name:
 *
 *     # ~/.config/smtpc/config
 *     server        mail.example.com:587
 *     from          me@example.com
 *     user          me
 *     password-file ~/.config/smtpc/password
 *
 * "name value", "name = value", or a flag alone ("no-pipelining"); blank
 * lines and lines starting with "#" are skipped.  "account NAME" starts a
 * section that only `-a NAME` uses (or, without -a, the one named
 * "default"); the lines before the first section apply to every account,
 * and a section's lines replace them.  The lines become
 * command-line words ("--server=mail.example.com:587") that options.c
 * parses before the real command line, so one parser checks every value
 * and an option given on the command line replaces the file's.
 *
 * The file can name a command (oauth2-token-cmd) and where mail goes, so it
 * is refused when another user could have written it.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

/* Larger than any sensible configuration; keeps a wrong path (a log file,
 * a device) from being read whole. */
#define CONFIG_MAX (64u * 1024u)

/* Prints "smtpc: FILE[:LINE]: " and fmt, whose one optional "%s" is arg
 * with control bytes escaped.  Returns EX_CONFIG. */
static int config_error(const char *path, int line, const char *fmt,
                        const char *arg)
{
    fprintf(stderr, "%s: ", CLI_NAME);
    cli_put_escaped(stderr, path);
    if (line > 0)
        fprintf(stderr, ":%d", line);
    fputs(": ", stderr);
    cli_put_format(stderr, fmt, arg);
    fputc('\n', stderr);
    return EX_CONFIG;
}

char *cli_path_join(const char *dir, const char *name)
{
    size_t ld = strlen(dir), ln = strlen(name);
    char *s = malloc(ld + 1 + ln + 1);

    if (s) {
        memcpy(s, dir, ld);
        s[ld] = '/';
        memcpy(s + ld + 1, name, ln + 1);
    }
    return s;
}

static int exists(const char *path)
{
    struct stat st;

    /* Anything but "not there" counts, so that an unreadable file is
     * reported rather than silently skipped. */
    return stat(path, &st) == 0 || errno != ENOENT;
}

/* Which file: -C FILE; else $SMTPC_CONFIG (empty: none); else the user's
 * ($XDG_CONFIG_HOME or ~/.config, then smtpc/config); else the system's.
 * Sets c->path (NULL: no file) and may allocate c->path_buf. */
static int config_find(const char *explicit_path, cli_config *c)
{
    const char *env = getenv("SMTPC_CONFIG");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");

    if (explicit_path) {
        c->path = explicit_path;
        return 0;
    }
    if (env) {
        c->path = env[0] ? env : NULL;
        return 0;
    }
    if (xdg && xdg[0] == '/')
        c->path_buf = cli_path_join(xdg, "smtpc/config");
    else if (home && home[0] == '/')
        c->path_buf = cli_path_join(home, ".config/smtpc/config");
    if ((xdg && xdg[0] == '/') || (home && home[0] == '/')) {
        if (!c->path_buf) {
            fprintf(stderr, "%s: out of memory\n", CLI_NAME);
            return EX_OSERR;
        }
        if (exists(c->path_buf)) {
            c->path = c->path_buf;
            return 0;
        }
    }
    if (exists(CLI_SYSTEM_CONFIG))
        c->path = CLI_SYSTEM_CONFIG;
    return 0;
}

/* Reads the whole file into a NUL-terminated buffer, after checking that
 * only its owner (the user or root) can change it. */
static int config_read(const char *path, char **text)
{
    struct stat st;
    ssize_t n;
    size_t len = 0;
    char *buf;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return config_error(path, 0, "%s", strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return config_error(path, 0, "not a regular file", NULL);
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) ||
        (st.st_uid != getuid() && st.st_uid != 0)) {
        close(fd);
        return config_error(path, 0, "refused: another user can change it "
                            "(it may name a command to run); make it "
                            "yours and chmod go-w", NULL);
    }
    if ((unsigned long long)st.st_size > CONFIG_MAX) {
        close(fd);
        return config_error(path, 0, "larger than 64 KiB", NULL);
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        fprintf(stderr, "%s: out of memory\n", CLI_NAME);
        return EX_OSERR;
    }
    while (len < (size_t)st.st_size) {
        n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (len != (size_t)st.st_size) {
        free(buf);
        return config_error(path, 0, "read error", NULL);
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        free(buf);
        return config_error(path, 0, "holds a NUL byte: not a text file",
                            NULL);
    }
    *text = buf;
    return 0;
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Appends "--NAME" or "--NAME=VALUE" (with a leading "~/" of a path made
 * $HOME/) to c->argv.  0, or -1 when out of memory. */
static int config_add(cli_config *c, const char *name, size_t name_len,
                      const char *value, int is_path, int line)
{
    const char *home = getenv("HOME");
    const char *prefix = "";
    size_t len;
    char **argv;
    int *lines;
    char *word;

    if (value && is_path && value[0] == '~' && value[1] == '/' && home &&
        home[0]) {
        prefix = home;
        value++;
    }
    len = 2 + name_len + (value ? 1 + strlen(prefix) + strlen(value) : 0);
    argv = realloc(c->argv, (size_t)(c->argc + 2) * sizeof *argv);
    if (!argv)
        return -1;
    c->argv = argv;
    lines = realloc(c->line, (size_t)(c->argc + 2) * sizeof *lines);
    if (!lines)
        return -1;
    c->line = lines;
    word = malloc(len + 1);
    if (!word)
        return -1;
    memcpy(word, "--", 2);
    memcpy(word + 2, name, name_len);
    word[2 + name_len] = '\0';
    if (value) {
        strcat(word, "=");
        strcat(word, prefix);
        strcat(word, value);
    }
    c->argv[c->argc] = word;
    c->line[c->argc] = line;
    c->argc++;
    c->argv[c->argc] = NULL;
    return 0;
}

/* Turns the file's lines into words: every line is checked, but only the
 * defaults and the chosen account's section become words.  argv[0]
 * stands for the program name that getopt skips. */
static int config_parse(cli_config *c, char *text, const char *account)
{
    const char *want = account ? account : "default";
    char *p = text;
    int line = 0, in_defaults = 1, in_account = 0, found = 0;

    c->argv = malloc(2 * sizeof *c->argv);
    c->line = malloc(2 * sizeof *c->line);
    if (!c->argv || !c->line)
        goto oom;
    c->argv[0] = strdup(CLI_NAME);
    if (!c->argv[0])
        goto oom;
    c->line[0] = 0;
    c->argc = 1;
    c->argv[1] = NULL;
    while (*p) {
        char *end = p + strcspn(p, "\n");
        char *next = *end ? end + 1 : end;
        char *name, *value = NULL;
        size_t name_len;
        int takes_value, is_path, known;

        line++;
        *end = '\0';
        while (end > p && (is_blank(end[-1]) || end[-1] == '\r'))
            *--end = '\0';
        while (is_blank(*p))
            p++;
        if (*p == '\0' || *p == '#') {
            p = next;
            continue;
        }
        if (p[0] == '-' && p[1] == '-')
            p += 2;
        name = p;
        name_len = strcspn(p, " \t=");
        p += name_len;
        while (is_blank(*p))
            p++;
        if (*p == '=') {
            p++;
            while (is_blank(*p))
                p++;
        }
        if (*p)
            value = p;
        name[name_len] = '\0'; /* value starts after it: not overwritten */
        if (strcmp(name, "account") == 0) {
            if (!value || strcspn(value, " \t") != strlen(value))
                return config_error(c->path, line, "\"account\" needs one "
                                    "name", NULL);
            if (found && strcmp(value, want) == 0)
                return config_error(c->path, line, "account \"%s\" is "
                                    "defined twice", value);
            if (in_defaults)
                c->account_at = c->argc;
            in_defaults = 0;
            in_account = strcmp(value, want) == 0;
            found |= in_account;
            p = next;
            continue;
        }
        known = cli_config_option(name, &takes_value, &is_path);
        if (known < 0)
            return config_error(c->path, line, known == -1 ?
                                "unknown option \"%s\"" : "\"%s\" belongs "
                                "on the command line, not in a "
                                "configuration file", name);
        if (takes_value == 1 && !value)
            return config_error(c->path, line, "\"%s\" needs a value", name);
        if (!takes_value && value)
            return config_error(c->path, line, "\"%s\" takes no value", name);
        if ((in_defaults || in_account) &&
            config_add(c, name, name_len, value, is_path, line) != 0)
            goto oom;
        p = next;
    }
    if (in_defaults)
        c->account_at = c->argc;
    /* Without -a and without a "default" section: the defaults alone. */
    if (account && !found)
        return config_error(c->path, 0, "no account \"%s\"", account);
    return 0;
oom:
    fprintf(stderr, "%s: out of memory\n", CLI_NAME);
    return EX_OSERR;
}

int cli_config_load(const char *explicit_path, const char *account,
                    cli_config *c)
{
    char *text = NULL;
    int rc;

    memset(c, 0, sizeof *c);
    rc = config_find(explicit_path, c);
    if (rc)
        return rc;
    if (!c->path) {
        if (!account)
            return 0;
        fprintf(stderr, "%s: -a %s: there is no configuration file\n",
                CLI_NAME, account);
        return EX_CONFIG;
    }
    rc = config_read(c->path, &text);
    if (rc)
        return rc;
    rc = config_parse(c, text, account);
    free(text);
    return rc;
}

void cli_config_free(cli_config *c)
{
    for (int i = 0; i < c->argc; i++)
        free(c->argv[i]);
    free(c->argv);
    free(c->line);
    free(c->path_buf);
    memset(c, 0, sizeof *c);
}
