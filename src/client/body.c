/*
 * body.c - a message body held in memory.
 */
#include "internal.h"

static int smtpc_body_mem_next(void *ctx, const void **data, size_t *len)
{
    smtpc_body_mem *m = (smtpc_body_mem *)ctx;

    /* The whole body in one piece: the engine takes what fits and the
     * driver hands the rest again, so no copy is made. */
    if (m->done || m->len == 0) {
        m->done = 1;
        *data = NULL;
        *len = 0;
        return SMTPC_OK;
    }
    *data = m->data;
    *len = m->len;
    m->done = 1;
    return SMTPC_OK;
}

smtpc_body_source smtpc_body_memory(smtpc_body_mem *m, const void *data,
                                    size_t len)
{
    smtpc_body_source src;

    m->data = data;
    m->len = data != NULL ? len : 0;
    m->done = 0;
    src.next = smtpc_body_mem_next;
    src.ctx = m;
    return src;
}
