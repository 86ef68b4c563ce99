/* row.h — typed reads of one column of a row (a JSON object as the store, the API and its
 * clients pass rows around), in place of json_string_value(json_object_get(row, "col")). */
#ifndef AGYN_CORE_ROW_H
#define AGYN_CORE_ROW_H

#include <jansson.h>

/* The string in column; NULL when the row is NULL, the column absent, null or not a string. */
const char *row_text(const json_t *row, const char *column);
/* row_text, or "" where that is NULL. */
const char *row_text_or_empty(const json_t *row, const char *column);
/* The integer in column; 0 when absent, null or not an integer. */
json_int_t row_int(const json_t *row, const char *column);

#endif
