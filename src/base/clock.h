/* clock.h — wall-clock timestamps in RFC 3339 UTC and a monotonic clock for durations. */
#ifndef AGYN_BASE_CLOCK_H
#define AGYN_BASE_CLOCK_H

#include <stdint.h>

#define RFC3339_LEN 32

/* "2026-11-26T19:15:50.123Z" (millisecond precision, always UTC). */
void clock_now_rfc3339(char buf[RFC3339_LEN]);
void clock_format_rfc3339(int64_t unix_ms, char buf[RFC3339_LEN]);
int64_t clock_now_unix_ms(void);
/* Reads what clock_format_rfc3339 writes ("2026-11-26T19:15:50.123Z"; the fraction is optional
 * and, when present, exactly three digits) into unix milliseconds; -1 for anything else: an
 * offset other than Z, another fraction length, a sign or space in a field, a field out of
 * range, a day the month does not have, a leap second. */
int clock_parse_rfc3339(const char *text, int64_t *unix_ms);
int64_t clock_monotonic_ms(void);
int64_t clock_monotonic_us(void);

#endif
