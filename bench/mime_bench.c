/*
 * bench/mime_bench.c - the MIME writer's encoders, in memory.
 *
 * A message with one attachment is produced by smtpc_mime_read into a
 * buffer the bytes go nowhere from; what is timed is the writer: the
 * encoder and the pull loop around it.  Input is in a buffer (random bytes
 * for base64, English-like text with some UTF-8 for quoted-printable)
 * large enough not to sit in the caches.
 *
 *   mime_bench [--bytes N] [--read N] [--repeat N] [--write-inputs DIR]
 *
 * Variants (one JSON line each, "MB/s" of input, best of --repeat):
 *   base64-lines  smtpc_base64_encode alone, 57-byte lines into 76
 *                 characters and CRLF (the inner loop, no writer)
 *   base64        the writer: application/octet-stream, base64
 *   base64-cb     the same content from a callback in 64 KiB pieces
 *   qp            the writer: text/plain, quoted-printable from a buffer
 *                 (includes smtpc_mime_init's counting pass for the size)
 *   qp-cb         the same text from a callback (no counting pass)
 *   memcpy        the input copied into the read buffer: the ceiling
 * --write-inputs DIR writes the two inputs as DIR/binary and DIR/text so
 * that bench/mime_bench.sh can time coreutils base64 and Python on the
 * same bytes.  Built by bench/mime_bench.sh (or by hand):
 *   cc -O2 -Iinclude -Icli bench/mime_bench.c cli/bench_text.c \
 *      build/libsmtpc.a -o build/mime_bench
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "smtpc/mime.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);

    if (*end == 'K' || *end == 'k')
        v *= 1024;
    else if (*end == 'M' || *end == 'm')
        v *= 1024 * 1024;
    else if (*end == 'G' || *end == 'g')
        v *= 1024.0 * 1024 * 1024;
    return (size_t)v;
}

typedef struct piece_src {
    const unsigned char *p;
    size_t len, off, piece;
} piece_src;

static int piece_read(void *ctx, const void **data, size_t *len)
{
    piece_src *s = ctx;
    size_t n = s->len - s->off;

    if (n > s->piece)
        n = s->piece;
    *data = s->p + s->off;
    *len = n;
    s->off += n;
    return SMTPC_OK;
}

/* The whole message through the writer; returns the bytes produced. */
static uint64_t run_writer(const unsigned char *in, size_t len, int qp,
                           int callback, unsigned char *buf, size_t cap)
{
    smtpc_mime_part p = {0};
    smtpc_mime_message m = {0};
    smtpc_mime_writer w;
    piece_src src = {in, len, 0, 65536};
    uint64_t total = 0;
    size_t n;

    p.content_type = qp ? "text/plain" : "application/octet-stream";
    p.encoding = qp ? SMTPC_MIME_ENC_QP : SMTPC_MIME_ENC_BASE64;
    if (callback) {
        p.read = piece_read;
        p.ctx = &src;
        p.size = len;
    } else {
        p.data = in;
        p.len = len;
    }
    m.attachments = &p;
    m.attachment_count = 1;
    if (smtpc_mime_init(&w, &m) != SMTPC_OK) {
        fprintf(stderr, "mime_bench: init failed\n");
        exit(1);
    }
    while ((n = smtpc_mime_read(&w, buf, cap)) > 0)
        total += n;
    if (!smtpc_mime_done(&w)) {
        fprintf(stderr, "mime_bench: read failed (%d)\n", smtpc_mime_status(&w));
        exit(1);
    }
    return total;
}

static uint64_t run_lines(const unsigned char *in, size_t len,
                          unsigned char *buf, size_t cap)
{
    uint64_t total = 0;
    size_t off = 0, o;

    while (len - off >= 57) {
        for (o = 0; o + 78 <= cap && len - off >= 57; o += 78, off += 57) {
            smtpc_base64_encode((char *)buf + o, in + off, 57);
            buf[o + 76] = '\r';
            buf[o + 77] = '\n';
        }
        total += o;
    }
    return total + smtpc_base64_encode((char *)buf, in + off, len - off);
}

static uint64_t run_memcpy(const unsigned char *in, size_t len,
                           unsigned char *buf, size_t cap)
{
    size_t off, n;

    for (off = 0; off < len; off += n) {
        n = len - off < cap ? len - off : cap;
        memcpy(buf, in + off, n);
    }
    return len;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"base64-lines", "base64", "base64-cb",
                                        "qp", "qp-cb", "memcpy"};
    size_t bytes = 64u << 20, rd = 65536, i;
    int repeat = 3, v, r;
    const char *dir = NULL;
    unsigned char *bin, *text, *buf;
    uint64_t x = 88172645463325252u;

    for (i = 1; i < (size_t)argc; i++) {
        if (!strcmp(argv[i], "--bytes") && i + 1 < (size_t)argc)
            bytes = parse_size(argv[++i]);
        else if (!strcmp(argv[i], "--read") && i + 1 < (size_t)argc)
            rd = parse_size(argv[++i]);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < (size_t)argc)
            repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--write-inputs") && i + 1 < (size_t)argc)
            dir = argv[++i];
        else {
            fprintf(stderr, "usage: mime_bench [--bytes N] [--read N] "
                            "[--repeat N] [--write-inputs DIR]\n");
            return 2;
        }
    }
    bin = malloc(bytes);
    text = malloc(bytes);
    buf = malloc(rd);
    if (!bin || !text || !buf || rd < 128) {
        fprintf(stderr, "mime_bench: no memory\n");
        return 1;
    }
    for (i = 0; i < bytes; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bin[i] = (unsigned char)(x >> 24);
    }
    bench_text_fill(text, bytes, 1);
    /* Now and then a UTF-8 letter, as mail text in most languages has. */
    for (i = 97; i + 1 < bytes; i += 211) {
        if (text[i] > ' ' && text[i + 1] > ' ') {
            text[i] = 0xc3;
            text[i + 1] = 0xa9;
        }
    }
    if (dir) {
        char path[4096];
        FILE *f;
        snprintf(path, sizeof path, "%s/binary", dir);
        f = fopen(path, "wb");
        if (!f || fwrite(bin, 1, bytes, f) != bytes || fclose(f))
            return 1;
        snprintf(path, sizeof path, "%s/text", dir);
        f = fopen(path, "wb");
        if (!f || fwrite(text, 1, bytes, f) != bytes || fclose(f))
            return 1;
    }
    for (v = 0; v < 6; v++) {
        double best = 1e30;
        uint64_t out = 0;
        for (r = 0; r < repeat; r++) {
            double t0 = now_s(), dt;
            switch (v) {
            case 0: out = run_lines(bin, bytes, buf, rd); break;
            case 1: out = run_writer(bin, bytes, 0, 0, buf, rd); break;
            case 2: out = run_writer(bin, bytes, 0, 1, buf, rd); break;
            case 3: out = run_writer(text, bytes, 1, 0, buf, rd); break;
            case 4: out = run_writer(text, bytes, 1, 1, buf, rd); break;
            default: out = run_memcpy(bin, bytes, buf, rd); break;
            }
            dt = now_s() - t0;
            if (dt < best)
                best = dt;
        }
        printf("{\"variant\":\"%s\",\"input_bytes\":%zu,\"output_bytes\":%llu,"
               "\"read\":%zu,\"seconds\":%.6f,\"mb_per_s\":%.1f}\n",
               names[v], bytes, (unsigned long long)out, rd, best,
               (double)bytes / best / 1e6);
    }
    free(bin);
    free(text);
    free(buf);
    return 0;
}
