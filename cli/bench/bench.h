/*
 * cli/bench/bench.h - internal declarations of smtpc-bench, the load
 * generator.
 *
 * smtpc-bench uses only the library's public API (smtpc/smtpc.h, tls.h):
 * it is a client of the library like any other, so what it measures is
 * what a user of the library gets.  What it shares with smtpc (--server
 * and the other values, the option table) is in cli/common.  Each file
 * has one job: bench.c holds the option table, runs the sessions and
 * prints the result; bench_worker.c is
 * one session (a thread); bench_text.c makes the messages; bench_hist.c
 * keeps latencies in constant memory.
 */
#ifndef SMTPC_BENCH_H
#define SMTPC_BENCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cli_common.h"
#include "opt.h"

#define BENCH_NAME "smtpc-bench"

/* The body is produced by repeating one block of text: memory stays this
 * size whatever --size is (the engine's memory is constant too, so
 * max_rss_kb in the result shows both). */
#define BENCH_BLOCK_SIZE (1024u * 1024u)

/* Room for one message's header section. */
#define BENCH_HDR_MAX 1024u

/* Default client I/O buffer: as large as the smtpc tool's. */
#define BENCH_IO_BUF (64u * 1024u)

/* ---- bench_hist.c: latencies in microseconds, log-linear buckets ---- */

/* 64 exact buckets below 64 us, then 64 per power of two: any value is
 * reported within 1/64 (1.6 %) of itself, in a few KiB, whatever the
 * number of samples. */
#define BENCH_HIST_SUB 64u
#define BENCH_HIST_BUCKETS (BENCH_HIST_SUB + 58u * BENCH_HIST_SUB)

typedef struct bench_hist {
    uint64_t count;
    uint64_t max_us;
    uint64_t min_us;
    uint64_t sum_us;
    uint64_t bucket[BENCH_HIST_BUCKETS];
} bench_hist;

void bench_hist_init(bench_hist *h);
void bench_hist_add(bench_hist *h, uint64_t us);
void bench_hist_merge(bench_hist *into, const bench_hist *from);
/* The value at quantile q (0..1) in microseconds; 0 when empty. */
double bench_hist_quantile(const bench_hist *h, double q);

/* ---- bench_text.c: message content ---- */

/* Fills buf with English-like text: words of varying length in lines of
 * at most 76 characters ended by CRLF, blank lines between paragraphs, and
 * now and then a line that starts with "." (so DATA must dot-stuff).  The
 * same seed gives the same text. */
void bench_text_fill(unsigned char *buf, size_t len, uint64_t seed);

/* Writes the header section of message number seq (and the blank line
 * that ends it) into buf; returns its length, or 0 if it does not fit. */
size_t bench_headers_make(char *buf, size_t cap, const char *from,
                          const char *to, unsigned session, uint64_t seq,
                          uint64_t body_size);

/* ---- bench_worker.c: one session ---- */

typedef struct bench_opts {
    const char *server;        /* --server as given */
    const char *password_env;  /* --password-env VAR */
    const char *host;          /* allocated by the parser */
    uint16_t port;
    uint64_t messages;         /* N */
    unsigned sessions;         /* S */
    uint64_t per_connection;   /* K; 0: one connection per session */
    uint64_t size;             /* body bytes, headers not included */
    unsigned recipients;       /* R */
    const char *from;
    const char *to;
    const char *ehlo;
    unsigned session_options;  /* SMTPC_OPT_* */
    int tls;                   /* smtpc_tls_mode */
    const char *cafile;
    int insecure;
    const char *user;
    const char *password;      /* from --password-env */
    uint32_t timeout_ms;       /* 0: RFC 5321 defaults */
    size_t io_buf;
    int json_only;
    int trace;                 /* --trace: the dialogue on stderr */
    int quickack;              /* --quickack: TCP_QUICKACK experiment */
    int tls_resume;            /* --tls-resume: one TLS session per session,
                                  offered on each new connection */
    int print_message;         /* --print-message: write one and exit */
} bench_opts;

/* What every session shares: read-only options and text, and counters the
 * progress line reads while sessions run. */
typedef struct bench_shared {
    const bench_opts *opts;
    const unsigned char *block;   /* BENCH_BLOCK_SIZE bytes of text */
    size_t block_len;
    /* messages finished and failed so far, for the progress line */
    _Atomic uint64_t done;
    _Atomic uint64_t failed;
} bench_shared;

/* One session's own state and its results. */
typedef struct bench_worker {
    bench_shared *shared;
    unsigned index;
    uint64_t trace_t0;            /* --trace times are relative to this */
    uint64_t share;               /* messages this session sends */
    /* results */
    uint64_t sent_ok;
    uint64_t failed;
    uint64_t bytes_ok;            /* header + body bytes of accepted mail */
    uint64_t connections;
    uint64_t connect_failures;
    uint64_t resumed;             /* connections whose TLS handshake resumed */
    int used_pipelining;          /* -1 unknown; else 1 when every session had it */
    int used_chunking;
    uint32_t caps;                /* SMTPC_CAP_* of the last EHLO */
    bench_hist latency;           /* per message: smtpc_client_send */
    bench_hist setup;             /* per connection: smtpc_client_open */
    int first_status;             /* first failure, SMTPC_OK if none */
    int first_phase;
    smtpc_reply first_reply;
} bench_worker;

/* Runs one session to the end of its share (a pthread start routine). */
void *bench_worker_run(void *arg);

/* Monotonic time in microseconds. */
uint64_t bench_now_us(void);

#endif /* SMTPC_BENCH_H */
