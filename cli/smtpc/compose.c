/*
 * cli/smtpc/compose.c - composing mode: smtpc builds the message itself
 * (From, To, Cc, Subject, Date, Message-ID, a text and an HTML body,
 * inline images and attachments) with the library's MIME writer, instead
 * of reading a finished one on standard input.
 *
 * The bodies are read into memory (so the writer can choose their
 * encoding and the size is exact); attached files are read a block at a
 * time while the mail goes out, with their size from fstat, so SIZE= is
 * exact and memory stays the same whatever the files weigh.  Everything
 * that can be wrong (an option's value, a file that cannot be opened) is
 * found before connecting; the message's header form is decided once the
 * server has said whether it offers SMTPUTF8 and 8BITMIME.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "smtpc/mime.h"

/* One --attach or --inline value: FILE[;type=T][;name=N][;cid=ID]. */
typedef struct cli_spec {
    char *copy;       /* allocated: the value, cut into the fields below */
    const char *path;
    const char *type; /* NULL: guessed from the name */
    const char *name; /* NULL: the file's base name */
    const char *cid;
} cli_spec;

/* An open file a part reads from. */
typedef struct cli_cfile {
    struct cli_compose *c;
    int fd;
} cli_cfile;

struct cli_compose {
    smtpc_mime_message m;
    smtpc_mime_addr from;
    smtpc_mime_addr *to, *cc;       /* allocated */
    smtpc_mime_header *headers;     /* allocated, into hcopy */
    char **hcopy;                   /* allocated copies of --header values */
    size_t hcount;
    smtpc_mime_part text, html;
    smtpc_mime_part *parts;         /* inlines, then attachments */
    cli_spec *specs;                /* one per part */
    cli_cfile *files;               /* one per part */
    size_t nparts;
    char *text_buf, *html_buf;      /* allocated bodies */
    char **addr_copy;               /* allocated copies of "Name <a>" */
    size_t addr_count;
    unsigned char rnd[28];          /* 16 for boundaries, 12 for the ID */
    char date[SMTPC_MIME_DATE_LEN];
    char msgid[128];
    smtpc_mime_writer w;
    smtpc_mime_source src;
    unsigned char *block;           /* what a file callback hands out */
    unsigned char *out;             /* what the writer writes into */
    int *read_errno;                /* where a failed read is recorded */
};

/* Media types by file name extension (lower case); anything else is
 * application/octet-stream.  A saved mail (.eml) is not message/rfc822:
 * that type must not be base64-encoded (RFC 2046 5.2.1), and a streamed
 * file cannot be checked for 7bit before it goes out, so it is sent as
 * the bytes it is (readers such as Python's email package do not decode
 * a base64 message/rfc822). */
static const struct {
    const char *ext;
    const char *type;
} media_types[] = {
    {"txt", "text/plain"},         {"log", "text/plain"},
    {"text", "text/plain"},        {"md", "text/markdown"},
    {"csv", "text/csv"},           {"tsv", "text/tab-separated-values"},
    {"html", "text/html"},         {"htm", "text/html"},
    {"css", "text/css"},           {"ics", "text/calendar"},
    {"xml", "application/xml"},    {"json", "application/json"},
    {"pdf", "application/pdf"},    {"zip", "application/zip"},
    {"gz", "application/gzip"},    {"tgz", "application/gzip"},
    {"tar", "application/x-tar"},  {"bz2", "application/x-bzip2"},
    {"xz", "application/x-xz"},    {"7z", "application/x-7z-compressed"},
    {"png", "image/png"},          {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},        {"gif", "image/gif"},
    {"svg", "image/svg+xml"},      {"webp", "image/webp"},
    {"ico", "image/vnd.microsoft.icon"}, {"bmp", "image/bmp"},
    {"eml", "application/octet-stream"}, {"mp3", "audio/mpeg"},
    {"wav", "audio/wav"},          {"mp4", "video/mp4"},
    {"doc", "application/msword"}, {"xls", "application/vnd.ms-excel"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"odt", "application/vnd.oasis.opendocument.text"},
};

static const char *guess_type(const char *name)
{
    const char *dot = strrchr(name, '.');

    if (dot && dot != name && dot[1]) {
        for (size_t i = 0; i < sizeof media_types / sizeof media_types[0]; i++)
            if (strcasecmp(dot + 1, media_types[i].ext) == 0)
                return media_types[i].type;
    }
    return "application/octet-stream";
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

/* "smtpc: " fmt (its "%s" as arg, escaped) " (see 'smtpc --help')". */
static int usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", CLI_NAME);
    cli_put_format(stderr, fmt, arg);
    fprintf(stderr, " (see '%s --help')\n", CLI_NAME);
    return EX_USAGE;
}

static int has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

/* RFC 2045 token characters. */
static int is_token(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("()<>@,;:\\\"/[]?=", ch))
            return 0;
    }
    return 1;
}

/* A media type a file can be sent as: not message/... or multipart/...,
 * whose content must not be base64 (RFC 2046 5.2.1, 5.1.1). */
static int valid_type(const char *t)
{
    const char *slash = strchr(t, '/');
    if (strncasecmp(t, "message/", 8) == 0 ||
        strncasecmp(t, "multipart/", 10) == 0)
        return 0;
    return slash && is_token(t, (size_t)(slash - t)) &&
           is_token(slash + 1, strlen(slash + 1));
}

static int valid_cid(const char *s)
{
    if (!*s || !strchr(s, '@'))
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
            strchr("<>\"()[]\\,;:", *s))
            return 0;
    return 1;
}

/* Parses an --attach (is_inline 0) or --inline value into sp.  The file
 * name ends at the first ";" that starts a KEY=VALUE parameter, so a
 * name may hold ";" as long as no "=" follows it before the next ";".
 * 0, EX_USAGE after printing why, or EX_OSERR. */
static int parse_spec(const char *value, int is_inline, cli_spec *sp)
{
    const char *opt = is_inline ? "--inline" : "--attach";
    char *s, *p;

    memset(sp, 0, sizeof *sp);
    sp->copy = s = strdup(value);
    if (!s) {
        fprintf(stderr, "%s: out of memory\n", CLI_NAME);
        return EX_OSERR;
    }
    sp->path = s;
    /* The first ";" whose segment holds "=". */
    for (p = strchr(s, ';'); p; p = strchr(p + 1, ';')) {
        size_t seg = strcspn(p + 1, ";");
        if (memchr(p + 1, '=', seg))
            break;
    }
    while (p) {
        char *key = p + 1, *eq, *next;
        *p = '\0';
        next = strchr(key, ';');
        if (next)
            *next = '\0';
        eq = strchr(key, '=');
        if (!eq) {
            fprintf(stderr, "%s: %s \"", CLI_NAME, opt);
            cli_put_escaped(stderr, value);
            fprintf(stderr, "\": \"%s\" is not KEY=VALUE (see '%s --help')\n",
                    key, CLI_NAME);
            return EX_USAGE;
        }
        *eq = '\0';
        if (strcasecmp(key, "type") == 0 && !sp->type) {
            sp->type = eq + 1;
            if (!valid_type(sp->type))
                return usage("invalid ;type=%s (a media type such as "
                             "application/pdf; not message/ or multipart/)",
                             sp->type);
        } else if (strcasecmp(key, "name") == 0 && !sp->name) {
            sp->name = eq + 1;
            if (!sp->name[0] || strchr(sp->name, '/'))
                return usage("invalid ;name=%s (a file name, no \"/\")",
                             sp->name);
        } else if (is_inline && strcasecmp(key, "cid") == 0 && !sp->cid) {
            sp->cid = eq + 1;
            if (!valid_cid(sp->cid))
                return usage("invalid ;cid=%s (ID@DOMAIN, as the HTML's "
                             "\"cid:ID@DOMAIN\")", sp->cid);
        } else {
            *eq = '=';
            fprintf(stderr, "%s: %s: unknown or repeated parameter \";",
                    CLI_NAME, opt);
            cli_put_escaped(stderr, key);
            fprintf(stderr, "\" (%s) (see '%s --help')\n",
                    is_inline ? "cid=, type=, name=" : "type=, name=",
                    CLI_NAME);
            return EX_USAGE;
        }
        p = next;
    }
    if (!sp->path[0])
        return usage("%s needs a FILE", opt);
    if (is_inline && !sp->cid)
        return usage("--inline %s needs ;cid=ID@DOMAIN (the HTML shows it "
                     "as <img src=\"cid:ID@DOMAIN\">)", sp->path);
    return 0;
}

/* Splits "Name <addr>" (or a bare addr) in place.  0, or -1. */
static int split_mailbox(char *s, smtpc_mime_addr *a)
{
    char *lt = strrchr(s, '<');
    size_t n = strlen(s);

    a->name = NULL;
    a->address = s;
    if (lt && n && s[n - 1] == '>') {
        char *end = lt;
        s[n - 1] = '\0';
        a->address = lt + 1;
        while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *end = '\0';
        while (*s == ' ' || *s == '\t')
            s++;
        /* A quoted display name loses its quotes: the writer quotes. */
        n = strlen(s);
        if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
            s[n - 1] = '\0';
            s++;
        }
        a->name = s;
    }
    return smtpc_check_address(a->address, 0) == SMTPC_OK ? 0 : -1;
}

/* Header names the composed message writes itself. */
static int reserved_header(const char *name, size_t n)
{
    static const char *const own[] = {"From", "To", "Cc", "Bcc", "Subject",
                                      "Date", "Message-ID", "MIME-Version"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (strlen(own[i]) == n && strncasecmp(name, own[i], n) == 0)
            return 1;
    return n >= 8 && strncasecmp(name, "Content-", 8) == 0;
}

/* Checks a --header value: "Name: value".  0 or EX_USAGE. */
static int check_header(const char *h, size_t *name_len)
{
    const char *colon = strchr(h, ':');
    size_t n;

    if (has_crlf(h))
        return usage("--header \"%s\" holds a line break (one field, one "
                     "line: the value is folded as needed)", h);
    if (!colon)
        return usage("--header \"%s\" is not \"Name: value\"", h);
    n = (size_t)(colon - h);
    if (n == 0 || n > 76)
        return usage("--header \"%s\": a field name has 1 to 76 characters",
                     h);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)h[i] <= 0x20 || (unsigned char)h[i] >= 0x7f)
            return usage("--header \"%s\": the field name must be printable "
                         "ASCII without spaces", h);
    if (reserved_header(h, n))
        return usage("--header \"%s\": the composed message writes that "
                     "field itself (use --from, --from-name, --to, --cc, "
                     "--bcc, --subject)", h);
    *name_len = n;
    return 0;
}

int cli_compose_check(cli_opts *o)
{
    const cli_strlist *lists[] = {&o->to, &o->cc, &o->bcc};
    static const char *const lnames[] = {"--to", "--cc", "--bcc"};
    size_t nl;
    int rc;

    o->compose = o->subject || o->body_file || o->html_file ||
                 o->attach.count || o->inline_files.count;
    if (!o->compose) {
        const char *what = o->to.count ? "--to" : o->cc.count ? "--cc"
                         : o->bcc.count ? "--bcc" : o->header.count ? "--header"
                         : o->dry_run ? "--dry-run" : NULL;
        /* --from-name is not among them: a configuration file may set it
         * for the runs that compose. */
        if (what)
            return usage("%s composes a message: give --subject (or "
                         "--body-file, --html-file, --attach) too", what);
        return CLI_PARSE_OK;
    }
    if (o->read_rcpts || o->batch_dir)
        return usage("composing a message (--subject, --body-file, "
                     "--html-file, --attach) does not go with -t or "
                     "--batch%s", NULL);
    if (!o->from || !o->from[0])
        return usage("composing a message needs --from ADDR (its From: "
                     "and the envelope sender)%s", NULL);
    if (o->subject && has_crlf(o->subject))
        return usage("--subject \"%s\" holds a line break", o->subject);
    if (o->from_name && has_crlf(o->from_name))
        return usage("--from-name \"%s\" holds a line break", o->from_name);
    if (o->inline_files.count && !o->html_file)
        return usage("--inline needs --html-file (the HTML shows the "
                     "image)%s", NULL);
    nl = 0;
    for (size_t l = 0; l < 3; l++) {
        for (size_t i = 0; i < lists[l]->count; i++) {
            smtpc_mime_addr a;
            char *s = strdup(lists[l]->items[i]);
            int bad;
            if (!s) {
                fprintf(stderr, "%s: out of memory\n", CLI_NAME);
                return EX_OSERR;
            }
            bad = has_crlf(s) || split_mailbox(s, &a) != 0;
            free(s);
            if (bad) {
                fprintf(stderr, "%s: invalid %s \"", CLI_NAME, lnames[l]);
                cli_put_escaped(stderr, lists[l]->items[i]);
                fprintf(stderr, "\": ADDR or \"Name <ADDR>\" (see '%s "
                        "--help')\n", CLI_NAME);
                return EX_USAGE;
            }
            nl++;
        }
    }
    if (nl + o->rcpt_count == 0)
        return usage("no recipient given (--to, --cc, --bcc or "
                     "RECIPIENT)%s", NULL);
    for (size_t i = 0; i < o->header.count; i++) {
        size_t n;
        rc = check_header(o->header.items[i], &n);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < o->attach.count + o->inline_files.count; i++) {
        int is_inline = i < o->inline_files.count;
        cli_spec sp;
        rc = parse_spec(is_inline ? o->inline_files.items[i]
                                  : o->attach.items[i - o->inline_files.count],
                        is_inline, &sp);
        free(sp.copy);
        if (rc)
            return rc;
    }
    if (o->attach.count + o->inline_files.count + 2 > SMTPC_MIME_PARTS_MAX)
        return usage("too many files (at most %s parts)", "1000");
    return CLI_PARSE_OK;
}

/* Random bytes from the kernel. */
static int fill_random(unsigned char *b, size_t n)
{
    while (n > 0) {
        ssize_t got = getrandom(b, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b += got;
        n -= (size_t)got;
    }
    return 0;
}

/* Reads a whole body file (fd) into *out: 0, or an exit code after
 * printing why. */
static int read_body(int fd, const char *what, char **out, size_t *len)
{
    size_t cap = 0, n = 0;
    char *buf = NULL;

    for (;;) {
        ssize_t got;
        if (n > CLI_COMPOSE_BODY_MAX) {
            free(buf);
            fprintf(stderr, "%s: ", CLI_NAME);
            cli_put_escaped(stderr, what); /* a file name: any bytes */
            fprintf(stderr, " is larger than %u MiB: send it with "
                    "--attach\n", CLI_COMPOSE_BODY_MAX >> 20);
            return EX_DATAERR;
        }
        if (n == cap) {
            char *nb;
            cap = cap ? cap * 2 : 16384;
            nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fprintf(stderr, "%s: out of memory\n", CLI_NAME);
                return EX_OSERR;
            }
            buf = nb;
        }
        got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            fprintf(stderr, "%s: cannot read ", CLI_NAME);
            cli_put_escaped(stderr, what);
            fprintf(stderr, ": %s\n", strerror(e));
            free(buf);
            return EX_IOERR;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* Opens a file the message reads: the fd, or -1 after printing why
 * (*rc = EX_NOINPUT). */
static int open_input(const char *opt, const char *path, struct stat *sb)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, sb) != 0 || S_ISDIR(sb->st_mode)) {
        int e = fd < 0 ? errno : S_ISDIR(sb->st_mode) ? EISDIR : errno;
        fprintf(stderr, "%s: cannot read %s \"", CLI_NAME, opt);
        cli_put_escaped(stderr, path);
        fprintf(stderr, "\": %s\n", strerror(e));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int read_body_file(const char *opt, const char *path, char **out,
                          size_t *len)
{
    struct stat sb;
    int fd = open_input(opt, path, &sb), rc;

    if (fd < 0)
        return EX_NOINPUT;
    rc = read_body(fd, path, out, len);
    close(fd);
    return rc;
}

/* smtpc_mime_read_fn: the next block of a file. */
static int file_read(void *ctx, const void **data, size_t *len)
{
    cli_cfile *f = ctx;
    ssize_t n;

    do
        n = read(f->fd, f->c->block, CLI_BODY_CHUNK);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        *f->c->read_errno = errno;
        return SMTPC_ERR_BODY_SOURCE;
    }
    *data = f->c->block;
    *len = (size_t)n;
    return SMTPC_OK;
}

void cli_compose_free(cli_run *r)
{
    struct cli_compose *c = r->compose;

    if (!c)
        return;
    for (size_t i = 0; i < c->nparts; i++) {
        if (c->files && c->files[i].fd >= 0)
            close(c->files[i].fd);
        if (c->specs)
            free(c->specs[i].copy);
    }
    for (size_t i = 0; i < c->hcount; i++)
        free(c->hcopy[i]);
    for (size_t i = 0; i < c->addr_count; i++)
        free(c->addr_copy[i]);
    free(c->addr_copy);
    free(c->hcopy);
    free(c->headers);
    free(c->parts);
    free(c->specs);
    free(c->files);
    free(c->to);
    free(c->cc);
    free(c->text_buf);
    free(c->html_buf);
    free(c->block);
    free(c->out);
    free(c);
    r->compose = NULL;
}

static int nomem(void)
{
    fprintf(stderr, "%s: out of memory\n", CLI_NAME);
    return EX_OSERR;
}

/* Mailboxes of a --to/--cc list into out (copies kept in c). */
static int fill_mailboxes(struct cli_compose *c, const cli_strlist *l,
                          smtpc_mime_addr *out)
{
    for (size_t i = 0; i < l->count; i++) {
        char *s = strdup(l->items[i]);
        if (!s)
            return nomem();
        c->addr_copy[c->addr_count++] = s;
        (void)split_mailbox(s, &out[i]); /* checked by cli_compose_check */
    }
    return 0;
}

/* Adds addr to the envelope unless it is there already. */
static void add_rcpt(cli_run *r, size_t *n, const char *addr)
{
    for (size_t i = 0; i < *n; i++)
        if (cli_same_address(r->rcpts[i].address, addr))
            return;
    r->rcpts[(*n)++].address = addr;
}

int cli_compose_prepare(cli_run *r, smtpc_envelope *env)
{
    const cli_opts *o = &r->opts;
    struct cli_compose *c;
    smtpc_mime_message *m;
    size_t nin = o->inline_files.count, nrcpt = 0, len;
    size_t naddr = o->to.count + o->cc.count + o->bcc.count;
    smtpc_mime_addr *bcc = NULL;
    struct tm tm;
    time_t now = time(NULL);
    const char *at;
    int rc;

    c = r->compose = calloc(1, sizeof *c);
    if (!c)
        return nomem();
    m = &c->m;
    c->read_errno = &r->body.read_errno;
    c->nparts = nin + o->attach.count;
    c->addr_copy = calloc(naddr + 1, sizeof *c->addr_copy);
    c->to = calloc(o->to.count ? o->to.count : o->rcpt_count + 1,
                   sizeof *c->to);
    c->cc = calloc(o->cc.count + 1, sizeof *c->cc);
    bcc = calloc(o->bcc.count + 1, sizeof *bcc);
    c->headers = calloc(o->header.count + 1, sizeof *c->headers);
    c->hcopy = calloc(o->header.count + 1, sizeof *c->hcopy);
    c->parts = calloc(c->nparts + 1, sizeof *c->parts);
    c->specs = calloc(c->nparts + 1, sizeof *c->specs);
    c->files = calloc(c->nparts + 1, sizeof *c->files);
    c->block = malloc(CLI_BODY_CHUNK);
    c->out = malloc(CLI_BODY_CHUNK);
    r->rcpts = calloc(naddr + o->rcpt_count + 1, sizeof *r->rcpts);
    if (!c->addr_copy || !c->to || !c->cc || !bcc || !c->headers ||
        !c->hcopy || !c->parts || !c->specs || !c->files || !c->block ||
        !c->out || !r->rcpts) {
        free(bcc);
        return nomem();
    }
    for (size_t i = 0; i < c->nparts; i++)
        c->files[i].fd = -1;

    /* Addresses: To (the RECIPIENTs when no --to is given), Cc; the
     * envelope gets those, the RECIPIENTs and Bcc, which no header shows. */
    rc = fill_mailboxes(c, &o->to, c->to);
    if (!rc)
        rc = fill_mailboxes(c, &o->cc, c->cc);
    if (!rc)
        rc = fill_mailboxes(c, &o->bcc, bcc);
    if (rc) {
        free(bcc);
        return rc;
    }
    if (o->to.count) {
        m->to_count = o->to.count;
    } else {
        for (size_t i = 0; i < o->rcpt_count; i++)
            c->to[i].address = o->rcpts[i];
        m->to_count = o->rcpt_count;
    }
    m->to = m->to_count ? c->to : NULL;
    m->cc = o->cc.count ? c->cc : NULL;
    m->cc_count = o->cc.count;
    for (size_t i = 0; i < o->rcpt_count; i++)
        add_rcpt(r, &nrcpt, o->rcpts[i]);
    for (size_t i = 0; i < o->to.count; i++)
        add_rcpt(r, &nrcpt, c->to[i].address);
    for (size_t i = 0; i < o->cc.count; i++)
        add_rcpt(r, &nrcpt, c->cc[i].address);
    for (size_t i = 0; i < o->bcc.count; i++)
        add_rcpt(r, &nrcpt, bcc[i].address);
    free(bcc); /* its addresses are the copies in c->addr_copy */
    env->from = o->from;
    env->rcpts = r->rcpts;
    env->rcpt_count = nrcpt;

    c->from.address = o->from;
    c->from.name = o->from_name;
    m->from = &c->from;
    m->subject = o->subject;

    /* Date (local time, with its offset) and a Message-ID at the sender's
     * domain, both drawn from nothing the user has to give. */
    if (localtime_r(&now, &tm))
        smtpc_mime_date(c->date, (int64_t)now, (int)(tm.tm_gmtoff / 60));
    else
        smtpc_mime_date(c->date, (int64_t)now, 0);
    m->date = c->date;
    if (fill_random(c->rnd, sizeof c->rnd) != 0) {
        fprintf(stderr, "%s: getrandom: %s\n", CLI_NAME, strerror(errno));
        return EX_OSERR;
    }
    at = strrchr(o->from, '@');
    len = 0;
    for (size_t i = 16; i < sizeof c->rnd; i++)
        len += (size_t)snprintf(c->msgid + len, sizeof c->msgid - len, "%02x",
                                c->rnd[i]);
    snprintf(c->msgid + len, sizeof c->msgid - len, ".smtpc@%.*s", 96,
             at && at[1] ? at + 1 : "localhost");
    m->message_id = c->msgid;
    m->entropy = c->rnd;
    m->entropy_len = 16;

    for (size_t i = 0; i < o->header.count; i++) {
        const char *h = o->header.items[i], *v;
        size_t n = strcspn(h, ":");
        c->hcopy[i] = strndup(h, n);
        if (!c->hcopy[i])
            return nomem();
        c->hcount = i + 1;
        for (v = h + n + 1; *v == ' ' || *v == '\t'; v++)
            ;
        c->headers[i].name = c->hcopy[i];
        c->headers[i].value = v;
    }
    m->headers = o->header.count ? c->headers : NULL;
    m->header_count = o->header.count;

    /* The bodies: the text from --body-file or standard input, left out
     * when empty and something else carries the message. */
    if (o->body_file)
        rc = read_body_file("--body-file", o->body_file, &c->text_buf, &len);
    else
        rc = read_body(STDIN_FILENO, "standard input", &c->text_buf, &len);
    if (rc)
        return rc;
    c->text.data = c->text_buf;
    c->text.len = len;
    if (len > 0 || (!o->html_file && c->nparts == 0))
        m->text = &c->text;
    if (o->html_file) {
        rc = read_body_file("--html-file", o->html_file, &c->html_buf, &len);
        if (rc)
            return rc;
        c->html.data = c->html_buf;
        c->html.len = len;
        m->html = &c->html;
    }

    /* The files: opened now, so that a missing one sends nothing. */
    for (size_t i = 0; i < c->nparts; i++) {
        int is_inline = i < nin;
        smtpc_mime_part *p = &c->parts[i];
        cli_spec *sp = &c->specs[i];
        struct stat sb;

        rc = parse_spec(is_inline ? o->inline_files.items[i]
                                  : o->attach.items[i - nin], is_inline, sp);
        if (rc)
            return rc;
        c->files[i].c = c;
        c->files[i].fd = open_input(is_inline ? "--inline" : "--attach",
                                    sp->path, &sb);
        if (c->files[i].fd < 0)
            return EX_NOINPUT;
        p->filename = sp->name ? sp->name : base_name(sp->path);
        p->content_type = sp->type ? sp->type : guess_type(p->filename);
        p->content_id = sp->cid;
        if (S_ISREG(sb.st_mode) && sb.st_size == 0) {
            /* Empty: a buffer, since a size of 0 means "unknown". */
            p->data = "";
            p->len = 0;
        } else {
            p->read = file_read;
            p->ctx = &c->files[i];
            /* Base64 for text/... files too: their size is then known
             * (SIZE=) and their bytes come back exactly, line ends
             * included; quoted-printable would be neither. */
            p->encoding = SMTPC_MIME_ENC_BASE64;
            p->size = S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
        }
    }
    m->inlines = nin ? c->parts : NULL;
    m->inline_count = nin;
    m->attachments = o->attach.count ? c->parts + nin : NULL;
    m->attachment_count = o->attach.count;

    /* Everything the writer checks, with every extension allowed: what
     * fails now is the options' fault.  (Without SMTPUTF8 at the server,
     * only a non-ASCII address can fail later.) */
    m->flags = SMTPC_MIME_8BITMIME | SMTPC_MIME_SMTPUTF8;
    if (smtpc_mime_init(&c->w, m) != SMTPC_OK)
        return usage("the message cannot be composed: a --subject, "
                     "--from-name, --header value, address or file name is "
                     "not valid UTF-8 or holds a control character%s", NULL);
    return 0;
}

/* The writer's flags for what the server offers (or, for --dry-run, for
 * what --8bitmime and --smtputf8 say it would). */
static unsigned mime_flags(int eightbit, int utf8)
{
    return (eightbit ? SMTPC_MIME_8BITMIME : 0u) |
           (utf8 ? SMTPC_MIME_SMTPUTF8 : 0u);
}

int cli_compose_print(cli_run *r)
{
    smtpc_envelope env;
    struct cli_compose *c;
    size_t n;
    int rc;

    memset(&env, 0, sizeof env);
    rc = cli_compose_prepare(r, &env);
    if (rc)
        return rc;
    c = r->compose;
    c->m.flags = mime_flags(r->opts.mail_flags & SMTPC_MAIL_8BITMIME,
                            r->opts.mail_flags & SMTPC_MAIL_SMTPUTF8);
    if (smtpc_mime_init(&c->w, &c->m) != SMTPC_OK) {
        fprintf(stderr, "%s: an address needs SMTPUTF8: give --smtputf8\n",
                CLI_NAME);
        return EX_DATAERR;
    }
    while ((n = smtpc_mime_read(&c->w, c->out, CLI_BODY_CHUNK)) > 0) {
        if (fwrite(c->out, 1, n, stdout) != n)
            break;
    }
    if (!smtpc_mime_done(&c->w)) {
        if (r->body.read_errno)
            fprintf(stderr, "%s: reading a file failed: %s\n", CLI_NAME,
                    strerror(r->body.read_errno));
        else if (smtpc_mime_status(&c->w) != SMTPC_OK)
            fprintf(stderr, "%s: a file changed size while it was read\n",
                    CLI_NAME);
        else
            fprintf(stderr, "%s: cannot write to standard output\n",
                    CLI_NAME);
        return EX_IOERR;
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "%s: cannot write to standard output: %s\n",
                CLI_NAME, strerror(errno));
        return EX_IOERR;
    }
    return EX_OK;
}

int cli_compose_send(cli_run *r, smtpc_envelope *env, smtpc_result *res)
{
    struct cli_compose *c = r->compose;
    const smtpc_session *s = smtpc_client_session(r->client);
    const smtpc_caps *caps;
    smtpc_body_source body;
    uint64_t size;
    unsigned f;
    int st;

    memset(res, 0, sizeof *res);
    st = smtpc_client_open(r->client);
    if (st != SMTPC_OK) {
        const smtpc_reply *rp = smtpc_last_reply(s);
        res->status = st;
        res->phase = smtpc_session_phase(s);
        if (rp)
            res->reply = *rp;
        (void)smtpc_client_close(r->client);
        return st;
    }
    /* What the server offers decides the header form and the encodings. */
    caps = smtpc_session_caps(s);
    f = caps ? caps->flags : 0;
    c->m.flags = mime_flags(f & SMTPC_CAP_8BITMIME, f & SMTPC_CAP_SMTPUTF8);
    if (smtpc_mime_init(&c->w, &c->m) != SMTPC_OK) {
        /* Checked with SMTPUTF8 allowed: an address needs it. */
        (void)smtpc_client_close(r->client);
        res->status = SMTPC_ERR_EXTENSION;
        return SMTPC_ERR_EXTENSION;
    }
    size = smtpc_mime_size(&c->w);
    env->size = size == SMTPC_MIME_SIZE_UNKNOWN ? 0 : size;
    env->flags |= smtpc_mime_mail_flags(&c->w);
    body = smtpc_mime_body_source(&c->src, &c->w, c->out, CLI_BODY_CHUNK);
    st = smtpc_client_send(r->client, env, &body, res);
    /* Once the server took the message a failed QUIT changes nothing. */
    (void)smtpc_client_close(r->client);
    return st;
}
