/* fuzz_docker_config.c — Docker config.json / .dockerconfigjson uploads (image pull secret
 * import): every entry either parses or carries an error; secrets are wiped on free. */
#include "core/docker_config.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    struct docker_config_entry *entries = NULL;
    size_t count = 0;
    struct agyn_error err = {0};
    if (docker_config_parse((const char *)data, len, &entries, &count, &err) == 0) {
        for (size_t i = 0; i < count; i++)
            if (entries[i].error.code == AGYN_OK && (!entries[i].username || !entries[i].password))
                abort();
        docker_config_entries_free(entries, count);
    }
    return 0;
}
