/* byte_size.c — parsing "20GiB"-style sizes into bytes and formatting bytes for messages. */
#include "core/byte_size.h"

#include <stdio.h>
#include <string.h>

struct byte_unit {
    const char *suffix;
    uint64_t bytes;
};

static const struct byte_unit units[] = {
    {"B", 1},
    {"KiB", UINT64_C(1) << 10},
    {"MiB", UINT64_C(1) << 20},
    {"GiB", UINT64_C(1) << 30},
    {"TiB", UINT64_C(1) << 40},
    {"KB", UINT64_C(1000)},
    {"MB", UINT64_C(1000000)},
    {"GB", UINT64_C(1000000000)},
    {"TB", UINT64_C(1000000000000)},
};

#define BYTE_SIZE_INPUT_MAX 32

int byte_size_parse(const char *text, const char *field, uint64_t *bytes_out,
                    struct agyn_error *err) {
    if (!field)
        field = "";
    if (!text || !text[0] || strlen(text) > BYTE_SIZE_INPUT_MAX)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "%s must be a size such as 512MiB or 20GiB", field);
    uint64_t number = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (number > (UINT64_MAX - digit) / 10)
            return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s is too large", field);
        number = number * 10 + digit;
    }
    if (p == text)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "%s must start with a whole number of bytes (e.g. 512MiB, 20GiB)", field);
    uint64_t multiplier = 1;
    if (*p) {
        const struct byte_unit *unit = NULL;
        for (size_t i = 0; i < sizeof units / sizeof units[0] && !unit; i++)
            if (strcmp(p, units[i].suffix) == 0)
                unit = &units[i];
        if (!unit)
            return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                             "%s has an unknown unit (use B, KiB, MiB, GiB, TiB, KB, MB, GB or "
                             "TB)",
                             field);
        multiplier = unit->bytes;
    }
    if (number > UINT64_MAX / multiplier)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s is too large", field);
    *bytes_out = number * multiplier;
    return 0;
}

void byte_size_format(uint64_t bytes, char out[BYTE_SIZE_TEXT_MAX]) {
    static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    size_t unit = 0;
    while (unit + 1 < sizeof names / sizeof names[0] && bytes >> (10 * (unit + 1)) > 0)
        unit++;
    uint64_t whole = bytes >> (10 * unit);
    uint64_t rest = unit ? bytes & ((UINT64_C(1) << (10 * unit)) - 1) : 0;
    /* tenths, rounded down; rest < 2^60, so rest * 10 fits */
    unsigned tenth = unit ? (unsigned)((rest * 10) >> (10 * unit)) : 0;
    if (tenth)
        snprintf(out, BYTE_SIZE_TEXT_MAX, "%llu.%u %s", (unsigned long long)whole, tenth,
                 names[unit]);
    else
        snprintf(out, BYTE_SIZE_TEXT_MAX, "%llu %s", (unsigned long long)whole, names[unit]);
}
