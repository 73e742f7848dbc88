/*
 * EHLO capabilities (RFC 5321 4.1.1.1): each line after the first is a
 * keyword and its parameters.  Keywords are matched whole and without
 * regard to case; a keyword inside another line's text never counts.
 */
#include "internal.h"

#include <string.h>

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Case-insensitive compare of a word of len bytes with a name. */
static int word_is(const char *w, size_t len, const char *name)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (name[i] == '\0' ||
            lower((unsigned char)w[i]) != lower((unsigned char)name[i]))
            return 0;
    }
    return name[len] == '\0';
}

/* Only what this build can use is recognised: the rest costs nothing. */
static const struct {
    const char *name;
    uint32_t flag;
} cap_words[] = {
#if SMTPC_WITH_SIZE
    {"size", SMTPC_CAP_SIZE},
#endif
    {"auth", SMTPC_CAP_AUTH},
    {"enhancedstatuscodes", SMTPC_CAP_ENHANCEDSTATUSCODES},
#if SMTPC_WITH_PIPELINING
    {"pipelining", SMTPC_CAP_PIPELINING},
#endif
#if SMTPC_WITH_SMTPUTF8
    {"smtputf8", SMTPC_CAP_SMTPUTF8},
    {"8bitmime", SMTPC_CAP_8BITMIME},
#endif
#if SMTPC_WITH_TLS
    {"starttls", SMTPC_CAP_STARTTLS},
    {"requiretls", SMTPC_CAP_REQUIRETLS},
#endif
#if SMTPC_WITH_CHUNKING
    {"chunking", SMTPC_CAP_CHUNKING},
    {"binarymime", SMTPC_CAP_BINARYMIME},
#endif
#if SMTPC_WITH_DSN
    {"dsn", SMTPC_CAP_DSN},
#endif
};

/* The mechanisms compiled in, spelt as the AUTH command writes them. */
static const struct {
    const char *name;
    uint32_t mech;
} mech_words[] = {
    {"PLAIN", SMTPC_AUTH_PLAIN},
    {"LOGIN", SMTPC_AUTH_LOGIN},
#if SMTPC_WITH_AUTH_CRAM_MD5
    {"CRAM-MD5", SMTPC_AUTH_CRAM_MD5},
#endif
#if SMTPC_WITH_AUTH_XOAUTH2
    {"XOAUTH2", SMTPC_AUTH_XOAUTH2},
#endif
#if SMTPC_WITH_AUTH_OAUTHBEARER
    {"OAUTHBEARER", SMTPC_AUTH_OAUTHBEARER},
#endif
};

const char *smtpc_e_mech_name(unsigned mech)
{
    size_t k;

    for (k = 0; k < sizeof mech_words / sizeof mech_words[0]; k++) {
        if (mech_words[k].mech == mech)
            return mech_words[k].name;
    }
    return NULL; /* not compiled in: the command writer refuses NULL */
}

static void parse_auth(smtpc_caps *caps, const char *p, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t start, k;
        while (i < len && (p[i] == ' ' || p[i] == '='))
            i++;
        start = i;
        while (i < len && p[i] != ' ')
            i++;
        for (k = 0; k < sizeof mech_words / sizeof mech_words[0]; k++) {
            if (word_is(p + start, i - start, mech_words[k].name))
                caps->auth |= mech_words[k].mech;
        }
    }
}

static uint64_t parse_size(const char *p, size_t len)
{
    uint64_t v = 0;
    size_t i = 0;

    while (i < len && p[i] == ' ')
        i++;
    for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return UINT64_MAX; /* absurd: treat as no practical limit */
        v = v * 10 + d;
    }
    return v;
}

void smtpc_e_caps_line(smtpc_caps *caps, const char *text, size_t len)
{
    size_t end = 0, k;

    /* "AUTH=LOGIN PLAIN" is the pre-RFC 4954 spelling some servers use. */
    while (end < len && text[end] != ' ' && text[end] != '=')
        end++;
    for (k = 0; k < sizeof cap_words / sizeof cap_words[0]; k++) {
        if (!word_is(text, end, cap_words[k].name))
            continue;
        caps->flags |= cap_words[k].flag;
        if (cap_words[k].flag == SMTPC_CAP_AUTH)
            parse_auth(caps, text + end, len - end);
        else if (SMTPC_WITH_SIZE && cap_words[k].flag == SMTPC_CAP_SIZE)
            caps->size_max = parse_size(text + end, len - end);
        return;
    }
}

