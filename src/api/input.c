/* input.c — field-level validation of request bodies and query arguments. */
#include "api/input.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/names.h"

static bool known_field(const char *const allowed[], const char *key) {
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(allowed[i], key) == 0)
            return true;
    return false;
}

/* The 422 for a field the body may not have (its name cut to 64 bytes); returns -1. */
static int unknown_field(struct agyn_error *err, const char *key) {
    char field[80];
    snprintf(field, sizeof field, "%.64s", key);
    return agyn_fail(err, AGYN_UNPROCESSABLE, field, "unknown field \"%s\"", field);
}

int input_require_object(const struct api_request *req, const char *const allowed[],
                         struct agyn_error *err) {
    if (!req->body)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, NULL, "a JSON object body is required");
    const char *key;
    json_t *value;
    json_object_foreach(req->body, key, value) {
        if (!known_field(allowed, key))
            return unknown_field(err, key);
    }
    return 0;
}

bool field_failed(const struct field_errors *fe, const char *field) {
    size_t i;
    json_t *entry;
    json_array_foreach(fe->list, i, entry) {
        if (strcmp(json_string_value(json_object_get(entry, "field")), field) == 0)
            return true;
    }
    return false;
}

bool field_check(struct field_errors *fe, int rc) {
    if (rc == 0)
        return true;
    if (fe->first.code == AGYN_OK)
        fe->first = fe->scratch;
    if (fe->scratch.code == AGYN_UNPROCESSABLE && fe->scratch.field[0] &&
        !field_failed(fe, fe->scratch.field)) {
        if (!fe->list)
            fe->list = json_array();
        /* Fields and messages may quote request bytes: error_response in server.c makes the
         * top-level one valid UTF-8; here a string jansson refuses is left out. */
        json_t *field = json_string(fe->scratch.field);
        json_t *message = json_string(fe->scratch.message);
        if (field && message)
            json_array_append_new(fe->list,
                                  json_pack("{s:o, s:o}", "field", field, "message", message));
        else {
            json_decref(field);
            json_decref(message);
        }
    }
    agyn_error_clear(&fe->scratch);
    return false;
}

int input_object_fields(const struct api_request *req, const char *const allowed[],
                        struct field_errors *fe, struct agyn_error *err) {
    if (!req->body)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, NULL, "a JSON object body is required");
    const char *key;
    json_t *value;
    json_object_foreach(req->body, key, value) {
        if (!known_field(allowed, key))
            field_check(fe, unknown_field(&fe->scratch, key));
    }
    return 0;
}

int field_errors_finish(struct api_request *req, struct field_errors *fe, struct agyn_error *err) {
    if (fe->first.code == AGYN_OK) {
        json_decref(fe->list);
        fe->list = NULL;
        return 0;
    }
    *err = fe->first;
    json_decref(req->field_errors);
    req->field_errors = NULL;
    if (fe->first.code == AGYN_UNPROCESSABLE && json_array_size(fe->list) > 0)
        req->field_errors = fe->list;
    else
        json_decref(fe->list);
    fe->list = NULL;
    return -1;
}

bool input_has(json_t *body, const char *field) {
    json_t *value = body ? json_object_get(body, field) : NULL;
    return value && !json_is_null(value);
}

int input_string(json_t *body, const char *field, bool required, const char **out,
                 struct agyn_error *err) {
    json_t *value = body ? json_object_get(body, field) : NULL;
    *out = NULL;
    if (!value || json_is_null(value)) {
        if (required)
            return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s is required", field);
        return 0;
    }
    if (!json_is_string(value))
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must be a string", field);
    if (strlen(json_string_value(value)) != json_string_length(value))
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must not contain NUL bytes", field);
    if (required && json_string_length(value) == 0)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must not be empty", field);
    *out = json_string_value(value);
    return 0;
}

int input_uuid(json_t *body, const char *field, bool required, const char **out,
               struct agyn_error *err) {
    if (input_string(body, field, required, out, err) != 0)
        return -1;
    if (*out && !uuid_is_valid(*out))
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must be a UUID", field);
    return 0;
}

int input_query_uuid(const struct api_request *req, const char *name, const char **out,
                     struct agyn_error *err) {
    *out = request_query(req, name);
    if (*out && !uuid_is_valid(*out))
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, name, "%s must be a UUID", name);
    return 0;
}

static int parse_positive(const char *text, long long max, long long *out) {
    if (!text || !*text || strlen(text) > 19)
        return -1;
    for (const char *p = text; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    errno = 0;
    long long value = strtoll(text, NULL, 10);
    if (errno || value <= 0 || value > max)
        return -1;
    *out = value;
    return 0;
}

int input_page(const struct api_request *req, int *limit, int64_t *after_seq,
               struct agyn_error *err) {
    const char *size = request_query(req, "page_size");
    const char *token = request_query(req, "page_token");
    long long value = 50;
    if (size && parse_positive(size, 100, &value) != 0)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "page_size",
                         "page_size must be an integer from 1 to 100");
    *limit = (int)value;
    *after_seq = 0;
    if (token && *token) {
        long long seq;
        if (token[0] != 'p' || parse_positive(token + 1, INT64_MAX, &seq) != 0)
            return agyn_fail(err, AGYN_INVALID_ARGUMENT, "page_token",
                             "page_token is not one this server issued");
        *after_seq = seq;
    }
    return 0;
}

int input_query_bool(const struct api_request *req, const char *name, bool *out,
                     struct agyn_error *err) {
    const char *value = request_query(req, name);
    *out = false;
    if (!value)
        return 0;
    if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
        *out = true;
    else if (strcmp(value, "false") != 0 && strcmp(value, "0") != 0)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, name, "%s must be true or false", name);
    return 0;
}

void output_page_token(int64_t next_seq, char token[32]) {
    token[0] = '\0';
    if (next_seq > 0)
        snprintf(token, 32, "p%" PRId64, next_seq);
}

json_t *output_page(json_t *rows, int64_t next_seq) {
    char token[32];
    output_page_token(next_seq, token);
    return json_pack("{s:o, s:s}", "items", rows, "next_page_token", token);
}
