/*
 * test_mime_lean.c - the MIME writer as the `mime-lean` footprint image
 * builds it (scripts/size: the minimal engine profile with
 * -DSMTPC_MIME_LEAN=1) keeps what it promises and refuses the rest:
 *   - a text part, a base64 and a quoted-printable attachment, an RFC 2047
 *     Subject and custom field, bare addresses: the bytes the full writer
 *     gives for the same message with the text part's encoding set to
 *     quoted-printable (the lean writer has no 7bit or 8bit, so that is
 *     what AUTO means for text there), whatever the read size;
 *   - no size in advance: the minimal engine sends neither SIZE= nor BDAT;
 *   - the 8BITMIME and SMTPUTF8 flags change nothing: the minimal engine
 *     cannot send a mail that uses them;
 *   - html, inline parts, display names, non-ASCII file names, file names
 *     too long for one quoted parameter, 7bit and 8bit parts:
 *     SMTPC_ERR_UNSUPPORTED from smtpc_mime_init, nothing produced;
 *     a CR in the Subject is still SMTPC_ERR_ARG.
 *
 * The library the tests link has the full writer, so the writer's sources
 * are compiled here, into the test, with the lean switches.
 */
#define SMTPC_PROFILE_MINIMAL 1
#define SMTPC_WITH_MIME 1
#define SMTPC_MIME_LEAN 1

#include "mime/encode.c"
#include "mime/header.c"
#include "mime/writer.c"

#include <stdio.h>

#include "unit.h"

#if SMTPC_MIME_WITH_HTML || SMTPC_MIME_WITH_NAMES || \
    SMTPC_MIME_WITH_RFC2231 || SMTPC_MIME_WITH_RAW || SMTPC_MIME_WITH_SIZE || \
    SMTPC_WITH_SMTPUTF8
#error "the lean profile on the minimal engine left a part of the writer on"
#endif

static char out[8192];

static const char want[] =
        "Date: Thu, 03 Dec 2026 06:00:00 +0000\r\n"
        "From: dev@example.com\r\n"
        "To: ops@example.org, log@example.org\r\n"
        "Subject: =?utf-8?B?QWxhcm06IMOcYmVydGVtcGVyYXR1ciDigJMgR2Vyw6R0IDc=?=\r\n"
        "Message-ID: <42@example.com>\r\n"
        "X-Device: =?utf-8?Q?Pumpe_7_=C3=BCberhitzt?=\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"=_ucgY5bJHczRMhZCbF7st_m\"\r\n"
        "\r\n"
        "--=_ucgY5bJHczRMhZCbF7st_m\r\n"
        "Content-Type: text/plain; charset=\"utf-8\"\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "Temperature log attached.\r\n"
        "Line two.\r\n"
        "\r\n"
        "--=_ucgY5bJHczRMhZCbF7st_m\r\n"
        "Content-Type: application/octet-stream; name=\"dump.bin\"\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment; filename=\"dump.bin\"\r\n"
        "\r\n"
        "AAEC//4NCi5Gcm9tIA==\r\n"
        "--=_ucgY5bJHczRMhZCbF7st_m\r\n"
        "Content-Type: text/csv; charset=\"utf-8\"; name=\"log.csv\"\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "Content-Disposition: attachment; filename=\"log.csv\"\r\n"
        "\r\n"
        "t,=C2=B0C\r\n"
        "1,21.5=20\r\n"
        "2,22\r\n"
        "\r\n"
        "--=_ucgY5bJHczRMhZCbF7st_m--\r\n";

static const unsigned char bin[] = {0, 1, 2, 0xff, 0xfe, '\r', '\n',
                                    '.', 'F', 'r', 'o', 'm', ' '};
static const smtpc_mime_addr from = {NULL, "dev@example.com"};
static const smtpc_mime_addr to[2] = {{NULL, "ops@example.org"},
                                      {"", "log@example.org"}};
static const smtpc_mime_header xdev = {"X-Device",
                                       "Pumpe 7 \xc3\xbc"
                                       "berhitzt"};
static smtpc_mime_part text, att[2];

static void message(smtpc_mime_message *m)
{
    memset(&text, 0, sizeof text);
    memset(att, 0, sizeof att);
    memset(m, 0, sizeof *m);
    text.data = "Temperature log attached.\nLine two.\n";
    text.len = strlen(text.data);
    att[0].content_type = "application/octet-stream";
    att[0].filename = "dump.bin";
    att[0].data = bin;
    att[0].len = sizeof bin;
    att[1].content_type = "text/csv";
    att[1].filename = "log.csv";
    att[1].data = "t,\xc2\xb0"
                  "C\n1,21.5 \n2,22\n";
    att[1].len = strlen(att[1].data);
    m->date = "Thu, 03 Dec 2026 06:00:00 +0000";
    m->from = &from;
    m->to = to;
    m->to_count = 2;
    m->subject = "Alarm: \xc3\x9c"
                 "bertemperatur \xe2\x80\x93 Ger\xc3\xa4t 7";
    m->message_id = "42@example.com";
    m->headers = &xdev;
    m->header_count = 1;
    m->text = &text;
    m->attachments = att;
    m->attachment_count = 2;
    m->entropy = "0123456789abcdef";
    m->entropy_len = 16;
}

static void test_same_bytes(void)
{
    static const size_t steps[] = {1, 7, 95, 96, 100, 4096};
    smtpc_mime_message m;
    smtpc_mime_writer w;
    size_t i, n, k;

    unit_case = "lean: the full writer's bytes";
    message(&m);
    for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        /* The flags a server's offer would set: ignored here (the
         * non-ASCII Subject stays an encoded-word, the mail needs no
         * SMTPC_MAIL_* flag). */
        m.flags = i % 2 ? SMTPC_MIME_8BITMIME | SMTPC_MIME_SMTPUTF8 : 0;
        CHECK_EQ_INT(smtpc_mime_init(&w, &m), SMTPC_OK);
        CHECK(smtpc_mime_size(&w) == SMTPC_MIME_SIZE_UNKNOWN);
        n = 0;
        while ((k = smtpc_mime_read(&w, out + n, steps[i])) > 0)
            n += k;
        out[n] = '\0';
        CHECK(smtpc_mime_done(&w));
        CHECK_EQ_STR(out, want);
        CHECK_EQ_INT(smtpc_mime_mail_flags(&w), 0);
    }
}

/* m is refused as needing what this build left out, and produces
 * nothing. */
static void refused(const smtpc_mime_message *m)
{
    smtpc_mime_writer w;

    CHECK_EQ_INT(smtpc_mime_init(&w, m), SMTPC_ERR_UNSUPPORTED);
    CHECK_EQ_INT(smtpc_mime_status(&w), SMTPC_ERR_UNSUPPORTED);
    CHECK_EQ_INT(smtpc_mime_read(&w, out, sizeof out), 0);
    CHECK(!smtpc_mime_done(&w));
}

static void test_refusals(void)
{
    static const smtpc_mime_addr named = {"Device 7", "dev@example.com"};
    smtpc_mime_message m;
    smtpc_mime_part html = {0}, img = {0};
    char longname[90];

    html.data = "<p>hi</p>";
    html.len = 9;
    img.content_type = "image/png";
    img.content_id = "1@example.com";
    img.data = "x";
    img.len = 1;

    unit_case = "lean: html refused";
    message(&m);
    m.html = &html;
    refused(&m);
    unit_case = "lean: inline part refused";
    m.inlines = &img;
    m.inline_count = 1;
    refused(&m);

    unit_case = "lean: display name refused";
    message(&m);
    m.from = &named;
    refused(&m);

    unit_case = "lean: non-ASCII file name refused";
    message(&m);
    att[0].filename = "Messwert-\xc3\xbc.bin";
    refused(&m);

    /* No 7bit or 8bit here, whatever the flags say. */
    unit_case = "lean: explicit 7bit and 8bit parts refused";
    message(&m);
    m.flags = SMTPC_MIME_8BITMIME | SMTPC_MIME_SMTPUTF8;
    text.encoding = SMTPC_MIME_ENC_7BIT;
    refused(&m);
    text.encoding = SMTPC_MIME_ENC_8BIT;
    refused(&m);

    unit_case = "lean: file name too long for one quoted line refused";
    message(&m);
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    att[0].filename = longname;
    refused(&m);
    att[0].filename = longname + 30; /* 59 characters: fits, quoted */
    {
        smtpc_mime_writer w;
        CHECK_EQ_INT(smtpc_mime_init(&w, &m), SMTPC_OK);
    }

    /* A bad argument is still one, whatever the build holds. */
    unit_case = "lean: CR in a Subject is a bad argument";
    message(&m);
    m.subject = "Alarm\r\nBcc: x@example.net";
    {
        smtpc_mime_writer w;
        CHECK_EQ_INT(smtpc_mime_init(&w, &m), SMTPC_ERR_ARG);
        CHECK_EQ_INT(smtpc_mime_read(&w, out, sizeof out), 0);
    }
}

int main(void)
{
    test_same_bytes();
    test_refusals();
    return unit_done();
}
