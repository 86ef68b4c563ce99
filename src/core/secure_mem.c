/* secure_mem.c — wiping secrets before memory is freed (secure_mem.h). */
#include "core/secure_mem.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

void secure_wipe(void *p, size_t len) {
    if (p && len)
        explicit_bzero(p, len);
}

void secure_free(void *p) {
    if (!p)
        return;
    explicit_bzero(p, malloc_usable_size(p));
    free(p);
}

void secure_json_wipe(json_t *json) {
    if (!json)
        return;
    if (json_is_string(json)) {
        /* jansson keeps the value in a private buffer; overwrite it in place. */
        secure_wipe((char *)json_string_value(json), json_string_length(json));
    } else if (json_is_object(json)) {
        const char *key;
        json_t *value;
        json_object_foreach(json, key, value) {
            secure_json_wipe(value);
        }
    } else if (json_is_array(json)) {
        size_t index;
        json_t *value;
        json_array_foreach(json, index, value) {
            secure_json_wipe(value);
        }
    }
}

void secure_json_free(json_t *json) {
    secure_json_wipe(json);
    json_decref(json);
}
