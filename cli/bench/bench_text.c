/*
 * cli/bench/bench_text.c - the messages smtpc-bench sends.
 *
 * Realistic text rather than one repeated byte: the body encoder scans for
 * line ends and leading dots, so its speed depends on line length and on
 * how often it must stop.  Lines here average about 65 characters (as
 * plain-text mail does), paragraphs are separated by blank lines, and about
 * one line in 200 starts with "." so the DATA path's dot-stuffing is
 * exercised as well.  Deterministic: a fixed seed gives the same bytes, so
 * runs are comparable.
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* gmtime_r */
#endif
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static const char *const words[] = {
    "the",      "of",        "and",     "to",        "in",       "a",
    "is",       "that",      "for",     "it",        "as",       "was",
    "with",     "be",        "by",      "on",        "not",      "he",
    "this",     "are",       "or",      "his",       "from",     "at",
    "which",    "but",       "have",    "an",        "had",      "they",
    "you",      "were",      "their",   "one",       "all",      "we",
    "can",      "her",       "has",     "there",     "been",     "if",
    "more",     "when",      "will",    "would",     "who",      "so",
    "message",  "server",    "delivery", "protocol", "mailbox",  "network",
    "recipient", "transfer", "attachment", "schedule", "meeting", "report",
    "quarterly", "estimate", "please",  "regards",   "attached", "review",
    "Thursday", "tomorrow",  "project", "deadline",  "contract", "invoice",
    "configuration", "performance", "throughput", "latency", "pipeline",
    "acknowledgement", "international", "responsibility", "1024", "2.5%",
    "e.g.",     "(see",      "below)",  "--",        "\"quoted\"", "it's"};

#define NWORDS (sizeof words / sizeof words[0])

/* xorshift64*: good enough for text, and the same everywhere. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

void bench_text_fill(unsigned char *buf, size_t len, uint64_t seed)
{
    uint64_t rs = seed ? seed : 0x9E3779B97F4A7C15ull;
    size_t pos = 0, col = 0, line_words = 0;
    unsigned lines_in_par = 0, par_len = 4;

    while (pos < len) {
        const char *w;
        size_t wl;
        uint64_t r = next_rand(&rs);

        if (col == 0 && line_words == 0 && r % 200 == 0) {
            /* a line that starts with a dot: a quoted ellipsis */
            w = "...";
        } else {
            w = words[(r >> 8) % NWORDS];
        }
        wl = strlen(w);
        if (col != 0 && col + 1 + wl > 76) {
            /* end of line; maybe end of paragraph */
            const char *eol = "\r\n";
            size_t n = 2;
            lines_in_par++;
            if (lines_in_par >= par_len) {
                eol = "\r\n\r\n";
                n = 4;
                lines_in_par = 0;
                par_len = 2 + (unsigned)((r >> 40) % 8);
            }
            if (n > len - pos)
                n = len - pos;
            memcpy(buf + pos, eol, n);
            pos += n;
            col = 0;
            line_words = 0;
            continue;
        }
        if (col != 0) {
            buf[pos++] = ' ';
            col++;
            if (pos == len)
                break;
        }
        if (wl > len - pos)
            wl = len - pos;
        memcpy(buf + pos, w, wl);
        pos += wl;
        col += wl;
        line_words++;
    }
}

size_t bench_headers_make(char *buf, size_t cap, const char *from,
                          const char *to, unsigned session, uint64_t seq,
                          uint64_t body_size)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    int n;

    if (gmtime_r(&now, &tm) == NULL ||
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
        date[0] = '\0';
    n = snprintf(buf, cap,
                 "From: <%s>\r\n"
                 "To: <%s>\r\n"
                 "Subject: smtpc-bench message %llu of session %u\r\n"
                 "Date: %s\r\n"
                 "Message-ID: <%llu.%u.%llu@smtpc-bench.invalid>\r\n"
                 "MIME-Version: 1.0\r\n"
                 "Content-Type: text/plain; charset=us-ascii\r\n"
                 "X-Bench-Body-Size: %llu\r\n"
                 "\r\n",
                 from, to, (unsigned long long)seq, session, date,
                 (unsigned long long)seq, session,
                 (unsigned long long)now, (unsigned long long)body_size);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    return (size_t)n;
}
