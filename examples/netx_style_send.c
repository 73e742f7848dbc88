/*
 * netx_style_send.c - the NetX Duo SMTP Client demo, on smtpc.
 *
 * Like NetX Duo's demo_netxduo_smtp_client.c: create a client with the
 * server's address, the credentials, the sender and the client domain and
 * an AUTH type; send a mail; delete the client.  On a hosted system there
 * is no IP instance or packet pool to create: NULL stands for both.
 *
 * Usage: example_netx_style_send [options] [SERVER_IP [PORT]]
 *   SERVER_IP  IPv4 or IPv6 literal (default $SMTP_SERVER, else 127.0.0.1)
 *   PORT       (default $SMTP_PORT, else 25)
 *   -u USER    user name (default $SMTP_USER, else none); the password is
 *              read from $SMTP_PASSWORD only, never from the command line
 *   -a TYPE    plain | login | cram-md5 | none (default plain with a user)
 *   -f FROM    sender (default $SMTP_FROM, else sender@example.com)
 *   -t TO      recipient (default $SMTP_TO, else test@localhost)
 *   -d DOMAIN  client domain for EHLO and Message-ID (default example.com)
 *   -s TEXT    subject
 *   -p PRIO    high | normal | low
 *   -b FILE    the body, byte for byte (default: a short greeting)
 *   -n COUNT   send the mail COUNT times with the same client
 *   -T MODE    TLS: none | starttls | implicit (smtpc extension)
 *   -N NAME    the name the server certificate must carry
 *   -C FILE    trusted CA bundle (PEM)
 * Prints one line per mail with its status; exits 0 when every mail was
 * accepted, 1 when one was not, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nxd_smtp_client.h"

/* Application-owned, as in the NetX Duo demo (static, not on the stack). */
static NX_SMTP_CLIENT demo_client;

static const char default_body[] =
    "Hello from smtpc's NetX Duo compatible API.\r\n"
    "This mail was sent with nx_smtp_mail_send.\r\n";

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return (v != NULL && v[0] != '\0') ? v : fallback;
}

/* IPv4 or IPv6 literal -> NXD_ADDRESS (host byte order, as NetX keeps it). */
static int parse_address(const char *text, NXD_ADDRESS *a)
{
    unsigned char b[16];
    int i;

    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, text, b) == 1) {
        a->nxd_ip_version = NX_IP_VERSION_V4;
        a->nxd_ip_address.v4 = ((ULONG)b[0] << 24) | ((ULONG)b[1] << 16) |
                               ((ULONG)b[2] << 8) | (ULONG)b[3];
        return 0;
    }
    if (inet_pton(AF_INET6, text, b) == 1) {
        a->nxd_ip_version = NX_IP_VERSION_V6;
        for (i = 0; i < 4; i++)
            a->nxd_ip_address.v6[i] =
                ((ULONG)b[4 * i] << 24) | ((ULONG)b[4 * i + 1] << 16) |
                ((ULONG)b[4 * i + 2] << 8) | (ULONG)b[4 * i + 3];
        return 0;
    }
    return -1;
}

/* The whole file in memory: the API takes the body as one buffer. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, got;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (n == cap) {
            char *nb;
            cap = cap ? cap * 2 : 65536;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: example_netx_style_send [-u USER] [-a plain|login|cram-md5|none]\n"
            "       [-f FROM] [-t TO] [-d DOMAIN] [-s SUBJECT] [-p high|normal|low]\n"
            "       [-b BODYFILE] [-n COUNT] [-T none|starttls|implicit] [-N NAME]\n"
            "       [-C CAFILE] [SERVER_IP [PORT]]\n"
            "password: $SMTP_PASSWORD\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *server = env_or("SMTP_SERVER", "127.0.0.1");
    const char *port_text = env_or("SMTP_PORT", "25");
    const char *user = env_or("SMTP_USER", "");
    const char *password = env_or("SMTP_PASSWORD", "");
    const char *from = env_or("SMTP_FROM", "sender@example.com");
    const char *to = env_or("SMTP_TO", "test@localhost");
    const char *domain = "example.com";
    const char *subject = "NetX Duo style mail from smtpc";
    const char *auth_text = NULL, *body_file = NULL;
    const char *tls_text = "none", *server_name = NULL, *ca_file = NULL;
    UINT auth, priority = NX_SMTP_MAIL_PRIORITY_NORMAL, tls_mode, status;
    NXD_ADDRESS server_address;
    long port, count = 1, i;
    char *body;
    size_t body_len;
    int opt, failures = 0;

    while ((opt = getopt(argc, argv, "u:a:f:t:d:s:p:b:n:T:N:C:h")) != -1) {
        switch (opt) {
        case 'u': user = optarg; break;
        case 'a': auth_text = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'd': domain = optarg; break;
        case 's': subject = optarg; break;
        case 'p':
            if (strcmp(optarg, "high") == 0)
                priority = NX_SMTP_MAIL_PRIORITY_HIGH;
            else if (strcmp(optarg, "low") == 0)
                priority = NX_SMTP_MAIL_PRIORITY_LOW;
            else if (strcmp(optarg, "normal") == 0)
                priority = NX_SMTP_MAIL_PRIORITY_NORMAL;
            else
                return usage();
            break;
        case 'b': body_file = optarg; break;
        case 'n': count = strtol(optarg, NULL, 10); break;
        case 'T': tls_text = optarg; break;
        case 'N': server_name = optarg; break;
        case 'C': ca_file = optarg; break;
        default: return usage();
        }
    }
    if (optind < argc)
        server = argv[optind++];
    if (optind < argc)
        port_text = argv[optind++];
    if (optind < argc || count < 1)
        return usage();
    port = strtol(port_text, NULL, 10);
    if (port < 1 || port > 65535 || parse_address(server, &server_address) != 0) {
        fprintf(stderr, "bad server address or port: %s %s\n", server, port_text);
        return 2;
    }

    if (auth_text == NULL)
        auth = user[0] != '\0' ? NX_SMTP_CLIENT_AUTH_PLAIN : NX_SMTP_CLIENT_AUTH_NONE;
    else if (strcmp(auth_text, "plain") == 0)
        auth = NX_SMTP_CLIENT_AUTH_PLAIN;
    else if (strcmp(auth_text, "login") == 0)
        auth = NX_SMTP_CLIENT_AUTH_LOGIN;
    else if (strcmp(auth_text, "cram-md5") == 0)
        auth = NX_SMTP_CLIENT_AUTH_CRAM_MD5;
    else if (strcmp(auth_text, "none") == 0)
        auth = NX_SMTP_CLIENT_AUTH_NONE;
    else
        return usage();

    if (strcmp(tls_text, "none") == 0)
        tls_mode = NX_SMTP_CLIENT_TLS_NONE;
    else if (strcmp(tls_text, "starttls") == 0)
        tls_mode = NX_SMTP_CLIENT_TLS_STARTTLS;
    else if (strcmp(tls_text, "implicit") == 0)
        tls_mode = NX_SMTP_CLIENT_TLS_IMPLICIT;
    else
        return usage();

    if (body_file != NULL) {
        body = read_file(body_file, &body_len);
        if (body == NULL) {
            perror(body_file);
            return 2;
        }
    } else {
        body_len = sizeof default_body - 1;
        body = malloc(body_len);
        if (body == NULL)
            return 1;
        memcpy(body, default_body, body_len);
    }
    if (body_len > 0xFFFFFFFFu) {
        fprintf(stderr, "body too large for a UINT length\n");
        free(body);
        return 2;
    }

    /* Create the client (NULL IP instance and packet pool on a host). */
    status = nxd_smtp_client_create(&demo_client, NULL, NULL, (CHAR *)user,
                                    (CHAR *)password, (CHAR *)from,
                                    (CHAR *)domain, auth, &server_address,
                                    (UINT)port);
    if (status != NX_SUCCESS) {
        fprintf(stderr, "nxd_smtp_client_create: status 0x%02x\n", status);
        free(body);
        return 1;
    }
    if (tls_mode != NX_SMTP_CLIENT_TLS_NONE) {
        status = nx_smtp_client_tls_set(&demo_client, tls_mode,
                                        (CHAR *)server_name, (CHAR *)ca_file);
        if (status != NX_SUCCESS) {
            fprintf(stderr, "nx_smtp_client_tls_set: status 0x%02x\n", status);
            nx_smtp_client_delete(&demo_client);
            free(body);
            return 1;
        }
    }

    for (i = 1; i <= count; i++) {
        status = nx_smtp_mail_send(&demo_client, (CHAR *)to, priority,
                                   (CHAR *)subject, body, (UINT)body_len);
        printf("mail %ld: status 0x%02x, last reply %u\n", i, status,
               demo_client.nx_smtp_client_reply_code_status);
        if (status != NX_SUCCESS)
            failures++;
    }

    status = nx_smtp_client_delete(&demo_client);
    if (status != NX_SUCCESS)
        fprintf(stderr, "nx_smtp_client_delete: status 0x%02x\n", status);
    free(body);
    return failures == 0 && status == NX_SUCCESS ? 0 : 1;
}
