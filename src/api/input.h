/* input.h — reading request bodies and query strings with field-named errors: unknown fields,
 * wrong types and missing values become 422s that say which field; paging parameters 400s. */
#ifndef AGYN_API_INPUT_H
#define AGYN_API_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "api/request.h"
#include "core/error.h"

/* The request must carry a JSON object body; every key must be in allowed (NULL-terminated). */
int input_require_object(const struct api_request *req, const char *const allowed[],
                         struct agyn_error *err);
/* *out = the string, or NULL when absent or null. A required field must be present and
 * non-empty; an optional one may be absent. Wrong types are errors. */
int input_string(json_t *body, const char *field, bool required, const char **out,
                 struct agyn_error *err);
/* True when the body has the key with a non-null value. */
bool input_has(json_t *body, const char *field);
/* A UUID-valued field (optional or required). */
int input_uuid(json_t *body, const char *field, bool required, const char **out,
               struct agyn_error *err);
/* A query argument that must be a UUID when present. */
int input_query_uuid(const struct api_request *req, const char *name, const char **out,
                     struct agyn_error *err);
/* page_size (1..100, default 50) and page_token (opaque, from next_page_token). */
int input_page(const struct api_request *req, int *limit, int64_t *after_seq,
               struct agyn_error *err);
/* "true"/"false"/"1"/"0" query flag; absent is false. */
int input_query_bool(const struct api_request *req, const char *name, bool *out,
                     struct agyn_error *err);

/* The next_page_token for a list that continues after next_seq ("" when it does not). */
void output_page_token(int64_t next_seq, char token[32]);
/* {"items": rows, "next_page_token": "..."}; steals rows. */
json_t *output_page(json_t *rows, int64_t next_seq);

#endif
