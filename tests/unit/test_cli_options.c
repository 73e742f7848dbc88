/*
 * test_cli_options.c - cli/smtpc/options.c: the option table is the one
 * source of the parser, --help and the configuration file's keys, so
 * every option the table holds must be listed by --help and be accepted
 * as a configuration key (refused when the table marks it command-line
 * only); and sendmail's flags parse as sendmail's callers give them.
 *
 * Linked with the files of smtpc (CMakeLists.txt: test_cli_X links the
 * archive of the program that holds X.c).
 */
#define _DEFAULT_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "unit.h"

/* A value each option takes (the others take any word). */
static const char *sample_value(const char *name)
{
    static const struct {
        const char *name, *value;
    } v[] = {
        {"server", "smtpc-test.invalid"}, {"from", "a@example.com"},
        {"ehlo", "localhost"}, {"qualify-domain", "example.com"},
        {"tls", "none"}, {"auth", "auto"}, {"dsn-notify", "never"},
        {"dsn-ret", "full"}, {"timeout", "5"}, {"user", "u"},
        {"queue-lifetime", "5d"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        if (strcmp(v[i].name, name) == 0)
            return v[i].value;
    }
    return "x";
}

static int takes_value(const cli_opt *o)
{
    return o->kind == CLI_OPT_STRING || o->kind == CLI_OPT_LIST ||
           (o->flags & CLI_OPTF_VALUE);
}

static char *help_text(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    cli_usage(f);
    fclose(f);
    return buf;
}

/* Parses argv (NULL-terminated) with the configuration file cfg. */
static int parse(const char *cfg, cli_opts *o, char **argv)
{
    int argc = 0;
    FILE *f;

    f = fopen(cfg, "w");
    if (!f)
        return -1;
    fclose(f);
    while (argv[argc])
        argc++;
    return cli_parse_args(argc, argv, o);
}

static void test_table_help_and_config(void)
{
    char *help = help_text();
    char dir[] = "/tmp/test_cli_options.XXXXXX";
    char cfg[64];
    int options = 0;

    unit_case = "every option in --help and as a configuration key";
    CHECK(help != NULL);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(cfg, sizeof cfg, "%s/config", dir);
    for (const cli_opt *o = cli_smtpc_options; help && o->kind != CLI_OPT_END;
         o++) {
        char label[80];
        const char *at;
        if (o->kind == CLI_OPT_TEXT)
            continue;
        options++;
        CHECK(o->help != NULL && o->help[0] != '\0');
        /* The left column of its --help line. */
        if (o->name && o->short_name)
            snprintf(label, sizeof label, "\n  -%c, --%s", o->short_name,
                     o->name);
        else if (o->name)
            snprintf(label, sizeof label, "\n  --%s", o->name);
        else
            snprintf(label, sizeof label, "\n  -%c", o->short_name);
        at = strstr(help, label);
        if (!at || (at[strlen(label)] != ' ' && at[strlen(label)] != '\n' &&
                    !((o->flags & CLI_OPTF_OPTIONAL) &&
                      at[strlen(label)] == '['))) {
            fprintf(stderr, "  not in --help: %s\n", label + 1);
            CHECK(0);
        }
        /* Short only: no configuration key.  "account NAME" in a file
         * starts a section (config.c), whatever the option. */
        if (!o->name || strcmp(o->name, "account") == 0)
            continue;

        /* As a configuration file's line. */
        {
            FILE *f = fopen(cfg, "w");
            /* --auth none: a credential option alone is no mistake
             * then (with credentials it would lack its partner, which
             * the file's line would be blamed for). */
            char *argv[] = {"smtpc", "-C", cfg, "--server", "h.invalid",
                            "--auth", "none", "--from", "a@example.com",
                            "b@example.com", NULL};
            cli_opts opts;
            int rc;
            CHECK(f != NULL);
            if (!f)
                break;
            if (takes_value(o))
                fprintf(f, "%s %s\n", o->name, sample_value(o->name));
            else
                fprintf(f, "%s\n", o->name);
            fclose(f);
            rc = cli_parse_args(10, argv, &opts);
            if (o->flags & CLI_OPTF_CMDLINE) {
                if (rc != EX_CONFIG)
                    fprintf(stderr, "  '%s' accepted in a file\n", o->name);
                CHECK_EQ_INT(rc, EX_CONFIG);
            } else {
                if (rc == EX_CONFIG)
                    fprintf(stderr, "  '%s' refused in a file\n", o->name);
                CHECK(rc != EX_CONFIG);
            }
            cli_opts_free(&opts);
        }
    }
    CHECK(options > 40);
    unlink(cfg);
    rmdir(dir);
    free(help);
}

static void test_sendmail_flags(void)
{
    char dir[] = "/tmp/test_cli_options.XXXXXX";
    char cfg[64];
    cli_opts o;

    unit_case = "sendmail's flags";
    CHECK(mkdtemp(dir) != NULL);
    snprintf(cfg, sizeof cfg, "%s/config", dir);
    {
        char *argv[] = {"sendmail", "-C", cfg, "--server", "h.invalid",
                        "-oi", "-it", "-bm", "-r", "a@example.com",
                        "-N", "never", "-B", "8BITMIME", "-Fname", "-oem",
                        "b@example.com", NULL};
        CHECK_EQ_INT(parse(cfg, &o, argv), CLI_PARSE_OK);
        CHECK(o.read_rcpts);
        CHECK_EQ_STR(o.from, "a@example.com");
        CHECK_EQ_INT((int)o.notify, SMTPC_NOTIFY_NEVER);
        CHECK(o.mail_flags & SMTPC_MAIL_8BITMIME);
        CHECK_EQ_INT((int)o.rcpt_count, 1);
        cli_opts_free(&o);
    }
    {
        /* -x is no option: "-xoi" is refused at its first letter. */
        char *argv[] = {"sendmail", "-C", cfg, "--server", "h.invalid",
                        "-xoi", "-f", "a@example.com", "b@example.com", NULL};
        CHECK_EQ_INT(parse(cfg, &o, argv), EX_USAGE);
        cli_opts_free(&o);
    }
    {
        char *argv[] = {"sendmail", "-C", cfg, "--server", "h.invalid",
                        "-bp", "b@example.com", NULL};
        CHECK_EQ_INT(parse(cfg, &o, argv), EX_USAGE);
        cli_opts_free(&o);
    }
    {
        /* -r is --from: both given is "given twice". */
        char *argv[] = {"sendmail", "-C", cfg, "--server", "h.invalid",
                        "-r", "a@example.com", "--from", "a@example.com",
                        "b@example.com", NULL};
        CHECK_EQ_INT(parse(cfg, &o, argv), EX_USAGE);
        cli_opts_free(&o);
    }
    unlink(cfg);
    rmdir(dir);
}

/* The machinery alone, on a table of its own: a repeatable option, a
 * group, a count. */
typedef struct toy {
    cli_strlist attach;
    const char *a, *b;
    int verbose;
} toy;

static void toy_error(cli_optparse *p, int err, const char *what)
{
    (void)p, (void)err, (void)what;
}

static const cli_opt toy_table[] = {
    {"attach", 0, CLI_OPT_LIST, 0, offsetof(toy, attach), 0, NULL, "FILE",
     "attach FILE", NULL},
    {"a", 0, CLI_OPT_STRING, 0, offsetof(toy, a), 1, NULL, "X", "a", NULL},
    {"b", 0, CLI_OPT_STRING, 0, offsetof(toy, b), 1, NULL, "X", "b", NULL},
    {"verbose", 'v', CLI_OPT_COUNT, 0, offsetof(toy, verbose), 0, NULL, NULL,
     "more", NULL},
    {NULL, 0, CLI_OPT_END, 0, 0, 0, NULL, NULL, NULL, NULL},
};

static void test_machinery(void)
{
    char *first[] = {"toy", "--attach=1", "-vv", "--a", "x", "--attach", "2",
                     NULL};
    char *second[] = {"toy", "--b", "y", "--attach", "3", NULL};
    cli_optparse p;
    toy t;

    unit_case = "lists, groups and counts";
    memset(&t, 0, sizeof t);
    cli_opt_init(&p, "toy", toy_table, &t, toy_error);
    CHECK_EQ_INT(cli_opt_parse(&p, 7, first), 0);
    CHECK_EQ_INT((int)t.attach.count, 2);
    CHECK(t.attach.count == 2 && strcmp(t.attach.items[1], "2") == 0);
    CHECK_EQ_INT(t.verbose, 2);
    CHECK_EQ_STR(t.a, "x");
    /* A second list of words replaces the first's list and group. */
    CHECK_EQ_INT(cli_opt_parse(&p, 5, second), 0);
    CHECK(t.attach.count == 1 && strcmp(t.attach.items[0], "3") == 0);
    CHECK(t.a == NULL);
    CHECK_EQ_STR(t.b, "y");
    cli_opt_free(toy_table, &t);
    CHECK(t.attach.items == NULL && t.attach.count == 0);
}

int main(void)
{
    test_machinery();
    test_table_help_and_config();
    test_sendmail_flags();
    return unit_done();
}
