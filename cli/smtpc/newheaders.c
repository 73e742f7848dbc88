/*
 * cli/smtpc/newheaders.c - the From:, Date: and Message-ID: fields a message
 * lacks, written by smtpc as msmtp and sendmail write them.
 *
 * mail(1), cron and "printf ... | sendmail" hand over messages without
 * some of these fields; RFC 5322 3.6 requires From: and Date:, and many
 * receivers score a message without Message-ID: as spam.  A field the
 * message has is never touched; the new ones go before the message's
 * first line, so nothing of it moves; an empty message stays empty.
 * --no-add-from, --no-add-date and
 * --no-add-message-id turn each off.
 *
 *   From:        the envelope sender, with the name from --from-name (-F)
 *                or else the user's GECOS full name (RFC 2047 encoded when
 *                it is not ASCII); none for the null sender <>.
 *   Date:        now, local time with its UTC offset (RFC 5322 3.3).
 *   Message-ID:  <UTC time.pid.64 random bits@domain of the sender>.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* A display name is cut at this many bytes (a GECOS field may be long). */
#define NAME_MAX_BYTES 200u

typedef struct out {
    char *s;
    size_t len, cap;
    int oom;
} out;

static void put(out *o, const void *p, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        char *s;
        while (cap < o->len + n + 1)
            cap *= 2;
        s = realloc(o->s, cap);
        if (!s) {
            o->oom = 1;
            return;
        }
        o->s = s;
        o->cap = cap;
    }
    memcpy(o->s + o->len, p, n);
    o->len += n;
    o->s[o->len] = '\0';
}

static void puts_(out *o, const char *s) { put(o, s, strlen(s)); }

/* RFC 5322 3.2.3 atext, and space: a name that needs no quotes. */
static int plain_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == ' ' ||
           strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Length of the UTF-8 sequence that starts with c (1 for a stray byte). */
static size_t utf8_len(unsigned char c)
{
    return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

static void put_base64(out *o, const unsigned char *p, size_t n)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[0] = b64[(v >> 18) & 63];
        q[1] = b64[(v >> 12) & 63];
        q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? b64[v & 63] : '=';
        put(o, q, 4);
    }
}

/* The display name as a phrase: as it is, quoted, or RFC 2047 words. */
static void put_name(out *o, const char *name, size_t n)
{
    int ascii = 1, plain = 1;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 0x80)
            ascii = 0;
        else if (!plain_name_char(c))
            plain = 0;
    }
    if (!ascii) {
        /* RFC 2047 2: each word at most 75 characters; a word holds whole
         * characters (45 bytes make 60 of base64). */
        size_t i = 0;
        while (i < n) {
            size_t take = 0;
            while (i + take < n) {
                size_t c = utf8_len((unsigned char)name[i + take]);
                if (take + c > 45)
                    break;
                take += c;
            }
            if (take == 0 || i + take > n)
                take = n - i;
            if (i)
                put(o, " ", 1);
            puts_(o, "=?UTF-8?B?");
            put_base64(o, (const unsigned char *)name + i, take);
            puts_(o, "?=");
            i += take;
        }
        return;
    }
    if (plain && name[0] != ' ' && name[n - 1] != ' ') {
        put(o, name, n);
        return;
    }
    put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '"' || name[i] == '\\')
            put(o, "\\", 1);
        put(o, name + i, 1);
    }
    put(o, "\"", 1);
}

/* The name to show: --from-name, else the GECOS full name (up to its first
 * comma; "&" is the login name capitalised, as finger(1) reads it).  Control
 * characters are dropped.  Into buf; "" when none. */
static void display_name(const cli_opts *o, char *buf, size_t len)
{
    const char *src = o->from_name;
    const char *login = "";
    size_t n = 0;

    buf[0] = '\0';
    if (!src) {
        const struct passwd *pw = getpwuid(getuid());
        if (!pw || !pw->pw_gecos)
            return;
        src = pw->pw_gecos;
        login = pw->pw_name ? pw->pw_name : "";
    }
    for (const char *p = src; *p && n + 1 < len; p++) {
        unsigned char c = (unsigned char)*p;
        if (!o->from_name && c == ',')
            break;
        if (!o->from_name && c == '&') {
            for (const char *l = login; *l && n + 1 < len; l++)
                buf[n++] = l == login && *l >= 'a' && *l <= 'z'
                               ? (char)(*l - 'a' + 'A') : *l;
            continue;
        }
        if (c < 0x20 || c == 0x7f)
            continue;
        buf[n++] = (char)c;
    }
    while (n && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
    if (buf[0] == ' ') {
        size_t s = strspn(buf, " ");
        memmove(buf, buf + s, n - s + 1);
    }
}

static void put_from(out *o, const cli_opts *opts, const char *from)
{
    char name[NAME_MAX_BYTES + 1];

    display_name(opts, name, sizeof name);
    puts_(o, "From: ");
    if (name[0]) {
        put_name(o, name, strlen(name));
        puts_(o, " <");
        puts_(o, from);
        puts_(o, ">\r\n");
    } else {
        puts_(o, from);
        puts_(o, "\r\n");
    }
}

static void put_date(out *o, time_t now)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu",
                                    "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May",
                                       "Jun", "Jul", "Aug", "Sep", "Oct",
                                       "Nov", "Dec"};
    struct tm tm;
    char buf[64];
    long off;

    if (!localtime_r(&now, &tm))
        return;
    off = tm.tm_gmtoff / 60;
    /* RFC 5322 3.3; not strftime, whose names follow the locale. */
    snprintf(buf, sizeof buf, "Date: %s, %d %s %d %02d:%02d:%02d %c%02ld%02ld\r\n",
             days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
             off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
    puts_(o, buf);
}

/* The right-hand side of the Message-ID: the sender's domain when it is a
 * name (not an address literal), else --qualify-domain, else the host's
 * name, else "localhost". */
static void msgid_domain(const cli_opts *opts, const char *from, char *buf,
                         size_t len)
{
    const char *at = from ? strrchr(from, '@') : NULL;

    if (at && at[1] && at[1] != '[' && strlen(at + 1) < len) {
        snprintf(buf, len, "%s", at + 1);
        return;
    }
    if (opts->qualify_domain) {
        snprintf(buf, len, "%s", opts->qualify_domain);
        return;
    }
    if (gethostname(buf, len) == 0 && buf[0] && memchr(buf, '\0', len) &&
        smtpc_check_domain(buf) == SMTPC_OK)
        return;
    snprintf(buf, len, "localhost");
}

static void put_message_id(out *o, const cli_opts *opts, const char *from,
                           time_t now)
{
    char dom[256], buf[400];
    unsigned long long rnd = 0;
    struct tm tm;

    if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        rnd = ((unsigned long long)ts.tv_nsec << 20) ^
              (unsigned long long)(uintptr_t)&ts;
    }
    msgid_domain(opts, from, dom, sizeof dom);
    if (!gmtime_r(&now, &tm))
        memset(&tm, 0, sizeof tm);
    snprintf(buf, sizeof buf,
             "Message-ID: <%04d%02d%02d%02d%02d%02d.%ld.%016llx@%s>\r\n",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (long)getpid(), rnd, dom);
    puts_(o, buf);
}

int cli_message_complete(cli_message *m, const cli_opts *opts,
                         const char *from)
{
    unsigned want = ~m->hdr.present & ~opts->no_add &
                    (CLI_HAS_FROM | CLI_HAS_DATE | CLI_HAS_MESSAGE_ID);
    time_t now = time(NULL);
    out o = {0};

    free(m->added);
    m->added = NULL;
    m->added_len = 0;
    if (!from || !from[0])
        want &= ~(unsigned)CLI_HAS_FROM; /* the null sender names nobody */
    if (m->len == 0 && m->eof)
        want = 0; /* nothing was written: nothing is made up either */
    if (!want)
        return 0;
    if (want & CLI_HAS_FROM)
        put_from(&o, opts, from);
    if (want & CLI_HAS_DATE)
        put_date(&o, now);
    if (want & CLI_HAS_MESSAGE_ID)
        put_message_id(&o, opts, from, now);
    /* A message with no header section at all ("hello" on its first line)
     * gets the empty line that separates the new fields from its body. */
    if (m->head_len == 0 && m->len > 0)
        puts_(&o, "\r\n");
    if (o.oom) {
        free(o.s);
        return -1;
    }
    m->added = o.s;
    m->added_len = o.len;
    return 0;
}
