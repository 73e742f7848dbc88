/*
 * nxd_smtp_tls.c - the compat API's TLS extension, nx_smtp_client_tls_set.
 *
 * Kept apart from the rest of src/compat: the TLS backend allocates, and
 * the core compat objects must not.  The core reaches this file only
 * through the table that nx_smtp_client_tls_set installs, so a program
 * that never calls it links neither this file nor the backend (static
 * library).
 *
 * Below the TLS layer sits a small shim transport: the certificate is
 * checked against the name the application gave (e.g.
 * "smtp.office365.com"), while the connection still goes to the address
 * given to nxd_smtp_client_create, as NetX Duo applications expect.
 */
#include <string.h>

#include "internal.h"

#if defined(SMTPC_HAVE_OPENSSL) || defined(SMTPC_HAVE_MBEDTLS)
#define COMPAT_HAVE_TLS 1
#include "smtpc/tls.h"
#else
#define COMPAT_HAVE_TLS 0
#endif

#if COMPAT_HAVE_TLS

/* ---- the shim: every call goes to the plain transport, but connect
 * dials the configured address whatever host name it is given ---- */

static smtpc_transport *shim_inner(void *ctx)
{
    return &SMTPC_COMPAT((NX_SMTP_CLIENT *)ctx)->tls_inner;
}

static int shim_connect(void *ctx, const char *host, uint16_t port,
                        uint32_t timeout_ms)
{
    smtpc_transport *in = shim_inner(ctx);

    (void)host; /* the certificate name, not where to connect */
    return in->ops->connect(in->ctx, SMTPC_COMPAT((NX_SMTP_CLIENT *)ctx)->host,
                            port, timeout_ms);
}

static long shim_send(void *ctx, const void *data, size_t len)
{
    smtpc_transport *in = shim_inner(ctx);
    return in->ops->send(in->ctx, data, len);
}

static long shim_recv(void *ctx, void *buf, size_t len)
{
    smtpc_transport *in = shim_inner(ctx);
    return in->ops->recv(in->ctx, buf, len);
}

static int shim_wait(void *ctx, unsigned events, uint32_t timeout_ms)
{
    smtpc_transport *in = shim_inner(ctx);
    return in->ops->wait(in->ctx, events, timeout_ms);
}

static int shim_start_tls(void *ctx, const char *host, uint32_t timeout_ms)
{
    smtpc_transport *in = shim_inner(ctx);
    return in->ops->start_tls(in->ctx, host, timeout_ms);
}

static int shim_is_loopback(void *ctx)
{
    smtpc_transport *in = shim_inner(ctx);
    return in->ops->is_loopback(in->ctx);
}

static uint64_t shim_now_ms(void *ctx)
{
    smtpc_transport *in = shim_inner(ctx);
    return in->ops->now_ms(in->ctx);
}

static void shim_close(void *ctx)
{
    smtpc_transport *in = shim_inner(ctx);
    in->ops->close(in->ctx);
}

static const smtpc_transport_ops shim_ops = {
    shim_connect, shim_send,        shim_recv,   shim_wait,
    shim_start_tls, shim_is_loopback, shim_now_ms, shim_close,
};

/* ---- the table the core calls ---- */

static int tls_wrap(NX_SMTP_CLIENT *c, smtpc_transport *t)
{
    smtpc_compat_state *st = SMTPC_COMPAT(c);
    smtpc_tls_options opt;
    smtpc_transport inner = *t;
    smtpc_tls *tls = NULL;
    int rc;

    memset(&opt, 0, sizeof opt);
    opt.cafile = st->tls_ca_file;
    if (st->tls_server_name != NULL) {
        st->tls_inner = *t;
        inner.ops = &shim_ops;
        inner.ctx = c;
    }
    st->tls_ctx = NULL;
    rc = smtpc_tls_new(&tls, inner, &opt);
    if (rc != SMTPC_OK)
        return rc;
    st->tls_ctx = tls;
    *t = smtpc_tls_transport(tls);
    return SMTPC_OK;
}

static void tls_release(NX_SMTP_CLIENT *c)
{
    smtpc_compat_state *st = SMTPC_COMPAT(c);

    /* Frees the TLS layer and closes the connection below it. */
    smtpc_tls_free((smtpc_tls *)st->tls_ctx);
    st->tls_ctx = NULL;
}

static const struct smtpc_compat_tls_ops compat_tls_ops = {tls_wrap,
                                                           tls_release};

#endif /* COMPAT_HAVE_TLS */

UINT nx_smtp_client_tls_set(NX_SMTP_CLIENT *client_ptr, UINT tls_mode,
                            CHAR *server_name, CHAR *ca_file)
{
    smtpc_compat_state *st;

#ifndef NX_SMTP_DISABLE_ERROR_CHECKING
    if (client_ptr == NULL)
        return NX_PTR_ERROR;
#endif
    if (client_ptr->nx_smtp_client_id != NX_SMTP_CLIENT_ID ||
        client_ptr->nx_smtp_client_init_status == 0)
        return NX_SMTP_CLIENT_NOT_INTIALIZED;
    st = SMTPC_COMPAT(client_ptr);
    if (tls_mode != NX_SMTP_CLIENT_TLS_NONE &&
        tls_mode != NX_SMTP_CLIENT_TLS_STARTTLS &&
        tls_mode != NX_SMTP_CLIENT_TLS_IMPLICIT)
        return NX_SMTP_INVALID_PARAM;
    if (server_name != NULL &&
        (smtpc_check_domain(server_name) != SMTPC_OK ||
         server_name[0] == '['))
        return NX_SMTP_INVALID_PARAM;
    if (tls_mode == NX_SMTP_CLIENT_TLS_NONE) {
        st->tls_mode = NX_SMTP_CLIENT_TLS_NONE;
        st->tls_server_name = NULL;
        st->tls_ca_file = NULL;
        st->tls_ops = NULL;
        return NX_SUCCESS;
    }
#if COMPAT_HAVE_TLS
    st->tls_mode = tls_mode;
    st->tls_server_name = server_name;
    st->tls_ca_file = ca_file;
    st->tls_ops = &compat_tls_ops;
    return NX_SUCCESS;
#else
    (void)ca_file;
    return NX_SMTP_TLS_NOT_SUPPORTED;
#endif
}
