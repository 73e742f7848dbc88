/*
 * cli/bench/bench_worker.c - one smtpc-bench session: a thread with its own
 * smtpc_client, sending its share of the messages, K per connection.
 *
 * The connection is reused the way a library user reuses it:
 * smtpc_client_open, smtpc_client_submit K times (each with
 * SMTPC_SUBMIT_MORE, the last with SMTPC_SUBMIT_LAST, so that with
 * PIPELINING each envelope follows the previous message in its group and
 * QUIT the last one).  A message's latency runs from its submit to the
 * return of the call in which its outcome was known (its own submit, the
 * next one, or the close); opening a connection is timed apart
 * ("setup").  A mail
 * that fails does not stop the session: when the connection survives it
 * goes on, and when it does not a new one is opened for the rest.
 *
 * The last reply and the capabilities are read from the client's session
 * with the engine's accessors (client.h has none of its own for them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "bench.h"
#include "smtpc/tls.h"

uint64_t bench_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The message as a body source: its headers, then the text block repeated
 * until the body has its size.  No copy of the message is ever made. */
typedef struct bench_msg {
    const unsigned char *hdr;
    size_t hdr_len;
    const unsigned char *block;
    size_t block_len;
    uint64_t body_left;
    int hdr_done;
} bench_msg;

static int bench_msg_next(void *ctx, const void **data, size_t *len)
{
    bench_msg *m = (bench_msg *)ctx;

    if (!m->hdr_done) {
        m->hdr_done = 1;
        *data = m->hdr;
        *len = m->hdr_len;
        return SMTPC_OK;
    }
    if (m->body_left == 0) {
        *data = NULL;
        *len = 0;
        return SMTPC_OK;
    }
    *data = m->block;
    *len = m->body_left < m->block_len ? (size_t)m->body_left : m->block_len;
    m->body_left -= *len;
    return SMTPC_OK;
}

/*
 * --quickack (an experiment, Linux only): the TCP transport with
 * TCP_QUICKACK re-armed around every receive and wait, so that this side
 * acknowledges at once instead of after the delayed-ACK timer (40 ms).  A
 * server that writes its replies with Nagle on (Postfix's smtpd does) holds
 * a second small reply until the first is acknowledged: after a body sent
 * in several BDAT chunks the last reply then waits for our delayed ACK.
 * Wrapping the transport table keeps this outside the library.
 */
typedef struct bench_quickack {
    smtpc_transport inner;
    smtpc_tcp *tcp;
} bench_quickack;

static void quickack_arm(const bench_quickack *q)
{
#ifdef TCP_QUICKACK
    int one = 1;
    if (q->tcp->fd >= 0)
        (void)setsockopt(q->tcp->fd, IPPROTO_TCP, TCP_QUICKACK, &one,
                         sizeof one);
#else
    (void)q;
#endif
}

static int qa_connect(void *ctx, const char *host, uint16_t port,
                      uint32_t timeout_ms)
{
    bench_quickack *q = ctx;
    int r = q->inner.ops->connect(q->inner.ctx, host, port, timeout_ms);
    quickack_arm(q);
    return r;
}

static long qa_send(void *ctx, const void *data, size_t len)
{
    bench_quickack *q = ctx;
    return q->inner.ops->send(q->inner.ctx, data, len);
}

static long qa_recv(void *ctx, void *buf, size_t len)
{
    bench_quickack *q = ctx;
    long n = q->inner.ops->recv(q->inner.ctx, buf, len);
    quickack_arm(q);
    return n;
}

static int qa_wait(void *ctx, unsigned events, uint32_t timeout_ms)
{
    bench_quickack *q = ctx;
    quickack_arm(q);
    return q->inner.ops->wait(q->inner.ctx, events, timeout_ms);
}

static int qa_start_tls(void *ctx, const char *host, uint32_t timeout_ms)
{
    bench_quickack *q = ctx;
    return q->inner.ops->start_tls(q->inner.ctx, host, timeout_ms);
}

static int qa_is_loopback(void *ctx)
{
    bench_quickack *q = ctx;
    return q->inner.ops->is_loopback(q->inner.ctx);
}

static uint64_t qa_now_ms(void *ctx)
{
    bench_quickack *q = ctx;
    return q->inner.ops->now_ms(q->inner.ctx);
}

static void qa_close(void *ctx)
{
    bench_quickack *q = ctx;
    q->inner.ops->close(q->inner.ctx);
}

static const smtpc_transport_ops quickack_ops = {
    qa_connect, qa_send, qa_recv, qa_wait, qa_start_tls, qa_is_loopback,
    qa_now_ms, qa_close};

/* A connection's transport: TCP, or TLS over TCP (made anew for each
 * connection, as in a new run of a tool: only the session storage of
 * --tls-resume crosses from one to the next). */
typedef struct bench_conn {
    smtpc_tcp tcp;
    bench_quickack qa;
#if CLI_HAVE_TLS
    smtpc_tls *tls;
#endif
} bench_conn;

static int conn_transport(bench_conn *bc, const bench_opts *o,
                          struct smtpc_tls_session *session,
                          smtpc_transport *out)
{
    smtpc_transport tcp = smtpc_tcp_transport(&bc->tcp);

    if (o->quickack) {
        bc->qa.inner = tcp;
        bc->qa.tcp = &bc->tcp;
        tcp.ops = &quickack_ops;
        tcp.ctx = &bc->qa;
    }
#if CLI_HAVE_TLS
    bc->tls = NULL;
    if (o->tls != SMTPC_TLS_NONE) {
        smtpc_tls_options topt;
        int r;

        memset(&topt, 0, sizeof topt);
        topt.cafile = o->cafile;
        topt.insecure_skip_verify = o->insecure;
        topt.session = session;
        r = smtpc_tls_new(&bc->tls, tcp, &topt);
        if (r != SMTPC_OK)
            return r;
        *out = smtpc_tls_transport(bc->tls);
        return SMTPC_OK;
    }
#else
    (void)session;
    if (o->tls != SMTPC_TLS_NONE)
        return SMTPC_ERR_UNSUPPORTED;
#endif
    *out = tcp;
    return SMTPC_OK;
}

/* Whether the connection's TLS handshake resumed a session. */
static int conn_resumed(const bench_conn *bc)
{
#if CLI_HAVE_TLS
    return bc->tls != NULL && smtpc_tls_session_reused(bc->tls);
#else
    (void)bc;
    return 0;
#endif
}

static void conn_free(bench_conn *bc)
{
#if CLI_HAVE_TLS
    smtpc_tls_free(bc->tls);
    bc->tls = NULL;
#else
    (void)bc;
#endif
}

/* --trace: one line per piece sent or received, with the time since the
 * session started, its size and its first bytes (a body piece is not
 * printed whole).  For finding where a round trip goes. */
static void bench_trace(void *ctx, int dir, const char *data, size_t len)
{
    const bench_worker *w = (const bench_worker *)ctx;
    char shown[96];
    size_t i, n = 0;

    for (i = 0; i < len && n + 4 < sizeof shown; i++) {
        unsigned char ch = (unsigned char)data[i];
        if (ch == '\r') {
            shown[n++] = '\\';
            shown[n++] = 'r';
        } else if (ch == '\n') {
            shown[n++] = '\\';
            shown[n++] = 'n';
        } else {
            shown[n++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '.';
        }
    }
    shown[n] = '\0';
    fprintf(stderr, "[s%u %10.3f ms] %s %6zu %s%s\n", w->index,
            (double)(bench_now_us() - w->trace_t0) / 1000.0,
            dir == SMTPC_TRACE_SENT ? ">" : dir == SMTPC_TRACE_RECEIVED ? "<" : "*",
            len, shown, i < len ? "..." : "");
}

static void note_failure(bench_worker *w, int status, int phase,
                         const smtpc_reply *reply)
{
    if (w->first_status != SMTPC_OK)
        return;
    w->first_status = status;
    w->first_phase = phase;
    if (reply != NULL)
        w->first_reply = *reply;
}

/* Counts n messages as failed without sending them (no connection). */
static void fail_messages(bench_worker *w, uint64_t n)
{
    w->failed += n;
    atomic_fetch_add_explicit(&w->shared->failed, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->shared->done, n, memory_order_relaxed);
}

/* Which extensions a mail on this session uses. */
static void note_caps(bench_worker *w, const smtpc_client *c,
                      const bench_opts *o)
{
    const smtpc_caps *caps = smtpc_session_caps(smtpc_client_session(c));
    int pipe = (caps->flags & SMTPC_CAP_PIPELINING) &&
               !(o->session_options & SMTPC_OPT_NO_PIPELINING);
    int chunk = (caps->flags & SMTPC_CAP_CHUNKING) &&
                !(o->session_options & SMTPC_OPT_NO_CHUNKING);

    w->caps = caps->flags;
    w->used_pipelining = w->used_pipelining == 0 ? 0 : pipe;
    w->used_chunking = w->used_chunking == 0 ? 0 : chunk;
}

/* One message's outcome, now that it is in. */
static void account(bench_worker *w, const smtpc_envelope *env,
                    uint64_t sent_at, uint64_t size)
{
    const smtpc_result *res = &env->result;

    bench_hist_add(&w->latency, bench_now_us() - sent_at);
    if (res->status == SMTPC_OK) {
        w->sent_ok++;
        w->bytes_ok += size;
    } else {
        w->failed++;
        atomic_fetch_add_explicit(&w->shared->failed, 1,
                                  memory_order_relaxed);
        note_failure(w, res->status, res->phase, &res->reply);
    }
    atomic_fetch_add_explicit(&w->shared->done, 1, memory_order_relaxed);
}

void *bench_worker_run(void *arg)
{
    bench_worker *w = (bench_worker *)arg;
    const bench_opts *o = w->shared->opts;
    smtpc_client_config cfg;
    smtpc_client client;
    smtpc_rcpt *rcpts = NULL, *rcpt_slot[2];
    char **addrs = NULL;
    unsigned char *io = NULL;
    struct smtpc_tls_session *session = NULL;
    char hdr[BENCH_HDR_MAX];
    uint64_t seq = 0;
    unsigned i;

    w->first_status = SMTPC_OK;
    w->used_pipelining = -1;
    w->used_chunking = -1;
    bench_hist_init(&w->latency);
    bench_hist_init(&w->setup);

    memset(&cfg, 0, sizeof cfg);
    cfg.host = o->host;
    cfg.port = o->port;
    cfg.session.ehlo_name = o->ehlo;
    cfg.session.tls = (unsigned)o->tls;
    cfg.session.options = o->session_options;
    if (o->user != NULL) {
        cfg.session.auth = SMTPC_AUTH_AUTO;
        cfg.session.username = o->user;
        cfg.session.password = o->password;
    } else {
        cfg.session.auth = SMTPC_AUTH_NONE;
    }
    if (o->timeout_ms != 0)
        smtpc_timeouts_default(&cfg.timeouts, o->timeout_ms);
    if (o->trace) {
        cfg.trace = bench_trace;
        cfg.trace_ctx = w;
        w->trace_t0 = bench_now_us();
    }

    io = malloc(o->io_buf);
    /* Two envelopes' recipients: a message may await its reply while
     * the next one goes out. */
    rcpts = calloc(2 * (size_t)o->recipients, sizeof *rcpts);
    addrs = calloc(o->recipients, sizeof *addrs);
#if CLI_HAVE_TLS
    /* --tls-resume: the session each connection offers and renews; it
     * stays in this thread. */
    if (o->tls_resume && o->tls != SMTPC_TLS_NONE)
        session = calloc(1, sizeof *session);
#endif
    if (io == NULL || rcpts == NULL || addrs == NULL ||
        (o->tls_resume && o->tls != SMTPC_TLS_NONE && session == NULL)) {
        note_failure(w, SMTPC_ERR_ARG, SMTPC_PHASE_NONE, NULL);
        fail_messages(w, w->share);
        goto out;
    }
    for (i = 0; i < o->recipients; i++) {
        if (o->recipients == 1) {
            addrs[i] = strdup(o->to);
        } else {
            /* like smtp-source -r: a number in front of the address */
            size_t n = strlen(o->to) + 16;
            addrs[i] = malloc(n);
            if (addrs[i] != NULL)
                snprintf(addrs[i], n, "%u%s", i + 1, o->to);
        }
        if (addrs[i] == NULL) {
            note_failure(w, SMTPC_ERR_ARG, SMTPC_PHASE_NONE, NULL);
            fail_messages(w, w->share);
            goto out;
        }
        rcpts[i].address = addrs[i];
        rcpts[o->recipients + i].address = addrs[i];
    }

    rcpt_slot[0] = rcpts;
    rcpt_slot[1] = rcpts + o->recipients;
    while (seq < w->share) {
        uint64_t k = o->per_connection ? o->per_connection : w->share;
        smtpc_envelope envs[2];
        uint64_t sent_at[2], size_of[2];
        int pending = -1;
        uint64_t j, t0;
        bench_conn bc;
        smtpc_transport tr;
        int r;

        if (k > w->share - seq)
            k = w->share - seq;
        r = conn_transport(&bc, o, session, &tr);
        if (r != SMTPC_OK) {
            note_failure(w, r, SMTPC_PHASE_CONNECT, NULL);
            fail_messages(w, w->share - seq);
            break;
        }
#if CLI_HAVE_TLS
        /* --tls-resume: once a session of this server is kept, STARTTLS
         * goes before EHLO, as smtpc does with --tls-session-cache. */
        cfg.session.options = o->session_options;
        if (bc.tls && o->tls == SMTPC_TLS_STARTTLS &&
            smtpc_tls_session_fits(bc.tls, o->host))
            cfg.session.options |= SMTPC_OPT_STARTTLS_FIRST;
#endif
        t0 = bench_now_us();
        r = smtpc_client_init(&client, &cfg, tr, io, o->io_buf);
        if (r == SMTPC_OK)
            r = smtpc_client_open(&client);
        bench_hist_add(&w->setup, bench_now_us() - t0);
        w->connections++;
        if (r != SMTPC_OK) {
            /* These messages are lost; the next connection may work. */
            int phase = SMTPC_PHASE_NONE;
            (void)smtpc_client_error(&client, &phase);
            note_failure(w, r, phase, smtpc_last_reply(smtpc_client_session(&client)));
            smtpc_client_close(&client);
            conn_free(&bc);
            w->connect_failures++;
            fail_messages(w, k);
            seq += k;
            continue;
        }
        note_caps(w, &client, o);
        w->resumed += (uint64_t)conn_resumed(&bc);
        for (j = 0; j < k; j++) {
            smtpc_envelope *env = &envs[j & 1];
            smtpc_body_source src;
            bench_msg m;
            size_t hl;

            hl = bench_headers_make(hdr, sizeof hdr, o->from, o->to, w->index,
                                    seq + 1, o->size);
            m.hdr = (const unsigned char *)hdr;
            m.hdr_len = hl;
            m.block = w->shared->block;
            m.block_len = w->shared->block_len;
            m.body_left = o->size;
            m.hdr_done = 0;
            src.next = bench_msg_next;
            src.ctx = &m;
            memset(env, 0, sizeof *env);
            env->from = o->from;
            env->rcpts = rcpt_slot[j & 1];
            env->rcpt_count = o->recipients;
            env->size = hl + o->size;
            size_of[j & 1] = hl + o->size;

            sent_at[j & 1] = bench_now_us();
            r = smtpc_client_submit(&client, env, &src,
                                    j + 1 < k ? SMTPC_SUBMIT_MORE
                                              : SMTPC_SUBMIT_LAST);
            seq++;
            /* The message before this one is answered by now. */
            if (pending >= 0)
                account(w, &envs[pending], sent_at[pending], size_of[pending]);
            pending = -1;
            if (r == SMTPC_ERR_PENDING)
                pending = (int)(j & 1);
            else
                account(w, env, sent_at[j & 1], size_of[j & 1]);
            if (!smtpc_client_ready(&client))
                break; /* the session is over: the rest on a new one */
        }
        r = smtpc_client_close(&client);
        if (pending >= 0)
            account(w, &envs[pending], sent_at[pending], size_of[pending]);
        if (r != SMTPC_OK && w->first_status == SMTPC_OK) {
            int phase = SMTPC_PHASE_NONE;
            (void)smtpc_client_error(&client, &phase);
            note_failure(w, r, phase, smtpc_last_reply(smtpc_client_session(&client)));
        }
        conn_free(&bc);
    }

out:
    if (addrs != NULL) {
        for (i = 0; i < o->recipients; i++)
            free(addrs[i]);
    }
    free(addrs);
    free(rcpts);
    free(io);
#if CLI_HAVE_TLS
    smtpc_tls_session_clear(session);
#endif
    free(session);
    return NULL;
}
