/*
 * The writer as a smtpc_body_source: the blocking client pulls the
 * message through it a buffer at a time.
 */
#include "internal.h"

#if SMTPC_WITH_MIME

static int next(void *ctx, const void **data, size_t *len)
{
    smtpc_mime_source *src = ctx;
    size_t n;

    for (;;) {
        n = smtpc_mime_read(src->w, src->buf, src->cap);
        if (n > 0 || smtpc_mime_done(src->w))
            break;
        if (smtpc_mime_status(src->w) != SMTPC_OK)
            return SMTPC_ERR_BODY_SOURCE;
        /* SMTPC_MIME_LATER: a blocking caller has nothing else to do. */
    }
    *data = src->buf;
    *len = n;
    return SMTPC_OK;
}

smtpc_body_source smtpc_mime_body_source(smtpc_mime_source *src,
                                         smtpc_mime_writer *w, void *buf,
                                         size_t cap)
{
    smtpc_body_source b;

    src->w = w;
    src->buf = buf;
    src->cap = cap;
    b.next = next;
    b.ctx = src;
    return b;
}

#endif /* SMTPC_WITH_MIME */
