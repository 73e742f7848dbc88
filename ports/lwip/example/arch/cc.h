/*
 * arch/cc.h - lwIP's compiler/platform glue for GCC on a Cortex-M with
 * newlib, the minimum: lwIP's own defaults (lwip/arch.h) do the rest.
 */
#ifndef SMTPC_EXAMPLE_ARCH_CC_H
#define SMTPC_EXAMPLE_ARCH_CC_H

#include <stdlib.h>

/* Where a board prints lwIP's diagnostics and what an assertion does. */
#define LWIP_PLATFORM_DIAG(x) do { } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { abort(); } while (0)

/* Random numbers for TCP's initial ports and DNS query IDs: use the
 * board's TRNG in a real firmware. */
#define LWIP_RAND() ((u32_t)rand())

#endif /* SMTPC_EXAMPLE_ARCH_CC_H */
