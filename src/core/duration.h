/* duration.h — Go-style durations in configuration and API fields ("250ms", "10s", "1m30s",
 * "1.5h"), converted to whole milliseconds. */
#ifndef AGYN_CORE_DURATION_H
#define AGYN_CORE_DURATION_H

#include "core/error.h"

#define DURATION_TEXT_MAX 64

/* Parses one or more <number><unit> pairs, unit one of ms, s, m, h; a number may have a
 * decimal fraction (".5s", "1.5h"). "0" alone is zero. The sum must be a whole number of
 * milliseconds that fits in long long. Rejects empty text, signs, spaces, other units
 * (ns, us), missing units, overflow and anything longer than DURATION_TEXT_MAX bytes with
 * AGYN_UNPROCESSABLE naming field. *ms_out is set only on success. */
int duration_parse_ms(const char *text, const char *field, long long *ms_out,
                      struct agyn_error *err);

/* The shortest text duration_parse_ms reads back as ms: "5s", "30m", "1h30m", "1500ms"
 * ("1s500ms"), "0s". Negative values are written as 0s. */
void duration_format_ms(long long ms, char out[DURATION_TEXT_MAX]);

#endif
