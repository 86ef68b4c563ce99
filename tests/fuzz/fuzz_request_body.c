/* fuzz_request_body.c — JSON request bodies as the API reads them: parsed with the server's
 * flags, then taken through the field-level input validation every handler uses (unknown
 * fields, strings, UUIDs, names, descriptions, images, registry patterns, hook events). */
#include "api/input.h"
#include "core/field_rules.h"
#include "core/names.h"
#include "core/registry_pattern.h"
#include "fuzz_input.h"

/* The fuzzer has no HTTP connection: no query arguments, no headers. */
const char *request_query(const struct api_request *req, const char *name) {
    return NULL;
}
const char *request_header(const struct api_request *req, const char *name) {
    return NULL;
}

static const char *const allowed[] = {"name",        "description", "registry", "username",
                                      "password",    "image",       "event",    "provider_id",
                                      "remote_path", "secret_id",   NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    json_t *body =
        json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        return 0;
    }
    struct api_request req = {.body = body};
    struct agyn_error err = {0};
    (void)input_require_object(&req, allowed, &err);
    const char *text = NULL;
    if (input_string(body, "name", false, &text, &err) == 0 && text)
        (void)name_validate(text, "name", &err);
    if (input_string(body, "description", false, &text, &err) == 0)
        (void)validate_description(text, &err);
    if (input_string(body, "image", false, &text, &err) == 0 && text)
        (void)validate_image(text, "image", &err);
    if (input_string(body, "event", false, &text, &err) == 0 && text)
        (void)validate_hook_event(text, &err);
    if (input_string(body, "registry", false, &text, &err) == 0 && text) {
        struct registry_pattern pattern;
        (void)registry_pattern_parse(text, "registry", &pattern, &err);
    }
    if (input_string(body, "username", false, &text, &err) == 0 && text)
        (void)text_validate(text, 256, "username", &err);
    (void)input_string(body, "password", false, &text, &err);
    (void)input_uuid(body, "provider_id", false, &text, &err);
    (void)input_uuid(body, "secret_id", false, &text, &err);
    (void)input_has(body, "remote_path");
    json_decref(body);
    return 0;
}
