/* run_spec.c — reading what a container runs (command, args, env) from an agent, MCP server or
 * hook body: field-named 422s for wrong types, and bounds on counts and sizes. */
#include "api/run_spec.h"

#include <stdio.h>
#include <string.h>

#include "core/field_rules.h"

#define RUN_ITEMS_MAX 256         /* command or args entries */
#define RUN_ENV_MAX 256           /* env variables */
#define RUN_STRING_MAX 4096       /* one entry, or one env value */
#define RUN_ENV_NAME_MAX 256      /* one env name */
#define RUN_TOTAL_MAX (64 * 1024) /* all of command, args and env together */

static bool env_name_valid(const char *name) {
    if (!(name[0] == '_' || (name[0] >= 'A' && name[0] <= 'Z') ||
          (name[0] >= 'a' && name[0] <= 'z')))
        return false;
    for (const char *c = name; *c; c++)
        if (!(*c == '_' || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
              (*c >= '0' && *c <= '9')))
            return false;
    return true;
}

/* A string value of at most RUN_STRING_MAX bytes without NUL; adds its size to *total. */
static int check_string(const json_t *value, const char *field, size_t *total,
                        struct agyn_error *err) {
    if (!json_is_string(value))
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must be a string", field);
    size_t len = json_string_length(value);
    if (len > RUN_STRING_MAX)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s is longer than %d bytes", field,
                         RUN_STRING_MAX);
    if (strlen(json_string_value(value)) != len)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must not contain NUL characters",
                         field);
    *total += len;
    return 0;
}

static int check_list(const json_t *value, const char *field, size_t *total,
                      struct agyn_error *err) {
    if (!json_is_array(value))
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must be an array of strings", field);
    if (json_array_size(value) > RUN_ITEMS_MAX)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s may have at most %d entries", field,
                         RUN_ITEMS_MAX);
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item) {
        char where[64];
        snprintf(where, sizeof where, "%s[%zu]", field, i);
        if (check_string(item, where, total, err) != 0)
            return -1;
    }
    return 0;
}

static int check_env(const json_t *value, size_t *total, struct agyn_error *err) {
    if (!json_is_object(value))
        return agyn_fail(err, AGYN_UNPROCESSABLE, "env",
                         "env must be an object of names to string values");
    if (json_object_size(value) > RUN_ENV_MAX)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "env", "env may have at most %d variables",
                         RUN_ENV_MAX);
    const char *name;
    json_t *item;
    json_object_foreach((json_t *)value, name, item) {
        if (strlen(name) > RUN_ENV_NAME_MAX || !env_name_valid(name))
            return agyn_fail(err, AGYN_UNPROCESSABLE, "env",
                             "env names are letters, digits and '_', not starting with a digit "
                             "(at most %d characters): \"%.64s\" is not one",
                             RUN_ENV_NAME_MAX, name);
        char where[RUN_ENV_NAME_MAX + 8];
        snprintf(where, sizeof where, "env.%s", name);
        *total += strlen(name);
        if (check_string(item, where, total, err) != 0)
            return -1;
    }
    return 0;
}

int run_spec_read(json_t *body, bool for_update, json_t *out, struct agyn_error *err) {
    static const char *const fields[] = {"command", "args", "env"};
    size_t total = 0;
    for (size_t i = 0; i < 3; i++) {
        json_t *value = json_object_get(body, fields[i]);
        if (!value && for_update)
            continue; /* unchanged */
        if (!value || json_is_null(value)) {
            json_object_set_new(out, fields[i], json_null());
            continue;
        }
        int rc = i == 2 ? check_env(value, &total, err) : check_list(value, fields[i], &total, err);
        if (rc != 0)
            return -1;
        json_object_set(out, fields[i], value);
    }
    if (total > RUN_TOTAL_MAX)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "command",
                         "command, args and env together may hold at most %d bytes", RUN_TOTAL_MAX);
    return 0;
}

void run_spec_read_runnable(json_t *body, bool for_update, json_t *out, struct field_errors *fe) {
    struct agyn_error *e = &fe->scratch;
    const char *image = NULL, *description = NULL;
    if (field_check(fe, input_string(body, "image", !for_update, &image, e)) && image &&
        field_check(fe, validate_image(image, "image", e)))
        json_object_set_new(out, "image", json_string(image));
    if (field_check(fe, input_string(body, "description", false, &description, e)) &&
        field_check(fe, validate_description(description, e)) && (description || !for_update))
        json_object_set_new(out, "description", json_string(description ? description : ""));
    field_check(fe, run_spec_read(body, for_update, out, e));
}
