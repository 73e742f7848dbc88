/*
 * cli/common/values.c - the values of --tls, --timeout and sizes, parsed
 * one way for both programs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static const struct {
    const char *word;
    unsigned bit;  /* CLI_TLSW_* */
    int mode;
} tls_words[] = {
    {"auto", CLI_TLSW_AUTO, CLI_TLS_AUTO},
    {"none", CLI_TLSW_NONE, SMTPC_TLS_NONE},
    {"starttls", CLI_TLSW_STARTTLS, SMTPC_TLS_STARTTLS},
    {"implicit", CLI_TLSW_IMPLICIT, SMTPC_TLS_IMPLICIT},
    {"opportunistic", CLI_TLSW_OPPORTUNISTIC, SMTPC_TLS_OPPORTUNISTIC},
};

int cli_parse_tls(const char *s, unsigned allowed, int *mode)
{
    for (size_t i = 0; i < sizeof tls_words / sizeof tls_words[0]; i++) {
        if ((allowed & tls_words[i].bit) && strcmp(s, tls_words[i].word) == 0) {
            *mode = tls_words[i].mode;
            return 0;
        }
    }
    return -1;
}

const char *cli_tls_name(int mode)
{
    for (size_t i = 0; i < sizeof tls_words / sizeof tls_words[0]; i++) {
        if (tls_words[i].mode == mode)
            return tls_words[i].word;
    }
    return NULL;
}

int cli_parse_count(const char *s, int suffixes, uint64_t *out)
{
    char *end;
    unsigned long long v;
    uint64_t mul = 1;

    /* strtoull alone would take spaces, a sign and "0x". */
    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    if (*end != '\0') {
        if (!suffixes || end[1] != '\0')
            return -1;
        switch (*end) {
        case 'k': case 'K': mul = 1024u; break;
        case 'm': case 'M': mul = 1024u * 1024u; break;
        case 'g': case 'G': mul = 1024u * 1024u * 1024u; break;
        default: return -1;
        }
    }
    if (v > UINT64_MAX / mul)
        return -1;
    *out = (uint64_t)v * mul;
    return 0;
}

int cli_parse_seconds(const char *s, uint32_t *seconds)
{
    uint64_t v;

    if (cli_parse_count(s, 0, &v) != 0 || v == 0 || v > CLI_TIMEOUT_MAX_S)
        return -1;
    *seconds = (uint32_t)v;
    return 0;
}
