/*
 * cli/common/server.c - the --server forms both programs accept, and the
 * default port.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

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
            hlen = strlen(arg); /* bare IPv6 literal: no port */
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
