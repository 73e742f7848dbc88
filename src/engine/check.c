/*
 * Argument checks: every string that can reach the wire passes one of
 * these before anything is queued.  The command writer (command.c) checks
 * again for CR, LF and NUL, so no path can skip them.
 */
#include "internal.h"

#include <string.h>


/* RFC 5321 4.5.3.1.3: a path is at most 256 octets, brackets included. */
#define ADDRESS_MAX 254u
/* RFC 1035 names are at most 255 octets; literals are shorter. */
#define DOMAIN_MAX 255u

int smtpc_check_text(const char *text, size_t max)
{
    size_t i;

    if (text == NULL)
        return SMTPC_ERR_ARG;
    for (i = 0; text[i] != '\0'; i++) {
        if (i >= max || text[i] == '\r' || text[i] == '\n')
            return SMTPC_ERR_ARG;
    }
    return SMTPC_OK;
}

int smtpc_check_header_value(const char *value)
{
    /* RFC 5322 2.1.1: 998 octets a line.  Folding is the caller's job. */
    return smtpc_check_text(value, 998);
}

static int is_postmaster(const char *a)
{
    static const char name[] = "postmaster";
    size_t i;

    for (i = 0; i < sizeof name - 1; i++) {
        if ((a[i] | 0x20) != name[i])
            return 0;
    }
    return a[i] == '\0';
}

int smtpc_check_address(const char *addr, int allow_empty)
{
    size_t i;
    int quoted = 0, at = 0;

    if (addr == NULL)
        return SMTPC_ERR_ARG;
    if (addr[0] == '\0')
        return allow_empty ? SMTPC_OK : SMTPC_ERR_ARG;
    for (i = 0; addr[i] != '\0'; i++) {
        unsigned char c = (unsigned char)addr[i];
        if (i >= ADDRESS_MAX || c < 0x20 || c == 0x7f)
            return SMTPC_ERR_ARG;
        if (c == '"')
            quoted = !quoted;
        else if (c == '\\' && quoted && addr[i + 1] != '\0')
            i++; /* quoted-pair: the next byte is literal */
        else if (!quoted && (c == ' ' || c == '<' || c == '>'))
            return SMTPC_ERR_ARG;
        else if (!quoted && c == '@')
            at++;
    }
    /* A mailbox is local-part@domain; "postmaster" alone (in any case)
     * is the one domain-less recipient RFC 5321 4.5.1 allows. */
    if (quoted || (at != 1 && !is_postmaster(addr)))
        return SMTPC_ERR_ARG;
    if (addr[0] == '@' || addr[i - 1] == '@')
        return SMTPC_ERR_ARG;
    return SMTPC_OK;
}

int smtpc_check_domain(const char *name)
{
    size_t i;

    if (name == NULL || name[0] == '\0')
        return SMTPC_ERR_ARG;
    if (name[0] == '[') {
        /* Address literal: [192.0.2.1] or [IPv6:...]. */
        for (i = 1; name[i] != '\0' && name[i] != ']'; i++) {
            unsigned char c = (unsigned char)name[i];
            if (i >= DOMAIN_MAX || c <= 0x20 || c >= 0x7f || c == '[')
                return SMTPC_ERR_ARG;
        }
        return (name[i] == ']' && name[i + 1] == '\0' && i > 1)
                   ? SMTPC_OK
                   : SMTPC_ERR_ARG;
    }
    for (i = 0; name[i] != '\0'; i++) {
        unsigned char c = (unsigned char)name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                 c == '_' || c >= 0x80; /* U-labels, with SMTPUTF8 */
        if (i >= DOMAIN_MAX || !ok)
            return SMTPC_ERR_ARG;
    }
    return SMTPC_OK;
}

int smtpc_check_secret(const void *s, size_t len, int oauth)
{
    if (len == 0)
        return SMTPC_SECRET_EMPTY;
    if (memchr(s, '\0', len) != NULL)
        return SMTPC_SECRET_NUL;
    if (len > SMTPC_SECRET_MAX)
        return SMTPC_SECRET_TOO_LONG;
    if (memchr(s, '\r', len) != NULL || memchr(s, '\n', len) != NULL)
        return SMTPC_SECRET_LINE_BREAK;
    if (oauth && memchr(s, 0x01, len) != NULL)
        return SMTPC_SECRET_CTRL_A;
    return SMTPC_SECRET_OK;
}
