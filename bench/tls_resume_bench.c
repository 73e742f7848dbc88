/*
 * bench/tls_resume_bench.c - what TLS session resumption saves: full and
 * resumed STARTTLS handshakes against a real SMTP server.
 *
 *   tls_resume_bench --server HOST:PORT --cafile CA [--name NAME]
 *                    [--count N] [--resume] [--server-pid PID ...]
 *
 * Each of N connections is a new TCP connection and a new smtpc_tls (as a
 * new run of a tool would be): greeting, EHLO, STARTTLS, the handshake,
 * EHLO again (which also reads the TLS 1.3 tickets the server sends after
 * the handshake), QUIT.  With --resume every connection is given the same
 * smtpc_tls_session storage, so all but the first resume; without it each
 * handshake is a full one.  Prints one JSON line: connections, how many
 * resumed, the protocol, the mean time and CPU time of start_tls (the
 * handshake), the CPU time (user + system) of this process per connection
 * with everything a new run does (getrusage: loading the CAs, the
 * context) and, for
 * each --server-pid, of that process (utime + stime from /proc/PID/stat:
 * give the server's long-lived processes, e.g. Postfix's smtpd and
 * tlsmgr).  Through bench/delay_proxy.py --stats the proxy counts the
 * round trips of each connection.
 *
 * Built by bench/run.sh against the library (either TLS backend):
 *   cc -O2 -Iinclude bench/tls_resume_bench.c build/libsmtpc.a -lssl -lcrypto
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "smtpc/tls.h"

#define MAX_PIDS 16

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process, precise (for one handshake). */
static double proc_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of pid in seconds, or -1. */
static double pid_cpu_s(long pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Reads one whole reply (its last line) into line: its code, or -1. */
static int read_reply(smtpc_transport tr, char *line, size_t cap)
{
    size_t len = 0;
    double deadline = now_s() + 10;

    for (;;) {
        char c;
        long n = tr.ops->recv(tr.ctx, &c, 1);
        if (n < 0)
            return -1;
        if (n == 0) {
            if (now_s() > deadline ||
                tr.ops->wait(tr.ctx, SMTPC_IO_READ, 1000) < 0)
                return -1;
            continue;
        }
        if (len + 1 < cap)
            line[len++] = c;
        if (c == '\n') {
            line[len] = '\0';
            if (len >= 4 && line[3] == '-') {
                len = 0; /* a continuation line */
                continue;
            }
            return len >= 3 ? atoi(line) : -1;
        }
    }
}

static int send_str(smtpc_transport tr, const char *s)
{
    size_t len = strlen(s);
    double deadline = now_s() + 10;

    while (len > 0) {
        long n = tr.ops->send(tr.ctx, s, len);
        if (n < 0)
            return -1;
        if (n == 0) {
            if (now_s() > deadline ||
                tr.ops->wait(tr.ctx, SMTPC_IO_WRITE, 1000) < 0)
                return -1;
            continue;
        }
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *server = NULL, *cafile = NULL, *name = "localhost";
    long pids[MAX_PIDS];
    double pid_cpu0[MAX_PIDS], hs_total = 0, hs_cpu = 0, t0, cpu0;
    int npids = 0, count = 20, resume = 0, i, reused = 0, done = 0;
    static smtpc_tls_session session;
    char host[256], info[96] = "", line[600];
    unsigned port;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
            server = argv[++i];
        else if (strcmp(argv[i], "--cafile") == 0 && i + 1 < argc)
            cafile = argv[++i];
        else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = atoi(argv[++i]);
        else if (strcmp(argv[i], "--resume") == 0)
            resume = 1;
        else if (strcmp(argv[i], "--server-pid") == 0 && i + 1 < argc &&
                 npids < MAX_PIDS)
            pids[npids++] = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: tls_resume_bench --server HOST:PORT "
                            "--cafile CA [--name NAME] [--count N] [--resume] "
                            "[--server-pid PID ...]\n");
            return 64;
        }
    }
    if (server == NULL || cafile == NULL || count < 1 || count > 100000 ||
        sscanf(server, "%255[^:]:%u", host, &port) != 2) {
        fprintf(stderr, "tls_resume_bench: --server HOST:PORT and --cafile "
                        "are required\n");
        return 64;
    }

    for (i = 0; i < npids; i++)
        pid_cpu0[i] = pid_cpu_s(pids[i]);
    cpu0 = self_cpu_s();
    t0 = now_s();
    for (i = 0; i < count; i++) {
        smtpc_tcp tcp;
        smtpc_tls *tls = NULL;
        smtpc_tls_options o;
        smtpc_transport tr;
        double h0, c0;
        int rc;

        memset(&o, 0, sizeof o);
        o.cafile = cafile;
        o.session = resume ? &session : NULL;
        if (smtpc_tls_new(&tls, smtpc_tcp_transport(&tcp), &o) != SMTPC_OK) {
            fprintf(stderr, "tls_resume_bench: smtpc_tls_new failed\n");
            return 1;
        }
        tr = smtpc_tls_transport(tls);
        rc = tr.ops->connect(tr.ctx, host, (uint16_t)port, 10000);
        if (rc != SMTPC_OK || read_reply(tr, line, sizeof line) != 220 ||
            send_str(tr, "EHLO bench.example\r\n") != 0 ||
            read_reply(tr, line, sizeof line) != 250 ||
            send_str(tr, "STARTTLS\r\n") != 0 ||
            read_reply(tr, line, sizeof line) != 220) {
            fprintf(stderr, "tls_resume_bench: SMTP before STARTTLS failed\n");
            smtpc_tls_free(tls);
            return 1;
        }
        c0 = proc_cpu_s();
        h0 = now_s();
        rc = tr.ops->start_tls(tr.ctx, name, 10000);
        hs_total += now_s() - h0;
        hs_cpu += proc_cpu_s() - c0;
        if (rc != SMTPC_OK) {
            fprintf(stderr, "tls_resume_bench: start_tls: %s\n",
                    smtpc_tls_error(tls));
            smtpc_tls_free(tls);
            return 1;
        }
        if (send_str(tr, "EHLO bench.example\r\n") != 0 ||
            read_reply(tr, line, sizeof line) != 250 ||
            send_str(tr, "QUIT\r\n") != 0 ||
            read_reply(tr, line, sizeof line) != 221) {
            fprintf(stderr, "tls_resume_bench: SMTP after STARTTLS failed\n");
            smtpc_tls_free(tls);
            return 1;
        }
        reused += smtpc_tls_session_reused(tls);
        snprintf(info, sizeof info, "%s", smtpc_tls_info(tls));
        smtpc_tls_free(tls);
        done++;
    }
    printf("{\"backend\":\"%s\",\"protocol\":\"%s\",\"resume\":%d,"
           "\"connections\":%d,\"resumed\":%d,\"seconds\":%.4f,"
           "\"handshake_ms_mean\":%.3f,\"handshake_cpu_ms_mean\":%.3f,"
           "\"client_cpu_ms_per_connection\":%.3f",
           smtpc_tls_backend(), info, resume, done, reused, now_s() - t0,
           hs_total * 1000.0 / done, hs_cpu * 1000.0 / done,
           (self_cpu_s() - cpu0) * 1000.0 / done);
    if (npids > 0) {
        double sum = 0;
        for (i = 0; i < npids; i++) {
            double c = pid_cpu_s(pids[i]);
            if (c >= 0 && pid_cpu0[i] >= 0)
                sum += c - pid_cpu0[i];
        }
        printf(",\"server_cpu_ms_per_connection\":%.3f", sum * 1000.0 / done);
    }
    printf("}\n");
    smtpc_tls_session_clear(&session);
    return 0;
}
