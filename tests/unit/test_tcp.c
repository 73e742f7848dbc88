/*
 * test_tcp.c - the POSIX TCP transport against sockets this test opens on
 * 127.0.0.1 and ::1 (ephemeral high ports; nothing else is touched).
 */
#define _GNU_SOURCE /* unshare */

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <sched.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smtpc/transport.h"
#include "unit.h"

/* A listening socket on the loopback address of family, port in *port;
 * -1 when the family is unavailable. */
static int listen_on(int family, int backlog, uint16_t *port)
{
    int fd = socket(family, SOCK_STREAM, 0);
    int one = 1;

    if (fd < 0)
        return -1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET) {
        struct sockaddr_in a;
        socklen_t l = sizeof a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
            (backlog >= 0 && listen(fd, backlog) != 0) ||
            getsockname(fd, (struct sockaddr *)&a, &l) != 0) {
            close(fd);
            return -1;
        }
        *port = ntohs(a.sin_port);
    } else {
        struct sockaddr_in6 a;
        socklen_t l = sizeof a;
        memset(&a, 0, sizeof a);
        a.sin6_family = AF_INET6;
        a.sin6_addr = in6addr_loopback;
        if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
            (backlog >= 0 && listen(fd, backlog) != 0) ||
            getsockname(fd, (struct sockaddr *)&a, &l) != 0) {
            close(fd);
            return -1;
        }
        *port = ntohs(a.sin6_port);
    }
    return fd;
}

/* Connect, exchange bytes both ways, see the peer's close as
 * SMTPC_ERR_CLOSED, and survive sending to a closed peer. */
static void exchange(const char *host, int family)
{
    smtpc_tcp tcp;
    smtpc_transport t = smtpc_tcp_transport(&tcp);
    uint16_t port = 0;
    int lfd = listen_on(family, 4, &port);
    int sfd, r, i;
    char buf[64];
    long n;
    uint64_t t0, t1;

    if (lfd < 0) {
        printf("skip: %s unavailable\n", host);
        return;
    }
    r = t.ops->connect(t.ctx, host, port, 2000);
    CHECK(r == SMTPC_OK);
    if (r != SMTPC_OK) {
        close(lfd);
        return;
    }
    CHECK(tcp.fd >= 0);
    CHECK(tcp.family == family);
    CHECK(t.ops->is_loopback(t.ctx) == 1);
    CHECK(t.ops->start_tls(t.ctx, host, 100) == SMTPC_ERR_UNSUPPORTED);
    sfd = accept(lfd, NULL, NULL);
    CHECK(sfd >= 0);

    /* Nothing to read: recv says 0 at once, wait times out. */
    CHECK(t.ops->recv(t.ctx, buf, sizeof buf) == 0);
    t0 = t.ops->now_ms(t.ctx);
    CHECK(t.ops->wait(t.ctx, SMTPC_IO_READ, 50) == 0);
    t1 = t.ops->now_ms(t.ctx);
    CHECK(t1 >= t0 + 50);
    CHECK(t1 < t0 + 2000);
    CHECK(t.ops->wait(t.ctx, SMTPC_IO_WRITE, 1000) == SMTPC_IO_WRITE);

    CHECK(t.ops->send(t.ctx, "EHLO x\r\n", 8) == 8);
    n = recv(sfd, buf, sizeof buf, 0);
    CHECK_EQ_MEM(buf, n, "EHLO x\r\n", 8);

    CHECK(send(sfd, "250 ok\r\n", 8, 0) == 8);
    CHECK(t.ops->wait(t.ctx, SMTPC_IO_READ, 2000) == SMTPC_IO_READ);
    n = t.ops->recv(t.ctx, buf, sizeof buf);
    CHECK_EQ_MEM(buf, n, "250 ok\r\n", 8);

    /* The peer closes: end of stream. */
    close(sfd);
    CHECK(t.ops->wait(t.ctx, SMTPC_IO_READ, 2000) & SMTPC_IO_READ);
    CHECK(t.ops->recv(t.ctx, buf, sizeof buf) == SMTPC_ERR_CLOSED);

    /* Writing to the closed peer fails with a status, never SIGPIPE (the
     * default action, which would kill this test). */
    n = 0;
    for (i = 0; i < 50 && n >= 0; i++) {
        n = t.ops->send(t.ctx, "QUIT\r\n", 6);
        if (n >= 0)
            (void)t.ops->wait(t.ctx, SMTPC_IO_READ, 20);
    }
    CHECK(n == SMTPC_ERR_CLOSED || n == SMTPC_ERR_IO);

    t.ops->close(t.ctx);
    CHECK(tcp.fd == -1);
    t.ops->close(t.ctx); /* twice is fine */
    CHECK(tcp.fd == -1);
    CHECK(t.ops->is_loopback(t.ctx) == 0);
    CHECK(t.ops->send(t.ctx, "x", 1) < 0);
    CHECK(t.ops->recv(t.ctx, buf, 1) < 0);
    close(lfd);
}

/* A bound socket that does not listen: the kernel refuses connections. */
static void refused(void)
{
    smtpc_tcp tcp;
    smtpc_transport t = smtpc_tcp_transport(&tcp);
    uint16_t port = 0;
    int fd = listen_on(AF_INET, -1, &port);

    CHECK(fd >= 0);
    CHECK(t.ops->connect(t.ctx, "127.0.0.1", port, 2000) == SMTPC_ERR_CONNECT);
    CHECK(tcp.last_errno == ECONNREFUSED);
    CHECK(tcp.fd == -1);
    close(fd);
}

static void resolve_failure(void)
{
    smtpc_tcp tcp;
    smtpc_transport t = smtpc_tcp_transport(&tcp);

    /* RFC 2606: .invalid never resolves. */
    CHECK(t.ops->connect(t.ctx, "nonexistent.invalid", 25, 2000) ==
          SMTPC_ERR_RESOLVE);
    CHECK(tcp.fd == -1);
    CHECK(t.ops->connect(t.ctx, "", 25, 2000) == SMTPC_ERR_ARG);
    CHECK(t.ops->connect(t.ctx, NULL, 25, 2000) == SMTPC_ERR_ARG);
}

/* A name server that cannot be reached says nothing about the name: a
 * temporary failure (try later), with the resolver's code kept.  Made
 * real in a network namespace of our own, with no interface up, where the
 * query to the configured name server cannot leave (needs the right to
 * unshare: root here; skipped otherwise). */
static void resolve_unreachable(void)
{
    pid_t pid = fork();
    int status = 0;

    CHECK(pid >= 0);
    if (pid == 0) {
        smtpc_tcp tcp;
        smtpc_transport t = smtpc_tcp_transport(&tcp);
        int st;

        if (unshare(CLONE_NEWNET) != 0)
            _exit(77);
        st = t.ops->connect(t.ctx, "nonexistent.invalid", 25, 2000);
        if (st == SMTPC_ERR_RESOLVE)
            _exit(78); /* answered without the network (nscd, resolved) */
        _exit(st == SMTPC_ERR_RESOLVE_AGAIN && tcp.last_gai == EAI_AGAIN &&
                      tcp.last_errno == EAGAIN && tcp.fd == -1
                  ? 0
                  : 1);
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77 || WEXITSTATUS(status) == 78) {
        printf("resolve_unreachable: skipped (%s)\n",
               WEXITSTATUS(status) == 77 ? "cannot unshare the network"
                                         : "the resolver needs no network");
        return;
    }
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
}

/* Names and literals that are not 127.0.0.1 or ::1 exactly. */
static void loopback_forms(void)
{
    static const struct {
        const char *host;
        int family;
    } forms[] = {
        {"127.0.0.1", AF_INET}, {"localhost", 0}, {"[::1]", AF_INET6},
        {"::ffff:127.0.0.1", AF_INET6},
    };
    size_t i;

    for (i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        smtpc_tcp tcp;
        smtpc_transport t = smtpc_tcp_transport(&tcp);
        uint16_t port = 0;
        int family = forms[i].family ? forms[i].family : AF_INET;
        int lfd;
        int r;

        /* ::ffff:127.0.0.1 reaches an IPv4 listener through a v6 socket. */
        if (strncmp(forms[i].host, "::ffff:", 7) == 0)
            family = AF_INET;
        lfd = listen_on(family, 4, &port);
        if (lfd < 0) {
            printf("skip: %s\n", forms[i].host);
            continue;
        }
        r = t.ops->connect(t.ctx, forms[i].host, port, 2000);
        if (r != SMTPC_OK && (family == AF_INET6 || forms[i].family == 0 ||
                              strncmp(forms[i].host, "::ffff:", 7) == 0)) {
            /* No IPv6 (or no v4-mapped sockets) here. */
            printf("skip: %s (%d)\n", forms[i].host, r);
            close(lfd);
            continue;
        }
        CHECK(r == SMTPC_OK);
        CHECK(t.ops->is_loopback(t.ctx) == 1);
        t.ops->close(t.ctx);
        close(lfd);
    }
}

/* A listener whose accept queue is full drops SYNs (Linux): connect must
 * give up at its deadline with SMTPC_ERR_TIMEOUT. */
static void connect_timeout(void)
{
    smtpc_tcp tcp;
    smtpc_transport t = smtpc_tcp_transport(&tcp);
    uint16_t port = 0;
    int lfd = listen_on(AF_INET, 0, &port);
    int fillers[8];
    int nfill = 0, i, r;
    uint64_t t0, t1;
    struct sockaddr_in a;

    CHECK(lfd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    for (i = 0; i < 8; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            break;
        (void)fcntl(fd, F_SETFL, O_NONBLOCK);
        (void)connect(fd, (struct sockaddr *)&a, sizeof a);
        fillers[nfill++] = fd;
    }
    t0 = t.ops->now_ms(t.ctx);
    r = t.ops->connect(t.ctx, "127.0.0.1", port, 300);
    t1 = t.ops->now_ms(t.ctx);
    if (r == SMTPC_OK) {
        /* Some kernels accept anyway (syncookies on a full queue). */
        printf("skip: connect timeout (accept queue did not fill)\n");
    } else {
        CHECK(r == SMTPC_ERR_TIMEOUT);
        CHECK(t1 - t0 >= 300);
        CHECK(t1 - t0 < 1500);
    }
    t.ops->close(t.ctx);
    for (i = 0; i < nfill; i++)
        close(fillers[i]);
    close(lfd);
}

static void clock_monotonic(void)
{
    smtpc_tcp tcp;
    smtpc_transport t = smtpc_tcp_transport(&tcp);
    uint64_t a = t.ops->now_ms(t.ctx), b;

    CHECK(a > 0);
    b = t.ops->now_ms(t.ctx);
    CHECK(b >= a);
    CHECK(tcp.fd == -1);
    t.ops->close(t.ctx); /* never opened: fine */
    CHECK(t.ops->wait(t.ctx, SMTPC_IO_READ, 0) < 0);
}

int main(void)
{
    /* SIGPIPE stays at its default: a send without MSG_NOSIGNAL would
     * kill the test, which then fails. */
    signal(SIGPIPE, SIG_DFL);
    unit_case = "exchange 127.0.0.1";
    exchange("127.0.0.1", AF_INET);
    unit_case = "exchange ::1";
    exchange("::1", AF_INET6);
    unit_case = "refused";
    refused();
    unit_case = "resolve_failure";
    resolve_failure();
    unit_case = "resolve_unreachable";
    resolve_unreachable();
    unit_case = "loopback_forms";
    loopback_forms();
    unit_case = "connect_timeout";
    connect_timeout();
    unit_case = "clock_monotonic";
    clock_monotonic();
    return unit_done();
}
