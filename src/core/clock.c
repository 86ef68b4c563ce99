/* clock.c — RFC 3339 timestamps and monotonic time. */
#include "core/clock.h"

#include <stdio.h>
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
