/*
 * nxd_smtp_mime.c - nx_smtp_mail_send_mime: a MIME message (HTML,
 * attachments from buffers or callbacks) sent through a NetX Duo style
 * client, by the MIME writer (smtpc/mime.h).
 *
 * A file of its own so that an application that never calls it links
 * none of it, nor the writer (--gc-sections); compiled only with
 * SMTPC_WITH_MIME.  The header fields nx_smtp_mail_send makes up itself
 * (From, Date, Message-ID, X-Priority) are made the same way here; the
 * connection, TLS, AUTH and status mapping are the same code.
 *
 * Memory: nothing is allocated.  The writer, the message's copy and the
 * envelope's recipients live on the caller's stack for the call; the
 * writer's reads go through the client's header buffer, which
 * nx_smtp_mail_send only uses during its own calls.
 */
#include <string.h>

#include "internal.h"

#if SMTPC_WITH_MIME

/* Bounded writer of the Message-ID. */
typedef struct id_buf {
    char *p;
    size_t len, cap;
} id_buf;

static void id_s(id_buf *o, const char *s, size_t n)
{
    if (o->len + n >= o->cap) {
        o->cap = 0; /* too long: reported below */
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void id_num(id_buf *o, uint64_t v, unsigned base, unsigned width)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[sizeof tmp - 1 - n] =
            "0123456789abcdef"[base == 16 ? (unsigned)(v & 15)
                                          : (unsigned)(v % 10)];
        v = base == 16 ? v >> 4 : v / 10;
        n++;
    } while ((v != 0 || n < width) && n < sizeof tmp);
    id_s(o, tmp + sizeof tmp - n, n);
}

/* "time.count.entropy@domain", as nx_smtp_mail_send writes it.  Returns 0
 * when it does not fit out. */
static int message_id(NX_SMTP_CLIENT *c, int64_t now, uint32_t entropy,
                      char *out, size_t cap)
{
    smtpc_compat_state *st = SMTPC_COMPAT(c);
    const char *domain = c->nx_smtp_client_domain[0] != '\0'
                             ? c->nx_smtp_client_domain
                             : "localhost";
    id_buf o;

    o.p = out;
    o.len = 0;
    o.cap = cap;
    st->message_count++;
    id_num(&o, (uint64_t)now, 16, 1);
    id_s(&o, ".", 1);
    /* Decimal in 32 bits: no 64-bit division for the counter. */
    id_num(&o, st->message_count, 10, 1);
    id_s(&o, ".", 1);
    id_num(&o, entropy, 16, 8);
    id_s(&o, "@", 1);
    id_s(&o, domain, strlen(domain));
    if (o.cap == 0)
        return 0;
    out[o.len] = '\0';
    return 1;
}

static const char *priority_value(UINT priority)
{
    /* X-Priority as nx_smtp_mail_send writes it: 1 highest, 3 normal, 5
     * lowest. */
    switch (priority) {
    case NX_SMTP_MAIL_PRIORITY_HIGH:
        return "1";
    case NX_SMTP_MAIL_PRIORITY_LOW:
        return "5";
    default:
        return "3";
    }
}

/* The envelope's recipients: To, Cc, then the blind copies.  Returns the
 * count, or 0 when there is none, one too many, or one that cannot go on
 * the wire. */
static size_t rcpts_fill(smtpc_rcpt *r, const smtpc_mime_message *m,
                         CHAR **bcc, UINT bcc_count)
{
    size_t n = 0, i;
    size_t total = m->to_count + m->cc_count + bcc_count;

    if (total == 0 || total > NX_SMTP_CLIENT_MIME_MAX_RECIPIENTS)
        return 0;
    memset(r, 0, total * sizeof *r);
    for (i = 0; i < m->to_count; i++)
        r[n++].address = m->to[i].address;
    for (i = 0; i < m->cc_count; i++)
        r[n++].address = m->cc[i].address;
    for (i = 0; i < bcc_count; i++)
        r[n++].address = bcc[i];
    for (i = 0; i < n; i++)
        if (r[i].address == NULL ||
            smtpc_check_address(r[i].address, 0) != SMTPC_OK)
            return 0;
    return n;
}

/* One session: open, the writer prepared for what the server offers
 * (mm->flags replaced), the mail, QUIT.  The result goes into
 * st->result. */
static void session_run(NX_SMTP_CLIENT *c, smtpc_mime_writer *w,
                        smtpc_mime_message *mm, int *writer_failed)
{
    smtpc_compat_state *st = SMTPC_COMPAT(c);
    smtpc_mime_source src;
    smtpc_body_source body;
    uint64_t size;
    uint32_t caps;
    int rc, phase = SMTPC_PHASE_NONE;

    rc = smtpc_client_open(&st->client);
    if (rc != SMTPC_OK) {
        (void)smtpc_client_error(&st->client, &phase);
        st->result.status = rc;
        st->result.phase = phase;
        st->result.reply = *smtpc_last_reply(smtpc_client_session(&st->client));
        (void)smtpc_client_close(&st->client);
        return;
    }
    /* The server's extensions decide 8bit parts and UTF-8 header values. */
    caps = smtpc_session_caps(smtpc_client_session(&st->client))->flags;
    mm->flags = 0;
    if (caps & SMTPC_CAP_8BITMIME)
        mm->flags |= SMTPC_MIME_8BITMIME;
    if (caps & SMTPC_CAP_SMTPUTF8)
        mm->flags |= SMTPC_MIME_SMTPUTF8;
    if (smtpc_mime_init(w, mm) != SMTPC_OK) {
        /* Only what the server lacks can fail here (the message passed
         * with both extensions before connecting). */
        st->result.status = SMTPC_ERR_ARG;
        st->result.phase = SMTPC_PHASE_MAIL;
        (void)smtpc_client_close(&st->client);
        return;
    }
    size = smtpc_mime_size(w);
    st->envelope.size = size == SMTPC_MIME_SIZE_UNKNOWN ? 0 : size;
    st->envelope.flags = smtpc_mime_mail_flags(w);
    body = smtpc_mime_body_source(&src, w, st->mail.tail, sizeof st->mail.tail);
    (void)smtpc_client_send(&st->client, &st->envelope, &body, &st->result);
    *writer_failed = smtpc_mime_status(w) < 0;
    (void)smtpc_client_close(&st->client);
}

UINT nx_smtp_mail_send_mime(NX_SMTP_CLIENT *client_ptr,
                            const smtpc_mime_message *message, UINT priority,
                            CHAR **bcc_addresses, UINT bcc_count)
{
    smtpc_compat_state *st;
    smtpc_rcpt rcpts[NX_SMTP_CLIENT_MIME_MAX_RECIPIENTS];
    smtpc_mime_header headers[NX_SMTP_CLIENT_MIME_MAX_HEADERS + 1];
    smtpc_mime_addr from;
    smtpc_mime_message m;
    smtpc_mime_writer w;
    smtpc_transport t;
    char date[SMTPC_MIME_DATE_LEN];
    char msgid[24 + NX_SMTP_CLIENT_MAX_USERNAME];
    unsigned char entropy[8];
    uint32_t e;
    int64_t now = 0;
    size_t nrcpt;
    int rc, writer_failed = 0;
    UINT status;

#ifndef NX_SMTP_DISABLE_ERROR_CHECKING
    if (client_ptr == NULL || message == NULL ||
        (bcc_count != 0 && bcc_addresses == NULL))
        return NX_PTR_ERROR;
#endif
    if (client_ptr->nx_smtp_client_id != NX_SMTP_CLIENT_ID ||
        client_ptr->nx_smtp_client_init_status == 0)
        return NX_SMTP_CLIENT_NOT_INTIALIZED;
    st = SMTPC_COMPAT(client_ptr);
    if (message->header_count > NX_SMTP_CLIENT_MIME_MAX_HEADERS ||
        smtpc_check_address(client_ptr->nx_smtp_client_from_address, 0) !=
            SMTPC_OK)
        return NX_SMTP_INVALID_PARAM;
    nrcpt = rcpts_fill(rcpts, message, bcc_addresses, bcc_count);
    if (nrcpt == 0)
        return NX_SMTP_INVALID_PARAM;

    /* The message as given, completed with what nx_smtp_mail_send adds:
     * From (the client's address), Date, Message-ID, X-Priority. */
    m = *message;
    if (m.from == NULL) {
        from.name = NULL;
        from.address = client_ptr->nx_smtp_client_from_address;
        m.from = &from;
    }
    if (m.date == NULL && smtpc_compat_clock_read(client_ptr, &now) &&
        smtpc_compat_date_format(now, date, sizeof date) != 0)
        m.date = date;
    e = smtpc_compat_entropy_read(client_ptr);
    if (m.message_id == NULL) {
        if (!message_id(client_ptr, now, e, msgid, sizeof msgid))
            return NX_SMTP_INVALID_PARAM;
        m.message_id = msgid;
    }
    headers[0].name = "X-Priority";
    headers[0].value = priority_value(priority);
    if (m.header_count != 0)
        memcpy(headers + 1, m.headers, m.header_count * sizeof *headers);
    m.headers = headers;
    m.header_count++;
    /* Boundaries from the same entropy when the caller gave none: any
     * value is safe (smtpc/mime.h), these only make them differ. */
    if (m.entropy == NULL) {
        uint32_t e2 = smtpc_compat_entropy_read(client_ptr) ^ (uint32_t)now;
        int i;
        for (i = 0; i < 4; i++) {
            entropy[i] = (unsigned char)(e >> (8 * i));
            entropy[4 + i] = (unsigned char)(e2 >> (8 * i));
        }
        m.entropy = entropy;
        m.entropy_len = sizeof entropy;
    }
    /* Every check the writer makes, before anything is sent: with both
     * extensions allowed here, only what the server lacks can fail
     * after connecting. */
    m.flags |= SMTPC_MIME_8BITMIME | SMTPC_MIME_SMTPUTF8;
    if (smtpc_mime_init(&w, &m) != SMTPC_OK)
        return NX_SMTP_INVALID_PARAM;

    smtpc_compat_config_build(client_ptr);
    memset(&st->envelope, 0, sizeof st->envelope);
    st->envelope.from = client_ptr->nx_smtp_client_from_address;
    st->envelope.rcpts = rcpts;
    st->envelope.rcpt_count = nrcpt;
    memset(&st->result, 0, sizeof st->result);
    client_ptr->nx_smtp_client_reply_code_status = 0;

    t = smtpc_compat_transport_make(client_ptr);
    rc = SMTPC_OK;
    if (st->tls_mode != NX_SMTP_CLIENT_TLS_NONE) {
        if (st->tls_ops == NULL) {
            client_ptr->nx_smtp_client_mail_status = NX_SMTP_TLS_NOT_SUPPORTED;
            return NX_SMTP_TLS_NOT_SUPPORTED;
        }
        rc = st->tls_ops->wrap(client_ptr, &t);
        if (rc != SMTPC_OK) {
            st->result.status = rc;
            st->result.phase = SMTPC_PHASE_TLS;
        }
    }
    if (rc == SMTPC_OK) {
        rc = smtpc_client_init(&st->client, &st->config, t, st->buffer,
                               sizeof st->buffer);
        if (rc == SMTPC_OK)
            session_run(client_ptr, &w, &m, &writer_failed);
        else
            st->result.status = rc;
    }
    if (st->tls_mode != NX_SMTP_CLIENT_TLS_NONE)
        st->tls_ops->release(client_ptr);
    else
        t.ops->close(t.ctx);
    /* The buffer held the AUTH exchange. */
    smtpc_wipe(st->buffer, sizeof st->buffer);
    client_ptr->nx_smtp_client_reply_code_status = st->result.reply.code;
    if (writer_failed && st->result.status != SMTPC_OK)
        status = NX_SMTP_INTERNAL_ERROR; /* a content callback failed */
    else
        status = smtpc_compat_status_map(st->result.status, st->result.phase);
    client_ptr->nx_smtp_client_mail_status = status;
    return status;
}

#else
/* ISO C wants a translation unit to declare something. */
typedef int smtpc_compat_mime_unused;
#endif /* SMTPC_WITH_MIME */
