/*
 * netx_relay_thread.c - the relay of smtpc's NetX Duo tests
 * (netx_support.h): NetX Duo TCP on one side, a host loopback socket on
 * the other, bytes copied unchanged both ways.
 *
 * It runs as a ThreadX thread, which on the Linux port is a pthread that
 * ThreadX suspends with signals: host calls are therefore non-blocking
 * (retried on EINTR/EAGAIN) and the thread sleeps a tick when neither
 * side had anything, so it never holds the simulated CPU in a syscall.
 */
/* The host's headers first: nx_api.h defines htonl and friends as macros
 * unless they are already. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netx_support.h"

volatile ULONG netx_relay_sessions;

static NX_TCP_SOCKET relay_sock;
static TX_THREAD relay_thread;
static UINT relay_port;
static NX_IP *relay_ip;
static struct sockaddr_storage relay_to;
static socklen_t relay_to_len;

/* Opens the host connection: the fd, or -1. */
static int host_connect(void)
{
    int fd = socket(relay_to.ss_family, SOCK_STREAM, 0), i;
    struct pollfd p;

    if (fd < 0)
        return -1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (connect(fd, (struct sockaddr *)&relay_to, relay_to_len) == 0)
        return fd;
    if (errno != EINPROGRESS && errno != EINTR) {
        close(fd);
        return -1;
    }
    for (i = 0; i < 1000; i++) { /* 10 s at most */
        int err = 0;
        socklen_t len = sizeof err;
        p.fd = fd;
        p.events = POLLOUT;
        if (poll(&p, 1, 0) == 1) {
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err == 0)
                return fd;
            break;
        }
        tx_thread_sleep(1);
    }
    close(fd);
    return -1;
}

/* Writes all of buf to fd: 0, or -1 when the host side is gone. */
static int host_write(int fd, const UCHAR *buf, ULONG len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (ULONG)n;
        } else if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            tx_thread_sleep(1);
        } else {
            return -1;
        }
    }
    return 0;
}

/* Sends len bytes to the NetX peer, a segment's worth a packet. */
static UINT nx_write(const UCHAR *buf, ULONG len)
{
    while (len > 0) {
        NX_PACKET *pk;
        ULONG n = len > 1000 ? 1000 : len;
        UINT s = nx_packet_allocate(relay_ip->nx_ip_default_packet_pool, &pk,
                                    NX_TCP_PACKET, 5 * NX_IP_PERIODIC_RATE);
        if (s != NX_SUCCESS)
            return s;
        s = nx_packet_data_append(pk, (VOID *)(uintptr_t)buf, n,
                                  relay_ip->nx_ip_default_packet_pool,
                                  5 * NX_IP_PERIODIC_RATE);
        if (s == NX_SUCCESS)
            s = nx_tcp_socket_send(&relay_sock, pk, 5 * NX_IP_PERIODIC_RATE);
        if (s != NX_SUCCESS) {
            nx_packet_release(pk);
            return s;
        }
        buf += n;
        len -= n;
    }
    return NX_SUCCESS;
}

/* Copies both ways until one side closes. */
static void relay_pump(int fd)
{
    static UCHAR buf[4096];

    for (;;) {
        NX_PACKET *pk;
        ssize_t n;
        int moved = 0;
        UINT s = nx_tcp_socket_receive(&relay_sock, &pk, NX_NO_WAIT);

        if (s == NX_SUCCESS) {
            ULONG off = 0, got = 0;
            while (off < pk->nx_packet_length &&
                   nx_packet_data_extract_offset(pk, off, buf, sizeof buf, &got) ==
                       NX_SUCCESS && got > 0) {
                if (host_write(fd, buf, got) != 0) {
                    nx_packet_release(pk);
                    return;
                }
                off += got;
            }
            nx_packet_release(pk);
            moved = 1;
        } else if (s != NX_NO_PACKET) {
            return; /* the NetX side closed */
        }
        n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            if (nx_write(buf, (ULONG)n) != NX_SUCCESS)
                return;
            moved = 1;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            return; /* the host side closed */
        }
        if (!moved)
            tx_thread_sleep(1);
    }
}

static void relay_entry(ULONG arg)
{
    UINT s;

    (void)arg;
    /* Listening is for threads only (NX_CALLER_ERROR at initialisation);
     * this thread's priority is above the application's, so it listens
     * before any client thread runs. */
    s = nx_tcp_socket_create(relay_ip, &relay_sock, "relay", NX_IP_NORMAL,
                             NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 16384,
                             NX_NULL, NX_NULL);
    if (s == NX_SUCCESS)
        s = nx_tcp_server_socket_listen(relay_ip, relay_port, &relay_sock, 5, NX_NULL);
    if (s != NX_SUCCESS) {
        netx_log("relay: listen failed: 0x%x\n", s);
        exit(2);
    }
    for (;;) {
        int fd;
        if (nx_tcp_server_socket_accept(&relay_sock, NX_WAIT_FOREVER) != NX_SUCCESS) {
            tx_thread_sleep(1);
        } else {
            fd = host_connect();
            if (fd >= 0) {
                relay_pump(fd);
                close(fd);
            }
            nx_tcp_socket_disconnect(&relay_sock, 2 * NX_IP_PERIODIC_RATE);
            netx_relay_sessions++;
        }
        nx_tcp_server_socket_unaccept(&relay_sock);
        nx_tcp_server_socket_relisten(relay_ip, relay_port, &relay_sock);
    }
}

UINT netx_relay_start(NX_IP *ip, UINT nx_port, const char *host,
                      unsigned host_port)
{
    struct sockaddr_in *a4 = (struct sockaddr_in *)&relay_to;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&relay_to;
    UINT s;

    memset(&relay_to, 0, sizeof relay_to);
    if (strcmp(host, "127.0.0.1") == 0) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)host_port);
        a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        relay_to_len = sizeof *a4;
    } else if (strcmp(host, "::1") == 0) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)host_port);
        a6->sin6_addr = in6addr_loopback;
        relay_to_len = sizeof *a6;
    } else {
        netx_log("relay: %s is not loopback: refused\n", host);
        return NX_PTR_ERROR;
    }
    relay_port = nx_port;
    relay_ip = ip;
    s = tx_thread_create(&relay_thread, "relay", relay_entry, 0,
                             netx_alloc(65536), 65536, 8, 8, TX_NO_TIME_SLICE,
                             TX_AUTO_START);
    return s;
}
