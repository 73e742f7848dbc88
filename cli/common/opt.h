/*
 * cli/common/opt.h - options described by one table: the parser, the
 * --help text and (for smtpc) the configuration file's keys all read it,
 * so they cannot disagree.
 *
 * Adding an option is one entry, e.g.
 *
 *   {"ehlo", 0, CLI_OPT_STRING, CLI_OPTF_ONCE, OFF(ehlo), 0, check_domain,
 *    "NAME", "name to greet with (default: localhost)", NULL},
 *
 * where OFF(field) is the offsetof the target in the program's options
 * struct.  A repeatable option (--attach FILE) is CLI_OPT_LIST with a
 * cli_strlist target; a flag is CLI_OPT_FLAG or CLI_OPT_BITS; a value
 * with its own syntax is CLI_OPT_CALL, whose check parses and stores it;
 * a sendmail letter that means a long option names it as its alias.  The
 * parser is getopt_long's, so clusters ("-it"), attached values ("-oi",
 * "--name=value") and GNU's permutation behave as they always have.
 */
#ifndef SMTPC_CLI_OPT_H
#define SMTPC_CLI_OPT_H

#include <stddef.h>
#include <stdio.h>

/* What an entry does.  The target is the field at offset in the struct
 * the parse fills. */
enum cli_opt_kind {
    CLI_OPT_END = 0,  /* ends the table */
    CLI_OPT_TEXT,     /* no option: help is printed as it is (a heading) */
    CLI_OPT_FLAG,     /* no value; int target = 1 */
    CLI_OPT_COUNT,    /* no value; int target += 1 (-v -v) */
    CLI_OPT_BITS,     /* no value; unsigned target |= bits */
    CLI_OPT_STRING,   /* a value; const char * target = value, once the
                         check (if any) took it */
    CLI_OPT_LIST,     /* a value, may be repeated; appended to the
                         cli_strlist target, once the check took it */
    CLI_OPT_CALL,     /* the check does everything (a value with
                         CLI_OPTF_VALUE) */
    CLI_OPT_IGNORE    /* accepted and changes nothing (a value with
                         CLI_OPTF_VALUE) */
};

enum {
    CLI_OPTF_VALUE = 1u << 0,    /* CALL, IGNORE: takes a value */
    CLI_OPTF_ONCE = 1u << 1,     /* "given twice" in one list of words */
    CLI_OPTF_PATH = 1u << 2,     /* a file name: "~/" in a configuration
                                    file is $HOME/ */
    CLI_OPTF_CMDLINE = 1u << 3,  /* about one run: no configuration key */
    CLI_OPTF_OPTIONAL = 1u << 4  /* CALL, long name: the value may be left
                                    out ("--name" or "--name=value"; the
                                    check gets NULL without one) */
};

/* The target of a CLI_OPT_LIST option: the values in the order given.
 * The first value a list of words gives replaces what an earlier list
 * (the configuration file's) gave.  Freed by cli_opt_free. */
typedef struct cli_strlist {
    const char **items;  /* allocated; the strings are the words' */
    size_t count;
} cli_strlist;

/* A check's result besides 0 and -1 (refused, said why): stop parsing,
 * all is done (--help, --version). */
enum { CLI_OPT_STOP = 1 };

typedef struct cli_opt cli_opt;
typedef struct cli_optparse cli_optparse;

/* Checks (and for CALL stores) one value; value is NULL for an option
 * that takes none.  0, -1 after reporting why, or CLI_OPT_STOP. */
typedef int (*cli_opt_fn)(cli_optparse *p, const cli_opt *o,
                          const char *value);

struct cli_opt {
    const char *name;   /* long name without "--"; NULL: short only */
    char short_name;    /* or 0 */
    unsigned char kind; /* enum cli_opt_kind */
    unsigned char flags;/* CLI_OPTF_* */
    size_t offset;      /* of the target in the struct being filled */
    unsigned bits;      /* BITS: the bits set; STRING: a group number
                           (nonzero): the first of a group's options in a
                           list of words drops what an earlier list set
                           for any of them */
    cli_opt_fn check;   /* NULL: none */
    const char *arg;    /* the value's name in --help ("HOST[:PORT]") */
    const char *help;   /* lines separated by "\n"; TEXT: printed as is */
    const char *alias;  /* short only: acts as this long option, whose
                           name its messages use */
};

/* The generic errors a program words its own way. */
enum { CLI_OPTERR_UNKNOWN, CLI_OPTERR_NEEDS_VALUE, CLI_OPTERR_TWICE };

/* One parse of a list of words. */
struct cli_optparse {
    const char *prog;    /* the program's name, for messages */
    const cli_opt *table;
    void *target;        /* the struct that offsets point into */
    void *ctx;           /* the program's */
    /* Reports a generic error; what is "--name", "-x" or the word. */
    void (*error)(cli_optparse *p, int err, const char *what);
    int word;            /* index of the word being parsed */
    unsigned char seen[256]; /* per table entry: given in this list */
};

/* Starts a parse of table into target; error reports the generic
 * errors. */
void cli_opt_init(cli_optparse *p, const char *prog, const cli_opt *table,
                  void *target,
                  void (*error)(cli_optparse *, int, const char *));

/* The entry of a long name (not TEXT, not short only), or NULL. */
const cli_opt *cli_opt_find(const cli_opt *table, const char *name);

/* Parses argv (argv[0] the program) into p->target with p->table: 0,
 * CLI_OPT_STOP, or -1 after reporting why.  optind is then the first word
 * that is not an option.  Each call forgets the previous one's words. */
int cli_opt_parse(cli_optparse *p, int argc, char **argv);

/* Frees what parsing allocated in target (the CLI_OPT_LIST arrays). */
void cli_opt_free(const cli_opt *table, void *target);

/* "--name" of an entry (its alias's for a short-only one), else "-x". */
void cli_opt_label(const cli_opt *o, char *buf, size_t len);

/* The option lines of --help: "  -x, --name ARG" then the help, whose
 * lines start at column col (on the next line when the left part is too
 * long). */
void cli_opt_help(FILE *f, const cli_opt *table, int col);

#endif /* SMTPC_CLI_OPT_H */
