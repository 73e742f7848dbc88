/*
 * nxd_smtp_port.c - the compat layer's view of the system: which transport
 * a mail goes over, the wall clock (for Date) and a little entropy (for
 * Message-ID).  This is the one file a port to an RTOS TCP/IP stack
 * replaces (with NX_SMTP_CLIENT_TRANSPORT_TYPE set to its transport's
 * context type); the rest of src/compat does not touch the system.
 *
 * Define NX_SMTP_CLIENT_NO_CLOCK to send mail without a Date header on a
 * system whose time() is not the wall clock.
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

smtpc_transport smtpc_compat_transport_make(NX_SMTP_CLIENT *c)
{
    return smtpc_tcp_transport(&SMTPC_COMPAT(c)->transport);
}

int smtpc_compat_clock_read(NX_SMTP_CLIENT *c, int64_t *secs)
{
#ifdef NX_SMTP_CLIENT_NO_CLOCK
    (void)c;
    (void)secs;
    return 0;
#else
    time_t t = time(NULL);

    (void)c;
    /* Before 2000 the clock was plainly never set (a board after reset):
     * no Date is better than a wrong one. */
    if (t == (time_t)-1 || (int64_t)t < 946684800)
        return 0;
    *secs = (int64_t)t;
    return 1;
#endif
}

uint32_t smtpc_compat_entropy_read(NX_SMTP_CLIENT *c)
{
    struct timespec ts;
    uint32_t x = (uint32_t)getpid() * 0x9E3779B1u;
    uintptr_t p = (uintptr_t)c;

    if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
        x ^= (uint32_t)ts.tv_nsec ^ ((uint32_t)ts.tv_sec << 7);
    x ^= (uint32_t)p ^ (uint32_t)(p >> 16 >> 16);
    /* Finaliser of MurmurHash3: every input bit reaches every output bit. */
    x ^= x >> 16;
    x *= 0x85EBCA6Bu;
    x ^= x >> 13;
    x *= 0xC2B2AE35u;
    x ^= x >> 16;
    return x;
}
