/*
 * tcp_posix.c - the POSIX TCP transport (smtpc/transport.h).
 *
 * Non-blocking sockets and poll(): send and recv never block, wait() is
 * the only place that sleeps, so the client driver can watch reading and
 * writing together and keep its own deadlines.  No malloc, no stdio.
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#if defined(__APPLE__) && !defined(_DARWIN_C_SOURCE)
#define _DARWIN_C_SOURCE 1 /* SO_NOSIGPIPE */
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "smtpc/transport.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SO_NOSIGPIPE is set on the socket instead */
#endif

/* Host names are at most 253 bytes; an IPv6 literal with a zone fits. */
#define TCP_HOST_MAX 256

static uint64_t tcp_clock_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int tcp_poll_ms(uint64_t remaining)
{
    return remaining > (uint64_t)INT_MAX ? INT_MAX : (int)remaining;
}

static int tcp_addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        const unsigned char *b = (const unsigned char *)&in->sin_addr;
        return b[0] == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 =
            (const struct sockaddr_in6 *)(const void *)sa;
        const unsigned char *b = in6->sin6_addr.s6_addr;
        static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0,
                                                   0, 0, 0, 0, 0xff, 0xff};
        int i;

        if (memcmp(b, v4mapped, 12) == 0)
            return b[12] == 127;
        for (i = 0; i < 15; i++)
            if (b[i] != 0)
                return 0;
        return b[15] == 1;
    }
    return 0;
}

static int tcp_set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL, 0);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    /* A forked child (the CLI may run a password command) must not
     * inherit the connection. */
    fl = fcntl(fd, F_GETFD, 0);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
    return 0;
}

/* Waits until the non-blocking connect on fd finishes or deadline passes:
 * 0 connected, else SMTPC_ERR_CONNECT / SMTPC_ERR_TIMEOUT with *err set. */
static int tcp_connect_wait(int fd, uint64_t deadline, int *err)
{
    for (;;) {
        struct pollfd p;
        uint64_t now = tcp_clock_ms();
        int r;
        int soerr = 0;
        socklen_t sl = sizeof soerr;

        if (now >= deadline) {
            *err = ETIMEDOUT;
            return SMTPC_ERR_TIMEOUT;
        }
        p.fd = fd;
        p.events = POLLOUT;
        p.revents = 0;
        r = poll(&p, 1, tcp_poll_ms(deadline - now));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            *err = errno;
            return SMTPC_ERR_CONNECT;
        }
        if (r == 0)
            continue; /* the deadline check above ends it */
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) {
            *err = errno;
            return SMTPC_ERR_CONNECT;
        }
        if (soerr != 0) {
            *err = soerr;
            return soerr == ETIMEDOUT ? SMTPC_ERR_TIMEOUT : SMTPC_ERR_CONNECT;
        }
        return 0;
    }
}

/* Tries one address until deadline: the connected fd, or -1 with *status
 * and *err set. */
static int tcp_connect_one(const struct addrinfo *ai, uint64_t deadline,
                           int *status, int *err)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int r;

    if (fd < 0) {
        /* e.g. EAFNOSUPPORT: no IPv6 on this host; try the next one */
        *err = errno;
        *status = SMTPC_ERR_CONNECT;
        return -1;
    }
    if (tcp_set_nonblocking(fd) != 0) {
        *err = errno;
        *status = SMTPC_ERR_CONNECT;
        close(fd);
        return -1;
    }
    do {
        r = connect(fd, ai->ai_addr, ai->ai_addrlen);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
        if (errno != EINPROGRESS) {
            *err = errno;
            *status = SMTPC_ERR_CONNECT;
            close(fd);
            return -1;
        }
        r = tcp_connect_wait(fd, deadline, err);
        if (r != 0) {
            *status = r;
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void tcp_tune(int fd)
{
    int one = 1;

    /* SMTP is request/response: a command must not wait for Nagle. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
}

static void tcp_close(void *ctx)
{
    smtpc_tcp *t = (smtpc_tcp *)ctx;

    if (t->fd >= 0) {
        (void)close(t->fd);
        t->fd = -1;
    }
    t->loopback = 0;
}

/* getaddrinfo wants "::1", users often write "[::1]" as in a URL. */
static const char *tcp_host_strip(const char *host, char *tmp)
{
    size_t n = strlen(host);

    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < TCP_HOST_MAX) {
        memcpy(tmp, host + 1, n - 2);
        tmp[n - 2] = '\0';
        return tmp;
    }
    return host;
}

static int tcp_connect(void *ctx, const char *host, uint16_t port,
                       uint32_t timeout_ms)
{
    smtpc_tcp *t = (smtpc_tcp *)ctx;
    struct addrinfo hints, *res = NULL, *ai;
    char portstr[8], hostbuf[TCP_HOST_MAX];
    char *p = portstr + sizeof portstr;
    unsigned v = port;
    uint64_t deadline;
    size_t count = 0;
    int r, status = SMTPC_ERR_CONNECT, err = 0;

    tcp_close(t);
    t->last_errno = 0;
    t->last_gai = 0;
    t->family = 0;
    if (host == NULL || host[0] == '\0' || port == 0)
        return SMTPC_ERR_ARG;
    host = tcp_host_strip(host, hostbuf);

    *--p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV;
    /* The resolver has no deadline of its own; the connect budget starts
     * after it. */
    r = getaddrinfo(host, p, &hints, &res);
    if (r != 0) {
        t->last_gai = r;
        t->last_errno = r == EAI_AGAIN ? EAGAIN : r == EAI_MEMORY ? ENOMEM : 0;
#ifdef EAI_SYSTEM
        if (r == EAI_SYSTEM)
            t->last_errno = errno;
#endif
        /* Only "no such name" (and "no address for it") is an answer:
         * a name server that is down, unreachable or failing (EAI_AGAIN,
         * SERVFAIL as EAI_FAIL, a local error) says nothing about the
         * name, so the caller should try again later, not give up. */
        if (r == EAI_NONAME || r == EAI_SERVICE || r == EAI_FAMILY ||
            r == EAI_BADFLAGS || r == EAI_SOCKTYPE
#ifdef EAI_NODATA
            || r == EAI_NODATA
#endif
#ifdef EAI_ADDRFAMILY
            || r == EAI_ADDRFAMILY
#endif
        )
            return SMTPC_ERR_RESOLVE;
        return SMTPC_ERR_RESOLVE_AGAIN;
    }

    for (ai = res; ai != NULL; ai = ai->ai_next)
        count++;
    deadline = tcp_clock_ms() + timeout_ms;
    for (ai = res; ai != NULL; ai = ai->ai_next, count--) {
        uint64_t now = tcp_clock_ms(), slot;
        int fd;

        if (now >= deadline) {
            status = SMTPC_ERR_TIMEOUT;
            err = ETIMEDOUT;
            break;
        }
        /* An address that swallows SYNs must not eat the whole budget
         * while others remain: each gets a fair share of what is left. */
        slot = (deadline - now) / count;
        fd = tcp_connect_one(ai, now + slot, &status, &err);
        if (fd >= 0) {
            tcp_tune(fd);
            t->fd = fd;
            t->family = ai->ai_family;
            t->loopback = tcp_addr_is_loopback(ai->ai_addr);
            freeaddrinfo(res);
            return SMTPC_OK;
        }
    }
    freeaddrinfo(res);
    t->last_errno = err;
    return status;
}

static long tcp_send(void *ctx, const void *data, size_t len)
{
    smtpc_tcp *t = (smtpc_tcp *)ctx;
    ssize_t n;

    if (t->fd < 0)
        return SMTPC_ERR_IO;
    if (len == 0)
        return 0;
    if (len > (size_t)LONG_MAX)
        len = (size_t)LONG_MAX;
    do {
        n = send(t->fd, data, len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n >= 0)
        return (long)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
    t->last_errno = errno;
    if (errno == EPIPE || errno == ECONNRESET)
        return SMTPC_ERR_CLOSED;
    return SMTPC_ERR_IO;
}

static long tcp_recv(void *ctx, void *buf, size_t len)
{
    smtpc_tcp *t = (smtpc_tcp *)ctx;
    ssize_t n;

    if (t->fd < 0)
        return SMTPC_ERR_IO;
    if (len == 0)
        return 0;
    if (len > (size_t)LONG_MAX)
        len = (size_t)LONG_MAX;
    do {
        n = recv(t->fd, buf, len, 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
#ifdef TCP_QUICKACK
        /* Linux turns quick ACKs off again as it sees fit.  A server that
         * holds its next write until we ACK (Nagle: BDAT replies after a
         * chunk train) would otherwise wait for our delayed ACK, ~40 ms a
         * mail (docs/BENCHMARKS.md). */
        int one = 1;
        (void)setsockopt(t->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#endif
        return (long)n;
    }
    if (n == 0)
        return SMTPC_ERR_CLOSED;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
    t->last_errno = errno;
    /* A reset is how many servers end a connection after QUIT: to the
     * session it is the end of the stream. */
    if (errno == ECONNRESET)
        return SMTPC_ERR_CLOSED;
    return SMTPC_ERR_IO;
}

static int tcp_wait(void *ctx, unsigned events, uint32_t timeout_ms)
{
    smtpc_tcp *t = (smtpc_tcp *)ctx;
    uint64_t deadline = tcp_clock_ms() + timeout_ms;

    if (t->fd < 0)
        return SMTPC_ERR_IO;
    for (;;) {
        struct pollfd p;
        uint64_t now = tcp_clock_ms();
        unsigned ready = 0;
        int r;

        p.fd = t->fd;
        p.events = 0;
        p.revents = 0;
        if (events & SMTPC_IO_READ)
            p.events |= POLLIN;
        if (events & SMTPC_IO_WRITE)
            p.events |= POLLOUT;
        r = poll(&p, 1, now >= deadline ? 0 : tcp_poll_ms(deadline - now));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            t->last_errno = errno;
            return SMTPC_ERR_IO;
        }
        if (r == 0) {
            if (tcp_clock_ms() >= deadline)
                return 0;
            continue;
        }
        if (p.revents & POLLNVAL)
            return SMTPC_ERR_IO;
        /* Errors and hang-ups count as ready: the next send or recv
         * reports them. */
        if ((events & SMTPC_IO_READ) && (p.revents & (POLLIN | POLLHUP | POLLERR)))
            ready |= SMTPC_IO_READ;
        if ((events & SMTPC_IO_WRITE) && (p.revents & (POLLOUT | POLLHUP | POLLERR)))
            ready |= SMTPC_IO_WRITE;
        if (ready != 0)
            return (int)ready;
        if (tcp_clock_ms() >= deadline)
            return 0;
    }
}

static int tcp_start_tls(void *ctx, const char *host, uint32_t timeout_ms)
{
    (void)ctx;
    (void)host;
    (void)timeout_ms;
    return SMTPC_ERR_UNSUPPORTED;
}

static int tcp_is_loopback(void *ctx)
{
    const smtpc_tcp *t = (const smtpc_tcp *)ctx;

    return t->fd >= 0 && t->loopback;
}

static uint64_t tcp_now_ms(void *ctx)
{
    (void)ctx;
    return tcp_clock_ms();
}

static const smtpc_transport_ops tcp_ops = {
    tcp_connect, tcp_send,      tcp_recv,   tcp_wait,
    tcp_start_tls, tcp_is_loopback, tcp_now_ms, tcp_close,
};

smtpc_transport smtpc_tcp_transport(smtpc_tcp *t)
{
    smtpc_transport tr;

    t->fd = -1;
    t->loopback = 0;
    t->last_errno = 0;
    t->family = 0;
    tr.ops = &tcp_ops;
    tr.ctx = t;
    return tr;
}
