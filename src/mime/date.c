/*
 * RFC 5322 3.3 dates from a count of seconds: the library has no clock,
 * the caller has one (an RTC, SNTP, time()).
 */
#include "internal.h"

#if SMTPC_WITH_MIME

static char *two(char *o, unsigned v)
{
    o[0] = (char)('0' + v / 10 % 10);
    o[1] = (char)('0' + v % 10);
    return o + 2;
}

size_t smtpc_mime_date(char *out, int64_t t, int utc_offset_min)
{
    static const char days[] = "ThuFriSatSunMonTueWed"; /* 1970-01-01: Thu */
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int64_t d, secs, z, era, doe, yoe, y, doy, mp;
    unsigned m, day, off;
    char *o = out;

    /* Years 1970 to 9999 and offsets of at most 23:59. */
    if (utc_offset_min <= -24 * 60 || utc_offset_min >= 24 * 60 || t < 0 ||
        t > INT64_C(253402300799))
        return 0;
    t += (int64_t)utc_offset_min * 60;
    if (t < 0)
        return 0;
    d = t / 86400;
    secs = t % 86400;
    /* Days to a civil date (the proleptic Gregorian calendar, in eras of
     * 400 years starting on March 1st). */
    z = d + 719468;
    era = z / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    if (m <= 2)
        y++;
    memcpy(o, days + (d % 7) * 3, 3);
    o += 3;
    *o++ = ',';
    *o++ = ' ';
    o = two(o, day);
    *o++ = ' ';
    memcpy(o, months + (m - 1) * 3, 3);
    o += 3;
    *o++ = ' ';
    o = two(o, (unsigned)(y / 100));
    o = two(o, (unsigned)(y % 100));
    *o++ = ' ';
    o = two(o, (unsigned)(secs / 3600));
    *o++ = ':';
    o = two(o, (unsigned)(secs / 60 % 60));
    *o++ = ':';
    o = two(o, (unsigned)(secs % 60));
    *o++ = ' ';
    *o++ = utc_offset_min < 0 ? '-' : '+';
    off = (unsigned)(utc_offset_min < 0 ? -utc_offset_min : utc_offset_min);
    o = two(o, off / 60);
    o = two(o, off % 60);
    *o = '\0';
    return (size_t)(o - out);
}

#endif /* SMTPC_WITH_MIME */
