/*
 * test_cli_headers.c - cli/smtpc/headers.c: where the header section ends,
 * the envelope RFC 5322 address lists give (display names, quoted strings,
 * comments, groups, folding, routes, literals, Resent- blocks), the errors
 * that must not be guessed around, and Bcc removal byte for byte.
 *
 * cli/smtpc/headers.c is linked into this test (CMakeLists.txt: test_cli_X
 * links the archive of the program that holds X.c).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "unit.h"

/* ---- the end of the section ---- */

/* The end found when s is given whole (at_eof as said). */
static long end_whole(const char *s, int at_eof)
{
    size_t pos = 0;

    if (!cli_headers_end((const unsigned char *)s, strlen(s), at_eof, &pos))
        return -1;
    return (long)pos;
}

/* The same, with the bytes arriving one at a time and pos resumed: the
 * answer must not depend on how the bytes came. */
static long end_bytewise(const char *s)
{
    size_t len = strlen(s), pos = 0;

    for (size_t n = 0; n <= len; n++) {
        if (cli_headers_end((const unsigned char *)s, n, n == len, &pos))
            return (long)pos;
    }
    return -1;
}

static void check_end(const char *s, long want)
{
    CHECK_EQ_INT(end_whole(s, 1), want);
    CHECK_EQ_INT(end_bytewise(s), want);
}

static void test_end(void)
{
    unit_case = "end";
    check_end("From: a@x\r\nTo: b@x\r\n\r\nbody\r\n", 22);
    check_end("From: a@x\nTo: b@x\n\nbody\n", 19);
    check_end("From: a@x\rTo: b@x\r\rbody\r", 19);
    /* Continuation lines belong to the field. */
    check_end("To: a@x,\r\n b@x\r\n\tc@x\r\n\r\nbody", 24);
    /* No body, no empty line: everything is header. */
    check_end("From: a@x\r\nTo: b@x", 18);
    check_end("From: a@x\r\nTo: b@x\r\n", 20);
    check_end("", 0);
    /* A line that is not a field ends the section; it is the body's. */
    check_end("From: a@x\nnot a header\nTo: b@x\n\n", 10);
    check_end("hello world\r\n\r\n", 0);
    check_end("From a@x Mon Jan  1 00:00:00 2026\nTo: b@x\n\n", 0);
    check_end(" starts with a space\r\n", 0);
    check_end(":no name\r\n", 0);
    /* Obsolete white space before the colon (RFC 5322 4.5.3). */
    check_end("Subject : x\r\n\r\n", 15);
    /* Incomplete: more bytes may come. */
    unit_case = "end, incomplete";
    CHECK_EQ_INT(end_whole("From: a@x\r\nTo: b@x", 0), -1);
    CHECK_EQ_INT(end_whole("From: a@x\r\n\r", 0), -1); /* CR, maybe CRLF */
    CHECK_EQ_INT(end_whole("From: a@x\r\n\r", 1), 12);
    CHECK_EQ_INT(end_whole("From: a@x\r\n\r\n", 0), 13);
}

/* ---- parsing ---- */

typedef struct parsed {
    int rc;
    cli_headers h;
    char out[4096]; /* the section after parsing (Bcc removed) */
    size_t out_len;
} parsed;

static void parse(parsed *p, const char *section, unsigned flags)
{
    size_t len = strlen(section);
    unsigned char *b = malloc(len + 1);

    /* An exact-size copy: ASan sees any read past the section. */
    memcpy(b, section, len);
    p->rc = cli_headers_parse(b, &len, flags, NULL, &p->h);
    memcpy(p->out, b, len);
    p->out[len] = '\0';
    p->out_len = len;
    free(b);
}

#define ALL (CLI_HDR_SENDER | CLI_HDR_RCPTS | CLI_HDR_STRIP_BCC)

/* rcpts joined by spaces */
static const char *rcpts_of(const parsed *p)
{
    static char buf[2048];
    size_t o = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < p->h.rcpt_count; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? " " : "",
                              p->h.rcpts[i]);
    return buf;
}

/* Parses section, expects success with sender and rcpts (NULL sender:
 * none). */
static void expect(const char *name, const char *section, const char *sender,
                   const char *rcpts)
{
    parsed p;

    unit_case = name;
    parse(&p, section, ALL);
    CHECK_EQ_INT(p.rc, 0);
    if (p.rc != 0)
        fprintf(stderr, "  error: %s\n", p.h.error);
    if (sender)
        CHECK_EQ_STR(p.h.sender, sender);
    else
        CHECK(p.h.sender == NULL);
    CHECK_EQ_STR(rcpts_of(&p), rcpts);
    cli_headers_free(&p.h);
}

/* Parses section, expects CLI_HDR_BAD with error containing what. */
static void expect_error(const char *name, const char *section,
                         const char *what)
{
    parsed p;

    unit_case = name;
    parse(&p, section, ALL);
    CHECK_EQ_INT(p.rc, CLI_HDR_BAD);
    CHECK(strstr(p.h.error, what) != NULL);
    if (!strstr(p.h.error, what))
        fprintf(stderr, "  error was: \"%s\", wanted \"%s\"\n", p.h.error,
                what);
    CHECK(p.h.sender == NULL && p.h.rcpts == NULL && p.h.rcpt_count == 0);
    cli_headers_free(&p.h);
}

static void test_simple(void)
{
    expect("simple",
           "From: a@example.com\r\nTo: b@example.com, c@example.com\r\n"
           "Cc: d@example.com\r\nBcc: e@example.com\r\nSubject: x\r\n\r\n",
           "a@example.com",
           "b@example.com c@example.com d@example.com e@example.com");
    expect("LF only", "From: a@x.org\nTo: b@x.org\n\n", "a@x.org", "b@x.org");
    expect("names without case, WSP before colon",
           "FROM: a@x.org\nto : b@x.org\ncC:c@x.org\nbcc:\td@x.org\n\n",
           "a@x.org", "b@x.org c@x.org d@x.org");
    expect("no sender field", "To: b@x.org\n\n", NULL, "b@x.org");
    expect("empty To", "From: a@x.org\nTo:\nCc:   \n\n", "a@x.org", "");
    expect("several To fields", "To: a@x.org\nTo: b@x.org\n\n", NULL,
           "a@x.org b@x.org");
    expect("obsolete empty list members", "To: , a@x.org,, ,b@x.org,\n\n",
           NULL, "a@x.org b@x.org");
}

static void test_names(void)
{
    expect("display names",
           "From: \"Doe, John\" <john@x.org>\r\n"
           "To: Jane Roe <jane@x.org>, \"Q. Public\" <q@x.org>,\r\n"
           " Mary Q. Smith <mary@x.org>, <bare@x.org>\r\n\r\n",
           "john@x.org", "jane@x.org q@x.org mary@x.org bare@x.org");
    expect("quoted name with specials",
           "To: \"a <b@c>, d;\" <real@x.org>\n\n", NULL, "real@x.org");
    expect("quoted pair in a name",
           "To: \"say \\\"hi\\\"\" <hi@x.org>\n\n", NULL, "hi@x.org");
    expect("encoded word name (RFC 2047 is just an atom here)",
           "To: =?UTF-8?Q?J=C3=B6rg?= <jorg@x.org>\n\n", NULL, "jorg@x.org");
    expect("UTF-8 name and address (RFC 6532)",
           "To: J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc\x63her.example>\n\n", NULL,
           "j\xc3\xb6rg@b\xc3\xbc\x63her.example");
}

static void test_comments_folding(void)
{
    expect("comments everywhere",
           "To: (lead) john (c1) @ (c2 (nested) \\) ) x.org (trail),\r\n"
           " Jane (her) <(in) jane@x.org (x)> (after)\r\n\r\n",
           NULL, "john@x.org jane@x.org");
    expect("folded lines",
           "To: a@x.org,\r\n b@x.org,\r\n\tc@x.org\r\n"
           "Cc: \"Long\r\n Name\" <\r\n d@x.org\r\n >\r\n\r\n",
           NULL, "a@x.org b@x.org c@x.org d@x.org");
    expect("folded with bare LF and bare CR",
           "To: a@x.org,\n b@x.org,\r c@x.org\n\n", NULL,
           "a@x.org b@x.org c@x.org");
    expect("obsolete local part and domain with spaces",
           "To: john . q . public @ example . com\n\n", NULL,
           "john.q.public@example.com");
}

static void test_local_parts(void)
{
    expect("quoted local part that needs quotes",
           "To: \"john doe\"@x.org\n\n", NULL, "\"john doe\"@x.org");
    expect("quoted local part that does not",
           "To: \"john\"@x.org, <\"a.b\"@x.org>\n\n", NULL,
           "john@x.org a.b@x.org");
    expect("local part in pieces", "To: \"a\".b.\"c\"@x.org\n\n", NULL,
           "a.b.c@x.org");
    expect("pieces that need quoting", "To: \"a b\".c@x.org\n\n", NULL,
           "\"a b.c\"@x.org");
    expect("quoted specials kept escaped",
           "To: \"a\\\"b\\\\c@d\"@x.org\n\n", NULL, "\"a\\\"b\\\\c@d\"@x.org");
    expect("domain literal", "To: u@[192.0.2.1], v@[ IPv6:2001:db8::1 ]\n\n",
           NULL, "u@[192.0.2.1] v@[IPv6:2001:db8::1]");
    expect("obsolete route dropped",
           "To: Joe <@relay1.org,@relay2.org:joe@x.org>\n\n", NULL,
           "joe@x.org");
    expect("postmaster needs no domain", "To: postmaster\n\n", NULL,
           "postmaster");
}

static void test_groups(void)
{
    expect("groups",
           "To: Friends: a@x.org, Bee <b@x.org>;, c@x.org,\r\n"
           " undisclosed-recipients:;, Team:;\r\n"
           "Cc: \"The Group\" : (c) d@x.org ; (end)\r\n\r\n",
           NULL, "a@x.org b@x.org c@x.org d@x.org");
    expect("From as an empty group names no sender",
           "From: undisclosed:;\nTo: b@x.org\n\n", NULL, "b@x.org");
    expect("group with obsolete empty members", "To: G: ,a@x.org,,;\n\n",
           NULL, "a@x.org");
}

static void test_senders(void)
{
    expect("Sender preferred", "From: a@x.org, b@x.org\nSender: s@x.org\n"
           "To: t@x.org\n\n", "s@x.org", "t@x.org");
    expect("Sender after From", "From: Author <a@x.org>\nTo: t@x.org\n"
           "Sender: Secretary <s@x.org>\n\n", "s@x.org", "t@x.org");
    expect_error("two From mailboxes, no Sender",
                 "From: a@x.org, b@x.org\nTo: t@x.org\n\n",
                 "From: names 2 mailboxes");
    expect_error("two From fields", "From: a@x.org\nFrom: b@x.org\n\n",
                 "more than one From: field");
    expect_error("two Sender mailboxes", "Sender: a@x.org, b@x.org\n\n",
                 "Sender: names 2 mailboxes");
    expect_error("empty Sender", "From: a@x.org\nSender: g:;\n\n",
                 "Sender: names no mailbox");
}

static void test_dedup(void)
{
    expect("duplicates removed, domain without case",
           "To: a@x.org, A Person <a@X.ORG>\nCc: a@x.org\nBcc: a@x.org\n\n",
           NULL, "a@x.org");
    expect("local parts keep their case", "To: a@x.org, A@x.org\n\n", NULL,
           "a@x.org A@x.org");
    unit_case = "cli_same_address";
    CHECK(cli_same_address("a@x.org", "a@X.Org"));
    CHECK(!cli_same_address("a@x.org", "A@x.org"));
    CHECK(!cli_same_address("a@x.org", "a@x.org.uk"));
    CHECK(cli_same_address("\"a@b\"@x.org", "\"a@b\"@X.org"));
    CHECK(!cli_same_address("\"a@b\"@x.org", "\"a@B\"@x.org"));
}

static void test_resent(void)
{
    /* The newest block is the first (RFC 5322 3.6.6). */
    static const char two_blocks[] =
        "Received: from somewhere\r\n"
        "Resent-Date: Mon, 2 Feb 2026 10:00:00 +0000\r\n"
        "Resent-From: Second <r2@x.org>\r\n"
        "Resent-To: new2@x.org\r\n"
        "Resent-Bcc: hidden2@x.org\r\n"
        "Received: from elsewhere\r\n"
        "Resent-Date: Sun, 1 Feb 2026 10:00:00 +0000\r\n"
        "Resent-From: r1@x.org\r\n"
        "Resent-To: new1@x.org\r\n"
        "Resent-Bcc: hidden1@x.org\r\n"
        "From: author@x.org\r\n"
        "To: first@x.org\r\n"
        "Bcc: orig-hidden@x.org\r\n"
        "\r\n";
    parsed p;

    expect("Resent block used", two_blocks, "r2@x.org",
           "new2@x.org hidden2@x.org");
    unit_case = "every Bcc and Resent-Bcc removed";
    parse(&p, two_blocks, ALL);
    CHECK_EQ_INT(p.rc, 0);
    CHECK(p.h.resent == 1);
    CHECK_EQ_STR(p.out,
                 "Received: from somewhere\r\n"
                 "Resent-Date: Mon, 2 Feb 2026 10:00:00 +0000\r\n"
                 "Resent-From: Second <r2@x.org>\r\n"
                 "Resent-To: new2@x.org\r\n"
                 "Received: from elsewhere\r\n"
                 "Resent-Date: Sun, 1 Feb 2026 10:00:00 +0000\r\n"
                 "Resent-From: r1@x.org\r\n"
                 "Resent-To: new1@x.org\r\n"
                 "From: author@x.org\r\n"
                 "To: first@x.org\r\n"
                 "\r\n");
    CHECK_EQ_INT(p.h.stripped, strlen(two_blocks) - p.out_len);
    cli_headers_free(&p.h);

    /* Adjacent blocks: a repeated resent field starts the older one. */
    expect("adjacent blocks split at a repeated field",
           "Resent-From: r2@x.org\nResent-To: a@x.org\nResent-Date: d2\n"
           "Resent-From: r1@x.org\nResent-To: b@x.org\nResent-Date: d1\n"
           "From: f@x.org\nTo: t@x.org\n\n",
           "r2@x.org", "a@x.org");
    expect("Resent-Sender preferred",
           "Resent-From: a@x.org, b@x.org\nResent-Sender: s@x.org\n"
           "Resent-Cc: c@x.org\nFrom: f@x.org\nTo: t@x.org\n\n",
           "s@x.org", "c@x.org");
    expect("resent block without recipients gives none",
           "Resent-From: r@x.org\nResent-Date: d\nTo: t@x.org\n\n",
           "r@x.org", "");
}

static void test_errors(void)
{
    expect_error("unterminated quoted string", "To: \"abc <a@x.org>\n\n",
                 "To: unterminated quoted string");
    expect_error("unterminated comment", "Cc: a@x.org (oops\n\n",
                 "Cc: unterminated comment");
    expect_error("missing >", "To: A <a@x.org\n\n", "missing '>'");
    expect_error("no domain", "To: root\n\n", "\"root\" has no @domain");
    expect_error("name without address", "To: John Smith\n\n",
                 "a name with no <address>");
    expect_error("semicolon list", "To: a@x.org; b@x.org\n\n",
                 "expected ',' between addresses");
    expect_error("nested group", "To: g: h: a@x.org;;\n\n",
                 "a group inside a group");
    expect_error("unterminated group", "To: g: a@x.org\n\n",
                 "group not ended with ';'");
    expect_error("empty angle address", "From: <>\n\n", "empty address <>");
    expect_error("empty domain", "To: a@\n\n", "missing or invalid domain");
    expect_error("double dot", "To: a..b@x.org\n\n", "invalid local part");
    expect_error("trailing dot in local part", "To: a.@x.org\n\n",
                 "invalid local part");
    expect_error("stray character", "To: a@x.org, >b@x.org\n\n",
                 "unexpected character");
    expect_error("unterminated literal", "To: a@[1.2.3.4\n\n",
                 "unterminated domain literal");
    expect_error("control character in a quoted local part",
                 "To: \"a\x01\"@x.org\n\n", "unusable address");
    {
        /* Longer than the engine's limit on a path (RFC 5321 4.5.3.1.3). */
        char big[400];
        memcpy(big, "To: ", 4);
        memset(big + 4, 'a', 300);
        memcpy(big + 304, "@x.org\n\n", 9);
        expect_error("address too long", big, "unusable address");
    }
    expect_error("Bcc is checked too", "To: a@x.org\nBcc: bad address\n\n",
                 "Bcc:");

    unit_case = "NUL byte";
    {
        unsigned char b[] = "To: a@x.org\n\0\n\n";
        size_t len = sizeof b - 1;
        cli_headers h;
        CHECK_EQ_INT(cli_headers_parse(b, &len, ALL, NULL, &h), CLI_HDR_BAD);
        CHECK(strstr(h.error, "NUL") != NULL);
        cli_headers_free(&h);
    }
    /* Only the fields asked for are parsed: a bad To: does not matter when
     * the recipients come from elsewhere. */
    unit_case = "unused fields are not parsed";
    {
        parsed p;
        parse(&p, "From: a@x.org\nTo: John Smith\n\n",
              CLI_HDR_SENDER | CLI_HDR_STRIP_BCC);
        CHECK_EQ_INT(p.rc, 0);
        CHECK_EQ_STR(p.h.sender, "a@x.org");
        CHECK_EQ_INT(p.h.rcpt_count, 0);
        cli_headers_free(&p.h);
    }
}

static void strip_case(const char *name, const char *in, const char *want)
{
    parsed p;

    unit_case = name;
    parse(&p, in, CLI_HDR_STRIP_BCC);
    CHECK_EQ_INT(p.rc, 0);
    CHECK_EQ_STR(p.out, want);
    CHECK_EQ_INT(p.h.stripped, strlen(in) - strlen(want));
    cli_headers_free(&p.h);
}

static void test_strip(void)
{
    strip_case("Bcc in the middle, folded",
               "From: a@x.org\r\nBcc: b@x.org,\r\n c@x.org\r\n\tD <d@x.org>\r\n"
               "Subject: hi\r\n\r\n",
               "From: a@x.org\r\nSubject: hi\r\n\r\n");
    strip_case("Bcc first and last, lower case",
               "bcc: a@x.org\nSubject: s\nBCC : b@x.org\n\n",
               "Subject: s\n\n");
    strip_case("Bcc as the only field and no empty line",
               "Bcc: a@x.org", "");
    strip_case("no Bcc: unchanged",
               "From: a@x.org\r\nX-Bcc: kept\r\nBccx: kept\r\n\r\n",
               "From: a@x.org\r\nX-Bcc: kept\r\nBccx: kept\r\n\r\n");
    strip_case("empty Bcc", "To: t@x.org\nBcc:\nSubject: s\n\n",
               "To: t@x.org\nSubject: s\n\n");
}

/* Inputs made of the bytes the grammar cares about, in exact-size heap
 * buffers: nothing may crash or read outside them (ASan), and what
 * succeeds must hold only addresses the engine accepts. */
static void test_random(void)
{
    static const char alphabet[] = "abc@@..,,;::<>()\\\"[] \t\r\n\x80\xc3";
    static const char *const prefixes[] = {"To: ", "From: ", "Bcc: ",
                                           "Resent-To: ", "Sender: "};
    unsigned seed = 12345;
    int bad = 0;

    unit_case = "random";
    for (int n = 0; n < 20000; n++) {
        char in[96];
        size_t len, end = 0;
        unsigned char *b;
        cli_headers h;
        int rc;

        seed = seed * 1103515245u + 12345u;
        len = (size_t)snprintf(in, sizeof in, "%s",
                               prefixes[(seed >> 16) % 5]);
        for (size_t k = (seed >> 8) % 60; k > 0; k--) {
            seed = seed * 1103515245u + 12345u;
            in[len++] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        b = malloc(len ? len : 1);
        memcpy(b, in, len);
        if (cli_headers_end(b, len, 1, &end) && end <= len) {
            size_t l = end;
            rc = cli_headers_parse(b, &l, ALL, NULL, &h);
            if (rc == 0) {
                for (size_t i = 0; i < h.rcpt_count; i++)
                    bad += smtpc_check_address(h.rcpts[i], 0) != SMTPC_OK;
                if (h.sender)
                    bad += smtpc_check_address(h.sender, 0) != SMTPC_OK;
                bad += l > end;
            } else {
                bad += rc != CLI_HDR_BAD || h.error[0] == '\0';
            }
            cli_headers_free(&h);
        } else {
            bad++;
        }
        free(b);
    }
    CHECK_EQ_INT(bad, 0);
}

/* --qualify-domain: a bare local part gets the domain, in any form an
 * address takes; an address with a domain keeps its own. */
static void test_qualify(void)
{
    static const char section[] =
        "From: root (Cron Daemon)\n"
        "To: root, a@b.example, \"x y\", Ops <ops>\n"
        "Cc: team: dev, root;\n"
        "\n";
    unsigned char b[sizeof section];
    size_t len = sizeof section - 1;
    parsed p;

    unit_case = "qualify";
    memcpy(b, section, len);
    p.rc = cli_headers_parse(b, &len, ALL, "example.com", &p.h);
    CHECK_EQ_INT(p.rc, 0);
    if (p.rc != 0) {
        fprintf(stderr, "  error: %s\n", p.h.error);
        return;
    }
    CHECK_EQ_STR(p.h.sender, "root@example.com");
    CHECK_EQ_STR(rcpts_of(&p), "root@example.com a@b.example "
                 "\"x y\"@example.com ops@example.com dev@example.com");
    cli_headers_free(&p.h);

    /* Without it the same section is refused, naming the address. */
    unit_case = "qualify off";
    memcpy(b, section, sizeof section - 1);
    len = sizeof section - 1;
    CHECK_EQ_INT(cli_headers_parse(b, &len, ALL, NULL, &p.h), CLI_HDR_BAD);
    CHECK(strstr(p.h.error, "\"root\" has no @domain") != NULL);
}

/* Which of From:, Date: and Message-ID: a section has (smtpc adds the
 * others): names in any case, Resent- fields not counted, none parsed. */
static void test_present(void)
{
    parsed p;

    unit_case = "present: all, any case";
    parse(&p, "message-id: <x@y>\nFROM: a@b.example\nDaTe: whenever\n\n", 0);
    CHECK_EQ_INT(p.rc, 0);
    CHECK_EQ_HEX(p.h.present,
                 CLI_HAS_FROM | CLI_HAS_DATE | CLI_HAS_MESSAGE_ID);
    cli_headers_free(&p.h);

    unit_case = "present: Resent- and look-alikes are not";
    parse(&p, "Resent-From: a@b.example\nResent-Date: x\nDates: x\n"
              "Message-IDs: x\nSubject: Date:\n\n", 0);
    CHECK_EQ_INT(p.rc, 0);
    CHECK_EQ_HEX(p.h.present, 0);
    cli_headers_free(&p.h);

    unit_case = "present: Date only, folded";
    parse(&p, "Date:\n Tue, 1 Dec 2026 12:00:00 +0000\nTo: a@b.example\n\n",
          0);
    CHECK_EQ_INT(p.rc, 0);
    CHECK_EQ_HEX(p.h.present, CLI_HAS_DATE);
    cli_headers_free(&p.h);
}

/* A recipient argument as an address list (cron's MAILTO). */
static void test_argument_lists(void)
{
    static const struct {
        const char *arg, *qualify, *want; /* want NULL: refused */
    } cases[] = {
        {"a@x.example,b@y.example", NULL, "a@x.example b@y.example"},
        {"\"Doe, J\" <j@x.example>, Ann <a@y.example>", NULL,
         "j@x.example a@y.example"},
        {"T: a@x.example, (c) b@x.example;, c@x.example (C)", NULL,
         "a@x.example b@x.example c@x.example"},
        {"root, a@x.example, a@X.EXAMPLE", "example.com",
         "root@example.com a@x.example"},
        {"undisclosed-recipients:;", NULL, ""},
        {"root", NULL, NULL},
        {"a@x.example, b@", NULL, NULL},
        {"\"unterminated <a@x.example>", NULL, NULL},
        {"a@x.example\r\nRSET", NULL, NULL},
    };

    unit_case = "argument lists";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char **v = NULL, buf[512] = "";
        size_t n = 0, o = 0;
        cli_headers h;
        int rc = cli_address_list(cases[i].arg, cases[i].qualify, &v, &n, &h);
        for (size_t j = 0; j < n; j++) {
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s",
                                  j ? " " : "", v[j]);
            free(v[j]);
        }
        free(v);
        if (cases[i].want) {
            CHECK_EQ_INT(rc, 0);
            CHECK_EQ_STR(buf, cases[i].want);
        } else {
            CHECK_EQ_INT(rc, CLI_HDR_BAD);
            CHECK(strncmp(h.error, "recipient: ", 11) == 0);
        }
    }
}

int main(void)
{
    test_end();
    test_simple();
    test_names();
    test_comments_folding();
    test_local_parts();
    test_groups();
    test_senders();
    test_dedup();
    test_resent();
    test_errors();
    test_strip();
    test_random();
    test_qualify();
    test_present();
    test_argument_lists();
    return unit_done();
}
