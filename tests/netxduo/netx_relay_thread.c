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

/*
 * Sends to the NetX peer what its window takes now of buf[0..len), a
 * segment's worth a packet, and never waits: the bytes sent, or -1 when
 * the NetX side is gone.  NetX keeps no send buffer beyond the peer's
 * window, so waiting here would stop the relay reading what the peer
 * sends (relay_pump says why it must not).
 */
static long nx_write_some(const UCHAR *buf, ULONG len)
{
    NX_PACKET_POOL *pool = relay_ip->nx_ip_default_packet_pool;
    ULONG done = 0;

    while (done < len) {
        NX_PACKET *pk;
        ULONG n = len - done > 1000 ? 1000 : len - done;
        UINT s = nx_packet_allocate(pool, &pk, NX_TCP_PACKET, NX_NO_WAIT);

        if (s == NX_NO_PACKET)
            break; /* the pool refills as segments are acknowledged */
        if (s != NX_SUCCESS)
            return -1;
        s = nx_packet_data_append(pk, (VOID *)(uintptr_t)(buf + done), n, pool,
                                  NX_NO_WAIT);
        if (s != NX_SUCCESS) {
            nx_packet_release(pk);
            return -1;
        }
        s = nx_tcp_socket_send(&relay_sock, pk, NX_NO_WAIT);
        if (s == NX_SUCCESS) {
            done += n;
            continue;
        }
        if (s != NX_WINDOW_OVERFLOW && s != NX_TX_QUEUE_DEPTH && s != NX_NO_PACKET) {
            nx_packet_release(pk);
            return -1;
        }
        /* The window is full (or the pool, for NetX's own splitting of
         * the packet): NetX sent what fit and left the rest in the
         * packet, which is still ours. */
        done += n - pk->nx_packet_length;
        nx_packet_release(pk);
        break;
    }
    return (long)done;
}

/*
 * Copies both ways until one side closes.  The two directions are
 * independent, as over a real network path: bytes from the host that the
 * NetX peer's window does not take yet wait in out (and the host's own
 * socket buffers hold the rest, as they hold a server's replies on a
 * direct connection) while what the NetX peer sends still goes on to the
 * host.  So the real server is what the client meets, not the relay.  A
 * relay that waited in nx_tcp_socket_send toward the client stopped
 * reading the client meanwhile: it was a server that stops reading while
 * its reply waits for the client's window.  That one is tested on
 * purpose (netx_scripted.c's BDAT case), since the engine used to take no
 * reply while its send area was full and deadlocked with it at some
 * 40 KB of BDAT (docs/PORTING.md).  Writes to the host may wait: the
 * host's kernel buffers that side.
 */
static void relay_pump(int fd)
{
    static UCHAR buf[4096], out[4096];
    ULONG out_off = 0, out_len = 0;
    int host_open = 1;

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
        if (out_off == out_len && host_open) {
            n = recv(fd, out, sizeof out, MSG_DONTWAIT);
            if (n > 0) {
                out_off = 0;
                out_len = (ULONG)n;
                moved = 1;
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                host_open = 0;
            }
        }
        if (out_off < out_len) {
            long w = nx_write_some(out + out_off, out_len - out_off);
            if (w < 0)
                return;
            out_off += (ULONG)w;
            moved |= w > 0;
        } else if (!host_open) {
            return; /* the host closed, and all it sent is through */
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
