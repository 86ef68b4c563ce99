/* fuzz_image_ref.c — image references (the `image` of agents, MCP servers, hooks, workloads):
 * parse, then the canonical form must parse again to the same reference. */
#include <stdio.h>

#include "core/image_ref.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    char *text = fuzz_text(data, len);
    struct image_ref ref;
    struct agyn_error err = {0};
    if (image_ref_parse(text, "image", &ref, &err) == 0) {
        char canonical[1024];
        image_ref_format(&ref, canonical, sizeof canonical);
        (void)image_ref_api_host(&ref);
        struct image_ref again;
        struct agyn_error err2 = {0};
        if (strlen(canonical) <= IMAGE_REF_MAX &&
            image_ref_parse(canonical, "image", &again, &err2) == 0) {
            char twice[1024];
            image_ref_format(&again, twice, sizeof twice);
            if (strcmp(canonical, twice) != 0)
                abort(); /* the canonical form is a fixed point */
        }
    }
    free(text);
    return 0;
}
