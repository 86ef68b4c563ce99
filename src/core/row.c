/* row.c — typed column reads (row.h). */
#include "core/row.h"

const char *row_text(const json_t *row, const char *column) {
    return json_string_value(json_object_get(row, column));
}

const char *row_text_or_empty(const json_t *row, const char *column) {
    const char *value = row_text(row, column);
    return value ? value : "";
}

json_int_t row_int(const json_t *row, const char *column) {
    return json_integer_value(json_object_get(row, column));
}
