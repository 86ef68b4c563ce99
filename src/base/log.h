/* log.h — structured log lines (logfmt) on standard error: ts, level, msg, then key=value
 * pairs. Only top-level code logs; values passed here must never be secrets.
 *
 * Every value is escaped by construction (log_escape_value): a value made only of printable
 * ASCII without space, '"', '=' or '\' is written bare, any other is quoted with '"' and '\'
 * backslash-escaped and every control or non-ASCII byte written as \xNN; values longer than
 * LOG_VALUE_MAX bytes are cut and end in LOG_TRUNCATED_MARKER. A client-sent method such as
 * "GET\tlevel=error" therefore stays one field and cannot forge others. */
#ifndef AGYN_BASE_LOG_H
#define AGYN_BASE_LOG_H

#include <stddef.h>

#define LOG_VALUE_MAX 256
#define LOG_TRUNCATED_MARKER "...(truncated)"

struct log_field {
    const char *key;   /* a fixed [a-z0-9_] word chosen by the code, never by input */
    const char *value; /* any text, NULL logs as "" */
};

/* Writes one line: ts, level, msg and the fields, each value escaped. */
void log_fields(const char *level, const char *msg, const struct log_field *fields, size_t count);

/* log_kv("info", "request", {"request_id", id}, {"method", method}): log_fields with a
 * literal list of at least one field. */
#define log_kv(level, msg, ...)                                                                    \
    log_fields((level), (msg), (const struct log_field[]){__VA_ARGS__},                            \
               sizeof((const struct log_field[]){__VA_ARGS__}) / sizeof(struct log_field))

/* Writes value as one logfmt value into out (always NUL-terminated); returns its length.
 * out needs LOG_ESCAPED_MAX bytes to never cut a value short of the cap. */
#define LOG_ESCAPED_MAX (LOG_VALUE_MAX * 4 + sizeof LOG_TRUNCATED_MARKER + 3)
size_t log_escape_value(char *out, size_t size, const char *value);

#endif
