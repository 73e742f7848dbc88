/*
 * netx_mime_send.c - a mail with a text and an HTML body, an inline image
 * and attachments, through the NetX Duo compatible API's MIME extension
 * (nx_smtp_mail_send_mime).
 *
 * The files are read by a callback shaped like a FileX one (open once,
 * hand out one block per call, 0 bytes at the end): on a device the
 * fread below is fx_file_read (docs/COMPAT.md).  One file can instead be
 * given as a buffer (-M), as firmware does with a log kept in RAM.
 *
 * Usage: example_netx_mime_send [options] SERVER_IP PORT FROM TO SUBJECT [FILE...]
 *   -n NAME    display name in From (the address is FROM, the client's)
 *   -d DOMAIN  client domain for EHLO and Message-ID (default example.com)
 *   -i IMAGE   an inline image/png the HTML shows (cid:image1@smtpc)
 *   -M FILE    one more attachment, from a buffer (after the FILEs)
 *   -c CC      a Cc recipient
 *   -b BCC     a blind copy (in the envelope only)
 *   -p PRIO    high | normal | low
 * Prints "mail: status 0xNN, last reply NNN"; exits 0 when the mail was
 * accepted, 1 otherwise, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nxd_smtp_client.h"

#define FILES_MAX 8

static NX_SMTP_CLIENT client; /* application-owned, as on NetX Duo */

/* What a FileX callback keeps: the open file and one block. */
typedef struct file_src {
    FILE *f; /* FX_FILE on a device */
    unsigned char block[2048];
} file_src;

/* smtpc_mime_read_fn: the next block of the file, 0 bytes at its end. */
static int file_read(void *ctx, const void **data, size_t *len)
{
    file_src *s = ctx;
    size_t n = fread(s->block, 1, sizeof s->block, s->f);

    if (n == 0 && ferror(s->f))
        return SMTPC_ERR_BODY_SOURCE;
    *data = s->block;
    *len = n;
    return SMTPC_OK;
}

static uint64_t file_size(FILE *f)
{
    long n;

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0)
        return 0;
    return (uint64_t)n;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

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

static file_src files[FILES_MAX + 1];
static smtpc_mime_part parts[FILES_MAX + 1];
static unsigned char membuf[1 << 20];

static int usage(void)
{
    fprintf(stderr, "usage: example_netx_mime_send [-n NAME] [-d DOMAIN] [-i IMAGE] "
                    "[-M FILE] [-c CC] [-b BCC] [-p high|normal|low] "
                    "SERVER_IP PORT FROM TO SUBJECT [FILE...]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *name = NULL, *domain = "example.com", *image = NULL;
    const char *mem = NULL, *cc = NULL;
    CHAR *bcc[1];
    UINT nbcc = 0, prio = NX_SMTP_MAIL_PRIORITY_NORMAL, status;
    smtpc_mime_addr from = {0}, to = {0}, ccaddr = {0};
    smtpc_mime_part text = {0}, html = {0}, img = {0};
    smtpc_mime_message m = {0};
    file_src imgsrc;
    NXD_ADDRESS server;
    int ch, i, nfiles = 0;

    while ((ch = getopt(argc, argv, "n:d:i:M:c:b:p:")) != -1) {
        switch (ch) {
        case 'n': name = optarg; break;
        case 'd': domain = optarg; break;
        case 'i': image = optarg; break;
        case 'M': mem = optarg; break;
        case 'c': cc = optarg; break;
        case 'b': bcc[0] = optarg; nbcc = 1; break;
        case 'p':
            prio = strcmp(optarg, "high") == 0  ? NX_SMTP_MAIL_PRIORITY_HIGH
                   : strcmp(optarg, "low") == 0 ? NX_SMTP_MAIL_PRIORITY_LOW
                                                : NX_SMTP_MAIL_PRIORITY_NORMAL;
            break;
        default: return usage();
        }
    }
    if (argc - optind < 5 || argc - optind - 5 > FILES_MAX ||
        parse_address(argv[optind], &server) != 0)
        return usage();

    /* Hosted: no IP instance, no packet pool (NULL); no AUTH. */
    status = nxd_smtp_client_create(&client, NULL, NULL, "", "", argv[optind + 2],
                                    (CHAR *)domain, NX_SMTP_CLIENT_AUTH_NONE,
                                    &server, (UINT)atoi(argv[optind + 1]));
    if (status != NX_SUCCESS) {
        printf("create: status 0x%02x\n", status);
        return 1;
    }

    from.name = name;
    from.address = argv[optind + 2];
    to.address = argv[optind + 3];
    text.data = "Hello,\n\nthe files are attached.\n";
    text.len = strlen(text.data);
    html.data = "<p>Hello,</p><p>the files are attached.</p>"
                "<p><img src=\"cid:image1@smtpc\"></p>\n";
    html.len = strlen(html.data);
    m.from = name != NULL ? &from : NULL; /* NULL: the client's address */
    m.to = &to;
    m.to_count = 1;
    if (cc != NULL) {
        ccaddr.address = cc;
        m.cc = &ccaddr;
        m.cc_count = 1;
    }
    m.subject = argv[optind + 4];
    m.text = &text;
    m.html = &html;
    if (image != NULL) {
        imgsrc.f = fopen(image, "rb");
        if (imgsrc.f == NULL) {
            perror(image);
            return 1;
        }
        img.content_type = "image/png";
        img.filename = base_name(image);
        img.content_id = "image1@smtpc";
        img.read = file_read;
        img.ctx = &imgsrc;
        img.size = file_size(imgsrc.f);
        m.inlines = &img;
        m.inline_count = 1;
    }
    for (i = optind + 5; i < argc; i++, nfiles++) {
        files[nfiles].f = fopen(argv[i], "rb");
        if (files[nfiles].f == NULL) {
            perror(argv[i]);
            return 1;
        }
        parts[nfiles].filename = base_name(argv[i]);
        parts[nfiles].size = file_size(files[nfiles].f);
        /* An empty file is an empty buffer: a callback size of 0 means
         * "unknown". */
        if (parts[nfiles].size > 0) {
            parts[nfiles].read = file_read;
            parts[nfiles].ctx = &files[nfiles];
        }
    }
    if (mem != NULL) {
        FILE *f = fopen(mem, "rb");
        if (f == NULL) {
            perror(mem);
            return 1;
        }
        parts[nfiles].filename = base_name(mem);
        parts[nfiles].data = membuf;
        parts[nfiles].len = fread(membuf, 1, sizeof membuf, f);
        fclose(f);
        nfiles++;
    }
    m.attachments = parts;
    m.attachment_count = (size_t)nfiles;

    status = nx_smtp_mail_send_mime(&client, &m, prio, nbcc ? bcc : NULL, nbcc);
    printf("mail: status 0x%02x, last reply %u\n", status,
           client.nx_smtp_client_reply_code_status);
    nx_smtp_client_delete(&client);
    return status == NX_SUCCESS ? 0 : 1;
}
