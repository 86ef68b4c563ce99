/* clock.c — RFC 3339 timestamps and monotonic time. */
#include "base/clock.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t clock_now_unix_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every request logs a timestamp: each thread keeps the "YYYY-MM-DDTHH:MM:SS" of the last
 * second it formatted, so only the milliseconds are written again within that second. */
void clock_format_rfc3339(int64_t unix_ms, char buf[RFC3339_LEN]) {
    static __thread int64_t cached_seconds = INT64_MIN;
    static __thread char cached_prefix[RFC3339_LEN];
    static __thread size_t cached_len;
    int64_t seconds = unix_ms / 1000;
    int millis = (int)(unix_ms % 1000);
    if (millis < 0) { /* before 1970: floor, as gmtime counts */
        seconds -= 1;
        millis += 1000;
    }
    if (seconds != cached_seconds) {
        time_t t = (time_t)seconds;
        struct tm tm;
        gmtime_r(&t, &tm);
        cached_len = strftime(cached_prefix, RFC3339_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_seconds = seconds;
    }
    if (cached_len + 6 > RFC3339_LEN) { /* a year too long to fit: as snprintf would cut it */
        snprintf(buf, RFC3339_LEN, "%s.%03dZ", cached_prefix, millis);
        return;
    }
    memcpy(buf, cached_prefix, cached_len);
    char *p = buf + cached_len;
    p[0] = '.';
    p[1] = (char)('0' + millis / 100);
    p[2] = (char)('0' + millis / 10 % 10);
    p[3] = (char)('0' + millis % 10);
    p[4] = 'Z';
    p[5] = '\0';
}

/* The number written by the n ASCII digits at p; -1 when one of them is not a digit (sscanf
 * would also take signs and spaces). */
static int digits(const char *p, int n) {
    int value = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        value = value * 10 + (p[i] - '0');
    }
    return value;
}

int clock_parse_rfc3339(const char *text, int64_t *unix_ms) {
    /* "YYYY-MM-DDTHH:MM:SS" then ".mmm" (optional) then "Z". */
    if (!text || strnlen(text, 20) < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
        text[13] != ':' || text[16] != ':')
        return -1;
    struct tm tm = {.tm_year = digits(text, 4),
                    .tm_mon = digits(text + 5, 2),
                    .tm_mday = digits(text + 8, 2),
                    .tm_hour = digits(text + 11, 2),
                    .tm_min = digits(text + 14, 2),
                    .tm_sec = digits(text + 17, 2)};
    const char *rest = text + 19;
    int millis = 0;
    if (*rest == '.') {
        if (strnlen(rest + 1, 3) < 3 || (millis = digits(rest + 1, 3)) < 0)
            return -1;
        rest += 4;
    }
    if (tm.tm_year < 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_hour < 0 ||
        tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 59 ||
        millis < 0 || strcmp(rest, "Z") != 0)
        return -1;
    int mday = tm.tm_mday;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t seconds = timegm(&tm); /* fields are in range: no overflow, -1 is 23:59:59 1969 */
    if (tm.tm_mday != mday)       /* timegm moved a day that does not exist (February 30) */
        return -1;
    *unix_ms = (int64_t)seconds * 1000 + millis;
    return 0;
}

void clock_now_rfc3339(char buf[RFC3339_LEN]) {
    clock_format_rfc3339(clock_now_unix_ms(), buf);
}

int64_t clock_monotonic_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_monotonic_ms(void) {
    return clock_monotonic_us() / 1000;
}
