/* clock.c — RFC 3339 timestamps and monotonic time. */
#include "base/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t clock_now_unix_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_format_rfc3339(int64_t unix_ms, char buf[RFC3339_LEN]) {
    time_t seconds = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&seconds, &tm);
    size_t len = strftime(buf, RFC3339_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + len, RFC3339_LEN - len, ".%03dZ", (int)(unix_ms % 1000));
}

int clock_parse_rfc3339(const char *text, int64_t *unix_ms) {
    struct tm tm = {0};
    int millis = 0, consumed = 0, fraction_len = 0;
    if (!text ||
        sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
        consumed != 19)
        return -1;
    const char *rest = text + consumed;
    if (*rest == '.') {
        if (sscanf(rest + 1, "%3d%n", &millis, &fraction_len) != 1 || fraction_len != 3)
            return -1;
        rest += 1 + fraction_len;
    }
    if (strcmp(rest, "Z") != 0)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t seconds = timegm(&tm);
    if (seconds == (time_t)-1)
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
