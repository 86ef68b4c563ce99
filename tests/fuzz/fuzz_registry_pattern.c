/* fuzz_registry_pattern.c — the `registry` field of image pull secrets: parse, format, and match
 * against an image reference taken from the rest of the input (split at the first newline). */
#include "core/registry_pattern.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    char *text = fuzz_text(data, len);
    char *image_text = strchr(text, '\n');
    if (image_text)
        *image_text++ = '\0';
    struct registry_pattern pattern;
    struct agyn_error err = {0};
    if (registry_pattern_parse(text, "registry", &pattern, &err) == 0) {
        char normalized[600];
        registry_pattern_format(&pattern, normalized, sizeof normalized);
        struct registry_pattern again;
        if (registry_pattern_parse(normalized, "registry", &again, &err) == 0)
            (void)registry_pattern_compare_specificity(&pattern, &again);
        struct image_ref image;
        if (image_text && image_ref_parse(image_text, "image", &image, &err) == 0)
            (void)registry_pattern_matches(&pattern, &image);
    }
    free(text);
    return 0;
}
