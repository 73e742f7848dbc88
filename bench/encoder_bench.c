/*
 * bench/encoder_bench.c - the engine's body encoder, in memory.
 *
 * A session is driven to WANT_BODY through the public API only, by feeding
 * it scripted server replies (greeting, EHLO, and for DATA the 250/250/354
 * of the pipelined envelope); then a large realistic text body is written
 * with smtpc_body_write while the send area is drained with smtpc_send_buf
 * and smtpc_send_ack, the bytes going nowhere.  No socket, no copy besides
 * the encoder's own: what is timed is the encoder (line-end scan, CRLF
 * normalisation, dot-stuffing or BDAT chunk sealing) and the driver calls
 * around it.
 *
 *   encoder_bench [--bytes N] [--buffer N] [--repeat N] [--only NAME]
 *   encoder_bench --sizes     the library's fixed memory, as JSON
 *
 * Variants (one JSON line each):
 *   data-crlf   DATA, text with CRLF line ends (dot-stuffing)
 *   data-lf     DATA, the same text with bare LF line ends (each one becomes
 *               CRLF)
 *   bdat-crlf   BDAT chunks (CHUNKING), CRLF text
 *   bdat-binary BDAT with BODY=BINARYMIME: bytes copied untouched
 *   memcpy      the same bytes copied by memcpy into a buffer the size of
 *               the send area: the ceiling for any encoder that copies
 * The figure reported is the best of --repeat runs, in input bytes per
 * second.  Built by bench/run.sh (or by hand, with the library's public
 * definitions, the -D flags of build/smtpc.pc, which size the session):
 *   cc -O2 $DEFS -Iinclude -Icli/bench -Icli/common bench/encoder_bench.c \
 *      cli/bench/bench_text.c build/libsmtpc.a -o build/encoder_bench
 * For instructions per byte run it under valgrind --tool=callgrind with
 * --toggle-collect=smtpc_body_write (see bench/run.sh).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

/* Input text: large enough that it does not sit in the CPU's caches. */
#define INPUT_SIZE (32u * 1024u * 1024u)

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int st)
{
    fprintf(stderr, "encoder_bench: %s: %s (state 0x%x)\n", what,
            smtpc_status_str(st), (unsigned)st);
    exit(1);
}

/* Everything pending goes "out". */
static size_t drain(smtpc_session *s)
{
    size_t len = 0, total = 0;
    const unsigned char *p;

    while ((p = smtpc_send_buf(s, &len)) != NULL && len != 0) {
        total += len;
        smtpc_send_ack(s, len);
    }
    return total;
}

static void feed(smtpc_session *s, const char *text)
{
    size_t len = strlen(text), n;

    while (len > 0) {
        n = smtpc_feed(s, text, len);
        if (n == 0) {
            if (drain(s) == 0)
                die("the engine refused a reply", smtpc_session_status(s));
            continue;
        }
        text += n;
        len -= n;
    }
}

typedef struct variant {
    const char *name;
    int chunking;
    int binary;
    int lf;
    int memcpy_only;
} variant;

typedef struct run_ctx {
    smtpc_config cfg;
    smtpc_session s;
    smtpc_rcpt rcpt;
    smtpc_envelope env;
    unsigned char *io;
    size_t io_len;
} run_ctx;

/* A session at WANT_BODY. */
static void session_ready(run_ctx *c, const variant *v)
{
    int r;

    memset(&c->cfg, 0, sizeof c->cfg);
    c->cfg.ehlo_name = "bench.example";
    c->cfg.options = SMTPC_OPT_PEER_LOOPBACK;
    r = smtpc_session_init(&c->s, &c->cfg, c->io, c->io_len);
    if (r != SMTPC_OK)
        die("smtpc_session_init", r);
    feed(&c->s, "220 bench ESMTP\r\n");
    drain(&c->s);
    if (v->chunking)
        feed(&c->s, "250-bench\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                    "250-BINARYMIME\r\n250 CHUNKING\r\n");
    else
        feed(&c->s, "250-bench\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
    if (!(smtpc_session_state(&c->s) & SMTPC_READY))
        die("not READY after EHLO", smtpc_session_status(&c->s));
    memset(&c->rcpt, 0, sizeof c->rcpt);
    c->rcpt.address = "sink@example.net";
    memset(&c->env, 0, sizeof c->env);
    c->env.from = "bench@example.com";
    c->env.rcpts = &c->rcpt;
    c->env.rcpt_count = 1;
    c->env.flags = v->binary ? SMTPC_MAIL_BINARYMIME : 0;
    r = smtpc_mail_begin(&c->s, &c->env);
    if (r != SMTPC_OK)
        die("smtpc_mail_begin", r);
    drain(&c->s);
    if (!v->chunking)
        feed(&c->s, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n");
    if (!(smtpc_session_state(&c->s) & SMTPC_WANT_BODY))
        die("no WANT_BODY", smtpc_session_status(&c->s));
}

/* Writes total bytes of in[] (repeated) as one message; returns seconds.
 * With CHUNKING every drain seals a chunk whose reply is fed back at once,
 * as a server would send it, so the pipeline never fills. */
static double run_engine(run_ctx *c, const variant *v, const unsigned char *in,
                         size_t in_len, uint64_t total, uint64_t *out_bytes)
{
    uint64_t left = total;
    size_t off = 0;
    unsigned awaited = v->chunking ? 2 : 0; /* MAIL, RCPT */
    uint64_t out = 0;
    double t0, t1;
    int r;

    session_ready(c, v);
    t0 = now_s();
    while (left > 0) {
        size_t want = in_len - off, n;
        if (want > left)
            want = (size_t)left;
        n = smtpc_body_write(&c->s, in + off, want);
        if (n == 0) {
            size_t d = drain(&c->s);
            if (d == 0)
                die("body stalled", smtpc_session_status(&c->s));
            out += d;
            if (v->chunking) {
                awaited++;
                /* a server answers each chunk; keep one reply pending */
                while (awaited > 1) {
                    feed(&c->s, awaited > 2 ? "250 2.1.0 Ok\r\n"
                                            : "250 2.0.0 Ok\r\n");
                    awaited--;
                }
            }
            continue;
        }
        off += n;
        if (off == in_len)
            off = 0;
        left -= n;
    }
    while ((r = smtpc_body_end(&c->s)) == SMTPC_ERR_BUFFER)
        out += drain(&c->s);
    if (r != SMTPC_OK)
        die("smtpc_body_end", r);
    out += drain(&c->s);
    t1 = now_s();
    /* the rest of the replies, one at a time until the mail is over: it
     * must end accepted */
    for (awaited = 0; awaited < 1000u &&
                      !(smtpc_session_state(&c->s) & SMTPC_READY);
         awaited++)
        feed(&c->s, "250 2.0.0 Ok\r\n");
    if (!(smtpc_session_state(&c->s) & SMTPC_READY) ||
        smtpc_mail_status(&c->s) != SMTPC_OK)
        die("mail not accepted", smtpc_mail_status(&c->s));
    *out_bytes = out;
    return t1 - t0;
}

static double run_memcpy(unsigned char *area, size_t area_len,
                         const unsigned char *in, size_t in_len,
                         uint64_t total, uint64_t *out_bytes)
{
    uint64_t left = total;
    size_t off = 0;
    volatile unsigned char sink = 0;
    double t0 = now_s(), t1;

    while (left > 0) {
        size_t n = in_len - off;
        if (n > area_len)
            n = area_len;
        if (n > left)
            n = (size_t)left;
        memcpy(area, in + off, n);
        sink ^= area[n - 1];
        off += n;
        if (off == in_len)
            off = 0;
        left -= n;
    }
    t1 = now_s();
    (void)sink;
    *out_bytes = total;
    return t1 - t0;
}

static uint64_t arg_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);

    switch (*end) {
    case 'k': case 'K': v *= 1024u; break;
    case 'm': case 'M': v *= 1024u * 1024u; break;
    case 'g': case 'G': v *= 1024u * 1024u * 1024u; break;
    default: break;
    }
    return (uint64_t)v;
}

int main(int argc, char **argv)
{
    static const variant variants[] = {
        {"data-crlf", 0, 0, 0, 0},   {"data-lf", 0, 0, 1, 0},
        {"bdat-crlf", 1, 0, 0, 0},   {"bdat-binary", 1, 1, 0, 0},
        {"memcpy", 0, 0, 0, 1}};
    uint64_t total = 1024ull * 1024u * 1024u;
    size_t buf = BENCH_IO_BUF;
    unsigned repeat = 3, i, k;
    const char *only = NULL;
    unsigned char *crlf, *lf;
    size_t lf_len = 0, j;
    run_ctx c;

    for (i = 1; i < (unsigned)argc; i++) {
        if (strcmp(argv[i], "--bytes") == 0 && i + 1 < (unsigned)argc)
            total = arg_size(argv[++i]);
        else if (strcmp(argv[i], "--buffer") == 0 && i + 1 < (unsigned)argc)
            buf = (size_t)arg_size(argv[++i]);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < (unsigned)argc)
            repeat = (unsigned)arg_size(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < (unsigned)argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--sizes") == 0) {
            /* Everything a session needs besides the caller's I/O buffer
             * (SMTPC_IO_MIN at least): the same for any message size and
             * any number of messages. */
            printf("{\"sizeof_session\":%zu,\"sizeof_client\":%zu,"
                   "\"sizeof_tcp\":%zu,\"io_min\":%u,\"line_max\":%u,"
                   "\"pipeline_max\":%u}\n",
                   sizeof(smtpc_session), sizeof(smtpc_client),
                   sizeof(smtpc_tcp), (unsigned)SMTPC_IO_MIN,
                   (unsigned)SMTPC_LINE_MAX, (unsigned)SMTPC_PIPELINE_MAX);
            return 0;
        }
        else {
            fprintf(stderr, "usage: encoder_bench [--bytes N] [--buffer N] "
                            "[--repeat N] [--only VARIANT]\n");
            return 64;
        }
    }
    if (total == 0 || buf < SMTPC_IO_MIN || repeat == 0) {
        fprintf(stderr, "encoder_bench: bad --bytes, --buffer or --repeat\n");
        return 64;
    }

    crlf = malloc(INPUT_SIZE);
    lf = malloc(INPUT_SIZE);
    c.io = malloc(buf);
    c.io_len = buf;
    if (crlf == NULL || lf == NULL || c.io == NULL) {
        fprintf(stderr, "encoder_bench: out of memory\n");
        return 71;
    }
    bench_text_fill(crlf, INPUT_SIZE, 1);
    for (j = 0; j < INPUT_SIZE; j++) {
        if (crlf[j] != '\r')
            lf[lf_len++] = crlf[j];
    }

    for (i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        const variant *v = &variants[i];
        const unsigned char *in = v->lf ? lf : crlf;
        size_t in_len = v->lf ? lf_len : INPUT_SIZE;
        double best = 0;
        uint64_t out = 0;

        if (only != NULL && strcmp(only, v->name) != 0)
            continue;
        for (k = 0; k < repeat; k++) {
            double t;
            if (v->memcpy_only)
                t = run_memcpy(c.io, buf - SMTPC_LINE_MAX, in, in_len, total,
                               &out);
            else
                t = run_engine(&c, v, in, in_len, total, &out);
            if (best == 0 || t < best)
                best = t;
        }
        printf("{\"variant\":\"%s\",\"input_bytes\":%llu,\"output_bytes\":%llu,"
               "\"buffer\":%zu,\"seconds\":%.6f,\"bytes_per_second\":%.0f,"
               "\"gb_per_second\":%.3f}\n",
               v->name, (unsigned long long)total, (unsigned long long)out, buf,
               best, (double)total / best, (double)total / best / 1e9);
        fflush(stdout);
    }
    free(crlf);
    free(lf);
    free(c.io);
    return 0;
}
