/*
 * send_attachment.c - a mail with a text and an HTML body, an optional
 * inline image and files attached, composed by the MIME writer and sent
 * through the blocking client.  Each file is read by a callback a block
 * at a time while the message goes out: a file of any size costs the same
 * memory.
 *
 *   example_send_attachment [-i IMAGE] [-n NAME] HOST PORT FROM TO SUBJECT [FILE...]
 *     -i IMAGE  an image shown inside the HTML (cid:), sent as image/png
 *     -n NAME   the sender's display name (UTF-8)
 * TLS none, no AUTH (a loopback server).  The SMTPUTF8 and 8BITMIME the
 * server offers are used when the message needs them.  Prints "sent: N
 * bytes (size announced M)" and the server's reply; exits 0 when the
 * server accepted the mail.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <smtpc/smtpc.h>

#define FILES_MAX 16

/* One attached file: the callback's context. */
typedef struct file_src {
    FILE *f;
    unsigned char block[16384]; /* what the callback hands out */
} file_src;

/* smtpc_mime_read_fn: the next block of the file; 0 bytes at its end. */
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

/* The file's size, so that the message's size is known (SIZE=, BDAT). */
static uint64_t file_size(FILE *f)
{
    long n;

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0)
        return 0; /* unknown */
    return (uint64_t)n;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Random bytes for the boundaries and the Message-ID. */
static void entropy(unsigned char *b, size_t n)
{
    FILE *f = fopen("/dev/urandom", "rb");
    size_t i;

    if (f == NULL || fread(b, 1, n, f) != n)
        for (i = 0; i < n; i++)
            b[i] = (unsigned char)(rand() ^ (int)time(NULL));
    if (f)
        fclose(f);
}

static file_src files[FILES_MAX + 1];
static smtpc_mime_part parts[FILES_MAX + 1];

int main(int argc, char **argv)
{
    static unsigned char io[16384], mbuf[16384];
    const char *image = NULL;
    int a = 1, rc, i, nfiles;
    smtpc_client_config cfg = {0};
    smtpc_client c;
    smtpc_tcp tcp;
    smtpc_rcpt rcpt = {0};
    smtpc_envelope env = {0};
    smtpc_mime_addr from = {0}, to = {0};
    smtpc_mime_part text = {0}, html = {0};
    smtpc_mime_message m = {0};
    smtpc_mime_writer w;
    smtpc_mime_source src;
    smtpc_body_source body;
    smtpc_result res;
    unsigned char rnd[24];
    char date[SMTPC_MIME_DATE_LEN], msgid[64];
    uint64_t size;
    uint32_t caps;

    while (a < argc && argv[a][0] == '-') {
        if (strcmp(argv[a], "-i") == 0 && a + 1 < argc) {
            image = argv[a + 1];
            a += 2;
        } else if (strcmp(argv[a], "-n") == 0 && a + 1 < argc) {
            from.name = argv[a + 1];
            a += 2;
        } else {
            break;
        }
    }
    if (argc - a < 5 || argc - a - 5 > FILES_MAX) {
        fprintf(stderr, "usage: %s [-i IMAGE] [-n NAME] HOST PORT FROM TO SUBJECT "
                        "[FILE...]\n", argv[0]);
        return 64;
    }
    nfiles = argc - a - 5;

    /* The message. */
    entropy(rnd, sizeof rnd);
    smtpc_mime_date(date, (int64_t)time(NULL), 0);
    snprintf(msgid, sizeof msgid, "%02x%02x%02x%02x%02x%02x%02x%02x@%s",
             rnd[16], rnd[17], rnd[18], rnd[19], rnd[20], rnd[21], rnd[22],
             rnd[23], strchr(argv[a + 2], '@') ? strchr(argv[a + 2], '@') + 1
                                               : "localhost");
    from.address = argv[a + 2];
    to.address = argv[a + 3];
    text.data = "Hello,\n\nthe files are attached.\n";
    text.len = strlen(text.data);
    html.data = image ? "<p>Hello,</p><p><img src=\"cid:image1@smtpc\"></p>"
                        "<p>the files are attached.</p>\n"
                      : "<p>Hello,</p><p>the files are attached.</p>\n";
    html.len = strlen(html.data);
    for (i = 0; i < nfiles + (image != NULL); i++) {
        const char *path = i < nfiles ? argv[a + 5 + i] : image;
        files[i].f = fopen(path, "rb");
        if (files[i].f == NULL) {
            perror(path);
            return 66;
        }
        parts[i].size = file_size(files[i].f);
        /* An empty file is an empty buffer: a size of 0 would read as
         * "unknown" and the message's size would be unknown too. */
        if (parts[i].size > 0) {
            parts[i].read = file_read;
            parts[i].ctx = &files[i];
        }
        parts[i].filename = base_name(path); /* no directories in mail */
        parts[i].content_type = "application/octet-stream";
    }
    if (image) {
        parts[nfiles].content_type = "image/png";
        parts[nfiles].content_id = "image1@smtpc";
        m.inlines = &parts[nfiles];
        m.inline_count = 1;
    }
    m.date = date;
    m.from = &from;
    m.to = &to;
    m.to_count = 1;
    m.subject = argv[a + 4];
    m.message_id = msgid;
    m.text = &text;
    m.html = &html;
    m.attachments = nfiles ? parts : NULL;
    m.attachment_count = (size_t)nfiles;
    m.entropy = rnd;
    m.entropy_len = 16;

    /* Connect first: what the server offers decides the header form. */
    cfg.host = argv[a];
    cfg.port = (uint16_t)atoi(argv[a + 1]);
    cfg.session.ehlo_name = "client.example.com";
    smtpc_client_init(&c, &cfg, smtpc_tcp_transport(&tcp), io, sizeof io);
    rc = smtpc_client_open(&c);
    if (rc != SMTPC_OK) {
        fprintf(stderr, "connect: %s\n", smtpc_status_str(rc));
        return 1;
    }
    caps = smtpc_session_caps(smtpc_client_session(&c))->flags;
    if (caps & SMTPC_CAP_8BITMIME)
        m.flags |= SMTPC_MIME_8BITMIME;
    if (caps & SMTPC_CAP_SMTPUTF8)
        m.flags |= SMTPC_MIME_SMTPUTF8;
    rc = smtpc_mime_init(&w, &m);
    if (rc != SMTPC_OK) {
        fprintf(stderr, "message refused: %s\n", smtpc_status_str(rc));
        smtpc_client_close(&c);
        return 65;
    }
    size = smtpc_mime_size(&w);

    rcpt.address = argv[a + 3];
    env.from = argv[a + 2];
    env.rcpts = &rcpt;
    env.rcpt_count = 1;
    env.size = size == SMTPC_MIME_SIZE_UNKNOWN ? 0 : size;
    env.flags = smtpc_mime_mail_flags(&w);
    body = smtpc_mime_body_source(&src, &w, mbuf, sizeof mbuf);
    rc = smtpc_client_send(&c, &env, &body, &res);
    smtpc_client_close(&c);
    for (i = 0; i < nfiles + (image != NULL); i++)
        fclose(files[i].f);
    if (rc != SMTPC_OK || res.status != SMTPC_OK) {
        fprintf(stderr, "failed in %s: %s (%u %s)\n", smtpc_phase_str(res.phase),
                smtpc_status_str(res.status), res.reply.code, res.reply.text);
        return 1;
    }
    printf("sent: size announced %llu\n", (unsigned long long)env.size);
    printf("reply: %u %s\n", res.reply.code, res.reply.text);
    return 0;
}
