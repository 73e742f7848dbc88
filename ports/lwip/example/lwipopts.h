/*
 * lwipopts.h - a bare-metal lwIP configuration for smtpc_lwip: no OS
 * (NO_SYS=1), raw API only, static pools, IPv4 + IPv6, DNS.  A starting
 * point for a Cortex-M board; tests/integration/74_lwip_port.sh compiles
 * the port with it (host gcc and arm-none-eabi-gcc).
 */
#ifndef SMTPC_EXAMPLE_LWIPOPTS_H
#define SMTPC_EXAMPLE_LWIPOPTS_H

#define NO_SYS                  1
#define LWIP_NETCONN            0    /* the raw API needs no threads */
#define LWIP_SOCKET             0
#define SYS_LIGHTWEIGHT_PROT    0    /* no interrupts touch lwIP here */

#define MEM_ALIGNMENT           4
#define MEM_SIZE                (16 * 1024)
#define MEMP_NUM_TCP_PCB        4
#define MEMP_NUM_TCP_SEG        32
#define PBUF_POOL_SIZE          16

#define LWIP_IPV4               1
#define LWIP_IPV6               1
#define LWIP_TCP                1
#define LWIP_UDP                1    /* DNS */
#define LWIP_DNS                1
#define LWIP_DHCP               0

#define TCP_MSS                 1460
#define TCP_WND                 (4 * TCP_MSS)
#define TCP_SND_BUF             (4 * TCP_MSS)
#define TCP_SND_QUEUELEN        ((4 * TCP_SND_BUF) / TCP_MSS)

#define LWIP_STATS              0
#define LWIP_NETIF_LOOPBACK     0

#endif /* SMTPC_EXAMPLE_LWIPOPTS_H */
