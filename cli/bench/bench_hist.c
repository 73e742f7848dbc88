/*
 * cli/bench/bench_hist.c - latency histogram in constant memory.
 *
 * Keeping every sample would make the tool's memory grow with --messages,
 * and the point of the benchmark is to show that nothing does.  Log-linear
 * buckets (as HdrHistogram does) keep a relative error under 1/64.
 */
#include <string.h>

#include "bench.h"

/* Bucket of a value: exact below BENCH_HIST_SUB, then BENCH_HIST_SUB
 * buckets per power of two. */
static unsigned bucket_of(uint64_t v)
{
    unsigned e = 0;
    uint64_t t;

    if (v < BENCH_HIST_SUB)
        return (unsigned)v;
    for (t = v; t >= 2 * BENCH_HIST_SUB; t >>= 1)
        e++;
    /* v = t << e with BENCH_HIST_SUB <= t < 2 * BENCH_HIST_SUB */
    if (e >= 58)
        return BENCH_HIST_BUCKETS - 1;
    return BENCH_HIST_SUB + e * BENCH_HIST_SUB + (unsigned)(t - BENCH_HIST_SUB);
}

/* The middle of a bucket's range. */
static double bucket_mid(unsigned b)
{
    unsigned e, t;
    double lo, width;

    if (b < BENCH_HIST_SUB)
        return (double)b;
    e = (b - BENCH_HIST_SUB) / BENCH_HIST_SUB;
    t = BENCH_HIST_SUB + (b - BENCH_HIST_SUB) % BENCH_HIST_SUB;
    lo = (double)t * (double)(1ull << e);
    width = (double)(1ull << e);
    return lo + (width - 1) / 2;
}

void bench_hist_init(bench_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min_us = UINT64_MAX;
}

void bench_hist_add(bench_hist *h, uint64_t us)
{
    h->bucket[bucket_of(us)]++;
    h->count++;
    h->sum_us += us;
    if (us > h->max_us)
        h->max_us = us;
    if (us < h->min_us)
        h->min_us = us;
}

void bench_hist_merge(bench_hist *into, const bench_hist *from)
{
    unsigned i;

    for (i = 0; i < BENCH_HIST_BUCKETS; i++)
        into->bucket[i] += from->bucket[i];
    into->count += from->count;
    into->sum_us += from->sum_us;
    if (from->max_us > into->max_us)
        into->max_us = from->max_us;
    if (from->min_us < into->min_us)
        into->min_us = from->min_us;
}

double bench_hist_quantile(const bench_hist *h, double q)
{
    uint64_t rank, seen = 0;
    unsigned i;
    double v;

    if (h->count == 0)
        return 0;
    if (q <= 0)
        return (double)h->min_us;
    if (q >= 1)
        return (double)h->max_us;
    /* The smallest value with at least q of the samples at or below it. */
    rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count)
        rank++;
    if (rank == 0)
        rank = 1;
    for (i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank)
            break;
    }
    v = bucket_mid(i < BENCH_HIST_BUCKETS ? i : BENCH_HIST_BUCKETS - 1);
    if (v > (double)h->max_us)
        v = (double)h->max_us;
    if (v < (double)h->min_us)
        v = (double)h->min_us;
    return v;
}
