/*
 * cli/bench/bench.c - smtpc-bench: a load generator like Postfix's
 * smtp-source, built on the smtpc library.
 *
 *   smtpc-bench --server 127.0.0.1:2525 --messages 10000 --sessions 4 \
 *               --per-connection 1000 --size 2048 --recipients 1
 *
 * S sessions run in parallel (one thread each, one smtpc_client each),
 * each sending its share of the N messages, K per connection.  Messages
 * are made in memory.  While it runs, a progress line goes to stderr when
 * stderr is a terminal; at the end one JSON object, on one line, goes to
 * stdout.  Exit status: 0 when every message was accepted, 1 when any
 * failed, 64 (EX_USAGE) for bad options, 71 (EX_OSERR) when the system
 * refuses memory or threads.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define BENCH_SESSIONS_MAX 1024u
#define BENCH_RECIPIENTS_MAX 10000u
#define BENCH_PROGRESS_US 250000u

/* HOST, HOST:PORT, [V6], [V6]:PORT or a bare IPv6 literal, as smtpc takes
 * them, the port defaulting as smtpc's does for the TLS mode.  A name
 * must resolve: a load generator measures sessions, and a run whose every
 * connection fails to resolve measures nothing.  *host is allocated. */
static int parse_server(const char *arg, int tls, char **host, uint16_t *port)
{
    struct addrinfo hints, *res = NULL;

    if (cli_split_server(arg, host, port) != 0)
        return -1;
    if (*port == 0)
        *port = cli_default_port(tls);
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(*host, NULL, &hints, &res) != 0) {
        free(*host);
        *host = NULL;
        return -1;
    }
    freeaddrinfo(res);
    return 0;
}

/* "invalid --NAME 'value'": 0 is never returned, so that a check can
 * return it. */
static int bad(const cli_opt *o, const char *value)
{
    fprintf(stderr, BENCH_NAME ": invalid --%s '", o->name);
    cli_put_escaped(stderr, value);
    fputs("' (see --help)\n", stderr);
    return -1;
}

static void generic_error(cli_optparse *p, int err, const char *what)
{
    (void)p;
    fputs(BENCH_NAME ": ", stderr);
    if (err == CLI_OPTERR_NEEDS_VALUE) {
        cli_put_escaped(stderr, what);
        fputs(" needs a value\n", stderr);
    } else {
        fputs("unknown option '", stderr);
        cli_put_escaped(stderr, what);
        fputs("' (see --help)\n", stderr);
    }
}

#define OPTS(p) ((bench_opts *)(p)->target)

/* A count from min to max, with k, M, G suffixes when suffixes is set. */
static int count(const cli_opt *o, const char *v, int suffixes, uint64_t min,
                 uint64_t max, uint64_t *out)
{
    if (cli_parse_count(v, suffixes, out) != 0 || *out < min || *out > max)
        return bad(o, v);
    return 0;
}

static int set_messages(cli_optparse *p, const cli_opt *o, const char *v)
{
    return count(o, v, 0, 1, UINT64_MAX, &OPTS(p)->messages);
}

/* A count from 1 to max that an unsigned holds. */
static int set_unsigned(const cli_opt *o, const char *v, uint64_t max,
                        unsigned *out)
{
    uint64_t n;

    if (count(o, v, 0, 1, max, &n) != 0)
        return -1;
    *out = (unsigned)n;
    return 0;
}

static int set_sessions(cli_optparse *p, const cli_opt *o, const char *v)
{
    return set_unsigned(o, v, BENCH_SESSIONS_MAX, &OPTS(p)->sessions);
}

static int set_per_connection(cli_optparse *p, const cli_opt *o,
                              const char *v)
{
    return count(o, v, 0, 0, UINT64_MAX, &OPTS(p)->per_connection);
}

static int set_size(cli_optparse *p, const cli_opt *o, const char *v)
{
    return count(o, v, 1, 0, UINT64_MAX, &OPTS(p)->size);
}

static int set_recipients(cli_optparse *p, const cli_opt *o, const char *v)
{
    return set_unsigned(o, v, BENCH_RECIPIENTS_MAX, &OPTS(p)->recipients);
}

static int set_buffer(cli_optparse *p, const cli_opt *o, const char *v)
{
    uint64_t n;

    if (count(o, v, 1, SMTPC_IO_MIN, 1u << 30, &n) != 0)
        return -1;
    OPTS(p)->io_buf = (size_t)n;
    return 0;
}

static int set_timeout(cli_optparse *p, const cli_opt *o, const char *v)
{
    uint32_t secs;

    if (cli_parse_seconds(v, &secs) != 0)
        return bad(o, v);
    OPTS(p)->timeout_ms = secs * 1000u;
    return 0;
}

static int set_tls(cli_optparse *p, const cli_opt *o, const char *v)
{
    if (cli_parse_tls(v, CLI_TLSW_NONE | CLI_TLSW_STARTTLS |
                      CLI_TLSW_IMPLICIT | CLI_TLSW_OPPORTUNISTIC,
                      &OPTS(p)->tls) != 0)
        return bad(o, v);
    return 0;
}

/* --from (may be empty: the null reverse-path) and --to. */
static int check_address(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)p;
    if (smtpc_check_address(v, strcmp(o->name, "from") == 0) != SMTPC_OK)
        return bad(o, v);
    return 0;
}

static int check_ehlo(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)p;
    return smtpc_check_domain(v) == SMTPC_OK ? 0 : bad(o, v);
}

static int check_user(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)p;
    return smtpc_check_text(v, SMTPC_SECRET_MAX) == SMTPC_OK ? 0 : bad(o, v);
}

static void usage(FILE *f);

static int show_help(cli_optparse *p, const cli_opt *o, const char *v)
{
    (void)p, (void)o, (void)v;
    usage(stdout);
    return CLI_OPT_STOP;
}

/* The options, in --help's order (opt.h: name, short, kind, flags, target,
 * bits, check, value name, help). */
#define OFF(field) offsetof(bench_opts, field)
#define S CLI_OPT_STRING
#define CALL CLI_OPT_CALL, CLI_OPTF_VALUE, 0, 0

static const cli_opt bench_options[] = {
{"server", 0, S, 0, OFF(server), 0, NULL, "HOST[:PORT]",
 "server name, IPv4, [IPv6] or [IPv6]:PORT, as\nsmtpc takes it; the port defaults to 25 (465\nwith --tls implicit, 587 with starttls or\nopportunistic); required", NULL},
{"messages", 0, CALL, set_messages, "N", "messages in all (default 1000)", NULL},
{"sessions", 0, CALL, set_sessions, "S",
 "sessions in parallel, one thread each (default 1)", NULL},
{"per-connection", 0, CALL, set_per_connection, "K",
 "messages per connection; 0 = all of a session's\nshare on one connection (default 0)", NULL},
{"size", 0, CALL, set_size, "BYTES",
 "body size, headers not included; suffixes k, M,\nG (x1024) (default 1024)", NULL},
{"recipients", 0, CALL, set_recipients, "R", "recipients per message (default 1)", NULL},
{"from", 0, S, 0, OFF(from), 0, check_address, "ADDR",
 "envelope sender (default bench@example.com)", NULL},
{"to", 0, S, 0, OFF(to), 0, check_address, "ADDR",
 "recipient; with R > 1 a number is put in front\n(default sink@example.net)", NULL},
{"ehlo", 0, S, 0, OFF(ehlo), 0, check_ehlo, "NAME", "EHLO name (default localhost)", NULL},
{"no-pipelining", 0, CLI_OPT_BITS, 0, OFF(session_options), SMTPC_OPT_NO_PIPELINING, NULL, NULL,
 "do not use PIPELINING even when offered", NULL},
{"no-chunking", 0, CLI_OPT_BITS, 0, OFF(session_options), SMTPC_OPT_NO_CHUNKING, NULL, NULL,
 "do not use CHUNKING (BDAT) even when offered", NULL},
{"tls", 0, CALL, set_tls, "MODE", "none (default), starttls, implicit, opportunistic", NULL},
{"cafile", 0, S, 0, OFF(cafile), 0, NULL, "FILE", "CA bundle to verify the server with", NULL},
{"insecure", 0, CLI_OPT_FLAG, 0, OFF(insecure), 0, NULL, NULL,
 "do not verify the server's certificate", NULL},
{"user", 0, S, 0, OFF(user), 0, check_user, "NAME", "authenticate as NAME", NULL},
{"password-env", 0, S, 0, OFF(password_env), 0, NULL, "VAR",
 "the password is in environment variable VAR", NULL},
{"timeout", 0, CALL, set_timeout, "SECONDS",
 "every protocol timeout (default RFC 5321's)", NULL},
{"buffer", 0, CALL, set_buffer, "BYTES", "client I/O buffer per session (default 64k)", NULL},
{"json-only", 0, CLI_OPT_FLAG, 0, OFF(json_only), 0, NULL, NULL,
 "no progress line and no summary on stderr", NULL},
{"trace", 0, CLI_OPT_FLAG, 0, OFF(trace), 0, NULL, NULL,
 "each piece sent and received on stderr, timed\n(sizes and first bytes only; secrets redacted)", NULL},
{"quickack", 0, CLI_OPT_FLAG, 0, OFF(quickack), 0, NULL, NULL,
 "experiment: acknowledge every received segment\nat once (Linux TCP_QUICKACK) through a wrapper\nof the TCP transport", NULL},
{"tls-resume", 0, CLI_OPT_FLAG, 0, OFF(tls_resume), 0, NULL, NULL,
 "keep each session's TLS session and resume it on\nits next connection (see \"resumed\"); with\n--tls starttls, STARTTLS then goes before EHLO", NULL},
{"print-message", 0, CLI_OPT_FLAG, 0, OFF(print_message), 0, NULL, NULL,
 "write message 1 (headers and body, CRLF) to\nstdout and exit: the same bytes for other\nclients (--server not needed)", NULL},
{"help", 'h', CLI_OPT_CALL, 0, 0, 0, show_help, NULL, "this help", NULL},
{NULL, 0, CLI_OPT_END, 0, 0, 0, NULL, NULL, NULL, NULL},
};
#undef OFF
#undef S
#undef CALL

static void usage(FILE *f)
{
    fputs("usage: " BENCH_NAME " --server HOST[:PORT] [options]\n"
          "\n"
          "Sends generated messages to an SMTP server as fast as it takes them\n"
          "and prints one JSON line with the result.\n"
          "\n", f);
    cli_opt_help(f, bench_options, 25);
    fputs("\n"
          "JSON fields: messages, failed, seconds, messages_per_second,\n"
          "bytes_per_second, latency_ms {p50,p90,p99,max} per message,\n"
          "setup_ms per connection, connections, pipelining, chunking,\n"
          "tls_resume, resumed (connections that resumed a TLS session),\n"
          "cpu_user_s, cpu_sys_s, max_rss_kb, first_error.\n"
          "Exit status: 0 all accepted, 1 some failed, 64 usage, 71 system error.\n",
          f);
}

static int parse_args(int argc, char **argv, bench_opts *o)
{
    cli_optparse p;
    int rc;

    memset(o, 0, sizeof *o);
    o->messages = 1000;
    o->sessions = 1;
    o->size = 1024;
    o->recipients = 1;
    o->from = "bench@example.com";
    o->to = "sink@example.net";
    o->io_buf = BENCH_IO_BUF;
    o->tls = SMTPC_TLS_NONE;

    cli_opt_init(&p, BENCH_NAME, bench_options, o, generic_error);
    rc = cli_opt_parse(&p, argc, argv);
    if (rc != 0)
        return rc == CLI_OPT_STOP ? -1 : EX_USAGE;
    if (optind != argc) {
        fprintf(stderr, BENCH_NAME ": unexpected argument '");
        cli_put_escaped(stderr, argv[optind]);
        fputs("'\n", stderr);
        return EX_USAGE;
    }
    /* After the options: the default port depends on --tls. */
    if (o->server != NULL &&
        parse_server(o->server, o->tls, (char **)&o->host, &o->port) != 0) {
        bad(cli_opt_find(bench_options, "server"), o->server);
        return EX_USAGE;
    }
    if (o->host == NULL && !o->print_message) {
        fprintf(stderr, BENCH_NAME ": --server HOST[:PORT] is required\n");
        return EX_USAGE;
    }
    if (o->sessions > o->messages)
        o->sessions = (unsigned)o->messages;
    if (o->password_env != NULL) {
        o->password = getenv(o->password_env);
        if (o->password == NULL) {
            fprintf(stderr, BENCH_NAME ": environment variable ");
            cli_put_escaped(stderr, o->password_env);
            fputs(" is not set\n", stderr);
            return EX_USAGE;
        }
    }
    if (o->password != NULL && o->user == NULL) {
        fprintf(stderr, BENCH_NAME ": --password-env needs --user\n");
        return EX_USAGE;
    }
#if !CLI_HAVE_TLS
    if (o->tls != SMTPC_TLS_NONE) {
        fprintf(stderr, BENCH_NAME ": built without TLS support\n");
        return EX_USAGE;
    }
#endif
    return 0;
}

static void json_hist(FILE *f, const char *name, const bench_hist *h)
{
    fprintf(f, "\"%s\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
               "\"max\":%.3f,\"mean\":%.3f}",
            name, bench_hist_quantile(h, 0.50) / 1000.0,
            bench_hist_quantile(h, 0.90) / 1000.0,
            bench_hist_quantile(h, 0.99) / 1000.0, (double)h->max_us / 1000.0,
            h->count ? (double)h->sum_us / (double)h->count / 1000.0 : 0.0);
}

/* "MAIL: rejected (550 5.1.1 text)" for the first failure. */
static void first_error(const bench_worker *w, unsigned n, char *buf,
                        size_t cap)
{
    unsigned i;

    buf[0] = '\0';
    for (i = 0; i < n; i++) {
        const bench_worker *x = &w[i];
        if (x->first_status == SMTPC_OK)
            continue;
        if (x->first_reply.code != 0)
            snprintf(buf, cap, "%s: %s (%u %.160s)", smtpc_phase_str(x->first_phase),
                     smtpc_status_str(x->first_status), x->first_reply.code,
                     x->first_reply.text);
        else
            snprintf(buf, cap, "%s: %s", smtpc_phase_str(x->first_phase),
                     smtpc_status_str(x->first_status));
        return;
    }
}

/* --print-message: the bytes a session hands the engine for message 1.
 * The body ends with a line end so that every client sends the same
 * bytes (the engine would add the CRLF a cut line lacks). */
static int print_message(const bench_opts *o, const unsigned char *block)
{
    char hdr[BENCH_HDR_MAX];
    size_t hl = bench_headers_make(hdr, sizeof hdr, o->from, o->to, 1, 1,
                                   o->size);
    uint64_t left = o->size;

    if (hl == 0 || fwrite(hdr, 1, hl, stdout) != hl)
        return EX_IOERR;
    while (left > 0) {
        size_t n = left < BENCH_BLOCK_SIZE ? (size_t)left : BENCH_BLOCK_SIZE;
        if (fwrite(block, 1, n, stdout) != n)
            return EX_IOERR;
        left -= n;
    }
    if (o->size > 0) {
        unsigned char last = block[(o->size - 1) % BENCH_BLOCK_SIZE];
        /* a cut after CR: the engine sends that CR as a line end */
        const char *end = last == '\n' ? "" : last == '\r' ? "\n" : "\r\n";
        if (fputs(end, stdout) == EOF)
            return EX_IOERR;
    }
    return fflush(stdout) == 0 ? 0 : EX_IOERR;
}

int main(int argc, char **argv)
{
    bench_opts o;
    bench_shared sh;
    bench_worker *w = NULL;
    pthread_t *th = NULL;
    unsigned char *block = NULL;
    bench_hist lat, setup;
    uint64_t t0, t1, ok = 0, failed = 0, bytes = 0, conns = 0, conn_fail = 0;
    uint64_t resumed = 0;
    int pipe_used = -1, chunk_used = -1, progress, rc;
    unsigned i, started = 0;
    double secs;
    struct rusage ru;
    char err[256];

    rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        free((char *)o.host);
        return rc < 0 ? 0 : rc;
    }
    progress = !o.json_only && !o.trace && isatty(STDERR_FILENO);

    block = malloc(BENCH_BLOCK_SIZE);
    w = calloc(o.sessions, sizeof *w);
    th = calloc(o.sessions, sizeof *th);
    if (block == NULL || w == NULL || th == NULL) {
        fprintf(stderr, BENCH_NAME ": out of memory\n");
        rc = EX_OSERR;
        goto out;
    }
    bench_text_fill(block, BENCH_BLOCK_SIZE, 1);
    if (o.print_message) {
        rc = print_message(&o, block);
        goto out;
    }
    memset(&sh, 0, sizeof sh);
    sh.opts = &o;
    sh.block = block;
    sh.block_len = BENCH_BLOCK_SIZE;
    atomic_init(&sh.done, 0);
    atomic_init(&sh.failed, 0);

    t0 = bench_now_us();
    for (i = 0; i < o.sessions; i++) {
        w[i].shared = &sh;
        w[i].index = i + 1;
        w[i].share = o.messages / o.sessions + (i < o.messages % o.sessions);
        if (pthread_create(&th[i], NULL, bench_worker_run, &w[i]) != 0) {
            fprintf(stderr, BENCH_NAME ": cannot start session %u\n", i + 1);
            break;
        }
        started++;
    }
    if (progress) {
        uint64_t last_t = t0, last_done = 0;
        for (;;) {
            uint64_t done = atomic_load(&sh.done);
            uint64_t now = bench_now_us();
            double rate = now > last_t
                ? (double)(done - last_done) * 1e6 / (double)(now - last_t) : 0;
            fprintf(stderr, "\r" BENCH_NAME ": %llu/%llu done, %llu failed, "
                    "%.0f msg/s   ", (unsigned long long)done,
                    (unsigned long long)o.messages,
                    (unsigned long long)atomic_load(&sh.failed), rate);
            if (done >= o.messages || started < o.sessions)
                break;
            last_t = now;
            last_done = done;
            usleep(BENCH_PROGRESS_US);
        }
        fputc('\n', stderr);
    }
    for (i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    t1 = bench_now_us();
    if (started < o.sessions) {
        rc = EX_OSERR;
        goto out;
    }

    bench_hist_init(&lat);
    bench_hist_init(&setup);
    for (i = 0; i < o.sessions; i++) {
        ok += w[i].sent_ok;
        failed += w[i].failed;
        bytes += w[i].bytes_ok;
        conns += w[i].connections;
        conn_fail += w[i].connect_failures;
        resumed += w[i].resumed;
        bench_hist_merge(&lat, &w[i].latency);
        bench_hist_merge(&setup, &w[i].setup);
        if (w[i].used_pipelining >= 0)
            pipe_used = pipe_used == 0 ? 0 : w[i].used_pipelining;
        if (w[i].used_chunking >= 0)
            chunk_used = chunk_used == 0 ? 0 : w[i].used_chunking;
    }
    secs = (double)(t1 - t0) / 1e6;
    if (secs <= 0)
        secs = 1e-6;
    memset(&ru, 0, sizeof ru);
    getrusage(RUSAGE_SELF, &ru);
    first_error(w, o.sessions, err, sizeof err);

    printf("{\"tool\":\"" BENCH_NAME "\",\"version\":\"" SMTPC_VERSION "\","
           "\"server\":");
    cli_json_string(stdout, o.host);
    printf(",\"port\":%u,\"messages\":%llu,\"accepted\":%llu,\"failed\":%llu,"
           "\"sessions\":%u,\"per_connection\":%llu,\"connections\":%llu,"
           "\"connect_failures\":%llu,\"size\":%llu,\"recipients\":%u,"
           "\"pipelining\":%s,\"chunking\":%s,\"tls\":\"%s\",\"quickack\":%s,"
           "\"seconds\":%.6f,\"messages_per_second\":%.1f,"
           "\"bytes\":%llu,\"bytes_per_second\":%.0f,",
           o.port, (unsigned long long)o.messages, (unsigned long long)ok,
           (unsigned long long)failed, o.sessions,
           (unsigned long long)o.per_connection, (unsigned long long)conns,
           (unsigned long long)conn_fail, (unsigned long long)o.size,
           o.recipients, pipe_used > 0 ? "true" : "false",
           chunk_used > 0 ? "true" : "false", cli_tls_name(o.tls),
           o.quickack ? "true" : "false", secs,
           (double)ok / secs, (unsigned long long)bytes, (double)bytes / secs);
    json_hist(stdout, "latency_ms", &lat);
    fputc(',', stdout);
    json_hist(stdout, "setup_ms", &setup);
    /* "resumed": connections whose TLS handshake resumed a session (only
     * --tls-resume offers one); CPU of this process, for what it saves. */
    printf(",\"tls_resume\":%s,\"resumed\":%llu,\"cpu_user_s\":%.3f,"
           "\"cpu_sys_s\":%.3f", o.tls_resume ? "true" : "false",
           (unsigned long long)resumed,
           (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    printf(",\"max_rss_kb\":%ld,\"first_error\":", ru.ru_maxrss);
    cli_json_string(stdout, err);
    printf("}\n");
    fflush(stdout);

    if (!o.json_only) {
        fprintf(stderr, BENCH_NAME ": %llu of %llu messages accepted in %.3f s: "
                "%.1f msg/s, %.2f MB/s, latency p50 %.3f ms p99 %.3f ms\n",
                (unsigned long long)ok, (unsigned long long)o.messages, secs,
                (double)ok / secs, (double)bytes / secs / 1e6,
                bench_hist_quantile(&lat, 0.5) / 1000.0,
                bench_hist_quantile(&lat, 0.99) / 1000.0);
        if (o.tls_resume)
            fprintf(stderr, BENCH_NAME ": TLS: %llu of %llu connections "
                    "resumed a session\n", (unsigned long long)resumed,
                    (unsigned long long)conns);
        if (err[0] != '\0')
            fprintf(stderr, BENCH_NAME ": first error: %s\n", err);
    }
    rc = failed != 0 ? 1 : 0;

out:
    free(th);
    free(w);
    free(block);
    free((char *)o.host);
    return rc;
}
