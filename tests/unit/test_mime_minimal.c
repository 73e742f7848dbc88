/*
 * test_mime_minimal.c - the full MIME writer on the minimal engine
 * (-DSMTPC_PROFILE_MINIMAL=1 -DSMTPC_WITH_MIME=1), what a NetX Duo or
 * superloop firmware on that profile links.  That engine sends neither
 * SIZE= nor BDAT, nor BODY=8BITMIME or SMTPUTF8, so the writer:
 *   - knows no size in advance (SMTPC_MIME_WITH_SIZE follows the engine);
 *   - ignores the 8BITMIME and SMTPUTF8 flags: 8-bit text goes
 *     quoted-printable, a UTF-8 Subject as encoded-words, and the mail
 *     needs no SMTPC_MAIL_* flag;
 *   - refuses an explicit 8bit part (SMTPC_ERR_UNSUPPORTED);
 *   - keeps everything else of the full writer: ASCII text still goes 7bit.
 *
 * The library the tests link has the full writer on the full engine, so
 * the writer's sources are compiled here, into the test.
 */
#define SMTPC_PROFILE_MINIMAL 1
#define SMTPC_WITH_MIME 1

#include "mime/encode.c"
#include "mime/header.c"
#include "mime/writer.c"

#include <stdio.h>

#include "unit.h"

#if SMTPC_MIME_WITH_SIZE || SMTPC_WITH_SMTPUTF8 || !SMTPC_MIME_WITH_RAW || \
    !SMTPC_MIME_WITH_HTML
#error "not the full writer on the minimal engine"
#endif

static char out[4096];

static const smtpc_mime_addr from = {"Ger\xc3\xa4t 7", "dev@example.com"};
static const smtpc_mime_addr to = {NULL, "ops@example.org"};
static smtpc_mime_part text;

static void message(smtpc_mime_message *m, const char *body)
{
    memset(&text, 0, sizeof text);
    memset(m, 0, sizeof *m);
    text.data = body;
    text.len = strlen(body);
    m->from = &from;
    m->to = &to;
    m->to_count = 1;
    m->subject = "\xc3\x9c"
                 "bertemperatur";
    m->text = &text;
    /* What a server offering both would allow. */
    m->flags = SMTPC_MIME_8BITMIME | SMTPC_MIME_SMTPUTF8;
}

/* The whole message, in reads of 100 bytes. */
static const char *written(const smtpc_mime_message *m)
{
    smtpc_mime_writer w;
    size_t n = 0, k;

    CHECK_EQ_INT(smtpc_mime_init(&w, m), SMTPC_OK);
    CHECK(smtpc_mime_size(&w) == SMTPC_MIME_SIZE_UNKNOWN);
    CHECK_EQ_INT(smtpc_mime_mail_flags(&w), 0);
    while ((k = smtpc_mime_read(&w, out + n, 100)) > 0)
        n += k;
    CHECK(smtpc_mime_done(&w));
    out[n] = '\0';
    return out;
}

static void test_flags_ignored(void)
{
    smtpc_mime_message m;
    const char *s;

    unit_case = "minimal: 8-bit text goes quoted-printable, headers encoded";
    message(&m, "Temperatur 90 \xc2\xb0"
                "C\n");
    s = written(&m);
    CHECK(strstr(s, "Subject: =?utf-8?") != NULL);
    CHECK(strstr(s, "From: =?utf-8?") != NULL);
    CHECK(strstr(s, "Content-Transfer-Encoding: quoted-printable\r\n") != NULL);
    CHECK(strstr(s, "Temperatur 90 =C2=B0C\r\n") != NULL);
    for (; *s; s++)
        CHECK((unsigned char)*s < 0x80);

    unit_case = "minimal: ASCII text still goes 7bit";
    message(&m, "All well.\n");
    s = written(&m);
    CHECK(strstr(s, "Content-Transfer-Encoding: 7bit\r\n\r\nAll well.\r\n") !=
          NULL);
}

static void test_8bit_refused(void)
{
    smtpc_mime_message m;
    smtpc_mime_writer w;

    unit_case = "minimal: an explicit 8bit part is unsupported";
    message(&m, "x\n");
    text.encoding = SMTPC_MIME_ENC_8BIT;
    CHECK_EQ_INT(smtpc_mime_init(&w, &m), SMTPC_ERR_UNSUPPORTED);
    CHECK_EQ_INT(smtpc_mime_read(&w, out, sizeof out), 0);
}

int main(void)
{
    test_flags_ignored();
    test_8bit_refused();
    return unit_done();
}
