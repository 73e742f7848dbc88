/*
 * unit.h - the smallest test harness that does the job: CHECK records a
 * failure with its place and goes on; unit_done() prints "N passed, N
 * failed" (the line CI reads) and gives the exit status.
 *
 * Every failure is one line on stderr starting "FAIL file:line [case]: "
 * and naming the condition (tests/integration/72_mbedtls.sh picks
 * failures out by that text).  unit_case, when a test sets it, names the
 * case being run.  Counters are not atomic: check from one thread only.
 *
 *   CHECK(cond)                   cond holds
 *   CHECK_MSG(cond, fmt, ...)     cond holds; on failure also says fmt
 *   CHECK_EQ_INT(a, b)            integers, both values shown on failure
 *   CHECK_EQ_STR(a, b)            strings (NULL never equals)
 *   CHECK_EQ_MEM(a, alen, b, blen)  alen == blen and the bytes are equal
 */
#ifndef SMTPC_TEST_UNIT_H
#define SMTPC_TEST_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed;
static const char *unit_case = "";

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) {                                                          \
            unit_passed++;                                                   \
        } else {                                                             \
            unit_failed++;                                                   \
            fprintf(stderr, "FAIL %s:%d [%s]: %s\n", __FILE__, __LINE__,     \
                    unit_case, #cond);                                       \
        }                                                                    \
    } while (0)

#define CHECK_MSG(cond, ...)                                                 \
    do {                                                                     \
        if (cond) {                                                          \
            unit_passed++;                                                   \
        } else {                                                             \
            unit_failed++;                                                   \
            fprintf(stderr, "FAIL %s:%d [%s]: %s: ", __FILE__, __LINE__,     \
                    unit_case, #cond);                                       \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
        }                                                                    \
    } while (0)

#define CHECK_EQ_MEM(a, alen, b, blen)                                       \
    do {                                                                     \
        const void *unit_ma = (a), *unit_mb = (b);                           \
        size_t unit_la = (size_t)(alen), unit_lb = (size_t)(blen);           \
        if (unit_la == unit_lb && memcmp(unit_ma, unit_mb, unit_la) == 0) {  \
            unit_passed++;                                                   \
        } else {                                                             \
            unit_failed++;                                                   \
            fprintf(stderr, "FAIL %s:%d [%s]: %s == %s (%zu and %zu bytes",  \
                    __FILE__, __LINE__, unit_case, #a, #b, unit_la, unit_lb);\
            unit_report_diff(unit_ma, unit_la, unit_mb, unit_lb);            \
        }                                                                    \
    } while (0)

/* The end of CHECK_EQ_MEM's failure line: where the bytes first differ. */
static inline void unit_report_diff(const void *a, size_t alen, const void *b,
                                    size_t blen)
{
    const unsigned char *pa = a, *pb = b;
    size_t i, n = alen < blen ? alen : blen;

    for (i = 0; i < n && pa[i] == pb[i]; i++)
        ;
    if (i < n)
        fprintf(stderr, ", first difference at %zu: 0x%02x != 0x%02x)\n", i,
                pa[i], pb[i]);
    else
        fprintf(stderr, ", equal up to %zu)\n", i);
}

/* Counts one comparison of two numbers (their bits, so signed and
 * unsigned values compare as the caller's types do); on a failure prints
 * where and both values, in hexadecimal when hex is set. */
static inline void unit_eq_num(unsigned long long a, unsigned long long b,
                               int hex, const char *file, int line,
                               const char *ta, const char *tb)
{
    if (a == b) {
        unit_passed++;
    } else if (hex) {
        unit_failed++;
        fprintf(stderr, "FAIL %s:%d [%s]: %s == %s (0x%llx != 0x%llx)\n",
                file, line, unit_case, ta, tb, a, b);
    } else {
        unit_failed++;
        fprintf(stderr, "FAIL %s:%d [%s]: %s == %s (%lld != %lld)\n", file,
                line, unit_case, ta, tb, (long long)a, (long long)b);
    }
}

#define CHECK_EQ_INT(a, b)                                                   \
    unit_eq_num((unsigned long long)(long long)(a),                          \
                (unsigned long long)(long long)(b), 0, __FILE__, __LINE__,   \
                #a, #b)

/* The same, printed in hexadecimal: for status values written that way
 * (NetX Duo's NX_* codes). */
#define CHECK_EQ_HEX(a, b)                                                   \
    unit_eq_num((unsigned long long)(a), (unsigned long long)(b), 1,         \
                __FILE__, __LINE__, #a, #b)

#define CHECK_EQ_STR(a, b)                                                   \
    do {                                                                     \
        const char *unit_sa = (a), *unit_sb = (b);                           \
        if (unit_sa && unit_sb && strcmp(unit_sa, unit_sb) == 0) {           \
            unit_passed++;                                                   \
        } else {                                                             \
            unit_failed++;                                                   \
            fprintf(stderr, "FAIL %s:%d [%s]: %s == %s (\"%s\" != \"%s\")\n",\
                    __FILE__, __LINE__, unit_case, #a, #b,                   \
                    unit_sa ? unit_sa : "(null)",                            \
                    unit_sb ? unit_sb : "(null)");                           \
        }                                                                    \
    } while (0)

static int unit_done(void)
{
    printf("%d passed, %d failed\n", unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}

#endif
