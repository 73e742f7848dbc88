/*
 * test_compat_mime.c - nx_smtp_mail_send_mime's refusals: every argument
 * the call cannot use gives its status with nothing sent (a listener that
 * never accepts must have no connection waiting afterwards).  Delivery
 * itself is tested against real servers (tests/integration/85_netx_mime.sh,
 * 87_netx_mime_relay.sh).
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nxd_smtp_client.h"
#include "unit.h"

#if SMTPC_WITH_MIME

static NX_SMTP_CLIENT client;

static int quiet_listener(uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(fd, 4) != 0 || getsockname(fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    *port = ntohs(a.sin_port);
    return fd;
}

static int connection_waiting(int lfd)
{
    int fd = accept(lfd, NULL, NULL);

    if (fd >= 0) {
        close(fd);
        return 1;
    }
    return 0;
}

static void test_refusals(void)
{
    smtpc_mime_addr to[NX_SMTP_CLIENT_MIME_MAX_RECIPIENTS + 1];
    smtpc_mime_header hdr[NX_SMTP_CLIENT_MIME_MAX_HEADERS + 1];
    smtpc_mime_part text;
    smtpc_mime_message m;
    CHAR *bcc[1] = {(CHAR *)"hidden@example.org"};
    CHAR *bad_bcc[1] = {(CHAR *)"a@b\r\nRSET"};
    NXD_ADDRESS a;
    uint16_t port = 0;
    int lfd = quiet_listener(&port), i;

    CHECK(lfd >= 0);
    memset(&m, 0, sizeof m);
    memset(&text, 0, sizeof text);
    memset(to, 0, sizeof to);
    memset(hdr, 0, sizeof hdr);
    for (i = 0; i <= NX_SMTP_CLIENT_MIME_MAX_RECIPIENTS; i++)
        to[i].address = "rcpt@example.org";
    for (i = 0; i <= NX_SMTP_CLIENT_MIME_MAX_HEADERS; i++) {
        hdr[i].name = "X-Test";
        hdr[i].value = "1";
    }
    text.data = "hello\n";
    text.len = 6;
    m.to = to;
    m.to_count = 1;
    m.subject = "s";
    m.text = &text;

    /* Not created yet. */
    memset(&client, 0, sizeof client);
    CHECK_EQ_HEX(nx_smtp_mail_send_mime(&client, &m, NX_SMTP_MAIL_PRIORITY_NORMAL, NULL, 0),
                 NX_SMTP_CLIENT_NOT_INTIALIZED);

    memset(&a, 0, sizeof a);
    a.nxd_ip_version = NX_IP_VERSION_V4;
    a.nxd_ip_address.v4 = 0x7F000001ul;
    CHECK_EQ_HEX(nxd_smtp_client_create(&client, NULL, NULL, (CHAR *)"", (CHAR *)"",
                                        (CHAR *)"sender@example.com",
                                        (CHAR *)"example.com", NX_SMTP_CLIENT_AUTH_NONE,
                                        &a, port),
                 NX_SUCCESS);

    CHECK_EQ_HEX(nx_smtp_mail_send_mime(NULL, &m, 0, NULL, 0), NX_PTR_ERROR);
    CHECK_EQ_HEX(nx_smtp_mail_send_mime(&client, NULL, 0, NULL, 0), NX_PTR_ERROR);
    CHECK_EQ_HEX(nx_smtp_mail_send_mime(&client, &m, 0, NULL, 1), NX_PTR_ERROR);

    /* No recipient; one too many (To + Bcc). */
    m.to_count = 0;
    CHECK_EQ_HEX(nx_smtp_mail_send_mime(&client, &m, 0, NULL, 0), NX_SMTP_INVALID_PARAM);
    m.to_count = NX_SMTP_CLIENT_MIME_MAX_RECIPIENTS;
    CHECK_EQ_HEX(nx_smtp_mail_send_mime(&client, &m, 0, bcc, 1), NX_SMTP_INVALID_PARAM);
    m.to_count = 1;
    /* A Bcc that would inject a command. */
    CHECK_EQ_HEX(nx_smtp_mail_send_mime(&client, &m, 0, bad_bcc, 1), NX_SMTP_INVALID_PARAM);
    /* Too many header fields of the application's. */
    m.headers = hdr;
    m.header_count = NX_SMTP_CLIENT_MIME_MAX_HEADERS + 1;
    CHECK_EQ_HEX(nx_smtp_mail_send_mime(&client, &m, 0, NULL, 0), NX_SMTP_INVALID_PARAM);
    /* Fields the writer refuses: CR LF in the subject, a Content-* field,
     * invalid UTF-8. */
    m.header_count = 0;
    m.subject = "hi\r\nBcc: victim@example.org";
    CHECK_EQ_HEX(nx_smtp_mail_send_mime(&client, &m, 0, NULL, 0), NX_SMTP_INVALID_PARAM);
    m.subject = "s";
    hdr[0].name = "Content-Type";
    m.header_count = 1;
    CHECK_EQ_HEX(nx_smtp_mail_send_mime(&client, &m, 0, NULL, 0), NX_SMTP_INVALID_PARAM);
    m.header_count = 0;
    m.subject = "\xC3(";
    CHECK_EQ_HEX(nx_smtp_mail_send_mime(&client, &m, 0, NULL, 0), NX_SMTP_INVALID_PARAM);

    CHECK_MSG(!connection_waiting(lfd), "a refused mail opened a connection");
    /* The application's message is not changed by the call. */
    CHECK(m.from == NULL && m.date == NULL && m.message_id == NULL &&
          m.headers == hdr && m.header_count == 0 && m.flags == 0);
    CHECK_EQ_HEX(nx_smtp_client_delete(&client), NX_SUCCESS);
    close(lfd);
}

int main(void)
{
    test_refusals();
    printf("test_compat_mime: ");
    return unit_done();
}

#else

int main(void)
{
    printf("test_compat_mime: no MIME writer in this build\n");
    return 77;
}

#endif
