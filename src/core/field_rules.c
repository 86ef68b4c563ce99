/* field_rules.c — validation rules for resource fields shared by every client of the rules. */
#include "core/field_rules.h"

#include <string.h>

#include "core/image_ref.h"
#include "core/names.h"

int validate_image(const char *image, const char *field, struct agyn_error *err) {
    struct image_ref ref;
    return image_ref_parse(image, field, &ref, err);
}

int validate_description(const char *description, struct agyn_error *err) {
    if (!description)
        return 0;
    return text_validate(description, DESCRIPTION_MAX, "description", err);
}

int validate_hook_event(const char *event, struct agyn_error *err) {
    size_t len = strlen(event);
    if (len == 0 || len > 64)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "event", "event must be 1 to 64 characters");
    if (!(event[0] >= 'a' && event[0] <= 'z'))
        return agyn_fail(err, AGYN_UNPROCESSABLE, "event",
                         "event must start with a lower-case letter");
    for (size_t i = 0; i < len; i++) {
        char c = event[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-' || c == ':'))
            return agyn_fail(err, AGYN_UNPROCESSABLE, "event",
                             "event may contain only a-z, 0-9, '_', '.', '-' and ':'");
    }
    return 0;
}
