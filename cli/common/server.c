/*
 * cli/common/server.c - the --server forms both programs accept, and the
 * default port.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

/* s[0..n) is an IPv6 address. */
static int is_ipv6(const char *s, size_t n)
{
    char buf[64];
    unsigned char a[16];

    if (n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return inet_pton(AF_INET6, buf, a) == 1;
}

/* A bare IPv6 form (no brackets) that could also be an address and a
 * port ("::1:25", "fe80::1:2525"): refused, so that nobody connects to an
 * address they did not mean. */
static int port_ambiguous(const char *s, size_t n)
{
    size_t i = n;

    while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
        i--;
    return i > 0 && i < n && s[i - 1] == ':' && is_ipv6(s, i - 1);
}

int cli_split_server(const char *arg, char **host, uint16_t *port)
{
    const char *h = arg, *p = NULL;
    size_t hlen;

    *host = NULL;
    *port = 0;
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (!close || close == arg + 1)
            return -1;
        h = arg + 1;
        hlen = (size_t)(close - h);
        if (close[1] == ':')
            p = close + 2;
        else if (close[1] != '\0')
            return -1;
    } else {
        const char *colon = strchr(arg, ':');
        if (colon && strchr(colon + 1, ':')) {
            /* A bare IPv6 literal, which takes no port; anything else
             * with two colons ("host:25:x") is a mistake, not a name. */
            hlen = strlen(arg);
            if (!is_ipv6(arg, hlen) || port_ambiguous(arg, hlen))
                return -1;
        } else if (colon) {
            hlen = (size_t)(colon - arg);
            p = colon + 1;
        } else {
            hlen = strlen(arg);
        }
    }
    if (hlen == 0 || hlen > 255)
        return -1;
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)h[i];
        /* A name or literal: no spaces, controls, or characters that
         * would end a URL-like form. */
        if (c <= 0x20 || c == 0x7f || c == '/' || c == '@' || c == '[' ||
            c == ']')
            return -1;
    }
    if (p) {
        char *end;
        unsigned long v;
        if (*p < '0' || *p > '9')
            return -1;
        errno = 0;
        v = strtoul(p, &end, 10);
        if (errno || *end || v == 0 || v > 65535)
            return -1;
        *port = (uint16_t)v;
    }
    *host = malloc(hlen + 1);
    if (!*host)
        return -1;
    memcpy(*host, h, hlen);
    (*host)[hlen] = '\0';
    return 0;
}

uint16_t cli_default_port(int tls)
{
    switch (tls) {
    case SMTPC_TLS_NONE: return 25;
    case SMTPC_TLS_IMPLICIT: return 465;
    default: return 587;
    }
}
