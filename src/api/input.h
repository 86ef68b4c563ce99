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

/* Collecting every field error of a request body instead of stopping at the first: each check
 * fails into .scratch and field_check notes it; field_errors_finish answers with the first as
 * the error (as before) and all of them in error.errors. One error per field: a later check of
 * a field that already failed is not noted (image "" is not also "not a valid reference"). */
struct field_errors {
    struct agyn_error scratch; /* pass &fe.scratch as err to each check */
    struct agyn_error first;
    json_t *list; /* [{field, message}] of the 422s, in order */
};
/* Notes a failed check (rc != 0); returns true when the check passed. */
bool field_check(struct field_errors *fe, int rc);
/* True when field already has an error (later checks of it are pointless). */
bool field_failed(const struct field_errors *fe, const char *field);
/* input_require_object, noting every unknown field instead of the first; -1 only when there
 * is no JSON object body (a 400, answered at once). */
int input_object_fields(const struct api_request *req, const char *const allowed[],
                        struct field_errors *fe, struct agyn_error *err);
/* 0 when nothing failed; else copies the first error to err, hands the list to req (for the
 * response's error.errors) and returns -1. Frees what fe holds either way. */
int field_errors_finish(struct api_request *req, struct field_errors *fe, struct agyn_error *err);

/* The next_page_token for a list that continues after next_seq ("" when it does not). */
void output_page_token(int64_t next_seq, char token[32]);
/* {"items": rows, "next_page_token": "..."}; steals rows. */
json_t *output_page(json_t *rows, int64_t next_seq);

#endif
