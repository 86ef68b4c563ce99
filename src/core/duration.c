/* duration.c — parsing Go-style durations ("1m30s") into milliseconds, with overflow checks. */
#include "core/duration.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/names.h"

#define FRACTION_DIGITS_MAX 9 /* more never gives a whole number of milliseconds */

struct duration_unit {
    const char *suffix;
    long long ms;
};

/* Longest suffix first so that "ms" is not read as "m" followed by junk. */
static const struct duration_unit units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

static int add_checked(long long a, long long b, long long *sum) {
    if (a > LLONG_MAX - b)
        return -1;
    *sum = a + b;
    return 0;
}

static int multiply_checked(long long a, long long b, long long *product) {
    if (b != 0 && a > LLONG_MAX / b)
        return -1;
    *product = a * b;
    return 0;
}

int duration_parse_ms(const char *text, const char *field, long long *ms_out,
                      struct agyn_error *err) {
    if (!field)
        field = "duration";
    size_t len = text ? strnlen(text, DURATION_TEXT_MAX + 1) : 0;
    char quoted[4 * DURATION_TEXT_MAX + 8];
    text_quote(text, len, DURATION_TEXT_MAX, quoted, sizeof quoted);
    if (len == 0)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must not be empty", field);
    if (len > DURATION_TEXT_MAX)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must not be more than %d characters",
                         field, DURATION_TEXT_MAX);
    if (text[0] == '-')
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s %s must not be negative", field,
                         quoted);
    if (len == 1 && text[0] == '0') {
        if (ms_out)
            *ms_out = 0;
        return 0;
    }

    long long total = 0;
    size_t i = 0;
    while (i < len) {
        long long whole = 0;
        long long fraction = 0;
        int fraction_digits = 0;
        size_t digits = 0;
        int overflow = 0;
        for (; i < len && is_digit(text[i]); i++, digits++) {
            if (multiply_checked(whole, 10, &whole) != 0 ||
                add_checked(whole, text[i] - '0', &whole) != 0)
                overflow = 1;
        }
        if (i < len && text[i] == '.') {
            i++;
            size_t fraction_start = i;
            while (i < len && is_digit(text[i]))
                i++;
            digits += i - fraction_start;
            size_t significant = i - fraction_start;
            while (significant > 0 && text[fraction_start + significant - 1] == '0')
                significant--;
            if (significant > FRACTION_DIGITS_MAX)
                return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                                 "%s %s must be a whole number of milliseconds", field, quoted);
            for (size_t k = 0; k < significant; k++)
                fraction = fraction * 10 + (text[fraction_start + k] - '0');
            fraction_digits = (int)significant;
        }
        const struct duration_unit *unit = NULL;
        for (size_t u = 0; u < sizeof units / sizeof units[0] && !unit; u++) {
            size_t suffix_len = strlen(units[u].suffix);
            if (len - i >= suffix_len && memcmp(text + i, units[u].suffix, suffix_len) == 0)
                unit = &units[u];
        }
        if (digits == 0 || !unit)
            return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                             "%s %s is not a duration: use numbers with units ms, s, m, h or d, "
                             "e.g. \"250ms\", \"10s\" or \"1m30s\"",
                             field, quoted);
        i += strlen(unit->suffix);

        long long part;
        if (overflow || multiply_checked(whole, unit->ms, &part) != 0)
            return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s %s is too large", field, quoted);
        if (fraction_digits > 0) {
            long long scale = 1;
            for (int k = 0; k < fraction_digits; k++)
                scale *= 10;
            long long scaled = fraction * unit->ms; /* < 1e9 * 3.6e6, fits */
            if (scaled % scale != 0)
                return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                                 "%s %s must be a whole number of milliseconds", field, quoted);
            if (add_checked(part, scaled / scale, &part) != 0)
                return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s %s is too large", field,
                                 quoted);
        }
        if (add_checked(total, part, &total) != 0)
            return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s %s is too large", field, quoted);
    }
    if (ms_out)
        *ms_out = total;
    return 0;
}

void duration_format_ms(long long ms, char out[DURATION_TEXT_MAX]) {
    static const struct duration_unit parts[] = {
        {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof parts / sizeof parts[0] && ms > 0; i++) {
        long long count = ms / parts[i].ms;
        ms %= parts[i].ms;
        if (count > 0)
            len += (size_t)snprintf(out + len, DURATION_TEXT_MAX - len, "%lld%s", count,
                                    parts[i].suffix);
    }
    if (len == 0)
        snprintf(out, DURATION_TEXT_MAX, "0s");
}
