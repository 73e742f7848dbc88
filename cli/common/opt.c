/*
 * cli/common/opt.c - parsing and --help from an option table (opt.h).
 */
#define _DEFAULT_SOURCE
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"

/* getopt_long's value for the long option of table entry i. */
#define LONG_VAL(i) (256 + (int)(i))

static int is_option(const cli_opt *o)
{
    return o->kind != CLI_OPT_TEXT;
}

void cli_opt_init(cli_optparse *p, const char *prog, const cli_opt *table,
                  void *target,
                  void (*error)(cli_optparse *, int, const char *))
{
    memset(p, 0, sizeof *p);
    p->prog = prog;
    p->table = table;
    p->target = target;
    p->error = error;
}

const cli_opt *cli_opt_find(const cli_opt *table, const char *name)
{
    for (const cli_opt *o = table; o->kind != CLI_OPT_END; o++) {
        if (is_option(o) && o->name && strcmp(o->name, name) == 0)
            return o;
    }
    return NULL;
}

/* The entry that does the work: a short-only alias's long option. */
static const cli_opt *resolve(const cli_opt *table, const cli_opt *o)
{
    const cli_opt *to = o->alias ? cli_opt_find(table, o->alias) : NULL;
    return to ? to : o;
}

static int takes_value(const cli_opt *o)
{
    return o->kind == CLI_OPT_STRING || o->kind == CLI_OPT_LIST ||
           (o->flags & CLI_OPTF_VALUE);
}

/* Appends value to l (emptied first when first is set): 0 or -1. */
static int list_add(cli_strlist *l, const char *value, int first)
{
    const char **items;

    if (first)
        l->count = 0;
    items = realloc(l->items, (l->count + 1) * sizeof *items);
    if (!items)
        return -1;
    items[l->count++] = value;
    l->items = items;
    return 0;
}

void cli_opt_free(const cli_opt *table, void *target)
{
    for (const cli_opt *o = table; o->kind != CLI_OPT_END; o++) {
        if (o->kind == CLI_OPT_LIST) {
            cli_strlist *l = (void *)((char *)target + o->offset);
            free(l->items);
            l->items = NULL;
            l->count = 0;
        }
    }
}

void cli_opt_label(const cli_opt *o, char *buf, size_t len)
{
    const char *name = o->name ? o->name : o->alias;

    if (name)
        snprintf(buf, len, "--%s", name);
    else
        snprintf(buf, len, "-%c", o->short_name);
}

/* Sets the option's target from value (NULL: none). */
static int apply(cli_optparse *p, const cli_opt *o, size_t idx,
                 const char *value)
{
    char *base = p->target;
    int first = !p->seen[idx];
    int rc;

    if ((o->flags & CLI_OPTF_ONCE) && p->seen[idx]) {
        char label[64];
        cli_opt_label(o, label, sizeof label);
        p->error(p, CLI_OPTERR_TWICE, label);
        return -1;
    }
    if (o->kind == CLI_OPT_STRING && o->bits != 0) {
        /* The first of its group in this list replaces the earlier
         * list's choice (a password-file from the configuration file,
         * --password-env on the command line) instead of clashing. */
        int group_seen = 0;
        for (size_t i = 0; p->table[i].kind != CLI_OPT_END; i++) {
            const cli_opt *g = &p->table[i];
            if (g->kind == CLI_OPT_STRING && g->bits == o->bits)
                group_seen |= p->seen[i];
        }
        for (size_t i = 0; p->table[i].kind != CLI_OPT_END; i++) {
            const cli_opt *g = &p->table[i];
            if (!group_seen && g->kind == CLI_OPT_STRING &&
                g->bits == o->bits)
                *(const char **)(void *)(base + g->offset) = NULL;
        }
    }
    p->seen[idx] = 1;
    if (o->check && o->kind != CLI_OPT_IGNORE) {
        rc = o->check(p, o, value);
        if (rc != 0 || o->kind == CLI_OPT_CALL)
            return rc;
    }
    switch (o->kind) {
    case CLI_OPT_FLAG:
        *(int *)(void *)(base + o->offset) = 1;
        break;
    case CLI_OPT_COUNT:
        (*(int *)(void *)(base + o->offset))++;
        break;
    case CLI_OPT_BITS:
        *(unsigned *)(void *)(base + o->offset) |= o->bits;
        break;
    case CLI_OPT_STRING:
        *(const char **)(void *)(base + o->offset) = value;
        break;
    case CLI_OPT_LIST:
        if (list_add((cli_strlist *)(void *)(base + o->offset), value,
                     first) != 0) {
            fprintf(stderr, "%s: out of memory\n", p->prog);
            return -1;
        }
        break;
    default:
        break;
    }
    return 0;
}

int cli_opt_parse(cli_optparse *p, int argc, char **argv)
{
    struct option *longs;
    char *shorts;
    size_t n = 0, nl = 0, ns = 0;
    int c, rc = 0;

    while (p->table[n].kind != CLI_OPT_END)
        n++;
    if (n > sizeof p->seen) {
        fprintf(stderr, "%s: option table too large\n", p->prog);
        return -1;
    }
    longs = calloc(n + 1, sizeof *longs);
    shorts = malloc(2 * n + 2);
    if (!longs || !shorts) {
        free(longs);
        free(shorts);
        fprintf(stderr, "%s: out of memory\n", p->prog);
        return -1;
    }
    /* The leading ':' makes a missing value its own case. */
    shorts[ns++] = ':';
    for (size_t i = 0; i < n; i++) {
        const cli_opt *o = &p->table[i];
        const cli_opt *r = resolve(p->table, o);
        if (!is_option(o))
            continue;
        if (o->name) {
            longs[nl].name = o->name;
            longs[nl].has_arg = (r->flags & CLI_OPTF_OPTIONAL)
                                    ? optional_argument
                                : takes_value(r) ? required_argument
                                                 : no_argument;
            longs[nl].val = LONG_VAL(i);
            nl++;
        }
        if (o->short_name) {
            shorts[ns++] = o->short_name;
            if (takes_value(r))
                shorts[ns++] = ':';
        }
    }
    shorts[ns] = '\0';

    memset(p->seen, 0, sizeof p->seen);
    opterr = 0;
    optind = 0; /* 0, not 1: GNU and musl then forget an earlier list */
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const cli_opt *o = NULL;
        p->word = optind - 1;
        if (c >= LONG_VAL(0)) {
            o = &p->table[c - LONG_VAL(0)];
        } else if (c != ':' && c != '?') {
            for (size_t i = 0; i < n && !o; i++) {
                if (is_option(&p->table[i]) && p->table[i].short_name == c)
                    o = &p->table[i];
            }
        }
        if (c == ':') {
            p->error(p, CLI_OPTERR_NEEDS_VALUE, argv[optind - 1]);
            rc = -1;
        } else if (!o) {
            if (optopt > 0 && optopt < 128) {
                /* A short option: inside "-xyz", optind has not moved on. */
                char opt[3] = {'-', (char)optopt, '\0'};
                p->error(p, CLI_OPTERR_UNKNOWN, opt);
            } else {
                p->error(p, CLI_OPTERR_UNKNOWN, argv[optind - 1]);
            }
            rc = -1;
        } else {
            const cli_opt *r = resolve(p->table, o);
            rc = apply(p, r, (size_t)(r - p->table),
                       takes_value(r) || (r->flags & CLI_OPTF_OPTIONAL)
                           ? optarg : NULL);
        }
        if (rc != 0)
            break;
    }
    free(longs);
    free(shorts);
    return rc;
}

void cli_opt_help(FILE *f, const cli_opt *table, int col)
{
    for (const cli_opt *o = table; o->kind != CLI_OPT_END; o++) {
        char left[128];
        const char *h = o->help ? o->help : "";
        int len;

        if (!is_option(o)) {
            fputs(h, f);
            continue;
        }
        if (o->short_name && o->name)
            len = snprintf(left, sizeof left, "  -%c, --%s", o->short_name,
                           o->name);
        else if (o->name)
            len = snprintf(left, sizeof left, "  --%s", o->name);
        else
            len = snprintf(left, sizeof left, "  -%c", o->short_name);
        if (o->arg && len > 0 && (size_t)len < sizeof left)
            len += snprintf(left + len, sizeof left - (size_t)len,
                            (o->flags & CLI_OPTF_OPTIONAL) ? "[=%s]" : " %s",
                            o->arg);
        fputs(left, f);
        /* Two spaces at least between the option and its help. */
        if (len + 2 > col)
            fprintf(f, "\n%*s", col, "");
        else
            fprintf(f, "%*s", col - len, "");
        for (const char *nl; (nl = strchr(h, '\n')) != NULL; h = nl + 1)
            fprintf(f, "%.*s\n%*s", (int)(nl - h), h, col, "");
        fprintf(f, "%s\n", h);
    }
}
