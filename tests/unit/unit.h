/*
 * unit.h - the smallest test harness that does the job: CHECK records a
 * failure with its place and goes on; unit_done() prints "N passed, N
 * failed" (the line CI reads) and gives the exit status.
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
