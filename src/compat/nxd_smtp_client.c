/*
 * nxd_smtp_client.c - nxd_smtp_client_create, nx_smtp_client_delete and
 * nx_smtp_mail_send over the blocking client (smtpc/client.h).
 *
 * With the default error checking each function first returns
 * NX_PTR_ERROR for a NULL pointer and NX_SMTP_INVALID_PARAM for a zero
 * body length, as NetX Duo's _nxe_ front ends do; NX_SMTP_DISABLE_ERROR_CHECKING
 * removes those checks.  Checks that protect memory or the wire (lengths,
 * CR/LF in arguments, the IP version) stay in either case.
 */
#include <string.h>

#include "internal.h"

/* ---- helpers ---- */

static uint32_t ticks_to_ms(unsigned long ticks)
{
    uint64_t ms = (uint64_t)ticks * 1000u / (uint64_t)NX_IP_PERIODIC_RATE;

    return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

/* Copies src (NULL: "") into dst of max + 1 bytes: NX_SUCCESS or
 * NX_SIZE_ERROR when it is longer than max. */
static UINT copy_bounded(CHAR *dst, const CHAR *src, size_t max)
{
    size_t n = 0;

    if (src != NULL)
        while (n <= max && src[n] != '\0')
            n++;
    if (n > max)
        return NX_SIZE_ERROR;
    if (n != 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
    return NX_SUCCESS;
}

/* The server address as the literal the TCP transport connects to:
 * "192.0.2.1", or RFC 5952 text for IPv6 ("2001:db8::1").  Returns
 * NX_SUCCESS, or NX_IP_ADDRESS_ERROR for another version or the
 * unspecified address. */
static UINT address_format(const NXD_ADDRESS *a, char *out)
{
    char *p = out;
    int i;

#if SMTPC_COMPAT_IPV4
    if (a->nxd_ip_version == NX_IP_VERSION_V4) {
        uint32_t v = (uint32_t)(a->nxd_ip_address.v4 & 0xFFFFFFFFul);
        if (v == 0)
            return NX_IP_ADDRESS_ERROR;
        for (i = 24; i >= 0; i -= 8) {
            p = smtpc_compat_num(p, (v >> i) & 0xFF, 10, 1);
            *p++ = '.';
        }
        p[-1] = '\0';
        return NX_SUCCESS;
    }
#endif
#if !SMTPC_COMPAT_IPV6
    (void)p;
    (void)i;
    return NX_IP_ADDRESS_ERROR;
#else
    {
        unsigned g[8];
        int best = 8, best_len = 1, run = 0;

        if (a->nxd_ip_version != NX_IP_VERSION_V6)
            return NX_IP_ADDRESS_ERROR;
        for (i = 0; i < 8; i++) {
            uint32_t w = (uint32_t)(a->nxd_ip_address.v6[i / 2] & 0xFFFFFFFFul);
            g[i] = (unsigned)((i & 1) ? w & 0xFFFF : w >> 16);
            /* RFC 5952 4.2: "::" replaces the longest run of two or more
             * zero groups, the first one when two are as long. */
            run = g[i] == 0 ? run + 1 : 0;
            if (run > best_len) {
                best_len = run;
                best = i + 1 - run;
            }
        }
        if (best_len == 8)
            return NX_IP_ADDRESS_ERROR; /* the unspecified address */
        for (i = 0; i < 8;) {
            if (i == best) {
                if (i == 0)
                    *p++ = ':';
                *p++ = ':';
                i += best_len;
                continue;
            }
            p = smtpc_compat_num(p, g[i], 16, 1);
            if (++i < 8)
                *p++ = ':';
        }
        *p = '\0';
        return NX_SUCCESS;
    }
#endif
}

static int client_created(const NX_SMTP_CLIENT *c)
{
    return c->nx_smtp_client_id == NX_SMTP_CLIENT_ID &&
           c->nx_smtp_client_init_status != 0;
}

/* The session's AUTH settings from the NetX authentication type.
 * - NONE, or no user name: no AUTH.  NetX Duo's documentation says NONE
 *   switches to PLAIN when the server offers AUTH, but its code never did;
 *   applications built on it rely on NONE sending no credentials, so smtpc
 *   keeps NONE meaning none (docs/COMPAT.md).
 * - PLAIN, LOGIN, CRAM-MD5: that mechanism, sent whether or not the server
 *   lists it (the caller knows best); when the server lists no mechanism,
 *   PLAIN or LOGIN becomes PLAIN, as NetX Duo documents. */
static void auth_configure(NX_SMTP_CLIENT *c, smtpc_config *s)
{
    s->auth = SMTPC_AUTH_NONE;
    s->username = NULL;
    s->password = NULL;
    if (c->nx_smtp_username[0] == '\0')
        return;
    switch (c->nx_smtp_client_authentication_type) {
    case NX_SMTP_CLIENT_AUTH_LOGIN:
        s->auth = SMTPC_AUTH_LOGIN;
        break;
    case NX_SMTP_CLIENT_AUTH_CRAM_MD5:
        s->auth = SMTPC_AUTH_CRAM_MD5;
        break;
    case NX_SMTP_CLIENT_AUTH_PLAIN:
        s->auth = SMTPC_AUTH_PLAIN;
        break;
    default: /* NX_SMTP_CLIENT_AUTH_NONE */
        return;
    }
    s->username = c->nx_smtp_username;
    s->password = c->nx_smtp_password;
    s->options |= SMTPC_OPT_PLAIN_WHEN_UNLISTED;
}

static void config_build(NX_SMTP_CLIENT *c)
{
    smtpc_compat_state *st = SMTPC_COMPAT(c);
    smtpc_client_config *cfg = &st->config;

    memset(cfg, 0, sizeof *cfg);
    /* The name the certificate is checked against; the TLS shim still
     * connects to the configured address (nxd_smtp_tls.c). */
    cfg->host = st->tls_server_name != NULL ? st->tls_server_name : st->host;
    cfg->port = (uint16_t)c->nx_smtp_server_port;
    cfg->session.ehlo_name = c->nx_smtp_client_domain[0] != '\0'
                                 ? c->nx_smtp_client_domain
                                 : NULL;
    switch (st->tls_mode) {
    case NX_SMTP_CLIENT_TLS_STARTTLS:
        cfg->session.tls = SMTPC_TLS_STARTTLS;
        break;
    case NX_SMTP_CLIENT_TLS_IMPLICIT:
        cfg->session.tls = SMTPC_TLS_IMPLICIT;
        break;
    default:
        cfg->session.tls = SMTPC_TLS_NONE;
        break;
    }
    auth_configure(c, &cfg->session);
    cfg->session.host = cfg->host;
    cfg->session.port = cfg->port;
#if NX_SMTP_CLIENT_ALLOW_PLAINTEXT_AUTH
    cfg->session.options |= SMTPC_OPT_ALLOW_PLAINTEXT_AUTH;
#endif
    cfg->timeouts.connect_ms = ticks_to_ms(NX_SMTP_CLIENT_CONNECTION_TIMEOUT);
    cfg->timeouts.greeting_ms = ticks_to_ms(NX_SMTP_GREETING_TIMEOUT);
    cfg->timeouts.command_ms = ticks_to_ms(NX_SMTP_ENVELOPE_TIMEOUT);
    cfg->timeouts.mail_ms = ticks_to_ms(NX_SMTP_ENVELOPE_TIMEOUT);
    cfg->timeouts.rcpt_ms = ticks_to_ms(NX_SMTP_ENVELOPE_TIMEOUT);
    cfg->timeouts.data_ms = ticks_to_ms(NX_SMTP_ENVELOPE_TIMEOUT);
    cfg->timeouts.block_ms = ticks_to_ms(NX_SMTP_CLIENT_SEND_TIMEOUT);
    cfg->timeouts.data_end_ms = ticks_to_ms(NX_SMTP_MESSAGE_TIMEOUT);
}

/* ---- create ---- */

UINT nxd_smtp_client_create(NX_SMTP_CLIENT *client_ptr, NX_IP *ip_ptr,
                            NX_PACKET_POOL *client_packet_pool_ptr,
                            CHAR *username, CHAR *password,
                            CHAR *from_address, CHAR *client_domain,
                            UINT authentication_type,
                            NXD_ADDRESS *server_address, UINT port)
{
    smtpc_compat_state *st;
    UINT rc;

#ifndef NX_SMTP_DISABLE_ERROR_CHECKING
    /* NX_IP and NX_PACKET_POOL may be NULL on a hosted system, which has
     * neither (checked below where they are used). */
    if (client_ptr == NULL || username == NULL || password == NULL ||
        from_address == NULL || client_domain == NULL ||
        server_address == NULL)
        return NX_PTR_ERROR;
    if (server_address->nxd_ip_version != NX_IP_VERSION_V4 &&
        server_address->nxd_ip_version != NX_IP_VERSION_V6)
        return NX_IP_ADDRESS_ERROR;
#endif
#if NX_SMTP_CLIENT_NEEDS_IP
    /* The connection runs on them: kept with error checking off too. */
    if (client_ptr == NULL || ip_ptr == NULL || client_packet_pool_ptr == NULL)
        return NX_PTR_ERROR;
#endif

    memset(client_ptr, 0, sizeof *client_ptr);
    st = SMTPC_COMPAT(client_ptr);

    rc = copy_bounded(client_ptr->nx_smtp_username, username,
                      NX_SMTP_CLIENT_MAX_USERNAME);
    if (rc == NX_SUCCESS)
        rc = copy_bounded(client_ptr->nx_smtp_password, password,
                          NX_SMTP_CLIENT_MAX_PASSWORD);
    if (rc == NX_SUCCESS)
        rc = copy_bounded(client_ptr->nx_smtp_client_domain, client_domain,
                          NX_SMTP_CLIENT_MAX_USERNAME);
    if (rc == NX_SUCCESS)
        rc = address_format(server_address, st->host);
    if (rc == NX_SUCCESS && port > 65535u)
        rc = NX_SMTP_INVALID_PARAM;
    /* Everything that reaches the wire is checked here once more at each
     * send; failing early tells the application at the right call. */
    if (rc == NX_SUCCESS &&
        (from_address == NULL ||
         smtpc_check_address(from_address, 0) != SMTPC_OK ||
         (client_domain != NULL && client_domain[0] != '\0' &&
          smtpc_check_domain(client_domain) != SMTPC_OK) ||
         smtpc_check_text(client_ptr->nx_smtp_username,
                          NX_SMTP_CLIENT_MAX_USERNAME) != SMTPC_OK))
        rc = NX_SMTP_INVALID_PARAM;
#if !SMTPC_WITH_AUTH_CRAM_MD5
    if (rc == NX_SUCCESS &&
        authentication_type == NX_SMTP_CLIENT_AUTH_CRAM_MD5)
        rc = NX_SMTP_INVALID_PARAM; /* compiled out */
#endif
    if (rc != NX_SUCCESS) {
        smtpc_wipe(client_ptr, sizeof *client_ptr);
        return rc;
    }

    /* NetX Duo makes any unknown type PLAIN; so does smtpc. */
    if (authentication_type != NX_SMTP_CLIENT_AUTH_LOGIN &&
        authentication_type != NX_SMTP_CLIENT_AUTH_CRAM_MD5 &&
        authentication_type != NX_SMTP_CLIENT_AUTH_NONE)
        authentication_type = NX_SMTP_CLIENT_AUTH_PLAIN;

    client_ptr->nx_smtp_client_from_address = from_address;
    client_ptr->nx_smtp_client_authentication_type = authentication_type;
    client_ptr->nx_smtp_client_ip_ptr = ip_ptr;
    client_ptr->nx_smtp_client_packet_pool_ptr = client_packet_pool_ptr;
    client_ptr->nx_smtp_server_address = *server_address;
    client_ptr->nx_smtp_server_port = port;
    client_ptr->nx_smtp_client_id = NX_SMTP_CLIENT_ID;
    client_ptr->nx_smtp_client_init_status = 1;
    return NX_SUCCESS;
}

/* ---- delete ---- */

UINT nx_smtp_client_delete(NX_SMTP_CLIENT *client_ptr)
{
#ifndef NX_SMTP_DISABLE_ERROR_CHECKING
    if (client_ptr == NULL)
        return NX_PTR_ERROR;
#endif
    if (!client_created(client_ptr))
        return NX_SMTP_CLIENT_NOT_INTIALIZED;
    /* No connection outlives nx_smtp_mail_send, so there is nothing to
     * close: forget everything, the password first of all. */
    smtpc_wipe(client_ptr, sizeof *client_ptr);
    return NX_SUCCESS;
}

/* ---- send ---- */

static UINT mail_run(NX_SMTP_CLIENT *c)
{
    smtpc_compat_state *st = SMTPC_COMPAT(c);
    smtpc_transport t = smtpc_compat_transport_make(c);
    smtpc_body_source body;
    int rc;

    if (st->tls_mode != NX_SMTP_CLIENT_TLS_NONE) {
        if (st->tls_ops == NULL)
            return NX_SMTP_TLS_NOT_SUPPORTED;
        rc = st->tls_ops->wrap(c, &t);
        if (rc != SMTPC_OK) {
            st->tls_ops->release(c);
            return smtpc_compat_status_map(rc, SMTPC_PHASE_TLS);
        }
    }
    rc = smtpc_client_init(&st->client, &st->config, t, st->buffer,
                           sizeof st->buffer);
    if (rc == SMTPC_OK) {
        body = smtpc_compat_mail_source(c);
        (void)smtpc_client_sendmail(&st->client, &st->envelope, &body,
                                    &st->result);
    } else {
        st->result.status = rc;
        st->result.phase = SMTPC_PHASE_NONE;
    }
    /* The client closed the connection; closing again is harmless and
     * covers a failed init. */
    if (st->tls_mode != NX_SMTP_CLIENT_TLS_NONE)
        st->tls_ops->release(c);
    else
        t.ops->close(t.ctx);
    /* The buffer held the AUTH exchange. */
    smtpc_wipe(st->buffer, sizeof st->buffer);
    c->nx_smtp_client_reply_code_status = st->result.reply.code;
    return smtpc_compat_status_map(st->result.status, st->result.phase);
}

UINT nx_smtp_mail_send(NX_SMTP_CLIENT *client_ptr, CHAR *recipient_address,
                       UINT priority, CHAR *subject, CHAR *mail_body,
                       UINT mail_body_length)
{
    smtpc_compat_state *st;
    uint64_t size = 0;
    UINT status;

#ifndef NX_SMTP_DISABLE_ERROR_CHECKING
    if (client_ptr == NULL || recipient_address == NULL || subject == NULL ||
        mail_body == NULL)
        return NX_PTR_ERROR;
    if (mail_body_length == 0)
        return NX_SMTP_INVALID_PARAM;
#endif
    if (!client_created(client_ptr))
        return NX_SMTP_CLIENT_NOT_INTIALIZED;
    st = SMTPC_COMPAT(client_ptr);

    /* Nothing with CR, LF or NUL reaches a header or a command: no header
     * injection through the subject, no command through an address. */
    if (smtpc_check_address(recipient_address, 0) != SMTPC_OK ||
        smtpc_check_address(client_ptr->nx_smtp_client_from_address, 0) !=
            SMTPC_OK ||
        smtpc_check_header_value(subject) != SMTPC_OK)
        return NX_SMTP_INVALID_PARAM;
    if (smtpc_compat_mail_prepare(client_ptr, recipient_address, priority,
                                  subject, mail_body, mail_body_length,
                                  &size) != SMTPC_OK)
        return NX_SMTP_INVALID_PARAM;

    config_build(client_ptr);
    memset(&st->rcpt, 0, sizeof st->rcpt);
    st->rcpt.address = recipient_address;
    memset(&st->envelope, 0, sizeof st->envelope);
    st->envelope.from = client_ptr->nx_smtp_client_from_address;
    st->envelope.rcpts = &st->rcpt;
    st->envelope.rcpt_count = 1;
    st->envelope.size = size;
    /* The header says 8bit: ask for 8BITMIME wherever it is offered. */
    st->envelope.flags = SMTPC_MAIL_8BITMIME;
    memset(&st->result, 0, sizeof st->result);
    client_ptr->nx_smtp_client_reply_code_status = 0;

    status = mail_run(client_ptr);
    client_ptr->nx_smtp_client_mail_status = status;
    return status;
}
