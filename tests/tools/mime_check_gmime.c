/* mime_check_gmime: a received message read back by GMime, an independent
 * MIME parser, for the MIME writer's integration test.
 *
 *   mime_check_gmime MESSAGE OUTDIR
 *
 * Prints, one per line:
 *   subject: <decoded Subject>
 *   from: <decoded display name> <address>     (and to:, cc:)
 *   tree: <the tree of content types, e.g. multipart/mixed(text/plain,...)>
 *   part N: <type> <file name or ->
 * and writes the decoded content of leaf part N to OUTDIR/N.
 * Built by the test with pkg-config gmime-3.0 (not part of the library). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <gmime/gmime.h>

static int leaf_no;
static const char *outdir;

static void tree(GMimeObject *o, GString *s)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    char *type = g_mime_content_type_get_mime_type(ct);

    g_string_append(s, type);
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        int i, n = g_mime_multipart_get_count(mp);
        g_string_append_c(s, '(');
        for (i = 0; i < n; i++) {
            if (i)
                g_string_append_c(s, ',');
            tree(g_mime_multipart_get_part(mp, i), s);
        }
        g_string_append_c(s, ')');
    } else if (GMIME_IS_PART(o)) {
        GMimePart *p = GMIME_PART(o);
        const char *fn = g_mime_part_get_filename(p);
        char path[4096];
        int fd;
        GMimeStream *out;

        printf("part %d: %s %s\n", leaf_no, type, fn ? fn : "-");
        snprintf(path, sizeof path, "%s/%d", outdir, leaf_no);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            perror(path);
            exit(1);
        }
        out = g_mime_stream_fs_new(fd);
        if (g_mime_part_get_content(p))
            g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(p), out);
        g_mime_stream_flush(out);
        g_object_unref(out);
        leaf_no++;
    }
    g_free(type);
}

static void addrs(const char *what, InternetAddressList *l)
{
    int i, n = l ? internet_address_list_length(l) : 0;

    for (i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(l, i);
        const char *name = internet_address_get_name(ia);
        printf("%s: %s <%s>\n", what, name ? name : "",
               INTERNET_ADDRESS_IS_MAILBOX(ia)
                   ? internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))
                   : "?");
    }
}

int main(int argc, char **argv)
{
    GMimeStream *in;
    GMimeParser *parser;
    GMimeMessage *msg;
    GString *s = g_string_new("");
    FILE *f;

    if (argc != 3) {
        fprintf(stderr, "usage: mime_check_gmime MESSAGE OUTDIR\n");
        return 2;
    }
    outdir = argv[2];
    g_mime_init();
    f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    in = g_mime_stream_file_new(f);
    parser = g_mime_parser_new_with_stream(in);
    msg = g_mime_parser_construct_message(parser, NULL);
    if (!msg) {
        fprintf(stderr, "GMime could not parse %s\n", argv[1]);
        return 1;
    }
    printf("subject: %s\n", g_mime_message_get_subject(msg) ? g_mime_message_get_subject(msg) : "");
    addrs("from", g_mime_message_get_from(msg));
    addrs("to", g_mime_message_get_to(msg));
    addrs("cc", g_mime_message_get_cc(msg));
    tree(g_mime_message_get_mime_part(msg), s);
    printf("tree: %s\n", s->str);
    g_string_free(s, TRUE);
    g_object_unref(msg);
    g_object_unref(parser);
    g_object_unref(in);
    g_mime_shutdown();
    return 0;
}
