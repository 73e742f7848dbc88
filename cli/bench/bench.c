/*
 * cli/bench/bench.c - smtpc-bench: a load generator like Postfix's smtp-source,
 * built on the smtpc library.
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

static void usage(FILE *f)
{
    fprintf(f,
        "usage: " BENCH_NAME " --server HOST[:PORT] [options]\n"
        "\n"
        "Sends generated messages to an SMTP server as fast as it takes them\n"
        "and prints one JSON line with the result.\n"
        "\n"
        "  --server HOST[:PORT]   server name, IPv4, [IPv6] or [IPv6]:PORT, as\n"
        "                         smtpc takes it; the port defaults to 25 (465\n"
        "                         with --tls implicit, 587 with starttls or\n"
        "                         opportunistic); required\n"
        "  --messages N           messages in all (default 1000)\n"
        "  --sessions S           sessions in parallel, one thread each (default 1)\n"
        "  --per-connection K     messages per connection; 0 = all of a session's\n"
        "                         share on one connection (default 0)\n"
        "  --size BYTES           body size, headers not included; suffixes k, M,\n"
        "                         G (x1024) (default 1024)\n"
        "  --recipients R         recipients per message (default 1)\n"
        "  --from ADDR            envelope sender (default bench@example.com)\n"
        "  --to ADDR              recipient; with R > 1 a number is put in front\n"
        "                         (default sink@example.net)\n"
        "  --ehlo NAME            EHLO name (default localhost)\n"
        "  --no-pipelining        do not use PIPELINING even when offered\n"
        "  --no-chunking          do not use CHUNKING (BDAT) even when offered\n"
        "  --tls MODE             none (default), starttls, implicit, opportunistic\n"
        "  --cafile FILE          CA bundle to verify the server with\n"
        "  --insecure             do not verify the server's certificate\n"
        "  --user NAME            authenticate as NAME\n"
        "  --password-env VAR     the password is in environment variable VAR\n"
        "  --timeout SECONDS      every protocol timeout (default RFC 5321's)\n"
        "  --buffer BYTES         client I/O buffer per session (default 64k)\n"
        "  --json-only            no progress line and no summary on stderr\n"
        "  --trace                each piece sent and received on stderr, timed\n"
        "                         (sizes and first bytes only; secrets redacted)\n"
        "  --quickack             experiment: acknowledge every received segment\n"
        "                         at once (Linux TCP_QUICKACK) through a wrapper\n"
        "                         of the TCP transport\n"
        "  --print-message        write message 1 (headers and body, CRLF) to\n"
        "                         stdout and exit: the same bytes for other\n"
        "                         clients (--server not needed)\n"
        "  -h, --help             this help\n"
        "\n"
        "JSON fields: messages, failed, seconds, messages_per_second,\n"
        "bytes_per_second, latency_ms {p50,p90,p99,max} per message,\n"
        "setup_ms per connection, connections, pipelining, chunking,\n"
        "max_rss_kb, first_error.\n"
        "Exit status: 0 all accepted, 1 some failed, 64 usage, 71 system error.\n");
}

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

static int bad(const char *what, const char *value)
{
    fprintf(stderr, BENCH_NAME ": invalid %s '%s' (see --help)\n", what,
            value ? value : "");
    return EX_USAGE;
}

enum {
    O_SERVER = 256, O_MESSAGES, O_SESSIONS, O_PER_CONN, O_SIZE, O_RCPTS,
    O_FROM, O_TO, O_EHLO, O_NO_PIPE, O_NO_CHUNK, O_TLS, O_CAFILE,
    O_INSECURE, O_USER, O_PASSWORD_ENV, O_TIMEOUT, O_BUFFER, O_JSON_ONLY, O_TRACE, O_QUICKACK, O_PRINT_MESSAGE
};

static int parse_args(int argc, char **argv, bench_opts *o)
{
    static const struct option long_opts[] = {
        {"server", required_argument, NULL, O_SERVER},
        {"messages", required_argument, NULL, O_MESSAGES},
        {"sessions", required_argument, NULL, O_SESSIONS},
        {"per-connection", required_argument, NULL, O_PER_CONN},
        {"size", required_argument, NULL, O_SIZE},
        {"recipients", required_argument, NULL, O_RCPTS},
        {"from", required_argument, NULL, O_FROM},
        {"to", required_argument, NULL, O_TO},
        {"ehlo", required_argument, NULL, O_EHLO},
        {"no-pipelining", no_argument, NULL, O_NO_PIPE},
        {"no-chunking", no_argument, NULL, O_NO_CHUNK},
        {"tls", required_argument, NULL, O_TLS},
        {"cafile", required_argument, NULL, O_CAFILE},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"user", required_argument, NULL, O_USER},
        {"password-env", required_argument, NULL, O_PASSWORD_ENV},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"buffer", required_argument, NULL, O_BUFFER},
        {"json-only", no_argument, NULL, O_JSON_ONLY},
        {"trace", no_argument, NULL, O_TRACE},
        {"quickack", no_argument, NULL, O_QUICKACK},
        {"print-message", no_argument, NULL, O_PRINT_MESSAGE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *password_env = NULL, *server = NULL;
    uint64_t v;
    uint32_t secs;
    int c;

    memset(o, 0, sizeof *o);
    o->messages = 1000;
    o->sessions = 1;
    o->size = 1024;
    o->recipients = 1;
    o->from = "bench@example.com";
    o->to = "sink@example.net";
    o->io_buf = BENCH_IO_BUF;
    o->tls = SMTPC_TLS_NONE;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        switch (c) {
        case O_SERVER:
            server = optarg;
            break;
        case O_MESSAGES:
            if (cli_parse_count(optarg, 0, &o->messages) != 0 || o->messages == 0)
                return bad("--messages", optarg);
            break;
        case O_SESSIONS:
            if (cli_parse_count(optarg, 0, &v) != 0 || v == 0 ||
                v > BENCH_SESSIONS_MAX)
                return bad("--sessions", optarg);
            o->sessions = (unsigned)v;
            break;
        case O_PER_CONN:
            if (cli_parse_count(optarg, 0, &o->per_connection) != 0)
                return bad("--per-connection", optarg);
            break;
        case O_SIZE:
            if (cli_parse_count(optarg, 1, &o->size) != 0)
                return bad("--size", optarg);
            break;
        case O_RCPTS:
            if (cli_parse_count(optarg, 0, &v) != 0 || v == 0 ||
                v > BENCH_RECIPIENTS_MAX)
                return bad("--recipients", optarg);
            o->recipients = (unsigned)v;
            break;
        case O_FROM:
            if (smtpc_check_address(optarg, 1) != SMTPC_OK)
                return bad("--from", optarg);
            o->from = optarg;
            break;
        case O_TO:
            if (smtpc_check_address(optarg, 0) != SMTPC_OK)
                return bad("--to", optarg);
            o->to = optarg;
            break;
        case O_EHLO:
            if (smtpc_check_domain(optarg) != SMTPC_OK)
                return bad("--ehlo", optarg);
            o->ehlo = optarg;
            break;
        case O_NO_PIPE:
            o->session_options |= SMTPC_OPT_NO_PIPELINING;
            break;
        case O_NO_CHUNK:
            o->session_options |= SMTPC_OPT_NO_CHUNKING;
            break;
        case O_TLS:
            if (cli_parse_tls(optarg, CLI_TLSW_NONE | CLI_TLSW_STARTTLS |
                              CLI_TLSW_IMPLICIT | CLI_TLSW_OPPORTUNISTIC,
                              &o->tls) != 0)
                return bad("--tls", optarg);
            break;
        case O_CAFILE:
            o->cafile = optarg;
            break;
        case O_INSECURE:
            o->insecure = 1;
            break;
        case O_USER:
            if (smtpc_check_text(optarg, SMTPC_SECRET_MAX) != SMTPC_OK)
                return bad("--user", optarg);
            o->user = optarg;
            break;
        case O_PASSWORD_ENV:
            password_env = optarg;
            break;
        case O_TIMEOUT:
            if (cli_parse_seconds(optarg, &secs) != 0)
                return bad("--timeout", optarg);
            o->timeout_ms = secs * 1000u;
            break;
        case O_BUFFER:
            if (cli_parse_count(optarg, 1, &v) != 0 || v < SMTPC_IO_MIN ||
                v > (1u << 30))
                return bad("--buffer", optarg);
            o->io_buf = (size_t)v;
            break;
        case O_JSON_ONLY:
            o->json_only = 1;
            break;
        case O_TRACE:
            o->trace = 1;
            break;
        case O_QUICKACK:
            o->quickack = 1;
            break;
        case O_PRINT_MESSAGE:
            o->print_message = 1;
            break;
        case 'h':
            usage(stdout);
            return -1;
        case ':':
            fprintf(stderr, BENCH_NAME ": %s needs a value\n", argv[optind - 1]);
            return EX_USAGE;
        default:
            fprintf(stderr, BENCH_NAME ": unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return EX_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, BENCH_NAME ": unexpected argument '%s'\n", argv[optind]);
        return EX_USAGE;
    }
    /* After the loop: the default port depends on --tls. */
    if (server != NULL &&
        parse_server(server, o->tls, (char **)&o->host, &o->port) != 0)
        return bad("--server", server);
    if (o->host == NULL && !o->print_message) {
        fprintf(stderr, BENCH_NAME ": --server HOST[:PORT] is required\n");
        return EX_USAGE;
    }
    if (o->sessions > o->messages)
        o->sessions = (unsigned)o->messages;
    if (password_env != NULL) {
        o->password = getenv(password_env);
        if (o->password == NULL) {
            fprintf(stderr, BENCH_NAME ": environment variable %s is not set\n",
                    password_env);
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
            snprintf(buf, cap, "%s: %s (%u %s)", smtpc_phase_str(x->first_phase),
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
